/* test_dkim_keycache - the parsed-key cache: hits, misses, what is never kept. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_keycache.h"
#include "tap.h"

/* record_for - "v=DKIM1; k=rsa; p=..." for a fresh RSA key (caller frees) */
static char *
record_for(EVP_PKEY **out)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pk, &der);
	char *b64 = malloc(4 * ((size_t)len + 2) / 3 + 4);
	struct buf b = BUF_INIT;

	EVP_EncodeBlock((unsigned char *)b64, der, len);
	buf_printf(&b, "v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	OPENSSL_free(der);
	*out = pk;
	return buf_steal(&b);
}

int
main(void)
{
	EVP_PKEY *pk1, *pk2;
	char *r1 = record_for(&pk1), *r2 = record_for(&pk2);
	struct dkim_keyrec a, b, c;
	char err[128];
	unsigned long hits = dkim_keycache_hits();

	CHECK(dkim_keycache_parse(r1, strlen(r1), &a, err, sizeof(err)), "first parse");
	CHECK(dkim_keycache_hits() == hits, "first parse is a miss");
	CHECK(dkim_keycache_parse(r1, strlen(r1), &b, err, sizeof(err)), "second parse");
	CHECK(dkim_keycache_hits() == hits + 1, "same record again is a hit");
	CHECK(a.pkey != NULL && EVP_PKEY_eq(a.pkey, pk1) == 1 && EVP_PKEY_eq(b.pkey, pk1) == 1,
	    "both copies hold the published key");
	CHECK(a.bits == 2048 && b.bits == 2048 && b.alg == a.alg, "fields copied");
	dkim_keyrec_clear(&a);
	CHECK(EVP_PKEY_eq(b.pkey, pk1) == 1, "clearing one copy leaves the other usable");
	dkim_keyrec_clear(&b);

	CHECK(dkim_keycache_parse(r2, strlen(r2), &c, err, sizeof(err)) &&
	    EVP_PKEY_eq(c.pkey, pk2) == 1, "a changed record is a new key, not the old one");
	dkim_keyrec_clear(&c);

	hits = dkim_keycache_hits();
	CHECK(!dkim_keycache_parse("v=DKIM1; p=@@@", 14, &c, err, sizeof(err)),
	    "a bad record still fails");
	CHECK(!dkim_keycache_parse("v=DKIM1; p=@@@", 14, &c, err, sizeof(err)) &&
	    dkim_keycache_hits() == hits, "and is never served from the cache");
	dkim_keyrec_clear(&c);

	dkim_keycache_flush();
	hits = dkim_keycache_hits();
	CHECK(dkim_keycache_parse(r1, strlen(r1), &a, err, sizeof(err)) &&
	    dkim_keycache_hits() == hits, "after a flush the record is parsed again");
	dkim_keyrec_clear(&a);
	dkim_keycache_flush();
	free(r1);
	free(r2);
	EVP_PKEY_free(pk1);
	EVP_PKEY_free(pk2);
	return tap_done();
}
