/* report_writer - report rows: a bounded queue and one writer thread.
 *
 * report_writer_configure   start, retarget, enable or disable (start, reload)
 * report_writer_enabled     rows taken now?
 * report_writer_submit      queue a row or drop it; never waits for the database
 * report_writer_failure_admit  this daemon's cap on failure samples per domain
 * report_writer_stop        flush within a deadline, end the thread
 *
 * The mail threads only take the queue's lock to append; the writer wakes every
 * REPORT_WRITER_LINGER_MS (or when a full batch waits) and takes up to
 * REPORT_WRITER_BATCH rows at a time and inserts them in one transaction outside
 * the lock, so a slow or locked database only makes the queue longer; past
 * report.queue rows are dropped. A batch whose insert fails is tried once more on
 * a fresh connection, then dropped (a database that refuses rows must not stop
 * the writer). Connections are retried with doubling backoff up to
 * REPORT_WRITER_BACKOFF_MAX seconds. Rows older than report.keep_days are deleted
 * every REPORT_WRITER_EXPIRE_EVERY seconds. The queue owns queued rows; the
 * writer owns the batch it took.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "report_pending.h"
#include "report_store.h"
#include "report_uri.h"
#include "report_writer.h"
#include "xalloc.h"

#define WRITER_LOG_EVERY	60	/* seconds between repeated warnings */

struct writer_item {
	struct report_row	 row;
	struct writer_item	*next;
};

/* Everything below w_lock's comment is guarded by it. */
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;	/* wakes the writer */
static struct {
	bool		 started, stopping;
	pthread_t	 thread;
	struct writer_item *head, *tail;
	size_t		 count, cap;
	char		*uri;		/* report.database while enabled */
	unsigned	 uri_serial;	/* +1 per new URI: the writer reconnects */
	unsigned	 keep_days;
	bool		 waiting;	/* the writer sleeps: signal it */
	struct timespec	 deadline;	/* of the flush, once stopping */
} w;
static atomic_bool w_enabled;
static atomic_ullong w_dropped, w_written;
static atomic_llong w_drop_logged;	/* time of the last drop warning */

/* report_writer_now - the realtime clock (what pthread_cond_timedwait waits on) */
static struct timespec
report_writer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* report_writer_before - a earlier than b */
static bool
report_writer_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* report_writer_drop_rows - n rows are lost: count them, warn at most once a minute */
static void
report_writer_drop_rows(unsigned long long n, const char *why)
{
	unsigned long long total = atomic_fetch_add(&w_dropped, n) + n;
	long long now = (long long)time(NULL);
	long long last = atomic_load(&w_drop_logged);

	metrics_report_rows(false, n);
	if (now - last >= WRITER_LOG_EVERY &&
	    atomic_compare_exchange_strong(&w_drop_logged, &last, now))
		log_msg(LOG_WARNING, "report: %llu report rows dropped so far (%s); mail "
		    "is not delayed", total, why);
}

/* report_writer_item_free - a queued row and its item */
static void
report_writer_item_free(struct writer_item *it)
{
	report_row_free(&it->row);
	free(it);
}

/* The daemon's own share of report.failure_rate: a small table of organizational
 * domains, each with the samples it queued in the current hour. A collision
 * replaces the older domain (its count starts again): the store's limit at
 * sending time is the one that holds; this one only keeps a flood of failing
 * mail from filling the database with samples nobody will send. */
#define WRITER_FAIL_SLOTS	1024
static pthread_mutex_t f_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 domain[254];
	long long	 hour;
	unsigned	 count;
} f_slots[WRITER_FAIL_SLOTS];
static atomic_ullong f_capped;

bool
report_writer_failure_admit(const char *org_domain, unsigned rate)
{
	size_t h = bytes_fnv1a(org_domain, strlen(org_domain)) % WRITER_FAIL_SLOTS;
	long long hour = (long long)time(NULL) / 3600;
	bool ok;

	lock_take(&f_lock);
	if (f_slots[h].hour != hour || strcmp(f_slots[h].domain, org_domain) != 0) {
		snprintf(f_slots[h].domain, sizeof(f_slots[h].domain), "%s", org_domain);
		f_slots[h].hour = hour;
		f_slots[h].count = 0;
	}
	ok = f_slots[h].count < rate;
	if (ok)
		f_slots[h].count++;
	lock_release(&f_lock);
	if (!ok)
		atomic_fetch_add(&f_capped, 1);
	return ok;
}

