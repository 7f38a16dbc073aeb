/* miltc - send a message through a milter as an MTA would, print what it decided.
 *
 * miltc -s SOCKET [-a CLIENT_IP] [-n CLIENT_NAME] [-P CLIENT_PORT] [-H HELO]
 *       [-f MAILFROM] [-r RCPT]... [-A AUTH_USER] [-q QUEUEID] [-j MTA_NAME]
 *       [-d DAEMON_NAME] [-t TIMEOUT_S] [-o OUTFILE] [--fold-crlf|--fold-lf]
 *       [--count N] [--raw-names] MESSAGEFILE|-
 *
 * --raw-names sends each header name as written before the colon, white space
 * kept ("Subject " for "Subject : x"), as an MTA that does not strip it would.
 *
 * Prints "protocol: 0x..." and "actions: 0x..." (what the milter negotiated), then for
 * each message "message: N", "action: ...", "reply: ...", "step: ...",
 * "header-add: NAME: VALUE", "header-insert: INDEX NAME: VALUE",
 * "header-change: NAME INDEX: VALUE", "quarantine: REASON", "latency-us: N".
 * Values escape backslash, CR and LF as \\, \r, \n. Exit 0 when the protocol ran,
 * 2 on a connection or protocol error, 1 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "milter_client.h"
#include "xalloc.h"

/* Most recipients on the command line. */
#define MILTC_MAX_RCPTS 1000
/* Largest message read. */
#define MILTC_MAX_MESSAGE (256UL * 1024 * 1024)

/* miltc_usage - print the synopsis, exit 1 */
static void
miltc_usage(void)
{
	fprintf(stderr,
		"usage: miltc -s SOCKET [-a CLIENT_IP] [-n CLIENT_NAME] "
		"[-P CLIENT_PORT] [-H HELO] [-f MAILFROM] [-r RCPT]... [-A AUTH_USER] "
		"[-q QUEUEID] [-j MTA_NAME] [-d DAEMON_NAME] [-t TIMEOUT_S] [-o OUTFILE] "
		"[--fold-crlf|--fold-lf] [--count N] [--raw-names] MESSAGEFILE|-\n");
	exit(1);
}

/* miltc_read - the whole file (or stdin for "-") into b */
static int
miltc_read(const char *path, struct buf *b)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "miltc: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b->len + n > MILTC_MAX_MESSAGE) {
			fprintf(stderr, "miltc: %s: larger than %lu bytes\n", path,
				MILTC_MAX_MESSAGE);
			if (fp != stdin)
				fclose(fp);
			return -1;
		}
		buf_append(b, chunk, n);
	}
	if (ferror(fp)) {
		fprintf(stderr, "miltc: %s: read error\n", path);
		if (fp != stdin)
			fclose(fp);
		return -1;
	}
	if (fp != stdin)
		fclose(fp);
	return 0;
}

