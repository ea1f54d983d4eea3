/*
 * httpd.c: request bookkeeping and log lines for libmicrohttpd servers.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
httpd_on_done(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_request *q = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q) {
		free(q->uri);
		buf_free(&q->body);
		free(q);
	}
	*req_cls = NULL;
}

double
httpd_elapsed(const struct httpd_request *q)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - q->start.tv_sec) +
	    (double)(now.tv_nsec - q->start.tv_nsec) / 1e9;
}

void
httpd_log_line(struct MHD_Connection *conn, const struct httpd_request *q,
    const char *method, unsigned code, const char *what, char *out,
    size_t n)
{
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "?", uri[256], st[16] = "dropped";
	size_t i, u = 0;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, addr, sizeof addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, addr, sizeof addr);
	}
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
