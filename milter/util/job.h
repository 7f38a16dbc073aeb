/* job - run a function in the background on a reusable thread.
 *
 * The checks that must run ahead of the message (iprev's PTR-then-A chain, each SPF
 * identity) are jobs. Threads are kept idle between jobs instead of created per
 * job: creating and tearing down three threads per message was a fifth of the
 * daemon's CPU (clone, stack mmap/munmap and the TLB shootdowns they cause).
 */
#ifndef AUTHMILTER_JOB_H
#define AUTHMILTER_JOB_H

#define JOB_MAX_IDLE		64	/* idle threads kept; more end after their job */
#define JOB_IDLE_SECONDS	60	/* an idle thread ends after this long unused */

struct job;

/* job_start - run fn(arg) in the background; never NULL. When no thread can be
 * had, fn runs at once in the caller. */
struct job *job_start(void (*fn)(void *), void *arg);
/* job_wait - wait until fn returned, then free the job; NULL is fine */
void	 job_wait(struct job *j);

#endif
