/* spf_dns - a libspf2 DNS layer over dns.c that enforces RFC 7208 limits and
 * screens hostile SPF records before libspf2 compiles or expands them.
 *
 * spf_dns_new       a layer for one check (freed with its SPF_server_t)
 * spf_dns_begin     reset the per-evaluation counters, start its deadline
 * spf_dns_refused   did the evaluation break a limit or meet a refused record
 * spf_dns_tempfail  did a lookup fail temporarily
 * spf_dns_counts    the lookups and void lookups an evaluation used
 * spf_dns_truncate_name  the §7.3 name rule (pure)
 *
 * libspf2 asks through two hooks: lookup (A, AAAA, MX, PTR) and get_spf (fetch,
 * select and compile the record of a domain: the first call of an evaluation is
 * the checked domain, every later one is an include: or redirect=). Everything the
 * layer returns is allocated with malloc for libspf2, which frees it.
 *
 * What libspf2 1.2.10 does not do and this layer does (RFC 7208 §4.6.4):
 *   - at most SPF_DNS_MAX_TERMS DNS-querying terms per evaluation in total
 *     (libspf2 counts per record, so includes reset its count);
 *   - at most SPF_DNS_MAX_VOID void lookups (NXDOMAIN or no data);
 *   - more than SPF_DNS_MAX_MX names from one MX lookup is permerror before any of
 *     them is looked up (libspf2 looks up ten first and may pass on one);
 *   - PTR answers beyond SPF_DNS_MAX_PTR names are dropped (libspf2 permerrors);
 *   - §7.3: names longer than 253 bytes lose left labels before the lookup;
 *   - one deadline for the whole evaluation (§4.6.4 asks for one, "at least 20
 *     seconds" is its example; ours is SPF_DNS_DEADLINE_TIMEOUTS x dns.timeout).
 * A term that queries DNS is recognised by its lookup: a lookup that is not one
 * of the address lookups for the names of the MX or PTR answer just given is a
 * new term. (A %{p} macro therefore costs one term of its own.)
 *
 * Every v=spf1 record passes spf_record.c's screen first (spf_record_rewrite),
 * which refuses what could reach libspf2 1.2.10's macro bugs and rewrites the
 * record libspf2 is to compile.
 *
 * And no record's exp= (nor libspf2's own exp-text=) is ever expanded by libspf2:
 * exp= is checked by our screen, kept aside (domain and domain-spec), and replaced
 * in the record libspf2 evaluates by a constant marker, "exp=N" SPF_DNS_EXP_MARK.
 * libspf2 decides which record's exp= applies to a fail (RFC 7208 §6.2: the
 * record of the current domain, a redirect= target's replacing it, an include:'s
 * never used) and asks our get_exp hook for the marker, which it keeps as its
 * "explanation". spf_dns_explanation maps it back; spf.c fetches and expands the
 * text with spf_macro.c. Neither the domain-spec nor the TXT reaches libspf2.
 */
#include "config.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dns.h"
#include "fatal.h"
#include "spf_dns.h"
#include "spf_record.h"
#include "trace.h"
#include "xalloc.h"

#include <spf2/spf_dns_rr.h>

/* The TTL we report to libspf2; it has no cache of its own here. */
#define SPF_DNS_TTL	0

/* The marker that stands for a record's exp= in what libspf2 compiles: "N"
 * then this, N the record's slot; ".invalid" cannot exist (RFC 6761). */
#define SPF_DNS_EXP_MARK	".exp.authmilter.invalid"
#define SPF_DNS_MAX_EXPS	(SPF_DNS_MAX_TERMS + 1)	/* records one evaluation
							 * fetches: the first and
							 * one per include/redirect */

/* One evaluation may take this many dns.timeout periods in all. Its lookups run
 * one after another (each needs the one before), so without a deadline of its own
 * a slow DNS that answers just inside dns.timeout holds the thread for every
 * lookup in turn: 10 terms, an MX term 11 lookups each, minutes in all. Once it
 * passes, every further lookup is a temporary failure: spf=temperror. */
#define SPF_DNS_DEADLINE_TIMEOUTS	2

