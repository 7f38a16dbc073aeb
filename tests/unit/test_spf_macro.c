/* test_spf_macro - spf_macro_expand against RFC 7208 §7.4's examples and a table
 * of refusals, each next to the exact outcome. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "spf_macro.h"
#include "tap.h"

#define D	SPF_MACRO_DOMAIN
#define E	SPF_MACRO_EXPLAIN

static const unsigned char IP4[4] = { 192, 0, 2, 3 };
static const unsigned char IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0xcb, 0x01 };

static const struct {
	const char *in;
	enum spf_macro_kind kind;
	const char *want;	/* NULL: refused */
} cases[] = {
	/* RFC 7208 §7.4, sender strong-bad@email.example.com, IP 192.0.2.3 */
	{ "%{s}", D, "strong-bad@email.example.com" },
	{ "%{o}", D, "email.example.com" },
	{ "%{d}", D, "email.example.com" },
	{ "%{d4}", D, "email.example.com" },
	{ "%{d3}", D, "email.example.com" },
	{ "%{d2}", D, "example.com" },
	{ "%{d1}", D, "com" },
	{ "%{dr}", D, "com.example.email" },
	{ "%{d2r}", D, "example.email" },
	{ "%{l}", D, "strong-bad" },
	{ "%{l-}", D, "strong.bad" },
	{ "%{lr}", D, "strong-bad" },
	{ "%{lr-}", D, "bad.strong" },
	{ "%{l1r-}", D, "strong" },
	{ "%{ir}.%{v}._spf.%{d2}", D, "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", D, "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", D,
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", D,
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net", D, "example.com.trusted-domains.example.net" },
	/* the rest of the grammar */
	{ "%{h}", D, "mx.example.org" },
	{ "%{p}", D, "unknown" },
	{ "%{d128}", D, "email.example.com" },
	{ "%{D}", D, "email.example.com" },
	{ "%{L}", D, "strong-bad" },
	{ "%{S}", D, "strong-bad%40email.example.com" },
	{ "%{l+-}", D, "strong.bad" },
	{ "%{dR}", D, "com.example.email" },
	{ "%%%-", D, "%%20" },
	{ "%_", D, " " },
	{ "a%_b", E, "a b" },
	{ "%{c} at %{t} by %{r}", E, "192.0.2.3 at 1700000000 by unknown" },
	{ "", D, "" },
	/* refusals */
	{ "%{c}", D, NULL },
	{ "%{r}", D, NULL },
	{ "%{t}", D, NULL },
	{ "a b", D, NULL },
	{ "%{x}", E, NULL },
	{ "%{d0}", D, NULL },
	{ "%{d129}", D, NULL },
	{ "%{d1000}", D, NULL },
	{ "%{d", D, NULL },
	{ "%{}", D, NULL },
	{ "%{d:}", D, NULL },
	{ "%", D, NULL },
	{ "%a", D, NULL },
	{ "100%", E, NULL },
	{ "tab\there", E, NULL },
	{ "bell\a", E, NULL },
	{ "\xef\xbb\xbf" "Explanation", E, NULL },
	{ "del\x7f", E, NULL },
};

/* expand - one expansion with the §7.4 environment (IPv4) */
static bool
expand(const char *in, enum spf_macro_kind kind, const char *sender, char *out,
    size_t outlen)
{
	struct spf_macro_env env = {
		.sender = sender, .domain = "email.example.com", .helo = "mx.example.org",
		.family = AF_INET, .addr = IP4, .now = 1700000000,
	};

	return spf_macro_expand(in, strlen(in), kind, &env, out, outlen);
}

int
main(void)
{
	char out[SPF_MACRO_MAX_NAME + 1];
	struct spf_macro_env env6 = {
		.sender = "strong-bad@email.example.com", .domain = "email.example.com",
		.helo = "mx.example.org", .family = AF_INET6, .addr = IP6,
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = expand(cases[i].in, cases[i].kind, "strong-bad@email.example.com",
		    out, sizeof(out));
		if (cases[i].want == NULL)
			CHECK(!ok && out[0] == '\0', "case %zu (%s) refused", i, cases[i].in);
		else {
			CHECK(ok, "case %zu (%s) expands", i, cases[i].in);
			CHECK_STR(out, cases[i].want, "case %zu (%s)", i, cases[i].in);
		}
	}

	/* §7.4's IPv6 example, nibbles in upper case as pyspf writes them */
	const char *v6 = "%{ir}.%{v}._spf.%{d2}";
	CHECK(spf_macro_expand(v6, strlen(v6), D, &env6, out, sizeof(out)),
	    "ipv6 expands");
	CHECK_STR(out, "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	    ".ip6._spf.example.com", "ipv6 %%{ir}.%%{v}");
	CHECK(spf_macro_expand("%{c}", 4, E, &env6, out, sizeof(out)) &&
	    strcmp(out, "2001:db8::cb01") == 0, "ipv6 %%{c} (%s)", out);

	/* RFC 7208 suite shapes: no local-part, URL escaping, a space in a value */
	CHECK(expand("%{l}", D, "@example.net", out, sizeof(out)) &&
	    strcmp(out, "postmaster") == 0, "no local-part: postmaster");
	CHECK(expand("%{L}", E, "~jack&jill=up-a_b3.c@e8.example.com", out, sizeof(out)) &&
	    strcmp(out, "~jack%26jill%3Dup-a_b3.c") == 0, "upper-macro (%s)", out);
	CHECK(expand("%{l} in implementation", E, "Macro Error@e8.example.com", out,
	    sizeof(out)) && strcmp(out, "Macro Error in implementation") == 0,
	    "a space from a value is kept in an explanation");
	CHECK(!expand("%{l}", E, "a\rb@example.com", out, sizeof(out)),
	    "a control byte from a value refused");
	CHECK(!expand("%{l}", E, "caf\xc3\xa9@example.com", out, sizeof(out)),
	    "a non-ASCII byte from a value refused");

	/* caps: the output never cut, an over-long value refused */
	CHECK(expand("%{d}", D, "a@b", out, 18) && strcmp(out, "email.example.com") == 0,
	    "output exactly fits");
	CHECK(!expand("%{d}", D, "a@b", out, 17) && out[0] == '\0',
	    "output one byte short: refused, not cut");
	char *big = malloc(SPF_MACRO_MAX_VALUE + 20);
	memset(big, 'a', SPF_MACRO_MAX_VALUE + 1);
	strcpy(big + SPF_MACRO_MAX_VALUE + 1, "@x.example");
	CHECK(!expand("%{l}", D, big, out, sizeof(out)), "value over the cap refused");
	big[SPF_MACRO_MAX_VALUE] = '@';
	big[SPF_MACRO_MAX_VALUE + 1] = '\0';
	CHECK(expand("%{l}", D, big, out, sizeof(out)) &&
	    strlen(out) == SPF_MACRO_MAX_VALUE, "value at the cap kept");
	free(big);
	/* 200 parts: reversed (parts 199..0), then the right-hand 128: 127..0 */
	char many[420];
	size_t k = 0;
	for (int i = 0; i < 200; i++)
		k += (size_t)snprintf(many + k, sizeof(many) - k, "%s%c", i ? "." : "",
		    'a' + i % 26);
	snprintf(many + k, sizeof(many) - k, "@d");
	CHECK(expand("%{l128r}", D, many, out, sizeof(out)) && strlen(out) == 255 &&
	    out[0] == 'x' && out[254] == 'a', "reversed, then the right-hand 128 of 200 parts");
	char in[SPF_MACRO_MAX_IN + 2];
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	CHECK(!spf_macro_expand(in, strlen(in), E, &env6, out, sizeof(out)),
	    "input over SPF_MACRO_MAX_IN refused");

	CHECK(spf_macro_uses("connect from %{p}", 17, 'p'), "uses p");
	CHECK(spf_macro_uses("%{P2r}", 6, 'p'), "uses P");
	CHECK(!spf_macro_uses("%%{p}", 5, 'p'), "%%%%{p} is a literal");
	CHECK(!spf_macro_uses("%{d}", 4, 'p'), "does not use p");
	return tap_done();
}
