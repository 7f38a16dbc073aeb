/* cidr - address ranges ("192.0.2.0/24", "2001:db8::/32", "10.1.2.3").
 *
 * cidr_parse reads one range; cidr_list_match tests an address against a list.
 */
#ifndef AUTHMILTER_CIDR_H
#define AUTHMILTER_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network bytes, host bits cleared */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

struct cidr_list {
	struct cidr	*v;
	size_t		 n;
};

/* cidr_parse - true when text is a valid range; fills *out */
bool	 cidr_parse(const char *text, struct cidr *out);
/* cidr_list_match - true when sa (AF_INET/AF_INET6; v4-mapped v6 too) is inside */
bool	 cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);

#endif
