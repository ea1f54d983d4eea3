/*
 * score.c: a survey reply read as a few tokens.
 *
 * The text is checked as UTF-8, then folded code point by code point with
 * utf8proc (compatibility decomposition, case folding, marks and default
 * ignorables stripped, dashes, quotes and spaces lumped), so "FIVE",
 * "Five", a fullwidth 5, a circled 5 and the keycap 5 (a 5, U+FE0F and
 * the enclosing keycap mark) all read as "five" or "5", and "calificación"
 * as "calificacion". Every folded code point remembers the bytes of the
 * original it came from, so the comment is cut from the original text.
 *
 * The folded text is cut into tokens (numbers, words, stars, thumbs,
 * punctuation, other symbols), at most TOK_MAX of them: a reply is a
 * lead-in of greeting words (LEAD_WORDS at most), a score with its unit,
 * and a comment. A score is a number that nothing around it makes a
 * count, a price, a time, a date or a decimal; a number word that stands
 * alone or has a unit; a run of star emoji on the 1-5 scale; thumbs on
 * the 1-3 scale. It is refused when another score of a different value
 * follows it within AFTER_WORDS words (a range, a choice, two answers).
 * The work is bounded by TOK_MAX tokens but for the UTF-8 check, a long
 * word or number, and the white space trimmed at the end: linear in the
 * text, with nothing allocated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

#include "score.h"
#include "utf8.h"

#define FOLD (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
	UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP)
#define FOLD_MAX 32	/* folded code points of one; longer ones are U+FFFD */
#define QUEUE 80	/* room for a peek of two past a full FOLD_MAX */
#define WORD_MAX 24	/* bytes of a word kept; a longer one matches nothing */
#define TOK_MAX 48	/* tokens read: lead-in, score, unit and what follows */
#define SENTINELS 4	/* copies of the last, for looks past it */
#define LEAD_WORDS 8	/* greeting words before the score */
#define LEAD_TOKENS 16	/* and with punctuation and emoji */
#define AFTER_WORDS 4	/* words after the score searched for another one */

enum kind {
	T_END, T_MORE, T_NUM, T_WORD, T_PUNCT, T_STAR, T_ESTAR, T_UP, T_DOWN,
	T_TEN, T_CUR, T_SYM,
};

struct tok {
	enum kind kind;
	int glued;		/* no space between it and the token before */
	int value;		/* T_NUM: its value, 1000 for any larger */
	int ndigits;		/* T_NUM: digits, up to 9 */
	uint32_t cp;		/* T_PUNCT, T_SYM: the folded code point */
	char word[WORD_MAX];	/* T_WORD: folded, or "" if too long */
	size_t start, end;	/* the bytes of the original text */
};

struct fcp {
	uint32_t cp;
	size_t start, end;
};

struct lexer {
	const char *s;
	size_t len, i;
	struct fcp q[QUEUE];
	int head, n;
};

struct parse {
	struct tok t[TOK_MAX + 1 + SENTINELS];
	int n;
	int min, max;
	int thumbs;		/* thumbs are scores (1-3) */
	int stars;		/* stars are scores (1-5) */
};

static const char *const fillers[] = {
	/* English */
	"a", "all", "an", "answer", "be", "def", "definitely", "deserve",
	"deserves", "easily", "experience", "for", "gave", "give", "gives",
	"giving", "guys", "hello", "hey", "hi", "hmm", "honestly", "i", "i'd",
	"i'll", "i'm", "id", "im", "is", "it", "it's", "its", "k", "me", "my",
	"oh", "ok", "okay", "overall", "prob", "probably", "rate", "rated",
	"rating", "say", "score", "service", "so", "solid", "sure", "thank",
	"thanks", "that", "that's", "thats", "the", "thx", "ty", "u", "uh",
	"um", "umm", "ur", "was", "we", "well", "will", "would", "yeah", "yep",
	"yes", "you", "you're", "youre", "yup", "your",
	/* Spanish, without accents (folded away) */
	"atencion", "bueno", "buena", "calificacion", "calificaria",
	"califico", "claro", "daria", "definitivamente", "digo", "diria",
	"doy", "el", "es", "gracias", "hola", "la", "le", "les", "lo", "merece",
	"mi", "muchas", "nota", "pondria", "pongo", "pues", "puntuacion", "se",
	"seria", "servicio", "si", "su", "te", "un", "vale", "yo",
	NULL
};

