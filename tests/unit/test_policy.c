/* test_policy - results to actions: each combination beside the action it must get. */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "tap.h"

enum { X = -1 };	/* check did not run */

static const struct {
	const char *name;
	int iprev;			/* for policy_connect; X: not judged */
	int spf;			/* MAIL FROM verdict or X */
	int dmarc;			/* dmarc result or X */
	enum dmarc_policy dis;		/* disposition when dmarc fails */
	bool dkim_aligned;
	unsigned from_headers;
	enum from_status from;
	enum action want;
	const char *rcode, *xcode, *by;
} cases[] = {
	{ "all pass", X, AUTH_PASS, AUTH_PASS, DMARC_POLICY_NONE, true, 1, FROM_OK,
	  ACTION_NONE, "", "", NULL },
	{ "dmarc fail p=reject", X, AUTH_FAIL, AUTH_FAIL, DMARC_POLICY_REJECT, false, 1, FROM_OK,
	  ACTION_REJECT, "550", "5.7.1", "dmarc" },
	{ "dmarc fail p=quarantine", X, AUTH_NONE, AUTH_FAIL, DMARC_POLICY_QUARANTINE, false, 1,
	  FROM_OK, ACTION_QUARANTINE, "", "", "dmarc" },
	{ "dmarc fail p=none, spf softfail", X, AUTH_SOFTFAIL, AUTH_FAIL, DMARC_POLICY_NONE,
	  false, 1, FROM_OK, ACTION_NONE, "", "", NULL },
	{ "spf fail, dmarc pass by aligned dkim (forwarded)", X, AUTH_FAIL, AUTH_PASS,
	  DMARC_POLICY_NONE, true, 1, FROM_OK, ACTION_NONE, "", "", NULL },
	{ "spf fail, no dmarc record", X, AUTH_FAIL, AUTH_NONE, DMARC_POLICY_NONE, false, 1,
	  FROM_OK, ACTION_REJECT, "550", "5.7.23", "spf" },
	{ "spf fail, dmarc fail p=none: spf.on_fail applies", X, AUTH_FAIL, AUTH_FAIL,
	  DMARC_POLICY_NONE, false, 1, FROM_OK, ACTION_REJECT, "550", "5.7.23", "spf" },
	{ "spf temperror, no dmarc", X, AUTH_TEMPERROR, AUTH_NONE, DMARC_POLICY_NONE, false, 1,
	  FROM_OK, ACTION_TEMPFAIL, "451", "4.7.24", "spf" },
	{ "spf temperror, dmarc pass", X, AUTH_TEMPERROR, AUTH_PASS, DMARC_POLICY_NONE, true, 1,
	  FROM_OK, ACTION_NONE, "", "", NULL },
	{ "dmarc temperror", X, AUTH_PASS, AUTH_TEMPERROR, DMARC_POLICY_NONE, false, 1, FROM_OK,
	  ACTION_TEMPFAIL, "451", "4.7.1", "dmarc" },
	{ "dmarc and spf temperror: dmarc names the tempfail", X, AUTH_TEMPERROR,
	  AUTH_TEMPERROR, DMARC_POLICY_NONE, false, 1, FROM_OK, ACTION_TEMPFAIL, "451", "4.7.1",
	  "dmarc" },
	/* issue 11: a DMARC that may pass on retry (aligned DKIM) is not overruled
	 * for good by SPF; the retry applies spf.on_fail if DMARC still does not pass */
	{ "dmarc temperror outranks spf fail: tempfail, not a permanent reject", X, AUTH_FAIL,
	  AUTH_TEMPERROR, DMARC_POLICY_NONE, false, 1, FROM_OK, ACTION_TEMPFAIL, "451", "4.7.1",
	  "dmarc" },
	{ "dmarc reject outranks spf temperror", X, AUTH_TEMPERROR, AUTH_FAIL,
	  DMARC_POLICY_REJECT, false, 1, FROM_OK, ACTION_REJECT, "550", "5.7.1", "dmarc" },
	{ "tempfail outranks quarantine", X, AUTH_TEMPERROR, AUTH_FAIL, DMARC_POLICY_QUARANTINE,
	  false, 1, FROM_OK, ACTION_TEMPFAIL, "451", "4.7.24", "spf" },
	{ "spf permerror is none by default", X, AUTH_PERMERROR, AUTH_NONE, DMARC_POLICY_NONE,
	  false, 1, FROM_OK, ACTION_NONE, "", "", NULL },
	{ "two From headers", X, AUTH_PASS, X, DMARC_POLICY_NONE, false, 2, FROM_OK,
	  ACTION_REJECT, "550", "5.7.1", "from" },
	{ "From with two domains", X, AUTH_PASS, X, DMARC_POLICY_NONE, false, 1,
	  FROM_MULTIPLE_DOMAINS, ACTION_REJECT, "550", "5.7.1", "from" },
	{ "no From", X, AUTH_PASS, X, DMARC_POLICY_NONE, false, 0, FROM_NO_ADDRESS,
	  ACTION_REJECT, "550", "5.7.1", "from" },
	{ "From without domain", X, AUTH_PASS, X, DMARC_POLICY_NONE, false, 1, FROM_NO_DOMAIN,
	  ACTION_REJECT, "550", "5.7.1", "from" },
};

