/* bytes - small pure functions over bytes that several modules need.
 *
 * bytes_hex_value  the value of a hex digit (either case), -1 for any other byte
 * bytes_fnv1a      the 64-bit FNV-1a hash of len bytes (hash tables, not security)
 * bytes_utf8_char  the length and code point of one well-formed UTF-8 character
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

/* bytes_utf8_char - the bytes (1-4) of the well-formed UTF-8 character at s, of
 * at most len bytes, its code point in *cp; 0 for anything else: a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate, or a
 * code point past U+10FFFF (RFC 3629 §3) */
static inline size_t
bytes_utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t v;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}
#endif
