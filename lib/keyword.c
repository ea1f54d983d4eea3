/*
 * keyword.c: one word against a short table.
 *
 * Only ASCII letters fold case, so a look-alike (a fullwidth STOP, a
 * Cyrillic Es for the S) is not a keyword, as it is not to carriers. The
 * trimmed text must have the keyword's length exactly: trailing
 * punctuation makes it a sentence, not a keyword.
 */
#include <string.h>

#include "keyword.h"

static const struct {
	const char *word;
	enum keyword kind;
} keywords[] = {
	{ "STOP", KEYWORD_OPTOUT }, { "STOPALL", KEYWORD_OPTOUT },
	{ "UNSUBSCRIBE", KEYWORD_OPTOUT }, { "CANCEL", KEYWORD_OPTOUT },
	{ "END", KEYWORD_OPTOUT }, { "QUIT", KEYWORD_OPTOUT },
	{ "REVOKE", KEYWORD_OPTOUT }, { "OPTOUT", KEYWORD_OPTOUT },
	{ "START", KEYWORD_OPTIN }, { "UNSTOP", KEYWORD_OPTIN },
	{ "YES", KEYWORD_OPTIN },
	{ "HELP", KEYWORD_HELP }, { "INFO", KEYWORD_HELP },
};

/* Bytes of space at s[0] (n left): ASCII whitespace 1, U+00A0 2, else 0. */
static size_t
space_at(const unsigned char *s, size_t n)
{
	if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
		return 2;
	return 0;
}

/* Bytes of space ending at s[n - 1]. */
static size_t
space_before(const unsigned char *s, size_t n)
{
	if (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r'))
		return 1;
	if (n >= 2 && s[n - 2] == 0xC2 && s[n - 1] == 0xA0)
		return 2;
	return 0;
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

enum keyword
keyword_classify(const char *body, size_t len, const char **word)
{
	const unsigned char *s = (const unsigned char *)body;
	size_t k;

	if (word)
		*word = NULL;
	while (len > 0 && (k = space_at(s, len)) > 0)
		s += k, len -= k;
	while (len > 0 && (k = space_before(s, len)) > 0)
		len -= k;
	for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
		const char *w = keywords[i].word;
		size_t j;

		if (strlen(w) != len)
			continue;
		for (j = 0; j < len && upper(s[j]) == w[j]; j++)
			;
		if (j == len) {
			if (word)
				*word = w;
			return keywords[i].kind;
		}
	}
	return KEYWORD_NONE;
}
