/* policy - the one place where verdicts become an action.
 *
 * policy_connect judges iprev when the client connects; policy_message judges a
 * whole inbound message at end of message. Both fill a struct decision with the
 * action, the SMTP reply and which check decided. The precedence is in policy.c
 * and in README.md ("One policy").
 */
#ifndef AUTHMILTER_POLICY_H
#define AUTHMILTER_POLICY_H

#include <stdbool.h>

#include "conf.h"
#include "iprev.h"
#include "reply.h"
#include "verdict.h"

struct decision {
	enum action	 action;	/* what the MTA is told (after dry_run) */
	enum action	 wanted;	/* what policy asked for (before dry_run) */
	struct reply	 reply;		/* 550/451 when refusing; the text also names
					 * the cause of a quarantine */
	const char	*by;		/* "dmarc", "spf", "iprev", "from", ... or NULL */
	const char	*override_reason;	/* "trusted_forwarder": a DMARC failure
					 * was overridden by a trusted ARC sealer */
	const char	*override_sealer;	/* that sealer's d= (in the verdict) */
};

/* policy_connect - act on iprev now (on_fail/on_temperror), or not */
void	 policy_connect(const struct conf *c, const struct iprev_verdict *v,
	    struct decision *d);
/* policy_message - the action for an inbound message's verdict record */
void	 policy_message(const struct conf *c, const struct verdict *v, struct decision *d);

#endif
