/*
 * schedule.c: messages to send later (sms-send(1), Scheduling).
 *
 * A message given a time (--at, --in, a request's "at") goes through
 * prepare.c as any other: checked (its number, consent as it stands,
 * segments, limits, media, its key), then stored by the same store, but
 * as "scheduled", with "send_at" (and "expires_at" if it has one), and
 * indexed in schedule/ (lib/inbox-schedule.c). Nothing is sent.
 *
 * --due reads the index up to now and hands each entry to the workers
 * as a job of its own (workers.c): the preparer claims it under its
 * thread's lock (inbox_schedule_change(): scheduled -> queued, in
 * outbox/, synced, before any request; one claimed already is another
 * run's and dropped), checking again what a fresh send checks: its
 * expiry, the consent ledger, a block, and quiet hours, which move it
 * to their end rather than drop it. A claimed message is then one
 * queued like any other: the sender sends it (checking quiet hours and
 * consent once more just before the request), the finisher settles it,
 * and a run killed after the claim leaves it queued without a provider
 * id, for --reconcile, exactly as a crashed ordinary send.
 *
 * --cancel and --reschedule change scheduled messages the same way,
 * one at a time, under their threads' locks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "phonezone.h"
#include "record.h"
#include "when.h"
#include "send.h"

time_t
send_latest(const json_t *msg)
{
	time_t t;

	if (when_parse(record_str(msg, "expires_at") ?
	    record_str(msg, "expires_at") : "", &t, NULL) == 0)
		return t;
	if (when_parse(record_str(msg, "send_at") ?
	    record_str(msg, "send_at") : "", &t, NULL) == 0)
		return t + SEND_EXPIRY;
	return when_now();
}

/*
 * An expiry, v: a time, or a duration after send_at. 0 with *out, or
 * -1 with e filled.
 */
static int
expiry(const char *v, time_t send_at, time_t *out, struct errbuf *e)
{
	long long secs;
	struct errbuf pe;

	if (when_parse(v, out, &pe) == 0)
		return 0;
	if (when_duration(v, &secs, NULL) == 0) {
		*out = send_at + (time_t)secs;
		return 0;
	}
	return errno = EINVAL, errf(e, "'%s' is neither a time nor a "
	    "duration", v);
}

/* j refused, before anything is stored: code, and m said. */
static void
refuse(struct send *s, struct job *j, const char *code, const char *m)
{
	json_object_set_new(j->msg, "status", json_string("failed"));
	json_object_set_new(j->msg, "error", send_error(code, 0, m));
	send_warn(s, "%s: %s", j->where, m);
	j->oc = PERMANENT;
	j->state = J_DONE;
}

int
send_schedule_of(struct send *s, struct job *j, const json_t *rec)
{
	const json_t *av = json_object_get(rec, "at");
	const json_t *xv = json_object_get(rec, "expire");
	const char *tz = record_str(rec, "timezone");
	char at[WHEN_BUFSZ], m[320];
	time_t send_at = s->send_at, until;
	struct errbuf e;

	/* A typed record's "at" is its own time, never a schedule. */
	if (json_object_get(rec, "type"))
		av = xv = NULL;
	if (av && !json_is_null(av)) {
		if (!json_is_string(av) || when_parse(json_string_value(av),
		    &send_at, &e) < 0) {
			snprintf(m, sizeof m, "\"at\": %s", json_is_string(av) ?
			    e.msg : "not a time");
			refuse(s, j, "invalid_value", m);
			return -1;
		}
	}
	if (send_at <= when_now())
		return 0;
	when_format(send_at, at);
	json_object_set_new(j->msg, "send_at", json_string(at));
	if (xv && !json_is_null(xv) && !json_is_string(xv)) {
		refuse(s, j, "invalid_value", "\"expire\": neither a time nor "
		    "a duration");
		return -1;
	}
	if ((xv && json_is_string(xv)) || s->expire) {
		const char *x = xv && json_is_string(xv) ?
		    json_string_value(xv) : s->expire;

		if (expiry(x, send_at, &until, &e) < 0) {
			snprintf(m, sizeof m, "\"expire\": %s", e.msg);
			refuse(s, j, "invalid_value", m);
			return -1;
		}
		if (until <= send_at) {
			snprintf(m, sizeof m, "\"expire\": %s is not after "
			    "the time it is to go, %s", x, at);
			refuse(s, j, "invalid_value", m);
			return -1;
		}
		when_format(until, at);
		json_object_set_new(j->msg, "expires_at", json_string(at));
	}
	/* Its zone, if the business knows it, for --due's quiet hours. */
	if (tz && *tz)
		json_object_set_new(j->msg, "timezone", json_string(tz));
	return 1;
}

