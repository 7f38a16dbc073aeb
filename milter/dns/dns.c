/* dns - the one resolver: libunbound, shared by all threads, caching.
 *
 * dns_resolver_new/free: one libunbound context (its cache is the real cache), a
 * small front cache of parsed answers (dns_cache.c: a repeated question is answered
 * in the asking thread), and one dispatcher thread that feeds libunbound's answers
 * to their queries.
 * dns_query_start: begin a lookup; dns_query_wait: its answer, by the deadline;
 * dns_query_done: would wait block; dns_query_free: cancel and release.
 * dns_deadline, dns_query_wait_until: one deadline for several lookups in a row.
 * The answer (dns_answer.h: its types, and the pure parsing of libunbound's
 * result) and every string in it belong to the query and die with it.
 *
 * Threads: libunbound resolves in its own thread (ub_ctx_async(ctx, 1)); our
 * dispatcher polls ub_fd() and runs ub_process(), which calls dns_query_done_cb.
 * A query is referenced by its owner and, while libunbound may still call back,
 * by the callback; the last one to let go frees it. ub_cancel() tells which: when
 * it succeeds libunbound will never call back, when it reports UB_NOID the
 * callback has been taken and is about to run (or has run).
 *
 * Invalid names (over 253 characters, empty or over-long labels, backslash escapes,
 * control characters) get DNS_NXDOMAIN with why "bad name" without a lookup: such
 * a name cannot exist in the DNS, so "does not exist" is the true answer, and a
 * caller must not be told to retry later.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "buf.h"
#include "dns.h"
#include "dns_cache.h"
#include "fatal.h"
#include "lock.h"
#include "metrics.h"
#include "trace.h"
#include "xalloc.h"

#define DNS_DEFAULT_TIMEOUT_MS 5000 /* when the options say 0 */
#define DNS_CANCEL_GRACE_MS 1000    /* wait for a callback ub_cancel missed */

struct dns_resolver {
	struct ub_ctx *ctx;
	struct dns_cache *cache; /* answers for the warm path, see dns_cache.h */
	unsigned timeout_ms;
	pthread_t dispatcher;
	int wake[2];  /* self-pipe: a byte means "stop" */
	bool started; /* dispatcher thread running */
};

/* One lookup. Lives until both its owner (dns_query_free) and a pending callback
 * have let go; lock guards every field below it. */
struct dns_query {
	struct dns_resolver *r;
	struct timespec deadline; /* CLOCK_MONOTONIC */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs; /* owner + pending callback */
	int async_id;
	char *name;	 /* asked for, to cache the answer under */
	bool done;	 /* ans is final */
	bool cancelling; /* one waiter is cancelling */
	bool cached;	 /* answered from the front cache */
	bool traced;	 /* its answer went to the trace hook */
	struct dns_answer ans;
};

/*
 * Zones libunbound answers itself by default (unbound.conf(5), "default zones":
 * RFC 6303, 6761, 7686, 8375). With our own forwarders they are lifted, so a site
 * resolver that serves internal reverse zones is asked.
 */
static const char *const dns_default_zones[] = {
    "localhost.",
    "127.in-addr.arpa.",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "home.arpa.",
    "onion.",
    "test.",
    "invalid.",
    "10.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "0.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "d.f.ip6.arpa.",
    "8.e.f.ip6.arpa.",
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
};

/* dns_set_option - one ub_ctx_set_option, with the failure put into err */
static bool
dns_set_option(struct ub_ctx *ctx, const char *opt, const char *val, char *err,
	       size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, opt, val);

	if (rc != 0) {
		snprintf(err, errlen, "unbound option %s %s: %s", opt, val,
			 ub_strerror(rc));
		return false;
	}
	return true;
}

/* dns_nodefault - lift one default local zone.
 *
 * "transparent" rather than "nodefault": libunbound 1.17 takes "nodefault" from
 * ub_ctx_set_option without error but still serves the default zone (only the
 * config-file path honours it). A transparent zone without local data sends
 * every query on to the forwarder, which is what we want.
 */
static bool
dns_nodefault(struct ub_ctx *ctx, const char *zone, char *err, size_t errlen)
{
	char val[128];
	int n = snprintf(val, sizeof(val), "%s transparent", zone);

	if (n < 0 || (size_t)n >= sizeof(val)) {
		snprintf(err, errlen, "zone name too long: %s", zone);
		return false;
	}
	return dns_set_option(ctx, "local-zone:", val, err, errlen);
}

