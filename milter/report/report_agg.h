/* report_agg - the rows of one DMARC policy domain aggregated into RFC 9990 records.
 *
 * Rows with the same source IP, identifiers, SPF and DKIM results, aligned results,
 * disposition and reasons make one record with a count. The published policy
 * reported is the one of the latest row (RFC 9990 §3.1: "the final configuration
 * observed"). Everything added is copied; the aggregate owns its memory.
 */
#ifndef AUTHMILTER_REPORT_AGG_H
#define AUTHMILTER_REPORT_AGG_H

#include <stddef.h>

#include "report_row.h"

/* one record: the row's identifiers and results (policy fields unused) and how
 * many messages had them; dkim holds at most REPORT_MAX_DKIM entries */
struct report_record {
	struct report_row row;
	unsigned long	 count;
	char		*key;		/* the aggregation key, for the sort */
	size_t		 keylen;
};

struct report_agg;

/* report_agg_new - an empty aggregate for policy_domain */
struct report_agg *report_agg_new(const char *policy_domain);
/* report_agg_free - NULL is fine */
void	 report_agg_free(struct report_agg *a);
/* report_agg_add - count one row; the row is copied, not kept */
void	 report_agg_add(struct report_agg *a, const struct report_row *r);
/* report_agg_domain - the policy domain given to report_agg_new */
const char *report_agg_domain(const struct report_agg *a);
/* report_agg_policy - the row whose policy fields (rua, p, sp, np, adkim, aspf,
 * fo, testing, discovery) are the latest seen; NULL before the first add */
const struct report_row *report_agg_policy(const struct report_agg *a);
/* report_agg_rows - rows added */
unsigned long report_agg_rows(const struct report_agg *a);
/* report_agg_records - the records, sorted by their key so that the same rows
 * give the same report in any order; n set to their number. Owned by a. */
struct report_record *const *report_agg_records(struct report_agg *a, size_t *n);

#endif
