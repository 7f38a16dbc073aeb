/* dkim_sig - strict parsing of a DKIM-Signature header value (RFC 6376 §3.2, §3.5).
 *
 * dkim_sig_b64: decode base64 that may carry folding whitespace (caller frees).
 * dkim_sig_parse: fill a struct dkim_sig; dkim_sig_clear frees what it holds.
 * Every error is a short fixed string (plus at most a tag name): it ends up in
 * logs and in Authentication-Results comments.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "dkim_sig.h"
#include "dns_name.h"
#include "xalloc.h"

#define DKIM_SIG_MAX_L_DIGITS	76	/* RFC 6376 §3.5 l= */
#define DKIM_SIG_MAX_T_DIGITS	12	/* RFC 6376 §3.5 t=, x= */

/* dkim_sig_seterr - copy a fixed message into err */
static bool
dkim_sig_seterr(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return false;
}

/* dkim_sig_is_wsp - RFC 5234 WSP */
static int
dkim_sig_is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* dkim_sig_b64_value - the 6-bit value of a base64 character, -1 for others */
static int
dkim_sig_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* dkim_sig_b64 - decode base64, ignoring FWS (space, tab, CR, LF) anywhere.
 *
 * Padding is optional but, when present, must complete the last quantum and
 * end the data. NULL when malformed; an empty input decodes to a zero-length
 * (non-NULL) buffer.
 */
