/*
 * inbox-file.c: the inbox's files of one record each, and its locks
 * (inbox-impl.h has the rules every write follows).
 *
 * A record is staged in tmp/, synced, placed under its name, and the
 * directory that got the name synced: ib_put_record() does all four, and a
 * delivery does them step by step over its files. A record is read whole
 * (ib_get_record(); of a log file, its last line), and a file that does not
 * parse is moved to quarantine/, under the lock that guards it. Also
 * here: directories made and synced, unique names, and the locks,
 * flock(2) on files in lock/, that serialise a thread's writers.
 *
 * A journaled delivery passes defer_sync (inbox-impl.h) to leave its
 * syncs to the journal's checkpoint. Relies on record.h to parse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "journal.h"
#include "limit.h"
#include "record.h"

#define FILE_MAX RECORD_LINE_MAX

const char *const ib_subdirs[INBOX_NSUB] = {
	"msg", "tmp", "conv", "work", "ids", "consent", "status", "lock",
	"quarantine", "outbox", JOURNAL_DIR, "rate", "roster", "queue",
	"history", "media", "serve", "schedule", "contacts", "parts",
};

/* Why the last directory refused was refused (ib_strerror()). */
static _Thread_local char why_untrusted[160];

/*
 * Whether a directory of the inbox (st) may be trusted: owned by the
 * effective user or root, or by the trusted group; writable by nobody
 * else (by the group only if it is the trusted group). 0, or -1 with
 * errno IB_EUNTRUSTED and ib_strerror() saying why.
 */
int
ib_check_dir(struct inbox *ib, const struct stat *st)
{
	int ours = ib->grouped && st->st_gid == (gid_t)ib->group;

	if (st->st_mode & S_IWOTH)
		snprintf(why_untrusted, sizeof why_untrusted, "writable by "
		    "others; refused (chmod o-w)");
	else if ((st->st_mode & S_IWGRP) && !ours)
		snprintf(why_untrusted, sizeof why_untrusted, "writable by "
		    "group %lu, not a trusted group; refused (chmod g-w, or "
		    "name the group: group = in smsdesk-config(5))",
		    (unsigned long)st->st_gid);
	else if (st->st_uid != geteuid() && st->st_uid != 0 && !ours)
		snprintf(why_untrusted, sizeof why_untrusted, "owned by uid "
		    "%lu, not by uid %lu that runs this; refused",
		    (unsigned long)st->st_uid, (unsigned long)geteuid());
	else
		return 0;
	return errno = IB_EUNTRUSTED, -1;
}

/* What err means, with the path layer's own errors in words. */
const char *
ib_strerror(int err)
{
	if (err == ELOOP)
		return "a symbolic link (not followed)";
	if (err == IB_ENOTREG)
		return "not a regular file";
	if (err == IB_EUNTRUSTED)
		return why_untrusted[0] ? why_untrusted : "not trusted";
	return strerror(err);
}

/*
 * Open the directory name in dfd, never through a symbolic link: one
 * there is ELOOP (O_DIRECTORY alone would say ENOTDIR).
 */
int
ib_open_subdir(int dfd, const char *name)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
		int saved = errno;

		errno = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode) ? ELOOP : saved;
	}
	return fd;
}

/*
 * Whether a path component may be used: not empty, ".", "..", nor longer
 * than a file system takes (a quarantined file's name is longer than
 * NAME_MAX_LEN).
 */
