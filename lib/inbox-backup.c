/*
 * inbox-backup.c: a consistent copy of a live inbox (inbox-check.h,
 * inbox_backup(); smsdesk-inbox(5), Backups).
 *
 * A plain cp(1) of a live inbox may copy a conversation record that
 * counts a message whose file it copied before the message was stored.
 * Here each thread is copied under its lock, as a writer changes it, so
 * its conversation, messages, work/ entry and media agree; the ledgers,
 * indexes and history are copied after every thread, so they can only
 * say more than the copied records (which the layout allows), save an
 * entry taken out meanwhile, which the caller's check of the copy puts
 * back from the records. The journals of writers that died are replayed
 * first, so that what they hold is in the files copied; the journals of
 * live writers are not copied, for what they hold is in the files too
 * (a journaled delivery writes its files before it answers). Files keep
 * their modes and times (the sweep goes by the times). tmp/ and lock/ are
 * made empty; queue/ is copied without queue/.built, so the first
 * `assign --next` rebuilds the index from the conversations.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox-check.h"
#include "inbox-impl.h"

struct bk {
	struct inbox *ib;
	int to;			/* the copy's directory */
	const char *dir;	/* its path, for messages */
	size_t files;
};

static int
copy_bytes(int from, int to)
{
	char buf[65536];
	ssize_t n, w, off;

	while ((n = read(from, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (off = 0; off < n; off += w)
			if ((w = write(to, buf + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				return -1;
			}
	}
	return 0;
}

/* The file name of sfd copied into dfd, mode and times kept. */
static int
copy_file(struct bk *b, int sfd, int dfd, const char *name, const char *rel,
    struct errbuf *e)
{
	struct stat st;
	struct timespec ts[2];
	int from, to, rc;

	if ((from = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : errf(e, "%s/%s: %s", b->ib->dir,
		    rel, strerror(errno));
	if (fstat(from, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(from);
		return 0;	/* gone, or no file (inbox-check says so) */
	}
	if ((to = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, st.st_mode & 0777)) < 0) {
		close(from);
		return errf(e, "%s/%s: %s", b->dir, rel, strerror(errno));
	}
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	rc = copy_bytes(from, to) < 0 || fchmod(to, st.st_mode & 07777) < 0 ||
	    futimens(to, ts) < 0 ? -1 : 0;
	if (close(to) < 0)
		rc = -1;
	close(from);
	if (rc < 0)
		return errf(e, "%s/%s: %s", b->dir, rel, strerror(errno));
	b->files++;
	return 0;
}

static int copy_tree(struct bk *b, int sfd, int dfd, const char *name,
    char *rel, size_t len, const char *skip, struct errbuf *e);

/* The entry name of sfd copied into dfd, whatever it is. */
static int
copy_entry(struct bk *b, int sfd, int dfd, const char *name, char *rel,
    size_t len, const char *skip, struct errbuf *e)
{
	char to[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc = 0;

	snprintf(rel + len, PATH_MAX - len, "%s%s", len ? "/" : "", name);
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rel[len] = '\0';
		return errno == ENOENT ? 0 : errf(e, "%s/%s: %s", b->ib->dir,
		    rel, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		rc = copy_tree(b, sfd, dfd, name, rel, strlen(rel), skip, e);
	} else if (S_ISREG(st.st_mode)) {
		rc = copy_file(b, sfd, dfd, name, rel, e);
	} else if (S_ISLNK(st.st_mode)) {
		/* An older inbox's ledger link: copied, never followed. */
		if ((n = readlinkat(sfd, name, to, sizeof to - 1)) >= 0) {
			to[n] = '\0';
			if (symlinkat(to, dfd, name) < 0)
				rc = errf(e, "%s/%s: %s", b->dir, rel,
				    strerror(errno));
			else
				b->files++;
		}
	}
	rel[len] = '\0';
	return rc;
}

/* The directory name of sfd, and what it holds, into dfd (but skip). */
static int
copy_tree(struct bk *b, int sfd, int dfd, const char *name, char *rel,
    size_t len, const char *skip, struct errbuf *e)
{
	struct dirent *d;
	struct stat st;
	int from, to, rc = 0;
	DIR *dp;

	if ((from = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : errf(e, "%s/%s: %s", b->ib->dir,
		    rel, strerror(errno));
	if (fstat(from, &st) < 0 || (mkdirat(dfd, name, 0700) < 0 &&
	    errno != EEXIST) || (to = openat(dfd, name, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		close(from);
		return errf(e, "%s/%s: %s", b->dir, rel, strerror(errno));
	}
	if (fchmod(to, st.st_mode & 07777) < 0 || !(dp = fdopendir(from))) {
		rc = errf(e, "%s/%s: %s", b->dir, rel, strerror(errno));
		close(from);
		close(to);
		return rc;
	}
	while (rc == 0 && (d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") ==
		    0 || (skip && strcmp(d->d_name, skip) == 0) ||
		    len + strlen(d->d_name) + 2 >= PATH_MAX)
			continue;
		rc = copy_entry(b, from, to, d->d_name, rel, len, skip, e);
	}
	closedir(dp);
	close(to);
	return rc;
}

/* Thread's own files, under its lock: conv/, msg/, work/, media/. */
static int
copy_thread(struct bk *b, const char *thread, struct errbuf *e)
{
	static const char *const dirs[] = { "conv", "msg", "work", "media" };
	char rel[PATH_MAX];
	int lk, rc = 0, sfd, dfd;

	if ((lk = ib_lock_thread(b->ib, thread, e)) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < 4; i++) {
		snprintf(rel, sizeof rel, "%s", dirs[i]);
		if ((dfd = openat(b->to, dirs[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = errf(e, "%s/%s: %s", b->dir, rel, strerror(errno));
			break;
		}
		sfd = b->ib->sub[i == 0 ? IB_CONV : i == 1 ? IB_MSG : i == 2 ?
		    IB_WORK : IB_MEDIA];
		rc = copy_entry(b, sfd, dfd, thread, rel, strlen(rel), NULL,
		    e);
		close(dfd);
	}
	ib_unlock(lk);
	return rc;
}

static int
copy_threads(struct bk *b, struct errbuf *e)
{
	char **a, **m;
	size_t na, nm, i = 0, j = 0;
	int cmp, rc = 0;

	if (!(a = ib_list_names(b->ib, "conv", &na, e)))
		return -1;
	if (!(m = ib_list_names(b->ib, "msg", &nm, e))) {
		ib_free_names(a, na);
		return -1;
	}
	while (rc == 0 && (i < na || j < nm)) {
		cmp = i == na ? 1 : j == nm ? -1 : strcmp(a[i], m[j]);
		rc = copy_thread(b, cmp <= 0 ? a[i] : m[j], e);
		i += cmp <= 0;
		j += cmp >= 0;
	}
	ib_free_names(a, na);
	ib_free_names(m, nm);
	return rc;
}

/* The rest of the inbox, after the threads. */
static int
copy_rest(struct bk *b, struct errbuf *e)
{
	static const char *const own[] = { "conv", "msg", "work", "media",
	    "tmp", "journal", "lock", NULL };
	char rel[PATH_MAX] = "";
	struct dirent *d;
	size_t i;
	int fd, rc = 0;
	DIR *dp;

	if ((fd = dup(b->ib->fd)) < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return errf(e, "%s: %s", b->ib->dir, strerror(errno));
	}
	rewinddir(dp);
	while (rc == 0 && (d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		for (i = 0; own[i] && strcmp(own[i], d->d_name); i++)
			;
		if (own[i])
			continue;
		rc = copy_entry(b, b->ib->fd, b->to, d->d_name, rel, 0,
		    strcmp(d->d_name, "queue") == 0 ? IB_QUEUE_BUILT : NULL,
		    e);
	}
	closedir(dp);
	return rc;
}

int
inbox_backup(struct inbox *ib, const char *to, size_t *files,
    struct errbuf *e)
{
	struct bk b = { .ib = ib, .to = -1, .dir = to };
	mode_t dmode = ib->grouped ? 02770 : 0700;
	int rc = -1;

	*files = 0;
	if (mkdir(to, 0700) < 0)
		return errf(e, "%s: %s", to, strerror(errno));
	/* A shared inbox's copy is its group's, whoever takes it: what is
	 * made in it inherits the group (smsdesk-inbox(5), Sharing). */
	if ((b.to = open(to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fchmod(b.to, dmode) < 0 ||
	    ib_share_dir(ib, b.to, ".") < 0)
		goto fail;
	/* The layout's directories, as inbox_open() makes them. */
	for (size_t i = 0; i < INBOX_NSUB; i++)
		if (mkdirat(b.to, ib_subdirs[i], 0700) < 0 ||
		    fchmodat(b.to, ib_subdirs[i], dmode, 0) < 0)
			goto fail;
	if (inbox_recover(ib, NULL, e) < 0 || copy_threads(&b, e) < 0 ||
	    copy_rest(&b, e) < 0)
		goto out;
	if (syncfs(b.to) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	errf(e, "%s: %s", to, strerror(errno));
out:
	if (b.to >= 0)
		close(b.to);
	*files = b.files;
	return rc;
}
