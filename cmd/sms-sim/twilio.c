/*
 * twilio.c: Twilio's JSON, as sms-sim writes it.
 *
 * A Message resource is written as api.twilio.com writes it: keys sorted,
 * dates in RFC 2822, null for what is not known yet, and a price once the
 * message is sent. An error is Twilio's error body, {"code", "message",
 * "more_info", "status"}, with the HTTP status set in the answer beside
 * it. Both are written straight into a buf; sim_jkey() puts in the
 * commas.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"

#include "sms-sim/sim.h"

#define PRICE_E5 790		/* US price per segment, 1e-5 USD */

/* Twilio's date form, RFC 2822: "Thu, 24 Aug 2023 05:01:45 +0000". */
void
sim_rfc2822(time_t t, char out[40])
{
	static const char wday[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char mon[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* What Twilio calls a delivery error code. */
static const char *
error_text(int code)
{
	switch (code) {
	case 30001: return "Queue overflow";
	case 30002: return "Account suspended";
	case 30003: return "Unreachable destination handset";
	case 30004: return "Message blocked";
	case 30005: return "Unknown destination handset";
	case 30006: return "Landline or unreachable carrier";
	case 30007: return "Message filtered";
	case 30008: return "Unknown error";
	case 30019: return "Content size exceeds carrier limit";
	case 21610: return "Attempt to send to unsubscribed recipient";
	case 11200: return "HTTP retrieval failure";
	case 12300: return "Invalid Content-Type";
	case WHATSAPP_OUTSIDE: return "Failed to send freeform message "
	    "because you are outside the allowed window. If you are using "
	    "WhatsApp, please use a Message Template.";
	default: return "Message delivery failed";
	}
}

static void
jstr(struct buf *b, const char *s)
{
	buf_add_jstr(b, s, strlen(s));
}

void
sim_jkey(struct buf *b, const char *key)
{
	if (b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		buf_addc(b, ',');
	jstr(b, key);
	buf_addc(b, ':');
}

/* Append "key":"value", or "key":null if value is NULL. */
static void
jfield(struct buf *b, const char *key, const char *value)
{
	sim_jkey(b, key);
	if (value)
		jstr(b, value);
	else
		buf_addlit(b, "null");
}

void
sim_msg_json(const struct sim *s, const struct msg *m, struct buf *b)
{
	char t[40], n[24], uri[160], addr[sizeof WHATSAPP + PHONE_MAX];
	const char *wa = m->whatsapp ? WHATSAPP : "";

	snprintf(uri, sizeof uri, API "%s/Messages/%s", s->account, m->sid);
	buf_addc(b, '{');
	jfield(b, "account_sid", s->account);
	jfield(b, "api_version", API_VERSION);
	sim_jkey(b, "body");
	buf_add_jstr(b, m->body, m->body_len);
	sim_rfc2822(m->created, t);
	jfield(b, "date_created", t);
	sim_rfc2822(m->sent, t);
	jfield(b, "date_sent", m->sent ? t : NULL);
	sim_rfc2822(m->updated, t);
	jfield(b, "date_updated", t);
	jfield(b, "direction", m->direction);
	sim_jkey(b, "error_code");
	if (m->error_code)
		buf_addu(b, (uint64_t)m->error_code);
	else
		buf_addlit(b, "null");
	jfield(b, "error_message", m->error_code ?
	    error_text(m->error_code) : NULL);
	/* On WhatsApp, whatsapp:+E164. */
	snprintf(addr, sizeof addr, "%s%s", wa, m->from);
	jfield(b, "from", m->from_pending ? NULL : m->whatsapp ? addr :
	    m->from);
	jfield(b, "messaging_service_sid", m->ms_sid[0] ? m->ms_sid : NULL);
	snprintf(n, sizeof n, "%u", m->media);
	jfield(b, "num_media", n);
	snprintf(n, sizeof n, "%u", m->segments);
	jfield(b, "num_segments", n);
	snprintf(n, sizeof n, "-%u.%05u", m->segments * PRICE_E5 / 100000,
	    m->segments * PRICE_E5 % 100000);
	jfield(b, "price", m->priced ? n : NULL);
	jfield(b, "price_unit", m->priced ? "USD" : NULL);
	jfield(b, "sid", m->sid);
	jfield(b, "status", m->status);
	sim_jkey(b, "subresource_uris");
	buf_addc(b, '{');
	sim_jkey(b, "media");
	buf_addc(b, '"');
	buf_adds(b, uri);
	buf_addlit(b, "/Media.json\"");
	sim_jkey(b, "feedback");
	buf_addc(b, '"');
	buf_adds(b, uri);
	buf_addlit(b, "/Feedback.json\"}");
	snprintf(addr, sizeof addr, "%s%s", wa, m->to);
	jfield(b, "to", m->whatsapp ? addr : m->to);
	sim_jkey(b, "uri");
	buf_addc(b, '"');
	buf_adds(b, uri);
	buf_addlit(b, ".json\"}");
}

int
sim_error(struct answer *a, unsigned http, int code, const char *fmt,
    ...)
{
	char msg[400], more[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->http = http;
	a->code = code;
	a->body.len = 0;
	buf_addlit(&a->body, "{\"code\":");
	buf_addu(&a->body, (uint64_t)code);
	jfield(&a->body, "message", msg);
	snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d",
	    code);
	jfield(&a->body, "more_info", more);
	sim_jkey(&a->body, "status");
	buf_addu(&a->body, http);
	buf_addc(&a->body, '}');
	snprintf(a->what, sizeof a->what, "%d %.180s", code, msg);
	return (int)http;
}

int
sim_not_found(struct answer *a, const char *path)
{
	return sim_error(a, MHD_HTTP_NOT_FOUND, 20404,
	    "The requested resource %s was not found", path);
}
