/* test_report_store - the report store on SQLite: schema, rows in and out, the
 * dkim column, claims (once, sent, busy, lease, release), expiry, bad URIs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "report_rows_common.h"
#include "report_store.h"
#include "report_uri.h"
#include "tap.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_report_storeXXXXXX";
static char uri[400], path[300];

/* make_row - a row for policy domain dom received at t, with nd signatures */
static void
make_row(struct report_row *r, const char *dom, time_t t, size_t nd)
{
	report_rows_sample(r, dom, "192.0.2.1", t, nd);
	/* the null sender, a NULL sp, an np, strict SPF alignment */
	report_rows_set(&r->envelope_from, "");
	report_rows_set(&r->rua, "mailto:dmarc@example.org");
	report_rows_set(&r->np, "quarantine");
	report_rows_set(&r->aspf, "s");
	for (size_t i = 0; i < nd; i++) {
		report_rows_set(&r->dkim[i].selector, i ? "s 2,%x" : "sel");	/* needs escaping */
		report_rows_set(&r->dkim[i].result, i ? "fail" : "pass");
	}
	report_rows_set(&r->spf_aligned, "fail");
	report_rows_set(&r->disposition, "none");
	report_rows_set(&r->reasons, "policy_test_mode");
}

struct seen {
	int	 n;
	char	 last_domain[64];
	int	 domain_changes;
	bool	 fields_ok;
	time_t	 last_received;
	bool	 ordered;
};

/* collect - check each row as the store gives it back */
static int
collect(const struct report_row *r, void *arg)
{
	struct seen *s = arg;

	if (strcmp(s->last_domain, r->policy_domain) != 0) {
		s->domain_changes++;
		snprintf(s->last_domain, sizeof(s->last_domain), "%s", r->policy_domain);
		s->last_received = 0;
	}
	if (r->received < s->last_received)
		s->ordered = false;
	s->last_received = r->received;
	if (strcmp(r->source_ip, "192.0.2.1") != 0 || strcmp(r->envelope_from, "") != 0 ||
	    r->envelope_to != NULL || r->sp != NULL || strcmp(r->np, "quarantine") != 0 ||
	    strcmp(r->reasons, "policy_test_mode") != 0 || r->n_dkim != 2 ||
	    strcmp(r->dkim[1].selector, "s 2,%x") != 0 || strcmp(r->dkim[0].result, "pass") != 0 ||
	    strcmp(r->aspf, "s") != 0 || strcmp(r->discovery, "treewalk") != 0)
		s->fields_ok = false;
	s->n++;
	return 0;
}

/* stop_after_one - stop at the first row */
static int
stop_after_one(const struct report_row *r, void *arg)
{
	(*(int *)arg)++;
	return 1;
}

/* count_domain - count the domains listed */
static int
count_domain(const char *d, long long rows, void *arg)
{
	long long *n = arg;

	n[0]++;
	n[1] += rows;
	return 0;
}

/* test_rows - insert across domains and periods, read back in order */
static void
test_rows(struct report_store *st)
{
	struct report_row rows[30];
	struct seen s = { 0, "", 0, true, 0, true };
	long long dn[2] = { 0, 0 };
	int one = 0;

	/* three domains interleaved; times 1000..1029 */
	for (int i = 0; i < 30; i++)
		make_row(&rows[i], i % 3 == 0 ? "a.example" : i % 3 == 1 ? "b.example" :
		    "c.example", 1000 + (29 - i), 2);
	free(rows[2].rua);
	rows[2].rua = xstrdup("");	/* c.example's latest row: no rua */
	CHECK(report_store_insert(st, rows, 30) == 0, "insert 30 rows: %s",
	    report_store_error(st));
	CHECK(report_store_each(st, 1000, 1030, collect, &s) == 30, "each gives all 30");
	CHECK(s.n == 30 && s.domain_changes == 3, "each: domains together (%d changes)",
	    s.domain_changes);
	CHECK(s.ordered, "each: a domain's rows by received");
	CHECK(s.fields_ok, "each: fields, NULLs, \"\" and escaped selector survive");
	memset(&s, 0, sizeof(s));
	s.fields_ok = s.ordered = true;
	CHECK(report_store_each(st, 1010, 1020, collect, &s) == 10, "period is [begin, end)");
	memset(&s, 0, sizeof(s));
	s.fields_ok = s.ordered = true;
	CHECK(report_store_each_domain(st, "b.example", 1000, 1030, collect, &s) == 10 &&
	    s.domain_changes == 1, "each_domain: one domain's 10 rows");
	CHECK(report_store_each(st, 1000, 1030, stop_after_one, &one) >= 1 && one == 1,
	    "a callback stops the iteration");
	CHECK(report_store_domains(st, 1000, 1030, count_domain, dn) == 2 && dn[0] == 2 &&
	    dn[1] == 20, "domains: the two whose last row has a rua (%lld, %lld rows)",
	    dn[0], dn[1]);
	for (int i = 0; i < 30; i++)
		report_row_free(&rows[i]);
}

