/*
 * store.c: storing what came in, and what sms-recv answers.
 *
 * An inbound message is stored with inbox_deliver(), its keyword (STOP,
 * START, HELP, ...) classified and recorded with it, and a status report
 * with inbox_status(); each stored item is announced (events.c). A
 * message may get an automatic answer: the help text, our opt-out or
 * opt-in confirmation, the away reply out of business hours, or the
 * acknowledgement of a first message, recorded in the conversation before
 * it goes back in the webhook's answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "contact.h"
#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "keyword.h"
#include "limit.h"
#include "provider.h"
#include "record.h"
#include "thread.h"
#include "tz.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

#define AUTO_REPLY_TTL 3600	/* an automatic reply scheduled for
				 * sms-send --due goes within the hour, or
				 * not at all */
#define AGENT_QUIET 300		/* no away reply this soon after an agent's */

/*
 * Whether a message that came in now gets the away reply: the business
 * is closed, and no agent has written in the conversation in the last
 * five minutes (they are at work after all). Once a day is the key's
 * job: key gets "away-THREAD-DATE", DATE the business's local date.
 */
static int
away(struct recv *r, const struct inbox_delivery *d, char *key,
    size_t n)
{
	const char *last = record_str(d->conversation, "last_out_at");
	const struct recv_conf *c = conf_now(r);
	time_t now = when_now(), t;
	struct tz_local l;

	if (!c->away_text || !*c->away_text)
		return 0;
	tz_local(c->zone, now, &l);
	if (hours_open(&c->hours, &l))
		return 0;
	if (last && when_parse(last, &t, NULL) == 0 && now - t < AGENT_QUIET)
		return 0;
	snprintf(key, n, "away-%s-%04lld-%02d-%02d",
	    record_str(d->message, "thread"), l.year, l.mon, l.mday);
	return 1;
}

/*
 * The automatic answer to a stored message, if any: the help text to
 * HELP and INFO; out of business hours the away text, once a day per
 * conversation (see away()); else the acknowledgement to the first
 * message of a new conversation, neither to a number that opted out.
 * An opt-out or opt-in that changed where the number stands gets our
 * confirmation only if one is configured: by default the provider
 * confirms, and a second would break the rule of exactly one (smsdesk(7),
 * GUARANTEES: one opt-out confirmation). A blocked sender (inbox-mark
 * --block) gets no answer at all, nor does a survey's answer (it has
 * "csat": inbox.h, Surveys). The answer goes back in the webhook's
 * answer (the provider's reply()); it is recorded in the conversation
 * first (purpose notification, no reply of a person; "auto" says which
 * answer it is), under a key made from the provider's message id (the
 * away reply: from the thread and the date), so a webhook delivered twice
 * is answered once. Returns the text (malloc'd) or NULL.
 */
