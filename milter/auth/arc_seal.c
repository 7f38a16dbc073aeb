/* arc_seal - this hop's ARC set (RFC 8617 §5.1): plan it, build it.
 *
 * arc_seal_plan applies §5.1's rules to the message as received and our own
 * verdict on its chain: no chain gives i=1 cv=none; a passing chain of n sets
 * gives i=n+1 cv=pass, sealed over every set; a chain that fails our check gives
 * cv=fail, sealed over the new set alone (§5.1.2), one above the highest i= the
 * message carries; a chain whose newest ARC-Seal already says cv=fail, a chain at
 * i=50 and a chain we could not check are not extended. arc_seal_make writes the
 * ARC-Authentication-Results, signs the ARC-Message-Signature with dkim_sign_header
 * (relaxed/relaxed, i= in place of v=) and the ARC-Seal with dkim_sign_end.
 * The caller owns the values in struct arc_seal_set (arc_seal_set_clear frees).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_seal.h"
#include "arc_verify.h"
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_sig.h"
#include "dkim_sign.h"
#include "header.h"
#include "taglist.h"

#define SEAL_AAR	"ARC-Authentication-Results"
#define SEAL_AMS	"ARC-Message-Signature"
#define SEAL_AS		"ARC-Seal"
#define SEAL_I_DIGITS	3	/* i= beyond 999 counts as "too high", not as a number */

/* arc_seal_cv_name - the cv= spelling */
const char *
arc_seal_cv_name(enum arc_cv cv)
{
	switch (cv) {
	case ARC_CV_PASS:	return "pass";
	case ARC_CV_FAIL:	return "fail";
	default:		return "none";
	}
}

/* arc_seal_number - a decimal i= value of 1..SEAL_I_DIGITS digits; 0 when it is not
 * one, ARC_MAX_INSTANCES + 1 when it has more digits (any such is too high) */
