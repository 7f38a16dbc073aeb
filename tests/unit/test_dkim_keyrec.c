/* test_dkim_keyrec - dkim_keyrec_parse against a table of key records. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "buf.h"
#include "dkim_keyrec.h"
#include "tap.h"

/* RFC 8463 Appendix A keys */
#define ED_P	"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA1024_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5" \
	"qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6" \
	"lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

enum { NO = 0, YES = 1 };

static const struct {
	const char *rec;
	const char *err;	/* NULL: must parse */
	int alg, bits, revoked, testing, strict, sha256_ok, email;
} cases[] = {
	{ "v=DKIM1; k=rsa; p=" RSA1024_P, NULL,
	  DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, YES },
	{ "p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, YES },
	{ "v=DKIM1; k=ed25519; p=" ED_P, NULL,
	  DKIM_ALG_ED25519_SHA256, 256, NO, NO, NO, YES, YES },
	{ "v=DKIM1; p=", NULL, DKIM_ALG_RSA_SHA256, 0, YES, NO, NO, YES, YES },
	{ "v=DKIM1; k=ed25519; p= ;", NULL, DKIM_ALG_ED25519_SHA256, 0, YES, NO, NO, YES,
	  YES },
	{ "v=DKIM1; t=y:s; p=" RSA1024_P, NULL,
	  DKIM_ALG_RSA_SHA256, 1024, NO, YES, YES, YES, YES },
	{ "t = s : x ; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, YES, YES, YES },
	{ "h=sha1; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, NO, YES },
	{ "h=sha1 : sha256; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES,
	  YES },
	{ "s=email:foo; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, YES },
	{ "s=*; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, YES },
	{ "s=tlsrpt; p=" RSA1024_P, NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, NO },
	{ "v=DKIM1; g=*; n=notes; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQo"
	  "BTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfz"
	  "wQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOT"
	  "IKT+l/K4w3QIDAQAB", NULL, DKIM_ALG_RSA_SHA256, 1024, NO, NO, NO, YES, YES },
	{ "k=ed25519; p=" RSA1024_P, "key type does not match k=", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=rsa; p=" ED_P, "bad rsa key", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=rsa; p=bm90IGEga2V5IGF0IGFsbA==", "bad rsa key", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=ed25519; p=bm90IGEga2V5IGF0IGFsbA==", "bad ed25519 key", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTz", "bad rsa key", 0, 0, 0, 0, 0, 0, 0 },
	{ "p=%%%", "bad base64 in p=", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=dsa; p=" RSA1024_P, "unknown k=", 0, 0, 0, 0, 0, 0, 0 },
	{ "v=DKIM2; p=" RSA1024_P, "unsupported v=", 0, 0, 0, 0, 0, 0, 0 },
	{ "k=rsa; v=DKIM1; p=" RSA1024_P, "v= is not first", 0, 0, 0, 0, 0, 0, 0 },
	{ "v=DKIM1; k=rsa", "missing p=", 0, 0, 0, 0, 0, 0, 0 },
	{ "", "empty key record", 0, 0, 0, 0, 0, 0, 0 },
	{ "  ", "empty key record", 0, 0, 0, 0, 0, 0, 0 },
	{ "v=DKIM1: g=*; k=rsa; p=" RSA1024_P, "unsupported v=", 0, 0, 0, 0, 0, 0, 0 },
	{ "p=" RSA1024_P "; p=" RSA1024_P, "duplicate tag p=", 0, 0, 0, 0, 0, 0, 0 },
	{ "garbage", "malformed tag-list", 0, 0, 0, 0, 0, 0, 0 },
};

/* b64 - base64 of a DER blob into out */
static void
b64(const unsigned char *der, int len, struct buf *out)
{
	unsigned char *enc = malloc((size_t)(len / 3 + 2) * 4 + 1);
	int n = EVP_EncodeBlock(enc, der, len);

	buf_append(out, enc, (size_t)n);
	free(enc);
}

/* check_generated - a 2048-bit RSA key made now, as SPKI and as bare PKCS#1 */
static void
check_generated(void)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	unsigned char *der = NULL;
	struct dkim_keyrec k;
	char err[128] = "";

	CHECK(pk != NULL, "generated: RSA-2048 key");
	if (pk == NULL)
		return;
	for (int form = 0; form < 2; form++) {
		struct buf rec = BUF_INIT;
		int len = form == 0 ? i2d_PUBKEY(pk, &der) : i2d_PublicKey(pk, &der);
		buf_puts(&rec, "v=DKIM1; k=rsa; p=");
		b64(der, len, &rec);
		OPENSSL_free(der);
		der = NULL;
		bool ok = dkim_keyrec_parse(rec.data, rec.len, &k, err, sizeof(err));
		CHECK(ok, "generated %s: parses (%s)", form ? "PKCS#1" : "SPKI", err);
		CHECK(k.bits == 2048, "generated %s: 2048 bits", form ? "PKCS#1" : "SPKI");
		CHECK(k.pkey != NULL && EVP_PKEY_eq(k.pkey, pk) == 1,
		    "generated %s: same key", form ? "PKCS#1" : "SPKI");
		dkim_keyrec_clear(&k);
		buf_free(&rec);
	}
	EVP_PKEY_free(pk);
}

/* exponent_key - an RSA public key record with a random odd modulus of bits and
 * the exponent e (hex), as SPKI; the caller frees rec */
static void
exponent_key(int bits, const char *e_hex, struct buf *rec)
{
	BIGNUM *n = BN_new(), *e = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL;

	BN_hex2bn(&e, e_hex);
	BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	params = OSSL_PARAM_BLD_to_param(bld);
	if (EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
	int len = pk != NULL ? i2d_PUBKEY(pk, &der) : 0;
	buf_puts(rec, "v=DKIM1; k=rsa; p=");
	if (len > 0)
		b64(der, len, rec);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
}

/* check_exponents - the public exponent and modulus bounds of dkim_keyrec.h:
 * each key next to the error it must give (NULL: accepted) */
static void
check_exponents(void)
{
	char e3071[3071 / 4 + 2];

	/* a 3,071-bit exponent, as in issue 24's attack: 7 then 767 f */
	e3071[0] = '7';
	memset(e3071 + 1, 'f', sizeof(e3071) - 2);
	e3071[sizeof(e3071) - 1] = '\0';
	static const struct { int bits; const char *e, *err; } t[] = {
		{ 2048, "10001", NULL },		/* 65537 */
		{ 2048, "3", NULL },
		{ 2048, "11", NULL },			/* 17 */
		{ 2048, "FFFFFFFF", NULL },		/* 32 bits: the largest */
		{ 2048, "100000001", "rsa public exponent of 33 bits, over 32" },
		{ 2048, "10000000000000001", "rsa public exponent of 65 bits, over 32" },
		{ 2048, "1", "rsa public exponent even or 1" },
		{ 2048, "10000", "rsa public exponent even or 1" },
		{ 8192, "10001", NULL },
		{ 8200, "10001", "rsa key over 8192 bits" },
	};
	for (size_t i = 0; i <= sizeof(t) / sizeof(t[0]); i++) {
		bool big = i == sizeof(t) / sizeof(t[0]);
		int bits = big ? 3072 : t[i].bits;
		const char *e = big ? e3071 : t[i].e;
		const char *want = big ? "rsa public exponent of 3071 bits, over 32" : t[i].err;
		struct buf rec = BUF_INIT;
		struct dkim_keyrec k;
		char err[128] = "";

		exponent_key(bits, e, &rec);
		bool ok = dkim_keyrec_parse(rec.data, rec.len, &k, err, sizeof(err));
		if (want == NULL)
			CHECK(ok && k.bits == bits, "RSA-%d e=0x%.12s: accepted (%s)", bits, e,
			    err);
		else
			CHECK(!ok && strcmp(err, want) == 0 && k.pkey == NULL,
			    "RSA-%d e=0x%.12s: refused, %s (got %s)", bits, e, want,
			    ok ? "accepted" : err);
		dkim_keyrec_clear(&k);
		buf_free(&rec);
	}
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dkim_keyrec k;
		char err[128] = "";
		bool ok = dkim_keyrec_parse(cases[i].rec, strlen(cases[i].rec), &k, err,
		    sizeof(err));
		if (cases[i].err != NULL) {
			CHECK(!ok, "case %zu refused", i);
			CHECK_STR(err, cases[i].err, "case %zu error", i);
			CHECK(k.pkey == NULL, "case %zu holds no key", i);
			dkim_keyrec_clear(&k);
			continue;
		}
		CHECK(ok, "case %zu parses (%s)", i, err);
		CHECK((int)k.alg == cases[i].alg, "case %zu alg", i);
		CHECK(k.revoked == cases[i].revoked && (k.pkey == NULL) == k.revoked,
		    "case %zu revoked=%d", i, cases[i].revoked);
		if (!k.revoked)
			CHECK(EVP_PKEY_get_bits(k.pkey) == cases[i].bits,
			    "case %zu bits %d", i, cases[i].bits);
		CHECK(k.testing == cases[i].testing && k.strict == cases[i].strict,
		    "case %zu t= flags", i);
		CHECK(k.sha256_ok == cases[i].sha256_ok, "case %zu h=", i);
		CHECK(k.service_email == cases[i].email, "case %zu s=", i);
		dkim_keyrec_clear(&k);
	}
	check_generated();
	check_exponents();
	return tap_done();
}