/* Per-evaluation state of one layer; reset by spf_dns_begin. One thread only. */
struct spf_dns_state {
	/* the exp= of each fetched record that has one: its domain (the current
	 * domain, %{d}) and its domain-spec as written */
	struct {
		char	*domain;
		char	*spec;
	}		 exps[SPF_DNS_MAX_EXPS];
	size_t		 n_exps;
	struct dns_resolver *resolver;
	unsigned	 terms;		/* DNS-querying terms so far */
	unsigned	 voids;		/* void lookups so far */
	unsigned	 fetches;	/* get_spf calls so far */
	bool		 tempfail;	/* some lookup failed temporarily */
	struct timespec	 deadline;	/* CLOCK_MONOTONIC end of the evaluation */
	const char	*refused;	/* non-NULL: why the evaluation is permerror */
	/* names of the last MX/PTR answer whose address lookups are still due */
	char		*pending[SPF_DNS_MAX_MX];
	size_t		 n_pending;
	size_t		 next_pending;
	bool		 pending_ptr;	/* they came from a PTR answer */
	bool		 zero4, zero6;	/* the current term has a /0 CIDR */
};

/* spf_dns_expired - is the evaluation's deadline past (a temporary failure) */
static bool
spf_dns_expired(struct spf_dns_state *st)
{
	if (!dns_deadline_passed(&st->deadline))
		return false;
	st->tempfail = true;
	return true;
}

/* spf_dns_clear_pending - forget the names of the last MX/PTR answer */
static void
spf_dns_clear_pending(struct spf_dns_state *st)
{
	for (size_t i = 0; i < st->n_pending; i++) {
		free(st->pending[i]);
		st->pending[i] = NULL;
	}
	st->n_pending = 0;
	st->next_pending = 0;
}

/* spf_dns_clear_exps - forget the exp= of the records fetched so far */
static void
spf_dns_clear_exps(struct spf_dns_state *st)
{
	for (size_t i = 0; i < st->n_exps; i++) {
		free(st->exps[i].domain);
		free(st->exps[i].spec);
	}
	st->n_exps = 0;
}

/* spf_dns_refuse - mark the evaluation permerror; the first reason stays */
static void
spf_dns_refuse(struct spf_dns_state *st, const char *why)
{
	if (st->refused == NULL) {
		st->refused = why;
		TRACE("spf", "permerror: %s", why);
	}
}

/* spf_dns_same_name - case-insensitive name equality, ignoring a final dot */
static bool
spf_dns_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* spf_dns_truncate_name - drop left labels until the name fits (RFC 7208 §7.3) */
const char *
spf_dns_truncate_name(const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	while (len > SPF_DNS_MAX_NAME) {
		const char *dot = memchr(name, '.', len);

		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	return name;
}

/* spf_dns_rr_status - an empty libspf2 answer with herrno, NULL on no memory */
static SPF_dns_rr_t *
spf_dns_rr_status(SPF_dns_server_t *layer, const char *domain, ns_type type,
    SPF_dns_stat_t herrno)
{
	return SPF_dns_rr_new_init(layer, domain, type, SPF_DNS_TTL, herrno);
}

/* spf_dns_fill - copy the records of a into a libspf2 answer; false: no memory */
static bool
spf_dns_fill(SPF_dns_rr_t *out, const struct dns_answer *a, ns_type type)
{
	int n = 0;
	size_t limit = a->count;

	if (type == ns_t_ptr && limit > SPF_DNS_MAX_PTR)
		limit = SPF_DNS_MAX_PTR;	/* §4.6.4: ignore the rest */
	for (size_t i = 0; i < limit; i++) {
		const struct dns_rr *rr = &a->rr[i];
		size_t need;

		switch (type) {
		case ns_t_a:
			if (rr->family != AF_INET)
				continue;
			if (SPF_dns_rr_buf_realloc(out, n, sizeof(struct in_addr)))
				return false;
			memcpy(&out->rr[n]->a, rr->addr, sizeof(struct in_addr));
			break;
		case ns_t_aaaa:
			if (rr->family != AF_INET6)
				continue;
			if (SPF_dns_rr_buf_realloc(out, n, sizeof(struct in6_addr)))
				return false;
			memcpy(&out->rr[n]->aaaa, rr->addr, sizeof(struct in6_addr));
			break;
		case ns_t_mx:
		case ns_t_ptr:
			if (rr->name == NULL)
				continue;
			need = strlen(rr->name) + 1;
			if (SPF_dns_rr_buf_realloc(out, n, need))
				return false;
			memcpy(out->rr[n]->mx, rr->name, need);
			break;
		case ns_t_txt:
			if (rr->txt == NULL)
				continue;
			need = strlen(rr->txt) + 1;	/* libspf2 reads C strings */
			if (SPF_dns_rr_buf_realloc(out, n, need))
				return false;
			memcpy(out->rr[n]->txt, rr->txt, need);
			break;
		default:
			continue;
		}
		n++;
	}
	out->num_rr = n;
	return true;
}

/* spf_dns_count_term - one more DNS-querying term; false when over the limit */
static bool
spf_dns_count_term(struct spf_dns_state *st)
{
	if (++st->terms > SPF_DNS_MAX_TERMS) {
		spf_dns_refuse(st, "more than 10 DNS-querying terms");
		return false;
	}
	return true;
}

/* spf_dns_count_void - one more void lookup; false when over the limit */
static bool
spf_dns_count_void(struct spf_dns_state *st)
{
	if (++st->voids > SPF_DNS_MAX_VOID) {
		spf_dns_refuse(st, "more than 2 void DNS lookups");
		return false;
	}
	return true;
}

/* spf_dns_unmark - name without a zero-CIDR suffix (setting zero4/zero6),
 * copied to plain; NULL when it does not fit */
static const char *
spf_dns_unmark(struct spf_dns_state *st, const char *domain, char *plain,
    size_t size)
{
	static const struct { const char *sfx; bool z4, z6; } marks[] = {
		{ SPF_RECORD_ZERO46, true, true },
		{ SPF_RECORD_ZERO4, true, false },
		{ SPF_RECORD_ZERO6, false, true },
	};
	size_t len = strlen(domain);

	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		size_t n = strlen(marks[i].sfx);

		if (len > n && strncasecmp(domain + len - n, marks[i].sfx, n) == 0) {
			len -= n;
			st->zero4 = marks[i].z4;
			st->zero6 = marks[i].z6;
			break;
		}
	}
	if (len >= size)
		return NULL;
	memcpy(plain, domain, len);
	plain[len] = '\0';
	return plain;
}

