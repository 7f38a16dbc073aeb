/* report_arf - the mail of one RFC 9991 DMARC failure report: an RFC 5965
 * multipart/report (report-type=feedback-report) with an RFC 6591 auth-failure
 * feedback report and the redacted header as text/rfc822-headers.
 */
#ifndef AUTHMILTER_REPORT_ARF_H
#define AUTHMILTER_REPORT_ARF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "report_dest.h"
#include "report_row.h"

#define REPORT_ARF_MAX_SPF	450	/* bytes of the SPF record in SPF-DNS */

/* what one failure report carries */
struct report_arf {
	const char *from;		/* report.email */
	const struct report_dest *to;	/* checked destinations */
	size_t	    n_to;
	const char *submitter;		/* our domain (report.email's) */
	const char *user_agent;		/* "authmilter/VERSION" */
	const struct report_sample *s;
	const char *spf_record;		/* the SPF domain's v=spf1 record, or NULL */
	time_t	    now;
};

/* report_arf_build - the RFC 5322 message into out (reset), LF line ends. False,
 * with why set and nothing built, when a value that goes into a header is not
 * what it must be: addresses and domains as report_dest makes them, an IP
 * address, the sample's id of 16 hex digits, Identity-Alignment and
 * Delivery-Result from their lists, a selector of [A-Za-z0-9._-], and texts
 * (Authentication-Results, DKIM-Identity, the header copy) of printable ASCII
 * whose only line breaks are folds. */
bool	 report_arf_build(struct buf *out, const struct report_arf *a, char *why,
	    size_t whylen);

/* report_arf_filename - "<id>.eml": the file --out writes for the sample */
void	 report_arf_filename(struct buf *out, const struct report_sample *s);

#endif
