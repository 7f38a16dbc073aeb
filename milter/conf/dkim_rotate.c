/* dkim_rotate - the key rotation planner (see dkim_rotate.h).
 *
 *   dkim_rotate_plan        the keys' next states and the DNS asks
 *   dkim_rotate_plan_free   what a plan holds
 *   dkim_rotate_state_name  a state's word in the state file and the output
 *   dkim_rotate_in_zone     does a key's record belong in DNS now
 *
 * The order is the safe one of Debian's dkim-rotate: a key's record is in DNS
 * (seen by our resolver, for publish_wait) before the key signs; the replaced
 * key's record stays retire_after after it stops; the record is withdrawn
 * before the private half is released. Per domain and algorithm, one run moves
 * each key at most one step; the plan's keys are in the input's order with the
 * new keys after them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim_rotate.h"
#include "xalloc.h"

/* dkim_rotate_state_name - the state's word */
const char *
dkim_rotate_state_name(enum dkim_rotate_state s)
{
	switch (s) {
	case DKIM_ROTATE_PENDING: return "pending";
	case DKIM_ROTATE_ACTIVE: return "active";
	case DKIM_ROTATE_RETIRED: return "retired";
	case DKIM_ROTATE_WITHDRAWN: return "withdrawn";
	}
	return "?";
}

/* dkim_rotate_in_zone - pending, active and retired records belong in DNS */
bool
dkim_rotate_in_zone(const struct dkim_rotate_key *k)
{
	return k->state != DKIM_ROTATE_WITHDRAWN && !k->release;
}

/* dkim_rotate_ask - note that the operator must act on key i */
static void
dkim_rotate_ask(struct dkim_rotate_plan *plan, size_t i, enum dkim_rotate_ask_what w)
{
	plan->asks = xreallocarray(plan->asks, plan->n_asks + 1, sizeof(*plan->asks));
	plan->asks[plan->n_asks].key = i;
	plan->asks[plan->n_asks].what = w;
	plan->n_asks++;
}

/* dkim_rotate_selector_used - does domain already have this selector? */
static bool
dkim_rotate_selector_used(const struct dkim_rotate_plan *plan, const char *domain,
    const char *sel)
{
	for (size_t i = 0; i < plan->n; i++)
		if (strcmp(plan->keys[i].domain, domain) == 0 &&
		    strcasecmp(plan->keys[i].selector, sel) == 0)
			return true;
	return false;
}

/* dkim_rotate_selector - a new selector for domain: the algorithm's letter and
 * the UTC date ("r20270315"), with a counter when that is taken; DNS-safe and
 * one label, as the keys directory's file names need */
static void
dkim_rotate_selector(const struct dkim_rotate_plan *plan, const char *domain,
    enum dkim_alg alg, int64_t now, char *out, size_t len)
{
	time_t t = (time_t)now;
	struct tm tm;
	char base[32];

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(base, sizeof(base), "%c%04d%02d%02d",
	    alg == DKIM_ALG_ED25519_SHA256 ? 'e' : 'r', tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	snprintf(out, len, "%s", base);
	for (unsigned n = 2; dkim_rotate_selector_used(plan, domain, out); n++)
		snprintf(out, len, "%sn%u", base, n);
}

/* dkim_rotate_make - append a new pending key of alg for domain */
static void
dkim_rotate_make(struct dkim_rotate_plan *plan, const char *domain, enum dkim_alg alg,
    int64_t now)
{
	struct dkim_rotate_key k = { .alg = alg, .state = DKIM_ROTATE_PENDING,
	    .created = now, .make = true, .dns = DKIM_ROTATE_DNS_ABSENT };

	snprintf(k.domain, sizeof(k.domain), "%s", domain);
	dkim_rotate_selector(plan, domain, alg, now, k.selector, sizeof(k.selector));
	plan->keys = xreallocarray(plan->keys, plan->n + 1, sizeof(*plan->keys));
	plan->keys[plan->n++] = k;
	plan->changed = true;
	dkim_rotate_ask(plan, plan->n - 1, DKIM_ROTATE_ASK_PUBLISH);
}

/* dkim_rotate_step - one key's own step: pending seen or not, retired to
 * withdrawn, withdrawn to released; asks for what DNS lacks or still has */
static void
dkim_rotate_step(struct dkim_rotate_plan *plan, size_t i,
    const struct dkim_rotate_params *p, int64_t now)
{
	struct dkim_rotate_key *k = &plan->keys[i];
	int64_t seen = k->seen;

	switch (k->state) {
	case DKIM_ROTATE_PENDING:
		if (k->dns == DKIM_ROTATE_DNS_SHOWN && k->seen == 0)
			k->seen = now;
		else if (k->dns == DKIM_ROTATE_DNS_ABSENT)
			k->seen = 0;	/* seen, then gone: the wait starts again */
		plan->changed |= k->seen != seen;
		break;
	case DKIM_ROTATE_RETIRED:
		if (now - k->retired >= p->retire_after) {
			k->state = DKIM_ROTATE_WITHDRAWN;
			k->withdrawn = now;
			plan->changed = true;
		}
		break;
	case DKIM_ROTATE_WITHDRAWN:
		if (k->dns == DKIM_ROTATE_DNS_ABSENT && now - k->withdrawn >= p->publish_wait) {
			k->release = true;
			plan->changed = true;
		}
		break;
	case DKIM_ROTATE_ACTIVE:
		break;
	}
	if (dkim_rotate_in_zone(k) && k->dns == DKIM_ROTATE_DNS_ABSENT)
		dkim_rotate_ask(plan, i, DKIM_ROTATE_ASK_PUBLISH);
	else if (k->state == DKIM_ROTATE_WITHDRAWN && k->dns == DKIM_ROTATE_DNS_SHOWN)
		dkim_rotate_ask(plan, i, DKIM_ROTATE_ASK_WITHDRAW);
}

/* dkim_rotate_domain_alg - one domain and algorithm: a successor seen long
 * enough takes over (the old key retires in the same step); an active key past
 * interval, or none at all, gets a successor */
static void
dkim_rotate_domain_alg(struct dkim_rotate_plan *plan, size_t n_in, const char *domain,
    enum dkim_alg alg, const struct dkim_rotate_params *p, int64_t now)
{
	struct dkim_rotate_key *pending = NULL;
	int64_t newest = -1;

