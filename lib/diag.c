/*
 * diag.c: the diagnostic prefix, the note of a read from a terminal, and
 * the checked close of stdout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * One line, written at once: the workers of one program, and programs
 * sharing a terminal or a log, never tear each other's lines. A line too
 * long for the buffer is written in pieces, under the stream's lock.
 */
static void
vwarn(const char *fmt, va_list ap)
{
	char line[2048];
	va_list again;
	int n, m;

	va_copy(again, ap);
	n = snprintf(line, sizeof line, "%s: ", prog);
	m = vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (m >= 0 && (size_t)n + m + 1 < sizeof line) {
		line[n + m] = '\n';
		fwrite(line, 1, n + m + 1, stderr);
	} else {
		flockfile(stderr);
		fprintf(stderr, "%s: ", prog);
		vfprintf(stderr, fmt, again);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(again);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

int
diag_stdin_note(const char *what)
{
	if (!isatty(STDIN_FILENO))
		return 0;
	diag_warn("reading %s from the terminal; end with Ctrl-D", what);
	return 1;
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

int
diag_exit_for(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return EXIT_NOINPUT;
	case EACCES:
	case EPERM:
	case EROFS:
		return EXIT_NOPERM;
	case EAGAIN:
	case EBUSY:
	case EINTR:
	case ETIMEDOUT:
		return EXIT_TEMPFAIL;
	case EINVAL:
	case EILSEQ:
	case EBADMSG:
		return EXIT_DATAERR;
	default:
		return EXIT_IOERR;
	}
}