/* miltc_put - print s with backslash, CR and LF escaped */
static void
miltc_put(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", stdout);
		else if (*s == '\r')
			fputs("\\r", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

/* miltc_print - one message's result */
static void
miltc_print(int num, const struct mc_result *r)
{
	size_t i;

	printf("message: %d\n", num);
	if (r->action == MC_ACCEPT && r->quarantine != NULL)
		printf("action: quarantine\n");
	else
		printf("action: %s\n", mc_action_name(r->action));
	if (r->reply != NULL) {
		fputs("reply: ", stdout);
		miltc_put(r->reply);
		putchar('\n');
	}
	printf("step: %s\n", mc_step_name(r->step));
	for (i = 0; i < r->nmods; i++) {
		const struct mc_mod *m = &r->mods[i];
		switch (m->kind) {
		case MC_MOD_ADD:
			printf("header-add: %s: ", m->name);
			break;
		case MC_MOD_INSERT:
			printf("header-insert: %u %s: ", m->index, m->name);
			break;
		case MC_MOD_CHANGE:
			printf("header-change: %s %u: ", m->name, m->index);
			break;
		}
		miltc_put(m->value);
		putchar('\n');
	}
	if (r->quarantine != NULL) {
		fputs("quarantine: ", stdout);
		miltc_put(r->quarantine);
		putchar('\n');
	}
	if (r->other_mods > 0)
		printf("other-actions: %d\n", r->other_mods);
	printf("latency-us: %lld\n", r->latency_us);
}

/* miltc_write - write the modified message to path */
static int
miltc_write(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL) {
		fprintf(stderr, "miltc: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(b->data != NULL ? b->data : "", 1, b->len, fp) != b->len ||
	    fclose(fp) != 0) {
		fprintf(stderr, "miltc: %s: write error\n", path);
		return -1;
	}
	return 0;
}

/* miltc_number - a decimal option value within [min, max], or a usage error */
static long
miltc_number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "miltc: %s must be a number %ld..%ld, not \"%s\"\n", what,
			min, max, s);
		exit(1);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"fold-crlf", no_argument, NULL, 'C'},
	    {"fold-lf", no_argument, NULL, 'L'},
	    {"count", required_argument, NULL, 'N'},
	    {"raw-names", no_argument, NULL, 'W'},
	    {NULL, 0, NULL, 0},
	};
	struct mc_envelope env;
	const char *rcpts[MILTC_MAX_RCPTS];
	const char *spec = NULL, *outfile = NULL;
	enum mc_fold fold = MC_FOLD_LF;
	long count = 1, timeout_s = 30, i;
	struct buf msg = BUF_INIT;
	struct mc_conn *c;
	char err[300];
	int ch, status = 0, raw_names = 0;

	memset(&env, 0, sizeof(env));
	env.client_addr = "192.0.2.1";
	env.client_port = 40000;
	env.helo = "client.test.example";
	env.mail_from = "sender@example.com";
	env.queue_id = "4XTESTQ1";
	while ((ch = getopt_long(argc, argv, "s:a:n:P:H:f:r:A:q:j:d:t:o:", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 's':
			spec = optarg;
			break;
		case 'a':	/* "" : no address, family 'U' (sendmail -bs) */
			env.client_addr = optarg[0] != '\0' ? optarg : NULL;
			break;
		case 'n':
			env.client_name = optarg;
			break;
		case 'P':
			env.client_port = (unsigned)miltc_number(optarg, 0, 65535, "-P");
			break;
		case 'H':
			env.helo = optarg;
			break;
		case 'f':
			env.mail_from = optarg;
			break;
		case 'r':
			if (env.nrcpts >= MILTC_MAX_RCPTS) {
				fprintf(stderr, "miltc: more than %d -r\n",
					MILTC_MAX_RCPTS);
				return 1;
			}
			rcpts[env.nrcpts++] = optarg;
			break;
		case 'A':
			env.auth_authen = optarg;
			break;
		case 'q':
			env.queue_id = optarg;
			break;
		case 'j':
			env.mta_name = optarg;
			break;
		case 'd':
			env.daemon_name = optarg;
			break;
		case 't':
			timeout_s = miltc_number(optarg, 1, 3600, "-t");
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'C':
			fold = MC_FOLD_CRLF;
			break;
		case 'L':
			fold = MC_FOLD_LF;
			break;
		case 'N':
			count = miltc_number(optarg, 1, 1000000, "--count");
			break;
		case 'W':
			raw_names = 1;
			break;
		default:
			miltc_usage();
		}
	}
	if (spec == NULL || optind != argc - 1)
		miltc_usage();
	if (env.nrcpts == 0)
		rcpts[env.nrcpts++] = "rcpt@example.net";
	env.rcpts = rcpts;
	if (miltc_read(argv[optind], &msg) < 0)
		return 2;

	c = mc_connect(spec, (int)timeout_s * 1000, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "miltc: %s\n", err);
		buf_free(&msg);
		return 2;
	}
	mc_set_fold(c, fold);
	mc_set_raw_names(c, raw_names);
	printf("protocol: 0x%08x\n", mc_protocol(c));
	printf("actions: 0x%08x\n", mc_actions(c));
	for (i = 1; i <= count; i++) {
		struct mc_result r;

		if (mc_message(c, &env, buf_cstr(&msg), msg.len, &r) < 0) {
			fprintf(stderr, "miltc: message %ld: %s\n", i, mc_error(c));
			mc_result_free(&r);
			status = 2;
			break;
		}
		miltc_print((int)i, &r);
		if (outfile != NULL && i == count) {
			struct buf out = BUF_INIT;
			mc_apply(&r, buf_cstr(&msg), msg.len, &out);
			if (miltc_write(outfile, &out) < 0)
				status = 2;
			buf_free(&out);
		}
		mc_result_free(&r);
	}
	mc_close(c);
	buf_free(&msg);
	if (fflush(stdout) != 0)
		status = 2;
	return status;
}
