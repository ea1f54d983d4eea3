/*
 * tests/unit/score.c: score_parse() over replies as customers text them.
 *
 * Each row is a reply and its verdict on each of the three scales: the
 * score, or NO when the reply is no score there; when it is one, the
 * comment that comes with it (the same on every scale). Then what the
 * table cannot hold: invalid UTF-8, a NUL inside, long texts, and the
 * scale names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "tap.h"

#define NO (-1)

static const struct {
	const char *text;
	int s15, s010, s13;	/* the score on 1-5, 0-10, 1-3 */
	const char *comment;
} replies[] = {
	/* Digits, alone and with what customers put around them. */
	{ "5", 5, 5, NO, "" },
	{ "3", 3, 3, 3, "" },
	{ "1", 1, 1, 1, "" },
	{ " 4\n", 4, 4, NO, "" },
	{ "5!!!", 5, 5, NO, "" },
	{ "5.", 5, 5, NO, "" },
	{ "\"4\"", 4, 4, NO, "" },
	{ "(5)", 5, 5, NO, "" },
	{ "4 thanks!", 4, 4, NO, "thanks!" },
	{ "1 - terrible", 1, 1, 1, "terrible" },
	{ "1-terrible", 1, 1, 1, "terrible" },
	{ "2, slow to answer", 2, 2, 2, "slow to answer" },
	{ "5 great service", 5, 5, NO, "great service" },
	{ "5 :)", 5, 5, NO, ":)" },
	{ "5!!! :-)", 5, 5, NO, ":-)" },
	{ "3 -_-", 3, 3, 3, "-_-" },
	{ "5\nAlso when does my refund arrive?", 5, 5, NO,
	    "Also when does my refund arrive?" },
	{ "4 no complaints ", 4, 4, NO, "no complaints" },
	{ "5 and thanks for the help", 5, 5, NO, "and thanks for the help" },
	{ "5 👍", 5, 5, NO, "👍" },
	{ "5😊", 5, 5, NO, "😊" },
	{ "4 - waited 2 hours", 4, 4, NO, "waited 2 hours" },
	{ "0", NO, 0, NO, "" },
	{ "10", NO, 10, NO, "" },
	{ "9 would recommend", NO, 9, NO, "would recommend" },
	/* A score with its unit. */
	{ "5/5", 5, NO, NO, "" },
	{ "4 / 5 good", 4, NO, NO, "good" },
	{ "10/10 would recommend", NO, 10, NO, "would recommend" },
	{ "3/3", NO, NO, 3, "" },
	{ "4 stars", 4, NO, NO, "" },
	{ "5-star service", 5, NO, NO, "service" },
	{ "5stars", 5, NO, NO, "" },
	{ "5*", 5, NO, NO, "" },
	{ "4 out of 5", 4, NO, NO, "" },
	{ "5 out of 5 stars, Ana was great", 5, NO, NO, "Ana was great" },
	{ "8 out of 10", NO, 8, NO, "" },
	{ "5 of 5", 5, NO, NO, "" },
	{ "4 de 5", 4, NO, NO, "" },
	{ "5 sobre 5", 5, NO, NO, "" },
	{ "5 ⭐", 5, NO, NO, "" },
	/* Words, English and Spanish, any case. */
	{ "five", 5, 5, NO, "" },
	{ "FIVE!", 5, 5, NO, "" },
	{ "Five stars", 5, NO, NO, "" },
	{ "five out of five", 5, NO, NO, "" },
	{ "three, it took a while", 3, 3, 3, "it took a while" },
	{ "one.", 1, 1, 1, "" },
	{ "ten", NO, 10, NO, "" },
	{ "zero", NO, 0, NO, "" },
	{ "cinco", 5, 5, NO, "" },
	{ "Cinco estrellas", 5, NO, NO, "" },
	{ "una estrella", 1, NO, NO, "" },
	{ "cuatro, muy bien", 4, 4, NO, "muy bien" },
	{ "diez de diez", NO, 10, NO, "" },
	{ "le doy un 10", NO, 10, NO, "" },
	{ "Le doy un 5, excelente atención", 5, 5, NO,
	    "excelente atención" },
	{ "Calificación: 4", 4, 4, NO, "" },
	{ "5 gracias", 5, 5, NO, "gracias" },
	/* A lead-in before the score. */
	{ "I'd say 4", 4, 4, NO, "" },
	{ "I’d say 4", 4, 4, NO, "" },
	{ "id say a 4 tbh", 4, 4, NO, "tbh" },
	{ "Hi! 5", 5, 5, NO, "" },
	{ "Thanks, 5", 5, 5, NO, "" },
	{ "Rating: 5", 5, 5, NO, "" },
	{ "ok 3", 3, 3, 3, "" },
	{ "I would give you guys a 5", 5, 5, NO, "" },
	{ "I would give it a solid 9", NO, 9, NO, "" },
	{ "It's a 2 from me", 2, 2, 2, "from me" },
	{ "Great service, 5", NO, NO, NO, NULL },
	{ "hi yes ok thanks well so I would say it's a 5", NO, NO, NO,
	    NULL },
	/* Emoji. */
	{ "5️⃣", 5, 5, NO, "" },
	{ "4️⃣ good", 4, 4, NO, "good" },
	{ "🔟", NO, 10, NO, "" },
	{ "⭐⭐⭐⭐", 4, NO, NO, "" },
	{ "⭐️⭐️⭐️⭐️⭐️ amazing", 5, NO, NO, "amazing" },
	{ "⭐ ⭐ ⭐", 3, NO, NO, "" },
	{ "★★★☆☆", 3, NO, NO, "" },
	{ "🌟🌟", 2, NO, NO, "" },
	{ "8 points", NO, 8, NO, "" },
	{ "3 puntos", 3, 3, 3, "" },
	{ "👍", NO, NO, 3, "" },
	{ "👍🏽 thanks", NO, NO, 3, "thanks" },
	{ "👎", NO, NO, 1, "" },
	{ "👍👍", NO, NO, 3, "" },
	{ "👍👎", NO, NO, NO, NULL },
	{ "😀", NO, NO, NO, NULL },
	{ "🙂 5", 5, 5, NO, "" },
	{ "５", 5, 5, NO, "" },
	{ "⑤", 5, 5, NO, "" },
	/* Out of the scale. */
	{ "10!", NO, 10, NO, "" },
	{ "6", NO, 6, NO, "" },
	{ "4", 4, 4, NO, "" },
	{ "11", NO, NO, NO, NULL },
	{ "8/10", NO, 8, NO, "" },
	{ "5/5 love it", 5, NO, NO, "love it" },
	{ "05", NO, NO, NO, NULL },
	{ "100%", NO, NO, NO, NULL },
	{ "💯", NO, NO, NO, NULL },
	/* Negations. */
	{ "not a 5", NO, NO, NO, NULL },
	{ "Not 5", NO, NO, NO, NULL },
	{ "wouldn't give 5", NO, NO, NO, NULL },
	{ "no es un 5", NO, NO, NO, NULL },
	{ "never 1", NO, NO, NO, NULL },
	/* Ranges, choices, two answers. */
	{ "4-5", NO, NO, NO, NULL },
	{ "4 - 5", NO, NO, NO, NULL },
	{ "3 or 4", NO, NO, NO, NULL },
	{ "4 or 5", NO, NO, NO, NULL },
	{ "2 5", NO, NO, NO, NULL },
	{ "4 to 5", NO, NO, NO, NULL },
	{ "entre 4 y 5", NO, NO, NO, NULL },
	{ "4 o 5", NO, NO, NO, NULL },
	{ "5 for Ana, 1 for the wait", NO, NO, NO, NULL },
	{ "5 5", NO, NO, NO, NULL },
	{ "4, maybe 5?", NO, NO, NO, NULL },
	{ "1, 2 1", NO, NO, NO, NULL },
	{ "5 stars, or 4 ⭐⭐⭐⭐?", NO, NO, NO, NULL },
	{ "5 ⭐⭐⭐", NO, NO, NO, NULL },
	{ "4.5", NO, NO, NO, NULL },
	{ "4,5", NO, NO, NO, NULL },
	{ "4½", NO, NO, NO, NULL },
	{ "4 and a half", NO, NO, NO, NULL },
	/* Numbers that count, price, time or date something. */
	{ "my order 12345 never came", NO, NO, NO, NULL },
	{ "5pm", NO, NO, NO, NULL },
	{ "5 pm", NO, NO, NO, NULL },
	{ "5 p.m.", NO, NO, NO, NULL },
	{ "5 a.m.", NO, NO, NO, NULL },
	{ "5:30", NO, NO, NO, NULL },
	{ "$5", NO, NO, NO, NULL },
	{ "5$", NO, NO, NO, NULL },
	{ "€5", NO, NO, NO, NULL },
	{ "5 dollars", NO, NO, NO, NULL },
	{ "5 items missing", NO, NO, NO, NULL },
	{ "2 questions: where is my box?", NO, NO, NO, NULL },
	{ "5 minutes", NO, NO, NO, NULL },
	{ "3 days late", NO, NO, NO, NULL },
	{ "5 of them broke", NO, NO, NO, NULL },
	{ "5 de mayo", NO, NO, NO, NULL },
	{ "5/12", NO, NO, NO, NULL },
	{ "5/5/2024", NO, NO, NO, NULL },
	{ "5th", NO, NO, NO, NULL },
	{ "#5", NO, NO, NO, NULL },
	{ "-1", NO, NO, NO, NULL },
	{ "+1 555 123 4567", NO, NO, NO, NULL },
	{ "1 800 555 1234", NO, NO, NO, NULL },
	{ "555-1234", NO, NO, NO, NULL },
	{ "1-800-555-1234", NO, NO, NO, NULL },
	{ "5-12", NO, NO, NO, NULL },
	{ "4⭐⭐", NO, NO, NO, NULL },
	{ "4 ⭐⭐?", NO, NO, NO, NULL },
	{ "A5", NO, NO, NO, NULL },
	{ "5x", NO, NO, NO, NULL },
	{ "5 more days please", NO, NO, NO, NULL },
	{ "one more question", NO, NO, NO, NULL },
	{ "two items never arrived", NO, NO, NO, NULL },
	{ "give me five minutes", NO, NO, NO, NULL },
	{ "five thanks", NO, NO, NO, NULL },
	/* Questions and other replies. */
	{ "5?", NO, NO, NO, NULL },
	{ "5 stars?", NO, NO, NO, NULL },
	{ "¿5?", NO, NO, NO, NULL },
	{ "where is my refund?", NO, NO, NO, NULL },
	{ "STOP", NO, NO, NO, NULL },
	{ "yes", NO, NO, NO, NULL },
	{ "thanks!", NO, NO, NO, NULL },
	{ "ok", NO, NO, NO, NULL },
	{ "", NO, NO, NO, NULL },
	{ "   \n", NO, NO, NO, NULL },
	{ "!!!", NO, NO, NO, NULL },
	{ "Hello I wanted to ask about my order from 5 days ago", NO, NO,
	    NO, NULL },
};

