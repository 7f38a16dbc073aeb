/* arc_verify - validate the ARC chain of one inbound message (RFC 8617 §5.2).
 *
 * arc_verify_field: is a header name an ARC field, and which.
 * arc_verify_new/free: per-message state over the shared resolver and body set.
 * arc_verify_add: parse one ARC field as it arrives, start its key lookup (one
 *   per distinct key name, at most ARC_MAX_KEYS) and (for an
 *   ARC-Message-Signature) register its body hash with the body set.
 * arc_verify_unstored: an ARC field the header caps kept out.
 * arc_verify_finish: the chain's verdict (owned by the struct arc_verify).
 * arc_verify_aar_instance, arc_verify_aar_vouch: pure readers of an
 *   ARC-Authentication-Results value (for the structure check and the policy).
 *
 * The signatures are checked by the DKIM verifier, not a copy of it: an AMS is a
 * DKIM-Signature without v= whose i= is the instance, and an AS is a signature
 * over the ARC sets themselves (RFC 8617 §5.1.1), relaxed, b= blanked. Each is
 * rewritten into the DKIM-Signature tag-list that dkim_sig_parse reads ("v=1;"
 * in front, i= renamed to a tag DKIM ignores; an AS also gets "h=From" and an
 * all-zero bh= that no check compares with a body), and checked with
 * dkim_verify_answer: for an AS over a view of the header list that holds the
 * seal and, below it, the sets newest first, so that DKIM's bottom-up choice of
 * fields (RFC 6376 §5.4.2) picks them oldest first.
 *
 * Choices where RFC 8617 leaves room (each verdict's reason says which applied):
 * - Order of checks: no ARC field -> none; a field whose i= cannot be read, more
 *   than ARC_MAX_FIELDS fields, a field longer than ARC_MAX_FIELD_LEN, i= above
 *   50, a missing or repeated field of an instance -> fail (§5.2 steps 2-3);
 *   newest AS cv=fail -> fail; cv= other than none at i=1 / pass above -> fail;
 *   newest AMS not passing -> fail (temperror when its key lookup failed
 *   temporarily); any AS not passing -> fail (temperror likewise); else pass.
 * - oldest-pass (§5.2 step 6): the AMS are checked from the newest down; the
 *   first that does not pass at instance k gives oldest-pass k+1 and the older
 *   ones are not checked (they cannot change it); all passing gives 0. An older
 *   AMS that does not parse counts as not passing.
 * - What an AAR vouches for (info[].vouch) is read only at instances at or
 *   above oldest-pass: below it the set was made for another message (a set
 *   copied verbatim keeps a valid seal under a newer hop's AS).
 * - An AMS whose h= names ARC-Seal fails (§4.1.2); an AS with h= fails (§4.1.3).
 * - A message whose header fields went past the header caps: fail (the fields
 *   the signatures cover may be among those not stored); an ARC field past them
 *   makes the chain fail even when no other ARC field was stored.
 * - Fields naming the same key (s=, d=) share one lookup; a signature naming a
 *   key beyond ARC_MAX_KEYS distinct ones is not looked up and does not verify
 *   (a 50-set chain from 50 sealers fails rather than cost 100 lookups).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_verify.h"
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "dns.h"
#include "taglist.h"
#include "trace.h"
#include "xalloc.h"

#define ARC_KEY_NAME_MAX	253	/* "sel._domainkey.dom" must be a DNS name */
#define ARC_INSTANCE_DIGITS	9	/* i= longer than this is unreadable */
#define ARC_AAR_MAX_DEPTH	8	/* nested comments in an AAR */

enum arc_kind { ARC_NONE = 0, ARC_AAR = 1, ARC_AMS = 2, ARC_AS = 3 };

static const char *const arc_names[] = {
	"", "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"
};

/* One ARC field of the message: per-message, freed by arc_verify_free. */
struct arc_field {
	enum arc_kind	 kind;
	unsigned	 instance;	/* 0: i= unreadable */
	size_t		 header_index;
	bool		 parsed;	/* sig holds the AMS/AS */
	struct dkim_sig	 sig;
	char		 cv;		/* AS: 'n'one, 'p'ass, 'f'ail */
	char		 err[96];	/* why it did not parse */
	struct dns_query *query;	/* key lookup, NULL when not started */
	bool		 shared;	/* query belongs to an earlier field */
	struct dkim_body_hash *body_hash;	/* AMS: owned by the body set */
};

