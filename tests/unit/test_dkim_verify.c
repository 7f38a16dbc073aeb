/* test_dkim_verify - the RFC 8463 Appendix A message (Ed25519 and RSA signatures)
 * through dkim_verify_check, then tampered copies; and dkim_verify_add/finish
 * without a resolver (parse errors, the signature cap). The DNS path is left to
 * the integration tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_canon.h"
#include "dkim_keyrec.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "header.h"
#include "tap.h"

/* RFC 8463 Appendix A (as shipped by dkimpy: rfc6376.signed.msg) */
static const char rfc8463_msg[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \n"
    " d=football.example.com; i=@football.example.com; \n"
    " q=dns/txt; s=brisbane; t=1518460054; h=from : to : \n"
    " subject : date : message-id : from : subject : date; \n"
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \n"
    " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\n"
    " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; \n"
    " d=football.example.com; i=@football.example.com; \n"
    " q=dns/txt; s=test; t=1527915362; h=from : to : subject : \n"
    " date : message-id : from : subject : date; \n"
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \n"
    " b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH\n"
    " l/RAXAuADxE/40Fg7uTlxwwD1hjN2Ple6J//cJfslBdDOq6zTVbne1dqtl\n"
    " NOat7iamJ1AfRqyG+ja7a2AZsrpUuJ7VA6O+0zRYPqpwMEkEFIzI9i/Xk=\n"
    "From: Joe SixPack <joe@football.example.com>\n"
    "To: Suzie Q <suzie@shopping.example.net>\n"
    "Subject: Is dinner ready?\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
    "\n"
    "Hi.\n"
    "\n"
    "We lost the game.  Are you hungry yet?\n"
    "\n"
    "Joe.\n";

/* brisbane._domainkey and test._domainkey.football.example.com */
static const char ed_key[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rsa_key[] =
    "v=DKIM1; g=*; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6"
    "NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBs"
    "CR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDA"
    "QAB";

#define NOW	1600000000

struct msg {
	struct header_list h;
	struct buf body;	/* CRLF line ends */
};

/* load - split text (LF line ends) into header fields and a CRLF body; a field's
 * value is everything after the colon, continuation lines included */
static void
load(const char *text, struct msg *m)
{
	const char *p = text;

	memset(m, 0, sizeof(*m));
	while (*p != '\0' && *p != '\n') {
		const char *colon = strchr(p, ':');
		const char *end = p;
		for (;;) {
			end = strchr(end, '\n');
			if (end[1] != ' ' && end[1] != '\t')
				break;
			end++;
		}
		char *name = strndup(p, (size_t)(colon - p));
		char *value = strndup(colon + 1, (size_t)(end - colon - 1));
		header_list_add(&m->h, name, value);
		free(name);
		free(value);
		p = end + 1;
	}
	if (*p == '\n')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '\n')
			buf_append(&m->body, "\r\n", 2);
		else
			buf_putc(&m->body, *p);
	}
}

/* the budget check_one's verification is charged to (NULL: none) */
static struct dkim_verify_budget *test_budget;

/* check_one - parse signature field idx of m and verify it against key_txt */
static enum auth_result
check_one(const struct msg *m, size_t idx, const char *key_txt, unsigned min_bits,
    time_t now, struct dkim_verdict *out)
{
	struct dkim_sig s;
	struct dkim_keyrec k;
	struct dkim_verify_opts o = { .max_signatures = 8, .min_key_bits = min_bits, .now = now,
	    .budget = test_budget };
	char err[128] = "";
	unsigned char digest[DKIM_HASH_LEN];
	uint64_t blen;

	memset(out, 0, sizeof(*out));
	if (!dkim_sig_parse(m->h.v[idx].value, m->h.v[idx].value_len, &s, err,
	    sizeof(err))) {
		snprintf(out->reason, sizeof(out->reason), "sig: %s", err);
		dkim_sig_clear(&s);
		return AUTH_NONE;
	}
	if (!dkim_keyrec_parse(key_txt, strlen(key_txt), &k, err, sizeof(err))) {
		snprintf(out->reason, sizeof(out->reason), "key: %s", err);
		dkim_sig_clear(&s);
		return AUTH_NONE;
	}
	struct dkim_body_set *bs = dkim_body_set_new();
	struct dkim_body_hash *bh = dkim_body_set_add(bs, s.body_canon, s.length);
	dkim_body_set_update(bs, (const unsigned char *)m->body.data, m->body.len);
	dkim_body_set_final(bs);
	dkim_body_hash_result(bh, digest, &blen);
	dkim_verify_check(&s, &k, &m->h, idx, digest, blen, &o, out);
	dkim_body_set_free(bs);
	dkim_keyrec_clear(&k);
	dkim_sig_clear(&s);
	return out->result;
}

