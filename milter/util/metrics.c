/* metrics - the daemon's counters and their Prometheus text page.
 *
 * metrics_message, metrics_result, metrics_signature, metrics_dns_*,
 * metrics_unsigned, metrics_session, metrics_reload count; metrics_clock and
 * metrics_seconds_since time a message; metrics_sign_domain registers a label
 * value for a signing domain; metrics_render writes the page (text format 0.0.4)
 * into a buf the caller owns. Counters are process-wide atomics bumped with
 * relaxed ordering; the page is a snapshot that may be a few events apart between
 * series, never torn within one value.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "fatal.h"
#include "lock.h"
#include "metrics.h"

/* The order of these tables is the order of the counter arrays below. */
static const char *const metrics_directions[] = { "inbound", "outbound" };
static const enum action metrics_actions[] = {
	ACTION_ACCEPT, ACTION_QUARANTINE, ACTION_TEMPFAIL, ACTION_REJECT
};
#define METRICS_N_ACTIONS	(sizeof(metrics_actions) / sizeof(metrics_actions[0]))
static const char *const metrics_checks[MC_N] = {
	"iprev", "spf", "spf_helo", "dkim", "dmarc", "arc"
};
#define METRICS_N_RESULTS	(AUTH_SKIPPED + 1)
/* the DKIM algorithms signatures are counted by (the "algorithm" label) */
static const char *const metrics_algs[] = { "rsa-sha256", "ed25519-sha256" };
#define METRICS_N_ALGS	(sizeof(metrics_algs) / sizeof(metrics_algs[0]))
/* Latency bucket bounds in seconds: a DNS answer from cache is sub-millisecond,
 * dns.timeout (default 5 s) bounds the slow end. */
static const double metrics_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define METRICS_N_BOUNDS	(sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

static atomic_ulong metrics_messages[2][METRICS_N_ACTIONS];
static atomic_ulong metrics_results[MC_N][METRICS_N_RESULTS];
static struct {
	atomic_ulong	 buckets[METRICS_N_BOUNDS + 1];	/* not cumulative; last: +Inf */
	atomic_ulong	 sum_us;
} metrics_latency[2];
static atomic_ulong metrics_dns[3];	/* queries, timeouts, cache hits */
static atomic_long metrics_sessions;
static atomic_ulong metrics_refused[2];	/* tempfailed at connect, closed at accept */
static atomic_ulong metrics_silent;	/* closed for sending nothing */
static atomic_ulong metrics_reloads[2];	/* ok, failed */
static atomic_ulong metrics_config_errors;
static atomic_int metrics_last_reload_ok = 1;
static atomic_ulong metrics_report[2];	/* rows written, dropped */
/* why outbound messages went unsigned: the log line's reason= words, then "other" */
static const char *const metrics_unsigned_reasons[] = {
	"no-from", "several-from-headers", "several-from-addresses", "from-unusable",
	"no-key-for-domain", "headers-over-limit", "sign-error", "other"
};
#define METRICS_N_UNSIGNED \
	(sizeof(metrics_unsigned_reasons) / sizeof(metrics_unsigned_reasons[0]))
static atomic_ulong metrics_unsigned_count[METRICS_N_UNSIGNED];
static atomic_ulong metrics_key_counts[MK_N];	/* keys by rotation state */
static atomic_llong metrics_key_oldest;		/* oldest active key's start; 0: none */
static const char *const metrics_key_states[MK_N] = {
	"pending", "active", "retired", "withdrawn"
};

/* Signing domains with a label value of their own, and "other" after them. Slots
 * are filled by one writer under metrics_lock and published by n_domains; a
 * published name never changes, so readers scan without the lock. */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 name[256];	/* a domain is at most 253 characters */
	atomic_ulong	 count[METRICS_N_ALGS];	/* by metrics_algs */
} metrics_domains[METRICS_MAX_SIGN_DOMAINS + 1];
static atomic_size_t metrics_n_domains;

