/* migrate_opendkim - authmilter-migrate's reader of opendkim.conf(5).
 *
 * migrate_opendkim reads the settings, maps each to a row (migrate_read.c), and
 * at the end builds the key sections: from Domain/KeyFile/Selector, or from
 * KeyTable + SigningTable. A SigningTable pattern maps to authmilter's model —
 * a key signs mail whose From is its domain, and with subdomains = true every
 * name under it — when it is *@DOMAIN (or DOMAIN) or *@*.DOMAIN (or .DOMAIN)
 * and the key's d= is DOMAIN; anything else (one address, another d=, a
 * catch-all) is reported as not supported.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate.h"
#include "xalloc.h"

/* migrate_odkim - the settings mapped only once the whole file is read */
struct migrate_odkim {
	char	*domain, *domain_at;
	char	*keyfile, *keyfile_at;
	char	*selector, *selector_at;
	char	*keytable, *keytable_at;
	char	*signingtable, *signingtable_at;
	int	 subdomains;
};

struct migrate_simple {
	const char		*name;
	enum migrate_status	 status;
	const char		*why;
};

/* Settings that need nothing in milter.conf, or cannot be carried over. */
static const struct migrate_simple migrate_odkim_simple[] = {
	{ "AutoRestart", MIGRATE_NOT_NEEDED, "systemd restarts authmilter (Restart=on-failure)" },
	{ "AutoRestartCount", MIGRATE_NOT_NEEDED, "systemd restarts authmilter" },
	{ "AutoRestartRate", MIGRATE_NOT_NEEDED, "systemd restarts authmilter" },
	{ "Background", MIGRATE_NOT_NEEDED, "authmilter runs in the foreground under systemd" },
	{ "PidFile", MIGRATE_NOT_NEEDED, "systemd tracks the process; no pid file" },
	{ "Syslog", MIGRATE_NOT_NEEDED, "authmilter always logs to syslog (log.facility)" },
	{ "SyslogSuccess", MIGRATE_NOT_NEEDED, "authmilter logs one line per message" },
	{ "LogWhy", MIGRATE_NOT_NEEDED, "the log line carries each result and its reason" },
	{ "LogResults", MIGRATE_NOT_NEEDED, "the log line carries each result" },
	{ "ExternalIgnoreList", MIGRATE_NOT_NEEDED,
	    "authmilter does not warn about outside hosts sending as a signing domain; "
	    "DMARC decides" },
	{ "AlwaysAddARHeader", MIGRATE_NOT_NEEDED,
	    "authmilter always adds Authentication-Results to inbound mail" },
	{ "TemporaryDirectory", MIGRATE_NOT_NEEDED, "bodies are streamed; no temporary files" },
	{ "MultipleSignatures", MIGRATE_NOT_NEEDED, "every key of the From domain signs" },
	{ "SoftwareHeader", MIGRATE_NOT_NEEDED, "authmilter adds no software header" },
	{ "RemoveOldSignatures", MIGRATE_NOT_SUPPORTED,
	    "authmilter keeps earlier signatures (a forwarder's are evidence for ARC)" },
	{ "SendReports", MIGRATE_NOT_SUPPORTED,
	    "authmilter sends no RFC 6651 DKIM failure reports; DMARC failure reports: "
	    "report.failure" },
	{ "ReportAddress", MIGRATE_NOT_SUPPORTED, "see SendReports; DMARC reports: report.email" },
	{ "PeerList", MIGRATE_NOT_SUPPORTED,
	    "authmilter has no skip list: list these clients in internal_hosts if they are "
	    "yours" },
	{ "ResolverConfiguration", MIGRATE_NOT_SUPPORTED,
	    "set dns.nameservers and dns.trust_anchor instead" },
};

/* migrate_simple_row - a row for a setting of a migrate_simple table; false if
 * the setting is not in it */
static bool
migrate_simple_row(struct migrate *m, const struct migrate_simple *t, size_t n,
    const char *where, const char *key, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, key) == 0) {
			migrate_row(m, where, t[i].name, value, t[i].status, "%s", t[i].why);
			return true;
		}
	return false;
}

/* migrate_odkim_number - an integer setting into *out, with a row */
static void
migrate_odkim_number(struct migrate *m, const char *where, const char *key,
    const char *value, int *out, const char *name, long lo, long hi)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (*end != '\0' || end == value || v < lo || v > hi) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "%s takes %ld..%ld: set it by hand", name, lo, hi);
		return;
	}
	*out = (int)v;
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "%s = %ld", name, v);
}

