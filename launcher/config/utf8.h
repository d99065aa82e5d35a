/* UTF-8: telling a valid character from bytes that are not one. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the UTF-8 character at `s` (`n` bytes available) with its code point
 * in *cp; 0 when the bytes there are not one: a stray continuation byte, an overlong form, a
 * surrogate (U+D800 to U+DFFF), a code point past U+10FFFF or a sequence cut short. */
size_t dcfs_utf8_char(const char *s, size_t n, uint32_t *cp);
