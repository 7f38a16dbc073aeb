/* dns_answer - what one DNS lookup answered, and the pure step that builds it.
 *
 * dns_answer_fill turns libunbound's result (rcode, rdata) into a struct
 * dns_answer; dns_answer_clear frees what it holds; dns_status_name spells a
 * status. No I/O and no resolver state: the resolver (dns.c), its front cache
 * (dns_cache.c), the fuzzers' fake resolver and dnsq all use these.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <unbound.h>

#include "buf.h"
#include "dns_answer.h"
#include "xalloc.h"

#define DNS_MAX_NAME_WIRE 255	    /* octets of a wire-format name */

/* dns_status_name - "ok", "nxdomain", "nodata", "tempfail" */
const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

/* dns_answer_rcode_why - static text for a failing rcode */
static const char *
dns_answer_rcode_why(int rcode)
{
	switch (rcode) {
	case 1:
		return "FORMERR";
	case 2:
		return "SERVFAIL";
	case 4:
		return "NOTIMP";
	case 5:
		return "REFUSED";
	default:
		return "DNS error";
	}
}

/* Bounds-checked reader over one RR's rdata. */
struct dns_cursor {
	const unsigned char *p;
	size_t left;
};

/* dns_answer_get16 - read a network-order 16-bit value */
static bool
dns_answer_get16(struct dns_cursor *c, unsigned *v)
{
	if (c->left < 2)
		return false;
	*v = ((unsigned)c->p[0] << 8) | c->p[1];
	c->p += 2;
	c->left -= 2;
	return true;
}

/* dns_answer_get_name - an uncompressed wire-format name as lower-case text, no final
 * dot ("" for the root); NULL when malformed */
static char *
dns_answer_get_name(struct dns_cursor *c)
{
	struct buf b = BUF_INIT;
	size_t wire = 0;

	for (;;) {
		size_t len, i;

		if (c->left < 1)
			goto bad;
		len = c->p[0];
		c->p++;
		c->left--;
		wire += len + 1;
		if (wire > DNS_MAX_NAME_WIRE)
			goto bad;
		if (len == 0)
			break;
		if (len > DNS_MAX_LABEL || len > c->left) /* pointers too */
			goto bad;
		if (b.len > 0)
			buf_putc(&b, '.');
		for (i = 0; i < len; i++) {
			unsigned char ch = c->p[i];

			/* a dot or an escape inside a label would change what
			 * the text means; control bytes have no business here */
			if (ch <= ' ' || ch >= 0x7f || ch == '.' || ch == '\\')
				goto bad;
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			buf_putc(&b, ch);
		}
		c->p += len;
		c->left -= len;
	}
	if (b.len == 0)
		buf_puts(&b, ""); /* allocate: the root is "" */
	return buf_steal(&b);
bad:
	buf_free(&b);
	return NULL;
}

enum dns_parse {
	DNS_PARSE_OK,
	DNS_PARSE_BAD, /* malformed rdata */
	DNS_PARSE_BIG  /* TXT over DNS_MAX_TXT */
};

/* dns_answer_parse_rr - one RR's rdata into rr */
static enum dns_parse
dns_answer_parse_rr(int rrtype, const unsigned char *data, size_t len, struct dns_rr *rr)
{
	struct dns_cursor c = {data, len};
	struct buf b = BUF_INIT;

	memset(rr, 0, sizeof(*rr));
	switch (rrtype) {
	case DNS_T_A:
		if (len != 4)
			return DNS_PARSE_BAD;
		rr->family = AF_INET;
		memcpy(rr->addr, data, 4);
		return DNS_PARSE_OK;
	case DNS_T_AAAA:
		if (len != 16)
			return DNS_PARSE_BAD;
		rr->family = AF_INET6;
		memcpy(rr->addr, data, 16);
		return DNS_PARSE_OK;
	case DNS_T_MX:
		if (!dns_answer_get16(&c, &rr->pref))
			return DNS_PARSE_BAD;
		/* FALLTHROUGH */
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if ((rr->name = dns_answer_get_name(&c)) == NULL)
			return DNS_PARSE_BAD;
		if (c.left != 0) {
			free(rr->name);
			rr->name = NULL;
			return DNS_PARSE_BAD;
		}
		return DNS_PARSE_OK;
	case DNS_T_TXT:
		while (c.left > 0) {
			size_t slen = c.p[0];

			if (slen > c.left - 1) {
				buf_free(&b);
				return DNS_PARSE_BAD;
			}
			if (b.len + slen > DNS_MAX_TXT) {
				buf_free(&b);
				return DNS_PARSE_BIG;
			}
			buf_append(&b, c.p + 1, slen);
			c.p += slen + 1;
			c.left -= slen + 1;
		}
		rr->txt_len = b.len;
		if (b.len == 0)
			buf_puts(&b, "");
		rr->txt = buf_steal(&b);
		return DNS_PARSE_OK;
	default:
		return DNS_PARSE_BAD; /* a type we do not ask for */
	}
}

