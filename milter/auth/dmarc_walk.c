/* dmarc_walk - the RFC 9989 §4.10 DNS Tree Walk, without DNS of its own.
 *
 * dmarc_walk_names   the names one walk may query (at most 8; 8+ labels jump to 7)
 * dmarc_walk_run     asks the lookup function name by name, keeps the one DMARC
 *                    record of each name, stops at psd=y/n, then picks the
 *                    organizational domain (§4.10.2)
 * dmarc_walk_policy  which found record is the policy record (§4.10.1)
 * dmarc_walk_clear   frees the records the walk keeps
 *
 * Choices, documented in milter.conf(5):
 * - Several v=DMARC1 records at one name are all discarded and the walk goes on
 *   (§4.10 step 2 as written; RFC 7489 stopped there).
 * - A v=DMARC1 record with neither a valid p nor a valid rua is still a record for
 *   the walk (its psd stops it, it can be the org domain's); when it is the policy
 *   record, DMARC does not apply (§4.10.1).
 * - A v=DMARC1 record that is not a valid tag-list (a repeated tag) is discarded
 *   as if absent; the walk keeps the first such reason in invalid, for the log.
 * - A temporary failure stops the walk there: what lies above cannot be known to
 *   be the answer, and treating it as "no record" would let a sender escape.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dmarc_walk.h"
#include "trace.h"

/* dmarc_walk_names - the names a walk from domain may query, in order */
size_t
dmarc_walk_names(const char *domain, const char *names[DMARC_WALK_MAX])
{
	const char *label[128];
	size_t x = 0, n = 0, i;
	const char *p;

	if (domain == NULL || domain[0] == '\0')
		return 0;
	label[x++] = domain;
	for (p = domain; *p != '\0' && x < sizeof(label) / sizeof(label[0]); p++)
		if (*p == '.' && p[1] != '\0')
			label[x++] = p + 1;
	/* label[i] starts the suffix of x - i labels */
	i = 0;
	names[n++] = label[0];
	while (x - i > 1 && n < DMARC_WALK_MAX) {
		i = x - i >= 8 ? x - 7 : i + 1;
		names[n++] = label[i];
	}
	return n;
}

/* dmarc_walk_read_name - the one DMARC record among the TXT RRs of one name, if any */
static void
dmarc_walk_read_name(struct dmarc_walk *w, size_t k, const struct dns_answer *a)
{
	struct dmarc_record tmp;
	size_t i, found = 0;
	char err[96];

	for (i = 0; i < a->count; i++) {
		enum dmarc_record_kind kind = dmarc_record_read(a->rr[i].txt,
		    a->rr[i].txt_len, &tmp, err, sizeof(err));

		if (kind == DMARC_REC_INVALID && w->invalid[0] == '\0')
			snprintf(w->invalid, sizeof(w->invalid), "_dmarc.%s: %s",
			    w->names[k], err);
		if (kind == DMARC_REC_NOT_DMARC || kind == DMARC_REC_INVALID)
			continue;
		if (found++ > 0)
			dmarc_record_clear(&w->rec[k]);
		w->rec[k] = tmp;
		w->usable[k] = kind == DMARC_REC_OK;
	}
	if (found > 1) {	/* §4.10 step 2: all of them discarded */
		dmarc_record_clear(&w->rec[k]);
		w->usable[k] = false;
	}
	w->has[k] = found == 1;
}

/* dmarc_walk_pick_org - §4.10.2 over the records found, longest name to shortest */
static void
dmarc_walk_pick_org(struct dmarc_walk *w)
{
	int shortest = -1;
	size_t k;

	w->org = w->domain;
	w->org_rec = w->psd_rec = -1;
	for (k = 0; k < w->asked; k++) {
		if (!w->has[k])
			continue;
		if (w->rec[k].psd == DMARC_PSD_N) {
			w->org = w->names[k];
			w->org_rec = (int)k;
			return;
		}
		if (w->rec[k].psd == DMARC_PSD_Y && k > 0) {
			/* the name one label longer, on the path back to the start */
			const char *dot = w->names[k] - 1;

			while (dot > w->domain && dot[-1] != '.')
				dot--;
			w->org = dot;
			w->psd_rec = (int)k;
			if (k > 0 && w->names[k - 1] == dot && w->has[k - 1])
				w->org_rec = (int)k - 1;
			return;
		}
		shortest = (int)k;
	}
	if (shortest >= 0) {
		w->org = w->names[shortest];
		w->org_rec = shortest;
	} else if (w->asked > 0 && w->has[0]) {
		w->org_rec = 0;		/* psd=y on the start itself */
	}
}

/* dmarc_walk_run - walk from domain through lookup */
void
dmarc_walk_run(struct dmarc_walk *w, const char *domain, dmarc_walk_lookup lookup,
    void *ctx)
{
	size_t k, n = strlen(domain);

	memset(w, 0, sizeof(*w));
	w->org_rec = w->psd_rec = -1;
	if (n >= sizeof(w->domain))
		n = 0;		/* not a DNS name; no walk */
	memcpy(w->domain, domain, n);
	w->domain[n] = '\0';
	w->n_names = dmarc_walk_names(w->domain, w->names);
	for (k = 0; k < w->n_names; k++) {
		const struct dns_answer *a = lookup(ctx, w->names[k]);

		w->asked = k + 1;
		if (a == NULL || a->status == DNS_TEMPFAIL) {
			w->tempfail = true;
			w->failed = k;
			snprintf(w->why, sizeof(w->why), "_dmarc.%s: %s", w->names[k],
			    a != NULL && a->why != NULL ? a->why : "temporary failure");
			return;
		}
		if (a->status == DNS_OK)
			dmarc_walk_read_name(w, k, a);
		TRACE("dmarc", "walk from %s: _dmarc.%s: %s", w->domain, w->names[k],
		    w->has[k] ? (w->rec[k].psd == DMARC_PSD_N ? "a record, psd=n" :
		    w->rec[k].psd == DMARC_PSD_Y ? "a record, psd=y" : "a record") :
		    a->status == DNS_OK ? "no single DMARC record" : "no record");
		if (w->has[k] && w->rec[k].psd != DMARC_PSD_U)
			break;
	}
	dmarc_walk_pick_org(w);
	TRACE("dmarc", "walk from %s: organizational domain %s", w->domain, w->org);
}

/* dmarc_walk_policy - the record that applies to the start as Author Domain */
int
dmarc_walk_policy(const struct dmarc_walk *w)
{
	if (w->asked > 0 && w->has[0])
		return 0;	/* its own: certain even if the walk failed later */
	if (w->tempfail)
		return -2;
	if (w->org_rec >= 0)
		return w->org_rec;
	return w->psd_rec;
}

/* dmarc_walk_clear - free the records */
void
dmarc_walk_clear(struct dmarc_walk *w)
{
	size_t k;

	for (k = 0; k < DMARC_WALK_MAX; k++)
		if (w->has[k])
			dmarc_record_clear(&w->rec[k]);
	memset(w, 0, sizeof(*w));
	w->org_rec = w->psd_rec = -1;
}
