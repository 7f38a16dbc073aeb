/* main - the authmilter daemon: command line, start-up, privileges, reload, run.
 *
 * authmilter [-c FILE] [-n] [-V] [-h]. Loads and checks the configuration (and
 * every key), opens the milter socket (with TCP_NODELAY when it is a TCP one), drops
 * to the configured user, and runs libmilter in the foreground. SIGTERM/SIGINT
 * stop (libmilter's own handling, made prompt by stop.c, which also lets the
 * messages in flight finish); SIGUSR1 reloads (libmilter treats SIGHUP as stop,
 * so reload cannot be SIGHUP).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <confuse.h>
#include <idn2.h>
#include <libmilter/mfapi.h>
#include <libpsl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <spf2/spf.h>
#include <unbound.h>

#include "buf.h"
#include "callbacks.h"
#include "conf_check.h"
#include "conns.h"
#include "dkim_keycache.h"
#include "dmarc.h"
#include "generation.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "report_store.h"
#include "report_uri.h"
#include "report_writer.h"
#include "sockspec.h"
#include "stop.h"
#include "xalloc.h"

#define MAIN_DEFAULT_CONF	SYSCONFDIR "/authmilter/milter.conf"
/* Seconds libmilter waits for the MTA's next command. Its default (7210 s) lets a
 * silent peer hold a thread for two hours; the MTAs' own milter timeouts are 5 min. */
#define MAIN_MTA_TIMEOUT	600
#define MAIN_MAX_NOFILE	1048576	/* Linux's default fs.nr_open: no higher soft limit */
#define MAIN_REPORT_FLUSH_MS	5000	/* queued report rows get this long to be written at stop */

static const char *main_conf_path = MAIN_DEFAULT_CONF;
static atomic_bool main_log_stderr;	/* log.stderr: log_msg prints every line already */

/* main_fatal - a start-up error: to the log, and to stderr in any case (with no
 * syslog daemon, as on a minimal system, the log alone reaches no one) */
static void __attribute__((format(printf, 1, 2)))
main_fatal(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s", line);
	if (!main_log_stderr)
		fprintf(stderr, "authmilter: %s\n", line);
}

/* main_usage - to stderr, exit with status */
static void __attribute__((noreturn))
main_usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: authmilter [-c FILE] [-n] [-V] [-h | --help]\n"
	    "  -c FILE        configuration (default %s)\n"
	    "  -n             check the configuration and every file it names, then exit\n"
	    "  -V, --version  print the version and the libraries' versions\n"
	    "  -h, --help     this help\n"
	    "Signals: SIGUSR1 reloads; SIGTERM, SIGINT and SIGHUP stop (the messages "
	    "in flight finish first).\n", MAIN_DEFAULT_CONF);
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
	printf("  libmicrohttpd %s\n", MHD_get_version());
}

/* main_log_errors - a failed reload's messages, one log line each; how many */
static unsigned
main_log_errors(const char *text)
{
	const char *p = text;
	unsigned lines = 0;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		log_msg(LOG_ERR, "reload refused: %.*s", (int)n, p);
		lines++;
		p += n;
		if (*p == '\n')
			p++;
	}
	return lines;
}

/* main_report_configure - hand c's report section to the report writer */
static void
main_report_configure(const struct conf *c)
{
	report_writer_configure(c->report.enable, c->report.database, c->report.queue,
	    c->report.keep_days);
}

/* main_warn_readable - a configuration that holds a password (report.database's)
 * and that every local user may read: logged at start (and then on stderr too,
 * where the operator starting it looks) and at each reload */
static void
main_warn_readable(const struct conf *c, bool to_stderr)
{
	struct stat st;
	char msg[600];

	if (!report_uri_has_secret(c->report.database) ||
	    stat(main_conf_path, &st) != 0 || (st.st_mode & S_IROTH) == 0)
		return;
	snprintf(msg, sizeof(msg), "%s holds report.database's password and every user "
	    "may read it (mode %04o): make it 0640, group authmilter", main_conf_path,
	    (unsigned)(st.st_mode & 07777));
	log_msg(LOG_WARNING, "%s", msg);
	if (to_stderr)
		fprintf(stderr, "authmilter: warning: %s\n", msg);
}

/* main_reload_unapplied - log each change a reload cannot apply (the socket, its
 * mode and owner, the user, /metrics' address are set up once, at start) */
