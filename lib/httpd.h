/*
 * httpd.h: what sms-recv and sms-sim share as libmicrohttpd servers.
 *
 * A request is created by the URI log callback (so the raw path and
 * query, as signed, are kept) and freed when libmicrohttpd is done with
 * it. Ownership: a request owns its uri and body.
 */
#ifndef HTTPD_H
#define HTTPD_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "diag.h"

struct httpd_request {
	char *uri;		/* as sent: path and query */
	struct buf body;
	int too_big;
	int seen;		/* the handler ran once: headers are in */
	int get;		/* a GET, its parameters in the query */
	struct timespec start;	/* when the request line came */
	/* With a pool (httpd_pool_run): */
	int deferred;		/* handed to the pool (httpd_pool_run) */
	unsigned code;		/* the answer the pool's job left, */
	struct MHD_Response *rs;	/* owned until queued */
	struct httpd_request *next;	/* in the pool's queue */
	struct MHD_Connection *conn;
	void (*fn)(void *cls, struct MHD_Connection *conn,
	    struct httpd_request *q);
	void *cls;
	/* The handler's own, for the request's life: release(ctx_cls, ctx)
	 * is called as the request is freed, if ctx is set. */
	void *ctx, *ctx_cls;
	void (*release)(void *ctx_cls, void *ctx);
};

/* MHD_OPTION_URI_LOG_CALLBACK: a new request for uri, or NULL; cls, when
 * not NULL, is an atomic_uint of the requests begun and not yet done,
 * which httpd_on_done (given the same cls) counts down. */
void *httpd_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* MHD_OPTION_NOTIFY_COMPLETED: free the request (and an answer unsent). */
void httpd_on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe);

/*
 * A guard against clients that hold a connection by sending slowly: the
 * headers of a request, byte by byte, each within the idle timeout.
 * libmicrohttpd gives no callback until the headers are complete, so a
 * thread watches every connection and shuts down any whose headers are
 * not all in after headers seconds, or whose request has taken more than
 * limit seconds, both counted from the connection's start or the end of
 * its previous request, and not counting the time the handler spends on
 * a complete request. Give it to MHD_OPTION_NOTIFY_CONNECTION with
 * httpd_on_connection, and tell it when the headers are in
 * (httpd_guard_headers); report (may be NULL) gets a line for each cut.
 */
struct httpd_guard;

struct httpd_guard *httpd_guard_start(double headers, double limit,
    void (*report)(void *arg, const char *line), void *arg);
