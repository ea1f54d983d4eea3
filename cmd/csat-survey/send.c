/*
 * send.c: csat-survey send and collect (csat-survey(1)).
 *
 * send: the conversations resolved within --max-age are found in the
 * "resolved" events of history/ (smsdesk-inbox(5), History), reading only
 * the days since then, however long the inbox's past; each one's last
 * resolution is the one surveyed, unless something says not to (a
 * "skipped" record says which: the reasons below, checked in their
 * order). A survey goes through the one sending path (lib/send.h) as a
 * notification under the key "csat-THREAD-RESOLVEDAT", so that a rerun,
 * or a second cron job, sends none twice; the message carries its
 * "survey", and storing it opens the survey on the conversation
 * (smsdesk-inbox(5), Surveys). A survey that quiet hours hold back is
 * deferred and not stored, so it stays due: a later run within --max-age
 * sends it. With "-", the conversations are those of the records on
 * stdin, their resolutions still read from the history.
 *
 * collect: a reply is taken as a score when it is delivered, by the inbox
 * itself; collect applies the same rule (inbox_survey_answer()) to the
 * replies already stored to a survey still open (a backlog, an import, a
 * reply stored before the survey's fields were read). With --thank,
 * every answer of the window gets one thank-you, key
 * "csat-thanks-SURVEYID".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "record.h"
#include "score.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"
#include "send.h"
#include "csat-survey/csat-survey.h"
#include "csat-survey/run.h"

#define QUESTION "How did we do? Reply 1 (poor) to 5 (great)."

#define SEND_USAGE "usage: csat-survey send [-jnt] [-d DIR] [-Q[MODE]] " \
	"[--cooldown DUR]\n" \
	"                        [--max-age DUR] [--question TEXT] " \
	"[--scale SCALE]\n" \
	"                        [--window DUR] [-]\n"
#define COLLECT_USAGE "usage: csat-survey collect [-jt] [-d DIR] " \
	"[--thank TEXT] [--window DUR]\n"

/* What a survey is, from the options over the configuration. */
struct survey {
	const char *question, *scale;
	long long cooldown, max_age, window;
	json_t *resolved;	/* thread: its last "resolved" event */
	struct worker w;
};

static void
send_usage(FILE *fp, int code)
{
	fputs(SEND_USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --cooldown DUR     no survey to a customer surveyed "
		    "within DUR (7d)\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON records (default when "
		    "not on a terminal)\n"
		    "      --max-age DUR      survey resolutions of the last "
		    "DUR (24h)\n"
		    "  -n, --dry-run          print what would be sent; send "
		    "nothing\n"
		    "  -Q, --quiet-hours[=MODE]  none in the customer's quiet "
		    "hours: defer\n"
		    "                         (default), refuse or off\n"
		    "      --question TEXT    the survey's text\n"
		    "      --scale SCALE      1-5 (default), 0-10 or 1-3\n"
		    "  -t, --table            a line a conversation\n"
		    "      --window DUR       answers count for DUR after the "
		    "survey (72h)\n"
		    "\nWith -, the conversations are the records on stdin "
		    "(inbox-ls --status resolved).\n", fp);
	if (code == 0)
		code = diag_close_stdout(0);
	exit(code);
}

