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
 * What libcurl does on its own is held to what is safe for a request
 * that may create a message, as in http.c: a body that left is never sent
 * again on a fresh connection (on_seek()), so such an exchange ends
 * "unknown"; a body that never left is a transient error, retried.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
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
	struct curl_slist *hdr;
	struct http h;
	char cerr[CURL_ERROR_SIZE];
	struct mjob *mj;		/* in flight: whose */
	struct conn *next;		/* in the free list */
};

/* A job in the engine, between its attempts. */
struct mjob {
	struct job *j;
	struct buf url, form;		/* the request, made once */
	long attempt;			/* attempts made */
	double at;			/* waiting: until; slotted: the slot */
	int slotted;			/* its --rate slot is taken */
	struct mjob *next;
};

struct multi {
	struct send *s;
	struct worker *w;
	CURLM *m;
	CURL *esc;			/* for curl_easy_escape() only */
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

static size_t
on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t k = h->len - h->off;

	if (k > size * n)
		k = size * n;
	memcpy(dst, h->body + h->off, k);
	h->off += k;
	return k;
}

/*
 * libcurl rewinds the body to send it again on a fresh connection when a
 * reused one closed before answering: for a POST that may have been
 * processed that is a blind resend, refused (CURLE_SEND_FAIL_REWIND).
 */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct http *h = arg;

	if (off != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (h->off > 0) {
		h->rewound = 1;
		return CURL_SEEKFUNC_FAIL;
	}
	return CURL_SEEKFUNC_OK;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;

	if (buf_add(&h->resp, p, size * n) < 0)
		return 0;
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[32];

		snprintf(v, sizeof v, "%.*s", (int)(len - 12 < 31 ? len - 12 :
		    31), p + 12);
		h->retry_after = strtod(v, NULL);
		if (!(h->retry_after >= 0 && h->retry_after <= 3600))
			h->retry_after = 0;
	}
	return len;
}

/* A new handle for the pool: every option but the URL and the body. */
static struct conn *
conn_new(struct multi *m)
{
	const struct cred *cr = &m->s->cr;
	struct conn *k = calloc(1, sizeof *k);
	CURL *c;

	if (!k || !(k->c = c = curl_easy_init()))
		send_nomem();
	k->hdr = curl_slist_append(k->hdr, "Accept: application/json");
	k->hdr = curl_slist_append(k->hdr, "Expect:");
	k->hdr = curl_slist_append(k->hdr,
	    "Content-Type: application/x-www-form-urlencoded");
	if (!k->hdr)
		send_nomem();
	curl_easy_setopt(c, CURLOPT_PRIVATE, k);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, k->hdr);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, cr->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, cr->pass);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smsdesk/" SMSDESK_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, m->s->timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k->h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &k->h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &k->h);
	curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(c, CURLOPT_SEEKDATA, &k->h);
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

	if (!m || !(m->m = curl_multi_init()) || !(m->esc = curl_easy_init()))
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
	curl_easy_cleanup(m->esc);
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

/*
 * The request of a message: the account's Messages resource and the form
 * (the provider's part; made once a message, for all its attempts).
 */
static void
make_request(struct multi *m, struct mjob *mj)
{
	struct send *s = m->s;
	const json_t *msg = mj->j->msg;
	CURL *c = m->esc;

	http_messages_url(s, &mj->url);
	buf_addlit(&mj->url, ".json");
	buf_addc(&mj->url, '\0');
	http_add_param(c, &mj->form, "To", record_str(msg, "to"));
	if (s->cr.from)
		http_add_param(c, &mj->form, "From", s->cr.from);
	else
		http_add_param(c, &mj->form, "MessagingServiceSid",
		    s->cr.service);
	http_add_param(c, &mj->form, "Body", record_str(msg, "body"));
	if (s->cr.callback)
		http_add_param(c, &mj->form, "StatusCallback",
		    s->cr.callback);
	buf_addc(&mj->form, '\0');
	if (mj->url.err || mj->form.err)
		send_nomem();
}

