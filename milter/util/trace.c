/* trace - the hook that authmilter-check --message sets to see each step.
 *
 * trace_set installs it; trace_step formats a line and calls it. Off (NULL) in
 * the daemon, where TRACE is a NULL check and nothing more.
 */
#include "config.h"

#include <stdarg.h>

#include "buf.h"
#include "trace.h"

trace_fn *trace_hook;
static void *trace_ctx;

/* trace_set - install the hook and its context */
void
trace_set(trace_fn *fn, void *ctx)
{
	trace_ctx = ctx;
	trace_hook = fn;
}

/* trace_step - one formatted step to the hook */
void
trace_step(const char *step, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	va_list ap;

	if (trace_hook == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	trace_hook(trace_ctx, step, buf_cstr(&text));
	buf_free(&text);
}
