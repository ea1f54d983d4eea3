/*
 * route.c: assign's decisions, assign(1) ROUTING.
 *
 * A conversation asks for the skills whose rules (route.SKILL = REGEX in
 * the configuration) match its last text; an agent fits it if it has
 * every one of them. Of the agents that fit, only those on shift with
 * room (fewer open conversations than their capacity) get work: first
 * the agent who had the customer before (stickiness), else the one the
 * policy names: least-loaded (fewest open, ties to the longest idle,
 * then by name) or round-robin (in the order of names, after the one
 * served last). Loads are counted from the working set at the start and
 * kept as decisions are made.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "record.h"
#include "roster.h"
#include "assign/route.h"

#define RULE_PREFIX "route."

int
route_rules(struct router *r, const struct config *cfg, struct errbuf *e)
{
	const char *key, *val;
	size_t i, n = 0;
	int rc;

	for (i = 0; config_entry(cfg, i, &key, &val); i++)
		if (strncmp(key, RULE_PREFIX, strlen(RULE_PREFIX)) == 0)
			n++;
	if (!n)
		return 0;
	if (!(r->rules = calloc(n, sizeof *r->rules)))
		return errf(e, "%s", strerror(ENOMEM));
	for (i = 0; config_entry(cfg, i, &key, &val); i++) {
		struct rule *ru = &r->rules[r->nrules];

		if (strncmp(key, RULE_PREFIX, strlen(RULE_PREFIX)) != 0)
			continue;
		ru->skill = key + strlen(RULE_PREFIX);
		if (!roster_name_valid(ru->skill))
			return errno = EINVAL, errf(e, "%s: '%s' is not a "
			    "skill's name", key, ru->skill);
		if ((rc = regcomp(&ru->re, val, REG_EXTENDED | REG_ICASE |
		    REG_NOSUB)) != 0) {
			char msg[128];

			regerror(rc, &ru->re, msg, sizeof msg);
			return errno = EINVAL, errf(e, "%s: %s", key, msg);
		}
		r->nrules++;
	}
	return 0;
}

struct agent *
route_agent(struct router *r, const char *name)
{
	for (size_t i = 0; i < r->na; i++)
		if (strcmp(r->a[i].name, name) == 0)
			return &r->a[i];
	return NULL;
}

int
route_count(struct router *r, const struct roster_conv *v, size_t n)
{
	size_t i;
	json_t *rec;

	r->na = json_array_size(r->agents);
	if (r->na && !(r->a = calloc(r->na, sizeof *r->a)))
		return -1;
	json_array_foreach(r->agents, i, rec) {
		struct agent *a = &r->a[i];

		a->name = record_str(rec, "name");
		if (!a->name)
			a->name = "";
		a->rec = rec;
		a->capacity = roster_capacity(rec);
		a->on_shift = roster_on_shift(rec);
	}
	for (i = 0; i < n; i++) {
		struct agent *a;

		if (!v[i].assignee[0] || !(a = route_agent(r, v[i].assignee)))
			continue;
		a->load++;
		if (strcmp(v[i].assigned_at, a->last) > 0)
			snprintf(a->last, sizeof a->last, "%s",
			    v[i].assigned_at);
	}
	return 0;
}

int
route_fits(const struct router *r, const struct agent *a, const char *body,
    const char **missing)
{
	for (size_t i = 0; body && i < r->nrules; i++)
		if (regexec(&r->rules[i].re, body, 0, NULL, 0) == 0 &&
		    !roster_has_skill(a->rec, r->rules[i].skill)) {
			if (missing)
				*missing = r->rules[i].skill;
			return 0;
		}
	return 1;
}

/* The skills the rules ask of body, said as "skill a, b" into out. */
static void
skills_asked(const struct router *r, const char *body, char *out,
    size_t size)
{
	size_t n = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; body && i < r->nrules; i++)
		if (regexec(&r->rules[i].re, body, 0, NULL, 0) == 0 &&
		    used < size)
			used += (size_t)snprintf(out + used, size - used,
			    "%s%s", n++ ? ", " : " with skill ",
			    r->rules[i].skill);
}

static int
has_room(const struct agent *a)
{
	return a->load < a->capacity;
}

/* Whether a may get c by routing: on shift, fitting, with room. */
static int
can_take(const struct router *r, const struct agent *a,
    const struct roster_conv *c)
{
	return a->on_shift && has_room(a) && route_fits(r, a, c->body, NULL);
}

