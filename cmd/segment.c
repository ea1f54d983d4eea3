/*
 * segment: how a text will travel as SMS, segment(1).
 *
 * Each message (an argument, or the body of each NDJSON record on stdin)
 * goes through gsm_analyze(); the figures are added to its record, which
 * is written as NDJSON in a pipe or summarised on a terminal. Records are
 * streamed one line at a time, so memory does not grow with the input; a
 * bad line is reported and costs only itself. All of stdin with --raw goes
 * through gsm_stream_*() instead, read once for the figures and again for
 * what is written from it, so it too may be of any size.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "gsm.h"
#include "record.h"
#include "utf8.h"

#define OUT_CHUNK 65536	/* --raw writes its line in pieces of this */

#define USAGE "usage: segment [-hjtV] [-L LANG[,LANG...]] " \
	"[--channel CHANNEL] [--price AMOUNT]\n" \
	"               [--raw] [--smart] [--split[=words]] [TEXT ...]\n"

/* A WhatsApp text: one message of up to this many characters (UTF-16
 * units, as the provider counts them), with no segments. */
#define WHATSAPP_MAX_CHARS 4096

struct price {
	uint64_t scaled;	/* the amount times 10^decimals */
	int decimals;
};

struct seg {
	struct gsm_ctx *gsm;
	struct gsm_opts opts;
	int json;		/* NDJSON out, else a summary */
	int split;		/* 0, 1 hard, 2 at words */
	int priced;
	struct price price;
	int ret;
	size_t count;		/* messages summarised, for spacing */
	int labels;		/* several messages: name each summary */
	int raw;		/* all of stdin is one text */
	struct buf out;		/* the line being written */
	unsigned long lineno;	/* of the record in hand */
	int whatsapp;		/* --channel whatsapp */
	const char *const *fields;	/* fields_sms or fields_whatsapp */
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --channel CHANNEL  sms (the default) or whatsapp: "
		    "one message of up to\n"
		    "                         4096 characters, no segments\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "  -L, --language LANGS   allow national shift tables: "
		    "tr,es,pt,bn,gu,hi,kn,\n"
		    "                         ml,or,pa,ta,te,ur or all\n"
		    "      --price AMOUNT     add the price: segments times "
		    "AMOUNT\n"
		    "      --raw              read all of stdin as one text\n"
		    "      --smart            apply Smart Encoding (lookalikes "
		    "to GSM) first\n"
		    "      --split[=words]    add the text of each part; "
		    "=words breaks at spaces\n"
		    "  -t, --table            readable summary, even in a "
		    "pipe\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWith no TEXT, reads NDJSON records on stdin and "
		    "annotates each one with a body.\n", fp);
	exit(code);
}

static unsigned
parse_languages(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	unsigned mask = 0;
	int nli;

	if (!copy)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "all") == 0) {
			mask |= (1u << GSM_LANG_COUNT) - 2;
			continue;
		}
		if ((nli = gsm_lang_parse(tok)) < 0) {
			diag_warn("--language: unknown language '%s'", tok);
			free(copy);
			usage(stderr, EXIT_USAGE);
		}
		mask |= 1u << nli;
	}
	free(copy);
	if (!mask)
		diag_die(EXIT_USAGE, "--language: no language given");
	return mask;
}

/* A decimal amount such as 0.0079, kept exact. */
static int
parse_price(const char *s, struct price *p)
{
	const char *q = s;
	int frac = -1;

	p->scaled = 0;
	p->decimals = 0;
	if (!*q)
		return -1;
	for (; *q; q++) {
		if (*q == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*q < '0' || *q > '9' || p->scaled > UINT64_MAX / 100)
			return -1;
		p->scaled = p->scaled * 10 + (uint64_t)(*q - '0');
		if (frac >= 0 && ++frac > 12)
			return -1;
	}
	p->decimals = frac > 0 ? frac : 0;
	return q[-1] == '.' && q - s == 1 ? -1 : 0;
}

/* segments × price, as an exact decimal. */
static void
price_format(const struct price *p, size_t segments, char out[64])
{
	char digits[48];
	uint64_t v = p->scaled * segments;
	int n, d = p->decimals;

	n = snprintf(digits, sizeof digits, "%0*" PRIu64, d + 1, v);
	if (d == 0)
		snprintf(out, 64, "%s", digits);
	else
		snprintf(out, 64, "%.*s.%s", n - d, digits, digits + n - d);
}

/*
 * The fields segment sets; a record's own fields of these names go. On
 * WhatsApp it sets "channel" too, and a text's figures as one message.
 */
