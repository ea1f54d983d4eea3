/*
 * score.c: survey replies, score_parse().
 *
 * The input is the text of a reply, any bytes. On each scale the verdict
 * is 1 or 0, the same with and without a struct to fill and on a second
 * reading; text that is not UTF-8 is no score; a score is within its
 * scale, and its comment is a suffix of the text less trailing white
 * space, neither starting nor ending with white space.
 */
#include <utf8proc.h>

#include "fuzz.h"
#include "score.h"
#include "utf8.h"

/* White space as score_parse() trims it. */
static int
space(uint32_t c)
{
	utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);

	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 ||
	    k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL ||
	    k == UTF8PROC_CATEGORY_ZP;
}

/* Whether s[i..len) is all white space; *first the first code point. */
static int
all_space(const char *s, size_t len, size_t i, uint32_t *first)
{
	uint32_t c;
	int n = 0;

	while (i < len) {
		FUZZ_CHECK(utf8_next(s, len, &i, &c) == 0, "invalid UTF-8 in "
		    "a text that was a score");
		if (n++ == 0)
			*first = c;
		if (!space(c))
			return 0;
	}
	return 1;
}

static void
check(const char *s, size_t len, enum score_scale scale)
{
	struct score sc, again;
	int r = score_parse(s, len, scale, &sc);
	uint32_t c = 0, last = 0;
	size_t off, i;

	FUZZ_CHECK(r == 0 || r == 1, "score_parse() returned %d", r);
	FUZZ_CHECK(score_parse(s, len, scale, NULL) == r, "the verdict "
	    "without a struct differs");
	FUZZ_CHECK(score_parse(s, len, scale, &again) == r &&
	    again.value == sc.value && again.comment == sc.comment &&
	    again.comment_len == sc.comment_len, "a second reading differs");
	if (r == 0) {
		FUZZ_CHECK(sc.value == -1 && sc.comment == NULL &&
		    sc.comment_len == 0, "no score, yet a value or comment");
		return;
	}
	FUZZ_CHECK(utf8_valid_prefix(s, len) == len, "a score in a text "
	    "that is not UTF-8");
	FUZZ_CHECK(sc.value >= score_scale_min(scale) &&
	    sc.value <= score_scale_max(scale), "%d out of %s", sc.value,
	    score_scale_name(scale));
	FUZZ_CHECK(sc.comment != NULL && sc.comment >= s &&
	    sc.comment <= s + len, "the comment is not in the text");
	off = (size_t)(sc.comment - s);
	FUZZ_CHECK(sc.comment_len <= len - off, "the comment runs past "
	    "the text");
	FUZZ_CHECK(all_space(s, len, off + sc.comment_len, &c), "text "
	    "after the comment that is not white space");
	if (sc.comment_len == 0)
		return;
	FUZZ_CHECK(all_space(s, off + sc.comment_len, off, &c) == 0 &&
	    !space(c), "the comment starts with white space");
	/* The comment's last code point. */
	for (i = off; i < off + sc.comment_len; )
		FUZZ_CHECK(utf8_next(s, off + sc.comment_len, &i, &last) == 0,
		    "the comment ends inside a character");
	FUZZ_CHECK(!space(last), "the comment ends with white space");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size, SCORE_1_5);
	check((const char *)data, size, SCORE_0_10);
	check((const char *)data, size, SCORE_1_3);
	return 0;
}
