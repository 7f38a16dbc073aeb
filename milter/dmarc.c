/* dmarc - RFC 7489 DMARC with the DMARCbis np= tag (RFC 9091).
 *
 * dmarc_record_parse   one TXT record into a struct dmarc_record (the record owns
 *                      its rua/ruf strings; dmarc_record_clear frees them)
 * dmarc_org_domain     organizational domain via the Public Suffix List (libpsl)
 * dmarc_lookup_start   starts _dmarc.<from>, _dmarc.<org> and the existence check
 *                      of <from> (A, AAAA, MX) at once; dmarc_lookup_free ends it
 * dmarc_evaluate       picks the record (RFC 7489 §6.6.3) and calls dmarc_judge
 * dmarc_judge          policy (p/sp/np), alignment, pct sampling; no DNS
 * The verdict holds a deep copy of the record: dmarc_verdict_clear frees it.
 *
 * Choices, documented:
 * - Duplicate tags: the last one wins, as Mail::DMARC's parser does (it fills a
 *   hash); only the first tag can be v=, later v= tags are ignored.
 * - "v" and "DMARC1", tag names and p/sp/np/adkim/aspf values are compared
 *   case-insensitively (Mail::DMARC does too).
 * - Unknown tags and tags without '=' are ignored; a bad pct, adkim, aspf, fo or
 *   ri falls back to its default; a bad np is ignored (falls back to sp, p).
 * - A bad or missing p, or a bad sp, with at least one valid rua URI acts as
 *   "v=DMARC1; p=none" (§6.6.3 step 5); without one, the record is invalid:
 *   permerror. Several DMARC records at one name: none (§6.6.3 step 4).
 * - pct sampling only changes a quarantine or reject disposition.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "dmarc.h"
#include "dns.h"
#include "rfc5322.h"
#include "xalloc.h"

#define DMARC_MAX_NAME		253	/* a DNS name in text, no final dot */
#define DMARC_PREFIX		"_dmarc."
#define DMARC_DEFAULT_RI	86400UL

/* what one TXT string is */
enum rec_kind { REC_OK, REC_NOT_DMARC, REC_INVALID };

/* a tag's raw value: pointer into the TXT, length; NULL when absent */
struct raw {
	const char *v;
	size_t	    len;
};

/* is_wsp - white space between tags (CR/LF taken leniently) */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trim - strip white space from both ends of (p, len) */
static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && is_wsp(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && is_wsp((*p)[*len - 1]))
		(*len)--;
}

/* eq - (p, len) equals the word w, ignoring case */
static bool
eq(const char *p, size_t len, const char *w)
{
	return len == strlen(w) && strncasecmp(p, w, len) == 0;
}

