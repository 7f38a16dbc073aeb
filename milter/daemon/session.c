/* session - one MTA connection: classify the client, run the checks, sign or judge.
 *
 * session_new/free per connection; session_connect, _helo, _envfrom, _header, _eoh,
 * _body, _eom, _abort per step, as callbacks.c receives them. The checks start as
 * soon as their input is known (iprev at connect, SPF at MAIL FROM, DKIM key and
 * _dmarc lookups as their headers arrive) and are collected at end of message
 * into one verdict record (session_collect, verdict.h) that the log line, the
 * A-R and the policy read. session_eom returns the edits and the action; it owns
 * them until the next message. Every message ends in exactly one log line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "arc_seal.h"
#include "arc_verify.h"
#include "authres.h"
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "header.h"
#include "iprev.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "report_failure.h"
#include "report_record.h"
#include "report_writer.h"
#include "rfc5322.h"
#include "session.h"
#include "spf.h"
#include "verdict.h"
#include "xalloc.h"

#define SESSION_MAX_FORGED	HEADER_MAX_COUNT	/* A-R fields naming us that we will
						 * delete; a message with more is refused */

/* Per-message state: reset by session_reset_message at MAIL FROM, end and abort. */
struct message {
	bool		 active;	/* MAIL FROM seen, line not yet logged */
	bool		 outbound;
	char		 queue_id[64];
	char		*mailfrom;	/* envelope sender without <>; "" for the null sender */
	char		*auth;		/* SASL login, NULL when not authenticated */
	struct header_list headers;
	unsigned	 from_headers;	/* every From counted, stored or not */
	size_t		 authres_seen;	/* every Authentication-Results counted, stored
					 * or not: deletions name the nth occurrence */
	size_t		*forged;	/* occurrences (1-based) that name our authserv-id,
					 * found as they arrive, past the header caps too */
	size_t		 n_forged;
	bool		 too_many_forged; /* over SESSION_MAX_FORGED: refuse the message */
	struct from_address from;	/* parse of the first From */
	struct spf_check *spf;
	struct dkim_body_set *body;
	struct dkim_verify *dkim;
	struct arc_verify *arc;
	struct dkim_verify_budget budget;	/* what dkim and arc may cost, together */
	struct dmarc_lookup *dmarc;
	struct dkim_body_hash **sign_hash;	/* outbound: one per key, shared */
	const struct conf_key **sign_keys;
	size_t		 n_sign_keys;
	const char	*unsigned_reason;	/* outbound: why nothing is signed */
	struct dkim_body_hash *arc_hash;	/* inbound with arc.seal: the AMS's
						 * relaxed body hash, shared */
	struct eom_result result;
};

/* Per-connection state: freed by session_free. */
struct session {
	struct generation *gen;
	char		*client_name;	/* as the MTA gave it, "" when none */
	char		 client_addr[64];	/* text, "" when no address */
	struct sockaddr_storage sa;
	bool		 has_addr;
	bool		 internal;
	char		*helo;
	struct iprev_check *iprev;
	struct message	 msg;
};

/* session_new - a session on the current generation */
struct session *
session_new(void)
{
	struct generation *g = generation_current();
	struct session *s;

	if (g == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->gen = g;
	metrics_session(1);
	return s;
}

/* session_generation - the generation the session started with */
const struct generation *
session_generation(const struct session *s)
{
	return s->gen;
}

/* session_result_clear - free the edits of the last end of message */
static void
session_result_clear(struct eom_result *r)
{
	for (size_t i = 0; i < r->n_edits; i++) {
		free(r->edits[i].name);
		free(r->edits[i].value);
	}
	free(r->edits);
	memset(r, 0, sizeof(*r));
}

/* session_reset_message - forget the message, stop its lookups */
static void
session_reset_message(struct session *s)
{
	struct message *m = &s->msg;

	free(m->mailfrom);
	free(m->auth);
	header_list_reset(&m->headers);
	spf_free(m->spf);
	dkim_verify_free(m->dkim);
	arc_verify_free(m->arc);
	dkim_body_set_free(m->body);
	dmarc_lookup_free(m->dmarc);
	free(m->sign_hash);
	free(m->sign_keys);
	free(m->forged);
	session_result_clear(&m->result);
	memset(m, 0, sizeof(*m));
}

/* session_free - end of connection; NULL is fine */
void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_abort(s);
	iprev_free(s->iprev);
	free(s->client_name);
	free(s->helo);
	generation_release(s->gen);
	free(s);
	metrics_session(-1);
}

