/*
 * segment: how a text will travel as SMS, segment(1).
 *
 * Each message (an argument, all of stdin with --raw, or the body of each
 * NDJSON record on stdin) goes through gsm_analyze(); the figures are added
 * to its record, which is written as NDJSON in a pipe or summarised on a
 * terminal. Records are streamed one line at a time, so memory does not
 * grow with the input; a bad line is reported and costs only itself.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "gsm.h"
#include "record.h"
#include "utf8.h"

#define USAGE "usage: segment [-hjrstV] [-l LANG[,LANG...]] [-p AMOUNT] " \
	"[-S[words]] [TEXT ...]\n"

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
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "  -l, --language LANGS   allow national shift tables: "
		    "tr,es,pt,bn,gu,hi,kn,\n"
		    "                         ml,or,pa,ta,te,ur or all\n"
		    "  -p, --price AMOUNT     add the price: segments times "
		    "AMOUNT\n"
		    "  -r, --raw              read all of stdin as one text\n"
		    "  -s, --smart            apply Twilio's Smart Encoding "
		    "first\n"
		    "  -S, --split[=words]    add the text of each part; "
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

static json_t *
price_string(const struct price *p, size_t segments)
{
	char digits[48], out[64];
	uint64_t v = p->scaled * segments;
	int n, d = p->decimals;

	n = snprintf(digits, sizeof digits, "%0*" PRIu64, d + 1, v);
	if (d == 0)
		return json_string(digits);
	snprintf(out, sizeof out, "%.*s.%s", n - d, digits, digits + n - d);
	return json_string(out);
}

static json_t *
char_entry(uint32_t cp, size_t index, size_t byte)
{
	char u[4], code[12];
	size_t n = utf8_encode(cp, u);

	snprintf(code, sizeof code, "U+%04" PRIX32, cp);
	return json_pack("{s:s%,s:s,s:I,s:I}", "char", u, n, "code_point",
	    code, "index", (json_int_t)index, "byte", (json_int_t)byte);
}

/* Set the figures of res on rec, replacing fields of the same names. */
static int
annotate(struct seg *g, json_t *rec, struct gsm_result *res)
{
	int gsm7 = res->encoding == GSM_GSM7;
	const char *t;
	json_t *a;
	size_t i, n;

	json_object_set_new(rec, "encoding",
	    json_string(gsm_encoding_name(res->encoding)));
	json_object_set_new(rec, "segments", json_integer(res->segments));
	json_object_set_new(rec, "units", json_integer(res->units));
	json_object_set_new(rec, "unit", json_string(gsm7 ? "septet" :
	    "utf16"));
	json_object_set_new(rec, "code_points",
	    json_integer(res->code_points));
	json_object_set_new(rec, "graphemes", json_integer(res->graphemes));
	json_object_set_new(rec, "utf16_units",
	    json_integer(res->utf16_units));
	json_object_set_new(rec, "per_segment", json_integer(res->capacity));
	json_object_set_new(rec, "units_left", json_integer(res->units_left));
	json_object_set_new(rec, "udh_octets", json_integer(res->udh_octets));

	if (res->locking || res->single)
		json_object_set_new(rec, "shift_tables", json_pack("{s:s?,s:s?}",
		    "locking", res->locking ? gsm_lang_name(res->locking) :
		    NULL, "single", res->single ? gsm_lang_name(res->single) :
		    NULL));
	else
		json_object_del(rec, "shift_tables");

	json_object_del(rec, "non_gsm");
	if (res->n_nongsm) {
		a = json_array();
		for (i = 0; i < res->n_nongsm; i++)
			json_array_append_new(a, char_entry(res->nongsm[i].cp,
			    res->nongsm[i].index, res->nongsm[i].byte));
		json_object_set_new(rec, "non_gsm", a);
	}

	json_object_del(rec, "smart_changes");
	if (res->n_changes) {
		a = json_array();
		for (i = 0; i < res->n_changes; i++) {
			const struct gsm_change *c = &res->changes[i];
			json_t *o = char_entry(c->from, c->index, c->byte);

			json_object_set_new(o, "to", json_string(c->to));
			json_array_append_new(a, o);
		}
		json_object_set_new(rec, "smart_changes", a);
	}

	json_object_del(rec, "flags");
	if (res->flags) {
		a = json_array();
		if (res->flags & GSM_EMPTY)
			json_array_append_new(a, json_string("empty"));
		if (res->flags & GSM_TOO_MANY_PARTS)
			json_array_append_new(a,
			    json_string("too_many_segments"));
		if (res->flags & GSM_TOO_LONG)
			json_array_append_new(a, json_string("too_long"));
		json_object_set_new(rec, "flags", a);
	}

	if (g->priced)
		json_object_set_new(rec, "price",
		    price_string(&g->price, res->segments));

	if (g->split) {
		if (g->split == 2)
			gsm_split_words(g->gsm, res);
		a = json_array();
		for (i = 0; i < res->segments; i++) {
			t = gsm_text(g->gsm, res, res->parts[i].start,
			    res->parts[i].end, &n);
			if (!t)
				return -1;
			json_array_append_new(a, json_stringn(t, n));
		}
		json_object_set_new(rec, "parts", a);
	}
	return 0;
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

static void
summarise(struct seg *g, const char *label, struct gsm_result *res)
{
	int gsm7 = res->encoding == GSM_GSM7;
	size_t i, n;
	const char *t;

	if (g->count++)
		putchar('\n');
	if (g->labels)
		printf("%s\n", label);
	printf("%s, %zu segment%s: %zu %s, %zu left of %zu per segment\n",
	    gsm_encoding_name(res->encoding), res->segments,
	    res->segments == 1 ? "" : "s", res->units,
	    gsm7 ? "septets" : "UTF-16 units", res->units_left,
	    res->capacity);
	printf("  %zu code points, %zu graphemes, %zu UTF-16 units\n",
	    res->code_points, res->graphemes, res->utf16_units);
	if (res->n_nongsm) {
		fputs("  forced UCS-2 by:", stdout);
		for (i = 0; i < res->n_nongsm; i++) {
			if (i == 8) {
				printf(" and %zu more", res->n_nongsm - i);
				break;
			}
			fputs(i ? ", " : " ", stdout);
			put_char(res->nongsm[i].cp);
			printf(" at %zu", res->nongsm[i].index);
		}
		putchar('\n');
	}
	for (i = 0; i < res->n_changes; i++) {
		fputs("  smart: ", stdout);
		put_char(res->changes[i].from);
		fputs(" -> \"", stdout);
		put_visible(res->changes[i].to, strlen(res->changes[i].to));
		printf("\" at %zu\n", res->changes[i].index);
	}
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
		printf("  over Twilio's %d characters\n",
		    GSM_TWILIO_MAX_CHARS);
	if (g->priced) {
		json_t *p = price_string(&g->price, res->segments);

		printf("  price: %s\n", json_string_value(p));
		json_decref(p);
	}
	if (g->split) {
		if (g->split == 2)
			gsm_split_words(g->gsm, res);
		for (i = 0; i < res->segments; i++) {
			t = gsm_text(g->gsm, res, res->parts[i].start,
			    res->parts[i].end, &n);
			printf("  part %zu (%zu): ", i + 1, res->parts[i].units);
			if (t)
				put_visible(t, n);
			putchar('\n');
		}
	}
}

/*
 * Analyse one body and write rec (annotated) or its summary. Returns 0,
 * or -1 after reporting a body that is not UTF-8 (nothing is written).
 */
static int
one(struct seg *g, const char *where, json_t *rec, const char *body,
    size_t len)
{
	struct gsm_result res;
	struct errbuf e;
	int bad = 0;

	if (gsm_analyze(g->gsm, body, len, &g->opts, &res, &e) < 0) {
		if (errno != EILSEQ)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		diag_warn("%s: %s", where, e.msg);
		g->ret = EXIT_PARTIAL;
		bad = 1;
	} else if (g->json && annotate(g, rec, &res) < 0) {
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	}
	if (bad)
		return -1;
	if (!g->json)
		summarise(g, where, &res);
	else if (record_write(stdout, rec) < 0)
		diag_die(diag_close_stdout(EXIT_IOERR), "stdout: %s",
		    strerror(errno));
	return 0;
}

static json_t *
message(const char *body, size_t len)
{
	return json_pack("{s:s,s:s%}", "type", "message", "body", body, len);
}

static void
from_args(struct seg *g, int argc, char **argv)
{
	char where[32];

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);
		json_t *rec = NULL;

		snprintf(where, sizeof where, "argument %d", i + 1);
		if (g->json && utf8_valid_prefix(argv[i], len) == len &&
		    !(rec = message(argv[i], len)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		one(g, where, rec, argv[i], len);
		json_decref(rec);
	}
}

/* All of stdin as one text; 65 if it is not UTF-8. */
static int
from_raw(struct seg *g)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	json_t *rec = NULL;
	int rc;

	do {
		if (len == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb)
				diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0);
	if (ferror(stdin))
		diag_die(EXIT_IOERR, "stdin: %s", strerror(errno));
	if (g->json && utf8_valid_prefix(buf, len) == len)
		rec = message(buf, len);
	rc = one(g, "stdin", rec, buf, len);
	json_decref(rec);
	free(buf);
	return rc < 0 ? EXIT_DATAERR : 0;
}

