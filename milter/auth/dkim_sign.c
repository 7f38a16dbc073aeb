/* dkim_sign - DKIM-Signature header fields (RFC 6376 §5, RFC 8463).
 *
 * dkim_sign_header chooses the fields to sign (the configured names, or the
 * RFC 6376 §5.4.1 set, each occurrence bottom-up, oversigned names once more),
 * writes the tags folded into readable lines, hashes the fields and the new
 * DKIM-Signature with an empty b=, signs, and appends the folded value to the
 * caller's buf. dkim_sign_data signs canonicalized data with a key.
 * Nothing here keeps state between calls; the key is only read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dns_name.h"
#include "header.h"
#include "xalloc.h"

#define SIGN_LINE_MAX		78	/* fold before a line grows past this */
#define SIGN_TAB_WIDTH		8	/* a folded line starts with a TAB */
#define SIGN_HEADER_NAME	"DKIM-Signature"
#define SIGN_MAX_NAMES		256	/* distinct header names in one h= */
#define SIGN_MAX_SIG		1024	/* bytes of a raw signature: RSA-8192 */

/* RFC 6376 §5.4.1: the fields that SHOULD be signed, From first; and RFC 8058's
 * List-Unsubscribe-Post, which one-click unsubscribe needs signed (the mailbox
 * providers' bulk-sender rules). */
static const char *const sign_default_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date",
	"Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "In-Reply-To",
	"References", "List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe",
	"List-Post", "List-Owner", "List-Archive", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding"
};
#define SIGN_N_DEFAULT	(sizeof(sign_default_headers) / sizeof(sign_default_headers[0]))

/* c=, by header and body canonicalization */
static const char *const sign_canon_pair[2][2] = {
	[DKIM_CANON_SIMPLE] = {
		[DKIM_CANON_SIMPLE] = "simple/simple",
		[DKIM_CANON_RELAXED] = "simple/relaxed" },
	[DKIM_CANON_RELAXED] = {
		[DKIM_CANON_SIMPLE] = "relaxed/simple",
		[DKIM_CANON_RELAXED] = "relaxed/relaxed" },
};

/* One name of h=: how many times it is listed, and how many fields carry it. */
struct sign_name {
	const char	*name;
	size_t		 listed;
	size_t		 present;
};

/* dkim_sign_put - add one tag item, folding first when it would not fit */
static void
dkim_sign_put(struct dkim_sign_out *o, const char *s, size_t len)
{
	if (o->col + 1 + len > SIGN_LINE_MAX && o->col > SIGN_TAB_WIDTH) {
		buf_append(o->b, "\r\n\t", 3);
		o->col = SIGN_TAB_WIDTH;
	} else {
		buf_putc(o->b, ' ');
		o->col++;
	}
	buf_append(o->b, s, len);
	o->col += len;
}

/* dkim_sign_tag - one "name=value;" item, folded before it when it would not fit */
void
dkim_sign_tag(struct dkim_sign_out *o, const char *name, const char *value)
{
	struct buf tag = BUF_INIT;

	buf_puts(&tag, name);
	buf_putc(&tag, '=');
	buf_puts(&tag, value);
	buf_putc(&tag, ';');
	dkim_sign_put(o, tag.data, tag.len);
	buf_free(&tag);
}

/* dkim_sign_begin - start a field value in out: nothing written yet, the column
 * counted after "NAME:" */
void
dkim_sign_begin(struct dkim_sign_out *o, struct buf *out, const char *field_name)
{
	o->b = out;
	o->start = out->len;
	o->col = strlen(field_name) + 1;
}

/* dkim_sign_name_ok - a field name (RFC 5322 ftext): printable, no colon, no space */
static bool
dkim_sign_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 127 || c == ':' || c == ';')
			return false;
	}
	return true;
}

