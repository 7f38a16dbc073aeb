/* metrics_http - the /metrics page over HTTP (libmicrohttpd, its own thread).
 *
 * Only the daemon links this (the library, tests and fuzzers do without
 * libmicrohttpd). The server reads the counters of metrics.c and never takes a
 * lock a mail thread holds.
 */
#ifndef AUTHMILTER_METRICS_HTTP_H
#define AUTHMILTER_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* metrics_http_start - listen on "ADDR:PORT" ("[ADDR]:PORT" for IPv6) and serve;
 * false with the reason in err (e.g. "127.0.0.1:9871: Address already in use") */
bool	 metrics_http_start(const char *listen, char *err, size_t errlen);
/* metrics_http_stop - stop serving; fine when never started */
void	 metrics_http_stop(void);

#endif
