/*
 * plivo.c: sms-sim as Plivo (--provider plivo), its Message API and its
 * webhooks, as providers.md section 4 and Plivo's documentation give
 * them.
 *
 * The API, below /v1/Account/{auth_id}/ behind HTTP Basic auth (the auth
 * id and token): POST Message/ takes a JSON body ({"src" or
 * "powerpack_uuid", "dst", "text", "type", "url", "method",
 * "media_urls"}) and answers 202 {"api_id", "message": "message(s)
 * queued", "message_uuid": [UUID]}; GET Message/UUID/ answers the message
 * ({"message_uuid", "message_state", "error_code", "from_number",
 * "to_number", ...}, numbers without "+"); GET Message/ lists them, newest
 * first, by limit (at most 20) and offset, with meta.next the next page's
 * path, null on the last. Errors are {"api_id", "error"}: 401 without
 * the credentials, 429 over --rate, 500 or 503 for --errors, 400 for a
 * request that is wrong, 404 for a message not known.
 *
 * Plivo's API takes a message to an opted-out recipient (--optout, a
 * STOP, --refuse NUMBER:opted-out): it is then rejected, error code 200,
 * in its status callback. Another --refuse code fails it the same way;
 * --refuse NUMBER:invalid answers 202 with the number in invalid_number
 * and no message_uuid.
 *
 * The webhooks are forms signed with X-Plivo-Signature-V3 (and its
 * nonce) by the auth token: a customer's text (From, To, Text, Type,
 * MessageUUID, Units, TotalRate, TotalAmount, MessageIntent for a
 * keyword) to the --webhook; a status (MessageUUID, Status, ErrorCode,
 * From, To, Units, ...) to the message's url.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "phone.h"
#include "provider.h"

#include "sms-sim/sim.h"

#define LIMIT_MAX 20		/* Plivo's most messages a page */
#define RATE "0.00500"		/* USD a unit */
#define RATE_E5 500
#define MMS_RATE "0.01800"	/* USD an MMS, one unit */
#define MMS_RATE_E5 1800
#define URLS_MAX 10		/* media_urls a message */
#define OPTED_OUT 200		/* Plivo's error code for a STOP */

/* A new api_id (a random UUID). */
static void
api_id(char out[37])
{
	unsigned char r[16];
	char hex[35] = "AP";

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex + 2, 33, r, sizeof r);
	sim_uuid(hex, out);
}

static void
answer_json(struct answer *a, json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;

	a->body.len = 0;
	if (t)
		buf_adds(&a->body, t);
	else
		a->body.err = 1;
	free(t);
	json_decref(j);
}

/* Answer Plivo's error, {"api_id", "error"}; returns http. */
static int
error(struct answer *a, unsigned http, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
error(struct answer *a, unsigned http, const char *fmt, ...)
{
	char msg[300], id[37];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	api_id(id);
	a->http = http;
	answer_json(a, json_pack("{s:s, s:s}", "api_id", id, "error", msg));
	snprintf(a->what, sizeof a->what, "%u %.180s", http, msg);
	return (int)http;
}

/* Plivo's word for m's state. */
static const char *
state(const struct msg *m)
{
	if (strcmp(m->direction, "inbound") == 0)
		return "received";
	if (strcmp(m->status, "failed") == 0 && m->error_code == OPTED_OUT)
		return "rejected";
	return m->status;
}

/* A number as Plivo writes it, without the "+". */
static const char *
plain(const char *n)
{
	return *n == '+' ? n + 1 : n;
}

/* What m costs, units times its rate (an MMS's is one unit). */
static void
amount_of(const struct msg *m, char out[24])
{
	unsigned e5 = m->segments * (m->media ? MMS_RATE_E5 : RATE_E5);

	snprintf(out, 24, "%u.%05u", e5 / 100000, e5 % 100000);
}

/* The message resource of m; s->lock held. */
static json_t *
message(const struct sim *s, const struct msg *m)
{
	char id[37], t[40], code[16], uri[200], amount[24];
	struct tm tm;

	sim_uuid(m->sid, id);
	gmtime_r(&m->created, &tm);
	strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S+00:00", &tm);
	snprintf(code, sizeof code, m->error_code ? "%d" : "000",
	    m->error_code);
	snprintf(uri, sizeof uri, "/v1/Account/%s/Message/%s/", s->account,
	    id);
	amount_of(m, amount);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s, s:i}",
	    "message_uuid", id, "message_state", state(m),
	    "message_direction", strcmp(m->direction, "inbound") == 0 ?
	    "inbound" : "outbound", "message_type", m->media ? "mms" : "sms",
	    "from_number", plain(m->from), "to_number", plain(m->to),
	    "message_time", t, "error_code", code, "resource_uri", uri,
	    "total_rate", m->media ? MMS_RATE : RATE,
	    "total_amount", m->priced ? amount : "0.00000",
	    "units", (int)m->segments);
}

