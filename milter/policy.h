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
#include "dmarc.h"
#include "iprev.h"
#include "rfc5322.h"
#include "spf.h"

struct decision {
	enum action	 action;	/* what the MTA is told (after dry_run) */
	enum action	 wanted;	/* what policy asked for (before dry_run) */
	char		 rcode[4];	/* "550", "451" when rejecting/tempfailing */
	char		 xcode[8];	/* "5.7.1" */
	char		 text[256];	/* the reply text */
	const char	*by;		/* "dmarc", "spf", "iprev", "from", ... or NULL */
};

/* What policy_message looks at; NULL pointers are checks that did not run. */
struct policy_input {
	const struct iprev_verdict *iprev;
	const struct spf_verdict   *spf_mailfrom;
	const struct spf_verdict   *spf_helo;
	const struct dmarc_verdict *dmarc;
	enum from_status	    from_status;	/* of the one From header */
	unsigned		    from_headers;	/* how many From headers */
	const char		   *from_domain;	/* when from_status is FROM_OK */
};

/* policy_connect - act on iprev now (on_fail/on_temperror), or not */
void	 policy_connect(const struct conf *c, const struct iprev_verdict *v,
	    struct decision *d);
/* policy_message - the action for an inbound message */
void	 policy_message(const struct conf *c, const struct policy_input *in,
	    struct decision *d);

#endif