static char *
auto_reply(struct recv *r, enum keyword kw, const struct inbox_delivery *d,
    const struct webhook_event *ev, int in_answer)
{
	const char *text = NULL, *why = NULL, *channel;
	const struct recv_conf *c = conf_now(r);
	struct inbox_delivery out;
	struct errbuf e;
	char key[LIMIT_KEY + 1];
	json_t *msg;

	/* A blocked sender is never answered (its STOP is recorded all
	 * the same, by inbox_deliver()). */
	if (!ev->id || inbox_is_blocked(d->conversation))
		return NULL;
	/*
	 * Nor is a survey's answer, or its comment: the conversation stays
	 * resolved, and nobody needs to be told we are away.
	 */
	if (json_is_object(json_object_get(d->message, "csat")))
		return NULL;
	snprintf(key, sizeof key, "auto-%s", ev->id);
	if (kw == KEYWORD_HELP)
		text = c->help_text, why = "help";
	else if (kw == KEYWORD_OPTOUT && d->consent_changed)
		text = c->stop_text, why = "stop";
	else if (kw == KEYWORD_OPTIN && d->consent_changed)
		text = c->start_text, why = "start";
	else if (kw == KEYWORD_NONE && away(r, d, key, sizeof key))
		text = c->away_text, why = "away";
	else if (kw == KEYWORD_NONE && c->ack_text &&
	    json_integer_value(json_object_get(d->conversation,
	    "messages")) == 1)
		text = c->ack_text, why = "ack";
	if (!text || !*text)
		return NULL;
	/*
	 * Only HELP and the opt-out's own confirmation are answered whoever
	 * asks (smsdesk(7), GUARANTEES: keywords answered, one opt-out
	 * confirmation); the other replies never go to a number that opted
	 * out (no text after STOP), even when the opt-out came some other
	 * way than a keyword here.
	 */
	channel = record_str(d->message, "channel");
	if (kw != KEYWORD_HELP && kw != KEYWORD_OPTOUT &&
	    inbox_opted_out_on(&r->ib, record_str(d->message, "thread"),
	    c->consent_by_channel ? channel ? channel : "sms" : NULL, &e) != 0)
		return NULL;
	msg = json_pack("{s:s,s:O,s:s,s:O?,s:O,s:s,s:s,s:s,s:s,s:s}",
	    "type", "message", "thread", json_object_get(d->message,
	    "thread"), "direction", "out", "from", json_object_get(d->message,
	    "to"), "to", json_object_get(d->message, "thread"), "body", text,
	    "status", "accepted", "purpose", INBOX_NOTIFICATION, "auto", why,
	    "key", key);
	/* It goes back the way the customer wrote. */
	if (msg && channel && json_object_set(msg, "channel",
	    json_object_get(d->message, "channel")) < 0) {
		json_decref(msg);
		msg = NULL;
	}
	/*
	 * A provider that takes no reply in its answer (replies 0): scheduled
	 * for now, for sms-send --due to send through its API within the
	 * hour, or not at all (smsdesk(7), GUARANTEES: keywords answered).
	 */
	if (msg && !in_answer) {
		char now[WHEN_BUFSZ], until[WHEN_BUFSZ];
		time_t t = when_now();

		when_format(t, now);
		when_format(t + AUTO_REPLY_TTL, until);
		if (json_object_set_new(msg, "status",
		    json_string("scheduled")) < 0 ||
		    json_object_set_new(msg, "send_at", json_string(now)) < 0 ||
		    json_object_set_new(msg, "expires_at",
		    json_string(until)) < 0) {
			json_decref(msg);
			msg = NULL;
		}
	}
	if (!msg || inbox_deliver(&r->ib, msg, 0, NULL, &out, &e) < 0) {
		/* The customer's message is stored; only the answer is lost. */
		diag_warn("auto-reply to %s: %s", ev->id, msg ? e.msg :
		    strerror(ENOMEM));
		json_decref(msg);
		return NULL;
	}
	json_decref(msg);
	if (out.duplicate) {
		inbox_delivery_free(&out);
		return NULL;
	}
	emit(r, in_answer ? "message.sent" : "message.scheduled", "message",
	    out.message);
	inbox_delivery_free(&out);
	return in_answer ? strdup(text) : NULL;
}

/*
 * The message's "media" (sms-record(5)): every item the provider gave, in
 * its order, not yet fetched. Returns 0, or -1 if a string is not UTF-8.
 */
static int
media_items(json_t *msg, const struct webhook_event *ev)
{
	json_t *arr = json_array(), *item;

	for (int i = 0; i < ev->num_media; i++) {
		item = json_pack("{s:s,s:s?}", "url", ev->media[i].url,
		    "content_type", ev->media[i].content_type);
		if (!item || json_array_append_new(arr, item) < 0) {
			json_decref(arr);
			return -1;
		}
	}
	return json_object_set_new(msg, "media", arr);
}

/*
 * The name a channel shows for the customer (WhatsApp's profile name)
 * fills the contact's name where none is known (contacts/), never over
 * one. It is kept before the message is stored, so that a message
 * acknowledged has its name (smsdesk(7), GUARANTEES: acknowledged means
 * stored): a stop between the two leaves the name, and the provider's
 * retry brings the message; a retry of a message stored before fills a
 * name that is still missing. A name that is no fit one (not UTF-8,
 * too long) is said and left out; one that cannot be written for
 * another reason fails the message (-1, e filled), which the provider
 * retries.
 */
