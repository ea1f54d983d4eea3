/*
 * tests/unit/provider-send.c: the sending side of the provider interface,
 * through Twilio's file: the account from the environment names its tools
 * use, the request that sends a message, what each answer means (the
 * taxonomy, retry or not, taken or unknown), and the messages a fetch or a
 * list gives back, in the toolkit's words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "provider.h"
#include "tap.h"

static const struct provider *tw;

static void
account(void)
{
	struct config *cfg = config_new();
	struct provider_account a;
	struct errbuf e;

	unsetenv("TWILIO_API_KEY");
	unsetenv("TWILIO_MESSAGING_SERVICE_SID");
	unsetenv("SMSDESK_PROVIDER");
	unsetenv("TWILIO_ACCOUNT_SID");
	setenv("TWILIO_FROM", "+15550100000", 1);
	setenv("SMSDESK_PUBLIC_URL", "https://desk.example.com/", 1);
	ok(provider_account(&a, cfg, NULL, NULL, 1, &e) < 0 &&
	    errno == EINVAL && strstr(e.msg, "TWILIO_ACCOUNT_SID"),
	    "no account: refused, naming what to set");
	provider_account_free(&a);
	setenv("TWILIO_ACCOUNT_SID", "AC0123", 1);
	setenv("TWILIO_AUTH_TOKEN", "secret", 1);
	setenv("TWILIO_API_URL", "http://127.0.0.1:9", 1);
	ok(provider_account(&a, cfg, NULL, NULL, 1, &e) == 0, "an account");
	ok(a.pv == tw, "the default provider is the first of the table");
	is_str(a.user, "AC0123", "Basic auth: the account");
	is_str(a.pass, "secret", "and its token");
	is_str(a.from, "+15550100000", "the sender from TWILIO_FROM");
	is_str(a.callback, "https://desk.example.com/twilio",
	    "the status callback: the public URL and the provider's path");
	provider_account_free(&a);
	ok(provider_account(&a, cfg, NULL, "MG42", 1, &e) == 0 &&
	    !a.from && a.service && strcmp(a.service, "MG42") == 0,
	    "a messaging service given beats the configured number");
	provider_account_free(&a);
	setenv("SMSDESK_PROVIDER", "pigeon", 1);
	ok(provider_account(&a, cfg, NULL, NULL, 1, &e) < 0 &&
	    errno == ENOENT, "an unknown provider: ENOENT (%s)", e.msg);
	unsetenv("SMSDESK_PROVIDER");
	config_free(cfg);
}

static void
request(void)
{
	struct provider_account a = { .pv = tw,
		.base = "http://127.0.0.1:9", .account = "AC0123",
		.user = "AC0123", .pass = "secret", .from = "+15550100000",
		.callback = "https://d.example/twilio" };
	struct provider_http rq = { 0 };
	json_t *msg = json_pack("{s:s, s:s}", "to", "+15551230001", "body",
	    "Hi & bye, 100% sure");

	ok(tw->send_request(&a, msg, &rq) == 0, "a send request");
	ok(rq.post, "a POST");
	is_str(rq.url.p,
	    "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/Messages.json",
	    "to the account's Messages");
	is_str(rq.body.p, "To=%2B15551230001&From=%2B15550100000&"
	    "Body=Hi+%26+bye%2C+100%25+sure&"
	    "StatusCallback=https%3A%2F%2Fd.example%2Ftwilio",
	    "the form, every value encoded");
	is_str(rq.content_type, "application/x-www-form-urlencoded",
	    "as a form");
	is_str(rq.user, "AC0123", "with the account's Basic auth");
	provider_http_free(&rq);
	a.from = NULL;
	a.service = "MG42";
	a.callback = NULL;
	ok(tw->send_request(&a, msg, &rq) == 0 &&
	    strcmp(rq.body.p, "To=%2B15551230001&MessagingServiceSid=MG42&"
	    "Body=Hi+%26+bye%2C+100%25+sure") == 0,
	    "from a messaging service, without a callback: %s", rq.body.p);
	provider_http_free(&rq);
	ok(tw->fetch_request(&a, "SM1/2", &rq) == 0 && !rq.post &&
	    strcmp(rq.url.p, "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/"
	    "Messages/SM1%2F2.json") == 0, "a fetch, the id encoded: %s",
	    rq.url.p);
	provider_http_free(&rq);
	ok(tw->list_request(&a, "+15551230001", NULL, &rq) == 0 &&
	    strcmp(rq.url.p, "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/"
	    "Messages.json?PageSize=1000&To=%2B15551230001") == 0,
	    "a list of the messages to a number: %s", rq.url.p);
	provider_http_free(&rq);
	ok(tw->list_request(&a, "+15551230001", "whatsapp", &rq) == 0 &&
	    strcmp(rq.url.p, "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/"
	    "Messages.json?PageSize=1000&To=whatsapp%3A%2B15551230001") == 0,
	    "a list of the WhatsApp messages to a number: %s", rq.url.p);
	provider_http_free(&rq);
	json_decref(msg);
}

#define A(http, ra, body) \
	tw->send_answer(http, ra, body, strlen(body), &an)

static void
answers(void)
{
	struct provider_answer an;

	A(201, 0, "{\"sid\":\"SM0123\",\"status\":\"queued\",\"to\":\"x\"}");
	ok(an.outcome == PROVIDER_TAKEN && strcmp(an.id, "SM0123") == 0 &&
	    strcmp(an.status, "queued") == 0, "201: taken, with its sid");
	A(201, 0, "{\"status\":\"queued\",\n\"sid\":\"SM\\u0030\"}");
	ok(an.outcome == PROVIDER_TAKEN && strcmp(an.id, "SM0") == 0,
	    "an answer written otherwise is parsed: %s", an.id);
	A(200, 0, "{\"status\":\"queued\"}");
	ok(an.outcome == PROVIDER_UNKNOWN && strcmp(an.class, "unknown") == 0,
	    "200 without a sid: unknown, never sent again blindly");
	A(429, 0, "{\"code\":20429,\"message\":\"Too Many Requests\"}");
	ok(an.outcome == PROVIDER_RETRY && strcmp(an.class, "throttled") == 0 &&
	    an.code == 20429, "429: throttled, to retry");
	A(503, 2, "{}");
	ok(an.outcome == PROVIDER_RETRY, "503 with a Retry-After: to retry");
	A(503, 0, "{}");
	ok(an.outcome == PROVIDER_UNKNOWN, "503 without one: unknown");
	A(500, 0, "not json");
	ok(an.outcome == PROVIDER_UNKNOWN && strcmp(an.class, "unknown") == 0,
	    "500: unknown");
	A(400, 0, "{\"code\":21211,\"message\":\"Invalid 'To'\"}");
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "invalid_recipient") == 0 && an.code == 21211 &&
	    strcmp(an.message, "Invalid 'To'") == 0,
	    "400 21211: failed, invalid_recipient, with Twilio's words");
	A(400, 0, "{\"code\":21610,\"message\":\"unsubscribed\"}");
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "opted_out") == 0, "21610: opted_out");
	A(401, 0, "{\"code\":20003}");
	ok(an.outcome == PROVIDER_FAILED && strcmp(an.class, "auth") == 0,
	    "401: auth");
	A(400, 0, "");
	ok(an.outcome == PROVIDER_FAILED &&
	    strcmp(an.class, "permanent") == 0 && an.code == 0,
	    "400 without a body: permanent");
}

static void
messages(void)
{
	struct provider_account a = { .pv = tw, .base = "http://h",
		.account = "AC1", .user = "AC1", .pass = "p" };
	struct provider_http next = { 0 };
	struct errbuf e;
	json_t *out = json_array();
	const char *one = "{\"sid\":\"SM1\",\"status\":\"undelivered\","
	    "\"to\":\"+1555\",\"from\":\"+1444\",\"body\":\"hi\","
	    "\"date_created\":\"Thu, 24 Aug 2023 05:01:45 +0000\","
	    "\"error_code\":30003,\"error_message\":\"Unreachable\"}";
	const char *wa = "{\"sid\":\"SM2\",\"to\":\"whatsapp:+1555\","
	    "\"from\":\"whatsapp:+1444\"}";
	char page[1024];
	json_t *m;

	ok(tw->read_messages(&a, 200, one, strlen(one), out, NULL, &e) == 1,
	    "a fetched message");
	m = json_array_get(out, 0);
	is_str(json_string_value(json_object_get(m, "id")), "SM1", "its id");
	is_str(json_string_value(json_object_get(m, "status")), "undelivered",
	    "its status");
	is_int(json_integer_value(json_object_get(m, "created")), 1692853305,
	    "its creation, from RFC 2822");
	is_str(json_string_value(json_object_get(json_object_get(m, "error"),
	    "code")), "transient", "its error in the taxonomy (30003)");
	json_array_clear(out);
	ok(tw->read_messages(&a, 200, wa, strlen(wa), out, NULL, &e) == 1,
	    "a WhatsApp message");
	m = json_array_get(out, 0);
	is_str(json_string_value(json_object_get(m, "to")), "+1555",
	    "its to, the number of whatsapp:+E164");
	is_str(json_string_value(json_object_get(m, "from")), "+1444",
	    "its from too");
	json_array_clear(out);
	ok(tw->read_messages(&a, 404, "{\"code\":20404}", 14, out, NULL, &e)
	    == 0 && json_integer_value(json_object_get(json_array_get(out, 0),
	    "provider_code")) == 20404, "a 404: no such message, 20404 kept");
	json_array_clear(out);
	ok(tw->read_messages(&a, 401, "{}", 2, out, NULL, &e) < 0 &&
	    errno == EACCES, "a 401: EACCES");
	snprintf(page, sizeof page, "{\"messages\":[%s,{\"no\":\"sid\"}],"
	    "\"next_page_uri\":\"/2010-04-01/Accounts/AC1/Messages.json?"
	    "Page=1\"}", one);
	ok(tw->read_messages(&a, 200, page, strlen(page), out, &next, &e) == 1
	    && json_array_size(out) == 1, "a page: its messages with an id");
	is_str(next.url.p, "http://h/2010-04-01/Accounts/AC1/Messages.json?"
	    "Page=1", "and the next page's request");
	json_array_clear(out);
	ok(tw->read_messages(&a, 200, "{\"messages\":[]}", 15, out, &next,
	    &e) == 1 && next.url.len == 0, "the last page: no next");
	ok(tw->read_messages(&a, 200, "[", 1, out, &next, &e) < 0,
	    "a list that is not JSON: an error (%s)", e.msg);
	provider_http_free(&next);
	json_decref(out);
}

/* Polling: the list request, and what a page says of each message. */
static void
polling(void)
{
	struct provider_account a = { .pv = tw, .base = "http://h",
		.account = "AC1", .user = "AC1", .pass = "p" };
	struct provider_http rq = { 0 };
	struct errbuf e;
	json_t *out = json_array(), *m;
	const char *page = "{\"messages\":[{\"sid\":\"SM2\","
	    "\"status\":\"received\",\"direction\":\"inbound\","
	    "\"to\":\"+1555\",\"from\":\"+1444\",\"body\":\"hi\","
	    "\"num_segments\":\"2\",\"error_code\":null,"
	    "\"date_created\":\"Thu, 24 Aug 2023 05:01:45 +0000\","
	    "\"date_sent\":\"Thu, 24 Aug 2023 05:01:46 +0000\"},"
	    "{\"sid\":\"SM3\",\"status\":\"queued\","
	    "\"direction\":\"outbound-api\",\"date_sent\":null}],"
	    "\"next_page_uri\":null}";

	ok(tw->poll_request && tw->poll_request(&a, 1692853305, 2, &rq) == 0,
	    "a poll request");
	is_str(rq.url.p, "http://h/2010-04-01/Accounts/AC1/Messages.json?"
	    "PageSize=2&DateSent%3E=2023-08-24", "both directions, sent on or "
	    "after the day, '>' URL-encoded");
	ok(rq.user && strcmp(rq.user, "AC1") == 0 && !rq.post, "a GET, with "
	    "the account's credentials");
	provider_http_free(&rq);
	ok(tw->poll_request(&a, 0, 0, &rq) == 0 && strstr(rq.url.p,
	    "PageSize=1000&DateSent%3E=1970-01-01"), "page size 0: Twilio's "
	    "largest, 1000");
	ok(tw->read_messages(&a, 200, page, strlen(page), out, &rq, &e) == 1 &&
	    json_array_size(out) == 2 && rq.url.len == 0, "a page of two, "
	    "the last");
	m = json_array_get(out, 0);
	is_str(json_string_value(json_object_get(m, "direction")), "in",
	    "inbound: direction in");
	is_int(json_integer_value(json_object_get(m, "sent")), 1692853306,
	    "its date_sent, from RFC 2822");
	is_int(json_integer_value(json_object_get(m, "segments")), 2,
	    "num_segments, a string, read as a number");
	m = json_array_get(out, 1);
	is_str(json_string_value(json_object_get(m, "direction")), "out",
	    "outbound-api: direction out");
	is_int(json_integer_value(json_object_get(m, "sent")), -1,
	    "not sent yet: -1");
	provider_http_free(&rq);
	json_decref(out);
}

int
main(void)
{
	tw = provider_find("twilio");
	ok(tw && tw->send_request && tw->send_answer && tw->read_messages,
	    "Twilio can send");
	if (!tw)
		return tap_done();
	account();
	request();
	answers();
	messages();
	polling();
	return tap_done();
}
