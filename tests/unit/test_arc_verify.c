/* test_arc_verify - the ARC readers and chain structure (arc_verify.c) against
 * tables, and the trusted-sealer override in policy_message.
 *
 * Without a resolver no key can be fetched, so a chain whose structure is right
 * ends at its newest AMS ("no key lookup", temperror): every structural error
 * must be found before that, with the reason the table names. The signatures
 * themselves are checked by test_arc_verify.py against dkimpy and Mail::DKIM.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_verify.h"
#include "dkim_canon.h"
#include "dkim_verify.h"
#include "policy.h"
#include "tap.h"

/* the author of the tables: From strict.example, its own organizational domain,
 * relaxed alignment */
static const struct arc_author strict_author = { "strict.example", "strict.example",
	false, false };

/* check_aar_instance - "i=N;" at the start of an AAR, comments and folds allowed */
static void
check_aar_instance(void)
{
	static const struct { const char *v; unsigned want; } t[] = {
		{ "i=1; lists.example; dmarc=pass", 1 },
		{ " i = 7 ; x", 7 },
		{ "(c) i=2 (c);x", 2 },
		{ "\r\n\ti=50; x", 50 },
		{ "i=51; x", 51 },
		{ "i=0; x", 0 },
		{ "i=; x", 0 },
		{ "i=1 x", 0 },
		{ "i=1", 0 },
		{ "i=1234567890; x", 0 },
		{ "x=1; i=1;", 0 },
		{ "i=-1; x", 0 },
		{ "", 0 },
		{ "((((((((((i=1;", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(arc_verify_aar_instance(t[i].v, strlen(t[i].v)) == t[i].want,
		    "AAR instance, case %zu (%.12s...) is %u", i, t[i].v[0] == '\r' ?
		    "fold" : t[i].v, t[i].want);
}

/* check_aar_vouch - which pass an AAR records for the From domain */
static void
check_aar_vouch(void)
{
	static const struct { const char *v; const char *want; } t[] = {
		{ "i=1; lists.example; dmarc=pass header.from=strict.example", "dmarc" },
		{ "i=1; lists.example; DMARC=PASS header.from=Strict.Example", "dmarc" },
		{ "i=1; lists.example; dmarc=pass (p=reject) header.from=\"strict.example\"",
		  "dmarc" },
		{ "i=1; lists.example; dmarc=fail header.from=strict.example", NULL },
		{ "i=1; lists.example; dmarc=pass header.from=other.example", NULL },
		{ "i=1; lists.example; dmarc=pass header.from=sub.strict.example", NULL },
		{ "i=1; lists.example; dkim=pass header.d=strict.example header.s=s", "dkim" },
		{ "i=1; lists.example; dkim=fail header.d=strict.example; "
		  "spf=pass smtp.mailfrom=a@strict.example", "spf" },
		{ "i=1; lists.example; spf=pass smtp.mailfrom=strict.example", "spf" },
		{ "i=1; lists.example; spf=softfail smtp.mailfrom=a@strict.example", NULL },
		/* the authserv-id and i= are not results */
		{ "i=1; dmarc=pass; x=y header.from=strict.example", NULL },
		/* a property of one result does not leak into the next */
		{ "i=1; lists.example; dmarc=pass; header.from=strict.example", NULL },
		/* text inside a comment or a quoted string is not a result */
		{ "i=1; lists.example; (dmarc=pass header.from=strict.example) none", NULL },
		{ "i=1; lists.example; x=\"; dmarc=pass header.from=strict.example\"", NULL },
		{ "i=1; lists.example; dkim/1=pass header.d=strict.example", "dkim" },
		{ "", NULL },
		{ "i=1; lists.example; dmarc=pass header.from=", NULL },
		{ "i=1; lists.example; =pass header.from=strict.example", NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_STR(arc_verify_aar_vouch(t[i].v, strlen(t[i].v), &strict_author),
		    t[i].want, "AAR vouch of \"%s\"", t[i].v);
	CHECK(arc_verify_aar_vouch("i=1; a; dmarc=pass header.from=x", 33, NULL) == NULL,
	    "AAR vouch: no From domain, no vouch");
}

/* check_aar_alignment - an aligned dkim=pass or spf=pass vouches (RFC 9989 §4.4):
 * relaxed, any name under the From domain's organizational domain; strict
 * (adkim=s / aspf=s), the From domain only; dmarc=pass names the From domain */
static void
check_aar_alignment(void)
{
	static const struct arc_author relaxed = { "news.example.com", "example.com",
		false, false };
	static const struct arc_author strict = { "news.example.com", "example.com",
		true, true };
	static const struct arc_author no_org = { "news.example.com", "", false, false };
	static const struct {
		const char *v;
		const char *relaxed, *strict, *no_org;
	} t[] = {
		{ "i=1; l; dkim=pass header.d=news.example.com", "dkim", "dkim", "dkim" },
		{ "i=1; l; dkim=pass header.d=example.com", "dkim", NULL, NULL },
		{ "i=1; l; dkim=pass header.d=mail.Example.COM", "dkim", NULL, NULL },
		{ "i=1; l; spf=pass smtp.mailfrom=bounce@em.example.com", "spf", NULL, NULL },
		{ "i=1; l; spf=pass smtp.mailfrom=example.com", "spf", NULL, NULL },
		/* a suffix that is not a label boundary, another organization */
		{ "i=1; l; dkim=pass header.d=badexample.com", NULL, NULL, NULL },
		{ "i=1; l; dkim=pass header.d=example.com.evil.example", NULL, NULL, NULL },
		{ "i=1; l; dkim=pass header.d=.example.com", NULL, NULL, NULL },
		{ "i=1; l; dkim=pass header.d=com", NULL, NULL, NULL },
		{ "i=1; l; spf=pass smtp.mailfrom=a@evil.example", NULL, NULL, NULL },
		/* DMARC's own verdict is about the From domain itself */
		{ "i=1; l; dmarc=pass header.from=example.com", NULL, NULL, NULL },
		{ "i=1; l; dmarc=pass header.from=news.example.com", "dmarc", "dmarc", "dmarc" },
		{ "i=1; l; dkim=fail header.d=example.com", NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].v);

		CHECK_STR(arc_verify_aar_vouch(t[i].v, n, &relaxed), t[i].relaxed,
		    "relaxed vouch of \"%s\"", t[i].v);
		CHECK_STR(arc_verify_aar_vouch(t[i].v, n, &strict), t[i].strict,
		    "strict vouch of \"%s\"", t[i].v);
		CHECK_STR(arc_verify_aar_vouch(t[i].v, n, &no_org), t[i].no_org,
		    "vouch without an organizational domain of \"%s\"", t[i].v);
	}
}

#define B64	"dGVzdHNpZ25hdHVyZQ=="
#define BH	"bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; "
#define AAR(i)	"ARC-Authentication-Results", "i=" #i "; lists.example; dmarc=pass"
#define AMS(i)	"ARC-Message-Signature", "i=" #i "; a=rsa-sha256; c=relaxed/relaxed; " \
		"d=lists.example; s=arc; h=from:to; " BH "b=" B64
#define AS(i, cv) "ARC-Seal", "i=" #i "; a=rsa-sha256; cv=" cv "; d=lists.example; " \
		"s=arc; b=" B64
#define END	NULL, NULL

/* The structure table: fields in header order, the result and a reason part. */
static const struct {
	const char *name;
	const char *f[2 * 12];
	enum auth_result want;
	const char *reason;
} chains[] = {
	{ "no ARC fields", { "From", "a@strict.example", END }, AUTH_NONE, "" },
	{ "one good set: as far as a key is needed",
	  { AS(1, "none"), AMS(1), AAR(1), END }, AUTH_TEMPERROR,
	  "ARC-Message-Signature i=1: no key lookup" },
	{ "two sets in any order: structure good",
	  { AAR(1), AS(2, "pass"), AMS(1), AS(1, "none"), AMS(2), AAR(2), END },
	  AUTH_TEMPERROR, "ARC-Message-Signature i=2: no key lookup" },
	{ "missing seal", { AMS(1), AAR(1), END }, AUTH_FAIL, "no ARC-Seal with i=1" },
	{ "missing AAR", { AS(1, "none"), AMS(1), END }, AUTH_FAIL,
	  "no ARC-Authentication-Results with i=1" },
	{ "gap", { AS(1, "none"), AMS(1), AAR(1), AS(3, "pass"), AMS(3), AAR(3), END },
	  AUTH_FAIL, "no ARC-Authentication-Results with i=2" },
	{ "duplicate AMS", { AS(1, "none"), AMS(1), AMS(1), AAR(1), END }, AUTH_FAIL,
	  "two ARC-Message-Signature with i=1" },
	{ "i=51", { AS(51, "pass"), AMS(51), AAR(51), END }, AUTH_FAIL,
	  "ARC-Seal i=51 over 50" },
	{ "cv=pass at i=1", { AS(1, "pass"), AMS(1), AAR(1), END }, AUTH_FAIL,
	  "ARC-Seal i=1 has cv=pass" },
	{ "cv=none at i=2",
	  { AS(2, "none"), AMS(2), AAR(2), AS(1, "none"), AMS(1), AAR(1), END },
	  AUTH_FAIL, "ARC-Seal i=2 has cv=none" },
	{ "newest cv=fail",
	  { AS(2, "fail"), AMS(2), AAR(2), AS(1, "none"), AMS(1), AAR(1), END },
	  AUTH_FAIL, "ARC-Seal i=2 says cv=fail" },
	{ "older cv=fail", {
	  AS(3, "pass"), AMS(3), AAR(3), AS(2, "fail"), AMS(2), AAR(2), AS(1, "none"),
	  AMS(1), AAR(1), END }, AUTH_FAIL, "ARC-Seal i=2 has cv=fail" },
	{ "bad cv=", { AS(1, "maybe"), AMS(1), AAR(1), END }, AUTH_FAIL,
	  "ARC-Seal i=1: bad cv=" },
	{ "AS without i=", { "ARC-Seal", "a=rsa-sha256; cv=none; d=x.example; s=s; b=" B64,
	  AMS(1), AAR(1), END }, AUTH_FAIL, "ARC-Seal: bad or missing i=" },
	{ "AS with h=", { "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=x.example; s=s; "
	  "h=from; b=" B64, AMS(1), AAR(1), END }, AUTH_FAIL, "h= in an ARC-Seal" },
	{ "AMS with v=", { AS(1, "none"), "ARC-Message-Signature", "v=1; i=1; "
	  "a=rsa-sha256; d=x.example; s=s; h=from; " BH "b=" B64, AAR(1), END },
	  AUTH_FAIL, "ARC-Message-Signature i=1: v= in an ARC signature" },
	{ "AMS signing ARC-Seal", { AS(1, "none"), "ARC-Message-Signature", "i=1; "
	  "a=rsa-sha256; d=x.example; s=s; h=from:arc-seal; " BH "b=" B64, AAR(1), END },
	  AUTH_FAIL, "ARC-Message-Signature i=1: h= names ARC-Seal" },
	{ "AMS with garbage", { AS(1, "none"), "ARC-Message-Signature", "i=1; ;;; =",
	  AAR(1), END }, AUTH_FAIL, "ARC-Message-Signature" },
	{ "AAR without i=", { AS(1, "none"), AMS(1), "ARC-Authentication-Results",
	  "lists.example; dmarc=pass", END }, AUTH_FAIL,
	  "ARC-Authentication-Results: bad or missing i=" },
	{ "AS rsa-sha1", { "ARC-Seal", "i=1; a=rsa-sha1; cv=none; d=x.example; s=s; b="
	  B64, AMS(1), AAR(1), END }, AUTH_FAIL, "rsa-sha1" },
};

/* check_chains - the structure table through arc_verify without a resolver */
static void
check_chains(void)
{
	struct dkim_verify_opts opts = { .min_key_bits = 1024 };

	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		struct header_list h = { 0 };
		struct dkim_body_set *body = dkim_body_set_new();
		struct arc_verify *v = arc_verify_new(NULL, &opts, body);

		for (size_t k = 0; chains[i].f[k] != NULL; k += 2) {
			header_list_add(&h, chains[i].f[k], chains[i].f[k + 1]);
			arc_verify_add(v, chains[i].f[k], h.v[h.n - 1].value,
			    h.v[h.n - 1].value_len, h.n - 1);
		}
		dkim_body_set_update(body, (const unsigned char *)"body\r\n", 6);
		dkim_body_set_final(body);
		const struct arc_verdict *a = arc_verify_finish(v, &h, &strict_author);
		CHECK(a->result == chains[i].want && strstr(a->reason, chains[i].reason) != NULL,
		    "chain %s: %s (%s)", chains[i].name, auth_result_name(chains[i].want),
		    chains[i].reason);
		if (a->result != chains[i].want || strstr(a->reason, chains[i].reason) == NULL)
			printf("#   got %s (%s)\n", auth_result_name(a->result), a->reason);
		arc_verify_free(v);
		dkim_body_set_free(body);
		header_list_reset(&h);
	}
}

/* check_caps - more ARC fields than ARC_MAX_FIELDS, a field over the size cap,
 * header fields over the header caps: fail, with a reason saying so */
static void
check_caps(void)
{
	struct dkim_verify_opts opts = { .min_key_bits = 1024 };
	struct header_list h = { 0 };
	struct dkim_body_set *body = dkim_body_set_new();
	struct arc_verify *v = arc_verify_new(NULL, &opts, body);
	const struct arc_verdict *a;

	for (int k = 0; k < ARC_MAX_FIELDS + 1; k++) {
		header_list_add(&h, "ARC-Authentication-Results", "i=1; x; none");
		arc_verify_add(v, "ARC-Authentication-Results", h.v[h.n - 1].value,
		    h.v[h.n - 1].value_len, h.n - 1);
	}
	dkim_body_set_final(body);
	a = arc_verify_finish(v, &h, NULL);
	CHECK(a->result == AUTH_FAIL && strstr(a->reason, "more than 150 ARC fields"),
	    "151 ARC fields: fail, more than 150 (%s)", a->reason);
	arc_verify_free(v);
	dkim_body_set_free(body);
	header_list_reset(&h);

	body = dkim_body_set_new();
	v = arc_verify_new(NULL, &opts, body);
	char *big = malloc(ARC_MAX_FIELD_LEN + 64);
	snprintf(big, ARC_MAX_FIELD_LEN + 64, "i=1; lists.example; x=");
	size_t l = strlen(big);
	memset(big + l, 'x', ARC_MAX_FIELD_LEN + 64 - l - 1);
	big[ARC_MAX_FIELD_LEN + 63] = '\0';
	const char *set[] = { AS(1, "none"), AMS(1), "ARC-Authentication-Results", big, END };
	for (size_t k = 0; set[k] != NULL; k += 2) {
		header_list_add(&h, set[k], set[k + 1]);
		arc_verify_add(v, set[k], h.v[h.n - 1].value, h.v[h.n - 1].value_len,
		    h.n - 1);
	}
	dkim_body_set_final(body);
	a = arc_verify_finish(v, &h, NULL);
	CHECK(a->result == AUTH_FAIL && strstr(a->reason, "over 16384 bytes"),
	    "AAR over 16 KB: fail (%s)", a->reason);
	free(big);
	arc_verify_free(v);
	dkim_body_set_free(body);
	header_list_reset(&h);

	body = dkim_body_set_new();
	v = arc_verify_new(NULL, &opts, body);
	const char *ok[] = { AS(1, "none"), AMS(1), AAR(1), END };
	for (size_t k = 0; ok[k] != NULL; k += 2) {
		header_list_add(&h, ok[k], ok[k + 1]);
		arc_verify_add(v, ok[k], h.v[h.n - 1].value, h.v[h.n - 1].value_len, h.n - 1);
	}
	h.truncated = true;
	dkim_body_set_final(body);
	a = arc_verify_finish(v, &h, NULL);
	CHECK(a->result == AUTH_FAIL && strcmp(a->reason, "header fields over limit") == 0 &&
	    a->n_sets == 1 && strcmp(a->sealer, "lists.example") == 0,
	    "header caps hit: fail, header fields over limit, sealer known");
	arc_verify_free(v);
	dkim_body_set_free(body);
	header_list_reset(&h);
}

/* check_unstored - an ARC field the header caps kept out fails the chain */
static void
check_unstored(void)
{
	struct dkim_verify_opts opts = { .min_key_bits = 1024 };
	struct header_list h = { 0 };
	struct dkim_body_set *body = dkim_body_set_new();
	struct arc_verify *v = arc_verify_new(NULL, &opts, body);

	arc_verify_unstored(v);
	dkim_body_set_final(body);
	const struct arc_verdict *a = arc_verify_finish(v, &h, NULL);
	CHECK(a->result == AUTH_FAIL && strcmp(a->reason, "ARC field past the header limits")
	    == 0, "an ARC field past the header caps alone: fail (%s)", a->reason);
	arc_verify_free(v);
	dkim_body_set_free(body);
}

/* check_policy - the override: DMARC fail (reject/quarantine), chain pass, a
 * vouching instance at or above oldest-pass, it and every newer one sealed by
 * a trusted domain. The chain: lists.example (i=1, vouch as the case says)
 * under fwd.example (i=2, vouching nothing). */
static void
check_policy(void)
{
	static const struct {
		const char *name;
		enum auth_result arc;
		int dis;		/* disposition of the DMARC fail */
		const char *vouch;	/* of instance 1 */
		const char *trusted[2];	/* the trusted sealers */
		unsigned oldest;	/* oldest-pass */
		enum action want;
		const char *sealer;
	} t[] = {
		{ "reject, trusted vouching sealer under a trusted hop", AUTH_PASS,
		  DMARC_POLICY_REJECT, "dmarc", { "lists.example", "fwd.example" }, 0,
		  ACTION_NONE, "lists.example" },
		{ "quarantine, trusted vouching sealer under a trusted hop", AUTH_PASS,
		  DMARC_POLICY_QUARANTINE, "dkim", { "LISTS.example", "Fwd.Example" }, 0,
		  ACTION_NONE, "lists.example" },
		{ "reject, trusted vouching sealer under an untrusted hop (replay)",
		  AUTH_PASS, DMARC_POLICY_REJECT, "dmarc", { "lists.example", NULL }, 0,
		  ACTION_REJECT, NULL },
		{ "reject, vouching set below oldest-pass", AUTH_PASS, DMARC_POLICY_REJECT,
		  "dmarc", { "lists.example", "fwd.example" }, 2, ACTION_REJECT, NULL },
		{ "reject, vouching set at oldest-pass", AUTH_PASS, DMARC_POLICY_REJECT,
		  "dmarc", { "lists.example", "fwd.example" }, 1, ACTION_NONE,
		  "lists.example" },
		{ "reject, sealer not trusted", AUTH_PASS, DMARC_POLICY_REJECT, "dmarc",
		  { "other.example", NULL }, 0, ACTION_REJECT, NULL },
		{ "reject, only the newest (vouching nothing) trusted", AUTH_PASS,
		  DMARC_POLICY_REJECT, "dmarc", { "fwd.example", NULL }, 0, ACTION_REJECT,
		  NULL },
		{ "reject, trusted sealers vouching nothing", AUTH_PASS, DMARC_POLICY_REJECT,
		  NULL, { "lists.example", "fwd.example" }, 0, ACTION_REJECT, NULL },
		{ "reject, chain fails", AUTH_FAIL, DMARC_POLICY_REJECT, "dmarc",
		  { "lists.example", "fwd.example" }, 0, ACTION_REJECT, NULL },
		{ "reject, chain temperror", AUTH_TEMPERROR, DMARC_POLICY_REJECT, "dmarc",
		  { "lists.example", "fwd.example" }, 0, ACTION_REJECT, NULL },
		{ "p=none: nothing to override", AUTH_PASS, DMARC_POLICY_NONE, "dmarc",
		  { "lists.example", "fwd.example" }, 0, ACTION_NONE, NULL },
	};
	struct conf c;

	memset(&c, 0, sizeof(c));
	c.spf.on_fail = ACTION_REJECT;
	c.dmarc.enable = true;
	c.dmarc.on_reject = ACTION_REJECT;
	c.dmarc.on_quarantine = ACTION_QUARANTINE;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct arc_verdict av;
		struct dmarc_verdict dm;
		struct spf_verdict spf;
		struct verdict in;
		struct decision d;
		char *tr[2] = { (char *)t[i].trusted[0], (char *)t[i].trusted[1] };

		memset(&av, 0, sizeof(av));
		memset(&dm, 0, sizeof(dm));
		memset(&spf, 0, sizeof(spf));
		memset(&in, 0, sizeof(in));
		av.result = t[i].arc;
		av.n_sets = 2;
		av.oldest_pass = t[i].oldest;
		snprintf(av.info[0].sealer, sizeof(av.info[0].sealer), "lists.example");
		av.info[0].vouch = t[i].vouch;
		snprintf(av.info[1].sealer, sizeof(av.info[1].sealer), "fwd.example");
		dm.result = AUTH_FAIL;
		dm.disposition = t[i].dis;
		snprintf(dm.from_domain, sizeof(dm.from_domain), "strict.example");
		spf.result = AUTH_FAIL;		/* the list's SPF would reject too */
		snprintf(spf.domain, sizeof(spf.domain), "strict.example");
		in.arc = &av;
		in.dmarc = &dm;
		in.spf_mailfrom = &spf;
		in.from_headers = 1;
		in.from_status = FROM_OK;
		c.arc.trusted_sealers = tr;
		c.arc.n_trusted_sealers = tr[1] != NULL ? 2 : 1;
		policy_message(&c, &in, &d);
		bool spf_only = t[i].dis == DMARC_POLICY_NONE;
		enum action want = spf_only ? ACTION_REJECT : t[i].want;
		CHECK(d.wanted == want && (t[i].sealer == NULL ? d.override_sealer == NULL :
		    d.override_sealer != NULL && strcmp(d.override_sealer, t[i].sealer) == 0 &&
		    strcmp(d.override_reason, "trusted_forwarder") == 0),
		    "policy: %s -> %s%s", t[i].name, action_name(want),
		    t[i].sealer ? " override=arc" : "");
	}
}

int
main(void)
{
	check_aar_instance();
	check_aar_vouch();
	check_aar_alignment();
	check_chains();
	check_caps();
	check_unstored();
	check_policy();
	return tap_done();
}
