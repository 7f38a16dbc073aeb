/* report_main - authmilter-report: the DMARC aggregate reports (RFC 9990) of one
 * period, from the rows the daemon recorded.
 *
 *   authmilter-report -c FILE [--begin EPOCH --end EPOCH]
 *                     (--out DIR | --out-mail DIR | --send)
 *   authmilter-report -c FILE --failure (--out DIR | --send)
 *
 * --failure makes the RFC 9991 failure reports of the samples the daemon
 * stored instead (report_failgen.c), when report.failure is on.
 *
 * Default period: the previous UTC day. One report per policy domain whose
 * latest row has a rua. Each report is claimed in the store first
 * (report_store_claim), so that generators running at the same time on several
 * hosts send it once and a re-run sends nothing twice; the claim also keeps
 * the Report-ID, so a re-run writes the same file names. --out writes the
 * gzipped files into DIR (a sent report is written again, under its name; the
 * claim is given back, never marked sent; DIR is made if missing); --out-mail
 * writes each whole mail instead, as --send would pipe it after the same
 * destination check, as NAME.eml (claims given back too); --send mails them through
 * report.sendmail and marks them sent. Rows older than report.keep_days are
 * deleted first.
 *
 * Exit 0 when every report was written or sent (or had nowhere to go), 1 when
 * one failed or was deferred (a later run retries it), 2 when nothing could be
 * done: bad options, an unusable config, a database that cannot be opened or
 * fails (locked, corrupt, gone).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "generation.h"
#include "log.h"
#include "report_agg.h"
#include "report_dest.h"
#include "report_failgen.h"
#include "report_gen.h"
#include "report_mail.h"
#include "report_store.h"
#include "xalloc.h"

#define REPORT_DEFAULT_CONF	SYSCONFDIR "/authmilter/milter.conf"
#define REPORT_EXIT_PARTIAL	1
#define REPORT_EXIT_ERROR	2
#define REPORT_DAY		86400

static const char *report_prog = "authmilter-report";

/* the policy domains of the period, listed before any report is made */
struct report_domains {
	char	**v;
	size_t	  n, cap;
};

/* report_usage - the synopsis to f */
static void
report_usage(FILE *f)
{
	fprintf(f, "usage: %s [-c FILE] [--begin EPOCH --end EPOCH] "
	    "(--out DIR | --out-mail DIR | --send)\n"
	    "       %s [-c FILE] --failure (--out DIR | --send)\n"
	    "       %s --help\n"
	    "  --out DIR       write each aggregate report's .xml.gz into DIR (made if "
	    "missing)\n"
	    "  --out-mail DIR  write each report mail, headers and MIME as --send would "
	    "send it, as DIR/NAME.eml\n"
	    "  --send          mail the reports through report.sendmail\n"
	    "  --begin, --end  the period, in seconds since 1970 (UTC); default: the "
	    "previous UTC day\n", report_prog, report_prog, report_prog);
}

/* report_bad - a wrong command line: what is wrong (fmt NULL: getopt said it),
 * then the usage; false */
static bool report_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool
report_bad(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", report_prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	report_usage(stderr);
	return false;
}

/* report_mkdirs - dir and its missing parents (mode 0750); false with errno */
static bool
report_mkdirs(const char *dir)
{
	char path[4096];
	struct stat sb;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return false;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (stat(path, &sb) != 0 && mkdir(path, 0750) != 0 && errno != EEXIST)
			return false;
		path[i] = dir[i];
	}
	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? true : (errno = ENOTDIR, false);
}

/* report_epoch - a non-negative decimal epoch; false when it is not one */
static bool
report_epoch(const char *s, time_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0 || v == LLONG_MAX)
		return false;
	*out = (time_t)v;
	return true;
}

/* report_domain_cb - a report_domain_fn collecting the domains */
static int
report_domain_cb(const char *policy_domain, long long rows, void *arg)
{
	struct report_domains *d = arg;

	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 256 : d->cap * 2;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	d->v[d->n++] = xstrdup(policy_domain);
	return 0;
}

/* report_row_cb - a report_row_fn adding the row to the aggregate */
static int
report_row_cb(const struct report_row *row, void *arg)
{
	report_agg_add(arg, row);
	return 0;
}

