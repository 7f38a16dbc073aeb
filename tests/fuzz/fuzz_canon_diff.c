/* fuzz_canon_diff - the streamed body canonicalizers (dkim_canon.c) against a naive
 * one-shot reference written here from RFC 6376 §3.4.3 (simple) and §3.4.4 (relaxed).
 *
 * Input: bytes 0-1 the l= limit (big-endian; 0xffff: none); byte 2 the number of
 * chunk-size bytes that follow (at most 15); those bytes; the rest is the body.
 * The body is streamed in chunks of those sizes, cycled: 0 is an empty update,
 * 255 ends the chunk just after the next CR and 254 just before the next LF (so a
 * CRLF is split across two updates), any other value is a byte count. Every hash
 * of the set (simple, relaxed, each with and without l=) must give the digest and
 * the canonical length of the reference; abort when one does not.
 *
 * The reference follows the RFC text and the module's documented choices for what
 * the RFC leaves to the transport: CRLF and a bare LF end a line; a CR not followed
 * by LF is an ordinary byte (not whitespace); a last line without its line end is
 * hashed as if it had one.
 */
#include "config.h"

#include <openssl/evp.h>

#include "dkim_canon.h"
#include "fuzz_util.h"

#define FUZZ_DIFF_SETS		4	/* simple, relaxed, simple l=, relaxed l= */
#define FUZZ_DIFF_SIZES		15	/* chunk-size bytes at most */
#define FUZZ_DIFF_NO_LIMIT	0xffff	/* limit bytes meaning "no l=" */
#define FUZZ_CUT_AFTER_CR	255	/* chunk ends just after the next CR */
#define FUZZ_CUT_BEFORE_LF	254	/* chunk ends just before the next LF */

/* ref_is_wsp - RFC 5234 WSP: SP or HTAB */
static bool
ref_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ref_line - one line's content, canonicalized, onto out (no line end) */
static void
ref_line(const uint8_t *p, size_t n, bool relaxed, struct buf *out)
{
	bool in_wsp = false;

	if (!relaxed) {
		buf_append(out, p, n);
		return;
	}
	/* §3.4.4 b: every WSP run becomes one SP; a: WSP at the line end goes */
	for (size_t i = 0; i < n; i++) {
		if (ref_is_wsp(p[i])) {
			in_wsp = true;
			continue;
		}
		if (in_wsp)
			buf_putc(out, ' ');
		in_wsp = false;
		buf_putc(out, (char)p[i]);
	}
}

/* ref_canon - the whole canonical body of body[0..n), built in one go */
static void
ref_canon(const uint8_t *body, size_t n, bool relaxed, struct buf *out)
{
	struct buf lines = BUF_INIT;	/* every line, each followed by CRLF */
	size_t keep = 0;		/* lines.len up to the last non-empty line */
	size_t i = 0;

	while (i < n) {
		const uint8_t *lf = memchr(body + i, '\n', n - i);
		size_t end = lf != NULL ? (size_t)(lf - body) : n;
		size_t len = end - i;
		size_t before = lines.len;

		if (lf != NULL && len > 0 && body[end - 1] == '\r')
			len--;		/* CRLF; a bare LF ends the line as well */
		ref_line(body + i, len, relaxed, &lines);
		if (lines.len > before)
			keep = lines.len + 2;
		buf_append(&lines, "\r\n", 2);
		i = lf != NULL ? end + 1 : n;
	}
	/* §3.4.3/§3.4.4: empty lines at the end go; simple keeps one CRLF even for
	 * an empty body, relaxed leaves an empty body empty */
	if (keep > 0)
		buf_append(out, lines.data, keep);
	else if (!relaxed)
		buf_append(out, "\r\n", 2);
	buf_free(&lines);
}

/* ref_digest - SHA-256 of the first limit bytes (all when limit < 0) of canon */
static void
ref_digest(const struct buf *canon, int64_t limit, unsigned char dig[DKIM_HASH_LEN])
{
	size_t n = canon->len;
	unsigned int dlen = 0;

	if (limit >= 0 && (uint64_t)limit < n)
		n = (size_t)limit;
	if (EVP_Digest(n ? canon->data : "", n, dig, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != DKIM_HASH_LEN)
		fz_fail("reference SHA-256 failed", NULL);
}

/* stream_chunk - the size of the next update at off, from the size schedule */
static size_t
stream_chunk(const uint8_t *body, size_t len, size_t off, unsigned size)
{
	const uint8_t *p;

	if (size == FUZZ_CUT_AFTER_CR) {
		p = memchr(body + off, '\r', len - off);
		return p != NULL ? (size_t)(p - body) + 1 - off : len - off;
	}
	if (size == FUZZ_CUT_BEFORE_LF && len - off > 1) {
		/* an LF right here goes with this chunk: a chunk is never empty */
		p = memchr(body + off + 1, '\n', len - off - 1);
		return p != NULL ? (size_t)(p - body) - off : len - off;
	}
	return size < len - off ? size : len - off;
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned lim = fz_byte(&f) << 8;
	unsigned n_sizes, sizes[FUZZ_DIFF_SIZES];
	int64_t limit;
	struct dkim_body_set *s;
	struct dkim_body_hash *h[FUZZ_DIFF_SETS];
	const uint8_t *body;
	size_t len, off = 0, k = 0, empties = 0;

	lim |= fz_byte(&f);
	limit = lim == FUZZ_DIFF_NO_LIMIT ? -1 : (int64_t)lim;
	n_sizes = fz_byte(&f) % (FUZZ_DIFF_SIZES + 1);
	for (unsigned i = 0; i < n_sizes; i++)
		sizes[i] = fz_byte(&f);
	body = f.p;
	len = f.n;

	s = dkim_body_set_new();
	h[0] = dkim_body_set_add(s, DKIM_CANON_SIMPLE, -1);
	h[1] = dkim_body_set_add(s, DKIM_CANON_RELAXED, -1);
	h[2] = dkim_body_set_add(s, DKIM_CANON_SIMPLE, limit);
	h[3] = dkim_body_set_add(s, DKIM_CANON_RELAXED, limit);
	while (off < len) {
		size_t n = n_sizes == 0 ? len - off :
		    stream_chunk(body, len, off, sizes[k++ % n_sizes]);

		/* a schedule of only empty updates must still end */
		if (n == 0 && ++empties > n_sizes)
			n = len - off;
		else if (n > 0)
			empties = 0;
		dkim_body_set_update(s, body + off, n);
		off += n;
	}
	dkim_body_set_final(s);

	for (int i = 0; i < FUZZ_DIFF_SETS; i++) {
		struct buf canon = BUF_INIT;
		unsigned char got[DKIM_HASH_LEN], want[DKIM_HASH_LEN];
		uint64_t got_len;
		bool relaxed = i % 2 == 1;

		ref_canon(body, len, relaxed, &canon);
		ref_digest(&canon, i >= 2 ? limit : -1, want);
		dkim_body_hash_result(h[i], got, &got_len);
		if (got_len != canon.len || memcmp(got, want, DKIM_HASH_LEN) != 0) {
			fprintf(stderr, "%s%s: canonical length %llu, reference %zu\n",
			    relaxed ? "relaxed" : "simple", i >= 2 ? " l=" : "",
			    (unsigned long long)got_len, canon.len);
			fz_fail("streamed body hash differs from the one-shot reference",
			    NULL);
		}
		buf_free(&canon);
	}
	dkim_body_set_free(s);
	return 0;
}