/* dns_answer_clear - free what an answer holds */
void
dns_answer_clear(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->count; i++) {
		free(a->rr[i].name);
		free(a->rr[i].txt);
	}
	free(a->rr);
	a->rr = NULL;
	a->count = 0;
}

/* dns_answer_tempfail - make a an empty temporary failure */
void
dns_answer_tempfail(struct dns_answer *a, const char *why)
{
	dns_answer_clear(a);
	a->status = DNS_TEMPFAIL;
	a->why = why;
}

/* dns_answer_aliased - the answer followed a CNAME from the asked name elsewhere */
static bool
dns_answer_aliased(const struct ub_result *res)
{
	size_t qn, cn;

	if (res->canonname == NULL || res->canonname[0] == '\0')
		return false;
	if (res->qname == NULL)
		return true;
	qn = strlen(res->qname);
	cn = strlen(res->canonname);
	if (qn > 0 && res->qname[qn - 1] == '.')
		qn--;
	if (cn > 0 && res->canonname[cn - 1] == '.')
		cn--;
	return qn != cn || strncasecmp(res->qname, res->canonname, qn) != 0;
}

/* dns_answer_fill - turn libunbound's result into our answer */
void
dns_answer_fill(struct dns_answer *a, int err, const struct ub_result *res)
{
	size_t n, i;
	bool big = false;

	if (err != 0 || res == NULL) {
		dns_answer_tempfail(a, err != 0 ? ub_strerror(err) : "no result");
		return;
	}
	if (res->secure)
		a->security = DNS_SEC_SECURE;
	if (res->bogus) {
		a->security = DNS_SEC_BOGUS;
		dns_answer_tempfail(a, "DNSSEC bogus");
		return;
	}
	a->ttl = res->ttl;
	if (res->rcode == 3) {
		/* RFC 6604 §3: the NXDOMAIN of a CNAME chain is its last name's; a
		 * CNAME at the asked name (libunbound then names its target in
		 * canonname) means that name exists (RFC 9989 App. A.4): no data */
		a->status = dns_answer_aliased(res) ? DNS_NODATA : DNS_NXDOMAIN;
		return;
	}
	if (res->rcode != 0) {
		dns_answer_tempfail(a, dns_answer_rcode_why(res->rcode));
		return;
	}
	if (!res->havedata || res->data == NULL || res->data[0] == NULL) {
		a->status = DNS_NODATA;
		return;
	}
	for (n = 0; res->data[n] != NULL; n++)
		;
	if (n > DNS_MAX_RECORDS)
		n = DNS_MAX_RECORDS;
	a->rr = xcalloc(n, sizeof(*a->rr));
	for (i = 0; i < n; i++) {
		if (res->len[i] < 0)
			continue;
		switch (dns_answer_parse_rr(a->rrtype,
		    (const unsigned char *)res->data[i], (size_t)res->len[i],
		    &a->rr[a->count])) {
		case DNS_PARSE_OK:
			a->count++;
			break;
		case DNS_PARSE_BIG:
			big = true;
			break;
		case DNS_PARSE_BAD:
			break;
		}
	}
	if (a->count == 0)
		dns_answer_tempfail(a, big ? "oversized" : "malformed answer");
	else
		a->status = DNS_OK;
}
