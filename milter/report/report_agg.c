/* report_agg - aggregation of DMARC report rows into RFC 9990 records.
 *
 *   report_agg_new, report_agg_free	one policy domain's aggregate
 *   report_agg_add			count a row (copied)
 *   report_agg_policy, report_agg_records, report_agg_rows, report_agg_domain
 *
 * Records are found by a hash of their key (an open-addressing table that
 * doubles at half load), so adding is O(1) and memory is one copy per distinct
 * record, whatever the number of rows. The aggregate owns every string.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytes.h"
#include "report_agg.h"
#include "xalloc.h"

struct report_agg {
	char		 *domain;
	struct report_row policy;	/* policy fields of the latest row */
	time_t		  policy_time;
	unsigned long	  rows;
	struct report_record **rec;
	size_t		  n, cap;
	size_t		 *slot;		/* index + 1 into rec, 0 free */
	size_t		  n_slot;	/* a power of two */
	bool		  sorted;
};

/* agg_dup - copy of s, NULL stays NULL */
static char *
agg_dup(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/* agg_key_put - one field of a key: 'N' for NULL, else 'S', the text and its NUL,
 * so that no two different field lists give the same key */
static void
agg_key_put(struct buf *k, const char *s)
{
	if (s == NULL) {
		buf_putc(k, 'N');
		return;
	}
	buf_putc(k, 'S');
	buf_append(k, s, strlen(s) + 1);
}

/* agg_key - the aggregation key of a row: everything a record shows but count */
static void
agg_key(struct buf *k, const struct report_row *r)
{
	size_t n = r->n_dkim < REPORT_MAX_DKIM ? r->n_dkim : REPORT_MAX_DKIM;

	agg_key_put(k, r->source_ip);
	agg_key_put(k, r->header_from);
	agg_key_put(k, r->envelope_from);
	agg_key_put(k, r->envelope_to);
	agg_key_put(k, r->disposition);
	agg_key_put(k, r->dkim_aligned);
	agg_key_put(k, r->spf_aligned);
	agg_key_put(k, r->reasons);
	agg_key_put(k, r->spf_domain);
	agg_key_put(k, r->spf_scope);
	agg_key_put(k, r->spf_result);
	for (size_t i = 0; i < n; i++) {
		agg_key_put(k, r->dkim[i].domain);
		agg_key_put(k, r->dkim[i].selector);
		agg_key_put(k, r->dkim[i].result);
	}
}

/* agg_results_copy - the identifiers and results of src into a zeroed dst */
static void
agg_results_copy(struct report_row *dst, const struct report_row *src)
{
	size_t n = src->n_dkim < REPORT_MAX_DKIM ? src->n_dkim : REPORT_MAX_DKIM;

	dst->received = src->received;
	dst->source_ip = agg_dup(src->source_ip);
	dst->header_from = agg_dup(src->header_from);
	dst->envelope_from = agg_dup(src->envelope_from);
	dst->envelope_to = agg_dup(src->envelope_to);
	dst->spf_domain = agg_dup(src->spf_domain);
	dst->spf_scope = agg_dup(src->spf_scope);
	dst->spf_result = agg_dup(src->spf_result);
	dst->dkim_aligned = agg_dup(src->dkim_aligned);
	dst->spf_aligned = agg_dup(src->spf_aligned);
	dst->disposition = agg_dup(src->disposition);
	dst->reasons = agg_dup(src->reasons);
	if (n > 0) {
		dst->dkim = xcalloc(n, sizeof(*dst->dkim));
		for (size_t i = 0; i < n; i++) {
			dst->dkim[i].domain = agg_dup(src->dkim[i].domain);
			dst->dkim[i].selector = agg_dup(src->dkim[i].selector);
			dst->dkim[i].result = agg_dup(src->dkim[i].result);
		}
	}
	dst->n_dkim = n;
}

/* agg_same - equal strings, or both NULL */
static bool
agg_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* agg_policy_set - keep the row's policy fields, replacing the previous ones */
static void
agg_policy_set(struct report_agg *a, const struct report_row *r)
{
	struct report_row *p = &a->policy;
	char **dst[] = { &p->rua, &p->ruf, &p->p, &p->sp, &p->np, &p->adkim, &p->aspf,
	    &p->fo, &p->testing, &p->discovery };
	char *const src[] = { r->rua, r->ruf, r->p, r->sp, r->np, r->adkim, r->aspf,
	    r->fo, r->testing, r->discovery };

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (!agg_same(*dst[i], src[i])) {
			free(*dst[i]);
			*dst[i] = agg_dup(src[i]);
		}
	a->policy_time = r->received;
}

/* agg_grow - a hash table with room for one more record at under half load,
 * every record re-placed */
static void
agg_grow(struct report_agg *a)
{
	size_t n_slot = 64;
	size_t *slot;

	while (n_slot < 2 * (a->n + 1))
		n_slot *= 2;
	slot = xcalloc(n_slot, sizeof(*slot));

	for (size_t i = 0; i < a->n; i++) {
		size_t j = bytes_fnv1a(a->rec[i]->key, a->rec[i]->keylen) & (n_slot - 1);

		while (slot[j] != 0)
			j = (j + 1) & (n_slot - 1);
		slot[j] = i + 1;
	}
	free(a->slot);
	a->slot = slot;
	a->n_slot = n_slot;
}

/* report_agg_new - an empty aggregate; the policy row owns the domain */
struct report_agg *
report_agg_new(const char *policy_domain)
{
	struct report_agg *a = xcalloc(1, sizeof(*a));

	a->domain = xstrdup(policy_domain);
	a->policy.policy_domain = a->domain;
	return a;
}

/* report_agg_free - every record and string (report_row_free, report_store.c,
 * frees a row's members; the policy row holds the domain) */
void
report_agg_free(struct report_agg *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		report_row_free(&a->rec[i]->row);
		free(a->rec[i]->key);
		free(a->rec[i]);
	}
	free(a->rec);
	free(a->slot);
	report_row_free(&a->policy);
	free(a);
}

