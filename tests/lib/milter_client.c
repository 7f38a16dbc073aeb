/* milter_client - the MTA side of the milter protocol (version 6), as Postfix speaks it.
 *
 * mc_connect opens and negotiates a connection; mc_message runs one message through
 * it (connect/HELO steps on the first message, then MAIL, RCPT, DATA, headers, EOH,
 * body chunks, EOM) and collects the verdict and header modifications into a
 * struct mc_result, which the caller frees with mc_result_free; mc_apply applies those
 * modifications to the message text; mc_close quits and frees the connection.
 *
 * Everything the milter sends is untrusted: packet lengths are capped, every field is
 * checked against the bytes that remain, every read and write has a timeout. No global
 * state: the load generator runs one connection per thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "milter_client.h"
#include "xalloc.h"

/* Protocol constants, as in libmilter's mfdef.h (no libmilter here: we are the MTA). */
#define MC_VERSION 6
#define MC_OFFER_ACTIONS 0x000001FFU  /* SMFI_CURR_ACTS: every action */
#define MC_OFFER_PROTOCOL 0x001FFFFFU /* SMFI_CURR_PROT: every step option */
#define MC_MDS_MASK 0x30000000U	      /* SMFIP_MDS_*: buffer sizes, ignored */

#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'

#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN '4'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_CONN_FAIL 'f'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_OPTNEG 'O'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'

#define SMFIP_NOCONNECT 0x00000001U
#define SMFIP_NOHELO 0x00000002U
#define SMFIP_NOMAIL 0x00000004U
#define SMFIP_NORCPT 0x00000008U
#define SMFIP_NOBODY 0x00000010U
#define SMFIP_NOHDRS 0x00000020U
#define SMFIP_NOEOH 0x00000040U
#define SMFIP_NR_HDR 0x00000080U
#define SMFIP_NODATA 0x00000200U
#define SMFIP_NR_CONN 0x00001000U
#define SMFIP_NR_HELO 0x00002000U
#define SMFIP_NR_MAIL 0x00004000U
#define SMFIP_NR_RCPT 0x00008000U
#define SMFIP_NR_DATA 0x00010000U
#define SMFIP_NR_EOH 0x00040000U
#define SMFIP_NR_BODY 0x00080000U
#define SMFIP_HDR_LEADSPC 0x00100000U

/* Most header fields mc_apply handles; a message with more is a caller bug. */
#define MC_MAX_HEADERS 100000

/* Per connection; the message-level state lives in mc_message's locals. */
struct mc_conn {
	int fd;
	int timeout_ms;
	enum mc_fold fold;
	int raw_names;	  /* send each name with its WSP before the colon */
	uint32_t version; /* negotiated */
	uint32_t actions; /* SMFIF_* the milter asked for */
	uint32_t proto;	  /* SMFIP_* the milter asked for */
	int broken;	  /* an I/O or protocol error happened */
	int greeted;	  /* connect and HELO steps were sent */
	int conn_ended;	  /* a verdict at connect/HELO covers all messages */
	enum mc_action conn_action;
	enum mc_step conn_step;
	char *conn_reply;
	struct buf out;	   /* packet being built */
	unsigned char *in; /* last packet read */
	size_t in_cap;
	char err[256];
};

/* What one step of the protocol is skipped by, and which flag spares its reply. */
struct mc_stepdef {
	enum mc_step step;
	uint32_t skip;
	uint32_t noreply;
};

static const struct mc_stepdef mc_steps[] = {
    {MC_STEP_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN},
    {MC_STEP_HELO, SMFIP_NOHELO, SMFIP_NR_HELO},
    {MC_STEP_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL},
    {MC_STEP_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT},
    {MC_STEP_DATA, SMFIP_NODATA, SMFIP_NR_DATA},
    {MC_STEP_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR},
    {MC_STEP_EOH, SMFIP_NOEOH, SMFIP_NR_EOH},
    {MC_STEP_BODY, SMFIP_NOBODY, SMFIP_NR_BODY},
    {MC_STEP_EOM, 0, 0},
};

/* How a reply ended a step. */
enum mc_outcome {
	MC_GO_ON,     /* continue with the next step */
	MC_SKIP_BODY, /* SMFIR_SKIP: no more body chunks */
	MC_FINAL      /* the verdict is in res */
};

/* One header field of a parsed message; raw is everything after the colon, with
 * "\n" between folded lines and no final line break. */
struct mc_hdr {
	char *name;  /* as an MTA sends it: no WSP before the colon */
	char *label; /* as written before the colon, for mc_apply's output */
	char *raw;
};

/* mc_fail - record an error, mark the connection unusable, return -1 */
static int __attribute__((format(printf, 2, 3)))
mc_fail(struct mc_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->broken = 1;
	return -1;
}