/* What a --due claim decided, for its report. */
struct due {
	struct send *s;
	char why[400];
};

/* msg canceled at its send time, code and why. */
static int
cancel(struct due *d, json_t *msg, const char *code, const char *why)
{
	char now[WHEN_BUFSZ];

	json_object_set_new(msg, "status", json_string("canceled"));
	json_object_set_new(msg, "error", send_error(code, 0, why));
	when_format(when_now(), now);
	json_object_set_new(msg, "canceled_at", json_string(now));
	snprintf(d->why, sizeof d->why, "%s", why);
	return 0;
}

/*
 * inbox_schedule_change()'s fn for --due: the checks of a fresh send,
 * then scheduled message msg claimed (queued, "at" now), canceled, or
 * moved past quiet hours; left (1) if it is not due after all.
 */
static int
decide(json_t *msg, void *arg, struct errbuf *e)
{
	struct due *d = arg;
	struct send *s = d->s;
	const char *to = record_str(msg, "thread");
	const char *zones = record_str(msg, "timezone"), *zone = "?";
	char now_s[WHEN_BUFSZ], when[WHEN_BUFSZ], m[400];
	time_t now = when_now(), at, open, until;
	struct errbuf he;
	int rc;

	if (when_parse(record_str(msg, "send_at"), &at, NULL) < 0 || at > now)
		return 1;
	until = send_latest(msg);
	if (now > until) {
		when_format(until, when);
		snprintf(m, sizeof m, "not sent by its expiry, %s", when);
		return cancel(d, msg, "expired", m);
	}
	/* HELP's answer and the opt-out's confirmation go whoever asked. */
	if ((rc = send_keyword_answer(msg) ? 0 : inbox_opted_out_on(&s->ib,
	    to, send_consent_channel(s, msg), e)) < 0)
		return -1;
	if (rc > 0)
		return cancel(d, msg, "opted_out", "the recipient opted out "
		    "after it was scheduled; nothing was sent");
	if ((rc = inbox_blocked(&s->ib, to, e)) < 0)
		return -1;
	if (rc > 0)
		return cancel(d, msg, "blocked", "the recipient was blocked "
		    "after it was scheduled; nothing was sent");
	/*
	 * The rules by place and purpose (smsdesk-rules(5)), under the
	 * thread's lock as a fresh send asks them: moved to when they allow
	 * it, or canceled where the rule refuses.
	 */
	if (!record_str(msg, "auto")) {
		struct hold h;

		if (send_rules_hold(s, msg, to, now, 1, &h, e) < 0)
			return -1;
		if (h.held == 'r') {
			json_object_set_new(msg, "held_by", json_string(h.by));
			return cancel(d, msg, "held", h.why);
		}
		if (h.held) {
			when_format(h.until, when);
			json_object_set_new(msg, "send_at", json_string(when));
			json_object_set_new(msg, "held_by", json_string(h.by));
			snprintf(d->why, sizeof d->why, "%.340s: moved to %s",
			    h.why, when);
			return 0;
		}
	}
	/* An automatic reply answers a text the customer just sent. */
	if (s->quiet && !record_str(msg, "auto")) {
		if (!zones || !*zones)
			zones = phonezone_lookup(to, NULL);
		if (!zones)
			return cancel(d, msg, "unknown_zone", "no time zone "
			    "is known for this number, so its quiet hours "
			    "cannot be respected");
		if ((rc = hours_quiet(s->tzdb, zones, &s->qwin, now, &zone,
		    &open, &he)) < 0)
			return cancel(d, msg, "unknown_zone", he.msg);
		if (rc > 0 && !open)
			return cancel(d, msg, "quiet_hours", "quiet hours at "
			    "the recipient, and its zones are never all "
			    "outside them at once");
		if (rc > 0) {
			when_format(open, when);
			json_object_set_new(msg, "send_at",
			    json_string(when));
			snprintf(d->why, sizeof d->why, "quiet hours (%s) at "
			    "the recipient (%s): moved to %s", s->quiet_spec,
			    zone, when);
			return 0;
		}
	}
	when_format(now, now_s);
	json_object_set_new(msg, "status", json_string("queued"));
	json_object_set_new(msg, "at", json_string(now_s));
	json_object_del(msg, "error");
	return 0;
}

