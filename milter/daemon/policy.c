/* policy - results to one action.
 *
 * policy_connect: iprev at connect. policy_message: the whole inbound message.
 *
 * Precedence (strongest wins; among equals, the first in this list names the cause):
 *   1. From unusable: several From headers or domains (dmarc.multiple_from), none
 *      or no domain (dmarc.missing_from) - without one From domain DMARC cannot
 *      protect anybody, and OpenDMARC's CVE-2019-16378 came from guessing.
 *   2. DMARC fail whose disposition is reject (dmarc.on_reject).
 *   3. SPF fail / softfail / permerror (spf.on_*), unless the message passes DMARC
 *      through aligned DKIM: forwarded mail breaks SPF but keeps its signature.
 *   4. Temporary failures: DMARC record lookup, or an aligned DKIM key or SPF
 *      lookup that failed temporarily when nothing else passed (dmarc.on_temperror;
 *      SPF's permanent verdicts are then not applied either: the retry may pass
 *      DMARC), SPF (spf.on_temperror, again not when DMARC passed). Tempfail
 *      outranks accept: a DNS outage must not let through what policy would
 *      refuse, nor refuse for good what it would accept.
 *   5. DMARC fail with disposition quarantine (dmarc.on_quarantine).
 * A DMARC fail with disposition reject or quarantine is overridden (neither it
 * nor SPF is applied, override_reason "trusted_forwarder") when the ARC chain
 * passes and an instance whose ARC-Authentication-Results recorded a pass for
 * the From domain was sealed by one of arc.trusted_sealers (RFC 9989 §7.4's
 * "other knowledge"), that instance and every newer one were sealed by trusted
 * sealers, and its ARC-Message-Signature verifies over this message (instance at
 * or above oldest-pass): a set copied from another message under an untrusted
 * hop's seal vouches for nothing.
 * The action strength is reject > tempfail > quarantine > none, so a DMARC reject
 * outranks an SPF temperror, and a tempfail outranks a quarantine.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "trace.h"

/* an SPF explanation goes into the reply text whole */
_Static_assert(sizeof("SPF fail: ") + SPF_MACRO_MAX_EXP <=
    sizeof(((struct decision *)0)->reply.text), "reply text too small for SPF_MACRO_MAX_EXP");

/* policy_rank - strength of an action, for "strongest wins" */
static int
policy_rank(enum action a)
{
	switch (a) {
	case ACTION_REJECT:	return 4;
	case ACTION_TEMPFAIL:	return 3;
	case ACTION_QUARANTINE:	return 2;
	case ACTION_ACCEPT:	return 1;
	case ACTION_NONE:	return 0;
	}
	return 0;
}

/* policy_offer - propose an action; keep it if it is stronger than the current one */
static void __attribute__((format(printf, 5, 6)))
policy_offer(struct decision *d, enum action a, const char *by, const char *xcode_tail,
    const char *fmt, ...)
{
	va_list ap;
	char xcode[8];

	if (policy_rank(a) <= policy_rank(d->wanted)) {
		TRACE("policy", "%s asks %s: %s", by, action_name(a), a == ACTION_NONE ?
		    "its on_* setting is none" : "a stronger action is chosen already");
		return;
	}
	d->wanted = a;
	d->by = by;
	snprintf(xcode, sizeof(xcode), "%s.7.%s", a == ACTION_TEMPFAIL ? "4" : "5",
	    xcode_tail);
	va_start(ap, fmt);
	if (a == ACTION_REJECT || a == ACTION_TEMPFAIL)
		reply_vset(&d->reply, a == ACTION_REJECT ? "550" : "451", xcode, fmt, ap);
	else
		reply_vset(&d->reply, "", "", fmt, ap);
	va_end(ap);
	TRACE("policy", "%s asks %s: %s", by, action_name(a), d->reply.text);
}

