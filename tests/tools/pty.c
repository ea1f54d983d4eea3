/*
 * pty: run a program with some of its standard descriptors on a terminal,
 * for tests of what programs do on one. A test tool (not installed):
 *
 *	pty [-012] [-o FILE] CMD [ARG...]
 *
 * The descriptors named (all three if none is) are the slave side of a
 * new pseudo-terminal of 80 columns and 24 rows, with echo off; the
 * others are pty's own, inherited, but for a stdout not on the terminal,
 * which is FILE with -o (so that it is not mixed with pty's own). What
 * pty reads on its stdin, when stdin is not on the terminal, is not
 * touched; when it is (-0), pty
 * writes its own stdin to the terminal and then the end-of-file character
 * (Ctrl-D), so a program that reads the terminal sees that input and then
 * its end. Everything the program writes to the terminal is copied to
 * pty's stdout. pty exits with the program's status (128 + the signal if
 * it was killed), or 125 if it cannot start it.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "pty: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* Write all of p, or die. */
static void
put(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* The slave side of the terminal, set up: no echo, 80x24. */
static int
slave(const char *name)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct termios t;
	int fd = open(name, O_RDWR | O_NOCTTY);

	if (fd < 0)
		die(name);
	if (tcgetattr(fd, &t) < 0)
		die("tcgetattr");
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_oflag &= ~(tcflag_t)ONLCR;	/* newlines stay newlines */
	if (tcsetattr(fd, TCSANOW, &t) < 0 || ioctl(fd, TIOCSWINSZ, &ws) < 0)
		die("tcsetattr");
	return fd;
}

int
main(int argc, char **argv)
{
	int on[3] = { 0, 0, 0 }, any = 0, m, s, c, st, fd;
	const char *out = NULL;
	char buf[4096], eof;
	struct termios t;
	ssize_t n;
	pid_t pid;

	while ((c = getopt(argc, argv, "+012o:")) != -1) {
		if (c == '?')
			return 125;
		if (c == 'o')
			out = optarg;
		else
			on[c - '0'] = any = 1;
	}
	if (optind == argc) {
		fputs("usage: pty [-012] [-o FILE] CMD [ARG...]\n", stderr);
		return 125;
	}
	if (!any)
		on[0] = on[1] = on[2] = 1;
	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 || grantpt(m) < 0 ||
	    unlockpt(m) < 0)
		die("posix_openpt");
	s = slave(ptsname(m));
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(m);
		setsid();
		ioctl(s, TIOCSCTTY, 0);
		if (out && !on[1]) {
			if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC,
			    0600)) < 0 || dup2(fd, 1) < 0)
				die(out);
			close(fd);
		}
		for (fd = 0; fd < 3; fd++)
			if (on[fd] && dup2(s, fd) < 0)
				die("dup2");
		if (s > 2)
			close(s);
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
	if (on[0]) {
		while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
			put(m, buf, (size_t)n);
		eof = tcgetattr(s, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		put(m, &eof, 1);
	}
	close(s);
	/* Until the last holder of the slave closes it: then EIO. */
	while ((n = read(m, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		put(STDOUT_FILENO, buf, (size_t)n);
	}
	close(m);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