/* Whether auth is Basic with the auth id and token. */
static int
authorized(const struct sim *s, const char *auth)
{
	char dec[512];
	size_t n = 0, na = strlen(s->account), nt = strlen(s->token);
	const char *end;

	if (!auth || strncmp(auth, "Basic ", 6) != 0 ||
	    sodium_base642bin((unsigned char *)dec, sizeof dec - 1, auth + 6,
	    strlen(auth + 6), NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) < 0 || *end)
		return 0;
	return n == na + 1 + nt && memcmp(dec, s->account, na) == 0 &&
	    dec[na] == ':' && sodium_memcmp(dec + na + 1, s->token, nt) == 0;
}

/* The media_urls of a create (a list, or NULL), each an http(s) URL,
 * into urls; 0, or the error answered. */
static int
media_urls(const json_t *list, const char **urls, struct answer *a)
{
	const json_t *u;
	size_t i;

	json_array_foreach(list, i, u) {
		if (!json_is_string(u) || !sim_url_ok(json_string_value(u)))
			return error(a, 400, "media_urls item %zu is not an "
			    "http or https URL", i);
		urls[i] = json_string_value(u);
	}
	return 0;
}

static int
create(struct sim *s, const struct buf *raw, struct answer *a)
{
	json_t *req = json_loadb(raw->p ? raw->p : "", raw->len, 0, NULL);
	const char *dst = json_string_value(json_object_get(req, "dst"));
	const char *src = json_string_value(json_object_get(req, "src"));
	const char *pp = json_string_value(json_object_get(req,
	    "powerpack_uuid"));
	const char *cb = json_string_value(json_object_get(req, "url"));
	const json_t *text = json_object_get(req, "text");
	const json_t *jurls = json_object_get(req, "media_urls");
	const char *type = json_string_value(json_object_get(req, "type"));
	size_t media = json_array_size(jurls), npieces = 0;
	const char *urls[URLS_MAX];
	struct media *pieces[URLS_MAX];
	int media_code = 0;
	char to[PHONE_MAX], from[PHONE_MAX + 1], tmp[PHONE_MAX], id[37];
	char num[PHONE_MAX + 1], aid[37];
	unsigned segments = 1;
	struct errbuf e;
	struct msg *m;
	int code = 0, rc = 0, optout;

	if (!json_is_object(req))
		rc = error(a, 400, "the request body is not a JSON object");
	else if (!dst || !*dst)
		rc = error(a, 400, "dst is required");
	else if (strchr(dst, '<'))
		rc = error(a, 400, "sms-sim takes one dst a message");
	else if ((!src || !*src) == (!pp || !*pp))
		rc = error(a, 400, "either src or powerpack_uuid is "
		    "required, not both");
	else if (type && strcmp(type, "sms") != 0 && strcmp(type, "mms") != 0)
		rc = error(a, 400, "type must be sms or mms");
	else if (jurls && !json_is_array(jurls))
		rc = error(a, 400, "media_urls must be a list of URLs");
	else if (media && (!type || strcmp(type, "mms") != 0))
		rc = error(a, 400, "media_urls are sent with type mms only");
	else if (type && strcmp(type, "mms") == 0 && media == 0)
		rc = error(a, 400, "an mms needs media_urls");
	else if (media > URLS_MAX)
		rc = error(a, 400, "at most %d media_urls a message",
		    URLS_MAX);
	else if ((rc = media_urls(jurls, urls, a)))
		;
	else if (!json_is_string(text) && media == 0)
		rc = error(a, 400, "text is required");
	else if (json_is_string(text) && sim_analyze(sim_thread_gsm(s),
	    json_string_value(text), json_string_length(text), 0, &segments,
	    NULL, NULL) < 0)
		rc = error(a, 400, "text is not UTF-8");
	else if (cb && !sim_url_ok(cb))
		rc = error(a, 400, "url %s is not a valid URL", cb);
	if (rc) {
		json_decref(req);
		return rc;
	}
	snprintf(num, sizeof num, "+%s", plain(dst));
	/* Plivo's numbers have no "+"; an alphanumeric sender stays. */
	snprintf(from, sizeof from, "%s", s->number);
	if (src && *src) {
		snprintf(from, sizeof from, "+%s", plain(src));
		if (strspn(plain(src), "0123456789") != strlen(plain(src)) ||
		    phone_normalize(from, NULL, tmp, &e) < 0)
			snprintf(from, sizeof from, "%s", src);
		else
			snprintf(from, sizeof from, "%s", tmp);
	}
	if (phone_normalize(num, NULL, to, &e) < 0 ||
	    (code = sim_refused(s, to)) == REFUSE_INVALID) {
		api_id(aid);
		answer_json(a, json_pack("{s:s, s:s, s:[], s:[s]}", "api_id",
		    aid, "message", "message(s) queued", "message_uuid",
		    "invalid_number", dst));
		a->http = 202;
		snprintf(a->what, sizeof a->what, "invalid number %.100s",
		    dst);
		json_decref(req);
		return 202;
	}
	optout = sim_opted_out(s, to, from);
	/* Plivo fetches the media as it sends; one that fails, fails. */
	if (media && !optout && !code)
		media_code = sim_media_fetch(s, urls, media, pieces, &npieces,
		    0, a);
	m = sim_msg_new(s, from, to, json_is_string(text) ?
	    json_string_value(text) : "", json_is_string(text) ?
	    json_string_length(text) : 0);
	if (m) {
		/* An MMS is one unit. */
		m->segments = media ? 1 : segments;
		m->media = (unsigned)media;
		/* Taken, then rejected: Plivo's way with a refusal. */
		if (optout || code || media_code) {
			m->fail_status = "failed";
			m->fail_code = optout ? OPTED_OUT : code ? code :
			    media_code;
		}
	}
	if (!m || (cb && !(m->callback = strdup(cb)))) {
		sim_msg_free(m);
		m = NULL;
	}
	json_decref(req);
	if (!m || sim_enqueue(s, m, media > 0) < 0) {
		for (size_t i = 0; i < npieces; i++)
			sim_media_free(pieces[i]);
		return error(a, 500, "%s", strerror(ENOMEM));
	}
	pthread_mutex_lock(&s->lock);
	if (sim_media_attach_locked(s, m->sid, pieces, npieces, 1) < 0)
		diag_warn("%s: cannot keep its media: %s", m->sid,
		    strerror(ENOMEM));
	pthread_mutex_unlock(&s->lock);
	sim_uuid(m->sid, id);
	api_id(aid);
	answer_json(a, json_pack("{s:s, s:s, s:[s]}", "api_id", aid,
	    "message", "message(s) queued", "message_uuid", id));
	snprintf(a->sid, sizeof a->sid, "%s", m->sid);
	if (sim_roll(s, s->drop)) {
		a->http = 0;
		snprintf(a->what, sizeof a->what, "created %s, dropped",
		    m->sid);
		return 0;
	}
	a->http = 202;
	snprintf(a->what, sizeof a->what, "created %s to %s%s", m->sid, to,
	    media_code ? ", its media failed" : "");
	return 202;
}

