/* check - authmilter-check: the outbound DNS checklist of one domain, checked
 * through the milter's own resolver, SPF engine, key-record and DMARC parsers.
 *
 *   authmilter-check [-c FILE] -d DOMAIN [--ip ADDRESS ...] [--helo NAME]
 *
 * Checks, in this order: MX of DOMAIN and the addresses of its hosts; for each
 * sending address its PTR, forward-confirmed (iprev.c), and the HELO name; the
 * SPF record, the DNS lookups it costs, and its verdict for each address
 * (spf.c, the daemon's code); each configured DKIM key of DOMAIN against its
 * published record (dkim_keycheck.c, as authmilter-keygen --check); the DMARC
 * record that applies, its policy, its rua destinations and their authorization,
 * and the alignment of the signing and SPF domains (dmarc.c).
 *
 * Output: one line per check, "ok", "warn" or "FAIL", then indented lines with
 * the record to publish or the change to make; a summary last. Exit 0 when
 * nothing FAILs, 1 when something does, 2 when it could not check: bad options,
 * an unusable config, or a lookup that failed (then nothing further is checked,
 * and the summary names the query).
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libpsl.h>

#include "buf.h"
#include "bytes.h"
#include "check.h"
#include "conf.h"
#include "dkim_key.h"
#include "dkim_keycheck.h"
#include "dkim_keytable.h"
#include "dkim_rotate_state.h"
#include "dmarc.h"
#include "dmarc_walk.h"
#include "dns.h"
#include "fatal.h"
#include "generation.h"
#include "iprev.h"
#include "result.h"
#include "rfc5322.h"
#include "spf.h"
#include "spf_dns.h"
#include "xalloc.h"

#define CHECK_DEFAULT_CONF	SYSCONFDIR "/authmilter/milter.conf"
#define CHECK_MAX_IPS		16	/* --ip addresses */
#define CHECK_MAX_MX		10	/* MX hosts whose addresses are looked up */
#define CHECK_NAME_MAX		254	/* a domain in text (253), with its NUL */
#define CHECK_RSA_GOOD_BITS	2048	/* below: a warning (RFC 8301 allows 1024) */
/* The address the SPF record is evaluated for to count every lookup it can
 * cost: the limited broadcast address, which no record lists, so no mechanism
 * matches and every term is evaluated */
#define CHECK_SPF_PROBE		"255.255.255.255"

static const char *check_prog = "authmilter-check";

enum check_level { CHECK_OK, CHECK_WARN, CHECK_FAIL };

/* One sending address from --ip. */
struct check_ip {
	struct sockaddr_storage sa;
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	char		 text[INET6_ADDRSTRLEN];
};

/* The run: inputs, shared objects, counts. One per process. */
struct check {
	struct generation *gen;		/* config, resolver, PSL */
	const char	*conf_path;
	char		 domain[CHECK_NAME_MAX];	/* lower case, A-label */
	const char	*helo;
	struct check_ip	 ips[CHECK_MAX_IPS];
	size_t		 n_ips;
	unsigned	 n_ok, n_warn, n_fail;
	struct buf	 stopped;	/* non-empty: the lookup that failed */
};

/* check_usage - the synopsis, to stdout for -h and to stderr for mistakes */
static void
check_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-c CONFIG] -d DOMAIN [--ip ADDRESS ...] [--helo NAME]\n"
	    "       %s [-c CONFIG] --message FILE --ip ADDRESS [--helo NAME]\n"
	    "           [--mail-from ADDRESS] [--auth USER] [--client-name NAME] [--json]\n"
	    "  -c, --config   milter.conf for the resolver and the keys (default %s)\n"
	    "  -d, --domain   the domain that sends (From and MAIL FROM)\n"
	    "  -i, --ip       an address the domain's mail leaves from (repeatable)\n"
	    "  -H, --helo     the name the sending host gives in HELO/EHLO\n"
	    "  -m, --message  replay a saved message (\"-\": standard input) through the\n"
	    "                 daemon's own checks and policy, step by step\n"
	    "  -f, --mail-from  its envelope sender (default: the null sender)\n"
	    "  -a, --auth     the SASL login it was sent with (outbound)\n"
	    "  -n, --client-name  the client's name as the MTA gave it (default unknown)\n"
	    "  -j, --json     --message's output as one JSON object\n"
	    "  -h, --help     this text\n",
	    check_prog, check_prog, CHECK_DEFAULT_CONF);
}

/* check_shown - may the character cp be printed as it is? Not a C0 or C1 control
 * or DEL (ESC and CSI, U+009B, start terminal escape sequences; OSC, U+009D, sets
 * titles or clipboards), nor a bidirectional override or isolate, which makes the
 * terminal show text in another order than it is (CVE-2021-42574) */
static bool
check_shown(uint32_t cp)
{
	return !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* check_safe_append - text onto out with every control character and every byte
 * that is not well-formed UTF-8 shown as '?', since names and records come from
 * DNS and the message and must not drive the terminal; json: as a JSON string's
 * contents instead, C0 controls, '"' and '\\' escaped */
void
check_safe_append(struct buf *out, const char *text, size_t len, bool json)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n;
	uint32_t cp;

	for (; len > 0; p += n, len -= n) {
		n = bytes_utf8_char(p, len, &cp);
		if (json && n == 1 && (cp < 0x20 || cp == '"' || cp == '\\')) {
			if (cp < 0x20)
				buf_printf(out, "\\u%04x", (unsigned)cp);
			else
				buf_printf(out, "\\%c", (int)cp);
		} else if (n > 0 && check_shown(cp)) {
			buf_append(out, p, n);
		} else {
			buf_putc(out, '?');
			n = n > 0 ? n : 1;
		}
	}
}

/* check_vline - print one line: prefix, then the formatted text, masked as
 * check_safe_append does */
void
check_vline(const char *prefix, const char *fmt, va_list ap)
{
	struct buf text = BUF_INIT, line = BUF_INIT;

	buf_puts(&line, prefix);
	buf_vprintf(&text, fmt, ap);
	check_safe_append(&line, buf_cstr(&text), text.len, false);
	puts(buf_cstr(&line));
	buf_free(&text);
	buf_free(&line);
}

