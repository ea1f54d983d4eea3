/*
 * fsync-loop: the plain limit of a disk for maildir-style delivery.
 *
 * fsync-loop DIR SECONDS WRITERS: WRITERS threads each write a small file
 * (400 bytes) in DIR/tmp, fsync it, link it into DIR/new, unlink the tmp
 * name and fsync DIR/new, over and over for SECONDS. That is one durable
 * delivery with nothing else around it, the same steps lib/inbox.c takes
 * for each file it writes, so it is the ceiling against which the
 * listener's deliveries per second are compared. Run it on the same file
 * system as the inbox under test: the figure belongs to the disk.
 *
 * Prints one line: files=N seconds=S rate=R (files per second). The files
 * stay in DIR/new; the caller removes DIR. Exit 0, 1 on an I/O error, 2 on
 * bad usage.
 */
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

#define FILE_SIZE 400
#define MAX_WRITERS 256

struct loop {
	int dirfd;		/* DIR */
	int newfd;		/* DIR/new, fsynced after each link */
	double deadline;	/* CLOCK_MONOTONIC seconds */
	atomic_int failed;
};

struct writer {
	struct loop *l;
	int id;
	unsigned long files;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One delivery: tmp, fsync, link into new, unlink tmp, fsync new. */
static int
deliver(struct writer *w, const char *data)
{
	char tmp[96], dst[96];
	int fd;

	snprintf(tmp, sizeof tmp, "tmp/%ld.W%dN%lu", (long)getpid(), w->id,
	    w->files);
	snprintf(dst, sizeof dst, "new/%ld.W%dN%lu", (long)getpid(), w->id,
	    w->files);
	fd = openat(w->l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return perror(tmp), -1;
	if (write_all(fd, data, FILE_SIZE) < 0 || fsync(fd) < 0) {
		perror(tmp);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return perror(tmp), -1;
	if (linkat(w->l->dirfd, tmp, w->l->dirfd, dst, 0) < 0)
		return perror(dst), -1;
	if (unlinkat(w->l->dirfd, tmp, 0) < 0)
		return perror(tmp), -1;
	if (fsync(w->l->newfd) < 0)
		return perror("new: fsync"), -1;
	return 0;
}

static void *
run(void *arg)
{
	struct writer *w = arg;
	char data[FILE_SIZE];

	memset(data, 'x', sizeof data);
	data[sizeof data - 1] = '\n';
	while (!atomic_load(&w->l->failed) && now() < w->l->deadline) {
		if (deliver(w, data) < 0) {
			atomic_store(&w->l->failed, 1);
			break;
		}
		w->files++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct writer ws[MAX_WRITERS];
	pthread_t th[MAX_WRITERS];
	struct loop l = { .dirfd = -1 };
	unsigned long total = 0;
	double secs, t0;
	char *end;
	long n;
	int i;

	if (argc != 4) {
		fputs("usage: fsync-loop DIR SECONDS WRITERS\n", stderr);
		return 2;
	}
	secs = strtod(argv[2], &end);
	if (*end || secs <= 0)
		return fputs("fsync-loop: bad SECONDS\n", stderr), 2;
	n = strtol(argv[3], &end, 10);
	if (*end || n < 1 || n > MAX_WRITERS)
		return fputs("fsync-loop: bad WRITERS\n", stderr), 2;
	if ((l.dirfd = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0)
		return perror(argv[1]), 1;
	if ((mkdirat(l.dirfd, "tmp", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(l.dirfd, "new", 0700) < 0 && errno != EEXIST))
		return perror(argv[1]), 1;
	if ((l.newfd = openat(l.dirfd, "new", O_RDONLY | O_DIRECTORY)) < 0)
		return perror("new"), 1;

	t0 = now();
	l.deadline = t0 + secs;
	for (i = 0; i < n; i++) {
		ws[i].l = &l;
		ws[i].id = i;
		if (pthread_create(&th[i], NULL, run, &ws[i]) != 0) {
			fputs("fsync-loop: cannot start a thread\n", stderr);
			atomic_store(&l.failed, 1);
			n = i;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += ws[i].files;
	}
	secs = now() - t0;
	printf("files=%lu seconds=%.3f rate=%.1f\n", total, secs,
	    (double)total / secs);
	close(l.newfd);
	close(l.dirfd);
	if (fflush(stdout) != 0)
		return 1;
	return atomic_load(&l.failed) ? 1 : 0;
}
