/* dkim_keytable - signing keys by domain: key sections and a keys directory.
 *
 * dkim_keytable_new reads every entry of dkim.keys_directory (each must be a
 * regular file named SELECTOR.DOMAIN.key, the name authmilter-keygen writes, with
 * an RSA or Ed25519 private key, not readable by group or others when
 * require_safe_keys; the key rotation's DKIM_ROTATE_DIR is skipped: the keys
 * in it do not sign), checks that no selector of a domain is given twice (two
 * files, or a file and a key section), and sorts all keys by domain. Every
 * problem is printed as "FILE: what is wrong" and any problem means NULL.
 * dkim_keytable_match finds a domain's keys by binary search; dkim_keytable_free
 * releases what the table owns (the directory's keys; the sections' keys belong
 * to the conf). dkim_keytable_count/_at walk the keys in configured order.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dkim_key.h"
#include "dkim_keytable.h"
#include "dkim_rotate_state.h"
#include "rfc5322.h"
#include "xalloc.h"

#define DKIM_KEYTABLE_SUFFIX	".key"
/* A selector label (RFC 6376 §3.1 allows dotted selectors; a file name cannot
 * tell their dots from the domain's, so a directory's selectors are one label). */
#define DKIM_KEYTABLE_SELECTOR_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

struct dkim_keytable_entry {
	const struct conf_key	*k;
	size_t			 order;	/* sections first, then files by name */
};

struct dkim_keytable {
	struct conf_key		*files;		/* the directory's keys, owned */
	size_t			 n_files;
	size_t			 n_sections;	/* orders below this are key sections */
	struct dkim_keytable_entry *by_order;	/* every key, configured order */
	struct dkim_keytable_entry *by_domain;	/* the same, sorted by (domain, order) */
	size_t			 n;
};

/* dkim_keytable_entry_cmp - qsort order: domain, then configured order */
static int
dkim_keytable_entry_cmp(const void *a, const void *b)
{
	const struct dkim_keytable_entry *x = a, *y = b;
	int c = strcmp(x->k->domain, y->k->domain);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* dkim_keytable_name_cmp - qsort order of file names */
static int
dkim_keytable_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dkim_keytable_list - the entry names of dir, sorted; NULL after printing why */
static char **
dkim_keytable_list(const char *dir, size_t *n, FILE *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (d == NULL) {
		fprintf(err, "%s: %s\n", dir, strerror(errno));
		return NULL;
	}
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		/* DKIM_ROTATE_DIR holds the keys that must not sign: pending,
		 * retired, withdrawn (authmilter-keygen --rotate) */
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, DKIM_ROTATE_DIR) == 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[(*n)++] = xstrdup(e->d_name);
	}
	if (errno != 0) {
		fprintf(err, "%s: %s\n", dir, strerror(errno));
		closedir(d);
		while (*n > 0)
			free(names[--*n]);
		free(names);
		return NULL;
	}
	closedir(d);
	if (*n > 0)
		qsort(names, *n, sizeof(*names), dkim_keytable_name_cmp);
	else
		names = xcalloc(1, sizeof(*names));	/* empty, not a failure */
	return names;
}

/* dkim_keytable_parse_name - "SELECTOR.DOMAIN.key" into its parts; false when the
 * name is not of that form (domain is normalised: lower case, A-labels) */
static bool
dkim_keytable_parse_name(const char *name, char **selector, char *domain, size_t dlen)
{
	size_t len = strlen(name), slen = strlen(DKIM_KEYTABLE_SUFFIX);
	const char *dot = strchr(name, '.');
	char *rest;
	bool ok;

	if (len <= slen || strcmp(name + len - slen, DKIM_KEYTABLE_SUFFIX) != 0 ||
	    dot == NULL || dot == name || dot >= name + len - slen)
		return false;
	if (strspn(name, DKIM_KEYTABLE_SELECTOR_CHARS) != (size_t)(dot - name))
		return false;
	rest = xstrndup(dot + 1, (size_t)(name + len - slen - dot - 1));
	ok = rest[0] != '\0' && rest[strlen(rest) - 1] != '.' &&
	    rfc5322_domain_normalise(rest, domain, dlen);
	free(rest);
	if (ok)
		*selector = xstrndup(name, (size_t)(dot - name));
	return ok;
}

/* dkim_keytable_load_file - one directory entry into k; NULL, or what is wrong
 * ("FILE: ...", caller frees) */
static char *
dkim_keytable_load_file(const char *dir, const char *name, bool require_safe,
    struct conf_key *k)
{
	struct buf path = BUF_INIT, why = BUF_INIT;
	char domain[256], err[512];

	buf_printf(&path, "%s/%s", dir, name);
	k->file = buf_steal(&path);
	k->name = xstrdup(k->file);	/* names the key in log lines */
	if (!dkim_keytable_parse_name(name, &k->selector, domain, sizeof(domain))) {
		buf_printf(&why, "%s: not a key file name: want SELECTOR.DOMAIN.key, as "
		    "authmilter-keygen writes (SELECTOR one label)", k->file);
		return buf_steal(&why);
	}
	k->domain = xstrdup(domain);
	k->key = dkim_key_load(k->file, require_safe, err, sizeof(err));
	if (k->key == NULL)
		return xstrdup(err);	/* err names the file */
	return NULL;
}

/* dkim_keytable_load_all - load every file, print every problem (in name order).
 * One thread: loading on two was slower here (OpenSSL 3.0 serialises key
 * creation on its own locks). */
