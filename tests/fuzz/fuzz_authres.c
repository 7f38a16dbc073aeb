/* fuzz_authres - authres_is_ours with fuzzed header values and authserv-ids, and
 * the A-R builders with fuzzed values and comments.
 *
 * Input: byte 0 picks results, then lines: authserv-id, comment, three property
 * values; the rest is an incoming A-R value for authres_is_ours. The built header
 * must carry CR/LF only as "\r\n\t" folds, balanced quotes and comments, and no ';'
 * outside them except the ones the builders put before each method.
 */
#include "config.h"

#include "authres.h"
#include "fuzz_util.h"

/* check_built - the invariants of a value we built with n_methods methods */
static void
check_built(const char *v, size_t n_methods)
{
	size_t semis = 0;
	bool quoted = false, comment = false;

	fz_check_folds("A-R value", v);
	for (const char *p = v; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (comment) {
			if (*p == '(')
				fz_fail("nested comment in A-R value", v);
			if (*p == '\\')
				fz_fail("backslash in A-R comment", v);
			if (*p == ')')
				comment = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == '(') {
			comment = true;
		} else if (*p == ')') {
			fz_fail("unbalanced ')' in A-R value", v);
		} else if (*p == ';') {
			semis++;
		}
	}
	if (quoted || comment)
		fz_fail("unterminated quote or comment in A-R value", v);
	if (semis != n_methods)
		fz_fail("a ';' from a value in the A-R header", v);
}

/* host_name - letters, digits, '-', '_' and single dots, 1..253 bytes, not only
 * dots: what conf.c lets through as authserv_id */
static bool
host_name(const char *s)
{
	size_t n = strlen(s);
	bool label = false;

	if (n == 0 || n > 253)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (!label)
				return false;
			label = false;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			label = true;
		} else {
			return false;
		}
	}
	return true;
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	char id[512], comment[512], val[3][512], safe[64], *in;
	struct buf out = BUF_INIT;

	fz_line(&f, id, sizeof(id));
	fz_line(&f, comment, sizeof(comment));
	for (int i = 0; i < 3; i++)
		fz_line(&f, val[i], sizeof(val[i]));

	authres_begin(&out, id);
	authres_method(&out, "spf", (enum auth_result)(flags % (AUTH_SKIPPED + 1)),
	    (flags & 0x10) ? NULL : comment);
	authres_prop(&out, "smtp.mailfrom", val[0]);
	authres_prop(&out, "smtp.helo", val[1]);
	authres_method(&out, "dkim", AUTH_PASS, comment);
	authres_prop(&out, "header.d", val[2]);
	authres_prop(&out, "header.i", val[0]);
	authres_prop(&out, "header.b", val[1]);
	authres_method(&out, "dmarc", AUTH_FAIL, NULL);
	authres_prop(&out, "header.from", val[2]);
	check_built(buf_cstr(&out), 3);
	/* a value we built names its own authserv-id: for the ids conf.c accepts
	 * (host names), not for "." or 300 bytes of '-' */
	if (host_name(id) && !authres_is_ours(out.data, out.len, id))
		fz_fail("our own A-R value is not recognised as ours", out.data);
	buf_reset(&out);
	authres_begin(&out, id);
	authres_none(&out);
	check_built(buf_cstr(&out), 1);
	buf_free(&out);

	authres_comment_safe(comment, safe, sizeof(safe));
	for (const char *p = safe; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '(' || *p == ')' || *p == '\\')
			fz_fail("unsafe byte in comment text", safe);
	authres_comment_safe(comment, safe, 1);
	if (safe[0] != '\0')
		fz_fail("comment text overflows a 1-byte buffer", safe);

	/* the rest: an incoming value, exact-size heap copy */
	in = malloc(f.n ? f.n : 1);
	if (in == NULL)
		return 0;
	memcpy(in, f.p, f.n);
	(void)authres_is_ours(in, f.n, id);
	(void)authres_is_ours(in, f.n, "mx.example.org");
	free(in);
	return 0;
}
