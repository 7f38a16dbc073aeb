/* log - syslog output with an optional stderr mirror.
 *
 * log_open, log_configure, log_msg; log_safe for peers' text in a line;
 * log_set_hook for a tool that wants the lines itself. The
 * settings are atomics, so a reload on one thread and logging on others need no
 * lock.
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

#include "buf.h"
#include "log.h"

static atomic_int log_level = LOG_INFO;
static atomic_bool log_stderr = false;
static log_hook_fn *log_hook;	/* set once by a tool before its threads start */
static void *log_hook_ctx;

/* log_set_hook - every line to fn instead of syslog and stderr */
void
log_set_hook(log_hook_fn *fn, void *ctx)
{
	log_hook_ctx = ctx;
	log_hook = fn;
}

/* log_open - before the config: LOG_MAIL, and stderr while starting */
void
log_open(void)
{
	openlog("authmilter", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_configure - apply the log section's values */
void
log_configure(int facility, int level, bool to_stderr)
{
	closelog();
	openlog("authmilter", LOG_PID | LOG_NDELAY, facility);
	atomic_store(&log_level, level);
	atomic_store(&log_stderr, to_stderr);
}

/* log_safe_char - one byte of untrusted text as a log field shows it */
static char
log_safe_char(unsigned char c)
{
	return (c > 0x20 && c < 0x7f && c != '=') ? (char)c : '?';
}

/* log_safe - untrusted text made safe for a "key=value" log field */
void
log_safe(const char *in, char *out, size_t outlen)
{
	size_t i = 0;

	if (outlen == 0)
		return;
	for (; *in != '\0' && i + 1 < outlen; in++)
		out[i++] = log_safe_char((unsigned char)*in);
	out[i] = '\0';
}

/* log_safe_append - all of untrusted text, made safe as log_safe does, onto line */
void
log_safe_append(struct buf *line, const char *in)
{
	for (; *in != '\0'; in++)
		buf_putc(line, log_safe_char((unsigned char)*in));
}

/* log_msg - syslog one line; with log.stderr also print it, whole, to stderr */
void
log_msg(int prio, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (log_hook == NULL && prio > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_hook != NULL) {
		log_hook(log_hook_ctx, prio, line);
		return;
	}
	syslog(prio, "%s", line);
	if (atomic_load(&log_stderr)) {
		/* one fprintf per line: stdio locks the stream, lines do not interleave */
		fprintf(stderr, "authmilter: %s\n", line);
		fflush(stderr);
	}
}