/* dkim_sign_add_name - list name (once per name, case-insensitively) */
static bool
dkim_sign_add_name(struct sign_name *v, size_t *n, const char *name, bool over,
    const struct header_list *h)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcasecmp(v[i].name, name) == 0) {
			if (over && v[i].listed == v[i].present)
				v[i].listed++;
			return true;
		}
	}
	if (*n >= SIGN_MAX_NAMES)
		return false;
	v[*n].name = name;
	v[*n].present = header_list_count(h, name);
	v[*n].listed = v[*n].present + (over ? 1 : 0);
	(*n)++;
	return true;
}

/* dkim_sign_ossl_err - the OpenSSL reason for a failure, into err */
static void
dkim_sign_ossl_err(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s failed%s%s", what, why ? ": " : "", why ? why : "");
	ERR_clear_error();
}

/* dkim_sign_data - sign canonicalized header data
 *
 * Ed25519 signs with libsodium: OpenSSL 3.0 makes the same deterministic RFC 8032
 * signature but takes twice the CPU (46 against 21 us here), and the signature is
 * most of what an outbound message costs (tests/bench/run-bench). */
bool
dkim_sign_data(const struct dkim_key *key, const void *data, size_t len,
    struct buf *sig, char *err, size_t errlen)
{
	if (key->alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 §3: PureEdDSA over the SHA-256 of the data */
		unsigned char digest[DKIM_HASH_LEN];
		unsigned char raw[crypto_sign_BYTES];

		if (!dkim_sha256_digest(data, len, digest)) {
			dkim_sign_ossl_err("SHA-256", err, errlen);
			return false;
		}
		if (crypto_sign_detached(raw, NULL, digest, sizeof(digest),
		    key->ed25519_sk) != 0) {
			snprintf(err, errlen, "Ed25519 signing failed");
			return false;
		}
		buf_append(sig, raw, sizeof(raw));
		return true;
	}

	/* RSASSA-PKCS1-v1_5 with SHA-256, OpenSSL's default RSA padding */
	unsigned char raw[SIGN_MAX_SIG];
	size_t rawlen = sizeof(raw);
	EVP_MD_CTX *ctx;
	bool ok = false;

	if ((size_t)EVP_PKEY_get_size(key->pkey) > sizeof(raw)) {
		snprintf(err, errlen, "key too large: %d-byte signatures",
		    EVP_PKEY_get_size(key->pkey));
		return false;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		dkim_sign_ossl_err("EVP_MD_CTX_new", err, errlen);
		return false;
	}
	if (EVP_DigestSignInit(ctx, NULL, dkim_sha256(), NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, raw, &rawlen, data, len) != 1)
		dkim_sign_ossl_err("RSA signing", err, errlen);
	else
		ok = true;
	EVP_MD_CTX_free(ctx);
	if (ok)
		buf_append(sig, raw, rawlen);
	return ok;
}

/* dkim_sign_b64 - base64 into a caller's array of at least 4*ceil(len/3)+1 bytes */
static size_t
dkim_sign_b64(char *out, const unsigned char *p, size_t len)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)len);
}

/* dkim_sign_choose_names - which names h= lists, and how often: From always (RFC 6376
 * §5.4), then the configured names (or the §5.4.1 set present), then oversigning */
static bool
dkim_sign_choose_names(const struct dkim_sign_params *p, const struct header_list *h,
    struct sign_name *names, size_t *n_names, char *err, size_t errlen)
{
	dkim_sign_add_name(names, n_names, "From", false, h);
	if (names[0].listed == 0)
		names[0].listed = 1;	/* even when absent: a verifier insists */
	if (p->headers == NULL || p->n_headers == 0) {
		for (size_t i = 0; i < SIGN_N_DEFAULT; i++)
			if (header_list_count(h, sign_default_headers[i]) > 0)
				dkim_sign_add_name(names, n_names,
				    sign_default_headers[i], false, h);
	}
	for (size_t i = 0; i < p->n_headers + p->n_oversign; i++) {
		bool over = i >= p->n_headers;
		const char *name = over ? p->oversign[i - p->n_headers] : p->headers[i];

		if (!dkim_sign_name_ok(name)) {
			snprintf(err, errlen, "\"%s\": not a header field name", name);
			return false;
		}
		if (!dkim_sign_add_name(names, n_names, name, over, h)) {
			snprintf(err, errlen, "more than %d header names", SIGN_MAX_NAMES);
			return false;
		}
	}
	return true;
}

