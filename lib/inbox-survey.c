/*
 * inbox-survey.c: surveys in conversations (smsdesk-inbox(5), Surveys).
 *
 * A survey is opened by the message that asks it: an outbound message
 * with "survey" ({scale, until, agent, resolved_at}), stored through
 * inbox_deliver() like any, puts "survey" on its conversation (with the
 * message's id and time) in the same durable change. The answer is
 * recognised when it is delivered, under the same lock, before the
 * message changes its conversation: a customer's message within the
 * survey's window that score_parse() takes on the survey's scale gets
 * "csat" ({survey, score, comment}) and is no work (inbox.c, is_work()),
 * so it neither reopens the conversation nor starts its clock, and the
 * programs that act on new work (sms-recv's automatic replies, assign
 * --auto) see a conversation still resolved. The next message within
 * COMMENT_S of an answer without a comment, if it asks nothing ("?"),
 * is that comment. Anything else is work, as ever: a wrong score (a
 * question taken for an answer and left unseen) costs more than a
 * missed one (a reply an agent reads).
 */
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "inbox-impl.h"
#include "limit.h"
#include "record.h"
#include "score.h"
#include "thread.h"
#include "when.h"

/* How soon after an answer the next message is its comment. */
#define COMMENT_S 600

/* Whether s is a time as the inbox writes them (when_format()). */
static int
canonical_time(const char *s, time_t *t)
{
	char again[WHEN_BUFSZ];

	if (!s || when_parse(s, t, NULL) < 0)
		return 0;
	when_format(*t, again);
	return strcmp(again, s) == 0;
}

int
ib_survey_check(const json_t *msg, struct errbuf *e)
{
	const json_t *sv = json_object_get(msg, "survey");
	const char *dir = record_str(msg, "direction");
	enum score_scale scale;
	const char *agent;
	json_t *v;
	time_t t, sent;

	if (!sv)
		return 0;
	if (!dir || strcmp(dir, "out") != 0)
		return errno = EINVAL, errf(e, "\"survey\" on a message that "
		    "is not outbound");
	if (!json_is_object(sv))
		return errno = EINVAL, errf(e, "\"survey\" is not an object");
	if (!record_str(sv, "scale") ||
	    score_scale_parse(record_str(sv, "scale"), &scale) < 0)
		return errno = EINVAL, errf(e, "\"survey\": \"scale\" is not "
		    "1-5, 0-10 or 1-3");
	if (!canonical_time(record_str(sv, "until"), &t))
		return errno = EINVAL, errf(e, "\"survey\": \"until\" is not "
		    "a time as YYYY-MM-DDTHH:MM:SSZ");
	/* A window that ends before the question is asked takes nothing. */
	if (t <= (record_str(msg, "at") && when_parse(record_str(msg, "at"),
	    &sent, NULL) == 0 ? sent : when_now()))
		return errno = EINVAL, errf(e, "\"survey\": \"until\" is not "
		    "after the message");
	v = json_object_get(sv, "resolved_at");
	if (v && !json_is_null(v) && !canonical_time(json_string_value(v),
	    &t))
		return errno = EINVAL, errf(e, "\"survey\": \"resolved_at\" "
		    "is not a time as YYYY-MM-DDTHH:MM:SSZ");
	v = json_object_get(sv, "agent");
	if (v && !json_is_null(v) && (!(agent = record_str(sv, "agent")) ||
	    !*agent || limit_text("\"survey\": \"agent\"", strlen(agent),
	    LIMIT_NAME, e) < 0))
		return errno = EINVAL, agent && *agent ? -1 : errf(e,
		    "\"survey\": \"agent\" is not a name");
	return 0;
}

