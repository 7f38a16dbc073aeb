/* reply - the SMTP reply for a refusal: one type for policy, the session and
 * callbacks.c, which hands it to libmilter.
 *
 * reply_set fills all three parts at once; text is cut to fit (it is our own
 * wording around values already made safe, never re-read).
 */
#ifndef AUTHMILTER_REPLY_H
#define AUTHMILTER_REPLY_H

#include <stdarg.h>

struct reply {
	char	 rcode[4];	/* "550", "" when there is nothing to say */
	char	 xcode[8];	/* "5.7.1" */
	char	 text[256];
};

/* reply_set - "rcode xcode text", text from a printf format */
void	 reply_set(struct reply *r, const char *rcode, const char *xcode,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* reply_vset - reply_set with a va_list */
void	 reply_vset(struct reply *r, const char *rcode, const char *xcode,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif
