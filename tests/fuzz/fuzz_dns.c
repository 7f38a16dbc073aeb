/* fuzz_dns - dns_answer_fill on any rcode and rdata, as libunbound would hand them.
 *
 * Input: byte 0 picks the type asked for, byte 1 the rcode and flags, the rest is
 * records, each a 2-byte length and that many rdata bytes. Checks what the rest of
 * the daemon relies on: status and count agree, at most DNS_MAX_RECORDS records,
 * names are lower case without a final dot and fit a DNS name, TXT data is
 * NUL-terminated at txt_len.
 */
#include "config.h"

#include <ctype.h>
#include <unbound.h>

#include "dns.h"
#include "fuzz_util.h"

#define FZ_MAX_RRS	80	/* more than DNS_MAX_RECORDS, so the cap is exercised */

/* LLVMFuzzerTestOneInput - one libunbound result */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_PTR, DNS_T_CNAME,
	    DNS_T_TXT };
	struct fz f = { data, size };
	char *rdata[FZ_MAX_RRS + 1];
	int lens[FZ_MAX_RRS + 1];
	struct ub_result res;
	struct dns_answer a;
	unsigned flags;
	size_t n = 0;

	memset(&res, 0, sizeof(res));
	memset(&a, 0, sizeof(a));
	a.rrtype = types[fz_byte(&f) % (sizeof(types) / sizeof(types[0]))];
	flags = fz_byte(&f);
	res.qtype = a.rrtype;
	res.rcode = (int)(flags & 0x0f) % 6;
	res.havedata = (flags & 0x10) != 0;
	res.secure = (flags & 0x20) != 0;
	res.bogus = (flags & 0x40) != 0;
	res.nxdomain = res.rcode == 3;
	while (f.n >= 2 && n < FZ_MAX_RRS) {
		size_t len = (fz_byte(&f) << 8) | fz_byte(&f);

		if (len > f.n)
			len = f.n;
		rdata[n] = malloc(len ? len : 1);
		memcpy(rdata[n], f.p, len);
		lens[n++] = (int)len;
		f.p += len;
		f.n -= len;
	}
	rdata[n] = NULL;
	res.data = rdata;
	res.len = lens;

	dns_answer_fill(&a, (flags & 0x80) ? UB_SERVFAIL : 0, &res);
	if ((a.status == DNS_OK) != (a.count > 0))
		fz_fail("status and record count disagree", NULL);
	if (a.count > DNS_MAX_RECORDS)
		fz_fail("more records than DNS_MAX_RECORDS", NULL);
	for (size_t i = 0; i < a.count; i++) {
		const struct dns_rr *rr = &a.rr[i];

		if (rr->name != NULL) {
			size_t nl = strlen(rr->name);

			if (nl > 253 || (nl > 0 && rr->name[nl - 1] == '.'))
				fz_fail("name too long or with a final dot", rr->name);
			for (size_t k = 0; k < nl; k++)
				if (isupper((unsigned char)rr->name[k]))
					fz_fail("name not lower case", rr->name);
		}
		if (rr->txt != NULL && rr->txt[rr->txt_len] != '\0')
			fz_fail("TXT not NUL-terminated at txt_len", NULL);
	}
	dns_answer_clear(&a);
	for (size_t i = 0; i < n; i++)
		free(rdata[i]);
	return 0;
}
