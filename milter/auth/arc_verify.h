/* arc_verify - RFC 8617 §5.2: validate the ARC chain of one inbound message. */
#ifndef AUTHMILTER_ARC_VERIFY_H
#define AUTHMILTER_ARC_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "header.h"
#include "result.h"
#define ARC_MAX_INSTANCES	50	/* RFC 8617 §4.2.1: i= 1..50 */
/* the header_list indexes of one ARC set, instance i = position + 1 */
struct arc_set_fields { size_t aar, ams, as; };
struct arc_verdict {
	enum auth_result result;	/* AUTH_NONE (no ARC fields), AUTH_PASS, AUTH_FAIL
					 * (and AUTH_TEMPERROR when a key lookup failed
					 * temporarily, rendered by RFC 8601 rules) */
	unsigned	 n_sets;	/* instances in a structurally valid chain, else 0 */
	struct arc_set_fields sets[ARC_MAX_INSTANCES];	/* [0 .. n_sets) */
	unsigned	 oldest_pass;	/* header.oldest-pass; 0 when every AMS passed */
	char		 sealer[256];	/* d= of the newest ARC-Seal, "" when none */
	char		 reason[128];	/* short, safe for a header comment */
	/* added by arc-verify: what each set's ARC-Authentication-Results vouches
	 * for, for policy.c's trusted-sealer override ([0 .. n_sets)) */
	struct arc_set_info {
		char	 sealer[256];	/* d= of this instance's ARC-Seal */
		const char *vouch;	/* "dmarc", "dkim" or "spf": the AAR records a
					 * pass for the From domain; NULL when not, and
					 * always below oldest-pass (that AMS did not
					 * verify over this message) */
	} info[ARC_MAX_INSTANCES];
};

/* Caps on what a peer can make us hold or do (a defined arc=fail beyond them). */
#define ARC_MAX_FIELDS		(3 * ARC_MAX_INSTANCES)	/* ARC header fields stored */
#define ARC_MAX_FIELD_LEN	(16 * 1024)	/* bytes of one ARC field's value */
#define ARC_MAX_KEYS		16	/* distinct key names (s=, d=) looked up per
					 * message; a signature naming another fails */

/* The author identity an ARC-Authentication-Results must record a pass for
 * (RFC 9989 §4.4 identifier alignment, as the DMARC evaluation saw it). */
struct arc_author {
	const char	*from_domain;	/* the From domain; NULL: none, nothing vouched */
	const char	*org_domain;	/* its organizational domain; NULL or "": not
					 * known, only the From domain itself aligns */
	bool		 dkim_strict;	/* adkim=s: header.d must be the From domain */
	bool		 spf_strict;	/* aspf=s: the same for smtp.mailfrom's domain */
};

struct dns_resolver;
struct dkim_body_set;
struct dkim_verify_opts;
struct arc_verify;

/* arc_verify_field - which ARC field a header name is: 0 none, else 1 AAR,
 * 2 AMS, 3 AS (case-insensitive) */
int	 arc_verify_field(const char *name);
/* arc_verify_new - per-message state; r and body stay the caller's (the body
 * set is the one DKIM verification streams the body into) */
struct arc_verify *arc_verify_new(struct dns_resolver *r,
	    const struct dkim_verify_opts *opts, struct dkim_body_set *body);
/* arc_verify_add - an ARC field arrived (name as given, value raw) at
 * header_index of the message's list: parse it, start its key lookup now */
void	 arc_verify_add(struct arc_verify *v, const char *name, const char *value,
	    size_t value_len, size_t header_index);
/* arc_verify_unstored - an ARC field arrived past the header caps (not stored):
 * the chain cannot be checked and fails */
void	 arc_verify_unstored(struct arc_verify *v);
/* arc_verify_finish - after dkim_body_set_final: the verdict, owned by v.
 * author (NULL when none) is what an AAR must vouch for. */
const struct arc_verdict *arc_verify_finish(struct arc_verify *v,
	    const struct header_list *h, const struct arc_author *author);
void	 arc_verify_free(struct arc_verify *v);

/* arc_verify_aar_instance - the i= of an ARC-Authentication-Results value, 0
 * when it does not start with a valid "i=N;" (N beyond 50 is returned as is) */
unsigned arc_verify_aar_instance(const char *value, size_t len);
/* arc_verify_aar_vouch - does this AAR value record a pass for the author:
 * "dmarc" (dmarc=pass header.from=the From domain), "dkim" (dkim=pass header.d=D),
 * "spf" (spf=pass smtp.mailfrom=...@D or D), D aligned with the From domain as
 * dmarc_aligned_by_name says; NULL when not. Bounded, pure. */
const char *arc_verify_aar_vouch(const char *value, size_t len,
	    const struct arc_author *author);
#endif