/* migrate_canon - OpenDKIM/dkimproxy canonicalization: one word is header/simple
 * (RFC 6376 §3.5); NULL for anything else */
static char *
migrate_canon(const char *v)
{
	static const char *ok[] = { "simple/simple", "simple/relaxed", "relaxed/simple",
	    "relaxed/relaxed" };

	if (strcasecmp(v, "simple") == 0 || strcasecmp(v, "relaxed") == 0) {
		char out[32];

		snprintf(out, sizeof(out), "%s/simple", strcasecmp(v, "simple") == 0 ?
		    "simple" : "relaxed");
		return xstrdup(out);
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(v, ok[i]) == 0)
			return xstrdup(ok[i]);
	return NULL;
}

/* migrate_set_canon - map a canonicalization value */
void
migrate_set_canon(struct migrate *m, const char *where, const char *key, const char *value)
{
	char *c = migrate_canon(value);

	if (c == NULL) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "want simple or relaxed, or HEADER/BODY of those");
		return;
	}
	free(m->canonicalization);
	m->canonicalization = c;
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "dkim.canonicalization = \"%s\"", c);
}

/* migrate_odkim_list - a data set setting into a list (Nameservers,
 * OversignHeaders, SignHeaders) */
static void
migrate_odkim_list(struct migrate *m, const char *where, const char *key,
    const char *value, struct migrate_list *out, const char *name)
{
	struct migrate_set set = { NULL, 0 };

	if (!migrate_read_set(where, value, true, &set, NULL)) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "could not read it (see above): set %s by hand", name);
		return;
	}
	migrate_list_clear(out);
	for (size_t i = 0; i < set.n; i++)
		migrate_list_add(out, set.v[i].text);
	migrate_set_free(&set);
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "%s (%zu entries)", name, out->n);
}

/* migrate_odkim_oversign - OversignHeaders: authmilter's default set already
 * oversigns the usual fields; only others need the setting */
static void
migrate_odkim_oversign(struct migrate *m, const char *where, const char *key,
    const char *value)
{
	static const char *dflt[] = { "From", "Subject", "Date", "To", "Cc", "Reply-To",
	    "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding" };
	struct migrate_list d = { NULL, 0 };
	bool all = true;

	migrate_odkim_list(m, where, key, value, &m->oversign, "dkim.oversign");
	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
		migrate_list_add(&d, dflt[i]);
	for (size_t i = 0; i < m->oversign.n; i++)
		all = all && migrate_list_has(&d, m->oversign.v[i]);
	if (all) {
		migrate_list_clear(&m->oversign);
		m->rows[m->n_rows - 1].status = MIGRATE_NOT_NEEDED;
		free(m->rows[m->n_rows - 1].text);
		m->rows[m->n_rows - 1].text = xstrdup("authmilter's default dkim.oversign "
		    "already has these (and more)");
	} else {
		for (size_t i = 0; i < d.n; i++)
			if (!migrate_list_has(&m->oversign, d.v[i]))
				migrate_list_add(&m->oversign, d.v[i]);
	}
	migrate_list_clear(&d);
}

/* migrate_odkim_mode - Mode s, v or sv */
static void
migrate_odkim_mode(struct migrate *m, const char *where, const char *key, const char *value)
{
	bool s = strchr(value, 's') != NULL, v = strchr(value, 'v') != NULL;

	if (strspn(value, "sv") != strlen(value)) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED, "want s, v or sv");
		return;
	}
	m->dkim_verify = v;
	m->dkim_sign = s;
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "%s%s", s ? "" :
	    "no key sections (verify only); ", v ? "dkim.verify = true" :
	    "dkim.verify = false");
}

/* migrate_odkim_user - UserID: authmilter re-reads the keys as this user on reload */
static void
migrate_odkim_user(struct migrate *m, const char *where, const char *key, const char *value)
{
	size_t n = strcspn(value, ":");

	free(m->user);
	m->user = xstrndup(value, n);
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "user = \"%s\" (it owns the keys, "
	    "which a reload re-reads as this user)", m->user);
}

/* migrate_odkim_umask - UMask: the socket's permissions */
static void
migrate_odkim_umask(struct migrate *m, const char *where, const char *key, const char *value)
{
	char *end, mode[8];
	unsigned long u = strtoul(value, &end, 8);

	if (*end != '\0' || u > 0777) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "not an octal umask: set socket_mode by hand");
		return;
	}
	snprintf(mode, sizeof(mode), "0%03lo", 0666 & ~u);
	free(m->socket_mode);
	m->socket_mode = xstrdup(mode);
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "socket_mode = \"%s\"", mode);
}

