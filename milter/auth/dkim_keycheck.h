/* dkim_keycheck - does SELECTOR._domainkey.DOMAIN publish a private key's public
 * half? The one check behind authmilter-keygen --check and authmilter-check.
 */
#ifndef AUTHMILTER_DKIM_KEYCHECK_H
#define AUTHMILTER_DKIM_KEYCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "dkim_key.h"
#include "dns.h"

#define DKIM_KEYCHECK_TXT_STRING 255	/* bytes in one DNS character-string */

enum dkim_keycheck_status {
	DKIM_KEYCHECK_MATCH = 0,	/* a key record carries the key */
	DKIM_KEYCHECK_MISMATCH,		/* TXT records, none with this key */
	DKIM_KEYCHECK_MISSING,		/* NXDOMAIN or no TXT record */
	DKIM_KEYCHECK_TEMPFAIL		/* the lookup failed; nothing is known */
};

/* One check's findings; dkim_keycheck_clear frees what it holds. */
struct dkim_keycheck {
	enum dkim_keycheck_status status;
	struct buf name;	/* SELECTOR._domainkey.DOMAIN */
	struct buf why;		/* MISSING/TEMPFAIL: the DNS status or failure */
	struct buf notes;	/* one line per record that is not a usable key
				 * record: "TXT record N: ..." */
	size_t	 n_records;	/* TXT records at the name */
	/* MATCH: the matching record */
	bool	 testing;	/* t=y */
	int	 bits;		/* RSA modulus size */
	size_t	 record_len;	/* bytes of the record, its strings joined */
	/* the record the key needs, in zone-file syntax (strings cut at 255) */
	struct buf expected;
	char	*expected_p;	/* its p= value */
};

/* dkim_keycheck_run - look the record up through r and compare; fills out (which
 * the caller clears) and returns out->status */
enum dkim_keycheck_status dkim_keycheck_run(struct dns_resolver *r, const char *domain,
	    const char *selector, const struct dkim_key *key, struct dkim_keycheck *out);
void	 dkim_keycheck_clear(struct dkim_keycheck *kc);

/* dkim_keycheck_zone_record - the zone-file TXT record for a key, its text cut
 * into quoted strings of at most 255 bytes, appended to out (no newline) */
void	 dkim_keycheck_zone_record(const char *selector, const char *domain,
	    enum dkim_alg alg, const char *p, struct buf *out);

#endif
