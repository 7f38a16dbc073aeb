/* rfc5322 - address parsing of the From header (RFC 5322 §3.4, RFC 2047 aware).
 *
 * Pure functions over one header value: quoted display names, comments, angle
 * brackets, groups, obsolete routes. The domain comes back lower case and, for an
 * IDN, as A-labels (libidn2).
 */
#ifndef AUTHMILTER_RFC5322_H
#define AUTHMILTER_RFC5322_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define RFC5322_MAX_ADDRS	64	/* addresses we look at in one From */

enum from_status {
	FROM_OK = 0,		/* one address, or several all in one domain */
	FROM_MULTIPLE_DOMAINS,	/* addresses in different domains */
	FROM_NO_ADDRESS,	/* empty, "<>", or only a group with no members */
	FROM_NO_DOMAIN,		/* an address without @domain */
	FROM_SYNTAX		/* unparsable, or the domain is not a valid name */
};

struct from_address {
	enum from_status status;
	size_t	 n_addrs;		/* addresses found */
	char	 domain[256];		/* when FROM_OK: the domain, lower case A-label */
	char	 local[256];		/* the first address's local part */
};

/* rfc5322_parse_from - parse one From value (raw, CRLF inside folds allowed) */
enum from_status rfc5322_parse_from(const char *value, size_t len, struct from_address *out);
/* rfc5322_redact_addresses - append to out the address list value[0..len) (any
 * address field: From, To, Cc, Reply-To, ...) with every display name, group name
 * and local part replaced by word: "word <word@domain>", "word@domain",
 * "word: ...;", "<>" kept, comments dropped, domains as A-labels when valid;
 * false (out as it was) when the value is not an address list */
bool	 rfc5322_redact_addresses(const char *value, size_t len, const char *word,
	    struct buf *out);
/* rfc5322_from_status_name - "ok", "multiple-domains", ... */
const char *rfc5322_from_status_name(enum from_status s);
/* rfc5322_domain_normalise - lower case, A-label, no final dot; false when invalid */
bool	 rfc5322_domain_normalise(const char *in, char *out, size_t outlen);

#endif
