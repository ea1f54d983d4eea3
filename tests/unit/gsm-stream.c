/*
 * gsm-stream.c: the streaming analysis (gsm_stream_*) gives what
 * gsm_analyze() gives, figure for figure and list for list, on texts built
 * from pieces that exercise every rule (escape pairs, surrogates, grapheme
 * clusters short and longer than a part, CR LF, national tables, Smart
 * Encoding, word splitting), fed in chunks of every awkward size so that
 * UTF-8 sequences are cut at each byte. Bad UTF-8 is reported at the same
 * byte whatever the chunks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gsm.h"
#include "gsm-got.h"
#include "tap.h"

static const char *const pieces[] = {
	"a", "b", "Hello", " ", " ", " ", "word ", "\r\n", "\r", "\n", "]",
	"\xE2\x82\xAC", "{", "\xCE\x94", "\xD0\xBF\xD1\x80\xD0\xB8",
	"\xF0\x9F\x98\x80", "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\xA6\xB0",
	"\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8", "\xF0\x9F\x87\xBA", "e\xCC\x81",
	"\xCC\x81", "\xC5\x9F", "\xC4\xB1", "\xC4\x9F", "\xC3\xA7", "\xC3\x87",
	"\xE0\xA4\xB9\xE0\xA4\xBF", "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7",
	"\xE2\x80\x99", "\xE2\x80\xA6", "\t", "\xC2\xA0", "\xC2\xBD", "`",
	"\x00", "\x1B", "\xE4\xB8\xAD", "\xC3\xA9", "~", "^", "\xC2\xA9",
	"\xCE\xA3\xCE\xA9",
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

static int
pass(struct gsm_stream *st, enum gsm_pass what, FILE *tmp, const char *s,
    size_t len)
{
	struct gsm_result r;
	struct errbuf e;

	if (gsm_stream_pass(st, what, tmp ? fileno(tmp) : -1) < 0 ||
	    feed(st, s, len, &e) < 0 || gsm_stream_end(st, &r, &e) < 0)
		return -1;
	return 0;
}

/* The reference: figures, lists and parts as segment prints them. */
static void
reference(struct gsm_ctx *ctx, struct gsm_result *r, struct got *g,
    int words)
{
	struct gsm_nongsm ng;
	size_t i, n;
	const char *t;

	for (i = 0; i < r->n_nongsm; i++) {
		ng = r->nongsm[i];
		on_nongsm(g, &ng);
	}
	for (i = 0; i < r->n_changes; i++)
		on_change(g, &r->changes[i]);
	if (words)
		gsm_split_words(ctx, r);
	for (i = 0; i < r->segments; i++) {
		t = gsm_text(ctx, r, r->parts[i].start, r->parts[i].end, &n);
		on_part(g, t, n, r->parts[i].units);
	}
}

static void
dump(const char *s, size_t len)
{
	printf("# text (%zu bytes):", len);
	for (size_t i = 0; i < len && i < 400; i++)
		printf(" %02x", (unsigned char)s[i]);
	putchar('\n');
}

/* Compare one text under opts; returns 1 if all agreed. */
static int
compare(struct gsm_ctx *ctx, FILE *tmp, const char *s, size_t len,
    const struct gsm_opts *opts, int words)
{
	struct gsm_stream_cb cb = { on_nongsm, on_change, on_part, NULL };
	struct got want = { 0 }, got = { 0 };
	struct gsm_result r, sr;
	struct gsm_stream *st;
	struct errbuf e, se;
	int ok_ = 0, rc, src;

	cb.arg = &got;
	rc = gsm_analyze(ctx, s, len, opts, &r, &e);
	if (!(st = gsm_stream_new(opts, &cb)))
		return 0;
	src = feed(st, s, len, &se);
	if (src == 0)
		src = gsm_stream_end(st, &sr, &se);
	if (rc < 0 || src < 0) {
		ok_ = rc < 0 && src < 0 && strcmp(e.msg, se.msg) == 0;
		if (!ok_)
			printf("# error: analyze %d '%s', stream %d '%s'\n",
			    rc, rc < 0 ? e.msg : "", src,
			    src < 0 ? se.msg : "");
		goto out;
	}
	if (!same_figures(&r, &sr)) {
		printf("# figures differ: segments %zu/%zu units %zu/%zu "
		    "left %zu/%zu graphemes %zu/%zu enc %d/%d\n",
		    r.segments, sr.segments, r.units, sr.units, r.units_left,
		    sr.units_left, r.graphemes, sr.graphemes, r.encoding,
		    sr.encoding);
		goto out;
	}
	reference(ctx, &r, &want, words);
	if ((sr.n_nongsm && pass(st, GSM_PASS_NONGSM, NULL, s, len) < 0) ||
	    (sr.n_changes && pass(st, GSM_PASS_CHANGES, NULL, s, len) < 0) ||
	    (words && pass(st, GSM_PASS_PLAN, tmp, s, len) < 0) ||
	    pass(st, words ? GSM_PASS_WORDS : GSM_PASS_PARTS, tmp, s,
	    len) < 0) {
		printf("# a pass failed: %s\n", strerror(errno));
		goto out;
	}
	ok_ = same(&want.nongsm, &got.nongsm) &&
	    same(&want.changes, &got.changes) &&
	    same(&want.parts, &got.parts);
	if (!ok_)
		printf("# lists differ: nongsm %zu/%zu changes %zu/%zu "
		    "parts %zu/%zu\n# want %.*s\n# got  %.*s\n",
		    want.nongsm.len, got.nongsm.len, want.changes.len,
		    got.changes.len, want.parts.len, got.parts.len,
		    (int)(want.parts.len < 300 ? want.parts.len : 300),
		    want.parts.p, (int)(got.parts.len < 300 ? got.parts.len :
		    300), got.parts.p);
out:
	if (!ok_)
		dump(s, len);
	got_free(&want);
	got_free(&got);
	gsm_stream_free(st);
	return ok_;
}