/* migrate_odkim_on - On-*: authmilter's DKIM results go to DMARC, not to actions */
static void
migrate_odkim_on(struct migrate *m, const char *where, const char *key, const char *value)
{
	if (strcasecmp(value, "accept") == 0 || strcasecmp(value, "a") == 0)
		migrate_row(m, where, key, value, MIGRATE_NOT_NEEDED,
		    "authmilter accepts here too; DMARC decides");
	else if ((strcasecmp(key, "On-InternalError") == 0 ||
	    strcasecmp(key, "On-Default") == 0) &&
	    (strcasecmp(value, "tempfail") == 0 || strcasecmp(value, "t") == 0))
		migrate_row(m, where, key, value, MIGRATE_NOT_NEEDED,
		    "on_internal_error = \"tempfail\" is authmilter's default");
	else
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "authmilter acts on DMARC, SPF and iprev verdicts, not on single DKIM "
		    "results: see milter.conf(5) dmarc.on_reject");
}

/* migrate_odkim_misc - settings with a direct milter.conf counterpart; false if
 * key is not one of them */
static bool
migrate_odkim_misc(struct migrate *m, const char *where, const char *key, const char *value)
{
	if (strcasecmp(key, "AuthservID") == 0) {
		free(m->authserv_id);
		m->authserv_id = xstrdup(strcmp(value, "HOSTNAME") == 0 ? "" : value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "authserv_id = \"%s\"",
		    m->authserv_id);
	} else if (strcasecmp(key, "TrustAnchorFile") == 0) {
		free(m->trust_anchor);
		m->trust_anchor = xstrdup(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "dns.trust_anchor");
	} else if (strcasecmp(key, "SyslogFacility") == 0) {
		free(m->log_facility);
		m->log_facility = xstrdup(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "log.facility");
	} else if (strcasecmp(key, "RequireSafeKeys") == 0 && migrate_bool(value) >= 0) {
		m->require_safe_keys = migrate_bool(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "dkim.require_safe_keys");
	} else if (strcasecmp(key, "DNSTimeout") == 0)
		migrate_odkim_number(m, where, key, value, &m->dns_timeout, "dns.timeout", 1, 60);
	else if (strcasecmp(key, "MinimumKeyBits") == 0)
		migrate_odkim_number(m, where, key, value, &m->min_key_bits,
		    "dkim.min_key_bits", 512, 16384);
	else if (strcasecmp(key, "SignatureTTL") == 0)
		migrate_odkim_number(m, where, key, value, &m->expire, "dkim.expire", 0,
		    0x7fffffff);
	else if (strcasecmp(key, "Nameservers") == 0)
		migrate_odkim_list(m, where, key, value, &m->nameservers, "dns.nameservers");
	else if (strcasecmp(key, "SignHeaders") == 0)
		migrate_odkim_list(m, where, key, value, &m->headers, "dkim.headers");
	else if (strcasecmp(key, "SignatureAlgorithm") == 0)
		migrate_row(m, where, key, value, strcasecmp(value, "rsa-sha256") == 0 ?
		    MIGRATE_NOT_NEEDED : MIGRATE_NOT_SUPPORTED,
		    "the algorithm follows the key: RSA signs rsa-sha256");
	else
		return false;
	return true;
}

