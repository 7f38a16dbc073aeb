/* report_arf - the mail of one DMARC failure report (RFC 9991, RFC 6591, RFC 5965).
 *
 *   report_arf_build	  the multipart/report message
 *   report_arf_filename  the file name of a report written with --out
 *
 * Every value that goes into a header is checked here before anything is
 * written, whatever the caller and the daemon checked: the sample holds what a
 * peer sent and what other people's DNS published. A value that fails its
 * check fails the whole report; nothing is escaped into something else.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "report_arf.h"
#include "report_mail.h"

/* arf_one_of - s is one of the NULL-terminated list */
static bool
arf_one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* arf_ip_ok - an IPv4 or IPv6 address in text */
static bool
arf_ip_ok(const char *ip)
{
	unsigned char a[16];

	return inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
}

/* arf_id_ok - 16 lower-case hex digits */
static bool
arf_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	return n == 16;
}

/* arf_selector_ok - a selector: 1..253 of [A-Za-z0-9._-] */
static bool
arf_selector_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");

	return n > 0 && n <= 253 && s[n] == '\0';
}

/* arf_field_start - line begins "Name:" with a name of printable ASCII */
static bool
arf_field_start(const char *line)
{
	const char *p = line;

	while ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != ':')
		p++;
	return p > line && *p == ':';
}

/* arf_text_ok - printable ASCII and tabs, a line break only as a "\n" + blank
 * fold with text after it, lines of at most 998 bytes; fields: whole header
 * lines ending in "\n", every line that does not fold starting a "Name:" field */
static bool
arf_text_ok(const char *t, bool fields)
{
	size_t col = 0;

	if (fields && t[0] != '\0' && !arf_field_start(t))
		return false;
	for (const char *p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			bool fold = p[1] == ' ' || p[1] == '\t';

			if (fields && p[1] == '\0')
				return true;
			if (!fold && (!fields || !arf_field_start(p + 1)))
				return false;
			col = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c >= 0x7f || ++col > 998)
			return false;
	}
	return !fields || t[0] == '\0';
}