/* Per-message state: created at MAIL FROM, freed at end of message/abort. */
struct arc_verify {
	struct dns_resolver	*resolver;	/* shared, not owned */
	struct dkim_verify_opts	 opts;
	struct dkim_body_set	*body;		/* shared, not owned */
	struct arc_field	 f[ARC_MAX_FIELDS];
	size_t			 n;
	size_t			 dropped;	/* fields beyond ARC_MAX_FIELDS */
	bool			 unstored;	/* a field past the header caps */
	unsigned		 n_keys;	/* distinct key lookups started */
	bool			 finished;
	struct arc_verdict	 verdict;
	struct dkim_verify_budget own;		/* when opts.budget was NULL */
};

/* arc_verify_field - see arc_verify.h */
int
arc_verify_field(const char *name)
{
	for (int k = ARC_AAR; k <= ARC_AS; k++)
		if (strcasecmp(name, arc_names[k]) == 0)
			return k;
	return ARC_NONE;
}

/* arc_reason - set the verdict's reason, safe inside an A-R comment */
static void
arc_reason(struct arc_verdict *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
arc_reason(struct arc_verdict *out, const char *fmt, ...)
{
	char raw[256];
	va_list ap;
	size_t o = 0;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	for (size_t i = 0; raw[i] != '\0' && o < sizeof(out->reason) - 1; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c >= 0x7f || c == ';' || c == '(' || c == ')' || c == '\\')
			c = ' ';
		out->reason[o++] = (char)c;
	}
	out->reason[o] = '\0';
}

/* arc_digits - a run of 1..ARC_INSTANCE_DIGITS decimal digits; 0 otherwise */
static unsigned
arc_digits(const char *s, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > ARC_INSTANCE_DIGITS)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v;
}

/* arc_skip_cfws - past spaces, tabs, CRLF and (bounded, nested) comments */
static size_t
arc_skip_cfws(const char *s, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = s[i];

		if (depth > 0 && c == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (c == '(') {
			if (++depth > ARC_AAR_MAX_DEPTH)
				return len;
		} else if (c == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return i;
		}
		i++;
	}
	return len;
}

/* arc_verify_aar_instance - see arc_verify.h */
unsigned
arc_verify_aar_instance(const char *value, size_t len)
{
	size_t i = arc_skip_cfws(value, len, 0), start;

	if (i >= len || value[i] != 'i')
		return 0;
	i = arc_skip_cfws(value, len, i + 1);
	if (i >= len || value[i] != '=')
		return 0;
	i = arc_skip_cfws(value, len, i + 1);
	for (start = i; i < len && isdigit((unsigned char)value[i]); i++)
		;
	unsigned n = arc_digits(value + start, i - start);
	i = arc_skip_cfws(value, len, i);
	return i < len && value[i] == ';' ? n : 0;
}

/* arc_dkim_form - the DKIM-Signature tag-list an AMS or AS value reads as (see
 * the file header); false with err when the value cannot be one. *instance
 * gets i= (0 when unreadable) and, for an AS, *cv the first letter of cv=. */
static bool
arc_dkim_form(enum arc_kind kind, const char *value, size_t len, struct buf *out,
    unsigned *instance, char *cv, char *err, size_t errlen)
{
	struct taglist_tag tags[TAGLIST_MAX];
	const struct taglist_tag *t;
	size_t n;

	*instance = 0;
	if (!taglist_split(value, len, tags, &n, err, errlen))
		return false;
	if ((t = taglist_find(tags, n, "i")) == NULL ||
	    (*instance = arc_digits(t->value, t->value_len)) == 0) {
		snprintf(err, errlen, "bad or missing i=");
		return false;
	}
	if (taglist_find(tags, n, "v") != NULL) {
		snprintf(err, errlen, "v= in an ARC signature");
		return false;
	}
	buf_puts(out, "v=1; ");
	if (kind == ARC_AS) {
		const struct taglist_tag *c = taglist_find(tags, n, "cv");

		if (taglist_find(tags, n, "h") != NULL) {
			snprintf(err, errlen, "h= in an ARC-Seal");
			return false;
		}
		if (c == NULL) {
			snprintf(err, errlen, "missing cv=");
			return false;
		}
		if (c->value_len == 4 && strncasecmp(c->value, "none", 4) == 0)
			*cv = 'n';
		else if (c->value_len == 4 && strncasecmp(c->value, "pass", 4) == 0)
			*cv = 'p';
		else if (c->value_len == 4 && strncasecmp(c->value, "fail", 4) == 0)
			*cv = 'f';
		else {
			snprintf(err, errlen, "bad cv=");
			return false;
		}
		/* 32 zero bytes: an AS covers no body */
		buf_puts(out, "h=From; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; ");
	}
	/* i= renamed to a tag no DKIM parser reads */
	size_t at = (size_t)(t->name - value);
	buf_append(out, value, at);
	buf_puts(out, "arc_instance");
	buf_append(out, value + at + 1, len - at - 1);
	return true;
}