/* session_reply - a policy decision as the step and reply for the MTA */
static enum step
session_reply(const struct decision *d, struct reply *r)
{
	*r = d->reply;
	switch (d->action) {
	case ACTION_REJECT:	return STEP_REJECT;
	case ACTION_TEMPFAIL:	return STEP_TEMPFAIL;
	default:		return STEP_CONTINUE;
	}
}

/* session_client - "name[addr]" for the log */
static void
session_client(const struct session *s, char *out, size_t outlen)
{
	char name[256];

	log_safe(s->client_name != NULL && s->client_name[0] ? s->client_name : "unknown",
	    name, sizeof(name));
	snprintf(out, outlen, "%s[%s]", name, s->has_addr ? s->client_addr : "local");
}

/* session_connect - classify the client; iprev now when its policy acts at connect */
enum step
session_connect(struct session *s, const char *hostname, const struct sockaddr *sa,
    struct reply *r)
{
	const struct conf *c = s->gen->conf;
	struct decision d;
	char client[400];

	memset(r, 0, sizeof(*r));
	free(s->client_name);
	s->client_name = xstrdup(hostname ? hostname : "");
	s->has_addr = false;
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(&s->sa, sa, sizeof(struct sockaddr_in));
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    s->client_addr, sizeof(s->client_addr));
		s->has_addr = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(&s->sa, sa, sizeof(struct sockaddr_in6));
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    s->client_addr, sizeof(s->client_addr));
		s->has_addr = true;
	}
	/* No address (sendmail -bs, a unix-socket client): outbound only as
	 * local_submission says; on a TCP milter socket anyone may claim it. */
	s->internal = s->has_addr ?
	    cidr_list_match(&c->internal_hosts, (const struct sockaddr *)&s->sa) :
	    c->local_submission_sign;
	iprev_free(s->iprev);
	s->iprev = NULL;
	if (s->internal || !s->has_addr || !c->iprev.enable)
		return STEP_CONTINUE;
	s->iprev = iprev_start(s->gen->dns, (const struct sockaddr *)&s->sa);
	if (c->iprev.on_fail == ACTION_NONE && c->iprev.on_temperror == ACTION_NONE)
		return STEP_CONTINUE;	/* collected at end of message */
	policy_connect(c, iprev_finish(s->iprev), &d);
	if (d.wanted == ACTION_NONE)
		return STEP_CONTINUE;
	session_client(s, client, sizeof(client));
	log_msg(LOG_INFO, "NOQUEUE: connect client=%s iprev=%s action=%s%s", client,
	    auth_result_name(iprev_finish(s->iprev)->result), action_name(d.wanted),
	    d.action != d.wanted ? " (dry-run)" : "");
	return session_reply(&d, r);
}

/* session_helo - remember the HELO name (the last one counts) */
void
session_helo(struct session *s, const char *helo)
{
	free(s->helo);
	s->helo = xstrdup(helo != NULL ? helo : "");
}

/* session_strip_angle - "<a@b>" to "a@b", "<>" to "" */
static char *
session_strip_angle(const char *in)
{
	size_t len;

	while (*in == ' ')
		in++;
	len = strlen(in);
	if (len >= 2 && in[0] == '<' && in[len - 1] == '>')
		return xstrndup(in + 1, len - 2);
	return xstrdup(in);
}

/* session_queue_id - learn the queue id when the MTA has one */
void
session_queue_id(struct session *s, const char *queue_id)
{
	if (queue_id != NULL && queue_id[0] != '\0' && s->msg.queue_id[0] == '\0')
		log_safe(queue_id, s->msg.queue_id, sizeof(s->msg.queue_id));
}

