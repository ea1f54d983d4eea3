/*
 * queue.h: the bounded queues that hand jobs from one stage of sms-send
 * to the next (workers.c).
 *
 * A queue of cap jobs is one of three kinds: Q_BATCH (one putter
 * waits for a full queue to be half empty, and then fills it in one go);
 * Q_ORDERED (in the order of job seq: a putter first waits with
 * queue_reserve() for its job's place, and a taker gets the jobs in
 * input order; queue_poll() takes without waiting, and queue_on_put()
 * tells a taker that waits on something else); or Q_LAZY (one taker,
 * woken when half the queue is full, or LAZY_MS after its first job,
 * rather than for every job).
 *
 * Ownership: a queue holds the jobs put in it until they are taken, and
 * never frees one; queue_free() frees the queue's own memory only.
 */
#ifndef SMS_SEND_QUEUE_H
#define SMS_SEND_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#define LAZY_MS 50

enum { Q_BATCH, Q_ORDERED, Q_LAZY };

struct job;
struct waiter;

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	struct waiter *waiting;	/* Q_ORDERED: woken each at its place */
	struct job **v;
	size_t cap, n;
	unsigned long head;	/* how many were taken */
	int kind;
	int draining;		/* Q_LAZY: taking until empty */
	int closed;
	void (*on_put)(void *arg);	/* after each put, and the close */
	void *put_arg;
};

void queue_init(struct queue *q, size_t cap, int kind);
void queue_free(struct queue *q);
int queue_reserve(struct queue *q, unsigned long seq);
/* Whether seq's place is free: queue_reserve() would not wait. */
int queue_room(struct queue *q, unsigned long seq);
void queue_put(struct queue *q, struct job *j);
struct job *queue_take(struct queue *q);
struct job *queue_poll(struct queue *q, int *closed);
void queue_on_put(struct queue *q, void (*fn)(void *arg), void *arg);
void queue_close(struct queue *q);

#endif
