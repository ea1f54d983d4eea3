/*
 * diag.h: exit codes and diagnostics shared by every program.
 *
 * The exit codes are the contract of smsdesk(7) and DESIGN section 7.
 * The diag_* functions are the one part of lib/ that writes to stderr, and
 * only programs (cmd/) call them: library modules return -1 and fill a
 * struct errbuf, and the program turns that into a message and an exit code.
 */
#ifndef DIAG_H
#define DIAG_H

#include <stdio.h>

enum {
	EXIT_PARTIAL = 1,	/* some records failed, the rest were done */
	EXIT_USAGE = 2,
	EXIT_DATAERR = 65,	/* input unusable as a whole */
	EXIT_NOINPUT = 66,	/* inbox or input missing */
	EXIT_IOERR = 74,	/* includes a failed write to stdout */
	EXIT_TEMPFAIL = 75,
	EXIT_NOPERM = 77,
	EXIT_CONFIG = 78,
};

/* A library error: a message a program can print after its own context. */
struct errbuf {
	char msg[256];
};

/* Fill e->msg printf-style; returns -1 so callers can `return errf(...)`. */
int errf(struct errbuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Remember the program name used as the prefix of every diagnostic. */
void diag_init(const char *argv0);
const char *diag_prog(void);

/* "prog: fmt\n" on stderr. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * If stdin is a terminal, say on stderr that the program now reads what
 * ("the text", "records (NDJSON)") from it and how to end it, so that
 * nobody waits on a program that waits on them. Every program that reads
 * stdin when given no operand calls it first. Returns 1 if it said so, 0 if
 * stdin is not a terminal.
 */
int diag_stdin_note(const char *what);

/* diag_warn, then exit(code). */
void diag_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * The exit code for a failure that left errno at err: the one mapping of
 * every program (smsdesk(7), EXIT STATUS). EXIT_NOINPUT for what is missing
 * (ENOENT, ENOTDIR), EXIT_NOPERM for what may not be done (EACCES, EPERM,
 * EROFS), EXIT_TEMPFAIL for what may work later (EAGAIN, EBUSY, EINTR,
 * ETIMEDOUT), EXIT_DATAERR for bad data (EINVAL, EILSEQ, EBADMSG), and
 * EXIT_IOERR for every other failure.
 */
int diag_exit_for(int err);

/*
 * Flush and close stdout; a failure (full disk, closed pipe) is reported
 * and turned into EXIT_IOERR. Returns the code to exit with: `code` if
 * stdout closed cleanly.
 */
int diag_close_stdout(int code);

#endif
