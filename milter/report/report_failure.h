/* report_failure - the RFC 9991 failure sample of one inbound message: whether
 * the record's fo= asks for one, and the redacted copy of what the report says.
 * Pure: no I/O, no global state.
 */
#ifndef AUTHMILTER_REPORT_FAILURE_H
#define AUTHMILTER_REPORT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "result.h"
#include "header.h"
#include "report_row.h"
#include "verdict.h"

#define REPORT_FAIL_MAX_HEADER	32768	/* bytes of the redacted header copy: fields
					 * that do not fit whole are left out */
#define REPORT_FAIL_MAX_RUF	2048	/* bytes of the ruf list kept, cut at a comma */
#define REPORT_FAIL_MAX_AR	4096	/* bytes of the Authentication-Results copy */
#define REPORT_FAIL_MAX_LINE	900	/* bytes of one line of a copied value before
					 * it is folded (RFC 5322: 998 at most) */
#define REPORT_FAIL_MAX_QUOTED	256	/* bytes a quoted local part may span (RFC 5321
					 * allows 64); longer, only its end is redacted */
#define REPORT_FAIL_MAX_EW	256	/* bytes an RFC 2047 encoded word may span (the
					 * RFC says 75; senders exceed it) */
#define REPORT_FAIL_REDACTED	"redacted"	/* what a local part or display name
						 * becomes (RFC 6590) */

/* what the verdicts say, for the fo= test */
struct report_fo_facts {
	bool	 dkim_aligned;		/* DKIM produced an aligned pass */
	bool	 spf_aligned;		/* SPF produced an aligned pass */
	bool	 dkim_failed;		/* a signature failed evaluation (fail, permerror) */
	bool	 spf_failed;		/* SPF failed (fail, permerror) */
};

/* report_failure_fo - does fo (as published: "0", "1", "d", "s", colon-separated)
 * select this message? 0: neither mechanism gave an aligned pass; 1: one of them
 * did not; d: a DKIM signature failed, aligned or not; s: SPF failed, aligned or
 * not. An unknown value selects nothing by itself. */
bool	 report_failure_fo(const char *fo, const struct report_fo_facts *f);

/* report_failure_redact - free text v[0..len) (a field the operator keeps with
 * report.failure_keep_fields) into out (appended): every RFC 2047 encoded word
 * whose decoded text holds an '@' replaced by REPORT_FAIL_REDACTED, every run that
 * looks like a local part before an '@' too, line breaks made "\n\t" folds (a
 * break followed by nothing or by another break is dropped, so no empty line and
 * no new field can start), bytes outside printable ASCII and tab as '?' */
void	 report_failure_redact(struct buf *out, const char *v, size_t len);

/* report_failure_headers - the redacted header copy, "Name: value\n" per field in
 * order, at most REPORT_FAIL_MAX_HEADER bytes of whole fields; returns the number
 * of fields left out. Address fields (From, To, Cc, Reply-To, Sender, Resent-*,
 * Return-Path, ...) go through the RFC 5322 parser, every display name and local
 * part redacted; (ARC-)Authentication-Results through authres_redact; DKIM-Signature,
 * ARC-Seal and ARC-Message-Signature through the tag-list parser (i='s local part
 * redacted, z= reduced to names); Date and MIME-Version copied. Any other field only
 * when keep[0..n_keep) names it (ignoring case): message ids copied, free text
 * through report_failure_redact. A field that does not parse is left out, and so
 * is one whose name is not printable ASCII without ':'. */
size_t	 report_failure_headers(const struct header_list *h, const char *const *keep,
	    size_t n_keep, struct buf *out);

/* what the verdict record does not hold */
struct report_failure_input {
	const char	*id;		/* 16 hex digits, new for this sample */
	time_t		 received;
	const char	*source_ip;	/* "" when the client had no address */
	const char	*mailfrom;	/* envelope sender without <>; "" null sender */
	enum action	 action;	/* what the MTA was told */
	const char	*auth_results;	/* our A-R value, unredacted */
	const struct header_list *headers;
	const char *const *keep;	/* report.failure_keep_fields */
	size_t		 n_keep;
};

/* report_failure_sample - a new sample (report_sample_free) when the message
 * is reported: DMARC passed or failed against a record with a ruf, that is not
 * a psd=y record, the record's fo selects it and the MTA was not told to try
 * again; else NULL */
struct report_sample *report_failure_sample(const struct verdict *v,
	    const struct report_failure_input *in);

#endif
