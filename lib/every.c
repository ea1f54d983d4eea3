/*
 * every.c: a function called at a fixed interval, every.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "every.h"

struct every {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int stop;
	struct timespec interval;
	void (*fn)(void *arg);
	void *arg;
};

static void *
every_main(void *arg)
{
	struct every *ev = arg;
	struct timespec until;

	pthread_mutex_lock(&ev->lock);
	clock_gettime(CLOCK_MONOTONIC, &until);
	while (!ev->stop) {
		until.tv_sec += ev->interval.tv_sec;
		until.tv_nsec += ev->interval.tv_nsec;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		while (!ev->stop && pthread_cond_timedwait(&ev->wake,
		    &ev->lock, &until) != ETIMEDOUT)
			;
		if (ev->stop)
			break;
		/* Called unlocked: a slow call must not delay every_stop(). */
		pthread_mutex_unlock(&ev->lock);
		ev->fn(ev->arg);
		pthread_mutex_lock(&ev->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

struct every *
every_start(double seconds, void (*fn)(void *arg), void *arg)
{
	struct every *ev = calloc(1, sizeof *ev);
	pthread_condattr_t ca;
	int rc;

	if (!ev)
		return NULL;
	ev->interval.tv_sec = (time_t)seconds;
	ev->interval.tv_nsec = (long)((seconds - (double)(time_t)seconds) *
	    1e9);
	ev->fn = fn;
	ev->arg = arg;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->wake, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&ev->thread, NULL, every_main, ev)) != 0) {
		pthread_cond_destroy(&ev->wake);
		pthread_mutex_destroy(&ev->lock);
		free(ev);
		errno = rc;
		return NULL;
	}
	return ev;
}

void
every_stop(struct every *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stop = 1;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->thread, NULL);
	pthread_cond_destroy(&ev->wake);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}
