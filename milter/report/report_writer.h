/* report_writer - the bounded queue of report rows and the one thread that
 * writes them into the report store in batches.
 *
 * A mail thread hands a row over with report_writer_submit and never waits for
 * the database: when report.queue rows are already waiting, the row is dropped,
 * counted, and logged at most once a minute. The writer connects (and reconnects
 * with backoff) on its own; report_writer_stop flushes what is queued.
 */
#ifndef AUTHMILTER_REPORT_WRITER_H
#define AUTHMILTER_REPORT_WRITER_H

#include <stdbool.h>

#include "report_row.h"

#define REPORT_WRITER_BATCH	500	/* rows per transaction at most */
#define REPORT_WRITER_LINGER_MS	200	/* rows gather this long into one transaction */
#define REPORT_WRITER_BACKOFF_MAX 60	/* seconds between reconnects at most */
#define REPORT_WRITER_EXPIRE_EVERY 3600	/* seconds between deletions of old rows */

/* report_writer_configure - apply the report section (start, and each reload):
 * enable, the database URI, at most queue rows waiting, rows kept keep_days.
 * Starts the writer the first time reporting is enabled; a new database URI
 * makes it reconnect; a disabled section stops taking rows */
void	 report_writer_configure(bool enable, const char *database, unsigned queue,
	    unsigned keep_days);
/* report_writer_enabled - are rows taken now? (a cheap check before building one) */
bool	 report_writer_enabled(void);
/* report_writer_submit - queue row (its members move to the queue, *row is
 * cleared) or drop it; never blocks on the database */
void	 report_writer_submit(struct report_row *row);
/* report_writer_failure_admit - may this daemon queue one more failure sample of
 * org_domain (the sample's rate_domain) this hour (at most rate; the store applies
 * the real limit when sending)? Counts the samples refused. */
bool	 report_writer_failure_admit(const char *org_domain, unsigned rate);
/* report_writer_stop - stop taking rows, write what is queued within ms
 * milliseconds, end the thread; logs what was written and dropped */
void	 report_writer_stop(unsigned ms);

#endif
