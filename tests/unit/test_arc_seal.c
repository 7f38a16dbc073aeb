/* test_arc_seal - RFC 8617 §5.1 sealing decisions and the fields arc_seal_make
 * writes.
 *
 * arc_seal_plan is table-driven: each message (its ARC fields) and verdict next
 * to the plan it must give. arc_seal_make is checked for the shape of the three
 * values with the RSA key python3-dkim ships; test_arc_seal.py has dkimpy,
 * Mail::DKIM and mailauth verify them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_seal.h"
#include "arc_verify.h"
#include "buf.h"
#include "dkim_key.h"
#include "header.h"
#include "tap.h"

#define TEST_KEY	"/usr/lib/python3/dist-packages/dkim/tests/data/test.private"

/* A field of a test message: name and value, NULL name ends the list. */
struct field {
	const char	*name, *value;
};

struct plan_case {
	const char	*what;
	struct field	 fields[6];
	bool		 verified;	/* false: v is NULL (arc.verify off) */
	enum auth_result result;
	unsigned	 n_sets;
	bool		 seal;
	const char	*why;
	unsigned	 instance;
	enum arc_cv	 cv;
	unsigned	 n_prior;
};

#define AS1	{ "ARC-Seal", " i=1; a=rsa-sha256; cv=none; d=a.example; s=s; b=AAAA" }
#define AMS1	{ "ARC-Message-Signature", " i=1; a=rsa-sha256; d=a.example; s=s; " \
		    "h=from; bh=AAAA; b=AAAA" }
#define AAR1	{ "ARC-Authentication-Results", " i=1; a.example; dkim=pass" }
#define FROM	{ "From", " a@b.example" }

static const struct plan_case plan_cases[] = {
	{ "no ARC field, verified: i=1 cv=none", { FROM }, true, AUTH_NONE, 0,
	  true, NULL, 1, ARC_CV_NONE, 0 },
	{ "no ARC field, not verified: i=1 cv=none", { FROM }, false, AUTH_NONE, 0,
	  true, NULL, 1, ARC_CV_NONE, 0 },
	{ "ARC fields, not verified: no seal", { AS1, AMS1, AAR1, FROM }, false,
	  AUTH_NONE, 0, false, "chain-not-verified", 0, ARC_CV_NONE, 0 },
	{ "passing chain of 1: i=2 cv=pass over 1 set", { AS1, AMS1, AAR1, FROM }, true,
	  AUTH_PASS, 1, true, NULL, 2, ARC_CV_PASS, 1 },
	{ "passing chain of 49: i=50", { AS1, AMS1, AAR1, FROM }, true, AUTH_PASS, 49,
	  true, NULL, 50, ARC_CV_PASS, 49 },
	{ "passing chain of 50: no seal", { AS1, AMS1, AAR1, FROM }, true, AUTH_PASS, 50,
	  false, "instance-limit", 0, ARC_CV_NONE, 0 },
	{ "pass with no sets: a verdict we cannot use", { FROM }, true, AUTH_PASS, 0,
	  false, "chain-not-verified", 0, ARC_CV_NONE, 0 },
	{ "failing chain at i=1: i=2 cv=fail over our set alone",
	  { AS1, AMS1, AAR1, FROM }, true, AUTH_FAIL, 0, true, NULL, 2, ARC_CV_FAIL, 0 },
	{ "failing chain, gap to i=7: i=8 cv=fail",
	  { AS1, { "ARC-Message-Signature", " i=7; a=rsa-sha256; b=A" }, AAR1 }, true,
	  AUTH_FAIL, 0, true, NULL, 8, ARC_CV_FAIL, 0 },
	{ "failing chain, AAR i=12 counts", { AS1, AMS1,
	  { "ARC-Authentication-Results", " i=12; x.example; none" } }, true, AUTH_FAIL, 0,
	  true, NULL, 13, ARC_CV_FAIL, 0 },
	{ "newest seal says cv=fail: no seal (§5.1 step 1)", { AS1,
	  { "ARC-Seal", " i=2; a=rsa-sha256; cv=FAIL; d=b.example; s=s; b=AAAA" } }, true,
	  AUTH_FAIL, 0, false, "chain-failed", 0, ARC_CV_NONE, 0 },
	{ "an older seal's cv=fail under a newer one still seals", {
	  { "ARC-Seal", " i=2; a=rsa-sha256; cv=pass; d=b.example; s=s; b=AAAA" },
	  { "ARC-Seal", " i=1; a=rsa-sha256; cv=fail; d=b.example; s=s; b=AAAA" } }, true,
	  AUTH_FAIL, 0, true, NULL, 3, ARC_CV_FAIL, 0 },
	{ "failing chain at i=50: no seal", {
	  { "ARC-Seal", " i=50; a=rsa-sha256; cv=pass; d=b.example; s=s; b=AAAA" } }, true,
	  AUTH_FAIL, 0, false, "instance-limit", 0, ARC_CV_NONE, 0 },
	{ "failing chain at i=51: no seal", {
	  { "ARC-Seal", " i=51; a=rsa-sha256; cv=pass; d=b.example; s=s; b=AAAA" } }, true,
	  AUTH_FAIL, 0, false, "instance-limit", 0, ARC_CV_NONE, 0 },
	{ "failing chain, i=99999999999: no seal", {
	  { "ARC-Seal", " i=99999999999; cv=none; b=A" } }, true, AUTH_FAIL, 0,
	  false, "instance-limit", 0, ARC_CV_NONE, 0 },
	{ "failing chain, no readable i=: no seal", {
	  { "ARC-Seal", " i=x; cv=none; b=A" }, { "ARC-Seal", " ;;;===" },
	  { "ARC-Authentication-Results", " i=3 no semicolon" } }, true, AUTH_FAIL, 0,
	  false, "instance-unknown", 0, ARC_CV_NONE, 0 },
	{ "temperror: no seal", { AS1, AMS1, AAR1 }, true, AUTH_TEMPERROR, 0,
	  false, "chain-temperror", 0, ARC_CV_NONE, 0 },
	{ "permerror: no seal", { AS1 }, true, AUTH_PERMERROR, 0,
	  false, "chain-not-verified", 0, ARC_CV_NONE, 0 },
};

