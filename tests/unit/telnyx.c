/*
 * tests/unit/telnyx.c: Telnyx, both directions: webhook signatures (the
 * known answer of providers.md section 7, Ed25519 from the seed 0..31),
 * the events of Telnyx's documentation (tests/data/telnyx-*.json), the
 * send request, what each answer to it means, and the error classes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "provider.h"
#include "tap.h"

static const struct provider *tx;

#define KEY "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
#define TS "1732290000"
#define NOW 1732290000
#define BODY "{\"data\":{\"event_type\":\"message.received\",\"id\":" \
	"\"b301ed3f-1490-491f-995f-6e64e69674d4\",\"payload\":{\"text\":" \
	"\"Hello\"}}}"
#define SIG "WVmZ07ulTWY7iB8wxdYelvhfzQa34ulvQWWW0DcxWFy1PKqdWPny575UEDlo" \
	"t5dihD8HuAzcEN3Cf8VHSOTjDw=="

static struct webhook_request
post(const char *body, const char *sig, const char *ts, time_t now)
{
	struct webhook_request rq = {
		.method = "POST",
		.url = "https://example.com/telnyx",
		.content_type = "application/json",
		.body = body,
		.body_len = strlen(body),
		.sig = { sig, ts },
		.now = now,
	};

	return rq;
}

/* Verify; on failure check errno and that the reason holds gist. */
static void
verify(const char *key, const struct webhook_request *rq, int want_errno,
    const char *gist, const char *what)
{
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = tx->verify(key, rq, &e);
	if (want_errno == 0) {
		ok(r == 0, "%s: accepted%s%s", what, r ? ": " : "",
		    r ? e.msg : "");
		return;
	}
	ok(r < 0 && errno == want_errno && strstr(e.msg, gist), "%s: "
	    "refused, %s (%s)", what, want_errno == EACCES ? "EACCES" :
	    "EINVAL", e.msg);
}

static void
test_signature(void)
{
	struct webhook_request rq;
	char body[sizeof BODY];

	rq = post(BODY, SIG, TS, NOW);
	verify(KEY, &rq, 0, NULL, "the known answer");
	rq = post(BODY, SIG, TS, NOW + 300);
	verify(KEY, &rq, 0, NULL, "300 s later");
	rq = post(BODY, SIG, TS, NOW - 300);
	verify(KEY, &rq, 0, NULL, "300 s earlier");
	rq = post(BODY, SIG, TS, NOW + 301);
	verify(KEY, &rq, EACCES, "outside the 300 s window", "301 s later");
	rq = post(BODY, SIG, TS, NOW - 301);
	verify(KEY, &rq, EACCES, "outside the 300 s window",
	    "301 s earlier");

	/* One byte of the body, the signature or the timestamp changed. */
	memcpy(body, BODY, sizeof body);
	body[strlen(body) - 5] = 'h';		/* "Hello" -> "hello" */
	rq = post(body, SIG, TS, NOW);
	verify(KEY, &rq, EACCES, "does not match", "one byte of the body "
	    "changed");
	rq = post(BODY BODY, SIG, TS, NOW);
	verify(KEY, &rq, EACCES, "does not match", "a body with more after "
	    "it");
	rq = post(BODY, "XVmZ07ulTWY7iB8wxdYelvhfzQa34ulvQWWW0DcxWFy1PKqdW"
	    "Pny575UEDlot5dihD8HuAzcEN3Cf8VHSOTjDw==", TS, NOW);
	verify(KEY, &rq, EACCES, "does not match", "one byte of the "
	    "signature changed");
	rq = post(BODY, SIG, "1732290001", NOW);
	verify(KEY, &rq, EACCES, "does not match", "another timestamp");
	rq = post(BODY, SIG, TS, NOW);
	verify("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbk=", &rq, EACCES,
	    "does not match", "another key");

	/* What is malformed or missing. */
	rq = post(BODY, SIG, TS, NOW);
	verify("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMQ==", &rq, EINVAL,
	    "32-byte", "a key of 31 bytes");
	verify("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgA", &rq, EINVAL,
	    "32-byte", "a key of 33 bytes");
	verify("not base64 at all!", &rq, EINVAL, "32-byte", "a key that "
	    "is not base64");
	verify("", &rq, EINVAL, "no Telnyx public key", "no key");
	verify(NULL, &rq, EINVAL, "no Telnyx public key", "a NULL key");
	rq = post(BODY, "WVmZ07ulTWY7iB8wxdYelvhfzQa34ulvQWWW0DcxWFy1PKqdWPny"
	    "575UEDlot5dihD8HuAzcEN3Cf8VHSOTj", TS, NOW);
	verify(KEY, &rq, EINVAL, "64-byte", "a signature of 63 bytes");
	rq = post(BODY, SIG "AAAA", TS, NOW);
	verify(KEY, &rq, EINVAL, "64-byte", "a signature with more after "
	    "it");
	rq = post(BODY, "", TS, NOW);
	verify(KEY, &rq, EINVAL, "64-byte", "an empty signature");
	rq = post(BODY, SIG, "17322900O0", NOW);
	verify(KEY, &rq, EINVAL, "digits only", "a timestamp with a letter");
	rq = post(BODY, SIG, "-1732290000", NOW);
	verify(KEY, &rq, EINVAL, "digits only", "a negative timestamp");
	rq = post(BODY, SIG, " 1732290000", NOW);
	verify(KEY, &rq, EINVAL, "digits only", "a timestamp with a space");
	rq = post(BODY, SIG, "", NOW);
	verify(KEY, &rq, EINVAL, "digits only", "an empty timestamp");
	rq = post(BODY, SIG, "99999999999999999999", NOW);
	verify(KEY, &rq, EINVAL, "digits only", "a timestamp too long");
	rq = post(BODY, NULL, TS, NOW);
	verify(KEY, &rq, EINVAL, "missing telnyx-signature-ed25519",
	    "no signature header");
	rq = post(BODY, SIG, NULL, NOW);
	verify(KEY, &rq, EINVAL, "missing telnyx-timestamp", "no timestamp "
	    "header");
}

