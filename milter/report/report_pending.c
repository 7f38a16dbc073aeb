/* report_pending - how many report rows were queued and never settled, kept where
 * a SIGKILL cannot take it.
 *
 * report_pending_open    map PATH-pending beside a SQLite database; the rows a
 *                        killed daemon left unsettled there (rows still queued
 *                        under the previous database are carried over)
 * report_pending_queued  n rows entered the writer's queue
 * report_pending_settled n rows left it for good (written or dropped)
 * report_pending_close   unmap (every row settled: a clean stop)
 *
 * The writer's queue lives in memory: a daemon killed with SIGKILL (or crashing)
 * loses the rows in it, up to report.queue. Two counters in a small shared file
 * mapping say how many: a store to a MAP_SHARED page is in the page cache at once,
 * and the kernel keeps it when the process dies without a write or an fsync. At
 * the next start, queued - settled is what was lost (an over-count by at most
 * one batch whose transaction committed just before the kill). The counters are
 * updated under the writer's lock (report_writer.c), so they need no atomics.
 * Only a SQLite database has a directory of ours to keep the file in; for
 * PostgreSQL nothing is counted (README says so). Not thread-safe by itself.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_pending.h"

#define PENDING_MAGIC	0x616d7270656e6431ULL	/* "amrpend1": a file we wrote */

struct pending_file {
	uint64_t	 magic;
	uint64_t	 queued;
	uint64_t	 settled;
};

static struct pending_file *pending;	/* NULL: nothing counted */

/* report_pending_path - PATH-pending for "sqlite:PATH"; false for anything else */
static bool
report_pending_path(const char *uri, char *out, size_t len)
{
	int n;

	if (strncmp(uri, "sqlite:", 7) != 0 || uri[7] == '\0' ||
	    strcmp(uri + 7, ":memory:") == 0)
		return false;
	n = snprintf(out, len, "%s-pending", uri + 7);
	return n > 0 && (size_t)n < len;	/* a cut path is no path: count nothing */
}

long long
report_pending_open(const char *uri)
{
	char path[4096];
	struct pending_file *p;
	unsigned long long carried = 0;
	long long lost = 0;
	int fd;

	if (pending != NULL)
		carried = pending->queued - pending->settled;
	report_pending_close();
	if (!report_pending_path(uri, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, sizeof(*p)) != 0) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	if (p->magic == PENDING_MAGIC && p->queued > p->settled)
		lost = (long long)(p->queued - p->settled);
	p->magic = PENDING_MAGIC;
	p->queued = carried;	/* still queued for the previous database */
	p->settled = 0;
	pending = p;
	return lost;
}

void
report_pending_queued(unsigned long long n)
{
	if (pending != NULL)
		pending->queued += n;
}

void
report_pending_settled(unsigned long long n)
{
	if (pending != NULL)
		pending->settled += n;
}

void
report_pending_close(void)
{
	if (pending == NULL)
		return;
	pending->settled = pending->queued;
	munmap(pending, sizeof(*pending));
	pending = NULL;
}
