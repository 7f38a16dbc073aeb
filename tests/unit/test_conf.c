/* test_conf - milter.conf parsing: each bad file beside the exact message it gives. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "report_store.h"
#include "conf_text.h"
#include "tap.h"

static char dir[] = "/tmp/test_conf.XXXXXX";

/* load - write text to a file, load it, return the messages ("" when valid) */
static char *
load(const char *text, struct conf **out)
{
	char path[256], *msg = NULL;
	size_t len = 0;
	FILE *f, *err = open_memstream(&msg, &len);
	struct conf *c;

	snprintf(path, sizeof(path), "%s/milter.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	c = conf_load(path, err);
	fclose(err);
	if (out != NULL)
		*out = c;
	else
		conf_free(c);
	return msg;
}

static const struct {
	const char *text;
	const char *error;	/* expected message after "DIR/milter.conf:"; NULL: valid */
} cases[] = {
	{ "", NULL },
	{ "socket = \"inet:8891@127.0.0.1\"\n", NULL },
	{ "socket = \"inet6:8891@[::1]\"\n", NULL },
	{ "\nfoo = 1\n", "2: foo: unknown key\n" },
	{ "dns {\n  timeout = abc\n}\n", "2: dns.timeout: invalid integer value\n" },
	{ "dns {\n  timeout = 0\n}\n", "2: dns.timeout: 0 is out of range 1..60\n" },
	{ "dns {\n\n  timeout = 600\n}\n", "3: dns.timeout: 600 is out of range 1..60\n" },
	{ "internal_hosts = { \"10.0.0.0/8\", \"300.1.1.1/8\" }\n",
	  "1: internal_hosts: \"300.1.1.1/8\" is not an address or CIDR range\n" },
	{ "socket = \"tcp:25\"\n", "1: socket: \"tcp:25\" is not valid; use unix:/path, "
	  "inet:PORT@HOST or inet6:PORT@[ADDR]\n" },
	{ "socket = \"inet:99999@127.0.0.1\"\n", "1: socket: \"inet:99999@127.0.0.1\" is not "
	  "valid; use unix:/path, inet:PORT@HOST or inet6:PORT@[ADDR]\n" },
	{ "socket_mode = \"rw\"\n", "1: socket_mode: \"rw\" is not an octal mode such as "
	  "\"0660\"\n" },
	{ "on_internal_error = \"reject\"\n", "1: on_internal_error: \"reject\" is not valid; "
	  "use accept | tempfail\n" },
	{ "iprev {\n on_fail = \"maybe\"\n}\n", "2: iprev.on_fail: \"maybe\" is not valid; "
	  "use none | tempfail | reject\n" },
	{ "iprev {\n on_temperror = \"reject\"\n}\n", "2: iprev.on_temperror: \"reject\" is "
	  "not valid; use none | tempfail\n" },
	{ "dns {\n nameservers = { \"127.0.0.1@53x\" }\n}\n", "2: dns.nameservers: "
	  "\"127.0.0.1@53x\" is not an address or ADDR@PORT\n" },
	{ "dns {\n nameservers = { \"ns.example.com\" }\n}\n", "2: dns.nameservers: "
	  "\"ns.example.com\" is not an address or ADDR@PORT\n" },
	{ "dns {\n nameservers = { \"127.0.0.1@5353\", \"::1\" }\n}\n", NULL },
	{ "dns {\n trust_anchor = \"/nonexistent/root.key\"\n}\n", "2: dns.trust_anchor: "
	  "cannot read \"/nonexistent/root.key\"\n" },
	{ "log {\n level = \"loud\"\n}\n", "2: log.level: \"loud\" is not valid; use err, "
	  "warning, notice, info or debug\n" },
	{ "log {\n facility = \"kern\"\n}\n", "2: log.facility: \"kern\" is not valid; use "
	  "mail, daemon, user or local0..local7\n" },
	{ "dkim {\n canonicalization = \"relaxed/strict\"\n}\n", "2: dkim.canonicalization: "
	  "\"relaxed/strict\" is not valid; use simple or relaxed for header/body, e.g. "
	  "\"relaxed/relaxed\"\n" },
	{ "dkim {\n headers = { \"Subject\" }\n}\n", "2: dkim.headers: must include \"From\" "
	  "(RFC 6376 §5.4)\n" },
	{ "dkim {\n oversign = { \"Bad:Name\" }\n}\n", "2: dkim.oversign: \"Bad:Name\" is not a "
	  "header field name\n" },
	{ "report {\n failure_keep_fields = { \"Subject\", \"Bad Name\" }\n}\n",
	  "2: report.failure_keep_fields: \"Bad Name\" is not a header field name, e.g. "
	  "{ \"Subject\", \"Message-ID\" }\n" },
	{ "dkim {\n max_signatures = 0\n}\n", "2: dkim.max_signatures: 0 is out of range "
	  "1..50\n" },
	{ "dkim {\n key \"k1\" {\n  domain = \"example.com\"\n  selector = \"s1\"\n }\n}\n",
	  "5: dkim.key \"k1\": file is missing\n" },
	{ "dkim {\n key \"k1\" {\n  domain = \"example.com\"\n  selector = \"s1\"\n"
	  "  file = \"/nonexistent/k.key\"\n }\n}\n", NULL /* checked below by prefix */ },
	{ "dkim {\n key \"k1\" {\n  domain = \"exa;mple.com\"\n  selector = \"s 1\"\n"
	  "  file = \"\"\n }\n}\n",
	  "6: dkim.key \"k1\": domain \"exa;mple.com\" is not a domain name\n" },
	/* the selector rule is the one signing and verifying apply (DNS_NAME_HEADER) */
	{ "dkim {\n key \"k1\" {\n  domain = \"example.com\"\n  selector = \"s1.\"\n"
	  "  file = \"\"\n }\n}\n",
	  "6: dkim.key \"k1\": selector \"s1.\" is not a DNS name: labels of letters, "
	  "digits, '-' and '_' joined by single dots\n" },
	{ "dkim {\n key \"k1\" {\n  domain = \"example.com\"\n  selector = \"a..b\"\n"
	  "  file = \"\"\n }\n}\n",
	  "6: dkim.key \"k1\": selector \"a..b\" is not a DNS name: labels of letters, "
	  "digits, '-' and '_' joined by single dots\n" },
	{ "dmarc {\n public_suffix_list = \"/nonexistent/psl.dat\"\n}\n",
	  "2: dmarc.public_suffix_list: cannot read \"/nonexistent/psl.dat\" (Debian package "
	  "publicsuffix)\n" },
	{ "dmarc {\n on_reject = \"tempfail\"\n}\n", "2: dmarc.on_reject: \"tempfail\" is not "
	  "valid; use none | quarantine | reject\n" },
	{ "dry_run = maybe\n", "1: dry_run: invalid boolean value\n" },
	{ "report {\n database = \"mysql://h/db\"\n}\n", "2: report.database: "
	  "\"mysql://h/db\": expected \"sqlite:PATH\" or \"postgresql://USER@HOST/DBNAME\"\n" },
	{ "report {\n database = \"sqlite:\"\n}\n", "2: report.database: \"sqlite:\": "
	  "\"sqlite:\" needs a file name, e.g. \"sqlite:/var/lib/authmilter/reports.db\"\n" },
	{ "report {\n database = \"postgresql://h/db?bogus=1\"\n}\n", "2: report.database: "
	  "\"postgresql://h/db?bogus=1\": not a PostgreSQL URI: invalid URI query parameter: "
	  "\"bogus\"\n" },
	{ "report {\n database = \"postgresql://authmilter@db.example/reports\"\n}\n", NULL },
	{ "report {\n enable = true\n}\n", "2: report.email: must be set when report.enable "
	  "is true: the From of report mail, e.g. \"dmarc-reports@example.com\" in a domain "
	  "we sign for\n" },
	{ "report {\n\n email = \"Reports <r@example.com>\"\n}\n", "3: report.email: "
	  "\"Reports <r@example.com>\" is not an address local@domain with a plain "
	  "(dot-atom) local part\n" },
	{ "report {\n email = \"r@exa mple.com\"\n}\n", "2: report.email: \"r@exa mple.com\" "
	  "is not an address local@domain with a plain (dot-atom) local part\n" },
	{ "report {\n email = \"r..x@example.com\"\n}\n", "2: report.email: \"r..x@example.com\" "
	  "is not an address local@domain with a plain (dot-atom) local part\n" },
	{ "report {\n keep_days = 0\n}\n", "2: report.keep_days: 0 is out of range 1..3650\n" },
	{ "report {\n queue = 0\n}\n", "2: report.queue: 0 is out of range 1..1000000\n" },
	{ "report {\n sendmail = \"sendmail -t\"\n}\n", "2: report.sendmail: \"sendmail -t\" "
	  "is not an absolute path to a program, e.g. \"/usr/sbin/sendmail -t -oi\"\n" },
	{ "report {\n failure = yes\n failure_rate = -1\n}\n", "3: report.failure_rate: -1 is "
	  "out of range 0..100000\n" },
	/* comments above an error: the line is the file's own (libconfuse 3.3 counted
	 * each "#" line three times and each C-comment newline twice) */
	{ "# c\n# c\n# c\nfoo = 1\n", "4: foo: unknown key\n" },
	{ "/* a\n b\n c */\nfoo = 1\n", "4: foo: unknown key\n" },
	{ "// a\n/// b\nfoo = 1\n", "3: foo: unknown key\n" },
	{ "authserv_id = \"mx\" # c\n  # c\n\n/* c */ foo = 1\n", "4: foo: unknown key\n" },
	{ "dns {\n  # c\n  /* c\n  c */\n  timeout = 600  # c\n}\n",
	  "5: dns.timeout: 600 is out of range 1..60\n" },
	{ "report {\n sendmail = \"/usr/sbin/sendmail # x\" # c\n # c\n queue = 0\n}\n",
	  "4: report.queue: 0 is out of range 1..1000000\n" },
	{ "report {\n sendmail = '/usr/sbin/x // y' // c\n # c\n queue = 0\n}\n",
	  "4: report.queue: 0 is out of range 1..1000000\n" },
	{ "socket = unix://run/a.sock # c\n# c\nfoo = 1\n", "3: foo: unknown key\n" },
};

/* Comment blanking: each text beside what libconfuse must be given. */
static const struct {
	const char *in, *out;
} uncomment_cases[] = {
	{ "a = 1 # c\nb = 2\n", "a = 1 \nb = 2\n" },
	{ "# c\n#\n##\n", "\n\n\n" },
	{ "a = \"x # y\" # z\n", "a = \"x # y\" \n" },
	{ "a = 'x // y' // z\n", "a = 'x // y' \n" },
	{ "a = \"x \\\" # y\"\n", "a = \"x \\\" # y\"\n" },
	{ "a = 'it\\'s # y'\n", "a = 'it\\'s # y'\n" },
	{ "/* x\n * y\n */a = 1\n", "\n\na = 1\n" },
	{ "a = unix://x/y#c\n", "a = unix://x/y\n" },
	{ "//x = 1\n", "//x = 1\n" },		/* a word: longer than the "//" */
	{ "// x = 1\n", "\n" },
	{ "a = ${HOME#x} # c\n", "a = ${HOME#x} \n" },
	{ "a = \"multi\nline # kept\"\n", "a = \"multi\nline # kept\"\n" },
	{ "a = 1 /* open\n", "a = 1 /* open\n" },
	{ "a = \"open # x\n", "a = \"open # x\n" },
};

int
main(void)
{
	struct conf *c;
	char *msg;

	if (mkdtemp(dir) == NULL)
		return 1;
	conf_set_database_check(report_store_uri_check);	/* as generation_load */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[1024];

		msg = load(cases[i].text, NULL);
		if (strstr(cases[i].text, "/nonexistent/k.key") != NULL) {
			CHECK(strstr(msg, "milter.conf:6: dkim.key \"k1\": /nonexistent/k.key: ")
			    != NULL, "unreadable key file is named with its section");
			free(msg);
			continue;
		}
		if (cases[i].error == NULL)
			want[0] = '\0';
		else
			snprintf(want, sizeof(want), "%s/milter.conf:%s", dir, cases[i].error);
		/* several messages may follow; the first is the one this case is about */
		if (cases[i].error != NULL && strlen(msg) > strlen(want))
			msg[strlen(want)] = '\0';
		CHECK_STR(msg, want, "case %zu: %.*s", i, (int)strcspn(cases[i].error ?
		    cases[i].error : "valid", "\n"), cases[i].error ? cases[i].error : "valid");
		free(msg);
	}

	for (size_t i = 0; i < sizeof(uncomment_cases) / sizeof(uncomment_cases[0]); i++) {
		struct buf out = BUF_INIT;

		conf_text_uncomment(uncomment_cases[i].in, strlen(uncomment_cases[i].in), &out);
		CHECK_STR(buf_cstr(&out), uncomment_cases[i].out, "uncomment case %zu", i);
		buf_free(&out);
	}

	/* Every option's line is remembered, however many are set (64 were). */
	{
		struct buf text = BUF_INIT;
		char want[300];

		for (int i = 0; i < 100; i++)
			buf_puts(&text, "dry_run = false\n");
		buf_puts(&text, "report {\n queue = 0\n}\n");
		msg = load(buf_cstr(&text), NULL);
		snprintf(want, sizeof(want), "%s/milter.conf:102: report.queue: 0 is out of "
		    "range 1..1000000\n", dir);
		CHECK_STR(msg, want, "the line of an option set after 100 others");
		free(msg);
		buf_free(&text);
	}

	/* A '#' inside a quoted value is the value's, not a comment. */
	msg = load("report {\n  sendmail = \"/usr/sbin/sendmail -t #1\"  # c\n}\n", &c);
	CHECK(c != NULL && strcmp(c->report.sendmail, "/usr/sbin/sendmail -t #1") == 0,
	    "'#' inside a quoted value is kept");
	conf_free(c);
	free(msg);

	/* Defaults are the safe ones, and values arrive where they belong. */
	msg = load("authserv_id = \"mx.example.com\"\ndns {\n nameservers = { \"127.0.0.1@5353\" }\n"
	    " timeout = 3\n}\niprev {\n on_fail = \"reject\"\n}\n", &c);
	CHECK(c != NULL, "valid file loads");
	if (c != NULL) {
		CHECK_STR(c->authserv_id, "mx.example.com", "authserv_id");
		CHECK(!c->report.enable && c->report.keep_days == 30 && c->report.queue == 10000 &&
		    !c->report.failure && strcmp(c->report.database,
		    "sqlite:/var/lib/authmilter/reports.db") == 0 &&
		    strcmp(c->report.sendmail, "/usr/sbin/sendmail -t -oi") == 0,
		    "report defaults: off, sqlite, 30 days, 10000 queued");
		CHECK_STR(c->report.org_name, "mx.example.com", "report.org_name defaults to "
		    "authserv_id");
		CHECK(c->dns.n_nameservers == 1 && strcmp(c->dns.nameservers[0],
		    "127.0.0.1@5353") == 0, "nameservers");
		CHECK(c->dns.timeout == 3, "dns.timeout");
		CHECK(c->iprev.on_fail == ACTION_REJECT, "iprev.on_fail");
		CHECK(c->iprev.on_temperror == ACTION_NONE, "iprev.on_temperror default none");
		CHECK(c->spf.on_fail == ACTION_REJECT && c->spf.on_temperror == ACTION_TEMPFAIL,
		    "spf defaults: fail rejects, temperror tempfails");
		CHECK(c->dmarc.on_reject == ACTION_REJECT && c->dmarc.multiple_from ==
		    ACTION_REJECT && c->dmarc.on_temperror == ACTION_TEMPFAIL,
		    "dmarc defaults: reject, multiple_from reject, temperror tempfail");
		CHECK(c->on_internal_error == ACTION_TEMPFAIL, "on_internal_error default tempfail");
		CHECK(c->dkim.require_safe_keys, "require_safe_keys default true");
		CHECK(c->dkim.max_signatures == 5 && c->dkim.min_key_bits == 1024,
		    "dkim verify defaults");
		CHECK(c->dkim.n_oversign == 12, "twelve oversigned names by default");
		{
			bool lu = false, lup = false;

			for (size_t i = 0; i < c->dkim.n_oversign; i++) {
				lu |= strcmp(c->dkim.oversign[i], "List-Unsubscribe") == 0;
				lup |= strcmp(c->dkim.oversign[i], "List-Unsubscribe-Post") == 0;
			}
			CHECK(lu && lup, "List-Unsubscribe and -Post oversigned by default "
			    "(RFC 8058 one-click)");
		}
		CHECK(!c->dkim.rotate.enable && c->dkim.rotate.rsa && c->dkim.rotate.ed25519 &&
		    c->dkim.rotate.interval == 7776000 && c->dkim.rotate.publish_wait == 172800 &&
		    c->dkim.rotate.retire_after == 604800 && c->dkim.rotate.rsa_bits == 2048 &&
		    c->dkim.rotate.publish_private[0] == '\0', "dkim.rotate defaults");
		CHECK(c->internal_hosts.n == 2, "internal_hosts default 127/8 and ::1");
		CHECK(c->socket_mode == 0660, "socket_mode default 0660");
		conf_free(c);
	}
	free(msg);

	/* A missing file says so. */
	{
		char *m2 = NULL;
		size_t l2 = 0;
		FILE *err = open_memstream(&m2, &l2);
		struct conf *none = conf_load("/nonexistent/milter.conf", err);

		fclose(err);
		CHECK(none == NULL && strstr(m2, "/nonexistent/milter.conf: cannot read") != NULL,
		    "missing file: \"cannot read\"");
		free(m2);
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
