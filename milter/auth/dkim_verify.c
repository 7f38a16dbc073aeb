/* dkim_verify - verify the DKIM-Signature fields of one message (RFC 6376 §6,
 * RFC 8301, RFC 8463).
 *
 * dkim_verify_new: per-message state over a shared resolver and body set.
 * dkim_verify_add: parse one signature, start its key lookup, register its body hash.
 * dkim_verify_finish: wait for the keys and give one verdict per signature.
 * dkim_verify_check: the pure part (key record + headers + body hash -> verdict).
 * dkim_verify_answer: the same from a key lookup's answer (also arc_verify's).
 * dkim_verify_free: release. Verdicts belong to the struct dkim_verify.
 *
 * Choices where the RFCs leave room (each verdict's reason says which applied):
 * - Several TXT records at the key name (RFC 6376 §3.6.2.2 leaves it undefined):
 *   the first, in answer order, that parses as a key record is used; when none
 *   parses, permerror with the first one's error.
 * - Time: an expired signature (x= more than DKIM_CLOCK_DRIFT, 300 s, in the past)
 *   and one from the future (t= more than DKIM_CLOCK_DRIFT ahead) are both
 *   permerror, "signature expired" and "t= in the future": RFC 6376 §6.1.1 names
 *   PERMFAIL (signature expired), and RFC 8601 §2.7.1 keeps "fail" for a signature
 *   that was checked and did not verify. The same allowance on both sides absorbs
 *   the signer's and our clock drift; x= before t= is refused when parsing.
 * - An RSA key shorter than opts->min_key_bits (never below RFC 8301's 1024) is
 *   permerror "key too short": RFC 8301 §3.2 says such signatures MUST NOT be
 *   considered valid, and nothing was verified that could be called a "policy" pass.
 * - Key record t=s with an i= in a subdomain of d=, a key not for email (s=), a key
 *   whose h= excludes sha256, a key type different from a=: permerror (the key
 *   record forbids this signature; retrying will not help).
 * - l= larger than the canonical body: fail ("l= exceeds body").
 * - l= shorter than the canonical body, signature valid: policy, unless
 *   allow_partial_body (text after l= is covered by no signature; RFC 6376 §8.2).
 * - a message whose header fields went past the caps: permerror for every
 *   signature (the fields h= names may be among those not stored).
 * - Per message (DKIM and ARC together, dkim_verify.h): past
 *   DKIM_VERIFY_MAX_PK_OPS public-key operations or DKIM_VERIFY_MAX_BODY_HASHES
 *   distinct body hashes, permerror with the bound as the reason. The body-hash
 *   check happens as the signature arrives (header order), the operation bound
 *   when signatures are checked (DKIM in header order, then ARC).
 * - An RSA key whose public exponent or modulus is over the bounds in
 *   dkim_keyrec.h: permerror "bad key record: ..." naming which.
 */
#include "config.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "buf.h"
#include "dkim_canon.h"
#include "dkim_keycache.h"
#include "dkim_keyrec.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "trace.h"
#include "xalloc.h"

#define DKIM_VERIFY_MAX_SIGS	64	/* hard cap whatever max_signatures says */
#define DKIM_KEY_NAME_MAX	253	/* "sel._domainkey.dom" must be a DNS name */
#define DKIM_VERIFY_STR2(x)	#x
#define DKIM_VERIFY_STR(x)	DKIM_VERIFY_STR2(x)
#define DKIM_VERIFY_PK_REASON	"over " DKIM_VERIFY_STR(DKIM_VERIFY_MAX_PK_OPS) \
	" public-key operations per message"
#define DKIM_VERIFY_BODY_REASON	"over " DKIM_VERIFY_STR(DKIM_VERIFY_MAX_BODY_HASHES) \
	" body hashes per message"

/* One signature of the message: per-message, freed by dkim_verify_free. */
struct dkim_verify_sig {
	struct dkim_sig		 sig;
	bool			 parsed;	/* false: verdict already decided */
	size_t			 header_index;
	struct dns_query	*query;		/* key lookup, NULL when not started */
	struct dkim_body_hash	*body_hash;	/* owned by the body set */
	struct dkim_verdict	 verdict;
};

