/*
 * inbox-ls: read the inbox as conversations and threads, inbox-ls(1).
 *
 * The working set (every conversation with --all) comes from inbox_each(),
 * one record at a time as a line of JSON with the fields that filtering
 * and ordering need, so a listing builds no parse tree: the conversations
 * that pass the filters keep their line, are put in order of urgency,
 * longest waiting for a reply first, and are written as those lines in a
 * pipe or as a table (parsed then) on a terminal. With --messages their
 * messages are written instead, oldest first; with a NUMBER, that one
 * thread, whose unread messages shown are then marked read. Records go
 * out exactly as the inbox holds them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "phone.h"
#include "record.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"

#define USAGE "usage: inbox-ls [-AhjmtuV] [-a NAME] [-d DIR] [-o DURATION] " \
	"[-S TIME]\n" \
	"                [-s STATUS[,STATUS...]] [--all] [--limit N] " \
	"[--no-mark]\n" \
	"                [NUMBER]\n"

/* Conversation states as bits, for --status. */
static const char *const states[] = {
	INBOX_OPEN, INBOX_PENDING, INBOX_SNOOZED, INBOX_RESOLVED, NULL,
};
enum { ST_OPEN = 1, ST_PENDING = 2, ST_SNOOZED = 4, ST_RESOLVED = 8 };

struct ls {
	struct config *cfg;	/* smsdesk-config(5) */
	struct inbox ib;
	const char *dir;
	int json;		/* NDJSON out, else a table */
	int all, messages, mark, unassigned, unread;
	unsigned status;	/* --status bits; 0: the default set */
	const char *assignee;
	const char *listopt;	/* an option that only a listing takes */
	long long overdue;	/* seconds, or -1 */
	time_t since;		/* with has_since */
	int has_since;
	size_t limit;		/* 0: no limit */
	time_t now;
	char today[WHEN_BUFSZ];
	size_t cols;		/* terminal width */
	int ret;
};

/* A conversation with what ordering and filtering need. */
struct row {
	const char *line;	/* its record and newline */
	size_t len;
	const char *thread;
	size_t line_at;		/* where line and thread are in the store */
	size_t thread_at;	/* (which may move while it grows) */
	json_t *conv;		/* the record parsed, for a table */
	unsigned status;	/* its bit (a snooze that ran out is open) */
	time_t waiting;		/* waiting_since, or -1: not waiting */
	time_t last_in;		/* last_in_at, or -1 */
	time_t last;		/* last_in_at or last_out_at, the later */
};

/* The conversations that pass the filters, as inbox_each() finds them. */
struct listing {
	struct ls *l;
	struct row *rows;
	size_t n, cap;
	struct buf store;	/* their lines and threads */
};

/* A message with its time, for putting messages in order. */
struct mrow {
	json_t *msg;		/* borrowed */
	time_t at;
	size_t seq;		/* where it came from, to keep ties stable */
	size_t idx;		/* its place in its thread */
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -a, --assignee NAME    only those assigned to NAME\n"
		    "      --all              include resolved and snoozed "
		    "conversations\n"
		    "  -A, --unassigned       only those assigned to nobody\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "      --limit N          at most N conversations (with "
		    "NUMBER: the last N\n"
		    "                         messages)\n"
		    "  -m, --messages         list the messages of the "
		    "conversations, oldest first\n"
		    "      --no-mark          do not mark the thread of "
		    "NUMBER read\n"
		    "  -o, --overdue DURATION\n"
		    "                         only those waiting for a reply "
		    "DURATION or longer\n"
		    "  -s, --status S[,S...]  only those in states S: open, "
		    "pending, snoozed,\n"
		    "                         resolved\n"
		    "  -S, --since TIME       only those active at or after "
		    "TIME\n"
		    "  -t, --table            aligned table, even in a pipe\n"
		    "  -u, --unread           only those with unread "
		    "messages\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWith NUMBER, prints that thread oldest first and marks "
		    "it read.\n", fp);
	exit(code);
}