static int
plain_name(const char *s, size_t n)
{
	return n > 0 && n <= NAME_MAX && memchr(s, '/', n) == NULL &&
	    !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

/*
 * Resolve rel (".", "DIR", "DIR/NAME" or "DIR/THREAD/NAME", DIR one of
 * ib_subdirs[]) to the descriptor of the directory that holds its last
 * component, and that component: a, to give to ib_at_done(). THREAD is
 * opened with O_DIRECTORY and O_NOFOLLOW and checked (ib_check_dir()).
 * 0, or -1 with errno set (EINVAL: not a path of the layout).
 */
int
ib_at(struct inbox *ib, const char *rel, struct ib_at *a)
{
	const char *s1 = strchr(rel, '/'), *s2;
	char mid[NAME_MAX + 1];
	struct stat st;
	size_t i;
	int fd;

	a->own = -1;
	a->dfd = ib->fd;
	a->leaf = rel;
	if (!s1)
		return strcmp(rel, ".") == 0 || plain_name(rel, strlen(rel)) ?
		    0 : (errno = EINVAL, -1);
	for (i = 0; i < INBOX_NSUB; i++)
		if (strlen(ib_subdirs[i]) == (size_t)(s1 - rel) &&
		    memcmp(ib_subdirs[i], rel, (size_t)(s1 - rel)) == 0)
			break;
	if (i == INBOX_NSUB || ib->sub[i] < 0)
		return errno = EINVAL, -1;
	a->dfd = ib->sub[i];
	a->leaf = s1 + 1;
	if (!(s2 = strchr(s1 + 1, '/')))
		return plain_name(a->leaf, strlen(a->leaf)) ? 0 :
		    (errno = EINVAL, -1);
	if (!plain_name(s1 + 1, (size_t)(s2 - s1 - 1)) ||
	    !plain_name(s2 + 1, strlen(s2 + 1)))
		return errno = EINVAL, -1;
	memcpy(mid, s1 + 1, (size_t)(s2 - s1 - 1));
	mid[s2 - s1 - 1] = '\0';
	fd = ib_open_subdir(a->dfd, mid);
	if (fd < 0 || fstat(fd, &st) < 0 || ib_check_dir(ib, &st) < 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		return errno = saved, -1;
	}
	a->dfd = a->own = fd;
	a->leaf = s2 + 1;
	return 0;
}

/* Close what ib_at() opened for a; errno is left as it was. */
void
ib_at_done(struct ib_at *a)
{
	int saved = errno;

	if (a->own >= 0)
		close(a->own);
	a->own = -1;
	errno = saved;
}

/*
 * Open name in the directory dfd as a file of the inbox: never through a
 * symbolic link, never blocking, refused (IB_ENOTREG) unless it is a
 * regular file, or (IB_EUNTRUSTED) if others may write it; st, if not
 * NULL, gets its fstat(2). A file made for a trusted group is made 0660,
 * whatever the umask. A file made with O_EXCL is known to be a new one of
 * ours, and is not looked at again (one system call a message saved).
 */
int
ib_openat_file(struct inbox *ib, int dfd, const char *name, int flags,
    mode_t mode, struct stat *st)
{
	struct stat own;
	int fd, saved;

	if (!st)
		st = &own;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    ib->grouped ? 0660 : mode);
	if (fd < 0)
		return -1;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && st == &own) {
		if (ib->grouped && fchmod(fd, 0660) < 0)
			goto fail;
		return fd;
	}
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		errno = IB_ENOTREG;
		goto fail;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && ((st->st_mode & S_IWOTH) ||
	    !ib->grouped || st->st_gid != (gid_t)ib->group)) {
		ib_check_dir(ib, st);
		goto fail;
	}
	if ((flags & O_CREAT) && ib->grouped && st->st_uid == geteuid() &&
	    (st->st_mode & 0777) != 0660 && fchmod(fd, 0660) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	return errno = saved, -1;
}

int
inbox_open_file(struct inbox *ib, const char *rel, int flags,
    struct errbuf *e)
{
	int fd = ib_open(ib, rel, flags, 0600, NULL);

	if (fd < 0)
		errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
	return fd;
}

/* Open the file rel of the inbox (ib_openat_file()). */
int
ib_open(struct inbox *ib, const char *rel, int flags, mode_t mode,
    struct stat *st)
{
	struct ib_at a;
	int fd;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	fd = ib_openat_file(ib, a.dfd, a.leaf, flags, mode, st);
	ib_at_done(&a);
	return fd;
}

/*
 * Open the directory rel of the inbox ("." or a directory of the layout:
 * one held open is opened again as its own ".", a new open file with its
 * own offset for readdir(3)), checked as ib_at() checks a thread's.
 */
int
ib_open_dir(struct inbox *ib, const char *rel)
{
	struct ib_at a;
	struct stat st;
	int fd, saved;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	if (a.dfd == ib->fd && strcmp(rel, ".") == 0)
		return openat(ib->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.dfd == ib->fd) {
		for (size_t i = 0; i < INBOX_NSUB; i++)
			if (strcmp(rel, ib_subdirs[i]) == 0 && ib->sub[i] >= 0)
				return openat(ib->sub[i], ".", O_RDONLY |
				    O_DIRECTORY | O_CLOEXEC);
		return errno = EINVAL, -1;
	}
	fd = ib_open_subdir(a.dfd, a.leaf);
	if (fd >= 0 && (fstat(fd, &st) < 0 || ib_check_dir(ib, &st) < 0)) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	ib_at_done(&a);
	return fd;
}

/* lstat(2) of rel. */
int
ib_stat(struct inbox *ib, const char *rel, struct stat *st)
{
	struct ib_at a;
	int rc;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	rc = fstatat(a.dfd, a.leaf, st, AT_SYMLINK_NOFOLLOW);
	ib_at_done(&a);
	return rc;
}

/* unlinkat(2) of rel (flags: 0 or AT_REMOVEDIR); a link is removed. */
int
ib_unlink(struct inbox *ib, const char *rel, int flags)
{
	struct ib_at a;
	int rc;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	rc = unlinkat(a.dfd, a.leaf, flags);
	ib_at_done(&a);
	return rc;
}