static void
collect_usage(FILE *fp, int code)
{
	fputs(COLLECT_USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON records (default when "
		    "not on a terminal)\n"
		    "  -t, --table            a line a record\n"
		    "      --thank TEXT       a thank-you to every answer of "
		    "the window, once\n"
		    "      --window DUR       surveys of the last DUR (72h)\n",
		    fp);
	if (code == 0)
		code = diag_close_stdout(0);
	exit(code);
}

/* A text of an option or the configuration: not empty, UTF-8. */
static const char *
text(const char *opt, const char *key, const char *arg)
{
	size_t n = strlen(arg);

	if (*arg && utf8_valid_prefix(arg, n) == n)
		return arg;
	if (opt)
		diag_die(EXIT_USAGE, "%s: %s", opt, *arg ? "not UTF-8" :
		    "empty");
	diag_die(EXIT_CONFIG, "config: %s: %s", key, *arg ? "not UTF-8" :
	    "empty");
}

/* --scale, or csat_scale (opt NULL): 1-5, 0-10 or 1-3. */
static const char *
scale(const char *opt, const char *arg)
{
	enum score_scale sc;

	if (score_scale_parse(arg, &sc) == 0)
		return score_scale_name(sc);
	if (opt)
		diag_die(EXIT_USAGE, "%s: '%s' is not 1-5, 0-10 or 1-3", opt,
		    arg);
	diag_die(EXIT_CONFIG, "config: csat_scale: '%s' is not 1-5, 0-10 or "
	    "1-3", arg);
}

/* --- send ---------------------------------------------------------------- */

static const char *const resolved[] = { "resolved", NULL };
static const char *const surveys[] = { "surveyed", "answered", NULL };

/* A "resolved" event: the thread's last one so far, in sv->resolved. */
static int
on_resolved(struct csat *c, const json_t *ev, void *arg)
{
	struct survey *sv = arg;
	const char *thread = record_str(ev, "thread");
	const char *kind = record_str(ev, "event");

	(void)c;
	if (!kind || strcmp(kind, "resolved") != 0 || !thread ||
	    !record_str(ev, "at"))
		return 0;
	/* Moved to the end: the map is in the order of last resolution. */
	json_object_del(sv->resolved, thread);
	if (json_object_set(sv->resolved, thread, (json_t *)ev) < 0)
		send_nomem();
	return 0;
}

/*
 * Why the resolution ev (NULL: none within --max-age) of thread's
 * conversation conv gets no survey, or NULL if it gets one; "" if that
 * could not be told (said on stderr). key: the survey's.
 */
static const char *
why_not(struct csat *c, struct survey *sv, const char *thread,
    const json_t *conv, const json_t *ev, const char *key)
{
	const char *st = record_str(conv, "status");
	const char *at = record_str(ev, "at"), *reason;
	const char *last = record_str(conv, "surveyed_at");
	time_t t, r;
	int rc;

	/* A sender's thread (a short code, a name) is never texted. */
	if (!thread_is_number(thread))
		return "no_number";
	if (!ev)
		return st && strcmp(st, INBOX_RESOLVED) == 0 ? "too_old" :
		    "reopened";
	if (when_parse(at, &t, NULL) < 0 || c->now - t > sv->max_age)
		return "too_old";
	/* Reopened since; or resolved again (the history cut short). */
	if (!st || strcmp(st, INBOX_RESOLVED) != 0 || (record_str(conv,
	    "resolved_at") && (when_parse(record_str(conv, "resolved_at"),
	    &r, NULL) < 0 || r > t)))
		return "reopened";
	if ((rc = inbox_known_id(&c->s.ib, "key", key)) > 0)
		return "surveyed";
	if (rc < 0) {
		diag_warn("%s: the ledger of keys: %s", thread,
		    strerror(errno));
		csat_note(c, EXIT_PARTIAL);
		return "";
	}
	if (!record_str(ev, "opened_at"))
		return "no_episode";
	if ((reason = csat_may_text(c, thread, conv)))
		return reason;
	if (last && when_parse(last, &t, NULL) == 0 &&
	    c->now - t < sv->cooldown)
		return "cooldown";
	return NULL;
}

/* thread's last resolution within --max-age (ev, or NULL), surveyed. */
static void
consider(struct csat *c, struct survey *sv, const char *thread,
    const json_t *ev)
{
	const char *at = record_str(ev, "at"), *reason;
	const json_t *agent = json_object_get(ev, "agent");
	char key[160], until[WHEN_BUFSZ];
	struct errbuf e;
	json_t *conv, *rec;

	if (!(conv = inbox_conversation(&c->s.ib, thread, &e))) {
		diag_warn("%s: %s", thread, errno == ENOENT ?
		    "no conversation" : e.msg);
		csat_note(c, EXIT_PARTIAL);
		return;
	}
	snprintf(key, sizeof key, "csat-%s-%s", thread, at ? at : "");
	if ((reason = why_not(c, sv, thread, conv, ev, key))) {
		if (*reason)
			csat_skipped(c, thread, ev, reason);
		json_decref(conv);
		return;
	}
	json_decref(conv);
	when_format(c->now + sv->window, until);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:O,s:s}}", "thread",
	    thread, "body", sv->question, "key", key, "purpose",
	    INBOX_NOTIFICATION, "survey", "scale", sv->scale, "until", until,
	    "agent", agent ? agent : json_null(), "resolved_at", at);
	if (!rec)
		send_nomem();
	send_one(&sv->w, rec, thread);
}

