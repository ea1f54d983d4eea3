/*
 * listen.c: the webhook listener, sms-recv --listen.
 *
 * It serves POST /PROVIDER on GNU libmicrohttpd: connections on a few
 * event threads (epoll), complete requests on a pool of workers. A request
 * is read whole (up to MAX_BODY), its signature checked against the
 * configured public URL, stored (store.c), and only then answered 200; one
 * it cannot store gets 503. It also serves GET /media/NAME: the pictures
 * we send, linked in serve/ until they expire (serve.h), for the provider
 * to fetch. Slow clients are cut off by lib/httpd's guard;
 * what floods the log is said at most LOG_PER_SECOND lines a second.
 *
 * Signals are taken in the main thread (sigtimedwait): SIGHUP reloads
 * the settings (conf.c; a request keeps those it began with), SIGTERM
 * and SIGINT stop it, STOP_SECONDS at most for the requests in flight.
 * Every answer is counted for the admin server (admin.c), which runs
 * beside it on its own port if --admin-listen asks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "httpd.h"
#include "inbox.h"
#include "provider.h"
#include "media.h"
#include "serve.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

#define MAX_BODY (64 * 1024)
#define STOP_SECONDS 10		/* for requests in flight at a stop */

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned code, const char *body,
    size_t len, const char *type)
{
	struct MHD_Response *rs;

	rs = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (!rs)
		return MHD_NO;
	if (type)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, "30");
	return httpd_answer(conn, code, rs);
}

static enum MHD_Result
fail(struct MHD_Connection *conn, unsigned code, const char *msg)
{
	return answer(conn, code, msg, strlen(msg), "text/plain");
}

/*
 * The route of a request's uri, for its count (struct recv_stats): the
 * index of the provider whose path it is, ROUTE_MEDIA, or ROUTE_OTHER.
 */
static size_t
route_of(const char *uri)
{
	const struct provider *pv;
	size_t len = strcspn(uri, "?");

	if (strncmp(uri, "/media/", 7) == 0)
		return ROUTE_MEDIA;
	for (size_t i = 0; i < FEEDS_MAX && (pv = provider_at(i)); i++)
		if (pv->webhook_path && strlen(pv->webhook_path) == len &&
		    memcmp(pv->webhook_path, uri, len) == 0)
			return i;
	return ROUTE_OTHER;
}

/* The request's log line, and its count for the metrics. */
static void
log_request(struct recv *r, struct MHD_Connection *conn,
    const struct httpd_request *q, const char *method, unsigned code,
    const char *what)
{
	char line[512];

	admin_count(r, q->uri ? route_of(q->uri) : ROUTE_OTHER, code);
	httpd_log_line(conn, q, 0, method, code, what, line, sizeof line);
	fprintf(stderr, "%s: %s\n", diag_prog(), line);
}

/*
 * The feed whose provider's path is the first len bytes of path, or
 * NULL: each provider the listener serves has its own.
 */
static const struct feed *
feed_of(const struct recv_conf *c, const char *path, size_t len)
{
	for (size_t i = 0; i < c->nfeeds; i++) {
		const char *p = c->feed[i].pv->webhook_path;

		if (strlen(p) == len && memcmp(p, path, len) == 0)
			return &c->feed[i];
	}
	return NULL;
}

