/*
 * http.c: a request in, an answer out.
 *
 * libmicrohttpd calls sim_on_request() as a request comes in. Once its
 * body is whole, handle() reads the form, route() sends it by path and
 * method to its handler, behind Basic auth and the faults of a create,
 * and the answer waits out --latency, is logged, and is queued. An answer
 * with no HTTP status drops the connection instead (--drop).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "httpd.h"

#include "sms-sim/sim.h"

#define MAX_BODY (256 * 1024)	/* 1,600 characters fit many times over */

void
sim_sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Whether the request carries the account's credentials: the account SID
 * or an API key SID (SK...) as user, and the auth token as password. */
static int
authorized(const struct sim *s, struct MHD_Connection *conn)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(conn, &pass);
	size_t n = strlen(s->token);
	int ok;

	ok = user && pass && (strcmp(user, s->account) == 0 ||
	    sim_sid_ok(user, "SK")) && strlen(pass) == n &&
	    sodium_memcmp(pass, s->token, n) == 0;
	if (user)
		MHD_free(user);
	if (pass)
		MHD_free(pass);
	return ok;
}

/* The sim's own URL as the client reached it: http:// and its Host. */
static void
base_url(struct MHD_Connection *conn, char *out, size_t size)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);

	if (!host || !*host || strpbrk(host, "/?#@ \t\r\n\"<>\\"))
		host = "127.0.0.1";
	snprintf(out, size, "http://%s", host);
}

/* Route a whole request. path has no query; f is the body's form, raw
 * the body as sent. */
static int
route(struct sim *s, struct MHD_Connection *conn, const char *method,
    const char *path, const char *query, const struct form *f,
    const struct buf *raw, struct answer *a)
{
	char base[300];

	const char *rest, *sid;
	size_t n;
	char sidbuf[35];
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post_ = strcmp(method, "POST") == 0;

	if (strcmp(path, "/sim/text") == 0) {
		if (!post_)
			return sim_error(a, 405, 20004,
			    "Method not allowed");
		base_url(conn, base, sizeof base);
		return sim_text(s, f, base, a);
	}
	if (strcmp(path, "/sim/clock") == 0)
		return sim_clock(s, method, f, a);
	if (strcmp(path, "/sim/media") == 0) {
		if (!post_)
			return sim_error(a, 405, 20004,
			    "Method not allowed");
		return sim_media_upload(s, query,
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE), raw, a);
	}
	if (strncmp(path, "/cdn/", 5) == 0) {
		if (!get)
			return sim_error(a, 405, 20004,
			    "Method not allowed");
		a->authorization = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
		return sim_media_cdn(s, path + 5, a);
	}
	if (s->pv->route) {
		a->api = 1;
		return s->pv->route(s, method, path, query,
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_AUTHORIZATION), f, raw, a);
	}
	if (strncmp(path, API, strlen(API)) != 0)
		return sim_not_found(a, path);
	a->api = 1;
	if (!(a->auth = authorized(s, conn)))
		return sim_error(a, 401, 20003, "Authenticate");
	rest = path + strlen(API);
	n = strcspn(rest, "/.");
	if (n != strlen(s->account) || strncmp(rest, s->account, n) != 0)
		return sim_not_found(a, path);
	rest += n;
	if (strcmp(rest, "/Messages.json") == 0) {
		if (post_) {
			if (!sim_rate_ok(s))
				return sim_error(a, 429, 20429,
				    "Too Many Requests");
			if (sim_roll(s, s->errors)) {
				a->retry_after = sim_roll(s, 50);
				return a->retry_after ? sim_error(a, 503,
				    20503, "Service Unavailable") :
				    sim_error(a, 500, 20500,
				    "Internal Server Error");
			}
			return sim_create(s, f, a);
		}
		if (get)
			return sim_read_error(s, a) ? (int)a->http :
			    sim_list(s, query, a);
		return sim_error(a, 405, 20004, "Method not allowed");
	}
	if (strncmp(rest, "/Messages/", 10) == 0) {
		sid = rest + 10;
		n = strcspn(sid, "/.");
		if (n != 34)
			return sim_not_found(a, path);
		snprintf(sidbuf, sizeof sidbuf, "%.34s", sid);
		if (strcmp(sid + n, "/Media.json") == 0 ||
		    strncmp(sid + n, "/Media/", 7) == 0) {
			if (!get)
				return sim_error(a, 405, 20004,
				    "Method not allowed");
			if (sim_read_error(s, a))
				return (int)a->http;
			return sim_media_api(s, sidbuf, sid + n, path, a);
		}
		if (strcmp(sid + n, ".json") != 0)
			return sim_not_found(a, path);
		if (get && sim_read_error(s, a))
			return (int)a->http;
		if (get || post_ || strcmp(method, "DELETE") == 0)
			return sim_instance(s, get ? "GET" : method, sidbuf,
			    path, f, a);
		return sim_error(a, 405, 20004, "Method not allowed");
	}
	return sim_not_found(a, path);
}

/* A body served slowly or in part: the bytes, then zeros up to size
 * (--media-fail large), or nothing at all for STALL_MS (timeout). */
struct stream {
	struct buf b;
	uint64_t size;
	int stall;
	unsigned waited;	/* ms */
	int fd;			/* the client's socket, to see it close */
	const struct sim *s;
};

#define STALL_MS (120 * 1000)	/* longer than any client waits */
#define STALL_STEP_MS 50

