/* test_spf_record - the SPF record screen and rewrite (spf_record.c) against a
 * table: each record next to the text libspf2 is given, or the exact refusal. */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "spf_record.h"
#include "tap.h"

static const struct {
	const char *rec;
	const char *out;	/* NULL: refused */
	const char *why;	/* the refusal */
} cases[] = {
	{ "v=spf1 -all", "v=spf1 -all", NULL },
	{ "v=spf1 ip4:192.0.2.0/24 mx a:mail.example.com ~all",
	  "v=spf1 +ip4:192.0.2.0/24 +mx +a:mail.example.com ~all", NULL },
	/* exp= and unknown modifiers go; redirect= goes beside "all" (§6.1) */
	{ "v=spf1 -all exp=explain.%{d} foo=bar redirect=other.example",
	  "v=spf1 -all", NULL },
	{ "v=spf1 include:_spf.example.net redirect=other.example",
	  "v=spf1 +include:_spf.example.net redirect=other.example", NULL },
	/* libspf2 refuses /0: two halves, or a marked name for a and mx */
	{ "v=spf1 ip4:0.0.0.0/0", "v=spf1 +ip4:0.0.0.0/1 +ip4:128.0.0.0/1", NULL },
	{ "v=spf1 a/0", "v=spf1 +a:%{d}" SPF_RECORD_ZERO4 "/1", NULL },
	{ "v=spf1 mx:example.org//0", "v=spf1 +mx:example.org" SPF_RECORD_ZERO6 "//1",
	  NULL },
	{ "v=spf1 a:%{d2}.example.com -all", "v=spf1 +a:%{d2}.example.com -all", NULL },
	{ "v=spf1 redirect=a.example redirect=b.example", NULL,
	  "redirect= or exp= given twice" },
	{ "v=spf1 bogus:example.com", NULL, "unknown SPF mechanism" },
	{ "v=spf1 all:x", NULL, "invalid all mechanism" },
	{ "v=spf1 include", NULL, "mechanism needs a domain" },
	{ "v=spf1 ip4:192.0.2.300", NULL, "invalid IP address in SPF record" },
	{ "v=spf1 ip4:192.0.2.0/33", NULL, "invalid CIDR length in SPF record" },
	{ "v=spf1 a:%{x}.example", NULL, "invalid macro letter" },
	{ "v=spf1 a:%{d", NULL, "unterminated macro" },
	{ "v=spf1 a:50%.example", NULL, "stray percent sign in SPF record" },
	{ "v=spf1 a:%{d999}.example", NULL, "macro digit transformer too large" },
	{ "v=spf1 a:%{D2r}.example", NULL, "URL-escaped reversed macro" },
	{ "v=spf1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}.example", NULL,
	  "too many macros in one SPF term" },
	{ "v=spf1 a:ex\x01" "ample.com", NULL, "control or non-ASCII byte in SPF record" },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;
		const char *why = spf_record_rewrite(cases[i].rec, strlen(cases[i].rec),
		    &out, NULL, NULL);

		if (cases[i].out != NULL) {
			CHECK(why == NULL, "case %zu accepted (%s)", i, why ? why : "");
			CHECK_STR(buf_cstr(&out), cases[i].out, "case %zu rewritten", i);
		} else {
			CHECK_STR(why, cases[i].why, "case %zu refused", i);
		}
		CHECK((spf_record_screen(cases[i].rec, strlen(cases[i].rec)) == NULL) ==
		    (cases[i].out != NULL), "case %zu screen agrees", i);
		buf_free(&out);
	}

	const char *exp = NULL;
	size_t exp_len = 0;
	CHECK(spf_record_rewrite("v=spf1 -all exp=explain.%{d}", 28, NULL, &exp,
	    &exp_len) == NULL && exp_len == 12 && memcmp(exp, "explain.%{d}", 12) == 0,
	    "exp= domain-spec handed back");
	CHECK(spf_record_is_spf("v=spf1", 6) && spf_record_is_spf("V=SPF1 -all", 11) &&
	    !spf_record_is_spf("v=spf10 -all", 12) && !spf_record_is_spf("v=spf", 5),
	    "v=spf1 version test (§4.5)");
	CHECK(spf_record_terms("v=spf1  +a  -all ") == 2 && spf_record_terms("v=spf1") == 0,
	    "terms counted");
	return tap_done();
}