/* Why the agent who had c before does not get it again: into out. */
static void
not_sticky(const struct router *r, const struct agent *p,
    const struct roster_conv *c, char *out, size_t size)
{
	const char *missing = NULL;

	if (!p)
		snprintf(out, size, " (%s, who had this customer, is not in "
		    "the roster)", c->previous);
	else if (!p->on_shift)
		snprintf(out, size, " (%s, who had this customer, is off "
		    "shift)", p->name);
	else if (!route_fits(r, p, c->body, &missing))
		snprintf(out, size, " (%s, who had this customer, lacks "
		    "skill %s)", p->name, missing);
	else
		snprintf(out, size, " (%s, who had this customer, is at "
		    "capacity %ld/%ld)", p->name, p->load, p->capacity);
}

static struct agent *
least_loaded(struct router *r, const struct roster_conv *c)
{
	struct agent *best = NULL;

	for (size_t i = 0; i < r->na; i++) {
		struct agent *a = &r->a[i];

		if (!can_take(r, a, c))
			continue;
		/* Ties go to the longest idle ("" never had one). */
		if (!best || a->load < best->load || (a->load == best->load &&
		    (a->seq < best->seq || (a->seq == best->seq &&
		    strcmp(a->last, best->last) < 0))))
			best = a;
	}
	return best;
}

static struct agent *
round_robin(struct router *r, const struct roster_conv *c)
{
	size_t start = 0, i;

	/* The agents are in the order of names: begin after the last. */
	while (start < r->na && r->rotation[0] &&
	    strcmp(r->a[start].name, r->rotation) <= 0)
		start++;
	for (i = 0; i < r->na; i++) {
		struct agent *a = &r->a[(start + i) % r->na];

		if (can_take(r, a, c))
			return a;
	}
	return NULL;
}

/* Why nobody gets c, into why. */
static void
nobody(const struct router *r, const struct roster_conv *c, char *why,
    size_t size)
{
	char asked[160];
	size_t on = 0, fit = 0;

	skills_asked(r, c->body, asked, sizeof asked);
	for (size_t i = 0; i < r->na; i++)
		if (r->a[i].on_shift) {
			on++;
			fit += route_fits(r, &r->a[i], c->body, NULL);
		}
	if (!r->na)
		snprintf(why, size, "no agents in the roster");
	else if (!on)
		snprintf(why, size, "no agent on shift");
	else if (!fit)
		snprintf(why, size, "no agent on shift%s", asked);
	else
		snprintf(why, size, "every agent on shift%s is at capacity",
		    asked);
}

struct agent *
route_decide(struct router *r, const struct roster_conv *c, char *why,
    size_t size)
{
	struct agent *p = c->previous[0] ? route_agent(r, c->previous) : NULL;
	struct agent *a;
	char aside[160] = "";

	if (p && can_take(r, p, c)) {
		snprintf(why, size, "sticky: %s had this customer%s%.10s",
		    p->name, c->previous_at[0] ? " on " : "", c->previous_at);
		return p;
	}
	if (c->previous[0])
		not_sticky(r, p, c, aside, sizeof aside);
	a = r->policy == POLICY_ROUND_ROBIN ? round_robin(r, c) :
	    least_loaded(r, c);
	if (!a) {
		nobody(r, c, why, size);
		return NULL;
	}
	snprintf(why, size, "%s: %s %ld/%ld open%s", r->policy ==
	    POLICY_ROUND_ROBIN ? "round-robin" : "least-loaded", a->name,
	    a->load, a->capacity, aside);
	return a;
}

void
route_took(struct router *r, struct agent *a, const char *at)
{
	a->load++;
	a->seq = ++r->seq;
	snprintf(a->last, sizeof a->last, "%s", at);
	snprintf(r->rotation, sizeof r->rotation, "%s", a->name);
}

static int
by_waiting(const void *x, const void *y)
{
	const struct roster_conv *a = x, *b = y;
	int c;

	if (!a->waiting[0] != !b->waiting[0])
		return a->waiting[0] ? -1 : 1;
	if ((c = strcmp(a->waiting, b->waiting)) != 0)
		return c;
	return strcmp(a->thread, b->thread);
}

void
route_sort(struct roster_conv *v, size_t n)
{
	/* An empty batch may have no array at all: qsort() wants one. */
	if (n > 1)
		qsort(v, n, sizeof *v, by_waiting);
}

void
route_free(struct router *r)
{
	for (size_t i = 0; i < r->nrules; i++)
		regfree(&r->rules[i].re);
	free(r->rules);
	free(r->a);
	json_decref(r->agents);
	r->rules = NULL;
	r->a = NULL;
	r->agents = NULL;
	r->nrules = r->na = 0;
}
