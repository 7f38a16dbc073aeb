/* test_report_failure - RFC 9991 failure reports: the fo= table, redaction, the
 * ARF message (fields, header-injection attempts), the rate limit and claims in
 * the store, and the store's migration from schema version 1. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "report_arf.h"
#include "report_failure.h"
#include "report_store.h"
#include "tap.h"
#include "xalloc.h"

/* test_fo - each fo value against each combination of facts */
static void
test_fo(void)
{
	static const struct {
		const char *fo;
		bool dkim_al, spf_al, dkim_fail, spf_fail;
		bool want;
	} t[] = {
		{ "0", false, false, false, false, true },	/* both unaligned */
		{ "0", true, false, false, false, false },	/* DKIM aligned pass */
		{ "0", false, true, true, true, false },
		{ "1", true, false, false, false, true },	/* SPF did not align */
		{ "1", false, true, false, false, true },
		{ "1", true, true, true, true, false },		/* both aligned: nothing */
		{ "d", true, true, true, false, true },		/* a signature failed */
		{ "d", false, false, false, true, false },
		{ "s", true, true, false, true, true },		/* SPF failed */
		{ "s", false, false, true, false, false },
		{ "0:d", true, false, true, false, true },
		{ "0:d", true, false, false, false, false },
		{ "s:1", true, true, false, false, false },
		{ "s:1", true, true, false, true, true },
		{ "x", false, false, true, true, false },	/* unknown: nothing */
		{ "", false, false, true, true, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct report_fo_facts f = { t[i].dkim_al, t[i].spf_al, t[i].dkim_fail,
		    t[i].spf_fail };

		CHECK(report_failure_fo(t[i].fo, &f) == t[i].want, "fo=%s case %zu -> %s",
		    t[i].fo, i, t[i].want ? "report" : "none");
	}
}

/* redact - report_failure_redact of s as a new string */
static char *
redact(const char *s)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	report_failure_redact(&b, s, strlen(s));
	return buf_steal(&b);
}

