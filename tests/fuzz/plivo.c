/*
 * plivo.c: Plivo's webhook after the signature, as sms-recv takes it.
 *
 * The input is a request body. It goes the way handle() in sms-recv takes
 * a form: form_parse(), then provider_plivo.verify() with the V3
 * signature plivo_signature() computes for it (which must match in a
 * list after a wrong one), then provider_plivo.parse(). An event
 * it accepts must be one sms-recv can store: an id, a sender and a
 * recipient without NULs (a number of Plivo's made E.164 is its own
 * thread, whatever else is taken or refused by thread_of_sender()),
 * a body of the form's length. The body is then
 * answered with provider_plivo.reply_to() as a reply to the event.
 */
#include <errno.h>

#include <jansson.h>

#include "buf.h"
#include "form.h"
#include "fuzz.h"
#include "provider.h"
#include "thread.h"

#define URL "https://desk.example.com/sms/plivo?b=2&a=1"
#define TOKEN "MAZDQ1ZJIYMDZKMWIXNJ"
#define NONCE "12345678901234567890"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_request rq = {
		.method = "POST", .url = URL,
		.content_type = "application/x-www-form-urlencoded",
	};
	struct webhook_event ev;
	struct form f;
	struct errbuf e;
	struct buf out = { 0 };
	const char *ctype;
	char sig[45], list[100], thread[THREAD_MAX];
	int number;

	rq.body = (const char *)data;
	rq.body_len = size;
	if (form_parse(&f, rq.body, size, &e) < 0)
		return 0;
	rq.form = &f;
	FUZZ_CHECK(plivo_signature(TOKEN, "POST", URL, NONCE, &f, sig) == 0,
	    "plivo_signature() failed");
	snprintf(list, sizeof list, "%.44s,%s",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", sig);
	rq.sig[0] = list;
	rq.sig[1] = NONCE;
	FUZZ_CHECK(provider_plivo.verify(TOKEN, &rq, &e) == 0,
	    "its own signature refused: %s", e.msg);
	rq.sig[1] = "12345678901234567891";
	FUZZ_CHECK(provider_plivo.verify(TOKEN, &rq, &e) < 0 &&
	    errno == EACCES, "another nonce accepted");
	e.msg[0] = '\0';
	if (provider_plivo.parse(&rq, &ev, &e) < 0) {
		FUZZ_CHECK(e.msg[0] && errno == EINVAL,
		    "parse() failed without a reason");
		form_free(&f);
		return 0;
	}
	FUZZ_CHECK(ev.id && *ev.id, "no id");
	FUZZ_CHECK(ev.body && strlen(ev.body) == ev.body_len,
	    "a body with a NUL or of the wrong length");
	FUZZ_CHECK(ev.status && *ev.status, "no status");
	FUZZ_CHECK(ev.num_media >= 0 && ev.num_media <= PROVIDER_MEDIA_MAX,
	    "media %d", ev.num_media);
	for (int i = 0; i < ev.num_media; i++)
		FUZZ_CHECK(ev.media[i].url && *ev.media[i].url,
		    "media item %d without its URL", i);
	if (ev.error_code)
		(void)provider_plivo.error_class(0, ev.error_code);
	if (ev.kind == WEBHOOK_MESSAGE) {
		FUZZ_CHECK(ev.from && *ev.from && ev.to && *ev.to,
		    "a message without From or To");
		if (thread_of_sender(ev.from, thread, &number, &e) < 0)
			FUZZ_CHECK(e.msg[0] && errno == EINVAL,
			    "thread_of_sender() failed without a reason");
		else
			FUZZ_CHECK(thread_valid(thread) &&
			    !number == !thread_is_number(thread),
			    "thread \"%s\" of \"%s\"", thread, ev.from);
		/* One of Plivo's numbers is the thread of its E.164 form. */
		if (ev.from[0] == '+' && number)
			FUZZ_CHECK(strcmp(thread, ev.from) == 0,
			    "%s made E.164 is not its thread %s", ev.from,
			    thread);
	}
	if (provider_plivo.reply_to(&ev, ev.body, ev.body_len, &out, &ctype,
	    &e) == 0)
		FUZZ_CHECK(out.len > 0 && strcmp(ctype, "application/xml") == 0,
		    "an empty answer");
	buf_free(&out);
	form_free(&f);
	return 0;
}
