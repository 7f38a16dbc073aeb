/* spf_record - the screen and rewrite of a v=spf1 record before libspf2 compiles
 * it: pure, no DNS, no libspf2 (split from spf_dns.c, the layer that calls it).
 *
 * spf_record_rewrite  screen a record; the text libspf2 is to evaluate, and its exp=
 * spf_record_screen   the screen alone (unit tests, fuzzers)
 * spf_record_is_spf   a TXT string that is an SPF version 1 record
 * spf_record_terms    the terms of a rewritten record
 *
 * The hostile-record screen (spf_record_screen), against CVE-2023-42118 and
 * its relatives in libspf2 1.2.10's macro code. The advisory (ZDI-23-1472) says
 * only "integer underflow while parsing SPF macros"; the upstream fix (libspf2
 * pull 44) guards the size_t subtraction "space left in the compile buffer minus
 * a data header" in spf_compile.c, which wraps when a term's compiled macros and
 * literals reach the 511-byte buffer, after which literals are copied without a
 * bound. The expander (SPF_record_expand_data) has had overflows from the same
 * family: transformer digits, reversal with delimiters, URL-escaping (CVE-2021-
 * 33912/33913/20314). So a v=spf1 record is refused, ending as permerror, when:
 *   - it is longer than SPF_RECORD_MAX bytes, or holds a control byte,
 *     a NUL or a non-ASCII byte (SPF records are ASCII, RFC 7208 §3);
 *   - a term is longer than SPF_RECORD_MAX_TERM bytes or holds more than
 *     SPF_RECORD_MAX_TERM_MACROS macros: compiled, such a term stays far below the
 *     511-byte buffer, so the subtraction cannot wrap;
 *   - a macro is malformed ('%' not followed by '{', '%', '_' or '-'; unknown
 *     letter; no '}'), which RFC 7208 §7.1 makes a syntax error anyway, while
 *     libspf2 copies a stray '%' as a literal;
 *   - a digit transformer has more than two digits, is 0, or exceeds
 *     SPF_RECORD_MAX_MACRO_PARTS (no name has that many useful labels);
 *   - a delimiter is repeated inside one macro, or an upper-case (URL-escaped)
 *     macro also reverses or truncates: the expander sizes its URL buffer from the
 *     length of the last reversed part, not of the whole value;
 *   - redirect= or exp= appears twice (RFC 7208 §6).
 */
#include "config.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "spf_record.h"

/* spf_record_macro_letter - RFC 7208 §7.1 letters allowed in a domain-spec
 * (c, r and t belong to explanation text only), either case */
static bool
spf_record_macro_letter(int c)
{
	return c != '\0' && strchr("slodiphv", tolower(c)) != NULL;
}

/* spf_record_screen_macro - check one "%{...}" at p (p[0] == '%', p[1] == '{');
 * *used gets its length. NULL when acceptable. */
static const char *
spf_record_screen_macro(const char *p, size_t avail, size_t *used)
{
	size_t i = 2, digits = 0;
	unsigned parts = 0;
	bool upper, rev = false;
	char seen[8] = "";
	size_t n_seen = 0;

	if (i >= avail || !spf_record_macro_letter((unsigned char)p[i]))
		return "invalid macro letter";
	upper = isupper((unsigned char)p[i]);
	i++;
	while (i < avail && isdigit((unsigned char)p[i])) {
		if (++digits > 2)
			return "macro digit transformer too large";
		parts = parts * 10 + (unsigned)(p[i] - '0');
		i++;
	}
	if (digits > 0 && (parts == 0 || parts > SPF_RECORD_MAX_MACRO_PARTS))
		return "macro digit transformer out of range";
	if (i < avail && (p[i] == 'r' || p[i] == 'R')) {
		rev = true;
		i++;
	}
	while (i < avail && p[i] != '}') {
		if (strchr(".-+,/_=", p[i]) == NULL)
			return "invalid macro delimiter";
		if (memchr(seen, p[i], n_seen) != NULL)
			return "repeated macro delimiter";
		if (n_seen + 1 >= sizeof(seen))
			return "invalid macro delimiter";
		seen[n_seen++] = p[i];
		i++;
	}
	if (i >= avail)
		return "unterminated macro";
	if (upper && rev)
		return "URL-escaped reversed macro";
	*used = i + 1;
	return NULL;
}