/* session_envfrom - a message begins: outbound or inbound, SPF starts */
enum step
session_envfrom(struct session *s, const char *mailfrom, const char *auth_authen,
    const char *queue_id, struct reply *r)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;

	memset(r, 0, sizeof(*r));
	session_abort(s);	/* logs and forgets a message left unfinished */
	m->active = true;
	session_queue_id(s, queue_id);
	m->mailfrom = session_strip_angle(mailfrom != NULL ? mailfrom : "");
	if (auth_authen != NULL && auth_authen[0] != '\0')
		m->auth = xstrdup(auth_authen);
	m->outbound = s->internal || m->auth != NULL;
	m->body = dkim_body_set_new();
	if (m->outbound)
		return STEP_CONTINUE;
	if (c->spf.enable && s->has_addr)
		m->spf = spf_start(s->gen->dns, (const struct sockaddr *)&s->sa,
		    s->helo != NULL ? s->helo : s->client_name, m->mailfrom, c->spf.helo);
	if (c->dkim.verify) {
		struct dkim_verify_opts vo = {
			.max_signatures = c->dkim.max_signatures,
			.min_key_bits = c->dkim.min_key_bits,
			.now = time(NULL),
			.allow_partial_body = c->dkim.allow_partial_body,
			.budget = &m->budget,
		};
		m->dkim = dkim_verify_new(s->gen->dns, &vo, m->body);
	}
	if (c->arc.verify) {
		struct dkim_verify_opts ao = {
			.min_key_bits = c->dkim.min_key_bits,
			.now = time(NULL),
			.budget = &m->budget,
		};
		m->arc = arc_verify_new(s->gen->dns, &ao, m->body);
	}
	return STEP_CONTINUE;
}

/* session_note_authres - remember an Authentication-Results field that names us.
 * Seen as it arrives, whether or not the header caps let it be stored: a forged
 * field after 10,000 others must be deleted as surely as the first. */
static void
session_note_authres(struct session *s, const char *value)
{
	struct message *m = &s->msg;

	m->authres_seen++;
	if (!authres_is_ours(value, strlen(value), s->gen->conf->authserv_id))
		return;
	if (m->n_forged == SESSION_MAX_FORGED) {
		m->too_many_forged = true;
		return;
	}
	m->forged = xreallocarray(m->forged, m->n_forged + 1, sizeof(*m->forged));
	m->forged[m->n_forged++] = m->authres_seen;
}

/* session_header - store a field; start the lookups its content allows */
void
session_header(struct session *s, const char *name, const char *value)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;
	char trimmed[64];
	bool stored;

	if (!m->active)
		return;
	stored = header_list_add(&m->headers, name, value);
	/* "From :" is a From (RFC 5322 §4.5.8): names compare without that WSP */
	name = header_name_trim(name, trimmed, sizeof(trimmed));
	if (strcasecmp(name, "Authentication-Results") == 0)
		session_note_authres(s, value);
	if (strcasecmp(name, "From") == 0) {
		/* counted even past the caps: a second From must never go unseen */
		if (m->from_headers++ == 0) {
			if (stored) {
				const struct header *h = &m->headers.v[m->headers.n - 1];

				rfc5322_parse_from(h->value, h->value_len, &m->from);
			} else {
				m->from.status = FROM_SYNTAX;
			}
			if (!m->outbound && c->dmarc.enable && m->from.status == FROM_OK)
				m->dmarc = dmarc_lookup_start(s->gen->dns, s->gen->psl,
				    c->dmarc.discovery, m->from.domain);
		} else {
			dmarc_lookup_free(m->dmarc);
			m->dmarc = NULL;
		}
	}
	if (stored && m->dkim != NULL && strcasecmp(name, "DKIM-Signature") == 0) {
		const struct header *h = &m->headers.v[m->headers.n - 1];

		dkim_verify_add(m->dkim, h->value, h->value_len, m->headers.n - 1);
	}
	if (m->arc != NULL && arc_verify_field(name) != 0) {
		if (stored) {
			const struct header *h = &m->headers.v[m->headers.n - 1];

			arc_verify_add(m->arc, name, h->value, h->value_len, m->headers.n - 1);
		} else {
			arc_verify_unstored(m->arc);	/* past the caps: a fail */
		}
	}
}

