/* test_sockspec - the milter socket spec: every form, and each bad one refused. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sockspec.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		const char *spec;
		bool ok;
		enum sockspec_kind kind;
		const char *path, *host;
		unsigned port;
	} t[] = {
		{ "unix:/run/a.sock", true, SOCKSPEC_UNIX, "/run/a.sock", NULL, 0 },
		{ "local:/run/a.sock", true, SOCKSPEC_UNIX, "/run/a.sock", NULL, 0 },
		{ "inet:8891@127.0.0.1", true, SOCKSPEC_INET, NULL, "127.0.0.1", 8891 },
		{ "inet:8891", true, SOCKSPEC_INET, NULL, NULL, 8891 },
		{ "inet:1@localhost", true, SOCKSPEC_INET, NULL, "localhost", 1 },
		{ "inet6:65535@[::1]", true, SOCKSPEC_INET6, NULL, "::1", 65535 },
		{ "inet6:8891@::1", true, SOCKSPEC_INET6, NULL, "::1", 8891 },
		{ "unix:relative", false, 0, NULL, NULL, 0 },
		{ "unix:/", false, 0, NULL, NULL, 0 },
		{ "inet:0@127.0.0.1", false, 0, NULL, NULL, 0 },
		{ "inet:65536@127.0.0.1", false, 0, NULL, NULL, 0 },
		{ "inet:x@127.0.0.1", false, 0, NULL, NULL, 0 },
		{ "inet:8891@", false, 0, NULL, NULL, 0 },
		{ "inet:8891@127.0.0.1 x", false, 0, NULL, NULL, 0 },
		{ "inet:8891:127.0.0.1", false, 0, NULL, NULL, 0 },
		{ "tcp:8891", false, 0, NULL, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sockspec s;
		bool ok = sockspec_parse(t[i].spec, &s);

		CHECK(ok == t[i].ok, "%s: %s", t[i].spec, t[i].ok ? "valid" : "refused");
		if (ok && t[i].ok) {
			CHECK(s.kind == t[i].kind && s.port == t[i].port, "%s: kind and port",
			    t[i].spec);
			CHECK_STR(s.path, t[i].path, "%s: path", t[i].spec);
			CHECK_STR(s.host, t[i].host, "%s: host", t[i].spec);
		}
		sockspec_clear(&s);
	}
	struct sockspec s;
	CHECK(sockspec_parse("inet6:1@[::1]", &s) && sockspec_family(&s) == AF_INET6,
	    "family of inet6 is AF_INET6");
	sockspec_clear(&s);
	return tap_done();
}
