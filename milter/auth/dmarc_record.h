/* dmarc_record - one RFC 9989 DMARC TXT record, parsed: the policy tags, the
 * alignment modes and the report URIs. Pure: no DNS, no configuration.
 */
#ifndef AUTHMILTER_DMARC_RECORD_H
#define AUTHMILTER_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define DMARC_MAX_URIS		32	/* rua/ruf URIs kept from one record */

enum dmarc_policy {
	DMARC_POLICY_UNSET = 0,		/* tag absent (sp/np fall back) */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT
};

enum dmarc_align { DMARC_ALIGN_RELAXED = 0, DMARC_ALIGN_STRICT };

enum dmarc_psd { DMARC_PSD_U = 0, DMARC_PSD_Y, DMARC_PSD_N };	/* default u */

/* what one TXT record is */
enum dmarc_record_kind {
	DMARC_REC_OK,		/* a DMARC record with a policy (p=none by its rua) */
	DMARC_REC_NOT_DMARC,	/* does not start with v=DMARC1: ignored */
	DMARC_REC_INVALID,	/* v=DMARC1, but not a valid tag-list (a repeated
				 * tag, RFC 6376 §3.2): discarded as if absent;
				 * nothing to clear */
	DMARC_REC_UNUSABLE	/* v=DMARC1, but no valid p/sp/np and no valid rua:
				 * no DMARC when it is the policy record (§4.10.1) */
};

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	bool		 testing;	/* t=y: the policy applies one level lower */
	enum dmarc_psd	 psd;
	enum dmarc_align adkim, aspf;
	char		*rua[DMARC_MAX_URIS];
	size_t		 n_rua;
	char		*ruf[DMARC_MAX_URIS];
	size_t		 n_ruf;
	char		 fo[16];	/* default "0" */
};

/* dmarc_record_read - classify and parse one TXT record; r is filled (and must be
 * cleared) unless DMARC_REC_NOT_DMARC or DMARC_REC_INVALID; err says why it is not DMARC_REC_OK. A
 * missing or invalid p, or an invalid sp or np, with a valid rua becomes p=none
 * (RFC 9989 §4.10.1). pct, rf and ri are ignored like unknown tags. */
enum dmarc_record_kind dmarc_record_read(const char *txt, size_t len,
	    struct dmarc_record *r, char *err, size_t errlen);
/* dmarc_record_parse - dmarc_record_read, true only for DMARC_REC_OK (r is then
 * filled; otherwise there is nothing to clear) */
bool	 dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
	    char *err, size_t errlen);
/* dmarc_record_clear - free the URIs, back to the defaults; NULL is fine */
void	 dmarc_record_clear(struct dmarc_record *r);
/* dmarc_record_copy - a deep copy of src into dst (dst's old contents not freed) */
void	 dmarc_record_copy(struct dmarc_record *dst, const struct dmarc_record *src);
/* dmarc_policy_name - "none", "quarantine", "reject", "unset" */
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
