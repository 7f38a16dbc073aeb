/* keygen_rotate - authmilter-keygen --rotate: move every domain of the keys
 * directory one step along its key rotation (dkim_rotate.c plans, this module
 * applies).
 *
 *   keygen_rotate   the whole run: lock, read, tidy, look up, plan, apply, report
 *
 * Crash safety: the state file (dkim_rotate_state.h) is the truth, replaced
 * whole by rename. A run first writes the new keys' files, then moves released
 * keys out, then commits the state, then moves files to where the state puts
 * them (active keys in the keys directory, the others in its .rotate). Every
 * run starts by finishing that last part, deleting key files in .rotate that
 * no state names (made by a run that died before its commit) and dropping
 * withdrawn keys whose file is gone (moved out by a run that died before its
 * commit). So a run killed between any two file operations leaves a state the
 * next run completes. An flock on .rotate/lock keeps a second run out.
 *
 * AUTHMILTER_ROTATE_CRASH_AFTER=N in the environment is a test hook: the run
 * kills itself with SIGKILL right after its N-th file operation.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "dkim_key.h"
#include "dkim_keycheck.h"
#include "dkim_rotate.h"
#include "dkim_rotate_state.h"
#include "dns.h"
#include "keygen.h"
#include "rfc5322.h"
#include "xalloc.h"

#define ROT_EXIT_OK	0
#define ROT_EXIT_ASK	1	/* a record must be published or withdrawn */
#define ROT_EXIT_ERROR	2

/* One run: the configuration, the keys and what is known of each. */
struct rot {
	const struct conf *c;
	const char	*dir;		/* dkim.keys_directory */
	struct buf	 rdir;		/* dir/.rotate */
	int64_t		 now;
	bool		 dry_run;
	struct dkim_rotate_key *keys;	/* the state, then the plan's keys */
	size_t		 n;
	struct dkim_key	**key;		/* parallel to keys: the loaded key */
	char		**pub;		/* parallel to keys: its p= value */
};

static long rot_crash_after = -1;	/* the test hook */
static long rot_ops;

/* rot_op - count one file operation; the test hook's kill comes here */
static void
rot_op(void)
{
	if (rot_crash_after >= 0 && ++rot_ops >= rot_crash_after)
		kill(getpid(), SIGKILL);
}

/* rot_sync_dir - make the directory's entries durable */
static bool
rot_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd != -1 && fsync(fd) == 0;

	if (fd != -1)
		close(fd);
	if (!ok)
		fprintf(stderr, "%s: %s: fsync: %s\n", keygen_prog, dir, strerror(errno));
	return ok;
}

/* rot_rename - one rename, synced, counted; false after printing why */
static bool
rot_rename(const char *from, const char *to)
{
	if (rename(from, to) == -1) {
		fprintf(stderr, "%s: rename %s to %s: %s\n", keygen_prog, from, to,
		    strerror(errno));
		return false;
	}
	rot_op();
	return true;
}

/* rot_write_file - text into path by a synced temporary file and a rename */
static bool
rot_write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	struct buf tmp = BUF_INIT;
	bool ok = false;
	int fd;

	buf_printf(&tmp, "%s.tmp", path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1 || write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, tmp.data, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, tmp.data, strerror(errno));
		goto out;
	}
	rot_op();
	ok = rot_rename(tmp.data, path);
out:
	buf_free(&tmp);
	return ok;
}

/* rot_path - where key i is, or is to be, in its state */
static void
rot_path(const struct rot *r, size_t i, bool active, struct buf *out)
{
	buf_reset(out);
	dkim_rotate_key_path(r->dir, &r->keys[i], active, out);
}

/* rot_exists - is there a file at path? */
static bool
rot_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* rot_place - put key i's file where its state says; a withdrawn key whose
 * file is gone was released by a run that died before its commit */
