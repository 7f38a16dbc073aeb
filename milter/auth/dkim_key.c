/* dkim_key - DKIM private keys: load, check, describe.
 *
 * dkim_key_load reads one PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
 * "PRIVATE KEY"), accepts RSA of at least DKIM_RSA_MIN_BITS and Ed25519, and
 * with require_safe refuses a file that group or others may access.
 * dkim_key_new does the same checks on a key already read (it takes it over).
 * dkim_key_free releases a key; dkim_alg_name names the algorithm;
 * dkim_key_public_b64 gives the p= value (caller frees). An Ed25519 key is
 * also converted to libsodium's form once, here, for dkim_sign_data.
 * A loaded key is immutable and may be used by many threads at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_key.h"
#include "xalloc.h"

#define DKIM_KEY_MAX_FILE	(64 * 1024)	/* a PEM key of 16384-bit RSA is ~13 kB */
#define ED25519_RAW_LEN		32		/* RFC 8032 public key */

/* dkim_key_no_password - refuse encrypted keys instead of prompting on a terminal */
static int
dkim_key_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* dkim_key_ed25519_public - the bare 32-byte public key; false if OpenSSL fails */
static bool
dkim_key_ed25519_public(EVP_PKEY *pkey, unsigned char raw[ED25519_RAW_LEN])
{
	size_t len = ED25519_RAW_LEN;

	return EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1 && len == ED25519_RAW_LEN;
}

/* dkim_key_ed25519_sodium - derive libsodium's secret key (seed||public) from the
 * RFC 8032 seed OpenSSL read, and check both libraries see the same public key */
static bool
dkim_key_ed25519_sodium(struct dkim_key *k, const char *what, char *err, size_t errlen)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pub[crypto_sign_PUBLICKEYBYTES];
	unsigned char ossl_pub[ED25519_RAW_LEN];
	size_t seedlen = sizeof(seed);
	bool ok;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not initialize");
		return false;
	}
	ok = EVP_PKEY_get_raw_private_key(k->pkey, seed, &seedlen) == 1 &&
	    seedlen == sizeof(seed) &&
	    dkim_key_ed25519_public(k->pkey, ossl_pub) &&
	    crypto_sign_seed_keypair(pub, k->ed25519_sk, seed) == 0 &&
	    memcmp(pub, ossl_pub, sizeof(pub)) == 0;
	sodium_memzero(seed, sizeof(seed));
	if (!ok)
		snprintf(err, errlen, "%s: Ed25519 key could not be converted for "
		    "signing", what);
	ERR_clear_error();
	return ok;
}

/* dkim_key_new - check a private key's type and size and take it over; what
 * names it in err (the file). The key is freed when it is refused. */
struct dkim_key *
dkim_key_new(EVP_PKEY *pkey, const char *what, char *err, size_t errlen)
{
	struct dkim_key *k = xcalloc(1, sizeof(*k));

	k->pkey = pkey;
	k->bits = EVP_PKEY_get_bits(pkey);
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		k->alg = DKIM_ALG_RSA_SHA256;
		if (k->bits < DKIM_RSA_MIN_BITS) {
			snprintf(err, errlen, "%s: RSA key of %d bits; at least %d required "
			    "(RFC 8301)", what, k->bits, DKIM_RSA_MIN_BITS);
			dkim_key_free(k);
			return NULL;
		}
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		k->alg = DKIM_ALG_ED25519_SHA256;
		k->bits = 8 * ED25519_RAW_LEN;	/* OpenSSL says 253, the group order */
		if (!dkim_key_ed25519_sodium(k, what, err, errlen)) {
			dkim_key_free(k);
			return NULL;
		}
	} else {
		const char *type = EVP_PKEY_get0_type_name(pkey);

		snprintf(err, errlen, "%s: %s key; only RSA and Ed25519 keys can sign "
		    "DKIM", what, type ? type : "unknown");
		dkim_key_free(k);
		return NULL;
	}
	return k;
}

/* dkim_key_read_ed25519 - an Ed25519 PKCS#8 key by the short road: OpenSSL 3.0's
 * generic decoder (PEM_read_bio_PrivateKey) takes ~450 us a key here, this
 * ~50 us, which is what lets a keys directory of 10,000 keys load in a second.
 * NULL when the text is anything else (the caller then takes the generic road). */
