/* dmarc - RFC 9989 DMARC: policy discovery by the DNS Tree Walk
 * (dmarc_walk.c) or, as an operator's choice, RFC 7489 discovery with the Public
 * Suffix List; alignment, and the policy for one message.
 *
 * dmarc_lookup_start begins discovery as soon as the From domain is known (every
 * name the author's walk may need, at once); dmarc_evaluate combines the record
 * with the SPF and DKIM verdicts at the end of the message.
 */
#ifndef AUTHMILTER_DMARC_H
#define AUTHMILTER_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include <libpsl.h>

#include "dkim_verify.h"
#include "dmarc_record.h"
#include "dns.h"
#include "result.h"
#include "spf.h"

/* how DMARC policy records are found (dmarc.discovery) */
enum dmarc_discovery {
	DMARC_DISCOVERY_TREEWALK = 0,	/* RFC 9989 §4.10 DNS Tree Walk */
	DMARC_DISCOVERY_PSL		/* RFC 7489 with the Public Suffix List */
};

/* dmarc_discovery_name - "treewalk" or "psl" */
const char *dmarc_discovery_name(enum dmarc_discovery d);

/* dmarc_org_domain - the organizational domain of domain (lower case A-label) */
bool	 dmarc_org_domain(const psl_ctx_t *psl, const char *domain, char *out, size_t outlen);
/* dmarc_aligned_by_name - does domain d align with the author's From domain from,
 * whose organizational domain is org ("" or NULL: unknown), judged by the names
 * alone: d is from (case-insensitive), or, unless strict, org or a name below it.
 * No DNS: a psd=n record between d and org (RFC 9989 §4.10.2) is not looked for.
 * For ARC vouching and report fields; the verdict's own alignment walks. */
bool	 dmarc_aligned_by_name(const char *d, const char *from, const char *org,
	    bool strict);

#define DMARC_MAX_WALKS		8	/* tree walks per message: the author, the SPF
					 * domain and passing DKIM d= (8 queries each) */

struct dmarc_lookup;
/* dmarc_lookup_start - start discovery for from_domain: under treewalk every
 * _dmarc name of the author's walk and the author's existence query at once */
struct dmarc_lookup *dmarc_lookup_start(struct dns_resolver *r, const psl_ctx_t *psl,
	    enum dmarc_discovery mode, const char *from_domain);
void	 dmarc_lookup_free(struct dmarc_lookup *l);

/* what an organizational-domain lookup gave */
enum dmarc_org_status {
	DMARC_ORG_OK,
	DMARC_ORG_TEMP,		/* a query of its walk failed temporarily (why says) */
	DMARC_ORG_CAPPED	/* past DMARC_MAX_WALKS: the identifier does not align */
};
/* dmarc_org_fn - the organizational domain of domain (normalised) into org */
typedef enum dmarc_org_status (*dmarc_org_fn)(void *ctx, const char *domain, char *org,
	    size_t orglen, char *why, size_t whylen);
/* dmarc_org_psl - a dmarc_org_fn over the Public Suffix List; ctx is a psl_ctx_t */
enum dmarc_org_status dmarc_org_psl(void *ctx, const char *domain, char *org,
	    size_t orglen, char *why, size_t whylen);

struct dmarc_verdict {
	enum auth_result  result;	/* PASS, FAIL, NONE (no record), TEMPERROR, PERMERROR */
	enum dmarc_policy policy;	/* the policy that applies (p, sp or np), published */
	enum dmarc_policy applied;	/* policy after t= (A-R policy.dmarc) */
	enum dmarc_policy disposition;	/* applied on fail; NONE on pass */
	const char *tag;		/* "p", "sp" or "np": where policy came from */
	enum dmarc_discovery discovery;
	char	 from_domain[256];	/* header.from */
	char	 org_domain[256];	/* the author's; "" when its walk failed */
	char	 record_domain[256];	/* the policy domain: where the record was found */
	bool	 spf_aligned, dkim_aligned;
	bool	 testing;		/* t=y lowered the policy */
	char	 failed[300];		/* temperror: the query that failed, e.g.
					 * "_dmarc.example.com/TXT"; "" otherwise */
	char	 reason[400];
	char	 ignored[320];		/* "_dmarc.<name>: duplicate tag p=..." for an
					 * invalid record discarded on the author's
					 * way; "" if none (logged) */
	struct dmarc_record record;	/* as published, for reporting later */
};

/* dmarc_evaluate - wait for the lookup and judge. spf may be NULL (not run);
 * dkim has n_dkim verdicts. */
void	 dmarc_evaluate(struct dmarc_lookup *l, const struct spf_verdict *spf,
	    const struct dkim_verdict *dkim, size_t n_dkim, struct dmarc_verdict *out);
/* dmarc_lookup_capped - true when an identifier went past DMARC_MAX_WALKS */
bool	 dmarc_lookup_capped(const struct dmarc_lookup *l);
void	 dmarc_verdict_clear(struct dmarc_verdict *v);

/* dmarc_judge - the part of dmarc_evaluate after discovery, without DNS of its
 * own (unit tests call it): rec was published at record_domain for from_domain;
 * nonexistent: the From domain answered NXDOMAIN; org_of gives organizational
 * domains for relaxed alignment. Fills every field of out except a temperror or
 * none from discovery. */
void	 dmarc_judge(const struct dmarc_record *rec, const char *from_domain,
	    const char *record_domain, bool nonexistent, const struct spf_verdict *spf,
	    const struct dkim_verdict *dkim, size_t n_dkim, dmarc_org_fn org_of, void *ctx,
	    struct dmarc_verdict *out);

#endif
