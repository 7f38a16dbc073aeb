/* reply - fill the SMTP reply of a refusal (see reply.h). */
#include "config.h"

#include <stdio.h>

#include "reply.h"

/* reply_vset - rcode, xcode and the formatted text */
void
reply_vset(struct reply *r, const char *rcode, const char *xcode, const char *fmt,
    va_list ap)
{
	snprintf(r->rcode, sizeof(r->rcode), "%s", rcode);
	snprintf(r->xcode, sizeof(r->xcode), "%s", xcode);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
}

/* reply_set - rcode, xcode and the formatted text */
void
reply_set(struct reply *r, const char *rcode, const char *xcode, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vset(r, rcode, xcode, fmt, ap);
	va_end(ap);
}
