/* dkim_verify - not written yet */
#include "config.h"
