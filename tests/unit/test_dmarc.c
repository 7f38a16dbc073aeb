/* test_dmarc - record parsing (table), organizational domains with the real
 * Public Suffix List, and dmarc_judge: alignment, p/sp/np, pct sampling.
 * No DNS here: discovery is covered by the integration tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "buf.h"
#include "dmarc.h"
#include "tap.h"

#define PSL_FILE	"/usr/share/publicsuffix/public_suffix_list.dat"

#define U	DMARC_POLICY_UNSET
#define N	DMARC_POLICY_NONE
#define Q	DMARC_POLICY_QUARANTINE
#define R	DMARC_POLICY_REJECT
#define RL	DMARC_ALIGN_RELAXED
#define ST	DMARC_ALIGN_STRICT

struct rec_case {
	const char *name;
	const char *txt;
	size_t	    len;	/* 0: strlen */
	bool	    ok;
	enum dmarc_policy p, sp, np;
	unsigned    pct;
	int	    adkim, aspf;
	size_t	    n_rua, n_ruf;
	const char *fo;
	unsigned long ri;
};

static const struct rec_case rec_cases[] = {
	{ "minimal", "v=DMARC1; p=reject", 0, true, R, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "all tags", "v=DMARC1;p=quarantine;sp=none;np=reject;pct=50;adkim=s;aspf=s;"
	    "rua=mailto:a@example.com;ruf=mailto:f@example.com;fo=1:d;ri=3600",
	    0, true, Q, N, R, 50, ST, ST, 1, 1, "1:d", 3600 },
	{ "spaces and case", "  v = DMARC1 ;  P = Reject ; SP=None ; ", 0, true, R, N, U,
	    100, RL, RL, 0, 0, "0", 86400 },
	{ "lower-case version", "v=dmarc1; p=none", 0, true, N, U, U, 100, RL, RL, 0, 0,
	    "0", 86400 },
	{ "v not first", "p=reject; v=DMARC1", 0, false, U, U, U, 100, RL, RL, 0, 0, "0",
	    86400 },
	{ "leading empty tag", "; v=DMARC1; p=reject", 0, false, U, U, U, 100, RL, RL, 0,
	    0, "0", 86400 },
	{ "other version", "v=DMARC2; p=reject", 0, false, U, U, U, 100, RL, RL, 0, 0, "0",
	    86400 },
	{ "no separator", "v=DMARC1p=reject", 0, false, U, U, U, 100, RL, RL, 0, 0, "0",
	    86400 },
	{ "empty", "", 0, false, U, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "SPF record", "v=spf1 -all", 0, false, U, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "no p", "v=DMARC1", 0, false, U, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "invalid p", "v=DMARC1; p=bogus", 0, false, U, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "invalid p, valid rua", "v=DMARC1; p=bogus; rua=mailto:d@example.com", 0, true,
	    N, U, U, 100, RL, RL, 1, 0, "0", 86400 },
	{ "no p, valid rua", "v=DMARC1; rua=mailto:d@example.com; sp=reject", 0, true,
	    N, U, U, 100, RL, RL, 1, 0, "0", 86400 },
	{ "invalid p, invalid rua", "v=DMARC1; p=bogus; rua=nonsense", 0, false, U, U, U,
	    100, RL, RL, 0, 0, "0", 86400 },
	{ "invalid sp", "v=DMARC1; p=reject; sp=bogus", 0, false, U, U, U, 100, RL, RL, 0,
	    0, "0", 86400 },
	{ "invalid sp, valid rua", "v=DMARC1; p=reject; sp=x; rua=mailto:d@example.com",
	    0, true, N, U, U, 100, RL, RL, 1, 0, "0", 86400 },
	{ "invalid np ignored", "v=DMARC1; p=reject; np=bogus", 0, true, R, U, U, 100, RL,
	    RL, 0, 0, "0", 86400 },
	{ "pct=0", "v=DMARC1; p=reject; pct=0", 0, true, R, U, U, 0, RL, RL, 0, 0, "0",
	    86400 },
	{ "pct=101", "v=DMARC1; p=reject; pct=101", 0, true, R, U, U, 100, RL, RL, 0, 0,
	    "0", 86400 },
	{ "pct=-1", "v=DMARC1; p=reject; pct=-1", 0, true, R, U, U, 100, RL, RL, 0, 0, "0",
	    86400 },
	{ "pct=abc", "v=DMARC1; p=reject; pct=5x", 0, true, R, U, U, 100, RL, RL, 0, 0, "0",
	    86400 },
	{ "duplicate p: last wins", "v=DMARC1; p=none; p=reject", 0, true, R, U, U, 100, RL,
	    RL, 0, 0, "0", 86400 },
	{ "duplicate pct: last wins", "v=DMARC1; p=none; pct=10; pct=20", 0, true, N, U, U,
	    20, RL, RL, 0, 0, "0", 86400 },
	{ "later v ignored", "v=DMARC1; p=none; v=DMARC2", 0, true, N, U, U, 100, RL, RL,
	    0, 0, "0", 86400 },
	{ "bad adkim/aspf/fo/ri", "v=DMARC1; p=none; adkim=x; aspf=; fo=2; "
	    "ri=99999999999999999999999", 0, true, N, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "rua trimmed, bad dropped", "v=DMARC1; p=none; rua= mailto:a@x.example , bogus ,"
	    "mailto:b@x.example,,", 0, true, N, U, U, 100, RL, RL, 2, 0, "0", 86400 },
	{ "unknown tags, no =", "v=DMARC1; foo=bar; junk; p=quarantine; x", 0, true, Q, U,
	    U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "non-ASCII", "v=DMARC1; p=r\xc3\xa9ject; rua=mailto:\xc3\xa9@x.example", 0, false,
	    U, U, U, 100, RL, RL, 0, 0, "0", 86400 },
	{ "8-bit junk tag", "v=DMARC1; \xff\xfe=\x80; p=none", 0, true, N, U, U, 100, RL,
	    RL, 0, 0, "0", 86400 },
	{ "embedded NUL", "v=DMARC1; p=none\0; rua=mailto:a@b.example", 41, true, N, U, U,
	    100, RL, RL, 1, 0, "0", 86400 },
	{ "embedded NUL, no rua", "v=DMARC1; p=none\0", 17, false, U, U, U, 100, RL, RL, 0,
	    0, "0", 86400 },
};

