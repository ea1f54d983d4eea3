/*
 * prepare.c: a record made into a message that may be sent, or ended.
 *
 * The number is normalised, a --template filled, the body analysed
 * (refused over what the provider takes: its max_chars), the consent
 * ledger checked (an opted-out number gets no request at all) and the
 * recipient's
 * quiet hours; then the message is stored in its conversation as
 * "queued", and in outbox/, before the provider hears of it; a reply by an
 * agent to a conversation nobody owns makes the agent its owner
 * (roster_claim()). These are
 * smsdesk(7), GUARANTEES: no text after STOP, quiet hours, and a send is
 * never lost nor blindly repeated. A
 * message that goes no further is ended here, with the reason in its
 * record; a dry run ends every message here, with its price.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "contact.h"
#include "diag.h"
#include "gsm.h"
#include "hours.h"
#include "inbox.h"
#include "limit.h"
#include "phone.h"
#include "phonezone.h"
#include "record.h"
#include "roster.h"
#include "serve.h"
#include "tz.h"
#include "utf8.h"
#include "when.h"
#include "send.h"

/*
 * A reply by s->agent to the conversation of num, stored: the agent owns
 * it now if nobody did (assign(1): who answered and who owns agree). A
 * claim that fails is said, and the send goes on.
 */
static void
claim_answered(struct send *s, const char *num)
{
	struct roster_claim c = { .agent = s->agent };
	struct errbuf e;

	if (roster_claim(&s->ib, num, &c, &e) < 0)
		send_warn(s, "%s: not claimed for %s: %s", num, s->agent,
		    e.msg);
	json_decref(c.after);
}

/* j ends before any request, as msg (borrowed) and oc say. */
static void
done(struct job *j, json_t *msg, enum outcome oc)
{
	json_incref(msg);
	json_decref(j->msg);
	j->msg = msg;
	j->oc = oc;
	j->state = J_DONE;
}

/* A message that failed before it was queued: say so, and why. */
static void
refuse(struct send *s, struct job *j, const char *code,
    const char *message)
{
	json_object_set_new(j->msg, "status", json_string("failed"));
	json_object_set_new(j->msg, "error", send_error(code, 0, message));
	send_warn(s, "%s: %s", j->where, message);
	done(j, j->msg, PERMANENT);
}

/*
 * A message refused before any request for a reason of the customer's
 * (they opted out): stored in its conversation as failed, so that whoever
 * reads the thread sees the attempt and why it went nowhere. A dry run
 * stores nothing.
 */
static void
refuse_stored(struct send *s, struct job *j, const char *code,
    const char *message)
{
	struct inbox_delivery d;
	struct errbuf e;

	if (s->dry_run || !s->have_inbox) {
		refuse(s, j, code, message);
		return;
	}
	refuse(s, j, code, message);
	if (inbox_deliver(&s->ib, j->msg, 0, NULL, &d, &e) < 0) {
		send_warn(s, "%s: %s", j->where, e.msg);
		return;
	}
	if (d.duplicate)
		json_object_set_new(d.message, "duplicate", json_true());
	done(j, d.message, send_classify(d.message));
	inbox_delivery_free(&d);
}

/* Whether one of the n jobs in b holds thread num's lock. */
static int
in_batch(struct job **b, size_t n, const char *num)
{
	for (size_t i = 0; i < n; i++) {
		const char *t = record_str(b[i]->msg, "thread");

		if (b[i]->locked && t && strcmp(t, num) == 0)
			return 1;
	}
	return 0;
}

/*
 * In a batch (w->batch), j's thread, num, locked until the batch ends
 * (workers.c): at once, or, if another writer holds it while the batch
 * holds others, once the batch has ended and holds nothing (two writers
 * each holding a lock must never wait for each other's). 0, or -1 with
 * j refused.
 */
static int
hold(struct worker *w, struct job *j, const char *num)
{
	struct errbuf e;

	/*
	 * One message a thread in the batches: the next one's conversation
	 * is the one the first leaves, written when its batch ends.
	 */
	if (in_batch(w->batch, w->nbatch, num) ||
	    in_batch(w->prev, w->nprev, num))
		w->flush(w);
	if ((j->lk = inbox_lock(&w->s->ib, num, w->nbatch + w->nprev > 0,
	    &e)) < 0 && errno == EWOULDBLOCK) {
		w->flush(w);
		j->lk = inbox_lock(&w->s->ib, num, 0, &e);
	}
	if (j->lk < 0) {
		refuse(w->s, j, "transient", e.msg);
		return -1;
	}
	j->locked = 1;
	return 0;
}

/*
 * j's message, stored (rc 0) or not (-1, with errno err, e says why):
 * queued to send, or ended as a duplicate of one stored before, or
 * refused.
 */
static void
stored(struct send *s, struct job *j, int rc, int err,
    struct inbox_delivery *d, const struct errbuf *e)
{
	/* Media copied for a message not stored after all: taken back. */
	if (rc < 0 || d->duplicate)
		inbox_media_unsend(&s->ib, json_object_get(j->msg, "media"));
	if (rc < 0) {
		/* Bad data fails again, whenever it is tried (limit.h). */
		refuse(s, j, err == EINVAL ? "permanent" : "transient",
		    e->msg);
		return;
	}
	if (d->duplicate) {
		/* A resumed run: this one was queued before, maybe sent. */
		json_object_set_new(d->message, "duplicate", json_true());
		done(j, d->message, send_classify(d->message));
		j->claim = 0;
	} else if (inbox_is_scheduled(d->message)) {
		/* Stored to go later: --due sends it (schedule.c). */
		done(j, d->message, OK);
	} else {
		j->state = J_SEND;
	}
	inbox_delivery_free(d);
}

/*
 * The second half of the messages a batch stored (send_prepare()), of
 * the n jobs in j: their journal records synced once for all, their
 * outbox/ entries written at once (inbox_deliver_end_all()).
 */
