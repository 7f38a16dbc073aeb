/* verdict - every verdict of one inbound message, in one record.
 *
 * session.c fills it at end of message from the checks (which keep owning what
 * the pointers point at); four renderers read it: verdict_log (the fields of the
 * log line), verdict_count (the verdict counters of metrics.h), authres_render
 * (our Authentication-Results value) and policy_message (the action). A new check
 * adds a field here and a line to each renderer, nothing else.
 */
#ifndef AUTHMILTER_VERDICT_H
#define AUTHMILTER_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "arc_verify.h"
#include "buf.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "iprev.h"
#include "rfc5322.h"
#include "spf.h"

struct verdict {
	const char	*helo;		/* as the client gave it; NULL when none */
	const struct iprev_verdict *iprev;	/* NULL: not checked */
	const struct spf_verdict *spf_mailfrom;	/* NULL: not checked */
	const struct spf_verdict *spf_helo;	/* NULL or SKIPPED: not checked */
	bool		 dkim_checked;	/* verification ran: no signature is dkim=none */
	const struct dkim_verdict *dkim;	/* n_dkim of them, in header order */
	size_t		 n_dkim;
	size_t		 dkim_ignored;	/* signatures beyond dkim.max_signatures */
	bool		 dmarc_checked;	/* DMARC is enabled */
	const char	*dmarc_discovery;	/* "treewalk" or "psl" */
	const struct dmarc_verdict *dmarc;	/* NULL: not evaluated (see from_*) */
	unsigned	 from_headers;	/* every From counted, past the caps too */
	enum from_status from_status;	/* of the first From */
	const char	*from_domain;	/* when from_status is FROM_OK */
	bool		 headers_truncated;	/* fields past the caps were not stored */
	const struct arc_verdict *arc; /* NULL: not checked */
	const char	*remote_ip;	/* client address (A-R smtp.remote-ip); NULL: none */
	/* set from the policy decision, after it: why a refusal was overridden */
	const char	*override_reason;	/* "trusted_forwarder" or NULL */
	const char	*override_sealer;	/* the trusted ARC sealer, or NULL */
};

/* verdict_log - append the verdict fields of the log line (" helo=... iprev=...")
 * to line; every value from a peer passes log_safe */
void	 verdict_log(const struct verdict *v, struct buf *line);
/* verdict_count - count every verdict of the record in the metrics (inbound) */
void	 verdict_count(const struct verdict *v);

#endif