/* handle(), with the settings c. */
static unsigned
handle_with(struct recv *r, const struct recv_conf *c,
    struct MHD_Connection *conn, struct httpd_request *q,
    enum MHD_Result *ret)
{
	struct webhook_request rq = { .method = "POST" };
	struct webhook_event ev = { 0 };
	struct form form = { 0 };
	struct errbuf e;
	struct buf url = { 0 }, out = { 0 };
	const char *ctype;
	char *reply = NULL;
	unsigned code;
	size_t i;
	int dup;
	/* on_request() took the request for this path: a feed's. */
	const struct feed *fd = feed_of(c, q->uri, strcspn(q->uri, "?"));
	const struct provider *pv = fd ? fd->pv : c->pv;

	ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	rq.content_type = ctype;
	rq.body = q->body.p ? q->body.p : "";
	rq.body_len = q->body.len;
	buf_adds(&url, c->public_url);
	buf_adds(&url, q->uri);
	buf_addc(&url, '\0');
	rq.url = url.p;
	rq.now = when_now();	/* a timestamp's window: SMSDESK_NOW too */
	rq.sig_method = fd ? fd->sig_method : NULL;
	for (i = 0; pv->sig_headers[i] && i < PROVIDER_SIG_MAX; i++)
		rq.sig[i] = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    pv->sig_headers[i]);

	if (q->get) {
		/* A provider that calls by GET: the query is the form. */
		const char *qs = strchr(q->uri, '?');

		rq.method = "GET";
		qs = qs ? qs + 1 : "";
		if (form_parse(&form, qs, strlen(qs), &e) < 0) {
			code = MHD_HTTP_BAD_REQUEST;
			goto done;
		}
		rq.form = &form;
	} else if (ctype && strncasecmp(ctype, "application/json", 16) != 0) {
		if (form_parse(&form, rq.body, rq.body_len, &e) < 0) {
			code = MHD_HTTP_BAD_REQUEST;
			goto done;
		}
		rq.form = &form;
	}
	if (!fd || (fd->secret && pv->verify(fd->secret, &rq, &e) < 0)) {
		code = MHD_HTTP_FORBIDDEN;
		goto done;
	}
	if (pv->parse(&rq, &ev, &e) < 0) {
		code = MHD_HTTP_BAD_REQUEST;
		goto done;
	}
	if ((dup = store_event(r, pv, &ev, &reply, &e)) < 0) {
		code = errno == EINVAL ? MHD_HTTP_BAD_REQUEST :
		    MHD_HTTP_SERVICE_UNAVAILABLE;
		goto done;
	}
	/* A retry is answered as the first time, and said in the log; it
	 * is stored only the first time, and counted so. */
	snprintf(e.msg, sizeof e.msg, "%s %s%s", ev.kind == WEBHOOK_STATUS ?
	    ev.status : "message", ev.id, dup ? " (a duplicate)" : "");
	if (!dup)
		atomic_fetch_add_explicit(ev.kind == WEBHOOK_STATUS ?
		    &r->stats.statuses : &r->stats.messages, 1,
		    memory_order_relaxed);
	code = MHD_HTTP_OK;
done:
	if (code == MHD_HTTP_OK && (pv->reply_to ?
	    pv->reply_to(&ev, reply, reply ? strlen(reply) : 0, &out,
	    &ctype, &e) : pv->reply(reply, reply ? strlen(reply) : 0,
	    &out, &ctype, &e)) == 0)
		*ret = answer(conn, code, out.p ? out.p : "", out.len, ctype);
	else if (code == MHD_HTTP_OK)
		*ret = fail(conn, code = MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot answer\n");
	else
		*ret = fail(conn, code, code == MHD_HTTP_FORBIDDEN ?
		    "forbidden\n" : code == MHD_HTTP_BAD_REQUEST ?
		    "bad request\n" : "cannot store now, try again\n");
	log_request(r, conn, q, rq.method, code, e.msg);
	free(reply);
	provider_event_free(&ev);
	form_free(&form);
	buf_free(&url);
	buf_free(&out);
	return code;
}

/*
 * Handle a whole request; returns the HTTP status it answered with. It
 * works with the settings taken as its headers came (conf.c): a reload
 * since is for the next request.
 */
static unsigned
handle(struct recv *r, struct MHD_Connection *conn, struct httpd_request *q,
    enum MHD_Result *ret)
{
	const struct recv_conf *c = q->ctx ? q->ctx : conf_take(r);
	unsigned code;

	conf_use(c);
	code = handle_with(r, c, conn, q, ret);
	conf_use(NULL);
	if (!q->ctx)
		conf_drop(r, c);
	return code;
}
/*
 * GET (or HEAD) /media/NAME: the link serve/NAME, while it has not
 * expired, with the type its bytes are; anything else under /media/ is
 * 404, never a file outside serve/ (inbox_serve_open() takes a name of
 * serve/'s shape only).
 */
