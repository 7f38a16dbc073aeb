/* callbacks - the libmilter callback table.
 *
 * Thin: each callback collects its input and hands it to session.c, then turns the
 * session's answer into libmilter calls.
 */
#ifndef AUTHMILTER_CALLBACKS_H
#define AUTHMILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

/* callbacks_descriptor - what smfi_register needs */
struct smfiDesc *callbacks_descriptor(void);

#endif
