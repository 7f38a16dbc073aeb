/* dkim_canon - not written yet */
#include "config.h"
