/* test_dkim_sig - dkim_sig_parse against a table of good and bad signatures. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_sig.h"
#include "tap.h"

#define BH	"bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=;"
#define B	"b=dGVzdHNpZ25hdHVyZQ==;"
#define BASE	"v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; "

static const struct {
	const char *sig;
	const char *err;	/* NULL: must parse */
} cases[] = {
	{ BASE BH B, NULL },
	{ "a=rsa-sha256; d=example.com; s=sel; h=from; " BH B, "missing v=" },
	{ "v=1; d=example.com; s=sel; h=from; " BH B, "missing a=" },
	{ BASE BH, "missing b=" },
	{ BASE B, "missing bh=" },
	{ "v=1; a=rsa-sha256; s=sel; h=from; " BH B, "missing d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; " BH B, "missing h=" },
	{ "v=1; a=rsa-sha256; d=example.com; h=from; " BH B, "missing s=" },
	{ BASE BH B " d=example.org", "duplicate tag d=" },
	{ "v=2; a=rsa-sha256; d=example.com; s=sel; h=from; " BH B, "unsupported v=" },
	{ "v=1; a=rsa-sha1; d=example.com; s=sel; h=from; " BH B,
	  "rsa-sha1 is not allowed (RFC 8301)" },
	{ "v=1; a=dsa-sha256; d=example.com; s=sel; h=from; " BH B, "unknown a=" },
	{ "v=1; a=ED25519-SHA256; d=example.com; s=sel; h=from; " BH B, NULL },
	{ BASE BH "b=dGVz*dA==", "bad base64 in b=" },
	{ BASE BH "b=dGVzd", "bad base64 in b=" },
	{ BASE BH "b=dG=Vz", "bad base64 in b=" },
	{ BASE BH "b=", "empty b=" },
	{ BASE "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KQ==;" B,
	  "bh= is not 32 bytes" },
	{ BASE "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=!;" B,
	  "bad base64 in bh=" },
	{ BASE BH B "i=joe@example.org", "i= is not within d=" },
	{ BASE BH B "i=joe@badexample.com", "i= is not within d=" },
	{ BASE BH B "i=joe@mail.Example.COM", NULL },
	{ BASE BH B "i=@example.com", NULL },
	{ BASE BH B "i=joe", "bad i=" },
	/* i= is dkim-quoted-printable (RFC 6376 §2.11, §3.5): decoded, then checked */
	{ BASE BH B "i=jlong=40example.com", NULL },
	{ BASE BH B "i=jlong@example=2Ecom", NULL },
	{ BASE BH B "i=jlong@mail=2eexample.com", NULL },
	{ BASE BH B "i=j=20long@example.com", "bad i=" },
	{ BASE BH B "i=j=00@example.com", "bad i=" },
	{ BASE BH B "i=j=0D=0A@example.com", "bad i=" },
	{ BASE BH B "i=joe@example.com=3Bx", "bad i=" },
	{ BASE BH B "i=joe=40evilexample=2Ecom", "i= is not within d=" },
	{ BASE BH B "i=joe@example=2Eorg", "i= is not within d=" },
	{ BASE BH B "i=joe=example.com", "bad quoted-printable in i=" },
	{ BASE BH B "i=joe@example.com=4", "bad quoted-printable in i=" },
	{ BASE BH B "i=joe@example.com=", "bad quoted-printable in i=" },
	{ BASE BH B "i=joe=G0@example.com", "bad quoted-printable in i=" },
	{ BASE BH B "i=jo\r\n e@exam ple.com", NULL },
	{ BASE BH B "i=joe=40", "bad i=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; " BH B,
	  "h= does not include From" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to::from; " BH B, "bad h=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to:from:; " BH B, "bad h=" },
	{ BASE BH B "t=200; x=100", "x= is before t=" },
	{ BASE BH B "t=100; x=200", NULL },
	{ BASE BH B "t=abc", "bad t=" },
	{ BASE BH B "c=relaxed/bogus", "bad c=" },
	{ BASE BH B "c=fancy", "bad c=" },
	{ BASE BH B "c=relaxed/", "bad c=" },
	{ BASE BH B "l=9223372036854775807", NULL },
	{ BASE BH B "l=9223372036854775808", "bad l=" },
	{ BASE BH B "l=99999999999999999999999", "bad l=" },
	{ BASE BH B "l=-1", "bad l=" },
	{ BASE BH B "q=dns/txt", NULL },
	{ BASE BH B "q=foo:DNS/TXT", NULL },
	{ BASE BH B "q=http", "q= does not include dns/txt" },
	{ BASE BH B "zz=whatever; z=From:foo|To:bar", NULL },
	{ "v=1; a=rsa-sha256; d=exa mple.com; s=sel; h=from; " BH B, "bad d=" },
	{ "v=1; a=rsa-sha256; d=example..com; s=sel; h=from; " BH B, "bad d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=se/l; h=from; " BH B, "bad s=" },
	{ BASE BH B ";", "empty tag" },
	{ BASE BH ";" B, "empty tag" },
	{ BASE BH B "1x=foo", "malformed tag-list" },
	{ BASE BH B "x y=1", "malformed tag-list" },
	{ BASE BH B "n=a\rb", "bad folding in tag value" },
	{ BASE BH B "n=a\001b", "bad character in tag value" },
	/* FWS everywhere, folds inside b= and bh= and around tags and values */
	{ " v = 1 ;\r\n\ta =\r\n rsa-sha256 ; d= example.com ;s=sel;\r\n h = From :\r\n"
	  "\tTo ; bh=4bLNXImK9drULnmePzZ NEBleUanJCX5PIsDIFoH4KTQ=;\r\n b = dGVz\r\n dHNp"
	  "\r\n Z25hdHVyZQ== ;\r\n ", NULL },
	{ BASE BH B "\r\nfoo=1", "malformed tag-list" },
	{ "", "missing v=" },
};

/* check_fields - the parsed values of a signature with every optional tag */
static void
check_fields(void)
{
	const char *v = "v=1; a=ed25519-sha256; c=relaxed; d=Sub.Example.COM; "
	    "s=brisbane; i=Joe@SUB.example.com; h=From : To :\r\n Subject; "
	    "l=123; t=1518460054; x=1518470054; " BH " b=9/dsDChY\r\n 0YMTtD5Eyw3w";
	struct dkim_sig s;
	char err[128] = "";

	CHECK(dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)), "fields: parses (%s)",
	    err);
	CHECK(s.alg == DKIM_ALG_ED25519_SHA256, "fields: a=");
	CHECK(s.header_canon == DKIM_CANON_RELAXED && s.body_canon == DKIM_CANON_SIMPLE,
	    "fields: c=relaxed means relaxed/simple");
	CHECK_STR(s.domain, "sub.example.com", "fields: d= lower-cased");
	CHECK_STR(s.selector, "brisbane", "fields: s=");
	CHECK_STR(s.identity, "Joe@sub.example.com", "fields: i= domain lower-cased");
	CHECK(s.n_headers == 3, "fields: three names in h=");
	CHECK_STR(s.n_headers == 3 ? s.headers[2] : NULL, "Subject", "fields: h= names");
	CHECK_STR(s.n_headers == 3 ? s.headers[0] : NULL, "From", "fields: h= case kept");
	CHECK(s.length == 123, "fields: l=");
	CHECK(s.timestamp == 1518460054 && s.expire == 1518470054, "fields: t= x=");
	CHECK(s.bodyhash[0] == 0xe1 && s.bodyhash[31] == 0x34, "fields: bh= decoded");
	CHECK_STR(s.b_prefix, "9/dsDChY", "fields: b_prefix");
	CHECK(s.sig_len == 15, "fields: b= decoded across a fold (%zu)", s.sig_len);
	dkim_sig_clear(&s);

	v = BASE BH B;
	CHECK(dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)), "defaults: parses");
	CHECK(s.header_canon == DKIM_CANON_SIMPLE && s.body_canon == DKIM_CANON_SIMPLE,
	    "defaults: c= simple/simple");
	CHECK_STR(s.identity, "@example.com", "defaults: i= is @d=");
	CHECK(s.length == -1 && s.timestamp == -1 && s.expire == -1,
	    "defaults: l= t= x= absent");
	CHECK_STR(s.b_prefix, "dGVzdHNp", "defaults: b_prefix");
	dkim_sig_clear(&s);
	dkim_sig_clear(&s);	/* twice is harmless */
}

