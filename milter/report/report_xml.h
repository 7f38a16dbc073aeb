/* report_xml - one RFC 9990 aggregate report as XML (libxml2's xmlwriter, in the
 * urn:ietf:params:xml:ns:dmarc-2.0 namespace), gzip-compressed while written.
 */
#ifndef AUTHMILTER_REPORT_XML_H
#define AUTHMILTER_REPORT_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "report_agg.h"

#define REPORT_XML_NS	"urn:ietf:params:xml:ns:dmarc-2.0"

/* the report_metadata of one report */
struct report_meta {
	const char *org_name;		/* reporting organisation */
	const char *email;		/* its contact address */
	const char *report_id;		/* unique among reports to the domain */
	const char *generator;		/* "authmilter VERSION" */
	time_t	    begin, end;		/* the period, UTC epoch seconds */
};

/* report_xml_write - the report of a's records into out: gzip (RFC 1952, no
 * time stamp, so the same report gives the same bytes) when gzip, else plain
 * XML. Values outside printable ASCII become '?', and a value outside a schema
 * enumeration becomes its documented fallback, so the output always validates.
 * False with a reason in err when libxml2 or zlib fails. */
bool	 report_xml_write(const struct report_meta *m, struct report_agg *a, bool gzip,
	    struct buf *out, char *err, size_t errlen);

#endif
