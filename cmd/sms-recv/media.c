/*
 * media.c: the media of inbound messages fetched into the inbox
 * (lib/media.h): by the listener's fetcher thread, once a message with
 * media is stored and answered (never before its answer), and by
 * --fetch-media, which finds the work in the history.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"
#include "media.h"
#include "record.h"
#include "thread.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

struct job {
	char thread[THREAD_MAX];
	char id[256];
};

/* The listener's fetcher: one thread, a queue of messages. */
struct fetcher {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct job q[FETCH_QUEUE];
	size_t head, n;
	unsigned long dropped;
	int done;
	pthread_t tid;
};

/*
 * Fetch what is due of msg/THREAD/ID, and say so: a "message.media" event
 * with the message as it now is, and a warning for each item that failed.
 * Returns 0, 1 if an item failed, or -1 if the inbox refused (said).
 */
const struct media_opts *
feed_media(struct recv *r, const char *name)
{
	const struct recv_conf *c = conf_now(r);

	for (size_t i = 0; name && i < c->nfeeds; i++)
		if (strcmp(c->feed[i].pv->name, name) == 0)
			return &c->feed[i].media;
	for (size_t i = 0; name && i < c->nknown; i++)
		if (strcmp(c->known[i].pv->name, name) == 0)
			return &c->known[i].media;
	return &c->media;
}

static int
fetch_one(struct recv *r, const char *thread, const char *id)
{
	struct media_result res;
	struct errbuf e;
	json_t *msg, *media, *after;
	time_t now = when_now();
	int rc, failed = 0, tried = 0;

	if (!(msg = inbox_message(&r->ib, thread, id, &e))) {
		diag_warn("media: %s", e.msg);
		return -1;
	}
	/*
	 * Only what came in is ours to fetch: an outbound message's media
	 * are our own files (in media/ already) or URLs of the user's.
	 */
	media = strcmp(record_str(msg, "direction") ?
	    record_str(msg, "direction") : "", "in") == 0 ?
	    json_object_get(msg, "media") : NULL;
	for (size_t i = 0; i < json_array_size(media); i++) {
		if (!media_due(json_array_get(media, i), now))
			continue;
		tried = 1;
		rc = media_fetch_item(&r->ib, thread, id, msg, i,
		    feed_media(r, record_str(msg, "provider")), now, &res,
		    &e);
		if (rc < 0) {
			diag_warn("media: %s", e.msg);
			json_decref(msg);
			return -1;
		}
		if (rc == 2)	/* the listener is stopping */
			break;
		if (rc == 0) {
			diag_warn("media: msg/%s/%s: item %zu: %s: %s%s",
			    thread, id, i, res.code, res.message,
			    res.permanent ? " (for good)" : "");
			failed = 1;
		}
	}
	json_decref(msg);
	if (tried && (after = inbox_message(&r->ib, thread, id, &e))) {
		emit(r, "message.media", "message", after);
		json_decref(after);
	}
	return failed;
}

static void *
fetcher_main(void *arg)
{
	struct recv *r = arg;
	struct fetcher *f = r->fetcher;
	const struct recv_conf *c;
	struct job j;

	for (;;) {
		pthread_mutex_lock(&f->lock);
		while (f->n == 0 && !f->done)
			pthread_cond_wait(&f->ready, &f->lock);
		if (f->done) {
			pthread_mutex_unlock(&f->lock);
			return NULL;
		}
		j = f->q[f->head];
		f->head = (f->head + 1) % FETCH_QUEUE;
		f->n--;
		pthread_mutex_unlock(&f->lock);
		/* One job, one settings: a reload waits for the next. */
		c = conf_hold(r);
		fetch_one(r, j.thread, j.id);
		conf_release(r, c);
	}
}

