/* test_report - the pure pieces of authmilter-report: aggregation, the RFC 9990
 * XML (checked here for structure; test_report_gen validates it against the
 * schema), gzip, names, the rua parser against hostile values, the external
 * destination check over a fake DNS, and the MIME message. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "report_agg.h"
#include "report_dest.h"
#include "report_gen.h"
#include "report_mail.h"
#include "report_xml.h"
#include "tap.h"

/* row - a passing row from ip for header_from, with n DKIM results */
static struct report_row
row(const char *ip, const char *from, time_t t)
{
	static struct report_dkim dk[] = { { "example.com", "sel", "pass" } };
	struct report_row r = {
		.received = t, .source_ip = (char *)ip, .header_from = (char *)from,
		.envelope_from = (char *)from, .policy_domain = "example.com",
		.rua = "mailto:d@example.com", .ruf = "", .p = "reject", .sp = NULL,
		.np = "quarantine", .adkim = "r", .aspf = "s", .fo = "0", .testing = "n",
		.discovery = "treewalk", .spf_domain = (char *)from, .spf_scope = "mfrom",
		.spf_result = "pass", .dkim = dk, .n_dkim = 1, .dkim_aligned = "pass",
		.spf_aligned = "pass", .disposition = "pass", .reasons = "",
	};
	return r;
}

/* gunzip - inflate a gzip stream into out */
static bool
gunzip(const void *in, size_t len, struct buf *out)
{
	z_stream z = { 0 };
	unsigned char chunk[4096];
	int rc;

	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return false;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (unsigned)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END;
}

/* count - occurrences of needle in hay */
static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_agg(void)
{
	struct report_agg *a = report_agg_new("example.com");
	struct report_row r;
	struct report_record *const *rec;
	size_t n;

	CHECK(report_agg_policy(a) == NULL, "agg: no policy before a row");
	for (int i = 0; i < 5; i++) {
		r = row("192.0.2.1", "example.com", 100 + i);
		report_agg_add(a, &r);
	}
	r = row("192.0.2.1", "example.com", 50);
	r.disposition = "reject";
	r.dkim_aligned = "fail";
	report_agg_add(a, &r);
	r = row("192.0.2.2", "sub.example.com", 200);
	r.p = "quarantine";
	report_agg_add(a, &r);
	r = row("192.0.2.1", "example.com", 150);
	r.envelope_to = "rcpt.example";
	report_agg_add(a, &r);
	r = row("192.0.2.1", "example.com", 150);
	r.n_dkim = 0;
	report_agg_add(a, &r);
	r = row("192.0.2.1", "example.com", 150);
	r.reasons = "local_policy";
	report_agg_add(a, &r);
	rec = report_agg_records(a, &n);
	CHECK(n == 6, "agg: 10 rows in 6 records (disposition, ip, envelope_to, dkim, reasons split) (%zu)", n);
	unsigned long total = 0, five = 0;
	for (size_t i = 0; i < n; i++) {
		total += rec[i]->count;
		if (rec[i]->count == 5)
			five++;
	}
	CHECK(total == 10 && five == 1, "agg: counts add up to the rows, 5 in one record");
	CHECK(report_agg_rows(a) == 10, "agg: rows counted");
	CHECK_STR(report_agg_policy(a)->p, "quarantine", "agg: policy of the latest row");
	report_agg_free(a);

	/* many distinct records: the table grows, sorting keeps every count */
	a = report_agg_new("example.com");
	char ip[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250);
		r = row(ip, "example.com", i);
		report_agg_add(a, &r);
		report_agg_add(a, &r);
	}
	rec = report_agg_records(a, &n);
	bool all2 = n == 3000;
	for (size_t i = 0; i < n; i++)
		all2 = all2 && rec[i]->count == 2;
	r = row("10.0.0.0", "example.com", 1);
	report_agg_add(a, &r);	/* after the sort the table still finds it */
	rec = report_agg_records(a, &n);
	size_t three = 0;
	for (size_t i = 0; i < n; i++)
		three += rec[i]->count == 3;
	CHECK(all2 && n == 3000 && three == 1, "agg: 3000 records of 2, then one of 3 after a sort");
	report_agg_free(a);

	/* more than 100 DKIM results: the first 100, in the order recorded */
	struct report_dkim many[150];
	char names[150][16];
	for (int i = 0; i < 150; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d.example", i);
		many[i] = (struct report_dkim){ names[i], "s", i < 120 ? "fail" : "pass" };
	}
	a = report_agg_new("example.com");
	r = row("192.0.2.9", "example.com", 1);
	r.dkim = many;
	r.n_dkim = 150;
	report_agg_add(a, &r);
	rec = report_agg_records(a, &n);
	CHECK(n == 1 && rec[0]->row.n_dkim == REPORT_MAX_DKIM &&
	    strcmp(rec[0]->row.dkim[99].domain, "d99.example") == 0,
	    "agg: 150 DKIM results kept as the first 100");
	report_agg_free(a);
}

