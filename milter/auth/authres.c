/* authres - RFC 8601 Authentication-Results: build our header value, recognise
 * incoming ones that claim our authserv-id.
 *
 * authres_render builds our whole value from a message's verdict record (caller
 * frees); authres_begin/method/prop/none append to a caller's struct buf (the
 * caller owns and frees it); authres_is_ours reads an incoming value as (pointer, length);
 * authres_comment_safe copies text into a caller's buffer; authres_redact appends
 * an incoming value with its local parts redacted to a caller's struct buf.
 *
 * What goes out: method and property names are our own constants (a bad one is
 * our bug and aborts); values are RFC 2045 tokens or [local-part "@"] domain-name
 * (RFC 8601 pvalue) when they fit, else quoted strings free of ';', space, '(',
 * ')', '"' and '\\' (so that a parser splitting on them cannot read attacker text
 * as a result); anything else becomes its domain alone ("x;dkim=pass"@evil.example
 * is written evil.example) or the token "invalid". Comments never carry CR, LF,
 * parentheses, backslashes or ';'.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "buf.h"
#include "bytes.h"
#include "dns_name.h"
#include "fatal.h"
#include "result.h"
#include "verdict.h"

#define AUTHRES_MAX_VALUE	1024	/* bytes of one property value we emit */
#define AUTHRES_MAX_COMMENT	256	/* bytes of one comment we emit */
#define AUTHRES_MAX_ID		256	/* bytes of an incoming authserv-id we compare */

/* authres_is_tspecial - RFC 2045 §5.1 tspecials */
static bool
authres_is_tspecial(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* authres_is_token_char - RFC 2045 token: CHAR except SPACE, CTLs, tspecials */
static bool
authres_is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !authres_is_tspecial(c);
}

/* authres_is_token - s is a non-empty RFC 2045 token */
static bool
authres_is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!authres_is_token_char((unsigned char)*s))
			return false;
	return true;
}

/* authres_is_atext - RFC 5322 atext (ASCII only: what may stand bare in a header) */
static bool
authres_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* authres_is_bare_pvalue - [dot-atom "@"] domain-name (RFC 8601 §2.2 pvalue), which
 * every parser reads without quotes: smtp.mailfrom=user@example.com */
static bool
authres_is_bare_pvalue(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t i;

	if (at == NULL)
		return false;
	for (i = 0; s + i < at; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (i == 0 || s[i - 1] == '.' || s + i + 1 == at)
				return false;
		} else if (!authres_is_atext(c)) {
			return false;
		}
	}
	return dns_name_ok(at + 1, DNS_NAME_HEADER);
}

/* authres_utf8_valid - s is well-formed UTF-8 (no overlongs, no surrogates) */
static bool
authres_utf8_valid(const unsigned char *s)
{
	size_t left = strlen((const char *)s), n;
	uint32_t cp;

	for (; left > 0; s += n, left -= n)
		if ((n = bytes_utf8_char(s, left, &cp)) == 0)
			return false;
	return true;
}

/* authres_quotable - s may stand inside a quoted value: no control bytes, valid UTF-8,
 * and none of the characters that a parser splitting on them without honouring
 * quotes would take for structure (';' ends a method, white space starts another
 * property, a parenthesis opens a comment), nor '"' or '\\' */
static bool
authres_quotable(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || strchr(" ;()\"\\", *p) != NULL)
			return false;
	return authres_utf8_valid((const unsigned char *)s);
}

/* authres_put_value - a value as a token, a bare pvalue (when allowed) or a quoted
 * string. A pvalue that is none of these but ends in "@domain" is written as the
 * domain alone (RFC 8601 §2.7.2 allows the local-part to go); anything else
 * becomes "invalid" */
