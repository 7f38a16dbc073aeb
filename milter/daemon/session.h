/* session - the work of one MTA connection and its messages, without libmilter.
 *
 * callbacks.c hands every milter callback to the matching session_* function and
 * turns what comes back into libmilter calls; the fuzzers drive the same functions
 * without a socket. A session keeps the generation (config, resolver) it started
 * with until it ends.
 */
#ifndef AUTHMILTER_SESSION_H
#define AUTHMILTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "generation.h"
#include "reply.h"

enum step {
	STEP_CONTINUE = 0,	/* go on (at end of message: accept with the edits) */
	STEP_REJECT,		/* refuse with reply */
	STEP_TEMPFAIL,		/* refuse temporarily with reply */
	STEP_SKIP_BODY		/* from session_body: nothing needs more body */
};

enum edit_op { EDIT_INSERT, EDIT_DELETE };

struct header_edit {
	enum edit_op	 op;
	size_t		 index;	/* INSERT: position (0 = top); DELETE: 1-based among
				 * fields of this name, as smfi_chgheader counts */
	char		*name;
	char		*value;	/* INSERT only: as written after the colon (leading
				 * space included), folded with CRLF TAB */
};

struct eom_result {
	enum step	 step;
	struct reply	 reply;
	bool		 quarantine;
	char		 quarantine_reason[300];	/* "authmilter: " + policy text */
	struct header_edit *edits;	/* apply in order */
	size_t		 n_edits;
};

struct session;

/* session_new - NULL when no generation is installed */
struct session *session_new(void);
void	 session_free(struct session *s);
/* session_generation - the generation this session runs on */
const struct generation *session_generation(const struct session *s);

/* sa NULL (or not AF_INET/AF_INET6): a local submission without an address */
enum step session_connect(struct session *s, const char *hostname,
	    const struct sockaddr *sa, struct reply *r);
void	 session_helo(struct session *s, const char *helo);
/* mailfrom as given (angle brackets allowed); auth_authen NULL or "" when not
 * authenticated; queue_id may be NULL or "" (Postfix sets it later) */
enum step session_envfrom(struct session *s, const char *mailfrom,
	    const char *auth_authen, const char *queue_id, struct reply *r);
void	 session_queue_id(struct session *s, const char *queue_id);
void	 session_header(struct session *s, const char *name, const char *value);
/* session_eoh - STEP_SKIP_BODY when the body is not needed */
enum step session_eoh(struct session *s);
enum step session_body(struct session *s, const unsigned char *data, size_t len);
/* session_eom - judge and build the edits; the result is valid until the next
 * message or session_free */
const struct eom_result *session_eom(struct session *s);
/* session_abort - the message ended without end-of-message */
void	 session_abort(struct session *s);

#endif
