/* check_message - authmilter-check --message: why was this message refused?
 *
 * check_message_run replays one saved message through the daemon's own session
 * code (session.c, the functions callbacks.c drives: connect, HELO, MAIL FROM,
 * each header, end of headers, the body, end of message) with the daemon's
 * configuration and live DNS through its resolver. There is no second verdict
 * path: the verdict line is the line session.c logs (taken from log.c's hook
 * instead of syslog), the Authentication-Results and the action are the edits
 * and the step session_eom returns. The steps on the way come from the trace
 * hook (trace.h) that the daemon leaves off: DNS questions and answers, iprev,
 * SPF, each DKIM signature, the DMARC walk, ARC, the policy.
 *
 * The message is read as Postfix hands it to a milter: header fields split at
 * the first line that is not a field (Postfix's is_header), folded lines joined
 * with LF, the value as written after the colon; the body with bare LF made
 * CRLF, in chunks. A leading mbox "From " line is skipped.
 *
 * Output: the steps, the verdict line, the header edits and the action, each
 * masked (check_safe_append), or with --json one JSON object.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "fatal.h"
#include "generation.h"
#include "lock.h"
#include "log.h"
#include "session.h"
#include "trace.h"
#include "xalloc.h"

#define CM_CHUNK	65535	/* body bytes per session_body, as libmilter's
				 * largest packet */
#define CM_MAX_STEPS	100000	/* steps kept; a hostile record set cannot make
				 * the tool hold more */

/* The DNS answers are today's, not those the message met. */
static const char cm_dns_note[] =
    "the DNS answers above are current ones, asked now: the message met the "
    "answers of its arrival time, which may have been different (a TTL shown is "
    "the remaining time of today's answer)";

/* One line of the trace: a step, or a line the daemon would log. */
struct cm_step {
	char		*step;
	char		*text;
};

/* The replay: what the hooks collected. One per run. */
struct cm_run {
	pthread_mutex_t	 lock;		/* the hooks may run on other threads */
	struct cm_step	*steps;
	size_t		 n_steps;
	bool		 capture;	/* in session_connect or session_eom */
	char		*verdict;	/* the last line logged at LOG_INFO there */
	enum step	 connect_step;	/* not STEP_CONTINUE: refused at connect */
	struct reply	 connect_reply;
	const struct eom_result *res;	/* NULL when refused at connect */
};

/* cm_add - keep one step */
static void
cm_add(struct cm_run *run, const char *step, const char *text)
{
	lock_take(&run->lock);
	if (run->n_steps < CM_MAX_STEPS) {
		run->steps = xreallocarray(run->steps, run->n_steps + 1, sizeof(*run->steps));
		run->steps[run->n_steps].step = xstrdup(step);
		run->steps[run->n_steps].text = xstrdup(text);
		run->n_steps++;
	}
	lock_release(&run->lock);
}

/* cm_trace - the trace hook: one step */
static void
cm_trace(void *ctx, const char *step, const char *text)
{
	cm_add(ctx, step, text);
}

/* cm_log - the log hook: the verdict line, or another line the daemon logs */
static void
cm_log(void *ctx, int prio, const char *line)
{
	struct cm_run *run = ctx;

	if (prio == LOG_DEBUG)
		return;
	if (run->capture && prio == LOG_INFO) {
		lock_take(&run->lock);
		if (run->verdict != NULL) {
			lock_release(&run->lock);
			cm_add(run, "log", run->verdict);	/* an earlier one */
			lock_take(&run->lock);
			free(run->verdict);
		}
		run->verdict = xstrdup(line);
		lock_release(&run->lock);
		return;
	}
	cm_add(run, "log", line);
}

/* cm_header_name - the length of line's field name, 0 when line is not a field
 * (Postfix's is_header: printable characters up to the colon, optional blanks
 * before it); *colon is the colon's index */
static size_t
cm_header_name(const char *line, size_t len, size_t *colon)
{
	size_t n = 0, i;

	while (n < len && (unsigned char)line[n] > ' ' && (unsigned char)line[n] < 127 &&
	    line[n] != ':')
		n++;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (n == 0 || i == len || line[i] != ':')
		return 0;
	*colon = i;
	return n;
}

