/* stop - a prompt and clean stop on SIGTERM/SIGINT.
 *
 * libmilter's own signal thread takes the stop signal, but its listener sleeps in
 * select() for up to 5 s while holding the lock that closing the socket needs, so an
 * idle daemon took 3-8 s to exit; and smfi_main returns without waiting for the
 * connections still in flight. stop_watch_start wakes the listener as soon as a
 * stop is asked for; stop_wait_sessions, after smfi_main, lets the messages in
 * flight finish (each gets its reply) for at most a deadline.
 */
#ifndef AUTHMILTER_STOP_H
#define AUTHMILTER_STOP_H

#include <stdbool.h>

struct sockspec;
/* stop_watch_start - watch for a stop request and then wake the listener on
 * the socket sp (copied: the caller may free it) */
bool	 stop_watch_start(const struct sockspec *sp);
/* stop_session_begin/end - a connection from the MTA opened / closed */
void	 stop_session_begin(void);
void	 stop_session_end(void);
/* stop_wait_sessions - wait until no connection is open, at most timeout_ms;
 * returns how many were still open */
int	 stop_wait_sessions(unsigned timeout_ms);

#endif