static bool
rot_place(struct rot *r, size_t i)
{
	struct buf want = BUF_INIT, other = BUF_INIT;
	bool active = r->keys[i].state == DKIM_ROTATE_ACTIVE, ok = true;

	rot_path(r, i, active, &want);
	rot_path(r, i, !active, &other);
	if (rot_exists(want.data))
		;
	else if (rot_exists(other.data))
		ok = r->dry_run || rot_rename(other.data, want.data);
	else if (r->keys[i].state == DKIM_ROTATE_WITHDRAWN)
		r->keys[i].release = true;
	else {
		fprintf(stderr, "%s: %s: the %s key %s of %s has no file\n", keygen_prog,
		    want.data, dkim_rotate_state_name(r->keys[i].state),
		    r->keys[i].selector, r->keys[i].domain);
		ok = false;
	}
	buf_free(&want);
	buf_free(&other);
	return ok;
}

/* rot_known - is SELECTOR.DOMAIN.key (file name) a key of the state? */
static bool
rot_known(const struct rot *r, const char *name)
{
	struct buf b = BUF_INIT;
	bool found = false;

	for (size_t i = 0; i < r->n && !found; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s.%s.key", r->keys[i].selector, r->keys[i].domain);
		found = strcmp(b.data, name) == 0;
	}
	buf_free(&b);
	return found;
}

/* rot_adopt - a key file of the keys directory that rotation did not make: an
 * active key from now on (its interval counts from this run) */
static void
rot_adopt(struct rot *r, const char *name)
{
	const char *dot = strchr(name, '.');
	size_t len = strlen(name);
	struct dkim_rotate_key k = { .state = DKIM_ROTATE_ACTIVE, .created = r->now,
	    .activated = r->now };
	struct buf path = BUF_INIT;
	char err[512], *dom;
	struct dkim_key *key;

	if (dot == NULL || dot == name || len < 5 || strcmp(name + len - 4, ".key") != 0 ||
	    (size_t)(dot - name) >= sizeof(k.selector))
		return;		/* the daemon says what is wrong with it */
	dom = xstrndup(dot + 1, (size_t)(name + len - 4 - dot - 1));
	if (!rfc5322_domain_normalise(dom, k.domain, sizeof(k.domain)) ||
	    strcmp(dom, k.domain) != 0) {
		free(dom);
		return;
	}
	free(dom);
	memcpy(k.selector, name, (size_t)(dot - name));
	buf_printf(&path, "%s/%s", r->dir, name);
	key = dkim_key_load(path.data, false, err, sizeof(err));
	buf_free(&path);
	if (key == NULL)
		return;
	k.alg = key->alg;
	dkim_key_free(key);
	r->keys = xreallocarray(r->keys, r->n + 1, sizeof(*r->keys));
	r->keys[r->n++] = k;
	printf("adopted: %s._domainkey.%s (%s, active from now)\n", k.selector, k.domain,
	    k.alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa");
}

/* rot_scan - orphans out of .rotate (files made by a run that died before its
 * commit), hand-made keys of the keys directory adopted; false on an error */
static bool
rot_scan(struct rot *r, const char *dir, bool rotdir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct buf p = BUF_INIT;
	bool ok = true;

	if (d == NULL)
		return errno == ENOENT && rotdir;
	while (ok && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		bool key = len > 4 && strcmp(e->d_name + len - 4, ".key") == 0;
		bool tmp = len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0;

		if (e->d_name[0] == '.' || (!key && !(rotdir && tmp)) ||
		    rot_known(r, e->d_name))
			continue;
		if (!rotdir) {
			rot_adopt(r, e->d_name);
			continue;
		}
		if (r->dry_run)
			continue;
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, e->d_name);
		if (unlink(p.data) == -1) {
			fprintf(stderr, "%s: %s: %s\n", keygen_prog, p.data, strerror(errno));
			ok = false;
		} else
			rot_op();
	}
	closedir(d);
	buf_free(&p);
	return ok;
}

/* rot_lock - make .rotate and hold its lock for the run; -1 after printing why */
static int
rot_lock(struct rot *r)
{
	struct buf lock = BUF_INIT;
	int fd;

	if (mkdir(r->rdir.data, S_IRWXU) == 0) {
		rot_op();
		if (!rot_sync_dir(r->dir))
			return -1;
	} else if (errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, r->rdir.data, strerror(errno));
		return -1;
	}
	buf_printf(&lock, "%s/%s", r->rdir.data, DKIM_ROTATE_LOCK);
	fd = open(lock.data, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (fd == -1)
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, lock.data, strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, lock.data,
		    errno == EWOULDBLOCK ? "another authmilter-keygen --rotate is running" :
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	buf_free(&lock);
	return fd;
}

