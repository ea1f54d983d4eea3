/*
 * gsm.c: lib/gsm rules, boundary by boundary.
 *
 * Each case states the body as pieces (a string repeated n times, built
 * from escapes so every byte is visible) and the answer segmentation.md
 * gives: encoding, segments, units per part, free units in the last part.
 * Every analysed result is also checked for its own consistency: parts are
 * contiguous, none is empty (but the empty body's), none exceeds the
 * capacity, each part's units are the sum of its characters' costs, and no
 * UCS-2 part ends inside an extended grapheme cluster (utf8proc decides)
 * unless that cluster is longer than a part. Then come the rules that need
 * more than a count: non-GSM reports, invalid UTF-8, limits, national
 * tables, word splitting and Smart Encoding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "gsm.h"
#include "tap.h"

#define EMOJI	"\xF0\x9F\x98\x80"		/* U+1F600, 2 units */
#define FAMILY	"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D" \
		"\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6"	/* 11 */
#define THUMB	"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"	/* U+1F44D U+1F3FD */
#define FLAG_US	"\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8"	/* U+1F1FA U+1F1F8 */
#define REDHAIR	"\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\xA6\xB0"	/* 5 */
#define ACUTE	"\xCC\x81"			/* U+0301 combining */
#define EURO	"\xE2\x82\xAC"			/* U+20AC, GSM ESC 0x65 */
#define HAN	"\xE4\xB8\xAD"			/* U+4E2D, 1 unit */
#define MEEM_FATHA "\xD9\x85\xD9\x8E"		/* U+0645 U+064E */
#define ARABIC	"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 " \
		"\xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85"
#define NBSP	"\xC2\xA0"
#define DIGITS	"1234567890"

/*
 * Merhaba Ayşe, yarın akşam İstanbul'da buluşalım mı? Çarşıda çay içer,
 * sonra sahilde yürürüz. Ağaçların gölgesinde oturup güzel bir öğle yemeği
 * yeriz...  (151 code points, all in the Turkish locking table)
 */
#define TR_TEXT \
	"Merhaba Ay\xC5\x9F" "e, yar\xC4\xB1n ak\xC5\x9F" "am " \
	"\xC4\xB0stanbul'da bulu\xC5\x9F" "al\xC4\xB1m m\xC4\xB1? " \
	"\xC3\x87" "ar\xC5\x9F\xC4\xB1" "da \xC3\xA7" "ay i\xC3\xA7" "er, " \
	"sonra sahilde y\xC3\xBCr\xC3\xBCr\xC3\xBCz. " \
	"A\xC4\x9F" "a\xC3\xA7lar\xC4\xB1n g\xC3\xB6lgesinde oturup " \
	"g\xC3\xBCzel bir \xC3\xB6\xC4\x9Fle yeme\xC4\x9Fi yeriz..."

/*
 * ¡Hola, Señora García! Mañana a las 10:30h llegará el técnico para
 * revisar la calefacción del salón. Si usted no está, déjele la llave al
 * portero Raúl.  (150 code points; 6 of á í ó ú need the Spanish shift)
 */
#define ES_TEXT \
	"\xC2\xA1Hola, Se\xC3\xB1ora Garc\xC3\xAD" "a! " \
	"Ma\xC3\xB1" "ana a las 10:30h llegar\xC3\xA1 el t\xC3\xA9" "cnico " \
	"para revisar la calefacci\xC3\xB3n del sal\xC3\xB3n. " \
	"Si usted no est\xC3\xA1, d\xC3\xA9jele la llave al portero " \
	"Ra\xC3\xBAl."

/*
 * Olá João! A reunião de amanhã foi adiada para às 15h. Não se esqueça:
 * o 1º relatório e as informações do orçamento devem estar prontas até
 * sexta-feira, às 18h  (158 code points; º is only in the locking table)
 */
#define PT_TEXT \
	"Ol\xC3\xA1 Jo\xC3\xA3o! A reuni\xC3\xA3o de amanh\xC3\xA3 " \
	"foi adiada para \xC3\xA0s 15h. N\xC3\xA3o se esque\xC3\xA7" "a: " \
	"o 1\xC2\xBA relat\xC3\xB3rio e as informa\xC3\xA7\xC3\xB5" "es " \
	"do or\xC3\xA7" "amento devem estar prontas at\xC3\xA9 " \
	"sexta-feira, \xC3\xA0s 18h"

#define LANG(nli) (1u << (nli))
#define LATIN (LANG(GSM_LANG_TURKISH) | LANG(GSM_LANG_SPANISH) | \
	LANG(GSM_LANG_PORTUGUESE))

/* A body: each string s repeated n times, up to a NULL s. */
struct piece {
	const char *s;
	size_t n;
};

