/*
 * workers.c: the threads that take records on stdin through the steps.
 *
 * Records on stdin go through three stages, so that requests overlap the
 * storing of the next messages and the settling of the last ones, on
 * both cores: one preparer checks messages and stores them as queued, in
 * batches that share one journal sync (below); one sender keeps up to
 * --jobs requests in flight from one thread on libcurl's multi interface
 * (multi.c: a pool of handles, connections kept alive); and one finisher
 * settles them in the inbox and prints them as the answers come; with
 * --jobs 1, in input order.
 *
 * The preparer begins each message of a batch (inbox_deliver_begin(): its
 * thread locked, its journal record written), up to BATCH, then closes
 * it: a syncer thread makes the records durable while the preparer
 * begins the next batch, after ending the one before (inbox_deliver_end_
 * all(): its records found synced, its outbox/ entries in one write,
 * then its files). A batch closes early, and both end, whenever waiting
 * would hold their locks: the next record has not come yet, or the
 * sender's queue has no place for it. A message is thus stored at most
 * 3 * BATCH places before the sender takes it (the sender checks the
 * consent ledger again just before each request: smsdesk(7),
 * GUARANTEES, no text after STOP). A thread is in the batches once,
 * since a second message's conversation is the one the first leaves.
 *
 * Storing was once 16 to 64 preparer threads, one message each, sharing
 * the syncs of those that happened to wait at the same moment: on the
 * bench's disk (tests/bench/send.sh, 2,000 messages) 1,313 syncs, and
 * 12.4-12.9 MB at its peak, 80 KB of it a thread's stack and malloc arena.
 * One preparer syncing 16 at a time made 125 syncs and peaked at
 * 11.5-12.1 MB, but waited for each sync, a sixth of its time on a loop
 * ext4 (0.10-0.14 s of 0.58 s); in batches of 8 synced behind it, it
 * peaks at 11.6-12.0 MB. At --jobs 256 against answers taking 200 ms it
 * stores faster than the requests go. The finisher is woken when half
 * its queue is full, or LAZY_MS after its first message.
 *
 * More jobs were once a thread each, every step in each: 256 threads
 * reached 76-89 % of what a 200 ms latency allows, in 67 MB. One thread
 * polling every request needs no stack a request, and no hand-over of the
 * CPU per answer.
 */
#include <pthread.h>
#include <stdatomic.h>
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
#include "send/multi.h"
#include "send/queue.h"
#include "send.h"

#define PREPARERS 1		/* a second is 10 % faster, in 0.3 MB */
#define BATCH 8			/* messages a journal sync, at most */
#define READ_AHEAD 32		/* records read before they are prepared */
#define OUT 32			/* answered, before they are settled */

static void flush(struct worker *w);
static struct syncer *syncer_start(struct send *s);

/* Start a thread of fn(arg); a failure ends the run. */
static void
spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int rc;

	if ((rc = pthread_create(t, NULL, fn, arg)) != 0) {
		char m[128];

		snprintf(m, sizeof m, "cannot start a worker: %s",
		    strerror(rc));
		send_fatal(m);
	}
}
static void syncer_stop(struct syncer *y);

/* A worker of s: a libcurl handle if what has W_CURL, a GSM context
 * if W_GSM, a batch if W_BATCH (a preparer's); seed makes its jitter its
 * own. */
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
	    ((what & W_GSM) && !(w->gsm = gsm_ctx_new())) ||
	    ((what & W_BATCH) && (!(w->batch = calloc(BATCH,
	    sizeof *w->batch)) || !(w->prev = calloc(BATCH,
	    sizeof *w->prev)))))
		send_nomem();
	if (what & W_BATCH) {
		w->flush = flush;
		w->syncer = syncer_start(s);
	}
}

/* Free what worker_init() gave w. */
void
worker_free(struct worker *w)
{
	if (w->curl)
		curl_easy_cleanup(w->curl);
	gsm_ctx_free(w->gsm);
	syncer_stop(w->syncer);
	free(w->batch);
	free(w->prev);
}

/*
 * The syncer: the journal made durable as far as it is written, in a
 * thread of its own, each time the preparer closes a batch; the
 * preparer begins the next one meanwhile, and finds the last one synced
 * when it ends it. A sync that fails is said by the deliveries it
 * concerns.
 */
struct syncer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int kicked, stop;
	struct send *s;
	pthread_t t;
};

