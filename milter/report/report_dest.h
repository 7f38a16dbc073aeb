/* report_dest - where one aggregate report goes: the rua list parsed into
 * mail addresses (mailto only, malformed skipped, capped), and the RFC 9990 §4
 * external destination check.
 */
#ifndef AUTHMILTER_REPORT_DEST_H
#define AUTHMILTER_REPORT_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc.h"
#include "dns_answer.h"

#define REPORT_MAX_URIS		10	/* destinations of one report (RFC 9990 §3.5
					 * leaves the limit to the receiver) */
#define REPORT_MAX_RUA_ITEMS	64	/* rua items looked at before giving up */
#define REPORT_MAX_RUA_ITEM	512	/* bytes of one rua item; longer is malformed */
#define REPORT_MAX_LOCAL	64	/* octets of a local part (RFC 5321 §4.5.3.1.1) */

/* one destination: an addr-spec made only of dot-atom characters and an LDH
 * domain, so that it can be written into a header as it is */
struct report_dest {
	char	addr[REPORT_MAX_LOCAL + 1 + 254];
	char	host[254];		/* the domain of addr, lower case */
};

/* report_rua_parse - the mailto: destinations of a rua value, in order, at most
 * max, duplicates dropped. An item is skipped when it is not mailto:, when its
 * address (after %-decoding; "?headers" and an obsolete "!size" dropped) is not a
 * dot-atom local part @ a valid domain, or when it is longer than
 * REPORT_MAX_RUA_ITEM. Returns the number kept. */
size_t	 report_rua_parse(const char *rua, struct report_dest *out, size_t max);

/* report_dest_domain_ok - a lower-case LDH domain name (labels of 1..63 without
 * a hyphen at either end, 1..253 octets), fit for a file name and a header */
bool	 report_dest_domain_ok(const char *d);

/* report_txt_fn - the TXT answer at name, owned by the callee until it is done
 * with the whole check; NULL counts as a temporary failure */
typedef const struct dns_answer *(*report_txt_fn)(void *ctx, const char *name);

enum report_check {
	REPORT_CHECK_OK,	/* dests holds what may be used (maybe none) */
	REPORT_CHECK_TEMP	/* a lookup failed temporarily: defer the report */
};

/* report_dest_check - RFC 9990 §4 over dests, in place: a destination whose
 * organizational domain (org_of) differs from policy_domain's is kept only when
 * <policy_domain>._report._dmarc.<host> has a record starting with v=DMARC1; a
 * tag ("rua", or "ruf" for failure reports, RFC 9991 §5) in that record
 * replaces the destination when all its hosts are the same host, and when one
 * is not, neither is used. *n becomes the number kept; why
 * names each destination dropped and the failure on REPORT_CHECK_TEMP. */
enum report_check report_dest_check(const char *policy_domain, const char *tag,
	    struct report_dest *dests, size_t *n, dmarc_org_fn org_of, void *org_ctx,
	    report_txt_fn txt, void *txt_ctx, char *why, size_t whylen);

#endif
