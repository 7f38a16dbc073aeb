/* test_dns_name - dns_name_ok, the one rule for domain names, under each set of
 * flags its callers use. The rows marked "changed" are inputs on which the checks
 * it replaced disagreed; the comment says which outcome moved and why. */
#include "config.h"

#include <string.h>

#include "dns_name.h"
#include "tap.h"

/* what each column asks */
#define PLAIN	0				/* a name we look up */
#define MACRO	DNS_NAME_MACRO			/* a name an SPF macro built */
#define HEADER	DNS_NAME_HEADER			/* From domain, d=, s=, pvalues */
#define FQDN	DNS_NAME_FQDN			/* SPF MAIL FROM and HELO domain */
#define LDH	DNS_NAME_ALABEL			/* A-labels, no underscore */

static const struct {
	const char *name;
	bool plain, macro, header, fqdn, ldh;
} cases[] = {
	{ "example.com", true, true, true, true, true },
	{ "EXAMPLE.com", true, true, true, true, true },
	{ "example.com.", true, true, false, true, true },
	{ "_spf.example.com", true, true, true, true, false },
	{ "sel_1", true, true, true, false, false },
	{ "localhost", true, true, true, false, true },
	{ "xn--bcher-kva.example", true, true, true, true, true },
	{ "ex-ample.com", true, true, true, true, true },
	{ "", false, false, false, false, false },
	{ ".", false, false, false, false, false },
	{ "a..b", false, false, false, false, false },
	{ ".example.com", false, false, false, false, false },
	{ "example.com..", false, false, false, false, false },
	/* an address is not a domain for SPF; a name may still be looked up */
	{ "192.0.2.1", true, true, true, false, true },
	{ "example.123", true, true, true, false, true },
	{ "123.example", true, true, true, true, true },
	{ "[192.0.2.1]", true, true, false, false, false },
	/* RFC 7208 suite macro-mania-in-domain: `%_` puts a space in a label */
	{ "macro%percent  space%20url-space.example.com", false, true, false, false, false },
	{ "tab\there.example", false, true, false, false, false },
	{ "del\x7f.example", false, true, false, false, false },
	/* changed: spf_domain_ok took a backslash, which no RFC 5321 domain or
	 * address literal holds; SPF now says none (RFC 7208 §4.3, malformed) */
	{ "back\\slash.example", false, true, false, false, false },
	/* a U-label: looked up as given, never in a header */
	{ "b\xc3\xbc" "cher.example", true, true, false, true, false },
	{ "a@b.example", true, true, false, true, false },
	{ "a;b.example", true, true, false, true, false },
	{ "a\"b.example", true, true, false, true, false },
	{ "a/b.example", true, true, false, true, false },
	/* 63 octets in a label; 64 is too many under every rule. changed: the A-R
	 * pvalue check and authmilter-keygen took 64 and more, dkim_sign_token_ok
	 * any length (RFC 1035 §2.3.4) */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", true,
	  true, true, true, true },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  false, false, false, false, false },
	/* changed: dkim_sign_token_ok and milter.conf's selector check took empty
	 * labels and a final dot, which no verifier (ours included) takes in d= or s= */
	{ "sel.", true, true, false, false, true },
	{ ".sel", false, false, false, false, false },
	{ "s..el", false, false, false, false, false },
};

int
main(void)
{
	char big[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;

		CHECK(dns_name_ok(n, PLAIN) == cases[i].plain, "case %zu plain", i);
		CHECK(dns_name_ok(n, MACRO) == cases[i].macro, "case %zu macro", i);
		CHECK(dns_name_ok(n, HEADER) == cases[i].header, "case %zu header", i);
		CHECK(dns_name_ok(n, FQDN) == cases[i].fqdn, "case %zu fqdn", i);
		CHECK(dns_name_ok(n, LDH) == cases[i].ldh, "case %zu A-labels", i);
	}
	/* 253 octets without the final dot, 254 too many, under every rule */
	memset(big, 'a', sizeof(big));
	for (size_t i = 63; i < 253; i += 64)
		big[i] = '.';
	big[253] = '\0';
	CHECK(dns_name_ok(big, PLAIN) && dns_name_ok(big, MACRO) && dns_name_ok(big, HEADER) &&
	    dns_name_ok(big, FQDN), "253 octets");
	big[253] = '.';
	big[254] = '\0';
	CHECK(dns_name_ok(big, PLAIN) && !dns_name_ok(big, HEADER), "253 octets and a final dot");
	big[253] = 'a';
	CHECK(!dns_name_ok(big, PLAIN) && !dns_name_ok(big, MACRO) && !dns_name_ok(big, HEADER) &&
	    !dns_name_ok(big, FQDN), "254 octets");
	return tap_done();
}
