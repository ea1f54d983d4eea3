/*
 * gsm-got.h: what a streaming analysis reports through its callbacks
 * (gsm_stream_*), gathered as text to compare with gsm_analyze()'s lists,
 * and feeding a stream in chunks of `chunk` bytes. Shared by
 * tests/unit/gsm-stream.c and tests/fuzz/gsm-stream.c.
 */
#ifndef GSM_GOT_H
#define GSM_GOT_H

#include <stdio.h>

#include "buf.h"
#include "gsm.h"

struct got {
	struct buf nongsm, changes, parts;
};

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

#endif
