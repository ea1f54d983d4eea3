/*
 * inbox-mark: change the state of conversations, inbox-mark(1).
 *
 * In the spirit of mblaze's mflag: one state action (resolve, reopen,
 * pending, snooze, read, unread, assign, unassign) and any number of tags
 * to add or remove, applied to each conversation named on the command line
 * or by the "thread" of each record on stdin. Every change goes through
 * inbox_update(), under the conversation's lock, so concurrent marks never
 * lose one another's work. Each conversation that changed is announced by
 * an NDJSON event record (a short line on a terminal). What is recorded
 * by hand besides (a note, an opt-out or opt-in, a block) is hand.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "limit.h"
#include "phone.h"
#include "record.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"
#include "inbox-mark/hand.h"

#define USAGE "usage: inbox-mark [-hV] [-d DIR]\n" \
	"                  " \
	"[-A | -a NAME | -u | -x | -z UNTIL | --pending | --read |\n" \
	"                  --reopen] [-T TAG] [--untag TAG] [--block | " \
	"--unblock]\n" \
	"                  [--note TEXT] [--optin | --optout] " \
	"[--source WHERE]\n" \
	"                  [--reference REF] [--given TIME] " \
	"[--import FILE | NUMBER ...]\n"

/* The options with no short form (smsdesk(7), Options). */
enum {
	OPT_BLOCK = 256, OPT_NOTE, OPT_OPTIN, OPT_OPTOUT, OPT_SOURCE,
	OPT_UNBLOCK, OPT_PENDING, OPT_READ, OPT_REOPEN, OPT_UNTAG,
	OPT_REFERENCE, OPT_GIVEN, OPT_IMPORT,
};

/* The state actions: option, long name, event (sms-record(5)). */
static const struct action {
	int opt;
	const char *name, *event;
} actions[] = {
	{ 'A', "--unassign", "conversation.unassigned" },
	{ 'a', "--assign", "conversation.assigned" },
	{ OPT_REOPEN, "--reopen", "conversation.reopened" },
	{ OPT_PENDING, "--pending", "conversation.pending" },
	{ OPT_READ, "--read", "conversation.read" },
	{ 'z', "--snooze", "conversation.snoozed" },
	{ 'u', "--unread", "conversation.unread" },
	{ 'x', "--resolve", "conversation.resolved" },
	{ 0, NULL, NULL },
};

struct mark {
	struct inbox ib;
	const struct action *action;	/* or NULL */
	const char *assignee;		/* --assign */
	char until[WHEN_BUFSZ];		/* --snooze */
	const char **tags, **untags;
	size_t ntags, nuntags;
	const char *country;		/* for national NUMBERs */
	struct hand hand;		/* --note, --optout, --block, ... */
	int json;
	int out_errno;			/* why writing stdout failed */
	int ret;
};

/* What one update changed, for its event. */
struct change {
	const struct mark *m;
	int state, tagged, untagged;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -A, --unassign         assign to nobody\n"
		    "  -a, --assign NAME      assign to NAME\n"
		    "      --block            block the sender: its texts are "
		    "kept, out of the\n"
		    "                         queue, never answered; nothing is "
		    "sent to it\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "      --given TIME       when the opt-out or opt-in was "
		    "given, if earlier\n"
		    "  -h, --help             print this help and exit\n"
		    "      --import FILE      with --optin or --optout: the "
		    "numbers of FILE, one\n"
		    "                         a line, each with FILE:LINE as "
		    "its reference\n"
		    "      --note TEXT        add an internal note (never sent; "
		    "- reads it from\n"
		    "                         stdin); with --optout, --optin, "
		    "--block or\n"
		    "                         --unblock, the reason kept with "
		    "that instead\n"
		    "      --optin            record an opt-in taken by hand\n"
		    "      --optout           record an opt-out taken by hand "
		    "(by phone, ...)\n"
		    "      --pending          set the status to pending\n"
		    "      --read             mark every message read\n"
		    "      --reference REF    the evidence of the opt-out or "
		    "opt-in (a form, a URL)\n"
		    "      --reopen           set the status to open\n"
		    "      --source WHERE     where the opt-out or opt-in was "
		    "taken (phone, ...)\n"
		    "  -T, --tag TAG          add TAG (may be repeated)\n"
		    "      --unblock          unblock the sender\n"
		    "      --untag TAG        remove TAG (may be repeated)\n"
		    "  -u, --unread           mark the conversation unread\n"
		    "  -V, --version          print the version and exit\n"
		    "  -x, --resolve          set the status to resolved\n"
		    "  -z, --snooze UNTIL     snooze until a time or for a "
		    "duration (2h, 1d)\n"
		    "\nWith no NUMBER, acts on the \"thread\" of each record "
		    "on stdin.\n", fp);
	exit(code);
}

