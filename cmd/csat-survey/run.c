/*
 * run.c: one run of csat-survey send or collect around the sending path
 * (run.h): its setup from the configuration (lib/send/setup.c, as
 * sms-send(1) is set up), the history days it reads, and the records it
 * writes out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "record.h"
#include "when.h"
#include "send.h"
#include "csat-survey/run.h"

/* The sending path cannot go on (out of memory): say so, exit 74. */
static void
on_fatal(const char *msg)
{
	diag_die(EXIT_IOERR, "%s", msg);
}

static void
on_warn(struct send *s, const char *line)
{
	(void)s;
	diag_warn("%s", line);
}

/* A message the sending path ended: written out (under s->lock). */
static void
on_end(struct send *s, const json_t *msg, enum outcome oc)
{
	struct csat *c = s->arg;
	const char *st = record_str(msg, "status");

	if (oc == TEMPORARY && st && strcmp(st, "deferred") == 0)
		c->held++;
	csat_out(c, msg);
}

void
csat_init(struct csat *c)
{
	memset(c, 0, sizeof *c);
	c->s.max_segments = 4;
	c->s.retries = 3;
	c->s.jobs = 1;
	c->s.timeout = 60;
	c->s.json = 1;
	c->s.purpose = INBOX_NOTIFICATION;
	c->s.on_end = on_end;
	c->s.on_warn = on_warn;
	c->s.arg = c;
	c->json = -1;
	pthread_mutex_init(&c->s.lock, NULL);
}

