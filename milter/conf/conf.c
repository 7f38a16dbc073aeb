/* conf - milter.conf: libconfuse schema, validation, and the parsed settings.
 *
 * conf_load parses a file and checks every value (and every file it names: keys,
 * trust anchor, public suffix list); each problem is printed as
 * "FILE:LINE: key: what is wrong", and any problem means NULL. conf_free releases a
 * struct conf and the keys it loaded.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <confuse.h>

#include "buf.h"
#include "conf.h"
#include "conf_text.h"
#include "dkim_key.h"
#include "dkim_keyrec.h"
#include "dns_name.h"
#include "lock.h"
#include "report_uri.h"
#include "rfc5322.h"
#include "sockspec.h"
#include "xalloc.h"

#define CONF_MAX_TIMEOUT	60	/* seconds: longer and the MTA's own timeout fires */
#define CONF_MAX_SESSIONS	1048576	/* Linux's default fs.nr_open: no more descriptors */
/* seconds: libmilter closes a silent session itself after 600 (main.c's
 * MAIN_MTA_TIMEOUT) and its next sweep; ours must come first */
#define CONF_MAX_SESSION_TIMEOUT	600
#define CONF_MAX_SIGNATURES	50	/* verifying more is a denial-of-service vector */
#define CONF_DURATION_MAX	(10L * 365 * 86400)	/* dkim.rotate durations */

static void conf_strv_free(char **v);

/* While one file is parsed: where each option was set, and the error sink. libconfuse
 * has no user pointer, so this lives in a static under a lock (loads are rare). */
static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
/* how report.database is checked (under conf_lock): its form, or more where the
 * program links the report store (conf_set_database_check) */
static conf_database_check_fn conf_database_check = report_uri_form_check;
static struct conf_parse {
	const char	*path;
	FILE		*err;
	int		 errors;
	struct conf_opt_line {
		const cfg_opt_t	*opt;
		int		 line;	/* where it was last set */
	} *lines;		/* one per option set; grows */
	size_t		 n_lines, cap_lines;
} *conf_parse;

/* conf_error - print "FILE:LINE: key: message" and count it */
static void __attribute__((format(printf, 3, 4)))
conf_error(int line, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(conf_parse->err, "%s:%d: %s: ", conf_parse->path, line, key);
	va_start(ap, fmt);
	vfprintf(conf_parse->err, fmt, ap);
	va_end(ap);
	fputc('\n', conf_parse->err);
	conf_parse->errors++;
}

/* conf_confuse_error - libconfuse's own errors, reshaped to name the key first.
 * Its messages read "WHAT for option 'NAME'" or "no such option 'NAME'". */
static void
conf_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512], key[256];
	const char *q, *name, *what = msg;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((q = strstr(msg, "option '")) == NULL) {
		conf_error(cfg->line, "syntax", "%s", msg);
		return;
	}
	name = q + strlen("option '");
	n = strcspn(name, "'");
	/* keys inside a section are named section.key, as our own messages do */
	if (cfg->name != NULL && strcmp(cfg->name, "root") != 0)
		snprintf(key, sizeof(key), "%s.%.*s", cfg->name, (int)n, name);
	else
		snprintf(key, sizeof(key), "%.*s", (int)n, name);
	if (strncmp(msg, "no such option", 14) == 0) {
		what = "unknown key";
	} else {
		char *end = msg + (q - msg);	/* cut " for option '...'" */

		while (end > msg && end[-1] == ' ')
			end--;
		if (end - msg >= 4 && strncmp(end - 4, " for", 4) == 0)
			end -= 4;
		*end = '\0';
		if (msg[0] == '\0' || strcmp(msg, "invalid value") == 0)
			what = "invalid value";
	}
	conf_error(cfg->line, key, "%s", what);
}

/* conf_note_line - validate callback on every plain option: remember its line */
static int
conf_note_line(cfg_t *cfg, cfg_opt_t *opt)
{
	struct conf_parse *p = conf_parse;

	for (size_t i = 0; i < p->n_lines; i++)
		if (p->lines[i].opt == opt) {
			p->lines[i].line = cfg->line;
			return 0;
		}
	if (p->n_lines == p->cap_lines) {
		p->cap_lines = p->cap_lines ? 2 * p->cap_lines : 64;
		p->lines = xreallocarray(p->lines, p->cap_lines, sizeof(*p->lines));
	}
	p->lines[p->n_lines].opt = opt;
	p->lines[p->n_lines].line = cfg->line;
	p->n_lines++;
	return 0;
}

/* conf_line - the line an option was set on; 0 when it kept its default */
static int
conf_line(cfg_t *sec, const char *name)
{
	const cfg_opt_t *opt = cfg_getopt(sec, name);

	for (size_t i = 0; i < conf_parse->n_lines; i++)
		if (conf_parse->lines[i].opt == opt)
			return conf_parse->lines[i].line;
	return 0;
}

