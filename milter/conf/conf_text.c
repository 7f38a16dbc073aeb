/* conf_text - milter.conf text as libconfuse should see it: comments blanked.
 *
 * Debian 12's libconfuse 3.3 counts every comment line more than once (a "#" line
 * three times, a newline inside a C comment twice), so the line it reports for an
 * error drifts further off with every comment above it. conf_text_uncomment copies a
 * file's text with each comment's bytes removed and its newlines kept, so the lexer
 * never meets a comment and every line number is the file's own. What counts as a
 * comment follows libconfuse's lexer exactly: "#...", "//..." and C comments, but
 * not inside "..." or '...' strings, ${VAR} references, or unquoted words ("//"
 * starts a comment only where a word could not be longer).
 *
 *   conf_text_uncomment(in, len, out)	append the blanked text to out (caller's buf)
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "conf_text.h"

/* conf_text_word_char - may c be part of an unquoted word (libconfuse's set)? */
static bool
conf_text_word_char(char c)
{
	return c != '\0' && strchr(" #\"'\t\n\r={}()+,*", c) == NULL;
}

/* conf_text_quoted - copy a "..." or '...' string from in[i]; the index after it.
 * A backslash escapes the next byte (a newline too) in either kind, as the lexer
 * reads them; an unterminated string is copied to the end for libconfuse to refuse. */
static size_t
conf_text_quoted(const char *in, size_t len, size_t i, struct buf *out)
{
	char quote = in[i];
	size_t j = i + 1;

	while (j < len && in[j] != quote)
		j += (in[j] == '\\' && j + 1 < len) ? 2 : 1;
	if (j < len)
		j++;
	buf_append(out, in + i, j - i);
	return j;
}

/* conf_text_block - skip a C comment from in[i] ("/" "*"), keeping its newlines;
 * the index after it. Unterminated: copied unchanged, as libconfuse would see it. */
static size_t
conf_text_block(const char *in, size_t len, size_t i, struct buf *out)
{
	const char *end = NULL;

	for (size_t j = i + 2; j + 1 < len; j++)
		if (in[j] == '*' && in[j + 1] == '/') {
			end = in + j + 2;
			break;
		}
	if (end == NULL) {
		buf_append(out, in + i, len - i);
		return len;
	}
	for (const char *p = in + i; p < end; p++)
		if (*p == '\n')
			buf_putc(out, '\n');
	return (size_t)(end - in);
}

/* conf_text_slashes - at a "//": a comment (its index past the line) or a word.
 * flex takes the longest match and, on a tie, the comment rule listed first. */
static size_t
conf_text_slashes(const char *in, size_t len, size_t i, struct buf *out)
{
	size_t slashes = i, word = i;

	while (slashes < len && in[slashes] == '/')
		slashes++;
	while (word < len && conf_text_word_char(in[word]))
		word++;
	if (slashes >= word) {
		while (word < len && in[word] != '\n')
			word++;
		return word;
	}
	buf_append(out, in + i, word - i);
	return word;
}

/* conf_text_uncomment - append in[0..len) to out with every comment's bytes removed
 * and its newlines kept */
void
conf_text_uncomment(const char *in, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		char c = in[i], next = i + 1 < len ? in[i + 1] : '\0';
		const char *brace;
		size_t j;

		if (c == '"' || c == '\'') {
			i = conf_text_quoted(in, len, i, out);
		} else if (c == '#') {
			while (i < len && in[i] != '\n')
				i++;
		} else if (c == '/' && next == '*') {
			i = conf_text_block(in, len, i, out);
		} else if (c == '/' && next == '/') {
			i = conf_text_slashes(in, len, i, out);
		} else if (c == '$' && next == '{' &&
		    (brace = memchr(in + i, '}', len - i)) != NULL) {
			j = (size_t)(brace - in) + 1;
			buf_append(out, in + i, j - i);	/* ${VAR}: '#' may be in it */
			i = j;
		} else if (conf_text_word_char(c)) {
			for (j = i; j < len && conf_text_word_char(in[j]); j++)
				;
			buf_append(out, in + i, j - i);
			i = j;
		} else {
			buf_putc(out, c);
			i++;
		}
	}
}
