/* dmarc - RFC 9989 DMARC; RFC 7489 discovery with the Public Suffix List as an
 * operator's choice (dmarc.discovery = "psl").
 *
 * dmarc_org_domain     organizational domain via the Public Suffix List (libpsl)
 * dmarc_aligned_by_name  alignment by the names alone, with a known org domain
 * dmarc_lookup_start   starts, at once, every _dmarc name the author's tree walk
 *                      may need and the author's existence query (psl: _dmarc.<from>
 *                      and _dmarc.<org>); dmarc_lookup_free ends it
 * dmarc_evaluate       policy discovery (dmarc_walk.c, §4.10.1), one walk per
 *                      identifier to align (cached, at most DMARC_MAX_WALKS), then
 *                      dmarc_judge
 * dmarc_judge          policy (p/sp/np, then t=), alignment; no DNS of its own
 * The record parser is dmarc_record.c. The verdict holds a deep copy of the
 * record: dmarc_verdict_clear frees it.
 *
 * Choices, documented:
 * - Non-existent (np): NXDOMAIN for the author domain itself (one A query; NODATA
 *   means it exists, and so does a CNAME to a name that does not: RFC 9989
 *   App. A.4, the DNS layer answers it as NODATA). A temporary failure there, when np decides, is temperror.
 * - Any temporary failure the verdict depends on is temperror, never "no record".
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "dmarc.h"
#include "dmarc_walk.h"
#include "dns.h"
#include "rfc5322.h"
#include "trace.h"
#include "xalloc.h"

#define DMARC_MAX_NAME		253	/* a DNS name in text, no final dot */
#define DMARC_PREFIX		"_dmarc."
/* _dmarc names started per message: every walk's names, each name once */
#define DMARC_MAX_QUERIES	(DMARC_MAX_WALKS * DMARC_WALK_MAX)

/* dmarc_copy_str - bounded copy; false when it does not fit */
static bool
dmarc_copy_str(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n + 1 > outlen)
		return false;
	memcpy(out, s, n + 1);
	return true;
}

/* dmarc_aligned_by_name - see dmarc.h */
bool
dmarc_aligned_by_name(const char *d, const char *from, const char *org, bool strict)
{
	size_t dl = strlen(d), ol;

	if (d[0] == '\0')
		return false;
	if (from != NULL && strcasecmp(d, from) == 0)
		return true;
	if (strict || org == NULL || org[0] == '\0')
		return false;
	ol = strlen(org);
	if (dl == ol)
		return strcasecmp(d, org) == 0;
	return dl > ol + 1 && d[dl - ol - 1] == '.' && strcasecmp(d + dl - ol, org) == 0;
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
	return dmarc_copy_str(out, outlen, reg != NULL ? reg : domain);
}


/* dmarc_org_psl - a dmarc_org_fn over the Public Suffix List */
enum dmarc_org_status
dmarc_org_psl(void *ctx, const char *domain, char *org, size_t orglen, char *why,
    size_t whylen)
{
	if (dmarc_org_domain(ctx, domain, org, orglen))
		return DMARC_ORG_OK;
	snprintf(why, whylen, "no organizational domain for %s", domain);
	return DMARC_ORG_CAPPED;	/* not a domain the list knows: cannot align */
}

/* dmarc_discovery_name - "treewalk" or "psl" */
const char *
dmarc_discovery_name(enum dmarc_discovery d)
{
	return d == DMARC_DISCOVERY_PSL ? "psl" : "treewalk";
}

/* one _dmarc.<name> TXT query of a message, started once */
struct dmarc_txt {
	char		  name[DMARC_MAX_NAME + 1];	/* without the _dmarc. */
	struct dns_query *q;
};

