/* report_xml - RFC 9990 aggregate report XML, streamed through zlib.
 *
 *   report_xml_write	one policy domain's report, gzipped or plain, into a buf
 *
 * The xmlwriter writes into an output buffer whose write callback deflates into
 * the caller's buf, so a report is never held uncompressed. Element order follows
 * RFC 9990 §3.1 (the schema's sequences: version, report_metadata,
 * policy_published, record+; row, identifiers, auth_results; disposition, dkim,
 * spf, reason*; dkim*, spf?). Schema enumerations are enforced here: a value a
 * store could hold but the schema refuses is replaced or left out (see
 * xml_enum's callers), so that every report validates.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>
#include <zlib.h>

#include "report_xml.h"

/* the sink the xmlwriter writes into */
struct xml_sink {
	struct buf *out;
	bool	    gzip;
	z_stream    z;
	bool	    failed;
};

/* xml_deflate - run deflate over what is in z until it needs more input */
static bool
xml_deflate(struct xml_sink *s, int flush)
{
	unsigned char chunk[16384];
	int rc;

	do {
		s->z.next_out = chunk;
		s->z.avail_out = sizeof(chunk);
		rc = deflate(&s->z, flush);
		if (rc == Z_STREAM_ERROR)
			return false;
		buf_append(s->out, chunk, sizeof(chunk) - s->z.avail_out);
	} while (s->z.avail_out == 0);
	return flush != Z_FINISH || rc == Z_STREAM_END;
}

/* xml_sink_write - the output buffer's write callback */
static int
xml_sink_write(void *ctx, const char *data, int len)
{
	struct xml_sink *s = ctx;

	if (len < 0 || s->failed)
		return -1;
	if (!s->gzip) {
		buf_append(s->out, data, (size_t)len);
		return len;
	}
	s->z.next_in = (unsigned char *)(uintptr_t)data;
	s->z.avail_in = (unsigned)len;
	if (!xml_deflate(s, Z_NO_FLUSH)) {
		s->failed = true;
		return -1;
	}
	return len;
}

/* xml_sink_close - the output buffer's close callback; the stream ends later */
static int
xml_sink_close(void *ctx)
{
	return 0;
}

/* xml_clean - v with every byte outside printable ASCII replaced by '?': the
 * store's text is not trusted to be UTF-8 or XML-safe */
static const char *
xml_clean(struct buf *tmp, const char *v)
{
	buf_reset(tmp);
	buf_puts(tmp, "");
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		buf_putc(tmp, *p >= 0x20 && *p < 0x7f ? *p : '?');
	return buf_cstr(tmp);
}

/* xml_enum - v when it is one of the NULL-terminated list, else NULL */
static const char *
xml_enum(const char *v, const char *const *list)
{
	for (; v != NULL && *list != NULL; list++)
		if (strcmp(v, *list) == 0)
			return v;
	return NULL;
}

static const char *const xml_policies[] = { "none", "quarantine", "reject", NULL };
static const char *const xml_dispositions[] = { "none", "pass", "quarantine", "reject",
    NULL };
static const char *const xml_aligns[] = { "r", "s", NULL };
static const char *const xml_yn[] = { "n", "y", NULL };
static const char *const xml_discoveries[] = { "psl", "treewalk", NULL };
static const char *const xml_passfail[] = { "pass", "fail", NULL };
static const char *const xml_reason_types[] = { "local_policy", "mailing_list", "other",
    "policy_test_mode", "trusted_forwarder", NULL };
static const char *const xml_dkim_results[] = { "none", "pass", "fail", "policy",
    "neutral", "temperror", "permerror", NULL };
static const char *const xml_spf_results[] = { "none", "pass", "fail", "softfail",
    "policy", "neutral", "temperror", "permerror", NULL };

/* the writer and a scratch buf for cleaned values */
struct xml_out {
	xmlTextWriterPtr w;
	struct buf	 tmp;
	int		 rc;		/* < 0 once a call failed */
};