/* test_claims - once, ours again, busy, sent, release, lease */
static void
test_claims(struct report_store *st, struct report_store *st2)
{
	char id[REPORT_ID_MAX], id2[REPORT_ID_MAX];

	CHECK(report_store_claim(st, "a.example", 1000, 2000, "gen1", id, sizeof(id)) ==
	    REPORT_CLAIM_OK && id[0] != '\0', "first claim is ours (id %s)", id);
	CHECK(strspn(id, "0123456789abcdef.") == strlen(id), "report id is dot-atom text");
	CHECK(report_store_claim(st2, "a.example", 1000, 2000, "gen2", id2, sizeof(id2)) ==
	    REPORT_CLAIM_BUSY, "a second generator finds it busy");
	CHECK(report_store_claim(st, "a.example", 1000, 2000, "gen1", id2, sizeof(id2)) ==
	    REPORT_CLAIM_OK && strcmp(id, id2) == 0, "re-claim by its holder: same id");
	CHECK(report_store_mark_sent(st2, "a.example", 1000, 2000, "gen2") == -1,
	    "only the holder marks it sent");
	CHECK(report_store_mark_sent(st, "a.example", 1000, 2000, "gen1") == 0, "mark sent");
	CHECK(report_store_claim(st2, "a.example", 1000, 2000, "gen2", id2, sizeof(id2)) ==
	    REPORT_CLAIM_SENT && strcmp(id, id2) == 0, "sent: nothing twice, same id");
	CHECK(report_store_claim(st, "a.example", 2000, 3000, "gen1", id2, sizeof(id2)) ==
	    REPORT_CLAIM_OK && strcmp(id, id2) != 0, "another period: another id");
	CHECK(report_store_claim(st, "b.example", 1000, 2000, "gen1", id, sizeof(id)) ==
	    REPORT_CLAIM_OK, "claim b");
	CHECK(report_store_release(st, "b.example", 1000, 2000, "gen1") == 0, "release b");
	CHECK(report_store_claim(st2, "b.example", 1000, 2000, "gen2", id2, sizeof(id2)) ==
	    REPORT_CLAIM_OK && strcmp(id, id2) == 0, "released: taken over, same id");
	CHECK(report_store_release(st, "b.example", 1000, 2000, "gen1") == -1,
	    "a released claim is no longer the old holder's");
}

/* test_lease - a claim older than the lease is taken over (SQLite only: it
 * ages the claim through the file) */
static void
test_lease(struct report_store *st, struct report_store *st2)
{
	char id[REPORT_ID_MAX], id2[REPORT_ID_MAX];
	sqlite3 *db;
	char sql[256];

	CHECK(report_store_claim(st, "c.example", 1000, 2000, "gen1", id, sizeof(id)) ==
	    REPORT_CLAIM_OK, "claim c");
	/* age the claim behind the store's back */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open directly");
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql), "UPDATE report_claims SET claimed_at = %lld WHERE "
	    "policy_domain = 'c.example'", (long long)time(NULL) - REPORT_CLAIM_LEASE - 1);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "age the claim");
	sqlite3_close(db);
	CHECK(report_store_claim(st2, "c.example", 1000, 2000, "gen2", id2, sizeof(id2)) ==
	    REPORT_CLAIM_OK && strcmp(id, id2) == 0, "an expired lease is taken over");
	CHECK(report_store_mark_sent(st, "c.example", 1000, 2000, "gen1") == -1,
	    "the old holder cannot mark it sent");
}

/* test_dkim_column - encode/decode edge cases */
static void
test_dkim_column(void)
{
	struct report_dkim d[2] = { { "ex.com", "a b", "pass" }, { "", "%", "none" } };
	struct report_dkim *out;
	size_t n;
	char *s = report_dkim_encode(d, 2);
	struct report_row r;

	CHECK_STR(s, "ex.com a%20b pass, %25 none", "dkim column encodes");
	CHECK(report_dkim_decode(s, &out, &n) && n == 2 && strcmp(out[0].selector, "a b") == 0 &&
	    strcmp(out[1].domain, "") == 0 && strcmp(out[1].selector, "%") == 0,
	    "dkim column round trip");
	memset(&r, 0, sizeof(r));
	r.dkim = out;
	r.n_dkim = n;
	report_row_free(&r);
	free(s);
	s = report_dkim_encode(NULL, 0);
	CHECK(report_dkim_decode(s, &out, &n) && n == 0, "no signatures: \"\"");
	free(out);
	free(s);
	static const char *const bad[] = { "a b", "a b c d", "a %4 c", "a %00 c", "a %zz c" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = report_dkim_decode(bad[i], &out, &n);

		CHECK(!ok, "dkim column rejects \"%s\"", bad[i]);
		memset(&r, 0, sizeof(r));
		r.dkim = out;
		r.n_dkim = n;
		report_row_free(&r);
	}
}

