/* fuzz_spf - the SPF path (spf.c, spf_dns.c, libspf2) with DNS data from the input.
 *
 * Linked with fake_dns.c instead of milter/dns/dns.c. Input: byte 0 (bit 0: check the
 * HELO identity too, bit 1: an IPv6 client, bit 2: null sender), then lines: MAIL
 * FROM, HELO, and the rest is the zone (see fake_dns.c). Also screens the first
 * TXT data as a record and builds the Received-SPF header, which must hold no
 * CR/LF but folds.
 */
#include "config.h"

#include <arpa/inet.h>

#include "fake_dns.h"
#include "fuzz_util.h"
#include "spf.h"
#include "spf_dns.h"
#include "spf_record.h"

static struct dns_resolver *fuzz_resolver;

/* LLVMFuzzerInitialize - the resolver (fake: holds nothing) once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dns_options o = { 0 };
	char err[128];

	fuzz_resolver = dns_resolver_new(&o, err, sizeof(err));
	return 0;
}

/* check_verdict - a verdict is terminated and has a known result */
static void
check_verdict(const struct spf_verdict *v)
{
	if (v == NULL)
		fz_fail("no verdict", NULL);
	if (strnlen(v->reason, sizeof(v->reason)) == sizeof(v->reason) ||
	    strnlen(v->domain, sizeof(v->domain)) == sizeof(v->domain) ||
	    v->sender == NULL)
		fz_fail("verdict field unterminated", NULL);
	if (v->result > AUTH_SKIPPED || v->result == AUTH_POLICY)
		fz_fail("SPF verdict out of range", v->reason);
	for (const char *p = v->reason; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '(' || *p == ')')
			fz_fail("SPF reason not comment-safe", v->reason);
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	char mailfrom[1100], helo[300], *zone;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	const struct spf_verdict *vm, *vh;
	struct spf_check *c;
	struct buf hdr = BUF_INIT;
	const char *p;

	fz_line(&f, mailfrom, sizeof(mailfrom));
	fz_line(&f, helo, sizeof(helo));
	if (flags & 4)
		mailfrom[0] = '\0';
	zone = malloc(f.n ? f.n : 1);
	if (zone == NULL)
		return 0;
	memcpy(zone, f.p, f.n);
	fake_dns_set_zone(zone, f.n);

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	sin6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, "2001:db8::10", &sin6.sin6_addr);
	sa = (flags & 2) ? (const struct sockaddr *)&sin6 : (const struct sockaddr *)&sin;

	c = spf_start(fuzz_resolver, sa, helo, mailfrom, (flags & 1) != 0);
	spf_finish(c, &vm, &vh);
	check_verdict(vm);
	check_verdict(vh);
	/* DMARC aligns with domain: it must be the domain of the whole sender
	 * that was checked, never a part of a shortened copy */
	if (vm->domain[0] != '\0') {
		const char *at = strrchr(vm->sender, '@');

		if (at == NULL || strcmp(at + 1, vm->domain) != 0)
			fz_fail("MAIL FROM verdict domain is not the sender's", vm->domain);
	}
	spf_received_header(vm, (flags & 2) ? "2001:db8::10" : "192.0.2.10", helo,
	    "mx.example.org", &hdr);
	fz_check_folds("Received-SPF", buf_cstr(&hdr));
	buf_free(&hdr);
	spf_free(c);

	/* the first TXT line's data through the record screen on its own */
	if ((p = memmem(zone, f.n, " TXT ", 5)) != NULL) {
		const char *s = p + 5, *nl = memchr(s, '\n', (size_t)(zone + f.n - s));

		(void)spf_record_screen(s, (size_t)((nl ? nl : zone + f.n) - s));
	}
	(void)spf_dns_truncate_name(helo);
	fake_dns_set_zone(NULL, 0);
	free(zone);
	return 0;
}
