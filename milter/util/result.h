/* result - the verdict vocabulary every check shares (RFC 8601 §2.7 result names).
 *
 * Checks return an enum auth_result; only policy.c turns results into an
 * enum action, which the configuration, the log and the metrics spell alike.
 */
#ifndef AUTHMILTER_RESULT_H
#define AUTHMILTER_RESULT_H

enum auth_result {
	AUTH_NONE = 0,		/* nothing to evaluate (no record, no signature) */
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,		/* SPF only */
	AUTH_NEUTRAL,
	AUTH_POLICY,		/* DKIM: valid but refused by local policy */
	AUTH_TEMPERROR,		/* a temporary (DNS) failure: retrying may help */
	AUTH_PERMERROR,		/* broken record or signature: retrying will not help */
	AUTH_SKIPPED		/* check not run (internal client, disabled) */
};

/* auth_result_name - the RFC 8601 spelling: "pass", "temperror", ... */
const char *auth_result_name(enum auth_result r);

/* What a check's result may ask the MTA to do. */
enum action {
	ACTION_NONE = 0,	/* no opinion: the message goes on */
	ACTION_ACCEPT,		/* explicit accept (on_internal_error = accept) */
	ACTION_QUARANTINE,	/* accept into the MTA's hold queue */
	ACTION_TEMPFAIL,	/* 4xx: the sender retries */
	ACTION_REJECT		/* 5xx */
};

/* action_name - how an action is spelt in the config and the log: "reject", ... */
const char *action_name(enum action a);

#endif
