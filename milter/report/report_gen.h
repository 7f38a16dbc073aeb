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
#include "buf.h"
#include "report_agg.h"
#include "report_dest.h"

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
	bool		 out_mail;	/* with out_dir: write each whole mail (headers
					 * and MIME, as --send would pipe it, after the
					 * same destination check) as NAME.eml */
	const char	*sendmail;	/* the command for mail */
};

enum report_gen_result {
	REPORT_GEN_DONE,	/* written or sent */
	REPORT_GEN_SKIPPED,	/* nothing to send it to (why says) */
	REPORT_GEN_DEFERRED,	/* a DNS lookup failed temporarily: try again later */
	REPORT_GEN_FAILED	/* writing or sending failed (why says) */
};

/* report_gen_check - the RFC 9990 §4 check of dests (tag "rua", or "ruf" for
 * failure reports) through g's resolver; organizational domains by discovery
 * ("psl" or the tree walk) */
enum report_check report_gen_check(const struct report_gen *g, const char *domain,
	    const char *tag, const char *discovery, struct report_dest *dests, size_t *n,
	    char *err, size_t errlen);
/* report_gen_spf_record - the v=spf1 TXT record of domain into out; false when
 * there is none or the lookup failed */
bool	 report_gen_spf_record(const struct report_gen *g, const char *domain,
	    struct buf *out);
/* report_gen_write_file - data to dir/name through a temporary file and a
 * rename; why gets the path, or the error */
bool	 report_gen_write_file(const char *dir, const char *name, const struct buf *data,
	    char *why, size_t whylen);

/* report_gen_one - the report of a (one policy domain, every row of the period)
 * with Report-ID id; why says what happened to it, for the log */
enum report_gen_result report_gen_one(const struct report_gen *g, struct report_agg *a,
	    const char *id, char *why, size_t whylen);

#endif