struct seg_case {
	const char *name;
	struct piece body[4];
	enum gsm_encoding enc;
	size_t segments;
	const char *parts;	/* units of each part, "153,8"; NULL: any */
	long left;		/* units_left; -1: not checked */
};

#define G GSM_GSM7
#define U GSM_UCS2

static const struct seg_case seg_cases[] = {
	/* GSM-7: 160 alone, 153 per part once concatenated. */
	{ "0 a", { { NULL, 0 } }, G, 1, "0", 160 },
	{ "1 a", { { "a", 1 } }, G, 1, "1", 159 },
	{ "70 a", { { "a", 70 } }, G, 1, "70", 90 },
	{ "71 a", { { "a", 71 } }, G, 1, "71", 89 },
	{ "153 a", { { "a", 153 } }, G, 1, "153", 7 },
	{ "154 a", { { "a", 154 } }, G, 1, "154", 6 },
	{ "160 a", { { "a", 160 } }, G, 1, "160", 0 },
	{ "161 a", { { "a", 161 } }, G, 2, "153,8", 145 },
	{ "306 a", { { "a", 306 } }, G, 2, "153,153", 0 },
	{ "307 a", { { "a", 307 } }, G, 3, "153,153,1", 152 },
	{ "459 a", { { "a", 459 } }, G, 3, "153,153,153", 0 },
	{ "460 a", { { "a", 460 } }, G, 4, "153,153,153,1", 152 },

	/* UCS-2: 70 alone, 67 per part. */
	{ "70 x U+4E2D", { { HAN, 70 } }, U, 1, "70", 0 },
	{ "71 x U+4E2D", { { HAN, 71 } }, U, 2, "67,4", 63 },
	{ "134 x U+4E2D", { { HAN, 134 } }, U, 2, "67,67", 0 },
	{ "135 x U+4E2D", { { HAN, 135 } }, U, 3, "67,67,1", 66 },
	{ "201 x U+4E2D", { { HAN, 201 } }, U, 3, "67,67,67", 0 },
	{ "202 x U+4E2D", { { HAN, 202 } }, U, 4, "67,67,67,1", 66 },

	/* An escape pair (2 septets) is never split across parts. */
	{ "euro at septet 151: pair ends part 1",
	    { { "a", 151 }, { EURO, 1 }, { "a", 153 } }, G, 2, "153,153", 0 },
	{ "euro at septet 152: part 1 holds 152",
	    { { "a", 152 }, { EURO, 1 }, { "a", 152 } }, G, 3, "152,153,1",
	    152 },
	{ "euro at septet 153: pair starts part 2",
	    { { "a", 153 }, { EURO, 1 }, { "a", 151 } }, G, 2, "153,153", 0 },
	{ "euro at septet 154",
	    { { "a", 154 }, { EURO, 1 }, { "a", 150 } }, G, 2, "153,153", 0 },
	{ "euro at septet 158: 160 in one part",
	    { { "a", 158 }, { EURO, 1 } }, G, 1, "160", 0 },
	{ "euro at septet 159: 161 septets",
	    { { "a", 159 }, { EURO, 1 } }, G, 2, "153,8", 145 },
	{ "euro at septet 160",
	    { { "a", 160 }, { EURO, 1 } }, G, 2, "153,9", 144 },
	{ "euro at septet 161",
	    { { "a", 161 }, { EURO, 1 } }, G, 2, "153,10", 143 },
	{ "153 x ] (issue #39, billed 3)", { { "]", 153 } }, G, 3,
	    "152,152,2", 151 },
	{ "80 x ] is 160 septets", { { "]", 80 } }, G, 1, "160", 0 },

	/* A surrogate pair is never split: a part may hold 66 units. */
	{ "emoji at unit 65", { { "a", 65 }, { EMOJI, 1 }, { "a", 67 } },
	    U, 2, "67,67", 0 },
	{ "emoji at unit 66", { { "a", 66 }, { EMOJI, 1 }, { "a", 66 } },
	    U, 3, "66,67,1", 66 },
	{ "emoji at unit 67", { { "a", 67 }, { EMOJI, 1 }, { "a", 65 } },
	    U, 2, "67,67", 0 },
	{ "emoji at unit 68", { { "a", 68 }, { EMOJI, 1 }, { "a", 64 } },
	    U, 2, "67,67", 0 },
	{ "emoji at unit 68 ends a full single part",
	    { { "a", 68 }, { EMOJI, 1 } }, U, 1, "70", 0 },
	{ "emoji at unit 69", { { "a", 69 }, { EMOJI, 1 } }, U, 2, "67,4",
	    63 },
	{ "emoji at unit 70", { { "a", 70 }, { EMOJI, 1 } }, U, 2, "67,5",
	    62 },
	{ "emoji at unit 71", { { "a", 71 }, { EMOJI, 1 } }, U, 2, "67,6",
	    61 },
	{ "67 x emoji", { { EMOJI, 67 } }, U, 3, "66,66,2", 65 },
	{ "emoji + 68 ] (] is 1 unit in UCS-2)",
	    { { EMOJI, 1 }, { "]", 68 } }, U, 1, "70", 0 },
	{ "emoji + 69 ]", { { EMOJI, 1 }, { "]", 69 } }, U, 2, "67,4", 63 },

	/* Grapheme clusters stay whole (current Unicode rules). */
	{ "family ZWJ sequence is 11 units", { { FAMILY, 1 } }, U, 1, "11",
	    59 },
	{ "62 a + family + 61 a", { { "a", 62 }, { FAMILY, 1 }, { "a", 61 } },
	    U, 3, "62,67,5", 62 },
	{ "65 a + thumbs up medium skin + 65 a",
	    { { "a", 65 }, { THUMB, 1 }, { "a", 65 } }, U, 3, "65,67,2", 65 },
	{ "65 a + flag US + 65 a",
	    { { "a", 65 }, { FLAG_US, 1 }, { "a", 65 } }, U, 3, "65,67,2", 65 },
	{ "64 a + red-haired woman + 65 a (Twilio's old splitter: 2)",
	    { { "a", 64 }, { REDHAIR, 1 }, { "a", 65 } }, U, 3, "64,67,3",
	    64 },

	/* Combining marks: decomposed is UCS-2, precomposed may be GSM. */
	{ "e + U+0301", { { "e" ACUTE, 1 } }, U, 1, "2", 68 },
	{ "70 x precomposed e-acute is GSM", { { "\xC3\xA9", 70 } }, G, 1,
	    "70", 90 },
	{ "70 x e + U+0301 (billed 3)", { { "e" ACUTE, 70 } }, U, 3,
	    "66,66,8", 59 },
	{ "e + 3 x U+0301 + 69 a (issue #17)",
	    { { "e" ACUTE ACUTE ACUTE, 1 }, { "a", 69 } }, U, 2, "67,6", 61 },
	{ "e + 100 x U+0301: one cluster over a part, cut at code points",
	    { { "e", 1 }, { ACUTE, 100 } }, U, 2, NULL, -1 },
	{ "e + 199 x U+0301", { { "e", 1 }, { ACUTE, 199 } }, U, 3, NULL, -1 },

	/* Arabic, with and without harakat (combining). */
	{ "Arabic sentence", { { ARABIC, 1 } }, U, 1, "13", 57 },
	{ "35 x meem + fatha", { { MEEM_FATHA, 35 } }, U, 1, "70", 0 },
	{ "36 x meem + fatha", { { MEEM_FATHA, 36 } }, U, 2, "66,6", 61 },

	/* Line breaks: CR and LF are one septet each (Twilio's live bills). */
	{ "80 a + CRLF + 79 a (billed 2)",
	    { { "a", 80 }, { "\r\n", 1 }, { "a", 79 } }, G, 2, "153,8", 145 },
	{ "80 a + LF + 79 a (billed 1)",
	    { { "a", 80 }, { "\n", 1 }, { "a", 79 } }, G, 1, "160", 0 },
	{ "200 a + CRLF + 105 a (billed 3)",
	    { { "a", 200 }, { "\r\n", 1 }, { "a", 105 } }, G, 3, "153,153,1",
	    152 },

	/* Characters on the edge of the alphabet. */
	{ "form feed is an extension character", { { "Page 1\fPage 2", 1 } },
	    G, 1, "14", 146 },
	{ "U+00E7 small c-cedilla forces UCS-2", { { "\xC3\xA7", 1 } }, U, 1,
	    "1", 69 },
	{ "U+00C7 capital C-cedilla is GSM 0x09", { { "\xC3\x87", 1 } }, G, 1,
	    "1", 159 },
	{ "TAB forces UCS-2", { { "a\tb", 1 } }, U, 1, "3", 67 },
	{ "U+001B forces UCS-2", { { "a\x1B" "b", 1 } }, U, 1, "3", 67 },
	{ "| in UCS-2 is 1 unit", { { "|{^", 1 }, { HAN, 1 } }, U, 1, "4",
	    66 },
};

