/* job - background work on a pool of reusable threads.
 *
 * job_start hands a function to an idle worker, or to a new one when none is
 * idle; job_wait waits for it and frees the job. Workers that stay idle for
 * JOB_IDLE_SECONDS end, and at most JOB_MAX_IDLE wait at any time, so the pool
 * follows the load. Workers are detached; a job is owned by its caller.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "fatal.h"
#include "job.h"
#include "lock.h"
#include "xalloc.h"

struct job {
	void		(*fn)(void *);
	void		*arg;
	bool		 done;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
};

/* An idle worker waits on its own condition for the next job. */
struct job_worker {
	struct job_worker *next;	/* in the idle list */
	struct job	*job;		/* handed over, or NULL while idle */
	pthread_cond_t	 cond;		/* under job_pool_lock */
};

static pthread_mutex_t job_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_worker *job_idle;
static unsigned job_n_idle;

/* job_run - run one job and tell its waiter */
static void
job_run(struct job *j)
{
	j->fn(j->arg);
	lock_take(&j->lock);
	j->done = true;
	fatal_check(pthread_cond_signal(&j->cond), "pthread_cond_signal");
	lock_release(&j->lock);
}

/* job_unlink - take w off the idle list (pool lock held) */
static void
job_unlink(struct job_worker *w)
{
	for (struct job_worker **p = &job_idle; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			job_n_idle--;
			return;
		}
}

/* job_worker_main - run the first job, then wait idle for the next */
static void *
job_worker_main(void *arg)
{
	struct job_worker *w = arg;

	for (;;) {
		struct timespec until;
		int rc = 0;

		job_run(w->job);
		lock_take(&job_pool_lock);
		w->job = NULL;
		if (job_n_idle >= JOB_MAX_IDLE)
			break;
		w->next = job_idle;
		job_idle = w;
		job_n_idle++;
		fatal_check(clock_gettime(CLOCK_REALTIME, &until) != 0 ? errno : 0,
		    "clock_gettime");
		until.tv_sec += JOB_IDLE_SECONDS;
		while (w->job == NULL && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&w->cond, &job_pool_lock, &until);
		if (w->job == NULL) {		/* idle too long: still listed */
			job_unlink(w);
			break;
		}
		lock_release(&job_pool_lock);
	}
	lock_release(&job_pool_lock);
	fatal_check(pthread_cond_destroy(&w->cond), "pthread_cond_destroy");
	free(w);
	return NULL;
}

/* job_start - hand fn(arg) to a worker */
struct job *
job_start(void (*fn)(void *), void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct job_worker *w;
	pthread_attr_t attr;
	pthread_t tid;

	j->fn = fn;
	j->arg = arg;
	fatal_check(pthread_mutex_init(&j->lock, NULL), "pthread_mutex_init");
	fatal_check(pthread_cond_init(&j->cond, NULL), "pthread_cond_init");

	lock_take(&job_pool_lock);
	if ((w = job_idle) != NULL) {
		job_idle = w->next;
		job_n_idle--;
		w->job = j;
		fatal_check(pthread_cond_signal(&w->cond), "pthread_cond_signal");
		lock_release(&job_pool_lock);
		return j;
	}
	lock_release(&job_pool_lock);

	w = xcalloc(1, sizeof(*w));
	w->job = j;
	fatal_check(pthread_cond_init(&w->cond, NULL), "pthread_cond_init");
	fatal_check(pthread_attr_init(&attr), "pthread_attr_init");
	fatal_check(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED),
	    "pthread_attr_setdetachstate");
	if (pthread_create(&tid, &attr, job_worker_main, w) != 0) {
		/* no thread to be had: the work still gets done, only not ahead */
		fatal_check(pthread_cond_destroy(&w->cond), "pthread_cond_destroy");
		free(w);
		job_run(j);
	}
	fatal_check(pthread_attr_destroy(&attr), "pthread_attr_destroy");
	return j;
}

/* job_wait - wait for the job and free it */
void
job_wait(struct job *j)
{
	if (j == NULL)
		return;
	lock_take(&j->lock);
	while (!j->done)
		fatal_check(pthread_cond_wait(&j->cond, &j->lock), "pthread_cond_wait");
	lock_release(&j->lock);
	fatal_check(pthread_mutex_destroy(&j->lock), "pthread_mutex_destroy");
	fatal_check(pthread_cond_destroy(&j->cond), "pthread_cond_destroy");
	free(j);
}