void
send_prepare_end(struct worker *w, struct job **j, size_t n)
{
	struct inbox_pending **p = malloc(n * sizeof *p);
	struct inbox_delivery *d = malloc(n * sizeof *d);
	struct errbuf *e = malloc(n * sizeof *e);
	int *rc = malloc(n * sizeof *rc);
	struct job **of = malloc(n * sizeof *of);
	size_t i, k = 0;

	if (!p || !d || !e || !rc || !of)
		send_nomem();
	for (i = 0; i < n; i++)
		if (j[i]->pending) {
			of[k] = j[i];
			p[k++] = j[i]->pending;
			j[i]->pending = NULL;
		}
	inbox_deliver_end_all(&w->s->ib, p, k, d, e, rc);
	/* Bad data fails when a delivery begins: what fails here is I/O. */
	for (i = 0; i < k; i++)
		stored(w->s, of[i], rc[i], EIO, &d[i], &e[i]);
	free(p);
	free(d);
	free(e);
	free(rc);
	free(of);
}

/* A stored reply by s->agent: claimed once nothing is locked. */
void
send_prepare_claim(struct worker *w, struct job *j)
{
	if (j->claim && j->state == J_SEND)
		claim_answered(w->s, record_str(j->msg, "thread"));
	j->claim = 0;
}

#define TEMPLATE_FIELD_MAX 128	/* bytes of a field name, and its NUL */

int
template_check(const char *tmpl, struct errbuf *e)
{
	const char *p = tmpl, *end;
	size_t n = strlen(tmpl);

	if (utf8_valid_prefix(tmpl, n) != n)
		return errno = EINVAL, errf(e, "not UTF-8");
	while ((p = strchr(p, '{'))) {
		if (p[1] == '{') {
			p += 2;
			continue;
		}
		if (!(end = strchr(p, '}')) ||
		    end - p - 1 >= TEMPLATE_FIELD_MAX)
			return errno = EINVAL, errf(e, "unclosed { at byte "
			    "%ld", (long)(p - tmpl));
		p = end + 1;
	}
	return 0;
}

/*
 * The field name of rec, else of the record it carries (an event's
 * "conversation" or "message"), or NULL.
 */
static const json_t *
field(const json_t *rec, const char *name)
{
	const json_t *v = json_object_get(rec, name);

	if (!v)
		v = json_object_get(json_object_get(rec, "conversation"), name);
	if (!v)
		v = json_object_get(json_object_get(rec, "message"), name);
	return v;
}

/*
 * The contact of a template's record (contact.h): read when a field is
 * first missing from the record, once per record.
 */
struct who {
	struct send *s;
	const char *num;	/* the recipient, E.164 */
	json_t *contact;	/* once read: the contact, or NULL */
	int read;
};

/* The field name of w's contact (a string), or NULL. */
static const json_t *
contact_field(struct who *w, const char *name)
{
	struct errbuf e;
	const json_t *v;

	if (!w->read && w->s->have_inbox) {
		w->read = 1;
		if (!(w->contact = contact_get(&w->s->ib, w->num, &e)) &&
		    errno != ENOENT && errno != EBADMSG)
			send_warn(w->s, "%s: contact: %s", w->num, e.msg);
	}
	v = json_object_get(w->contact, name);
	return json_is_string(v) && strcmp(name, "type") != 0 ? v : NULL;
}

/* Whether a --key is a template: it has a "{" that is not "{{". */
int
send_key_templated(const char *key)
{
	const char *p = key;

	while (p && (p = strchr(p, '{'))) {
		if (p[1] != '{')
			return 1;
		p += 2;
	}
	return 0;
}

/*
 * Fill tmpl's {field}s from rec (field()), else (absent or null there)
 * from the recipient's contact (w, if not NULL): strings as they are, numbers in decimal; "{{"
 * and "}}" are braces. NULL with e filled (what says what it fills) if a
 * field is missing from both, not a string or number, or a string holding
 * a NUL.
 */
static char *
fill(const char *tmpl, const json_t *rec, struct who *w, const char *what,
    struct errbuf *e)
{
	struct buf b = { 0 };
	const char *p = tmpl, *end;
	char name[TEMPLATE_FIELD_MAX], num[64];
	const json_t *v;

	while (*p) {
		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			buf_addc(&b, *p);
			p += 2;
			continue;
		}
		if (*p != '{') {
			buf_addc(&b, *p++);
			continue;
		}
		if (!(end = strchr(p, '}')) ||
		    end - p - 1 >= (long)sizeof name) {
			buf_free(&b);
			errf(e, "%s: unclosed {", what);
			return NULL;
		}
		snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
		if (((v = field(rec, name)) == NULL || json_is_null(v)) && w)
			v = contact_field(w, name);
		if (record_has_nul(v)) {
			buf_free(&b);
			errf(e, "%s: field '%s' holds a NUL (\\u0000)", what,
			    name);
			return NULL;
		}
		if (json_is_string(v)) {
			buf_adds(&b, json_string_value(v));
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(v));
			buf_adds(&b, num);
		} else if (json_is_real(v)) {
			snprintf(num, sizeof num, "%g", json_real_value(v));
			buf_adds(&b, num);
		} else {
			buf_free(&b);
			errf(e, "%s: no field '%s' in the record%s", what,
			    name, w && w->s->have_inbox ? " or its contact" :
			    "");
			return NULL;
		}
		p = end + 1;
	}
	buf_addc(&b, '\0');
	if (b.err)
		send_nomem();
	return b.p;
}

/*
 * Quiet hours (smsdesk(7), GUARANTEES: quiet hours): whether msg must not
 * start now, in the recipient's zone (zone, from the record, where the
 * business knows it) or else the zones of the number by phonezone_lookup(),
 * quiet if quiet in any of them. Such a message is reported, and not sent:
 * deferred (status "deferred", with not_before, the first time no zone is
 * quiet) or refused. A number with no known zone is refused, as is one
 * whose zones are never all open at once: a deferral would never end.
 */