/* The contents of $SMSDESK_TESTDATA/name, NUL-terminated. */
static char *
slurp(const char *name, size_t *len)
{
	const char *dir = getenv("SMSDESK_TESTDATA");
	char path[4096];
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *fp;

	if (!dir) {
		printf("Bail out! SMSDESK_TESTDATA is not set\n");
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(fp = fopen(path, "r"))) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	/* One line of JSON: its newline is not part of the body. */
	while (b.len && b.p[b.len - 1] == '\n')
		b.len--;
	*len = b.len;
	buf_addc(&b, '\0');
	return b.p;
}

static int
parse_text(const char *body, size_t len, struct webhook_event *ev,
    struct errbuf *e)
{
	struct webhook_request rq = { .method = "POST",
		.content_type = "application/json", .body = body,
		.body_len = len };

	return tx->parse(&rq, ev, e);
}

static void
test_parse(void)
{
	struct webhook_event ev = { 0 };
	struct errbuf e = { "" };
	size_t len;
	char *body;

	body = slurp("telnyx-received.json", &len);
	ok(parse_text(body, len, &ev, &e) == 0, "inbound SMS: parsed%s%s",
	    *e.msg ? ": " : "", e.msg);
	ok(ev.kind == WEBHOOK_MESSAGE, "a message");
	is_str(ev.id, "7ee4241c-f127-47e5-9c34-3aac291f8058", "its id is "
	    "the message's (payload.id), not the event's");
	is_str(ev.from, "+18665550001", "from.phone_number");
	is_str(ev.to, "+18445550001", "to[0].phone_number");
	ok(ev.body_len == 13 && memcmp(ev.body, "Hello, World!", 13) == 0,
	    "text");
	is_int(ev.num_segments, 1, "parts");
	is_str(ev.status, "received", "received");
	is_int(ev.num_media, 0, "no media");
	ok(ev.json != NULL, "the event holds its parse tree");
	provider_event_free(&ev);
	ok(ev.json == NULL, "provider_event_free() lets it go");
	provider_event_free(&ev);
	free(body);

	body = slurp("telnyx-received-mms.json", &len);
	ok(parse_text(body, len, &ev, &e) == 0, "inbound MMS: parsed");
	is_int(ev.num_media, 2, "two media items");
	is_str(ev.media[0].url, "https://media.telnyx.example/receipt.jpg",
	    "the first's url");
	is_str(ev.media[0].content_type, "image/jpeg", "its content_type");
	is_str(ev.media[1].content_type, "text/plain", "the second's");
	provider_event_free(&ev);
	free(body);

	body = slurp("telnyx-sent.json", &len);
	ok(parse_text(body, len, &ev, &e) == 0, "message.sent: parsed");
	ok(ev.kind == WEBHOOK_STATUS, "a status");
	is_str(ev.id, "40385f64-5717-4562-b3fc-2c963f66afa6", "payload.id");
	is_str(ev.status, "sent", "to[0].status");
	ok(ev.error_code == NULL, "no error");
	is_str(ev.to, "+18665550001", "to");
	is_str(ev.from, "+18445550001", "from");
	provider_event_free(&ev);
	free(body);

	body = slurp("telnyx-finalized.json", &len);
	ok(parse_text(body, len, &ev, &e) == 0, "message.finalized: parsed");
	ok(ev.kind == WEBHOOK_STATUS, "a status");
	is_str(ev.id, "40385f64-5717-4562-b3fc-2c963f66afa6", "the same "
	    "message's id");
	is_str(ev.status, "delivered", "delivered");
	provider_event_free(&ev);
	free(body);

	body = slurp("telnyx-finalized-failed.json", &len);
	ok(parse_text(body, len, &ev, &e) == 0, "a failed delivery: parsed");
	is_str(ev.status, "undelivered", "delivery_failed is undelivered");
	is_str(ev.error_code, "40006", "errors[0].code");
	provider_event_free(&ev);
	free(body);
}

