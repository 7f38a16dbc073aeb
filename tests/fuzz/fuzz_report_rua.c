/* fuzz_report_rua - report_rua_parse on any bytes, and the report mail built
 * from what it keeps (issue 16: a rua from other people's DNS must never reach a
 * header unescaped).
 *
 * Checks that at most REPORT_MAX_URIS addresses come out, each local@domain of
 * printable ASCII without blank, comma, quote, angle bracket, semicolon or
 * parenthesis, its domain the one in host; and that the MIME message built with
 * them has, in its header block, only printable ASCII lines, folds that start
 * with a blank, and no header field but the ones report_mail writes.
 */
#include "config.h"

#include <stdlib.h>

#include "buf.h"
#include "fuzz_util.h"
#include "report_dest.h"
#include "report_mail.h"

/* fz_addr_ok - an address as report_rua_parse promises it */
static void
fz_addr_ok(const struct report_dest *d)
{
	const char *at = strrchr(d->addr, '@');

	if (at == NULL || at == d->addr || strcmp(at + 1, d->host) != 0)
		fz_fail("address without its host after the @", d->addr);
	if (!report_dest_domain_ok(d->host))
		fz_fail("host is not a lower-case LDH domain", d->host);
	for (const char *p = d->addr; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(",;<>\"()[]\\:", *p) != NULL)
			fz_fail("address carries a character a header would read", d->addr);
}

/* fz_headers_ok - the header block of msg: known fields, folds, ASCII */
static void
fz_headers_ok(const char *msg)
{
	static const char *const known[] = { "From:", "To:", "Subject:", "Date:",
	    "Message-ID:", "Auto-Submitted:", "MIME-Version:", "Content-Type:", NULL };
	const char *end = strstr(msg, "\n\n");

	if (end == NULL)
		fz_fail("no end of the header block", NULL);
	for (const char *line = msg; line < end;) {
		const char *nl = strchr(line, '\n');
		bool ok = line[0] == ' ' || line[0] == '\t';

		for (size_t i = 0; !ok && known[i] != NULL; i++)
			ok = strncmp(line, known[i], strlen(known[i])) == 0;
		if (!ok)
			fz_fail("a header field report_mail does not write", line);
		for (const char *p = line; p < nl; p++)
			if (*p < ' ' || *p >= 0x7f)
				fz_fail("a header byte outside printable ASCII", line);
		line = nl + 1;
	}
}

/* LLVMFuzzerTestOneInput - the whole input is one rua value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_dest d[REPORT_MAX_URIS + 1];
	char *rua = malloc(size + 1);
	struct buf msg = BUF_INIT;
	size_t n;

	if (rua == NULL)
		return 0;
	memcpy(rua, data, size);
	rua[size] = '\0';
	memset(d, 0xa5, sizeof(d));
	n = report_rua_parse(rua, d, REPORT_MAX_URIS);
	if (n > REPORT_MAX_URIS)
		fz_fail("more destinations than the cap", NULL);
	for (size_t i = 0; i < n; i++)
		fz_addr_ok(&d[i]);
	if (n > 0) {
		struct report_mail m = { "dmarc@rcv.example", d, n, "example.com",
		    "rcv.example", "0123abcd", 86400, 172800, 1700000000, "x", 1 };

		if (!report_mail_build(&msg, &m))
			fz_fail("a mail with parsed destinations refused", d[0].addr);
		fz_headers_ok(buf_cstr(&msg));
	}
	buf_free(&msg);
	free(rua);
	return 0;
}