/* check_line - one line of output: prefix and formatted text, masked */
void
check_line(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vline(prefix, fmt, ap);
	va_end(ap);
}

/* check_say - one check's line: level, what was checked, what was found */
static void
check_say(struct check *c, enum check_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
check_say(struct check *c, enum check_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "ok   ", "warn ", "FAIL " };
	va_list ap;

	switch (level) {
	case CHECK_OK:
		c->n_ok++;
		break;
	case CHECK_WARN:
		c->n_warn++;
		break;
	case CHECK_FAIL:
		c->n_fail++;
		break;
	}
	va_start(ap, fmt);
	check_vline(prefix[level], fmt, ap);
	va_end(ap);
}

/* check_fix - an indented line under a check: the record to publish, the
 * change to make, or a detail */
static void
check_fix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
check_fix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vline("     ", fmt, ap);
	va_end(ap);
}

/* check_stop - a lookup failed: say which, and check nothing further */
static void
check_stop(struct check *c, const char *name, const char *type, const char *why)
{
	buf_printf(&c->stopped, "%s %s lookup failed (%s)", name, type,
	    why != NULL ? why : "temporary failure");
	check_line("error ", "%s", buf_cstr(&c->stopped));
}

/* check_wait - the answer of q; NULL (and the run stopped) on a temporary
 * failure */
static const struct dns_answer *
check_wait(struct check *c, struct dns_query *q, const char *name, const char *type)
{
	const struct dns_answer *a = dns_query_wait(q);

	if (a->status == DNS_TEMPFAIL) {
		check_stop(c, name, type, a->why);
		return NULL;
	}
	return a;
}

