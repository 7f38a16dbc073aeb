/* header - the message's header fields as the MTA delivered them.
 *
 * Values are stored exactly as written after the colon (the daemon negotiates
 * SMFIP_HDR_LEADSPC), with every line break inside a folded value normalised to
 * CRLF, so DKIM "simple" canonicalization sees the bytes that went over the wire.
 * Per-message state: emptied at end of message or abort.
 */
#ifndef AUTHMILTER_HEADER_H
#define AUTHMILTER_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* Hard caps: a peer cannot make us hold more than this. */
#define HEADER_MAX_COUNT	10000		/* fields per message */
#define HEADER_MAX_BYTES	(1024 * 1024)	/* all names and values together */

struct header {
	char	*name;		/* as written, case preserved, without the white space
				 * an obsolete "Subject : x" has before the colon
				 * (RFC 5322 §4.5.8): what every comparison uses */
	char	*name_raw;	/* as the MTA passed it, WSP kept: what the DKIM
				 * canonicalizations see; the one allocation, which
				 * name points into */
	char	*value;		/* raw value, CRLF inside folds, no final CRLF */
	size_t	 value_len;
};

struct header_list {
	struct header	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 bytes;		/* running total checked against HEADER_MAX_BYTES */
	bool		 truncated;	/* a cap was hit: later fields were dropped */
};

/* header_name_trim - name without the white space (SP, HTAB) at its end: name
 * itself when there is none, else a copy in buf (cut to buflen - 1 bytes, which
 * no name ever compared is near) */
const char *header_name_trim(const char *name, char *buf, size_t buflen);
/* header_list_add - store one field; false (and truncated set) when a cap is hit */
bool	 header_list_add(struct header_list *l, const char *name, const char *value);
void	 header_list_reset(struct header_list *l);
/* header_list_remove - forget field i (the later ones move up) */
void	 header_list_remove(struct header_list *l, size_t i);
/* header_list_count - how many fields carry this name (case-insensitive) */
size_t	 header_list_count(const struct header_list *l, const char *name);
/* header_list_find - the index of the nth (0-based) field with this name, or -1 */
long	 header_list_find(const struct header_list *l, const char *name, size_t nth);
/* header_value_normalise - copy a value turning bare LF or CR into CRLF (caller frees) */
char	*header_value_normalise(const char *value, size_t *len_out);

#endif
