/*
 * tests/unit/twilio.c: Twilio webhook signatures, parsing and TwiML.
 *
 * The signatures are the known answers of providers.md section 7, which
 * were checked with Twilio's own validator (twilio 6.2.0). The mutation
 * test then changes every byte of the 127.0.0.1 request in turn, to every
 * other value, and expects each change to be refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "form.h"
#include "provider.h"
#include "tap.h"

static const struct provider *tw;

/* Twilio's documented example. */
#define DOC_TOKEN "12345"
#define DOC_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define DOC_BODY "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&" \
	"Digits=1234&From=%2B12349013030&To=%2B18005551212"
#define DOC_SIG "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

/* Repeated names, an empty value, byte order and UTF-8. */
#define LOC_TOKEN "tok"
#define LOC_URL "http://127.0.0.1:8080/sms"
#define LOC_BODY "Body=Hello+world+%C3%A9&MediaUrl0=&To=%2B1555&" \
	"To=%2B1444&a=1&Z=2"
#define LOC_SIG "wJYGO4Za8tT6TO6fEpRltuZWm1g="

/* A JSON body, signed through bodySHA256 in the URL. */
#define JSON_TOKEN "tok"
#define JSON_BODY "{\"MessageSid\":\"SM123\",\"Body\":\"hi\"}"
#define JSON_HASH \
	"697f82c81315066e804af13ce273c19216a917f5ef0d75829bb300d46773e1c7"
#define JSON_URL "https://example.com/hook?bodySHA256=" JSON_HASH
#define JSON_SIG "41rwzl0IaV0h38pWldZlJtPW5Ho="

static void
parse_form(struct form *f, const char *body)
{
	struct errbuf e = { "" };

	if (form_parse(f, body, strlen(body), &e) < 0) {
		printf("Bail out! cannot parse %s: %s\n", body, e.msg);
		exit(1);
	}
}

/* A POST of form f (raw body body) to url with signature sig. */
static struct webhook_request
post(const char *url, const char *body, const struct form *f,
    const char *sig)
{
	struct webhook_request rq = {
		.method = "POST",
		.url = url,
		.content_type = "application/x-www-form-urlencoded; "
		    "charset=UTF-8",
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.form = f,
		.sig = { sig },
	};

	return rq;
}