/* report_cmp - qsort order of domain names, so runs go through them alike */
static int
report_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* report_sender - the From of report mail: report.email with its domain as
 * conf.c normalised it (--send warns when no key signs for it: RFC 9990 §3.5
 * wants report mail to pass DMARC); false when report.email is not set */
static bool
report_sender(const struct conf *c, struct buf *from)
{
	const char *at = strrchr(c->report.email, '@');

	if (at == NULL || !report_dest_domain_ok(c->report.email_domain)) {
		log_msg(LOG_ERR, "%s:%d: report.email: not set; give the From address of "
		    "report mail, in a domain authmilter signs for, e.g. "
		    "\"dmarc-reports@example.com\"", c->path, c->report.email_line);
		return false;
	}
	buf_append(from, c->report.email, (size_t)(at - c->report.email));
	buf_printf(from, "@%s", c->report.email_domain);
	return true;
}

/* the counts of one run, for the last log line */
struct report_counts {
	unsigned done, skipped, deferred, failed, sent_before, busy;
};

/* report_domain - one policy domain: claim, aggregate, write or send, settle
 * the claim; false on a database error */
static bool
report_domain(struct report_store *st, const struct report_gen *rg, const char *domain,
    const char *genid, struct report_counts *cnt)
{
	char id[REPORT_ID_MAX], rid[REPORT_ID_MAX], why[1024];
	enum report_claim claim;
	enum report_gen_result res;
	struct report_agg *a;
	long long rows;

	claim = report_store_claim(st, domain, rg->begin, rg->end, genid, id, sizeof(id));
	if (claim == REPORT_CLAIM_ERROR) {
		log_msg(LOG_ERR, "report %s: database: %s", domain, report_store_error(st));
		return false;
	}
	if (claim == REPORT_CLAIM_BUSY) {
		log_msg(LOG_INFO, "report %s: another generator holds it", domain);
		cnt->busy++;
		return true;
	}
	report_mail_id(id, rid, sizeof(rid));
	if (claim == REPORT_CLAIM_SENT && rg->out_dir == NULL) {
		log_msg(LOG_INFO, "report %s id=%s: already sent", domain, rid);
		cnt->sent_before++;
		return true;
	}
	a = report_agg_new(domain);
	rows = report_store_each_domain(st, domain, rg->begin, rg->end, report_row_cb, a);
	if (rows < 0) {
		log_msg(LOG_ERR, "report %s: database: %s", domain, report_store_error(st));
		report_agg_free(a);
		return false;
	}
	res = report_gen_one(rg, a, rid, why, sizeof(why));
	report_agg_free(a);
	switch (res) {
	case REPORT_GEN_DONE:
		log_msg(LOG_INFO, "report %s id=%s rows=%lld: %s %s", domain, rid, rows,
		    rg->out_dir != NULL ? "written" : "sent", why);
		cnt->done++;
		break;
	case REPORT_GEN_SKIPPED:
		log_msg(LOG_NOTICE, "report %s id=%s rows=%lld: not sent: %s", domain, rid,
		    rows, why);
		cnt->skipped++;
		break;
	case REPORT_GEN_DEFERRED:
		log_msg(LOG_WARNING, "report %s id=%s: deferred: %s", domain, rid, why);
		cnt->deferred++;
		break;
	case REPORT_GEN_FAILED:
		log_msg(LOG_ERR, "report %s id=%s: failed: %s", domain, rid, why);
		cnt->failed++;
		break;
	}
	if (claim == REPORT_CLAIM_SENT)
		return true;
	/* sent, or nowhere to send it: done for good; else the next run retries */
	if (rg->out_dir == NULL && (res == REPORT_GEN_DONE || res == REPORT_GEN_SKIPPED)) {
		if (report_store_mark_sent(st, domain, rg->begin, rg->end, genid) != 0) {
			log_msg(LOG_ERR, "report %s id=%s: sent, but marking it sent failed: %s",
			    domain, rid, report_store_error(st));
			return false;
		}
	} else if (report_store_release(st, domain, rg->begin, rg->end, genid) != 0) {
		log_msg(LOG_ERR, "report %s: database: %s", domain, report_store_error(st));
		return false;
	}
	return true;
}

