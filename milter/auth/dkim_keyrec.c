/* dkim_keyrec - parse a DKIM key record fetched from DNS (RFC 6376 §3.6.1, RFC 8463).
 *
 * dkim_keyrec_parse: tag-list to struct dkim_keyrec with a decoded public key.
 * dkim_keyrec_clear: frees the key. The record owns its EVP_PKEY.
 * RSA keys are accepted as DER SubjectPublicKeyInfo (what RFC 6376 asks for) and,
 * because some publishers put it there, as a bare PKCS#1 RSAPublicKey. Ed25519
 * keys are the raw 32 bytes (RFC 8463 §4). An RSA key over DKIM_RSA_MAX_BITS or
 * with a public exponent over DKIM_RSA_MAX_E_BITS bits (even, or 1) is refused:
 * the reason says which (dkim_keyrec.h says why).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim_keyrec.h"
#include "dkim_sig.h"
#include "taglist.h"
#include "dns.h"

#define DKIM_ED25519_KEY_LEN	32	/* RFC 8032 public key */

/* dkim_keyrec_seterr - copy a fixed message into err */
static bool
dkim_keyrec_seterr(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return false;
}

/* dkim_keyrec_decode_rsa - SubjectPublicKeyInfo, else PKCS#1 RSAPublicKey; the DER
 * must be consumed whole. NULL when neither. */
static EVP_PKEY *
dkim_keyrec_decode_rsa(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pk;

	if (len > LONG_MAX)
		return NULL;
	pk = d2i_PUBKEY(NULL, &p, (long)len);
	if (pk != NULL && p == der + len)
		return pk;
	EVP_PKEY_free(pk);
	p = der;
	pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	if (pk != NULL && p == der + len)
		return pk;
	EVP_PKEY_free(pk);
	return NULL;
}

/* dkim_keyrec_rsa_bounds - refuse an RSA key whose verification the publisher
 * made dear (see DKIM_RSA_MAX_E_BITS in dkim_keyrec.h) or whose e is no RSA
 * exponent (even, or 1: e=1 makes every "signature" the message itself) */
static bool
dkim_keyrec_rsa_bounds(const EVP_PKEY *pk, char *err, size_t errlen)
{
	BIGNUM *e = NULL;
	bool ok;

	if (EVP_PKEY_get_bits(pk) > DKIM_RSA_MAX_BITS) {
		snprintf(err, errlen, "rsa key over %d bits", DKIM_RSA_MAX_BITS);
		return false;
	}
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return dkim_keyrec_seterr(err, errlen, "bad rsa key");
	ok = BN_num_bits(e) <= DKIM_RSA_MAX_E_BITS && BN_is_odd(e) && !BN_is_one(e);
	if (!ok && BN_num_bits(e) > DKIM_RSA_MAX_E_BITS)
		snprintf(err, errlen, "rsa public exponent of %d bits, over %d",
		    BN_num_bits(e), DKIM_RSA_MAX_E_BITS);
	else if (!ok)
		dkim_keyrec_seterr(err, errlen, "rsa public exponent even or 1");
	BN_free(e);
	return ok;
}

/* dkim_keyrec_decode_key - the public key of p= for the algorithm k= names */
static bool
dkim_keyrec_decode_key(struct dkim_keyrec *k, const unsigned char *der, size_t len,
    char *err, size_t errlen)
{
	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		if (len == DKIM_ED25519_KEY_LEN) {
			k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der,
			    len);
			if (k->pkey == NULL)
				return dkim_keyrec_seterr(err, errlen, "bad ed25519 key");
			return true;
		}
		EVP_PKEY *other = dkim_keyrec_decode_rsa(der, len);
		if (other != NULL) {
			EVP_PKEY_free(other);
			return dkim_keyrec_seterr(err, errlen,
			    "key type does not match k=");
		}
		return dkim_keyrec_seterr(err, errlen, "bad ed25519 key");
	}
	k->pkey = dkim_keyrec_decode_rsa(der, len);
	if (k->pkey == NULL)
		return dkim_keyrec_seterr(err, errlen, "bad rsa key");
	if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA)
		return dkim_keyrec_seterr(err, errlen, "key type does not match k=");
	if (!dkim_keyrec_rsa_bounds(k->pkey, err, errlen))
		return false;
	k->bits = EVP_PKEY_get_bits(k->pkey);
	return true;
}

/* dkim_keyrec_parse - see dkim_keyrec.h; on failure k holds nothing to free
 * beyond what dkim_keyrec_clear releases */
bool
dkim_keyrec_parse(const char *txt, size_t len, struct dkim_keyrec *k, char *err,
    size_t errlen)
{
	struct taglist_tag tags[TAGLIST_MAX];
	const struct taglist_tag *t;
	size_t n;
	bool ok;

	memset(k, 0, sizeof(*k));
	k->alg = DKIM_ALG_RSA_SHA256;
	k->sha256_ok = k->service_email = true;
	if (len > DNS_MAX_TXT)
		return dkim_keyrec_seterr(err, errlen, "key record too long");
	if (!taglist_split(txt, len, tags, &n, err, errlen))
		return false;
	if (n == 0)
		return dkim_keyrec_seterr(err, errlen, "empty key record");

	if ((t = taglist_find(tags, n, "v")) != NULL) {
		if (t != &tags[0])
			return dkim_keyrec_seterr(err, errlen, "v= is not first");
		if (!(t->value_len == 5 && memcmp(t->value, "DKIM1", 5) == 0))
			return dkim_keyrec_seterr(err, errlen, "unsupported v=");
	}
	if ((t = taglist_find(tags, n, "k")) != NULL) {
		if (taglist_value_is(t, "rsa"))
			k->alg = DKIM_ALG_RSA_SHA256;
		else if (taglist_value_is(t, "ed25519"))
			k->alg = DKIM_ALG_ED25519_SHA256;
		else
			return dkim_keyrec_seterr(err, errlen, "unknown k=");
	}
	if ((t = taglist_find(tags, n, "h")) != NULL)
		k->sha256_ok = taglist_list_has(t, "sha256");
	if ((t = taglist_find(tags, n, "s")) != NULL)
		k->service_email = taglist_list_has(t, "*") ||
		    taglist_list_has(t, "email");
	if ((t = taglist_find(tags, n, "t")) != NULL) {
		k->testing = taglist_list_has(t, "y");
		k->strict = taglist_list_has(t, "s");
	}

	if ((t = taglist_find(tags, n, "p")) == NULL)
		return dkim_keyrec_seterr(err, errlen, "missing p=");
	size_t der_len;
	unsigned char *der = dkim_sig_b64(t->value, t->value_len, &der_len);
	if (der == NULL)
		return dkim_keyrec_seterr(err, errlen, "bad base64 in p=");
	if (der_len == 0) {
		free(der);
		k->revoked = true;
		return true;
	}
	ok = dkim_keyrec_decode_key(k, der, der_len, err, errlen);
	free(der);
	/* failed decodes leave entries in this thread's OpenSSL error queue */
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
	}
	return ok;
}

/* dkim_keyrec_clear - free the key; NULL and repeated calls are fine */
void
dkim_keyrec_clear(struct dkim_keyrec *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}
