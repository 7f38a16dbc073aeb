/* report_gen - one policy domain's aggregate report, from its aggregated rows to
 * a file in the output directory or a mail handed to sendmail(1).
 */
#ifndef AUTHMILTER_REPORT_GEN_H
#define AUTHMILTER_REPORT_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <libpsl.h>

#include "dns.h"
#include "report_agg.h"

/* what every report of one run shares */
struct report_gen {
	struct dns_resolver *dns;	/* for the §4 check (--send) */
	const psl_ctx_t	*psl;		/* organizational domains under discovery=psl */
	const char	*org_name;	/* report_metadata */
	const char	*email;		/* report_metadata and From */
	const char	*receiver;	/* our domain: file name, Submitter */
	const char	*generator;	/* "authmilter VERSION" */
	time_t		 begin, end;	/* the period */
	const char	*out_dir;	/* write files here; NULL: send */
	const char	*sendmail;	/* the command for mail */
};

enum report_gen_result {
	REPORT_GEN_DONE,	/* written or sent */
	REPORT_GEN_SKIPPED,	/* nothing to send it to (why says) */
	REPORT_GEN_DEFERRED,	/* a DNS lookup failed temporarily: try again later */
	REPORT_GEN_FAILED	/* writing or sending failed (why says) */
};

/* report_gen_one - the report of a (one policy domain, every row of the period)
 * with Report-ID id; why says what happened to it, for the log */
enum report_gen_result report_gen_one(const struct report_gen *g, struct report_agg *a,
	    const char *id, char *why, size_t whylen);

#endif
