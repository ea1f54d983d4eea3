/*
 * roster.c: the roster of an inbox (roster_update(), roster_agents()),
 * the rotation, claims (roster_claim(): one winner, deferred or not),
 * releases and the scan of the working set (lib/roster.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inbox.h"
#include "record.h"
#include "roster.h"
#include "tap.h"

#define RACERS 8

static json_t *
inbound(const char *from, const char *sid, const char *body)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", from, "direction", "in", "from", from,
	    "to", "+15550001111", "body", body, "provider", "twilio",
	    "provider_id", sid);
}

static void
deliver(struct inbox *ib, const char *from, const char *sid)
{
	struct inbox_delivery d;
	struct errbuf e;
	json_t *m = inbound(from, sid, "hello");

	if (inbox_deliver(ib, m, 0, NULL, &d, &e) < 0)
		printf("# deliver %s: %s\n", from, e.msg);
	inbox_delivery_free(&d);
	json_decref(m);
}

static int
add(json_t *agents, void *arg, struct errbuf *e)
{
	(void)e;
	json_array_append_new(agents, roster_agent_new(arg, NULL, 2, 1));
	return 0;
}

static int
keep(json_t *agents, void *arg, struct errbuf *e)
{
	(void)agents;
	(void)arg;
	(void)e;
	return 1;
}

static const char *
owner(struct inbox *ib, const char *thread)
{
	static char buf[ROSTER_NAME_BUF];
	struct errbuf e;
	json_t *c = inbox_conversation(ib, thread, &e);

	snprintf(buf, sizeof buf, "%s", c && record_str(c, "assignee") ?
	    record_str(c, "assignee") : "");
	json_decref(c);
	return buf;
}

/* A racer: its own inbox handle, as another process would have. */
struct racer {
	const char *dir, *thread;
	char name[16];
	int won;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct roster_claim c = { .agent = r->name };
	struct inbox ib;
	struct errbuf e;

	if (inbox_open(&ib, r->dir, 0, &e) < 0)
		return NULL;
	if (roster_claim(&ib, r->thread, &c, &e) == 0)
		r->won = c.won;
	json_decref(c.after);
	inbox_close(&ib);
	return NULL;
}

