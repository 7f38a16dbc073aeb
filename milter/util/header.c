/* header - storage for the header fields of one message.
 *
 * header_list_add stores a copy (normalised line breaks), within HEADER_MAX_*;
 * header_list_count/find look fields up by name; header_list_reset frees them.
 * The list owns every string it holds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "header.h"
#include "xalloc.h"

/* header_value_normalise - make every line break inside a value a CRLF.
 *
 * Postfix hands folded values over with bare LF, Sendmail with CRLF or LF; DKIM
 * signs what went over the wire, which is CRLF.
 */
char *
header_value_normalise(const char *value, size_t *len_out)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	for (;;) {
		size_t n = strcspn(value + i, "\r\n");

		buf_append(&b, value + i, n);
		i += n;
		if (value[i] == '\0')
			break;
		buf_append(&b, "\r\n", 2);
		if (value[i] == '\r' && value[i + 1] == '\n')
			i++;
		i++;
	}
	*len_out = b.len;
	return buf_steal(&b);
}

/* header_name_wsp - the length of name without its trailing SP and HTAB */
static size_t
header_name_wsp(const char *name, size_t len)
{
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	return len;
}

/* header_name_trim - name without trailing white space, in buf when it had some */
const char *
header_name_trim(const char *name, char *buf, size_t buflen)
{
	size_t len = strlen(name), n = header_name_wsp(name, len);

	if (n == len || buflen == 0)
		return name;
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return buf;
}

/* header_list_add - store one field unless a cap forbids it */
bool
header_list_add(struct header_list *l, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);

	if (l->truncated || l->n >= HEADER_MAX_COUNT ||
	    nlen + vlen > HEADER_MAX_BYTES - l->bytes) {
		l->truncated = true;
		return false;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	struct header *h = &l->v[l->n++];
	/* one allocation: the raw name, NUL, then (when it ends in WSP) the trimmed */
	size_t tlen = header_name_wsp(name, nlen);
	h->name_raw = xmalloc(nlen + 1 + (tlen < nlen ? tlen + 1 : 0));
	memcpy(h->name_raw, name, nlen + 1);
	h->name = h->name_raw;
	if (tlen < nlen) {
		h->name = h->name_raw + nlen + 1;
		memcpy(h->name, name, tlen);
		h->name[tlen] = '\0';
	}
	h->value = header_value_normalise(value, &h->value_len);
	l->bytes += nlen + vlen;
	return true;
}

/* header_list_reset - free every field, keep nothing */
void
header_list_reset(struct header_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name_raw);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* header_list_remove - forget field i; the running byte total stays, so the
 * caps still count every field that arrived */
void
header_list_remove(struct header_list *l, size_t i)
{
	if (i >= l->n)
		return;
	free(l->v[i].name_raw);
	free(l->v[i].value);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

/* header_list_count - fields named name */
size_t
header_list_count(const struct header_list *l, const char *name)
{
	size_t count = 0;

	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			count++;
	return count;
}

/* header_list_find - index of the nth field named name, -1 when absent */
long
header_list_find(const struct header_list *l, const char *name, size_t nth)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0 && nth-- == 0)
			return (long)i;
	return -1;
}