/* Per-message state: created at the first header, freed at end of message/abort. */
struct dkim_verify {
	struct dns_resolver	*resolver;	/* shared, not owned */
	struct dkim_verify_opts	 opts;
	struct dkim_body_set	*body;		/* shared with signing, not owned */
	struct dkim_verify_sig	*sigs;
	size_t			 n_sigs;
	size_t			 ignored;
	struct dkim_verdict	*verdicts;	/* filled by finish */
	bool			 finished;
	struct dkim_verify_budget own;		/* when opts.budget was NULL */
};

/* dkim_verify_alg_name - the a= spelling */
static const char *
dkim_verify_alg_name(enum dkim_alg a)
{
	return a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* dkim_verify_set_reason - copy text into the verdict's reason so that it can sit inside
 * an Authentication-Results comment: no ';', '(', ')', '\\', CR, LF or other controls */
static void
dkim_verify_set_reason(struct dkim_verdict *out, const char *text)
{
	size_t o = 0;

	for (size_t i = 0; text[i] != '\0' && o < sizeof(out->reason) - 1; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c >= 0x7f || c == ';' || c == '(' || c == ')' ||
		    c == '\\')
			c = ' ';
		if (c == ' ' && (o == 0 || out->reason[o - 1] == ' '))
			continue;
		out->reason[o++] = (char)c;
	}
	while (o > 0 && out->reason[o - 1] == ' ')
		o--;
	out->reason[o] = '\0';
}

/* dkim_verify_verdict - set result and reason together */
static void
dkim_verify_verdict(struct dkim_verdict *out, enum auth_result r, const char *reason)
{
	out->result = r;
	dkim_verify_set_reason(out, reason);
}

/* dkim_verify_fill_ids - the header.d/i/s/a/b and l= properties from a (possibly partly)
 * parsed signature */
static void
dkim_verify_fill_ids(struct dkim_verdict *out, const struct dkim_sig *s)
{
	snprintf(out->domain, sizeof(out->domain), "%s", s->domain ? s->domain : "");
	if (s->identity != NULL && strlen(s->identity) < sizeof(out->identity))
		snprintf(out->identity, sizeof(out->identity), "%s", s->identity);
	else
		out->identity[0] = '\0';
	snprintf(out->selector, sizeof(out->selector), "%s",
	    s->selector ? s->selector : "");
	snprintf(out->alg, sizeof(out->alg), "%s", dkim_verify_alg_name(s->alg));
	snprintf(out->b_prefix, sizeof(out->b_prefix), "%s", s->b_prefix);
	out->length = s->length;
}

/* dkim_verify_salvage_tag - copy one tag's value into out when it is a plain token
 * (letters, digits, '.', '-', '_'), lower-cased; anything else stays empty */
