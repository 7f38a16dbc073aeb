/* test_dkim_rotate - the key rotation planner with a fake clock and fake DNS:
 * single steps with their exact outcome, then a year walked day by day against
 * a DNS that publishes what the plan asks (or withholds it), checking the safe
 * order at every step. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_rotate.h"
#include "dkim_rotate_state.h"
#include "tap.h"

#define DAY	86400
#define T0	1800000000	/* 2027-01-15 */

static const struct dkim_rotate_params params = { .rsa = true, .ed25519 = true,
	.interval = 90 * DAY, .publish_wait = 2 * DAY, .retire_after = 7 * DAY };
static const struct dkim_rotate_params rsa_only = { .rsa = true,
	.interval = 90 * DAY, .publish_wait = 2 * DAY, .retire_after = 7 * DAY };

/* key - a key of example.com */
static struct dkim_rotate_key
key(const char *sel, enum dkim_alg alg, enum dkim_rotate_state st, int64_t activated,
    enum dkim_rotate_dns dns)
{
	struct dkim_rotate_key k = { .alg = alg, .state = st, .created = activated,
	    .activated = activated, .dns = dns };

	snprintf(k.domain, sizeof(k.domain), "example.com");
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	return k;
}

/* test_steps - one run from a given state: what it makes and asks */
static void
test_steps(void)
{
	struct dkim_rotate_key k[3];
	struct dkim_rotate_plan p;

	/* both algorithms kept, a domain with an rsa key only: an ed25519 key */
	k[0] = key("r", DKIM_ALG_RSA_SHA256, DKIM_ROTATE_ACTIVE, T0, DKIM_ROTATE_DNS_SHOWN);
	dkim_rotate_plan(k, 1, &params, T0, &p);
	CHECK(p.n == 2 && p.keys[1].alg == DKIM_ALG_ED25519_SHA256 && p.keys[1].make &&
	    strcmp(p.keys[1].selector, "e20270115") == 0, "missing algorithm: made");
	dkim_rotate_plan_free(&p);

	/* a young active key of each algorithm: nothing to do */
	k[0] = key("r", DKIM_ALG_RSA_SHA256, DKIM_ROTATE_ACTIVE, T0, DKIM_ROTATE_DNS_SHOWN);
	k[1] = key("e", DKIM_ALG_ED25519_SHA256, DKIM_ROTATE_ACTIVE, T0,
	    DKIM_ROTATE_DNS_SHOWN);
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 89 * DAY, &p);
	CHECK(p.n == 2 && !p.changed && p.n_asks == 0, "young keys: nothing to do");
	dkim_rotate_plan_free(&p);

	/* past interval: a pending successor of that algorithm, asked for */
	k[0].activated = T0 - 90 * DAY;
	dkim_rotate_plan(k, 2, &rsa_only, T0, &p);
	CHECK(p.n == 3 && p.keys[2].make && p.keys[2].state == DKIM_ROTATE_PENDING &&
	    p.keys[2].alg == DKIM_ALG_RSA_SHA256, "old rsa key: an rsa successor");
	CHECK_STR(p.keys[2].selector, "r20270115", "selector: algorithm and UTC date");
	CHECK(p.n_asks == 1 && p.asks[0].key == 2 &&
	    p.asks[0].what == DKIM_ROTATE_ASK_PUBLISH, "the successor is to be published");
	CHECK(p.keys[0].state == DKIM_ROTATE_ACTIVE, "the old key still signs");
	dkim_rotate_plan_free(&p);

	/* the selector taken already (a hand key named so): a counter */
	k[1] = key("r20270115", DKIM_ALG_ED25519_SHA256, DKIM_ROTATE_ACTIVE, T0,
	    DKIM_ROTATE_DNS_SHOWN);
	dkim_rotate_plan(k, 2, &rsa_only, T0, &p);
	CHECK_STR(p.n == 3 ? p.keys[2].selector : "", "r20270115n2", "unique selector");
	dkim_rotate_plan_free(&p);

	/* pending, not in DNS: asked again, never activated */
	k[1] = key("n", DKIM_ALG_RSA_SHA256, DKIM_ROTATE_PENDING, 0, DKIM_ROTATE_DNS_ABSENT);
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 30 * DAY, &p);
	CHECK(p.keys[1].state == DKIM_ROTATE_PENDING && p.keys[1].seen == 0 &&
	    p.n_asks == 1 && p.asks[0].key == 1, "unpublished successor waits, asked");
	dkim_rotate_plan_free(&p);

	/* first seen: the wait starts, no activation yet */
	k[1].dns = DKIM_ROTATE_DNS_SHOWN;
	dkim_rotate_plan(k, 2, &rsa_only, T0, &p);
	CHECK(p.keys[1].state == DKIM_ROTATE_PENDING && p.keys[1].seen == T0 && p.changed,
	    "first seen: seen = now");
	dkim_rotate_plan_free(&p);

	/* seen a day short of publish_wait: still pending */
	k[1].seen = T0;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + DAY, &p);
	CHECK(p.keys[1].state == DKIM_ROTATE_PENDING, "seen 1 day of 2: pending");
	dkim_rotate_plan_free(&p);

	/* the lookup failed on the day: nothing decided */
	k[1].dns = DKIM_ROTATE_DNS_UNKNOWN;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 3 * DAY, &p);
	CHECK(p.keys[1].state == DKIM_ROTATE_PENDING && p.keys[1].seen == T0,
	    "lookup failed: no activation");
	dkim_rotate_plan_free(&p);

	/* seen, then gone before the wait ends: the wait starts again */
	k[1].dns = DKIM_ROTATE_DNS_ABSENT;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + DAY, &p);
	CHECK(p.keys[1].seen == 0 && p.n_asks == 1, "gone again: wait restarts, asked");
	dkim_rotate_plan_free(&p);

	/* seen publish_wait ago and still there: active, the old key retired */
	k[1].dns = DKIM_ROTATE_DNS_SHOWN;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 2 * DAY, &p);
	CHECK(p.keys[1].state == DKIM_ROTATE_ACTIVE && p.keys[1].activated == T0 + 2 * DAY &&
	    p.keys[0].state == DKIM_ROTATE_RETIRED && p.keys[0].retired == T0 + 2 * DAY,
	    "successor active, old key retired, in one step");
	CHECK(p.n == 2, "no second successor in the same run");
	dkim_rotate_plan_free(&p);

	/* retired: kept retire_after, then withdrawn (and asked to withdraw) */
	k[0].state = DKIM_ROTATE_RETIRED;
	k[0].retired = T0;
	k[1].state = DKIM_ROTATE_ACTIVE;
	k[1].activated = T0;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 7 * DAY - 1, &p);
	CHECK(p.keys[0].state == DKIM_ROTATE_RETIRED && p.n_asks == 0, "retired: kept");
	dkim_rotate_plan_free(&p);
	k[0].dns = DKIM_ROTATE_DNS_ABSENT;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + DAY, &p);
	CHECK(p.n_asks == 1 && p.asks[0].what == DKIM_ROTATE_ASK_PUBLISH,
	    "retired record gone too early: asked to publish");
	dkim_rotate_plan_free(&p);
	k[0].dns = DKIM_ROTATE_DNS_SHOWN;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 7 * DAY, &p);
	CHECK(p.keys[0].state == DKIM_ROTATE_WITHDRAWN && !dkim_rotate_in_zone(&p.keys[0]) &&
	    p.n_asks == 1 && p.asks[0].what == DKIM_ROTATE_ASK_WITHDRAW,
	    "retire_after: withdrawn, asked to withdraw");
	dkim_rotate_plan_free(&p);

	/* withdrawn: released only once DNS lost it and publish_wait passed */
	k[0].state = DKIM_ROTATE_WITHDRAWN;
	k[0].withdrawn = T0;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 30 * DAY, &p);
	CHECK(!p.keys[0].release && p.n_asks == 1, "still in DNS: not released");
	dkim_rotate_plan_free(&p);
	k[0].dns = DKIM_ROTATE_DNS_ABSENT;
	dkim_rotate_plan(k, 2, &rsa_only, T0 + DAY, &p);
	CHECK(!p.keys[0].release && p.n_asks == 0, "gone, lag not over: kept");
	dkim_rotate_plan_free(&p);
	dkim_rotate_plan(k, 2, &rsa_only, T0 + 2 * DAY, &p);
	CHECK(p.keys[0].release, "gone for publish_wait: released");
	dkim_rotate_plan_free(&p);
}

