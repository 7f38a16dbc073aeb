/* test_taglist - the tag-list parser in both syntaxes, against a table: each input
 * next to the tags it gives (rendered "name=value|...", a lenient part without
 * '=' as "[name]") or the exact error. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "taglist.h"
#include "xalloc.h"

static const struct {
	enum taglist_syntax syntax;
	const char *in;
	const char *tags;	/* NULL: refused */
	const char *err;	/* the reason when refused */
} cases[] = {
	/* RFC 6376 §3.2, strict */
	{ TAGLIST_STRICT, "", "", NULL },
	{ TAGLIST_STRICT, "  \r\n\t", "", NULL },
	{ TAGLIST_STRICT, "v=1", "v=1", NULL },
	{ TAGLIST_STRICT, "v=1;", "v=1", NULL },
	{ TAGLIST_STRICT, "v=1; ", "v=1", NULL },
	{ TAGLIST_STRICT, "v=1;;", NULL, "empty tag" },
	{ TAGLIST_STRICT, "v=1; ;a=2", NULL, "empty tag" },
	{ TAGLIST_STRICT, ";v=1", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, " a = 1 ;\tb\t=\t2\t", "a=1|b=2", NULL },
	{ TAGLIST_STRICT, "a=1;\r\n b=x\r\n\ty", "a=1|b=x\r\n\ty", NULL },
	{ TAGLIST_STRICT, "a=", "a=", NULL },
	{ TAGLIST_STRICT, "a=;b=", "a=|b=", NULL },
	{ TAGLIST_STRICT, "b=ab==;bh=x=", "b=ab==|bh=x=", NULL },
	{ TAGLIST_STRICT, "a_1=x", "a_1=x", NULL },
	{ TAGLIST_STRICT, "_a=x", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, "1a=x", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, "a-b=x", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, "a", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, "a b=1", NULL, "malformed tag-list" },
	{ TAGLIST_STRICT, "a=1\rb", NULL, "bad folding in tag value" },
	{ TAGLIST_STRICT, "a=1\r\nb", NULL, "bad folding in tag value" },
	{ TAGLIST_STRICT, "a=1\nb", NULL, "bad character in tag value" },
	{ TAGLIST_STRICT, "a=1\x01", NULL, "bad character in tag value" },
	{ TAGLIST_STRICT, "a=\x7f", NULL, "bad character in tag value" },
	{ TAGLIST_STRICT, "a=b\xc3\xbc", "a=b\xc3\xbc", NULL },
	/* tag names are case-sensitive: a and A are two tags */
	{ TAGLIST_STRICT, "a=1; A=2", "a=1|A=2", NULL },
	{ TAGLIST_STRICT, "a=1; a=2", NULL, "duplicate tag a=" },
	{ TAGLIST_STRICT, "abcdefghijklmnopqrstuvwxyz=1; abcdefghijklmnopqrstuvwxyz=2", NULL,
	  "duplicate tag abcdefghijklmnop=" },
	/* DMARC records as deployed, lenient */
	{ TAGLIST_LENIENT, "", "", NULL },
	{ TAGLIST_LENIENT, "v=DMARC1; p=none;", "v=DMARC1|p=none", NULL },
	{ TAGLIST_LENIENT, " v = DMARC1 ;p=\r\nreject\n", "v=DMARC1|p=reject", NULL },
	{ TAGLIST_LENIENT, "v=DMARC1;;p=none", "v=DMARC1|[]|p=none", NULL },
	{ TAGLIST_LENIENT, ";v=DMARC1", "[]|v=DMARC1", NULL },
	{ TAGLIST_LENIENT, "   ", "[]", NULL },
	{ TAGLIST_LENIENT, "v=DMARC1; junk here ;p=none", "v=DMARC1|[junk here]|p=none",
	  NULL },
	{ TAGLIST_LENIENT, "rua=mailto:a@b.example?x=y", "rua=mailto:a@b.example?x=y", NULL },
	{ TAGLIST_LENIENT, "=x; p=", "=x|p=", NULL },
	{ TAGLIST_LENIENT, "p=a; P=b; p=c", "p=a|P=b|p=c", NULL },
	{ TAGLIST_LENIENT, "1-x y=\x01", "1-x y=\x01", NULL },
};

/* render - the tags of one list as the table writes them; NULL when refused */
static char *
render(enum taglist_syntax syntax, const char *in, char *err, size_t errlen)
{
	struct buf out = BUF_INIT;
	struct taglist tl;
	struct taglist_tag t;
	int rc;

	taglist_init(&tl, in, strlen(in), syntax);
	while ((rc = taglist_next(&tl, &t, err, errlen)) == 1) {
		if (out.len > 0)
			buf_append(&out, "|", 1);
		if (t.value == NULL) {
			buf_append(&out, "[", 1);
			buf_append(&out, t.name, t.name_len);
			buf_append(&out, "]", 1);
			continue;
		}
		buf_append(&out, t.name, t.name_len);
		buf_append(&out, "=", 1);
		buf_append(&out, t.value, t.value_len);
	}
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	char *copy = xstrdup(buf_cstr(&out));

	buf_free(&out);
	return copy;
}