/* record_table - every row of rec_cases, field by field */
static void
record_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
		const struct rec_case *c = &rec_cases[i];
		struct dmarc_record r;
		char err[128];
		size_t len = c->len ? c->len : strlen(c->txt);
		char *copy = malloc(len ? len : 1);
		bool ok;

		if (copy == NULL)
			abort();
		memcpy(copy, c->txt, len);
		ok = dmarc_record_parse(copy, len, &r, err, sizeof(err));
		CHECK(ok == c->ok, "%s: %s (%s)", c->name, c->ok ? "valid" : "invalid", err);
		if (ok && c->ok) {
			CHECK(r.p == c->p && r.sp == c->sp && r.np == c->np,
			    "%s: p=%s sp=%s np=%s", c->name, dmarc_policy_name(r.p),
			    dmarc_policy_name(r.sp), dmarc_policy_name(r.np));
			CHECK(r.pct == c->pct, "%s: pct=%u", c->name, r.pct);
			CHECK((int)r.adkim == c->adkim && (int)r.aspf == c->aspf,
			    "%s: adkim/aspf", c->name);
			CHECK(r.n_rua == c->n_rua && r.n_ruf == c->n_ruf, "%s: %zu rua %zu ruf",
			    c->name, r.n_rua, r.n_ruf);
			CHECK_STR(r.fo, c->fo, "%s: fo", c->name);
			CHECK(r.ri == c->ri, "%s: ri=%lu", c->name, r.ri);
		}
		if (!ok)
			CHECK(err[0] != '\0', "%s: a reason is given", c->name);
		dmarc_record_clear(&r);
		free(copy);
	}
}