void
send_prepare_due(struct worker *w, struct job *j)
{
	struct send *s = w->s;
	json_t *rec = j->rec, *after = NULL;
	const char *thread = record_str(rec, "thread");
	const char *id = record_str(rec, "id");
	const char *st;
	struct due d = { .s = s };
	struct errbuf e;
	int rc;

	j->rec = NULL;
	rc = inbox_schedule_change(&s->ib, thread, id, record_str(rec,
	    "send_at"), decide, &d, &after, &e);
	if (rc < 0) {
		send_warn(s, "%s: %s", j->where, e.msg);
		if (!(j->msg = json_pack("{s:s,s:s?,s:s?,s:s,s:o}", "type",
		    "message", "thread", thread, "id", id, "status",
		    "scheduled", "error", send_error(errno == EINVAL ?
		    "permanent" : "transient", 0, e.msg))))
			send_nomem();
		j->oc = errno == EINVAL ? PERMANENT : TEMPORARY;
		j->state = J_DONE;
	} else if (rc > 0) {
		/* Claimed or changed by another run, or not due after all. */
		json_decref(after);
		j->state = J_DROP;
	} else if ((st = record_str(after, "status")) &&
	    strcmp(st, "queued") == 0) {
		j->msg = after;
		j->state = J_SEND;
	} else {
		send_warn(s, "%s: %s", j->where, d.why);
		j->msg = after;
		j->oc = inbox_is_scheduled(after) ? OK : PERMANENT;
		j->state = J_DONE;
	}
	json_decref(rec);
}

int
send_still_claimed(struct send *s, const json_t *msg)
{
	const char *thread = record_str(msg, "thread");
	const char *id = record_str(msg, "id");
	const char *at = record_str(msg, "at"), *st;
	struct errbuf e;
	json_t *now;
	int ours;

	if (!record_str(msg, "send_at") || !s->have_inbox || !thread || !id)
		return 1;
	if (!(now = inbox_message(&s->ib, thread, id, &e))) {
		send_warn(s, "%s: %s", thread, e.msg);
		return 0;
	}
	st = record_str(now, "status");
	ours = st && strcmp(st, "queued") == 0 &&
	    !record_str(now, "provider_id") && at && record_str(now, "at") &&
	    strcmp(at, record_str(now, "at")) == 0;
	json_decref(now);
	if (!ours)
		send_warn(s, "%s: %s: no longer this run's to send (scheduled "
		    "again meanwhile); not sent", thread, id);
	return ours;
}

void
send_due(struct send *s)
{
	struct inbox_due *v;
	struct workers *wk;
	struct errbuf e;
	struct job *j;
	size_t n, i;

	if (inbox_schedule_list(&s->ib, when_now(), &v, &n, &e) < 0) {
		send_warn(s, "%s", e.msg);
		s->ret = diag_exit_for(errno);
		return;
	}
	if (n == 0) {
		free(v);
		return;
	}
	wk = workers_start(s);
	for (i = 0; i < n && !send_stopped(s); i++) {
		if (!(j = calloc(1, sizeof *j)))
			send_nomem();
		j->due = 1;
		j->lk = -1;
		if (!(j->rec = json_pack("{s:s,s:s,s:s}", "thread", v[i].thread,
		    "id", v[i].id, "send_at", v[i].send_at)))
			send_nomem();
		snprintf(j->where, sizeof j->where, "%s", v[i].thread);
		workers_put(wk, j);
	}
	workers_end(wk);
	free(v);
}

/* --cancel and --reschedule: what is asked, for change(). */
struct edit {
	struct send *s;
	int cancel;
};

/* inbox_schedule_change()'s fn for --cancel and --reschedule. */
static int
change(json_t *msg, void *arg, struct errbuf *e)
{
	struct edit *ed = arg;
	char at[WHEN_BUFSZ], x[WHEN_BUFSZ];
	time_t until;

	when_format(when_now(), at);
	if (ed->cancel) {
		json_object_set_new(msg, "status", json_string("canceled"));
		json_object_set_new(msg, "canceled_at", json_string(at));
		json_object_set_new(msg, "error", send_error("canceled", 0,
		    "canceled by hand (sms-send --cancel)"));
		return 0;
	}
	when_format(ed->s->send_at, at);
	if (ed->s->expire) {
		if (expiry(ed->s->expire, ed->s->send_at, &until, e) < 0)
			return -1;
		if (until <= ed->s->send_at)
			return errno = EINVAL, errf(e, "--expire: %s is not "
			    "after %s", ed->s->expire, at);
		when_format(until, x);
		json_object_set_new(msg, "expires_at", json_string(x));
	} else if (record_str(msg, "expires_at") &&
	    send_latest(msg) <= ed->s->send_at) {
		return errno = EINVAL, errf(e, "it expires at %s, before "
		    "%s: give --expire too", record_str(msg, "expires_at"),
		    at);
	}
	json_object_set_new(msg, "send_at", json_string(at));
	return 0;
}

