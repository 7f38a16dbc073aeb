/* migrate_signtable - OpenDKIM's KeyTable and SigningTable in authmilter's model.
 *
 * migrate_odkim_tables reads both data sets. Each SigningTable line "PATTERN
 * KEYNAME" names the senders a KeyTable key "KEYNAME DOMAIN:SELECTOR:KEYFILE"
 * signs for. authmilter signs by the From domain: a key section's domain, and
 * with subdomains = true every name under it. So *@D (refile:) or D / @D (file:)
 * with a key of d=D is a key section; *@*.D, *.D or .D adds subdomains = true
 * (authmilter then also signs D itself: the row says so). A "%" in the key's
 * domain or file is the sender's domain, as in OpenDKIM. One address, a key
 * whose d= is another domain, or a catch-all pattern cannot be expressed; each
 * is a row that says what to do.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate.h"
#include "xalloc.h"

/* migrate_kt - one KeyTable entry (pointers into a migrate_set line) */
struct migrate_kt {
	const char	*name;
	char		*domain, *selector, *file;
	const char	*where;
	bool		 used;
};

/* migrate_kt_parse - "NAME DOMAIN:SELECTOR:KEYFILE"; false if malformed */
static bool
migrate_kt_parse(const struct migrate_line *l, struct migrate_kt *k)
{
	char *copy = xstrdup(l->text), *sp = copy + strcspn(copy, " \t");
	char *v, *c1, *c2;

	memset(k, 0, sizeof(*k));
	if (*sp == '\0') {
		free(copy);
		return false;
	}
	*sp++ = '\0';
	v = sp + strspn(sp, " \t");
	c1 = strchr(v, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c1 == NULL || c2 == NULL || c1 == v || c2 == c1 + 1 || c2[1] == '\0') {
		free(copy);
		return false;
	}
	*c1 = *c2 = '\0';
	k->name = l->text;	/* the name is the line's first word */
	k->domain = xstrdup(v);
	k->selector = xstrdup(c1 + 1);
	k->file = xstrdup(c2 + 1);
	k->where = l->where;
	free(copy);
	return true;
}

/* migrate_kt_find - the KeyTable entry called name (len bytes) */
static struct migrate_kt *
migrate_kt_find(struct migrate_kt *kt, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(kt[i].name, " \t");

		if (strlen(name) == len && strncmp(kt[i].name, name, len) == 0)
			return &kt[i];
	}
	return NULL;
}

/* migrate_subst - s with every "%" replaced by domain (caller frees) */
static char *
migrate_subst(const char *s, const char *domain)
{
	struct buf b = BUF_INIT;

	for (; *s != '\0'; s++)
		if (*s == '%')
			buf_puts(&b, domain);
		else
			buf_putc(&b, *s);
	return buf_steal(&b);
}

/* migrate_pattern - the From domain a SigningTable pattern covers, and whether
 * it covers the names under it; NULL if it is not one of the forms above */
static const char *
migrate_pattern(const char *p, bool is_re, bool *sub)
{
	*sub = false;
	if (is_re) {
		if (strncmp(p, "*@*.", 4) == 0) {
			*sub = true;
			p += 4;
		} else if (strncmp(p, "*@", 2) == 0)
			p += 2;
		else if (strncmp(p, "*.", 2) == 0) {
			*sub = true;
			p += 2;
		} else
			return NULL;
	} else if (p[0] == '.') {
		*sub = true;
		p++;
	} else if (p[0] == '@' || strncmp(p, "*@", 2) == 0)
		p += p[0] == '@' ? 1 : 2;
	else if (strchr(p, '@') != NULL)
		return NULL;
	if (*p == '\0' || strpbrk(p, "*@?[]") != NULL || strchr(p, '.') == NULL)
		return NULL;
	return p;
}

/* migrate_st_line - one SigningTable line */
static void
migrate_st_line(struct migrate *m, const struct migrate_line *l, bool is_re,
    struct migrate_kt *kt, size_t nkt, bool subdomains)
{
	char *pat = xstrdup(l->text), *name = pat + strcspn(pat, " \t");
	const char *dom;
	struct migrate_kt *k;
	bool sub;

