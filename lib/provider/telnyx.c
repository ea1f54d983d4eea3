/*
 * telnyx.c: Telnyx (API v2), both directions: its webhooks (Ed25519
 * signatures, the JSON events) and its REST API (the account, sending and
 * fetching messages), as providers.md section 2 gives them.
 *
 * The webhooks.
 *
 * Telnyx signs a webhook with Ed25519: telnyx-signature-ed25519 holds the
 * base64 of a 64-byte signature over the telnyx-timestamp header (Unix
 * seconds, digits only), a '|', then the raw body bytes, by the key whose
 * public half the account's portal shows (base64 of 32 bytes). Its own
 * libraries refuse a timestamp more than 300 s from now; so do we, which
 * is what keeps a captured webhook from being replayed later. libsodium
 * checks the signature.
 *
 * Every webhook is a JSON object, {"data": {"event_type", "id",
 * "payload": <message>}, "meta"}: message.received is an inbound
 * message, message.sent and message.finalized are status updates of one
 * we sent (its status is the first recipient's, in to[0].status, and its
 * error the first of payload.errors). Other events (message.read, for
 * RCS) are refused as not handled. Telnyx takes no reply in the answer:
 * it is an empty 200, and a reply would be a message of its own.
 *
 * The REST API: POST /v2/messages with a JSON body and the API key as a
 * bearer token; GET /v2/messages/ID. Telnyx's API v2 lists no messages
 * (its message detail records are a reporting API, not a list of
 * messages): there is no list_request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "provider.h"
#include "record.h"
#include "when.h"

#define WINDOW 300		/* seconds a timestamp may be from now */
#define API_URL "https://api.telnyx.com"
#define WEBHOOK_PATH "/telnyx"

/* --- Signatures -------------------------------------------------------- */

/*
 * Decode the base64 (padded, standard alphabet) in s into out, which must
 * come to exactly n bytes. Returns 0, or -1.
 */
static int
base64_exact(const char *s, unsigned char *out, size_t n)
{
	unsigned char tmp[128];
	size_t len = strlen(s), got = 0;
	const char *end;

	if (len == 0 || len > 4 * sizeof tmp / 3 || n > sizeof tmp)
		return -1;
	if (sodium_base642bin(tmp, sizeof tmp, s, len, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL) < 0 || *end || got != n)
		return -1;
	memcpy(out, tmp, n);
	sodium_memzero(tmp, sizeof tmp);
	return 0;
}

static int
telnyx_secret_ok(const char *key, struct errbuf *e)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return errf(e, "cannot initialise libsodium");
	}
	if (key == NULL || base64_exact(key, pk, sizeof pk) < 0) {
		errno = EINVAL;
		return errf(e, "the Telnyx public key is not the base64 of a "
		    "32-byte Ed25519 key");
	}
	return 0;
}

static int
telnyx_verify(const char *key, const struct webhook_request *rq,
    struct errbuf *e)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	const char *sig64 = rq->sig[0], *ts = rq->sig[1];
	time_t now = rq->now ? rq->now : time(NULL);
	long long t = 0, off;
	size_t tslen;
	unsigned char *msg;
	int r;

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return errf(e, "cannot initialise libsodium");
	}
	if (key == NULL || *key == '\0') {
		errno = EINVAL;
		return errf(e, "no Telnyx public key to check signatures with");
	}
	if (telnyx_secret_ok(key, e) < 0)
		return -1;
	base64_exact(key, pk, sizeof pk);
	if (sig64 == NULL) {
		errno = EINVAL;
		return errf(e, "missing telnyx-signature-ed25519 header");
	}
	if (ts == NULL) {
		errno = EINVAL;
		return errf(e, "missing telnyx-timestamp header");
	}
	tslen = strlen(ts);
	if (tslen == 0 || tslen > 12 || strspn(ts, "0123456789") != tslen) {
		errno = EINVAL;
		return errf(e, "telnyx-timestamp: '%.32s' is not Unix seconds "
		    "(digits only)", ts);
	}
	for (const char *p = ts; *p; p++)
		t = t * 10 + (*p - '0');
	if (base64_exact(sig64, sig, sizeof sig) < 0) {
		errno = EINVAL;
		return errf(e, "telnyx-signature-ed25519 is not the base64 of "
		    "a 64-byte signature");
	}
	off = t - (long long)now;
	if (off > WINDOW || off < -WINDOW) {
		errno = EACCES;
		return errf(e, "telnyx-timestamp %s is %lld s %s now: outside "
		    "the %d s window", ts, off < 0 ? -off : off,
		    off < 0 ? "before" : "after", WINDOW);
	}
	if (!(msg = malloc(tslen + 1 + rq->body_len + 1))) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	memcpy(msg, ts, tslen);
	msg[tslen] = '|';
	if (rq->body_len)
		memcpy(msg + tslen + 1, rq->body, rq->body_len);
	r = crypto_sign_verify_detached(sig, msg, tslen + 1 + rq->body_len,
	    pk);
	free(msg);
	if (r != 0) {
		errno = EACCES;
		return errf(e, "telnyx-signature-ed25519 does not match");
	}
	return 0;
}