/* check_addr_text - an A/AAAA record's address as text */
static void
check_addr_text(const struct dns_rr *rr, char *out, size_t len)
{
	if (inet_ntop(rr->family, rr->addr, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

/* check_example_ip - the address to put into a suggested record */
static const char *
check_example_ip(const struct check *c, int family)
{
	for (size_t i = 0; i < c->n_ips; i++)
		if (family == AF_UNSPEC || c->ips[i].family == family)
			return c->ips[i].text;
	return family == AF_INET6 ? "IPV6-ADDRESS" : "IPV4-ADDRESS";
}

/* check_host_name - the mail host's name to put into a suggested record */
static void
check_host_name(const struct check *c, struct buf *out)
{
	if (c->helo != NULL)
		buf_puts(out, c->helo);
	else
		buf_printf(out, "mail.%s", c->domain);
}

/* check_mx - MX of the domain, and an address for each MX host */
static void
check_mx(struct check *c)
{
	struct dns_resolver *r = c->gen->dns;
	struct dns_query *q = dns_query_start(r, c->domain, DNS_T_MX);
	const struct dns_answer *a = check_wait(c, q, c->domain, "MX");
	struct buf host = BUF_INIT, list = BUF_INIT;

	check_host_name(c, &host);
	if (a == NULL)
		goto out;
	if (a->status != DNS_OK) {
		check_say(c, CHECK_FAIL, "mx %s: %s; bounces and replies to the domain "
		    "cannot be delivered", c->domain, a->status == DNS_NXDOMAIN ?
		    "the domain does not exist" : "no MX record");
		check_fix("publish: %s. IN MX 10 %s.", c->domain, buf_cstr(&host));
		goto out;
	}
	if (a->count == 1 && (a->rr[0].name == NULL || a->rr[0].name[0] == '\0')) {
		check_say(c, CHECK_WARN, "mx %s: null MX (RFC 7505): the domain takes no "
		    "mail, so bounces to its senders are lost", c->domain);
		check_fix("change: publish the MX of the host that receives the "
		    "domain's mail: %s. IN MX 10 %s.", c->domain, buf_cstr(&host));
		goto out;
	}
	for (size_t i = 0; i < a->count; i++)
		buf_printf(&list, "%s%u %s", i ? ", " : "", a->rr[i].pref,
		    a->rr[i].name != NULL ? a->rr[i].name : "");
	check_say(c, CHECK_OK, "mx %s: %s", c->domain, buf_cstr(&list));

	size_t n = a->count < CHECK_MAX_MX ? a->count : CHECK_MAX_MX;
	struct dns_query *fwd[CHECK_MAX_MX][2];

	for (size_t i = 0; i < n; i++) {
		fwd[i][0] = dns_query_start(r, a->rr[i].name, DNS_T_A);
		fwd[i][1] = dns_query_start(r, a->rr[i].name, DNS_T_AAAA);
	}
	for (size_t i = 0; i < n && c->stopped.len == 0; i++) {
		const char *name = a->rr[i].name;
		const struct dns_answer *fa[2];

		if ((fa[0] = check_wait(c, fwd[i][0], name, "A")) == NULL ||
		    (fa[1] = check_wait(c, fwd[i][1], name, "AAAA")) == NULL)
			break;
		buf_reset(&list);
		for (int k = 0; k < 2; k++)
			for (size_t j = 0; fa[k]->status == DNS_OK && j < fa[k]->count; j++) {
				char t[INET6_ADDRSTRLEN];

				check_addr_text(&fa[k]->rr[j], t, sizeof(t));
				buf_printf(&list, "%s%s", list.len ? ", " : "", t);
			}
		if (list.len == 0) {
			check_say(c, CHECK_FAIL, "mx host %s: no A or AAAA record (%s)",
			    name, dns_status_name(fa[0]->status));
			check_fix("publish: %s. IN A %s", name,
			    check_example_ip(c, AF_INET));
		} else
			check_say(c, CHECK_OK, "mx host %s: %s", name, buf_cstr(&list));
	}
	for (size_t i = 0; i < n; i++) {
		dns_query_free(fwd[i][0]);
		dns_query_free(fwd[i][1]);
	}
out:
	buf_free(&host);
	buf_free(&list);
	dns_query_free(q);
}

/* check_ptr - the address's PTR, forward-confirmed, as the daemon's iprev */
static void
check_ptr(struct check *c, const struct check_ip *ip)
{
	struct iprev_check *ic = iprev_start(c->gen->dns, (const struct sockaddr *)&ip->sa);
	const struct iprev_verdict *v = iprev_finish(ic);
	struct buf rev = BUF_INIT, host = BUF_INIT;
	const char *rr = ip->family == AF_INET ? "A" : "AAAA";

	iprev_reverse_name(ip->family, ip->addr, &rev);
	check_host_name(c, &host);
	switch (v->result) {
	case AUTH_PASS:
		check_say(c, CHECK_OK, "ptr %s: %s, which resolves back to %s (FCrDNS)",
		    ip->text, v->name, ip->text);
		break;
	case AUTH_TEMPERROR:
		/* iprev keeps the first PTR name once the PTR lookup answered */
		if (v->name[0] == '\0')
			check_stop(c, buf_cstr(&rev), "PTR", "temporary failure");
		else
			check_stop(c, v->name, rr, "temporary failure");
		break;
	default:
		if (v->name[0] == '\0') {
			check_say(c, CHECK_FAIL, "ptr %s: no PTR record at %s (%s)", ip->text,
			    buf_cstr(&rev), v->reason);
			check_fix("publish (in the reverse zone; ask whoever gave you the "
			    "address): %s. IN PTR %s.", buf_cstr(&rev), buf_cstr(&host));
		} else {
			check_say(c, CHECK_FAIL, "ptr %s: PTR %s, which does not resolve "
			    "back to %s (%s)", ip->text, v->name, ip->text, v->reason);
			check_fix("publish: %s. IN %s %s", v->name, rr, ip->text);
		}
		break;
	}
	iprev_free(ic);
	buf_free(&rev);
	buf_free(&host);
}

/* check_helo - the HELO name resolves to the address */
static void
check_helo(struct check *c, const struct check_ip *ip)
{
	const char *rr = ip->family == AF_INET ? "A" : "AAAA";
	struct dns_query *q = dns_query_start(c->gen->dns, c->helo,
	    ip->family == AF_INET ? DNS_T_A : DNS_T_AAAA);
	const struct dns_answer *a = check_wait(c, q, c->helo, rr);
	size_t len = ip->family == AF_INET ? 4 : 16;
	bool found = false;

	if (a == NULL)
		goto out;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (a->rr[i].family == ip->family && memcmp(a->rr[i].addr, ip->addr, len) == 0)
			found = true;
	if (found) {
		check_say(c, CHECK_OK, "helo %s: resolves to %s", c->helo, ip->text);
	} else {
		check_say(c, CHECK_FAIL, "helo %s: does not resolve to %s (%s %s)", c->helo,
		    ip->text, rr, a->status == DNS_OK ? "holds other addresses" :
		    dns_status_name(a->status));
		check_fix("publish: %s. IN %s %s", c->helo, rr, ip->text);
	}
out:
	dns_query_free(q);
}

/* check_spf_is_record - a TXT record that is an SPF record (RFC 7208 §4.5) */
static bool
check_spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

/* check_spf_all - the qualifier of the record's "all" term, '\0' without one */
static char
check_spf_all(const char *rec)
{
	char q = '\0';

	for (const char *p = rec; *p != '\0';) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 3 && strncasecmp(p, "all", 3) == 0)
			q = '+';
		else if (n == 4 && strchr("+-~?", p[0]) != NULL &&
		    strncasecmp(p + 1, "all", 3) == 0)
			q = p[0];
		p += n;
	}
	return q;
}

/* check_spf_suggest - an SPF record for the sending addresses */
static void
check_spf_suggest(const struct check *c, struct buf *out)
{
	buf_puts(out, "v=spf1");
	for (size_t i = 0; i < c->n_ips; i++)
		buf_printf(out, " %s:%s", c->ips[i].family == AF_INET ? "ip4" : "ip6",
		    c->ips[i].text);
	buf_puts(out, c->n_ips > 0 ? " -all" : " mx -all");
}

/* check_spf_eval - spf.c's verdict for an address, from the daemon's code */
static struct spf_check *
check_spf_eval(struct check *c, const struct sockaddr *sa,
    const struct spf_verdict **v)
{
	struct buf sender = BUF_INIT;
	struct spf_check *sc;

	buf_printf(&sender, "postmaster@%s", c->domain);
	sc = spf_start(c->gen->dns, sa, c->helo != NULL ? c->helo : c->domain,
	    buf_cstr(&sender), false);
	spf_finish(sc, v, NULL);
	buf_free(&sender);
	return sc;
}

/* check_spf_cost - the lookups the record costs when no mechanism matches */
static void
check_spf_cost(struct check *c)
{
	struct sockaddr_in probe = { .sin_family = AF_INET };
	const struct spf_verdict *v;
	struct spf_check *sc;

	if (inet_pton(AF_INET, CHECK_SPF_PROBE, &probe.sin_addr) != 1)
		fatal_bug("CHECK_SPF_PROBE is not an IPv4 address");
	sc = check_spf_eval(c, (const struct sockaddr *)&probe, &v);
	if (v->result == AUTH_TEMPERROR)
		check_stop(c, c->domain, "SPF term", v->reason);
	else if (v->lookups > SPF_DNS_MAX_TERMS) {
		check_say(c, CHECK_FAIL, "spf lookups: more than %d DNS lookups when no "
		    "mechanism matches: receivers stop with permerror (RFC 7208 §4.6.4)",
		    SPF_DNS_MAX_TERMS);
		check_fix("change: replace include:, a, mx and exists terms with ip4:/ip6: "
		    "ranges, or drop includes that are not needed");
	} else if (v->void_lookups > SPF_DNS_MAX_VOID) {
		check_say(c, CHECK_FAIL, "spf lookups: more than %d lookups find no record "
		    "(void): receivers stop with permerror (RFC 7208 §4.6.4)",
		    SPF_DNS_MAX_VOID);
		check_fix("change: remove the terms that name domains without "
		    "records");
	} else if (v->result == AUTH_PERMERROR)
		check_say(c, CHECK_FAIL, "spf %s: permerror: %s", c->domain, v->reason);
	else
		check_say(c, CHECK_OK, "spf lookups: %u of %d DNS lookups, %u of %d void "
		    "lookups when no mechanism matches", v->lookups, SPF_DNS_MAX_TERMS,
		    v->void_lookups, SPF_DNS_MAX_VOID);
	spf_free(sc);
}

/* check_spf_ip - the SPF verdict for one sending address */
static void
check_spf_ip(struct check *c, const struct check_ip *ip, const char *rec)
{
	const struct spf_verdict *v;
	struct spf_check *sc = check_spf_eval(c, (const struct sockaddr *)&ip->sa, &v);
	struct buf fix = BUF_INIT;

	switch (v->result) {
	case AUTH_PASS:
		check_say(c, CHECK_OK, "spf %s: pass for %s (%u of %d lookups, %u of %d "
		    "void)", ip->text, c->domain, v->lookups, SPF_DNS_MAX_TERMS,
		    v->void_lookups, SPF_DNS_MAX_VOID);
		break;
	case AUTH_TEMPERROR:
		check_stop(c, c->domain, "SPF term", v->reason);
		break;
	default:
		check_say(c, CHECK_FAIL, "spf %s: %s for %s: %s", ip->text,
		    auth_result_name(v->result), c->domain, v->reason);
		if (v->result != AUTH_PERMERROR) {
			buf_printf(&fix, "v=spf1 %s:%s", ip->family == AF_INET ? "ip4" :
			    "ip6", ip->text);
			buf_puts(&fix, rec + 6);
			check_fix("change: authorize the address: %s. IN TXT \"%s\"",
			    c->domain, buf_cstr(&fix));
		}
		break;
	}
	buf_free(&fix);
	spf_free(sc);
}

/* check_spf - the one SPF record, what it costs, and its verdict per address */
static void
check_spf(struct check *c)
{
	struct dns_query *q = dns_query_start(c->gen->dns, c->domain, DNS_T_TXT);
	const struct dns_answer *a = check_wait(c, q, c->domain, "TXT");
	struct buf fix = BUF_INIT;
	const char *rec = NULL;
	size_t n = 0;

	if (a == NULL)
		goto out;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (check_spf_is_record(a->rr[i].txt, a->rr[i].txt_len)) {
			n++;
			rec = a->rr[i].txt;
		}
	if (n == 0) {
		check_spf_suggest(c, &fix);
		check_say(c, CHECK_FAIL, "spf %s: no SPF record", c->domain);
		check_fix("publish: %s. IN TXT \"%s\"", c->domain, buf_cstr(&fix));
		goto out;
	}
	if (n > 1) {
		check_say(c, CHECK_FAIL, "spf %s: %zu SPF records; receivers give "
		    "permerror (RFC 7208 §4.5)", c->domain, n);
		check_fix("change: merge them into one v=spf1 record");
		goto out;
	}
	check_say(c, CHECK_OK, "spf %s: \"%s\"", c->domain, rec);
	switch (check_spf_all(rec)) {
	case '+':
		check_say(c, CHECK_WARN, "spf %s: +all lets every address on the "
		    "internet pass", c->domain);
		check_fix("change: end the record with -all (or ~all)");
		break;
	case '?':
		check_say(c, CHECK_WARN, "spf %s: ?all leaves every other address "
		    "neutral, which protects nothing", c->domain);
		check_fix("change: end the record with -all (or ~all)");
		break;
	default:
		break;
	}
	check_spf_cost(c);
	for (size_t i = 0; i < c->n_ips && c->stopped.len == 0; i++)
		check_spf_ip(c, &c->ips[i], rec);
out:
	buf_free(&fix);
	dns_query_free(q);
}

/* check_key_applies - does key k sign mail whose From domain is ours? */
static bool
check_key_applies(const struct check *c, const struct conf_key *k)
{
	size_t dl = strlen(c->domain), kl = strlen(k->domain);

	if (strcmp(c->domain, k->domain) == 0)
		return true;
	return k->subdomains && dl > kl + 1 && c->domain[dl - kl - 1] == '.' &&
	    strcmp(c->domain + dl - kl, k->domain) == 0;
}

/* check_print_lines - each line of text as a detail under the check */
static void
check_print_lines(const char *text)
{
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");

		check_fix("%.*s", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

/* check_dkim_key - one configured key against its published record */
static void
check_dkim_key(struct check *c, const struct conf_key *k)
{
	struct dkim_keycheck kc;
	enum dkim_keycheck_status st = dkim_keycheck_run(c->gen->dns, k->domain,
	    k->selector, k->key, &kc);
	const char *name = buf_cstr(&kc.name);

	switch (st) {
	case DKIM_KEYCHECK_TEMPFAIL:
		check_stop(c, name, "TXT", buf_cstr(&kc.why));
		break;
	case DKIM_KEYCHECK_MISSING:
		check_say(c, CHECK_FAIL, "dkim %s: no key record (%s)", name,
		    buf_cstr(&kc.why));
		check_fix("publish: %s", buf_cstr(&kc.expected));
		break;
	case DKIM_KEYCHECK_MISMATCH:
		check_say(c, CHECK_FAIL, "dkim %s: does not publish the public key of %s",
		    name, k->file);
		check_print_lines(buf_cstr(&kc.notes));
		if (kc.n_records > 1)
			check_fix("%zu TXT records: one key record must be one TXT record "
			    "(its strings are joined; separate records are not)",
			    kc.n_records);
		check_fix("publish: %s", buf_cstr(&kc.expected));
		break;
	case DKIM_KEYCHECK_MATCH:
		if (k->key->alg == DKIM_ALG_RSA_SHA256)
			check_say(c, CHECK_OK, "dkim %s: publishes the key of %s (%s, %d "
			    "bits)", name, k->file, dkim_alg_name(k->key->alg),
			    k->key->bits);
		else
			check_say(c, CHECK_OK, "dkim %s: publishes the key of %s (%s)", name,
			    k->file, dkim_alg_name(k->key->alg));
		if (kc.record_len > DKIM_KEYCHECK_TXT_STRING)
			check_fix("%zu bytes, over one string's %d: in zone-file syntax, "
			    "%s", kc.record_len, DKIM_KEYCHECK_TXT_STRING,
			    buf_cstr(&kc.expected));
		if (kc.n_records > 1) {
			check_say(c, CHECK_WARN, "dkim %s: %zu TXT records; verifiers may "
			    "pick any (RFC 6376 §3.6.2.2)", name, kc.n_records);
			check_fix("change: keep only the key record");
		}
		if (kc.testing) {
			check_say(c, CHECK_WARN, "dkim %s: t=y: the key is in testing mode, "
			    "verifiers may treat its signatures as unsigned", name);
			check_fix("change: remove t=y from the record once signing works");
		}
		if (k->key->alg == DKIM_ALG_RSA_SHA256 &&
		    k->key->bits < CHECK_RSA_GOOD_BITS) {
			check_say(c, CHECK_WARN, "dkim %s: RSA key of %d bits; %d is the "
			    "least that large receivers expect (RFC 8301 allows %d)", name,
			    k->key->bits, CHECK_RSA_GOOD_BITS, DKIM_RSA_MIN_BITS);
			check_fix("change: authmilter-keygen -a rsa -d %s -s NEWSELECTOR, "
			    "publish its record, then point the key section at it",
			    k->domain);
		}
		break;
	}
	dkim_keycheck_clear(&kc);
}

/* check_rotated_key - a key of the rotation state that does not sign (pending,
 * retired, withdrawn) against DNS: pending not yet published, retired already
 * withdrawn (too early), withdrawn still published */
static void
check_rotated_key(struct check *c, const struct dkim_rotate_key *rk)
{
	const char *dir = c->gen->conf->dkim.keys_directory;
	const char *st = dkim_rotate_state_name(rk->state);
	struct buf path = BUF_INIT;
	struct dkim_keycheck kc;
	struct dkim_key *key;
	char err[512];

	dkim_rotate_key_path(dir, rk, false, &path);
	if ((key = dkim_key_load(path.data, false, err, sizeof(err))) == NULL) {
		check_say(c, CHECK_FAIL, "dkim %s._domainkey.%s (%s): %s", rk->selector,
		    rk->domain, st, err);
		buf_free(&path);
		return;
	}
	enum dkim_keycheck_status r = dkim_keycheck_run(c->gen->dns, rk->domain,
	    rk->selector, key, &kc);
	const char *name = buf_cstr(&kc.name);
	bool shown = r == DKIM_KEYCHECK_MATCH;

	if (r == DKIM_KEYCHECK_TEMPFAIL)
		check_stop(c, name, "TXT", buf_cstr(&kc.why));
	else if (rk->state == DKIM_ROTATE_PENDING && !shown) {
		check_say(c, CHECK_WARN, "dkim %s (pending): not yet published; it signs "
		    "once published and seen by authmilter-keygen --rotate", name);
		check_fix("publish: %s", buf_cstr(&kc.expected));
	} else if (rk->state == DKIM_ROTATE_RETIRED && !shown) {
		check_say(c, CHECK_FAIL, "dkim %s (retired): withdrawn too early: mail it "
		    "signed until it retired no longer verifies", name);
		check_fix("publish again: %s", buf_cstr(&kc.expected));
	} else if (rk->state == DKIM_ROTATE_WITHDRAWN && shown) {
		check_say(c, CHECK_WARN, "dkim %s (withdrawn): still published", name);
		check_fix("withdraw: %s TXT", name);
	} else
		check_say(c, CHECK_OK, "dkim %s (%s): %s", name, st, shown ? "published, "
		    "signs nothing" : "no longer published");
	dkim_keycheck_clear(&kc);
	dkim_key_free(key);
	buf_free(&path);
}

/* check_dkim_rotation - the domain's keys that rotation keeps out of signing */
static void
check_dkim_rotation(struct check *c)
{
	const char *dir = c->gen->conf->dkim.keys_directory;
	struct dkim_rotate_key *rk = NULL;
	size_t n = 0;
	char err[512];

	if (dir[0] == '\0')
		return;
	if (!dkim_rotate_state_load(dir, &rk, &n, err, sizeof(err))) {
		check_say(c, CHECK_FAIL, "dkim key rotation: %s", err);
		return;
	}
	for (size_t i = 0; i < n && c->stopped.len == 0; i++)
		if (strcmp(rk[i].domain, c->domain) == 0 &&
		    rk[i].state != DKIM_ROTATE_ACTIVE)
			check_rotated_key(c, &rk[i]);
	free(rk);
}

/* check_dkim - every key that signs the domain's mail (key sections and the
 * keys directory), then the keys rotation holds back */
static void
check_dkim(struct check *c)
{
	const struct conf_key *keys[DKIM_KEYTABLE_MAX_MATCH];
	size_t n = dkim_keytable_match(c->gen->keys, c->domain, keys,
	    DKIM_KEYTABLE_MAX_MATCH);

	for (size_t i = 0; i < n && c->stopped.len == 0; i++)
		check_dkim_key(c, keys[i]);
	if (n == 0) {
		check_say(c, CHECK_WARN, "dkim %s: no key in %s signs its mail, so DMARC "
		    "rests on SPF alone, which forwarding breaks", c->domain, c->conf_path);
		check_fix("change: authmilter-keygen -a rsa -d %s -s SELECTOR -o "
		    "/etc/authmilter/keys, publish its record, add a dkim key section",
		    c->domain);
	}
	check_dkim_rotation(c);
}

/* What DMARC discovery found for the domain. */
enum check_found { FOUND_NONE, FOUND_OK, FOUND_MULTI, FOUND_INVALID, FOUND_TEMP };

struct check_dmarc {
	enum check_found found;
	char	 where[CHECK_NAME_MAX];	/* the domain that published the record */
	char	 org[CHECK_NAME_MAX];	/* organizational domain of ours */
	bool	 inherited;		/* where is not our domain */
	struct buf text;		/* the record as published */
	struct dmarc_record rec;	/* FOUND_OK */
	char	 err[320];		/* FOUND_INVALID, FOUND_TEMP (a walk's why fits) */
};

/* check_dmarc_is_record - does a TXT record start with the v=DMARC1 tag, in any
 * case? A wrong case is then reported by dmarc_record_parse (RFC 9989 §4.7: the
 * version is case-sensitive), not taken for no record at all. */
static bool
check_dmarc_is_record(const char *t)
{
	t += strspn(t, " \t");
	if (*t != 'v' && *t != 'V')
		return false;
	t += 1 + strspn(t + 1, " \t");
	if (*t != '=')
		return false;
	t += 1 + strspn(t + 1, " \t");
	return strncasecmp(t, "DMARC1", 6) == 0 && strchr("; \t", t[6]) != NULL;
}

/* check_dmarc_at - the DMARC record at _dmarc.DOMAIN into d; false when there
 * is none (d->found NONE) */
static bool
check_dmarc_at(struct check *c, const char *domain, struct check_dmarc *d)
{
	struct buf name = BUF_INIT;
	size_t n = 0;

	buf_printf(&name, "_dmarc.%s", domain);
	struct dns_query *q = dns_query_start(c->gen->dns, buf_cstr(&name), DNS_T_TXT);
	const struct dns_answer *a = dns_query_wait(q);

	d->found = FOUND_NONE;
	if (a->status == DNS_TEMPFAIL) {
		d->found = FOUND_TEMP;
		snprintf(d->err, sizeof(d->err), "%s", a->why ? a->why : "temporary failure");
	}
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		if (!check_dmarc_is_record(a->rr[i].txt) || n++ > 0)
			continue;
		buf_append(&d->text, a->rr[i].txt, a->rr[i].txt_len);
		d->found = dmarc_record_parse(a->rr[i].txt, a->rr[i].txt_len, &d->rec,
		    d->err, sizeof(d->err)) ? FOUND_OK : FOUND_INVALID;
	}
	if (n > 1) {
		if (d->found == FOUND_OK)
			dmarc_record_clear(&d->rec);
		d->found = FOUND_MULTI;
		snprintf(d->err, sizeof(d->err), "%zu DMARC records", n);
	}
	snprintf(d->where, sizeof(d->where), "%s%s", d->found == FOUND_TEMP ?
	    "_dmarc." : "", domain);
	dns_query_free(q);
	buf_free(&name);
	return d->found != FOUND_NONE;
}

/* The walk's lookups, made one after another (a one-shot tool need not start
 * them in parallel as the daemon does); the queries live until the walk is done. */
struct check_walk {
	struct check	 *check;
	struct dns_query *q[DMARC_WALK_MAX];
	size_t		  n;
};

/* check_walk_lookup - a dmarc_walk_lookup: TXT at _dmarc.<name> */
static const struct dns_answer *
check_walk_lookup(void *ctx, const char *name)
{
	struct check_walk *cw = ctx;
	struct buf qname = BUF_INIT;
	struct dns_query *q;

	if (cw->n == DMARC_WALK_MAX)
		return NULL;
	buf_printf(&qname, "_dmarc.%s", name);
	q = dns_query_start(cw->check->gen->dns, buf_cstr(&qname), DNS_T_TXT);
	buf_free(&qname);
	cw->q[cw->n++] = q;
	return dns_query_wait(q);
}

/* check_dmarc_find - DMARC discovery as the daemon does it (RFC 9989 §4.10): the
 * record at _dmarc.DOMAIN, else the one the DNS tree walk finds (the
 * organizational domain's, or a public suffix domain's); the walk also gives the
 * organizational domain. A broken or doubled record of our own is reported as
 * such, though the walk would pass over it. */
static void
check_dmarc_find(struct check *c, struct check_dmarc *d)
{
	struct check_walk cw = { .check = c };
	struct dmarc_walk w;
	int at;

	dmarc_walk_run(&w, c->domain, check_walk_lookup, &cw);
	snprintf(d->org, sizeof(d->org), "%s", w.org != NULL ? w.org : c->domain);
	if (w.tempfail) {
		d->found = FOUND_TEMP;
		snprintf(d->where, sizeof(d->where), "_dmarc.%s", w.names[w.failed]);
		snprintf(d->err, sizeof(d->err), "%s", w.why);
	} else if (!check_dmarc_at(c, c->domain, d) &&
	    (at = dmarc_walk_policy(&w)) > 0)
		d->inherited = check_dmarc_at(c, w.names[at], d);
	dmarc_walk_clear(&w);
	for (size_t i = 0; i < cw.n; i++)
		dns_query_free(cw.q[i]);
}

/* check_dmarc_rua - one rua destination; an external one must authorize
 * itself (RFC 7489 §7.1, RFC 9990 §4) */
static void
check_dmarc_rua(struct check *c, const struct check_dmarc *d, const char *uri)
{
	char raw[CHECK_NAME_MAX], dest[CHECK_NAME_MAX], dest_org[CHECK_NAME_MAX];
	const char *at;
	size_t len;

	if (strncasecmp(uri, "mailto:", 7) != 0 || (at = strchr(uri + 7, '@')) == NULL) {
		check_say(c, CHECK_WARN, "dmarc rua %s: not a mailto: address; receivers "
		    "send reports by mail only", uri);
		return;
	}
	len = strcspn(at + 1, "!");	/* a size limit follows '!' (RFC 7489 §6.2) */
	if (len >= sizeof(raw)) {
		check_say(c, CHECK_FAIL, "dmarc rua %s: the domain is too long", uri);
		return;
	}
	memcpy(raw, at + 1, len);
	raw[len] = '\0';
	if (!rfc5322_domain_normalise(raw, dest, sizeof(dest))) {
		check_say(c, CHECK_FAIL, "dmarc rua %s: \"%s\" is not a domain", uri, raw);
		return;
	}
	if (!dmarc_org_domain(c->gen->psl, dest, dest_org, sizeof(dest_org)))
		snprintf(dest_org, sizeof(dest_org), "%s", dest);
	if (strcmp(dest_org, d->org) == 0) {
		check_say(c, CHECK_OK, "dmarc rua %s: within %s", uri, d->org);
		return;
	}

	struct buf name = BUF_INIT;

	buf_printf(&name, "%s._report._dmarc.%s", d->where, dest);
	struct dns_query *q = dns_query_start(c->gen->dns, buf_cstr(&name), DNS_T_TXT);
	const struct dns_answer *a = check_wait(c, q, buf_cstr(&name), "TXT");
	bool ok = false;

	for (size_t i = 0; a != NULL && a->status == DNS_OK && i < a->count; i++)
		if (check_dmarc_is_record(a->rr[i].txt))
			ok = true;
	if (a == NULL)
		;
	else if (ok)
		check_say(c, CHECK_OK, "dmarc rua %s: %s takes reports for %s (%s)", uri,
		    dest, d->where, buf_cstr(&name));
	else {
		check_say(c, CHECK_FAIL, "dmarc rua %s: %s has not authorized reports for "
		    "%s, so receivers send it none", uri, dest, d->where);
		check_fix("publish (in %s's zone): %s. IN TXT \"v=DMARC1\"", dest,
		    buf_cstr(&name));
	}
	dns_query_free(q);
	buf_free(&name);
}

/* check_dmarc_align - alignment of the signing domains and of the SPF domain
 * with ours, judged by the daemon's dmarc_judge */
static void
check_dmarc_align(struct check *c, const struct check_dmarc *d)
{
	const struct conf *conf = c->gen->conf;
	struct spf_verdict spf = { .result = AUTH_PASS, .sender = "" };
	struct dmarc_verdict v;

	/* the MAIL FROM domain checked above is our domain itself */
	snprintf(spf.domain, sizeof(spf.domain), "%s", c->domain);
	dmarc_judge(&d->rec, c->domain, d->where, false, &spf, NULL, 0, dmarc_org_psl,
	    (void *)c->gen->psl, &v);
	if (v.spf_aligned)
		check_say(c, CHECK_OK, "dmarc alignment spf: MAIL FROM domain %s aligns "
		    "(aspf=%s)", c->domain, d->rec.aspf == DMARC_ALIGN_STRICT ? "s" : "r");
	else
		check_say(c, CHECK_FAIL, "dmarc alignment spf: MAIL FROM domain %s does "
		    "not align", c->domain);
	dmarc_verdict_clear(&v);

	for (size_t i = 0; i < conf->dkim.n_keys; i++) {
		const struct conf_key *k = &conf->dkim.keys[i];
		struct dkim_verdict dv = { .result = AUTH_PASS };

		if (!check_key_applies(c, k))
			continue;
		snprintf(dv.domain, sizeof(dv.domain), "%s", k->domain);
		dmarc_judge(&d->rec, c->domain, d->where, false, NULL, &dv, 1,
		    dmarc_org_psl, (void *)c->gen->psl, &v);
		if (v.dkim_aligned)
			check_say(c, CHECK_OK, "dmarc alignment dkim: key %s signs d=%s, "
			    "which aligns (adkim=%s)", k->name, k->domain,
			    d->rec.adkim == DMARC_ALIGN_STRICT ? "s" : "r");
		else {
			check_say(c, CHECK_FAIL, "dmarc alignment dkim: key %s signs d=%s, "
			    "which does not align with %s under adkim=%s", k->name,
			    k->domain, c->domain,
			    d->rec.adkim == DMARC_ALIGN_STRICT ? "s" : "r");
			check_fix("change: set adkim=r in the DMARC record, or sign with "
			    "a key for %s itself", c->domain);
		}
		dmarc_verdict_clear(&v);
	}
}

/* check_dmarc - the record that applies, its policy, reports and alignment */
static void
check_dmarc(struct check *c)
{
	struct check_dmarc d = { .found = FOUND_NONE };
	enum dmarc_policy pol;

	check_dmarc_find(c, &d);
	switch (d.found) {
	case FOUND_TEMP:
		check_stop(c, d.where, "TXT", d.err);
		goto out;
	case FOUND_NONE:
		check_say(c, CHECK_FAIL, "dmarc %s: no DMARC record at _dmarc.%s%s%s",
		    c->domain, c->domain, strcmp(d.org, c->domain) != 0 ? " nor _dmarc." :
		    "", strcmp(d.org, c->domain) != 0 ? d.org : "");
		check_fix("publish: _dmarc.%s. IN TXT \"v=DMARC1; p=none; "
		    "rua=mailto:dmarc-reports@%s\"", c->domain, c->domain);
		goto out;
	case FOUND_MULTI:
		check_say(c, CHECK_FAIL, "dmarc %s: %s at _dmarc.%s; receivers use none "
		    "of them (RFC 7489 §6.6.3)", c->domain, d.err, d.where);
		check_fix("change: keep one v=DMARC1 record");
		goto out;
	case FOUND_INVALID:
		check_say(c, CHECK_FAIL, "dmarc %s: the record at _dmarc.%s is invalid: "
		    "%s: \"%s\"", c->domain, d.where, d.err, buf_cstr(&d.text));
		check_fix("publish: _dmarc.%s. IN TXT \"v=DMARC1; p=none; "
		    "rua=mailto:dmarc-reports@%s\"", d.where, d.where);
		goto out;
	case FOUND_OK:
		break;
	}
	check_say(c, CHECK_OK, "dmarc %s: %s at _dmarc.%s: \"%s\"", c->domain,
	    d.inherited ? "inherited from the organizational domain" : "own record",
	    d.where, buf_cstr(&d.text));

	pol = d.rec.p;
	if (d.inherited && d.rec.sp != DMARC_POLICY_UNSET)
		pol = d.rec.sp;
	if (pol == DMARC_POLICY_UNSET)
		pol = DMARC_POLICY_NONE;
	if (pol == DMARC_POLICY_NONE) {
		check_say(c, CHECK_WARN, "dmarc policy: %s=none applies to %s: receivers "
		    "report, but act on nothing", d.inherited && d.rec.sp !=
		    DMARC_POLICY_UNSET ? "sp" : "p", c->domain);
		check_fix("change: once the reports show your mail passing, p=quarantine, "
		    "then p=reject");
	} else
		check_say(c, CHECK_OK, "dmarc policy: %s=%s applies to %s%s",
		    d.inherited && d.rec.sp != DMARC_POLICY_UNSET ? "sp" : "p",
		    dmarc_policy_name(pol), c->domain, d.rec.testing ?
		    " (t=y: receivers apply the next weaker policy)" : "");

	if (d.rec.n_rua == 0) {
		check_say(c, CHECK_WARN, "dmarc rua: none; no aggregate reports reach you");
		check_fix("change: add rua=mailto:dmarc-reports@%s", d.where);
	}
	for (size_t i = 0; i < d.rec.n_rua && c->stopped.len == 0; i++)
		check_dmarc_rua(c, &d, d.rec.rua[i]);
	if (c->stopped.len == 0)
		check_dmarc_align(c, &d);
	dmarc_record_clear(&d.rec);
out:
	buf_free(&d.text);
}

/* check_parse_ip - --ip ADDRESS into ip; false when it is not an address */
static bool
check_parse_ip(const char *s, struct check_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ip->sa;

		ip->family = sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->addr, 4);
	} else if (inet_pton(AF_INET6, s, ip->addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ip->sa;

		ip->family = sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip->addr, 16);
	} else
		return false;
	return inet_ntop(ip->family, ip->addr, ip->text, sizeof(ip->text)) != NULL;
}

