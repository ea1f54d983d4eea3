/*
 * utf8.h: strict UTF-8 decoding and encoding (RFC 3629).
 *
 * Overlong forms, UTF-16 surrogates, code points above U+10FFFF, stray
 * continuation bytes and truncated sequences are all invalid.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the code point at s[*i] (len bytes in all) into *cp and advance
 * *i. Returns 0, or -1 on an invalid sequence (*i is left at its start).
 */
int utf8_next(const char *s, size_t len, size_t *i, uint32_t *cp);

/* Offset of the first invalid byte, or len if all of s is valid. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Encode cp (a valid scalar value) into out; returns 1 to 4 bytes. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* UTF-16 code units cp takes: 2 above U+FFFF, else 1. */
static inline unsigned
utf16_units(uint32_t cp)
{
	return cp > 0xFFFF ? 2 : 1;
}

#endif