/* dns_set_timeouts - make libunbound wait for an answer as long as we do.
 *
 * libunbound keeps a retransmit timeout per server (its infra cache): 376 ms for
 * one it does not know yet, then srtt + 4 * rttvar, doubled at each timeout. A
 * reply later than that timeout is thrown away and the query sent again, and a
 * server that keeps timing out is left alone. A forwarder that turns slow, say
 * answering in 1 s with dns.timeout at 2 s, is thus taken for a dead one: libunbound
 * answered SERVFAIL at once for seconds, and nearly every message was tempfailed,
 * though every answer would have come in time.
 *
 * A milter waits dns.timeout for its answer whatever happens, so unbound's own
 * timeout is set to that, as lower and upper bound: every reply within dns.timeout
 * is taken, no server is ever marked slow or down below it, and a server that
 * recovers is asked again at once (infra-keep-probing: never "down" for
 * infra-host-ttl). The cost: a lost UDP packet is not sent again before the
 * milter's own deadline, which on the way to a site resolver is rare; the
 * message is tempfailed, never misjudged.
 */
static bool
dns_set_timeouts(struct ub_ctx *ctx, unsigned timeout_ms, char *err, size_t errlen)
{
	char ms[16], s[16];
	int n = snprintf(ms, sizeof(ms), "%u", timeout_ms);
	int k = snprintf(s, sizeof(s), "%u", (timeout_ms + 999) / 1000);

	if (n < 0 || (size_t)n >= sizeof(ms) || k < 0 || (size_t)k >= sizeof(s))
		fatal_bug("dns timeout %u does not fit", timeout_ms);
	return dns_set_option(ctx, "unknown-server-time-limit:", ms, err, errlen) &&
	    dns_set_option(ctx, "infra-cache-min-rtt:", ms, err, errlen) &&
	    dns_set_option(ctx, "infra-host-ttl:", s, err, errlen) &&
	    dns_set_option(ctx, "infra-keep-probing:", "yes", err, errlen);
}

/* dns_configure - forwarders, local zones, timeouts, trust anchor */
static bool
dns_configure(struct ub_ctx *ctx, const struct dns_options *opts,
	      unsigned timeout_ms, char *err, size_t errlen)
{
	char zone[64];
	size_t i;
	int rc, k, n;

	if (!dns_set_option(ctx, "do-not-query-localhost:", "no", err, errlen) ||
	    !dns_set_timeouts(ctx, timeout_ms, err, errlen))
		return false;
	if (opts->n_nameservers == 0) {
		if ((rc = ub_ctx_resolvconf(ctx, NULL)) != 0) {
			snprintf(err, errlen, "reading /etc/resolv.conf: %s",
				 ub_strerror(rc));
			return false;
		}
		if ((rc = ub_ctx_hosts(ctx, NULL)) != 0) {
			snprintf(err, errlen, "reading /etc/hosts: %s", ub_strerror(rc));
			return false;
		}
	} else {
		for (i = 0; i < opts->n_nameservers; i++) {
			if ((rc = ub_ctx_set_fwd(ctx, opts->nameservers[i])) != 0) {
				snprintf(err, errlen, "nameserver \"%s\": %s",
					 opts->nameservers[i], ub_strerror(rc));
				return false;
			}
		}
		for (i = 0; i < sizeof(dns_default_zones) / sizeof(dns_default_zones[0]);
		     i++)
			if (!dns_nodefault(ctx, dns_default_zones[i], err, errlen))
				return false;
		for (k = 16; k <= 31; k++) { /* 172.16.0.0/12 */
			n = snprintf(zone, sizeof(zone), "%d.172.in-addr.arpa.", k);
			if (n < 0 || (size_t)n >= sizeof(zone) ||
			    !dns_nodefault(ctx, zone, err, errlen))
				return false;
		}
		for (k = 64; k <= 127; k++) { /* 100.64.0.0/10 */
			n = snprintf(zone, sizeof(zone), "%d.100.in-addr.arpa.", k);
			if (n < 0 || (size_t)n >= sizeof(zone) ||
			    !dns_nodefault(ctx, zone, err, errlen))
				return false;
		}
	}
	if (opts->trust_anchor != NULL && opts->trust_anchor[0] != '\0') {
		if ((rc = ub_ctx_add_ta_file(ctx, opts->trust_anchor)) != 0) {
			snprintf(err, errlen, "trust anchor %s: %s", opts->trust_anchor,
				 ub_strerror(rc));
			return false;
		}
	}
	if ((rc = ub_ctx_async(ctx, 1)) != 0) {
		snprintf(err, errlen, "unbound async mode: %s", ub_strerror(rc));
		return false;
	}
	return true;
}