/* mc_now_us - monotonic clock in microseconds */
static long long
mc_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mc_wait - wait until fd is ready for events, within the connection's timeout */
static int
mc_wait(struct mc_conn *c, short events, const char *what)
{
	struct pollfd p = {.fd = c->fd, .events = events};
	int n;

	do
		n = poll(&p, 1, c->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mc_fail(c, "poll: %s", strerror(errno));
	if (n == 0)
		return mc_fail(c, "timeout after %d ms while %s", c->timeout_ms, what);
	return 0;
}

/* mc_write - send all of data; MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE */
static int
mc_write(struct mc_conn *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (mc_wait(c, POLLOUT, "writing") < 0)
					return -1;
				continue;
			}
			return mc_fail(c, "write: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mc_read - read exactly len bytes */
static int
mc_read(struct mc_conn *c, void *data, size_t len)
{
	char *p = data;

	while (len > 0) {
		ssize_t n = recv(c->fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (mc_wait(c, POLLIN, "reading a reply") < 0)
					return -1;
				continue;
			}
			return mc_fail(c, "read: %s", strerror(errno));
		}
		if (n == 0)
			return mc_fail(c, "milter closed the connection");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mc_send - send one packet: 4-byte length (command included), command, data */
static int
mc_send(struct mc_conn *c, int cmd, const void *data, size_t len)
{
	unsigned char hdr[5];
	uint32_t n;

	if (len > MC_MAX_PACKET)
		return mc_fail(c, "packet of %zu bytes too large to send", len);
	n = (uint32_t)len + 1;
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	hdr[4] = (unsigned char)cmd;
	if (mc_write(c, hdr, sizeof(hdr)) < 0)
		return -1;
	return len > 0 ? mc_write(c, data, len) : 0;
}

/* mc_get32 - big-endian 32-bit value */
static uint32_t
mc_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* mc_recv - read one packet into c->in; *cmd and *len describe it */
static int
mc_recv(struct mc_conn *c, int *cmd, size_t *len)
{
	unsigned char hdr[4], ch;
	uint32_t n;

	if (mc_read(c, hdr, sizeof(hdr)) < 0)
		return -1;
	n = mc_get32(hdr);
	if (n < 1 || n > MC_MAX_PACKET)
		return mc_fail(c, "reply packet length %u out of range 1..%d", n,
			       MC_MAX_PACKET);
	if (mc_read(c, &ch, 1) < 0)
		return -1;
	*cmd = ch;
	*len = n - 1;
	if (*len + 1 > c->in_cap) {
		c->in_cap = *len + 1;
		c->in = xrealloc(c->in, c->in_cap);
	}
	if (*len > 0 && mc_read(c, c->in, *len) < 0)
		return -1;
	c->in[*len] = '\0';
	return 0;
}

/* mc_put32 - append a big-endian 32-bit value */
static void
mc_put32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};

	buf_append(b, p, sizeof(p));
}

/* mc_putstr - append a string with its NUL */
static void
mc_putstr(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s) + 1);
}

/* mc_cstr - the NUL-terminated string at p within len bytes, or NULL; *used counts
 * the bytes it took with the NUL */
static const char *
mc_cstr(const unsigned char *p, size_t len, size_t *used)
{
	const unsigned char *nul = memchr(p, '\0', len);

	if (nul == NULL)
		return NULL;
	*used = (size_t)(nul - p) + 1;
	return (const char *)p;
}