/* s with control and non-ASCII bytes escaped, for a one-line name. */
static const char *
shown(const char *s, size_t n)
{
	static char buf[128];
	size_t k = 0;

	for (size_t i = 0; i < n && k < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= ' ' && c < 0x7f && c != '\\')
			buf[k++] = (char)c;
		else
			k += (size_t)snprintf(buf + k, 5, "\\x%02x", c);
	}
	buf[k] = '\0';
	if (k >= 64)
		snprintf(buf + k, sizeof buf - k, "... (%zu bytes)", n);
	return buf;
}

/* text (len bytes) on scale is want (NO: no score), with comment. */
static void
is_score(const char *text, size_t len, enum score_scale scale, int want,
    const char *comment)
{
	struct score sc;
	int r = score_parse(text, len, scale, &sc);
	char got[512];
	int pass;

	if (r == 1) {
		snprintf(got, sizeof got, "%d \"%.*s\"", sc.value,
		    (int)sc.comment_len, sc.comment);
		pass = want != NO && sc.value == want &&
		    sc.comment_len == strlen(comment) &&
		    memcmp(sc.comment, comment, sc.comment_len) == 0;
	} else {
		snprintf(got, sizeof got, "no score (value %d)", sc.value);
		pass = r == 0 && want == NO && sc.value == -1 &&
		    sc.comment == NULL && sc.comment_len == 0;
	}
	if (want == NO)
		pass = tap_ok(pass, __FILE__, __LINE__, "%s: \"%s\" is no "
		    "score", score_scale_name(scale), shown(text, len));
	else
		pass = tap_ok(pass, __FILE__, __LINE__, "%s: \"%s\" is %d, "
		    "comment \"%s\"", score_scale_name(scale),
		    shown(text, len), want, comment);
	if (!pass)
		printf("#   got %.200s\n", got);
	/* The verdict alone, without a struct to fill. */
	if (score_parse(text, len, scale, NULL) != (want != NO))
		ok(0, "%s: \"%s\" with sc NULL", score_scale_name(scale),
		    shown(text, len));
}

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof replies / sizeof *replies; i++) {
		const char *t = replies[i].text;
		size_t n = strlen(t);

		is_score(t, n, SCORE_1_5, replies[i].s15, replies[i].comment);
		is_score(t, n, SCORE_0_10, replies[i].s010,
		    replies[i].comment);
		is_score(t, n, SCORE_1_3, replies[i].s13, replies[i].comment);
	}
	printf("# %zu replies\n", sizeof replies / sizeof *replies);
}