/* spf_dns_halves - for a /0 CIDR: an answer with one address in each half of
 * the address space, which the /1 libspf2 was given then matches */
static SPF_dns_rr_t *
spf_dns_halves(SPF_dns_rr_t *rr, ns_type type)
{
	rr->num_rr = 0;
	for (int i = 0; i < 2; i++) {
		if (SPF_dns_rr_buf_realloc(rr, i, sizeof(SPF_dns_rr_data_t))) {
			SPF_dns_rr_free(rr);
			return NULL;
		}
		if (type == ns_t_a) {
			memset(&rr->rr[i]->a, 0, sizeof(struct in_addr));
			((unsigned char *)&rr->rr[i]->a)[0] = i ? 0x80 : 0;
			((unsigned char *)&rr->rr[i]->a)[3] = 1;
		} else {
			memset(&rr->rr[i]->aaaa, 0, sizeof(struct in6_addr));
			rr->rr[i]->aaaa.s6_addr[0] = i ? 0x80 : 0;
			rr->rr[i]->aaaa.s6_addr[15] = 1;
		}
	}
	rr->num_rr = 2;
	return rr;
}

/* spf_dns_records - libspf2's form of an answer with records: over SPF_DNS_MAX_MX
 * MX names refuses the evaluation, a /0 lookup gets the two halves, and the
 * names of an MX or PTR answer wait for their address lookups (one term). NULL
 * when libspf2's allocator fails. */
static SPF_dns_rr_t *
spf_dns_records(SPF_dns_server_t *layer, const char *domain, ns_type type,
    const struct dns_answer *a)
{
	struct spf_dns_state *st = layer->hook;
	SPF_dns_rr_t *out;

	if (type == ns_t_mx && a->count > SPF_DNS_MAX_MX) {
		spf_dns_refuse(st, "more than 10 MX names");
		return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
	}
	out = spf_dns_rr_status(layer, domain, type, NETDB_SUCCESS);
	if (out != NULL && !spf_dns_fill(out, a, type)) {
		SPF_dns_rr_free(out);
		out = NULL;
	}
	if (out != NULL && out->num_rr == 0)
		out->herrno = NO_DATA;
	if (out != NULL && out->num_rr > 0 &&
	    ((type == ns_t_a && st->zero4) || (type == ns_t_aaaa && st->zero6)))
		out = spf_dns_halves(out, type);
	if (out != NULL && (type == ns_t_mx || type == ns_t_ptr)) {
		st->pending_ptr = type == ns_t_ptr;
		for (int i = 0; i < out->num_rr && st->n_pending < SPF_DNS_MAX_MX; i++)
			st->pending[st->n_pending++] = xstrdup(out->rr[i]->mx);
	}
	return out;
}