/* mc_connect_socket - open a nonblocking stream socket to spec, within timeout */
static int
mc_connect_socket(struct mc_conn *c, const char *spec)
{
	struct sockaddr_un sun;
	struct addrinfo hints, *ai = NULL, *a;
	const char *path = NULL, *rest, *at;
	char port[16], host[256];
	int gai;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path))
			return mc_fail(c, "socket path too long: %s", path);
		memcpy(sun.sun_path, path, strlen(path) + 1);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return mc_fail(c, "socket: %s", strerror(errno));
		if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return 0;
		if (errno != EINPROGRESS && errno != EAGAIN)
			return mc_fail(c, "connect %s: %s", path, strerror(errno));
		goto wait;
	}

	if (strncmp(spec, "inet:", 5) == 0)
		rest = spec + 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		rest = spec + 6;
	else
		return mc_fail(c, "bad socket \"%s\": want unix:PATH or inet:PORT@HOST",
			       spec);
	at = strchr(rest, '@');
	if (at == NULL || at == rest || (size_t)(at - rest) >= sizeof(port))
		return mc_fail(c, "bad socket \"%s\": want inet:PORT@HOST", spec);
	memcpy(port, rest, (size_t)(at - rest));
	port[at - rest] = '\0';
	at++;
	if (*at == '[') {
		const char *end = strchr(at, ']');
		if (end == NULL || end[1] != '\0')
			return mc_fail(c, "bad host in \"%s\"", spec);
		at++;
		if ((size_t)(end - at) >= sizeof(host))
			return mc_fail(c, "host too long in \"%s\"", spec);
		memcpy(host, at, (size_t)(end - at));
		host[end - at] = '\0';
	} else {
		if (strlen(at) >= sizeof(host) || *at == '\0')
			return mc_fail(c, "bad host in \"%s\"", spec);
		memcpy(host, at, strlen(at) + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	gai = getaddrinfo(host, port, &hints, &ai);
	if (gai != 0)
		return mc_fail(c, "%s: %s", spec, gai_strerror(gai));
	for (a = ai; a != NULL; a = a->ai_next) {
		c->fd =
		    socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   a->ai_protocol);
		if (c->fd < 0)
			continue;
		/* This client writes a packet's length and its data in two pieces
		 * and sends no-reply packets back to back; with Nagle the second
		 * piece would wait for the milter's delayed ACK (~40 ms). An MTA
		 * avoids that by buffering (Postfix flushes once per round trip):
		 * TCP_NODELAY keeps what is measured the milter's own behaviour. */
		int one = 1;
		if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
			close(c->fd);
			c->fd = -1;
			continue;
		}
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0 ||
		    errno == EINPROGRESS)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	if (c->fd < 0)
		return mc_fail(c, "connect %s: %s", spec, strerror(errno));

wait:
	if (mc_wait(c, POLLOUT, "connecting") < 0)
		return -1;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return mc_fail(c, "getsockopt: %s", strerror(errno));
	if (soerr != 0)
		return mc_fail(c, "connect %s: %s", spec, strerror(soerr));
	return 0;
}

/* mc_negotiate - SMFIC_OPTNEG: offer version 6, every action and step option */
static int
mc_negotiate(struct mc_conn *c)
{
	int cmd;
	size_t len;

	buf_reset(&c->out);
	mc_put32(&c->out, MC_VERSION);
	mc_put32(&c->out, MC_OFFER_ACTIONS);
	mc_put32(&c->out, MC_OFFER_PROTOCOL);
	if (mc_send(c, SMFIC_OPTNEG, c->out.data, c->out.len) < 0)
		return -1;
	if (mc_recv(c, &cmd, &len) < 0)
		return -1;
	if (cmd != SMFIR_OPTNEG)
		return mc_fail(c, "negotiation: reply '%c' instead of 'O'",
			       cmd >= 32 && cmd < 127 ? cmd : '?');
	if (len < 12)
		return mc_fail(c, "negotiation: reply of %zu bytes, want 12 or more",
			       len);
	/* bytes after the first 12 list macros the milter wants: not needed here */
	c->version = mc_get32(c->in);
	c->actions = mc_get32(c->in + 4);
	c->proto = mc_get32(c->in + 8) & ~MC_MDS_MASK;
	if (c->version < 2 || c->version > MC_VERSION)
		return mc_fail(c, "negotiation: milter version %u, want 2..%d",
			       c->version, MC_VERSION);
	if ((c->actions & ~MC_OFFER_ACTIONS) != 0)
		return mc_fail(c, "negotiation: milter wants actions 0x%x not offered",
			       c->actions & ~MC_OFFER_ACTIONS);
	if ((c->proto & ~MC_OFFER_PROTOCOL) != 0)
		return mc_fail(c, "negotiation: milter wants protocol 0x%x not offered",
			       c->proto & ~MC_OFFER_PROTOCOL);
	return 0;
}

/* mc_connect - connect to a milter socket and negotiate */
struct mc_conn *
mc_connect(const char *spec, int timeout_ms, char *err, size_t errlen)
{
	struct mc_conn *c = xcalloc(1, sizeof(*c));

	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : MC_DEFAULT_TIMEOUT_MS;
	c->fold = MC_FOLD_LF;
	if (mc_connect_socket(c, spec) < 0 || mc_negotiate(c) < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", c->err);
		c->broken = 1;
		mc_close(c);
		return NULL;
	}
	return c;
}

/* mc_set_fold - how folded header values are sent */
void
mc_set_fold(struct mc_conn *c, enum mc_fold fold)
{
	c->fold = fold;
}

/* mc_set_raw_names - send names with their WSP before the colon */
void
mc_set_raw_names(struct mc_conn *c, int raw)
{
	c->raw_names = raw;
}

/* mc_protocol - negotiated SMFIP_* flags */
uint32_t
mc_protocol(const struct mc_conn *c)
{
	return c->proto;
}

/* mc_actions - negotiated SMFIF_* flags */
uint32_t
mc_actions(const struct mc_conn *c)
{
	return c->actions;
}

/* mc_error - last error text */
const char *
mc_error(const struct mc_conn *c)
{
	return c->err;
}

