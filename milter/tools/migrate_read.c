/* migrate_read - what authmilter-migrate's readers share: rows, lists, the
 * "Key value" settings file reader, data sets (file:, refile:, csl:), key file
 * checks, the hosts and socket mappings.
 *
 * migrate_init/_free own everything in a struct migrate; migrate_read_set fills a
 * migrate_set the caller frees with migrate_set_free.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cidr.h"
#include "dkim_key.h"
#include "migrate.h"
#include "xalloc.h"

/* migrate_init - an empty result: every setting at authmilter's default */
void
migrate_init(struct migrate *m)
{
	memset(m, 0, sizeof(*m));
	m->dkim_verify = -1;
	m->dkim_sign = -1;
	m->min_key_bits = -1;
	m->expire = -1;
	m->require_safe_keys = -1;
	m->dns_timeout = -1;
	m->report_enable = -1;
	m->report_failure = -1;
}

/* migrate_list_add - append a copy of s */
void
migrate_list_add(struct migrate_list *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

/* migrate_list_has - s is in the list (case-insensitive) */
bool
migrate_list_has(const struct migrate_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* migrate_list_clear - free the strings and the array */
void
migrate_list_clear(struct migrate_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* migrate_free - release everything a reader stored */
void
migrate_free(struct migrate *m)
{
	char *strs[] = { m->socket, m->socket_from, m->other_socket, m->socket_mode,
	    m->user, m->authserv_id, m->canonicalization, m->trust_anchor,
	    m->log_facility, m->report_email };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	migrate_list_clear(&m->internal_hosts);
	migrate_list_clear(&m->nameservers);
	migrate_list_clear(&m->oversign);
	migrate_list_clear(&m->headers);
	for (size_t i = 0; i < m->n_keys; i++) {
		free(m->keys[i].domain);
		free(m->keys[i].selector);
		free(m->keys[i].file);
	}
	free(m->keys);
	for (size_t i = 0; i < m->n_rows; i++) {
		free(m->rows[i].where);
		free(m->rows[i].setting);
		free(m->rows[i].text);
	}
	free(m->rows);
	buf_free(&m->notes);
}

/* migrate_row - one row of the table */
void
migrate_row(struct migrate *m, const char *where, const char *key, const char *value,
    enum migrate_status st, const char *fmt, ...)
{
	struct buf setting = BUF_INIT, text = BUF_INIT;
	va_list ap;

	buf_printf(&setting, "%s%s%s", key, value ? " " : "", value ? value : "");
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	m->rows = xreallocarray(m->rows, m->n_rows + 1, sizeof(*m->rows));
	m->rows[m->n_rows].where = xstrdup(where);
	m->rows[m->n_rows].setting = buf_steal(&setting);
	m->rows[m->n_rows].status = st;
	m->rows[m->n_rows].text = buf_steal(&text);
	m->n_rows++;
}

/* migrate_trim - s without leading and trailing blanks, in place */
static char *
migrate_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* migrate_uncomment - cut a '#' comment (OpenDKIM, OpenDMARC and dkimproxy all
 * start one anywhere on a line) and trim */
static char *
migrate_uncomment(char *line)
{
	char *hash = strchr(line, '#');

	if (hash != NULL)
		*hash = '\0';
	return migrate_trim(line);
}

/* migrate_read_settings - each setting line of path to fn */
bool
migrate_read_settings(struct migrate *m, const char *path, const char *sep,
    migrate_handler fn, void *ctx)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, where[4200];
	size_t cap = 0;
	unsigned lineno = 0;
	bool ok = true;

	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return false;
	}
	while (ok && getline(&line, &cap, fp) != -1) {
		char *s = migrate_uncomment(line), *value;
		size_t klen;

		lineno++;
		if (*s == '\0')
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		klen = strcspn(s, sep);
		value = s + klen;
		if (*value != '\0')
			*value++ = '\0';
		value = migrate_trim(value + strspn(value, sep));
		if (*value == '\0') {
			fprintf(stderr, "%s: %s: no value (want \"%s VALUE\")\n", where, s, s);
			ok = false;
		} else
			ok = fn(m, where, s, value, ctx);
	}
	if (ok && ferror(fp)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		ok = false;
	}
	free(line);
	fclose(fp);
	return ok;
}

/* migrate_set_add - one line of a data set */
static void
migrate_set_add(struct migrate_set *s, const char *where, const char *text)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n].where = xstrdup(where);
	s->v[s->n].text = xstrdup(text);
	s->n++;
}

/* migrate_set_free - release the lines */
void
migrate_set_free(struct migrate_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].where);
		free(s->v[i].text);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* migrate_set_list - a comma-separated list given in the setting itself */
static void
migrate_set_list(const char *where, const char *list, struct migrate_set *out)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		t = migrate_trim(t);
		if (*t != '\0')
			migrate_set_add(out, where, t);
	}
	free(copy);
}

