/* tap.h - the few macros every unit test uses.
 *
 * Each check prints "ok - NAME" or "not ok - NAME (file:line)"; a test program
 * ends with `return tap_done();`, which exits 1 when anything failed. The suite
 * runner counts the lines.
 */
#ifndef AUTHMILTER_TAP_H
#define AUTHMILTER_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_failed;
static int tap_passed;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		tap_passed++;						\
		printf("ok - ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	} else {							\
		tap_failed++;						\
		printf("not ok - ");					\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond);	\
	}								\
	fflush(stdout);							\
} while (0)

/* tap_same_str - both NULL or equal. Not inlined: inlined, GCC (-O2 and the
 * sanitizers) follows the both-NULL branch into CHECK's printf and warns of
 * a NULL "%s" argument for a `want` that is also printed and never NULL. */
static __attribute__((noinline, unused)) int
tap_same_str(const char *g, const char *w)
{
	return (g == NULL && w == NULL) || (g != NULL && w != NULL && strcmp(g, w) == 0);
}

/* CHECK_STR - equal strings, showing both when they differ */
#define CHECK_STR(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = tap_same_str(g_, w_);				\
	CHECK(same_, __VA_ARGS__);					\
	if (!same_)							\
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

static inline int
tap_done(void)
{
	return tap_failed == 0 ? 0 : 1;
}

#endif
