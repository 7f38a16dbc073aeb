/* fuzz_from - rfc5322_parse_from and rfc5322_domain_normalise on any bytes.
 *
 * Checks that a FROM_OK result names a domain that is lower case, has no final
 * dot and survives normalising again unchanged.
 */
#include "config.h"

#include <ctype.h>

#include "fuzz_util.h"
#include "rfc5322.h"

/* LLVMFuzzerTestOneInput - the whole input is one From value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct from_address fa;
	enum from_status st;
	char copy[1024], norm[256];
	size_t n;

	memset(&fa, 0xa5, sizeof(fa));		/* the parser must set what it reports */
	st = rfc5322_parse_from((const char *)data, size, &fa);
	if (st != fa.status)
		fz_fail("returned status differs from out->status", rfc5322_from_status_name(st));
	if (rfc5322_from_status_name(st) == NULL)
		fz_fail("no status name", NULL);
	if (st == FROM_OK) {
		size_t dl = strnlen(fa.domain, sizeof(fa.domain));

		if (dl == 0 || dl == sizeof(fa.domain))
			fz_fail("FROM_OK with an empty or unterminated domain", NULL);
		if (fa.domain[dl - 1] == '.')
			fz_fail("FROM_OK domain ends in a dot", fa.domain);
		for (size_t i = 0; i < dl; i++)
			if (isupper((unsigned char)fa.domain[i]))
				fz_fail("FROM_OK domain not lower case", fa.domain);
		if (!rfc5322_domain_normalise(fa.domain, norm, sizeof(norm)) ||
		    strcmp(norm, fa.domain) != 0)
			fz_fail("FROM_OK domain does not normalise to itself", fa.domain);
		if (strnlen(fa.local, sizeof(fa.local)) == sizeof(fa.local))
			fz_fail("local part unterminated", NULL);
	}

	/* The same bytes as a domain name, with a small and a full output buffer. */
	n = size < sizeof(copy) - 1 ? size : sizeof(copy) - 1;
	memcpy(copy, data, n);
	copy[n] = '\0';
	if (rfc5322_domain_normalise(copy, norm, sizeof(norm))) {
		size_t nl = strnlen(norm, sizeof(norm));

		if (nl == sizeof(norm))
			fz_fail("normalised domain unterminated", NULL);
		char again[256];
		if (!rfc5322_domain_normalise(norm, again, sizeof(again)) ||
		    strcmp(again, norm) != 0)
			fz_fail("normalise is not idempotent", norm);
	}
	(void)rfc5322_domain_normalise(copy, norm, 8);
	return 0;
}
