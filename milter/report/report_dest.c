/* report_dest - the destinations of an aggregate report.
 *
 *   report_rua_parse	rua value -> mail addresses safe to put in a header
 *   report_dest_check	RFC 9990 §4: external destinations must authorize
 *
 * A rua value comes from the DNS of whoever sent us mail: it is hostile input.
 * Nothing from it reaches a header except an address that passed
 * dest_addr_ok (dot-atom local part, LDH domain): no CR, LF, comma, quote,
 * angle bracket or blank can get through. The number of items looked at and
 * the number kept are capped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "bytes.h"
#include "dns.h"
#include "report_dest.h"
#include "rfc5322.h"

/* report_dest_domain_ok - lower-case LDH labels of 1..63, 1..253 in all */
bool
report_dest_domain_ok(const char *d)
{
	size_t len = strlen(d);
	const char *label = d;		/* where the current label starts */

	if (len == 0 || len > 253)
		return false;
	for (const char *p = d; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	}
}

/* dest_atext - RFC 5322 atext */
static bool
dest_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* dest_addr_ok - decode %XX in the len bytes at s and check local@domain: local a
 * dot-atom of at most REPORT_MAX_LOCAL octets, domain valid; d filled on success */
static bool
dest_addr_ok(const char *s, size_t len, struct report_dest *d)
{
	char dec[REPORT_MAX_RUA_ITEM + 1];
	size_t n = 0, at = 0, ats = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;

		if (c == '%') {
			if (i + 2 >= len)
				return false;
			if ((hi = bytes_hex_value((unsigned char)s[i + 1])) < 0 ||
			    (lo = bytes_hex_value((unsigned char)s[i + 2])) < 0)
				return false;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '@') {
			at = n;
			ats++;
		} else if (c != '.' && !dest_atext(c))
			return false;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	if (ats != 1 || at == 0 || at > REPORT_MAX_LOCAL || at + 1 >= n)
		return false;
	/* dot-atom: no leading, trailing or doubled dot in the local part */
	if (dec[0] == '.' || dec[at - 1] == '.' || memmem(dec, at, "..", 2) != NULL)
		return false;
	dec[at] = '\0';
	if (!rfc5322_domain_normalise(dec + at + 1, d->host, sizeof(d->host)) ||
	    !report_dest_domain_ok(d->host))
		return false;
	size_t hl = strlen(d->host);

	memcpy(d->addr, dec, at);	/* at <= 64, hl <= 253: it fits */
	d->addr[at] = '@';
	memcpy(d->addr + at + 1, d->host, hl + 1);
	return true;
}

/* report_rua_parse - the usable mailto: destinations */
size_t
report_rua_parse(const char *rua, struct report_dest *out, size_t max)
{
	size_t kept = 0, items = 0;
	const char *p = rua;

	while (p != NULL && *p != '\0' && kept < max && items < REPORT_MAX_RUA_ITEMS) {
		size_t len = strcspn(p, ","), end;
		const char *s = p;
		struct report_dest d;

		items++;
		p += len;
		if (*p == ',')
			p++;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > REPORT_MAX_RUA_ITEM || len < 7 || strncasecmp(s, "mailto:", 7) != 0)
			continue;
		s += 7;
		len -= 7;
		/* hfields ("?subject=...") are never used; '!' starts the obsolete size */
		end = 0;
		while (end < len && s[end] != '?' && s[end] != '!')
			end++;
		if (!dest_addr_ok(s, end, &d))
			continue;
		bool dup = false;

		for (size_t i = 0; i < kept; i++)
			if (strcasecmp(out[i].addr, d.addr) == 0)
				dup = true;
		if (!dup)
			out[kept++] = d;
	}
	return kept;
}

/* dest_is_record - does a TXT record start with the v=DMARC1 tag (RFC 9990 §4
 * step 6: v first, exactly DMARC1, blanks around '=' allowed) */
static bool
dest_is_record(const char *txt)
{
	const char *p = txt + strspn(txt, " \t");

	if (p[0] != 'v')
		return false;
	p += 1 + strspn(p + 1, " \t");
	if (*p != '=')
		return false;
	p += 1 + strspn(p + 1, " \t");
	if (strncmp(p, "DMARC1", 6) != 0)
		return false;
	p += 6 + strspn(p + 6, " \t");
	return *p == '\0' || *p == ';';
}

/* dest_uri_tag - the value of tag (rua or ruf) in a tag list, into out; false if none */
static bool
dest_uri_tag(const char *txt, const char *tag, struct buf *out)
{
	size_t tl = strlen(tag);

	for (const char *p = txt; *p != '\0';) {
		size_t len = strcspn(p, ";");
		const char *t = p + strspn(p, " \t");

		if (strncmp(t, tag, tl) == 0) {
			const char *e = t + tl + strspn(t + tl, " \t");

			if (*e == '=') {
				e++;
				buf_reset(out);
				buf_append(out, e, (size_t)(p + len - e));
				return true;
			}
		}
		p += len;
		if (*p == ';')
			p++;
	}
	return false;
}

