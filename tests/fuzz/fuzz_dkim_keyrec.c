/* fuzz_dkim_keyrec - dkim_keyrec_parse on any bytes (a TXT record as DNS gives it).
 *
 * Checks that an accepted record either is revoked without a key or carries a key
 * of the algorithm k= named.
 */
#include "config.h"

#include "dkim_keyrec.h"
#include "fuzz_util.h"

/* LLVMFuzzerTestOneInput - the whole input is one joined TXT record */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_keyrec k;
	char err[256];

	memset(&k, 0xa5, sizeof(k));
	err[0] = '\0';
	if (dkim_keyrec_parse((const char *)data, size, &k, err, sizeof(err))) {
		if (k.revoked != (k.pkey == NULL))
			fz_fail("revoked and pkey disagree", NULL);
		if (k.pkey != NULL) {
			int id = EVP_PKEY_get_base_id(k.pkey);

			if (k.alg == DKIM_ALG_RSA_SHA256 && id != EVP_PKEY_RSA)
				fz_fail("k=rsa with a non-RSA key", NULL);
			if (k.alg == DKIM_ALG_ED25519_SHA256 && id != EVP_PKEY_ED25519)
				fz_fail("k=ed25519 with a non-Ed25519 key", NULL);
		}
		dkim_keyrec_clear(&k);
	} else if (err[0] == '\0') {
		fz_fail("refused without a reason", NULL);
	}
	dkim_keyrec_clear(&k);
	return 0;
}