/* One simulated world: the keys, and which selectors DNS serves. */
struct world {
	struct dkim_rotate_key *keys;
	size_t	 n;
	char	 dns[64][DKIM_ROTATE_SELECTOR_MAX];	/* served selectors */
	size_t	 n_dns;
};

/* world_shows - does the fake DNS serve sel? */
static bool
world_shows(const struct world *w, const char *sel)
{
	for (size_t i = 0; i < w->n_dns; i++)
		if (strcmp(w->dns[i], sel) == 0)
			return true;
	return false;
}

/* world_publish - the fake DNS serves exactly the plan's zone */
static void
world_publish(struct world *w)
{
	w->n_dns = 0;
	for (size_t i = 0; i < w->n && w->n_dns < 64; i++)
		if (dkim_rotate_in_zone(&w->keys[i]))
			snprintf(w->dns[w->n_dns++], DKIM_ROTATE_SELECTOR_MAX, "%s",
			    w->keys[i].selector);
}

/* walk - a year day by day; publish: the operator does what is asked.
 * Returns how many times the rsa signing selector changed. */
static int
walk(bool publish, const char *label)
{
	struct world w = { 0 };
	char signing[DKIM_ROTATE_SELECTOR_MAX] = "r0";
	int changes = 0, bad_order = 0, bad_count = 0, bad_retire = 0;
	int64_t published_at[256] = { 0 };	/* by key index: first day DNS showed it */

	w.keys = calloc(1, sizeof(*w.keys));
	w.keys[0] = key("r0", DKIM_ALG_RSA_SHA256, DKIM_ROTATE_ACTIVE, T0,
	    DKIM_ROTATE_DNS_SHOWN);
	w.n = 1;
	world_publish(&w);
	for (int64_t now = T0; now < T0 + 365 * DAY; now += DAY) {
		struct dkim_rotate_plan p;
		size_t active = 0;

		for (size_t i = 0; i < w.n; i++) {
			w.keys[i].dns = world_shows(&w, w.keys[i].selector) ?
			    DKIM_ROTATE_DNS_SHOWN : DKIM_ROTATE_DNS_ABSENT;
			if (w.keys[i].dns == DKIM_ROTATE_DNS_SHOWN && i < 256 &&
			    published_at[i] == 0)
				published_at[i] = now;
		}
		dkim_rotate_plan(w.keys, w.n, &params, now, &p);
		free(w.keys);
		w.keys = calloc(p.n, sizeof(*w.keys));
		w.n = 0;
		for (size_t i = 0; i < p.n; i++)
			if (!p.keys[i].release)
				w.keys[w.n++] = p.keys[i];
		/* released keys leave the array: keep published_at in step */
		for (size_t i = 0, j = 0; i < p.n && i < 256; i++)
			if (!p.keys[i].release)
				published_at[j++] = published_at[i];
		for (size_t i = w.n; i < 256; i++)
			published_at[i] = 0;
		for (size_t i = 0; i < w.n; i++) {
			const struct dkim_rotate_key *k = &w.keys[i];

			if (k->alg != DKIM_ALG_RSA_SHA256 || k->state != DKIM_ROTATE_ACTIVE)
				continue;
			active++;
			if (strcmp(k->selector, signing) != 0) {
				changes++;
				snprintf(signing, sizeof(signing), "%s", k->selector);
				/* seen in DNS at least publish_wait before signing */
				if (published_at[i] == 0 ||
				    now - published_at[i] < params.publish_wait)
					bad_order++;
			}
		}
		for (size_t i = 0; i < w.n; i++)
			if (w.keys[i].state == DKIM_ROTATE_WITHDRAWN &&
			    now - w.keys[i].retired < params.retire_after)
				bad_retire++;
		bad_count += active != 1;
		if (publish)
			world_publish(&w);
		dkim_rotate_plan_free(&p);
	}
	CHECK(bad_order == 0, "%s: every new signing key was in DNS publish_wait before",
	    label);
	CHECK(bad_count == 0, "%s: exactly one active rsa key every day", label);
	CHECK(bad_retire == 0, "%s: no record withdrawn before retire_after", label);
	if (publish)
		CHECK(w.n <= 6, "%s: old keys are released (%zu left)", label, w.n);
	free(w.keys);
	return changes;
}

/* test_state_format - the state file's lines read back as written */
static void
test_state_format(void)
{
	struct dkim_rotate_key k = key("r1", DKIM_ALG_ED25519_SHA256, DKIM_ROTATE_RETIRED,
	    T0, DKIM_ROTATE_DNS_UNKNOWN);
	struct buf b = BUF_INIT;

	k.retired = T0 + 5;
	dkim_rotate_state_format(&k, 1, &b);
	CHECK(strstr(buf_cstr(&b), "\nexample.com r1 ed25519 retired 1800000000 0 "
	    "1800000000 1800000005 0\n") != NULL, "state line");
	buf_free(&b);
}

int
main(void)
{
	test_steps();
	/* a cycle: interval, a day until the daily run sees the record, publish_wait:
	 * 93 days, so days 93, 186 and 279 of the year */
	CHECK(walk(true, "published") == 3, "published: the rsa selector changed every "
	    "cycle (3 times in a year)");
	CHECK(walk(false, "withheld") == 0, "withheld: the old key signed all year");
	test_state_format();
	return tap_done();
}
