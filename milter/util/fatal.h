/* fatal - the two ways authmilter ends itself, as Postfix's msg_fatal/msg_panic.
 *
 * fatal_exit: start-up, configuration or an exhausted resource; logs and exits
 * (EX_OSERR). fatal_bug: something that cannot happen did (our bug); logs and
 * aborts, for a core. Both log at LOG_CRIT to syslog and to stderr, whatever the
 * log settings, so that neither dies silently. fatal_check turns the result of a
 * call that cannot fail on valid arguments (pthread, clock_gettime) into a
 * fatal_bug naming the call. A peer's bad input never comes here.
 */
#ifndef AUTHMILTER_FATAL_H
#define AUTHMILTER_FATAL_H

_Noreturn void fatal_exit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal_check - rc is a pthread-style result (0, or an errno value) */
void	 fatal_check(int rc, const char *what);

#endif