/* The conversations of the records on stdin, each considered. */
static void
from_stdin(struct csat *c, struct survey *sv)
{
	struct record_reader rr;
	const char *thread;
	struct errbuf e;
	json_t *rec;
	int rc;

	diag_stdin_note("conversations (NDJSON)");
	record_reader_init(&rr, stdin, "stdin");
	while ((rc = record_read(&rr, &rec, &e)) != 0) {
		if (rc < 0) {
			diag_warn("%s", e.msg);
			csat_note(c, ferror(stdin) ? EXIT_IOERR : EXIT_PARTIAL);
			if (ferror(stdin))
				break;
			continue;
		}
		if ((rc = record_thread(rec, &thread, &e)) <= 0) {
			diag_warn("stdin:%lu: %s", rr.lineno, rc < 0 ? e.msg :
			    "no thread in this record");
			csat_note(c, EXIT_PARTIAL);
		} else {
			consider(c, sv, thread, json_object_get(sv->resolved,
			    thread));
		}
		json_decref(rec);
	}
	record_reader_free(&rr);
}

int
survey_send(int argc, char **argv)
{
	enum { OPT_COOLDOWN = 256, OPT_MAX_AGE, OPT_QUESTION, OPT_SCALE,
		OPT_WINDOW };
	static const struct option longopts[] = {
		{ "cooldown", required_argument, NULL, OPT_COOLDOWN },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet-hours", optional_argument, NULL, 'Q' },
		{ "question", required_argument, NULL, OPT_QUESTION },
		{ "scale", required_argument, NULL, OPT_SCALE },
		{ "table", no_argument, NULL, 't' },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ NULL, 0, NULL, 0 },
	};
	const char *cooldown = NULL, *max_age = NULL, *window = NULL;
	const char *quiet = NULL, *question = NULL, *sc = NULL, *k;
	struct survey sv = { 0 };
	struct csat c;
	struct errbuf e;
	json_t *ev;
	int ch;

	csat_init(&c);
	while ((ch = getopt_long(argc, argv, "d:hjnQ::t", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_COOLDOWN:
			csat_duration("--cooldown", NULL, optarg, 0);
			cooldown = optarg;
			break;
		case 'd':
			c.dir = optarg;
			break;
		case 'h':
			send_usage(stdout, 0);
			break;
		case 'j':
		case 't':
			c.json = ch == 'j';
			break;
		case OPT_MAX_AGE:
			csat_duration("--max-age", NULL, optarg, 1);
			max_age = optarg;
			break;
		case 'n':
			c.s.dry_run = 1;
			break;
		case 'Q':
			quiet = optarg ? optarg : "defer";
			if (send_quiet_mode(quiet) < 0)
				diag_die(EXIT_USAGE, "--quiet-hours: '%s' is "
				    "not defer, refuse or off", quiet);
			break;
		case OPT_QUESTION:
			question = text("--question", NULL, optarg);
			break;
		case OPT_SCALE:
			sc = scale("--scale", optarg);
			break;
		case OPT_WINDOW:
			csat_duration("--window", NULL, optarg, 1);
			window = optarg;
			break;
		default:
			send_usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "-") != 0))
		send_usage(stderr, EXIT_USAGE);

	csat_setup(&c, 1, quiet);
	/* The options (checked already), else the configuration's keys. */
	sv.question = question ? question : text(NULL, "csat_question",
	    config_pick(c.cfg, NULL, NULL, "csat_question", QUESTION));
	sv.scale = sc ? sc : scale(NULL,
	    config_pick(c.cfg, NULL, NULL, "csat_scale", "1-5"));
	sv.cooldown = csat_duration(cooldown ? "--cooldown" : NULL,
	    "csat_cooldown",
	    config_pick(c.cfg, cooldown, NULL, "csat_cooldown", "7d"), 0);
	sv.max_age = csat_duration(max_age ? "--max-age" : NULL,
	    "csat_max_age",
	    config_pick(c.cfg, max_age, NULL, "csat_max_age", "24h"), 1);
	sv.window = csat_duration(window ? "--window" : NULL, "csat_window",
	    config_pick(c.cfg, window, NULL, "csat_window", "72h"), 1);
	if (!(sv.resolved = json_object()))
		send_nomem();
	if (csat_history(&c, c.now - sv.max_age, resolved, on_resolved, &sv,
	    &e) < 0)
		diag_die(EXIT_IOERR, "%s", e.msg);
	worker_init(&sv.w, &c.s, 1, W_CURL | W_GSM);
	if (argc == 1)
		from_stdin(&c, &sv);
	else
		json_object_foreach(sv.resolved, k, ev) {
			if (send_stopped(&c.s))
				break;
			consider(&c, &sv, k, ev);
		}
	worker_free(&sv.w);
	json_decref(sv.resolved);
	return csat_end(&c);
}

