/* rfc5322 - the author domain of a From header (RFC 5322 §3.4, §4.4 obsolete forms).
 *
 * rfc5322_parse_from reads one raw From value as (pointer, length) - never past
 * length, no NUL needed - and reports how many addresses it holds and, when they
 * all share one domain, that domain (lower case, A-label, no final dot).
 * rfc5322_domain_normalise turns one domain into that form or refuses it.
 * rfc5322_from_status_name names a status. rfc5322_redact_addresses rewrites an
 * address list (any address field) with every display name and local part
 * replaced, appending to a caller's struct buf. Nothing else here allocates
 * memory that outlives a call; results live in the caller's struct.
 *
 * Decisions the RFC leaves to us, for DMARC's sake (RFC 7489 §6.6.1):
 * - Comments are CFWS and CFWS may stand around the atoms of an obs-domain, so
 *   "x@exa(mple).com" is x@exa.com: what RFC 5322 says the address is.
 * - A domain literal ("x@[192.0.2.1]") has no DMARC policy to find: FROM_SYNTAX.
 * - "<>" is no address: alone it gives FROM_NO_ADDRESS, beside others it is skipped.
 * - Encoded words (RFC 2047) in display names are atoms; they are never decoded.
 * - Bytes >= 0x80 are atext (RFC 6532); a UTF-8 domain becomes A-labels.
 * - More than RFC5322_MAX_ADDRS addresses: FROM_SYNTAX (no partial verdicts).
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <idn2.h>

#include "buf.h"
#include "dns_name.h"
#include "rfc5322.h"

#define RFC5322_MAX_TEXT	1024	/* bytes of one collected local part or domain */

/* a cursor over the value; every read checks p < end */
struct cursor {
	const unsigned char *p;
	const unsigned char *end;
};

/* collected text of a local part or domain, bounded */
struct text {
	char	 s[RFC5322_MAX_TEXT];
	size_t	 len;
	bool	 overflow;
};

/* rfc5322_text_add - append one byte, noting overflow instead of writing past the end */
static void
rfc5322_text_add(struct text *t, unsigned char c)
{
	if (t->len + 1 >= sizeof(t->s)) {
		t->overflow = true;
		return;
	}
	t->s[t->len++] = (char)c;
	t->s[t->len] = '\0';
}

/* rfc5322_is_atext - RFC 5322 §3.2.3 atext, plus any byte >= 0x80 (RFC 6532) */
static bool
rfc5322_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* rfc5322_is_wsp - space, tab, or a line break of a fold (CR and LF are taken
 * leniently) */
static bool
rfc5322_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* rfc5322_skip_cfws - skip folding white space and (nested) comments; false on an
 * unterminated comment. *saw is set when anything was skipped. */
static bool
rfc5322_skip_cfws(struct cursor *c, bool *saw)
{
	while (c->p < c->end) {
		if (rfc5322_is_wsp(*c->p)) {
			c->p++;
			*saw = true;
		} else if (*c->p == '(') {
			size_t depth = 0;

			*saw = true;
			/* depth is a counter, not recursion: any nesting is cheap */
			while (c->p < c->end) {
				unsigned char ch = *c->p++;

				if (ch == '\\') {
					if (c->p >= c->end)
						return false;
					c->p++;
				} else if (ch == '(') {
					depth++;
				} else if (ch == ')') {
					if (--depth == 0)
						break;
				}
			}
			if (depth != 0)
				return false;
		} else {
			break;
		}
	}
	return true;
}

/* rfc5322_cfws - rfc5322_skip_cfws when the caller does not care whether anything
 * was there */
static bool
rfc5322_cfws(struct cursor *c)
{
	bool saw = false;

	return rfc5322_skip_cfws(c, &saw);
}

/* rfc5322_read_quoted - a quoted-string at the cursor, its content (unescaped) into t
 * when t is not NULL; false when it does not end */
static bool
rfc5322_read_quoted(struct cursor *c, struct text *t)
{
	c->p++;		/* the opening quote */
	while (c->p < c->end) {
		unsigned char ch = *c->p++;

		if (ch == '"')
			return true;
		if (ch == '\\') {
			if (c->p >= c->end)
				return false;
			ch = *c->p++;
		} else if (ch == '\r' || ch == '\n') {
			continue;	/* a fold inside the quotes */
		}
		if (ch == '\0')
			return false;
		if (t != NULL)
			rfc5322_text_add(t, ch);
	}
	return false;
}