static const char *const fields_sms[] = {
	"encoding", "segments", "units", "unit", "code_points", "graphemes",
	"utf16_units", "per_segment", "units_left", "udh_octets",
	"shift_tables", "non_gsm", "smart_changes", "flags", "price", "parts",
	"max_chars", "chars_left", NULL,
};
static const char *const fields_whatsapp[] = {
	"encoding", "segments", "units", "unit", "code_points", "graphemes",
	"utf16_units", "per_segment", "units_left", "udh_octets",
	"shift_tables", "non_gsm", "smart_changes", "flags", "price", "parts",
	"max_chars", "chars_left", "channel", NULL,
};

/* ,"key":v with key a string literal holding the quotes and colon. */
#define add_num(b, key, v) do { \
	buf_addlit(b, "," key); \
	buf_addu(b, v); \
} while (0)

static void
add_char(struct buf *b, uint32_t cp, size_t index, size_t byte)
{
	static const char hex[] = "0123456789ABCDEF";
	char u[4], code[8];
	int n = 0, shift = cp > 0xFFFFF ? 20 : cp > 0xFFFF ? 16 : 12;

	buf_addlit(b, "{\"char\":");
	buf_add_jstr(b, u, utf8_encode(cp, u));
	for (; shift >= 0; shift -= 4)
		code[n++] = hex[cp >> shift & 0xF];
	buf_addlit(b, ",\"code_point\":\"U+");
	buf_add(b, code, (size_t)n);
	buf_addc(b, '"');
	add_num(b, "\"index\":", index);
	add_num(b, "\"byte\":", byte);
}

/* A table's name, or null for the default. */
static void
add_table(struct buf *b, int nli)
{
	const char *name = nli ? gsm_lang_name(nli) : NULL;

	if (name)
		buf_add_jstr(b, name, strlen(name));
	else
		buf_addlit(b, "null");
}

/* The figures of res up to the lists, each member after a comma. */
static void
annotate_head(struct buf *b, const struct gsm_result *res)
{
	int gsm7 = res->encoding == GSM_GSM7;

	if (gsm7)
		buf_addlit(b, ",\"encoding\":\"GSM-7\"");
	else
		buf_addlit(b, ",\"encoding\":\"UCS-2\"");
	add_num(b, "\"segments\":", res->segments);
	add_num(b, "\"units\":", res->units);
	if (gsm7)
		buf_addlit(b, ",\"unit\":\"septet\"");
	else
		buf_addlit(b, ",\"unit\":\"utf16\"");
	add_num(b, "\"code_points\":", res->code_points);
	add_num(b, "\"graphemes\":", res->graphemes);
	add_num(b, "\"utf16_units\":", res->utf16_units);
	add_num(b, "\"per_segment\":", res->capacity);
	add_num(b, "\"units_left\":", res->units_left);
	add_num(b, "\"udh_octets\":", res->udh_octets);
	if (res->locking || res->single) {
		buf_addlit(b, ",\"shift_tables\":{\"locking\":");
		add_table(b, res->locking);
		buf_addlit(b, ",\"single\":");
		add_table(b, res->single);
		buf_addc(b, '}');
	}
}

/* Item i of the list non_gsm, after its opening bracket. */
static void
add_nongsm(struct buf *b, size_t i, const struct gsm_nongsm *ng)
{
	if (i)
		buf_addc(b, ',');
	add_char(b, ng->cp, ng->index, ng->byte);
	buf_addc(b, '}');
}

/* Item i of the list smart_changes. */
static void
add_change(struct buf *b, size_t i, const struct gsm_change *c)
{
	if (i)
		buf_addc(b, ',');
	add_char(b, c->from, c->index, c->byte);
	buf_addlit(b, ",\"to\":");
	buf_add_jstr(b, c->to, strlen(c->to));
	buf_addc(b, '}');
}

/* The flags and the price. */
static void
annotate_tail(struct seg *g, struct buf *b, const struct gsm_result *res)
{
	char price[64];
	size_t n;

	if (res->flags) {
		buf_addlit(b, ",\"flags\":[");
		n = b->len;
		if (res->flags & GSM_EMPTY)
			buf_addlit(b, ",\"empty\"");
		if (res->flags & GSM_TOO_MANY_PARTS)
			buf_addlit(b, ",\"too_many_segments\"");
		if (res->flags & GSM_TOO_LONG)
			buf_addlit(b, ",\"too_long\"");
		if (!b->err) {
			memmove(b->p + n, b->p + n + 1, b->len - n - 1);
			b->p[b->len - 1] = ']';
		}
	}
	if (g->priced) {
		price_format(&g->price, res->segments, price);
		buf_addlit(b, ",\"price\":\"");
		buf_adds(b, price);
		buf_addc(b, '"');
	}
}

/*
 * On WhatsApp: the channel, no segments, the characters against the
 * channel's limit, and the price of one message.
 */