/* Words that, right after a number, make it a count, a time or a date. */
static const char *const counts[] = {
	"additional", "am", "bag", "bags", "box", "boxes", "buck",
	"bucks", "call", "calls", "cent", "cents", "day", "days", "different",
	"dollar", "dollars", "each", "email", "emails", "eur", "euro", "euros",
	"extra", "feet", "ft", "h", "half", "hour", "hours", "hr", "hrs",
	"in", "inch", "inches", "issue", "issues", "item", "items", "kg", "km",
	"lb", "lbs", "left", "less", "message", "messages", "mi", "mile",
	"miles", "min", "mins", "minute", "minutes", "missing", "month",
	"months", "more", "new", "o'clock", "oclock", "of", "or", "order",
	"orders", "other", "others", "oz", "p", "package", "packages", "pair",
	"pairs", "pc", "pcs", "people", "per", "percent", "person", "persons",
	"peso", "pesos", "piece", "pieces", "pm", "problem", "problems",
	"question", "questions", "sec", "second", "seconds", "secs", "text",
	"texts", "thing", "things", "ticket", "tickets", "time", "times",
	"unit", "units", "usd", "week", "weeks", "wk", "wks", "x", "year",
	"years", "yr", "yrs",
	"al", "ano", "anos", "articulo", "articulos", "caja", "cajas", "de",
	"dia", "dias", "dolar", "dolares", "hora", "horas", "mas", "medio",
	"media", "menos", "mes", "meses", "minuto", "minutos", "o", "paquete",
	"paquetes", "pedido", "pedidos", "persona", "personas", "por",
	"producto", "productos", "semana", "semanas", "u", "vez", "veces",
	NULL
};

static const char *const halves[] = { "half", "medio", "media", NULL };

static const struct {
	const char *word;
	int value;
} numbers[] = {
	{ "zero", 0 }, { "one", 1 }, { "two", 2 }, { "three", 3 },
	{ "four", 4 }, { "five", 5 }, { "six", 6 }, { "seven", 7 },
	{ "eight", 8 }, { "nine", 9 }, { "ten", 10 },
	{ "cero", 0 }, { "uno", 1 }, { "una", 1 }, { "dos", 2 }, { "tres", 3 },
	{ "cuatro", 4 }, { "cinco", 5 }, { "seis", 6 }, { "siete", 7 },
	{ "ocho", 8 }, { "nueve", 9 }, { "diez", 10 },
};

static const char *const stars[] = {
	"estrella", "estrellas", "star", "stars", NULL
};

static const char *const points[] = {
	"point", "points", "pts", "punto", "puntos", NULL
};

static int
in(const char *w, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(w, *set) == 0)
			return 1;
	return 0;
}

static int
is_space(uint32_t c)
{
	utf8proc_category_t k;

	if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85)
		return 1;
	if (c < 0x80)
		return 0;
	k = utf8proc_category((utf8proc_int32_t)c);
	return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL ||
	    k == UTF8PROC_CATEGORY_ZP;
}

