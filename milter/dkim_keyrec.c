/* dkim_keyrec - not written yet */
#include "config.h"
