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
 * thread, whose unread messages shown are then marked read, under a
 * header on a terminal; with --consent, the consent ledger. Records go
 * out exactly as the inbox holds them. --tag needs a conversation's tags,
 * so a line is parsed for it; --grep reads the threads of the
 * conversations, in order of urgency until --limit is met. --idle goes by
 * the conversation's last message times, as --overdue by its waiting
 * time. --woke changes instead of listing: each snoozed conversation of
 * the working set whose time has come is woken under its lock
 * (inbox_wake()), and only the run that woke it prints its event.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <regex.h>
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
#include "contact.h"
#include "diag.h"
#include "inbox.h"
#include "phone.h"
#include "record.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"

#define USAGE "usage: inbox-ls [-AhjmtuV] [-a NAME] [-d DIR] [-g PATTERN] " \
	"[-o DURATION]\n" \
	"                [-s STATUS[,STATUS...]] [-S TIME] [-T TAG] [--all] " \
	"[--consent]\n" \
	"                [--idle DURATION] [--limit N] [--mine] [--no-mark] " \
	"[NUMBER]\n" \
	"       inbox-ls --media [-d DIR] NUMBER\n" \
	"       inbox-ls --scheduled [-jt] [-d DIR] [--limit N] [NUMBER]\n" \
	"       inbox-ls --woke [-jt] [-d DIR]\n"

/* The long options without a letter (smsdesk(7), the option table). */
enum { OPT_CONSENT = 256 };

/* Conversation states as bits, for --status. */
static const char *const states[] = {
	INBOX_OPEN, INBOX_PENDING, INBOX_SNOOZED, INBOX_RESOLVED, "blocked",
	NULL,
};
enum {
	ST_OPEN = 1, ST_PENDING = 2, ST_SNOOZED = 4, ST_RESOLVED = 8,
	ST_BLOCKED = 16,	/* a blocked sender's, whatever its status */
};

