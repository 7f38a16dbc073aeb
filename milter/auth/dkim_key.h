/* dkim_key - private signing keys: loading, checking, and what algorithm they imply.
 *
 * dkim_key_load reads a PEM (PKCS#1 or PKCS#8) RSA or Ed25519 key and refuses
 * short RSA keys and, when asked, files others can read. An Ed25519 key is also
 * kept in libsodium's form, for signing.
 */
#ifndef AUTHMILTER_DKIM_KEY_H
#define AUTHMILTER_DKIM_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <sodium.h>

#define DKIM_RSA_MIN_BITS	1024	/* RFC 8301 §3.2 */

enum dkim_alg {
	DKIM_ALG_RSA_SHA256 = 0,
	DKIM_ALG_ED25519_SHA256
};

struct dkim_key {
	EVP_PKEY	*pkey;
	enum dkim_alg	 alg;
	int		 bits;
	/* Ed25519 only: the same key as libsodium's seed||public pair, which signs
	 * in half the CPU OpenSSL 3.0 takes (see dkim_sign_data) */
	unsigned char	 ed25519_sk[crypto_sign_SECRETKEYBYTES];
};

/* dkim_key_load - NULL with the reason in err when the file is unusable */
struct dkim_key *dkim_key_load(const char *path, bool require_safe, char *err,
	    size_t errlen);
/* dkim_key_new - the same checks on a key in memory, which it takes over (and
 * frees when it refuses it); what names the key in err */
struct dkim_key *dkim_key_new(EVP_PKEY *pkey, const char *what, char *err,
	    size_t errlen);
void	 dkim_key_free(struct dkim_key *k);
/* dkim_alg_name - "rsa-sha256" or "ed25519-sha256" */
const char *dkim_alg_name(enum dkim_alg a);
/* dkim_key_public_b64 - the p= value for the key's DNS record (caller frees) */
char	*dkim_key_public_b64(const struct dkim_key *k);

#endif