/* report_aggregate - every policy domain of the period: its report; the exit status */
static int
report_aggregate(struct report_store *st, const struct report_gen *rg, const char *genid,
    long long expired)
{
	struct report_domains doms = { 0 };
	struct report_counts cnt = { 0 };
	int rc = 0;

	if (report_store_domains(st, rg->begin, rg->end, report_domain_cb, &doms) < 0) {
		log_msg(LOG_ERR, "database: listing the policy domains: %s",
		    report_store_error(st));
		return REPORT_EXIT_ERROR;
	}
	qsort(doms.v, doms.n, sizeof(*doms.v), report_cmp);
	for (size_t i = 0; i < doms.n; i++)
		if (!report_domain(st, rg, doms.v[i], genid, &cnt)) {
			rc = REPORT_EXIT_ERROR;
			break;
		}
	if (rc == 0 && (cnt.failed > 0 || cnt.deferred > 0))
		rc = REPORT_EXIT_PARTIAL;
	log_msg(rc == 0 ? LOG_INFO : LOG_WARNING, "period %lld-%lld: %zu policy domains, "
	    "%u %s, %u not sent, %u deferred, %u failed, %u sent before, %u held by "
	    "another generator; %lld old rows deleted", (long long)rg->begin,
	    (long long)rg->end, doms.n, cnt.done, rg->out_dir != NULL ? "written" : "sent",
	    cnt.skipped, cnt.deferred, cnt.failed, cnt.sent_before, cnt.busy, expired);
	for (size_t i = 0; i < doms.n; i++)
		free(doms.v[i]);
	free(doms.v);
	return rc;
}

/* report_failures - the failure reports of every unsent sample; the exit status */
static int
report_failures(struct report_store *st, const struct report_gen *rg, const char *genid,
    const struct conf *c)
{
	struct report_failgen_counts cnt = { 0 };
	int rc = 0;

	if (!c->report.enable || !c->report.failure) {
		log_msg(LOG_NOTICE, "%s: report.failure is off: no failure report is made",
		    c->path);
		return 0;
	}
	if (!report_failgen_run(st, rg, genid, c->report.failure_rate, &cnt))
		rc = REPORT_EXIT_ERROR;
	else if (cnt.failed > 0 || cnt.deferred > 0)
		rc = REPORT_EXIT_PARTIAL;
	log_msg(rc == 0 ? LOG_INFO : LOG_WARNING, "failure reports: %u %s, %u not sent, "
	    "%u over report.failure_rate (dropped), %u deferred, %u failed, %u held by "
	    "another generator, %u settled before", cnt.done, rg->out_dir != NULL ?
	    "written" : "sent", cnt.skipped, cnt.limited, cnt.deferred, cnt.failed, cnt.busy,
	    cnt.gone);
	return rc;
}

/* what the command line asks for */
struct report_opts {
	const char *conf_path, *out_dir;
	bool	    send, failure, out_mail, help;
	bool	    has_begin, has_end;
	time_t	    begin, end;
};

/* report_option - one option into o; false (said on stderr) when it is wrong */
static bool
report_option(int ch, const char *arg, struct report_opts *o)
{
	switch (ch) {
	case 'c': o->conf_path = arg; return true;
	case 'b':
	case 'e':
		if (!report_epoch(arg, ch == 'b' ? &o->begin : &o->end))
			return report_bad(ch == 'b' ? "--begin %s: not a number of seconds "
			    "since 1970 (UTC)" : "--end %s: not a number of seconds since "
			    "1970 (UTC)", arg);
		*(ch == 'b' ? &o->has_begin : &o->has_end) = true;
		return true;
	case 'o':
	case 'm':
		if (o->out_dir != NULL)
			return report_bad("%s: give one of --out and --out-mail, once",
			    ch == 'o' ? "--out" : "--out-mail");
		o->out_dir = arg;
		o->out_mail = ch == 'm';
		return true;
	case 's': o->send = true; return true;
	case 'f': o->failure = true; return true;
	case 'h': o->help = true; return true;
	default:	/* getopt named the option already */
		return report_bad(NULL);
	}
}

