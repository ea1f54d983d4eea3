/*
 * httpd.h: what sms-recv and sms-sim share as libmicrohttpd servers.
 *
 * A request is created by the URI log callback (so the raw path and
 * query, as signed, are kept) and freed when libmicrohttpd is done with
 * it. Ownership: a request owns its uri and body.
 */
#ifndef HTTPD_H
#define HTTPD_H

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