/* The survey conv has open for a message at at, or NULL. */
static const json_t *
open_survey(const json_t *conv, const char *at, enum score_scale *scale)
{
	const json_t *sv = json_object_get(conv, "survey");
	const char *sent = record_str(sv, "sent_at");
	const char *until = record_str(sv, "until");

	if (!json_is_object(sv) || !record_str(sv, "id") || !sent || !until ||
	    !at || strcmp(at, sent) < 0 || strcmp(at, until) > 0 ||
	    !record_str(sv, "scale") ||
	    score_scale_parse(record_str(sv, "scale"), scale) < 0)
		return NULL;
	return sv;
}

/*
 * Whether inbound msg (at at, body body) is the comment of conv's last
 * answer: one without a comment, COMMENT_S or less before, the
 * conversation still resolved, and msg asks nothing.
 */
static int
is_comment(const json_t *conv, const char *at, const char *body)
{
	const json_t *cs = json_object_get(conv, "csat");
	const char *st = record_str(conv, "status");
	const char *c = record_str(cs, "comment");
	time_t ta, tm;

	return json_is_object(cs) && record_str(cs, "survey") &&
	    (!c || !*c) && st && strcmp(st, INBOX_RESOLVED) == 0 &&
	    body && *body && !strchr(body, '?') &&
	    canonical_time(record_str(cs, "at"), &ta) &&
	    canonical_time(at, &tm) && tm >= ta && tm - ta <= COMMENT_S;
}

int
ib_survey_mark(const json_t *conv, json_t *msg)
{
	const char *dir = record_str(msg, "direction");
	const char *at = record_str(msg, "at");
	const char *body = record_str(msg, "body");
	enum score_scale scale;
	const json_t *sv;
	struct score sc;
	json_t *cs;

	/* Only the inbox says what answers a survey. */
	json_object_del(msg, "csat");
	if (!dir || strcmp(dir, "in") != 0 || !body ||
	    json_is_string(json_object_get(msg, "keyword")) ||
	    inbox_is_blocked(conv))
		return 0;
	if ((sv = open_survey(conv, at, &scale)) &&
	    score_parse(body, strlen(body), scale, &sc)) {
		cs = json_pack("{s:s,s:i,s:o}", "survey", record_str(sv, "id"),
		    "score", sc.value, "comment", sc.comment_len ?
		    json_stringn(sc.comment, sc.comment_len) : json_null());
	} else if (!sv && is_comment(conv, at, body)) {
		cs = json_pack("{s:s,s:b}", "survey",
		    record_str(json_object_get(conv, "csat"), "survey"),
		    "comment", 1);
	} else {
		return 0;
	}
	if (!cs || json_object_set_new(msg, "csat", cs) < 0)
		return errno = ENOMEM, -1;
	return 1;
}

void
ib_survey_apply(json_t *conv, const json_t *msg)
{
	const char *dir = record_str(msg, "direction");
	const json_t *sv = json_object_get(msg, "survey");
	const json_t *cs = json_object_get(msg, "csat");
	const json_t *open = json_object_get(conv, "survey");
	const char *st = record_str(msg, "status");
	enum score_scale scale;
	json_t *v;

	if (dir && strcmp(dir, "out") == 0 && json_is_object(sv) &&
	    (!st || strcmp(st, "failed") != 0)) {
		v = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "id",
		    json_object_get(msg, "id"), "sent_at",
		    json_object_get(msg, "at"), "scale",
		    json_object_get(sv, "scale"), "until",
		    json_object_get(sv, "until"), "agent",
		    json_object_get(sv, "agent"), "resolved_at",
		    json_object_get(sv, "resolved_at"));
		if (v) {
			json_object_set_new(conv, "survey", v);
			json_object_set(conv, "surveyed_at",
			    json_object_get(msg, "at"));
		}
		return;
	}
	if (!dir || strcmp(dir, "in") != 0 || !json_is_object(cs))
		return;
	if (json_is_integer(json_object_get(cs, "score")) &&
	    open_survey(conv, record_str(msg, "at"), &scale)) {
		v = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "survey",
		    json_object_get(open, "id"), "scale",
		    json_object_get(open, "scale"), "score",
		    json_object_get(cs, "score"), "comment",
		    json_object_get(cs, "comment"), "at",
		    json_object_get(msg, "at"), "agent",
		    json_object_get(open, "agent"), "msg",
		    json_object_get(msg, "id"));
		if (v) {
			json_object_set_new(conv, "csat", v);
			json_object_del(conv, "survey");
		}
	} else if (json_is_true(json_object_get(cs, "comment")) &&
	    json_is_object(json_object_get(conv, "csat")) &&
	    (v = json_deep_copy(json_object_get(conv, "csat")))) {
		json_object_set(v, "comment", json_object_get(msg, "body"));
		json_object_set_new(conv, "csat", v);
	}
}

