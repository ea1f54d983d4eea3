/*
 * buf.c: growable byte buffer and JSON string quoting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

int
buf_grow(struct buf *b, size_t n)
{
	size_t cap;
	char *np;

	if (b->err)
		return errno = ENOMEM, -1;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	if (!(np = realloc(b->p, cap))) {
		b->err = 1;
		return errno = ENOMEM, -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addu(struct buf *b, uint64_t v)
{
	char d[20];
	int n = 0;

	do
		d[sizeof d - ++n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return buf_add(b, d + sizeof d - n, (size_t)n);
}

int
buf_add_jstr(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	/* Worst case: every byte a \u00XX escape. */
	if (buf_grow(b, n * 6 + 2) < 0)
		return -1;
	b->p[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *o;

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		memcpy(b->p + b->len, s + i - run, run);
		b->len += run;
		run = 0;
		o = b->p + b->len;
		o[0] = '\\';
		switch (c) {
		case '"': case '\\': o[1] = (char)c; b->len += 2; break;
		case '\n': o[1] = 'n'; b->len += 2; break;
		case '\r': o[1] = 'r'; b->len += 2; break;
		case '\t': o[1] = 't'; b->len += 2; break;
		case '\b': o[1] = 'b'; b->len += 2; break;
		case '\f': o[1] = 'f'; b->len += 2; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 6;
		}
	}
	memcpy(b->p + b->len, s + n - run, run);
	b->len += run;
	b->p[b->len++] = '"';
	return 0;
}
