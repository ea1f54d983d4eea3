/*
 * inbox-race.c: delivery reports racing each other and the message they
 * are about, from threads as sms-recv runs them: none may be lost.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "record.h"
#include "tap.h"

#define TRIALS 150

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
	int lost_parked = 0, lost_deliver = 0, lost_sent = 0;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0)
		return 1;
	for (int t = 0; t < TRIALS; t++) {
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
	is_int(lost_parked, 0, "two reports racing to park: the later one "
	    "never lost (%d trials)", TRIALS);
	is_int(lost_deliver, 0, "a report racing its message's delivery: "
	    "never lost (%d trials)", TRIALS);
	is_int(lost_sent, 0, "a report racing inbox_sent(): never lost "
	    "(%d trials)", TRIALS);
	inbox_close(&ib);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
