/*
 * gsm.h: how a text travels as SMS: encoding, segments, where parts are cut.
 *
 * Rules (3GPP TS 23.038 / 23.040, and the choices in segment(1) STANDARDS):
 * a text is GSM-7 if every code point is in the default alphabet (1 septet)
 * or its extension table (2 septets, ESC + code), else UCS-2 (UTF-16 code
 * units). A single part holds 160 septets / 70 units; once concatenated,
 * every part carries a 6-octet UDH (8-bit reference) and holds 153 / 67.
 * Parts are filled greedily and never split an escape pair, a surrogate
 * pair, or (UCS-2) an extended grapheme cluster, falling back to code
 * points for a cluster longer than a part. National language shift tables
 * are tried only when the caller allows them; the candidate with the fewest
 * parts, then the fewest UDH elements, wins (UCS-2 and the default
 * alphabet count as none).
 *
 * Ownership: a gsm_ctx owns every array a gsm_result points into; they stay
 * valid until the next gsm_analyze() on that ctx or gsm_ctx_free().
 */
#ifndef GSM_H
#define GSM_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum gsm_encoding { GSM_GSM7, GSM_UCS2 };

/* National language identifiers (NLI), TS 23.038 section 6.2.1.2.4. */
enum {
	GSM_LANG_DEFAULT = 0, GSM_LANG_TURKISH, GSM_LANG_SPANISH,
	GSM_LANG_PORTUGUESE, GSM_LANG_BENGALI, GSM_LANG_GUJARATI,
	GSM_LANG_HINDI, GSM_LANG_KANNADA, GSM_LANG_MALAYALAM, GSM_LANG_ORIYA,
	GSM_LANG_PUNJABI, GSM_LANG_TAMIL, GSM_LANG_TELUGU, GSM_LANG_URDU,
	GSM_LANG_COUNT
};

/* gsm_result.flags */
enum {
	GSM_EMPTY = 1 << 0,		/* empty body: one part of zero units */
	GSM_TOO_MANY_PARTS = 1 << 1,	/* over 255: the 8-bit reference */
	GSM_TOO_LONG = 1 << 2,		/* over Twilio's 1,600 characters
					 * (counted in UTF-16 units) */
};

#define GSM_MAX_PARTS 255
/* The most UTF-16 units a provider takes in one message (Twilio: 1,600). */
#define GSM_MAX_CHARS 1600

struct gsm_opts {
	unsigned languages;	/* bit (1 << NLI) per national table allowed */
	int smart;		/* apply Twilio's Smart Encoding first */
};

/* A character that forced UCS-2. */
struct gsm_nongsm {
	uint32_t cp;
	size_t index;		/* code point index in the input, 0-based */
	size_t byte;		/* byte offset in the input */
};

/* One Smart Encoding substitution. */
struct gsm_change {
	uint32_t from;
	const char *to;		/* UTF-8, possibly "" (deleted) */
	size_t index;		/* code point index in the input */
	size_t byte;
};

/* One part: code points [start, end) of gsm_result.text. */
struct gsm_part {
	size_t start, end;
	size_t units;
};

struct gsm_result {
	enum gsm_encoding encoding;
	int locking, single;	/* NLI of the shift tables used, 0 = none */
	size_t segments;
	size_t units;		/* septets (GSM-7) or UTF-16 units (UCS-2) */
	size_t code_points;	/* of the text as sent (after Smart Encoding) */
	size_t graphemes;	/* extended grapheme clusters, current Unicode */
	size_t utf16_units;	/* whatever the encoding */
	size_t capacity;	/* units per segment: 160, 153, 70, 67, ... */
	size_t udh_octets;	/* UDH per segment, UDHL included; 0 if none */
	size_t units_left;	/* free units in the last segment */
	unsigned flags;
	const uint32_t *text;	/* code points as sent */
	const struct gsm_part *parts;		/* `segments` of them */
	const struct gsm_nongsm *nongsm;	/* UCS-2 only */
	size_t n_nongsm;
	const struct gsm_change *changes;	/* with opts.smart */
	size_t n_changes;
};

struct gsm_ctx;

struct gsm_ctx *gsm_ctx_new(void);
void gsm_ctx_free(struct gsm_ctx *ctx);