/* Whether key k is key, or key-N, a line of a run given --key key. */
static int
of_key(const char *k, const char *key)
{
	size_t n = strlen(key);

	if (!k || strncmp(k, key, n) != 0)
		return 0;
	return k[n] == '\0' || (k[n] == '-' && k[n + 1] &&
	    strspn(k + n + 1, "0123456789") == strlen(k + n + 1));
}

/* One scheduled message changed, and written out; where says whence. */
static void
edit_one(struct send *s, struct edit *ed, const char *thread, const char *id,
    const char *listed_at, const char *where, int said)
{
	struct errbuf e;
	json_t *after;
	int rc;

	rc = inbox_schedule_change(&s->ib, thread, id, listed_at, change, ed,
	    &after, &e);
	if (rc < 0) {
		send_warn(s, "%s: %s", where, e.msg);
		pthread_mutex_lock(&s->lock);
		s->ret = errno == EINVAL ? EXIT_PARTIAL : diag_exit_for(errno);
		pthread_mutex_unlock(&s->lock);
	} else if (rc == 0) {
		send_emit(s, after, OK);
	} else if (said) {
		/* Asked for by name: say it was not there to change. */
		send_warn(s, "%s: %s/%s: not scheduled (%s)", where, thread,
		    id, after ? record_str(after, "status") ?
		    record_str(after, "status") : "no status" :
		    "no such message");
		pthread_mutex_lock(&s->lock);
		s->ret = EXIT_PARTIAL;
		pthread_mutex_unlock(&s->lock);
	}
	json_decref(after);
}

void
send_change_scheduled(struct send *s, int cancel, const char *id,
    const char *thread, const char *key)
{
	struct edit ed = { .s = s, .cancel = cancel };
	struct record_reader rr;
	struct inbox_due *v;
	struct errbuf e;
	json_t *rec, *m;
	size_t n, i, hit = 0;
	char where[64];
	int rc;

	if (!id && !thread && !key) {
		record_reader_init(&rr, stdin, "stdin");
		while ((rc = record_read(&rr, &rec, &e)) != 0) {
			snprintf(where, sizeof where, "stdin:%lu", rr.lineno);
			if (rc < 0) {
				send_warn(s, "%s", e.msg);
				s->ret = ferror(stdin) ? EXIT_IOERR :
				    EXIT_PARTIAL;
				if (ferror(stdin))
					break;
				continue;
			}
			if (!record_str(rec, "thread") ||
			    !record_str(rec, "id")) {
				send_warn(s, "%s: a record without \"thread\" "
				    "and \"id\": no message to change", where);
				s->ret = EXIT_PARTIAL;
			} else {
				edit_one(s, &ed, record_str(rec, "thread"),
				    record_str(rec, "id"), NULL, where, 1);
			}
			json_decref(rec);
		}
		record_reader_free(&rr);
		return;
	}
	if (inbox_schedule_list(&s->ib, -1, &v, &n, &e) < 0) {
		send_warn(s, "%s", e.msg);
		s->ret = diag_exit_for(errno);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((id && strcmp(v[i].id, id) != 0) ||
		    (thread && strcmp(v[i].thread, thread) != 0))
			continue;
		if (key) {
			/* The index has no keys: the message says. */
			if (!(m = inbox_message(&s->ib, v[i].thread, v[i].id,
			    NULL)))
				continue;
			rc = of_key(record_str(m, "key"), key);
			json_decref(m);
			if (!rc)
				continue;
		}
		hit++;
		edit_one(s, &ed, v[i].thread, v[i].id, v[i].send_at,
		    v[i].thread, 0);
	}
	free(v);
	if (!hit) {
		send_warn(s, "no scheduled message%s%s%s%s%s%s", id ?
		    " of --id " : "", id ? id : "", thread ? " of --thread " :
		    "", thread ? thread : "", key ? " of --key " : "",
		    key ? key : "");
		s->ret = EXIT_PARTIAL;
	}
}
