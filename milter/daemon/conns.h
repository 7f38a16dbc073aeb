/* conns - the MTA's connections to us: counted, capped below the open-files limit,
 * and closed when they stay silent.
 *
 * Every connection holds a descriptor from accept() until libmilter closes it. A
 * thousand clients that connect and say nothing used to exhaust the open-files
 * limit: libmilter's listener then spun on a failing accept() and no other
 * connection, nor /metrics, got through. conns_start sets a ceiling under the limit
 * (the limit less CONNS_FD_RESERVE for DNS sockets, key files, the report database
 * and /metrics): a connection over it is closed as soon as it is accepted, so that
 * accept() never fails for want of a descriptor; a connection over max_sessions
 * gets a tempfail at connect; a connection that sends nothing is closed after
 * session_idle_timeout, a session silent between commands after session_timeout.
 */
#ifndef AUTHMILTER_CONNS_H
#define AUTHMILTER_CONNS_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

struct conf;

/* conns_start - the table for descriptors below nofile (the open-files limit in
 * force), the settings of c, and the thread that closes silent connections; false
 * (and errno) when the thread cannot start */
bool	 conns_start(unsigned long nofile, const struct conf *c);
/* conns_configure - the settings of a reloaded configuration */
void	 conns_configure(const struct conf *c);
/* conns_listener_thread - the calling thread is libmilter's listener: the
 * connections it accepts are ours to count */
void	 conns_listener_thread(void);
/* conns_started - the session of ctx sent its first command (negotiation) */
void	 conns_started(SMFICTX *ctx);
/* conns_touch - the session of ctx sent a command */
void	 conns_touch(SMFICTX *ctx);
/* conns_admitted - false when the session of ctx came in over max_sessions: the
 * caller tempfails it (counted and logged here) */
bool	 conns_admitted(SMFICTX *ctx);
/* conns_closed - the session of ctx ends (libmilter closes its descriptor next) */
void	 conns_closed(SMFICTX *ctx);
/* conns_max_sessions - the cap in force */
unsigned conns_max_sessions(void);

#endif
