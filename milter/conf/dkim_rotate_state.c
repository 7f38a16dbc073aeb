/* dkim_rotate_state - the rotation state file of a keys directory.
 *
 *   dkim_rotate_state_load    the file's keys (caller frees the array)
 *   dkim_rotate_state_format  the file's text for a set of keys
 *   dkim_rotate_key_path      where a key's file lives in a state
 *
 * The file is written only by authmilter-keygen --rotate, whole and by rename;
 * a line this module cannot read is an error, not a guess.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_rotate_state.h"
#include "xalloc.h"

/* dkim_rotate_state_word - a state's word back to the state; false if unknown */
static bool
dkim_rotate_state_word(const char *w, enum dkim_rotate_state *s)
{
	for (int i = DKIM_ROTATE_PENDING; i <= DKIM_ROTATE_WITHDRAWN; i++)
		if (strcmp(w, dkim_rotate_state_name((enum dkim_rotate_state)i)) == 0) {
			*s = (enum dkim_rotate_state)i;
			return true;
		}
	return false;
}

/* dkim_rotate_state_line - one line into k; false when it is not a key line */
static bool
dkim_rotate_state_line(const char *line, struct dkim_rotate_key *k)
{
	char domain[DKIM_ROTATE_DOMAIN_MAX], sel[DKIM_ROTATE_SELECTOR_MAX], alg[16], st[16];
	int64_t t[5];
	int used = 0;

	memset(k, 0, sizeof(*k));
	if (sscanf(line, "%255s %63s %15s %15s %" SCNd64 " %" SCNd64 " %" SCNd64 " %"
	    SCNd64 " %" SCNd64 "%n", domain, sel, alg, st, &t[0], &t[1], &t[2], &t[3],
	    &t[4], &used) != 9 || line[used] != '\0')
		return false;
	if (strcmp(alg, "rsa") == 0)
		k->alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(alg, "ed25519") == 0)
		k->alg = DKIM_ALG_ED25519_SHA256;
	else
		return false;
	if (!dkim_rotate_state_word(st, &k->state))
		return false;
	memcpy(k->domain, domain, sizeof(domain));
	memcpy(k->selector, sel, sizeof(sel));
	k->created = t[0];
	k->seen = t[1];
	k->activated = t[2];
	k->retired = t[3];
	k->withdrawn = t[4];
	return true;
}

/* dkim_rotate_state_load - read the state file, every line or nothing */
bool
dkim_rotate_state_load(const char *keysdir, struct dkim_rotate_key **keys, size_t *n,
    char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	char line[1024];
	unsigned lineno = 0;
	FILE *fp;
	bool ok = true;

	*keys = NULL;
	*n = 0;
	buf_printf(&path, "%s/%s/%s", keysdir, DKIM_ROTATE_DIR, DKIM_ROTATE_STATE);
	if ((fp = fopen(path.data, "re")) == NULL) {
		ok = errno == ENOENT;
		if (!ok)
			snprintf(err, errlen, "%s: %s", path.data, strerror(errno));
		buf_free(&path);
		return ok;
	}
	while (ok && fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);
		struct dkim_rotate_key k;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (*n >= DKIM_ROTATE_MAX_KEYS || !dkim_rotate_state_line(line, &k)) {
			snprintf(err, errlen, "%s:%u: not a key line (DOMAIN SELECTOR "
			    "rsa|ed25519 STATE and five times)", path.data, lineno);
			ok = false;
			break;
		}
		*keys = xreallocarray(*keys, *n + 1, sizeof(**keys));
		(*keys)[(*n)++] = k;
	}
	if (ok && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path.data);
		ok = false;
	}
	fclose(fp);
	buf_free(&path);
	if (!ok) {
		free(*keys);
		*keys = NULL;
		*n = 0;
	}
	return ok;
}

/* dkim_rotate_state_format - a comment, then one line per key kept */
void
dkim_rotate_state_format(const struct dkim_rotate_key *keys, size_t n, struct buf *out)
{
	buf_puts(out, "# authmilter-keygen --rotate state: DOMAIN SELECTOR ALG STATE "
	    "CREATED SEEN ACTIVATED RETIRED WITHDRAWN\n# written by the tool; "
	    "do not edit while it may run\n");
	for (size_t i = 0; i < n; i++) {
		const struct dkim_rotate_key *k = &keys[i];

		if (k->release)
			continue;
		buf_printf(out, "%s %s %s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
		    " %" PRId64 "\n", k->domain, k->selector,
		    k->alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa",
		    dkim_rotate_state_name(k->state), k->created, k->seen, k->activated,
		    k->retired, k->withdrawn);
	}
}

/* dkim_rotate_key_path - KEYSDIR[/.rotate]/SELECTOR.DOMAIN.key */
void
dkim_rotate_key_path(const char *keysdir, const struct dkim_rotate_key *k, bool active,
    struct buf *out)
{
	buf_printf(out, "%s%s%s/%s.%s.key", keysdir, active ? "" : "/",
	    active ? "" : DKIM_ROTATE_DIR, k->selector, k->domain);
}
