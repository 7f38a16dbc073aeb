/* authres - not written yet */
#include "config.h"