/* policy_finish - dry_run turns refusals into accepts; the wanted action stays */
static void
policy_finish(const struct conf *c, struct decision *d)
{
	d->action = d->wanted;
	if (c->dry_run && d->wanted != ACTION_NONE && d->wanted != ACTION_ACCEPT)
		d->action = ACTION_NONE;
	TRACE("policy", "decision: %s by=%s%s", action_name(d->wanted == ACTION_NONE ?
	    ACTION_ACCEPT : d->wanted), d->by != NULL ? d->by : "none (nothing asked "
	    "for an action)", d->action != d->wanted ? " (dry_run: accepted)" : "");
}

/* policy_connect - iprev is the only thing known at connect */
void
policy_connect(const struct conf *c, const struct iprev_verdict *v, struct decision *d)
{
	memset(d, 0, sizeof(*d));
	if (v != NULL && v->result == AUTH_FAIL && c->iprev.on_fail != ACTION_NONE)
		policy_offer(d, c->iprev.on_fail, "iprev", "25",
		    "reverse DNS of %s does not confirm: %s", v->addr, v->reason);
	if (v != NULL && v->result == AUTH_TEMPERROR && c->iprev.on_temperror != ACTION_NONE)
		policy_offer(d, c->iprev.on_temperror, "iprev", "25",
		    "cannot check reverse DNS of %s now: %s", v->addr, v->reason);
	policy_finish(c, d);
}

/* policy_spf - the SPF part: on_* for the MAIL FROM verdict, and the HELO verdict
 * when MAIL FROM had nothing to say (RFC 7208 §2.3) */
static void
policy_spf(const struct conf *c, const struct spf_verdict *v, struct decision *d)
{
	if (v == NULL)
		return;
	switch (v->result) {
	case AUTH_FAIL:
		/* the domain's own exp= text when it gave one (RFC 7208 §6.2):
		 * printable ASCII, at most SPF_MACRO_MAX_EXP bytes, so it fits */
		if (v->explanation[0] != '\0')
			policy_offer(d, c->spf.on_fail, "spf", "23", "SPF fail: %s",
			    v->explanation);
		else
			policy_offer(d, c->spf.on_fail, "spf", "23",
			    "SPF fail: %s does not permit this host to send its mail",
			    v->domain);
		break;
	case AUTH_SOFTFAIL:
		policy_offer(d, c->spf.on_softfail, "spf", "23",
		    "SPF softfail: %s probably does not permit this host to send "
		    "its mail", v->domain);
		break;
	case AUTH_PERMERROR:
		policy_offer(d, c->spf.on_permerror, "spf", "24",
		    "SPF: the record of %s is broken", v->domain);
		break;
	case AUTH_TEMPERROR:
		policy_offer(d, c->spf.on_temperror == ACTION_TEMPFAIL ? ACTION_TEMPFAIL :
		    ACTION_NONE, "spf", "24", "SPF: cannot check %s now, try again later",
		    v->domain);
		break;
	default:
		break;
	}
}

/* policy_sealer_trusted - is domain one of arc.trusted_sealers */
static bool
policy_sealer_trusted(const struct conf *c, const char *domain)
{
	for (size_t i = 0; i < c->arc.n_trusted_sealers; i++)
		if (strcasecmp(domain, c->arc.trusted_sealers[i]) == 0)
			return true;
	return false;
}

/* policy_arc_sealer - the trusted sealer whose passing ARC chain vouches for the
 * From domain, or NULL. Only the unbroken run of trusted sealers counted down
 * from the newest set counts: an untrusted hop could have copied any older set
 * onto a message of its own (its seal covers the copy, RFC 8617 §5.1.1), so
 * nothing below it is trusted. And only instances at or above oldest-pass, whose
 * own AMS still verifies over this message: a set below it signed another one. */