/* Verify; on failure check errno and that the message holds gist. */
static void
verify(const char *token, const struct webhook_request *rq, int want_errno,
    const char *gist, const char *what)
{
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = tw->verify(token, rq, &e);
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
	struct form f, g;
	struct webhook_request rq;
	char sig[29];

	parse_form(&f, DOC_BODY);
	ok(twilio_signature(DOC_TOKEN, DOC_URL, &f, sig) == 0,
	    "twilio_signature succeeds");
	is_str(sig, DOC_SIG, "Twilio's documented example");
	rq = post(DOC_URL, DOC_BODY, &f, DOC_SIG);
	verify(DOC_TOKEN, &rq, 0, NULL, "the documented example");
	rq.url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
	verify(DOC_TOKEN, &rq, 0, NULL, "the same URL with :443");
	rq.url = "HTTPS://mycompany.com:443/myapp.php?foo=1&bar=2";
	verify(DOC_TOKEN, &rq, EACCES, "does not match",
	    "a scheme in another case (a different URL)");
	rq.url = "https://mycompany.com/myapp.php?bar=2&foo=1";
	verify(DOC_TOKEN, &rq, EACCES, "X-Twilio-Signature does not match",
	    "the query reordered");
	rq.url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
	verify(DOC_TOKEN, &rq, EACCES, "does not match", "another port");
	rq.url = "http://mycompany.com/myapp.php?foo=1&bar=2";
	verify(DOC_TOKEN, &rq, EACCES, "does not match", "http for https");
	rq.url = "https://mycompany.com/myapp.php?foo=1&bar=%32";
	verify(DOC_TOKEN, &rq, EACCES, "does not match",
	    "the query re-encoded");
	rq.url = DOC_URL;
	verify("12346", &rq, EACCES, "does not match", "another token");

	/* Signed with the port, checked against the URL without it. */
	ok(twilio_signature(DOC_TOKEN,
	    "https://mycompany.com:443/myapp.php?foo=1&bar=2", &f, sig) == 0 &&
	    strcmp(sig, DOC_SIG) != 0, "the port changes the signature");
	rq.sig[0] = sig;
	verify(DOC_TOKEN, &rq, 0, NULL, "a signature made with :443");
	form_free(&f);

	parse_form(&f, "a=1");
	twilio_signature("k", "http://example.com:80/x", &f, sig);
	rq = post("http://example.com/x", "a=1", &f, sig);
	verify("k", &rq, 0, NULL, "http without :80, signed with it");
	rq.url = "http://example.com:80/x";
	verify("k", &rq, 0, NULL, "http with :80");
	rq.url = "http://user@example.com/x";
	verify("k", &rq, EACCES, "does not match", "a URL with user info");
	twilio_signature("k", "http://[::1]/x", &f, sig);
	rq.url = "http://[::1]:80/x";
	verify("k", &rq, 0, NULL, "an IPv6 host with :80");
	form_free(&f);

	parse_form(&f, LOC_BODY);
	twilio_signature(LOC_TOKEN, LOC_URL, &f, sig);
	is_str(sig, LOC_SIG, "repeated names, an empty value, byte order");
	rq = post(LOC_URL, LOC_BODY, &f, LOC_SIG);
	verify(LOC_TOKEN, &rq, 0, NULL, "the 127.0.0.1 vector");
	rq.url = "http://127.0.0.1:80/sms";
	verify(LOC_TOKEN, &rq, EACCES, "does not match",
	    "the 127.0.0.1 vector on another port");
	rq.url = "http://127.0.0.1/sms";
	verify(LOC_TOKEN, &rq, EACCES, "does not match",
	    "the 127.0.0.1 vector without its port");

	parse_form(&g, "Z=2&a=1&To=%2B1444&MediaUrl0&Body=Hello%20world%20"
	    "%c3%a9&To=%2B1555&To=%2B1444");
	twilio_signature(LOC_TOKEN, LOC_URL, &g, sig);
	is_str(sig, LOC_SIG, "order of the body and duplicate pairs count not");
	form_free(&g);
	parse_form(&g, "Body=Hello+world+%C3%A9&MediaUrl0=&To=%2B1555&a=1&Z=2");
	twilio_signature(LOC_TOKEN, LOC_URL, &g, sig);
	ok(strcmp(sig, LOC_SIG) != 0, "a repeated value left out changes it");
	form_free(&g);
	parse_form(&g, LOC_BODY "&Extra=");
	rq.url = LOC_URL;
	rq.form = &g;
	verify(LOC_TOKEN, &rq, EACCES, "does not match",
	    "a parameter added, even an empty one");
	form_free(&g);
	form_free(&f);
}

