/* report_store - DMARC report rows and claims in SQLite (WAL) or PostgreSQL.
 *
 * report_store_open/close      connect and create or migrate the schema
 * report_store_moved           the SQLite file deleted or replaced under us?
 * report_store_insert          a batch of rows in one transaction
 * report_store_each[_domain]   stream the rows of a period (one domain's together)
 * report_store_domains         the policy domains of a period
 * report_store_claim/mark_sent/release   one report sent once, by one generator
 * report_store_expire          delete old rows and claims
 * report_row_free              free a row's members (rows the caller built)
 *
 * Every statement is one SQL text for both databases: parameters are $1..$N
 * (bound by name in SQLite, so their order in the text does not matter; each of
 * them must appear, for PostgreSQL infers their types), values travel as text
 * (SQLite's BIGINT affinity turns them into integers). report_store_run is the
 * one place that talks to either library. The store owns the rows it passes to
 * callbacks; the caller owns the rows it inserts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "buf.h"
#include "report_store.h"
#include "report_uri.h"
#include "xalloc.h"

enum store_kind { STORE_SQLITE, STORE_PG };

struct report_store {
	enum store_kind	 kind;
	sqlite3		*db;		/* STORE_SQLITE */
	PGconn		*pg;		/* STORE_PG */
	char		*path;		/* STORE_SQLITE: the file opened */
	dev_t		 dev;		/* and its identity then; see report_store_moved */
	ino_t		 ino;
	bool		 have_id;
	char		 err[512];
};

/* The schema, one step per version; step N moves version N-1 to N. */
static const char *const store_schema_v1[] = {
	"CREATE TABLE IF NOT EXISTS report_rows ("
	" received BIGINT NOT NULL, source_ip TEXT NOT NULL, header_from TEXT NOT NULL,"
	" envelope_from TEXT, envelope_to TEXT, policy_domain TEXT NOT NULL,"
	" rua TEXT NOT NULL, ruf TEXT NOT NULL, p TEXT, sp TEXT, np TEXT,"
	" adkim TEXT, aspf TEXT, fo TEXT, testing TEXT, discovery TEXT,"
	" spf_domain TEXT, spf_scope TEXT, spf_result TEXT, dkim TEXT NOT NULL,"
	" dkim_aligned TEXT, spf_aligned TEXT, disposition TEXT, reasons TEXT NOT NULL)",
	"CREATE INDEX IF NOT EXISTS report_rows_domain ON report_rows (policy_domain, received)",
	"CREATE INDEX IF NOT EXISTS report_rows_received ON report_rows (received)",
	"CREATE TABLE IF NOT EXISTS report_claims ("
	" policy_domain TEXT NOT NULL, begin_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL,"
	" report_id TEXT NOT NULL, generator TEXT NOT NULL, claimed_at BIGINT NOT NULL,"
	" sent_at BIGINT, PRIMARY KEY (policy_domain, begin_ts, end_ts))",
	NULL
};
/* v2: RFC 9991 failure samples; outcome NULL while unsent, claimed_at 0 when free */
static const char *const store_schema_v2[] = {
	"CREATE TABLE IF NOT EXISTS report_failures ("
	" sample_id TEXT PRIMARY KEY, received BIGINT NOT NULL, policy_domain TEXT NOT NULL,"
	" source_ip TEXT NOT NULL, header_from TEXT NOT NULL, envelope_from TEXT NOT NULL,"
	" ruf TEXT NOT NULL, discovery TEXT NOT NULL, alignment TEXT NOT NULL,"
	" delivery TEXT NOT NULL, auth_results TEXT NOT NULL, dkim_domain TEXT NOT NULL,"
	" dkim_identity TEXT NOT NULL, dkim_selector TEXT NOT NULL, spf_domain TEXT NOT NULL,"
	" headers TEXT NOT NULL, generator TEXT, claimed_at BIGINT NOT NULL DEFAULT 0,"
	" outcome TEXT, done_at BIGINT)",
	"CREATE INDEX IF NOT EXISTS report_failures_pending ON report_failures (outcome, received)",
	"CREATE INDEX IF NOT EXISTS report_failures_domain ON report_failures"
	" (policy_domain, claimed_at)",
	NULL
};
/* v3: report.failure_rate counts per organizational domain (issue 24: a wildcard
 * record made every x1, x2, ... its own policy domain); older samples count under
 * their policy domain */
static const char *const store_schema_v3[] = {
	"ALTER TABLE report_failures ADD COLUMN rate_domain TEXT NOT NULL DEFAULT ''",
	"UPDATE report_failures SET rate_domain = policy_domain",
	"CREATE INDEX IF NOT EXISTS report_failures_rate ON report_failures"
	" (rate_domain, claimed_at)",
	NULL
};
static const char *const *const store_schema[REPORT_STORE_SCHEMA] = { store_schema_v1,
    store_schema_v2, store_schema_v3 };

#define ROW_COLUMNS	24
#define ROW_COLUMN_LIST \
	"received, source_ip, header_from, envelope_from, envelope_to, policy_domain," \
	" rua, ruf, p, sp, np, adkim, aspf, fo, testing, discovery," \
	" spf_domain, spf_scope, spf_result, dkim, dkim_aligned, spf_aligned," \
	" disposition, reasons"
#define PG_ROWS_PER_INSERT	256	/* rows per PostgreSQL INSERT: 6,144 parameters */

/* store_row_fn - one result row as text values (NULL for SQL NULL) */
typedef int (*store_row_fn)(char *const *vals, int ncols, void *arg);

/* report_store_seterr - remember why the last call failed */
static void
report_store_seterr(struct report_store *st, const char *what, const char *why)
{
	size_t n;

	snprintf(st->err, sizeof(st->err), "%s: %s", what, why ? why : "unknown error");
	n = strlen(st->err);
	while (n > 0 && (st->err[n - 1] == '\n' || st->err[n - 1] == ' '))
		st->err[--n] = '\0';	/* libpq ends its messages with a newline */
}

