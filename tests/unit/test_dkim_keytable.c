/* test_dkim_keytable - finding the signing keys of a From domain: exact domains,
 * parents with subdomains = true, configured order, and domains with no key. */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "conf.h"
#include "dkim_keytable.h"
#include "tap.h"

/* The key sections of a configuration (no files: the table never loads them). */
static struct conf_key keys[] = {
	{ .name = "a-rsa", .domain = "example.com", .selector = "r", .line = 10 },
	{ .name = "parent", .domain = "example.org", .selector = "p", .subdomains = true,
	  .line = 11 },
	{ .name = "a-ed", .domain = "example.com", .selector = "e", .line = 12 },
	{ .name = "child", .domain = "mail.example.org", .selector = "c", .line = 13 },
	{ .name = "zz", .domain = "zz.example", .selector = "z", .line = 14 },
	{ .name = "aa", .domain = "aa.example", .selector = "a", .line = 15 },
};

static const struct {
	const char *domain;
	const char *want;	/* names of the keys, in order, comma-separated */
} cases[] = {
	{ "example.com", "a-rsa,a-ed" },		/* configured order kept */
	{ "sub.example.com", "" },			/* no subdomains there */
	{ "example.org", "parent" },
	{ "x.y.example.org", "parent" },		/* any depth */
	{ "mail.example.org", "parent,child" },		/* parent first: file order */
	{ "aa.example", "aa" },
	{ "zz.example", "zz" },
	{ "example", "" },
	{ "com", "" },
	{ "nokey.example.net", "" },
	{ "", "" },
};

int
main(void)
{
	struct conf c = { .path = "milter.conf" };
	struct dkim_keytable *t;
	const struct conf_key *out[DKIM_KEYTABLE_MAX_MATCH];

	c.dkim.keys = keys;
	c.dkim.n_keys = sizeof(keys) / sizeof(keys[0]);
	c.dkim.keys_directory = "";
	t = dkim_keytable_new(&c, stderr);
	CHECK(t != NULL, "a table of key sections alone");
	if (t == NULL)
		return tap_done();
	CHECK(dkim_keytable_count(t) == c.dkim.n_keys, "every key counted");
	CHECK(dkim_keytable_at(t, 4) == &keys[4], "keys walk in configured order");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf got = BUF_INIT;
		size_t n = dkim_keytable_match(t, cases[i].domain, out,
		    DKIM_KEYTABLE_MAX_MATCH);

		for (size_t j = 0; j < n; j++)
			buf_printf(&got, "%s%s", j ? "," : "", out[j]->name);
		CHECK_STR(buf_cstr(&got), cases[i].want, "keys for \"%s\"", cases[i].domain);
		buf_free(&got);
	}
	CHECK(dkim_keytable_match(t, "example.com", out, 1) == 1 &&
	    out[0] == &keys[0], "at most max keys");
	dkim_keytable_free(t);
	return tap_done();
}
