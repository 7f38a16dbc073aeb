/* dkim_key - not written yet */
#include "config.h"
