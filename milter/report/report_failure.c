/* report_failure - the RFC 9991 failure sample of one message.
 *
 * report_failure_fo        does the record's fo= select this message?
 * report_failure_redact    free text kept by the operator, encoded words holding
 *                          an address and local parts redacted, made safe
 * report_failure_headers   the redacted copy of the whole header, field by field
 *                          through the parser of its structure
 * report_failure_sample    the sample the report store keeps (caller frees it
 *                          with report_sample_free)
 *
 * Identity-Alignment names the mechanisms that failed to authenticate an
 * identifier aligned with the From domain (RFC 9991 §4): "dkim" when a
 * signature with an aligned d= did not pass, "spf" when the SPF domain is
 * aligned and SPF did not pass, "none" when neither identifier was aligned.
 * Redaction follows RFC 6590 and RFC 9991 §7: display names and local parts
 * become "redacted", read by the parser of each field's structure (RFC 5322
 * addresses, RFC 8601 A-R, RFC 6376 tag-lists) so the field keeps its syntax;
 * free text, trace and id fields are left out unless the operator keeps them;
 * the body is never kept. Every string that leaves here is printable ASCII without a line
 * break other than a fold, so the report can carry it in a header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "bytes.h"
#include "dkim_sig.h"
#include "dmarc.h"
#include "report_failure.h"
#include "rfc5322.h"
#include "taglist.h"
#include "xalloc.h"

bool
report_failure_fo(const char *fo, const struct report_fo_facts *f)
{
	for (const char *p = fo; *p != '\0'; p++) {
		switch (*p) {
		case '0':
			if (!f->dkim_aligned && !f->spf_aligned)
				return true;
			break;
		case '1':
			if (!f->dkim_aligned || !f->spf_aligned)
				return true;
			break;
		case 'd':
			if (f->dkim_failed)
				return true;
			break;
		case 's':
			if (f->spf_failed)
				return true;
			break;
		default:
			break;	/* ':' and anything a record should not hold */
		}
	}
	return false;
}

