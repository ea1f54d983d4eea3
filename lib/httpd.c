/*
 * httpd.c: request bookkeeping and log lines for libmicrohttpd servers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "every.h"
#include "httpd.h"

void *
httpd_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct httpd_request *q = calloc(1, sizeof *q);

	(void)cls;
	(void)conn;
	if (q) {
		q->uri = strdup(uri);
		clock_gettime(CLOCK_MONOTONIC, &q->start);
	}
	return q;
}

/* A connection the guard watches. */
struct watched {
	struct watched *next, *prev;
	struct httpd_guard *g;
	int fd;
	int busy;		/* the handler has the request */
	int cut;		/* shut down already */
	struct timespec mark;	/* start, or end of the last request */
	char addr[INET6_ADDRSTRLEN];
};

struct httpd_guard {
	pthread_mutex_t lock;	/* the ring */
	struct every *ev;	/* the watch, a few times a limit */
	double limit;
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
	int n = 0, i;

	pthread_mutex_lock(&g->lock);
	for (w = g->head.next; w != &g->head; w = w->next) {
		double t = since(&w->mark);

		if (w->busy || w->cut || t <= g->limit)
			continue;
		shutdown(w->fd, SHUT_RDWR);
		w->cut = 1;
		if (n < 8)
			snprintf(line[n++], sizeof line[0], "%s: a request "
			    "still coming after %.0fs: cut off", w->addr, t);
	}
	/* Reported unlocked: a slow stderr must not stall requests. */
	pthread_mutex_unlock(&g->lock);
	for (i = 0; g->report && i < n; i++)
		g->report(g->arg, line[i]);
}

struct httpd_guard *
httpd_guard_start(double limit, void (*report)(void *arg, const char *line),
    void *arg)
{
	struct httpd_guard *g = calloc(1, sizeof *g);
	int saved;

	if (!g)
		return NULL;
	pthread_mutex_init(&g->lock, NULL);
	g->limit = limit;
	g->report = report;
	g->arg = arg;
	g->head.next = g->head.prev = &g->head;
	if (!(g->ev = every_start(limit / 4 < 1 ? limit / 4 : 1, guard_look,
	    g))) {
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
httpd_on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_request *q = *req_cls;
	struct watched *w = conn ? watched_of(conn) : NULL;

	(void)cls;
	(void)toe;
	if (w) {
		/* The next request's clock starts now. */
		pthread_mutex_lock(&w->g->lock);
		w->busy = 0;
		clock_gettime(CLOCK_MONOTONIC, &w->mark);
		pthread_mutex_unlock(&w->g->lock);
	}
	if (q) {
		free(q->uri);
		buf_free(&q->body);
		free(q);
	}
	*req_cls = NULL;
}

int
httpd_parse_listen(const char *arg, struct sockaddr_in *sin, char *addr,
    size_t n)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	unsigned long p;

	if (colon) {
		if ((size_t)(colon - arg) >= n)
			return -1;
		snprintf(addr, n, "%.*s", (int)(colon - arg), arg);
		arg = colon + 1;
	}
	if (!colon || !*addr)
		snprintf(addr, n, "127.0.0.1");
	p = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end || p > 65535)
		return -1;
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)p);
	return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -1;
}

double
httpd_elapsed(const struct httpd_request *q)
{
	return since(&q->start);
}

void
httpd_log_line(struct MHD_Connection *conn, const struct httpd_request *q,
    const char *method, unsigned code, const char *what, char *out,
    size_t n)
{
	char addr[INET6_ADDRSTRLEN], uri[256], st[16] = "dropped";
	size_t i, u = 0;

	client_address(conn, addr, sizeof addr);
	for (i = 0; q->uri && q->uri[i] && u < sizeof uri - 5; i++) {
		unsigned char c = (unsigned char)q->uri[i];

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