/* Option tables. Defaults are the safe choices; conf/milter.conf shows them all. */
static cfg_opt_t conf_log_opts[] = {
	CFG_STR("facility", "mail", CFGF_NONE),
	CFG_STR("level", "info", CFGF_NONE),
	CFG_BOOL("stderr", cfg_false, CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_dns_opts[] = {
	CFG_STR_LIST("nameservers", "{}", CFGF_NONE),
	CFG_INT("timeout", 5, CFGF_NONE),
	CFG_STR("trust_anchor", "", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_iprev_opts[] = {
	CFG_BOOL("enable", cfg_true, CFGF_NONE),
	CFG_STR("on_fail", "none", CFGF_NONE),
	CFG_STR("on_temperror", "none", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_spf_opts[] = {
	CFG_BOOL("enable", cfg_true, CFGF_NONE),
	CFG_BOOL("helo", cfg_true, CFGF_NONE),
	CFG_BOOL("received_spf", cfg_true, CFGF_NONE),
	CFG_STR("on_fail", "reject", CFGF_NONE),
	CFG_STR("on_softfail", "none", CFGF_NONE),
	CFG_STR("on_temperror", "tempfail", CFGF_NONE),
	CFG_STR("on_permerror", "none", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_key_opts[] = {
	CFG_STR("domain", "", CFGF_NONE),
	CFG_STR("selector", "", CFGF_NONE),
	CFG_STR("file", "", CFGF_NONE),
	CFG_BOOL("subdomains", cfg_false, CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_rotate_opts[] = {
	CFG_BOOL("enable", cfg_false, CFGF_NONE),
	CFG_STR_LIST("algorithms", "{rsa,ed25519}", CFGF_NONE),
	CFG_STR("interval", "7776000", CFGF_NONE),	/* 90 days */
	CFG_STR("publish_wait", "172800", CFGF_NONE),	/* 2 days */
	CFG_STR("retire_after", "604800", CFGF_NONE),	/* 7 days */
	CFG_INT("rsa_bits", 2048, CFGF_NONE),
	CFG_STR("publish_private", "", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_dkim_opts[] = {
	CFG_BOOL("verify", cfg_true, CFGF_NONE),
	CFG_BOOL("allow_partial_body", cfg_false, CFGF_NONE),
	CFG_INT("max_signatures", 5, CFGF_NONE),
	CFG_INT("min_key_bits", 1024, CFGF_NONE),
	CFG_STR("canonicalization", "relaxed/relaxed", CFGF_NONE),
	CFG_STR_LIST("headers", "{}", CFGF_NONE),
	CFG_STR_LIST("oversign", "{From,Subject,Date,To,Cc,Reply-To,Message-ID,"
	    "MIME-Version,Content-Type,Content-Transfer-Encoding,List-Unsubscribe,"
	    "List-Unsubscribe-Post}", CFGF_NONE),
	CFG_INT("expire", 0, CFGF_NONE),
	CFG_BOOL("require_safe_keys", cfg_true, CFGF_NONE),
	CFG_STR("on_sign_error", "tempfail", CFGF_NONE),
	CFG_SEC("key", conf_key_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_STR("keys_directory", "", CFGF_NONE),
	CFG_SEC("rotate", conf_rotate_opts, CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_dmarc_opts[] = {
	CFG_BOOL("enable", cfg_true, CFGF_NONE),
	CFG_STR("discovery", "treewalk", CFGF_NONE),
	CFG_STR("public_suffix_list", "/usr/share/publicsuffix/public_suffix_list.dat",
	    CFGF_NONE),
	CFG_STR("on_reject", "reject", CFGF_NONE),
	CFG_STR("on_quarantine", "quarantine", CFGF_NONE),
	CFG_STR("on_temperror", "tempfail", CFGF_NONE),
	CFG_STR("multiple_from", "reject", CFGF_NONE),
	CFG_STR("missing_from", "reject", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_arc_opts[] = {
	/* arc-verify's pair: verify, trusted_sealers */
	CFG_BOOL("verify", cfg_true, CFGF_NONE),
	CFG_STR_LIST("trusted_sealers", "{}", CFGF_NONE),
	/* sealing */
	CFG_BOOL("seal", cfg_false, CFGF_NONE),
	CFG_STR("seal_key", "", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_metrics_opts[] = {
	CFG_STR("listen", "", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_report_opts[] = {
	CFG_BOOL("enable", cfg_false, CFGF_NONE),
	CFG_STR("database", "sqlite:/var/lib/authmilter/reports.db", CFGF_NONE),
	CFG_STR("org_name", "", CFGF_NONE),
	CFG_STR("email", "", CFGF_NONE),
	CFG_INT("keep_days", 30, CFGF_NONE),
	CFG_INT("queue", 10000, CFGF_NONE),
	CFG_STR("sendmail", "/usr/sbin/sendmail -t -oi", CFGF_NONE),
	CFG_BOOL("failure", cfg_false, CFGF_NONE),
	CFG_INT("failure_rate", 10, CFGF_NONE),
	CFG_STR_LIST("failure_keep_fields", "{}", CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_opts[] = {
	CFG_STR("socket", "unix:/run/authmilter/authmilter.sock", CFGF_NONE),
	CFG_STR("socket_mode", "0660", CFGF_NONE),
	CFG_BOOL("socket_allow_remote", cfg_false, CFGF_NONE),
	CFG_STR("user", "authmilter", CFGF_NONE),
	CFG_STR("authserv_id", "", CFGF_NONE),
	CFG_STR_LIST("internal_hosts", "{127.0.0.0/8,::1/128}", CFGF_NONE),
	CFG_STR("local_submission", "", CFGF_NONE),
	CFG_STR("on_internal_error", "tempfail", CFGF_NONE),
	CFG_BOOL("dry_run", cfg_false, CFGF_NONE),
	CFG_INT("max_sessions", 0, CFGF_NONE),
	CFG_INT("session_idle_timeout", 30, CFGF_NONE),
	CFG_INT("session_timeout", 600, CFGF_NONE),
	CFG_SEC("log", conf_log_opts, CFGF_NONE),
	CFG_SEC("dns", conf_dns_opts, CFGF_NONE),
	CFG_SEC("iprev", conf_iprev_opts, CFGF_NONE),
	CFG_SEC("spf", conf_spf_opts, CFGF_NONE),
	CFG_SEC("dkim", conf_dkim_opts, CFGF_NONE),
	CFG_SEC("dmarc", conf_dmarc_opts, CFGF_NONE),
	CFG_SEC("arc", conf_arc_opts, CFGF_NONE),
	CFG_SEC("metrics", conf_metrics_opts, CFGF_NONE),
	CFG_SEC("report", conf_report_opts, CFGF_NONE),
	CFG_END()
};

/* Bit sets of the actions a key may take. */
#define A(x)	(1u << (x))
#define ALLOW_NONE_REJECT_TEMPFAIL	(A(ACTION_NONE) | A(ACTION_REJECT) | A(ACTION_TEMPFAIL))
#define ALLOW_NONE_TEMPFAIL		(A(ACTION_NONE) | A(ACTION_TEMPFAIL))

/* conf_set_database_check - check report.database with fn from the next load on */
void
conf_set_database_check(conf_database_check_fn fn)
{
	lock_take(&conf_lock);
	conf_database_check = fn;
	lock_release(&conf_lock);
}

/* conf_action - parse sec.name into one of the allowed actions */
static enum action
conf_action(cfg_t *sec, const char *secname, const char *name, unsigned allowed)
{
	const char *v = cfg_getstr(sec, name);
	struct { char text[96]; size_t len; } valid = { "", 0 };

	for (int a = ACTION_NONE; a <= ACTION_REJECT; a++) {
		if (!(allowed & A(a)))
			continue;
		if (strcmp(v, action_name((enum action)a)) == 0)
			return (enum action)a;
		valid.len += (size_t)snprintf(valid.text + valid.len,
		    sizeof(valid.text) - valid.len, "%s%s", valid.len ? " | " : "",
		    action_name((enum action)a));
	}
	char key[64];
	snprintf(key, sizeof(key), "%s%s%s", secname, *secname ? "." : "", name);
	conf_error(conf_line(sec, name), key, "\"%s\" is not valid; use %s", v, valid.text);
	return ACTION_NONE;
}

/* conf_int - sec.name within [min, max] */
static unsigned
conf_int(cfg_t *sec, const char *secname, const char *name, long min, long max)
{
	long v = cfg_getint(sec, name);

	if (v < min || v > max) {
		char key[64];
		snprintf(key, sizeof(key), "%s%s%s", secname, *secname ? "." : "", name);
		conf_error(conf_line(sec, name), key, "%ld is out of range %ld..%ld", v, min, max);
		return (unsigned)min;
	}
	return (unsigned)v;
}

/* conf_strlist - copy a string list */
static char **
conf_strlist(cfg_t *sec, const char *name, size_t *n)
{
	size_t count = cfg_size(sec, name);
	char **v = xcalloc(count + 1, sizeof(*v));

	for (size_t i = 0; i < count; i++)
		v[i] = xstrdup(cfg_getnstr(sec, name, i));
	*n = count;
	return v;
}

/* conf_socket_loopback - an inet:/inet6: socket bound to a literal loopback address
 * (127.0.0.0/8, ::1); a host name or no host (every interface) is not */
static bool
conf_socket_loopback(const char *s)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };
	struct sockspec sp;
	struct cidr c;
	bool ok;

	ok = sockspec_parse(s, &sp) && sp.host != NULL && strchr(sp.host, '/') == NULL &&
	    cidr_parse(sp.host, &c) &&
	    ((c.family == AF_INET && c.addr[0] == 127) ||
	    (c.family == AF_INET6 && memcmp(c.addr, v6_loopback, 16) == 0));
	sockspec_clear(&sp);
	return ok;
}

/* conf_check_nameserver - "ADDR" or "ADDR@PORT" with a numeric address */
static bool
conf_check_nameserver(const char *s)
{
	char host[64];
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	struct cidr c;

	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (strchr(host, '/') != NULL || !cidr_parse(host, &c))
		return false;
	if (at != NULL) {
		char *end;
		long port = strtol(at + 1, &end, 10);

		if (at[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
			return false;
	}
	return true;
}

/* conf_readable - the file exists and we can read it */
static bool
conf_readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static const struct { const char *name; int value; } conf_facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};
static const struct { const char *name; int value; } conf_levels[] = {
	{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

/* conf_sessions - max_sessions and the silent-session timeouts */
static void
conf_sessions(cfg_t *cfg, struct conf *c)
{
	c->max_sessions = conf_int(cfg, "", "max_sessions", 0, CONF_MAX_SESSIONS);
	c->max_sessions_line = conf_line(cfg, "max_sessions");
	c->session_idle_timeout = conf_int(cfg, "", "session_idle_timeout", 1,
	    CONF_MAX_SESSION_TIMEOUT);
	c->session_timeout = conf_int(cfg, "", "session_timeout", 10, CONF_MAX_SESSION_TIMEOUT);
}

/* conf_general - the top-level keys and log */
static void
conf_general(cfg_t *cfg, struct conf *c)
{
	size_t n;
	char **hosts;
	const char *mode, *local;
	char *end;
	cfg_t *log = cfg_getsec(cfg, "log");

	c->socket = xstrdup(cfg_getstr(cfg, "socket"));
	struct sockspec sp;
	bool socket_ok = sockspec_parse(c->socket, &sp);

	sockspec_clear(&sp);
	if (!socket_ok)
		conf_error(conf_line(cfg, "socket"), "socket", "\"%s\" is not valid; use "
		    "unix:/path, inet:PORT@HOST or inet6:PORT@[ADDR]", c->socket);
	c->socket_inet = strncmp(c->socket, "inet", 4) == 0;
	/* Anyone who reaches a milter socket gets mail signed and judged as the
	 * client it claims to be: a TCP socket beyond loopback is an explicit choice. */
	if (c->socket_inet && !cfg_getbool(cfg, "socket_allow_remote") &&
	    socket_ok && !conf_socket_loopback(c->socket))
		conf_error(conf_line(cfg, "socket"), "socket", "\"%s\" listens beyond "
		    "loopback, where every host that reaches it can have mail signed; use "
		    "a unix socket, inet:PORT@127.0.0.1 or inet6:PORT@[::1], or set "
		    "socket_allow_remote = true", c->socket);
	local = cfg_getstr(cfg, "local_submission");
	if (local[0] == '\0')	/* only the MTA reaches a unix socket */
		c->local_submission_sign = !c->socket_inet;
	else if (strcmp(local, "sign") == 0 || strcmp(local, "inbound") == 0)
		c->local_submission_sign = strcmp(local, "sign") == 0;
	else
		conf_error(conf_line(cfg, "local_submission"), "local_submission",
		    "\"%s\" is not valid; use sign or inbound", local);
	mode = cfg_getstr(cfg, "socket_mode");
	c->socket_mode = (unsigned)strtoul(mode, &end, 8);
	if (*mode == '\0' || *end != '\0' || c->socket_mode > 0777)
		conf_error(conf_line(cfg, "socket_mode"), "socket_mode",
		    "\"%s\" is not an octal mode such as \"0660\"", mode);
	c->user = xstrdup(cfg_getstr(cfg, "user"));
	c->authserv_id = xstrdup(cfg_getstr(cfg, "authserv_id"));
	if (c->authserv_id[0] == '\0') {
		char host[256];

		free(c->authserv_id);
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		c->authserv_id = xstrdup(host);
	}
	for (const char *p = c->authserv_id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') {
			conf_error(conf_line(cfg, "authserv_id"), "authserv_id",
			    "\"%s\" is not a host name", c->authserv_id);
			break;
		}

	hosts = conf_strlist(cfg, "internal_hosts", &n);
	c->internal_hosts.v = xcalloc(n ? n : 1, sizeof(struct cidr));
	c->internal_hosts.n = n;
	for (size_t i = 0; i < n; i++) {
		if (!cidr_parse(hosts[i], &c->internal_hosts.v[i]))
			conf_error(conf_line(cfg, "internal_hosts"), "internal_hosts",
			    "\"%s\" is not an address or CIDR range", hosts[i]);
		free(hosts[i]);
	}
	free(hosts);
	c->on_internal_error = conf_action(cfg, "", "on_internal_error",
	    A(ACTION_TEMPFAIL) | A(ACTION_ACCEPT));
	c->dry_run = cfg_getbool(cfg, "dry_run");
	conf_sessions(cfg, c);

	c->log.facility = -1;
	for (size_t i = 0; i < sizeof(conf_facilities) / sizeof(conf_facilities[0]); i++)
		if (strcmp(cfg_getstr(log, "facility"), conf_facilities[i].name) == 0)
			c->log.facility = conf_facilities[i].value;
	if (c->log.facility < 0) {
		conf_error(conf_line(log, "facility"), "log.facility",
		    "\"%s\" is not valid; use mail, daemon, user or local0..local7",
		    cfg_getstr(log, "facility"));
		c->log.facility = LOG_MAIL;
	}
	c->log.level = -1;
	for (size_t i = 0; i < sizeof(conf_levels) / sizeof(conf_levels[0]); i++)
		if (strcmp(cfg_getstr(log, "level"), conf_levels[i].name) == 0)
			c->log.level = conf_levels[i].value;
	if (c->log.level < 0) {
		conf_error(conf_line(log, "level"), "log.level",
		    "\"%s\" is not valid; use err, warning, notice, info or debug",
		    cfg_getstr(log, "level"));
		c->log.level = LOG_INFO;
	}
	c->log.to_stderr = cfg_getbool(log, "stderr");
}

/* conf_discovery - dmarc.discovery: "treewalk" (RFC 9989) or "psl" (RFC 7489) */
static enum dmarc_discovery
conf_discovery(cfg_t *dmarc)
{
	const char *v = cfg_getstr(dmarc, "discovery");

	if (strcmp(v, "treewalk") == 0)
		return DMARC_DISCOVERY_TREEWALK;
	if (strcmp(v, "psl") == 0)
		return DMARC_DISCOVERY_PSL;
	conf_error(conf_line(dmarc, "discovery"), "dmarc.discovery",
	    "\"%s\" is not valid; use treewalk | psl", v);
	return DMARC_DISCOVERY_TREEWALK;
}

/* conf_checks - dns, iprev, spf and dmarc sections */
static void
conf_checks(cfg_t *cfg, struct conf *c)
{
	cfg_t *dns = cfg_getsec(cfg, "dns"), *iprev = cfg_getsec(cfg, "iprev");
	cfg_t *spf = cfg_getsec(cfg, "spf"), *dmarc = cfg_getsec(cfg, "dmarc");

	c->dns.nameservers = conf_strlist(dns, "nameservers", &c->dns.n_nameservers);
	for (size_t i = 0; i < c->dns.n_nameservers; i++)
		if (!conf_check_nameserver(c->dns.nameservers[i]))
			conf_error(conf_line(dns, "nameservers"), "dns.nameservers",
			    "\"%s\" is not an address or ADDR@PORT", c->dns.nameservers[i]);
	c->dns.timeout = conf_int(dns, "dns", "timeout", 1, CONF_MAX_TIMEOUT);
	c->dns.trust_anchor = xstrdup(cfg_getstr(dns, "trust_anchor"));
	if (c->dns.trust_anchor[0] != '\0' && !conf_readable(c->dns.trust_anchor))
		conf_error(conf_line(dns, "trust_anchor"), "dns.trust_anchor",
		    "cannot read \"%s\"", c->dns.trust_anchor);

	c->iprev.enable = cfg_getbool(iprev, "enable");
	c->iprev.on_fail = conf_action(iprev, "iprev", "on_fail", ALLOW_NONE_REJECT_TEMPFAIL);
	c->iprev.on_temperror = conf_action(iprev, "iprev", "on_temperror", ALLOW_NONE_TEMPFAIL);

	c->spf.enable = cfg_getbool(spf, "enable");
	c->spf.helo = cfg_getbool(spf, "helo");
	c->spf.received_spf = cfg_getbool(spf, "received_spf");
	c->spf.on_fail = conf_action(spf, "spf", "on_fail",
	    ALLOW_NONE_REJECT_TEMPFAIL | A(ACTION_QUARANTINE));
	c->spf.on_softfail = conf_action(spf, "spf", "on_softfail",
	    ALLOW_NONE_REJECT_TEMPFAIL | A(ACTION_QUARANTINE));
	c->spf.on_temperror = conf_action(spf, "spf", "on_temperror", ALLOW_NONE_TEMPFAIL);
	c->spf.on_permerror = conf_action(spf, "spf", "on_permerror",
	    ALLOW_NONE_REJECT_TEMPFAIL);

	c->dmarc.enable = cfg_getbool(dmarc, "enable");
	c->dmarc.discovery = conf_discovery(dmarc);
	c->dmarc.public_suffix_list = xstrdup(cfg_getstr(dmarc, "public_suffix_list"));
	if (c->dmarc.public_suffix_list[0] != '\0' && !conf_readable(c->dmarc.public_suffix_list))
		conf_error(conf_line(dmarc, "public_suffix_list"), "dmarc.public_suffix_list",
		    "cannot read \"%s\" (Debian package publicsuffix)",
		    c->dmarc.public_suffix_list);
	c->dmarc.on_reject = conf_action(dmarc, "dmarc", "on_reject",
	    A(ACTION_REJECT) | A(ACTION_QUARANTINE) | A(ACTION_NONE));
	c->dmarc.on_quarantine = conf_action(dmarc, "dmarc", "on_quarantine",
	    A(ACTION_QUARANTINE) | A(ACTION_NONE));
	c->dmarc.on_temperror = conf_action(dmarc, "dmarc", "on_temperror", ALLOW_NONE_TEMPFAIL);
	c->dmarc.multiple_from = conf_action(dmarc, "dmarc", "multiple_from",
	    ALLOW_NONE_REJECT_TEMPFAIL);
	c->dmarc.missing_from = conf_action(dmarc, "dmarc", "missing_from",
	    A(ACTION_REJECT) | A(ACTION_NONE));
}

/* conf_canon - "relaxed/simple" into its two halves */
static bool
conf_canon(const char *s, enum dkim_canon *h, enum dkim_canon *b)
{
	static const struct { const char *text; enum dkim_canon h, b; } forms[] = {
		{ "simple/simple", DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE },
		{ "simple/relaxed", DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED },
		{ "relaxed/simple", DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
		{ "relaxed/relaxed", DKIM_CANON_RELAXED, DKIM_CANON_RELAXED },
		{ "simple", DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE },
		{ "relaxed", DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strcmp(s, forms[i].text) == 0) {
			*h = forms[i].h;
			*b = forms[i].b;
			return true;
		}
	return false;
}

/* conf_header_names_ok - every entry is a valid header field name (RFC 5322 ftext) */
static bool
conf_header_names_ok(char **names, size_t n, const char **bad)
{
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)names[i];

		if (*p == '\0')
			goto invalid;
		for (; *p; p++)
			if (*p < 33 || *p > 126 || *p == ':')
				goto invalid;
		continue;
invalid:
		*bad = names[i];
		return false;
	}
	return true;
}

/* conf_dkim - the dkim section and every key it names, loaded now */
static void
conf_dkim(cfg_t *cfg, struct conf *c)
{
	cfg_t *dkim = cfg_getsec(cfg, "dkim");
	const char *bad;

	c->dkim.verify = cfg_getbool(dkim, "verify");
	c->dkim.allow_partial_body = cfg_getbool(dkim, "allow_partial_body");
	c->dkim.max_signatures = conf_int(dkim, "dkim", "max_signatures", 1, CONF_MAX_SIGNATURES);
	c->dkim.min_key_bits = conf_int(dkim, "dkim", "min_key_bits", 1024,
	    DKIM_RSA_MAX_BITS);
	if (!conf_canon(cfg_getstr(dkim, "canonicalization"), &c->dkim.header_canon,
	    &c->dkim.body_canon))
		conf_error(conf_line(dkim, "canonicalization"), "dkim.canonicalization",
		    "\"%s\" is not valid; use simple or relaxed for header/body, "
		    "e.g. \"relaxed/relaxed\"", cfg_getstr(dkim, "canonicalization"));
	c->dkim.headers = conf_strlist(dkim, "headers", &c->dkim.n_headers);
	if (!conf_header_names_ok(c->dkim.headers, c->dkim.n_headers, &bad))
		conf_error(conf_line(dkim, "headers"), "dkim.headers",
		    "\"%s\" is not a header field name", bad);
	else if (c->dkim.n_headers > 0) {
		bool from = false;
		for (size_t i = 0; i < c->dkim.n_headers; i++)
			from |= strcasecmp(c->dkim.headers[i], "From") == 0;
		if (!from)
			conf_error(conf_line(dkim, "headers"), "dkim.headers",
			    "must include \"From\" (RFC 6376 §5.4)");
	}
	c->dkim.oversign = conf_strlist(dkim, "oversign", &c->dkim.n_oversign);
	if (!conf_header_names_ok(c->dkim.oversign, c->dkim.n_oversign, &bad))
		conf_error(conf_line(dkim, "oversign"), "dkim.oversign",
		    "\"%s\" is not a header field name", bad);
	c->dkim.expire = conf_int(dkim, "dkim", "expire", 0, 365 * 86400);
	c->dkim.require_safe_keys = cfg_getbool(dkim, "require_safe_keys");
	c->dkim.on_sign_error = conf_action(dkim, "dkim", "on_sign_error",
	    A(ACTION_TEMPFAIL) | A(ACTION_ACCEPT));

	c->dkim.n_keys = cfg_size(dkim, "key");
	c->dkim.keys = xcalloc(c->dkim.n_keys ? c->dkim.n_keys : 1, sizeof(struct conf_key));
	for (size_t i = 0; i < c->dkim.n_keys; i++) {
		cfg_t *ks = cfg_getnsec(dkim, "key", (unsigned)i);
		struct conf_key *k = &c->dkim.keys[i];
		char key[160], domain[256], err[256];

		k->name = xstrdup(cfg_title(ks));
		k->line = ks->line;
		k->selector = xstrdup(cfg_getstr(ks, "selector"));
		k->file = xstrdup(cfg_getstr(ks, "file"));
		k->subdomains = cfg_getbool(ks, "subdomains");
		snprintf(key, sizeof(key), "dkim.key \"%s\"", k->name);
		if (!rfc5322_domain_normalise(cfg_getstr(ks, "domain"), domain, sizeof(domain))) {
			conf_error(k->line, key, "domain \"%s\" is not a domain name",
			    cfg_getstr(ks, "domain"));
			domain[0] = '\0';
		}
		k->domain = xstrdup(domain);
		if (!dns_name_ok(k->selector, DNS_NAME_HEADER))
			conf_error(k->line, key, "selector \"%s\" is not a DNS name: "
			    "labels of letters, digits, '-' and '_' joined by single "
			    "dots", k->selector);
		if (k->file[0] == '\0') {
			conf_error(k->line, key, "file is missing");
			continue;
		}
		k->key = dkim_key_load(k->file, c->dkim.require_safe_keys, err, sizeof(err));
		if (k->key == NULL)
			conf_error(k->line, key, "%s", err);	/* err names the file */
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->dkim.keys[j].domain, k->domain) == 0 &&
			    strcmp(c->dkim.keys[j].selector, k->selector) == 0)
				conf_error(k->line, key, "domain %s selector %s is also key \"%s\"",
				    k->domain, k->selector, c->dkim.keys[j].name);
	}
}

/* conf_keys_directory - dkim.keys_directory is a directory we can read; its
 * files are read with the generation (dkim_keytable.c) */
static void
conf_keys_directory(cfg_t *cfg, struct conf *c)
{
	cfg_t *dkim = cfg_getsec(cfg, "dkim");
	DIR *d;

	c->dkim.keys_directory = xstrdup(cfg_getstr(dkim, "keys_directory"));
	if (c->dkim.keys_directory[0] == '\0')
		return;
	if ((d = opendir(c->dkim.keys_directory)) == NULL)
		conf_error(conf_line(dkim, "keys_directory"), "dkim.keys_directory",
		    "cannot open \"%s\": %m", c->dkim.keys_directory);
	else
		closedir(d);
}

/* conf_duration - a duration option: seconds, or a number with s, m, h or d;
 * at least min, at most ten years */
static long
conf_duration(cfg_t *sec, const char *key, const char *name, long min)
{
	const char *v = cfg_getstr(sec, name);
	char *end;
	long n, unit = 1;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end != v && end[0] != '\0' && end[1] == '\0') {
		switch (*end++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: end--; break;
		}
	}
	if (errno != 0 || end == v || *end != '\0' || !isdigit((unsigned char)v[0]) ||
	    n > CONF_DURATION_MAX / unit || n * unit < min) {
		conf_error(conf_line(sec, name), key, "\"%s\" is not a duration from %ld "
		    "seconds to ten years: seconds, or a number with s, m, h or d "
		    "(e.g. \"90d\")", v, min);
		return min;
	}
	return n * unit;
}

/* conf_rotate - dkim.rotate: what authmilter-keygen --rotate does */
static void
conf_rotate(cfg_t *cfg, struct conf *c)
{
	cfg_t *r = cfg_getsec(cfg_getsec(cfg, "dkim"), "rotate");
	size_t n;
	char **algs = conf_strlist(r, "algorithms", &n);

	c->dkim.rotate.enable = cfg_getbool(r, "enable");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(algs[i], "rsa") == 0)
			c->dkim.rotate.rsa = true;
		else if (strcmp(algs[i], "ed25519") == 0)
			c->dkim.rotate.ed25519 = true;
		else
			conf_error(conf_line(r, "algorithms"), "dkim.rotate.algorithms",
			    "\"%s\" is not rsa or ed25519", algs[i]);
	}
	if (n == 0)
		conf_error(conf_line(r, "algorithms"), "dkim.rotate.algorithms",
		    "name rsa, ed25519 or both");
	conf_strv_free(algs);
	c->dkim.rotate.interval = conf_duration(r, "dkim.rotate.interval", "interval", 3600);
	c->dkim.rotate.publish_wait = conf_duration(r, "dkim.rotate.publish_wait",
	    "publish_wait", 0);
	c->dkim.rotate.retire_after = conf_duration(r, "dkim.rotate.retire_after",
	    "retire_after", 0);
	c->dkim.rotate.rsa_bits = conf_int(r, "dkim.rotate", "rsa_bits", 2048, 8192);
	c->dkim.rotate.publish_private = xstrdup(cfg_getstr(r, "publish_private"));
	if (c->dkim.rotate.publish_private[0] != '\0' &&
	    c->dkim.rotate.publish_private[0] != '/')
		conf_error(conf_line(r, "publish_private"), "dkim.rotate.publish_private",
		    "\"%s\" is not an absolute directory path",
		    c->dkim.rotate.publish_private);
}

/* conf_arc_verify - arc.verify, and arc.trusted_sealers: domain names, kept in
 * lower case for a case-insensitive match with an ARC-Seal's d= */
static void
conf_arc_verify(cfg_t *cfg, struct conf *c)
{
	cfg_t *arc = cfg_getsec(cfg, "arc");

	c->arc.verify = cfg_getbool(arc, "verify");
	c->arc.trusted_sealers = conf_strlist(arc, "trusted_sealers",
	    &c->arc.n_trusted_sealers);
	for (size_t i = 0; i < c->arc.n_trusted_sealers; i++) {
		char *d = c->arc.trusted_sealers[i];

		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!dns_name_ok(d, 0) || strchr(d, '.') == NULL)
			conf_error(conf_line(arc, "trusted_sealers"), "arc.trusted_sealers",
			    "\"%s\" is not a domain name such as \"lists.example.org\"", d);
	}
}

/* conf_metrics - the metrics section: a numeric ADDR:PORT or nothing */
static void
conf_metrics(cfg_t *cfg, struct conf *c)
{
	cfg_t *m = cfg_getsec(cfg, "metrics");
	struct sockaddr_storage sa;
	socklen_t salen;

	c->metrics.listen = xstrdup(cfg_getstr(m, "listen"));
	c->metrics.line = conf_line(m, "listen");
	if (c->metrics.listen[0] != '\0' &&
	    !sockspec_listen_addr(c->metrics.listen, &sa, &salen))
		conf_error(c->metrics.line, "metrics.listen", "\"%s\" is not valid; use "
		    "ADDR:PORT or [ADDR6]:PORT with a numeric address, e.g. "
		    "\"127.0.0.1:9871\"", c->metrics.listen);
}

/* conf_arc_seal - arc.seal and arc.seal_key: the key must be a dkim key section
 * (loaded by conf_dkim, which runs first) */
static void
conf_arc_seal(cfg_t *cfg, struct conf *c)
{
	cfg_t *arc = cfg_getsec(cfg, "arc");
	int line;

	c->arc_seal.seal = cfg_getbool(arc, "seal");
	c->arc_seal.key_name = xstrdup(cfg_getstr(arc, "seal_key"));
	line = conf_line(arc, "seal_key");
	if (line == 0)
		line = conf_line(arc, "seal");
	if (c->arc_seal.key_name[0] == '\0') {
		if (c->arc_seal.seal)
			conf_error(line, "arc.seal_key", "seal = true needs a key: name a "
			    "dkim { key \"NAME\" { ... } } section");
		return;
	}
	for (size_t i = 0; i < c->dkim.n_keys; i++)
		if (strcmp(c->dkim.keys[i].name, c->arc_seal.key_name) == 0)
			c->arc_seal.key = &c->dkim.keys[i];
	if (c->arc_seal.key == NULL) {
		struct buf names = BUF_INIT;

		for (size_t i = 0; i < c->dkim.n_keys; i++)
			buf_printf(&names, "%s\"%s\"", i ? ", " : "", c->dkim.keys[i].name);
		conf_error(line, "arc.seal_key", "\"%s\" is not a dkim key section; use "
		    "one of: %s", c->arc_seal.key_name,
		    names.len ? buf_cstr(&names) : "(none configured)");
		buf_free(&names);
	}
}

/* conf_report_email - email is local@domain with a dot-atom local part (it goes
 * into a From header as is); the domain, normalised, into c */
static void
conf_report_email(struct conf *c)
{
	const char *at = strrchr(c->report.email, '@');
	char domain[256];
	size_t local;

	c->report.email_domain = xstrdup("");
	if (c->report.email[0] == '\0') {
		if (c->report.enable)
			conf_error(c->report.email_line, "report.email", "must be set when "
			    "report.enable is true: the From of report mail, e.g. "
			    "\"dmarc-reports@example.com\" in a domain we sign for");
		return;
	}
	local = at ? (size_t)(at - c->report.email) : 0;
	if (at == NULL || local == 0 || c->report.email[0] == '.' || at[-1] == '.' ||
	    strstr(c->report.email, "..") != NULL ||
	    strspn(c->report.email, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!#$%&'*+-/=?^_`{|}~.") != local ||
	    !rfc5322_domain_normalise(at + 1, domain, sizeof(domain))) {
		conf_error(c->report.email_line, "report.email", "\"%s\" is not an address "
		    "local@domain with a plain (dot-atom) local part", c->report.email);
		return;
	}
	free(c->report.email_domain);
	c->report.email_domain = xstrdup(domain);
}

/* conf_report_keep - report.failure_keep_fields: header field names a failure
 * sample may copy beyond the ones it always carries redacted */
static void
conf_report_keep(cfg_t *r, struct conf *c)
{
	const char *bad;

	c->report.failure_keep = conf_strlist(r, "failure_keep_fields",
	    &c->report.n_failure_keep);
	if (!conf_header_names_ok(c->report.failure_keep, c->report.n_failure_keep, &bad))
		conf_error(conf_line(r, "failure_keep_fields"), "report.failure_keep_fields",
		    "\"%s\" is not a header field name, e.g. { \"Subject\", \"Message-ID\" }",
		    bad);
}

/* conf_report - the report section: a database URI that parses, an address,
 * sane limits; whether we sign for email's domain is checked with the keys
 * (generation_load) */
static void
conf_report(cfg_t *cfg, struct conf *c)
{
	cfg_t *r = cfg_getsec(cfg, "report");
	char why[256];

	c->report.enable = cfg_getbool(r, "enable");
	c->report.database = xstrdup(cfg_getstr(r, "database"));
	if (!conf_database_check(c->report.database, why, sizeof(why))) {
		char *shown = report_uri_mask(c->report.database);

		conf_error(conf_line(r, "database"), "report.database", "\"%s\": %s",
		    shown, why);
		free(shown);
	}
	c->report.org_name = xstrdup(cfg_getstr(r, "org_name"));
	if (c->report.org_name[0] == '\0' && c->authserv_id != NULL) {
		free(c->report.org_name);
		c->report.org_name = xstrdup(c->authserv_id);
	}
	for (const char *p = c->report.org_name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			conf_error(conf_line(r, "org_name"), "report.org_name",
			    "control characters are not allowed");
			break;
		}
	c->report.email = xstrdup(cfg_getstr(r, "email"));
	c->report.email_line = conf_line(r, "email");
	if (c->report.email_line == 0)	/* unset: the line that turned reports on */
		c->report.email_line = conf_line(r, "enable");
	conf_report_email(c);
	c->report.keep_days = conf_int(r, "report", "keep_days", 1, 3650);
	c->report.queue = conf_int(r, "report", "queue", 1, 1000000);
	c->report.sendmail = xstrdup(cfg_getstr(r, "sendmail"));
	if (c->report.sendmail[0] != '/')
		conf_error(conf_line(r, "sendmail"), "report.sendmail", "\"%s\" is not an "
		    "absolute path to a program, e.g. \"/usr/sbin/sendmail -t -oi\"",
		    c->report.sendmail);
	c->report.failure = cfg_getbool(r, "failure");
	c->report.failure_rate = conf_int(r, "report", "failure_rate", 0, 100000);
	conf_report_keep(r, c);
}

/* conf_register_lines - ask libconfuse to tell us where each plain option was set */
static void
conf_register_lines(cfg_t *cfg, const char *prefix, cfg_opt_t *opts)
{
	for (cfg_opt_t *o = opts; o->name != NULL; o++) {
		char path[128];

		snprintf(path, sizeof(path), "%s%s", prefix, o->name);
		if (o->type == CFGT_SEC) {
			if (!(o->flags & CFGF_MULTI)) {
				char sub[160];
				snprintf(sub, sizeof(sub), "%s|", path);
				conf_register_lines(cfg, sub, o->subopts);
			}
			continue;
		}
		cfg_set_validate_func(cfg, path, conf_note_line);
	}
}

/* conf_parse_file - cfg_parse, but libconfuse reads the text with its comments
 * blanked (conf_text.h), so that the lines it reports are the file's own.
 * CFG_FILE_ERROR with errno set when the file cannot be read. */
static int
conf_parse_file(cfg_t *cfg, const char *path)
{
	struct buf raw = BUF_INIT, text = BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f, *mem;
	int rc = CFG_FILE_ERROR, saved;

	if ((f = fopen(path, "r")) == NULL)
		return CFG_FILE_ERROR;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&raw, chunk, n);
	saved = errno;
	if (ferror(f)) {
		fclose(f);
		buf_free(&raw);
		errno = saved;
		return CFG_FILE_ERROR;
	}
	fclose(f);
	conf_text_uncomment(buf_cstr(&raw), raw.len, &text);
	buf_free(&raw);
	/* an empty file: fmemopen refuses a zero-length buffer */
	if (text.len == 0)
		rc = CFG_SUCCESS;
	else if ((mem = fmemopen(text.data, text.len, "r")) != NULL) {
		rc = cfg_parse_fp(cfg, mem);
		fclose(mem);
	}
	saved = errno;
	buf_free(&text);
	errno = saved;
	return rc;
}

/* conf_load - parse and check path; NULL after printing the problems to err */
struct conf *
conf_load(const char *path, FILE *err)
{
	struct conf_parse parse = { .path = path, .err = err };
	struct conf *c = NULL;
	cfg_t *cfg;
	int rc;

	lock_take(&conf_lock);
	conf_parse = &parse;
	cfg = cfg_init(conf_opts, CFGF_NONE);
	if (cfg == NULL) {
		fprintf(err, "%s: cannot initialise the config parser\n", path);
		goto out;
	}
	cfg_set_error_function(cfg, conf_confuse_error);
	conf_register_lines(cfg, "", conf_opts);
	rc = conf_parse_file(cfg, path);
	if (rc == CFG_FILE_ERROR) {
		fprintf(err, "%s: cannot read: %m\n", path);
		goto out;
	}
	if (rc != CFG_SUCCESS || parse.errors > 0) {
		if (parse.errors == 0)
			fprintf(err, "%s: syntax error\n", path);
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	conf_general(cfg, c);
	conf_checks(cfg, c);
	conf_dkim(cfg, c);
	conf_keys_directory(cfg, c);
	conf_rotate(cfg, c);
	conf_arc_seal(cfg, c);
	conf_arc_verify(cfg, c);
	conf_metrics(cfg, c);
	conf_report(cfg, c);
	if (parse.errors > 0) {
		conf_free(c);
		c = NULL;
	}
out:
	if (cfg != NULL)
		cfg_free(cfg);
	free(parse.lines);
	conf_parse = NULL;
	lock_release(&conf_lock);
	return c;
}

/* conf_strv_free - free a NULL-terminated string vector */
static void
conf_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* conf_free - release everything conf_load made; NULL is fine */
void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->socket);
	free(c->user);
	free(c->authserv_id);
	free(c->internal_hosts.v);
	conf_strv_free(c->dns.nameservers);
	free(c->dns.trust_anchor);
	conf_strv_free(c->dkim.headers);
	conf_strv_free(c->dkim.oversign);
	for (size_t i = 0; i < c->dkim.n_keys; i++) {
		free(c->dkim.keys[i].name);
		free(c->dkim.keys[i].domain);
		free(c->dkim.keys[i].selector);
		free(c->dkim.keys[i].file);
		dkim_key_free(c->dkim.keys[i].key);
	}
	free(c->dkim.keys);
	free(c->dkim.keys_directory);
	free(c->dkim.rotate.publish_private);
	free(c->dmarc.public_suffix_list);
	free(c->arc_seal.key_name);
	conf_strv_free(c->arc.trusted_sealers);
	free(c->metrics.listen);
	free(c->report.database);
	free(c->report.org_name);
	free(c->report.email);
	free(c->report.email_domain);
	free(c->report.sendmail);
	conf_strv_free(c->report.failure_keep);
	free(c);
}
