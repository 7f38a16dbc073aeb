/* check - what authmilter-check's two modes share.
 *
 * check.c: the options, the outbound DNS checklist (-d) and the masked output;
 * check_message.c: the replay of one saved message through the daemon's own
 * session code (--message).
 */
#ifndef AUTHMILTER_CHECK_H
#define AUTHMILTER_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

#define CHECK_EXIT_OK		0
#define CHECK_EXIT_FAIL		1	/* something is wrong in DNS; --message: the
					 * message is quarantined, refused or tempfailed */
#define CHECK_EXIT_ERROR	2	/* could not check: usage, config, DNS, file */

/* What --message replays: the message, and the SMTP session it arrived in. */
struct check_message_opts {
	const char	*conf_path;
	const char	*path;		/* the saved message, "-" for standard input */
	const struct sockaddr *client;	/* --ip */
	const char	*client_name;	/* --client-name, as the MTA names the client */
	const char	*helo;		/* NULL: no HELO */
	const char	*mail_from;	/* NULL: the null sender */
	const char	*auth;		/* NULL: not authenticated */
	bool		 json;
};

/* check_safe_append - text onto out with controls and bad UTF-8 as '?' (json:
 * as JSON string contents, C0 controls, '"' and '\' escaped instead) */
void	 check_safe_append(struct buf *out, const char *text, size_t len, bool json);
/* check_vline - print prefix and the formatted text, masked, as one line */
void	 check_vline(const char *prefix, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* check_line - the same with a format's arguments */
void	 check_line(const char *prefix, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* check_message_run - replay the message; the exit status (CHECK_EXIT_*) */
int	 check_message_run(const struct check_message_opts *o);

#endif
