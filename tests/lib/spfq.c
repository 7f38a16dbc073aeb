/* spfq - run spf.c's SPF check once, for the integration tests.
 *
 * spfq -s ADDR@PORT [-t TIMEOUT_MS] [-r RECEIVER] [--helo-check] IP HELO MAILFROM
 *
 * Prints "mailfrom RESULT REASON", "helo RESULT REASON" (helo "skipped" unless
 * --helo-check), each followed by "IDENTITY-explanation TEXT" when a fail has
 * an exp= explanation, then "received-spf-mailfrom: VALUE" and, with --helo-check,
 * "received-spf-helo: VALUE". Exit 0 when the check ran, 1 on a usage error,
 * 2 when the resolver could not be set up.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "spf.h"

/* spfq_usage - print the synopsis, exit 1 */
static void
spfq_usage(void)
{
	fprintf(stderr, "usage: spfq -s ADDR@PORT [-t TIMEOUT_MS] [-r RECEIVER] "
	    "[--helo-check] IP HELO MAILFROM\n");
	exit(1);
}

/* spfq_print - one verdict line and its Received-SPF value */
static void
spfq_print(const struct spf_verdict *v, const char *ip, const char *helo,
    const char *receiver, struct buf *hdr)
{
	printf("%s %s %s\n", v->identity, auth_result_name(v->result), v->reason);
	if (v->explanation[0] != '\0')
		printf("%s-explanation %s\n", v->identity, v->explanation);
	buf_reset(hdr);
	spf_received_header(v, ip, helo, receiver, hdr);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "helo-check", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct dns_options opts;
	struct dns_resolver *r;
	struct sockaddr_storage ss;
	struct spf_check *c;
	const struct spf_verdict *vm, *vh;
	struct buf hm = BUF_INIT, hh = BUF_INIT;
	char *servers[1] = { NULL };
	const char *receiver = "mx.test.example";
	char err[256];
	bool helo_check = false;
	int ch;
	long timeout = 2000;

	while ((ch = getopt_long(argc, argv, "s:t:r:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			servers[0] = optarg;
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			if (timeout <= 0 || timeout > 600000)
				spfq_usage();
			break;
		case 'r':
			receiver = optarg;
			break;
		case 'H':
			helo_check = true;
			break;
		default:
			spfq_usage();
		}
	}
	if (servers[0] == NULL || argc - optind != 3)
		spfq_usage();

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[optind],
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, argv[optind],
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else {
		fprintf(stderr, "spfq: %s: not an IP address\n", argv[optind]);
		return 1;
	}

	memset(&opts, 0, sizeof(opts));
	opts.nameservers = servers;
	opts.n_nameservers = 1;
	opts.timeout_ms = (unsigned)timeout;
	r = dns_resolver_new(&opts, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "spfq: %s\n", err);
		return 2;
	}

	c = spf_start(r, (struct sockaddr *)&ss, argv[optind + 1], argv[optind + 2],
	    helo_check);
	spf_finish(c, &vm, &vh);
	spfq_print(vm, argv[optind], argv[optind + 1], receiver, &hm);
	spfq_print(vh, argv[optind], argv[optind + 1], receiver, &hh);
	printf("received-spf-mailfrom: %s\n", buf_cstr(&hm));
	if (helo_check)
		printf("received-spf-helo: %s\n", buf_cstr(&hh));
	spf_free(c);
	dns_resolver_free(r);
	buf_free(&hm);
	buf_free(&hh);
	return 0;
}
