/*
 * tests/unit/plivo.c: Plivo, both directions: V3 signatures (the known
 * answers of providers.md section 7, checked with Plivo's own
 * validateV3Signature), the inbound and status forms, Plivo XML answers,
 * the account, the send request and what each answer means, and the
 * messages a fetch or a list page gives back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "form.h"
#include "provider.h"
#include "record.h"
#include "tap.h"

static const struct provider *pv;

#define TOKEN "MYTOKEN"
#define NONCE "12345678901234567890"
#define BODY "From=14155550100&To=14155550199&Text=hi+there&Type=sms&" \
	"MessageUUID=abc"
#define URL1 "http://127.0.0.1:8080/plivo/sms"
#define SIG1 "kBXUEfpnJqNOaVzLpD5XJt1zlajGbIMufbP1BN1bu+s="
#define URL2 "https://example.com:8443/plivo/sms?b=2&a=1"
#define SIG2 "+sw8vu7sjlq+w6lvXCVfz5sRitP9hmrA9xQa+csNLrs="

static void
parse_form(struct form *f, const char *body)
{
	struct errbuf e = { "" };

	if (form_parse(f, body, strlen(body), &e) < 0) {
		printf("Bail out! cannot parse %s: %s\n", body, e.msg);
		exit(1);
	}
}

static struct webhook_request
post(const char *url, const struct form *f, const char *sig,
    const char *nonce)
{
	struct webhook_request rq = {
		.method = "POST",
		.url = url,
		.content_type = "application/x-www-form-urlencoded",
		.body = "",
		.form = f,
		.sig = { sig, nonce },
	};

	return rq;
}

static void
verify(const struct webhook_request *rq, int want_errno, const char *gist,
    const char *what)
{
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = pv->verify(TOKEN, rq, &e);
	if (want_errno == 0) {
		if (!ok(r == 0, "%s is accepted", what))
			printf("#   %s\n", e.msg);
		return;
	}
	if (!ok(r == -1 && errno == want_errno && strstr(e.msg, gist),
	    "%s is refused: %s", what, gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
}

static void
test_signature(void)
{
	struct form f;
	struct webhook_request rq;
	char sig[45], bad[45], list[200];

	parse_form(&f, BODY);
	ok(plivo_signature(TOKEN, "POST", URL1, NONCE, &f, sig) == 0,
	    "plivo_signature succeeds");
	is_str(sig, SIG1, "providers.md's first V3 vector");
	ok(plivo_signature(TOKEN, "POST", URL2, NONCE, &f, sig) == 0,
	    "with a query");
	is_str(sig, SIG2, "providers.md's second V3 vector (a query, a port)");

	rq = post(URL1, &f, SIG1, NONCE);
	verify(&rq, 0, NULL, "the first vector");
	rq = post(URL2, &f, SIG2, NONCE);
	verify(&rq, 0, NULL, "the second vector");
	rq.url = "https://example.com:8443/plivo/sms?a=1&b=2";
	verify(&rq, 0, NULL, "the query in another order (Plivo sorts it)");
	rq.url = "https://example.com/plivo/sms?b=2&a=1";
	verify(&rq, EACCES, "does not match", "the port left out");

	snprintf(list, sizeof list, "%s,%s", SIG2, SIG1);
	rq = post(URL1, &f, list, NONCE);
	verify(&rq, 0, NULL, "a list with the good signature second");
	snprintf(list, sizeof list, "%s, %s ,%s", SIG2, SIG1, SIG2);
	rq.sig[0] = list;
	verify(&rq, 0, NULL, "a list with spaces, the good one amid bad");
	snprintf(list, sizeof list, "%s,%s", SIG2, SIG2);
	rq.sig[0] = list;
	verify(&rq, EACCES, "does not match", "a list of bad ones only");

	/* Each byte of the signature changed: refused. */
	for (size_t i = 0; i < strlen(SIG1); i++) {
		memcpy(bad, SIG1, sizeof bad);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		rq = post(URL1, &f, bad, NONCE);
		if (pv->verify(TOKEN, &rq, &(struct errbuf){ "" }) == 0) {
			ok(0, "byte %zu of the signature changed", i);
			break;
		}
		if (i == strlen(SIG1) - 1)
			ok(1, "any one byte of the signature changed: refused");
	}
	rq = post(URL1, &f, SIG1, "12345678901234567891");
	verify(&rq, EACCES, "does not match", "another nonce");
	rq = post(URL1, &f, SIG1, NULL);
	verify(&rq, EINVAL, "missing X-Plivo-Signature-V3-Nonce",
	    "a missing nonce");
	rq = post(URL1, &f, NULL, NONCE);
	verify(&rq, EINVAL, "missing X-Plivo-Signature-V3 header",
	    "a missing signature");
	rq = post(URL1, NULL, SIG1, NONCE);
	rq.method = NULL;
	verify(&rq, EINVAL, "POST without form parameters",
	    "a POST (no method: POST) that is no form");
	form_free(&f);

	parse_form(&f, "From=14155550100&To=14155550199&Text=hi+therE&"
	    "Type=sms&MessageUUID=abc");
	rq = post(URL1, &f, SIG1, NONCE);
	verify(&rq, EACCES, "does not match", "one byte of the text changed");
	form_free(&f);
}

