/* loadgen - a milter load client: many concurrent MTA connections, latency figures.
 *
 * loadgen -s SOCKET [-s SOCKET2]... [-c CONNS] [-n TOTAL] [-m PER_CONN]
 *         [-a CLIENT_IP] [-N CLIENT_NAME] [-H HELO] [-f MAILFROM] [-r RCPT]...
 *         [-A AUTH_USER] [-t TIMEOUT_S] MESSAGEFILE
 *
 * CONNS threads each open a connection (one per socket), run PER_CONN messages
 * through it, close it and open the next, until TOTAL messages have been sent. With
 * several -s the message goes through each milter in turn on its own connection, the
 * header changes of one applied before the next sees it, as Postfix's cleanup does
 * with a list of milters; the verdict is the first that is not "accept".
 *
 * Prints messages/s, latency per message (MAIL FROM to the final reply, summed over
 * the chain) as p50/p90/p99/max in ms, the same for the end-of-body-to-reply time,
 * the count of each final action, of added DKIM-Signature and
 * Authentication-Results fields, and of errors; the last line is the same as JSON.
 * Exit 0 when it ran (errors are counted, not fatal), 1 on a usage error, 2 when the
 * message cannot be read.
 *
 * Uses tests/lib/milter_client; each thread owns its connections and result slots.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "milter_client.h"
#include "xalloc.h"

#define LG_MAX_SOCKETS	8		/* milters in one chain */
#define LG_MAX_RCPTS	100		/* recipients on the command line */
#define LG_MAX_CONNS	1024		/* concurrent connections (threads) */
#define LG_MAX_TOTAL	10000000L	/* messages in one run */
#define LG_MAX_MESSAGE	(256UL * 1024 * 1024)	/* largest message file */
#define LG_ERRLEN	300

/* The final verdicts counted; "quarantine" is an accept with a quarantine reason. */
enum lg_verdict { LG_ACCEPT, LG_REJECT, LG_TEMPFAIL, LG_DISCARD, LG_QUARANTINE,
	LG_NVERDICTS };
static const char *const lg_verdict_names[LG_NVERDICTS] = {
	"accept", "reject", "tempfail", "discard", "quarantine" };

/* The run's parameters and shared counters; the slots are written by one thread each. */
struct lg_run {
	const char	*sockets[LG_MAX_SOCKETS];
	size_t		 nsockets;
	long		 conns, total, per_conn;
	int		 timeout_ms;
	struct mc_envelope env;
	const char	*msg;
	size_t		 msglen;
	atomic_long	 next;		/* next message number to claim */
	long long	*latency_us;	/* per message; -1 when it failed */
	long long	*eom_us;
	atomic_long	 verdicts[LG_NVERDICTS];
	atomic_long	 signatures, authres, errors, conn_errors;
	pthread_mutex_t	 err_lock;
	char		 first_error[LG_ERRLEN];
};

/* lg_usage - print the synopsis, exit 1 */
static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen -s SOCKET [-s SOCKET2]... [-c CONNS] [-n TOTAL] "
	    "[-m PER_CONN] [-a CLIENT_IP] [-N CLIENT_NAME] [-H HELO] [-f MAILFROM] "
	    "[-r RCPT]... [-A AUTH_USER] [-t TIMEOUT_S] MESSAGEFILE\n");
	exit(1);
}

/* lg_number - a decimal option value within [min, max], or a usage error */
static long
lg_number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "loadgen: %s must be a number %ld..%ld, not \"%s\"\n",
		    what, min, max, s);
		exit(1);
	}
	return v;
}

/* lg_now_us - monotonic clock in microseconds */
static long long
lg_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("loadgen: clock_gettime");
		exit(2);
	}
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* lg_read - the whole file into b */
static int
lg_read(const char *path, struct buf *b)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b->len + n > LG_MAX_MESSAGE) {
			fprintf(stderr, "loadgen: %s: larger than %lu bytes\n", path,
			    LG_MAX_MESSAGE);
			rc = -1;
			break;
		}
		buf_append(b, chunk, n);
	}
	if (rc == 0 && ferror(fp)) {
		fprintf(stderr, "loadgen: %s: read error\n", path);
		rc = -1;
	}
	if (fclose(fp) != 0 && rc == 0) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* lg_error - count an error; keep the first message for the report */
