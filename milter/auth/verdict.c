/* verdict - the log line's view of a message's verdict record (verdict.h).
 *
 * verdict_log appends " helo=... iprev=... spf=... dkim=... dmarc=..." in a fixed
 * order, one "key=value" per field, values from peers through log_safe so that no
 * space or '=' of theirs can forge a field. verdict_count hands each check's
 * result to the metrics counters.
 */
#include "config.h"

#include "log.h"
#include "metrics.h"
#include "verdict.h"

/* verdict_log_dkim - one "dkim= (reason) header.d= header.s=" group per
 * signature; the reason as in the A-R comment (dkim_verify keeps it free of
 * parentheses and control bytes) */
static void
verdict_log_dkim(const struct verdict *v, struct buf *line)
{
	char d[256], sel[256];

	if (v->n_dkim == 0)
		buf_puts(line, " dkim=none");
	for (size_t i = 0; i < v->n_dkim; i++) {
		const char *why = v->dkim[i].reason;

		log_safe(v->dkim[i].domain, d, sizeof(d));
		log_safe(v->dkim[i].selector, sel, sizeof(sel));
		buf_printf(line, " dkim=%s%s%s%s header.d=%s header.s=%s",
		    auth_result_name(v->dkim[i].result), why[0] ? " (" : "", why,
		    why[0] ? ")" : "", d, sel);
	}
	if (v->dkim_ignored > 0)
		buf_printf(line, " dkim-ignored=%zu", v->dkim_ignored);
}

/* verdict_log_dmarc - the DMARC verdict, or why DMARC could not run */
static void
verdict_log_dmarc(const struct verdict *v, struct buf *line)
{
	const struct dmarc_verdict *dm = v->dmarc;

	if (dm != NULL) {
		char safe[300];

		buf_printf(line, " dmarc=%s header.from=%s discovery=%s",
		    auth_result_name(dm->result), dm->from_domain,
		    v->dmarc_discovery != NULL ? v->dmarc_discovery : "-");
		if (dm->record_domain[0] != '\0')
			buf_printf(line, " policy.domain=%s", dm->record_domain);
		if (dm->failed[0] != '\0') {
			log_safe(dm->failed, safe, sizeof(safe));
			buf_printf(line, " dns-failed=%s", safe);
		}
		if (dm->result == AUTH_PASS || dm->result == AUTH_FAIL)
			buf_printf(line, " p=%s%s policy.dmarc=%s", dmarc_policy_name(dm->policy),
			    dm->testing ? " t=y" : "", dmarc_policy_name(dm->applied));
	} else if (v->dmarc_checked && v->from_headers != 1) {
		buf_printf(line, " from-headers=%u", v->from_headers);
	} else if (v->dmarc_checked) {
		buf_printf(line, " from=%s", rfc5322_from_status_name(v->from_status));
	}
}

/* verdict_log - the verdict fields of the log line */
void
verdict_log(const struct verdict *v, struct buf *line)
{
	char safe[300];

	log_safe(v->helo != NULL ? v->helo : "", safe, sizeof(safe));
	buf_printf(line, " helo=%s", safe[0] ? safe : "-");
	if (v->iprev != NULL)
		buf_printf(line, " iprev=%s", auth_result_name(v->iprev->result));
	else
		buf_puts(line, " iprev=skipped");
	if (v->spf_mailfrom != NULL) {
		log_safe(v->spf_mailfrom->domain, safe, sizeof(safe));
		buf_printf(line, " spf=%s smtp.mailfrom=%s",
		    auth_result_name(v->spf_mailfrom->result), safe[0] ? safe : "-");
	}
	if (v->spf_helo != NULL && v->spf_helo->result != AUTH_SKIPPED)
		buf_printf(line, " spf-helo=%s", auth_result_name(v->spf_helo->result));
	if (v->dkim_checked)
		verdict_log_dkim(v, line);
	verdict_log_dmarc(v, line);
	/* a message without ARC fields says nothing: arc=none on every line and
	 * every A-R would be noise */
	if (v->arc != NULL && v->arc->result != AUTH_NONE) {
		/* the reason as in the A-R comment: arc_verify keeps it free of
		 * parentheses and control bytes */
		buf_printf(line, " arc=%s%s%s%s", auth_result_name(v->arc->result),
		    v->arc->reason[0] ? " (" : "", v->arc->reason,
		    v->arc->reason[0] ? ")" : "");
		if (v->arc->result == AUTH_PASS)
			buf_printf(line, " arc.oldest-pass=%u arc.sealer=%s",
			    v->arc->oldest_pass, v->arc->sealer);
	}
	if (v->headers_truncated)
		buf_puts(line, " headers=over-limit");
}

/* verdict_count - every check that ran for an inbound message */
void
verdict_count(const struct verdict *v)
{
	if (v->iprev != NULL)
		metrics_result(MC_IPREV, v->iprev->result);
	if (v->spf_mailfrom != NULL)
		metrics_result(MC_SPF, v->spf_mailfrom->result);
	if (v->spf_helo != NULL)
		metrics_result(MC_SPF_HELO, v->spf_helo->result);
	if (v->dkim_checked && v->n_dkim == 0)
		metrics_result(MC_DKIM, AUTH_NONE);
	for (size_t i = 0; i < v->n_dkim; i++)
		metrics_result(MC_DKIM, v->dkim[i].result);
	if (v->dmarc != NULL)
		metrics_result(MC_DMARC, v->dmarc->result);
	if (v->arc != NULL)
		metrics_result(MC_ARC, v->arc->result);
}
