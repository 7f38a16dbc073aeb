/* rfc5322 - not written yet */
#include "config.h"
