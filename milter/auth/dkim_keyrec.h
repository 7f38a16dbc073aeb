/* dkim_keyrec - parse a DKIM public key record (RFC 6376 §3.6.1, RFC 8463).
 *
 * Pure: the caller fetched the TXT record. The parsed record owns its key.
 */
#ifndef AUTHMILTER_DKIM_KEYREC_H
#define AUTHMILTER_DKIM_KEYREC_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "dkim_key.h"

/* What an RSA key from DNS may cost one verification (the sender chooses the key,
 * and a verification costs about bits(e) multiplications modulo n):
 * - e: odd, 3 <= e < 2^32. RFC 8017 §3.1 allows any e in [3, n-1], but every
 *   DKIM key generator uses 65537 (a few old keys 3), FIPS 186-5 asks for
 *   2^16 < e < 2^256 only of new keys, and widespread verifiers already refuse
 *   more (Go's crypto/rsa above 2^31-1, BoringSSL above 33 bits, OpenSSL above
 *   64 bits for moduli over 3072 bits): a 3071-bit e made one RSA-3072
 *   verification 100 times dearer than e=65537 (issue 24). 32 bits keeps a
 *   verification within about twice that of 65537.
 * - n: at most 8192 bits. RFC 8301 §3.1 asks verifiers for 1024 to 4096 and
 *   permits more; an RSA-8192 verification costs about 16 of RSA-2048, 16384
 *   bits (OpenSSL's own limit) 64. */
#define DKIM_RSA_MAX_BITS	8192
#define DKIM_RSA_MAX_E_BITS	32

struct dkim_keyrec {
	enum dkim_alg	 alg;		/* from k= (rsa default, ed25519) */
	EVP_PKEY	*pkey;		/* NULL when revoked (empty p=) */
	bool		 revoked;
	bool		 testing;	/* t=y */
	bool		 strict;	/* t=s: i= must not be a subdomain of d= */
	bool		 sha256_ok;	/* h= absent or lists sha256 */
	bool		 service_email;	/* s= absent, "*" or includes "email" */
	int		 bits;		/* RSA modulus size */
};

/* dkim_keyrec_parse - false with a reason in err for a malformed record */
bool	 dkim_keyrec_parse(const char *txt, size_t len, struct dkim_keyrec *k, char *err,
	    size_t errlen);
void	 dkim_keyrec_clear(struct dkim_keyrec *k);

#endif
