/* dkim_rotate - the key rotation planner: from the keys of a keys directory,
 * their states and times, what DNS shows of each and the time now, what must
 * change. A pure function: no files, no DNS, no clock; authmilter-keygen
 * --rotate feeds it and applies its plan, the unit test feeds it a fake clock
 * and fake DNS.
 *
 * A key's life: pending (made, its record to be published; never signs) ->
 * active (signs) -> retired (stopped signing; its record stays for mail in
 * queues) -> withdrawn (its record is to leave DNS) -> released (its file
 * leaves the keys directory once DNS no longer shows the record).
 */
#ifndef AUTHMILTER_DKIM_ROTATE_H
#define AUTHMILTER_DKIM_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dkim_key.h"	/* enum dkim_alg */

#define DKIM_ROTATE_SELECTOR_MAX	64	/* bytes of a selector we make, with NUL */
#define DKIM_ROTATE_DOMAIN_MAX		256

enum dkim_rotate_state {
	DKIM_ROTATE_PENDING = 0,
	DKIM_ROTATE_ACTIVE,
	DKIM_ROTATE_RETIRED,
	DKIM_ROTATE_WITHDRAWN
};

enum dkim_rotate_dns {		/* what the key's selector shows in DNS now */
	DKIM_ROTATE_DNS_UNKNOWN = 0,	/* the lookup failed: nothing is known */
	DKIM_ROTATE_DNS_SHOWN,		/* a record carries this key */
	DKIM_ROTATE_DNS_ABSENT		/* no record, or none with this key */
};

/* One key of a rotated domain. Times are seconds since the epoch, 0 for
 * "not yet". */
struct dkim_rotate_key {
	char	 domain[DKIM_ROTATE_DOMAIN_MAX];
	char	 selector[DKIM_ROTATE_SELECTOR_MAX];
	enum dkim_alg alg;
	enum dkim_rotate_state state;
	int64_t	 created;	/* made (or adopted, for a key made by hand) */
	int64_t	 seen;		/* pending: first of the runs in a row that saw it */
	int64_t	 activated;	/* began signing */
	int64_t	 retired;	/* stopped signing */
	int64_t	 withdrawn;	/* its record left the zone */
	enum dkim_rotate_dns dns;	/* input: what DNS shows now */
	/* output */
	bool	 make;		/* new: generate the key file */
	bool	 release;	/* its file leaves the directory, its entry the state */
};

struct dkim_rotate_params {
	bool	 rsa, ed25519;	/* the algorithms kept, one active key each */
	int64_t	 interval;	/* an active key's age when its successor is made */
	int64_t	 publish_wait;	/* a successor's record seen this long before it
				 * signs; a withdrawn record gone this long
				 * before its private half is released */
	int64_t	 retire_after;	/* a replaced key's record stays this long */
};

enum dkim_rotate_ask_what {
	DKIM_ROTATE_ASK_PUBLISH,	/* a record DNS does not show must be there */
	DKIM_ROTATE_ASK_WITHDRAW	/* a record DNS shows must go */
};

struct dkim_rotate_ask {
	size_t	 key;		/* index into the plan's keys */
	enum dkim_rotate_ask_what what;
};

/* A plan: the keys as they are to be (new ones with make set, leaving ones
 * with release set) and what the operator must do in DNS. */
struct dkim_rotate_plan {
	struct dkim_rotate_key *keys;
	size_t	 n;
	struct dkim_rotate_ask *asks;
	size_t	 n_asks;
	bool	 changed;	/* the state differs from the input */
};

/* dkim_rotate_plan - plan the run at now for keys[0..n); out is the caller's
 * (dkim_rotate_plan_free) */
void	 dkim_rotate_plan(const struct dkim_rotate_key *keys, size_t n,
	    const struct dkim_rotate_params *p, int64_t now, struct dkim_rotate_plan *out);
void	 dkim_rotate_plan_free(struct dkim_rotate_plan *plan);

/* dkim_rotate_state_name - "pending", "active", "retired", "withdrawn" */
const char *dkim_rotate_state_name(enum dkim_rotate_state s);
/* dkim_rotate_in_zone - does the key's record belong in DNS? */
bool	 dkim_rotate_in_zone(const struct dkim_rotate_key *k);

#endif
