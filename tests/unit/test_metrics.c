/* test_metrics - the counters' page (metrics_render): histogram buckets, the
 * bounded label set of signing domains, and every form of metrics.listen. */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "sockspec.h"
#include "tap.h"

/* has_line - does the page hold this exact line */
static int
has_line(const char *page, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = page; (p = strstr(p, line)) != NULL; p++)
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* count_prefix - lines that start with prefix */
static int
count_prefix(const char *page, const char *prefix)
{
	int n = 0;

	for (const char *p = page; (p = strstr(p, prefix)) != NULL; p++)
		if (p == page || p[-1] == '\n')
			n++;
	return n;
}

static const struct {
	const char *text;
	int family;	/* 0: refused */
	unsigned port;
} listen_cases[] = {
	{ "127.0.0.1:9871", AF_INET, 9871 },
	{ "0.0.0.0:1", AF_INET, 1 },
	{ "[::1]:9871", AF_INET6, 9871 },
	{ "[2001:db8::5]:65535", AF_INET6, 65535 },
	{ "localhost:9871", 0, 0 },		/* numeric only: no lookup at start */
	{ "127.0.0.1", 0, 0 },			/* no port */
	{ "127.0.0.1:", 0, 0 },
	{ "127.0.0.1:0", 0, 0 },
	{ "127.0.0.1:65536", 0, 0 },
	{ "127.0.0.1:98x", 0, 0 },
	{ "::1:9871", 0, 0 },			/* IPv6 needs brackets */
	{ "[127.0.0.1]:9871", 0, 0 },
	{ ":9871", 0, 0 },
	{ "", 0, 0 },
};

int
main(void)
{
	struct buf page = BUF_INIT;
	char name[64];

	for (size_t i = 0; i < sizeof(listen_cases) / sizeof(listen_cases[0]); i++) {
		struct sockaddr_storage sa;
		socklen_t len;
		bool ok = sockspec_listen_addr(listen_cases[i].text, &sa, &len);
		unsigned port = !ok ? 0 : sa.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)(void *)&sa)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)(void *)&sa)->sin6_port);

		CHECK(listen_cases[i].family == 0 ? !ok : ok &&
		    sa.ss_family == listen_cases[i].family && port == listen_cases[i].port,
		    "metrics.listen \"%s\" %s", listen_cases[i].text,
		    listen_cases[i].family ? "accepted" : "refused");
	}

	metrics_message(false, ACTION_ACCEPT, 0.003);
	metrics_message(false, ACTION_REJECT, 0.0005);
	metrics_message(false, ACTION_REJECT, 30);
	metrics_message(true, ACTION_TEMPFAIL, 0.2);
	for (int i = 0; i < METRICS_MAX_SIGN_DOMAINS + 6; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		metrics_sign_domain(name);
	}
	metrics_sign_domain("d0.example");		/* again: still one slot */
	metrics_signature("d0.example", "ed25519-sha256");
	metrics_signature("d0.example", "ed25519-sha256");
	metrics_signature("d63.example", "rsa-sha256");
	metrics_signature("d64.example", "rsa-sha256");	/* past the cap */
	metrics_signature("unknown.example", "rsa-sha256");
	metrics_session(1);
	metrics_session(1);
	metrics_session(-1);
	metrics_reload(false, 3);
	metrics_render(&page);
	const char *p = buf_cstr(&page);

	CHECK(has_line(p, "authmilter_messages_total{direction=\"inbound\","
	    "action=\"reject\"} 2"), "two inbound rejects");
	CHECK(has_line(p, "authmilter_messages_total{direction=\"outbound\","
	    "action=\"tempfail\"} 1"), "one outbound tempfail");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_bucket{direction=\"inbound\","
	    "le=\"0.001\"} 1"), "0.5 ms in the first bucket");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_bucket{direction=\"inbound\","
	    "le=\"0.0025\"} 1"), "3 ms not in le=0.0025");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_bucket{direction=\"inbound\","
	    "le=\"0.005\"} 2"), "3 ms in le=0.005 (cumulative)");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_bucket{direction=\"inbound\","
	    "le=\"10\"} 2"), "30 s beyond the last bound");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_bucket{direction=\"inbound\","
	    "le=\"+Inf\"} 3"), "+Inf holds all three");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_count{direction=\"inbound\"} 3"),
	    "count equals +Inf");
	CHECK(has_line(p, "authmilter_eom_latency_seconds_sum{direction=\"inbound\"} "
	    "30.003500"), "sum in seconds");
	CHECK(count_prefix(p, "authmilter_dkim_signatures_total{") ==
	    2 * (METRICS_MAX_SIGN_DOMAINS + 1), "signing domains capped at %d plus other",
	    METRICS_MAX_SIGN_DOMAINS);
	CHECK(has_line(p, "authmilter_dkim_signatures_total{domain=\"d0.example\","
	    "algorithm=\"ed25519-sha256\"} 2"), "d0.example's own label value");
	CHECK(has_line(p, "authmilter_dkim_signatures_total{domain=\"d63.example\","
	    "algorithm=\"rsa-sha256\"} 1"), "the 64th domain has its own");
	CHECK(has_line(p, "authmilter_dkim_signatures_total{domain=\"other\","
	    "algorithm=\"rsa-sha256\"} 2"), "the 65th and an unknown domain are other");
	CHECK(!strstr(p, "d64.example"), "no series for a domain past the cap");
	CHECK(has_line(p, "authmilter_sessions_open 1"), "sessions open");
	CHECK(has_line(p, "authmilter_reloads_total{result=\"failed\"} 1") &&
	    has_line(p, "authmilter_config_errors_total 3") &&
	    has_line(p, "authmilter_config_last_reload_successful 0"),
	    "a failed reload with three problems");
	buf_free(&page);
	return tap_done();
}
