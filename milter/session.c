/* session - one MTA connection: classify the client, run the checks, sign or judge.
 *
 * session_new/free per connection; session_connect, _helo, _envfrom, _header, _eoh,
 * _body, _eom, _abort per step, as callbacks.c receives them. The checks start as
 * soon as their input is known (iprev at connect, SPF at MAIL FROM, DKIM key and
 * _dmarc lookups as their headers arrive) and are collected at end of message.
 * session_eom returns the edits and the action; it owns them until the next
 * message. Every message ends in exactly one log line (session_log_line).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
#include "policy.h"
#include "rfc5322.h"
#include "session.h"
#include "spf.h"
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
	struct dmarc_lookup *dmarc;
	struct dkim_body_hash **sign_hash;	/* outbound: one per key, shared */
	const struct conf_key **sign_keys;
	size_t		 n_sign_keys;
	const char	*unsigned_reason;	/* outbound: why nothing is signed */
	struct eom_result result;
};

/* Per-connection state: freed by session_free. */
struct session {
	struct generation *gen;
	char		 client_name[256];
	char		 client_addr[64];	/* text, "" when no address */
	struct sockaddr_storage sa;
	bool		 has_addr;
	bool		 internal;
	char		*helo;
	struct iprev_check *iprev;
	struct message	 msg;
};

/* session_safe - copy untrusted text for the log line: printable, no spaces or '=' */
static void
session_safe(const char *in, char *out, size_t outlen)
{
	size_t i = 0;

	for (; *in != '\0' && i + 1 < outlen; in++) {
		unsigned char c = (unsigned char)*in;
		out[i++] = (c > 0x20 && c < 0x7f && c != '=') ? (char)c : '?';
	}
	out[i] = '\0';
}

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
	free(s->helo);
	generation_release(s->gen);
	free(s);
}

/* session_reply - copy a policy decision into a reply */
static enum step
session_reply(const struct decision *d, struct reply *r)
{
	snprintf(r->rcode, sizeof(r->rcode), "%s", d->rcode);
	snprintf(r->xcode, sizeof(r->xcode), "%s", d->xcode);
	snprintf(r->text, sizeof(r->text), "%s", d->text);
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

	session_safe(s->client_name[0] ? s->client_name : "unknown", name, sizeof(name));
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
	snprintf(s->client_name, sizeof(s->client_name), "%s", hostname ? hostname : "");
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
	/* No address: sendmail -bs, pickup, a unix socket - local submission. */
	s->internal = !s->has_addr ||
	    cidr_list_match(&c->internal_hosts, (const struct sockaddr *)&s->sa);
	iprev_free(s->iprev);
	s->iprev = NULL;
	if (s->internal || !c->iprev.enable)
		return STEP_CONTINUE;
	s->iprev = iprev_start(s->gen->dns, (const struct sockaddr *)&s->sa);
	if (c->iprev.on_fail == ACTION_NONE && c->iprev.on_temperror == ACTION_NONE)
		return STEP_CONTINUE;	/* collected at end of message */
	policy_connect(c, iprev_finish(s->iprev), &d);
	if (d.wanted == ACTION_NONE)
		return STEP_CONTINUE;
	session_client(s, client, sizeof(client));
	log_msg(LOG_INFO, "NOQUEUE: connect client=%s iprev=%s action=%s%s", client,
	    auth_result_name(iprev_finish(s->iprev)->result), conf_action_name(d.wanted),
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
		session_safe(queue_id, s->msg.queue_id, sizeof(s->msg.queue_id));
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
		};
		m->dkim = dkim_verify_new(s->gen->dns, &vo, m->body);
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
	bool stored;

	if (!m->active)
		return;
	stored = header_list_add(&m->headers, name, value);
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
}

/* session_key_matches - does key k sign mail from domain */
static bool
session_key_matches(const struct conf_key *k, const char *domain)
{
	size_t dl = strlen(domain), kl = strlen(k->domain);

	if (strcmp(domain, k->domain) == 0)
		return true;
	return k->subdomains && dl > kl + 1 && domain[dl - kl - 1] == '.' &&
	    strcmp(domain + dl - kl, k->domain) == 0;
}

