/*
 * roster.h: the agents of an inbox and who owns which conversation,
 * smsdesk-inbox(5) (Roster) and assign(1).
 *
 * The roster lives in the inbox, so that every program and every machine
 * sharing it sees one roster:
 *
 *   roster/agents     a log file (as conv/THREAD): its last line is the
 *                     roster, {"type":"roster","agents":[...]}, each agent
 *                     {"name","skills":[...],"capacity","on_shift",
 *                     "changed_at"}, sorted by name
 *   roster/rotation   a log file: its last line says which agent the
 *                     round-robin rotation gave work to last
 *   lock/roster       flock(2) target: held by whoever changes the roster
 *                     or routes (assign --next, --auto), so that loads
 *                     counted under it stay true until it is given up
 *
 * Who owns a conversation is its record's "assignee", changed under the
 * thread's lock (inbox_update()) only if nobody has it: a claim raced by
 * any number of processes has one winner, on one machine or on a shared
 * file system where flock(2) works, and no rename decides it. Lock
 * order: lock/roster before a thread's lock, never the other way round.
 *
 * Ownership: functions returning json_t * give a new reference.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"
#include "limit.h"

#define ROSTER_NAME_BUF (LIMIT_NAME + 1)

#define ROSTER_CAPACITY 10	/* an agent's capacity unless given */
#define ROSTER_CAPACITY_MAX 100000
#define ROSTER_AGENTS_MAX 1000	/* agents in one roster */
#define ROSTER_SKILLS_MAX 32	/* skills of one agent */

/*
 * Whether name may name an agent or a skill: 1 to LIMIT_NAME bytes of
 * ASCII letters, digits, '.', '_', '-' and '@', not starting with '-'.
 */
int roster_name_valid(const char *name);

/*
 * Take lock/roster (flock, waiting): a descriptor for roster_unlock(), or
 * -1 with e filled.
 */
int roster_lock(struct inbox *ib, struct errbuf *e);
void roster_unlock(int fd);

/*
 * The agents of the roster, an array sorted by name (empty if the inbox
 * has no roster yet); NULL with e filled. Lock-free: the record read is
 * one whole line.
 */
json_t *roster_agents(struct inbox *ib, struct errbuf *e);

/* The agent called name in agents (borrowed), or NULL. */
json_t *roster_find(const json_t *agents, const char *name);

/*
 * Change the roster under lock/roster (held already if locked, else taken
 * here): fn changes the array of agents in place and returns 0 to write
 * it, 1 to leave it, -1 to fail (e filled). Written durably (appended and
 * fdatasync'd, or replaced whole: roster/agents). *after, if not NULL,
 * gets the agents as they end up. Returns 0, 1 (unchanged) or -1.
 */
typedef int (*roster_fn)(json_t *agents, void *arg, struct errbuf *e);
int roster_update(struct inbox *ib, int locked, roster_fn fn, void *arg,
    json_t **after, struct errbuf *e);

/*
 * A new agent record: name, skills (an array, stolen; NULL for none),
 * capacity, on shift or not, changed now. NULL with errno ENOMEM.
 */
json_t *roster_agent_new(const char *name, json_t *skills, long capacity,
    int on_shift);

/* Whether agent (a record of the roster) is on shift; its capacity. */
int roster_on_shift(const json_t *agent);
long roster_capacity(const json_t *agent);

/* Whether agent has skill. */
int roster_has_skill(const json_t *agent, const char *skill);

/*
 * The agent the round-robin rotation gave work to last, copied into out
 * (size bytes; "" if none yet): 0, or -1 with e filled. roster_rotate()
 * makes name that agent (lock/roster held), durably.
 */
int roster_rotation(struct inbox *ib, char *out, size_t size,
    struct errbuf *e);
int roster_rotate(struct inbox *ib, const char *name, struct errbuf *e);

/* What a claim found and did. */
struct roster_claim {
	const char *agent;	/* who claims (the caller's) */
	int defer;		/* set by the caller: leave the sync to
				 * roster_sync() (claims made together) */
	int won;		/* 1: this call made agent the owner */
	char owner[ROSTER_NAME_BUF];	/* the owner found (won: agent) */
	char previous[ROSTER_NAME_BUF];	/* who had it before, or "" */
	json_t *after;		/* the conversation as it ends up */
};

/*
 * Make agent the owner of the conversation of thread if nobody owns it
 * (no "assignee", or null): under the thread's lock, so of any number of
 * claims at once exactly one wins. c->won says whether this one did;
 * c->owner, who owns it now (agent itself if it had it already: won is
 * 0 then). The record gets "assignee" and "assigned_at";
 * "previous_assignee" stays, and c->previous says it.
 * A thread with no conversation is -1 with errno ENOENT. Returns 0, or
 * -1 with e filled; c->after is the caller's to json_decref().
 *
 * The change is durable when this returns, unless c->defer: then it is
 * appended unsynced, and durable only once roster_sync() has returned 0,
 * which the caller waits for before it tells anyone (one sync for the
 * claims of a batch, as a journal's group commit); its queue/ name is
 * moved, for which the caller suspends the index meanwhile
 * (inbox_queue_suspend()).
 */
int roster_claim(struct inbox *ib, const char *thread,
    struct roster_claim *c, struct errbuf *e);

/* Make every deferred claim durable: syncfs(2) of the inbox. 0, or -1. */
int roster_sync(struct inbox *ib, struct errbuf *e);

/*
 * Give up the conversation of thread if agent owns it (agent NULL: if
 * anybody does): "assignee" null, "previous_assignee" who had it and
 * "previous_at" now, kept for stickiness. Returns 0 (*after, if not
 * NULL, gets the record), 1 if agent (or nobody) did not own it, or -1
 * with e filled (errno ENOENT: no such conversation).
 */
int roster_release(struct inbox *ib, const char *thread, const char *agent,
    json_t **after, struct errbuf *e);

/* One conversation of the working set as roster_scan() sees it. */
struct roster_conv {
	char thread[32];
	char status[16];
	char waiting[32];	/* waiting_since, else last_in_at, else "" */
	char assignee[ROSTER_NAME_BUF];	/* "" if nobody */
	char previous[ROSTER_NAME_BUF];	/* previous_assignee, or "" */
	char previous_at[32];		/* previous_at, or "" */
	char assigned_at[32];		/* or "" */
	char *body;	/* last_body of one waiting for an owner, or NULL */
};

/* Whether v waits for an owner: nobody has it, and it is open or pending. */
int roster_waiting(const struct roster_conv *v);

/*
 * queue/ made whole (inbox.h, inbox_queue_read()) from the working set:
 * every name a conversation gives itself made, every other name made
 * right under its thread's lock, then queue/.built; for an inbox from
 * before the index, or one a full disk kept a name from. The caller
 * holds lock/roster. 0, or -1 with e filled.
 */
int roster_queue_rebuild(struct inbox *ib, struct errbuf *e);

/*
 * The working set, once through work/ (never the resolved history): every
 * conversation that is not resolved and whose sender is not blocked. *out
 * gets an array of *n (free with roster_scan_free()). 0, or -1 with e
 * filled.
 */
int roster_scan(struct inbox *ib, struct roster_conv **out, size_t *n,
    struct errbuf *e);
void roster_scan_free(struct roster_conv *v, size_t n);

#endif