static void
dkim_verify_salvage_tag(const struct taglist_tag *t, char *out, size_t outlen)
{
	size_t i;

	if (t->value_len == 0 || t->value_len >= outlen)
		return;
	for (i = 0; i < t->value_len; i++) {
		unsigned char c = (unsigned char)t->value[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return;
	}
	for (i = 0; i < t->value_len; i++)
		out[i] = (char)tolower((unsigned char)t->value[i]);
	out[i] = '\0';
}

/* dkim_verify_salvage_ids - d=, s= and a= of a signature that did not parse, so the
 * verdict still says whose signature failed (an rsa-sha1 signature is a whole one) */
static void
dkim_verify_salvage_ids(struct dkim_verdict *out, const char *value, size_t len)
{
	struct taglist_tag tags[TAGLIST_MAX];
	const struct taglist_tag *t;
	size_t n;
	char err[64];

	if (!taglist_split(value, len, tags, &n, err, sizeof(err)))
		return;
	if (out->domain[0] == '\0' && (t = taglist_find(tags, n, "d")) != NULL)
		dkim_verify_salvage_tag(t, out->domain, sizeof(out->domain));
	if (out->selector[0] == '\0' && (t = taglist_find(tags, n, "s")) != NULL)
		dkim_verify_salvage_tag(t, out->selector, sizeof(out->selector));
	if ((t = taglist_find(tags, n, "a")) != NULL)
		dkim_verify_salvage_tag(t, out->alg, sizeof(out->alg));
}

/* dkim_verify_signature_field - a field that carries a DKIM-form signature:
 * DKIM-Signature, or ARC-Message-Signature / ARC-Seal checked for arc_verify (RFC 8617
 * §4.1) */
static bool
dkim_verify_signature_field(const char *name)
{
	return strcasecmp(name, "DKIM-Signature") == 0 ||
	    strcasecmp(name, "ARC-Message-Signature") == 0 ||
	    strcasecmp(name, "ARC-Seal") == 0;
}

/* dkim_verify_header_input - the canonicalized h= fields followed by the signature field
 * with its b= value emptied (RFC 6376 §3.7); false when the signature field is gone */
static bool
dkim_verify_header_input(const struct dkim_sig *s, const struct header_list *h,
    size_t sig_index,
    struct buf *out)
{
	struct taglist_tag tags[TAGLIST_MAX];
	size_t n;
	char err[64];
	bool *used;

	if (sig_index >= h->n || !dkim_verify_signature_field(h->v[sig_index].name))
		return false;
	used = xcalloc(h->n ? h->n : 1, sizeof(*used));
	for (size_t i = 0; i < s->n_headers; i++) {
		/* bottom-up: the last occurrence not yet used; none left means the
		 * name was oversigned and contributes nothing */
		for (size_t j = h->n; j-- > 0;) {
			if (used[j] || strcasecmp(h->v[j].name, s->headers[i]) != 0)
				continue;
			used[j] = true;
			dkim_canon_header(s->header_canon, h->v[j].name_raw, h->v[j].value,
			    h->v[j].value_len, 1, out);
			break;
		}
	}
	free(used);

	const struct header *sh = &h->v[sig_index];
	if (!taglist_split(sh->value, sh->value_len, tags, &n, err, sizeof(err)))
		return false;
	const struct taglist_tag *b = NULL;
	for (size_t i = 0; i < n; i++)
		if (tags[i].name_len == 1 && tags[i].name[0] == 'b')
			b = &tags[i];
	if (b == NULL)
		return false;
	size_t pre = (size_t)(b->value - sh->value);
	size_t post = pre + b->value_len;
	struct buf stripped = BUF_INIT;
	buf_append(&stripped, sh->value, pre);
	buf_append(&stripped, sh->value + post, sh->value_len - post);
	dkim_canon_header(s->header_canon, sh->name_raw, buf_cstr(&stripped), stripped.len,
	    0, out);
	buf_free(&stripped);
	return true;
}

/* dkim_verify_one - the public-key operation; 1 when the signature is good */
static int
dkim_verify_one(const struct dkim_sig *s, EVP_PKEY *pkey, const unsigned char *data,
    size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (s->alg == DKIM_ALG_RSA_SHA256) {
		/* PKCS#1 v1.5 is OpenSSL's default padding for RSA */
		if (EVP_DigestVerifyInit(ctx, NULL, dkim_sha256(), NULL, pkey) == 1)
			rc = EVP_DigestVerify(ctx, s->sig, s->sig_len, data, len);
	} else {
		/* RFC 8463 §3: Ed25519 (pure) over the SHA-256 of the input */
		unsigned char digest[DKIM_HASH_LEN];

		if (dkim_sha256_digest(data, len, digest) &&
		    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1)
			rc = EVP_DigestVerify(ctx, s->sig, s->sig_len, digest,
			    sizeof(digest));
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* dkim_verify_identity_domain_is_d - the i= domain equals d= (for key t=s) */
static bool
dkim_verify_identity_domain_is_d(const struct dkim_sig *s)
{
	const char *at = strrchr(s->identity, '@');

	return at != NULL && strcasecmp(at + 1, s->domain) == 0;
}

/* dkim_verify_charge - one public-key operation against the message's bound;
 * false (counted) when the bound is reached */
static bool
dkim_verify_charge(struct dkim_verify_budget *b)
{
	if (b == NULL)
		return true;
	if (b->pk_ops >= DKIM_VERIFY_MAX_PK_OPS) {
		b->pk_refused++;
		return false;
	}
	b->pk_ops++;
	return true;
}

/* dkim_verify_check - see dkim_verify.h and the choices in the file header */
void
dkim_verify_check(const struct dkim_sig *s, const struct dkim_keyrec *k,
    const struct header_list *h, size_t header_index,
    const unsigned char bodyhash[DKIM_HASH_LEN], uint64_t body_len,
    const struct dkim_verify_opts *opts, struct dkim_verdict *out)
{
	time_t now = opts->now ? opts->now : time(NULL);
	unsigned min_bits = opts->min_key_bits < DKIM_RSA_MIN_BITS ?
	    DKIM_RSA_MIN_BITS : opts->min_key_bits;
	struct buf data = BUF_INIT;

	memset(out, 0, sizeof(*out));
	dkim_verify_fill_ids(out, s);
	out->testing = k->testing;

	if (s->timestamp >= 0 && s->timestamp > (int64_t)now + DKIM_CLOCK_DRIFT) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "t= in the future");
		return;
	}
	if (s->expire >= 0 && s->expire + DKIM_CLOCK_DRIFT < (int64_t)now) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "signature expired");
		return;
	}
	if (k->revoked || k->pkey == NULL) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key revoked");
		return;
	}
	if (!k->service_email) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key not for email");
		return;
	}
	if (k->alg != s->alg) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key type does not match a=");
		return;
	}
	if (!k->sha256_ok) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key h= excludes sha256");
		return;
	}
	if (k->strict && !dkim_verify_identity_domain_is_d(s)) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key t=s forbids i= subdomain");
		return;
	}
	if (k->alg == DKIM_ALG_RSA_SHA256 && (k->bits <= 0 || (unsigned)k->bits < min_bits)) {
		dkim_verify_verdict(out, AUTH_PERMERROR, "key too short");
		return;
	}
	if (s->length >= 0 && (uint64_t)s->length > body_len) {
		dkim_verify_verdict(out, AUTH_FAIL, "l= exceeds body");
		return;
	}
	if (memcmp(bodyhash, s->bodyhash, DKIM_HASH_LEN) != 0) {
		dkim_verify_verdict(out, AUTH_FAIL, "body hash mismatch");
		return;
	}
	/* charged before the header input: the bound covers its hashing too */
	if (!dkim_verify_charge(opts->budget)) {
		dkim_verify_verdict(out, AUTH_PERMERROR, DKIM_VERIFY_PK_REASON);
		return;
	}
	if (!dkim_verify_header_input(s, h, header_index, &data)) {
		buf_free(&data);
		dkim_verify_verdict(out, AUTH_PERMERROR, "signature field not found");
		return;
	}
	int rc = dkim_verify_one(s, k->pkey, (const unsigned char *)buf_cstr(&data),
	    data.len);
	buf_free(&data);
	if (rc == 1 && s->length >= 0 && (uint64_t)s->length < body_len &&
	    !opts->allow_partial_body) {
		/* valid, but text appended after l= is vouched for by nobody */
		char why[96];

		snprintf(why, sizeof(why), "l= covers %lld of %llu body bytes",
		    (long long)s->length, (unsigned long long)body_len);
		dkim_verify_verdict(out, AUTH_POLICY, why);
		return;
	}
	if (rc == 1) {
		dkim_verify_verdict(out, AUTH_PASS, "");
		return;
	}
	dkim_verify_verdict(out, AUTH_FAIL, "signature did not verify");
}

