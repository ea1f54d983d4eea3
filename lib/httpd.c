/*
 * httpd.c: starting and stopping libmicrohttpd servers, request
 * bookkeeping and log lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "every.h"
#include "httpd.h"

void *
httpd_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct httpd_request *q = calloc(1, sizeof *q);
	atomic_uint *open = cls;

	(void)conn;
	if (q) {
		q->uri = strdup(uri);
		clock_gettime(CLOCK_MONOTONIC, &q->start);
		if (open)
			atomic_fetch_add(open, 1);
	}
	return q;
}

/* A connection the guard watches. */
struct watched {
	struct watched *next, *prev;
	struct httpd_guard *g;
	int fd;
	int busy;		/* the handler has the request */
	int headers_in;		/* the request's headers are complete */
	int cut;		/* shut down already */
	struct timespec mark;	/* start, or end of the last request */
	char addr[INET6_ADDRSTRLEN];
};

struct httpd_guard {
	pthread_mutex_t lock;	/* the ring */
	struct every *ev;	/* the watch, a few times a limit */
	double headers, limit;
	struct watched head;	/* a ring: head.next is the first */
	void (*report)(void *arg, const char *line);
	void *arg;
};

static double
since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void
client_address(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(out, n, "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, out, (socklen_t)n);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, out, (socklen_t)n);
	}
}

/*
 * A look at the watched connections (every.h). A shutdown(2) here is safe
 * from racing the close of the descriptor: libmicrohttpd announces
 * MHD_CONNECTION_NOTIFY_CLOSED before it closes the socket, and that
 * takes the watched connection off the ring under the same lock.
 */
static void
guard_look(void *arg)
{
	struct httpd_guard *g = arg;
	struct watched *w;
	char line[8][INET6_ADDRSTRLEN + 96];
	unsigned long more = 0;
	int n = 0, i;

	pthread_mutex_lock(&g->lock);
	for (w = g->head.next; w != &g->head; w = w->next) {
		double t = since(&w->mark);
		double limit = w->headers_in ? g->limit : g->headers;

		if (w->busy || w->cut || t <= limit)
			continue;
		shutdown(w->fd, SHUT_RDWR);
		w->cut = 1;
		if (n == 8)
			more++;
		else
			snprintf(line[n++], sizeof line[0], "%s: %s still "
			    "coming after %gs: cut off", w->addr,
			    w->headers_in ? "a request" : "its headers", limit);
	}
	/* Reported unlocked: a slow stderr must not stall requests. */
	pthread_mutex_unlock(&g->lock);
	for (i = 0; g->report && i < n; i++)
		g->report(g->arg, line[i]);
	if (g->report && more) {
		snprintf(line[0], sizeof line[0], "%lu more slow connections "
		    "cut off", more);
		g->report(g->arg, line[0]);
	}
}

struct httpd_guard *
httpd_guard_start(double headers, double limit,
    void (*report)(void *arg, const char *line), void *arg)
{
	struct httpd_guard *g = calloc(1, sizeof *g);
	int saved;

	if (!g)
		return NULL;
	pthread_mutex_init(&g->lock, NULL);
	g->headers = headers < limit ? headers : limit;
	g->limit = limit;
	g->report = report;
	g->arg = arg;
	g->head.next = g->head.prev = &g->head;
	if (!(g->ev = every_start(g->headers / 4 < 1 ? g->headers / 4 : 1,
	    guard_look, g))) {
		saved = errno;
		pthread_mutex_destroy(&g->lock);
		free(g);
		errno = saved;
		return NULL;
	}
	return g;
}

/* Stop watching; call after MHD_stop_daemon (no connection is left). */
void
httpd_guard_stop(struct httpd_guard *g)
{
	if (!g)
		return;
	every_stop(g->ev);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void
httpd_on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct httpd_guard *g = cls;
	struct watched *w = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (!g)
		return;	/* a server without a guard */
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(w = calloc(1, sizeof *w)))
			return;	/* not watched: the idle timeout still holds */
		w->g = g;
		w->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &w->mark);
		client_address(conn, w->addr, sizeof w->addr);
		pthread_mutex_lock(&g->lock);
		w->next = &g->head;
		w->prev = g->head.prev;
		g->head.prev->next = w;
		g->head.prev = w;
		pthread_mutex_unlock(&g->lock);
		*socket_context = w;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && w) {
		pthread_mutex_lock(&g->lock);
		w->prev->next = w->next;
		w->next->prev = w->prev;
		pthread_mutex_unlock(&g->lock);
		free(w);
		*socket_context = NULL;
	}
}

