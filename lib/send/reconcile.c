/*
 * reconcile.c: --reconcile, the messages in outbox/ settled with the
 * provider.
 *
 * A message the provider took (it has a provider id) is fetched by its
 * id; one that may or may not have reached it ("unknown", or "queued"
 * when a run was cut) is looked for in the list of messages to its
 * number (a provider that lists none leaves it as it is). The rule, and
 * the grace that keeps a young message from being declared not sent, are
 * in sms-send(1), Reconciling. A scheduled message whose claim by --due
 * never reached the provider is scheduled again rather than declared not
 * sent, until it expires.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "inbox.h"
#include "provider.h"
#include "record.h"
#include "when.h"
#include "send.h"

/*
 * Whether the inbox knows this provider id already (it is claimed); a
 * ledger that cannot be read claims it too, lest a message be taken for
 * another's.
 */
static int
known_id(struct send *s, const struct provider_account *a, const char *id)
{
	return inbox_known_id(&s->ib, a->pv->name, id) != 0;
}

/* Say why an exchange went wrong: libcurl's words, or e's. */
static const char *
trouble(struct worker *w, const struct http *h, const struct errbuf *e)
{
	if (h->cc != CURLE_OK)
		return w->cerr[0] ? w->cerr : curl_easy_strerror(h->cc);
	return e->msg;
}

/*
 * Find msg at the provider of a: list the messages to its number on its
 * channel, newest first, page by page until they are older than msg
 * (less a minute for clocks), and take the oldest one to its number with
 * its body and sender from (NULL: any), created after msg was queued,
 * that no other message of ours has claimed. A provider whose list shows
 * no texts (a message detail record without the message) cannot tell our
 * messages apart by body, nor can a template (its text is the
 * provider's): a listed message without one is taken only if it is the
 * only candidate and msg the only message of ours without an id to that
 * number (alone); else whether msg was sent cannot be told. Returns 1
 * with *found (a new reference, in the words of provider.h), 0 if there
 * is none, -3 if it cannot be told, or an outcome-like -1 (temporary
 * trouble), -2 (credentials rejected).
 */
static int
lookup(struct worker *w, const struct provider_account *a,
    const json_t *msg, const char *from, int alone, json_t **found)
{
	struct send *s = w->s;
	const struct provider *pv = a->pv;
	const char *to = record_str(msg, "to");
	const char *body = record_str(msg, "body");
	struct provider_http rq = { 0 };
	struct http h = { 0 };
	struct errbuf e;
	json_t *page, *m, *best = NULL;
	time_t at = -1, created, best_at = 0;
	size_t i;
	int rc = 0, older, blind = 0;
	/* A template (a content SID) has no body of ours to match. */
	int templ = record_str(msg, "content_sid") != NULL;

	*found = NULL;
	if (when_parse(record_str(msg, "at") ? record_str(msg, "at") : "",
	    &at, &e) < 0)
		at = 0;
	if (pv->list_request(a, to ? to : "", record_str(msg, "channel"),
	    &rq) < 0 ||
	    !(page = json_array()))
		send_nomem();
	for (;;) {
		http_request(w, &rq, &h);
		json_array_clear(page);
		if (h.cc != CURLE_OK || pv->read_messages(a, h.status,
		    h.resp.p, h.resp.len, page, &rq, &e) < 0) {
			send_warn(s, "%s: cannot list messages: %s", to,
			    trouble(w, &h, &e));
			rc = h.cc == CURLE_OK && errno == EACCES ? -2 : -1;
			break;
		}
		older = 0;
		json_array_foreach(page, i, m) {
			const char *id = record_str(m, "id");

			created = (time_t)json_integer_value(json_object_get(m,
			    "created"));
			if (created >= 0 && created < at - 60) {
				older = 1;
				continue;
			}
			if (!id || (to && record_str(m, "to") &&
			    strcmp(record_str(m, "to"), to)) ||
			    (from && record_str(m, "from") &&
			    strcmp(record_str(m, "from"), from)) ||
			    known_id(s, a, id))
				continue;
			if (!record_str(m, "body") || templ) {
				/* No text shown, or a template's, as the
				 * provider wrote it: one of ours, which? */
				blind++;
			} else if (strcmp(record_str(m, "body"), body ? body :
			    "") != 0) {
				continue;
			}
			if (!best || created < best_at) {
				json_decref(best);
				best = json_incref(m);
				best_at = created;
			}
		}
		if (older || !rq.url.len)
			break;
	}
	json_decref(page);
	if (rc == 0 && blind && (blind > 1 || !alone)) {
		json_decref(best);
		best = NULL;
		rc = -3;
	}
	if (rc == 0 && best) {
		*found = best;
		rc = 1;
	} else {
		json_decref(best);
	}
	provider_http_free(&rq);
	buf_free(&h.resp);
	return rc;
}