static void
authres_put_value(struct buf *out, const char *value, bool pvalue)
{
	const char *at;

	if (value == NULL || strlen(value) > AUTHRES_MAX_VALUE) {
		buf_puts(out, "invalid");
		return;
	}
	if (authres_is_token(value) || (pvalue && authres_is_bare_pvalue(value))) {
		buf_puts(out, value);
		return;
	}
	if (authres_quotable(value)) {
		buf_printf(out, "\"%s\"", value);
		return;
	}
	at = strrchr(value, '@');
	if (pvalue && at != NULL && dns_name_ok(at + 1, DNS_NAME_HEADER))
		buf_puts(out, at + 1);
	else
		buf_puts(out, "invalid");
}

/* authres_check_keyword - method and property names come from our code, not from peers */
static void
authres_check_keyword(const char *what, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			break;
	}
	if (p == s || *p != '\0') {
		fatal_bug("authres: bad %s name \"%s\"", what, s);
	}
}

/* authres_begin - start a value: the authserv-id */
void
authres_begin(struct buf *out, const char *authserv_id)
{
	authres_put_value(out, authserv_id, false);	/* RFC 8601: a value,
	    never a pvalue */
}

/* authres_method - append ";\r\n\tMETHOD=RESULT" with an optional (comment) */
void
authres_method(struct buf *out, const char *method, enum auth_result r,
    const char *comment)
{
	char safe[AUTHRES_MAX_COMMENT];

	authres_check_keyword("method", method);
	buf_printf(out, ";\r\n\t%s=%s", method, auth_result_name(r));
	if (comment == NULL)
		return;
	authres_comment_safe(comment, safe, sizeof(safe));
	if (safe[0] != '\0')
		buf_printf(out, " (%s)", safe);
}

/* authres_prop - append " ptype.property=value" */
void
authres_prop(struct buf *out, const char *ptype_property, const char *value)
{
	authres_check_keyword("property", ptype_property);
	if (strchr(ptype_property, '.') == NULL) {
		fatal_bug("authres: property \"%s\" has no ptype", ptype_property);
	}
	buf_printf(out, " %s=", ptype_property);
	authres_put_value(out, value, true);
}

/* authres_render_dkim - one "dkim=" per signature, with l= in the comment */
static void
authres_render_dkim(struct buf *b, const struct dkim_verdict *dv)
{
	char comment[300];

	if (dv->length >= 0)
		snprintf(comment, sizeof(comment), "%s%sl=%lld", dv->reason,
		    dv->reason[0] ? ", " : "", dv->length);
	else
		snprintf(comment, sizeof(comment), "%s", dv->reason);
	authres_method(b, "dkim", dv->result, comment[0] ? comment : NULL);
	/* header.d always (RFC 8601 §2.7.1); the others only when known: a row
	 * of empty quoted values helps nobody and trips parsers */
	authres_prop(b, "header.d", dv->domain);
	if (dv->identity[0] != '\0')
		authres_prop(b, "header.i", dv->identity);
	if (dv->selector[0] != '\0')
		authres_prop(b, "header.s", dv->selector);
	if (dv->alg[0] != '\0')
		authres_prop(b, "header.a", dv->alg);
	if (dv->b_prefix[0] != '\0')
		authres_prop(b, "header.b", dv->b_prefix);
}

/* authres_render_dmarc - "dmarc=" with the policy, its tag and domain and the
 * disposition, or the reason; the policy domain has no registered property
 * (RFC 9989 §9.1), so it goes in the comment; policy.dmarc is the policy after t= */
static void
authres_render_dmarc(struct buf *b, const struct dmarc_verdict *dm)
{
	char comment[720];
	bool judged = dm->result == AUTH_PASS || dm->result == AUTH_FAIL;

	if (judged)
		snprintf(comment, sizeof(comment), "%s=%s%s dis=%s policy.domain=%s",
		    dm->tag != NULL ? dm->tag : "p", dmarc_policy_name(dm->policy),
		    dm->testing ? " t=y" : "",
		    dmarc_policy_name(dm->disposition), dm->record_domain);
	else
		snprintf(comment, sizeof(comment), "%s", dm->reason);
	authres_method(b, "dmarc", dm->result, comment[0] ? comment : NULL);
	authres_prop(b, "header.from", dm->from_domain);
	if (judged)
		authres_prop(b, "policy.dmarc", dmarc_policy_name(dm->applied));
}