/* mc_macros - send SMFIC_MACRO for command cmd; pairs is name, value, ..., NULL and
 * a NULL value leaves its name out */
static int
mc_macros(struct mc_conn *c, int cmd, const char *const *pairs, size_t n)
{
	size_t i;

	buf_reset(&c->out);
	buf_putc(&c->out, cmd);
	for (i = 0; i + 1 < n; i += 2) {
		if (pairs[i + 1] == NULL)
			continue;
		mc_putstr(&c->out, pairs[i]);
		mc_putstr(&c->out, pairs[i + 1]);
	}
	return mc_send(c, SMFIC_MACRO, c->out.data, c->out.len);
}

/* mc_add_mod - record one header modification */
static int
mc_add_mod(struct mc_conn *c, struct mc_result *res, enum mc_mod_kind kind,
	   const unsigned char *p, size_t len)
{
	uint32_t index = 0;
	size_t used;
	const char *name, *value;

	if (kind != MC_MOD_ADD) {
		if (len < 4)
			return mc_fail(c, "header action without index");
		index = mc_get32(p);
		p += 4;
		len -= 4;
	}
	name = mc_cstr(p, len, &used);
	if (name == NULL || *name == '\0')
		return mc_fail(c, "header action with a missing or empty name");
	p += used;
	len -= used;
	value = mc_cstr(p, len, &used);
	if (value == NULL)
		return mc_fail(c, "header action for %s without a NUL-terminated value",
			       name);
	if (res->nmods >= MC_MAX_MODS)
		return mc_fail(c, "more than %d header actions", MC_MAX_MODS);
	res->mods = xreallocarray(res->mods, res->nmods + 1, sizeof(*res->mods));
	res->mods[res->nmods].kind = kind;
	res->mods[res->nmods].index = index;
	res->mods[res->nmods].name = xstrdup(name);
	res->mods[res->nmods].value = xstrdup(value);
	res->nmods++;
	return 0;
}

/* mc_replycode - check and record an SMFIR_REPLYCODE text "4XX ..." or "5XX ..." */
static int
mc_replycode(struct mc_conn *c, struct mc_result *res, size_t len)
{
	const char *t = (const char *)c->in;
	size_t used;

	if (mc_cstr(c->in, len, &used) == NULL)
		return mc_fail(c, "reply code text not NUL-terminated");
	if (strlen(t) < 3 || (t[0] != '4' && t[0] != '5') || t[1] < '0' || t[1] > '9' ||
	    t[2] < '0' || t[2] > '9' || (t[3] != '\0' && t[3] != ' ' && t[3] != '-'))
		return mc_fail(c, "bad reply code text \"%.40s\"", t);
	res->action = t[0] == '5' ? MC_REJECT : MC_TEMPFAIL;
	free(res->reply);
	res->reply = xstrdup(t);
	return 0;
}

/* mc_reply - read replies to one step until one decides how to go on */
static int
mc_reply(struct mc_conn *c, struct mc_result *res, enum mc_step step,
	 enum mc_outcome *out)
{
	int cmd;
	size_t len, used;

	for (;;) {
		if (mc_recv(c, &cmd, &len) < 0)
			return -1;
		switch (cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_CONTINUE:
			if (step == MC_STEP_EOM) {
				res->action = MC_ACCEPT;
				*out = MC_FINAL;
			} else {
				*out = MC_GO_ON;
			}
			return 0;
		case SMFIR_SKIP:
			if (step != MC_STEP_BODY)
				return mc_fail(c, "SMFIR_SKIP at step %s",
					       mc_step_name(step));
			*out = MC_SKIP_BODY;
			return 0;
		case SMFIR_ACCEPT:
			res->action = MC_ACCEPT;
			*out = MC_FINAL;
			return 0;
		case SMFIR_REJECT:
			res->action = MC_REJECT;
			*out = MC_FINAL;
			return 0;
		case SMFIR_TEMPFAIL:
		case SMFIR_CONN_FAIL:
		case SMFIR_SHUTDOWN:
			res->action = MC_TEMPFAIL;
			*out = MC_FINAL;
			return 0;
		case SMFIR_DISCARD:
			res->action = MC_DISCARD;
			*out = MC_FINAL;
			return 0;
		case SMFIR_REPLYCODE:
			if (mc_replycode(c, res, len) < 0)
				return -1;
			*out = MC_FINAL;
			return 0;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
		case SMFIR_QUARANTINE:
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
		case SMFIR_REPLBODY:
			break;
		default:
			return mc_fail(c, "unknown reply '%c' (0x%02x) at step %s",
				       cmd >= 32 && cmd < 127 ? cmd : '?', (unsigned)cmd,
				       mc_step_name(step));
		}
		/* everything else modifies the message: only allowed at end of message */
		if (step != MC_STEP_EOM)
			return mc_fail(c, "modification '%c' at step %s (only at eom)",
				       cmd >= 32 && cmd < 127 ? cmd : '?',
				       mc_step_name(step));
		switch (cmd) {
		case SMFIR_ADDHEADER:
			if (mc_add_mod(c, res, MC_MOD_ADD, c->in, len) < 0)
				return -1;
			break;
		case SMFIR_INSHEADER:
			if (mc_add_mod(c, res, MC_MOD_INSERT, c->in, len) < 0)
				return -1;
			break;
		case SMFIR_CHGHEADER:
			if (mc_add_mod(c, res, MC_MOD_CHANGE, c->in, len) < 0)
				return -1;
			break;
		case SMFIR_QUARANTINE:
			if (mc_cstr(c->in, len, &used) == NULL)
				return mc_fail(c, "quarantine reason not NUL-terminated");
			free(res->quarantine);
			res->quarantine = xstrdup((const char *)c->in);
			break;
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
		default: /* SMFIR_REPLBODY and the envelope changes */
			res->other_mods++;
			break;
		}
	}
}