/* The body of pieces p, in a malloc'd buffer; *len gets its length. */
static char *
build(const struct piece *p, size_t np, size_t *len)
{
	size_t i, k, n = 0, off = 0;
	char *buf;

	for (i = 0; i < np && p[i].s; i++)
		n += strlen(p[i].s) * p[i].n;
	if (!(buf = malloc(n + 1)))
		abort();
	for (i = 0; i < np && p[i].s; i++)
		for (k = 0; k < p[i].n; k++) {
			memcpy(buf + off, p[i].s, strlen(p[i].s));
			off += strlen(p[i].s);
		}
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* s repeated n times. */
static char *
rep(const char *s, size_t n, size_t *len)
{
	struct piece p = { s, n };

	return build(&p, 1, len);
}

static int
is_ext(uint32_t cp)
{
	return cp == 0x0C || cp == '^' || cp == '{' || cp == '}' ||
	    cp == '\\' || cp == '[' || cp == '~' || cp == ']' || cp == '|' ||
	    cp == 0x20AC;
}

/* Units of text[a, b) in res's encoding (default tables only). */
static size_t
units_of(const struct gsm_result *r, size_t a, size_t b)
{
	size_t u = 0;

	for (; a < b; a++)
		if (r->encoding == GSM_UCS2)
			u += r->text[a] > 0xFFFF ? 2 : 1;
		else
			u += is_ext(r->text[a]) ? 2 : 1;
	return u;
}

/* Is code point index k of res->text a grapheme cluster boundary, or
 * inside a cluster too long for any part (code-point fallback)? */
static int
cut_ok(const struct gsm_result *r, size_t k)
{
	utf8proc_int32_t state = 0;
	size_t i, start = 0, end;

	for (i = 1; i < r->code_points; i++)
		if (utf8proc_grapheme_break_stateful(r->text[i - 1],
		    r->text[i], &state)) {
			if (i == k)
				return 1;
			if (i > k)
				break;
			start = i;
		}
	end = i;
	return k == 0 || k >= r->code_points ||
	    units_of(r, start, end) > r->capacity;
}

/* Check the parts of r against the text; why gets the first problem. */
static int
parts_ok(const struct gsm_result *r, char *why, size_t cap)
{
	size_t i, sum = 0, at = 0;
	int plain = r->locking == 0 && r->single == 0;

	for (i = 0; i < r->segments; i++) {
		const struct gsm_part *p = &r->parts[i];

		if (p->start != at || p->end < p->start ||
		    p->end > r->code_points)
			return snprintf(why, cap, "part %zu is [%zu, %zu), "
			    "expected to start at %zu", i, p->start, p->end,
			    at), 0;
		if (p->end == p->start && r->code_points > 0)
			return snprintf(why, cap, "part %zu is empty", i), 0;
		if (p->units > r->capacity)
			return snprintf(why, cap, "part %zu has %zu units, "
			    "capacity %zu", i, p->units, r->capacity), 0;
		if (plain && units_of(r, p->start, p->end) != p->units)
			return snprintf(why, cap, "part %zu says %zu units, "
			    "its text has %zu", i, p->units,
			    units_of(r, p->start, p->end)), 0;
		if (r->encoding == GSM_UCS2 && !cut_ok(r, p->end))
			return snprintf(why, cap, "part %zu ends inside a "
			    "grapheme cluster at %zu", i, p->end), 0;
		sum += p->units;
		at = p->end;
	}
	if (at != r->code_points)
		return snprintf(why, cap, "parts end at %zu of %zu", at,
		    r->code_points), 0;
	if (sum != r->units)
		return snprintf(why, cap, "parts hold %zu units, result says "
		    "%zu", sum, r->units), 0;
	return 1;
}

static void
check_parts(const struct gsm_result *r, const char *name)
{
	char why[256] = "";

	if (!ok(parts_ok(r, why, sizeof why), "%s: parts are contiguous, "
	    "fit, and are cut between characters", name))
		printf("#   %s\n", why);
}

/* "a,b,c": the units of each part. */
static const char *
fmt_parts(const struct gsm_result *r, char *buf, size_t cap)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < r->segments && n < cap; i++)
		n += snprintf(buf + n, cap - n, "%s%zu", i ? "," : "",
		    r->parts[i].units);
	return buf;
}