/* report_store_run_sqlite - report_store_run for SQLite */
static long long
report_store_run_sqlite(struct report_store *st, const char *sql, int nparams,
    const char *const *params, store_row_fn fn, void *arg)
{
	sqlite3_stmt *stmt;
	long long rows = 0;
	int rc, i, ncols;
	char *vals[ROW_COLUMNS + 8];

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		report_store_seterr(st, "sqlite prepare", sqlite3_errmsg(st->db));
		return -1;
	}
	for (i = 0; i < nparams; i++) {
		char name[16];
		int at;

		snprintf(name, sizeof(name), "$%d", i + 1);
		at = sqlite3_bind_parameter_index(stmt, name);
		rc = at == 0 ? SQLITE_RANGE : params[i] == NULL ? sqlite3_bind_null(stmt, at) :
		    sqlite3_bind_text(stmt, at, params[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			report_store_seterr(st, "sqlite bind", sqlite3_errmsg(st->db));
			sqlite3_finalize(stmt);
			return -1;
		}
	}
	ncols = sqlite3_column_count(stmt);
	if (ncols > (int)(sizeof(vals) / sizeof(vals[0])))
		ncols = (int)(sizeof(vals) / sizeof(vals[0]));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = 0; i < ncols; i++)
			vals[i] = (char *)sqlite3_column_text(stmt, i);
		rows++;
		if (fn != NULL && fn(vals, ncols, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		report_store_seterr(st, "sqlite", sqlite3_errmsg(st->db));
		sqlite3_finalize(stmt);
		return -1;
	}
	if (ncols == 0)
		rows = sqlite3_changes(st->db);
	sqlite3_finalize(stmt);
	return rows;
}

/* report_store_run_pg - report_store_run for PostgreSQL; rows stream in single-row mode */
static long long
report_store_run_pg(struct report_store *st, const char *sql, int nparams,
    const char *const *params, store_row_fn fn, void *arg)
{
	PGresult *res;
	long long rows = 0, changed = 0;
	bool failed = false, stopped = false;
	char *vals[ROW_COLUMNS + 8];
	int i, ncols;

	if (!PQsendQueryParams(st->pg, sql, nparams, NULL, params, NULL, NULL, 0)) {
		report_store_seterr(st, "postgresql", PQerrorMessage(st->pg));
		return -1;
	}
	if (fn != NULL && !PQsetSingleRowMode(st->pg)) {
		report_store_seterr(st, "postgresql single-row mode", PQerrorMessage(st->pg));
		failed = true;
	}
	while ((res = PQgetResult(st->pg)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			ncols = PQnfields(res);
			if (ncols > (int)(sizeof(vals) / sizeof(vals[0])))
				ncols = (int)(sizeof(vals) / sizeof(vals[0]));
			for (int r = 0; r < PQntuples(res); r++) {
				for (i = 0; i < ncols; i++)
					vals[i] = PQgetisnull(res, r, i) ? NULL :
					    PQgetvalue(res, r, i);
				rows++;
				/* after a stop the rest is drained, not passed on */
				if (!stopped && !failed && fn != NULL &&
				    fn(vals, ncols, arg) != 0)
					stopped = true;
			}
			break;
		case PGRES_COMMAND_OK:
			changed = strtoll(PQcmdTuples(res), NULL, 10);
			break;
		default:
			if (!failed)
				report_store_seterr(st, "postgresql", PQresultErrorMessage(res));
			failed = true;
			break;
		}
		PQclear(res);
	}
	if (failed)
		return -1;
	return fn != NULL || rows > 0 ? rows : changed;
}

/* report_store_run - run one statement with text parameters (NULL is SQL NULL); fn gets
 * each result row. Returns rows seen, or for a statement without results the rows
 * it changed; -1 on error. */
static long long
report_store_run(struct report_store *st, const char *sql, int nparams,
    const char *const *params, store_row_fn fn, void *arg)
{
	if (st->kind == STORE_SQLITE)
		return report_store_run_sqlite(st, sql, nparams, params, fn, arg);
	return report_store_run_pg(st, sql, nparams, params, fn, arg);
}

/* report_store_exec - report_store_run for a statement without parameters or results */
static bool
report_store_exec(struct report_store *st, const char *sql)
{
	return report_store_run(st, sql, 0, NULL, NULL, NULL) >= 0;
}

/* report_store_begin - start a write transaction; SQLite takes its write lock at once
 * so that two writers wait on the busy timeout instead of failing on upgrade */
