/* noop_milter - a libmilter milter that does nothing: the ceiling of the protocol library.
 *
 * noop_milter -p SOCKET [-H BYTES]
 *
 * Negotiates as authmilter does (no RCPT or unknown steps, no replies to
 * header packets, leading spaces kept), so the MTA side exchanges the same packets,
 * then accepts every message unchanged. With -H it also keeps the DATA step and
 * prepends one header field of BYTES bytes, as authmilter does when it signs: the
 * MTA's share of the cost of a milter that edits, without any of the milter's work.
 * Runs in the foreground until SIGTERM/SIGINT.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* noop_negotiate - the same protocol options authmilter asks for */
static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_SKIP |
	    SMFIP_NR_HDR | SMFIP_NR_HELO | SMFIP_NR_EOH);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/* noop_connect - a new connection */
static sfsistat
noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_CONTINUE;
}

/* noop_helo - HELO; no reply (SMFIP_NR_HELO, as authmilter) */
static sfsistat
noop_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return SMFIS_NOREPLY;
}

/* noop_envfrom - MAIL FROM */
static sfsistat
noop_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

/* noop_header - one header; no reply when SMFIP_NR_HDR was agreed */
static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

/* noop_eoh - end of headers; no reply (SMFIP_NR_EOH, as authmilter) */
static sfsistat
noop_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

/* noop_body - a body chunk, read and dropped */
static sfsistat
noop_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return SMFIS_CONTINUE;
}

static char *noop_header_value;	/* -H: the field prepended to every message */

/* noop_data - DATA; registered only with -H, which keeps this step as authmilter does */
static sfsistat
noop_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* noop_eom - end of message: accept, with -H after prepending the header field */
static sfsistat
noop_eom(SMFICTX *ctx)
{
	if (noop_header_value != NULL &&
	    smfi_insheader(ctx, 0, "X-Noop", noop_header_value) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

static struct smfiDesc noop_desc = {
	.xxfi_name = "noop",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = noop_connect,
	.xxfi_helo = noop_helo,
	.xxfi_envfrom = noop_envfrom,
	.xxfi_header = noop_header,
	.xxfi_eoh = noop_eoh,
	.xxfi_body = noop_body,
	.xxfi_eom = noop_eom,
	.xxfi_negotiate = noop_negotiate,
};

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:H:")) != -1) {
		if (ch == 'p') {
			sock = optarg;
		} else if (ch == 'H' && atoi(optarg) > 0 && atoi(optarg) < 65536) {
			size_t n = (size_t)atoi(optarg);

			if ((noop_header_value = malloc(n + 1)) == NULL)
				return 1;
			memset(noop_header_value, 'x', n);
			noop_header_value[n] = '\0';
			noop_desc.xxfi_data = noop_data;
		} else {
			sock = NULL;
			break;
		}
	}
	if (sock == NULL || optind != argc) {
		fprintf(stderr, "usage: noop_milter -p SOCKET [-H BYTES]\n");
		return 1;
	}
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0 ||
	    sock[0] == '/') {
		const char *path = strchr(sock, ':') != NULL && sock[0] != '/' ?
		    strchr(sock, ':') + 1 : sock;
		if (unlink(path) != 0 && access(path, F_OK) == 0) {
			perror(path);
			return 1;
		}
	}
	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_setbacklog(128) != MI_SUCCESS ||
	    smfi_register(noop_desc) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot set up %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
