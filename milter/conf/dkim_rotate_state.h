/* dkim_rotate_state - the rotation state of a keys directory, as a file.
 *
 * Rotation keeps its keys in the keys directory so that a directory managed by
 * hand keeps working: an active key is a plain SELECTOR.DOMAIN.key file there
 * (the daemon loads those and nothing else); pending, retired and withdrawn
 * keys wait in its DKIM_ROTATE_DIR subdirectory, which the daemon skips; the
 * state file in that subdirectory lists every key rotation manages, one line
 * each: "DOMAIN SELECTOR ALG STATE CREATED SEEN ACTIVATED RETIRED WITHDRAWN".
 * authmilter-keygen --rotate writes it (temporary file, fsync, rename);
 * authmilter-check and the daemon's metrics read it.
 */
#ifndef AUTHMILTER_DKIM_ROTATE_STATE_H
#define AUTHMILTER_DKIM_ROTATE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "dkim_rotate.h"

#define DKIM_ROTATE_DIR		".rotate"	/* under the keys directory */
#define DKIM_ROTATE_STATE	"state"		/* under DKIM_ROTATE_DIR */
#define DKIM_ROTATE_LOCK	"lock"		/* flock()ed by a rotating run */
#define DKIM_ROTATE_MAX_KEYS	100000		/* lines of a state file */

/* dkim_rotate_state_load - the keys listed in KEYSDIR/.rotate/state into *keys
 * (caller frees); no file is no keys. False with "FILE:LINE: why" in err. */
bool	 dkim_rotate_state_load(const char *keysdir, struct dkim_rotate_key **keys,
	    size_t *n, char *err, size_t errlen);
/* dkim_rotate_state_format - the state file's text for keys (released ones
 * left out), appended to out */
void	 dkim_rotate_state_format(const struct dkim_rotate_key *keys, size_t n,
	    struct buf *out);
/* dkim_rotate_key_path - where the key's file is in its state: active keys in
 * keysdir, the others in keysdir/.rotate; appended to out */
void	 dkim_rotate_key_path(const char *keysdir, const struct dkim_rotate_key *k,
	    bool active, struct buf *out);

#endif