/* record_uris - trimming, and the cap on a 1000-URI rua */
static void
record_uris(void)
{
	struct dmarc_record r;
	struct buf b = BUF_INIT;
	char err[128];
	size_t i;

	const char *list = "v=DMARC1; p=none; rua= mailto:a@x.example , bogus ,"
	    "mailto:b@x.example!10m";

	CHECK(dmarc_record_parse(list, strlen(list), &r, err, sizeof(err)),
	    "rua list parses");
	CHECK(r.n_rua == 2, "rua list: 2 kept");
	if (r.n_rua == 2) {
		CHECK_STR(r.rua[0], "mailto:a@x.example", "rua[0] trimmed");
		CHECK_STR(r.rua[1], "mailto:b@x.example!10m", "rua[1] with size limit");
	}
	dmarc_record_clear(&r);

	buf_puts(&b, "v=DMARC1; p=reject; rua=");
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%smailto:r%zu@example.com", i ? "," : "", i);
	buf_puts(&b, "; pct=30");
	CHECK(dmarc_record_parse(b.data, b.len, &r, err, sizeof(err)),
	    "1000 rua URIs: parses");
	CHECK(r.n_rua == DMARC_MAX_URIS, "1000 rua URIs: %zu kept", r.n_rua);
	CHECK_STR(r.n_rua ? r.rua[r.n_rua - 1] : NULL, "mailto:r31@example.com",
	    "1000 rua URIs: the first ones kept");
	CHECK(r.pct == 30 && r.p == R, "1000 rua URIs: tags after them still read");
	dmarc_record_clear(&r);
	dmarc_record_clear(NULL);
	buf_free(&b);
}

/* org_domains - the organizational domain with the PSL file */
static void
org_domains(const psl_ctx_t *psl)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "example.com", "example.com" },
		{ "www.example.com", "example.com" },
		{ "a.b.c.example.com", "example.com" },
		{ "example.co.uk", "example.co.uk" },
		{ "a.b.example.co.uk", "example.co.uk" },
		{ "com", "com" },
		{ "co.uk", "co.uk" },
		{ "foo.bar.kawasaki.jp", "foo.bar.kawasaki.jp" },	/* *.kawasaki.jp */
		{ "www.city.kawasaki.jp", "city.kawasaki.jp" },	/* !city.kawasaki.jp */
		{ "mail.xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "user.github.io", "user.github.io" },	/* private section */
		{ "a.b.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	};
	char out[256], tiny[4];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool ok = dmarc_org_domain(psl, t[i].in, out, sizeof(out));

		CHECK(ok && strcmp(out, t[i].want) == 0, "org(%s) = %s (got %s)", t[i].in,
		    t[i].want, ok ? out : "failure");
	}
	CHECK(!dmarc_org_domain(psl, "", out, sizeof(out)), "org of \"\" fails");
	CHECK(!dmarc_org_domain(psl, "example.com", tiny, sizeof(tiny)),
	    "org into a small buffer fails");
}

/* spf_of - an SPF verdict for sender, its domain as spf.c evaluates it */
static struct spf_verdict
spf_of(enum auth_result r, const char *sender)
{
	struct spf_verdict v;
	const char *at = strrchr(sender, '@');

	memset(&v, 0, sizeof(v));
	v.result = r;
	memcpy(v.identity, "mailfrom", 9);
	v.sender = sender;
	snprintf(v.domain, sizeof(v.domain), "%s", at != NULL ? at + 1 : sender);
	return v;
}

/* dkim_of - a DKIM verdict for d= */
static struct dkim_verdict
dkim_of(enum auth_result r, const char *d)
{
	struct dkim_verdict v;

	memset(&v, 0, sizeof(v));
	v.result = r;
	strncpy(v.domain, d, sizeof(v.domain) - 1);
	return v;
}

struct judge_case {
	const char *name;
	const char *txt;		/* the record */
	const char *from, *record_domain;
	bool	    nonexistent;
	enum auth_result spf_r;		/* AUTH_SKIPPED: spf NULL */
	const char *spf_sender;
	enum auth_result dkim_r[2];
	const char *dkim_d[2];		/* NULL: fewer verdicts */
	unsigned    random_pct;
	/* expected */
	enum auth_result result;
	bool	    spf_aligned, dkim_aligned;
	enum dmarc_policy policy, disposition;
	bool	    sampled_out;
};

#define NODKIM	{ AUTH_NONE, AUTH_NONE }, { NULL, NULL }

