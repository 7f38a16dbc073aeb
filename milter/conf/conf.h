/* conf - milter.conf: the libconfuse schema, validation, and the parsed settings.
 *
 * conf_load reads and validates a file; every problem is reported as
 * "FILE:LINE: key: what is wrong". A struct conf is immutable once loaded and is
 * shared read-only by all sessions of one generation (see generation.h).
 */
#ifndef AUTHMILTER_CONF_H
#define AUTHMILTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cidr.h"
#include "dkim_canon.h"	/* enum dkim_canon */
#include "dmarc.h"	/* enum dmarc_discovery */
#include "result.h"	/* enum action */

struct dkim_key;

struct conf_key {		/* one dkim { key "NAME" { ... } } section */
	char	*name;
	char	*domain;	/* lower case, A-label */
	char	*selector;
	char	*file;
	bool	 subdomains;	/* also sign mail from subdomains of domain */
	int	 line;		/* where the section ends, for messages */
	struct dkim_key *key;	/* loaded and checked by conf_load */
};

struct conf {
	char	*path;			/* the file this was loaded from */

	char	*socket;		/* unix:/path, inet:PORT@HOST, inet6:PORT@[ADDR] */
	bool	 socket_inet;		/* inet: or inet6: (any local user can connect) */
	unsigned socket_mode;		/* for a unix socket */
	char	*user;			/* drop to this user after binding; "" keeps root */
	char	*authserv_id;		/* our name in Authentication-Results */
	struct cidr_list internal_hosts;	/* these clients are outbound */
	bool	 local_submission_sign;	/* a client without an address is outbound */
	enum action on_internal_error;	/* ACTION_TEMPFAIL or ACTION_ACCEPT */
	bool	 dry_run;		/* log rejects and tempfails, accept instead */
	unsigned max_sessions;		/* connections answered; 0: from the fd limit */
	int	 max_sessions_line;	/* where it was set, for messages */
	unsigned session_idle_timeout;	/* s a new connection may send nothing */
	unsigned session_timeout;	/* s a session may be silent between commands */

	struct {
		int	 facility;	/* LOG_MAIL, ... */
		int	 level;		/* LOG_INFO, LOG_DEBUG, ... */
		bool	 to_stderr;	/* mirror every log line to stderr */
	} log;

	struct {
		char	**nameservers;	/* "ADDR" or "ADDR@PORT"; none: resolv.conf */
		size_t	  n_nameservers;
		unsigned  timeout;	/* seconds for one lookup */
		char	 *trust_anchor;	/* DNSSEC root key file; "" disables validation */
	} dns;

	struct {
		bool	 enable;
		enum action on_fail;	/* NONE, REJECT or TEMPFAIL */
		enum action on_temperror; /* NONE or TEMPFAIL */
	} iprev;

	struct {
		bool	 enable;
		bool	 helo;		/* also check the HELO identity */
		bool	 received_spf;	/* add a Received-SPF header */
		enum action on_fail, on_softfail, on_temperror, on_permerror;
	} spf;

	struct {
		/* signing */
		enum dkim_canon header_canon, body_canon;
		char	**headers;	/* names to sign; empty: the RFC 6376 §5.4.1 set */
		size_t	  n_headers;
		char	**oversign;	/* names signed once more than they occur */
		size_t	  n_oversign;
		unsigned  expire;	/* seconds; 0: no x= */
		bool	  require_safe_keys;
		enum action on_sign_error; /* TEMPFAIL or ACCEPT */
		struct conf_key *keys;
		size_t	  n_keys;
		char	 *keys_directory;	/* SELECTOR.DOMAIN.key files; "" : none
						 * (read by dkim_keytable.c) */
		struct {	/* dkim.rotate: authmilter-keygen --rotate */
			bool	  enable;
			bool	  rsa, ed25519;	/* rotate.algorithms */
			long	  interval, publish_wait, retire_after;	/* seconds */
			unsigned  rsa_bits;
			char	 *publish_private;	/* "" : withdrawn keys are deleted */
		} rotate;
		/* verifying */
		bool	  verify;
		unsigned  max_signatures;
		unsigned  min_key_bits;
		bool	  allow_partial_body;	/* l= shorter than the body may pass */
	} dkim;

	struct {
		bool	 enable;
		enum dmarc_discovery discovery;	/* RFC 9989 tree walk, or RFC 7489 PSL */
		char	*public_suffix_list;	/* file; "" uses libpsl's built-in list */
		enum action on_reject;		/* what p=reject becomes: REJECT, QUARANTINE, NONE */
		enum action on_quarantine;	/* QUARANTINE or NONE */
		enum action on_temperror;	/* TEMPFAIL or NONE */
		enum action multiple_from;	/* several From domains: REJECT, TEMPFAIL, NONE */
		enum action missing_from;	/* no From or no domain: REJECT, NONE */
	} dmarc;

	struct {		/* arc { seal, seal_key } (the sealing half of arc { }) */
		bool	 seal;		/* add an ARC set to inbound mail after our checks */
		char	*key_name;	/* arc.seal_key: a dkim { key "NAME" } section */
		const struct conf_key *key;	/* that section; NULL when seal_key is "" */
	} arc_seal;

	struct {
		bool	 verify;		/* validate ARC chains of inbound mail */
		char	**trusted_sealers;	/* ARC-Seal d= whose word may override
						 * a DMARC failure, lower case */
		size_t	  n_trusted_sealers;
	} arc;

	struct {
		char	*listen;	/* "ADDR:PORT" for /metrics; "" disables */
		int	 line;		/* where listen was set, for start-up errors */
	} metrics;

	struct {			/* DMARC aggregate reports (RFC 9990) */
		bool	 enable;	/* record a row per DMARC-evaluated message */
		char	*database;	/* "sqlite:PATH" or "postgresql://..." */
		char	*org_name;	/* reporting organisation; authserv_id when "" */
		char	*email;		/* From of report mail: local@domain */
		char	*email_domain;	/* its domain, normalised; "" when email is "" */
		int	 email_line;	/* where email was set, for generation_load */
		unsigned keep_days;	/* rows older than this are deleted */
		unsigned queue;		/* rows waiting for the writer; more are dropped */
		char	*sendmail;	/* command that sends report mail (authmilter-report) */
		bool	 failure;	/* RFC 9991 failure reports (authmilter-report) */
		unsigned failure_rate;	/* failure reports per organizational domain
					 * per hour */
		char	**failure_keep;	/* more fields a failure sample copies */
		size_t	 n_failure_keep;
	} report;
};

/* conf_load - parse and validate path; NULL after printing every problem to err */
struct conf *conf_load(const char *path, FILE *err);
void	 conf_free(struct conf *c);
/* conf_database_check_fn - checks a report.database URI; false with why in err */
typedef bool (*conf_database_check_fn)(const char *uri, char *err, size_t errlen);
/* conf_set_database_check - how conf_load checks report.database from now on:
 * by default its form alone (report_uri_form_check); generation_load sets
 * report_store_uri_check, which also has libpq parse a PostgreSQL URI, so that
 * authmilter-keygen, which never opens the store, links neither SQLite nor libpq */
void	 conf_set_database_check(conf_database_check_fn fn);

#endif
