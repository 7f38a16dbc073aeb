/* xalloc - allocation that never returns NULL.
 *
 * xmalloc, xcalloc, xrealloc, xreallocarray, xstrdup, xstrndup: as their libc
 * namesakes, but an allocation failure logs and exits the process (EX_OSERR).
 * The caller owns and frees what they return.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "xalloc.h"

/* xalloc_die - the one exit for exhausted memory */
static void
xalloc_die(size_t size)
{
	fatal_exit("out of memory allocating %zu bytes", size);
}

/* xmalloc - malloc or exit */
void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		xalloc_die(size);
	return p;
}

/* xcalloc - calloc or exit */
void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		xalloc_die(count * size);
	return p;
}

/* xrealloc - realloc or exit */
void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		xalloc_die(size);
	return p;
}

/* xreallocarray - realloc of count * size, refusing overflow */
void *
xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		xalloc_die(SIZE_MAX);
	return xrealloc(ptr, count * size);
}

/* xstrdup - strdup or exit */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most n bytes of s, NUL-terminated */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
