/* conf_check - what `authmilter -n` checks beyond the file itself: what start and
 * reload will meet on this machine, as the user the daemon will run as.
 *
 * The daemon starts as root, reads its keys and binds its socket, then drops to
 * milter.conf's `user`; a reload (SIGUSR1) reads the config, the keys, the Public
 * Suffix List and the trust anchor again as that user, and the report writer opens
 * its SQLite file as that user. So a key file only root can read passes a start and
 * fails the next reload. The checks that need the user's rights run in a child
 * process that has become that user, so that the kernel itself (groups, ACLs)
 * answers. Each problem is one line naming the path and the command that fixes it.
 *
 *   conf_check_start(c, err)	print problems to err; the number that would fail
 *				start or reload
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "conf_check.h"
#include "sockspec.h"

/* Debian's Postfix runs smtpd chrooted here: main.cf's milter paths are inside it */
#define CONF_CHECK_POSTFIX_CHROOT	"/var/spool/postfix"
/* made by the systemd unit (RuntimeDirectory=) just before it starts us */
#define CONF_CHECK_RUNTIME_DIR		"/run/authmilter"

/* The daemon's user and its primary group, as fixes name them */
struct conf_check_who {
	const char	*user;
	const char	*group;
};

/* How a file the user cannot use is fixed */
enum conf_check_fix {
	CONF_CHECK_OWN_0600,	/* chown USER FILE && chmod 0600 FILE (key files) */
	CONF_CHECK_GROUP_0640,	/* chgrp USER FILE && chmod 0640 FILE */
	CONF_CHECK_GROUP_0750,	/* chgrp USER DIR && chmod 0750 DIR */
	CONF_CHECK_OTHER_READ,	/* chmod o+r FILE (public data) */
	CONF_CHECK_OWN		/* chown USER PATH (the report database) */
};

/* conf_check_fix_text - the command that gives user what it needs on path */
static void
conf_check_fix_text(enum conf_check_fix fix, const struct conf_check_who *who, const char *path,
    char *out, size_t len)
{
	switch (fix) {
	case CONF_CHECK_OWN_0600:
		snprintf(out, len, "chown %s %s && chmod 0600 %s", who->user, path, path);
		break;
	case CONF_CHECK_GROUP_0640:
		snprintf(out, len, "chgrp %s %s && chmod 0640 %s", who->group, path, path);
		break;
	case CONF_CHECK_GROUP_0750:
		snprintf(out, len, "chgrp %s %s && chmod 0750 %s", who->group, path, path);
		break;
	case CONF_CHECK_OTHER_READ:
		snprintf(out, len, "chmod o+r %s", path);
		break;
	case CONF_CHECK_OWN:
		snprintf(out, len, "chown %s %s", who->user, path);
		break;
	}
}

/* conf_check_owner - "OWNER:GROUP MODE" of path for a message; "?" when unknown */
static void
conf_check_owner(const char *path, char *out, size_t len)
{
	struct stat st;
	struct passwd *pw;
	struct group *gr;
	char u[33], g[33];

	if (stat(path, &st) != 0) {
		snprintf(out, len, "?");
		return;
	}
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(u, sizeof(u), "%s", pw->pw_name);
	else
		snprintf(u, sizeof(u), "%u", (unsigned)st.st_uid);
	if ((gr = getgrgid(st.st_gid)) != NULL)
		snprintf(g, sizeof(g), "%s", gr->gr_name);
	else
		snprintf(g, sizeof(g), "%u", (unsigned)st.st_gid);
	snprintf(out, len, "%s:%s %04o", u, g, (unsigned)(st.st_mode & 07777));
}

/* conf_check_blocking_dir - the first directory above path this process cannot
 * enter, copied to dir; false when every one can be entered */
static bool
conf_check_blocking_dir(const char *path, char *dir, size_t len)
{
	for (const char *p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if ((size_t)(p - path) >= len)
			return false;
		memcpy(dir, path, (size_t)(p - path));
		dir[p - path] = '\0';
		if (access(dir, X_OK) != 0)
			return true;
	}
	return false;
}

/* conf_check_access - can this process open path for amode? When not, print
 * "WHAT: PATH: why; WHEN: FIX" where the fix is fix_file's for the file itself,
 * or a chgrp/chmod of the directory in the way */
