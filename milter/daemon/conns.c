/* conns - the MTA's connections: counted, capped, closed when silent (see conns.h).
 *
 * conns_start, conns_configure, conns_listener_thread; conns_started, conns_touch,
 * conns_admitted, conns_closed for the callbacks; conns_max_sessions.
 *
 * Why accept() is ours. libmilter (Debian builds its worker pool) gives a connection
 * no callback before the MTA's first packet, and parks a silent one in its poll set,
 * closing it only at a sweep every 600 s (DT_CHECK_OLD_SESSIONS in its worker.c)
 * after smfi_settimeout's time: smfi_settimeout alone cannot close a connection
 * that never speaks in under 10 minutes. So this file defines accept(): libmilter's
 * listener calls it (the executable's definition comes first in symbol lookup), it
 * accepts with accept4() and records the descriptor. A connection over the ceiling
 * is closed there and the listener told EINTR, which it takes as "try again".
 * The reaper thread closes a silent connection with shutdown(), not close(): the
 * descriptor stays libmilter's, which sees end-of-file, calls xxfi_close and closes
 * it itself, so a descriptor number is never closed under libmilter's feet.
 *
 * The callbacks find their descriptor in SMFICTX's ctx_sd, a private field, the
 * second member of struct smfi_str (after a pthread_t) in libmilter 8.12 to 8.18. conns_started
 * checks it against the socket accepted (same inode); should a libmilter ever
 * differ, connections are still counted and capped (the reaper notices closed
 * descriptors) but no longer closed when silent, and the log says so.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conns.h"
#include "log.h"
#include "metrics.h"

/* Descriptors kept for everything else: DNS sockets, key files, the report
 * database, /metrics and its clients, log and pipes: an eighth of the limit,
 * at least 64 and at most 256. */
#define CONNS_RESERVE_MIN	64
#define CONNS_RESERVE_MAX	256
#define CONNS_MARGIN		64	/* max_sessions' default: this far under the ceiling */
#define CONNS_TICK_MS		250	/* how often the reaper looks */
#define CONNS_LOG_S		10	/* at most one line of each kind per this long */
#define CONNS_EVICT_MS		1000	/* silent this long: may make room for a new one */
#define CONNS_SLACK		32	/* over the ceiling while victims close */

enum conns_state { CONNS_FREE, CONNS_NEW, CONNS_STARTED, CONNS_CLOSING };

struct conns_slot {		/* one per descriptor number; under conns_lock */
	int		 state;		/* enum conns_state */
	bool		 over;		/* came in over max_sessions */
	ino_t		 ino;		/* the accepted socket's inode */
	atomic_llong	 last_ms;	/* accepted or last command, monotonic ms */
};

/* libmilter's struct smfi_str begins so (see above): its thread id (sthread_t,
 * a pthread_t), then the session's descriptor */
struct conns_ctx_head {
	pthread_t	 ctx_id;
	int		 ctx_sd;
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conns_slot *conns_tab;
static int conns_size;			/* descriptors below this are tracked */
static int conns_top;			/* highest descriptor recorded + 1 */
static int conns_cursor;		/* where the next eviction search starts */
static atomic_int conns_open;		/* accepted and not yet closed */
static unsigned conns_ceiling;		/* over this: closed at accept */
static atomic_uint conns_max;		/* over this: tempfail at connect */
static atomic_uint conns_idle_s, conns_timeout_s;
static atomic_bool conns_layout_ok = true;
static _Thread_local bool conns_is_listener;
/* since the last log line: tempfailed, closed at accept, closed silent, evicted */
static atomic_ulong conns_n_tempfail, conns_n_closed, conns_n_silent, conns_n_evicted;

/* conns_now_ms - a monotonic clock in milliseconds */
static long long
conns_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* conns_ino - the inode of descriptor fd, 0 when it is not open */
static ino_t
conns_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* conns_free_slot - descriptor fd's connection has gone (conns_lock held) */
static void
conns_free_slot(int fd)
{
	conns_tab[fd].state = CONNS_FREE;
	atomic_fetch_sub(&conns_open, 1);
}

/* conns_evict - make room: shut down a connection that never sent a command and
 * has been silent CONNS_EVICT_MS, if there is one (conns_lock held). A working MTA
 * sends its first packet as soon as it connects. */
static bool
conns_evict(long long now)
{
	for (int i = 0; i < conns_top; i++) {
		int fd = (conns_cursor + i) % conns_top;
		struct conns_slot *s = &conns_tab[fd];

		if (s->state != CONNS_NEW || now - atomic_load(&s->last_ms) < CONNS_EVICT_MS ||
		    conns_ino(fd) != s->ino)
			continue;
		s->state = CONNS_CLOSING;
		(void)shutdown(fd, SHUT_RDWR);
		conns_cursor = (fd + 1) % conns_top;
		return true;
	}
	return false;
}

/* conns_admit - record descriptor fd just accepted; false: close it. Over
 * max_sessions a connection silent since CONNS_EVICT_MS makes room; without one
 * the new connection is tempfailed at connect, or closed over the ceiling. A
 * connection that made room may be over the ceiling while its victim closes, but
 * never by more than CONNS_SLACK. */
static bool
conns_admit(int fd)
{
	long long now = conns_now_ms();
	bool ok = true, over = false;
	unsigned n;

	if (fd >= conns_size)
		return (unsigned)atomic_load(&conns_open) < conns_ceiling;
	pthread_mutex_lock(&conns_lock);
	if (conns_tab[fd].state != CONNS_FREE)	/* closed without xxfi_close */
		conns_free_slot(fd);
	n = (unsigned)atomic_load(&conns_open) + 1;
	if (n > atomic_load(&conns_max) && n <= conns_ceiling + CONNS_SLACK &&
	    atomic_load(&conns_layout_ok) && conns_evict(now))
		atomic_fetch_add(&conns_n_evicted, 1);
	else if (n > conns_ceiling)
		ok = false;
	else
		over = n > atomic_load(&conns_max);
	if (ok) {
		struct conns_slot *s = &conns_tab[fd];

		atomic_fetch_add(&conns_open, 1);
		s->state = CONNS_NEW;
		s->ino = conns_ino(fd);
		s->over = over;
		atomic_store(&s->last_ms, now);
		if (fd >= conns_top)
			conns_top = fd + 1;
	}
	pthread_mutex_unlock(&conns_lock);
	return ok;
}

/* accept - libmilter's listener calls this (see the file's header); other callers
 * get plain accept */
int
accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	int c = accept4(fd, addr, len, 0);

