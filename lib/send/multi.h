/*
 * multi.h: many requests in flight from one thread (lib/send/multi.c).
 *
 * One struct multi drives a libcurl multi handle: up to max messages at
 * once, each through its attempts (send_job()'s promises: the rate slot,
 * quiet hours and the consent ledger checked just before each request,
 * retries with backoff only when the provider proves it did not process
 * one, "unknown" when it may have), on easy handles it keeps and reuses,
 * over connections kept alive between requests. The thread that made it
 * is the only one that may call it, but multi_wake().
 *
 * Ownership: a job handed to multi_add() belongs to the engine until it
 * is handed back, settled-ready (state J_SENT), to the done hook.
 */
#ifndef SEND_MULTI_H
#define SEND_MULTI_H

#include <stddef.h>

#include <jansson.h>

struct errbuf;
struct job;
struct multi;
struct send;
struct worker;

/*
 * A new engine of w->s, for at most max messages at once (max >= 1),
 * with w's jitter; done is called, from multi_run(), with arg and each
 * job as it ends. Out of memory is fatal (send_nomem()).
 */
struct multi *multi_new(struct worker *w, long max,
    void (*done)(void *arg, struct job *j), void *arg);
/* Free m and its handles; it must hold no job. */
void multi_free(struct multi *m);
/* How many jobs m holds, in flight or waiting for their next attempt. */
long multi_busy(const struct multi *m);
/* Whether m takes another job now (multi_busy() < max). */
int multi_room(const struct multi *m);
/* Hand m a job to send (state J_SEND, queued in the inbox already). */
void multi_add(struct multi *m, struct job *j);
/*
 * Make progress: start what may start, wait at most timeout_ms (-1: as
 * long as the next timer says, at most a second) for an answer, a timer
 * or multi_wake(), and hand the jobs that ended to the done hook.
 */
void multi_run(struct multi *m, int timeout_ms);
/* From any thread: make m's multi_run() return soon. */
void multi_wake(struct multi *m);
/*
 * Send j (state J_SEND) through an engine of its own, and return when it
 * has ended (J_SENT): send_job() for one message.
 */
void multi_send(struct worker *w, struct job *j);

/*
 * What the engine shares with the rest of the path: rate.c's slot without
 * the sleep, and send.c's checks just before a request (quiet hours
 * begun at msg's recipient, with why; the recipient opted out or blocked
 * meanwhile: the error to end msg with, or NULL).
 */
int rate_slot(struct send *s, double *at, struct errbuf *e);
int quiet_now(struct send *s, const json_t *msg, char *why, size_t n);
json_t *opted_out_now(struct send *s, const json_t *msg);

#endif
