/* report_rows_common - a report row as the report tests build them; see the .c. */
#ifndef REPORT_ROWS_COMMON_H
#define REPORT_ROWS_COMMON_H

#include <stddef.h>
#include <time.h>

#include "report_store.h"

/* report_rows_sample - a row from ip for policy domain dom at t, nd signatures */
void	 report_rows_sample(struct report_row *r, const char *dom, const char *ip, time_t t,
	    size_t nd);
/* report_rows_set - replace the string *field with a copy of value (NULL: none) */
void	 report_rows_set(char **field, const char *value);

#endif
