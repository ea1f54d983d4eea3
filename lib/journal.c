/*
 * journal.c: a write-ahead log with group commit (see journal.h).
 *
 * Appends are write(2)s under the journal's mutex, so records never
 * interleave; the fdatasync(2) runs outside it. Whoever finds its record
 * not yet synced and nobody syncing becomes the syncer for everything
 * written so far, the rest wait for it: under load one sync covers many
 * records. A record's file counts it busy until journal_done(), so that a
 * checkpoint syncs only after every record's files are written.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

struct half {
	char rel[PATH_MAX];	/* JOURNAL_DIR/NAME.N */
	const char *leaf;	/* NAME.N, in rel */
	int fd;
	off_t written;		/* bytes appended */
	off_t synced;		/* of which known durable */
	off_t failed;		/* a sync covering up to here failed, */
	int failed_errno;	/* with this error */
	int syncing;		/* an fdatasync of it is running */
	unsigned busy;		/* records whose files are being written */
};

struct journal {
	int dirfd;
	int jfd, tfd;		/* JOURNAL_DIR and tmp/, opened without
				 * following a symbolic link */
	mode_t mode;		/* of its files: 0660 in a group's inbox */
	const char *where;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct half h[2];
	int active;		/* the half appends go to */
	int checkpointing;
	int stuck;		/* a checkpoint's sync failed: never truncate */
	struct journal_stats st;	/* but pending and stuck */
};

const double journal_bucket_le[JOURNAL_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5,
};

static double
mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A sync that took took seconds, counted (under j->lock). */
static void
count_sync(struct journal *j, double took)
{
	size_t i = 0;

	while (i < JOURNAL_BUCKETS && took > journal_bucket_le[i])
		i++;
	j->st.syncs++;
	j->st.sync_bucket[i]++;
	j->st.sync_seconds += took;
}

/* The directory rel of dirfd, opened: never through a symbolic link. */
static int
open_dir(int dirfd, const char *rel)
{
	return openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/*
 * Make one half: created in tmp/ and locked there, so that no replay can
 * take it for a dead writer's between its creation and its lock, then
 * linked into place. The caller syncs JOURNAL_DIR.
 */
static int
make_half(struct journal *j, struct half *h, const char *name, int n,
    struct errbuf *e)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof tmp, "%s.j%d", name, n);
	snprintf(h->rel, sizeof h->rel, "%s/%s.%d", JOURNAL_DIR, name, n);
	h->leaf = h->rel + sizeof JOURNAL_DIR;
	h->fd = openat(j->tfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (h->fd < 0)
		return errf(e, "%s/tmp/%s: %s", j->where, tmp,
		    strerror(errno));
	if ((j->mode != 0600 && fchmod(h->fd, j->mode) < 0) ||
	    flock(h->fd, LOCK_EX | LOCK_NB) < 0 ||
	    linkat(j->tfd, tmp, j->jfd, h->leaf, 0) < 0) {
		int saved = errno;

		close(h->fd);
		h->fd = -1;
		unlinkat(j->tfd, tmp, 0);
		errno = saved;
		return errf(e, "%s/%s: %s", j->where, h->rel,
		    strerror(errno));
	}
	unlinkat(j->tfd, tmp, 0);
	return 0;
}

/* Close j's files, removing them if remove, and free it. */
static void
journal_free(struct journal *j, int remove)
{
	for (int i = 0; i < 2; i++) {
		/*
		 * Not synced: a removal lost in a crash leaves an empty
		 * journal, or records whose replay finds their work done.
		 */
		if (remove && j->h[i].fd >= 0)
			unlinkat(j->jfd, j->h[i].leaf, 0);
		if (j->h[i].fd >= 0)
			close(j->h[i].fd);
	}
	if (j->jfd >= 0)
		close(j->jfd);
	if (j->tfd >= 0)
		close(j->tfd);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j);
}

struct journal *
journal_open(int dirfd, const char *where, const char *name,
    struct errbuf *e)
{
	struct journal *j = calloc(1, sizeof *j);
	struct stat st;
	int i;