/* check_identity - i= decoded from dkim-quoted-printable, domain lower-cased */
static void
check_identity(void)
{
	static const struct {
		const char *i;
		const char *want;
	} ids[] = {
		{ "jlong=40Example.COM", "jlong@example.com" },
		{ "J=2ELong@sub=2EEXAMPLE.com", "J.Long@sub.example.com" },
		{ "a=3db@example.com", "a=b@example.com" },
		{ "@exa\r\n mple.com", "@example.com" },
		{ "=40example.com", "@example.com" },
	};
	struct dkim_sig s;
	char err[128], v[256];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(v, sizeof(v), "%s%s%si=%s", BASE, BH, B, ids[i].i);
		err[0] = '\0';
		CHECK(dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)),
		    "identity %zu parses (%s)", i, err);
		CHECK_STR(s.identity, ids[i].want, "identity %zu decoded", i);
		dkim_sig_clear(&s);
	}
}

/* check_identity_cap - a decoded i= of DKIM_SIG_IDENTITY_MAX bytes is kept whole,
 * one byte more is permerror; an encoded one is measured after decoding */
static void
check_identity_cap(void)
{
	struct dkim_sig s;
	char err[128] = "";
	size_t cap = 4096;
	char *v = malloc(cap);
	const char *dom = "@example.com";
	size_t local = DKIM_SIG_IDENTITY_MAX - strlen(dom);

	for (int extra = 0; extra <= 1; extra++) {
		int k = snprintf(v, cap, "%s%s%si=", BASE, BH, B);
		memset(v + k, 'a', local + (size_t)extra);
		snprintf(v + k + local + (size_t)extra, cap - (size_t)k - local - 1, "%s", dom);
		bool ok = dkim_sig_parse(v, strlen(v), &s, err, sizeof(err));
		if (extra == 0) {
			CHECK(ok && strlen(s.identity) == DKIM_SIG_IDENTITY_MAX,
			    "i= of %d bytes kept whole (%s)", DKIM_SIG_IDENTITY_MAX, err);
		} else {
			CHECK(!ok, "i= of %d bytes refused", DKIM_SIG_IDENTITY_MAX + 1);
			CHECK_STR(err, "i= too long", "i= over the cap error");
		}
		dkim_sig_clear(&s);
	}
	/* every octet encoded: 3 x DKIM_SIG_IDENTITY_MAX raw bytes decode to the cap */
	int k = snprintf(v, cap, "%s%s%si=", BASE, BH, B);
	for (size_t j = 0; j < local; j++)
		k += snprintf(v + k, cap - (size_t)k, "=61");
	snprintf(v + k, cap - (size_t)k, "=40example=2Ecom");
	CHECK(dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)) &&
	    strlen(s.identity) == DKIM_SIG_IDENTITY_MAX,
	    "encoded i= measured after decoding (%s)", err);
	dkim_sig_clear(&s);
	free(v);
}

