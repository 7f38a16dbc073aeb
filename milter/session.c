/* session - not written yet */
#include "config.h"