static bool
conf_check_access(FILE *err, const struct conf_check_who *who, const char *what, const char *path,
    int amode, const char *when, enum conf_check_fix fix_file)
{
	char dir[PATH_MAX], owner[80], fix[3 * PATH_MAX];
	int e;

	if (access(path, amode) == 0)
		return true;
	e = errno;
	if (e != ENOENT && path[0] == '/' && conf_check_blocking_dir(path, dir, sizeof(dir))) {
		conf_check_owner(dir, owner, sizeof(owner));
		fprintf(err, "%s: %s: user %s cannot enter %s (%s); %s: chgrp %s %s && "
		    "chmod g+x %s\n", what, path, who->user, dir, owner, when, who->group, dir,
		    dir);
		return false;
	}
	conf_check_owner(path, owner, sizeof(owner));
	conf_check_fix_text(fix_file, who, path, fix, sizeof(fix));
	fprintf(err, "%s: %s: user %s cannot %s it (%s%s%s); %s: %s\n", what, path, who->user,
	    amode & W_OK ? "write" : "read", strerror(e), e == ENOENT ? "" : ", ",
	    e == ENOENT ? "" : owner, when, e == ENOENT ? "create it" : fix);
	return false;
}

/* conf_check_keys_directory - the directory listed and each file in it read */
static int
conf_check_keys_directory(const struct conf *c, const struct conf_check_who *who, FILE *err)
{
	const char *dir = c->dkim.keys_directory;
	const char *when = "the next reload would fail";
	struct dirent *e;
	int bad = 0;
	DIR *d;

	if (dir[0] == '\0')
		return 0;
	if (!conf_check_access(err, who, "dkim.keys_directory", dir, R_OK | X_OK, when,
	    CONF_CHECK_GROUP_0750))
		return 1;
	if ((d = opendir(dir)) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!conf_check_access(err, who, "dkim.keys_directory", path, R_OK, when,
		    CONF_CHECK_OWN_0600))
			bad++;
	}
	closedir(d);
	return bad;
}

/* conf_check_report_db - SQLite needs its directory (journal files) and the file */
static int
conf_check_report_db(const struct conf *c, const struct conf_check_who *who, FILE *err)
{
	const char *when = "report rows could not be written";
	char dir[PATH_MAX];
	const char *file, *slash;

	if (!c->report.enable || strncmp(c->report.database, "sqlite:", 7) != 0)
		return 0;
	file = c->report.database + 7;
	if ((slash = strrchr(file, '/')) == NULL || slash == file)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (!conf_check_access(err, who, "report.database", dir, W_OK | X_OK, when,
	    CONF_CHECK_OWN))
		return 1;
	if (access(file, F_OK) == 0 && !conf_check_access(err, who, "report.database",
	    file, R_OK | W_OK, when, CONF_CHECK_OWN))
		return 1;
	return 0;
}

/* conf_check_as_user - every check made with the daemon's rights; the errors */
static int
conf_check_as_user(const struct conf *c, const struct conf_check_who *who, FILE *err)
{
	const char *reload = "the next reload would fail";
	int bad = 0;

	if (!conf_check_access(err, who, "config", c->path, R_OK, reload,
	    CONF_CHECK_GROUP_0640))
		bad++;
	for (size_t i = 0; i < c->dkim.n_keys; i++) {
		char what[300];

		snprintf(what, sizeof(what), "dkim.key \"%s\"", c->dkim.keys[i].name);
		if (!conf_check_access(err, who, what, c->dkim.keys[i].file, R_OK, reload,
		    CONF_CHECK_OWN_0600))
			bad++;
	}
	bad += conf_check_keys_directory(c, who, err);
	if (c->dmarc.enable && c->dmarc.public_suffix_list[0] != '\0' &&
	    !conf_check_access(err, who, "dmarc.public_suffix_list",
	    c->dmarc.public_suffix_list, R_OK, reload, CONF_CHECK_OTHER_READ))
		bad++;
	if (c->dns.trust_anchor[0] != '\0' && !conf_check_access(err, who,
	    "dns.trust_anchor", c->dns.trust_anchor, R_OK, reload, CONF_CHECK_OTHER_READ))
		bad++;
	return bad + conf_check_report_db(c, who, err);
}

/* conf_check_chroot_relative - does path look copied from Postfix's main.cf, where
 * it is relative to the chroot: it is there, or its top directory exists nowhere */
