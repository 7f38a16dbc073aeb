/* dns_name - the one rule for a domain name (dns_name_ok, see dns_name.h).
 *
 * Pure, in a file of its own so that the fuzzers' fake resolver (tests/fuzz/
 * fake_dns.c, linked in place of dns.c) applies the same rule.
 */
#include "config.h"

#include <string.h>

#include "dns_answer.h"
#include "dns_name.h"

/* dns_name_octet_ok - may c stand in a label under these flags */
static bool
dns_name_octet_ok(unsigned char c, unsigned flags)
{
	if (flags & DNS_NAME_ALABEL)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' ||
		    (c == '_' && (flags & DNS_NAME_UNDERSCORE));
	if (flags & DNS_NAME_MACRO)
		return true;
	return c > ' ' && c != 0x7f && c != '\\';
}

/* dns_name_top_numeric - the last label of name[0..len) is all digits */
static bool
dns_name_top_numeric(const char *name, size_t len)
{
	size_t i = len;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	return i == 0 || name[i - 1] == '.';
}

/* dns_name_ok - is name a domain name under these rules? See dns_name.h */
bool
dns_name_ok(const char *name, unsigned flags)
{
	size_t len = strlen(name), i, label = 0, labels = 1;

	if (len > 0 && name[len - 1] == '.') {
		if (flags & DNS_NAME_NO_FINAL_DOT)
			return false;
		len--;
	}
	if (len == 0 || len > DNS_MAX_NAME_TEXT)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (!dns_name_octet_ok(c, flags))
			return false;
		if (++label > DNS_MAX_LABEL)
			return false;
	}
	if (label == 0)
		return false;
	if (flags & DNS_NAME_FQDN)
		return labels >= 2 && name[0] != '[' && !dns_name_top_numeric(name, len);
	return true;
}
