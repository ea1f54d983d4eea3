/*
 * jobs.c: the steps of a message's life, in time order.
 *
 * A created message is queued; a job moves it to sent, another to
 * delivered or to its --fail status, and a third, with --reply, has the
 * recipient text back. A scheduled one waits first (schedule.c): once
 * released it is queued, which is posted, and goes on from there; one
 * canceled has its "canceled" posted. A WhatsApp message delivered is
 * read --read-after later, and that is posted too (an SMS never is).
 * Jobs wait in a heap in the order they fall due, on CLOCK_MONOTONIC,
 * and a pool of worker threads runs them, posting each step to the
 * message's StatusCallback. A step is scheduled only once the one
 * before it was posted, so one message's callbacks come in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "diag.h"

#include "sms-sim/sim.h"

#define FINAL_MS 30		/* from "sent" to the final status */
#define REPLY_MS 50		/* from "delivered" to a --reply */

static void
add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static int
job_before(const struct job *a, const struct job *b)
{
	if (a->due.tv_sec != b->due.tv_sec)
		return a->due.tv_sec < b->due.tv_sec;
	if (a->due.tv_nsec != b->due.tv_nsec)
		return a->due.tv_nsec < b->due.tv_nsec;
	return a->seq < b->seq;
}

/*
 * Steps fall due on ticks of this many milliseconds, so that the steps of
 * messages created close together run on one wakeup, not one each.
 */
#define TICK_MS 5

int
sim_schedule(struct sim *s, struct msg *m, enum step step, unsigned ms)
{
	struct job j = { .m = m, .step = step };
	const long tick = TICK_MS * 1000000L;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &j.due);
	add_ms(&j.due, ms);
	if (j.due.tv_nsec % tick) {
		j.due.tv_nsec += tick - j.due.tv_nsec % tick;
		if (j.due.tv_nsec >= 1000000000L) {
			j.due.tv_sec++;
			j.due.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&s->jlock);
	if (s->njobs == s->jcap) {
		size_t cap = s->jcap ? s->jcap * 2 : 256;
		struct job *v = realloc(s->heap, cap * sizeof *v);

		if (!v) {
			pthread_mutex_unlock(&s->jlock);
			return -1;
		}
		s->heap = v;
		s->jcap = cap;
	}
	j.seq = s->jseq++;
	for (i = s->njobs++; i > 0 && job_before(&j, &s->heap[(i - 1) / 2]);
	    i = (i - 1) / 2)
		s->heap[i] = s->heap[(i - 1) / 2];
	s->heap[i] = j;
	/* A job due after heap[0] is the watcher's anyway: no wakeup. */
	if (!s->watching)
		pthread_cond_signal(&s->jcond);
	else if (i == 0)
		pthread_cond_signal(&s->tcond);
	pthread_mutex_unlock(&s->jlock);
	return 0;
}

static void
heap_pop_locked(struct sim *s)
{
	struct job last = s->heap[--s->njobs];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < s->njobs) {
		if (c + 1 < s->njobs && job_before(&s->heap[c + 1],
		    &s->heap[c]))
			c++;
		if (!job_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->njobs > 0)
		s->heap[i] = last;
}

static void run_job(struct sim *s, CURL *h, const struct job *j);

/*
 * Wait for the next job that is due. Returns 1 with *j, 0 when stopping.
 * One worker at a time waits for heap[0] to fall due (the watcher); the
 * others sleep until the watcher takes a job and hands the clock on, so
 * that a job wakes one thread, not all of them.
 */