static int
annotate_whatsapp(struct seg *g, struct buf *b, const struct gsm_result *res)
{
	size_t n = res->utf16_units;
	char price[64];

	buf_addlit(b, ",\"channel\":\"whatsapp\",\"segments\":0");
	add_num(b, "\"code_points\":", res->code_points);
	add_num(b, "\"graphemes\":", res->graphemes);
	add_num(b, "\"utf16_units\":", n);
	add_num(b, "\"max_chars\":", (size_t)WHATSAPP_MAX_CHARS);
	add_num(b, "\"chars_left\":", n < WHATSAPP_MAX_CHARS ?
	    WHATSAPP_MAX_CHARS - n : 0);
	if (!n)
		buf_addlit(b, ",\"flags\":[\"empty\"]");
	else if (n > WHATSAPP_MAX_CHARS)
		buf_addlit(b, ",\"flags\":[\"too_long\"]");
	if (g->priced) {
		price_format(&g->price, 1, price);
		buf_addlit(b, ",\"price\":\"");
		buf_adds(b, price);
		buf_addc(b, '"');
	}
	buf_addc(b, '}');
	return b->err ? -1 : 0;
}

/*
 * Append the figures of res to b as JSON members, each preceded by a
 * comma. Returns 0, or -1 on ENOMEM.
 */
static int
annotate(struct seg *g, struct buf *b, struct gsm_result *res)
{
	const char *t;
	size_t i, n;

	if (g->whatsapp)
		return annotate_whatsapp(g, b, res);
	annotate_head(b, res);
	if (res->n_nongsm) {
		buf_addlit(b, ",\"non_gsm\":[");
		for (i = 0; i < res->n_nongsm; i++)
			add_nongsm(b, i, &res->nongsm[i]);
		buf_addc(b, ']');
	}
	if (res->n_changes) {
		buf_addlit(b, ",\"smart_changes\":[");
		for (i = 0; i < res->n_changes; i++)
			add_change(b, i, &res->changes[i]);
		buf_addc(b, ']');
	}
	annotate_tail(g, b, res);
	if (g->split) {
		if (g->split == 2)
			gsm_split_words(g->gsm, res);
		buf_addlit(b, ",\"parts\":[");
		for (i = 0; i < res->segments; i++) {
			if (!(t = gsm_text(g->gsm, res, res->parts[i].start,
			    res->parts[i].end, &n)))
				return -1;
			if (i)
				buf_addc(b, ',');
			buf_add_jstr(b, t, n);
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
	return b->err ? -1 : 0;
}

/* Print s for a terminal: control characters as C escapes. */
static void
put_visible(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch < 0x20 || ch == 0x7F)
			printf("\\x%02X", ch);
		else
			putchar(ch);
	}
}

static void
put_char(uint32_t cp)
{
	char u[4];

	put_visible(u, utf8_encode(cp, u));
	printf(" U+%04" PRIX32, cp);
}

/* Up to 50 code points of body, for a summary's heading. */
static void
put_preview(const char *body, size_t len)
{
	size_t i = 0, cps = 0;

	while (i < len && cps < 50) {
		i++;
		while (i < len && ((unsigned char)body[i] & 0xC0) == 0x80)
			i++;
		cps++;
	}
	putchar('"');
	put_visible(body, i);
	fputs(i < len ? "\"...\n" : "\"\n", stdout);
}

/* A summary's lines up to the characters that forced UCS-2. */
static void
summary_head(struct seg *g, const char *label, const char *body, size_t len,
    const struct gsm_result *res)
{
	int gsm7 = res->encoding == GSM_GSM7;

	if (g->count++)
		putchar('\n');
	if (g->labels) {
		printf("%s: ", label);
		put_preview(body, len);
	}
	printf("%s, %zu segment%s: %zu %s, %zu left of %zu per segment\n",
	    gsm_encoding_name(res->encoding), res->segments,
	    res->segments == 1 ? "" : "s", res->units,
	    gsm7 ? "septets" : "UTF-16 units", res->units_left,
	    res->capacity);
	printf("  %zu code points, %zu graphemes, %zu UTF-16 units\n",
	    res->code_points, res->graphemes, res->utf16_units);
	if (res->n_nongsm)
		fputs("  forced UCS-2 by:", stdout);
}

/* Character i of n that forced UCS-2: the first 8 are named. */
static void
summary_nongsm(size_t i, size_t n, const struct gsm_nongsm *ng)
{
	if (i == 8)
		printf(" and %zu more", n - i);
	if (i >= 8)
		return;
	fputs(i ? ", " : " ", stdout);
	put_char(ng->cp);
	printf(" at %zu", ng->index);
}