static bool
report_store_begin(struct report_store *st)
{
	return report_store_exec(st, st->kind == STORE_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

/* report_store_rollback - end a failed transaction, keeping the first error */
static void
report_store_rollback(struct report_store *st)
{
	char keep[sizeof(st->err)];

	memcpy(keep, st->err, sizeof(keep));
	(void)report_store_exec(st, "ROLLBACK");
	memcpy(st->err, keep, sizeof(keep));
}

/* report_store_int_cb - the first column of the first row as a number */
static int
report_store_int_cb(char *const *vals, int ncols, void *arg)
{
	*(long long *)arg = ncols > 0 && vals[0] != NULL ? strtoll(vals[0], NULL, 10) : 0;
	return 1;
}

/* report_store_migrate - create the schema or bring it to REPORT_STORE_SCHEMA, under a
 * lock so that several daemons starting at once do it once */
static bool
report_store_migrate(struct report_store *st)
{
	long long version = 0;
	char num[24];
	const char *p[1] = { num };

	if (!report_store_begin(st))
		return false;
	/* PostgreSQL: CREATE TABLE IF NOT EXISTS still races; a lock orders us */
	if (st->kind == STORE_PG &&
	    !report_store_exec(st, "SELECT pg_advisory_xact_lock(9990016)"))
		goto fail;
	if (!report_store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version INTEGER NOT NULL)"))
		goto fail;
	if (report_store_run(st, "SELECT max(version) FROM schema_version", 0, NULL,
	    report_store_int_cb, &version) < 0)
		goto fail;
	if (version > REPORT_STORE_SCHEMA) {
		snprintf(st->err, sizeof(st->err), "the database has report schema version %lld; "
		    "this program knows versions up to %d", version, REPORT_STORE_SCHEMA);
		goto fail;
	}
	for (long long v = version + 1; v <= REPORT_STORE_SCHEMA; v++)
		for (const char *const *s = store_schema[v - 1]; *s != NULL; s++)
			if (!report_store_exec(st, *s))
				goto fail;
	if (version < REPORT_STORE_SCHEMA) {
		snprintf(num, sizeof(num), "%d", REPORT_STORE_SCHEMA);
		if (!report_store_exec(st, "DELETE FROM schema_version") ||
		    report_store_run(st, "INSERT INTO schema_version (version) VALUES ($1)", 1, p,
		    NULL, NULL) < 0)
			goto fail;
	}
	return report_store_exec(st, "COMMIT");
fail:
	report_store_rollback(st);
	return false;
}

/* report_store_uri_why - why libpq cannot parse uri, told from the masked URI
 * alone (libpq quotes the whole URI or the token it choked on, which may be the
 * password); when only the unmasked one fails, the password part is at fault */
static void
report_store_uri_why(const char *uri, char *err, size_t errlen)
{
	char *shown = report_uri_mask(uri), *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(shown, &why);

	if (opts != NULL) {
		PQconninfoFree(opts);
		snprintf(err, errlen, "not a PostgreSQL URI: the password is not valid "
		    "there (percent-encode '%%', '@', '/', '?', '&', ':' and spaces)");
	} else {
		snprintf(err, errlen, "not a PostgreSQL URI: %s", why ? why : "out of memory");
		if (why != NULL) {
			size_t n = strlen(err);

			while (n > 0 && err[n - 1] == '\n')
				err[--n] = '\0';
			PQfreemem(why);
		}
	}
	free(shown);
}

/* report_store_uri_check - the form (report_uri.c), then libpq's parse */
bool
report_store_uri_check(const char *uri, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	char *why = NULL;

	if (!report_uri_form_check(uri, err, errlen))
		return false;
	if (!report_uri_is_pg(uri))
		return true;
	opts = PQconninfoParse(uri, &why);
	if (opts == NULL) {
		PQfreemem(why);
		report_store_uri_why(uri, err, errlen);
		return false;
	}
	PQconninfoFree(opts);
	return true;
}

/* report_store_create_sqlite - create PATH 0640 (whatever the umask; SQLite gives
 * its -wal and -shm files the database's mode) when it does not exist; never
 * through a symlink (O_EXCL fails on any). An existing file is left as it is. A
 * failure is left to sqlite3_open_v2, which fails the same way with its own
 * words (the log line operators know) */
static void
report_store_create_sqlite(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd >= 0)
		(void)close(fd);	/* nothing written: nothing to lose */
}

/* report_store_open_sqlite - open PATH in WAL mode with a busy timeout; a symlink
 * at PATH is refused (SQLITE_OPEN_NOFOLLOW) */
static bool
report_store_open_sqlite(struct report_store *st, const char *path)
{
	report_store_create_sqlite(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		report_store_seterr(st, path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return false;
	}
	sqlite3_busy_timeout(st->db, REPORT_STORE_BUSY_MS);
	/* WAL: the generator reads while the daemon writes; NORMAL sync is safe
	 * in WAL and loses at most the last batches on power loss */
	if (report_store_run(st, "PRAGMA journal_mode=WAL", 0, NULL, NULL, NULL) < 0 ||
	    !report_store_exec(st, "PRAGMA synchronous=NORMAL")) {
		char why[sizeof(st->err) / 2];

		memcpy(why, st->err, sizeof(why) - 1);	/* the start says it */
		why[sizeof(why) - 1] = '\0';
		report_store_seterr(st, path, why);
		return false;
	}
	st->path = xstrdup(path);
	return true;
}

/* report_store_remember_file - note which file the path names once it is open
 * and migrated (the file exists by then); one that cannot be stat'ed (":memory:")
 * is never looked at again */
static void
report_store_remember_file(struct report_store *st)
{
	struct stat sb;

	if (st->kind != STORE_SQLITE || stat(st->path, &sb) != 0)
		return;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->have_id = true;
}

const char *
report_store_moved(const struct report_store *st)
{
	struct stat sb;

	if (st->kind != STORE_SQLITE || !st->have_id)
		return NULL;
	if (stat(st->path, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? "deleted" : NULL;
	if (sb.st_dev != st->dev || sb.st_ino != st->ino)
		return "replaced by another file";
	return NULL;
}

struct report_store *
report_store_open(const char *uri, char *err, size_t errlen)
{
	struct report_store *st;

	if (!report_store_uri_check(uri, err, errlen))
		return NULL;
	st = xcalloc(1, sizeof(*st));
	if (strncmp(uri, "sqlite:", 7) == 0) {
		st->kind = STORE_SQLITE;
		if (!report_store_open_sqlite(st, uri + 7))
			goto fail;
	} else {
		st->kind = STORE_PG;
		/* defaults the URI may override (it is expanded after them): no
		 * connection attempt or dead peer holds the writer for minutes */
		static const char *const keys[] = { "connect_timeout", "keepalives_idle",
		    "keepalives_interval", "keepalives_count", "dbname", NULL };
		const char *vals[] = { REPORT_STORE_CONNECT_TIMEOUT, "30", "10", "3", uri,
		    NULL };

		st->pg = PQconnectdbParams(keys, vals, 1);
		if (st->pg == NULL || PQstatus(st->pg) != CONNECTION_OK) {
			report_store_seterr(st, "postgresql connect",
			    st->pg ? PQerrorMessage(st->pg) : "out of memory");
			goto fail;
		}
		/* a warning per CREATE ... IF NOT EXISTS is noise on stderr */
		if (!report_store_exec(st, "SET client_min_messages = warning"))
			goto fail;
	}
	if (!report_store_migrate(st))
		goto fail;
	report_store_remember_file(st);
	return st;
fail:
	snprintf(err, errlen, "%s", st->err);
	report_store_close(st);
	return NULL;
}

void
report_store_close(struct report_store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL)
		sqlite3_close(st->db);	/* no statement outlives a call: closes */
	if (st->pg != NULL)
		PQfinish(st->pg);
	free(st->path);
	free(st);
}

const char *
report_store_error(const struct report_store *st)
{
	return st->err;
}

/* report_store_row_params - the ROW_COLUMNS text values of r into vals; num holds the
 * received number, dkim the encoded signatures (both the caller's) */
static void
report_store_row_params(const struct report_row *r, const char **vals, char *num,
    size_t numlen, const char *dkim)
{
	snprintf(num, numlen, "%lld", (long long)r->received);
	vals[0] = num;
	vals[1] = r->source_ip;
	vals[2] = r->header_from;
	vals[3] = r->envelope_from;
	vals[4] = r->envelope_to;
	vals[5] = r->policy_domain;
	vals[6] = r->rua ? r->rua : "";
	vals[7] = r->ruf ? r->ruf : "";
	vals[8] = r->p;
	vals[9] = r->sp;
	vals[10] = r->np;
	vals[11] = r->adkim;
	vals[12] = r->aspf;
	vals[13] = r->fo;
	vals[14] = r->testing;
	vals[15] = r->discovery;
	vals[16] = r->spf_domain;
	vals[17] = r->spf_scope;
	vals[18] = r->spf_result;
	vals[19] = dkim;
	vals[20] = r->dkim_aligned;
	vals[21] = r->spf_aligned;
	vals[22] = r->disposition;
	vals[23] = r->reasons ? r->reasons : "";
}

/* report_store_insert_sql - "INSERT ... VALUES ($1..$24), ..." for n rows */
static void
report_store_insert_sql(struct buf *sql, size_t n)
{
	buf_puts(sql, "INSERT INTO report_rows (" ROW_COLUMN_LIST ") VALUES ");
	for (size_t i = 0; i < n; i++) {
		buf_puts(sql, i ? ",(" : "(");
		for (int c = 0; c < ROW_COLUMNS; c++)
			buf_printf(sql, "%s$%zu", c ? "," : "", i * ROW_COLUMNS + c + 1);
		buf_putc(sql, ')');
	}
}

/* report_store_insert_sqlite - rows through one prepared statement */
static bool
report_store_insert_sqlite(struct report_store *st, const struct report_row *rows, size_t n)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *stmt;
	const char *vals[ROW_COLUMNS];
	char num[24];
	bool ok = true;

	report_store_insert_sql(&sql, 1);
	if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &stmt, NULL) != SQLITE_OK) {
		report_store_seterr(st, "sqlite prepare", sqlite3_errmsg(st->db));
		buf_free(&sql);
		return false;
	}
	buf_free(&sql);
	for (size_t i = 0; ok && i < n; i++) {
		char *dkim = report_dkim_encode(rows[i].dkim, rows[i].n_dkim);

		report_store_row_params(&rows[i], vals, num, sizeof(num), dkim);
		for (int c = 0; ok && c < ROW_COLUMNS; c++)
			ok = (vals[c] == NULL ? sqlite3_bind_null(stmt, c + 1) :
			    sqlite3_bind_text(stmt, c + 1, vals[c], -1, SQLITE_TRANSIENT)) ==
			    SQLITE_OK;
		if (ok && sqlite3_step(stmt) != SQLITE_DONE)
			ok = false;
		if (!ok)
			report_store_seterr(st, "sqlite insert", sqlite3_errmsg(st->db));
		sqlite3_reset(stmt);
		free(dkim);
	}
	sqlite3_finalize(stmt);
	return ok;
}

