/* dkim_keytable - every signing key of a configuration, found by domain.
 *
 * The keys of the dkim { key "..." } sections and of every SELECTOR.DOMAIN.key
 * file in dkim.keys_directory, in one array sorted by domain: finding the keys of
 * a From domain is a binary search, not a scan, so 10,000 signing domains cost a
 * message what one does. Built with the generation (start and reload), immutable
 * after, shared by every session of that generation.
 */
#ifndef AUTHMILTER_DKIM_KEYTABLE_H
#define AUTHMILTER_DKIM_KEYTABLE_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* Most keys that sign one message (as many signatures as session.c inserts). */
#define DKIM_KEYTABLE_MAX_MATCH	64

struct dkim_keytable;

/* dkim_keytable_new - the key sections of c (already loaded by conf_load) and
 * the files of c->dkim.keys_directory; NULL after printing "FILE: what is wrong"
 * to err for every unusable file: nothing is half-loaded */
struct dkim_keytable *dkim_keytable_new(const struct conf *c, FILE *err);
void	 dkim_keytable_free(struct dkim_keytable *t);
/* dkim_keytable_match - the keys for mail from domain (its own, and those of
 * parent domains with subdomains = true), in configured order: sections in file
 * order, then directory files by name. At most max; returns how many. */
size_t	 dkim_keytable_match(const struct dkim_keytable *t, const char *domain,
	    const struct conf_key **out, size_t max);
/* dkim_keytable_count, dkim_keytable_at - every key, in configured order */
size_t	 dkim_keytable_count(const struct dkim_keytable *t);
const struct conf_key *dkim_keytable_at(const struct dkim_keytable *t, size_t i);

#endif
