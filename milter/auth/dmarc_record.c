/* dmarc_record - one RFC 9989 DMARC TXT record into a struct dmarc_record.
 *
 * dmarc_record_read    classifies and parses one TXT record (the record owns its
 *                      rua/ruf strings; dmarc_record_clear frees them)
 * dmarc_record_parse   the same, true only for a usable record
 * dmarc_record_copy    a deep copy, for a verdict that outlives its walk
 * dmarc_policy_name    a policy's spelling
 *
 * Choices, documented:
 * - A repeated tag name (compared without case, v= included) makes the record
 *   invalid (RFC 9989 §4.7 takes RFC 6376 §3.2's tag-list, where "the entire
 *   tag-list is invalid"): DMARC_REC_INVALID, discarded as if absent, as
 *   mailauth's strict mode does; err names the tag.
 * - The v value is "DMARC1", case-sensitive (RFC 9989 §4.7); tag names and the
 *   p/sp/np/adkim/aspf/t/psd values are compared case-insensitively.
 * - Unknown tags (pct, rf and ri among them now) and tags without '=' are
 *   ignored; a bad adkim, aspf, fo, t or psd falls back to its default.
 * - A bad or missing p, or a bad sp or np, with at least one valid rua URI acts
 *   as "v=DMARC1; p=none"; without one, DMARC does not apply (§4.10.1).
 * - A "!size" suffix on a rua/ruf URI is parsed and dropped (obsolete syntax).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_record.h"
#include "taglist.h"
#include "xalloc.h"

/* a tag's raw value: pointer into the TXT, length; NULL when absent */
struct raw {
	const char *v;
	size_t	    len;
};

