/* spf_dns - a libspf2 DNS layer over dns.c that enforces RFC 7208 limits and
 * screens hostile SPF records before libspf2 compiles or expands them.
 *
 * spf_dns_new       a layer for one check (freed with its SPF_server_t)
 * spf_dns_begin     reset the per-evaluation counters
 * spf_dns_refused   did the evaluation break a limit or meet a refused record
 * spf_dns_tempfail  did a lookup fail temporarily
 * spf_dns_screen_record, spf_dns_truncate_name  pure helpers (unit-testable)
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
 *   - §7.3: names longer than 253 bytes lose left labels before the lookup.
 * A term that queries DNS is recognised by its lookup: a lookup that is not one
 * of the address lookups for the names of the MX or PTR answer just given is a
 * new term. (A %{p} macro therefore costs one term of its own.)
 *
 * The hostile-record screen (spf_dns_screen_record), against CVE-2023-42118 and
 * its relatives in libspf2 1.2.10's macro code. The advisory (ZDI-23-1472) says
 * only "integer underflow while parsing SPF macros"; the upstream fix (libspf2
 * pull 44) guards the size_t subtraction "space left in the compile buffer minus
 * a data header" in spf_compile.c, which wraps when a term's compiled macros and
 * literals reach the 511-byte buffer, after which literals are copied without a
 * bound. The expander (SPF_record_expand_data) has had overflows from the same
 * family: transformer digits, reversal with delimiters, URL-escaping (CVE-2021-
 * 33912/33913/20314). So a v=spf1 record is refused, ending as permerror, when:
 *   - it is longer than SPF_DNS_MAX_RECORD bytes, or holds a control byte,
 *     a NUL or a non-ASCII byte (SPF records are ASCII, RFC 7208 §3);
 *   - a term is longer than SPF_DNS_MAX_TERM bytes or holds more than
 *     SPF_DNS_MAX_TERM_MACROS macros: compiled, such a term stays far below the
 *     511-byte buffer, so the subtraction cannot wrap;
 *   - a macro is malformed ('%' not followed by '{', '%', '_' or '-'; unknown
 *     letter; no '}'), which RFC 7208 §7.1 makes a syntax error anyway, while
 *     libspf2 copies a stray '%' as a literal;
 *   - a digit transformer has more than two digits, is 0, or exceeds
 *     SPF_DNS_MAX_MACRO_PARTS (no name has that many useful labels);
 *   - a delimiter is repeated inside one macro, or an upper-case (URL-escaped)
 *     macro also reverses or truncates: the expander sizes its URL buffer from the
 *     length of the last reversed part, not of the whole value;
 *   - redirect= or exp= appears twice (RFC 7208 §6).
 * And no record's exp= (nor libspf2's own exp-text=) is ever expanded: exp= is checked by libspf2's compiler on
 * the full record, then dropped from the record libspf2 evaluates, so neither
 * the exp domain-spec nor the explanation TXT reaches the expander; our verdicts
 * never use explanations.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dns.h"
#include "spf_dns.h"
#include "xalloc.h"

#include <spf2/spf_dns_rr.h>

/* The TTL we report to libspf2; it has no cache of its own here. */
#define SPF_DNS_TTL	0

/* Per-evaluation state of one layer; reset by spf_dns_begin. One thread only. */
struct spf_dns_state {
	struct dns_resolver *resolver;
	unsigned	 terms;		/* DNS-querying terms so far */
	unsigned	 voids;		/* void lookups so far */
	unsigned	 fetches;	/* get_spf calls so far */
	bool		 tempfail;	/* some lookup failed temporarily */
	const char	*refused;	/* non-NULL: why the evaluation is permerror */
	/* names of the last MX/PTR answer whose address lookups are still due */
	char		*pending[SPF_DNS_MAX_MX];
	size_t		 n_pending;
	size_t		 next_pending;
};

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

/* spf_dns_refuse - mark the evaluation permerror; the first reason stays */
static void
spf_dns_refuse(struct spf_dns_state *st, const char *why)
{
	if (st->refused == NULL)
		st->refused = why;
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

/* spf_dns_name_ok - labels of 1..63 bytes, at most 253 bytes in all */
static bool
spf_dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DNS_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63)
			return false;
	}
	return label > 0;
}

/* spf_dns_macro_letter - RFC 7208 §7.1 macro letters, either case */
static bool
spf_dns_macro_letter(int c)
{
	return c != '\0' && strchr("slodiphcrtv", tolower(c)) != NULL;
}