/* check_run - every check, in order, until one cannot be done */
static void
check_run(struct check *c)
{
	check_mx(c);
	for (size_t i = 0; i < c->n_ips && c->stopped.len == 0; i++) {
		check_ptr(c, &c->ips[i]);
		if (c->helo != NULL && c->stopped.len == 0)
			check_helo(c, &c->ips[i]);
	}
	if (c->stopped.len == 0)
		check_spf(c);
	if (c->stopped.len == 0)
		check_dkim(c);
	if (c->stopped.len == 0)
		check_dmarc(c);
}

/* The command line: the checklist's inputs, or --message's. */
struct check_args {
	const char	*domain;	/* -d */
	struct check_message_opts msg;	/* --message and the envelope */
	bool		 help;
};

/* check_add_ip - one --ip; false after saying what is wrong */
static bool
check_add_ip(struct check *c, const char *arg)
{
	if (c->n_ips == CHECK_MAX_IPS) {
		fprintf(stderr, "%s: at most %d --ip addresses\n", check_prog, CHECK_MAX_IPS);
		return false;
	}
	if (!check_parse_ip(arg, &c->ips[c->n_ips])) {
		fprintf(stderr, "%s: --ip %s: not an IPv4 or IPv6 address\n", check_prog, arg);
		return false;
	}
	c->n_ips++;
	return true;
}

