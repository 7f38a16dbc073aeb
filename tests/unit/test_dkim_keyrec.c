/* test_dkim_keyrec - dkim_keyrec_parse against a table of key records. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
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
	return tap_done();
}
