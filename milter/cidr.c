/* cidr - not written yet */
#include "config.h"
