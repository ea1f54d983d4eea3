/*
 * httpd.c: the rate-limited log of httpd.h, on a fake clock; --listen's
 * argument.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return tap_done();
}
