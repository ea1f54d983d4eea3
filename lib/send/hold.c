/*
 * hold.c: the rules by jurisdiction and purpose (smsdesk-rules(5)) asked
 * of a message before it is stored to send.
 *
 * Where the recipient is comes from the number (rules_places(): the area
 * code in North America and Brazil, the country elsewhere; a number the
 * table cannot place is in every place it may be), the zones from the
 * record's "timezone" or phonezone_lookup(). The rules of its purpose
 * that bind it are asked together: the caps first (each the time the
 * oldest message it counts leaves its period), then the hours from
 * there, so the not_before a deferral gets is a time every rule allows.
 * A cap counts the conversation's own messages, so it holds across runs
 * and processes when asked under the thread's lock (prepare.c takes it),
 * with the message stored before the lock is given back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "phonezone.h"
#include "record.h"
#include "rules.h"
#include "tz.h"
#include "when.h"
#include "send.h"

#define RULES_MAX 64	/* rules binding one message, at most */

static const char *const days[] = { "Sunday", "Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday" };

static void
warn_hook(void *arg, const char *line)
{
	send_warn(arg, "%s", line);
}

int
send_setup_rules(struct send *s, const struct config *cfg, struct errbuf *e)
{
	const char *w = config_pick(cfg, NULL, NULL, "reply_window", "24h");
	struct errbuf we;

	if (when_duration(w, &s->reply_window, &we) < 0 ||
	    s->reply_window <= 0)
		return errf(e, "config: reply_window: '%s' is not a duration",
		    w), EXIT_CONFIG;
	if (rules_load(&s->rules, cfg, warn_hook, s, e) < 0)
		return EXIT_CONFIG;
	if (!s->tzdb && !(s->tzdb = tzdb_new(NULL)))
		send_nomem();
	return 0;
}

/*
 * The purpose the rules take msg for, at now: its own, but a reply
 * only while the customer's last text (the conversation's last_in_at)
 * is at most reply_window old; after, or with no inbox to tell, a
 * notification.
 */
static const char *
rule_purpose(struct send *s, const json_t *msg, const char *num, time_t now)
{
	const char *p = inbox_purpose(msg), *last;
	struct errbuf e;
	json_t *conv;
	time_t in;
	int recent = 0;

	if (strcmp(p, INBOX_REPLY) != 0)
		return p;
	if (s->have_inbox && (conv = inbox_conversation(&s->ib, num, &e))) {
		last = record_str(conv, "last_in_at");
		recent = last && when_parse(last, &in, NULL) == 0 &&
		    now - in <= s->reply_window;
		json_decref(conv);
	}
	return recent ? INBOX_REPLY : INBOX_NOTIFICATION;
}

/*
 * The rules of purpose that bind num, into v (at most RULES_MAX): the
 * table's default ("*") only if no other rule of the table binds.
 */
static size_t
binding(struct send *s, const char *purpose, const char *num,
    const struct rule **v)
{
	const char *places = rules_places(num);
	size_t n = 0, k = 0, i;
	int placed = 0;

	for (i = 0; i < s->rules.n && n < RULES_MAX; i++) {
		const struct rule *r = &s->rules.v[i];

		if (!r->off && strcmp(r->purpose, purpose) == 0 &&
		    rules_applies(r, num, places)) {
			v[n++] = r;
			placed |= !r->fallback && strcmp(r->jur, "*") != 0;
		}
	}
	for (i = 0; i < n; i++)
		if (!placed || !v[i]->fallback)
			v[k++] = v[i];
	return k;
}

int
send_rules_capped(struct send *s, const json_t *msg, const char *num)
{
	const struct rule *v[RULES_MAX];
	size_t n = binding(s, inbox_purpose(msg), num, v);

	for (size_t i = 0; i < n; i++)
		if (v[i]->cap)
			return 1;
	/* A reply may be counted as a notification. */
	if (strcmp(inbox_purpose(msg), INBOX_REPLY) == 0) {
		n = binding(s, INBOX_NOTIFICATION, num, v);
		for (size_t i = 0; i < n; i++)
			if (v[i]->cap)
				return 1;
	}
	return 0;
}

static int
cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Whether outbound message m counts for cap rule r against a message of
 * subject sub (NULL: none) at now: of r's purpose, in its period, gone
 * or going, and, for a cap on one subject, of that subject or of none
 * (it may be the same).
 */
static int
counts(const struct rule *r, const json_t *m, const char *purpose,
    const char *sub, time_t now, time_t *at)
{
	const char *st = record_str(m, "status"), *ms;
	const char *dir = record_str(m, "direction");

	if (!dir || strcmp(dir, "out") != 0 ||
	    strcmp(inbox_purpose(m), purpose) != 0)
		return 0;
	if (st && (strcmp(st, "failed") == 0 || strcmp(st, "canceled") == 0 ||
	    strcmp(st, "scheduled") == 0 || strcmp(st, "deferred") == 0))
		return 0;
	if (!record_str(m, "at") || when_parse(record_str(m, "at"), at,
	    NULL) < 0 || *at <= now - r->period || *at > now)
		return 0;
	ms = record_str(m, "subject");
	if (r->per_subject && sub && ms && strcmp(ms, sub) != 0)
		return 0;
	return 1;
}

