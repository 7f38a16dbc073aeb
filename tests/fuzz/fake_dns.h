/* fake_dns - dns.h answered from an in-memory zone (fuzzers only); see fake_dns.c */
#ifndef AUTHMILTER_FAKE_DNS_H
#define AUTHMILTER_FAKE_DNS_H

#include <stddef.h>

/* fake_dns_set_zone - the zone text for the following lookups (not copied) */
void	 fake_dns_set_zone(const char *zone, size_t len);

#endif
