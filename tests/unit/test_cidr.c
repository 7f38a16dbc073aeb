/* test_cidr - range parsing and matching, each input beside its verdict. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cidr.h"
#include "tap.h"

static const struct {
	const char *text;
	bool ok;
} parse_cases[] = {
	{ "127.0.0.0/8", true },
	{ "192.0.2.10", true },
	{ "0.0.0.0/0", true },
	{ "::1/128", true },
	{ "2001:db8::/32", true },
	{ "::ffff:192.0.2.1", true },
	{ "", false },
	{ "/8", false },
	{ "127.0.0.0/", false },
	{ "127.0.0.0/33", false },
	{ "2001:db8::/129", false },
	{ "127.0.0.0/8x", false },
	{ "127.0.0.0/-1", false },
	{ "127.0.0/8", false },
	{ "example.com", false },
	{ "1.2.3.4/0008", false },
	{ "192.0.2.300", false },
};

static const struct {
	const char *range, *addr;
	bool match;
} match_cases[] = {
	{ "127.0.0.0/8", "127.1.2.3", true },
	{ "127.0.0.0/8", "128.0.0.1", false },
	{ "192.0.2.128/25", "192.0.2.200", true },
	{ "192.0.2.128/25", "192.0.2.127", false },
	{ "192.0.2.0/24", "::ffff:192.0.2.9", true },	/* v4-mapped */
	{ "2001:db8::/32", "2001:db8:1::5", true },
	{ "2001:db8::/32", "2001:db9::5", false },
	{ "::1/128", "127.0.0.1", false },
	{ "0.0.0.0/0", "203.0.113.1", true },
	{ "10.0.0.1", "10.0.0.1", true },
	{ "10.0.0.1", "10.0.0.2", false },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct cidr c;

		CHECK(cidr_parse(parse_cases[i].text, &c) == parse_cases[i].ok,
		    "cidr_parse(\"%s\") is %s", parse_cases[i].text,
		    parse_cases[i].ok ? "valid" : "invalid");
	}
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		struct cidr c;
		struct cidr_list l = { &c, 1 };
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		if (strchr(match_cases[i].addr, ':') != NULL) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, match_cases[i].addr, &s6->sin6_addr);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			inet_pton(AF_INET, match_cases[i].addr, &s4->sin_addr);
		}
		CHECK(cidr_parse(match_cases[i].range, &c) &&
		    cidr_list_match(&l, (struct sockaddr *)&ss) == match_cases[i].match,
		    "%s %s %s", match_cases[i].addr,
		    match_cases[i].match ? "is in" : "is not in", match_cases[i].range);
	}
	return tap_done();
}
