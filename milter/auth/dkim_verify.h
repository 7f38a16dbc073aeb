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

struct dkim_verify_opts {
	unsigned max_signatures;
	unsigned min_key_bits;
	time_t	 now;
	bool	 allow_partial_body;	/* an l= shorter than the body may pass; when
					 * false such a signature is "policy" */
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
