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
 * Relies on ib_deferring (inbox-impl.h), which a journaled delivery sets to
 * leave its syncs to the journal's checkpoint, and on record.h to parse.
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

_Thread_local int ib_deferring;	/* see inbox-impl.h */

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
	    faccessat(ib->fd, STUCK_FLAG, F_OK, 0) == 0;
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
	int fd;

	if (ib_deferring)
		return 0;
	fd = openat(ib->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
	if (fsync(fd) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return errf(e, "%s/%s: fsync: %s", ib->dir, rel,
		    strerror(errno));
	}
	if (strncmp(rel, "msg/", 4) == 0 && ib_young(ib, fd)) {
		close(fd);
		return ib_sync_dir(ib, "msg", e);
	}
	close(fd);
	return 0;
}

/*
 * Make the directory rel (in parent, relative to the inbox) if it is not
 * there, durably: a new name is synced in its parent. If that sync fails,
 * the new directory is removed again, so that the next attempt makes and
 * syncs it rather than trust a name that may not survive a crash.
 */
int
ib_make_dir(struct inbox *ib, const char *rel, const char *parent,
    struct errbuf *e)
{
	if (mkdirat(ib->fd, rel, 0700) == 0) {
		if (ib_sync_dir(ib, parent, e) < 0) {
			int saved = errno;

			unlinkat(ib->fd, rel, AT_REMOVEDIR);
			errno = saved;
			return -1;
		}
		return 0;
	}
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
 * new file in tmp/; fd stays open.
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
	st->fd = openat(ib->fd, st->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600);
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
		unlinkat(ib->fd, st->tmp, 0);
		st->fd = -1;
	}
	errno = saved;
	return errf(e, "%s/%s: %s", ib->dir, st->tmp, strerror(errno));
}

/* fsync and close a staged file. */
int
ib_stage_sync(struct inbox *ib, struct staged *st, struct errbuf *e)
{
	int rc = ib_deferring ? 0 : fsync(st->fd), saved = errno;

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
		unlinkat(ib->fd, st->tmp, 0);
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
	if (replace) {
		rc = renameat(ib->fd, st->tmp, ib->fd, dst);
	} else if ((rc = renameat2(ib->fd, st->tmp, ib->fd, dst,
	    RENAME_NOREPLACE)) < 0 && (errno == EINVAL || errno == ENOSYS)) {
		rc = linkat(ib->fd, st->tmp, ib->fd, dst, 0);
		moved = 0;
	}
	saved = errno;
	if (rc == 0 && moved)
		st->tmp[0] = '\0';
	ib_stage_drop(ib, st);
	if (rc < 0) {
		errno = saved;
		return errf(e, "%s/%s: %s", ib->dir, dst, strerror(errno));
	}
	return 0;
}

/* Store rec durably as dir/name: stage, fsync, place, fsync dir. */
int
ib_put_record(struct inbox *ib, const char *dir, const char *name,
    const json_t *rec, int replace, struct errbuf *e)
{
	struct staged st;

	if (ib_stage(ib, rec, NULL, &st, e) < 0)
		return -1;
	if (ib_stage_sync(ib, &st, e) < 0) {
		ib_stage_drop(ib, &st);
		return -1;
	}
	if (ib_place(ib, &st, dir, name, replace, e) < 0)
		return -1;
	return ib_sync_dir(ib, dir, e);
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
	if (fstatat(ib->fd, rel, &now, 0) < 0 || now.st_ino != bad->st_ino ||
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
	if (renameat(ib->fd, rel, ib->fd, dst) == 0) {
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
	int fd = openat(ib->fd, rel, O_RDONLY | O_CLOEXEC), good;

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

	return fstatat(dir, name, &now, 0) == 0 &&
	    (now.st_ino != st->st_ino || now.st_dev != st->st_dev);
}

/*
 * Read the record at rel. NULL with errno ENOENT if there is none; a
 * file that is not one record is quarantined (errno EBADMSG).
 */
json_t *
ib_get_record(struct inbox *ib, const char *rel, struct errbuf *e)
{
	char stack[8192];
	struct rbuf b = { stack, 0, sizeof stack, NULL };
	struct stat st;
	struct errbuf pe;
	int tries = 0, fd, saved;
	const char *lp;
	size_t ll;
	json_t *j;

again:
	if ((fd = openat(ib->fd, rel, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0 || ib_rbuf_read(&b, fd) < 0) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		free(b.heap);
		errno = saved;
		errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
		return NULL;
	}
	close(fd);
	if (is_log(rel))
		j = ib_last_line(b.p, b.len, &lp, &ll, &pe) ? record_parse(lp,
		    ll, &pe) : NULL;
	else
		j = one_line(b.p, b.len, &pe) ? record_parse(b.p, b.len - 1,
		    &pe) : NULL;
	if (!j && ++tries < 3 && ib_replaced(ib->fd, rel, &st))
		goto again;	/* replaced while we read: not what was bad */
	free(b.heap);
	if (!j) {
		/*
		 * Through a link (outbox/, ids/), the file is a message's:
		 * moving the link aside would hide the message, not it.
		 */
		if (strncmp(rel, "outbox/", 7) != 0 &&
		    strncmp(rel, "ids/", 4) != 0) {
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
	uint32_t h = 2166136261u;
	int fd;

	if (name[0] == '+') {
		snprintf(rel, sizeof rel, "lock/%s", name);
	} else {
		/*
		 * A ledger key is new with every message: its lock is one
		 * of 256 files, not a file of its own (FNV-1a of the key).
		 */
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(rel, sizeof rel, "lock/key-%02x", (unsigned)(h & 255));
	}
	fd = openat(ib->fd, rel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int saved = errno;

			close(fd);
			errno = saved;
			return errf(e, "%s/%s: flock: %s", ib->dir, rel,
			    strerror(errno));
		}
	nheld++;
	return fd;
}

/* Give up a lock ib_lock_thread() took (fd -1: none). */
void
ib_unlock(int fd)
{
	if (fd < 0)
		return;
	nheld--;
	close(fd);
}
