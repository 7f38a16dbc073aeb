/* fuzz_util - small helpers the harnesses share: a cursor over the input that
 * hands out NUL-terminated pieces, and the header-folding check.
 *
 * Header-only (static functions): each harness is one translation unit.
 */
#ifndef AUTHMILTER_FUZZ_UTIL_H
#define AUTHMILTER_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
	const uint8_t	*p;
	size_t		 n;	/* bytes left */
};

/* fz_byte - the next byte, 0 when the input is used up */
static inline unsigned
fz_byte(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

/* fz_line - the bytes up to the next '\n' (not included) into out, NUL-terminated
 * and cut to outlen - 1; returns the length copied */
static inline size_t
fz_line(struct fz *f, char *out, size_t outlen)
{
	const uint8_t *nl = memchr(f->p, '\n', f->n);
	size_t len = nl ? (size_t)(nl - f->p) : f->n, c = len < outlen - 1 ? len : outlen - 1;

	memcpy(out, f->p, c);
	out[c] = '\0';
	f->p += len + (nl != NULL);
	f->n -= len + (nl != NULL);
	return c;
}

/* fz_fail - a broken invariant: say which and abort so libFuzzer keeps the input */
static inline void
fz_fail(const char *what, const char *s)
{
	fprintf(stderr, "fuzz: invariant broken: %s: \"%s\"\n", what, s ? s : "(null)");
	abort();
}

/* fz_check_folds - a header value we built carries CR and LF only as the fold
 * "\r\n" followed by a tab or space, and no NUL before its end */
static inline void
fz_check_folds(const char *what, const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\r') {
			if (p[1] != '\n' || (p[2] != '\t' && p[2] != ' '))
				fz_fail(what, v);
			p++;
		} else if (*p == '\n') {
			fz_fail(what, v);
		}
	}
}

#endif