/* --- collect ------------------------------------------------------------- */

struct collect {
	const char *thank;
	long long window;
	json_t *surveyed;	/* survey id: its "surveyed" event */
	json_t *answered;	/* survey id: its last "answered" event */
};

static int
on_survey_event(struct csat *c, const json_t *ev, void *arg)
{
	struct collect *k = arg;
	const char *kind = record_str(ev, "event");
	const char *id = record_str(ev, "survey");

	(void)c;
	if (!kind || !id || !record_str(ev, "thread"))
		return 0;
	if (strcmp(kind, "surveyed") == 0 &&
	    json_object_set(k->surveyed, id, (json_t *)ev) < 0)
		send_nomem();
	if (strcmp(kind, "answered") == 0 &&
	    json_object_set(k->answered, id, (json_t *)ev) < 0)
		send_nomem();
	return 0;
}

/*
 * The survey id of thread, if still open: each inbound message after it
 * that is not yet taken, offered to inbox_survey_answer() until one
 * scores. The answer is written out, and kept for --thank.
 */
static void
collect_one(struct csat *c, struct collect *k, const char *thread,
    const char *id)
{
	const json_t *m, *open;
	json_t *conv, *msgs, *after = NULL, *a;
	const char *dir, *mid;
	struct errbuf e;
	size_t i, from = 0;
	int rc = 0;

	if (!(conv = inbox_conversation(&c->s.ib, thread, &e))) {
		if (errno != ENOENT) {
			diag_warn("%s: %s", thread, e.msg);
			csat_note(c, EXIT_PARTIAL);
		}
		return;
	}
	open = json_object_get(conv, "survey");
	if (!record_str(open, "id") || strcmp(record_str(open, "id"),
	    id) != 0) {
		json_decref(conv);
		return;
	}
	json_decref(conv);
	if (!(msgs = inbox_thread(&c->s.ib, thread, &e))) {
		diag_warn("%s: %s", thread, e.msg);
		csat_note(c, EXIT_PARTIAL);
		return;
	}
	json_array_foreach(msgs, i, m)
		if ((mid = record_str(m, "id")) && strcmp(mid, id) == 0)
			from = i + 1;
	for (i = from; rc == 0 && i < json_array_size(msgs); i++) {
		m = json_array_get(msgs, i);
		dir = record_str(m, "direction");
		if (!dir || strcmp(dir, "in") != 0 || json_object_get(m,
		    "csat") || !(mid = record_str(m, "id")))
			continue;
		if ((rc = inbox_survey_answer(&c->s.ib, thread, mid, &after,
		    &e)) < 0) {
			diag_warn("%s: %s", thread, e.msg);
			csat_note(c, EXIT_PARTIAL);
		}
	}
	json_decref(msgs);
	if (rc == 1 && json_is_object(json_object_get(after, "csat"))) {
		if (!(a = json_pack("{s:s,s:s}", "type", "answered", "thread",
		    thread)) || json_object_update(a, json_object_get(after,
		    "csat")) < 0)
			send_nomem();
		csat_out(c, a);
		if (json_object_set_new(k->answered, id, a) < 0)
			send_nomem();
	}
	json_decref(after);
}