/* spf_dns_lookup - libspf2's lookup hook: A, AAAA, MX, PTR (and TXT) */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_dns_state *st = layer->hook;
	struct dns_query *q;
	const struct dns_answer *a;
	SPF_dns_rr_t *out;
	const char *name;
	char plain[SPF_DNS_MAX_NAME * 4 + 2];
	int rrtype;
	bool sub = false;

	(void)should_cache;
	if (domain == NULL)
		domain = "";
	if (st->refused != NULL || spf_dns_expired(st))
		return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);

	switch (type) {
	case ns_t_a:	rrtype = DNS_T_A; break;
	case ns_t_aaaa:	rrtype = DNS_T_AAAA; break;
	case ns_t_mx:	rrtype = DNS_T_MX; break;
	case ns_t_ptr:	rrtype = DNS_T_PTR; break;
	case ns_t_txt:	rrtype = DNS_T_TXT; break;
	default:
		/* the deprecated SPF type and anything else: never asked */
		return spf_dns_rr_status(layer, domain, type, NO_DATA);
	}

	/* Address lookups for the names of the last MX/PTR answer belong to that
	 * term; any other lookup starts a new term. */
	if ((type == ns_t_a || type == ns_t_aaaa) &&
	    st->next_pending < st->n_pending &&
	    spf_dns_same_name(domain, st->pending[st->next_pending])) {
		st->next_pending++;
		sub = true;
	} else {
		spf_dns_clear_pending(st);
		st->zero4 = st->zero6 = false;
		if (!spf_dns_count_term(st))
			return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
	}

	name = spf_dns_unmark(st, domain, plain, sizeof(plain));
	if (name == NULL)
		return spf_dns_rr_status(layer, domain, type, HOST_NOT_FOUND);
	name = spf_dns_truncate_name(name);
	if (!dns_name_ok(name, DNS_NAME_MACRO)) {
		if (!sub && !spf_dns_count_void(st))
			return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
		return spf_dns_rr_status(layer, domain, type, HOST_NOT_FOUND);
	}
	TRACE("spf", "%s lookup for a term: %s (terms %u of %d so far, void %u of %d)",
	    sub ? "address of an MX/PTR name" : "DNS", name, st->terms, SPF_DNS_MAX_TERMS,
	    st->voids, SPF_DNS_MAX_VOID);

	q = dns_query_start_flags(st->resolver, name, rrtype, DNS_NAME_MACRO);
	a = dns_query_wait_until(q, &st->deadline);
	switch (a->status) {
	case DNS_TEMPFAIL:
		if (sub && st->pending_ptr && !spf_dns_expired(st)) {
			/* §5.5: a failing address lookup of a PTR name skips it */
			out = spf_dns_rr_status(layer, domain, type, HOST_NOT_FOUND);
			break;
		}
		st->tempfail = true;
		out = spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		if (!sub && !spf_dns_count_void(st)) {
			out = spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
			break;
		}
		out = spf_dns_rr_status(layer, domain, type,
		    a->status == DNS_NXDOMAIN ? HOST_NOT_FOUND : NO_DATA);
		break;
	case DNS_OK:
	default:
		out = spf_dns_records(layer, domain, type, a);
		break;
	}
	dns_query_free(q);
	if (out == NULL)	/* out of memory inside libspf2's allocator */
		out = spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
	if (out == NULL) {
		/* libspf2 dereferences the answer; it cannot take NULL */
		fatal_exit("out of memory in libspf2's allocator");
	}
	return out;
}

/* spf_dns_set - record a final verdict for the domain being fetched */
static SPF_errcode_t
spf_dns_set(SPF_response_t *resp, SPF_result_t result, SPF_errcode_t err)
{
	resp->result = result;
	resp->reason = SPF_REASON_FAILURE;
	resp->err = err;
	return err;
}

