/* dmarc_walk - the RFC 9989 §4.10 DNS Tree Walk: which names one walk may query,
 * and, from their answers, the policy record (§4.10.1) and the organizational
 * domain (§4.10.2). Pure: answers come through a lookup function, so the unit
 * tests pass a fake and the daemon passes queries it started earlier.
 */
#ifndef AUTHMILTER_DMARC_WALK_H
#define AUTHMILTER_DMARC_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc_record.h"
#include "dns.h"

#define DMARC_WALK_MAX		8	/* queries in one walk (RFC 9989 §4.10) */

/* dmarc_walk_lookup - the TXT answer at _dmarc.<name>, owned by the callee and
 * valid until the walk is cleared; NULL counts as a temporary failure */
typedef const struct dns_answer *(*dmarc_walk_lookup)(void *ctx, const char *name);

/* one walk: filled by dmarc_walk_run, freed by dmarc_walk_clear */
struct dmarc_walk {
	char		 domain[256];	/* where the walk started, lower case */
	const char	*names[DMARC_WALK_MAX];	/* suffixes of domain, in query order */
	size_t		 n_names;
	size_t		 asked;		/* names consulted before the walk stopped */
	bool		 tempfail;	/* names[failed] failed temporarily: walk cut */
	size_t		 failed;
	char		 why[320];	/* "_dmarc.<name>: SERVFAIL" on tempfail */
	char		 invalid[320];	/* "_dmarc.<name>: duplicate tag p=..." for the
					 * first invalid record discarded; "" if none */
	bool		 has[DMARC_WALK_MAX];	/* exactly one v=DMARC1 record there */
	struct dmarc_record rec[DMARC_WALK_MAX];
	bool		 usable[DMARC_WALK_MAX]; /* has a valid p, or p=none by its rua */
	const char	*org;		/* organizational domain; NULL on tempfail */
	int		 org_rec;	/* index of the org domain's record, -1: none */
	int		 psd_rec;	/* index of a psd=y record above org, -1: none */
};

/* dmarc_walk_names - the names a walk from domain may query, in order, at most
 * DMARC_WALK_MAX: domain, then (8+ labels) its rightmost 7 labels, then one label
 * less each time down to the TLD. names[i] point into domain. */
size_t	 dmarc_walk_names(const char *domain, const char *names[DMARC_WALK_MAX]);

/* dmarc_walk_run - walk from domain (a lower-case A-label without final dot),
 * calling lookup for each name in order until a psd=y/psd=n record, a temporary
 * failure or the TLD; then the organizational domain. w->names point into
 * w->domain. */
void	 dmarc_walk_run(struct dmarc_walk *w, const char *domain, dmarc_walk_lookup lookup,
	    void *ctx);

/* dmarc_walk_policy - index of the record that applies to the walk's start as
 * Author Domain (§4.10.1: its own, else the org domain's, else the PSD's); -1
 * when none was found; -2 when a temporary failure leaves it unknown */
int	 dmarc_walk_policy(const struct dmarc_walk *w);

/* dmarc_walk_clear - free the records; the walk may run again */
void	 dmarc_walk_clear(struct dmarc_walk *w);

#endif
