/*
 * provider.c: the carriers sms-sim plays, and what their parts share.
 *
 * --provider picks one of the tables below; Twilio's is the sim's own
 * code, the others (telnyx.c, plivo.c, vonage.c) answer their carrier's
 * API and post its webhooks, over the same store of messages, jobs and
 * faults. Telnyx's and Plivo's ids are UUIDs: a SID's 32 hex digits
 * written 8-4-4-4-12, so that a message is found by either; Vonage's are
 * made of a SID's digits too, one for each part.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

#include "sms-sim/sim.h"

const struct sim_provider sim_twilio = {
	.name = "twilio",
	.refuse_optout = 21610,
	.refuse_invalid = 21211,
	.fail_code = 30003,
	.code_min = 10000,
	.code_max = 99999,
};

static const struct sim_provider *const providers[] = {
	&sim_twilio, &sim_telnyx, &sim_plivo, &sim_vonage,
};

const struct sim_provider *
sim_provider_find(const char *name)
{
	for (size_t i = 0; i < sizeof providers / sizeof *providers; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

const char *
sim_provider_names(void)
{
	static char names[128];

	if (!names[0])
		for (size_t i = 0; i < sizeof providers / sizeof *providers;
		    i++)
			snprintf(names + strlen(names), sizeof names -
			    strlen(names), "%s%s", i ? "|" : "",
			    providers[i]->name);
	return names;
}

void
sim_uuid(const char *sid, char out[37])
{
	const char *h = sid + 2;

	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
	    h + 16, h + 20);
}

int
sim_uuid_sid(const char *uuid, const char *prefix, char out[35])
{
	static const int dash[] = { 8, 13, 18, 23 };
	char hex[33];
	size_t n = 0;

	if (strlen(uuid) != 36)
		return -1;
	for (size_t i = 0; i < 4; i++)
		if (uuid[dash[i]] != '-')
			return -1;
	for (size_t i = 0; i < 36 && n < 32; i++)
		if (uuid[i] != '-')
			hex[n++] = uuid[i];
	hex[n] = '\0';
	if (n != 32 || strspn(hex, "0123456789abcdef") != 32)
		return -1;
	snprintf(out, 35, "%.2s%s", prefix, hex);
	return 0;
}

int
sim_enqueue(struct sim *s, struct msg *m, int media)
{
	const struct failing *fl;
	int rc;

	m->direction = "outbound-api";
	m->status = "queued";
	if (!m->fail_status && (fl = sim_failing(s, m->to))) {
		m->fail_status = fl->status;
		m->fail_code = fl->code;
	}
	pthread_mutex_lock(&s->lock);
	sim_new_sid(s, media ? "MM" : "SM", m->sid);
	rc = sim_store_locked(s, m);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		sim_msg_free(m);
		return -1;
	}
	/* A message that fails outright is never sent. */
	if (sim_schedule(s, m, m->fail_status && strcmp(m->fail_status,
	    "failed") == 0 ? STEP_FINAL : STEP_SENT, SENT_MS) < 0)
		diag_warn("%s: cannot schedule: %s", m->sid, strerror(ENOMEM));
	return 0;
}
