/* test_report_record - which messages become report rows, and the disposition,
 * reasons and DKIM order of each. */
#include "config.h"

#include <string.h>

#include "dmarc.h"
#include "report_record.h"
#include "tap.h"

static struct dmarc_verdict dm;
static struct dkim_verdict sigs[4];
static struct spf_verdict spf;
static struct verdict v;

/* setup - a DMARC fail of example.com under p=reject, SPF fail, four signatures */
static void
setup(void)
{
	static char rua0[] = "mailto:a@example.com", rua1[] = "mailto:b@example.net";

	memset(&dm, 0, sizeof(dm));
	memset(&v, 0, sizeof(v));
	memset(&spf, 0, sizeof(spf));
	memset(sigs, 0, sizeof(sigs));
	dm.result = AUTH_FAIL;
	dm.policy = dm.applied = dm.disposition = DMARC_POLICY_REJECT;
	dm.record.p = DMARC_POLICY_REJECT;
	dm.record.np = DMARC_POLICY_QUARANTINE;
	dm.record.adkim = DMARC_ALIGN_STRICT;
	dm.record.rua[0] = rua0;
	dm.record.rua[1] = rua1;
	dm.record.n_rua = 2;
	memcpy(dm.record.fo, "1:d", 4);
	snprintf(dm.from_domain, sizeof(dm.from_domain), "mail.example.com");
	snprintf(dm.org_domain, sizeof(dm.org_domain), "example.com");
	snprintf(dm.record_domain, sizeof(dm.record_domain), "example.com");
	spf.result = AUTH_FAIL;
	snprintf(spf.domain, sizeof(spf.domain), "bounce.example.com");
	/* header order: a failure, another domain's pass, relaxed pass, strict pass */
	sigs[0].result = AUTH_FAIL;
	snprintf(sigs[0].domain, 256, "mail.example.com");
	snprintf(sigs[0].selector, 256, "f");
	sigs[1].result = AUTH_PASS;
	snprintf(sigs[1].domain, 256, "esp.example");
	snprintf(sigs[1].selector, 256, "o");
	sigs[2].result = AUTH_PASS;
	snprintf(sigs[2].domain, 256, "example.com");
	snprintf(sigs[2].selector, 256, "r");
	sigs[3].result = AUTH_PASS;
	snprintf(sigs[3].domain, 256, "mail.example.com");
	snprintf(sigs[3].selector, 256, "s");
	v.dmarc = &dm;
	v.spf_mailfrom = &spf;
	v.dkim = sigs;
	v.n_dkim = 4;
}

/* row - report_record_row with action; false when no row */
static bool
row(enum action action, const char *mailfrom, struct report_row *r)
{
	struct report_message m = { 1764547200, "192.0.2.1", mailfrom, action };

	return report_record_row(&v, &m, r);
}

