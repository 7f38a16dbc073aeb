/* callbacks - libmilter callbacks, handing everything to session.c.
 *
 * callbacks_descriptor returns the table main.c registers. Negotiation asks for
 * header values with their leading space (SMFIP_HDR_LEADSPC) so signatures cover
 * the real bytes, skips the steps we do not use (RCPT, DATA, unknown commands), and
 * asks for only the macros we read.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "callbacks.h"
#include "conns.h"
#include "generation.h"
#include "log.h"
#include "session.h"
#include "stop.h"

/* Per-connection: which protocol options the MTA agreed to. */
struct cb_conn {
	struct session	*session;
	bool		 noreply_headers;	/* SMFIP_NR_HDR negotiated */
	bool		 noreply_helo;		/* SMFIP_NR_HELO negotiated */
	bool		 noreply_eoh;		/* SMFIP_NR_EOH negotiated */
	bool		 leading_space;		/* SMFIP_HDR_LEADSPC negotiated */
	bool		 can_skip;		/* SMFIP_SKIP negotiated */
	bool		 skip_body;		/* nothing wants the body of this message */
	bool		 in_message;		/* MAIL FROM answered, no final answer yet */
};

/* cb_conn - the connection state, created on first use */
static struct cb_conn *
cb_conn(SMFICTX *ctx)
{
	struct cb_conn *cc = smfi_getpriv(ctx);

	if (cc == NULL) {
		cc = calloc(1, sizeof(*cc));
		if (cc == NULL || smfi_setpriv(ctx, cc) != MI_SUCCESS) {
			free(cc);
			return NULL;
		}
	}
	return cc;
}

/* cb_priv - the connection state for a command; the command shows that the
 * session is not silent */
static struct cb_conn *
cb_priv(SMFICTX *ctx)
{
	conns_touch(ctx);
	return smfi_getpriv(ctx);
}

/* cb_internal_error - our own failure: on_internal_error decides */
static sfsistat
cb_internal_error(SMFICTX *ctx, const char *what)
{
	struct generation *g = generation_current();
	bool accept = g != NULL && g->conf->on_internal_error == ACTION_ACCEPT;

	generation_release(g);
	log_msg(LOG_ERR, "internal error: %s; %s", what, accept ? "accepting" : "tempfail");
	if (accept)
		return SMFIS_ACCEPT;
	smfi_setreply(ctx, "451", "4.3.0", "authmilter: internal error, try again later");
	return SMFIS_TEMPFAIL;
}

/* cb_stopping - the tempfail for a connection or message a stop does not take */
static sfsistat
cb_stopping(SMFICTX *ctx)
{
	smfi_setreply(ctx, "451", "4.3.2", "authmilter is stopping, try again later");
	return SMFIS_TEMPFAIL;
}

/* cb_message_end - the message got its final answer or ended early */
static void
cb_message_end(struct cb_conn *cc)
{
	if (cc->in_message) {
		cc->in_message = false;
		stop_message_end();
	}
}

/* cb_cut - past a stop's deadline: the message in flight gets a tempfail now */
static sfsistat
cb_cut(SMFICTX *ctx, struct cb_conn *cc)
{
	cb_message_end(cc);
	return cb_stopping(ctx);
}

/* cb_reply - set the SMTP reply; '%' is libmilter's format character */
static void
cb_reply(SMFICTX *ctx, const struct reply *r)
{
	struct buf text = BUF_INIT;

	if (r->rcode[0] == '\0')
		return;
	for (const char *p = r->text; *p; p++) {
		if (*p == '%')
			buf_putc(&text, '%');
		buf_putc(&text, *p == '\r' || *p == '\n' ? ' ' : *p);
	}
	if (smfi_setreply(ctx, (char *)r->rcode, (char *)r->xcode,
	    (char *)buf_cstr(&text)) != MI_SUCCESS)
		log_msg(LOG_WARNING, "smfi_setreply failed for \"%s\"", buf_cstr(&text));
	buf_free(&text);
}