static int
quiet_hours(struct send *s, struct job *j, const char *num, const char *known)
{
	json_t *msg = j->msg;
	const char *zones = known ? known : phonezone_lookup(num, NULL), *zone;
	char m[320], at[WHEN_BUFSZ];
	time_t now = when_now(), open;
	const struct tz *z;
	struct tz_local l;
	struct errbuf e;
	int rc;

	if (known && !*known)
		known = NULL, zones = phonezone_lookup(num, NULL);
	if (known)
		json_object_set_new(msg, "timezone", json_string(known));
	if (!zones) {
		snprintf(m, sizeof m, "%s: no time zone is known for this "
		    "number, so its quiet hours cannot be respected", num);
		refuse(s, j, "unknown_zone", m);
		return 1;
	}
	if ((rc = hours_quiet(s->tzdb, zones, &s->qwin, now, &zone, &open,
	    &e)) < 0) {
		refuse(s, j, "unknown_zone", e.msg);
		return 1;
	}
	if (rc == 0)
		return 0;
	if ((z = tzdb_get(s->tzdb, zone, &e)))
		tz_local(z, now, &l);
	snprintf(m, sizeof m, "quiet hours (%s) at the recipient: %02d:%02d "
	    "in %s", s->quiet_spec, z ? l.hour : 0, z ? l.min : 0, zone);
	if (s->quiet == 'r' || !open) {
		if (!open)
			snprintf(m + strlen(m), sizeof m - strlen(m), ", and "
			    "its zones are never all outside them at once");
		refuse(s, j, "quiet_hours", m);
		return 1;
	}
	when_format(open, at);
	json_object_set_new(msg, "status", json_string("deferred"));
	json_object_set_new(msg, "not_before", json_string(at));
	json_object_set_new(msg, "error", send_error("quiet_hours", 0, m));
	send_warn(s, "%s: %s; deferred to %s", j->where, m, at);
	done(j, msg, TEMPORARY);
	return 1;
}

/*
 * j's thread lock, if this preparer took it for a cap (rules_held())
 * outside a batch, given back: once the message is stored, or ended.
 */
static void
unhold(struct worker *w, struct job *j)
{
	if (!w->batch && j->locked) {
		inbox_unlock(j->lk);
		j->locked = 0;
		j->lk = -1;
	}
}

/*
 * The rules by jurisdiction and purpose (smsdesk-rules(5), hold.c): 0 if
 * j's message to num may go now; else 1, with j deferred (status
 * "deferred", not_before, held_by, error "held") or refused. A cap is
 * counted under num's lock, held until the message is stored (a batch
 * holds it already; alone, it is taken here and given back by
 * unhold()), so two runs never both send the last message a cap allows.
 */
static int
rules_held(struct worker *w, struct job *j, const char *num)
{
	struct send *s = w->s;
	char at[WHEN_BUFSZ];
	struct errbuf e;
	struct hold h;

	if (!j->locked && s->have_inbox && !s->dry_run &&
	    send_rules_capped(s, j->msg, num)) {
		if ((j->lk = inbox_lock(&s->ib, num, 0, &e)) < 0) {
			refuse(s, j, "transient", e.msg);
			return 1;
		}
		j->locked = 1;
	}
	if (send_rules_hold(s, j->msg, num, when_now(), 1, &h,
	    &e) < 0) {
		refuse(s, j, "transient", e.msg);
		return 1;
	}
	if (!h.held)
		return 0;
	json_object_set_new(j->msg, "held_by", json_string(h.by));
	if (h.held == 'r') {
		refuse(s, j, "held", h.why);
		return 1;
	}
	when_format(h.until, at);
	json_object_set_new(j->msg, "status", json_string("deferred"));
	json_object_set_new(j->msg, "not_before", json_string(at));
	json_object_set_new(j->msg, "error", send_error("held", 0, h.why));
	send_warn(s, "%s: %s; deferred to %s", j->where, h.why, at);
	done(j, j->msg, TEMPORARY);
	return 1;
}

/*
 * An answer (--thread, or a record with a "thread" and no "to") goes only
 * to a conversation the inbox holds: a mistyped number must not start one
 * with a stranger; only a "to" (or --to) starts one. 0 if num may be
 * texted; else j is refused, nothing stored, and 1. A dry run without an
 * inbox checks nothing, as it checks no opt-out.
 */
static int
no_conversation(struct send *s, struct job *j, const char *num)
{
	struct errbuf e;
	char m[320];
	json_t *conv;

	if (!s->have_inbox)
		return 0;
	if ((conv = inbox_conversation(&s->ib, num, &e))) {
		json_decref(conv);
		return 0;
	}
	if (errno != ENOENT) {
		refuse(s, j, "permanent", e.msg);
		return 1;
	}
	snprintf(m, sizeof m, "%s: no conversation to answer (--to, or a "
	    "record's \"to\", starts one)", num);
	refuse(s, j, "no_conversation", m);
	return 1;
}

/* WhatsApp's customer service window: free-form only this long after
 * the customer's last WhatsApp message (the provider refuses it otherwise). */
#define WHATSAPP_WINDOW INBOX_WHATSAPP_WINDOW
#define WHATSAPP_MAX_CHARS 4096	/* a WhatsApp text, in characters */

/*
 * What the customer num writes on (smsdesk-inbox(5), Conversation
 * records): into last the channel of their latest message ("" if they
 * never wrote), into *wa the time of their latest WhatsApp message (-1 if
 * none). The conversation record keeps both ("last_in_channel",
 * "whatsapp_in_at"); one written before it kept them (an older inbox)
 * has them read from the thread instead. 0, or -1 with e filled.
 */