/* mc_step - send one step's packet, unless negotiated away, and read its reply
 * unless the milter asked for none */
static int
mc_step(struct mc_conn *c, struct mc_result *res, enum mc_step step, int cmd,
	const void *data, size_t len, enum mc_outcome *out)
{
	const struct mc_stepdef *d = &mc_steps[step];

	*out = MC_GO_ON;
	if ((c->proto & d->skip) != 0)
		return 0;
	if (mc_send(c, cmd, data, len) < 0)
		return -1;
	if ((c->proto & d->noreply) != 0)
		return 0;
	if (mc_reply(c, res, step, out) < 0)
		return -1;
	if (*out == MC_FINAL)
		res->step = step;
	return 0;
}

/* mc_skipped - whether the milter negotiated a step away (its macros are skipped too) */
static int
mc_skipped(const struct mc_conn *c, enum mc_step step)
{
	return (c->proto & mc_steps[step].skip) != 0;
}

/* mc_greet - the connection-level steps: connect and HELO */
static int
mc_greet(struct mc_conn *c, const struct mc_envelope *env, struct mc_result *res)
{
	enum mc_outcome out;
	const char *addr = env->client_addr;
	char family;
	struct buf name = BUF_INIT, under = BUF_INIT;

	if (addr == NULL)
		family = 'U';
	else if (addr[0] == '/')
		family = 'L';
	else if (strchr(addr, ':') != NULL)
		family = '6';
	else
		family = '4';
	if (env->client_name != NULL)
		buf_puts(&name, env->client_name);
	else
		buf_printf(&name, "[%s]", addr != NULL ? addr : "unknown");
	buf_printf(&under, "%s [%s]", buf_cstr(&name), addr != NULL ? addr : "unknown");

	c->greeted = 1;
	if (!mc_skipped(c, MC_STEP_CONNECT)) {
		const char *m[] = {
		    "j",
		    env->mta_name != NULL ? env->mta_name : "mx.test.example",
		    "{daemon_name}",
		    env->daemon_name != NULL ? env->daemon_name : "smtpd",
		    "{client_addr}",
		    addr,
		    "{client_name}",
		    buf_cstr(&name),
		    "_",
		    buf_cstr(&under),
		};
		if (mc_macros(c, SMFIC_CONNECT, m, sizeof(m) / sizeof(m[0])) < 0)
			goto fail;
	}
	buf_reset(&c->out);
	mc_putstr(&c->out, buf_cstr(&name));
	buf_putc(&c->out, family);
	if (family != 'U') {
		unsigned char port[2] = {(unsigned char)(env->client_port >> 8),
					 (unsigned char)env->client_port};
		buf_append(&c->out, port, 2);
		mc_putstr(&c->out, addr);
	}
	buf_free(&name);
	buf_free(&under);
	if (mc_step(c, res, MC_STEP_CONNECT, SMFIC_CONNECT, c->out.data, c->out.len,
		    &out) < 0)
		return -1;
	if (out == MC_FINAL)
		goto ended;
	if (env->helo != NULL) {
		buf_reset(&c->out);
		mc_putstr(&c->out, env->helo);
		if (mc_step(c, res, MC_STEP_HELO, SMFIC_HELO, c->out.data, c->out.len,
			    &out) < 0)
			return -1;
		if (out == MC_FINAL)
			goto ended;
	}
	return 0;
ended:
	c->conn_ended = 1;
	c->conn_action = res->action;
	c->conn_step = res->step;
	c->conn_reply = res->reply != NULL ? xstrdup(res->reply) : NULL;
	return 0;
fail:
	buf_free(&name);
	buf_free(&under);
	return -1;
}