	if (!j) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	j->dirfd = dirfd;
	j->where = where;
	j->h[0].fd = j->h[1].fd = j->jfd = j->tfd = -1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->st.checkpoint_at = mono_now();	/* empty: as good as one */
	if ((j->jfd = open_dir(dirfd, JOURNAL_DIR)) < 0 ||
	    fstat(j->jfd, &st) < 0) {
		errf(e, "%s/%s: %s", where, JOURNAL_DIR, strerror(errno));
		goto fail;
	}
	/* Shared with a group (setgid, group-writable): readable by it. */
	j->mode = (st.st_mode & (S_ISGID | S_IWGRP)) == (S_ISGID | S_IWGRP) ?
	    0660 : 0600;
	if ((j->tfd = open_dir(dirfd, "tmp")) < 0) {
		errf(e, "%s/tmp: %s", where, strerror(errno));
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if (make_half(j, &j->h[i], name, i, e) < 0)
			goto fail;
	if (fsync(j->jfd) < 0) {
		errf(e, "%s/%s: fsync: %s", where, JOURNAL_DIR,
		    strerror(errno));
		goto fail;
	}
	return j;
fail:
	journal_free(j, 1);
	return NULL;
}

/* Wait (holding j->lock) until h holds bytes up to end durably. */
static int
wait_synced(struct journal *j, struct half *h, off_t end, struct errbuf *e)
{
	off_t target;
	double began, took;
	int rc, saved;

	while (h->synced < end) {
		if (h->failed >= end) {
			/*
			 * Another thread's sync, which took ours with it:
			 * its error is ours.
			 */
			errno = h->failed_errno ? h->failed_errno : EIO;
			return errf(e, "%s/%s: fdatasync: %s", j->where,
			    h->rel, strerror(errno));
		}
		if (h->syncing) {
			pthread_cond_wait(&j->cond, &j->lock);
			continue;
		}
		h->syncing = 1;
		target = h->written;
		pthread_mutex_unlock(&j->lock);
		began = mono_now();
		rc = fdatasync(h->fd);
		saved = errno;
		took = mono_now() - began;
		pthread_mutex_lock(&j->lock);
		count_sync(j, took);
		h->syncing = 0;
		if (rc == 0 && target > h->synced) {
			h->synced = target;
		} else if (rc < 0) {
			/*
			 * The failed writeback may have taken the pages of
			 * records appended meanwhile too, and Linux reports
			 * that once: they fail with it, and the half is never
			 * emptied (its records are replayed next time).
			 */
			h->failed = h->written;
			h->failed_errno = saved;
			j->stuck = 1;
		}
		pthread_cond_broadcast(&j->cond);
		if (rc < 0) {
			errno = saved;
			return errf(e, "%s/%s: fdatasync: %s", j->where,
			    h->rel, strerror(saved));
		}
	}
	return 0;
}

int
journal_append(struct journal *j, const char *line, size_t len, int *slot,
    struct errbuf *e)
{
	return journal_append_to(j, -1, line, len, slot, e);
}

int
journal_append_to(struct journal *j, int half, const char *line, size_t len,
    int *slot, struct errbuf *e)
{
	off_t end;

	if (journal_write(j, half, line, len, slot, &end, e) < 0)
		return -1;
	return journal_sync(j, *slot, end, e);
}

int
journal_write(struct journal *j, int half, const char *line, size_t len,
    int *slot, off_t *end, struct errbuf *e)
{
	struct iovec iov[2] = {
		{ (void *)line, len }, { "\n", 1 }
	};
	struct half *h;
	ssize_t n;

	pthread_mutex_lock(&j->lock);
	*slot = half >= 0 ? half : j->active;
	h = &j->h[*slot];
	h->busy++;
	n = writev(h->fd, iov, 2);
	if (n != (ssize_t)len + 1) {
		int saved = n < 0 ? errno : ENOSPC;

		/* Cut a short write off, lest it join the next line. */
		if (n > 0 && ftruncate(h->fd, h->written) < 0)
			j->stuck = 1;
		if (--h->busy == 0)
			pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
		*slot = -1;
		errno = saved;
		return errf(e, "%s/%s: %s", j->where, h->rel,
		    strerror(saved));
	}
	h->written += n;
	*end = h->written;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int
journal_sync(struct journal *j, int slot, off_t end, struct errbuf *e)
{
	int rc;

	pthread_mutex_lock(&j->lock);
	rc = wait_synced(j, &j->h[slot], end, e);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int
journal_sync_all(struct journal *j, struct errbuf *e)
{
	int rc = 0;

	pthread_mutex_lock(&j->lock);
	for (int i = 0; i < 2 && rc == 0; i++)
		if (j->h[i].written > j->h[i].synced)
			rc = wait_synced(j, &j->h[i], j->h[i].written, e);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

void
journal_done(struct journal *j, int slot)
{
	pthread_mutex_lock(&j->lock);
	if (--j->h[slot].busy == 0)
		pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

size_t
journal_pending(struct journal *j)
{
	size_t n;

	pthread_mutex_lock(&j->lock);
	n = (size_t)(j->h[0].written + j->h[1].written);
	pthread_mutex_unlock(&j->lock);
	return n;
}

void
journal_stats(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->lock);
	*st = j->st;
	st->pending = (size_t)(j->h[0].written + j->h[1].written);
	st->stuck = j->stuck;
	pthread_mutex_unlock(&j->lock);
}

int
journal_stuck(struct journal *j)
{
	int stuck;

	pthread_mutex_lock(&j->lock);
	stuck = j->stuck;
	pthread_mutex_unlock(&j->lock);
	return stuck;
}

int
journal_checkpoint(struct journal *j, struct errbuf *e)
{
	struct half *old;
	int rc = 0;

	pthread_mutex_lock(&j->lock);
	if (j->checkpointing || j->stuck || j->h[j->active].written == 0 ||
	    j->h[!j->active].written != 0) {
		/* Nothing to do is a checkpoint made, for a monitor. */
		if (!j->checkpointing && !j->stuck &&
		    j->h[0].written + j->h[1].written == 0)
			j->st.checkpoint_at = mono_now();
		pthread_mutex_unlock(&j->lock);
		return 0;
	}
	j->checkpointing = 1;
	old = &j->h[j->active];
	j->active = !j->active;
	while (old->busy > 0 || old->syncing)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);

	if (syncfs(j->dirfd) < 0) {
		rc = errf(e, "%s: syncfs: %s", j->where, strerror(errno));
		pthread_mutex_lock(&j->lock);
		j->stuck = 1;
	} else {
		/*
		 * Not synced: a truncation lost in a crash leaves records
		 * whose replay finds their work done.
		 */
		if (ftruncate(old->fd, 0) < 0)
			rc = errf(e, "%s/%s: %s", j->where, old->rel,
			    strerror(errno));
		pthread_mutex_lock(&j->lock);
		if (rc == 0) {
			old->written = old->synced = old->failed = 0;
			j->st.checkpoints++;
			j->st.checkpoint_at = mono_now();
		} else {
			j->stuck = 1;
		}
	}
	j->checkpointing = 0;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int
journal_close(struct journal *j, struct errbuf *e)
{
	int rc = 0, i;

	if (!j)
		return 0;
	/* Twice: the first may leave records in the half it switched to. */
	for (i = 0; i < 2 && rc == 0; i++)
		rc = journal_checkpoint(j, e);
	journal_free(j, rc == 0 && !j->stuck && j->h[0].written == 0 &&
	    j->h[1].written == 0);
	return rc;
}

/* Hand each line of the journal open on fd to fn; 0, or -1. */
static int
replay_file(int fd, const char *where, const char *rel, journal_fn fn,
    void *arg, struct errbuf *e)
{
	size_t cap = 65536, len = 0, start, i;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int rc = 0;

	if (!buf)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	for (;;) {
		if (len == cap) {
			if (!(nb = realloc(buf, cap * 2))) {
				free(buf);
				return errno = ENOMEM, errf(e, "%s",
				    strerror(ENOMEM));
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errf(e, "%s/%s: %s", where, rel, strerror(errno));
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* A last line without its newline was never acknowledged. */
	for (start = i = 0; i < len && rc == 0; i++) {
		if (buf[i] != '\n')
			continue;
		if (i > start)
			rc = fn(buf + start, i - start, arg, e);
		start = i + 1;
	}
	free(buf);
	return rc == 0 ? fn(NULL, 0, arg, e) : rc;
}

int
journal_replay(int dirfd, const char *where, journal_fn fn,
    journal_skip_fn skip, void *arg, size_t *files, struct errbuf *e)
{
	char rel[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int dfd, fd, rc = 0, removed = 0;

	*files = 0;
	dfd = open_dir(dirfd, JOURNAL_DIR);
	if (dfd < 0 && errno == ENOENT)
		return 0;
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return errf(e, "%s/%s: %s", where, JOURNAL_DIR,
		    strerror(errno));
	}
	while (rc == 0 && (d = readdir(dir))) {
		size_t n = strlen(d->d_name);

		/* A journal is NAME.0 or NAME.1; other files are not. */
		if (d->d_name[0] == '.' || n < 3 || d->d_name[n - 2] != '.' ||
		    (d->d_name[n - 1] != '0' && d->d_name[n - 1] != '1'))
			continue;
		snprintf(rel, sizeof rel, "%s/%s", JOURNAL_DIR, d->d_name);
		/*
		 * What is not a regular file (a symbolic link, a FIFO, a
		 * directory) was never a writer's journal: planted, it is
		 * passed over, never opened, and handed to skip.
		 */
		if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;	/* its writer closed it */
			rc = errf(e, "%s/%s: %s", where, rel, strerror(errno));
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			if (skip)
				skip(d->d_name, &st, arg);
			continue;
		}
		fd = openat(dfd, d->d_name, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			/* Gone, or swapped since it was looked at. */
			if (errno == ENOENT || errno == ELOOP ||
			    errno == ENXIO)
				continue;
			rc = errf(e, "%s/%s: %s", where, rel, strerror(errno));
			break;
		}
		errno = 0;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = errno;
			close(fd);
			if (rc == 0)
				continue;
			rc = errf(e, "%s/%s: %s", where, rel, strerror(rc));
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			if (errno == EWOULDBLOCK)
				continue;	/* a live writer's */
			rc = errf(e, "%s/%s: flock: %s", where, rel,
			    strerror(errno));
			break;
		}
		rc = replay_file(fd, where, rel, fn, arg, e);
		/*
		 * What the replay found done may be written but not synced
		 * (its writer was killed, the machine was not): synced
		 * before the journal that stood for it goes.
		 */
		if (rc == 0 && syncfs(dirfd) < 0)
			rc = errf(e, "%s: syncfs: %s", where, strerror(errno));
		if (rc == 0) {
			unlinkat(dfd, d->d_name, 0);
			removed = 1;
			(*files)++;
		}
		close(fd);
	}
	if (removed && fsync(dfd) < 0 && rc == 0)
		rc = errf(e, "%s/%s: fsync: %s", where, JOURNAL_DIR,
		    strerror(errno));
	closedir(dir);
	return rc;
}