/* spf_record_screen_macros - a macro-string (§7.1): literals %x21-7E and valid
 * escapes; *macros counts the %{...}; *ends_in_macro tells the domain-end rule */
static const char *
spf_record_screen_macros(const char *t, size_t len, size_t *macros,
    bool *ends_in_macro)
{
	*ends_in_macro = false;
	for (size_t i = 0; i < len; ) {
		*ends_in_macro = false;
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return "invalid character in SPF term";
		if (t[i] != '%') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return "stray percent sign in SPF record";
		switch (t[i + 1]) {
		case '%':
		case '_':
		case '-':
			i += 2;
			break;
		case '{': {
			size_t used = 0;
			const char *why = spf_record_screen_macro(t + i, len - i, &used);

			if (why != NULL)
				return why;
			if (++*macros > SPF_RECORD_MAX_TERM_MACROS)
				return "too many macros in one SPF term";
			i += used;
			*ends_in_macro = true;
			break;
		}
		default:
			return "stray percent sign in SPF record";
		}
	}
	return NULL;
}

/* spf_record_toplabel_ok - RFC 7208 toplabel: alphanumerics and inner hyphens,
 * not all digits */
static bool
spf_record_toplabel_ok(const char *l, size_t len)
{
	bool alpha = false;

	if (len == 0 || l[0] == '-' || l[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (isalpha(c))
			alpha = true;
		else if (!isdigit(c) && c != '-')
			return false;
	}
	return alpha;
}

/* spf_record_domain_spec_ok - macro-string domain-end (§7.1); NULL when valid */
static const char *
spf_record_domain_spec(const char *d, size_t len, size_t *macros)
{
	bool ends_in_macro;
	const char *why, *dot;

	if (len == 0)
		return "empty domain in SPF term";
	if ((why = spf_record_screen_macros(d, len, macros, &ends_in_macro)) != NULL)
		return why;
	if (ends_in_macro)
		return NULL;
	if (d[len - 1] == '.')
		len--;
	dot = len > 0 ? memrchr(d, '.', len) : NULL;
	if (dot == NULL ||
	    !spf_record_toplabel_ok(dot + 1, len - (size_t)(dot + 1 - d)))
		return "invalid domain in SPF term";
	return NULL;
}

/* spf_record_cidr_num - a CIDR length without leading zeros, at most max */
static bool
spf_record_cidr_num(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

/* spf_record_digits_before - count of digits ending at t[end] (exclusive) */
static size_t
spf_record_digits_before(const char *t, size_t end)
{
	size_t n = 0;

	while (n < end && isdigit((unsigned char)t[end - 1 - n]))
		n++;
	return n;
}

/* spf_record_split_cidr - take "[/N][//M]" off the end of t[0..*len); -1 if the
 * lengths are invalid; v4/v6 get -1 when absent */
static int
spf_record_split_cidr(const char *t, size_t *len, int *v4, int *v6)
{
	size_t n = *len, d;
	unsigned v;

	*v4 = *v6 = -1;
	d = spf_record_digits_before(t, n);
	if (d > 0 && n >= d + 2 && t[n - d - 1] == '/' && t[n - d - 2] == '/') {
		if (!spf_record_cidr_num(t + n - d, d, 128, &v))
			return -1;
		*v6 = (int)v;
		n -= d + 2;
		d = spf_record_digits_before(t, n);
	}
	if (d > 0 && n >= d + 1 && t[n - d - 1] == '/') {
		if (!spf_record_cidr_num(t + n - d, d, 32, &v))
			return -1;
		*v4 = (int)v;
		n -= d + 1;
	}
	*len = n;
	return 0;
}

/* spf_record_put_cidr - "/N//M" for the non-negative ones */
static void
spf_record_put_cidr(struct buf *out, int v4, int v6)
{
	if (v4 >= 0)
		buf_printf(out, "/%d", v4);
	if (v6 >= 0)
		buf_printf(out, "//%d", v6);
}

/* spf_record_check_ip - the rest of an ip4 or ip6 mechanism after its name; appends
 * its form for libspf2 to out */
static const char *
spf_record_check_ip(char qual, const char *name, const char *rest, size_t rlen,
    struct buf *out)
{
	bool six = name[2] == '6';
	char addr[64];
	unsigned char bin[16];
	size_t alen;
	const char *slash;
	unsigned cidr = six ? 128 : 32;

	if (rlen < 2 || rest[0] != ':')
		return "invalid ip mechanism";
	slash = memchr(rest + 1, '/', rlen - 1);
	alen = slash != NULL ? (size_t)(slash - rest - 1) : rlen - 1;
	if (alen == 0 || alen >= sizeof(addr))
		return "invalid IP address in SPF record";
	memcpy(addr, rest + 1, alen);
	addr[alen] = '\0';
	if (inet_pton(six ? AF_INET6 : AF_INET, addr, bin) != 1)
		return "invalid IP address in SPF record";
	if (slash != NULL && !spf_record_cidr_num(slash + 1,
	    rlen - 1 - alen - 1, six ? 128 : 32, &cidr))
		return "invalid CIDR length in SPF record";
	if (cidr == 0) {	/* libspf2 refuses /0: two halves instead */
		buf_printf(out, six ? "%cip6:::/1 %cip6:8000::/1" :
		    "%cip4:0.0.0.0/1 %cip4:128.0.0.0/1", qual, qual);
		return NULL;
	}
	buf_printf(out, "%c%s", qual, name);
	buf_append(out, rest, rlen);
	return NULL;
}

/* spf_record_check_a_mx - the rest of an a or mx mechanism after its name; appends
 * its form for libspf2 to out */
static const char *
spf_record_check_a_mx(char qual, const char *name, const char *rest, size_t rlen,
    struct buf *out)
{
	size_t dlen = rlen, macros = 0;
	const char *why = NULL;
	int v4, v6;

	if (spf_record_split_cidr(rest, &dlen, &v4, &v6) < 0)
		return "invalid CIDR length in SPF record";
	if (dlen > 0 && (rest[0] != ':' || (why = spf_record_domain_spec(rest + 1,
	    dlen - 1, &macros)) != NULL))
		return dlen > 0 && rest[0] == ':' ? why : "invalid a or mx mechanism";
	buf_printf(out, "%c%s", qual, name);
	if (v4 != 0 && v6 != 0) {
		buf_append(out, rest, rlen);
		return NULL;
	}
	/* A zero CIDR, which libspf2 refuses: look up a marked name and let the
	 * layer answer with one address in each half of the address space. */
	if (dlen > 0)
		buf_append(out, rest, dlen);
	else
		buf_puts(out, ":%{d}");
	buf_puts(out, v4 == 0 && v6 == 0 ? SPF_RECORD_ZERO46 :
	    v4 == 0 ? SPF_RECORD_ZERO4 : SPF_RECORD_ZERO6);
	spf_record_put_cidr(out, v4 == 0 ? 1 : v4, v6 == 0 ? 1 : v6);
	return NULL;
}

/* spf_record_check_mech - one mechanism; appends its form for libspf2 to out */
static const char *
spf_record_check_mech(const char *t, size_t len, bool *has_all, struct buf *out)
{
	static const char *names[] = { "all", "include", "a", "mx", "ptr", "ip4",
	    "ip6", "exists" };
	char qual = '+';
	size_t i = 0, n = 0, k, macros = 0;
	const char *why = NULL;

	if (strchr("+-?~", t[0]) != NULL) {
		qual = t[0];
		i = 1;
	}
	while (i + n < len && (isalnum((unsigned char)t[i + n])))
		n++;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == n && strncasecmp(t + i, names[k], n) == 0)
			break;
	if (k == sizeof(names) / sizeof(names[0]))
		return "unknown SPF mechanism";
	const char *name = names[k];
	const char *rest = t + i + n;
	size_t rlen = len - i - n;

	if (strcmp(name, "all") == 0) {
		if (rlen != 0)
			return "invalid all mechanism";
		*has_all = true;
		buf_printf(out, "%call", qual);
		return NULL;
	}
	if (strcmp(name, "include") == 0 || strcmp(name, "exists") == 0) {
		if (rlen < 1 || rest[0] != ':')
			return "mechanism needs a domain";
		if ((why = spf_record_domain_spec(rest + 1, rlen - 1, &macros)) != NULL)
			return why;
		buf_printf(out, "%c%s", qual, name);
		buf_append(out, rest, rlen);
		return NULL;
	}
	if (strcmp(name, "ptr") == 0) {
		if (rlen > 0 && (rest[0] != ':' || (why = spf_record_domain_spec(
		    rest + 1, rlen - 1, &macros)) != NULL))
			return rlen > 0 && rest[0] == ':' ? why :
			    "invalid ptr mechanism";
		buf_printf(out, "%cptr", qual);
		buf_append(out, rest, rlen);
		return NULL;
	}
	if (strcmp(name, "ip4") == 0 || strcmp(name, "ip6") == 0)
		return spf_record_check_ip(qual, name, rest, rlen, out);
	return spf_record_check_a_mx(qual, name, rest, rlen, out);
}

/* spf_record_rewrite - the whole screen and syntax check of a v=spf1 record, and
 * what libspf2 is to evaluate of it; see spf_record.h */
const char *
spf_record_rewrite(const char *rec, size_t len, struct buf *out, const char **exp,
    size_t *exp_len)
{
	struct buf mechs = BUF_INIT, redirect = BUF_INIT;
	unsigned redirects = 0, exps = 0;
	bool has_all = false;
	const char *why = NULL;
	size_t i;

	if (exp != NULL)
		*exp = NULL;

	if (len > SPF_RECORD_MAX)
		return "SPF record too long";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rec[i];

		if (c < 0x20 || c >= 0x7f)
			return "control or non-ASCII byte in SPF record";
	}
	/* "v=spf1" then terms separated by spaces */
	for (i = 6; i < len && why == NULL; ) {
		size_t j = i, macros = 0, n = 0;
		const char *t;
		bool dummy;

		while (j < len && rec[j] != ' ')
			j++;
		t = rec + i;
		n = j - i;
		i = j + 1;
		if (n == 0)
			continue;
		if (n > SPF_RECORD_MAX_TERM) {
			why = "SPF term too long";
			break;
		}
		/* a modifier: name "=" (name = ALPHA *(ALPHA / DIGIT / - _ .)) */
		size_t k = 0;

		if (isalpha((unsigned char)t[0])) {
			while (k < n && (isalnum((unsigned char)t[k]) ||
			    strchr("-_.", t[k]) != NULL))
				k++;
		}
		if (k > 0 && k < n && t[k] == '=') {
			if (k == 8 && strncasecmp(t, "redirect", 8) == 0) {
				redirects++;
				why = spf_record_domain_spec(t + 9, n - 9, &macros);
				buf_reset(&redirect);
				buf_puts(&redirect, "redirect=");
				buf_append(&redirect, t + 9, n - 9);
			} else if (k == 3 && strncasecmp(t, "exp", 3) == 0) {
				exps++;
				why = spf_record_domain_spec(t + 4, n - 4, &macros);
				if (exp != NULL) {
					*exp = t + 4;
					*exp_len = n - 4;
				}
			} else
				why = spf_record_screen_macros(t + k + 1, n - k - 1,
				    &macros, &dummy);
			continue;
		}
		if (mechs.len > 0)
			buf_putc(&mechs, ' ');
		why = spf_record_check_mech(t, n, &has_all, &mechs);
	}
	if (why == NULL && (redirects > 1 || exps > 1))
		why = "redirect= or exp= given twice";
	if (why == NULL && out != NULL) {
		buf_puts(out, "v=spf1");
		if (mechs.len > 0) {
			buf_putc(out, ' ');
			buf_append(out, mechs.data, mechs.len);
		}
		if (redirects > 0 && !has_all) {
			buf_putc(out, ' ');
			buf_append(out, redirect.data, redirect.len);
		}
	}
	buf_free(&mechs);
	buf_free(&redirect);
	return why;
}

/* spf_record_screen - see the header comment; NULL when acceptable */
const char *
spf_record_screen(const char *rec, size_t len)
{
	return spf_record_rewrite(rec, len, NULL, NULL, NULL);
}

/* spf_record_is_spf - a TXT string that is an SPF version 1 record (§4.5) */
bool
spf_record_is_spf(const char *txt, size_t len)
{
	static const char ver[] = "v=spf1";
	size_t n = sizeof(ver) - 1;

	return len >= n && strncasecmp(txt, ver, n) == 0 &&
	    (len == n || txt[n] == ' ');
}

/* spf_record_terms - the terms after "v=spf1" in a (screened, rewritten) record */
size_t
spf_record_terms(const char *text)
{
	size_t n = 0;
	const char *p = text + strcspn(text, " ");	/* past "v=spf1" */

	while (*p != '\0') {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		n++;
		p += strcspn(p, " ");
	}
	return n;
}
