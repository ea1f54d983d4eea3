/*
 * route.h: assign's decisions (route.c): who may take a conversation,
 * and who gets it by the policy, with the reason said in words.
 */
#ifndef ASSIGN_ROUTE_H
#define ASSIGN_ROUTE_H

#include <regex.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "roster.h"

enum policy { POLICY_LEAST_LOADED, POLICY_ROUND_ROBIN };

/* An agent of the roster as routing counts it. */
struct agent {
	const char *name;		/* borrowed from the roster */
	const json_t *rec;
	long load, capacity;		/* conversations it owns; most */
	int on_shift;
	char last[32];			/* when it last got one, or "" */
	unsigned long seq;		/* the how-many-th of this run it got
					 * last (0: none), finer than last */
};

/* A skill rule of the configuration: route.SKILL = REGEX. */
struct rule {
	const char *skill;
	regex_t re;
};

struct router {
	json_t *agents;			/* the roster */
	struct agent *a;
	size_t na;
	struct rule *rules;
	size_t nrules;
	enum policy policy;
	char rotation[ROSTER_NAME_BUF];	/* who round-robin served last */
	unsigned long seq;		/* decisions made so far */
};

/*
 * The skill rules of cfg (keys route.SKILL): 0, or -1 with e saying which
 * is wrong.
 */
int route_rules(struct router *r, const struct config *cfg,
    struct errbuf *e);

/*
 * Count the roster's agents' loads and last assignments in the working
 * set v[0..n-1]; r->agents must be set. -1 on ENOMEM.
 */
int route_count(struct router *r, const struct roster_conv *v, size_t n);

/* The agent called name, or NULL. */
struct agent *route_agent(struct router *r, const char *name);

/* Whether agent a has every skill the rules ask of body (NULL: none);
 * missing, if not NULL, gets the first it lacks. */
int route_fits(const struct router *r, const struct agent *a,
    const char *body, const char **missing);

/*
 * Who should get conversation c: the agent (NULL: nobody fits), with the
 * reason in why (size bytes).
 */
struct agent *route_decide(struct router *r, const struct roster_conv *c,
    char *why, size_t size);

/* Count a conversation given to a (now, at). */
void route_took(struct router *r, struct agent *a, const char *at);

/* The working set sorted: oldest waiting first, none waiting last. */
void route_sort(struct roster_conv *v, size_t n);

void route_free(struct router *r);

#endif
