/* dnsq - a small command line over dns.c and iprev.c, for the integration tests.
 *
 *   dnsq [-t timeout_ms] -s ADDR@PORT TYPE NAME
 *	prints the status ("ok", "nxdomain", "nodata", "tempfail WHY"), then one
 *	record per line: A/AAAA address, PTR/CNAME name, MX "pref name", TXT text
 *	(bytes outside printable ASCII as \xHH).
 *   dnsq [-t timeout_ms] -s ADDR@PORT iprev ADDR
 *	prints "result name reason" (name "-" when empty).
 *   dnsq [-t timeout_ms] -s ADDR@PORT -n N TYPE NAME
 *	runs N lookups of NAME from DNSQ_THREADS threads (half of them freed while
 *	still running), three resolvers in turn, then prints the last status and
 *	"fds BEFORE AFTER": descriptors open before the first resolver and after
 *	the last one was freed.
 * Exits 0 whatever the answer; 2 on a usage or resolver error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "iprev.h"
#include "result.h"

#define DNSQ_THREADS 8 /* concurrent lookups in -n mode */
#define DNSQ_ROUNDS 3  /* resolvers created and freed in -n mode */

static const struct {
	const char *name;
	int type;
} dnsq_types[] = {
    {"A", DNS_T_A},   {"AAAA", DNS_T_AAAA}, {"PTR", DNS_T_PTR},
    {"MX", DNS_T_MX}, {"TXT", DNS_T_TXT},   {"CNAME", DNS_T_CNAME},
};

/* dnsq_usage - complain and exit */
static void
dnsq_usage(void)
{
	fprintf(stderr, "usage: dnsq [-t timeout_ms] [-n N] -s ADDR@PORT TYPE NAME\n"
			"       dnsq [-t timeout_ms] -s ADDR@PORT iprev ADDR\n");
	exit(2);
}

/* dnsq_print - the answer as the tests read it */
static void
dnsq_print(const struct dns_answer *a)
{
	char text[INET6_ADDRSTRLEN];
	size_t i, j;

	if (a->status == DNS_TEMPFAIL)
		printf("tempfail %s\n", a->why ? a->why : "?");
	else
		printf("%s\n", dns_status_name(a->status));
	for (i = 0; i < a->count; i++) {
		const struct dns_rr *rr = &a->rr[i];

		switch (a->rrtype) {
		case DNS_T_A:
		case DNS_T_AAAA:
			if (inet_ntop(rr->family, rr->addr, text, sizeof(text)) == NULL)
				printf("?\n");
			else
				printf("%s\n", text);
			break;
		case DNS_T_MX:
			printf("%u %s\n", rr->pref, rr->name);
			break;
		case DNS_T_TXT:
			for (j = 0; j < rr->txt_len; j++) {
				unsigned char c = (unsigned char)rr->txt[j];

				if (c < 0x20 || c >= 0x7f || c == '\\')
					printf("\\x%02x", c);
				else
					putchar(c);
			}
			putchar('\n');
			break;
		default:
			printf("%s\n", rr->name);
			break;
		}
	}
}

/* dnsq_count_fds - descriptors this process has open */
static int
dnsq_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

struct dnsq_job {
	struct dns_resolver *r;
	const char *name;
	int type;
	int n;
	enum dns_status last;
};

/* dnsq_worker - one thread of -n mode: every other query freed unanswered */
static void *
dnsq_worker(void *arg)
{
	struct dnsq_job *job = arg;
	int i;

	for (i = 0; i < job->n; i++) {
		struct dns_query *q = dns_query_start(job->r, job->name, job->type);

		if (i % 2 == 0)
			job->last = dns_query_wait(q)->status;
		dns_query_free(q);
	}
	return NULL;
}

/* dnsq_many - -n mode */
static int
dnsq_many(const struct dns_options *o, int type, const char *name, int n)
{
	struct dnsq_job jobs[DNSQ_THREADS];
	pthread_t tid[DNSQ_THREADS];
	char err[256];
	int before = dnsq_count_fds(), round, t;
	enum dns_status last = DNS_TEMPFAIL;

	for (round = 0; round < DNSQ_ROUNDS; round++) {
		struct dns_resolver *r = dns_resolver_new(o, err, sizeof(err));

		if (r == NULL) {
			fprintf(stderr, "dnsq: %s\n", err);
			return 2;
		}
		for (t = 0; t < DNSQ_THREADS; t++) {
			jobs[t] = (struct dnsq_job){r, name, type,
						    (n + DNSQ_THREADS - 1) / DNSQ_THREADS,
						    DNS_TEMPFAIL};
			if (pthread_create(&tid[t], NULL, dnsq_worker, &jobs[t]) != 0) {
				fprintf(stderr, "dnsq: pthread_create failed\n");
				return 2;
			}
		}
		for (t = 0; t < DNSQ_THREADS; t++)
			pthread_join(tid[t], NULL);
		last = jobs[0].last;
		dns_resolver_free(r);
	}
	printf("%s\nfds %d %d\n", dns_status_name(last), before, dnsq_count_fds());
	return 0;
}

/* dnsq_iprev - iprev mode */
static int
dnsq_iprev(struct dns_resolver *r, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const struct iprev_verdict *v;
	struct iprev_check *c;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else {
		fprintf(stderr, "dnsq: not an address: %s\n", addr);
		return 2;
	}
	c = iprev_start(r, (struct sockaddr *)&ss);
	v = iprev_finish(c);
	printf("%s %s %s\n", auth_result_name(v->result), v->name[0] ? v->name : "-",
	       v->reason ? v->reason : "-");
	iprev_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dns_options o = {NULL, 0, 5000, NULL};
	char *servers[1], err[256];
	struct dns_resolver *r;
	int ch, type = -1, rc, n = 0;
	size_t i;

	while ((ch = getopt(argc, argv, "n:s:t:")) != -1) {
		switch (ch) {
		case 'n':
			n = atoi(optarg);
			break;
		case 's':
			servers[0] = optarg;
			o.nameservers = servers;
			o.n_nameservers = 1;
			break;
		case 't':
			o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			dnsq_usage();
		}
	}
	argc -= optind;
	argv += optind;
	/* never the machine's own resolver: tests name their server */
	if (argc != 2 || o.n_nameservers == 0)
		dnsq_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcasecmp(argv[0], "iprev") != 0) {
		for (i = 0; i < sizeof(dnsq_types) / sizeof(dnsq_types[0]); i++)
			if (strcasecmp(argv[0], dnsq_types[i].name) == 0)
				type = dnsq_types[i].type;
		if (type < 0)
			dnsq_usage();
		if (n > 0)
			return dnsq_many(&o, type, argv[1], n);
	}
	if ((r = dns_resolver_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsq: %s\n", err);
		return 2;
	}
	if (type < 0) {
		rc = dnsq_iprev(r, argv[1]);
	} else {
		struct dns_query *q = dns_query_start(r, argv[1], type);

		dnsq_print(dns_query_wait(q));
		dns_query_free(q);
		rc = 0;
	}
	dns_resolver_free(r);
	return rc;
}