/* migrate_odkim_setting - one opendkim.conf line */
static bool
migrate_odkim_setting(struct migrate *m, const char *where, const char *key,
    const char *value, void *ctx)
{
	struct migrate_odkim *o = ctx;

	if (strcasecmp(key, "Domain") == 0)
		migrate_keep(&o->domain, &o->domain_at, where, value);
	else if (strcasecmp(key, "KeyFile") == 0)
		migrate_keep(&o->keyfile, &o->keyfile_at, where, value);
	else if (strcasecmp(key, "Selector") == 0)
		migrate_keep(&o->selector, &o->selector_at, where, value);
	else if (strcasecmp(key, "KeyTable") == 0)
		migrate_keep(&o->keytable, &o->keytable_at, where, value);
	else if (strcasecmp(key, "SigningTable") == 0)
		migrate_keep(&o->signingtable, &o->signingtable_at, where, value);
	else if (strcasecmp(key, "SubDomains") == 0 && migrate_bool(value) >= 0) {
		o->subdomains = migrate_bool(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED,
		    "subdomains = %s in every key section", o->subdomains ? "true" : "false");
	} else if (strcasecmp(key, "Socket") == 0)
		migrate_socket(m, where, key, value, "OpenDKIM");
	else if (strcasecmp(key, "InternalHosts") == 0)
		migrate_hosts(m, where, key, value);
	else if (strcasecmp(key, "Canonicalization") == 0)
		migrate_set_canon(m, where, key, value);
	else if (strcasecmp(key, "OversignHeaders") == 0)
		migrate_odkim_oversign(m, where, key, value);
	else if (strcasecmp(key, "Mode") == 0)
		migrate_odkim_mode(m, where, key, value);
	else if (strcasecmp(key, "UserID") == 0)
		migrate_odkim_user(m, where, key, value);
	else if (strcasecmp(key, "UMask") == 0)
		migrate_odkim_umask(m, where, key, value);
	else if (strncasecmp(key, "On-", 3) == 0)
		migrate_odkim_on(m, where, key, value);
	else if (!migrate_odkim_misc(m, where, key, value) &&
	    !migrate_simple_row(m, migrate_odkim_simple, sizeof(migrate_odkim_simple) /
	    sizeof(migrate_odkim_simple[0]), where, key, value))
		migrate_row(m, where, key, value, MIGRATE_UNKNOWN,
		    "not a setting authmilter-migrate knows: check opendkim.conf(5) and "
		    "milter.conf(5) by hand");
	return true;
}

/* migrate_key_row - a key section after the daemon's key checks, and its row */
void
migrate_key_row(struct migrate *m, const char *where, const char *key, const char *value,
    const char *domain, const char *selector, const char *file, bool subdomains)
{
	char why[512];
	const char *bad = migrate_check_key(file, m->require_safe_keys != 0, why, sizeof(why));
	struct migrate_key *k = migrate_add_key(m, domain, selector, file);

	k->subdomains = k->subdomains || subdomains;
	if (bad != NULL)
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "dkim key \"%s-%s\" (d=%s s=%s%s), but the daemon will refuse the key: %s",
		    domain, selector, domain, selector, subdomains ? ", subdomains" : "", bad);
	else
		migrate_row(m, where, key, value, MIGRATE_MAPPED,
		    "dkim key \"%s-%s\": d=%s s=%s file=%s%s", domain, selector, domain,
		    selector, file, subdomains ? ", subdomains = true" : "");
}

/* migrate_odkim_single - Domain, Selector and KeyFile: one key per domain */
static void
migrate_odkim_single(struct migrate *m, struct migrate_odkim *o)
{
	static const char *const names[3] = { "Domain", "Selector", "KeyFile" };
	char *const at[3] = { o->domain_at, o->selector_at, o->keyfile_at };
	char *const val[3] = { o->domain, o->selector, o->keyfile };

	migrate_single(m, names, at, val, o->subdomains > 0);
}

/* migrate_opendkim - read an opendkim.conf and everything it points to */
bool
migrate_opendkim(struct migrate *m, const char *path)
{
	struct migrate_odkim o;
	bool ok;

	memset(&o, 0, sizeof(o));
	o.subdomains = -1;
	m->had_opendkim = true;
	ok = migrate_read_settings(m, path, " \t", migrate_odkim_setting, &o);
	if (ok && m->dkim_sign != 0) {
		if (o.keytable != NULL || o.signingtable != NULL) {
			const char *at[] = { o.domain_at, o.keyfile_at, o.selector_at };
			const char *val[] = { o.domain, o.keyfile, o.selector };
			const char *name[] = { "Domain", "KeyFile", "Selector" };

			for (size_t i = 0; i < 3; i++)
				if (at[i] != NULL)
					migrate_row(m, at[i], name[i], val[i], MIGRATE_NOT_NEEDED,
					    "KeyTable and SigningTable choose the keys");
			ok = migrate_odkim_tables(m, o.keytable, o.keytable_at, o.signingtable,
			    o.signingtable_at, o.subdomains > 0);
		} else
			migrate_odkim_single(m, &o);
	}
	free(o.domain), free(o.domain_at), free(o.keyfile), free(o.keyfile_at);
	free(o.selector), free(o.selector_at), free(o.keytable), free(o.keytable_at);
	free(o.signingtable), free(o.signingtable_at);
	return ok;
}