static void
note(struct mark *m, int code)
{
	if (code > m->ret)
		m->ret = code;
}

static void
report(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	note(arg, EXIT_PARTIAL);
}

/*
 * A tag or a name: not empty, UTF-8 (it goes into JSON), at most max
 * bytes (limit.h; 0: any length, for a tag to remove).
 */
static const char *
word(const char *opt, const char *arg, size_t max)
{
	struct errbuf e;

	if (!*arg || utf8_valid_prefix(arg, strlen(arg)) != strlen(arg))
		diag_die(EXIT_USAGE, "%s: '%s' is not a name", opt, arg);
	if (max && limit_text(opt, strlen(arg), max, &e) < 0)
		diag_die(EXIT_USAGE, "%s", e.msg);
	return arg;
}

static void
add_word(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof **v);

	if (!nv)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	nv[(*n)++] = s;
	*v = nv;
}

/* UNTIL: a duration from now, or a time; it must be in the future. */
static void
parse_until(struct mark *m, const char *arg, time_t now)
{
	struct errbuf e;
	long long secs;
	time_t t;

	if (when_duration(arg, &secs, NULL) == 0)
		t = secs > LIMIT_SNOOZE ? now + LIMIT_SNOOZE + 1 :
		    now + (time_t)secs;
	else if (when_parse(arg, &t, &e) < 0)
		diag_die(EXIT_USAGE, "--snooze: '%s': %s", arg, e.msg);
	if (t <= now)
		diag_die(EXIT_USAGE, "--snooze: '%s' is not in the future",
		    arg);
	if (t - now > LIMIT_SNOOZE)
		diag_die(EXIT_USAGE, "--snooze: '%s' is more than %d days "
		    "ahead", arg, LIMIT_SNOOZE_DAYS);
	when_format(t, m->until);
}

