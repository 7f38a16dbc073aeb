/* keygen - what authmilter-keygen's modules share: making and writing a key
 * (keygen.c) and the rotation run (keygen_rotate.c).
 */
#ifndef AUTHMILTER_KEYGEN_H
#define AUTHMILTER_KEYGEN_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dkim_key.h"

extern const char *keygen_prog;

/* keygen_ossl - print the latest OpenSSL error after what failed */
void	 keygen_ossl(const char *what);
/* keygen_new_pkey - a new key of alg (bits for RSA); NULL after printing why */
EVP_PKEY *keygen_new_pkey(enum dkim_alg alg, long bits);
/* keygen_write_pem - the key into a new file, 0600, synced; false after
 * printing why */
bool	 keygen_write_pem(const char *path, EVP_PKEY *pkey);
/* keygen_rotate - authmilter-keygen --rotate: 0 nothing waits on the operator,
 * 1 a record must be published or withdrawn, 2 an error */
int	 keygen_rotate(const char *config, int64_t now, const char *zone, bool dry_run);

#endif
