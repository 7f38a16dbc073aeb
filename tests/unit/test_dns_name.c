/* test_dns_name - dns_name_ok's one rule, with and without DNS_NAME_MACRO. */
#include "config.h"

#include <string.h>

#include "dns.h"
#include "tap.h"

static const struct {
	const char *name;
	bool plain;	/* dns_name_ok(name, 0) */
	bool macro;	/* dns_name_ok(name, DNS_NAME_MACRO) */
} cases[] = {
	{ "example.com", true, true },
	{ "example.com.", true, true },
	{ "_spf.example.com", true, true },
	{ "", false, false },
	{ ".", false, false },
	{ "a..b", false, false },
	{ ".example.com", false, false },
	/* RFC 7208 suite macro-mania-in-domain: `%_` puts a space in a label */
	{ "macro%percent  space%20url-space.example.com", false, true },
	{ "tab\there.example", false, true },
	{ "back\\slash.example", false, true },
	{ "del\x7f.example", false, true },
	{ "b\xc3\xbc" "cher.example", true, true },
	/* 63 octets in a label; 64 is too many either way */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", true,
	  true },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  false, false },
};

int
main(void)
{
	char big[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(dns_name_ok(cases[i].name, 0) == cases[i].plain, "case %zu plain", i);
		CHECK(dns_name_ok(cases[i].name, DNS_NAME_MACRO) == cases[i].macro,
		    "case %zu macro", i);
	}
	/* 253 octets without the final dot, 254 too many */
	memset(big, 'a', sizeof(big));
	for (size_t i = 63; i < 253; i += 64)
		big[i] = '.';
	big[253] = '\0';
	CHECK(dns_name_ok(big, 0) && dns_name_ok(big, DNS_NAME_MACRO), "253 octets");
	big[253] = 'a';
	big[254] = '\0';
	CHECK(!dns_name_ok(big, 0) && !dns_name_ok(big, DNS_NAME_MACRO), "254 octets");
	return tap_done();
}
