/* report_record - the RFC 9990 report row of one inbound message.
 *
 * report_record_row   verdict record + what policy did -> struct report_row
 *
 * Which messages: DMARC evaluated to pass or fail against a published record
 * (none, temperror and permerror have no policy to report), and the MTA was not
 * told to try again. The disposition is what happened to the message: the
 * action the MTA got; when that differs from what the DMARC policy asked, the
 * override reason says why (the verdict's override_reason, else local_policy:
 * our configuration or dry_run). A t=y policy adds policy_test_mode to a message
 * that failed DMARC (one that passed was exempted from nothing). The row's
 * strings are new copies the caller frees with report_row_free.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dmarc.h"
#include "report_record.h"
#include "rfc5322.h"
#include "xalloc.h"

/* report_record_policy - a published p/sp/np as the report spells it; NULL when absent */
static char *
report_record_policy(enum dmarc_policy p)
{
	return p == DMARC_POLICY_UNSET ? NULL : xstrdup(dmarc_policy_name(p));
}

/* report_record_uris - a record's URIs as one comma list */
static char *
report_record_uris(char *const *uris, size_t n)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, uris[i]);
	}
	return buf_steal(&b);
}

/* report_record_envelope_domain - the MAIL FROM domain, normalised; a domain that does
 * not normalise keeps its printable ASCII only ("" stays the null sender) */
static char *
report_record_envelope_domain(const char *mailfrom)
{
	const char *at = strrchr(mailfrom, '@');
	const char *d = at ? at + 1 : mailfrom;
	char norm[256];
	struct buf b = BUF_INIT;

	if (mailfrom[0] == '\0')
		return xstrdup("");
	if (rfc5322_domain_normalise(d, norm, sizeof(norm)))
		return xstrdup(norm);
	buf_puts(&b, "");
	for (const unsigned char *p = (const unsigned char *)d; *p && b.len < 255; p++)
		if (*p > 0x20 && *p < 0x7f)
			buf_putc(&b, *p);
	return buf_steal(&b);
}

/* report_record_dkim_rank - RFC 9990 order of signatures: strict-aligned passes,
 * relaxed-aligned passes, other passes, the rest. Relaxed is d= under the
 * author's organizational domain. */
static int
report_record_dkim_rank(const struct dkim_verdict *d, const struct dmarc_verdict *dm)
{
	if (d->result != AUTH_PASS)
		return 3;
	if (dmarc_aligned_by_name(d->domain, dm->from_domain, NULL, true))
		return 0;
	return dmarc_aligned_by_name(d->domain, dm->from_domain, dm->org_domain, false) ?
	    1 : 2;
}

/* report_record_dkim - the signatures in RFC 9990 order, at most REPORT_MAX_DKIM */
static void
report_record_dkim(const struct verdict *v, struct report_row *r)
{
	size_t n = 0;

	r->dkim = xcalloc(v->n_dkim ? (v->n_dkim < REPORT_MAX_DKIM ? v->n_dkim :
	    REPORT_MAX_DKIM) : 1, sizeof(*r->dkim));
	for (int rank = 0; rank <= 3; rank++)
		for (size_t i = 0; i < v->n_dkim && n < REPORT_MAX_DKIM; i++) {
			const struct dkim_verdict *d = &v->dkim[i];

			if (report_record_dkim_rank(d, v->dmarc) != rank)
				continue;
			r->dkim[n].domain = xstrdup(d->domain);
			r->dkim[n].selector = xstrdup(d->selector);
			r->dkim[n].result = xstrdup(auth_result_name(d->result));
			n++;
		}
	r->n_dkim = n;
}

/* report_record_disposition - what the policy asked and what happened, and why they
 * differ, into r */
static void
report_record_disposition(const struct verdict *v, enum action action, struct report_row *r)
{
	const struct dmarc_verdict *dm = v->dmarc;
	const char *asked, *done;
	struct buf reasons = BUF_INIT;

	if (dm->result == AUTH_PASS)
		asked = dm->policy == DMARC_POLICY_NONE ? "none" : "pass";
	else
		asked = dmarc_policy_name(dm->disposition);
	if (action == ACTION_REJECT)
		done = "reject";
	else if (action == ACTION_QUARANTINE)
		done = "quarantine";
	else
		done = dm->result == AUTH_PASS ? asked : "none";
	r->disposition = xstrdup(done);
	buf_puts(&reasons, "");
	/* RFC 9990 §3.1: "exempted from application of policy by the testing
	 * mode": a message that passed was exempted from nothing */
	if (dm->testing && dm->result != AUTH_PASS)
		buf_puts(&reasons, "policy_test_mode");
	if (strcmp(asked, done) != 0 || v->override_reason != NULL) {
		if (reasons.len > 0)
			buf_putc(&reasons, ' ');
		buf_puts(&reasons, v->override_reason ? v->override_reason : "local_policy");
	}
	r->reasons = buf_steal(&reasons);
}

bool
report_record_row(const struct verdict *v, const struct report_message *m,
    struct report_row *r)
{
	const struct dmarc_verdict *dm = v->dmarc;
	const struct dmarc_record *rec;
	const struct spf_verdict *spf = v->spf_mailfrom;

	if (dm == NULL || (dm->result != AUTH_PASS && dm->result != AUTH_FAIL) ||
	    dm->record_domain[0] == '\0' || m->action == ACTION_TEMPFAIL ||
	    m->source_ip[0] == '\0')
		return false;
	rec = &dm->record;
	memset(r, 0, sizeof(*r));
	r->received = m->received;
	r->source_ip = xstrdup(m->source_ip);
	r->header_from = xstrdup(dm->from_domain);
	r->envelope_from = report_record_envelope_domain(m->mailfrom);
	r->envelope_to = NULL;	/* recipients are not asked of the MTA */
	r->policy_domain = xstrdup(dm->record_domain);
	r->rua = report_record_uris(rec->rua, rec->n_rua);
	r->ruf = report_record_uris(rec->ruf, rec->n_ruf);
	r->p = report_record_policy(rec->p);
	r->sp = report_record_policy(rec->sp);
	r->np = report_record_policy(rec->np);
	r->adkim = xstrdup(rec->adkim == DMARC_ALIGN_STRICT ? "s" : "r");
	r->aspf = xstrdup(rec->aspf == DMARC_ALIGN_STRICT ? "s" : "r");
	r->fo = xstrdup(rec->fo[0] ? rec->fo : "0");
	r->testing = xstrdup(rec->testing ? "y" : "n");
	r->discovery = xstrdup(dmarc_discovery_name(dm->discovery));
	if (spf != NULL && spf->result != AUTH_SKIPPED) {
		r->spf_domain = xstrdup(spf->domain);
		r->spf_result = xstrdup(auth_result_name(spf->result));
	} else {
		r->spf_domain = xstrdup("");
		r->spf_result = xstrdup("none");
	}
	/* with the null sender SPF checked the HELO name as MAIL FROM (RFC 7208 §2.4) */
	r->spf_scope = xstrdup(m->mailfrom[0] ? "mfrom" : "helo");
	report_record_dkim(v, r);
	r->dkim_aligned = xstrdup(dm->dkim_aligned ? "pass" : "fail");
	r->spf_aligned = xstrdup(dm->spf_aligned ? "pass" : "fail");
	report_record_disposition(v, m->action, r);
	return true;
}