/* cb_step - a session step's answer as a milter status */
static sfsistat
cb_step(SMFICTX *ctx, enum step step, const struct reply *r)
{
	switch (step) {
	case STEP_REJECT:
		cb_reply(ctx, r);
		return SMFIS_REJECT;
	case STEP_TEMPFAIL:
		cb_reply(ctx, r);
		return SMFIS_TEMPFAIL;
	default:
		return SMFIS_CONTINUE;
	}
}

/* cb_negotiate - leading spaces, fewer steps, our macros */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	struct cb_conn *cc = cb_conn(ctx);
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	unsigned long steps = 0;

	conns_started(ctx);
	if (cc == NULL)
		return SMFIS_REJECT;	/* libmilter: do not use this milter */
	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) {
		log_msg(LOG_ERR, "the MTA does not allow adding and changing headers");
		return SMFIS_REJECT;
	}
	*pf0 = want & f0;
	if (f1 & SMFIP_HDR_LEADSPC) {
		steps |= SMFIP_HDR_LEADSPC;
		cc->leading_space = true;
	}
	/* The DATA step stays, answered by libmilter without a callback: it is the
	 * last command Postfix's smtpd sends before cleanup takes the connection
	 * over. Without a reply to it, the macros smtpd flushes at the hand-over are
	 * unacknowledged when cleanup writes the headers, and over TCP Nagle holds
	 * those until our delayed ACK: 40 ms per message (issue 19). */
	steps |= f1 & (SMFIP_NORCPT | SMFIP_NOUNKNOWN);
	if (f1 & SMFIP_SKIP) {
		steps |= SMFIP_SKIP;
		cc->can_skip = true;
	}
	/* Steps we never refuse at need no reply: the MTA does not wait for one. */
	if (f1 & SMFIP_NR_HDR) {
		steps |= SMFIP_NR_HDR;
		cc->noreply_headers = true;
	}
	if (f1 & SMFIP_NR_HELO) {
		steps |= SMFIP_NR_HELO;
		cc->noreply_helo = true;
	}
	if (f1 & SMFIP_NR_EOH) {
		steps |= SMFIP_NR_EOH;
		cc->noreply_eoh = true;
	}
	*pf1 = steps;
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "j {daemon_name} _");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* cb_connect - a new connection: a session on the current generation */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct cb_conn *cc = cb_conn(ctx);
	struct reply r;

	conns_touch(ctx);
	if (cc == NULL)
		return cb_internal_error(ctx, "out of memory at connect");
	if (!stop_taking_mail())
		return cb_stopping(ctx);
	if (!conns_admitted(ctx)) {
		smfi_setreply(ctx, "451", "4.3.2", "too many connections to authmilter, "
		    "try again later");
		return SMFIS_TEMPFAIL;
	}
	session_free(cc->session);
	if ((cc->session = session_new()) == NULL)
		return cb_internal_error(ctx, "no configuration loaded");
	return cb_step(ctx, session_connect(cc->session, hostname, hostaddr, &r), &r);
}

/* cb_helo - HELO/EHLO */
static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct cb_conn *cc = cb_priv(ctx);

	if (cc == NULL || cc->session == NULL)	/* end of message reports it */
		return cc != NULL && cc->noreply_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	session_helo(cc->session, helo);
	return cc->noreply_helo ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_envfrom - MAIL FROM: a message begins */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct cb_conn *cc = cb_priv(ctx);
	struct reply r;
	enum step step;

	if (cc == NULL || cc->session == NULL)
		return cb_internal_error(ctx, "MAIL FROM without a session");
	cb_message_end(cc);	/* a message the MTA left without abort */
	if (!stop_taking_mail())
		return cb_stopping(ctx);
	cc->skip_body = false;
	step = session_envfrom(cc->session, argv[0], smfi_getsymval(ctx, "{auth_authen}"),
	    smfi_getsymval(ctx, "i"), &r);
	if (step != STEP_REJECT && step != STEP_TEMPFAIL) {
		cc->in_message = true;	/* a stop lets it finish */
		stop_message_begin();
	}
	return cb_step(ctx, step, &r);
}

/* cb_header - one header field */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct cb_conn *cc = cb_priv(ctx);

	if (cc != NULL && !cc->noreply_headers && cc->in_message && stop_cutting())
		return cb_cut(ctx, cc);
	if (cc != NULL && cc->session != NULL)
		session_header(cc->session, name, value);
	return cc != NULL && cc->noreply_headers ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_eoh - end of headers */
