/* cidr - address ranges for internal_hosts.
 *
 * cidr_parse reads "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6); cidr_list_match tests a
 * client address, treating an IPv4-mapped IPv6 address as the IPv4 address it maps.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

/* cidr_mask - clear the bits after prefix */
static void
cidr_mask(unsigned char *addr, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix >= 8 ? 8 : prefix;

		addr[i] &= (unsigned char)(0xff00u >> bits);
		prefix -= bits;
	}
}

/* cidr_parse - one range; false for anything that is not exactly ADDR[/N] */
bool
cidr_parse(const char *text, struct cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix;
	size_t alen;

	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		alen = 4;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		alen = 16;
	} else {
		return false;
	}
	prefix = alen * 8;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return false;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > alen * 8 || end - (slash + 1) > 3)
			return false;
	}
	out->prefix = (unsigned)prefix;
	cidr_mask(out->addr, alen, out->prefix);
	return true;
}

/* cidr_match_one - address bytes of family against one range */
static bool
cidr_match_one(const struct cidr *c, int family, const unsigned char *addr)
{
	unsigned char masked[16];
	size_t alen = family == AF_INET ? 4 : 16;

	if (c->family != family)
		return false;
	memcpy(masked, addr, alen);
	cidr_mask(masked, alen, c->prefix);
	return memcmp(masked, c->addr, alen) == 0;
}

/* cidr_list_match - is the socket address inside any range of the list */
bool
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *addr;
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (cidr_match_one(&l->v[i], family, addr))
			return true;
	return false;
}