static int
fetch(struct sim *s, const char *uuid, struct answer *a)
{
	char sid[35], id[37];
	json_t *j;
	long at = -1;

	api_id(id);

	pthread_mutex_lock(&s->lock);
	if (sim_uuid_sid(uuid, "SM", sid) == 0 &&
	    (at = sim_find_locked(s, sid)) < 0) {
		sid[0] = 'M';
		at = sim_find_locked(s, sid);
	}
	if (at < 0 || s->msgs[at]->deleted) {
		pthread_mutex_unlock(&s->lock);
		return error(a, 404, "not found");
	}
	if ((j = message(s, s->msgs[at])))
		json_object_set_new(j, "api_id", json_string(id));
	answer_json(a, j);
	snprintf(a->sid, sizeof a->sid, "%s", sid);
	snprintf(a->what, sizeof a->what, "fetched %s %s", sid,
	    s->msgs[at]->status);
	pthread_mutex_unlock(&s->lock);
	a->http = 200;
	return 200;
}

/* GET Message/?limit=N&offset=M[&message_direction=D]: newest first. */
static int
list(struct sim *s, const char *query, struct answer *a)
{
	struct form q;
	struct errbuf e;
	const char *l, *o, *dir;
	unsigned long limit = LIMIT_MAX, offset = 0;
	size_t seen = 0, total = 0;
	json_t *objs = json_array(), *next = json_null();
	char aid[37], path[300];

	if (form_parse(&q, query, strlen(query), &e) < 0)
		return error(a, 400, "the query is not a form: %s", e.msg);
	l = form_get(&q, "limit");
	o = form_get(&q, "offset");
	dir = form_get(&q, "message_direction");
	if ((l && sim_number(l, 1, LIMIT_MAX, &limit) < 0) ||
	    (o && sim_number(o, 0, 999999999, &offset) < 0) ||
	    (dir && strcmp(dir, "inbound") != 0 &&
	    strcmp(dir, "outbound") != 0)) {
		form_free(&q);
		json_decref(objs);
		return error(a, 400, "limit is 1 to %d, offset a number, "
		    "message_direction inbound or outbound", LIMIT_MAX);
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = s->n; i-- > 0;) {
		const struct msg *m = s->msgs[i];
		int in = strcmp(m->direction, "inbound") == 0;

		if (m->deleted || (dir && in != (strcmp(dir, "inbound") == 0)))
			continue;
		total++;
		if (seen++ >= offset && json_array_size(objs) < limit)
			json_array_append_new(objs, message(s, m));
	}
	pthread_mutex_unlock(&s->lock);
	if (offset + limit < total) {
		snprintf(path, sizeof path, "/v1/Account/%s/Message/?limit=%lu"
		    "&offset=%lu%s%s", s->account, limit, offset + limit,
		    dir ? "&message_direction=" : "", dir ? dir : "");
		next = json_string(path);
	}
	form_free(&q);
	api_id(aid);
	answer_json(a, json_pack("{s:s, s:{s:i, s:o, s:i, s:n, s:i}, s:o}",
	    "api_id", aid, "meta", "limit", (int)limit, "next", next,
	    "offset", (int)offset, "previous", "total_count", (int)total,
	    "objects", objs));
	a->http = 200;
	snprintf(a->what, sizeof a->what, "listed %zu from %lu",
	    total > offset ? total - offset : 0, offset);
	return 200;
}

