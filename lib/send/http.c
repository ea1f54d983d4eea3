/*
 * http.c: one exchange with the provider's REST API, on a libcurl handle.
 *
 * The provider says what to send (struct provider_http: lib/provider.h);
 * this file says how. A request is a POST or a GET, with Basic auth or
 * a bearer token (libcurl's own Authorization header: never logged), on
 * a handle that is kept, so that its connection is kept alive between
 * requests: a worker's, waited for (http_request()), or one of multi.c's
 * pool, many in flight (http_setup()).
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
 * Set c up (reset first) for one exchange of rq into h, errors in words
 * into cerr (CURL_ERROR_SIZE): rq's POST with its body, or its GET, with
 * Basic auth or its bearer token, timeout seconds in all, and the body
 * never sent twice.
 * Returns the header list c uses, to free once the exchange is over.
 */
struct curl_slist *
http_setup(CURL *c, const struct provider_http *rq, struct http *h,
    long timeout, char *cerr)
{
	struct curl_slist *hdr = NULL;
	const char *body = rq->post ? rq->body.p : NULL;
	char ctype[128];

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
	if (body && hdr) {
		snprintf(ctype, sizeof ctype, "Content-Type: %s",
		    rq->content_type);
		hdr = curl_slist_append(hdr, ctype);
	}
	if (!hdr)
		send_nomem();
	curl_easy_setopt(c, CURLOPT_URL, rq->url.p);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if (rq->bearer) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, rq->bearer);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, rq->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, rq->pass);
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smsdesk/" SMSDESK_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)h->len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, h);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, h);
		/*
		 * libcurl's least (its default is 64 KiB a handle, for
		 * bodies of a few hundred bytes): a larger body is read
		 * in parts.
		 */
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	}
	cerr[0] = '\0';
	return hdr;
}

/* One request, rq's, on w's handle, waited for (http_setup()). */
void
http_request(struct worker *w, const struct provider_http *rq,
    struct http *h)
{
	struct curl_slist *hdr = http_setup(w->curl, rq, h, w->s->timeout,
	    w->cerr);

	h->cc = curl_easy_perform(w->curl);
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdr);
	if (h->resp.err)
		send_nomem();
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
