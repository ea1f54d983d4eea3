/*
 * httpd.c: the rate-limited log of httpd.h, on a fake clock; --listen's
 * argument; a server's start and gentle stop, in both threading models.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "tap.h"

static char lines[64][256];
static int nlines;

static void
collect(void *arg, const char *line)
{
	(void)arg;
	if (nlines < 64)
		snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

/* What libmicrohttpd does: a format and its va_list. */
static void
mhd_says(struct httpd_log *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	httpd_log_mhd(l, fmt, ap);
	va_end(ap);
}

/* --listen's [ADDR:]PORT: what each form gives, or that it is refused. */
static void
test_listen(void)
{
	static const struct {
		const char *arg, *addr;
		int port;
	} v[] = {
		{ "8080", "127.0.0.1", 8080 },
		{ ":8080", "127.0.0.1", 8080 },
		{ "0.0.0.0:80", "0.0.0.0", 80 },
		{ "[::1]:8080", "[::1]", 8080 },
		{ "[::]:443", "[::]", 443 },
		{ "localhost:8080", NULL, 8080 },	/* 127.0.0.1 or ::1 */
		{ "::1:8080", NULL, -1 },		/* [] needed */
		{ "127.0.0.1:", NULL, -1 },
		{ "127.0.0.1:65536", NULL, -1 },
		{ "127.0.0.1:+80", NULL, -1 },
		{ "1.2.3:80", NULL, -1 },
		{ "[::1:80", NULL, -1 },
		{ "", NULL, -1 },
	};
	struct sockaddr_storage ss;
	char addr[64];
	size_t i;
	int rc;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		rc = httpd_parse_listen(v[i].arg, &ss, addr, sizeof addr);
		if (v[i].port < 0) {
			ok(rc < 0, "--listen '%s': refused", v[i].arg);
			continue;
		}
		ok(rc == 0 && httpd_port(&ss) == v[i].port &&
		    (v[i].addr ? strcmp(addr, v[i].addr) == 0 :
		    strcmp(addr, "127.0.0.1") == 0 ||
		    strcmp(addr, "[::1]") == 0),
		    "--listen '%s': %s port %d", v[i].arg, addr, v[i].port);
	}
}

/* A server's requests that reached their handler's slow part. */
static atomic_int entered;
static struct httpd_pool *test_pool;

/* The slow part of a request: a while, then "done". */
static void
slow_job(void *cls, struct MHD_Connection *conn, struct httpd_request *q)
{
	struct timespec t = { 0, 300 * 1000 * 1000 };
	static char done[] = "done";

	(void)cls;
	(void)q;
	atomic_fetch_add(&entered, 1);
	nanosleep(&t, NULL);
	httpd_answer(conn, 200, MHD_create_response_from_buffer(4, done,
	    MHD_RESPMEM_PERSISTENT));
}

static enum MHD_Result
slow_handler(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct httpd_request *q = *req_cls;

	(void)cls, (void)path, (void)method, (void)version, (void)data;
	if (!q)
		return MHD_NO;
	if (!q->seen || *size) {
		q->seen = 1;
		*size = 0;
		return MHD_YES;
	}
	if (q->deferred)
		return httpd_pool_answered(conn, q);
	if (httpd_pool_run(test_pool, conn, q, slow_job, NULL) == 0)
		return MHD_YES;
	/* Thread per connection: the job here, answered at once. */
	slow_job(NULL, conn, q);
	return MHD_YES;
}