bool
report_writer_enabled(void)
{
	return atomic_load_explicit(&w_enabled, memory_order_relaxed);
}

void
report_writer_submit(struct report_row *row)
{
	struct writer_item *it;

	if (!report_writer_enabled()) {
		report_row_free(row);
		return;
	}
	it = xmalloc(sizeof(*it));
	it->row = *row;
	it->next = NULL;
	memset(row, 0, sizeof(*row));
	lock_take(&w_lock);
	if (w.count >= w.cap || w.stopping) {
		lock_release(&w_lock);
		report_writer_item_free(it);
		report_writer_drop_rows(1, "the queue (report.queue) is full: the report database "
		    "is slow, locked or unreachable");
		return;
	}
	if (w.tail != NULL)
		w.tail->next = it;
	else
		w.head = it;
	w.tail = it;
	w.count++;
	report_pending_queued(1);
	/* the writer wakes by itself every REPORT_WRITER_LINGER_MS: rows gather
	 * into batches, and a mail thread pays no wake-up per row */
	if (w.waiting && w.count == REPORT_WRITER_BATCH)
		pthread_cond_signal(&w_cond);
	lock_release(&w_lock);
}

/* report_writer_take - move up to REPORT_WRITER_BATCH queued rows into batch (w_lock
 * held); how many */
static size_t
report_writer_take(struct report_row *batch)
{
	size_t n = 0;

	while (w.head != NULL && n < REPORT_WRITER_BATCH) {
		struct writer_item *it = w.head;

		w.head = it->next;
		if (w.head == NULL)
			w.tail = NULL;
		batch[n++] = it->row;
		free(it);
		w.count--;
	}
	return n;
}

/* writer state kept by the thread alone */
struct writer {
	struct report_store *st;
	char		*uri;
	unsigned	 serial;
	time_t		 next_try;	/* no connection attempt before this */
	unsigned	 backoff;	/* seconds to the next attempt after a failure */
	time_t		 last_error_log;
	unsigned long	 errors_unlogged;
	time_t		 next_expire;
	struct report_row batch[REPORT_WRITER_BATCH];
	size_t		 n;		/* rows in batch */
	int		 attempts;	/* failed inserts of this batch */
	bool		 stop_tried;	/* the last connection attempt, at stop, made */
	const char	*moved;		/* the file was deleted/replaced: say so at reopen */
};

/* report_writer_error - a database problem: the first logged at once, repeats at most
 * once a minute with how many there were */
static void
report_writer_error(struct writer *wr, const char *what, const char *why)
{
	time_t now = time(NULL);
	char *label = report_uri_mask(wr->uri);

	if (wr->last_error_log == 0 || now - wr->last_error_log >= WRITER_LOG_EVERY) {
		log_msg(LOG_ERR, "report: %s %s: %s%s; rows wait in the queue, mail is not "
		    "delayed", what, label, why, wr->errors_unlogged > 0 ?
		    " (and earlier errors)" : "");
		wr->last_error_log = now;
		wr->errors_unlogged = 0;
	} else {
		wr->errors_unlogged++;
	}
	free(label);
}

/* report_writer_connect - try to open the store (w_lock not held) */
static void
report_writer_connect(struct writer *wr)
{
	char err[512];

	wr->st = report_store_open(wr->uri, err, sizeof(err));
	if (wr->st == NULL) {
		report_writer_error(wr, "cannot open", err);
		wr->next_try = time(NULL) + wr->backoff;
		wr->backoff = wr->backoff * 2 > REPORT_WRITER_BACKOFF_MAX ?
		    REPORT_WRITER_BACKOFF_MAX : wr->backoff * 2;
		return;
	}
	{
		char *label = report_uri_mask(wr->uri);

		if (wr->moved != NULL)
			log_msg(LOG_WARNING, "report: %s was %s: opened it again (a "
			    "deleted database is created anew with its tables); report "
			    "rows are written there from now on", label, wr->moved);
		else
			log_msg(wr->last_error_log != 0 ? LOG_NOTICE : LOG_INFO,
			    "report: writing report rows to %s%s", label,
			    wr->last_error_log != 0 ? " again" : "");
		free(label);
	}
	wr->moved = NULL;
	wr->backoff = 1;
	wr->last_error_log = 0;
	wr->errors_unlogged = 0;
}

