/* seal_cpu - the CPU of one ARC set (arc_seal_make: AAR, AMS, AS) against one
 * DKIM signature (dkim_sign_header), same key, same header list, in process.
 *
 * seal_cpu KEYFILE [N]: N of each (default 2000), alternating in blocks of 100 so
 * that a busy neighbour slows both alike; prints one JSON line with the CPU
 * microseconds per operation (CLOCK_PROCESS_CPUTIME_ID) and their ratio. The body
 * hash is given: the body is hashed once per message whichever is made, and
 * sealing shares DKIM verification's pass (run-bench (h) measures the daemon).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc_seal.h"
#include "buf.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "header.h"

#define SEAL_CPU_BLOCK	100	/* operations of one kind in a row */

/* cpu_now - process CPU seconds */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* main - time both, print the figures */
int
main(int argc, char **argv)
{
	char err[256];
	struct dkim_key *key;
	struct header_list h;
	unsigned char bh[DKIM_HASH_LEN] = { 1 };
	const char *ar = " bench.test;\r\n\tiprev=pass policy.iprev=198.18.0.10;\r\n\t"
	    "spf=pass smtp.mailfrom=sender.example;\r\n\tdkim=pass header.d=sender.example "
	    "header.s=ir header.b=AAAAAAAA;\r\n\tdmarc=pass header.from=sender.example";
	double t_sign = 0, t_seal = 0;
	long n = argc > 2 ? atol(argv[2]) : 2000;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: seal_cpu KEYFILE [N]\n");
		return 2;
	}
	if ((key = dkim_key_load(argv[1], false, err, sizeof(err))) == NULL) {
		fprintf(stderr, "seal_cpu: %s\n", err);
		return 1;
	}
	memset(&h, 0, sizeof(h));
	header_list_add(&h, "From", " Bench Sender <sender@sender.example>");
	header_list_add(&h, "To", " rcpt@example.net");
	header_list_add(&h, "Subject", " benchmark message");
	header_list_add(&h, "Date", " Fri, 21 Nov 2025 12:00:00 +0000");
	header_list_add(&h, "Message-ID", " <bench.4096@sender.example>");
	header_list_add(&h, "MIME-Version", " 1.0");
	header_list_add(&h, "Content-Type", " text/plain; charset=us-ascii");

	struct dkim_sign_params sp = { .key = key, .domain = "example.com",
	    .selector = "br", .header_canon = DKIM_CANON_RELAXED,
	    .body_canon = DKIM_CANON_RELAXED, .now = time(NULL) };
	struct arc_seal_params ap = { .key = key, .domain = "example.com",
	    .selector = "br", .now = time(NULL) };
	struct arc_seal_plan plan;

	arc_seal_plan(&h, NULL, &plan);
	for (long done = 0; done < n; done += SEAL_CPU_BLOCK) {
		double t0 = cpu_now();

		for (int i = 0; i < SEAL_CPU_BLOCK; i++) {
			struct buf out = BUF_INIT;

			if (!dkim_sign_header(&sp, &h, bh, &out, err, sizeof(err))) {
				fprintf(stderr, "seal_cpu: sign: %s\n", err);
				return 1;
			}
			buf_free(&out);
		}
		double t1 = cpu_now();
		for (int i = 0; i < SEAL_CPU_BLOCK; i++) {
			struct arc_seal_set set;

			if (!arc_seal_make(&ap, &plan, &h, ar, bh, &set, err, sizeof(err))) {
				fprintf(stderr, "seal_cpu: seal: %s\n", err);
				return 1;
			}
			arc_seal_set_clear(&set);
		}
		t_sign += t1 - t0;
		t_seal += cpu_now() - t1;
	}
	n = (n + SEAL_CPU_BLOCK - 1) / SEAL_CPU_BLOCK * SEAL_CPU_BLOCK;
	printf("{\"alg\": \"%s\", \"n\": %ld, \"sign_us\": %.1f, \"seal_us\": %.1f, "
	    "\"ratio\": %.2f}\n", dkim_alg_name(key->alg), n, t_sign * 1e6 / (double)n,
	    t_seal * 1e6 / (double)n, t_seal / t_sign);
	header_list_reset(&h);
	dkim_key_free(key);
	return 0;
}
