/* generation - one loaded configuration with everything built from it.
 *
 * A generation holds the parsed config (with its keys), the signing keys by
 * domain (key sections and dkim.keys_directory), the resolver and the Public
 * Suffix List. Sessions take a reference when they start and keep it to
 * the end, so a reload (SIGUSR1) swaps in a new generation without disturbing
 * them; the old one is freed when its last session ends.
 */
#ifndef AUTHMILTER_GENERATION_H
#define AUTHMILTER_GENERATION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include <libpsl.h>

#include "conf.h"
#include "dkim_keytable.h"
#include "dns.h"

struct generation {
	struct conf		*conf;
	struct dkim_keytable	*keys;		/* signing keys by domain */
	struct dns_resolver	*dns;
	psl_ctx_t		*psl;
	unsigned long		 serial;	/* 1 for the first, +1 per reload */
	atomic_int		 refs;		/* sessions holding it, +1 while current */
};

/* generation_load - build from a config file; NULL after printing problems to err.
 * The first load of a process with report.enable on also prints
 * generation_report_email_warn's warning to err, unless
 * generation_report_email_quiet was called. */
struct generation *generation_load(const char *path, FILE *err);
/* generation_report_email_warn - when report.email is in a domain no key signs
 * for, say on err that report mail then passes DMARC only by aligned SPF or a
 * signature made on another hop; true when it said so */
bool	 generation_report_email_warn(const struct generation *g, FILE *err);
/* generation_report_email_quiet - generation_load leaves that warning to the
 * caller (authmilter-report gives it for --send only) */
void	 generation_report_email_quiet(void);
/* generation_install - make g current (taking over the caller's reference) */
void	 generation_install(struct generation *g);
/* generation_current - the current generation, with a reference for the caller */
struct generation *generation_current(void);
/* generation_release - drop a reference; the last one frees */
void	 generation_release(struct generation *g);
/* generation_shutdown - drop the current generation (at exit) */
void	 generation_shutdown(void);

#endif