/* report_store_insert_pg - rows in INSERTs of up to PG_ROWS_PER_INSERT rows: one round
 * trip each */
static bool
report_store_insert_pg(struct report_store *st, const struct report_row *rows, size_t n)
{
	size_t chunk = n < PG_ROWS_PER_INSERT ? n : PG_ROWS_PER_INSERT;
	const char **vals = xreallocarray(NULL, chunk * ROW_COLUMNS, sizeof(*vals));
	char (*nums)[24] = xreallocarray(NULL, chunk, sizeof(*nums));
	char **dkims = xcalloc(chunk, sizeof(*dkims));
	struct buf sql = BUF_INIT;
	bool ok = true;

	for (size_t at = 0; ok && at < n; at += chunk) {
		size_t k = n - at < chunk ? n - at : chunk;

		for (size_t i = 0; i < k; i++) {
			dkims[i] = report_dkim_encode(rows[at + i].dkim, rows[at + i].n_dkim);
			report_store_row_params(&rows[at + i], vals + i * ROW_COLUMNS, nums[i],
			    sizeof(nums[i]), dkims[i]);
		}
		buf_reset(&sql);
		report_store_insert_sql(&sql, k);
		ok = report_store_run(st, buf_cstr(&sql), (int)(k * ROW_COLUMNS), vals, NULL,
		    NULL) >= 0;
		for (size_t i = 0; i < k; i++) {
			free(dkims[i]);
			dkims[i] = NULL;
		}
	}
	buf_free(&sql);
	free(dkims);
	free(nums);
	free(vals);
	return ok;
}

#define SAMPLE_COLUMNS	17
#define SAMPLE_COLUMN_LIST \
	"sample_id, received, policy_domain, source_ip, header_from, envelope_from, ruf," \
	" discovery, alignment, delivery, auth_results, dkim_domain, dkim_identity," \
	" dkim_selector, spf_domain, headers, rate_domain"

/* report_store_insert_sample - one failure sample (inside the rows' transaction); a
 * sample id seen before is kept as it was */