/* arc_verify_new - see arc_verify.h */
struct arc_verify *
arc_verify_new(struct dns_resolver *r, const struct dkim_verify_opts *opts,
    struct dkim_body_set *body)
{
	struct arc_verify *v = xcalloc(1, sizeof(*v));

	v->resolver = r;
	v->opts = *opts;
	v->body = body;
	if (v->opts.budget == NULL)
		v->opts.budget = &v->own;
	return v;
}

/* arc_lookup - the key lookup of a parsed AMS or AS: shared with an earlier
 * field naming the same key, else started now while under ARC_MAX_KEYS */
static void
arc_lookup(struct arc_verify *v, struct arc_field *f)
{
	for (size_t i = 0; i + 1 < v->n; i++) {
		const struct arc_field *e = &v->f[i];

		if (e->query != NULL && !e->shared &&
		    strcasecmp(e->sig.selector, f->sig.selector) == 0 &&
		    strcmp(e->sig.domain, f->sig.domain) == 0) {
			f->query = e->query;
			f->shared = true;
			return;
		}
	}
	if (v->n_keys == ARC_MAX_KEYS) {
		snprintf(f->err, sizeof(f->err), "more than %d ARC key names",
		    ARC_MAX_KEYS);
		f->parsed = false;
		return;
	}
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s._domainkey.%s", f->sig.selector, f->sig.domain);
	if (key.len <= ARC_KEY_NAME_MAX && v->resolver != NULL) {
		f->query = dns_query_start(v->resolver, buf_cstr(&key), DNS_T_TXT);
		v->n_keys++;
	}
	buf_free(&key);
}

/* arc_verify_add - see arc_verify.h */
void
arc_verify_add(struct arc_verify *v, const char *name, const char *value,
    size_t value_len, size_t header_index)
{
	enum arc_kind kind = (enum arc_kind)arc_verify_field(name);
	struct arc_field *f;
	struct buf form = BUF_INIT;

	if (kind == ARC_NONE || v->finished)
		return;
	if (v->n == ARC_MAX_FIELDS) {
		v->dropped++;
		return;
	}
	f = &v->f[v->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->header_index = header_index;
	if (value_len > ARC_MAX_FIELD_LEN) {
		snprintf(f->err, sizeof(f->err), "over %d bytes", ARC_MAX_FIELD_LEN);
		return;
	}
	if (kind == ARC_AAR) {
		f->instance = arc_verify_aar_instance(value, value_len);
		if (f->instance == 0)
			snprintf(f->err, sizeof(f->err), "bad or missing i=");
		return;
	}
	if (!arc_dkim_form(kind, value, value_len, &form, &f->instance, &f->cv, f->err,
	    sizeof(f->err)) ||
	    !dkim_sig_parse(buf_cstr(&form), form.len, &f->sig, f->err, sizeof(f->err))) {
		buf_free(&form);
		dkim_sig_clear(&f->sig);
		return;
	}
	buf_free(&form);
	if (kind == ARC_AS) {
		f->sig.header_canon = DKIM_CANON_RELAXED;	/* RFC 8617 §5.1.1 */
	} else {
		for (size_t i = 0; i < f->sig.n_headers; i++)
			if (strcasecmp(f->sig.headers[i], "ARC-Seal") == 0) {
				snprintf(f->err, sizeof(f->err), "h= names ARC-Seal");
				dkim_sig_clear(&f->sig);
				return;
			}
		f->body_hash = dkim_verify_body_hash(v->opts.budget, v->body,
		    f->sig.body_canon, f->sig.length);
		if (f->body_hash == NULL) {
			snprintf(f->err, sizeof(f->err), "over %d body hashes per message",
			    DKIM_VERIFY_MAX_BODY_HASHES);
			dkim_sig_clear(&f->sig);
			return;
		}
	}
	f->parsed = true;
	arc_lookup(v, f);
}

/* arc_verify_unstored - see arc_verify.h */
void
arc_verify_unstored(struct arc_verify *v)
{
	v->unstored = true;
}

/* arc_check - one AMS or AS through the DKIM verifier; the verdict's result */
static enum auth_result
arc_check(struct arc_verify *v, struct arc_field *f, const struct header_list *h,
    size_t index, char *why, size_t whylen)
{
	struct dkim_verdict out;
	unsigned char digest[DKIM_HASH_LEN] = { 0 };
	uint64_t body_len = 0;

	if (!f->parsed) {
		snprintf(why, whylen, "%s", f->err);
		return AUTH_PERMERROR;
	}
	if (f->query == NULL) {
		snprintf(why, whylen, "no key lookup");
		return AUTH_TEMPERROR;
	}
	memset(&out, 0, sizeof(out));
	if (f->kind == ARC_AMS)
		dkim_body_hash_result(f->body_hash, digest, &body_len);
	dkim_verify_answer(dns_query_wait(f->query), &f->sig, h, index, digest, body_len,
	    &v->opts, &out);
	snprintf(why, whylen, "%s", out.reason);
	return out.result;
}

/* arc_field_at - the field stored for header index idx */
static struct arc_field *
arc_field_at(struct arc_verify *v, size_t idx)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->f[i].header_index == idx)
			return &v->f[i];
	return NULL;
}

