/* spf_macro - RFC 7208 §7 macro expansion for exp= (domain-spec and explanation).
 *
 * spf_macro_expand: a macro-string to text, into the caller's buffer.
 * spf_macro_uses: whether a macro-string uses a letter.
 * Pure functions over their inputs; nothing is allocated. The grammar (§7.1):
 *   macro-expand = "%{" letter *DIGIT ["r"] *delimiter "}" / "%%" / "%_" / "%-"
 *   macro-literal = %x21-24 / %x26-7E, and SP between parts of an explain-string
 * A value is split on its delimiters (default "."), reversed with "r", cut to the
 * right-hand DIGIT parts, joined with "."; an upper-case letter URL-escapes it.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "spf_macro.h"

#define SPF_MACRO_DELIMS	".-+,/_="
#define SPF_MACRO_MAX_PARTS	(SPF_MACRO_MAX_VALUE + 1)	/* of one value */

/* Output under construction: never beyond cap, and a flag once it would be. */
struct spf_macro_out {
	char	*p;
	size_t	 len, cap;	/* cap excludes the NUL */
	bool	 full;
};

/* spf_macro_out_put - append n bytes, or mark the output full */
static void
spf_macro_out_put(struct spf_macro_out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* spf_macro_printable - SP through '~' */
static bool
spf_macro_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* spf_macro_letter_value - the value of a macro letter (lower case) into buf; NULL
 * when the letter is unknown or not allowed for kind */
static const char *
spf_macro_letter_value(char letter, enum spf_macro_kind kind,
    const struct spf_macro_env *env, char *buf, size_t buflen)
{
	const char *at;

	switch (letter) {
	case 's':
		return env->sender;
	case 'l':
		at = strrchr(env->sender, '@');
		if (at == NULL || at == env->sender)
			return "postmaster";	/* §4.3: no local-part */
		snprintf(buf, buflen, "%.*s", (int)(at - env->sender), env->sender);
		return (size_t)(at - env->sender) < buflen ? buf : NULL;
	case 'o':
		at = strrchr(env->sender, '@');
		return at != NULL ? at + 1 : env->sender;
	case 'd':
		return env->domain;
	case 'h':
		return env->helo;
	case 'v':
		return env->family == AF_INET6 ? "ip6" : "in-addr";
	case 'i':
		if (env->family == AF_INET6) {
			/* §7.3: dot-format, 32 nibbles (upper case, as pyspf and the
			 * RFC 7208 suite write them; DNS does not care) */
			size_t k = 0;
			for (int n = 0; n < 16; n++)
				k += (size_t)snprintf(buf + k, buflen - k, "%s%X.%X",
				    n ? "." : "", env->addr[n] >> 4, env->addr[n] & 15);
			return buf;
		}
		/* FALLTHROUGH */
	case 'c':
		if (kind != SPF_MACRO_EXPLAIN && letter == 'c')
			return NULL;
		if (inet_ntop(env->family == AF_INET6 ? AF_INET6 : AF_INET, env->addr,
		    buf, (socklen_t)buflen) == NULL)
			return NULL;
		return buf;
	case 'p':
		return env->ptr != NULL ? env->ptr : "unknown";
	case 'r':
		if (kind != SPF_MACRO_EXPLAIN)
			return NULL;
		return env->receiver != NULL ? env->receiver : "unknown";
	case 't':
		if (kind != SPF_MACRO_EXPLAIN)
			return NULL;
		snprintf(buf, buflen, "%lld", env->now);
		return buf;
	default:
		return NULL;
	}
}

/* spf_macro_url_escape - RFC 3986 unreserved characters as they are, others as %XX */
static void
spf_macro_url_escape(struct spf_macro_out *o, const char *s, size_t n)
{
	char hex[4];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			spf_macro_out_put(o, s + i, 1);
		else {
			snprintf(hex, sizeof(hex), "%%%02X", c);
			spf_macro_out_put(o, hex, 3);
		}
	}
}

/* spf_macro_put_value - split value on delims, reverse, keep the right-hand digits parts
 * (0: all), join with '.', URL-escape when asked; false for a value too long */
static bool
spf_macro_put_value(struct spf_macro_out *o, const char *value, const char *delims,
    unsigned digits, bool reverse, bool escape)
{
	static const char dot = '.';
	size_t vlen = strlen(value), start[SPF_MACRO_MAX_PARTS],
	    end[SPF_MACRO_MAX_PARTS], n = 0, s = 0;

	if (vlen > SPF_MACRO_MAX_VALUE)
		return false;
	for (size_t i = 0; i <= vlen; i++) {
		if (i == vlen || strchr(delims, value[i]) != NULL) {
			start[n] = s;
			end[n] = i;
			n++;
			s = i + 1;
		}
	}
	size_t first = digits > 0 && digits < n ? n - digits : 0;
	for (size_t k = first; k < n; k++) {
		/* reversed first, then cut to the right-hand parts */
		size_t part = reverse ? n - 1 - k : k;
		if (k > first) {
			if (escape)
				spf_macro_url_escape(o, &dot, 1);
			else
				spf_macro_out_put(o, &dot, 1);
		}
		if (escape)
			spf_macro_url_escape(o, value + start[part],
			    end[part] - start[part]);
		else
			spf_macro_out_put(o, value + start[part],
			    end[part] - start[part]);
	}
	return true;
}

