/* spf - RFC 7208 SPF verdicts for the MAIL FROM and HELO identities, on libspf2.
 *
 * spf_start            begin a check: one background job (job.c) per identity
 *                      (HELO, MAIL FROM), so a DNS outage costs one timeout, not two
 * spf_finish           join them; the verdicts stay owned by the check
 * spf_free             join if needed and release
 * spf_received_header  a Received-SPF value (RFC 7208 §9.1) for one verdict
 *
 * Each identity builds its own SPF_server_t around its own DNS layer (spf_dns.c),
 * so no libspf2 state is shared between threads; the resolver (dns.c) is the only
 * shared object. We call libspf2's record fetch and interpreter directly instead
 * of SPF_request_query_mailfrom: that one passes every loopback client without a
 * lookup, and hides whether a failure was in DNS or in the record.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>

#include "buf.h"
#include "job.h"
#include "spf.h"
#include "spf_dns.h"
#include "spf_macro.h"
#include "trace.h"
#include "xalloc.h"

#include <spf2/spf_record.h>

_Static_assert(DNS_MAX_NAME_TEXT <= SPF_DOMAIN_MAX,
    "a domain dns_name_ok accepts must fit struct spf_verdict's domain");

/* One check: inputs, the jobs, and the two verdicts. Owned by the caller of
 * spf_start until spf_free. */
struct spf_check {
	struct dns_resolver	*resolver;
	int			 family;	/* AF_INET, AF_INET6 or AF_UNSPEC */
	struct in_addr		 ip4;
	struct in6_addr		 ip6;
	char			*helo;
	char			*mailfrom;
	bool			 check_helo;
	struct spf_job {	/* one identity, evaluated as its own job */
		struct spf_check	*check;
		char			*sender;	/* local@domain to check_host() */
		struct spf_verdict	*verdict;
		struct job		*job;	/* running ahead, until collected */
	} jobs[2];		/* MAIL FROM and HELO, run side by side so a DNS outage
				 * costs one timeout, not one per identity */
	size_t			 n_jobs;
	struct spf_verdict	 v_mailfrom;
	struct spf_verdict	 v_helo;
};

/* spf_copy - bounded copy that always terminates */
static void
spf_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* spf_set_reason - store a reason with nothing a header comment cannot carry */
static void
spf_set_reason(struct spf_verdict *v, const char *why)
{
	size_t i;

	for (i = 0; why[i] != '\0' && i + 1 < sizeof(v->reason); i++) {
		unsigned char c = (unsigned char)why[i];

		if (c < 0x20 || c >= 0x7f || strchr(";()\\\"", c) != NULL)
			c = ' ';
		v->reason[i] = (char)c;
	}
	v->reason[i] = '\0';
}

/* spf_verdict_set - fill result and reason */
static void
spf_verdict_set(struct spf_verdict *v, enum auth_result r, const char *why)
{
	v->result = r;
	spf_set_reason(v, why);
}

/* spf_map_result - libspf2's result to ours */
static enum auth_result
spf_map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return AUTH_PASS;
	case SPF_RESULT_FAIL:		return AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL:	return AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return AUTH_NEUTRAL;
	case SPF_RESULT_NONE:		return AUTH_NONE;
	case SPF_RESULT_TEMPERROR:	return AUTH_TEMPERROR;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default:			return AUTH_PERMERROR;
	}
}

/* spf_reason_text - a short reason for a verdict libspf2 reached */
static const char *
spf_reason_text(enum auth_result r, SPF_errcode_t err)
{
	switch (r) {
	case AUTH_PASS:		return "sender is authorized";
	case AUTH_FAIL:		return "sender is not authorized";
	case AUTH_SOFTFAIL:	return "sender is probably not authorized";
	case AUTH_NEUTRAL:	return "sender is neither authorized nor denied";
	case AUTH_NONE:		return "no SPF record";
	case AUTH_TEMPERROR:	return "temporary DNS failure";
	default:
		break;
	}
	switch (err) {
	case SPF_E_MULTIPLE_RECORDS:	return "more than one SPF record";
	case SPF_E_BIG_DNS:		return "too many DNS lookups";
	case SPF_E_RECURSIVE:		return "include or redirect loop";
	case SPF_E_INCLUDE_RETURNED_NONE: return "included domain has no SPF record";
	case SPF_E_NOT_SPF:		return "redirect or include target has no SPF record";
	default:			return "invalid SPF record";
	}
}

