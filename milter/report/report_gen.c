/* report_gen - one aggregate report, from aggregate to file or mail.
 *
 *   report_gen_one	check the domain and rua, build the XML, write or send
 *
 * With --send every destination outside the policy domain's organizational
 * domain is checked as RFC 9990 §4 says, through the daemon's resolver; the
 * organizational domains come from the discovery method the rows name (the DNS
 * tree walk of dmarc_walk.c, or the Public Suffix List). Files are written to
 * a temporary name and renamed, so a reader never sees half a report.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "dmarc.h"
#include "dmarc_walk.h"
#include "report_dest.h"
#include "report_gen.h"
#include "report_mail.h"
#include "report_xml.h"
#include "xalloc.h"

#define GEN_MAX_QUERIES	128	/* DNS queries of one report's §4 check: a walk of
				 * 8 and one TXT per destination, for the policy
				 * domain and each of REPORT_MAX_URIS destinations */

/* the DNS queries of one check, freed together when it is done */
struct gen_dns {
	struct dns_resolver *dns;
	struct dns_query *q[GEN_MAX_QUERIES];
	size_t		  n;
};

/* gen_ask - start and wait for one query kept in d; NULL when over the cap */
static const struct dns_answer *
gen_ask(struct gen_dns *d, const char *name, int type)
{
	if (d->n == GEN_MAX_QUERIES)
		return NULL;
	d->q[d->n] = dns_query_start(d->dns, name, type);
	return dns_query_wait(d->q[d->n++]);
}

/* gen_txt - a report_txt_fn */
static const struct dns_answer *
gen_txt(void *ctx, const char *name)
{
	return gen_ask(ctx, name, DNS_T_TXT);
}

/* gen_walk_lookup - a dmarc_walk_lookup: TXT at _dmarc.<name> */
static const struct dns_answer *
gen_walk_lookup(void *ctx, const char *name)
{
	struct buf q = BUF_INIT;
	const struct dns_answer *a;

	buf_printf(&q, "_dmarc.%s", name);
	a = gen_ask(ctx, buf_cstr(&q), DNS_T_TXT);
	buf_free(&q);
	return a;
}

/* gen_org_walk - a dmarc_org_fn by the RFC 9989 tree walk */
static enum dmarc_org_status
gen_org_walk(void *ctx, const char *domain, char *org, size_t orglen, char *why,
    size_t whylen)
{
	struct dmarc_walk w;
	enum dmarc_org_status st = DMARC_ORG_OK;

	dmarc_walk_run(&w, domain, gen_walk_lookup, ctx);
	if (w.tempfail || w.org == NULL) {
		snprintf(why, whylen, "%s", w.why[0] != '\0' ? w.why : "tree walk failed");
		st = DMARC_ORG_TEMP;
	} else
		snprintf(org, orglen, "%s", w.org);
	dmarc_walk_clear(&w);
	return st;
}

/* report_gen_create - a new file at path, 0640 at most whatever the umask (reports
 * name people's mail servers and domains), never through a symlink: a file or
 * link left at path (a crashed run, or planted) is removed first, and O_EXCL
 * with O_NOFOLLOW refuses one that appears meanwhile */
static int
report_gen_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	return fd;
}

/* report_gen_write_file - data to dir/name through a temporary file and rename */
bool
report_gen_write_file(const char *dir, const char *name, const struct buf *data, char *why,
    size_t whylen)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	bool ok = false;
	int fd;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	fd = report_gen_create(buf_cstr(&tmp));
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", buf_cstr(&tmp), strerror(errno));
		goto out;
	}
	for (size_t done = 0; done < data->len;) {
		ssize_t w = write(fd, data->data + done, data->len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, whylen, "%s: %s", buf_cstr(&tmp),
			    w < 0 ? strerror(errno) : "nothing written");
			close(fd);
			unlink(buf_cstr(&tmp));
			goto out;
		}
		done += (size_t)w;
	}
	/* no fsync: after a crash the next run writes the same file again */
	if (close(fd) != 0) {
		snprintf(why, whylen, "%s: %s", buf_cstr(&tmp), strerror(errno));
		unlink(buf_cstr(&tmp));
		goto out;
	}
	if (rename(buf_cstr(&tmp), buf_cstr(&path)) != 0) {
		snprintf(why, whylen, "%s: %s", buf_cstr(&path), strerror(errno));
		unlink(buf_cstr(&tmp));
		goto out;
	}
	snprintf(why, whylen, "%s", buf_cstr(&path));
	ok = true;
out:
	buf_free(&path);
	buf_free(&tmp);
	return ok;
}

/* report_gen_check - the §4 check over dests with organizational domains by the
 * discovery method the policy was found by */