/* rfc5322_read_words - obs-phrase / obs-local-part: words (atoms, quoted strings) and
 * dots with CFWS between them. Returns the count of words, -1 on a syntax error;
 * the text without CFWS goes to t. *phrase is set when two words follow each
 * other without a dot: a display name, never a local part. */
static int
rfc5322_read_words(struct cursor *c, struct text *t, bool *phrase)
{
	int words = 0;
	bool after_word = false;

	*phrase = false;

	for (;;) {
		if (!rfc5322_cfws(c))
			return -1;
		if (c->p >= c->end)
			break;
		if (*c->p == '"') {
			if (after_word)
				*phrase = true;
			if (!rfc5322_read_quoted(c, t))
				return -1;
			words++;
			after_word = true;
		} else if (*c->p == '.') {
			rfc5322_text_add(t, '.');
			c->p++;
			after_word = false;
		} else if (rfc5322_is_atext(*c->p)) {
			if (after_word)
				*phrase = true;
			while (c->p < c->end && rfc5322_is_atext(*c->p))
				rfc5322_text_add(t, *c->p++);
			words++;
			after_word = true;
		} else {
			break;
		}
	}
	return words;
}

/* rfc5322_read_domain - a domain after '@': dot-atom or obs-domain (CFWS around the
 * atoms), or a domain literal (*literal set). False on a syntax error. */
static bool
rfc5322_read_domain(struct cursor *c, struct text *t, bool *literal)
{
	bool want_atom = true;

	*literal = false;
	if (!rfc5322_cfws(c))
		return false;
	if (c->p < c->end && *c->p == '[') {
		*literal = true;
		while (c->p < c->end && *c->p != ']') {
			if (*c->p == '[' && t->len > 0)
				return false;
			if (*c->p == '\\' && ++c->p >= c->end)
				return false;
			rfc5322_text_add(t, *c->p++);
		}
		if (c->p >= c->end)
			return false;
		rfc5322_text_add(t, *c->p++);
		return rfc5322_cfws(c);
	}
	for (;;) {
		if (c->p >= c->end)
			break;
		if (want_atom && rfc5322_is_atext(*c->p)) {
			while (c->p < c->end && rfc5322_is_atext(*c->p))
				rfc5322_text_add(t, *c->p++);
			want_atom = false;
		} else if (!want_atom && *c->p == '.') {
			rfc5322_text_add(t, '.');
			c->p++;
			want_atom = true;
		} else {
			break;
		}
		if (!rfc5322_cfws(c))
			return false;
	}
	/* "a@" or "a@b." : a dot with nothing after it leaves want_atom set;
	 * a final dot is allowed (it is stripped) only after at least one label */
	if (t->len == 0)
		return false;
	return true;
}

/* parse state across the addresses of one value */
struct parse {
	struct from_address *out;
	bool	 no_domain;		/* some address had no @domain */
	bool	 multiple;		/* domains differ */
	bool	 have_domain;		/* out->domain holds the first domain */
	struct buf *red;		/* rfc5322_redact_addresses: the rewrite, else NULL */
	const char *word;		/* what a display name or local part becomes */
	bool	 named;			/* the mailbox being read has a display name */
	bool	 need_sep;		/* the rewrite needs ", " before the next element */
};

/* rfc5322_red_mailbox - the rewrite of one mailbox: its display name and local part
 * replaced by st->word, the domain kept (as an A-label when it is a valid name) */
static void
rfc5322_red_mailbox(struct parse *st, const struct text *domain, bool has_at)
{
	char norm[256];

	if (st->need_sep)
		buf_puts(st->red, ", ");
	st->need_sep = true;
	if (st->named)
		buf_printf(st->red, "%s <", st->word);
	buf_puts(st->red, st->word);
	if (has_at) {
		buf_putc(st->red, '@');
		if (!domain->overflow && rfc5322_domain_normalise(domain->s, norm, sizeof(norm)))
			buf_puts(st->red, norm);
		else
			buf_append(st->red, domain->s, domain->len);
	}
	if (st->named)
		buf_putc(st->red, '>');
}

/* rfc5322_add_address - record one address: local part and (raw) domain text */
static enum from_status
rfc5322_add_address(struct parse *st, const struct text *local, const struct text *domain,
    bool has_at, bool literal)
{
	char norm[256];

	if (st->red != NULL) {
		rfc5322_red_mailbox(st, domain, has_at);
		return FROM_OK;
	}
	if (st->out->n_addrs >= RFC5322_MAX_ADDRS)
		return FROM_SYNTAX;
	if (st->out->n_addrs == 0 && local->len < sizeof(st->out->local) &&
	    !local->overflow)
		memcpy(st->out->local, local->s, local->len + 1);
	st->out->n_addrs++;
	if (!has_at) {
		st->no_domain = true;
		return FROM_OK;
	}
	if (literal || domain->overflow ||
	    !rfc5322_domain_normalise(domain->s, norm, sizeof(norm)))
		return FROM_SYNTAX;
	if (!st->have_domain) {
		memcpy(st->out->domain, norm, strlen(norm) + 1);
		st->have_domain = true;
	} else if (strcmp(st->out->domain, norm) != 0) {
		st->multiple = true;
	}
	return FROM_OK;
}

