/* dns_name - the one rule for a name we may look up (dns_name_ok, see dns.h).
 *
 * Pure, in a file of its own so that the fuzzers' fake resolver (tests/fuzz/
 * fake_dns.c, linked in place of dns.c) applies the same rule.
 */
#include "config.h"

#include <string.h>

#include "dns.h"

/* dns_name_ok - may this query name exist in the DNS? See dns.h for the flags */
bool
dns_name_ok(const char *name, unsigned flags)
{
	size_t len = strlen(name), i, label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME_TEXT)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		/* a host or domain name we are given never holds whitespace,
		 * controls or a backslash; a macro-built one may hold any octet
		 * (RFC 2181 §11), which dns_query_start_flags escapes */
		if ((flags & DNS_NAME_MACRO) == 0 && (c <= ' ' || c == 0x7f || c == '\\'))
			return false;
		if (++label > DNS_MAX_LABEL)
			return false;
	}
	return label > 0;
}