/* Analyse len bytes of s; a failure is a failed test. */
static int
analyze(struct gsm_ctx *ctx, const char *s, size_t len, unsigned langs,
    int smart, struct gsm_result *r, const char *name)
{
	struct gsm_opts o = { langs, smart };
	struct errbuf e;

	if (gsm_analyze(ctx, s, len, &o, r, &e) == 0)
		return 0;
	ok(0, "%s: gsm_analyze: %s", name, e.msg);
	return -1;
}

static void
test_segments(struct gsm_ctx *ctx)
{
	struct gsm_result r;
	char buf[256];
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof seg_cases / sizeof seg_cases[0]; i++) {
		const struct seg_case *c = &seg_cases[i];

		s = build(c->body, 4, &len);
		if (analyze(ctx, s, len, 0, 0, &r, c->name) == 0) {
			is_str(gsm_encoding_name(r.encoding),
			    gsm_encoding_name(c->enc), "%s: encoding",
			    c->name);
			is_int(r.segments, c->segments, "%s: segments",
			    c->name);
			if (c->parts)
				is_str(fmt_parts(&r, buf, sizeof buf),
				    c->parts, "%s: units per part", c->name);
			if (c->left >= 0)
				is_int(r.units_left, c->left,
				    "%s: units left", c->name);
			check_parts(&r, c->name);
		}
		free(s);
	}
}

