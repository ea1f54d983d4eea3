/*
 * telnyx.c: sms-sim as Telnyx (--provider telnyx), its API v2 and its
 * webhooks, as providers.md section 2 gives them.
 *
 * The API: POST /v2/messages takes a JSON body ({"to", "from" or
 * "messaging_profile_id", "text", "media_urls", "webhook_url"}) behind
 * "Authorization: Bearer KEY", and answers 200 with {"data": <message>};
 * GET /v2/messages/ID answers the message. A message's id is a UUID, its
 * recipient's status in to[0].status in Telnyx's words (queued, sent,
 * delivered, sending_failed, delivery_failed). Errors are Telnyx's
 * {"errors": [{"code": "10011", "title", "detail", "source"}]}, the code
 * a string: 401 10009 without the key, 429 10011 over --rate, 500 10007
 * or 503 for --errors, 400 10004 for a missing parameter, 10016 for a
 * number not in +E.164, 40300 for an opted-out recipient.
 *
 * The webhooks are JSON events, {"data": {"record_type": "event", "id",
 * "event_type", "occurred_at", "payload": <message>}, "meta": {"attempt",
 * "delivered_to"}}, signed with Ed25519 over the telnyx-timestamp header,
 * "|" and the body (telnyx-signature-ed25519, base64): message.received
 * for a customer's text to the --webhook, message.sent and
 * message.finalized to a message's webhook_url. Telnyx sends nothing for
 * "queued", and there is no cancel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "phone.h"

#include "sms-sim/sim.h"

#define MESSAGES "/v2/messages"
#define PRICE_E4 40		/* USD a part, in 1e-4 */
#define MMS_PRICE "0.0150"	/* USD an MMS, one message */
#define URLS_MAX 10		/* media_urls a message */

/* Telnyx's title of an error code. */
static const char *
title(int code)
{
	switch (code) {
	case 10002: return "Invalid phone number";
	case 10004: return "Missing required parameter";
	case 10005: return "Resource not found";
	case 10007: return "Unexpected error";
	case 10009: return "Authentication failed";
	case 10011: return "Too many requests";
	case 10015: return "Bad Request";
	case 10016: return "Phone number must be in +E.164 format";
	case 40001: return "Not routable";
	case 40006: return "Recipient server unavailable";
	case 40008: return "Undeliverable";
	case 40300: return "Blocked due to STOP message";
	default: return "Message failed";
	}
}

/* {"code": "CODE", "title", "detail"[, "source": {"pointer"}]}, or
 * NULL on ENOMEM. */
static json_t *
error_obj(int code, const char *detail, const char *pointer)
{
	char n[16];
	json_t *o;

	snprintf(n, sizeof n, "%d", code);
	o = json_pack("{s:s, s:s, s:s}", "code", n, "title", title(code),
	    "detail", detail);
	if (o && pointer)
		json_object_set_new(o, "source", json_pack("{s:s}", "pointer",
		    pointer));
	return o;
}

/* Answer json (taken), with its text into the answer's body. */
static void
answer_json(struct answer *a, json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;

	a->body.len = 0;
	if (t)
		buf_adds(&a->body, t);
	else
		a->body.err = 1;
	free(t);
	json_decref(j);
}