/* dest_check_one - the §4 query for one external destination; the kept
 * destinations (the original, or its override) are appended to keep */
static enum report_check
dest_check_one(const char *policy_domain, const char *tag, const struct report_dest *d,
    struct report_dest *keep, size_t *n_keep, report_txt_fn txt, void *txt_ctx,
    struct buf *why)
{
	struct buf name = BUF_INIT, rua = BUF_INIT;
	const struct dns_answer *a;
	bool ok = false, override = false;
	enum report_check rc = REPORT_CHECK_OK;

	buf_printf(&name, "%s._report._dmarc.%s", policy_domain, d->host);
	if (!dns_name_ok(buf_cstr(&name), 0)) {
		buf_printf(why, "%s: %s is too long to ask; ", d->addr, buf_cstr(&name));
		goto out;
	}
	a = txt(txt_ctx, buf_cstr(&name));
	if (a == NULL || a->status == DNS_TEMPFAIL) {
		buf_printf(why, "%s/TXT: %s; ", buf_cstr(&name),
		    a != NULL && a->why != NULL ? a->why : "temporary failure");
		rc = REPORT_CHECK_TEMP;
		goto out;
	}
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		if (strlen(a->rr[i].txt) != a->rr[i].txt_len || !dest_is_record(a->rr[i].txt))
			continue;
		ok = true;
		if (!override && dest_uri_tag(a->rr[i].txt, tag, &rua))
			override = true;
	}
	if (!ok) {
		buf_printf(why, "%s: %s has not authorized reports for %s; ", d->addr,
		    d->host, policy_domain);
		goto out;
	}
	if (!override) {
		keep[(*n_keep)++] = *d;
		goto out;
	}

	struct report_dest o[REPORT_MAX_URIS];
	size_t n_o = report_rua_parse(buf_cstr(&rua), o, REPORT_MAX_URIS);

	for (size_t i = 0; i < n_o; i++)
		if (strcmp(o[i].host, d->host) != 0) {
			buf_printf(why, "%s: the override at %s names another host (%s): "
			    "neither is used; ", d->addr, buf_cstr(&name), o[i].host);
			goto out;
		}
	for (size_t i = 0; i < n_o && *n_keep < REPORT_MAX_URIS; i++)
		keep[(*n_keep)++] = o[i];
out:
	buf_free(&name);
	buf_free(&rua);
	return rc;
}

/* report_dest_check - RFC 9990 §4 over every destination */
enum report_check
report_dest_check(const char *policy_domain, const char *tag, struct report_dest *dests,
    size_t *n, dmarc_org_fn org_of, void *org_ctx, report_txt_fn txt, void *txt_ctx,
    char *why, size_t whylen)
{
	struct report_dest keep[REPORT_MAX_URIS];
	size_t n_keep = 0;
	char org[256], dorg[256], w[320];
	struct buf msg = BUF_INIT;
	enum report_check rc = REPORT_CHECK_OK;
	enum dmarc_org_status st;

	why[0] = '\0';
	if ((st = org_of(org_ctx, policy_domain, org, sizeof(org), w, sizeof(w))) ==
	    DMARC_ORG_TEMP) {
		snprintf(why, whylen, "%s", w);
		return REPORT_CHECK_TEMP;
	}
	if (st != DMARC_ORG_OK)
		snprintf(org, sizeof(org), "%s", policy_domain);
	for (size_t i = 0; i < *n && n_keep < REPORT_MAX_URIS; i++) {
		st = org_of(org_ctx, dests[i].host, dorg, sizeof(dorg), w, sizeof(w));
		if (st == DMARC_ORG_TEMP) {
			buf_printf(&msg, "%s; ", w);
			rc = REPORT_CHECK_TEMP;
			break;
		}
		if (st == DMARC_ORG_OK && strcmp(dorg, org) == 0) {
			keep[n_keep++] = dests[i];
			continue;
		}
		if (dest_check_one(policy_domain, tag, &dests[i], keep, &n_keep, txt, txt_ctx,
		    &msg) == REPORT_CHECK_TEMP) {
			rc = REPORT_CHECK_TEMP;
			break;
		}
	}
	if (msg.len >= 2)
		msg.data[msg.len - 2] = '\0';
	snprintf(why, whylen, "%s", buf_cstr(&msg));
	buf_free(&msg);
	for (size_t i = 0; i < n_keep; i++)
		dests[i] = keep[i];
	*n = rc == REPORT_CHECK_OK ? n_keep : 0;
	return rc;
}