/* session_eoh - outbound: pick the keys for the From domain, ask for a body hash */
enum step
session_eoh(struct session *s)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;

	if (!m->active)
		return STEP_CONTINUE;
	if (!m->outbound)
		return STEP_CONTINUE;
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
	m->sign_keys = xcalloc(c->dkim.n_keys + 1, sizeof(*m->sign_keys));
	m->sign_hash = xcalloc(c->dkim.n_keys + 1, sizeof(*m->sign_hash));
	for (size_t i = 0; i < c->dkim.n_keys; i++) {
		if (!session_key_matches(&c->dkim.keys[i], m->from.domain))
			continue;
		m->sign_keys[m->n_sign_keys] = &c->dkim.keys[i];
		m->sign_hash[m->n_sign_keys] = dkim_body_set_add(m->body, c->dkim.body_canon, -1);
		m->n_sign_keys++;
	}
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
	snprintf(r->rcode, sizeof(r->rcode), "550");
	snprintf(r->xcode, sizeof(r->xcode), "5.7.1");
	snprintf(r->text, sizeof(r->text),
	    "too many Authentication-Results header fields");
	buf_printf(line, " authres-forged=over-%d action=reject by=authres",
	    SESSION_MAX_FORGED);
	return true;
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

	buf_printf(line, " auth=%s", m->auth ? m->auth : "-");
	/* A-R naming us come from us only, on this path too: an authenticated
	 * user must not hand a colleague a forged dmarc=pass under our name */
	session_delete_forged(s);
	session_unstore_forged(m);
	if (m->unsigned_reason == NULL && m->headers.truncated)
		m->unsigned_reason = "headers-over-limit";
	if (m->unsigned_reason != NULL) {
		buf_printf(line, " dkim-sign=none reason=%s", m->unsigned_reason);
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
			if (c->dkim.on_sign_error == ACTION_TEMPFAIL) {
				m->result.step = STEP_TEMPFAIL;
				snprintf(m->result.reply.rcode, sizeof(m->result.reply.rcode), "451");
				snprintf(m->result.reply.xcode, sizeof(m->result.reply.xcode), "4.3.0");
				snprintf(m->result.reply.text, sizeof(m->result.reply.text),
				    "cannot sign this message now, try again later");
			}
			return;
		}
		sigs[n_sigs++] = buf_steal(&sig);
		buf_printf(line, "%s%s/%s/%s", i ? "," : "", k->domain, k->selector,
		    dkim_alg_name(k->key->alg));
	}
	/* Inserting each at the top in reverse keeps the configured order. */
	while (n_sigs > 0) {
		n_sigs--;
		session_edit(m, EDIT_INSERT, 0, "DKIM-Signature", sigs[n_sigs]);
	}
}

/* session_log_dkim - dkim results for the log line */
static void
session_log_dkim(struct buf *line, const struct dkim_verdict *v, size_t n, size_t ignored)
{
	if (n == 0)
		buf_puts(line, " dkim=none");
	for (size_t i = 0; i < n; i++)
		buf_printf(line, " dkim=%s header.d=%s header.s=%s",
		    auth_result_name(v[i].result), v[i].domain, v[i].selector);
	if (ignored > 0)
		buf_printf(line, " dkim-ignored=%zu", ignored);
}

