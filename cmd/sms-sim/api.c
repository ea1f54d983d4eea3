/*
 * api.c: the Messages API's handlers, and POST /sim/text.
 *
 * A create is checked as Twilio checks it, with Twilio's error codes (a
 * missing To 21604, a bad one 21211, ...); then the faults of the number
 * apply, and the message is stored and its first step scheduled, or, with
 * ScheduleType and SendAt, it waits for its time (schedule.c). A message
 * is fetched, redacted (POST of an empty Body), canceled (POST
 * Status=canceled, a scheduled one) or deleted by SID.
 * The list is the store's. Each handler fills in the answer and returns
 * its HTTP status.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "phone.h"
#include "when.h"

#include "sms-sim/sim.h"

/* Whether s is an E.164 number written as phone_normalize() writes it. */
static int
e164(const char *s)
{
	char out[PHONE_MAX];
	struct errbuf e;

	return s[0] == '+' && s[1] >= '1' && s[1] <= '9' &&
	    strspn(s + 1, "0123456789") == strlen(s + 1) &&
	    phone_normalize(s, NULL, out, &e) == 0 && strcmp(out, s) == 0;
}

int
sim_url_ok(const char *url)
{
	const char *host;
	size_t n;

	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return 0;
	n = strcspn(host, ":/?#");
	return n > 0 && !memchr(host, '_', n) &&
	    !strpbrk(url, " \t\r\n\"<>\\^`{|}");
}

int
sim_number(const char *n, unsigned long lo, unsigned long hi,
    unsigned long *out)
{
	char *end;

	if (!*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 9)
		return -1;
	*out = strtoul(n, &end, 10);
	return *out >= lo && *out <= hi ? 0 : -1;
}

/*
 * The name of the first parameter other than Body whose value holds a
 * NUL, or NULL: form_get() reads such a value as absent, and a create
 * without its To, or without its StatusCallback, is another request.
 */
static const char *
nul_param(const struct form *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, "Body") != 0 &&
		    memchr(f->pairs[i].value, '\0', f->pairs[i].value_len))
			return f->pairs[i].name;
	return NULL;
}

