/* fuzz_canon - DKIM canonicalization (RFC 6376 §3.4): one header field with both
 * header canons, and a body streamed in chunks.
 *
 * Input: byte 0 sets the l= limit (0: none), byte 1 the chunk pattern seed; then
 * "name\n", "value\n" (the header field), and the rest is the body. The body is
 * hashed in one chunk and again in chunks whose sizes come from the seed and the
 * body's own bytes; both canons, with and without the limit, must give the same
 * digest and canonical length either way (abort when not).
 */
#include "config.h"

#include "dkim_canon.h"
#include "fuzz_util.h"

#define FUZZ_CANON_SETS	4	/* simple, relaxed, simple l=, relaxed l= */

/* body_hashes - hash body in chunks (chunk 0: all at once); fill digests/lens */
static void
body_hashes(const uint8_t *body, size_t len, unsigned seed, int64_t limit,
    unsigned char dig[FUZZ_CANON_SETS][DKIM_HASH_LEN], uint64_t lens[FUZZ_CANON_SETS],
    bool chunked)
{
	struct dkim_body_set *s = dkim_body_set_new();
	struct dkim_body_hash *h[FUZZ_CANON_SETS];
	size_t off = 0, i = 0;

	h[0] = dkim_body_set_add(s, DKIM_CANON_SIMPLE, -1);
	h[1] = dkim_body_set_add(s, DKIM_CANON_RELAXED, -1);
	h[2] = dkim_body_set_add(s, DKIM_CANON_SIMPLE, limit);
	h[3] = dkim_body_set_add(s, DKIM_CANON_RELAXED, limit);
	if (limit >= 0 && (h[2] == h[0] || h[3] == h[1]))
		fz_fail("a limited hash shares the unlimited one", NULL);
	/* asking again for the same hash shares it */
	if (dkim_body_set_add(s, DKIM_CANON_RELAXED, -1) != h[1])
		fz_fail("same (canon, limit) added twice gives another hash", NULL);
	while (off < len) {
		size_t n = len - off;

		if (chunked) {
			/* 1..8 bytes mostly, sometimes 0, sometimes a long run */
			unsigned r = (seed * 31u + body[(i * 7) % len] + (unsigned)i) & 0xff;

			n = r < 16 ? 0 : r < 240 ? 1 + r % 8 : 64 + r;
			if (n > len - off)
				n = len - off;
			i++;
		}
		dkim_body_set_update(s, body + off, n);
		off += n;
	}
	if (chunked)
		dkim_body_set_update(s, body + off, 0);
	dkim_body_set_final(s);
	for (i = 0; i < FUZZ_CANON_SETS; i++)
		dkim_body_hash_result(h[i], dig[i], &lens[i]);
	dkim_body_set_free(s);
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned lim = fz_byte(&f), seed = fz_byte(&f);
	int64_t limit = lim == 0 ? -1 : (int64_t)(lim - 1) * 3;
	char name[256], *value;
	size_t vlen;
	unsigned char one[FUZZ_CANON_SETS][DKIM_HASH_LEN], many[FUZZ_CANON_SETS][DKIM_HASH_LEN];
	uint64_t lone[FUZZ_CANON_SETS], lmany[FUZZ_CANON_SETS];
	const uint8_t *nl;

	fz_line(&f, name, sizeof(name));
	/* a field name is printable ASCII without ':' (RFC 5322 ftext), as MTAs send */
	for (char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == ':')
			*p = 'x';
	/* the value: exact-size heap copy so ASan sees any read past its end */
	nl = memchr(f.p, '\n', f.n);
	vlen = nl ? (size_t)(nl - f.p) : f.n;
	value = malloc(vlen ? vlen : 1);
	if (value == NULL)
		return 0;
	memcpy(value, f.p, vlen);
	f.p += vlen + (nl != NULL);
	f.n -= vlen + (nl != NULL);
	for (int c = DKIM_CANON_SIMPLE; c <= DKIM_CANON_RELAXED; c++) {
		for (int crlf = 0; crlf <= 1; crlf++) {
			struct buf out = BUF_INIT;

			dkim_canon_header((enum dkim_canon)c, name, value, vlen, crlf, &out);
			if (crlf && (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0))
				fz_fail("canonical header without its final CRLF", name);
			if (c == DKIM_CANON_RELAXED && out.len > 0 && memchr(out.data, '\t',
			    out.len) != NULL)
				fz_fail("relaxed header keeps a tab", name);
			buf_free(&out);
		}
	}
	free(value);

	body_hashes(f.p, f.n, seed, limit, one, lone, false);
	body_hashes(f.p, f.n, seed, limit, many, lmany, true);
	for (int i = 0; i < FUZZ_CANON_SETS; i++) {
		if (memcmp(one[i], many[i], DKIM_HASH_LEN) != 0 || lone[i] != lmany[i]) {
			fprintf(stderr, "set %d: len %llu vs %llu\n", i,
			    (unsigned long long)lone[i], (unsigned long long)lmany[i]);
			fz_fail("body digest depends on chunking", NULL);
		}
	}
	return 0;
}