static void
test_counts(struct gsm_ctx *ctx)
{
	struct gsm_result r;

	if (analyze(ctx, FAMILY, strlen(FAMILY), 0, 0, &r, "family") == 0) {
		is_int(r.utf16_units, 11, "family: 11 UTF-16 units");
		is_int(r.code_points, 7, "family: 7 code points");
		is_int(r.graphemes, 1, "family: 1 grapheme");
	}
	if (analyze(ctx, "a\r\nb", 4, 0, 0, &r, "CRLF") == 0) {
		is_str(gsm_encoding_name(r.encoding), "GSM-7", "CRLF: GSM-7");
		is_int(r.units, 4, "CRLF: 2 septets, 4 in a\\r\\nb");
		is_int(r.graphemes, 3, "CRLF: one grapheme");
	}
	if (analyze(ctx, "e" ACUTE, 3, 0, 0, &r, "e + U+0301") == 0) {
		is_int(r.graphemes, 1, "e + U+0301: 1 grapheme");
		is_int(r.code_points, 2, "e + U+0301: 2 code points");
		ok(r.n_nongsm == 1 && r.nongsm[0].cp == 0x301,
		    "e + U+0301: only U+0301 is non-GSM");
	}
	if (analyze(ctx, "|", 1, 0, 0, &r, "|") == 0)
		is_int(r.units, 2, "| alone: 2 septets, 1 part (billed 1)");
}

/* One character that forces UCS-2, where it is reported. */
struct nongsm_case {
	const char *name;
	const char *s;
	size_t len;
	uint32_t cp;
	size_t index, byte;
};

static const struct nongsm_case nongsm_cases[] = {
	{ "TAB", "\xC3\xA9\tx", 4, 0x09, 1, 2 },
	{ "U+0000", "ab\0c", 4, 0x00, 2, 2 },
	{ "U+001B", "\xE2\x82\xAC\x1B", 4, 0x1B, 1, 3 },
	{ "U+00E7", "\xC3\x87\xC3\xA7", 4, 0xE7, 1, 2 },
	{ "U+00E1 in m\xC3\xA1s", "m\xC3\xA1s", 4, 0xE1, 1, 1 },
};

static void
test_nongsm(struct gsm_ctx *ctx)
{
	struct gsm_result r;
	size_t i;

	for (i = 0; i < sizeof nongsm_cases / sizeof nongsm_cases[0]; i++) {
		const struct nongsm_case *c = &nongsm_cases[i];

		if (analyze(ctx, c->s, c->len, 0, 0, &r, c->name) != 0)
			continue;
		is_str(gsm_encoding_name(r.encoding), "UCS-2",
		    "%s forces UCS-2", c->name);
		if (!ok(r.n_nongsm == 1 && r.nongsm[0].cp == c->cp &&
		    r.nongsm[0].index == c->index &&
		    r.nongsm[0].byte == c->byte,
		    "%s is the one non-GSM character: U+%04X at index %zu, "
		    "byte %zu", c->name, (unsigned)c->cp, c->index, c->byte))
			for (size_t k = 0; k < r.n_nongsm; k++)
				printf("#   got U+%04X at index %zu, "
				    "byte %zu\n", (unsigned)r.nongsm[k].cp,
				    r.nongsm[k].index, r.nongsm[k].byte);
	}
}