static const struct judge_case judge_cases[] = {
	{ "spf exact", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", NODKIM, 0,
	    AUTH_PASS, true, false, R, N, false },
	{ "spf relaxed subdomain", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_PASS, "bounce@mail.Example.COM", NODKIM, 0,
	    AUTH_PASS, true, false, R, N, false },
	{ "spf strict subdomain", "v=DMARC1; p=reject; aspf=s", "example.com",
	    "example.com", false, AUTH_PASS, "bounce@mail.example.com", NODKIM, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "spf helo identity", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_PASS, "mx1.example.com", NODKIM, 0,
	    AUTH_PASS, true, false, R, N, false },
	{ "spf softfail", "v=DMARC1; p=quarantine", "example.com", "example.com", false,
	    AUTH_SOFTFAIL, "u@example.com", NODKIM, 0,
	    AUTH_FAIL, false, false, Q, Q, false },
	{ "spf other org", "v=DMARC1; p=reject", "example.co.uk", "example.co.uk", false,
	    AUTH_PASS, "u@other.co.uk", NODKIM, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "no spf run", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_SKIPPED, "", NODKIM, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "dkim relaxed", "v=DMARC1; p=reject", "news.example.com", "example.com", false,
	    AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE }, { "example.com", NULL },
	    0, AUTH_PASS, false, true, R, N, false },
	{ "dkim strict", "v=DMARC1; p=reject; adkim=s", "news.example.com", "example.com",
	    false, AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE },
	    { "example.com", NULL }, 0, AUTH_FAIL, false, false, R, R, false },
	{ "dkim strict exact", "v=DMARC1; p=reject; adkim=s", "example.com", "example.com",
	    false, AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE },
	    { "EXAMPLE.com", NULL }, 0, AUTH_PASS, false, true, R, N, false },
	{ "dkim fail aligned d", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_NONE, "", { AUTH_FAIL, AUTH_NONE }, { "example.com", NULL }, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "dkim pass other domain", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_NONE, "", { AUTH_PASS, AUTH_NONE }, { "example.net", NULL }, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "dkim second signature aligned", "v=DMARC1; p=reject", "example.com",
	    "example.com", false, AUTH_NONE, "", { AUTH_PASS, AUTH_PASS },
	    { "esp.example", "s.example.com" }, 0, AUTH_PASS, false, true, R, N, false },
	{ "both aligned", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", { AUTH_PASS, AUTH_NONE }, { "example.com", NULL },
	    0, AUTH_PASS, true, true, R, N, false },
	{ "sp for subdomain", "v=DMARC1; p=reject; sp=quarantine", "a.example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, Q, Q, false },
	{ "no sp: p for subdomain", "v=DMARC1; p=reject", "a.example.com", "example.com",
	    false, AUTH_NONE, "", NODKIM, 0, AUTH_FAIL, false, false, R, R, false },
	{ "own record: p, not sp", "v=DMARC1; p=none; sp=reject", "a.example.com",
	    "a.example.com", false, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, N, N, false },
	{ "np for non-existent", "v=DMARC1; p=none; sp=quarantine; np=reject",
	    "nx.example.com", "example.com", true, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, R, R, false },
	{ "np not for existing", "v=DMARC1; p=none; sp=quarantine; np=reject",
	    "a.example.com", "example.com", false, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, Q, Q, false },
	{ "no np: sp", "v=DMARC1; p=none; sp=quarantine", "nx.example.com",
	    "example.com", true, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, Q, Q, false },
	{ "no np, no sp: p", "v=DMARC1; p=reject", "nx.example.com", "example.com", true,
	    AUTH_NONE, "", NODKIM, 0, AUTH_FAIL, false, false, R, R, false },
	{ "np not for the org itself", "v=DMARC1; p=none; np=reject", "example.com",
	    "example.com", true, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, N, N, false },
	{ "pct in sample", "v=DMARC1; p=reject; pct=50", "example.com", "example.com",
	    false, AUTH_NONE, "", NODKIM, 49, AUTH_FAIL, false, false, R, R, false },
	{ "pct out of sample", "v=DMARC1; p=reject; pct=50", "example.com", "example.com",
	    false, AUTH_NONE, "", NODKIM, 50, AUTH_FAIL, false, false, R, Q, true },
	{ "pct=0 quarantine", "v=DMARC1; p=quarantine; pct=0", "example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, 0,
	    AUTH_FAIL, false, false, Q, N, true },
	{ "pct=100 sample 99", "v=DMARC1; p=quarantine", "example.com", "example.com",
	    false, AUTH_NONE, "", NODKIM, 99, AUTH_FAIL, false, false, Q, Q, false },
	{ "pct on none", "v=DMARC1; p=none; pct=0", "example.com", "example.com", false,
	    AUTH_NONE, "", NODKIM, 0, AUTH_FAIL, false, false, N, N, false },
	{ "pct on pass", "v=DMARC1; p=reject; pct=0", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", NODKIM, 0, AUTH_PASS, true, false, R, N, false },
};

/* judge_table - dmarc_judge over judge_cases */
static void
judge_table(const psl_ctx_t *psl)
{
	size_t i, j;

	for (i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		const struct judge_case *c = &judge_cases[i];
		struct dmarc_record rec;
		struct dmarc_verdict v;
		struct spf_verdict spf = spf_of(c->spf_r, c->spf_sender);
		struct dkim_verdict dkim[2];
		size_t n_dkim = 0;
		char err[128];

		for (j = 0; j < 2; j++)
			if (c->dkim_d[j] != NULL)
				dkim[n_dkim++] = dkim_of(c->dkim_r[j], c->dkim_d[j]);
		if (!dmarc_record_parse(c->txt, strlen(c->txt), &rec, err, sizeof(err))) {
			CHECK(0, "%s: record parses (%s)", c->name, err);
			continue;
		}
		dmarc_judge(&rec, psl, c->from, c->record_domain, c->nonexistent,
		    c->spf_r == AUTH_SKIPPED ? NULL : &spf, dkim, n_dkim, c->random_pct, &v);
		CHECK(v.result == c->result, "%s: dmarc=%s", c->name,
		    auth_result_name(v.result));
		CHECK(v.spf_aligned == c->spf_aligned && v.dkim_aligned == c->dkim_aligned,
		    "%s: spf aligned %d, dkim aligned %d", c->name, v.spf_aligned,
		    v.dkim_aligned);
		CHECK(v.policy == c->policy && v.disposition == c->disposition,
		    "%s: policy %s, disposition %s", c->name, dmarc_policy_name(v.policy),
		    dmarc_policy_name(v.disposition));
		CHECK(v.sampled_out == c->sampled_out, "%s: sampled_out %d", c->name,
		    v.sampled_out);
		CHECK(strpbrk(v.reason, "()\\\r\n") == NULL && v.reason[0] != '\0',
		    "%s: reason comment-safe: %s", c->name, v.reason);
		CHECK_STR(v.record_domain, c->record_domain, "%s: record domain", c->name);
		dmarc_verdict_clear(&v);
		dmarc_record_clear(&rec);
	}
}

/* verdict_copy - the verdict keeps its own copy of the record */
static void
verdict_copy(const psl_ctx_t *psl)
{
	struct dmarc_record rec;
	struct dmarc_verdict v;
	char err[64];

	CHECK(dmarc_record_parse("v=DMARC1; p=reject; rua=mailto:a@example.com", 44, &rec,
	    err, sizeof(err)), "copy: parses");
	dmarc_judge(&rec, psl, "Example.COM.", "example.com", false, NULL, NULL, 0, 0, &v);
	dmarc_record_clear(&rec);
	CHECK(v.record.n_rua == 1 && strcmp(v.record.rua[0], "mailto:a@example.com") == 0,
	    "copy: rua survives the original");
	CHECK_STR(v.from_domain, "example.com", "copy: from domain normalised");
	CHECK_STR(v.org_domain, "example.com", "copy: org domain");
	dmarc_verdict_clear(&v);
	CHECK(v.record.n_rua == 0, "copy: cleared");
	dmarc_verdict_clear(NULL);
}

/* one discovery case against the test DNS server (see test_dmarc_dns.py) */
struct dns_case {
	const char	*from;
	enum auth_result result;
	enum dmarc_policy policy;
	const char	*record_domain;	/* "" when none was used */
};

static const struct dns_case dns_cases[] = {
	{ "example.com", AUTH_FAIL, N, "example.com" },		/* p */
	{ "a.example.com", AUTH_FAIL, Q, "example.com" },	/* sp: it exists */
	{ "nx.example.com", AUTH_FAIL, R, "example.com" },	/* np: NXDOMAIN */
	{ "own.example.com", AUTH_FAIL, R, "own.example.com" },	/* its own record */
	{ "multi.example", AUTH_NONE, U, "multi.example" },
	{ "sub.multi.example", AUTH_NONE, U, "multi.example" },
	{ "bad.example", AUTH_PERMERROR, U, "bad.example" },
	{ "nothing.example", AUTH_NONE, U, "" },
	{ "a.nothing.example", AUTH_NONE, U, "" },
	{ "temp.example", AUTH_TEMPERROR, U, "temp.example" },
	{ "x.temp.example", AUTH_TEMPERROR, U, "x.temp.example" },
	{ "pass.example", AUTH_PASS, R, "pass.example" },
};

/* discovery - dmarc_lookup_start/dmarc_evaluate against a real server at ns */
static void
discovery(const psl_ctx_t *psl, const char *ns)
{
	struct dns_options o;
	struct dns_resolver *r;
	struct dmarc_lookup *l[sizeof(dns_cases) / sizeof(dns_cases[0])];
	struct spf_verdict spf = spf_of(AUTH_PASS, "bounce@mail.pass.example");
	char *servers[1] = { (char *)ns }, err[256];
	size_t i, n = sizeof(dns_cases) / sizeof(dns_cases[0]);

	memset(&o, 0, sizeof(o));
	o.nameservers = servers;
	o.n_nameservers = 1;
	o.timeout_ms = 3000;
	r = dns_resolver_new(&o, err, sizeof(err));
	CHECK(r != NULL, "resolver for %s (%s)", ns, r ? "" : err);
	if (r == NULL)
		return;
	/* all started first: the lookups of several messages run side by side */
	for (i = 0; i < n; i++)
		l[i] = dmarc_lookup_start(r, psl, dns_cases[i].from);
	for (i = 0; i < n; i++) {
		const struct dns_case *c = &dns_cases[i];
		struct dmarc_verdict v;

		dmarc_evaluate(l[i], psl, &spf, NULL, 0, 0, &v);
		CHECK(v.result == c->result, "dns %s: dmarc=%s (%s)", c->from,
		    auth_result_name(v.result), v.reason);
		CHECK(v.result != AUTH_FAIL || v.policy == c->policy, "dns %s: policy %s",
		    c->from, dmarc_policy_name(v.policy));
		CHECK_STR(v.record_domain, c->record_domain, "dns %s: record domain", c->from);
		CHECK_STR(v.from_domain, c->from, "dns %s: from domain", c->from);
		CHECK(strpbrk(v.reason, "()\\\r\n") == NULL, "dns %s: reason safe", c->from);
		dmarc_verdict_clear(&v);
		dmarc_lookup_free(l[i]);
	}
	/* a lookup freed before it is evaluated */
	dmarc_lookup_free(dmarc_lookup_start(r, psl, "a.example.com"));
	dns_resolver_free(r);
}

/* record_no_uris - fuzz_dmarc regression: a record without rua= or ruf= made
 * parse_uris compute NULL + 0 (UBSan: "applying zero offset to null pointer") */
static void
record_no_uris(void)
{
	static const char txt[] = "v=DMARC1; p=none";
	struct dmarc_record rec;
	char err[128];

	CHECK(dmarc_record_parse(txt, sizeof(txt) - 1, &rec, err, sizeof(err)),
	    "no rua/ruf: parses");
	CHECK(rec.n_rua == 0 && rec.n_ruf == 0, "no rua/ruf: no URIs");
	dmarc_record_clear(&rec);
}

int
main(void)
{
	psl_ctx_t *psl = psl_load_file(PSL_FILE);
	const char *ns = getenv("DMARC_TEST_NS");

	CHECK(psl != NULL, "PSL loaded from %s", PSL_FILE);
	record_table();
	record_uris();
	record_no_uris();
	if (psl != NULL) {
		org_domains(psl);
		judge_table(psl);
		verdict_copy(psl);
		if (ns != NULL && ns[0] != '\0')
			discovery(psl, ns);
		psl_free(psl);
	}
	CHECK_STR(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine", "policy name");
	return tap_done();
}
