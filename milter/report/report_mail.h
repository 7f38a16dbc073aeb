/* report_mail - the names and the mail of one aggregate report (RFC 9990 §3.5):
 * file name, Subject, the MIME message, and its hand-over to the
 * sendmail program.
 */
#ifndef AUTHMILTER_REPORT_MAIL_H
#define AUTHMILTER_REPORT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "report_dest.h"

#define REPORT_MAX_ARGV		32	/* words of report.sendmail */

/* report_mail_id - the Report-ID of a report from the id its claim keeps: its
 * letters and digits, so that the XML, the Subject and the file name carry the
 * same one (RFC 9990 §3.1.4; the file name's unique-id is 1*(ALPHA / DIGIT),
 * §3.5.2), and the same claim gives the same Report-ID on every run */
void	 report_mail_id(const char *claim_id, char *out, size_t outlen);
/* report_mail_filename - "receiver!domain!begin!end!id.xml.gz" into out (reset) */
void	 report_mail_filename(struct buf *out, const char *receiver, const char *domain,
	    time_t begin, time_t end, const char *id);

/* report_mail_addr_ok - local@domain: a dot-atom local part of at most 64
 * octets and a domain report_dest_domain_ok accepts; safe in a header as it is */
bool	 report_mail_addr_ok(const char *a);

/* report_mail_from_to - append "From: from" and "To: " the n_to addresses, each
 * already checked with report_mail_addr_ok */
void	 report_mail_from_to(struct buf *out, const char *from, const struct report_dest *to,
	    size_t n_to);

/* what one report mail carries */
struct report_mail {
	const char *from;		/* report.email */
	const struct report_dest *to;	/* checked destinations */
	size_t	    n_to;
	const char *domain;		/* the policy domain */
	const char *submitter;		/* our domain */
	const char *id;			/* Report-ID: letters and digits */
	time_t	    begin, end, now;
	const void *gz;			/* the gzipped report */
	size_t	    gz_len;
};

/* report_mail_build - the RFC 5322/2045 message into out (reset): multipart/mixed
 * with a text part and the report as application/gzip; LF line ends (sendmail
 * makes them CRLF). False, with nothing built, when a value that goes into a
 * header is not a domain or an address as report_dest makes them, or a
 * Report-ID of other than letters, digits and ".-_@" (RFC 9990 ridfmt). */
bool	 report_mail_build(struct buf *out, const struct report_mail *m);

/* report_mail_send - run command (words split at blanks, the first an absolute
 * path; no shell) with msg on its standard input; true when it exits 0, else
 * false with the reason in err */
bool	 report_mail_send(const char *command, const char *msg, size_t len, char *err,
	    size_t errlen);

#endif