/* arc_check_seal - the AS of instance k over sets 1..k (RFC 8617 §5.1.1) */
static enum auth_result
arc_check_seal(struct arc_verify *v, unsigned k, const struct header_list *h,
    char *why, size_t whylen)
{
	static char aar[] = "ARC-Authentication-Results", ams[] = "ARC-Message-Signature",
	    as[] = "ARC-Seal";
	const struct arc_set_fields *sets = v->verdict.sets;
	struct header view_v[3 * ARC_MAX_INSTANCES];
	char *names[3 * ARC_MAX_INSTANCES];
	struct header_list view = { .v = view_v, .n = 0 };
	struct arc_field *seal = arc_field_at(v, sets[k - 1].as);
	size_t nn = 0;

	if (seal == NULL || !seal->parsed) {
		snprintf(why, whylen, "%s", seal != NULL ? seal->err : "no seal");
		return AUTH_PERMERROR;
	}
	/* the seal on top, then the sets newest first: bottom-up is oldest first */
	view_v[view.n++] = h->v[sets[k - 1].as];
	for (unsigned j = k; j-- > 0;) {
		view_v[view.n++] = h->v[sets[j].aar];
		view_v[view.n++] = h->v[sets[j].ams];
		if (j + 1 < k)
			view_v[view.n++] = h->v[sets[j].as];
	}
	for (unsigned j = 0; j < k; j++) {
		names[nn++] = aar;
		names[nn++] = ams;
		if (j + 1 < k)
			names[nn++] = as;
	}
	view.cap = view.n;
	struct dkim_sig s = seal->sig;
	s.headers = names;
	s.n_headers = nn;
	struct arc_field shown = *seal;
	shown.sig = s;
	return arc_check(v, &shown, &view, 0, why, whylen);
}

/* arc_structure - §5.2 steps 2-4: every instance 1..N has one field of each
 * kind, cv= as the instance requires; fills sets and n_sets; false with the
 * reason set */