/* --- Events ------------------------------------------------------------ */

/*
 * Telnyx's per-recipient status in sms-record(5)'s words (its table of
 * provider statuses): queued, sending, sent, delivered and read are the
 * same; sending_failed (Telnyx could not hand it to the carrier) is
 * failed; delivery_failed and expired (the carrier could not deliver it,
 * or gave up) are undelivered; delivery_unconfirmed (final, but the
 * carrier sent no receipt) stays sent, as a Twilio message whose carrier
 * never reports does. Another word is passed as it came.
 */
static const char *
status_word(const char *st)
{
	static const struct {
		const char *telnyx, *ours;
	} map[] = {
		{ "sending_failed", "failed" },
		{ "delivery_failed", "undelivered" },
		{ "expired", "undelivered" },
		{ "delivery_unconfirmed", "sent" },
	};

	for (size_t i = 0; st && i < sizeof map / sizeof *map; i++)
		if (strcmp(st, map[i].telnyx) == 0)
			return map[i].ours;
	return st;
}

/*
 * The string at key of object o: *out NULL if it is absent or null; an
 * error if it must be there and is not a string that is not empty.
 * where names o in messages ("payload").
 */
static int
str_field(const json_t *o, const char *key, const char *where, int required,
    const char **out, struct errbuf *e)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		errno = EINVAL;
		return errf(e, "missing %s.%s", where, key);
	}
	if (!json_is_string(v) || (required && json_string_length(v) == 0)) {
		errno = EINVAL;
		return errf(e, "%s.%s is not a string%s", where, key,
		    required ? " that is not empty" : "");
	}
	*out = json_string_value(v);
	return 0;
}

/* The phone_number of an address object ({"phone_number", ...}). */
static int
number(const json_t *addr, const char *where, int required, const char **out,
    struct errbuf *e)
{
	*out = NULL;
	if (addr == NULL || json_is_null(addr)) {
		if (!required)
			return 0;
		errno = EINVAL;
		return errf(e, "missing %s", where);
	}
	if (!json_is_object(addr)) {
		errno = EINVAL;
		return errf(e, "%s is not an object", where);
	}
	return str_field(addr, "phone_number", where, required, out, e);
}

/*
 * The code of the first error in errors (a member of the event's parse
 * tree), as Telnyx writes it: a string. A number is taken too, and
 * written into the tree as a string, which the event owns.
 */
static int
error_code(json_t *errors, const char **out, struct errbuf *e)
{
	json_t *first = json_array_get(errors, 0), *code;
	char tmp[32];

	*out = NULL;
	if (errors && !json_is_null(errors) && !json_is_array(errors)) {
		errno = EINVAL;
		return errf(e, "payload.errors is not an array");
	}
	code = json_object_get(first, "code");
	if (json_is_integer(code)) {
		snprintf(tmp, sizeof tmp, "%lld",
		    (long long)json_integer_value(code));
		if (json_object_set_new(first, "code", json_string(tmp)) < 0) {
			errno = ENOMEM;
			return errf(e, "%s", strerror(ENOMEM));
		}
		code = json_object_get(first, "code");
	}
	if (json_is_string(code) && json_string_length(code) > 0)
		*out = json_string_value(code);
	return 0;
}