/* check_options - parse argv into c and a; false after saying what is wrong */
static bool
check_options(int argc, char **argv, struct check *c, struct check_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "domain", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "message", required_argument, NULL, 'm' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "auth", required_argument, NULL, 'a' },
		{ "client-name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:d:i:H:m:f:a:n:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': c->conf_path = optarg; break;
		case 'd': a->domain = optarg; break;
		case 'H': c->helo = optarg; break;
		case 'm': a->msg.path = optarg; break;
		case 'f': a->msg.mail_from = optarg; break;
		case 'a': a->msg.auth = optarg; break;
		case 'n': a->msg.client_name = optarg; break;
		case 'j': a->msg.json = true; break;
		case 'h': a->help = true; return true;
		case 'i':
			if (!check_add_ip(c, optarg))
				return false;
			break;
		default:
			check_usage(stderr);
			return false;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", check_prog, argv[optind]);
		return false;
	}
	return true;
}

/* check_message_main - --message: one --ip, no -d; the replay's exit status */
static int
check_message_main(struct check *c, struct check_args *a)
{
	if (a->domain != NULL || c->n_ips != 1) {
		fprintf(stderr, "%s: --message needs exactly one --ip and no -d\n", check_prog);
		return CHECK_EXIT_ERROR;
	}
	a->msg.conf_path = c->conf_path;
	a->msg.client = (const struct sockaddr *)&c->ips[0].sa;
	a->msg.helo = c->helo;
	if (a->msg.client_name == NULL)
		a->msg.client_name = "unknown";	/* as Postfix names an unverified client */
	return check_message_run(&a->msg);
}