/* check_table - each case through the cursor, and strict ones through the split */
static void
check_table(void)
{
	struct taglist_tag tags[TAGLIST_MAX];
	char err[128];
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got;

		err[0] = '\0';
		got = render(cases[i].syntax, cases[i].in, err, sizeof(err));
		bool dup = cases[i].err != NULL && strncmp(cases[i].err, "duplicate", 9) == 0;
		if (dup) {
			/* the cursor knows no duplicates: the split refuses them */
			CHECK(got != NULL, "case %zu: cursor reads a repeated tag", i);
		} else if (cases[i].tags == NULL) {
			CHECK(got == NULL, "case %zu refused", i);
			CHECK_STR(err, cases[i].err, "case %zu error", i);
		} else {
			CHECK_STR(got, cases[i].tags, "case %zu tags", i);
		}
		free(got);
		if (cases[i].syntax != TAGLIST_STRICT)
			continue;
		err[0] = '\0';
		bool ok = taglist_split(cases[i].in, strlen(cases[i].in), tags, &n, err,
		    sizeof(err));
		CHECK(ok == (cases[i].tags != NULL), "case %zu split %s", i,
		    cases[i].tags ? "accepts" : "refuses");
		if (!ok)
			CHECK_STR(err, cases[i].err, "case %zu split error", i);
	}
}

/* check_limits - TAGLIST_MAX tags split, one more is refused; the cursor has no cap */
static void
check_limits(void)
{
	struct taglist_tag tags[TAGLIST_MAX], t;
	struct taglist tl;
	struct buf s = BUF_INIT;
	char err[128], one[32];
	size_t n, seen = 0;

	for (int i = 0; i < TAGLIST_MAX; i++) {
		int k = snprintf(one, sizeof(one), "t%d=%d;", i, i);
		buf_append(&s, one, (size_t)k);
	}
	CHECK(taglist_split(buf_cstr(&s), s.len, tags, &n, err, sizeof(err)) &&
	    n == TAGLIST_MAX, "%d tags split", TAGLIST_MAX);
	CHECK(taglist_find(tags, n, "t63") != NULL && taglist_find(tags, n, "t64") == NULL &&
	    taglist_find(tags, n, "T1") == NULL, "find is exact and case-sensitive");
	buf_append(&s, "x=1", 3);
	CHECK(!taglist_split(buf_cstr(&s), s.len, tags, &n, err, sizeof(err)),
	    "%d tags refused", TAGLIST_MAX + 1);
	CHECK_STR(err, "too many tags", "too many tags error");
	taglist_init(&tl, buf_cstr(&s), s.len, TAGLIST_LENIENT);
	while (taglist_next(&tl, &t, NULL, 0) == 1)
		seen++;
	CHECK(seen == TAGLIST_MAX + 1, "the lenient cursor reads all %zu", seen);
	taglist_init(&tl, NULL, 5, TAGLIST_LENIENT);
	CHECK(taglist_next(&tl, &t, NULL, 0) == 0, "NULL text is an empty list");
	buf_free(&s);
}

/* check_values - taglist_value_is and taglist_list_has */
static void
check_values(void)
{
	struct taglist_tag t = { "h", 1, "sha1 : SHA256\r\n\t:x", 18 };
	struct taglist_tag none = { "p", 1, NULL, 0 };
	struct taglist_tag empty = { "p", 1, "", 0 };

	CHECK(taglist_list_has(&t, "sha256") && taglist_list_has(&t, "sha1") &&
	    taglist_list_has(&t, "X"), "list_has finds each element, any case");
	CHECK(!taglist_list_has(&t, "sha") && !taglist_list_has(&t, ""),
	    "list_has wants a whole element");
	CHECK(!taglist_list_has(&none, "y") && !taglist_list_has(&empty, "y") &&
	    taglist_list_has(&empty, ""), "list_has on no value and an empty one");
	CHECK(taglist_value_is(&empty, "") && !taglist_value_is(NULL, "") &&
	    !taglist_value_is(&none, ""), "value_is on empty, NULL tag, no value");
	struct taglist_tag k = { "k", 1, "ED25519", 7 };
	CHECK(taglist_value_is(&k, "ed25519") && !taglist_value_is(&k, "ed2551"),
	    "value_is ignores case, wants the whole value");
}

int
main(void)
{
	check_table();
	check_limits();
	check_values();
	return tap_done();
}