/* One thank-you for the answer ev to survey id, once. */
static void
thank(struct csat *c, struct collect *k, struct worker *w, const char *id,
    const json_t *ev)
{
	const char *thread = record_str(ev, "thread"), *reason;
	char key[160];
	struct errbuf e;
	json_t *conv, *rec;
	int rc;

	snprintf(key, sizeof key, "csat-thanks-%s", id);
	if ((rc = inbox_known_id(&c->s.ib, "key", key)) != 0) {
		if (rc < 0) {
			diag_warn("%s: the ledger of keys: %s", thread,
			    strerror(errno));
			csat_note(c, EXIT_PARTIAL);
		}
		return;
	}
	if (!(conv = inbox_conversation(&c->s.ib, thread, &e))) {
		diag_warn("%s: %s", thread, e.msg);
		csat_note(c, EXIT_PARTIAL);
		return;
	}
	reason = csat_may_text(c, thread, conv);
	json_decref(conv);
	if (reason) {
		if (*reason)
			csat_skipped(c, thread, NULL, reason);
		return;
	}
	if (!(rec = json_pack("{s:s,s:s,s:s,s:s}", "thread", thread, "body",
	    k->thank, "key", key, "purpose", INBOX_NOTIFICATION)))
		send_nomem();
	send_one(w, rec, thread);
}

int
survey_collect(int argc, char **argv)
{
	enum { OPT_THANK = 256, OPT_WINDOW };
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "table", no_argument, NULL, 't' },
		{ "thank", required_argument, NULL, OPT_THANK },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ NULL, 0, NULL, 0 },
	};
	const char *window = NULL, *id;
	struct collect k = { 0 };
	struct worker w;
	struct csat c;
	struct errbuf e;
	json_t *ev;
	int ch;

	csat_init(&c);
	while ((ch = getopt_long(argc, argv, "d:hjt", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			c.dir = optarg;
			break;
		case 'h':
			collect_usage(stdout, 0);
			break;
		case 'j':
		case 't':
			c.json = ch == 'j';
			break;
		case OPT_THANK:
			k.thank = text("--thank", NULL, optarg);
			break;
		case OPT_WINDOW:
			csat_duration("--window", NULL, optarg, 1);
			window = optarg;
			break;
		default:
			collect_usage(stderr, EXIT_USAGE);
		}
	}
	if (optind < argc)
		collect_usage(stderr, EXIT_USAGE);

	csat_setup(&c, k.thank != NULL, NULL);
	k.window = csat_duration(window ? "--window" : NULL, "csat_window",
	    config_pick(c.cfg, window, NULL, "csat_window", "72h"), 1);
	if (!(k.surveyed = json_object()) || !(k.answered = json_object()))
		send_nomem();
	if (csat_history(&c, c.now - k.window, surveys, on_survey_event, &k,
	    &e) < 0)
		diag_die(EXIT_IOERR, "%s", e.msg);
	json_object_foreach(k.surveyed, id, ev)
		if (!json_object_get(k.answered, id))
			collect_one(&c, &k, record_str(ev, "thread"), id);
	if (k.thank) {
		worker_init(&w, &c.s, 1, W_CURL | W_GSM);
		json_object_foreach(k.answered, id, ev) {
			if (send_stopped(&c.s))
				break;
			thank(&c, &k, &w, id, ev);
		}
		worker_free(&w);
	}
	json_decref(k.surveyed);
	json_decref(k.answered);
	return csat_end(&c);
}