/* The body on its way to session_body: bare LF made CRLF, in chunks. */
struct cm_body {
	struct session	*s;
	struct buf	 chunk;
	bool		 last_cr;	/* the byte before was CR */
	bool		 skip;		/* the session wants no more */
};

/* cm_body_flush - hand the chunk to the session, as callbacks.c does */
static void
cm_body_flush(struct cm_body *b)
{
	if (b->chunk.len > 0 && !b->skip &&
	    session_body(b->s, (const unsigned char *)b->chunk.data, b->chunk.len) ==
	    STEP_SKIP_BODY)
		b->skip = true;
	buf_reset(&b->chunk);
}

/* cm_body_feed - body bytes as the MTA sends them */
static void
cm_body_feed(struct cm_body *b, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (b->chunk.len + 2 > CM_CHUNK)
			cm_body_flush(b);
		if (data[i] == '\n' && !b->last_cr)
			buf_putc(&b->chunk, '\r');
		buf_putc(&b->chunk, data[i]);
		b->last_cr = data[i] == '\r';
	}
}

/* cm_headers - read the header fields into the session; the first line of the
 * body that was read with them goes to b. False on a read error. */
static bool
cm_headers(FILE *fp, struct session *s, struct cm_body *b)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	char *line = NULL;
	size_t cap = 0, content, colon, nlen;
	ssize_t n;
	bool have = false, first = true;

	while ((n = getline(&line, &cap, fp)) > 0) {
		content = (size_t)n;
		if (content > 0 && line[content - 1] == '\n')
			content--;
		if (content > 0 && line[content - 1] == '\r')
			content--;
		if (first && strncmp(line, "From ", 5) == 0 &&
		    cm_header_name(line, content, &colon) == 0) {
			first = false;	/* an mbox separator: not part of the message */
			continue;
		}
		first = false;
		if ((line[0] == ' ' || line[0] == '\t') && content > 0 && have) {
			buf_putc(&value, '\n');
			buf_append(&value, line, content);
			continue;
		}
		if (have)
			session_header(s, buf_cstr(&name), buf_cstr(&value));
		have = false;
		if (content == 0)
			break;	/* the blank line: the body follows */
		if ((nlen = cm_header_name(line, content, &colon)) == 0) {
			cm_body_feed(b, line, (size_t)n);	/* the body starts here */
			break;
		}
		buf_reset(&name);
		buf_append(&name, line, nlen);
		buf_reset(&value);
		buf_append(&value, line + colon + 1, content - colon - 1);
		have = true;
	}
	if (have)
		session_header(s, buf_cstr(&name), buf_cstr(&value));
	free(line);
	buf_free(&name);
	buf_free(&value);
	return !ferror(fp);
}

/* cm_message - the message from MAIL FROM to end of message; false on a read
 * error */
static bool
cm_message(struct cm_run *run, const struct check_message_opts *o, struct session *s,
    FILE *fp)
{
	struct cm_body b = { .s = s, .chunk = BUF_INIT };
	struct reply r;
	char data[8192];
	size_t n;

	if (o->helo != NULL)
		session_helo(s, o->helo);
	(void)session_envfrom(s, o->mail_from != NULL ? o->mail_from : "<>", o->auth,
	    NULL, &r);	/* it refuses nothing; end of message decides */
	if (!cm_headers(fp, s, &b)) {
		buf_free(&b.chunk);
		return false;
	}
	if (session_eoh(s) == STEP_SKIP_BODY)
		b.skip = true;
	while ((n = fread(data, 1, sizeof(data), fp)) > 0)
		cm_body_feed(&b, data, n);
	cm_body_flush(&b);
	buf_free(&b.chunk);
	if (ferror(fp))
		return false;
	run->capture = true;
	run->res = session_eom(s);
	run->capture = false;
	return true;
}