/* xml_start - open an element */
static void
xml_start(struct xml_out *x, const char *name)
{
	if (x->rc >= 0)
		x->rc = xmlTextWriterStartElement(x->w, BAD_CAST name);
}

/* xml_end - close the innermost element */
static void
xml_end(struct xml_out *x)
{
	if (x->rc >= 0)
		x->rc = xmlTextWriterEndElement(x->w);
}

/* xml_elem - <name>value</name>, the value cleaned; nothing for a NULL value */
static void
xml_elem(struct xml_out *x, const char *name, const char *value)
{
	if (value == NULL || x->rc < 0)
		return;
	x->rc = xmlTextWriterWriteElement(x->w, BAD_CAST name,
	    BAD_CAST xml_clean(&x->tmp, value));
}

/* xml_elem_long - <name>number</name> */
static void
xml_elem_long(struct xml_out *x, const char *name, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	xml_elem(x, name, num);
}

/* xml_metadata - report_metadata */
static void
xml_metadata(struct xml_out *x, const struct report_meta *m)
{
	xml_start(x, "report_metadata");
	xml_elem(x, "org_name", m->org_name);
	xml_elem(x, "email", m->email);
	xml_elem(x, "report_id", m->report_id);
	xml_start(x, "date_range");
	xml_elem_long(x, "begin", (long long)m->begin);
	xml_elem_long(x, "end", (long long)m->end);
	xml_end(x);
	xml_elem(x, "generator", m->generator);
	xml_end(x);
}

/* xml_policy - policy_published; p is required, so a p the schema refuses is
 * written as none (a store holds what the daemon evaluated, which is valid) */
static void
xml_policy(struct xml_out *x, const char *domain, const struct report_row *p)
{
	const char *pv = xml_enum(p->p, xml_policies);

	xml_start(x, "policy_published");
	xml_elem(x, "domain", domain);
	xml_elem(x, "discovery_method", xml_enum(p->discovery, xml_discoveries));
	xml_elem(x, "p", pv != NULL ? pv : "none");
	xml_elem(x, "sp", xml_enum(p->sp, xml_policies));
	xml_elem(x, "np", xml_enum(p->np, xml_policies));
	xml_elem(x, "fo", p->fo);
	xml_elem(x, "adkim", xml_enum(p->adkim, xml_aligns));
	xml_elem(x, "aspf", xml_enum(p->aspf, xml_aligns));
	xml_elem(x, "testing", xml_enum(p->testing, xml_yn));
	xml_end(x);
}

/* xml_reasons - one reason element per known type in the space-separated list */
static void
xml_reasons(struct xml_out *x, const char *reasons)
{
	char type[32];

	for (const char *p = reasons; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len > 0 && len < sizeof(type)) {
			memcpy(type, p, len);
			type[len] = '\0';
			if (xml_enum(type, xml_reason_types) != NULL) {
				xml_start(x, "reason");
				xml_elem(x, "type", type);
				xml_end(x);
			}
		}
		p += len;
		p += strspn(p, " ");
	}
}

