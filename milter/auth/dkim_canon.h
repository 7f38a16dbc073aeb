/* dkim_canon - RFC 6376 §3.4 canonicalization: headers, and the streamed body hash.
 *
 * dkim_canon_header appends one canonicalized header field. A dkim_body_set holds
 * one streaming SHA-256 body hash per distinct (canonicalization, l=) pair, so a
 * message with several signatures or keys is hashed once per pair; memory does not
 * grow with the body. dkim_sha256 and dkim_sha256_digest are the SHA-256 every
 * DKIM digest uses.
 */
#ifndef AUTHMILTER_DKIM_CANON_H
#define AUTHMILTER_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"

enum dkim_canon {
	DKIM_CANON_SIMPLE = 0,
	DKIM_CANON_RELAXED
};

#define DKIM_HASH_LEN	32	/* SHA-256 */

/* dkim_sha256 - SHA-256, fetched from OpenSSL once for the whole process */
const EVP_MD *dkim_sha256(void);
/* dkim_sha256_digest - SHA-256 of data in one go (RFC 8463's prehash); false
 * when OpenSSL fails */
bool	 dkim_sha256_digest(const void *data, size_t len,
	    unsigned char digest[DKIM_HASH_LEN]);

/* dkim_canon_header - append name ":" value, canonicalized, ending in CRLF
 * (crlf false: without the final CRLF, as for the DKIM-Signature being verified).
 * value is raw: as received after the colon, CRLF inside folds. */
void	 dkim_canon_header(enum dkim_canon c, const char *name, const char *value,
	    size_t value_len, int crlf, struct buf *out);

struct dkim_body_set;
struct dkim_body_hash;

struct dkim_body_set *dkim_body_set_new(void);
/* dkim_body_set_add - the hash for (c, limit), shared with earlier adds of the same
 * pair; limit < 0: the whole body. Must be called before the first update. */
struct dkim_body_hash *dkim_body_set_add(struct dkim_body_set *s, enum dkim_canon c,
	    int64_t limit);
/* dkim_body_set_update - stream a chunk of raw body (CRLF line ends as from the MTA) */
void	 dkim_body_set_update(struct dkim_body_set *s, const unsigned char *data, size_t len);
/* dkim_body_set_final - finish every hash; call once, after the last chunk */
void	 dkim_body_set_final(struct dkim_body_set *s);
/* dkim_body_hash_result - after final: the digest and the canonical length
 * (the whole canonical body, before any l= cut) */
void	 dkim_body_hash_result(const struct dkim_body_hash *h,
	    unsigned char digest[DKIM_HASH_LEN], uint64_t *canon_len);
void	 dkim_body_set_free(struct dkim_body_set *s);

#endif
