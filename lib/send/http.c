/*
 * http.c: one exchange with Twilio's REST API, on a worker's handle.
 *
 * A request is a form POST or a GET, with Basic auth, on the worker's
 * libcurl handle so that its connection is kept alive between requests.
 * What libcurl does on its own is held to what is safe for a request
 * that may create a message: the body is never sent twice on a fresh
 * connection (see on_seek()). The answer is read into struct http, and
 * the Retry-After a 429 or a 503 carries is kept for the backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "provider.h"
#include "record.h"
#include "send.h"

static size_t
on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t k = h->len - h->off;

	if (k > size * n)
		k = size * n;
	memcpy(dst, h->body + h->off, k);
	h->off += k;
	return k;
}

/*
 * libcurl rewinds the body to send it again on a fresh connection when
 * a reused one closed before answering. For a POST that may have been
 * processed that is a blind resend: refuse, and the exchange ends as
 * "unknown" (CURLE_SEND_FAIL_REWIND).
 */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct http *h = arg;

	if (off != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (h->off > 0) {
		h->rewound = 1;
		return CURL_SEEKFUNC_FAIL;
	}
	return CURL_SEEKFUNC_OK;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;

	if (buf_add(&h->resp, p, size * n) < 0)
		return 0;
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[32];

		snprintf(v, sizeof v, "%.*s", (int)(len - 12 < 31 ? len - 12 :
		    31), p + 12);
		h->retry_after = strtod(v, NULL);
		if (h->retry_after < 0 || h->retry_after > 3600)
			h->retry_after = 0;
	}
	return len;
}

/*
 * Append the account's Messages resource to url, without a suffix:
 * BASE/2010-04-01/Accounts/ACCOUNT/Messages (the caller adds ".json", or
 * "/SID.json").
 */
void
http_messages_url(const struct send *s, struct buf *url)
{
	buf_adds(url, s->cr.base);
	buf_addlit(url, "/2010-04-01/Accounts/");
	buf_adds(url, s->cr.account);
	buf_addlit(url, "/Messages");
}

/* One request: a POST of body (a form) when body is not NULL, else GET. */
void
http_request(struct worker *w, const char *url, const char *body,
    struct http *h)
{
	CURL *c = w->curl;
	struct curl_slist *hdr = NULL;
	const struct cred *cr = &w->s->cr;

	h->body = body;
	h->len = body ? strlen(body) : 0;
	h->off = 0;
	h->rewound = 0;
	h->status = 0;
	h->retry_after = 0;
	h->resp.len = 0;
	h->resp.err = 0;
	curl_easy_reset(c);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	if (!hdr)
		send_nomem();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, cr->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, cr->pass);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smsdesk/" SMSDESK_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, w->s->timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body) {
		hdr = curl_slist_append(hdr,
		    "Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)h->len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, h);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, h);
	}
	w->cerr[0] = '\0';
	h->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdr);
	if (h->resp.err)
		send_nomem();
}

/* Copy a JSON string value f, as record_pick() found it, to out if it
 * has no escapes and fits; 0 if not. */
static int
plain_str(const struct record_field *f, char *out, size_t n)
{
	if (!f->val || f->len < 2 || f->val[0] != '"' || f->len - 2 >= n ||
	    memchr(f->val, '\\', f->len))
		return 0;
	memcpy(out, f->val + 1, f->len - 2);
	out[f->len - 2] = '\0';
	return 1;
}

/*
 * The "sid" and "status" of a create's answer into sid and st, without a
 * parse tree, when the answer is written as jansson writes (record_pick()
 * says plain: then jansson would read the same strings) and both are
 * strings without escapes. 0 if not: ask jansson.
 */
int
http_quick_answer(const struct http *h, char *sid, size_t nsid, char *st,
    size_t nst)
{
	struct record_field f[2] = { { .key = "sid" }, { .key = "status" } };

	return h->resp.p && record_pick(h->resp.p, h->resp.len, f, 2) == 1 &&
	    plain_str(&f[0], sid, nsid) && plain_str(&f[1], st, nst);
}

/* Append name=value, form-encoded. */
void
http_add_param(CURL *c, struct buf *b, const char *name, const char *value)
{
	char *v = curl_easy_escape(c, value, 0);

	if (!v)
		send_nomem();
	if (b->len)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	buf_adds(b, v);
	curl_free(v);
	if (b->err)
		send_nomem();
}

/* The taxonomy class of a Twilio error (lib/provider-twilio.c). */
const char *
http_taxonomy(long status, json_int_t code)
{
	char text[32];

	snprintf(text, sizeof text, "%lld", (long long)code);
	return provider_error_class("twilio", status, code ? text : NULL);
}

const char *
http_status_word(struct send *s, const char *thread, const char *st)
{
	if (!st || provider_status_valid(st))
		return st;
	send_warn(s, "%s: the provider's status '%.*s%s' is not a status word; "
	    "stored as unknown", thread, PROVIDER_STATUS_MAX, st,
	    strlen(st) > PROVIDER_STATUS_MAX ? "..." : "");
	return "unknown";
}
