/* spf_record - screen and rewrite a v=spf1 record before libspf2 compiles it.
 *
 * Pure: no DNS, no libspf2, no global state. Returned reasons are static strings.
 */
#ifndef AUTHMILTER_SPF_RECORD_H
#define AUTHMILTER_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Our own caps on what a hostile record may ask libspf2 to do. */
#define SPF_RECORD_MAX			4096	/* bytes of one joined TXT record */
#define SPF_RECORD_MAX_TERM		255	/* bytes of one term */
#define SPF_RECORD_MAX_TERM_MACROS	8	/* %{...} macros in one term */
#define SPF_RECORD_MAX_MACRO_PARTS	16	/* largest digit transformer, %{d16} */

/* Suffixes marking an a/mx lookup whose IPv4 and/or IPv6 CIDR length is 0
 * (libspf2 refuses /0). ".invalid" is reserved (RFC 6761), so no real name
 * ends this way; the DNS layer (spf_dns.c) strips the suffix before the lookup. */
#define SPF_RECORD_ZERO4	".z4.spf-cidr0.invalid"
#define SPF_RECORD_ZERO6	".z6.spf-cidr0.invalid"
#define SPF_RECORD_ZERO46	".z46.spf-cidr0.invalid"


/* spf_record_rewrite - screen and syntax-check the record rec[0..len); NULL when
 * acceptable, else why it is refused. out (may be NULL) gets the record libspf2 is
 * to evaluate: mechanisms and redirect= only (exp= and unknown modifiers dropped,
 * redirect= dropped beside an "all", RFC 7208 §6.1), zero CIDRs rewritten to the
 * marks above; *exp (may be NULL) points at the exp= domain-spec, *exp_len its
 * length, NULL when there is none. */
const char *spf_record_rewrite(const char *rec, size_t len, struct buf *out,
	    const char **exp, size_t *exp_len);
/* spf_record_screen - spf_record_rewrite without its outputs */
const char *spf_record_screen(const char *rec, size_t len);
/* spf_record_is_spf - a TXT string that is an SPF version 1 record (§4.5) */
bool	 spf_record_is_spf(const char *txt, size_t len);
/* spf_record_terms - the terms after "v=spf1" in a rewritten record */
size_t	 spf_record_terms(const char *text);

#endif