/* rfc5322_read_angle - an angle-addr after '<': [obs-route] addr-spec '>', or "<>" */
static enum from_status
rfc5322_read_angle(struct cursor *c, struct parse *st)
{
	struct text local = { .len = 0 }, domain = { .len = 0 };
	bool literal = false, phrase;

	c->p++;		/* '<' */
	if (!rfc5322_cfws(c))
		return FROM_SYNTAX;
	if (c->p < c->end && *c->p == '@') {
		/* obs-route: "@a.example,@b.example:" - skipped, never used */
		while (c->p < c->end && *c->p != ':' && *c->p != '>')
			c->p++;
		if (c->p >= c->end || *c->p != ':')
			return FROM_SYNTAX;
		c->p++;
		if (!rfc5322_cfws(c))
			return FROM_SYNTAX;
	}
	if (c->p < c->end && *c->p == '>') {
		c->p++;		/* "<>": the null address, nothing to count */
		if (st->red != NULL) {
			buf_puts(st->red, st->need_sep ? ", <>" : "<>");
			st->need_sep = true;
		}
		return FROM_OK;
	}
	local.s[0] = domain.s[0] = '\0';
	if (rfc5322_read_words(c, &local, &phrase) <= 0 || phrase)
		return FROM_SYNTAX;
	if (c->p < c->end && *c->p == '@') {
		c->p++;
		if (!rfc5322_read_domain(c, &domain, &literal))
			return FROM_SYNTAX;
		if (c->p >= c->end || *c->p != '>')
			return FROM_SYNTAX;
		c->p++;
		return rfc5322_add_address(st, &local, &domain, true, literal);
	}
	if (c->p >= c->end || *c->p != '>')
		return FROM_SYNTAX;
	c->p++;
	return rfc5322_add_address(st, &local, &domain, false, false);
}

/* rfc5322_read_mailbox - one mailbox, or a group's display name (*group_start set) */
static enum from_status
rfc5322_read_mailbox(struct cursor *c, struct parse *st, bool *group_start)
{
	struct text words = { .len = 0 }, domain = { .len = 0 };
	bool literal = false, phrase;
	int n;

	*group_start = false;
	words.s[0] = domain.s[0] = '\0';
	n = rfc5322_read_words(c, &words, &phrase);
	if (n < 0)
		return FROM_SYNTAX;
	st->named = n > 0;
	if (c->p < c->end && *c->p == '<')
		/* the words were a display name */
		return rfc5322_read_angle(c, st);
	st->named = false;
	if (c->p < c->end && *c->p == ':') {
		if (n == 0)
			return FROM_SYNTAX;
		c->p++;
		*group_start = true;
		if (st->red != NULL) {
			buf_printf(st->red, "%s%s: ", st->need_sep ? ", " : "", st->word);
			st->need_sep = false;
		}
		return FROM_OK;
	}
	if (n == 0 || phrase)
		return FROM_SYNTAX;	/* "John Doe" with no address, or "a b@c" */
	if (c->p < c->end && *c->p == '@') {
		c->p++;
		if (!rfc5322_read_domain(c, &domain, &literal))
			return FROM_SYNTAX;
		return rfc5322_add_address(st, &words, &domain, true, literal);
	}
	return rfc5322_add_address(st, &words, &domain, false, false);
}

/* rfc5322_walk - every element of the address list at c into st: FROM_OK, or
 * FROM_SYNTAX (or the cap's FROM_SYNTAX) at the first error */
