/*
 * fuzz.h: what every harness in tests/fuzz/ shares.
 *
 * A harness defines LLVMFuzzerTestOneInput() over the library's real entry
 * points and checks what their contracts promise (a result that
 * round-trips, two readings that agree), stopping the process with
 * FUZZ_CHECK() when one does not: libFuzzer reports that as a crash, and
 * driver.c, which runs the committed corpus in `make check`, as a failure.
 * A harness is deterministic, frees all it allocates and writes nowhere
 * but to temporary files it removes.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: broken promise: ", __FILE__, \
		    __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* A NUL-terminated copy of data, or NULL (out of memory: skip it). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