/* session_eoh - outbound: pick the keys for the From domain, ask for a body hash */
enum step
session_eoh(struct session *s)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;

	if (!m->active)
		return STEP_CONTINUE;
	if (!m->outbound) {
		if (c->arc_seal.seal)
			m->arc_hash = dkim_body_set_add(m->body, DKIM_CANON_RELAXED, -1);
		return STEP_CONTINUE;
	}
	if (m->from_headers == 0)
		m->unsigned_reason = "no-from";
	else if (m->from_headers > 1)
		m->unsigned_reason = "several-from-headers";
	else if (m->from.status == FROM_MULTIPLE_DOMAINS || m->from.n_addrs > 1)
		m->unsigned_reason = "several-from-addresses";
	else if (m->from.status != FROM_OK)
		m->unsigned_reason = "from-unusable";
	if (m->unsigned_reason != NULL)
		return STEP_SKIP_BODY;
	m->sign_keys = xcalloc(DKIM_KEYTABLE_MAX_MATCH, sizeof(*m->sign_keys));
	m->sign_hash = xcalloc(DKIM_KEYTABLE_MAX_MATCH, sizeof(*m->sign_hash));
	m->n_sign_keys = dkim_keytable_match(s->gen->keys, m->from.domain, m->sign_keys,
	    DKIM_KEYTABLE_MAX_MATCH);
	for (size_t i = 0; i < m->n_sign_keys; i++)
		m->sign_hash[i] = dkim_body_set_add(m->body, c->dkim.body_canon, -1);
	if (m->n_sign_keys == 0) {
		m->unsigned_reason = "no-key-for-domain";
		return STEP_SKIP_BODY;
	}
	return STEP_CONTINUE;
}

/* session_body - stream a chunk through every body hash */
enum step
session_body(struct session *s, const unsigned char *data, size_t len)
{
	struct message *m = &s->msg;

	if (!m->active || m->body == NULL)
		return STEP_SKIP_BODY;
	dkim_body_set_update(m->body, data, len);
	return STEP_CONTINUE;
}

/* session_edit - queue one header edit */
static void
session_edit(struct message *m, enum edit_op op, size_t index, const char *name,
    char *value)
{
	struct eom_result *r = &m->result;

	/* no cap here: the deletions are bounded by SESSION_MAX_FORGED, the
	 * insertions by the keys and checks; an edit dropped could be a forgery kept */
	r->edits = xreallocarray(r->edits, r->n_edits + 1, sizeof(*r->edits));
	r->edits[r->n_edits].op = op;
	r->edits[r->n_edits].index = index;
	r->edits[r->n_edits].name = xstrdup(name);
	r->edits[r->n_edits].value = value;
	r->n_edits++;
}

/* session_delete_forged - drop every incoming A-R that claims to be ours.
 * Deleted from the last to the first: each deletion renumbers the later ones
 * (OpenDKIM's CVE-2022-48521 deleted in the other order). */
static void
session_delete_forged(struct session *s)
{
	struct message *m = &s->msg;

	for (size_t i = m->n_forged; i-- > 0;)
		session_edit(m, EDIT_DELETE, m->forged[i], "Authentication-Results", NULL);
}

/* session_unstore_forged - take the fields we delete out of the stored list, so
 * a signature covers the header as it will be delivered */
static void
session_unstore_forged(struct message *m)
{
	for (size_t i = m->n_forged; i-- > 0;) {
		long at = header_list_find(&m->headers, "Authentication-Results",
		    m->forged[i] - 1);

		if (at >= 0)
			header_list_remove(&m->headers, (size_t)at);
	}
}

/* session_refuse_forged - a message carrying more forged A-R fields than we
 * delete is refused outright: none of them may reach a mailbox */
static bool
session_refuse_forged(struct session *s, struct buf *line)
{
	struct message *m = &s->msg;
	struct reply *r = &m->result.reply;

	if (!m->too_many_forged)
		return false;
	m->result.step = STEP_REJECT;
	reply_set(r, "550", "5.7.1", "too many Authentication-Results header fields");
	buf_printf(line, " authres-forged=over-%d action=reject by=authres",
	    SESSION_MAX_FORGED);
	return true;
}

