/*
 * inbox-contacts: the customers' names and fields, kept in the inbox for
 * the thread header and for templates, inbox-contacts(1).
 *
 * The map of this program:
 *   import    reads a CSV file (a header row naming a "number" or
 *             "phone" column, RFC 4180 quoting) or NDJSON objects,
 *             told apart by the first byte, and sets each row's fields
 *             on the contact of its number; a bad row is said as
 *             FILE:LINE and the rest go on
 *   set       sets (FIELD=VALUE) or removes (FIELD=) fields of one
 *   show      prints one contact
 *   ls        prints every contact, in the order of their numbers
 * Numbers are normalised as sms-send normalises them (phone.h, with the
 * configured country); the contacts themselves are contact.h's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "buf.h"
#include "config.h"
#include "contact.h"
#include "diag.h"
#include "inbox.h"
#include "phone.h"
#include "record.h"
#include "utf8.h"

#define USAGE "usage: inbox-contacts import [-d DIR] [FILE]\n" \
	"       inbox-contacts set [-jt] [-d DIR] NUMBER FIELD=[VALUE]...\n" \
	"       inbox-contacts show [-jt] [-d DIR] NUMBER\n" \
	"       inbox-contacts ls [-jt] [-d DIR]\n" \
	"       inbox-contacts -h | -V\n"

#define COLUMNS_MAX CONTACT_FIELDS	/* of a CSV file */

struct ct {
	struct config *cfg;
	struct inbox ib;
	const char *dir;
	const char *country;	/* for national numbers */
	int json;		/* NDJSON out, else lines for a reader */
	size_t set, same, bad;	/* import: rows written, left, refused */
	int ret;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "  -t, --table            lines for a reader, even in a "
		    "pipe\n"
		    "  -V, --version          print the version and exit\n"
		    "\nimport reads FILE (or stdin): CSV with a header row "
		    "that names a number\n"
		    "(or phone) column, or NDJSON objects with \"number\".\n",
		    fp);
	exit(code);
}

static void
note(struct ct *c, int code)
{
	if (code > c->ret)
		c->ret = code;
}

/* A file the inbox quarantined: say so, and exit 1 at the end. */
static void
report(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	note(arg, EXIT_PARTIAL);
}

/*
 * Terminal text: control characters (escape sequences included), line
 * breaks and the bidirectional overrides and isolates show as a space,
 * bytes that are not UTF-8 as "?", as inbox-ls shows a customer's text.
 */
