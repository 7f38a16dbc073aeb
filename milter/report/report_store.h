/* report_store - the DMARC report rows and report claims, in SQLite or PostgreSQL.
 *
 * One schema, one set of SQL texts for both databases (they agree on TEXT, BIGINT,
 * $N parameters and ON CONFLICT DO NOTHING); the program creates and migrates the
 * schema itself (table schema_version). The daemon's writer thread inserts rows in
 * batches; authmilter-report lists the policy domains of a period, claims each
 * report, streams its rows and marks it sent.
 *
 * A store is one database connection, used by one thread at a time. While
 * report_store_each or report_store_each_domain runs its callback, make no other
 * call on the same store: open a second one for that.
 */
#ifndef AUTHMILTER_REPORT_STORE_H
#define AUTHMILTER_REPORT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "report_row.h"

#define REPORT_STORE_SCHEMA	3	/* the schema version this program writes:
					 * 1 rows and claims, 2 failure samples,
					 * 3 their rate_domain */
#define REPORT_STORE_BUSY_MS	5000	/* SQLite: wait this long for another writer's lock */
#define REPORT_STORE_CONNECT_TIMEOUT "10"	/* PostgreSQL: seconds to connect, unless
					 * the URI says connect_timeout=N */
#define REPORT_CLAIM_LEASE	900	/* seconds a claim not marked sent keeps others off;
					 * then another generator may take it over */
#define REPORT_ID_MAX		64	/* report_id buffers: "BEGIN.16hex" fits easily */

struct report_store;

/* report_store_uri_check - is uri "sqlite:PATH" or a PostgreSQL URI libpq parses
 * ("postgresql://..." or "postgres://...")? Connects to nothing. */
bool	 report_store_uri_check(const char *uri, char *err, size_t errlen);
/* report_store_open - connect, create or migrate the schema; NULL with err set */
struct report_store *report_store_open(const char *uri, char *err, size_t errlen);
/* report_store_close - disconnect and free; accepts NULL */
void	 report_store_close(struct report_store *st);
/* report_store_error - the last error of st, for a log line */
const char *report_store_error(const struct report_store *st);
/* report_store_moved - has the SQLite file's path stopped naming the file we
 * opened? "deleted" or "replaced by another file" (rows written now would go to a
 * file nobody can read), else NULL; always NULL for PostgreSQL */
const char *report_store_moved(const struct report_store *st);
/* report_store_insert - insert n rows in one transaction: 0, or -1 and nothing
 * inserted (report_store_error says why) */
int	 report_store_insert(struct report_store *st, const struct report_row *rows, size_t n);

/* report_row_fn - one row; the row and its strings are the store's and live only
 * during the call. Return nonzero to stop the iteration. */
typedef int (*report_row_fn)(const struct report_row *row, void *arg);
/* report_store_each - every row received in [begin, end), the rows of one
 * policy_domain next to each other, each domain's rows by received; returns the
 * number of rows passed to fn, or -1 on a database error. Rows are streamed, not
 * held in memory. */
long long report_store_each(struct report_store *st, time_t begin, time_t end,
	    report_row_fn fn, void *arg);
/* report_store_each_domain - the same for one policy domain */
long long report_store_each_domain(struct report_store *st, const char *policy_domain,
	    time_t begin, time_t end, report_row_fn fn, void *arg);
/* report_domain_fn - one policy domain of a period and its number of rows */
typedef int (*report_domain_fn)(const char *policy_domain, long long rows, void *arg);
/* report_store_domains - every policy domain with rows in [begin, end) whose last
 * row has a non-empty rua, in no promised order; number of domains or -1 */
long long report_store_domains(struct report_store *st, time_t begin, time_t end,
	    report_domain_fn fn, void *arg);

enum report_claim {
	REPORT_CLAIM_OK,	/* ours now (new, ours already, or an expired lease) */
	REPORT_CLAIM_SENT,	/* already marked sent: send nothing */
	REPORT_CLAIM_BUSY,	/* another generator holds a live claim */
	REPORT_CLAIM_LIMITED,	/* failure sample over its domain's rate: dropped */
	REPORT_CLAIM_ERROR	/* database error (report_store_error) */
};
/* report_store_claim - claim the report of policy_domain for [begin, end) for
 * generator; report_id (REPORT_ID_MAX bytes) gets the report's id, the same on
 * every claim of the same report, for OK and SENT */
enum report_claim report_store_claim(struct report_store *st, const char *policy_domain,
	    time_t begin, time_t end, const char *generator, char *report_id, size_t idlen);
/* report_store_mark_sent - generator's claim is done: 0, or -1 when the claim is
 * not generator's any more or on a database error */
int	 report_store_mark_sent(struct report_store *st, const char *policy_domain,
	    time_t begin, time_t end, const char *generator);
/* report_store_release - give up generator's unsent claim at once (a failed
 * send), keeping its report_id for the next claimer: 0 or -1 */
int	 report_store_release(struct report_store *st, const char *policy_domain,
	    time_t begin, time_t end, const char *generator);
/* report_store_expire - delete rows and failure samples received before `before`
 * and the claims of periods that ended before it; number of rows deleted, or -1 */
long long report_store_expire(struct report_store *st, time_t before);

/* Failure samples (RFC 9991): the writer stores a row's sample with the row
 * (report_store_insert); authmilter-report lists the unsent ones, claims each
 * under the per-domain rate limit, and settles it. */
#define REPORT_RATE_WINDOW	3600	/* report.failure_rate counts claims this long */

/* report_sample_id_fn - the id of one unsent sample; nonzero stops */
typedef int (*report_sample_id_fn)(const char *id, void *arg);
/* report_store_failures_pending - the ids of unsent samples, oldest first, at
 * most max; how many, or -1 */
long long report_store_failures_pending(struct report_store *st, long long max,
	    report_sample_id_fn fn, void *arg);
/* report_store_failure_claim - claim sample id for generator: OK with *out the
 * sample (report_sample_free); SENT when it is settled already; BUSY when
 * another generator holds it; LIMITED when its policy domain had `rate` claims
 * that were not given back in the last REPORT_RATE_WINDOW seconds (the sample
 * is then settled as "ratelimited"). Claims of one domain are serialised (a
 * PostgreSQL advisory lock; SQLite's write lock), so racing generators on
 * several hosts keep one limit between them. */
enum report_claim report_store_failure_claim(struct report_store *st, const char *id,
	    const char *generator, unsigned rate, struct report_sample **out);
/* report_store_failure_done - settle generator's claim with outcome ("sent",
 * "written", "skipped"): 0, or -1 when the claim is not generator's */
int	 report_store_failure_done(struct report_store *st, const char *id,
	    const char *generator, const char *outcome);
/* report_store_failure_release - give generator's claim back (a failed send or a
 * deferred check): it no longer counts against the rate; 0 or -1 */
int	 report_store_failure_release(struct report_store *st, const char *id,
	    const char *generator);

/* report_dkim_encode, report_dkim_decode - the dkim column: "d s result" per
 * signature, comma-separated, every byte outside [A-Za-z0-9._-] as %XX.
 * decode returns false on a malformed value; free with report_row_free. */
char	*report_dkim_encode(const struct report_dkim *d, size_t n);
bool	 report_dkim_decode(const char *s, struct report_dkim **out, size_t *n);

#endif
