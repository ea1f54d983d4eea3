/*
 * multi.c: many requests in flight from one thread, multi.h.
 *
 * A job in the engine is in one of three places: the ready line (its next
 * attempt may start: in order, each first takes its --rate slot, and the
 * line waits while its head's slot is in the future), the waiting set (a
 * backoff before a retry, a timer each), or in flight on a connection (an
 * easy handle of the pool, with its exchange, struct http). Just before a
 * request is added, the credentials, quiet hours at the recipient and the
 * consent ledger are checked again, as send_job() did before each
 * attempt. One curl_multi_poll() waits for all of it: answers, the
 * earliest timer, and multi_wake() from a thread that has more work.
 *
 * The provider builds each message's request (send_request, once for all
 * its attempts) and says what each answer means (send_answer); http.c
 * sets a handle up for it, where what libcurl does on its own is held to
 * what is safe for a request that may create a message: a body that left
 * is never sent again on a fresh connection, so such an exchange ends
 * "unknown"; a body that never left is a transient error, retried.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "provider.h"
#include "record.h"
#include "send.h"
#include "send/multi.h"

#define BACKOFF_BASE 0.25	/* seconds; doubled per attempt */
#define BACKOFF_CAP 20.0
#define IDLE_MS 1000		/* the longest wait without a timer */

struct mjob;

/* An easy handle and its exchange, reused request after request. */
struct conn {
	CURL *c;
	struct curl_slist *hdr;		/* in flight: its headers */
	struct http h;
	char cerr[CURL_ERROR_SIZE];
	struct mjob *mj;		/* in flight: whose */
	struct conn *next;		/* in the free list */
};

/* A job in the engine, between its attempts. */
struct mjob {
	struct job *j;
	struct provider_http rq;	/* the request, made once for each
					   provider it goes to */
	int built, picked;		/* rq is made; via is chosen */
	int via, probe;			/* the provider it goes to
					   (failover_pick()), and whether
					   this is the probe of its end of
					   a cool-down */
	unsigned tried;			/* providers it failed at, a bit
					   each */
	long attempt;			/* attempts made (at via) */
	double at;			/* waiting: until; slotted: the slot */
	int slotted;			/* its --rate slot is taken */
	struct mjob *next;
};

struct multi {
	struct send *s;
	struct worker *w;
	CURLM *m;
	long max, busy;
	struct conn *free;
	struct mjob *ready, **tail;	/* the ready line */
	struct mjob *waiting;		/* backoffs */
	void (*done)(void *arg, struct job *j);
	void *arg;
};

