/* dkim_canon - RFC 6376 §3.4 canonicalization of header fields and of the body.
 *
 * dkim_canon_header appends one canonicalized header field to a buf.
 * dkim_body_set_new/add/update/final/free stream the body through one SHA-256
 * per distinct (canonicalization, l=) pair; dkim_body_hash_result reads a digest.
 * The set owns every dkim_body_hash it hands out; they live until
 * dkim_body_set_free. Memory does not grow with the body: runs of empty lines
 * are held as a counter, never as bytes.
 *
 * Line ends in the body: CRLF and a bare LF both end a line (a bare LF hashes as
 * CRLF, as dkimpy, Mail::DKIM and the MTAs treat it). A bare CR (one not followed
 * by LF) is an ordinary byte of the line, as in dkimpy: it is hashed as is and,
 * for relaxed, is not whitespace. A body whose last line lacks its CRLF is hashed
 * as if the CRLF were there (§3.4.3/§3.4.4); for relaxed that means trailing
 * whitespace on that last line is dropped too (as Mail::DKIM does; dkimpy 1.1
 * keeps one SP there, a corner no MTA produces since SMTP bodies end in CRLF).
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dkim_canon.h"
#include "fatal.h"
#include "xalloc.h"

#define CANON_N		2	/* simple, relaxed */
#define CRLF_RUN	32	/* CRLF pairs in the static run used for held empty lines */

struct dkim_body_hash {
	struct dkim_body_hash	*next;		/* next hash fed by the same stream */
	int64_t			 limit;		/* l=, or -1 for the whole body */
	uint64_t		 hashed;	/* bytes given to the digest so far */
	uint64_t		 canon_len;	/* set at final: the whole canonical length */
	EVP_MD_CTX		*md;
	unsigned char		 digest[DKIM_HASH_LEN];
};

/* One canonicalizer per algorithm; its output feeds every hash of that algorithm.
 * The pending span is output not yet handed to the digests: consecutive pieces
 * that are adjacent in the caller's chunk are merged so that the digests see few,
 * large updates. It never outlives the chunk it points into. */
struct canon_stream {
	enum dkim_canon		 canon;
	struct dkim_body_hash	*hashes;	/* NULL: this algorithm is not wanted */
	uint64_t		 len;		/* canonical bytes produced so far */
	uint64_t		 empty_lines;	/* held back: emitted only before content */
	bool			 in_line;	/* the current line has content */
	bool			 cr_pending;	/* the previous chunk ended in CR */
	bool			 wsp_pending;	/* relaxed: a WSP run inside the line */
	const unsigned char	*wsp_ptr;	/* that run as a lone SP in this chunk */
	const unsigned char	*span;		/* pending output */
	size_t			 span_len;
};

struct dkim_body_set {
	struct canon_stream	 cs[CANON_N];
	bool			 started;	/* an update happened: no more adds */
	bool			 finished;
};

static const unsigned char crlf_run[2 * CRLF_RUN + 1] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
static const unsigned char one_sp[] = " ";

/* SHA-256 fetched once: OpenSSL 3 otherwise looks EVP_sha256() up in its provider
 * store, under a lock, every time a digest starts */
static EVP_MD *canon_sha256;
static pthread_once_t canon_sha256_once = PTHREAD_ONCE_INIT;

