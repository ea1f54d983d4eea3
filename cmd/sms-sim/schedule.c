/*
 * schedule.c: the sim's clock, and Twilio's own scheduling.
 *
 * The clock is when_now()'s (SMSDESK_NOW pinned, or running from a time
 * with a '+', else the system's) plus an offset that POST /sim/clock
 * moves, so a test can pin the sim's time and then step it past a SendAt
 * instead of waiting for it. The clock stamps the messages too.
 *
 * A create with ScheduleType=fixed and SendAt, through a Messaging
 * Service, is stored "scheduled" and waits. It goes out when the clock
 * reaches its SendAt: on a running clock a STEP_RELEASE job waits for it
 * (an hour at most at a time, so that a clock moved back is noticed); a
 * move of the clock releases at once every message it made due, before
 * it is answered. Released, a message is "queued" (posted to its
 * StatusCallback, as a change from "scheduled" is) and lives on as any
 * other. A message is released once: it is taken from "scheduled" under
 * s->lock, and a job or a move that finds it taken does nothing. Cancel
 * (POST Status=canceled) takes it from "scheduled" under the same lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "when.h"

#include "sms-sim/sim.h"

#define ARM_MAX 3600		/* s: the longest a release job waits */

time_t
sim_now(const struct sim *s)
{
	return when_now() + (time_t)atomic_load(&s->clock_offset);
}

int
sim_schedule_check(struct sim *s, const struct form *f, const char *ms,
    time_t *send_at, struct answer *a)
{
	const char *type = form_get(f, "ScheduleType");
	const char *at = form_get(f, "SendAt");
	struct errbuf e;
	long long ahead;
	time_t t;

	*send_at = 0;
	/* A SendAt without ScheduleType schedules nothing. */
	if (!type)
		return 0;
	if (strcmp(type, "fixed") != 0)
		return sim_error(a, 400, 35126, "The ScheduleType value "
		    "provided is not supported for this channel: '%.40s' is "
		    "not 'fixed'", type);
	if (!ms || !*ms)
		return sim_error(a, 400, 35118, "MessagingServiceSid is "
		    "required to schedule a message");
	if (!at || !*at)
		return sim_error(a, 400, 35111, "SendAt timestamp is missing: "
		    "you must indicate SendAt if ScheduleType is 'fixed'");
	/* A date and time; a bare date is no timestamp. */
	if (strlen(at) <= 10 || when_parse(at, &t, &e) < 0)
		return sim_error(a, 400, 35114, "Scheduling does not support "
		    "this timestamp: SendAt '%.40s' is not an ISO 8601 time "
		    "such as 2030-01-01T09:00:00Z", at);
	ahead = (long long)t - (long long)sim_now(s);
	if (ahead < (long long)s->schedule_min || ahead > SCHEDULE_MAX)
		return sim_error(a, 400, 35114, "Scheduling does not support "
		    "this timestamp: SendAt time must be between %u seconds "
		    "and 35 days (%d seconds) in the future, inclusive",
		    s->schedule_min, SCHEDULE_MAX);
	*send_at = t;
	return 0;
}

/* Wake for m in left seconds (an hour at most), if the clock runs: a
 * pinned clock only moves by POST /sim/clock, which releases by itself. */
static void
arm(struct sim *s, struct msg *m, long long left)
{
	if (!s->clock_runs)
		return;
	if (left < 0)
		left = 0;
	if (left > ARM_MAX)
		left = ARM_MAX;
	if (sim_schedule(s, m, STEP_RELEASE, (unsigned)left * 1000) < 0)
		diag_warn("%s: cannot schedule: %s", m->sid, strerror(ENOMEM));
}

void
sim_schedule_start(struct sim *s, struct msg *m)
{
	arm(s, m, (long long)m->send_at - (long long)sim_now(s));
}

/* Whether m is waiting for its SendAt; s->lock held. */
static int
waiting_locked(const struct msg *m)
{
	return !m->deleted && strcmp(m->status, "scheduled") == 0;
}

