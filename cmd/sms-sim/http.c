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

/* Route a whole request. path has no query; f is the body's form. */
static int
route(struct sim *s, struct MHD_Connection *conn, const char *method,
    const char *path, const char *query, const struct form *f,
    struct answer *a)
{
	const char *rest, *sid;
	size_t n;
	char sidbuf[35];
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post_ = strcmp(method, "POST") == 0;

	if (strcmp(path, "/sim/text") == 0) {
		if (!post_)
			return sim_error(a, 405, 20004,
			    "Method not allowed");
		return sim_text(s, f, a);
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
		if (n != 34 || strcmp(sid + n, ".json") != 0)
			return sim_not_found(a, path);
		snprintf(sidbuf, sizeof sidbuf, "%.34s", sid);
		if (get && sim_read_error(s, a))
			return (int)a->http;
		if (get || post_ || strcmp(method, "DELETE") == 0)
			return sim_instance(s, get ? "GET" : method, sidbuf,
			    path, f, a);
		return sim_error(a, 405, 20004, "Method not allowed");
	}
	return sim_not_found(a, path);
}

static enum MHD_Result
queue(struct MHD_Connection *conn, const struct answer *a)
{
	struct MHD_Response *rs;
	enum MHD_Result ret;

	rs = MHD_create_response_from_buffer(a->body.len,
	    a->body.p ? a->body.p : "", MHD_RESPMEM_MUST_COPY);
	if (!rs)
		return MHD_NO;
	if (a->http != MHD_HTTP_NO_CONTENT)
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
	struct answer a = { .auth = -1 };
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
	/* Twilio reads form bodies only; anything else has no parameters. */
	if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded",
	    33) == 0)
		form_ok = form_parse(&f, q->body.p ? q->body.p : "",
		    q->body.len, &e) == 0;
	if (!form_ok) {
		a.api = strncmp(path, API, strlen(API)) == 0;
		sim_error(&a, 400, 20001, "Invalid parameters: %s", e.msg);
	} else {
		route(s, conn, method, path, query, &f, &a);
	}
	if (a.api && s->latency)
		sim_sleep_ms(s->latency);
	sim_log_request(conn, q, method, a.http, a.what);
	sim_log_record(s, method, path, query, form_ok ? &f : NULL, &a);
	ret = a.http && !a.body.err ? queue(conn, &a) : MHD_NO;
	free(path);
	form_free(&f);
	buf_free(&a.body);
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
		if (q->body.len + *size > MAX_BODY)
			q->too_big = 1;
		else if (buf_add(&q->body, data, *size) < 0)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	if (!q->too_big)
		return handle(cls, conn, q, method);
	sim_error(&a, MHD_HTTP_CONTENT_TOO_LARGE, 20001,
	    "Request body over %d bytes", MAX_BODY);
	sim_log_request(conn, q, method, a.http, a.what);
	ret = queue(conn, &a);
	buf_free(&a.body);
	return ret;
}
