/* fuzz_align - the From/alignment path: the domain DMARC aligns with must be exactly
 * the domain that was evaluated, never a truncated or re-parsed variant.
 *
 * Linked with fake_dns.c. Input: byte 0 (bit 0: aspf=s, bit 1: adkim=s, bit 2: the
 * DKIM signature passed), then lines: the From header value, the envelope sender
 * (MAIL FROM without angle brackets, as session.c hands it over; may be far longer
 * than any fixed field), the DKIM d=. The zone publishes "v=spf1 +all" for the
 * part of the sender after its last '@' (the domain RFC 7208 §4.3 evaluates) and
 * nothing else, so an SPF pass means exactly that domain was evaluated.
 *
 * Checks:
 *   - a From domain parsed as FROM_OK is a whole domain of the header text (no
 *     domain character on either side), never a cut piece of a longer one;
 *   - an SPF pass names the evaluated domain in its verdict;
 *   - dmarc_judge's spf_aligned and dkim_aligned are what an independent
 *     comparison of the evaluated domains with the From domain gives (strict:
 *     equal; relaxed: same organizational domain), and dmarc=pass follows them;
 *   - every domain normalised for the comparison is its input, lower case,
 *     without a final dot (ASCII inputs), never a shortened copy.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

#include "dmarc.h"
#include "dkim_verify.h"
#include "fake_dns.h"
#include "fuzz_util.h"
#include "rfc5322.h"
#include "spf.h"

#define FUZZ_PSL_FILE	"/usr/share/publicsuffix/public_suffix_list.dat"
#define FUZZ_LINE_MAX	4096	/* bytes of one input line: beyond any fixed field */

static psl_ctx_t *fuzz_psl;
static struct dns_resolver *fuzz_resolver;

/* LLVMFuzzerInitialize - the PSL and the (fake) resolver, once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dns_options o = { 0 };
	char err[128];

	fuzz_psl = psl_load_file(FUZZ_PSL_FILE);
	if (fuzz_psl == NULL)
		fuzz_psl = (psl_ctx_t *)psl_builtin();
	fuzz_resolver = dns_resolver_new(&o, err, sizeof(err));
	if (fuzz_psl == NULL || fuzz_resolver == NULL) {
		fprintf(stderr, "fuzz_align: no public suffix list or resolver\n");
		exit(1);
	}
	return 0;
}

/* is_ascii - no byte above 0x7f (IDNs are left to libidn2, not re-derived here) */
static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

/* is_domain_char - a byte that can continue a domain name */
static bool
is_domain_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* ref_norm - d as the comparison must see it into out: the module's normalisation
 * (IDNs to A-labels), checked against lower case minus one final dot for ASCII;
 * false when d is not a valid domain */
static bool
ref_norm(const char *d, char *out, size_t outlen)
{
	char mine[FUZZ_LINE_MAX];
	size_t n = strlen(d);

	if (!rfc5322_domain_normalise(d, out, outlen))
		return false;
	if (!is_ascii(d) || n >= sizeof(mine))
		return true;
	for (size_t i = 0; i < n; i++)
		mine[i] = (char)tolower((unsigned char)d[i]);
	if (n > 0 && mine[n - 1] == '.')
		n--;
	mine[n] = '\0';
	if (strcmp(mine, out) != 0)
		fz_fail("normalised domain is not its input in lower case", out);
	return true;
}

/* ref_aligned - does evaluated domain d align with the From domain (RFC 7489 §3.1) */
static bool
ref_aligned(const char *d, const char *from, bool strict)
{
	char nd[256], nf[256], od[256], of[256];

	if (!ref_norm(d, nd, sizeof(nd)) || !ref_norm(from, nf, sizeof(nf)))
		return false;
	if (strcmp(nd, nf) == 0)
		return true;
	if (strict)
		return false;
	if (!dmarc_org_domain(fuzz_psl, nd, od, sizeof(od)))
		return false;
	if (!dmarc_org_domain(fuzz_psl, nf, of, sizeof(of)))
		snprintf(of, sizeof(of), "%s", nf);
	return strcmp(od, of) == 0;
}

/* squeeze - value without white space and comments outside quoted strings: an
 * obsolete domain may carry CFWS between its atoms ("example .org") */