/* canon_fetch_sha256 - run once */
static void
canon_fetch_sha256(void)
{
	if ((canon_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatal_bug("dkim_canon: EVP_MD_fetch(SHA256) failed");
}

/* dkim_sha256 - the SHA-256 every DKIM digest uses */
const EVP_MD *
dkim_sha256(void)
{
	pthread_once(&canon_sha256_once, canon_fetch_sha256);
	return canon_sha256;
}

/* dkim_sha256_digest - SHA-256 of data in one go */
bool
dkim_sha256_digest(const void *data, size_t len, unsigned char digest[DKIM_HASH_LEN])
{
	unsigned int dlen = 0;

	return EVP_Digest(data, len, digest, &dlen, dkim_sha256(), NULL) == 1 &&
	    dlen == DKIM_HASH_LEN;
}

/* canon_is_wsp - SP or HTAB, the WSP of RFC 5234 */
static inline bool
canon_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* dkim_canon_header - one header field in canonical form */
void
dkim_canon_header(enum dkim_canon c, const char *name, const char *value,
    size_t value_len, int crlf, struct buf *out)
{
	if (c == DKIM_CANON_SIMPLE) {
		buf_puts(out, name);
		buf_putc(out, ':');
		buf_append(out, value, value_len);
	} else {
		size_t nlen = strlen(name);

		/* a name stored with WSP before the colon loses it */
		while (nlen > 0 && canon_is_wsp((unsigned char)name[nlen - 1]))
			nlen--;
		size_t at = out->len;

		buf_append(out, name, nlen);
		for (size_t i = at; i < out->len; i++) {
			unsigned char ch = (unsigned char)out->data[i];

			if (ch >= 'A' && ch <= 'Z')
				out->data[i] = (char)(ch + ('a' - 'A'));
		}
		buf_putc(out, ':');

		/* Unfold (drop the line breaks), squeeze WSP runs to one SP, and
		 * drop WSP at both ends. A run is written only when content follows,
		 * which drops the trailing one; none is written before the first
		 * content, which drops the leading one. Copy runs of plain bytes. */
		const unsigned char *v = (const unsigned char *)value;
		bool seen = false, wsp = false;
		size_t i = 0;

		while (i < value_len) {
			size_t j = i;

			while (j < value_len && !canon_is_wsp(v[j]) && v[j] != '\r' &&
			    v[j] != '\n')
				j++;
			if (j > i) {
				if (wsp && seen)
					buf_putc(out, ' ');
				wsp = false;
				seen = true;
				buf_append(out, v + i, j - i);
			}
			if (j < value_len && canon_is_wsp(v[j]))
				wsp = true;
			i = j + 1;
		}
	}
	if (crlf)
		buf_append(out, "\r\n", 2);
}

/* dkim_body_set_new - an empty set: add hashes, then stream the body */
struct dkim_body_set *
dkim_body_set_new(void)
{
	struct dkim_body_set *s = xcalloc(1, sizeof(*s));

	s->cs[DKIM_CANON_SIMPLE].canon = DKIM_CANON_SIMPLE;
	s->cs[DKIM_CANON_RELAXED].canon = DKIM_CANON_RELAXED;
	return s;
}

/* dkim_body_set_add - find or make the hash for (c, limit) */
struct dkim_body_hash *
dkim_body_set_add(struct dkim_body_set *s, enum dkim_canon c, int64_t limit)
{
	if (s->started || (c != DKIM_CANON_SIMPLE && c != DKIM_CANON_RELAXED)) {
		fatal_bug("dkim_body_set_add: %s",
		    s->started ? "called after the first update" : "bad canon");
	}
	if (limit < 0)
		limit = -1;

	struct canon_stream *cs = &s->cs[c];
	struct dkim_body_hash *h;

	for (h = cs->hashes; h != NULL; h = h->next)
		if (h->limit == limit)
			return h;
	h = xcalloc(1, sizeof(*h));
	h->limit = limit;
	if ((h->md = EVP_MD_CTX_new()) == NULL)
		fatal_bug("dkim_canon: EVP_MD_CTX_new failed");
	if (EVP_DigestInit_ex(h->md, dkim_sha256(), NULL) != 1)
		fatal_bug("dkim_canon: EVP_DigestInit_ex failed");
	h->next = cs->hashes;
	cs->hashes = h;
	return h;
}

/* canon_feed - hand canonical bytes to every hash of the stream, each up to its l= */
static void
canon_feed(struct canon_stream *cs, const unsigned char *p, size_t n)
{
	cs->len += n;
	for (struct dkim_body_hash *h = cs->hashes; h != NULL; h = h->next) {
		size_t take = n;

		if (h->limit >= 0) {
			uint64_t room = (uint64_t)h->limit - h->hashed;

			if (room < take)
				take = (size_t)room;
		}
		if (take == 0)
			continue;
		if (EVP_DigestUpdate(h->md, p, take) != 1)
			fatal_bug("dkim_canon: EVP_DigestUpdate failed");
		h->hashed += take;
	}
}

/* canon_flush - give the pending span to the digests */
static inline void
canon_flush(struct canon_stream *cs)
{
	if (cs->span_len > 0)
		canon_feed(cs, cs->span, cs->span_len);
	cs->span = NULL;
	cs->span_len = 0;
}

/* canon_emit - queue output, merging it with the pending span when adjacent */
static inline void
canon_emit(struct canon_stream *cs, const unsigned char *p, size_t n)
{
	if (cs->span_len > 0 && cs->span + cs->span_len == p) {
		cs->span_len += n;
		return;
	}
	canon_flush(cs);
	cs->span = p;
	cs->span_len = n;
}

/* canon_content - content bytes of a line: first the held empty lines and (relaxed)
 * the one SP standing for a WSP run inside the line */
static inline void
canon_content(struct canon_stream *cs, const unsigned char *p, size_t n)
{
	if (!cs->in_line) {
		cs->in_line = true;
		while (cs->empty_lines > 0) {
			uint64_t k = cs->empty_lines < CRLF_RUN ? cs->empty_lines : CRLF_RUN;

			canon_flush(cs);
			canon_feed(cs, crlf_run, 2 * (size_t)k);
			cs->empty_lines -= k;
		}
	}
	if (cs->wsp_pending) {
		cs->wsp_pending = false;
		canon_emit(cs, cs->wsp_ptr != NULL ? cs->wsp_ptr : one_sp, 1);
	}
	canon_emit(cs, p, n);
}

/* canon_eol - a line ends; lit is the CRLF in the input, or NULL for a bare LF */
static inline void
canon_eol(struct canon_stream *cs, const unsigned char *lit)
{
	cs->wsp_pending = false;	/* trailing WSP is dropped (relaxed) */
	if (cs->in_line) {
		canon_emit(cs, lit != NULL ? lit : crlf_run, 2);
		cs->in_line = false;
	} else {
		cs->empty_lines++;
	}
}

/* canon_update_simple - simple: only line ends change (bare LF becomes CRLF) and
 * empty lines are held back. Lines are found with memchr, which is vectorised. */
static void
canon_update_simple(struct canon_stream *cs, const unsigned char *d, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const unsigned char *nl = memchr(d + i, '\n', len - i);

		if (nl == NULL) {
			size_t end = len;

			if (d[len - 1] == '\r') {	/* a CRLF may be split here */
				cs->cr_pending = true;
				end--;
			}
			if (end > i)
				canon_content(cs, d + i, end - i);
			break;
		}

		size_t j = (size_t)(nl - d);

		if (j > i && d[j - 1] == '\r') {
			if (j - 1 > i)
				canon_content(cs, d + i, j - 1 - i);
			canon_eol(cs, d + j - 1);
		} else {
			if (j > i)
				canon_content(cs, d + i, j - i);
			canon_eol(cs, NULL);
		}
		i = j + 1;
	}
}

/* SP, HTAB, CR and LF: the bytes that stop relaxed's copy loop */
static const unsigned char relaxed_stop[256] = {
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1
};

/* canon_update_relaxed - relaxed: WSP runs become one SP, WSP before a line end
 * goes, empty (or all-WSP) lines are held back */
static void
canon_update_relaxed(struct canon_stream *cs, const unsigned char *d, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		/* The hot loop: bytes copied as they are. A lone SP between two such
		 * bytes is copied too, unless it continues a run from the last chunk. */
		for (;;) {
			while (j < len && !relaxed_stop[d[j]])
				j++;
			if (j + 1 < len && d[j] == ' ' && !relaxed_stop[d[j + 1]] &&
			    (j > i || !cs->wsp_pending)) {
				j += 2;
				continue;
			}
			break;
		}
		if (j > i)
			canon_content(cs, d + i, j - i);
		if (j == len)
			break;
		switch (d[j]) {
		case '\n':
			canon_eol(cs, NULL);
			i = j + 1;
			break;
		case '\r':
			if (j + 1 == len) {
				cs->cr_pending = true;
				i = len;
			} else if (d[j + 1] == '\n') {
				canon_eol(cs, d + j);
				i = j + 2;
			} else {
				canon_content(cs, d + j, 1);
				i = j + 1;
			}
			break;
		default: {	/* a WSP run */
			size_t k = j + 1;

			while (k < len && (d[k] == ' ' || d[k] == '\t'))
				k++;
			if (cs->wsp_pending) {
				cs->wsp_ptr = NULL;	/* continues a run from before */
			} else {
				cs->wsp_pending = true;
				cs->wsp_ptr = k == j + 1 && d[j] == ' ' ? d + j : NULL;
			}
			i = k;
			break;
		}
		}
	}
}