static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	size_t n;

	if (st->stall) {
		char c;

		/* Until the client gives up (its socket reads EOF or an
		 * error), or the sim stops. */
		if (st->waited >= STALL_MS || st->s->draining ||
		    (st->fd >= 0 && recv(st->fd, &c, 1, MSG_PEEK |
		    MSG_DONTWAIT) == 0) || (st->fd >= 0 && recv(st->fd, &c,
		    1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		sim_sleep_ms(STALL_STEP_MS);
		st->waited += STALL_STEP_MS;
		return 0;
	}
	if (pos >= st->size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = st->size - pos < max ? (size_t)(st->size - pos) : max;
	if (pos < st->b.len) {
		if (n > st->b.len - pos)
			n = st->b.len - (size_t)pos;
		memcpy(out, st->b.p + pos, n);
	} else {
		memset(out, 0, n);
	}
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct stream *st = cls;

	buf_free(&st->b);
	free(st);
}

/* The response of a, taking its body if it is streamed. */
static struct MHD_Response *
response(const struct sim *s, struct MHD_Connection *conn, struct answer *a)
{
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *rs;
	struct stream *st;

	if (!a->large && !a->stall)
		return MHD_create_response_from_buffer(a->body.len,
		    a->body.p ? a->body.p : "", MHD_RESPMEM_MUST_COPY);
	if (!(st = calloc(1, sizeof *st)))
		return NULL;
	st->b = a->body;
	st->size = a->large ? a->large : a->body.len;
	st->stall = a->stall;
	st->s = s;
	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	st->fd = ci ? ci->connect_fd : -1;
	if (!(rs = MHD_create_response_from_callback(st->size, 64 * 1024,
	    stream_read, st, stream_free))) {
		free(st);
		return NULL;
	}
	memset(&a->body, 0, sizeof a->body);
	return rs;
}

static enum MHD_Result
queue(const struct sim *s, struct MHD_Connection *conn, struct answer *a)
{
	struct MHD_Response *rs;
	enum MHD_Result ret;

	if (!(rs = response(s, conn, a)))
		return MHD_NO;
	if (a->location[0])
		MHD_add_response_header(rs, MHD_HTTP_HEADER_LOCATION,
		    a->location);
	if (a->ctype[0])
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE,
		    a->ctype);
	else if (a->http != MHD_HTTP_NO_CONTENT && !a->location[0])
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json; charset=utf-8");
	if (a->http == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Basic realm=\"Twilio API\"");
	if (a->retry_after)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	ret = MHD_queue_response(conn, a->http, rs);
	MHD_destroy_response(rs);
	return ret;
}

/* Handle a whole request: route it, wait out --latency, log, answer. */
static enum MHD_Result
handle(struct sim *s, struct MHD_Connection *conn, struct httpd_request *q,
    const char *method)
{
	struct answer a = { .auth = -1, .authorization = -1 };
	struct form f = { 0 };
	struct errbuf e;
	const char *ctype, *query;
	char *path;
	enum MHD_Result ret;
	int form_ok = 1;

	query = strchr(q->uri, '?');
	if (!(path = strndup(q->uri, query ? (size_t)(query - q->uri) :
	    strlen(q->uri))))
		return MHD_NO;
	query = query ? query + 1 : "";
	ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	/* Twilio reads form bodies only; anything else has no parameters.
	 * An upload's body is its bytes, whatever its type. */
	if (strcmp(path, "/sim/media") != 0 && (!ctype ||
	    strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0))
		form_ok = form_parse(&f, q->body.p ? q->body.p : "",
		    q->body.len, &e) == 0;
	if (!form_ok) {
		a.api = strncmp(path, API, strlen(API)) == 0;
		sim_error(&a, 400, 20001, "Invalid parameters: %s", e.msg);
	} else {
		route(s, conn, method, path, query, &f, &q->body, &a);
	}
	if (a.api && s->latency)
		sim_sleep_ms(s->latency);
	sim_log_request(conn, q, method, a.http, a.what);
	sim_log_record(s, method, path, query, form_ok ? &f : NULL, &a);
	ret = a.http && !a.body.err ? queue(s, conn, &a) : MHD_NO;
	free(path);
	form_free(&f);
	buf_free(&a.body);
	json_decref(a.media);
	return ret;
}

enum MHD_Result
sim_on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct httpd_request *q = *req_cls;
	struct answer a = { .auth = -1 };
	enum MHD_Result ret;

	(void)url;
	(void)version;
	if (!q || !q->uri)
		return MHD_NO;
	if (!q->seen) {
		/* The first call comes with the headers, before any body. */
		q->seen = 1;
		return MHD_YES;
	}
	if (*size > 0) {
		/* An upload to /sim/media may be a picture's size. */
		if (q->body.len + *size > (strncmp(q->uri, "/sim/media", 10)
		    == 0 ? ((struct sim *)cls)->media_max : MAX_BODY))
			q->too_big = 1;
		else if (buf_add(&q->body, data, *size) < 0)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	if (!q->too_big)
		return handle(cls, conn, q, method);
	sim_error(&a, MHD_HTTP_CONTENT_TOO_LARGE, 20001,
	    "Request body over %zu bytes", strncmp(q->uri, "/sim/media", 10)
	    == 0 ? ((struct sim *)cls)->media_max : (size_t)MAX_BODY);
	sim_log_request(conn, q, method, a.http, a.what);
	ret = queue(cls, conn, &a);
	buf_free(&a.body);
	return ret;
}
