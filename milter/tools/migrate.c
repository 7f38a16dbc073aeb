/* migrate - authmilter-migrate: a milter.conf from OpenDKIM, OpenDMARC and
 * dkimproxy configurations.
 *
 *   authmilter-migrate [--opendkim FILE] [--opendmarc FILE] [--dkimproxy FILE] [-o OUT]
 *
 * Reads the files (and the data sets and keys they name), writes milter.conf to
 * OUT (never over an existing file; without -o to stdout) and prints a table: each
 * setting read and what it became, or why not (to stdout, or stderr without -o).
 * OUT is then checked as `authmilter -n` checks it: the daemon's configuration
 * loader (conf_load), then what start and reload will meet as the user it names
 * (conf_check_start: keys that user cannot read, a missing socket directory).
 * Exit: 0 everything mapped, 1 something needs the operator, 2 an error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_check.h"
#include "migrate.h"

#define MIGRATE_EXIT_OK		0
#define MIGRATE_EXIT_OPERATOR	1	/* something not supported or unknown */
#define MIGRATE_EXIT_ERROR	2	/* usage, unreadable file, bad syntax */

static const char *migrate_prog = "authmilter-migrate";

/* migrate_usage - the synopsis */
static void
migrate_usage(FILE *fp)
{
	fprintf(fp, "usage: %s [--opendkim FILE] [--opendmarc FILE] [--dkimproxy FILE] "
	    "[-o OUT]\n"
	    "  --opendkim FILE    an opendkim.conf (with its KeyTable, SigningTable, ...)\n"
	    "  --opendmarc FILE   an opendmarc.conf\n"
	    "  --dkimproxy FILE   a dkimproxy_out.conf\n"
	    "  -o, --output OUT   write milter.conf here (never over an existing file)\n"
	    "  -h, --help         this text\n", migrate_prog);
}

/* migrate_write_file - text to a new file (O_EXCL); false after a message */
static bool
migrate_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(text), off = 0;

	if (fd == -1) {
		fprintf(stderr, "%s: %s: %s%s\n", migrate_prog, path, strerror(errno),
		    errno == EEXIST ? " (not overwritten; choose another -o)" : "");
		return false;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "%s: %s: %s\n", migrate_prog, path, strerror(errno));
			close(fd);
			unlink(path);
			return false;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", migrate_prog, path, strerror(errno));
		unlink(path);
		return false;
	}
	return true;
}

/* migrate_finish - write, print and check; the exit status */
static int
migrate_finish(struct migrate *m, const char *out)
{
	char *text = migrate_write_conf(m);
	int rc = migrate_needs_operator(m) ? MIGRATE_EXIT_OPERATOR : MIGRATE_EXIT_OK;

	if (out == NULL) {
		fputs(text, stdout);
		migrate_print_table(m, stderr);
	} else if (!migrate_write_file(out, text))
		rc = MIGRATE_EXIT_ERROR;
	else {
		struct conf *c;

		migrate_print_table(m, stdout);
		fflush(stdout);
		if ((c = conf_load(out, stderr)) == NULL) {
			fprintf(stderr, "%s: %s: the daemon's check refuses it (above): fix it "
			    "before `authmilter -n -c %s`\n", migrate_prog, out, out);
			rc = MIGRATE_EXIT_OPERATOR;
		} else if (conf_check_start(c, stderr) > 0) {
			fprintf(stderr, "%s: %s: start or reload would meet the problems "
			    "above, each with its fix\n", migrate_prog, out);
			rc = MIGRATE_EXIT_OPERATOR;
		} else
			printf("\n%s: the daemon's configuration check accepts it\n", out);
		conf_free(c);
	}
	free(text);
	return rc;
}

/* main - options, readers, writer */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "opendkim", required_argument, NULL, 'K' },
		{ "opendmarc", required_argument, NULL, 'M' },
		{ "dkimproxy", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *odkim = NULL, *odmarc = NULL, *dkp = NULL, *out = NULL;
	struct migrate m;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'K': odkim = optarg; break;
		case 'M': odmarc = optarg; break;
		case 'P': dkp = optarg; break;
		case 'o': out = optarg; break;
		case 'h': migrate_usage(stdout); return MIGRATE_EXIT_OK;
		default: migrate_usage(stderr); return MIGRATE_EXIT_ERROR;
		}
	}
	if (optind != argc || (odkim == NULL && odmarc == NULL && dkp == NULL)) {
		migrate_usage(stderr);
		return MIGRATE_EXIT_ERROR;
	}
	migrate_init(&m);
	if ((odkim != NULL && !migrate_opendkim(&m, odkim)) ||
	    (odmarc != NULL && !migrate_opendmarc(&m, odmarc)) ||
	    (dkp != NULL && !migrate_dkimproxy(&m, dkp)))
		rc = MIGRATE_EXIT_ERROR;
	else
		rc = migrate_finish(&m, out);
	migrate_free(&m);
	return rc;
}
