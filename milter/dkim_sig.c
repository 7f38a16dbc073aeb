/* dkim_sig - not written yet */
#include "config.h"