/*
 * Analyse len bytes of UTF-8 at s (not NUL-terminated; U+0000 is a
 * character). Returns 0, or -1 with errno EILSEQ and e filled ("invalid
 * UTF-8 at byte N") if s is not UTF-8, or errno ENOMEM.
 */
int gsm_analyze(struct gsm_ctx *ctx, const char *s, size_t len,
    const struct gsm_opts *opts, struct gsm_result *res, struct errbuf *e);

/*
 * Re-cut res->parts so that a part ends at a space (after it, or before
 * one that starts the next part) rather than inside a word, where that
 * costs no extra segment. Only part boundaries move.
 */
void gsm_split_words(struct gsm_ctx *ctx, struct gsm_result *res);

/*
 * The UTF-8 text of code points [start, end) of res->text, NUL-terminated
 * in a buffer of ctx (valid until the next call); *len gets its length.
 * Returns NULL on ENOMEM.
 */
const char *gsm_text(struct gsm_ctx *ctx, const struct gsm_result *res,
    size_t start, size_t end, size_t *len);

/* "GSM-7" or "UCS-2". */
const char *gsm_encoding_name(enum gsm_encoding enc);

/* NLI for "tr", "turkish", ... (case-insensitive), or -1. */
int gsm_lang_parse(const char *name);

/* "turkish", ...; "default" for 0. */
const char *gsm_lang_name(int nli);

/* Whether the national table exists: kind 'L' locking, 'S' single shift. */
int gsm_lang_has(int nli, int kind);

/*
 * Streaming: the figures of gsm_analyze() for a text fed in chunks, in
 * memory that does not grow with the text (a grapheme cluster is held
 * only up to the size of a part). Feed the text, any chunk sizes, then
 * gsm_stream_end() gives the figures; res->text, parts, nongsm and
 * changes are NULL, and n_nongsm and n_changes count. The lists then come
 * from passes: gsm_stream_pass(), the same bytes fed again, and
 * gsm_stream_end(), which calls the callbacks in order as the pass meets
 * each item, exactly as gsm_analyze() would list them.
 */
struct gsm_stream_cb {
	void (*nongsm)(void *arg, const struct gsm_nongsm *ng);
	void (*change)(void *arg, const struct gsm_change *ch);
	/* One part's UTF-8 text (not NUL-terminated) and its units. */
	void (*part)(void *arg, const char *text, size_t len, size_t units);
	void *arg;
};

enum gsm_pass {
	GSM_PASS_FIGURES,	/* the first reading, not a pass to ask for */
	GSM_PASS_NONGSM,	/* cb.nongsm for each, UCS-2 only */
	GSM_PASS_CHANGES,	/* cb.change for each Smart Encoding rewrite */
	GSM_PASS_PARTS,		/* cb.part for each part */
	GSM_PASS_PLAN,		/* before GSM_PASS_WORDS: a plan in fd */
	GSM_PASS_WORDS,		/* cb.part, cut as gsm_split_words() */
};

struct gsm_stream;

/* A stream for one text; NULL on ENOMEM. opts and cb are copied. */
struct gsm_stream *gsm_stream_new(const struct gsm_opts *opts,
    const struct gsm_stream_cb *cb);
void gsm_stream_free(struct gsm_stream *s);

/*
 * Feed the next len bytes of the text. Returns 0, or -1 with errno EILSEQ
 * and e filled ("invalid UTF-8 at byte N", counted from the start of the
 * text), ENOMEM, or an error of the pass's file.
 */
int gsm_stream_feed(struct gsm_stream *s, const char *p, size_t len,
    struct errbuf *e);

/*
 * End of the text. The first time, fill res with the figures; after a
 * pass, finish it (res is left alone). Returns 0, or -1 as
 * gsm_stream_feed() (a text that ends inside a UTF-8 sequence: EILSEQ).
 */
int gsm_stream_end(struct gsm_stream *s, struct gsm_result *res,
    struct errbuf *e);

/*
 * Start a pass over the same text, after gsm_stream_end() gave the
 * figures. GSM_PASS_PLAN and GSM_PASS_WORDS use fd, a scratch file open
 * for reading and writing (about one byte per code point, plus eight per
 * segment), GSM_PASS_PLAN first. Returns 0, or -1 with errno EINVAL.
 */
int gsm_stream_pass(struct gsm_stream *s, enum gsm_pass what, int fd);

#endif
