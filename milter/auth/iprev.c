/* iprev - RFC 8601 §3 "iprev": PTR of the client address, forward-confirmed.
 *
 * iprev_start: begin the check in a background thread (PTR, then the A or AAAA
 * lookups of every PTR name in parallel); iprev_finish: join it and return the
 * verdict (the same one on every call); iprev_free: join if needed, release.
 * iprev_reverse_name: the PTR owner name of an address.
 * The verdict belongs to the check and dies with iprev_free.
 *
 * Verdicts (RFC 8601 §3, RFC 5451 §3):
 *   pass      a forward lookup of a PTR name returned the client address;
 *   fail      no PTR record (NXDOMAIN/NODATA), or no name confirms the address;
 *   temperror the PTR lookup failed temporarily, or no name confirmed and at
 *             least one forward lookup failed temporarily.
 * A v4-mapped IPv6 address (::ffff:a.b.c.d) is checked as the IPv4 address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "iprev.h"
#include "trace.h"
#include "job.h"
#include "result.h"
#include "xalloc.h"

/* Per connection: made at connect, freed at close. */
struct iprev_check {
	struct dns_resolver *r;
	int family; /* AF_INET or AF_INET6 after unmapping */
	unsigned char addr[16];
	struct job *job; /* the check running ahead, until collected */
	bool decided; /* v is final */
	struct iprev_verdict v;
};

/* iprev_reverse_name - the in-addr.arpa or ip6.arpa name of an address */
void
iprev_reverse_name(int family, const unsigned char *addr, struct buf *b)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (family == AF_INET) {
		buf_printf(b, "%u.%u.%u.%u.in-addr.arpa", addr[3], addr[2], addr[1],
			   addr[0]);
		return;
	}
	for (i = 15; i >= 0; i--) {
		buf_putc(b, hex[addr[i] & 0x0f]);
		buf_putc(b, '.');
		buf_putc(b, hex[addr[i] >> 4]);
		buf_putc(b, '.');
	}
	buf_puts(b, "ip6.arpa");
}

/* iprev_set - record the verdict */
static void
iprev_set(struct iprev_check *c, enum auth_result res, const char *name,
	  const char *reason)
{
	c->v.result = res;
	c->v.reason = reason;
	if (name != NULL &&
	    snprintf(c->v.name, sizeof(c->v.name), "%s", name) >= (int)sizeof(c->v.name))
		c->v.name[0] = '\0'; /* cannot happen: DNS names are shorter */
}

/* iprev_confirms - does a forward answer hold the client address? */
static bool
iprev_confirms(const struct iprev_check *c, const struct dns_answer *a)
{
	size_t i, len = c->family == AF_INET ? 4 : 16;

	if (a->status != DNS_OK)
		return false;
	for (i = 0; i < a->count; i++)
		if (a->rr[i].family == c->family &&
		    memcmp(a->rr[i].addr, c->addr, len) == 0)
			return true;
	return false;
}

/* iprev_run - the whole check; sets c->v */
static void
iprev_run(struct iprev_check *c)
{
	struct dns_query *fwd[IPREV_MAX_NAMES];
	const char *fwd_name[IPREV_MAX_NAMES];
	const struct dns_answer *ptr;
	struct dns_query *pq;
	struct buf rev = BUF_INIT;
	size_t i, n = 0;
	bool temp = false, pass = false;
	int type = c->family == AF_INET ? DNS_T_A : DNS_T_AAAA;

	iprev_reverse_name(c->family, c->addr, &rev);
	pq = dns_query_start(c->r, buf_cstr(&rev), DNS_T_PTR);
	buf_free(&rev);
	ptr = dns_query_wait(pq);
	switch (ptr->status) {
	case DNS_TEMPFAIL:
		iprev_set(c, AUTH_TEMPERROR, NULL, "PTR lookup failed temporarily");
		dns_query_free(pq);
		return;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		iprev_set(c, AUTH_FAIL, NULL, "no PTR record");
		dns_query_free(pq);
		return;
	case DNS_OK:
		break;
	}
	/* every forward lookup at once: the slowest, not the sum, bounds us */
	for (i = 0; i < ptr->count && n < IPREV_MAX_NAMES; i++) {
		if (ptr->rr[i].name == NULL || ptr->rr[i].name[0] == '\0')
			continue;
		if (n == 0)
			iprev_set(c, AUTH_FAIL, ptr->rr[i].name, NULL);
		fwd_name[n] = ptr->rr[i].name;
		fwd[n++] = dns_query_start(c->r, ptr->rr[i].name, type);
	}
	for (i = 0; i < n && !pass; i++) {
		const struct dns_answer *a = dns_query_wait(fwd[i]);

		if (iprev_confirms(c, a)) {
			iprev_set(c, AUTH_PASS, fwd_name[i], "forward-confirmed");
			pass = true;
		} else if (a->status == DNS_TEMPFAIL) {
			temp = true;
		}
	}
	if (!pass) {
		if (temp)
			iprev_set(c, AUTH_TEMPERROR, NULL,
				  "forward lookup failed temporarily");
		else
			iprev_set(c, AUTH_FAIL, NULL,
				  n == 0 ? "no usable PTR name"
					 : "no PTR name resolves to the address");
	}
	for (i = 0; i < n; i++)
		dns_query_free(fwd[i]);
	dns_query_free(pq);
}

/* iprev_job - iprev_run as a job */
static void
iprev_job(void *arg)
{
	struct iprev_check *c = arg;

	iprev_run(c);
	TRACE("iprev", "%s: %s (%s)%s%s", c->v.addr, auth_result_name(c->v.result),
	    c->v.reason != NULL ? c->v.reason : "", c->v.name[0] ? " name=" : "", c->v.name);
}

/* iprev_start - begin the check for an AF_INET or AF_INET6 address */
struct iprev_check *
iprev_start(struct dns_resolver *r, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	struct iprev_check *c = xcalloc(1, sizeof(*c));

	c->r = r;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		c->family = AF_INET;
		memcpy(c->addr, &sin->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (memcmp(sin6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
			c->family = AF_INET;
			memcpy(c->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			c->family = AF_INET6;
			memcpy(c->addr, sin6->sin6_addr.s6_addr, 16);
		}
	} else {
		iprev_set(c, AUTH_NONE, NULL, "not an IP client");
		c->decided = true;
		return c;
	}
	if (inet_ntop(c->family, c->addr, c->v.addr, sizeof(c->v.addr)) == NULL)
		c->v.addr[0] = '\0'; /* cannot happen: 64 bytes hold any */
	c->job = job_start(iprev_job, c);
	return c;
}

/* iprev_finish - wait for and return the verdict (may be called more than once) */
const struct iprev_verdict *
iprev_finish(struct iprev_check *c)
{
	if (c->job != NULL) {
		job_wait(c->job);
		c->job = NULL;
		c->decided = true;
	}
	if (!c->decided) {
		iprev_run(c);
		c->decided = true;
	}
	return &c->v;
}

/* iprev_free - join a running check, release; NULL is fine */
void
iprev_free(struct iprev_check *c)
{
	if (c == NULL)
		return;
	job_wait(c->job);	/* the job uses c: let it finish */
	free(c);
}