	if (c < 0 || !conns_is_listener || conns_tab == NULL || conns_admit(c))
		return c;
	(void)close(c);
	atomic_fetch_add(&conns_n_closed, 1);
	metrics_session_refused(true);
	errno = EINTR;	/* the listener goes round again, without counting an error */
	return -1;
}

/* conns_slot_of - ctx's slot, NULL when ctx_sd does not name one we accepted
 * (conns_lock held) */
static struct conns_slot *
conns_slot_of(SMFICTX *ctx)
{
	int fd = ((const struct conns_ctx_head *)(const void *)ctx)->ctx_sd;

	if (conns_tab == NULL || fd < 0 || fd >= conns_size ||
	    conns_tab[fd].state == CONNS_FREE)
		return NULL;
	return &conns_tab[fd];
}

/* conns_started - the first command: from now on session_timeout applies */
void
conns_started(SMFICTX *ctx)
{
	struct conns_slot *s;
	int fd = ((const struct conns_ctx_head *)(const void *)ctx)->ctx_sd;

	if (conns_tab == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	if ((s = conns_slot_of(ctx)) != NULL && conns_ino(fd) == s->ino) {
		if (s->state == CONNS_NEW)
			s->state = CONNS_STARTED;
		atomic_store(&s->last_ms, conns_now_ms());
	} else if (fd < conns_size && atomic_exchange(&conns_layout_ok, false)) {
		log_msg(LOG_ERR, "libmilter's session does not hold the descriptor "
		    "accepted (its SMFICTX layout differs): silent connections are no "
		    "longer closed before libmilter's own timeout");
	}
	pthread_mutex_unlock(&conns_lock);
}

/* conns_touch - a command came: the session is not silent */
void
conns_touch(SMFICTX *ctx)
{
	int fd = ((const struct conns_ctx_head *)(const void *)ctx)->ctx_sd;

	/* no lock: a stale store into a slot being reused is undone by conns_admit */
	if (conns_tab != NULL && fd >= 0 && fd < conns_size)
		atomic_store(&conns_tab[fd].last_ms, conns_now_ms());
}

/* conns_admitted - false for a session that came in over max_sessions */
bool
conns_admitted(SMFICTX *ctx)
{
	struct conns_slot *s;
	bool over;

	if (conns_tab == NULL)
		return true;
	pthread_mutex_lock(&conns_lock);
	over = (s = conns_slot_of(ctx)) != NULL && s->over;
	pthread_mutex_unlock(&conns_lock);
	if (over) {
		atomic_fetch_add(&conns_n_tempfail, 1);
		metrics_session_refused(false);
	}
	return !over;
}

/* conns_closed - the session ends; libmilter closes the descriptor after this */
void
conns_closed(SMFICTX *ctx)
{
	struct conns_slot *s;

	if (conns_tab == NULL || !atomic_load(&conns_layout_ok))
		return;		/* the reaper notices the descriptor closed */
	pthread_mutex_lock(&conns_lock);
	if ((s = conns_slot_of(ctx)) != NULL)
		conns_free_slot((int)(s - conns_tab));
	pthread_mutex_unlock(&conns_lock);
}

/* conns_sweep_one - close descriptor fd's connection if silent too long; with gc,
 * forget it if it has gone without xxfi_close (conns_lock held) */
static void
conns_sweep_one(int fd, long long now, long long idle_ms, long long timeout_ms, bool gc)
{
	struct conns_slot *s = &conns_tab[fd];
	long long quiet;

	if (s->state == CONNS_FREE)
		return;
	if (gc && conns_ino(fd) != s->ino) {
		conns_free_slot(fd);
		return;
	}
	if (s->state == CONNS_CLOSING || !atomic_load(&conns_layout_ok))
		return;
	quiet = now - atomic_load(&s->last_ms);
	if (quiet < (s->state == CONNS_NEW ? idle_ms : timeout_ms) ||
	    conns_ino(fd) != s->ino)
		return;
	s->state = CONNS_CLOSING;
	(void)shutdown(fd, SHUT_RDWR);
	atomic_fetch_add(&conns_n_silent, 1);
	metrics_session_silent();
}

/* conns_log_refused - the connections refused since the last line; false when
 * there were none */
static bool
conns_log_refused(void)
{
	unsigned long t = atomic_exchange(&conns_n_tempfail, 0);
	unsigned long c = atomic_exchange(&conns_n_closed, 0);
	unsigned long e = atomic_exchange(&conns_n_evicted, 0);

	if (t + c + e == 0)
		return false;
	log_msg(LOG_WARNING, "too many connections (max_sessions %u, %d open): %lu "
	    "tempfailed at connect, %lu closed at once (open-files limit near), %lu "
	    "silent ones closed to make room", atomic_load(&conns_max),
	    atomic_load(&conns_open), t, c, e);
	return true;
}

/* conns_log_silent - the silent connections closed since the last line; false
 * when there were none */
static bool
conns_log_silent(void)
{
	unsigned long s = atomic_exchange(&conns_n_silent, 0);

	if (s == 0)
		return false;
	log_msg(LOG_NOTICE, "closed %lu silent connection%s (nothing for "
	    "session_idle_timeout %u s after connecting, or session_timeout %u s between "
	    "commands)", s, s == 1 ? "" : "s", atomic_load(&conns_idle_s),
	    atomic_load(&conns_timeout_s));
	return true;
}

/* conns_reaper - the thread: every CONNS_TICK_MS, close silent connections */
static void *
conns_reaper(void *arg)
{
	/* each kind of line at most once per CONNS_LOG_S */
	long long last_refused = -CONNS_LOG_S * 1000, last_silent = last_refused, last_gc = 0;

	(void)arg;
	for (;;) {
		struct timespec ts = { 0, CONNS_TICK_MS * 1000000L };
		long long now = conns_now_ms();
		/* xxfi_close frees slots; the fstat of each only now and then, or
		 * always when ctx_sd cannot be trusted */
		bool gc = now - last_gc >= CONNS_LOG_S * 1000 || !atomic_load(&conns_layout_ok);

		pthread_mutex_lock(&conns_lock);
		for (int fd = 0; fd < conns_top; fd++)
			conns_sweep_one(fd, now, atomic_load(&conns_idle_s) * 1000LL,
			    atomic_load(&conns_timeout_s) * 1000LL, gc);
		pthread_mutex_unlock(&conns_lock);
		if (gc)
			last_gc = now;
		if (now - last_refused >= CONNS_LOG_S * 1000 && conns_log_refused())
			last_refused = now;
		if (now - last_silent >= CONNS_LOG_S * 1000 && conns_log_silent())
			last_silent = now;
		(void)nanosleep(&ts, NULL);
	}
	return NULL;
}

/* conns_configure - max_sessions (0: the default under the ceiling), timeouts */
void
conns_configure(const struct conf *c)
{
	unsigned max = conns_ceiling > CONNS_MARGIN ? conns_ceiling - CONNS_MARGIN :
	    conns_ceiling;

	if (c->max_sessions > conns_ceiling)
		log_msg(LOG_WARNING, "%s:%d: max_sessions %u is more than the open-files "
		    "limit allows; using %u", c->path, c->max_sessions_line,
		    c->max_sessions, conns_ceiling);
	if (c->max_sessions != 0)
		max = c->max_sessions < conns_ceiling ? c->max_sessions : conns_ceiling;
	atomic_store(&conns_max, max);
	atomic_store(&conns_idle_s, c->session_idle_timeout);
	atomic_store(&conns_timeout_s, c->session_timeout);
}

/* conns_start - the table, the settings, the reaper */
bool
conns_start(unsigned long nofile, const struct conf *c)
{
	unsigned long reserve = nofile / 8;
	pthread_t t;

	if (reserve < CONNS_RESERVE_MIN)
		reserve = CONNS_RESERVE_MIN;
	if (reserve > CONNS_RESERVE_MAX)
		reserve = CONNS_RESERVE_MAX;
	conns_ceiling = nofile > reserve * 2 ? (unsigned)(nofile - reserve) :
	    (unsigned)(nofile / 2);
	conns_size = nofile < INT32_MAX ? (int)nofile : INT32_MAX;
	conns_configure(c);
	conns_tab = calloc((size_t)conns_size, sizeof(*conns_tab));
	if (conns_tab == NULL)
		return false;
	if (pthread_create(&t, NULL, conns_reaper, NULL) != 0 || pthread_detach(t) != 0)
		return false;
	return true;
}

/* conns_listener_thread - mark the calling thread as libmilter's listener */
void
conns_listener_thread(void)
{
	conns_is_listener = true;
}

/* conns_max_sessions - the cap in force */
unsigned
conns_max_sessions(void)
{
	return atomic_load(&conns_max);
}