/* migrate_set_file - one entry per non-blank line of a data set file */
static bool
migrate_set_file(const char *where, const char *path, struct migrate_set *out)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, at[4200];
	size_t cap = 0;
	unsigned lineno = 0;

	if (fp == NULL) {
		fprintf(stderr, "%s: %s: %s\n", where, path, strerror(errno));
		return false;
	}
	while (getline(&line, &cap, fp) != -1) {
		char *s = migrate_uncomment(line);

		lineno++;
		if (*s == '\0')
			continue;
		snprintf(at, sizeof(at), "%s:%u", path, lineno);
		migrate_set_add(out, at, s);
	}
	free(line);
	fclose(fp);
	return true;
}

/* migrate_read_set - the lines of a data set */
bool
migrate_read_set(const char *where, const char *spec, bool bare_list,
    struct migrate_set *out, bool *is_re)
{
	if (is_re != NULL)
		*is_re = strncmp(spec, "refile:", 7) == 0;
	if (strncmp(spec, "refile:", 7) == 0)
		return migrate_set_file(where, spec + 7, out);
	if (strncmp(spec, "file:", 5) == 0)
		return migrate_set_file(where, spec + 5, out);
	if (strncmp(spec, "csl:", 4) == 0) {
		migrate_set_list(where, spec + 4, out);
		return true;
	}
	if (spec[0] == '/')
		return migrate_set_file(where, spec, out);
	if (bare_list && strchr(spec, ':') == NULL) {
		migrate_set_list(where, spec, out);
		return true;
	}
	fprintf(stderr, "%s: %s: data set type not supported (want file:, refile:, csl: "
	    "or an absolute path; for a database, dump it to a file first)\n", where, spec);
	return false;
}

/* migrate_check_key - the daemon's checks on a key file, through symlinks */
const char *
migrate_check_key(const char *path, bool require_safe, char *buf, size_t len)
{
	struct dkim_key *k = dkim_key_load(path, require_safe, buf, len);

	if (k == NULL)
		return buf;
	dkim_key_free(k);
	return NULL;
}

/* migrate_add_key - a key section, merged with an equal one */
struct migrate_key *
migrate_add_key(struct migrate *m, const char *domain, const char *selector,
    const char *file)
{
	for (size_t i = 0; i < m->n_keys; i++)
		if (strcasecmp(m->keys[i].domain, domain) == 0 &&
		    strcmp(m->keys[i].selector, selector) == 0 &&
		    strcmp(m->keys[i].file, file) == 0)
			return &m->keys[i];
	m->keys = xreallocarray(m->keys, m->n_keys + 1, sizeof(*m->keys));
	m->keys[m->n_keys].domain = xstrdup(domain);
	m->keys[m->n_keys].selector = xstrdup(selector);
	m->keys[m->n_keys].file = xstrdup(file);
	m->keys[m->n_keys].subdomains = false;
	return &m->keys[m->n_keys++];
}

/* migrate_bool - OpenDKIM's boolean spellings */
int
migrate_bool(const char *v)
{
	static const char *yes[] = { "yes", "true", "1", "on", "y", "t" };
	static const char *no[] = { "no", "false", "0", "off", "n", "f" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* migrate_host_add - one entry of a hosts data set: an address or CIDR, or
 * localhost; anything else becomes a row */
static void
migrate_host_add(struct migrate *m, const struct migrate_line *l, const char *key)
{
	struct cidr c;

	if (strcasecmp(l->text, "localhost") == 0) {
		if (!migrate_list_has(&m->internal_hosts, "127.0.0.0/8"))
			migrate_list_add(&m->internal_hosts, "127.0.0.0/8");
		if (!migrate_list_has(&m->internal_hosts, "::1/128"))
			migrate_list_add(&m->internal_hosts, "::1/128");
		migrate_row(m, l->where, key, l->text, MIGRATE_MAPPED,
		    "internal_hosts 127.0.0.0/8, ::1/128");
	} else if (l->text[0] != '!' && cidr_parse(l->text, &c)) {
		if (!migrate_list_has(&m->internal_hosts, l->text))
			migrate_list_add(&m->internal_hosts, l->text);
		migrate_row(m, l->where, key, l->text, MIGRATE_MAPPED, "internal_hosts %s",
		    l->text);
	} else if (l->text[0] == '!')
		migrate_row(m, l->where, key, l->text, MIGRATE_NOT_SUPPORTED,
		    "internal_hosts has no exclusions: list the ranges around it instead");
	else
		migrate_row(m, l->where, key, l->text, MIGRATE_NOT_SUPPORTED,
		    "internal_hosts takes addresses and CIDR ranges, not host names: add "
		    "the address(es) of %s", l->text);
}

/* migrate_hosts - InternalHosts/IgnoreHosts: the data set's ranges join
 * internal_hosts (outbound: signed, not checked; mail from them skips DMARC) */
void
migrate_hosts(struct migrate *m, const char *where, const char *key, const char *value)
{
	struct migrate_set set = { NULL, 0 };

	if (!migrate_read_set(where, value, true, &set, NULL)) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "could not read the data set (see above); set internal_hosts by hand");
		return;
	}
	migrate_row(m, where, key, value, MIGRATE_MAPPED,
	    "internal_hosts: %zu entr%s, one row each", set.n, set.n == 1 ? "y" : "ies");
	if (!m->internal_set) {
		migrate_list_clear(&m->internal_hosts);
		m->internal_set = true;
	}
	for (size_t i = 0; i < set.n; i++)
		migrate_host_add(m, &set.v[i], key);
	migrate_set_free(&set);
}