/* check_caps - over-long values and too many h= names */
static void
check_caps(void)
{
	struct dkim_sig s;
	char err[128] = "";
	size_t big = 100 * 1024;
	char *v = malloc(big + 200);

	int k = snprintf(v, big + 200, "%s%s b=", BASE, BH);
	memset(v + k, 'A', big);
	v[k + big] = '\0';
	CHECK(!dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)), "100 KB b= refused");
	CHECK_STR(err, "signature too long", "100 KB b= error");
	dkim_sig_clear(&s);

	k = snprintf(v, big + 200, "v=1; a=rsa-sha256; d=example.com; s=s; %s%s h=from",
	    BH, B);
	for (int i = 0; i < DKIM_SIG_MAX_HEADERS; i++)
		k += snprintf(v + k, big + 200 - (size_t)k, ":to");
	CHECK(!dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)), "h= over cap refused");
	CHECK_STR(err, "too many names in h=", "h= over cap error");
	dkim_sig_clear(&s);

	k = 0;
	for (int i = 0; i < TAGLIST_MAX + 1; i++)
		k += snprintf(v + k, big + 200 - (size_t)k, "t%d=1;", i);
	CHECK(!dkim_sig_parse(v, strlen(v), &s, err, sizeof(err)), "65 tags refused");
	CHECK_STR(err, "too many tags", "65 tags error");
	dkim_sig_clear(&s);
	free(v);
}

/* check_b64 - the decoder on its own */
static void
check_b64(void)
{
	size_t n;
	unsigned char *p;

	p = dkim_sig_b64("Zm9v YmFy", 9, &n);
	CHECK(p != NULL && n == 6 && memcmp(p, "foobar", 6) == 0, "b64: foobar");
	free(p);
	p = dkim_sig_b64("Zm8", 3, &n);
	CHECK(p != NULL && n == 2 && memcmp(p, "fo", 2) == 0, "b64: unpadded");
	free(p);
	p = dkim_sig_b64("Zm8==", 5, &n);
	CHECK(p == NULL, "b64: too much padding");
	free(p);
	p = dkim_sig_b64("", 0, &n);
	CHECK(p != NULL && n == 0, "b64: empty");
	free(p);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dkim_sig s;
		char err[128] = "";
		bool ok = dkim_sig_parse(cases[i].sig, strlen(cases[i].sig), &s, err,
		    sizeof(err));
		if (cases[i].err == NULL)
			CHECK(ok, "case %zu parses (%s)", i, err);
		else {
			CHECK(!ok, "case %zu refused", i);
			CHECK_STR(err, cases[i].err, "case %zu error", i);
		}
		dkim_sig_clear(&s);
	}
	check_fields();
	check_identity();
	check_identity_cap();
	check_caps();
	check_b64();
	return tap_done();
}
