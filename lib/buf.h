/*
 * buf.h: a growable byte buffer for building output, JSON text included.
 *
 * A buf owns its bytes; buf_free() releases them. Each append returns 0,
 * or -1 with errno ENOMEM; after a failure the buf keeps err set and
 * ignores further appends, so a builder may check once at the end.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
	int err;		/* an append failed; later ones do nothing */
};

void buf_free(struct buf *b);

/* Make room for n more bytes (the slow path of the appends below). */
int buf_grow(struct buf *b, size_t n);

static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)	/* b->p may be NULL: memcpy() and + are undefined */
		return 0;
	if (b->len + n > b->cap && buf_grow(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int
buf_addc(struct buf *b, char c)
{
	if (b->len + 1 > b->cap && buf_grow(b, 1) < 0)
		return -1;
	b->p[b->len++] = c;
	return 0;
}

int buf_adds(struct buf *b, const char *s);

/* Append a string literal. */
#define buf_addlit(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

/* Append v in decimal. */
int buf_addu(struct buf *b, uint64_t v);

/* Append n bytes of UTF-8 as a JSON string, quotes included. */
int buf_add_jstr(struct buf *b, const char *s, size_t n);

#endif
