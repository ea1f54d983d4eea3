/*
 * events.c: the event records sms-recv prints, sms-record(5).
 *
 * Each stored item is announced as one NDJSON event on stdout. Reading
 * files, emit() writes it at once; a listener's request threads only queue
 * it, and one writer thread (events_start()) writes the queue out, so that
 * a reader that stalls costs events, never a delivery.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "record.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

/*
 * Print one event (sms-record(5)): its name, the thread it concerns at
 * the top, and obj, the affected record, under key. A listener goes on if
 * its reader went away (the inbox is the record); in file mode a failed
 * write is exit 74.
 */
void
emit(struct recv *r, const char *event, const char *key, json_t *obj)
{
	struct events *q = &r->ev;
	char at[WHEN_BUFSZ], *line;
	json_t *ev;

	when_format(when_now(), at);
	ev = json_pack("{s:s,s:s,s:O?,s:s,s:O}", "type", "event", "event",
	    event, "thread", json_object_get(obj, "thread"), "at", at, key,
	    obj);
	if (!ev)
		return;
	if (!r->listening) {
		if (record_write(stdout, ev) < 0 || fflush(stdout) == EOF)
			r->ret = EXIT_IOERR;
		json_decref(ev);
		return;
	}
	line = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	pthread_mutex_lock(&q->lock);
	if (!line || q->n == EVENT_QUEUE) {
		q->dropped++;
		free(line);
	} else {
		q->line[(q->head + q->n++) % EVENT_QUEUE] = line;
		pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
}

/* The one thread that writes a listener's events to stdout. */
static void *
event_writer(void *arg)
{
	struct events *q = arg;
	char *line;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->n == 0 && !q->done)
			pthread_cond_wait(&q->ready, &q->lock);
		if (q->n == 0) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		line = q->line[q->head];
		q->head = (q->head + 1) % EVENT_QUEUE;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		/* A reader gone or stuck costs events, not deliveries. */
		if (fputs(line, stdout) == EOF || putchar('\n') == EOF ||
		    fflush(stdout) == EOF)
			clearerr(stdout);
		free(line);
	}
}

/* Start the writer of a listener's events. Exits if it cannot. */
void
events_start(struct recv *r, pthread_t *writer)
{
	if ((errno = pthread_create(writer, NULL, event_writer,
	    &r->ev)) != 0)
		diag_die(EXIT_IOERR, "%s", strerror(errno));
}

/*
 * Stop the writer: flush what is queued, unless the reader is stuck: then
 * the writer is left behind in write(2) and exit ends it (_exit here, with
 * r->ret: stdout is held by the stuck writer). What was not written is
 * said.
 */
void
events_stop(struct recv *r, pthread_t writer)
{
	size_t c = 0;

	pthread_mutex_lock(&r->ev.lock);
	r->ev.done = 1;
	pthread_cond_signal(&r->ev.ready);
	pthread_mutex_unlock(&r->ev.lock);
	for (int i = 0; i < 20; i++) {
		pthread_mutex_lock(&r->ev.lock);
		c = r->ev.n;
		pthread_mutex_unlock(&r->ev.lock);
		if (c == 0)
			break;
		usleep(50 * 1000);
	}
	if (r->ev.dropped || c)
		diag_warn("%lu events not written: the reader of "
		    "stdout fell behind", r->ev.dropped +
		    (unsigned long)c);
	if (c)
		_exit(r->ret);	/* stdout is held by the stuck writer */
	pthread_join(writer, NULL);
}