void
multi_add(struct multi *m, struct job *j)
{
	struct mjob *mj = calloc(1, sizeof *mj);

	if (!mj)
		send_nomem();
	mj->j = j;
	make_request(m, mj);
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
	if ((pid && !(j->pid = strdup(pid))) ||
	    !(j->status = strdup(status)))
		send_nomem();
	buf_free(&mj->url);
	buf_free(&mj->form);
	free(mj);
	m->busy--;
	m->done(m->arg, j);
}

/* Start mj's next attempt on a handle of the pool. */
static void
request(struct multi *m, struct mjob *mj)
{
	struct conn *k = m->free;
	CURLMcode mc;

	if (k)
		m->free = k->next;
	else
		k = conn_new(m);
	k->mj = mj;
	k->h.body = mj->form.p;
	k->h.len = strlen(mj->form.p);
	k->h.off = 0;
	k->h.rewound = 0;
	k->h.status = 0;
	k->h.retry_after = 0;
	k->h.resp.len = 0;
	k->h.resp.err = 0;
	k->cerr[0] = '\0';
	curl_easy_setopt(k->c, CURLOPT_URL, mj->url.p);
	curl_easy_setopt(k->c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)k->h.len);
	mj->attempt++;
	if ((mc = curl_multi_add_handle(m->m, k->c)) != CURLM_OK) {
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
 * What the answer to mj's attempt on k means (the provider's part): the
 * message ends (status, id, error), or err is a reason to try again.
 * Returns 1 if it may be retried, with *ra the Retry-After.
 */
static int
read_answer(struct multi *m, struct conn *k, CURLcode cc, const char **status,
    char *sid, size_t nsid, char *st, size_t nst, const char **pid,
    json_t **err)
{
	struct http *h = &k->h;
	const char *msg = k->cerr[0] ? k->cerr : curl_easy_strerror(cc);
	json_t *resp;
	json_int_t code;
	const char *p, *t;
	int retry = 0;

	(void)m;
	*status = "failed";
	*pid = NULL;
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
	if ((h->status == 200 || h->status == 201) &&
	    http_quick_answer(h, sid, nsid, st, nst)) {
		*pid = sid;
		*status = st;
		*err = NULL;
		return 0;
	}
	resp = json_loadb(h->resp.p ? h->resp.p : "", h->resp.len, 0, NULL);
	if (h->status == 200 || h->status == 201) {
		p = record_str(resp, "sid");
		t = record_str(resp, "status");
		*err = NULL;
		if (p && t && strlen(p) < nsid && strlen(t) < nst) {
			snprintf(sid, nsid, "%s", p);
			snprintf(st, nst, "%s", t);
			*pid = sid;
			*status = st;
		} else {
			*status = "unknown";
			*err = send_error("unknown", 0, "the answer has no "
			    "sid");
		}
		json_decref(resp);
		return 0;
	}
	code = json_integer_value(json_object_get(resp, "code"));
	t = record_str(resp, "message");
	if (h->status == 429 || (h->status == 503 && h->retry_after > 0)) {
		retry = 1;
	} else if (h->status >= 500) {
		/* May have been processed: never sent blindly again
		 * (smsdesk(7), GUARANTEES). */
		*status = "unknown";
		*err = send_error("unknown", code, t);
		json_decref(resp);
		return 0;
	}
	*err = send_error(http_taxonomy(h->status, code), code, t);
	json_decref(resp);
	return retry;
}

/* An exchange finished on k: the message ends, or waits to try again. */
static void
answered(struct multi *m, struct conn *k, CURLcode cc)
{
	struct send *s = m->s;
	struct mjob *mj = k->mj;
	const char *status, *pid;
	char sid[64], st[32];
	json_t *err;
	double delay, cap;

	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &k->h.status);
	curl_multi_remove_handle(m->m, k->c);
	if (k->h.resp.err)
		send_nomem();
	k->mj = NULL;
	if (!read_answer(m, k, cc, &status, sid, sizeof sid, st, sizeof st,
	    &pid, &err) || mj->attempt > s->retries || send_stopped(s)) {
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