int
sim_create(struct sim *s, const struct form *f, struct answer *a)
{
	const char *to = form_get(f, "To"), *from = form_get(f, "From");
	const char *ms = form_get(f, "MessagingServiceSid");
	const char *cb = form_get(f, "StatusCallback");
	const char *vp = form_get(f, "ValidityPeriod");
	const char *smart = form_get(f, "SmartEncoded");
	const struct form_pair *body = form_find(f, "Body");
	const char *nul;
	const struct failing *fl;
	struct buf text = { 0 };
	struct msg *m;
	const char *urls[MEDIA_PER_MSG];
	struct media *pieces[MEDIA_PER_MSG];
	size_t npieces = 0;
	unsigned media = 0, segments = 1;
	unsigned long secs;
	time_t send_at;
	char when[WHEN_BUFSZ];
	int too_long = 0, rc, code, media_code = 0, wa = 0;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, "MediaUrl") == 0) {
			if (media == MEDIA_PER_MSG)
				return sim_error(a, 400, 21623, "Too many "
				    "media URLs: at most %d",
				    MEDIA_PER_MSG);
			urls[media++] = f->pairs[i].value;
		}
	if ((nul = nul_param(f)))
		return sim_error(a, 400, strcmp(nul, "To") == 0 ? 21211 :
		    20001, "The '%s' parameter holds a NUL byte.", nul);
	/* WhatsApp: the same API, its addresses whatsapp:+E164; a template
	 * (ContentSid) instead of a body. */
	if ((rc = sim_wa_check(f, &to, &from, &wa, a)) != 0)
		return rc;
	/* A WhatsApp message carries one medium, its Body the caption. */
	if (wa && media > WA_MEDIA_PER_MSG)
		return sim_error(a, 400, 21623, "Too many media URLs: a "
		    "WhatsApp message takes %d", WA_MEDIA_PER_MSG);
	if (!to || !*to)
		return sim_error(a, 400, 21604,
		    "A 'To' phone number is required.");
	if (!e164(to))
		return sim_error(a, 400, 21211,
		    "The 'To' number %s is not a valid phone number.", to);
	/* From may name the Messaging Service instead, as Twilio takes it. */
	if ((!ms || !*ms) && from && sim_sid_ok(from, "MG")) {
		ms = from;
		from = NULL;
	}
	if ((!from || !*from) && (!ms || !*ms))
		return sim_error(a, 400, 21603,
		    "A 'From' phone number is required.");
	if (ms && *ms && !sim_sid_ok(ms, "MG"))
		return sim_error(a, 400, 21701,
		    "The Messaging Service Sid %s is invalid.", ms);
	if ((!body || body->value_len == 0) && media == 0 &&
	    !form_get(f, "ContentSid"))
		return sim_error(a, 400, 21602,
		    "Message body is required.");
	for (unsigned i = 0; i < media; i++)
		if (!sim_url_ok(urls[i]))
			return sim_error(a, 400, 21620, "Media urls: %s are "
			    "invalid. Please use only valid http and https "
			    "urls", urls[i]);
	if (body && sim_analyze(sim_thread_gsm(s), body->value, body->value_len,
	    smart && strcmp(smart, "true") == 0, &segments, &too_long,
	    &text) < 0) {
		buf_free(&text);
		return sim_error(a, 400, 21602,
		    "Message body is not UTF-8 text.");
	}
	if (too_long) {
		buf_free(&text);
		return sim_error(a, 400, 21617, "The concatenated message "
		    "body exceeds the 1600 character limit.");
	}
	if (cb && *cb && !sim_url_ok(cb)) {
		buf_free(&text);
		return sim_error(a, 400, 21609,
		    "The StatusCallback URL %s is not a valid URL.", cb);
	}
	if (vp && sim_number(vp, 1, 36000, &secs) < 0) {
		buf_free(&text);
		return sim_error(a, 400, 90007,
		    "Invalid validity period value");
	}
	if ((rc = sim_schedule_check(s, f, ms, &send_at, a)) != 0) {
		buf_free(&text);
		return rc;
	}
	if (sim_opted_out(s, to, from && *from ? from : s->number)) {
		buf_free(&text);
		return sim_error(a, 400, 21610,
		    "Attempt to send to unsubscribed recipient");
	}
	if ((code = sim_refused(s, to))) {
		buf_free(&text);
		return sim_refuse(a, code, to, from && *from ? from :
		    s->number);
	}
	/* Twilio fetches the media; one that fails fails the message. */
	if (media)
		media_code = sim_media_fetch(s, urls, media, pieces, &npieces,
		    wa, a);
	m = sim_msg_new(s, from && *from ? from : s->number, to,
	    text.p ? text.p : "", text.len);
	buf_free(&text);
	if (!m || (cb && *cb && !(m->callback = strdup(cb)))) {
		sim_msg_free(m);
		for (size_t i = 0; i < npieces; i++)
			sim_media_free(pieces[i]);
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	}
	if (ms && *ms)
		snprintf(m->ms_sid, sizeof m->ms_sid, "%s", ms);
	m->direction = "outbound-api";
	m->status = ms && *ms ? "accepted" : "queued";
	if (send_at) {
		/* The service picks the sender when it goes out. */
		m->status = "scheduled";
		m->send_at = send_at;
		m->from_pending = !from || !*from;
	}
	/* WhatsApp has no segments: a text is one message. */
	m->segments = media || wa ? 1 : segments;
	m->media = media;
	m->whatsapp = wa;
	if ((fl = sim_failing(s, to))) {
		m->fail_status = fl->status;
		m->fail_code = fl->code;
	}
	if (media_code) {
		m->fail_status = "failed";
		m->fail_code = media_code;
	}
	/* Free-form outside the customer service window: taken, and then
	 * failed, as Twilio fails it (whatsapp.c). */
	if (wa && !form_get(f, "ContentSid") && !send_at &&
	    !sim_wa_open(s, m->from, to)) {
		m->fail_status = "failed";
		m->fail_code = WHATSAPP_OUTSIDE;
	}
	pthread_mutex_lock(&s->lock);
	sim_new_sid(s, media ? "MM" : "SM", m->sid);
	rc = sim_store_locked(s, m);
	if (rc == 0 && sim_media_attach_locked(s, m->sid, pieces,
	    npieces, 1) < 0)
		diag_warn("%s: cannot keep its media: %s", m->sid,
		    strerror(ENOMEM));
	else if (rc < 0)
		for (size_t i = 0; i < npieces; i++)
			sim_media_free(pieces[i]);
	if (rc == 0)
		sim_msg_json(s, m, &a->body);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		sim_msg_free(m);
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	}
	/* A message that fails outright is never sent. */
	if (send_at)
		sim_schedule_start(s, m);
	else if (sim_schedule(s, m, m->fail_status &&
	    strcmp(m->fail_status, "failed") == 0 ? STEP_FINAL : STEP_SENT,
	    SENT_MS) < 0)
		diag_warn("%s: cannot schedule: %s", m->sid, strerror(ENOMEM));
	snprintf(a->sid, sizeof a->sid, "%s", m->sid);
	if (sim_roll(s, s->drop)) {
		a->http = 0;
		snprintf(a->what, sizeof a->what, "created %s, dropped",
		    m->sid);
		return 0;
	}
	a->http = 201;
	when_format(send_at, when);
	snprintf(a->what, sizeof a->what, "%s %s to %s%s%s", send_at ?
	    "scheduled" : "created", m->sid, to, send_at ? " at " : "",
	    send_at ? when : "");
	if (media_code)
		snprintf(a->what + strlen(a->what), sizeof a->what -
		    strlen(a->what), ", its media failed");
	else if (m->fail_code == WHATSAPP_OUTSIDE)
		snprintf(a->what + strlen(a->what), sizeof a->what -
		    strlen(a->what), " on WhatsApp, outside its window: "
		    "%d", WHATSAPP_OUTSIDE);
	else if (wa)
		snprintf(a->what + strlen(a->what), sizeof a->what -
		    strlen(a->what), " on WhatsApp");
	return 201;
}