int
main(void)
{
	struct report_row r;

	setup();
	CHECK(row(ACTION_REJECT, "x@Bounce.Example.COM", &r), "a rejected DMARC fail is a row");
	CHECK_STR(r.disposition, "reject", "disposition reject");
	CHECK_STR(r.reasons, "", "no reason when policy was applied");
	CHECK_STR(r.envelope_from, "bounce.example.com", "envelope_from: the domain, "
	    "normalised");
	CHECK_STR(r.rua, "mailto:a@example.com,mailto:b@example.net", "rua as a comma list");
	CHECK(r.p && strcmp(r.p, "reject") == 0 && r.sp == NULL && r.np &&
	    strcmp(r.np, "quarantine") == 0, "p, absent sp, np");
	CHECK_STR(r.adkim, "s", "adkim strict");
	CHECK_STR(r.fo, "1:d", "fo as published");
	CHECK(r.n_dkim == 4 && strcmp(r.dkim[0].selector, "s") == 0 &&
	    strcmp(r.dkim[1].selector, "r") == 0 && strcmp(r.dkim[2].selector, "o") == 0 &&
	    strcmp(r.dkim[3].selector, "f") == 0, "dkim order: strict, relaxed, other "
	    "passes, failures");
	CHECK_STR(r.spf_scope, "mfrom", "spf scope mfrom");
	CHECK_STR(r.spf_result, "fail", "spf result");
	report_row_free(&r);

	CHECK(row(ACTION_NONE, "x@example.com", &r), "dry_run: still a row");
	CHECK(strcmp(r.disposition, "none") == 0 && strcmp(r.reasons, "local_policy") == 0,
	    "dry_run: none, local_policy (%s, %s)", r.disposition, r.reasons);
	report_row_free(&r);
	CHECK(row(ACTION_QUARANTINE, "x@example.com", &r), "on_reject = quarantine");
	CHECK(strcmp(r.disposition, "quarantine") == 0 &&
	    strcmp(r.reasons, "local_policy") == 0, "quarantine, local_policy");
	report_row_free(&r);
	v.override_reason = "trusted_forwarder";
	CHECK(row(ACTION_NONE, "x@example.com", &r), "ARC override");
	CHECK(strcmp(r.disposition, "none") == 0 &&
	    strcmp(r.reasons, "trusted_forwarder") == 0, "override reason replaces "
	    "local_policy (%s)", r.reasons);
	report_row_free(&r);
	v.override_reason = NULL;

	CHECK(!row(ACTION_TEMPFAIL, "x@example.com", &r), "tempfailed: no row (it comes back)");
	dm.testing = true;
	dm.applied = dm.disposition = DMARC_POLICY_QUARANTINE;
	dm.record.testing = true;
	CHECK(row(ACTION_QUARANTINE, "", &r), "t=y");
	CHECK(strcmp(r.disposition, "quarantine") == 0 &&
	    strcmp(r.reasons, "policy_test_mode") == 0 && strcmp(r.testing, "y") == 0,
	    "t=y: quarantine, policy_test_mode");
	CHECK(strcmp(r.envelope_from, "") == 0 && strcmp(r.spf_scope, "helo") == 0,
	    "null sender: \"\" and scope helo");
	report_row_free(&r);

	setup();
	dm.result = AUTH_PASS;
	dm.disposition = DMARC_POLICY_NONE;
	dm.dkim_aligned = true;
	CHECK(row(ACTION_NONE, "x@example.com", &r), "a pass is a row");
	CHECK(strcmp(r.disposition, "pass") == 0 && strcmp(r.reasons, "") == 0 &&
	    strcmp(r.dkim_aligned, "pass") == 0 && strcmp(r.spf_aligned, "fail") == 0,
	    "pass under p=reject: disposition pass");
	report_row_free(&r);
	dm.policy = DMARC_POLICY_NONE;
	CHECK(row(ACTION_NONE, "x@example.com", &r) && strcmp(r.disposition, "none") == 0,
	    "pass under p=none: disposition none");
	report_row_free(&r);
	/* RFC 9990 §3.1: a pass under t=y was exempted from nothing */
	dm.testing = true;
	dm.record.testing = true;
	CHECK(row(ACTION_NONE, "x@example.com", &r) && strcmp(r.reasons, "") == 0 &&
	    strcmp(r.testing, "y") == 0, "pass under t=y: no policy_test_mode (%s)", r.reasons);
	report_row_free(&r);
	dm.testing = false;
	dm.record.testing = false;

	static const enum auth_result unreported[] = { AUTH_NONE, AUTH_TEMPERROR,
	    AUTH_PERMERROR };
	for (size_t i = 0; i < 3; i++) {
		dm.result = unreported[i];
		CHECK(!row(ACTION_NONE, "x@example.com", &r), "dmarc=%s: no row",
		    auth_result_name(unreported[i]));
	}
	v.dmarc = NULL;
	CHECK(!row(ACTION_NONE, "x@example.com", &r), "no DMARC verdict: no row");
	return tap_done();
}
