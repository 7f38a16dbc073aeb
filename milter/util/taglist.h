/* taglist - the one parser of RFC 6376 §3.2 tag-lists: DKIM-Signature values, DKIM
 * key records, DMARC records, and (RFC 8617) ARC-Seal and ARC-Message-Signature.
 *
 * Pure: no allocation, no global state. Every span points into the parsed text,
 * which must outlive it; values are trimmed of surrounding white space, folds
 * inside a value are kept.
 *
 * Two syntaxes:
 * - TAGLIST_STRICT, RFC 6376 §3.2 exactly: tag-name = ALPHA *(ALNUM / "_"); FWS is
 *   WSP or CRLF WSP; a value holds no control octet (bytes >= 0x80 pass); an empty
 *   tag-spec only as a trailing ';'. Anything else is an error with a short fixed
 *   reason ("malformed tag-list", "empty tag", "bad folding in tag value",
 *   "bad character in tag value").
 * - TAGLIST_LENIENT, DMARC records as deployed (and as Mail::DMARC reads them): the
 *   text is split at every ';'; each part is cut at its first '=' and both sides
 *   are trimmed of space, tab, CR and LF; a part without '=' (an empty one too,
 *   except after the last ';') comes back with value NULL, for the caller to judge.
 *   Never an error.
 *
 * taglist_init/taglist_next  walk the tags one by one, either syntax, no limit
 * taglist_split              all tags of a strict list into an array; a repeated
 *                            name is an error ("duplicate tag X="), more than
 *                            TAGLIST_MAX is "too many tags"
 * taglist_find               a tag by its (case-sensitive) name
 * taglist_value_is           a value equals a word, ignoring ASCII case
 * taglist_list_has           a colon-separated value lists a word, ignoring case
 * taglist_skip_fws           past FWS, for parsers of one value's own syntax (h=)
 */
#ifndef AUTHMILTER_TAGLIST_H
#define AUTHMILTER_TAGLIST_H

#include <stdbool.h>
#include <stddef.h>

#define TAGLIST_MAX		64	/* tags taglist_split keeps from one list */

struct taglist_tag {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* NULL only for a lenient part without '=' */
	size_t		 value_len;
};

enum taglist_syntax {
	TAGLIST_STRICT,
	TAGLIST_LENIENT
};

/* A cursor over one tag-list; set by taglist_init, private to taglist.c beyond that. */
struct taglist {
	const char		*s;
	size_t			 len, pos, count;
	enum taglist_syntax	 syntax;
};

/* taglist_init - a cursor at the start of s[0..len) */
void	 taglist_init(struct taglist *tl, const char *s, size_t len,
	    enum taglist_syntax syntax);
/* taglist_next - 1 with the next tag in *t, 0 at the end of the list, -1 with a
 * reason in err (strict syntax only; the cursor then stays at the error) */
int	 taglist_next(struct taglist *tl, struct taglist_tag *t, char *err,
	    size_t errlen);
/* taglist_split - every tag of the strict list s into tags[TAGLIST_MAX], *n of them;
 * false with a reason in err for a malformed list, a duplicate or too many tags */
bool	 taglist_split(const char *s, size_t len, struct taglist_tag *tags, size_t *n,
	    char *err, size_t errlen);
/* taglist_find - the tag named name among tags[n], NULL when absent */
const struct taglist_tag *taglist_find(const struct taglist_tag *tags, size_t n,
	    const char *name);
/* taglist_value_is - t's value equals word, ignoring ASCII case; false for NULL t */
bool	 taglist_value_is(const struct taglist_tag *t, const char *word);
/* taglist_list_has - t's value, split at ':' and each element trimmed of FWS,
 * holds word (ignoring ASCII case) */
bool	 taglist_list_has(const struct taglist_tag *t, const char *word);
/* taglist_skip_fws - the index after any FWS (WSP, or CRLF followed by WSP) at s[i] */
size_t	 taglist_skip_fws(const char *s, size_t len, size_t i);

#endif