static int
customer_channels(struct send *s, const char *num, char last[16],
    time_t *wa, struct errbuf *e)
{
	json_t *conv = inbox_conversation(&s->ib, num, e), *t, *m;
	const json_t *lc, *wt;
	const char *d, *c, *at;
	time_t t1, tl = -1;
	size_t i;

	*last = '\0';
	*wa = -1;
	if (!conv)
		return errno == ENOENT ? 0 : -1;
	lc = json_object_get(conv, "last_in_channel");
	wt = json_object_get(conv, "whatsapp_in_at");
	if (lc && wt) {
		if (json_is_string(lc))
			snprintf(last, 16, "%s", json_string_value(lc));
		if (json_is_string(wt) && when_parse(json_string_value(wt),
		    wa, NULL) < 0)
			*wa = -1;
		json_decref(conv);
		return 0;
	}
	json_decref(conv);
	if (!(t = inbox_thread(&s->ib, num, e)))
		return errno == ENOENT ? 0 : -1;
	json_array_foreach(t, i, m) {
		d = record_str(m, "direction");
		c = record_str(m, "channel");
		at = record_str(m, "at");
		if (!d || strcmp(d, "in") != 0 || !at ||
		    when_parse(at, &t1, NULL) < 0)
			continue;
		if (t1 >= tl) {
			tl = t1;
			snprintf(last, 16, "%s", c ? c : "sms");
		}
		if (c && strcmp(c, "whatsapp") == 0 && t1 > *wa)
			*wa = t1;
	}
	json_decref(t);
	return 0;
}

/*
 * The channel msg goes on (sms-record(5) "channel"): the record's, else
 * --channel, else the one the customer last wrote on, else SMS. On
 * WhatsApp: a provider that carries it, and a free-form text only within
 * 24 hours of the customer's last WhatsApp message (a template, by its
 * content SID, at any time): refused before any request otherwise. -1 if
 * the message ended here.
 */
static int
channel_of(struct send *s, struct job *j, const json_t *rec, const char *num)
{
	const char *c = record_str(rec, "channel");
	struct errbuf e;
	char m[256], last[16] = "";
	time_t at = -1;
	int known = 0;

	if (!c)
		c = s->channel;
	if (!c && s->have_inbox) {
		if (customer_channels(s, num, last, &at, &e) < 0) {
			refuse(s, j, "permanent", e.msg);
			return -1;
		}
		known = 1;
		/* A channel we cannot answer on yet (rcs): a text. */
		if (strcmp(last, "whatsapp") == 0)
			c = last;
	}
	if (!c || strcmp(c, "sms") == 0 || strcmp(c, "mms") == 0)
		return 0;
	if (strcmp(c, "whatsapp") != 0) {
		snprintf(m, sizeof m, "\"channel\" %s is not sms or whatsapp",
		    c);
		refuse(s, j, "invalid_value", m);
		return -1;
	}
	if (!s->acct.pv->whatsapp) {
		snprintf(m, sizeof m, "provider '%s' does not carry WhatsApp "
		    "here", s->acct.pv->name);
		refuse(s, j, "no_channel", m);
		return -1;
	}
	json_object_set_new(j->msg, "channel", json_string("whatsapp"));
	if (s->content_sid) {
		json_object_set_new(j->msg, "content_sid",
		    json_string(s->content_sid));
		if (s->content_vars)
			json_object_set_new(j->msg, "content_variables",
			    json_string(s->content_vars));
		return 0;
	}
	if (!s->have_inbox)
		return 0;
	if (!known && customer_channels(s, num, last, &at, &e) < 0) {
		refuse(s, j, "permanent", e.msg);
		return -1;
	}
	if (at < 0 || when_now() - at > WHATSAPP_WINDOW) {
		refuse(s, j, "whatsapp_window", at < 0 ? "the customer has "
		    "never written on WhatsApp: only a template goes "
		    "(--content-sid)" : "the customer's last WhatsApp message "
		    "is more than 24 hours old: only a template goes "
		    "(--content-sid)");
		return -1;
	}
	return 0;
}

/* Whether text has the word STOP in it, in any case: how to opt out. */
static int
says_stop(const char *text)
{
	const char *p;

	for (p = text; *p; p++)
		if (strncasecmp(p, "stop", 4) == 0 && (p == text ||
		    !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[4]))
			return 1;
	return 0;
}

/*
 * Whether nothing was ever exchanged with num: no message in its thread
 * came in or went out (inbox_went_out()). 1 yes, 0 no, -1 with e filled.
 */
static int
never_wrote(struct send *s, const char *num, struct errbuf *e)
{
	json_t *t = inbox_thread(&s->ib, num, e), *m;
	const char *dir;
	size_t i;
	int none = 1;

	if (!t)
		return errno == ENOENT ? 1 : -1;
	json_array_foreach(t, i, m) {
		dir = record_str(m, "direction");
		if (dir && (strcmp(dir, "in") == 0 || (strcmp(dir, "out") ==
		    0 && inbox_went_out(m)))) {
			none = 0;
			break;
		}
	}
	json_decref(t);
	return none;
}

/*
 * The carriers' rules (smsdesk(7)): the first message to a number that
 * never wrote in (no conversation, or one where nothing came in and
 * nothing of ours went out yet)
 * names the business and says how to opt out. A text that says STOP and
 * the business's name (if one is configured) does already; else, with
 * disclosure "add", *body becomes the text, a newline and the disclosure
 * (in *made, the caller's to free), and with "refuse" the message is
 * refused (no_disclosure). A reply answers someone who wrote in. -1 if
 * the message ended here.
 */
static int
disclose(struct send *s, struct job *j, const char *num,
    const char *purpose, const char **body, char **made)
{
	const char *name = s->disclosure_name;
	struct errbuf e;
	json_t *conv;
	size_t n;
	int first, auto_at;

	if (!s->disclosure || !s->have_inbox ||
	    strcmp(purpose, INBOX_REPLY) == 0)
		return 0;
	if (!(conv = inbox_conversation(&s->ib, num, &e)) && errno != ENOENT) {
		refuse(s, j, "permanent", e.msg);
		return -1;
	}
	first = !conv || (!record_str(conv, "last_in_at") &&
	    !record_str(conv, "last_out_at"));
	/*
	 * Our notifications set neither, but "last_auto_at" once one is
	 * stored to go: with none, nothing went out. With one, the thread
	 * says whether it did (it may have failed).
	 */
	auto_at = conv && record_str(conv, "last_auto_at");
	json_decref(conv);
	if (auto_at && first && (first = never_wrote(s, num, &e)) < 0) {
		refuse(s, j, "permanent", e.msg);
		return -1;
	}
	if (!first || (says_stop(*body) && (!*name || strstr(*body, name))))
		return 0;
	if (s->disclosure == 'r') {
		refuse(s, j, "no_disclosure", "the first message to a number "
		    "that never wrote in must name the business and say how "
		    "to opt out (Reply STOP to opt out.)");
		return -1;
	}
	n = strlen(*body) + 1 + strlen(s->disclosure_text) + 1;
	if (!(*made = malloc(n)))
		send_nomem();
	snprintf(*made, n, "%s%s%s", *body, **body ? "\n" : "",
	    s->disclosure_text);
	*body = *made;
	json_object_set_new(j->msg, "disclosure", json_true());
	return 0;
}

