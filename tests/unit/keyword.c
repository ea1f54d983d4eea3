/*
 * tests/unit/keyword.c: keyword_classify() over the whole keyword table.
 *
 * Every keyword is tried in lower, upper and mixed case and wrapped in
 * each kind of space that is trimmed; then texts that only look like
 * keywords must be KEYWORD_NONE.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "keyword.h"
#include "tap.h"

static const struct {
	const char *word;
	enum keyword kind;
} table[] = {
	{ "STOP", KEYWORD_OPTOUT }, { "STOPALL", KEYWORD_OPTOUT },
	{ "UNSUBSCRIBE", KEYWORD_OPTOUT }, { "CANCEL", KEYWORD_OPTOUT },
	{ "END", KEYWORD_OPTOUT }, { "QUIT", KEYWORD_OPTOUT },
	{ "REVOKE", KEYWORD_OPTOUT }, { "OPTOUT", KEYWORD_OPTOUT },
	{ "START", KEYWORD_OPTIN }, { "UNSTOP", KEYWORD_OPTIN },
	{ "YES", KEYWORD_OPTIN },
	{ "HELP", KEYWORD_HELP }, { "INFO", KEYWORD_HELP },
};

/* s with control and non-ASCII bytes escaped, for a one-line test name. */
static const char *
shown(const char *s, size_t n)
{
	static char buf[256];
	size_t k = 0;

	for (size_t i = 0; i < n && k < sizeof buf - 5; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= ' ' && c < 0x7f)
			buf[k++] = (char)c;
		else
			k += (size_t)snprintf(buf + k, 5, "\\x%02x", c);
	}
	buf[k] = '\0';
	return buf;
}

static void
is_kw(const char *body, size_t len, enum keyword kind, const char *word)
{
	const char *got = "unset";
	enum keyword k = keyword_classify(body, len, &got);

	if (!ok(k == kind && (word ? got && strcmp(got, word) == 0 : !got),
	    "\"%s\" is %s", shown(body, len), word ? word : "no keyword"))
		printf("#   got %d \"%s\"\n", (int)k, got ? got : "(null)");
}

static void
none(const char *body)
{
	is_kw(body, strlen(body), KEYWORD_NONE, NULL);
}

static void
test_table(void)
{
	static const char *const wraps[][2] = {
		{ "", "" }, { " ", " " }, { "\n", "" }, { "", "\r\n" },
		{ "\t ", "\n\n" }, { "\xc2\xa0", "" }, { "", "\xc2\xa0" },
		{ " \xc2\xa0\v", "\f\xc2\xa0\xc2\xa0 " },
	};

	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		const char *w = table[i].word;
		size_t n = strlen(w);
		char lower[32], mixed[32], text[64];

		for (size_t j = 0; j <= n; j++) {
			lower[j] = (char)tolower((unsigned char)w[j]);
			mixed[j] = j % 2 ? lower[j] : w[j];
		}
		/* "sTOP" style too, so no fixed position is upper-case. */
		is_kw(w, n, table[i].kind, w);
		is_kw(lower, n, table[i].kind, w);
		is_kw(mixed, n, table[i].kind, w);
		mixed[0] = lower[0];
		mixed[1] = w[1];
		is_kw(mixed, n, table[i].kind, w);
		for (size_t k = 0; k < sizeof wraps / sizeof *wraps; k++) {
			snprintf(text, sizeof text, "%s%s%s", wraps[k][0],
			    k % 2 ? lower : w, wraps[k][1]);
			is_kw(text, strlen(text), table[i].kind, w);
		}
		/* With a character more at either end, never a keyword. */
		snprintf(text, sizeof text, "%s.", w);
		none(text);
		snprintf(text, sizeof text, "%s!", lower);
		none(text);
		snprintf(text, sizeof text, "%ss", w);
		none(text);
		snprintf(text, sizeof text, "x%s", w);
		none(text);
		snprintf(text, sizeof text, "%.*s", (int)n - 1, w);
		none(text);
	}
}

static void
test_near(void)
{
	const char *word = "unset";

	none("STOP PLEASE");
	none("please stop");
	none("STOPP");
	none("S TOP");
	none("ST\nOP");
	none("STOP STOP");
	none("STOP...");
	none("STOP!!");
	none("\"STOP\"");
	none("");
	none(" ");
	none("\n\t\r ");
	none("\xc2\xa0");
	none("\xa0STOP");
	none("STOP\xc2");
	none("\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0");
	none("\xd0\xa1TOP");
	none("STOP\xe2\x80\x8b");
	none("\xe3\x80\x80STOP");
	none("OPT OUT");
	none("OPT-OUT");
	none("UN STOP");
	none("Y");
	none("HELP ME");
	is_kw("STOP\0", 5, KEYWORD_NONE, NULL);
	is_kw("STOP and more", 4, KEYWORD_OPTOUT, "STOP");
	is_kw("unstop", 6, KEYWORD_OPTIN, "UNSTOP");
	is_kw("stopall", 7, KEYWORD_OPTOUT, "STOPALL");
	ok(keyword_classify("Stop", 4, NULL) == KEYWORD_OPTOUT,
	    "word may be NULL");
	ok(keyword_classify("hello", 5, &word) == KEYWORD_NONE &&
	    word == NULL, "*word is NULL for no keyword");
	ok(keyword_classify(NULL, 0, &word) == KEYWORD_NONE,
	    "a NULL empty body is no keyword");
}

int
main(void)
{
	test_table();
	test_near();
	return tap_done();
}
