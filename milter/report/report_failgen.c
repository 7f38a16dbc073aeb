/* report_failgen - the failure reports of one authmilter-report --failure run.
 *
 *   report_failgen_run   list, claim, check, build, write or send, settle
 *
 * A sample is reported once: its claim in the store decides who sends it,
 * and the claim counts against report.failure_rate of its policy domain for
 * an hour (report_store_failure_claim), so generators on several hosts share
 * one limit. Samples over the limit are settled as "ratelimited" and counted.
 * --out writes the mail that would be sent as DIR/<id>.eml and settles the
 * sample as "written": a failure report has no period to rebuild later.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "report_arf.h"
#include "report_dest.h"
#include "report_failgen.h"
#include "report_mail.h"
#include "xalloc.h"

/* the ids of one run, listed before any is claimed */
struct failgen_ids {
	char	**v;
	size_t	  n, cap;
};

/* report_failgen_id_cb - a report_sample_id_fn collecting the ids */
static int
report_failgen_id_cb(const char *id, void *arg)
{
	struct failgen_ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap == 0 ? 64 : ids->cap * 2;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof(*ids->v));
	}
	ids->v[ids->n++] = xstrdup(id);
	return 0;
}

enum failgen_result { FAILGEN_DONE, FAILGEN_SKIPPED, FAILGEN_DEFERRED, FAILGEN_FAILED };

/* report_failgen_deliver - the report of claimed sample s: destinations,
 * check, message, file or mail; why says what happened */
static enum failgen_result
report_failgen_deliver(const struct report_gen *g, const struct report_sample *s,
    char *why, size_t whylen)
{
	struct report_dest dests[REPORT_MAX_URIS];
	struct buf msg = BUF_INIT, spf = BUF_INIT, name = BUF_INIT;
	char err[512], ua[64];
	enum failgen_result res = FAILGEN_FAILED;
	size_t n;

	if (!report_dest_domain_ok(s->policy_domain)) {
		snprintf(why, whylen, "the policy domain is not a lower-case LDH domain name");
		return FAILGEN_SKIPPED;
	}
	n = report_rua_parse(s->ruf, dests, REPORT_MAX_URIS);
	if (n == 0) {
		snprintf(why, whylen, "no usable mailto: URI in ruf");
		return FAILGEN_SKIPPED;
	}
	if (report_gen_check(g, s->policy_domain, "ruf", s->discovery, dests, &n, err,
	    sizeof(err)) == REPORT_CHECK_TEMP) {
		snprintf(why, whylen, "destination check: %s", err);
		return FAILGEN_DEFERRED;
	}
	if (n == 0) {
		snprintf(why, whylen, "no authorized destination: %s", err);
		return FAILGEN_SKIPPED;
	}
	if (strstr(s->alignment, "spf") != NULL)
		(void)report_gen_spf_record(g, s->spf_domain, &spf);
	snprintf(ua, sizeof(ua), "authmilter/%s", PACKAGE_VERSION);
	struct report_arf a = { g->email, dests, n, g->receiver, ua, s,
	    spf.len > 0 ? buf_cstr(&spf) : NULL, time(NULL) };

	if (!report_arf_build(&msg, &a, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		res = FAILGEN_SKIPPED;	/* it never will be: do not retry it */
		goto out;
	}
	report_arf_filename(&name, s);
	if (g->out_dir != NULL) {
		if (report_gen_write_file(g->out_dir, buf_cstr(&name), &msg, why, whylen))
			res = FAILGEN_DONE;
		goto out;
	}
	if (!report_mail_send(g->sendmail, msg.data, msg.len, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	snprintf(why, whylen, "to=%s%s%s%s", dests[0].addr, n > 1 ? ",..." : "",
	    err[0] != '\0' ? " not to: " : "", err);
	res = FAILGEN_DONE;
out:
	buf_free(&msg);
	buf_free(&spf);
	buf_free(&name);
	return res;
}

/* report_failgen_settle - log what happened to a claimed sample and settle its
 * claim; false on a database error */
static bool
report_failgen_settle(struct report_store *st, const struct report_gen *g,
    const struct report_sample *s, const char *genid, enum failgen_result res,
    const char *why, struct report_failgen_counts *c)
{
	int rc;

	switch (res) {
	case FAILGEN_DONE:
		log_msg(LOG_INFO, "failure report %s domain=%s: %s %s", s->id,
		    s->policy_domain, g->out_dir != NULL ? "written" : "sent", why);
		c->done++;
		rc = report_store_failure_done(st, s->id, genid, g->out_dir != NULL ?
		    "written" : "sent");
		break;
	case FAILGEN_SKIPPED:
		log_msg(LOG_NOTICE, "failure report %s domain=%s: not sent: %s", s->id,
		    s->policy_domain, why);
		c->skipped++;
		rc = report_store_failure_done(st, s->id, genid, "skipped");
		break;
	case FAILGEN_DEFERRED:
		log_msg(LOG_WARNING, "failure report %s domain=%s: deferred: %s", s->id,
		    s->policy_domain, why);
		c->deferred++;
		rc = report_store_failure_release(st, s->id, genid);
		break;
	default:
		log_msg(LOG_ERR, "failure report %s domain=%s: failed: %s", s->id,
		    s->policy_domain, why);
		c->failed++;
		rc = report_store_failure_release(st, s->id, genid);
		break;
	}
	if (rc != 0)
		log_msg(LOG_ERR, "failure report %s: database: %s", s->id,
		    report_store_error(st));
	return rc == 0;
}

/* report_failgen_one - claim one sample and report it; false on a database error */
static bool
report_failgen_one(struct report_store *st, const struct report_gen *g, const char *id,
    const char *genid, unsigned rate, struct report_failgen_counts *c)
{
	struct report_sample *s = NULL;
	char why[1024];
	enum failgen_result res;
	bool ok;

	switch (report_store_failure_claim(st, id, genid, rate, &s)) {
	case REPORT_CLAIM_OK:
		break;
	case REPORT_CLAIM_LIMITED:
		c->limited++;
		return true;
	case REPORT_CLAIM_BUSY:
		c->busy++;
		return true;
	case REPORT_CLAIM_SENT:
		c->gone++;
		return true;
	default:
		log_msg(LOG_ERR, "failure report %s: database: %s", id, report_store_error(st));
		return false;
	}
	res = report_failgen_deliver(g, s, why, sizeof(why));
	ok = report_failgen_settle(st, g, s, genid, res, why, c);
	report_sample_free(s);
	return ok;
}

bool
report_failgen_run(struct report_store *st, const struct report_gen *g, const char *genid,
    unsigned rate, struct report_failgen_counts *c)
{
	struct failgen_ids ids = { 0 };
	bool ok = true;

	if (report_store_failures_pending(st, REPORT_FAILGEN_MAX, report_failgen_id_cb,
	    &ids) < 0) {
		log_msg(LOG_ERR, "database: listing the failure samples: %s",
		    report_store_error(st));
		ok = false;
	}
	for (size_t i = 0; ok && i < ids.n; i++)
		ok = report_failgen_one(st, g, ids.v[i], genid, rate, c);
	for (size_t i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
	return ok;
}