static void
test_xml(void)
{
	struct report_agg *a = report_agg_new("example.com");
	struct report_meta m = { "Example Org", "dmarc@rcv.example", "abc123",
	    "authmilter 0.1.0", 86400, 172800 };
	struct buf gz = BUF_INIT, xml = BUF_INIT, plain = BUF_INIT, gz2 = BUF_INIT;
	struct report_row r = row("192.0.2.1", "example.com", 1);
	char err[200];

	CHECK(!report_xml_write(&m, a, true, &gz, err, sizeof(err)), "xml: no rows, no report");
	report_agg_add(a, &r);
	r = row("2001:db8::1", "sub.example.com", 2);
	r.envelope_from = "";
	r.envelope_to = "rcpt.example";
	r.spf_scope = "helo";
	r.spf_result = "invalid";		/* not in the schema: spf left out */
	r.disposition = "quarantine";
	r.reasons = "policy_test_mode bogus local_policy";
	r.sp = "bogus";
	report_agg_add(a, &r);
	r = row("192.0.2.3", "a<b>&\"\r\n\x01\xff.example", 3);
	report_agg_add(a, &r);
	CHECK(report_xml_write(&m, a, true, &gz, err, sizeof(err)), "xml: gzip written");
	CHECK(gz.len > 18 && (unsigned char)gz.data[0] == 0x1f &&
	    (unsigned char)gz.data[1] == 0x8b, "xml: gzip magic");
	CHECK(gz.len > 18 && gz.data[4] == 0 && gz.data[5] == 0 && gz.data[6] == 0 &&
	    gz.data[7] == 0, "xml: no gzip time stamp");
	CHECK(gunzip(gz.data, gz.len, &xml), "xml: gunzips");
	CHECK(report_xml_write(&m, a, false, &plain, err, sizeof(err)), "xml: plain written");
	CHECK_STR(buf_cstr(&xml), buf_cstr(&plain), "xml: gzip holds the plain XML");
	CHECK(report_xml_write(&m, a, true, &gz2, err, sizeof(err)) && gz2.len == gz.len &&
	    memcmp(gz2.data, gz.data, gz.len) == 0, "xml: the same report twice, the same bytes");
	const char *x = buf_cstr(&plain);
	CHECK(strstr(x, "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">") != NULL,
	    "xml: namespace");
	CHECK(strstr(x, "<generator>authmilter 0.1.0</generator>") != NULL, "xml: generator");
	CHECK(strstr(x, "<np>quarantine</np>") != NULL && strstr(x, "<testing>n</testing>") &&
	    strstr(x, "<discovery_method>treewalk</discovery_method>"),
	    "xml: np, testing, discovery_method");
	CHECK(strstr(x, "<sp>") == NULL, "xml: an sp the schema refuses is left out");
	CHECK(count(x, "<record>") == 3, "xml: three records");
	CHECK(strstr(x, "<envelope_from></envelope_from>") != NULL ||
	    strstr(x, "<envelope_from/>") != NULL, "xml: null sender as empty envelope_from");
	CHECK(count(x, "<scope>mfrom</scope>") == 2, "xml: no scope for a HELO result");
	CHECK(count(x, "<type>") == 2 && strstr(x, "<type>policy_test_mode</type>") &&
	    strstr(x, "bogus") == NULL, "xml: known reasons only");
	CHECK(strstr(x, "<header_from>a&lt;b&gt;&amp;\"????.example</header_from>") != NULL ||
	    strstr(x, "<header_from>a&lt;b&gt;&amp;&quot;????.example</header_from>") != NULL,
	    "xml: markup escaped, control and 8-bit bytes replaced");
	CHECK(strstr(x, "<count>1</count>") != NULL, "xml: count");
	buf_free(&gz);
	buf_free(&gz2);
	buf_free(&xml);
	buf_free(&plain);
	report_agg_free(a);
}

static void
test_names(void)
{
	struct buf b = BUF_INIT;

	report_mail_filename(&b, "rcv.example", "example.com", 86400, 172800, "abc");
	CHECK_STR(buf_cstr(&b), "rcv.example!example.com!86400!172800!abc.xml.gz", "file name");
	char id[64];
	report_mail_id("86400.a-b_c@d", id, sizeof(id));
	CHECK_STR(id, "86400abcd", "Report-ID: the claim id's letters and digits");
	report_mail_id("86400.0123456789abcdef", id, 8);
	CHECK_STR(id, "8640001", "Report-ID: cut to the buffer, terminated");
	buf_free(&b);
	CHECK(report_dest_domain_ok("a-b.example.com"), "domain ok");
	CHECK(!report_dest_domain_ok("a/b.example") && !report_dest_domain_ok("-a.example") &&
	    !report_dest_domain_ok("a..example") && !report_dest_domain_ok("") &&
	    !report_dest_domain_ok("A.example") && !report_dest_domain_ok("a.example\n"),
	    "domain: slash, hyphen, empty label, upper case, LF refused");
}

static void
test_rua(void)
{
	static const struct {
		const char *rua;
		size_t n;
		const char *first, *second;
	} t[] = {
		{ "mailto:d@example.com", 1, "d@example.com", NULL },
		{ " mailto:d@example.com , MAILTO:e@Example.NET ", 2, "d@example.com",
		  "e@example.net" },
		{ "mailto:d@example.com!10m,mailto:e@example.net!5", 2, "d@example.com",
		  "e@example.net" },
		{ "mailto:d@example.com?subject=x%0D%0ABcc:evil@x", 1, "d@example.com", NULL },
		{ "https://example.com/r,mailto:d@example.com", 1, "d@example.com", NULL },
		{ "mailto:a%40b@example.com", 0, NULL, NULL },
		{ "mailto:d@example.com%0D%0ABcc:%20evil@x.example", 0, NULL, NULL },
		{ "mailto:d%0d%0aBcc:evil@example.com", 0, NULL, NULL },
		{ "mailto:d@example.com\r\nBcc: evil@x.example", 0, NULL, NULL },
		{ "mailto:\"q u\"@example.com", 0, NULL, NULL },
		{ "mailto:<d@example.com>", 0, NULL, NULL },
		{ "mailto:d@ex ample.com", 0, NULL, NULL },
		{ "mailto:d@example.com%2Ce@x.example", 0, NULL, NULL },
		{ "mailto:.d@example.com,mailto:d..e@example.com,mailto:@example.com", 0, NULL,
		  NULL },
		{ "mailto:d@example.com,mailto:D@EXAMPLE.COM", 1, "d@example.com", NULL },
		{ "mailto:d%2Bx@example.com", 1, "d+x@example.com", NULL },
		{ "mailto:d@exa_mple.com,mailto:d@-x.example", 0, NULL, NULL },
		{ "mailto:", 0, NULL, NULL },
		{ "", 0, NULL, NULL },
		{ ",,,", 0, NULL, NULL },
	};
	struct report_dest d[REPORT_MAX_URIS];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = report_rua_parse(t[i].rua, d, REPORT_MAX_URIS);

		CHECK(n == t[i].n, "rua %zu: %zu kept (%zu)", i, t[i].n, n);
		if (n > 0 && t[i].first != NULL)
			CHECK_STR(d[0].addr, t[i].first, "rua %zu: first", i);
		if (n > 1 && t[i].second != NULL)
			CHECK_STR(d[1].addr, t[i].second, "rua %zu: second", i);
	}

	/* thousands of URIs: at most REPORT_MAX_URIS kept, the scan stops early */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "%smailto:r%d@example.com", i ? "," : "", i);
	CHECK(report_rua_parse(buf_cstr(&b), d, REPORT_MAX_URIS) == REPORT_MAX_URIS,
	    "rua: 5000 URIs, %d kept", REPORT_MAX_URIS);
	buf_reset(&b);
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, "http://x.example/,");
	buf_puts(&b, "mailto:late@example.com");
	CHECK(report_rua_parse(buf_cstr(&b), d, REPORT_MAX_URIS) == 0,
	    "rua: a mailto after 5000 junk items is not looked at");
	buf_reset(&b);
	buf_puts(&b, "mailto:");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "@example.com,mailto:ok@example.com");
	CHECK(report_rua_parse(buf_cstr(&b), d, REPORT_MAX_URIS) == 1 &&
	    strcmp(d[0].addr, "ok@example.com") == 0, "rua: a 100 KB item skipped, the next used");
	buf_free(&b);
}

