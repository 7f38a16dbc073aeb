/* log - syslog output, optionally mirrored to stderr (log.stderr, for tests).
 *
 * log_configure is called at start-up and on every reload; log_msg is safe from
 * any thread.
 */
#ifndef AUTHMILTER_LOG_H
#define AUTHMILTER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

struct buf;

/* log_open - open syslog as "authmilter" before any config is known */
void	 log_open(void);
/* log_configure - syslog facility (LOG_MAIL, ...), the least urgent level logged
 * (LOG_INFO, ...), and whether every line is mirrored to stderr */
void	 log_configure(int facility, int level, bool to_stderr);
/* log_safe - copy untrusted text for a log line into out (always terminated):
 * printable ASCII other than space and '=' kept, everything else '?', so that a
 * peer's value cannot forge another "key=value" field */
void	 log_safe(const char *in, char *out, size_t outlen);
/* log_safe_append - the same for a value of any length, appended to line whole
 * (a login or address is never cut: a cut value could read as another one) */
void	 log_safe_append(struct buf *line, const char *in);
/* log_hook_fn - takes every line instead of syslog and stderr (see log_set_hook) */
typedef void log_hook_fn(void *ctx, int prio, const char *line);
/* log_set_hook - hand every line, whatever its level, to fn instead of syslog
 * (authmilter-check --message shows the daemon's lines this way); NULL: syslog
 * again. Set before other threads run. */
void	 log_set_hook(log_hook_fn *fn, void *ctx);
/* log_msg - one line at priority prio (LOG_ERR, LOG_INFO, ...) */
void	 log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