/* dmarc_is_wsp - white space between tags (CR/LF taken leniently) */
static bool
dmarc_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dmarc_trim - strip white space from both ends of (p, len) */
static void
dmarc_trim(const char **p, size_t *len)
{
	while (*len > 0 && dmarc_is_wsp(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && dmarc_is_wsp((*p)[*len - 1]))
		(*len)--;
}

/* dmarc_eq - (p, len) equals the word w, ignoring case */
static bool
dmarc_eq(const char *p, size_t len, const char *w)
{
	return len == strlen(w) && strncasecmp(p, w, len) == 0;
}

/* dmarc_parse_policy - none/quarantine/reject; UNSET when absent or invalid (*bad) */
static enum dmarc_policy
dmarc_parse_policy(struct raw r, bool *bad)
{
	*bad = false;
	if (r.v == NULL)
		return DMARC_POLICY_UNSET;
	if (dmarc_eq(r.v, r.len, "none"))
		return DMARC_POLICY_NONE;
	if (dmarc_eq(r.v, r.len, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (dmarc_eq(r.v, r.len, "reject"))
		return DMARC_POLICY_REJECT;
	*bad = true;
	return DMARC_POLICY_UNSET;
}

/* dmarc_uri_valid - "scheme:rest" of printable ASCII without blanks (RFC 3986 §3.1) */
static bool
dmarc_uri_valid(const char *p, size_t len)
{
	size_t i, colon = 0;

	if (len == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
		if (c == ':' && colon == 0)
			colon = i;
	}
	if (colon == 0 || colon + 1 >= len)
		return false;
	for (i = 1; i < colon; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* dmarc_uri_drop_size - length of the URI without an obsolete "!<digits>[kmgt]" size
 * suffix (RFC 9989 keeps it in the ABNF only to be ignored); a '!' followed by
 * anything else stays part of the URI */
static size_t
dmarc_uri_drop_size(const char *u, size_t len)
{
	size_t bang = len, i;

	while (bang > 0 && u[bang - 1] != '!')
		bang--;
	if (bang == 0)
		return len;
	i = bang;
	while (i < len && u[i] >= '0' && u[i] <= '9')
		i++;
	if (i == bang)
		return len;
	if (i < len && strchr("kmgtKMGT", u[i]) != NULL)
		i++;
	return i == len ? bang - 1 : len;
}

/* dmarc_parse_uris - comma-separated URIs, each trimmed; at most DMARC_MAX_URIS kept,
 * invalid ones and the rest dropped */
static void
dmarc_parse_uris(struct raw r, char **out, size_t *n)
{
	const char *p, *end;

	*n = 0;
	if (r.v == NULL)
		return;		/* tag absent; NULL + 0 would be undefined */
	p = r.v;
	end = r.v + r.len;
	while (p <= end && *n < DMARC_MAX_URIS) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *u = p;
		size_t ulen = (comma ? comma : end) - p;

		dmarc_trim(&u, &ulen);
		ulen = dmarc_uri_drop_size(u, ulen);
		if (dmarc_uri_valid(u, ulen))
			out[(*n)++] = xstrndup(u, ulen);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

/* dmarc_fo_valid - "0", "1", "d", "s" separated by ':' */
static bool
dmarc_fo_valid(struct raw r)
{
	size_t i;

	if (r.len == 0 || r.len >= sizeof(((struct dmarc_record *)0)->fo))
		return false;
	for (i = 0; i < r.len; i++) {
		char c = r.v[i];

		if (i % 2 == 0 ? strchr("01ds", c) == NULL || c == '\0' : c != ':')
			return false;
	}
	return r.len % 2 == 1;
}

/* dmarc_record_defaults - an empty record with every default */
static void
dmarc_record_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->adkim = r->aspf = DMARC_ALIGN_RELAXED;
	r->psd = DMARC_PSD_U;
	memcpy(r->fo, "0", 2);
}

/* the tags read from one record: a slot each, in the order of dmarc_tag_names */
enum { T_P, T_SP, T_NP, T_T, T_PSD, T_ADKIM, T_ASPF, T_RUA, T_RUF, T_FO, T_KNOWN };
static const char *const dmarc_tag_names[T_KNOWN] = {
	"p", "sp", "np", "t", "psd", "adkim", "aspf", "rua", "ruf", "fo"
};

/* Unknown tag names remembered to find a repeated one; past this many distinct
 * unknown names a repeat among the later ones goes unnoticed (they are ignored
 * anyway), which keeps a 64 KB record of distinct names linear. */
#define DMARC_MAX_UNKNOWN_TAGS	32

/* dmarc_tag_seen - has a tag of this name (ignoring case) come before; remembers it.
 * The known tags have their slot in raw; v= is known too (the first tag). */
static bool
dmarc_tag_seen(const struct taglist_tag *tag, struct raw raw[T_KNOWN],
    struct raw unknown[DMARC_MAX_UNKNOWN_TAGS], size_t *n_unknown)
{
	size_t i;

	if (dmarc_eq(tag->name, tag->name_len, "v"))
		return true;
	for (i = 0; i < T_KNOWN; i++)
		if (dmarc_eq(tag->name, tag->name_len, dmarc_tag_names[i])) {
			if (raw[i].v != NULL)
				return true;
			raw[i].v = tag->value;
			raw[i].len = tag->value_len;
			return false;
		}
	/* anything else, pct, rf and ri included: ignored (§4.7), but counted */
	for (i = 0; i < *n_unknown; i++)
		if (unknown[i].len == tag->name_len &&
		    strncasecmp(unknown[i].v, tag->name, tag->name_len) == 0)
			return true;
	if (*n_unknown < DMARC_MAX_UNKNOWN_TAGS) {
		unknown[*n_unknown].v = tag->name;
		unknown[(*n_unknown)++].len = tag->name_len;
	}
	return false;
}

/* dmarc_record_tags - after v=DMARC1, each tag into its slot of raw; false with a
 * reason in err for a repeated tag name (RFC 6376 §3.2: the whole list is invalid) */
static bool
dmarc_record_tags(struct taglist *tl, struct raw raw[T_KNOWN], char *err,
    size_t errlen)
{
	struct raw unknown[DMARC_MAX_UNKNOWN_TAGS];
	size_t n_unknown = 0;
	struct taglist_tag tag;

	while (taglist_next(tl, &tag, NULL, 0) > 0) {
		if (tag.value == NULL)
			continue;	/* ";;", or no '=': Mail::DMARC skips these too */
		if (dmarc_tag_seen(&tag, raw, unknown, &n_unknown)) {
			snprintf(err, errlen, "duplicate tag %.*s= (RFC 6376 section 3.2)",
			    (int)(tag.name_len > 32 ? 32 : tag.name_len), tag.name);
			return false;
		}
	}
	return true;
}

/* dmarc_record_read - classify and parse one TXT record */
enum dmarc_record_kind
dmarc_record_read(const char *txt, size_t len, struct dmarc_record *r, char *err,
    size_t errlen)
{
	struct raw raw[T_KNOWN] = { { 0 } };
	struct raw p, sp, np, adkim, aspf, rua, ruf, fo, t, psd;
	struct taglist tl;
	struct taglist_tag tag;
	bool first = true, bad_p, bad_sp, bad_np;

	dmarc_record_defaults(r);
	taglist_init(&tl, txt, len, TAGLIST_LENIENT);
	/* the value is case-sensitive (§4.7): v=dmarc1 is not DMARC */
	if (taglist_next(&tl, &tag, NULL, 0) > 0 && tag.value != NULL &&
	    dmarc_eq(tag.name, tag.name_len, "v") && tag.value_len == 6 &&
	    memcmp(tag.value, "DMARC1", 6) == 0) {
		first = false;
		if (!dmarc_record_tags(&tl, raw, err, errlen))
			return DMARC_REC_INVALID;
	}
	p = raw[T_P], sp = raw[T_SP], np = raw[T_NP], t = raw[T_T], psd = raw[T_PSD];
	adkim = raw[T_ADKIM], aspf = raw[T_ASPF], rua = raw[T_RUA], ruf = raw[T_RUF];
	fo = raw[T_FO];
	if (first) {
		snprintf(err, errlen, "not a DMARC record (no v=DMARC1 first)");
		return DMARC_REC_NOT_DMARC;
	}
	dmarc_parse_uris(rua, r->rua, &r->n_rua);
	dmarc_parse_uris(ruf, r->ruf, &r->n_ruf);
	r->p = dmarc_parse_policy(p, &bad_p);
	r->sp = dmarc_parse_policy(sp, &bad_sp);
	r->np = dmarc_parse_policy(np, &bad_np);
	if (t.v != NULL && dmarc_eq(t.v, t.len, "y"))
		r->testing = true;
	if (psd.v != NULL && dmarc_eq(psd.v, psd.len, "y"))
		r->psd = DMARC_PSD_Y;
	else if (psd.v != NULL && dmarc_eq(psd.v, psd.len, "n"))
		r->psd = DMARC_PSD_N;
	if (r->p == DMARC_POLICY_UNSET || bad_sp || bad_np) {
		if (r->n_rua == 0) {
			snprintf(err, errlen, "%s and no valid rua",
			    bad_sp ? "invalid sp" :
			    bad_np ? "invalid np" : p.v ? "invalid p" : "no p");
			r->p = r->sp = r->np = DMARC_POLICY_UNSET;
			return DMARC_REC_UNUSABLE;
		}
		/* §4.10.1: as if "p=none" was retrieved */
		r->p = DMARC_POLICY_NONE;
		r->sp = r->np = DMARC_POLICY_UNSET;
	}
	if (adkim.v != NULL && dmarc_eq(adkim.v, adkim.len, "s"))
		r->adkim = DMARC_ALIGN_STRICT;
	if (aspf.v != NULL && dmarc_eq(aspf.v, aspf.len, "s"))
		r->aspf = DMARC_ALIGN_STRICT;
	if (fo.v != NULL && dmarc_fo_valid(fo)) {
		memcpy(r->fo, fo.v, fo.len);
		r->fo[fo.len] = '\0';
	}
	if (errlen > 0)
		err[0] = '\0';
	return DMARC_REC_OK;
}

/* dmarc_record_parse - false with a reason when this TXT is not a usable record */
bool
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r, char *err,
    size_t errlen)
{
	enum dmarc_record_kind k = dmarc_record_read(txt, len, r, err, errlen);

	if (k == DMARC_REC_UNUSABLE)
		dmarc_record_clear(r);
	return k == DMARC_REC_OK;
}

/* dmarc_record_clear - free the URIs, back to defaults; NULL is fine */
void
dmarc_record_clear(struct dmarc_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_rua && i < DMARC_MAX_URIS; i++)
		free(r->rua[i]);
	for (i = 0; i < r->n_ruf && i < DMARC_MAX_URIS; i++)
		free(r->ruf[i]);
	dmarc_record_defaults(r);
}

/* dmarc_record_copy - a deep copy of src into dst (dst's old contents not freed) */
void
dmarc_record_copy(struct dmarc_record *dst, const struct dmarc_record *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < src->n_rua; i++)
		dst->rua[i] = xstrdup(src->rua[i]);
	for (i = 0; i < src->n_ruf; i++)
		dst->ruf[i] = xstrdup(src->ruf[i]);
}

/* dmarc_policy_name - "none", "quarantine", "reject", "unset" */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_UNSET:
		return "unset";
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	}
	return "unset";
}