/* spf_validated_name - %{p} (RFC 7208 §7.3): a PTR name of the client whose
 * A/AAAA holds its address, preferring domain or a subdomain of it; NULL when
 * none ("unknown"). At most SPF_DNS_MAX_PTR names are tried. */
static char *
spf_validated_name(struct spf_check *c, const char *domain)
{
	const unsigned char *ip = c->family == AF_INET ?
	    (const unsigned char *)&c->ip4 : (const unsigned char *)&c->ip6;
	size_t alen = c->family == AF_INET ? 4 : 16, dl = strlen(domain);
	struct buf rev = BUF_INIT;
	char *best = NULL;
	bool best_in_domain = false;

	for (size_t i = alen; i-- > 0;) {
		if (c->family == AF_INET)
			buf_printf(&rev, "%u.", ip[i]);
		else
			buf_printf(&rev, "%x.%x.", ip[i] & 15, ip[i] >> 4);
	}
	buf_puts(&rev, c->family == AF_INET ? "in-addr.arpa" : "ip6.arpa");
	struct dns_query *pq = dns_query_start(c->resolver, buf_cstr(&rev), DNS_T_PTR);
	const struct dns_answer *pa = dns_query_wait(pq);
	buf_free(&rev);
	for (size_t i = 0; pa->status == DNS_OK && i < pa->count &&
	    i < SPF_DNS_MAX_PTR && !best_in_domain; i++) {
		const char *name = pa->rr[i].name;
		if (name == NULL)
			continue;
		struct dns_query *q = dns_query_start(c->resolver, name,
		    c->family == AF_INET ? DNS_T_A : DNS_T_AAAA);
		const struct dns_answer *a = dns_query_wait(q);
		bool ok = false;
		for (size_t k = 0; a->status == DNS_OK && k < a->count; k++)
			ok |= a->rr[k].family == c->family &&
			    memcmp(a->rr[k].addr, ip, alen) == 0;
		dns_query_free(q);
		if (!ok)
			continue;
		size_t nl = strlen(name);
		bool in_domain = (nl == dl && strcasecmp(name, domain) == 0) ||
		    (nl > dl && name[nl - dl - 1] == '.' &&
		    strcasecmp(name + nl - dl, domain) == 0);
		if (best == NULL || in_domain) {
			free(best);
			best = xstrdup(name);
			best_in_domain = in_domain;
		}
	}
	dns_query_free(pq);
	return best;
}

/* spf_explain - RFC 7208 §6.2 for a fail: the exp= libspf2 chose, its
 * domain-spec expanded by spf_macro, one TXT lookup, exactly one record,
 * expanded again as explain-string. Any failure leaves no explanation. */
static void
spf_explain(struct spf_check *c, SPF_dns_server_t *layer, const char *marker,
    const char *sender, struct spf_verdict *v)
{
	const char *domain, *spec;
	char name[SPF_MACRO_MAX_NAME + 1];
	struct spf_macro_env env = {
		.sender = sender, .helo = c->helo, .family = c->family,
		.addr = c->family == AF_INET ? (const unsigned char *)&c->ip4 :
		    (const unsigned char *)&c->ip6,
		.receiver = NULL, .now = (long long)time(NULL),
	};
	char *ptr = NULL;

	v->explanation[0] = '\0';
	if (!spf_dns_explanation(layer, marker, &domain, &spec))
		return;
	env.domain = domain;
	if (spf_macro_uses(spec, strlen(spec), 'p'))
		env.ptr = ptr = spf_validated_name(c, domain);
	bool ok = spf_macro_expand(spec, strlen(spec), SPF_MACRO_DOMAIN, &env, name,
	    sizeof(name));
	const char *qname = ok ? spf_dns_truncate_name(name) : NULL;
	if (qname == NULL || !dns_name_ok(qname, DNS_NAME_MACRO)) {
		free(ptr);
		return;
	}
	struct dns_query *q = dns_query_start_flags(c->resolver, qname, DNS_T_TXT,
	    DNS_NAME_MACRO);
	const struct dns_answer *a = dns_query_wait(q);
	size_t n_txt = 0;
	const struct dns_rr *rr = NULL;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (a->rr[i].txt != NULL) {
			n_txt++;
			rr = &a->rr[i];
		}
	if (n_txt == 1 && memchr(rr->txt, '\0', rr->txt_len) == NULL) {
		if (ptr == NULL && spf_macro_uses(rr->txt, rr->txt_len, 'p'))
			env.ptr = ptr = spf_validated_name(c, domain);
		spf_macro_expand(rr->txt, rr->txt_len, SPF_MACRO_EXPLAIN, &env,
		    v->explanation, sizeof(v->explanation));
	}
	dns_query_free(q);
	free(ptr);
}