/* metrics_add - one more, without ordering (a counter orders nothing) */
static void
metrics_add(atomic_ulong *c, unsigned long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* metrics_get - a counter's value now */
static unsigned long
metrics_get(atomic_ulong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* metrics_clock - the monotonic clock, which cannot fail here */
void
metrics_clock(struct timespec *ts)
{
	fatal_check(clock_gettime(CLOCK_MONOTONIC, ts) != 0 ? errno : 0, "clock_gettime");
}

/* metrics_seconds_since - seconds from start to now */
double
metrics_seconds_since(const struct timespec *start)
{
	struct timespec now;

	metrics_clock(&now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* metrics_message - count a message and observe its latency */
void
metrics_message(bool outbound, enum action action, double seconds)
{
	size_t a = 0, b = 0;

	for (size_t i = 0; i < METRICS_N_ACTIONS; i++)
		if (metrics_actions[i] == action)
			a = i;
	metrics_add(&metrics_messages[outbound][a], 1);
	while (b < METRICS_N_BOUNDS && seconds > metrics_bounds[b])
		b++;
	metrics_add(&metrics_latency[outbound].buckets[b], 1);
	metrics_add(&metrics_latency[outbound].sum_us,
	    seconds > 0 ? (unsigned long)(seconds * 1e6 + 0.5) : 0);
}

/* metrics_result - one verdict of one check */
void
metrics_result(enum metrics_check c, enum auth_result r)
{
	if ((unsigned)r < METRICS_N_RESULTS && r != AUTH_SKIPPED)
		metrics_add(&metrics_results[c][r], 1);
}

/* metrics_domain_slot - the slot of domain, or the "other" slot */
static size_t
metrics_domain_slot(const char *domain)
{
	size_t n = atomic_load_explicit(&metrics_n_domains, memory_order_acquire);

	for (size_t i = 0; i < n; i++)
		if (strcmp(metrics_domains[i].name, domain) == 0)
			return i;
	return METRICS_MAX_SIGN_DOMAINS;
}

/* metrics_sign_domain - register domain's label value while slots remain */
void
metrics_sign_domain(const char *domain)
{
	size_t n, len = strlen(domain);

	lock_take(&metrics_lock);
	n = atomic_load_explicit(&metrics_n_domains, memory_order_relaxed);
	if (n < METRICS_MAX_SIGN_DOMAINS && len < sizeof(metrics_domains[n].name) &&
	    metrics_domain_slot(domain) == METRICS_MAX_SIGN_DOMAINS) {
		memcpy(metrics_domains[n].name, domain, len + 1);
		atomic_store_explicit(&metrics_n_domains, n + 1, memory_order_release);
	}
	lock_release(&metrics_lock);
}

/* metrics_unsigned - count one unsigned outbound message under its reason */
void
metrics_unsigned(const char *reason)
{
	size_t i;

	for (i = 0; i + 1 < METRICS_N_UNSIGNED; i++)
		if (strcmp(reason, metrics_unsigned_reasons[i]) == 0)
			break;
	metrics_add(&metrics_unsigned_count[i], 1);
}

/* metrics_signature - count one signature under its domain's slot */
void
metrics_signature(const char *domain, const char *alg)
{
	size_t a = METRICS_N_ALGS;

	while (a > 1 && strcmp(alg, metrics_algs[a - 1]) != 0)
		a--;
	metrics_add(&metrics_domains[metrics_domain_slot(domain)].count[a - 1], 1);
}

/* metrics_dns_query - a question asked (front cache hits included) */
void
metrics_dns_query(void)
{
	metrics_add(&metrics_dns[0], 1);
}

/* metrics_dns_timeout - a question not answered by its deadline */
void
metrics_dns_timeout(void)
{
	metrics_add(&metrics_dns[1], 1);
}

/* metrics_dns_cache_hit - a question answered by the front cache */
void
metrics_dns_cache_hit(void)
{
	metrics_add(&metrics_dns[2], 1);
}

/* metrics_session - connections open now */
void
metrics_session(int delta)
{
	atomic_fetch_add_explicit(&metrics_sessions, delta, memory_order_relaxed);
}

/* metrics_session_refused - a connection over the cap: tempfailed at connect,
 * or closed at once (closed) */
void
metrics_session_refused(bool closed)
{
	metrics_add(&metrics_refused[closed], 1);
}

/* metrics_session_silent - a connection closed for sending nothing */
void
metrics_session_silent(void)
{
	metrics_add(&metrics_silent, 1);
}

/* metrics_reload - a reload's outcome */
void
metrics_reload(bool ok, unsigned problems)
{
	metrics_add(&metrics_reloads[!ok], 1);
	metrics_add(&metrics_config_errors, problems);
	atomic_store_explicit(&metrics_last_reload_ok, ok, memory_order_relaxed);
}

/* metrics_head - HELP and TYPE lines of one metric family */
static void
metrics_head(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* metrics_render_messages - messages and verdicts */
static void
metrics_render_messages(struct buf *out)
{
	metrics_head(out, "authmilter_messages_total", "counter",
	    "Messages ended, by direction and the action the MTA was given.");
	for (size_t d = 0; d < 2; d++)
		for (size_t a = 0; a < METRICS_N_ACTIONS; a++)
			buf_printf(out, "authmilter_messages_total{direction=\"%s\","
			    "action=\"%s\"} %lu\n", metrics_directions[d],
			    action_name(metrics_actions[a]),
			    metrics_get(&metrics_messages[d][a]));
	metrics_head(out, "authmilter_verdicts_total", "counter",
	    "Verdicts of inbound messages, by check and result (dkim: one per signature).");
	for (size_t c = 0; c < MC_N; c++)
		for (int r = AUTH_NONE; r < AUTH_SKIPPED; r++)
			buf_printf(out, "authmilter_verdicts_total{check=\"%s\",result=\"%s\"}"
			    " %lu\n", metrics_checks[c], auth_result_name((enum auth_result)r),
			    metrics_get(&metrics_results[c][r]));
}

/* metrics_render_latency - the end-of-body-to-reply histogram per direction */
static void
metrics_render_latency(struct buf *out)
{
	const char *name = "authmilter_eom_latency_seconds";

	metrics_head(out, name, "histogram",
	    "Seconds from the end of a message's body to authmilter's reply.");
	for (size_t d = 0; d < 2; d++) {
		unsigned long cum = 0;

		for (size_t b = 0; b <= METRICS_N_BOUNDS; b++) {
			cum += metrics_get(&metrics_latency[d].buckets[b]);
			if (b < METRICS_N_BOUNDS)
				buf_printf(out, "%s_bucket{direction=\"%s\",le=\"%g\"} %lu\n",
				    name, metrics_directions[d], metrics_bounds[b], cum);
			else
				buf_printf(out, "%s_bucket{direction=\"%s\",le=\"+Inf\"} %lu\n",
				    name, metrics_directions[d], cum);
		}
		buf_printf(out, "%s_sum{direction=\"%s\"} %.6f\n", name, metrics_directions[d],
		    (double)metrics_get(&metrics_latency[d].sum_us) / 1e6);
		/* the count is the buckets' total, so +Inf and _count always agree */
		buf_printf(out, "%s_count{direction=\"%s\"} %lu\n", name,
		    metrics_directions[d], cum);
	}
}

/* metrics_render_signatures - signatures by domain (bounded) and algorithm */
static void
metrics_render_signatures(struct buf *out)
{
	size_t n = atomic_load_explicit(&metrics_n_domains, memory_order_acquire);

	metrics_head(out, "authmilter_dkim_signatures_total", "counter",
	    "DKIM signatures made, by signing domain (the first "
	    "64 configured domains; the rest are \"other\") and algorithm.");
	for (size_t i = 0; i <= n; i++) {
		size_t slot = i < n ? i : METRICS_MAX_SIGN_DOMAINS;
		/* domains are checked A-labels: nothing in them needs escaping */
		const char *d = i < n ? metrics_domains[i].name : "other";

		for (size_t a = 0; a < METRICS_N_ALGS; a++)
			buf_printf(out, "authmilter_dkim_signatures_total{domain=\"%s\","
			    "algorithm=\"%s\"} %lu\n", d, metrics_algs[a],
			    metrics_get(&metrics_domains[slot].count[a]));
	}
	metrics_head(out, "authmilter_unsigned_total", "counter",
	    "Outbound messages left unsigned, by the reason the log line gives.");
	for (size_t r = 0; r < METRICS_N_UNSIGNED; r++)
		buf_printf(out, "authmilter_unsigned_total{reason=\"%s\"} %lu\n",
		    metrics_unsigned_reasons[r], metrics_get(&metrics_unsigned_count[r]));
}

/* metrics_report_rows - report rows written or dropped */
void
metrics_report_rows(bool written, unsigned long long n)
{
	metrics_add(&metrics_report[!written], (unsigned long)n);
}

/* metrics_render_refused - connections over the cap, silent ones closed */
static void
metrics_render_refused(struct buf *out)
{
	metrics_head(out, "authmilter_sessions_refused_total", "counter",
	    "Connections over max_sessions: tempfailed at connect, or closed at once "
	    "near the open-files limit.");
	buf_printf(out, "authmilter_sessions_refused_total{how=\"tempfail\"} %lu\n",
	    metrics_get(&metrics_refused[0]));
	buf_printf(out, "authmilter_sessions_refused_total{how=\"closed\"} %lu\n",
	    metrics_get(&metrics_refused[1]));
	metrics_head(out, "authmilter_sessions_silent_closed_total", "counter",
	    "Connections closed for sending nothing (session_idle_timeout, "
	    "session_timeout).");
	buf_printf(out, "authmilter_sessions_silent_closed_total %lu\n",
	    metrics_get(&metrics_silent));
}

/* metrics_keys - the installed configuration's keys by state */
void
metrics_keys(const unsigned long counts[MK_N], long long oldest_active)
{
	for (size_t i = 0; i < MK_N; i++)
		atomic_store_explicit(&metrics_key_counts[i], counts[i], memory_order_relaxed);
	atomic_store_explicit(&metrics_key_oldest, oldest_active, memory_order_relaxed);
}

/* metrics_render_keys - keys by state, and the oldest active key's age: one
 * series per state, none per domain */
static void
metrics_render_keys(struct buf *out)
{
	long long oldest = atomic_load_explicit(&metrics_key_oldest, memory_order_relaxed);
	long long age = oldest > 0 ? (long long)time(NULL) - oldest : 0;

	metrics_head(out, "authmilter_dkim_keys", "gauge",
	    "DKIM signing keys by rotation state (active: the keys that sign).");
	for (size_t i = 0; i < MK_N; i++)
		buf_printf(out, "authmilter_dkim_keys{state=\"%s\"} %lu\n",
		    metrics_key_states[i], metrics_get(&metrics_key_counts[i]));
	metrics_head(out, "authmilter_dkim_oldest_active_key_age_seconds", "gauge",
	    "Seconds since the oldest signing key began signing (0: no key).");
	buf_printf(out, "authmilter_dkim_oldest_active_key_age_seconds %lld\n",
	    age > 0 ? age : 0);
}

/* metrics_render - the whole page */
void
metrics_render(struct buf *out)
{
	metrics_render_messages(out);
	metrics_render_latency(out);
	metrics_render_signatures(out);
	metrics_render_keys(out);
	metrics_head(out, "authmilter_dns_queries_total", "counter",
	    "DNS questions asked, answered by the front cache or not.");
	buf_printf(out, "authmilter_dns_queries_total %lu\n", metrics_get(&metrics_dns[0]));
	metrics_head(out, "authmilter_dns_timeouts_total", "counter",
	    "DNS questions without an answer by dns.timeout.");
	buf_printf(out, "authmilter_dns_timeouts_total %lu\n", metrics_get(&metrics_dns[1]));
	metrics_head(out, "authmilter_dns_cache_hits_total", "counter",
	    "DNS questions answered by the front cache.");
	buf_printf(out, "authmilter_dns_cache_hits_total %lu\n",
	    metrics_get(&metrics_dns[2]));
	metrics_head(out, "authmilter_sessions_open", "gauge",
	    "MTA connections open now.");
	buf_printf(out, "authmilter_sessions_open %ld\n",
	    atomic_load_explicit(&metrics_sessions, memory_order_relaxed));
	metrics_render_refused(out);
	metrics_head(out, "authmilter_reloads_total", "counter",
	    "Reloads (SIGUSR1), by result.");
	buf_printf(out, "authmilter_reloads_total{result=\"ok\"} %lu\n",
	    metrics_get(&metrics_reloads[0]));
	buf_printf(out, "authmilter_reloads_total{result=\"failed\"} %lu\n",
	    metrics_get(&metrics_reloads[1]));
	metrics_head(out, "authmilter_config_errors_total", "counter",
	    "Problems found in the configuration by refused reloads.");
	buf_printf(out, "authmilter_config_errors_total %lu\n",
	    metrics_get(&metrics_config_errors));
	metrics_head(out, "authmilter_config_last_reload_successful", "gauge",
	    "1 when the last reload (or the start) loaded its configuration.");
	buf_printf(out, "authmilter_config_last_reload_successful %d\n",
	    atomic_load_explicit(&metrics_last_reload_ok, memory_order_relaxed));
	metrics_head(out, "authmilter_report_rows_total", "counter",
	    "DMARC report rows written to the report database, or dropped (queue full, "
	    "database refused them).");
	buf_printf(out, "authmilter_report_rows_total{outcome=\"written\"} %lu\n",
	    metrics_get(&metrics_report[0]));
	buf_printf(out, "authmilter_report_rows_total{outcome=\"dropped\"} %lu\n",
	    metrics_get(&metrics_report[1]));
}