/* mc_parse_headers - split msg into header fields; returns the offset of the body,
 * sets *sep when a blank line separated it and *crlf when lines end in CRLF */
static size_t
mc_parse_headers(const char *msg, size_t len, struct mc_hdr **hdrs, size_t *n, int *sep,
		 int *crlf)
{
	size_t pos = 0, cap = 0;
	struct buf raw = BUF_INIT;
	char *name = NULL, *label = NULL;

	*hdrs = NULL;
	*n = 0;
	*sep = 0;
	*crlf = 0;
	{
		const char *nl = memchr(msg, '\n', len);
		*crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	}
	while (pos < len) {
		const char *line = msg + pos, *nl = memchr(line, '\n', len - pos);
		size_t linelen = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t next = pos + linelen + (nl != NULL ? 1 : 0);
		size_t content = linelen;

		if (content > 0 && line[content - 1] == '\r')
			content--;
		if ((line[0] == ' ' || line[0] == '\t') && content > 0 && name != NULL) {
			buf_putc(&raw, '\n');
			buf_append(&raw, line, content);
			pos = next;
			continue;
		}
		if (name != NULL) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				*hdrs = xreallocarray(*hdrs, cap, sizeof(**hdrs));
			}
			(*hdrs)[*n].name = name;
			(*hdrs)[*n].label = label;
			(*hdrs)[*n].raw = buf_steal(&raw);
			(*n)++;
			name = label = NULL;
		}
		if (content == 0) {
			*sep = 1;
			pos = next;
			break;
		}
		/* Postfix's is_header(): printable name characters, then optional WSP
		 * before the colon (RFC 5322 §4.5.3 obs-optional), which is not part of
		 * the name it sends; anything else ends the header block */
		size_t nlen = 0, i;
		while (nlen < content && (unsigned char)line[nlen] > ' ' &&
		       (unsigned char)line[nlen] < 127 && line[nlen] != ':')
			nlen++;
		for (i = nlen; i < content && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (nlen == 0 || i == content || line[i] != ':' || *n >= MC_MAX_HEADERS)
			break; /* not a header field: the body starts here */
		name = xstrndup(line, nlen);
		label = xstrndup(line, i);
		buf_reset(&raw);
		buf_append(&raw, line + i + 1, content - i - 1);
		pos = next;
	}
	if (name != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*hdrs = xreallocarray(*hdrs, cap, sizeof(**hdrs));
		}
		(*hdrs)[*n].name = name;
		(*hdrs)[*n].label = label;
		(*hdrs)[*n].raw = buf_steal(&raw);
		(*n)++;
	}
	buf_free(&raw);
	return pos;
}

/* mc_free_headers - free what mc_parse_headers returned */
static void
mc_free_headers(struct mc_hdr *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].label);
		free(h[i].raw);
	}
	free(h);
}

/* mc_send_header - one SMFIC_HEADER: the value with one leading space stripped (unless
 * SMFIP_HDR_LEADSPC), folds as the connection's fold style says */
static int
mc_send_header(struct mc_conn *c, struct mc_result *res, const struct mc_hdr *h,
	       enum mc_outcome *out)
{
	const char *v = h->raw;

	buf_reset(&c->out);
	mc_putstr(&c->out, c->raw_names ? h->label : h->name);
	if ((c->proto & SMFIP_HDR_LEADSPC) == 0 && *v == ' ')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == '\n' && c->fold == MC_FOLD_CRLF)
			buf_putc(&c->out, '\r');
		buf_putc(&c->out, *v);
	}
	buf_putc(&c->out, '\0');
	return mc_step(c, res, MC_STEP_HEADER, SMFIC_HEADER, c->out.data, c->out.len,
		       out);
}

/* mc_send_body - the body in chunks of at most MC_CHUNK_SIZE, bare LF made CRLF */
static int
mc_send_body(struct mc_conn *c, struct mc_result *res, const char *body, size_t len,
	     enum mc_outcome *out)
{
	char *chunk = xmalloc(MC_CHUNK_SIZE);
	size_t i, n = 0;
	int rc = 0;

	*out = MC_GO_ON;
	for (i = 0; i <= len; i++) {
		int last = i == len;
		int lf = !last && body[i] == '\n' && (i == 0 || body[i - 1] != '\r');

		if (n > 0 && (last || n + (lf ? 2 : 1) > MC_CHUNK_SIZE)) {
			rc = mc_step(c, res, MC_STEP_BODY, SMFIC_BODY, chunk, n, out);
			n = 0;
			if (rc < 0 || *out != MC_GO_ON)
				break;
		}
		if (last)
			break;
		if (lf)
			chunk[n++] = '\r';
		chunk[n++] = body[i];
	}
	free(chunk);
	if (rc == 0 && *out == MC_SKIP_BODY)
		*out = MC_GO_ON;
	return rc;
}