/* Answer a Telnyx error; returns http. */
static int
error(struct answer *a, unsigned http, int code, const char *pointer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
error(struct answer *a, unsigned http, int code, const char *pointer,
    const char *fmt, ...)
{
	char detail[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	a->http = http;
	a->code = code;
	answer_json(a, json_pack("{s:[o]}", "errors", error_obj(code, detail,
	    pointer)));
	snprintf(a->what, sizeof a->what, "%d %.180s", code, detail);
	return (int)http;
}

/* ISO 8601 with milliseconds, as Telnyx writes times. */
static void
iso(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000+00:00", &tm);
}

/* Telnyx's word for a message's status (the sim keeps Twilio's). */
static const char *
status_word(const struct msg *m)
{
	if (strcmp(m->direction, "inbound") == 0)
		return "webhook_delivered";
	if (strcmp(m->status, "failed") == 0)
		return "sending_failed";
	if (strcmp(m->status, "undelivered") == 0)
		return "delivery_failed";
	return m->status;
}

/*
 * The media of m, as Telnyx lists them: {url, content_type, sha256,
 * size}. An inbound message's url is Telnyx's copy, at /cdn/, which
 * wants no credentials; an outbound one's the URL it was sent with.
 * s->lock held.
 */
static json_t *
media(const struct sim *s, const struct msg *m)
{
	json_t *list = json_array();
	char url[400], sum[65];

	for (size_t i = 0; list && i < s->nmedia; i++) {
		const struct media *p = s->media[i];

		if (strcmp(p->parent, m->sid) != 0)
			continue;
		if (p->src)
			snprintf(url, sizeof url, "%s", p->src);
		else
			sim_media_cdn_url(s, m, p, url, sizeof url);
		sim_media_sha256(p, sum);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:I}",
		    "url", url, "content_type", p->type, "sha256", sum[0] ?
		    sum : NULL, "size", (json_int_t)p->size));
	}
	return list ? list : json_array();
}

/* The message resource of m; s->lock held. NULL on ENOMEM. */
static json_t *
message(const struct sim *s, const struct msg *m)
{
	char id[37], t[32], amount[24];
	int in = strcmp(m->direction, "inbound") == 0;
	json_t *o, *errs = json_array();

	sim_uuid(m->sid, id);
	if (m->error_code && errs)
		json_array_append_new(errs, error_obj(m->error_code,
		    title(m->error_code), NULL));
	o = json_pack("{s:s, s:s, s:s, s:s, s:n, s:{s:s, s:s, s:s}, "
	    "s:[{s:s, s:s, s:s, s:s}], s:s%, s:[], s:i, s:s, s:[], s:o}",
	    "record_type", "message", "direction", in ? "inbound" : "outbound",
	    "id", id, "type", m->media ? "MMS" : "SMS",
	    "messaging_profile_id",
	    "from", "phone_number", m->from, "carrier", "Telnyx",
	    "line_type", "Wireless",
	    "to", "phone_number", m->to, "status", status_word(m),
	    "carrier", "Telnyx", "line_type", "Wireless",
	    "text", m->body, m->body_len, "media", "parts", (int)m->segments,
	    "encoding", "GSM-7", "tags", "errors", errs ? errs : json_array());
	if (!o)
		return NULL;
	if (m->media)
		json_object_set_new(o, "media", media(s, m));
	iso(m->created, t);
	json_object_set_new(o, "received_at", json_string(t));
	if (m->sent) {
		iso(m->sent, t);
		json_object_set_new(o, "sent_at", json_string(t));
	} else {
		json_object_set_new(o, "sent_at", json_null());
	}
	iso(m->updated, t);
	json_object_set_new(o, "completed_at", strcmp(m->status,
	    "delivered") == 0 || strcmp(m->status, "failed") == 0 ||
	    strcmp(m->status, "undelivered") == 0 ? json_string(t) :
	    json_null());
	snprintf(amount, sizeof amount, "%u.%04u", m->segments * PRICE_E4 /
	    10000, m->segments * PRICE_E4 % 10000);
	json_object_set_new(o, "cost", m->priced ? json_pack("{s:s, s:s}",
	    "amount", m->media ? MMS_PRICE : amount, "currency", "USD") :
	    json_null());
	json_object_set_new(o, "webhook_url", m->callback ?
	    json_string(m->callback) : json_null());
	(void)s;
	return o;
}

/* Whether auth is "Bearer " and the API key. */
static int
authorized(const struct sim *s, const char *auth)
{
	size_t n = strlen(s->token);

	return auth && strncmp(auth, "Bearer ", 7) == 0 &&
	    strlen(auth + 7) == n && sodium_memcmp(auth + 7, s->token, n) == 0;
}

/* Whether to is a number phone_normalize() writes as it is. */
static int
e164(const char *to)
{
	char out[PHONE_MAX];
	struct errbuf e;

	return to[0] == '+' && strspn(to + 1, "0123456789") ==
	    strlen(to + 1) && phone_normalize(to, NULL, out, &e) == 0 &&
	    strcmp(out, to) == 0;
}