static void
test_json(void)
{
	struct webhook_request rq = {
		.method = "POST",
		.url = JSON_URL,
		.content_type = "application/json",
		.body = JSON_BODY,
		.body_len = sizeof JSON_BODY - 1,
		.sig = { JSON_SIG },
	};
	char sig[29];

	twilio_signature(JSON_TOKEN, JSON_URL, NULL, sig);
	is_str(sig, JSON_SIG, "the JSON vector signs the URL alone");
	verify(JSON_TOKEN, &rq, 0, NULL, "the JSON vector");
	rq.content_type = "Application/JSON; charset=utf-8";
	verify(JSON_TOKEN, &rq, 0, NULL, "the JSON vector with a charset");
	rq.url = "https://example.com:443/hook?bodySHA256=" JSON_HASH;
	verify(JSON_TOKEN, &rq, 0, NULL, "the JSON vector with :443");
	rq.url = JSON_URL;
	rq.body = JSON_BODY " ";
	rq.body_len = sizeof JSON_BODY;
	verify(JSON_TOKEN, &rq, EACCES, "body does not match bodySHA256",
	    "the JSON body with one byte more");
	rq.body = JSON_BODY;
	rq.body_len = sizeof JSON_BODY - 2;
	verify(JSON_TOKEN, &rq, EACCES, "body does not match bodySHA256",
	    "the JSON body with one byte less");
	rq.body_len = sizeof JSON_BODY - 1;
	rq.url = "https://example.com/hook";
	verify(JSON_TOKEN, &rq, EINVAL, "no bodySHA256",
	    "a JSON body without bodySHA256");
	rq.url = "https://example.com/hook?bodySHA256=697f";
	verify(JSON_TOKEN, &rq, EINVAL, "not a SHA-256",
	    "a short bodySHA256");
	rq.url = JSON_URL;
	rq.sig[0] = "41rwzl0IaV0h38pWldZlJtPW5Hp=";
	verify(JSON_TOKEN, &rq, EACCES, "does not match",
	    "the JSON vector with another signature");
}

static void
test_get(void)
{
	static const char url[] =
	    "https://example.com/sms?MessageSid=SM1&From=%2B1555";
	struct form q;
	struct webhook_request rq;
	char sig[29];

	parse_form(&q, "MessageSid=SM1&From=%2B1555");
	twilio_signature("tok", url, NULL, sig);
	rq = post(url, NULL, &q, sig);
	rq.method = "GET";
	rq.content_type = NULL;
	verify("tok", &rq, 0, NULL, "a GET, signed over its URL alone");
	rq.method = "POST";
	verify("tok", &rq, EACCES, "does not match",
	    "the same as a POST with those parameters");
	form_free(&q);
}

static void
test_refusals(void)
{
	struct form f;
	struct webhook_request rq;

	parse_form(&f, LOC_BODY);
	rq = post(LOC_URL, LOC_BODY, &f, NULL);
	verify(LOC_TOKEN, &rq, EINVAL, "missing X-Twilio-Signature",
	    "no signature header");
	rq.sig[0] = "";
	verify(LOC_TOKEN, &rq, EACCES, "does not match", "an empty signature");
	rq.sig[0] = LOC_SIG "=";
	verify(LOC_TOKEN, &rq, EACCES, "does not match",
	    "a signature with a byte more");
	rq.sig[0] = "wJYGO4Za8tT6TO6fEpRltuZWm1g";
	verify(LOC_TOKEN, &rq, EACCES, "does not match",
	    "a signature with a byte less");
	rq.sig[0] = LOC_SIG;
	verify("", &rq, EINVAL, "no auth token", "an empty token");
	verify(NULL, &rq, EINVAL, "no auth token", "no token");
	rq.url = NULL;
	verify(LOC_TOKEN, &rq, EINVAL, "no public URL", "no URL");
	rq.url = LOC_URL;
	rq.form = NULL;
	verify(LOC_TOKEN, &rq, EINVAL, "without form parameters",
	    "a POST that is neither form nor JSON");
	form_free(&f);
}

/* Count the variants of one byte that verification still accepts. */
static int
survivors(unsigned char *p, struct webhook_request *rq)
{
	struct errbuf e;
	unsigned char orig = *p;
	int n = 0;

	for (int v = 0; v < 256; v++) {
		if (v == orig)
			continue;
		*p = (unsigned char)v;
		if (tw->verify(LOC_TOKEN, rq, &e) == 0)
			n++;
	}
	*p = orig;
	return n;
}