/* check_domain_main - -d: the outbound checklist; its exit status */
static int
check_domain_main(struct check *c, const struct check_args *a)
{
	int rc;

	if (a->msg.mail_from != NULL || a->msg.auth != NULL || a->msg.json ||
	    a->msg.client_name != NULL) {
		fprintf(stderr, "%s: --mail-from, --auth, --client-name and --json go with "
		    "--message\n", check_prog);
		return CHECK_EXIT_ERROR;
	}
	if (!rfc5322_domain_normalise(a->domain, c->domain, sizeof(c->domain)) ||
	    strchr(c->domain, '.') == NULL) {
		fprintf(stderr, "%s: -d %s: not a domain name\n", check_prog, a->domain);
		return CHECK_EXIT_ERROR;
	}
	if (c->helo != NULL && strchr(c->helo, '.') == NULL) {
		fprintf(stderr, "%s: --helo %s: not a fully qualified name\n", check_prog,
		    c->helo);
		return CHECK_EXIT_ERROR;
	}
	if ((c->gen = generation_load(c->conf_path, stderr)) == NULL)
		return CHECK_EXIT_ERROR;

	check_run(c);
	if (c->stopped.len > 0) {
		check_line("could not check: ", "%s; %u FAIL, %u warn, %u ok before it",
		    buf_cstr(&c->stopped), c->n_fail, c->n_warn, c->n_ok);
		rc = CHECK_EXIT_ERROR;
	} else if (c->n_fail > 0 || c->n_warn > 0) {
		printf("%u FAIL, %u warn, %u ok\n", c->n_fail, c->n_warn, c->n_ok);
		rc = c->n_fail > 0 ? CHECK_EXIT_FAIL : CHECK_EXIT_OK;
	} else {
		printf("all ok (%u checks)\n", c->n_ok);
		rc = CHECK_EXIT_OK;
	}
	buf_free(&c->stopped);
	generation_release(c->gen);
	return rc;
}

int
main(int argc, char **argv)
{
	struct check c = { .conf_path = CHECK_DEFAULT_CONF };
	struct check_args a;

	memset(&a, 0, sizeof(a));
	if (!check_options(argc, argv, &c, &a))
		return CHECK_EXIT_ERROR;
	if (a.help) {
		check_usage(stdout);
		return CHECK_EXIT_OK;
	}
	if (a.msg.path != NULL)
		return check_message_main(&c, &a);
	if (a.domain == NULL) {
		fprintf(stderr, "%s: -d DOMAIN or --message FILE is required (-h for help)\n",
		    check_prog);
		return CHECK_EXIT_ERROR;
	}
	return check_domain_main(&c, &a);
}
