/*
 * fsync-patterns: what durable delivery costs on this disk, by pattern.
 *
 * fsync-patterns DIR SECONDS WRITERS PATTERN: WRITERS threads deliver
 * small records into DIR for SECONDS, each delivery durable before the
 * next, and print "pattern=P writers=W rate=R" (deliveries per second).
 * The patterns are the ways an inbox can make one delivery durable:
 *
 *   plain    the maildir minimum: one file written in tmp/, fsynced,
 *            linked into a directory, that directory fsynced (2 syncs);
 *            fsync-loop.c's pattern, the issue's "plain fsync rate";
 *   inbox    what lib/inbox.c does for a message into an open
 *            conversation: the message and the conversation record
 *            written and fsynced, the message linked into its thread's
 *            directory, the record renamed over the old one in conv/,
 *            both directories fsynced (4 syncs);
 *   append   the message as in plain, the conversation record appended
 *            to a per-conversation log with fdatasync (3 syncs, one a
 *            data-only append: a layout the inbox does not use);
 *   syncfs   the inbox pattern, made durable by one syncfs(2) instead of
 *            four fsyncs, by one thread for all writers (group commit);
 *            flushes everything dirty on the file system, other
 *            programs' writes included;
 *   journal  the message delivered as in plain but into new/, then the
 *            inbox pattern's files written without syncs; a flusher
 *            thread syncfs(2)es every FLUSH_US microseconds (default
 *            100000) and empties new/ (2 syncs on the delivery's path);
 *   wal      one record appended with pwrite(2) to a pre-zeroed
 *            write-ahead log and fdatasync(2)ed: no file created, no
 *            metadata to commit (1 data sync);
 *   walfiles wal, then the inbox pattern's files written without syncs
 *            and made durable by the flusher, as in journal (the log is
 *            what makes the delivery durable; NOSYNC=1 skips its
 *            fdatasync, to see what the file operations alone cost);
 *   walappend walfiles, but the conversation record appended to its file
 *            (O_APPEND) rather than written anew and renamed over it: no
 *            inode freed per delivery, as lib/inbox.c does now (on ext4
 *            without a journal every new inode scans past those freed in
 *            the last minutes).
 *
 * Each writer has its own conversation and thread directory, as the
 * listener's connections mostly do. Run it where the inbox would live:
 * the figures belong to the file system. Exit 0, 1 on an I/O error, 2
 * on bad usage. Built and run by hand (see tests/bench/inbox.sh for the
 * build line); not part of make check.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITERS 64

enum pattern {
	PLAIN, INBOX, APPEND, SYNCFS, JOURNAL, WAL, WALFILES, WALAPPEND
};

static const char *const names[] = { "plain", "inbox", "append", "syncfs",
    "journal", "wal", "walfiles", "walappend" };

static int dirfd_, failed, wal_fd = -1;
static _Atomic off_t wal_at;
static useconds_t flush_us = 100000;
static enum pattern pattern;
static double deadline;
static char msg[400], conv[300];

/* The group commit of the syncfs pattern. */
static pthread_mutex_t gc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc_done = PTHREAD_COND_INITIALIZER;
static long gc_want, gc_synced;
static int gc_busy;

