/* test_dmarc - record parsing (table, RFC 9989 tags), organizational domains with
 * the real Public Suffix List, and dmarc_judge: alignment, p/sp/np, t=.
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
	bool	    testing;		/* t=y */
	int	    adkim, aspf;
	size_t	    n_rua, n_ruf;
	const char *fo;
	enum dmarc_psd psd;
};

#define NT	false	/* t=n */
#define PU	DMARC_PSD_U

static const struct rec_case rec_cases[] = {
	{ "minimal", "v=DMARC1; p=reject", 0, true, R, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "all tags", "v=DMARC1;p=quarantine;sp=none;np=reject;t=y;psd=n;adkim=s;aspf=s;"
	    "rua=mailto:a@example.com;ruf=mailto:f@example.com;fo=1:d",
	    0, true, Q, N, R, true, ST, ST, 1, 1, "1:d", DMARC_PSD_N },
	{ "any order after v", "v=DMARC1; psd=y; sp=none; t=n; p=reject", 0, true, R, N, U,
	    NT, RL, RL, 0, 0, "0", DMARC_PSD_Y },
	{ "spaces and case of names and values", "  v = DMARC1 ;  P = Reject ; SP=None ; "
	    "T=Y; PSD=U", 0, true, R, N, U, true, RL, RL, 0, 0, "0", PU },
	/* §4.7: the value DMARC1 is case-sensitive */
	{ "v=dmarc1 is not DMARC", "v=dmarc1; p=none", 0, false, U, U, U, NT, RL, RL, 0, 0,
	    "0", PU },
	{ "v not first", "p=reject; v=DMARC1", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "leading empty tag", "; v=DMARC1; p=reject", 0, false, U, U, U, NT, RL, RL, 0, 0,
	    "0", PU },
	{ "other version", "v=DMARC2; p=reject", 0, false, U, U, U, NT, RL, RL, 0, 0, "0",
	    PU },
	{ "no separator", "v=DMARC1p=reject", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "empty", "", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "SPF record", "v=spf1 -all", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	/* §4.10.1: no valid p (or a bad sp/np): p=none with a valid rua, else none */
	{ "no p", "v=DMARC1", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "invalid p", "v=DMARC1; p=bogus", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "invalid p, valid rua", "v=DMARC1; p=bogus; rua=mailto:d@example.com", 0, true,
	    N, U, U, NT, RL, RL, 1, 0, "0", PU },
	{ "no p, valid rua", "v=DMARC1; rua=mailto:d@example.com; sp=reject", 0, true,
	    N, U, U, NT, RL, RL, 1, 0, "0", PU },
	{ "invalid p, invalid rua", "v=DMARC1; p=bogus; rua=nonsense", 0, false, U, U, U,
	    NT, RL, RL, 0, 0, "0", PU },
	{ "invalid sp", "v=DMARC1; p=reject; sp=bogus", 0, false, U, U, U, NT, RL, RL, 0,
	    0, "0", PU },
	{ "invalid sp, valid rua", "v=DMARC1; p=reject; sp=x; rua=mailto:d@example.com",
	    0, true, N, U, U, NT, RL, RL, 1, 0, "0", PU },
	{ "invalid np", "v=DMARC1; p=reject; np=bogus", 0, false, U, U, U, NT, RL, RL, 0,
	    0, "0", PU },
	{ "invalid np, valid rua", "v=DMARC1; p=reject; np=x; rua=mailto:d@example.com",
	    0, true, N, U, U, NT, RL, RL, 1, 0, "0", PU },
	/* pct, rf and ri are gone: ignored like unknown tags */
	{ "pct=0 ignored", "v=DMARC1; p=reject; pct=0", 0, true, R, U, U, NT, RL, RL, 0, 0,
	    "0", PU },
	{ "pct=bogus, rf, ri ignored", "v=DMARC1; p=reject; pct=x; rf=afrf; ri=nope", 0,
	    true, R, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "bad t, bad psd: defaults", "v=DMARC1; p=reject; t=maybe; psd=x", 0, true, R, U,
	    U, NT, RL, RL, 0, 0, "0", PU },
	/* RFC 9989 §4.7 -> RFC 6376 §3.2: a repeated tag makes the whole list invalid */
	{ "duplicate p: invalid", "v=DMARC1; p=none; p=reject", 0, false, U, U, U, NT, RL,
	    RL, 0, 0, "0", PU },
	{ "duplicate p, other case: invalid", "v=DMARC1; p=reject; P=none", 0, false, U,
	    U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "later v: invalid", "v=DMARC1; p=none; v=DMARC2", 0, false, U, U, U, NT, RL, RL,
	    0, 0, "0", PU },
	{ "duplicate unknown tag: invalid", "v=DMARC1; foo=1; p=none; foo=2", 0, false, U,
	    U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "duplicate rua: invalid", "v=DMARC1; p=none; rua=mailto:a@x.example; "
	    "rua=mailto:b@x.example", 0, false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "bad adkim/aspf/fo", "v=DMARC1; p=none; adkim=x; aspf=; fo=2", 0, true, N, U, U,
	    NT, RL, RL, 0, 0, "0", PU },
	{ "rua trimmed, bad dropped", "v=DMARC1; p=none; rua= mailto:a@x.example , bogus ,"
	    "mailto:b@x.example,,", 0, true, N, U, U, NT, RL, RL, 2, 0, "0", PU },
	{ "rua !size parsed and ignored", "v=DMARC1; p=none; rua=mailto:a@x.example!10m,"
	    "mailto:b@x.example!50", 0, true, N, U, U, NT, RL, RL, 2, 0, "0", PU },
	{ "unknown tags, no =", "v=DMARC1; foo=bar; junk; p=quarantine; x", 0, true, Q, U,
	    U, NT, RL, RL, 0, 0, "0", PU },
	{ "non-ASCII", "v=DMARC1; p=r\xc3\xa9ject; rua=mailto:\xc3\xa9@x.example", 0,
	    false, U, U, U, NT, RL, RL, 0, 0, "0", PU },
	{ "8-bit junk tag", "v=DMARC1; \xff\xfe=\x80; p=none", 0, true, N, U, U, NT, RL,
	    RL, 0, 0, "0", PU },
	{ "embedded NUL", "v=DMARC1; p=none\0; rua=mailto:a@b.example", 41, true, N, U, U,
	    NT, RL, RL, 1, 0, "0", PU },
	{ "embedded NUL, no rua", "v=DMARC1; p=none\0", 17, false, U, U, U, NT, RL, RL, 0,
	    0, "0", PU },
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
			CHECK(r.testing == c->testing && r.psd == c->psd, "%s: t=%d psd=%d",
			    c->name, r.testing, (int)r.psd);
			CHECK((int)r.adkim == c->adkim && (int)r.aspf == c->aspf,
			    "%s: adkim/aspf", c->name);
			CHECK(r.n_rua == c->n_rua && r.n_ruf == c->n_ruf, "%s: %zu rua %zu ruf",
			    c->name, r.n_rua, r.n_ruf);
			CHECK_STR(r.fo, c->fo, "%s: fo", c->name);
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
		CHECK_STR(r.rua[1], "mailto:b@x.example", "rua[1]: !10m parsed and dropped");
	}
	dmarc_record_clear(&r);

	buf_puts(&b, "v=DMARC1; p=reject; rua=");
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%smailto:r%zu@example.com", i ? "," : "", i);
	buf_puts(&b, "; t=y");
	CHECK(dmarc_record_parse(b.data, b.len, &r, err, sizeof(err)),
	    "1000 rua URIs: parses");
	CHECK(r.n_rua == DMARC_MAX_URIS, "1000 rua URIs: %zu kept", r.n_rua);
	CHECK_STR(r.n_rua ? r.rua[r.n_rua - 1] : NULL, "mailto:r31@example.com",
	    "1000 rua URIs: the first ones kept");
	CHECK(r.testing && r.p == R, "1000 rua URIs: tags after them still read");
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
	/* expected */
	enum auth_result result;
	bool	    spf_aligned, dkim_aligned;
	enum dmarc_policy policy, disposition;
	bool	    testing;		/* t=y lowered the policy */
};