/* session_unsigned - an outbound message left unsigned: log and count the reason.
 * Several From fields (RFC 5322 §3.6 allows one) can never be signed so that
 * DMARC holds; under on_sign_error = tempfail (no unsigned mail out) it is
 * refused for good, since a retry of the same message cannot help. */
static void
session_unsigned(struct session *s, struct buf *line)
{
	struct message *m = &s->msg;

	buf_printf(line, " dkim-sign=none reason=%s", m->unsigned_reason);
	metrics_unsigned(m->unsigned_reason);
	if (strcmp(m->unsigned_reason, "several-from-headers") == 0 &&
	    s->gen->conf->dkim.on_sign_error == ACTION_TEMPFAIL) {
		m->result.step = STEP_REJECT;
		reply_set(&m->result.reply, "550", "5.7.1", "several From header fields "
		    "(RFC 5322 section 3.6): not signed, not sent");
	}
}

/* session_eom_outbound - sign with every key of the From domain */
static void
session_eom_outbound(struct session *s, struct buf *line)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;
	char *sigs[64];
	size_t n_sigs = 0;
	time_t now = time(NULL);

	buf_puts(line, " auth=");
	log_safe_append(line, m->auth ? m->auth : "-");
	/* A-R naming us come from us only, on this path too: an authenticated
	 * user must not hand a colleague a forged dmarc=pass under our name */
	session_delete_forged(s);
	session_unstore_forged(m);
	if (m->unsigned_reason == NULL && m->headers.truncated)
		m->unsigned_reason = "headers-over-limit";
	if (m->unsigned_reason != NULL) {
		session_unsigned(s, line);
		return;
	}
	buf_puts(line, " dkim-sign=");
	for (size_t i = 0; i < m->n_sign_keys && n_sigs < 64; i++) {
		const struct conf_key *k = m->sign_keys[i];
		unsigned char bh[DKIM_HASH_LEN];
		uint64_t blen;
		struct buf sig = BUF_INIT;
		char err[256];
		struct dkim_sign_params p = {
			.key = k->key,
			.domain = k->domain,
			.selector = k->selector,
			.header_canon = c->dkim.header_canon,
			.body_canon = c->dkim.body_canon,
			.headers = c->dkim.headers,
			.n_headers = c->dkim.n_headers,
			.oversign = c->dkim.oversign,
			.n_oversign = c->dkim.n_oversign,
			.now = now,
			.expire = c->dkim.expire,
		};

		dkim_body_hash_result(m->sign_hash[i], bh, &blen);
		if (!dkim_sign_header(&p, &m->headers, bh, &sig, err, sizeof(err))) {
			log_msg(LOG_ERR, "%s: signing with key \"%s\" failed: %s",
			    m->queue_id[0] ? m->queue_id : "NOQUEUE", k->name, err);
			buf_free(&sig);
			for (size_t j = 0; j < n_sigs; j++)
				free(sigs[j]);
			buf_printf(line, "error reason=sign-error");
			metrics_unsigned("sign-error");
			if (c->dkim.on_sign_error == ACTION_TEMPFAIL) {
				m->result.step = STEP_TEMPFAIL;
				reply_set(&m->result.reply, "451", "4.3.0",
				    "cannot sign this message now, try again later");
			}
			return;
		}
		sigs[n_sigs++] = buf_steal(&sig);
		metrics_signature(k->domain, dkim_alg_name(k->key->alg));
		buf_printf(line, "%s%s/%s/%s", i ? "," : "", k->domain, k->selector,
		    dkim_alg_name(k->key->alg));
	}
	/* Inserting each at the top in reverse keeps the configured order. */
	while (n_sigs > 0) {
		n_sigs--;
		session_edit(m, EDIT_INSERT, 0, "DKIM-Signature", sigs[n_sigs]);
	}
}

/* session_log_budget - say when the message hit the bounds on what its
 * signatures may cost (the verdicts say which signatures) */
