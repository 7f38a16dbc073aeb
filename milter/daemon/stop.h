/* stop - a stop that lets every message in flight get its reply, promptly.
 *
 * libmilter's own stop (its signal thread taking SIGTERM) ends its worker pool at
 * once: sessions still open can no longer move and the MTA loses them mid-message;
 * and its listener sleeps in poll() for up to 5 s before it closes the socket.
 * stop_run runs libmilter in a thread of its own and takes SIGTERM, SIGINT and SIGHUP
 * itself: it stops taking new messages (new connections and MAIL FROM get a
 * tempfail), lets the messages in flight finish within a deadline, tempfails those
 * still open after it at their next step, and only then stops libmilter, waking its
 * listener with a signal (no connection to our own socket, which the daemon's user
 * may not be able to reach).
 */
#ifndef AUTHMILTER_STOP_H
#define AUTHMILTER_STOP_H

#include <signal.h>
#include <stdbool.h>

/* stop_run - smfi_main until a stop signal, then the stop described above; drain_ms:
 * how long the messages in flight may take. Returns smfi_main's MI_SUCCESS or
 * MI_FAILURE. The caller blocks SIGTERM, SIGINT, SIGHUP and STOP_WAKE_SIGNAL in
 * every thread before any is created (stop_block_set adds them to a set). */
int	 stop_run(unsigned drain_ms);
/* stop_block_set - add the signals stop_run takes to set */
void	 stop_block_set(sigset_t *set);
/* stop_taking_mail - false once a stop has begun: new connections and messages
 * get a tempfail */
bool	 stop_taking_mail(void);
/* stop_cutting - true once the deadline has passed: the messages still in flight
 * get a tempfail at their next step */
bool	 stop_cutting(void);
/* stop_message_begin/end - a message (MAIL FROM answered "continue") began / got
 * its final answer or was aborted */
void	 stop_message_begin(void);
void	 stop_message_end(void);

#endif