/*
 * Fetch the provider's message id. Returns 1 with *found (a new
 * reference, in the words of provider.h), 0 if the provider has no such
 * message (*found is then the error it gave, or NULL), or -1 (temporary
 * trouble, said on stderr), -2 (credentials rejected).
 */
static int
fetch(struct worker *w, const struct provider_account *a, const char *thread,
    const char *id, json_t **found)
{
	struct send *s = w->s;
	const struct provider *pv = a->pv;
	struct provider_http rq = { 0 };
	struct http h = { 0 };
	struct errbuf e;
	json_t *got;
	int rc;

	*found = NULL;
	if (pv->fetch_request(a, id, &rq) < 0 || !(got = json_array()))
		send_nomem();
	http_request(w, &rq, &h);
	if (h.cc != CURLE_OK || (rc = pv->read_messages(a, h.status,
	    h.resp.p, h.resp.len, got, NULL, &e)) < 0) {
		send_warn(s, "%s: cannot fetch %s: %s", thread, id,
		    trouble(w, &h, &e));
		rc = h.cc == CURLE_OK && errno == EACCES ? -2 : -1;
	} else {
		*found = json_incref(json_array_get(got, 0));
	}
	json_decref(got);
	provider_http_free(&rq);
	buf_free(&h.resp);
	return rc;
}

/* Whether msg is the only message of box without a provider id to its
 * number. */
static int
alone(const json_t *box, const json_t *msg)
{
	const char *to = record_str(msg, "to");
	const json_t *m;
	size_t i;

	json_array_foreach(box, i, m)
		if (m != msg && !record_str(m, "provider_id") && to &&
		    record_str(m, "to") && strcmp(record_str(m, "to"), to) == 0)
			return 0;
	return 1;
}

/*
 * The account msg is to be looked up with: that of the provider it names
 * (it went there), else the first's; NULL if it names one that is not of
 * the list.
 */
static const struct provider_account *
account_of(struct send *s, const json_t *msg)
{
	const char *name = record_str(msg, "provider");

	for (size_t k = 0; name && k <= s->nalt; k++)
		if (strcmp(send_account(s, (int)k)->pv->name, name) == 0)
			return send_account(s, (int)k);
	return name ? NULL : &s->acct;
}