static void
session_log_budget(const struct message *m)
{
	const struct dkim_verify_budget *b = &m->budget;

	if (b->pk_refused > 0)
		log_msg(LOG_NOTICE, "%s: %u DKIM/ARC signatures not checked: over %d "
		    "public-key operations per message", m->queue_id[0] ? m->queue_id :
		    "NOQUEUE", b->pk_refused, DKIM_VERIFY_MAX_PK_OPS);
	if (b->body_refused > 0)
		log_msg(LOG_NOTICE, "%s: %u DKIM/ARC signatures not checked: over %d "
		    "body hashes per message", m->queue_id[0] ? m->queue_id : "NOQUEUE",
		    b->body_refused, DKIM_VERIFY_MAX_BODY_HASHES);
}

/* session_collect - wait for every check of an inbound message and fill its
 * verdict record; dmv holds the DMARC verdict the record points at */
static void
session_collect(struct session *s, struct verdict *v, struct dmarc_verdict *dmv)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;

	memset(v, 0, sizeof(*v));
	v->helo = s->helo;
	if (s->iprev != NULL)
		v->iprev = iprev_finish(s->iprev);
	if (m->spf != NULL)
		spf_finish(m->spf, &v->spf_mailfrom, &v->spf_helo);
	if (m->dkim != NULL) {
		v->dkim_checked = true;
		v->n_dkim = dkim_verify_finish(m->dkim, &m->headers, &v->dkim,
		    &v->dkim_ignored);
		if (v->dkim_ignored > 0)
			log_msg(LOG_NOTICE, "%s: %zu DKIM signatures beyond dkim.max_signatures "
			    "ignored", m->queue_id[0] ? m->queue_id : "NOQUEUE",
			    v->dkim_ignored);
	}
	v->dmarc_checked = c->dmarc.enable;
	v->dmarc_discovery = dmarc_discovery_name(c->dmarc.discovery);
	if (m->dmarc != NULL) {
		dmarc_evaluate(m->dmarc, v->spf_mailfrom, v->dkim, v->n_dkim, dmv);
		v->dmarc = dmv;
		if (dmv->ignored[0] != '\0')
			log_msg(LOG_NOTICE, "%s: invalid DMARC record ignored: %s",
			    m->queue_id[0] ? m->queue_id : "NOQUEUE", dmv->ignored);
		if (dmarc_lookup_capped(m->dmarc))
			log_msg(LOG_NOTICE, "%s: more than %d DMARC tree walks: the identifiers "
			    "beyond them do not align", m->queue_id[0] ? m->queue_id : "NOQUEUE",
			    DMARC_MAX_WALKS);
	}
	v->from_headers = m->from_headers;
	v->from_status = m->from.status;
	v->from_domain = m->from.domain;
	v->headers_truncated = m->headers.truncated;
	v->remote_ip = s->has_addr ? s->client_addr : NULL;
	if (m->arc != NULL) {
		/* an AAR vouches for the author as DMARC would align (RFC 9989 §4.4) */
		struct arc_author author = {
			.from_domain = m->from.status == FROM_OK ? m->from.domain : NULL,
			.org_domain = v->dmarc != NULL ? v->dmarc->org_domain : NULL,
			.dkim_strict = v->dmarc != NULL &&
			    v->dmarc->record.adkim == DMARC_ALIGN_STRICT,
			.spf_strict = v->dmarc != NULL &&
			    v->dmarc->record.aspf == DMARC_ALIGN_STRICT,
		};

		v->arc = arc_verify_finish(m->arc, &m->headers, &author);
	}
	session_log_budget(m);
}

/* session_arc_seal - our ARC set (RFC 8617 §5.1) from the verdict and our A-R
 * value; queued after the A-R, so that it lands above it */
static void
session_arc_seal(struct session *s, const struct verdict *v, const char *authres,
    struct buf *line)
{
	const struct conf *c = s->gen->conf;
	const struct conf_key *k = c->arc_seal.key;
	struct message *m = &s->msg;
	struct arc_seal_plan plan;
	struct arc_seal_set set;
	unsigned char bh[DKIM_HASH_LEN];
	uint64_t blen;
	char err[256];

