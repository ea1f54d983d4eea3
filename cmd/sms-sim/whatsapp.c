/*
 * whatsapp.c: WhatsApp through the Messages API, as Twilio carries it.
 *
 * A WhatsApp message is one whose To and From are written whatsapp:+E164;
 * one address on WhatsApp and the other not is Twilio's 21910. The sim
 * remembers, per customer and business number, when the customer last
 * wrote on WhatsApp (by the sim's clock, so that a test can pin it and
 * move it). A free-form message (a Body, no ContentSid) outside those 24
 * hours, the customer service window, is taken all the same (201, queued)
 * and then fails with 63016, as Twilio reports it: in the status callback
 * and the resource, not in the create's answer. A template, by its
 * ContentSid (HX and 32 hex digits) with ContentVariables a JSON object,
 * goes at any time. The windows live under s->lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "form.h"

#include "sms-sim/sim.h"

/* The window of customer and business, or NULL; s->lock held. */
static struct wa_window *
find_locked(struct sim *s, const char *customer, const char *business)
{
	for (size_t i = 0; i < s->nwindows; i++)
		if (strcmp(s->windows[i].customer, customer) == 0 &&
		    strcmp(s->windows[i].business, business) == 0)
			return &s->windows[i];
	return NULL;
}

int
sim_wa_wrote(struct sim *s, const char *customer, const char *business,
    time_t t)
{
	struct wa_window *w;

	if (strlen(customer) >= PHONE_MAX || strlen(business) >= PHONE_MAX) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	if (!(w = find_locked(s, customer, business))) {
		if (s->nwindows == s->wincap) {
			size_t cap = s->wincap ? s->wincap * 2 : 64;
			struct wa_window *v = realloc(s->windows,
			    cap * sizeof *v);

			if (!v) {
				pthread_mutex_unlock(&s->lock);
				errno = ENOMEM;
				return -1;
			}
			s->windows = v;
			s->wincap = cap;
		}
		w = &s->windows[s->nwindows++];
		snprintf(w->customer, sizeof w->customer, "%s", customer);
		snprintf(w->business, sizeof w->business, "%s", business);
		w->last = t;
	} else if (t > w->last) {
		w->last = t;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int
sim_wa_open(struct sim *s, const char *business, const char *customer)
{
	const struct wa_window *w;
	time_t now = sim_now(s);
	int open;

	pthread_mutex_lock(&s->lock);
	w = find_locked(s, customer, business);
	open = w && now - w->last < WHATSAPP_WINDOW;
	pthread_mutex_unlock(&s->lock);
	return open;
}

int
sim_wa_check(const struct form *f, const char **to, const char **from,
    int *wa, struct answer *a)
{
	const size_t n = sizeof WHATSAPP - 1;
	const char *sid = form_get(f, "ContentSid");
	const char *vars = form_get(f, "ContentVariables");
	int to_wa = *to && strncmp(*to, WHATSAPP, n) == 0;
	int from_wa = *from && strncmp(*from, WHATSAPP, n) == 0;
	json_t *j;
	int object;

	/* A Messaging Service (no From, or its SID in From) picks a sender
	 * on the channel of To. */
	if (*to && *from && **from && !sim_sid_ok(*from, "MG") &&
	    to_wa != from_wa)
		return sim_error(a, 400, 21910, "Invalid From and To pair. "
		    "From and To should be of the same channel");
	*wa = to_wa;
	if (to_wa)
		*to += n;
	if (from_wa)
		*from += n;
	if (sid && !sim_sid_ok(sid, "HX"))
		return sim_error(a, 400, 21655, "The ContentSid is Invalid: "
		    "'%.40s' is not HX and 32 hex digits", sid);
	if (vars && !sid)
		return sim_error(a, 400, 21656, "The ContentVariables "
		    "Parameter is invalid: ContentVariables without a "
		    "ContentSid");
	if (vars) {
		j = json_loads(vars, 0, NULL);
		object = json_is_object(j);
		json_decref(j);
		if (!object)
			return sim_error(a, 400, 21656, "The ContentVariables "
			    "Parameter is invalid: not a JSON object");
	}
	return 0;
}