/* session_authres - our Authentication-Results value */
static char *
session_authres(const struct session *s, const struct iprev_verdict *iv,
    const struct spf_verdict *sm, const struct spf_verdict *sh,
    const struct dkim_verdict *dv, size_t n_dkim, const struct dmarc_verdict *dm)
{
	const struct conf *c = s->gen->conf;
	struct buf b = BUF_INIT;
	char comment[720];

	buf_putc(&b, ' ');	/* values are kept as written after the colon */
	authres_begin(&b, c->authserv_id);
	if (iv != NULL) {
		authres_method(&b, "iprev", iv->result, iv->name[0] ? iv->name : iv->reason);
		authres_prop(&b, "policy.iprev", iv->addr);
	}
	if (sm != NULL && sm->result != AUTH_SKIPPED) {
		authres_method(&b, "spf", sm->result, sm->reason);
		authres_prop(&b, "smtp.mailfrom", sm->sender);
	}
	if (sh != NULL && sh->result != AUTH_SKIPPED) {
		authres_method(&b, "spf", sh->result, sh->reason);
		authres_prop(&b, "smtp.helo", sh->sender);
	}
	if (c->dkim.verify && n_dkim == 0)
		authres_method(&b, "dkim", AUTH_NONE, NULL);
	for (size_t i = 0; i < n_dkim; i++) {
		if (dv[i].length >= 0)
			snprintf(comment, sizeof(comment), "%s%sl=%lld", dv[i].reason,
			    dv[i].reason[0] ? ", " : "", dv[i].length);
		else
			snprintf(comment, sizeof(comment), "%s", dv[i].reason);
		authres_method(&b, "dkim", dv[i].result, comment[0] ? comment : NULL);
		/* header.d always (RFC 8601 §2.7.1); the others only when known:
		 * a row of empty quoted values helps nobody and trips parsers */
		authres_prop(&b, "header.d", dv[i].domain);
		if (dv[i].identity[0] != '\0')
			authres_prop(&b, "header.i", dv[i].identity);
		if (dv[i].selector[0] != '\0')
			authres_prop(&b, "header.s", dv[i].selector);
		if (dv[i].alg[0] != '\0')
			authres_prop(&b, "header.a", dv[i].alg);
		if (dv[i].b_prefix[0] != '\0')
			authres_prop(&b, "header.b", dv[i].b_prefix);
	}
	if (dm != NULL) {
		/* the policy domain has no registered property (RFC 9989 §9.1): it goes
		 * in the comment; policy.dmarc is the policy after t= */
		bool judged = dm->result == AUTH_PASS || dm->result == AUTH_FAIL;

		if (judged)
			snprintf(comment, sizeof(comment), "%s=%s%s dis=%s policy.domain=%s",
			    dm->tag, dmarc_policy_name(dm->policy), dm->testing ? " t=y" : "",
			    dmarc_policy_name(dm->disposition), dm->record_domain);
		else
			snprintf(comment, sizeof(comment), "%s", dm->reason);
		authres_method(&b, "dmarc", dm->result, comment[0] ? comment : NULL);
		authres_prop(&b, "header.from", dm->from_domain);
		if (judged)
			authres_prop(&b, "policy.dmarc", dmarc_policy_name(dm->applied));
	}
	return buf_steal(&b);
}

