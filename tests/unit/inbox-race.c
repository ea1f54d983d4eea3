/*
 * inbox-race.c: delivery reports racing each other and the message they
 * are about, from threads as sms-recv runs them: none may be lost. And a
 * reader that finds a corrupt conversation racing a writer that replaces
 * it: the reader must never quarantine the writer's good record.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inbox.h"
#include "record.h"
#include "tap.h"

/* Trials of each race: SMSDESK_RACE_ROUNDS, 150 unless set (tap_rounds). */
#define TRIALS 150
#define CORRUPT_TRIALS 10

struct job {
	struct inbox *ib;
	const char *sid, *status;
	json_t *msg;		/* for a delivery */
	const char *id;		/* for inbox_sent */
};

static void *
report(void *arg)
{
	struct job *j = arg;
	struct errbuf e;

	inbox_status(j->ib, "twilio", j->sid, j->status, NULL, NULL, &e);
	return NULL;
}

static void *
deliver(void *arg)
{
	struct job *j = arg;
	struct inbox_delivery d;
	struct errbuf e;

	if (inbox_deliver(j->ib, j->msg, 0, NULL, &d, &e) == 0)
		inbox_delivery_free(&d);
	return NULL;
}

static void *
sent(void *arg)
{
	struct job *j = arg;
	struct errbuf e;

	inbox_sent(j->ib, "+15551234567", j->id, "twilio", j->sid, "sent",
	    NULL, NULL, &e);
	return NULL;
}

static _Thread_local int is_reader;

static void *
reader(void *arg)
{
	struct job *j = arg;
	struct errbuf e;

	is_reader = 1;
	json_decref(inbox_conversation(j->ib, "+15551234567", &e));
	return NULL;
}

static int
mark(json_t *conv, void *arg, struct errbuf *e)
{
	(void)e;
	json_object_set_new(conv, "mark", json_string(arg));
	return 0;
}

static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcv = PTHREAD_COND_INITIALIZER;
static int written;

static void *
writer(void *arg)
{
	struct job *j = arg;
	struct errbuf e;

	inbox_update(j->ib, "+15551234567", mark, (void *)j->id, NULL, &e);
	pthread_mutex_lock(&wmu);
	written = 1;
	pthread_cond_broadcast(&wcv);
	pthread_mutex_unlock(&wmu);
	return NULL;
}

/*
 * The reader has found the corrupt file still there and is about to move
 * it: the writer gets its chance here, up to 200 ms. Under the lock it
 * must wait; without it, it would replace the file, and the reader would
 * move the good record aside.
 */
static void
in_between(void *arg, const char *rel)
{
	struct timespec until;

	(void)arg;
	(void)rel;
	if (!is_reader)
		return;	/* the writer quarantining the file itself */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 200000000;
	if (until.tv_nsec >= 1000000000)
		until.tv_sec++, until.tv_nsec -= 1000000000;
	pthread_mutex_lock(&wmu);
	while (!written && pthread_cond_timedwait(&wcv, &wmu, &until) == 0)
		;
	pthread_mutex_unlock(&wmu);
}

/* Corrupt the conversation, then race a reader against an update. */
static int
corrupt_race(struct inbox *ib, const char *dir, int t)
{
	char path[600], id[32];
	struct job j = { ib, NULL, NULL, NULL, id };
	pthread_t a, b;
	struct errbuf e;
	json_t *c;
	FILE *f;
	int lost;

	snprintf(id, sizeof id, "m%d", t);
	snprintf(path, sizeof path, "%s/conv/+15551234567", dir);
	if (!(f = fopen(path, "w")))
		return 1;
	fputs("{\"type\":\"conversation\",\"thre", f);
	fclose(f);
	written = 0;
	ib->quarantining = in_between;
	pthread_create(&a, NULL, reader, &j);
	pthread_create(&b, NULL, writer, &j);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ib->quarantining = NULL;
	c = inbox_conversation(ib, "+15551234567", &e);
	lost = !c || !record_str(c, "mark") ||
	    strcmp(record_str(c, "mark"), id) != 0;
	json_decref(c);
	return lost;
}