static void
test_empty_and_limits(struct gsm_ctx *ctx)
{
	static const struct {
		const char *name, *s;
		size_t n, segments;
		unsigned flag;
		int set;
	} lim[] = {
		{ "39,015 a", "a", 39015, 255, GSM_TOO_MANY_PARTS, 0 },
		{ "39,016 a", "a", 39016, 256, GSM_TOO_MANY_PARTS, 1 },
		{ "1,600 a", "a", 1600, 11, GSM_TOO_LONG, 0 },
		{ "1,601 a", "a", 1601, 11, GSM_TOO_LONG, 1 },
		{ "800 emoji (1,600 units)", EMOJI, 800, 25, GSM_TOO_LONG, 0 },
		{ "801 emoji (1,602 units)", EMOJI, 801, 25, GSM_TOO_LONG, 1 },
		{ "1,600 x ] (3,200 septets, 1,600 UTF-16 units)", "]", 1600,
		    22, GSM_TOO_LONG, 0 },
	};
	struct gsm_result r;
	size_t i, len;
	char *s;

	if (analyze(ctx, "", 0, 0, 0, &r, "empty") == 0) {
		is_int(r.segments, 1, "empty body: 1 segment");
		is_int(r.units, 0, "empty body: 0 units");
		ok(r.flags & GSM_EMPTY, "empty body: GSM_EMPTY");
		ok(r.segments == 1 && r.parts[0].units == 0,
		    "empty body: one part of 0 units");
	}
	if (analyze(ctx, "a", 1, 0, 0, &r, "a") == 0)
		ok(r.flags == 0, "one character: no flags");
	for (i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		s = rep(lim[i].s, lim[i].n, &len);
		if (analyze(ctx, s, len, 0, 0, &r, lim[i].name) == 0) {
			is_int(r.segments, lim[i].segments, "%s: segments",
			    lim[i].name);
			ok(!(r.flags & lim[i].flag) == !lim[i].set,
			    "%s: %s %s", lim[i].name,
			    lim[i].flag == GSM_TOO_LONG ? "GSM_TOO_LONG" :
			    "GSM_TOO_MANY_PARTS", lim[i].set ? "set" :
			    "not set");
			ok(!(r.flags & GSM_EMPTY), "%s: not GSM_EMPTY",
			    lim[i].name);
		}
		free(s);
	}
}

static void
test_invalid(struct gsm_ctx *ctx)
{
	static const struct {
		const char *name, *s;
		size_t len, at;
	} bad[] = {
		{ "overlong C0 80", "ab\xC0\x80", 4, 2 },
		{ "surrogate ED A0 80", "x\xED\xA0\x80y", 5, 1 },
		{ "F5", "\xC3\xA9\xF5\x80\x80\x80", 6, 2 },
		{ "truncated E2 82 at the end", "abc\xE2\x82", 5, 3 },
		{ "truncated E2 82 before ASCII", "\xE2\x82z", 3, 0 },
		{ "stray 80", "\x80", 1, 0 },
		{ "Latin-1 e-acute", "caf\xE9", 4, 3 },
		{ "above U+10FFFF", "0123456789\xF4\x90\x80\x80", 14, 10 },
	};
	struct gsm_opts o = { 0, 0 };
	struct gsm_result r;
	struct errbuf e;
	char want[64];
	const char *p;
	size_t i;
	int rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = '\0';
		errno = 0;
		rc = gsm_analyze(ctx, bad[i].s, bad[i].len, &o, &r, &e);
		ok(rc == -1 && errno == EILSEQ, "invalid UTF-8, %s: -1 EILSEQ",
		    bad[i].name);
		snprintf(want, sizeof want, "byte %zu", bad[i].at);
		p = strstr(e.msg, want);
		if (!ok(p && (p[strlen(want)] < '0' || p[strlen(want)] > '9'),
		    "invalid UTF-8, %s: message names byte %zu", bad[i].name,
		    bad[i].at))
			printf("#   message: \"%s\"\n", e.msg);
	}
}

/* A national-table expectation. */
struct lang_case {
	const char *name;
	const char *s;
	unsigned langs;
	enum gsm_encoding enc;
	int locking, single;
	size_t segments, units, capacity, udh;
	const char *parts;
};

static const struct lang_case lang_cases[] = {
	{ "tr-151 by default", TR_TEXT, 0, U, 0, 0, 3, 151, 67, 6,
	    "67,67,17" },
	{ "tr-151 with Turkish: locking only, one part", TR_TEXT,
	    LANG(GSM_LANG_TURKISH), G, GSM_LANG_TURKISH, 0, 1, 151, 155, 4,
	    "151" },
	{ "tr-151 with Latin tables", TR_TEXT, LATIN, G, GSM_LANG_TURKISH, 0,
	    1, 151, 155, 4, "151" },
	{ "es-150 by default", ES_TEXT, 0, U, 0, 0, 3, 150, 67, 6,
	    "67,67,16" },
	{ "es-150 with Spanish: single shift", ES_TEXT,
	    LANG(GSM_LANG_SPANISH), G, 0, GSM_LANG_SPANISH, 2, 156, 149, 9,
	    "149,7" },
	{ "es-150 with Latin tables: Spanish beats Portuguese on NLI",
	    ES_TEXT, LATIN, G, 0, GSM_LANG_SPANISH, 2, 156, 149, 9, "149,7" },
	{ "pt-158 by default", PT_TEXT, 0, U, 0, 0, 3, 158, 67, 6,
	    "67,67,24" },
	{ "pt-158 with Portuguese: locking only", PT_TEXT,
	    LANG(GSM_LANG_PORTUGUESE), G, GSM_LANG_PORTUGUESE, 0, 2, 158, 149,
	    9, "149,9" },
	{ "159 digits + a-acute by default",
	    DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS
	    DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS "123456789\xC3\xA1", 0,
	    U, 0, 0, 3, 160, 67, 6, "67,67,26" },
	{ "159 digits + a-acute with Spanish",
	    DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS
	    DIGITS DIGITS DIGITS DIGITS DIGITS DIGITS "123456789\xC3\xA1",
	    LANG(GSM_LANG_SPANISH), G, 0, GSM_LANG_SPANISH, 2, 161, 149, 9,
	    "149,12" },
	{ "plain GSM text with every table allowed", "Hello world!",
	    (1u << GSM_LANG_COUNT) - 2, G, 0, 0, 1, 12, 160, 0, "12" },
};

