/* dkim_sign - produce DKIM-Signature header fields (RFC 6376 §5, RFC 8463).
 *
 * dkim_sign_header builds one complete DKIM-Signature value for a message whose
 * body hash is already known; the caller streams the body through a dkim_body_set.
 */
#ifndef AUTHMILTER_DKIM_SIGN_H
#define AUTHMILTER_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "header.h"

struct dkim_sign_params {
	const struct dkim_key *key;
	const char	*domain;		/* d= */
	const char	*selector;		/* s= */
	enum dkim_canon	 header_canon, body_canon;
	char * const	*headers;		/* names to sign; NULL/0: the default set */
	size_t		 n_headers;
	char * const	*oversign;		/* names listed once more than they occur */
	size_t		 n_oversign;
	time_t		 now;			/* t= */
	unsigned	 expire;		/* x = t + expire when > 0 */
	/* ARC-Message-Signature (RFC 8617 §4.1.2): field_name NULL is
	 * "DKIM-Signature"; arc_instance > 0 writes i=N in place of v=1 */
	const char	*field_name;
	unsigned	 arc_instance;
};

/* A signed tag-list value being written: the buf, where the value starts in it,
 * and the column its last line has reached (for folding). */
struct dkim_sign_out {
	struct buf	*b;
	size_t		 start;
	size_t		 col;
};

/* dkim_sign_header - append the DKIM-Signature value (folded, without the
 * "DKIM-Signature:" name) to out; false with err set when signing failed. */
bool	 dkim_sign_header(const struct dkim_sign_params *p, const struct header_list *h,
	    const unsigned char bodyhash[DKIM_HASH_LEN], struct buf *out, char *err,
	    size_t errlen);

/* dkim_sign_begin, dkim_sign_tag, dkim_sign_end - write any DKIM-style signed
 * field (an ARC-Seal too): begin at the end of out, add "name=value;" tags folded
 * at 78 columns, then end: "b=" on a line of its own, the value as written so far
 * (b= empty) canonicalized onto canon, signed with key, base64 folded after b=.
 * end is false with err set (and out as before begin) when signing failed. */
void	 dkim_sign_begin(struct dkim_sign_out *o, struct buf *out, const char *field_name);
void	 dkim_sign_tag(struct dkim_sign_out *o, const char *name, const char *value);
bool	 dkim_sign_end(struct dkim_sign_out *o, const struct dkim_key *key,
	    enum dkim_canon header_canon, const char *field_name, struct buf *canon,
	    char *err, size_t errlen);

/* dkim_sign_data - sign already canonicalized header data as a= of the key asks
 * (RSA PKCS#1 v1.5 over SHA-256; Ed25519 over the SHA-256 digest, RFC 8463 §3);
 * the raw signature is appended to sig. For tests against fixed vectors. */
bool	 dkim_sign_data(const struct dkim_key *key, const void *data, size_t len,
	    struct buf *sig, char *err, size_t errlen);

#endif