/*
 * GET /Account/ID/Media/MEDIA_ID: a customer's picture, its bytes, to the
 * account's Basic auth only.
 */
static int
media_get(struct sim *s, const char *method, const char *path,
    const char *auth, struct answer *a)
{
	char pre[200], meid[35];
	size_t n;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return error(a, 405, "method not allowed");
	if (!(a->auth = authorized(s, auth)))
		return error(a, 401, "authentication failed");
	n = (size_t)snprintf(pre, sizeof pre, "/Account/%s/Media/",
	    s->account);
	if (strncmp(path, pre, n) != 0 ||
	    sim_uuid_sid(path + n, "ME", meid) < 0)
		return error(a, 404, "not found");
	return sim_media_bytes(s, NULL, meid, a);
}

static int
route(struct sim *s, const char *method, const char *path, const char *query,
    const char *auth, const struct form *f, const struct buf *raw,
    struct answer *a)
{
	char base[200];
	size_t n;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	(void)f;
	if (strncmp(path, "/Account/", 9) == 0)
		return media_get(s, method, path, auth, a);
	n = (size_t)snprintf(base, sizeof base, "/v1/Account/%s/Message/",
	    s->account);
	if (strncmp(path, "/v1/Account/", 12) != 0)
		return error(a, 404, "not found");
	if (!(a->auth = authorized(s, auth)))
		return error(a, 401, "authentication failed");
	if (strncmp(path, base, n) != 0)
		return error(a, 404, "not found");
	path += n;
	if (!*path) {
		if (get)
			return sim_roll(s, s->read_errors) ? error(a, 500,
			    "internal error") : list(s, query, a);
		if (strcmp(method, "POST") != 0)
			return error(a, 405, "method not allowed");
		if (!sim_rate_ok(s))
			return error(a, 429, "too many requests");
		if (sim_roll(s, s->errors)) {
			a->retry_after = sim_roll(s, 50);
			return a->retry_after ? error(a, 503, "service "
			    "unavailable") : error(a, 500, "internal error");
		}
		return create(s, raw, a);
	}
	if (!get)
		return error(a, 405, "method not allowed");
	if (strlen(path) != 37 || path[36] != '/')
		return error(a, 404, "not found");
	if (sim_roll(s, s->read_errors))
		return error(a, 500, "internal error");
	snprintf(base, 37, "%.36s", path);
	return fetch(s, base, a);
}