unsigned char *
dkim_sig_b64(const char *s, size_t len, size_t *out_len)
{
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	size_t o = 0, chars = 0, pad = 0;
	uint32_t acc = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = dkim_sig_b64_value(c);
		if (v < 0 || pad > 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		if (++chars % 4 == 0) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (chars % 4) {
	case 0:
		if (pad != 0)
			goto bad;
		break;
	case 1:
		goto bad;
	case 2:
		if (pad != 0 && pad != 2)
			goto bad;
		out[o++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		if (pad != 0 && pad != 1)
			goto bad;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
		break;
	}
	*out_len = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* dkim_sig_parse_int - a run of 1..maxdigits decimal digits that fits int64_t */
static bool
dkim_sig_parse_int(const struct taglist_tag *t, size_t maxdigits, int64_t *out)
{
	int64_t v = 0;

	if (t->value_len == 0 || t->value_len > maxdigits)
		return false;
	for (size_t i = 0; i < t->value_len; i++) {
		unsigned char c = (unsigned char)t->value[i];
		if (!isdigit(c))
			return false;
		if (v > (INT64_MAX - (c - '0')) / 10)
			return false;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return true;
}

/* dkim_sig_name - a copy of a d= or s= value that is a DKIM name (dns_name.h),
 * NULL for another; caller frees */
static char *
dkim_sig_name(const struct taglist_tag *t)
{
	char *name = xstrndup(t->value, t->value_len);

	if (strlen(name) != t->value_len || !dns_name_ok(name, DNS_NAME_HEADER)) {
		free(name);
		return NULL;
	}
	return name;
}

/* dkim_sig_parse_canon - c= : header[/body], each "simple" or "relaxed" */
static bool
dkim_sig_parse_canon(const struct taglist_tag *t, struct dkim_sig *s)
{
	const char *slash = memchr(t->value, '/', t->value_len);
	size_t hl = slash ? (size_t)(slash - t->value) : t->value_len;
	struct taglist_tag part = { NULL, 0, t->value, hl };

	if (taglist_value_is(&part, "simple"))
		s->header_canon = DKIM_CANON_SIMPLE;
	else if (taglist_value_is(&part, "relaxed"))
		s->header_canon = DKIM_CANON_RELAXED;
	else
		return false;
	s->body_canon = DKIM_CANON_SIMPLE;
	if (slash == NULL)
		return true;
	part.value = slash + 1;
	part.value_len = t->value_len - hl - 1;
	if (taglist_value_is(&part, "simple"))
		s->body_canon = DKIM_CANON_SIMPLE;
	else if (taglist_value_is(&part, "relaxed"))
		s->body_canon = DKIM_CANON_RELAXED;
	else
		return false;
	return true;
}

/* dkim_sig_parse_headers - h= : field names separated by ':' with FWS around them */
static bool
dkim_sig_parse_headers(const struct taglist_tag *t, struct dkim_sig *s, char *err,
    size_t errlen)
{
	const char *v = t->value;
	size_t len = t->value_len, i = 0;
	bool from = false;

	s->headers = xcalloc(DKIM_SIG_MAX_HEADERS, sizeof(*s->headers));
	for (;;) {
		i = taglist_skip_fws(v, len, i);
		size_t start = i;
		while (i < len && v[i] != ':' && (unsigned char)v[i] > 0x20 &&
		    (unsigned char)v[i] < 0x7f)
			i++;
		size_t nl = i - start;
		i = taglist_skip_fws(v, len, i);
		if (nl == 0 || (i < len && v[i] != ':'))
			return dkim_sig_seterr(err, errlen, "bad h=");
		if (s->n_headers == DKIM_SIG_MAX_HEADERS)
			return dkim_sig_seterr(err, errlen, "too many names in h=");
		s->headers[s->n_headers++] = xstrndup(v + start, nl);
		if (nl == 4 && strncasecmp(v + start, "from", 4) == 0)
			from = true;
		if (i == len)
			break;
		i++;	/* the ':' */
	}
	if (!from)
		return dkim_sig_seterr(err, errlen, "h= does not include From");
	return true;
}

/* dkim_sig_qp_decode - dkim-quoted-printable (RFC 6376 §2.11) to a new NUL-terminated
 * string: FWS dropped, "=XX" decoded; NULL for a bare '=' or a bad hex pair. The result
 * is never longer than the input; *out_len excludes the NUL; caller frees. */
static char *
dkim_sig_qp_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (dkim_sig_is_wsp(c) || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			int hi = -1, lo = -1;

			if (len - i >= 3) {
				hi = bytes_hex_value((unsigned char)s[i + 1]);
				lo = bytes_hex_value((unsigned char)s[i + 2]);
			}
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* dkim_sig_parse_identity - i= : [local-part] "@" domain after dkim-quoted-printable
 * decoding (RFC 6376 §3.5), the domain d= or a subdomain of it. The decoded
 * value must fit DKIM_SIG_IDENTITY_MAX: it is reported whole or not at all. */
static bool
dkim_sig_parse_identity(const struct taglist_tag *t, struct dkim_sig *s, char *err,
    size_t errlen)
{
	size_t len, at = SIZE_MAX;
	char *id = dkim_sig_qp_decode(t->value, t->value_len, &len);

	if (id == NULL)
		return dkim_sig_seterr(err, errlen, "bad quoted-printable in i=");
	if (len > DKIM_SIG_IDENTITY_MAX) {
		free(id);
		return dkim_sig_seterr(err, errlen, "i= too long");
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c == '@')
			at = i;
		else if (c <= 0x20 || c == 0x7f) {
			free(id);
			return dkim_sig_seterr(err, errlen, "bad i=");
		}
	}
	if (at == SIZE_MAX || !dns_name_ok(id + at + 1, DNS_NAME_HEADER)) {
		free(id);
		return dkim_sig_seterr(err, errlen, "bad i=");
	}
	/* the domain part compares case-insensitively; keep it lower case */
	char *dom = id + at + 1;
	size_t dl = len - at - 1, d_len = strlen(s->domain);
	for (char *p = dom; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!(dl == d_len && memcmp(dom, s->domain, dl) == 0) &&
	    !(dl > d_len + 1 && dom[dl - d_len - 1] == '.' &&
	    memcmp(dom + dl - d_len, s->domain, d_len) == 0)) {
		free(id);
		return dkim_sig_seterr(err, errlen, "i= is not within d=");
	}
	s->identity = id;
	return true;
}

/* dkim_sig_parse_sig_b - b= : the signature and the 8-character prefix for header.b */
static bool
dkim_sig_parse_sig_b(const struct taglist_tag *t, struct dkim_sig *s, char *err,
    size_t errlen)
{
	size_t k = 0;

	s->sig = dkim_sig_b64(t->value, t->value_len, &s->sig_len);
	if (s->sig == NULL)
		return dkim_sig_seterr(err, errlen, "bad base64 in b=");
	if (s->sig_len == 0)
		return dkim_sig_seterr(err, errlen, "empty b=");
	for (size_t i = 0; i < t->value_len && k < sizeof(s->b_prefix) - 1; i++)
		if (!isspace((unsigned char)t->value[i]))
			s->b_prefix[k++] = t->value[i];
	s->b_prefix[k] = '\0';
	return true;
}

/* dkim_sig_parse - parse and check every tag; see dkim_sig.h */
bool
dkim_sig_parse(const char *value, size_t len, struct dkim_sig *s, char *err,
    size_t errlen)
{
	static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
	struct taglist_tag tags[TAGLIST_MAX];
	const struct taglist_tag *t;
	size_t n;

	memset(s, 0, sizeof(*s));
	s->length = s->timestamp = s->expire = -1;
	if (len > DKIM_SIG_MAX_LEN)
		return dkim_sig_seterr(err, errlen, "signature too long");
	if (!taglist_split(value, len, tags, &n, err, errlen))
		return false;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (taglist_find(tags, n, required[i]) == NULL) {
			if (errlen > 0)
				snprintf(err, errlen, "missing %s=", required[i]);
			return false;
		}
	}

	if (!taglist_value_is(taglist_find(tags, n, "v"), "1"))
		return dkim_sig_seterr(err, errlen, "unsupported v=");

	t = taglist_find(tags, n, "a");
	if (taglist_value_is(t, "rsa-sha256"))
		s->alg = DKIM_ALG_RSA_SHA256;
	else if (taglist_value_is(t, "ed25519-sha256"))
		s->alg = DKIM_ALG_ED25519_SHA256;
	else if (taglist_value_is(t, "rsa-sha1"))
		return dkim_sig_seterr(err, errlen, "rsa-sha1 is not allowed (RFC 8301)");
	else
		return dkim_sig_seterr(err, errlen, "unknown a=");

	s->header_canon = s->body_canon = DKIM_CANON_SIMPLE;
	if ((t = taglist_find(tags, n, "c")) != NULL && !dkim_sig_parse_canon(t, s))
		return dkim_sig_seterr(err, errlen, "bad c=");

	t = taglist_find(tags, n, "d");
	if ((s->domain = dkim_sig_name(t)) == NULL)
		return dkim_sig_seterr(err, errlen, "bad d=");
	for (char *p = s->domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);

	t = taglist_find(tags, n, "s");
	if ((s->selector = dkim_sig_name(t)) == NULL)
		return dkim_sig_seterr(err, errlen, "bad s=");

	if (!dkim_sig_parse_headers(taglist_find(tags, n, "h"), s, err, errlen))
		return false;

	if ((t = taglist_find(tags, n, "i")) != NULL) {
		if (!dkim_sig_parse_identity(t, s, err, errlen))
			return false;
	} else {
		size_t dl = strlen(s->domain);
		s->identity = xmalloc(dl + 2);
		s->identity[0] = '@';
		memcpy(s->identity + 1, s->domain, dl + 1);
	}

	if (!dkim_sig_parse_sig_b(taglist_find(tags, n, "b"), s, err, errlen))
		return false;

	t = taglist_find(tags, n, "bh");
	size_t bhl;
	unsigned char *bh = dkim_sig_b64(t->value, t->value_len, &bhl);
	if (bh == NULL)
		return dkim_sig_seterr(err, errlen, "bad base64 in bh=");
	if (bhl != DKIM_HASH_LEN) {
		free(bh);
		return dkim_sig_seterr(err, errlen, "bh= is not 32 bytes");
	}
	memcpy(s->bodyhash, bh, DKIM_HASH_LEN);
	free(bh);

	if ((t = taglist_find(tags, n, "l")) != NULL &&
	    !dkim_sig_parse_int(t, DKIM_SIG_MAX_L_DIGITS, &s->length))
		return dkim_sig_seterr(err, errlen, "bad l=");
	if ((t = taglist_find(tags, n, "q")) != NULL && !taglist_list_has(t, "dns/txt"))
		return dkim_sig_seterr(err, errlen, "q= does not include dns/txt");
	if ((t = taglist_find(tags, n, "t")) != NULL &&
	    !dkim_sig_parse_int(t, DKIM_SIG_MAX_T_DIGITS, &s->timestamp))
		return dkim_sig_seterr(err, errlen, "bad t=");
	if ((t = taglist_find(tags, n, "x")) != NULL &&
	    !dkim_sig_parse_int(t, DKIM_SIG_MAX_T_DIGITS, &s->expire))
		return dkim_sig_seterr(err, errlen, "bad x=");
	/* RFC 6376 §3.5: x= MUST be greater than t=; equal is tolerated */
	if (s->timestamp >= 0 && s->expire >= 0 && s->expire < s->timestamp)
		return dkim_sig_seterr(err, errlen, "x= is before t=");
	return true;
}

/* dkim_sig_clear - free everything dkim_sig_parse set; safe after a failed parse */
void
dkim_sig_clear(struct dkim_sig *s)
{
	if (s == NULL)
		return;
	free(s->domain);
	free(s->selector);
	free(s->identity);
	for (size_t i = 0; i < s->n_headers; i++)
		free(s->headers[i]);
	free(s->headers);
	free(s->sig);
	memset(s, 0, sizeof(*s));
	s->length = s->timestamp = s->expire = -1;
}