static int
profile_name(struct recv *r, const char *number, const char *name,
    struct errbuf *e)
{
	struct errbuf ce;
	json_t *f;
	int rc = 0;

	if (!*name)
		return 0;
	if (!(f = json_pack("{s:s}", "name", name))) {
		diag_warn("%s: profile name: not UTF-8 text: not kept", number);
		return 0;
	}
	if (contact_default(&r->ib, number, f, NULL, &ce) < 0) {
		if (errno == EINVAL)
			diag_warn("%s: profile name: %s: not kept", number,
			    ce.msg);
		else {
			int saved = errno;

			rc = errf(e, "%s: profile name: %s", number, ce.msg);
			errno = saved;
		}
	}
	json_decref(f);
	return rc;
}

/*
 * Store an inbound message. Returns 0 (stored or a known duplicate), -1
 * if it could not be stored (e filled; errno EINVAL for bad input).
 */
static int
store_message_ids(struct recv *r, const struct webhook_event *ev,
    const char *provider, const char *at, json_t *ids, char **reply,
    struct inbox_delivery *keep, struct errbuf *e)
{
	char thread[THREAD_MAX];
	struct inbox_delivery d;
	struct errbuf pe;
	const char *word = NULL;
	const struct provider *pv;
	enum keyword kw = KEYWORD_NONE;
	json_t *msg;
	int rc, number;

	/* A sender that is no number (a short code, a name) has a thread of
	 * its own kind, and its own words in "from". */
	if (thread_of_sender(ev->from, thread, &number, &pe) < 0)
		return errno = EINVAL, errf(e, "From: %s", pe.msg);
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s%,s:s,s:s,s:s?,s:s?}",
	    "type", "message", "thread", thread, "direction", "in",
	    "from", number ? thread : ev->from, "to", ev->to, "body",
	    ev->body, ev->body_len, "status", "received", "provider", provider,
	    "provider_id", ev->id, "at", at);
	if (!msg)
		return errno = EINVAL, errf(e, "message is not UTF-8 text");
	if (ev->num_segments > 0)
		json_object_set_new(msg, "segments",
		    json_integer(ev->num_segments));
	if (ev->channel)
		json_object_set_new(msg, "channel", json_string(ev->channel));
	if (ids)
		json_object_set(msg, "provider_ids", ids);
	if (ev->num_media > 0 && media_items(msg, ev) < 0) {
		json_decref(msg);
		return errno = EINVAL, errf(e, "a media URL or type is not "
		    "UTF-8 text");
	}
	/* Nothing is ever sent to a sender: no consent, no answer. */
	if (number)
		kw = keyword_classify(ev->body, ev->body_len, &word);
	if (number && kw == KEYWORD_NONE && ev->optout_type) {
		/* The provider's own keywords (its own opt-out handling). */
		kw = keyword_classify(ev->optout_type,
		    strlen(ev->optout_type), &word);
	}
	if (kw != KEYWORD_NONE)
		json_object_set_new(msg, "keyword", json_string(word));
	if (number && ev->profile_name && profile_name(r, thread,
	    ev->profile_name, e) < 0) {
		json_decref(msg);
		return -1;
	}
	rc = inbox_deliver(&r->ib, msg, kw == KEYWORD_OPTOUT ? 'o' :
	    kw == KEYWORD_OPTIN ? 'i' : 0, word, &d, e);
	json_decref(msg);
	if (rc < 0)
		return -1;
	if (!d.duplicate) {
		emit(r, "message.received", "message", d.message);
		if (d.consent)
			emit(r, d.consent == 'o' ? "consent.optout" :
			    "consent.optin", "message", d.message);
		/*
		 * In the answer if the provider carries one there, else
		 * scheduled for sms-send --due.
		 */
		if (reply && number && (pv = provider_find(provider)))
			*reply = auto_reply(r, kw, &d, ev, pv->replies);
		/* Fetched by the fetcher thread: never holds up the answer. */
		media_queue(r, d.message);
	}
	if (keep)
		*keep = d;
	else
		inbox_delivery_free(&d);
	return 0;
}