static void
main_reload_unapplied(const struct conf *old, const struct conf *new)
{
	static const char restart[] = "needs a restart (reload is SIGUSR1; it "
	    "applies keys, policy and DNS settings)";

	if (strcmp(old->socket, new->socket) != 0)
		log_msg(LOG_WARNING, "reload: socket changed from %s to %s: %s; still "
		    "listening on %s", old->socket, new->socket, restart, old->socket);
	if (old->socket_mode != new->socket_mode)
		log_msg(LOG_WARNING, "reload: socket_mode changed from %04o to %04o: %s",
		    old->socket_mode, new->socket_mode, restart);
	if (strcmp(old->user, new->user) != 0)
		log_msg(LOG_WARNING, "reload: user changed from \"%s\" to \"%s\": %s",
		    old->user, new->user, restart);
	if (strcmp(old->metrics.listen, new->metrics.listen) != 0)
		log_msg(LOG_WARNING, "reload: metrics.listen changed from \"%s\" to "
		    "\"%s\": %s; /metrics still on \"%s\"", old->metrics.listen,
		    new->metrics.listen, restart, old->metrics.listen);
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
		metrics_reload(false, main_log_errors(errs != NULL ? errs : ""));
		log_msg(LOG_ERR, "reload refused: %s has errors; still running the previous "
		    "configuration", main_conf_path);
	} else {
		struct generation *old = generation_current();

		if (old != NULL)
			main_reload_unapplied(old->conf, g->conf);
		generation_release(old);
		log_configure(g->conf->log.facility, g->conf->log.level,
		    g->conf->log.to_stderr);
		main_log_stderr = g->conf->log.to_stderr;
		generation_install(g);
		conns_configure(g->conf);
		main_report_configure(g->conf);
		metrics_reload(true, 0);
		log_msg(LOG_INFO, "reloaded %s", main_conf_path);
		main_warn_readable(g->conf, false);
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

/* main_inet_listener - is fd a listening TCP socket bound to port (and, when
 * addr_len > 0, to the address addr of that many bytes)? */
static bool
main_inet_listener(int fd, int family, unsigned short port, const void *addr,
    size_t addr_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0, accepting = 0;
	socklen_t il = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) != 0 || type != SOCK_STREAM)
		return false;
	il = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &il) != 0 || !accepting)
		return false;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || ss.ss_family != family)
		return false;
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		return ntohs(sin->sin_port) == port &&
		    (addr_len == 0 || memcmp(&sin->sin_addr, addr, addr_len) == 0);
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	return ntohs(sin6->sin6_port) == port &&
	    (addr_len == 0 || memcmp(&sin6->sin6_addr, addr, addr_len) == 0);
}

/* main_tcp_nodelay - TCP_NODELAY on libmilter's listening socket for an inet:
 * or inet6: socket (a unix one needs nothing).
 *
 * Why: libmilter writes each reply packet with its own writev. At the end of a
 * message we send one or more header changes and then the verdict: with Nagle's
 * algorithm on, the small verdict waits until the MTA acknowledges the header
 * packet, and the MTA, which has nothing to send until it has the verdict, delays
 * that ACK (~40 ms on Linux). Every message then stalls 40 ms over TCP and not at
 * all over a unix socket. libmilter (8.17 listener.c) sets SO_REUSEADDR and
 * SO_KEEPALIVE but never TCP_NODELAY, and it does not hand out the descriptor; an
 * accepted socket inherits TCP_NODELAY from the listening one (Linux), so we find
 * the listener among our descriptors: the listening stream socket of that family
 * on that port (and address, when it is numeric), and set it there, once. A
 * connection the kernel completed in the moment between libmilter's listen() and
 * this call keeps Nagle on; that is start-up only. */