/* dkim_sign_canon_fields - the fields, canonicalized in h= order: for each name its
 * last occurrence first (§5.4.2); a listing beyond the occurrences adds nothing */
static void
dkim_sign_canon_fields(const struct dkim_sign_params *p, const struct header_list *h,
    const struct sign_name *names, size_t n_names, struct buf *canon)
{
	for (size_t i = 0; i < n_names; i++) {
		for (size_t k = 0; k < names[i].present && k < names[i].listed; k++) {
			long at = header_list_find(h, names[i].name, names[i].present - 1 - k);

			if (at < 0)
				continue;
			const struct header *f = &h->v[at];
			/* the raw name: "Subject :" is what the verifier's simple
			 * canonicalization sees (relaxed drops the space itself) */
			dkim_canon_header(p->header_canon, f->name_raw, f->value,
			    f->value_len, 1, canon);
		}
	}
}

/* dkim_sign_fold - append text, starting a new line (CRLF TAB) before a piece that
 * would pass SIGN_LINE_MAX. brk '\0': break anywhere (base64); else only after
 * that character (h=: FWS may follow a colon) */
static void
dkim_sign_fold(struct dkim_sign_out *o, const char *text, size_t len, char brk)
{
	for (size_t i = 0; i < len;) {
		size_t n = len - i;
		bool full;

		if (brk != '\0') {
			const char *at = memchr(text + i, brk, len - i);

			if (at != NULL)
				n = (size_t)(at - (text + i)) + 1;
			/* a piece longer than a line goes on one of its own */
			full = o->col + n > SIGN_LINE_MAX && o->col > SIGN_TAB_WIDTH;
		} else {
			full = o->col >= SIGN_LINE_MAX;
			if (!full && n > SIGN_LINE_MAX - o->col)
				n = SIGN_LINE_MAX - o->col;
		}
		if (full) {
			buf_append(o->b, "\r\n\t", 3);
			o->col = SIGN_TAB_WIDTH;
			if (brk == '\0')
				continue;	/* the piece is measured again */
		}
		buf_append(o->b, text + i, n);
		o->col += n;
		i += n;
	}
}

/* dkim_sign_put_h - the h= tag: on one line when it fits one, else on lines of
 * its own broken after colons */
static void
dkim_sign_put_h(struct dkim_sign_out *o, const struct sign_name *names, size_t n_names)
{
	struct buf tag = BUF_INIT;

	buf_puts(&tag, "h=");
	for (size_t i = 0; i < n_names; i++)
		for (size_t k = 0; k < names[i].listed; k++) {
			if (tag.len > 2)
				buf_putc(&tag, ':');
			buf_puts(&tag, names[i].name);
		}
	buf_putc(&tag, ';');
	if (SIGN_TAB_WIDTH + tag.len <= SIGN_LINE_MAX) {
		dkim_sign_put(o, tag.data, tag.len);
	} else {
		buf_append(o->b, "\r\n\t", 3);
		o->col = SIGN_TAB_WIDTH;
		dkim_sign_fold(o, tag.data, tag.len, ':');
	}
	buf_free(&tag);
}

/* dkim_sign_put_tags - every tag before b=, folded; an ARC-Message-Signature
 * (RFC 8617 §4.1.2) carries i= where a DKIM-Signature has v= */
