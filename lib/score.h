/*
 * score.h: whether a customer's reply to a survey gives a score, which,
 * and the comment that comes with it.
 *
 * The reply is read as customers text it: "5", "5/5", "4 stars",
 * "five", "cinco estrellas", "4 thanks!", "5!!!", "1 - terrible",
 * "I'd say 4", "le doy un 5", a keycap 5, four star emoji, and on the
 * 1-3 scale a thumbs up (3) or down (1). Stars are a score on the 1-5
 * scale only: "5 stars" means top marks, which is not 5 on 0-10 nor on
 * 1-3. Thumbs are a score on 1-3 only: on the other scales a thumbs up
 * could be any of the top scores.
 *
 * A reply that is not clearly a score is not one: the cost of a wrong score (a customer's question silently taken as
 * an answer, the conversation left resolved) is far higher than the cost
 * of a missed one (an agent sees the reply). So these are not scores: a
 * number out of the scale ("10" on 1-5, "8/10" on 1-5: no rescaling), a
 * negation ("not a 5"), a range or a choice ("4-5", "3 or 4", "2 5": never
 * the lower nor the higher), a number that counts or prices something
 * ("5pm", "$5", "5 items", "5 de mayo", "4.5"), a question ("5?"), and a
 * score that is not at the start of the reply, after at most a few words
 * of greeting or lead-in ("hi", "thanks", "I'd say", "le doy un").
 *
 * Nothing here allocates; the comment points into the caller's text.
 */
#ifndef SCORE_H
#define SCORE_H

#include <stddef.h>

enum score_scale {
	SCORE_1_5,	/* CSAT, the default: 1 (poor) to 5 (great) */
	SCORE_0_10,	/* NPS: 0 to 10 */
	SCORE_1_3,	/* 1 (bad) to 3 (good); thumbs down 1, thumbs up 3 */
};

struct score {
	int value;		/* within the scale; -1 when not a score */
	const char *comment;	/* what follows the score, into the text */
	size_t comment_len;	/* bytes of comment, 0 when nothing follows */
};

/*
 * score_parse: whether text (len bytes: any bytes, any length) is a reply
 * that gives a score on scale. Returns 1 with *sc filled, or 0 when it is
 * not a score, which includes text that is not valid UTF-8 (then
 * sc->value is -1 and sc->comment NULL). The comment is a suffix of text:
 * what follows the score and its unit ("/5", "stars", "out of 5"), less
 * the separator after it (" - ", ", ", "!!!") and trailing white space;
 * "" when nothing follows. sc may be NULL to ask only whether.
 */
int score_parse(const char *text, size_t len, enum score_scale scale,
    struct score *sc);

/*
 * score_scale_parse: the scale that name ("1-5", "0-10" or "1-3") names,
 * into *scale. Returns 0, or -1 with errno EINVAL.
 */
int score_scale_parse(const char *name, enum score_scale *scale);

/* score_scale_name: "1-5", "0-10" or "1-3". */
const char *score_scale_name(enum score_scale scale);

/* score_scale_min, score_scale_max: the lowest and highest score. */
int score_scale_min(enum score_scale scale);
int score_scale_max(enum score_scale scale);

#endif