/* report_writer_free_batch - forget the batch's rows */
static void
report_writer_free_batch(struct writer *wr)
{
	for (size_t i = 0; i < wr->n; i++)
		report_row_free(&wr->batch[i]);
	wr->n = 0;
	wr->attempts = 0;
}

/* report_writer_settle - n rows of the writer's batch are written or dropped
 * (w_lock not held) */
static void
report_writer_settle(size_t n)
{
	lock_take(&w_lock);
	report_pending_settled(n);
	lock_release(&w_lock);
}

/* report_writer_flush - insert the batch (w_lock not held).
 *
 * A SQLite file deleted or replaced under the open connection (an operator's rm,
 * a logrotate-style move, a restore from backup) would take every row from now
 * on into a file nobody can read, with no error: each batch first checks that
 * the path still names the open file, and else the store is opened again and
 * the batch goes there. */
static void
report_writer_flush(struct writer *wr)
{
	if ((wr->moved = report_store_moved(wr->st)) != NULL) {
		report_store_close(wr->st);
		wr->st = NULL;
		wr->next_try = 0;
		return;
	}
	if (report_store_insert(wr->st, wr->batch, wr->n) == 0) {
		atomic_fetch_add(&w_written, wr->n);
		metrics_report_rows(true, wr->n);
		report_writer_settle(wr->n);
		report_writer_free_batch(wr);
		return;
	}
	report_writer_error(wr, "cannot write to", report_store_error(wr->st));
	report_store_close(wr->st);	/* the next try starts on a fresh connection */
	wr->st = NULL;
	wr->next_try = time(NULL) + 1;
	if (++wr->attempts >= 2) {
		report_writer_drop_rows(wr->n, "the database refused a batch twice");
		report_writer_settle(wr->n);
		report_writer_free_batch(wr);
	}
}

/* report_writer_expire - delete rows past keep_days now and then (w_lock not held) */
static void
report_writer_expire(struct writer *wr, unsigned keep_days)
{
	time_t now = time(NULL);

	if (wr->st == NULL || now < wr->next_expire)
		return;
	wr->next_expire = now + REPORT_WRITER_EXPIRE_EVERY;
	if (report_store_expire(wr->st, now - (time_t)keep_days * 86400) < 0)
		report_writer_error(wr, "cannot delete old rows in", report_store_error(wr->st));
}

/* report_writer_sleep - wait (w_lock held) for rows, a change, or until `until` */
static void
report_writer_sleep(struct timespec until)
{
	struct timespec soon = report_writer_now();

	soon.tv_sec += 1;	/* never longer: stop and retries are checked each second */
	if (report_writer_before(soon, until))
		until = soon;
	w.waiting = true;
	(void)pthread_cond_timedwait(&w_cond, &w_lock, &until);
	w.waiting = false;
}

/* report_writer_main - the writer thread */
static void *
report_writer_main(void *arg)
{
	struct writer *wr = xcalloc(1, sizeof(*wr));
	unsigned long long lost;

	wr->backoff = 1;
	lock_take(&w_lock);
	for (;;) {
		struct timespec now = report_writer_now(), until = now;
		unsigned keep_days = w.keep_days;

		if (w.uri_serial != wr->serial) {
			report_store_close(wr->st);
			wr->st = NULL;
			free(wr->uri);
			wr->uri = xstrdup(w.uri);
			wr->serial = w.uri_serial;
			wr->next_try = 0;
			wr->backoff = 1;
		}
		if (w.stopping && ((wr->n == 0 && w.count == 0) ||
		    !report_writer_before(now, w.deadline)))
			break;
		/* at stop a database that is not there gets one more try at once,
		 * not a wait for the backoff */
		if (w.stopping && wr->st == NULL) {
			if (wr->stop_tried)
				break;
			wr->stop_tried = true;
			wr->next_try = 0;
		}
		if (wr->n == 0 && wr->st != NULL)
			wr->n = report_writer_take(wr->batch);
		/* connected with nothing to write, or nothing to connect for (the
		 * first attempt is made at once, so a bad database shows at start) */
		if (wr->n == 0 && (wr->st != NULL || (w.count == 0 && wr->next_try != 0))) {
			until.tv_nsec += REPORT_WRITER_LINGER_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			report_writer_sleep(w.stopping ? w.deadline : until);
			continue;
		}
		if (wr->st == NULL && now.tv_sec < wr->next_try) {
			until.tv_sec = wr->next_try;
			until.tv_nsec = 0;
			report_writer_sleep(w.stopping && report_writer_before(w.deadline, until) ?
			    w.deadline : until);
			continue;
		}
		lock_release(&w_lock);
		if (wr->st == NULL)
			report_writer_connect(wr);
		else if (wr->n > 0)
			report_writer_flush(wr);
		report_writer_expire(wr, keep_days);
		lock_take(&w_lock);
	}
	/* the deadline passed or the database is gone, with rows left: they are
	 * lost, and said so */
	lost = wr->n + w.count;
	while (w.head != NULL) {
		struct writer_item *it = w.head;

		w.head = it->next;
		report_writer_item_free(it);
	}
	w.tail = NULL;
	w.count = 0;
	report_pending_close();		/* every row written or counted as dropped */
	lock_release(&w_lock);
	report_writer_free_batch(wr);
	if (lost > 0) {
		atomic_store(&w_drop_logged, 0);	/* this one is always said */
		report_writer_drop_rows(lost, "not written at stop: the database was not "
		    "there or the deadline passed");
	}
	report_store_close(wr->st);
	free(wr->uri);
	free(wr);
	return arg;
}