/* spf_dns_screen_macro - check one "%{...}" at p (p[0] == '%', p[1] == '{');
 * *used gets its length. NULL when acceptable. */
static const char *
spf_dns_screen_macro(const char *p, size_t avail, size_t *used)
{
	size_t i = 2, digits = 0;
	unsigned parts = 0;
	bool upper, rev = false;
	char seen[8] = "";
	size_t n_seen = 0;

	if (i >= avail || !spf_dns_macro_letter((unsigned char)p[i]))
		return "unknown macro letter";
	upper = isupper((unsigned char)p[i]);
	i++;
	while (i < avail && isdigit((unsigned char)p[i])) {
		if (++digits > 2)
			return "macro digit transformer too large";
		parts = parts * 10 + (unsigned)(p[i] - '0');
		i++;
	}
	if (digits > 0 && (parts == 0 || parts > SPF_DNS_MAX_MACRO_PARTS))
		return "macro digit transformer out of range";
	if (i < avail && (p[i] == 'r' || p[i] == 'R')) {
		rev = true;
		i++;
	}
	while (i < avail && p[i] != '}') {
		if (strchr(".-+,/_=", p[i]) == NULL)
			return "invalid macro delimiter";
		if (memchr(seen, p[i], n_seen) != NULL)
			return "repeated macro delimiter";
		seen[n_seen++] = p[i];
		i++;
	}
	if (i >= avail)
		return "unterminated macro";
	if (upper && (rev || digits > 0))
		return "URL-escaped macro with transformers";
	*used = i + 1;
	return NULL;
}

/* spf_dns_screen_term - check one term of a record */
static const char *
spf_dns_screen_term(const char *t, size_t len)
{
	size_t macros = 0;

	if (len > SPF_DNS_MAX_TERM)
		return "SPF term too long";
	for (size_t i = 0; i < len; ) {
		if (t[i] != '%') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return "stray percent sign in SPF record";
		switch (t[i + 1]) {
		case '%':
		case '_':
		case '-':
			i += 2;
			break;
		case '{': {
			size_t used = 0;
			const char *why = spf_dns_screen_macro(t + i, len - i, &used);

			if (why != NULL)
				return why;
			if (++macros > SPF_DNS_MAX_TERM_MACROS)
				return "too many macros in one SPF term";
			i += used;
			break;
		}
		default:
			return "stray percent sign in SPF record";
		}
	}
	return NULL;
}

/* spf_dns_is_modifier - t starts with name "=" (case-insensitive) */
static bool
spf_dns_is_modifier(const char *t, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(t, name, n) == 0 && t[n] == '=';
}

/* spf_dns_screen_record - see the header comment; NULL when acceptable */
const char *
spf_dns_screen_record(const char *rec, size_t len)
{
	unsigned redirects = 0, exps = 0;

	if (len > SPF_DNS_MAX_RECORD)
		return "SPF record too long";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rec[i];

		if (c < 0x20 || c >= 0x7f)
			return "control or non-ASCII byte in SPF record";
	}
	for (size_t i = 0; i < len; ) {
		size_t j = i;
		const char *why;

		while (j < len && rec[j] != ' ')
			j++;
		if (j > i) {
			if ((why = spf_dns_screen_term(rec + i, j - i)) != NULL)
				return why;
			if (spf_dns_is_modifier(rec + i, j - i, "redirect"))
				redirects++;
			if (spf_dns_is_modifier(rec + i, j - i, "exp"))
				exps++;
		}
		i = j + 1;
	}
	if (redirects > 1 || exps > 1)
		return "redirect= or exp= given twice";
	return NULL;
}

/* spf_dns_is_exp - an exp= modifier, or libspf2's own exp-text= */
static bool
spf_dns_is_exp(const char *t, size_t len)
{
	return spf_dns_is_modifier(t, len, "exp") ||
	    spf_dns_is_modifier(t, len, SPF_EXP_MOD_NAME);
}

/* spf_dns_strip_exp - the record without its explanation modifiers, to
 * evaluate; NULL when it has none */