/*
 * The first field that a message is built from and that holds a NUL, or
 * NULL: record_str() reads such a field as absent, which would send a
 * message to "to" instead of "thread", or without its "key". A template's
 * fields are checked as fill() takes them.
 */
static const char *
first_nul(const json_t *rec, int templated)
{
	static const char *const used[] = {
		"thread", "to", "body", "key", "timezone", "subject",
	};

	for (size_t i = 0; i < sizeof used / sizeof *used; i++)
		if ((!templated || i != 2) &&
		    record_has_nul(json_object_get(rec, used[i])))
			return used[i];
	return NULL;
}

/*
 * A message's purpose (sms-record(5)): the record's "purpose", else the
 * run's (--purpose, or what the way it was given implies: sms-send.c).
 * 0, or -1 if the record's is not a purpose.
 */
static int
purpose_of(const struct send *s, const json_t *rec, const char **purpose)
{
	const json_t *v = json_object_get(rec, "purpose");

	*purpose = s->purpose;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !inbox_purpose_valid(json_string_value(v)))
		return -1;
	*purpose = json_string_value(v);
	return 0;
}

#define SUBJECT_MAX 200	/* bytes of a subject */

/*
 * The subject of j's message (sms-record(5)): rec's "subject", else the
 * run's (--subject), for a cap on one subject (smsdesk-rules(5)). 0, or
 * -1 with j refused if it is not a string of 1 to SUBJECT_MAX bytes
 * without a NUL. A record a --template fills is the data of the text:
 * only --subject gives it one.
 */
static int
subject_of(struct send *s, struct job *j, const json_t *rec)
{
	const json_t *v = s->tmpl ? NULL : json_object_get(rec, "subject");
	const char *sub;

	if (!v || json_is_null(v)) {
		if (s->subject)
			json_object_set_new(j->msg, "subject",
			    json_string(s->subject));
		return 0;
	}
	sub = json_string_value(v);
	if (!sub || !*sub || strlen(sub) > SUBJECT_MAX ||
	    record_has_nul(v)) {
		refuse(s, j, "invalid_value", "\"subject\" is not a string of "
		    "1 to 200 bytes");
		return -1;
	}
	json_object_set(j->msg, "subject", (json_t *)v);
	return 0;
}

/*
 * The survey rec carries, if any (csat-survey(1) send), into j's message:
 * storing it opens the survey on its conversation, and the inbox checks
 * what it holds (smsdesk-inbox(5), Surveys). A record a --template fills
 * is the data of the text, not the message: a conversation's open survey
 * ("survey" there too) is no survey of this one. 0, or -1 with j refused
 * if it is not an object.
 */
static int
survey_of(struct send *s, struct job *j, const json_t *rec)
{
	json_t *v = json_object_get(rec, "survey");

	if (!v || json_is_null(v) || s->tmpl)
		return 0;
	if (!json_is_object(v)) {
		refuse(s, j, "invalid_value", "\"survey\" is not an object");
		return -1;
	}
	json_object_set(j->msg, "survey", v);
	return 0;
}

/*
 * Why rec, read without a template, is no message to send, in m (n
 * bytes), or NULL if it is one: a request (a record without a "type") or
 * an outbound message, sent again (its key, if any, makes that once). A
 * message that came in holds the customer's words, and a conversation, an
 * event or a record of another type no text of ours at all.
 */
static const char *
not_sendable(const json_t *rec, char *m, size_t n)
{
	const json_t *type = json_object_get(rec, "type");
	const char *t = record_str(rec, "type");
	const char *dir = record_str(rec, "direction");

	if (!type)
		return NULL;
	if (t && strcmp(t, "message") == 0) {
		if (dir && strcmp(dir, "out") == 0)
			return NULL;
		return "a message that came in: its body is the customer's "
		    "text, not one to send; give --template";
	}
	if (t && strlen(t) < 64)
		snprintf(m, n, "a record of type \"%s\" is not a message to "
		    "send; give --template", t);
	else
		snprintf(m, n, "a record of that type is not a message to "
		    "send; give --template");
	return m;
}

/* Whether v is a URL the provider fetches itself, not a local path. */
static int
is_url(const char *v)
{
	return strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0;
}

/*
 * The media of rec (its "media": an array of strings, each a path or a
 * URL, or of items with a "url", as a message record holds them; else
 * --media's), checked against what the provider takes before any request
 * (its max_media items, its types and their sizes, media_total bytes of
 * our files in all; on WhatsApp, j's message's "channel" set by
 * channel_of(), its wa_ limits instead): into j's message as "media"
 * items, the local files' paths in *paths (null for a URL). 0 (*paths
 * NULL if there are none), or -1 with j refused.
 */
/* Whether msg goes on WhatsApp: its "channel" says so (none: SMS). */
static int
on_whatsapp(const json_t *msg)
{
	const char *c = record_str(msg, "channel");

	return c && strcmp(c, "whatsapp") == 0;
}

