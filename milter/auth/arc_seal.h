/* arc_seal - RFC 8617 §5.1: this hop's ARC set (AAR, AMS, AS) for a message.
 *
 * arc_seal_plan decides from the message's fields and our ARC verdict whether
 * RFC 8617 lets us seal, with which instance and cv=; arc_seal_make builds the
 * three signed field values. Pure: no libmilter, no DNS, no global state.
 */
#ifndef AUTHMILTER_ARC_SEAL_H
#define AUTHMILTER_ARC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "arc_verify.h"
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "header.h"

enum arc_cv { ARC_CV_NONE = 0, ARC_CV_PASS, ARC_CV_FAIL };

/* What arc_seal_plan decided. */
struct arc_seal_plan {
	bool		 seal;		/* false: add nothing (why says which rule) */
	const char	*why;		/* a short token for the log: "chain-failed", ... */
	unsigned	 instance;	/* i= of the new set, 1..ARC_MAX_INSTANCES */
	enum arc_cv	 cv;
	/* the earlier sets the seal covers, oldest first: none for cv=none and for
	 * cv=fail (§5.1.2: the new set only), every set for cv=pass */
	const struct arc_set_fields *prior;
	unsigned	 n_prior;
};

struct arc_seal_params {
	const struct dkim_key *key;
	const char	*domain;		/* d= */
	const char	*selector;		/* s= */
	char * const	*headers;		/* AMS h= names; NULL/0: RFC 6376 §5.4.1 set */
	size_t		 n_headers;
	char * const	*oversign;		/* listed once more than they occur */
	size_t		 n_oversign;
	time_t		 now;			/* t= */
};

/* The new set's three values, each as written after the colon (leading space
 * included, folded with CRLF TAB); arc_seal_set_clear frees them. */
struct arc_seal_set {
	char	*aar, *ams, *as;
};

/* arc_seal_cv_name - "none", "pass" or "fail" */
const char *arc_seal_cv_name(enum arc_cv cv);
/* arc_seal_plan - RFC 8617 §5.1 for this message: v NULL means the chain was
 * not verified (sealed only when the message carries no ARC field) */
void	 arc_seal_plan(const struct header_list *h, const struct arc_verdict *v,
	    struct arc_seal_plan *plan);
/* arc_seal_make - the three values of the planned set: AAR "i=N; " + authres
 * (authres_render's value), AMS over h with bodyhash (relaxed/relaxed), AS over
 * the prior sets and the new one; false with err set when signing failed */
bool	 arc_seal_make(const struct arc_seal_params *p, const struct arc_seal_plan *plan,
	    const struct header_list *h, const char *authres,
	    const unsigned char bodyhash[DKIM_HASH_LEN], struct arc_seal_set *out,
	    char *err, size_t errlen);
void	 arc_seal_set_clear(struct arc_seal_set *s);

#endif