/* authres_render_arc - "arc=" (RFC 8617 §4.1.3/§10.1): header.oldest-pass
 * and smtp.remote-ip; the reason of a failing chain in the comment. A message
 * without ARC fields gets a bare arc=none (RFC 8617 §4.4), so a reader can
 * tell "checked, nothing there" from "not checked" (no arc= at all). */
static void
authres_render_arc(struct buf *b, const struct arc_verdict *a, const char *remote_ip)
{
	char n[16];

	if (a->result == AUTH_NONE) {
		authres_method(b, "arc", AUTH_NONE, NULL);
		return;
	}
	authres_method(b, "arc", a->result, a->reason[0] ? a->reason : NULL);
	if (a->result == AUTH_PASS) {
		snprintf(n, sizeof(n), "%u", a->oldest_pass);
		authres_prop(b, "header.oldest-pass", n);
	}
	if (remote_ip != NULL)
		authres_prop(b, "smtp.remote-ip", remote_ip);
}

/* authres_render - our A-R value for a verdict record */
char *
authres_render(const struct verdict *v, const char *authserv_id)
{
	const struct spf_verdict *sm = v->spf_mailfrom, *sh = v->spf_helo;
	struct buf b = BUF_INIT;

	buf_putc(&b, ' ');	/* values are kept as written after the colon */
	authres_begin(&b, authserv_id);
	if (v->iprev != NULL) {
		authres_method(&b, "iprev", v->iprev->result,
		    v->iprev->name[0] ? v->iprev->name : v->iprev->reason);
		authres_prop(&b, "policy.iprev", v->iprev->addr);
	}
	if (sm != NULL && sm->result != AUTH_SKIPPED) {
		authres_method(&b, "spf", sm->result, sm->reason);
		authres_prop(&b, "smtp.mailfrom", sm->sender);
	}
	if (sh != NULL && sh->result != AUTH_SKIPPED) {
		authres_method(&b, "spf", sh->result, sh->reason);
		authres_prop(&b, "smtp.helo", sh->sender);
	}
	if (v->dkim_checked && v->n_dkim == 0)
		authres_method(&b, "dkim", AUTH_NONE, NULL);
	for (size_t i = 0; i < v->n_dkim; i++)
		authres_render_dkim(&b, &v->dkim[i]);
	if (v->dmarc != NULL)
		authres_render_dmarc(&b, v->dmarc);
	if (v->arc != NULL)
		authres_render_arc(&b, v->arc, v->remote_ip);
	return buf_steal(&b);
}

/* authres_none - the "; none" body for a message nothing was checked on */
void
authres_none(struct buf *out)
{
	buf_puts(out, "; none");
}

/* authres_comment_safe - copy text into out as safe comment text */
void
authres_comment_safe(const char *text, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return;
	for (i = 0; text != NULL && text[i] != '\0' && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)text[i];

		/* non-ASCII too: a comment is for people, and 8-bit headers are
		 * not safe through every MTA */
		if (c < 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '\\')
			c = '?';
		else if (c == ';')	/* parsers that split on it ignore comments */
			c = ',';
		out[o++] = (char)c;
	}
	/* no trailing blanks: they would sit before the ')' */
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* authres_skip_cfws - whitespace, folds and nested comments; returns the new position */
static size_t
authres_skip_cfws(const char *v, size_t len, size_t i)
{
	while (i < len) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
			i++;
		} else if (v[i] == '(') {
			size_t depth = 0;

			while (i < len) {
				char c = v[i++];

				if (c == '\\' && i < len)
					i++;
				else if (c == '(')
					depth++;
				else if (c == ')' && --depth == 0)
					break;
			}
		} else {
			break;
		}
	}
	return i;
}

/* authres_same_id - case-insensitive, a final dot on either side ignored */
static bool
authres_same_id(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	return alen > 0 && alen == blen && strncasecmp(a, b, alen) == 0;
}