static void
lg_error(struct lg_run *run, atomic_long *counter, const char *what, const char *why)
{
	atomic_fetch_add(counter, 1);
	if (pthread_mutex_lock(&run->err_lock) != 0)
		return;
	if (run->first_error[0] == '\0')
		snprintf(run->first_error, sizeof(run->first_error), "%s: %s", what, why);
	pthread_mutex_unlock(&run->err_lock);
}

/* lg_close_all - close a chain's connections */
static void
lg_close_all(struct mc_conn **c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mc_close(c[i]);
		c[i] = NULL;
	}
}

/* lg_count_mods - count the signatures and A-R fields a milter added */
static void
lg_count_mods(struct lg_run *run, const struct mc_result *r)
{
	for (size_t i = 0; i < r->nmods; i++) {
		if (r->mods[i].kind == MC_MOD_CHANGE)
			continue;
		if (strcasecmp(r->mods[i].name, "DKIM-Signature") == 0)
			atomic_fetch_add(&run->signatures, 1);
		else if (strcasecmp(r->mods[i].name, "Authentication-Results") == 0)
			atomic_fetch_add(&run->authres, 1);
	}
}

/* lg_one - one message through the chain; 0 with the verdict, -1 on an error */
static int
lg_one(struct lg_run *run, struct mc_conn **c, long num, enum lg_verdict *v)
{
	struct buf cur = BUF_INIT, next = BUF_INIT;
	const char *msg = run->msg;
	size_t len = run->msglen;
	long long lat = 0, eom = 0;
	int rc = 0;

	*v = LG_ACCEPT;
	for (size_t i = 0; i < run->nsockets; i++) {
		struct mc_result res;

		if (mc_message(c[i], &run->env, msg, len, &res) < 0) {
			lg_error(run, &run->errors, run->sockets[i], mc_error(c[i]));
			mc_result_free(&res);
			rc = -1;
			break;
		}
		lat += res.latency_us;
		eom += res.eom_us;
		lg_count_mods(run, &res);
		if (res.action != MC_ACCEPT || res.quarantine != NULL) {
			*v = res.action == MC_REJECT ? LG_REJECT :
			    res.action == MC_TEMPFAIL ? LG_TEMPFAIL :
			    res.action == MC_DISCARD ? LG_DISCARD : LG_QUARANTINE;
			mc_result_free(&res);
			break;
		}
		if (i + 1 < run->nsockets && res.nmods > 0) {
			buf_reset(&next);
			mc_apply(&res, msg, len, &next);
			buf_reset(&cur);
			buf_append(&cur, next.data, next.len);
			msg = cur.data;
			len = cur.len;
		}
		mc_result_free(&res);
	}
	buf_free(&cur);
	buf_free(&next);
	run->latency_us[num] = rc == 0 ? lat : -1;
	run->eom_us[num] = rc == 0 ? eom : -1;
	return rc;
}

/* lg_worker - one concurrent client: connections of per_conn messages until done */
static void *
lg_worker(void *arg)
{
	struct lg_run *run = arg;
	struct mc_conn *c[LG_MAX_SOCKETS] = { NULL };
	char err[LG_ERRLEN];

	for (;;) {
		long first = atomic_fetch_add(&run->next, run->per_conn);
		long last;
		size_t i;

		if (first >= run->total)
			break;
		last = first + run->per_conn;
		if (last > run->total)
			last = run->total;
		for (i = 0; i < run->nsockets; i++) {
			c[i] = mc_connect(run->sockets[i], run->timeout_ms, err,
			    sizeof(err));
			if (c[i] == NULL)
				break;
		}
		if (i < run->nsockets) {
			lg_error(run, &run->conn_errors, run->sockets[i], err);
			lg_close_all(c, i);
			for (long n = first; n < last; n++) {
				run->latency_us[n] = run->eom_us[n] = -1;
				atomic_fetch_add(&run->errors, 1);
			}
			continue;
		}
		for (long n = first; n < last; n++) {
			enum lg_verdict v;

			if (lg_one(run, c, n, &v) < 0) {
				/* the connection is unusable: the rest of this batch fails */
				for (long k = n + 1; k < last; k++) {
					run->latency_us[k] = run->eom_us[k] = -1;
					atomic_fetch_add(&run->errors, 1);
				}
				break;
			}
			atomic_fetch_add(&run->verdicts[v], 1);
		}
		lg_close_all(c, run->nsockets);
	}
	return NULL;
}