/* cm_action - what the MTA is told: accept, quarantine, reject or tempfail */
static const char *
cm_action(const struct cm_run *run)
{
	enum step st = run->res != NULL ? run->res->step : run->connect_step;

	if (st == STEP_REJECT)
		return "reject";
	if (st == STEP_TEMPFAIL)
		return "tempfail";
	if (run->res != NULL && run->res->quarantine)
		return "quarantine";
	return "accept";
}

/* cm_reply - the reply the MTA gives, "" when it accepts */
static void
cm_reply(const struct cm_run *run, struct buf *out)
{
	const struct reply *r = run->res != NULL ? &run->res->reply : &run->connect_reply;

	if (run->res != NULL && run->res->step == STEP_CONTINUE) {
		if (run->res->quarantine)
			buf_puts(out, run->res->quarantine_reason);
		return;
	}
	if (r->rcode[0] != '\0')
		buf_printf(out, "%s %s %s", r->rcode, r->xcode, r->text);
}

/* cm_field - an inserted field as the MTA writes it: "Name:value", LF line breaks */
static void
cm_field(const struct header_edit *e, struct buf *out)
{
	buf_printf(out, "%s:", e->name);
	for (const char *p = e->value; *p != '\0'; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			buf_putc(out, *p);
}

/* cm_print_field - an inserted field, its folded lines indented */
static void
cm_print_field(const struct header_edit *e)
{
	struct buf f = BUF_INIT;
	char *save = NULL, *line;
	bool first = true;

	cm_field(e, &f);
	for (line = strtok_r(f.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		check_line(first ? "header  " : "          ", "%s",
		    first ? line : line + strspn(line, " \t"));
		first = false;
	}
	buf_free(&f);
}

/* cm_print_text - the steps, the verdict line, the edits, the action */
static void
cm_print_text(const struct cm_run *run)
{
	struct buf reply = BUF_INIT;
	char prefix[16];

	for (size_t i = 0; i < run->n_steps; i++) {
		snprintf(prefix, sizeof(prefix), "%-7s ", run->steps[i].step);
		check_line(prefix, "%s", run->steps[i].text);
	}
	check_line("verdict ", "%s", run->verdict != NULL ? run->verdict : "(none logged)");
	for (size_t i = 0; run->res != NULL && i < run->res->n_edits; i++) {
		const struct header_edit *e = &run->res->edits[i];

		if (e->op == EDIT_INSERT)
			cm_print_field(e);
		else
			check_line("delete  ", "%s #%zu (names this server: forged)",
			    e->name, e->index);
	}
	cm_reply(run, &reply);
	check_line("action  ", "%s%s%s", cm_action(run), reply.len > 0 ? ": " : "",
	    buf_cstr(&reply));
	check_line("note    ", "%s", cm_dns_note);
	buf_free(&reply);
}

/* cm_json_str - a JSON string, or null */
static void
cm_json_str(struct buf *out, const char *s)
{
	if (s == NULL) {
		buf_puts(out, "null");
		return;
	}
	buf_putc(out, '"');
	check_safe_append(out, s, strlen(s), true);
	buf_putc(out, '"');
}

/* cm_json_edits - the header edits as a JSON array; *authres the last inserted
 * Authentication-Results field (as the MTA writes it) */
static void
cm_json_edits(const struct cm_run *run, struct buf *out, struct buf *authres)
{
	buf_puts(out, "\"edits\":[");
	for (size_t i = 0; run->res != NULL && i < run->res->n_edits; i++) {
		const struct header_edit *e = &run->res->edits[i];
		struct buf f = BUF_INIT;

		buf_printf(out, "%s{\"op\":\"%s\",\"index\":%zu,\"name\":", i ? "," : "",
		    e->op == EDIT_INSERT ? "insert" : "delete", e->index);
		cm_json_str(out, e->name);
		buf_puts(out, ",\"field\":");
		if (e->op == EDIT_INSERT)
			cm_field(e, &f);
		cm_json_str(out, e->op == EDIT_INSERT ? buf_cstr(&f) : NULL);
		buf_putc(out, '}');
		if (e->op == EDIT_INSERT && strcmp(e->name, "Authentication-Results") == 0) {
			buf_reset(authres);
			buf_puts(authres, buf_cstr(&f));
		}
		buf_free(&f);
	}
	buf_puts(out, "],");
}

/* cm_print_json - the same as one JSON object */
static void
cm_print_json(const struct cm_run *run, int status)
{
	struct buf out = BUF_INIT, reply = BUF_INIT, authres = BUF_INIT;

	buf_puts(&out, "{\"steps\":[");
	for (size_t i = 0; i < run->n_steps; i++) {
		buf_puts(&out, i ? ",{\"step\":" : "{\"step\":");
		cm_json_str(&out, run->steps[i].step);
		buf_puts(&out, ",\"text\":");
		cm_json_str(&out, run->steps[i].text);
		buf_putc(&out, '}');
	}
	buf_puts(&out, "],\"verdict\":");
	cm_json_str(&out, run->verdict);
	buf_putc(&out, ',');
	cm_json_edits(run, &out, &authres);
	buf_puts(&out, "\"authentication_results\":");
	cm_json_str(&out, authres.len > 0 ? buf_cstr(&authres) : NULL);
	buf_printf(&out, ",\"action\":\"%s\",\"reply\":", cm_action(run));
	cm_reply(run, &reply);
	cm_json_str(&out, reply.len > 0 ? buf_cstr(&reply) : NULL);
	buf_printf(&out, ",\"exit\":%d,\"dns_note\":", status);
	cm_json_str(&out, cm_dns_note);
	buf_puts(&out, "}");
	puts(buf_cstr(&out));
	buf_free(&out);
	buf_free(&reply);
	buf_free(&authres);
}

/* cm_replay - the whole SMTP session, printed; the exit status */
static int
cm_replay(struct cm_run *run, const struct check_message_opts *o, FILE *fp)
{
	struct session *s = session_new();
	int status;

	if (s == NULL)
		fatal_bug("no generation installed");
	run->capture = true;
	run->connect_step = session_connect(s, o->client_name, o->client,
	    &run->connect_reply);
	run->capture = false;
	if (run->connect_step == STEP_CONTINUE && !cm_message(run, o, s, fp)) {
		fprintf(stderr, "authmilter-check: %s: cannot read the message\n", o->path);
		session_free(s);
		return CHECK_EXIT_ERROR;
	}
	status = strcmp(cm_action(run), "accept") == 0 ? CHECK_EXIT_OK : CHECK_EXIT_FAIL;
	if (o->json)
		cm_print_json(run, status);
	else
		cm_print_text(run);
	session_free(s);	/* the result lives until here */
	return status;
}

/* cm_free - what the hooks collected */
static void
cm_free(struct cm_run *run)
{
	for (size_t i = 0; i < run->n_steps; i++) {
		free(run->steps[i].step);
		free(run->steps[i].text);
	}
	free(run->steps);
	free(run->verdict);
	pthread_mutex_destroy(&run->lock);
}

/* check_message_run - load the configuration, replay, print */
int
check_message_run(const struct check_message_opts *o)
{
	struct cm_run run;
	struct generation *g;
	FILE *fp;
	int status = CHECK_EXIT_ERROR;

	memset(&run, 0, sizeof(run));
	fp = strcmp(o->path, "-") == 0 ? stdin : fopen(o->path, "r");
	if (fp == NULL) {
		fprintf(stderr, "authmilter-check: %s: %s\n", o->path, strerror(errno));
		return CHECK_EXIT_ERROR;
	}
	fatal_check(pthread_mutex_init(&run.lock, NULL), "pthread_mutex_init");
	/* before the resolver starts its thread: the hooks are read unlocked */
	trace_set(cm_trace, &run);
	log_set_hook(cm_log, &run);
	if ((g = generation_load(o->conf_path, stderr)) != NULL) {
		generation_install(g);
		status = cm_replay(&run, o, fp);
		generation_shutdown();
	} else {
		for (size_t i = 0; i < run.n_steps; i++)
			fprintf(stderr, "authmilter-check: %s\n", run.steps[i].text);
	}
	trace_set(NULL, NULL);
	log_set_hook(NULL, NULL);
	if (fp != stdin)
		fclose(fp);
	cm_free(&run);
	return status;
}