/* rot_commit - the state file, replaced whole */
static bool
rot_commit(struct rot *r)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	bool ok;

	dkim_rotate_state_format(r->keys, r->n, &text);
	buf_printf(&path, "%s/%s", r->rdir.data, DKIM_ROTATE_STATE);
	ok = rot_write_file(path.data, text.data, text.len, S_IRUSR | S_IWUSR) &&
	    rot_sync_dir(r->rdir.data);
	buf_free(&text);
	buf_free(&path);
	return ok;
}

/* rot_load_keys - the private key and p= of keys from..n (new keys: made
 * now, in memory); false after printing why */
static bool
rot_load_keys(struct rot *r, size_t from)
{
	struct buf path = BUF_INIT;
	char err[512];
	bool ok = true;

	r->key = xreallocarray(r->key, r->n ? r->n : 1, sizeof(*r->key));
	r->pub = xreallocarray(r->pub, r->n ? r->n : 1, sizeof(*r->pub));
	for (size_t i = from; i < r->n; i++) {
		r->key[i] = NULL;
		r->pub[i] = NULL;
	}
	for (size_t i = from; ok && i < r->n; i++) {
		const struct dkim_rotate_key *k = &r->keys[i];

		if (k->make) {
			EVP_PKEY *pk = keygen_new_pkey(k->alg, (long)r->c->dkim.rotate.rsa_bits);

			r->key[i] = pk ? dkim_key_new(pk, k->selector, err, sizeof(err)) : NULL;
		} else {
			rot_path(r, i, k->state == DKIM_ROTATE_ACTIVE, &path);
			if (!rot_exists(path.data))	/* dry run: not yet moved */
				rot_path(r, i, k->state != DKIM_ROTATE_ACTIVE, &path);
			r->key[i] = dkim_key_load(path.data, false, err, sizeof(err));
		}
		if (r->key[i] == NULL || (r->pub[i] = dkim_key_public_b64(r->key[i])) == NULL) {
			fprintf(stderr, "%s: %s\n", keygen_prog, r->key[i] ? "encoding a "
			    "public key failed" : err);
			ok = false;
		}
	}
	buf_free(&path);
	return ok;
}

/* rot_tidy - finish what a run that died left: files where the state puts
 * them, orphans out of .rotate, released keys out of the state; then adopt
 * hand-made keys. False on an error. */
static bool
rot_tidy(struct rot *r)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n; i++)
		if (!rot_place(r, i))
			return false;
	for (size_t i = 0; i < r->n; i++)
		if (!r->keys[i].release)
			r->keys[kept++] = r->keys[i];
	r->n = kept;
	return rot_scan(r, r->rdir.data, true) && rot_scan(r, r->dir, false);
}

/* rot_look - what DNS shows of every key, through the daemon's resolver */
static bool
rot_look(struct rot *r)
{
	struct dns_options opts = { .nameservers = r->c->dns.nameservers,
	    .n_nameservers = r->c->dns.n_nameservers,
	    .timeout_ms = r->c->dns.timeout * 1000,
	    .trust_anchor = r->c->dns.trust_anchor };
	char err[256];
	struct dns_resolver *res = dns_resolver_new(&opts, err, sizeof(err));

	if (res == NULL) {
		fprintf(stderr, "%s: resolver: %s\n", keygen_prog, err);
		return false;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct dkim_keycheck kc;

		if (r->keys[i].release)
			continue;
		switch (dkim_keycheck_run(res, r->keys[i].domain, r->keys[i].selector,
		    r->key[i], &kc)) {
		case DKIM_KEYCHECK_MATCH:
			r->keys[i].dns = DKIM_ROTATE_DNS_SHOWN;
			break;
		case DKIM_KEYCHECK_MISMATCH:
		case DKIM_KEYCHECK_MISSING:
			r->keys[i].dns = DKIM_ROTATE_DNS_ABSENT;
			break;
		case DKIM_KEYCHECK_TEMPFAIL:
			r->keys[i].dns = DKIM_ROTATE_DNS_UNKNOWN;
			printf("# %s: lookup failed (%s); nothing is decided on it\n",
			    buf_cstr(&kc.name), buf_cstr(&kc.why));
			break;
		}
		dkim_keycheck_clear(&kc);
	}
	dns_resolver_free(res);
	return true;
}