/* POST form to url, signed (V3) by the auth token, twice for
 * --duplicate (a new nonce each). */
static long
post_form(struct sim *s, CURL *h, const char *url, const struct buf *body,
    char err[CURL_ERROR_SIZE])
{
	char nonce[21], sig[45], sighdr[80], noncehdr[64];
	const char *const hdrs[] = { sighdr, noncehdr, NULL };
	struct buf resp = { 0 };
	struct form f;
	struct errbuf e;
	long http = -1;
	int times = 1 + (s->duplicate > 0 && sim_roll(s, s->duplicate));

	if (body->err || form_parse(&f, body->p ? body->p : "", body->len,
	    &e) < 0) {
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	for (int i = 0; i < times; i++) {
		uint32_t r[2];

		randombytes_buf(r, sizeof r);
		snprintf(nonce, sizeof nonce, "%010u%010u", r[0] % 1000000000u,
		    r[1] % 1000000000u);
		if (plivo_signature(s->token, "POST", url, nonce, &f,
		    sig) < 0) {
			snprintf(err, CURL_ERROR_SIZE, "cannot sign: %s",
			    strerror(errno));
			http = -1;
			break;
		}
		snprintf(sighdr, sizeof sighdr, "X-Plivo-Signature-V3: %s",
		    sig);
		snprintf(noncehdr, sizeof noncehdr,
		    "X-Plivo-Signature-V3-Nonce: %s", nonce);
		resp.len = 0;
		if (i == 0)
			http = sim_post_raw(h, url,
			    "application/x-www-form-urlencoded", body->p,
			    body->len, hdrs, "PlivoHTTP/1.0", &resp, err);
		else {
			char err2[CURL_ERROR_SIZE];

			sim_post_raw(h, url,
			    "application/x-www-form-urlencoded", body->p,
			    body->len, hdrs, "PlivoHTTP/1.0", &resp, err2);
		}
	}
	form_free(&f);
	buf_free(&resp);
	return http;
}

/* The billing fields of m: Units, TotalRate, TotalAmount. */
static void
billing(const struct msg *m, struct buf *b)
{
	char n[24];

	snprintf(n, sizeof n, "%u", m->segments);
	sim_add_params(b, "Units", n);
	sim_add_params(b, "TotalRate", m->media ? MMS_RATE : RATE);
	amount_of(m, n);
	sim_add_params(b, "TotalAmount", n);
}

static void
post_status(struct sim *s, CURL *h, const struct msg *m, const char *status,
    int code)
{
	struct buf body = { 0 };
	char err[CURL_ERROR_SIZE], id[37], n[16];
	long http;

	if (strcmp(status, "canceled") == 0)
		return;		/* Plivo has no scheduling */
	sim_uuid(m->sid, id);
	sim_add_params(&body, "MessageUUID", id);
	sim_add_params(&body, "Status", strcmp(status, "failed") == 0 &&
	    code == OPTED_OUT ? "rejected" : status);
	snprintf(n, sizeof n, code ? "%d" : "000", code);
	sim_add_params(&body, "ErrorCode", n);
	sim_add_params(&body, "From", plain(m->from));
	sim_add_params(&body, "To", plain(m->to));
	billing(m, &body);
	sim_add_params(&body, "MCC", "310");
	sim_add_params(&body, "MNC", "260");
	sim_add_params(&body, "PartInfo", "1 of 1");
	sim_add_params(&body, "ParentMessageUUID", id);
	sim_add_params(&body, "Sequence", "1");
	http = post_form(s, h, m->callback, &body, err);
	if (http < 0)
		diag_warn("callback %s %s -> %s: %s", m->sid, status,
		    m->callback, err);
	else
		fprintf(stderr, "%s: callback %s %s -> %s: %ld\n",
		    diag_prog(), m->sid, status, m->callback, http);
	buf_free(&body);
}

/* The URL of the piece p of m: Plivo's media URL, /Account/ID/Media/
 * MEDIA_ID, on --cdn-host if given (Plivo's media host is not its API's),
 * else on the host the customer's client reached. */
static void
media_url(const struct sim *s, const struct msg *m, const struct media *p,
    char *out, size_t size)
{
	char mid[37], host[300];

	sim_uuid(p->sid, mid);
	if (s->cdn_host)
		snprintf(host, sizeof host, "http://%s:%u", s->cdn_host,
		    s->port);
	else
		snprintf(host, sizeof host, "%s", m->media_base ?
		    m->media_base : "");
	snprintf(out, size, "%s/Account/%s/Media/%s", host, s->account, mid);
}

/* MediaCount and Media1..N of the inbound m. */
static void
media_params(struct sim *s, const struct msg *m, struct buf *b)
{
	char url[400], name[16];
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nmedia; i++) {
		if (strcmp(s->media[i]->parent, m->sid) != 0)
			continue;
		media_url(s, m, s->media[i], url, sizeof url);
		snprintf(name, sizeof name, "Media%u", ++n);
		sim_add_params(b, name, url);
	}
	pthread_mutex_unlock(&s->lock);
	snprintf(name, sizeof name, "%u", n);
	sim_add_params(b, "MediaCount", name);
}