static int
set(json_t *conv, const char *key, json_t *v, struct errbuf *e)
{
	if (!v || json_object_set_new(conv, key, v) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/* Set the status; 1 if that changed anything, -1 on failure. */
static int
set_status(json_t *conv, const char *status, const char *until,
    struct errbuf *e)
{
	const char *old = record_str(conv, "status");
	const char *was = record_str(conv, "snoozed_until");
	int changed = 0;

	if (!old || strcmp(old, status) != 0) {
		if (set(conv, "status", json_string(status), e) < 0)
			return -1;
		changed = 1;
	}
	if (until && (!was || strcmp(was, until) != 0)) {
		if (set(conv, "snoozed_until", json_string(until), e) < 0)
			return -1;
		changed = 1;
	} else if (!until && json_object_get(conv, "snoozed_until")) {
		json_object_del(conv, "snoozed_until");
		changed |= was != NULL;
	}
	return changed;
}

/* Now, as an RFC 3339 time. */
static const char *
now_str(void)
{
	static char now[WHEN_BUFSZ];

	when_format(when_now(), now);
	return now;
}

/* The state action; 1 if it changed anything, -1 on failure. */
static int
apply_action(const struct mark *m, json_t *conv, struct errbuf *e)
{
	json_int_t unread = json_integer_value(json_object_get(conv,
	    "unread"));
	const char *a = record_str(conv, "assignee");
	int rc;

	switch (m->action->opt) {
	case 'A':
		if (!json_object_get(conv, "assignee") ||
		    json_is_null(json_object_get(conv, "assignee")))
			return 0;
		return set(conv, "assignee", json_null(), e) < 0 ? -1 : 1;
	case 'a':
		if (a && strcmp(a, m->assignee) == 0)
			return 0;
		return set(conv, "assignee", json_string(m->assignee), e) < 0 ?
		    -1 : 1;
	case OPT_REOPEN:
		if ((rc = set_status(conv, INBOX_OPEN, NULL, e)) != 1 ||
		    json_is_string(json_object_get(conv, "opened_at")))
			return rc;
		/* A conversation that never was work (our messages only, or
		 * keywords) begins an episode now, so that a reply is its
		 * first response (smsdesk-inbox(5)). */
		return set(conv, "opened_at", json_string(now_str()), e) < 0 ?
		    -1 : 1;
	case OPT_PENDING:
		return set_status(conv, INBOX_PENDING, NULL, e);
	case OPT_READ:
		if (unread == 0)
			return 0;
		return set(conv, "unread", json_integer(0), e) < 0 ? -1 : 1;
	case 'z':
		return set_status(conv, INBOX_SNOOZED, m->until, e);
	case 'u':
		if (unread >= 1)
			return 0;
		return set(conv, "unread", json_integer(1), e) < 0 ? -1 : 1;
	default:
		/* Nobody waits for a reply any more; a new text from the
		 * customer starts the SLA clock afresh. */
		if ((rc = set_status(conv, INBOX_RESOLVED, NULL, e)) < 0)
			return -1;
		if (!json_is_string(json_object_get(conv, "waiting_since")))
			return rc;
		return set(conv, "waiting_since", json_null(), e) < 0 ? -1 : 1;
	}
}

/* The index of tag in tags, or -1. */
static long
find_tag(const json_t *tags, const char *tag)
{
	const json_t *t;
	size_t i;

	json_array_foreach(tags, i, t)
		if (json_is_string(t) && json_string_length(t) ==
		    strlen(tag) && strcmp(json_string_value(t), tag) == 0)
			return (long)i;
	return -1;
}

/* The inbox_update() callback: the action, then the tags. */
static int
edit(json_t *conv, void *arg, struct errbuf *e)
{
	struct change *ch = arg;
	const struct mark *m = ch->m;
	json_t *tags = json_object_get(conv, "tags");
	size_t i;
	long at;

	if (m->action && (ch->state = apply_action(m, conv, e)) < 0)
		return -1;
	if ((m->ntags || m->nuntags) && !json_is_array(tags)) {
		if (set(conv, "tags", json_array(), e) < 0)
			return -1;
		tags = json_object_get(conv, "tags");
	}
	for (i = 0; i < m->ntags; i++) {
		if (find_tag(tags, m->tags[i]) >= 0)
			continue;
		if (json_array_append_new(tags, json_string(m->tags[i])) < 0)
			return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
		ch->tagged = 1;
	}
	for (i = 0; i < m->nuntags; i++)
		while ((at = find_tag(tags, m->untags[i])) >= 0) {
			json_array_remove(tags, (size_t)at);
			ch->untagged = 1;
		}
	return ch->state || ch->tagged || ch->untagged ? 0 : 1;
}

/* Announce a change: an event record, or a line on a terminal. */
static void
announce(struct mark *m, const struct change *ch, json_t *after)
{
	const char *ev = ch->state ? m->action->event :
	    ch->tagged ? "conversation.tagged" : "conversation.untagged";
	const char *thread = record_str(after, "thread");
	char now[WHEN_BUFSZ];
	json_t *rec;

	if (!m->json) {
		const char *sep = " ";
		size_t i;

		printf("%s:", thread ? thread : "?");
		if (ch->state && m->action->opt == 'a')
			printf(" assigned to %s", m->assignee);
		else if (ch->state && m->action->opt == 'z')
			printf(" snoozed until %s", m->until);
		else if (ch->state)
			printf(" %s", ev + sizeof "conversation." - 1);
		if (ch->state)
			sep = ", ";
		if (ch->tagged) {
			printf("%stagged", sep);
			for (i = 0; i < m->ntags; i++)
				printf(" %s", m->tags[i]);
			sep = ", ";
		}
		if (ch->untagged) {
			printf("%suntagged", sep);
			for (i = 0; i < m->nuntags; i++)
				printf(" %s", m->untags[i]);
		}
		putchar('\n');
		return;
	}
	when_format(when_now(), now);
	rec = json_pack("{s:s,s:s,s:s?,s:s,s:O}", "type", "event", "event", ev,
	    "thread", thread, "at", now, "conversation", after);
	if (!rec)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	/* The inbox has changed either way: a failed write is reported at
	 * the end, and the changes go on. */
	if (!ferror(stdout) && record_write(stdout, rec) < 0)
		m->out_errno = errno;
	json_decref(rec);
}

/* Apply the marks to one conversation; where names it in messages. */
static void
one(struct mark *m, const char *where, const char *number,
    const char *country)
{
	struct change ch = { .m = m };
	char num[THREAD_MAX];
	struct errbuf e;
	json_t *conv, *after;
	int rc, err;

	if (thread_parse(number, country, num, &e) < 0) {
		diag_warn("%s: %s", where, e.msg);
		note(m, EXIT_PARTIAL);
		return;
	}
	/* An opt-out or a block needs no conversation. */
	if ((rc = hand_ledgers(&m->hand, &m->ib, num)) != 0) {
		note(m, rc);
		return;
	}
	if (!m->action && !m->ntags && !m->nuntags &&
	    !hand_internal_note(&m->hand) && (m->hand.consent ||
	    m->hand.block))
		return;
	/* Marks change conversations; they never start one. */
	if (!(conv = inbox_conversation(&m->ib, num, &e))) {
		err = errno;
		if (err == ENOENT)
			diag_warn("%s: no such conversation", num);
		else if (err != EBADMSG)	/* reported already */
			diag_warn("%s", e.msg);
		note(m, err == ENOENT || err == EBADMSG ? EXIT_PARTIAL :
		    diag_exit_for(err));
		return;
	}
	json_decref(conv);
	if (hand_internal_note(&m->hand) &&
	    (rc = hand_note(&m->hand, &m->ib, num)) != 0) {
		note(m, rc);
		return;
	}
	if (!m->action && !m->ntags && !m->nuntags)
		return;
	rc = inbox_update(&m->ib, num, edit, &ch, &after, &e);
	if (rc < 0) {
		/* EINVAL: the change would break a limit; nothing changed. */
		err = errno;
		if (err == EINVAL)
			diag_warn("%s: %s: not changed", num, e.msg);
		else
			diag_warn("%s", e.msg);
		note(m, err == EINVAL ? EXIT_PARTIAL : diag_exit_for(err));
		return;
	}
	if (rc == 0)
		announce(m, &ch, after);
	json_decref(after);
}

/*
 * The configuration (of the inbox at dir, inbox_path()): it names the
 * group trusted with the inbox, the agent, and the default country.
 */
static struct config *
load_config(const char *dir)
{
	struct config *cfg;
	struct errbuf e;
	char *path = inbox_path(dir);

	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(cfg, path, &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	return cfg;
}

/* The E.164 default country: SMSDESK_COUNTRY, else the config's. */
static void
load_country(struct mark *m, const struct config *cfg)
{
	m->country = config_pick(cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (m->country && *m->country && !phone_region_code(m->country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", m->country);
}

/*
 * The NUMBERs of the command line, all of them before any is acted on: one
 * that is no thread is a usage error, and nothing is changed.
 */
static void
check_numbers(struct mark *m, const struct config *cfg, char **v, size_t n)
{
	char num[THREAD_MAX];
	struct errbuf e;
	size_t i;

	load_country(m, cfg);
	for (i = 0; i < n; i++)
		if (thread_parse(v[i], m->country, num, &e) < 0)
			diag_die(EXIT_USAGE, "%s: %s (nothing was changed)",
			    v[i], e.msg);
}

/*
 * Records on stdin: the thread of each, wherever it keeps it
 * (record_thread()), E.164 already; a record without one is reported, and
 * the rest go on.
 */
static void
from_records(struct mark *m)
{
	struct record_reader rr;
	struct errbuf e;
	char where[64];
	json_t *rec;
	const char *thread;
	int rc;

	record_reader_init(&rr, stdin, "stdin");
	while ((rc = record_read(&rr, &rec, &e)) != 0) {
		if (rc < 0) {
			diag_warn("%s", e.msg);
			if (ferror(stdin)) {
				note(m, EXIT_IOERR);
				break;
			}
			note(m, EXIT_PARTIAL);
			continue;
		}
		snprintf(where, sizeof where, "stdin:%lu", rr.lineno);
		if (record_thread(rec, &thread, &e) < 0) {
			diag_warn("%s: %s", where, e.msg);
			note(m, EXIT_PARTIAL);
		} else if (!thread) {
			diag_warn("%s: no thread in this record: nothing "
			    "to mark", where);
			note(m, EXIT_PARTIAL);
		} else {
			one(m, where, thread, NULL);
		}
		json_decref(rec);
	}
	record_reader_free(&rr);
}

/*
 * --import FILE: the first field of each line of FILE (up to a comma or
 * a tab, blanks around it dropped; "-" is stdin) is a NUMBER, recorded
 * with FILE:LINE as its reference. Blank lines and those beginning with
 * "#" are skipped; a line whose field is no number is reported and the
 * rest go on.
 */
static void
from_import(struct mark *m, const char *file)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char where[PATH_MAX + 32], *line = NULL, *p, *e;
	size_t cap = 0, n = 0;
	ssize_t len;

	if (!fp)
		diag_die(diag_exit_for(errno), "%s: %s", file,
		    strerror(errno));
	while ((len = getline(&line, &cap, fp)) >= 0) {
		n++;
		if ((size_t)len != strlen(line)) {
			diag_warn("%s:%zu: a NUL byte: not a number", file, n);
			note(m, EXIT_PARTIAL);
			continue;
		}
		p = line + strspn(line, " \t");
		e = p + strcspn(p, ",\t\r\n");
		while (e > p && e[-1] == ' ')
			e--;
		*e = '\0';
		if (!*p || *p == '#')
			continue;
		snprintf(where, sizeof where, "%s:%zu", file, n);
		m->hand.reference = where;
		one(m, where, p, m->country);
	}
	if (ferror(fp))
		diag_die(diag_exit_for(errno), "%s: %s", file,
		    strerror(errno));
	m->hand.reference = NULL;
	free(line);
	if (fp != stdin)
		fclose(fp);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "unassign", no_argument, NULL, 'A' },
		{ "assign", required_argument, NULL, 'a' },
		{ "block", no_argument, NULL, OPT_BLOCK },
		{ "dir", required_argument, NULL, 'd' },
		{ "given", required_argument, NULL, OPT_GIVEN },
		{ "help", no_argument, NULL, 'h' },
		{ "import", required_argument, NULL, OPT_IMPORT },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "reopen", no_argument, NULL, OPT_REOPEN },
		{ "optin", no_argument, NULL, OPT_OPTIN },
		{ "optout", no_argument, NULL, OPT_OPTOUT },
		{ "pending", no_argument, NULL, OPT_PENDING },
		{ "read", no_argument, NULL, OPT_READ },
		{ "reference", required_argument, NULL, OPT_REFERENCE },
		{ "snooze", required_argument, NULL, 'z' },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "untag", required_argument, NULL, OPT_UNTAG },
		{ "tag", required_argument, NULL, 'T' },
		{ "unblock", no_argument, NULL, OPT_UNBLOCK },
		{ "unread", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "resolve", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct mark m = { .json = -1 };
	const struct action *act;
	const char *dir = NULL, *import = NULL;
	struct config *cfg = NULL;
	struct errbuf e;
	time_t now = when_now();
	size_t i, j;
	int c, err;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "Aa:d:hT:uVxz:", longopts,
	    NULL)) != -1) {
		for (act = actions; act->opt && act->opt != c; act++)
			;
		if (act->opt) {
			if (m.action && m.action != act)
				diag_die(EXIT_USAGE, "%s and %s exclude each "
				    "other", m.action->name, act->name);
			m.action = act;
		}
		switch (c) {
		case 'a':
			m.assignee = word("--assign", optarg, LIMIT_NAME);
			break;
		case OPT_BLOCK:
		case OPT_UNBLOCK:
			if (m.hand.block && m.hand.block != (c == OPT_BLOCK ?
			    'b' : 'u'))
				diag_die(EXIT_USAGE, "--block and --unblock "
				    "exclude each other");
			m.hand.block = c == OPT_BLOCK ? 'b' : 'u';
			break;
		case OPT_NOTE:
			if (m.hand.note)
				diag_die(EXIT_USAGE, "--note: one at a time");
			m.hand.note = optarg;
			break;
		case OPT_OPTIN:
		case OPT_OPTOUT:
			if (m.hand.consent && m.hand.consent != (c ==
			    OPT_OPTOUT ? 'o' : 'i'))
				diag_die(EXIT_USAGE, "--optout and --optin "
				    "exclude each other");
			m.hand.consent = c == OPT_OPTOUT ? 'o' : 'i';
			break;
		case OPT_SOURCE:
			m.hand.source = optarg;
			break;
		case OPT_REFERENCE:
			m.hand.reference = optarg;
			break;
		case OPT_GIVEN:
			if (when_parse(optarg, &m.hand.given, &e) < 0)
				diag_die(EXIT_USAGE, "--given: '%s': %s",
				    optarg, e.msg);
			if (m.hand.given > now)
				diag_die(EXIT_USAGE, "--given: '%s' is in the "
				    "future", optarg);
			break;
		case OPT_IMPORT:
			import = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'z':
			parse_until(&m, optarg, now);
			break;
		case OPT_UNTAG:
			add_word(&m.untags, &m.nuntags,
			    word("--untag", optarg, 0));
			break;
		case 'T':
			add_word(&m.tags, &m.ntags, word("--tag", optarg,
			    LIMIT_TAG));
			break;
		case 'V':
			printf("inbox-mark (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		case 'A':
		case OPT_PENDING:
		case OPT_READ:
		case OPT_REOPEN:
		case 'u':
		case 'x':
			break;
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (m.ntags > LIMIT_TAGS)
		diag_die(EXIT_USAGE, "--tag: %zu tags, more than a "
		    "conversation may have (%d)", m.ntags, LIMIT_TAGS);
	for (i = 0; i < m.ntags; i++)
		for (j = 0; j < m.nuntags; j++)
			if (strcmp(m.tags[i], m.untags[j]) == 0)
				diag_die(EXIT_USAGE, "--tag %s and --untag %s "
				    "exclude each other", m.tags[i],
				    m.untags[j]);
	if (import && !m.hand.consent)
		diag_die(EXIT_USAGE, "--import goes with --optin or --optout");
	if (import && (argc > 0 || m.action || m.ntags || m.nuntags ||
	    m.hand.block || m.hand.reference))
		diag_die(EXIT_USAGE, "--import records consent only: no "
		    "NUMBER, mark or --reference with it (each number's "
		    "reference is FILE:LINE)");
	if (import && strcmp(import, "-") == 0 && m.hand.note &&
	    strcmp(m.hand.note, "-") == 0)
		diag_die(EXIT_USAGE, "--import - and --note - both read stdin");
	if (import && !m.hand.source)
		m.hand.source = "import";
	/* Read from stdin (--note -) before anything is changed. */
	hand_check(&m.hand, argc > 0 || import);
	if (m.json < 0)
		m.json = !isatty(STDOUT_FILENO);
	m.hand.json = m.json;
	if (m.json && setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));

	cfg = load_config(dir);
	/* Every NUMBER is checked before anything is changed. */
	if (argc > 0)
		check_numbers(&m, cfg, argv, (size_t)argc);
	else if (import)
		load_country(&m, cfg);
	if (inbox_group_check(config_pick(cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (inbox_open_group(&m.ib, dir, 0, config_pick(cfg, NULL, NULL,
	    "group", NULL), &e) < 0) {
		err = errno;
		inbox_close(&m.ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	m.ib.report = report;
	m.ib.report_arg = &m;
	/* Who makes the change, recorded with it ("by"). */
	m.ib.agent = config_pick(cfg, NULL, "SMSDESK_AGENT", "agent", NULL);
	if (m.ib.agent && !*m.ib.agent)
		m.ib.agent = NULL;
	/* It goes into notes and consent records: as sms-send takes it. */
	if (m.ib.agent && limit_text("agent", strlen(m.ib.agent), LIMIT_NAME,
	    &e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_AGENT or agent: %s", e.msg);
	/* A listener's deliveries that a crash left in its journal first. */
	if (inbox_recover(&m.ib, NULL, &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	if (import) {
		from_import(&m, import);
	} else if (argc > 0) {
		for (i = 0; i < (size_t)argc; i++)
			one(&m, argv[i], argv[i], m.country);
	} else {
		diag_stdin_note("records (NDJSON)");
		from_records(&m);
	}
	config_free(cfg);
	free(m.tags);
	free(m.untags);
	hand_free(&m.hand);
	inbox_close(&m.ib);
	if (!m.out_errno)
		m.out_errno = m.hand.out_errno;
	if (m.out_errno)
		errno = m.out_errno;
	return diag_close_stdout(m.ret);
}
