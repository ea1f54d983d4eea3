/*
 * workers.c: the threads that take records on stdin through the steps.
 *
 * With --jobs 1, records on stdin go through three stages, so that one
 * message's request overlaps the storing of the next ones and the
 * settling of the last ones, on both cores: PREPARERS threads check
 * messages and store them as queued (several, so that they share the
 * journal's syncs), one sender makes the requests on its kept-alive
 * connection, and one finisher settles them in the inbox and prints
 * them, in input order, as the sender takes them.
 *
 * A preparer takes a place in the sender's queue before it starts on a
 * record, so a message is stored at most AHEAD + 2 messages before its
 * request (send_job() checks the consent ledger again just before the
 * request: smsdesk(7), GUARANTEES, no text after STOP). The places are many
 * and each preparer takes one record at a time, so that, on a disk, the
 * preparers storing at once share the journal's fdatasync: with 8
 * preparers, 8 places and 4 records a batch, each record had a sync of its
 * own (9,371 syncs for 10,000 messages), and --jobs 1 ran at 1,800-2,300
 * messages a second against 3,200-3,600 now. The finisher is woken when
 * half its queue is full, or LAZY_MS after its first message.
 *
 * With more jobs, each worker takes its messages through all the steps:
 * the workers overlap one another already, and on two cores the
 * hand-overs cost more than they gained.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "diag.h"
#include "gsm.h"
#include "record.h"
#include "send/queue.h"
#include "send.h"

#define PREPARERS 16
#define AHEAD 30		/* places for preparers over 2 */
#define READ_AHEAD 64		/* records read before they are prepared */

/* A worker of s: a libcurl handle if what has W_CURL, a GSM context
 * if W_GSM; seed makes its jitter its own. */
void
worker_init(struct worker *w, struct send *s, unsigned long long seed,
    int what)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	w->rng = seed * 0x9E3779B97F4A7C15ULL + (unsigned long long)getpid() +
	    (unsigned long long)time(NULL);
	if (!w->rng)
		w->rng = 1;
	if (((what & W_CURL) && !(w->curl = curl_easy_init())) ||
	    ((what & W_GSM) && !(w->gsm = gsm_ctx_new())))
		send_nomem();
}

/* Free what worker_init() gave w. */
void
worker_free(struct worker *w)
{
	if (w->curl)
		curl_easy_cleanup(w->curl);
	gsm_ctx_free(w->gsm);
}

/*
 * A preparer: records into messages stored as queued, or ended, one at
 * a time, each once its place in the sender's queue is free; the
 * preparers storing at once share the journal's syncs.
 */
static void *
preparer(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = queue_take(w->from))) {
		queue_reserve(w->to, j->seq);
		/* Credentials rejected: nothing more is queued or sent. */
		if (!send_stopped(w->s))
			send_prepare(w, j);
		queue_put(w->to, j);
	}
	return NULL;
}

/* The sender: the requests, one at a time on its connection. */
static void *
sender(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = queue_take(w->from))) {
		if (j->state == J_SEND)
			send_job(w, j);
		queue_put(w->to, j);
	}
	return NULL;
}

/* A worker of --jobs over 1: a message at a time, every step. */
static void *
worker(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = queue_take(w->from))) {
		/* Credentials rejected: nothing more is queued or sent. */
		if (!send_stopped(w->s))
			send_prepare(w, j);
		if (j->state == J_SEND)
			send_job(w, j);
		send_finish(w->s, j);
		free(j);
	}
	return NULL;
}

/* The finisher: settles and writes out, in the order of its queue. */
static void *
finisher(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = queue_take(w->from))) {
		send_finish(w->s, j);
		free(j);
	}
	return NULL;
}

/* Start n threads of fn, from one queue to the next. */
static void
start(struct send *s, pthread_t *t, struct worker *w, long n,
    void *(*fn)(void *), struct queue *from, struct queue *to, int what)
{
	long i;
	int rc;

	for (i = 0; i < n; i++) {
		worker_init(&w[i], s, (unsigned long long)i + 1, what);
		w[i].from = from;
		w[i].to = to;
		if ((rc = pthread_create(&t[i], NULL, fn, &w[i])) != 0) {
			char m[128];

			snprintf(m, sizeof m, "cannot start a worker: %s",
			    strerror(rc));
			send_fatal(m);
		}
	}
}

/* Wait for n threads started by start(), and free their workers. */
static void
stop(pthread_t *t, struct worker *w, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		worker_free(&w[i]);
	}
}

/* Records on stdin, one message each, through the stages above. */
void
workers_from_records(struct send *s)
{
	long np = s->jobs == 1 ? PREPARERS : 0;
	long nw = np ? np + 2 : s->jobs;
	struct worker *w = calloc((size_t)nw, sizeof *w);
	pthread_t *t = calloc((size_t)nw, sizeof *t);
	struct queue in, ready, out;
	struct record_reader rr;
	struct errbuf e;
	char key[512];
	unsigned long seq = 0;
	struct job *j;
	json_t *rec;
	int rc;

	if (!w || !t)
		send_nomem();
	queue_init(&in, READ_AHEAD, Q_BATCH);
	queue_init(&ready, 2 + AHEAD, Q_ORDERED);
	queue_init(&out, 32, Q_LAZY);
	start(s, t, w, np, preparer, &in, &ready, W_GSM);
	if (np) {
		start(s, t + np, w + np, 1, sender, &ready, &out, W_CURL);
		start(s, t + nw - 1, w + nw - 1, 1, finisher, &out, NULL, 0);
	} else {
		start(s, t, w, s->jobs, worker, &in, NULL, W_CURL | W_GSM);
	}
	record_reader_init(&rr, stdin, "stdin");
	while (!send_stopped(s) && (rc = record_read(&rr, &rec, &e)) != 0) {
		if (rc < 0) {
			send_warn(s, "%s", e.msg);
			pthread_mutex_lock(&s->lock);
			s->ret = ferror(stdin) ? EXIT_IOERR : EXIT_PARTIAL;
			pthread_mutex_unlock(&s->lock);
			if (ferror(stdin))
				break;
			continue;
		}
		if (!(j = calloc(1, sizeof *j)))
			send_nomem();
		j->rec = rec;
		j->seq = seq++;
		snprintf(j->where, sizeof j->where, "stdin:%lu", rr.lineno);
		/* A record of smsdesk's own (a stored message) has the key
		 * of that message: one a template makes from it is another. */
		if (s->tmpl && json_object_get(rec, "type"))
			json_object_del(rec, "key");
		if (s->key && !json_object_get(rec, "key")) {
			snprintf(key, sizeof key, "%s-%lu", s->key, rr.lineno);
			json_object_set_new(rec, "key", json_string(key));
		}
		queue_put(&in, j);
	}
	record_reader_free(&rr);
	queue_close(&in);
	if (np) {
		stop(t, w, np);
		queue_close(&ready);
		stop(t + np, w + np, 1);
		queue_close(&out);
		stop(t + nw - 1, w + nw - 1, 1);
	} else {
		stop(t, w, s->jobs);
	}
	queue_free(&in);
	queue_free(&ready);
	queue_free(&out);
	free(w);
	free(t);
}