static void
from_records(struct seg *g)
{
	struct record_reader rr;
	struct errbuf e;
	char where[64];
	json_t *rec, *body;
	int rc;

	record_reader_init(&rr, stdin, "stdin");
	while ((rc = record_read(&rr, &rec, &e)) != 0) {
		if (rc < 0) {
			diag_warn("%s", e.msg);
			g->ret = EXIT_PARTIAL;
			if (ferror(stdin))
				break;
			continue;
		}
		snprintf(where, sizeof where, "stdin:%lu", rr.lineno);
		body = json_object_get(rec, "body");
		if (json_is_string(body)) {
			one(g, where, rec, json_string_value(body),
			    json_string_length(body));
		} else {
			if (body && !json_is_null(body)) {
				diag_warn("%s: body is not a string", where);
				g->ret = EXIT_PARTIAL;
			}
			if (g->json && record_write(stdout, rec) < 0)
				diag_die(diag_close_stdout(EXIT_IOERR),
				    "stdout: %s", strerror(errno));
		}
		json_decref(rec);
	}
	record_reader_free(&rr);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "language", required_argument, NULL, 'l' },
		{ "price", required_argument, NULL, 'p' },
		{ "raw", no_argument, NULL, 'r' },
		{ "smart", no_argument, NULL, 's' },
		{ "split", optional_argument, NULL, 'S' },
		{ "table", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct seg g = { .json = -1 };
	int c, raw = 0;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hjl:p:rsS::tV", longopts,
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
		case 'l':
			g.opts.languages |= parse_languages(optarg);
			break;
		case 'p':
			if (parse_price(optarg, &g.price) < 0)
				diag_die(EXIT_USAGE, "--price: '%s' is not an "
				    "amount like 0.0079", optarg);
			g.priced = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 's':
			g.opts.smart = 1;
			break;
		case 'S':
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
	if (raw && argc > 0)
		diag_die(EXIT_USAGE, "--raw reads stdin: no TEXT arguments");
	if (g.json < 0)
		g.json = !isatty(STDOUT_FILENO);
	if (!(g.gsm = gsm_ctx_new()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));

	if (raw)
		g.ret = from_raw(&g);
	else if (argc > 0) {
		g.labels = argc > 1;
		from_args(&g, argc, argv);
	} else {
		g.labels = 1;
		from_records(&g);
	}
	gsm_ctx_free(g.gsm);
	return diag_close_stdout(g.ret);
}