/* report_options - the command line into o; false on bad usage (said on stderr,
 * naming the argument that is wrong) */
static bool
report_options(int argc, char **argv, struct report_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "begin", required_argument, NULL, 'b' },
		{ "end", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "out-mail", required_argument, NULL, 'm' },
		{ "send", no_argument, NULL, 's' },
		{ "failure", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	time_t now = time(NULL);
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1)
		if (!report_option(ch, optarg, o))
			return false;
	if (o->help)
		return true;
	if (optind != argc)
		return report_bad("%s: unexpected argument", argv[optind]);
	if (o->send && o->out_dir != NULL)
		return report_bad("--send and %s exclude each other", o->out_mail ?
		    "--out-mail" : "--out");
	if (!o->send && o->out_dir == NULL)
		return report_bad("%s", "give --out DIR, --out-mail DIR or --send");
	if (o->has_begin != o->has_end)
		return report_bad(o->has_begin ? "%s without --end" : "%s without --begin",
		    o->has_begin ? "--begin" : "--end");
	if (o->failure && o->has_begin)
		return report_bad("%s: failure reports take no period", "--begin");
	if (!o->has_begin) {
		o->end = now - now % REPORT_DAY;
		o->begin = o->end - REPORT_DAY;
	}
	if (o->end <= o->begin) {
		fprintf(stderr, "%s: --end must come after --begin\n", report_prog);
		return false;
	}
	if (o->out_dir != NULL && !report_mkdirs(o->out_dir)) {
		fprintf(stderr, "%s: %s %s: %s\n", report_prog, o->out_mail ? "--out-mail" :
		    "--out", o->out_dir, strerror(errno));
		return false;
	}
	return true;
}

/* main - options, config, store; then the aggregate or the failure reports */
int
main(int argc, char **argv)
{
	struct report_opts o = { .conf_path = REPORT_DEFAULT_CONF };
	struct buf from = BUF_INIT;
	time_t now = time(NULL);
	struct report_store *st = NULL;
	struct generation *g = NULL;
	char err[512], genid[300], host[256], generator[64];
	int rc = REPORT_EXIT_ERROR;
	long long expired;

	if (!report_options(argc, argv, &o))
		return REPORT_EXIT_ERROR;
	if (o.help) {
		report_usage(stdout);
		return 0;
	}
	/* report.email unsigned: a warning for --send only, where the mail goes out */
	generation_report_email_quiet();
	/* a sendmail that exits early must be an error, not a signal that kills us */
	signal(SIGPIPE, SIG_IGN);
	log_open();
	log_configure(LOG_MAIL, LOG_INFO, true);
	if ((g = generation_load(o.conf_path, stderr)) == NULL)
		goto out;
	log_configure(g->conf->log.facility, g->conf->log.level, true);
	if (!report_sender(g->conf, &from))
		goto out;
	if (o.send)
		(void)generation_report_email_warn(g, stderr);
	if ((st = report_store_open(g->conf->report.database, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, "%s: report.database: %s", g->conf->path, err);
		goto out;
	}
	expired = report_store_expire(st, now - (time_t)g->conf->report.keep_days * REPORT_DAY);
	if (expired < 0) {
		log_msg(LOG_ERR, "database: deleting old rows: %s", report_store_error(st));
		goto out;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(genid, sizeof(genid), "%s:%ld:%lld", host, (long)getpid(), (long long)now);
	snprintf(generator, sizeof(generator), "authmilter %s", PACKAGE_VERSION);
	struct report_gen rg = {
		.dns = g->dns, .psl = g->psl, .email = buf_cstr(&from),
		.org_name = g->conf->report.org_name[0] != '\0' ? g->conf->report.org_name :
		    g->conf->authserv_id,
		.receiver = g->conf->report.email_domain, .generator = generator,
		.begin = o.begin, .end = o.end,
		.out_dir = o.out_dir, .out_mail = o.out_mail,
		.sendmail = g->conf->report.sendmail,
	};

	rc = o.failure ? report_failures(st, &rg, genid, g->conf) :
	    report_aggregate(st, &rg, genid, expired);
out:
	buf_free(&from);
	report_store_close(st);
	if (g != NULL)
		generation_release(g);
	return rc;
}
