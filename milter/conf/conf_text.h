/* conf_text - milter.conf text with its comments blanked, so that libconfuse's line
 * numbers are the file's own (Debian 12's libconfuse 3.3 miscounts comment lines). */
#ifndef AUTHMILTER_CONF_TEXT_H
#define AUTHMILTER_CONF_TEXT_H

#include <stddef.h>

struct buf;

void	conf_text_uncomment(const char *in, size_t len, struct buf *out);

#endif