/*
 * Cap rule r for a message of purpose and subject sub, given its
 * thread's messages: 0 if it may go now, else the first time it may
 * (when the oldest message it counts that must leave the period does).
 */
static time_t
cap_until(const struct rule *r, const json_t *thread, const char *purpose,
    const char *sub, time_t now)
{
	time_t *t, at, until = 0;
	size_t i, k = 0, n = json_array_size(thread);

	if (!n)
		return 0;
	if (!(t = malloc(n * sizeof *t)))
		send_nomem();
	for (i = 0; i < n; i++)
		if (counts(r, json_array_get(thread, i), purpose, sub, now,
		    &at))
			t[k++] = at;
	if (k >= (size_t)r->cap) {
		qsort(t, k, sizeof *t, cmp_time);
		until = t[k - (size_t)r->cap] + (time_t)r->period;
	}
	free(t);
	return until;
}

int
send_rules_hold(struct send *s, const json_t *msg, const char *num,
    time_t now, int caps, struct hold *h, struct errbuf *e)
{
	const struct rule *v[RULES_MAX];
	const char *purpose = inbox_purpose(msg);
	const char *sub = record_str(msg, "subject");
	const char *zones = record_str(msg, "timezone"), *zone = "?";
	const struct rule *by = NULL;
	json_t *thread = NULL;
	char at[WHEN_BUFSZ], name[64];
	time_t from = now, u, open;
	size_t n, i, which;
	struct tz_local l;
	const struct tz *z;
	int hours = 0, rc;

	memset(h, 0, sizeof *h);
	/* No rule for replies, nor notifications: no conversation read. */
	if (strcmp(purpose, INBOX_REPLY) == 0 && !binding(s, purpose, num, v) &&
	    !binding(s, INBOX_NOTIFICATION, num, v))
		return 0;
	purpose = rule_purpose(s, msg, num, now);
	if (!(n = binding(s, purpose, num, v)))
		return 0;
	if (!zones || !*zones)
		zones = phonezone_lookup(num, NULL);
	for (i = 0; i < n; i++) {
		hours |= v[i]->has_hours;
		if (!caps || !v[i]->cap || !s->have_inbox)
			continue;
		if (!thread && !(thread = inbox_thread(&s->ib, num, e))) {
			if (errno != ENOENT)
				return -1;
			if (!(thread = json_array()))
				send_nomem();
		}
		if ((u = cap_until(v[i], thread, purpose, sub, now)) >
		    from) {
			from = u;
			by = v[i];
		}
	}
	json_decref(thread);
	if (by) {
		rules_name(by, "frequency", h->by, sizeof h->by);
		when_format(from, at);
		snprintf(h->why, sizeof h->why, "%s: at most %d %s message%s "
		    "%s in %lld hours (%s); the next may go at %s", h->by,
		    by->cap, purpose, by->cap == 1 ? "" : "s", by->per_subject ?
		    (sub ? "on one subject" : "(no subject: every one counts)")
		    : "of any subject", by->period / 3600, by->source, at);
	}
	if (hours && !zones) {
		h->held = 'r';
		rules_name(v[0], "hours", h->by, sizeof h->by);
		snprintf(h->why, sizeof h->why, "%s: no time zone is known for "
		    "this number, so the hours of the %s rules cannot be "
		    "respected", num, purpose);
		return 0;
	}
	if (hours && (rc = rules_hours(s->tzdb, v, n, zones, from, &which,
	    &zone, &open, e)) != 0) {
		if (rc < 0)
			return -1;
		rules_name(v[which], "hours", name, sizeof name);
		if (!by) {
			by = v[which];
			snprintf(h->by, sizeof h->by, "%s", name);
			if ((z = tzdb_get(s->tzdb, zone, e)))
				tz_local(z, from, &l);
			snprintf(h->why, sizeof h->why, "%s (%s): %02d:%02d on "
			    "a %s in %s", name, v[which]->source,
			    z ? l.hour : 0, z ? l.min : 0,
			    days[z ? l.wday : 0], zone);
		} else {
			snprintf(h->why + strlen(h->why), sizeof h->why -
			    strlen(h->why), ", and %s after that", name);
		}
		if (!open) {
			h->held = 'r';
			snprintf(h->why + strlen(h->why), sizeof h->why -
			    strlen(h->why), "; and the rules are never open "
			    "at once in all its zones");
			return 0;
		}
		from = open;
	}
	if (!by)
		return 0;
	h->held = by->refuse ? 'r' : 'd';
	h->until = from;
	return 0;
}