static void
test_mutation(void)
{
	char url[] = LOC_URL, sig[] = LOC_SIG;
	struct form f;
	struct webhook_request rq;
	struct errbuf e;
	size_t tried = 0;
	int bad = 0;

	parse_form(&f, LOC_BODY);
	rq = post(url, LOC_BODY, &f, sig);
	ok(tw->verify(LOC_TOKEN, &rq, &e) == 0,
	    "the unchanged request is accepted");
	for (size_t i = 0; i < sizeof url - 1; i++, tried++)
		bad += survivors((unsigned char *)&url[i], &rq);
	ok(bad == 0, "no change to a byte of the URL is accepted (%zu bytes)",
	    tried);
	tried = bad = 0;
	for (size_t i = 0; i < sizeof sig - 1; i++, tried++)
		bad += survivors((unsigned char *)&sig[i], &rq);
	ok(bad == 0, "no change to a byte of the signature is accepted "
	    "(%zu bytes)", tried);
	tried = bad = 0;
	for (size_t k = 0; k < f.n; k++)
		for (size_t i = 0; i < f.pairs[k].name_len; i++, tried++)
			bad += survivors((unsigned char *)&f.pairs[k].name[i],
			    &rq);
	ok(bad == 0, "no change to a byte of a name is accepted (%zu bytes)",
	    tried);
	tried = bad = 0;
	for (size_t k = 0; k < f.n; k++)
		for (size_t i = 0; i < f.pairs[k].value_len; i++, tried++)
			bad += survivors((unsigned char *)&f.pairs[k].value[i],
			    &rq);
	ok(bad == 0, "no change to a byte of a value is accepted "
	    "(%zu bytes)", tried);
	ok(tw->verify(LOC_TOKEN, &rq, &e) == 0,
	    "the request is accepted again once restored");
	form_free(&f);
}

/* NumMedia=N: N items, MediaUrl{i} and MediaContentType{i}, in order. */
static void
test_parse_media(void)
{
	static const char three[] = "MessageSid=MM1&From=%2B15551234567&"
	    "To=%2B15557654321&Body=&NumMedia=3&"
	    "MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fa%2FMedia%2FME0&"
	    "MediaContentType0=image%2Fjpeg&"
	    "MediaContentType2=application%2Fpdf&"
	    "MediaUrl2=https%3A%2F%2Fapi.twilio.com%2Fa%2FMedia%2FME2&"
	    "MediaUrl1=https%3A%2F%2Fapi.twilio.com%2Fa%2FMedia%2FME1";
	struct form f;
	struct webhook_request rq;
	struct webhook_event ev;
	struct errbuf e = { "" };

	parse_form(&f, three);
	rq = post(LOC_URL, three, &f, NULL);
	ok(tw->parse(&rq, &ev, &e) == 0, "a message with 3 media parses (%s)",
	    e.msg);
	is_int(ev.num_media, 3, "NumMedia=3: three items");
	is_str(ev.media[0].url, "https://api.twilio.com/a/Media/ME0",
	    "MediaUrl0");
	is_str(ev.media[0].content_type, "image/jpeg", "MediaContentType0");
	is_str(ev.media[1].url, "https://api.twilio.com/a/Media/ME1",
	    "MediaUrl1, in the provider's order");
	ok(ev.media[1].content_type == NULL,
	    "no MediaContentType1: NULL (unknown)");
	is_str(ev.media[2].url, "https://api.twilio.com/a/Media/ME2",
	    "MediaUrl2");
	is_str(ev.media[2].content_type, "application/pdf",
	    "MediaContentType2");
	form_free(&f);

	parse_form(&f, "MessageSid=SM1&From=%2B1555&To=%2B1666&Body=hi&"
	    "NumMedia=0");
	rq.form = &f;
	ok(tw->parse(&rq, &ev, &e) == 0 && ev.num_media == 0,
	    "NumMedia=0: no media");
	form_free(&f);

	parse_form(&f, "MessageSid=MM2&From=%2B1555&To=%2B1666&NumMedia=2&"
	    "MediaUrl0=https%3A%2F%2Fx%2F0");
	rq.form = &f;
	errno = 0;
	ok(tw->parse(&rq, &ev, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "MediaUrl1"),
	    "NumMedia=2 with one MediaUrl is refused, naming it (%s)", e.msg);
	form_free(&f);

	parse_form(&f, "MessageSid=MM3&From=%2B1555&To=%2B1666&NumMedia=11");
	rq.form = &f;
	errno = 0;
	ok(tw->parse(&rq, &ev, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "NumMedia"),
	    "NumMedia beyond 10 is refused (%s)", e.msg);
	form_free(&f);

	parse_form(&f, "MessageSid=MM4&From=%2B1555&To=%2B1666&NumMedia=x");
	rq.form = &f;
	errno = 0;
	ok(tw->parse(&rq, &ev, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "NumMedia"),
	    "a NumMedia that is no count is refused (%s)", e.msg);
	form_free(&f);
}

