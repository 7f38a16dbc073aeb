/* test_authres - the Authentication-Results builder (exact output), injection
 * attempts, comment sanitising and authres_is_ours.
 *
 * With one argument FILE, it also writes the headers of built_cases() there, one
 * per line as "NAME HEXVALUE", for tests/integration/test_authres_parsers.py to
 * feed to independent parsers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "tap.h"
#include "verdict.h"

#define ID	"mx.example.com"

/* one built header and the exact value it must be */
struct built {
	const char *name;
	struct buf  b;
	const char *want;
};

/* render_case - authres_render over a verdict record with every kind of field;
 * the leading space the header edit wants is checked and dropped */
static void
render_case(struct buf *b)
{
	static struct iprev_verdict iv = { AUTH_PASS, "mail.example.org", "192.0.2.10",
	    "confirmed" };
	static struct spf_verdict sm = { .result = AUTH_PASS, .identity = "mailfrom",
	    .sender = "bounce@example.org", .domain = "example.org",
	    .reason = "sender is authorized" };
	static struct spf_verdict sh = { .result = AUTH_SKIPPED, .identity = "helo",
	    .sender = "mail.example.org" };
	static struct dkim_verdict dk[2] = {
		{ .result = AUTH_POLICY, .domain = "example.org", .identity = "@example.org",
		  .selector = "sel1", .alg = "rsa-sha256", .length = 4,
		  .reason = "l= covers 4 of 61 body bytes" },
		{ .result = AUTH_PASS, .domain = "example.org", .selector = "sel2",
		  .alg = "ed25519-sha256", .length = -1 },
	};
	static struct dmarc_verdict dm = { .result = AUTH_PASS,
	    .policy = DMARC_POLICY_REJECT, .applied = DMARC_POLICY_REJECT,
	    .disposition = DMARC_POLICY_NONE, .tag = "p", .from_domain = "example.org",
	    .record_domain = "example.org" };
	struct verdict v = { .iprev = &iv, .spf_mailfrom = &sm, .spf_helo = &sh,
	    .dkim_checked = true, .dkim = dk, .n_dkim = 2, .dmarc_checked = true,
	    .dmarc = &dm };
	char *s = authres_render(&v, ID);

	CHECK(s[0] == ' ', "render: value starts with the space after the colon");
	buf_puts(b, s + (s[0] == ' '));
	free(s);
}

/* build_all - the headers both this test and the parser test look at */
static size_t
build_all(struct built *t, size_t max)
{
	size_t n = 0;
	struct buf *b;

	if (max < 9)
		return 0;

	t[n].name = "full";
	b = &t[n].b;
	authres_begin(b, ID);
	authres_method(b, "iprev", AUTH_PASS, "mail.example.org");
	authres_prop(b, "policy.iprev", "192.0.2.10");
	authres_method(b, "spf", AUTH_PASS, NULL);
	authres_prop(b, "smtp.mailfrom", "user@example.org");
	authres_method(b, "spf", AUTH_NONE, NULL);
	authres_prop(b, "smtp.helo", "mail.example.org");
	authres_method(b, "dkim", AUTH_PASS, "rsa-sha256 2048 bits");
	authres_prop(b, "header.d", "example.org");
	authres_prop(b, "header.i", "@example.org");
	authres_prop(b, "header.s", "sel1");
	authres_prop(b, "header.b", "ab/+cd=E");
	authres_method(b, "dmarc", AUTH_PASS, NULL);
	authres_prop(b, "header.from", "example.org");
	t[n++].want = ID ";\r\n"
	    "\tiprev=pass (mail.example.org) policy.iprev=192.0.2.10;\r\n"
	    "\tspf=pass smtp.mailfrom=user@example.org;\r\n"
	    "\tspf=none smtp.helo=mail.example.org;\r\n"
	    "\tdkim=pass (rsa-sha256 2048 bits) header.d=example.org header.i=@example.org"
	    " header.s=sel1 header.b=\"ab/+cd=E\";\r\n"
	    "\tdmarc=pass header.from=example.org";

	t[n].name = "none";
	authres_begin(&t[n].b, ID);
	authres_none(&t[n].b);
	t[n++].want = ID "; none";

	t[n].name = "injection";
	b = &t[n].b;
	authres_begin(b, ID);
	authres_method(b, "spf", AUTH_FAIL, "evil) dkim=pass (x\r\nX-Evil: 1");
	authres_prop(b, "smtp.mailfrom", "x@a.example;dkim=pass");
	authres_method(b, "dkim", AUTH_FAIL, NULL);
	authres_prop(b, "header.d", "a.example\r\n\tX-Evil: 1");
	t[n++].want = ID ";\r\n"
	    "\tspf=fail (evil? dkim=pass ?x??X-Evil: 1) smtp.mailfrom=invalid;\r\n"
	    "\tdkim=fail header.d=invalid";

	t[n].name = "ipv6";
	b = &t[n].b;
	authres_begin(b, ID);
	authres_method(b, "iprev", AUTH_FAIL, "");
	authres_prop(b, "policy.iprev", "2001:db8::1");
	authres_method(b, "dmarc", AUTH_FAIL, "p=reject");
	authres_prop(b, "header.from", "example.com");
	t[n++].want = ID ";\r\n"
	    "\tiprev=fail policy.iprev=\"2001:db8::1\";\r\n"
	    "\tdmarc=fail (p=reject) header.from=example.com";

	t[n].name = "errors";
	b = &t[n].b;
	authres_begin(b, ID);
	authres_method(b, "spf", AUTH_TEMPERROR, "DNS timeout");
	authres_prop(b, "smtp.mailfrom", "odd local@example.net");
	authres_method(b, "dkim", AUTH_PERMERROR, "bad signature data");
	authres_prop(b, "header.d", "");
	t[n++].want = ID ";\r\n"
	    "\tspf=temperror (DNS timeout) smtp.mailfrom=example.net;\r\n"
	    "\tdkim=permerror (bad signature data) header.d=\"\"";

	/* values that would need RFC 2045 quoted-pair escapes: correct, but parsers
	 * get them wrong (test_authres_parsers.py), so the domain alone or "invalid" */
	t[n].name = "escapes";
	b = &t[n].b;
	authres_begin(b, ID);
	authres_method(b, "spf", AUTH_PASS, NULL);
	authres_prop(b, "smtp.mailfrom", "\"odd local\"@example.net");
	authres_method(b, "dmarc", AUTH_FAIL, NULL);
	authres_prop(b, "header.from", "a\"b\\c.example");
	t[n++].want = ID ";\r\n"
	    "\tspf=pass smtp.mailfrom=example.net;\r\n"
	    "\tdmarc=fail header.from=invalid";

	/* the whole value from a verdict record, as the daemon writes it */
	t[n].name = "render";
	render_case(&t[n].b);
	t[n++].want = ID ";\r\n"
	    "\tiprev=pass (mail.example.org) policy.iprev=192.0.2.10;\r\n"
	    "\tspf=pass (sender is authorized) smtp.mailfrom=bounce@example.org;\r\n"
	    "\tdkim=policy (l= covers 4 of 61 body bytes, l=4) header.d=example.org "
	    "header.i=@example.org header.s=sel1 header.a=rsa-sha256;\r\n"
	    "\tdkim=pass header.d=example.org header.s=sel2 header.a=ed25519-sha256;\r\n"
	    "\tdmarc=pass (p=reject dis=none policy.domain=example.org) "
	    "header.from=example.org policy.dmarc=reject";
	return n;
}

