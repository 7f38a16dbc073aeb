/* dkim_sig - parse a DKIM-Signature header value (RFC 6376 §3.5) strictly.
 *
 * Pure: no DNS, no global state. The parsed signature owns copies of its tags.
 */
#ifndef AUTHMILTER_DKIM_SIG_H
#define AUTHMILTER_DKIM_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dkim_canon.h"
#include "dkim_key.h"
#include "taglist.h"

#define DKIM_SIG_MAX_LEN	(64 * 1024)	/* a longer header is permerror */
#define DKIM_SIG_MAX_HEADERS	128		/* names in h= */
/* decoded i=: a local-part of RFC 5321 §4.5.3.1.1's 64 octets, '@', a 253-octet
 * domain. A longer one is permerror, so header.i is never shown cut. */
#define DKIM_SIG_IDENTITY_MAX	(64 + 1 + 253)

struct dkim_sig {
	enum dkim_alg	 alg;
	char		*domain;		/* d=, lower case */
	char		*selector;		/* s= */
	char		*identity;		/* i= decoded, default "@" d= */
	enum dkim_canon	 header_canon, body_canon;
	char		**headers;		/* h=, as written */
	size_t		 n_headers;
	unsigned char	 bodyhash[DKIM_HASH_LEN];	/* bh= decoded */
	unsigned char	*sig;			/* b= decoded */
	size_t		 sig_len;
	char		 b_prefix[9];		/* first 8 characters of b= (header.b) */
	int64_t		 length;		/* l=, -1 when absent */
	int64_t		 timestamp;		/* t=, -1 when absent */
	int64_t		 expire;		/* x=, -1 when absent */
};

/* dkim_sig_b64 - decode base64 skipping FWS; NULL when malformed; caller frees */
unsigned char *dkim_sig_b64(const char *s, size_t len, size_t *out_len);

/* dkim_sig_parse - fill s from a raw header value; false with a reason in err
 * (a permerror). Unknown tags are ignored, duplicate tags are an error. */
bool	 dkim_sig_parse(const char *value, size_t len, struct dkim_sig *s, char *err,
	    size_t errlen);
void	 dkim_sig_clear(struct dkim_sig *s);

#endif
