/* stop - wake libmilter's listener on a stop request; wait for sessions in flight.
 *
 * stop_watch_start: a thread that polls libmilter's stop flag every
 * STOP_POLL_MS and, once it is set, connects to our own socket: the listener's
 * select() returns, it sees the flag and closes the socket at once instead of at
 * the end of its 5 s sleep. stop_session_begin/end count open connections;
 * stop_wait_sessions waits for them after smfi_main has returned.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netdb.h>

#include "log.h"
#include "sockspec.h"
#include "stop.h"
#include "xalloc.h"

#define STOP_POLL_MS	100	/* how often the stop flag is read */

/* mi_stop - libmilter's stop flag (MILTER_CONT = 0 while running). Exported by
 * every libmilter since 8.12 but not declared in mfapi.h; it is the only way to
 * learn that libmilter's signal thread has taken a SIGTERM. */
extern int mi_stop(void);

static atomic_int stop_open_sessions;

/* stop_sleep_ms - nanosleep for ms milliseconds */
static void
stop_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* stop_connect_unix - connect to path and hang up */
static void
stop_connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return;
	(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
}

/* stop_connect_inet - connect to host:port (a wildcard address means loopback)
 * and hang up */
static void
stop_connect_inet(const char *host, const char *port, int family)
{
	struct addrinfo hints, *res = NULL;
	int fd;

	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return;
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) >= 0) {
		(void)connect(fd, res->ai_addr, res->ai_addrlen);
		close(fd);
	}
	freeaddrinfo(res);
}

/* stop_wake - one connection to our own listening socket */
static void
stop_wake(const struct sockspec *sp)
{
	char port[8];

	if (sp->kind == SOCKSPEC_UNIX) {
		stop_connect_unix(sp->path);
		return;
	}
	snprintf(port, sizeof(port), "%u", sp->port);
	/* no host: bound to every address, loopback among them */
	stop_connect_inet(sp->host != NULL ? sp->host : sp->kind == SOCKSPEC_INET ?
	    "127.0.0.1" : "::1", port, sockspec_family(sp));
}

/* stop_watch - the watcher thread */
static void *
stop_watch(void *arg)
{
	struct sockspec *sp = arg;

	while (mi_stop() == 0)
		stop_sleep_ms(STOP_POLL_MS);
	/* the listener may be between two select()s: knock until it has gone */
	for (int i = 0; i < 50 && mi_stop() != 0; i++) {
		stop_wake(sp);
		stop_sleep_ms(STOP_POLL_MS);
	}
	sockspec_clear(sp);
	free(sp);
	return NULL;
}

/* stop_watch_start - the watcher, detached */
bool
stop_watch_start(const struct sockspec *socket)
{
	pthread_t t;
	pthread_attr_t attr;
	struct sockspec *sp = xcalloc(1, sizeof(*sp));
	bool ok;

	sp->kind = socket->kind;
	sp->port = socket->port;
	sp->path = socket->path != NULL ? xstrdup(socket->path) : NULL;
	sp->host = socket->host != NULL ? xstrdup(socket->host) : NULL;
	ok = pthread_attr_init(&attr) == 0 &&
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
	    pthread_create(&t, &attr, stop_watch, sp) == 0;
	(void)pthread_attr_destroy(&attr);
	if (!ok) {
		sockspec_clear(sp);
		free(sp);
	}
	return ok;
}

/* stop_session_begin - a connection opened */
void
stop_session_begin(void)
{
	atomic_fetch_add(&stop_open_sessions, 1);
}

/* stop_session_end - a connection closed */
void
stop_session_end(void)
{
	atomic_fetch_sub(&stop_open_sessions, 1);
}

/* stop_wait_sessions - until none is open or the deadline */
int
stop_wait_sessions(unsigned timeout_ms)
{
	for (unsigned waited = 0; waited < timeout_ms; waited += 10) {
		if (atomic_load(&stop_open_sessions) <= 0)
			return 0;
		stop_sleep_ms(10);
	}
	return atomic_load(&stop_open_sessions);
}