static void
dkim_sign_put_tags(const struct dkim_sign_params *p, struct dkim_sign_out *o,
    const struct sign_name *names, size_t n_names,
    const unsigned char bodyhash[DKIM_HASH_LEN])
{
	char bh64[4 * ((DKIM_HASH_LEN + 2) / 3) + 1];
	char num[24];
	char bhtag[sizeof("bh=;") + sizeof(bh64)];

	if (p->arc_instance > 0) {
		snprintf(num, sizeof(num), "%u", p->arc_instance);
		dkim_sign_tag(o, "i", num);
	} else {
		dkim_sign_tag(o, "v", "1");
	}
	dkim_sign_tag(o, "a", dkim_alg_name(p->key->alg));
	dkim_sign_tag(o, "c", sign_canon_pair[p->header_canon][p->body_canon]);
	dkim_sign_tag(o, "d", p->domain);
	dkim_sign_tag(o, "s", p->selector);
	snprintf(num, sizeof(num), "%lld", (long long)p->now);
	dkim_sign_tag(o, "t", num);
	if (p->expire > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)p->now + (long long)p->expire);
		dkim_sign_tag(o, "x", num);
	}
	dkim_sign_put_h(o, names, n_names);
	dkim_sign_b64(bh64, bodyhash, DKIM_HASH_LEN);
	snprintf(bhtag, sizeof(bhtag), "bh=%s;", bh64);
	dkim_sign_put(o, bhtag, strlen(bhtag));
}

/* dkim_sign_end - add b=: the field itself (b= empty, no final CRLF, §3.7)
 * joins the canonicalized data, which the key signs */
bool
dkim_sign_end(struct dkim_sign_out *o, const struct dkim_key *key,
    enum dkim_canon header_canon, const char *field_name, struct buf *canon,
    char *err, size_t errlen)
{
	struct buf *out = o->b;
	struct buf sig = BUF_INIT;

	/* b= starts a line of its own, so the signature has room to follow */
	buf_append(out, "\r\n\tb=", 5);
	o->col = SIGN_TAB_WIDTH + 2;
	dkim_canon_header(header_canon, field_name, out->data + o->start,
	    out->len - o->start, 0, canon);
	bool ok = dkim_sign_data(key, canon->data, canon->len, &sig, err, errlen);
	if (ok) {
		char *b64 = xmalloc(4 * ((sig.len + 2) / 3) + 1);

		dkim_sign_fold(o, b64, dkim_sign_b64(b64, (const unsigned char *)sig.data, sig.len),
		    '\0');
		free(b64);
	} else {
		out->len = o->start;	/* leave out as it was */
		out->data[o->start] = '\0';
	}
	buf_free(&sig);
	return ok;
}

/* dkim_sign_header - build, sign and append one DKIM-Signature (or
 * ARC-Message-Signature) value */
bool
dkim_sign_header(const struct dkim_sign_params *p, const struct header_list *h,
    const unsigned char bodyhash[DKIM_HASH_LEN], struct buf *out, char *err,
    size_t errlen)
{
	const char *field = p->field_name != NULL ? p->field_name : SIGN_HEADER_NAME;
	struct sign_name names[SIGN_MAX_NAMES];
	size_t n_names = 0;
	struct buf canon = BUF_INIT;
	struct dkim_sign_out o;

	if (p->key == NULL || p->key->pkey == NULL) {
		snprintf(err, errlen, "no key");
		return false;
	}
	if (!dns_name_ok(p->domain, DNS_NAME_HEADER) ||
	    !dns_name_ok(p->selector, DNS_NAME_HEADER)) {
		snprintf(err, errlen, "d=%s s=%s: not a plain domain and selector",
		    p->domain, p->selector);
		return false;
	}
	if (!dkim_sign_choose_names(p, h, names, &n_names, err, errlen))
		return false;
	dkim_sign_canon_fields(p, h, names, n_names, &canon);
	dkim_sign_begin(&o, out, field);
	dkim_sign_put_tags(p, &o, names, n_names, bodyhash);
	bool ok = dkim_sign_end(&o, p->key, p->header_canon, field, &canon, err, errlen);
	buf_free(&canon);
	return ok;
}
