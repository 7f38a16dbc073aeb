/* fuzz_dmarc - dmarc_record_parse and dmarc_judge with fuzzed records, domains and
 * verdicts.
 *
 * Input: byte 0 picks the SPF/DKIM results, nonexistent and the pct sample; then
 * lines: From domain, record domain, SPF sender, SPF domain, DKIM d= (two); the
 * rest is the TXT record. Checks: a pass needs an aligned identifier, a verdict
 * with a disposition stricter than its policy is wrong.
 */
#include "config.h"

#include "dmarc.h"
#include "fuzz_util.h"

#define FUZZ_PSL_FILE	"/usr/share/publicsuffix/public_suffix_list.dat"

static psl_ctx_t *fuzz_psl;

static const enum auth_result fuzz_results[8] = {
	AUTH_PASS, AUTH_FAIL, AUTH_NONE, AUTH_TEMPERROR, AUTH_PERMERROR, AUTH_SOFTFAIL,
	AUTH_NEUTRAL, AUTH_PASS
};

/* LLVMFuzzerInitialize - load the PSL once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_psl = psl_load_file(FUZZ_PSL_FILE);
	if (fuzz_psl == NULL)
		fuzz_psl = (psl_ctx_t *)psl_builtin();
	if (fuzz_psl == NULL) {
		fprintf(stderr, "fuzz_dmarc: no public suffix list\n");
		exit(1);
	}
	return 0;
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	char from[300], recdom[300], org[256], sender[600];
	struct spf_verdict spf;
	struct dkim_verdict dkim[2];
	struct dmarc_record rec;
	struct dmarc_verdict v;
	char err[256], *txt;
	bool ok;

	memset(&spf, 0, sizeof(spf));
	memset(dkim, 0, sizeof(dkim));
	fz_line(&f, from, sizeof(from));
	fz_line(&f, recdom, sizeof(recdom));
	fz_line(&f, sender, sizeof(sender));
	spf.sender = sender;
	fz_line(&f, spf.domain, sizeof(spf.domain));
	fz_line(&f, dkim[0].domain, sizeof(dkim[0].domain));
	fz_line(&f, dkim[1].domain, sizeof(dkim[1].domain));
	memcpy(spf.identity, "mailfrom", 9);
	spf.result = fuzz_results[flags & 7];
	dkim[0].result = fuzz_results[(flags >> 3) & 7];
	dkim[1].result = AUTH_PASS;

	/* the record: exact-size heap copy, not NUL-terminated */
	txt = malloc(f.n ? f.n : 1);
	if (txt == NULL)
		return 0;
	memcpy(txt, f.p, f.n);
	memset(&rec, 0xa5, sizeof(rec));
	err[0] = '\0';
	ok = dmarc_record_parse(txt, f.n, &rec, err, sizeof(err));
	free(txt);
	if (!ok && err[0] == '\0')
		fz_fail("record refused without a reason", NULL);
	if (ok && (rec.p == DMARC_POLICY_UNSET || rec.n_rua > DMARC_MAX_URIS ||
	    rec.n_ruf > DMARC_MAX_URIS))
		fz_fail("accepted record out of range", NULL);
	if (ok) {
		memset(&v, 0xa5, sizeof(v));
		dmarc_judge(&rec, from, recdom, (flags & 0x40) != 0,
		    (flags & 0x80) ? NULL : &spf, dkim, (size_t)((flags >> 6) & 1) + 1,
		    dmarc_org_psl, fuzz_psl, &v);
		if (v.result == AUTH_PASS && !v.spf_aligned && !v.dkim_aligned)
			fz_fail("DMARC pass without an aligned identifier", from);
		if (v.result == AUTH_PASS && v.disposition > DMARC_POLICY_NONE)
			fz_fail("DMARC pass with a disposition", from);
		if (v.disposition > v.policy)
			fz_fail("disposition stricter than the policy", from);
		if (strnlen(v.reason, sizeof(v.reason)) == sizeof(v.reason))
			fz_fail("reason unterminated", NULL);
		dmarc_verdict_clear(&v);
	}
	dmarc_record_clear(&rec);
	(void)dmarc_org_domain(fuzz_psl, from, org, sizeof(org));
	(void)dmarc_org_domain(fuzz_psl, from, org, 4);
	return 0;
}
