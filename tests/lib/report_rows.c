/* report_rows - put report rows into a store through report_store's API, for
 * the report tests and the benchmark.
 *
 *   report_rows URI < ROWS		one row per line: the 24 columns of
 *					report_store.h's order, tab-separated;
 *					"\N" is NULL, "\t" "\n" "\r" "\\" escapes;
 *					the dkim column as report_dkim_encode writes
 *   report_rows URI --synthetic ROWS DOMAINS BEGIN SPAN
 *					ROWS rows over DOMAINS policy domains
 *					(dNNNNN.example), received in [BEGIN,
 *					BEGIN+SPAN), 20 source addresses a domain
 *
 * Exit 0 when every row went in; 1 with the store's error otherwise.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "report_rows_common.h"
#include "report_store.h"

#define ROWS_BATCH	5000	/* rows per report_store_insert */
#define ROWS_COLUMNS	24

/* rows_unescape - one TSV field; NULL for "\N" */
static char *
rows_unescape(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	if (len == 2 && s[0] == '\\' && s[1] == 'N')
		return NULL;
	buf_puts(&b, "");
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
		}
		buf_putc(&b, c);
	}
	return buf_steal(&b);
}

/* rows_flush - insert and free a batch; false on a store error */
static bool
rows_flush(struct report_store *st, struct report_row *rows, size_t *n)
{
	int rc = *n > 0 ? report_store_insert(st, rows, *n) : 0;

	if (rc != 0)
		fprintf(stderr, "report_rows: insert: %s\n", report_store_error(st));
	for (size_t i = 0; i < *n; i++)
		report_row_free(&rows[i]);
	*n = 0;
	return rc == 0;
}

/* rows_parse - one input line into r; false when it has not 24 columns */
static bool
rows_parse(char *line, struct report_row *r)
{
	char *f[ROWS_COLUMNS];
	size_t len[ROWS_COLUMNS], n = 0;
	char *p = line, *dk;

	line[strcspn(line, "\n")] = '\0';
	while (n < ROWS_COLUMNS) {
		f[n] = p;
		len[n] = strcspn(p, "\t");
		p += len[n];
		n++;
		if (*p != '\t')
			break;
		p++;
	}
	if (n != ROWS_COLUMNS || *p != '\0')
		return false;
	memset(r, 0, sizeof(*r));
	r->received = (time_t)strtoll(f[0], NULL, 10);
	char **dst[] = { NULL, &r->source_ip, &r->header_from, &r->envelope_from,
	    &r->envelope_to, &r->policy_domain, &r->rua, &r->ruf, &r->p, &r->sp, &r->np,
	    &r->adkim, &r->aspf, &r->fo, &r->testing, &r->discovery, &r->spf_domain,
	    &r->spf_scope, &r->spf_result, NULL, &r->dkim_aligned, &r->spf_aligned,
	    &r->disposition, &r->reasons };
	for (size_t i = 1; i < ROWS_COLUMNS; i++)
		if (dst[i] != NULL)
			*dst[i] = rows_unescape(f[i], len[i]);
	dk = rows_unescape(f[19], len[19]);
	if (!report_dkim_decode(dk != NULL ? dk : "", &r->dkim, &r->n_dkim)) {
		free(dk);
		report_row_free(r);
		return false;
	}
	free(dk);
	return true;
}

/* rows_synthetic - row i of a synthetic load into r */
static void
rows_synthetic(struct report_row *r, unsigned long i, unsigned long domains, time_t begin,
    unsigned long span)
{
	char dom[32], ip[32];
	unsigned long d = i % domains, h = i / domains;

	snprintf(dom, sizeof(dom), "d%05lu.example", d);
	snprintf(ip, sizeof(ip), "198.51.%lu.%lu", (d / 250) % 250, h % 20 + 1);
	report_rows_sample(r, dom, ip, begin + (time_t)(i % span), 1 + h % 2);
	/* every 5th source fails DKIM, every 7th SPF; both: rejected */
	if (h % 7 == 0) {
		report_rows_set(&r->spf_result, "fail");
		report_rows_set(&r->spf_aligned, "fail");
	}
	if (h % 5 == 0) {
		for (size_t k = 0; k < r->n_dkim; k++)
			report_rows_set(&r->dkim[k].result, "fail");
		report_rows_set(&r->dkim_aligned, "fail");
	}
	if (h % 5 == 0 && h % 7 == 0)
		report_rows_set(&r->disposition, "reject");
}

/* main - read or make rows, insert them in batches */
int
main(int argc, char **argv)
{
	static struct report_row rows[ROWS_BATCH];
	struct report_store *st;
	char err[512], *line = NULL;
	size_t n = 0, cap = 0;
	unsigned long lineno = 0;
	bool ok = true;

	if (argc != 2 && !(argc == 7 && strcmp(argv[2], "--synthetic") == 0)) {
		fprintf(stderr, "usage: report_rows URI [--synthetic ROWS DOMAINS BEGIN SPAN]\n");
		return 2;
	}
	if ((st = report_store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "report_rows: %s\n", err);
		return 1;
	}
	if (argc == 7) {
		unsigned long total = strtoul(argv[3], NULL, 10);
		unsigned long domains = strtoul(argv[4], NULL, 10);
		unsigned long span = strtoul(argv[6], NULL, 10);
		time_t begin = (time_t)strtoll(argv[5], NULL, 10);

		for (unsigned long i = 0; ok && i < total; i++) {
			rows_synthetic(&rows[n++], i, domains ? domains : 1, begin, span ? span : 1);
			if (n == ROWS_BATCH)
				ok = rows_flush(st, rows, &n);
		}
	} else {
		while (ok && getline(&line, &cap, stdin) > 0) {
			lineno++;
			if (!rows_parse(line, &rows[n])) {
				fprintf(stderr, "report_rows: line %lu: not 24 columns\n", lineno);
				ok = false;
				break;
			}
			if (++n == ROWS_BATCH)
				ok = rows_flush(st, rows, &n);
		}
		free(line);
	}
	if (!rows_flush(st, rows, &n))
		ok = false;
	report_store_close(st);
	return ok ? 0 : 1;
}