static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct cb_conn *cc = cb_priv(ctx);

	if (cc == NULL || cc->session == NULL)	/* end of message reports it */
		return cc != NULL && cc->noreply_eoh ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (!cc->noreply_eoh && cc->in_message && stop_cutting())
		return cb_cut(ctx, cc);
	session_queue_id(cc->session, smfi_getsymval(ctx, "i"));
	cc->skip_body = session_eoh(cc->session) == STEP_SKIP_BODY;
	return cc->noreply_eoh ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_body - a body chunk, streamed */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct cb_conn *cc = cb_priv(ctx);

	if (cc == NULL || cc->session == NULL)
		return cb_internal_error(ctx, "body without a session");
	if (cc->in_message && stop_cutting())
		return cb_cut(ctx, cc);
	if (!cc->skip_body &&
	    session_body(cc->session, data, len) == STEP_SKIP_BODY)
		cc->skip_body = true;
	return cc->skip_body && cc->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
}

/* cb_header_value - our value (as written after the colon, CRLF folds) as the MTA
 * wants it: LF line breaks, and without the first space unless leading spaces were
 * negotiated (then the MTA writes the value exactly; otherwise it adds one space) */
static char *
cb_header_value(const char *value, bool leading_space)
{
	struct buf b = BUF_INIT;
	const char *p, *crlf;

	if (!leading_space && *value == ' ')
		value++;
	for (p = value; (crlf = strstr(p, "\r\n")) != NULL; p = crlf + 1)
		buf_append(&b, p, (size_t)(crlf - p));
	buf_puts(&b, p);
	return buf_steal(&b);
}

/* cb_eom_apply - end of message: apply the session's edits and action */
static sfsistat
cb_eom_apply(SMFICTX *ctx)
{
	struct cb_conn *cc = smfi_getpriv(ctx);
	const struct eom_result *res;

	if (cc == NULL || cc->session == NULL)
		return cb_internal_error(ctx, "end of message without a session");
	session_queue_id(cc->session, smfi_getsymval(ctx, "i"));
	res = session_eom(cc->session);
	if (res->step != STEP_CONTINUE)
		return cb_step(ctx, res->step, &res->reply);
	for (size_t i = 0; i < res->n_edits; i++) {
		const struct header_edit *e = &res->edits[i];
		int rc;

		if (e->op == EDIT_INSERT) {
			char *v = cb_header_value(e->value, cc->leading_space);
			rc = smfi_insheader(ctx, (int)e->index, e->name, v);
			free(v);
		} else {
			rc = smfi_chgheader(ctx, e->name, (int)e->index, NULL);
		}
		if (rc != MI_SUCCESS)
			return cb_internal_error(ctx, "the MTA refused a header change");
	}
	if (res->quarantine &&
	    smfi_quarantine(ctx, (char *)res->quarantine_reason) != MI_SUCCESS)
		return cb_internal_error(ctx, "the MTA refused to quarantine");
	return SMFIS_ACCEPT;
}

/* cb_eom - end of message: its final answer */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct cb_conn *cc = cb_priv(ctx);
	sfsistat rc;

	if (cc != NULL && cc->in_message && stop_cutting())
		return cb_cut(ctx, cc);
	rc = cb_eom_apply(ctx);
	if (cc != NULL)
		cb_message_end(cc);
	return rc;
}

/* cb_abort - the message ended early; the connection may go on */
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct cb_conn *cc = cb_priv(ctx);

	if (cc != NULL && cc->session != NULL)
		session_abort(cc->session);
	if (cc != NULL)
		cb_message_end(cc);
	return SMFIS_CONTINUE;
}

/* cb_close - the connection ended */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct cb_conn *cc = smfi_getpriv(ctx);

	conns_closed(ctx);	/* also for a connection that never sent a command */
	if (cc != NULL) {
		cb_message_end(cc);
		session_free(cc->session);
		free(cc);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc callbacks_desc = {
	.xxfi_name = "authmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = NULL,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_descriptor - the table for smfi_register */
struct smfiDesc *
callbacks_descriptor(void)
{
	return &callbacks_desc;
}