static void
summary_change(const struct gsm_change *c)
{
	fputs("  smart: ", stdout);
	put_char(c->from);
	fputs(" -> \"", stdout);
	put_visible(c->to, strlen(c->to));
	printf("\" at %zu\n", c->index);
}

/* From the shift tables to the price. */
static void
summary_tail(struct seg *g, const struct gsm_result *res)
{
	if (res->locking)
		printf("  %s locking shift table\n",
		    gsm_lang_name(res->locking));
	if (res->single)
		printf("  %s single shift table\n",
		    gsm_lang_name(res->single));
	if (res->udh_octets)
		printf("  UDH of %zu octets in each segment\n",
		    res->udh_octets);
	if (res->flags & GSM_EMPTY)
		puts("  empty body");
	if (res->flags & GSM_TOO_MANY_PARTS)
		printf("  over %d segments: too many to concatenate\n",
		    GSM_MAX_PARTS);
	if (res->flags & GSM_TOO_LONG)
		printf("  over the %d characters a message may have\n",
		    GSM_MAX_CHARS);
	if (g->priced) {
		char price[64];

		price_format(&g->price, res->segments, price);
		printf("  price: %s\n", price);
	}
}

static void
summary_part(size_t i, const char *t, size_t n, size_t units)
{
	printf("  part %zu (%zu): ", i + 1, units);
	if (t)
		put_visible(t, n);
	putchar('\n');
}

/* A summary on WhatsApp: one message, no segments. */
static void
summarise_whatsapp(struct seg *g, const char *label, const char *body,
    size_t len, const struct gsm_result *res)
{
	size_t n = res->utf16_units;

	if (g->count++)
		putchar('\n');
	if (g->labels) {
		printf("%s: ", label);
		put_preview(body, len);
	}
	printf("WhatsApp, no segments: %zu character%s, %zu left of %d "
	    "a message\n", n, n == 1 ? "" : "s", n < WHATSAPP_MAX_CHARS ?
	    WHATSAPP_MAX_CHARS - n : 0, WHATSAPP_MAX_CHARS);
	printf("  %zu code points, %zu graphemes, %zu UTF-16 units\n",
	    res->code_points, res->graphemes, n);
	if (!n)
		puts("  empty body");
	if (n > WHATSAPP_MAX_CHARS)
		printf("  over the %d characters a WhatsApp message may have\n",
		    WHATSAPP_MAX_CHARS);
	if (g->priced) {
		char price[64];

		price_format(&g->price, 1, price);
		printf("  price: %s\n", price);
	}
}

static void
summarise(struct seg *g, const char *label, const char *body, size_t len,
    struct gsm_result *res)
{
	size_t i, n;
	const char *t;

	if (g->whatsapp) {
		summarise_whatsapp(g, label, body, len, res);
		return;
	}
	summary_head(g, label, body, len, res);
	for (i = 0; i < res->n_nongsm; i++)
		summary_nongsm(i, res->n_nongsm, &res->nongsm[i]);
	if (res->n_nongsm)
		putchar('\n');
	for (i = 0; i < res->n_changes; i++)
		summary_change(&res->changes[i]);
	summary_tail(g, res);
	if (g->split) {
		if (g->split == 2)
			gsm_split_words(g->gsm, res);
		for (i = 0; i < res->segments; i++) {
			t = gsm_text(g->gsm, res, res->parts[i].start,
			    res->parts[i].end, &n);
			summary_part(i, t, n, res->parts[i].units);
		}
	}
}

static void
put_line(struct buf *b)
{
	if (buf_addc(b, '\n') < 0)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (fwrite(b->p, 1, b->len, stdout) != b->len)
		diag_die(diag_close_stdout(EXIT_IOERR), "stdout: %s",
		    strerror(errno));
}

/*
 * Analyse one body and write its record with the figures spliced in
 * before the closing brace (line[0..close) has no field of ours), or its
 * summary. Returns 0, or -1 after reporting a body that is not UTF-8
 * (nothing is written).
 */
static int
one(struct seg *g, const char *where, const char *line, size_t close,
    int nkeys, const char *body, size_t len)
{
	struct gsm_result res;
	struct errbuf e;
	char here[64];

	if (!where) {
		snprintf(here, sizeof here, "stdin:%lu", g->lineno);
		where = here;
	}
	if (gsm_analyze(g->gsm, body, len, &g->opts, &res, &e) < 0) {
		if (errno != EILSEQ)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		diag_warn("%s: %s", where, e.msg);
		g->ret = EXIT_PARTIAL;
		return -1;
	}
	if (!g->json) {
		summarise(g, where, body, len, &res);
		return 0;
	}
	g->out.len = 0;
	buf_add(&g->out, line, close);
	if (annotate(g, &g->out, &res) < 0)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	/* annotate() starts with a comma, which an empty object must lose. */
	if (!nkeys)
		memmove(g->out.p + close, g->out.p + close + 1,
		    --g->out.len - close);
	put_line(&g->out);
	return 0;
}

