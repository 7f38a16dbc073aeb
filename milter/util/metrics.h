/* metrics - counters for Prometheus, bumped by the mail threads with atomics.
 *
 * Every counter is a C11 atomic updated with relaxed ordering: a mail thread never
 * takes a lock to count, and metrics_render (called by the HTTP thread,
 * metrics_http.c) reads them without stopping anyone. The counters live for the
 * process, across reloads, so Prometheus sees them grow monotonically.
 */
#ifndef AUTHMILTER_METRICS_H
#define AUTHMILTER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "result.h"

/* Signing domains that get their own label value; the rest count as "other",
 * so 10,000 signing domains cannot make 10,000 series. */
#define METRICS_MAX_SIGN_DOMAINS	64

/* metrics_message - one message ended: direction, the action the MTA got, and
 * the seconds from end of body to our reply */
void	 metrics_message(bool outbound, enum action action, double seconds);
/* metrics_clock - now, on the monotonic clock; metrics_seconds_since - since then */
void	 metrics_clock(struct timespec *ts);
double	 metrics_seconds_since(const struct timespec *start);
/* the checks whose verdicts are counted (the "check" label) */
enum metrics_check { MC_IPREV, MC_SPF, MC_SPF_HELO, MC_DKIM, MC_DMARC, MC_ARC, MC_N };
/* metrics_result - one verdict of one check (AUTH_SKIPPED is not counted) */
void	 metrics_result(enum metrics_check c, enum auth_result r);
/* metrics_signature - one DKIM signature made by domain with the algorithm
 * named alg ("rsa-sha256" or "ed25519-sha256"; any other counts as the first) */
void	 metrics_signature(const char *domain, const char *alg);
/* metrics_unsigned - an outbound message left unsigned, by the reason the log
 * line gives (no-from, several-from-headers, ..., sign-error; others: "other") */
void	 metrics_unsigned(const char *reason);
/* metrics_sign_domain - give domain a label value of its own while there is room
 * (called when a configuration is installed; values are never taken back) */
void	 metrics_sign_domain(const char *domain);
/* metrics_dns_query, _dns_timeout, _dns_cache_hit - the resolver's events */
void	 metrics_dns_query(void);
void	 metrics_dns_timeout(void);
void	 metrics_dns_cache_hit(void);
/* metrics_session - a connection opened (+1) or closed (-1) */
void	 metrics_session(int delta);
/* metrics_session_refused - a connection over max_sessions: tempfailed at
 * connect, or closed at once (closed) near the open-files limit */
void	 metrics_session_refused(bool closed);
/* metrics_session_silent - a connection closed for sending nothing */
void	 metrics_session_silent(void);
/* metrics_reload - a reload's outcome and how many problems a failed one had */
void	 metrics_reload(bool ok, unsigned problems);
/* metrics_report_rows - n DMARC report rows written to the database, or dropped */
void	 metrics_report_rows(bool written, unsigned long long n);
/* the states of a signing key under rotation (the "state" label) */
enum metrics_key_state { MK_PENDING, MK_ACTIVE, MK_RETIRED, MK_WITHDRAWN, MK_N };
/* metrics_keys - the keys of the configuration just installed: how many in each
 * state, and when the oldest active key began signing (seconds since the epoch;
 * 0: no active key) */
void	 metrics_keys(const unsigned long counts[MK_N], long long oldest_active);
/* metrics_render - the whole page in the Prometheus text format (0.0.4) */
void	 metrics_render(struct buf *out);

#endif