static void
test_race(const char *dir, struct inbox *ib)
{
	int rounds = tap_rounds("SMSDESK_CLAIM_ROUNDS", 50), bad = 0, i, k;

	for (i = 0; i < rounds; i++) {
		struct racer r[RACERS];
		pthread_t t[RACERS];
		char thread[32], sid[32];
		int wins = 0, who = -1;

		snprintf(thread, sizeof thread, "+1555900%04d", i);
		snprintf(sid, sizeof sid, "SMrace%d", i);
		deliver(ib, thread, sid);
		for (k = 0; k < RACERS; k++) {
			r[k] = (struct racer){ .dir = dir, .thread = thread };
			snprintf(r[k].name, sizeof r[k].name, "r%d", k);
			pthread_create(&t[k], NULL, race, &r[k]);
		}
		for (k = 0; k < RACERS; k++) {
			pthread_join(t[k], NULL);
			if (r[k].won) {
				wins++;
				who = k;
			}
		}
		if (wins != 1 || strcmp(owner(ib, thread), r[who].name) != 0)
			bad++;
	}
	is_int(bad, 0, "%d rounds of %d threads claiming one conversation: "
	    "one winner each, the owner", rounds, RACERS);
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-roster-XXXXXX", rot[ROSTER_NAME_BUF];
	struct roster_claim c = { 0 };
	struct roster_conv *v;
	struct inbox ib;
	struct errbuf e;
	json_t *a, *after;
	size_t n, i;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0)
		return ok(0, "an inbox"), tap_done();

	ok(roster_name_valid("ana.b-c_d@x"), "a name of letters, . _ - @");
	ok(!roster_name_valid("") && !roster_name_valid("-x") &&
	    !roster_name_valid("a b") && !roster_name_valid("\xc3\xa9"),
	    "not empty, a leading -, a space, non-ASCII");

	a = roster_agents(&ib, &e);
	is_int(json_array_size(a), 0, "no roster yet: no agents");
	json_decref(a);
	is_int(roster_update(&ib, 0, add, "bo", NULL, &e), 0, "bo added");
	is_int(roster_update(&ib, 0, add, "ana", &after, &e), 0, "ana added");
	is_str(record_str(json_array_get(after, 0), "name"), "ana",
	    "the roster is sorted by name");
	json_decref(after);
	is_int(roster_update(&ib, 0, keep, NULL, NULL, &e), 1,
	    "a change that changes nothing: 1, nothing written");
	a = roster_agents(&ib, &e);
	is_int(json_array_size(a), 2, "read back: two agents");
	ok(roster_find(a, "bo") && roster_on_shift(roster_find(a, "bo")) &&
	    roster_capacity(roster_find(a, "bo")) == 2, "bo: on shift, 2");
	ok(!roster_find(a, "cy"), "no cy");
	json_decref(a);

	is_int(roster_rotation(&ib, rot, sizeof rot, &e), 0, "no rotation");
	is_str(rot, "", "is empty");
	is_int(roster_rotate(&ib, "bo", &e), 0, "rotated to bo");
	roster_rotation(&ib, rot, sizeof rot, &e);
	is_str(rot, "bo", "and read back");

	c.agent = "ana";
	is_int(roster_claim(&ib, "+15559990000", &c, &e), -1,
	    "a claim of no conversation fails");
	is_int(errno, ENOENT, "ENOENT");
	deliver(&ib, "+15559990001", "SM1");
	deliver(&ib, "+15559990002", "SM2");
	is_int(roster_claim(&ib, "+15559990001", &c, &e), 0, "ana claims");
	ok(c.won, "and wins");
	is_str(record_str(c.after, "assignee"), "ana", "the record says so");
	ok(record_str(c.after, "assigned_at") != NULL, "with assigned_at");
	json_decref(c.after);
	c.agent = "bo";
	is_int(roster_claim(&ib, "+15559990001", &c, &e), 0, "bo claims it");
	ok(!c.won, "and loses");
	is_str(c.owner, "ana", "the owner is said");
	json_decref(c.after);
	c.defer = 1;
	is_int(roster_claim(&ib, "+15559990002", &c, &e), 0,
	    "a deferred claim");
	ok(c.won, "wins");
	json_decref(c.after);
	is_int(roster_sync(&ib, &e), 0, "one sync makes it durable");
	is_str(owner(&ib, "+15559990002"), "bo", "and it is read back");

	is_int(roster_release(&ib, "+15559990001", "bo", NULL, &e), 1,
	    "bo cannot release ana's");
	is_int(roster_release(&ib, "+15559990001", "ana", &after, &e), 0,
	    "ana releases hers");
	ok(json_is_null(json_object_get(after, "assignee")) &&
	    strcmp(record_str(after, "previous_assignee"), "ana") == 0 &&
	    record_str(after, "previous_at"), "nobody's; ana had it, and when");
	json_decref(after);
	c.defer = 0;
	c.agent = "bo";
	roster_claim(&ib, "+15559990001", &c, &e);
	is_str(c.previous, "ana", "a claim says who had it before");
	json_decref(c.after);

	deliver(&ib, "+15559990003", "SM3");
	is_int(roster_scan(&ib, &v, &n, &e), 0, "the working set scanned");
	is_int(n, 3, "three conversations");
	for (i = 0; i < n; i++)
		if (strcmp(v[i].thread, "+15559990003") == 0)
			break;
	ok(i < n && roster_waiting(&v[i]) && v[i].body &&
	    strcmp(v[i].body, "hello") == 0 && v[i].waiting[0],
	    "the unclaimed one waits, with its last text and since when");
	for (i = 0; i < n; i++)
		if (strcmp(v[i].thread, "+15559990001") == 0)
			break;
	ok(i < n && !roster_waiting(&v[i]) &&
	    strcmp(v[i].assignee, "bo") == 0 && v[i].assigned_at[0] &&
	    strcmp(v[i].previous, "ana") == 0 && !v[i].body,
	    "a claimed one: its owner, when, who had it before");
	roster_scan_free(v, n);

	test_race(dir, &ib);

	inbox_close(&ib);
	{
		char cmd[64];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
