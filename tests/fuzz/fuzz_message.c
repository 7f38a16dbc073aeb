/* fuzz_message - a whole message through session_* (the flow callbacks.c drives),
 * with one Ed25519 signing key. Linked with fake_dns.c in place of dns.c: a closed
 * loopback port still cost ~90 ms a message in libunbound, far too slow, so DNS
 * answers come from the input instead (NXDOMAIN for everything by default).
 *
 * Input: byte 0 (bit 0: outbound, an authenticated sender; bit 1: IPv6 client;
 * bit 2: a second message after an abort; bit 3: a zone follows), then lines: HELO,
 * MAIL FROM, with bit 3 the zone lines (fake_dns.c) up to an empty line; the rest
 * is the message. The harness splits header fields (a line starting with space or
 * tab continues the previous one) from the body at the first empty line, hands the
 * values with their leading space as callbacks.c asks libmilter to, and the body in
 * chunks of at most 64 KB. Every header value we insert must carry CR/LF only as
 * folds.
 */
#include "config.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fake_dns.h"
#include "fuzz_util.h"
#include "generation.h"
#include "session.h"

#define FUZZ_MSG_CHUNK	65535	/* the largest body chunk libmilter hands over */
#define FUZZ_MSG_HEADERS 200	/* header fields the harness passes on */

/* write_setup - a private key and a config in a fresh directory; the config path */
static void
write_setup(char *conf, size_t conflen)
{
	char dir[] = "/tmp/fuzz_message.XXXXXX", key[128];
	EVP_PKEY *pk;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(key, sizeof(key), "%s/sel.pem", dir);
	snprintf(conf, conflen, "%s/milter.conf", dir);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		abort();
	if ((f = fopen(key, "w")) == NULL || fchmod(fileno(f), 0600) != 0 ||
	    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0)
		abort();
	EVP_PKEY_free(pk);
	if ((f = fopen(conf, "w")) == NULL)
		abort();
	fprintf(f,
	    "socket = \"unix:%s/sock\"\n"
	    "user = \"\"\n"
	    "authserv_id = \"mx.example.org\"\n"
	    "internal_hosts = { \"10.0.0.0/8\" }\n"
	    "log {\n  level = \"err\"\n  stderr = false\n}\n"
	    "dns {\n  nameservers = { \"127.0.0.1@9\" }\n  timeout = 1\n}\n"
	    "dkim {\n  key \"main\" {\n    domain = \"example.com\"\n"
	    "    selector = \"sel\"\n    file = \"%s\"\n    subdomains = true\n  }\n}\n",
	    dir, key);
	if (fclose(f) != 0)
		abort();
}

/* LLVMFuzzerInitialize - load and install the generation once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char conf[256];
	struct generation *g;

	write_setup(conf, sizeof(conf));
	if ((g = generation_load(conf, stderr)) == NULL) {
		fprintf(stderr, "fuzz_message: %s does not load\n", conf);
		exit(1);
	}
	generation_install(g);
	return 0;
}

/* check_eom - what session_eom returns must be usable as milter calls */
static void
check_eom(const struct eom_result *res)
{
	if (res == NULL)
		fz_fail("session_eom returned NULL", NULL);
	for (size_t i = 0; i < res->n_edits; i++) {
		const struct header_edit *e = &res->edits[i];

		if (e->name == NULL || e->name[0] == '\0')
			fz_fail("edit without a header name", NULL);
		if (e->op == EDIT_INSERT) {
			if (e->value == NULL)
				fz_fail("insert without a value", e->name);
			fz_check_folds(e->name, e->value);
		}
	}
	if (strnlen(res->reply.text, sizeof(res->reply.text)) == sizeof(res->reply.text))
		fz_fail("reply text unterminated", NULL);
	for (const char *p = res->reply.text; *p; p++)
		if (*p == '\r' || *p == '\n')
			fz_fail("CR/LF in the SMTP reply", res->reply.text);
}

/* one_message - envfrom .. eom (or abort) for the message in m */
static void
one_message(struct session *s, const char *mailfrom, bool outbound, const uint8_t *m,
    size_t n, bool abort_it)
{
	struct reply r;
	const uint8_t *p = m, *end = m + n;
	size_t nh = 0;

	memset(&r, 0, sizeof(r));
	if (session_envfrom(s, mailfrom, outbound ? "alice" : NULL, "4ABC123", &r) !=
	    STEP_CONTINUE)
		return;
	/* header fields up to the first empty line */
	while (p < end && nh < FUZZ_MSG_HEADERS) {
		const uint8_t *q = p, *colon;
		char *name, *value;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;
			break;
		}
		/* the field ends at a newline not followed by WSP */
		while (q < end) {
			const uint8_t *nl = memchr(q, '\n', (size_t)(end - q));

			if (nl == NULL) {
				q = end;
				break;
			}
			q = nl + 1;
			if (q >= end || (*q != ' ' && *q != '\t'))
				break;
		}
		colon = memchr(p, ':', (size_t)(q - p));
		if (colon != NULL) {
			const uint8_t *ve = q;

			if (ve > colon + 1 && ve[-1] == '\n')
				ve--;
			if (ve > colon + 1 && ve[-1] == '\r')
				ve--;
			name = strndup((const char *)p, (size_t)(colon - p));
			value = strndup((const char *)colon + 1, (size_t)(ve - colon - 1));
			if (name == NULL || value == NULL)
				abort();
			session_header(s, name, value);
			free(name);
			free(value);
			nh++;
		}
		p = q;
	}
	if (session_eoh(s) != STEP_SKIP_BODY) {
		while (p < end) {
			size_t c = (size_t)(end - p) > FUZZ_MSG_CHUNK ? FUZZ_MSG_CHUNK :
			    (size_t)(end - p);

			if (session_body(s, p, c) == STEP_SKIP_BODY)
				break;
			p += c;
		}
	}
	if (abort_it)
		session_abort(s);
	else
		check_eom(session_eom(s));
}

/* LLVMFuzzerTestOneInput - see the file comment for the layout */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned flags = fz_byte(&f);
	bool outbound = (flags & 1) != 0;
	char helo[256], mailfrom[512];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct session *s;
	struct reply r;

	fz_line(&f, helo, sizeof(helo));
	fz_line(&f, mailfrom, sizeof(mailfrom));
	if (flags & 8) {
		const uint8_t *zone = f.p;
		char line[2];

		/* the zone is the input's own bytes up to an empty line */
		while (f.n > 0 && fz_line(&f, line, sizeof(line)) > 0)
			;
		fake_dns_set_zone((const char *)zone, (size_t)(f.p - zone));
	} else {
		fake_dns_set_zone(NULL, 0);
	}
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	memset(&r, 0, sizeof(r));
	sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	sin6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, "2001:db8::10", &sin6.sin6_addr);

	if ((s = session_new()) == NULL)
		fz_fail("session_new without a generation", NULL);
	if (session_connect(s, "client.example.net", (flags & 2) ?
	    (const struct sockaddr *)&sin6 : (const struct sockaddr *)&sin, &r) ==
	    STEP_CONTINUE) {
		session_helo(s, helo);
		if (flags & 4)
			one_message(s, mailfrom, outbound, f.p, f.n, true);
		one_message(s, mailfrom, outbound, f.p, f.n, false);
	}
	session_free(s);
	fake_dns_set_zone(NULL, 0);
	return 0;
}
