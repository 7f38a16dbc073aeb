/* dkim_keycache - parsed DKIM key records shared between messages.
 *
 * Decoding a public key (OpenSSL's DER decoder) costs more than the signature check
 * it serves, and most mail comes from a few signers. The cache is keyed by the whole
 * TXT record text, so a changed record is simply a new entry: freshness stays with
 * the resolver's TTLs. Bounded: DKIM_KEYCACHE_SLOTS entries, records up to
 * DKIM_KEYCACHE_MAX_TXT bytes. Thread-safe.
 */
#ifndef AUTHMILTER_DKIM_KEYCACHE_H
#define AUTHMILTER_DKIM_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim_keyrec.h"

#define DKIM_KEYCACHE_SLOTS	1024	/* direct-mapped: a collision replaces */
#define DKIM_KEYCACHE_MAX_TXT	2048	/* longer records are parsed, not kept */

/* dkim_keycache_parse - as dkim_keyrec_parse, from the cache when the same record
 * was parsed before; the caller clears k as usual */
bool	 dkim_keycache_parse(const char *txt, size_t len, struct dkim_keyrec *k,
	    char *err, size_t errlen);
/* dkim_keycache_flush - drop every entry (at exit, and for tests) */
void	 dkim_keycache_flush(void);
/* dkim_keycache_hits - lookups answered from the cache so far (for tests) */
unsigned long dkim_keycache_hits(void);

#endif