/* mc_message - run one message through the milter */
int
mc_message(struct mc_conn *c, const struct mc_envelope *env, const char *msg, size_t len,
	   struct mc_result *res)
{
	enum mc_outcome out = MC_GO_ON;
	struct mc_hdr *hdrs = NULL;
	size_t nhdrs = 0, body, i;
	int sep, crlf, started = 0;
	long long t0, t_eob;

	memset(res, 0, sizeof(*res));
	res->leadspc = (c->proto & SMFIP_HDR_LEADSPC) != 0;
	if (c->broken)
		return -1;
	if (!c->greeted && mc_greet(c, env, res) < 0)
		return -1;
	if (c->conn_ended) {
		/* a verdict at connect/HELO covers every message of the connection */
		res->action = c->conn_action;
		res->step = c->conn_step;
		free(res->reply);
		res->reply = c->conn_reply != NULL ? xstrdup(c->conn_reply) : NULL;
		return 0;
	}

	t0 = mc_now_us();
	started = 1;
	{
		const char *from = env->mail_from != NULL ? env->mail_from : "";
		const char *m[] = {
		    "i",
		    env->queue_id != NULL ? env->queue_id : "",
		    "{auth_authen}",
		    env->auth_authen,
		    "{mail_addr}",
		    from,
		};
		if (!mc_skipped(c, MC_STEP_MAIL) &&
		    mc_macros(c, SMFIC_MAIL, m, sizeof(m) / sizeof(m[0])) < 0)
			goto fail;
		buf_reset(&c->out);
		buf_printf(&c->out, "<%s>", from);
		buf_putc(&c->out, '\0');
		if (mc_step(c, res, MC_STEP_MAIL, SMFIC_MAIL, c->out.data, c->out.len,
			    &out) < 0)
			goto fail;
		if (out == MC_FINAL)
			goto ended;
	}
	for (i = 0; i < env->nrcpts; i++) {
		const char *m[] = {"{rcpt_addr}", env->rcpts[i]};
		if (!mc_skipped(c, MC_STEP_RCPT) &&
		    mc_macros(c, SMFIC_RCPT, m, sizeof(m) / sizeof(m[0])) < 0)
			goto fail;
		buf_reset(&c->out);
		buf_printf(&c->out, "<%s>", env->rcpts[i]);
		buf_putc(&c->out, '\0');
		if (mc_step(c, res, MC_STEP_RCPT, SMFIC_RCPT, c->out.data, c->out.len,
			    &out) < 0)
			goto fail;
		if (out == MC_FINAL)
			goto ended;
	}
	if (mc_step(c, res, MC_STEP_DATA, SMFIC_DATA, NULL, 0, &out) < 0)
		goto fail;
	if (out == MC_FINAL)
		goto ended;

	body = mc_parse_headers(msg, len, &hdrs, &nhdrs, &sep, &crlf);
	for (i = 0; i < nhdrs; i++) {
		if (mc_send_header(c, res, &hdrs[i], &out) < 0)
			goto fail;
		if (out == MC_FINAL)
			goto ended;
	}
	{
		const char *m[] = {"i", env->queue_id != NULL ? env->queue_id : ""};
		if (!mc_skipped(c, MC_STEP_EOH) &&
		    mc_macros(c, SMFIC_EOH, m, sizeof(m) / sizeof(m[0])) < 0)
			goto fail;
	}
	if (mc_step(c, res, MC_STEP_EOH, SMFIC_EOH, NULL, 0, &out) < 0)
		goto fail;
	if (out == MC_FINAL)
		goto ended;
	if (!mc_skipped(c, MC_STEP_BODY)) {
		if (mc_send_body(c, res, msg + body, len - body, &out) < 0)
			goto fail;
		if (out == MC_FINAL)
			goto ended;
	}
	t_eob = mc_now_us();
	{
		const char *m[] = {"i", env->queue_id != NULL ? env->queue_id : ""};
		if (mc_macros(c, SMFIC_BODYEOB, m, sizeof(m) / sizeof(m[0])) < 0)
			goto fail;
	}
	if (mc_step(c, res, MC_STEP_EOM, SMFIC_BODYEOB, NULL, 0, &out) < 0)
		goto fail;
	res->latency_us = mc_now_us() - t0;
	res->eom_us = res->latency_us - (t_eob - t0);
	mc_free_headers(hdrs, nhdrs);
	return 0;

ended:
	res->latency_us = mc_now_us() - t0;
	mc_free_headers(hdrs, nhdrs);
	/* the message ended early: tell the milter to forget it before the next one */
	if (started && mc_send(c, SMFIC_ABORT, NULL, 0) < 0)
		return -1;
	return 0;
fail:
	mc_free_headers(hdrs, nhdrs);
	return -1;
}

