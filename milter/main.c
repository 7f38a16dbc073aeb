/* main - the authmilter daemon: command line, start-up, privileges, reload, run.
 *
 * authmilter [-c FILE] [-n] [-V] [-h]. Loads and checks the configuration (and
 * every key), opens the milter socket, drops to the configured user, and runs
 * libmilter in the foreground. SIGTERM/SIGINT stop (libmilter's own handling);
 * SIGUSR1 reloads (libmilter treats SIGHUP as stop, so reload cannot be SIGHUP).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <confuse.h>
#include <idn2.h>
#include <libmilter/mfapi.h>
#include <libpsl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <spf2/spf.h>
#include <unbound.h>

#include "buf.h"
#include "callbacks.h"
#include "dkim_keycache.h"
#include "dmarc.h"
#include "generation.h"
#include "log.h"
#include "xalloc.h"

#define MAIN_DEFAULT_CONF	SYSCONFDIR "/authmilter/milter.conf"
/* Seconds libmilter waits for the MTA's next command. Its default (7210 s) lets a
 * silent peer hold a thread for two hours; the MTAs' own milter timeouts are 5 min. */
#define MAIN_MTA_TIMEOUT	600

static const char *main_conf_path = MAIN_DEFAULT_CONF;

/* main_usage - to stderr, exit with status */
static void __attribute__((noreturn))
main_usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: authmilter [-c FILE] [-n] [-V] [-h]\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -n       check the configuration and every file it names, then exit\n"
	    "  -V       print the version and the libraries' versions\n"
	    "  -h       this help\n", MAIN_DEFAULT_CONF);
	exit(status);
}

/* main_version - ours and the libraries' we run on */
static void
main_version(void)
{
	unsigned int maj, min, pl;

	smfi_version(&maj, &min, &pl);
	printf("authmilter %s\n", PACKAGE_VERSION);
	printf("  libmilter %u.%u.%u\n", maj, min, pl);
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libsodium %s\n", sodium_version_string());
	printf("  libunbound %s\n", ub_version());
	printf("  libspf2 %d.%d.%d\n", SPF_LIB_VERSION_MAJOR, SPF_LIB_VERSION_MINOR,
	    SPF_LIB_VERSION_PATCH);
	printf("  libconfuse %s\n", confuse_version);
	printf("  libpsl %s\n", psl_get_version());
	printf("  libidn2 %s\n", idn2_check_version(NULL));
}

/* main_log_errors - a failed reload's messages, one log line each */
static void
main_log_errors(const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		log_msg(LOG_ERR, "reload refused: %.*s", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

/* main_reload - load a new generation; keep the old one when the new is broken */
static void
main_reload(void)
{
	char *errs = NULL;
	size_t errlen = 0;
	FILE *err = open_memstream(&errs, &errlen);
	struct generation *g;

	if (err == NULL) {
		log_msg(LOG_ERR, "reload refused: cannot collect messages: %m");
		return;
	}
	g = generation_load(main_conf_path, err);
	fclose(err);
	if (g == NULL) {
		main_log_errors(errs != NULL ? errs : "");
		log_msg(LOG_ERR, "reload refused: %s has errors; still running the previous "
		    "configuration", main_conf_path);
	} else {
		log_configure(g->conf);
		generation_install(g);
		log_msg(LOG_INFO, "reloaded %s", main_conf_path);
	}
	free(errs);
}

/* main_reload_thread - wait for SIGUSR1 (blocked in every other thread) */
static void *
main_reload_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			main_reload();
	}
	return NULL;
}

/* main_socket_path - the file of a unix: or local: socket, or NULL */
static const char *
main_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* main_libmilter_spec - libmilter writes inet6 addresses without brackets */
static char *
main_libmilter_spec(const char *spec)
{
	struct buf b = BUF_INIT;

	for (const char *p = spec; *p; p++)
		if (strncmp(spec, "inet6:", 6) != 0 || (*p != '[' && *p != ']'))
			buf_putc(&b, *p);
	return buf_steal(&b);
}