static int store_part(struct recv *, const struct webhook_event *,
    const char *, const char *, char **, struct errbuf *);

/* A part of a long message is kept until the whole has come. */
int
store_message(struct recv *r, const struct webhook_event *ev,
    const char *provider, const char *at, char **reply, struct errbuf *e)
{
	if (ev->concat_ref && ev->concat_total > 1)
		return store_part(r, ev, provider, at, reply, e);
	return store_message_ids(r, ev, provider, at, NULL, reply, NULL, e);
}

/*
 * Store the whole message that the parts of set make (whole: their
 * records, in part order), as the provider's: its text theirs in order,
 * its provider id the first part's, every part's in provider_ids; then
 * drop the parts. Returns as store_message() does.
 */
static int
store_whole(struct recv *r, const char *set, json_t *whole,
    const char *provider, char **reply, struct errbuf *e)
{
	struct webhook_event ev = { .kind = WEBHOOK_MESSAGE };
	struct inbox_delivery d = { 0 };
	json_t *first = json_array_get(whole, 0), *p, *ids = json_array();
	struct buf body = { 0 };
	struct errbuf de;
	size_t i;
	int rc;

	json_array_foreach(whole, i, p) {
		const char *t = record_str(p, "body");

		buf_adds(&body, t ? t : "");
		json_array_append_new(ids, json_string(record_str(p,
		    "provider_id")));
	}
	buf_addc(&body, '\0');
	if (body.err || !ids) {
		buf_free(&body);
		json_decref(ids);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	ev.id = record_str(first, "provider_id");
	ev.from = record_str(first, "from");
	ev.to = record_str(first, "to");
	ev.body = body.p;
	ev.body_len = body.len - 1;
	ev.status = "received";
	ev.num_segments = (int)json_array_size(whole);
	rc = store_message_ids(r, &ev, provider, record_str(first, "at"), ids,
	    reply, &d, e);
	/* Every part's id names it: a part that comes again is known. */
	json_array_foreach(ids, i, p)
		if (rc == 0 && i > 0 && record_str(d.message, "thread") &&
		    record_str(d.message, "id") && inbox_alias(&r->ib,
		    record_str(d.message, "thread"), record_str(d.message,
		    "id"), provider, json_string_value(p), e) < 0)
			rc = -1;
	inbox_delivery_free(&d);
	/* Durable now (or a duplicate, stored before): the parts go. */
	if (rc == 0 && inbox_part_drop(&r->ib, set, (int)json_array_size(
	    whole), &de) < 0)
		diag_warn("%s", de.msg);
	buf_free(&body);
	json_decref(ids);
	return rc;
}

/*
 * Store a part of a long message (ev->concat_ref): durably, in parts/;
 * when it is the last to come, the whole (store_whole()). Returns as
 * store_message() does: 0 once the part is kept.
 */
static int
store_part(struct recv *r, const struct webhook_event *ev,
    const char *provider, const char *at, char **reply, struct errbuf *e)
{
	char set[128];
	json_t *rec, *whole;
	int rc;

	if (inbox_part_set(provider, ev->from, ev->concat_ref, set) < 0)
		return errno = EINVAL, errf(e, "concat-ref: too long");
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s%,s:s,s:i,s:i,s:s}",
	    "type", "part", "set", set, "provider", provider,
	    "from", ev->from,
	    "to", ev->to, "body", ev->body, ev->body_len,
	    "provider_id", ev->id, "part", ev->concat_part,
	    "total", ev->concat_total, "at", at);
	if (!rec)
		return errno = EINVAL, errf(e, "part is not UTF-8 text");
	/* A part of a whole stored already, again: nothing to keep. */
	if ((rc = inbox_known_id(&r->ib, provider, ev->id)) != 0) {
		json_decref(rec);
		return rc < 0 ? errf(e, "%s: %s", r->ib.dir,
		    strerror(errno)) : 0;
	}
	rc = inbox_part_put(&r->ib, set, rec, &whole, e);
	json_decref(rec);
	if (rc <= 0)
		return rc;
	rc = store_whole(r, set, whole, provider, reply, e);
	json_decref(whole);
	return rc;
}