/* test_redact - local parts go, domains and folds stay, breaks cannot inject */
static void
test_redact(void)
{
	static const struct { const char *in, *want; } t[] = {
		{ " Alice <alice.smith@example.com>", " Alice <redacted@example.com>" },
		{ "a@x.example, \"b c\"@y.example", "redacted@x.example, redacted@y.example" },
		{ "bob+tag@example.org\r\n\tcarol@example.net",
		    "redacted@example.org\n\tredacted@example.net" },
		{ "no address here", "no address here" },
		{ "x\r\nBcc: evil@example.com", "x\n\tBcc: redacted@example.com" },
		{ "x\r\n\r\n\r\nBody", "x\n\tBody" },		/* no empty line */
		{ "trailing\r\n", "trailing" },
		{ "8bit \xc3\xa9 \x01", "8bit ?? ?" },
		{ "@only", "@only" },
		/* a closing quote without an opening one: the quote and the atext */
		{ "john.doe\"@example.com", "redacted@example.com" },
		{ "x \\\"@example.com", "x redacted@example.com" },
		/* a backslash pair is local part too: "jane" went before */
		{ "jane\\\"@example.net", "redacted@example.net" },
		{ "a\\@b\\@c@example.net", "redacted@example.net" },	/* "\\@" escaped */
		{ "jane\\\\@example.net", "redacted@example.net" },
		/* an encoded word that holds an address, Q or B, goes whole */
		{ "Re: =?UTF-8?Q?jane.roe=40example.net?= hi", "Re: redacted hi" },
		{ "=?utf-8?b?amFuZS5yb2VAZXhhbXBsZS5uZXQ=?=", "redacted" },
		{ "=?UTF-8?Q?caf=C3=A9?=", "=?UTF-8?Q?caf=C3=A9?=" },
	};
	static const char *const keep[] = { "Message-ID", "subject", "Received" };
	struct header_list h = { 0 };
	struct buf out = BUF_INIT;
	char big[2000];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = redact(t[i].in);

		CHECK(strcmp(got, t[i].want) == 0, "redact case %zu", i);
		free(got);
	}
	{
		/* '\"@' repeated: each '@' once looked back to the value's start for an
		 * opening quote (0.19 s of CPU for 60 KB at -O2). One 60 KB value
		 * against ten 6 KB ones: the same work if it is linear, ten times as
		 * much if quadratic. A ratio, so valgrind or ASan slow both alike. */
		size_t n = 60000;
		char *v = xmalloc(n + 1);
		double big_cpu, small_cpu;
		clock_t t0;

		for (size_t i = 0; i < n; i += 3)
			memcpy(v + i, "\\\"@", 3);
		v[n] = '\0';
		t0 = clock();
		for (int k = 0; k < 10; k++) {
			buf_reset(&out);
			report_failure_redact(&out, v, n / 10);
		}
		small_cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
		buf_reset(&out);
		t0 = clock();
		report_failure_redact(&out, v, n);
		big_cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
		CHECK(big_cpu < 3 * small_cpu + 0.005, "60 KB of \\\"@ in linear time: %.4f s "
		    "CPU against %.4f s for ten 6 KB", big_cpu, small_cpu);
		CHECK(strstr(buf_cstr(&out), "\"@") == NULL, "no quote left before an '@'");
		free(v);
		buf_reset(&out);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	header_list_add(&h, "From", "Mallory <mallory@evil.example>");
	header_list_add(&h, "Message-ID", "<id.123@mx.example>");
	header_list_add(&h, "Bad Name", "x");
	header_list_add(&h, "Subject", big);
	CHECK(report_failure_headers(&h, keep, 2, &out) == 1,
	    "a field name with a blank is left out");
	CHECK(strstr(buf_cstr(&out), "From: redacted <redacted@evil.example>\n") != NULL,
	    "From redacted in the copy");
	CHECK(strstr(buf_cstr(&out), "Message-ID: <id.123@mx.example>\n") != NULL,
	    "Message-ID kept as written when kept");
	CHECK(strstr(buf_cstr(&out), "mallory") == NULL, "no local part left");
	{
		const char *p = buf_cstr(&out);
		size_t longest = 0;

		while (*p) {
			size_t n = strcspn(p, "\n");

			longest = n > longest ? n : longest;
			p += n + (p[n] != '\0');
		}
		CHECK(longest <= 998, "a 2000-byte value is folded (longest line %zu)", longest);
	}
	header_list_reset(&h);
	buf_free(&out);
	for (int i = 0; i < 100; i++)
		header_list_add(&h, "Received", big);
	CHECK(report_failure_headers(&h, keep + 2, 1, &out) > 0 &&
	    out.len <= REPORT_FAIL_MAX_HEADER,
	    "the copy stops at %d bytes of whole fields (%zu)", REPORT_FAIL_MAX_HEADER, out.len);
	header_list_reset(&h);
	buf_free(&out);
}

/* copy - the header copy of one field name: value, with keep, as a new string */
static char *
copy(const char *name, const char *value, const char *const *keep, size_t n_keep)
{
	struct header_list h = { 0 };
	struct buf b = BUF_INIT;

	header_list_add(&h, name, value);
	(void)report_failure_headers(&h, keep, n_keep, &b);
	header_list_reset(&h);
	return buf_steal(&b);
}

/* test_redact_fields - each field by its structure: the samples issue 24 found
 * leaking (display names, encoded words, comments, backslashes, Subject, Received,
 * Message-ID) and issue 25 found broken (A-R property names, i=@domain) */
