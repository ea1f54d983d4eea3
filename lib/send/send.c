/*
 * send.c: a queued message sent, then settled and written out.
 *
 * send_job() makes the request, through multi.c (the one engine, with
 * one request in flight). Only answers that prove the request was not
 * processed (429, 503 with Retry-After, a connection that never took the
 * body) are retried, with exponential backoff and full jitter; anything
 * that may have been sent (a timeout or a cut connection after the body
 * left, another 5xx) is "unknown", left to --reconcile, and never sent
 * again by itself. The checks just before each request (quiet hours, the
 * consent ledger) are here. send_finish() settles the message in the
 * inbox by the answer and writes it out.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "phonezone.h"
#include "provider.h"
#include "record.h"
#include "when.h"
#include "send.h"
#include "send/multi.h"

/*
 * The provider says the number opted out (its error of class opted_out,
 * code pcode): record that in the consent ledger, so the next send is
 * refused before any request.
 */
static void
note_optout(struct send *s, const char *number, const char *our,
    const char *id, json_int_t pcode)
{
	char at[WHEN_BUFSZ];
	struct errbuf e;
	json_t *c;

	when_format(when_now(), at);
	c = json_pack("{s:s,s:s,s:s,s:n,s:s,s:s?,s:s?,s:s,s:i}", "type",
	    "consent", "number", number, "state", "out", "keyword", "at", at,
	    "our_number", our, "message", id, "source", "provider",
	    "provider_code", (int)pcode);
	if (!c)
		send_nomem();
	if (inbox_consent(&s->ib, c, &e) < 0)
		send_warn(s, "cannot record the opt-out: %s", e.msg);
	json_decref(c);
}

/*
 * Whether quiet hours (with them on), or the hours of the rules by place
 * and purpose (smsdesk-rules(5), hold.c), have begun at msg's recipient
 * since the check in send_prepare(): a message can wait for a --rate
 * slot or a provider's Retry-After, and the promise of quiet hours
 * (smsdesk(7), GUARANTEES) is about when a send starts. why gets the
 * reason. A number whose zones cannot be told is quiet (the safe side;
 * send_prepare() refused those already). The rules' caps were counted
 * when it was stored, and are not asked again.
 */
int
quiet_now(struct send *s, const json_t *msg, char *why, size_t n)
{
	const char *zones = record_str(msg, "timezone"), *zone = "?";
	const char *to = record_str(msg, "thread");
	struct errbuf e;
	struct hold h;
	time_t open;

	/* An automatic reply answers a text the customer just sent. */
	if (record_str(msg, "auto"))
		return 0;
	if (to && send_rules_hold(s, msg, to, when_now(), 0, &h, &e) == 0 &&
	    h.held) {
		snprintf(why, n, "%s, which began while it waited to be "
		    "sent; nothing was sent", h.why);
		return 1;
	}
	if (!s->quiet)
		return 0;
	if (!zones || !*zones)
		zones = phonezone_lookup(record_str(msg, "to"), NULL);
	if (zones && hours_quiet(s->tzdb, zones, &s->qwin, when_now(), &zone,
	    &open, &e) == 0)
		return 0;
	snprintf(why, n, "quiet hours (%s) began at the recipient (%s) while "
	    "it waited to be sent; nothing was sent", s->quiet_spec, zone);
	return 1;
}

/*
 * The error that ends msg unsent if its recipient has opted out (or was
 * blocked) since send_prepare() checked, or NULL (smsdesk(7),
 * GUARANTEES: no text after STOP): a message can wait for a --rate
 * slot, a provider's Retry-After or the messages ahead of it, and a STOP
 * can come in meanwhile. A ledger that cannot be read sends nothing.
 */
int
send_keyword_answer(const json_t *msg)
{
	const char *why = record_str(msg, "auto");

	return why && (strcmp(why, "help") == 0 || strcmp(why, "stop") == 0);
}

const char *
send_consent_channel(const struct send *s, const json_t *msg)
{
	const char *c = record_str(msg, "channel");

	if (!s->consent_by_channel)
		return NULL;
	return c ? c : "sms";
}

