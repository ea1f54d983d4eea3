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

struct buf {
	char *p;
	size_t len, cap;
	int err;		/* an append failed; later ones do nothing */
};

void buf_free(struct buf *b);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);

/* Append a string literal. */
#define buf_addlit(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

/* Append v in decimal. */
int buf_addu(struct buf *b, uint64_t v);

/* Append n bytes of UTF-8 as a JSON string, quotes included. */
int buf_add_jstr(struct buf *b, const char *s, size_t n);

#endif
