/* authres - RFC 8601 Authentication-Results: build ours, recognise forged ones.
 *
 * Everything that goes into a header value passes authres_safe_* first, so data
 * from DNS or the message cannot inject ';', '(', CR or LF.
 */
#ifndef AUTHMILTER_AUTHRES_H
#define AUTHMILTER_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

/* authres_begin - start a value: the authserv-id */
void	 authres_begin(struct buf *out, const char *authserv_id);
/* authres_method - append ";\r\n\tMETHOD=RESULT" with an optional (comment) */
void	 authres_method(struct buf *out, const char *method, enum auth_result r,
	    const char *comment);
/* authres_prop - append " ptype.property=value"; value is quoted when it is not
 * a plain token, and dropped (with value "invalid") when it cannot be made safe */
void	 authres_prop(struct buf *out, const char *ptype_property, const char *value);
struct verdict;
/* authres_render - our whole A-R value (leading space included, as the header
 * edit wants it) for a message's verdict record; caller frees */
char	*authres_render(const struct verdict *v, const char *authserv_id);
/* authres_none - the "; none" body for a message nothing was checked on */
void	 authres_none(struct buf *out);

/* authres_is_ours - true when an incoming A-R value names authserv_id (case-insensitive,
 * comments and whitespace ignored) */
bool	 authres_is_ours(const char *value, size_t len, const char *authserv_id);
/* authres_comment_safe - copy text into out as safe comment text: no CR/LF/()/\ ,
 * control bytes replaced by '?' */
void	 authres_comment_safe(const char *text, char *out, size_t outlen);
/* authres_redact - append an incoming A-R value v[0..len) (or the part of an
 * ARC-Authentication-Results after "i=N;") to out with the local part of every
 * address in it replaced by word (RFC 6590): "smtp.mailfrom=b@x" becomes
 * "smtp.mailfrom=word@x", "header.i=@x" stays, an smtp.auth user becomes word,
 * a comment holding an '@' becomes "(word)"; names, results and domains stay */
void	 authres_redact(struct buf *out, const char *v, size_t len, const char *word);

#endif