/* report_failure_atext - a byte of an unquoted local part (RFC 5322 atext and '.') */
static bool
report_failure_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* report_failure_local_start - where the local part that ends at v[at] (the '@')
 * begins, looking back no further than lo (just after the previous '@'): a
 * quoted string whose opening quote is at most REPORT_FAIL_MAX_QUOTED bytes back,
 * else a run of atext and backslash pairs (jane\"@ is all local part), with a
 * closing quote that has no opening one. The bounds keep the scan linear: a value
 * of many \"@ or \@ would otherwise look back to its start for each '@'. */
static size_t
report_failure_local_start(const char *v, size_t at, size_t lo)
{
	size_t i = at;

	if (i > lo && v[i - 1] == '"' && (i < 2 || v[i - 2] != '\\')) {
		size_t stop = at > REPORT_FAIL_MAX_QUOTED ? at - REPORT_FAIL_MAX_QUOTED : 0;

		stop = stop > lo ? stop : lo;
		for (i--; i > stop; i--)
			if (v[i - 1] == '"' && (i < 2 || v[i - 2] != '\\'))
				return i - 1;
		i = at - 1;	/* no opening quote: the quote goes with the rest */
	}
	while (i > lo) {
		if (report_failure_atext((unsigned char)v[i - 1]))
			i--;
		else if (i >= lo + 2 && v[i - 2] == '\\')
			i -= 2;
		else
			break;
	}
	return i;
}

/* report_failure_escaped - is v[i] escaped: an odd run of backslashes (at most back
 * to lo) before it? A quoted-pair "\\@" is part of a local part, not its end */
static bool
report_failure_escaped(const char *v, size_t i, size_t lo)
{
	size_t n = 0;

	while (i > lo && v[i - 1] == '\\')
		i--, n++;
	return n % 2 == 1;
}

/* report_failure_col - the column at the end of out; past REPORT_FAIL_MAX_LINE it
 * only says so, which keeps the look-back (and a value of many '@') linear */
static size_t
report_failure_col(const struct buf *out)
{
	size_t look = out->len > REPORT_FAIL_MAX_LINE ? REPORT_FAIL_MAX_LINE + 1 : out->len;
	const char *from = out->len > 0 ? out->data + out->len - look : NULL;
	const char *nl = look > 0 ? memrchr(from, '\n', look) : NULL;

	return nl ? (size_t)(out->data + out->len - (nl + 1)) : look;
}

/* report_failure_put - the bytes v[from, to) of a value of len bytes, made safe:
 * a run of line breaks and blanks becomes one "\n\t" fold when text follows it
 * in the value and is dropped when none does; other controls and 8-bit bytes
 * become '?' */
static void
report_failure_put(struct buf *out, const char *v, size_t len, size_t from, size_t to)
{
	size_t col = report_failure_col(out);

	for (size_t k = from; k < to; k++) {
		unsigned char c = (unsigned char)v[k];
		size_t e = k, more;

		if (c != '\r' && c != '\n') {
			if (col >= REPORT_FAIL_MAX_LINE) {
				buf_puts(out, "\n\t");	/* RFC 5322 §2.1.1: 998 at most */
				col = 1;
			}
			buf_putc(out, (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?');
			col++;
			continue;
		}
		for (more = k; more < len && (v[more] == '\r' || v[more] == '\n' ||
		    v[more] == ' ' || v[more] == '\t'); more++)
			if (more < to)
				e = more;
		if (more < len && k > 0) {
			buf_puts(out, "\n\t");
			col = 1;
		}
		k = e;
	}
}

/* report_failure_copy - v made safe, every local part replaced when redact */
static void
report_failure_copy(struct buf *out, const char *v, size_t len, bool redact)
{
	size_t done = 0;

	for (size_t i = 0; i <= len; i++) {
		size_t from;

		if (i < len && (v[i] != '@' || report_failure_escaped(v, i, done)))
			continue;
		from = i < len && redact ? report_failure_local_start(v, i, done) : i;
		if (from < done)
			from = done;
		report_failure_put(out, v, len, done, from);
		if (i < len) {
			if (report_failure_col(out) >= REPORT_FAIL_MAX_LINE)
				buf_puts(out, "\n\t");	/* a value of many '@' */
			if (from < i)
				buf_puts(out, REPORT_FAIL_REDACTED);
			buf_putc(out, '@');
		}
		done = i + 1;
	}
}

/* report_failure_ew_has_at - is s[0..len) an RFC 2047 encoded word
 * (=?charset?Q|B?text?=) whose decoded text holds an '@'? */
static bool
report_failure_ew_has_at(const char *s, size_t len)
{
	const char *q1, *q2;
	unsigned char *dec;
	size_t n;
	bool at;

	if (len < 8 || s[0] != '=' || s[1] != '?' || s[len - 2] != '?' || s[len - 1] != '=')
		return false;
	q1 = memchr(s + 2, '?', len - 4);
	if (q1 == NULL || q1 + 3 > s + len - 2 || q1[2] != '?')
		return false;
	q2 = q1 + 3;		/* the encoded text, up to s + len - 2 */
	n = (size_t)(s + len - 2 - q2);
	if (q1[1] == 'B' || q1[1] == 'b') {
		dec = dkim_sig_b64(q2, n, &n);
		at = dec != NULL && memchr(dec, '@', n) != NULL;
		free(dec);
		return at;
	}
	if (q1[1] != 'Q' && q1[1] != 'q')
		return false;
	for (size_t i = 0; i < n; i++)
		if (q2[i] == '@' || (q2[i] == '=' && i + 2 < n &&
		    bytes_hex_value((unsigned char)q2[i + 1]) == 4 &&
		    bytes_hex_value((unsigned char)q2[i + 2]) == 0))
			return true;	/* "=40" is '@' */
	return false;
}

/* report_failure_words - v with every RFC 2047 encoded word whose decoded text
 * holds an '@' replaced by REPORT_FAIL_REDACTED, into out. An encoded word is
 * looked for at most REPORT_FAIL_MAX_EW bytes ahead of its "=?", so the pass
 * stays linear. */
static void
report_failure_words(struct buf *out, const char *v, size_t len)
{
	size_t done = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		size_t stop = len - i > REPORT_FAIL_MAX_EW ? i + REPORT_FAIL_MAX_EW : len;
		size_t q = 0, j;

		if (v[i] != '=' || v[i + 1] != '?')
			continue;
		/* the end: the fourth '?' (after =?, charset?, enc?) followed by '=' */
		for (j = i + 1; j + 1 < stop; j++) {
			if (v[j] == ' ' || v[j] == '\t' || v[j] == '\r' || v[j] == '\n')
				break;
			if (v[j] == '?' && ++q == 4)
				break;
		}
		if (q != 4 || v[j + 1] != '=' || !report_failure_ew_has_at(v + i, j + 2 - i))
			continue;
		buf_append(out, v + done, i - done);
		buf_puts(out, REPORT_FAIL_REDACTED);
		done = j + 2;
		i = j + 1;
	}
	buf_append(out, v + done, len - done);
}

void
report_failure_redact(struct buf *out, const char *v, size_t len)
{
	struct buf w = BUF_INIT;

	buf_puts(&w, "");
	report_failure_words(&w, v, len);
	report_failure_copy(out, w.data, w.len, true);
	buf_free(&w);
}

/* report_failure_local - a DKIM i= value (or an ARC instance) with what stands
 * before its last '@' replaced: "jane@x" is "redacted@x", "@x" and "1" stay, a
 * value that is neither becomes REPORT_FAIL_REDACTED */
static void
report_failure_local(struct buf *out, const char *v, size_t len)
{
	const char *at = len > 0 ? memrchr(v, '@', len) : NULL;
	size_t digits = strspn(v, "0123456789");

	if (len == 0 || at == v || (at == NULL && digits >= len)) {
		buf_append(out, v, len);
		return;
	}
	buf_puts(out, REPORT_FAIL_REDACTED);
	if (at != NULL)
		buf_append(out, at, len - (size_t)(at - v));
}

/* report_failure_znames - a z= value (copied header fields) reduced to the field
 * names, each with an empty value: "From:|To:" (RFC 6376 §3.5 grammar) */
static void
report_failure_znames(struct buf *out, const char *v, size_t len)
{
	size_t i = 0;
	bool first = true;

	while (i < len) {
		const char *bar = memchr(v + i, '|', len - i);
		size_t end = bar ? (size_t)(bar - v) : len;
		const char *colon = memchr(v + i, ':', end - i);

		if (colon != NULL) {
			if (!first)
				buf_putc(out, '|');
			buf_append(out, v + i, (size_t)(colon + 1 - (v + i)));
			first = false;
		}
		i = end + 1;
	}
}

/* report_failure_tags - a DKIM-Signature, ARC-Seal or ARC-Message-Signature read
 * as an RFC 6376 §3.2 tag-list, copied as written but for i= (its local part
 * redacted) and z= (names only); false when it is not a tag-list */
static bool
report_failure_tags(struct buf *out, const char *v, size_t len)
{
	struct taglist tl;
	struct taglist_tag t;
	char err[64];
	size_t done = 0;
	int r;

	taglist_init(&tl, v, len, TAGLIST_STRICT);
	while ((r = taglist_next(&tl, &t, err, sizeof(err))) == 1) {
		size_t at = (size_t)(t.value - v);

		if (t.name_len != 1 || (t.name[0] != 'i' && t.name[0] != 'z'))
			continue;
		buf_append(out, v + done, at - done);
		if (t.name[0] == 'i')
			report_failure_local(out, t.value, t.value_len);
		else
			report_failure_znames(out, t.value, t.value_len);
		done = at + t.value_len;
	}
	if (r < 0)
		return false;
	buf_append(out, v + done, len - done);
	return true;
}

/* what a sample does with a field */
enum report_fail_kind {
	FAIL_OUT,	/* left out: free text, trace fields, ids (unless kept) */
	FAIL_ADDR,	/* an address list: display names and local parts redacted */
	FAIL_AUTHRES,	/* (ARC-)Authentication-Results: local parts redacted */
	FAIL_TAGS,	/* a DKIM or ARC tag-list: i='s local part redacted */
	FAIL_PLAIN,	/* no personal data: copied */
	FAIL_TEXT	/* kept by the operator: encoded words and local parts redacted */
};

/* the fields a sample always carries. What a Domain Owner needs to diagnose an
 * authentication failure (RFC 9991 §2) is who the message claimed to be from
 * and to, when, and the authentication fields; everything else (Subject, Received,
 * Message-ID, Content-*, X-*) is message content or trace data about people and
 * their machines, left out unless report.failure_keep_fields names it */
static const struct {
	const char		*name;
	enum report_fail_kind	 kind;
} report_fail_fields[] = {
	{ "From", FAIL_ADDR }, { "Sender", FAIL_ADDR }, { "Reply-To", FAIL_ADDR },
	{ "To", FAIL_ADDR }, { "Cc", FAIL_ADDR }, { "Bcc", FAIL_ADDR },
	{ "Resent-From", FAIL_ADDR }, { "Resent-Sender", FAIL_ADDR },
	{ "Resent-To", FAIL_ADDR }, { "Resent-Cc", FAIL_ADDR }, { "Resent-Bcc", FAIL_ADDR },
	{ "Return-Path", FAIL_ADDR }, { "Delivered-To", FAIL_ADDR },
	{ "X-Original-To", FAIL_ADDR }, { "Envelope-To", FAIL_ADDR },
	{ "Errors-To", FAIL_ADDR }, { "Disposition-Notification-To", FAIL_ADDR },
	{ "Mail-Followup-To", FAIL_ADDR }, { "Mail-Reply-To", FAIL_ADDR },
	{ "Authentication-Results", FAIL_AUTHRES },
	{ "ARC-Authentication-Results", FAIL_AUTHRES },
	{ "DKIM-Signature", FAIL_TAGS }, { "ARC-Message-Signature", FAIL_TAGS },
	{ "ARC-Seal", FAIL_TAGS },
	{ "Date", FAIL_PLAIN }, { "MIME-Version", FAIL_PLAIN },
};

/* report_failure_kind - how the field named name goes into the sample */
static enum report_fail_kind
report_failure_kind(const char *name, const char *const *keep, size_t n_keep)
{
	static const char *const ids[] = { "Message-ID", "In-Reply-To", "References",
	    "Resent-Message-ID", "Content-ID" };

	for (size_t i = 0; i < sizeof(report_fail_fields) / sizeof(report_fail_fields[0]); i++)
		if (strcasecmp(name, report_fail_fields[i].name) == 0)
			return report_fail_fields[i].kind;
	for (size_t i = 0; i < n_keep; i++) {
		if (strcasecmp(name, keep[i]) != 0)
			continue;
		/* an id's '@' separates no local part: copied as written */
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
			if (strcasecmp(name, ids[k]) == 0)
				return FAIL_PLAIN;
		return FAIL_TEXT;
	}
	return FAIL_OUT;
}

/* report_failure_name_ok - a field name: printable ASCII without ':' (RFC 5322 ftext) */
static bool
report_failure_name_ok(const char *n)
{
	if (*n == '\0')
		return false;
	for (; *n != '\0'; n++)
		if ((unsigned char)*n <= 0x20 || (unsigned char)*n >= 0x7f || *n == ':')
			return false;
	return true;
}

/* report_failure_field - the redacted "Name: value\n" of one field into f; false
 * when the field is left out */
static bool
report_failure_field(const struct header *hd, const char *const *keep, size_t n_keep,
    struct buf *f)
{
	enum report_fail_kind kind;
	struct buf r = BUF_INIT;
	const char *v = hd->value;
	size_t len = hd->value_len;
	bool ok = true;

	if (!report_failure_name_ok(hd->name))
		return false;
	kind = report_failure_kind(hd->name, keep, n_keep);
	if (kind == FAIL_OUT)
		return false;
	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	buf_puts(&r, "");
	if (kind == FAIL_ADDR)
		ok = rfc5322_redact_addresses(v, len, REPORT_FAIL_REDACTED, &r);
	else if (kind == FAIL_AUTHRES)
		authres_redact(&r, v, len, REPORT_FAIL_REDACTED);
	else if (kind == FAIL_TAGS)
		ok = report_failure_tags(&r, v, len);
	else
		buf_append(&r, v, len);
	if (ok) {
		buf_reset(f);
		buf_printf(f, "%s: ", hd->name);
		if (kind == FAIL_TEXT)
			report_failure_redact(f, r.data, r.len);
		else
			report_failure_put(f, r.data, r.len, 0, r.len);
		buf_putc(f, '\n');
	}
	buf_free(&r);
	return ok;
}

size_t
report_failure_headers(const struct header_list *h, const char *const *keep, size_t n_keep,
    struct buf *out)
{
	struct buf f = BUF_INIT;
	size_t left_out = 0;

	buf_puts(out, "");
	for (size_t i = 0; i < h->n; i++) {
		if (!report_failure_field(&h->v[i], keep, n_keep, &f) ||
		    out->len + f.len > REPORT_FAIL_MAX_HEADER) {
			left_out++;
			continue;
		}
		buf_append(out, f.data, f.len);
	}
	buf_free(&f);
	return left_out;
}

/* report_failure_ruf - the record's ruf URIs as a comma list, whole URIs only, at
 * most REPORT_FAIL_MAX_RUF bytes */
static char *
report_failure_ruf(const struct dmarc_record *rec)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; i < rec->n_ruf; i++) {
		if (b.len + 1 + strlen(rec->ruf[i]) > REPORT_FAIL_MAX_RUF)
			break;
		if (b.len > 0)
			buf_putc(&b, ',');
		buf_puts(&b, rec->ruf[i]);
	}
	return buf_steal(&b);
}

