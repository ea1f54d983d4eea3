/*
 * gsm-stream.c: streaming segmentation, gsm_stream_*(), against
 * gsm_analyze().
 *
 * The first byte chooses the options as in gsm.c; bits 0-2 of the second
 * the size of the chunks the text is fed in (1 to 1 MiB), bit 3 whether
 * parts are cut at words (the plan and words passes, on a temporary file
 * in TMPDIR, removed at once); the rest is the text. The stream must give
 * gsm_analyze()'s figures and error, and its passes the same lists and
 * parts, whatever the chunks.
 */
#include <errno.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "gsm.h"
#include "../unit/gsm-got.h"
#include "gsm-opts.h"

static void
pass(struct gsm_stream *st, enum gsm_pass what, int fd, const char *s,
    size_t len)
{
	struct gsm_result r;
	struct errbuf e;

	FUZZ_CHECK(gsm_stream_pass(st, what, fd) == 0 &&
	    feed(st, s, len, &e) == 0 && gsm_stream_end(st, &r, &e) == 0,
	    "pass %d failed: %s", (int)what, strerror(errno));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 4096, 1 << 20 };
	struct gsm_stream_cb cb = { on_nongsm, on_change, on_part, NULL };
	struct got want = { 0 }, got = { 0 };
	struct gsm_opts o = { 0, 0 };
	struct gsm_result r, sr;
	struct gsm_stream *st = NULL;
	struct gsm_ctx *ctx;
	struct errbuf e, se;
	const char *s = (const char *)data;
	char tmp[4096];
	const char *tdir = getenv("TMPDIR");
	int words = 0, rc, src, fd = -1;
	size_t n;

	chunk = 1 << 20;
	if (size > 0) {
		fuzz_gsm_opts(data[0], &o);
		s++;
		size--;
	}
	if (size > 0) {
		chunk = chunks[data[1] & 7];
		words = data[1] >> 3 & 1;
		s++;
		size--;
	}
	if ((ctx = gsm_ctx_new()) == NULL)
		return 0;
	cb.arg = &got;
	if ((st = gsm_stream_new(&o, &cb)) == NULL)
		goto out;
	rc = gsm_analyze(ctx, s, size, &o, &r, &e);
	src = feed(st, s, size, &se);
	if (src == 0)
		src = gsm_stream_end(st, &sr, &se);
	if (rc < 0 || src < 0) {
		FUZZ_CHECK(rc < 0 && src < 0 && strcmp(e.msg, se.msg) == 0,
		    "gsm_analyze() %d \"%s\", the stream %d \"%s\"", rc,
		    rc < 0 ? e.msg : "", src, src < 0 ? se.msg : "");
		goto out;
	}
	FUZZ_CHECK(same_figures(&r, &sr), "figures differ: segments %zu/%zu "
	    "units %zu/%zu left %zu/%zu graphemes %zu/%zu", r.segments,
	    sr.segments, r.units, sr.units, r.units_left, sr.units_left,
	    r.graphemes, sr.graphemes);
	for (size_t i = 0; i < r.n_nongsm; i++)
		on_nongsm(&want, &r.nongsm[i]);
	for (size_t i = 0; i < r.n_changes; i++)
		on_change(&want, &r.changes[i]);
	if (words)
		gsm_split_words(ctx, &r);
	for (size_t i = 0; i < r.segments; i++) {
		const char *t = gsm_text(ctx, &r, r.parts[i].start,
		    r.parts[i].end, &n);

		if (t)
			on_part(&want, t, n, r.parts[i].units);
	}
	if (sr.n_nongsm)
		pass(st, GSM_PASS_NONGSM, -1, s, size);
	if (sr.n_changes)
		pass(st, GSM_PASS_CHANGES, -1, s, size);
	if (words) {
		snprintf(tmp, sizeof tmp, "%s/smsdesk-fuzz-XXXXXX",
		    tdir && *tdir ? tdir : "/tmp");
		if ((fd = mkstemp(tmp)) < 0)
			goto out;
		unlink(tmp);
		pass(st, GSM_PASS_PLAN, fd, s, size);
	}
	pass(st, words ? GSM_PASS_WORDS : GSM_PASS_PARTS, fd, s, size);
	FUZZ_CHECK(same(&want.nongsm, &got.nongsm), "non-GSM lists differ");
	FUZZ_CHECK(same(&want.changes, &got.changes), "changes differ");
	FUZZ_CHECK(same(&want.parts, &got.parts), "parts differ: want "
	    "%.*s, got %.*s", (int)(want.parts.len < 300 ? want.parts.len :
	    300), want.parts.p, (int)(got.parts.len < 300 ? got.parts.len :
	    300), got.parts.p);
out:
	if (fd >= 0)
		close(fd);
	got_free(&want);
	got_free(&got);
	gsm_stream_free(st);
	gsm_ctx_free(ctx);
	return 0;
}