static int
take(struct sim *s, CURL *h, struct job *j)
{
	struct timespec now;

	pthread_mutex_lock(&s->jlock);
	for (;;) {
		if (s->stopping) {
			pthread_mutex_unlock(&s->jlock);
			return 0;
		}
		if (s->njobs == 0 || s->watching) {
			pthread_cond_wait(&s->jcond, &s->jlock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!job_before(&(struct job){ .due = now, .seq = UINT64_MAX },
		    &s->heap[0])) {
			*j = s->heap[0];
			heap_pop_locked(s);
			if (!j->m->callback && j->step != STEP_REPLY) {
				/* It only changes the store: run it here,
				 * still the watcher, so no one else wakes. */
				s->watching = 1;
				pthread_mutex_unlock(&s->jlock);
				run_job(s, h, j);
				pthread_mutex_lock(&s->jlock);
				s->watching = 0;
				continue;
			}
			/* It posts, which may take a while: someone idle
			 * watches the next one meanwhile. */
			if (s->njobs > 0)
				pthread_cond_signal(&s->jcond);
			pthread_mutex_unlock(&s->jlock);
			return 1;
		}
		s->watching = 1;
		pthread_cond_timedwait(&s->tcond, &s->jlock, &s->heap[0].due);
		s->watching = 0;
	}
}

/* One step of a message's life: its status moves on and is posted. */
static void
run_job(struct sim *s, CURL *h, const struct job *j)
{
	struct msg *m = j->m;
	const char *status;
	char err[CURL_ERROR_SIZE];
	long http;
	int code = 0, reply, read, outright;

	if (j->step == STEP_RELEASE && !sim_release(s, m))
		return;
	if (j->step == STEP_RELEASE || j->step == STEP_QUEUED) {
		/* Released: a STOP since it was scheduled fails it. */
		if (sim_opted_out(s, m->to, m->from)) {
			pthread_mutex_lock(&s->lock);
			m->fail_status = "failed";
			m->fail_code = 21610;
			pthread_mutex_unlock(&s->lock);
		}
		if (m->callback)
			sim_post_status(s, h, m, "queued", 0);
		pthread_mutex_lock(&s->lock);
		outright = m->fail_status && strcmp(m->fail_status,
		    "failed") == 0;
		pthread_mutex_unlock(&s->lock);
		if (sim_schedule(s, m, outright ? STEP_FINAL : STEP_SENT,
		    SENT_MS) < 0)
			diag_warn("%s: cannot schedule: %s", m->sid,
			    strerror(ENOMEM));
		return;
	}
	if (j->step == STEP_CANCELED) {
		sim_post_status(s, h, m, "canceled", 0);
		return;
	}
	if (j->step == STEP_REPLY) {
		/* On the channel the message came on. */
		struct sender who = { .whatsapp = m->whatsapp };

		if (!sim_text_in(s, h, m->to, m->from, &who, s->reply,
		    strlen(s->reply), &http, err))
			diag_warn("reply from %s: %s", m->to, strerror(ENOMEM));
		return;
	}
	if (j->step == STEP_READ) {
		pthread_mutex_lock(&s->lock);
		m->status = "read";
		m->updated = sim_now(s);
		pthread_mutex_unlock(&s->lock);
		if (m->callback)
			sim_post_status(s, h, m, "read", 0);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (j->step == STEP_SENT) {
		status = "sent";
		m->sent = sim_now(s);
		m->priced = 1;
	} else if (m->fail_status) {
		status = m->fail_status;
		code = m->error_code = m->fail_code;
	} else {
		status = "delivered";
	}
	m->status = status;
	m->updated = sim_now(s);
	reply = j->step == STEP_FINAL && !m->fail_status && s->reply &&
	    strcmp(m->direction, "outbound-api") == 0;
	read = j->step == STEP_FINAL && !m->fail_status && m->whatsapp &&
	    s->read_after >= 0;
	pthread_mutex_unlock(&s->lock);
	if (m->callback)
		sim_post_status(s, h, m, status, code);
	if ((j->step == STEP_SENT && sim_schedule(s, m, STEP_FINAL,
	    FINAL_MS) < 0) || (read && sim_schedule(s, m, STEP_READ,
	    (unsigned)s->read_after) < 0) || (reply && sim_schedule(s, m,
	    STEP_REPLY, REPLY_MS) < 0))
		diag_warn("%s: cannot schedule: %s", m->sid, strerror(ENOMEM));
}

void *
sim_worker(void *arg)
{
	struct sim *s = arg;
	CURL *h = curl_easy_init();
	struct job j;

	if (!h) {
		diag_warn("cannot start a libcurl handle");
		return NULL;
	}
	while (take(s, h, &j))
		run_job(s, h, &j);
	curl_easy_cleanup(h);
	return NULL;
}