/* The media_urls of a create (an array, or NULL), each an http(s) URL,
 * into urls; 0, or the error answered. */
static int
media_urls(const json_t *list, const char **urls, struct answer *a)
{
	const json_t *u;
	size_t i;

	json_array_foreach(list, i, u) {
		if (!json_is_string(u) || !sim_url_ok(json_string_value(u)))
			return error(a, 400, 10015, "/media_urls", "media_urls "
			    "item %zu is not an http or https URL.", i);
		urls[i] = json_string_value(u);
	}
	return 0;
}

static int
create(struct sim *s, const struct buf *raw, struct answer *a)
{
	json_t *req = json_loadb(raw->p ? raw->p : "", raw->len, 0, NULL);
	const char *to = json_string_value(json_object_get(req, "to"));
	const char *from = json_string_value(json_object_get(req, "from"));
	const char *prof = json_string_value(json_object_get(req,
	    "messaging_profile_id"));
	const char *cb = json_string_value(json_object_get(req,
	    "webhook_url"));
	const json_t *text = json_object_get(req, "text");
	const json_t *jurls = json_object_get(req, "media_urls");
	size_t media = json_array_size(jurls), npieces = 0;
	const char *urls[URLS_MAX];
	struct media *pieces[URLS_MAX];
	unsigned segments = 1;
	struct msg *m;
	int too_long = 0, code, rc, media_code = 0;

	if (!json_is_object(req)) {
		json_decref(req);
		return error(a, 400, 10015, NULL, "The request body is not "
		    "a JSON object.");
	}
	rc = 0;
	if (!to || !*to)
		rc = error(a, 400, 10004, "/to", "The 'to' parameter is "
		    "required.");
	else if (!e164(to))
		rc = error(a, 400, 10016, "/to", "The 'to' number %s is not "
		    "in +E.164 format.", to);
	else if ((!from || !*from) && (!prof || !*prof))
		rc = error(a, 400, 10004, "/from", "A 'from' number or a "
		    "'messaging_profile_id' is required.");
	else if (jurls && !json_is_array(jurls))
		rc = error(a, 400, 10015, "/media_urls", "media_urls must be "
		    "an array of URLs.");
	else if (media > URLS_MAX)
		rc = error(a, 400, 10015, "/media_urls", "At most %d "
		    "media_urls a message.", URLS_MAX);
	else if ((rc = media_urls(jurls, urls, a)))
		;
	else if (!json_is_string(text) && media == 0)
		rc = error(a, 400, 10004, "/text", "The 'text' parameter is "
		    "required for an SMS.");
	else if (json_is_string(text) && sim_analyze(sim_thread_gsm(s),
	    json_string_value(text), json_string_length(text), 0, &segments,
	    &too_long, NULL) < 0)
		rc = error(a, 400, 10015, "/text", "The text is not UTF-8.");
	else if (cb && !sim_url_ok(cb))
		rc = error(a, 400, 10015, "/webhook_url", "The webhook_url "
		    "%s is not a valid URL.", cb);
	else if (sim_opted_out(s, to, from && *from ? from : s->number))
		rc = error(a, 400, 40300, "/to", "The recipient %s has "
		    "opted out (STOP) of messages from this number.", to);
	else if ((code = sim_refused(s, to)))
		rc = error(a, 400, code, "/to", "The message to %s cannot be "
		    "sent: %s.", to, title(code));
	if (rc) {
		json_decref(req);
		return rc;
	}
	/* Telnyx fetches the media as it sends; one that fails, fails. */
	if (media)
		media_code = sim_media_fetch(s, urls, media, pieces, &npieces,
		    0, a);
	m = sim_msg_new(s, from && *from ? from : s->number, to,
	    json_is_string(text) ? json_string_value(text) : "",
	    json_is_string(text) ? json_string_length(text) : 0);
	if (m) {
		/* An MMS is one part, priced as one MMS. */
		m->segments = media ? 1 : segments;
		m->media = (unsigned)media;
		if (media_code) {
			m->fail_status = "failed";
			m->fail_code = media_code;
		}
	}
	if (!m || (cb && !(m->callback = strdup(cb)))) {
		sim_msg_free(m);
		m = NULL;
	}
	json_decref(req);
	if (!m || sim_enqueue(s, m, media > 0) < 0) {
		for (size_t i = 0; i < npieces; i++)
			sim_media_free(pieces[i]);
		return error(a, 503, 10007, NULL, "%s", strerror(ENOMEM));
	}
	pthread_mutex_lock(&s->lock);
	if (sim_media_attach_locked(s, m->sid, pieces, npieces, 1) < 0)
		diag_warn("%s: cannot keep its media: %s", m->sid,
		    strerror(ENOMEM));
	answer_json(a, json_pack("{s:o}", "data", message(s, m)));
	pthread_mutex_unlock(&s->lock);
	snprintf(a->sid, sizeof a->sid, "%s", m->sid);
	if (sim_roll(s, s->drop)) {
		a->http = 0;
		snprintf(a->what, sizeof a->what, "created %s, dropped",
		    m->sid);
		return 0;
	}
	a->http = 200;
	snprintf(a->what, sizeof a->what, "created %s to %s%s", m->sid, m->to,
	    media_code ? ", its media failed" : "");
	return 200;
}