/* a fake DNS for the external check: name -> one TXT, or a failure */
static const struct {
	const char *name;
	enum dns_status st;
	const char *txt;
} fake_zone[] = {
	{ "example.com._report._dmarc.reports.example.net", DNS_OK, "v=DMARC1" },
	{ "example.com._report._dmarc.over.example.org", DNS_OK,
	  "v=DMARC1; rua=mailto:other@over.example.org" },
	{ "example.com._report._dmarc.bad.example.org", DNS_OK,
	  "v=DMARC1; rua=mailto:x@elsewhere.example" },
	{ "example.com._report._dmarc.spf.example.org", DNS_OK, "v=spf1 -all" },
	{ "example.com._report._dmarc.slow.example.org", DNS_TEMPFAIL, NULL },
};

static struct dns_rr fake_rr;
static struct dns_answer fake_answer;
static int fake_asked;

/* fake_txt - a report_txt_fn over fake_zone; NXDOMAIN for the rest */
static const struct dns_answer *
fake_txt(void *ctx, const char *name)
{
	fake_asked++;
	fake_answer = (struct dns_answer){ .status = DNS_NXDOMAIN, .rrtype = DNS_T_TXT };
	for (size_t i = 0; i < sizeof(fake_zone) / sizeof(fake_zone[0]); i++)
		if (strcmp(fake_zone[i].name, name) == 0) {
			fake_answer.status = fake_zone[i].st;
			fake_answer.why = "SERVFAIL";
			if (fake_zone[i].txt != NULL) {
				fake_rr.txt = (char *)fake_zone[i].txt;
				fake_rr.txt_len = strlen(fake_zone[i].txt);
				fake_answer.rr = &fake_rr;
				fake_answer.count = 1;
			}
		}
	return &fake_answer;
}

