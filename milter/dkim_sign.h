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
#include "conf.h"
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
};

/* dkim_sign_header - append the DKIM-Signature value (folded, without the
 * "DKIM-Signature:" name) to out; false with err set when signing failed. */
bool	 dkim_sign_header(const struct dkim_sign_params *p, const struct header_list *h,
	    const unsigned char bodyhash[DKIM_HASH_LEN], struct buf *out, char *err,
	    size_t errlen);

/* dkim_sign_data - sign already canonicalized header data as a= of the key asks
 * (RSA PKCS#1 v1.5 over SHA-256; Ed25519 over the SHA-256 digest, RFC 8463 §3);
 * the raw signature is appended to sig. For tests against fixed vectors. */
bool	 dkim_sign_data(const struct dkim_key *key, const void *data, size_t len,
	    struct buf *sig, char *err, size_t errlen);

#endif
