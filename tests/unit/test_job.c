/* test_job - background jobs on reused threads: each runs once, waits see results. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "tap.h"

static atomic_int runs;

struct work {
	int	 in, out;
	pthread_t self;
};

/* square - the job: records which thread ran it */
static void
square(void *arg)
{
	struct work *w = arg;

	w->out = w->in * w->in;
	w->self = pthread_self();
	atomic_fetch_add(&runs, 1);
}

/* slow - a job that outlives its start */
static void
slow(void *arg)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	*(int *)arg = 7;
}

int
main(void)
{
	struct work w[200];
	struct job *j[200];
	bool all = true, reused = false;

	for (int i = 0; i < 200; i++) {
		w[i].in = i;
		j[i] = job_start(square, &w[i]);
		if (i % 10 == 9)	/* waves of ten, so idle threads get reused */
			for (int k = i - 9; k <= i; k++)
				job_wait(j[k]);
	}
	for (int i = 0; i < 200; i++)
		all &= w[i].out == i * i;
	CHECK(all, "200 jobs each computed their result");
	CHECK(atomic_load(&runs) == 200, "each ran exactly once");
	for (int i = 10; i < 200 && !reused; i++)
		for (int k = 0; k < 10; k++)
			reused |= pthread_equal(w[i].self, w[k].self);
	CHECK(reused, "threads of the first wave ran later jobs");
	bool off = true;
	for (int i = 0; i < 200; i++)
		off &= !pthread_equal(w[i].self, pthread_self());
	CHECK(off, "every job ran off the caller's thread");

	int v = 0;
	struct job *s = job_start(slow, &v);
	CHECK(v == 0, "job_start returns before a slow job ends");
	job_wait(s);
	CHECK(v == 7, "job_wait returns after it ended");
	job_wait(NULL);		/* a no-op: must not crash */
	return tap_done();
}
