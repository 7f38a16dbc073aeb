/* fatal - fatal_exit, fatal_bug, fatal_check (see fatal.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>

#include "fatal.h"

/* fatal_log - LOG_CRIT to syslog and to stderr */
static void
fatal_log(const char *what, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	syslog(LOG_CRIT, "%s%s", what, line);
	fprintf(stderr, "authmilter: %s%s\n", what, line);
	fflush(stderr);
}

/* fatal_exit - log and exit: start-up, configuration, resources */
void
fatal_exit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal_log("fatal: ", fmt, ap);
	va_end(ap);
	exit(EX_OSERR);
}

/* fatal_bug - log and abort: what cannot happen did */
void
fatal_bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal_log("bug: ", fmt, ap);
	va_end(ap);
	abort();
}

/* fatal_check - a call that cannot fail on valid arguments did */
void
fatal_check(int rc, const char *what)
{
	if (rc != 0)
		fatal_bug("%s: %s", what, strerror(rc));
}