/* rot_release - key i's file leaves the keys directory: to publish_private
 * (its private half made public: old mail is no longer non-repudiable) or
 * deleted */
static bool
rot_release(struct rot *r, size_t i)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	const char *pp = r->c->dkim.rotate.publish_private;
	bool ok;

	rot_path(r, i, false, &from);
	if (pp[0] != '\0') {
		buf_printf(&to, "%s/%s.%s.key", pp, r->keys[i].selector, r->keys[i].domain);
		ok = chmod(from.data, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) == 0 &&
		    rename(from.data, to.data) == 0;
	} else
		ok = unlink(from.data) == 0;
	if (!ok)
		fprintf(stderr, "%s: releasing %s%s%s: %s\n", keygen_prog, from.data,
		    pp[0] ? " to " : "", pp, strerror(errno));
	else
		rot_op();
	buf_free(&from);
	buf_free(&to);
	return ok && (pp[0] == '\0' || rot_sync_dir(pp));
}

/* rot_apply - new keys' files, released keys out, the commit, the moves */
static bool
rot_apply(struct rot *r)
{
	struct buf path = BUF_INIT;
	bool ok = true;

	for (size_t i = 0; ok && i < r->n; i++) {
		if (!r->keys[i].make)
			continue;
		rot_path(r, i, false, &path);
		ok = keygen_write_pem(path.data, r->key[i]->pkey);
		if (ok)
			rot_op();
	}
	ok = ok && rot_sync_dir(r->rdir.data);
	for (size_t i = 0; ok && i < r->n; i++)
		if (r->keys[i].release && r->key[i] != NULL)
			ok = rot_release(r, i);
	ok = ok && rot_commit(r);
	for (size_t i = 0; ok && i < r->n; i++)
		if (!r->keys[i].release)
			ok = rot_place(r, i);
	ok = ok && rot_sync_dir(r->dir) && rot_sync_dir(r->rdir.data);
	buf_free(&path);
	return ok;
}

/* rot_zone - the records DNS must hold now, one per line, into zone */
static bool
rot_zone(const struct rot *r, const char *zone)
{
	struct buf text = BUF_INIT, rec = BUF_INIT;
	bool ok;

	buf_printf(&text, "; authmilter-keygen --rotate at %" PRId64 ": pending, active "
	    "and retired keys\n", r->now);
	for (size_t i = 0; i < r->n; i++) {
		if (!dkim_rotate_in_zone(&r->keys[i]))
			continue;
		buf_reset(&rec);
		dkim_keycheck_zone_record(r->keys[i].selector, r->keys[i].domain,
		    r->keys[i].alg, r->pub[i], &rec);
		buf_printf(&text, "%s ; %s\n", buf_cstr(&rec),
		    dkim_rotate_state_name(r->keys[i].state));
	}
	ok = rot_write_file(zone, text.data, text.len, S_IRUSR | S_IWUSR | S_IRGRP |
	    S_IROTH);
	buf_free(&text);
	buf_free(&rec);
	return ok;
}

/* rot_report - what changed and what the operator must do; true if anything
 * waits on the operator */
static bool
rot_report(const struct rot *r, const struct dkim_rotate_key *before, size_t n_before,
    const struct dkim_rotate_plan *plan)
{
	struct buf rec = BUF_INIT;

	for (size_t i = 0; i < r->n; i++) {
		const struct dkim_rotate_key *k = &r->keys[i];
		const char *alg = k->alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa";

		if (k->make)
			printf("made: %s._domainkey.%s (%s, pending)\n", k->selector,
			    k->domain, alg);
		else if (k->release)
			printf("released: %s._domainkey.%s (%s%s)\n", k->selector, k->domain,
			    r->c->dkim.rotate.publish_private[0] ? "private key to " :
			    "deleted", r->c->dkim.rotate.publish_private);
		else if (i < n_before && before[i].state != k->state)
			printf("%s: %s._domainkey.%s (%s)\n", dkim_rotate_state_name(k->state),
			    k->selector, k->domain, alg);
	}
	for (size_t i = 0; i < plan->n_asks; i++) {
		const struct dkim_rotate_key *k = &r->keys[plan->asks[i].key];

		buf_reset(&rec);
		dkim_keycheck_zone_record(k->selector, k->domain, k->alg,
		    r->pub[plan->asks[i].key], &rec);
		printf("%s: %s\n", plan->asks[i].what == DKIM_ROTATE_ASK_PUBLISH ? "publish" :
		    "withdraw", buf_cstr(&rec));
	}
	buf_free(&rec);
	return plan->n_asks > 0;
}