/* migrate_socket_spec - authmilter's spelling of a libmilter socket: local: is
 * unix:, inet:PORT@localhost is 127.0.0.1 (authmilter binds literal loopback
 * only); NULL when it is not a form authmilter takes (caller frees) */
static char *
migrate_socket_spec(const char *v)
{
	struct buf b = BUF_INIT;
	const char *at;

	if (strncmp(v, "local:", 6) == 0 || strncmp(v, "unix:", 5) == 0) {
		const char *path = strchr(v, ':') + 1;

		if (path[0] != '/')
			return NULL;
		buf_printf(&b, "unix:%s", path);
	} else if (v[0] == '/')
		buf_printf(&b, "unix:%s", v);
	else if (strncmp(v, "inet:", 5) == 0 && (at = strchr(v, '@')) != NULL &&
	    strcasecmp(at + 1, "localhost") == 0)
		buf_printf(&b, "%.*s@127.0.0.1", (int)(at - v), v);
	else if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0)
		buf_puts(&b, v);
	else if (strspn(v, "0123456789") == strlen(v))	/* a bare port */
		buf_printf(&b, "inet:%s@127.0.0.1", v);
	else
		return NULL;
	return buf_steal(&b);
}

/* migrate_socket - the first milter's socket becomes authmilter's (the MTA's
 * smtpd_milters need not change); a second one is to be retired */
void
migrate_socket(struct migrate *m, const char *where, const char *key, const char *value,
    const char *from)
{
	char *spec = migrate_socket_spec(value);

	if (spec == NULL) {
		migrate_row(m, where, key, value, MIGRATE_NOT_SUPPORTED,
		    "not a socket authmilter can listen on (unix:/PATH, inet:PORT@ADDR, "
		    "inet6:PORT@[ADDR]): set socket by hand");
		return;
	}
	if (m->socket == NULL) {
		m->socket = spec;
		m->socket_from = xstrdup(from);
		migrate_row(m, where, key, value, MIGRATE_MAPPED, "socket = \"%s\"%s", spec,
		    strcasestr(value, "@localhost") != NULL ? " (authmilter binds a literal "
		    "address; Postfix's inet:localhost:PORT still reaches it)" :
		    " (the same socket: smtpd_milters need not change)");
		return;
	}
	free(m->other_socket);
	m->other_socket = spec;
	migrate_row(m, where, key, value, MIGRATE_MAPPED,
	    "one milter now: authmilter listens on %s's socket %s; remove this one from "
	    "the MTA (postconf lines below)", m->socket_from, m->socket);
}

/* migrate_keep - remember a setting mapped once the whole file is read */
void
migrate_keep(char **val, char **at, const char *where, const char *value)
{
	free(*val);
	free(*at);
	*val = xstrdup(value);
	*at = xstrdup(where);
}

/* migrate_single - one key section per domain of a (domains, selector, key file)
 * triple; names, at and val are in that order (at NULL: not set) */
void
migrate_single(struct migrate *m, const char *const names[3], char *const at[3],
    char *const val[3], bool subdomains)
{
	struct migrate_set set = { NULL, 0 };

	if (val[0] == NULL || val[1] == NULL || val[2] == NULL) {
		for (size_t i = 0; i < 3; i++)
			if (at[i] != NULL)
				migrate_row(m, at[i], names[i], val[i], MIGRATE_NOT_SUPPORTED,
				    "signing needs %s, %s and %s", names[0], names[1], names[2]);
		return;
	}
	migrate_row(m, at[1], names[1], val[1], MIGRATE_MAPPED,
	    "selector of the %s key sections", names[0]);
	migrate_row(m, at[2], names[2], val[2], MIGRATE_MAPPED,
	    "file of the %s key sections (the key stays where it is)", names[0]);
	if (!migrate_read_set(at[0], val[0], true, &set, NULL)) {
		migrate_row(m, at[0], names[0], val[0], MIGRATE_NOT_SUPPORTED,
		    "could not read the domains (see above)");
		return;
	}
	for (size_t i = 0; i < set.n; i++)
		migrate_key_row(m, set.v[i].where, names[0], set.v[i].text, set.v[i].text,
		    val[1], val[2], subdomains);
	migrate_set_free(&set);
}
