/* dns - the one resolver: libunbound, shared by all threads, caching.
 *
 * dns_resolver_new/free: one libunbound context (its cache is the real cache), a
 * small front cache of parsed answers (dns_cache.c: a repeated question is answered
 * in the asking thread), and one dispatcher thread that feeds libunbound's answers
 * to their queries.
 * dns_query_start: begin a lookup; dns_query_wait: its answer, by the deadline;
 * dns_query_done: would wait block; dns_query_free: cancel and release.
 * dns_status_name: the status as text. dns_answer_fill/clear: the pure step from
 * libunbound's result to our answer (the fuzzers call it directly).
 * The answer and every string in it belong to the query and die with it.
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
#include "xalloc.h"

#define DNS_DEFAULT_TIMEOUT_MS 5000 /* when the options say 0 */
#define DNS_MAX_NAME_WIRE 255	    /* octets of a wire-format name */
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
	struct dns_answer ans;
};

/* dns_pthread_ok - a pthread call on our own valid objects cannot fail; when
 * one does, that is our bug */
static void
dns_pthread_ok(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "authmilter: dns: %s: %s\n", what, strerror(rc));
		abort();
	}
}

/* dns_status_name - "ok", "nxdomain", "nodata", "tempfail" */
const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

/* dns_rcode_why - static text for a failing rcode */
static const char *
dns_rcode_why(int rcode)
{
	switch (rcode) {
	case 1:
		return "FORMERR";
	case 2:
		return "SERVFAIL";
	case 4:
		return "NOTIMP";
	case 5:
		return "REFUSED";
	default:
		return "DNS error";
	}
}

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

/* dns_configure - forwarders, local zones, trust anchor */
static bool
dns_configure(struct ub_ctx *ctx, const struct dns_options *opts, char *err,
	      size_t errlen)
{
	char zone[64];
	size_t i;
	int rc, k, n;

	if (!dns_set_option(ctx, "do-not-query-localhost:", "no", err, errlen))
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
		/* a site resolver that stopped answering for a while keeps
		 * being probed; unbound may otherwise leave it marked down for
		 * infra-host-ttl (unbound.conf(5)) */
		if (!dns_set_option(ctx, "infra-keep-probing:", "yes", err, errlen))
			return false;
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
			fprintf(stderr, "authmilter: dns dispatcher poll: %s\n",
				strerror(errno));
			abort(); /* our bug: bad descriptors */
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
	if (!dns_configure(r->ctx, opts, err, errlen))
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
			fprintf(stderr, "authmilter: dns dispatcher wake: %s\n",
				strerror(errno));
			abort();
		}
		dns_pthread_ok(pthread_join(r->dispatcher, NULL), "join");
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

/* Bounds-checked reader over one RR's rdata. */
struct dns_cursor {
	const unsigned char *p;
	size_t left;
};

/* dns_get16 - read a network-order 16-bit value */
static bool
dns_get16(struct dns_cursor *c, unsigned *v)
{
	if (c->left < 2)
		return false;
	*v = ((unsigned)c->p[0] << 8) | c->p[1];
	c->p += 2;
	c->left -= 2;
	return true;
}

/* dns_get_name - an uncompressed wire-format name as lower-case text, no final
 * dot ("" for the root); NULL when malformed */
static char *
dns_get_name(struct dns_cursor *c)
{
	struct buf b = BUF_INIT;
	size_t wire = 0;

	for (;;) {
		size_t len, i;

		if (c->left < 1)
			goto bad;
		len = c->p[0];
		c->p++;
		c->left--;
		wire += len + 1;
		if (wire > DNS_MAX_NAME_WIRE)
			goto bad;
		if (len == 0)
			break;
		if (len > DNS_MAX_LABEL || len > c->left) /* pointers too */
			goto bad;
		if (b.len > 0)
			buf_putc(&b, '.');
		for (i = 0; i < len; i++) {
			unsigned char ch = c->p[i];

			/* a dot or an escape inside a label would change what
			 * the text means; control bytes have no business here */
			if (ch <= ' ' || ch >= 0x7f || ch == '.' || ch == '\\')
				goto bad;
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			buf_putc(&b, ch);
		}
		c->p += len;
		c->left -= len;
	}
	if (b.len == 0)
		buf_puts(&b, ""); /* allocate: the root is "" */
	return buf_steal(&b);
bad:
	buf_free(&b);
	return NULL;
}