static int
fetch(struct sim *s, const char *id, struct answer *a)
{
	char sid[35];
	long at = -1;

	pthread_mutex_lock(&s->lock);
	if (sim_uuid_sid(id, "SM", sid) == 0 &&
	    (at = sim_find_locked(s, sid)) < 0) {
		sid[0] = 'M';
		at = sim_find_locked(s, sid);
	}
	if (at < 0 || s->msgs[at]->deleted) {
		pthread_mutex_unlock(&s->lock);
		return error(a, 404, 10005, NULL, "The message %s was not "
		    "found.", id);
	}
	answer_json(a, json_pack("{s:o}", "data", message(s, s->msgs[at])));
	snprintf(a->sid, sizeof a->sid, "%s", sid);
	snprintf(a->what, sizeof a->what, "fetched %s %s", sid,
	    s->msgs[at]->status);
	pthread_mutex_unlock(&s->lock);
	a->http = 200;
	return 200;
}

static int
route(struct sim *s, const char *method, const char *path, const char *query,
    const char *auth, const struct form *f, const struct buf *raw,
    struct answer *a)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	(void)query;
	(void)f;
	if (strncmp(path, MESSAGES, strlen(MESSAGES)) != 0 ||
	    (path[strlen(MESSAGES)] && path[strlen(MESSAGES)] != '/'))
		return error(a, 404, 10005, NULL, "%s was not found.", path);
	if (!(a->auth = authorized(s, auth)))
		return error(a, 401, 10009, NULL, "The API key is missing "
		    "or not valid.");
	path += strlen(MESSAGES);
	if (!*path || strcmp(path, "/") == 0) {
		if (strcmp(method, "POST") != 0)
			return error(a, 405, 10015, NULL, "Method not "
			    "allowed.");
		if (!sim_rate_ok(s))
			return error(a, 429, 10011, NULL, "Too many requests: "
			    "slow down.");
		if (sim_roll(s, s->errors)) {
			a->retry_after = sim_roll(s, 50);
			return a->retry_after ? error(a, 503, 10007, NULL,
			    "Service unavailable.") : error(a, 500, 10007,
			    NULL, "Unexpected error.");
		}
		return create(s, raw, a);
	}
	if (!get)
		return error(a, 405, 10015, NULL, "Method not allowed.");
	if (sim_roll(s, s->read_errors)) {
		a->retry_after = sim_roll(s, 50);
		return error(a, a->retry_after ? 503 : 500, 10007, NULL,
		    "Unexpected error.");
	}
	return fetch(s, path + 1, a);
}

/*
 * Post the event of type about m to url, signed; attempt numbers it.
 * Returns the HTTP status, or -1 with err filled.
 */