	arc_seal_plan(&m->headers, v->arc, &plan);
	if (plan.seal && m->arc_hash == NULL) {
		plan.seal = false;
		plan.why = "no-body-hash";	/* end of headers never came */
	}
	if (!plan.seal) {
		buf_printf(line, " arc-seal=none arc-seal.reason=%s", plan.why);
		return;
	}
	struct arc_seal_params p = {
		.key = k->key,
		.domain = k->domain,
		.selector = k->selector,
		.headers = c->dkim.headers,
		.n_headers = c->dkim.n_headers,
		.oversign = c->dkim.oversign,
		.n_oversign = c->dkim.n_oversign,
		.now = time(NULL),
	};
	dkim_body_hash_result(m->arc_hash, bh, &blen);
	if (!arc_seal_make(&p, &plan, &m->headers, authres, bh, &set, err, sizeof(err))) {
		log_msg(LOG_ERR, "%s: ARC sealing with key \"%s\" failed: %s",
		    m->queue_id[0] ? m->queue_id : "NOQUEUE", k->name, err);
		buf_puts(line, " arc-seal=error arc-seal.reason=sign-error");
		if (c->dkim.on_sign_error == ACTION_TEMPFAIL) {
			m->result.step = STEP_TEMPFAIL;
			reply_set(&m->result.reply, "451", "4.3.0",
			    "cannot seal this message now, try again later");
		}
		return;
	}
	/* each at the top: AS ends above AMS above AAR (§5.1 step 3) */
	session_edit(m, EDIT_INSERT, 0, "ARC-Authentication-Results", set.aar);
	session_edit(m, EDIT_INSERT, 0, "ARC-Message-Signature", set.ams);
	session_edit(m, EDIT_INSERT, 0, "ARC-Seal", set.as);
	buf_printf(line, " arc-seal=%s/%s/%s arc-seal.i=%u arc-seal.cv=%s", k->domain,
	    k->selector, dkim_alg_name(k->key->alg), plan.instance,
	    arc_seal_cv_name(plan.cv));
}

/* session_failure_sample - the message's RFC 9991 failure sample, or NULL: when its
 * record asks for one and this daemon's share of report.failure_rate allows */
static struct report_sample *
session_failure_sample(const struct session *s, const struct verdict *v, enum action action,
    time_t received)
{
	const struct conf *c = s->gen->conf;
	struct report_failure_input in;
	struct report_sample *x;
	uint64_t rnd;
	char id[17];
	char *ar;

	if (v->dmarc == NULL || v->dmarc->record.n_ruf == 0 || c->report.failure_rate == 0 ||
	    getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return NULL;
	snprintf(id, sizeof(id), "%016" PRIx64, rnd);
	ar = authres_render(v, c->authserv_id);
	in.id = id;
	in.received = received;
	in.source_ip = s->client_addr;
	in.mailfrom = s->msg.mailfrom ? s->msg.mailfrom : "";
	in.action = action;
	in.auth_results = ar;
	in.headers = &s->msg.headers;
	in.keep = (const char *const *)c->report.failure_keep;
	in.n_keep = c->report.n_failure_keep;
	x = report_failure_sample(v, &in);
	free(ar);
	if (x != NULL && !report_writer_failure_admit(x->rate_domain, c->report.failure_rate)) {
		report_sample_free(x);
		x = NULL;
	}
	return x;
}

/* session_report - queue the message's DMARC report row (and failure sample) when
 * reports are on */
static void
session_report(const struct session *s, const struct verdict *v, enum action action)
{
	struct report_message rm;
	struct report_row row;

	if (!s->gen->conf->report.enable || !report_writer_enabled())
		return;
	rm.received = time(NULL);
	rm.source_ip = s->client_addr;
	rm.mailfrom = s->msg.mailfrom ? s->msg.mailfrom : "";
	rm.action = action;
	if (!report_record_row(v, &rm, &row))
		return;
	if (s->gen->conf->report.failure)
		row.sample = session_failure_sample(s, v, action, rm.received);
	report_writer_submit(&row);
}

/* session_eom_inbound - collect every check, decide, build the headers */
static void
session_eom_inbound(struct session *s, struct buf *line)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;
	struct verdict v;
	struct dmarc_verdict dmv;
	struct decision d;

	session_collect(s, &v, &dmv);
	verdict_log(&v, line);
	verdict_count(&v);
	policy_message(c, &v, &d);
	v.override_reason = d.override_reason;
	v.override_sealer = d.override_sealer;
	m->result.step = session_reply(&d, &m->result.reply);
	if (d.action == ACTION_QUARANTINE) {
		m->result.quarantine = true;
		snprintf(m->result.quarantine_reason, sizeof(m->result.quarantine_reason),
		    "authmilter: %s", d.reply.text);
	}
	buf_printf(line, " action=%s%s", action_name(d.wanted == ACTION_NONE ?
	    ACTION_ACCEPT : d.wanted), d.action != d.wanted ? " (dry-run)" : "");
	if (d.by != NULL)
		buf_printf(line, " by=%s", d.by);
	if (d.override_sealer != NULL)
		buf_printf(line, " override=arc sealer=%s", d.override_sealer);
	session_report(s, &v, d.action);

	if (m->result.step == STEP_CONTINUE) {
		session_delete_forged(s);
		if (c->spf.received_spf && v.spf_mailfrom != NULL &&
		    v.spf_mailfrom->result != AUTH_SKIPPED) {
			struct buf rs = BUF_INIT;

			buf_putc(&rs, ' ');
			spf_received_header(v.spf_mailfrom, s->client_addr,
			    s->helo ? s->helo : "", c->authserv_id, &rs);
			session_edit(m, EDIT_INSERT, 0, "Received-SPF", buf_steal(&rs));
		}
		char *ar = authres_render(&v, c->authserv_id);

		session_edit(m, EDIT_INSERT, 0, "Authentication-Results", ar);
		if (c->arc_seal.seal)
			session_arc_seal(s, &v, ar, line);	/* ar lives in the edits */
	}
	if (v.dmarc != NULL)
		dmarc_verdict_clear(&dmv);
}

