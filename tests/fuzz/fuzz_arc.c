/* fuzz_arc - ARC chain validation (arc_verify.c: the field parsers, the chain
 * structure, the AMS and AS checks through the DKIM verifier, the AAR reader) on
 * any header and body. Linked with fake_dns.c: keys come from a built-in zone
 * (the RSA test key of dkimpy at arc._domainkey of lists.example, fwd.example and
 * relay.example, and at rsa._domainkey.strict.example) plus zone lines from the
 * input, so the seeds (real dkimpy and Mail::DKIM chains from test_arc_verify.py)
 * reach the signature checks and can pass.
 *
 * Input: byte 0 (bit 0: zone lines follow, up to an empty line), then header
 * lines (a line starting with space or tab continues the field; a final CR is
 * dropped and folds are joined with CRLF) up to an empty line, then the body.
 * Invariants: arc=none exactly when no ARC field came; a verdict is one of
 * none/pass/fail/temperror; a pass has 1..50 sets, a sealer and an oldest-pass of
 * 0 or 2..n_sets; the reason is safe for an A-R comment; vouch is NULL, "dmarc",
 * "dkim" or "spf".
 */
#include "config.h"

#include <strings.h>

#include "arc_verify.h"
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_verify.h"
#include "dns.h"
#include "fake_dns.h"
#include "fuzz_util.h"
#include "header.h"
#include "xalloc.h"

#define FUZZ_ARC_HEADERS	400	/* header fields the harness passes on */
#define FUZZ_ARC_FIELD		(64 * 1024)	/* bytes of one field, as libmilter */

static const char fuzz_arc_pub[] =
    "v=DKIM1; g=*; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5Ru5WVhkP"
    "iBuE+mOf29uqontUfoQpcWX04sA/V6dRmZ0I2kRHOSKYXLW84sqPiWyfKH4WaP7f0p6RvENyIqFj"
    "CYWDPxSX5Ck/rj0jUzQ6FKloUb9M/0hhdUy2xa7przy7wudLu7WpgxyMLogPZfWMV369vvPefyvu"
    "XF8B3rCuy5qSNyvnDf0Dn4/blILfyw5df4JWJIj0FfXxc3LMMLQM+Nn8q71iJmH5qXuB78GWUjT7"
    "erEXnrXdWKZimM9l6fMSOb6EBm0AwNVR+mOGwt05LPrSHFrwKJSNRB5gBOzXfmjdUpghIq+wLF1t"
    "rz+oJt5CcZs45GPjiuyUomI+HgFpQIDAQAB";

static char fuzz_arc_zone[4096];
/* the From domain the seeds' AARs vouch for, relaxed alignment */
static const struct arc_author fuzz_author = { "strict.example", "strict.example",
	false, false };
static struct dns_resolver *fuzz_arc_resolver;

/* LLVMFuzzerInitialize - the (fake) resolver once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dns_options o = { .timeout_ms = 1000 };
	char err[256];

	fuzz_arc_resolver = dns_resolver_new(&o, err, sizeof(err));
	if (fuzz_arc_resolver == NULL)
		fz_fail("resolver", err);
	return 0;
}

/* fuzz_arc_safe - a reason fit for an A-R comment */
static void
fuzz_arc_safe(const char *r, size_t size)
{
	if (strnlen(r, size) == size)
		fz_fail("reason unterminated", NULL);
	for (const char *p = r; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == ';' ||
		    *p == '(' || *p == ')' || *p == '\\')
			fz_fail("reason not safe for a comment", r);
}

/* fuzz_arc_field - store one "Name: value" field and hand ARC fields on */
static void
fuzz_arc_field(struct header_list *h, struct arc_verify *v, const char *line, size_t len,
    unsigned *n_arc)
{
	const char *colon = memchr(line, ':', len);
	char name[128];

	if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof(name))
		return;
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	char *value = xstrndup(colon + 1, len - (size_t)(colon - line) - 1);
	if (header_list_add(h, name, value) && arc_verify_field(name) != 0) {
		(*n_arc)++;
		arc_verify_add(v, name, h->v[h->n - 1].value, h->v[h->n - 1].value_len,
		    h->n - 1);
	} else if (arc_verify_field(name) != 0) {
		(*n_arc)++;	/* not stored: the caps are hit, a fail */
		arc_verify_unstored(v);
	}
	free(value);
}

