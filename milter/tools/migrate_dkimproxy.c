/* migrate_dkimproxy - authmilter-migrate's reader of dkimproxy_out.conf.
 *
 * dkimproxy_out is an SMTP proxy that only signs: domain, selector and keyfile
 * become key sections (one per domain, the key where it is), signature dkim(c=)
 * or method the canonicalization. Its listen and relay addresses have no
 * counterpart: authmilter is a milter, so the MTA's side changes and the rows
 * and notes say how.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate.h"
#include "xalloc.h"

/* migrate_dkp - domain, selector and keyfile, mapped at the end */
struct migrate_dkp {
	char	*domain, *domain_at, *selector, *selector_at, *keyfile, *keyfile_at;
};

/* migrate_dkp_signature - signature dkim(c=...,a=...) or domainkeys(...) */
static void
migrate_dkp_signature(struct migrate *m, const char *where, const char *key,
    const char *value)
{
	const char *c;

	if (strncasecmp(value, "domainkeys", 10) == 0) {
		migrate_row(m, where, key, value, MIGRATE_NOT_NEEDED,
		    "DomainKeys (RFC 4870) is historic; nothing verifies it any more");
		return;
	}
	if (strncasecmp(value, "dkim", 4) != 0) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "want dkim(...) or domainkeys(...)");
		return;
	}
	if ((c = strstr(value, "c=")) != NULL) {
		char canon[64];

		snprintf(canon, sizeof(canon), "%.*s", (int)strcspn(c + 2, ",)"), c + 2);
		migrate_set_canon(m, where, key, canon);
	} else
		migrate_row(m, where, key, value, MIGRATE_MAPPED,
		    "DKIM signing (the domain key sections)");
}

/* migrate_dkp_setting - one dkimproxy_out.conf line */
static bool
migrate_dkp_setting(struct migrate *m, const char *where, const char *key,
    const char *value, void *ctx)
{
	static const char *plain[] = { "daemonize", "pidfile", "min_servers", "max_servers",
	    "min_spare_servers", "max_spare_servers", "group" };
	struct migrate_dkp *d = ctx;

	if (strcasecmp(key, "domain") == 0)
		migrate_keep(&d->domain, &d->domain_at, where, value);
	else if (strcasecmp(key, "selector") == 0)
		migrate_keep(&d->selector, &d->selector_at, where, value);
	else if (strcasecmp(key, "keyfile") == 0)
		migrate_keep(&d->keyfile, &d->keyfile_at, where, value);
	else if (strcasecmp(key, "signature") == 0)
		migrate_dkp_signature(m, where, key, value);
	else if (strcasecmp(key, "method") == 0)
		migrate_set_canon(m, where, key, value);
	else if (strcasecmp(key, "user") == 0) {
		free(m->user);
		m->user = xstrdup(value);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "user = \"%s\" (it owns "
		    "the key, which a reload re-reads as this user)", value);
	} else if (strcasecmp(key, "listen") == 0 || strcasecmp(key, "relay") == 0)
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "dkimproxy is an SMTP proxy, authmilter a milter: remove the %s hop from "
		    "the MTA and add the milter (notes below)", key);
	else if (strcasecmp(key, "sender_map") == 0)
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "per-sender signing: give each domain its own key section (milter.conf(5))");
	else {
		for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
			if (strcasecmp(key, plain[i]) == 0) {
				migrate_row(m, where, key, value, MIGRATE_NOT_NEEDED,
				    "authmilter runs under systemd with its own threads");
				return true;
			}
		migrate_row(m, where, key, value, MIGRATE_UNKNOWN,
		    "not a setting authmilter-migrate knows: check it by hand");
	}
	return true;
}

/* migrate_dkp_keys - one key section per domain */
static void
migrate_dkp_keys(struct migrate *m, struct migrate_dkp *d)
{
	static const char *const names[3] = { "domain", "selector", "keyfile" };
	char *const at[3] = { d->domain_at, d->selector_at, d->keyfile_at };
	char *const val[3] = { d->domain, d->selector, d->keyfile };

	migrate_single(m, names, at, val, false);
}

/* migrate_dkimproxy - read a dkimproxy_out.conf */
bool
migrate_dkimproxy(struct migrate *m, const char *path)
{
	struct migrate_dkp d;
	bool ok;

	memset(&d, 0, sizeof(d));
	m->had_dkimproxy = true;
	ok = migrate_read_settings(m, path, " \t", migrate_dkp_setting, &d);
	if (ok)
		migrate_dkp_keys(m, &d);
	free(d.domain), free(d.domain_at), free(d.selector), free(d.selector_at);
	free(d.keyfile), free(d.keyfile_at);
	return ok;
}
