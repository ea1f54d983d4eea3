/*
 * twilio.c: Twilio's webhook after the signature, as sms-recv takes it.
 *
 * The input is a request body. It goes the way handle() in sms-recv takes
 * a form: form_parse(), then provider_twilio.verify() with the signature
 * twilio_signature() computes for it (which must match), then
 * provider_twilio.parse(), the function that turns Twilio's fields into a
 * webhook_event. An event it accepts must be one sms-recv can store: an
 * id, a sender and a recipient without NULs, a body of the form's length,
 * and, for a message, a sender thread_of_sender() takes or refuses with a
 * message and a record json_pack() builds as store_message() does. The
 * body is answered with provider_twilio.reply() too.
 */
#include <errno.h>

#include <jansson.h>

#include "buf.h"
#include "form.h"
#include "fuzz.h"
#include "keyword.h"
#include "provider.h"
#include "record.h"
#include "thread.h"

#define URL "https://desk.example.com/sms?x=1"
#define TOKEN "12345678901234567890123456789012"

static void
message(const struct webhook_event *ev)
{
	char thread[THREAD_MAX];
	struct errbuf e;
	const char *word;
	json_t *msg;
	char *line;
	int number;

	if (thread_of_sender(ev->from, thread, &number, &e) < 0) {
		FUZZ_CHECK(e.msg[0] && errno == EINVAL,
		    "thread_of_sender() failed without a reason");
		return;
	}
	FUZZ_CHECK(thread_valid(thread), "thread \"%s\" not valid", thread);
	FUZZ_CHECK(!number == !thread_is_number(thread),
	    "thread \"%s\": number %d", thread, number);
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s%,s:s,s:s,s:s?,s:s?}",
	    "type", "message", "thread", thread, "direction", "in",
	    "from", number ? thread : ev->from, "to", ev->to, "body",
	    ev->body, ev->body_len, "status", "received", "provider",
	    "twilio", "provider_id", ev->id, "at", "2026-11-22T10:00:00Z");
	FUZZ_CHECK(msg != NULL, "an accepted message makes no record");
	if (ev->num_segments > 0)
		json_object_set_new(msg, "segments",
		    json_integer(ev->num_segments));
	(void)keyword_classify(ev->body, ev->body_len, &word);
	line = json_dumps(msg, JSON_COMPACT);
	FUZZ_CHECK(line != NULL, "the record does not dump");
	json_t *back = record_parse(line, strlen(line), &e);
	FUZZ_CHECK(back && json_equal(back, msg),
	    "the record does not read back: %s", back ? "differs" : e.msg);
	json_decref(back);
	free(line);
	json_decref(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_request rq = {
		.method = "POST", .url = URL,
		.content_type = "application/x-www-form-urlencoded",
		.now = 1795000000,
	};
	struct webhook_event ev;
	struct form f;
	struct errbuf e;
	struct buf out = { 0 };
	const char *ctype;
	char sig[29];

	rq.body = (const char *)data;
	rq.body_len = size;
	if (form_parse(&f, rq.body, size, &e) < 0)
		return 0;
	rq.form = &f;
	FUZZ_CHECK(twilio_signature(TOKEN, URL, &f, sig) == 0,
	    "twilio_signature() failed");
	rq.sig[0] = sig;
	FUZZ_CHECK(provider_twilio.verify(TOKEN, &rq, &e) == 0,
	    "its own signature refused: %s", e.msg);
	e.msg[0] = '\0';
	if (provider_twilio.parse(&rq, &ev, &e) < 0) {
		FUZZ_CHECK(e.msg[0] && errno == EINVAL,
		    "parse() failed without a reason");
		form_free(&f);
		return 0;
	}
	FUZZ_CHECK(ev.id && *ev.id, "no id");
	FUZZ_CHECK(ev.body && strlen(ev.body) == ev.body_len,
	    "a body with a NUL or of the wrong length");
	FUZZ_CHECK(ev.status && *ev.status, "no status");
	FUZZ_CHECK(ev.num_segments >= 0 && ev.num_segments <= 9999,
	    "segments %d", ev.num_segments);
	(void)provider_status_order(ev.status);
	(void)provider_status_valid(ev.status);
	if (ev.error_code)
		(void)provider_twilio.error_class(0, ev.error_code);
	if (ev.kind == WEBHOOK_MESSAGE) {
		FUZZ_CHECK(ev.from && *ev.from && ev.to && *ev.to,
		    "a message without From or To");
		message(&ev);
	}
	if (provider_twilio.reply(ev.body, ev.body_len, &out, &ctype, &e) == 0)
		FUZZ_CHECK(out.len > 0 && strcmp(ctype, "text/xml") == 0,
		    "an empty answer");
	buf_free(&out);
	form_free(&f);
	return 0;
}