/* replace - a copy of text with the first occurrence of from replaced by to */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	struct buf b = BUF_INIT;

	if (at == NULL)
		return strdup(text);
	buf_append(&b, text, (size_t)(at - text));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	return buf_steal(&b);
}

/* free_msg - release a loaded message */
static void
free_msg(struct msg *m)
{
	header_list_reset(&m->h);
	buf_free(&m->body);
}

static const struct {
	const char *name;
	const char *from, *to;	/* text edit applied to the message; NULL: none */
	size_t sig;		/* 0: the Ed25519 signature, 1: RSA */
	int key;		/* 0: ed_key, 1: rsa_key, 2: the third column */
	const char *key_txt;
	unsigned min_bits;
	time_t now;
	enum auth_result want;
	const char *reason;
} cases[] = {
	{ "ed25519 RFC 8463 vector", NULL, NULL, 0, 0, NULL, 1024, NOW, AUTH_PASS, "" },
	{ "rsa RFC 8463 vector", NULL, NULL, 1, 1, NULL, 1024, NOW, AUTH_PASS, "" },
	{ "ed25519 body altered", "game.", "gamE.", 0, 0, NULL, 1024, NOW, AUTH_FAIL,
	  "body hash mismatch" },
	{ "rsa body altered", "Joe.\n", "Joe.\nP.S.\n", 1, 1, NULL, 1024, NOW, AUTH_FAIL,
	  "body hash mismatch" },
	{ "ed25519 header altered", "Is dinner", "Is lunch", 0, 0, NULL, 1024, NOW,
	  AUTH_FAIL, "signature did not verify" },
	{ "rsa header altered", "Suzie Q", "Suzie R", 1, 1, NULL, 1024, NOW, AUTH_FAIL,
	  "signature did not verify" },
	{ "ed25519 header refolded", "Suzie Q <", "Suzie Q\n <", 0, 0, NULL, 1024, NOW,
	  AUTH_FAIL, "signature did not verify" },
	{ "ed25519 oversigned Subject added", "From: Joe",
	  "Subject: Buy now\nFrom: Joe", 0, 0, NULL, 1024, NOW, AUTH_FAIL,
	  "signature did not verify" },
	{ "rsa oversigned From added at bottom", "\n\nHi.",
	  "\nFrom: evil@example.net\n\nHi.", 1, 1, NULL, 1024, NOW, AUTH_FAIL,
	  "signature did not verify" },
	{ "ed25519 unsigned header added", "From: Joe", "X-Extra: yes\nFrom: Joe", 0, 0,
	  NULL, 1024, NOW, AUTH_PASS, "" },
	{ "ed25519 signature field altered", "t=1518460054", "t=1518460055", 0, 0, NULL,
	  1024, NOW, AUTH_FAIL, "signature did not verify" },
	/* time: x= and t= both get DKIM_CLOCK_DRIFT (300 s); outside it, permerror
	 * (RFC 6376 §6.1.1 PERMFAIL), not fail (RFC 8601 §2.7.1) */
	{ "ed25519 expired x=", "t=1518460054;", "t=1518460054; x=1518460100;", 0, 0,
	  NULL, 1024, NOW, AUTH_PERMERROR, "signature expired" },
	{ "ed25519 x= 301 s in the past", "t=1518460054;", "t=1518460054; x=1518460100;",
	  0, 0, NULL, 1024, 1518460100 + 301, AUTH_PERMERROR, "signature expired" },
	{ "ed25519 x= 300 s in the past is within the drift (then checked)",
	  "t=1518460054;", "t=1518460054; x=1518460100;", 0, 0, NULL, 1024,
	  1518460100 + 300, AUTH_FAIL, "signature did not verify" },
	{ "ed25519 x= in the future is checked", "t=1518460054;",
	  "t=1518460054; x=1918460100;", 0, 0, NULL, 1024, NOW, AUTH_FAIL,
	  "signature did not verify" },
	{ "ed25519 t= in the future", NULL, NULL, 0, 0, NULL, 1024, 1518460054 - 301,
	  AUTH_PERMERROR, "t= in the future" },
	{ "ed25519 t= within the drift", NULL, NULL, 0, 0, NULL, 1024, 1518460054 - 299,
	  AUTH_PASS, "" },
	{ "rsa key below min_key_bits", NULL, NULL, 1, 1, NULL, 2048, NOW,
	  AUTH_PERMERROR, "key too short" },
	{ "rsa signature with ed25519 key", NULL, NULL, 1, 0, NULL, 1024, NOW,
	  AUTH_PERMERROR, "key type does not match a=" },
	{ "revoked key", NULL, NULL, 0, 2, "v=DKIM1; k=ed25519; p=", 1024, NOW,
	  AUTH_PERMERROR, "key revoked" },
	{ "key h=sha1", NULL, NULL, 0, 2,
	  "v=DKIM1; k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	  1024, NOW, AUTH_PERMERROR, "key h= excludes sha256" },
	{ "key s=tlsrpt", NULL, NULL, 0, 2,
	  "v=DKIM1; k=ed25519; s=tlsrpt; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	  1024, NOW, AUTH_PERMERROR, "key not for email" },
	{ "key t=s, i= equals d=", NULL, NULL, 0, 2,
	  "v=DKIM1; k=ed25519; t=s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	  1024, NOW, AUTH_PASS, "" },
	{ "key t=s, i= in a subdomain", "i=@football.example.com; \n q=dns/txt; s=bris",
	  "i=@x.football.example.com; \n q=dns/txt; s=bris", 0, 2,
	  "v=DKIM1; k=ed25519; t=s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	  1024, NOW, AUTH_PERMERROR, "key t=s forbids i= subdomain" },
	{ "other ed25519 key", NULL, NULL, 0, 2,
	  "k=ed25519; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=", 1024, NOW,
	  AUTH_FAIL, "signature did not verify" },
	{ "l= beyond the body", "t=1518460054;", "t=1518460054; l=1000;", 0, 0, NULL,
	  1024, NOW, AUTH_FAIL, "l= exceeds body" },
};

/* check_vectors - run the table */
static void
check_vectors(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = cases[i].from ? replace(rfc8463_msg, cases[i].from,
		    cases[i].to) : strdup(rfc8463_msg);
		struct msg m;
		struct dkim_verdict out;
		const char *key = cases[i].key == 0 ? ed_key :
		    cases[i].key == 1 ? rsa_key : cases[i].key_txt;

		CHECK(cases[i].from == NULL || strcmp(text, rfc8463_msg) != 0,
		    "%s: edit applied", cases[i].name);
		load(text, &m);
		enum auth_result r = check_one(&m, cases[i].sig, key, cases[i].min_bits,
		    cases[i].now, &out);
		CHECK(r == cases[i].want, "%s: %s", cases[i].name,
		    auth_result_name(cases[i].want));
		CHECK_STR(out.reason, cases[i].reason, "%s: reason", cases[i].name);
		free_msg(&m);
		free(text);
	}
}

/* check_fields - the verdict's properties for the RFC vector */
static void
check_fields(void)
{
	struct msg m;
	struct dkim_verdict out;

	load(rfc8463_msg, &m);
	check_one(&m, 0, ed_key, 1024, NOW, &out);
	CHECK_STR(out.domain, "football.example.com", "fields: header.d");
	CHECK_STR(out.identity, "@football.example.com", "fields: header.i");
	CHECK_STR(out.selector, "brisbane", "fields: header.s");
	CHECK_STR(out.alg, "ed25519-sha256", "fields: header.a");
	CHECK_STR(out.b_prefix, "9/dsDChY", "fields: header.b");
	CHECK(out.length == -1 && !out.testing, "fields: no l=, not testing");
	check_one(&m, 1, "v=DKIM1; t=y; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBT"
	    "zWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ"
	    "/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIK"
	    "T+l/K4w3QIDAQAB", 1024, NOW, &out);
	CHECK(out.result == AUTH_PASS && out.testing, "fields: t=y reported, rsa pass");
	CHECK_STR(out.alg, "rsa-sha256", "fields: rsa header.a");
	CHECK_STR(out.selector, "test", "fields: rsa header.s");
	/* a wrong header_index: the signature field must be found where told */
	struct dkim_sig s;
	struct dkim_keyrec k;
	struct dkim_verify_opts o = { .max_signatures = 8, .min_key_bits = 1024, .now = NOW };
	char err[64];
	dkim_sig_parse(m.h.v[0].value, m.h.v[0].value_len, &s, err, sizeof(err));
	dkim_keyrec_parse(ed_key, strlen(ed_key), &k, err, sizeof(err));
	dkim_verify_check(&s, &k, &m.h, 3, s.bodyhash, 1000, &o, &out);
	CHECK(out.result == AUTH_PERMERROR, "wrong header_index: permerror");
	CHECK_STR(out.reason, "signature field not found", "wrong header_index: reason");
	dkim_verify_check(&s, &k, &m.h, 1, s.bodyhash, 1000, &o, &out);
	CHECK(out.result == AUTH_FAIL, "other signature's field: fail");
	dkim_sig_clear(&s);
	dkim_keyrec_clear(&k);
	free_msg(&m);
}

/* check_add_finish - the per-message object without DNS */
static void
check_add_finish(void)
{
	static const char *sigs[] = {
	    "v=1; a=rsa-sha1; d=example.com; s=sel; h=from; "
	    "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; b=dGVzdA==",
	    "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; b=dGVzdA==",
	    "v=1; a=rsa-sha256; d=example.com; s=sel; h=subject; "
	    "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; b=dGVzdA==",
	    "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",
	};
	struct dkim_verify_opts o = { .max_signatures = 3, .min_key_bits = 1024, .now = NOW };
	struct dkim_body_set *bs = dkim_body_set_new();
	struct dkim_verify *v = dkim_verify_new(NULL, &o, bs);
	struct header_list h = { 0 };
	const struct dkim_verdict *vd;
	size_t ignored = 99;

	for (size_t i = 0; i < 4; i++) {
		header_list_add(&h, "DKIM-Signature", sigs[i]);
		dkim_verify_add(v, sigs[i], strlen(sigs[i]), i);
	}
	dkim_body_set_update(bs, (const unsigned char *)"hi\r\n", 4);
	dkim_body_set_final(bs);
	size_t n = dkim_verify_finish(v, &h, &vd, &ignored);
	CHECK(n == 3 && ignored == 1, "add/finish: 3 kept, 1 ignored over the cap");
	if (n == 3) {
		CHECK(vd[0].result == AUTH_PERMERROR, "add/finish: rsa-sha1 permerror");
		CHECK_STR(vd[0].reason, "rsa-sha1 is not allowed RFC 8301",
		    "add/finish: reason made safe for a comment");
		CHECK_STR(vd[0].domain, "example.com",
		    "add/finish: header.d salvaged from a refused signature");
		CHECK_STR(vd[0].selector, "sel", "add/finish: header.s salvaged");
		CHECK_STR(vd[0].alg, "rsa-sha1", "add/finish: header.a says rsa-sha1");
		CHECK(vd[1].result == AUTH_TEMPERROR, "add/finish: no resolver, temperror");
		CHECK_STR(vd[1].domain, "example.com", "add/finish: header.d");
		CHECK_STR(vd[1].b_prefix, "dGVzdA==", "add/finish: header.b");
		CHECK(vd[2].result == AUTH_PERMERROR, "add/finish: h= without from");
		CHECK_STR(vd[2].reason, "h= does not include From", "add/finish: reason");
		CHECK_STR(vd[2].domain, "example.com", "add/finish: header.d on error");
	}
	const struct dkim_verdict *vd2;
	CHECK(dkim_verify_finish(v, &h, &vd2, NULL) == n && vd2 == vd,
	    "add/finish: finish twice gives the same verdicts");
	dkim_verify_free(v);
	dkim_verify_free(NULL);
	dkim_body_set_free(bs);
	header_list_reset(&h);
}

/* check_truncated - issue 11: past the header caps the instances h= names are
 * unknown, so a signature that would pass is permerror instead */
static void
check_truncated(void)
{
	struct msg m;
	struct dkim_verify_opts o = { .max_signatures = 8, .min_key_bits = 1024, .now = NOW };
	struct dkim_body_set *bs = dkim_body_set_new();
	struct dkim_verify *v = dkim_verify_new(NULL, &o, bs);
	const struct dkim_verdict *vd;

	load(rfc8463_msg, &m);
	dkim_verify_add(v, m.h.v[0].value, m.h.v[0].value_len, 0);
	dkim_body_set_update(bs, (const unsigned char *)m.body.data, m.body.len);
	dkim_body_set_final(bs);
	m.h.truncated = true;
	CHECK(dkim_verify_finish(v, &m.h, &vd, NULL) == 1 &&
	    vd[0].result == AUTH_PERMERROR, "headers over the caps: permerror, not checked");
	CHECK_STR(vd[0].reason, "header fields over limit", "headers over the caps: reason");
	dkim_verify_free(v);
	dkim_body_set_free(bs);
	free_msg(&m);
}

/* check_budget - the per-message bounds (dkim_verify.h): the operation after
 * DKIM_VERIFY_MAX_PK_OPS is permerror and counted, a body hash beyond
 * DKIM_VERIFY_MAX_BODY_HASHES distinct ones is refused and counted */
static void
check_budget(void)
{
	struct dkim_verify_budget b;
	struct dkim_verdict out;
	struct msg m;

	memset(&b, 0, sizeof(b));
	load(rfc8463_msg, &m);
	test_budget = &b;
	b.pk_ops = DKIM_VERIFY_MAX_PK_OPS - 1;
	CHECK(check_one(&m, 1, rsa_key, 1024, NOW, &out) == AUTH_PASS &&
	    b.pk_ops == DKIM_VERIFY_MAX_PK_OPS && b.pk_refused == 0,
	    "budget: the last operation allowed verifies and is counted");
	CHECK(check_one(&m, 0, ed_key, 1024, NOW, &out) == AUTH_PERMERROR &&
	    strcmp(out.reason, "over 32 public-key operations per message") == 0 &&
	    b.pk_ops == DKIM_VERIFY_MAX_PK_OPS && b.pk_refused == 1,
	    "budget: the next is permerror, over 32 public-key operations (%s)",
	    out.reason);
	free_msg(&m);
	char *altered = replace(rfc8463_msg, "Joe.\n", "Joe.\nP.S.\n");
	load(altered, &m);
	CHECK(check_one(&m, 1, rsa_key, 1024, NOW, &out) == AUTH_FAIL &&
	    b.pk_refused == 1 && strcmp(out.reason, "body hash mismatch") == 0,
	    "budget: a body hash mismatch costs no operation");
	test_budget = NULL;
	free_msg(&m);
	free(altered);

	struct dkim_body_set *bs = dkim_body_set_new();
	memset(&b, 0, sizeof(b));
	bool all = true;
	for (int i = 0; i < DKIM_VERIFY_MAX_BODY_HASHES; i++)
		all = all && dkim_verify_body_hash(&b, bs, DKIM_CANON_RELAXED, 100 + i);
	CHECK(all, "budget: %d distinct body hashes", DKIM_VERIFY_MAX_BODY_HASHES);
	CHECK(dkim_verify_body_hash(&b, bs, DKIM_CANON_SIMPLE, -1) == NULL &&
	    b.body_refused == 1, "budget: one more distinct body hash refused, counted");
	CHECK(dkim_verify_body_hash(&b, bs, DKIM_CANON_RELAXED, 100) != NULL &&
	    b.body_refused == 1, "budget: one already made is shared");
	dkim_body_set_free(bs);
}

int
main(void)
{
	check_vectors();
	check_fields();
	check_add_finish();
	check_truncated();
	check_budget();
	return tap_done();
}