/* Settle what outbox/ holds: the rule is in sms-send(1), RECONCILING. */
void
reconcile_outbox(struct send *s)
{
	struct worker w;
	struct errbuf e;
	json_t *box, *msg, *found, *out, *err;
	time_t at;
	size_t i;
	int rc, young;

	s->reconciling = 1;
	if (!(box = inbox_outbox(&s->ib, &e))) {
		if (errno == ENOENT)
			return;
		send_fatal(e.msg);
	}
	worker_init(&w, s, 1, W_CURL);
	json_array_foreach(box, i, msg) {
		const char *thread = record_str(msg, "thread");
		const char *id = record_str(msg, "id");
		const char *pid = record_str(msg, "provider_id");
		const struct provider_account *a;

		if (send_stopped(s) || !thread || !id)
			continue;
		/* The provider it went to (a failover's), of the list. */
		if (!(a = account_of(s, msg))) {
			send_warn(s, "%s: %s: sent through '%s', not a "
			    "provider of this configuration", thread, id,
			    record_str(msg, "provider"));
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		young = when_parse(record_str(msg, "at") ?
		    record_str(msg, "at") : "", &at, NULL) < 0 ||
		    when_now() - at < s->grace;
		/* Taken and young: its delivery report may be on its way. */
		if (pid && young) {
			s->young++;
			continue;
		}
		if (pid ? !a->pv->fetch_request : !a->pv->list_request) {
			/* Nothing to look it up in: it stays as it is. */
			send_warn(s, "%s: %s: provider '%s' %s: whether it "
			    "was sent cannot be told", thread, id,
			    a->pv->name, pid ? "looks no message up" :
			    "lists no messages");
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		rc = pid ? fetch(&w, a, thread, pid, &found) :
		    lookup(&w, a, msg, record_str(msg, "from"), alone(box, msg),
		    &found);
		/*
		 * Not found where it was queued for: with a list, it may
		 * have gone through another (a failover whose record a
		 * crash lost), from that one's own sender.
		 */
		for (size_t k = 0; !pid && rc == 0 && k <= s->nalt; k++) {
			const struct provider_account *o = send_account(s,
			    (int)k);

			if (o != a && o->pv->list_request &&
			    (rc = lookup(&w, o, msg, o->from, alone(box, msg),
			    &found)) == 1)
				a = o;
		}
		out = NULL;
		if (rc == -3) {
			send_warn(s, "%s: %s: provider '%s' lists its messages "
			    "without their text, and more than one could be "
			    "this one: whether it was sent cannot be told",
			    thread, id, a->pv->name);
			send_emit(s, msg, TEMPORARY);
			continue;
		} else if (rc == -2) {
			send_emit(s, msg, AUTH);
			continue;
		} else if (rc < 0) {
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		if (rc == 1) {
			const char *st = http_status_word(s, thread,
			    record_str(found, "status"));

			/* null clears the error of the unknown outcome */
			err = json_object_get(found, "error");
			rc = inbox_sent(&s->ib, thread, id, a->pv->name,
			    record_str(found, "id"), st ? st : "queued",
			    err ? err : json_null(), &out, &e);
			json_decref(found);
		} else if (pid) {
			/* It was taken: it is not "not sent", only gone. */
			send_warn(s, "%s: %s: the provider no longer has it",
			    thread, pid);
			err = send_error("not_found", json_integer_value(
			    json_object_get(found, "provider_code")), "the "
			    "provider no longer has this message");
			json_decref(found);
			rc = inbox_sent(&s->ib, thread, id, NULL, NULL,
			    record_str(msg, "status"), err, &out, &e);
			json_decref(err);
		} else if (!young && record_str(msg, "send_at") &&
		    send_latest(msg) > when_now() &&
		    (rc = inbox_schedule_again(&s->ib, thread, id, &out,
		    &e)) != 2) {
			/*
			 * A scheduled message whose claim never reached the
			 * provider (a --due run cut short): scheduled again,
			 * for the next --due, while it has not expired.
			 */
			if (rc == 0)
				send_warn(s, "%s: %s: not sent; scheduled "
				    "again", thread, id);
		} else if (!young) {
			json_decref(out);
			out = NULL;
			err = send_error("not_sent", 0, "the provider has no "
			    "such message");
			rc = inbox_sent(&s->ib, thread, id, NULL, NULL,
			    "failed", err, &out, &e);
			json_decref(err);
		} else {
			/* Too young to tell: it may be on its way. */
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		if (rc < 0) {
			send_warn(s, "%s: %s", thread, e.msg);
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		json_object_del(out, "status_at");
		send_emit(s, out, send_classify(out));
		json_decref(out);
	}
	worker_free(&w);
	json_decref(box);
}