/* report_failure_delivery - RFC 6591 Delivery-Result of what the MTA was told */
static const char *
report_failure_delivery(enum action a)
{
	switch (a) {
	case ACTION_REJECT:
		return "reject";
	case ACTION_QUARANTINE:
		return "spam";
	case ACTION_ACCEPT:
	case ACTION_NONE:
		return "delivered";
	default:
		return "other";
	}
}

/* how report_failure_strdup_safe redacts */
enum report_fail_safe {
	SAFE_COPY,		/* nothing to redact: a domain, a selector */
	SAFE_IDENTITY,		/* a DKIM i=: its local part */
	SAFE_AUTHRES		/* an Authentication-Results value: authres_redact */
};

/* report_failure_strdup_safe - s redacted as how says, made safe, as a new string
 * of at most max bytes (cut after redaction, so a cut cannot expose a local part) */
static char *
report_failure_strdup_safe(const char *s, size_t max, enum report_fail_safe how)
{
	struct buf r = BUF_INIT, b = BUF_INIT;
	size_t len = strlen(s);

	buf_puts(&r, "");
	buf_puts(&b, "");
	if (how == SAFE_IDENTITY)
		report_failure_local(&r, s, len);
	else if (how == SAFE_AUTHRES)
		authres_redact(&r, s, len, REPORT_FAIL_REDACTED);
	else
		buf_append(&r, s, len);
	report_failure_put(&b, r.data, r.len, 0, r.len > max ? max : r.len);
	buf_free(&r);
	return buf_steal(&b);
}