enum report_check
report_gen_check(const struct report_gen *g, const char *domain, const char *tag,
    const char *discovery, struct report_dest *dests, size_t *n, char *err, size_t errlen)
{
	struct gen_dns d = { .dns = g->dns };
	bool psl = discovery != NULL && strcmp(discovery, "psl") == 0;
	enum report_check rc = report_dest_check(domain, tag, dests, n,
	    psl ? dmarc_org_psl : gen_org_walk, psl ? (void *)g->psl : &d, gen_txt, &d, err,
	    errlen);

	for (size_t i = 0; i < d.n; i++)
		dns_query_free(d.q[i]);
	return rc;
}

/* report_gen_spf_record - the first v=spf1 TXT record at domain into out (reset) */
bool
report_gen_spf_record(const struct report_gen *g, const char *domain, struct buf *out)
{
	struct gen_dns d = { .dns = g->dns };
	const struct dns_answer *a = gen_txt(&d, domain);
	bool found = false;

	buf_reset(out);
	for (size_t i = 0; a != NULL && a->status == DNS_OK && i < a->count && !found; i++)
		if (strncasecmp(a->rr[i].txt, "v=spf1", 6) == 0 &&
		    (a->rr[i].txt[6] == '\0' || a->rr[i].txt[6] == ' ')) {
			buf_puts(out, a->rr[i].txt);
			found = true;
		}
	for (size_t i = 0; i < d.n; i++)
		dns_query_free(d.q[i]);
	return found;
}

/* report_gen_one - one report */
enum report_gen_result
report_gen_one(const struct report_gen *g, struct report_agg *a, const char *id,
    char *why, size_t whylen)
{
	const char *domain = report_agg_domain(a);
	const struct report_row *policy = report_agg_policy(a);
	struct report_dest dests[REPORT_MAX_URIS];
	struct report_meta meta = { g->org_name, g->email, id, g->generator, g->begin,
	    g->end };
	struct buf gz = BUF_INIT, name = BUF_INIT, msg = BUF_INIT;
	enum report_gen_result res = REPORT_GEN_FAILED;
	char err[512], dropped[512] = "";
	size_t n;

	if (policy == NULL) {
		snprintf(why, whylen, "no rows");
		return REPORT_GEN_SKIPPED;
	}
	if (!report_dest_domain_ok(domain)) {
		snprintf(why, whylen, "the policy domain is not a lower-case LDH domain name");
		return REPORT_GEN_SKIPPED;
	}
	n = report_rua_parse(policy->rua != NULL ? policy->rua : "", dests, REPORT_MAX_URIS);
	if (n == 0) {
		snprintf(why, whylen, "no usable mailto: URI in rua");
		return REPORT_GEN_SKIPPED;
	}
	if (g->out_dir == NULL || g->out_mail) {
		enum report_check rc = report_gen_check(g, domain, "rua", policy->discovery,
		    dests, &n, err, sizeof(err));

		if (rc == REPORT_CHECK_TEMP) {
			snprintf(why, whylen, "destination check: %s", err);
			return REPORT_GEN_DEFERRED;
		}
		if (n == 0) {
			snprintf(why, whylen, "no authorized destination: %s", err);
			return REPORT_GEN_SKIPPED;
		}
		snprintf(dropped, sizeof(dropped), "%s", err);
	}
	if (!report_xml_write(&meta, a, true, &gz, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	report_mail_filename(&name, g->receiver, domain, g->begin, g->end, id);
	if (g->out_dir != NULL && !g->out_mail) {
		if (report_gen_write_file(g->out_dir, buf_cstr(&name), &gz, why, whylen))
			res = REPORT_GEN_DONE;
		goto out;
	}

	struct report_mail m = { g->email, dests, n, domain, g->receiver, id, g->begin,
	    g->end, time(NULL), gz.data, gz.len };

	if (!report_mail_build(&msg, &m)) {
		snprintf(why, whylen, "a header value is not safe to write");
		goto out;
	}
	if (g->out_mail) {
		buf_puts(&name, ".eml");
		if (report_gen_write_file(g->out_dir, buf_cstr(&name), &msg, why, whylen))
			res = REPORT_GEN_DONE;
		goto out;
	}
	if (!report_mail_send(g->sendmail, msg.data, msg.len, err, sizeof(err))) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	struct buf to = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		buf_printf(&to, "%s%s", i > 0 ? "," : "", dests[i].addr);
	snprintf(why, whylen, "to=%s file=%s%s%s", buf_cstr(&to), buf_cstr(&name),
	    dropped[0] != '\0' ? " not to: " : "", dropped);
	buf_free(&to);
	res = REPORT_GEN_DONE;
out:
	buf_free(&gz);
	buf_free(&name);
	buf_free(&msg);
	return res;
}
