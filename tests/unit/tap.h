/* A tiny TAP producer for the unit tests: one "ok N - what" or "not ok N - what" line per check,
 * a "1..N" plan at the end, and a non-zero exit status when any check failed.
 *
 *   CHECK(cond)            the condition holds
 *   CHECK_INT(a, b)        two integers are equal (printed on failure)
 *   CHECK_STR(a, b)        two strings are equal; NULL equals only NULL
 *   CHECK_MEM(a, b, n)     n bytes are equal
 *   return tap_done();     at the end of main()
 *
 *   tap_filled(head, c, n, tail)  a malloc'd "head" + n times c + "tail", for overlong input
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 4, 5), unused)) static bool tap_result(bool ok, const char *file,
								      int line, const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	fflush(stdout);
	return ok;
}

__attribute__((format(printf, 1, 2), unused)) static void tap_diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((unused)) static bool tap_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

__attribute__((unused)) static char *tap_filled(const char *head, int c, size_t n,
						 const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);
	if (!s)
		abort();
	memcpy(s, head, h);
	memset(s + h, c, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

__attribute__((unused)) static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#define CHECK(cond) tap_result(!!(cond), __FILE__, __LINE__, "%s", #cond)

#define CHECK_INT(a, b)                                                                            \
	({                                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		bool _ok = tap_result(_a == _b, __FILE__, __LINE__, "%s == %s", #a, #b);           \
		if (!_ok)                                                                          \
			tap_diag("  got %lld, expected %lld", _a, _b);                             \
		_ok;                                                                               \
	})

#define CHECK_STR(a, b)                                                                            \
	({                                                                                         \
		const char *_a = (a), *_b = (b);                                                   \
		bool _ok = tap_result(tap_str_eq(_a, _b), __FILE__, __LINE__, "%s == \"%s\"", #a,  \
				      _b ? _b : "(null)");                                         \
		if (!_ok)                                                                          \
			tap_diag("  got \"%s\"", _a ? _a : "(null)");                              \
		_ok;                                                                               \
	})

#define CHECK_MEM(a, b, n)                                                                         \
	tap_result(memcmp((a), (b), (n)) == 0, __FILE__, __LINE__, "%s == %s (%zu bytes)", #a, #b, \
		   (size_t)(n))
