/* dns - the one resolver: libunbound, shared by all threads, caching.
 *
 * A lookup is started (dns_query_start) as soon as its name is known and collected
 * later (dns_query_wait), so lookups of one message run in parallel. Every answer is
 * one of: records, NXDOMAIN, no data, or a temporary failure; a lookup never takes
 * longer than the configured timeout.
 */
#ifndef AUTHMILTER_DNS_H
#define AUTHMILTER_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns_answer.h"
#include "dns_name.h"	/* dns_name_ok, the rule every query name meets */

struct dns_options {
	char	**nameservers;		/* "ADDR" or "ADDR@PORT"; none: /etc/resolv.conf */
	size_t	  n_nameservers;
	unsigned  timeout_ms;		/* for one lookup */
	const char *trust_anchor;	/* NULL or "": no DNSSEC validation */
};

struct dns_resolver;
struct dns_query;

/* dns_resolver_new - a shared resolver; NULL with a message in err on failure */
struct dns_resolver *dns_resolver_new(const struct dns_options *opts, char *err,
	    size_t errlen);
/* dns_resolver_free - all queries must have been freed first */
void	 dns_resolver_free(struct dns_resolver *r);


/* dns_query_start - begin a lookup; never NULL (a failure to start is an answer
 * with DNS_TEMPFAIL). name may carry a final dot or not; a name that
 * dns_name_ok(name, 0) refuses is answered NXDOMAIN without asking. */
struct dns_query *dns_query_start(struct dns_resolver *r, const char *name, int rrtype);
/* dns_query_start_flags - the same with dns_name_ok's flags */
struct dns_query *dns_query_start_flags(struct dns_resolver *r, const char *name,
	    int rrtype, unsigned flags);
/* dns_query_wait - block until the answer or the deadline; the answer belongs to q */
const struct dns_answer *dns_query_wait(struct dns_query *q);
/* dns_deadline - a CLOCK_MONOTONIC time n_timeouts lookup timeouts from now, for
 * a task of several lookups in a row that must end in bounded time */
struct timespec dns_deadline(const struct dns_resolver *r, unsigned n_timeouts);
/* dns_deadline_passed - is it past the deadline now */
bool	 dns_deadline_passed(const struct timespec *deadline);
/* dns_query_wait_until - dns_query_wait, ending as a timeout at deadline if that
 * comes before the lookup's own timeout */
const struct dns_answer *dns_query_wait_until(struct dns_query *q,
	    const struct timespec *deadline);
/* dns_query_done - true when wait would not block */
bool	 dns_query_done(struct dns_query *q);
/* dns_query_free - cancel if still running, release; NULL is fine */
void	 dns_query_free(struct dns_query *q);

#endif