/*
 * The long messages whose parts all came before a stop (a crash before
 * the whole was stored, or before its parts were dropped): stored now,
 * once (a whole stored before is a duplicate). Said on stderr.
 */
void
store_parts_left(struct recv *r)
{
	struct errbuf e;
	json_t *sets, *whole;
	size_t i;

	if (!(sets = inbox_parts_complete(&r->ib, &e))) {
		diag_warn("%s", e.msg);
		return;
	}
	json_array_foreach(sets, i, whole) {
		json_t *first = json_array_get(whole, 0);
		const char *set = record_str(first, "set");
		const char *pv = record_str(first, "provider");

		if (set && pv && store_whole(r, set, whole, pv, NULL, &e) < 0)
			diag_warn("%s", e.msg);
	}
	json_decref(sets);
}

/*
 * A delivery report that says the recipient of msg opted out (its error
 * of class opted_out): into the consent ledger, so that nothing more is
 * sent to the number. Said on stderr if it cannot be.
 */
static void
note_optout(struct recv *r, const json_t *msg, const char *provider)
{
	const json_t *err = json_object_get(msg, "error");
	const char *to = record_str(msg, "to");
	char at[WHEN_BUFSZ];
	struct errbuf e;
	json_t *c;

	if (!err || !record_str(err, "code") || strcmp(record_str(err,
	    "code"), "opted_out") != 0 || !to ||
	    strcmp(record_str(msg, "direction") ? record_str(msg,
	    "direction") : "", "out") != 0)
		return;
	when_format(when_now(), at);
	c = json_pack("{s:s,s:s,s:s,s:n,s:s,s:s?,s:s?,s:s,s:s,s:O?}", "type",
	    "consent", "number", to, "state", "out", "keyword", "at", at,
	    "our_number", record_str(msg, "from"), "message", record_str(msg,
	    "id"), "source", "provider", "provider", provider,
	    "provider_code", json_object_get(err, "provider_code"));
	if (!c || inbox_consent(&r->ib, c, &e) < 0)
		diag_warn("%s: cannot record the opt-out: %s", to, c ? e.msg :
		    strerror(ENOMEM));
	json_decref(c);
}

/*
 * Store a status report, from the provider called provider, for a
 * message we sent. Returns 0 (stored, or one that moves nothing), -1 if
 * it could not be stored (e filled).
 */
int
store_status(struct recv *r, const struct webhook_event *ev,
    const char *provider, struct errbuf *e)
{
	json_t *msg;
	int rc;

	rc = inbox_status(&r->ib, provider, ev->id, ev->status,
	    ev->error_code, &msg, e);
	if (rc == 1) {
		emit(r, "message.status", "message", msg);
		note_optout(r, msg, provider);
		json_decref(msg);
	}
	return rc < 0 ? -1 : 0;
}

/*
 * Store a webhook's event, at the time it came, as provider pv's; *reply
 * gets the automatic answer to a message, if any (none for a provider
 * that takes no reply in its answer). Returns as store_message() does,
 * and 1 for a message stored before (the provider's retry: its log line
 * says so).
 */
int
store_event(struct recv *r, const struct provider *pv,
    const struct webhook_event *ev, char **reply, struct errbuf *e)
{
	char at[WHEN_BUFSZ];
	struct inbox_delivery d;
	int dup;

	when_format(when_now(), at);
	if (ev->kind == WEBHOOK_STATUS)
		return store_status(r, ev, pv->name, e);
	if (ev->concat_ref && ev->concat_total > 1)
		return store_message(r, ev, pv->name, at, reply, e);
	if (store_message_ids(r, ev, pv->name, at, NULL, reply, &d, e) < 0)
		return -1;
	dup = d.duplicate;
	inbox_delivery_free(&d);
	return dup;
}

/*
 * The last checkpoint. If it fails, what was stored stays durable in the
 * journal, which the next sms-recv replays: said, not an error.
 */
void
stop_journal(struct recv *r)
{
	struct errbuf e;

	if (r->ib.journal && inbox_journal_stop(&r->ib, &e) < 0)
		diag_warn("%s; the journal is kept for the next run", e.msg);
}
