/*
 * gsm-got.h: what a streaming analysis reports through its callbacks
 * (gsm_stream_*), gathered as text to compare with gsm_analyze()'s lists,
 * feeding a stream in chunks of `chunk` bytes, and comparing. Shared by
 * tests/unit/gsm-stream.c and tests/fuzz/gsm-stream.c.
 */
#ifndef GSM_GOT_H
#define GSM_GOT_H

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "gsm.h"

struct got {
	struct buf nongsm, changes, parts;
};

static void
got_free(struct got *g)
{
	buf_free(&g->nongsm);
	buf_free(&g->changes);
	buf_free(&g->parts);
}

static void
on_nongsm(void *arg, const struct gsm_nongsm *ng)
{
	struct got *g = arg;
	char t[64];

	snprintf(t, sizeof t, "%x@%zu/%zu;", (unsigned)ng->cp, ng->index,
	    ng->byte);
	buf_adds(&g->nongsm, t);
}

static void
on_change(void *arg, const struct gsm_change *ch)
{
	struct got *g = arg;
	char t[64];

	snprintf(t, sizeof t, "%x>%s@%zu/%zu;", (unsigned)ch->from, ch->to,
	    ch->index, ch->byte);
	buf_adds(&g->changes, t);
}

static void
on_part(void *arg, const char *text, size_t len, size_t units)
{
	struct got *g = arg;
	char t[32];

	snprintf(t, sizeof t, "|%zu:", units);
	buf_adds(&g->parts, t);
	buf_add(&g->parts, text, len);
}

static size_t chunk;

static int
feed(struct gsm_stream *st, const char *s, size_t len, struct errbuf *e)
{
	for (size_t i = 0; i < len; i += chunk)
		if (gsm_stream_feed(st, s + i, len - i < chunk ? len - i :
		    chunk, e) < 0)
			return -1;
	return 0;
}

/* Whether two gathered lists are the same. */
static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

/* Whether two results give the same figures. */
static int
same_figures(const struct gsm_result *a, const struct gsm_result *b)
{
	return a->encoding == b->encoding && a->locking == b->locking &&
	    a->single == b->single && a->segments == b->segments &&
	    a->units == b->units && a->code_points == b->code_points &&
	    a->graphemes == b->graphemes && a->utf16_units == b->utf16_units &&
	    a->capacity == b->capacity && a->udh_octets == b->udh_octets &&
	    a->units_left == b->units_left && a->flags == b->flags &&
	    a->n_nongsm == b->n_nongsm && a->n_changes == b->n_changes;
}

#endif
