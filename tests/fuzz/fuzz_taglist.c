/* fuzz_taglist - the tag-list parser (taglist.c) on any bytes, in both syntaxes.
 *
 * Checks what taglist.h promises: spans inside the input, strict names of RFC 6376
 * §3.2's tag-name, values trimmed and free of ';', no duplicate a split accepted,
 * the split and the cursor agreeing, a reason for every refusal, and a lenient
 * walk that never fails and returns at most one tag per ';'-separated part.
 */
#include "config.h"

#include <ctype.h>

#include "fuzz_util.h"
#include "taglist.h"

/* fz_span_in - (p, len) lies inside data[0..size) */
static bool
fz_span_in(const char *p, size_t len, const uint8_t *data, size_t size)
{
	const char *lo = (const char *)data;

	return p >= lo && len <= size && (size_t)(p - lo) <= size - len;
}

/* fz_blank - what both syntaxes trim from a value's ends */
static bool
fz_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* fz_check_value - a present value is inside the input, trimmed, without ';' */
static void
fz_check_value(const struct taglist_tag *t, const uint8_t *data, size_t size)
{
	if (!fz_span_in(t->name, t->name_len, data, size) ||
	    !fz_span_in(t->value, t->value_len, data, size))
		fz_fail("tag span outside the input", NULL);
	if (memchr(t->value, ';', t->value_len) != NULL)
		fz_fail("';' inside a value", NULL);
	if (t->value_len > 0 && (fz_blank((unsigned char)t->value[0]) ||
	    fz_blank((unsigned char)t->value[t->value_len - 1])))
		fz_fail("value not trimmed", NULL);
	(void)taglist_list_has(t, "y");
	(void)taglist_value_is(t, "DMARC1");
}

/* fz_strict - taglist_split, checked against the cursor */
static void
fz_strict(const uint8_t *data, size_t size)
{
	struct taglist_tag tags[TAGLIST_MAX], t;
	struct taglist tl;
	char err[128];
	size_t n;

	err[0] = '\0';
	if (!taglist_split((const char *)data, size, tags, &n, err, sizeof(err))) {
		if (err[0] == '\0')
			fz_fail("split refused without a reason", NULL);
		return;
	}
	if (n > TAGLIST_MAX)
		fz_fail("more tags than TAGLIST_MAX", NULL);
	taglist_init(&tl, (const char *)data, size, TAGLIST_STRICT);
	for (size_t i = 0; i < n; i++) {
		fz_check_value(&tags[i], data, size);
		if (tags[i].name_len == 0 || !isalpha((unsigned char)tags[i].name[0]))
			fz_fail("strict tag name not starting with a letter", NULL);
		for (size_t k = 0; k < tags[i].name_len; k++)
			if (!isalnum((unsigned char)tags[i].name[k]) && tags[i].name[k] != '_')
				fz_fail("bad character in a strict tag name", NULL);
		for (size_t k = 0; k < tags[i].value_len; k++) {
			unsigned char c = (unsigned char)tags[i].value[k];
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				fz_fail("control character in a strict value", NULL);
		}
		if (taglist_find(tags, n, "") != NULL)
			fz_fail("found a tag with an empty name", NULL);
		for (size_t k = 0; k < i; k++)
			if (tags[k].name_len == tags[i].name_len &&
			    memcmp(tags[k].name, tags[i].name, tags[i].name_len) == 0)
				fz_fail("duplicate accepted", NULL);
		if (taglist_next(&tl, &t, err, sizeof(err)) != 1 || t.name != tags[i].name ||
		    t.value != tags[i].value || t.value_len != tags[i].value_len)
			fz_fail("cursor and split disagree", NULL);
	}
	if (taglist_next(&tl, &t, err, sizeof(err)) != 0)
		fz_fail("cursor goes on after the split ended", NULL);
}

/* fz_lenient - the DMARC walk: never an error, one tag per part at most */
static void
fz_lenient(const uint8_t *data, size_t size)
{
	struct taglist tl;
	struct taglist_tag t;
	size_t parts = 1, seen = 0;
	int rc;

	for (size_t i = 0; i < size; i++)
		if (data[i] == ';')
			parts++;
	taglist_init(&tl, (const char *)data, size, TAGLIST_LENIENT);
	while ((rc = taglist_next(&tl, &t, NULL, 0)) == 1) {
		if (++seen > parts)
			fz_fail("more lenient tags than parts", NULL);
		if (!fz_span_in(t.name, t.name_len, data, size))
			fz_fail("lenient name outside the input", NULL);
		if (memchr(t.name, ';', t.name_len) != NULL ||
		    memchr(t.name, '=', t.name_len) != NULL)
			fz_fail("';' or '=' inside a lenient name", NULL);
		if (t.value != NULL)
			fz_check_value(&t, data, size);
	}
	if (rc != 0)
		fz_fail("lenient walk failed", NULL);
}

/* LLVMFuzzerTestOneInput - the whole input is one tag-list, read both ways */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_strict(data, size);
	fz_lenient(data, size);
	return 0;
}
