/* generation - a loaded configuration and what was built from it, reference counted.
 *
 * generation_load, generation_install, generation_current, generation_release,
 * generation_shutdown. The current pointer is swapped under a mutex (taken once per
 * connection, never per callback); reference counts are atomic.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "dkim_rotate_state.h"
#include "generation.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "report_store.h"
#include "xalloc.h"

static pthread_mutex_t generation_lock = PTHREAD_MUTEX_INITIALIZER;
static struct generation *generation_now;
static unsigned long generation_serial;

/* generation_free - release everything a generation holds */
static void
generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	dns_resolver_free(g->dns);
	dkim_keytable_free(g->keys);
	if (g->psl != NULL)
		psl_free(g->psl);
	conf_free(g->conf);
	free(g);
}

/* Whether generation_load still owes the report.email warning: once a process,
 * so that a daemon says it at start and not at every reload. */
static atomic_bool generation_email_warn_due = true;

/* generation_report_email_warn - report mail should pass DMARC (RFC 9990 §3.5):
 * say so when report.email's domain is not one we sign for (a key's own domain,
 * or its subdomain when the key says subdomains = true). A warning only: aligned
 * SPF or a signature added on another hop can make it pass as well. */
bool
generation_report_email_warn(const struct generation *g, FILE *err)
{
	const struct conf *c = g->conf;
	const struct conf_key *k[1];

	if (c->report.email_domain[0] == '\0' ||
	    dkim_keytable_match(g->keys, c->report.email_domain, k, 1) > 0)
		return false;
	fprintf(err, "%s:%d: report.email: warning: we sign for no key of %s, so report "
	    "mail from \"%s\" passes DMARC only by aligned SPF or a signature added on "
	    "another hop; add a dkim key for it or use an address in a signed domain\n",
	    c->path, c->report.email_line, c->report.email_domain, c->report.email);
	return true;
}

/* generation_report_email_quiet - the caller gives the warning itself */
void
generation_report_email_quiet(void)
{
	atomic_store(&generation_email_warn_due, false);
}

/* generation_load - config, keys, resolver and PSL, or NULL with reasons in err */
struct generation *
generation_load(const char *path, FILE *err)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	struct dns_options opts;
	char why[256];

	conf_set_database_check(report_store_uri_check);
	if ((g->conf = conf_load(path, err)) == NULL)
		goto fail;
	if ((g->keys = dkim_keytable_new(g->conf, err)) == NULL)
		goto fail;
	if (g->conf->report.enable && atomic_exchange(&generation_email_warn_due, false))
		(void)generation_report_email_warn(g, err);
	opts.nameservers = g->conf->dns.nameservers;
	opts.n_nameservers = g->conf->dns.n_nameservers;
	opts.timeout_ms = g->conf->dns.timeout * 1000;
	opts.trust_anchor = g->conf->dns.trust_anchor;
	if ((g->dns = dns_resolver_new(&opts, why, sizeof(why))) == NULL) {
		fprintf(err, "%s: dns: %s\n", path, why);
		goto fail;
	}
	if (g->conf->dmarc.public_suffix_list[0] != '\0') {
		g->psl = psl_load_file(g->conf->dmarc.public_suffix_list);
		if (g->psl == NULL) {
			fprintf(err, "%s: dmarc.public_suffix_list: cannot load \"%s\"\n", path,
			    g->conf->dmarc.public_suffix_list);
			goto fail;
		}
	} else if ((g->psl = (psl_ctx_t *)psl_latest(NULL)) == NULL) {
		fprintf(err, "%s: dmarc.public_suffix_list: libpsl has no built-in list; "
		    "set the file\n", path);
		goto fail;
	}
	atomic_init(&g->refs, 1);
	return g;
fail:
	generation_free(g);
	return NULL;
}

/* generation_rk_cmp - rotation keys by domain, then selector */
static int
generation_rk_cmp(const void *a, const void *b)
{
	const struct dkim_rotate_key *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c != 0 ? c : strcmp(x->selector, y->selector);
}

/* generation_key_metrics - the keys by rotation state: active are the keys
 * that sign (a key's start from the rotation state, else its file's time);
 * pending, retired, withdrawn from the state file of the keys directory */
static void
generation_key_metrics(const struct generation *g)
{
	unsigned long counts[MK_N] = { 0 };
	struct dkim_rotate_key *rk = NULL;
	size_t n_rk = 0;
	long long oldest = 0;
	char err[256];
	const char *dir = g->conf->dkim.keys_directory;

	if (dir[0] != '\0' && !dkim_rotate_state_load(dir, &rk, &n_rk, err, sizeof(err)))
		log_msg(LOG_WARNING, "key metrics: %s", err);
	for (size_t i = 0; i < n_rk; i++)
		if (rk[i].state != DKIM_ROTATE_ACTIVE)
			counts[rk[i].state == DKIM_ROTATE_PENDING ? MK_PENDING :
			    rk[i].state == DKIM_ROTATE_RETIRED ? MK_RETIRED : MK_WITHDRAWN]++;
	if (n_rk > 0)
		qsort(rk, n_rk, sizeof(*rk), generation_rk_cmp);
	for (size_t i = 0; i < dkim_keytable_count(g->keys); i++) {
		const struct conf_key *k = dkim_keytable_at(g->keys, i);
		struct dkim_rotate_key want = { 0 };
		const struct dkim_rotate_key *found = NULL;
		long long start = 0;
		struct stat st;

		counts[MK_ACTIVE]++;
		if (n_rk > 0) {
			snprintf(want.domain, sizeof(want.domain), "%s", k->domain);
			snprintf(want.selector, sizeof(want.selector), "%s", k->selector);
			found = bsearch(&want, rk, n_rk, sizeof(*rk), generation_rk_cmp);
		}
		if (found != NULL && found->state == DKIM_ROTATE_ACTIVE)
			start = found->activated;
		if (start == 0 && stat(k->file, &st) == 0)
			start = (long long)st.st_mtime;
		if (start > 0 && (oldest == 0 || start < oldest))
			oldest = start;
	}
	free(rk);
	metrics_keys(counts, oldest);
}

/* generation_install - make g current; the previous one goes when its sessions end */
void
generation_install(struct generation *g)
{
	struct generation *old;

	/* the signing domains' label values, before any session can sign with them */
	for (size_t i = 0; i < dkim_keytable_count(g->keys); i++)
		metrics_sign_domain(dkim_keytable_at(g->keys, i)->domain);
	generation_key_metrics(g);
	lock_take(&generation_lock);
	g->serial = ++generation_serial;
	old = generation_now;
	generation_now = g;
	lock_release(&generation_lock);
	generation_release(old);
}

/* generation_current - a reference to the current generation */
struct generation *
generation_current(void)
{
	struct generation *g;

	lock_take(&generation_lock);
	g = generation_now;
	if (g != NULL)
		atomic_fetch_add(&g->refs, 1);
	lock_release(&generation_lock);
	return g;
}

/* generation_release - drop one reference; NULL is fine */
void
generation_release(struct generation *g)
{
	if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1)
		generation_free(g);
}

/* generation_shutdown - drop the current generation's own reference */
void
generation_shutdown(void)
{
	struct generation *g;

	lock_take(&generation_lock);
	g = generation_now;
	generation_now = NULL;
	lock_release(&generation_lock);
	generation_release(g);
}