static bool
report_store_insert_sample(struct report_store *st, const struct report_sample *x)
{
	char num[24];
	const char *p[SAMPLE_COLUMNS] = { x->id, num, x->policy_domain, x->source_ip,
	    x->header_from, x->envelope_from, x->ruf, x->discovery, x->alignment,
	    x->delivery, x->auth_results, x->dkim_domain, x->dkim_identity,
	    x->dkim_selector, x->spf_domain, x->headers,
	    x->rate_domain != NULL && x->rate_domain[0] != '\0' ? x->rate_domain :
	    x->policy_domain };

	snprintf(num, sizeof(num), "%lld", (long long)x->received);
	return report_store_run(st, "INSERT INTO report_failures (" SAMPLE_COLUMN_LIST ")"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
	    " $17)"
	    " ON CONFLICT DO NOTHING", SAMPLE_COLUMNS, p, NULL, NULL) >= 0;
}

int
report_store_insert(struct report_store *st, const struct report_row *rows, size_t n)
{
	bool ok;

	if (n == 0)
		return 0;
	if (!report_store_begin(st))
		return -1;
	ok = st->kind == STORE_SQLITE ? report_store_insert_sqlite(st, rows, n) :
	    report_store_insert_pg(st, rows, n);
	for (size_t i = 0; ok && i < n; i++)
		if (rows[i].sample != NULL)
			ok = report_store_insert_sample(st, rows[i].sample);
	if (!ok || !report_store_exec(st, "COMMIT")) {
		report_store_rollback(st);
		return -1;
	}
	return 0;
}

/* report_store_dup - a NULL-preserving strdup */
static char *
report_store_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct store_each {
	report_row_fn	 fn;
	void		*arg;
	bool		 bad;	/* a row's dkim column did not decode */
};

/* report_store_each_cb - turn one result row into a report_row for the caller */
static int
report_store_each_cb(char *const *v, int ncols, void *arg)
{
	struct store_each *e = arg;
	struct report_row r;
	int stop;

	if (ncols != ROW_COLUMNS)
		return 1;
	memset(&r, 0, sizeof(r));
	r.received = (time_t)strtoll(v[0] ? v[0] : "0", NULL, 10);
	r.source_ip = report_store_dup(v[1]);
	r.header_from = report_store_dup(v[2]);
	r.envelope_from = report_store_dup(v[3]);
	r.envelope_to = report_store_dup(v[4]);
	r.policy_domain = report_store_dup(v[5]);
	r.rua = report_store_dup(v[6]);
	r.ruf = report_store_dup(v[7]);
	r.p = report_store_dup(v[8]);
	r.sp = report_store_dup(v[9]);
	r.np = report_store_dup(v[10]);
	r.adkim = report_store_dup(v[11]);
	r.aspf = report_store_dup(v[12]);
	r.fo = report_store_dup(v[13]);
	r.testing = report_store_dup(v[14]);
	r.discovery = report_store_dup(v[15]);
	r.spf_domain = report_store_dup(v[16]);
	r.spf_scope = report_store_dup(v[17]);
	r.spf_result = report_store_dup(v[18]);
	if (!report_dkim_decode(v[19] ? v[19] : "", &r.dkim, &r.n_dkim))
		e->bad = true;	/* the row still goes out, without its signatures */
	r.dkim_aligned = report_store_dup(v[20]);
	r.spf_aligned = report_store_dup(v[21]);
	r.disposition = report_store_dup(v[22]);
	r.reasons = report_store_dup(v[23]);
	stop = e->fn(&r, e->arg);
	report_row_free(&r);
	return stop;
}

/* report_store_each_rows - report_store_each, for one domain when domain is not NULL */
static long long
report_store_each_rows(struct report_store *st, const char *domain, time_t begin,
    time_t end, report_row_fn fn, void *arg)
{
	struct store_each e = { fn, arg, false };
	char b[24], n[24];
	const char *p[3] = { b, n, domain };

	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(n, sizeof(n), "%lld", (long long)end);
	if (domain == NULL)
		return report_store_run(st, "SELECT " ROW_COLUMN_LIST " FROM report_rows"
		    " WHERE received >= $1 AND received < $2"
		    " ORDER BY policy_domain, received", 2, p, report_store_each_cb, &e);
	return report_store_run(st, "SELECT " ROW_COLUMN_LIST " FROM report_rows"
	    " WHERE policy_domain = $3 AND received >= $1 AND received < $2"
	    " ORDER BY received", 3, p, report_store_each_cb, &e);
}

long long
report_store_each(struct report_store *st, time_t begin, time_t end,
    report_row_fn fn, void *arg)
{
	return report_store_each_rows(st, NULL, begin, end, fn, arg);
}

long long
report_store_each_domain(struct report_store *st, const char *policy_domain,
    time_t begin, time_t end, report_row_fn fn, void *arg)
{
	return report_store_each_rows(st, policy_domain, begin, end, fn, arg);
}

struct store_domains {
	report_domain_fn fn;
	void		*arg;
};

/* report_store_domains_cb - one (policy_domain, rows) result row */
static int
report_store_domains_cb(char *const *v, int ncols, void *arg)
{
	struct store_domains *d = arg;

	if (ncols != 2 || v[0] == NULL)
		return 0;
	return d->fn(v[0], strtoll(v[1] ? v[1] : "0", NULL, 10), d->arg);
}

long long
report_store_domains(struct report_store *st, time_t begin, time_t end,
    report_domain_fn fn, void *arg)
{
	struct store_domains d = { fn, arg };
	char b[24], n[24];
	const char *p[2] = { b, n };

	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(n, sizeof(n), "%lld", (long long)end);
	/* the rua of a domain's last row in the period decides (RFC 9990: report
	 * the final policy configuration) */
	return report_store_run(st, "SELECT r.policy_domain, count(*) FROM report_rows r"
	    " WHERE r.received >= $1 AND r.received < $2"
	    " GROUP BY r.policy_domain HAVING"
	    " (SELECT l.rua FROM report_rows l WHERE l.policy_domain = r.policy_domain"
	    "  AND l.received >= $1 AND l.received < $2 ORDER BY l.received DESC LIMIT 1) <> ''",
	    2, p, report_store_domains_cb, &d);
}

