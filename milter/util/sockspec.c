/* sockspec - parse the milter socket spec (see sockspec.h); the caller owns the
 * strings in the result until sockspec_clear. sockspec_listen_addr parses the
 * numeric "ADDR:PORT" of metrics.listen. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockspec.h"
#include "xalloc.h"

/* sockspec_parse - one of unix:/path, local:/path, inet:PORT[@HOST], inet6:... */
bool
sockspec_parse(const char *spec, struct sockspec *out)
{
	const char *rest, *host;
	char *end;
	long port;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		rest = strchr(spec, ':') + 1;
		if (rest[0] != '/' || rest[1] == '\0')
			return false;
		out->kind = SOCKSPEC_UNIX;
		out->path = xstrdup(rest);
		return true;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		out->kind = SOCKSPEC_INET;
		rest = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		out->kind = SOCKSPEC_INET6;
		rest = spec + 6;
	} else
		return false;
	if (!isdigit((unsigned char)rest[0]))
		return false;
	port = strtol(rest, &end, 10);
	if (port < 1 || port > 65535)
		return false;
	out->port = (unsigned)port;
	if (*end == '\0')
		return true;
	if (*end != '@' || end[1] == '\0')
		return false;
	host = end + 1;
	len = strlen(host);
	if (strcspn(host, " \t") != len)
		return false;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		out->host = xstrndup(host + 1, len - 2);
	else
		out->host = xstrdup(host);
	return true;
}

/* sockspec_family - the address family of the socket */
int
sockspec_family(const struct sockspec *s)
{
	return s->kind == SOCKSPEC_UNIX ? AF_UNIX : s->kind == SOCKSPEC_INET ? AF_INET :
	    AF_INET6;
}

/* sockspec_clear - free the strings; NULL is fine */
void
sockspec_clear(struct sockspec *s)
{
	if (s == NULL)
		return;
	free(s->path);
	free(s->host);
	memset(s, 0, sizeof(*s));
}

/* sockspec_listen_addr - parse a numeric listen address with its port ("ADDR:PORT", "[ADDR6]:PORT") */
bool
sockspec_listen_addr(const char *listen, struct sockaddr_storage *sa, socklen_t *salen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(listen, ':'), *h = listen;
	size_t hl;
	char *end;
	long port;

	if (colon == NULL || colon[1] == '\0')
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return false;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (h == listen && inet_pton(AF_INET, host,
	    &((struct sockaddr_in *)(void *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)(void *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)(void *)sa)->sin_port = htons((uint16_t)port);
		*salen = sizeof(struct sockaddr_in);
		return true;
	}
	if (h != listen && inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)(void *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)(void *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons((uint16_t)port);
		*salen = sizeof(struct sockaddr_in6);
		return true;
	}
	return false;
}
