/*
 * keyword.h: the opt-out, opt-in and help keywords of an inbound text.
 *
 * Carriers and providers act on a message that is one keyword and
 * nothing else (providers.md 1.9): "stop" and " STOP\n" are an opt-out,
 * "STOP PLEASE", "STOP." and "STOPP" are not. smsdesk mirrors that
 * locally, so it records consent changes even when the provider has
 * already acted on them.
 */
#ifndef KEYWORD_H
#define KEYWORD_H

#include <stddef.h>

enum keyword {
	KEYWORD_NONE,
	KEYWORD_OPTOUT,		/* STOP STOPALL UNSUBSCRIBE CANCEL END QUIT
				   REVOKE OPTOUT */
	KEYWORD_OPTIN,		/* START UNSTOP YES */
	KEYWORD_HELP,		/* HELP INFO */
};

/*
 * Classify body (len bytes): a keyword if the whole text, less leading
 * and trailing ASCII whitespace and U+00A0, is one keyword in any mix of
 * case. If word is not NULL, *word gets the keyword in upper case (a
 * static string), or NULL for KEYWORD_NONE.
 */
enum keyword keyword_classify(const char *body, size_t len,
    const char **word);

#endif