void
csat_setup(struct csat *c, int send, const char *quiet)
{
	struct errbuf e;
	char *path;
	int rc;

	send_set_fatal(on_fatal);
	if ((rc = send_setup_config(&c->s, &c->cfg, c->dir, &e)) != 0 ||
	    (rc = send_setup_quiet(&c->s, c->cfg, send ? quiet : "off",
	    &e)) != 0 ||
	    (send && (rc = send_setup_rules(&c->s, c->cfg, &e)) != 0) ||
	    (send && (rc = send_setup_provider(&c->s, c->cfg, NULL, NULL,
	    !c->s.dry_run, &e)) != 0) ||
	    (rc = send_setup_prices(&c->s, c->cfg, &e)) != 0 ||
	    (rc = send_setup_inbox(&c->s, c->cfg, c->dir, &e)) != 0)
		diag_die(rc, "%s", e.msg);
	/* A dry run too reads the history and the conversations. */
	if (!c->s.have_inbox) {
		path = inbox_path(c->dir);
		diag_die(EXIT_NOINPUT, "%s: no inbox", path ? path : "inbox");
	}
	c->now = when_now();
	if (c->json < 0)
		c->json = !isatty(STDOUT_FILENO);
	if (c->json && setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	if (send && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		diag_die(EXIT_IOERR, "cannot start libcurl");
}

int
csat_end(struct csat *c)
{
	const struct send *s = &c->s;
	int code = c->ret;

	if (s->auth)
		code = EXIT_NOPERM;
	else if (s->nperm && code < EXIT_PARTIAL)
		code = EXIT_PARTIAL;
	/*
	 * A survey held back by quiet hours is due still, and goes out on
	 * a later run (csat-survey(1)): the way of a cron job at night, no
	 * failure to mail about. Anything else to retry is 75.
	 */
	else if (!code && s->ntemp > c->held)
		code = EXIT_TEMPFAIL;
	if (s->auth)
		diag_warn("the provider rejected the credentials; stopped");
	if (s->acct.pv)
		curl_global_cleanup();
	rules_free(&c->s.rules);
	send_teardown(&c->s, c->cfg);
	if (s->out_errno)
		errno = s->out_errno;
	return diag_close_stdout(code);
}

long long
csat_duration(const char *opt, const char *key, const char *arg,
    long long min)
{
	struct errbuf e;
	long long v;

	if (when_duration(arg, &v, &e) == 0 && v >= min)
		return v;
	if (opt)
		diag_die(EXIT_USAGE, "%s: '%s' is not a duration%s (such as "
		    "30m, 24h, 7d)", opt, arg, min > 0 ? " above 0" : "");
	diag_die(EXIT_CONFIG, "config: %s: '%s' is not a duration%s (such as "
	    "30m, 24h, 7d)", key, arg, min > 0 ? " above 0" : "");
}

/* What csat_history() hands each line on to. */
struct lines {
	struct csat *c;
	const char *const *events;
	int (*fn)(struct csat *c, const json_t *ev, void *arg);
	void *arg;
};

/* Whether raw, a JSON string as written ("resolved"), is one of names. */
static int
named(const char *raw, size_t len, const char *const *names)
{
	for (; *names; names++)
		if (len == strlen(*names) + 2 &&
		    memcmp(raw + 1, *names, len - 2) == 0)
			return 1;
	return 0;
}

/*
 * A line of history/: an event of the kinds asked for, parsed; one that
 * does not parse (torn by a crash) is passed over. The kind is read
 * without parsing the line, so that the many lines of other kinds (a
 * message's) cost a scan and no tree.
 */
static int
history_line(const char *line, size_t len, void *arg)
{
	struct lines *l = arg;
	struct record_field f = { .key = "event" };
	json_t *ev;
	int rc;

	if ((rc = record_pick(line, len, &f, 1)) < 0)
		return 0;
	if (rc == 1 && (!f.val || !named(f.val, f.len, l->events)))
		return 0;
	rc = 0;
	/* Not in json_is_object(): a macro, it would parse the line twice. */
	ev = json_loadb(line, len, 0, NULL);
	if (json_is_object(ev))
		rc = l->fn(l->c, ev, l->arg);
	json_decref(ev);
	return rc;
}

int
csat_history(struct csat *c, time_t from, const char *const *events,
    int (*fn)(struct csat *c, const json_t *ev, void *arg), void *arg,
    struct errbuf *e)
{
	struct lines l = { c, events, fn, arg };
	char day[WHEN_BUFSZ];

	when_format(from, day);
	day[10] = '\0';
	return inbox_history_each(&c->s.ib, day, NULL, history_line, &l, e);
}

const char *
csat_may_text(struct csat *c, const char *thread, const json_t *conv)
{
	struct errbuf e;
	int rc;

	if (inbox_is_blocked(conv))
		return "blocked";
	if ((rc = inbox_opted_out(&c->s.ib, thread, &e)) > 0)
		return "opted_out";
	if (rc < 0) {
		diag_warn("%s: %s", thread, e.msg);
		csat_note(c, EXIT_PARTIAL);
		return "";
	}
	return NULL;
}

/* rec as a short line, for a terminal. */
static void
line(const json_t *rec)
{
	const char *type = record_str(rec, "type");
	const char *thread = record_str(rec, "thread");
	const json_t *err = json_object_get(rec, "error");
	const char *st = record_str(rec, "status");

	printf("%s: ", thread ? thread : "?");
	if (type && strcmp(type, "skipped") == 0) {
		printf("skipped: %s\n", record_str(rec, "reason"));
		return;
	}
	if (type && strcmp(type, "answered") == 0) {
		printf("answered %lld on %s", (long long)json_integer_value(
		    json_object_get(rec, "score")), record_str(rec, "scale"));
		if (record_str(rec, "comment"))
			printf(": %s", record_str(rec, "comment"));
		putchar('\n');
		return;
	}
	printf("%s %s", json_object_get(rec, "survey") ? "survey" : "thanks",
	    st ? st : "?");
	if (record_str(rec, "provider_id"))
		printf(" %s", record_str(rec, "provider_id"));
	if (record_str(rec, "not_before"))
		printf(" until %s", record_str(rec, "not_before"));
	if (err)
		printf(": %s", record_str(err, "code") ? record_str(err,
		    "code") : "error");
	putchar('\n');
}

void
csat_out(struct csat *c, const json_t *rec)
{
	if (c->json) {
		if (record_write(stdout, rec) < 0 && !c->s.out_errno)
			c->s.out_errno = errno;
	} else {
		line(rec);
	}
}

void
csat_skipped(struct csat *c, const char *thread, const json_t *ev,
    const char *reason)
{
	const json_t *at = json_object_get(ev, "at");
	const json_t *agent = json_object_get(ev, "agent");
	json_t *r = json_pack("{s:s,s:s,s:s,s:O,s:O}", "type", "skipped",
	    "thread", thread, "reason", reason, "resolved_at",
	    at ? at : json_null(), "agent", agent ? agent : json_null());

	if (!r)
		send_nomem();
	csat_out(c, r);
	json_decref(r);
}

void
csat_note(struct csat *c, int code)
{
	if (code > c->ret)
		c->ret = code;
}