void
media_queue(struct recv *r, const json_t *msg)
{
	struct fetcher *f = r->fetcher;
	const char *thread = record_str(msg, "thread");
	const char *id = record_str(msg, "id");
	struct job *j;

	if (!f || !thread || !id || json_array_size(json_object_get(msg,
	    "media")) == 0 || strlen(thread) >= sizeof j->thread ||
	    strlen(id) >= sizeof j->id)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->n == FETCH_QUEUE) {
		/* --fetch-media finds it in the history. */
		f->dropped++;
	} else {
		j = &f->q[(f->head + f->n++) % FETCH_QUEUE];
		snprintf(j->thread, sizeof j->thread, "%s", thread);
		snprintf(j->id, sizeof j->id, "%s", id);
		pthread_cond_signal(&f->ready);
	}
	pthread_mutex_unlock(&f->lock);
}

void
media_start(struct recv *r)
{
	struct fetcher *f = calloc(1, sizeof *f);

	if (!f)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->ready, NULL);
	r->fetcher = f;
	atomic_store(&r->media_cancel, 0);
	if ((errno = pthread_create(&f->tid, NULL, fetcher_main, r)) != 0)
		diag_die(EXIT_IOERR, "media fetcher: %s", strerror(errno));
}

void
media_backlog(struct recv *r, size_t *waiting, unsigned long *dropped)
{
	struct fetcher *f = r->fetcher;

	*waiting = 0;
	*dropped = 0;
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	*waiting = f->n;
	*dropped = f->dropped;
	pthread_mutex_unlock(&f->lock);
}

void
media_stop(struct recv *r)
{
	struct fetcher *f = r->fetcher;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->done = 1;
	pthread_cond_signal(&f->ready);
	pthread_mutex_unlock(&f->lock);
	/* A fetch under way stops at once, leaving its item as it was. */
	atomic_store(&r->media_cancel, 1);
	pthread_join(f->tid, NULL);
	if (f->n || f->dropped)
		diag_warn("media: %zu message(s) left to fetch: sms-recv "
		    "--fetch-media fetches them", f->n + f->dropped);
	r->fetcher = NULL;
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->ready);
	free(f);
}

/* The messages with media that the history names. */
struct found {
	struct job *v;
	size_t n, cap;
	int nomem;
};

static int
on_line(const char *line, size_t len, void *arg)
{
	struct found *fd = arg;
	json_t *ev;
	const char *thread, *id;
	struct job *grown;

	/* Most lines count no media: not parsed. */
	if (!memmem(line, len, "\"media\":", 8))
		return 0;
	ev = json_loadb(line, len, 0, NULL);
	thread = record_str(ev, "thread");
	id = record_str(ev, "msg");
	if (ev && thread && id && json_integer_value(json_object_get(ev,
	    "media")) > 0 && strcmp(record_str(ev, "event") ?
	    record_str(ev, "event") : "", "message") == 0 &&
	    thread_valid(thread) && strlen(id) < sizeof fd->v->id) {
		if (fd->n == fd->cap) {
			fd->cap = fd->cap ? fd->cap * 2 : 64;
			if (!(grown = realloc(fd->v, fd->cap *
			    sizeof *fd->v))) {
				fd->nomem = 1;
				json_decref(ev);
				return 1;
			}
			fd->v = grown;
		}
		snprintf(fd->v[fd->n].thread, sizeof fd->v->thread, "%s",
		    thread);
		snprintf(fd->v[fd->n].id, sizeof fd->v->id, "%s", id);
		fd->n++;
	}
	json_decref(ev);
	return 0;
}

int
media_fetch_all(struct recv *r, long long max_age)
{
	struct found fd = { 0 };
	struct errbuf e;
	char from[WHEN_BUFSZ];
	int rc, ret = 0;

	when_format(when_now() - (time_t)max_age, from);
	from[10] = '\0';	/* its day */
	if (inbox_history_each(&r->ib, from, NULL, on_line, &fd, &e) < 0) {
		free(fd.v);
		diag_warn("media: %s", e.msg);
		return EXIT_IOERR;
	}
	if (fd.nomem) {
		free(fd.v);
		diag_warn("media: %s", strerror(ENOMEM));
		return EXIT_IOERR;
	}
	for (size_t i = 0; i < fd.n; i++) {
		rc = fetch_one(r, fd.v[i].thread, fd.v[i].id);
		if (rc != 0 && ret == 0)
			ret = EXIT_PARTIAL;
	}
	free(fd.v);
	return ret;
}
