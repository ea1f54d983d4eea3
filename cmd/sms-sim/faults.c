/*
 * faults.c: the faults sms-sim makes on demand.
 *
 * --rate is a token bucket in front of creates; --optout, --refuse and
 * --fail single out numbers; --read-errors fails a share of fetches and
 * lists. The draws come from the seeded generator (sim_roll()), so a run
 * with --seed makes the same faults. --errors is drawn in the router, and
 * --drop at the end of a create.
 *
 * The opt-outs change while the sim serves, as customers text STOP and
 * START (customers.c), so they are kept under s->lock: a short array of
 * recipient and sender, searched from the start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sms-sim/sim.h"

int
sim_rate_ok(struct sim *s)
{
	struct timespec now;
	double cap = s->rate < 1 ? 1 : s->rate, dt;
	int ok;

	if (s->rate <= 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&s->lock);
	dt = (double)(now.tv_sec - s->filled.tv_sec) +
	    (double)(now.tv_nsec - s->filled.tv_nsec) / 1e9;
	s->tokens += dt * s->rate;
	if (s->tokens > cap)
		s->tokens = cap;
	s->filled = now;
	if ((ok = s->tokens >= 1))
		s->tokens -= 1;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

const struct failing *
sim_failing(const struct sim *s, const char *to)
{
	for (size_t i = 0; i < s->nfails; i++)
		if (strcmp(s->fails[i].number, to) == 0)
			return &s->fails[i];
	return NULL;
}

int
sim_refused(const struct sim *s, const char *to)
{
	for (size_t i = 0; i < s->nrefusals; i++)
		if (strcmp(s->refusals[i].number, to) == 0)
			return s->refusals[i].code;
	return 0;
}

int
sim_opted_out(struct sim *s, const char *to, const char *from)
{
	int out = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->noptouts && !out; i++)
		out = strcmp(s->optouts[i].number, to) == 0 &&
		    (!s->optouts[i].sender[0] ||
		    strcmp(s->optouts[i].sender, from) == 0);
	pthread_mutex_unlock(&s->lock);
	return out;
}

int
sim_optout_set(struct sim *s, const char *number, const char *sender,
    int out)
{
	struct optout *o;
	size_t i;

	if (strlen(number) >= PHONE_MAX || strlen(sender) >= PHONE_MAX) {
		errno = EINVAL;	/* a From no phone number has */
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->noptouts; i++) {
		o = &s->optouts[i];
		if (strcmp(o->number, number) != 0)
			continue;
		if (out && strcmp(o->sender, sender) == 0)
			break;	/* opted out already */
		if (!out && (!o->sender[0] || strcmp(o->sender, sender) == 0))
			s->optouts[i--] = s->optouts[--s->noptouts];
	}
	if (out && i == s->noptouts) {
		if (s->noptouts == s->optcap) {
			size_t cap = s->optcap ? s->optcap * 2 : 16;

			if (!(o = realloc(s->optouts, cap * sizeof *o))) {
				pthread_mutex_unlock(&s->lock);
				errno = ENOMEM;
				return -1;
			}
			s->optouts = o;
			s->optcap = cap;
		}
		o = &s->optouts[s->noptouts++];
		snprintf(o->number, sizeof o->number, "%s", number);
		snprintf(o->sender, sizeof o->sender, "%s", sender);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int
sim_refuse(struct answer *a, int code, const char *to, const char *from)
{
	switch (code) {
	case 21211:
		return sim_error(a, 400, code, "The 'To' number %s is not "
		    "a valid phone number.", to);
	case 21408:
		return sim_error(a, 400, code, "Permission to send an SMS "
		    "has not been enabled for the region indicated by the "
		    "'To' number: %s.", to);
	case 21610:
		return sim_error(a, 400, code,
		    "Attempt to send to unsubscribed recipient");
	case 21612:
		return sim_error(a, 400, code, "The 'To' phone number: %s, "
		    "is not currently reachable using the 'From' phone "
		    "number: %s via SMS.", to, from);
	case 21614:
		return sim_error(a, 400, code, "'To' number %s is not a "
		    "valid mobile number", to);
	default:
		return sim_error(a, 400, code, "The message to %s cannot "
		    "be created (error %d).", to, code);
	}
}

int
sim_read_error(struct sim *s, struct answer *a)
{
	if (!sim_roll(s, s->read_errors))
		return 0;
	a->retry_after = sim_roll(s, 50);
	if (a->retry_after)
		sim_error(a, 503, 20503, "Service Unavailable");
	else
		sim_error(a, 500, 20500, "Internal Server Error");
	return 1;
}