/* rot_free - what a run holds */
static void
rot_free(struct rot *r)
{
	for (size_t i = 0; r->key != NULL && i < r->n; i++) {
		dkim_key_free(r->key[i]);
		free(r->pub[i]);
	}
	free(r->key);
	free(r->pub);
	free(r->keys);
	buf_free(&r->rdir);
}

/* rot_run - a locked run: tidy, look, plan, apply, report */
static int
rot_run(struct rot *r, const char *zone)
{
	const struct conf *c = r->c;
	struct dkim_rotate_params p = { .rsa = c->dkim.rotate.rsa,
	    .ed25519 = c->dkim.rotate.ed25519, .interval = c->dkim.rotate.interval,
	    .publish_wait = c->dkim.rotate.publish_wait,
	    .retire_after = c->dkim.rotate.retire_after };
	struct dkim_rotate_plan plan;
	struct dkim_rotate_key *before;
	size_t n_before;
	char err[512];
	bool ask;

	if (!dkim_rotate_state_load(r->dir, &r->keys, &r->n, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", keygen_prog, err);
		return ROT_EXIT_ERROR;
	}
	if (!rot_tidy(r) || !rot_load_keys(r, 0) || !rot_look(r))
		return ROT_EXIT_ERROR;
	dkim_rotate_plan(r->keys, r->n, &p, r->now, &plan);
	before = r->keys;
	n_before = r->n;
	r->keys = xreallocarray(NULL, plan.n ? plan.n : 1, sizeof(*r->keys));
	memcpy(r->keys, plan.keys, plan.n * sizeof(*r->keys));
	r->n = plan.n;
	if (!rot_load_keys(r, n_before) || (!r->dry_run && !rot_apply(r)) ||
	    (!r->dry_run && zone != NULL && !rot_zone(r, zone))) {
		free(before);
		dkim_rotate_plan_free(&plan);
		return ROT_EXIT_ERROR;
	}
	ask = rot_report(r, before, n_before, &plan);
	free(before);
	dkim_rotate_plan_free(&plan);
	if (fflush(stdout) != 0)
		return ROT_EXIT_ERROR;
	return ask ? ROT_EXIT_ASK : ROT_EXIT_OK;
}

/* keygen_rotate - one rotation run of the configuration's keys directory */
int
keygen_rotate(const char *config, int64_t now, const char *zone, bool dry_run)
{
	const char *hook = getenv("AUTHMILTER_ROTATE_CRASH_AFTER");
	struct rot r = { .now = now, .dry_run = dry_run, .rdir = BUF_INIT };
	struct conf *c;
	int rc, lock = -1;

	if (hook != NULL && hook[0] != '\0')
		rot_crash_after = strtol(hook, NULL, 10);
	if ((c = conf_load(config, stderr)) == NULL)
		return ROT_EXIT_ERROR;
	r.c = c;
	r.dir = c->dkim.keys_directory;
	if (!c->dkim.rotate.enable || r.dir[0] == '\0') {
		printf("# %s: nothing to rotate\n", r.dir[0] == '\0' ?
		    "dkim.keys_directory is empty" : "dkim.rotate.enable is false");
		conf_free(c);
		return ROT_EXIT_OK;
	}
	buf_printf(&r.rdir, "%s/%s", r.dir, DKIM_ROTATE_DIR);
	if (!dry_run && (lock = rot_lock(&r)) == -1)
		rc = ROT_EXIT_ERROR;
	else
		rc = rot_run(&r, zone);
	if (lock != -1)
		close(lock);	/* and with it the lock */
	rot_free(&r);
	conf_free(c);
	return rc;
}
