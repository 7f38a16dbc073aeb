/* dns_cache - answers kept in front of libunbound, for the warm path.
 *
 * libunbound caches too, but reaching its cache from an async query costs a round
 * trip through its worker thread and our dispatcher (four context switches per
 * lookup, several lookups per message). This small cache answers a repeated
 * question in the asking thread. Entries live for the record's TTL, capped at
 * DNS_CACHE_MAX_TTL; temporary failures and large answers are never kept.
 */
#ifndef AUTHMILTER_DNS_CACHE_H
#define AUTHMILTER_DNS_CACHE_H

#include <stdbool.h>

#include "dns_answer.h"

#define DNS_CACHE_SLOTS		4096	/* direct-mapped: a collision replaces */
#define DNS_CACHE_MAX_TTL	300	/* seconds, whatever the record says */
#define DNS_CACHE_MAX_BYTES	4096	/* bigger answers go to libunbound each time */

struct dns_cache;

struct dns_cache *dns_cache_new(void);
void	 dns_cache_free(struct dns_cache *c);
/* dns_cache_get - a deep copy of a live answer into out (cleared by the caller
 * as any answer); false when there is none */
bool	 dns_cache_get(struct dns_cache *c, const char *name, int rrtype,
	    struct dns_answer *out);
/* dns_cache_put - keep a copy of a for ttl seconds (ignored unless ttl > 0 and
 * the answer is records, NXDOMAIN or no data) */
void	 dns_cache_put(struct dns_cache *c, const char *name, int rrtype,
	    const struct dns_answer *a, int ttl);

#endif
