/* fuzz_dkim_sig - dkim_sig_parse (and the base64 decoder it shares with
 * dkim_keyrec) on any bytes; the tag-list parser under it has fuzz_taglist.
 *
 * Checks that a parsed signature has what RFC 6376 §3.5 requires: d=, s=, h=
 * naming From, an i= inside d=.
 */
#include "config.h"

#include <strings.h>

#include "dkim_sig.h"
#include "fuzz_util.h"

/* LLVMFuzzerTestOneInput - the whole input is one DKIM-Signature value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_sig s;
	char err[256];
	size_t blen;
	unsigned char *b;

	memset(&s, 0xa5, sizeof(s));
	err[0] = '\0';
	if (dkim_sig_parse((const char *)data, size, &s, err, sizeof(err))) {
		bool from = false;

		if (s.domain == NULL || s.domain[0] == '\0' || s.selector == NULL ||
		    s.selector[0] == '\0' || s.identity == NULL)
			fz_fail("parsed signature without d=, s= or i=", NULL);
		if (s.n_headers == 0 || s.n_headers > DKIM_SIG_MAX_HEADERS)
			fz_fail("parsed signature with a bad h= count", NULL);
		for (size_t i = 0; i < s.n_headers; i++)
			if (strcasecmp(s.headers[i], "from") == 0)
				from = true;
		if (!from)
			fz_fail("parsed signature whose h= lacks From", NULL);
		if (s.sig == NULL || s.sig_len == 0)
			fz_fail("parsed signature without b=", NULL);
		if (strnlen(s.b_prefix, sizeof(s.b_prefix)) == sizeof(s.b_prefix))
			fz_fail("b_prefix unterminated", NULL);
	} else if (err[0] == '\0') {
		fz_fail("refused without a reason", NULL);
	}
	dkim_sig_clear(&s);
	dkim_sig_clear(&s);

	if ((b = dkim_sig_b64((const char *)data, size, &blen)) != NULL) {
		if (blen > size)
			fz_fail("base64 decoded longer than its text", NULL);
		free(b);
	}
	return 0;
}