static void
test_redact_fields(void)
{
	static const char *const keep[] = { "Subject", "Message-ID", "Received" };
	static const struct {
		const char *name, *value;
		size_t n_keep;		/* how many of keep[] apply */
		const char *want;	/* the whole copy */
	} t[] = {
		{ "To", "\"Roe, Jane\" <jane.roe@example.net>", 0,
		    "To: redacted <redacted@example.net>\n" },
		{ "From", "=?UTF-8?Q?jane.roe=40example.net?= <jane.roe@example.net>", 0,
		    "From: redacted <redacted@example.net>\n" },
		{ "Cc", "jane.roe (home) @example.net", 0, "Cc: redacted@example.net\n" },
		{ "To", "\"jane\\\"@example.net\" <jane@example.net>, bob@example.org", 0,
		    "To: redacted <redacted@example.net>, redacted@example.org\n" },
		{ "Cc", "jane\\\"@example.net", 0, "" },	/* not an address list: out */
		{ "To", "Friends: jane@example.net, <bob@example.org>;, <>", 0,
		    "To: redacted: redacted@example.net, redacted@example.org;, <>\n" },
		{ "Reply-To", "Jane <jane@EXAMPLE.net> (private)", 0,
		    "Reply-To: redacted <redacted@example.net>\n" },
		{ "Return-Path", "<jane@example.net>", 0, "Return-Path: redacted@example.net\n" },
		{ "Subject", "Biopsy results for Jane Roe", 0, "" },
		{ "Subject", "Biopsy results for Jane Roe", 1,
		    "Subject: Biopsy results for Jane Roe\n" },
		{ "Subject", "=?UTF-8?Q?jane.roe=40example.net?= wrote", 1,
		    "Subject: redacted wrote\n" },
		{ "Received", "from janes-laptop.home.example (janes-laptop.home.example "
		    "[203.0.113.77]) by mx.example", 0, "" },
		{ "Received", "from h.example by mx.example for <jane@example.net>", 3,
		    "Received: from h.example by mx.example for <redacted@example.net>\n" },
		{ "Message-ID", "<jane.roe.private@example.net>", 0, "" },
		{ "Message-ID", "<jane.roe.private@example.net>", 2,
		    "Message-ID: <jane.roe.private@example.net>\n" },
		{ "Date", "Tue, 14 Nov 2023 22:13:20 +0000", 0,
		    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n" },
		{ "X-Mailer", "Jane's mailer", 3, "" },
		{ "Authentication-Results", "mx.example; spf=pass smtp.mailfrom=b@bounce.alpha.test;"
		    " dkim=fail header.i=@alpha.test header.d=alpha.test", 0,
		    "Authentication-Results: mx.example; spf=pass "
		    "smtp.mailfrom=redacted@bounce.alpha.test; dkim=fail header.i=@alpha.test "
		    "header.d=alpha.test\n" },
		{ "Authentication-Results", "mx.example; auth=pass smtp.auth=jane; spf=pass "
		    "(domain of jane@x.test designates 192.0.2.1) smtp.mailfrom=\"jane roe\"@x.test "
		    "header.from=\"jane@x.test\"", 0,
		    "Authentication-Results: mx.example; auth=pass smtp.auth=redacted; spf=pass "
		    "(redacted) smtp.mailfrom=redacted@x.test header.from=\"redacted@x.test\"\n" },
		{ "ARC-Authentication-Results", "i=1; mx.example; dkim=pass header.i=jane@alpha.test",
		    0, "ARC-Authentication-Results: i=1; mx.example; dkim=pass "
		    "header.i=redacted@alpha.test\n" },
		{ "DKIM-Signature", "v=1; a=rsa-sha256; d=alpha.test; i=@alpha.test; s=s1;\r\n"
		    "\th=from:to; bh=AAAA; b=BBBB", 0,
		    "DKIM-Signature: v=1; a=rsa-sha256; d=alpha.test; i=@alpha.test; s=s1;\n"
		    "\th=from:to; bh=AAAA; b=BBBB\n" },
		{ "DKIM-Signature", "v=1; d=alpha.test; i=jane.roe@alpha.test; "
		    "z=From:jane@alpha.test|Subject:Biopsy=20results; b=x", 0,
		    "DKIM-Signature: v=1; d=alpha.test; i=redacted@alpha.test; "
		    "z=From:|Subject:; b=x\n" },
		{ "DKIM-Signature", "v=1; i=jane; d=", 0, "DKIM-Signature: v=1; i=redacted; d=\n" },
		{ "DKIM-Signature", "v=1; ;; i=jane@x", 0, "" },	/* not a tag-list: out */
		{ "ARC-Seal", "i=2; a=rsa-sha256; cv=pass; d=alpha.test; s=s1; b=CCCC", 0,
		    "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=alpha.test; s=s1; b=CCCC\n" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = copy(t[i].name, t[i].value, keep, t[i].n_keep);

		CHECK(strcmp(got, t[i].want) == 0, "field case %zu (%s)", i, t[i].name);
		if (strcmp(got, t[i].want) != 0)
			printf("# got  [%s]\n# want [%s]\n", got, t[i].want);
		free(got);
	}
}

/* sample - a sample with every field set */
static struct report_sample *
sample(const char *id, const char *domain)
{
	struct report_sample *s = xcalloc(1, sizeof(*s));

	s->id = xstrdup(id);
	s->received = 1700000000;
	s->source_ip = xstrdup("192.0.2.7");
	s->policy_domain = xstrdup(domain);
	s->header_from = xstrdup(domain);
	s->envelope_from = xstrdup("bounce.example.net");
	s->ruf = xstrdup("mailto:ruf@example.com");
	s->discovery = xstrdup("treewalk");
	s->alignment = xstrdup("dkim,spf");
	s->delivery = xstrdup("reject");
	s->auth_results = xstrdup(" mx.example; dmarc=fail header.from=example.com;\n\tspf=fail "
	    "smtp.mailfrom=redacted@example.com");
	s->dkim_domain = xstrdup(domain);
	s->dkim_identity = xstrdup("redacted@example.com");
	s->dkim_selector = xstrdup("sel1");
	s->spf_domain = xstrdup(domain);
	s->headers = xstrdup("From: x <redacted@example.com>\nSubject: hello\n\tthere\n");
	return s;
}

/* arf_ok - build with s, true when it built */
static bool
arf_ok(const struct report_sample *s, const struct report_dest *to, struct buf *out)
{
	struct report_arf a = { "dmarc@report.example", to, 1, "report.example",
	    "authmilter/test", s, "v=spf1 -all \"x\"", 1700000100 };
	char why[256];

	return report_arf_build(out, &a, why, sizeof(why));
}

/* test_arf - the fields RFC 9991 and RFC 6591 ask for; hostile values refused */
static void
test_arf(void)
{
	struct report_dest to = { "ruf@example.com", "example.com" };
	struct report_sample *s = sample("0123456789abcdef", "example.com");
	struct buf out = BUF_INIT;
	static const char *const want[] = {
		"Content-Type: multipart/report; report-type=feedback-report;",
		"Content-Type: message/feedback-report\n\nFeedback-Type: auth-failure\n",
		"\nAuth-Failure: dmarc\n", "\nIdentity-Alignment: dkim,spf\n",
		"\nSource-IP: 192.0.2.7\n", "\nReported-Domain: example.com\n",
		"\nOriginal-Mail-From: <redacted@bounce.example.net>\n",
		"\nArrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n",
		"\nAuthentication-Results: mx.example; dmarc=fail", "\nDKIM-Domain: example.com\n",
		"\nDKIM-Identity: redacted@example.com\n", "\nDKIM-Selector: sel1\n",
		"\nSPF-DNS: txt : example.com : \"v=spf1 -all ?x?\"\n",
		"Content-Type: text/rfc822-headers", "\nFrom: x <redacted@example.com>\n",
		"\nTo: ruf@example.com\n", "\nDelivery-Result: reject\n",
	};

	CHECK(arf_ok(s, &to, &out), "a clean sample builds");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(strstr(buf_cstr(&out), want[i]) != NULL, "ARF has wanted text %zu", i);
	free(s->alignment);
	s->alignment = xstrdup("none");
	CHECK(arf_ok(s, &to, &out) && strstr(buf_cstr(&out), "DKIM-Domain") == NULL &&
	    strstr(buf_cstr(&out), "SPF-DNS") == NULL, "no DKIM-/SPF- fields for none");

	/* injection attempts: each must refuse the whole report */
	static const struct { int field; const char *v; } bad[] = {
		{ 0, "example.com\nBcc: victim@example.org" }, { 0, "EXAMPLE.com" },
		{ 1, "192.0.2.7\r\nX: y" }, { 2, "dkim\nX: y" }, { 3, "x\nBcc: a@b.example\n" },
		{ 3, "x\n\nbody" }, { 4, "sel\n1" }, { 5, "mx; dmarc=fail\r\nX: y" },
		{ 6, "ruf@example.com\nBcc: x@y.example" }, { 7, "deadbeef" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct report_sample *h = sample("0123456789abcdef", "example.com");
		struct report_dest hto = to;
		char **f = bad[i].field == 0 ? &h->header_from : bad[i].field == 1 ?
		    &h->source_ip : bad[i].field == 2 ? &h->alignment : bad[i].field == 3 ?
		    &h->headers : bad[i].field == 4 ? &h->dkim_selector : bad[i].field == 5 ?
		    &h->auth_results : &h->id;

		if (bad[i].field == 6)
			snprintf(hto.addr, sizeof(hto.addr), "%s", bad[i].v);
		else {
			free(*f);
			*f = xstrdup(bad[i].v);
		}
		CHECK(!arf_ok(h, &hto, &out), "refused: hostile value %zu in field %d", i,
		    bad[i].field);
		report_sample_free(h);
	}
	report_sample_free(s);
	buf_free(&out);
}

/* make_v1 - a schema version 1 database at path with one row */
static bool
make_v1(const char *path)
{
	sqlite3 *db;
	bool ok;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return false;
	ok = sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (1);"
	    "CREATE TABLE report_rows (received BIGINT NOT NULL, source_ip TEXT NOT NULL,"
	    " header_from TEXT NOT NULL, envelope_from TEXT, envelope_to TEXT,"
	    " policy_domain TEXT NOT NULL, rua TEXT NOT NULL, ruf TEXT NOT NULL, p TEXT,"
	    " sp TEXT, np TEXT, adkim TEXT, aspf TEXT, fo TEXT, testing TEXT, discovery TEXT,"
	    " spf_domain TEXT, spf_scope TEXT, spf_result TEXT, dkim TEXT NOT NULL,"
	    " dkim_aligned TEXT, spf_aligned TEXT, disposition TEXT, reasons TEXT NOT NULL);"
	    "CREATE TABLE report_claims (policy_domain TEXT NOT NULL, begin_ts BIGINT NOT NULL,"
	    " end_ts BIGINT NOT NULL, report_id TEXT NOT NULL, generator TEXT NOT NULL,"
	    " claimed_at BIGINT NOT NULL, sent_at BIGINT,"
	    " PRIMARY KEY (policy_domain, begin_ts, end_ts));"
	    "INSERT INTO report_rows VALUES (1700000000, '192.0.2.1', 'old.example', '', NULL,"
	    " 'old.example', 'mailto:a@old.example', '', 'none', NULL, NULL, 'r', 'r', '0',"
	    " 'n', 'treewalk', 'old.example', 'mfrom', 'pass', '', 'fail', 'pass', 'none', '')",
	    NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

/* count_cb - count rows */
static int
count_cb(const struct report_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

/* id_cb - keep the ids */
static int
id_cb(const char *id, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s ", id);
	return 0;
}

/* insert_sample_org - a row carrying sample id of domain, counted under org (NULL:
 * under domain) */
static bool
insert_sample_org(struct report_store *st, const char *id, const char *domain,
    const char *org, time_t t)
{
	struct report_row r = { 0 };
	bool ok;

	r.received = t;
	r.source_ip = xstrdup("192.0.2.1");
	r.header_from = xstrdup(domain);
	r.policy_domain = xstrdup(domain);
	r.rua = xstrdup("");
	r.ruf = xstrdup("mailto:ruf@example.com");
	r.dkim = NULL;
	r.sample = sample(id, domain);
	r.sample->received = t;
	r.sample->rate_domain = org != NULL ? xstrdup(org) : NULL;
	ok = report_store_insert(st, &r, 1) == 0;
	report_row_free(&r);
	return ok;
}

/* insert_sample - a row carrying sample id of domain */
static bool
insert_sample(struct report_store *st, const char *id, const char *domain, time_t t)
{
	return insert_sample_org(st, id, domain, NULL, t);
}

/* test_store - migration from version 1, samples in, claims, the rate limit */
static void
test_store(void)
{
	char dir[] = "/tmp/test_report_failureXXXXXX", path[300], uri[320], err[256];
	struct report_store *st, *st2;
	struct report_sample *s = NULL;
	struct buf ids = BUF_INIT;
	time_t now = time(NULL);
	int rows = 0, limited = 0, ok = 0;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/r.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	CHECK(make_v1(path), "a version 1 database made");
	st = report_store_open(uri, err, sizeof(err));
	CHECK(st != NULL, "version 1 opens and migrates (%s)", st ? "" : err);
	if (st == NULL)
		return;
	CHECK(report_store_each(st, 0, now + 10, count_cb, &rows) == 1 && rows == 1,
	    "the version 1 row survived the migration");
	CHECK(insert_sample(st, "00000000000000a1", "example.com", now - 5) &&
	    insert_sample(st, "00000000000000a2", "example.com", now - 4) &&
	    insert_sample(st, "00000000000000a3", "example.com", now - 3) &&
	    insert_sample(st, "00000000000000b1", "other.example", now - 2),
	    "samples stored with their rows");
	CHECK(report_store_failures_pending(st, 100, id_cb, &ids) == 4 &&
	    strcmp(buf_cstr(&ids), "00000000000000a1 00000000000000a2 00000000000000a3 "
	    "00000000000000b1 ") == 0, "pending oldest first: %s", buf_cstr(&ids));
	st2 = report_store_open(uri, err, sizeof(err));
	CHECK(report_store_failure_claim(st, "00000000000000a1", "gen1", 2, &s) ==
	    REPORT_CLAIM_OK && s != NULL && strcmp(s->headers, "From: x <redacted@example.com>"
	    "\nSubject: hello\n\tthere\n") == 0, "claim gives the sample back whole");
	report_sample_free(s);
	CHECK(report_store_failure_claim(st2, "00000000000000a1", "gen2", 2, &s) ==
	    REPORT_CLAIM_BUSY, "another generator finds it busy");
	CHECK(report_store_failure_done(st2, "00000000000000a1", "gen2", "sent") != 0,
	    "another generator cannot settle it");
	CHECK(report_store_failure_done(st, "00000000000000a1", "gen1", "sent") == 0,
	    "settled as sent");
	CHECK(report_store_failure_claim(st2, "00000000000000a1", "gen2", 2, &s) ==
	    REPORT_CLAIM_SENT, "a sent sample is never claimed again");
	/* rate 2 per hour: a1 sent, a2 claimed, a3 over the limit; b1 its own domain */
	for (const char *const *id = (const char *const[]){ "00000000000000a2",
	    "00000000000000a3", "00000000000000b1", NULL }; *id; id++) {
		enum report_claim c = report_store_failure_claim(st, *id, "gen1", 2, &s);

		ok += c == REPORT_CLAIM_OK;
		limited += c == REPORT_CLAIM_LIMITED;
		report_sample_free(s);
	}
	CHECK(ok == 2 && limited == 1, "rate 2: a2 and b1 claimed, a3 over the limit");
	CHECK(report_store_failure_release(st, "00000000000000a2", "gen1") == 0,
	    "a failed send gives the claim back");
	buf_reset(&ids);
	CHECK(report_store_failures_pending(st, 100, id_cb, &ids) == 2 &&
	    strstr(buf_cstr(&ids), "00000000000000a3") == NULL,
	    "the limited sample is settled, the released one pending: %s", buf_cstr(&ids));
	CHECK(report_store_failure_claim(st2, "00000000000000a2", "gen2", 2, &s) ==
	    REPORT_CLAIM_OK, "a released claim no longer counts: another takes it");
	report_sample_free(s);
	{
		/* issue 24 finding 4: twelve policy domains of one organization share
		 * one limit (before: each had its own, 12 claims of 12) */
		int org_ok = 0;

		for (int i = 0; i < 12; i++) {
			char id[17], dom[32];

			snprintf(id, sizeof(id), "00000000000000e%x", i);
			snprintf(dom, sizeof(dom), "x%d.evil.test", i);
			CHECK(insert_sample_org(st, id, dom, "evil.test", now), "sample of %s "
			    "stored", dom);
			if (report_store_failure_claim(st, id, "gen1", 2, &s) == REPORT_CLAIM_OK)
				org_ok++;
			report_sample_free(s);
			s = NULL;
		}
		CHECK(org_ok == 2, "rate 2: 2 claims of 12 from x0...x11.evil.test (%d)", org_ok);
	}
	CHECK(report_store_expire(st, now + 10) >= 0, "expire runs");
	buf_reset(&ids);
	CHECK(report_store_failures_pending(st, 100, id_cb, &ids) == 0,
	    "expired samples are gone");
	report_store_close(st2);
	report_store_close(st);
	buf_free(&ids);
	unlink(path);
	snprintf(path, sizeof(path), "%s/r.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/r.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_fo();
	test_redact();
	test_redact_fields();
	test_arf();
	test_store();
	return tap_done();
}