/* test_uris - what the config check accepts */
static void
test_uris(void)
{
	char err[256];

	CHECK(report_store_uri_check("sqlite:/var/lib/authmilter/reports.db", err, sizeof(err)),
	    "sqlite:PATH");
	CHECK(!report_store_uri_check("sqlite:", err, sizeof(err)), "sqlite: without a path");
	CHECK(report_store_uri_check("postgresql://authmilter@db.example/reports", err,
	    sizeof(err)), "postgresql URI");
	CHECK(report_store_uri_check("postgresql:///reports?host=/run/pg", err, sizeof(err)),
	    "postgresql URI with a socket directory");
	CHECK(!report_store_uri_check("postgresql://h/db?nosuchoption=1", err, sizeof(err)) &&
	    strstr(err, "nosuchoption") != NULL, "libpq rejects an unknown option: %s", err);
	CHECK(!report_store_uri_check("mysql://h/db", err, sizeof(err)), "mysql: not ours");
	CHECK(!report_store_uri_check("/var/lib/x.db", err, sizeof(err)), "a bare path");
}

/* test_uri_mask - every password hidden, everything else shown as written */
static void
test_uri_mask(void)
{
	static const struct {
		const char *uri, *shown;
	} cases[] = {
		{ "sqlite:/var/lib/authmilter/reports.db", "sqlite:/var/lib/authmilter/reports.db" },
		{ "postgresql://am:S3cretPW@db.example/reports", "postgresql://am:***@db.example/reports" },
		{ "postgresql://am@db.example/reports", "postgresql://am@db.example/reports" },
		{ "postgresql:///reports?host=/run/pg", "postgresql:///reports?host=/run/pg" },
		{ "postgres://am:pa/ss@word@db/r?sslmode=require", "postgres://am:***@db/r?sslmode=require" },
		{ "postgresql://am@db/r?password=S3cret&sslmode=require",
		  "postgresql://am@db/r?password=***&sslmode=require" },
		{ "postgresql://db/r?sslpassword=S3cret", "postgresql://db/r?sslpassword=***" },
		{ "postgresql://db/r?pass%77ord=S3cret", "postgresql://db/r?pass%77ord=***" },
		{ "postgressql://am:S3cretPW@db/r", "postgressql://am:***@db/r" },
		{ "postgresql:/am:S3cretPW@db/r", "postgresql:/***@db/r" },
		{ "am:S3cretPW@db/r", "am:***@db/r" },
		{ "host=db user=am password=S3cret", "host=db user=am password=***" },
		{ "postgresql://db/r?x=a@b", "postgresql://db/r?x=a@b" },
	};
	static const char *const bad[] = {
		"postgresql://am:S3cretPW@[db.example/reports",
		"postgresql://am:S3c%zzretPW@db.example/reports",
		"postgressql://am:S3cretPW@db/r",
		"postgresql://am@db/r?password=S3cretPW&sslmode",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *shown = report_uri_mask(cases[i].uri);

		CHECK(strcmp(shown, cases[i].shown) == 0, "mask %s: %s", cases[i].uri, shown);
		CHECK(report_uri_has_secret(cases[i].uri) ==
		    (strcmp(cases[i].uri, cases[i].shown) != 0), "has_secret %s", cases[i].uri);
		free(shown);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!report_store_uri_check(bad[i], err, sizeof(err)) &&
		    strstr(err, "S3c") == NULL, "no password in the error for %s: %s", bad[i], err);
}

/* test_bad_files - a missing directory and a file that is not a database */
static void
test_bad_files(void)
{
	char err[512], u[400];
	FILE *f;

	CHECK(report_store_open("sqlite:/nonexistent/dir/r.db", err, sizeof(err)) == NULL &&
	    strstr(err, "/nonexistent/dir/r.db") != NULL, "missing directory: %s", err);
	snprintf(u, sizeof(u), "%s/junk.db", dir);
	f = fopen(u, "w");
	if (f != NULL) {
		for (int i = 0; i < 200; i++)
			fputs("this is not an SQLite database at all\n", f);
		fclose(f);
	}
	snprintf(u, sizeof(u), "sqlite:%s/junk.db", dir);
	CHECK(report_store_open(u, err, sizeof(err)) == NULL &&
	    strstr(err, "not a database") != NULL, "corrupt file: %s", err);
}