/* A message record for TEXT (from an argument or --raw). */
static void
from_text(struct seg *g, const char *where, const char *text, size_t len)
{
	struct buf line = { 0 };

	if (g->json) {
		buf_addlit(&line, "{\"type\":\"message\",\"body\":");
		if (utf8_valid_prefix(text, len) == len)
			buf_add_jstr(&line, text, len);
		if (buf_addc(&line, '}') < 0)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
	}
	if (one(g, where, line.p, line.len - 1, 2, text, len) < 0)
		g->ret = g->raw ? EXIT_DATAERR : EXIT_PARTIAL;
	buf_free(&line);
}

static void
from_args(struct seg *g, int argc, char **argv)
{
	char where[32];

	for (int i = 0; i < argc; i++) {
		snprintf(where, sizeof where, "argument %d", i + 1);
		from_text(g, where, argv[i], strlen(argv[i]));
	}
}

/*
 * --raw streams: the text is read once to size it (stdin itself when it is
 * a regular file, else a copy in a temporary file) and then again for
 * each thing written from it: the body, the lists, the parts. Memory stays
 * flat whatever the size of the text.
 */
struct raw {
	struct seg *g;
	struct gsm_stream *st;
	const struct gsm_result *res;
	int fd;			/* the text */
	off_t start;		/* where it starts in fd */
	size_t len;
	int scratch;		/* --split=words' plan, or -1 */
	size_t i;		/* items of the list in hand so far */
};

/* An unlinked file in $TMPDIR; dies if it cannot be made. */
static int
scratch_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof path, "%s/segment.XXXXXX", dir) >=
	    sizeof path)
		diag_die(EXIT_IOERR, "TMPDIR: %s", strerror(ENAMETOOLONG));
	if ((fd = mkstemp(path)) < 0)
		diag_die(EXIT_IOERR, "%s: %s", path, strerror(errno));
	unlink(path);
	return fd;
}