static void
note(struct ls *l, int code)
{
	if (code > l->ret)
		l->ret = code;
}

/* A file the inbox quarantined: say so, and exit 1 at the end. */
static void
report(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	note(arg, EXIT_PARTIAL);
}

static unsigned
parse_status(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	unsigned mask = 0;
	size_t i;

	if (!copy)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; states[i] && strcmp(tok, states[i]) != 0; i++)
			;
		if (!states[i]) {
			diag_warn("--status: unknown status '%s' (open, "
			    "pending, snoozed, resolved)", tok);
			free(copy);
			usage(stderr, EXIT_USAGE);
		}
		mask |= 1u << i;
	}
	free(copy);
	if (!mask)
		diag_die(EXIT_USAGE, "--status: no status given");
	return mask;
}

static size_t
parse_limit(const char *arg)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*arg < '1' || *arg > '9' || *end || errno || n > SIZE_MAX)
		diag_die(EXIT_USAGE, "--limit: '%s' is not a positive number",
		    arg);
	return (size_t)n;
}

/* The time s says, or -1 if none. */
static time_t
time_of(const char *s)
{
	time_t t;

	return s && when_parse(s, &t, NULL) == 0 ? t : -1;
}

/* The time in rec's field key, or -1 if it has none. */
static time_t
field_time(const json_t *rec, const char *key)
{
	return time_of(record_str(rec, key));
}

/* Write rec; -1 once stdout has failed (the end reports it). */
static int
put_record(const json_t *rec)
{
	return ferror(stdout) || record_write(stdout, rec) < 0 ? -1 : 0;
}

/*
 * Terminal text: control characters (escape sequences included), line
 * breaks and the bidirectional overrides and isolates, which could make a
 * customer's text display as something else, show as a space.
 */
static int
blank(uint32_t cp)
{
	utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);

	return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL ||
	    cat == UTF8PROC_CATEGORY_ZP || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Bytes of s that fit in max columns; their columns go in *cols. */
static size_t
fit(const char *s, size_t len, size_t max, size_t *cols)
{
	size_t i = 0, j, c = 0, w;
	uint32_t cp;

	while (i < len) {
		j = i;
		if (utf8_next(s, len, &j, &cp) < 0) {
			j = i + 1;
			w = 1;
		} else if (blank(cp)) {
			w = 1;
		} else {
			w = (size_t)utf8proc_charwidth((utf8proc_int32_t)cp);
		}
		if (c + w > max)
			break;
		c += w;
		i = j;
	}
	*cols = c;
	return i;
}

/* Write s as a terminal should show it; with indent, a line break
 * starts a new line indented that far instead of showing as a space. */
static void
put_text(const char *s, size_t len, size_t indent)
{
	size_t i = 0, j;
	uint32_t cp;

	while (i < len) {
		j = i;
		if (utf8_next(s, len, &j, &cp) < 0) {
			putchar('?');
			j = i + 1;
		} else if (cp == '\n' && indent) {
			printf("\n%*s", (int)indent, "");
		} else if (blank(cp)) {
			putchar(' ');
		} else {
			fwrite(s + i, 1, j - i, stdout);
		}
		i = j;
	}
}

/* Write s in at most max columns, "…" marking a cut, padded to pad
 * columns (on the left with right). */
static void
put_cell(const char *s, size_t max, size_t pad, int right)
{
	size_t len = strlen(s), cols, n = fit(s, len, max, &cols);
	int cut = n < len;

	if (cut && max > 0)
		n = fit(s, len, max - 1, &cols);
	if (right)
		printf("%*s", (int)(pad > cols + cut ? pad - cols - cut : 0),
		    "");
	put_text(s, n, 0);
	if (cut && max > 0)
		fputs("\xE2\x80\xA6", stdout);
	if (!right)
		printf("%*s", (int)(pad > cols + cut ? pad - cols - cut : 0),
		    "");
}

