/* dkim_verify - verify the DKIM-Signature fields of one message.
 *
 * dkim_verify_add is called as each DKIM-Signature header arrives: it parses the
 * tags and starts the key lookup at once. The body is streamed into the shared
 * dkim_body_set; dkim_verify_finish waits for the keys and checks every signature.
 */
#ifndef AUTHMILTER_DKIM_VERIFY_H
#define AUTHMILTER_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dkim_canon.h"
#include "dkim_sig.h"
#include "dns.h"
#include "header.h"
#include "result.h"

#define DKIM_CLOCK_DRIFT	300	/* seconds of clock drift allowed on t= and x= */

struct dkim_verdict {
	enum auth_result result;	/* PASS, FAIL, NEUTRAL, POLICY, TEMPERROR, PERMERROR */
	char	 domain[256];		/* header.d: d= is at most 253 bytes (dkim_sig.c) */
	char	 identity[DKIM_SIG_IDENTITY_MAX + 1];	/* header.i, i= decoded: longer is
					 * permerror in dkim_sig.c, so it always fits */
	char	 selector[256];		/* header.s: s= is at most 253 bytes */
	char	 alg[16];		/* header.a */
	char	 b_prefix[9];		/* header.b */
	long long length;		/* l=, -1 when absent */
	bool	 testing;		/* key record t=y */
	char	 reason[128];		/* short, safe for a header comment */
};

/* What one message may make the verifiers cost, DKIM-Signature, ARC-Message-
 * Signature and ARC-Seal checks together (the sender chooses how many it
 * carries; each key's cost is bounded in dkim_keyrec.h):
 * - public-key operations: enough for dkim.max_signatures' default 5 and an
 *   ARC chain of 13 hops (an AS and an AMS each; ARC_MAX_KEYS already fails a
 *   chain of more than 16 sealers). Each also canonicalizes and hashes the
 *   fields its h= names, so this bounds that work too. A signature checked
 *   after the bound is permerror "over 32 public-key operations per message"
 *   (for ARC the chain fails with it), counted in pk_refused for the log.
 * - distinct body hashes (canonicalization, l=): each streams the whole body
 *   through SHA-256; a signature asking for another is permerror "over 8 body
 *   hashes per message", counted in body_refused. */
#define DKIM_VERIFY_MAX_PK_OPS		32
#define DKIM_VERIFY_MAX_BODY_HASHES	8

/* Per message, shared by its dkim_verify and arc_verify (session.c), zeroed
 * with the message. */
struct dkim_verify_budget {
	unsigned pk_ops;		/* public-key operations done */
	unsigned pk_refused;		/* signatures refused for the bound */
	unsigned n_body;
	struct {
		enum dkim_canon c;
		int64_t	 limit;		/* l=, -1 when absent */
	} body[DKIM_VERIFY_MAX_BODY_HASHES];
	unsigned body_refused;		/* signatures refused for the bound */
};

struct dkim_verify_opts {
	unsigned max_signatures;
	unsigned min_key_bits;
	time_t	 now;
	bool	 allow_partial_body;	/* an l= shorter than the body may pass; when
					 * false such a signature is "policy" */
	struct dkim_verify_budget *budget;	/* the message's; NULL: dkim_verify_new
					 * and arc_verify_new use one of their own,
					 * dkim_verify_check counts nothing */
};

struct dkim_verify;

struct dkim_verify *dkim_verify_new(struct dns_resolver *r,
	    const struct dkim_verify_opts *opts, struct dkim_body_set *body);
/* dkim_verify_add - a DKIM-Signature arrived (value raw); header_index is its
 * position in the message's header list. Beyond max_signatures: ignored, counted. */
void	 dkim_verify_add(struct dkim_verify *v, const char *value, size_t value_len,
	    size_t header_index);
/* dkim_verify_finish - after dkim_body_set_final; verdicts owned by v, in header
 * order. *ignored: signatures beyond the cap. */
size_t	 dkim_verify_finish(struct dkim_verify *v, const struct header_list *h,
	    const struct dkim_verdict **verdicts, size_t *ignored);
void	 dkim_verify_free(struct dkim_verify *v);

/* dkim_verify_body_hash - the body hash for (c, limit) from the shared body set,
 * NULL (counted in b->body_refused) when it would be a new one beyond
 * DKIM_VERIFY_MAX_BODY_HASHES; b NULL: no bound */
struct dkim_body_hash *dkim_verify_body_hash(struct dkim_verify_budget *b,
	    struct dkim_body_set *body, enum dkim_canon c, int64_t limit);

/* dkim_verify_check - the pure step after the key is known: check one parsed
 * signature s against key record k, the message's headers (the signature is
 * field header_index) and the body hash and canonical body length that the
 * body set computed for (s->body_canon, s->length). Fills every field of out. */
struct dkim_sig;
struct dkim_keyrec;
void	 dkim_verify_check(const struct dkim_sig *s, const struct dkim_keyrec *k,
	    const struct header_list *h, size_t header_index,
	    const unsigned char bodyhash[DKIM_HASH_LEN], uint64_t body_len,
	    const struct dkim_verify_opts *opts, struct dkim_verdict *out);

/* dkim_verify_answer - dkim_verify_check with the key taken from a TXT lookup's
 * answer (the first record that parses; none: permerror; no answer: temperror
 * or permerror "no key"). The signature field header_index may be a
 * DKIM-Signature, an ARC-Message-Signature or an ARC-Seal (arc_verify.c). */
struct dns_answer;
void	 dkim_verify_answer(const struct dns_answer *a, const struct dkim_sig *s,
	    const struct header_list *h, size_t header_index,
	    const unsigned char bodyhash[DKIM_HASH_LEN], uint64_t body_len,
	    const struct dkim_verify_opts *opts, struct dkim_verdict *out);

#endif