/* dkim_verify_new - per-message state; r and body stay the caller's */
struct dkim_verify *
dkim_verify_new(struct dns_resolver *r, const struct dkim_verify_opts *opts,
    struct dkim_body_set *body)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));

	v->resolver = r;
	v->opts = *opts;
	v->body = body;
	if (v->opts.budget == NULL)
		v->opts.budget = &v->own;
	return v;
}

/* dkim_verify_body_hash - see dkim_verify.h */
struct dkim_body_hash *
dkim_verify_body_hash(struct dkim_verify_budget *b, struct dkim_body_set *body,
    enum dkim_canon c, int64_t limit)
{
	if (limit < 0)
		limit = -1;
	if (b == NULL)
		return dkim_body_set_add(body, c, limit);
	for (unsigned i = 0; i < b->n_body; i++)
		if (b->body[i].c == c && b->body[i].limit == limit)
			return dkim_body_set_add(body, c, limit);
	if (b->n_body == DKIM_VERIFY_MAX_BODY_HASHES) {
		b->body_refused++;
		return NULL;
	}
	b->body[b->n_body].c = c;
	b->body[b->n_body++].limit = limit;
	return dkim_body_set_add(body, c, limit);
}

/* dkim_verify_add - parse now, look the key up now, hash the body as it streams */
void
dkim_verify_add(struct dkim_verify *v, const char *value, size_t value_len,
    size_t header_index)
{
	size_t cap = v->opts.max_signatures < DKIM_VERIFY_MAX_SIGS ?
	    v->opts.max_signatures : DKIM_VERIFY_MAX_SIGS;
	char err[128] = "";

	if (v->finished || v->n_sigs >= cap) {
		v->ignored++;
		return;
	}
	if (v->n_sigs == 0)
		v->sigs = xcalloc(cap, sizeof(*v->sigs));
	struct dkim_verify_sig *vs = &v->sigs[v->n_sigs++];
	memset(vs, 0, sizeof(*vs));
	vs->header_index = header_index;
	if (!dkim_sig_parse(value, value_len, &vs->sig, err, sizeof(err))) {
		dkim_verify_fill_ids(&vs->verdict, &vs->sig);
		/* which tags were read before the error is unknown: a= may not be */
		vs->verdict.alg[0] = '\0';
		dkim_verify_salvage_ids(&vs->verdict, value, value_len);
		dkim_verify_verdict(&vs->verdict, AUTH_PERMERROR, err);
		dkim_sig_clear(&vs->sig);
		return;
	}
	dkim_verify_fill_ids(&vs->verdict, &vs->sig);
	struct buf name = BUF_INIT;
	buf_printf(&name, "%s._domainkey.%s", vs->sig.selector, vs->sig.domain);
	if (name.len > DKIM_KEY_NAME_MAX) {
		buf_free(&name);
		dkim_verify_verdict(&vs->verdict, AUTH_PERMERROR, "key name too long");
		dkim_sig_clear(&vs->sig);
		return;
	}
	vs->body_hash = dkim_verify_body_hash(v->opts.budget, v->body, vs->sig.body_canon,
	    vs->sig.length);
	if (vs->body_hash == NULL) {
		buf_free(&name);
		dkim_verify_verdict(&vs->verdict, AUTH_PERMERROR, DKIM_VERIFY_BODY_REASON);
		dkim_sig_clear(&vs->sig);
		return;
	}
	vs->parsed = true;
	if (v->resolver != NULL)
		vs->query = dns_query_start(v->resolver, buf_cstr(&name), DNS_T_TXT);
	buf_free(&name);
}