static size_t
width(const char *s, size_t max)
{
	size_t len = strlen(s), cols, n = fit(s, len, max, &cols);

	return n < len ? max : cols;
}

static size_t
terminal_width(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	long n;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env && (n = strtol(env, NULL, 10)) > 0)
		return (size_t)n;
	return 80;
}

/* The status shown for a conversation: an expired snooze shows open. */
static const char *
status_name(const struct row *r)
{
	const char *s;

	for (size_t i = 0; states[i]; i++)
		if (r->status == 1u << i)
			return states[i];
	return (s = record_str(r->conv, "status")) ? s : "-";
}

enum { C_THREAD, C_STATUS, C_ASSIGNEE, C_WAITING, C_UNREAD, NCOL };

/* The cells of a conversation's line, all but the last body. */
struct cells {
	const char *c[NCOL];
	char waiting[WHEN_DURSZ];
	char unread[24];
};

static void
cells_of(const struct ls *l, const struct row *r, struct cells *k)
{
	const char *a = record_str(r->conv, "assignee");

	if (r->waiting >= 0)
		when_format_duration(l->now - r->waiting, k->waiting,
		    sizeof k->waiting);
	else
		strcpy(k->waiting, "-");
	snprintf(k->unread, sizeof k->unread, "%lld", (long long)
	    json_integer_value(json_object_get(r->conv, "unread")));
	k->c[C_THREAD] = r->thread;
	k->c[C_STATUS] = status_name(r);
	k->c[C_ASSIGNEE] = a && *a ? a : "-";
	k->c[C_WAITING] = k->waiting;
	k->c[C_UNREAD] = k->unread;
}

static void
table_conversations(const struct ls *l, const struct row *rows, size_t n)
{
	static const char *const head[NCOL] = {
		"THREAD", "STATUS", "ASSIGNEE", "WAITING", "UNREAD",
	};
	/* A thread is shown whole, to be given back as an argument. */
	static const size_t cap[NCOL] = { THREAD_MAX - 1, 12, 16, 8, 6 };
	const char *body;
	struct cells k;
	size_t w[NCOL], i, c, used = 0, room;

	if (n == 0)
		return;
	for (c = 0; c < NCOL; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < n; i++) {
		cells_of(l, &rows[i], &k);
		for (c = 0; c < NCOL; c++)
			if (width(k.c[c], cap[c]) > w[c])
				w[c] = width(k.c[c], cap[c]);
	}
	for (c = 0; c < NCOL; c++)
		used += w[c] + 2;
	room = l->cols > used + 10 ? l->cols - used : 10;
	for (c = 0; c < NCOL; c++) {
		put_cell(head[c], cap[c], w[c], c == C_UNREAD);
		fputs("  ", stdout);
	}
	puts("LAST");
	for (i = 0; i < n; i++) {
		cells_of(l, &rows[i], &k);
		for (c = 0; c < NCOL; c++) {
			put_cell(k.c[c], cap[c], w[c], c == C_UNREAD);
			fputs("  ", stdout);
		}
		body = record_str(rows[i].conv, "last_body");
		put_cell(body ? body : "", room, 0, 0);
		putchar('\n');
	}
}

/* "HH:MM" for a time today, else its date, in UTC; "-" for none. */
static void
short_time(const struct ls *l, time_t t, char out[WHEN_BUFSZ])
{
	if (t < 0) {
		strcpy(out, "-");
		return;
	}
	when_format(t, out);
	if (memcmp(out, l->today, 10) == 0) {
		memmove(out, out + 11, 5);
		out[5] = '\0';
	} else {
		out[10] = '\0';
	}
}

