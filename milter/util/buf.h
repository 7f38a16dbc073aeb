/* buf - a growable byte buffer that is always NUL-terminated.
 *
 * The one way this project builds strings: no strcpy/strcat/sprintf. A struct buf
 * initialised with BUF_INIT is empty and owns nothing until the first append.
 */
#ifndef AUTHMILTER_BUF_H
#define AUTHMILTER_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated once anything was appended */
	size_t	 len;		/* bytes in use, not counting the NUL */
	size_t	 cap;		/* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_append(struct buf *b, const void *data, size_t len);
void	 buf_puts(struct buf *b, const char *s);
void	 buf_putc(struct buf *b, int c);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	     __attribute__((format(printf, 2, 0)));
void	 buf_reset(struct buf *b);
void	 buf_free(struct buf *b);
/* buf_cstr - the contents as a C string, "" when nothing was appended */
const char *buf_cstr(const struct buf *b);
/* buf_steal - hand the allocation (never NULL) to the caller, leave b empty */
char	*buf_steal(struct buf *b);

#endif