static void
main_tcp_nodelay(const struct sockspec *sp, const char *spec)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t addr_len = 0;
	int family = sockspec_family(sp), found = -1, one = 1;
	unsigned short port = (unsigned short)sp->port;
	DIR *dir;
	struct dirent *de;

	if (sp->kind == SOCKSPEC_UNIX)
		return;
	if (sp->host != NULL && inet_pton(family, sp->host, addr) == 1)
		addr_len = family == AF_INET ? sizeof(struct in_addr) :
		    sizeof(struct in6_addr);
	if ((dir = opendir("/proc/self/fd")) == NULL) {
		log_msg(LOG_WARNING, "cannot list /proc/self/fd (%m): TCP_NODELAY not set "
		    "on %s; each message may stall ~40 ms", spec);
		return;
	}
	while (found < 0 && (de = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end != '\0' || fd == dirfd(dir))
			continue;
		if (main_inet_listener((int)fd, family, port, addr, addr_len))
			found = (int)fd;
	}
	closedir(dir);
	if (found < 0) {
		log_msg(LOG_WARNING, "listening socket for %s not found: TCP_NODELAY not "
		    "set; each message may stall ~40 ms", spec);
		return;
	}
	if (setsockopt(found, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_msg(LOG_WARNING, "setsockopt TCP_NODELAY on %s: %m; each message may "
		    "stall ~40 ms", spec);
}

/* main_metrics - serve /metrics when metrics.listen is set; exit when it cannot */
static void
main_metrics(const struct conf *c)
{
	char err[300];

	if (c->metrics.listen[0] == '\0')
		return;
	if (!metrics_http_start(c->metrics.listen, err, sizeof(err))) {
		main_fatal("%s:%d: metrics.listen: %s; not starting", c->path,
		    c->metrics.line, err);
		exit(1);
	}
	log_msg(LOG_INFO, "metrics on http://%s/metrics", c->metrics.listen);
}

/* main_open_socket - bind the milter socket with its mode already set, then give
 * a unix socket to the configured user. Nothing is changed through the socket's
 * name: a name in a directory others can write may be swapped for a symlink to
 * any file between bind and a chmod/chown, which would then follow it. So the
 * mode comes from the umask at bind, and the owner is set on the inode opened
 * without following links, after checking it is a socket. */
static void
main_open_socket(const struct conf *c, const char *sockpath)
{
	mode_t old_mask = umask(~c->socket_mode & 0777);
	bool opened = smfi_opensocket(true) == MI_SUCCESS;	/* true: remove a stale socket */
	struct passwd *pw;
	struct stat st;
	int fd;

	(void)umask(old_mask);
	if (!opened) {
		main_fatal("cannot open socket %s (%m)", c->socket);
		exit(1);
	}
	if (sockpath == NULL)
		return;
	if ((fd = open(sockpath, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		main_fatal("socket %s: %m", sockpath);
		exit(1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		main_fatal("socket %s was replaced by something else after bind; "
		    "refusing to touch it (is its directory writable by others?)", sockpath);
		exit(1);
	}
	if (geteuid() == 0 && c->user[0] != '\0' && (pw = getpwnam(c->user)) != NULL &&
	    fchownat(fd, "", pw->pw_uid, pw->pw_gid, AT_EMPTY_PATH) != 0) {
		main_fatal("chown %s: %m", sockpath);
		exit(1);
	}
	(void)close(fd);	/* O_PATH: nothing to flush */
}

/* main_raise_nofile - the soft limit on open files up to the hard one (at most
 * MAIN_MAX_NOFILE): every MTA connection holds a descriptor, and systemd's default
 * soft limit (1,024) is reached by a thousand stalled clients, after which nothing
 * is accepted any more. Returns the limit in force. */
static unsigned long
main_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	want = rl.rlim_max < MAIN_MAX_NOFILE ? rl.rlim_max : MAIN_MAX_NOFILE;
	if (rl.rlim_cur < want) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_msg(LOG_WARNING, "cannot raise the open-files limit from %lu to "
			    "%lu: %m", (unsigned long)was, (unsigned long)want);
			rl.rlim_cur = was;
		}
	}
	return (unsigned long)rl.rlim_cur;
}

/* main_sessions - the open-files limit raised, and the sessions kept under it
 * (conns.c); the limit in force. Exits when that cannot be set up. */
static unsigned long
main_sessions(const struct conf *c)
{
	unsigned long nofile = main_raise_nofile();

	if (!conns_start(nofile, c)) {
		main_fatal("cannot start the connection reaper: %m");
		exit(1);
	}
	return nofile;
}

/* main_drop - become user (and its groups), each step checked */
static void
main_drop(const char *user)
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
		main_fatal("user \"%s\" does not exist; refusing to run as root", user);
		exit(1);
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		main_fatal("cannot become user \"%s\": %m", user);
		exit(1);
	}
	if (setuid(0) == 0) {
		main_fatal("could regain root after dropping to \"%s\"", user);
		exit(1);
	}
}

/* main_drain_ms - how long a stop lets the messages in flight run: the longest a
 * check may wait for DNS, and a second */