static char *
spf_dns_strip_exp(const char *rec)
{
	struct buf b = BUF_INIT;
	size_t len = strlen(rec);
	bool stripped = false;

	for (size_t i = 0; i < len; ) {
		size_t j = i;

		while (j < len && rec[j] != ' ')
			j++;
		if (j > i && spf_dns_is_exp(rec + i, j - i))
			stripped = true;
		else if (j > i) {
			if (b.len > 0)
				buf_putc(&b, ' ');
			buf_append(&b, rec + i, j - i);
		}
		i = j + 1;
	}
	if (!stripped) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* spf_dns_is_spf - a TXT string that is an SPF version 1 record (§4.5) */
static bool
spf_dns_is_spf(const char *txt, size_t len)
{
	static const char ver[] = "v=spf1";
	size_t n = sizeof(ver) - 1;

	return len >= n && strncasecmp(txt, ver, n) == 0 &&
	    (len == n || txt[n] == ' ');
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
	int rrtype;
	bool sub = false;

	(void)should_cache;
	if (domain == NULL)
		domain = "";
	if (st->refused != NULL)
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
		if (!spf_dns_count_term(st))
			return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
	}

	name = spf_dns_truncate_name(domain);
	if (!spf_dns_name_ok(name)) {
		if (!sub && !spf_dns_count_void(st))
			return spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
		return spf_dns_rr_status(layer, domain, type, HOST_NOT_FOUND);
	}

	q = dns_query_start(st->resolver, name, rrtype);
	a = dns_query_wait(q);
	switch (a->status) {
	case DNS_TEMPFAIL:
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
		if (type == ns_t_mx && a->count > SPF_DNS_MAX_MX) {
			spf_dns_refuse(st, "more than 10 MX names");
			out = spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
			break;
		}
		out = spf_dns_rr_status(layer, domain, type, NETDB_SUCCESS);
		if (out != NULL && !spf_dns_fill(out, a, type)) {
			SPF_dns_rr_free(out);
			out = NULL;
		}
		if (out != NULL && out->num_rr == 0)
			out->herrno = NO_DATA;
		if (out != NULL && (type == ns_t_mx || type == ns_t_ptr)) {
			for (int i = 0; i < out->num_rr &&
			    st->n_pending < SPF_DNS_MAX_MX; i++)
				st->pending[st->n_pending++] =
				    xstrdup(out->rr[i]->mx);
		}
		break;
	}
	dns_query_free(q);
	if (out == NULL)	/* out of memory inside libspf2's allocator */
		out = spf_dns_rr_status(layer, domain, type, TRY_AGAIN);
	if (out == NULL) {
		/* libspf2 dereferences the answer; it cannot take NULL */
		abort();
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
	const char *found = NULL;
	char *stripped;
	size_t n_found = 0, found_len = 0;
	SPF_errcode_t err;
	bool top;

	*recp = NULL;
	if (st->refused != NULL)
		return spf_dns_set(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR);
	top = st->fetches++ == 0;
	spf_dns_clear_pending(st);
	if (!top && !spf_dns_count_term(st))
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS);
	if (domain == NULL)
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_NOT_CONFIG);

	name = spf_dns_truncate_name(domain);
	if (!spf_dns_name_ok(name)) {
		if (!top && !spf_dns_count_void(st))
			return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS);
		return spf_dns_set(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF);
	}

	q = dns_query_start(st->resolver, name, DNS_T_TXT);
	a = dns_query_wait(q);
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

		if (rr->txt == NULL || !spf_dns_is_spf(rr->txt, rr->txt_len))
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
	if ((why = spf_dns_screen_record(found, found_len)) != NULL) {
		dns_query_free(q);
		spf_dns_refuse(st, why);
		return spf_dns_set(resp, SPF_RESULT_PERMERROR, SPF_E_SYNTAX);
	}

	/* The whole record must compile (that checks exp= too); the record
	 * evaluated is the one without exp=, so no explanation is ever expanded. */
	err = SPF_record_compile(server, resp, recp, found);
	stripped = err == SPF_E_SUCCESS ? spf_dns_strip_exp(found) : NULL;
	if (stripped != NULL) {
		SPF_record_free(*recp);
		*recp = NULL;
		err = SPF_record_compile(server, resp, recp, stripped);
		free(stripped);
	}
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

/* spf_dns_get_exp - libspf2's get_exp hook: explanations are never fetched */
static SPF_errcode_t
spf_dns_get_exp(SPF_server_t *server, const char *domain, char **buf,
    size_t *buf_len)
{
	(void)server;
	(void)domain;
	(void)buf;
	(void)buf_len;
	return SPF_E_NOT_CONFIG;
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
	st->terms = 0;
	st->voids = 0;
	st->fetches = 0;
	st->tempfail = false;
	st->refused = NULL;
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