/* Release m, waiting and due; s->lock held. */
static void
release_locked(struct msg *m, time_t now)
{
	m->status = "queued";
	m->updated = now;
	m->from_pending = 0;
}

int
sim_release(struct sim *s, struct msg *m)
{
	long long left = 0;
	int out = 0, wait;
	time_t now;

	pthread_mutex_lock(&s->lock);
	if ((wait = waiting_locked(m))) {
		now = sim_now(s);
		if (now >= m->send_at) {
			release_locked(m, now);
			out = 1;
			wait = 0;
		} else {
			left = (long long)m->send_at - (long long)now;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (wait)
		arm(s, m, left);
	return out;
}

int
sim_cancel_locked(struct sim *s, struct msg *m, struct answer *a)
{
	if (strcmp(m->status, "scheduled") != 0)
		return sim_error(a, 400, 30409, "This message cannot be "
		    "canceled: its status is %s, not scheduled", m->status);
	m->status = "canceled";
	m->updated = sim_now(s);
	return 0;
}

/*
 * Release every waiting message that is due at now, and wait anew for
 * the others (the clock moved). Returns how many were released, or -1 on
 * ENOMEM.
 */
static long
release_due(struct sim *s, time_t now)
{
	struct msg **due = NULL, **later = NULL;
	size_t ndue = 0, nlater = 0, n = 0, i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		n += waiting_locked(s->msgs[i]);
	if (n && (!(due = malloc(n * sizeof *due)) ||
	    !(later = malloc(n * sizeof *later)))) {
		pthread_mutex_unlock(&s->lock);
		free(due);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		struct msg *m = s->msgs[i];

		if (!waiting_locked(m))
			continue;
		if (now >= m->send_at) {
			release_locked(m, now);
			due[ndue++] = m;
		} else {
			later[nlater++] = m;
		}
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < ndue; i++)
		if (sim_schedule(s, due[i], STEP_QUEUED, 0) < 0)
			diag_warn("%s: cannot schedule: %s", due[i]->sid,
			    strerror(ENOMEM));
	for (i = 0; i < nlater; i++)
		arm(s, later[i], (long long)later[i]->send_at -
		    (long long)now);
	free(due);
	free(later);
	return (long)ndue;
}

int
sim_clock(struct sim *s, const char *method, const struct form *f,
    struct answer *a)
{
	const char *to = form_get(f, "Now"), *by = form_get(f, "Advance");
	char at[WHEN_BUFSZ];
	struct errbuf e;
	long long secs;
	long released = 0;
	time_t t, now;

	if (strcmp(method, "POST") == 0) {
		if (!to == !by)
			return sim_error(a, 400, 20001, "POST /sim/clock takes "
			    "Now=TIME or Advance=DURATION");
		if (to && when_parse(to, &t, &e) < 0)
			return sim_error(a, 400, 20001, "Invalid Now: %s",
			    e.msg);
		if (by && when_duration(by, &secs, &e) < 0)
			return sim_error(a, 400, 20001, "Invalid Advance: %s",
			    e.msg);
		if (to)
			secs = (long long)t - (long long)sim_now(s);
		atomic_fetch_add(&s->clock_offset, secs);
		if ((released = release_due(s, sim_now(s))) < 0)
			return sim_error(a, 503, 20503, "Service "
			    "unavailable: %s", strerror(ENOMEM));
	} else if (strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0) {
		return sim_error(a, 405, 20004, "Method not allowed");
	}
	now = sim_now(s);
	when_format(now, at);
	buf_addc(&a->body, '{');
	sim_jkey(&a->body, "now");
	buf_addc(&a->body, '"');
	buf_adds(&a->body, at);
	buf_addc(&a->body, '"');
	if (strcmp(method, "POST") == 0) {
		sim_jkey(&a->body, "released");
		buf_addu(&a->body, (uint64_t)released);
	}
	buf_addc(&a->body, '}');
	a->http = 200;
	if (strcmp(method, "POST") == 0)
		snprintf(a->what, sizeof a->what, "clock %s, released %ld",
		    at, released);
	else
		snprintf(a->what, sizeof a->what, "clock %s", at);
	return 200;
}
