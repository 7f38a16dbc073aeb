/* dkim_sign - not written yet */
#include "config.h"
