/* iprev - RFC 8601 §3 "iprev": PTR of the client address, forward-confirmed.
 *
 * iprev_start begins the PTR lookup at connect; the A/AAAA lookups of each name
 * (at most IPREV_MAX_NAMES) follow as soon as it answers, without waiting for
 * the caller; iprev_finish collects the verdict.
 */
#ifndef AUTHMILTER_IPREV_H
#define AUTHMILTER_IPREV_H

#include <sys/socket.h>

#include "dns.h"
#include "result.h"

#define IPREV_MAX_NAMES	10	/* PTR names we try to confirm (RFC 8601 §3) */

struct iprev_verdict {
	enum auth_result result;	/* PASS, FAIL, TEMPERROR */
	char	 name[256];		/* the confirmed name, or the first PTR name */
	char	 addr[64];		/* the client address as text */
	const char *reason;		/* static text: "no PTR record", ... */
};

struct iprev_check;

/* iprev_start - begin the check for an AF_INET or AF_INET6 address */
struct iprev_check *iprev_start(struct dns_resolver *r, const struct sockaddr *sa);
/* iprev_finish - wait for and return the verdict (may be called more than once) */
const struct iprev_verdict *iprev_finish(struct iprev_check *c);
void	 iprev_free(struct iprev_check *c);

struct buf;
/* iprev_reverse_name - append the in-addr.arpa (AF_INET, 4 bytes of addr) or
 * ip6.arpa (AF_INET6, 16 bytes) name of an address to b */
void	 iprev_reverse_name(int family, const unsigned char *addr, struct buf *b);

#endif