/* discovery state for one From domain (per message; freed with the message) */
struct dmarc_lookup {
	struct dns_resolver *r;
	const psl_ctx_t	 *psl;
	enum dmarc_discovery mode;
	char		  from[256];
	bool		  valid;	/* from is a usable domain */
	struct dns_query *exists;	/* <from> A: NXDOMAIN means non-existent */
	struct dmarc_txt  txt[DMARC_MAX_QUERIES];
	size_t		  n_txt;
	struct dmarc_walk walk[DMARC_MAX_WALKS];	/* walk[0]: the author's */
	size_t		  n_walks;
	bool		  capped;	/* an identifier found no walk left */
};

/* dmarc_txt_find - the query for _dmarc.<name>, started now if it was not; NULL when
 * the table is full or the name too long */
static struct dns_query *
dmarc_txt_find(struct dmarc_lookup *l, const char *name)
{
	char qname[DMARC_MAX_NAME + 2];
	struct dmarc_txt *t;
	size_t i;
	int n;

	for (i = 0; i < l->n_txt; i++)
		if (strcmp(l->txt[i].name, name) == 0)
			return l->txt[i].q;
	n = snprintf(qname, sizeof(qname), DMARC_PREFIX "%s", name);
	if (n < 0 || (size_t)n > DMARC_MAX_NAME || l->n_txt == DMARC_MAX_QUERIES)
		return NULL;
	t = &l->txt[l->n_txt++];
	memcpy(t->name, name, strlen(name) + 1);	/* shorter than qname */
	t->q = dns_query_start(l->r, qname, DNS_T_TXT);
	return t->q;
}

/* dmarc_txt_answer - a dmarc_walk_lookup over the message's queries */
static const struct dns_answer *
dmarc_txt_answer(void *ctx, const char *name)
{
	struct dns_query *q = dmarc_txt_find(ctx, name);

	return q != NULL ? dns_query_wait(q) : NULL;
}

/* dmarc_walk_prestart - start every query a walk from domain may make */
static void
dmarc_walk_prestart(struct dmarc_lookup *l, const char *domain)
{
	const char *names[DMARC_WALK_MAX];
	size_t i, n = dmarc_walk_names(domain, names);

	for (i = 0; i < n; i++)
		(void)dmarc_txt_find(l, names[i]);
}

/* dmarc_lookup_start - begin discovery for from_domain */
struct dmarc_lookup *
dmarc_lookup_start(struct dns_resolver *r, const psl_ctx_t *psl,
    enum dmarc_discovery mode,
    const char *from_domain)
{
	struct dmarc_lookup *l = xcalloc(1, sizeof(*l));
	char org[256];

	l->r = r;
	l->psl = psl;
	l->mode = mode;
	if (from_domain == NULL ||
	    !rfc5322_domain_normalise(from_domain, l->from, sizeof(l->from)))
		return l;
	if (mode == DMARC_DISCOVERY_PSL) {
		if (!dmarc_org_domain(psl, l->from, org, sizeof(org)))
			return l;
		(void)dmarc_txt_find(l, l->from);
		if (strcmp(org, l->from) != 0)
			(void)dmarc_txt_find(l, org);
	} else {
		/* every name of the author's walk is known now: all at once */
		dmarc_walk_prestart(l, l->from);
	}
	l->valid = true;
	l->exists = dns_query_start(r, l->from, DNS_T_A);
	return l;
}

/* dmarc_lookup_free - cancel what still runs; NULL is fine */
void
dmarc_lookup_free(struct dmarc_lookup *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_txt; i++)
		dns_query_free(l->txt[i].q);
	for (i = 0; i < l->n_walks; i++)
		dmarc_walk_clear(&l->walk[i]);
	dns_query_free(l->exists);
	free(l);
}

/* dmarc_lookup_capped - an identifier went past DMARC_MAX_WALKS */
bool
dmarc_lookup_capped(const struct dmarc_lookup *l)
{
	return l != NULL && l->capped;
}

/* dmarc_walk_of - the walk from domain, run now or found in the message's cache; NULL
 * past DMARC_MAX_WALKS */
