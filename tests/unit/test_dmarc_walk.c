/* test_dmarc_walk - the RFC 9989 §4.10 tree walk over a fake zone: the exact
 * queries made, the organizational domain (§4.10.2) and the policy record
 * (§4.10.1), from the RFC's own examples (§4.10, §4.10.2, App. B.4) and the
 * worked examples of DMARC-2026.md §1.6.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc_walk.h"
#include "tap.h"

#define MAX_TXT		3

/* one name of the fake zone: _dmarc.<name> answers status with these TXTs */
struct zone_entry {
	const char	*name;
	enum dns_status	 status;
	const char	*txt[MAX_TXT];
};

struct walk_case {
	const char	*name;
	const char	*start;
	struct zone_entry zone[6];	/* names not listed: NXDOMAIN */
	/* expected */
	const char	*queries;	/* every name asked, in order, space separated */
	const char	*org;		/* NULL: unknown (tempfail) */
	const char	*policy;	/* name whose record applies; "" none; NULL unknown */
	const char	*failed;	/* the name that failed, or NULL */
};

#define OK	DNS_OK
#define SF	DNS_TEMPFAIL

static const struct walk_case walk_cases[] = {
	/* DMARC-2026.md §1.6 #1 */
	{ "1 own record", "example.com",
	  { { "example.com", OK, { "v=DMARC1; p=reject" } } },
	  "example.com com", "example.com", "example.com", NULL },
	/* #2: sp from the org domain; queries news.example.com, example.com, com */
	{ "2 subdomain inherits", "news.example.com",
	  { { "example.com", OK, { "v=DMARC1; p=reject; sp=quarantine" } } },
	  "news.example.com example.com com", "example.com", "example.com", NULL },
	/* #4 = §4.10.2's first a.mail.example.com example: the shortest wins */
	{ "4 shortest record is the org", "a.mail.example.com",
	  { { "mail.example.com", OK, { "v=DMARC1; p=none" } },
	    { "example.com", OK, { "v=DMARC1; p=reject; sp=reject" } } },
	  "a.mail.example.com mail.example.com example.com com", "example.com",
	  "example.com", NULL },
	/* #5: psd=n stops the walk and is the org domain */
	{ "5 psd=n", "a.mail.example.com",
	  { { "mail.example.com", OK, { "v=DMARC1; p=none; psd=n" } },
	    { "example.com", OK, { "v=DMARC1; p=reject; sp=reject" } } },
	  "a.mail.example.com mail.example.com", "mail.example.com", "mail.example.com",
	  NULL },
	/* §4.10.2: psd=y at example.com makes mail.example.com the org */
	{ "rfc psd=y one label longer", "a.mail.example.com",
	  { { "example.com", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "a.mail.example.com mail.example.com example.com", "mail.example.com",
	  "example.com", NULL },
	/* #6: only a PSD record; its policy applies through the org below it */
	{ "6 PSD policy", "mail.mega.bank.example",
	  { { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "mail.mega.bank.example mega.bank.example bank.example", "mega.bank.example",
	  "bank.example", NULL },
	/* #7 (App. B.4.3): the author's org is giant.bank.example */
	{ "7 B.4.3 author", "giant.bank.example",
	  { { "giant.bank.example", OK, { "v=DMARC1; p=quarantine" } },
	    { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "giant.bank.example bank.example", "giant.bank.example", "giant.bank.example",
	  NULL },
	{ "7 B.4.3 SPF domain", "mail.giant.bank.example",
	  { { "giant.bank.example", OK, { "v=DMARC1; p=quarantine" } },
	    { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "mail.giant.bank.example giant.bank.example bank.example", "giant.bank.example",
	  "giant.bank.example", NULL },
	{ "7 B.4.3 DKIM domain", "mail.mega.bank.example",
	  { { "giant.bank.example", OK, { "v=DMARC1; p=quarantine" } },
	    { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "mail.mega.bank.example mega.bank.example bank.example", "mega.bank.example",
	  "bank.example", NULL },
	/* #8: psd=y on the start stops at once; the start is its own org */
	{ "8 psd=y on the start", "bank.example",
	  { { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "bank.example", "bank.example", "bank.example", NULL },
	{ "8 its subdomain", "mail.bank.example",
	  { { "bank.example", OK, { "v=DMARC1; p=reject; psd=y" } } },
	  "mail.bank.example bank.example", "mail.bank.example", "bank.example", NULL },
	/* #9 and §4.10's own list: 13 labels, exactly 8 queries, 8..12 never */
	{ "9 thirteen labels", "a.b.c.d.e.f.g.h.i.j.mail.example.com",
	  { { "example.com", OK, { "v=DMARC1; p=reject; sp=quarantine" } },
	    { "c.d.e.f.g.h.i.j.mail.example.com", OK, { "v=DMARC1; p=none" } } },
	  "a.b.c.d.e.f.g.h.i.j.mail.example.com g.h.i.j.mail.example.com "
	  "h.i.j.mail.example.com i.j.mail.example.com j.mail.example.com "
	  "mail.example.com example.com com", "example.com", "example.com", NULL },
	/* #10: two DMARC records at one name: discarded, the walk goes on */
	{ "10 multiple records discarded", "shop.example.com",
	  { { "shop.example.com", OK, { "v=DMARC1; p=reject", "v=DMARC1; p=none" } },
	    { "example.com", OK, { "v=DMARC1; p=reject; sp=none" } } },
	  "shop.example.com example.com com", "example.com", "example.com", NULL },
	/* #11: the record below the org makes a different org per identifier */
	{ "11 author", "mail.example.com",
	  { { "mail.example.com", OK, { "v=DMARC1; p=reject" } } },
	  "mail.example.com example.com com", "mail.example.com", "mail.example.com",
	  NULL },
	{ "11 SPF domain", "example.com",
	  { { "mail.example.com", OK, { "v=DMARC1; p=reject" } } },
	  "example.com com", "example.com", "", NULL },
	/* #12a/b/d */
	{ "12a author", "b.example.co.uk",
	  { { "co.uk", OK, { "v=DMARC1; p=none; psd=y" } },
	    { "b.example.co.uk", OK, { "v=DMARC1; p=reject" } } },
	  "b.example.co.uk example.co.uk co.uk", "example.co.uk", "b.example.co.uk", NULL },
	{ "12a DKIM", "mail.a.example.co.uk",
	  { { "co.uk", OK, { "v=DMARC1; p=none; psd=y" } },
	    { "b.example.co.uk", OK, { "v=DMARC1; p=reject" } } },
	  "mail.a.example.co.uk a.example.co.uk example.co.uk co.uk", "example.co.uk",
	  "co.uk", NULL },
	{ "12b DKIM, nothing above", "mail.a.example.co.uk",
	  { { "b.example.co.uk", OK, { "v=DMARC1; p=reject" } } },
	  "mail.a.example.co.uk a.example.co.uk example.co.uk co.uk uk",
	  "mail.a.example.co.uk", "", NULL },
	{ "12d PSD without psd=y", "b.example.co.uk",
	  { { "co.uk", OK, { "v=DMARC1; p=none" } },
	    { "example.co.uk", OK, { "v=DMARC1; p=reject" } } },
	  "b.example.co.uk example.co.uk co.uk uk", "co.uk", "co.uk", NULL },
	/* other TXT at a name is no record; v=dmarc1 (case) is no record */
	{ "non-DMARC TXT ignored", "a.example.org",
	  { { "a.example.org", OK, { "v=spf1 -all", "google-site-verification=x",
	      "v=dmarc1; p=reject" } },
	    { "example.org", OK, { "v=spf1 -all", "v=DMARC1; p=quarantine" } } },
	  "a.example.org example.org org", "example.org", "example.org", NULL },
	{ "NODATA is no record", "a.example.org",
	  { { "a.example.org", DNS_NODATA, { NULL } },
	    { "example.org", OK, { "v=DMARC1; p=quarantine" } } },
	  "a.example.org example.org org", "example.org", "example.org", NULL },
	{ "no record anywhere", "x.nothing.example", { { NULL, OK, { NULL } } },
	  "x.nothing.example nothing.example example", "x.nothing.example", "", NULL },
	/* SERVFAIL/timeout mid-walk: the walk stops there, nothing above asked */
	{ "SERVFAIL mid-walk", "a.b.example.com",
	  { { "b.example.com", SF, { NULL } },
	    { "example.com", OK, { "v=DMARC1; p=reject" } } },
	  "a.b.example.com b.example.com", NULL, NULL, "b.example.com" },
	{ "SERVFAIL above the author's record: policy known, org not", "a.b.example.com",
	  { { "a.b.example.com", OK, { "v=DMARC1; p=reject" } },
	    { "example.com", SF, { NULL } } },
	  "a.b.example.com b.example.com example.com", NULL, "a.b.example.com",
	  "example.com" },
	{ "SERVFAIL after psd=n is never asked", "a.b.example.com",
	  { { "b.example.com", OK, { "v=DMARC1; p=none; psd=n" } },
	    { "example.com", SF, { NULL } } },
	  "a.b.example.com b.example.com", "b.example.com", "b.example.com", NULL },
	/* an unusable record still counts as the name's record */
	{ "record without p or rua", "x.example.net",
	  { { "example.net", OK, { "v=DMARC1; sp=reject" } } },
	  "x.example.net example.net net", "example.net", "example.net", NULL },
	/* a repeated tag (RFC 6376 §3.2): the author's record is discarded, the
	 * org domain's applies (the walk's invalid says why, checked below) */
	{ "duplicate tag at the start", "x.dup.example",
	  { { "x.dup.example", OK, { "v=DMARC1; p=none; p=reject" } },
	    { "dup.example", OK, { "v=DMARC1; p=quarantine" } } },
	  "x.dup.example dup.example example", "dup.example", "dup.example", NULL },
	/* eight labels: the start, then its rightmost seven (its parent) */
	{ "eight labels", "a.b.c.d.e.f.example.com",
	  { { NULL, OK, { NULL } } },
	  "a.b.c.d.e.f.example.com b.c.d.e.f.example.com c.d.e.f.example.com "
	  "d.e.f.example.com e.f.example.com f.example.com example.com com",
	  "a.b.c.d.e.f.example.com", "", NULL },
	/* nine labels, psd=y at the seven-label name: the org is the 8-label name,
	 * never queried, so no record there and the PSD's applies */
	{ "nine labels, psd=y at seven", "z.a.b.c.d.e.f.example.com",
	  { { "b.c.d.e.f.example.com", OK, { "v=DMARC1; p=quarantine; psd=y" } } },
	  "z.a.b.c.d.e.f.example.com b.c.d.e.f.example.com", "a.b.c.d.e.f.example.com",
	  "b.c.d.e.f.example.com", NULL },
	{ "single label", "localhost", { { NULL, OK, { NULL } } },
	  "localhost", "localhost", "", NULL },
};

/* the fake resolver: one case's zone, and what it was asked */
struct fake {
	const struct walk_case *c;
	struct buf	 asked;
	struct dns_answer ans;
	struct dns_rr	 rr[MAX_TXT];
};

/* fake_lookup - a dmarc_walk_lookup over the case's zone */
static const struct dns_answer *
fake_lookup(void *ctx, const char *name)
{
	struct fake *f = ctx;
	size_t i, j;

	buf_printf(&f->asked, "%s%s", f->asked.len ? " " : "", name);
	memset(&f->ans, 0, sizeof(f->ans));
	f->ans.rrtype = DNS_T_TXT;
	f->ans.status = DNS_NXDOMAIN;
	for (i = 0; i < 6 && f->c->zone[i].name != NULL; i++) {
		const struct zone_entry *z = &f->c->zone[i];

		if (strcmp(z->name, name) != 0)
			continue;
		f->ans.status = z->status;
		f->ans.why = z->status == DNS_TEMPFAIL ? "SERVFAIL" : NULL;
		for (j = 0; j < MAX_TXT && z->txt[j] != NULL; j++) {
			f->rr[j].txt = (char *)z->txt[j];
			f->rr[j].txt_len = strlen(z->txt[j]);
		}
		f->ans.count = z->status == DNS_OK ? j : 0;
		f->ans.rr = f->rr;
		if (z->status == DNS_OK && j == 0)
			f->ans.status = DNS_NODATA;
	}
	return &f->ans;
}

/* walk_table - every case: queries, org domain, policy record */
static void
walk_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct fake f = { c, BUF_INIT, { 0 }, { { 0 } } };
		struct dmarc_walk w;
		int k;

		dmarc_walk_run(&w, c->start, fake_lookup, &f);
		CHECK_STR(buf_cstr(&f.asked), c->queries, "%s: queries", c->name);
		CHECK(w.asked <= DMARC_WALK_MAX, "%s: at most 8 queries", c->name);
		CHECK_STR(w.tempfail ? NULL : w.org, c->org, "%s: org domain", c->name);
		k = dmarc_walk_policy(&w);
		CHECK_STR(k == -2 ? NULL : k == -1 ? "" : w.names[k], c->policy,
		    "%s: policy record", c->name);
		CHECK_STR(w.tempfail ? w.names[w.failed] : NULL, c->failed,
		    "%s: failed query", c->name);
		if (c->failed != NULL)
			CHECK(strstr(w.why, c->failed) != NULL && strstr(w.why, "SERVFAIL"),
			    "%s: why names the query: %s", c->name, w.why);
		if (strncmp(c->name, "duplicate tag", 13) == 0)
			CHECK_STR(w.invalid, "_dmarc.x.dup.example: duplicate tag p= (RFC 6376 "
			    "section 3.2)", "%s: the reason kept", c->name);
		else
			CHECK_STR(w.invalid, "", "%s: no invalid record", c->name);
		dmarc_walk_clear(&w);
		buf_free(&f.asked);
	}
}

/* names_only - dmarc_walk_names without a walk */
static void
names_only(void)
{
	const char *names[DMARC_WALK_MAX];

	CHECK(dmarc_walk_names("", names) == 0, "names: empty domain");
	CHECK(dmarc_walk_names("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example",
	    names) == 8, "names: 27 labels, 8 names");
	CHECK_STR(names[1], "u.v.w.x.y.z.example", "names: the jump to 7 labels");
	CHECK_STR(names[7], "example", "names: the TLD last");
	CHECK(dmarc_walk_names("a.b.c.d.e.f.g", names) == 7, "names: 7 labels, 7 names");
	CHECK_STR(names[1], "b.c.d.e.f.g", "names: 7 labels drop one");
}

int
main(void)
{
	walk_table();
	names_only();
	return tap_done();
}