/* spf_evaluate - one check_host() for sender (local@domain) into v */
static void
spf_evaluate(struct spf_check *c, SPF_server_t *srv, const char *sender,
    struct spf_verdict *v)
{
	SPF_request_t *req;
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;
	const char *at = strrchr(sender, '@');
	const char *domain = at != NULL ? at + 1 : sender;
	const char *why;
	enum auth_result r;

	if (!dns_name_ok(domain, DNS_NAME_FQDN)) {
		spf_verdict_set(v, AUTH_NONE, "not a fully qualified domain");
		return;
	}
	spf_copy(v->domain, sizeof(v->domain), domain);	/* fits: dns_name_ok */
	if (c->family != AF_INET && c->family != AF_INET6) {
		spf_verdict_set(v, AUTH_NONE, "no client IP address");
		return;
	}

	req = SPF_request_new(srv);
	if (req == NULL) {
		spf_verdict_set(v, AUTH_TEMPERROR, "out of memory");
		return;
	}
	if (c->family == AF_INET)
		err = SPF_request_set_ipv4(req, c->ip4);
	else
		err = SPF_request_set_ipv6(req, c->ip6);
	if (err == SPF_E_SUCCESS)
		err = SPF_request_set_helo_dom(req, c->helo);
	if (err == SPF_E_SUCCESS &&
	    SPF_request_set_env_from(req, sender) != SPF_E_SUCCESS)
		err = SPF_E_NO_MEMORY;
	resp = err == SPF_E_SUCCESS ? SPF_response_new(req) : NULL;
	if (resp == NULL) {
		SPF_request_free(req);
		spf_verdict_set(v, AUTH_TEMPERROR, "out of memory");
		return;
	}

	spf_dns_begin(srv->resolver);
	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(srv, req, resp, &rec);
	if (err == SPF_E_SUCCESS && rec != NULL) {
		resp->spf_record_exp = rec;
		err = SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
		SPF_record_free(rec);
		r = spf_map_result(SPF_response_result(resp));
	} else if (err == SPF_E_DNS_ERROR)
		r = AUTH_TEMPERROR;
	else if (SPF_response_result(resp) == SPF_RESULT_NONE)
		r = AUTH_NONE;
	else
		r = AUTH_PERMERROR;

	/* A broken limit or a refused record wins over whatever libspf2 made of
	 * the temporary failures our layer answered with afterwards. */
	if (spf_dns_refused(srv->resolver, &why))
		spf_verdict_set(v, AUTH_PERMERROR, why);
	else if (r == AUTH_TEMPERROR && !spf_dns_tempfail(srv->resolver))
		spf_verdict_set(v, AUTH_TEMPERROR, "temporary error");
	else
		spf_verdict_set(v, r, spf_reason_text(r,
		    SPF_response_errcode(resp) != SPF_E_SUCCESS ?
		    SPF_response_errcode(resp) : err));
	spf_dns_counts(srv->resolver, &v->lookups, &v->void_lookups);
	if (v->result == AUTH_FAIL)
		spf_explain(c, srv->resolver, SPF_response_get_explanation(resp), sender, v);
	SPF_response_free(resp);
	SPF_request_free(req);
}

