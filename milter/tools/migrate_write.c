/* migrate_write - authmilter-migrate's one writer of milter.conf, its table
 * and its notes for the MTA.
 *
 * migrate_write_conf gives the milter.conf text (caller frees): only settings
 * that differ from authmilter's defaults, each commented with where it came
 * from, plus the checks the old milters did not make, turned off so mail goes
 * on being treated as before (the comment says how to turn them on).
 * migrate_print_table prints one row per setting read, then the notes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate.h"
#include "xalloc.h"

/* migrate_q - a libconfuse quoted string of s */
static void
migrate_q(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* migrate_kv - KEY = "VALUE" on its own line */
static void
migrate_kv(struct buf *b, const char *indent, const char *key, const char *value)
{
	buf_printf(b, "%s%s = ", indent, key);
	migrate_q(b, value);
	buf_putc(b, '\n');
}

/* migrate_kl - KEY = { "A", "B" } */
static void
migrate_kl(struct buf *b, const char *indent, const char *key, const struct migrate_list *l)
{
	buf_printf(b, "%s%s = { ", indent, key);
	for (size_t i = 0; i < l->n; i++) {
		migrate_q(b, l->v[i]);
		buf_puts(b, i + 1 < l->n ? ", " : " ");
	}
	buf_puts(b, "}\n");
}

/* migrate_write_dkim - the dkim section */
static void
migrate_write_dkim(struct buf *b, const struct migrate *m)
{
	buf_puts(b, "\ndkim {\n");
	if (m->dkim_verify == 0 || (m->had_dkimproxy && !m->had_opendkim))
		buf_puts(b, "  verify = false                  # the old milter only signed\n");
	if (m->canonicalization != NULL)
		migrate_kv(b, "  ", "canonicalization", m->canonicalization);
	if (m->headers.n > 0)
		migrate_kl(b, "  ", "headers", &m->headers);
	if (m->oversign.n > 0)
		migrate_kl(b, "  ", "oversign", &m->oversign);
	if (m->expire >= 0)
		buf_printf(b, "  expire = %d\n", m->expire);
	if (m->min_key_bits >= 0)
		buf_printf(b, "  min_key_bits = %d\n", m->min_key_bits);
	if (m->require_safe_keys >= 0)
		buf_printf(b, "  require_safe_keys = %s\n", m->require_safe_keys ? "true" : "false");
	for (size_t i = 0; i < m->n_keys; i++) {
		const struct migrate_key *k = &m->keys[i];

		buf_printf(b, "  key \"%s-%s\" {\n", k->domain, k->selector);
		migrate_kv(b, "    ", "domain", k->domain);
		migrate_kv(b, "    ", "selector", k->selector);
		migrate_kv(b, "    ", "file", k->file);
		if (k->subdomains)
			buf_puts(b, "    subdomains = true\n");
		buf_puts(b, "  }\n");
	}
	buf_puts(b, "}\n");
}

/* migrate_write_checks - spf, dmarc, iprev, arc and report as the old milters
 * acted: what they did not check is off or does not act */
static void
migrate_write_checks(struct buf *b, const struct migrate *m)
{
	bool verify_only_signer = m->had_dkimproxy && !m->had_opendkim && !m->had_opendmarc;

	if (verify_only_signer)
		buf_puts(b, "\niprev { enable = false }             # dkimproxy_out checked nothing\n"
		    "arc { verify = false }\n");
	buf_puts(b, "\nspf {                               # neither milter rejected on SPF\n");
	if (!m->had_opendmarc)
		buf_puts(b, "  enable = false                    # without DMARC, SPF only informed\n");
	buf_puts(b, "  on_fail = \"none\"                  # authmilter's default: reject\n"
	    "  on_temperror = \"none\"             # authmilter's default: tempfail\n}\n");
	buf_puts(b, "\ndmarc {\n");
	if (!m->had_opendmarc)
		buf_puts(b, "  enable = false                    # no OpenDMARC was migrated; "
		    "true checks DMARC (RFC 9989)\n");
	if (m->dmarc_on_reject != NULL)
		migrate_kv(b, "  ", "on_reject", m->dmarc_on_reject);
	if (m->dmarc_on_quarantine != NULL)
		migrate_kv(b, "  ", "on_quarantine", m->dmarc_on_quarantine);
	buf_puts(b, "}\n");
	if (m->report_enable == 1) {
		buf_puts(b, "\nreport {\n  enable = true\n");
		migrate_kv(b, "  ", "email", m->report_email);
		if (m->report_failure == 1)
			buf_puts(b, "  failure = true\n");
		buf_puts(b, "}\n");
	}
}

/* migrate_write_conf - the milter.conf text */
char *
migrate_write_conf(const struct migrate *m)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "# milter.conf written by authmilter-migrate from%s%s%s; see its "
	    "table.\n# Check with `authmilter -n -c FILE`; every key: milter.conf(5).\n\n",
	    m->had_opendkim ? " OpenDKIM" : "", m->had_opendmarc ? " OpenDMARC" : "",
	    m->had_dkimproxy ? " dkimproxy" : "");
	migrate_kv(&b, "", "socket", m->socket ? m->socket : "inet:8891@127.0.0.1");
	if (m->socket_mode != NULL)
		migrate_kv(&b, "", "socket_mode", m->socket_mode);
	if (m->user != NULL)
		migrate_kv(&b, "", "user", m->user);
	if (m->authserv_id != NULL)
		migrate_kv(&b, "", "authserv_id", m->authserv_id);
	if (m->internal_set)
		migrate_kl(&b, "", "internal_hosts", &m->internal_hosts);
	if (m->log_facility != NULL) {
		buf_puts(&b, "\nlog {\n");
		migrate_kv(&b, "  ", "facility", m->log_facility);
		buf_puts(&b, "}\n");
	}
	if (m->nameservers.n > 0 || m->dns_timeout >= 0 || m->trust_anchor != NULL) {
		buf_puts(&b, "\ndns {\n");
		if (m->nameservers.n > 0)
			migrate_kl(&b, "  ", "nameservers", &m->nameservers);
		if (m->dns_timeout >= 0)
			buf_printf(&b, "  timeout = %d\n", m->dns_timeout);
		if (m->trust_anchor != NULL)
			migrate_kv(&b, "  ", "trust_anchor", m->trust_anchor);
		buf_puts(&b, "}\n");
	}
	migrate_write_checks(&b, m);
	migrate_write_dkim(&b, m);
	return buf_steal(&b);
}

