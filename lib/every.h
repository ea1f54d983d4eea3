/*
 * every.h: a thread that calls a function at a fixed interval until it
 * is stopped (the journal's checkpoints, the listener's slow-request
 * guard). The interval is kept on the monotonic clock, so a step of the
 * wall clock neither stalls nor hurries it.
 */
#ifndef EVERY_H
#define EVERY_H

struct every;

/*
 * Call fn(arg) every seconds, from a thread of its own, starting one
 * interval from now. Returns the handle, or NULL with errno set.
 */
struct every *every_start(double seconds, void (*fn)(void *arg), void *arg);

/* Stop: wait for a call in progress, join the thread, free it (NULL: no-op). */
void every_stop(struct every *ev);

#endif
