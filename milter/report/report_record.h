/* report_record - the RFC 9990 report row of one inbound message.
 *
 * report_record_row turns the verdict record and what policy did into a row for
 * the report store (report_writer.c queues it). Pure: no I/O, no global state.
 */
#ifndef AUTHMILTER_REPORT_RECORD_H
#define AUTHMILTER_REPORT_RECORD_H

#include <stdbool.h>
#include <time.h>

#include "result.h"
#include "report_row.h"
#include "verdict.h"

/* what the verdict record does not hold */
struct report_message {
	time_t		 received;	/* UTC epoch seconds */
	const char	*source_ip;	/* text; "" when the client had no address */
	const char	*mailfrom;	/* envelope sender without <>; "" null sender */
	enum action	 action;	/* what the MTA was told (after dry_run) */
};

/* report_record_row - fill r (members newly allocated: report_row_free) and
 * return true when the message is reported: DMARC passed or failed against a
 * published record and the message was not tempfailed (it comes back; a row now
 * would count it twice). Otherwise false and r is untouched. */
bool	 report_record_row(const struct verdict *v, const struct report_message *m,
	    struct report_row *r);

#endif
