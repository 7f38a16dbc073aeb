/* migrate - authmilter-migrate's shared state: what the readers of OpenDKIM,
 * OpenDMARC and dkimproxy settings found, and one row per foreign setting.
 *
 * The readers (migrate_opendkim.c, migrate_opendmarc.c, migrate_dkimproxy.c) fill
 * a struct migrate; migrate_write.c turns it into milter.conf text and prints the
 * table. migrate_read.c holds what they share: the "Key value" file reader, the
 * data set reader (file:, refile:, csl:), key file checks and the rows.
 */
#ifndef AUTHMILTER_MIGRATE_H
#define AUTHMILTER_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum migrate_status {
	MIGRATE_MAPPED,		/* became a milter.conf setting */
	MIGRATE_NOT_NEEDED,	/* authmilter does it another way or needs nothing */
	MIGRATE_NOT_SUPPORTED,	/* the operator has to act: the row says what */
	MIGRATE_UNKNOWN		/* a setting this tool does not know */
};

/* migrate_row - one setting read, and what became of it */
struct migrate_row {
	char			*where;		/* FILE:LINE */
	char			*setting;	/* the foreign name and value */
	enum migrate_status	 status;
	char			*text;		/* what it became, or why not */
};

/* migrate_key - one dkim { key } section */
struct migrate_key {
	char	*domain;
	char	*selector;
	char	*file;
	bool	 subdomains;
};

/* migrate_list - strings in order, owned */
struct migrate_list {
	char	**v;
	size_t	  n;
};

/* migrate_line - one line of a data set or settings file, with where it was */
struct migrate_line {
	char	*where;		/* FILE:LINE, or the setting's place for csl: */
	char	*text;		/* comment and surrounding blanks removed */
};

/* migrate_set - the lines of one data set, owned */
struct migrate_set {
	struct migrate_line *v;
	size_t		     n;
};

/* migrate - everything found; NULL strings and -1 ints keep authmilter's default */
struct migrate {
	char			*socket;	/* milter.conf's socket */
	char			*socket_from;	/* "OpenDKIM", "OpenDMARC", ... */
	char			*other_socket;	/* a second milter's socket to retire */
	char			*socket_mode;
	char			*user;
	char			*authserv_id;
	char			*canonicalization;
	char			*trust_anchor;
	char			*log_facility;
	char			*report_email;
	struct migrate_list	 internal_hosts;
	bool			 internal_set;	/* internal_hosts named by a setting */
	struct migrate_list	 nameservers;
	struct migrate_list	 oversign;
	struct migrate_list	 headers;
	struct migrate_key	*keys;
	size_t			 n_keys;
	int			 dkim_verify;	/* -1: default */
	int			 dkim_sign;	/* 0: OpenDKIM Mode v, no keys */
	int			 min_key_bits;
	int			 expire;
	int			 require_safe_keys;
	int			 dns_timeout;
	bool			 had_opendkim, had_opendmarc, had_dkimproxy;
	const char		*dmarc_on_reject;
	const char		*dmarc_on_quarantine;
	int			 report_enable;
	int			 report_failure;
	struct migrate_row	*rows;
	size_t			 n_rows;
	struct buf		 notes;		/* printed after the table */
};

/* migrate_handler - one "Key value" setting of a file (where is FILE:LINE);
 * false on an error already printed */
typedef bool (*migrate_handler)(struct migrate *m, const char *where,
    const char *key, const char *value, void *ctx);

void	 migrate_init(struct migrate *m);
void	 migrate_free(struct migrate *m);
/* migrate_row - add a row; text is a printf format */
void	 migrate_row(struct migrate *m, const char *where, const char *key,
    const char *value, enum migrate_status st, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void	 migrate_list_add(struct migrate_list *l, const char *s);
bool	 migrate_list_has(const struct migrate_list *l, const char *s);
void	 migrate_list_clear(struct migrate_list *l);
/* migrate_read_settings - each "Key value" line of path to fn; sep is the
 * characters between key and value (" \t" or " \t="); false after a printed error */
bool	 migrate_read_settings(struct migrate *m, const char *path, const char *sep,
    migrate_handler fn, void *ctx);
/* migrate_read_set - the lines of a data set (file:PATH, refile:PATH, csl:A,B, a
 * bare /PATH, or with bare_list a comma list); false after a printed error */
bool	 migrate_read_set(const char *where, const char *spec, bool bare_list,
    struct migrate_set *out, bool *is_re);
void	 migrate_set_free(struct migrate_set *s);
/* migrate_check_key - whether the daemon will load path (through symlinks):
 * NULL if so, else why not (static text in buf) */
const char *migrate_check_key(const char *path, bool require_safe, char *buf, size_t len);
/* migrate_add_key - a dkim key section, once per (domain, selector, file) */
struct migrate_key *migrate_add_key(struct migrate *m, const char *domain,
    const char *selector, const char *file);
/* migrate_hosts - map a hosts data set (InternalHosts, IgnoreHosts) to
 * internal_hosts; rows for what cannot be mapped */
void	 migrate_hosts(struct migrate *m, const char *where, const char *key,
    const char *value);
/* migrate_socket - take a milter socket (OpenDKIM/OpenDMARC form) */
void	 migrate_socket(struct migrate *m, const char *where, const char *key,
    const char *value, const char *from);
/* migrate_bool - yes/no/true/false/1/0 as OpenDKIM reads them; -1 if neither */
int	 migrate_bool(const char *v);

/* migrate_set_canon - a canonicalization value (one word: HEADER/simple) */
void	 migrate_set_canon(struct migrate *m, const char *where, const char *key,
    const char *value);
/* migrate_key_row - a key section for (domain, selector, file), after the
 * daemon's own key checks; the row says what became of the setting */
void	 migrate_key_row(struct migrate *m, const char *where, const char *key,
    const char *value, const char *domain, const char *selector, const char *file,
    bool subdomains);
/* migrate_odkim_tables - KeyTable + SigningTable into key sections */
bool	 migrate_odkim_tables(struct migrate *m, const char *kt, const char *kt_at,
    const char *st, const char *st_at, bool subdomains);

/* migrate_keep - store a copy of value and where (freeing the old ones) */
void	 migrate_keep(char **val, char **at, const char *where, const char *value);
/* migrate_single - key sections from (domains, selector, key file) settings */
void	 migrate_single(struct migrate *m, const char *const names[3], char *const at[3],
    char *const val[3], bool subdomains);

bool	 migrate_opendkim(struct migrate *m, const char *path);
bool	 migrate_opendmarc(struct migrate *m, const char *path);
bool	 migrate_dkimproxy(struct migrate *m, const char *path);

/* migrate_write_conf - milter.conf text (caller frees) */
char	*migrate_write_conf(const struct migrate *m);
/* migrate_print_table - the rows and the notes */
void	 migrate_print_table(const struct migrate *m, FILE *fp);
/* migrate_needs_operator - a row not mapped and not needed */
bool	 migrate_needs_operator(const struct migrate *m);

#endif