/*
 * Rename from to to: replacing what is there (a link there is replaced,
 * never followed), or, with noreplace, failing with EEXIST instead
 * (renameat2(2) RENAME_NOREPLACE, or link(2) where the file system has no
 * such rename: then *moved is 0 and from is still there).
 */
int
ib_rename(struct inbox *ib, const char *from, const char *to,
    int noreplace, int *moved)
{
	struct ib_at a, b;
	int rc;

	*moved = 1;
	if (ib_at(ib, from, &a) < 0)
		return -1;
	if (ib_at(ib, to, &b) < 0) {
		ib_at_done(&a);
		return -1;
	}
	if (!noreplace) {
		rc = renameat(a.dfd, a.leaf, b.dfd, b.leaf);
	} else if ((rc = renameat2(a.dfd, a.leaf, b.dfd, b.leaf,
	    RENAME_NOREPLACE)) < 0 && (errno == EINVAL || errno == ENOSYS)) {
		rc = linkat(a.dfd, a.leaf, b.dfd, b.leaf, 0);
		*moved = 0;
	}
	ib_at_done(&a);
	ib_at_done(&b);
	return rc;
}

/* symlinkat(2): rel, a new symbolic link to `to`. */
int
ib_symlink(struct inbox *ib, const char *to, const char *rel)
{
	struct ib_at a;
	int rc;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	rc = symlinkat(to, a.dfd, a.leaf);
	ib_at_done(&a);
	return rc;
}

/* readlinkat(2) of rel: what a link says, never where it leads. */
ssize_t
ib_readlink(struct inbox *ib, const char *rel, char *buf, size_t size)
{
	struct ib_at a;
	ssize_t n;

	if (ib_at(ib, rel, &a) < 0)
		return -1;
	n = readlinkat(a.dfd, a.leaf, buf, size);
	ib_at_done(&a);
	return n;
}

/*
 * The message a ledger link rel (ids/KEY, outbox/ID) names, as a path of
 * the inbox, "msg/THREAD/NAME", in out: read with readlinkat(2), and
 * taken only if it says exactly "../msg/THREAD/NAME" with a valid thread
 * and a plain name. 0; or -1 with errno as readlink(2) sets it, or
 * EBADMSG if it is not a link or says anything else.
 */
int
ib_link_target(struct inbox *ib, const char *rel, char *out, size_t size)
{
	char to[PATH_MAX], thread[32];
	const char *t, *slash;
	ssize_t n;

	if ((n = ib_readlink(ib, rel, to, sizeof to - 1)) < 0)
		return errno == EINVAL ? (errno = EBADMSG, -1) : -1;
	to[n] = '\0';
	if (strncmp(to, "../msg/", 7) != 0 || !(slash = strchr(t = to + 7,
	    '/')) || (size_t)(slash - t) >= sizeof thread)
		return errno = EBADMSG, -1;
	snprintf(thread, sizeof thread, "%.*s", (int)(slash - t), t);
	if (!thread_valid(thread) || !plain_name(slash + 1,
	    strlen(slash + 1)) || slash[1] == '.' || strlen(to + 3) >= size)
		return errno = EBADMSG, -1;
	strcpy(out, to + 3);
	return 0;
}

/*
 * Put who made a change into the record it appends, rec: "by", the
 * effective user's name (or uid) and the agent given, if any.
 */
void
ib_stamp(struct inbox *ib, json_t *rec)
{
	json_t *by = ib->agent ? json_pack("{s:s,s:s}", "user", ib->user,
	    "agent", ib->agent) : json_pack("{s:s}", "user", ib->user);

	if (by)
		json_object_set_new(rec, "by", by);
}

/*
 * Whether the file open on fd may have got its name from a journaled
 * delivery whose checkpoint has not come yet (a new conversation or
 * message, or a compaction): made in the last minute, or of unknown age;
 * or any file, once this writer's journal or another's is stuck (see
 * STUCK_FLAG), for then no checkpoint comes at all. A durable change
 * appended to it syncs its directory too, lest a crash take the name and
 * the change with it.
 */