/* LLVMFuzzerTestOneInput - see the file header */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct header_list h = { 0 };
	struct buf zone = BUF_INIT, field = BUF_INIT;
	struct dkim_verify_opts opts = { .min_key_bits = 1024 };
	struct dkim_body_set *body;
	struct arc_verify *v;
	unsigned flags = fz_byte(&f), n_arc = 0, n_fields = 0;
	char line[FUZZ_ARC_FIELD];

	snprintf(fuzz_arc_zone, sizeof(fuzz_arc_zone),
	    "arc._domainkey.lists.example TXT %s\narc._domainkey.fwd.example TXT %s\n"
	    "arc._domainkey.relay.example TXT %s\nrsa._domainkey.strict.example TXT %s\n",
	    fuzz_arc_pub, fuzz_arc_pub, fuzz_arc_pub, fuzz_arc_pub);
	buf_puts(&zone, fuzz_arc_zone);
	if (flags & 1)
		while (f.n > 0 && fz_line(&f, line, sizeof(line)) > 0) {
			buf_puts(&zone, line);
			buf_putc(&zone, '\n');
		}
	fake_dns_set_zone(buf_cstr(&zone), zone.len);

	body = dkim_body_set_new();
	v = arc_verify_new(fuzz_arc_resolver, &opts, body);
	while (f.n > 0) {
		size_t len = fz_line(&f, line, sizeof(line));

		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > 0 && (line[0] == ' ' || line[0] == '\t') && field.len > 0) {
			buf_puts(&field, "\r\n");
			buf_append(&field, line, len);
			continue;
		}
		if (field.len > 0 && n_fields++ < FUZZ_ARC_HEADERS)
			fuzz_arc_field(&h, v, buf_cstr(&field), field.len, &n_arc);
		buf_free(&field);
		if (len == 0)
			break;
		buf_append(&field, line, len);
	}
	if (field.len > 0 && n_fields < FUZZ_ARC_HEADERS)
		fuzz_arc_field(&h, v, buf_cstr(&field), field.len, &n_arc);
	buf_free(&field);
	dkim_body_set_update(body, f.p, f.n);
	dkim_body_set_final(body);

	const struct arc_verdict *a = arc_verify_finish(v, &h, &fuzz_author);
	if ((a->result == AUTH_NONE) != (n_arc == 0))
		fz_fail("arc=none and ARC fields disagree", a->reason);
	if (a->result != AUTH_NONE && a->result != AUTH_PASS && a->result != AUTH_FAIL &&
	    a->result != AUTH_TEMPERROR)
		fz_fail("arc= outside none/pass/fail/temperror", a->reason);
	if (a->n_sets > ARC_MAX_INSTANCES)
		fz_fail("more than 50 sets", NULL);
	if (a->result == AUTH_PASS && (a->n_sets == 0 || a->sealer[0] == '\0' ||
	    a->oldest_pass == 1 || a->oldest_pass > a->n_sets))
		fz_fail("a pass without sets, sealer or a sane oldest-pass", NULL);
	fuzz_arc_safe(a->reason, sizeof(a->reason));
	for (unsigned i = 0; i < a->n_sets; i++) {
		const char *w = a->info[i].vouch;

		if (w != NULL && strcmp(w, "dmarc") != 0 && strcmp(w, "dkim") != 0 &&
		    strcmp(w, "spf") != 0)
			fz_fail("vouch outside dmarc/dkim/spf", w);
		if (a->sets[i].aar >= h.n || a->sets[i].ams >= h.n || a->sets[i].as >= h.n)
			fz_fail("set index outside the header list", NULL);
	}
	arc_verify_free(v);
	dkim_body_set_free(body);
	header_list_reset(&h);
	buf_free(&zone);
	fake_dns_set_zone(NULL, 0);
	return 0;
}