/* arf_date - an RFC 5322 date of t, UTC */
static void
arf_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		snprintf(out, outlen, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* arf_check - every value of a that goes into a header; why says which failed */
static bool
arf_check(const struct report_arf *a, char *why, size_t whylen)
{
	static const char *const aligns[] = { "none", "dkim", "spf", "dkim,spf", NULL };
	static const char *const results[] = { "delivered", "spam", "policy", "reject",
	    "other", NULL };
	const struct report_sample *s = a->s;
	const char *bad = NULL;

	if (!report_mail_addr_ok(a->from))
		bad = "From (report.email)";
	else if (!report_dest_domain_ok(a->submitter))
		bad = "the submitter domain";
	else if (a->n_to == 0)
		bad = "the destinations (none)";
	for (size_t i = 0; bad == NULL && i < a->n_to; i++)
		if (!report_mail_addr_ok(a->to[i].addr))
			bad = "a destination";
	if (bad != NULL)
		;
	else if (!arf_id_ok(s->id))
		bad = "the sample id";
	else if (!report_dest_domain_ok(s->policy_domain))
		bad = "the policy domain";
	else if (!report_dest_domain_ok(s->header_from))
		bad = "the From domain";
	else if (s->envelope_from[0] != '\0' && !report_dest_domain_ok(s->envelope_from))
		bad = "the MAIL FROM domain";
	else if (!arf_ip_ok(s->source_ip))
		bad = "the source IP";
	else if (!arf_one_of(s->alignment, aligns))
		bad = "Identity-Alignment";
	else if (!arf_one_of(s->delivery, results))
		bad = "Delivery-Result";
	else if (!arf_text_ok(s->auth_results, false) || s->auth_results[0] == '\0')
		bad = "Authentication-Results";
	else if (!arf_text_ok(s->headers, true))
		bad = "the header copy";
	else if (strstr(s->alignment, "dkim") != NULL && (!report_dest_domain_ok(s->dkim_domain) ||
	    !arf_selector_ok(s->dkim_selector) || !arf_text_ok(s->dkim_identity, false) ||
	    strchr(s->dkim_identity, '\n') != NULL))
		bad = "the DKIM fields";
	else if (strstr(s->alignment, "spf") != NULL && !report_dest_domain_ok(s->spf_domain))
		bad = "the SPF domain";
	if (bad != NULL)
		snprintf(why, whylen, "%s is not safe to write into a header", bad);
	return bad == NULL;
}

/* arf_spf_dns - the SPF-DNS field: txt : domain : "record", the record's quotes,
 * backslashes and other bytes outside printable ASCII as '?', cut at
 * REPORT_ARF_MAX_SPF bytes */
static void
arf_spf_dns(struct buf *out, const char *domain, const char *record)
{
	size_t n = 0;

	buf_printf(out, "SPF-DNS: txt : %s : \"", domain);
	for (const char *p = record ? record : ""; *p != '\0' && n < REPORT_ARF_MAX_SPF;
	    p++, n++)
		buf_putc(out, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? *p : '?');
	buf_puts(out, "\"\n");
}

/* arf_feedback - the message/feedback-report part's fields (RFC 6591, RFC 9991 §4) */
static void
arf_feedback(struct buf *out, const struct report_arf *a)
{
	const struct report_sample *s = a->s;
	const char *ar = s->auth_results;
	char date[64];

	while (*ar == ' ' || *ar == '\t')
		ar++;
	arf_date(s->received, date, sizeof(date));
	buf_puts(out, "Feedback-Type: auth-failure\n");
	buf_printf(out, "User-Agent: %s\n", a->user_agent);
	buf_puts(out, "Version: 1\n");
	if (s->envelope_from[0] != '\0')
		buf_printf(out, "Original-Mail-From: <redacted@%s>\n", s->envelope_from);
	else
		buf_puts(out, "Original-Mail-From: <>\n");
	buf_printf(out, "Arrival-Date: %s\n", date);
	buf_printf(out, "Source-IP: %s\n", s->source_ip);
	buf_printf(out, "Reported-Domain: %s\n", s->header_from);
	buf_printf(out, "Authentication-Results: %s\n", ar);
	buf_puts(out, "Auth-Failure: dmarc\n");
	buf_printf(out, "Identity-Alignment: %s\n", s->alignment);
	buf_printf(out, "Delivery-Result: %s\n", s->delivery);
	if (strstr(s->alignment, "dkim") != NULL) {
		buf_printf(out, "DKIM-Domain: %s\n", s->dkim_domain);
		buf_printf(out, "DKIM-Identity: %s\n", s->dkim_identity[0] != '\0' ?
		    s->dkim_identity : "@");
		buf_printf(out, "DKIM-Selector: %s\n", s->dkim_selector);
	}
	if (strstr(s->alignment, "spf") != NULL)
		arf_spf_dns(out, s->spf_domain, a->spf_record);
}

bool
report_arf_build(struct buf *out, const struct report_arf *a, char *why, size_t whylen)
{
	const struct report_sample *s = a->s;
	char date[64];

	if (!arf_check(a, why, whylen))
		return false;
	arf_date(a->now, date, sizeof(date));
	buf_reset(out);
	report_mail_from_to(out, a->from, a->to, a->n_to);
	buf_printf(out, "Subject: DMARC failure report for %s\n from %s (Reported-Domain: %s)\n",
	    s->policy_domain, s->source_ip, s->header_from);
	buf_printf(out, "Date: %s\n", date);
	buf_printf(out, "Message-ID: <%s.failure@%s>\n", s->id, a->submitter);
	buf_puts(out, "Auto-Submitted: auto-generated\n");
	buf_puts(out, "MIME-Version: 1.0\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=feedback-report;\n"
	    " boundary=\"=_arf_%s\"\n\n", s->id);
	buf_printf(out, "--=_arf_%s\n", s->id);
	buf_puts(out, "Content-Type: text/plain; charset=us-ascii\n\n");
	buf_printf(out, "A message with From domain %s, received from %s, did not\n"
	    "authenticate as DMARC (RFC 9989) asks, and %s's record\n"
	    "asks for failure reports (RFC 9991). The local parts of addresses are\n"
	    "redacted (RFC 6590) and the body is not included.\n\n", s->header_from,
	    s->source_ip, s->policy_domain);
	buf_printf(out, "--=_arf_%s\n", s->id);
	buf_puts(out, "Content-Type: message/feedback-report\n\n");
	arf_feedback(out, a);
	buf_printf(out, "\n--=_arf_%s\n", s->id);
	buf_puts(out, "Content-Type: text/rfc822-headers; charset=us-ascii\n\n");
	buf_puts(out, s->headers);
	buf_printf(out, "\n--=_arf_%s--\n", s->id);
	return true;
}

void
report_arf_filename(struct buf *out, const struct report_sample *s)
{
	buf_reset(out);
	buf_printf(out, "%s.eml", s->id);
}
