/*
 * tests/unit/vonage.c: Vonage's SMS API, both directions: signed
 * webhooks (the known answers of providers.md section 7, checked with
 * @vonage/sms's verifySignature), the timestamp window and the nonce
 * memory, inbound messages and delivery receipts by GET and POST, the
 * error classes, the send request and what each submit answer means.
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

#define SECRET "s3cr3t"
#define TS 1578787200
#define PARAMS "msisdn=447700900001&to=447700900000&" \
	"messageId=0A0000000123ABCD1&text=Hello%26goodbye%3Dx&type=text&" \
	"keyword=HELLO&api-key=abcd1234&" \
	"message-timestamp=2020-01-01_12%3A00%3A00&timestamp=1578787200"
#define NONCE "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
#define MD5HASH "270da357b6bf522483d351176be4230d"
#define SHA256 "79655AA451D1A331C2FC2A3F2E0BD7FFC35B1C16185657CDF08487088" \
	"CD4A42B"

static void
parse_form(struct form *f, const char *body)
{
	struct errbuf e = { "" };

	if (form_parse(f, body, strlen(body), &e) < 0) {
		printf("Bail out! cannot parse %s: %s\n", body, e.msg);
		exit(1);
	}
}

/* verify() of the parameters p, with sig appended, at now. */
static int
check(const char *method, const char *p, const char *sig, time_t now,
    struct errbuf *e)
{
	struct form f;
	char body[2048];
	struct webhook_request rq = { .method = "POST", .now = now,
	    .sig_method = method };
	int r;

	snprintf(body, sizeof body, "%s%s%s", p, sig ? "&sig=" : "",
	    sig ? sig : "");
	parse_form(&f, body);
	rq.form = &f;
	rq.body = body;
	rq.body_len = strlen(body);
	errno = 0;
	r = pv->verify(SECRET, &rq, e);
	form_free(&f);
	return r;
}

static void
test_signature(void)
{
	struct form f;
	struct errbuf e = { "" };
	char sig[129], lower[sizeof SHA256];
	int r;

	parse_form(&f, PARAMS "&nonce=" NONCE);
	ok(vonage_signature(SECRET, "md5hash", &f, sig) == 0 &&
	    strcmp(sig, MD5HASH) == 0, "md5hash: providers.md's vector (%s)",
	    sig);
	ok(vonage_signature(SECRET, NULL, &f, sig) == 0 &&
	    strcmp(sig, MD5HASH) == 0, "no method is md5hash");
	ok(vonage_signature(SECRET, "sha256", &f, sig) == 0 &&
	    strcmp(sig, SHA256) == 0, "sha256 HMAC: providers.md's vector "
	    "(%s)", sig);
	ok(vonage_signature(SECRET, "sha1", &f, sig) == 0 &&
	    strlen(sig) == 40, "sha1 HMAC: 40 hex digits");
	ok(vonage_signature(SECRET, "sha512", &f, sig) == 0 &&
	    strlen(sig) == 128, "sha512 HMAC: 128 hex digits");
	ok(vonage_signature(SECRET, "md5", &f, sig) == 0 &&
	    strlen(sig) == 32 && strcmp(sig, MD5HASH) != 0,
	    "md5 HMAC is not md5hash");
	errno = 0;
	ok(vonage_signature(SECRET, "crc32", &f, sig) == -1 &&
	    errno == EINVAL, "an unknown method: EINVAL");
	form_free(&f);

	r = check("md5hash", PARAMS "&nonce=n1", NULL, TS, &e);
	ok(r == -1 && errno == EINVAL && strstr(e.msg, "missing sig"),
	    "no sig: refused (%s)", e.msg);
	r = check("md5hash", PARAMS "&nonce=" NONCE, MD5HASH, TS + 10, &e);
	ok(r == 0, "md5hash signed request accepted (%s)", e.msg);
	r = check("md5hash", PARAMS "&nonce=" NONCE, MD5HASH, TS + 20, &e);
	ok(r == -1 && errno == EACCES && strstr(e.msg, "replay"),
	    "the same nonce again within the window: refused (%s)", e.msg);
	/* The sha256 vector has the same nonce: a later process's memory. */
	for (size_t i = 0; i < sizeof SHA256; i++)
		lower[i] = (char)(SHA256[i] >= 'A' && SHA256[i] <= 'F' ?
		    SHA256[i] + 32 : SHA256[i]);
	r = check("sha256", PARAMS "&nonce=" NONCE, lower, TS + 2 * 300 + 2,
	    &e);
	ok(r == -1 && errno == EACCES && strstr(e.msg, "more than 300 s"),
	    "a timestamp outside the window: refused (%s)", e.msg);
	r = check("sha256", PARAMS "&nonce=" NONCE, lower, TS - 300, &e);
	ok(r == -1 && errno == EACCES && strstr(e.msg, "replay"),
	    "a nonce remembered for the window (%s)", e.msg);
	r = check("sha256", PARAMS "&nonce=" NONCE, lower, TS + 299 + 302,
	    &e);
	ok(r == -1 && strstr(e.msg, "more than"),
	    "outside the window by 1 s: refused");
	r = check("sha256", PARAMS "&nonce=other", lower, TS, &e);
	ok(r == -1 && errno == EACCES && strstr(e.msg, "does not match"),
	    "another nonce changes the signature (%s)", e.msg);
	r = check("md5hash", PARAMS "&nonce=" NONCE, SHA256, TS, &e);
	ok(r == -1 && errno == EACCES, "the HMAC under md5hash: refused");
	r = check("sha256", PARAMS "&nonce=" NONCE, MD5HASH, TS, &e);
	ok(r == -1 && errno == EACCES, "md5hash under sha256: refused");
	r = check("crc32", PARAMS "&nonce=" NONCE, MD5HASH, TS, &e);
	ok(r == -1 && errno == EINVAL && strstr(e.msg, "crc32"),
	    "an unknown method: refused (%s)", e.msg);
}

