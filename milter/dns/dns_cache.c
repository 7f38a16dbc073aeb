/* dns_cache - a bounded, thread-safe cache of parsed DNS answers.
 *
 * dns_cache_new/free, dns_cache_get (copy out), dns_cache_put (copy in). Keys are
 * the name in lower case without its final dot, and the type. The cache owns its
 * copies; callers own theirs.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_cache.h"
#include "fatal.h"
#include "lock.h"
#include "metrics.h"
#include "xalloc.h"

struct dns_cache_slot {
	char		*name;		/* NULL: empty */
	int		 rrtype;
	time_t		 expires;	/* CLOCK_MONOTONIC seconds */
	struct dns_answer ans;
};

struct dns_cache {
	pthread_mutex_t		 lock;
	struct dns_cache_slot	 slot[DNS_CACHE_SLOTS];
};

/* dns_cache_key - name normalised for comparison into out; false when too long */
static bool
dns_cache_key(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
	return true;
}

/* dns_cache_slot_of - where a key lives (FNV-1a over name and type) */
static struct dns_cache_slot *
dns_cache_slot_of(struct dns_cache *c, const char *key, int rrtype)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)rrtype;

	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return &c->slot[h % DNS_CACHE_SLOTS];
}

/* dns_cache_now - monotonic seconds */
static time_t
dns_cache_now(void)
{
	struct timespec ts;

	fatal_check(clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ? errno : 0,
	    "clock_gettime");
	return ts.tv_sec;
}

/* dns_cache_copy - deep copy of an answer */
static void
dns_cache_copy(struct dns_answer *dst, const struct dns_answer *src)
{
	*dst = *src;
	dst->rr = NULL;
	if (src->count == 0)
		return;
	dst->rr = xcalloc(src->count, sizeof(*dst->rr));
	for (size_t i = 0; i < src->count; i++) {
		dst->rr[i] = src->rr[i];
		if (src->rr[i].name != NULL)
			dst->rr[i].name = xstrdup(src->rr[i].name);
		if (src->rr[i].txt != NULL) {
			dst->rr[i].txt = xmalloc(src->rr[i].txt_len + 1);
			memcpy(dst->rr[i].txt, src->rr[i].txt, src->rr[i].txt_len + 1);
		}
	}
}

/* dns_cache_size - bytes an answer holds, roughly */
static size_t
dns_cache_size(const struct dns_answer *a)
{
	size_t n = a->count * sizeof(*a->rr);

	for (size_t i = 0; i < a->count; i++)
		n += (a->rr[i].name ? strlen(a->rr[i].name) : 0) + a->rr[i].txt_len;
	return n;
}

/* dns_cache_new - an empty cache */
struct dns_cache *
dns_cache_new(void)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));

	fatal_check(pthread_mutex_init(&c->lock, NULL), "pthread_mutex_init");
	return c;
}

/* dns_cache_free - everything; NULL is fine */
void
dns_cache_free(struct dns_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < DNS_CACHE_SLOTS; i++) {
		free(c->slot[i].name);
		dns_answer_clear(&c->slot[i].ans);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* dns_cache_get - copy a live answer out */
bool
dns_cache_get(struct dns_cache *c, const char *name, int rrtype, struct dns_answer *out)
{
	char key[256];
	struct dns_cache_slot *s;
	bool hit = false;

	if (!dns_cache_key(name, key, sizeof(key)))
		return false;
	s = dns_cache_slot_of(c, key, rrtype);
	lock_take(&c->lock);
	if (s->name != NULL && s->rrtype == rrtype && strcmp(s->name, key) == 0 &&
	    s->expires > dns_cache_now()) {
		dns_cache_copy(out, &s->ans);
		hit = true;
	}
	lock_release(&c->lock);
	if (hit)
		metrics_dns_cache_hit();
	return hit;
}

/* dns_cache_put - keep a copy for ttl seconds */
void
dns_cache_put(struct dns_cache *c, const char *name, int rrtype,
    const struct dns_answer *a, int ttl)
{
	char key[256];
	struct dns_cache_slot *s;

	if (ttl <= 0 || a->status == DNS_TEMPFAIL || dns_cache_size(a) > DNS_CACHE_MAX_BYTES ||
	    !dns_cache_key(name, key, sizeof(key)))
		return;
	if (ttl > DNS_CACHE_MAX_TTL)
		ttl = DNS_CACHE_MAX_TTL;
	s = dns_cache_slot_of(c, key, rrtype);
	lock_take(&c->lock);
	free(s->name);
	dns_answer_clear(&s->ans);
	s->name = xstrdup(key);
	s->rrtype = rrtype;
	s->expires = dns_cache_now() + ttl;
	dns_cache_copy(&s->ans, a);
	lock_release(&c->lock);
}