static void *
syncer_main(void *arg)
{
	struct syncer *y = arg;

	pthread_mutex_lock(&y->lock);
	for (;;) {
		while (!y->kicked && !y->stop)
			pthread_cond_wait(&y->cond, &y->lock);
		if (!y->kicked)
			break;
		y->kicked = 0;
		pthread_mutex_unlock(&y->lock);
		inbox_sync_journal(&y->s->ib, NULL);
		pthread_mutex_lock(&y->lock);
	}
	pthread_mutex_unlock(&y->lock);
	return NULL;
}

static struct syncer *
syncer_start(struct send *s)
{
	struct syncer *y = calloc(1, sizeof *y);

	if (!y)
		send_nomem();
	y->s = s;
	pthread_mutex_init(&y->lock, NULL);
	pthread_cond_init(&y->cond, NULL);
	spawn(&y->t, syncer_main, y);
	return y;
}

static void
syncer_kick(struct syncer *y)
{
	pthread_mutex_lock(&y->lock);
	y->kicked = 1;
	pthread_cond_signal(&y->cond);
	pthread_mutex_unlock(&y->lock);
}

static void
syncer_stop(struct syncer *y)
{
	if (!y)
		return;
	pthread_mutex_lock(&y->lock);
	y->stop = 1;
	pthread_cond_signal(&y->cond);
	pthread_mutex_unlock(&y->lock);
	pthread_join(y->t, NULL);
	pthread_mutex_destroy(&y->lock);
	pthread_cond_destroy(&y->cond);
	free(y);
}

/*
 * End the n jobs of batch b: the second half of each message stored
 * (their journal records durable, the syncer's work or the first
 * waiter's), then their threads unlocked, then each reply claimed and
 * every job handed to the sender.
 */
static void
end_batch(struct worker *w, struct job **b, size_t n)
{
	size_t i;

	send_prepare_end(w, b, n);
	for (i = 0; i < n; i++)
		if (b[i]->locked) {
			inbox_unlock(b[i]->lk);
			b[i]->locked = 0;
		}
	for (i = 0; i < n; i++) {
		send_prepare_claim(w, b[i]);
		queue_put(w->to, b[i]);
	}
}

/*
 * Close the batch being begun: its records synced in the background
 * while the batch before it ends, and it becomes the one before.
 */
static void
close_batch(struct worker *w)
{
	struct job **b = w->prev;

	if (w->nbatch > 0)
		syncer_kick(w->syncer);
	end_batch(w, w->prev, w->nprev);
	w->prev = w->batch;
	w->nprev = w->nbatch;
	w->batch = b;
	w->nbatch = 0;
}

/* End both batches: the preparer holds nothing after. */
static void
flush(struct worker *w)
{
	close_batch(w);
	close_batch(w);
}

/*
 * A preparer: records into messages stored as queued, or ended, in
 * batches of up to BATCH that share one journal sync, made by the
 * syncer while the preparer begins the next batch. A record joins a
 * batch only while nothing would make the preparer wait with its
 * batches' threads locked: its place in the sender's queue is free, and
 * it is there to be taken (else both batches end first, and the preparer
 * waits holding nothing: the sender and the finisher may need those
 * threads).
 */
static void *
preparer(void *arg)
{
	struct worker *w = arg;
	struct job *j;
	int closed;

	for (;;) {
		if (w->nbatch + w->nprev == 0)
			j = queue_take(w->from);
		else if (!(j = queue_poll(w->from, &closed))) {
			flush(w);
			continue;
		}
		if (!j)
			break;
		if (w->nbatch + w->nprev > 0 && !queue_room(w->to, j->seq))
			flush(w);
		queue_reserve(w->to, j->seq);
		/* Credentials rejected: nothing more is queued or sent. */
		if (!send_stopped(w->s))
			send_prepare(w, j);
		w->batch[w->nbatch++] = j;
		if (w->nbatch == BATCH)
			close_batch(w);
	}
	return NULL;
}

/* The engine's done hook: a message answered, to the finisher. */
static void
to_finisher(void *arg, struct job *j)
{
	struct worker *w = arg;

	queue_put(w->to, j);
}

/* The sender's engine, and whether it waits for the ready queue. */
struct feed {
	struct multi *m;
	atomic_int hungry;
};

/*
 * The ready queue's hook, under its lock: a message is ready; wake the
 * sender if it found the queue empty with room to spare (not for every
 * message: each wake costs a pass over every request in flight).
 */
static void
wake(void *arg)
{
	struct feed *f = arg;

	if (atomic_exchange(&f->hungry, 0))
		multi_wake(f->m);
}