/* report_writer_count_pending - keep count of queued rows for database from now
 * on; say how many a daemon killed last time lost there (w_lock held) */
static void
report_writer_count_pending(const char *database)
{
	long long lost = report_pending_open(database);
	char *label;

	if (lost == 0)
		return;
	label = report_uri_mask(database);
	if (lost < 0) {
		log_msg(LOG_WARNING, "report: cannot keep count of queued rows beside %s "
		    "(%m): rows lost to a SIGKILL would not be counted", label);
	} else {
		atomic_fetch_add(&w_dropped, (unsigned long long)lost);
		metrics_report_rows(false, (unsigned long long)lost);
		log_msg(LOG_WARNING, "report: %lld report rows for %s were still queued "
		    "when the daemon last ended without a stop (SIGKILL or a crash): they "
		    "are lost", lost, label);
	}
	free(label);
}

/* report_writer_configure - start, retarget, enable or disable the writer */
void
report_writer_configure(bool enable, const char *database, unsigned queue,
    unsigned keep_days)
{
	lock_take(&w_lock);
	w.cap = queue;
	w.keep_days = keep_days;
	if (enable && (w.uri == NULL || strcmp(w.uri, database) != 0)) {
		free(w.uri);
		w.uri = xstrdup(database);
		w.uri_serial++;
		report_writer_count_pending(database);
	}
	if (enable && !w.started && !w.stopping) {
		if (pthread_create(&w.thread, NULL, report_writer_main, NULL) != 0) {
			log_msg(LOG_ERR, "report: cannot start the writer thread; "
			    "no report rows are recorded");
		} else {
			w.started = true;
		}
	}
	atomic_store(&w_enabled, enable && w.started && !w.stopping);
	if (w.waiting)
		pthread_cond_signal(&w_cond);
	lock_release(&w_lock);
}

void
report_writer_stop(unsigned ms)
{
	lock_take(&w_lock);
	atomic_store(&w_enabled, false);
	if (!w.started || w.stopping) {
		lock_release(&w_lock);
		return;
	}
	w.stopping = true;
	w.deadline = report_writer_now();
	w.deadline.tv_sec += ms / 1000;
	w.deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (w.deadline.tv_nsec >= 1000000000L) {
		w.deadline.tv_sec++;
		w.deadline.tv_nsec -= 1000000000L;
	}
	pthread_cond_signal(&w_cond);
	lock_release(&w_lock);
	if (pthread_join(w.thread, NULL) != 0)
		log_msg(LOG_ERR, "report: cannot join the writer thread");
	log_msg(LOG_INFO, "report: writer stopped: %llu rows written, %llu dropped",
	    (unsigned long long)atomic_load(&w_written),
	    (unsigned long long)atomic_load(&w_dropped));
	if (atomic_load(&f_capped) > 0)
		log_msg(LOG_INFO, "report: %llu failure samples over report.failure_rate "
		    "not queued", (unsigned long long)atomic_load(&f_capped));
	lock_take(&w_lock);
	free(w.uri);
	w.uri = NULL;
	lock_release(&w_lock);
}