static void
status_is(const char *telnyx, const char *want)
{
	struct webhook_event ev = { 0 };
	struct errbuf e = { "" };
	char body[512];

	snprintf(body, sizeof body, "{\"data\":{\"event_type\":\"message."
	    "finalized\",\"payload\":{\"id\":\"m1\",\"to\":[{\"phone_number\":"
	    "\"+15551230000\",\"status\":\"%s\"}],\"errors\":[{\"code\":"
	    "40300}]}}}", telnyx);
	ok(parse_text(body, strlen(body), &ev, &e) == 0 && ev.status &&
	    strcmp(ev.status, want) == 0, "%s is %s (%s)", telnyx, want,
	    ev.status ? ev.status : e.msg);
	provider_event_free(&ev);
}

/* A body refused with EINVAL, its reason holding gist. */
static void
parse_bad(const char *body, const char *gist)
{
	struct webhook_event ev = { 0 };
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = parse_text(body, strlen(body), &ev, &e);
	ok(r < 0 && errno == EINVAL && strstr(e.msg, gist), "refused: %s "
	    "(%s)", gist, e.msg);
	provider_event_free(&ev);
}

static void
test_statuses(void)
{
	struct webhook_event ev = { 0 };
	struct errbuf e = { "" };
	const char *num = "{\"data\":{\"event_type\":\"message.finalized\","
	    "\"payload\":{\"id\":\"m1\",\"to\":[{\"status\":\"delivery_"
	    "failed\"}],\"errors\":[{\"code\":40008}]}}}";

	status_is("queued", "queued");
	status_is("sending", "sending");
	status_is("sent", "sent");
	status_is("delivered", "delivered");
	status_is("read", "read");
	status_is("sending_failed", "failed");
	status_is("delivery_failed", "undelivered");
	status_is("expired", "undelivered");
	status_is("delivery_unconfirmed", "sent");
	status_is("a_new_word", "a_new_word");
	ok(parse_text(num, strlen(num), &ev, &e) == 0 && ev.error_code &&
	    strcmp(ev.error_code, "40008") == 0, "a numeric error code is "
	    "taken as its digits");
	provider_event_free(&ev);

	parse_bad("", "not JSON");
	parse_bad("{\"data\":1}", "no \"data\" object");
	parse_bad("[1]", "no \"data\" object");
	parse_bad("{\"data\":{\"event_type\":\"message.read\",\"payload\":"
	    "{\"id\":\"m1\"}}}", "event_type 'message.read' is not handled");
	parse_bad("{\"data\":{\"event_type\":\"call.initiated\",\"payload\":"
	    "{\"id\":\"m1\"}}}", "is not handled");
	parse_bad("{\"data\":{\"payload\":{\"id\":\"m1\"}}}",
	    "missing data.event_type");
	parse_bad("{\"data\":{\"event_type\":\"message.received\"}}",
	    "no \"payload\"");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"from\":{\"phone_number\":\"+1555\"},\"to\":[{\"phone_number\":"
	    "\"+1444\"}]}}}", "missing payload.id");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"\",\"from\":{\"phone_number\":\"+1555\"}}}}",
	    "payload.id is not a string that is not empty");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"to\":[{\"phone_number\":\"+1444\"}]}}}",
	    "missing payload.from");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"from\":{\"phone_number\":\"+1555\"},\"to\":[]}}}",
	    "missing payload.to[0]");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"from\":{\"phone_number\":\"+1555\"},\"to\":[{"
	    "\"phone_number\":\"+1444\"}],\"text\":7}}}",
	    "payload.text is not a string");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"from\":{\"phone_number\":\"+1555\"},\"to\":[{"
	    "\"phone_number\":\"+1444\"}],\"text\":\"a\\u0000b\"}}}",
	    "not JSON");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"from\":{\"phone_number\":\"+1555\"},\"to\":[{"
	    "\"phone_number\":\"+1444\"}],\"media\":[{\"content_type\":"
	    "\"image/png\"}]}}}", "missing payload.media[0].url");
	parse_bad("{\"data\":{\"event_type\":\"message.received\",\"payload\":"
	    "{\"id\":\"m1\",\"from\":{\"phone_number\":\"+1555\"},\"to\":[{"
	    "\"phone_number\":\"+1444\"}],\"media\":[{\"url\":\"a\"},{\"url\":"
	    "\"a\"},{\"url\":\"a\"},{\"url\":\"a\"},{\"url\":\"a\"},{\"url\":"
	    "\"a\"},{\"url\":\"a\"},{\"url\":\"a\"},{\"url\":\"a\"},{\"url\":"
	    "\"a\"},{\"url\":\"a\"}]}}}", "more than 10");
	parse_bad("{\"data\":{\"event_type\":\"message.finalized\",\"payload\":"
	    "{\"id\":\"m1\",\"to\":[]}}}", "no payload.to[0]");
	parse_bad("{\"data\":{\"event_type\":\"message.finalized\",\"payload\":"
	    "{\"id\":\"m1\",\"to\":[{\"phone_number\":\"+1\"}]}}}",
	    "missing payload.to[0].status");
	parse_bad("{\"data\":{\"event_type\":\"message.sent\",\"payload\":"
	    "{\"id\":\"m1\",\"to\":[{\"status\":\"sent\"}],\"errors\":{}}}}",
	    "payload.errors is not an array");
	parse_bad("{\"data\":{\"event_type\":\"message.sent\",\"event_type\":"
	    "\"message.sent\",\"payload\":{}}}", "not JSON");
}