/* The watched connection of conn, or NULL. */
static struct watched *
watched_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void
httpd_guard_busy(struct MHD_Connection *conn)
{
	struct watched *w = watched_of(conn);

	if (w) {
		pthread_mutex_lock(&w->g->lock);
		w->busy = 1;
		pthread_mutex_unlock(&w->g->lock);
	}
}

void
httpd_guard_headers(struct MHD_Connection *conn)
{
	struct watched *w = watched_of(conn);

	if (w) {
		pthread_mutex_lock(&w->g->lock);
		w->headers_in = 1;
		pthread_mutex_unlock(&w->g->lock);
	}
}

void
httpd_on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_request *q = *req_cls;
	struct watched *w = conn ? watched_of(conn) : NULL;
	atomic_uint *open = cls;

	(void)toe;
	if (q && open)
		atomic_fetch_sub(open, 1);
	if (w) {
		/* The next request's clock starts now. */
		pthread_mutex_lock(&w->g->lock);
		w->busy = 0;
		w->headers_in = 0;
		clock_gettime(CLOCK_MONOTONIC, &w->mark);
		pthread_mutex_unlock(&w->g->lock);
	}
	if (q) {
		if (q->ctx && q->release)
			q->release(q->ctx_cls, q->ctx);
		if (q->rs)
			MHD_destroy_response(q->rs);
		free(q->uri);
		buf_free(&q->body);
		free(q);
	}
	*req_cls = NULL;
}

int
httpd_parse_listen(const char *arg, struct sockaddr_storage *ss,
    char *addr, size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *ai;
	const char *colon = strrchr(arg, ':'), *port = arg;
	char host[256] = "127.0.0.1", *end;
	struct in_addr quad;
	size_t len;
	unsigned long p;

	if (colon) {
		len = (size_t)(colon - arg);
		/* [IPv6]:PORT: the brackets go. */
		if (len >= 2 && arg[0] == '[' && arg[len - 1] == ']')
			arg++, len -= 2;
		else if (memchr(arg, ':', len))
			return -1;	/* an IPv6 address needs its [] */
		if (len >= sizeof host)
			return -1;
		if (len > 0)
			snprintf(host, sizeof host, "%.*s", (int)len, arg);
		port = colon + 1;
	}
	p = strtoul(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || p > 65535)
		return -1;
	/* Digits and dots are a dotted quad, not inet_aton()'s "1.2.3". */
	if (!host[strspn(host, "0123456789.")] &&
	    inet_pton(AF_INET, host, &quad) != 1)
		return -1;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
		freeaddrinfo(ai);
		return -1;
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr,
		    a, sizeof a);
		snprintf(addr, n, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr,
		    addr, (socklen_t)n);
	}
	return 0;
}

unsigned short
httpd_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)ss)->sin6_port :
	    ((const struct sockaddr_in *)ss)->sin_port);
}

double
httpd_elapsed(const struct httpd_request *q)
{
	return since(&q->start);
}

void
httpd_log_line(struct MHD_Connection *conn, const struct httpd_request *q,
    int query, const char *method, unsigned code, const char *what,
    char *out, size_t n)
{
	char addr[INET6_ADDRSTRLEN], uri[256], st[16] = "dropped";
	size_t i, u = 0;

	client_address(conn, addr, sizeof addr);
	for (i = 0; q->uri && q->uri[i] && u < sizeof uri - 5; i++) {
		unsigned char c = (unsigned char)q->uri[i];

		if (c == '?' && !query) {
			memcpy(uri + u, "?...", 4);
			u += 4;
			break;
		}
		if (c < 0x20 || c == 0x7F)
			u += (size_t)snprintf(uri + u, sizeof uri - u,
			    "\\x%02X", c);
		else
			uri[u++] = (char)c;
	}
	uri[u] = '\0';
	if (code)
		snprintf(st, sizeof st, "%u", code);
	snprintf(out, n, "%s %s %s %s %.1fms %s", addr, method, uri, st,
	    httpd_elapsed(q) * 1e3, what);
}

