/* bytes - small pure functions over bytes that several modules need.
 *
 * bytes_hex_value  the value of a hex digit (either case), -1 for any other byte
 * bytes_fnv1a      the 64-bit FNV-1a hash of len bytes (hash tables, not security)
 */
#ifndef AUTHMILTER_BYTES_H
#define AUTHMILTER_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* bytes_hex_value - lower case too, as RFC 2045 §6.7 lets a robust decoder accept
 * it (Mail::DKIM and OpenDKIM do for dkim-quoted-printable) */
static inline int
bytes_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* bytes_fnv1a - FNV-1a, 64 bits */
static inline uint64_t
bytes_fnv1a(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#endif
