/*
 * faults.c: an LD_PRELOAD shim that makes one file system call fail, for
 * the tests of smsdesk(7), GUARANTEES, failures are loud (resource errors
 * are loud and leave nothing behind).
 *
 * It counts the calls a program makes that change files: write(2) and
 * pwrite(2) to a regular file, close(2) of one written to (a close that
 * fails still releases the descriptor, as Linux's does), fsync(2),
 * fdatasync(2), open(2) and openat(2) with O_CREAT, mkdir(2), mkdirat(2),
 * link(2), linkat(2), symlinkat(2), rename(2), renameat(2) and
 * renameat2(2). The call numbered SMSDESK_FAULT_AT (from 1) fails with
 * SMSDESK_FAULT_ERRNO (ENOSPC, EIO or EDQUOT; ENOSPC by default), and so
 * does every later one if SMSDESK_FAULT_MODE is "always" (a disk that
 * stays full) rather than "once". At exit the number of calls counted is
 * written to the file SMSDESK_FAULT_LOG, if set, so that a driver knows
 * when its fault point has gone past the last call.
 *
 * A slow disk, too: while the file SMSDESK_FAULT_STALL names exists,
 * fsync(2) and fdatasync(2) wait for it to go, after creating
 * SMSDESK_FAULT_STALL.held to say that one is waiting; with
 * SMSDESK_FAULT_STALL_AFTER=N, only from the (N+1)th of them on, so that
 * a driver can stop a program at each of its syncs in turn; with
 * SMSDESK_FAULT_STALL_AT (a count, as SMSDESK_FAULT_AT's), only those from
 * that call on, so that a driver can kill a program at a sync of its
 * choosing.
 *
 * Calls are counted from every thread, so a driver that steps the fault
 * point through a run relies on the program making them in the same order
 * each time. sms-recv's helper threads make none: its event writer writes
 * stdout through stdio, whose write(2) is libc's own and not this one, and
 * the checkpoint's syncfs(2) and ftruncate(2) are not counted (nor is the
 * journal's writev(2)). Counting a call a helper thread makes on its own
 * clock would make "the Nth call" a different one from run to run.
 *
 * Built without sanitizers, as a shared object: see the Makefile.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FD 65536

static atomic_long calls;
static atomic_char written[MAX_FD];	/* fds written to since opened */
static long fault_at;
static int fault_errno = ENOSPC, always;
static const char *stall_path;
static long stall_after;
static atomic_long syncs;
static long stall_at;

/* The next definition of name: libc's (or a sanitizer's). */
#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

__attribute__((constructor)) static void
init(void)
{
	const char *at = getenv("SMSDESK_FAULT_AT");
	const char *en = getenv("SMSDESK_FAULT_ERRNO");
	const char *mode = getenv("SMSDESK_FAULT_MODE");

	fault_at = at ? atol(at) : 0;
	if (en && strcmp(en, "EIO") == 0)
		fault_errno = EIO;
	else if (en && strcmp(en, "EDQUOT") == 0)
		fault_errno = EDQUOT;
	always = mode && strcmp(mode, "always") == 0;
	stall_path = getenv("SMSDESK_FAULT_STALL");
	if (getenv("SMSDESK_FAULT_STALL_AFTER"))
		stall_after = atol(getenv("SMSDESK_FAULT_STALL_AFTER"));
	stall_at = getenv("SMSDESK_FAULT_STALL_AT") ?
	    atol(getenv("SMSDESK_FAULT_STALL_AT")) : 0;
}

/* Wait while the stall file exists (a disk that does not answer). */
static void
stall(void)
{
	char held[4096];
	int said = 0, fd;

	if (!stall_path || atomic_fetch_add(&syncs, 1) < stall_after ||
	    atomic_load(&calls) + 1 < stall_at)
		return;
	while (access(stall_path, F_OK) == 0) {
		if (!said++) {
			snprintf(held, sizeof held, "%s.held", stall_path);
			fd = REAL(open)(held, O_WRONLY | O_CREAT | O_CLOEXEC,
			    0600);
			if (fd >= 0)
				REAL(close)(fd);
		}
		usleep(10000);
	}
}

__attribute__((destructor)) static void
fini(void)
{
	const char *log = getenv("SMSDESK_FAULT_LOG");
	char line[32];
	int fd, n;

	if (!log)
		return;
	n = snprintf(line, sizeof line, "%ld\n", atomic_load(&calls));
	fd = REAL(open)(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)!REAL(write)(fd, line, (size_t)n);
		REAL(close)(fd);
	}
}

/* Whether open flags create a file (O_TMPFILE includes O_DIRECTORY). */
static int
creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Count a call; whether it is the one to fail (errno set). */
static int
fails(void)
{
	long n = atomic_fetch_add(&calls, 1) + 1;

	if (fault_at > 0 && (n == fault_at || (always && n > fault_at))) {
		errno = fault_errno;
		return 1;
	}
	return 0;
}

static int
regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	if (!regular(fd))
		return REAL(write)(fd, p, n);
	if (fd >= 0 && fd < MAX_FD)
		written[fd] = 1;
	return fails() ? -1 : REAL(write)(fd, p, n);
}

ssize_t
pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (!regular(fd))
		return REAL(pwrite)(fd, p, n, off);
	if (fd >= 0 && fd < MAX_FD)
		written[fd] = 1;
	return fails() ? -1 : REAL(pwrite)(fd, p, n, off);
}

int
close(int fd)
{
	int was = fd >= 0 && fd < MAX_FD && atomic_exchange(&written[fd], 0);

	if (was && fails()) {
		int saved = errno;

		REAL(close)(fd);
		errno = saved;
		return -1;
	}
	return REAL(close)(fd);
}

int
fsync(int fd)
{
	stall();
	return fails() ? -1 : REAL(fsync)(fd);
}

int
fdatasync(int fd)
{
	stall();
	return fails() ? -1 : REAL(fdatasync)(fd);
}

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (creates(flags)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
		if (fails())
			return -1;
	}
	return REAL(open)(path, flags, mode);
}

int
openat(int dir, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (creates(flags)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
		if (fails())
			return -1;
	}
	return REAL(openat)(dir, path, flags, mode);
}

int
mkdir(const char *path, mode_t mode)
{
	return fails() ? -1 : REAL(mkdir)(path, mode);
}

int
mkdirat(int dir, const char *path, mode_t mode)
{
	return fails() ? -1 : REAL(mkdirat)(dir, path, mode);
}

int
link(const char *from, const char *to)
{
	return fails() ? -1 : REAL(link)(from, to);
}

int
linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	return fails() ? -1 : REAL(linkat)(fd1, from, fd2, to, flags);
}

int
symlinkat(const char *target, int dir, const char *path)
{
	return fails() ? -1 : REAL(symlinkat)(target, dir, path);
}

int
rename(const char *from, const char *to)
{
	return fails() ? -1 : REAL(rename)(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	return fails() ? -1 : REAL(renameat)(fd1, from, fd2, to);
}

int
renameat2(int fd1, const char *from, int fd2, const char *to,
    unsigned flags)
{
	return fails() ? -1 : REAL(renameat2)(fd1, from, fd2, to, flags);
}
