/* generation - not written yet */
#include "config.h"