/*
 * The sender: up to --jobs requests in flight, taken in input order. A
 * message that ends before any request goes straight to the finisher,
 * but only when the engine has room, so that with --jobs 1 nothing
 * overtakes a message in flight. It says it is hungry before it looks at
 * the queue for the last time, so a put after that look wakes it.
 */
static void *
sender(void *arg)
{
	struct worker *w = arg;
	struct feed f = { .m = multi_new(w, w->s->jobs, to_finisher, w) };
	struct job *j;
	int closed = 0;

	queue_on_put(w->from, wake, &f);
	for (;;) {
		for (;;) {
			if (!multi_room(f.m))
				break;
			atomic_store(&f.hungry, 1);
			if (!(j = queue_poll(w->from, &closed)))
				break;
			atomic_store(&f.hungry, 0);
			if (j->state == J_SEND)
				multi_add(f.m, j);
			else
				queue_put(w->to, j);
		}
		if (closed && !multi_busy(f.m))
			break;
		multi_run(f.m, -1);
		atomic_store(&f.hungry, 0);
	}
	queue_on_put(w->from, NULL, NULL);
	multi_free(f.m);
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

	for (i = 0; i < n; i++) {
		worker_init(&w[i], s, (unsigned long long)i + 1, what);
		w[i].from = from;
		w[i].to = to;
		spawn(&t[i], fn, &w[i]);
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

/* The three stages of a run, and their queues. */
struct workers {
	struct send *s;
	long np, nw;
	struct worker *w;
	pthread_t *t;
	struct queue in, ready, out;
	unsigned long seq;
};

struct workers *
workers_start(struct send *s)
{
	struct workers *wk = calloc(1, sizeof *wk);
	long np = PREPARERS;

	if (!wk)
		send_nomem();
	wk->s = s;
	wk->np = np;
	wk->nw = np + 2;
	wk->w = calloc((size_t)wk->nw, sizeof *wk->w);
	wk->t = calloc((size_t)wk->nw, sizeof *wk->t);
	if (!wk->w || !wk->t)
		send_nomem();
	queue_init(&wk->in, (size_t)(READ_AHEAD > 2 * np ? READ_AHEAD :
	    2 * np), Q_BATCH);
	queue_init(&wk->ready, (size_t)(3 * BATCH * np), Q_ORDERED);
	queue_init(&wk->out, OUT, Q_LAZY);
	start(s, wk->t, wk->w, np, preparer, &wk->in, &wk->ready,
	    W_GSM | W_BATCH);
	start(s, wk->t + np, wk->w + np, 1, sender, &wk->ready, &wk->out, 0);
	start(s, wk->t + wk->nw - 1, wk->w + wk->nw - 1, 1, finisher,
	    &wk->out, NULL, 0);
	return wk;
}

void
workers_put(struct workers *wk, struct job *j)
{
	j->seq = wk->seq++;
	queue_put(&wk->in, j);
}

void
workers_end(struct workers *wk)
{
	long np = wk->np, nw = wk->nw;

	queue_close(&wk->in);
	stop(wk->t, wk->w, np);
	queue_close(&wk->ready);
	stop(wk->t + np, wk->w + np, 1);
	queue_close(&wk->out);
	stop(wk->t + nw - 1, wk->w + nw - 1, 1);
	queue_free(&wk->in);
	queue_free(&wk->ready);
	queue_free(&wk->out);
	free(wk->w);
	free(wk->t);
	free(wk);
}

/* Records on stdin, one message each, through the stages above. */
void
workers_from_records(struct send *s)
{
	struct workers *wk = workers_start(s);
	struct record_reader rr;
	struct errbuf e;
	char key[512];
	struct job *j;
	json_t *rec;
	int rc;

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
		j->lk = -1;
		snprintf(j->where, sizeof j->where, "stdin:%lu", rr.lineno);
		/* A record of smsdesk's own (a stored message) has the key
		 * of that message: one a template makes from it is another. */
		if (s->tmpl && json_object_get(rec, "type"))
			json_object_del(rec, "key");
		if (s->key && !send_key_templated(s->key) &&
		    !json_object_get(rec, "key")) {
			snprintf(key, sizeof key, "%s-%lu", s->key, rr.lineno);
			json_object_set_new(rec, "key", json_string(key));
		}
		workers_put(wk, j);
	}
	record_reader_free(&rr);
	workers_end(wk);
}