static const struct dmarc_walk *
dmarc_walk_of(struct dmarc_lookup *l, const char *domain)
{
	size_t i;

	for (i = 0; i < l->n_walks; i++)
		if (strcmp(l->walk[i].domain, domain) == 0)
			return &l->walk[i];
	if (l->n_walks == DMARC_MAX_WALKS) {
		l->capped = true;
		return NULL;
	}
	dmarc_walk_run(&l->walk[l->n_walks], domain, dmarc_txt_answer, l);
	return &l->walk[l->n_walks++];
}

/* dmarc_org_walk - a dmarc_org_fn over the message's walks */
static enum dmarc_org_status
dmarc_org_walk(void *ctx, const char *domain, char *org, size_t orglen, char *why,
    size_t whylen)
{
	const struct dmarc_walk *w = dmarc_walk_of(ctx, domain);

	if (w == NULL) {
		snprintf(why, whylen, "more than %d tree walks", DMARC_MAX_WALKS);
		return DMARC_ORG_CAPPED;
	}
	if (w->tempfail) {
		snprintf(why, whylen, "%s", w->why);
		return DMARC_ORG_TEMP;
	}
	return dmarc_copy_str(org, orglen, w->org) ? DMARC_ORG_OK : DMARC_ORG_CAPPED;
}

/* dmarc_org_lookup - a dmarc_org_fn for the lookup's mode */
static enum dmarc_org_status
dmarc_org_lookup(void *ctx, const char *domain, char *org, size_t orglen, char *why,
    size_t whylen)
{
	struct dmarc_lookup *l = ctx;

	if (l->mode == DMARC_DISCOVERY_PSL)
		return dmarc_org_psl((void *)l->psl, domain, org, orglen, why, whylen);
	return dmarc_org_walk(l, domain, org, orglen, why, whylen);
}

/* dmarc_below_org - domain d is org or a name under it: only then can d's own
 * organizational domain (d or one of its parents) be org */
static bool
dmarc_below_org(const char *d, const char *org)
{
	size_t n = strlen(d), m = strlen(org);

	return strcmp(d, org) == 0 || (n > m && d[n - m - 1] == '.' &&
	    strcmp(d + n - m, org) == 0);
}

/* dmarc_prestart_one - start the walk of identifier domain d if relaxed alignment may
 * need it; *left counts the walks still allowed */
static void
dmarc_prestart_one(struct dmarc_lookup *l, const char *domain, const char *org,
    size_t *left)
{
	char d[256];

	if (*left == 0 || !rfc5322_domain_normalise(domain, d, sizeof(d)) ||
	    strcmp(d, l->from) == 0 || !dmarc_below_org(d, org))
		return;
	dmarc_walk_prestart(l, d);
	(*left)--;
}

/* dmarc_identifiers_prestart - start, side by side, the walks of the passing
 * identifiers that relaxed alignment may need, in the order dmarc_judge asks
 * (SPF, then each DKIM d=), no more than the walks left */
static void
dmarc_identifiers_prestart(struct dmarc_lookup *l, const struct dmarc_record *rec,
    const struct spf_verdict *spf, const struct dkim_verdict *dkim, size_t n_dkim)
{
	const struct dmarc_walk *author = dmarc_walk_of(l, l->from);
	size_t i, left = DMARC_MAX_WALKS - l->n_walks;

	if (l->mode != DMARC_DISCOVERY_TREEWALK || author->org == NULL)
		return;
	if (rec->aspf == DMARC_ALIGN_RELAXED && spf != NULL && spf->result == AUTH_PASS)
		dmarc_prestart_one(l, spf->domain, author->org, &left);
	for (i = 0; rec->adkim == DMARC_ALIGN_RELAXED && dkim != NULL && i < n_dkim; i++)
		if (dkim[i].result == AUTH_PASS)
			dmarc_prestart_one(l, dkim[i].domain, author->org, &left);
}

