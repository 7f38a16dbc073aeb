/* migrate_opendmarc - authmilter-migrate's reader of opendmarc.conf(5).
 *
 * migrate_opendmarc maps each setting to a row. OpenDMARC accepted failing
 * mail unless RejectFailures (p=reject) or HoldQuarantinedMessages
 * (p=quarantine) said otherwise, so dmarc.on_reject and dmarc.on_quarantine
 * start at "none" and those settings raise them. Its socket, when OpenDKIM's
 * was read first, is the one to retire from the MTA.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate.h"
#include "xalloc.h"

/* migrate_odmarc - what is mapped once the file is read */
struct migrate_odmarc {
	char	*history_at;
	char	*failure_at;
	int	 failure;
};

/* migrate_odmarc_plain - settings that need nothing; false for the others */
static bool
migrate_odmarc_plain(struct migrate *m, const char *where, const char *key,
    const char *value)
{
	static const struct { const char *name, *why; } plain[] = {
		{ "AutoRestart", "systemd restarts authmilter (Restart=on-failure)" },
		{ "AutoRestartRate", "systemd restarts authmilter" },
		{ "Background", "authmilter runs in the foreground under systemd" },
		{ "PidFile", "systemd tracks the process; no pid file" },
		{ "Syslog", "authmilter always logs to syslog" },
		{ "SyslogFacility", "log.facility (OpenDKIM's, if both set one)" },
		{ "UMask", "socket_mode follows the socket's own milter" },
		{ "SPFSelfValidate", "authmilter evaluates SPF itself" },
		{ "SPFIgnoreResults", "authmilter evaluates SPF itself and reads no "
		    "earlier Received-SPF" },
		{ "TrustedAuthservIDs", "authmilter checks SPF and DKIM itself and reads no "
		    "earlier Authentication-Results (it deletes those with its own authserv-id)" },
		{ "IgnoreAuthenticatedClients", "SASL-authenticated clients are outbound in "
		    "authmilter: signed, not checked" },
		{ "PublicSuffixList", "organizational domains come from RFC 9989's DNS tree "
		    "walk; dmarc.discovery = \"psl\" keeps RFC 7489's list" },
		{ "RequiredHeaders", "mail without a From, or with several, is refused "
		    "(dmarc.missing_from, dmarc.multiple_from)" },
	};

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcasecmp(plain[i].name, key) == 0) {
			migrate_row(m, where, plain[i].name, value, MIGRATE_NOT_NEEDED, "%s",
			    plain[i].why);
			return true;
		}
	return false;
}

/* migrate_odmarc_action - RejectFailures / HoldQuarantinedMessages */
static void
migrate_odmarc_action(struct migrate *m, const char *where, const char *key,
    const char *value, bool reject)
{
	int b = migrate_bool(value);

	if (b < 0) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED, "want true or false");
		return;
	}
	if (reject)
		m->dmarc_on_reject = b ? "reject" : "none";
	else
		m->dmarc_on_quarantine = b ? "quarantine" : "none";
	migrate_row(m, where, key, value, MIGRATE_MAPPED, "dmarc.%s = \"%s\"",
	    reject ? "on_reject" : "on_quarantine", reject ? m->dmarc_on_reject :
	    m->dmarc_on_quarantine);
}