/* dump - NAME HEXVALUE lines for the parser test */
static int
dump(const char *path, struct built *t, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i, j;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	for (i = 0; i < n; i++) {
		fprintf(f, "%s ", t[i].name);
		for (j = 0; j < t[i].b.len; j++)
			fprintf(f, "%02x", (unsigned char)t[i].b.data[j]);
		fprintf(f, "\n");
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

/* values - how single values come out */
static void
values(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "example.com", "example.com" },
		{ "user@example.com", "user@example.com" },
		{ "SRS0=ab=cd@example.com", "SRS0=ab=cd@example.com" },
		{ "@example.com", "@example.com" },
		/* issue 11: nothing a parser that splits on ';', white space or
		 * '(' without honouring quotes would read as structure; a pvalue
		 * that cannot be quoted safely is its domain alone */
		{ "a b", "invalid" },
		{ "a;b", "invalid" },
		{ "a(b)", "invalid" },
		{ "a/b:c", "\"a/b:c\"" },
		{ "x@exa;mple.com", "invalid" },
		{ "\"x;dkim=pass header.d=paypal.example\"@evil.example", "evil.example" },
		{ "\"odd local\"@example.net", "example.net" },
		{ "x (dkim=pass)@evil.example", "evil.example" },
		{ "x@example.com\r\nX-Evil: 1", "invalid" },
		{ "a\nb", "invalid" },
		{ "a\tb", "invalid" },
		{ "a\x7f", "invalid" },
		{ "j\xc3\xb6rg@example.de", "\"j\xc3\xb6rg@example.de\"" },
		{ "bad\xc3(", "invalid" },
		{ "\xed\xa0\x80", "invalid" },	/* a UTF-16 surrogate */
		{ "", "\"\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct buf b = BUF_INIT;

		authres_prop(&b, "header.x", t[i].in);
		CHECK(strncmp(buf_cstr(&b), " header.x=", 10) == 0 &&
		    strcmp(buf_cstr(&b) + 10, t[i].want) == 0, "value case %zu -> %s", i,
		    t[i].want);
		buf_free(&b);
	}
	/* a very long value is not emitted */
	{
		struct buf b = BUF_INIT;
		char big[3000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		authres_prop(&b, "header.x", big);
		CHECK_STR(buf_cstr(&b), " header.x=invalid", "3000-byte value refused");
		buf_free(&b);
	}
	/* an authserv-id is a token or a quoted string, never a bare a@b */
	{
		struct buf b = BUF_INIT;

		authres_begin(&b, "a@b.example");
		CHECK_STR(buf_cstr(&b), "\"a@b.example\"", "authserv-id with @ quoted");
		buf_free(&b);
	}
}

/* comments - authres_comment_safe */
static void
comments(void)
{
	char out[16], tiny[4];

	authres_comment_safe("a(b)c\\d\r\ne\x01" "f\xc3\xb6", out, sizeof(out));
	CHECK_STR(out, "a?b?c?d??e?f??", "comment: specials and 8-bit replaced");
	authres_comment_safe("0123456789abcdefghij", out, sizeof(out));
	CHECK_STR(out, "0123456789abcde", "comment: truncated to the buffer");
	authres_comment_safe("ab   ", tiny, sizeof(tiny));
	CHECK_STR(tiny, "ab", "comment: no trailing blanks");
	authres_comment_safe(NULL, out, sizeof(out));
	CHECK_STR(out, "", "comment: NULL text");
}

/* is_ours - a table of incoming values */
static void
is_ours(void)
{
	static const struct {
		const char *value;
		bool ours;
	} t[] = {
		{ "mx.example.com; spf=pass", true },
		{ " MX.Example.COM; spf=pass", true },
		{ "(comment) mx.example.com ; spf=pass", true },
		{ "(nested (comment) \\) here) mx.example.com; none", true },
		{ "\"mx.example.com\"; dkim=pass", true },
		{ "\"mx.exa\\mple.com\"; dkim=pass", true },
		{ "mx.example.com 1; dkim=pass", true },
		{ "mx.example.com(c)1(d);spf=pass", true },
		{ "\r\n\tmx.example.com;\r\n\tspf=pass", true },
		{ "(a\r\n b)\r\n mx.example.com\r\n 1 ; none", true },
		{ "mx.example.com.; none", true },
		{ "mx.example.com", true },
		{ "\"mx.example.com", true },
		{ "mx.example.com.evil; spf=pass", false },
		{ "evil.mx.example.com; spf=pass", false },
		{ "mx.example.co; spf=pass", false },
		{ "other.example; spf=pass (mx.example.com)", false },
		{ "(mx.example.com) other.example; spf=pass", false },
		{ "\"mx.example.com x\"; none", false },
		{ "", false },
		{ "   ", false },
		{ "(unterminated mx.example.com; none", false },
		{ "; mx.example.com", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(authres_is_ours(t[i].value, strlen(t[i].value), ID) == t[i].ours,
		    "is_ours case %zu: %s", i, t[i].ours ? "ours" : "not ours");
	/* len is respected: the id is cut short */
	CHECK(!authres_is_ours("mx.example.com; none", 10, ID), "is_ours: len respected");
	CHECK(authres_is_ours("mx.example.comXYZ", 14, ID), "is_ours: stops at len");
	CHECK(authres_is_ours("MX.EXAMPLE.COM", 14, "mx.example.com."),
	    "is_ours: our id with a final dot");
}

/* redact - authres_redact: local parts only, names and structure kept */
static void
redact(void)
{
	static const struct { const char *in, *want; } t[] = {
		{ "mx; spf=pass smtp.mailfrom=b@bounce.alpha.test", "mx; spf=pass "
		    "smtp.mailfrom=x@bounce.alpha.test" },
		{ "mx; dkim=fail header.i=@alpha.test header.d=alpha.test", "mx; dkim=fail "
		    "header.i=@alpha.test header.d=alpha.test" },
		{ "mx; auth=pass smtp.auth=jane", "mx; auth=pass smtp.auth=x" },
		{ "mx; spf=pass (jane@a.test is ok) smtp.mailfrom = jane@a.test",
		    "mx; spf=pass (x) smtp.mailfrom = x@a.test" },
		{ "mx; dkim=pass (good) header.i=\"j d\"@a.test header.b=\"x;y\"",
		    "mx; dkim=pass (good) header.i=x@a.test header.b=\"x;y\"" },
		{ "i=1; mx; dmarc=pass header.from=\"jane@a.test\"", "i=1; mx; dmarc=pass "
		    "header.from=\"x@a.test\"" },
		{ "mx; none", "mx; none" },
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "");
		authres_redact(&b, t[i].in, strlen(t[i].in), "x");
		CHECK_STR(buf_cstr(&b), t[i].want, "redact case %zu", i);
	}
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	struct built t[9];
	size_t n, i;
	int rc = 0;

	memset(t, 0, sizeof(t));
	n = build_all(t, sizeof(t) / sizeof(t[0]));
	for (i = 0; i < n; i++)
		CHECK_STR(buf_cstr(&t[i].b), t[i].want, "built header \"%s\"", t[i].name);
	if (argc > 1)
		rc = dump(argv[1], t, n);
	for (i = 0; i < n; i++)
		buf_free(&t[i].b);
	values();
	comments();
	is_ours();
	redact();
	CHECK(rc == 0, "dump written");
	return tap_done();
}