enum dns_parse {
	DNS_PARSE_OK,
	DNS_PARSE_BAD, /* malformed rdata */
	DNS_PARSE_BIG  /* TXT over DNS_MAX_TXT */
};

/* dns_parse_rr - one RR's rdata into rr */
static enum dns_parse
dns_parse_rr(int rrtype, const unsigned char *data, size_t len, struct dns_rr *rr)
{
	struct dns_cursor c = {data, len};
	struct buf b = BUF_INIT;

	memset(rr, 0, sizeof(*rr));
	switch (rrtype) {
	case DNS_T_A:
		if (len != 4)
			return DNS_PARSE_BAD;
		rr->family = AF_INET;
		memcpy(rr->addr, data, 4);
		return DNS_PARSE_OK;
	case DNS_T_AAAA:
		if (len != 16)
			return DNS_PARSE_BAD;
		rr->family = AF_INET6;
		memcpy(rr->addr, data, 16);
		return DNS_PARSE_OK;
	case DNS_T_MX:
		if (!dns_get16(&c, &rr->pref))
			return DNS_PARSE_BAD;
		/* FALLTHROUGH */
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if ((rr->name = dns_get_name(&c)) == NULL)
			return DNS_PARSE_BAD;
		if (c.left != 0) {
			free(rr->name);
			rr->name = NULL;
			return DNS_PARSE_BAD;
		}
		return DNS_PARSE_OK;
	case DNS_T_TXT:
		while (c.left > 0) {
			size_t slen = c.p[0];

			if (slen > c.left - 1) {
				buf_free(&b);
				return DNS_PARSE_BAD;
			}
			if (b.len + slen > DNS_MAX_TXT) {
				buf_free(&b);
				return DNS_PARSE_BIG;
			}
			buf_append(&b, c.p + 1, slen);
			c.p += slen + 1;
			c.left -= slen + 1;
		}
		rr->txt_len = b.len;
		if (b.len == 0)
			buf_puts(&b, "");
		rr->txt = buf_steal(&b);
		return DNS_PARSE_OK;
	default:
		return DNS_PARSE_BAD; /* a type we do not ask for */
	}
}

/* dns_answer_clear - free what an answer holds */
void
dns_answer_clear(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->count; i++) {
		free(a->rr[i].name);
		free(a->rr[i].txt);
	}
	free(a->rr);
	a->rr = NULL;
	a->count = 0;
}

/* dns_tempfail - make a an empty temporary failure */
static void
dns_tempfail(struct dns_answer *a, const char *why)
{
	dns_answer_clear(a);
	a->status = DNS_TEMPFAIL;
	a->why = why;
}

/* dns_answer_fill - turn libunbound's result into our answer */
void
dns_answer_fill(struct dns_answer *a, int err, const struct ub_result *res)
{
	size_t n, i;
	bool big = false;

	if (err != 0 || res == NULL) {
		dns_tempfail(a, err != 0 ? ub_strerror(err) : "no result");
		return;
	}
	if (res->secure)
		a->security = DNS_SEC_SECURE;
	if (res->bogus) {
		a->security = DNS_SEC_BOGUS;
		dns_tempfail(a, "DNSSEC bogus");
		return;
	}
	if (res->rcode == 3) {
		a->status = DNS_NXDOMAIN;
		return;
	}
	if (res->rcode != 0) {
		dns_tempfail(a, dns_rcode_why(res->rcode));
		return;
	}
	if (!res->havedata || res->data == NULL || res->data[0] == NULL) {
		a->status = DNS_NODATA;
		return;
	}
	for (n = 0; res->data[n] != NULL; n++)
		;
	if (n > DNS_MAX_RECORDS)
		n = DNS_MAX_RECORDS;
	a->rr = xcalloc(n, sizeof(*a->rr));
	for (i = 0; i < n; i++) {
		if (res->len[i] < 0)
			continue;
		switch (dns_parse_rr(a->rrtype, (const unsigned char *)res->data[i],
				     (size_t)res->len[i], &a->rr[a->count])) {
		case DNS_PARSE_OK:
			a->count++;
			break;
		case DNS_PARSE_BIG:
			big = true;
			break;
		case DNS_PARSE_BAD:
			break;
		}
	}
	if (a->count == 0)
		dns_tempfail(a, big ? "oversized" : "malformed answer");
	else
		a->status = DNS_OK;
}