/* lg_cmp - qsort order for latencies */
static int
lg_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Latency figures in ms over the messages that completed. */
struct lg_stats {
	double	p50, p90, p99, max, mean;
};

/* lg_stats - percentiles (nearest rank) of the non-negative values in v; sorts v */
static void
lg_stats(long long *v, long n, struct lg_stats *st)
{
	long k = 0;
	double sum = 0;

	memset(st, 0, sizeof(*st));
	for (long i = 0; i < n; i++)
		if (v[i] >= 0)
			v[k++] = v[i];
	if (k == 0)
		return;
	qsort(v, (size_t)k, sizeof(v[0]), lg_cmp);
	for (long i = 0; i < k; i++)
		sum += (double)v[i];
#define LG_PCT(p) ((double)v[(long)((double)(k - 1) * (p) + 0.5)] / 1000.0)
	st->p50 = LG_PCT(0.50);
	st->p90 = LG_PCT(0.90);
	st->p99 = LG_PCT(0.99);
#undef LG_PCT
	st->max = (double)v[k - 1] / 1000.0;
	st->mean = sum / (double)k / 1000.0;
}

int
main(int argc, char **argv)
{
	static struct lg_run run;
	const char *rcpts[LG_MAX_RCPTS];
	struct buf msg = BUF_INIT;
	pthread_t *threads;
	struct lg_stats lat, eom;
	long long t0, t1;
	long done, started = 0;
	double secs;
	int ch, rc;

	run.conns = 1;
	run.total = 100;
	run.per_conn = 1;
	run.timeout_ms = 30000;
	run.env.client_addr = "127.0.0.1";
	run.env.client_port = 40000;
	run.env.helo = "client.test.example";
	run.env.mail_from = "sender@example.com";
	run.env.queue_id = "4XBENCH1";
	while ((ch = getopt(argc, argv, "s:c:n:m:a:N:H:f:r:A:t:")) != -1) {
		switch (ch) {
		case 's':
			if (run.nsockets >= LG_MAX_SOCKETS) {
				fprintf(stderr, "loadgen: more than %d -s\n", LG_MAX_SOCKETS);
				return 1;
			}
			run.sockets[run.nsockets++] = optarg;
			break;
		case 'c':
			run.conns = lg_number(optarg, 1, LG_MAX_CONNS, "-c");
			break;
		case 'n':
			run.total = lg_number(optarg, 1, LG_MAX_TOTAL, "-n");
			break;
		case 'm':
			run.per_conn = lg_number(optarg, 1, LG_MAX_TOTAL, "-m");
			break;
		case 'a':	/* "" : no address, family 'U' */
			run.env.client_addr = optarg[0] != '\0' ? optarg : NULL;
			break;
		case 'N':
			run.env.client_name = optarg;
			break;
		case 'H':
			run.env.helo = optarg;
			break;
		case 'f':
			run.env.mail_from = optarg;
			break;
		case 'r':
			if (run.env.nrcpts >= LG_MAX_RCPTS) {
				fprintf(stderr, "loadgen: more than %d -r\n", LG_MAX_RCPTS);
				return 1;
			}
			rcpts[run.env.nrcpts++] = optarg;
			break;
		case 'A':
			run.env.auth_authen = optarg;
			break;
		case 't':
			run.timeout_ms = (int)lg_number(optarg, 1, 3600, "-t") * 1000;
			break;
		default:
			lg_usage();
		}
	}
	if (run.nsockets == 0 || optind != argc - 1)
		lg_usage();
	if (run.env.nrcpts == 0)
		rcpts[run.env.nrcpts++] = "rcpt@example.net";
	run.env.rcpts = rcpts;
	if (lg_read(argv[optind], &msg) < 0)
		return 2;
	run.msg = msg.data != NULL ? msg.data : "";
	run.msglen = msg.len;
	run.latency_us = xcalloc((size_t)run.total, sizeof(long long));
	run.eom_us = xcalloc((size_t)run.total, sizeof(long long));
	if ((rc = pthread_mutex_init(&run.err_lock, NULL)) != 0) {
		fprintf(stderr, "loadgen: pthread_mutex_init: %s\n", strerror(rc));
		return 2;
	}
	threads = xcalloc((size_t)run.conns, sizeof(*threads));

	t0 = lg_now_us();
	for (long i = 0; i < run.conns; i++) {
		if ((rc = pthread_create(&threads[i], NULL, lg_worker, &run)) != 0) {
			fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
			break;
		}
		started++;
	}
	if (started == 0)
		return 2;
	for (long i = 0; i < started; i++)
		if ((rc = pthread_join(threads[i], NULL)) != 0)
			fprintf(stderr, "loadgen: pthread_join: %s\n", strerror(rc));
	t1 = lg_now_us();

	secs = (double)(t1 - t0) / 1e6;
	done = run.total - atomic_load(&run.errors);
	lg_stats(run.latency_us, run.total, &lat);
	lg_stats(run.eom_us, run.total, &eom);

	printf("messages: %ld sent, %ld completed, %ld errors (%ld connect errors)\n",
	    run.total, done, atomic_load(&run.errors), atomic_load(&run.conn_errors));
	printf("connections: %ld concurrent, %ld messages each, %zu milter(s)\n",
	    run.conns, run.per_conn, run.nsockets);
	printf("elapsed: %.3f s, %.1f messages/s\n", secs, secs > 0 ? done / secs : 0);
	printf("latency ms (MAIL FROM to final reply): p50 %.3f p90 %.3f p99 %.3f "
	    "max %.3f mean %.3f\n", lat.p50, lat.p90, lat.p99, lat.max, lat.mean);
	printf("eom ms (end of body to final reply): p50 %.3f p90 %.3f p99 %.3f "
	    "max %.3f mean %.3f\n", eom.p50, eom.p90, eom.p99, eom.max, eom.mean);
	printf("actions:");
	for (int i = 0; i < LG_NVERDICTS; i++)
		printf(" %s %ld", lg_verdict_names[i], atomic_load(&run.verdicts[i]));
	printf("\nadded: DKIM-Signature %ld, Authentication-Results %ld\n",
	    atomic_load(&run.signatures), atomic_load(&run.authres));
	if (run.first_error[0] != '\0')
		printf("first error: %s\n", run.first_error);

	/* the machine-readable line the scripts read: always the last one */
	printf("{\"messages\": %ld, \"completed\": %ld, \"errors\": %ld, "
	    "\"connect_errors\": %ld, \"conns\": %ld, \"per_conn\": %ld, "
	    "\"milters\": %zu, \"elapsed_s\": %.6f, \"msgs_per_s\": %.3f, ",
	    run.total, done, atomic_load(&run.errors), atomic_load(&run.conn_errors),
	    run.conns, run.per_conn, run.nsockets, secs, secs > 0 ? done / secs : 0);
	printf("\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
	    "\"max\": %.3f, \"mean\": %.3f}, ", lat.p50, lat.p90, lat.p99, lat.max,
	    lat.mean);
	printf("\"eom_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
	    "\"max\": %.3f, \"mean\": %.3f}, ", eom.p50, eom.p90, eom.p99, eom.max,
	    eom.mean);
	printf("\"actions\": {");
	for (int i = 0; i < LG_NVERDICTS; i++)
		printf("%s\"%s\": %ld", i > 0 ? ", " : "", lg_verdict_names[i],
		    atomic_load(&run.verdicts[i]));
	printf("}, \"dkim_signatures\": %ld, \"authres\": %ld}\n",
	    atomic_load(&run.signatures), atomic_load(&run.authres));

	free(threads);
	free(run.latency_us);
	free(run.eom_us);
	buf_free(&msg);
	pthread_mutex_destroy(&run.err_lock);
	return fflush(stdout) == 0 ? 0 : 2;
}