struct writer {
	int id;
	long n;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sync_path(const char *rel)
{
	int fd = openat(dirfd_, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write n bytes into a new file rel; fsync it if sync. */
static int
put(const char *rel, const char *p, size_t n, int sync)
{
	int fd = openat(dirfd_, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);

	if (fd < 0)
		return -1;
	if (write(fd, p, n) != (ssize_t)n || (sync && fsync(fd) < 0)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Wait until a syncfs started after this call has finished. */
static int
group_sync(void)
{
	long mine;
	int rc = 0;

	pthread_mutex_lock(&gc_lock);
	mine = ++gc_want;
	while (gc_synced < mine) {
		if (!gc_busy) {
			long upto = gc_want;

			gc_busy = 1;
			pthread_mutex_unlock(&gc_lock);
			rc = syncfs(dirfd_);
			pthread_mutex_lock(&gc_lock);
			gc_busy = 0;
			gc_synced = upto;
			pthread_cond_broadcast(&gc_done);
		} else {
			pthread_cond_wait(&gc_done, &gc_lock);
		}
	}
	pthread_mutex_unlock(&gc_lock);
	return rc;
}

static int
deliver(struct writer *w)
{
	char t1[64], t2[64], dst[64], thread[32], cv[32];
	int sync = pattern != SYNCFS, fd;

	snprintf(thread, sizeof thread, "msg/%d", w->id);
	snprintf(cv, sizeof cv, "conv/%d", w->id);
	snprintf(t1, sizeof t1, "tmp/m%d.%ld", w->id, w->n);
	snprintf(t2, sizeof t2, "tmp/c%d.%ld", w->id, w->n);
	snprintf(dst, sizeof dst, "%s/%ld", thread, w->n);
	if (pattern == PLAIN) {
		if (put(t1, msg, sizeof msg, 1) < 0 ||
		    linkat(dirfd_, t1, dirfd_, dst, 0) < 0 ||
		    unlinkat(dirfd_, t1, 0) < 0)
			return -1;
		return sync_path(thread);
	}
	if (pattern == WAL || pattern == WALFILES || pattern == WALAPPEND) {
		off_t at = atomic_fetch_add(&wal_at, (off_t)sizeof msg);

		if (pwrite(wal_fd, msg, sizeof msg, at) != sizeof msg ||
		    (!getenv("NOSYNC") && fdatasync(wal_fd) < 0))
			return -1;
		if (pattern == WAL)
			return 0;
		if (put(t1, msg, sizeof msg, 0) < 0 ||
		    linkat(dirfd_, t1, dirfd_, dst, 0) < 0 ||
		    unlinkat(dirfd_, t1, 0) < 0)
			return -1;
		if (pattern == WALAPPEND) {
			fd = openat(dirfd_, cv, O_WRONLY | O_CREAT | O_APPEND |
			    O_CLOEXEC, 0600);
			if (fd < 0 || write(fd, conv, sizeof conv) < 0) {
				if (fd >= 0)
					close(fd);
				return -1;
			}
			return close(fd);
		}
		if (put(t2, conv, sizeof conv, 0) < 0 ||
		    renameat(dirfd_, t2, dirfd_, cv) < 0)
			return -1;
		return 0;
	}
	if (pattern == JOURNAL) {
		char nw[64];

		snprintf(nw, sizeof nw, "new/%d.%ld", w->id, w->n);
		if (put(t1, msg, sizeof msg, 1) < 0 ||
		    linkat(dirfd_, t1, dirfd_, nw, 0) < 0 ||
		    sync_path("new") < 0 ||
		    linkat(dirfd_, t1, dirfd_, dst, 0) < 0 ||
		    unlinkat(dirfd_, t1, 0) < 0 ||
		    put(t2, conv, sizeof conv, 0) < 0 ||
		    renameat(dirfd_, t2, dirfd_, cv) < 0)
			return -1;
		pthread_mutex_lock(&gc_lock);
		gc_want++;
		pthread_mutex_unlock(&gc_lock);
		return 0;
	}
	if (pattern == APPEND) {
		if (put(t1, msg, sizeof msg, 1) < 0 ||
		    linkat(dirfd_, t1, dirfd_, dst, 0) < 0 ||
		    unlinkat(dirfd_, t1, 0) < 0)
			return -1;
		fd = openat(dirfd_, cv, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, conv, sizeof conv) != sizeof conv ||
		    fdatasync(fd) < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		return sync_path(thread);
	}
	/* INBOX and SYNCFS: both files, then both names, then the dirs. */
	if (put(t1, msg, sizeof msg, sync) < 0 ||
	    put(t2, conv, sizeof conv, sync) < 0 ||
	    linkat(dirfd_, t1, dirfd_, dst, 0) < 0 ||
	    unlinkat(dirfd_, t1, 0) < 0 ||
	    renameat(dirfd_, t2, dirfd_, cv) < 0)
		return -1;
	if (!sync)
		return group_sync();
	return sync_path(thread) < 0 || sync_path("conv") < 0 ? -1 : 0;
}

/* The journal pattern's flusher: syncfs, then forget what new/ held. */
static void *
flusher(void *arg)
{
	(void)arg;
	while (!failed && now() < deadline) {
		DIR *d;
		struct dirent *e;

		usleep(flush_us);
		if (syncfs(dirfd_) < 0) {
			failed = 1;
			break;
		}
		if ((d = opendir("new")) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	return NULL;
}

static void *
run(void *arg)
{
	struct writer *w = arg;
	char thread[32];

	snprintf(thread, sizeof thread, "msg/%d", w->id);
	if (mkdirat(dirfd_, thread, 0700) < 0 && errno != EEXIST) {
		failed = 1;
		return NULL;
	}
	while (!failed && now() < deadline) {
		if (deliver(w) < 0) {
			perror("fsync-patterns");
			failed = 1;
			break;
		}
		w->n++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[MAX_WRITERS + 1];
	struct writer w[MAX_WRITERS];
	int writers, secs, i, flushing;
	long total = 0;

	if (argc != 5 || (secs = atoi(argv[2])) <= 0 ||
	    (writers = atoi(argv[3])) <= 0 || writers > MAX_WRITERS) {
		fprintf(stderr, "usage: fsync-patterns DIR SECONDS WRITERS "
		    "plain|inbox|append|syncfs|journal|wal|walfiles|"
		    "walappend\n");
		return 2;
	}
	for (i = 0; i < 8 && strcmp(argv[4], names[i]) != 0; i++)
		;
	if (i == 8) {
		fprintf(stderr, "fsync-patterns: %s: no such pattern\n",
		    argv[4]);
		return 2;
	}
	pattern = (enum pattern)i;
	memset(msg, 'm', sizeof msg);
	memset(conv, 'c', sizeof conv);
	conv[sizeof conv - 1] = msg[sizeof msg - 1] = '\n';
	if ((dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (mkdirat(dirfd_, "tmp", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(dirfd_, "msg", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(dirfd_, "new", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(dirfd_, "conv", 0700) < 0 && errno != EEXIST) ||
	    chdir(argv[1]) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (pattern == WAL || pattern == WALFILES ||
	    pattern == WALAPPEND) {
		static char zero[1 << 20];

		wal_fd = open("wal", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
		for (i = 0; i < 256; i++)
			if (wal_fd < 0 ||
			    write(wal_fd, zero, sizeof zero) != sizeof zero) {
				perror("wal");
				return 1;
			}
		if (fsync(wal_fd) < 0 || sync_path(".") < 0) {
			perror("wal");
			return 1;
		}
	}
	if (getenv("FLUSH_US"))
		flush_us = (useconds_t)atol(getenv("FLUSH_US"));
	deadline = now() + secs;
	for (i = 0; i < writers; i++) {
		w[i].id = i;
		w[i].n = 0;
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	flushing = pattern == JOURNAL || pattern == WALFILES ||
	    pattern == WALAPPEND;
	if (flushing)
		pthread_create(&t[writers], NULL, flusher, NULL);
	for (i = 0; i < writers + flushing; i++) {
		if (i == writers) {
			pthread_join(t[i], NULL);
			break;
		}
		pthread_join(t[i], NULL);
		total += w[i].n;
	}
	if (failed)
		return 1;
	printf("pattern=%s writers=%d deliveries=%ld rate=%.1f\n",
	    names[pattern], writers, total, (double)total / secs);
	return 0;
}