/* The media of an inbound message: each item's url and content_type. */
static int
media(const json_t *list, struct webhook_event *ev, struct errbuf *e)
{
	const json_t *it;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		errno = EINVAL;
		return errf(e, "payload.media is not an array");
	}
	if (json_array_size(list) > PROVIDER_MEDIA_MAX) {
		errno = EINVAL;
		return errf(e, "payload.media: %zu items, more than %d",
		    json_array_size(list), PROVIDER_MEDIA_MAX);
	}
	json_array_foreach(list, i, it) {
		char where[48];

		snprintf(where, sizeof where, "payload.media[%zu]", i);
		if (!json_is_object(it)) {
			errno = EINVAL;
			return errf(e, "%s is not an object", where);
		}
		if (str_field(it, "url", where, 1, &ev->media[i].url, e) < 0 ||
		    str_field(it, "content_type", where, 0,
		    &ev->media[i].content_type, e) < 0)
			return -1;
	}
	ev->num_media = (int)json_array_size(list);
	return 0;
}

static int
telnyx_parse(const struct webhook_request *rq, struct webhook_event *ev,
    struct errbuf *e)
{
	const json_t *data, *pl, *to0, *text, *parts;
	const char *type;
	json_error_t je;

	memset(ev, 0, sizeof *ev);
	ev->body = "";
	/* jansson refuses \u0000 in a string: no field holds a NUL. */
	if (!(ev->json = json_loadb(rq->body ? rq->body : "", rq->body_len,
	    JSON_REJECT_DUPLICATES, &je))) {
		errno = EINVAL;
		return errf(e, "not JSON: Telnyx webhooks are JSON (%s, at "
		    "byte %d)", je.text, je.position);
	}
	data = json_object_get(ev->json, "data");
	if (!json_is_object(data)) {
		errno = EINVAL;
		return errf(e, "no \"data\" object: not a Telnyx event");
	}
	if (str_field(data, "event_type", "data", 1, &type, e) < 0)
		return -1;
	pl = json_object_get(data, "payload");
	if (!json_is_object(pl)) {
		errno = EINVAL;
		return errf(e, "%s: no \"payload\" object", type);
	}
	if (str_field(pl, "id", "payload", 1, &ev->id, e) < 0)
		return -1;
	to0 = json_array_get(json_object_get(pl, "to"), 0);
	if (json_object_get(pl, "to") && !json_is_array(json_object_get(pl,
	    "to"))) {
		errno = EINVAL;
		return errf(e, "payload.to is not an array");
	}
	if (strcmp(type, "message.sent") == 0 ||
	    strcmp(type, "message.finalized") == 0) {
		const char *st;

		ev->kind = WEBHOOK_STATUS;
		if (number(json_object_get(pl, "from"), "payload.from", 0,
		    &ev->from, e) < 0 || number(to0, "payload.to[0]", 0,
		    &ev->to, e) < 0)
			return -1;
		if (!json_is_object(to0)) {
			errno = EINVAL;
			return errf(e, "%s: no payload.to[0] to take the "
			    "status of", type);
		}
		if (str_field(to0, "status", "payload.to[0]", 1, &st, e) < 0 ||
		    error_code(json_object_get(pl, "errors"),
		    &ev->error_code, e) < 0)
			return -1;
		ev->status = status_word(st);
		return 0;
	}
	if (strcmp(type, "message.received") != 0) {
		errno = EINVAL;
		return errf(e, "event_type '%.64s' is not handled: only "
		    "message.received, message.sent and message.finalized",
		    type);
	}
	ev->kind = WEBHOOK_MESSAGE;
	ev->status = "received";
	if (number(json_object_get(pl, "from"), "payload.from", 1, &ev->from,
	    e) < 0 || number(to0, "payload.to[0]", 1, &ev->to, e) < 0 ||
	    media(json_object_get(pl, "media"), ev, e) < 0)
		return -1;
	text = json_object_get(pl, "text");
	if (json_is_string(text)) {
		ev->body = json_string_value(text);
		ev->body_len = json_string_length(text);
	} else if (text && !json_is_null(text)) {
		errno = EINVAL;
		return errf(e, "payload.text is not a string");
	}
	parts = json_object_get(pl, "parts");
	if (json_is_integer(parts) && json_integer_value(parts) > 0 &&
	    json_integer_value(parts) < 10000)
		ev->num_segments = (int)json_integer_value(parts);
	return 0;
}