/* dns_dispatch - the dispatcher thread: hand libunbound's answers to callbacks */
static void *
dns_dispatch(void *arg)
{
	struct dns_resolver *r = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(r->ctx);
	pfd[0].events = POLLIN;
	pfd[1].fd = r->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal_bug("dns dispatcher poll: %s", strerror(errno)); /* bad fds */
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0 && ub_process(r->ctx) != 0) {
			/* A broken pipe to libunbound's thread: nothing to
			 * read; the waiters' deadlines still hold. Don't spin. */
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* dns_resolver_new - a shared resolver; NULL with a message in err on failure */
struct dns_resolver *
dns_resolver_new(const struct dns_options *opts, char *err, size_t errlen)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	int rc;

	r->wake[0] = r->wake[1] = -1;
	r->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	r->cache = dns_cache_new();
	if ((r->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create the unbound context");
		goto fail;
	}
	if (!dns_configure(r->ctx, opts, r->timeout_ms, err, errlen))
		goto fail;
	if (pipe2(r->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		r->wake[0] = r->wake[1] = -1;
		goto fail;
	}
	if ((rc = pthread_create(&r->dispatcher, NULL, dns_dispatch, r)) != 0) {
		snprintf(err, errlen, "dns dispatcher thread: %s", strerror(rc));
		goto fail;
	}
	r->started = true;
	return r;
fail:
	dns_resolver_free(r);
	return NULL;
}

/* dns_resolver_free - stop the dispatcher, then libunbound */
void
dns_resolver_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		ssize_t n;

		do
			n = write(r->wake[1], "x", 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) {
			fatal_bug("dns dispatcher wake: %s", strerror(errno));
		}
		fatal_check(pthread_join(r->dispatcher, NULL), "pthread_join");
	}
	/* close() of a pipe end cannot lose data worth reporting */
	if (r->wake[0] >= 0)
		(void)close(r->wake[0]);
	if (r->wake[1] >= 0)
		(void)close(r->wake[1]);
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	dns_cache_free(r->cache);
	free(r);
}

/* dns_name_text - the name as libunbound's text form reads it: every octet
 * outside printable ASCII, and the backslash, as \DDD (RFC 1035 §5.1) */
static void
dns_name_text(const char *name, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\')
			buf_printf(out, "\\%03u", *p);
		else
			buf_putc(out, (char)*p);
	}
}

/* dns_query_release - drop one reference; the last one frees */
static void
dns_query_release(struct dns_query *q)
{
	bool last;

	lock_take(&q->lock);
	last = --q->refs == 0;
	lock_release(&q->lock);
	if (!last)
		return;
	dns_answer_clear(&q->ans);
	free(q->name);
	fatal_check(pthread_mutex_destroy(&q->lock), "pthread_mutex_destroy");
	fatal_check(pthread_cond_destroy(&q->cond), "pthread_cond_destroy");
	free(q);
}

/* dns_query_done_cb - libunbound's answer, in the dispatcher thread */
static void
dns_query_done_cb(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.rrtype = q->ans.rrtype; /* set before start, never changed */
	dns_answer_fill(&a, err, res);
	if (res != NULL) {
		if (err == 0)
			dns_cache_put(q->r->cache, q->name, a.rrtype, &a, res->ttl);
		ub_resolve_free(res);
	}

	lock_take(&q->lock);
	if (!q->done) {
		q->ans = a;
		q->done = true;
		fatal_check(pthread_cond_broadcast(&q->cond), "pthread_cond_broadcast");
	} else {
		dns_answer_clear(&a); /* given up on already */
	}
	lock_release(&q->lock);
	dns_query_release(q);
}

