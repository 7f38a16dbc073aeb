/* test_buf - the growable buffer and the header list's caps and normalisation. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "header.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;

	CHECK_STR(buf_cstr(&b), "", "empty buffer reads as \"\"");
	buf_puts(&b, "abc");
	buf_putc(&b, '-');
	buf_printf(&b, "%d/%s", 42, "x");
	CHECK_STR(buf_cstr(&b), "abc-42/x", "puts, putc and printf append");
	CHECK(b.len == 8, "length counts bytes");
	buf_append(&b, "\0z", 2);
	CHECK(b.len == 10 && b.data[8] == '\0' && b.data[9] == 'z' && b.data[10] == '\0',
	    "embedded NUL kept, still NUL-terminated");
	buf_reset(&b);
	CHECK(b.len == 0 && strcmp(buf_cstr(&b), "") == 0, "reset empties");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "%04d", i % 10000);
	CHECK(b.len == 40000 && strncmp(b.data + 39996, "9999", 4) == 0, "grows to 40000 bytes");
	char *s = buf_steal(&b);
	CHECK(b.data == NULL && b.len == 0 && strlen(s) == 40000, "steal hands over the bytes");
	free(s);
	s = buf_steal(&b);
	CHECK(s != NULL && s[0] == '\0', "steal of an empty buffer gives \"\"");
	free(s);
	buf_puts(&b, "head:");
	buf_printf(&b, "%0300d|%s", 7, "tail");
	CHECK(b.len == 5 + 300 + 5 && strncmp(b.data, "head:000", 8) == 0 &&
	    strcmp(b.data + b.len - 6, "7|tail") == 0,
	    "printf longer than the room it first tries is written whole");
	buf_reset(&b);
	for (int i = 0; i < 64; i++)
		buf_putc(&b, 'a' + i % 26);
	buf_printf(&b, "%s", "");
	CHECK(b.len == 64 && b.data[63] == 'l' && b.data[64] == '\0',
	    "putc across the first growth, then an empty printf");
	buf_free(&b);

	static const struct { const char *in, *out; } norm[] = {
		{ " plain", " plain" },
		{ " folded\n\tline", " folded\r\n\tline" },
		{ " crlf\r\n\tline", " crlf\r\n\tline" },
		{ " bare-cr\r\tline", " bare-cr\r\n\tline" },
		{ "\ttab first", "\ttab first" },
		{ "", "" },
		{ "\r\n", "\r\n" },
		{ " a\n\n b\r\r\n c\r", " a\r\n\r\n b\r\n\r\n c\r\n" },
	};
	for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
		size_t len;
		char *v = header_value_normalise(norm[i].in, &len);
		CHECK(len == strlen(norm[i].out) && strcmp(v, norm[i].out) == 0,
		    "normalise case %zu", i);
		free(v);
	}

	struct header_list l = { 0 };
	CHECK(header_list_add(&l, "From", " a@example.com"), "add From");
	CHECK(header_list_add(&l, "Subject", " hi"), "add Subject");
	CHECK(header_list_add(&l, "from", " b@example.com"), "add lower-case from");
	CHECK(header_list_count(&l, "FROM") == 2, "count is case-insensitive");
	CHECK(header_list_find(&l, "From", 1) == 2, "second From is field 2");
	CHECK(header_list_find(&l, "From", 2) == -1, "no third From");
	header_list_reset(&l);
	size_t added = 0;
	while (header_list_add(&l, "X-N", " v"))
		added++;
	CHECK(added == HEADER_MAX_COUNT && l.truncated, "count cap at %d fields", HEADER_MAX_COUNT);
	header_list_reset(&l);
	char *big = malloc(HEADER_MAX_BYTES + 2);
	memset(big, 'a', HEADER_MAX_BYTES + 1);
	big[HEADER_MAX_BYTES + 1] = '\0';
	CHECK(!header_list_add(&l, "X-Big", big) && l.truncated && l.n == 0,
	    "a field over the byte cap is refused");
	free(big);
	header_list_reset(&l);
	return tap_done();
}