static int
media_of(struct send *s, struct job *j, const json_t *rec, json_t **paths)
{
	const struct provider *pv = s->acct.pv;
	const json_t *list = json_object_get(rec, "media"), *v;
	const struct provider_media_type *t, *types = pv->media_types;
	int wa = on_whatsapp(j->msg);
	int max_media = wa ? pv->wa_max_media : pv->max_media;
	long long total = 0, max_total = pv->media_total;
	/* Who takes it, in what is said: the provider, or its WhatsApp. */
	char who[64];
	struct media_out mo;
	struct errbuf e;
	json_t *items;
	char m[512];
	size_t i;

	*paths = NULL;
	if (!list || json_is_null(list) || s->tmpl)
		list = s->media;
	if (!list || (json_is_array(list) && json_array_size(list) == 0))
		return 0;
	if (!json_is_array(list)) {
		refuse(s, j, "invalid_value", "\"media\" is not an array");
		return -1;
	}
	snprintf(who, sizeof who, "%s%s", pv->name, wa ? "'s WhatsApp" : "");
	if (wa) {
		types = pv->wa_media_types;
		max_total = pv->wa_media_total;
	}
	if (json_array_size(list) > (size_t)max_media) {
		snprintf(m, sizeof m, "%zu media: %s takes at most %d a "
		    "message", json_array_size(list), who, max_media);
		refuse(s, j, "too_many_media", m);
		return -1;
	}
	if (!(items = json_array()) || !(*paths = json_array()))
		send_nomem();
	json_array_foreach(list, i, v) {
		/*
		 * An item of a message record: its "url", else the "path"
		 * of a local file not yet copied (a deferred message's).
		 */
		const json_t *sv = !json_is_object(v) ? v :
		    json_is_string(json_object_get(v, "url")) ?
		    json_object_get(v, "url") : json_object_get(v, "path");
		const char *src = json_string_value(sv);

		if (!src || !*src || record_has_nul(sv)) {
			snprintf(m, sizeof m, "media %zu: neither a path nor "
			    "a URL", i + 1);
			refuse(s, j, "invalid_value", m);
			goto fail;
		}
		if (is_url(src)) {
			json_array_append_new(items, json_pack("{s:s,s:n}",
			    "url", src, "content_type"));
			json_array_append_new(*paths, json_null());
			continue;
		}
		if (media_out_inspect(src, &mo, &e) < 0) {
			snprintf(m, sizeof m, "media %zu: %s", i + 1, e.msg);
			refuse(s, j, "media", m);
			goto fail;
		}
		for (t = types; t && t->type; t++)
			if (mo.type && strcmp(t->type, mo.type) == 0)
				break;
		if (!t || !t->type) {
			int k = snprintf(m, sizeof m, "media %zu: %.200s: %s "
			    "is not a type %s takes (", i + 1, src, mo.type ?
			    mo.type : "(an unknown type)", who);

			for (t = types; t && t->type &&
			    k > 0 && (size_t)k < sizeof m; t++)
				k += snprintf(m + k, sizeof m - (size_t)k,
				    "%s%s", t == types ? "" : ", ",
				    t->type);
			if (k > 0 && (size_t)k < sizeof m - 1)
				strcat(m, ")");
			refuse(s, j, "media_type", m);
			goto fail;
		}
		if (mo.size > t->max) {
			snprintf(m, sizeof m, "media %zu: %.300s: %lld bytes: "
			    "%s takes %s up to %lld", i + 1, src, mo.size,
			    who, t->type, t->max);
			refuse(s, j, "media_too_large", m);
			goto fail;
		}
		total += mo.size;
		json_array_append_new(items, json_pack("{s:n,s:s,s:I,s:s,s:s}",
		    "url", "content_type", mo.type, "size", (json_int_t)mo.size,
		    "type", mo.type, "path", src));
		json_array_append_new(*paths, json_string(src));
	}
	if (total > max_total) {
		snprintf(m, sizeof m, "media: %lld bytes in all: %s takes up "
		    "to %lld a message", total, who, max_total);
		refuse(s, j, "media_too_large", m);
		goto fail;
	}
	json_object_set_new(j->msg, "media", items);
	return 0;
fail:
	json_decref(items);
	json_decref(*paths);
	*paths = NULL;
	return -1;
}

/* Whether paths (media_of()) holds a local file. */
static int
has_local(const json_t *paths)
{
	const json_t *v;
	size_t i;

	json_array_foreach(paths, i, v)
		if (json_is_string(v))
			return 1;
	return 0;
}

/*
 * The local files of j's message (paths, media_of()) copied into the
 * inbox and linked in serve/ for s->media_ttl seconds (inbox_media_put()):
 * each item's "url" (public_url/media/NAME), "size", "sha256" and
 * "file"; the message named now, for its files' names. 0, or -1 with j
 * refused.
 */
static int
media_copy(struct send *s, struct job *j, const char *num,
    const json_t *paths)
{
	json_t *items = json_object_get(j->msg, "media"), *item;
	const json_t *v;
	char id[MEDIA_ID_MAX], m[512];
	size_t i, n = strlen(s->public_url);
	struct media_out mo;
	struct errbuf e;
	struct buf url;

	inbox_new_id(&s->ib, id);
	json_object_set_new(j->msg, "id", json_string(id));
	while (n && s->public_url[n - 1] == '/')
		n--;
	json_array_foreach(paths, i, v) {
		if (!json_is_string(v))
			continue;
		item = json_array_get(items, i);
		if (inbox_media_put(&s->ib, json_string_value(v), num, id,
		    (unsigned)i, send_latest(j->msg) + s->media_ttl, &mo,
		    &e) < 0) {
			snprintf(m, sizeof m, "media %zu: %s", i + 1, e.msg);
			refuse(s, j, errno == ENOENT || errno == EACCES ||
			    errno == EINVAL ? "media" : "transient", m);
			return -1;
		}
		/* What was copied is what is sent: checked again. */
		if (!mo.type ||
		    strcmp(mo.type, record_str(item, "type")) != 0 ||
		    mo.size != json_integer_value(json_object_get(item,
		    "size"))) {
			snprintf(m, sizeof m, "media %zu: %s changed while "
			    "it was sent", i + 1, json_string_value(v));
			refuse(s, j, "media", m);
			return -1;
		}
		memset(&url, 0, sizeof url);
		buf_add(&url, s->public_url, n);
		buf_adds(&url, "/media/");
		buf_adds(&url, mo.serve);
		buf_addc(&url, '\0');
		if (url.err)
			send_nomem();
		json_object_set_new(item, "url", json_string(url.p));
		json_object_set_new(item, "sha256", json_string(mo.sha256));
		json_object_set_new(item, "file", json_string(mo.file));
		json_object_del(item, "path");
		buf_free(&url);
	}
	return 0;
}