/* dns_now - the monotonic clock */
static struct timespec
dns_now(void)
{
	struct timespec ts;

	fatal_check(clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ? errno : 0,
	    "clock_gettime");
	return ts;
}

/* dns_add_ms - ts plus ms milliseconds */
static struct timespec
dns_add_ms(struct timespec ts, unsigned ms)
{
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* dns_deadline - now plus n_timeouts lookup timeouts */
struct timespec
dns_deadline(const struct dns_resolver *r, unsigned n_timeouts)
{
	return dns_add_ms(dns_now(), r->timeout_ms * n_timeouts);
}

/* dns_deadline_passed - is the monotonic clock past deadline */
bool
dns_deadline_passed(const struct timespec *deadline)
{
	struct timespec now = dns_now();

	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* dns_query_new - a query holding only its owner's reference */
static struct dns_query *
dns_query_new(struct dns_resolver *r, int rrtype)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;

	q->r = r;
	q->refs = 1;
	q->ans.rrtype = rrtype;
	q->ans.security = DNS_SEC_INSECURE;
	if (pthread_mutex_init(&q->lock, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&q->cond, &ca) != 0) {
		fatal_exit("cannot initialise a dns query lock"); /* resources */
	}
	(void)pthread_condattr_destroy(&ca); /* no-op on glibc */
	q->deadline = dns_add_ms(dns_now(), r->timeout_ms);
	return q;
}

/* dns_query_start - begin a lookup of a host or domain name; never NULL */
struct dns_query *
dns_query_start(struct dns_resolver *r, const char *name, int rrtype)
{
	return dns_query_start_flags(r, name, rrtype, 0);
}

/* dns_query_start_flags - begin a lookup, name checked by dns_name_ok(flags) */
struct dns_query *
dns_query_start_flags(struct dns_resolver *r, const char *name, int rrtype,
    unsigned flags)
{
	struct dns_query *q = dns_query_new(r, rrtype);
	struct buf text = BUF_INIT;
	int rc, id = 0;

	metrics_dns_query();
	if (trace_hook != NULL)
		q->name = xstrdup(name);	/* for the trace of its answer */
	if (!dns_name_ok(name, flags)) {
		q->ans.status = DNS_NXDOMAIN;
		q->ans.why = "bad name";
		q->done = true;
		return q;
	}
	if (dns_cache_get(r->cache, name, rrtype, &q->ans)) {
		q->cached = true;
		q->done = true;
		return q;
	}
	if (q->name == NULL)
		q->name = xstrdup(name);
	q->refs = 2; /* the callback's, until it runs */
	dns_name_text(name, &text);
	rc = ub_resolve_async(r->ctx, buf_cstr(&text), rrtype, 1 /* IN */, q,
	    dns_query_done_cb, &id);
	buf_free(&text);
	lock_take(&q->lock);
	if (rc != 0) {
		q->refs = 1; /* no callback will come */
		dns_answer_tempfail(&q->ans, ub_strerror(rc));
		q->done = true;
	}
	q->async_id = id;
	lock_release(&q->lock);
	return q;
}

/* dns_cancel - stop a running query; true when its callback will never run */
static bool
dns_cancel(struct dns_query *q, int id)
{
	if (ub_cancel(q->r->ctx, id) == UB_NOERROR) {
		dns_query_release(q); /* the callback's reference */
		return true;
	}
	return false;
}

/* dns_query_wait_answer - block until the answer or the deadline */
static const struct dns_answer *
dns_query_wait_answer(struct dns_query *q)
{
	int rc = 0, id;

	lock_take(&q->lock);
	while (!q->done && !q->cancelling && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->cond, &q->lock, &q->deadline);
	if (q->done) {
		lock_release(&q->lock);
		return &q->ans;
	}
	if (q->cancelling) {
		/* another thread times it out: wait for its verdict */
		while (!q->done)
			fatal_check(pthread_cond_wait(&q->cond, &q->lock), "pthread_cond_wait");
		lock_release(&q->lock);
		return &q->ans;
	}
	q->cancelling = true;
	id = q->async_id;
	lock_release(&q->lock);

	metrics_dns_timeout();
	if (dns_cancel(q, id)) {
		lock_take(&q->lock);
		dns_answer_tempfail(&q->ans, "timeout");
		q->done = true;
	} else {
		/* The callback has been taken and runs now: let it finish,
		 * but never wait without bound. */
		struct timespec grace = dns_add_ms(dns_now(), DNS_CANCEL_GRACE_MS);

		rc = 0;
		lock_take(&q->lock);
		while (!q->done && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&q->cond, &q->lock, &grace);
		if (!q->done) {
			dns_answer_tempfail(&q->ans, "timeout");
			q->done = true; /* a late callback discards its own */
		}
	}
	fatal_check(pthread_cond_broadcast(&q->cond), "pthread_cond_broadcast");
	lock_release(&q->lock);
	return &q->ans;
}

/* dns_type_name - an RR type we ask for, spelled */
static const char *
dns_type_name(int rrtype)
{
	switch (rrtype) {
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_MX:		return "MX";
	case DNS_T_TXT:		return "TXT";
	case DNS_T_CNAME:	return "CNAME";
	default:		return "?";
	}
}

/* dns_trace - a question and its answer to the trace hook (authmilter-check) */
static void
dns_trace(struct dns_query *q, const char *name)
{
	const struct dns_answer *a = &q->ans;
	struct buf b = BUF_INIT;
	char addr[INET6_ADDRSTRLEN];

	buf_printf(&b, "%s %s: %s", dns_type_name(a->rrtype), name,
	    dns_status_name(a->status));
	if (a->status == DNS_TEMPFAIL || a->why != NULL)
		buf_printf(&b, " (%s)", a->why != NULL ? a->why : "?");
	else if (a->status == DNS_OK)
		buf_printf(&b, " ttl=%d", a->ttl);
	if (q->cached)
		buf_puts(&b, " (asked before)");
	if (a->security == DNS_SEC_SECURE)
		buf_puts(&b, " dnssec=secure");
	for (size_t i = 0; i < a->count; i++) {
		const struct dns_rr *rr = &a->rr[i];

		if (rr->txt != NULL)
			buf_printf(&b, " \"%s\"", rr->txt);
		else if (rr->name != NULL && a->rrtype == DNS_T_MX)
			buf_printf(&b, " %u %s", rr->pref, rr->name);
		else if (rr->name != NULL)
			buf_printf(&b, " %s", rr->name);
		else if (inet_ntop(rr->family, rr->addr, addr, sizeof(addr)) != NULL)
			buf_printf(&b, " %s", addr);
	}
	trace_step("dns", "%s", buf_cstr(&b));
	buf_free(&b);
}

/* dns_query_wait - the answer, by the deadline; traced once when tracing is on */
const struct dns_answer *
dns_query_wait(struct dns_query *q)
{
	const struct dns_answer *a = dns_query_wait_answer(q);

	if (trace_hook != NULL && !q->traced) {
		q->traced = true;
		dns_trace(q, q->name != NULL ? q->name : "(bad name)");
	}
	return a;
}

/* dns_query_wait_until - wait no later than deadline (nor the lookup's timeout) */
const struct dns_answer *
dns_query_wait_until(struct dns_query *q, const struct timespec *deadline)
{
	lock_take(&q->lock);
	if (deadline->tv_sec < q->deadline.tv_sec || (deadline->tv_sec ==
	    q->deadline.tv_sec && deadline->tv_nsec < q->deadline.tv_nsec))
		q->deadline = *deadline;
	lock_release(&q->lock);
	return dns_query_wait(q);
}

/* dns_query_done - true when wait would not block */
bool
dns_query_done(struct dns_query *q)
{
	struct timespec now = dns_now();
	bool done;

	lock_take(&q->lock);
	done = q->done || now.tv_sec > q->deadline.tv_sec ||
	       (now.tv_sec == q->deadline.tv_sec && now.tv_nsec >= q->deadline.tv_nsec);
	lock_release(&q->lock);
	return done;
}

/* dns_query_free - cancel if still running, release; NULL is fine */
void
dns_query_free(struct dns_query *q)
{
	bool running;
	int id;

	if (q == NULL)
		return;
	lock_take(&q->lock);
	running = !q->done && !q->cancelling;
	if (running) {
		q->cancelling = true;
		q->done = true; /* a callback still to come discards */
	}
	id = q->async_id;
	lock_release(&q->lock);
	if (running)
		(void)dns_cancel(q, id);
	dns_query_release(q);
}
