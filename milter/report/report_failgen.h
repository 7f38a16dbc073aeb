/* report_failgen - authmilter-report --failure: the RFC 9991 failure reports of
 * the samples the daemon stored, each claimed, checked, written or sent once.
 */
#ifndef AUTHMILTER_REPORT_FAILGEN_H
#define AUTHMILTER_REPORT_FAILGEN_H

#include <stdbool.h>

#include "report_gen.h"
#include "report_store.h"

#define REPORT_FAILGEN_MAX	10000	/* samples one run looks at: the rest wait for
					 * the next run (the timer runs every 5 minutes) */

/* what one run did, for its last log line */
struct report_failgen_counts {
	unsigned done, skipped, deferred, failed, limited, busy, gone;
};

/* report_failgen_run - every unsent sample, oldest first: claim it under rate
 * per policy domain per hour, parse its ruf (mailto only), run the §4 check with
 * the ruf tag, build the report and write it into g->out_dir or send it, then
 * settle the claim (a failed send or a deferred check gives it back). False on
 * a database error. */
bool	 report_failgen_run(struct report_store *st, const struct report_gen *g,
	    const char *genid, unsigned rate, struct report_failgen_counts *c);

#endif