static enum MHD_Result
serve_media(struct recv *r, struct MHD_Connection *conn,
    struct httpd_request *q, const char *method, const char *name)
{
	unsigned char head[512];
	struct MHD_Response *rs;
	const char *type;
	struct stat st;
	ssize_t n;
	int fd;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		log_request(r, conn, q, method, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "GET only");
		return fail(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	}
	/* Its headers are in: the whole answer gets the request's limit. */
	httpd_guard_headers(conn);
	if ((fd = inbox_serve_open(&r->ib, name, when_now(), &st)) < 0) {
		log_request(r, conn, q, method, MHD_HTTP_NOT_FOUND,
		    errno == ETIME ? "media expired" : errno == ENOENT ?
		    "no such media" : strerror(errno));
		return fail(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	n = pread(fd, head, sizeof head, 0);
	type = media_sniff(head, n > 0 ? (size_t)n : 0);
	if (!(rs = MHD_create_response_from_fd((uint64_t)st.st_size, fd))) {
		close(fd);
		log_request(r, conn, q, method, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot answer");
		return MHD_NO;
	}
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, type ?
	    type : "application/octet-stream");
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "private, no-store");
	log_request(r, conn, q, method, MHD_HTTP_OK, "media");
	return httpd_answer(conn, MHD_HTTP_OK, rs);
}

/* A request's settings let go of, as it is freed (httpd_on_done). */
static void
drop_conf(void *cls, void *ctx)
{
	conf_drop(cls, ctx);
}

/*
 * Whether the settings current as q's headers came have a feed for pv:
 * they are taken for q, to the end (handle()).
 */
static int
served(struct recv *r, struct httpd_request *q, const struct provider *pv)
{
	const struct recv_conf *c;
	int yes = 0;

	if (!q->ctx) {
		q->ctx = (void *)conf_take(r);
		q->ctx_cls = r;
		q->release = drop_conf;
	}
	c = q->ctx;
	for (size_t i = 0; i < c->nfeeds; i++)
		yes |= c->feed[i].pv == pv;
	return yes;
}

/* handle() on one of the listener's workers (httpd_pool_run). */
static void
handle_job(void *cls, struct MHD_Connection *conn, struct httpd_request *q)
{
	enum MHD_Result ret;

	handle(cls, conn, q, &ret);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct recv *r = cls;
	struct httpd_request *q = *req_cls;
	enum MHD_Result ret = MHD_NO;
	const struct provider *pv;
	size_t route;

	(void)version;
	if (!q || !q->uri)
		return MHD_NO;
	if (strncmp(path, "/media/", 7) == 0)
		return serve_media(r, conn, q, method, path + 7);
	/* A provider's path, and (asked once) one the listener serves. */
	route = route_of(q->uri);
	pv = route < FEEDS_MAX ? provider_at(route) : NULL;
	if (!pv || (!q->seen && !served(r, q, pv))) {
		log_request(r, conn, q, method, MHD_HTTP_NOT_FOUND,
		    "no such path");
		return fail(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	if (pv->get && strcmp(method, "GET") == 0)
		q->get = 1;
	else if (strcmp(method, "POST") != 0) {
		log_request(r, conn, q, method, MHD_HTTP_METHOD_NOT_ALLOWED,
		    pv->get ? "GET or POST only" : "POST only");
		return fail(conn, MHD_HTTP_METHOD_NOT_ALLOWED, pv->get ?
		    "GET or POST only\n" : "POST only\n");
	}
	if (!q->seen) {
		/* The first call comes with the headers, before any body. */
		q->seen = 1;
		httpd_guard_headers(conn);
		return MHD_YES;
	}
	if (*size > 0) {
		if (httpd_elapsed(q) > r->timeout * 3) {
			/*
			 * Trickling within the idle timeout: a time limit too.
			 * libmicrohttpd 0.9.75 cannot answer in the middle of
			 * a body, so the connection is cut.
			 */
			log_request(r, conn, q, "POST", 0, "too slow: cut off");
			return MHD_NO;
		}
		if (q->body.len + *size > MAX_BODY)
			q->too_big = 1;
		else if (buf_add(&q->body, data, *size) < 0)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	if (q->too_big || q->body.len > MAX_BODY) {
		log_request(r, conn, q, "POST", MHD_HTTP_CONTENT_TOO_LARGE,
		    "too large");
		return fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
	}
	if (q->deferred)	/* back from the pool, with its answer */
		return httpd_pool_answered(conn, q);
	httpd_guard_busy(conn);
	if (httpd_pool_run(r->pool, conn, q, handle_job, r) == 0)
		return MHD_YES;
	handle(r, conn, q, &ret);
	return ret;
}

/* Refuse a body whose declared length is over the cap before reading. */
static enum MHD_Result
on_headers(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct httpd_request *q = *req_cls;

	if (q && !q->seen && !q->too_big && cl &&
	    strtoull(cl, NULL, 10) > MAX_BODY) {
		log_request(cls, conn, q, "POST", MHD_HTTP_CONTENT_TOO_LARGE,
		    "too large");
		q->too_big = 2;
		return fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
	}
	if (q && q->too_big == 2)
		return MHD_YES;
	return on_request(cls, conn, path, method, version, data, size,
	    req_cls);
}

/* A line of the listener's rate-limited logs (httpd_log). */
static void
log_out(void *arg, const char *line)
{
	(void)arg;
	diag_warn("%s", line);
}

/* The guard's line for a connection it cut off, through its log. */
static void
guard_report(void *arg, const char *line)
{
	httpd_log_say(arg, httpd_now(), line);
}

/*
 * How many connections the listener can take: it raises its limit of
 * open files to MAX_CONNECTIONS + FD_RESERVE if the hard limit allows,
 * and leaves FD_RESERVE of them to the inbox, the journal and
 * libmicrohttpd's own.
 */
static unsigned
connection_cap(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return MAX_CONNECTIONS;
	want = MAX_CONNECTIONS + FD_RESERVE;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		return rl.rlim_cur > 2 * FD_RESERVE ?
		    (unsigned)(rl.rlim_cur - FD_RESERVE) :
		    (unsigned)(rl.rlim_cur / 2);
	return MAX_CONNECTIONS;
}


/* The links of serve/ that have expired, removed (said if it fails). */
static void
sweep_media(struct recv *r)
{
	struct errbuf e;
	size_t n;

	if (inbox_serve_sweep(&r->ib, when_now(), &n, &e) < 0)
		diag_warn("%s", e.msg);
}

/*
 * SIGHUP: the configuration loaded anew (conf.c); one that does not load
 * is said, and the settings in use stay.
 */
static void
reload(struct recv *r)
{
	struct errbuf e;

	if (conf_reload(r, &e) < 0) {
		atomic_fetch_add(&r->stats.reload_failures, 1);
		diag_warn("%s (SIGHUP: the configuration in use is kept)",
		    e.msg);
		return;
	}
	atomic_fetch_add(&r->stats.reloads, 1);
	atomic_store(&r->stats.reloaded_at, (long long)time(NULL));
	fprintf(stderr, "%s: SIGHUP: configuration reloaded\n", diag_prog());
}

/* Serve webhooks on sin (addr: its address as text, for a URL). */
/*
 * SIGTERM, SIGINT and SIGHUP, blocked in the calling thread and so in
 * every thread it starts after: a listener takes them in listen_loop's
 * wait, and no other thread (the journal's ticker, the event writer, the
 * media fetcher, MHD's) may meet them with their default action, which
 * ends the process. Called before the first thread starts.
 */
void
listen_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

int
listen_loop(struct recv *r, struct sockaddr_storage *sin, const char *addr,
    unsigned timeout)
{
	struct httpd_opts o = { 0 };
	struct httpd *h, *admin = NULL;
	struct httpd_guard *g;
	struct httpd_log *mhd_log, *cut_log;
	struct errbuf e;
	unsigned short port;
	unsigned cap;
	sigset_t set;
	int sig;

	port = httpd_port(sin);
	cap = connection_cap();
	listen_signals(&set);
	/*
	 * Headers get the idle timeout, a whole request three times it.
	 * What floods (a refusal for every connection over a limit, a cut
	 * for every slow one) is said at most LOG_PER_SECOND lines a second.
	 */
	if (!(mhd_log = httpd_log_new("libmicrohttpd", LOG_PER_SECOND,
	    log_out, NULL)) || !(cut_log = httpd_log_new("slow connections",
	    LOG_PER_SECOND, log_out, NULL)))
		diag_die(EXIT_TEMPFAIL, "%s", strerror(ENOMEM));
	if (!(g = httpd_guard_start(timeout, timeout * 3.0, guard_report,
	    cut_log)) || !(r->pool = httpd_pool_start(WORKERS)))
		diag_die(EXIT_TEMPFAIL, "cannot start a thread: %s",
		    strerror(errno));
	/*
	 * Connections on a few event threads (epoll), so that an idle or
	 * slow one costs no thread; complete requests on the pool, so that
	 * one waiting on the disk holds up no other.
	 */
	o.addr = sin;
	o.threads = HTTPD_EVENTS;
	o.event_threads = EVENT_THREADS;
	o.max_connections = cap;
	o.per_address = r->per_address;
	o.timeout = timeout;
	o.handler = on_headers;
	o.handler_cls = r;
	o.pool = r->pool;
	o.guard = g;
	o.log = mhd_log;
	if (!(h = httpd_start(&o, &e))) {
		/* Its journal goes too: no later start has it to replay. */
		stop_journal(r);
		diag_die(EXIT_IOERR, "--listen %s:%u: %s", addr, port, e.msg);
	}
	fprintf(stderr, "%s: listening on %s:%u for ", diag_prog(), addr,
	    port);
	for (size_t i = 0; i < r->conf->nfeeds; i++)
		fprintf(stderr, "%s%s (%s)", i ? ", " : "",
		    r->conf->feed[i].pv->name,
		    r->conf->feed[i].pv->webhook_path);
	fprintf(stderr, ", public URL %s\n", r->conf->public_url);
	if (r->admin && !(admin = admin_start(r, &e))) {
		httpd_stop_gently(h, 0);
		stop_journal(r);
		diag_die(EXIT_IOERR, "--admin-listen %s:%u: %s", r->admin_addr,
		    httpd_port(r->admin), e.msg);
	}
	fprintf(stderr, "%s: up to %u connections, ", diag_prog(), cap);
	if (r->per_address)
		fprintf(stderr, "%u from one address\n", r->per_address);
	else
		fprintf(stderr, "any number from one address\n");
	sweep_media(r);
	/*
	 * Wake every second to say what the logs held back, every minute to
	 * remove the links to our media that have expired, and hourly to
	 * sweep tmp/ of what crashes left behind (the journal checkpoints
	 * every second on its own thread).
	 */
	for (unsigned tick = 1;; tick++) {
		struct timespec second = { 1, 0 };
		size_t swept;

		if ((sig = sigtimedwait(&set, NULL, &second)) == SIGHUP) {
			reload(r);
			continue;
		}
		if (sig > 0)
			break;
		httpd_log_flush(mhd_log, httpd_now(), 0);
		httpd_log_flush(cut_log, httpd_now(), 0);
		if (errno != EAGAIN)
			continue;
		if (tick % 60 == 0)
			sweep_media(r);
		if (tick % 3600 == 0 &&
		    inbox_sweep(&r->ib, INBOX_SWEEP_AGE, &swept, &e) < 0)
			diag_warn("%s", e.msg);
	}
	fprintf(stderr, "%s: %s: finishing requests in flight\n", diag_prog(),
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	httpd_stop_gently(admin, 0);
	httpd_stop_gently(h, STOP_SECONDS);
	httpd_pool_free(r->pool);
	r->pool = NULL;
	httpd_guard_stop(g);
	httpd_log_flush(mhd_log, httpd_now(), 1);
	httpd_log_flush(cut_log, httpd_now(), 1);
	httpd_log_free(mhd_log);
	httpd_log_free(cut_log);
	return 0;
}
