/* fuzz_spf_macro - spf_macro_expand and spf_macro_uses on any bytes.
 *
 * Input: one flags byte (kind, address family, output size), then four lines
 * (sender, domain, HELO, validated name), then the macro-string, passed in a
 * buffer of its exact size. Checks what spf_macro.h promises: a success is
 * printable ASCII, NUL-terminated inside the buffer; a refusal leaves "".
 */
#include "config.h"

#include <sys/socket.h>

#include "fuzz_util.h"
#include "spf_macro.h"

/* LLVMFuzzerTestOneInput - one expansion with inputs drawn from the data */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6,
		7, 8, 9, 10, 11, 12 };
	static const size_t sizes[4] = { 1, 17, SPF_MACRO_MAX_EXP + 1,
		SPF_MACRO_MAX_NAME + 1 };
	struct fz f = { data, size };
	char sender[600], domain[300], helo[300], ptr[300], out[SPF_MACRO_MAX_NAME + 1];
	unsigned flags = fz_byte(&f);
	size_t outlen = sizes[(flags >> 2) & 3];

	fz_line(&f, sender, sizeof(sender));
	fz_line(&f, domain, sizeof(domain));
	fz_line(&f, helo, sizeof(helo));
	fz_line(&f, ptr, sizeof(ptr));
	char *in = malloc(f.n ? f.n : 1);
	memcpy(in, f.p, f.n);

	struct spf_macro_env env = {
		.sender = sender, .domain = domain, .helo = helo,
		.family = (flags & 2) ? AF_INET6 : AF_INET, .addr = addr,
		.ptr = (flags & 16) ? ptr : NULL, .receiver = (flags & 32) ? helo : NULL,
		.now = 1700000000,
	};
	enum spf_macro_kind kind = (flags & 1) ? SPF_MACRO_EXPLAIN : SPF_MACRO_DOMAIN;

	memset(out, 0x5a, sizeof(out));
	bool ok = spf_macro_expand(in, f.n, kind, &env, out, outlen);
	size_t len = strnlen(out, outlen);
	if (len == outlen)
		fz_fail("output not terminated inside its buffer", NULL);
	if (!ok && len != 0)
		fz_fail("refusal left output", out);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			fz_fail("output byte outside printable ASCII", out);
	(void)spf_macro_uses(in, f.n, 'p');
	free(in);
	return 0;
}