	for (size_t i = 0; i < n_in; i++) {
		struct dkim_rotate_key *k = &plan->keys[i];

		if (strcmp(k->domain, domain) != 0 || k->alg != alg)
			continue;
		if (k->state == DKIM_ROTATE_PENDING && pending == NULL)
			pending = k;
	}
	if (pending != NULL && pending->seen != 0 && pending->dns == DKIM_ROTATE_DNS_SHOWN &&
	    now - pending->seen >= p->publish_wait) {
		for (size_t i = 0; i < n_in; i++) {
			struct dkim_rotate_key *k = &plan->keys[i];

			if (strcmp(k->domain, domain) == 0 && k->alg == alg &&
			    k->state == DKIM_ROTATE_ACTIVE) {
				k->state = DKIM_ROTATE_RETIRED;
				k->retired = now;
			}
		}
		pending->state = DKIM_ROTATE_ACTIVE;
		pending->activated = now;
		plan->changed = true;
		return;
	}
	if (pending != NULL)
		return;
	for (size_t i = 0; i < n_in; i++) {
		const struct dkim_rotate_key *k = &plan->keys[i];

		if (strcmp(k->domain, domain) == 0 && k->alg == alg &&
		    k->state == DKIM_ROTATE_ACTIVE && k->activated > newest)
			newest = k->activated;
	}
	if (newest < 0 || now - newest >= p->interval)
		dkim_rotate_make(plan, domain, alg, now);
}

/* dkim_rotate_plan - every key's step, then every domain's successors */
void
dkim_rotate_plan(const struct dkim_rotate_key *keys, size_t n,
    const struct dkim_rotate_params *p, int64_t now, struct dkim_rotate_plan *out)
{
	size_t n_in = n;

	memset(out, 0, sizeof(*out));
	out->keys = xcalloc(n ? n : 1, sizeof(*out->keys));
	if (n > 0)
		memcpy(out->keys, keys, n * sizeof(*keys));
	out->n = n;
	for (size_t i = 0; i < n_in; i++) {
		out->keys[i].make = out->keys[i].release = false;
		dkim_rotate_step(out, i, p, now);
	}
	for (size_t i = 0; i < n_in; i++) {
		char domain[DKIM_ROTATE_DOMAIN_MAX];
		bool first = true;

		/* each domain once: at its first key */
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(out->keys[j].domain, out->keys[i].domain) != 0;
		if (!first)
			continue;
		/* a copy: making a key moves out->keys */
		memcpy(domain, out->keys[i].domain, sizeof(domain));
		if (p->rsa)
			dkim_rotate_domain_alg(out, n_in, domain, DKIM_ALG_RSA_SHA256, p, now);
		if (p->ed25519)
			dkim_rotate_domain_alg(out, n_in, domain, DKIM_ALG_ED25519_SHA256, p,
			    now);
	}
}

/* dkim_rotate_plan_free - the plan's arrays */
void
dkim_rotate_plan_free(struct dkim_rotate_plan *plan)
{
	free(plan->keys);
	free(plan->asks);
	memset(plan, 0, sizeof(*plan));
}
