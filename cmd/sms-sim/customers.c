/*
 * customers.c: simulated customers, who text our number.
 *
 * A customer's text (POST /sim/text, or a --reply to a delivered message)
 * is stored as an inbound message and posted, signed, to the --webhook as
 * Twilio posts an incoming SMS. Each <Message> of the TwiML the webhook
 * answers becomes a reply from our number, stored and moved on by the
 * jobs like any other, with no status callbacks. The TwiML is searched
 * for its elements, not parsed as XML.
 *
 * A text that is an opt-out or opt-in keyword and nothing else is taken
 * as Twilio's default Advanced Opt-Out takes it (providers.md 1.9): the
 * customer is opted out of texts from the number texted, or back in,
 * before the webhook hears of it; Twilio's confirmation goes back as a
 * reply of our number; and the webhook gets the text all the same, with
 * OptOutType.
 *
 * A customer on WhatsApp (sim_text_in()'s sender) writes the same way,
 * the webhook then as Twilio posts WhatsApp's: From and To written
 * whatsapp:+E164, WaId (the customer's number, digits only), ProfileName
 * if the customer has one, MessageType; no keyword is acted on there
 * (Advanced Opt-Out is SMS's). Each such text opens the customer service
 * window of that customer and our number (whatsapp.c), and a TwiML reply
 * goes back on WhatsApp.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "diag.h"
#include "keyword.h"

#include "sms-sim/sim.h"

/* Twilio's confirmations of an opt-out and of an opt-in. */
#define STOP_REPLY "You have successfully been unsubscribed. You will " \
	"not receive any more messages from this number. Reply START to " \
	"resubscribe."
#define START_REPLY "You have successfully been re-subscribed to " \
	"messages from this number. Reply HELP for help. Reply STOP to " \
	"unsubscribe."

/* Where needle first occurs in [p, end), or NULL. */
static const char *
find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p && end - p >= (ptrdiff_t)n; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/*
 * A new message, its segments counted, stored under a new SID: an
 * inbound one as received (sent and priced as it arrives), another as
 * queued; the n pieces attached, base (the sim's URL as the client
 * reached it) kept for their URLs. NULL if the body is not UTF-8 or
 * memory ran out.
 */
static struct msg *
store_new(struct sim *s, const char *from, const char *to, int whatsapp,
    const char *body, size_t len, const char *direction,
    struct media **pieces, size_t n, const char *base)
{
	struct msg *m;
	unsigned segments = 1;
	int rc;

	if (sim_analyze(sim_thread_gsm(s), body, len, 0, &segments, NULL,
	    NULL) < 0 || !(m = sim_msg_new(s, from, to, body, len)))
		return NULL;
	if (n && base && !(m->media_base = strdup(base))) {
		sim_msg_free(m);
		return NULL;
	}
	m->direction = direction;
	/* An MMS is one message, whatever its text; WhatsApp has no
	 * segments. */
	m->segments = n || whatsapp ? 1 : segments;
	m->whatsapp = whatsapp;
	if (strcmp(direction, "inbound") == 0) {
		m->status = "received";
		m->sent = m->created;
		m->priced = 1;
	} else {
		m->status = "queued";
	}
	m->media = (unsigned)n;
	pthread_mutex_lock(&s->lock);
	sim_new_sid(s, n ? "MM" : "SM", m->sid);
	rc = sim_store_locked(s, m);
	if (rc == 0 && sim_media_attach_locked(s, m->sid, pieces, n, 0) < 0)
		m->media = 0;
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		sim_msg_free(m);
		return NULL;
	}
	return m;
}

/* Append the XML text [p, end) unescaped, with any elements in it left
 * out, to out. *end must be readable (a NUL), for strtoul(). */