static void
squeeze(const char *value, char *out, size_t outlen)
{
	size_t n = 0, depth = 0;
	bool quoted = false;

	for (const char *p = value; *p != '\0' && n + 1 < outlen; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				out[n++] = *p++;
			else if (*p == '"')
				quoted = false;
		} else if (depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			continue;
		} else if (*p == '(') {
			depth++;
			continue;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			continue;
		} else if (*p == '"') {
			quoted = true;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
}

/* check_from_whole - an ASCII From domain is a whole name of the header text */
static void
check_from_whole(const char *value, const char *domain)
{
	char text[FUZZ_LINE_MAX];
	size_t dl = strlen(domain);
	const char *p = text;

	if (!is_ascii(value))
		return;
	squeeze(value, text, sizeof(text));
	while ((p = strcasestr(p, domain)) != NULL) {
		char before = p > text ? p[-1] : ' ', after = p[dl];

		if (after == '.' && !is_domain_char(p[dl + 1]))
			after = p[dl + 1];	/* a final dot */
		if (!is_domain_char(before) && before != '.' && !is_domain_char(after) &&
		    after != '.')
			return;
		p++;
	}
	fz_fail("From domain is not a whole domain of the header", domain);
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	bool aspf_s = flags & 1, adkim_s = (flags & 2) != 0, dkim_pass = (flags & 4) != 0;
	char fromv[FUZZ_LINE_MAX], sender[FUZZ_LINE_MAX], dkim_d[FUZZ_LINE_MAX];
	char rectxt[64], err[128];
	const char *at, *evaluated;
	struct buf zone = BUF_INIT;
	struct from_address from;
	struct dmarc_record rec;
	struct dmarc_verdict out;
	struct dkim_verdict dv;
	const struct spf_verdict *vm, *vh;
	struct spf_check *c;
	struct sockaddr_in sin;
	bool want_spf, want_dkim;
	size_t fromlen;

	/* a header value reaches us as a C string (libmilter): no NUL inside */
	fz_line(&f, fromv, sizeof(fromv));
	fromlen = strlen(fromv);
	fz_line(&f, sender, sizeof(sender));
	fz_line(&f, dkim_d, sizeof(dkim_d));

	if (rfc5322_parse_from(fromv, fromlen, &from) != FROM_OK)
		return 0;
	check_from_whole(fromv, from.domain);

	/* the domain RFC 7208 evaluates: after the sender's last '@' */
	at = strrchr(sender, '@');
	evaluated = at != NULL ? at + 1 : sender;
	if (evaluated[0] != '\0' && strpbrk(evaluated, " \t\r") == NULL)
		buf_printf(&zone, "%s TXT v=spf1 +all\n", evaluated);
	fake_dns_set_zone(zone.data, zone.len);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	c = spf_start(fuzz_resolver, (const struct sockaddr *)&sin, "helo.invalid", sender,
	    false);
	spf_finish(c, &vm, &vh);
	if (vm->result == AUTH_PASS && strcasecmp(vm->domain, evaluated) != 0)
		fz_fail("SPF pass names another domain than the evaluated one", vm->domain);

	memset(&dv, 0, sizeof(dv));
	dv.result = dkim_pass ? AUTH_PASS : AUTH_FAIL;
	dv.length = -1;
	/* d= is at most 253 bytes (dkim_sig.c): a longer one never reaches a verdict */
	if (strlen(dkim_d) >= sizeof(dv.domain))
		dv.result = AUTH_PERMERROR;
	else
		memcpy(dv.domain, dkim_d, strlen(dkim_d) + 1);

	snprintf(rectxt, sizeof(rectxt), "v=DMARC1; p=reject; aspf=%c; adkim=%c",
	    aspf_s ? 's' : 'r', adkim_s ? 's' : 'r');
	if (!dmarc_record_parse(rectxt, strlen(rectxt), &rec, err, sizeof(err)))
		fz_fail("fixed DMARC record refused", rectxt);
	dmarc_judge(&rec, fuzz_psl, from.domain, from.domain, false, vm, &dv, 1, 0, &out);
	if (out.result != AUTH_PERMERROR) {
		want_spf = vm->result == AUTH_PASS && ref_aligned(evaluated, from.domain,
		    aspf_s);
		want_dkim = dv.result == AUTH_PASS && ref_aligned(dv.domain, from.domain,
		    adkim_s);
		if (out.spf_aligned != want_spf)
			fz_fail(want_spf ? "SPF should align and does not" :
			    "SPF aligned with a domain that was not evaluated", from.domain);
		if (out.dkim_aligned != want_dkim)
			fz_fail(want_dkim ? "DKIM should align and does not" :
			    "DKIM aligned with another domain than d=", from.domain);
		if ((out.result == AUTH_PASS) != (want_spf || want_dkim))
			fz_fail("dmarc=pass without an aligned pass, or the reverse",
			    from.domain);
	}
	dmarc_verdict_clear(&out);
	dmarc_record_clear(&rec);
	spf_free(c);
	fake_dns_set_zone(NULL, 0);
	buf_free(&zone);
	return 0;
}