static void
test_parse(void)
{
	static const char in[] = "ToCountry=US&SmsMessageSid=SM1&"
	    "MessageSid=SM1&AccountSid=AC1&From=%2B15551234567&"
	    "To=%2B15557654321&Body=Hello+there+%C3%A9&NumSegments=2&"
	    "SmsStatus=received&OptOutType=STOP&ApiVersion=2010-04-01";
	static const char st[] = "MessageSid=SM2&MessageStatus=undelivered&"
	    "ErrorCode=30003&From=%2B15557654321&To=%2B15551234567";
	struct form f;
	struct webhook_request rq;
	struct webhook_event ev;
	struct errbuf e = { "" };

	parse_form(&f, in);
	rq = post(LOC_URL, in, &f, NULL);
	ok(tw->parse(&rq, &ev, &e) == 0, "an inbound message parses");
	ok(ev.kind == WEBHOOK_MESSAGE, "it is a message");
	is_str(ev.id, "SM1", "its id is MessageSid");
	is_str(ev.from, "+15551234567", "From");
	is_str(ev.to, "+15557654321", "To");
	ok(ev.body_len == 14 && memcmp(ev.body, "Hello there \xc3\xa9", 15)
	    == 0, "Body, with its length");
	is_int(ev.num_segments, 2, "NumSegments");
	is_str(ev.status, "received", "status");
	ok(ev.error_code == NULL, "no error code");
	is_str(ev.optout_type, "STOP", "OptOutType");
	ok(ev.form == &f, "the form is kept");
	is_str(form_get(ev.form, "ToCountry"), "US", "extra fields are there");
	form_free(&f);

	/* Stored whole or refused: a NUL in the Body is refused, as in any
	 * other field (sms-recv(1)). */
	parse_form(&f, "MessageSid=SM3&From=%2B15551234567&"
	    "To=%2B15557654321&Body=Hello%00there");
	rq = post(LOC_URL, in, &f, NULL);
	errno = 0;
	ok(tw->parse(&rq, &ev, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "Body") && strstr(e.msg, "NUL"),
	    "a Body holding a NUL is refused (%s)", e.msg);
	form_free(&f);

	parse_form(&f, st);
	rq.form = &f;
	ok(tw->parse(&rq, &ev, &e) == 0, "a status callback parses");
	ok(ev.kind == WEBHOOK_STATUS, "it is a status");
	is_str(ev.id, "SM2", "its id");
	is_str(ev.status, "undelivered", "MessageStatus");
	is_str(ev.error_code, "30003", "ErrorCode");
	is_str(ev.from, "+15557654321", "From of a status");
	ok(ev.body && ev.body_len == 0 && ev.optout_type == NULL,
	    "a status has an empty body and no opt-out type");
	form_free(&f);

	parse_form(&f, "MessageSid=SM3&MessageStatus=delivered&ErrorCode=");
	rq.form = &f;
	ok(tw->parse(&rq, &ev, &e) == 0 && ev.error_code == NULL &&
	    ev.from == NULL && ev.to == NULL,
	    "an empty ErrorCode is none; From and To may be absent");
	form_free(&f);

	parse_form(&f, "MessageSid=SM4&From=%2B1555&To=%2B1666");
	rq.form = &f;
	ok(tw->parse(&rq, &ev, &e) == 0 && ev.body_len == 0 &&
	    strcmp(ev.body, "") == 0 && ev.num_segments == 0 &&
	    strcmp(ev.status, "received") == 0 && ev.optout_type == NULL,
	    "a message without Body, NumSegments or SmsStatus");
	form_free(&f);

	parse_form(&f, "MessageSid=SM5&From=%2B1555&To=%2B1666&"
	    "NumSegments=two");
	rq.form = &f;
	ok(tw->parse(&rq, &ev, &e) == 0 && ev.num_segments == 0,
	    "a NumSegments that is not a number is unknown (0)");
	form_free(&f);
}

