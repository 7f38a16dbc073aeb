/* report_uri - the form of a report database URI (see report_uri.h).
 *
 * report_uri_is_pg: the PostgreSQL schemes; report_uri_form_check: sqlite: with
 * a file name, or one of them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "report_uri.h"

/* report_uri_is_pg - does uri name PostgreSQL? */
bool
report_uri_is_pg(const char *uri)
{
	return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

/* report_uri_form_check - sqlite: with a name, or a PostgreSQL scheme */
bool
report_uri_form_check(const char *uri, char *err, size_t errlen)
{
	if (strncmp(uri, "sqlite:", 7) == 0) {
		if (uri[7] == '\0') {
			snprintf(err, errlen, "\"sqlite:\" needs a file name, e.g. "
			    "\"sqlite:/var/lib/authmilter/reports.db\"");
			return false;
		}
		return true;
	}
	if (!report_uri_is_pg(uri)) {
		snprintf(err, errlen, "expected \"sqlite:PATH\" or \"postgresql://USER@HOST/DBNAME\"");
		return false;
	}
	return true;
}
