/* report_pending - report rows queued and never settled, counted across a SIGKILL
 * (see report_pending.c). Called under the report writer's lock.
 */
#ifndef AUTHMILTER_REPORT_PENDING_H
#define AUTHMILTER_REPORT_PENDING_H

#include <stdbool.h>

/* report_pending_open - count for uri's database from now on (rows still queued
 * for the previous one carried over); the rows a killed daemon left unsettled
 * there (0 when none or when uri is not a SQLite file), -1 when the file cannot
 * be made */
long long report_pending_open(const char *uri);
/* report_pending_queued - n rows entered the queue */
void	 report_pending_queued(unsigned long long n);
/* report_pending_settled - n rows left it: written, or dropped and counted */
void	 report_pending_settled(unsigned long long n);
/* report_pending_close - every row settled; stop counting */
void	 report_pending_close(void);

#endif