/* dkim_verify_check_with_answer - a signature's verdict from its key lookup */
static void
dkim_verify_check_with_answer(struct dkim_verify *v, struct dkim_verify_sig *vs,
    const struct header_list *h)
{
	struct dkim_verdict *out = &vs->verdict;
	const struct dns_answer *a;

	if (vs->query == NULL) {
		dkim_verify_verdict(out, AUTH_TEMPERROR, "no resolver");
		return;
	}
	a = dns_query_wait(vs->query);
	unsigned char digest[DKIM_HASH_LEN];
	uint64_t body_len = 0;
	dkim_body_hash_result(vs->body_hash, digest, &body_len);
	dkim_verify_answer(a, &vs->sig, h, vs->header_index, digest, body_len, &v->opts,
	    out);
}

/* dkim_verify_answer - see dkim_verify.h */
void
dkim_verify_answer(const struct dns_answer *a, const struct dkim_sig *s,
    const struct header_list *h, size_t header_index,
    const unsigned char bodyhash[DKIM_HASH_LEN], uint64_t body_len,
    const struct dkim_verify_opts *opts, struct dkim_verdict *out)
{
	char err[128] = "", first_err[128] = "";

	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		dkim_verify_verdict(out, AUTH_PERMERROR, "no key");
		return;
	case DNS_TEMPFAIL:
	default:
		dkim_verify_verdict(out, AUTH_TEMPERROR, "key lookup failed");
		return;
	}
	for (size_t i = 0; i < a->count; i++) {
		struct dkim_keyrec k;
		if (a->rr[i].txt == NULL)
			continue;
		if (!dkim_keycache_parse(a->rr[i].txt, a->rr[i].txt_len, &k, err,
		    sizeof(err))) {
			if (first_err[0] == '\0')
				snprintf(first_err, sizeof(first_err),
				    "bad key record: %s",
				    err);
			dkim_keyrec_clear(&k);
			continue;
		}
		dkim_verify_check(s, &k, h, header_index, bodyhash, body_len, opts, out);
		dkim_keyrec_clear(&k);
		return;
	}
	dkim_verify_verdict(out, AUTH_PERMERROR, first_err[0] ? first_err : "no key");
}