/* report_agg_add - count the row in its record, making the record if new */
void
report_agg_add(struct report_agg *a, const struct report_row *r)
{
	struct buf k = BUF_INIT;
	struct report_record *rec;
	size_t j;

	if (a->rows == 0 || r->received >= a->policy_time)
		agg_policy_set(a, r);
	a->rows++;
	agg_key(&k, r);
	if (2 * (a->n + 1) > a->n_slot)
		agg_grow(a);
	j = bytes_fnv1a(k.data, k.len) & (a->n_slot - 1);
	for (; a->slot[j] != 0; j = (j + 1) & (a->n_slot - 1)) {
		rec = a->rec[a->slot[j] - 1];
		if (rec->keylen == k.len && memcmp(rec->key, k.data, k.len) == 0) {
			rec->count++;
			buf_free(&k);
			return;
		}
	}
	rec = xcalloc(1, sizeof(*rec));
	agg_results_copy(&rec->row, r);
	rec->count = 1;
	rec->keylen = k.len;
	rec->key = buf_steal(&k);
	if (a->n == a->cap) {
		a->cap = a->cap == 0 ? 16 : a->cap * 2;
		a->rec = xreallocarray(a->rec, a->cap, sizeof(*a->rec));
	}
	a->rec[a->n++] = rec;
	a->slot[j] = a->n;
	a->sorted = false;
}

/* report_agg_domain - the policy domain */
const char *
report_agg_domain(const struct report_agg *a)
{
	return a->domain;
}

/* report_agg_policy - the latest policy seen */
const struct report_row *
report_agg_policy(const struct report_agg *a)
{
	return a->rows == 0 ? NULL : &a->policy;
}

/* report_agg_rows - how many rows were added */
unsigned long
report_agg_rows(const struct report_agg *a)
{
	return a->rows;
}

/* agg_cmp - qsort order of records: by key bytes, then length */
static int
agg_cmp(const void *x, const void *y)
{
	const struct report_record *a = *(struct report_record *const *)x;
	const struct report_record *b = *(struct report_record *const *)y;
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

/* report_agg_records - sorted records; the hash table is rebuilt after sorting */
struct report_record *const *
report_agg_records(struct report_agg *a, size_t *n)
{
	if (!a->sorted && a->n > 0) {
		qsort(a->rec, a->n, sizeof(*a->rec), agg_cmp);
		free(a->slot);
		a->slot = NULL;
		a->n_slot = 0;
		agg_grow(a);
		a->sorted = true;
	}
	*n = a->n;
	return a->rec;
}