int
inbox_survey_answer(struct inbox *ib, const char *thread, const char *id,
    json_t **after, struct errbuf *e)
{
	char rel[64 + NAME_MAX_LEN], was[INBOX_QUEUE_NAME_MAX];
	struct logf cf, mf;
	json_t *conv = NULL, *before = NULL, *msg = NULL;
	int lk, rc = 0;

	if (after)
		*after = NULL;
	if (!thread_valid(thread) || !id || !*id || strchr(id, '/') ||
	    *id == '.')
		return errno = EINVAL, errf(e, "%s/%s: not a message",
		    thread ? thread : "", id ? id : "");
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	mf.fd = cf.fd = -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, id);
	if (!(msg = ib_log_read(ib, rel, &mf, e)))
		goto fail;
	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!(conv = ib_log_read(ib, rel, &cf, e)))
		goto fail;
	if (json_is_object(json_object_get(msg, "csat")))
		goto done;
	/* Taken by the conversation, the message's mark lost: mend it. */
	if (!json_is_object(json_object_get(conv, "survey"))) {
		const json_t *cs = json_object_get(conv, "csat");
		json_t *mark;

		if (!json_is_integer(json_object_get(cs, "score")) ||
		    !record_str(cs, "msg") || strcmp(record_str(cs, "msg"),
		    id) != 0 || !record_str(cs, "survey"))
			goto done;
		if (!(mark = json_pack("{s:s,s:O,s:O?}", "survey",
		    record_str(cs, "survey"), "score", json_object_get(cs,
		    "score"), "comment", json_object_get(cs, "comment"))) ||
		    json_object_set_new(msg, "csat", mark) < 0)
			goto nomem;
		goto mark;
	}
	if (!(before = json_deep_copy(conv)))
		goto nomem;
	if ((rc = ib_survey_mark(conv, msg)) < 0)
		goto nomem;
	/* Only a score, here: a comment is the delivery's to take. */
	if (rc == 0 || !json_is_integer(json_object_get(json_object_get(msg,
	    "csat"), "score"))) {
		rc = 0;
		goto done;
	}
	ib_survey_apply(conv, msg);
	ib_stamp(ib, conv);
	/*
	 * The conversation (and its events) first, then the message's
	 * mark: a failure between them leaves a message that says nothing
	 * of the score its conversation took, which the next call mends
	 * (below); the other order would leave a message marked "csat"
	 * that every later call takes for one already taken, the score
	 * lost for good.
	 */
	inbox_queue_name_json(thread, conv, was);
	rc = ib_write_conversation(ib, thread, conv, was, before, &cf, e);
	cf.fd = -1;
	if (rc < 0)
		goto fail;
mark:
	snprintf(rel, sizeof rel, "msg/%s", thread);
	rc = ib_log_append(ib, rel, id, &mf, msg, NULL, e) < 0 ? -1 : 1;
	mf.fd = -1;
	if (rc > 0 && after)
		*after = json_incref(conv);
	goto out;
nomem:
	errno = ENOMEM;
	errf(e, "%s", strerror(ENOMEM));
fail:
	rc = -1;
	goto out;
done:
	;
out:
	if (mf.fd >= 0)
		close(mf.fd);
	if (cf.fd >= 0)
		close(cf.fd);
	json_decref(msg);
	json_decref(conv);
	json_decref(before);
	ib_unlock(lk);
	return rc;
}
