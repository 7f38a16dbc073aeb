/* sockspec - parse the milter socket spec (see sockspec.h); the caller owns the
 * strings in the result until sockspec_clear. */
#include "config.h"

#include <ctype.h>
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
