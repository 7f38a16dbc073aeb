/* dns_name - the one rule for a domain name: dns_name_ok(name, flags).
 *
 * Every place that decides whether a string is a usable domain name (a name we
 * look up, a d= or s= we verify or sign with, a From domain, a pvalue in
 * Authentication-Results, the SPF identities, authmilter-keygen's arguments) calls
 * this with the flags that say how its use differs. Pure, no allocation.
 *
 * Always: 1..253 octets without the final dot, labels of 1..63 octets (RFC 1035
 * §2.3.4), no empty label, no NUL. A final dot is allowed unless
 * DNS_NAME_NO_FINAL_DOT. Without a character flag, a label octet may be anything
 * but a blank, a control, DEL or a backslash (a host or domain name we were given:
 * RFC 2181 §11 allows more, but such a name cannot come from a valid peer and its
 * text form would need escaping).
 */
#ifndef AUTHMILTER_DNS_NAME_H
#define AUTHMILTER_DNS_NAME_H

#include <stdbool.h>

/* a name built by an SPF macro: any octet but NUL in a label (RFC 2181 §11; RFC 7208
 * §7.3's `%_` gives a space), escaped by dns_query_start_flags */
#define DNS_NAME_MACRO		0x01
/* A-labels only: ASCII letters, digits and '-' (RFC 5890 §2.3.2.1, RFC 5321
 * sub-domain), so no U-label and nothing that needs quoting in a header */
#define DNS_NAME_ALABEL		0x02
/* with DNS_NAME_ALABEL, '_' too: selectors and _dmarc-style labels (RFC 8552), and
 * the underscore domains deployed in d= and From */
#define DNS_NAME_UNDERSCORE	0x04
/* no final dot: the name as header text (d=, s=, pvalues), not as a query */
#define DNS_NAME_NO_FINAL_DOT	0x08
/* a host's domain as SPF checks it (RFC 7208 §4.3): at least two labels, the top
 * one not all digits, not an address literal ('[' first) */
#define DNS_NAME_FQDN		0x10

/* a domain as header text, one rule so that what DMARC aligns parsed alike: the
 * From domain (after normalising to A-labels), d= and s= of the signatures we make
 * and of those we verify (RFC 6376 §3.5), A-R pvalues (RFC 8601 §2.2); the
 * selectors of milter.conf and authmilter-keygen's -d and -s */
#define DNS_NAME_HEADER	(DNS_NAME_ALABEL | DNS_NAME_UNDERSCORE | DNS_NAME_NO_FINAL_DOT)

/* dns_name_ok - name is a domain name under the rules flags select (above) */
bool	 dns_name_ok(const char *name, unsigned flags);

#endif