static enum from_status
rfc5322_walk(struct cursor *c, struct parse *st)
{
	bool in_group = false, group_start;
	enum from_status s;

	for (;;) {
		if (!rfc5322_cfws(c))
			return FROM_SYNTAX;
		if (c->p >= c->end)
			break;
		/* empty list elements (obs-mbox-list, obs-group-list) */
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == ';') {
			if (!in_group)
				return FROM_SYNTAX;
			c->p++;
			in_group = false;
			if (st->red != NULL) {
				buf_putc(st->red, ';');
				st->need_sep = true;
			}
			continue;
		}
		s = rfc5322_read_mailbox(c, st, &group_start);
		if (s != FROM_OK)
			return s;
		if (group_start) {
			if (in_group)		/* groups do not nest */
				return FROM_SYNTAX;
			in_group = true;
			continue;
		}
		if (!rfc5322_cfws(c))
			return FROM_SYNTAX;
		/* after a mailbox: end, ',' or the group's ';' */
		if (c->p < c->end && *c->p != ',' && !(in_group && *c->p == ';'))
			return FROM_SYNTAX;
	}
	return in_group ? FROM_SYNTAX : FROM_OK;	/* a group without its ';' */
}

/* rfc5322_parse_from - parse one From value (raw, CRLF inside folds allowed) */
enum from_status
rfc5322_parse_from(const char *value, size_t len, struct from_address *out)
{
	struct cursor c = { (const unsigned char *)value, (const unsigned char *)value };
	struct parse st = { .out = out };
	enum from_status s;

	memset(out, 0, sizeof(*out));
	if (value == NULL)
		len = 0;
	c.end = c.p + len;
	s = rfc5322_walk(&c, &st);
	if (s == FROM_OK && out->n_addrs == 0)
		s = FROM_NO_ADDRESS;
	else if (s == FROM_OK && st.no_domain)
		s = FROM_NO_DOMAIN;
	else if (s == FROM_OK && st.multiple)
		s = FROM_MULTIPLE_DOMAINS;
	if (s != FROM_OK)
		out->domain[0] = '\0';
	out->status = s;
	return s;
}

/* rfc5322_redact_addresses - see rfc5322.h. The same walk as rfc5322_parse_from,
 * so what is redacted is exactly what RFC 5322 calls a display name or a local
 * part: comments, quoted pairs and obsolete forms cannot hide one from it. */
bool
rfc5322_redact_addresses(const char *value, size_t len, const char *word, struct buf *out)
{
	struct cursor c = { (const unsigned char *)value, (const unsigned char *)value };
	struct from_address scratch;
	struct parse st = { .out = &scratch, .red = out, .word = word };
	size_t start = out->len;

	memset(&scratch, 0, sizeof(scratch));
	c.end = c.p + (value == NULL ? 0 : len);
	if (rfc5322_walk(&c, &st) == FROM_OK)
		return true;
	if (out->data != NULL) {
		out->len = start;	/* nothing half-written stays */
		out->data[start] = '\0';
	}
	return false;
}

/* rfc5322_from_status_name - "ok", "multiple-domains", ... */
const char *
rfc5322_from_status_name(enum from_status s)
{
	switch (s) {
	case FROM_OK:
		return "ok";
	case FROM_MULTIPLE_DOMAINS:
		return "multiple-domains";
	case FROM_NO_ADDRESS:
		return "no-address";
	case FROM_NO_DOMAIN:
		return "no-domain";
	case FROM_SYNTAX:
		return "syntax";
	}
	return "unknown";
}

/* rfc5322_domain_normalise - lower case, A-label, no final dot; false when invalid */
bool
rfc5322_domain_normalise(const char *in, char *out, size_t outlen)
{
	char tmp[RFC5322_MAX_TEXT];
	size_t n, i;
	bool ascii = true;

	if (in == NULL || out == NULL || outlen == 0)
		return false;
	out[0] = '\0';
	n = strlen(in);
	if (n == 0 || n >= sizeof(tmp))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch >= 0x80)
			ascii = false;
		tmp[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : (char)ch;
	}
	tmp[n] = '\0';
	if (tmp[n - 1] == '.')
		tmp[--n] = '\0';
	if (!ascii) {
		char *alabel = NULL;

		/* UTS #46 non-transitional: what browsers and registries use */
		if (idn2_to_ascii_8z(tmp, &alabel, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) !=
		    IDN2_OK || alabel == NULL) {
			idn2_free(alabel);
			return false;
		}
		n = strlen(alabel);
		if (n >= sizeof(tmp)) {
			idn2_free(alabel);
			return false;
		}
		memcpy(tmp, alabel, n + 1);
		idn2_free(alabel);
		for (i = 0; i < n; i++)
			if (tmp[i] >= 'A' && tmp[i] <= 'Z')
				tmp[i] = (char)(tmp[i] - 'A' + 'a');
		if (n > 0 && tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	if (!dns_name_ok(tmp, DNS_NAME_HEADER) || n + 1 > outlen)
		return false;
	memcpy(out, tmp, n + 1);
	return true;
}
