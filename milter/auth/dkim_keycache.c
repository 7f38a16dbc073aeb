/* dkim_keycache - a bounded, thread-safe cache of parsed DKIM key records.
 *
 * dkim_keycache_parse, dkim_keycache_flush, dkim_keycache_hits. A hit hands out
 * a copy of the record with its own reference to the shared EVP_PKEY (OpenSSL
 * keys are safe to use from several threads for verification).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "dkim_keycache.h"
#include "fatal.h"
#include "lock.h"
#include "xalloc.h"

struct keycache_slot {
	char			*txt;	/* NULL: empty slot */
	size_t			 len;
	struct dkim_keyrec	 rec;
};

static pthread_mutex_t keycache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache_slot keycache[DKIM_KEYCACHE_SLOTS];
static unsigned long keycache_hit_count;

/* dkim_keycache_copy - a record the caller owns, sharing the key */
static void
dkim_keycache_copy(struct dkim_keyrec *dst, const struct dkim_keyrec *src)
{
	*dst = *src;
	if (dst->pkey != NULL && EVP_PKEY_up_ref(dst->pkey) != 1)
		fatal_bug("EVP_PKEY_up_ref failed on a key we hold");
}

/* dkim_keycache_slot_clear - free what a slot holds */
static void
dkim_keycache_slot_clear(struct keycache_slot *s)
{
	free(s->txt);
	dkim_keyrec_clear(&s->rec);
	memset(s, 0, sizeof(*s));
}

/* dkim_keycache_parse - parse, or copy what an earlier parse of this text gave */
bool
dkim_keycache_parse(const char *txt, size_t len, struct dkim_keyrec *k, char *err,
    size_t errlen)
{
	struct keycache_slot *s;

	if (len > DKIM_KEYCACHE_MAX_TXT)
		return dkim_keyrec_parse(txt, len, k, err, errlen);
	s = &keycache[bytes_fnv1a(txt, len) % DKIM_KEYCACHE_SLOTS];
	lock_take(&keycache_lock);
	if (s->txt != NULL && s->len == len && memcmp(s->txt, txt, len) == 0) {
		dkim_keycache_copy(k, &s->rec);
		keycache_hit_count++;
		lock_release(&keycache_lock);
		return true;
	}
	lock_release(&keycache_lock);

	/* parse outside the lock; only good records are kept */
	if (!dkim_keyrec_parse(txt, len, k, err, errlen))
		return false;
	lock_take(&keycache_lock);
	dkim_keycache_slot_clear(s);
	s->txt = xstrndup(txt, len);
	s->len = len;
	dkim_keycache_copy(&s->rec, k);
	lock_release(&keycache_lock);
	return true;
}

/* dkim_keycache_flush - empty the cache */
void
dkim_keycache_flush(void)
{
	lock_take(&keycache_lock);
	for (size_t i = 0; i < DKIM_KEYCACHE_SLOTS; i++)
		dkim_keycache_slot_clear(&keycache[i]);
	lock_release(&keycache_lock);
}

/* dkim_keycache_hits - how many parses the cache saved */
unsigned long
dkim_keycache_hits(void)
{
	unsigned long n;

	lock_take(&keycache_lock);
	n = keycache_hit_count;
	lock_release(&keycache_lock);
	return n;
}
