/* metrics_http - serve GET /metrics with libmicrohttpd.
 *
 * metrics_http_start binds the socket itself (so a port in use is reported with
 * its errno, at start-up) and hands it to libmicrohttpd, which runs one internal
 * polling thread for every scrape. metrics_http_stop ends it. A scrape renders
 * metrics_render into a fresh buffer that libmicrohttpd frees after sending.
 *
 * Slow clients: libmicrohttpd's own timeout is one of idleness, so a client that
 * sends a byte every few seconds holds its connection for ever, and as many of
 * them as the connection limit once kept every scrape out. Here each connection
 * is one request (answers say "Connection: close") and lives at most
 * METRICS_HTTP_DEADLINE seconds from accept, however busy: a watchdog thread shuts
 * the socket down then, and libmicrohttpd closes it. A scrape that finds every slot
 * held waits in the listen queue at most that long, since connections are
 * accepted in arrival order.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "fatal.h"
#include "lock.h"
#include "metrics.h"
#include "metrics_http.h"
#include "sockspec.h"

#define METRICS_HTTP_CONNECTIONS	64	/* at once; more wait in the listen queue */
#define METRICS_HTTP_BACKLOG		128	/* the listen queue: above the limit, so a
						 * scrape queued behind slow clients is not dropped */
#define METRICS_HTTP_DEADLINE		3	/* seconds one connection (one request and its
						 * answer) may take: the page is a few KB */

/* one open connection; guarded by metrics_http_lock. A slot is taken at
 * libmicrohttpd's STARTED notice and freed at its CLOSED notice, which it gives
 * before it closes the descriptor, so the watchdog never shuts down a descriptor
 * number that was closed and reused. */
struct metrics_http_conn {
	int		 fd;		/* -1: the slot is free */
	bool		 cut;		/* shut down already */
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
};

static struct MHD_Daemon *metrics_http_daemon;
static pthread_mutex_t metrics_http_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t metrics_http_cond;	/* a connection started, or stop */
static struct metrics_http_conn metrics_http_conns[METRICS_HTTP_CONNECTIONS];
static bool metrics_http_stopping;
static bool metrics_http_watching;		/* the watchdog thread runs */
static pthread_t metrics_http_watchdog_thread;

/* metrics_http_reply - send a fixed text with status */
static enum MHD_Result
metrics_http_reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_handle - libmicrohttpd's request callback: GET /metrics only */
static enum MHD_Result
metrics_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *r;
	struct buf page = BUF_INIT;
	enum MHD_Result rc;
	size_t len;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics_http_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n");
	if (*upload_data_size != 0)
		return MHD_NO;
	if (strcmp(url, "/metrics") != 0)
		return metrics_http_reply(conn, MHD_HTTP_NOT_FOUND, "see /metrics\n");
	metrics_render(&page);
	len = page.len;
	r = MHD_create_response_from_buffer(len, buf_steal(&page), MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_notify - libmicrohttpd's connection notices: a started connection
 * gets a slot and its deadline, a closed one frees its slot (libmicrohttpd's
 * thread; the limit it enforces is the number of slots) */
static void
metrics_http_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_http_conn *slot = *socket_context;
	const union MHD_ConnectionInfo *info;

	(void)cls;
	lock_take(&metrics_http_lock);
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED && slot != NULL) {
		slot->fd = -1;
		*socket_context = NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_STARTED &&
	    (info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL) {
		for (size_t i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
			if (metrics_http_conns[i].fd != -1)
				continue;
			slot = &metrics_http_conns[i];
			slot->fd = info->connect_fd;
			slot->cut = false;
			fatal_check(clock_gettime(CLOCK_MONOTONIC, &slot->deadline) ? errno : 0,
			    "clock_gettime");
			slot->deadline.tv_sec += METRICS_HTTP_DEADLINE;
			*socket_context = slot;
			fatal_check(pthread_cond_signal(&metrics_http_cond),
			    "pthread_cond_signal");
			break;
		}
	}
	lock_release(&metrics_http_lock);
}