/* test_write_file - report files (.xml.gz, .eml) are 0640 under umask 022 and never
 * written through a symlink, at the temporary name or the final one (issue 24
 * finding 7) */
static void
test_write_file(void)
{
	char dir[] = "/tmp/test_reportXXXXXX", why[512], p[600], victim[600], cmd[700];
	struct buf data = BUF_INIT;
	struct stat sb;
	mode_t old = umask(022);
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		CHECK(false, "mkdtemp");
		return;
	}
	buf_puts(&data, "report data\n");
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	if (f != NULL) {
		fputs("precious\n", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/.a.eml.%ld.tmp", dir, (long)getpid());
	CHECK(symlink(victim, p) == 0, "a symlink planted at the temporary name");
	snprintf(p, sizeof(p), "%s/b.xml.gz", dir);
	CHECK(symlink(victim, p) == 0, "a symlink planted at a final name");
	CHECK(report_gen_write_file(dir, "a.eml", &data, why, sizeof(why)), "a.eml: %s", why);
	CHECK(report_gen_write_file(dir, "b.xml.gz", &data, why, sizeof(why)), "b: %s", why);
	snprintf(p, sizeof(p), "%s/a.eml", dir);
	CHECK(lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0777) == 0640,
	    "a.eml is a regular file 0640 under umask 022 (%o)", (unsigned)(sb.st_mode & 0777));
	snprintf(p, sizeof(p), "%s/b.xml.gz", dir);
	CHECK(lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0777) == 0640,
	    "the final name's symlink replaced by a 0640 file (%o)", (unsigned)(sb.st_mode & 0777));
	CHECK(stat(victim, &sb) == 0 && sb.st_size == 9, "the symlinks' target untouched "
	    "(%lld bytes)", (long long)sb.st_size);
	umask(old);
	buf_free(&data);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* fake_org - the last two labels */