struct store_claim {
	bool		 found;
	char		 report_id[REPORT_ID_MAX];
	char		 generator[256];
	long long	 claimed_at;
	bool		 sent;
};

/* report_store_claim_cb - the claim row: report_id, generator, claimed_at, sent_at */
static int
report_store_claim_cb(char *const *v, int ncols, void *arg)
{
	struct store_claim *c = arg;

	if (ncols != 4)
		return 1;
	c->found = true;
	snprintf(c->report_id, sizeof(c->report_id), "%s", v[0] ? v[0] : "");
	snprintf(c->generator, sizeof(c->generator), "%s", v[1] ? v[1] : "");
	c->claimed_at = strtoll(v[2] ? v[2] : "0", NULL, 10);
	c->sent = v[3] != NULL;
	return 1;
}

/* report_store_new_report_id - "BEGIN.16 hex digits": dot-atom-text, unique enough
 * among one domain's reports */
static bool
report_store_new_report_id(time_t begin, char *out, size_t outlen)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return false;
	snprintf(out, outlen, "%lld.%016" PRIx64, (long long)begin, rnd);
	return true;
}

enum report_claim
report_store_claim(struct report_store *st, const char *policy_domain, time_t begin,
    time_t end, const char *generator, char *report_id, size_t idlen)
{
	struct store_claim c;
	char b[24], e[24], now[24], old[24], id[REPORT_ID_MAX];
	long long n;

	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(e, sizeof(e), "%lld", (long long)end);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if (!report_store_new_report_id(begin, id, sizeof(id))) {
		report_store_seterr(st, "getrandom", strerror(errno));
		return REPORT_CLAIM_ERROR;
	}
	{
		const char *p[6] = { policy_domain, b, e, id, generator, now };

		n = report_store_run(st, "INSERT INTO report_claims (policy_domain, begin_ts, end_ts,"
		    " report_id, generator, claimed_at) VALUES ($1, $2, $3, $4, $5, $6)"
		    " ON CONFLICT DO NOTHING", 6, p, NULL, NULL);
	}
	if (n < 0)
		return REPORT_CLAIM_ERROR;
	if (n == 1) {
		snprintf(report_id, idlen, "%s", id);
		return REPORT_CLAIM_OK;
	}
	memset(&c, 0, sizeof(c));
	{
		const char *p[3] = { policy_domain, b, e };

		if (report_store_run(st, "SELECT report_id, generator, claimed_at, sent_at"
		    " FROM report_claims WHERE policy_domain = $1 AND begin_ts = $2"
		    " AND end_ts = $3", 3, p, report_store_claim_cb, &c) < 0)
			return REPORT_CLAIM_ERROR;
	}
	if (!c.found) {		/* deleted between the two statements */
		report_store_seterr(st, "claim", "the claim vanished; try again");
		return REPORT_CLAIM_ERROR;
	}
	snprintf(report_id, idlen, "%s", c.report_id);
	if (c.sent)
		return REPORT_CLAIM_SENT;
	if (strcmp(c.generator, generator) != 0 &&
	    c.claimed_at + REPORT_CLAIM_LEASE > (long long)time(NULL))
		return REPORT_CLAIM_BUSY;
	/* ours, or a lease that ran out: take it unless someone else just did */
	snprintf(old, sizeof(old), "%lld", c.claimed_at);
	{
		const char *p[6] = { generator, now, policy_domain, b, e, old };

		n = report_store_run(st, "UPDATE report_claims SET generator = $1, claimed_at = $2"
		    " WHERE policy_domain = $3 AND begin_ts = $4 AND end_ts = $5"
		    " AND claimed_at = $6 AND sent_at IS NULL", 6, p, NULL, NULL);
	}
	if (n < 0)
		return REPORT_CLAIM_ERROR;
	return n == 1 ? REPORT_CLAIM_OK : REPORT_CLAIM_BUSY;
}

/* report_store_claim_update - run sql over generator's unsent claim ($1 domain, $2
 * begin, $3 end, $4 generator, $5 now when with_now); 0 when it was there */
static int
report_store_claim_update(struct report_store *st, const char *sql, bool with_now,
    const char *policy_domain, time_t begin, time_t end, const char *generator)
{
	char b[24], e[24], now[24];
	const char *p[5] = { policy_domain, b, e, generator, now };
	long long n;

	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(e, sizeof(e), "%lld", (long long)end);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	n = report_store_run(st, sql, with_now ? 5 : 4, p, NULL, NULL);
	if (n < 0)
		return -1;
	if (n != 1) {
		report_store_seterr(st, "claim", "not held by this generator");
		return -1;
	}
	return 0;
}

int
report_store_mark_sent(struct report_store *st, const char *policy_domain, time_t begin,
    time_t end, const char *generator)
{
	return report_store_claim_update(st, "UPDATE report_claims SET sent_at = $5"
	    " WHERE policy_domain = $1 AND begin_ts = $2 AND end_ts = $3"
	    " AND generator = $4 AND sent_at IS NULL", true, policy_domain, begin, end,
	    generator);
}

int
report_store_release(struct report_store *st, const char *policy_domain, time_t begin,
    time_t end, const char *generator)
{
	/* claimed_at 0: every lease check finds it expired */
	return report_store_claim_update(st, "UPDATE report_claims SET claimed_at = 0"
	    " WHERE policy_domain = $1 AND begin_ts = $2 AND end_ts = $3"
	    " AND generator = $4 AND sent_at IS NULL", false, policy_domain, begin, end,
	    generator);
}

long long
report_store_expire(struct report_store *st, time_t before)
{
	char b[24];
	const char *p[1] = { b };
	long long n;

	snprintf(b, sizeof(b), "%lld", (long long)before);
	if (!report_store_begin(st))
		return -1;
	n = report_store_run(st, "DELETE FROM report_rows WHERE received < $1", 1, p, NULL, NULL);
	if (n < 0 || report_store_run(st, "DELETE FROM report_failures WHERE received < $1", 1,
	    p, NULL, NULL) < 0 || report_store_run(st, "DELETE FROM report_claims WHERE end_ts < $1", 1, p,
	    NULL, NULL) < 0 || !report_store_exec(st, "COMMIT")) {
		report_store_rollback(st);
		return -1;
	}
	return n;
}