/* metrics_http_before - a earlier than b */
static bool
metrics_http_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* metrics_http_watchdog - shut down each connection past its deadline (its
 * reads and writes fail, libmicrohttpd closes it); sleep until the next one */
static void *
metrics_http_watchdog(void *arg)
{
	(void)arg;
	lock_take(&metrics_http_lock);
	while (!metrics_http_stopping) {
		struct timespec now, next = { 0, 0 };
		bool any = false;

		fatal_check(clock_gettime(CLOCK_MONOTONIC, &now) ? errno : 0, "clock_gettime");
		for (size_t i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
			struct metrics_http_conn *c = &metrics_http_conns[i];

			if (c->fd == -1 || c->cut)
				continue;
			if (!metrics_http_before(now, c->deadline)) {
				(void)shutdown(c->fd, SHUT_RDWR);	/* ENOTCONN: gone already */
				c->cut = true;
			} else if (!any || metrics_http_before(c->deadline, next)) {
				next = c->deadline;
				any = true;
			}
		}
		if (any)
			(void)pthread_cond_timedwait(&metrics_http_cond, &metrics_http_lock, &next);
		else
			fatal_check(pthread_cond_wait(&metrics_http_cond, &metrics_http_lock),
			    "pthread_cond_wait");
	}
	lock_release(&metrics_http_lock);
	return NULL;
}

/* metrics_http_watch - start the watchdog (its condition variable on the
 * monotonic clock); false when a thread cannot be made */
static bool
metrics_http_watch(void)
{
	pthread_condattr_t ca;

	for (size_t i = 0; i < METRICS_HTTP_CONNECTIONS; i++)
		metrics_http_conns[i].fd = -1;
	metrics_http_stopping = false;
	if (pthread_condattr_init(&ca) != 0)
		return false;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&metrics_http_cond, &ca) != 0) {
		(void)pthread_condattr_destroy(&ca);
		return false;
	}
	(void)pthread_condattr_destroy(&ca);
	if (pthread_create(&metrics_http_watchdog_thread, NULL, metrics_http_watchdog,
	    NULL) != 0) {
		(void)pthread_cond_destroy(&metrics_http_cond);
		return false;
	}
	metrics_http_watching = true;
	return true;
}

/* metrics_http_start - bind, listen, and start libmicrohttpd's thread */
bool
metrics_http_start(const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, one = 1;

	if (!sockspec_listen_addr(listen_on, &sa, &salen)) {
		snprintf(err, errlen, "\"%s\" is not ADDR:PORT", listen_on);
		return false;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) != 0 ||
	    listen(fd, METRICS_HTTP_BACKLOG) != 0) {
		snprintf(err, errlen, "%s: %s", listen_on, strerror(errno));
		if (fd != -1)
			close(fd);
		return false;
	}
	if (!metrics_http_watch()) {
		snprintf(err, errlen, "%s: cannot start the connection watchdog", listen_on);
		close(fd);
		return false;
	}
	metrics_http_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL, 0, NULL, NULL, metrics_http_handle, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_DEADLINE,
	    MHD_OPTION_NOTIFY_CONNECTION, metrics_http_notify, NULL,
	    MHD_OPTION_END);
	if (metrics_http_daemon == NULL) {
		snprintf(err, errlen, "%s: libmicrohttpd could not start", listen_on);
		close(fd);
		metrics_http_stop();
		return false;
	}
	return true;
}

/* metrics_http_stop - stop the server thread (closes the socket), then the watchdog */
void
metrics_http_stop(void)
{
	if (metrics_http_daemon != NULL) {
		MHD_stop_daemon(metrics_http_daemon);
		metrics_http_daemon = NULL;
	}
	if (metrics_http_watching) {
		lock_take(&metrics_http_lock);
		metrics_http_stopping = true;
		fatal_check(pthread_cond_signal(&metrics_http_cond), "pthread_cond_signal");
		lock_release(&metrics_http_lock);
		fatal_check(pthread_join(metrics_http_watchdog_thread, NULL), "pthread_join");
		fatal_check(pthread_cond_destroy(&metrics_http_cond), "pthread_cond_destroy");
		metrics_http_watching = false;
	}
}