static EVP_PKEY *
dkim_key_read_ed25519(BIO *bio)
{
	PKCS8_PRIV_KEY_INFO *p8 = PEM_read_bio_PKCS8_PRIV_KEY_INFO(bio, NULL,
	    dkim_key_no_password, NULL);
	const ASN1_OBJECT *oid;
	const unsigned char *pk;
	int pklen;
	ASN1_OCTET_STRING *seed = NULL;
	EVP_PKEY *pkey = NULL;

	if (p8 != NULL && PKCS8_pkey_get0(&oid, &pk, &pklen, NULL, p8) == 1 &&
	    OBJ_obj2nid(oid) == NID_ED25519 &&
	    (seed = d2i_ASN1_OCTET_STRING(NULL, &pk, pklen)) != NULL &&
	    ASN1_STRING_length(seed) == ED25519_RAW_LEN)	/* RFC 8410 §7 */
		pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    ASN1_STRING_get0_data(seed), ED25519_RAW_LEN);
	ASN1_OCTET_STRING_free(seed);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ERR_clear_error();
	return pkey;
}

/* dkim_key_read_pem - the first PEM private key in data: PKCS#8 Ed25519 directly,
 * everything else (RSA PKCS#1 or PKCS#8) through OpenSSL's generic decoder */
static EVP_PKEY *
dkim_key_read_pem(const unsigned char *data, size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *pkey;

	if (bio == NULL)
		return NULL;
	pkey = dkim_key_read_ed25519(bio);
	if (pkey == NULL && BIO_reset(bio) == 1)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, dkim_key_no_password, NULL);
	BIO_free(bio);
	return pkey;
}

/* dkim_key_load - read and check one private key file */
struct dkim_key *
dkim_key_load(const char *path, bool require_safe, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO in a keys directory must not hang a reload; the
	 * fstat below refuses anything but a regular file */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* fstat the open file, so the file checked is the file read */
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (require_safe && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		    "%s: mode %04o: readable by group or others; chmod 600", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	if (st.st_size > DKIM_KEY_MAX_FILE) {
		snprintf(err, errlen, "%s: %lld bytes, too large for a key (at most %d)",
		    path, (long long)st.st_size, DKIM_KEY_MAX_FILE);
		close(fd);
		return NULL;
	}

	unsigned char data[DKIM_KEY_MAX_FILE];
	ssize_t got;
	size_t len = 0;

	while (len < sizeof(data) &&
	    (got = read(fd, data + len, sizeof(data) - len)) != 0) {
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			sodium_memzero(data, len);
			return NULL;
		}
		len += (size_t)got;
	}
	close(fd);
	ERR_clear_error();
	EVP_PKEY *pkey = dkim_key_read_pem(data, len);
	sodium_memzero(data, len);
	if (pkey == NULL) {
		unsigned long e = ERR_peek_last_error();
		const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

		snprintf(err, errlen, "%s: no usable PEM private key (want unencrypted "
		    "PKCS#1 or PKCS#8)%s%s", path, why ? ": " : "", why ? why : "");
		ERR_clear_error();
		return NULL;
	}

	return dkim_key_new(pkey, path, err, errlen);
}

/* dkim_key_free - release a key; NULL is fine */
void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	sodium_memzero(k->ed25519_sk, sizeof(k->ed25519_sk));
	free(k);
}

/* dkim_alg_name - the a= value */
const char *
dkim_alg_name(enum dkim_alg a)
{
	return a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* dkim_key_b64 - base64 of len bytes, one line (caller frees) */
static char *
dkim_key_b64(const unsigned char *p, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

/* dkim_key_public_b64 - p=: DER SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1),
 * the bare 32-byte key for Ed25519 (RFC 8463 §4); NULL if OpenSSL fails */
char *
dkim_key_public_b64(const struct dkim_key *k)
{
	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		unsigned char raw[ED25519_RAW_LEN];

		return dkim_key_ed25519_public(k->pkey, raw) ?
		    dkim_key_b64(raw, sizeof(raw)) : NULL;
	}

	unsigned char *der = NULL;
	int len = i2d_PUBKEY(k->pkey, &der);
	if (len <= 0)
		return NULL;

	char *out = dkim_key_b64(der, (size_t)len);
	OPENSSL_free(der);
	return out;
}
