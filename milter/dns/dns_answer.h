/* dns_answer - the answer to one DNS lookup: records, NXDOMAIN, no data, or a
 * temporary failure; and the pure step from libunbound's result to it.
 */
#ifndef AUTHMILTER_DNS_ANSWER_H
#define AUTHMILTER_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

/* RR types we ask for (values from RFC 1035/3596) */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

#define DNS_MAX_NAME_TEXT	253	/* octets of a name without final dot */
#define DNS_MAX_LABEL		63	/* octets of one label (RFC 1035 §2.3.4) */

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
	DNS_NODATA,		/* the name exists, no record of this type; also a
				 * CNAME whose chain ends in NXDOMAIN (RFC 6604) */
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
	int		  ttl;		/* seconds, as the resolver gave it when asked
					 * (a cached copy keeps it); 0 when unknown */
};

struct ub_result;

/* dns_answer_fill - parse libunbound's result (rcode, rdata) into a, whose rrtype
 * the caller set; err is libunbound's error code. Pure: what it parses is
 * untrusted DNS data, bounded by DNS_MAX_RECORDS and the rdata lengths. */
void	 dns_answer_fill(struct dns_answer *a, int err, const struct ub_result *res);
/* dns_answer_clear - free what an answer holds; it may be filled again */
void	 dns_answer_clear(struct dns_answer *a);
/* dns_answer_tempfail - make a an empty temporary failure; why is static text */
void	 dns_answer_tempfail(struct dns_answer *a, const char *why);

/* dns_status_name - "ok", "nxdomain", "nodata", "tempfail" */
const char *dns_status_name(enum dns_status s);

#endif
