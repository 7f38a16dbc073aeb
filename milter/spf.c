/* spf - not written yet */
#include "config.h"
