/* report_failure - the RFC 9991 failure sample of one message.
 *
 * report_failure_fo        does the record's fo= select this message?
 * report_failure_redact    a header value, local parts redacted, made safe
 * report_failure_headers   the redacted copy of the whole header
 * report_failure_sample    the sample the report store keeps (caller frees it
 *                          with report_sample_free)
 *
 * Identity-Alignment names the mechanisms that failed to authenticate an
 * identifier aligned with the From domain (RFC 9991 §4): "dkim" when a
 * signature with an aligned d= did not pass, "spf" when the SPF domain is
 * aligned and SPF did not pass, "none" when neither identifier was aligned.
 * Redaction follows RFC 6590: every local part becomes "redacted"; the body is
 * never kept. Every string that leaves here is printable ASCII without a line
 * break other than a fold, so the report can carry it in a header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "report_failure.h"
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
 * begins: a quoted string whose opening quote is at most REPORT_FAIL_MAX_QUOTED
 * bytes back, else a run of atext (with the quote, when one ends it). The bound
 * keeps a value of many '\"@' linear: each '@' would otherwise look back to the
 * start of the value for an opening quote. */
static size_t
report_failure_local_start(const char *v, size_t at)
{
	size_t i = at;

	if (i > 0 && v[i - 1] == '"') {
		size_t stop = at > REPORT_FAIL_MAX_QUOTED ? at - REPORT_FAIL_MAX_QUOTED : 0;

		for (i--; i > stop; i--)
			if (v[i - 1] == '"' && (i < 2 || v[i - 2] != '\\'))
				return i - 1;
		i = at - 1;
	}
	while (i > 0 && report_failure_atext((unsigned char)v[i - 1]))
		i--;
	return i;
}

/* report_failure_put - the bytes v[from, to) of a value of len bytes, made safe:
 * a run of line breaks and blanks becomes one "\n\t" fold when text follows it
 * in the value and is dropped when none does; other controls and 8-bit bytes
 * become '?' */
static void
report_failure_put(struct buf *out, const char *v, size_t len, size_t from, size_t to)
{
	const char *nl = out->len > 0 ? memrchr(out->data, '\n', out->len) : NULL;
	size_t col = nl ? out->len - (size_t)(nl + 1 - out->data) : out->len;

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

		if (i < len && v[i] != '@')
			continue;
		from = i < len && redact ? report_failure_local_start(v, i) : i;
		if (from < done)
			from = done;
		report_failure_put(out, v, len, done, from);
		if (i < len) {
			if (from < i)
				buf_puts(out, REPORT_FAIL_REDACTED);
			buf_putc(out, '@');
		}
		done = i + 1;
	}
}

void
report_failure_redact(struct buf *out, const char *v, size_t len)
{
	report_failure_copy(out, v, len, true);
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

/* report_failure_keep_ids - a field whose '@' separates no local part: message ids */
static bool
report_failure_keep_ids(const char *name)
{
	return strcasecmp(name, "Message-ID") == 0 || strcasecmp(name, "In-Reply-To") == 0 ||
	    strcasecmp(name, "References") == 0;
}

size_t
report_failure_headers(const struct header_list *h, struct buf *out)
{
	struct buf f = BUF_INIT;
	size_t left_out = 0;

	buf_puts(out, "");
	for (size_t i = 0; i < h->n; i++) {
		const struct header *hd = &h->v[i];
		const char *v = hd->value;
		size_t len = hd->value_len;

		if (!report_failure_name_ok(hd->name)) {
			left_out++;
			continue;
		}
		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		buf_reset(&f);
		buf_printf(&f, "%s: ", hd->name);
		if (report_failure_keep_ids(hd->name))
			report_failure_copy(&f, v, len, false);
		else
			report_failure_redact(&f, v, len);
		buf_putc(&f, '\n');
		if (out->len + f.len > REPORT_FAIL_MAX_HEADER) {
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

/* report_failure_strdup_safe - s made safe, redacted when redact, as a new string
 * of at most max bytes of s */
static char *
report_failure_strdup_safe(const char *s, size_t max, bool redact)
{
	struct buf b = BUF_INIT;
	size_t len = strlen(s);

	buf_puts(&b, "");
	report_failure_copy(&b, s, len > max ? max : len, redact);
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
	s->dkim_selector = report_failure_strdup_safe(bad ? bad->selector : "", 253, false);
	s->dkim_identity = report_failure_strdup_safe(bad ? bad->identity : "", 320, true);
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
	s->header_from = xstrdup(dm->from_domain);
	at = strrchr(in->mailfrom, '@');
	s->envelope_from = report_failure_strdup_safe(at ? at + 1 : in->mailfrom, 255, false);
	s->ruf = report_failure_ruf(&dm->record);
	s->discovery = xstrdup(dmarc_discovery_name(dm->discovery));
	s->delivery = xstrdup(report_failure_delivery(in->action));
	s->auth_results = report_failure_strdup_safe(in->auth_results ? in->auth_results : "",
	    REPORT_FAIL_MAX_AR, true);
	report_failure_alignment(v, s);
	(void)report_failure_headers(in->headers, &b);
	s->headers = buf_steal(&b);
	return s;
}