/* report_failure_alignment - Identity-Alignment and the aligned DKIM failure into s */
static void
report_failure_alignment(const struct verdict *v, struct report_sample *s)
{
	const struct dmarc_verdict *dm = v->dmarc;
	const struct spf_verdict *spf = v->spf_mailfrom;
	const struct dkim_verdict *bad = NULL;
	bool spf_bad = false;

	for (size_t i = 0; i < v->n_dkim && bad == NULL; i++)
		if (v->dkim[i].result != AUTH_PASS &&
		    dmarc_aligned_by_name(v->dkim[i].domain, dm->from_domain,
		    dm->org_domain, dm->record.adkim == DMARC_ALIGN_STRICT))
			bad = &v->dkim[i];
	if (spf != NULL && spf->result != AUTH_SKIPPED && spf->result != AUTH_PASS &&
	    dmarc_aligned_by_name(spf->domain, dm->from_domain, dm->org_domain,
	    dm->record.aspf == DMARC_ALIGN_STRICT))
		spf_bad = true;
	s->alignment = xstrdup(bad && spf_bad ? "dkim,spf" : bad ? "dkim" : spf_bad ? "spf" :
	    "none");
	s->dkim_domain = xstrdup(bad ? bad->domain : "");
	s->dkim_selector = report_failure_strdup_safe(bad ? bad->selector : "", 253,
	    SAFE_COPY);
	s->dkim_identity = report_failure_strdup_safe(bad ? bad->identity : "", 320,
	    SAFE_IDENTITY);
	s->spf_domain = xstrdup(spf_bad ? spf->domain : "");
}