/* test_file_modes - under umask 022 the database and its -wal and -shm files are
 * not world-readable (issue 24 finding 7); a symlink at the path is refused and
 * its target left alone */
static void
test_file_modes(void)
{
	char err[512], u[600], p[400], w[420], victim[400];
	struct report_row r = { 0 };
	struct report_store *st;
	struct stat sb;
	mode_t old = umask(022);

	snprintf(p, sizeof(p), "%s/modes.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", p);
	st = report_store_open(u, err, sizeof(err));
	CHECK(st != NULL, "a new database opens: %s", st ? "" : err);
	if (st != NULL) {
		make_row(&r, "modes.example", 1000, 1);
		CHECK(report_store_insert(st, &r, 1) == 0, "a row is written");
		report_row_free(&r);
		CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0640, "reports.db is 0640 "
		    "under umask 022 (%o)", (unsigned)(sb.st_mode & 0777));
		snprintf(w, sizeof(w), "%s-wal", p);
		CHECK(stat(w, &sb) == 0 && (sb.st_mode & 0007) == 0, "-wal not world-readable "
		    "(%o)", (unsigned)(sb.st_mode & 0777));
		snprintf(w, sizeof(w), "%s-shm", p);
		CHECK(stat(w, &sb) == 0 && (sb.st_mode & 0007) == 0, "-shm not world-readable "
		    "(%o)", (unsigned)(sb.st_mode & 0777));
		report_store_close(st);
	}
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(p, sizeof(p), "%s/link.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", p);
	CHECK(symlink(victim, p) == 0, "a symlink planted");
	CHECK(report_store_open(u, err, sizeof(err)) == NULL, "a symlink is refused: %s", err);
	CHECK(stat(victim, &sb) != 0, "its target was not created");
	umask(old);
}

/* test_schema_newer - a database from a newer program is refused, not changed */
static void
test_schema_newer(void)
{
	char err[512], u[600], p[400];
	sqlite3 *db;

	snprintf(p, sizeof(p), "%s/newer.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", p);
	if (sqlite3_open(p, &db) == SQLITE_OK) {
		sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
		    "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	CHECK(report_store_open(u, err, sizeof(err)) == NULL && strstr(err, "99") != NULL,
	    "newer schema refused: %s", err);
}

/* test_expire - old rows and claims go */
static void
test_expire(struct report_store *st)
{
	struct seen s = { 0, "", 0, true, 0, true };
	char id[REPORT_ID_MAX];

	CHECK(report_store_expire(st, 1015) == 15, "expire deletes the 15 older rows");
	CHECK(report_store_each(st, 0, 5000, collect, &s) == 15, "15 rows left");
	CHECK(report_store_expire(st, 2500) == 15, "expire the rest");
	/* the claim of [1000, 2000) went with it; [2000, 3000) stays */
	CHECK(report_store_claim(st, "a.example", 2000, 3000, "gen9", id, sizeof(id)) ==
	    REPORT_CLAIM_BUSY, "a claim of a later period stays");
	CHECK(report_store_claim(st, "a.example", 1000, 2000, "gen9", id, sizeof(id)) ==
	    REPORT_CLAIM_OK, "an expired period's claim is gone");
}

/* run_store - the same tests over one store URI, two connections to it */
static void
run_store(const char *u, bool sqlite)
{
	struct report_store *st, *st2;
	char err[512];

	st = report_store_open(u, err, sizeof(err));
	CHECK(st != NULL, "open creates the database: %s", st ? "" : err);
	st2 = report_store_open(u, err, sizeof(err));
	CHECK(st2 != NULL, "a second connection opens the existing schema");
	if (st != NULL && st2 != NULL) {
		test_rows(st);
		test_claims(st, st2);
		if (sqlite)
			test_lease(st, st2);
		test_expire(st);
	}
	report_store_close(st2);
	report_store_close(st);
}

/* main - SQLite always; PostgreSQL too when REPORT_TEST_PG_URI names an empty
 * database (test_report_record.py runs it so against its private cluster) */
int
main(void)
{
	const char *pg = getenv("REPORT_TEST_PG_URI");
	char cmd[400];

	if (pg != NULL && *pg != '\0') {
		run_store(pg, false);
		return tap_done();
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/reports.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	run_store(uri, true);
	test_dkim_column();
	test_uris();
	test_uri_mask();
	test_bad_files();
	test_schema_newer();
	test_file_modes();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