/* main_drop - become user (and its groups), each step checked */
static void
main_drop(const char *user, const char *sockpath)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return;
	if (geteuid() != 0) {
		log_msg(LOG_INFO, "not started as root: running as uid %d, user \"%s\" not used",
		    (int)geteuid(), user);
		return;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_msg(LOG_ERR, "user \"%s\" does not exist; refusing to run as root", user);
		exit(1);
	}
	if (sockpath != NULL && chown(sockpath, pw->pw_uid, pw->pw_gid) != 0) {
		log_msg(LOG_ERR, "chown %s: %m", sockpath);
		exit(1);
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_msg(LOG_ERR, "cannot become user \"%s\": %m", user);
		exit(1);
	}
	if (setuid(0) == 0) {
		log_msg(LOG_ERR, "could regain root after dropping to \"%s\"", user);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct generation *g;
	const struct conf *c;
	const char *sockpath;
	char *spec;
	bool check_only = false;
	sigset_t usr1, stops;
	pthread_t reloader;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:nVh")) != -1) {
		switch (ch) {
		case 'c':
			main_conf_path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'V':
			main_version();
			return 0;
		case 'h':
			main_usage(0);
		default:
			main_usage(2);
		}
	}
	if (optind != argc)
		main_usage(2);

	/* Block the signals we wait for before any thread exists (the resolver
	 * starts threads, which inherit the mask): SIGUSR1 goes only to our reload
	 * thread, SIGTERM/SIGINT/SIGHUP only to libmilter's signal thread (sigwait),
	 * which stops accepting and lets sessions finish. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&stops);
	sigaddset(&stops, SIGUSR1);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &stops, NULL) != 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "authmilter: cannot set up signals\n");
		return 1;
	}
	log_open();
	if ((g = generation_load(main_conf_path, stderr)) == NULL) {
		if (!check_only)
			fprintf(stderr, "authmilter: %s has errors; not starting\n",
			    main_conf_path);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration is valid\n", main_conf_path);
		if (g->conf->dmarc.enable)
			printf("dmarc: discovery %s (%s)\n",
			    dmarc_discovery_name(g->conf->dmarc.discovery),
			    g->conf->dmarc.discovery == DMARC_DISCOVERY_PSL ?
			    "RFC 7489, Public Suffix List" : "RFC 9989 DNS tree walk");
		generation_release(g);
		return 0;
	}
	c = g->conf;
	log_configure(c);
	generation_install(g);

	if (pthread_create(&reloader, NULL, main_reload_thread, &usr1) != 0) {
		log_msg(LOG_ERR, "cannot start the reload thread");
		return 1;
	}

	spec = main_libmilter_spec(c->socket);
	sockpath = main_socket_path(c->socket);
	if (smfi_setconn(spec) != MI_SUCCESS || smfi_settimeout(MAIN_MTA_TIMEOUT) !=
	    MI_SUCCESS || smfi_register(*callbacks_descriptor()) != MI_SUCCESS) {
		log_msg(LOG_ERR, "libmilter refused socket %s", c->socket);
		return 1;
	}
	/* true: remove a stale unix socket left by a previous run */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot open socket %s", c->socket);
		return 1;
	}
	if (sockpath != NULL && chmod(sockpath, c->socket_mode) != 0) {
		log_msg(LOG_ERR, "chmod %s: %m", sockpath);
		return 1;
	}
	main_drop(c->user, sockpath);
	log_msg(LOG_INFO, "started %s on %s (config %s)", PACKAGE_VERSION, c->socket,
	    main_conf_path);
	rc = smfi_main();
	log_msg(LOG_INFO, "stopped");
	generation_shutdown();
	dkim_keycache_flush();
	free(spec);
	return rc == MI_SUCCESS ? 0 : 1;
}