static const char *
arrow(const json_t *msg)
{
	const char *d = record_str(msg, "direction");

	if (d && strcmp(d, "in") == 0)
		return "\xE2\x86\x90";		/* ← */
	if (d && strcmp(d, "out") == 0)
		return "\xE2\x86\x92";		/* → */
	return "?";
}

/*
 * Messages as a table: time, (the thread, with feed,) direction, status
 * and body. A feed cuts each body to the width; a thread shows it whole,
 * its lines indented under the first.
 */
static void
table_messages(const struct ls *l, const struct mrow *m, size_t n, int feed)
{
	char t[WHEN_BUFSZ];
	const char *s;
	size_t wt = 1, wth = 0, ws = 1, i, indent, room;

	for (i = 0; i < n; i++) {
		short_time(l, m[i].at, t);
		if (strlen(t) > wt)
			wt = strlen(t);
		s = record_str(m[i].msg, "status");
		if (s && width(s, 12) > ws)
			ws = width(s, 12);
		s = record_str(m[i].msg, "thread");
		if (feed && s && width(s, THREAD_MAX - 1) > wth)
			wth = width(s, THREAD_MAX - 1);
	}
	indent = wt + 2 + 1 + 2 + ws + 2 + (feed ? wth + 2 : 0);
	room = l->cols > indent + 10 ? l->cols - indent : 10;
	for (i = 0; i < n; i++) {
		short_time(l, m[i].at, t);
		printf("%-*s  ", (int)wt, t);
		if (feed) {
			s = record_str(m[i].msg, "thread");
			put_cell(s ? s : "-", THREAD_MAX - 1, wth, 0);
			fputs("  ", stdout);
		}
		printf("%s  ", arrow(m[i].msg));
		s = record_str(m[i].msg, "status");
		put_cell(s ? s : "-", 12, ws, 0);
		fputs("  ", stdout);
		if (!(s = record_str(m[i].msg, "body")))
			s = "";
		if (feed)
			put_cell(s, room, 0, 0);
		else
			put_text(s, strlen(s), indent);
		putchar('\n');
	}
}

static int
by_time(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Add the messages of thread t (at or after --since) to *m. */
static void
collect(const struct ls *l, json_t *t, struct mrow **m, size_t *n,
    size_t *cap)
{
	struct mrow *nm;
	json_t *msg;
	size_t i;
	time_t at;

	json_array_foreach(t, i, msg) {
		at = field_time(msg, "at");
		if (l->has_since && at < l->since)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			if (!(nm = realloc(*m, *cap * sizeof **m)))
				diag_die(EXIT_IOERR, "%s", strerror(errno));
			*m = nm;
		}
		(*m)[*n] = (struct mrow){ msg, at, *n, i };
		(*n)++;
	}
}

static void
put_messages(const struct ls *l, const struct mrow *m, size_t n, int feed)
{
	if (!l->json)
		table_messages(l, m, n, feed);
	else
		for (size_t i = 0; i < n && put_record(m[i].msg) == 0; i++)
			;
}

/* --messages: the messages of the conversations listed, oldest first. */
static void
list_messages(struct ls *l, const struct row *rows, size_t n)
{
	json_t *all = json_array(), *t;
	struct mrow *m = NULL;
	size_t nm = 0, cap = 0, i;
	struct errbuf e;
	int err;

	if (!all)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (!*rows[i].thread)
			continue;
		if (!(t = inbox_thread(&l->ib, rows[i].thread, &e))) {
			if ((err = errno) != ENOENT) {
				diag_warn("%s", e.msg);
				note(l, diag_exit_for(err));
			}
			continue;
		}
		json_array_append_new(all, t);
		collect(l, t, &m, &nm, &cap);
	}
	if (nm)
		qsort(m, nm, sizeof *m, by_time);
	put_messages(l, m, nm, 1);
	free(m);
	json_decref(all);
}