static const char *
policy_arc_sealer(const struct conf *c, const struct verdict *v)
{
	const struct arc_verdict *a = v->arc;

	if (a == NULL || a->result != AUTH_PASS)
		return NULL;
	for (unsigned k = a->n_sets; k-- > 0;) {
		if (!policy_sealer_trusted(c, a->info[k].sealer))
			return NULL;
		if (a->oldest_pass != 0 && k + 1 < a->oldest_pass)
			return NULL;
		if (a->info[k].vouch != NULL)
			return a->info[k].sealer;
	}
	return NULL;
}

/* policy_message - one action for an inbound message */
void
policy_message(const struct conf *c, const struct verdict *v, struct decision *d)
{
	const struct dmarc_verdict *dm = v->dmarc;
	/* forwarded mail breaks SPF but keeps its DKIM signature: a DMARC pass (which
	 * then comes through aligned DKIM) outweighs any SPF verdict */
	bool dmarc_pass = dm != NULL && dm->result == AUTH_PASS;
	/* and a DMARC that may pass once DNS answers must not be overruled by a
	 * permanent SPF verdict: the message is tempfailed (dmarc.on_temperror) */
	bool dmarc_temp = dm != NULL && dm->result == AUTH_TEMPERROR;
	/* a DMARC failure that would act, vouched for by a trusted ARC sealer */
	const char *sealer = dm != NULL && dm->result == AUTH_FAIL &&
	    (dm->disposition == DMARC_POLICY_REJECT ||
	    dm->disposition == DMARC_POLICY_QUARANTINE) ? policy_arc_sealer(c, v) : NULL;

	memset(d, 0, sizeof(*d));
	if (sealer != NULL) {
		TRACE("policy", "DMARC fail overridden: the passing ARC chain has a set by "
		    "the trusted sealer %s vouching for %s (trusted_forwarder)", sealer,
		    dm->from_domain);
		d->override_reason = "trusted_forwarder";
		d->override_sealer = sealer;
		dmarc_pass = true;	/* SPF is not applied either: the list broke it */
	}
	if (c->dmarc.enable) {
		if (v->from_headers > 1 || v->from_status == FROM_MULTIPLE_DOMAINS)
			policy_offer(d, c->dmarc.multiple_from, "from", "1",
			    "message has %s; exactly one author domain is required",
			    v->from_headers > 1 ? "several From headers" :
			    "a From header with several domains");
		else if (v->from_headers == 0)
			policy_offer(d, c->dmarc.missing_from, "from", "1",
			    "message has no From header");
		else if (v->from_status != FROM_OK)
			policy_offer(d, c->dmarc.missing_from, "from", "1",
			    "From header has no usable address: %s",
			    rfc5322_from_status_name(v->from_status));
	}
	if (dm != NULL && dm->result == AUTH_FAIL && sealer == NULL) {
		if (dm->disposition == DMARC_POLICY_REJECT)
			policy_offer(d, c->dmarc.on_reject, "dmarc", "1",
			    "rejected by the DMARC policy of %s", dm->from_domain);
	}
	/* offered before SPF: among equal actions the first offer names the cause,
	 * and a DMARC temperror is the one the precedence list puts first */
	if (dm != NULL && dm->result == AUTH_TEMPERROR)
		policy_offer(d, c->dmarc.on_temperror, "dmarc", "1",
		    "cannot check the DMARC policy of %s now, try again later",
		    dm->from_domain);
	if (!dmarc_pass && !dmarc_temp) {
		policy_spf(c, v->spf_mailfrom, d);
		if (v->spf_mailfrom == NULL || v->spf_mailfrom->result == AUTH_NONE ||
		    v->spf_mailfrom->result == AUTH_SKIPPED)
			policy_spf(c, v->spf_helo, d);
	}
	if (dm != NULL && dm->result == AUTH_FAIL && sealer == NULL &&
	    dm->disposition == DMARC_POLICY_QUARANTINE)
		policy_offer(d, c->dmarc.on_quarantine, "dmarc", "1",
		    "quarantined by the DMARC policy of %s", dm->from_domain);
	policy_finish(c, d);
}