static void
test_parse(void)
{
	struct form f;
	struct webhook_request rq;
	struct webhook_event ev;
	struct errbuf e = { "" };

	parse_form(&f, "From=14155550100&To=14155550199&Text=hi+there&"
	    "Type=sms&MessageUUID=abc&Units=2&MessageIntent=");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0 && ev.kind == WEBHOOK_MESSAGE,
	    "an inbound SMS");
	is_str(ev.id, "abc", "its id: MessageUUID");
	is_str(ev.from, "+14155550100", "From made E.164");
	is_str(ev.to, "+14155550199", "To made E.164");
	is_str(ev.body, "hi there", "Text");
	is_str(ev.status, "received", "received");
	is_int(ev.num_segments, 2, "Units: the segments");
	ok(ev.optout_type == NULL, "no MessageIntent: no keyword class");
	form_free(&f);

	parse_form(&f, "From=55555&To=14155550199&Text=STOP&Type=sms&"
	    "MessageUUID=abd&MessageIntent=optout");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0, "an opt-out from a short code");
	is_str(ev.from, "55555", "a short code stays as it came");
	is_str(ev.optout_type, "STOP", "MessageIntent optout: STOP");
	form_free(&f);

	parse_form(&f, "From=14155550100&To=14155550199&Body=look&Type=mms&"
	    "MessageUUID=abe&MediaCount=2&Media1=https%3A%2F%2Fm.example%2F1&"
	    "Media2=https%3A%2F%2Fm.example%2F2");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0, "an inbound MMS");
	is_str(ev.body, "look", "an MMS's text is Body");
	is_int(ev.num_media, 2, "MediaCount");
	is_str(ev.media[0].url, "https://m.example/1", "Media1 first");
	is_str(ev.media[1].url, "https://m.example/2", "Media2 second");
	form_free(&f);

	parse_form(&f, "From=14155550100&To=14155550199&Body=x&Type=mms&"
	    "MessageUUID=abf&MediaCount=2&Media1=https%3A%2F%2Fm.example%2F1");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "Media2"), "a missing media item: refused (%s)",
	    e.msg);
	form_free(&f);

	parse_form(&f, "To=14155550199&Text=x&MessageUUID=abg");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) < 0 && strstr(e.msg, "missing From"),
	    "no From: refused (%s)", e.msg);
	form_free(&f);

	parse_form(&f, "MessageUUID=m1&Status=delivered&ErrorCode=000&"
	    "From=14155550199&To=14155550100&Units=1");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0 && ev.kind == WEBHOOK_STATUS,
	    "a status callback");
	is_str(ev.id, "m1", "its message");
	is_str(ev.status, "delivered", "delivered");
	ok(ev.error_code == NULL, "ErrorCode 000: no error");
	is_str(ev.to, "+14155550100", "its To made E.164");
	form_free(&f);

	parse_form(&f, "MessageUUID=m2&Status=rejected&ErrorCode=200");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0, "a rejected message");
	is_str(ev.status, "failed", "rejected is failed");
	is_str(ev.error_code, "200", "its ErrorCode");
	form_free(&f);

	parse_form(&f, "MessageUUID=m3&Status=undelivered&ErrorCode=50");
	rq = post(URL1, &f, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) == 0, "an undelivered one");
	is_str(ev.status, "undelivered", "undelivered");
	form_free(&f);

	rq = post(URL1, NULL, NULL, NULL);
	ok(pv->parse(&rq, &ev, &e) < 0 && errno == EINVAL, "not a form");
}

