/*
 * reconcile.c: --reconcile, the messages in outbox/ settled with the
 * provider.
 *
 * A message the provider took (it has a provider id) is fetched by its
 * id; one that may or may not have reached it ("unknown", or "queued"
 * when a run was cut) is looked for in the list of messages to its
 * number. The rule, and the grace that keeps a young message from being
 * declared not sent, are in sms-send(1), Reconciling.
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
#include "record.h"
#include "when.h"
#include "send.h"

/* Twilio's "Thu, 24 Aug 2023 05:01:45 +0000", or -1. */
static time_t
rfc2822(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], iso[32];
	int d, y, h, m, sec;
	const char *at;
	time_t t;

	if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &h, &m,
	    &sec) != 6 || !(at = strstr(months, mon)) || (at - months) % 3)
		return -1;
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
	    (int)(at - months) / 3 + 1, d, h, m, sec);
	return when_parse(iso, &t, NULL) == 0 ? t : -1;
}

/*
 * Whether the inbox knows this provider id already (it is claimed); a
 * ledger that cannot be read claims it too, lest a message be taken for
 * another's.
 */
static int
known_sid(struct send *s, const char *sid)
{
	return inbox_known_id(&s->ib, "twilio", sid) != 0;
}

/*
 * Find msg at the provider: list the messages to its number, newest
 * first, page by page until they are older than msg (less a minute for
 * clocks), and take the oldest one with its body and sender, created
 * after msg was queued, that no other message of ours has claimed.
 * Returns 1 with *found (a new reference), 0 if there is none, or an
 * outcome-like -1 (temporary trouble), -2 (credentials rejected).
 */
static int
lookup(struct worker *w, const json_t *msg, json_t **found)
{
	struct send *s = w->s;
	const char *to = record_str(msg, "to");
	const char *body = record_str(msg, "body");
	const char *from = record_str(msg, "from");
	struct buf url = { 0 };
	struct http h = { 0 };
	struct errbuf e;
	json_t *page, *list, *m, *best = NULL;
	time_t at = -1, created, best_at = 0;
	const char *next;
	size_t i;
	int rc = 0, older;
	char *esc;

	*found = NULL;
	if (when_parse(record_str(msg, "at") ? record_str(msg, "at") : "",
	    &at, &e) < 0)
		at = 0;
	esc = curl_easy_escape(w->curl, to ? to : "", 0);
	http_messages_url(s, &url);
	buf_addlit(&url, ".json?PageSize=1000&To=");
	buf_adds(&url, esc ? esc : "");
	buf_addc(&url, '\0');
	curl_free(esc);
	if (url.err)
		send_nomem();
	for (;;) {
		http_request(w, url.p, NULL, &h);
		if (h.cc != CURLE_OK || h.status != 200) {
			send_warn(w->s, "%s: cannot list messages: %s", to,
			    h.cc != CURLE_OK ? (w->cerr[0] ? w->cerr :
			    curl_easy_strerror(h.cc)) : "HTTP error");
			rc = h.status == 401 ? -2 : -1;
			break;
		}
		if (!(page = json_loadb(h.resp.p ? h.resp.p : "", h.resp.len,
		    0, NULL))) {
			send_warn(w->s, "%s: the message list is not JSON", to);
			rc = -1;
			break;
		}
		list = json_object_get(page, "messages");
		older = 0;
		json_array_foreach(list, i, m) {
			const char *sid = record_str(m, "sid");

			created = rfc2822(record_str(m, "date_created"));
			if (created >= 0 && created < at - 60) {
				older = 1;
				continue;
			}
			if (!sid || !record_str(m, "body") ||
			    strcmp(record_str(m, "body"), body ? body : "") ||
			    (from && record_str(m, "from") &&
			    strcmp(record_str(m, "from"), from)) ||
			    known_sid(s, sid))
				continue;
			if (!best || created < best_at) {
				json_decref(best);
				best = json_incref(m);
				best_at = created;
			}
		}
		next = record_str(page, "next_page_uri");
		url.len = 0;
		if (!older && next) {
			buf_adds(&url, s->cr.base);
			buf_adds(&url, next);
			buf_addc(&url, '\0');
		}
		json_decref(page);
		if (!url.len)
			break;
	}
	if (rc == 0 && best) {
		*found = best;
		rc = 1;
	} else {
		json_decref(best);
	}
	buf_free(&url);
	buf_free(&h.resp);
	return rc;
}