static long
post_event(struct sim *s, CURL *h, const char *url, const struct msg *m,
    const char *type, int attempt, char err[CURL_ERROR_SIZE])
{
	unsigned char rnd[16], sig[crypto_sign_BYTES];
	char ev[37], hexid[35], t[32], ts[24], sighdr[160], tshdr[64];
	const char *const hdrs[] = { sighdr, tshdr, NULL };
	struct buf msgb = { 0 }, resp = { 0 };
	char *body;
	json_t *j, *pl;
	time_t now = sim_now(s);
	long http;

	/* The event's id: the same for every attempt, as Telnyx's is. */
	crypto_generichash(rnd, sizeof rnd, (const unsigned char *)m->sid,
	    strlen(m->sid), (const unsigned char *)type, strlen(type));
	hexid[0] = 'E', hexid[1] = 'V';
	sodium_bin2hex(hexid + 2, 33, rnd, sizeof rnd);
	sim_uuid(hexid, ev);
	iso(now, t);
	pthread_mutex_lock(&s->lock);
	pl = message(s, m);
	pthread_mutex_unlock(&s->lock);
	j = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}, s:{s:i, s:s}}",
	    "data", "record_type", "event", "id", ev, "event_type", type,
	    "occurred_at", t, "payload", pl,
	    "meta", "attempt", attempt, "delivered_to", url);
	if (!j || !(body = json_dumps(j, JSON_COMPACT))) {
		json_decref(j);
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	json_decref(j);
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	buf_adds(&msgb, ts);
	buf_addc(&msgb, '|');
	buf_adds(&msgb, body);
	if (msgb.err) {
		free(body);
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)msgb.p,
	    msgb.len, s->telnyx_sk);
	buf_free(&msgb);
	snprintf(sighdr, sizeof sighdr, "telnyx-signature-ed25519: ");
	sodium_bin2base64(sighdr + strlen(sighdr), sizeof sighdr -
	    strlen(sighdr), sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	snprintf(tshdr, sizeof tshdr, "telnyx-timestamp: %s", ts);
	http = sim_post_raw(h, url, "application/json", body, strlen(body),
	    hdrs, "telnyx-webhooks", &resp, err);
	free(body);
	buf_free(&resp);
	return http;
}

/* Post, and again (attempt 2) for --duplicate: at least once. */
static long
post_twice(struct sim *s, CURL *h, const char *url, const struct msg *m,
    const char *type, char err[CURL_ERROR_SIZE])
{
	long http = post_event(s, h, url, m, type, 1, err);
	char err2[CURL_ERROR_SIZE];

	if (s->duplicate > 0 && sim_roll(s, s->duplicate))
		post_event(s, h, url, m, type, 2, err2);
	return http;
}

static void
post_status(struct sim *s, CURL *h, const struct msg *m, const char *status,
    int code)
{
	char err[CURL_ERROR_SIZE];
	const char *type;
	long http;

	(void)code;
	if (strcmp(status, "sent") == 0)
		type = "message.sent";
	else if (strcmp(status, "delivered") == 0 ||
	    strcmp(status, "failed") == 0 ||
	    strcmp(status, "undelivered") == 0)
		type = "message.finalized";
	else
		return;		/* Telnyx says nothing of the others */
	http = post_twice(s, h, m->callback, m, type, err);
	if (http < 0)
		diag_warn("callback %s %s -> %s: %s", m->sid, type,
		    m->callback, err);
	else
		fprintf(stderr, "%s: callback %s %s -> %s: %ld\n",
		    diag_prog(), m->sid, type, m->callback, http);
}

static long
post_inbound(struct sim *s, CURL *h, const struct msg *m,
    const char *optout_type, char err[CURL_ERROR_SIZE])
{
	(void)optout_type;
	return post_twice(s, h, s->webhook, m, "message.received", err);
}

const struct sim_provider sim_telnyx = {
	.name = "telnyx",
	.route = route,
	.post_status = post_status,
	.post_inbound = post_inbound,
	.refuse_optout = 40300,
	.refuse_invalid = 10002,
	.fail_code = 40006,
	.code_min = 10000,
	.code_max = 99999,
};
