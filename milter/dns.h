/* dns - the one resolver: libunbound, shared by all threads, caching.
 *
 * A lookup is started (dns_query_start) as soon as its name is known and collected
 * later (dns_query_wait), so lookups of one message run in parallel. Every answer is
 * one of: records, NXDOMAIN, no data, or a temporary failure; a lookup never takes
 * longer than the configured timeout.
 */
#ifndef AUTHMILTER_DNS_H
#define AUTHMILTER_DNS_H

#include <stdbool.h>
#include <stddef.h>

/* RR types we ask for (values from RFC 1035/3596) */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

/* Caps on what one answer can make us hold. */
#define DNS_MAX_RECORDS		64		/* RRs kept from one answer */
/* Bytes of one joined TXT record: the most an RR's rdata can carry, so no record is
 * ever cut or refused here; each consumer applies its own, smaller cap (SPF 4 KB,
 * DKIM and DMARC their parsers' limits) and turns a record over it into the
 * permanent error it is. */
#define DNS_MAX_TXT		65535

enum dns_status {
	DNS_OK = 0,		/* at least one record of the asked type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of this type */
	DNS_TEMPFAIL		/* timeout, SERVFAIL, REFUSED, network, bogus DNSSEC */
};

enum dns_security {
	DNS_SEC_INSECURE = 0,	/* not validated (no trust anchor, or unsigned zone) */
	DNS_SEC_SECURE,		/* DNSSEC-validated */
	DNS_SEC_BOGUS		/* validation failed; status is DNS_TEMPFAIL */
};

struct dns_rr {
	/* A/AAAA: family and addr; PTR/MX/CNAME: name (lower case, no final dot);
	 * MX: pref too; TXT: txt, the record's strings joined, txt_len bytes (may
	 * contain NULs; NUL-terminated as well). */
	int		 family;
	unsigned char	 addr[16];
	char		*name;
	unsigned	 pref;
	char		*txt;
	size_t		 txt_len;
};

struct dns_answer {
	enum dns_status	  status;
	enum dns_security security;
	int		  rrtype;
	size_t		  count;	/* records in rr (0 unless DNS_OK) */
	struct dns_rr	 *rr;
	const char	 *why;		/* for DNS_TEMPFAIL: "timeout", "SERVFAIL", ... */
};

struct dns_options {
	char	**nameservers;		/* "ADDR" or "ADDR@PORT"; none: /etc/resolv.conf */
	size_t	  n_nameservers;
	unsigned  timeout_ms;		/* for one lookup */
	const char *trust_anchor;	/* NULL or "": no DNSSEC validation */
};

struct dns_resolver;
struct dns_query;

/* dns_resolver_new - a shared resolver; NULL with a message in err on failure */
struct dns_resolver *dns_resolver_new(const struct dns_options *opts, char *err,
	    size_t errlen);
/* dns_resolver_free - all queries must have been freed first */
void	 dns_resolver_free(struct dns_resolver *r);

#define DNS_MAX_NAME_TEXT	253	/* octets of a name without final dot */
#define DNS_MAX_LABEL		63	/* octets of one label (RFC 1035 §2.3.4) */

/* dns_name_ok (dns_name.c) - may this name exist: 1..253 octets without the final dot,
 * labels of 1..63. Without flags, no whitespace, control or backslash (a host
 * or domain name we were given). DNS_NAME_MACRO: a name built by an SPF macro,
 * whose labels may hold any octet but NUL (RFC 2181 §11; `%_` gives a space). */
#define DNS_NAME_MACRO	0x1
bool	 dns_name_ok(const char *name, unsigned flags);

/* dns_query_start - begin a lookup; never NULL (a failure to start is an answer
 * with DNS_TEMPFAIL). name may carry a final dot or not; a name that
 * dns_name_ok(name, 0) refuses is answered NXDOMAIN without asking. */
struct dns_query *dns_query_start(struct dns_resolver *r, const char *name, int rrtype);
/* dns_query_start_flags - the same with dns_name_ok's flags */
struct dns_query *dns_query_start_flags(struct dns_resolver *r, const char *name,
	    int rrtype, unsigned flags);
/* dns_query_wait - block until the answer or the deadline; the answer belongs to q */
const struct dns_answer *dns_query_wait(struct dns_query *q);
/* dns_query_done - true when wait would not block */
bool	 dns_query_done(struct dns_query *q);
/* dns_query_free - cancel if still running, release; NULL is fine */
void	 dns_query_free(struct dns_query *q);

struct ub_result;

/* dns_answer_fill - parse libunbound's result (rcode, rdata) into a, whose rrtype
 * the caller set; err is libunbound's error code. Pure: what it parses is
 * untrusted DNS data, bounded by DNS_MAX_RECORDS and the rdata lengths. */
void	 dns_answer_fill(struct dns_answer *a, int err, const struct ub_result *res);
/* dns_answer_clear - free what an answer holds; it may be filled again */
void	 dns_answer_clear(struct dns_answer *a);

/* dns_status_name - "ok", "nxdomain", "nodata", "tempfail" */
const char *dns_status_name(enum dns_status s);

#endif