static bool
arc_structure(struct arc_verify *v)
{
	struct arc_verdict *out = &v->verdict;
	unsigned top = 0;
	long at[ARC_MAX_INSTANCES][4];

	if (v->dropped > 0) {
		arc_reason(out, "more than %d ARC fields", ARC_MAX_FIELDS);
		return false;
	}
	if (v->unstored) {
		arc_reason(out, "ARC field past the header limits");
		return false;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct arc_field *f = &v->f[i];

		if (f->instance == 0) {
			arc_reason(out, "%s: %s", arc_names[f->kind], f->err);
			return false;
		}
		if (f->instance > ARC_MAX_INSTANCES) {
			arc_reason(out, "%s i=%u over %d", arc_names[f->kind], f->instance,
			    ARC_MAX_INSTANCES);
			return false;
		}
		if (f->instance > top)
			top = f->instance;
	}
	memset(at, 0xff, sizeof(at));
	for (size_t i = 0; i < v->n; i++) {
		const struct arc_field *f = &v->f[i];

		if (at[f->instance - 1][f->kind] >= 0) {
			arc_reason(out, "two %s with i=%u", arc_names[f->kind], f->instance);
			return false;
		}
		at[f->instance - 1][f->kind] = (long)i;
	}
	for (unsigned k = 1; k <= top; k++)
		for (int kind = ARC_AAR; kind <= ARC_AS; kind++)
			if (at[k - 1][kind] < 0) {
				arc_reason(out, "no %s with i=%u", arc_names[kind], k);
				return false;
			}
	const struct arc_field *newest = &v->f[at[top - 1][ARC_AS]];
	if (newest->parsed && newest->cv == 'f') {
		arc_reason(out, "ARC-Seal i=%u says cv=fail", top);
		return false;
	}
	for (unsigned k = 1; k <= top; k++) {
		const struct arc_field *as = &v->f[at[k - 1][ARC_AS]];

		if (!as->parsed) {
			arc_reason(out, "ARC-Seal i=%u: %s", k, as->err);
			return false;
		}
		if (as->cv != (k == 1 ? 'n' : 'p')) {
			arc_reason(out, "ARC-Seal i=%u has cv=%s", k, as->cv == 'n' ? "none" :
			    as->cv == 'p' ? "pass" : "fail");
			return false;
		}
	}
	for (unsigned k = 1; k <= top; k++) {
		out->sets[k - 1].aar = v->f[at[k - 1][ARC_AAR]].header_index;
		out->sets[k - 1].ams = v->f[at[k - 1][ARC_AMS]].header_index;
		out->sets[k - 1].as = v->f[at[k - 1][ARC_AS]].header_index;
		snprintf(out->info[k - 1].sealer, sizeof(out->info[k - 1].sealer), "%s",
		    v->f[at[k - 1][ARC_AS]].sig.domain);
	}
	out->n_sets = top;
	return true;
}

/* arc_judge - the whole §5.2 procedure into v->verdict */
static void
arc_judge(struct arc_verify *v, const struct header_list *h,
    const struct arc_author *author)
{
	struct arc_verdict *out = &v->verdict;
	char why[128];
	enum auth_result r;

	out->result = AUTH_FAIL;
	if (!arc_structure(v)) {
		out->n_sets = 0;
		return;
	}
	unsigned n = out->n_sets;
	snprintf(out->sealer, sizeof(out->sealer), "%s", out->info[n - 1].sealer);
	if (h->truncated) {
		arc_reason(out, "header fields over limit");
		return;
	}
	/* the AMS from the newest down to the first that does not pass; only an
	 * instance whose AMS verifies over this message may vouch (an AAR below
	 * oldest-pass was written about another message) */
	for (unsigned k = n; k >= 1; k--) {
		const struct header *aar = &h->v[out->sets[k - 1].aar];

		r = arc_check(v, arc_field_at(v, out->sets[k - 1].ams), h,
		    out->sets[k - 1].ams, why, sizeof(why));
		if (r == AUTH_PASS)
			out->info[k - 1].vouch = arc_verify_aar_vouch(aar->value,
			    aar->value_len, author);
		TRACE("arc", "set i=%u (cv=%s) sealed by %s: ARC-Message-Signature %s%s%s%s; "
		    "its ARC-Authentication-Results vouches for the author: %s", k,
		    k == 1 ? "none" : "pass", out->info[k - 1].sealer, auth_result_name(r),
		    r != AUTH_PASS ? " (" : "", r != AUTH_PASS ? why : "",
		    r != AUTH_PASS ? ")" : "", out->info[k - 1].vouch != NULL ?
		    out->info[k - 1].vouch : "no");
		if (k == n && r != AUTH_PASS) {
			out->result = r == AUTH_TEMPERROR ? AUTH_TEMPERROR : AUTH_FAIL;
			arc_reason(out, "ARC-Message-Signature i=%u: %s", k, why);
			return;
		}
		if (r != AUTH_PASS) {
			out->oldest_pass = k + 1;
			break;
		}
	}
	for (unsigned k = n; k >= 1; k--) {
		r = arc_check_seal(v, k, h, why, sizeof(why));
		TRACE("arc", "ARC-Seal i=%u by %s: %s%s%s%s", k, out->info[k - 1].sealer,
		    auth_result_name(r), r != AUTH_PASS ? " (" : "",
		    r != AUTH_PASS ? why : "", r != AUTH_PASS ? ")" : "");
		if (r != AUTH_PASS) {
			out->result = r == AUTH_TEMPERROR ? AUTH_TEMPERROR : AUTH_FAIL;
			arc_reason(out, "ARC-Seal i=%u: %s", k, why);
			return;
		}
	}
	out->result = AUTH_PASS;
}