static void
put_safe(const char *s)
{
	size_t len = strlen(s), i = 0, j;
	utf8proc_category_t cat;
	uint32_t cp;

	while (i < len) {
		j = i;
		if (utf8_next(s, len, &j, &cp) < 0) {
			putchar('?');
			j = i + 1;
		} else if ((cat = utf8proc_category((utf8proc_int32_t)cp)) ==
		    UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL ||
		    cat == UTF8PROC_CATEGORY_ZP || (cp >= 0x202A &&
		    cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
			putchar(' ');
		} else {
			fwrite(s + i, 1, j - i, stdout);
		}
		i = j;
	}
}

/* A contact as output: its record, or "field  value" lines. */
static void
put_contact(const struct ct *c, const json_t *rec)
{
	const char *k;
	json_t *v;

	if (c->json) {
		if (!ferror(stdout))
			record_write(stdout, rec);
		return;
	}
	json_object_foreach((json_t *)rec, k, v) {
		if (!json_is_string(v) || strcmp(k, "type") == 0)
			continue;
		printf("%-12s ", k);
		put_safe(json_string_value(v));
		putchar('\n');
	}
}

/* The contacts as a table: NUMBER, NAME, then the rest as k=v. */
static void
table(const json_t *all)
{
	const json_t *rec, *v;
	const char *k, *name;
	size_t i, w = 6;
	int first;

	json_array_foreach(all, i, rec)
		if ((name = record_str(rec, "name")) && strlen(name) > w)
			w = strlen(name) > 30 ? 30 : strlen(name);
	if (json_array_size(all))
		printf("%-16s  %-*s  %s\n", "NUMBER", (int)w, "NAME",
		    "FIELDS");
	json_array_foreach(all, i, rec) {
		name = record_str(rec, "name");
		printf("%-16s  ", record_str(rec, "number"));
		put_safe(name ? name : "-");
		printf("%*s  ", (int)(w > (name ? strlen(name) : 1) ?
		    w - (name ? strlen(name) : 1) : 0), "");
		first = 1;
		json_object_foreach((json_t *)rec, k, v) {
			if (!json_is_string(v) || strcmp(k, "type") == 0 ||
			    strcmp(k, "number") == 0 ||
			    strcmp(k, "name") == 0 ||
			    strcmp(k, "updated_at") == 0)
				continue;
			printf("%s%s=", first ? "" : ", ", k);
			put_safe(json_string_value(v));
			first = 0;
		}
		puts(first ? "-" : "");
	}
}

/* arg normalised into num, or -1 with e filled. */
static int
number_of(const struct ct *c, const char *arg, char num[PHONE_MAX],
    struct errbuf *e)
{
	struct errbuf pe;

	if (phone_normalize(arg, c->country, num, &pe) < 0)
		return errf(e, "'%s': %s", arg, pe.msg);
	return 0;
}

/*
 * Import one row: fields (taken) set on the contact of the number raw,
 * or the row said bad as where (FILE:LINE).
 */
static void
import_row(struct ct *c, const char *where, const char *raw, json_t *fields)
{
	char num[PHONE_MAX];
	struct errbuf e;
	int rc;

	if (!raw || !*raw) {
		diag_warn("%s: no number", where);
		c->bad++;
	} else if (number_of(c, raw, num, &e) < 0) {
		diag_warn("%s: %s", where, e.msg);
		c->bad++;
	} else if ((rc = contact_set(&c->ib, num, fields, NULL, &e)) < 0) {
		diag_warn("%s: %s", where, e.msg);
		c->bad++;
		if (errno != EINVAL)
			note(c, diag_exit_for(errno));
	} else {
		rc ? c->same++ : c->set++;
	}
	json_decref(fields);
}

/* A CSV header's name as a field: trimmed, lower case, spaces "_". */
static void
header_name(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
	for (i = 0; s[i]; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
		else if (s[i] == ' ' || s[i] == '-')
			s[i] = '_';
	}
}

/*
 * The next CSV record of p (len bytes) from *at (RFC 4180: "," between
 * fields, a field in double quotes may hold commas, line breaks and ""
 * for a quote; a record ends at CRLF, LF or the end). Its fields go in
 * cell (up to COLUMNS_MAX, NUL-terminated in b), their count in *n;
 * *line counts the lines passed. 1, 0 at the end, -1 with e filled
 * (a quote left open, too many fields, a NUL).
 */
static int
csv_record(const char *p, size_t len, size_t *at, unsigned long *line,
    struct buf *b, size_t cell[COLUMNS_MAX], size_t *n, struct errbuf *e)
{
	size_t i = *at;
	int quoted = 0, fresh = 1, over = 0;

	if (i >= len)
		return 0;
	b->len = 0;
	*n = 0;
	cell[(*n)++] = 0;
	for (; i < len; i++) {
		char ch = p[i];

		if (ch == '\0') {
			*at = len;
			return errf(e, "a NUL byte");
		}
		if (quoted) {
			if (ch == '"' && i + 1 < len && p[i + 1] == '"') {
				buf_addc(b, '"');
				i++;
			} else if (ch == '"') {
				quoted = 0;
			} else {
				if (ch == '\n')
					++*line;
				buf_addc(b, ch);
			}
			continue;
		}
		if (ch == '"' && fresh) {
			quoted = 1;
			fresh = 0;
		} else if (ch == ',') {
			buf_addc(b, '\0');
			if (*n == COLUMNS_MAX)
				over = 1;
			else
				cell[(*n)++] = b->len;
			fresh = 1;
		} else if (ch == '\n' || (ch == '\r' && i + 1 < len &&
		    p[i + 1] == '\n')) {
			i += ch == '\r' ? 2 : 1;
			++*line;
			break;
		} else {
			buf_addc(b, ch);
			fresh = 0;
		}
	}
	buf_addc(b, '\0');
	*at = i;
	if (b->err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (quoted)
		return errf(e, "a quote left open");
	if (over)
		return errf(e, "more than %d fields", COLUMNS_MAX);
	return 1;
}

/* CSV: a header row, then a row a contact. */
static void
import_csv(struct ct *c, const char *name, const char *p, size_t len)
{
	size_t at = 0, cell[COLUMNS_MAX], hcell[COLUMNS_MAX], n, nh, i, col;
	unsigned long line = 1, start;
	struct buf b = { 0 }, hb = { 0 };
	char where[512];
	struct errbuf e;
	json_t *f;
	int rc;

	if ((rc = csv_record(p, len, &at, &line, &hb, hcell, &nh, &e)) <= 0)
		diag_die(EXIT_DATAERR, "%s:1: %s", name, rc ? e.msg :
		    "no header row");
	col = nh;
	for (i = 0; i < nh; i++) {
		char *h = hb.p + hcell[i];

		header_name(h);
		if (strcmp(h, "number") == 0 || (strcmp(h, "phone") == 0 &&
		    col == nh))
			col = i;
		else if (*h && contact_field_check(h, &e) < 0)
			diag_die(EXIT_DATAERR, "%s:1: column %zu: %s", name,
			    i + 1, e.msg);
		for (size_t j = 0; *h && j < i; j++)
			if (strcmp(hb.p + hcell[j], h) == 0)
				diag_die(EXIT_DATAERR, "%s:1: column '%s' "
				    "twice", name, h);
	}
	if (col == nh)
		diag_die(EXIT_DATAERR, "%s:1: no \"number\" (or \"phone\") "
		    "column", name);
	for (;;) {
		start = line;
		if ((rc = csv_record(p, len, &at, &line, &b, cell, &n,
		    &e)) == 0)
			break;
		snprintf(where, sizeof where, "%s:%lu", name, start);
		if (rc < 0) {
			diag_warn("%s: %s", where, e.msg);
			c->bad++;
			continue;
		}
		if (n == 1 && !b.p[0])
			continue;	/* an empty line */
		if (n != nh) {
			diag_warn("%s: %zu fields, the header has %zu", where,
			    n, nh);
			c->bad++;
			continue;
		}
		if (!(f = json_object()))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		/* An empty cell sets nothing: FIELD= of set removes. */
		for (i = 0; i < n; i++)
			if (i != col && hb.p[hcell[i]] && b.p[cell[i]])
				json_object_set_new(f, hb.p + hcell[i],
				    json_string(b.p + cell[i]));
		if (json_object_size(f) == 0 && !b.p[cell[col]]) {
			json_decref(f);
			continue;	/* a row of empty cells */
		}
		import_row(c, where, b.p + cell[col], f);
	}
	buf_free(&b);
	buf_free(&hb);
}

/* An NDJSON object's fields for the contact, taken from rec. */
static json_t *
fields_of(json_t *rec, const char **num, char nbuf[32], struct errbuf *e)
{
	json_t *f = json_object(), *v;
	const char *k;
	char *s;

	*num = record_str(rec, "number");
	if (!*num)
		*num = record_str(rec, "phone");
	if (!*num && json_is_integer(v = json_object_get(rec, "number"))) {
		snprintf(nbuf, 32, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		*num = nbuf;
	}
	if (!f)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	json_object_foreach(rec, k, v) {
		if (strcmp(k, "type") == 0 || strcmp(k, "number") == 0 ||
		    strcmp(k, "updated_at") == 0 || (strcmp(k, "phone") == 0 &&
		    !record_str(rec, "number")))
			continue;
		if (json_is_string(v) || json_is_null(v)) {
			json_object_set(f, k, v);
		} else if (json_is_number(v) || json_is_boolean(v)) {
			/* A number or a truth is kept as its text. */
			if (!(s = json_dumps(v, JSON_ENCODE_ANY)))
				diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
			json_object_set_new(f, k, json_string(s));
			free(s);
		} else {
			json_decref(f);
			errf(e, "field '%s': not a string", k);
			return NULL;
		}
	}
	return f;
}

/* NDJSON: an object a contact. */
static void
import_ndjson(struct ct *c, const char *name, const char *p, size_t len)
{
	unsigned long line = 0;
	size_t at = 0, n;
	const char *nl, *num;
	char where[512], nbuf[32];
	struct errbuf e;
	json_t *rec, *f;

	while (at < len) {
		line++;
		nl = memchr(p + at, '\n', len - at);
		n = nl ? (size_t)(nl - (p + at)) : len - at;
		snprintf(where, sizeof where, "%s:%lu", name, line);
		if (!nl) {
			diag_warn("%s: no newline at the end (cut short?); "
			    "not imported", where);
			c->bad++;
			break;
		}
		if (n == 0 || (n == 1 && p[at] == '\r')) {
			at += n + 1;
			continue;
		}
		rec = record_parse(p + at, n, &e);
		at += n + 1;
		if (!rec) {
			diag_warn("%s: %s", where, e.msg);
			c->bad++;
			continue;
		}
		if (!(f = fields_of(rec, &num, nbuf, &e))) {
			diag_warn("%s: %s", where, e.msg);
			c->bad++;
		} else {
			import_row(c, where, num, f);
		}
		json_decref(rec);
	}
}

static void
cmd_import(struct ct *c, int argc, char **argv)
{
	const char *name = argc > 0 && strcmp(argv[0], "-") != 0 ? argv[0] :
	    "stdin";
	FILE *fp = stdin;
	struct buf b = { 0 };
	char chunk[65536];
	size_t n, skip, bom = 0;

	if (argc > 1)
		usage(stderr, EXIT_USAGE);
	if (fp == stdin && strcmp(name, "stdin") != 0 &&
	    !(fp = fopen(name, "r")))
		diag_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR,
		    "%s: %s", name, strerror(errno));
	if (fp == stdin)
		diag_stdin_note("contacts (CSV or NDJSON)");
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(fp))
		diag_die(EXIT_IOERR, "%s: %s", name, strerror(errno));
	if (fp != stdin)
		fclose(fp);
	if (b.err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	/* A byte-order mark, as spreadsheets write, is no data. */
	if (b.len >= 3 && memcmp(b.p, "\xEF\xBB\xBF", 3) == 0)
		bom = 3;
	for (skip = bom; skip < b.len && (b.p[skip] == ' ' ||
	    b.p[skip] == '\t' || b.p[skip] == '\r' || b.p[skip] == '\n');
	    skip++)
		;
	if (skip < b.len && b.p[skip] == '{')
		import_ndjson(c, name, b.p + bom, b.len - bom);
	else if (skip < b.len)
		import_csv(c, name, b.p + bom, b.len - bom);
	buf_free(&b);
	if (c->bad)
		note(c, EXIT_PARTIAL);
	if (isatty(STDERR_FILENO))
		diag_warn("%zu contacts written, %zu unchanged, %zu rows "
		    "refused", c->set, c->same, c->bad);
}

static void
cmd_set(struct ct *c, int argc, char **argv)
{
	char num[PHONE_MAX];
	struct errbuf e;
	json_t *f, *after;
	char *eq;
	int i;

	if (argc < 2)
		usage(stderr, EXIT_USAGE);
	if (number_of(c, argv[0], num, &e) < 0)
		diag_die(EXIT_USAGE, "%s", e.msg);
	if (!(f = json_object()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (i = 1; i < argc; i++) {
		if (!(eq = strchr(argv[i], '=')))
			diag_die(EXIT_USAGE, "'%s': not FIELD=VALUE",
			    argv[i]);
		*eq = '\0';
		if (contact_field_check(argv[i], &e) < 0)
			diag_die(EXIT_USAGE, "%s", e.msg);
		json_object_set_new(f, argv[i], eq[1] ? json_string(eq + 1) :
		    json_null());
		if (eq[1] && !json_object_get(f, argv[i]))
			diag_die(EXIT_USAGE, "%s: not UTF-8 text", argv[i]);
	}
	if (contact_set(&c->ib, num, f, &after, &e) < 0)
		diag_die(errno == EINVAL ? EXIT_USAGE : diag_exit_for(errno),
		    "%s", e.msg);
	if (json_is_object(after))
		put_contact(c, after);
	json_decref(after);
	json_decref(f);
}

static void
cmd_show(struct ct *c, int argc, char **argv)
{
	char num[PHONE_MAX];
	struct errbuf e;
	json_t *rec;

	if (argc != 1)
		usage(stderr, EXIT_USAGE);
	if (number_of(c, argv[0], num, &e) < 0)
		diag_die(EXIT_USAGE, "%s", e.msg);
	if (!(rec = contact_get(&c->ib, num, &e))) {
		if (errno != ENOENT && errno != EBADMSG)
			diag_die(diag_exit_for(errno), "%s", e.msg);
		diag_warn("%s: no such contact", num);
		note(c, EXIT_PARTIAL);
		return;
	}
	put_contact(c, rec);
	json_decref(rec);
}

static void
cmd_ls(struct ct *c, int argc)
{
	struct errbuf e;
	json_t *all, *rec;
	size_t i;

	if (argc != 0)
		usage(stderr, EXIT_USAGE);
	if (!(all = contact_list(&c->ib, &e)))
		diag_die(diag_exit_for(errno), "%s", e.msg);
	if (!c->json)
		table(all);
	else
		json_array_foreach(all, i, rec)
			if (ferror(stdout) || record_write(stdout, rec) < 0)
				break;
	json_decref(all);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "table", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ct c = { .json = -1 };
	const char *cmd = NULL;
	struct errbuf e;
	char *path;
	int ch, err;

	diag_init(argv[0]);
	/* Options before the command and after it, up to its operands. */
	for (int pass = 0; pass < 2; pass++) {
		while ((ch = getopt_long(argc, argv, "+d:hjtV", longopts,
		    NULL)) != -1) {
			switch (ch) {
			case 'd':
				c.dir = optarg;
				break;
			case 'h':
				usage(stdout, 0);
				break;
			case 'j':
			case 't':
				if (c.json == (ch == 't'))
					diag_die(EXIT_USAGE, "--json and "
					    "--table exclude each other");
				c.json = ch == 'j';
				break;
			case 'V':
				printf("inbox-contacts (smsdesk) %s\n",
				    SMSDESK_VERSION);
				return diag_close_stdout(0);
			default:
				usage(stderr, EXIT_USAGE);
			}
		}
		if (pass == 0 && optind < argc)
			cmd = argv[optind++];
	}
	argc -= optind;
	argv += optind;
	if (!cmd || (strcmp(cmd, "import") != 0 && strcmp(cmd, "set") != 0 &&
	    strcmp(cmd, "show") != 0 && strcmp(cmd, "ls") != 0)) {
		if (cmd)
			diag_warn("'%s': no such command", cmd);
		usage(stderr, EXIT_USAGE);
	}
	if (c.json < 0)
		c.json = !isatty(STDOUT_FILENO);
	if (!(c.cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(c.cfg, (path = inbox_path(c.dir)), &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	c.country = config_pick(c.cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (c.country && *c.country && !phone_region_code(c.country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", c.country);
	if (inbox_group_check(config_pick(c.cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (inbox_open_group(&c.ib, c.dir, 0, config_pick(c.cfg, NULL, NULL,
	    "group", NULL), &e) < 0) {
		err = errno;
		inbox_close(&c.ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	c.ib.report = report;
	c.ib.report_arg = &c;
	if (strcmp(cmd, "import") == 0)
		cmd_import(&c, argc, argv);
	else if (strcmp(cmd, "set") == 0)
		cmd_set(&c, argc, argv);
	else if (strcmp(cmd, "show") == 0)
		cmd_show(&c, argc, argv);
	else
		cmd_ls(&c, argc);
	inbox_close(&c.ib);
	config_free(c.cfg);
	return diag_close_stdout(c.ret);
}