static unsigned
arc_seal_number(const char *s, size_t len)
{
	unsigned v = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (len > SEAL_I_DIGITS)
		return ARC_MAX_INSTANCES + 1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/* arc_seal_field_instance - i= of one ARC field (and, for an ARC-Seal, whether its
 * cv= says fail); 0 when it has no usable i= */
static unsigned
arc_seal_field_instance(const struct header *f, bool *cv_fail)
{
	struct taglist_tag tags[TAGLIST_MAX];
	const struct taglist_tag *t;
	size_t n;
	char err[128];

	*cv_fail = false;
	if (strcasecmp(f->name, SEAL_AAR) == 0)
		return arc_verify_aar_instance(f->value, f->value_len);
	if (!taglist_split(f->value, f->value_len, tags, &n, err, sizeof(err)))
		return 0;
	if (strcasecmp(f->name, SEAL_AS) == 0 &&
	    (t = taglist_find(tags, n, "cv")) != NULL &&
	    t->value_len == 4 && strncasecmp(t->value, "fail", 4) == 0)
		*cv_fail = true;
	if ((t = taglist_find(tags, n, "i")) == NULL)
		return 0;
	return arc_seal_number(t->value, t->value_len);
}

/* arc_seal_scan - the highest i= among the ARC fields, and whether the ARC-Seal with
 * the highest i= says cv=fail; returns how many ARC fields there are */
static size_t
arc_seal_scan(const struct header_list *h, unsigned *highest, bool *newest_fail)
{
	unsigned newest_as = 0;
	size_t count = 0;

	*highest = 0;
	*newest_fail = false;
	for (size_t i = 0; i < h->n; i++) {
		const struct header *f = &h->v[i];
		bool fail;

		if (arc_verify_field(f->name) == 0)
			continue;
		count++;
		unsigned inst = arc_seal_field_instance(f, &fail);
		if (inst > *highest)
			*highest = inst;
		if (strcasecmp(f->name, SEAL_AS) == 0 && inst >= newest_as && inst > 0) {
			newest_as = inst;
			*newest_fail = fail;
		}
	}
	return count;
}

/* arc_seal_plan - may we seal, and how (RFC 8617 §5.1, §5.1.2, §4.2.1) */
void
arc_seal_plan(const struct header_list *h, const struct arc_verdict *v,
    struct arc_seal_plan *plan)
{
	unsigned highest;
	bool newest_fail;
	size_t n_fields = arc_seal_scan(h, &highest, &newest_fail);

	memset(plan, 0, sizeof(*plan));
	if (h->truncated) {
		plan->why = "headers-over-limit";	/* an ARC field may be among the dropped */
		return;
	}
	if (v == NULL || v->result == AUTH_NONE) {
		if (n_fields > 0) {
			plan->why = "chain-not-verified";
			return;
		}
		plan->seal = true;
		plan->instance = 1;
		plan->cv = ARC_CV_NONE;
		return;
	}
	switch (v->result) {
	case AUTH_PASS:
		if (v->n_sets == 0 || v->n_sets > ARC_MAX_INSTANCES) {
			plan->why = "chain-not-verified";	/* a verdict we cannot use */
			return;
		}
		if (v->n_sets == ARC_MAX_INSTANCES) {
			plan->why = "instance-limit";
			return;
		}
		plan->seal = true;
		plan->instance = v->n_sets + 1;
		plan->cv = ARC_CV_PASS;
		plan->prior = v->sets;
		plan->n_prior = v->n_sets;
		return;
	case AUTH_FAIL:
		if (newest_fail) {
			plan->why = "chain-failed";	/* §5.1 step 1: stop */
			return;
		}
		if (highest == 0) {
			plan->why = "instance-unknown";
			return;
		}
		if (highest >= ARC_MAX_INSTANCES) {
			plan->why = "instance-limit";
			return;
		}
		plan->seal = true;
		plan->instance = highest + 1;
		plan->cv = ARC_CV_FAIL;
		return;
	case AUTH_TEMPERROR:
		plan->why = "chain-temperror";	/* neither pass nor fail is known */
		return;
	default:
		plan->why = "chain-not-verified";
		return;
	}
}

/* arc_seal_canon_prior - the earlier sets, oldest first, AAR, AMS, AS each (§5.1.1) */
static void
arc_seal_canon_prior(const struct arc_seal_plan *plan, const struct header_list *h,
    struct buf *canon)
{
	for (unsigned i = 0; i < plan->n_prior; i++) {
		size_t at[3] = { plan->prior[i].aar, plan->prior[i].ams, plan->prior[i].as };

		for (size_t k = 0; k < 3; k++) {
			if (at[k] >= h->n)
				continue;	/* arc_verify's bug; the seal will not verify */
			const struct header *f = &h->v[at[k]];
			dkim_canon_header(DKIM_CANON_RELAXED, f->name, f->value, f->value_len, 1,
			    canon);
		}
	}
}

/* arc_seal_make - build and sign the planned set */
bool
arc_seal_make(const struct arc_seal_params *p, const struct arc_seal_plan *plan,
    const struct header_list *h, const char *authres,
    const unsigned char bodyhash[DKIM_HASH_LEN], struct arc_seal_set *out,
    char *err, size_t errlen)
{
	struct buf aar = BUF_INIT, ams = BUF_INIT, as = BUF_INIT, canon = BUF_INIT;
	struct dkim_sign_params sp = {
		.key = p->key,
		.domain = p->domain,
		.selector = p->selector,
		.header_canon = DKIM_CANON_RELAXED,
		.body_canon = DKIM_CANON_RELAXED,
		.headers = p->headers,
		.n_headers = p->n_headers,
		.oversign = p->oversign,
		.n_oversign = p->n_oversign,
		.now = p->now,
		.field_name = SEAL_AMS,
		.arc_instance = plan->instance,
	};
	struct dkim_sign_out o;
	char num[24];
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!plan->seal || plan->instance < 1 || plan->instance > ARC_MAX_INSTANCES) {
		snprintf(err, errlen, "nothing to seal");
		return false;
	}
	/* §4.1.3: the AAR is our A-R payload behind "i=N;" */
	buf_printf(&aar, " i=%u;", plan->instance);
	if (authres[0] != ' ')
		buf_putc(&aar, ' ');
	buf_puts(&aar, authres);
	if (!dkim_sign_header(&sp, h, bodyhash, &ams, err, errlen))
		goto out;

	arc_seal_canon_prior(plan, h, &canon);
	dkim_canon_header(DKIM_CANON_RELAXED, SEAL_AAR, aar.data, aar.len, 1, &canon);
	dkim_canon_header(DKIM_CANON_RELAXED, SEAL_AMS, ams.data, ams.len, 1, &canon);
	dkim_sign_begin(&o, &as, SEAL_AS);
	snprintf(num, sizeof(num), "%u", plan->instance);
	dkim_sign_tag(&o, "i", num);
	dkim_sign_tag(&o, "a", dkim_alg_name(p->key->alg));
	snprintf(num, sizeof(num), "%lld", (long long)p->now);
	dkim_sign_tag(&o, "t", num);
	dkim_sign_tag(&o, "cv", arc_seal_cv_name(plan->cv));
	dkim_sign_tag(&o, "d", p->domain);
	dkim_sign_tag(&o, "s", p->selector);
	if (!dkim_sign_end(&o, p->key, DKIM_CANON_RELAXED, SEAL_AS, &canon, err, errlen))
		goto out;
	out->aar = buf_steal(&aar);
	out->ams = buf_steal(&ams);
	out->as = buf_steal(&as);
	ok = true;
out:
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&as);
	buf_free(&canon);
	return ok;
}

/* arc_seal_set_clear - free the three values; a cleared set is fine */
void
arc_seal_set_clear(struct arc_seal_set *s)
{
	free(s->aar);
	free(s->ams);
	free(s->as);
	memset(s, 0, sizeof(*s));
}