/* spf_run - one identity on its own libspf2 server and DNS layer (a job) */
static void
spf_run(void *arg)
{
	struct spf_job *j = arg;
	SPF_server_t *srv;
	SPF_dns_server_t *layer;

	/* SPF_server_new_dns does not take the layer over: SPF_server_free frees
	 * only a resolver libspf2 made itself, so the layer is freed here */
	layer = spf_dns_new(j->check->resolver);
	srv = SPF_server_new_dns(layer, 0);
	if (srv == NULL) {
		SPF_dns_free(layer);
		spf_verdict_set(j->verdict, AUTH_TEMPERROR, "out of memory");
		return;
	}
	/* No explanation is ever expanded: the default one holds macros. */
	if (srv->explanation != NULL) {
		SPF_macro_free(srv->explanation);
		srv->explanation = NULL;
	}
	spf_evaluate(j->check, srv, j->sender, j->verdict);
	TRACE("spf", "%s %s: %s (%s%s%s); %u DNS-querying terms of %d, %u void lookups "
	    "of %d", j->verdict->identity, j->sender, auth_result_name(j->verdict->result),
	    j->verdict->reason, j->verdict->domain[0] ? ", domain " : "",
	    j->verdict->domain, j->verdict->lookups, SPF_DNS_MAX_TERMS,
	    j->verdict->void_lookups, SPF_DNS_MAX_VOID);
	SPF_server_free(srv);
	SPF_dns_free(layer);
}

/* spf_add_job - queue one identity's evaluation */
static void
spf_add_job(struct spf_check *c, struct buf *sender, struct spf_verdict *v)
{
	struct spf_job *j = &c->jobs[c->n_jobs++];

	j->check = c;
	j->sender = buf_steal(sender);
	j->verdict = v;
	v->sender = j->sender;
}

/* spf_start - begin checking */
struct spf_check *
spf_start(struct dns_resolver *r, const struct sockaddr *client, const char *helo,
    const char *mailfrom, bool check_helo)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));

	c->resolver = r;
	c->family = AF_UNSPEC;
	if (client != NULL && client->sa_family == AF_INET) {
		c->family = AF_INET;
		c->ip4 = ((const struct sockaddr_in *)(const void *)client)->sin_addr;
	} else if (client != NULL && client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)(const void *)client;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			c->family = AF_INET;
			memcpy(&c->ip4, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			c->family = AF_INET6;
			c->ip6 = s6->sin6_addr;
		}
	}
	c->helo = xstrdup(helo != NULL ? helo : "");
	c->mailfrom = xstrdup(mailfrom != NULL ? mailfrom : "");
	c->check_helo = check_helo;

	c->v_helo.sender = c->helo;	/* MAIL FROM's is set by spf_add_job */
	spf_copy(c->v_mailfrom.identity, sizeof(c->v_mailfrom.identity), "mailfrom");
	spf_copy(c->v_helo.identity, sizeof(c->v_helo.identity), "helo");
	c->v_mailfrom.result = AUTH_SKIPPED;
	c->v_helo.result = AUTH_SKIPPED;
	spf_set_reason(&c->v_helo, "not checked");

	struct buf sender = BUF_INIT;

	if (c->check_helo) {
		if (!dns_name_ok(c->helo, DNS_NAME_FQDN)) {
			spf_verdict_set(&c->v_helo, AUTH_NONE,
			    "HELO is not a fully qualified domain");
		} else {
			buf_printf(&sender, "postmaster@%s", c->helo);
			spf_add_job(c, &sender, &c->v_helo);
			/* the HELO identity checked is the HELO name itself (§2.3) */
			c->v_helo.sender = c->helo;
		}
	}
	if (c->mailfrom[0] == '\0')
		buf_printf(&sender, "postmaster@%s", c->helo);	/* §2.4 */
	else if (strchr(c->mailfrom, '@') == NULL || c->mailfrom[0] == '@')
		buf_printf(&sender, "postmaster@%s",
		    c->mailfrom + (c->mailfrom[0] == '@'));
	else
		buf_puts(&sender, c->mailfrom);
	spf_add_job(c, &sender, &c->v_mailfrom);

	for (size_t i = 0; i < c->n_jobs; i++)
		c->jobs[i].job = job_start(spf_run, &c->jobs[i]);
	return c;
}