static bool
conf_check_chroot_relative(const char *path)
{
	char in_chroot[PATH_MAX], top[PATH_MAX];
	const char *slash = strrchr(path, '/'), *second = strchr(path + 1, '/');
	struct stat st;

	if (strncmp(path, CONF_CHECK_POSTFIX_CHROOT "/",
	    strlen(CONF_CHECK_POSTFIX_CHROOT "/")) == 0 || slash == NULL || second == NULL)
		return false;
	snprintf(in_chroot, sizeof(in_chroot), CONF_CHECK_POSTFIX_CHROOT "%.*s",
	    (int)(slash - path), path);
	snprintf(top, sizeof(top), "%.*s", (int)(second - path), path);
	return stat(in_chroot, &st) == 0 || stat(top, &st) != 0;
}

/* conf_check_socket_dir - a unix socket's directory must exist for the bind (made
 * as root at start; the daemon's user need not enter it: a stop wakes libmilter's
 * listener with a signal, not through the socket) */
static int
conf_check_socket_dir(const struct conf *c, FILE *err)
{
	struct sockspec sp;
	struct stat st;
	char dir[PATH_MAX];
	const char *slash;
	int bad = 0;

	if (!sockspec_parse(c->socket, &sp))
		return 0;	/* conf_load reported it */
	if (sp.kind != SOCKSPEC_UNIX || (slash = strrchr(sp.path, '/')) == NULL) {
		sockspec_clear(&sp);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == sp.path ? 1 : (int)(slash - sp.path),
	    sp.path);
	if (strcmp(dir, CONF_CHECK_RUNTIME_DIR) != 0 &&
	    (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(err, "socket: %s: directory %s does not exist; start would fail "
		    "to bind: create it (mkdir %s), one the MTA's group may enter\n",
		    c->socket, dir, dir);
		if (conf_check_chroot_relative(sp.path))
			fprintf(err, "socket: if \"%s\" was copied from Postfix's main.cf: "
			    "Postfix's chrooted smtpd reads that path relative to its chroot "
			    CONF_CHECK_POSTFIX_CHROOT "; authmilter needs the full path, "
			    "socket = \"unix:" CONF_CHECK_POSTFIX_CHROOT "%s\"\n", c->socket,
			    sp.path);
		bad++;
	}
	sockspec_clear(&sp);
	return bad;
}

/* conf_check_who_of - user and group names of uid/gid (numbers when unnamed) */
static void
conf_check_who_of(uid_t uid, gid_t gid, char *user, char *group, size_t len)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);

	if (pw != NULL)
		snprintf(user, len, "%s", pw->pw_name);
	else
		snprintf(user, len, "%u", (unsigned)uid);
	if (gr != NULL)
		snprintf(group, len, "%s", gr->gr_name);
	else
		snprintf(group, len, "%u", (unsigned)gid);
}

/* conf_check_mine - every check, with this process's rights; the errors */
static int
conf_check_mine(const struct conf *c, FILE *err)
{
	char user[64], group[64];
	struct conf_check_who who = { user, group };
	int bad;

	conf_check_who_of(geteuid(), getegid(), user, group, sizeof(user));
	bad = conf_check_as_user(c, &who, err);
	return bad;
}

/* conf_check_child - run the checks in a child that became pw; the errors */
static int
conf_check_child(const struct conf *c, const struct passwd *pw, FILE *err)
{
	pid_t pid;
	int status, bad;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(err, "cannot fork to check as user %s: %s\n", pw->pw_name,
		    strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0) {
			fprintf(err, "cannot become user %s: %s\n", pw->pw_name,
			    strerror(errno));
			fflush(err);
			_exit(1);
		}
		bad = conf_check_mine(c, err);
		fflush(err);
		_exit(bad > 100 ? 100 : bad);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* conf_check_start - what start and reload will meet, as the daemon's user */
int
conf_check_start(const struct conf *c, FILE *err)
{
	int bad = conf_check_socket_dir(c, err);
	struct passwd *pw;

	if (geteuid() != 0)	/* not started as root: the daemon stays this user */
		return bad + conf_check_mine(c, err);
	if (c->user[0] == '\0')
		return bad;	/* stays root */
	if ((pw = getpwnam(c->user)) == NULL) {
		fprintf(err, "user: \"%s\" does not exist; start would fail (create it: "
		    "adduser --system --group %s, or set user in %s)\n", c->user, c->user,
		    c->path);
		return bad + 1;
	}
	return bad + conf_check_child(c, pw, err);
}
