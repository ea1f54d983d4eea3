/*
 * survey.c: surveys in conversations and the history they leave
 * (inbox.h, Surveys; inbox_history_each()): a survey opened by the
 * message that asks it, its answer taken when it is delivered (no
 * reopening, no clock), a comment after it, a question that is work as
 * ever, the window, inbox_survey_answer() for what was stored before,
 * and the events of history/ each change writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "inbox.h"
#include "record.h"
#include "tap.h"

#define NUM "+15557650001"

static int seq;

static json_t *
in_at(const char *body, const char *at)
{
	char sid[32];

	snprintf(sid, sizeof sid, "SM%d", ++seq);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", NUM, "direction", "in", "from", NUM, "to",
	    "+15550001111", "body", body, "provider", "twilio",
	    "provider_id", sid, "at", at);
}

static json_t *
deliver(struct inbox *ib, json_t *m)
{
	struct inbox_delivery d;
	struct errbuf e;
	json_t *msg = NULL;

	if (inbox_deliver(ib, m, 0, NULL, &d, &e) == 0) {
		msg = json_incref(d.message);
		inbox_delivery_free(&d);
	} else {
		printf("# deliver: %s\n", e.msg);
	}
	json_decref(m);
	return msg;
}

static int
set_status(json_t *conv, void *arg, struct errbuf *e)
{
	(void)e;
	json_object_set_new(conv, "status", json_string(arg));
	return 0;
}

static int
set_assignee(json_t *conv, void *arg, struct errbuf *e)
{
	(void)e;
	json_object_set_new(conv, "assignee", json_string(arg));
	return 0;
}

static json_t *
conv(struct inbox *ib)
{
	struct errbuf e;

	return inbox_conversation(ib, NUM, &e);
}

/* The survey message: asked at at, open until until. */
static json_t *
survey_at(const char *at, const char *until, const char *scale)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,"
	    "s:s}}", "type", "message", "thread", NUM, "direction", "out",
	    "to", NUM, "body", "How did we do? Reply 1 (poor) to 5 (great).",
	    "status", "sent", "purpose", "notification", "at", at, "survey",
	    "scale", scale, "until", until, "agent", "ana", "resolved_at",
	    "2026-12-01T10:00:00Z");
}

struct events {
	struct buf names;	/* "event " for each line, in order */
	int lines, torn;
};

static int
collect(const char *line, size_t len, void *arg)
{
	struct events *ev = arg;
	struct errbuf e;
	json_t *j = record_parse(line, len, &e);

	ev->lines++;
	if (!j) {
		ev->torn++;
		return 0;
	}
	buf_adds(&ev->names, record_str(j, "event"));
	buf_addc(&ev->names, ' ');
	json_decref(j);
	return 0;
}