	if (*name != '\0')
		*name++ = '\0';
	name += strspn(name, " \t");
	name[strcspn(name, " \t")] = '\0';	/* several keys: OpenDKIM 2.11 takes one */
	if ((k = migrate_kt_find(kt, nkt, name)) == NULL)
		migrate_row(m, l->where, "SigningTable", l->text, MIGRATE_NOT_SUPPORTED,
		    "no KeyTable entry named \"%s\"", name);
	else if ((dom = migrate_pattern(pat, is_re, &sub)) == NULL)
		migrate_row(m, l->where, "SigningTable", l->text, MIGRATE_NOT_SUPPORTED,
		    "authmilter signs by From domain (a key section's domain, and with "
		    "subdomains = true the names under it); \"%s\" is %s: sign the whole "
		    "domain, or keep this sender's signing elsewhere", pat,
		    strchr(pat, '@') && pat[0] != '*' ? "one address" : "not *@DOMAIN or *@*.DOMAIN");
	else {
		char *d = migrate_subst(k->domain, dom), *f = migrate_subst(k->file, dom);

		k->used = true;
		if (strcasecmp(d, dom) != 0)
			migrate_row(m, l->where, "SigningTable", l->text, MIGRATE_NOT_SUPPORTED,
			    "key %s signs with d=%s for mail from %s%s: authmilter signs with "
			    "d= the From domain (or, with subdomains, its parent): publish a key "
			    "for %s", name, d, sub ? "subdomains of " : "", dom, dom);
		else
			migrate_key_row(m, l->where, "SigningTable", l->text, d, k->selector, f,
			    sub || subdomains);
		if (sub && strcasecmp(d, dom) == 0)
			buf_printf(&m->notes, "%s: subdomains = true also signs mail from %s "
			    "itself (OpenDKIM's pattern did only for names under it)\n",
			    l->where, dom);
		free(d);
		free(f);
	}
	free(pat);
}

/* migrate_odkim_tables - KeyTable and SigningTable into key sections */
bool
migrate_odkim_tables(struct migrate *m, const char *ktspec, const char *kt_at,
    const char *stspec, const char *st_at, bool subdomains)
{
	struct migrate_set kts = { NULL, 0 }, sts = { NULL, 0 };
	struct migrate_kt *kt = NULL;
	size_t nkt = 0;
	bool is_re = false, ok = true;

	if (ktspec == NULL || stspec == NULL) {
		migrate_row(m, kt_at ? kt_at : st_at, kt_at ? "KeyTable" : "SigningTable",
		    ktspec ? ktspec : stspec, MIGRATE_NOT_SUPPORTED,
		    "signing needs both KeyTable and SigningTable");
		return true;
	}
	if (!migrate_read_set(kt_at, ktspec, false, &kts, NULL) ||
	    !migrate_read_set(st_at, stspec, false, &sts, &is_re)) {
		migrate_set_free(&kts);
		return false;
	}
	migrate_row(m, kt_at, "KeyTable", ktspec, MIGRATE_MAPPED,
	    "%zu keys read; the keys stay where they are", kts.n);
	migrate_row(m, st_at, "SigningTable", stspec, MIGRATE_MAPPED,
	    "%zu entries, one row each", sts.n);
	kt = xcalloc(kts.n ? kts.n : 1, sizeof(*kt));
	for (size_t i = 0; i < kts.n; i++) {
		if (!migrate_kt_parse(&kts.v[i], &kt[nkt])) {
			fprintf(stderr, "%s: KeyTable: want \"NAME DOMAIN:SELECTOR:KEYFILE\"\n",
			    kts.v[i].where);
			ok = false;
			break;
		}
		nkt++;
	}
	for (size_t i = 0; ok && i < sts.n; i++)
		migrate_st_line(m, &sts.v[i], is_re, kt, nkt, subdomains);
	for (size_t i = 0; i < nkt; i++) {
		if (ok && !kt[i].used)
			migrate_row(m, kt[i].where, "KeyTable", kt[i].name, MIGRATE_NOT_NEEDED,
			    "no SigningTable line uses this key, so OpenDKIM never signed with it");
		free(kt[i].domain), free(kt[i].selector), free(kt[i].file);
	}
	free(kt);
	migrate_set_free(&kts);
	migrate_set_free(&sts);
	return ok;
}