/* A connection to 127.0.0.1:port, or -1. */
static int
dial(unsigned short port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A server in model threads, N requests in its slow part, stopped gently:
 * each is answered whole, and the port is closed after.
 */
static void
test_stop(enum httpd_threads threads, const char *name)
{
	enum { N = 4 };
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	struct sockaddr_storage ss;
	struct httpd_opts o = { 0 };
	struct httpd *h, *h2;
	struct errbuf e;
	char addr[64], got[N][256];
	unsigned short port;
	int fd[N], i, answered = 0, ok_all = 1, late;

	httpd_parse_listen("127.0.0.1:0", &ss, addr, sizeof addr);
	atomic_store(&entered, 0);
	test_pool = threads == HTTPD_EVENTS ? httpd_pool_start(N) : NULL;
	o.addr = &ss;
	o.threads = threads;
	o.event_threads = 2;
	o.max_connections = 64;
	o.timeout = 30;
	o.handler = slow_handler;
	o.pool = test_pool;
	h = httpd_start(&o, &e);
	ok(h != NULL, "%s: a server starts", name);
	if (!h) {
		printf("# %s\n", e.msg);
		return;
	}
	port = httpd_bound_port(h);
	ok(port > 0, "%s: on a port of the system's choice (%u)", name, port);

	/* The port is taken: said, with errno. */
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	httpd_parse_listen(addr, &ss, addr, sizeof addr);
	errno = 0;
	h2 = httpd_start(&o, &e);
	ok(!h2 && errno == EADDRINUSE &&
	    strncmp(e.msg, "cannot listen: ", 15) == 0,
	    "%s: a second server on its port: NULL, EADDRINUSE, \"%s\"", name,
	    e.msg);
	httpd_stop_gently(h2, 0);

	for (i = 0; i < N; i++) {
		fd[i] = dial(port);
		if (fd[i] < 0 || write(fd[i], req, strlen(req)) !=
		    (ssize_t)strlen(req))
			ok_all = 0;
	}
	ok(ok_all, "%s: %d requests sent", name, N);
	/* All in the slow part (within 30 s, on a loaded machine), stopped. */
	for (i = 0; i < 3000 && atomic_load(&entered) < N; i++)
		usleep(10 * 1000);
	is_int(atomic_load(&entered), N, "%s: all in flight", name);
	httpd_stop_gently(h, 30);
	for (i = 0; i < N; i++) {
		ssize_t n, len = 0;

		while (fd[i] >= 0 && (n = read(fd[i], got[i] + len,
		    sizeof got[i] - 1 - (size_t)len)) > 0)
			len += n;
		got[i][len] = '\0';
		if (strncmp(got[i], "HTTP/1.1 200", 12) == 0 &&
		    len >= 4 && strcmp(got[i] + len - 4, "done") == 0)
			answered++;
		else
			printf("# got \"%s\"\n", got[i]);
		if (fd[i] >= 0)
			close(fd[i]);
	}
	is_int(answered, N, "%s: stopped gently: every request answered "
	    "whole", name);
	late = dial(port);
	ok(late < 0, "%s: after the stop, a connection is refused", name);
	if (late >= 0)
		close(late);
	httpd_pool_free(test_pool);
	test_pool = NULL;
}

int
main(void)
{
	struct httpd_log *l = httpd_log_new("src", 3, collect, NULL);
	int i;

	ok(l != NULL, "a log");
	for (i = 0; i < 10; i++)
		httpd_log_say(l, 100.0, "flood");
	is_int(nlines, 3, "ten lines in one second: three said");
	httpd_log_flush(l, 100.5, 0);
	is_int(nlines, 3, "half a second later, nothing more");
	httpd_log_flush(l, 101.0, 0);
	is_int(nlines, 4, "a second later, the count");
	is_str(lines[3], "src: 7 more lines suppressed", "of the seven held");
	httpd_log_flush(l, 105.0, 0);
	is_int(nlines, 4, "a count is said once");
	httpd_log_say(l, 105.2, "a");
	httpd_log_say(l, 105.3, "b");
	httpd_log_say(l, 105.4, "c");
	httpd_log_say(l, 105.5, "d");
	httpd_log_say(l, 106.3, "e");
	is_int(nlines, 9, "the next second: its three, the count, then more");
	is_str(lines[7], "src: 1 more lines suppressed",
	    "the count comes before the next line said");
	is_str(lines[8], "e", "and the line after it");
	httpd_log_say(l, 106.4, "f");
	httpd_log_say(l, 106.5, "g");
	httpd_log_say(l, 106.6, "h");
	httpd_log_flush(l, 106.7, 1);
	is_int(nlines, 12, "forced: the count at once");
	is_str(lines[11], "src: 1 more lines suppressed", "of the one held");

	nlines = 0;
	httpd_log_flush(l, 200.0, 0);
	mhd_says(l, "Server reached connection limit. Closing inbound "
	    "connection.\n");
	is_str(lines[0], "src: a connection refused: too many from its "
	    "address, or in all", "the refusal, in our words");
	mhd_says(l, "Error %d:\t%s\n", 7, "bad\033[31m");
	is_str(lines[1], "src: Error 7:?bad?[31m",
	    "another message: formatted, control bytes masked, no newline");
	httpd_log_free(l);
	test_listen();
	test_stop(HTTPD_PER_THREAD, "thread per connection");
	test_stop(HTTPD_EVENTS, "event threads and a pool");
	return tap_done();
}