static int
is_letter(uint32_t c)
{
	utf8proc_category_t k;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	k = utf8proc_category((utf8proc_int32_t)c);
	return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/* Emoji skin tones: part of the thumb before them. */
static int
is_tone(uint32_t c)
{
	return c >= 0x1F3FB && c <= 0x1F3FF;
}

/* Fold the next code point of the text into the queue (or none). */
static void
fill(struct lexer *lx)
{
	utf8proc_int32_t out[FOLD_MAX];
	utf8proc_ssize_t n;
	size_t start = lx->i;
	uint32_t cp;
	int bound = 0;

	if (lx->head + lx->n + FOLD_MAX > QUEUE) {
		memmove(lx->q, lx->q + lx->head, (size_t)lx->n * sizeof *lx->q);
		lx->head = 0;
	}
	if (utf8_next(lx->s, lx->len, &lx->i, &cp) < 0) {
		/* The text was checked; stop here if it was not. */
		lx->i = lx->len;
		return;
	}
	if (is_tone(cp))
		return;
	/* ASCII folds to itself but for case, without a table lookup. */
	if (cp < 0x80) {
		struct fcp *f = &lx->q[lx->head + lx->n++];

		f->cp = cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
		f->start = start;
		f->end = lx->i;
		return;
	}
	n = utf8proc_decompose_char((utf8proc_int32_t)cp, out, FOLD_MAX, FOLD,
	    &bound);
	if (n < 0 || n > FOLD_MAX) {
		out[0] = 0xFFFD;
		n = 1;
	}
	for (utf8proc_ssize_t k = 0; k < n; k++) {
		struct fcp *f = &lx->q[lx->head + lx->n++];

		f->cp = (uint32_t)out[k];
		f->start = start;
		f->end = lx->i;
	}
}

/* The k-th folded code point ahead (k < 2), or NULL at the end. */
static const struct fcp *
peek(struct lexer *lx, int k)
{
	while (lx->n <= k && lx->i < lx->len)
		fill(lx);
	return lx->n > k ? &lx->q[lx->head + k] : NULL;
}

static void
take(struct lexer *lx, struct tok *t)
{
	const struct fcp *f = &lx->q[lx->head];

	if (f->end > t->end)
		t->end = f->end;
	lx->head++;
	lx->n--;
}

static enum kind
kind_of(uint32_t c)
{
	utf8proc_category_t k;

	switch (c) {
	case 0x2B50: case 0x1F31F: case 0x2605:
		return T_STAR;
	case 0x2606:
		return T_ESTAR;
	case 0x1F44D:
		return T_UP;
	case 0x1F44E:
		return T_DOWN;
	case 0x1F51F:
		return T_TEN;
	}
	k = utf8proc_category((utf8proc_int32_t)c);
	if (k == UTF8PROC_CATEGORY_SC)
		return T_CUR;
	if (c < 0x80 ||
	    (k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO))
		return T_PUNCT;
	return T_SYM;
}

/* The next token into *t; T_END at the end of the text. */
static void
lex(struct lexer *lx, struct tok *t)
{
	const struct fcp *f, *g;
	size_t w = 0;
	int space = 0;

	memset(t, 0, sizeof *t);
	while ((f = peek(lx, 0)) != NULL && is_space(f->cp)) {
		take(lx, t);
		space = 1;
	}
	t->glued = !space;
	if (f == NULL) {
		t->kind = T_END;
		t->start = t->end = lx->len;
		return;
	}
	t->start = t->end = f->start;
	if (f->cp >= '0' && f->cp <= '9') {
		t->kind = T_NUM;
		while ((f = peek(lx, 0)) != NULL && f->cp >= '0' &&
		    f->cp <= '9') {
			if (t->value < 1000)
				t->value = t->value * 10 + (int)(f->cp - '0');
			if (t->value > 1000)
				t->value = 1000;
			if (t->ndigits < 9)
				t->ndigits++;
			take(lx, t);
		}
	} else if (is_letter(f->cp)) {
		t->kind = T_WORD;
		while ((f = peek(lx, 0)) != NULL && (is_letter(f->cp) ||
		    (f->cp == '\'' && (g = peek(lx, 1)) != NULL &&
		    is_letter(g->cp)))) {
			char b[4];
			size_t k = utf8_encode(f->cp, b);

			if (w + k < WORD_MAX) {
				memcpy(t->word + w, b, k);
				w += k;
			} else {
				w = WORD_MAX;
			}
			take(lx, t);
		}
		if (w >= WORD_MAX)
			t->word[0] = '\0';
	} else {
		t->kind = kind_of(f->cp);
		t->cp = f->cp;
		take(lx, t);
	}
	/* Marks and ignorables dropped after it belong to it. */
	if ((f = peek(lx, 0)) != NULL) {
		if (f->start > t->end)
			t->end = f->start;
	} else {
		t->end = lx->len;
	}
}

static int
is_punct(const struct tok *t, uint32_t c)
{
	return t->kind == T_PUNCT && t->cp == c;
}

static int
is_word(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && strcmp(t->word, w) == 0;
}

/* The value of a number word, or -1. */
static int
number_word(const struct tok *t)
{
	if (t->kind != T_WORD)
		return -1;
	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
		if (strcmp(t->word, numbers[i].word) == 0)
			return numbers[i].value;
	return -1;
}

/* The value of a plain number or number word at t, or -1. */
static int
plain_number(const struct tok *t)
{
	if (t->kind == T_NUM)
		return t->ndigits <= 2 ? t->value : -1;
	return number_word(t);
}

/*
 * A fraction at t[j]: "/5", "out of 5", "outta five", "of 5", "de 5",
 * "sobre 5", whose denominator is the scale's top. Returns the index past
 * it, 0 if there is none, -1 if the denominator is another one or what
 * follows makes it a date ("5/5/24").
 */
static int
fraction(const struct parse *p, int j)
{
	const struct tok *t = p->t;
	int k;

	if (is_punct(&t[j], '/'))
		k = j + 1;
	else if (is_word(&t[j], "out") && is_word(&t[j + 1], "of"))
		k = j + 2;
	else if (is_word(&t[j], "outta") || is_word(&t[j], "of") ||
	    is_word(&t[j], "de") || is_word(&t[j], "sobre"))
		k = j + 1;
	else
		return 0;
	if (t[k].kind == T_NUM && t[k].ndigits == 2 && t[k].value < 10)
		return -1;
	/* "5 sobre todo": sobre (about) is not always "out of". */
	if (plain_number(&t[k]) < 0 && is_word(&t[j], "sobre"))
		return 0;
	if (plain_number(&t[k]) != p->max)
		return -1;
	if ((is_punct(&t[k + 1], '/') || is_punct(&t[k + 1], '-') ||
	    is_punct(&t[k + 1], '.')) && t[k + 1].glued &&
	    t[k + 2].kind == T_NUM && t[k + 2].glued)
		return -1;
	return k + 1;
}

/* A run of asterisks or star emoji at t[j] of n stars, or -1; past it. */
static int
star_run(const struct tok *t, int j, enum kind kind, uint32_t cp, int *n)
{
	*n = 0;
	while (t[j].kind == kind && (kind != T_PUNCT || t[j].cp == cp)) {
		(*n)++;
		j++;
	}
	return j;
}

/*
 * A unit at t[j] after the number v: "points", "stars", "-star",
 * "estrellas", "*", one star emoji or v of them. Returns the index past
 * it, 0 if there is none, -1 for stars on a scale other than 1-5.
 */
static int
star_unit(const struct parse *p, int j, int v)
{
	const struct tok *t = p->t;
	int k = j, n;

	if (is_punct(&t[k], '-') && t[k + 1].kind == T_WORD)
		k++;
	if (t[k].kind == T_WORD && in(t[k].word, points))
		return k + 1;
	if (t[k].kind == T_WORD && in(t[k].word, stars))
		return p->stars ? k + 1 : -1;
	k = star_run(t, j, T_STAR, 0, &n);
	if (n > 0 && !p->stars)
		return -1;
	/* "4 ⭐⭐": the stars say another score. */
	if (n > 0)
		return n == 1 || n == v ? k : -1;
	k = star_run(t, j, T_PUNCT, '*', &n);
	if (n == 1 || (n > 1 && n == v))
		return p->stars ? k : -1;
	return 0;
}

/* Punctuation glued to a number that makes it no score: "5%", "#5". */
static int
spoils(uint32_t c)
{
	if (c < ' ' || c == 0x7F)
		return 1;
	if (c < 0x80)
		return strchr("%+#@&=^_~<>?'", (int)c) != NULL;
	return c == 0xB0 || c == 0x2030 || c == 0x2032 || c == 0x2033;
}

/*
 * What follows a number v at t[j] (its unit or the rest): returns the
 * index past the unit, or -1 if the context makes v no score. Loose, for
 * a second score after the first, a question mark or a number after it
 * does not: "4, maybe 5?" and "1, 2 1" are two scores.
 */
static int
after_number(const struct parse *p, int j, int v, int word, int loose)
{
	const struct tok *t = p->t;
	int k, unit = 0;

	if (t[j].glued) {
		if (t[j].kind == T_WORD && !in(t[j].word, stars))
			return -1;
		if (t[j].kind == T_CUR || t[j].kind == T_NUM ||
		    (t[j].kind == T_PUNCT && spoils(t[j].cp) &&
		    !(loose && t[j].cp == '?')))
			return -1;
		/* "4.5", "4,5", "5:30", "1-800", "5-12". */
		if ((is_punct(&t[j], '.') || is_punct(&t[j], ',') ||
		    is_punct(&t[j], ':') || is_punct(&t[j], ';') ||
		    is_punct(&t[j], '-')) && t[j + 1].kind == T_NUM &&
		    t[j + 1].glued)
			return -1;
	}
	for (int round = 0; round < 2; round++) {
		if ((k = fraction(p, j)) == 0)
			k = star_unit(p, j, v);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		j = k;
		unit = 1;
	}
	if (!loose && (is_punct(&t[j], '?') ||
	    (t[j].kind == T_NUM && !t[j].glued)))
		return -1;
	if (t[j].kind == T_CUR)
		return -1;
	if (t[j].kind == T_WORD && in(t[j].word, counts))
		return -1;
	if (is_word(&t[j], "a") && is_punct(&t[j + 1], '.') &&
	    t[j + 1].glued && is_word(&t[j + 2], "m"))
		return -1;
	/* "4 and a half", "4 y medio". */
	if ((is_word(&t[j], "and") || is_word(&t[j], "y")) &&
	    (in(t[j + 1].word, halves) || (is_word(&t[j + 1], "a") &&
	    is_word(&t[j + 2], "half"))))
		return -1;
	/* "one more question": a number word stands alone or has a unit. */
	if (word && !unit && (t[j].kind == T_WORD || t[j].kind == T_NUM))
		return -1;
	return j;
}

/* A number at t[i] spoiled by what is glued before it: "a5", "$5", "-5". */
static int
spoiled_before(const struct parse *p, int i)
{
	const struct tok *b;

	if (i == 0 || !p->t[i].glued)
		return 0;
	b = &p->t[i - 1];
	if (b->kind == T_WORD || b->kind == T_NUM || b->kind == T_CUR)
		return 1;
	if (b->kind != T_PUNCT)
		return 0;
	if (b->cp == '-' && (i == 1 || !b->glued))
		return 1;
	return spoils(b->cp) || b->cp == '.';
}

/*
 * A score at t[i]: *v its value, *next the index past it and its unit.
 * Returns 1, or 0 if there is none there. loose: as for after_number().
 */
static int
score_at(const struct parse *p, int i, int loose, int *v, int *next)
{
	const struct tok *t = p->t;
	int n, empty, j;

	switch (t[i].kind) {
	case T_NUM:
		if (spoiled_before(p, i) || (*v = plain_number(&t[i])) < 0)
			return 0;
		if (t[i].ndigits == 2 && *v < 10)
			return 0;
		break;
	case T_WORD:
		if ((*v = number_word(&t[i])) < 0 ||
		    (t[i].glued && i > 0 && t[i - 1].kind == T_NUM))
			return 0;
		break;
	case T_TEN:
		*v = 10;
		break;
	case T_STAR:
	case T_ESTAR:
		if (!p->stars)
			return 0;
		for (n = empty = 0, j = i; t[j].kind == T_STAR ||
		    t[j].kind == T_ESTAR; j++) {
			if (t[j].kind == T_STAR)
				n++;
			else
				empty++;
		}
		if (n == 0 || (empty && n + empty != p->max))
			return 0;
		*v = n;
		*next = j;
		goto tail;
	case T_UP:
	case T_DOWN:
		if (!p->thumbs)
			return 0;
		for (j = i; t[j].kind == t[i].kind; j++)
			;
		*v = t[i].kind == T_UP ? p->max : p->min;
		*next = j;
		goto tail;
	default:
		return 0;
	}
	if (*v < p->min || *v > p->max)
		return 0;
	if ((j = after_number(p, i + 1, *v, t[i].kind == T_WORD, loose)) < 0)
		return 0;
	*next = j;
	return 1;
tail:
	if (*v < p->min || *v > p->max)
		return 0;
	return loose || !(is_punct(&t[*next], '?') || t[*next].kind == T_NUM);
}

/* Another score of a different value within AFTER_WORDS words of t[j]. */
static int
another(const struct parse *p, int j, int v)
{
	int words = 0, w, next;

	for (; j < p->n && words < AFTER_WORDS; j++) {
		if (p->t[j].kind == T_END || p->t[j].kind == T_MORE)
			break;
		if (score_at(p, j, 1, &w, &next) && w != v)
			return 1;
		if (p->t[j].kind == T_WORD || p->t[j].kind == T_NUM)
			words++;
	}
	return 0;
}

/* Punctuation allowed before the score: "Rating: 5", "Thanks! 5". */
static int
lead_punct(const struct tok *t)
{
	return t->kind == T_PUNCT && t->cp > 0 && t->cp < 0x80 &&
	    strchr(",.!:;-\"'()*", (int)t->cp) != NULL;
}

/* The code point at s[*i], or -1 with *i at the end; *i moves past it. */
static long
cp_at(const char *s, size_t len, size_t *i)
{
	uint32_t c;

	if (*i >= len || utf8_next(s, len, i, &c) < 0)
		return -1;
	return (long)c;
}

/* Separators between the score and its comment. */
static int
separator(long c)
{
	return (c > 0 && c < 0x80 && strchr(",.!;:-~)]}\"'", (int)c)) ||
	    c == 0x2026 || c == 0x2013 || c == 0x2014 || c == 0x2019 ||
	    c == 0x201D || c == 0xBB || c == 0xA1 || c == 0x3002 ||
	    c == 0xFF01 || c == 0xFF0C;
}

static int
skippable(long c)
{
	return is_space((uint32_t)c) || is_tone((uint32_t)c) ||
	    utf8proc_get_property((utf8proc_int32_t)c)->ignorable ||
	    utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ME;
}

/*
 * Where the comment starts, from i (past the score): white space and a
 * run of separators are skipped, but not an emoticon (":)", ";-)", "-_-").
 */
static size_t
comment_start(const char *s, size_t len, size_t i)
{
	size_t k, at;
	long c;

	for (;;) {
		for (k = i; (c = cp_at(s, len, &k)) >= 0 && skippable(c); )
			i = k;
		if (i >= len)
			return len;
		at = i;
		k = i;
		c = cp_at(s, len, &k);
		if (c == ':' || c == ';' || c == '=') {
			size_t m = k;
			long d = cp_at(s, len, &m);

			if (d >= 0 && !is_space((uint32_t)d))
				return at;
		}
		while (c >= 0 && separator(c)) {
			i = k;
			c = cp_at(s, len, &k);
		}
		if (i == at)
			return at;
		/* "-_-", "!!(": the run begins an emoticon, keep it. */
		if (c > ' ' && c < 0x7F && !isalnum((int)c))
			return at;
	}
}

/* len less the white space at the end of s. */
static size_t
trimmed(const char *s, size_t len)
{
	while (len > 0) {
		size_t k = len - 1, j;
		uint32_t c;

		while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		j = k;
		if (utf8_next(s, len, &j, &c) < 0 || j != len || !is_space(c))
			break;
		len = k;
	}
	return len;
}

int
score_parse(const char *text, size_t len, enum score_scale scale,
    struct score *sc)
{
	struct parse p;
	struct lexer lx;
	int i, words = 0, v, next;
	size_t start;

	if (sc) {
		sc->value = -1;
		sc->comment = NULL;
		sc->comment_len = 0;
	}
	if (text == NULL || utf8_valid_prefix(text, len) != len)
		return 0;
	memset(&lx, 0, sizeof lx);
	lx.s = text;
	lx.len = len;
	p.min = score_scale_min(scale);
	p.max = score_scale_max(scale);
	p.thumbs = scale == SCORE_1_3;
	p.stars = scale == SCORE_1_5;
	for (p.n = 0; p.n < TOK_MAX; p.n++) {
		lex(&lx, &p.t[p.n]);
		if (p.t[p.n].kind == T_END)
			break;
	}
	if (p.n == TOK_MAX) {
		memset(&p.t[p.n], 0, sizeof p.t[p.n]);
		p.t[p.n].kind = T_MORE;
		p.t[p.n].start = p.t[p.n].end = len;
	}
	/* The end repeated, so that a look a few past the last stays in. */
	for (i = 1; i <= SENTINELS; i++)
		p.t[p.n + i] = p.t[p.n];
	for (i = 0; i < LEAD_TOKENS && i < p.n; i++) {
		const struct tok *t = &p.t[i];

		if (t->kind == T_WORD && in(t->word, fillers)) {
			if (++words > LEAD_WORDS)
				return 0;
			continue;
		}
		if (lead_punct(t) || t->kind == T_SYM || (!p.thumbs &&
		    (t->kind == T_UP || t->kind == T_DOWN)))
			continue;
		break;
	}
	if (i >= LEAD_TOKENS || i >= p.n || !score_at(&p, i, 0, &v, &next) ||
	    another(&p, next, v))
		return 0;
	start = comment_start(text, len, p.t[next - 1].end);
	if (sc) {
		sc->value = v;
		sc->comment = text + start;
		len = trimmed(text, len);
		sc->comment_len = start < len ? len - start : 0;
	}
	return 1;
}

int
score_scale_parse(const char *name, enum score_scale *scale)
{
	static const enum score_scale all[] = {
		SCORE_1_5, SCORE_0_10, SCORE_1_3
	};

	for (size_t i = 0; name && i < sizeof all / sizeof *all; i++) {
		if (strcmp(name, score_scale_name(all[i])) == 0) {
			*scale = all[i];
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

const char *
score_scale_name(enum score_scale scale)
{
	return scale == SCORE_0_10 ? "0-10" : scale == SCORE_1_3 ? "1-3" :
	    "1-5";
}

int
score_scale_min(enum score_scale scale)
{
	return scale == SCORE_0_10 ? 0 : 1;
}

int
score_scale_max(enum score_scale scale)
{
	return scale == SCORE_0_10 ? 10 : scale == SCORE_1_3 ? 3 : 5;
}