struct store_ids {
	report_sample_id_fn fn;
	void		*arg;
};

/* report_store_ids_cb - one sample id */
static int
report_store_ids_cb(char *const *v, int ncols, void *arg)
{
	struct store_ids *d = arg;

	if (ncols != 1 || v[0] == NULL)
		return 0;
	return d->fn(v[0], d->arg);
}

long long
report_store_failures_pending(struct report_store *st, long long max,
    report_sample_id_fn fn, void *arg)
{
	struct store_ids d = { fn, arg };
	char m[24];
	const char *p[1] = { m };

	snprintf(m, sizeof(m), "%lld", max);
	return report_store_run(st, "SELECT sample_id FROM report_failures"
	    " WHERE outcome IS NULL ORDER BY received, sample_id LIMIT $1", 1, p,
	    report_store_ids_cb, &d);
}

struct store_sample {
	struct report_sample *x;
	char		 generator[256];
	long long	 claimed_at;
	bool		 done;
};

/* report_store_sample_cb - SAMPLE_COLUMN_LIST, generator, claimed_at, outcome */
static int
report_store_sample_cb(char *const *v, int ncols, void *arg)
{
	struct store_sample *c = arg;
	struct report_sample *x;
	char **f[SAMPLE_COLUMNS];

	if (ncols != SAMPLE_COLUMNS + 3 || c->x != NULL)
		return 1;
	x = c->x = xcalloc(1, sizeof(*x));
	f[0] = &x->id, f[1] = NULL, f[2] = &x->policy_domain, f[3] = &x->source_ip;
	f[4] = &x->header_from, f[5] = &x->envelope_from, f[6] = &x->ruf;
	f[7] = &x->discovery, f[8] = &x->alignment, f[9] = &x->delivery;
	f[10] = &x->auth_results, f[11] = &x->dkim_domain, f[12] = &x->dkim_identity;
	f[13] = &x->dkim_selector, f[14] = &x->spf_domain, f[15] = &x->headers;
	f[16] = &x->rate_domain;
	for (int i = 0; i < SAMPLE_COLUMNS; i++)
		if (f[i] != NULL)
			*f[i] = xstrdup(v[i] ? v[i] : "");
	x->received = (time_t)strtoll(v[1] ? v[1] : "0", NULL, 10);
	snprintf(c->generator, sizeof(c->generator), "%s", v[17] ? v[17] : "");
	c->claimed_at = strtoll(v[18] ? v[18] : "0", NULL, 10);
	c->done = v[19] != NULL;
	return 1;
}

/* report_store_failure_take - inside the claim's transaction: the rate test (per
 * organizational domain: the sample's rate_domain) and the claim of the sample c
 * holds */
static enum report_claim
report_store_failure_take(struct report_store *st, const struct store_sample *c,
    const char *generator, unsigned rate)
{
	char now[24], since[24], old[24];
	long long used = 0, n;
	time_t t = time(NULL);

	snprintf(now, sizeof(now), "%lld", (long long)t);
	snprintf(since, sizeof(since), "%lld", (long long)t - REPORT_RATE_WINDOW);
	snprintf(old, sizeof(old), "%lld", c->claimed_at);
	{
		const char *p[2] = { c->x->rate_domain, since };

		/* one domain's claims one at a time, across hosts; SQLite's BEGIN
		 * IMMEDIATE already holds the database's write lock */
		if (st->kind == STORE_PG && report_store_run(st, "SELECT pg_advisory_xact_lock("
		    "9991016, hashtext($1)) WHERE $2 <> ''", 2, p, NULL, NULL) < 0)
			return REPORT_CLAIM_ERROR;
		if (report_store_run(st, "SELECT count(*) FROM report_failures"
		    " WHERE rate_domain = $1 AND claimed_at > $2"
		    " AND (outcome IS NULL OR outcome IN ('sent', 'written'))", 2, p,
		    report_store_int_cb, &used) < 0)
			return REPORT_CLAIM_ERROR;
	}
	/* Both updates below hold only while the sample is as read before the lock
	 * (claimed_at unchanged): on PostgreSQL another generator may have claimed
	 * it meanwhile, and settling its claim as "ratelimited" would let it send a
	 * report the limit no longer counts. */
	if (used >= (long long)rate) {
		const char *p[3] = { c->x->id, now, old };

		n = report_store_run(st, "UPDATE report_failures SET outcome = 'ratelimited',"
		    " done_at = $2 WHERE sample_id = $1 AND claimed_at = $3"
		    " AND outcome IS NULL", 3, p, NULL, NULL);
		if (n < 0)
			return REPORT_CLAIM_ERROR;
		return n == 1 ? REPORT_CLAIM_LIMITED : REPORT_CLAIM_BUSY;
	}
	{
		const char *p[4] = { generator, now, c->x->id, old };

		n = report_store_run(st, "UPDATE report_failures SET generator = $1,"
		    " claimed_at = $2 WHERE sample_id = $3 AND claimed_at = $4"
		    " AND outcome IS NULL", 4, p, NULL, NULL);
	}
	if (n < 0)
		return REPORT_CLAIM_ERROR;
	return n == 1 ? REPORT_CLAIM_OK : REPORT_CLAIM_BUSY;
}