/* Telnyx takes no reply in the answer: always an empty 200. */
static int
telnyx_reply(const char *text, size_t len, struct buf *out,
    const char **content_type, struct errbuf *e)
{
	(void)out;
	*content_type = "text/plain";
	if (text && len > 0) {
		errno = EINVAL;
		return errf(e, "Telnyx takes no reply in the answer to a "
		    "webhook");
	}
	return 0;
}

/*
 * Telnyx's error codes by class (providers.md 2.2): the API's 1xxxx and
 * 40300, and the delivery errors of message.finalized (400xx). Whatever
 * is not listed is permanent, or by the HTTP status of an API answer.
 */
static const char *
telnyx_error_class(long http, const char *code)
{
	static const struct provider_code known[] = {
		{ 10002, "invalid_recipient" },	/* invalid phone number */
		{ 10009, "auth" },		/* authentication failed */
		{ 10010, "auth" },		/* authorization failed */
		{ 10011, "throttled" },		/* too many requests */
		{ 10016, "invalid_recipient" },	/* not +E.164 */
		{ 40001, "invalid_recipient" },	/* not routable */
		{ 40005, "transient" },		/* expired before delivery */
		{ 40006, "transient" },		/* recipient unavailable */
		{ 40300, "opted_out" },		/* blocked due to STOP */
	};

	return provider_classify(known, sizeof known / sizeof *known, http,
	    code);
}

/* --- The REST API ------------------------------------------------------ */

/*
 * The account: TELNYX_API_KEY, a bearer token; the sender, TELNYX_FROM
 * (or from) or a messaging profile (TELNYX_MESSAGING_PROFILE_ID), whose
 * number pool picks one; TELNYX_API_URL for a simulator. Each has its
 * name in the configuration too (smsdesk-config(5)).
 */
static int
telnyx_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	a->bearer = config_pick(cfg, NULL, "TELNYX_API_KEY", "telnyx_api_key",
	    NULL);
	if (a->bearer && !*a->bearer)
		a->bearer = NULL;
	a->from = config_pick(cfg, from, "TELNYX_FROM", "telnyx_from",
	    provider_from(a, cfg));
	a->service = config_pick(cfg, service, "TELNYX_MESSAGING_PROFILE_ID",
	    "telnyx_messaging_profile_id", NULL);
	provider_sender(a, from, service);
	a->base = config_pick(cfg, NULL, "TELNYX_API_URL", "telnyx_api_url",
	    API_URL);
	if (provider_callback(a, cfg, WEBHOOK_PATH, e) < 0)
		return -1;
	if (!need)
		return 0;
	errno = EINVAL;
	if (!a->bearer)
		return errf(e, "no Telnyx API key: set TELNYX_API_KEY, or "
		    "telnyx_api_key in the config");
	if (!a->from && !a->service)
		return errf(e, "no sender: give --from or --messaging-service, "
		    "or set TELNYX_FROM (or TELNYX_MESSAGING_PROFILE_ID), or "
		    "from in the config");
	return 0;
}

/* base/v2/messages, then /id if there is one; the account's key. */
static void
messages_url(const struct provider_account *a, struct provider_http *rq,
    const char *id)
{
	buf_adds(&rq->url, a->base);
	buf_addlit(&rq->url, "/v2/messages");
	if (id) {
		buf_addc(&rq->url, '/');
		form_add(&rq->url, id, strlen(id));
	}
	buf_addc(&rq->url, '\0');
	rq->bearer = a->bearer;
}

static int
telnyx_send_request(const struct provider_account *a, const json_t *msg,
    struct provider_http *rq)
{
	const char *to = record_str(msg, "to");
	const char *body = record_str(msg, "body"), *url;
	const json_t *item;
	json_t *req, *urls;
	char *text = NULL;
	size_t i;
	int bad = 0;

