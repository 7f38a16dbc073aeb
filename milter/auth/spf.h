/* spf - RFC 7208 SPF for the HELO and MAIL FROM identities, on libspf2.
 *
 * libspf2 evaluates the records; every DNS lookup it makes goes through our
 * resolver (spf_dns.c) which also enforces the RFC 7208 §4.6.4 limits libspf2
 * lacks. spf_start begins the evaluation in the background at MAIL FROM;
 * spf_finish collects both verdicts.
 */
#ifndef AUTHMILTER_SPF_H
#define AUTHMILTER_SPF_H

#include <stdbool.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "result.h"
#include "spf_macro.h"

#define SPF_DOMAIN_MAX	253	/* longest domain an evaluation looks up (RFC 1035) */

struct spf_verdict {
	enum auth_result result;	/* NONE/PASS/FAIL/SOFTFAIL/NEUTRAL/TEMPERROR/PERMERROR,
					 * SKIPPED when this identity was not checked */
	char	 identity[16];		/* "mailfrom" or "helo" */
	const char *sender;		/* what was checked, whole: local@domain, or the HELO
					 * name; owned by the check, never NULL */
	char	 domain[SPF_DOMAIN_MAX + 2];	/* the domain whose record was evaluated
					 * (fits by construction: only a name that passed
					 * the §4.3 check is stored); "" when none was. DMARC
					 * aligns with this field, never a re-parse of sender */
	char	 reason[256];		/* short, safe for a header comment */
	unsigned lookups;		/* DNS-querying terms the evaluation used */
	unsigned void_lookups;		/* of its lookups, NXDOMAIN or no data */
	char	 explanation[SPF_MACRO_MAX_EXP + 1];	/* a fail's exp= text (RFC 7208
					 * §6.2): printable ASCII, whole or "" */
};

struct spf_check;

/* spf_start - begin checking; mailfrom "" is the null sender (then the HELO identity
 * is used for MAIL FROM too, §2.4). check_helo: also evaluate the HELO identity. */
struct spf_check *spf_start(struct dns_resolver *r, const struct sockaddr *client,
	    const char *helo, const char *mailfrom, bool check_helo);
/* spf_finish - wait and return the verdicts (owned by c) */
void	 spf_finish(struct spf_check *c, const struct spf_verdict **mailfrom,
	    const struct spf_verdict **helo);
void	 spf_free(struct spf_check *c);

/* spf_received_header - the value of a Received-SPF header (RFC 7208 §9.1) for v,
 * free of CR, LF and unbalanced comments; appended to out */
void	 spf_received_header(const struct spf_verdict *v, const char *client_ip,
	    const char *helo, const char *receiver, struct buf *out);

#endif
