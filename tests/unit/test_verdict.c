/* test_verdict - the log line's fields from a verdict record (verdict_log):
 * exact output for each shape of record, and a peer's text that cannot forge a
 * field. */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "log.h"
#include "tap.h"
#include "verdict.h"

/* log_of - verdict_log of v as a string (caller frees the buf) */
static const char *
log_of(const struct verdict *v, struct buf *b)
{
	buf_free(b);
	verdict_log(v, b);
	return buf_cstr(b);
}

int
main(void)
{
	struct buf b = BUF_INIT;
	struct iprev_verdict iv = { AUTH_FAIL, "", "192.0.2.66", "no PTR record" };
	struct spf_verdict sm = { .result = AUTH_PASS, .sender = "x@example.org",
	    .domain = "example.org" };
	struct spf_verdict sh = { .result = AUTH_NONE, .sender = "mail.example.org" };
	struct dkim_verdict dk[2] = {
		{ .result = AUTH_PASS, .domain = "example.org", .selector = "s1" },
		{ .result = AUTH_TEMPERROR, .domain = "other.example", .selector = "s2",
		  .reason = "key lookup failed" },
	};
	struct dmarc_verdict dm = { .result = AUTH_FAIL, .policy = DMARC_POLICY_REJECT,
	    .applied = DMARC_POLICY_QUARANTINE, .testing = true, .tag = "sp",
	    .from_domain = "a.example.org", .record_domain = "example.org" };
	struct verdict v = { .helo = "mail.example.org", .iprev = &iv,
	    .spf_mailfrom = &sm, .spf_helo = &sh, .dkim_checked = true, .dkim = dk,
	    .n_dkim = 2, .dkim_ignored = 3, .dmarc_checked = true,
	    .dmarc_discovery = "treewalk", .dmarc = &dm };

	CHECK_STR(log_of(&v, &b), " helo=mail.example.org iprev=fail spf=pass "
	    "smtp.mailfrom=example.org spf-helo=none dkim=pass header.d=example.org "
	    "header.s=s1 dkim=temperror (key lookup failed) header.d=other.example header.s=s2 "
	    "dkim-ignored=3 "
	    "dmarc=fail header.from=a.example.org discovery=treewalk policy.domain=example.org "
	    "p=reject t=y policy.dmarc=quarantine", "every check");

	struct verdict none = { .helo = NULL, .dkim_checked = true, .dmarc_checked = true,
	    .from_headers = 2, .headers_truncated = true };
	CHECK_STR(log_of(&none, &b), " helo=- iprev=skipped dkim=none from-headers=2 "
	    "headers=over-limit", "nothing ran: skipped, none, why DMARC could not");

	struct verdict nofrom = { .helo = "x", .dmarc_checked = true, .from_headers = 1,
	    .from_status = FROM_NO_DOMAIN };
	CHECK_STR(log_of(&nofrom, &b), " helo=x iprev=skipped from=no-domain",
	    "one From without a domain: from=");

	struct verdict forge = { .helo = "a b=c dmarc=pass\r\n" };
	CHECK_STR(log_of(&forge, &b), " helo=a?b?c?dmarc?pass?? iprev=skipped",
	    "a HELO with spaces, '=' and CRLF cannot forge a field");

	char out[8];
	log_safe("0123456789", out, sizeof(out));
	CHECK_STR(out, "0123456", "log_safe: cut to the buffer, terminated");
	buf_free(&b);
	return tap_done();
}