/* migrate_odmarc_setting - one opendmarc.conf line */
static bool
migrate_odmarc_setting(struct migrate *m, const char *where, const char *key,
    const char *value, void *ctx)
{
	struct migrate_odmarc *o = ctx;

	if (strcasecmp(key, "Socket") == 0)
		migrate_socket(m, where, key, value, "OpenDMARC");
	else if (strcasecmp(key, "RejectFailures") == 0)
		migrate_odmarc_action(m, where, key, value, true);
	else if (strcasecmp(key, "HoldQuarantinedMessages") == 0)
		migrate_odmarc_action(m, where, key, value, false);
	else if (strcasecmp(key, "IgnoreHosts") == 0)
		migrate_hosts(m, where, key, value);
	else if (strcasecmp(key, "AuthservID") == 0) {
		const char *v = strcmp(value, "HOSTNAME") == 0 ? "" : value;

		if (m->authserv_id != NULL && strcmp(m->authserv_id, v) != 0)
			migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
			    "OpenDKIM's AuthservID \"%s\" was kept: one milter has one "
			    "authserv-id", m->authserv_id);
		else {
			free(m->authserv_id);
			m->authserv_id = xstrdup(v);
			migrate_row(m, where, key, value, MIGRATE_MAPPED, "authserv_id = \"%s\"", v);
		}
	} else if (strcasecmp(key, "UserID") == 0) {
		if (m->user == NULL) {
			m->user = xstrndup(value, strcspn(value, ":"));
			migrate_row(m, where, key, value, MIGRATE_MAPPED, "user = \"%s\"", m->user);
		} else
			migrate_row(m, where, key, value, MIGRATE_NOT_NEEDED,
			    "user = \"%s\" from OpenDKIM, which owns the keys", m->user);
	} else if (strcasecmp(key, "HistoryFile") == 0) {
		free(o->history_at);
		o->history_at = xstrdup(where);
		m->report_enable = 1;
	} else if (strcasecmp(key, "FailureReports") == 0) {
		free(o->failure_at);
		o->failure_at = xstrdup(where);
		o->failure = migrate_bool(value) == 1;
	} else if (strcasecmp(key, "FailureReportsSentBy") == 0) {
		free(m->report_email);
		m->report_email = xstrdup(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "report.email");
	} else if (!migrate_odmarc_plain(m, where, key, value))
		migrate_row(m, where, key, value, MIGRATE_UNKNOWN,
		    "not a setting authmilter-migrate knows: check opendmarc.conf(5) and "
		    "milter.conf(5) by hand");
	return true;
}

/* migrate_odmarc_reports - HistoryFile and FailureReports need report.email */
static void
migrate_odmarc_reports(struct migrate *m, struct migrate_odmarc *o)
{
	if (o->history_at != NULL) {
		if (m->report_email == NULL) {
			m->report_enable = -1;
			migrate_row(m, o->history_at, "HistoryFile", NULL, MIGRATE_NOT_SUPPORTED,
			    "aggregate reports: set report { enable = true; email = "
			    "\"dmarc-reports@YOUR.DOMAIN\" } and run authmilter-report daily "
			    "instead of opendmarc-import and opendmarc-reports");
		} else
			migrate_row(m, o->history_at, "HistoryFile", NULL, MIGRATE_MAPPED,
			    "report.enable = true: authmilter records rows itself; run "
			    "authmilter-report daily instead of opendmarc-import/-reports");
	}
	if (o->failure_at != NULL) {
		bool on = o->failure && m->report_enable == 1;

		m->report_failure = on;
		migrate_row(m, o->failure_at, "FailureReports", NULL,
		    on || !o->failure ? MIGRATE_MAPPED : MIGRATE_NOT_SUPPORTED,
		    on || !o->failure ? "report.failure = %s" : "report.failure needs "
		    "report.enable and report.email (see HistoryFile)%s", on ? "true" : "false");
	}
}

/* migrate_opendmarc - read an opendmarc.conf */
bool
migrate_opendmarc(struct migrate *m, const char *path)
{
	struct migrate_odmarc o = { NULL, NULL, 0 };
	bool ok;

	m->had_opendmarc = true;
	m->dmarc_on_reject = "none";		/* OpenDMARC's RejectFailures false */
	m->dmarc_on_quarantine = "none";	/* and HoldQuarantinedMessages false */
	ok = migrate_read_settings(m, path, " \t", migrate_odmarc_setting, &o);
	if (ok)
		migrate_odmarc_reports(m, &o);
	free(o.history_at);
	free(o.failure_at);
	return ok;
}
