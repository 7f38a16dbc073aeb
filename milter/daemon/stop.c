/* stop - libmilter in its own thread; SIGTERM, SIGINT and SIGHUP taken here, so that
 * a stop lets the messages in flight finish (see stop.h).
 *
 * stop_run, stop_block_set; stop_taking_mail and stop_cutting for the callbacks;
 * stop_message_begin/end count the messages in flight.
 *
 * Why the signals reach us and not libmilter's signal thread, which sigwait()s for
 * the same three: they stay blocked in every thread but the main one, where they
 * have a handler; Linux hands a signal sent to the process to its main thread
 * whenever that thread does not block it (and kill(1), systemd and the tests send to
 * the process). Should libmilter take one all the same (its stop flag set without
 * ours), the stop proceeds as libmilter's and says so.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "conns.h"
#include "log.h"
#include "stop.h"

#define STOP_POLL_MS	20	/* how often the main thread looks at the flags */
#define STOP_KICK_MS	10	/* how often the listener is woken until it has gone */
#define STOP_CUT_MS	1000	/* after the deadline: for the tempfails to go out */
#define STOP_WAKE_SIGNAL SIGURG	/* ignored by default; only ever sent to one thread */

/* mi_stop - libmilter's stop flag (0 while running). Exported by every libmilter
 * since 8.12 but not declared in mfapi.h. */
extern int mi_stop(void);

enum stop_state { STOP_RUNNING, STOP_DRAINING, STOP_CUTTING };

static volatile sig_atomic_t stop_signal;	/* the stop signal taken, 0 before */
static atomic_int stop_state;			/* enum stop_state */
static atomic_int stop_in_flight;		/* messages between MAIL FROM and their end */
static atomic_bool stop_milter_done;		/* smfi_main has returned */
static int stop_milter_rc;

/* stop_sleep_ms - nanosleep for ms milliseconds */
static void
stop_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* stop_on_signal - the handler for SIGTERM, SIGINT and SIGHUP (main thread only) */
static void
stop_on_signal(int sig)
{
	if (stop_signal == 0)
		stop_signal = sig;
}

/* stop_on_wake - the wake signal's handler: nothing; it only interrupts poll() */
static void
stop_on_wake(int sig)
{
	(void)sig;
}

/* stop_block_set - add the signals stop_run takes to set */
void
stop_block_set(sigset_t *set)
{
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, STOP_WAKE_SIGNAL);
}

/* stop_taking_mail - no stop has begun */
bool
stop_taking_mail(void)
{
	return atomic_load(&stop_state) == STOP_RUNNING;
}

/* stop_cutting - the deadline has passed */
bool
stop_cutting(void)
{
	return atomic_load(&stop_state) == STOP_CUTTING;
}

/* stop_message_begin - a message began */
void
stop_message_begin(void)
{
	atomic_fetch_add(&stop_in_flight, 1);
}

/* stop_message_end - a message ended */
void
stop_message_end(void)
{
	atomic_fetch_sub(&stop_in_flight, 1);
}

/* stop_milter_thread - libmilter's loop; the wake signal unblocked here only, so
 * that pthread_kill interrupts the listener's poll() */
static void *
stop_milter_thread(void *arg)
{
	sigset_t wake;

	(void)arg;
	sigemptyset(&wake);
	sigaddset(&wake, STOP_WAKE_SIGNAL);
	(void)pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	conns_listener_thread();	/* smfi_main's listener runs in this thread */
	stop_milter_rc = smfi_main();
	atomic_store(&stop_milter_done, true);
	return NULL;
}

/* stop_kicker - wake the listener until smfi_main has returned (it may be between
 * two poll()s when a signal comes) */
static void *
stop_kicker(void *arg)
{
	pthread_t milter = *(pthread_t *)arg;

	while (!atomic_load(&stop_milter_done)) {
		(void)pthread_kill(milter, STOP_WAKE_SIGNAL);
		stop_sleep_ms(STOP_KICK_MS);
	}
	return NULL;
}

/* stop_wait_messages - until no message is in flight or ms have passed; how many
 * are still in flight */
static int
stop_wait_messages(unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += STOP_POLL_MS) {
		if (atomic_load(&stop_in_flight) <= 0)
			return 0;
		stop_sleep_ms(STOP_POLL_MS);
	}
	return atomic_load(&stop_in_flight);
}

/* stop_signal_name - how the log names a stop signal */
static const char *
stop_signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
}

/* stop_drain - no new messages; the ones in flight finish within drain_ms, or are
 * tempfailed at their next step */
static void
stop_drain(int sig, unsigned drain_ms)
{
	int left;

	if (sig == SIGHUP)
		log_msg(LOG_NOTICE, "stopping on SIGHUP (libmilter's convention: SIGHUP "
		    "stops a milter; reload is SIGUSR1)");
	else
		log_msg(LOG_INFO, "stopping on %s: no new messages; %d in flight may "
		    "take up to %u ms", stop_signal_name(sig), atomic_load(&stop_in_flight),
		    drain_ms);
	atomic_store(&stop_state, STOP_DRAINING);
	if ((left = stop_wait_messages(drain_ms)) == 0)
		return;
	log_msg(LOG_WARNING, "%d message%s still in flight after %u ms: tempfail at "
	    "their next step", left, left == 1 ? "" : "s", drain_ms);
	atomic_store(&stop_state, STOP_CUTTING);
	if ((left = stop_wait_messages(STOP_CUT_MS)) > 0)
		log_msg(LOG_WARNING, "stopping with %d message%s in flight (their MTA "
		    "sent nothing more)", left, left == 1 ? "" : "s");
}

/* stop_handlers - the stop signals' and the wake signal's handlers */
static bool
stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = stop_on_wake;
	if (sigaction(STOP_WAKE_SIGNAL, &sa, NULL) != 0)
		return false;
	sa.sa_handler = stop_on_signal;
	return sigaction(SIGTERM, &sa, NULL) == 0 && sigaction(SIGINT, &sa, NULL) == 0 &&
	    sigaction(SIGHUP, &sa, NULL) == 0;
}

/* stop_run - smfi_main in its own thread; the stop signals here */
int
stop_run(unsigned drain_ms)
{
	sigset_t stops;
	pthread_t milter, kicker;

	if (!stop_handlers() || pthread_create(&milter, NULL, stop_milter_thread, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start libmilter's thread: %m");
		return MI_FAILURE;
	}
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	(void)pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
	while (stop_signal == 0 && mi_stop() == 0 && !atomic_load(&stop_milter_done))
		stop_sleep_ms(STOP_POLL_MS);
	if (stop_signal != 0)
		stop_drain(stop_signal, drain_ms);
	else if (mi_stop() != 0 && !atomic_load(&stop_milter_done))
		log_msg(LOG_WARNING, "libmilter took a stop signal itself: messages in "
		    "flight may be cut");
	if (pthread_create(&kicker, NULL, stop_kicker, &milter) != 0) {
		log_msg(LOG_ERR, "cannot start the stop thread: %m");
		return MI_FAILURE;
	}
	(void)smfi_stop();
	(void)pthread_join(milter, NULL);
	(void)pthread_join(kicker, NULL);
	return stop_milter_rc;
}
