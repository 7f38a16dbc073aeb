/* trace - the steps behind a verdict, for authmilter-check --message.
 *
 * A hook the daemon leaves unset: every TRACE costs one NULL check then. The tool
 * sets it once, before any lookup starts, and gets each step as a short name
 * ("dns", "iprev", "spf", "dkim", "dmarc", "arc", "policy") and one line of text.
 * The text may carry DNS data and message text: the hook masks what it prints.
 */
#ifndef AUTHMILTER_TRACE_H
#define AUTHMILTER_TRACE_H

#include <stdbool.h>

/* trace_fn - receives one step; called on the thread that took the step */
typedef void trace_fn(void *ctx, const char *step, const char *text);

extern trace_fn *trace_hook;	/* NULL: tracing is off (the daemon) */

/* trace_set - install the hook (NULL: off); before any other thread runs */
void	 trace_set(trace_fn *fn, void *ctx);
/* trace_step - format one step and hand it to the hook; use TRACE */
void	 trace_step(const char *step, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* TRACE - one step when tracing is on; its arguments are not evaluated when off */
#define TRACE(step, ...) \
	do { \
		if (trace_hook != NULL) \
			trace_step((step), __VA_ARGS__); \
	} while (0)

#endif