int
ib_young(struct inbox *ib, int fd)
{
	struct statx sx;

	/* By age first: the flag costs a look-up, asked of old files only. */
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) < 0 ||
	    !(sx.stx_mask & STATX_BTIME) || time(NULL) -
	    (time_t)sx.stx_btime.tv_sec < (ib->young_s ? (time_t)ib->young_s :
	    60))
		return 1;
	return (ib->journal && journal_stuck(ib->journal)) ||
	    fstatat(ib->sub[IB_JOURNAL], STUCK_FLAG + sizeof JOURNAL_DIR,
	    &(struct stat){ 0 }, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * fsync a directory by its path relative to the inbox. A thread's
 * directory in msg/ made in the last minute may have its name from a
 * journaled delivery whose checkpoint has not come yet: its name is
 * synced too, lest a crash take it with what was just made durable in it.
 */
int
ib_sync_dir(struct inbox *ib, const char *rel, struct errbuf *e)
{
	int fd = -1, held = -1;

	/* The directories held open are synced as they are. */
	if (strcmp(rel, ".") == 0)
		held = ib->fd;
	for (size_t i = 0; i < INBOX_NSUB && held < 0; i++)
		if (strcmp(rel, ib_subdirs[i]) == 0)
			held = ib->sub[i];
	if (held < 0 && (fd = ib_open_dir(ib, rel)) < 0)
		return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
	if (fsync(held >= 0 ? held : fd) < 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		errno = saved;
		return errf(e, "%s/%s: fsync: %s", ib->dir, rel,
		    strerror(errno));
	}
	if (fd >= 0 && strncmp(rel, "msg/", 4) == 0 && ib_young(ib, fd)) {
		close(fd);
		return ib_sync_dir(ib, "msg", e);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Give the directory just made, leaf in dfd, to the trusted group:
 * its group, and mode 2770 whatever the umask. 0, or -1.
 */
int
ib_share_dir(struct inbox *ib, int dfd, const char *leaf)
{
	struct stat st;
	int fd, rc, saved;

	if (!ib->grouped)
		return 0;
	fd = ib_open_subdir(dfd, leaf);
	if (fd < 0)
		return -1;
	rc = fstat(fd, &st);
	if (rc == 0 && st.st_gid != (gid_t)ib->group)
		rc = fchown(fd, (uid_t)-1, (gid_t)ib->group);
	if (rc == 0)
		rc = fchmod(fd, 02770);
	saved = errno;
	close(fd);
	return errno = saved, rc;
}

/*
 * Make the directory rel (in parent, relative to the inbox) if it is not
 * there, durably: a new name is synced in its parent (unless defer_sync:
 * a journaled delivery's, whose replay makes it again). If that sync
 * fails, the new directory is removed again, so that the next attempt
 * makes and syncs it rather than trust a name that may not survive a
 * crash. What is there already is not looked at here: it is checked when
 * opened.
 */
int
ib_make_dir(struct inbox *ib, const char *rel, const char *parent,
    int defer_sync, struct errbuf *e)
{
	struct ib_at a;
	int saved;

	if (ib_at(ib, rel, &a) < 0)
		return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
	if (mkdirat(a.dfd, a.leaf, 0700) == 0) {
		if (ib_share_dir(ib, a.dfd, a.leaf) < 0) {
			saved = errno;
			unlinkat(a.dfd, a.leaf, AT_REMOVEDIR);
			ib_at_done(&a);
			errno = saved;
			return errf(e, "%s/%s: %s", ib->dir, rel,
			    strerror(errno));
		}
		if (!defer_sync && ib_sync_dir(ib, parent, e) < 0) {
			saved = errno;
			unlinkat(a.dfd, a.leaf, AT_REMOVEDIR);
			ib_at_done(&a);
			errno = saved;
			return -1;
		}
		ib_at_done(&a);
		return 0;
	}
	ib_at_done(&a);
	if (errno != EEXIST)
		return errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
	return 0;
}

/*
 * A name no other delivery can get: time (sortable), pid, a counter, and
 * the host, as maildir's rules have it. The final link fails rather than
 * clobbering even if this were ever to repeat.
 */
void
ib_unique_name(const struct inbox *ib, char out[NAME_MAX_LEN])
{
	/* sms-recv delivers from threads */
	static _Atomic unsigned counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, NAME_MAX_LEN, "%010lld.%09ld.P%ldQ%u.%s",
	    (long long)ts.tv_sec, ts.tv_nsec, ib->pid,
	    atomic_fetch_add(&counter, 1), ib->host);
}

/*
 * rec as one line of JSON, its newline included (*len bytes, then a NUL):
 * text, if not NULL, is rec already written out. NULL with errno ENOMEM,
 * or EINVAL if the line is over LIMIT_RECORD.
 */
char *
ib_line_of(const json_t *rec, const char *text, size_t *len)
{
	char *s, *grown;

	if (text) {
		*len = strlen(text);
		if ((s = malloc(*len + 2)))
			memcpy(s, text, *len);
	} else if ((s = json_dumps(rec, JSON_COMPACT))) {
		*len = strlen(s);
		if (!(grown = realloc(s, *len + 2)))
			free(s);
		s = grown;
	}
	if (!s)
		return errno = ENOMEM, NULL;
	s[(*len)++] = '\n';
	s[*len] = '\0';
	if (*len > LIMIT_RECORD) {
		/* What a reader would refuse is never written (limit.h). */
		free(s);
		return errno = EINVAL, NULL;
	}
	return s;
}

/* What ib_line_of()'s errno says, for a message. */
const char *
ib_line_error(int err)
{
	return err == EINVAL ? "the record is larger than a reader takes "
	    "(limit.h)" : strerror(err);
}

/*
 * Write rec (a line of JSON; text, if not NULL, is it written out) into a
 * new file in tmp/; fd stays open. st->defer_sync is the caller's.
 */
int
ib_stage(struct inbox *ib, const json_t *rec, const char *text,
    struct staged *st, struct errbuf *e)
{
	size_t len, off = 0;
	char *s = ib_line_of(rec, text, &len);
	ssize_t n;
	int saved;

	st->fd = -1;
	if (!s)
		return errf(e, "%s", ib_line_error(errno));
	strcpy(st->tmp, "tmp/");
	ib_unique_name(ib, st->tmp + 4);
	st->fd = ib_openat_file(ib, ib->sub[IB_TMP], st->tmp + 4, O_WRONLY |
	    O_CREAT | O_EXCL, 0600, NULL);
	if (st->fd < 0)
		goto fail;
	while (off < len) {
		if ((n = write(st->fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	free(s);
	return 0;
fail:
	saved = errno;
	free(s);
	if (st->fd >= 0) {
		close(st->fd);
		unlinkat(ib->sub[IB_TMP], st->tmp + 4, 0);
		st->fd = -1;
	}
	errno = saved;
	return errf(e, "%s/%s: %s", ib->dir, st->tmp, ib_strerror(errno));
}

/* fsync (unless st->defer_sync) and close a staged file. */
int
ib_stage_sync(struct inbox *ib, struct staged *st, struct errbuf *e)
{
	int rc = st->defer_sync ? 0 : fsync(st->fd), saved = errno;

	if (close(st->fd) < 0 && rc == 0)
		rc = -1, saved = errno;
	st->fd = -1;
	if (rc < 0) {
		errno = saved;
		return errf(e, "%s/%s: %s", ib->dir, st->tmp,
		    strerror(errno));
	}
	return 0;
}

/* Give up a staged file (an error happened elsewhere). */
void
ib_stage_drop(struct inbox *ib, struct staged *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->tmp[0])
		unlinkat(ib->sub[IB_TMP], st->tmp + 4, 0);
	st->tmp[0] = '\0';
}

/*
 * Name a synced staged file dir/name: a new name (fails with EEXIST
 * rather than clobber: rename(2) with RENAME_NOREPLACE, or link(2) where
 * the file system has no such rename) or a replacement (rename). The
 * caller fsyncs dir.
 */
int
ib_place(struct inbox *ib, struct staged *st, const char *dir,
    const char *name, int replace, struct errbuf *e)
{
	char dst[PATH_MAX];
	int rc, saved, moved = 1;

	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	rc = ib_rename(ib, st->tmp, dst, !replace, &moved);
	saved = errno;
	if (rc == 0 && moved)
		st->tmp[0] = '\0';
	ib_stage_drop(ib, st);
	if (rc < 0) {
		errno = saved;
		return errf(e, "%s/%s: %s", ib->dir, dst, ib_strerror(errno));
	}
	return 0;
}

/*
 * Store rec durably as dir/name: stage, fsync, place, fsync dir; the
 * fsyncs left to the checkpoint if defer_sync.
 */
int
ib_put_record(struct inbox *ib, const char *dir, const char *name,
    const json_t *rec, int replace, int defer_sync, struct errbuf *e)
{
	struct staged st = { .fd = -1, .defer_sync = defer_sync };

	if (ib_stage(ib, rec, NULL, &st, e) < 0)
		return -1;
	if (ib_stage_sync(ib, &st, e) < 0) {
		ib_stage_drop(ib, &st);
		return -1;
	}
	if (ib_place(ib, &st, dir, name, replace, e) < 0)
		return -1;
	return defer_sync ? 0 : ib_sync_dir(ib, dir, e);
}

/*
 * How many inbox locks the calling thread holds. flock(2) locks belong to
 * open files, not to processes, so a thread that asked again for a lock
 * it holds would wait for itself: ib_quarantine() takes a lock only when the
 * thread holds none.
 */
static _Thread_local int nheld;

static int log_good(struct inbox *, const char *);

/*
 * Whether rel is a log file: a conversation's or a message's, also by
 * way of a link to one in outbox/ or ids/.
 */
static int
is_log(const char *rel)
{
	return strncmp(rel, "conv/", 5) == 0 || strncmp(rel, "msg/", 4) == 0 ||
	    strncmp(rel, "outbox/", 7) == 0 || strncmp(rel, "ids/", 4) == 0;
}

/*
 * The lock that guards the file rel, written into name: the thread's for
 * conv/THREAD and msg/THREAD/..., the key's for status/KEY; 0 if the file
 * has one, -1 if not.
 */
static int
guard_of(const char *rel, char name[NAME_MAX_LEN])
{
	const char *p = NULL, *end;

	if (strncmp(rel, "conv/", 5) == 0)
		p = rel + 5;
	else if (strncmp(rel, "msg/", 4) == 0)
		p = rel + 4;
	else if (strncmp(rel, "status/", 7) == 0)
		p = rel + 7;
	if (!p)
		return -1;
	end = strchr(p, '/');
	if ((size_t)(end ? end - p : (ptrdiff_t)strlen(p)) >= NAME_MAX_LEN)
		return -1;
	snprintf(name, NAME_MAX_LEN, "%.*s", (int)(end ? end - p :
	    (ptrdiff_t)strlen(p)), p);
	return 0;
}

/*
 * Move a file that does not parse (bad: what was read) to quarantine/,
 * and say so; unless rel is no longer the file that was read, because a
 * writer has just replaced it with a good record. Writers replace files
 * only under the lock that guards them, so the check and the move are
 * made under that lock: taken here, unless this thread holds a lock
 * already - that one (a writer reading under it), or another, when taking
 * a second could invert the order in which writers take them; then the
 * check and the move are as close together as they can be.
 */
void
ib_quarantine(struct inbox *ib, const char *rel, const char *why,
    const struct stat *bad)
{
	char dst[PATH_MAX], name[NAME_MAX_LEN], msg[PATH_MAX + 300];
	const char *base = strrchr(rel, '/');
	struct stat now;
	int lk = -1;

	if (nheld == 0 && guard_of(rel, name) == 0)
		lk = ib_lock_thread(ib, name, NULL);
	if (ib_stat(ib, rel, &now) < 0 || now.st_ino != bad->st_ino ||
	    now.st_dev != bad->st_dev || (is_log(rel) && log_good(ib,
	    rel))) {
		ib_unlock(lk);
		return;
	}
	if (ib->quarantining)
		ib->quarantining(ib->report_arg, rel);
	ib_unique_name(ib, name);
	snprintf(dst, sizeof dst, "quarantine/%s_%s", name,
	    base ? base + 1 : rel);
	if (ib_rename(ib, rel, dst, 0, &(int){ 0 }) == 0) {
		ib_sync_dir(ib, "quarantine", NULL);
		snprintf(msg, sizeof msg, "%s/%s: %s; moved to %s", ib->dir,
		    rel, why, dst);
	} else {
		snprintf(msg, sizeof msg, "%s/%s: %s; could not move it "
		    "aside: %s", ib->dir, rel, why, strerror(errno));
	}
	ib_unlock(lk);
	if (ib->report)
		ib->report(ib->report_arg, msg);
}

/*
 * Read all of fd into b; a file past FILE_MAX is cut where the buffer
 * stops growing, which the one-line check then refuses. 0, or -1 with
 * errno set.
 */
int
ib_rbuf_read(struct rbuf *b, int fd)
{
	ssize_t n;
	size_t cap;
	char *nb;

	b->len = 0;
	for (;;) {
		if (b->len == b->cap) {
			if (b->cap >= FILE_MAX + 1)
				return 0;
			cap = b->cap ? b->cap * 2 : 16384;
			if (!(nb = realloc(b->heap, cap)))
				return errno = ENOMEM, -1;
			if (!b->heap && b->len)
				memcpy(nb, b->p, b->len);
			b->p = b->heap = nb;
			b->cap = cap;
		}
		n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		/* A regular file reads short only at its end. */
		if (b->len < b->cap)
			return 0;
	}
}

/* Whether p (len bytes) is one line and its newline; else pe says why. */
static int
one_line(const char *p, size_t len, struct errbuf *pe)
{
	if (len > 0 && p[len - 1] == '\n' && memchr(p, '\n', len) ==
	    p + len - 1)
		return 1;
	snprintf(pe->msg, sizeof pe->msg, len ? "not one record ending in a "
	    "newline" : "empty file");
	return 0;
}

/*
 * The last whole line of p (len bytes) without its newline, in *lp and
 * *ll: a conversation file's record (its earlier lines are history, and
 * bytes after the last newline an append cut short, never acknowledged).
 * 1 if there is one, else 0 and pe says why.
 */
int
ib_last_line(const char *p, size_t len, const char **lp, size_t *ll,
    struct errbuf *pe)
{
	const char *end = len ? memrchr(p, '\n', len) : NULL, *start;

	if (len > FILE_MAX) {
		/* Cut short (ib_rbuf_read()): the end is not the file's. */
		snprintf(pe->msg, sizeof pe->msg, "larger than %d bytes",
		    FILE_MAX);
		return 0;
	}
	if (!end) {
		snprintf(pe->msg, sizeof pe->msg, len ? "no record ending in "
		    "a newline" : "empty file");
		return 0;
	}
	start = end > p ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
	start = start ? start + 1 : p;
	if (start == end) {
		snprintf(pe->msg, sizeof pe->msg, "an empty line");
		return 0;
	}
	*lp = start;
	*ll = (size_t)(end - start);
	return 1;
}

/*
 * Whether the log file rel (a conversation's or a message's) now has a
 * good record: a writer appends in place, so a file found bad may be good
 * by the time its lock is held (ib_quarantine() asks).
 */
static int
log_good(struct inbox *ib, const char *rel)
{
	char stack[8192];
	struct rbuf b = { stack, 0, sizeof stack, NULL };
	struct errbuf pe;
	const char *lp;
	size_t ll;
	json_t *j = NULL;
	int fd = ib_open(ib, rel, O_RDONLY, 0, NULL), good;

	if (fd >= 0 && ib_rbuf_read(&b, fd) == 0 && ib_last_line(b.p, b.len,
	    &lp, &ll, &pe))
		j = record_parse(lp, ll, &pe);
	if (fd >= 0)
		close(fd);
	free(b.heap);
	good = j != NULL;
	json_decref(j);
	return good;
}

/* Whether the file at dir/name is no longer the one st describes. */
int
ib_replaced(int dir, const char *name, const struct stat *st)
{
	struct stat now;

	return fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (now.st_ino != st->st_ino || now.st_dev != st->st_dev);
}

/*
 * Read the record at rel. NULL with errno ENOENT if there is none; a
 * file that is not one record is quarantined (errno EBADMSG). A ledger
 * link (outbox/ID, ids/KEY) is read for the message it names
 * (ib_link_target()), never followed; one that names anything else is
 * reported, EBADMSG.
 */
json_t *
ib_get_record(struct inbox *ib, const char *rel, struct errbuf *e)
{
	char stack[8192], target[PATH_MAX];
	struct rbuf b = { stack, 0, sizeof stack, NULL };
	struct stat st;
	struct errbuf pe;
	struct ib_at a = { -1, -1, NULL };
	int tries = 0, fd = -1, saved;
	int link = strncmp(rel, "outbox/", 7) == 0 ||
	    strncmp(rel, "ids/", 4) == 0;
	const char *path = rel, *lp;
	size_t ll;
	json_t *j;

	if (link && ib_link_target(ib, rel, target, sizeof target) < 0) {
		saved = errno;
		if (errno != ENOENT && ib->report) {
			char say[PATH_MAX + 300];

			snprintf(say, sizeof say, "%s/%s: %s", ib->dir, rel,
			    saved == EBADMSG ? "not a link to a message "
			    "(../msg/THREAD/NAME); not followed" :
			    ib_strerror(saved));
			ib->report(ib->report_arg, say);
		}
		errno = saved;
		errf(e, "%s/%s: %s", ib->dir, rel, saved == EBADMSG ?
		    "not a link to a message" : ib_strerror(saved));
		return NULL;
	}
	if (link)
		path = target;
	if (ib_at(ib, path, &a) < 0)
		goto fail;
again:
	if ((fd = ib_openat_file(ib, a.dfd, a.leaf, O_RDONLY, 0, &st)) < 0 ||
	    ib_rbuf_read(&b, fd) < 0)
		goto fail;
	close(fd);
	fd = -1;
	if (is_log(rel))
		j = ib_last_line(b.p, b.len, &lp, &ll, &pe) ? record_parse(lp,
		    ll, &pe) : NULL;
	else
		j = one_line(b.p, b.len, &pe) ? record_parse(b.p, b.len - 1,
		    &pe) : NULL;
	if (!j && ++tries < 3 && ib_replaced(a.dfd, a.leaf, &st))
		goto again;	/* replaced while we read: not what was bad */
	ib_at_done(&a);
	free(b.heap);
	if (!j) {
		/*
		 * Through a link (outbox/, ids/), the file is a message's:
		 * moving the link aside would hide the message, not it.
		 */
		if (!link) {
			ib_quarantine(ib, rel, pe.msg, &st);
		} else if (ib->report) {
			char say[PATH_MAX + 300];

			snprintf(say, sizeof say, "%s/%s: %s", ib->dir, rel,
			    pe.msg);
			ib->report(ib->report_arg, say);
		}
		errno = EBADMSG;
		errf(e, "%s/%s: %s", ib->dir, rel, pe.msg);
	}
	return j;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	ib_at_done(&a);
	free(b.heap);
	errno = saved;
	errf(e, "%s/%s: %s", ib->dir, path, ib_strerror(errno));
	return NULL;
}

/*
 * The bucket of a ledger key: the low byte of its FNV-1a hash. Its lock
 * is lock/key-XX, its index file ids/XX (inbox-ledger.c).
 */
unsigned
ib_key_bucket(const char *key)
{
	uint32_t h = 2166136261u;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h & 255;
}

/*
 * The thread and name of a message's path in the inbox, "msg/THREAD/NAME"
 * (a valid thread, a plain name not starting with a dot, each fitting its
 * buffer). 0, or -1 with errno EBADMSG.
 */
int
ib_msg_path(const char *path, char thread[32], char name[NAME_MAX_LEN])
{
	const char *t, *slash;
	size_t tl, nl;

	if (strncmp(path, "msg/", 4) != 0 || !(slash = strchr(t = path + 4,
	    '/')) || (tl = (size_t)(slash - t)) >= 32 ||
	    (nl = strlen(slash + 1)) >= NAME_MAX_LEN)
		return errno = EBADMSG, -1;
	memcpy(thread, t, tl);
	thread[tl] = '\0';
	if (!thread_valid(thread) || !plain_name(slash + 1, nl) ||
	    slash[1] == '.')
		return errno = EBADMSG, -1;
	memcpy(name, slash + 1, nl + 1);
	return 0;
}

/*
 * The locks this thread holds, each file's once, however many times it
 * was taken: a writer that keeps a thread locked across its deliveries
 * (inbox_lock()) takes it again in each.
 */
struct held {
	struct held *next;
	int fd, n;
	char file[];
};
static _Thread_local struct held *held;

/*
 * Take lock/FILE (made the first time) with flock(2), exclusive: a
 * thread's or a key's (ib_lock_thread()), or one of a whole ledger's
 * (outbox, roster); again at once if this thread holds it. With nowait,
 * one held elsewhere is -1 with errno EWOULDBLOCK. Returns the fd to give
 * to ib_unlock(), or -1 with e filled.
 */
static int
lock_file(struct inbox *ib, const char *file, int nowait, struct errbuf *e)
{
	size_t len = strlen(file);
	struct held *h;
	int fd;

	for (h = held; h; h = h->next)
		if (strcmp(h->file, file) == 0) {
			h->n++;
			nheld++;
			return h->fd;
		}
	if (!(h = malloc(sizeof *h + len + 1)))
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	if ((fd = ib_openat_file(ib, ib->sub[IB_LOCK], file, O_RDWR |
	    O_CREAT, 0600, NULL)) < 0) {
		free(h);
		return errf(e, "%s/lock/%s: %s", ib->dir, file,
		    ib_strerror(errno));
	}
	while (flock(fd, LOCK_EX | (nowait ? LOCK_NB : 0)) < 0)
		if (errno != EINTR) {
			int saved = errno == EAGAIN ? EWOULDBLOCK : errno;

			close(fd);
			free(h);
			errno = saved;
			return errf(e, "%s/lock/%s: %s%s", ib->dir, file,
			    saved == EWOULDBLOCK ? "" : "flock: ",
			    saved == EWOULDBLOCK ? "held by another writer" :
			    strerror(saved));
		}
	h->fd = fd;
	h->n = 1;
	memcpy(h->file, file, len + 1);
	h->next = held;
	held = h;
	nheld++;
	return fd;
}

/*
 * Take the lock named name (a thread, or a ledger key for the delivery
 * reports parked under it; a thread is always taken first). Returns the
 * fd to give to ib_unlock(), or -1.
 */
int
ib_lock_thread(struct inbox *ib, const char *name, struct errbuf *e)
{
	char rel[NAME_MAX_LEN + 8];

	/*
	 * A thread, a number's or a sender's ("@VERIFY"), has a file of its
	 * own: were it one of the keys' files, a thread whose name hashed as
	 * the key of its message would wait for its own lock.
	 */
	if (name[0] == '+' || name[0] == '@') {
		snprintf(rel, sizeof rel, "lock/%s", name);
	} else {
		/*
		 * A ledger key is new with every message: its lock is one
		 * of 256 files, not a file of its own (ib_key_bucket()).
		 */
		snprintf(rel, sizeof rel, "lock/key-%02x",
		    ib_key_bucket(name));
	}
	return ib_lock_file(ib, rel + 5, e);
}

int
ib_lock_file(struct inbox *ib, const char *file, struct errbuf *e)
{
	return lock_file(ib, file, 0, e);
}

/* Give up a lock ib_lock_thread() or ib_lock_file() took (-1: none). */
void
ib_unlock(int fd)
{
	struct held **p, *h;

	if (fd < 0)
		return;
	nheld--;
	for (p = &held; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			if (--(*p)->n > 0)
				return;
			h = *p;
			*p = h->next;
			free(h);
			break;
		}
	close(fd);
}

int
inbox_lock(struct inbox *ib, const char *thread, int nowait,
    struct errbuf *e)
{
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "%s: not a thread", thread);
	return lock_file(ib, thread, nowait, e);
}

void
inbox_unlock(int lk)
{
	ib_unlock(lk);
}