static long
post_inbound(struct sim *s, CURL *h, const struct msg *m,
    const char *optout_type, char err[CURL_ERROR_SIZE])
{
	struct buf body = { 0 };
	char id[37];
	long http;

	sim_uuid(m->sid, id);
	sim_add_params(&body, "From", plain(m->from));
	sim_add_params(&body, "To", plain(m->to));
	/* An MMS has its text in Body, its media as MediaCount and
	 * Media1..N, each at Plivo's media URL, behind the account's Basic
	 * auth. */
	sim_add_param(&body, m->media ? "Body" : "Text", m->body,
	    m->body_len);
	sim_add_params(&body, "Type", m->media ? "mms" : "sms");
	sim_add_params(&body, "MessageUUID", id);
	if (m->media)
		media_params(s, m, &body);
	billing(m, &body);
	if (optout_type)
		sim_add_params(&body, "MessageIntent", strcmp(optout_type,
		    "STOP") == 0 ? "optout" : "optin");
	http = post_form(s, h, s->webhook, &body, err);
	buf_free(&body);
	return http;
}

const struct sim_provider sim_plivo = {
	.name = "plivo",
	.route = route,
	.post_status = post_status,
	.post_inbound = post_inbound,
	.refuse_optout = OPTED_OUT,
	.refuse_invalid = REFUSE_INVALID,
	.fail_code = 20,
	.code_min = 1,
	.code_max = 9999,
};