/*
 * A listener under load: 150,000 nonces within the window are each
 * taken, and remembered (the memory held 100,000 at most, and looked
 * through all of them for each request); forgotten once two windows have
 * gone by.
 */
static void
test_many_nonces(void)
{
	struct errbuf e = { "" };
	struct form f;
	char p[512], sig[129];
	int n, r = 0;

	for (n = 0; n < 150000 && r == 0; n++) {
		snprintf(p, sizeof p, "%s&nonce=load-%d", PARAMS, n);
		parse_form(&f, p);
		vonage_signature(SECRET, "md5hash", &f, sig);
		form_free(&f);
		r = check("md5hash", p, sig, TS + 100 + n % 200, &e);
	}
	ok(r == 0 && n == 150000, "150,000 nonces in the window: each taken "
	    "(%d: %s)", n, r ? e.msg : "");
	snprintf(p, sizeof p, "%s&nonce=load-%d", PARAMS, 7);
	parse_form(&f, p);
	vonage_signature(SECRET, "md5hash", &f, sig);
	form_free(&f);
	r = check("md5hash", p, sig, TS + 299, &e);
	ok(r == -1 && errno == EACCES && strstr(e.msg, "replay"),
	    "and remembered: one played again is refused (%s)", e.msg);
}

/* A fresh nonce accepted in lowercase and uppercase hex alike. */
static void
test_case(void)
{
	struct form f;
	struct errbuf e = { "" };
	char sig[129], p[1024];
	int r;

	snprintf(p, sizeof p, "%s&nonce=case-1", PARAMS);
	parse_form(&f, p);
	vonage_signature(SECRET, "sha256", &f, sig);
	form_free(&f);
	for (char *c = sig; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c += 32;
	r = check("sha256", p, sig, TS, &e);
	ok(r == 0, "an HMAC in lowercase hex: accepted (%s)", e.msg);
	snprintf(p, sizeof p, "%s&nonce=case-2", PARAMS);
	parse_form(&f, p);
	vonage_signature(SECRET, "md5hash", &f, sig);
	form_free(&f);
	for (char *c = sig; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c -= 32;
	r = check("MD5HASH", p, sig, TS, &e);
	ok(r == 0, "md5hash in uppercase hex: accepted (%s)", e.msg);
}

static int
parse(const char *method, const char *body, struct form *f,
    struct webhook_event *ev, struct errbuf *e)
{
	struct webhook_request rq = { .method = method };

	parse_form(f, body);
	rq.form = f;
	return pv->parse(&rq, ev, e);
}

static void
test_parse(void)
{
	struct webhook_event ev;
	struct errbuf e = { "" };
	struct form f;
	int r;

	r = parse("GET", PARAMS, &f, &ev, &e);
	ok(r == 0 && ev.kind == WEBHOOK_MESSAGE, "GET inbound parsed (%s)",
	    e.msg);
	is_str(ev.id, "0A0000000123ABCD1", "messageId is the id");
	is_str(ev.from, "+447700900001", "msisdn made E.164");
	is_str(ev.to, "+447700900000", "to made E.164");
	is_str(ev.body, "Hello&goodbye=x", "text as it came");
	is_str(ev.status, "received", "received");
	provider_event_free(&ev);
	form_free(&f);

	r = parse("POST", "msisdn=14155550100&to=12025550123&messageId=B1&"
	    "text=part+one&type=text&concat=true&concat-ref=7&"
	    "concat-total=3&concat-part=1", &f, &ev, &e);
	ok(r == 0 && ev.kind == WEBHOOK_MESSAGE && ev.num_segments == 3,
	    "POST inbound, a part of three (%s)", e.msg);
	is_str(ev.from, "+14155550100", "from");
	is_str(ev.body, "part one", "its text");
	provider_event_free(&ev);
	form_free(&f);

	r = parse("POST", "msisdn=short&to=12025550123&text=x", &f, &ev, &e);
	ok(r == -1 && errno == EINVAL && strstr(e.msg, "messageId"),
	    "no messageId: refused (%s)", e.msg);
	provider_event_free(&ev);
	form_free(&f);

	r = parse("GET", "msisdn=447700900001&to=AcmeInc&network-code=23410&"
	    "messageId=0A0000000123ABCD1&price=0.0333&status=delivered&"
	    "scts=2001011400&err-code=0&client-ref=m1&"
	    "message-timestamp=2020-01-01+14%3A00%3A00", &f, &ev, &e);
	ok(r == 0 && ev.kind == WEBHOOK_STATUS, "a receipt (%s)", e.msg);
	is_str(ev.status, "delivered", "delivered");
	ok(ev.error_code == NULL, "err-code 0 is no error");
	is_str(ev.to, "+447700900001", "the recipient is msisdn");
	is_str(ev.from, "AcmeInc", "the sender as it came");
	provider_event_free(&ev);
	form_free(&f);

	r = parse("POST", "msisdn=447700900001&to=447700900000&"
	    "messageId=X2&status=failed&err-code=9", &f, &ev, &e);
	ok(r == 0 && ev.kind == WEBHOOK_STATUS, "a failed receipt");
	is_str(ev.status, "undelivered", "failed is undelivered");
	is_str(ev.error_code, "9", "err-code 9");
	is_str(pv->error_class(0, ev.error_code), "opted_out",
	    "err-code 9 is an opt-out");
	provider_event_free(&ev);
	form_free(&f);

	r = parse("POST", "msisdn=447700900001&to=447700900000&"
	    "messageId=X3&status=rejected&err-code=6", &f, &ev, &e);
	is_str(ev.status, "failed", "rejected is failed");
	provider_event_free(&ev);
	form_free(&f);
	r = parse("POST", "msisdn=447700900001&to=447700900000&"
	    "messageId=X3&status=accepted", &f, &ev, &e);
	is_str(ev.status, "sent", "accepted is sent");
	provider_event_free(&ev);
	form_free(&f);
}

static void
test_classes(void)
{
	is_str(pv->error_class(200, "1"), "throttled", "submit 1");
	is_str(pv->error_class(200, "5"), "transient", "submit 5");
	is_str(pv->error_class(200, "4"), "auth", "submit 4");
	is_str(pv->error_class(200, "3"), "permanent", "submit 3");
	is_str(pv->error_class(200, "6"), "invalid_recipient", "submit 6 "
	    "(unroutable: no network has the number)");
	is_str(pv->error_class(200, "15"), "permanent", "submit 15");
	is_str(pv->error_class(200, "9"), "auth", "submit 9 (quota) is not "
	    "an opt-out");
	is_str(pv->error_class(200, "29"), "invalid_recipient", "submit 29");
	is_str(pv->error_class(0, "9"), "opted_out", "receipt 9");
	is_str(pv->error_class(0, "2"), "transient", "receipt 2");
	is_str(pv->error_class(0, "3"), "invalid_recipient", "receipt 3");
	is_str(pv->error_class(0, "99"), "permanent", "receipt 99");
}

static void
test_reply(void)
{
	struct buf out = { 0 };
	struct errbuf e = { "" };
	const char *ct = NULL;

	ok(pv->reply(NULL, 0, &out, &ct, &e) == 0 && out.len == 0 && ct,
	    "the answer is empty");
	ok(pv->replies == 0, "no replies in the answer");
	buf_free(&out);
}

static void
test_send(void)
{
	struct config *cfg = config_new();
	struct provider_account a = { .pv = pv };
	struct provider_http rq = { 0 };
	struct errbuf e = { "" };
	json_t *msg;

	setenv("VONAGE_API_KEY", "abcd1234", 1);
	setenv("VONAGE_API_SECRET", "sec ret", 1);
	setenv("VONAGE_FROM", "+447700900000", 1);
	setenv("VONAGE_API_URL", "http://127.0.0.1:9", 1);
	setenv("SMSDESK_PUBLIC_URL", "https://hooks.example/", 1);
	ok(pv->account(&a, cfg, NULL, NULL, 1, &e) == 0, "account (%s)",
	    e.msg);
	is_str(a.callback, "https://hooks.example/vonage", "callback");
	msg = json_pack("{s:s, s:s, s:s}", "to", "+14155550100", "body",
	    "caf\xc3\xa9 \xe2\x9c\x93", "id", "m-1");
	ok(pv->send_request(&a, msg, &rq) == 0, "send request");
	is_str(rq.url.p, "http://127.0.0.1:9/sms/json", "its URL");
	is_str(rq.body.p, "api_key=abcd1234&api_secret=sec+ret&"
	    "from=447700900000&to=14155550100&"
	    "text=caf%C3%A9+%E2%9C%93&type=unicode&"
	    "callback=https%3A%2F%2Fhooks.example%2Fvonage&"
	    "status-report-req=1&client-ref=m-1", "its form");
	provider_http_free(&rq);
	json_decref(msg);
	msg = json_pack("{s:s, s:s}", "to", "+14155550100", "body", "hi");
	pv->send_request(&a, msg, &rq);
	ok(strstr(rq.body.p, "type=") == NULL, "GSM-7 text: no type");
	provider_http_free(&rq);
	json_decref(msg);
	free(a.callback);
	unsetenv("VONAGE_API_KEY");
	memset(&a, 0, sizeof a);
	errno = 0;
	ok(pv->account(&a, cfg, NULL, NULL, 1, &e) == -1 && errno == EINVAL &&
	    strstr(e.msg, "VONAGE_API_KEY"), "no key: %s", e.msg);
	free(a.callback);
	config_free(cfg);
}

static void
answer(const char *body, struct provider_answer *an)
{
	pv->send_answer(200, 0, body, strlen(body), an);
}

static void
test_answer(void)
{
	struct provider_answer an;

	answer("{\"message-count\":\"1\",\"messages\":[{\"to\":\"447700900000\","
	    "\"message-id\":\"0A0000000123ABCD1\",\"status\":\"0\","
	    "\"remaining-balance\":\"3.14159265\",\"message-price\":"
	    "\"0.03330000\",\"network\":\"12345\"}]}", &an);
	ok(an.outcome == PROVIDER_TAKEN && an.nids == 1, "one part: taken");
	is_str(an.id, "0A0000000123ABCD1", "its id");
	is_str(an.status, "queued", "queued");
	answer("{\"message-count\":\"3\",\"messages\":["
	    "{\"message-id\":\"V1\",\"status\":\"0\"},"
	    "{\"message-id\":\"V2\",\"status\":\"0\"},"
	    "{\"message-id\":\"V3\",\"status\":\"0\"}]}", &an);
	ok(an.outcome == PROVIDER_TAKEN && an.nids == 3, "three parts: "
	    "taken, three ids");
	is_str(an.id, "V1", "the first part's id is the message's");
	is_str(an.ids[1], "V2", "the second's kept");
	is_str(an.ids[2], "V3", "the third's kept");
	answer("{\"message-count\":\"1\",\"messages\":[{\"status\":\"1\","
	    "\"error-text\":\"Throughput Rate Exceeded\"}]}", &an);
	ok(an.outcome == PROVIDER_RETRY, "status 1: to retry");
	is_str(an.class, "throttled", "throttled");
	ok(an.code == 1, "code 1");
	answer("{\"message-count\":\"1\",\"messages\":[{\"status\":\"2\","
	    "\"error-text\":\"Missing to param\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED && an.code == 2, "status 2: failed");
	is_str(an.class, "permanent", "permanent");
	is_str(an.message, "Missing to param", "with its error-text");
	answer("{\"message-count\":\"1\",\"messages\":[{\"status\":\"5\","
	    "\"error-text\":\"Internal Error\"}]}", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "status 5: unknown (parts may "
	    "have gone)");
	answer("{\"message-count\":\"2\",\"messages\":["
	    "{\"message-id\":\"V1\",\"status\":\"0\"},"
	    "{\"status\":\"1\",\"error-text\":\"Throttled\"}]}", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "one part taken, one throttled: "
	    "unknown, never sent again");
	answer("{\"message-count\":\"1\",\"messages\":[{\"status\":\"4\","
	    "\"error-text\":\"Bad Credentials\"}]}", &an);
	ok(an.outcome == PROVIDER_FAILED, "status 4: failed");
	is_str(an.class, "auth", "auth");
	answer("{\"status\":\"2\",\"error-text\":\"Missing to param\"}",
	    &an);
	ok(an.outcome == PROVIDER_FAILED && an.code == 2 &&
	    strcmp(an.message, "Missing to param") == 0,
	    "a status without a list of parts: refused as it says");
	answer("{\"status\":\"1\",\"error-text\":\"Throttled\"}", &an);
	ok(an.outcome == PROVIDER_RETRY, "status 1 without a list: retry");
	answer("not json", &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "a 200 that is not Vonage's: "
	    "unknown");
	pv->send_answer(401, 0, "", 0, &an);
	ok(an.outcome == PROVIDER_FAILED && strcmp(an.class, "auth") == 0,
	    "a 401: auth");
	pv->send_answer(503, 0, "", 0, &an);
	ok(an.outcome == PROVIDER_UNKNOWN, "a 503: unknown");
	ok(pv->fetch_request == NULL && pv->list_request == NULL,
	    "no message lookup in the SMS API");
}

int
main(void)
{
	pv = provider_find("vonage");
	if (!pv) {
		printf("Bail out! no provider vonage\n");
		return 1;
	}
	test_signature();
	test_case();
	test_parse();
	test_classes();
	test_many_nonces();
	test_reply();
	test_send();
	test_answer();
	return tap_done();
}