int
sim_instance(struct sim *s, const char *method, const char *sid,
    const char *path, const struct form *f, struct answer *a)
{
	const struct form_pair *body = form_find(f, "Body");
	const char *status = form_get(f, "Status");
	struct msg *m;
	long at;
	int rc;

	pthread_mutex_lock(&s->lock);
	at = sim_find_locked(s, sid);
	if (at < 0 || s->msgs[at]->deleted) {
		pthread_mutex_unlock(&s->lock);
		return sim_not_found(a, path);
	}
	m = s->msgs[at];
	snprintf(a->sid, sizeof a->sid, "%s", sid);
	if (strcmp(method, "DELETE") == 0) {
		m->deleted = 1;
		a->http = 204;
		snprintf(a->what, sizeof a->what, "deleted %s", sid);
	} else if (strcmp(method, "POST") == 0 && ((status &&
	    strcmp(status, "canceled") != 0) || (!status && !body) ||
	    (body && body->value_len > 0))) {
		pthread_mutex_unlock(&s->lock);
		return sim_error(a, 400, 20001, "Only an empty Body "
		    "(redaction) or Status=canceled can be posted");
	} else if (strcmp(method, "POST") == 0 && status) {
		if ((rc = sim_cancel_locked(s, m, a)) != 0) {
			pthread_mutex_unlock(&s->lock);
			return rc;
		}
		if (body) {
			m->body[0] = '\0';
			m->body_len = 0;
		}
		sim_msg_json(s, m, &a->body);
		a->http = 200;
		snprintf(a->what, sizeof a->what, "canceled %s", sid);
		pthread_mutex_unlock(&s->lock);
		/* Its callback: a change from "scheduled". */
		if (m->callback && sim_schedule(s, m, STEP_CANCELED, 0) < 0)
			diag_warn("%s: cannot schedule: %s", sid,
			    strerror(ENOMEM));
		return 200;
	} else {
		if (strcmp(method, "POST") == 0) {
			m->body[0] = '\0';
			m->body_len = 0;
			m->updated = sim_now(s);
		}
		sim_msg_json(s, m, &a->body);
		a->http = 200;
		snprintf(a->what, sizeof a->what, "%s %s %s",
		    strcmp(method, "POST") == 0 ? "redacted" : "fetched", sid,
		    m->status);
	}
	pthread_mutex_unlock(&s->lock);
	return (int)a->http;
}

/*
 * The pieces of media named by MediaSid in f, uploaded and not attached
 * yet, into out (n of them), marked taken (parent "-", no message's);
 * s->lock held. Returns 0, or answers the error.
 */
