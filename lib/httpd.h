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
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"

struct httpd_request {
	char *uri;		/* as sent: path and query */
	struct buf body;
	int too_big;
	int seen;		/* the handler ran once: headers are in */
	struct timespec start;	/* when the request line came */
};

/* MHD_OPTION_URI_LOG_CALLBACK: a new request for uri, or NULL. */
void *httpd_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* MHD_OPTION_NOTIFY_COMPLETED: free the request. */
void httpd_on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe);

/*
 * A guard against clients that hold a connection by sending slowly: the
 * headers of a request, byte by byte, each within the idle timeout.
 * libmicrohttpd gives no callback until the headers are complete, so a
 * thread watches every connection and shuts down any whose request has
 * taken more than limit seconds, counted from the connection's start or
 * the end of its previous request, and not counting the time the handler
 * spends on a complete request. Give it to MHD_OPTION_NOTIFY_CONNECTION
 * with httpd_on_connection; report (may be NULL) gets a line for each cut.
 */
struct httpd_guard;

struct httpd_guard *httpd_guard_start(double limit,
    void (*report)(void *arg, const char *line), void *arg);
void httpd_guard_stop(struct httpd_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION, its closure the guard. */
void httpd_on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* The handler has a whole request and works on it: not to be cut. */
void httpd_guard_busy(struct MHD_Connection *conn);

/*
 * --listen's argument, [ADDR:]PORT (ADDR an IPv4 address, 127.0.0.1 if
 * left out), into sin, and ADDR as text into addr. Returns 0, or -1 if
 * it is not one.
 */
int httpd_parse_listen(const char *arg, struct sockaddr_in *sin, char *addr,
    size_t n);

/* Seconds since the request line came. */
double httpd_elapsed(const struct httpd_request *q);

/*
 * The log line for a request, without the program's prefix or newline:
 * "ADDR METHOD URI STATUS MSms WHAT", the URI's control bytes escaped (it
 * is logged before any check), status 0 written "dropped".
 */
void httpd_log_line(struct MHD_Connection *conn, const struct httpd_request *q,
    const char *method, unsigned code, const char *what, char *out,
    size_t n);

#endif