static unsigned
main_drain_ms(void)
{
	struct generation *g = generation_current();
	unsigned ms = (g != NULL ? g->conf->dns.timeout : 5) * 1000 + 1000;

	generation_release(g);
	return ms;
}

/* main_block_signals - block the signals we wait for before any thread exists
 * (the resolver starts threads, which inherit the mask): SIGUSR1 (in *usr1) goes
 * only to our reload thread, SIGTERM/SIGINT/SIGHUP to stop_run in the main thread,
 * which unblocks them there; SIGPIPE is ignored. False when that cannot be set up. */
static bool
main_block_signals(sigset_t *usr1)
{
	sigset_t stops;

	sigemptyset(usr1);
	sigaddset(usr1, SIGUSR1);
	sigemptyset(&stops);
	sigaddset(&stops, SIGUSR1);
	stop_block_set(&stops);
	return pthread_sigmask(SIG_BLOCK, &stops, NULL) == 0 &&
	    signal(SIGPIPE, SIG_IGN) != SIG_ERR;
}

/* main_check_only - -n: the file was valid; now what start and reload will meet */
static int
main_check_only(struct generation *g)
{
	int problems = conf_check_start(g->conf, stderr);

	if (problems > 0) {
		fprintf(stderr, "%s: %d problem%s that start or reload would meet\n",
		    main_conf_path, problems, problems == 1 ? "" : "s");
		generation_release(g);
		return 1;
	}
	printf("%s: configuration is valid\n", main_conf_path);
	if (g->conf->dmarc.enable)
		printf("dmarc: discovery %s (%s)\n",
		    dmarc_discovery_name(g->conf->dmarc.discovery),
		    g->conf->dmarc.discovery == DMARC_DISCOVERY_PSL ?
		    "RFC 7489, Public Suffix List" : "RFC 9989 DNS tree walk");
	generation_release(g);
	return 0;
}

/* main - options, configuration, then libmilter's loop until a stop */
int
main(int argc, char **argv)
{
	struct generation *g;
	const struct conf *c;
	const char *sockpath;
	char *spec;
	struct sockspec sp;
	bool check_only = false;
	sigset_t usr1;
	pthread_t reloader;
	unsigned long nofile;
	int ch, rc;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:nVh", longopts, NULL)) != -1) {
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

	if (!main_block_signals(&usr1)) {
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
	main_warn_readable(g->conf, true);	/* before log_configure: once on stderr */
	if (check_only)
		return main_check_only(g);
	c = g->conf;
	log_configure(c->log.facility, c->log.level, c->log.to_stderr);
	main_log_stderr = c->log.to_stderr;
	generation_install(g);

	if (pthread_create(&reloader, NULL, main_reload_thread, &usr1) != 0) {
		main_fatal("cannot start the reload thread");
		return 1;
	}

	main_metrics(c);
	spec = main_libmilter_spec(c->socket);
	(void)sockspec_parse(c->socket, &sp);	/* conf_load checked it */
	sockpath = sp.kind == SOCKSPEC_UNIX ? sp.path : NULL;
	if (smfi_setconn(spec) != MI_SUCCESS || smfi_settimeout(MAIN_MTA_TIMEOUT) !=
	    MI_SUCCESS || smfi_register(*callbacks_descriptor()) != MI_SUCCESS) {
		main_fatal("libmilter refused socket %s", c->socket);
		return 1;
	}
	nofile = main_sessions(c);
	main_open_socket(c, sockpath);
	main_tcp_nodelay(&sp, spec);
	main_drop(c->user);
	main_report_configure(c);	/* after the drop: the database is the user's */
	log_msg(LOG_INFO, "started %s on %s (config %s, open-files limit %lu, max_sessions "
	    "%u)", PACKAGE_VERSION, c->socket, main_conf_path, nofile, conns_max_sessions());
	if (c->socket_inet)
		log_msg(LOG_WARNING, "socket %s is TCP: every local user (and every host "
		    "that reaches it) can have mail signed as any client it claims to be; "
		    "prefer a unix socket the MTA alone can open", c->socket);
	rc = stop_run(main_drain_ms());
	report_writer_stop(MAIN_REPORT_FLUSH_MS);
	log_msg(LOG_INFO, "stopped");
	metrics_http_stop();
	generation_shutdown();
	dkim_keycache_flush();
	free(spec);
	sockspec_clear(&sp);
	return rc == MI_SUCCESS ? 0 : 1;
}
