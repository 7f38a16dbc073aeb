/* dmarc - RFC 7489 DMARC (with DMARCbis np=): record discovery, parsing, alignment,
 * and the disposition for one message.
 *
 * dmarc_lookup_start begins discovery (_dmarc.<from>, then the organizational
 * domain from the Public Suffix List) as soon as the From domain is known;
 * dmarc_evaluate combines the record with the SPF and DKIM verdicts.
 */
#ifndef AUTHMILTER_DMARC_H
#define AUTHMILTER_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include <libpsl.h>

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

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	unsigned	 pct;		/* 0..100, default 100 */
	enum dmarc_align adkim, aspf;
	char		*rua[DMARC_MAX_URIS];
	size_t		 n_rua;
	char		*ruf[DMARC_MAX_URIS];
	size_t		 n_ruf;
	char		 fo[16];	/* default "0" */
	unsigned long	 ri;		/* default 86400 */
};

/* dmarc_record_parse - false with a reason when this TXT is not a usable DMARC
 * record (no v=DMARC1 first, bad syntax). An invalid p= with a valid rua becomes
 * p=none (RFC 7489 §6.6.3). */
bool	 dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
	    char *err, size_t errlen);
void	 dmarc_record_clear(struct dmarc_record *r);
const char *dmarc_policy_name(enum dmarc_policy p);

/* dmarc_org_domain - the organizational domain of domain (lower case A-label) */
bool	 dmarc_org_domain(const psl_ctx_t *psl, const char *domain, char *out, size_t outlen);

struct dmarc_lookup;
struct dmarc_lookup *dmarc_lookup_start(struct dns_resolver *r, const psl_ctx_t *psl,
	    const char *from_domain);
void	 dmarc_lookup_free(struct dmarc_lookup *l);

struct dmarc_verdict {
	enum auth_result  result;	/* PASS, FAIL, NONE (no record), TEMPERROR, PERMERROR */
	enum dmarc_policy policy;	/* the policy that applies (p, sp or np), published */
	enum dmarc_policy disposition;	/* after pct sampling; NONE on pass */
	char	 from_domain[256];	/* header.from */
	char	 org_domain[256];
	char	 record_domain[256];	/* where the record was found */
	bool	 spf_aligned, dkim_aligned;
	bool	 sampled_out;		/* pct said: apply the next less strict policy */
	char	 reason[128];
	struct dmarc_record record;	/* as published, for reporting later */
};

/* dmarc_evaluate - wait for the lookup and judge. spf may be NULL (not run);
 * dkim has n_dkim verdicts. random_pct: 0..99, the sample for pct= (tests fix it). */
void	 dmarc_evaluate(struct dmarc_lookup *l, const psl_ctx_t *psl,
	    const struct spf_verdict *spf, const struct dkim_verdict *dkim, size_t n_dkim,
	    unsigned random_pct, struct dmarc_verdict *out);
void	 dmarc_verdict_clear(struct dmarc_verdict *v);

/* dmarc_judge - the part of dmarc_evaluate after discovery, without DNS (unit
 * tests call it): rec was published at record_domain for from_domain;
 * nonexistent: the From domain answered NXDOMAIN for A, AAAA and MX. Fills every
 * field of out except a temperror/none from discovery. */
void	 dmarc_judge(const struct dmarc_record *rec, const psl_ctx_t *psl,
	    const char *from_domain, const char *record_domain, bool nonexistent,
	    const struct spf_verdict *spf, const struct dkim_verdict *dkim, size_t n_dkim,
	    unsigned random_pct, struct dmarc_verdict *out);

#endif