/* mc_close - quit and free */
void
mc_close(struct mc_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0) {
		if (!c->broken)
			(void)mc_send(c, SMFIC_QUIT, NULL, 0);
		close(c->fd);
	}
	buf_free(&c->out);
	free(c->in);
	free(c->conn_reply);
	free(c);
}

/* mc_result_free - free a result's strings and modifications */
void
mc_result_free(struct mc_result *res)
{
	size_t i;

	for (i = 0; i < res->nmods; i++) {
		free(res->mods[i].name);
		free(res->mods[i].value);
	}
	free(res->mods);
	free(res->reply);
	free(res->quarantine);
	memset(res, 0, sizeof(*res));
}

/* mc_action_name - printable action */
const char *
mc_action_name(enum mc_action a)
{
	switch (a) {
	case MC_ACCEPT:
		return "accept";
	case MC_REJECT:
		return "reject";
	case MC_TEMPFAIL:
		return "tempfail";
	case MC_DISCARD:
		return "discard";
	}
	return "?";
}

/* mc_step_name - printable step */
const char *
mc_step_name(enum mc_step s)
{
	static const char *const names[] = {"connect", "helo", "mail", "rcpt", "data",
					    "header",  "eoh",  "body", "eom"};

	if ((size_t)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

/* mc_field - a header field as it will be written: "Name:" + value, the value
 * behind one space unless the milter negotiated SMFIP_HDR_LEADSPC; CRLF made LF */
static char *
mc_field(const struct mc_result *res, const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, name);
	buf_putc(&b, ':');
	if (!res->leadspc)
		buf_putc(&b, ' ');
	for (; *value != '\0'; value++)
		if (!(value[0] == '\r' && value[1] == '\n'))
			buf_putc(&b, *value);
	return buf_steal(&b);
}

/* mc_apply - the message with the header modifications applied, in order */
void
mc_apply(const struct mc_result *res, const char *msg, size_t len, struct buf *out)
{
	struct mc_hdr *hdrs;
	size_t nhdrs, body, i, j, n, cap;
	int sep, crlf;
	char **f;     /* fields, "Name:value" with "\n" between folded lines */
	char **names; /* field names, for SMFIR_CHGHEADER's lookups */

	body = mc_parse_headers(msg, len, &hdrs, &nhdrs, &sep, &crlf);
	cap = nhdrs + res->nmods + 1;
	f = xcalloc(cap, sizeof(*f));
	names = xcalloc(cap, sizeof(*names));
	for (n = 0; n < nhdrs; n++) {
		struct buf b = BUF_INIT;
		buf_puts(&b, hdrs[n].label);
		buf_putc(&b, ':');
		buf_puts(&b, hdrs[n].raw);
		f[n] = buf_steal(&b);
		names[n] = xstrdup(hdrs[n].name);
	}
	for (i = 0; i < res->nmods; i++) {
		const struct mc_mod *m = &res->mods[i];
		size_t at = n;

		if (m->kind == MC_MOD_CHANGE) {
			uint32_t seen = 0;
			for (j = 0; j < n; j++)
				if (strcasecmp(names[j], m->name) == 0 &&
				    ++seen == m->index)
					break;
			if (j < n) {
				free(f[j]);
				free(names[j]);
				if (*m->value == '\0') {
					memmove(f + j, f + j + 1,
						(n - j - 1) * sizeof(*f));
					memmove(names + j, names + j + 1,
						(n - j - 1) * sizeof(*names));
					n--;
				} else {
					f[j] = mc_field(res, m->name, m->value);
					names[j] = xstrdup(m->name);
				}
				continue;
			}
			if (*m->value == '\0')
				continue; /* deleting a field that is not there */
			/* changing a missing field adds it, as Sendmail and Postfix do */
		} else if (m->kind == MC_MOD_INSERT) {
			at = m->index < n ? m->index : n;
		}
		memmove(f + at + 1, f + at, (n - at) * sizeof(*f));
		memmove(names + at + 1, names + at, (n - at) * sizeof(*names));
		f[at] = mc_field(res, m->name, m->value);
		names[at] = xstrdup(m->name);
		n++;
	}
	for (i = 0; i < n; i++) {
		const char *p;
		for (p = f[i]; *p != '\0'; p++) {
			if (*p == '\n' && crlf)
				buf_putc(out, '\r');
			buf_putc(out, *p);
		}
		buf_puts(out, crlf ? "\r\n" : "\n");
		free(f[i]);
		free(names[i]);
	}
	if (sep)
		buf_puts(out, crlf ? "\r\n" : "\n");
	buf_append(out, msg + body, len - body);
	free(f);
	free(names);
	mc_free_headers(hdrs, nhdrs);
}
