/* result - names of the shared verdict values.
 *
 * auth_result_name: enum to its RFC 8601 spelling (static storage).
 * action_name: an action as the configuration and the log spell it.
 */
#include "config.h"

#include "result.h"

/* auth_result_name - RFC 8601 result keyword */
const char *
auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_NONE:		return "none";
	case AUTH_PASS:		return "pass";
	case AUTH_FAIL:		return "fail";
	case AUTH_SOFTFAIL:	return "softfail";
	case AUTH_NEUTRAL:	return "neutral";
	case AUTH_POLICY:	return "policy";
	case AUTH_TEMPERROR:	return "temperror";
	case AUTH_PERMERROR:	return "permerror";
	case AUTH_SKIPPED:	return "skipped";
	}
	return "none";
}

/* action_name - how an action is spelt in the config and the log */
const char *
action_name(enum action a)
{
	switch (a) {
	case ACTION_NONE:	return "none";
	case ACTION_ACCEPT:	return "accept";
	case ACTION_QUARANTINE:	return "quarantine";
	case ACTION_TEMPFAIL:	return "tempfail";
	case ACTION_REJECT:	return "reject";
	}
	return "none";
}