/* report_failure_facts - the fo= inputs from the verdicts */
static void
report_failure_facts(const struct verdict *v, struct report_fo_facts *f)
{
	const struct spf_verdict *spf = v->spf_mailfrom;

	f->dkim_aligned = v->dmarc->dkim_aligned;
	f->spf_aligned = v->dmarc->spf_aligned;
	f->dkim_failed = false;
	for (size_t i = 0; i < v->n_dkim; i++)
		if (v->dkim[i].result == AUTH_FAIL || v->dkim[i].result == AUTH_PERMERROR)
			f->dkim_failed = true;
	f->spf_failed = spf != NULL && (spf->result == AUTH_FAIL ||
	    spf->result == AUTH_PERMERROR);
}

struct report_sample *
report_failure_sample(const struct verdict *v, const struct report_failure_input *in)
{
	const struct dmarc_verdict *dm = v->dmarc;
	const char *at;
	struct report_fo_facts facts;
	struct report_sample *s;
	struct buf b = BUF_INIT;

	if (dm == NULL || (dm->result != AUTH_PASS && dm->result != AUTH_FAIL) ||
	    dm->record_domain[0] == '\0' || dm->record.n_ruf == 0 ||
	    dm->record.psd == DMARC_PSD_Y || in->action == ACTION_TEMPFAIL ||
	    in->source_ip[0] == '\0')
		return NULL;
	report_failure_facts(v, &facts);
	if (!report_failure_fo(dm->record.fo[0] ? dm->record.fo : "0", &facts))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->id = xstrdup(in->id);
	s->received = in->received;
	s->source_ip = xstrdup(in->source_ip);
	s->policy_domain = xstrdup(dm->record_domain);
	/* one limit per organization: a wildcard record makes every x1, x2, ...
	 * under it a policy domain of its own */
	s->rate_domain = xstrdup(dm->org_domain[0] != '\0' ? dm->org_domain :
	    dm->record_domain);
	s->header_from = xstrdup(dm->from_domain);
	at = strrchr(in->mailfrom, '@');
	s->envelope_from = report_failure_strdup_safe(at ? at + 1 : in->mailfrom, 255,
	    SAFE_COPY);
	s->ruf = report_failure_ruf(&dm->record);
	s->discovery = xstrdup(dmarc_discovery_name(dm->discovery));
	s->delivery = xstrdup(report_failure_delivery(in->action));
	s->auth_results = report_failure_strdup_safe(in->auth_results ? in->auth_results : "",
	    REPORT_FAIL_MAX_AR, SAFE_AUTHRES);
	report_failure_alignment(v, s);
	(void)report_failure_headers(in->headers, in->keep, in->n_keep, &b);
	s->headers = buf_steal(&b);
	return s;
}