#define NODKIM	{ AUTH_NONE, AUTH_NONE }, { NULL, NULL }

static const struct judge_case judge_cases[] = {
	{ "spf exact", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", NODKIM, AUTH_PASS, true, false, R, N, false },
	{ "spf relaxed subdomain", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_PASS, "bounce@mail.Example.COM", NODKIM, AUTH_PASS, true, false,
	    R, N, false },
	{ "spf strict subdomain", "v=DMARC1; p=reject; aspf=s", "example.com",
	    "example.com", false, AUTH_PASS, "bounce@mail.example.com", NODKIM,
	    AUTH_FAIL, false, false, R, R, false },
	{ "spf helo identity", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_PASS, "mx1.example.com", NODKIM, AUTH_PASS, true, false, R, N,
	    false },
	{ "spf softfail", "v=DMARC1; p=quarantine", "example.com", "example.com", false,
	    AUTH_SOFTFAIL, "u@example.com", NODKIM, AUTH_FAIL, false, false, Q, Q,
	    false },
	{ "spf other org", "v=DMARC1; p=reject", "example.co.uk", "example.co.uk",
	    false, AUTH_PASS, "u@other.co.uk", NODKIM, AUTH_FAIL, false, false, R, R,
	    false },
	{ "no spf run", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_SKIPPED, "", NODKIM, AUTH_FAIL, false, false, R, R, false },
	{ "dkim relaxed", "v=DMARC1; p=reject", "news.example.com", "example.com",
	    false, AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE },
	    { "example.com", NULL }, AUTH_PASS, false, true, R, N, false },
	{ "dkim strict", "v=DMARC1; p=reject; adkim=s", "news.example.com",
	    "example.com", false, AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE },
	    { "example.com", NULL }, AUTH_FAIL, false, false, R, R, false },
	{ "dkim strict exact", "v=DMARC1; p=reject; adkim=s", "example.com",
	    "example.com", false, AUTH_FAIL, "u@bulk.example", { AUTH_PASS, AUTH_NONE },
	    { "EXAMPLE.com", NULL }, AUTH_PASS, false, true, R, N, false },
	{ "dkim fail aligned d", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_NONE, "", { AUTH_FAIL, AUTH_NONE }, { "example.com", NULL },
	    AUTH_FAIL, false, false, R, R, false },
	{ "dkim pass other domain", "v=DMARC1; p=reject", "example.com", "example.com",
	    false, AUTH_NONE, "", { AUTH_PASS, AUTH_NONE }, { "example.net", NULL },
	    AUTH_FAIL, false, false, R, R, false },
	{ "dkim second signature aligned", "v=DMARC1; p=reject", "example.com",
	    "example.com", false, AUTH_NONE, "", { AUTH_PASS, AUTH_PASS },
	    { "esp.example", "s.example.com" }, AUTH_PASS, false, true, R, N, false },
	{ "both aligned", "v=DMARC1; p=reject", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", { AUTH_PASS, AUTH_NONE },
	    { "example.com", NULL }, AUTH_PASS, true, true, R, N, false },
	{ "sp for subdomain", "v=DMARC1; p=reject; sp=quarantine", "a.example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, Q, Q,
	    false },
	{ "no sp: p for subdomain", "v=DMARC1; p=reject", "a.example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, R, R,
	    false },
	{ "own record: p, not sp", "v=DMARC1; p=none; sp=reject", "a.example.com",
	    "a.example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, N,
	    N, false },
	{ "np for non-existent", "v=DMARC1; p=none; sp=quarantine; np=reject",
	    "nx.example.com", "example.com", true, AUTH_NONE, "", NODKIM, AUTH_FAIL,
	    false, false, R, R, false },
	{ "np not for existing", "v=DMARC1; p=none; sp=quarantine; np=reject",
	    "a.example.com", "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL,
	    false, false, Q, Q, false },
	{ "no np: sp", "v=DMARC1; p=none; sp=quarantine", "nx.example.com",
	    "example.com", true, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, Q, Q,
	    false },
	{ "no np, no sp: p", "v=DMARC1; p=reject", "nx.example.com", "example.com",
	    true, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, R, R, false },
	{ "np not for the org itself", "v=DMARC1; p=none; np=reject", "example.com",
	    "example.com", true, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, N, N,
	    false },
	{ "t=y: reject applies as quarantine", "v=DMARC1; p=reject; t=y", "example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, R, Q,
	    true },
	{ "t=y: quarantine applies as none", "v=DMARC1; p=quarantine; t=y",
	    "example.com", "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL,
	    false, false, Q, N, true },
	{ "t=y on none: nothing to lower", "v=DMARC1; p=none; t=y", "example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, N, N,
	    false },
	{ "t=y lowers sp too", "v=DMARC1; p=none; sp=reject; t=y", "a.example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, R, Q,
	    true },
	{ "t=y lowers np too", "v=DMARC1; p=none; np=quarantine; t=y", "nx.example.com",
	    "example.com", true, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, Q, N,
	    true },
	{ "t=y on pass", "v=DMARC1; p=reject; t=y", "example.com", "example.com", false,
	    AUTH_PASS, "u@example.com", NODKIM, AUTH_PASS, true, false, R, N, true },
	{ "pct=0 no longer samples: reject", "v=DMARC1; p=reject; pct=0", "example.com",
	    "example.com", false, AUTH_NONE, "", NODKIM, AUTH_FAIL, false, false, R, R,
	    false },
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
		dmarc_judge(&rec, c->from, c->record_domain, c->nonexistent,
		    c->spf_r == AUTH_SKIPPED ? NULL : &spf, dkim, n_dkim, dmarc_org_psl,
		    (void *)psl, &v);
		CHECK(v.result == c->result, "%s: dmarc=%s", c->name,
		    auth_result_name(v.result));
		CHECK(v.spf_aligned == c->spf_aligned && v.dkim_aligned == c->dkim_aligned,
		    "%s: spf aligned %d, dkim aligned %d", c->name, v.spf_aligned,
		    v.dkim_aligned);
		CHECK(v.policy == c->policy && v.disposition == c->disposition,
		    "%s: policy %s, disposition %s", c->name, dmarc_policy_name(v.policy),
		    dmarc_policy_name(v.disposition));
		CHECK(v.testing == c->testing, "%s: t=y applied %d", c->name, v.testing);
		CHECK(v.result != AUTH_FAIL || v.disposition == v.applied,
		    "%s: policy.dmarc is the disposition", c->name);
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
	dmarc_judge(&rec, "Example.COM.", "example.com", false, NULL, NULL, 0, dmarc_org_psl,
	    (void *)psl, &v);
	dmarc_record_clear(&rec);
	CHECK(v.record.n_rua == 1 && strcmp(v.record.rua[0], "mailto:a@example.com") == 0,
	    "copy: rua survives the original");
	CHECK_STR(v.from_domain, "example.com", "copy: from domain normalised");
	CHECK_STR(v.org_domain, "example.com", "copy: org domain");
	dmarc_verdict_clear(&v);
	CHECK(v.record.n_rua == 0, "copy: cleared");
	dmarc_verdict_clear(NULL);
}