static void
xml_text(const char *p, const char *end, struct buf *out)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};

	while (p < end) {
		size_t i;

		if (*p == '<') {
			/* A <Media> URL is no part of the text. */
			const char *gt = find(p, end, "<Media") == p ?
			    find(p, end, "</Media>") : NULL;

			if (!gt)
				gt = memchr(p, '>', (size_t)(end - p));
			else
				gt += 7;
			p = gt ? gt + 1 : end;
			continue;
		}
		if (*p != '&') {
			buf_addc(out, *p++);
			continue;
		}
		for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
			if ((size_t)(end - p) >= strlen(ents[i].name) &&
			    memcmp(p, ents[i].name, strlen(ents[i].name)) == 0)
				break;
		if (i < sizeof ents / sizeof ents[0]) {
			buf_addc(out, ents[i].c);
			p += strlen(ents[i].name);
		} else if (p + 3 < end && p[1] == '#') {
			char *stop;
			int hex = p[2] == 'x' || p[2] == 'X';
			const char *digits = p + 2 + hex;
			unsigned long cp = strtoul(digits, &stop,
			    hex ? 16 : 10);
			unsigned char u[4];
			size_t n;

			if (!(hex ? isxdigit((unsigned char)*digits) :
			    isdigit((unsigned char)*digits)) ||
			    stop >= end || *stop != ';' || cp == 0 ||
			    cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
				buf_addc(out, *p++);
				continue;
			}
			if (cp < 0x80) {
				u[0] = (unsigned char)cp, n = 1;
			} else if (cp < 0x800) {
				u[0] = (unsigned char)(0xC0 | cp >> 6);
				u[1] = (unsigned char)(0x80 | (cp & 63)), n = 2;
			} else if (cp < 0x10000) {
				u[0] = (unsigned char)(0xE0 | cp >> 12);
				u[1] = (unsigned char)(0x80 | (cp >> 6 & 63));
				u[2] = (unsigned char)(0x80 | (cp & 63)), n = 3;
			} else {
				u[0] = (unsigned char)(0xF0 | cp >> 18);
				u[1] = (unsigned char)(0x80 | (cp >> 12 & 63));
				u[2] = (unsigned char)(0x80 | (cp >> 6 & 63));
				u[3] = (unsigned char)(0x80 | (cp & 63)), n = 4;
			}
			buf_add(out, u, n);
			p = stop + 1;
		} else {
			buf_addc(out, *p++);
		}
	}
}

/* A reply of len bytes of text from our number to the customer of in,
 * stored and on its way, as Twilio sends one: outbound-reply, with no
 * status callbacks. what names it on stderr. */
static void
reply(struct sim *s, const struct msg *in, const char *text, size_t len,
    const char *what)
{
	struct msg *m = store_new(s, in->to, in->from, in->whatsapp, text,
	    len, "outbound-reply", NULL, 0, NULL);

	if (!m) {
		diag_warn("%s to %s: not UTF-8, or %s", what, in->from,
		    strerror(ENOMEM));
		return;
	}
	if (sim_schedule(s, m, STEP_SENT, SENT_MS) < 0)
		diag_warn("%s: cannot schedule: %s", m->sid, strerror(ENOMEM));
	fprintf(stderr, "%s: %s %s to %s\n", diag_prog(), what, m->sid, m->to);
}

/* Each <Message> of the TwiML answer to an inbound message becomes a
 * reply from our number to the customer (its <Body> if it has one). */
static void
twiml_replies(struct sim *s, const struct msg *in, struct buf *resp)
{
	const char *p, *end, *gt, *close, *b, *be;
	struct buf text = { 0 };

	if (buf_addc(resp, '\0') < 0)
		return;
	p = resp->p;
	end = resp->p + --resp->len;

	while (p && (p = find(p, end, "<Message"))) {
		p += 8;
		if (p < end && !strchr(" \t\r\n>/", *p))
			continue;	/* <MessageSomething> */
		if (!(gt = memchr(p, '>', (size_t)(end - p))))
			break;
		p = gt + 1;
		if (gt[-1] == '/')
			continue;	/* <Message/> says nothing */
		if (!(close = find(p, end, "</Message>")))
			break;
		text.len = 0;
		if ((b = find(p, close, "<Body>")) &&
		    (be = find(b + 6, close, "</Body>")))
			xml_text(b + 6, be, &text);
		else
			xml_text(p, close, &text);
		p = close + 10;
		if (text.err || text.len == 0)
			continue;
		reply(s, in, text.p, text.len, "TwiML reply");
	}
	buf_free(&text);
}

/*
 * If body (len bytes), the text in from a customer, is an opt-out or an
 * opt-in keyword: opt the customer out of texts from the number texted,
 * or back in, and send Twilio's confirmation. Returns the OptOutType the
 * webhook gets, "STOP" or "START", or NULL if it is no such keyword.
 */
