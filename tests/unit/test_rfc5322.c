/* test_rfc5322 - the From parser against a table of values and exact verdicts.
 *
 * Each value is passed as (pointer, length) from a heap copy with no NUL after it,
 * so a read past the end shows up under valgrind/ASan.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rfc5322.h"
#include "tap.h"

struct from_case {
	const char	*value;
	enum from_status status;
	const char	*domain;	/* when FROM_OK */
	size_t		 n_addrs;	/* ANY: not checked (syntax errors stop early) */
};

#define ANY	((size_t)-1)

static const struct from_case cases[] = {
	{ "john@example.com", FROM_OK, "example.com", 1 },
	{ "John Doe <john@example.com>", FROM_OK, "example.com", 1 },
	{ "\"Doe, John\" <john@Example.COM>", FROM_OK, "example.com", 1 },
	{ "\"Doe \\\"JD\\\", John\" <john@example.com>", FROM_OK, "example.com", 1 },
	{ "john@example.com (John (the (real) one) Doe)", FROM_OK, "example.com", 1 },
	{ "(c) John (x) <(y) john (z) @ (w) example.com (v)> (u)", FROM_OK,
	    "example.com", 1 },
	{ "<@route.example,@other.example:john@example.com>", FROM_OK, "example.com", 1 },
	{ "\"john doe\"@example.com", FROM_OK, "example.com", 1 },
	{ "John\r\n Doe\r\n\t<john@example.com>", FROM_OK, "example.com", 1 },
	{ "John Q. Public <john@example.com>", FROM_OK, "example.com", 1 },
	{ "=?utf-8?q?J=C3=B6rg?= <j@example.de>", FROM_OK, "example.de", 1 },
	{ "user@b\xc3\xbc" "cher.example", FROM_OK, "xn--bcher-kva.example", 1 },
	{ "user@example.com.", FROM_OK, "example.com", 1 },
	{ "a@b.example, c@B.example", FROM_OK, "b.example", 2 },
	{ "a@b.example, c@d.example", FROM_MULTIPLE_DOMAINS, "", 2 },
	{ "undisclosed: a@b.example, c@d.example;", FROM_MULTIPLE_DOMAINS, "", 2 },
	{ "team: a@b.example, c@b.example;", FROM_OK, "b.example", 2 },
	{ "a@b.example,, ,c@b.example", FROM_OK, "b.example", 2 },
	/* RFC 5322: comments are CFWS, legal around obs-domain atoms */
	{ "x@exa(mple).com", FROM_OK, "exa.com", 1 },
	{ "x@exa (mple) . com", FROM_OK, "exa.com", 1 },
	{ "", FROM_NO_ADDRESS, "", 0 },
	{ "   (only a comment) ", FROM_NO_ADDRESS, "", 0 },
	{ "<>", FROM_NO_ADDRESS, "", 0 },
	{ "undisclosed-recipients:;", FROM_NO_ADDRESS, "", 0 },
	{ "Undisclosed recipients: ;", FROM_NO_ADDRESS, "", 0 },
	{ "<>, a@b.example", FROM_OK, "b.example", 1 },
	{ "john", FROM_NO_DOMAIN, "", 1 },
	{ "John <john>", FROM_NO_DOMAIN, "", 1 },
	{ "a@b.example, john", FROM_NO_DOMAIN, "", 2 },
	{ "x@exa;mple.com", FROM_SYNTAX, "", ANY },
	{ "x@exa/mple.com", FROM_SYNTAX, "", ANY },
	{ "x@exa\r\nmple.com", FROM_SYNTAX, "", ANY },
	{ "x@example..com", FROM_SYNTAX, "", ANY },
	{ "x@.example.com", FROM_SYNTAX, "", ANY },
	{ "x@", FROM_SYNTAX, "", ANY },
	{ "x@[192.0.2.1]", FROM_SYNTAX, "", ANY },
	{ "X <x@[192.0.2.1]>", FROM_SYNTAX, "", ANY },
	{ "\"unterminated <x@example.com>", FROM_SYNTAX, "", ANY },
	{ "x@example.com (unterminated (comment)", FROM_SYNTAX, "", ANY },
	{ "John <x@example.com", FROM_SYNTAX, "", ANY },
	{ "John Doe", FROM_SYNTAX, "", ANY },
	{ "a b@example.com", FROM_SYNTAX, "", ANY },
	{ "g: a@b.example", FROM_SYNTAX, "", ANY },
	{ "a@b.example; c@b.example", FROM_SYNTAX, "", ANY },
	{ "x@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    FROM_SYNTAX, "", ANY },	/* a 64-byte label */
	{ "x@xn--bcher-kva.example", FROM_OK, "xn--bcher-kva.example", 1 },
	{ "x@b\xff\xfe.example", FROM_SYNTAX, "", ANY },	/* not UTF-8 */
	{ "x@exa_mple.com", FROM_OK, "exa_mple.com", 1 },
	{ "<x@b.example> <y@b.example>", FROM_SYNTAX, "", ANY },
	{ "a@b.example, g: c@b.example;, d@b.example", FROM_OK, "b.example", 3 },
	{ "g1: g2: a@b.example;;", FROM_SYNTAX, "", ANY },
};

/* run_case - parse value from an exact-size heap copy */
static void
run_case(const char *name, const char *value, size_t len, enum from_status want,
    const char *domain, size_t n_addrs)
{
	struct from_address fa;
	char *copy = malloc(len ? len : 1), shown[48];
	enum from_status got;
	size_t i;

	if (copy == NULL)
		abort();
	/* a printable, short test name */
	for (i = 0; i < sizeof(shown) - 1 && name[i] != '\0'; i++)
		shown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '.';
	shown[i] = '\0';
	name = shown;
	memcpy(copy, value, len);
	got = rfc5322_parse_from(copy, len, &fa);
	CHECK(got == want && fa.status == want, "%s: status %s (want %s)", name,
	    rfc5322_from_status_name(got), rfc5322_from_status_name(want));
	CHECK_STR(fa.domain, domain, "%s: domain", name);
	CHECK(n_addrs == ANY || fa.n_addrs == n_addrs, "%s: %zu addresses (want %zu)", name, fa.n_addrs,
	    n_addrs);
	free(copy);
}

/* big_values - long and many-address values stay bounded */
static void
big_values(void)
{
	struct from_address fa;
	char *v = malloc(10240 + 64);
	size_t i, n;

	if (v == NULL)
		abort();
	/* 10 KB display name */
	v[0] = '"';
	for (i = 1; i < 10240; i++)
		v[i] = 'a';
	memcpy(v + i, "\" <x@example.com>", 17);
	run_case("10KB display name", v, i + 17, FROM_OK, "example.com", 1);
	/* 10 KB local part: kept out of fa.local, still counted */
	memcpy(v + 10240 - 12, "@example.com", 12);
	rfc5322_parse_from(v + 1, 10240 - 1, &fa);
	CHECK(fa.status == FROM_OK && fa.local[0] == '\0', "10KB local part: ok, not kept");
	/* 10 KB domain */
	memcpy(v, "x@", 2);
	for (i = 2; i < 10240; i++)
		v[i] = (i % 60 == 0) ? '.' : 'b';
	run_case("10KB domain", v, 10240, FROM_SYNTAX, "", ANY);
	/* 10 KB of nested comments, unterminated */
	for (i = 0; i < 10240; i++)
		v[i] = '(';
	run_case("10KB open comments", v, 10240, FROM_SYNTAX, "", ANY);
	free(v);

	/* more addresses than RFC5322_MAX_ADDRS */
	v = malloc(16 * (RFC5322_MAX_ADDRS + 2));
	if (v == NULL)
		abort();
	n = 0;
	for (i = 0; i < RFC5322_MAX_ADDRS + 1; i++) {
		memcpy(v + n, "a@b.example, ", 13);
		n += 13;
	}
	run_case("cap + 1 addresses", v, n, FROM_SYNTAX, "", RFC5322_MAX_ADDRS);
	run_case("cap addresses", v, 13 * RFC5322_MAX_ADDRS, FROM_OK, "b.example",
	    RFC5322_MAX_ADDRS);
	free(v);
}

/* local_and_bounds - the local part, and a value cut off by len */
static void
local_and_bounds(void)
{
	struct from_address fa;

	rfc5322_parse_from("\"john \\\"x\\\" doe\"@example.com", 28, &fa);
	CHECK_STR(fa.local, "john \"x\" doe", "quoted local part unescaped");
	/* len stops before ".evil": the parser must not look past it */
	rfc5322_parse_from("a@example.com.evil", 11, &fa);
	CHECK(fa.status == FROM_OK, "len respected: status");
	CHECK_STR(fa.domain, "example.c", "len respected: domain");
	rfc5322_parse_from(NULL, 0, &fa);
	CHECK(fa.status == FROM_NO_ADDRESS, "NULL value");
	/* an embedded NUL is not atext */
	run_case("embedded NUL", "a@exa\0mple.com", 14, FROM_SYNTAX, "", 1);
}

/* normalise - rfc5322_domain_normalise on its own */
static void
normalise(void)
{
	static const struct {
		const char *in, *out;	/* out NULL: refused */
	} t[] = {
		{ "Example.COM.", "example.com" },
		{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example" },
		{ "fa\xc3\x9f.de", "xn--fa-hia.de" },	/* non-transitional: ß kept */
		{ "", NULL },
		{ ".", NULL },
		{ "a..b", NULL },
		{ "a;b", NULL },
		{ "a(b", NULL },
		{ "a b", NULL },
		{ "a\r\nb", NULL },
	};
	char out[256], small[4];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool ok = rfc5322_domain_normalise(t[i].in, out, sizeof(out));

		if (t[i].out == NULL)
			CHECK(!ok, "normalise case %zu refused", i);
		else
			CHECK(ok && strcmp(out, t[i].out) == 0, "normalise \"%s\" -> %s (%s)",
			    t[i].in, t[i].out, ok ? out : "refused");
	}
	CHECK(!rfc5322_domain_normalise("example.com", small, sizeof(small)),
	    "normalise: too small an output buffer refused");
}

/* redact - rfc5322_redact_addresses: display names, group names and local parts
 * replaced; a value that is not an address list leaves out as it was */
static void
redact(void)
{
	static const struct { const char *in, *want; } t[] = {
		{ "\"Roe, Jane\" <jane.roe@example.net>", "x <x@example.net>" },
		{ "jane.roe (home) @example.net", "x@example.net" },
		{ "=?UTF-8?Q?jane.roe=40example.net?= <a@B.example>", "x <x@b.example>" },
		{ "a@x.example,, <b@y.example>, <>", "x@x.example, x@y.example, <>" },
		{ "G: a@x.example;, b@[192.0.2.1]", "x: x@x.example;, x@[192.0.2.1]" },
		{ "<@route.example:a@x.example>", "x@x.example" },
		{ "undisclosed-recipients:;", "x: ;" },
		{ "nobody", "x" },
	};
	static const char *const bad[] = { "jane\\\"@example.net", "a@", "G: a@x.example",
	    "(open", "\"open@x.example" };
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "");
		CHECK(rfc5322_redact_addresses(t[i].in, strlen(t[i].in), "x", &b) &&
		    strcmp(buf_cstr(&b), t[i].want) == 0, "redact case %zu: %s", i, buf_cstr(&b));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "kept");
		CHECK(!rfc5322_redact_addresses(bad[i], strlen(bad[i]), "x", &b) &&
		    strcmp(buf_cstr(&b), "kept") == 0, "redact bad case %zu refused, out as it "
		    "was", i);
	}
	buf_free(&b);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(cases[i].value, cases[i].value, strlen(cases[i].value),
		    cases[i].status, cases[i].domain, cases[i].n_addrs);
	big_values();
	local_and_bounds();
	normalise();
	redact();
	return tap_done();
}
