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