static const char *
keyword(struct sim *s, const struct msg *in, const char *body, size_t len)
{
	enum keyword kw = keyword_classify(body, len, NULL);
	int out = kw == KEYWORD_OPTOUT;

	if (kw != KEYWORD_OPTOUT && kw != KEYWORD_OPTIN)
		return NULL;
	if (sim_optout_set(s, in->from, in->to, out) < 0)
		diag_warn("%s from %s to %s: cannot opt %s: %s",
		    out ? "STOP" : "START", in->from, in->to,
		    out ? "out" : "in", strerror(errno));
	if (out)
		reply(s, in, STOP_REPLY, strlen(STOP_REPLY),
		    "STOP confirmation");
	else
		reply(s, in, START_REPLY, strlen(START_REPLY),
		    "START confirmation");
	return out ? "STOP" : "START";
}

struct msg *
sim_text_in(struct sim *s, CURL *h, const char *from, const char *to,
    const struct sender *who, const char *body, size_t len, long *http,
    char err[CURL_ERROR_SIZE])
{
	return sim_text_in_media(s, h, from, to, who, body, len, NULL, 0,
	    NULL, http, err);
}

/* Append an address as the webhook has it: whatsapp:+E164 on WhatsApp. */
static void
add_address(struct buf *form, const char *name, const char *number, int wa)
{
	char addr[sizeof WHATSAPP + PHONE_MAX];

	snprintf(addr, sizeof addr, "%s%s", wa ? WHATSAPP : "", number);
	sim_add_params(form, name, addr);
}

struct msg *
sim_text_in_media(struct sim *s, CURL *h, const char *from, const char *to,
    const struct sender *who, const char *body, size_t len,
    struct media **pieces, size_t npieces, const char *base, long *http,
    char err[CURL_ERROR_SIZE])
{
	struct buf form = { 0 }, resp = { 0 };
	const char *optout_type = NULL;
	int wa = who && who->whatsapp;
	struct msg *m;
	char n[16];

	*http = 0;
	if (!(m = store_new(s, from, to, wa, body, len, "inbound", pieces,
	    npieces, base)))
		return NULL;
	if (wa && sim_wa_wrote(s, from, to, m->created) < 0)
		diag_warn("WhatsApp from %s to %s: cannot open its window: %s",
		    from, to, strerror(errno));
	if (!wa)
		optout_type = keyword(s, m, body, len);
	if (!s->webhook)
		return m;
	if (s->pv->post_inbound) {
		/* Another carrier's webhook; it takes no TwiML. */
		*http = s->pv->post_inbound(s, h, m, optout_type, err);
		if (*http < 0)
			diag_warn("webhook %s from %s -> %s: %s", m->sid, from,
			    s->webhook, err);
		else
			fprintf(stderr, "%s: webhook %s from %s -> %s: %ld\n",
			    diag_prog(), m->sid, from, s->webhook, *http);
		return m;
	}
	sim_add_params(&form, "MessageSid", m->sid);
	sim_add_params(&form, "SmsSid", m->sid);
	sim_add_params(&form, "SmsMessageSid", m->sid);
	sim_add_params(&form, "AccountSid", s->account);
	add_address(&form, "From", from, wa);
	add_address(&form, "To", to, wa);
	sim_add_param(&form, "Body", body, len);
	snprintf(n, sizeof n, "%u", m->media);
	sim_add_params(&form, "NumMedia", n);
	if (m->media)
		sim_media_params(s, m->sid, base ? base : "", &form);
	snprintf(n, sizeof n, "%u", m->segments);
	sim_add_params(&form, "NumSegments", n);
	sim_add_params(&form, "SmsStatus", "received");
	sim_add_params(&form, "ApiVersion", API_VERSION);
	if (optout_type)
		sim_add_params(&form, "OptOutType", optout_type);
	if (wa) {
		/* WhatsApp's own: its id of the customer (the number's
		 * digits), their profile's name, what kind of message. */
		sim_add_params(&form, "WaId", from + (from[0] == '+'));
		if (who->profile)
			sim_add_params(&form, "ProfileName", who->profile);
		if (!m->media)
			sim_add_params(&form, "MessageType", "text");
		sim_add_params(&form, "ReferralNumMedia", "0");
	}
	if (form.err) {
		*http = -1;
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
	} else {
		*http = sim_post(s, h, s->webhook, &form, &resp, err);
	}
	if (*http < 0)
		diag_warn("webhook %s from %s -> %s: %s", m->sid, from,
		    s->webhook, err);
	else
		fprintf(stderr, "%s: webhook %s from %s -> %s: %ld\n",
		    diag_prog(), m->sid, from, s->webhook, *http);
	if (*http >= 200 && *http < 300)
		twiml_replies(s, m, &resp);
	buf_free(&form);
	buf_free(&resp);
	return m;
}