static enum dmarc_org_status
fake_org(void *ctx, const char *domain, char *org, size_t orglen, char *why, size_t whylen)
{
	const char *p = domain + strlen(domain), *dot = NULL;
	int dots = 0;

	while (p > domain) {
		p--;
		if (*p == '.' && ++dots == 2) {
			dot = p;
			break;
		}
	}
	snprintf(org, orglen, "%s", dot != NULL ? dot + 1 : domain);
	return DMARC_ORG_OK;
}

static void
test_dest_check(void)
{
	static const struct {
		const char *rua;
		enum report_check rc;
		size_t n;
		const char *first;
	} t[] = {
		{ "mailto:d@example.com,mailto:e@mx.example.com", REPORT_CHECK_OK, 2, "d@example.com" },
		{ "mailto:d@reports.example.net", REPORT_CHECK_OK, 1, "d@reports.example.net" },
		{ "mailto:d@nowhere.example.net", REPORT_CHECK_OK, 0, NULL },
		{ "mailto:d@over.example.org", REPORT_CHECK_OK, 1, "other@over.example.org" },
		{ "mailto:d@bad.example.org,mailto:e@example.com", REPORT_CHECK_OK, 1, "e@example.com" },
		{ "mailto:d@spf.example.org", REPORT_CHECK_OK, 0, NULL },
		{ "mailto:d@slow.example.org,mailto:e@example.com", REPORT_CHECK_TEMP, 0, NULL },
	};
	char why[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct report_dest d[REPORT_MAX_URIS];
		size_t n = report_rua_parse(t[i].rua, d, REPORT_MAX_URIS);
		enum report_check rc = report_dest_check("example.com", "rua", d, &n, fake_org, NULL,
		    fake_txt, NULL, why, sizeof(why));

		CHECK(rc == t[i].rc && n == t[i].n, "dest %zu: %s, %zu kept (%zu; %s)", i,
		    t[i].rc == REPORT_CHECK_OK ? "ok" : "temp", t[i].n, n, why);
		if (n > 0 && t[i].first != NULL)
			CHECK_STR(d[0].addr, t[i].first, "dest %zu: first", i);
	}
	/* a policy domain so long that the query name cannot exist */
	char longd[260];
	memset(longd, 'a', 63);
	memcpy(longd + 63, ".", 1);
	memset(longd + 64, 'b', 63);
	memcpy(longd + 127, ".", 1);
	memset(longd + 128, 'c', 63);
	memcpy(longd + 191, ".", 1);
	memset(longd + 192, 'd', 40);
	snprintf(longd + 232, sizeof(longd) - 232, ".example.com");
	struct report_dest d[REPORT_MAX_URIS];
	size_t n = report_rua_parse("mailto:d@reports.example.net", d, REPORT_MAX_URIS);
	fake_asked = 0;
	CHECK(report_dest_check(longd, "rua", d, &n, fake_org, NULL, fake_txt, NULL, why,
	    sizeof(why)) == REPORT_CHECK_OK && n == 0 && fake_asked == 0,
	    "dest: a name over 253 octets is not asked and not authorized");
}