static void
test_national(struct gsm_ctx *ctx)
{
	struct gsm_result r;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof lang_cases / sizeof lang_cases[0]; i++) {
		const struct lang_case *c = &lang_cases[i];

		if (analyze(ctx, c->s, strlen(c->s), c->langs, 0, &r,
		    c->name) != 0)
			continue;
		is_str(gsm_encoding_name(r.encoding),
		    gsm_encoding_name(c->enc), "%s: encoding", c->name);
		is_int(r.locking, c->locking, "%s: locking shift", c->name);
		is_int(r.single, c->single, "%s: single shift", c->name);
		is_int(r.segments, c->segments, "%s: segments", c->name);
		is_int(r.units, c->units, "%s: units", c->name);
		is_int(r.capacity, c->capacity, "%s: capacity", c->name);
		is_int(r.udh_octets, c->udh, "%s: UDH octets", c->name);
		is_str(fmt_parts(&r, buf, sizeof buf), c->parts,
		    "%s: units per part", c->name);
		check_parts(&r, c->name);
	}
	is_int(gsm_lang_parse("tr"), GSM_LANG_TURKISH, "lang \"tr\"");
	is_int(gsm_lang_parse("Turkish"), GSM_LANG_TURKISH, "lang \"Turkish\"");
	is_int(gsm_lang_parse("es"), GSM_LANG_SPANISH, "lang \"es\"");
	is_int(gsm_lang_parse("pt"), GSM_LANG_PORTUGUESE, "lang \"pt\"");
	is_int(gsm_lang_parse("xx"), -1, "lang \"xx\" is unknown");
	is_str(gsm_lang_name(GSM_LANG_TURKISH), "turkish", "name of NLI 1");
	is_str(gsm_lang_name(0), "default", "name of NLI 0");
	ok(!gsm_lang_has(GSM_LANG_SPANISH, 'L'), "no Spanish locking table");
	ok(gsm_lang_has(GSM_LANG_SPANISH, 'S'), "a Spanish single shift");
	ok(gsm_lang_has(GSM_LANG_TURKISH, 'L'), "a Turkish locking table");
}

/* A word-splitting expectation: parts before and after. */
struct words_case {
	const char *name;
	struct piece body[3];
	const char *before, *after;
};

static const struct words_case words_cases[] = {
	{ "40 x \"abcd \"", { { "abcd ", 40 } }, "153,47", "150,50" },
	{ "20 x \"HAN HAN HAN HAN \"", { { HAN HAN HAN HAN " ", 20 } },
	    "67,33", "65,35" },
	{ "10 a, space, 295 a: no room to move",
	    { { "a", 10 }, { " ", 1 }, { "a", 295 } }, "153,153", "153,153" },
	{ "no spaces", { { "a", 200 } }, "153,47", "153,47" },
};

static void
test_split_words(struct gsm_ctx *ctx)
{
	struct gsm_result r;
	char buf[64];
	size_t i, k, len, segs;
	int spaced;
	char *s;

	for (i = 0; i < sizeof words_cases / sizeof words_cases[0]; i++) {
		const struct words_case *c = &words_cases[i];

		s = build(c->body, 3, &len);
		if (analyze(ctx, s, len, 0, 0, &r, c->name) == 0) {
			is_str(fmt_parts(&r, buf, sizeof buf), c->before,
			    "%s: parts before word split", c->name);
			segs = r.segments;
			gsm_split_words(ctx, &r);
			is_int(r.segments, segs, "%s: same segments after "
			    "word split", c->name);
			is_str(fmt_parts(&r, buf, sizeof buf), c->after,
			    "%s: parts after word split", c->name);
			spaced = 1;
			if (strcmp(c->before, c->after) != 0)
				for (k = 0; k + 1 < r.segments; k++)
					if (r.text[r.parts[k].end - 1] != ' ')
						spaced = 0;
			ok(spaced, "%s: moved parts end after a space",
			    c->name);
			check_parts(&r, c->name);
		}
		free(s);
	}
}

