/*
 * diag.c: the diagnostic prefix and the checked close of stdout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static const char *prog = "smsdesk";

int
errf(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
diag_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	prog = slash ? slash + 1 : argv0;
}

const char *
diag_prog(void)
{
	return prog;
}

static void
vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
diag_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}

int
diag_close_stdout(int code)
{
	int bad = ferror(stdout);

	if (fclose(stdout) != 0 || bad) {
		diag_warn("stdout: %s", strerror(errno ? errno : EIO));
		return EXIT_IOERR;
	}
	return code;
}