/* Write g->out to stdout once it holds enough, or always with force. */
static void
out_flush(struct seg *g, int force)
{
	if (g->out.err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (!force && g->out.len < OUT_CHUNK)
		return;
	if (fwrite(g->out.p, 1, g->out.len, stdout) != g->out.len)
		diag_die(diag_close_stdout(EXIT_IOERR), "stdout: %s",
		    strerror(errno));
	g->out.len = 0;
}

static void
raw_nongsm(void *arg, const struct gsm_nongsm *ng)
{
	struct raw *r = arg;

	if (r->g->json) {
		add_nongsm(&r->g->out, r->i++, ng);
		out_flush(r->g, 0);
	} else {
		summary_nongsm(r->i++, r->res->n_nongsm, ng);
	}
}

static void
raw_change(void *arg, const struct gsm_change *ch)
{
	struct raw *r = arg;

	if (r->g->json) {
		add_change(&r->g->out, r->i++, ch);
		out_flush(r->g, 0);
	} else {
		summary_change(ch);
	}
}

static void
raw_part(void *arg, const char *text, size_t len, size_t units)
{
	struct raw *r = arg;

	if (r->g->json) {
		if (r->i++)
			buf_addc(&r->g->out, ',');
		buf_add_jstr(&r->g->out, text, len);
		out_flush(r->g, 0);
	} else {
		summary_part(r->i++, text, len, units);
	}
}

/*
 * Read the text again from its start, in chunks: into the stream in the
 * pass what, or with what GSM_PASS_FIGURES into the line as the body's
 * JSON string, quotes aside.
 */
static void
reread(struct raw *r, enum gsm_pass what)
{
	static char chunk[65536];
	struct gsm_result res;
	struct errbuf e;
	size_t done = 0, n, at;
	ssize_t got;
	struct buf *b = &r->g->out;

	r->i = 0;
	if (what != GSM_PASS_FIGURES &&
	    gsm_stream_pass(r->st, what, r->scratch) < 0)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	while (done < r->len) {
		n = r->len - done < sizeof chunk ? r->len - done :
		    sizeof chunk;
		got = pread(r->fd, chunk, n, r->start + (off_t)done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			diag_die(EXIT_IOERR, "stdin: %s", got < 0 ?
			    strerror(errno) : "changed while being read");
		n = (size_t)got;
		done += n;
		if (what != GSM_PASS_FIGURES) {
			if (gsm_stream_feed(r->st, chunk, n, &e) < 0)
				diag_die(EXIT_IOERR, "stdin: %s", errno ==
				    EILSEQ ? "changed while being read" :
				    strerror(errno));
			continue;
		}
		/* Escaped as buf_add_jstr() escapes, which is byte by byte. */
		at = b->len;
		buf_add_jstr(b, chunk, n);
		if (!b->err) {
			memmove(b->p + at, b->p + at + 1, b->len - at - 2);
			b->len -= 2;
		}
		out_flush(r->g, 0);
	}
	if (what != GSM_PASS_FIGURES && gsm_stream_end(r->st, &res, &e) < 0)
		diag_die(EXIT_IOERR, "stdin: %s", errno == EILSEQ ?
		    "changed while being read" : strerror(errno));
}

/* Read stdin once, into the stream (and the copy); 0, or -1 if bad. */
static int
raw_size(struct raw *r, struct gsm_result *res)
{
	static char chunk[65536];
	struct errbuf e;
	struct stat st;
	ssize_t got;
	int bad = 0;

	r->fd = -1;
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (r->start = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0)
		r->fd = STDIN_FILENO;
	else
		r->start = 0;
	for (;;) {
		got = read(STDIN_FILENO, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			diag_die(EXIT_IOERR, "stdin: %s", strerror(errno));
		if (got == 0)
			break;
		if (bad)
			continue;	/* the writer is not cut off */
		if (r->fd < 0)
			r->fd = scratch_file();
		if (r->fd != STDIN_FILENO && pwrite(r->fd, chunk, (size_t)got,
		    (off_t)r->len) != got)
			diag_die(EXIT_IOERR, "temporary file: %s",
			    strerror(errno ? errno : EIO));
		r->len += (size_t)got;
		if (gsm_stream_feed(r->st, chunk, (size_t)got, &e) < 0) {
			if (errno != EILSEQ)
				diag_die(EXIT_IOERR, "%s", strerror(errno));
			diag_warn("stdin: %s", e.msg);
			bad = 1;
		}
	}
	if (!bad && gsm_stream_end(r->st, res, &e) < 0) {
		if (errno != EILSEQ)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		diag_warn("stdin: %s", e.msg);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void
from_raw(struct seg *g)
{
	struct gsm_stream_cb cb = { raw_nongsm, raw_change, raw_part, NULL };
	struct gsm_result res;
	struct raw r = { .g = g, .res = &res, .scratch = -1 };
	struct buf *b = &g->out;

	cb.arg = &r;
	if (!(r.st = gsm_stream_new(&g->opts, &cb)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (raw_size(&r, &res) < 0) {
		g->ret = EXIT_DATAERR;
		goto out;
	}
	b->len = 0;
	if (g->json) {
		buf_addlit(b, "{\"type\":\"message\",\"body\":\"");
		reread(&r, GSM_PASS_FIGURES);
		buf_addc(b, '"');
		annotate_head(b, &res);
	} else {
		summary_head(g, "stdin", NULL, 0, &res);
	}
	if (res.n_nongsm) {
		if (g->json)
			buf_addlit(b, ",\"non_gsm\":[");
		reread(&r, GSM_PASS_NONGSM);
		if (g->json)
			buf_addc(b, ']');
		else
			putchar('\n');
	}
	if (res.n_changes) {
		if (g->json)
			buf_addlit(b, ",\"smart_changes\":[");
		reread(&r, GSM_PASS_CHANGES);
		if (g->json)
			buf_addc(b, ']');
	}
	if (g->json)
		annotate_tail(g, b, &res);
	else
		summary_tail(g, &res);
	if (g->split) {
		if (g->json)
			buf_addlit(b, ",\"parts\":[");
		if (g->split == 2 && res.segments > 1) {
			r.scratch = scratch_file();
			reread(&r, GSM_PASS_PLAN);
		}
		reread(&r, g->split == 2 ? GSM_PASS_WORDS : GSM_PASS_PARTS);
		if (g->json)
			buf_addc(b, ']');
	}
	if (g->json) {
		buf_addlit(b, "}\n");
		out_flush(g, 1);
	}
out:
	if (r.fd > STDIN_FILENO)
		close(r.fd);
	if (r.scratch >= 0)
		close(r.scratch);
	gsm_stream_free(r.st);
}

/* Past the JSON string at p (its opening quote); the line is valid. */
static const char *
skip_string(const char *p)
{
	for (p++; *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p + 1;
}

/* Past the JSON value at p; the line is valid JSON. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (*p == '"')
			p = skip_string(p);
		else if (*p == '{' || *p == '[')
			depth++, p++;
		else if (*p == '}' || *p == ']')
			depth--, p++;
		else if (depth == 0)
			while (p < end && !strchr(",}] \t\r\n", *p))
				p++;
		else
			p++;
	} while (depth > 0);
	return p;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return p;
}

static int
ours(const struct seg *g, const char *key)
{
	for (const char *const *f = g->fields; *f; f++)
		if (strcmp(key, *f) == 0)
			return 1;
	return 0;
}

/*
 * A record that record_scan() vouched for as JSON but jansson cannot hold
 * (a number past its range, such as 1e400 or a 30-digit integer), with a
 * field of ours: drop our fields from the text itself, keeping every other
 * member as written, and annotate a string body. Returns as slow_record().
 */
static int
text_record(struct seg *g, struct record_reader *rr, const char *where)
{
	const char *p = rr->buf, *end = rr->buf + rr->len, *k, *v, *ve;
	const char *body = NULL;
	struct buf line = { 0 }, key = { 0 }, text = { 0 };
	size_t nkeys = 0, blen = 0;
	int rc = 0;

	p = skip_ws(p, end) + 1;
	buf_addc(&line, '{');
	while ((p = skip_ws(p, end)) < end && *p == '"') {
		k = p;
		p = skip_ws(skip_string(p), end) + 1;
		v = skip_ws(p, end);
		p = ve = skip_value(v, end);
		p = skip_ws(p, end);
		p += p < end && *p == ',';
		key.len = 0;
		if (record_unescape(k + 1, (size_t)(skip_string(k) - k - 2),
		    &key) < 0 || buf_addc(&key, '\0') < 0)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		if (strcmp(key.p, "body") == 0) {
			body = v;
			blen = (size_t)(ve - v);
		}
		if (ours(g, key.p))
			continue;
		if (nkeys++)
			buf_addc(&line, ',');
		buf_add(&line, k, (size_t)(skip_string(k) - k));
		buf_addc(&line, ':');
		buf_add(&line, v, (size_t)(ve - v));
	}
	if (buf_addc(&line, '}') < 0)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (body && *body == '"') {
		if (record_unescape(body + 1, blen - 2, &text) < 0)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		rc = one(g, where, line.p, line.len - 1, (int)nkeys,
		    text.p ? text.p : "", text.len);
	} else {
		/* Not ours to annotate: it goes as it came. */
		if (body && strncmp(body, "null", 4) != 0) {
			diag_warn("%s: body is not a string", where);
			rc = -1;
		}
		if (g->json) {
			g->out.len = 0;
			buf_add(&g->out, rr->buf, rr->len);
			put_line(&g->out);
		}
	}
	buf_free(&line);
	buf_free(&key);
	buf_free(&text);
	return rc;
}

/*
 * A record with a field of ours already, or one the scanner could not
 * vouch for: parse it for real, drop our fields, and go on from its
 * compact form. A record without a string body passes through as it came,
 * fields of ours included. Returns -1 after reporting a line that is not a
 * record or whose body is not a string.
 */
static int
slow_record(struct seg *g, struct record_reader *rr, const char *where,
    int scanned)
{
	struct errbuf e;
	json_t *rec, *body;
	char *text = NULL;
	size_t n;
	int rc = 0;

	if (!(rec = record_parse(rr->buf, rr->len, &e))) {
		if (scanned)
			return text_record(g, rr, where);
		diag_warn("%s: %s", where, e.msg);
		return -1;
	}
	body = json_object_get(rec, "body");
	if (json_is_string(body)) {
		for (const char *const *f = g->fields; *f; f++)
			json_object_del(rec, *f);
		if (!(text = json_dumps(rec, JSON_COMPACT)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		n = strlen(text);
		rc = one(g, where, text, n - 1, (int)json_object_size(rec),
		    json_string_value(body), json_string_length(body));
	} else {
		if (body && !json_is_null(body)) {
			diag_warn("%s: body is not a string", where);
			rc = -1;
		}
		if (g->json) {
			g->out.len = 0;
			buf_add(&g->out, rr->buf, rr->len);
			put_line(&g->out);
		}
	}
	free(text);
	json_decref(rec);
	return rc;
}

static void
from_records(struct seg *g)
{
	struct record_reader rr;
	struct record_scan sc;
	struct buf body = { 0 };
	struct errbuf e;
	char where[64];
	int rc, scanned;

	/* Most lines are fine: name one only when a message needs it. */
	record_reader_init(&rr, stdin, "stdin");
	while ((rc = record_getline(&rr, &e)) != 0) {
		if (rc < 0) {
			diag_warn("%s", e.msg);
			if (ferror(stdin)) {
				g->ret = EXIT_IOERR;
				break;
			}
			g->ret = EXIT_PARTIAL;
			continue;
		}
		if (rr.len == 0)
			continue;
		g->lineno = rr.lineno;
		scanned = record_scan(rr.buf, rr.len, g->fields, &sc) == 0;
		if (!scanned || sc.watched) {
			snprintf(where, sizeof where, "stdin:%lu", rr.lineno);
			if (slow_record(g, &rr, where, scanned) < 0)
				g->ret = EXIT_PARTIAL;
		} else if (sc.body_kind != 's') {
			/* Jansson is not asked: it refuses numbers JSON
			 * allows, such as a 30-digit integer. */
			if (sc.body_kind == 'o') {
				diag_warn("stdin:%lu: body is not a string",
				    rr.lineno);
				g->ret = EXIT_PARTIAL;
			}
			if (g->json) {
				g->out.len = 0;
				buf_add(&g->out, rr.buf, rr.len);
				put_line(&g->out);
			}
		} else if (!sc.body_escaped) {
			one(g, NULL, rr.buf, sc.close, (int)sc.nkeys, sc.body,
			    sc.body_len);
		} else {
			body.len = 0;
			if (record_unescape(sc.body, sc.body_len, &body) < 0)
				diag_die(EXIT_IOERR, "%s", strerror(errno));
			one(g, NULL, rr.buf, sc.close, (int)sc.nkeys,
			    body.p, body.len);
		}
	}
	buf_free(&body);
	record_reader_free(&rr);
}

int
main(int argc, char **argv)
{
	enum { OPT_PRICE = 256, OPT_RAW, OPT_SMART, OPT_SPLIT, OPT_CHANNEL };
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "language", required_argument, NULL, 'L' },
		{ "price", required_argument, NULL, OPT_PRICE },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "smart", no_argument, NULL, OPT_SMART },
		{ "split", optional_argument, NULL, OPT_SPLIT },
		{ "table", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* Given by the caller: glibc sizes a buffer it makes itself by the
	 * file (4 KiB on a pipe), whatever size is asked. */
	static char obuf[1 << 16];
	struct seg g = { .json = -1, .fields = fields_sms };
	int c;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hjL:tV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
		case 't':
			if (g.json == (c == 't'))
				diag_die(EXIT_USAGE, "--json and --table "
				    "exclude each other");
			g.json = c == 'j';
			break;
		case 'L':
			g.opts.languages |= parse_languages(optarg);
			break;
		case OPT_CHANNEL:
			if (strcmp(optarg, "whatsapp") == 0)
				g.whatsapp = 1;
			else if (strcmp(optarg, "sms") != 0)
				diag_die(EXIT_USAGE, "--channel: '%s' is not "
				    "sms or whatsapp", optarg);
			else
				g.whatsapp = 0;
			break;
		case OPT_PRICE:
			if (parse_price(optarg, &g.price) < 0)
				diag_die(EXIT_USAGE, "--price: '%s' is not an "
				    "amount like 0.0079", optarg);
			g.priced = 1;
			break;
		case OPT_RAW:
			g.raw = 1;
			break;
		case OPT_SMART:
			g.opts.smart = 1;
			break;
		case OPT_SPLIT:
			if (optarg && strcmp(optarg, "words") != 0)
				diag_die(EXIT_USAGE, "--split: '%s': only "
				    "'words' may follow", optarg);
			g.split = optarg ? 2 : 1;
			break;
		case 'V':
			printf("segment (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (g.raw && argc > 0)
		diag_die(EXIT_USAGE, "--raw reads stdin: no TEXT arguments");
	/* SMS's encoding and its parts mean nothing on WhatsApp. */
	if (g.whatsapp && (g.raw || g.split || g.opts.smart ||
	    g.opts.languages))
		diag_die(EXIT_USAGE, "--channel whatsapp: a message of up to "
		    "%d characters with no segments: not with %s",
		    WHATSAPP_MAX_CHARS, g.raw ? "--raw" : g.split ? "--split" :
		    g.opts.smart ? "--smart" : "--language");
	if (g.whatsapp)
		g.fields = fields_whatsapp;
	if (g.json < 0)
		g.json = !isatty(STDOUT_FILENO);
	/* A pipe's default 4 KiB buffer makes a write(2) every 20 records. */
	if (g.json && setvbuf(stdout, obuf, _IOFBF, sizeof obuf) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	if (!(g.gsm = gsm_ctx_new()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));

	if (g.raw) {
		diag_stdin_note("the text");
		from_raw(&g);
	} else if (argc > 0) {
		g.labels = argc > 1;
		from_args(&g, argc, argv);
	} else {
		g.labels = 1;
		diag_stdin_note("records (NDJSON)");
		from_records(&g);
	}
	gsm_ctx_free(g.gsm);
	buf_free(&g.out);
	return diag_close_stdout(g.ret);
}
