#include "config.h"
#include "tap.h"
int main(void) { CHECK(0, "test_rfc5322 not written yet"); return tap_done(); }