static void
test_reply(void)
{
	struct buf out = { 0 };
	struct errbuf e = { "" };
	const char *ct = NULL;

	ok(tx->reply(NULL, 0, &out, &ct, &e) == 0 && out.len == 0,
	    "the answer is empty");
	ok(ct != NULL, "with a content type (%s)", ct ? ct : "none");
	ok(tx->reply("hi", 2, &out, &ct, &e) < 0 && errno == EINVAL &&
	    out.len == 0, "a reply text cannot be carried (%s)", e.msg);
	ok(tx->replies == 0, "sms-recv is told so");
	buf_free(&out);
}

static void
test_error_class(void)
{
	static const struct {
		long http;
		const char *code, *class;
	} cases[] = {
		{ 400, "40300", "opted_out" },
		{ 0, "40300", "opted_out" },
		{ 429, "10011", "throttled" },
		{ 429, NULL, "throttled" },
		{ 401, "10009", "auth" },
		{ 401, NULL, "auth" },
		{ 403, "10010", "auth" },
		{ 400, "10002", "invalid_recipient" },
		{ 422, "10016", "invalid_recipient" },
		{ 0, "40001", "invalid_recipient" },
		{ 0, "40005", "transient" },
		{ 0, "40006", "transient" },
		{ 0, "40002", "permanent" },
		{ 0, "40008", "permanent" },
		{ 400, "10004", "permanent" },
		{ 500, "10007", "transient" },
		{ 503, NULL, "transient" },
		{ 400, "junk", "permanent" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		is_str(tx->error_class(cases[i].http, cases[i].code),
		    cases[i].class, "HTTP %ld, code %s", cases[i].http,
		    cases[i].code ? cases[i].code : "none");
	is_str(provider_error_class("telnyx", 400, "40300"), "opted_out",
	    "through provider_error_class()");
}

static void
test_send(void)
{
	struct provider_account a = { .pv = NULL, .base = "http://h:1",
		.bearer = "KEY123", .from = "+15550001111",
		.callback = (char *)"https://pub.example/telnyx" };
	struct provider_http rq = { 0 };
	json_t *msg, *got;

	msg = json_pack("{s:s, s:s, s:[{s:s},{s:s}]}", "to", "+15552223333",
	    "body", "Hé \"there\"", "media", "url", "https://x/a.jpg", "url",
	    "https://x/b.png");
	ok(tx->send_request(&a, msg, &rq) == 0, "a send request");
	is_str(rq.url.p, "http://h:1/v2/messages", "POST /v2/messages");
	ok(rq.post == 1, "a POST");
	is_str(rq.content_type, "application/json", "of JSON");
	is_str(rq.bearer, "KEY123", "with the API key as a bearer token");
	ok(rq.user == NULL && rq.pass == NULL, "and no Basic auth");
	is_str(rq.body.p, "{\"to\":\"+15552223333\",\"from\":\"+15550001111\","
	    "\"text\":\"H\xc3\xa9 \\\"there\\\"\",\"media_urls\":["
	    "\"https://x/a.jpg\",\"https://x/b.png\"],\"webhook_url\":"
	    "\"https://pub.example/telnyx\"}", "the body");
	got = json_loads(rq.body.p, 0, NULL);
	ok(got && strcmp(json_string_value(json_object_get(got, "text")),
	    "H\xc3\xa9 \"there\"") == 0, "whose text reads back as it was");
	json_decref(got);
	provider_http_free(&rq);
	json_decref(msg);

	/* A messaging profile for the sender; an MMS without text. */
	a.from = NULL;
	a.service = "4000eba1-a0c0-4563-9925-b25e842a7cb6";
	a.callback = NULL;
	msg = json_pack("{s:s, s:s, s:[{s:s}]}", "to", "+15552223333", "body",
	    "", "media", "url", "https://x/a.jpg");
	ok(tx->send_request(&a, msg, &rq) == 0, "from a messaging profile");
	is_str(rq.body.p, "{\"to\":\"+15552223333\",\"messaging_profile_id\":"
	    "\"4000eba1-a0c0-4563-9925-b25e842a7cb6\",\"media_urls\":["
	    "\"https://x/a.jpg\"]}", "messaging_profile_id, no text for an "
	    "MMS without one, no webhook_url without a public URL");
	provider_http_free(&rq);
	json_decref(msg);

	ok(tx->fetch_request(&a, "40385f64-5717", &rq) == 0 && rq.post == 0,
	    "a fetch: a GET");
	is_str(rq.url.p, "http://h:1/v2/messages/40385f64-5717",
	    "/v2/messages/ID");
	is_str(rq.bearer, "KEY123", "with the key");
	provider_http_free(&rq);
	ok(tx->list_request == NULL, "no list: Telnyx's API v2 lists no "
	    "messages");
}

static void
answer(long http, const char *body, struct provider_answer *an)
{
	tx->send_answer(http, 0, body, body ? strlen(body) : 0, an);
}

static void
test_answers(void)
{
	struct provider_answer an;

	answer(200, "{\"data\":{\"record_type\":\"message\",\"id\":"
	    "\"40385f64-5717-4562-b3fc-2c963f66afa6\",\"to\":[{\"phone_number\""
	    ":\"+15552223333\",\"status\":\"queued\"}],\"errors\":[]}}", &an);
	ok(an.outcome == PROVIDER_TAKEN, "200 with an id: taken");
	is_str(an.id, "40385f64-5717-4562-b3fc-2c963f66afa6", "its id");
	is_str(an.status, "queued", "its status");

	answer(200, "{\"data\":{\"to\":[{\"status\":\"queued\"}]}}", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "200 without an id: unknown");
	answer(200, "not json", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "200 that is not JSON: unknown");

	answer(429, "{\"errors\":[{\"code\":\"10011\",\"title\":\"Too many "
	    "requests\"}]}", &an);
	ok(an.outcome == PROVIDER_RETRY, "429: asked again");
	is_str(an.class, "throttled", "throttled");
	ok(an.code == 10011, "code 10011");

	answer(503, "", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "503: may have been processed");
	answer(500, "{\"errors\":[{\"code\":\"10007\"}]}", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "500: unknown");

	answer(400, "{\"errors\":[{\"code\":\"40300\",\"title\":\"Blocked due "
	    "to STOP message\",\"detail\":\"Messages cannot be sent from "
	    "'+15550001111' to '+15552223333' due to an existing block "
	    "rule.\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED, "40300: refused");
	is_str(an.class, "opted_out", "opted out");
	ok(an.code == 40300, "code 40300");
	ok(strstr(an.message, "existing block rule") != NULL, "the detail");

	answer(401, "{\"errors\":[{\"code\":\"10009\",\"title\":"
	    "\"Authentication failed\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED && strcmp(an.class, "auth") == 0,
	    "401: refused, auth");
	is_str(an.message, "Authentication failed", "the title, without a "
	    "detail");

	answer(422, "{\"errors\":[{\"code\":\"10016\",\"title\":\"Phone "
	    "number must be in +E.164 format\",\"source\":{\"pointer\":"
	    "\"/to\"}}]}", &an);
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "invalid_recipient") == 0, "10016: invalid "
	    "recipient");
	answer(400, "{\"errors\":[{\"code\":\"10002\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "invalid_recipient") == 0, "10002: invalid "
	    "recipient");
	answer(400, "{\"errors\":[{\"code\":\"10004\",\"detail\":\"to is "
	    "required\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "permanent") == 0, "10004: permanent");
	answer(400, "<html>", &an);
	ok(an.outcome == PROVIDER_FAILED && an.code == 0 &&
	    strcmp(an.class, "permanent") == 0, "a 400 not in JSON: refused, "
	    "permanent");
}

static void
test_fetch(void)
{
	struct provider_account a = { .base = "http://h", .bearer = "K" };
	struct provider_http next = { 0 };
	struct errbuf e = { "" };
	json_t *out = json_array(), *m;
	const char *gone = "{\"errors\":[{\"code\":\"10005\"}]}";
	const char *one = "{\"data\":{\"id\":\"m1\",\"text\":\"hi\","
	    "\"from\":{\"phone_number\":\"+15550001111\"},\"to\":[{"
	    "\"phone_number\":\"+15552223333\",\"status\":\"delivery_failed\"}"
	    "],\"received_at\":\"2019-12-09T21:32:13.107+00:00\",\"errors\":"
	    "[{\"code\":\"40006\",\"detail\":\"unavailable\"}]}}";

	ok(tx->read_messages(&a, 200, one, strlen(one), out, NULL, &e) == 1 &&
	    json_array_size(out) == 1, "a fetch: one message");
	m = json_array_get(out, 0);
	is_str(json_string_value(json_object_get(m, "id")), "m1", "its id");
	is_str(json_string_value(json_object_get(m, "status")), "undelivered",
	    "its status, in our words");
	is_str(json_string_value(json_object_get(m, "to")), "+15552223333",
	    "to");
	is_str(json_string_value(json_object_get(m, "from")), "+15550001111",
	    "from");
	is_str(json_string_value(json_object_get(m, "body")), "hi", "body");
	ok(json_integer_value(json_object_get(m, "created")) == 1575927133,
	    "created, from received_at");
	is_str(json_string_value(json_object_get(json_object_get(m, "error"),
	    "code")), "transient", "the error's class");
	ok(json_integer_value(json_object_get(json_object_get(m, "error"),
	    "provider_code")) == 40006, "and Telnyx's code");
	json_array_clear(out);
	ok(tx->read_messages(&a, 404, gone, strlen(gone), out, NULL, &e) == 0 &&
	    json_integer_value(json_object_get(json_array_get(out, 0),
	    "provider_code")) == 10005,
	    "a 404: no such message, code 10005");
	json_array_clear(out);
	ok(tx->read_messages(&a, 401, "", 0, out, NULL, &e) < 0 &&
	    errno == EACCES, "a 401: EACCES");
	ok(tx->read_messages(&a, 200, "{}", 2, out, NULL, &e) < 0 &&
	    errno == EIO, "an answer without a message: EIO");
	ok(tx->read_messages(&a, 200, one, strlen(one), out, &next, &e) < 0,
	    "a list is never read (%s)", e.msg);
	json_decref(out);
}

/* account() from the environment. */
static void
test_account(void)
{
	struct config *cfg = config_new();
	struct provider_account a = { 0 };
	struct errbuf e = { "" };

	unsetenv("TELNYX_API_KEY");
	unsetenv("TELNYX_FROM");
	unsetenv("TELNYX_MESSAGING_PROFILE_ID");
	unsetenv("TELNYX_API_URL");
	unsetenv("SMSDESK_PUBLIC_URL");
	ok(tx->account(&a, cfg, NULL, NULL, 1, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "TELNYX_API_KEY"), "no key: says what to set (%s)",
	    e.msg);
	provider_account_free(&a);
	setenv("TELNYX_API_KEY", "KEY9", 1);
	ok(tx->account(&a, cfg, NULL, NULL, 1, &e) < 0 &&
	    strstr(e.msg, "TELNYX_FROM"), "no sender: says so (%s)", e.msg);
	provider_account_free(&a);
	setenv("TELNYX_MESSAGING_PROFILE_ID", "prof-1", 1);
	setenv("SMSDESK_PUBLIC_URL", "https://pub.example/", 1);
	ok(tx->account(&a, cfg, NULL, NULL, 1, &e) == 0, "a messaging "
	    "profile is a sender");
	is_str(a.service, "prof-1", "the profile");
	is_str(a.bearer, "KEY9", "the key");
	ok(a.user == NULL && a.pass == NULL, "no Basic auth");
	is_str(a.base, "https://api.telnyx.com", "the API's URL");
	is_str(a.callback, "https://pub.example/telnyx", "webhook_url is the "
	    "public URL's /telnyx");
	provider_account_free(&a);
	setenv("TELNYX_FROM", "+15550001111", 1);
	setenv("TELNYX_API_URL", "http://127.0.0.1:9", 1);
	ok(tx->account(&a, cfg, NULL, NULL, 1, &e) == 0 && a.from &&
	    !a.service, "TELNYX_FROM beats the profile");
	is_str(a.base, "http://127.0.0.1:9", "TELNYX_API_URL");
	provider_account_free(&a);
	ok(tx->account(&a, cfg, NULL, "prof-2", 1, &e) == 0 && !a.from &&
	    a.service && strcmp(a.service, "prof-2") == 0,
	    "--messaging-service beats TELNYX_FROM");
	provider_account_free(&a);
	config_free(cfg);
}

int
main(void)
{
	tx = provider_find("telnyx");
	ok(tx != NULL, "provider_find(\"telnyx\")");
	if (!tx)
		return tap_done();
	is_str(tx->sig_headers[0], "telnyx-signature-ed25519", "its headers");
	is_str(tx->sig_headers[1], "telnyx-timestamp", "in that order");
	is_str(tx->secret_env, "TELNYX_PUBLIC_KEY", "its key's variable");
	is_str(tx->webhook_path, "/telnyx", "its path");
	test_signature();
	test_parse();
	test_statuses();
	test_reply();
	test_error_class();
	test_send();
	test_answers();
	test_fetch();
	test_account();
	return tap_done();
}
