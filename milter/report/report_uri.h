/* report_uri - the form of report.database: "sqlite:PATH" or a PostgreSQL URI.
 * Pure: no SQLite, no libpq, so the configuration can check the form in a
 * program that never opens the store; report_store_uri_check adds libpq's parse.
 */
#ifndef AUTHMILTER_REPORT_URI_H
#define AUTHMILTER_REPORT_URI_H

#include <stdbool.h>
#include <stddef.h>

/* report_uri_is_pg - does uri name PostgreSQL ("postgresql://", "postgres://")? */
bool	 report_uri_is_pg(const char *uri);
/* report_uri_form_check - "sqlite:" with a file name, or a PostgreSQL scheme;
 * false with the reason in err */
bool	 report_uri_form_check(const char *uri, char *err, size_t errlen);
/* report_uri_mask - uri as it may be shown anywhere (log, stderr, error
 * text): every password replaced by "***" (postgresql://am:***@db/x); caller frees */
char	*report_uri_mask(const char *uri);
/* report_uri_has_secret - does uri hold a password report_uri_mask hides? */
bool	 report_uri_has_secret(const char *uri);

#endif