/* canon_update - run one chunk through one canonicalizer */
static void
canon_update(struct canon_stream *cs, const unsigned char *d, size_t len)
{
	if (len == 0)
		return;
	if (cs->cr_pending) {
		cs->cr_pending = false;
		if (d[0] == '\n') {
			canon_eol(cs, NULL);
			d++;
			len--;
		} else {
			canon_content(cs, crlf_run, 1);	/* the held bare CR */
		}
	}
	if (len > 0) {
		if (cs->canon == DKIM_CANON_RELAXED)
			canon_update_relaxed(cs, d, len);
		else
			canon_update_simple(cs, d, len);
	}
	canon_flush(cs);
	cs->wsp_ptr = NULL;	/* the chunk goes away */
}

/* dkim_body_set_update - feed one chunk of raw body to every wanted canonicalizer */
void
dkim_body_set_update(struct dkim_body_set *s, const unsigned char *data, size_t len)
{
	s->started = true;
	for (int c = 0; c < CANON_N; c++)
		if (s->cs[c].hashes != NULL)
			canon_update(&s->cs[c], data, len);
}

/* dkim_body_set_final - end the body: finish the last line, finish the digests */
void
dkim_body_set_final(struct dkim_body_set *s)
{
	if (s->finished)
		return;
	s->finished = true;
	s->started = true;
	for (int c = 0; c < CANON_N; c++) {
		struct canon_stream *cs = &s->cs[c];

		if (cs->hashes == NULL)
			continue;
		if (cs->cr_pending) {
			cs->cr_pending = false;
			canon_content(cs, crlf_run, 1);
		}
		if (cs->in_line)		/* no final CRLF: add it */
			canon_eol(cs, NULL);
		if (cs->canon == DKIM_CANON_SIMPLE && cs->len == 0 && cs->span_len == 0)
			canon_emit(cs, crlf_run, 2);	/* an empty body is one CRLF */
		canon_flush(cs);
		for (struct dkim_body_hash *h = cs->hashes; h != NULL; h = h->next) {
			unsigned int dlen = 0;

			if (EVP_DigestFinal_ex(h->md, h->digest, &dlen) != 1 ||
			    dlen != DKIM_HASH_LEN)
				fatal_bug("dkim_canon: EVP_DigestFinal_ex failed");
			h->canon_len = cs->len;
		}
	}
}

/* dkim_body_hash_result - the digest and the whole canonical length */
void
dkim_body_hash_result(const struct dkim_body_hash *h,
    unsigned char digest[DKIM_HASH_LEN], uint64_t *canon_len)
{
	memcpy(digest, h->digest, DKIM_HASH_LEN);
	if (canon_len != NULL)
		*canon_len = h->canon_len;
}

/* dkim_body_set_free - release the set and every hash it handed out */
void
dkim_body_set_free(struct dkim_body_set *s)
{
	if (s == NULL)
		return;
	for (int c = 0; c < CANON_N; c++) {
		struct dkim_body_hash *h = s->cs[c].hashes, *next;

		for (; h != NULL; h = next) {
			next = h->next;
			EVP_MD_CTX_free(h->md);
			free(h);
		}
	}
	free(s);
}