/* arc_verify_finish - see arc_verify.h */
const struct arc_verdict *
arc_verify_finish(struct arc_verify *v, const struct header_list *h,
    const struct arc_author *author)
{
	if (v->finished)
		return &v->verdict;
	v->finished = true;
	if (v->n == 0 && v->dropped == 0 && !v->unstored)
		v->verdict.result = AUTH_NONE;
	else
		arc_judge(v, h, author);
	/* oldest_pass counts only in a passing chain */
	if (v->verdict.result != AUTH_PASS)
		v->verdict.oldest_pass = 0;
	TRACE("arc", "chain of %u sets: %s%s%s%s; oldest-pass=%u, newest sealer %s",
	    v->verdict.n_sets, auth_result_name(v->verdict.result),
	    v->verdict.reason[0] ? " (" : "", v->verdict.reason,
	    v->verdict.reason[0] ? ")" : "", v->verdict.oldest_pass,
	    v->verdict.sealer[0] ? v->verdict.sealer : "none");
	return &v->verdict;
}

/* arc_verify_free - cancel lookups still running and free everything; NULL is fine */
void
arc_verify_free(struct arc_verify *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (!v->f[i].shared)
			dns_query_free(v->f[i].query);
		dkim_sig_clear(&v->f[i].sig);
	}
	free(v);
}

/* arc_token - the next run of characters up to CFWS, ';' or end (a quoted
 * string whole, quotes dropped); returns the index after it */
static size_t
arc_token(const char *s, size_t len, size_t i, char *out, size_t outlen)
{
	size_t o = 0;
	bool quoted = false;

	while (i < len) {
		char c = s[i];

		if (c == '"') {
			quoted = !quoted;
			i++;
			continue;
		}
		if (quoted && c == '\\' && i + 1 < len)
			c = s[++i];
		else if (!quoted && (c == ';' || c == '(' || c == ' ' || c == '\t' ||
		    c == '\r' || c == '\n'))
			break;
		if (o + 1 < outlen)
			out[o++] = c;
		else
			o = outlen;	/* too long: unusable, see below */
		i++;
	}
	if (o >= outlen)
		out[0] = '\0';
	else
		out[o] = '\0';
	return i;
}

/* arc_domain_of - the domain of "local@domain" or of a bare domain */
static const char *
arc_domain_of(const char *v)
{
	const char *at = strrchr(v, '@');

	return at != NULL ? at + 1 : v;
}

/* arc_verify_aar_vouch - see arc_verify.h. Reads "i=N; authserv-id [ver];"
 * then resinfo groups "method[/ver]=result prop=value ..." split on ';',
 * comments skipped, every token bounded by its buffer (longer: ignored). */
const char *
arc_verify_aar_vouch(const char *value, size_t len, const struct arc_author *author)
{
	char tok[320];
	size_t i = 0;
	int field = 0;		/* 0 i=, 1 authserv-id, 2.. resinfo */
	const char *found = NULL;
	char method[16] = "", result[16] = "";

	if (len > ARC_MAX_FIELD_LEN || author == NULL || author->from_domain == NULL)
		return NULL;
	while (i < len && found == NULL) {
		i = arc_skip_cfws(value, len, i);
		if (i >= len)
			break;
		if (value[i] == ';') {
			field++;
			method[0] = result[0] = '\0';
			i++;
			continue;
		}
		size_t next = arc_token(value, len, i, tok, sizeof(tok));
		if (next == i) {	/* a stray ')' or the like */
			i++;
			continue;
		}
		i = next;
		if (field < 2)
			continue;
		char *eq = strchr(tok, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		const char *name = tok, *val = eq + 1;
		if (method[0] == '\0') {
			char *slash = strchr(tok, '/');

			if (slash != NULL)
				*slash = '\0';
			snprintf(method, sizeof(method), "%s", name);
			snprintf(result, sizeof(result), "%s", val);
			continue;
		}
		if (strcasecmp(result, "pass") != 0)
			continue;
		if (strcasecmp(method, "dmarc") == 0 && strcasecmp(name, "header.from") == 0 &&
		    strcasecmp(val, author->from_domain) == 0)
			found = "dmarc";
		else if (strcasecmp(method, "dkim") == 0 && strcasecmp(name, "header.d") == 0 &&
		    dmarc_aligned_by_name(val, author->from_domain,
		    author->org_domain, author->dkim_strict))
			found = "dkim";
		else if (strcasecmp(method, "spf") == 0 &&
		    strcasecmp(name, "smtp.mailfrom") == 0 &&
		    dmarc_aligned_by_name(arc_domain_of(val),
		    author->from_domain, author->org_domain, author->spf_strict))
			found = "spf";
	}
	return found;
}