static void
test_mail(void)
{
	struct report_dest to[2];
	size_t n = report_rua_parse("mailto:d@example.com,mailto:e@example.net", to, 2);
	unsigned char gz[100];
	for (size_t i = 0; i < sizeof(gz); i++)
		gz[i] = (unsigned char)i;
	struct report_mail m = { "dmarc@rcv.example", to, n, "example.com", "rcv.example",
	    "0123abcd", 86400, 172800, 1700000000, gz, sizeof(gz) };
	struct buf b = BUF_INIT;

	CHECK(report_mail_build(&b, &m), "mail: built");
	const char *s = buf_cstr(&b);
	CHECK(strstr(s, "Subject: Report Domain: example.com\n Submitter: rcv.example\n"
	    " Report-ID: <0123abcd>\n") != NULL, "mail: RFC 9990 Subject, folded");
	CHECK(strstr(s, "To: d@example.com,\n e@example.net\n") != NULL, "mail: To");
	CHECK(strstr(s, "Content-Type: application/gzip; name=\""
	    "rcv.example!example.com!86400!172800!0123abcd.xml.gz\"") != NULL,
	    "mail: application/gzip part with the file name");
	CHECK(strstr(s, "Date: Tue, 14 Nov 2023 22:13:20 +0000\n") != NULL, "mail: Date");
	CHECK(strstr(s, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n")
	    != NULL, "mail: base64 in 76-column lines");
	CHECK(strchr(s, '\r') == NULL, "mail: no CR");

	struct report_dest bad = to[0];
	snprintf(bad.addr, sizeof(bad.addr), "x@example.com\nBcc: evil@x.example");
	m.to = &bad;
	m.n_to = 1;
	CHECK(!report_mail_build(&b, &m), "mail: an address with LF refused");
	m.to = to;
	m.n_to = n;
	m.domain = "example.com\nBcc: evil@x.example";
	CHECK(!report_mail_build(&b, &m), "mail: a policy domain with LF refused");
	m.domain = "example.com";
	m.id = "abc>\n";
	CHECK(!report_mail_build(&b, &m), "mail: a bad Report-ID refused");
	m.id = "abc.def";
	CHECK(!report_mail_build(&b, &m), "mail: a Report-ID with a dot refused");
	m.id = "abc";
	m.n_to = 0;
	CHECK(!report_mail_build(&b, &m), "mail: no destination, no mail");
	buf_free(&b);

	char err[200];
	CHECK(report_mail_send("/bin/true", "x", 1, err, sizeof(err)), "send: exit 0 is sent");
	CHECK(!report_mail_send("/bin/false", "x", 1, err, sizeof(err)) &&
	    strstr(err, "status 1") != NULL, "send: exit 1 is a failure (%s)", err);
	CHECK(!report_mail_send("sendmail -t", "x", 1, err, sizeof(err)),
	    "send: a relative program refused");
	CHECK(!report_mail_send("/nonexistent/sendmail -t", "x", 1, err, sizeof(err)) &&
	    strstr(err, "127") != NULL, "send: a missing program is a failure (%s)", err);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_agg();
	test_xml();
	test_names();
	test_rua();
	test_dest_check();
	test_mail();
	test_write_file();
	return tap_done();
}