/* xml_record - one record: row, identifiers, auth_results */
static void
xml_record(struct xml_out *x, const struct report_record *rec)
{
	const struct report_row *r = &rec->row;
	const char *v;

	xml_start(x, "record");
	xml_start(x, "row");
	xml_elem(x, "source_ip", r->source_ip != NULL ? r->source_ip : "");
	xml_elem_long(x, "count", (long long)rec->count);
	xml_start(x, "policy_evaluated");
	v = xml_enum(r->disposition, xml_dispositions);
	xml_elem(x, "disposition", v != NULL ? v : "none");
	v = xml_enum(r->dkim_aligned, xml_passfail);
	xml_elem(x, "dkim", v != NULL ? v : "fail");
	v = xml_enum(r->spf_aligned, xml_passfail);
	xml_elem(x, "spf", v != NULL ? v : "fail");
	xml_reasons(x, r->reasons);
	xml_end(x);
	xml_end(x);

	xml_start(x, "identifiers");
	xml_elem(x, "header_from", r->header_from != NULL ? r->header_from : "");
	xml_elem(x, "envelope_from", r->envelope_from);
	xml_elem(x, "envelope_to", r->envelope_to);
	xml_end(x);

	xml_start(x, "auth_results");
	for (size_t i = 0; i < r->n_dkim && i < REPORT_MAX_DKIM; i++) {
		const struct report_dkim *d = &r->dkim[i];

		v = xml_enum(d->result, xml_dkim_results);
		xml_start(x, "dkim");
		xml_elem(x, "domain", d->domain != NULL ? d->domain : "");
		xml_elem(x, "selector", d->selector != NULL ? d->selector : "");
		xml_elem(x, "result", v != NULL ? v : "permerror");
		xml_end(x);
	}
	v = xml_enum(r->spf_result, xml_spf_results);
	if (r->spf_domain != NULL && v != NULL) {
		xml_start(x, "spf");
		xml_elem(x, "domain", r->spf_domain);
		/* the schema knows only mfrom; a HELO result is reported without scope */
		if (r->spf_scope != NULL && strcmp(r->spf_scope, "mfrom") == 0)
			xml_elem(x, "scope", "mfrom");
		xml_elem(x, "result", v);
		xml_end(x);
	}
	xml_end(x);
	xml_end(x);
}

/* report_xml_write - the whole report */
bool
report_xml_write(const struct report_meta *m, struct report_agg *a, bool gzip,
    struct buf *out, char *err, size_t errlen)
{
	struct xml_sink s = { .out = out, .gzip = gzip };
	struct xml_out x = { .tmp = BUF_INIT };
	const struct report_row *policy = report_agg_policy(a);
	struct report_record *const *rec;
	xmlOutputBufferPtr ob;
	size_t n;

	if (policy == NULL) {
		snprintf(err, errlen, "no rows");
		return false;
	}
	if (gzip && deflateInit2(&s.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		snprintf(err, errlen, "zlib: deflateInit2 failed");
		return false;
	}
	ob = xmlOutputBufferCreateIO(xml_sink_write, xml_sink_close, &s, NULL);
	if (ob == NULL || (x.w = xmlNewTextWriter(ob)) == NULL) {
		if (ob != NULL)
			xmlOutputBufferClose(ob);
		if (gzip)
			deflateEnd(&s.z);
		snprintf(err, errlen, "libxml2: cannot create the writer");
		return false;
	}
	x.rc = xmlTextWriterSetIndent(x.w, 1);
	if (x.rc >= 0)
		x.rc = xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
	if (x.rc >= 0)
		x.rc = xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL);
	if (x.rc >= 0)
		x.rc = xmlTextWriterStartElementNS(x.w, NULL, BAD_CAST "feedback",
		    BAD_CAST REPORT_XML_NS);
	xml_elem(&x, "version", "1.0");
	xml_metadata(&x, m);
	xml_policy(&x, report_agg_domain(a), policy);
	rec = report_agg_records(a, &n);
	for (size_t i = 0; i < n; i++)
		xml_record(&x, rec[i]);
	if (x.rc >= 0)
		x.rc = xmlTextWriterEndDocument(x.w);
	xmlFreeTextWriter(x.w);		/* flushes and closes the output buffer */
	buf_free(&x.tmp);
	if (gzip) {
		bool ok = !s.failed && xml_deflate(&s, Z_FINISH);

		deflateEnd(&s.z);
		if (!ok) {
			snprintf(err, errlen, "zlib: deflate failed");
			return false;
		}
	}
	if (x.rc < 0 || s.failed) {
		snprintf(err, errlen, "libxml2: writing the report failed");
		return false;
	}
	return true;
}