/* session_metrics - count the message with the action the MTA gets and the time
 * since start (end of body) */
static void
session_metrics(const struct message *m, const struct timespec *start)
{
	enum action a = ACTION_ACCEPT;

	if (m->result.step == STEP_REJECT)
		a = ACTION_REJECT;
	else if (m->result.step == STEP_TEMPFAIL)
		a = ACTION_TEMPFAIL;
	else if (m->result.quarantine)
		a = ACTION_QUARANTINE;
	metrics_message(m->outbound, a, metrics_seconds_since(start));
}

/* session_eom - the end of a message: sign or judge, and log one line */
const struct eom_result *
session_eom(struct session *s)
{
	struct message *m = &s->msg;
	struct buf line = BUF_INIT;
	char client[400];
	struct timespec start;

	metrics_clock(&start);
	session_result_clear(&m->result);
	if (!m->active)
		return &m->result;
	dkim_body_set_final(m->body);
	session_client(s, client, sizeof(client));
	buf_printf(&line, "%s: %s client=%s", m->queue_id[0] ? m->queue_id : "NOQUEUE",
	    m->outbound ? "outbound" : "inbound", client);
	if (session_refuse_forged(s, &line)) {
		/* refused whichever way it came */
	} else if (m->outbound) {
		session_eom_outbound(s, &line);
		buf_printf(&line, " action=%s", m->result.step == STEP_TEMPFAIL ?
		    "tempfail" : m->result.step == STEP_REJECT ? "reject" : "accept");
	} else {
		session_eom_inbound(s, &line);
	}
	log_msg(LOG_INFO, "%s", buf_cstr(&line));
	buf_free(&line);
	m->active = false;
	session_metrics(m, &start);
	return &m->result;
}

/* session_abort - a message that began and did not end: say so, forget it */
void
session_abort(struct session *s)
{
	char client[400];

	if (s->msg.active) {
		session_client(s, client, sizeof(client));
		log_msg(LOG_INFO, "%s: %s client=%s aborted",
		    s->msg.queue_id[0] ? s->msg.queue_id : "NOQUEUE",
		    s->msg.outbound ? "outbound" : "inbound", client);
		s->msg.active = false;
	}
	session_reset_message(s);
}
