/* milter_client - the MTA side of the milter protocol (version 6), as Postfix speaks it.
 *
 * Used by the integration tests (through miltc) and by the load generator: no global
 * state, one struct mc_conn per connection, each used by one thread at a time.
 */
#ifndef AUTHMILTER_MILTER_CLIENT_H
#define AUTHMILTER_MILTER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Largest body chunk sent in one SMFIC_BODY packet (libmilter's MILTER_CHUNK_SIZE). */
#define MC_CHUNK_SIZE 65535
/* Largest packet accepted from the milter; libmilter's own limit is 1 MiB of data. */
#define MC_MAX_PACKET (1024 * 1024 + 16)
/* Most modification actions kept per message; more make the message a protocol error. */
#define MC_MAX_MODS 10000
/* Read/write timeout when the caller gives 0. */
#define MC_DEFAULT_TIMEOUT_MS 30000

/* How folded header values go over the wire: line breaks inside the value. */
enum mc_fold {
	MC_FOLD_LF,  /* "\n" between lines, as Postfix sends them (default) */
	MC_FOLD_CRLF /* "\r\n" between lines, as Sendmail sends them */
};

/* The final verdict for one message. REPLYCODE maps by its first digit. */
enum mc_action {
	MC_ACCEPT, /* SMFIR_ACCEPT or SMFIR_CONTINUE at the end */
	MC_REJECT,
	MC_TEMPFAIL,
	MC_DISCARD
};

/* The protocol step at which the final reply came. */
enum mc_step {
	MC_STEP_CONNECT,
	MC_STEP_HELO,
	MC_STEP_MAIL,
	MC_STEP_RCPT,
	MC_STEP_DATA,
	MC_STEP_HEADER,
	MC_STEP_EOH,
	MC_STEP_BODY,
	MC_STEP_EOM
};

enum mc_mod_kind {
	MC_MOD_ADD,    /* SMFIR_ADDHEADER: append */
	MC_MOD_INSERT, /* SMFIR_INSHEADER: index = position, 0 = top */
	MC_MOD_CHANGE  /* SMFIR_CHGHEADER: index = nth field of that name
			* (from 1); empty value deletes it */
};

struct mc_mod {
	enum mc_mod_kind kind;
	uint32_t index;
	char *name;
	char *value; /* exactly as the milter sent it */
};

/* One message's envelope. NULL strings are left out (or defaulted, as noted). */
struct mc_envelope {
	const char *client_addr; /* "192.0.2.1", "2001:db8::1"; NULL: family 'U' */
	const char *client_name; /* NULL: "[client_addr]" */
	unsigned client_port;	 /* sent in the connect step */
	const char *helo;	 /* NULL: no HELO step */
	const char *mail_from;	 /* without <>; "" is the null sender */
	const char *const *rcpts;
	size_t nrcpts;
	const char *auth_authen; /* {auth_authen}, only when not NULL */
	const char *queue_id;	 /* {i}; NULL: "" */
	const char *daemon_name; /* {daemon_name}; NULL: "smtpd" */
	const char *mta_name;	 /* {j}; NULL: "mx.test.example" */
};

/* What the milter did to one message. Freed by mc_result_free. */
struct mc_result {
	enum mc_action action;
	enum mc_step step;
	char *reply;	     /* "550 5.7.1 text" from SMFIR_REPLYCODE, or NULL */
	char *quarantine;    /* reason, or NULL */
	struct mc_mod *mods; /* header modifications in the order received */
	size_t nmods;
	int leadspc;	      /* SMFIP_HDR_LEADSPC was negotiated */
	int other_mods;	      /* count of ignored actions (rcpt/from/body changes) */
	long long latency_us; /* from MAIL FROM to the final reply */
	long long eom_us;     /* from the end of the body (SMFIC_BODYEOB about to go
			       * out) to the final reply; 0 if it ended earlier */
};

struct mc_conn;

/* mc_connect - connect to "unix:/path", "local:/path", "/path", "inet:PORT@HOST" or
 * "inet6:PORT@HOST" and negotiate. timeout_ms 0 means MC_DEFAULT_TIMEOUT_MS. On
 * failure returns NULL with a message in err. */
struct mc_conn *mc_connect(const char *spec, int timeout_ms, char *err, size_t errlen);
/* mc_set_fold - choose how folded header values are sent (default MC_FOLD_LF) */
void mc_set_fold(struct mc_conn *c, enum mc_fold fold);
/* mc_set_raw_names - send header names as written before the colon, with any
 * white space there ("Subject " for "Subject : x"), as Postfix does not (default 0) */
void mc_set_raw_names(struct mc_conn *c, int raw);
/* mc_protocol - the SMFIP_* flags the milter asked for */
uint32_t mc_protocol(const struct mc_conn *c);
/* mc_actions - the SMFIF_* flags the milter asked for */
uint32_t mc_actions(const struct mc_conn *c);
/* mc_message - run one message (raw RFC 5322 text) through the milter. The first
 * message of a connection also sends the connect and HELO steps from env. Returns 0
 * when the protocol ran (res filled, whatever the verdict), -1 on a protocol or I/O
 * error (mc_error tells; the connection is then unusable). */
int mc_message(struct mc_conn *c, const struct mc_envelope *env, const char *msg,
	       size_t len, struct mc_result *res);
/* mc_error - the last error message ("" if none) */
const char *mc_error(const struct mc_conn *c);
/* mc_close - send SMFIC_QUIT (if the connection still works), close, free; NULL ok */
void mc_close(struct mc_conn *c);

/* mc_result_free - free what mc_message put in res; zeroes it */
void mc_result_free(struct mc_result *res);
/* mc_action_name - "accept", "reject", "tempfail", "discard" */
const char *mc_action_name(enum mc_action a);
/* mc_step_name - "connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body",
 * "eom" */
const char *mc_step_name(enum mc_step s);
/* mc_apply - the message with res's header modifications applied (body unchanged),
 * written with the line ending the input used */
void mc_apply(const struct mc_result *res, const char *msg, size_t len, struct buf *out);

#endif
