/* xalloc - allocation that never returns NULL.
 *
 * Out of memory is a start-up-tier error for a mail filter: the daemon logs it and
 * exits so that the MTA applies its milter_default_action and systemd restarts us.
 */
#ifndef AUTHMILTER_XALLOC_H
#define AUTHMILTER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray - grow an array, checking count * size for overflow */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
