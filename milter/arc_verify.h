/* arc_verify - RFC 8617 §5.2: validate the ARC chain of one inbound message. */
#ifndef AUTHMILTER_ARC_VERIFY_H
#define AUTHMILTER_ARC_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "header.h"
#include "result.h"
#define ARC_MAX_INSTANCES	50	/* RFC 8617 §4.2.1: i= 1..50 */
/* the header_list indexes of one ARC set, instance i = position + 1 */
struct arc_set_fields { size_t aar, ams, as; };
struct arc_verdict {
	enum auth_result result;	/* AUTH_NONE (no ARC fields), AUTH_PASS, AUTH_FAIL
					 * (and AUTH_TEMPERROR when a key lookup failed
					 * temporarily, rendered by RFC 8601 rules) */
	unsigned	 n_sets;	/* instances in a structurally valid chain, else 0 */
	struct arc_set_fields sets[ARC_MAX_INSTANCES];	/* [0 .. n_sets) */
	unsigned	 oldest_pass;	/* header.oldest-pass; 0 when every AMS passed */
	char		 sealer[256];	/* d= of the newest ARC-Seal, "" when none */
	char		 reason[128];	/* short, safe for a header comment */
};
#endif