/* parse_policy - none/quarantine/reject; UNSET when absent or invalid (*bad) */
static enum dmarc_policy
parse_policy(struct raw r, bool *bad)
{
	*bad = false;
	if (r.v == NULL)
		return DMARC_POLICY_UNSET;
	if (eq(r.v, r.len, "none"))
		return DMARC_POLICY_NONE;
	if (eq(r.v, r.len, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (eq(r.v, r.len, "reject"))
		return DMARC_POLICY_REJECT;
	*bad = true;
	return DMARC_POLICY_UNSET;
}

/* parse_number - decimal digits only, at most max; false otherwise */
static bool
parse_number(struct raw r, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;
	size_t i;

	if (r.v == NULL || r.len == 0)
		return false;
	for (i = 0; i < r.len; i++) {
		unsigned d;

		if (r.v[i] < '0' || r.v[i] > '9')
			return false;
		d = (unsigned)(r.v[i] - '0');
		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

/* uri_valid - "scheme:rest" of printable ASCII without blanks (RFC 3986 §3.1) */
static bool
uri_valid(const char *p, size_t len)
{
	size_t i, colon = 0;

	if (len == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
		if (c == ':' && colon == 0)
			colon = i;
	}
	if (colon == 0 || colon + 1 >= len)
		return false;
	for (i = 1; i < colon; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* parse_uris - comma-separated URIs, each trimmed; at most DMARC_MAX_URIS kept,
 * invalid ones and the rest dropped */
static void
parse_uris(struct raw r, char **out, size_t *n)
{
	const char *p, *end;

	*n = 0;
	if (r.v == NULL)
		return;		/* tag absent; NULL + 0 would be undefined */
	p = r.v;
	end = r.v + r.len;
	while (p <= end && *n < DMARC_MAX_URIS) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *u = p;
		size_t ulen = (comma ? comma : end) - p;

		trim(&u, &ulen);
		if (uri_valid(u, ulen))
			out[(*n)++] = xstrndup(u, ulen);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

/* fo_valid - "0", "1", "d", "s" separated by ':' */
static bool
fo_valid(struct raw r)
{
	size_t i;

	if (r.len == 0 || r.len >= sizeof(((struct dmarc_record *)0)->fo))
		return false;
	for (i = 0; i < r.len; i++) {
		char c = r.v[i];

		if (i % 2 == 0 ? strchr("01ds", c) == NULL || c == '\0' : c != ':')
			return false;
	}
	return r.len % 2 == 1;
}

/* record_defaults - an empty record with every default */
static void
record_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->pct = 100;
	r->adkim = r->aspf = DMARC_ALIGN_RELAXED;
	memcpy(r->fo, "0", 2);
	r->ri = DMARC_DEFAULT_RI;
}

/* record_parse - classify and parse one TXT record */
static enum rec_kind
record_parse(const char *txt, size_t len, struct dmarc_record *r, char *err,
    size_t errlen)
{
	struct raw p = { 0 }, sp = { 0 }, np = { 0 }, pct = { 0 }, adkim = { 0 },
	    aspf = { 0 }, rua = { 0 }, ruf = { 0 }, fo = { 0 }, ri = { 0 };
	const char *cur = txt, *end = txt + len;
	bool first = true, bad_p, bad_sp, bad_np;
	unsigned long n;

	record_defaults(r);
	if (txt == NULL)
		len = 0, cur = end = "";
	while (cur < end) {
		const char *semi = memchr(cur, ';', (size_t)(end - cur));
		const char *tag = cur, *eqs, *val;
		size_t tlen = (semi ? semi : end) - cur, nlen, vlen;

		cur = semi ? semi + 1 : end;
		trim(&tag, &tlen);
		if (tlen == 0 && !first)
			continue;	/* ";;" or a final ";" */
		eqs = memchr(tag, '=', tlen);
		if (eqs == NULL) {
			if (first)
				break;
			continue;	/* Mail::DMARC skips these too */
		}
		nlen = (size_t)(eqs - tag);
		val = eqs + 1;
		vlen = tlen - nlen - 1;
		trim(&tag, &nlen);
		trim(&val, &vlen);
		if (first) {
			if (!eq(tag, nlen, "v") || !eq(val, vlen, "DMARC1"))
				break;
			first = false;
			continue;
		}
		struct raw v = { val, vlen };
		if (eq(tag, nlen, "p"))
			p = v;
		else if (eq(tag, nlen, "sp"))
			sp = v;
		else if (eq(tag, nlen, "np"))
			np = v;
		else if (eq(tag, nlen, "pct"))
			pct = v;
		else if (eq(tag, nlen, "adkim"))
			adkim = v;
		else if (eq(tag, nlen, "aspf"))
			aspf = v;
		else if (eq(tag, nlen, "rua"))
			rua = v;
		else if (eq(tag, nlen, "ruf"))
			ruf = v;
		else if (eq(tag, nlen, "fo"))
			fo = v;
		else if (eq(tag, nlen, "ri"))
			ri = v;
		/* anything else: unknown tags MUST be ignored (§6.3) */
	}
	if (first) {
		snprintf(err, errlen, "not a DMARC record (no v=DMARC1 first)");
		return REC_NOT_DMARC;
	}
	parse_uris(rua, r->rua, &r->n_rua);
	parse_uris(ruf, r->ruf, &r->n_ruf);
	r->p = parse_policy(p, &bad_p);
	r->sp = parse_policy(sp, &bad_sp);
	r->np = parse_policy(np, &bad_np);
	if (r->p == DMARC_POLICY_UNSET || bad_sp) {
		if (r->n_rua == 0) {
			snprintf(err, errlen, "%s and no valid rua",
			    bad_sp ? "invalid sp" : p.v ? "invalid p" : "no p");
			dmarc_record_clear(r);
			return REC_INVALID;
		}
		/* §6.6.3: as if "v=DMARC1; p=none" */
		r->p = DMARC_POLICY_NONE;
		r->sp = r->np = DMARC_POLICY_UNSET;
	}
	if (parse_number(pct, 100, &n))
		r->pct = (unsigned)n;
	if (adkim.v != NULL && eq(adkim.v, adkim.len, "s"))
		r->adkim = DMARC_ALIGN_STRICT;
	if (aspf.v != NULL && eq(aspf.v, aspf.len, "s"))
		r->aspf = DMARC_ALIGN_STRICT;
	if (fo.v != NULL && fo_valid(fo)) {
		memcpy(r->fo, fo.v, fo.len);
		r->fo[fo.len] = '\0';
	}
	if (parse_number(ri, (unsigned long)-1, &n))
		r->ri = n;
	if (errlen > 0)
		err[0] = '\0';
	return REC_OK;
}

/* dmarc_record_parse - false with a reason when this TXT is not a usable record */
bool
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r, char *err,
    size_t errlen)
{
	return record_parse(txt, len, r, err, errlen) == REC_OK;
}

/* dmarc_record_clear - free the URIs, back to defaults; NULL is fine */
void
dmarc_record_clear(struct dmarc_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_rua && i < DMARC_MAX_URIS; i++)
		free(r->rua[i]);
	for (i = 0; i < r->n_ruf && i < DMARC_MAX_URIS; i++)
		free(r->ruf[i]);
	record_defaults(r);
}

/* record_copy - a deep copy of src into dst (dst's old contents not freed) */
static void
record_copy(struct dmarc_record *dst, const struct dmarc_record *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < src->n_rua; i++)
		dst->rua[i] = xstrdup(src->rua[i]);
	for (i = 0; i < src->n_ruf; i++)
		dst->ruf[i] = xstrdup(src->ruf[i]);
}

/* dmarc_policy_name - "none", "quarantine", "reject", "unset" */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_UNSET:
		return "unset";
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	}
	return "unset";
}

/* copy_str - bounded copy; false when it does not fit */
static bool
copy_str(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n + 1 > outlen)
		return false;
	memcpy(out, s, n + 1);
	return true;
}