static void
test_reply(void)
{
	struct form f;
	struct webhook_request rq;
	struct webhook_event ev;
	struct errbuf e = { "" };
	struct buf out = { 0 };
	const char *ct = NULL;

	ok(pv->reply(NULL, 0, &out, &ct, &e) == 0, "no reply");
	buf_addc(&out, '\0');
	is_str(out.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<Response></Response>", "an empty Response");
	is_str(ct, "application/xml", "as application/xml");
	out.len = 0;
	ok(pv->reply("hi", 2, &out, &ct, &e) < 0 && errno == EINVAL,
	    "a reply with no message to answer: refused");
	parse_form(&f, "From=14155550100&To=14155550199&Text=help&"
	    "MessageUUID=abc");
	rq = post(URL1, &f, NULL, NULL);
	pv->parse(&rq, &ev, &e);
	out.len = 0;
	ok(pv->reply_to(&ev, "a<b & \"c\"", 9, &out, &ct, &e) == 0,
	    "a reply to a message");
	buf_addc(&out, '\0');
	is_str(out.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
	    "<Message src=\"14155550199\" dst=\"14155550100\" type=\"sms\">"
	    "a&lt;b &amp; &quot;c&quot;</Message></Response>",
	    "Plivo XML: from the number it came to, to its sender, escaped");
	form_free(&f);
	buf_free(&out);
}

static void
test_error_class(void)
{
	is_str(pv->error_class(0, "200"), "opted_out", "200: opted out");
	is_str(pv->error_class(0, "50"), "invalid_recipient",
	    "50: invalid destination");
	is_str(pv->error_class(0, "20"), "transient", "20: network error");
	is_str(pv->error_class(0, "30"), "permanent", "30: spam: permanent");
	is_str(pv->error_class(401, NULL), "auth", "401: auth");
	is_str(pv->error_class(429, NULL), "throttled", "429: throttled");
	is_str(pv->error_class(500, NULL), "transient", "500: transient");
	is_str(pv->error_class(400, NULL), "permanent", "400: permanent");
}

static void
test_send(void)
{
	struct config *cfg = config_new();
	struct provider_account a;
	struct provider_http rq = { 0 }, next = { 0 };
	struct provider_answer an;
	struct errbuf e;
	json_t *msg, *out;
	const char *s;

	setenv("SMSDESK_PROVIDER", "plivo", 1);
	unsetenv("PLIVO_AUTH_ID");
	unsetenv("PLIVO_POWERPACK_UUID");
	setenv("PLIVO_FROM", "+14155550199", 1);
	setenv("SMSDESK_PUBLIC_URL", "https://desk.example.com/", 1);
	ok(provider_account(&a, cfg, NULL, NULL, 1, &e) < 0 &&
	    errno == EINVAL && strstr(e.msg, "PLIVO_AUTH_ID"),
	    "no account: refused, naming what to set");
	provider_account_free(&a);
	setenv("PLIVO_AUTH_ID", "MA0123", 1);
	setenv("PLIVO_AUTH_TOKEN", "secret", 1);
	setenv("PLIVO_API_URL", "http://127.0.0.1:9", 1);
	ok(provider_account(&a, cfg, NULL, NULL, 1, &e) == 0 &&
	    a.pv == pv, "a Plivo account");
	is_str(a.user, "MA0123", "Basic auth: the auth id");
	is_str(a.pass, "secret", "and its token");
	is_str(a.callback, "https://desk.example.com/plivo",
	    "the status callback");

	msg = json_pack("{s:s, s:s, s:[{s:s}]}", "to", "+14155550100",
	    "body", "hi \"you\"", "media", "url", "https://x.example/a.png");
	ok(pv->send_request(&a, msg, &rq) == 0 && rq.post, "a send request");
	is_str(rq.url.p, "http://127.0.0.1:9/v1/Account/MA0123/Message/",
	    "POST to the Message resource, with its trailing slash");
	is_str(rq.content_type, "application/json", "JSON");
	is_str(rq.body.p, "{\"dst\":\"14155550100\",\"media_urls\":"
	    "[\"https://x.example/a.png\"],\"method\":\"POST\",\"src\":"
	    "\"14155550199\",\"text\":\"hi \\\"you\\\"\",\"type\":\"mms\","
	    "\"url\":\"https://desk.example.com/plivo\"}",
	    "dst and src without +, media, the callback");
	provider_http_free(&rq);
	json_decref(msg);
	provider_account_free(&a);

	ok(provider_account(&a, cfg, NULL, "pp-42", 1, &e) == 0 &&
	    !a.from, "a Powerpack given beats the number");
	msg = json_pack("{s:s, s:s}", "to", "+14155550100", "body", "x");
	pv->send_request(&a, msg, &rq);
	ok(strstr(rq.body.p, "\"powerpack_uuid\":\"pp-42\"") &&
	    !strstr(rq.body.p, "src") && strstr(rq.body.p, "\"type\":\"sms\""),
	    "sent by the Powerpack, as an SMS");
	provider_http_free(&rq);
	json_decref(msg);

	s = "{\"api_id\":\"a\",\"message\":\"message(s) queued\","
	    "\"message_uuid\":[\"db3ce55a-7f1d-11e1-8ea7-1231380bc196\"]}";
	pv->send_answer(202, 0, s, strlen(s), &an);
	ok(an.outcome == PROVIDER_TAKEN, "202: taken");
	is_str(an.id, "db3ce55a-7f1d-11e1-8ea7-1231380bc196",
	    "the first message_uuid");
	is_str(an.status, "queued", "queued");
	s = "{\"api_id\":\"a\",\"message_uuid\":[],\"invalid_number\":"
	    "[\"1415\"]}";
	pv->send_answer(202, 0, s, strlen(s), &an);
	ok(an.outcome == PROVIDER_FAILED && !strcmp(an.class,
	    "invalid_recipient"), "202 with only an invalid number: refused");
	s = "{\"api_id\":\"a\",\"error\":\"too many requests\"}";
	pv->send_answer(429, 0, s, strlen(s), &an);
	ok(an.outcome == PROVIDER_RETRY && !strcmp(an.class, "throttled"),
	    "429: retry, throttled");
	pv->send_answer(500, 0, "{}", 2, &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "500: unknown");
	pv->send_answer(503, 2, "", 0, &an);
	ok(an.outcome == PROVIDER_RETRY, "503 with a Retry-After: retry");
	s = "{\"api_id\":\"a\",\"error\":\"authentication failed\"}";
	pv->send_answer(401, 0, s, strlen(s), &an);
	ok(an.outcome == PROVIDER_FAILED && !strcmp(an.class, "auth"),
	    "401: auth");
	s = "{\"api_id\":\"a\",\"error\":\"dst parameter not provided\"}";
	pv->send_answer(400, 0, s, strlen(s), &an);
	ok(an.outcome == PROVIDER_FAILED && !strcmp(an.class, "permanent"),
	    "400: refused, permanent");
	is_str(an.message, "dst parameter not provided", "Plivo's error text");

	ok(pv->fetch_request(&a, "m-1", &rq) == 0 && !rq.post, "a fetch");
	is_str(rq.url.p, "http://127.0.0.1:9/v1/Account/MA0123/Message/m-1/",
	    "GET the message, with its trailing slash");
	provider_http_free(&rq);
	out = json_array();
	s = "{\"api_id\":\"a\",\"error_code\":\"200\",\"from_number\":"
	    "\"14155550199\",\"message_direction\":\"outbound\","
	    "\"message_state\":\"failed\",\"message_time\":"
	    "\"2014-12-05 10:57:54+04:00\",\"message_type\":\"sms\","
	    "\"message_uuid\":\"m-1\",\"to_number\":\"14155550100\","
	    "\"units\":1}";
	ok(pv->read_messages(&a, 200, s, strlen(s), out, NULL, &e) == 1,
	    "a fetched message");
	msg = json_array_get(out, 0);
	is_str(record_str(msg, "id"), "m-1", "its id");
	is_str(record_str(msg, "status"), "failed", "its status");
	is_str(record_str(msg, "to"), "+14155550100", "to, E.164");
	is_int((int)json_integer_value(json_object_get(msg, "created")),
	    1417762674, "message_time with its offset");
	is_str(record_str(json_object_get(msg, "error"), "code"),
	    "opted_out", "error 200: opted out");
	json_array_clear(out);
	ok(pv->read_messages(&a, 404, "{\"error\":\"not found\"}", 21, out,
	    NULL, &e) == 0 && !strcmp(record_str(json_array_get(out, 0),
	    "code"), "not_found"), "404: no such message");
	ok(pv->read_messages(&a, 401, "{}", 2, out, NULL, &e) < 0 &&
	    errno == EACCES, "401: EACCES");
	json_array_clear(out);

	ok(pv->list_request(&a, "+14155550100", NULL, &next) == 0, "a list");
	is_str(next.url.p, "http://127.0.0.1:9/v1/Account/MA0123/Message/"
	    "?message_direction=outbound&limit=20&offset=0",
	    "the account's outbound messages, 20 a page");
	s = "{\"api_id\":\"a\",\"meta\":{\"limit\":20,\"next\":"
	    "\"/v1/Account/MA0123/Message/?limit=20&offset=20\",\"offset\":0,"
	    "\"previous\":null,\"total_count\":41},\"objects\":["
	    "{\"message_uuid\":\"m-2\",\"message_state\":\"delivered\","
	    "\"error_code\":\"000\",\"message_time\":\"2024-01-02 03:04:05\","
	    "\"to_number\":\"14155550100\",\"from_number\":\"14155550199\"},"
	    "{\"message_uuid\":\"m-3\",\"message_state\":\"queued\"}]}";
	ok(pv->read_messages(&a, 200, s, strlen(s), out, &next, &e) == 1 &&
	    json_array_size(out) == 2, "a page of two");
	is_str(record_str(json_array_get(out, 0), "id"), "m-2", "in order");
	ok(json_is_null(json_object_get(json_array_get(out, 0), "error")),
	    "error_code 000: no error");
	is_str(next.url.p, "http://127.0.0.1:9/v1/Account/MA0123/Message/"
	    "?limit=20&offset=20", "the next page: meta.next");
	is_str(next.user, "MA0123", "with the credentials");
	s = "{\"meta\":{\"next\":null},\"objects\":[]}";
	json_array_clear(out);
	ok(pv->read_messages(&a, 200, s, strlen(s), out, &next, &e) == 1 &&
	    next.url.len == 0, "the last page: no next");
	ok(pv->read_messages(&a, 200, "[", 1, out, &next, &e) < 0,
	    "not JSON: an error");
	provider_http_free(&next);
	json_decref(out);
	provider_account_free(&a);
	unsetenv("SMSDESK_PROVIDER");
	config_free(cfg);
}

int
main(void)
{
	pv = provider_find("plivo");
	ok(pv != NULL && pv->reply_to, "Plivo is a provider");
	if (!pv)
		return tap_done();
	test_signature();
	test_parse();
	test_reply();
	test_error_class();
	test_send();
	return tap_done();
}