static bool
dkim_keytable_load_all(const char *dir, char **names, size_t n, bool require_safe,
    struct conf_key *keys, FILE *err)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		char *why = dkim_keytable_load_file(dir, names[i], require_safe, &keys[i]);

		if (why != NULL) {
			fprintf(err, "%s\n", why);
			free(why);
			ok = false;
		}
	}
	return ok;
}

/* dkim_keytable_duplicates - report every selector given twice for one domain
 * (two files, or a file and a key section; conf.c reports two sections) */
static bool
dkim_keytable_duplicates(const struct dkim_keytable *t, const char *conf_path,
    FILE *err)
{
	bool ok = true;

	for (size_t i = 0; i < t->n; i++) {
		const struct conf_key *k = t->by_domain[i].k;

		if (t->by_domain[i].order < t->n_sections)
			continue;	/* a section: conf.c reports two sections */
		/* entries of one domain are in configured order: sections first */
		for (size_t j = i; j-- > 0 && strcmp(t->by_domain[j].k->domain,
		    k->domain) == 0;) {
			const struct conf_key *o = t->by_domain[j].k;

			if (strcasecmp(o->selector, k->selector) != 0)
				continue;
			if (t->by_domain[j].order < t->n_sections)
				fprintf(err, "%s: selector %s of %s is also key \"%s\" "
				    "(%s:%d)\n", k->file, k->selector, k->domain, o->name,
				    conf_path, o->line);
			else
				fprintf(err, "%s: selector %s of %s is also %s\n", k->file,
				    k->selector, k->domain, o->file);
			ok = false;
		}
	}
	return ok;
}

/* dkim_keytable_new - sections and directory, sorted by domain */
struct dkim_keytable *
dkim_keytable_new(const struct conf *c, FILE *err)
{
	struct dkim_keytable *t = xcalloc(1, sizeof(*t));
	const char *dir = c->dkim.keys_directory;
	char **names = NULL;
	size_t n_names = 0;
	bool ok = true;

	if (dir[0] != '\0' && (names = dkim_keytable_list(dir, &n_names, err)) == NULL)
		goto fail;
	t->files = xcalloc(n_names ? n_names : 1, sizeof(*t->files));
	t->n_files = n_names;
	ok = dkim_keytable_load_all(dir, names, n_names, c->dkim.require_safe_keys,
	    t->files, err);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	if (!ok)
		goto fail;
	t->n_sections = c->dkim.n_keys;
	t->n = c->dkim.n_keys + t->n_files;
	t->by_order = xcalloc(t->n ? t->n : 1, sizeof(*t->by_order));
	t->by_domain = xcalloc(t->n ? t->n : 1, sizeof(*t->by_domain));
	for (size_t i = 0; i < t->n; i++) {
		t->by_order[i].order = i;
		t->by_order[i].k = i < c->dkim.n_keys ? &c->dkim.keys[i] :
		    &t->files[i - c->dkim.n_keys];
	}
	memcpy(t->by_domain, t->by_order, t->n * sizeof(*t->by_domain));
	if (t->n > 0)
		qsort(t->by_domain, t->n, sizeof(*t->by_domain), dkim_keytable_entry_cmp);
	if (!dkim_keytable_duplicates(t, c->path, err))
		goto fail;
	return t;
fail:
	dkim_keytable_free(t);
	return NULL;
}

/* dkim_keytable_free - the directory's keys and the indexes; NULL is fine */
void
dkim_keytable_free(struct dkim_keytable *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_files; i++) {
		free(t->files[i].name);
		free(t->files[i].domain);
		free(t->files[i].selector);
		free(t->files[i].file);
		dkim_key_free(t->files[i].key);
	}
	free(t->files);
	free(t->by_order);
	free(t->by_domain);
	free(t);
}

/* dkim_keytable_first - index of the first entry of domain, or t->n */
static size_t
dkim_keytable_first(const struct dkim_keytable *t, const char *domain)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->by_domain[mid].k->domain, domain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && strcmp(t->by_domain[lo].k->domain, domain) == 0 ? lo : t->n;
}

/* dkim_keytable_match - the keys of domain and of parents that sign subdomains */
size_t
dkim_keytable_match(const struct dkim_keytable *t, const char *domain,
    const struct conf_key **out, size_t max)
{
	struct dkim_keytable_entry found[DKIM_KEYTABLE_MAX_MATCH];
	size_t n = 0;

	if (max > DKIM_KEYTABLE_MAX_MATCH)
		max = DKIM_KEYTABLE_MAX_MATCH;
	for (const char *d = domain; d != NULL && n < max;) {
		for (size_t i = dkim_keytable_first(t, d); i < t->n && n < max &&
		    strcmp(t->by_domain[i].k->domain, d) == 0; i++)
			if (d == domain || t->by_domain[i].k->subdomains)
				found[n++] = t->by_domain[i];
		d = strchr(d, '.');
		if (d != NULL)
			d++;
	}
	/* configured order across domain and parents: insertion sort, n is small */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && found[j - 1].order > found[j].order; j--) {
			struct dkim_keytable_entry x = found[j];

			found[j] = found[j - 1];
			found[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++)
		out[i] = found[i].k;
	return n;
}

/* dkim_keytable_count - how many keys */
size_t
dkim_keytable_count(const struct dkim_keytable *t)
{
	return t->n;
}

/* dkim_keytable_at - the i-th key in configured order */
const struct conf_key *
dkim_keytable_at(const struct dkim_keytable *t, size_t i)
{
	return t->by_order[i].k;
}