/* The pool of threads for complete requests. */
struct httpd_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct httpd_request *head, *tail;	/* the queue */
	int stop;
	unsigned n;
	pthread_t *threads;
};

/* The request whose job this thread runs, for httpd_answer(). */
static _Thread_local struct httpd_request *current;

static void *
pool_main(void *arg)
{
	struct httpd_pool *p = arg;
	struct httpd_request *q;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!(q = p->head))
			break;	/* stopped, and nothing is left */
		if (!(p->head = q->next))
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		current = q;
		q->fn(q->cls, q->conn, q);
		current = NULL;
		/*
		 * After this, q may be gone: the connection goes on in its
		 * event thread, which calls the handler again.
		 */
		MHD_resume_connection(q->conn);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct httpd_pool *
httpd_pool_start(unsigned threads)
{
	struct httpd_pool *p = calloc(1, sizeof *p);

	if (!p || !(p->threads = calloc(threads, sizeof *p->threads))) {
		free(p);
		return errno = ENOMEM, NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	for (p->n = 0; p->n < threads; p->n++)
		if ((errno = pthread_create(&p->threads[p->n], NULL,
		    pool_main, p)) != 0)
			break;
	if (p->n == 0) {
		int saved = errno;

		httpd_pool_free(p);
		errno = saved;
		return NULL;
	}
	return p;	/* fewer threads than asked is still a pool */
}

int
httpd_pool_run(struct httpd_pool *p, struct MHD_Connection *conn,
    struct httpd_request *q, void (*fn)(void *cls,
    struct MHD_Connection *conn, struct httpd_request *q), void *cls)
{
	if (!p)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (p->stop) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	/* Suspended before queued: a job answers a suspended connection. */
	MHD_suspend_connection(conn);
	q->deferred = 1;
	q->conn = conn;
	q->fn = fn;
	q->cls = cls;
	q->next = NULL;
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

enum MHD_Result
httpd_pool_answered(struct MHD_Connection *conn, struct httpd_request *q)
{
	struct MHD_Response *rs = q->rs;
	enum MHD_Result ret;

	if (!rs)
		return MHD_NO;	/* the job could not answer: close */
	q->rs = NULL;
	ret = MHD_queue_response(conn, q->code, rs);
	MHD_destroy_response(rs);
	return ret;
}

void
httpd_pool_stop(struct httpd_pool *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	p->n = 0;
}

void
httpd_pool_free(struct httpd_pool *p)
{
	if (!p)
		return;
	httpd_pool_stop(p);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

enum MHD_Result
httpd_answer(struct MHD_Connection *conn, unsigned code,
    struct MHD_Response *rs)
{
	enum MHD_Result ret;

	if (current && current->conn == conn) {
		/*
		 * The connection is suspended; its event thread queues the
		 * answer once resumed (httpd_pool_answered), so that no two
		 * threads work on it at once.
		 */
		if (current->rs)
			MHD_destroy_response(current->rs);
		current->rs = rs;
		current->code = code;
		return MHD_YES;
	}
	ret = MHD_queue_response(conn, code, rs);
	MHD_destroy_response(rs);
	return ret;
}

struct httpd_log {
	pthread_mutex_t lock;
	char *name;
	unsigned per_second;
	double second;		/* when the current second began */
	unsigned said;		/* lines out in it */
	unsigned long held;	/* lines suppressed since the last said */
	void (*out)(void *arg, const char *line);
	void *arg;
};

double
httpd_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

struct httpd_log *
httpd_log_new(const char *name, unsigned per_second,
    void (*out)(void *arg, const char *line), void *arg)
{
	struct httpd_log *l = calloc(1, sizeof *l);

	if (!l || !(l->name = strdup(name))) {
		free(l);
		return errno = ENOMEM, NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->per_second = per_second;
	l->second = -1e9;
	l->out = out;
	l->arg = arg;
	return l;
}

void
httpd_log_free(struct httpd_log *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->name);
	free(l);
}

/* Under the lock: say the count held back, and start a new second. */
static void
log_turn(struct httpd_log *l, double now)
{
	char line[128];

	if (l->held) {
		snprintf(line, sizeof line, "%s: %lu more lines suppressed",
		    l->name, l->held);
		l->out(l->arg, line);
		l->held = 0;
	}
	l->second = now;
	l->said = 0;
}

void
httpd_log_say(struct httpd_log *l, double now, const char *line)
{
	pthread_mutex_lock(&l->lock);
	if (now - l->second >= 1)
		log_turn(l, now);
	if (l->said < l->per_second) {
		l->said++;
		l->out(l->arg, line);
	} else {
		l->held++;
	}
	pthread_mutex_unlock(&l->lock);
}

void
httpd_log_flush(struct httpd_log *l, double now, int force)
{
	pthread_mutex_lock(&l->lock);
	if (l->held && (force || now - l->second >= 1))
		log_turn(l, now);
	pthread_mutex_unlock(&l->lock);
}

void
httpd_log_mhd(void *cls, const char *fmt, va_list ap)
{
	struct httpd_log *l = cls;
	char msg[512], line[600];
	size_t i, n;

	if (!l)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7F)
			msg[i] = '?';
	/*
	 * Said for every connection refused at a limit: the limit in all
	 * (MHD_OPTION_CONNECTION_LIMIT) or from one address
	 * (MHD_OPTION_PER_IP_CONNECTION_LIMIT); libmicrohttpd does not say
	 * which.
	 */
	if (strcmp(msg, "Server reached connection limit. Closing inbound "
	    "connection.") == 0)
		snprintf(line, sizeof line, "%s: a connection refused: too "
		    "many from its address, or in all", l->name);
	else
		snprintf(line, sizeof line, "%s: %s", l->name, msg);
	httpd_log_say(l, httpd_now(), line);
}

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_pool *pool;
	atomic_uint open;	/* requests begun and not yet done */
};

struct httpd *
httpd_start(const struct httpd_opts *o, struct errbuf *e)
{
	struct MHD_OptionItem extra[] = {
		{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->event_threads,
		    NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct httpd *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
	int saved;

	if (o->threads == HTTPD_EVENTS) {
		flags |= MHD_USE_EPOLL;
		if (o->pool)
			flags |= MHD_ALLOW_SUSPEND_RESUME;
	} else if (o->pool) {
		errno = EINVAL;
		errf(e, "cannot listen: a pool is for event threads only");
		return NULL;
	} else {
		flags |= MHD_USE_THREAD_PER_CONNECTION;
		extra[0].option = MHD_OPTION_END;
	}
	if (o->log)
		flags |= MHD_USE_ERROR_LOG;
	if (o->addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (!(h = calloc(1, sizeof *h))) {
		errf(e, "cannot listen: %s", strerror(ENOMEM));
		return errno = ENOMEM, NULL;
	}
	h->pool = o->pool;
	/* The logger comes first, to have every message. */
	errno = 0;
	h->d = MHD_start_daemon(flags, httpd_port(o->addr), NULL, NULL,
	    o->handler, o->handler_cls,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log_mhd, o->log,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)o->addr,
	    MHD_OPTION_ARRAY, extra,
	    MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
	    MHD_OPTION_URI_LOG_CALLBACK, httpd_on_uri, &h->open,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_on_done, &h->open,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_on_connection, o->guard,
	    MHD_OPTION_END);
	if (!h->d) {
		saved = errno ? errno : EIO;
		free(h);
		errf(e, "cannot listen: %s", strerror(saved));
		errno = saved;
		return NULL;
	}
	return h;
}

unsigned short
httpd_bound_port(const struct httpd *h)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d,
	    MHD_DAEMON_INFO_BIND_PORT);

	return di ? di->port : 0;
}

void
httpd_stop_gently(struct httpd *h, unsigned seconds)
{
	struct timespec tenth = { 0, 100 * 1000 * 1000 };
	MHD_socket fd;

	if (!h)
		return;
	fd = MHD_quiesce_daemon(h->d);
	/* Requests, not connections: a client's idle keep-alive connection
	 * holds no request and is closed by the stop at once. */
	for (unsigned i = 0; i < seconds * 10 && atomic_load(&h->open); i++)
		nanosleep(&tenth, NULL);
	/* The pool first: no connection may be left suspended. */
	httpd_pool_stop(h->pool);
	MHD_stop_daemon(h->d);
	/* Quiesced, the listening socket is ours to close, after the stop. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(h);
}