/* authres_is_ours - true when an incoming A-R value names authserv_id.
 *
 * Only the authserv-id is read: what follows (a version, ";", garbage) does not
 * matter, because a header that downstream readers may take for ours must go. An
 * unterminated quoted string is compared as far as it goes, for the same reason.
 */
bool
authres_is_ours(const char *value, size_t len, const char *authserv_id)
{
	char id[AUTHRES_MAX_ID];
	size_t i, n = 0;

	if (value == NULL || authserv_id == NULL)
		return false;
	i = authres_skip_cfws(value, len, 0);
	if (i < len && value[i] == '"') {
		for (i++; i < len && value[i] != '"'; i++) {
			char c = value[i];

			if (c == '\\' && i + 1 < len)
				c = value[++i];
			else if (c == '\r' || c == '\n')
				continue;	/* a fold inside the quotes */
			if (n + 1 >= sizeof(id))
				return false;	/* longer than any id of ours */
			id[n++] = c;
		}
	} else {
		for (; i < len && authres_is_token_char((unsigned char)value[i]); i++) {
			if (n + 1 >= sizeof(id))
				return false;
			id[n++] = value[i];
		}
	}
	id[n] = '\0';
	return authres_same_id(id, n, authserv_id);
}

/* authres_redact_item - one item of an A-R value (words and quoted strings with no
 * white space between them): the local part of an address in its value (what
 * follows the first '=' outside quotes, else the whole item) becomes word, and
 * so does a whole smtp.auth value, which names a user (RFC 8601 §2.7.4) */
static void
authres_redact_item(struct buf *out, const char *v, size_t len, const char *word)
{
	size_t eq = len, at = len;
	bool quoted = false, q_at = false;

	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\\' && quoted && i + 1 < len)
			i++;
		else if (v[i] == '"')
			quoted = !quoted;
		else if (v[i] == '=' && !quoted && eq == len)
			eq = i;
		else if (v[i] == '@' && (eq == len || i > eq)) {
			at = i;
			q_at = quoted;
		}
	}
	if (eq < len && at == len && eq == 9 && strncasecmp(v, "smtp.auth", 9) == 0 &&
	    eq + 1 < len) {
		buf_append(out, v, eq + 1);
		buf_puts(out, word);
		return;
	}
	{
		size_t from = eq < len ? eq + 1 : 0;

		if (at == len || at == from || (q_at && at == from + 1)) {
			buf_append(out, v, len);	/* no local part: "@domain" stays */
			return;
		}
		buf_append(out, v, from);
		buf_puts(out, q_at ? "\"" : "");
		buf_puts(out, word);
		buf_append(out, v + at, len - at);
	}
}

/* authres_redact - see authres.h. One pass: comments, quoted strings and items
 * are each read once, so the cost is linear in len. */
void
authres_redact(struct buf *out, const char *v, size_t len, const char *word)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		if (v[i] == '(') {
			j = authres_skip_cfws(v, len, i);
			if (memchr(v + i, '@', j - i) != NULL) {
				const char *close = memrchr(v + i, ')', j - i);
				size_t after = close ? (size_t)(close + 1 - v) : j;

				/* free text naming someone; the blanks after it stay */
				buf_printf(out, "(%s)", word);
				buf_append(out, v + after, j - after);
			} else {
				buf_append(out, v + i, j - i);
			}
		} else if (strchr(" \t\r\n;", v[i]) != NULL) {
			buf_putc(out, v[i]);
			j = i + 1;
		} else {
			bool quoted = false;

			for (; j < len; j++) {
				if (quoted && v[j] == '\\' && j + 1 < len)
					j++;
				else if (v[j] == '"')
					quoted = !quoted;
				else if (!quoted && strchr(" \t\r\n;(", v[j]) != NULL)
					break;
			}
			authres_redact_item(out, v + i, j - i, word);
		}
		i = j > i ? j : i + 1;
	}
}