static void
row_of(const struct ls *l, const struct inbox_conv *c, struct row *r)
{
	time_t until, out;

	memset(r, 0, sizeof *r);
	r->thread = c->thread ? c->thread : "";
	for (size_t i = 0; c->status && states[i]; i++)
		if (strcmp(c->status, states[i]) == 0)
			r->status = 1u << i;
	if (r->status == ST_SNOOZED &&
	    (until = time_of(c->snoozed_until)) >= 0 && until <= l->now)
		r->status = ST_OPEN;
	r->waiting = time_of(c->waiting_since);
	r->last_in = time_of(c->last_in_at);
	out = time_of(c->last_out_at);
	r->last = r->last_in > out ? r->last_in : out;
}

static int
wanted(const struct ls *l, const struct inbox_conv *c, const struct row *r)
{
	const char *a = c->assignee;

	if (l->status ? !(r->status & l->status) :
	    !l->all && (r->status & (ST_SNOOZED | ST_RESOLVED)))
		return 0;
	if (l->assignee && (!a || strcmp(a, l->assignee) != 0))
		return 0;
	if (l->unassigned && a && *a)
		return 0;
	if (l->unread && c->unread <= 0)
		return 0;
	if (l->overdue >= 0 && (r->waiting < 0 ||
	    l->now - r->waiting < l->overdue))
		return 0;
	if (l->has_since && (r->last < 0 || r->last < l->since))
		return 0;
	return 1;
}

/* inbox_each(): keep a conversation that passes the filters. */
static int
take(const struct inbox_conv *c, void *arg)
{
	struct listing *g = arg;
	struct row r, *nr;

	row_of(g->l, c, &r);
	if (!wanted(g->l, c, &r))
		return 0;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		if (!(nr = realloc(g->rows, g->cap * sizeof *nr)))
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		g->rows = nr;
	}
	r.line_at = g->store.len;
	r.len = c->len + 1;
	buf_add(&g->store, c->line, c->len);
	buf_addc(&g->store, '\n');
	r.thread_at = g->store.len;
	buf_adds(&g->store, r.thread);
	buf_addc(&g->store, '\0');
	if (g->store.err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	g->rows[g->n++] = r;
	return 0;
}

/* Longest waiting for a reply first; then the latest to write in. */
static int
by_urgency(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if ((x->waiting >= 0) != (y->waiting >= 0))
		return x->waiting >= 0 ? -1 : 1;
	if (x->waiting != y->waiting)
		return x->waiting < y->waiting ? -1 : 1;
	if (x->last_in != y->last_in)
		return x->last_in > y->last_in ? -1 : 1;
	return strcmp(x->thread, y->thread);
}

/* Write a conversation's line; -1 once stdout has failed. */
static int
put_line(const struct row *r)
{
	return ferror(stdout) || fwrite(r->line, 1, r->len, stdout) !=
	    r->len ? -1 : 0;
}