/* migrate_postfix_name - a socket as main.cf names it: inet:HOST:PORT, and a
 * unix socket under Postfix's queue directory relative to it (chrooted or not) */
static void
migrate_postfix_name(struct buf *b, const char *spec)
{
	static const char spool[] = "/var/spool/postfix/";
	const char *at;

	if (strncmp(spec, "unix:", 5) == 0)
		buf_printf(b, "unix:%s", strncmp(spec + 5, spool, sizeof(spool) - 1) == 0 ?
		    spec + 5 + sizeof(spool) - 1 : spec + 5);
	else if ((at = strchr(spec, '@')) != NULL)
		buf_printf(b, "inet:%s:%.*s", at + 1, (int)(at - spec - 5), spec + 5);
	else
		buf_puts(b, spec);
}

/* migrate_print_notes - what the MTA needs */
static void
migrate_print_notes(const struct migrate *m, FILE *fp)
{
	struct buf ours = BUF_INIT, old = BUF_INIT;
	const char *sock = m->socket ? m->socket : "inet:8891@127.0.0.1";

	migrate_postfix_name(&ours, sock);
	if (m->other_socket != NULL) {
		migrate_postfix_name(&old, m->other_socket);
		fprintf(fp, "\nOne milter instead of two: authmilter listens on %s's socket. "
		    "Remove %s's %s from the MTA:\n"
		    "  postconf -e 'smtpd_milters = %s' 'non_smtpd_milters = %s'\n"
		    "  (before: %s's and %s's sockets, e.g. smtpd_milters = %s, %s)\n",
		    m->socket_from, "OpenDMARC", buf_cstr(&old), buf_cstr(&ours),
		    buf_cstr(&ours), m->socket_from, "OpenDMARC", buf_cstr(&ours),
		    buf_cstr(&old));
	} else if (m->socket == NULL)
		fprintf(fp, "\nPostfix: remove the dkimproxy content_filter (master.cf "
		    "`-o content_filter=dksign:[127.0.0.1]:10027` and the dksign and "
		    "127.0.0.1:10028 services), then:\n"
		    "  postconf -e 'smtpd_milters = %s' 'non_smtpd_milters = %s'\n"
		    "OpenSMTPD speaks no milter protocol: authmilter needs Postfix or Sendmail "
		    "in front.\n", buf_cstr(&ours), buf_cstr(&ours));
	fprintf(fp, "\nIf main.cf has milter_default_action = accept (the guides' setting), "
	    "mail passes unsigned and unchecked while the milter is down. Recommended:\n"
	    "  postconf -e 'milter_default_action = tempfail'\n"
	    "milter_protocol = 2 or 6 both work with authmilter: nothing to change.\n");
	if (m->notes.len > 0)
		fprintf(fp, "\n%s", buf_cstr(&m->notes));
	buf_free(&ours);
	buf_free(&old);
}

/* migrate_row_key - a row's place: the order its file was first seen, its line */
static void
migrate_row_key(const struct migrate *m, size_t i, size_t *file, unsigned long *line)
{
	const char *w = m->rows[i].where, *colon = strrchr(w, ':');
	size_t flen = colon ? (size_t)(colon - w) : strlen(w);

	*line = colon ? strtoul(colon + 1, NULL, 10) : 0;
	for (*file = 0; *file < i; (*file)++)
		if (strncmp(m->rows[*file].where, w, flen) == 0 &&
		    m->rows[*file].where[flen] == ':')
			break;
}

/* migrate_print_table - every row in file and line order, then the notes */
void
migrate_print_table(const struct migrate *m, FILE *fp)
{
	static const char *label[] = { "mapped", "not needed", "NOT SUPPORTED", "UNKNOWN" };
	size_t *order = xcalloc(m->n_rows ? m->n_rows : 1, sizeof(*order));

	for (size_t i = 0; i < m->n_rows; i++) {	/* insertion sort: stable, small n */
		size_t f, j = i, fj;
		unsigned long l, lj;

		migrate_row_key(m, i, &f, &l);
		while (j > 0 && (migrate_row_key(m, order[j - 1], &fj, &lj),
		    fj > f || (fj == f && lj > l))) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t i = 0; i < m->n_rows; i++) {
		const struct migrate_row *r = &m->rows[order[i]];

		fprintf(fp, "%s: %s\n    %s: %s\n", r->where, r->setting, label[r->status],
		    r->text);
	}
	free(order);
	migrate_print_notes(m, fp);
}

/* migrate_needs_operator - some row is neither mapped nor not needed */
bool
migrate_needs_operator(const struct migrate *m)
{
	for (size_t i = 0; i < m->n_rows; i++)
		if (m->rows[i].status == MIGRATE_NOT_SUPPORTED ||
		    m->rows[i].status == MIGRATE_UNKNOWN)
			return true;
	return false;
}