/* spf_dns_exp_slot - the slot N of a marker "N" SPF_DNS_EXP_MARK, -1 if none */
static int
spf_dns_exp_slot(const char *marker)
{
	size_t ml = sizeof(SPF_DNS_EXP_MARK) - 1, len = strlen(marker);

	if (len != ml + 1 && len != ml + 2)
		return -1;
	if (strcmp(marker + len - ml, SPF_DNS_EXP_MARK) != 0)
		return -1;
	int n = 0;
	for (size_t i = 0; i < len - ml; i++) {
		if (!isdigit((unsigned char)marker[i]))
			return -1;
		n = n * 10 + (marker[i] - '0');
	}
	return n < SPF_DNS_MAX_EXPS ? n : -1;
}

/* spf_dns_keep_exp - set a record's exp= aside and put its marker into the
 * text libspf2 compiles; beyond SPF_DNS_MAX_EXPS records, no explanation */
static void
spf_dns_keep_exp(struct spf_dns_state *st, const char *domain, const char *exp,
    size_t exp_len, struct buf *text)
{
	if (exp == NULL || st->n_exps == SPF_DNS_MAX_EXPS)
		return;
	st->exps[st->n_exps].domain = xstrdup(domain);
	st->exps[st->n_exps].spec = xstrndup(exp, exp_len);
	buf_printf(text, " exp=%zu%s", st->n_exps, SPF_DNS_EXP_MARK);
	st->n_exps++;
}

/* spf_dns_explanation - the domain and exp= domain-spec a marker stands for */
bool
spf_dns_explanation(const SPF_dns_server_t *layer, const char *marker,
    const char **domain, const char **spec)
{
	const struct spf_dns_state *st = layer->hook;
	int n = marker != NULL ? spf_dns_exp_slot(marker) : -1;

	if (n < 0 || (size_t)n >= st->n_exps)
		return false;
	*domain = st->exps[n].domain;
	*spec = st->exps[n].spec;
	return true;
}

/* spf_dns_get_spf - libspf2's get_spf hook: fetch, select, screen and compile
 * the record of spf_request->cur_dom */
static SPF_errcode_t
spf_dns_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
    SPF_record_t **recp)
{
	SPF_dns_server_t *layer = server->resolver;
	struct spf_dns_state *st = layer->hook;
	const char *domain = req->cur_dom, *why, *name;
	const struct dns_answer *a;
	struct dns_query *q;
	const char *found = NULL, *exp;
	struct buf text = BUF_INIT;
	size_t n_found = 0, found_len = 0, exp_len;
	SPF_errcode_t err;
	bool top;

	*recp = NULL;
	if (st->refused != NULL || spf_dns_expired(st))
		return spf_dns_set(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR);
	top = st->fetches++ == 0;
	spf_dns_clear_pending(st);
	if (!top && !spf_dns_count_term(st))
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS);
	if (domain == NULL)
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_NOT_CONFIG);

	name = spf_dns_truncate_name(domain);
	if (!dns_name_ok(name, DNS_NAME_MACRO)) {
		if (!top && !spf_dns_count_void(st))
			return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS);
		return spf_dns_set(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	}

	q = dns_query_start_flags(st->resolver, name, DNS_T_TXT, DNS_NAME_MACRO);
	a = dns_query_wait_until(q, &st->deadline);
	switch (a->status) {
	case DNS_TEMPFAIL:
		st->tempfail = true;
		dns_query_free(q);
		return spf_dns_set(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR);
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		dns_query_free(q);
		if (!top && !spf_dns_count_void(st))
			return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS);
		return spf_dns_set(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	case DNS_OK:
	default:
		break;
	}

	for (size_t i = 0; i < a->count; i++) {
		const struct dns_rr *rr = &a->rr[i];

		if (rr->txt == NULL || !spf_record_is_spf(rr->txt, rr->txt_len))
			continue;
		n_found++;
		found = rr->txt;
		found_len = rr->txt_len;
	}
	if (n_found == 0) {
		dns_query_free(q);
		return spf_dns_set(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	}
	if (n_found > 1) {
		dns_query_free(q);
		return spf_dns_set(resp, SPF_RESULT_PERMERROR,
		    SPF_E_MULTIPLE_RECORDS);
	}
	if ((why = spf_record_rewrite(found, found_len, &text, &exp, &exp_len)) != NULL) {
		dns_query_free(q);
		buf_free(&text);
		spf_dns_refuse(st, why);
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_SYNTAX);
	}
	spf_dns_keep_exp(st, domain, exp, exp_len, &text);
	TRACE("spf", "%s record of %s: %s (terms %u of %d so far)", top ? "the" :
	    "include/redirect: the", name, found, st->terms, SPF_DNS_MAX_TERMS);

	/* libspf2 compiles the record as rewritten: only what it can evaluate */
	err = SPF_record_compile(server, resp, recp, buf_cstr(&text));
	/* libspf2 1.2.10 silently drops the terms that do not fit its compiled
	 * buffer (beyond ~1 KB: 64 ip4 terms, fewer ip6): a record that lost
	 * terms would judge the wrong way, so it is a permerror */
	if (err == SPF_E_SUCCESS && *recp != NULL &&
	    (size_t)(*recp)->num_mech + (size_t)(*recp)->num_mod != spf_record_terms(buf_cstr(&text))) {
		spf_dns_refuse(st, "record too large for libspf2");
		err = SPF_E_BIG_MECH;
	}
	buf_free(&text);
	dns_query_free(q);
	if (err != SPF_E_SUCCESS) {
		if (*recp != NULL) {
			SPF_record_free(*recp);
			*recp = NULL;
		}
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, err);
	}
	return SPF_E_SUCCESS;
}