static unsigned long rnd = 12345;

static unsigned
next(unsigned n)
{
	rnd = rnd * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(rnd >> 33) % n;
}

/* A text of about n pieces, drawn mostly from a few so runs happen. */
static size_t
make(char *out, size_t n, unsigned mix)
{
	size_t len = 0, k;
	unsigned favourite = next(NPIECES);

	for (size_t i = 0; i < n; i++) {
		const char *p;
		unsigned r = next(100);

		if (r < mix)
			p = pieces[next(NPIECES)];
		else if (r < 70)
			p = "abcdefg";
		else if (r < 85)
			p = " ";
		else
			p = pieces[favourite];
		/* "\x00" is one byte, a NUL. */
		k = *p ? strlen(p) : 1;
		memcpy(out + len, p, k);
		len += k;
		if (next(300) == 0) {	/* a cluster longer than a part */
			out[len++] = 'e';
			for (k = next(150); k > 0; k--) {
				memcpy(out + len, "\xCC\x81", 2);
				len += 2;
			}
		}
	}
	return len;
}

int
main(void)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 64, 1 << 20 };
	static const unsigned langs[] = { 0, 1u << GSM_LANG_TURKISH,
		(1u << GSM_LANG_HINDI) | (1u << GSM_LANG_SPANISH),
		(1u << GSM_LANG_COUNT) - 2 };
	struct gsm_ctx *ctx = gsm_ctx_new();
	FILE *tmp = tmpfile();
	char *text = malloc(1 << 20);
	size_t len, bad = 0, total = 0;
	struct gsm_opts o;

	ok(ctx && tmp && text, "set up");
	if (!ctx || !tmp || !text)
		return 1;
	for (int round = 0; round < 3000; round++) {
		size_t n = round < 100 ? (size_t)round : next(4) == 0 ?
		    next(3000) : next(400);

		len = make(text, n, round % 3 == 0 ? 5 : 40);
		if (round % 97 == 5 && len > 3)	/* break the UTF-8 */
			text[next((unsigned)len)] = (char)(0x80 | next(128));
		if (round % 89 == 7 && len > 0)
			text[len - 1] = (char)0xE2;
		chunk = chunks[round % 6];
		o.languages = langs[(round / 6) % 4];
		o.smart = round / 24 % 2;
		total++;
		if (!compare(ctx, tmp, text, len, &o, round % 2)) {
			printf("# round %d chunk %zu langs %x smart %d "
			    "words %d\n", round, chunk, o.languages, o.smart,
			    round % 2);
			if (++bad > 5)
				break;
		}
	}
	is_int(bad, 0, "the stream agrees with gsm_analyze on %zu texts",
	    total);

	/* The cases segment(1) shows, each in one-byte chunks. */
	static const char *const shown[] = {
		"Your order has shipped", "Ol\xC3\xA1, tudo bem?",
		"It\xE2\x80\x99s ready", "",
	};
	chunk = 1;
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
		o = (struct gsm_opts){ 0 };
		ok(compare(ctx, tmp, shown[i], strlen(shown[i]), &o, 1),
		    "one-byte chunks: \"%s\"", shown[i]);
	}
	/* segment(1) CAVEATS: e and 199 acutes; a ZWJ sequence astride. */
	len = 0;
	text[len++] = 'e';
	for (int i = 0; i < 199; i++, len += 2)
		memcpy(text + len, "\xCC\x81", 2);
	o = (struct gsm_opts){ 0 };
	ok(compare(ctx, tmp, text, len, &o, 0), "a cluster of 200 units");
	memset(text, 'a', 64);
	memcpy(text + 64, "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\xA6\xB0", 11);
	memset(text + 75, 'a', 65);
	ok(compare(ctx, tmp, text, 140, &o, 1), "64 a, red hair, 65 a");
	gsm_ctx_free(ctx);
	fclose(tmp);
	free(text);
	return tap_done();
}