/* dkim_verify_trace - a signature's verdict and its l=, t=, x= for the trace
 * hook (authmilter-check --message); its key record is the DNS step before */
static void
dkim_verify_trace(const struct dkim_verify_sig *vs, size_t i)
{
	const struct dkim_verdict *o = &vs->verdict;

	trace_step("dkim", "signature %zu d=%s s=%s a=%s: %s%s%s%s; l=%lld t=%lld x=%lld "
	    "(-1: absent; now %lld)", i + 1, o->domain[0] ? o->domain : "?",
	    o->selector[0] ? o->selector : "?", o->alg[0] ? o->alg : "?",
	    auth_result_name(o->result), o->reason[0] ? " (" : "", o->reason,
	    o->reason[0] ? ")" : "", vs->parsed ? (long long)vs->sig.length : -1LL,
	    vs->parsed ? (long long)vs->sig.timestamp : -1LL,
	    vs->parsed ? (long long)vs->sig.expire : -1LL, (long long)time(NULL));
	if (o->testing)
		trace_step("dkim", "signature %zu: its key says t=y (testing)", i + 1);
}

/* dkim_verify_finish - one verdict per accepted signature, in header order */
size_t
dkim_verify_finish(struct dkim_verify *v, const struct header_list *h,
    const struct dkim_verdict **verdicts, size_t *ignored)
{
	if (!v->finished) {
		v->finished = true;
		v->verdicts = xcalloc(v->n_sigs ? v->n_sigs : 1, sizeof(*v->verdicts));
		for (size_t i = 0; i < v->n_sigs; i++) {
			struct dkim_verify_sig *vs = &v->sigs[i];
			/* fields past the header caps were not stored, so the
			 * instances h= names cannot be chosen bottom-up as §5.4.2
			 * says: what we would hash is not what is delivered */
			if (vs->parsed && h->truncated)
				dkim_verify_verdict(&vs->verdict, AUTH_PERMERROR,
				    "header fields over limit");
			else if (vs->parsed)
				dkim_verify_check_with_answer(v, vs, h);
			v->verdicts[i] = vs->verdict;
			if (trace_hook != NULL)
				dkim_verify_trace(vs, i);
			dns_query_free(vs->query);
			vs->query = NULL;
		}
	}
	*verdicts = v->verdicts;
	if (ignored != NULL)
		*ignored = v->ignored;
	return v->n_sigs;
}

/* dkim_verify_free - cancel lookups still running and free everything; NULL is fine */
void
dkim_verify_free(struct dkim_verify *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n_sigs; i++) {
		dns_query_free(v->sigs[i].query);
		dkim_sig_clear(&v->sigs[i].sig);
	}
	free(v->sigs);
	free(v->verdicts);
	free(v);
}