static const char *
status_of(struct inbox *ib, const char *id)
{
	static char out[32];
	struct errbuf e;
	json_t *t = inbox_thread(ib, "+15551234567", &e), *m;
	size_t i;

	out[0] = '\0';
	json_array_foreach(t, i, m)
		if (strcmp(record_str(m, "id"), id) == 0)
			snprintf(out, sizeof out, "%s", record_str(m, "status"));
	json_decref(t);
	return out;
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-race-XXXXXX", path[600], sid[32], id[32];
	struct inbox ib;
	struct errbuf e;
	int lost_parked = 0, lost_deliver = 0, lost_sent = 0, lost_update = 0;
	int trials = tap_rounds("SMSDESK_RACE_ROUNDS", TRIALS);
	int corrupt_trials = trials / 15 > CORRUPT_TRIALS ? trials / 15 :
	    CORRUPT_TRIALS;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0)
		return 1;
	for (int t = 0; t < trials; t++) {
		pthread_t a, b, c;
		struct job ja = { &ib, sid, "delivered", NULL, NULL };
		struct job jb = { &ib, sid, "sent", NULL, NULL };
		struct job jc = { &ib, sid, NULL, NULL, NULL };

		/* Two reports race while the message is not yet known. */
		snprintf(sid, sizeof sid, "SMa%d", t);
		snprintf(id, sizeof id, "a%d", t);
		jc.msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
		    "message", "thread", "+15551234567", "direction", "out",
		    "body", "x", "status", "queued", "provider", "twilio",
		    "provider_id", sid, "id", id);
		pthread_create(&a, NULL, report, &ja);
		pthread_create(&b, NULL, report, &jb);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_create(&c, NULL, deliver, &jc);
		pthread_join(c, NULL);
		json_decref(jc.msg);
		lost_parked += strcmp(status_of(&ib, id), "delivered") != 0;

		/* A report races the delivery of its message. */
		snprintf(sid, sizeof sid, "SMb%d", t);
		snprintf(id, sizeof id, "b%d", t);
		jc.msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
		    "message", "thread", "+15551234567", "direction", "out",
		    "body", "x", "status", "queued", "provider", "twilio",
		    "provider_id", sid, "id", id);
		pthread_create(&a, NULL, report, &ja);
		pthread_create(&c, NULL, deliver, &jc);
		pthread_join(a, NULL);
		pthread_join(c, NULL);
		json_decref(jc.msg);
		lost_deliver += strcmp(status_of(&ib, id), "delivered") != 0;

		/* A report races inbox_sent() recording the sid. */
		snprintf(sid, sizeof sid, "SMc%d", t);
		snprintf(id, sizeof id, "c%d", t);
		jc.msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type",
		    "message", "thread", "+15551234567", "direction", "out",
		    "body", "x", "status", "queued", "id", id);
		deliver(&jc);
		json_decref(jc.msg);
		jc.id = id;
		pthread_create(&a, NULL, report, &ja);
		pthread_create(&c, NULL, sent, &jc);
		pthread_join(a, NULL);
		pthread_join(c, NULL);
		lost_sent += strcmp(status_of(&ib, id), "delivered") != 0;
	}
	for (int t = 0; t < corrupt_trials; t++)
		lost_update += corrupt_race(&ib, dir, t);
	is_int(lost_parked, 0, "two reports racing to park: the later one "
	    "never lost (%d trials)", trials);
	is_int(lost_deliver, 0, "a report racing its message's delivery: "
	    "never lost (%d trials)", trials);
	is_int(lost_sent, 0, "a report racing inbox_sent(): never lost "
	    "(%d trials)", trials);
	is_int(lost_update, 0, "a reader quarantining a corrupt conversation "
	    "never takes the update that replaced it (%d trials)",
	    corrupt_trials);
	inbox_close(&ib);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