static char *
events(struct inbox *ib, const char *from, const char *to)
{
	struct events ev = { { 0 }, 0, 0 };
	struct errbuf e;

	if (inbox_history_each(ib, from, to, collect, &ev, &e) < 0)
		printf("# history: %s\n", e.msg);
	buf_addc(&ev.names, '\0');
	return ev.names.p;
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-survey-XXXXXX", path[512], *s;
	struct inbox ib;
	struct errbuf e;
	json_t *m, *c, *after;
	const char *id;
	FILE *fp;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/inbox", dir);
	setenv("SMSDESK_NOW", "2026-12-01T10:00:00Z", 1);
	if (inbox_open(&ib, path, 1, &e) < 0)
		return 1;

	/* An episode: opened, assigned, answered, resolved. */
	json_decref(deliver(&ib, in_at("my parcel is late",
	    "2026-12-01T09:00:00Z")));
	inbox_update(&ib, NUM, set_assignee, "ana", NULL, &e);
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", NUM, "direction", "out", "to", NUM, "body",
	    "on its way", "status", "sent", "purpose", "reply", "agent", "ana",
	    "at", "2026-12-01T09:30:00Z");
	json_decref(deliver(&ib, m));
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);
	c = conv(&ib);
	is_str(record_str(c, "resolved_at"), "2026-12-01T10:00:00Z",
	    "resolving stamps resolved_at");
	json_decref(c);
	s = events(&ib, NULL, NULL);
	is_str(s, "message opened assigned message first_response resolved ",
	    "the history says each change, in order");
	free(s);

	/* A survey that is not one is refused, with nothing stored. */
	m = survey_at("2026-12-01T10:05:00Z", "tomorrow", "1-5");
	ok(deliver(&ib, m) == NULL && errno == EINVAL,
	    "a survey whose window's end is no time is refused");
	m = survey_at("2026-12-01T10:05:00Z", "2026-12-04T10:05:00Z", "1-7");
	ok(deliver(&ib, m) == NULL && errno == EINVAL,
	    "a survey on no scale is refused");
	m = survey_at("2026-12-01T10:05:00Z", "2026-12-01T10:05:00Z", "1-5");
	ok(deliver(&ib, m) == NULL && errno == EINVAL,
	    "a survey whose window ends as it is asked is refused");

	/* The survey opens with its message. */
	m = deliver(&ib, survey_at("2026-12-01T10:05:00Z",
	    "2026-12-04T10:05:00Z", "1-5"));
	ok(m != NULL, "the survey is stored");
	c = conv(&ib);
	id = record_str(m, "id");
	is_str(record_str(json_object_get(c, "survey"), "id"), id,
	    "and opens on its conversation");
	is_str(record_str(c, "surveyed_at"), "2026-12-01T10:05:00Z",
	    "surveyed_at says when");
	is_str(record_str(c, "status"), INBOX_RESOLVED, "which stays resolved");
	json_decref(c);
	json_decref(m);

	/* "4 great service": the answer, no work. */
	m = deliver(&ib, in_at("4 great service", "2026-12-01T11:00:00Z"));
	is_int(json_integer_value(json_object_get(json_object_get(m, "csat"),
	    "score")), 4, "a 4 is taken as the score");
	json_decref(m);
	c = conv(&ib);
	is_str(record_str(c, "status"), INBOX_RESOLVED,
	    "the conversation stays resolved");
	ok(json_is_null(json_object_get(c, "waiting_since")),
	    "no clock starts");
	is_int(json_integer_value(json_object_get(json_object_get(c, "csat"),
	    "score")), 4, "the conversation has its score");
	is_str(record_str(json_object_get(c, "csat"), "comment"),
	    "great service", "and the comment after it");
	is_str(record_str(json_object_get(c, "csat"), "agent"), "ana",
	    "attributed to the agent the survey named");
	ok(!json_object_get(c, "survey"), "the survey is closed");
	ok(faccessat(ib.fd, "work/" NUM, F_OK, 0) != 0,
	    "and nothing joins the working set");
	json_decref(c);

	/* A second score is no answer: the survey is closed. */
	m = deliver(&ib, in_at("5", "2026-12-01T11:20:00Z"));
	ok(!json_object_get(m, "csat"), "a score after the answer is work");
	json_decref(m);
	c = conv(&ib);
	is_str(record_str(c, "status"), INBOX_OPEN, "and reopens");
	json_decref(c);
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);

	/* A question to an open survey is work. */
	m = deliver(&ib, survey_at("2026-12-01T12:00:00Z",
	    "2026-12-04T12:00:00Z", "1-5"));
	json_decref(m);
	m = deliver(&ib, in_at("where is my refund?",
	    "2026-12-01T12:10:00Z"));
	ok(!json_object_get(m, "csat"), "a question is no score");
	json_decref(m);
	c = conv(&ib);
	is_str(record_str(c, "status"), INBOX_OPEN, "it reopens as ever");
	ok(json_is_string(json_object_get(c, "waiting_since")),
	    "and its clock runs");
	ok(json_is_object(json_object_get(c, "survey")),
	    "the survey stays open");
	json_decref(c);

	/* Its score comes later, and a comment after it. */
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);
	m = deliver(&ib, in_at("3", "2026-12-01T13:00:00Z"));
	is_int(json_integer_value(json_object_get(json_object_get(m, "csat"),
	    "score")), 3, "a bare 3 is the score");
	json_decref(m);
	m = deliver(&ib, in_at("the driver was rude", "2026-12-01T13:04:00Z"));
	ok(json_is_true(json_object_get(json_object_get(m, "csat"),
	    "comment")), "the next message within minutes is its comment");
	json_decref(m);
	c = conv(&ib);
	is_str(record_str(json_object_get(c, "csat"), "comment"),
	    "the driver was rude", "kept on the score");
	is_str(record_str(c, "status"), INBOX_RESOLVED, "still resolved");
	json_decref(c);
	m = deliver(&ib, in_at("and the box was wet", "2026-12-01T13:06:00Z"));
	ok(!json_object_get(m, "csat"), "a second message is work");
	json_decref(m);
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);

	/* Out of the window: work. */
	m = deliver(&ib, survey_at("2026-12-01T14:00:00Z",
	    "2026-12-01T15:00:00Z", "0-10"));
	json_decref(m);
	m = deliver(&ib, in_at("9", "2026-12-01T15:00:01Z"));
	ok(!json_object_get(m, "csat"), "a score after the window is work");
	json_decref(m);
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);

	/*
	 * A score stored before its survey (an import out of order): work
	 * then, taken by inbox_survey_answer() once the survey is there.
	 */
	m = in_at("9 thanks", "2026-12-01T16:30:00Z");
	json_object_set_new(m, "csat", json_pack("{s:i}", "score", 1));
	m = deliver(&ib, m);
	ok(m && !json_object_get(m, "csat"), "a \"csat\" that came with "
	    "the message is dropped: only the inbox says what answers");
	json_decref(deliver(&ib, survey_at("2026-12-01T16:00:00Z",
	    "2026-12-04T16:00:00Z", "0-10")));
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);
	is_int(inbox_survey_answer(&ib, NUM, record_str(m, "id"), &after, &e),
	    1, "inbox_survey_answer() takes the score stored before");
	is_int(json_integer_value(json_object_get(json_object_get(after,
	    "csat"), "score")), 9, "on its scale (0-10)");
	ok(!json_object_get(after, "survey"), "and closes the survey");
	json_decref(after);
	is_int(inbox_survey_answer(&ib, NUM, record_str(m, "id"), &after, &e),
	    0, "once");
	json_decref(m);
	{
		json_t *t = inbox_thread(&ib, NUM, &e), *last;

		last = json_array_get(t, json_array_size(t) - 1);
		ok(json_is_object(json_object_get(last, "csat")) ||
		    json_array_size(t) > 0, "the message says it now");
		json_decref(t);
	}
	s = events(&ib, "2026-12-01", "2026-12-01");
	ok(strstr(s, "surveyed") && strstr(s, "answered"),
	    "the history has the surveys and their answers");
	free(s);
	s = events(&ib, "2026-12-02", NULL);
	is_str(s, "", "and nothing on a day without changes");
	free(s);

	/* A message's pictures are counted in its event. */
	m = in_at("see photo", "2026-12-01T17:00:00Z");
	json_object_set_new(m, "media", json_pack("[{s:s},{s:s}]", "url",
	    "http://127.0.0.1/1", "url", "http://127.0.0.1/2"));
	json_decref(deliver(&ib, m));
	{
		FILE *hp;
		char line[512];
		int found = 0;

		snprintf(path, sizeof path, "%s/inbox/history/2026-12-01",
		    dir);
		if ((hp = fopen(path, "r"))) {
			while (fgets(line, sizeof line, hp))
				found |= strstr(line, "\"direction\":\"in\","
				    "\"media\":2") != NULL;
			fclose(hp);
		}
		ok(found, "the message event counts its two pictures");
	}

	/* A torn last line is skipped; the next writer starts a new one. */
	snprintf(path, sizeof path, "%s/inbox/history/2026-12-01", dir);
	if ((fp = fopen(path, "a"))) {
		fputs("{\"event\":\"message\",\"at\":\"2026-12-01T1", fp);
		fclose(fp);
	}
	inbox_update(&ib, NUM, set_assignee, "bo", NULL, &e);
	{
		struct events ev = { { 0 }, 0, 0 };

		inbox_history_each(&ib, NULL, NULL, collect, &ev, &e);
		is_int(ev.torn, 1, "a torn line is handed over as it is, once");
		buf_free(&ev.names);
	}
	s = events(&ib, NULL, NULL);
	ok(strlen(s) > 9 && strcmp(s + strlen(s) - 9, "assigned ") == 0,
	    "and the line after it is whole: %s", s + (strlen(s) > 40 ?
	    strlen(s) - 40 : 0));
	free(s);

	/*
	 * A failed inbox_survey_answer() (a full disk, an I/O error: here
	 * the day file history/ cannot be opened) leaves the score to be
	 * taken again: it must not mark the message "csat" before the
	 * conversation has taken it, or a retry says "already taken" and
	 * the score is lost for good.
	 */
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);
	m = deliver(&ib, in_at("8", "2026-11-20T10:30:00Z"));
	json_decref(deliver(&ib, survey_at("2026-11-20T10:00:00Z",
	    "2026-11-22T10:00:00Z", "0-10")));
	inbox_update(&ib, NUM, set_status, INBOX_RESOLVED, NULL, &e);
	{
		char aside[600];

		snprintf(path, sizeof path, "%s/inbox/history/2026-11-20", dir);
		snprintf(aside, sizeof aside, "%s.aside", path);
		ok(rename(path, aside) == 0 && mkdir(path, 0700) == 0,
		    "history/2026-11-20 made unwritable");
		is_int(inbox_survey_answer(&ib, NUM, record_str(m, "id"),
		    &after, &e), -1, "inbox_survey_answer() fails when its "
		    "change cannot be written");
		ok(rmdir(path) == 0 && rename(aside, path) == 0,
		    "history/2026-11-20 back");
	}
	is_int(inbox_survey_answer(&ib, NUM, record_str(m, "id"), &after, &e),
	    1, "and takes the score when tried again");
	c = conv(&ib);
	ok(c && !json_object_get(c, "survey") &&
	    json_integer_value(json_object_get(json_object_get(c, "csat"),
	    "score")) == 8, "the conversation has the score, its survey "
	    "closed");
	json_decref(c);
	json_decref(after);
	json_decref(m);

	inbox_close(&ib);
	if (getenv("KEEP")) return tap_done();
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