/*
 * Prepare j's record: check it, and store it as queued, for J_SEND; or
 * end it (J_DONE) if it goes no further. Takes j->rec.
 */
void
send_prepare(struct worker *w, struct job *j)
{
	struct send *s = w->s;
	json_t *rec = j->rec;
	const char *where = j->where;
	const char *number = NULL;
	int answer;
	const char *body = record_str(rec, "body");
	const char *key = record_str(rec, "key");
	const json_t *kv = json_object_get(rec, "key");
	char num[PHONE_MAX], knum[32];
	struct inbox_delivery d;
	struct gsm_opts opts = { 0 };
	struct gsm_result g;
	struct errbuf e;
	char *filled = NULL, *kfilled = NULL, *disclosed = NULL, why[128];
	int wa;
	struct who who = { .s = s };
	const char *nul, *unsendable, *purpose;
	struct errbuf te;
	json_t *msg, *paths = NULL;
	int rc, trc, later = 0;

	if (j->due) {
		send_prepare_due(w, j);
		return;
	}
	/*
	 * The thread, wherever the record keeps it (an event carries the
	 * record it concerns); else, in a request (no "type"), "to": an
	 * inbound message's "to" is ours.
	 */
	trc = record_thread(rec, &number, &te);
	/*
	 * A record that names a thread and no "to" answers that conversation
	 * (as --thread does); one with a "to" (a notification, a message
	 * record such as a deferred one sms-send printed) may start one.
	 */
	answer = trc > 0 && !record_str(rec, "to");
	if (trc == 0 && !json_object_get(rec, "type"))
		number = record_str(rec, "to");
	/* A value cut at a NUL would send another text, or to another. */
	nul = first_nul(rec, s->tmpl != NULL);
	if (json_is_integer(kv)) {
		snprintf(knum, sizeof knum, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(kv));
		key = knum;
	}
	j->rec = NULL;
	if (!(j->msg = msg = json_pack("{s:s,s:s}", "type", "message",
	    "direction", "out")))
		send_nomem();
	if (s->acct.from)
		json_object_set_new(msg, "from", json_string(s->acct.from));
	else if (s->acct.service)
		json_object_set_new(msg, "messaging_service_sid",
		    json_string(s->acct.service));
	if (nul) {
		char m[160];

		snprintf(m, sizeof m, "\"%s\" holds a NUL (\\u0000)", nul);
		refuse(s, j, "invalid_value", m);
		goto done;
	}
	if (trc < 0) {
		refuse(s, j, "invalid_recipient", te.msg);
		goto done;
	}
	if (!number) {
		refuse(s, j, "invalid_recipient", json_object_get(rec, "type") ?
		    "no thread in this record" : "no \"thread\" or \"to\"");
		goto done;
	}
	if (kv && !key) {
		refuse(s, j, "invalid_key", "\"key\" is neither a string nor "
		    "an integer");
		goto done;
	}
	if (key && (!*key || limit_text("key", strlen(key), LIMIT_KEY,
	    &e) < 0)) {
		refuse(s, j, "invalid_key", *key ? e.msg : "\"key\" is empty");
		goto done;
	}
	json_object_set_new(msg, "to", json_string(number));
	if (*number == '@') {
		char m[320];

		/* A short code or a name: it texts us; we never text it. */
		snprintf(m, sizeof m, "%s: not a phone number but a sender's "
		    "thread (a short code or a name): nothing is sent to it",
		    number);
		refuse(s, j, "invalid_recipient", m);
		goto done;
	}
	if (phone_normalize(number, s->country, num, &e) < 0) {
		char m[320];

		snprintf(m, sizeof m, "%s: %s", number, e.msg);
		refuse(s, j, "invalid_recipient", m);
		goto done;
	}
	/* The thread goes first, as in every message record. */
	json_object_del(msg, "to");
	json_object_del(msg, "direction");
	json_object_del(msg, "from");
	json_object_del(msg, "messaging_service_sid");
	json_object_set_new(msg, "thread", json_string(num));
	json_object_set_new(msg, "direction", json_string("out"));
	if (s->acct.from)
		json_object_set_new(msg, "from", json_string(s->acct.from));
	else if (s->acct.service)
		json_object_set_new(msg, "messaging_service_sid",
		    json_string(s->acct.service));
	json_object_set_new(msg, "to", json_string(num));
	who.num = num;
	/* A --key that is a template: a key from the record or contact. */
	if (!key && s->key && send_key_templated(s->key)) {
		if (!(key = kfilled = fill(s->key, rec, &who, "--key", &e))) {
			refuse(s, j, "invalid_key", e.msg);
			goto done;
		}
		if (!*key || limit_text("key", strlen(key), LIMIT_KEY,
		    &e) < 0) {
			refuse(s, j, "invalid_key", *key ? e.msg :
			    "--key: the key is empty");
			goto done;
		}
	}
	if (!s->tmpl && (unsendable = not_sendable(rec, why, sizeof why))) {
		refuse(s, j, "no_body", unsendable);
		goto done;
	}
	if (s->tmpl) {
		if (!(body = filled = fill(s->tmpl, rec, &who, "template",
		    &e))) {
			refuse(s, j, "template", e.msg);
			goto done;
		}
	}
	/* The channel first: WhatsApp's media are not MMS's (media_of()). */
	if (channel_of(s, j, rec, num) < 0)
		goto done;
	if (media_of(s, j, rec, &paths) < 0)
		goto done;
	if (paths && has_local(paths) && !s->public_url) {
		refuse(s, j, "no_public_url", "media: a local file is fetched "
		    "by the provider from our listener: set public_url "
		    "(smsdesk-config(5)); nothing sent");
		goto done;
	}
	if ((!body || !*body) && (paths || s->content_sid))
		body = "";	/* a picture alone, or a template */
	if (!body || (!*body && !paths && !s->content_sid)) {
		refuse(s, j, "no_body", "no \"body\"");
		goto done;
	}
	if (purpose_of(s, rec, &purpose) < 0) {
		char m[160];

		snprintf(m, sizeof m, "\"purpose\" is not reply, "
		    "notification or marketing");
		refuse(s, j, "invalid_value", m);
		goto done;
	}
	json_object_set_new(msg, "purpose", json_string(purpose));
	if (!on_whatsapp(msg) &&
	    disclose(s, j, num, purpose, &body, &disclosed) < 0)
		goto done;
	json_object_set_new(msg, "body", json_string(body));
	if (gsm_analyze(w->gsm, body, strlen(body), &opts, &g, &e) < 0) {
		refuse(s, j, "permanent", e.msg);
		goto done;
	}
	/* WhatsApp has no segments: one message of up to 4,096 characters. */
	wa = on_whatsapp(msg);
	if (wa)
		g.segments = 1;
	json_object_set_new(msg, "segments", json_integer((json_int_t)
	    g.segments));
	json_object_set_new(msg, "encoding",
	    json_string(gsm_encoding_name(g.encoding)));
	if (g.utf16_units > (size_t)(wa ? WHATSAPP_MAX_CHARS :
	    s->acct.pv->max_chars)) {
		char m[128];

		snprintf(m, sizeof m, "%zu characters: the %s takes %d",
		    g.utf16_units, wa ? "channel" : "provider", wa ?
		    WHATSAPP_MAX_CHARS : s->acct.pv->max_chars);
		refuse(s, j, "too_long", m);
		goto done;
	}
	if ((long)g.segments > s->max_segments)
		send_warn(s, "%s: %s: %zu segments (more than %ld)", where, num,
		    g.segments, s->max_segments);
	if (key)
		json_object_set_new(msg, "key", json_string(key));
	if (s->agent)
		json_object_set_new(msg, "agent", json_string(s->agent));
	if (subject_of(s, j, rec) < 0)
		goto done;
	if (survey_of(s, j, rec) < 0)
		goto done;
	/* To go later (--at, or a request's "at"): quiet hours then. */
	if ((later = send_schedule_of(s, j, rec)) < 0)
		goto done;

	if (w->batch && s->have_inbox && !s->dry_run && hold(w, j, num) < 0)
		goto done;
	if (answer && no_conversation(s, j, num))
		goto done;
	/* Checked last, as close to the send as can be: no text after STOP. */
	if (s->have_inbox && (rc = inbox_opted_out_on(&s->ib, num,
	    send_consent_channel(s, msg), &e)) != 0) {
		if (rc < 0)
			refuse(s, j, "permanent", e.msg);
		else
			refuse_stored(s, j, "opted_out", "the recipient "
			    "opted out");
		goto done;
	}
	/*
	 * Marketing goes only to whom said yes: an opt-in on record (a
	 * keyword, or one taken by hand with its evidence: inbox-mark
	 * --optin). Replies and notifications need none.
	 */
	if (s->have_inbox && strcmp(purpose, INBOX_MARKETING) == 0 &&
	    (rc = inbox_consent_on(&s->ib, num, send_consent_channel(s,
	    msg), &e)) != 'i') {
		if (rc < 0)
			refuse(s, j, "permanent", e.msg);
		else
			refuse_stored(s, j, "no_optin", "marketing needs the "
			    "recipient's opt-in on record (inbox-mark "
			    "--optin)");
		goto done;
	}
	/* A blocked sender (inbox-mark --block) is sent nothing either. */
	if (s->have_inbox && (rc = inbox_blocked(&s->ib, num, &e)) != 0) {
		if (rc < 0)
			refuse(s, j, "permanent", e.msg);
		else
			refuse_stored(s, j, "blocked", "the recipient is "
			    "blocked (inbox-mark --unblock)");
		goto done;
	}
	if (!later && record_str(rec, "timezone") && *record_str(rec,
	    "timezone"))
		json_object_set_new(msg, "timezone", json_string(record_str(rec,
		    "timezone")));
	if (!later && rules_held(w, j, num))
		goto done;
	if (s->quiet && !later && quiet_hours(s, j, num, record_str(rec,
	    "timezone")))
		goto done;
	if (s->dry_run && json_object_get(msg, "channel")) {
		send_dry_price_whatsapp(s, msg);
		json_object_set_new(msg, "status", json_string("dry_run"));
		json_object_set_new(msg, "dry_run", json_true());
		done(j, msg, OK);
		goto done;
	}
	if (s->dry_run && paths) {
		send_dry_price_mms(s, msg);
		json_object_set_new(msg, "status", json_string("dry_run"));
		json_object_set_new(msg, "dry_run", json_true());
		done(j, msg, OK);
		goto done;
	}
	if (s->dry_run) {
		send_dry_price(s, msg, num, g.segments);
		json_object_set_new(msg, "status", json_string("dry_run"));
		json_object_set_new(msg, "dry_run", json_true());
		done(j, msg, OK);
		goto done;
	}
	if (paths && has_local(paths) && media_copy(s, j, num, paths) < 0)
		goto done;
	json_object_set_new(msg, "status", json_string(later ? "scheduled" :
	    "queued"));
	j->claim = !later && answer && s->agent &&
	    strcmp(purpose, INBOX_REPLY) == 0;
	if (w->batch) {
		/* The rest once the batch's journal records are synced. */
		if ((rc = inbox_deliver_begin(&s->ib, msg, &d, &j->pending,
		    &e)) <= 0)
			stored(s, j, rc, errno, &d, &e);
	} else {
		rc = inbox_deliver(&s->ib, msg, 0, NULL, &d, &e);
		stored(s, j, rc, errno, &d, &e);
		unhold(w, j);
		send_prepare_claim(w, j);
	}
done:
	unhold(w, j);
	free(filled);
	free(kfilled);
	free(disclosed);
	json_decref(who.contact);
	json_decref(paths);
	json_decref(rec);
}
