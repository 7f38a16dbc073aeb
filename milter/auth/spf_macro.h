/* spf_macro - RFC 7208 §7 macro expansion, our own: libspf2's expander never sees
 * an explanation (CVE-2023-42118 and its relatives live there).
 *
 * Pure: the inputs are in struct spf_macro_env, the output goes into the caller's
 * buffer. Every length is capped, and a result that would not fit is refused,
 * never cut: an explanation is whole or absent.
 */
#ifndef AUTHMILTER_SPF_MACRO_H
#define AUTHMILTER_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

#define SPF_MACRO_MAX_IN	1024	/* bytes of a macro-string read: a domain-spec
					 * or one explanation TXT record */
#define SPF_MACRO_MAX_VALUE	512	/* bytes of one macro letter's value */
#define SPF_MACRO_MAX_DIGITS	128	/* transformer parts (RFC 7208 §7.1 asks 128) */
#define SPF_MACRO_MAX_EXP	200	/* bytes of an expanded explanation: it goes into
					 * a 550 reply of at most 256 bytes with its prefix */
#define SPF_MACRO_MAX_NAME	1024	/* bytes of an expanded domain-spec before the
					 * §7.3 truncation to 253 */

/* What the macro-string is: a domain-spec (c, r, t and SP not allowed) or an
 * explain-string (RFC 7208 §6.2, §7.1). */
enum spf_macro_kind {
	SPF_MACRO_DOMAIN,
	SPF_MACRO_EXPLAIN
};

/* The values of the macro letters; strings are NUL-terminated, NULL for
 * p and r means "unknown". */
struct spf_macro_env {
	const char	*sender;	/* s: local-part@domain as checked */
	const char	*domain;	/* d: the current domain */
	const char	*helo;		/* h */
	int		 family;	/* AF_INET or AF_INET6: i, c, v */
	const unsigned char *addr;	/* 4 or 16 octets, network order */
	const char	*ptr;		/* p: a validated name of addr */
	const char	*receiver;	/* r */
	long long	 now;		/* t */
};

/* spf_macro_expand - expand in[len] into out[outlen] (NUL-terminated). False,
 * with out empty, when the string is malformed, uses a letter its kind does not
 * allow, holds or produces a byte outside printable ASCII (SP included), has a
 * value longer than SPF_MACRO_MAX_VALUE, or the result does not fit outlen. */
bool	 spf_macro_expand(const char *in, size_t len, enum spf_macro_kind kind,
	    const struct spf_macro_env *env, char *out, size_t outlen);

/* spf_macro_uses - does the macro-string use this letter (either case)? False for
 * a malformed string. Lets a caller do the costly p lookups only when needed. */
bool	 spf_macro_uses(const char *in, size_t len, char letter);

#endif
