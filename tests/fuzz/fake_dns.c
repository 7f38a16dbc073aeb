/* fake_dns - the dns.h interface answered from an in-memory zone, for fuzz_spf.
 *
 * Linked in place of milter/dns/dns.c so libspf2 (through spf_dns.c) sees DNS data
 * that comes from the fuzz input, with no network and no timeouts. The harness
 * sets the zone with fake_dns_set_zone before each check; lines are
 *   NAME TYPE DATA     TYPE: A, AAAA, MX ("PREF NAME" or NAME), PTR, TXT (the rest
 *                      of the line, raw), NX (NXDOMAIN), FAIL (temporary failure)
 * A name with records of other types only answers NODATA; an unknown name
 * NXDOMAIN. The zone text must stay valid until the check ends. Answers are the
 * real struct dns_answer, freed by the real dns_answer_clear (dns_answer.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "dns.h"
#include "fake_dns.h"
#include "xalloc.h"

struct dns_resolver {
	int	 unused;
};

struct dns_query {
	struct dns_answer a;
};

static const char *fake_zone;
static size_t fake_zone_len;

/* fake_dns_set_zone - the zone text for the following lookups */
void
fake_dns_set_zone(const char *zone, size_t len)
{
	fake_zone = zone;
	fake_zone_len = len;
}

/* dns_resolver_new - a resolver with nothing in it */
struct dns_resolver *
dns_resolver_new(const struct dns_options *opts, char *err, size_t errlen)
{
	(void)opts;
	(void)err;
	(void)errlen;
	return xcalloc(1, sizeof(struct dns_resolver));
}

/* dns_resolver_free - NULL is fine */
void
dns_resolver_free(struct dns_resolver *r)
{
	free(r);
}

/* name_eq - s (len bytes, maybe with a final dot) names name, case-insensitively */
static int
name_eq(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	return len == nl && strncasecmp(s, name, len) == 0;
}

/* type_of - the TYPE word as an RR type; 0 NX, -1 FAIL, -2 unknown */
static int
type_of(const char *s, size_t len)
{
	static const struct { const char *w; int t; } types[] = {
		{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
		{ "PTR", DNS_T_PTR }, { "TXT", DNS_T_TXT }, { "NX", 0 }, { "FAIL", -1 }
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].w) == len && strncasecmp(types[i].w, s, len) == 0)
			return types[i].t;
	return -2;
}

/* add_rr - parse DATA for rrtype into a new record of a; false when malformed */
static int
add_rr(struct dns_answer *a, int rrtype, const char *d, size_t dl)
{
	struct dns_rr rr;
	char tmp[300];

	memset(&rr, 0, sizeof(rr));
	if (rrtype != DNS_T_TXT) {
		if (dl >= sizeof(tmp))
			return 0;
		memcpy(tmp, d, dl);
		tmp[dl] = '\0';
	}
	switch (rrtype) {
	case DNS_T_A:
		rr.family = AF_INET;
		if (inet_pton(AF_INET, tmp, rr.addr) != 1)
			return 0;
		break;
	case DNS_T_AAAA:
		rr.family = AF_INET6;
		if (inet_pton(AF_INET6, tmp, rr.addr) != 1)
			return 0;
		break;
	case DNS_T_MX: {
		char *sp = strchr(tmp, ' ');

		if (sp != NULL && isdigit((unsigned char)tmp[0])) {
			rr.pref = (unsigned)strtoul(tmp, NULL, 10) & 0xffff;
			rr.name = xstrdup(sp + 1);
		} else {
			rr.name = xstrdup(tmp);
		}
		break;
	}
	case DNS_T_PTR:
		rr.name = xstrdup(tmp);
		break;
	case DNS_T_TXT:
		rr.txt = xmalloc(dl + 1);
		memcpy(rr.txt, d, dl);
		rr.txt[dl] = '\0';
		rr.txt_len = dl;
		break;
	}
	if (rr.name != NULL)
		for (char *p = rr.name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	a->rr = xrealloc(a->rr, (a->count + 1) * sizeof(*a->rr));
	a->rr[a->count++] = rr;
	return 1;
}

/* fake_query - answer at once from the zone */
static struct dns_query *
fake_query(struct dns_resolver *r, const char *name, int rrtype)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	const char *p = fake_zone, *end = fake_zone ? fake_zone + fake_zone_len : NULL;
	int seen = 0, nx = 0, fail = 0;

	(void)r;
	q->a.rrtype = rrtype;
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s1, *s2;
		int t;

		s1 = memchr(p, ' ', (size_t)(le - p));
		if (s1 != NULL && name_eq(p, (size_t)(s1 - p), name)) {
			s2 = memchr(s1 + 1, ' ', (size_t)(le - s1 - 1));
			t = type_of(s1 + 1, (size_t)((s2 ? s2 : le) - s1 - 1));
			if (t == 0)
				nx = 1;
			else if (t == -1)
				fail = 1;
			else if (t > 0)
				seen = 1;
			if (t == rrtype && s2 != NULL && q->a.count < DNS_MAX_RECORDS)
				(void)add_rr(&q->a, t, s2 + 1, (size_t)(le - s2 - 1));
		}
		p = nl ? nl + 1 : end;
	}
	if (fail) {
		q->a.status = DNS_TEMPFAIL;
		q->a.why = "SERVFAIL";
	} else if (q->a.count > 0) {
		q->a.status = DNS_OK;
	} else {
		q->a.status = nx || !seen ? DNS_NXDOMAIN : DNS_NODATA;
	}
	if (q->a.status != DNS_OK) {
		for (size_t i = 0; i < q->a.count; i++) {
			free(q->a.rr[i].name);
			free(q->a.rr[i].txt);
		}
		free(q->a.rr);
		q->a.rr = NULL;
		q->a.count = 0;
	}
	return q;
}

/* dns_query_wait - the answer, which never waits here */
const struct dns_answer *
dns_query_wait(struct dns_query *q)
{
	return &q->a;
}

/* dns_deadline - no clock in the fake: every deadline lies ahead */
struct timespec
dns_deadline(const struct dns_resolver *r, unsigned n_timeouts)
{
	struct timespec ts = { 0, 0 };

	(void)r;
	(void)n_timeouts;
	return ts;
}

/* dns_deadline_passed - never: fake answers take no time */
bool
dns_deadline_passed(const struct timespec *deadline)
{
	(void)deadline;
	return false;
}

/* dns_query_wait_until - as dns_query_wait */
const struct dns_answer *
dns_query_wait_until(struct dns_query *q, const struct timespec *deadline)
{
	(void)deadline;
	return dns_query_wait(q);
}

/* dns_query_done - always */
bool
dns_query_done(struct dns_query *q)
{
	(void)q;
	return true;
}

/* dns_query_free - NULL is fine */
void
dns_query_free(struct dns_query *q)
{
	if (q == NULL)
		return;
	dns_answer_clear(&q->a);
	free(q);
}

/* dns_query_start_flags - dns.c's name rule (dns_name.c), then the zone */
struct dns_query *
dns_query_start_flags(struct dns_resolver *r, const char *name, int rrtype,
    unsigned flags)
{
	if (!dns_name_ok(name, flags)) {
		struct dns_query *q = xcalloc(1, sizeof(*q));

		q->a.rrtype = rrtype;
		q->a.status = DNS_NXDOMAIN;
		return q;
	}
	return fake_query(r, name, rrtype);
}

/* dns_query_start - a host or domain name: the plain rule */
struct dns_query *
dns_query_start(struct dns_resolver *r, const char *name, int rrtype)
{
	return dns_query_start_flags(r, name, rrtype, 0);
}