/* dmarc_discover_psl - RFC 7489 §6.6.3 with the PSL: _dmarc.<from>, then _dmarc.<org>;
 * several records at one name: no DMARC. Returns the record's kind and fills
 * *where, or sets out's result for none/temperror and returns NOT_DMARC. */
static enum dmarc_record_kind
dmarc_discover_psl(struct dmarc_lookup *l, struct dmarc_record *rec, const char **where,
    struct dmarc_verdict *out)
{
	const struct dns_answer *a;
	enum dmarc_record_kind kind = DMARC_REC_NOT_DMARC, k;
	struct dmarc_record tmp;
	size_t t, i, found;
	char err[96];

	for (t = 0; t < l->n_txt; t++) {
		a = dns_query_wait(l->txt[t].q);
		if (a->status == DNS_TEMPFAIL) {
			out->result = AUTH_TEMPERROR;
			snprintf(out->reason, sizeof(out->reason), "DNS %s at _dmarc.%s",
			    a->why ? a->why : "temporary failure", l->txt[t].name);
			snprintf(out->failed, sizeof(out->failed), "_dmarc.%s/TXT",
			    l->txt[t].name);
			return DMARC_REC_NOT_DMARC;
		}
		for (i = found = 0; a->status == DNS_OK && i < a->count; i++) {
			k = dmarc_record_read(a->rr[i].txt, a->rr[i].txt_len, &tmp, err,
			    sizeof(err));
			if (k == DMARC_REC_INVALID && out->ignored[0] == '\0')
				snprintf(out->ignored, sizeof(out->ignored), "_dmarc.%s: %s",
				    l->txt[t].name, err);
			if (k == DMARC_REC_NOT_DMARC || k == DMARC_REC_INVALID)
				continue;
			if (found++ > 0)
				dmarc_record_clear(rec);
			*rec = tmp;
			kind = k;
		}
		*where = l->txt[t].name;
		if (found > 1) {
			dmarc_record_clear(rec);
			snprintf(out->reason, sizeof(out->reason),
			    "multiple DMARC records at _dmarc.%s", l->txt[t].name);
			return DMARC_REC_NOT_DMARC;
		}
		if (found == 1)
			return kind;
	}
	*where = NULL;
	dmarc_copy_str(out->reason, sizeof(out->reason), "no DMARC record");
	return DMARC_REC_NOT_DMARC;
}

/* dmarc_discover_walk - RFC 9989 §4.10.1 by the author's tree walk; as discover_psl */
static enum dmarc_record_kind
dmarc_discover_walk(struct dmarc_lookup *l, struct dmarc_record *rec, const char **where,
    struct dmarc_verdict *out)
{
	const struct dmarc_walk *w = dmarc_walk_of(l, l->from);
	int k = dmarc_walk_policy(w);

	*where = NULL;
	dmarc_copy_str(out->ignored, sizeof(out->ignored), w->invalid);
	if (w->org != NULL)
		dmarc_copy_str(out->org_domain, sizeof(out->org_domain), w->org);
	if (k == -2) {
		out->result = AUTH_TEMPERROR;
		snprintf(out->reason, sizeof(out->reason), "DNS %s", w->why);
		snprintf(out->failed, sizeof(out->failed), "_dmarc.%s/TXT",
		    w->names[w->failed]);
		return DMARC_REC_NOT_DMARC;
	}
	if (k < 0) {
		dmarc_copy_str(out->reason, sizeof(out->reason), "no DMARC record");
		return DMARC_REC_NOT_DMARC;
	}
	*where = w->names[k];
	dmarc_record_copy(rec, &w->rec[k]);
	return w->usable[k] ? DMARC_REC_OK : DMARC_REC_UNUSABLE;
}