/* spf_join - wait for every job (again: a no-op) */
static void
spf_join(struct spf_check *c)
{
	for (size_t i = 0; i < c->n_jobs; i++) {
		job_wait(c->jobs[i].job);
		c->jobs[i].job = NULL;
	}
}

/* spf_finish - wait and return the verdicts (owned by c) */
void
spf_finish(struct spf_check *c, const struct spf_verdict **mailfrom,
    const struct spf_verdict **helo)
{
	spf_join(c);
	if (mailfrom != NULL)
		*mailfrom = &c->v_mailfrom;
	if (helo != NULL)
		*helo = &c->v_helo;
}

/* spf_free - join if needed and release */
void
spf_free(struct spf_check *c)
{
	if (c == NULL)
		return;
	spf_join(c);
	for (size_t i = 0; i < c->n_jobs; i++)
		free(c->jobs[i].sender);
	free(c->helo);
	free(c->mailfrom);
	free(c);
}

/* spf_put_comment_text - text for inside a header comment: printable ASCII
 * only, no parentheses or backslash, so the comment cannot be closed early */
static void
spf_put_comment_text(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || strchr("()\\;", c) != NULL)
			c = '?';
		buf_putc(out, c);
	}
}

/* spf_is_dot_atom - RFC 5322 dot-atom text: atext runs separated by dots */
static bool
spf_is_dot_atom(const char *s)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";
	bool prev_dot = true;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
		} else if (isalnum(c) || strchr(specials, c) != NULL) {
			prev_dot = false;
		} else
			return false;
	}
	return !prev_dot;
}

/* spf_put_value - a key-value-pair value: dot-atom as is, else a quoted
 * string with '"' and '\' escaped and every other unsafe byte dropped */
static void
spf_put_value(struct buf *out, const char *s, bool always_quote)
{
	if (!always_quote && spf_is_dot_atom(s)) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			continue;
		if (c == '"' || c == '\\')
			buf_putc(out, '\\');
		buf_putc(out, c);
	}
	buf_putc(out, '"');
}

/* spf_received_header - the value of a Received-SPF header for v */
void
spf_received_header(const struct spf_verdict *v, const char *client_ip,
    const char *helo, const char *receiver, struct buf *out)
{
	const char *ip = client_ip != NULL ? client_ip : "";
	const char *rcv = receiver != NULL && *receiver != '\0' ? receiver :
	    "localhost";
	const char *who = v->sender;

	if (v->result == AUTH_SKIPPED)
		return;
	buf_puts(out, auth_result_name(v->result));
	buf_puts(out, " (");
	spf_put_comment_text(out, rcv);
	buf_puts(out, ": ");
	switch (v->result) {
	case AUTH_PASS:
		buf_puts(out, "domain of ");
		spf_put_comment_text(out, who);
		buf_puts(out, " designates ");
		spf_put_comment_text(out, ip);
		buf_puts(out, " as permitted sender");
		break;
	case AUTH_FAIL:
	case AUTH_SOFTFAIL:
		buf_puts(out, "domain of ");
		spf_put_comment_text(out, who);
		buf_puts(out, " does not designate ");
		spf_put_comment_text(out, ip);
		buf_puts(out, " as permitted sender");
		break;
	case AUTH_NEUTRAL:
		spf_put_comment_text(out, ip);
		buf_puts(out, " is neither permitted nor denied by domain of ");
		spf_put_comment_text(out, who);
		break;
	case AUTH_NONE:
		buf_puts(out, "domain of ");
		spf_put_comment_text(out, who);
		buf_puts(out, " does not provide an SPF record");
		break;
	default:
		buf_puts(out, "error in processing during lookup of ");
		spf_put_comment_text(out, who);
		buf_puts(out, ": ");
		spf_put_comment_text(out, v->reason);
		break;
	}
	buf_puts(out, ") client-ip=");
	spf_put_value(out, ip, false);
	buf_puts(out, "; envelope-from=");
	spf_put_value(out, v->sender, true);
	buf_puts(out, "; helo=");
	spf_put_value(out, helo != NULL ? helo : "", false);
	buf_puts(out, "; receiver=");
	spf_put_value(out, rcv, false);
	buf_puts(out, "; identity=");
	buf_puts(out, v->identity);
	buf_putc(out, ';');
}