/* fill - a header list from a case's fields */
static void
fill(struct header_list *h, const struct field *f)
{
	memset(h, 0, sizeof(*h));
	for (; f->name != NULL; f++)
		header_list_add(h, f->name, f->value);
}

/* test_plan - every row of plan_cases */
static void
test_plan(void)
{
	for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
		const struct plan_case *c = &plan_cases[i];
		struct header_list h;
		struct arc_verdict v;
		struct arc_seal_plan p;

		fill(&h, c->fields);
		memset(&v, 0, sizeof(v));
		v.result = c->result;
		v.n_sets = c->n_sets;
		arc_seal_plan(&h, c->verified ? &v : NULL, &p);
		CHECK(p.seal == c->seal && p.instance == c->instance && p.cv == c->cv &&
		    p.n_prior == c->n_prior, "plan: %s (got seal=%d i=%u cv=%s prior=%u)",
		    c->what, p.seal, p.instance, arc_seal_cv_name(p.cv), p.n_prior);
		CHECK_STR(p.why, c->why, "plan reason: %s", c->what);
		header_list_reset(&h);
	}
	/* a message whose header hit the caps may hide ARC fields: no seal */
	struct header_list h;
	struct arc_seal_plan p;
	const struct field none[] = { FROM, { NULL, NULL } };

	fill(&h, none);
	h.truncated = true;
	arc_seal_plan(&h, NULL, &p);
	CHECK(!p.seal, "plan: truncated header, no seal");
	CHECK_STR(p.why, "headers-over-limit", "plan reason: truncated header");
	header_list_reset(&h);
}

/* test_make - the three values, for i=1 cv=none and i=2 cv=pass */
static void
test_make(void)
{
	char err[256];
	struct dkim_key *key = dkim_key_load(TEST_KEY, false, err, sizeof(err));
	struct header_list h;
	const struct field msg[] = { FROM, { "Subject", " hi" }, AS1, AMS1, AAR1,
	    { NULL, NULL } };
	unsigned char bh[DKIM_HASH_LEN] = { 0 };
	struct arc_seal_set set;
	struct arc_seal_plan p;
	struct arc_verdict v;
	struct arc_seal_params sp = { .key = key, .domain = "seal.example",
	    .selector = "s1", .now = 1700000000 };

	CHECK(key != NULL, "test key loads (%s)", key ? TEST_KEY : err);
	if (key == NULL)
		return;
	fill(&h, msg);
	memset(&v, 0, sizeof(v));
	v.result = AUTH_PASS;
	v.n_sets = 1;
	v.sets[0] = (struct arc_set_fields){ .aar = 4, .ams = 3, .as = 2 };
	arc_seal_plan(&h, &v, &p);
	CHECK(arc_seal_make(&sp, &p, &h, " mx.example;\r\n\tdkim=none", bh, &set, err,
	    sizeof(err)), "make i=2 (%s)", err);
	CHECK_STR(set.aar, " i=2; mx.example;\r\n\tdkim=none", "AAR is i=N; + our A-R");
	const char *ams_start = " i=2; a=rsa-sha256; c=relaxed/relaxed; d=seal.example;";
	const char *as_start = " i=2; a=rsa-sha256; t=1700000000; cv=pass; d=seal.example; "
	    "s=s1;\r\n\tb=";

	CHECK(set.ams != NULL && strncmp(set.ams, ams_start, strlen(ams_start)) == 0 &&
	    strstr(set.ams, " v=") == NULL &&
	    strstr(set.ams, "bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;") != NULL,
	    "AMS: i= first, no v=, relaxed/relaxed, bh= given");
	CHECK(set.as != NULL && strncmp(set.as, as_start, strlen(as_start)) == 0 &&
	    strstr(set.as, "h=") == NULL && strstr(set.as, "bh=") == NULL,
	    "AS: i, a, t, cv, d, s, then b= on its own line; no h=, no bh=");
	arc_seal_set_clear(&set);

	/* a domain that could add a tag is refused, and nothing is left behind */
	sp.domain = "seal.example; x=y";
	CHECK(!arc_seal_make(&sp, &p, &h, " mx.example; none", bh, &set, err, sizeof(err)),
	    "a d= that is not a plain domain is refused: %s", err);
	CHECK(set.aar == NULL && set.ams == NULL && set.as == NULL, "nothing returned on error");
	sp.domain = "seal.example";
	p.seal = false;
	CHECK(!arc_seal_make(&sp, &p, &h, " mx.example; none", bh, &set, err, sizeof(err)),
	    "a plan that says no seal makes nothing");
	arc_seal_set_clear(&set);
	header_list_reset(&h);
	dkim_key_free(key);
}

/* main - run every group */
int
main(void)
{
	test_plan();
	test_make();
	return tap_done();
}
