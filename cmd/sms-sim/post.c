/*
 * post.c: posting to the customer's side, signed as Twilio signs.
 *
 * Status callbacks and inbound texts go out as Twilio sends them: a form
 * body, X-Twilio-Signature made with the auth token over the URL and the
 * parameters, an I-Twilio-Idempotency-Token, Twilio's User-Agent, and
 * Twilio's 15 s timeout. Only the status of a callback's answer is used;
 * a webhook's body is kept, up to MAX_ANSWER bytes, for its TwiML. The
 * form encoding serves the list's page URIs and `sms-sim text` as well.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "provider.h"

#include "sms-sim/sim.h"

#define MAX_ANSWER (64 * 1024)	/* of a webhook's answer, kept for TwiML */

void
sim_add_param(struct buf *b, const char *name, const char *value, size_t n)
{
	if (b->len > 0)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	form_add(b, value, n);
}

void
sim_add_params(struct buf *b, const char *name, const char *value)
{
	sim_add_param(b, name, value, strlen(value));
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n <= MAX_ANSWER)
		buf_add(b, p, size * n);
	return size * n;
}

long
sim_post_raw(CURL *h, const char *url, const char *ctype, const char *body,
    size_t len, const char *const *hdrs, const char *ua, struct buf *resp,
    char err[CURL_ERROR_SIZE])
{
	struct curl_slist *hs = NULL, *more;
	char cthdr[128];
	long code = -1;
	CURLcode rc;
	size_t i;

	err[0] = '\0';
	snprintf(cthdr, sizeof cthdr, "Content-Type: %s", ctype);
	for (i = 0; i == 0 || hdrs[i - 1]; i++) {
		if (!(more = curl_slist_append(hs, i == 0 ? cthdr :
		    hdrs[i - 1]))) {
			curl_slist_free_all(hs);
			snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
			return -1;
		}
		hs = more;
	}
	if (!(more = curl_slist_append(hs, "Expect:"))) {
		curl_slist_free_all(hs);
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	hs = more;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else if (!err[0])
		snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(hs);
	return rc == CURLE_OK ? code : -1;
}

long
sim_post(const struct sim *s, CURL *h, const char *url, const struct buf *body,
    struct buf *resp, char err[CURL_ERROR_SIZE])
{
	struct form f;
	struct errbuf e;
	char sig[29], id[33], sighdr[64], idhdr[80];
	const char *const lines[] = { sighdr, idhdr, NULL };
	unsigned char raw[16];

	err[0] = '\0';
	if (form_parse(&f, body->p ? body->p : "", body->len, &e) < 0) {
		snprintf(err, CURL_ERROR_SIZE, "%s", e.msg);
		return -1;
	}
	if (twilio_signature(s->token, url, &f, sig) < 0) {
		form_free(&f);
		snprintf(err, CURL_ERROR_SIZE, "cannot sign: %s",
		    strerror(errno));
		return -1;
	}
	form_free(&f);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	snprintf(sighdr, sizeof sighdr, "X-Twilio-Signature: %s", sig);
	snprintf(idhdr, sizeof idhdr, "I-Twilio-Idempotency-Token: %s", id);
	return sim_post_raw(h, url, "application/x-www-form-urlencoded; "
	    "charset=UTF-8", body->p, body->len, lines, "TwilioProxy/1.1",
	    resp, err);
}

void
sim_post_status(struct sim *s, CURL *h, const struct msg *m,
    const char *status, int code)
{
	struct buf body = { 0 }, resp = { 0 };
	char err[CURL_ERROR_SIZE], n[16], dlr[64];
	char addr[sizeof WHATSAPP + PHONE_MAX];
	const char *wa = m->whatsapp ? WHATSAPP : "";
	time_t now = sim_now(s);
	struct tm tm;
	long http;

	if (s->pv->post_status) {
		s->pv->post_status(s, h, m, status, code);
		return;
	}
	sim_add_params(&body, "MessageSid", m->sid);
	sim_add_params(&body, "MessageStatus", status);
	sim_add_params(&body, "SmsSid", m->sid);
	sim_add_params(&body, "SmsStatus", status);
	sim_add_params(&body, "AccountSid", s->account);
	/* On WhatsApp the addresses are whatsapp:+E164, and the channel
	 * says itself. */
	snprintf(addr, sizeof addr, "%s%s", wa, m->from);
	if (!m->from_pending)
		sim_add_params(&body, "From", m->whatsapp ? addr : m->from);
	snprintf(addr, sizeof addr, "%s%s", wa, m->to);
	sim_add_params(&body, "To", m->whatsapp ? addr : m->to);
	sim_add_params(&body, "ApiVersion", API_VERSION);
	if (m->whatsapp) {
		sim_add_params(&body, "ChannelPrefix", "whatsapp");
		sim_add_params(&body, "ChannelToAddress", m->to);
	}
	if (m->ms_sid[0])
		sim_add_params(&body, "MessagingServiceSid", m->ms_sid);
	if (code) {
		snprintf(n, sizeof n, "%d", code);
		sim_add_params(&body, "ErrorCode", n);
	}
	if (!m->whatsapp && (strcmp(status, "delivered") == 0 ||
	    strcmp(status, "undelivered") == 0)) {
		/* The carrier's "done date": minutes, no time zone. */
		gmtime_r(&now, &tm);
		snprintf(dlr, sizeof dlr, "%02d%02d%02d%02d%02d",
		    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min);
		sim_add_params(&body, "RawDlrDoneDate", dlr);
	}
	if (body.err) {
		diag_warn("callback %s %s: %s", m->sid, status,
		    strerror(ENOMEM));
		buf_free(&body);
		return;
	}
	http = sim_post(s, h, m->callback, &body, &resp, err);
	if (http < 0)
		diag_warn("callback %s %s -> %s: %s", m->sid, status,
		    m->callback, err);
	else
		fprintf(stderr, "%s: callback %s %s -> %s: %ld\n",
		    diag_prog(), m->sid, status, m->callback, http);
	buf_free(&body);
	buf_free(&resp);
}