int
main(void)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	c.spf.on_fail = ACTION_REJECT;
	c.spf.on_temperror = ACTION_TEMPFAIL;
	c.dmarc.enable = true;
	c.dmarc.on_reject = ACTION_REJECT;
	c.dmarc.on_quarantine = ACTION_QUARANTINE;
	c.dmarc.on_temperror = ACTION_TEMPFAIL;
	c.dmarc.multiple_from = ACTION_REJECT;
	c.dmarc.missing_from = ACTION_REJECT;
	c.iprev.on_fail = ACTION_REJECT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spf_verdict spf;
		struct dmarc_verdict dm;
		struct verdict in;
		struct decision d;

		memset(&spf, 0, sizeof(spf));
		memset(&dm, 0, sizeof(dm));
		memset(&in, 0, sizeof(in));
		snprintf(spf.domain, sizeof(spf.domain), "example.org");
		snprintf(dm.from_domain, sizeof(dm.from_domain), "example.org");
		if (cases[i].spf != X) {
			spf.result = (enum auth_result)cases[i].spf;
			in.spf_mailfrom = &spf;
		}
		if (cases[i].dmarc != X) {
			dm.result = (enum auth_result)cases[i].dmarc;
			dm.disposition = cases[i].dis;
			dm.dkim_aligned = cases[i].dkim_aligned;
			in.dmarc = &dm;
		}
		in.from_headers = cases[i].from_headers;
		in.from_status = cases[i].from;
		policy_message(&c, &in, &d);
		CHECK(d.action == cases[i].want && strcmp(d.reply.rcode, cases[i].rcode) == 0 &&
		    strcmp(d.reply.xcode, cases[i].xcode) == 0 &&
		    (d.by == NULL ? cases[i].by == NULL :
		     cases[i].by != NULL && strcmp(d.by, cases[i].by) == 0),
		    "%s -> %s %s %s", cases[i].name, action_name(cases[i].want),
		    cases[i].rcode, cases[i].xcode);
	}

	/* an SPF fail with an exp= explanation: the reply carries it whole, even at
	 * SPF_MACRO_MAX_EXP bytes; without one, the default text */
	{
		struct spf_verdict spf = { .result = AUTH_FAIL, .domain = "example.org",
		    .explanation = "See http://example.org/why.html?s=a@example.org" };
		struct verdict in = { .spf_mailfrom = &spf, .from_headers = 1,
		    .from_status = FROM_OK };
		struct decision d;

		policy_message(&c, &in, &d);
		CHECK(strcmp(d.reply.text, "SPF fail: See http://example.org/why.html?"
		    "s=a@example.org") == 0, "spf fail: explanation in the reply (%s)", d.reply.text);
		memset(spf.explanation, 'x', SPF_MACRO_MAX_EXP);
		spf.explanation[SPF_MACRO_MAX_EXP] = '\0';
		policy_message(&c, &in, &d);
		CHECK(strlen(d.reply.text) == strlen("SPF fail: ") + SPF_MACRO_MAX_EXP,
		    "spf fail: a longest explanation fits the reply whole");
		spf.explanation[0] = '\0';
		policy_message(&c, &in, &d);
		CHECK(strcmp(d.reply.text, "SPF fail: example.org does not permit this host to "
		    "send its mail") == 0, "spf fail without explanation: default text");
	}

	/* dry_run: the decision is kept for the log, the MTA is told to accept */
	c.dry_run = true;
	{
		struct dmarc_verdict dm = { .result = AUTH_FAIL, .disposition = DMARC_POLICY_REJECT };
		struct verdict in = { .dmarc = &dm, .from_headers = 1, .from_status = FROM_OK };
		struct decision d;

		policy_message(&c, &in, &d);
		CHECK(d.wanted == ACTION_REJECT && d.action == ACTION_NONE,
		    "dry_run: reject wanted, nothing done");
	}
	c.dry_run = false;

	/* iprev at connect */
	{
		struct iprev_verdict v = { .result = AUTH_FAIL, .addr = "192.0.2.9",
		    .reason = "no PTR record" };
		struct decision d;

		policy_connect(&c, &v, &d);
		CHECK(d.action == ACTION_REJECT && strcmp(d.reply.rcode, "550") == 0 &&
		    strcmp(d.reply.xcode, "5.7.25") == 0 && strstr(d.reply.text, "192.0.2.9") != NULL,
		    "iprev fail with on_fail=reject -> 550 5.7.25 naming the address");
		v.result = AUTH_TEMPERROR;
		policy_connect(&c, &v, &d);
		CHECK(d.action == ACTION_NONE, "iprev temperror with on_temperror=none -> nothing");
		c.iprev.on_temperror = ACTION_TEMPFAIL;
		policy_connect(&c, &v, &d);
		CHECK(d.action == ACTION_TEMPFAIL && strcmp(d.reply.xcode, "4.7.25") == 0,
		    "iprev temperror with on_temperror=tempfail -> 451 4.7.25");
		v.result = AUTH_PASS;
		policy_connect(&c, &v, &d);
		CHECK(d.action == ACTION_NONE, "iprev pass -> nothing");
	}
	return tap_done();
}