/* session_eom_inbound - collect every check, decide, build the headers */
static void
session_eom_inbound(struct session *s, struct buf *line)
{
	const struct conf *c = s->gen->conf;
	struct message *m = &s->msg;
	const struct iprev_verdict *iv = NULL;
	const struct spf_verdict *sm = NULL, *sh = NULL;
	const struct dkim_verdict *dv = NULL;
	size_t n_dkim = 0, ignored = 0;
	struct dmarc_verdict dmv, *dm = NULL;
	struct policy_input in;
	struct decision d;
	char safe[300];

	session_safe(s->helo ? s->helo : "", safe, sizeof(safe));
	buf_printf(line, " helo=%s", safe[0] ? safe : "-");
	if (s->iprev != NULL) {
		iv = iprev_finish(s->iprev);
		buf_printf(line, " iprev=%s", auth_result_name(iv->result));
	} else {
		buf_printf(line, " iprev=skipped");
	}
	if (m->spf != NULL) {
		spf_finish(m->spf, &sm, &sh);
		session_safe(sm->domain, safe, sizeof(safe));
		buf_printf(line, " spf=%s smtp.mailfrom=%s", auth_result_name(sm->result),
		    safe[0] ? safe : "-");
		if (sh != NULL && sh->result != AUTH_SKIPPED)
			buf_printf(line, " spf-helo=%s", auth_result_name(sh->result));
	}
	if (m->dkim != NULL) {
		n_dkim = dkim_verify_finish(m->dkim, &m->headers, &dv, &ignored);
		session_log_dkim(line, dv, n_dkim, ignored);
		if (ignored > 0)
			log_msg(LOG_NOTICE, "%s: %zu DKIM signatures beyond dkim.max_signatures "
			    "ignored", m->queue_id[0] ? m->queue_id : "NOQUEUE", ignored);
	}
	if (m->dmarc != NULL) {
		dmarc_evaluate(m->dmarc, sm, dv, n_dkim, &dmv);
		dm = &dmv;
		buf_printf(line, " dmarc=%s header.from=%s discovery=%s",
		    auth_result_name(dm->result), dm->from_domain,
		    dmarc_discovery_name(c->dmarc.discovery));
		if (dm->record_domain[0] != '\0')
			buf_printf(line, " policy.domain=%s", dm->record_domain);
		if (dm->failed[0] != '\0') {
			session_safe(dm->failed, safe, sizeof(safe));
			buf_printf(line, " dns-failed=%s", safe);
		}
		if (dm->result == AUTH_PASS || dm->result == AUTH_FAIL)
			buf_printf(line, " p=%s%s policy.dmarc=%s", dmarc_policy_name(dm->policy),
			    dm->testing ? " t=y" : "", dmarc_policy_name(dm->applied));
		if (dmarc_lookup_capped(m->dmarc))
			log_msg(LOG_NOTICE, "%s: more than %d DMARC tree walks: the identifiers "
			    "beyond them do not align", m->queue_id[0] ? m->queue_id : "NOQUEUE",
			    DMARC_MAX_WALKS);
	} else if (c->dmarc.enable && m->from_headers != 1) {
		buf_printf(line, " from-headers=%u", m->from_headers);
	} else if (c->dmarc.enable) {
		buf_printf(line, " from=%s", rfc5322_from_status_name(m->from.status));
	}
	if (m->headers.truncated)
		buf_puts(line, " headers=over-limit");

	memset(&in, 0, sizeof(in));
	in.iprev = iv;
	in.spf_mailfrom = sm;
	in.spf_helo = sh;
	in.dmarc = dm;
	in.from_status = m->from.status;
	in.from_headers = m->from_headers;
	in.from_domain = m->from.domain;
	policy_message(c, &in, &d);
	m->result.step = session_reply(&d, &m->result.reply);
	if (d.action == ACTION_QUARANTINE) {
		m->result.quarantine = true;
		snprintf(m->result.quarantine_reason, sizeof(m->result.quarantine_reason),
		    "authmilter: %s", d.text);
	}
	buf_printf(line, " action=%s%s", conf_action_name(d.wanted == ACTION_NONE ?
	    ACTION_ACCEPT : d.wanted), d.action != d.wanted ? " (dry-run)" : "");
	if (d.by != NULL)
		buf_printf(line, " by=%s", d.by);

	if (m->result.step == STEP_CONTINUE) {
		session_delete_forged(s);
		if (c->spf.received_spf && sm != NULL && sm->result != AUTH_SKIPPED) {
			struct buf rs = BUF_INIT;

			buf_putc(&rs, ' ');
			spf_received_header(sm, s->client_addr, s->helo ? s->helo : "",
			    c->authserv_id, &rs);
			session_edit(m, EDIT_INSERT, 0, "Received-SPF", buf_steal(&rs));
		}
		session_edit(m, EDIT_INSERT, 0, "Authentication-Results",
		    session_authres(s, iv, sm, sh, dv, n_dkim, dm));
	}
	if (dm != NULL)
		dmarc_verdict_clear(dm);
}

/* session_eom - the end of a message: sign or judge, and log one line */
const struct eom_result *
session_eom(struct session *s)
{
	struct message *m = &s->msg;
	struct buf line = BUF_INIT;
	char client[400];

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
		    "tempfail" : "accept");
	} else {
		session_eom_inbound(s, &line);
	}
	log_msg(LOG_INFO, "%s", buf_cstr(&line));
	buf_free(&line);
	m->active = false;
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
