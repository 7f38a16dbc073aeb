/* spf_dns - the libspf2 DNS layer: libspf2's lookups answered by dns.c, with the
 * RFC 7208 §4.6.4 limits libspf2 lacks and a screen for hostile SPF records.
 *
 * One layer serves one check (one thread); spf_dns_begin resets its counters
 * before each evaluation. When a limit is broken or a record is refused the layer
 * answers every later lookup with a temporary failure so libspf2 stops, and
 * spf_dns_refused tells the caller the evaluation must end as permerror.
 */
#ifndef AUTHMILTER_SPF_DNS_H
#define AUTHMILTER_SPF_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>

#include "dns.h"

/* RFC 7208 §4.6.4 */
#define SPF_DNS_MAX_TERMS	10	/* DNS-querying terms per evaluation */
#define SPF_DNS_MAX_VOID	2	/* NXDOMAIN/no-data answers per evaluation */
#define SPF_DNS_MAX_MX		10	/* MX names one "mx" may look up; more: permerror */
#define SPF_DNS_MAX_PTR		10	/* PTR names one "ptr" looks at; the rest ignored */

#define SPF_DNS_MAX_NAME	253	/* a name we look up, after §7.3 truncation */

/* spf_dns_new - a layer for one check; SPF_dns_free frees it (SPF_server_free
 * does not: a layer given to SPF_server_new_dns stays the caller's) */
SPF_dns_server_t *spf_dns_new(struct dns_resolver *r);
/* spf_dns_begin - reset the per-evaluation counters and the refusal; the
 * evaluation must end within 2 x dns.timeout from here (then temperror) */
void	 spf_dns_begin(SPF_dns_server_t *layer);
/* spf_dns_refused - true when the last evaluation broke a limit or met a refused
 * record; *why (may be NULL) gets a short comment-safe text */
bool	 spf_dns_refused(const SPF_dns_server_t *layer, const char **why);
/* spf_dns_tempfail - true when a lookup of the last evaluation failed temporarily */
bool	 spf_dns_tempfail(const SPF_dns_server_t *layer);
/* spf_dns_counts - the last evaluation's DNS-querying terms and void lookups
 * (one past a limit when the evaluation stopped there) */
void	 spf_dns_counts(const SPF_dns_server_t *layer, unsigned *terms,
	    unsigned *voids);

/* spf_dns_explanation - after an evaluation, the current domain and the exp=
 * domain-spec (as written) of the record whose explanation libspf2 chose: marker
 * is SPF_response_get_explanation's text. False when there is none. Both stay
 * the layer's until the next spf_dns_begin. */
bool	 spf_dns_explanation(const SPF_dns_server_t *layer, const char *marker,
	    const char **domain, const char **spec);

/* spf_dns_truncate_name - the §7.3 rule: drop left labels until the name fits
 * SPF_DNS_MAX_NAME; returns a pointer into name */
const char *spf_dns_truncate_name(const char *name);

#endif