/* dmarc_evaluate - wait for the lookup and judge */
void
dmarc_evaluate(struct dmarc_lookup *l, const struct spf_verdict *spf,
    const struct dkim_verdict *dkim, size_t n_dkim, struct dmarc_verdict *out)
{
	struct dmarc_record rec;
	enum dmarc_record_kind kind;
	const struct dns_answer *ex = NULL;
	const char *where = NULL;
	char ignored[sizeof(out->ignored)];

	memset(out, 0, sizeof(*out));
	dmarc_record_clear(&out->record);	/* nothing to free: the defaults */
	out->result = AUTH_NONE;
	if (l == NULL || !l->valid) {
		dmarc_copy_str(out->reason, sizeof(out->reason), "no usable From domain");
		return;
	}
	out->discovery = l->mode;
	dmarc_copy_str(out->from_domain, sizeof(out->from_domain), l->from);
	kind = l->mode == DMARC_DISCOVERY_PSL ? dmarc_discover_psl(l, &rec, &where, out) :
	    dmarc_discover_walk(l, &rec, &where, out);
	if (where != NULL)
		dmarc_copy_str(out->record_domain, sizeof(out->record_domain), where);
	if (kind == DMARC_REC_NOT_DMARC) {
		TRACE("dmarc", "From %s: %s (%s)", out->from_domain,
		    auth_result_name(out->result), out->reason);
		return;
	}
	if (kind == DMARC_REC_UNUSABLE) {
		snprintf(out->reason, sizeof(out->reason),
		    "record at _dmarc.%s has no valid "
		    "policy and no valid rua: DMARC does not apply", where);
		dmarc_record_clear(&rec);
		return;
	}
	/* np decides only for a record inherited by a subdomain */
	if (strcmp(where, l->from) != 0 && rec.np != DMARC_POLICY_UNSET) {
		ex = dns_query_wait(l->exists);
		if (ex->status == DNS_TEMPFAIL) {
			out->result = AUTH_TEMPERROR;
			snprintf(out->reason, sizeof(out->reason),
			    "DNS %s at %s A (does it "
			    "exist, for np)", ex->why ? ex->why : "temporary failure",
			    l->from);
			snprintf(out->failed, sizeof(out->failed), "%s/A", l->from);
			dmarc_record_clear(&rec);
			return;
		}
	}
	dmarc_identifiers_prestart(l, &rec, spf, dkim, n_dkim);
	memcpy(ignored, out->ignored, sizeof(ignored));
	dmarc_judge(&rec, l->from, where, ex != NULL && ex->status == DNS_NXDOMAIN, spf,
	    dkim, n_dkim, dmarc_org_lookup, l, out);
	out->discovery = l->mode;
	memcpy(out->ignored, ignored, sizeof(ignored));
	dmarc_record_clear(&rec);
	TRACE("dmarc", "From %s: %s (%s); policy domain %s, organizational domain %s, "
	    "disposition %s", out->from_domain, auth_result_name(out->result), out->reason,
	    out->record_domain, out->org_domain[0] ? out->org_domain : "unknown",
	    dmarc_policy_name(out->disposition));
}

/* how one identifier stands against the author domain */
enum align_state { ALIGN_NO, ALIGN_YES, ALIGN_UNKNOWN };

/* dmarc_align_pair - domain d against the From domain in mode m; on UNKNOWN why says
 * which query failed */
static enum align_state
dmarc_align_pair(dmarc_org_fn org_of, void *ctx, const char *d, const char *from,
    enum dmarc_align m, char *why, size_t whylen)
{
	char norm[256], org_d[256], org_from[256];
	enum dmarc_org_status s;