/*
 * Fetch the provider's message sid. Returns 1 with *found (a new
 * reference), 0 if the provider has no such message (404, 20404), or -1
 * (temporary trouble, said on stderr), -2 (credentials rejected).
 */
static int
fetch(struct worker *w, const char *thread, const char *sid, json_t **found)
{
	struct send *s = w->s;
	struct buf url = { 0 };
	struct http h = { 0 };
	char *esc = curl_easy_escape(w->curl, sid, 0);
	int rc;

	*found = NULL;
	if (!esc)
		send_nomem();
	http_messages_url(s, &url);
	buf_addc(&url, '/');
	buf_adds(&url, esc);
	buf_addlit(&url, ".json");
	buf_addc(&url, '\0');
	curl_free(esc);
	if (url.err)
		send_nomem();
	http_request(w, url.p, NULL, &h);
	if (h.cc == CURLE_OK && h.status == 200) {
		*found = json_loadb(h.resp.p ? h.resp.p : "", h.resp.len, 0,
		    NULL);
		if (json_is_object(*found) && record_str(*found, "sid")) {
			rc = 1;
		} else {
			send_warn(w->s, "%s: %s: the answer is not a message",
			    thread, sid);
			json_decref(*found);
			*found = NULL;
			rc = -1;
		}
	} else if (h.cc == CURLE_OK && h.status == 404) {
		rc = 0;
	} else {
		send_warn(w->s, "%s: cannot fetch %s: %s", thread, sid,
		    h.cc != CURLE_OK ? (w->cerr[0] ? w->cerr :
		    curl_easy_strerror(h.cc)) : "HTTP error");
		rc = h.status == 401 ? -2 : -1;
	}
	buf_free(&url);
	buf_free(&h.resp);
	return rc;
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

		if (send_stopped(s) || !thread || !id)
			continue;
		young = when_parse(record_str(msg, "at") ?
		    record_str(msg, "at") : "", &at, NULL) < 0 ||
		    when_now() - at < s->grace;
		/* Taken and young: its delivery report may be on its way. */
		if (pid && young) {
			s->young++;
			continue;
		}
		rc = pid ? fetch(&w, thread, pid, &found) :
		    lookup(&w, msg, &found);
		out = NULL;
		if (rc == -2) {
			send_emit(s, msg, AUTH);
			continue;
		} else if (rc < 0) {
			send_emit(s, msg, TEMPORARY);
			continue;
		}
		if (rc == 1) {
			json_int_t code = json_integer_value(
			    json_object_get(found, "error_code"));
			const char *st = http_status_word(s, thread,
			    record_str(found, "status"));

			/* null clears the error of the unknown outcome */
			err = code ? send_error(http_taxonomy(0, code), code,
			    record_str(found, "error_message")) : json_null();
			rc = inbox_sent(&s->ib, thread, id, "twilio",
			    record_str(found, "sid"), st ? st : "queued", err,
			    &out, &e);
			json_decref(err);
			json_decref(found);
		} else if (pid) {
			/* It was taken: it is not "not sent", only gone. */
			send_warn(s, "%s: %s: the provider no longer has it",
			    thread, pid);
			err = send_error("not_found", 20404, "the provider no "
			    "longer has this message");
			rc = inbox_sent(&s->ib, thread, id, NULL, NULL,
			    record_str(msg, "status"), err, &out, &e);
			json_decref(err);
		} else if (!young) {
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