static void
test_bytes(void)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
		{ "5 \xff", 3 }, { "\xc3", 1 }, { "5 gr\xc3\xa9\xc3", 7 },
		{ "\xed\xa0\x80 5", 5 }, { "\xc0\xb5", 2 },
		{ "5 \xf4\x90\x80\x80", 6 },
	};
	struct score sc;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		is_score(bad[i].text, bad[i].len, SCORE_1_5, NO, NULL);
	/* A NUL is a character like another: not a separator. */
	is_score("5\0 great", 8, SCORE_1_5, NO, NULL);
	ok(score_parse("5 great\0", 8, SCORE_1_5, &sc) == 1 &&
	    sc.value == 5 && sc.comment_len == 6 &&
	    memcmp(sc.comment, "great\0", 6) == 0, "a NUL in the comment");
	is_score("\0", 1, SCORE_1_5, NO, NULL);
	/* A score, then a length past the NUL that ends it. */
	is_score("4", 1, SCORE_1_5, 4, "");
	ok(score_parse(NULL, 0, SCORE_1_5, NULL) == 0, "NULL text: no score");
}

static void
test_long(void)
{
	size_t n = 32 * 1024, e;
	char *s = malloc(n + 1);
	struct score sc;

	if (s == NULL)
		abort();
	/* A score with a comment of the inbox's whole body. */
	memset(s, 'a', n);
	memcpy(s, "5 - ", 4);
	s[n - 1] = '!';
	ok(score_parse(s, n, SCORE_1_5, &sc) == 1 && sc.value == 5 &&
	    sc.comment == s + 4 && sc.comment_len == n - 4,
	    "5 and a 32 KiB comment");
	/* One word of 32 KiB, and digits. */
	memset(s, 'x', n);
	is_score(s, n, SCORE_1_5, NO, NULL);
	memset(s, '5', n);
	is_score(s, n, SCORE_1_5, NO, NULL);
	/* Spaces then a score: not near the start in tokens, but it is. */
	memset(s, ' ', n);
	s[n - 1] = '4';
	is_score(s, n, SCORE_1_5, 4, "");
	/* Many tokens: the score is read from the first few. */
	for (size_t i = 0; i + 2 <= n; i += 2)
		memcpy(s + i, "! ", 2);
	s[n - 2] = '5';
	is_score(s, n, SCORE_1_5, NO, NULL);
	memset(s, ' ', n);
	for (size_t i = 2; i + 6 <= n; i += 6)
		memcpy(s + i, "great ", 6);
	s[0] = '3';
	s[n - 1] = ' ';
	e = n;
	while (s[e - 1] == ' ')
		e--;
	ok(score_parse(s, n, SCORE_1_3, &sc) == 1 && sc.value == 3 &&
	    sc.comment == s + 2 && sc.comment_len == e - 2,
	    "3 and a comment of 5000 words");
	/* Combining marks by the thousand after a digit. */
	memcpy(s, "5", 1);
	for (size_t i = 1; i + 2 <= n; i += 2)
		memcpy(s + i, "\xcc\x81", 2);
	s[n - 1] = ' ';
	is_score(s, n, SCORE_1_5, 5, "");
	free(s);
}

static void
test_scales(void)
{
	enum score_scale sc = SCORE_1_3;

	ok(score_scale_parse("1-5", &sc) == 0 && sc == SCORE_1_5, "1-5");
	ok(score_scale_parse("0-10", &sc) == 0 && sc == SCORE_0_10, "0-10");
	ok(score_scale_parse("1-3", &sc) == 0 && sc == SCORE_1_3, "1-3");
	errno = 0;
	ok(score_scale_parse("1-10", &sc) == -1 && errno == EINVAL &&
	    sc == SCORE_1_3, "1-10 is no scale");
	ok(score_scale_parse("", &sc) == -1, "\"\" is no scale");
	is_int(score_scale_min(SCORE_0_10), 0, "0-10 from 0");
	is_int(score_scale_max(SCORE_0_10), 10, "0-10 to 10");
	is_int(score_scale_min(SCORE_1_5), 1, "1-5 from 1");
	is_int(score_scale_max(SCORE_1_3), 3, "1-3 to 3");
}

int
main(void)
{
	test_table();
	test_bytes();
	test_long();
	test_scales();
	return tap_done();
}