static void
parse_bad(const char *body, const char *gist)
{
	struct form f;
	struct webhook_request rq;
	struct webhook_event ev;
	struct errbuf e = { "" };
	int r;

	parse_form(&f, body);
	rq = post(LOC_URL, body, &f, NULL);
	errno = 0;
	r = tw->parse(&rq, &ev, &e);
	if (!ok(r == -1 && errno == EINVAL && strstr(e.msg, gist),
	    "\"%s\" fails: %s", body, gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
	form_free(&f);
}

static void
test_parse_bad(void)
{
	struct webhook_request rq = { .url = LOC_URL };
	struct webhook_event ev;
	struct errbuf e = { "" };

	parse_bad("From=%2B1555&To=%2B1666&Body=hi", "missing MessageSid");
	parse_bad("MessageSid=&From=%2B1555&To=%2B1666", "empty MessageSid");
	parse_bad("MessageSid=SM1&To=%2B1666&Body=hi", "missing From");
	parse_bad("MessageSid=SM1&From=%2B1555&Body=hi", "missing To");
	parse_bad("MessageSid=SM1&From=&To=%2B1666", "empty From");
	parse_bad("MessageSid=SM1&From=%2B1555%00&To=%2B1666",
	    "From: holds a NUL byte");
	parse_bad("MessageStatus=sent", "missing MessageSid");
	parse_bad("MessageSid=SM1&MessageStatus=", "empty MessageStatus");
	errno = 0;
	ok(tw->parse(&rq, &ev, &e) == -1 && errno == EINVAL &&
	    strstr(e.msg, "not a form"), "a request without a form fails");
}

static void
reply_is(const char *text, size_t len, const char *want, const char *what)
{
	struct buf out = { 0 };
	struct errbuf e = { "" };
	const char *ctype = NULL;
	int r = tw->reply(text, len, &out, &ctype, &e);

	buf_addc(&out, '\0');
	if (!ok(r == 0 && strcmp(out.p, want) == 0 && ctype &&
	    strcmp(ctype, "text/xml") == 0, "TwiML for %s", what))
		printf("#   got %d \"%s\" (%s)\n", r, out.p, e.msg);
	buf_free(&out);
}

static void
reply_bad(const char *text, size_t len, const char *gist)
{
	struct buf out = { 0 };
	struct errbuf e = { "" };
	const char *ctype;
	int r;

	buf_addlit(&out, "kept");
	errno = 0;
	r = tw->reply(text, len, &out, &ctype, &e);
	if (!ok(r == -1 && errno == EINVAL && strstr(e.msg, gist) &&
	    out.len == 4, "a reply is refused: %s", gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
	buf_free(&out);
}

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

static void
test_reply(void)
{
	static const char amp[] = "Tom & Jerry <3 >_<";
	static const char crlf[] = "line\r\nnext\ttab";
	static const char utf[] = "Merci \xc3\xa9 \xf0\x9f\x91\x8d \"q\" 'a'";

	reply_is(NULL, 0, XMLDECL "<Response></Response>", "no reply");
	reply_is("", 0, XMLDECL "<Response></Response>", "an empty reply");
	reply_is("Thanks, an agent will answer shortly.", 37,
	    XMLDECL "<Response><Message>Thanks, an agent will answer "
	    "shortly.</Message></Response>", "a reply");
	reply_is(amp, sizeof amp - 1, XMLDECL "<Response><Message>Tom &amp; "
	    "Jerry &lt;3 &gt;_&lt;</Message></Response>", "& < >");
	reply_is(crlf, sizeof crlf - 1, XMLDECL "<Response><Message>"
	    "line&#13;\nnext\ttab</Message></Response>", "CR LF and tab");
	reply_is(utf, sizeof utf - 1, XMLDECL "<Response><Message>" "Merci "
	    "\xc3\xa9 \xf0\x9f\x91\x8d \"q\" 'a'</Message></Response>",
	    "UTF-8 and quotes, unchanged");
	reply_is("ab", 1, XMLDECL "<Response><Message>a</Message></Response>",
	    "only len bytes");
	reply_bad("bell\a", 5, "U+0007 cannot be sent in TwiML");
	reply_bad("nul\0", 4, "U+0000 cannot be sent");
	reply_bad("\xef\xbf\xbf", 3, "U+FFFF cannot be sent");
	reply_bad("caf\xc3", 4, "invalid UTF-8 at byte 4");
	reply_bad("\xc0\xaf", 2, "invalid UTF-8 at byte 1");
}

static void
test_registry(void)
{
	static const char *const order[] = {
		"queued", "sending", "sent", "delivered", "read",
	};

	ok(tw != NULL && strcmp(tw->name, "twilio") == 0,
	    "provider_find(\"twilio\")");
	is_str(tw->sig_headers[0], "X-Twilio-Signature", "its header");
	ok(tw->sig_headers[1] == NULL, "one header only");
	ok(provider_find("nexmo") == NULL, "an unknown provider is NULL");
	ok(provider_find(NULL) == NULL, "provider_find(NULL) is NULL");

	for (size_t i = 1; i < sizeof order / sizeof *order; i++)
		ok(provider_status_rank(order[i - 1]) <
		    provider_status_rank(order[i]), "%s < %s", order[i - 1],
		    order[i]);
	is_int(provider_status_rank("accepted"), provider_status_rank("queued"),
	    "accepted = queued");
	is_int(provider_status_rank("scheduled"),
	    provider_status_rank("queued"), "scheduled = queued");
	is_int(provider_status_rank("queued"), 0, "queued is 0");
	is_int(provider_status_rank("undelivered"),
	    provider_status_rank("delivered"), "undelivered = delivered");
	is_int(provider_status_rank("failed"),
	    provider_status_rank("delivered"), "failed = delivered");
	is_int(provider_status_rank("canceled"),
	    provider_status_rank("failed"), "canceled is final");
	is_int(provider_status_rank("partially_delivered"),
	    provider_status_rank("delivered"), "partially_delivered is final");
	ok(provider_status_rank("receiving") < provider_status_rank("received"),
	    "receiving < received");
	ok(provider_status_rank("sent") < provider_status_rank("failed"),
	    "sent < failed: a failure after sent is no regression");
	is_int(provider_status_rank("bogus"), -1, "an unknown word is -1");
	is_int(provider_status_rank("Delivered"), -1, "words are lower-case");
	is_int(provider_status_rank(""), -1, "an empty word is -1");
	is_int(provider_status_rank(NULL), -1, "NULL is -1");
}

int
main(void)
{
	tw = provider_find("twilio");
	test_registry();
	if (tw == NULL)
		return tap_done();
	test_signature();
	test_json();
	test_get();
	test_refusals();
	test_mutation();
	test_parse();
	test_parse_media();
	test_parse_bad();
	test_reply();
	return tap_done();
}