/* one discovery case against the test DNS server (see test_dmarc_dns.py), with
 * what each discovery gives; a "" record domain when none was used */
struct dns_case {
	const char	*from;
	enum auth_result result_psl, result_walk;
	enum dmarc_policy policy;
	const char	*record_psl, *record_walk;
};

static const struct dns_case dns_cases[] = {
	{ "example.com", AUTH_FAIL, AUTH_FAIL, N, "example.com", "example.com" },	/* p */
	{ "a.example.com", AUTH_FAIL, AUTH_FAIL, Q, "example.com", "example.com" }, /* sp */
	{ "nx.example.com", AUTH_FAIL, AUTH_FAIL, R, "example.com", "example.com" }, /* np */
	{ "own.example.com", AUTH_FAIL, AUTH_FAIL, R, "own.example.com",
	  "own.example.com" },
	/* several records: RFC 7489 stops (none); RFC 9989 discards them and walks on */
	{ "multi.example", AUTH_NONE, AUTH_NONE, U, "multi.example", "" },
	{ "sub.multi.example", AUTH_NONE, AUTH_NONE, U, "multi.example", "" },
	/* neither a valid p nor a rua: no DMARC (RFC 9989 §4.10.1) */
	{ "bad.example", AUTH_NONE, AUTH_NONE, U, "bad.example", "bad.example" },
	{ "nothing.example", AUTH_NONE, AUTH_NONE, U, "", "" },
	{ "a.nothing.example", AUTH_NONE, AUTH_NONE, U, "", "" },
	{ "temp.example", AUTH_TEMPERROR, AUTH_TEMPERROR, U, "", "" },
	{ "x.temp.example", AUTH_TEMPERROR, AUTH_TEMPERROR, U, "", "" },
	{ "pass.example", AUTH_PASS, AUTH_PASS, R, "pass.example", "pass.example" },
};