void httpd_guard_stop(struct httpd_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION, its closure the guard (NULL: none). */
void httpd_on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* The handler has a whole request and works on it: not to be cut. */
void httpd_guard_busy(struct MHD_Connection *conn);

/* The request's headers are in: from now on only limit holds. */
void httpd_guard_headers(struct MHD_Connection *conn);

/*
 * A pool of threads for the work of a complete request, so that a
 * handler that blocks (a delivery waits on fsync(2)) holds up only its
 * own connection, not every connection of the event thread it came on.
 * The daemon needs MHD_ALLOW_SUSPEND_RESUME.
 *
 * From the access handler, httpd_pool_run() suspends conn and queues
 * fn(cls, conn, q) for a pool thread; fn answers with httpd_answer(),
 * which keeps the answer in q; then conn is resumed, libmicrohttpd calls
 * the handler again, and the handler, seeing q->deferred, returns
 * httpd_pool_answered(). Returns 0 if queued, or -1 if the pool is
 * stopped or absent (then the handler does the work itself).
 * httpd_pool_stop() runs what is queued and ends the threads; call it
 * before MHD_stop_daemon, which wants no connection suspended (a handler
 * may still call httpd_pool_run, which then says -1). httpd_pool_free()
 * stops it if need be and frees it: after MHD_stop_daemon.
 */
struct httpd_pool;

struct httpd_pool *httpd_pool_start(unsigned threads);
int httpd_pool_run(struct httpd_pool *p, struct MHD_Connection *conn,
    struct httpd_request *q, void (*fn)(void *cls,
    struct MHD_Connection *conn, struct httpd_request *q), void *cls);
enum MHD_Result httpd_pool_answered(struct MHD_Connection *conn,
    struct httpd_request *q);
void httpd_pool_stop(struct httpd_pool *p);
void httpd_pool_free(struct httpd_pool *p);

/*
 * Queue rs as the answer to conn, or, in a pool's job for conn, keep it
 * for httpd_pool_answered(). Takes rs over (destroys it once queued).
 */
enum MHD_Result httpd_answer(struct MHD_Connection *conn, unsigned code,
    struct MHD_Response *rs);

/*
 * A log of lines from a source that can flood (libmicrohttpd's own
 * messages, the guard's cuts): at most per_second lines a second go to
 * out; the rest are counted, and said as one line, "NAME: N more lines
 * suppressed", before the next line that goes out or at the next
 * httpd_log_flush() a second or more later. Safe from any thread; out
 * is called under the log's lock and must not call back into it.
 */
struct httpd_log;

struct httpd_log *httpd_log_new(const char *name, unsigned per_second,
    void (*out)(void *arg, const char *line), void *arg);
void httpd_log_free(struct httpd_log *l);

/* One line, now on the monotonic clock (in seconds). */
void httpd_log_say(struct httpd_log *l, double now, const char *line);

/* Say what was suppressed, if a second has passed (or if force). */
void httpd_log_flush(struct httpd_log *l, double now, int force);

/*
 * MHD_OPTION_EXTERNAL_LOGGER, its closure a log: one line per message,
 * its newline dropped, control bytes escaped, the connection-limit
 * refusal said in our words.
 */
void httpd_log_mhd(void *cls, const char *fmt, va_list ap);

/* Seconds on the monotonic clock, for httpd_log_say(). */
double httpd_now(void);

/*
 * A server, started and stopped the one way every program does. How its
 * connections are served (threads):
 *
 *   HTTPD_EVENTS      a few event threads (epoll, event_threads of them)
 *                     serve every connection, so that an idle or slow one
 *                     costs no thread; with a pool (httpd_pool_start),
 *                     complete requests go to its threads
 *                     (httpd_pool_run), and the daemon allows suspending.
 *   HTTPD_PER_THREAD  a thread per connection, so that a handler that
 *                     waits (a slow answer on purpose) holds up only its
 *                     own connection, whatever the number in flight.
 *
 * Requests are kept by httpd_on_uri and httpd_on_done (struct
 * httpd_request in the handler's *req_cls); libmicrohttpd's own messages
 * go to log (httpd_log_mhd), none if log is NULL; a guard, if given,
 * watches every connection (httpd_on_connection). The options are the
 * caller's and read only by httpd_start(); the pool, guard and log must
 * outlive the server.
 */
enum httpd_threads { HTTPD_EVENTS, HTTPD_PER_THREAD };

struct httpd_opts {
	const struct sockaddr_storage *addr;	/* httpd_parse_listen()'s */
	enum httpd_threads threads;
	unsigned event_threads;		/* HTTPD_EVENTS: how many */
	unsigned max_connections;	/* in all */
	unsigned per_address;		/* from one address; 0: any */
	unsigned timeout;		/* idle seconds before a close */
	MHD_AccessHandlerCallback handler;
	void *handler_cls;
	struct httpd_pool *pool;	/* HTTPD_EVENTS: or NULL */
	struct httpd_guard *guard;	/* or NULL */
	struct httpd_log *log;		/* or NULL */
};

struct httpd;

/*
 * Listen on o->addr and serve. Returns the server, or NULL with errno set
 * (EADDRINUSE, EACCES, ...; EINVAL for options that do not go together)
 * and e saying "cannot listen: " and why.
 */
struct httpd *httpd_start(const struct httpd_opts *o, struct errbuf *e);

/* The port a server listens on (the one chosen, if it was given 0). */
unsigned short httpd_bound_port(const struct httpd *h);

/*
 * Stop h gently and free it: take no new connection, wait up to seconds
 * for the requests in flight to finish (a request's answer goes out; a
 * connection idle between requests is not waited for), then run what
 * its pool has queued, end the pool's threads, and close
 * what is left. The pool, guard and log are the caller's to free after.
 */
void httpd_stop_gently(struct httpd *h, unsigned seconds);

/*
 * --listen's argument, [ADDR:]PORT, into ss: ADDR an IPv4 address, an IPv6
 * one in brackets ([::1]:8080) or a host name (localhost), its first
 * address taken; 127.0.0.1 if left out. The address as text goes into addr
 * (an IPv6 one in brackets, ready for a URL). Returns 0, or -1 if it is
 * not one.
 */
int httpd_parse_listen(const char *arg, struct sockaddr_storage *ss,
    char *addr, size_t n);

/* The port of ss, in host order. */
unsigned short httpd_port(const struct sockaddr_storage *ss);

/* Seconds since the request line came. */
double httpd_elapsed(const struct httpd_request *q);

/*
 * The log line for a request, without the program's prefix or newline:
 * "ADDR METHOD URI STATUS MSms WHAT", the URI's control bytes escaped (it
 * is logged before any check), status 0 written "dropped". Without
 * query, a URI's query is written "?..." only: a webhook by GET carries
 * the customer's number and text there, which have no place in a log.
 */
void httpd_log_line(struct MHD_Connection *conn, const struct httpd_request *q,
    int query,
    const char *method, unsigned code, const char *what, char *out,
    size_t n);

#endif
