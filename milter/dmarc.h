/* dmarc - RFC 9989 DMARC: record parsing, policy discovery by the DNS Tree Walk
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

#include "conf.h"
#include "dkim_verify.h"
#include "dns.h"
#include "result.h"
#include "spf.h"

#define DMARC_MAX_URIS		32	/* rua/ruf URIs kept from one record */

enum dmarc_policy {
	DMARC_POLICY_UNSET = 0,		/* tag absent (sp/np fall back) */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT
};

enum dmarc_align { DMARC_ALIGN_RELAXED = 0, DMARC_ALIGN_STRICT };

enum dmarc_psd { DMARC_PSD_U = 0, DMARC_PSD_Y, DMARC_PSD_N };	/* default u */

/* what one TXT record is */
enum dmarc_record_kind {
	DMARC_REC_OK,		/* a DMARC record with a policy (p=none by its rua) */
	DMARC_REC_NOT_DMARC,	/* does not start with v=DMARC1: ignored */
	DMARC_REC_UNUSABLE	/* v=DMARC1, but no valid p/sp/np and no valid rua:
				 * no DMARC when it is the policy record (§4.10.1) */
};

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	bool		 testing;	/* t=y: the policy applies one level lower */
	enum dmarc_psd	 psd;
	enum dmarc_align adkim, aspf;
	char		*rua[DMARC_MAX_URIS];
	size_t		 n_rua;
	char		*ruf[DMARC_MAX_URIS];
	size_t		 n_ruf;
	char		 fo[16];	/* default "0" */
};

/* dmarc_record_read - classify and parse one TXT record; r is filled (and must be
 * cleared) unless DMARC_REC_NOT_DMARC; err says why it is not DMARC_REC_OK. A
 * missing or invalid p, or an invalid sp or np, with a valid rua becomes p=none
 * (RFC 9989 §4.10.1). pct, rf and ri are ignored like unknown tags. */
enum dmarc_record_kind dmarc_record_read(const char *txt, size_t len,
	    struct dmarc_record *r, char *err, size_t errlen);
/* dmarc_record_parse - dmarc_record_read, true only for DMARC_REC_OK (r is then
 * filled; otherwise there is nothing to clear) */
bool	 dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
	    char *err, size_t errlen);
void	 dmarc_record_clear(struct dmarc_record *r);
const char *dmarc_policy_name(enum dmarc_policy p);
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
