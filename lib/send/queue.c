/*
 * queue.c: the queues between the stages of sms-send, queue.h.
 *
 * One lock and two conditions a queue: "more" wakes takers, "room"
 * putters. A Q_ORDERED queue is a ring indexed by seq, so a job is put
 * straight at its place and taken when the ones before it have been;
 * each putter waiting for a place has a condition of its own, so that
 * a taker wakes only the one whose place came free.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/queue.h"
#include "send.h"

/* A preparer waiting for the place of job seq. */
struct waiter {
	unsigned long seq;
	pthread_cond_t cond;
	struct waiter *next;
};

/* Make q an empty queue of cap jobs, of a kind in queue.h. */
void
queue_init(struct queue *q, size_t cap, int kind)
{
	memset(q, 0, sizeof *q);
	if (pthread_mutex_init(&q->lock, NULL) != 0 ||
	    pthread_cond_init(&q->more, NULL) != 0 ||
	    pthread_cond_init(&q->room, NULL) != 0 ||
	    !(q->v = calloc(cap, sizeof *q->v)))
		send_nomem();
	q->cap = cap;
	q->kind = kind;
}

/* Free q's own memory; a job still in it is not freed. */
void
queue_free(struct queue *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
	free(q->v);
}

/* Q_ORDERED: wait until the job seq has its place; 1 if it waited. */
int
queue_reserve(struct queue *q, unsigned long seq)
{
	struct waiter me = { .seq = seq }, **p;

	pthread_mutex_lock(&q->lock);
	if (seq < q->head + q->cap) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	if (pthread_cond_init(&me.cond, NULL) != 0)
		send_nomem();
	me.next = q->waiting;
	q->waiting = &me;
	while (seq >= q->head + q->cap)
		pthread_cond_wait(&me.cond, &q->lock);
	for (p = &q->waiting; *p != &me; p = &(*p)->next)
		;
	*p = me.next;
	pthread_mutex_unlock(&q->lock);
	pthread_cond_destroy(&me.cond);
	return 1;
}

/*
 * Have fn(arg) called after each put and at the close (NULL: no more),
 * for a taker that waits on something else than the queue (multi.c).
 * fn must not block, nor use the queue.
 */
int
queue_room(struct queue *q, unsigned long seq)
{
	int room;

	pthread_mutex_lock(&q->lock);
	room = seq < q->head + q->cap;
	pthread_mutex_unlock(&q->lock);
	return room;
}

void
queue_on_put(struct queue *q, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&q->lock);
	q->on_put = fn;
	q->put_arg = arg;
	pthread_mutex_unlock(&q->lock);
}

/* Add j at the end, or in an ordered queue at its place (reserved). */
void
queue_put(struct queue *q, struct job *j)
{
	pthread_mutex_lock(&q->lock);
	if (q->kind == Q_ORDERED) {
		q->v[j->seq % q->cap] = j;
		q->n++;
		if (j->seq == q->head)
			pthread_cond_signal(&q->more);
	} else {
		while (q->n == q->cap)
			pthread_cond_wait(&q->room, &q->lock);
		q->v[(q->head + q->n) % q->cap] = j;
		/* The lazy taker: to start its clock, and at half. */
		if (++q->n == 1 || q->kind != Q_LAZY || q->n == q->cap / 2)
			pthread_cond_signal(&q->more);
	}
	if (q->on_put)
		q->on_put(q->put_arg);
	pthread_mutex_unlock(&q->lock);
}

/* Q_LAZY: wait for half a queue, or for LAZY_MS after the first job. */
static void
lazy_wait(struct queue *q)
{
	struct timespec t;

	while (!q->closed && q->n == 0)
		pthread_cond_wait(&q->more, &q->lock);
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += LAZY_MS * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (!q->closed && q->n < q->cap / 2 &&
	    pthread_cond_timedwait(&q->more, &q->lock, &t) == 0)
		;
}

/* j, at the head of q, is taken: its place is free. Under the lock. */
static void
taken(struct queue *q)
{
	q->v[q->head % q->cap] = NULL;
	q->head++;
	q->n--;
	q->draining = q->n > 0;
	if (q->kind == Q_ORDERED) {
		struct waiter *w;

		/* The one whose place this was, and the next taker if the
		 * next is ready. */
		for (w = q->waiting; w; w = w->next)
			if (w->seq < q->head + q->cap)
				pthread_cond_signal(&w->cond);
		if (q->v[q->head % q->cap])
			pthread_cond_signal(&q->more);
	} else if (q->kind != Q_BATCH || q->n == q->cap / 2 - 1) {
		pthread_cond_signal(&q->room);
	}
}

/* The next job, or NULL once the queue is closed and empty. */
struct job *
queue_take(struct queue *q)
{
	struct job *j;

	pthread_mutex_lock(&q->lock);
	if (q->kind == Q_LAZY && !q->draining)
		lazy_wait(q);
	while (!(j = q->v[q->head % q->cap]) && !q->closed)
		pthread_cond_wait(&q->more, &q->lock);
	if (j)
		taken(q);
	pthread_mutex_unlock(&q->lock);
	return j;
}

/*
 * The next job if there is one now (in an ordered queue: the next in
 * input order), else NULL, with *closed set once the queue is closed and
 * empty. Never waits.
 */
struct job *
queue_poll(struct queue *q, int *closed)
{
	struct job *j;

	pthread_mutex_lock(&q->lock);
	if ((j = q->v[q->head % q->cap]))
		taken(q);
	*closed = !j && q->closed && q->n == 0;
	pthread_mutex_unlock(&q->lock);
	return j;
}

/* No more puts: the takers end once it is empty. */
void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->more);
	if (q->on_put)
		q->on_put(q->put_arg);
	pthread_mutex_unlock(&q->lock);
}