/* A uniform random number in [0, 1) (xorshift*; jitter only). */
static double
jitter(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (double)((w->rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* A new handle for the pool. */
static struct conn *
conn_new(void)
{
	struct conn *k = calloc(1, sizeof *k);

	if (!k || !(k->c = curl_easy_init()))
		send_nomem();
	return k;
}

static void
conn_free(struct conn *k)
{
	curl_easy_cleanup(k->c);
	curl_slist_free_all(k->hdr);
	buf_free(&k->h.resp);
	free(k);
}

struct multi *
multi_new(struct worker *w, long max, void (*done)(void *arg, struct job *j),
    void *arg)
{
	struct multi *m = calloc(1, sizeof *m);

	if (!m || !(m->m = curl_multi_init()))
		send_nomem();
	m->s = w->s;
	m->w = w;
	m->max = max < 1 ? 1 : max;
	m->tail = &m->ready;
	m->done = done;
	m->arg = arg;
	/* A connection a request, kept alive for the next. */
	curl_multi_setopt(m->m, CURLMOPT_MAX_HOST_CONNECTIONS, m->max);
	curl_multi_setopt(m->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, m->max);
	curl_multi_setopt(m->m, CURLMOPT_MAXCONNECTS, m->max);
	return m;
}

void
multi_free(struct multi *m)
{
	struct conn *k;

	if (!m)
		return;
	while ((k = m->free)) {
		m->free = k->next;
		conn_free(k);
	}
	curl_multi_cleanup(m->m);
	free(m);
}

long
multi_busy(const struct multi *m)
{
	return m->busy;
}

int
multi_room(const struct multi *m)
{
	return m->busy < m->max;
}

void
multi_wake(struct multi *m)
{
	curl_multi_wakeup(m->m);
}

void
multi_add(struct multi *m, struct job *j)
{
	struct mjob *mj = calloc(1, sizeof *mj);

	if (!mj)
		send_nomem();
	mj->j = j;
	*m->tail = mj;
	m->tail = &mj->next;
	m->busy++;
}

/* The message ended: j gets the answer (status, id, error), to settle. */
static void
end(struct multi *m, struct mjob *mj, const char *status, const char *pid,
    json_t *err)
{
	struct send *s = m->s;
	struct job *j = mj->j;

	if (err && strcmp(record_str(err, "code"), "auth") == 0) {
		/* Now, not when the answer is settled: no other request
		 * may start. */
		pthread_mutex_lock(&s->lock);
		s->auth = 1;
		atomic_store(&s->stop, 1);
		pthread_mutex_unlock(&s->lock);
	}
	j->state = J_SENT;
	j->err = err;
	j->via = mj->via;
	if ((pid && !(j->pid = strdup(pid))) ||
	    !(j->status = strdup(status)))
		send_nomem();
	provider_http_free(&mj->rq);
	free(mj);
	m->busy--;
	m->done(m->arg, j);
}

/*
 * mj ends before any request as no longer this run's (a scheduled
 * message claimed again by another: send_still_claimed()): nothing is
 * settled, nothing written out.
 */
static void
drop(struct multi *m, struct mjob *mj)
{
	struct job *j = mj->j;

	j->state = J_DROP;
	provider_http_free(&mj->rq);
	free(mj);
	m->busy--;
	m->done(m->arg, j);
}

/*
 * mj handed to a provider that takes messages by file (deliver()), in
 * place of a request: it ends at once, taken or not (nothing to retry:
 * a write that failed left nothing behind).
 */
static void
deliver(struct multi *m, struct mjob *mj)
{
	const struct provider_account *a = send_account(m->s, mj->via);
	struct provider_answer an;
	struct errbuf e;

	mj->attempt++;
	if (a->pv->deliver(a, mj->j->msg, &an, &e) < 0)
		send_nomem();
	if (an.outcome == PROVIDER_TAKEN)
		end(m, mj, an.status, an.id, NULL);
	else
		end(m, mj, an.outcome == PROVIDER_UNKNOWN ? "unknown" :
		    "failed", NULL, send_error(an.class, (json_int_t)an.code,
		    an.message[0] ? an.message : NULL));
}

/* Start mj's next attempt on a handle of the pool. */
static void
request(struct multi *m, struct mjob *mj)
{
	struct conn *k = m->free;
	CURLMcode mc;

	if (send_account(m->s, mj->via)->pv->deliver) {
		deliver(m, mj);
		return;
	}
	if (k)
		m->free = k->next;
	else
		k = conn_new();
	k->mj = mj;
	k->hdr = http_setup(k->c, &mj->rq, &k->h, m->s->timeout, k->cerr);
	curl_easy_setopt(k->c, CURLOPT_PRIVATE, k);
	mj->attempt++;
	if ((mc = curl_multi_add_handle(m->m, k->c)) != CURLM_OK) {
		curl_slist_free_all(k->hdr);
		k->hdr = NULL;
		k->next = m->free;
		m->free = k;
		end(m, mj, "failed", NULL, send_error("transient", 0,
		    curl_multi_strerror(mc)));
	}
}

/*
 * Start what may start, in the order of the ready line: each message
 * takes its --rate slot (the line waits while the head's is to come),
 * then is checked again (credentials, quiet hours, consent) and sent.
 */
static void
start(struct multi *m)
{
	struct send *s = m->s;
	struct mjob *mj;
	struct errbuf e;
	char why[200];
	json_t *err;

	while ((mj = m->ready)) {
		if (!send_stopped(s) && s->rate > 0 && !mj->slotted) {
			if (rate_slot(s, &mj->at, &e) < 0) {
				send_warn(s, "%s", e.msg);
				err = send_error("transient", 0, e.msg);
				goto ended;
			}
			mj->slotted = 1;
		}
		if (!send_stopped(s) && mj->slotted && mj->at > rate_now())
			return;
		mj->slotted = 0;
		if (send_stopped(s)) {
			err = send_error("not_sent", 0, "not sent: the "
			    "provider rejected the credentials");
			goto ended;
		}
		if (quiet_now(s, mj->j->msg, why, sizeof why)) {
			/* Nothing went out: no attempt was made, or the
			 * ones made were refused (429, 503). */
			mj->j->waited = 1;
			err = send_error("quiet_hours", 0, why);
			goto ended;
		}
		if ((err = opted_out_now(s, mj->j->msg)))
			goto ended;
		if (!(m->ready = mj->next))
			m->tail = &m->ready;
		mj->next = NULL;
		if (!send_still_claimed(s, mj->j->msg)) {
			drop(m, mj);
			continue;
		}
		if (!mj->built) {
			struct provider_account *a;

			/* A first attempt (a failover picked already). */
			if (!mj->picked)
				mj->via = failover_pick(s, 0, record_str(
				    mj->j->msg, "from"), &mj->probe);
			mj->picked = 1;
			a = send_account(s, mj->via);
			if (!a->pv->deliver && a->pv->send_request(a,
			    mj->j->msg, &mj->rq) < 0)
				send_nomem();
			mj->built = 1;
		}
		request(m, mj);
		continue;
ended:
		if (!(m->ready = mj->next))
			m->tail = &m->ready;
		mj->next = NULL;
		end(m, mj, "failed", NULL, err);
	}
}

/* Backoffs that are over, to the end of the ready line. */
static void
promote(struct multi *m)
{
	struct mjob **p = &m->waiting, *mj;
	double now = rate_now();

	while ((mj = *p)) {
		if (mj->at > now && !send_stopped(m->s)) {
			p = &mj->next;
			continue;
		}
		*p = mj->next;
		mj->next = NULL;
		*m->tail = mj;
		m->tail = &mj->next;
	}
}

/*
 * What the answer to mj's attempt on k means: the message ends (status,
 * id, error), or err is a reason to try again. The provider reads an
 * answer that came (send_answer); an exchange that failed is unknown if
 * the body left, for it may have been processed, else transient. Returns
 * 1 if it may be retried.
 */
static int
read_answer(struct multi *m, struct mjob *mj, struct conn *k, CURLcode cc,
    const char **status, struct provider_answer *an, const char **pid,
    json_t **err)
{
	struct http *h = &k->h;
	const char *msg = k->cerr[0] ? k->cerr : curl_easy_strerror(cc);

	*status = "failed";
	*pid = NULL;
	an->outcome = PROVIDER_UNKNOWN;
	if (cc != CURLE_OK) {
		if (h->off == 0 && !h->rewound) {
			/* The body never left: not processed. */
			*err = send_error("transient", 0, msg);
			return 1;
		}
		*status = "unknown";
		*err = send_error("unknown", 0, msg);
		return 0;
	}
	send_account(m->s, mj->via)->pv->send_answer(h->status,
	    h->retry_after, h->resp.p, h->resp.len, an);
	if (an->outcome == PROVIDER_TAKEN) {
		if (an->nids > 1 && !mj->j->pids) {
			if (!(mj->j->pids = json_array()))
				send_nomem();
			for (int i = 0; i < an->nids; i++)
				json_array_append_new(mj->j->pids,
				    json_string(an->ids[i]));
		}
		*pid = an->id;
		*status = an->status;
		*err = NULL;
		return 0;
	}
	/* May have been processed: never sent blindly again (smsdesk(7),
	 * GUARANTEES). */
	if (an->outcome == PROVIDER_UNKNOWN)
		*status = "unknown";
	mj->j->optout = an->outcome == PROVIDER_FAILED &&
	    strcmp(an->class, "opted_out") == 0;
	*err = send_error(an->class, (json_int_t)an->code,
	    an->message[0] ? an->message : NULL);
	return an->outcome == PROVIDER_RETRY;
}

/*
 * With a list of providers: what the outcome of mj's attempt at its
 * provider means for the others (sms-send(1), Failover). A failure of
 * the provider's side cools it down: no answer, a 5xx, rejected
 * credentials, a busy or throttled answer. One that proves the message
 * was not taken sends it through the next provider, at once: the body
 * never left (a connection refused or reset), a 503 that asks to come
 * back later, a "transient" refusal, rejected credentials, a 429 once
 * its retries are spent. Never an outcome that may have sent it (no
 * answer once the body left, another 5xx, an answer without an id), nor
 * a refusal of the recipient (an invalid number or an opt-out is the
 * same on every carrier), nor any other refusal of the message. A probe
 * that is taken ends its provider's cool-down. Returns 1 if mj goes on
 * through another provider (back in the ready line), else 0.
 */
static int
failover(struct multi *m, struct mjob *mj, CURLcode cc,
    const struct provider_answer *an, int retry, double retry_after,
    const json_t *err)
{
	struct send *s = m->s;
	struct provider_account *a = send_account(s, mj->via);
	const char *cls = err ? record_str(err, "code") : NULL;
	int fo, next, probe;
	json_t *item;

	if (cc == CURLE_OK && an->outcome == PROVIDER_TAKEN) {
		if (mj->probe)
			failover_ok(s, mj->via);
		return 0;
	}
	if (cc != CURLE_OK || an->outcome == PROVIDER_UNKNOWN)
		fo = retry;	/* the body never left, or unknown */
	else if (an->outcome == PROVIDER_RETRY)
		fo = strcmp(cls, "throttled") != 0 ||
		    mj->attempt > s->retries;
	else if (strcmp(cls, "auth") == 0 || strcmp(cls, "transient") == 0)
		fo = 1;
	else
		return 0;	/* the message's own fault: no failure */
	if (!fo && retry)
		return 0;	/* throttled: retried there first */
	failover_cool(s, mj->via, retry_after, err);
	if (!fo || send_stopped(s) || (next = failover_pick(s, mj->tried |
	    1u << mj->via, NULL, &probe)) < 0)
		return 0;
	if (!mj->j->failover && !(mj->j->failover = json_array()))
		send_nomem();
	if (!(item = json_pack("{s:s,s:s?,s:O}", "provider", a->pv->name,
	    "from", a->from ? a->from : a->service, "error", err)) ||
	    json_array_append_new(mj->j->failover, item) < 0)
		send_nomem();
	send_warn(s, "%s: %s failed before taking it (%s); through %s",
	    record_str(mj->j->msg, "thread"), a->pv->name, cls,
	    send_account(s, next)->pv->name);
	mj->tried |= 1u << mj->via;
	mj->via = next;
	mj->probe = probe;
	provider_http_free(&mj->rq);
	mj->built = 0;
	mj->attempt = 0;
	mj->slotted = 0;
	mj->next = NULL;
	*m->tail = mj;
	m->tail = &mj->next;
	return 1;
}

/* An exchange finished on k: the message ends, or waits to try again. */
static void
answered(struct multi *m, struct conn *k, CURLcode cc)
{
	struct send *s = m->s;
	struct mjob *mj = k->mj;
	struct provider_answer an;
	const char *status, *pid;
	json_t *err;
	double delay, cap;
	int retry;

	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &k->h.status);
	curl_multi_remove_handle(m->m, k->c);
	curl_slist_free_all(k->hdr);
	k->hdr = NULL;
	if (k->h.resp.err)
		send_nomem();
	k->mj = NULL;
	retry = read_answer(m, mj, k, cc, &status, &an, &pid, &err);
	if (s->nalt && failover(m, mj, cc, &an, retry, k->h.retry_after,
	    err)) {
		k->next = m->free;
		m->free = k;
		json_decref(err);
		return;
	}
	if (!retry || mj->attempt > s->retries || send_stopped(s)) {
		k->next = m->free;
		m->free = k;
		end(m, mj, status, pid, err);
		return;
	}
	json_decref(err);
	/* Exponential backoff with full jitter, at least Retry-After. */
	cap = BACKOFF_BASE * (double)(1UL << (mj->attempt - 1 < 20 ?
	    mj->attempt - 1 : 20));
	delay = jitter(m->w) * (cap < BACKOFF_CAP ? cap : BACKOFF_CAP);
	if (k->h.retry_after > delay)
		delay = k->h.retry_after;
	k->next = m->free;
	m->free = k;
	mj->at = rate_now() + delay;
	mj->next = m->waiting;
	m->waiting = mj;
}

/* Milliseconds until the first timer, at most max (-1: IDLE_MS). */
static int
next_timer(const struct multi *m, int max)
{
	double now = rate_now(), t = -1, d;
	const struct mjob *mj;
	int ms;

	for (mj = m->waiting; mj; mj = mj->next)
		if (t < 0 || mj->at < t)
			t = mj->at;
	if (m->ready && m->ready->slotted && (t < 0 || m->ready->at < t))
		t = m->ready->at;
	if (max < 0)
		max = IDLE_MS;
	if (t < 0)
		return max;
	d = ceil((t - now) * 1000);
	ms = d <= 0 ? 0 : d > max ? max : (int)d;
	return ms;
}

void
multi_run(struct multi *m, int timeout_ms)
{
	struct CURLMsg *msg;
	int running, left;

	promote(m);
	start(m);
	curl_multi_poll(m->m, NULL, 0, next_timer(m, timeout_ms), NULL);
	curl_multi_perform(m->m, &running);
	while ((msg = curl_multi_info_read(m->m, &left))) {
		char *k;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &k);
		answered(m, (struct conn *)(void *)k, msg->data.result);
	}
	promote(m);
	start(m);
}

/* multi_send(): the one job is back. */
static void
one_done(void *arg, struct job *j)
{
	(void)j;
	*(int *)arg = 1;
}

void
multi_send(struct worker *w, struct job *j)
{
	int done = 0;
	struct multi *m = multi_new(w, 1, one_done, &done);

	multi_add(m, j);
	while (!done)
		multi_run(m, -1);
	multi_free(m);
}