/* spf_dns_get_exp - libspf2's get_exp hook: nothing is fetched; the marker it
 * expanded (a constant) stays in *buf as its explanation, for spf_dns_explanation */
static SPF_errcode_t
spf_dns_get_exp(SPF_server_t *server, const char *domain, char **buf,
    size_t *buf_len)
{
	(void)server;
	(void)buf_len;
	if (domain != *buf || spf_dns_exp_slot(domain) < 0)
		return SPF_E_NOT_CONFIG;
	return SPF_E_SUCCESS;
}

/* spf_dns_destroy - libspf2's destructor for the layer */
static void
spf_dns_destroy(SPF_dns_server_t *layer)
{
	struct spf_dns_state *st;

	if (layer == NULL)
		return;
	st = layer->hook;
	if (st != NULL) {
		spf_dns_clear_pending(st);
		spf_dns_clear_exps(st);
		free(st);
	}
	free(layer);
}

/* spf_dns_new - a layer for one check */
SPF_dns_server_t *
spf_dns_new(struct dns_resolver *r)
{
	SPF_dns_server_t *layer = xcalloc(1, sizeof(*layer));
	struct spf_dns_state *st = xcalloc(1, sizeof(*st));

	st->resolver = r;
	layer->destroy = spf_dns_destroy;
	layer->lookup = spf_dns_lookup;
	layer->get_spf = spf_dns_get_spf;
	layer->get_exp = spf_dns_get_exp;
	layer->add_cache = NULL;
	layer->layer_below = NULL;
	layer->name = "authmilter";
	layer->debug = 0;
	layer->hook = st;
	return layer;
}

/* spf_dns_begin - reset the per-evaluation counters and the refusal */
void
spf_dns_begin(SPF_dns_server_t *layer)
{
	struct spf_dns_state *st = layer->hook;

	spf_dns_clear_pending(st);
	spf_dns_clear_exps(st);
	st->terms = 0;
	st->voids = 0;
	st->fetches = 0;
	st->tempfail = false;
	st->refused = NULL;
	st->deadline = dns_deadline(st->resolver, SPF_DNS_DEADLINE_TIMEOUTS);
}

/* spf_dns_refused - did the last evaluation break a limit */
bool
spf_dns_refused(const SPF_dns_server_t *layer, const char **why)
{
	const struct spf_dns_state *st = layer->hook;

	if (why != NULL)
		*why = st->refused;
	return st->refused != NULL;
}

/* spf_dns_tempfail - did a lookup of the last evaluation fail temporarily */
bool
spf_dns_tempfail(const SPF_dns_server_t *layer)
{
	const struct spf_dns_state *st = layer->hook;

	return st->tempfail;
}

/* spf_dns_counts - the last evaluation's DNS-querying terms and void lookups */
void
spf_dns_counts(const SPF_dns_server_t *layer, unsigned *terms, unsigned *voids)
{
	const struct spf_dns_state *st = layer->hook;

	*terms = st->terms;
	*voids = st->voids;
}