static int
text_media_locked(struct sim *s, const struct form *f, struct media **out,
    size_t *n, struct answer *a)
{
	struct media *p;

	*n = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->pairs[i].name, "MediaSid") != 0)
			continue;
		if (*n == MEDIA_PER_MSG)
			return sim_error(a, 400, 21623, "Too many media: at "
			    "most %d", MEDIA_PER_MSG);
		p = sim_media_find_locked(s, f->pairs[i].value);
		if (!p || p->parent[0])
			return sim_error(a, 400, 20001, "MediaSid %s is no "
			    "media uploaded to /sim/media and not sent yet",
			    f->pairs[i].value);
		for (size_t j = 0; j < *n; j++)
			if (out[j] == p)
				return sim_error(a, 400, 20001, "MediaSid %s "
				    "is given twice", p->sid);
		out[(*n)++] = p;
	}
	/* Taken: a text at the same time cannot take them too. */
	for (size_t j = 0; j < *n; j++)
		snprintf(out[j]->parent, sizeof out[j]->parent, "-");
	return 0;
}

int
sim_text(struct sim *s, const struct form *f, const char *base,
    struct answer *a)
{
	const char *from = form_get(f, "From"), *to = form_get(f, "To");
	const struct form_pair *body = form_find(f, "Body");
	struct sender who = { .profile = form_get(f, "ProfileName") };
	char err[CURL_ERROR_SIZE];
	struct media *pieces[MEDIA_PER_MSG];
	size_t npieces;
	struct msg *m;
	CURL *h;
	long http;
	int bad;

	if (nul_param(f))
		return sim_error(a, 400, 20001, "The '%s' parameter holds a "
		    "NUL byte.", nul_param(f));
	/* A customer on WhatsApp: From whatsapp:+E164, To too if given. */
	if (from && strncmp(from, WHATSAPP, sizeof WHATSAPP - 1) == 0) {
		who.whatsapp = 1;
		from += sizeof WHATSAPP - 1;
		if (to && strncmp(to, WHATSAPP, sizeof WHATSAPP - 1) == 0)
			to += sizeof WHATSAPP - 1;
		if (s->pv != &sim_twilio)
			return sim_error(a, 400, 21910, "WhatsApp: sms-sim "
			    "plays it for twilio only, not %s", s->pv->name);
	}
	if (who.profile && (!who.whatsapp || strlen(who.profile) > 256 ||
	    strpbrk(who.profile, "\r\n")))
		return sim_error(a, 400, 20001, "ProfileName: %s",
		    who.whatsapp ? "at most 256 bytes, one line" :
		    "a WhatsApp customer's only (From whatsapp:+E164)");
	if (!from || !e164(from))
		return sim_error(a, 400, 21212, "The 'From' number %s is "
		    "not a valid phone number.", from ? from : "(none)");
	if (to && *to && !e164(to))
		return sim_error(a, 400, 21211,
		    "The 'To' number %s is not a valid phone number.", to);
	if (!body)
		return sim_error(a, 400, 21602,
		    "Message body is required.");
	if (!s->webhook)
		return sim_error(a, 503, 11200, "HTTP retrieval failure: "
		    "sms-sim has no --webhook to post to");
	/* WhatsApp carries one medium a message (an album is messages). */
	for (size_t i = 0, n = 0; who.whatsapp && i < f->n; i++)
		if (strcmp(f->pairs[i].name, "MediaSid") == 0 &&
		    ++n > WA_MEDIA_PER_MSG)
			return sim_error(a, 400, 21623, "Too many media: a "
			    "WhatsApp message carries %d", WA_MEDIA_PER_MSG);
	pthread_mutex_lock(&s->lock);
	bad = text_media_locked(s, f, pieces, &npieces, a);
	pthread_mutex_unlock(&s->lock);
	if (bad)
		return bad;
	if (!(h = curl_easy_init()))
		return sim_error(a, 503, 20503, "Service unavailable");
	m = sim_text_in_media(s, h, from, to && *to ? to : s->number, &who,
	    body->value, body->value_len, pieces, npieces, base, &http, err);
	curl_easy_cleanup(h);
	if (!m)
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	snprintf(a->sid, sizeof a->sid, "%s", m->sid);
	if (http < 0)
		return sim_error(a, 502, 11200,
		    "HTTP retrieval failure: %s: %s", s->webhook, err);
	pthread_mutex_lock(&s->lock);
	sim_msg_json(s, m, &a->body);
	pthread_mutex_unlock(&s->lock);
	a->http = (unsigned)http;
	snprintf(a->what, sizeof a->what, "text %s from %s%s, %zu media, "
	    "webhook %ld", m->sid, who.whatsapp ? WHATSAPP : "", from,
	    npieces, http);
	return (int)http;
}