struct ls {
	struct config *cfg;	/* smsdesk-config(5) */
	struct inbox ib;
	const char *dir;
	int json;		/* NDJSON out, else a table */
	int all, messages, mark, unassigned, unread;
	unsigned status;	/* --status bits; 0: the default set */
	const char *assignee;
	const char **tags;	/* --tag: a conversation has them all */
	size_t ntags;
	regex_t *greps;		/* --grep: a body matches them all */
	size_t ngreps;
	int consent;		/* --consent: the ledger instead */
	int media;		/* --media: a thread's media files */
	int scheduled;		/* --scheduled: messages to go later */
	const char *listopt;	/* an option that only a listing takes */
	const char *convopt;	/* one that selects conversations or
				 * messages (not --consent's) */
	long long overdue;	/* seconds, or -1 */
	long long idle;		/* --idle: seconds, or -1 */
	int woke;		/* --woke: wake, not list */
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
	time_t quiet;		/* since its last message, in or out (last
				 * and last_auto_at, the later), or -1 */
	time_t wa_in;		/* whatsapp_in_at, or -1 */
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
		    "conversations, and\n"
		    "                         blocked senders'\n"
		    "  -A, --unassigned       only those assigned to nobody\n"
		    "      --consent          list the consent ledger: each "
		    "number's latest\n"
		    "                         record (with --all every "
		    "record; with NUMBER its own)\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -g, --grep PATTERN     only those with a message whose "
		    "body matches PATTERN\n"
		    "                         (extended regex, any case; "
		    "with -m or NUMBER,\n"
		    "                         only such messages)\n"
		    "  -h, --help             print this help and exit\n"
		    "      --idle DURATION    only those whose last message, "
		    "in or out, is\n"
		    "                         DURATION old or older\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "      --limit N          at most N conversations (with "
		    "NUMBER: the last N\n"
		    "                         messages)\n"
		    "      --media            with NUMBER, print the paths of "
		    "its media files,\n"
		    "                         one a line\n"
		    "  -m, --messages         list the messages of the "
		    "conversations, oldest first\n"
		    "      --mine             only those assigned to "
		    "$SMSDESK_AGENT (my queue)\n"
		    "      --no-mark          do not mark the thread of "
		    "NUMBER read\n"
		    "      --scheduled        list the scheduled messages "
		    "(of NUMBER), by the\n"
		    "                         time they go\n"
		    "  -o, --overdue DURATION\n"
		    "                         only those waiting for a reply "
		    "DURATION or longer\n"
		    "  -s, --status S[,S...]  only those in states S: open, "
		    "pending, snoozed,\n"
		    "                         resolved, blocked\n"
		    "  -S, --since TIME       only those active at or after "
		    "TIME\n"
		    "  -t, --table            aligned table, even in a pipe\n"
		    "  -T, --tag TAG          only those tagged TAG (may be "
		    "repeated: all of them)\n"
		    "  -u, --unread           only those with unread "
		    "messages\n"
		    "  -V, --version          print the version and exit\n"
		    "      --woke             wake the snoozed conversations "
		    "whose time has come,\n"
		    "                         printing a conversation.woke "
		    "event for each\n"
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
			    "pending, snoozed, resolved, blocked)", tok);
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

/*
 * A time as a table shows it, in UTC: "HH:MM" today, "MM-DD HH:MM" this
 * year, else "YYYY-MM-DD HH:MM"; "-" for none.
 */
static void
short_time(const struct ls *l, time_t t, char out[WHEN_BUFSZ])
{
	if (t < 0) {
		strcpy(out, "-");
		return;
	}
	when_format(t, out);
	out[10] = ' ';
	out[16] = '\0';
	if (memcmp(out, l->today, 10) == 0)
		memmove(out, out + 11, 6);
	else if (memcmp(out, l->today, 5) == 0)
		memmove(out, out + 5, 12);
}

/*
 * What became of a message, for a status cell: its status, and the code
 * of its error if it has one ("failed: opted_out"). 1 if it failed (an
 * error, or a status of failed or undelivered), else 0.
 */
static int
outcome(const json_t *msg, char *out, size_t size)
{
	const char *st = record_str(msg, "status");
	const char *code = record_str(json_object_get(msg, "error"), "code");
	int failed = code && *code;

	if (st && (strcmp(st, "failed") == 0 ||
	    strcmp(st, "undelivered") == 0))
		failed = 1;
	if (!st)
		st = "-";
	if (code && *code && strcmp(code, st) != 0)
		snprintf(out, size, "%s: %s", st, code);
	else
		snprintf(out, size, "%s", st);
	return failed;
}

/* The tags of conv as "a,b,c" in out, cut after a whole tag ("…"). */
static void
join_tags(const json_t *conv, char *out, size_t size)
{
	const json_t *t;
	const char *s;
	size_t i, len = 0, n;

	out[0] = '\0';
	json_array_foreach(json_object_get(conv, "tags"), i, t) {
		if (!(s = json_string_value(t)) || !*s)
			continue;
		n = strlen(s);
		/* Room is kept for ",…" and the NUL after each tag. */
		if (len + n + 6 > size) {
			strcpy(out + len, len ? ",\xE2\x80\xA6" :
			    "\xE2\x80\xA6");
			return;
		}
		if (len)
			out[len++] = ',';
		memcpy(out + len, s, n + 1);
		len += n;
	}
}

/* Who made a record, its "by" (a name, or {"user","agent"}: the agent,
 * and the Unix user where it differs), added to b; nothing for nobody. */
static void
who(const json_t *by, struct buf *b)
{
	const char *agent = record_str(by, "agent");
	const char *user = record_str(by, "user");

	if (json_is_string(by)) {
		buf_adds(b, json_string_value(by));
	} else if (agent && *agent) {
		buf_adds(b, agent);
		if (user && *user && strcmp(user, agent) != 0) {
			buf_adds(b, " (");
			buf_adds(b, user);
			buf_addc(b, ')');
		}
	} else if (user) {
		buf_adds(b, user);
	}
}

/*
 * How a consent record came to be, in b, NUL-terminated: its keyword
 * (with_keyword), the message it came from, our number it was sent to,
 * and what a record made by hand says: source, by, note.
 */
static void
consent_how(const json_t *c, struct buf *b, int with_keyword)
{
	static const char *const said[][2] = {
		{ "keyword", "" }, { "channel", "on " },
		{ "message", "message " },
		{ "our_number", "to " }, { "source", "source " },
		{ "by", "by " }, { "note", "note: " },
	};
	const char *key, *v;
	size_t i, mark, at;

	b->len = 0;
	for (i = with_keyword ? 0 : 1; i < sizeof said / sizeof *said; i++) {
		key = said[i][0];
		mark = b->len;
		if (b->len)
			buf_adds(b, ", ");
		at = b->len;
		buf_adds(b, said[i][1]);
		if (strcmp(key, "by") == 0)
			who(json_object_get(c, key), b);
		else if ((v = record_str(c, key)) &&
		    /* A text's is no news; another channel's is. */
		    (strcmp(key, "channel") != 0 || strcmp(v, "sms") != 0))
			buf_adds(b, v);
		if (b->len == at + strlen(said[i][1]))
			b->len = mark;		/* it said nothing */
	}
	buf_addc(b, '\0');
	if (b->err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
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

enum { C_THREAD, C_STATUS, C_ASSIGNEE, C_WAITING, C_UNREAD, C_WINDOW, C_TAGS,
	NCOL };

/* The cells of a conversation's line, all but the last body. */
struct cells {
	const char *c[NCOL];
	char status[WHEN_BUFSZ + 16];
	char waiting[WHEN_DURSZ];
	char unread[24];
	char window[WHEN_BUFSZ + 8];
	char tags[256];
};

/*
 * WhatsApp's customer service window of a conversation whose customer
 * wrote on WhatsApp at wa_in (-1: never, or a record of an older inbox):
 * "until HH:MM" while a free-form message may go, "closed" after, "-"
 * with none.
 */
static void
window_cell(const struct ls *l, time_t wa_in, char out[WHEN_BUFSZ + 8])
{
	char t[WHEN_BUFSZ];

	if (wa_in < 0) {
		strcpy(out, "-");
	} else if (wa_in + INBOX_WHATSAPP_WINDOW > l->now) {
		short_time(l, wa_in + INBOX_WHATSAPP_WINDOW, t);
		snprintf(out, WHEN_BUFSZ + 8, "until %s", t);
	} else {
		strcpy(out, "closed");
	}
}

static void
cells_of(const struct ls *l, const struct row *r, struct cells *k)
{
	const char *a = record_str(r->conv, "assignee");
	char t[WHEN_BUFSZ];
	time_t until;

	if (r->waiting >= 0)
		when_format_duration(l->now - r->waiting, k->waiting,
		    sizeof k->waiting);
	else
		strcpy(k->waiting, "-");
	snprintf(k->unread, sizeof k->unread, "%lld", (long long)
	    json_integer_value(json_object_get(r->conv, "unread")));
	/* A snoozed conversation says when it wakes. */
	if (r->status == ST_SNOOZED &&
	    (until = field_time(r->conv, "snoozed_until")) >= 0) {
		short_time(l, until, t);
		snprintf(k->status, sizeof k->status, "snoozed until %s", t);
	} else {
		snprintf(k->status, sizeof k->status, "%s", status_name(r));
	}
	join_tags(r->conv, k->tags, sizeof k->tags);
	window_cell(l, r->wa_in, k->window);
	k->c[C_THREAD] = r->thread;
	k->c[C_STATUS] = k->status;
	k->c[C_ASSIGNEE] = a && *a ? a : "-";
	k->c[C_WAITING] = k->waiting;
	k->c[C_UNREAD] = k->unread;
	k->c[C_WINDOW] = k->window;
	k->c[C_TAGS] = *k->tags ? k->tags : "-";
}

/*
 * The LAST cell of a conversation in b, NUL-terminated: its last body,
 * after why its last message failed if it did ("[failed: opted_out] ").
 */
static void
last_cell(struct ls *l, const struct row *r, struct buf *b)
{
	const char *body = record_str(r->conv, "last_body");
	char why[96];
	struct errbuf e;
	json_t *m = NULL;
	int err;

	b->len = 0;
	if (*r->thread && !(m = inbox_last_message(&l->ib, r->thread, &e)) &&
	    (err = errno) != ENOENT) {
		diag_warn("%s", e.msg);
		note(l, diag_exit_for(err));
	}
	if (m && outcome(m, why, sizeof why)) {
		buf_addc(b, '[');
		buf_adds(b, why);
		buf_adds(b, "] ");
	}
	json_decref(m);
	buf_adds(b, body ? body : "");
	buf_addc(b, '\0');
	if (b->err)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
}

static void
table_conversations(struct ls *l, const struct row *rows, size_t n)
{
	static const char *const head[NCOL] = {
		"THREAD", "STATUS", "ASSIGNEE", "WAITING", "UNREAD", "WHATSAPP",
		"TAGS",
	};
	/* A thread is shown whole, to be given back as an argument. */
	static const size_t cap[NCOL] = {
		THREAD_MAX - 1, 30, 16, 8, 6, 18, 24,
	};
	struct buf last = { 0 };
	struct cells k;
	size_t w[NCOL], i, c, used = 0, room;
	int show[NCOL] = { 1, 1, 1, 1, 1, 0, 0 };

	if (n == 0)
		return;
	for (c = 0; c < NCOL; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < n; i++) {
		cells_of(l, &rows[i], &k);
		/* TAGS only when a conversation listed has one, WHATSAPP
		 * (the window) when one's customer wrote on it. */
		if (*k.tags)
			show[C_TAGS] = 1;
		if (rows[i].wa_in >= 0)
			show[C_WINDOW] = 1;
		for (c = 0; c < NCOL; c++)
			if (width(k.c[c], cap[c]) > w[c])
				w[c] = width(k.c[c], cap[c]);
	}
	for (c = 0; c < NCOL; c++)
		if (show[c])
			used += w[c] + 2;
	room = l->cols > used + 10 ? l->cols - used : 10;
	for (c = 0; c < NCOL; c++) {
		if (!show[c])
			continue;
		put_cell(head[c], cap[c], w[c], c == C_UNREAD);
		fputs("  ", stdout);
	}
	puts("LAST");
	for (i = 0; i < n; i++) {
		cells_of(l, &rows[i], &k);
		for (c = 0; c < NCOL; c++) {
			if (!show[c])
				continue;
			put_cell(k.c[c], cap[c], w[c], c == C_UNREAD);
			fputs("  ", stdout);
		}
		last_cell(l, &rows[i], &last);
		put_cell(last.p, room, 0, 0);
		putchar('\n');
	}
	buf_free(&last);
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

/* A record of a thread as a line of a table. */
struct mline {
	const char *mark;	/* one column: ← in, → out, ... */
	char status[96];
	const char *agent;	/* who wrote it; "" where nobody could */
	const char *body;
	const char *detail;	/* a line under the body, or NULL */
};

/* A message: its status and why it failed; who sent it, if it went out. */
static void
message_line(const json_t *msg, struct mline *k)
{
	const char *d = record_str(msg, "direction");

	const json_t *cs = json_object_get(msg, "csat");
	size_t n;

	k->mark = arrow(msg);
	outcome(msg, k->status, sizeof k->status);
	/* A survey, and its answer (smsdesk-inbox(5), Surveys). */
	n = strcmp(k->status, "-") == 0 ? 0 : strlen(k->status);
	if (n)
		k->status[n++] = ' ';
	if (json_is_integer(json_object_get(cs, "score")))
		snprintf(k->status + n, sizeof k->status - n, "score %lld",
		    (long long)json_integer_value(json_object_get(cs,
		    "score")));
	else if (json_is_object(cs))
		snprintf(k->status + n, sizeof k->status - n, "comment");
	else if (json_is_object(json_object_get(msg, "survey")))
		snprintf(k->status + n, sizeof k->status - n, "survey");
	else if (n)
		k->status[n - 1] = '\0';
	k->agent = record_str(msg, "agent");
	if (d && strcmp(d, "in") == 0)
		k->agent = "";
	else if (!k->agent || !*k->agent)
		k->agent = record_str(msg, "auto") ? "auto" : "-";
	k->body = record_str(msg, "body");
	k->detail = record_str(json_object_get(msg, "error"), "message");
}

/* A record of a kind not known here: its type, who wrote it, its body. */
static void
other_line(const json_t *rec, struct mline *k)
{
	const char *type = record_str(rec, "type");

	k->mark = "\xC2\xB7";			/* · */
	snprintf(k->status, sizeof k->status, "%s", type ? type : "-");
	k->agent = record_str(rec, "agent");
	if (!k->agent || !*k->agent)
		k->agent = "-";
	k->body = record_str(rec, "body");
}

/* Who wrote a note: its agent, else the user who ran inbox-mark. */
static const char *
note_author(const json_t *note)
{
	const char *a = record_str(note, "agent");

	return a ? a : record_str(json_object_get(note, "by"), "user");
}

/* An internal note (inbox-mark --note): ✎, "note", who wrote it. */
static void
note_line(const json_t *note, struct mline *k)
{
	k->mark = "\xE2\x9C\x8E";			/* ✎ */
	snprintf(k->status, sizeof k->status, "note");
	if (!(k->agent = note_author(note)))
		k->agent = "-";
	k->body = record_str(note, "body");
}

/*
 * How each kind of record in a thread shows: a kind with a line of its
 * own (a note) adds its function here; others show as other_line() has
 * them. A record without a type is a message.
 */
static const struct kind {
	const char *type;
	void (*fill)(const json_t *rec, struct mline *k);
} kinds[] = {
	{ "message", message_line },
	{ "note", note_line },
};

static void
line_of(const json_t *rec, struct mline *k)
{
	const char *type = record_str(rec, "type");
	size_t i;

	memset(k, 0, sizeof *k);
	for (i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(type ? type : "message", kinds[i].type) == 0) {
			kinds[i].fill(rec, k);
			return;
		}
	other_line(rec, k);
}

/*
 * Before the body of a message that came or went on a channel other than
 * SMS and MMS, the channel (sms-record(5)), as "[whatsapp] ": the columns
 * it takes. A word that is no channel smsdesk knows shows "[?]".
 */
static size_t
put_channel(const json_t *msg)
{
	const char *c = record_str(msg, "channel");

	if (!c)
		return 0;
	if (strcmp(c, "whatsapp") != 0 && strcmp(c, "rcs") != 0)
		c = "?";
	printf("[%s] ", c);
	return strlen(c) + 3;
}

/*
 * Before the body of an outbound message that is no reply, its purpose
 * (sms-record(5)), as "[notification] ": the columns it takes.
 */
static size_t
put_purpose(const json_t *msg)
{
	const char *d = record_str(msg, "direction");
	const char *p = inbox_purpose(msg);

	if (!d || strcmp(d, "out") != 0 || strcmp(p, INBOX_REPLY) == 0)
		return 0;
	if (!inbox_purpose_valid(p))
		p = "?";
	printf("[%s] ", p);
	return strlen(p) + 3;
}

/*
 * The file of a media item, "media/THREAD/NAME" as the inbox names it, or
 * NULL if the item has none (or a name that is not one of media/).
 */
static const char *
media_file(const json_t *item)
{
	const char *f = record_str(item, "file");

	if (!f || strncmp(f, "media/", 6) != 0 || strstr(f, "/.") ||
	    strchr(f + 6, '/') == NULL || strchr(strchr(f + 6, '/') + 1, '/'))
		return NULL;
	return f;
}

/*
 * Under a message of a thread, a line for each of its media: what the
 * bytes are, how many, and where the file is; or that it is not fetched,
 * and why.
 */
static void
put_media(const struct ls *l, const json_t *msg, size_t indent)
{
	const json_t *media = json_object_get(msg, "media"), *it;
	const char *type, *ct, *code, *file;
	size_t i;

	json_array_foreach(media, i, it) {
		type = record_str(it, "type");
		ct = record_str(it, "content_type");
		printf("\n%*smedia: ", (int)indent, "");
		if ((file = media_file(it))) {
			printf("%s", type ? type : "unknown type");
			if (json_is_true(json_object_get(it, "mismatch")) && ct)
				printf(" (sent as %s)", ct);
			printf(", %lld bytes, %s/%s", (long long)
			    json_integer_value(json_object_get(it, "size")),
			    l->ib.dir, file);
			continue;
		}
		printf("%s, not fetched", ct ? ct : "unknown type");
		code = record_str(json_object_get(it, "error"), "code");
		if (code)
			printf(": %s%s", code, record_str(it, "next_try") ?
			    " (to be tried again)" : "");
		else
			printf(" yet");
	}
}

/*
 * Messages as a table: time, (the thread, with feed,) direction, status
 * (and why it failed), the agent (if any message has one) and body, an
 * outbound one's purpose before it unless it is a reply. A feed cuts each
 * body to the width; a thread shows it whole, its lines indented under the
 * first, and an error's message on a line of its own.
 */
static void
table_messages(const struct ls *l, const struct mrow *m, size_t n, int feed)
{
	char t[WHEN_BUFSZ];
	struct mline k;
	const char *s;
	size_t wt = 1, wth = 0, ws = 1, wa = 0, i, indent, room, pw;
	int agents = 0;

	for (i = 0; i < n; i++) {
		short_time(l, m[i].at, t);
		if (strlen(t) > wt)
			wt = strlen(t);
		line_of(m[i].msg, &k);
		if (width(k.status, 28) > ws)
			ws = width(k.status, 28);
		if (width(k.agent, 16) > wa)
			wa = width(k.agent, 16);
		if (*k.agent && strcmp(k.agent, "-") != 0)
			agents = 1;
		s = record_str(m[i].msg, "thread");
		if (feed && s && width(s, THREAD_MAX - 1) > wth)
			wth = width(s, THREAD_MAX - 1);
	}
	if (!agents)
		wa = 0;
	indent = wt + 2 + 1 + 2 + ws + 2 + (feed ? wth + 2 : 0) +
	    (wa ? wa + 2 : 0);
	room = l->cols > indent + 10 ? l->cols - indent : 10;
	for (i = 0; i < n; i++) {
		short_time(l, m[i].at, t);
		line_of(m[i].msg, &k);
		printf("%-*s  ", (int)wt, t);
		if (feed) {
			s = record_str(m[i].msg, "thread");
			put_cell(s ? s : "-", THREAD_MAX - 1, wth, 0);
			fputs("  ", stdout);
		}
		printf("%s  ", k.mark);
		put_cell(k.status, 28, ws, 0);
		fputs("  ", stdout);
		if (wa) {
			put_cell(k.agent, 16, wa, 0);
			fputs("  ", stdout);
		}
		s = k.body ? k.body : "";
		pw = put_channel(m[i].msg);
		pw += put_purpose(m[i].msg);
		if (feed) {
			put_cell(s, room > pw + 10 ? room - pw : 10, 0, 0);
		} else {
			put_text(s, strlen(s), indent);
			if (k.detail) {
				printf("\n%*s", (int)indent, "");
				fputs("error: ", stdout);
				put_text(k.detail, strlen(k.detail), indent);
			}
			put_media(l, m[i].msg, indent);
		}
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

/* Whether rec's body matches every --grep pattern (1 if none given). */
static int
matches(const struct ls *l, const json_t *rec)
{
	const char *body = record_str(rec, "body");
	size_t i;

	for (i = 0; i < l->ngreps; i++)
		if (!body || regexec(&l->greps[i], body, 0, NULL, 0) != 0)
			return 0;
	return 1;
}

/* Add the records of t (at or after --since, matching --grep) to *m. */
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
		if ((l->has_since && at < l->since) || !matches(l, msg))
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

/*
 * The thread of a listed conversation, or NULL: none (a row without a
 * thread, or one gone meanwhile), or one that cannot be read, which is
 * reported and sets the exit status.
 */
static json_t *
row_thread(struct ls *l, const struct row *row)
{
	struct errbuf e;
	json_t *t;
	int err;

	if (!*row->thread)
		return NULL;
	if (!(t = inbox_thread(&l->ib, row->thread, &e)) &&
	    (err = errno) != ENOENT) {
		diag_warn("%s", e.msg);
		note(l, diag_exit_for(err));
	}
	return t;
}

/* --messages: the messages of the conversations listed, oldest first. */
static void
list_messages(struct ls *l, const struct row *rows, size_t n)
{
	json_t *all = json_array(), *t;
	struct mrow *m = NULL;
	size_t nm = 0, cap = 0, i;

	if (!all)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (!(t = row_thread(l, &rows[i])))
			continue;
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
	if (c->blocked_at)
		r->status = ST_BLOCKED;
	r->waiting = time_of(c->waiting_since);
	r->last_in = time_of(c->last_in_at);
	out = time_of(c->last_out_at);
	r->last = r->last_in > out ? r->last_in : out;
	out = time_of(c->last_auto_at);
	r->quiet = r->last > out ? r->last : out;
	r->wa_in = time_of(c->whatsapp_in_at);
}

/* Whether the conversation has every --tag (its line parsed for it). */
static int
tagged(const struct ls *l, const struct inbox_conv *c)
{
	struct errbuf pe;
	json_t *conv = record_parse(c->line, c->len, &pe), *tags, *t;
	size_t i, j;
	const char *s;
	int all = conv != NULL;

	tags = json_object_get(conv, "tags");
	for (i = 0; all && i < l->ntags; i++) {
		json_array_foreach(tags, j, t)
			if ((s = json_string_value(t)) &&
			    strcmp(s, l->tags[i]) == 0)
				break;
		all = j < json_array_size(tags);
	}
	json_decref(conv);
	return all;
}

static int
wanted(const struct ls *l, const struct inbox_conv *c, const struct row *r)
{
	const char *a = c->assignee;

	if (l->status ? !(r->status & l->status) :
	    !l->all && (r->status & (ST_SNOOZED | ST_RESOLVED | ST_BLOCKED)))
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
	if (l->idle >= 0 && (r->quiet < 0 || l->now - r->quiet < l->idle))
		return 0;
	return !l->ntags || tagged(l, c);
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

/*
 * --grep: keep, in their order, the conversations of rows with a message
 * that matches, until there are --limit of them. Returns how many.
 */
static size_t
grep_rows(struct ls *l, struct row *rows, size_t n)
{
	size_t i, j, kept = 0;
	json_t *t;

	for (i = 0; i < n && (!l->limit || kept < l->limit); i++) {
		if (!(t = row_thread(l, &rows[i])))
			continue;
		for (j = 0; j < json_array_size(t) &&
		    !matches(l, json_array_get(t, j)); j++)
			;
		if (j < json_array_size(t))
			rows[kept++] = rows[i];
		json_decref(t);
	}
	return kept;
}

/*
 * Write a conversation's line; -1 once stdout has failed. One whose
 * customer wrote on WhatsApp gets the window's end and whether it is
 * open, "whatsapp_window_until" and "whatsapp_window_open", as of now.
 */
static int
put_line(const struct ls *l, const struct row *r)
{
	char t[WHEN_BUFSZ];
	time_t until = r->wa_in + INBOX_WHATSAPP_WINDOW;

	if (r->wa_in < 0 || r->len < 3 || r->line[r->len - 2] != '}')
		return ferror(stdout) || fwrite(r->line, 1, r->len, stdout) !=
		    r->len ? -1 : 0;
	when_format(until, t);
	if (fwrite(r->line, 1, r->len - 2, stdout) != r->len - 2)
		return -1;
	printf(",\"whatsapp_window_until\":\"%s\",\"whatsapp_window_open\":"
	    "%s}\n", t, until > l->now ? "true" : "false");
	return ferror(stdout) ? -1 : 0;
}

static void
list(struct ls *l)
{
	struct listing g = { .l = l };
	struct errbuf e, pe;
	size_t n, i;

	if (inbox_each(&l->ib, l->all || (l->status & (ST_RESOLVED |
	    ST_BLOCKED)), take, &g, &e) != 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	for (i = 0; i < g.n; i++) {
		g.rows[i].line = g.store.p + g.rows[i].line_at;
		g.rows[i].thread = g.store.p + g.rows[i].thread_at;
	}
	n = g.n;
	if (n)
		qsort(g.rows, n, sizeof *g.rows, by_urgency);
	if (l->ngreps && !l->messages)
		n = grep_rows(l, g.rows, n);
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
		for (i = 0; i < n && put_line(l, &g.rows[i]) == 0; i++)
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

/* The consent cell of a number: what its newest record c says, when,
 * and how ("opted out since 12-05 10:05 (STOP, message SM1)"); "-" for
 * none. */
static void
consent_line(const struct ls *l, const json_t *c)
{
	const char *st = record_str(c, "state");
	char t[WHEN_BUFSZ];
	struct buf how = { 0 };

	if (!c) {
		fputs("-", stdout);
		return;
	}
	if (st && strcmp(st, "out") == 0)
		fputs("opted out", stdout);
	else if (st && strcmp(st, "in") == 0)
		fputs("opted in", stdout);
	else
		put_text(st ? st : "-", st ? strlen(st) : 1, 0);
	if (field_time(c, "at") >= 0) {
		short_time(l, field_time(c, "at"), t);
		printf(" since %s", t);
	}
	consent_how(c, &how, 1);
	if (*how.p) {
		fputs(" (", stdout);
		put_text(how.p, strlen(how.p), 0);
		putchar(')');
	}
	buf_free(&how);
}

/* The contact's name, if the number has one (contact.h), a line. */
static void
contact_line(struct ls *l, const char *num)
{
	struct errbuf e;
	const char *name;
	json_t *c;
	int err;

	if (!(c = contact_get(&l->ib, num, &e))) {
		if ((err = errno) != ENOENT && err != EBADMSG &&
		    err != EINVAL) {
			diag_warn("%s", e.msg);
			note(l, diag_exit_for(err));
		}
		return;
	}
	if ((name = record_str(c, "name")) && *name) {
		fputs("name      ", stdout);
		put_text(name, strlen(name), 0);
		putchar('\n');
	}
	json_decref(c);
}

/*
 * The head of a thread on a table: the contact's name, if it has one;
 * the conversation's status (when a snooze ends), assignee and tags, and
 * where the number stands in the consent ledger; then an empty line.
 */
static void
thread_head(struct ls *l, const char *num, const json_t *conv)
{
	const char *st = record_str(conv, "status");
	const char *a = record_str(conv, "assignee");
	time_t until = field_time(conv, "snoozed_until");
	char t[WHEN_BUFSZ], tags[512];
	struct errbuf e;
	json_t *c;
	time_t wa;
	int err;

	printf("thread    %s\n", num);
	contact_line(l, num);
	fputs("status    ", stdout);
	if (st && strcmp(st, INBOX_SNOOZED) == 0 && until > l->now) {
		short_time(l, until, t);
		printf("snoozed until %s", t);
	} else if (st && strcmp(st, INBOX_SNOOZED) == 0 && until >= 0) {
		fputs(INBOX_OPEN, stdout);	/* the snooze ran out */
	} else {
		put_text(st ? st : "-", st ? strlen(st) : 1, 0);
	}
	fputs("\nassignee  ", stdout);
	put_text(a && *a ? a : "-", a && *a ? strlen(a) : 1, 0);
	join_tags(conv, tags, sizeof tags);
	fputs("\ntags      ", stdout);
	put_text(*tags ? tags : "-", *tags ? strlen(tags) : 1, 0);
	fputs("\nconsent   ", stdout);
	if (!(c = inbox_consent_state(&l->ib, num, &e)) &&
	    (err = errno) != ENOENT) {
		diag_warn("%s", e.msg);
		note(l, diag_exit_for(err));
	}
	consent_line(l, c);
	json_decref(c);
	if ((wa = field_time(conv, "whatsapp_in_at")) >= 0) {
		short_time(l, wa + INBOX_WHATSAPP_WINDOW, t);
		printf("\nwhatsapp  %s %s", wa + INBOX_WHATSAPP_WINDOW >
		    l->now ? "window open until" : "window closed at", t);
	}
	fputs("\n\n", stdout);
}

/* NUMBER: its thread, oldest first (the last --limit), under its head on
 * a table, then marked read if all that was unread was shown. */
/* --media NUMBER: the paths of the thread's media files, oldest first. */
static void
media_paths(struct ls *l, const char *arg)
{
	char num[THREAD_MAX];
	struct errbuf e;
	const json_t *msg, *it;
	const char *file;
	json_t *t;
	size_t i, j;
	int err;

	number_of(l, arg, num);
	if (!(t = inbox_thread(&l->ib, num, &e))) {
		if ((err = errno) != ENOENT)
			diag_die(diag_exit_for(err), "%s", e.msg);
		diag_warn("%s: no such conversation", num);
		note(l, EXIT_PARTIAL);
		return;
	}
	json_array_foreach(t, i, msg)
		json_array_foreach(json_object_get(msg, "media"), j, it)
			if ((file = media_file(it)))
				printf("%s/%s\n", l->ib.dir, file);
	json_decref(t);
}

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
	} else if (errno != ENOENT && errno != EBADMSG) {
		/* Not there, or quarantined (and said): else say why. */
		report(l, e.msg);
	}
	if (!(t = inbox_thread(&l->ib, num, &e))) {
		json_decref(c);
		if ((err = errno) != ENOENT)
			diag_die(diag_exit_for(err), "%s", e.msg);
		diag_warn("%s: no such conversation", num);
		note(l, EXIT_PARTIAL);
		return;
	}
	if (!l->json)
		thread_head(l, num, c);
	json_decref(c);
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

/*
 * The consent ledger as a table: when, the number, its state, the
 * keyword, and the rest of how it came to be.
 */
static void
table_consent(const struct ls *l, const struct mrow *m, size_t n)
{
	enum { NC = 4 };
	static const char *const head[NC] = {
		"AT", "NUMBER", "STATE", "KEYWORD",
	};
	static const size_t cap[NC] = { 16, THREAD_MAX - 1, 8, 16 };
	const char *cell[NC];
	char t[WHEN_BUFSZ];
	struct buf how = { 0 };
	size_t w[NC], i, c, used = 0, room, pass;

	if (n == 0)
		return;
	for (c = 0; c < NC; c++)
		w[c] = strlen(head[c]);
	for (c = 0; c < NC; c++)
		used += w[c] + 2;
	/* Measure, then print. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (c = 0, used = 0; c < NC; c++) {
				used += w[c] + 2;
				put_cell(head[c], cap[c], w[c], 0);
				fputs("  ", stdout);
			}
			puts("DETAILS");
		}
		room = l->cols > used + 10 ? l->cols - used : 10;
		for (i = 0; i < n; i++) {
			short_time(l, m[i].at, t);
			cell[0] = t;
			cell[1] = record_str(m[i].msg, "number");
			cell[2] = record_str(m[i].msg, "state");
			cell[3] = record_str(m[i].msg, "keyword");
			for (c = 0; c < NC; c++) {
				if (!cell[c] || !*cell[c])
					cell[c] = "-";
				if (pass == 0 && width(cell[c], cap[c]) > w[c])
					w[c] = width(cell[c], cap[c]);
				if (pass == 1) {
					put_cell(cell[c], cap[c], w[c], 0);
					fputs("  ", stdout);
				}
			}
			if (pass == 0)
				continue;
			consent_how(m[i].msg, &how, 0);
			put_cell(how.p, room, 0, 0);
			putchar('\n');
		}
	}
	buf_free(&how);
}

/*
 * --consent: the ledger, oldest first (the last --limit): each number's
 * newest record, every record with --all, or those of NUMBER.
 */
static void
list_consent(struct ls *l, const char *arg)
{
	char num[THREAD_MAX];
	struct mrow *m = NULL;
	size_t n = 0, cap = 0, skip = 0;
	struct errbuf e;
	json_t *all;

	if (arg)
		number_of(l, arg, num);
	if (!(all = inbox_consent_list(&l->ib, arg ? num : NULL,
	    !arg && !l->all, &e)))
		diag_die(diag_exit_for(errno), "%s", e.msg);
	collect(l, all, &m, &n, &cap);
	if (n)
		qsort(m, n, sizeof *m, by_time);
	if (l->limit && n > l->limit)
		skip = n - l->limit;
	if (!l->json)
		table_consent(l, m + skip, n - skip);
	else
		for (size_t i = skip; i < n && put_record(m[i].msg) == 0; i++)
			;
	free(m);
	json_decref(all);
}

/* The threads of the conversations snoozed until a time that has come. */
struct due {
	const struct ls *l;
	struct buf threads;	/* NUL-terminated, one after another */
	size_t n;
};

static int
take_due(const struct inbox_conv *c, void *arg)
{
	struct due *d = arg;
	time_t until = time_of(c->snoozed_until);

	if (!c->thread || !c->status || strcmp(c->status, INBOX_SNOOZED) ||
	    until < 0 || until > d->l->now)
		return 0;
	buf_adds(&d->threads, c->thread);
	buf_addc(&d->threads, '\0');
	d->n++;
	return d->threads.err ? -1 : 0;
}

/*
 * --woke: every conversation of the working set snoozed until a time
 * that has come is woken (inbox_wake(), under its lock: only the run
 * that wakes it prints it), and a conversation.woke event printed for
 * it: its thread, when, its agent, and until when it was snoozed.
 */
static void
wake_all(struct ls *l)
{
	struct due d = { .l = l };
	char until[WHEN_BUFSZ], at[WHEN_BUFSZ];
	struct errbuf e;
	const char *t, *a;
	json_t *after, *ev;
	size_t i;
	int rc;

	if (inbox_each(&l->ib, 0, take_due, &d, &e) != 0)
		diag_die(d.threads.err ? EXIT_IOERR : diag_exit_for(errno),
		    "%s", d.threads.err ? strerror(ENOMEM) : e.msg);
	for (i = 0, t = d.threads.p; i < d.n; i++, t += strlen(t) + 1) {
		if ((rc = inbox_wake(&l->ib, t, until, sizeof until, &after,
		    &e)) < 0) {
			diag_warn("%s", e.msg);
			note(l, diag_exit_for(errno));
			continue;
		}
		if (rc == 1) {
			json_decref(after);
			continue;	/* woken by another meanwhile */
		}
		when_format(when_now(), at);
		a = record_str(after, "assignee");
		if (!(ev = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:O}", "type",
		    "event", "event", "conversation.woke", "thread", t, "at",
		    at, "agent", a && *a ? json_string(a) : json_null(),
		    "snoozed_until", until, "conversation", after)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		if (l->json) {
			put_record(ev);
		} else {
			printf("%s woke (snoozed until %s), agent ", t, until);
			put_text(a && *a ? a : "-", a && *a ? strlen(a) : 1, 0);
			putchar('\n');
		}
		json_decref(ev);
		json_decref(after);
	}
	buf_free(&d.threads);
}

/*
 * --scheduled: the messages to send later (of NUMBER, if given), by
 * send_at, from the schedule/ index, each checked against its message
 * (a name the index keeps for one no longer scheduled is not listed):
 * their records, or a table of SEND AT, TO, KEY and BODY.
 */
static void
list_scheduled(struct ls *l, const char *arg)
{
	enum { NC = 3 };
	static const char *const head[NC] = { "SEND AT", "TO", "KEY" };
	static const size_t cap[NC] = { 16, THREAD_MAX - 1, 32 };
	char num[THREAD_MAX], t[WHEN_BUFSZ];
	struct inbox_due *v;
	struct errbuf e;
	json_t *all, *m;
	const char *cell[NC], *at;
	size_t n, i, k, c, w[NC], used, room, pass;

	if (arg)
		number_of(l, arg, num);
	if (inbox_schedule_list(&l->ib, -1, &v, &n, &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	if (!(all = json_array()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		if (arg && strcmp(v[i].thread, num) != 0)
			continue;
		if (!(m = inbox_message(&l->ib, v[i].thread, v[i].id, &e))) {
			if (errno != ENOENT && errno != EBADMSG)
				report(l, e.msg);
			continue;
		}
		/* Stale: sent, canceled or moved since it was indexed. */
		if (!inbox_is_scheduled(m) || !(at = record_str(m,
		    "send_at")) || strcmp(at, v[i].send_at) != 0) {
			json_decref(m);
			continue;
		}
		json_array_append_new(all, m);
	}
	free(v);
	n = json_array_size(all);
	if (l->limit && n > l->limit)
		n = l->limit;
	if (l->json) {
		for (i = 0; i < n && put_record(json_array_get(all, i)) == 0;
		    i++)
			;
		json_decref(all);
		return;
	}
	for (c = 0; c < NC; c++)
		w[c] = strlen(head[c]);
	/* Measure, then print. */
	for (pass = 0; pass < 2 && n; pass++) {
		used = 0;
		for (c = 0; c < NC; c++) {
			used += w[c] + 2;
			if (pass == 1) {
				put_cell(head[c], cap[c], w[c], 0);
				fputs("  ", stdout);
			}
		}
		if (pass == 1)
			puts("BODY");
		room = l->cols > used + 10 ? l->cols - used : 10;
		for (k = 0; k < n; k++) {
			m = json_array_get(all, k);
			short_time(l, field_time(m, "send_at"), t);
			cell[0] = t;
			cell[1] = record_str(m, "thread");
			cell[2] = record_str(m, "key");
			for (c = 0; c < NC; c++) {
				if (!cell[c] || !*cell[c])
					cell[c] = "-";
				if (pass == 0 && width(cell[c], cap[c]) > w[c])
					w[c] = width(cell[c], cap[c]);
				if (pass == 1) {
					put_cell(cell[c], cap[c], w[c], 0);
					fputs("  ", stdout);
				}
			}
			if (pass == 1) {
				put_cell(record_str(m, "body") ?
				    record_str(m, "body") : "", room, 0, 0);
				putchar('\n');
			}
		}
	}
	json_decref(all);
}

/* --grep PATTERN: compiled into l->greps. */
static void
add_grep(struct ls *l, const char *pat)
{
	regex_t *nr;
	char why[256];
	int rc;

	/* Bodies are UTF-8: a character, and its case, is one of UTF-8. */
	if (!l->ngreps)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (!(nr = realloc(l->greps, (l->ngreps + 1) * sizeof *nr)))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	l->greps = nr;
	if ((rc = regcomp(&l->greps[l->ngreps], pat, REG_EXTENDED |
	    REG_ICASE | REG_NOSUB)) != 0) {
		regerror(rc, &l->greps[l->ngreps], why, sizeof why);
		diag_die(EXIT_USAGE, "--grep: '%s': %s", pat, why);
	}
	l->ngreps++;
}

/* --tag TAG: added to l->tags. */
static void
add_tag(struct ls *l, const char *tag)
{
	const char **nt;

	if (!*tag)
		diag_die(EXIT_USAGE, "--tag: an empty tag");
	if (!(nt = realloc(l->tags, (l->ntags + 1) * sizeof *nt)))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	l->tags = nt;
	l->tags[l->ntags++] = tag;
}

int
main(int argc, char **argv)
{
	enum { OPT_ALL = OPT_CONSENT + 1, OPT_LIMIT, OPT_MINE, OPT_NO_MARK,
		OPT_MEDIA, OPT_IDLE, OPT_WOKE, OPT_SCHEDULED };
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "assignee", required_argument, NULL, 'a' },
		{ "consent", no_argument, NULL, OPT_CONSENT },
		{ "dir", required_argument, NULL, 'd' },
		{ "grep", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "media", no_argument, NULL, OPT_MEDIA },
		{ "messages", no_argument, NULL, 'm' },
		{ "mine", no_argument, NULL, OPT_MINE },
		{ "no-mark", no_argument, NULL, OPT_NO_MARK },
		{ "overdue", required_argument, NULL, 'o' },
		{ "scheduled", no_argument, NULL, OPT_SCHEDULED },
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "table", no_argument, NULL, 't' },
		{ "tag", required_argument, NULL, 'T' },
		{ "unread", no_argument, NULL, 'u' },
		{ "unassigned", no_argument, NULL, 'A' },
		{ "version", no_argument, NULL, 'V' },
		{ "woke", no_argument, NULL, OPT_WOKE },
		{ NULL, 0, NULL, 0 },
	};
	static char obuf[1 << 16];
	struct ls l = { .json = -1, .mark = 1, .overdue = -1, .idle = -1 };
	struct errbuf e;
	char *path;
	long long secs;
	int c, err, mine = 0;

	diag_init(argv[0]);
	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	l.now = when_now();
	while ((c = getopt_long(argc, argv, "a:Ad:g:hjmo:s:S:tT:uV",
	    longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL:
			l.all = 1;
			l.listopt = "--all";
			break;
		case 'a':
			l.assignee = optarg;
			l.listopt = l.convopt = "--assignee";
			break;
		case OPT_CONSENT:
			l.consent = 1;
			break;
		case 'A':
			l.unassigned = 1;
			l.listopt = l.convopt = "--unassigned";
			break;
		case 'd':
			l.dir = optarg;
			break;
		case 'g':
			add_grep(&l, optarg);
			l.convopt = "--grep";
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case OPT_IDLE:
			if (when_duration(optarg, &l.idle, &e) < 0)
				diag_die(EXIT_USAGE, "--idle: %s", e.msg);
			l.listopt = l.convopt = "--idle";
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
			l.listopt = l.convopt = "--messages";
			break;
		case OPT_MEDIA:
			l.media = 1;
			break;
		case OPT_MINE:
			mine = 1;
			l.listopt = l.convopt = "--mine";
			break;
		case OPT_NO_MARK:
			l.mark = 0;
			break;
		case OPT_SCHEDULED:
			l.scheduled = 1;
			break;
		case 'o':
			if (when_duration(optarg, &l.overdue, &e) < 0)
				diag_die(EXIT_USAGE, "--overdue: %s", e.msg);
			l.listopt = l.convopt = "--overdue";
			break;
		case 's':
			l.status |= parse_status(optarg);
			l.listopt = l.convopt = "--status";
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
		case 'T':
			add_tag(&l, optarg);
			l.listopt = l.convopt = "--tag";
			break;
		case 'u':
			l.unread = 1;
			l.listopt = l.convopt = "--unread";
			break;
		case 'V':
			printf("inbox-ls (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		case OPT_WOKE:
			l.woke = 1;
			break;
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
	if (l.media && (argc != 1 || l.consent || l.listopt || l.convopt))
		diag_die(EXIT_USAGE, "--media takes a NUMBER and no other "
		    "selection");
	if (l.woke && (argc || l.consent || l.media || l.listopt ||
	    l.convopt || l.has_since || l.limit || !l.mark))
		diag_die(EXIT_USAGE, "--woke takes no other selection");
	if (l.scheduled && (l.consent || l.media || l.listopt || l.convopt))
		diag_die(EXIT_USAGE, "--scheduled lists scheduled messages: it "
		    "takes NUMBER and --limit, no other selection");
	if (l.consent && l.convopt)
		diag_die(EXIT_USAGE, "%s selects conversations or messages: "
		    "not with --consent", l.convopt);
	if (argc == 1 && l.listopt && !l.consent)
		diag_die(EXIT_USAGE, "%s selects conversations: not with a "
		    "NUMBER", l.listopt);
	if (l.assignee && l.unassigned)
		diag_die(EXIT_USAGE, "--assignee and --unassigned exclude "
		    "each other");
	if (mine && (l.assignee || l.unassigned))
		diag_die(EXIT_USAGE, "--mine and %s exclude each other",
		    l.assignee ? "--assignee" : "--unassigned");
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
	if (inbox_group_check(config_pick(l.cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
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
	/* --mine: the queue of the agent at the keyboard. */
	if (mine && !(l.assignee = l.ib.agent))
		diag_die(EXIT_CONFIG, "--mine: whose? Set SMSDESK_AGENT (or "
		    "agent in the configuration)");
	if (l.woke)
		wake_all(&l);
	else if (l.scheduled)
		list_scheduled(&l, argc == 1 ? argv[0] : NULL);
	else if (l.media)
		media_paths(&l, argv[0]);
	else if (l.consent)
		list_consent(&l, argc == 1 ? argv[0] : NULL);
	else if (argc == 1)
		show_thread(&l, argv[0]);
	else
		list(&l);
	inbox_close(&l.ib);
	config_free(l.cfg);
	for (size_t i = 0; i < l.ngreps; i++)
		regfree(&l.greps[i]);
	free(l.greps);
	free(l.tags);
	return diag_close_stdout(l.ret);
}