	if (d == NULL || !rfc5322_domain_normalise(d, norm, sizeof(norm)))
		return ALIGN_NO;
	if (strcmp(norm, from) == 0)
		return ALIGN_YES;
	if (m == DMARC_ALIGN_STRICT)
		return ALIGN_NO;
	s = org_of(ctx, from, org_from, sizeof(org_from), why, whylen);
	if (s == DMARC_ORG_OK && !dmarc_below_org(norm, org_from))
		return ALIGN_NO;	/* its org is itself or a parent: never org_from */
	if (s == DMARC_ORG_OK)
		s = org_of(ctx, norm, org_d, sizeof(org_d), why, whylen);
	if (s == DMARC_ORG_TEMP)
		return ALIGN_UNKNOWN;
	return s == DMARC_ORG_OK && strcmp(org_d, org_from) == 0 ? ALIGN_YES : ALIGN_NO;
}

/* dmarc_align_traced - dmarc_align_pair, and what it found to the trace hook */
static enum align_state
dmarc_align_traced(dmarc_org_fn org_of, void *ctx, const char *what, const char *d,
    const char *from, enum dmarc_align m, char *why, size_t whylen)
{
	enum align_state a = dmarc_align_pair(org_of, ctx, d, from, m, why, whylen);

	TRACE("dmarc", "%s%s against From %s (%s): %s", what, d != NULL ? d : "-", from,
	    m == DMARC_ALIGN_STRICT ? "strict" : "relaxed", a == ALIGN_YES ? "aligned" :
	    a == ALIGN_NO ? "not aligned" : "unknown (a DNS failure)");
	return a;
}

/* dmarc_failed_from_why - the query named by a walk's "_dmarc.<name>: <error>" */
static void
dmarc_failed_from_why(struct dmarc_verdict *out, const char *why)
{
	const char *colon = strchr(why, ':');
	int n = colon != NULL ? (int)(colon - why) : (int)strlen(why);

	snprintf(out->failed, sizeof(out->failed), "%.*s/TXT", n, why);
}

/* dmarc_unknown_yet - no aligned pass, but an identifier that might align could
 * not be checked: an aligned DKIM key or SPF lookup failed temporarily, or the
 * tree walk deciding a passing identifier's alignment did. The verdict is
 * temperror, not fail, since the retry may pass. Only asked when the policy would
 * act (p=none changes nothing). */
static bool
dmarc_unknown_yet(dmarc_org_fn org_of, void *ctx, const struct spf_verdict *spf,
    const struct dkim_verdict *dkim, size_t n_dkim, const char *from,
    const struct dmarc_record *rec, struct dmarc_verdict *out)
{
	char why[320] = "";
	size_t i;

	for (i = 0; dkim != NULL && i < n_dkim; i++) {
		if (dkim[i].result != AUTH_TEMPERROR && dkim[i].result != AUTH_PASS)
			continue;
		enum align_state a = dmarc_align_pair(org_of, ctx, dkim[i].domain, from,
		    rec->adkim,
		    why, sizeof(why));

		if (a == ALIGN_UNKNOWN || (a == ALIGN_YES && dkim[i].result ==
		    AUTH_TEMPERROR)) {
			out->result = AUTH_TEMPERROR;
			snprintf(out->reason, sizeof(out->reason), a == ALIGN_UNKNOWN ?
			    "alignment of DKIM d=%s unknown: DNS %s" :
			    "an aligned DKIM key lookup failed temporarily%.0s%.0s",
			    dkim[i].domain, why);
			if (a == ALIGN_UNKNOWN)
				dmarc_failed_from_why(out, why);
			return true;
		}
	}
	if (spf != NULL && (spf->result == AUTH_TEMPERROR || spf->result == AUTH_PASS)) {
		enum align_state a = dmarc_align_pair(org_of, ctx, spf->domain, from,
		    rec->aspf, why,
		    sizeof(why));

		if (a == ALIGN_UNKNOWN || (a == ALIGN_YES && spf->result == AUTH_TEMPERROR)) {
			out->result = AUTH_TEMPERROR;
			snprintf(out->reason, sizeof(out->reason), a == ALIGN_UNKNOWN ?
			    "alignment of SPF domain %s unknown: DNS %s" :
			    "the aligned SPF check failed temporarily%.0s%.0s",
			    spf->domain, why);
			if (a == ALIGN_UNKNOWN)
				dmarc_failed_from_why(out, why);
			return true;
		}
	}
	return false;
}