/* dmarc_org_domain - the organizational domain: the registrable domain by the
 * PSL, or the domain itself when it is a public suffix */
bool
dmarc_org_domain(const psl_ctx_t *psl, const char *domain, char *out, size_t outlen)
{
	const char *reg;

	if (outlen > 0)
		out[0] = '\0';
	if (psl == NULL)
		psl = psl_builtin();
	if (psl == NULL || domain == NULL || domain[0] == '\0')
		return false;
	reg = psl_registrable_domain(psl, domain);
	return copy_str(out, outlen, reg != NULL ? reg : domain);
}

/* discovery state for one From domain (per message; freed with the message) */
struct dmarc_lookup {
	char		  from[256];
	char		  org[256];
	bool		  valid;	/* from is a usable domain */
	struct dns_query *from_txt;	/* _dmarc.<from> */
	struct dns_query *org_txt;	/* _dmarc.<org>, when org != from */
	struct dns_query *exists[3];	/* <from> A, AAAA, MX, when org != from */
};

/* start_txt - _dmarc.<domain> TXT, or NULL when the name would be too long */
static struct dns_query *
start_txt(struct dns_resolver *r, const char *domain)
{
	char name[DMARC_MAX_NAME + 2];
	int n = snprintf(name, sizeof(name), DMARC_PREFIX "%s", domain);

	if (n < 0 || (size_t)n > DMARC_MAX_NAME)
		return NULL;
	return dns_query_start(r, name, DNS_T_TXT);
}

/* dmarc_lookup_start - begin discovery for from_domain */
struct dmarc_lookup *
dmarc_lookup_start(struct dns_resolver *r, const psl_ctx_t *psl, const char *from_domain)
{
	struct dmarc_lookup *l = xcalloc(1, sizeof(*l));

	if (from_domain == NULL ||
	    !rfc5322_domain_normalise(from_domain, l->from, sizeof(l->from)) ||
	    !dmarc_org_domain(psl, l->from, l->org, sizeof(l->org)))
		return l;
	l->valid = true;
	l->from_txt = start_txt(r, l->from);
	if (strcmp(l->org, l->from) != 0) {
		l->org_txt = start_txt(r, l->org);
		l->exists[0] = dns_query_start(r, l->from, DNS_T_A);
		l->exists[1] = dns_query_start(r, l->from, DNS_T_AAAA);
		l->exists[2] = dns_query_start(r, l->from, DNS_T_MX);
	}
	return l;
}

/* dmarc_lookup_free - cancel what still runs; NULL is fine */
void
dmarc_lookup_free(struct dmarc_lookup *l)
{
	size_t i;

	if (l == NULL)
		return;
	dns_query_free(l->from_txt);
	dns_query_free(l->org_txt);
	for (i = 0; i < 3; i++)
		dns_query_free(l->exists[i]);
	free(l);
}

/* what discovery at one name gave */
enum pick { PICK_NONE, PICK_OK, PICK_MULTI, PICK_INVALID, PICK_TEMP };

