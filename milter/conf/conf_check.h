/* conf_check - `authmilter -n`'s checks of what start and reload will meet on this
 * machine (socket directory, the daemon user's access to keys, config, lists and
 * the report database), made as the user the daemon will run as. */
#ifndef AUTHMILTER_CONF_CHECK_H
#define AUTHMILTER_CONF_CHECK_H

#include <stdio.h>

struct conf;

/* conf_check_start - print each problem (with its fix) to err; the number that
 * would make start or reload fail (warnings are printed, not counted) */
int	conf_check_start(const struct conf *c, FILE *err);

#endif