json_t *
opted_out_now(struct send *s, const json_t *msg)
{
	const char *to = record_str(msg, "thread");
	struct errbuf e;
	int rc;

	if (!s->have_inbox)
		return NULL;
	if ((rc = send_keyword_answer(msg) ? 0 : inbox_opted_out_on(&s->ib,
	    to, send_consent_channel(s, msg), &e)) > 0)
		return send_error("opted_out", 0, "the recipient opted out "
		    "while it waited to be sent; nothing was sent");
	/* Or was blocked meanwhile (inbox-mark --block). */
	if (rc == 0 && (rc = inbox_blocked(&s->ib, to, &e)) > 0)
		return send_error("blocked", 0, "the recipient was blocked "
		    "while it waited to be sent; nothing was sent");
	return rc < 0 ? send_error("permanent", 0, e.msg) : NULL;
}

/* Whether the provider has rejected the credentials: send no more. */
int
send_stopped(struct send *s)
{
	return atomic_load(&s->stop);
}

/*
 * Send j's message (queued in the inbox already), waiting for the end of
 * its attempts: j gets the answer, to settle it by (multi.c, with one
 * request in flight). After rejected credentials nothing is sent; the
 * message ends as failed, not_sent, rather than left queued.
 */
void
send_job(struct worker *w, struct job *j)
{
	multi_send(w, j);
}

/*
 * Settle j's message in the inbox by the answer send_job() got. Returns
 * the message as stored after, or NULL (reported) if the inbox failed.
 */
static json_t *
settle(struct send *s, struct job *j)
{
	const char *thread = record_str(j->msg, "thread");
	const char *id = record_str(j->msg, "id");
	const json_t *err = j->err;
	const struct provider_account *a = send_account(s, j->via);
	struct errbuf e;
	json_t *out = NULL, *oerr, *set = NULL;
	int rc;

	if (err && j->optout)
		note_optout(s, thread, a->from, id, json_integer_value(
		    json_object_get(err, "provider_code")));
	/*
	 * Through another provider than the first (a failover): its
	 * sender, and the providers that failed; the provider even without
	 * an id, for --reconcile to ask.
	 */
	if (j->via || j->failover) {
		/* Its sender replaces the first's (a null field goes). */
		if (!(set = json_pack("{s:o,s:o,s:O?}", "from", a->from ?
		    json_string(a->from) : json_null(),
		    "messaging_service_sid", !a->from && a->service ?
		    json_string(a->service) : json_null(),
		    "failover", j->failover)))
			send_nomem();
	}
	rc = inbox_sent_set(&s->ib, thread, id, j->pid || set ? a->pv->name :
	    NULL, j->pid, http_status_word(s, thread, j->status), j->err, set,
	    &out, &e);
	json_decref(set);
	if (rc < 0 || (j->pid && j->pids && inbox_sent_parts(&s->ib, thread,
	    id, a->pv->name, j->pids, &out, &e) < 0))
		send_warn(s, "%s: %s", thread, e.msg);
	else if (j->waited)
		json_object_set_new(out, "waited", json_true());
	else if (err)
		send_warn(s, "%s: %s: %s", thread, record_str(err, "code"),
		    record_str(err, "message") ? record_str(err, "message") :
		    j->status);
	/* A receipt that came before the answer, parked and applied here,
	 * may say that the recipient of a message the provider took opted
	 * out: sms-recv could not record it. */
	if (out && j->pid && !err && (oerr = json_object_get(out,
	    "error")) && record_str(oerr, "code") && strcmp(record_str(oerr,
	    "code"), "opted_out") == 0)
		note_optout(s, thread, a->from, id, json_integer_value(
		    json_object_get(oerr, "provider_code")));
	return out;
}

/* Write j out, settled first if it was sent, and free what it holds. */
void
send_finish(struct send *s, struct job *j)
{
	json_t *out;

	if (j->state == J_DONE) {
		send_emit(s, j->msg, j->oc);
	} else if (j->state == J_SENT && (out = settle(s, j))) {
		json_object_del(out, "status_at");
		send_emit(s, out, send_classify(out));
		json_decref(out);
	} else if (j->state == J_SENT) {
		send_emit(s, j->msg, TEMPORARY);
	}
	json_decref(j->rec);
	json_decref(j->msg);
	json_decref(j->err);
	free(j->pid);
	json_decref(j->pids);
	json_decref(j->failover);
	free(j->status);
	memset(j, 0, sizeof *j);
}

/* One message: check, queue, send, settle, report. Takes rec. */
void
send_one(struct worker *w, json_t *rec, const char *where)
{
	struct job j = { .rec = rec, .lk = -1 };

	snprintf(j.where, sizeof j.where, "%s", where);
	send_prepare(w, &j);
	if (j.state == J_SEND)
		send_job(w, &j);
	send_finish(w->s, &j);
}
