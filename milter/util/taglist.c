/* taglist - the one parser of RFC 6376 §3.2 tag-lists (strict) and of DMARC records'
 * lenient reading of them.
 *
 * taglist_init, taglist_next: a cursor handing out one tag at a time.
 * taglist_split: a strict list into an array, duplicates refused.
 * taglist_find, taglist_value_is, taglist_list_has: questions about parsed tags.
 * Nothing is allocated: tags point into the caller's text. Errors are short fixed
 * strings (plus at most a tag name): they end up in logs and in
 * Authentication-Results comments.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "taglist.h"

#define TAGLIST_MAX_QUOTED	16	/* octets of a tag name quoted in an error */

/* taglist_error - copy a fixed message into err; -1, taglist_next's error */
static int
taglist_error(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* taglist_is_wsp - RFC 5234 WSP */
static bool
taglist_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* taglist_is_blank - what the lenient syntax trims: WSP, and CR or LF on their own */
static bool
taglist_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* taglist_skip_fws - the index after any FWS (WSP, or CRLF followed by WSP) at i */
size_t
taglist_skip_fws(const char *s, size_t len, size_t i)
{
	for (;;) {
		if (i < len && taglist_is_wsp((unsigned char)s[i]))
			i++;
		else if (i + 2 < len && s[i] == '\r' && s[i + 1] == '\n' &&
		    taglist_is_wsp((unsigned char)s[i + 2]))
			i += 3;
		else
			return i;
	}
}

/* taglist_trim - strip lenient blanks from both ends of (*p, *len) */
static void
taglist_trim(const char **p, size_t *len)
{
	while (*len > 0 && taglist_is_blank((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && taglist_is_blank((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

/* taglist_init - a cursor at the start of s[0..len) */
void
taglist_init(struct taglist *tl, const char *s, size_t len, enum taglist_syntax syntax)
{
	tl->s = s;
	tl->len = s == NULL ? 0 : len;
	tl->pos = 0;
	tl->count = 0;
	tl->syntax = syntax;
}

/* taglist_next_lenient - the next ';'-separated part, cut at its first '=' */
static int
taglist_next_lenient(struct taglist *tl, struct taglist_tag *t)
{
	const char *part = tl->s + tl->pos, *semi, *eq;
	size_t plen;

	if (tl->pos >= tl->len)
		return 0;
	semi = memchr(part, ';', tl->len - tl->pos);
	plen = semi != NULL ? (size_t)(semi - part) : tl->len - tl->pos;
	tl->pos = semi != NULL ? tl->pos + plen + 1 : tl->len;
	taglist_trim(&part, &plen);
	eq = plen > 0 ? memchr(part, '=', plen) : NULL;
	t->name = part;
	if (eq == NULL) {
		t->name_len = plen;
		t->value = NULL;
		t->value_len = 0;
	} else {
		t->name_len = (size_t)(eq - part);
		t->value = eq + 1;
		t->value_len = plen - t->name_len - 1;
		taglist_trim(&t->name, &t->name_len);
		taglist_trim(&t->value, &t->value_len);
	}
	tl->count++;
	return 1;
}

/* taglist_next_strict - the next tag-spec of RFC 6376 §3.2 */
static int
taglist_next_strict(struct taglist *tl, struct taglist_tag *t, char *err, size_t errlen)
{
	const char *s = tl->s;
	size_t len = tl->len, i = taglist_skip_fws(s, len, tl->pos);

	if (i == len)
		return 0;
	if (!isalpha((unsigned char)s[i]))
		return taglist_error(err, errlen, tl->count > 0 && s[i] == ';' ?
		    "empty tag" : "malformed tag-list");
	size_t name = i;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
		i++;
	size_t name_len = i - name;
	i = taglist_skip_fws(s, len, i);
	if (i == len || s[i] != '=')
		return taglist_error(err, errlen, "malformed tag-list");
	i = taglist_skip_fws(s, len, i + 1);
	size_t value = i, end = i;
	while (i < len && s[i] != ';') {
		unsigned char c = (unsigned char)s[i];
		if (taglist_is_wsp(c)) {
			i++;
			continue;
		}
		if (c == '\r') {
			size_t j = taglist_skip_fws(s, len, i);
			if (j == i)
				return taglist_error(err, errlen,
				    "bad folding in tag value");
			i = j;
			continue;
		}
		if (c < 0x21 || c == 0x7f)
			return taglist_error(err, errlen,
			    "bad character in tag value");
		end = ++i;
	}
	t->name = s + name;
	t->name_len = name_len;
	t->value = s + value;
	t->value_len = end - value;
	tl->pos = i < len ? i + 1 : i;	/* past the ';' */
	tl->count++;
	return 1;
}

/* taglist_next - the next tag; see taglist.h */
int
taglist_next(struct taglist *tl, struct taglist_tag *t, char *err, size_t errlen)
{
	if (tl->syntax == TAGLIST_LENIENT)
		return taglist_next_lenient(tl, t);
	return taglist_next_strict(tl, t, err, errlen);
}

/* taglist_split - a strict list into tags[TAGLIST_MAX]; see taglist.h */
bool
taglist_split(const char *s, size_t len, struct taglist_tag *tags, size_t *n, char *err,
    size_t errlen)
{
	struct taglist tl;
	struct taglist_tag t;
	int rc;

	*n = 0;
	taglist_init(&tl, s, len, TAGLIST_STRICT);
	while ((rc = taglist_next(&tl, &t, err, errlen)) > 0) {
		for (size_t k = 0; k < *n; k++) {
			if (tags[k].name_len == t.name_len &&
			    memcmp(tags[k].name, t.name, t.name_len) == 0) {
				if (errlen > 0)
					snprintf(err, errlen, "duplicate tag %.*s=",
					    (int)(t.name_len > TAGLIST_MAX_QUOTED ?
					    TAGLIST_MAX_QUOTED : t.name_len), t.name);
				return false;
			}
		}
		if (*n == TAGLIST_MAX) {
			taglist_error(err, errlen, "too many tags");
			return false;
		}
		tags[(*n)++] = t;
	}
	return rc == 0;
}

/* taglist_find - the tag with this name, NULL when absent */
const struct taglist_tag *
taglist_find(const struct taglist_tag *tags, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (tags[i].name_len == nl && memcmp(tags[i].name, name, nl) == 0)
			return &tags[i];
	return NULL;
}

/* taglist_span_is - (p, len) equals word, ignoring ASCII case */
static bool
taglist_span_is(const char *p, size_t len, const char *word)
{
	size_t wl = strlen(word);

	return len == wl && strncasecmp(p, word, wl) == 0;
}

/* taglist_value_is - a tag value equals word, ignoring case (ABNF literals) */
bool
taglist_value_is(const struct taglist_tag *t, const char *word)
{
	return t != NULL && t->value != NULL &&
	    taglist_span_is(t->value, t->value_len, word);
}

/* taglist_list_has - a colon-separated tag value (FWS around elements) lists word */
bool
taglist_list_has(const struct taglist_tag *t, const char *word)
{
	const char *v = t->value;
	size_t len = t->value_len, i = 0;

	if (v == NULL)
		return false;
	while (i <= len) {
		const char *e = v + i;
		size_t el = 0;

		while (i < len && v[i] != ':')
			i++, el++;
		taglist_trim(&e, &el);
		if (taglist_span_is(e, el, word))
			return true;
		i++;
	}
	return false;
}