/* pick_record - the one DMARC record in answer q, per §6.6.3 steps 2, 4, 5 */
static enum pick
pick_record(struct dns_query *q, struct dmarc_record *rec, char *why, size_t whylen)
{
	const struct dns_answer *a;
	struct dmarc_record tmp;
	enum pick res = PICK_NONE;
	size_t i, found = 0;
	char err[96];

	if (q == NULL)
		return PICK_NONE;
	a = dns_query_wait(q);
	if (a->status == DNS_TEMPFAIL) {
		snprintf(why, whylen, "DNS %s", a->why ? a->why : "temporary failure");
		return PICK_TEMP;
	}
	if (a->status != DNS_OK)
		return PICK_NONE;
	for (i = 0; i < a->count; i++) {
		enum rec_kind k = record_parse(a->rr[i].txt, a->rr[i].txt_len, &tmp, err,
		    sizeof(err));

		if (k == REC_NOT_DMARC)
			continue;
		if (++found > 1) {
			dmarc_record_clear(&tmp);
			if (res == PICK_OK)
				dmarc_record_clear(rec);
			snprintf(why, whylen, "multiple DMARC records");
			return PICK_MULTI;
		}
		if (k == REC_INVALID) {
			snprintf(why, whylen, "invalid DMARC record: %s", err);
			res = PICK_INVALID;
		} else {
			*rec = tmp;
			res = PICK_OK;
		}
	}
	return res;
}

/* nonexistent - the From domain answered NXDOMAIN for A, AAAA and MX */
static bool
nonexistent(struct dmarc_lookup *l)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (l->exists[i] == NULL ||
		    dns_query_wait(l->exists[i])->status != DNS_NXDOMAIN)
			return false;
	return true;
}

/* dmarc_evaluate - wait for the lookup and judge */
void
dmarc_evaluate(struct dmarc_lookup *l, const psl_ctx_t *psl,
    const struct spf_verdict *spf, const struct dkim_verdict *dkim, size_t n_dkim,
    unsigned random_pct, struct dmarc_verdict *out)
{
	struct dmarc_record rec;
	const char *where;
	enum pick pk;
	char why[128] = "";

	memset(out, 0, sizeof(*out));
	record_defaults(&out->record);
	out->result = AUTH_NONE;
	if (l == NULL || !l->valid) {
		copy_str(out->reason, sizeof(out->reason), "no usable From domain");
		return;
	}
	copy_str(out->from_domain, sizeof(out->from_domain), l->from);
	copy_str(out->org_domain, sizeof(out->org_domain), l->org);
	where = l->from;
	pk = pick_record(l->from_txt, &rec, why, sizeof(why));
	if (pk == PICK_NONE && l->org_txt != NULL) {
		where = l->org;
		pk = pick_record(l->org_txt, &rec, why, sizeof(why));
	}
	switch (pk) {
	case PICK_OK:
		dmarc_judge(&rec, psl, l->from, where, where != l->from && nonexistent(l),
		    spf, dkim, n_dkim, random_pct, out);
		dmarc_record_clear(&rec);
		return;
	case PICK_NONE:
		copy_str(out->reason, sizeof(out->reason), "no DMARC record");
		return;
	case PICK_MULTI:
		out->result = AUTH_NONE;
		break;
	case PICK_INVALID:
		out->result = AUTH_PERMERROR;
		break;
	case PICK_TEMP:
		out->result = AUTH_TEMPERROR;
		break;
	}
	copy_str(out->record_domain, sizeof(out->record_domain), where);
	snprintf(out->reason, sizeof(out->reason), "%s at _dmarc.%s", why, where);
}

/* aligned - domain d aligns with the From domain in mode m */
static bool
aligned(const psl_ctx_t *psl, const char *d, const char *from, const char *from_org,
    enum dmarc_align m)
{
	char norm[256], org[256];

	if (d == NULL || !rfc5322_domain_normalise(d, norm, sizeof(norm)))
		return false;
	if (strcmp(norm, from) == 0)
		return true;
	if (m == DMARC_ALIGN_STRICT)
		return false;
	return dmarc_org_domain(psl, norm, org, sizeof(org)) && strcmp(org, from_org) == 0;
}

/* dmarc_unknown_yet - no aligned pass, but an aligned identifier's check failed
 * temporarily (a DKIM key or SPF lookup): the verdict is temperror, not fail, since
 * the retry may pass. Only asked when the policy would act (p=none changes nothing). */