/* dns_query_release - drop one reference; the last one frees */
static void
dns_query_release(struct dns_query *q)
{
	bool last;

	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	last = --q->refs == 0;
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
	if (!last)
		return;
	dns_answer_clear(&q->ans);
	free(q->name);
	dns_pthread_ok(pthread_mutex_destroy(&q->lock), "mutex destroy");
	dns_pthread_ok(pthread_cond_destroy(&q->cond), "cond destroy");
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

	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	if (!q->done) {
		q->ans = a;
		q->done = true;
		dns_pthread_ok(pthread_cond_broadcast(&q->cond), "broadcast");
	} else {
		dns_answer_clear(&a); /* given up on already */
	}
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
	dns_query_release(q);
}

/* dns_now - the monotonic clock */
static struct timespec
dns_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort(); /* cannot fail with a valid clock id */
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
		fprintf(stderr, "authmilter: cannot initialise a dns query lock\n");
		exit(EXIT_FAILURE); /* resource exhaustion: start-up tier */
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

	if (!dns_name_ok(name, flags)) {
		q->ans.status = DNS_NXDOMAIN;
		q->ans.why = "bad name";
		q->done = true;
		return q;
	}
	if (dns_cache_get(r->cache, name, rrtype, &q->ans)) {
		q->done = true;
		return q;
	}
	q->name = xstrdup(name);
	q->refs = 2; /* the callback's, until it runs */
	dns_name_text(name, &text);
	rc = ub_resolve_async(r->ctx, buf_cstr(&text), rrtype, 1 /* IN */, q,
	    dns_query_done_cb, &id);
	buf_free(&text);
	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	if (rc != 0) {
		q->refs = 1; /* no callback will come */
		dns_tempfail(&q->ans, ub_strerror(rc));
		q->done = true;
	}
	q->async_id = id;
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
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

/* dns_query_wait - block until the answer or the deadline */
const struct dns_answer *
dns_query_wait(struct dns_query *q)
{
	int rc = 0, id;

	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	while (!q->done && !q->cancelling && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->cond, &q->lock, &q->deadline);
	if (q->done) {
		dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
		return &q->ans;
	}
	if (q->cancelling) {
		/* another thread times it out: wait for its verdict */
		while (!q->done)
			dns_pthread_ok(pthread_cond_wait(&q->cond, &q->lock), "wait");
		dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
		return &q->ans;
	}
	q->cancelling = true;
	id = q->async_id;
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");

	if (dns_cancel(q, id)) {
		dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
		dns_tempfail(&q->ans, "timeout");
		q->done = true;
	} else {
		/* The callback has been taken and runs now: let it finish,
		 * but never wait without bound. */
		struct timespec grace = dns_add_ms(dns_now(), DNS_CANCEL_GRACE_MS);

		rc = 0;
		dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
		while (!q->done && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&q->cond, &q->lock, &grace);
		if (!q->done) {
			dns_tempfail(&q->ans, "timeout");
			q->done = true; /* a late callback discards its own */
		}
	}
	dns_pthread_ok(pthread_cond_broadcast(&q->cond), "broadcast");
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
	return &q->ans;
}

/* dns_query_done - true when wait would not block */
bool
dns_query_done(struct dns_query *q)
{
	struct timespec now = dns_now();
	bool done;

	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	done = q->done || now.tv_sec > q->deadline.tv_sec ||
	       (now.tv_sec == q->deadline.tv_sec && now.tv_nsec >= q->deadline.tv_nsec);
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
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
	dns_pthread_ok(pthread_mutex_lock(&q->lock), "lock");
	running = !q->done && !q->cancelling;
	if (running) {
		q->cancelling = true;
		q->done = true; /* a callback still to come discards */
	}
	id = q->async_id;
	dns_pthread_ok(pthread_mutex_unlock(&q->lock), "unlock");
	if (running)
		(void)dns_cancel(q, id);
	dns_query_release(q);
}