/* dmarc_lower - the policy one level less strict (t=y) */
static enum dmarc_policy
dmarc_lower(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

/* dmarc_judge - policy, t= and alignment for a record already found */
void
dmarc_judge(const struct dmarc_record *rec, const char *from_domain,
    const char *record_domain, bool nonexistent, const struct spf_verdict *spf,
    const struct dkim_verdict *dkim, size_t n_dkim, dmarc_org_fn org_of, void *ctx,
    struct dmarc_verdict *out)
{
	char from[256], why[320];
	size_t i;

	memset(out, 0, sizeof(*out));
	dmarc_record_copy(&out->record, rec);
	if (!rfc5322_domain_normalise(from_domain, from, sizeof(from))) {
		out->result = AUTH_PERMERROR;
		dmarc_copy_str(out->reason, sizeof(out->reason), "invalid From domain");
		return;
	}
	dmarc_copy_str(out->from_domain, sizeof(out->from_domain), from);
	if (org_of(ctx, from, out->org_domain, sizeof(out->org_domain), why,
	    sizeof(why)) != DMARC_ORG_OK)
		out->org_domain[0] = '\0';
	dmarc_copy_str(out->record_domain, sizeof(out->record_domain), record_domain);

	/* p for the domain that published, sp for its existing subdomains, np for
	 * those that do not exist, each falling back (np to sp to p) */
	out->policy = rec->p;
	out->tag = "p";
	if (strcasecmp(record_domain, from) != 0) {
		if (nonexistent && rec->np != DMARC_POLICY_UNSET) {
			out->policy = rec->np;
			out->tag = "np";
		} else if (rec->sp != DMARC_POLICY_UNSET) {
			out->policy = rec->sp;
			out->tag = "sp";
		}
	}
	if (out->policy == DMARC_POLICY_UNSET)
		out->policy = DMARC_POLICY_NONE;
	out->applied = out->policy;
	if (rec->testing && out->policy != DMARC_POLICY_NONE) {
		out->applied = dmarc_lower(out->policy);
		out->testing = true;
	}

	/* SPF aligns through the domain it evaluated, never a re-read of the
	 * sender: a long MAIL FROM cut short once aligned a domain SPF never saw */
	out->spf_aligned = spf != NULL && spf->result == AUTH_PASS &&
	    dmarc_align_traced(org_of, ctx, "SPF domain ", spf->domain, from, rec->aspf,
	    why, sizeof(why)) == ALIGN_YES;
	for (i = 0; dkim != NULL && i < n_dkim && !out->dkim_aligned; i++)
		out->dkim_aligned = dkim[i].result == AUTH_PASS &&
		    dmarc_align_traced(org_of, ctx, "DKIM d=", dkim[i].domain, from,
		    rec->adkim, why, sizeof(why)) == ALIGN_YES;

	if (out->spf_aligned || out->dkim_aligned) {
		out->result = AUTH_PASS;
		out->disposition = DMARC_POLICY_NONE;
		snprintf(out->reason, sizeof(out->reason), "%s aligned",
		    out->spf_aligned && out->dkim_aligned ? "spf and dkim" :
		    out->spf_aligned ? "spf" : "dkim");
		return;
	}
	if (out->applied != DMARC_POLICY_NONE &&
	    dmarc_unknown_yet(org_of, ctx, spf, dkim, n_dkim, from, rec, out))
		return;
	out->result = AUTH_FAIL;
	out->disposition = out->applied;
	snprintf(out->reason, sizeof(out->reason), "no aligned pass; %s=%s%s", out->tag,
	    dmarc_policy_name(out->policy), out->testing ? ", t=y" : "");
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