static void
test_smart(struct gsm_ctx *ctx)
{
	static const struct {
		const char *name, *in, *out;
		uint32_t from;
		const char *to;
		size_t index, byte;
	} sm[] = {
		{ "right single quote", "\xC3\xA9\xE2\x80\x99s",
		    "\xC3\xA9's", 0x2019, "'", 1, 2 },
		{ "TAB", "a\tb", "a       b", 0x09, "       ", 1, 1 },
		{ "NBSP", "a" NBSP "b", "a  b", 0xA0, "  ", 1, 1 },
		{ "ZWSP", "\xE2\x82\xAC\xE2\x80\x8B" "b", "\xE2\x82\xAC" "b",
		    0x200B, "", 1, 3 },
	};
	struct gsm_result r;
	const char *t;
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof sm / sizeof sm[0]; i++) {
		if (analyze(ctx, sm[i].in, strlen(sm[i].in), 0, 1, &r,
		    sm[i].name) != 0)
			continue;
		is_str(gsm_encoding_name(r.encoding), "GSM-7",
		    "smart %s: GSM-7", sm[i].name);
		t = gsm_text(ctx, &r, 0, r.code_points, &len);
		is_str(t, sm[i].out, "smart %s: text as sent", sm[i].name);
		ok(t && len == strlen(sm[i].out), "smart %s: length %zu",
		    sm[i].name, strlen(sm[i].out));
		if (!ok(r.n_changes == 1 && r.changes[0].from == sm[i].from &&
		    r.changes[0].to && strcmp(r.changes[0].to, sm[i].to) == 0 &&
		    r.changes[0].index == sm[i].index &&
		    r.changes[0].byte == sm[i].byte,
		    "smart %s: change U+%04X -> \"%s\" at index %zu, byte %zu",
		    sm[i].name, (unsigned)sm[i].from, sm[i].to, sm[i].index,
		    sm[i].byte) && r.n_changes > 0)
			printf("#   got %zu changes, first U+%04X -> \"%s\" "
			    "at index %zu, byte %zu\n", r.n_changes,
			    (unsigned)r.changes[0].from,
			    r.changes[0].to ? r.changes[0].to : "(null)",
			    r.changes[0].index, r.changes[0].byte);
		if (analyze(ctx, sm[i].in, strlen(sm[i].in), 0, 0, &r,
		    sm[i].name) == 0) {
			is_str(gsm_encoding_name(r.encoding), "UCS-2",
			    "%s without smart: UCS-2", sm[i].name);
			is_int(r.n_changes, 0, "%s without smart: no changes",
			    sm[i].name);
		}
	}

	s = rep(DIGITS, 16, &len);
	memcpy(s + 159, NBSP, 2);	/* 159 digits + NBSP */
	len = 161;
	if (analyze(ctx, s, len, 0, 1, &r, "159 digits + NBSP") == 0) {
		is_str(gsm_encoding_name(r.encoding), "GSM-7",
		    "smart 159 digits + NBSP: GSM-7");
		is_int(r.units, 161, "smart 159 digits + NBSP: 161 septets");
		is_int(r.segments, 2, "smart 159 digits + NBSP: 2 parts");
	}
	if (analyze(ctx, s, len, 0, 0, &r, "159 digits + NBSP") == 0) {
		is_int(r.units, 160, "159 digits + NBSP: 160 units");
		is_int(r.segments, 3, "159 digits + NBSP: 3 UCS-2 parts");
	}
	free(s);
}

/*
 * Smart Encoding makes a tab seven spaces: more code points than the text
 * has bytes, past the room gsm_analyze() made for it (a heap overflow,
 * found by tests/fuzz/gsm.c; `segment --smart` on it died in free()). A
 * fresh ctx, so no earlier text has made the room larger.
 */
static void
test_smart_longer(void)
{
	struct gsm_ctx *ctx = gsm_ctx_new();
	struct gsm_result r;
	char s[120 + 900];

	memset(s, '\t', 120);
	memset(s + 120, 'a', 900);
	if (ctx && analyze(ctx, s, sizeof s, 0, 1, &r, "120 tabs") == 0) {
		is_int(r.code_points, 120 * 7 + 900,
		    "smart: 120 tabs and 900 a are 1,740 code points");
		is_int(r.n_changes, 120, "smart: 120 changes");
		is_str(gsm_encoding_name(r.encoding), "GSM-7",
		    "smart: tabs as spaces, GSM-7");
	}
	gsm_ctx_free(ctx);
}

int
main(void)
{
	struct gsm_ctx *ctx = gsm_ctx_new();

	if (!ctx) {
		printf("Bail out! gsm_ctx_new: %s\n", strerror(errno));
		return 1;
	}
	test_segments(ctx);
	test_counts(ctx);
	test_nongsm(ctx);
	test_empty_and_limits(ctx);
	test_invalid(ctx);
	test_national(ctx);
	test_split_words(ctx);
	test_smart(ctx);
	test_smart_longer();
	gsm_ctx_free(ctx);
	return tap_done();
}
