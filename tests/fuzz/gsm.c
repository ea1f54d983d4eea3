/*
 * gsm.c: segmentation, gsm_analyze(), gsm_split_words() and gsm_text().
 *
 * The first byte of the input chooses the options (bit 0: Smart Encoding;
 * bits 1-4: a set of national tables), the rest is the text. A text is
 * either refused as invalid UTF-8 (EILSEQ, a message) or cut into parts
 * that follow each other from the first code point to the last, each of
 * at most a part's capacity and the last with units_left free; without
 * Smart Encoding the parts' texts put together are the input. Cutting at
 * words moves only the boundaries.
 */
#include <errno.h>

#include "buf.h"
#include "fuzz.h"
#include "gsm.h"
#include "gsm-opts.h"

/* The parts of r follow each other and fit; returns their text. */
static void
check_parts(struct gsm_ctx *ctx, const struct gsm_result *r,
    struct buf *text)
{
	size_t at = 0, n;
	const char *t;

	FUZZ_CHECK(r->segments >= 1, "no segment");
	for (size_t i = 0; i < r->segments; i++) {
		const struct gsm_part *p = &r->parts[i];

		FUZZ_CHECK(p->start == at && p->end >= p->start &&
		    p->end <= r->code_points, "part %zu is [%zu, %zu) after "
		    "%zu", i, p->start, p->end, at);
		FUZZ_CHECK(r->segments > GSM_MAX_PARTS ||
		    p->units <= r->capacity || p->end - p->start == 1,
		    "part %zu: %zu units in %zu", i, p->units, r->capacity);
		at = p->end;
		if ((t = gsm_text(ctx, r, p->start, p->end, &n)) != NULL)
			buf_add(text, t, n);
	}
	FUZZ_CHECK(at == r->code_points, "parts end at %zu of %zu", at,
	    r->code_points);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gsm_opts o = { 0, 0 };
	struct gsm_result r;
	struct gsm_ctx *ctx;
	struct errbuf e;
	struct buf a = { 0 }, b = { 0 };
	const char *s = (const char *)data;
	size_t segments;

	if (size > 0) {
		fuzz_gsm_opts(data[0], &o);
		s++;
		size--;
	}
	if ((ctx = gsm_ctx_new()) == NULL)
		return 0;
	e.msg[0] = '\0';
	if (gsm_analyze(ctx, s, size, &o, &r, &e) < 0) {
		FUZZ_CHECK(errno == ENOMEM || (errno == EILSEQ && e.msg[0]),
		    "gsm_analyze() failed without a reason");
		gsm_ctx_free(ctx);
		return 0;
	}
	FUZZ_CHECK(r.units_left <= r.capacity, "%zu units left of %zu",
	    r.units_left, r.capacity);
	FUZZ_CHECK(r.encoding == GSM_UCS2 ? r.n_nongsm > 0 :
	    r.n_nongsm == 0, "%zu characters forced UCS-2 in %s",
	    r.n_nongsm, gsm_encoding_name(r.encoding));
	FUZZ_CHECK(!!(r.flags & GSM_EMPTY) == (r.code_points == 0),
	    "empty flag and %zu code points", r.code_points);
	check_parts(ctx, &r, &a);
	if (!o.smart && !a.err)
		FUZZ_CHECK(a.len == size && memcmp(a.p ? a.p : "", s, size) ==
		    0, "the parts are not the text");
	segments = r.segments;
	gsm_split_words(ctx, &r);
	FUZZ_CHECK(r.segments == segments, "word cut: %zu segments, not %zu",
	    r.segments, segments);
	check_parts(ctx, &r, &b);
	if (!a.err && !b.err)
		FUZZ_CHECK(a.len == b.len && (a.len == 0 ||
		    memcmp(a.p, b.p, a.len) == 0),
		    "the word cut changed the text");
	buf_free(&a);
	buf_free(&b);
	gsm_ctx_free(ctx);
	return 0;
}
