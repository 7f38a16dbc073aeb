/* test_dns_cache - the front cache: what is kept, what never is, copies are deep. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns_cache.h"
#include "tap.h"

/* txt_answer - a DNS_OK answer with one TXT record of text */
static struct dns_answer
txt_answer(const char *text)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = DNS_OK;
	a.rrtype = DNS_T_TXT;
	a.count = 1;
	a.rr = calloc(1, sizeof(*a.rr));
	a.rr[0].txt = strdup(text);
	a.rr[0].txt_len = strlen(text);
	return a;
}

int
main(void)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_answer a = txt_answer("v=spf1 -all"), got;

	CHECK(!dns_cache_get(c, "example.org", DNS_T_TXT, &got), "empty cache: miss");
	dns_cache_put(c, "example.org", DNS_T_TXT, &a, 60);
	dns_answer_clear(&a);
	CHECK(dns_cache_get(c, "example.org", DNS_T_TXT, &got) && got.status == DNS_OK &&
	    got.count == 1 && strcmp(got.rr[0].txt, "v=spf1 -all") == 0,
	    "kept answer comes back (the original was freed: the copy is deep)");
	dns_answer_clear(&got);
	CHECK(dns_cache_get(c, "EXAMPLE.org.", DNS_T_TXT, &got), "case and final dot ignored");
	dns_answer_clear(&got);
	CHECK(!dns_cache_get(c, "example.org", DNS_T_A, &got), "another type is another key");
	CHECK(!dns_cache_get(c, "www.example.org", DNS_T_TXT, &got), "another name misses");

	struct dns_answer nx = { .status = DNS_NXDOMAIN, .rrtype = DNS_T_TXT };
	dns_cache_put(c, "nope.example.org", DNS_T_TXT, &nx, 30);
	CHECK(dns_cache_get(c, "nope.example.org", DNS_T_TXT, &got) &&
	    got.status == DNS_NXDOMAIN && got.count == 0, "NXDOMAIN kept");

	struct dns_answer tf = { .status = DNS_TEMPFAIL, .rrtype = DNS_T_TXT, .why = "x" };
	dns_cache_put(c, "down.example.org", DNS_T_TXT, &tf, 30);
	CHECK(!dns_cache_get(c, "down.example.org", DNS_T_TXT, &got),
	    "a temporary failure is never kept");
	a = txt_answer("zero ttl");
	dns_cache_put(c, "zero.example.org", DNS_T_TXT, &a, 0);
	CHECK(!dns_cache_get(c, "zero.example.org", DNS_T_TXT, &got), "TTL 0 is not kept");
	dns_answer_clear(&a);
	char *big = malloc(DNS_CACHE_MAX_BYTES + 2);
	memset(big, 'x', DNS_CACHE_MAX_BYTES + 1);
	big[DNS_CACHE_MAX_BYTES + 1] = '\0';
	a = txt_answer(big);
	dns_cache_put(c, "big.example.org", DNS_T_TXT, &a, 60);
	CHECK(!dns_cache_get(c, "big.example.org", DNS_T_TXT, &got), "a large answer is not kept");
	dns_answer_clear(&a);
	free(big);
	a = txt_answer("new");
	dns_cache_put(c, "example.org", DNS_T_TXT, &a, 60);
	dns_answer_clear(&a);
	CHECK(dns_cache_get(c, "example.org", DNS_T_TXT, &got) &&
	    strcmp(got.rr[0].txt, "new") == 0, "a newer answer replaces the old");
	dns_answer_clear(&got);
	dns_cache_free(c);
	return tap_done();
}
