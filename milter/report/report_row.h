/* report_row - one message's DMARC evaluation as recorded for RFC 9990 reports. */
#ifndef AUTHMILTER_REPORT_ROW_H
#define AUTHMILTER_REPORT_ROW_H
#include <stddef.h>
#include <time.h>
#define REPORT_MAX_DKIM	100	/* RFC 9990: at most 100 dkim results per record */
struct report_dkim {
	char	*domain;		/* d= */
	char	*selector;		/* s= */
	char	*result;		/* pass fail neutral policy temperror permerror none */
};
/* one RFC 9991 failure sample: what the failure report of one message says.
 * Every string is set (maybe ""); report_failure.c builds it, redacted. */
struct report_sample {
	char	*id;			/* 16 lower-case hex digits: the store's key */
	time_t	 received;		/* UTC epoch seconds */
	char	*source_ip;
	char	*policy_domain;
	char	*header_from;		/* the From domain */
	char	*envelope_from;		/* MAIL FROM domain, "" for the null sender */
	char	*ruf;			/* the record's ruf as published, cut at a comma */
	char	*discovery;		/* "treewalk" or "psl": for the §4 check */
	char	*alignment;		/* Identity-Alignment: none, dkim, spf, dkim,spf */
	char	*delivery;		/* Delivery-Result: delivered spam reject other */
	char	*auth_results;		/* our Authentication-Results value, redacted */
	char	*dkim_domain;		/* an aligned DKIM failure's d=, "" when none */
	char	*dkim_identity;		/* its i=, local part redacted */
	char	*dkim_selector;		/* its s= */
	char	*spf_domain;		/* an aligned SPF failure's domain, "" when none */
	char	*headers;		/* the redacted header, LF line ends */
	char	*rate_domain;		/* what report.failure_rate counts under: the
					 * organizational domain (the policy domain
					 * when its walk failed) */
};

struct report_row {
	time_t	 received;		/* UTC epoch seconds */
	char	*source_ip;
	char	*header_from;		/* the From domain */
	char	*envelope_from;		/* MAIL FROM domain; "" for the null sender */
	char	*envelope_to;		/* first RCPT domain; may be NULL */
	char	*policy_domain;		/* where the policy record was found */
	char	*rua;			/* the record's rua as published (comma list), may be "" */
	char	*ruf;			/* the record's ruf, may be "" */
	char	*p, *sp, *np;		/* none quarantine reject, or NULL when absent */
	char	*adkim, *aspf;		/* "r" or "s" */
	char	*fo;			/* as published, default "0" */
	char	*testing;		/* "n" or "y" */
	char	*discovery;		/* "treewalk" or "psl" */
	char	*spf_domain;		/* domain SPF evaluated (MAIL FROM or HELO) */
	char	*spf_scope;		/* "mfrom" or "helo" */
	char	*spf_result;		/* none neutral pass fail softfail temperror permerror */
	struct report_dkim *dkim;	/* n_dkim of them, in the RFC 9990 order */
	size_t	 n_dkim;
	char	*dkim_aligned;		/* "pass" or "fail" */
	char	*spf_aligned;		/* "pass" or "fail" */
	char	*disposition;		/* none pass quarantine reject (RFC 9990) */
	char	*reasons;		/* space-separated RFC 9990 reason types, "" when none
					 * (local_policy trusted_forwarder mailing_list
					 * policy_test_mode other) */
	struct report_sample *sample;	/* a failure sample stored with the row, or NULL */
};
void	 report_row_free(struct report_row *r);	/* frees the members, not r */
/* report_sample_free - a sample's members and the sample; accepts NULL */
void	 report_sample_free(struct report_sample *s);
#endif