enum report_claim
report_store_failure_claim(struct report_store *st, const char *id, const char *generator,
    unsigned rate, struct report_sample **out)
{
	struct store_sample c = { 0 };
	enum report_claim res;
	const char *p[1] = { id };

	*out = NULL;
	if (!report_store_begin(st))
		return REPORT_CLAIM_ERROR;
	if (report_store_run(st, "SELECT " SAMPLE_COLUMN_LIST ", generator, claimed_at,"
	    " outcome FROM report_failures WHERE sample_id = $1", 1, p,
	    report_store_sample_cb, &c) < 0) {
		res = REPORT_CLAIM_ERROR;
	} else if (c.x == NULL || c.done) {
		res = REPORT_CLAIM_SENT;	/* settled, or expired meanwhile */
	} else if (c.claimed_at + REPORT_CLAIM_LEASE > (long long)time(NULL) &&
	    strcmp(c.generator, generator) != 0) {
		res = REPORT_CLAIM_BUSY;
	} else {
		res = report_store_failure_take(st, &c, generator, rate);
	}
	if (res == REPORT_CLAIM_ERROR || !report_store_exec(st, "COMMIT")) {
		report_store_rollback(st);
		report_sample_free(c.x);
		return REPORT_CLAIM_ERROR;
	}
	if (res == REPORT_CLAIM_OK)
		*out = c.x;
	else
		report_sample_free(c.x);
	return res;
}

/* report_store_failure_settle - sql over generator's unsettled claim of id ($1 id,
 * $2 generator, $3 now, $4 outcome) */
static int
report_store_failure_settle(struct report_store *st, const char *sql, const char *id,
    const char *generator, const char *outcome)
{
	char now[24];
	const char *p[4] = { id, generator, now, outcome };
	long long n;

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	n = report_store_run(st, sql, outcome != NULL ? 4 : 2, p, NULL, NULL);
	if (n < 0)
		return -1;
	if (n != 1) {
		report_store_seterr(st, "failure sample", "not held by this generator");
		return -1;
	}
	return 0;
}

int
report_store_failure_done(struct report_store *st, const char *id, const char *generator,
    const char *outcome)
{
	return report_store_failure_settle(st, "UPDATE report_failures SET outcome = $4,"
	    " done_at = $3 WHERE sample_id = $1 AND generator = $2 AND outcome IS NULL", id,
	    generator, outcome);
}

int
report_store_failure_release(struct report_store *st, const char *id, const char *generator)
{
	return report_store_failure_settle(st, "UPDATE report_failures SET claimed_at = 0"
	    " WHERE sample_id = $1 AND generator = $2 AND outcome IS NULL", id, generator,
	    NULL);
}

/* report_store_dkim_plain - a byte the dkim column keeps as is */
static bool
report_store_dkim_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

/* report_store_dkim_put - one field, escaped */
static void
report_store_dkim_put(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (report_store_dkim_plain(*p))
			buf_putc(b, *p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

char *
report_dkim_encode(const struct report_dkim *d, size_t n)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		report_store_dkim_put(&b, d[i].domain);
		buf_putc(&b, ' ');
		report_store_dkim_put(&b, d[i].selector);
		buf_putc(&b, ' ');
		report_store_dkim_put(&b, d[i].result);
	}
	return buf_steal(&b);
}

/* report_store_dkim_hex - one upper-case hex digit's value (report_store_dkim_put
 * writes no other), or -1 */
static int
report_store_dkim_hex(char c)
{
	static const char digits[] = "0123456789ABCDEF";
	const char *at = c != '\0' ? strchr(digits, c) : NULL;

	return at ? (int)(at - digits) : -1;
}

/* report_store_dkim_field - unescape s[0..len) */
static char *
report_store_dkim_field(const char *s, size_t len, bool *ok)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len) {
			*ok = false;
			break;
		}
		int hi = report_store_dkim_hex(s[i + 1]), lo = report_store_dkim_hex(s[i + 2]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			*ok = false;
			break;
		}
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

bool
report_dkim_decode(const char *s, struct report_dkim **out, size_t *n)
{
	size_t count = 0, cap = 0;
	struct report_dkim *d = NULL;
	bool ok = true;

	*out = NULL;
	*n = 0;
	while (*s != '\0' && ok && count < REPORT_MAX_DKIM) {
		size_t len = strcspn(s, ",");
		const char *sp1 = memchr(s, ' ', len), *sp2;

		sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - s)) : NULL;
		if (sp2 == NULL || memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - s)) != NULL) {
			ok = false;
			break;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 4;
			d = xreallocarray(d, cap, sizeof(*d));
		}
		d[count].domain = report_store_dkim_field(s, (size_t)(sp1 - s), &ok);
		d[count].selector = report_store_dkim_field(sp1 + 1, (size_t)(sp2 - sp1 - 1), &ok);
		d[count].result = report_store_dkim_field(sp2 + 1, len - (size_t)(sp2 + 1 - s), &ok);
		count++;
		s += len;
		if (*s == ',')
			s++;
	}
	*out = d;
	*n = count;
	return ok;
}

void
report_row_free(struct report_row *r)
{
	if (r == NULL)
		return;
	free(r->source_ip);
	free(r->header_from);
	free(r->envelope_from);
	free(r->envelope_to);
	free(r->policy_domain);
	free(r->rua);
	free(r->ruf);
	free(r->p);
	free(r->sp);
	free(r->np);
	free(r->adkim);
	free(r->aspf);
	free(r->fo);
	free(r->testing);
	free(r->discovery);
	free(r->spf_domain);
	free(r->spf_scope);
	free(r->spf_result);
	for (size_t i = 0; i < r->n_dkim; i++) {
		free(r->dkim[i].domain);
		free(r->dkim[i].selector);
		free(r->dkim[i].result);
	}
	free(r->dkim);
	free(r->dkim_aligned);
	free(r->spf_aligned);
	free(r->disposition);
	free(r->reasons);
	report_sample_free(r->sample);
	memset(r, 0, sizeof(*r));
}

void
report_sample_free(struct report_sample *x)
{
	if (x == NULL)
		return;
	free(x->id);
	free(x->source_ip);
	free(x->policy_domain);
	free(x->header_from);
	free(x->envelope_from);
	free(x->ruf);
	free(x->discovery);
	free(x->alignment);
	free(x->delivery);
	free(x->auth_results);
	free(x->dkim_domain);
	free(x->dkim_identity);
	free(x->dkim_selector);
	free(x->spf_domain);
	free(x->headers);
	free(x->rate_domain);
	free(x);
}