/* spf_macro_parse_one - in[i] is just after "%{": letter, digits, "r", delimiters, "}".
 * Fills the parts; returns the index after "}", 0 when malformed. */
static size_t
spf_macro_parse_one(const char *in, size_t len, size_t i, char *letter, unsigned *digits,
    bool *reverse, char *delims, size_t delims_len)
{
	size_t nd = 0, k = 0;

	if (i >= len || !isalpha((unsigned char)in[i]))
		return 0;
	*letter = in[i++];
	*digits = 0;
	while (i < len && isdigit((unsigned char)in[i])) {
		if (++nd > 3)
			return 0;
		*digits = *digits * 10 + (unsigned)(in[i++] - '0');
	}
	if (nd > 0 && (*digits == 0 || *digits > SPF_MACRO_MAX_DIGITS))
		return 0;
	*reverse = false;
	if (i < len && (in[i] == 'r' || in[i] == 'R')) {
		*reverse = true;
		i++;
	}
	while (i < len && in[i] != '}') {
		if (strchr(SPF_MACRO_DELIMS, in[i]) == NULL)
			return 0;
		if (strchr(delims, in[i]) == NULL && k + 1 < delims_len) {
			delims[k++] = in[i];
			delims[k] = '\0';
		}
		i++;
	}
	return i < len ? i + 1 : 0;
}

/* spf_macro_expand - see spf_macro.h */
bool
spf_macro_expand(const char *in, size_t len, enum spf_macro_kind kind,
    const struct spf_macro_env *env, char *out, size_t outlen)
{
	struct spf_macro_out o = { out, 0, outlen > 0 ? outlen - 1 : 0, false };
	char buf[SPF_MACRO_MAX_VALUE + 1], delims[sizeof(SPF_MACRO_DELIMS)];

	if (outlen == 0)
		return false;
	out[0] = '\0';
	if (len > SPF_MACRO_MAX_IN)
		return false;
	for (size_t i = 0; i < len && !o.full;) {
		unsigned char c = (unsigned char)in[i];

		if (c != '%') {
			if (!spf_macro_printable(c) ||
			    (c == ' ' && kind != SPF_MACRO_EXPLAIN))
				goto bad;
			spf_macro_out_put(&o, in + i++, 1);
			continue;
		}
		if (i + 1 >= len)
			goto bad;
		switch (in[i + 1]) {
		case '%':
			spf_macro_out_put(&o, "%", 1);
			i += 2;
			continue;
		case '_':
			spf_macro_out_put(&o, " ", 1);
			i += 2;
			continue;
		case '-':
			spf_macro_out_put(&o, "%20", 3);
			i += 2;
			continue;
		case '{':
			break;
		default:
			goto bad;
		}
		char letter;
		unsigned digits;
		bool reverse;
		delims[0] = '\0';
		size_t next = spf_macro_parse_one(in, len, i + 2, &letter, &digits,
		    &reverse, delims, sizeof(delims));
		if (next == 0)
			goto bad;
		const char *value = spf_macro_letter_value(
		    (char)tolower((unsigned char)letter), kind, env, buf, sizeof(buf));
		if (value == NULL || !spf_macro_put_value(&o, value,
		    delims[0] ? delims : ".", digits, reverse,
		    isupper((unsigned char)letter)))
			goto bad;
		i = next;
	}
	if (o.full)
		goto bad;
	for (size_t k = 0; k < o.len; k++)
		if (!spf_macro_printable((unsigned char)out[k]))
			goto bad;
	out[o.len] = '\0';
	return true;
bad:
	out[0] = '\0';
	return false;
}

/* spf_macro_uses - see spf_macro.h */
bool
spf_macro_uses(const char *in, size_t len, char letter)
{
	char delims[sizeof(SPF_MACRO_DELIMS)], l;
	unsigned digits;
	bool reverse, found = false;

	if (len > SPF_MACRO_MAX_IN)
		return false;
	for (size_t i = 0; i < len;) {
		if (in[i] != '%') {
			i++;
			continue;
		}
		if (i + 1 < len && in[i + 1] != '{') {
			i += 2;
			continue;
		}
		delims[0] = '\0';
		size_t next = spf_macro_parse_one(in, len, i + 2, &l, &digits, &reverse,
		    delims, sizeof(delims));
		if (next == 0)
			return false;
		if (tolower((unsigned char)l) == tolower((unsigned char)letter))
			found = true;
		i = next;
	}
	return found;
}
