/* lock - take and release a mutex; a failure is our bug (fatal_bug), checked
 * here once instead of at every call. */
#ifndef AUTHMILTER_LOCK_H
#define AUTHMILTER_LOCK_H

#include <pthread.h>

#include "fatal.h"

/* lock_take - pthread_mutex_lock or die naming the bug */
static inline void
lock_take(pthread_mutex_t *m)
{
	fatal_check(pthread_mutex_lock(m), "pthread_mutex_lock");
}

/* lock_release - pthread_mutex_unlock or die naming the bug */
static inline void
lock_release(pthread_mutex_t *m)
{
	fatal_check(pthread_mutex_unlock(m), "pthread_mutex_unlock");
}

#endif