static void
list(struct ls *l)
{
	struct listing g = { .l = l };
	struct errbuf e, pe;
	size_t n, i;

	if (inbox_each(&l->ib, l->all || (l->status & ST_RESOLVED), take, &g,
	    &e) != 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	for (i = 0; i < g.n; i++) {
		g.rows[i].line = g.store.p + g.rows[i].line_at;
		g.rows[i].thread = g.store.p + g.rows[i].thread_at;
	}
	n = g.n;
	if (n)
		qsort(g.rows, n, sizeof *g.rows, by_urgency);
	if (l->limit && n > l->limit)
		n = l->limit;
	if (l->messages) {
		list_messages(l, g.rows, n);
	} else if (!l->json) {
		for (i = 0; i < n; i++)
			if (!(g.rows[i].conv = record_parse(g.rows[i].line,
			    g.rows[i].len - 1, &pe)))
				diag_die(EXIT_IOERR, "%s", pe.msg);
		table_conversations(l, g.rows, n);
		for (i = 0; i < n; i++)
			json_decref(g.rows[i].conv);
	} else {
		for (i = 0; i < n && put_line(&g.rows[i]) == 0; i++)
			;
	}
	free(g.rows);
	buf_free(&g.store);
}

/*
 * Mark read what was shown: arg is the unread count before the thread
 * was read, so a text that came in meanwhile stays unread.
 */
static int
mark_read(json_t *conv, void *arg, struct errbuf *e)
{
	json_int_t seen = *(json_int_t *)arg;
	json_int_t now = json_integer_value(json_object_get(conv, "unread"));
	json_int_t left = now > seen ? now - seen : 0;

	if (now == left)
		return 1;
	if (json_object_set_new(conv, "unread", json_integer(left)) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/*
 * The thread of NUMBER: its E.164 form, in the country of the
 * configuration, or a sender's thread as written ("@VERIFY").
 */
static void
number_of(struct ls *l, const char *arg, char out[THREAD_MAX])
{
	struct errbuf e;
	const char *country;

	country = config_pick(l->cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (country && *country && !phone_region_code(country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", country);
	if (thread_parse(arg, country, out, &e) < 0)
		diag_die(EXIT_USAGE, "%s: %s", arg, e.msg);
}

static int
inbound(const json_t *msg)
{
	const char *d = record_str(msg, "direction");

	return d && strcmp(d, "in") == 0;
}

/*
 * Whether an unread message of thread t (one of the last unread inbound
 * ones) is left out of the n shown, m in the thread's order: --limit and
 * --since leave out the oldest. An unread count says how many, not which,
 * so a thread is marked read only when none is left out: marking the
 * newest read would leave a count that the next look takes for them.
 */
static int
unread_left_out(json_t *t, json_int_t unread, const struct mrow *m,
    size_t n)
{
	size_t first = json_array_size(t), i;
	json_int_t found = 0, shown = 0;

	while (first > 0 && found < unread)
		if (inbound(json_array_get(t, --first)))
			found++;
	for (i = 0; i < n; i++)
		if (m[i].idx >= first && inbound(m[i].msg))
			shown++;
	return shown < found;
}

/* NUMBER: its thread, oldest first (the last --limit), then marked read
 * if all that was unread was shown. */
static void
show_thread(struct ls *l, const char *arg)
{
	char num[THREAD_MAX];
	struct mrow *m = NULL;
	size_t n = 0, cap = 0, skip = 0;
	struct errbuf e;
	json_int_t unread = 0;
	json_t *t, *c;
	int err;

	number_of(l, arg, num);
	if ((c = inbox_conversation(&l->ib, num, &e))) {
		unread = json_integer_value(json_object_get(c, "unread"));
		json_decref(c);
	} else if (errno != ENOENT && errno != EBADMSG) {
		/* Not there, or quarantined (and said): else say why. */
		report(l, e.msg);
	}
	if (!(t = inbox_thread(&l->ib, num, &e))) {
		if ((err = errno) != ENOENT)
			diag_die(diag_exit_for(err), "%s", e.msg);
		diag_warn("%s: no such conversation", num);
		note(l, EXIT_PARTIAL);
		return;
	}
	collect(l, t, &m, &n, &cap);
	if (l->limit && n > l->limit)
		skip = n - l->limit;
	put_messages(l, m + skip, n - skip, 0);
	if (unread > 0 && unread_left_out(t, unread, m + skip, n - skip))
		unread = 0;	/* leave it unread */
	free(m);
	json_decref(t);
	/* Only what reached its reader counts as read. */
	if (!l->mark || fflush(stdout) != 0 || ferror(stdout))
		return;
	if (unread > 0 &&
	    inbox_update(&l->ib, num, mark_read, &unread, NULL, &e) < 0) {
		err = errno;
		diag_warn("%s", e.msg);
		note(l, diag_exit_for(err));
	}
}

int
main(int argc, char **argv)
{
	enum { OPT_ALL = 256, OPT_LIMIT, OPT_NO_MARK };
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "assignee", required_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "messages", no_argument, NULL, 'm' },
		{ "no-mark", no_argument, NULL, OPT_NO_MARK },
		{ "overdue", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "table", no_argument, NULL, 't' },
		{ "unread", no_argument, NULL, 'u' },
		{ "unassigned", no_argument, NULL, 'A' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static char obuf[1 << 16];
	struct ls l = { .json = -1, .mark = 1, .overdue = -1 };
	struct errbuf e;
	char *path;
	long long secs;
	int c, err;

	diag_init(argv[0]);
	l.now = time(NULL);
	while ((c = getopt_long(argc, argv, "a:Ad:hjmo:s:S:tuV",
	    longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL:
			l.all = 1;
			l.listopt = "--all";
			break;
		case 'a':
			l.assignee = optarg;
			l.listopt = "--assignee";
			break;
		case 'A':
			l.unassigned = 1;
			l.listopt = "--unassigned";
			break;
		case 'd':
			l.dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
		case 't':
			if (l.json == (c == 't'))
				diag_die(EXIT_USAGE, "--json and --table "
				    "exclude each other");
			l.json = c == 'j';
			break;
		case OPT_LIMIT:
			l.limit = parse_limit(optarg);
			break;
		case 'm':
			l.messages = 1;
			l.listopt = "--messages";
			break;
		case OPT_NO_MARK:
			l.mark = 0;
			break;
		case 'o':
			if (when_duration(optarg, &l.overdue, &e) < 0)
				diag_die(EXIT_USAGE, "--overdue: %s", e.msg);
			l.listopt = "--overdue";
			break;
		case 's':
			l.status |= parse_status(optarg);
			l.listopt = "--status";
			break;
		case 'S':
			/* A time, or a duration back from now. */
			if (when_duration(optarg, &secs, NULL) == 0)
				l.since = l.now - (time_t)secs;
			else if (when_parse(optarg, &l.since, &e) < 0)
				diag_die(EXIT_USAGE, "--since: '%s': %s",
				    optarg, e.msg);
			l.has_since = 1;
			break;
		case 'u':
			l.unread = 1;
			l.listopt = "--unread";
			break;
		case 'V':
			printf("inbox-ls (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1) {
		diag_warn("one NUMBER at most");
		usage(stderr, EXIT_USAGE);
	}
	if (argc == 1 && l.listopt)
		diag_die(EXIT_USAGE, "%s selects conversations: not with a "
		    "NUMBER", l.listopt);
	if (l.assignee && l.unassigned)
		diag_die(EXIT_USAGE, "--assignee and --unassigned exclude "
		    "each other");
	if (l.json < 0)
		l.json = !isatty(STDOUT_FILENO);
	/* With a NULL buffer glibc keeps its own of st_blksize bytes. */
	if (l.json && setvbuf(stdout, obuf, _IOFBF, sizeof obuf) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	if (!l.json)
		l.cols = terminal_width();
	when_format(l.now, l.today);

	/* The configuration first: it names the group trusted with it. */
	if (!(l.cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(l.cfg, (path = inbox_path(l.dir)), &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	if (inbox_open_group(&l.ib, l.dir, 0, config_pick(l.cfg, NULL, NULL,
	    "group", NULL), &e) < 0) {
		err = errno;
		inbox_close(&l.ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	l.ib.report = report;
	l.ib.report_arg = &l;
	/* Who marks a thread read, recorded with the change ("by"). */
	l.ib.agent = config_pick(l.cfg, NULL, "SMSDESK_AGENT", "agent", NULL);
	if (l.ib.agent && !*l.ib.agent)
		l.ib.agent = NULL;
	if (argc == 1)
		show_thread(&l, argv[0]);
	else
		list(&l);
	inbox_close(&l.ib);
	config_free(l.cfg);
	return diag_close_stdout(l.ret);
}