	messages_url(a, rq, NULL);
	rq->post = 1;
	rq->content_type = "application/json";
	if (!(req = json_object()) || !(urls = json_array())) {
		json_decref(req);
		errno = ENOMEM;
		return -1;
	}
	json_array_foreach(json_object_get(msg, "media"), i, item)
		if ((url = record_str(item, "url")))
			bad |= json_array_append_new(urls, json_string(url));
	bad |= json_object_set_new(req, "to", json_string(to ? to : ""));
	if (a->from)
		bad |= json_object_set_new(req, "from", json_string(a->from));
	else
		bad |= json_object_set_new(req, "messaging_profile_id",
		    json_string(a->service ? a->service : ""));
	/* An MMS may go without text; an SMS needs it, even empty. */
	if ((body && *body) || json_array_size(urls) == 0)
		bad |= json_object_set_new(req, "text", json_string(body ?
		    body : ""));
	if (json_array_size(urls) > 0)
		bad |= json_object_set(req, "media_urls", urls);
	if (a->callback)
		bad |= json_object_set_new(req, "webhook_url",
		    json_string(a->callback));
	json_decref(urls);
	if (!bad)
		text = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(req);
	if (text)
		buf_adds(&rq->body, text);
	buf_addc(&rq->body, '\0');
	free(text);
	if (bad || !text || rq->url.err || rq->body.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/*
 * The answer to a send: a 2xx with data.id and data.to[0].status is
 * taken; 429 is to ask again; a 5xx may have been processed; the rest
 * refused, with the first error's code and detail (its title if it has
 * no detail), classified.
 */
static void
telnyx_send_answer(long http, double retry_after, const char *body,
    size_t len, struct provider_answer *an)
{
	json_t *resp = json_loadb(body ? body : "", len, 0, NULL);
	const json_t *data = json_object_get(resp, "data"), *err;
	const char *id, *st, *detail, *code = NULL;
	char num[32];

	(void)retry_after;
	memset(an, 0, sizeof *an);
	if (http >= 200 && http < 300) {
		id = record_str(data, "id");
		st = record_str(json_array_get(json_object_get(data, "to"), 0),
		    "status");
		if (id && *id && st && strlen(id) <= PROVIDER_ID_MAX) {
			an->outcome = PROVIDER_TAKEN;
			copy(an->id, sizeof an->id, id);
			copy(an->status, sizeof an->status, status_word(st));
		} else {
			an->outcome = PROVIDER_UNKNOWN;
			an->class = "unknown";
			copy(an->message, sizeof an->message, "the answer has "
			    "no data.id and data.to[0].status");
		}
		json_decref(resp);
		return;
	}
	err = json_array_get(json_object_get(resp, "errors"), 0);
	if (json_is_string(json_object_get(err, "code")))
		code = record_str(err, "code");
	else if (json_is_integer(json_object_get(err, "code"))) {
		snprintf(num, sizeof num, "%lld", (long long)
		    json_integer_value(json_object_get(err, "code")));
		code = num;
	}
	if (code)
		an->code = strtoll(code, NULL, 10);
	detail = record_str(err, "detail");
	copy(an->message, sizeof an->message, detail && *detail ? detail :
	    record_str(err, "title"));
	an->class = telnyx_error_class(http, code);
	if (http == 429)
		an->outcome = PROVIDER_RETRY;
	else if (http >= 500) {
		/* May have been processed: never sent blindly again. */
		an->outcome = PROVIDER_UNKNOWN;
		an->class = "unknown";
	} else
		an->outcome = PROVIDER_FAILED;
	json_decref(resp);
}

static int
telnyx_fetch_request(const struct provider_account *a, const char *id,
    struct provider_http *rq)
{
	messages_url(a, rq, id);
	if (rq->url.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* A message resource (data) in the toolkit's words (provider.h). */
static json_t *
message(const json_t *m)
{
	const json_t *to0 = json_array_get(json_object_get(m, "to"), 0);
	const json_t *err = json_array_get(json_object_get(m, "errors"), 0);
	const char *code = record_str(err, "code"), *at, *detail;
	json_t *out, *jerr = json_null();
	time_t t = -1;

	if (!record_str(m, "id"))
		return NULL;
	if (code && *code) {
		char *end;
		long long n = strtoll(code, &end, 10);

		detail = record_str(err, "detail");
		jerr = json_pack("{s:s, s:o}", "code",
		    telnyx_error_class(0, code), "provider_code", *end ?
		    json_string(code) : json_integer(n));
		if (jerr && (detail || record_str(err, "title")))
			json_object_set_new(jerr, "message", json_string(
			    detail ? detail : record_str(err, "title")));
	}
	at = record_str(m, "received_at");
	if (!at || when_parse(at, &t, NULL) < 0)
		t = -1;
	out = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:o?}",
	    "id", record_str(m, "id"),
	    "status", status_word(record_str(to0, "status")),
	    "to", record_str(to0, "phone_number"),
	    "from", record_str(json_object_get(m, "from"), "phone_number"),
	    "body", record_str(m, "text"), "created", (json_int_t)t,
	    "error", jerr);
	return out;
}

static int
telnyx_read_messages(const struct provider_account *a, long http,
    const char *body, size_t len, json_t *out, struct provider_http *next,
    struct errbuf *e)
{
	json_t *resp, *one;
	const char *code;

	(void)a;
	if (next) {
		/* No list in Telnyx's API v2: never asked for one. */
		errno = ENOTSUP;
		return errf(e, "Telnyx's API lists no messages");
	}
	resp = json_loadb(body ? body : "", len, 0, NULL);
	if (http == 404) {
		/* Gone: Telnyx's code for it (10005) is kept. */
		code = record_str(json_array_get(json_object_get(resp,
		    "errors"), 0), "code");
		one = json_pack("{s:s, s:I}", "code", "not_found",
		    "provider_code", (json_int_t)(code ? strtoll(code, NULL,
		    10) : 0));
		if (one)
			json_array_append_new(out, one);
		json_decref(resp);
		return 0;
	}
	if (http != 200) {
		json_decref(resp);
		errno = http == 401 || http == 403 ? EACCES : EIO;
		return errf(e, "HTTP error %ld", http);
	}
	if (!(one = message(json_object_get(resp, "data")))) {
		json_decref(resp);
		errno = EIO;
		return errf(e, "the answer is not a message");
	}
	json_array_append_new(out, one);
	json_decref(resp);
	return 1;
}

/*
 * What Telnyx takes as MMS media: up to 10 URLs, less than 1 MB in all
 * (its send API's own words); the types are its documentation's list
 * (images, video, audio, PDF, vCard and iCalendar), each up to the
 * total, since Telnyx gives no limit per type.
 */
#define MEDIA_TOTAL (1024 * 1024 - 1)
static const struct provider_media_type telnyx_media[] = {
	{ "image/jpeg", MEDIA_TOTAL },
	{ "image/png", MEDIA_TOTAL },
	{ "image/gif", MEDIA_TOTAL },
	{ "image/bmp", MEDIA_TOTAL },
	{ "image/tiff", MEDIA_TOTAL },
	{ "image/webp", MEDIA_TOTAL },
	{ "video/mp4", MEDIA_TOTAL },
	{ "video/3gpp", MEDIA_TOTAL },
	{ "video/quicktime", MEDIA_TOTAL },
	{ "audio/mpeg", MEDIA_TOTAL },
	{ "audio/wav", MEDIA_TOTAL },
	{ "audio/amr", MEDIA_TOTAL },
	{ "audio/ogg", MEDIA_TOTAL },
	{ "application/pdf", MEDIA_TOTAL },
	{ "text/vcard", MEDIA_TOTAL },
	{ "text/calendar", MEDIA_TOTAL },
	{ NULL, 0 },
};

const struct provider provider_telnyx = {
	.name = "telnyx",
	.sig_headers = { "telnyx-signature-ed25519", "telnyx-timestamp",
		NULL },
	.webhook_path = WEBHOOK_PATH,
	.secret_env = "TELNYX_PUBLIC_KEY",
	.secret_key = "telnyx_public_key",
	.secret_ok = telnyx_secret_ok,
	.verify = telnyx_verify,
	.parse = telnyx_parse,
	.reply = telnyx_reply,
	.replies = 0,
	.error_class = telnyx_error_class,
	/* Up to 10 parts of 153 GSM-7 characters (providers.md, Telnyx's
	   "Character and Rate Limits"). */
	.max_chars = 1530,
	.max_media = 10,
	.media_total = MEDIA_TOTAL,
	.media_types = telnyx_media,
	.service_prefix = "",
	.account = telnyx_account,
	.send_request = telnyx_send_request,
	.send_answer = telnyx_send_answer,
	.fetch_request = telnyx_fetch_request,
	.list_request = NULL,
	.read_messages = telnyx_read_messages,
};