static bool
dmarc_unknown_yet(const psl_ctx_t *psl, const struct spf_verdict *spf,
    const struct dkim_verdict *dkim, size_t n_dkim, const char *from, const char *org,
    const struct dmarc_record *rec, struct dmarc_verdict *out)
{
	size_t i;

	for (i = 0; dkim != NULL && i < n_dkim; i++)
		if (dkim[i].result == AUTH_TEMPERROR &&
		    aligned(psl, dkim[i].domain, from, org, rec->adkim)) {
			out->result = AUTH_TEMPERROR;
			copy_str(out->reason, sizeof(out->reason),
			    "an aligned DKIM key lookup failed temporarily");
			return true;
		}
	if (spf != NULL && spf->result == AUTH_TEMPERROR &&
	    aligned(psl, spf->domain, from, org, rec->aspf)) {
		out->result = AUTH_TEMPERROR;
		copy_str(out->reason, sizeof(out->reason),
		    "the aligned SPF check failed temporarily");
		return true;
	}
	return false;
}

/* dmarc_judge - policy, alignment and pct for a record already found */
void
dmarc_judge(const struct dmarc_record *rec, const psl_ctx_t *psl,
    const char *from_domain, const char *record_domain, bool nonexistent,
    const struct spf_verdict *spf, const struct dkim_verdict *dkim, size_t n_dkim,
    unsigned random_pct, struct dmarc_verdict *out)
{
	char from[256], org[256];
	const char *tag = "p";
	size_t i;

	memset(out, 0, sizeof(*out));
	record_copy(&out->record, rec);
	if (!rfc5322_domain_normalise(from_domain, from, sizeof(from))) {
		out->result = AUTH_PERMERROR;
		copy_str(out->reason, sizeof(out->reason), "invalid From domain");
		return;
	}
	if (!dmarc_org_domain(psl, from, org, sizeof(org)))
		copy_str(org, sizeof(org), from);
	copy_str(out->from_domain, sizeof(out->from_domain), from);
	copy_str(out->org_domain, sizeof(out->org_domain), org);
	copy_str(out->record_domain, sizeof(out->record_domain), record_domain);

	/* p for the domain that published, sp for its subdomains, np for the
	 * subdomains that do not exist (DMARCbis), each falling back */
	out->policy = rec->p;
	if (strcasecmp(record_domain, from) != 0) {
		if (nonexistent && rec->np != DMARC_POLICY_UNSET) {
			out->policy = rec->np;
			tag = "np";
		} else if (rec->sp != DMARC_POLICY_UNSET) {
			out->policy = rec->sp;
			tag = "sp";
		}
	}
	if (out->policy == DMARC_POLICY_UNSET)
		out->policy = DMARC_POLICY_NONE;

	/* SPF aligns through the domain it evaluated, never a re-read of the
	 * sender: a long MAIL FROM cut short once aligned a domain SPF never saw */
	out->spf_aligned = spf != NULL && spf->result == AUTH_PASS &&
	    aligned(psl, spf->domain, from, org, rec->aspf);
	for (i = 0; dkim != NULL && i < n_dkim && !out->dkim_aligned; i++)
		out->dkim_aligned = dkim[i].result == AUTH_PASS &&
		    aligned(psl, dkim[i].domain, from, org, rec->adkim);

	if (out->spf_aligned || out->dkim_aligned) {
		out->result = AUTH_PASS;
		out->disposition = DMARC_POLICY_NONE;
		snprintf(out->reason, sizeof(out->reason), "%s aligned",
		    out->spf_aligned && out->dkim_aligned ? "spf and dkim" :
		    out->spf_aligned ? "spf" : "dkim");
		return;
	}
	if (out->policy != DMARC_POLICY_NONE &&
	    dmarc_unknown_yet(psl, spf, dkim, n_dkim, from, org, rec, out))
		return;
	out->result = AUTH_FAIL;
	out->disposition = out->policy;
	if (random_pct >= rec->pct && out->policy != DMARC_POLICY_NONE) {
		out->sampled_out = true;
		out->disposition = out->policy == DMARC_POLICY_REJECT ?
		    DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
	}
	snprintf(out->reason, sizeof(out->reason), "no aligned pass; %s=%s%s", tag,
	    dmarc_policy_name(out->policy), out->sampled_out ? ", sampled out by pct" : "");
}

/* dmarc_verdict_clear - free the record copy; NULL is fine */
void
dmarc_verdict_clear(struct dmarc_verdict *v)
{
	if (v == NULL)
		return;
	dmarc_record_clear(&v->record);
	memset(v, 0, sizeof(*v));
}