/* discovery - dmarc_lookup_start/dmarc_evaluate against a real server at ns */
static void
discovery(const psl_ctx_t *psl, const char *ns, enum dmarc_discovery mode)
{
	struct dns_options o;
	struct dns_resolver *r;
	struct dmarc_lookup *l[sizeof(dns_cases) / sizeof(dns_cases[0])];
	struct spf_verdict spf = spf_of(AUTH_PASS, "bounce@mail.pass.example");
	char *servers[1] = { (char *)ns }, err[256];
	const char *mname = dmarc_discovery_name(mode);
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
		l[i] = dmarc_lookup_start(r, psl, mode, dns_cases[i].from);
	for (i = 0; i < n; i++) {
		const struct dns_case *c = &dns_cases[i];
		enum auth_result want = mode == DMARC_DISCOVERY_PSL ? c->result_psl :
		    c->result_walk;
		struct dmarc_verdict v;

		dmarc_evaluate(l[i], &spf, NULL, 0, &v);
		CHECK(v.result == want, "dns %s %s: dmarc=%s (%s)", mname, c->from,
		    auth_result_name(v.result), v.reason);
		CHECK(v.result != AUTH_FAIL || v.policy == c->policy, "dns %s %s: policy %s",
		    mname, c->from, dmarc_policy_name(v.policy));
		CHECK_STR(v.record_domain, mode == DMARC_DISCOVERY_PSL ? c->record_psl :
		    c->record_walk, "dns %s %s: record domain", mname, c->from);
		CHECK_STR(v.from_domain, c->from, "dns %s %s: from domain", mname, c->from);
		CHECK(strpbrk(v.reason, "()\\\r\n") == NULL, "dns %s %s: reason safe", mname,
		    c->from);
		if (v.result == AUTH_TEMPERROR)
			CHECK(strstr(v.reason, "_dmarc.") != NULL, "dns %s %s: temperror names "
			    "the query: %s", mname, c->from, v.reason);
		dmarc_verdict_clear(&v);
		dmarc_lookup_free(l[i]);
	}
	/* a lookup freed before it is evaluated */
	dmarc_lookup_free(dmarc_lookup_start(r, psl, mode, "a.example.com"));
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
		if (ns != NULL && ns[0] != '\0') {
			discovery(psl, ns, DMARC_DISCOVERY_PSL);
			discovery(psl, ns, DMARC_DISCOVERY_TREEWALK);
		}
		psl_free(psl);
	}
	CHECK_STR(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine", "policy name");
	return tap_done();
}
