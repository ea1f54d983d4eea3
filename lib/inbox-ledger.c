/*
 * inbox-ledger.c: the inbox's ledgers (smsdesk-inbox(5), Ledgers): the
 * index of provider ids and client keys, ids/, and the outbox, outbox/,
 * as append-only files instead of one symbolic link per entry.
 *
 * Why files and not links: on ext4 without a journal, creating an inode
 * costs most of a send's kernel time, and every inode freed (an outbox/
 * link removed when its message settles) makes later creations scan past
 * it (tests/bench/fsync-patterns.c). A link per entry made three inodes a
 * message to send (outbox/ID, ids/key-KEY, ids/PROVIDER-ID) and freed one.
 * Appending a line to a file that is there already creates nothing: a
 * send now makes its message file alone, once the ledger files exist
 * (256 index files at most, and one outbox log).
 *
 * ids/XX (XX two hex digits: FNV-1a of the key, low byte, as the lock
 * lock/key-XX that guards it) holds lines "KEY THREAD/NAME", KEY as
 * ib_id_key() makes it ("twilio-SM...", "key-..."), or "KEY -" for an
 * entry taken back. The last line for a key is its entry. Lines are
 * appended under the key's lock, after a look at the bucket, so an entry
 * is made once and a kept one is never overwritten; a lookup reads one
 * bucket, 1/256 of the ledger, without a lock (a line still being written
 * has no newline yet and is not taken).
 *
 * outbox/.log holds lines "+ THREAD/NAME" (a message to settle) and
 * "- THREAD/NAME" (settled, or never stored): a message is in the outbox
 * while the last line that names it is "+". Its name starts with a dot,
 * which no message id may (inbox_deliver()), so it meets no link of an
 * older inbox. Lines are appended under lock/outbox; each time the file
 * grows past another OUTBOX_COMPACT bytes it is rewritten with its "+"
 * entries alone (tmp/, fsync, rename, fsync), under the same lock.
 *
 * A line is written whole with one write(2) in O_APPEND mode; a writer
 * that finds the file not ending in a newline (an append that a crash cut
 * short: never acknowledged) cuts that tail off first. What does not read
 * as a line of the ledger is skipped; a ledger file that is not a regular
 * file (planted: none is made so) is moved to quarantine/ and reported,
 * one that others may write is refused, as every file of the inbox.
 *
 * Ids and outbox entries of an older inbox, the links ids/KEY and
 * outbox/ID, are still read: a key not in the index is looked up as a
 * link (never followed: ib_link_target()), and inbox_outbox() lists the
 * links beside the log. They are never made, and go as they always went
 * (an outbox link when its message settles).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "record.h"

#define OUTBOX_LOG "outbox/.log"
#define OUTBOX_COMPACT (64 * 1024)

/* A ledger line: key or sign, a space, THREAD/NAME, the newline. */
#define LINE_MAX_LEN (2 * NAME_MAX_LEN + 40)

/* The bucket file of key, "ids/XX", in rel. */
static void
bucket_of(const char *key, char rel[16])
{
	snprintf(rel, 16, "ids/%02x", ib_key_bucket(key));
}

/*
 * Read all of fd into *p (malloc'd, *len bytes). 0, or -1 with errno.
 */
static int
read_all(int fd, char **p, size_t *len)
{
	size_t cap = 8192;
	char *b = malloc(cap), *nb;
	ssize_t n;

	*p = NULL;
	*len = 0;
	if (!b)
		return errno = ENOMEM, -1;
	for (;;) {
		if (*len == cap) {
			if (!(nb = realloc(b, cap *= 2))) {
				free(b);
				return errno = ENOMEM, -1;
			}
			b = nb;
		}
		n = read(fd, b + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b);
			return -1;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	*p = b;
	return 0;
}

/*
 * Whether s (n bytes) names a message as a ledger line does,
 * "THREAD/NAME": 1 with thread and name filled, else 0.
 */
static int
target_parse(const char *s, size_t n, char thread[32],
    char name[NAME_MAX_LEN])
{
	char to[PATH_MAX];

	if (n + 8 >= sizeof to || memchr(s, '\0', n))
		return 0;
	memcpy(to, "msg/", 4);
	memcpy(to + 4, s, n);
	to[n + 4] = '\0';
	return ib_msg_path(to, thread, name) == 0;
}

/*
 * Open the ledger file rel (ids/XX, outbox/.log) for reading, or, with
 * write, for appending, made if missing (*made then set). One that is
 * not a regular file was planted: with write, it is moved to quarantine/
 * (reported) and a new one made; without, it is reported and taken as
 * empty (ENOENT). One others may write is refused (IB_EUNTRUSTED). The
 * descriptor, or -1 with errno.
 */
static int
open_ledger(struct inbox *ib, const char *rel, int write, int *made)
{
	struct stat st;
	char say[PATH_MAX + 100];
	int fd, tries;

	if (made)
		*made = 0;
	for (tries = 0; tries < 3; tries++) {
		fd = ib_open(ib, rel, write ? O_RDWR | O_APPEND : O_RDONLY, 0,
		    NULL);
		if (fd >= 0)
			return fd;
		if (errno == ENOENT && write) {
			fd = ib_open(ib, rel, O_RDWR | O_APPEND | O_CREAT |
			    O_EXCL, 0600, NULL);
			if (fd >= 0 && made)
				*made = 1;
			if (fd >= 0 || errno != EEXIST)
				return fd;
			continue;
		}
		if (errno != ELOOP && errno != IB_ENOTREG)
			return -1;
		if (!write) {
			if (ib->report) {
				snprintf(say, sizeof say, "%s/%s: %s; not "
				    "read", ib->dir, rel, ib_strerror(errno));
				ib->report(ib->report_arg, say);
			}
			return errno = ENOENT, -1;
		}
		if (ib_stat(ib, rel, &st) == 0)
			ib_quarantine(ib, rel, S_ISLNK(st.st_mode) ?
			    "a symbolic link, not a ledger file" :
			    "not a regular file, not a ledger file", &st);
	}
	return errno = EBADMSG, -1;
}

/*
 * Cut a tail that is not a whole line off fd (an append a crash cut
 * short), under the lock that guards the file. 0, or -1 with errno.
 */
static int
cut_torn(int fd)
{
	char buf[LINE_MAX_LEN * 2];
	struct stat st;
	off_t end, from;
	ssize_t n;
	char *nl;

	if (fstat(fd, &st) < 0)
		return -1;
	if ((end = st.st_size) == 0)
		return 0;
	if (pread(fd, buf, 1, end - 1) != 1)
		return -1;
	if (buf[0] == '\n')
		return 0;
	for (;;) {
		from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
		if ((n = pread(fd, buf, (size_t)(end - from), from)) < 0)
			return -1;
		if ((nl = memrchr(buf, '\n', (size_t)n)))
			return ftruncate(fd, from + (nl - buf) + 1);
		if (from == 0)
			return ftruncate(fd, 0);
		end = from;
	}
}

/*
 * Append line (len bytes, with its newline) to fd, whole or not at all:
 * a short write is cut back off. *at, if not NULL, gets where it went.
 * 0, or -1 with errno.
 */
static int
append_line(int fd, const char *line, size_t len, off_t *at)
{
	struct stat st;
	ssize_t n;
	int saved;

	if (cut_torn(fd) < 0 || fstat(fd, &st) < 0)
		return -1;
	if (at)
		*at = st.st_size;
	while ((n = write(fd, line, len)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)len)
		return 0;
	saved = n < 0 ? errno : ENOSPC;
	/* Failing, the next writer cuts it (cut_torn()). */
	(void)!ftruncate(fd, st.st_size);
	return errno = saved, -1;
}

/*
 * Take back a line appended at `at` to the ledger file rel, that ends at
 * end, once its close failed (under the lock that guards the file, so
 * that it is still the file's last): cut off, which needs no space on a
 * full disk, where a line saying it is taken back could not be written.
 * errno is kept.
 */
static void
take_back(struct inbox *ib, const char *rel, off_t at, off_t end)
{
	struct stat st;
	int saved = errno, fd = ib_open(ib, rel, O_WRONLY, 0, &st);

	if (fd >= 0 && st.st_size == end)
		(void)!ftruncate(fd, at);
	if (fd >= 0)
		close(fd);
	errno = saved;
}

/*
 * The last entry for key in a bucket's text (p, len): 1 with *t, *tl its
 * target ("-" for one taken back), or 0. A last line without its newline
 * (being written, or cut short) is not taken.
 */
static int
scan_bucket(const char *p, size_t len, const char *key, const char **t,
    size_t *tl)
{
	size_t kl = strlen(key);
	const char *end = p + len, *nl;
	int found = 0;

	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;
		if ((size_t)(nl - p) > kl + 1 && p[kl] == ' ' &&
		    memcmp(p, key, kl) == 0) {
			*t = p + kl + 1;
			*tl = (size_t)(nl - *t);
			found = 1;
		}
	}
	return found;
}

/*
 * The entry for key in its bucket: 1 (thread and name filled), 0 if the
 * bucket has none, 2 if it was taken back, -1 with errno. A target that
 * does not name a message is none (EBADMSG).
 */
static int
bucket_find(struct inbox *ib, const char *key, char thread[32],
    char name[NAME_MAX_LEN])
{
	char rel[16], *p;
	const char *t;
	size_t len, tl;
	int fd, rc = 0, saved;

	bucket_of(key, rel);
	if ((fd = open_ledger(ib, rel, 0, NULL)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (read_all(fd, &p, &len) < 0) {
		saved = errno;
		close(fd);
		return errno = saved, -1;
	}
	close(fd);
	if (scan_bucket(p, len, key, &t, &tl))
		rc = tl == 1 && *t == '-' ? 2 : target_parse(t, tl, thread,
		    name) ? 1 : (errno = EBADMSG, -1);
	free(p);
	return rc;
}

int
ib_ledger_find(struct inbox *ib, const char *key, char thread[32],
    char name[NAME_MAX_LEN])
{
	char rel[NAME_MAX_LEN + 8], to[PATH_MAX];
	int rc = bucket_find(ib, key, thread, name);

	if (rc == 1)
		return 0;
	if (rc == 2)
		return errno = ENOENT, -1;
	if (rc < 0)
		return -1;
	/* An older inbox's link, ids/KEY. */
	snprintf(rel, sizeof rel, "ids/%s", key);
	if (ib_link_target(ib, rel, to, sizeof to) < 0)
		return -1;
	return ib_msg_path(to, thread, name);
}

/*
 * An older inbox's link ids/KEY, if one is there that says where a
 * message is: 1 (thread and name filled), 0 if none. One that says
 * anything else (planted: a file, a FIFO, a link elsewhere) is moved to
 * quarantine/ and reported, as when links were made.
 */
static int
legacy_entry(struct inbox *ib, const char *key, char thread[32],
    char name[NAME_MAX_LEN])
{
	char rel[NAME_MAX_LEN + 8], to[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof rel, "ids/%s", key);
	if (ib_link_target(ib, rel, to, sizeof to) == 0)
		return ib_msg_path(to, thread, name) == 0;
	if (errno == EBADMSG && ib_stat(ib, rel, &st) == 0)
		ib_quarantine(ib, rel, "not a link to a message", &st);
	return 0;
}

/*
 * Whether the message thread/name is gone: an entry that names one was
 * left by a delivery that failed and could not take it back (a full
 * disk), and is replaced.
 */
static int
gone(struct inbox *ib, const char *thread, const char *name)
{
	char rel[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	return ib_stat(ib, rel, &st) < 0 && errno == ENOENT;
}

/*
 * One there that names another message is kept unless replace, or unless
 * that message is gone (gone()).
 */
int
ib_ledger_add(struct inbox *ib, const char *key, const char *thread,
    const char *name, int replace, int defer_sync, struct errbuf *e)
{
	char rel[16], line[LINE_MAX_LEN], t0[32], n0[NAME_MAX_LEN], *p;
	const char *t;
	size_t len, tl;
	int lk, fd, made, rc = -1, have = 0, same = 0, n;
	off_t at;

	n = snprintf(line, sizeof line, "%s %s/%s\n", key, thread, name);
	if (n < 0 || (size_t)n >= sizeof line)
		return errno = EINVAL, errf(e, "%s: ledger entry too long",
		    key);
	bucket_of(key, rel);
	if ((lk = ib_lock_thread(ib, key, e)) < 0)
		return -1;
	if ((fd = open_ledger(ib, rel, 1, &made)) < 0) {
		errf(e, "%s/%s: %s", ib->dir, rel, errno == EBADMSG ?
		    "not a ledger file, and could not be moved aside" :
		    ib_strerror(errno));
		goto out;
	}
	if (read_all(fd, &p, &len) < 0) {
		errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
		goto out;
	}
	if (!scan_bucket(p, len, key, &t, &tl))
		have = legacy_entry(ib, key, t0, n0);
	else if (!(tl == 1 && *t == '-'))
		have = target_parse(t, tl, t0, n0);
	free(p);
	same = have && strcmp(t0, thread) == 0 && strcmp(n0, name) == 0;
	if (same || (have && !replace && !gone(ib, t0, n0))) {
		rc = 0;
		goto out;
	}
	if (append_line(fd, line, (size_t)n, &at) < 0) {
		errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
		goto out;
	}
	if (!defer_sync && fdatasync(fd) < 0) {
		errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
		(void)!ftruncate(fd, at);
		goto out;
	}
	/*
	 * A close that fails after a write may have lost it (NFS): an
	 * error, and the line is taken back, for the delivery is.
	 */
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		take_back(ib, rel, at, at + n);
		rc = errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
	} else
		rc = made && !defer_sync && ib_sync_dir(ib, "ids", e) < 0 ?
		    -1 : 1;
out:
	if (fd >= 0)
		close(fd);
	ib_unlock(lk);
	return rc;
}

void
ib_ledger_drop(struct inbox *ib, const char *key, const char *thread,
    const char *name)
{
	char rel[NAME_MAX_LEN + 8], t[32], n[NAME_MAX_LEN], line[LINE_MAX_LEN];
	int lk, fd, len;

	if ((lk = ib_lock_thread(ib, key, NULL)) < 0)
		return;
	if (bucket_find(ib, key, t, n) == 1 && strcmp(t, thread) == 0 &&
	    strcmp(n, name) == 0) {
		bucket_of(key, rel);
		len = snprintf(line, sizeof line, "%s -\n", key);
		if ((fd = open_ledger(ib, rel, 1, NULL)) >= 0) {
			append_line(fd, line, (size_t)len, NULL);
			close(fd);
		}
	}
	/* An older inbox's link to it. */
	snprintf(rel, sizeof rel, "ids/%s", key);
	if (ib_link_target(ib, rel, line, sizeof line) == 0 &&
	    ib_msg_path(line, t, n) == 0 && strcmp(t, thread) == 0 &&
	    strcmp(n, name) == 0)
		ib_unlink(ib, rel, 0);
	ib_unlock(lk);
}

/* lock/outbox, taken: its descriptor, or -1 with e filled. */
static int
lock_outbox(struct inbox *ib, struct errbuf *e)
{
	return ib_lock_file(ib, "outbox", e);
}

/*
 * The messages the outbox log's text (p, len) has in it, as a JSON
 * object of "THREAD/NAME": true, in the order first named (jansson keeps
 * an object's order of insertion). *lines counts the lines read.
 */
static json_t *
outbox_live(const char *p, size_t len, size_t *lines)
{
	json_t *live = json_object();
	const char *end = p + len, *nl;
	char key[LINE_MAX_LEN], t[32], n[NAME_MAX_LEN];
	size_t kl;

	*lines = 0;
	for (; live && p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;
		(*lines)++;
		kl = (size_t)(nl - p);
		if (kl < 3 || (p[0] != '+' && p[0] != '-') || p[1] != ' ' ||
		    !target_parse(p + 2, kl - 2, t, n))
			continue;
		snprintf(key, sizeof key, "%s/%s", t, n);
		if (p[0] == '+')
			json_object_set_new(live, key, json_true());
		else
			json_object_del(live, key);
	}
	return live;
}

/*
 * Rewrite the outbox log (fd, open; the caller holds lock/outbox) with
 * its "+" entries alone, durably: tmp/, fsync, rename, fsync outbox/.
 * Not worth it while they are most of it. 0, or -1 with e filled.
 */
static int
outbox_compact(struct inbox *ib, int fd, struct errbuf *e)
{
	char name[NAME_MAX_LEN], tmp[NAME_MAX_LEN + 8], *p, *out = NULL;
	const char *k;
	json_t *live, *v;
	size_t len, lines, at = 0;
	int tfd = -1, rc = -1, moved;

	if (lseek(fd, 0, SEEK_SET) < 0 || read_all(fd, &p, &len) < 0)
		return errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG,
		    strerror(errno));
	live = outbox_live(p, len, &lines);
	free(p);
	if (!live)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	if (json_object_size(live) * 2 > lines) {
		json_decref(live);
		return 0;
	}
	if (!(out = malloc(json_object_size(live) * LINE_MAX_LEN + 1))) {
		json_decref(live);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	json_object_foreach(live, k, v)
		at += (size_t)sprintf(out + at, "+ %s\n", k);
	json_decref(live);
	ib_unique_name(ib, name);
	snprintf(tmp, sizeof tmp, "tmp/%s", name);
	if ((tfd = ib_open(ib, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600,
	    NULL)) < 0 || (at && write(tfd, out, at) != (ssize_t)at) ||
	    fsync(tfd) < 0 || ib_rename(ib, tmp, OUTBOX_LOG, 0, &moved) < 0) {
		errf(e, "%s/%s: compacting: %s", ib->dir, OUTBOX_LOG,
		    strerror(errno ? errno : ENOSPC));
		if (tfd >= 0)
			ib_unlink(ib, tmp, 0);
		goto out;
	}
	rc = ib_sync_dir(ib, "outbox", e);
out:
	if (tfd >= 0)
		close(tfd);
	free(out);
	return rc;
}

/*
 * Append "SIGN THREAD/NAME" for each of n messages (thread[i]/name[i]) to
 * the outbox log under lock/outbox, in one write, synced unless lazy; the
 * log compacted when it grows past another OUTBOX_COMPACT bytes. 0, or
 * -1 with e filled (none of them was appended).
 */
static int
outbox_append(struct inbox *ib, int sign, const char *const *thread,
    const char *const *name, size_t nmsg, int lazy, struct errbuf *e)
{
	char one[LINE_MAX_LEN], *line = one;
	struct stat st;
	int lk = -1, fd = -1, made, rc = -1, compacted = 0;
	size_t i, n = 0;
	off_t at;

	if (nmsg > 1 && !(line = malloc(nmsg * LINE_MAX_LEN)))
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	for (i = 0; i < nmsg; i++) {
		int k = snprintf(line + n, LINE_MAX_LEN, "%c %s/%s\n", sign,
		    thread[i], name[i]);

		if (k < 0 || k >= LINE_MAX_LEN) {
			if (line != one)
				free(line);
			return errno = EINVAL, errf(e, "%s/%s: outbox entry "
			    "too long", thread[i], name[i]);
		}
		n += (size_t)k;
	}
	if ((lk = lock_outbox(ib, e)) < 0)
		goto out;
	if ((fd = open_ledger(ib, OUTBOX_LOG, 1, &made)) < 0) {
		errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG, errno == EBADMSG ?
		    "not a ledger file, and could not be moved aside" :
		    ib_strerror(errno));
		goto out;
	}
	if (append_line(fd, line, n, &at) < 0 || fstat(fd, &st) < 0) {
		errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG, strerror(errno));
		goto out;
	}
	rc = 0;
	if (st.st_size / OUTBOX_COMPACT != (st.st_size - (off_t)n) /
	    OUTBOX_COMPACT) {
		struct errbuf ce;

		/* A log not compacted is as good: only longer. */
		if (outbox_compact(ib, fd, &ce) < 0 && ib->report)
			ib->report(ib->report_arg, ce.msg);
		compacted = 1;
	}
	ib_unlock(lk);
	lk = -1;
	if (!lazy && fdatasync(fd) < 0)
		rc = errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG,
		    strerror(errno));
	/*
	 * A close that fails after a write may have lost it (NFS): an
	 * error, and the line is taken back (unless the log was written
	 * anew meanwhile), for the delivery is.
	 */
	if (close(fd) < 0 && rc == 0) {
		rc = errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG,
		    strerror(errno));
		if (!compacted && (lk = lock_outbox(ib, NULL)) >= 0) {
			take_back(ib, OUTBOX_LOG, at, at + (off_t)n);
			ib_unlock(lk);
			lk = -1;
		}
	}
	fd = -1;
	if (rc == 0 && !lazy && made && ib_sync_dir(ib, "outbox", e) < 0)
		rc = -1;
out:
	if (fd >= 0)
		close(fd);
	if (lk >= 0)
		ib_unlock(lk);
	if (line != one)
		free(line);
	return rc;
}

int
ib_outbox_add(struct inbox *ib, const char *thread, const char *name,
    int defer_sync, struct errbuf *e)
{
	return outbox_append(ib, '+', &thread, &name, 1, defer_sync, e);
}

int
ib_outbox_add_many(struct inbox *ib, const char *const *thread,
    const char *const *name, size_t n, int defer_sync, struct errbuf *e)
{
	return outbox_append(ib, '+', thread, name, n, defer_sync, e);
}

void
ib_outbox_drop(struct inbox *ib, const char *thread, const char *name)
{
	char rel[NAME_MAX_LEN + 8];
	struct errbuf e;

	if (outbox_append(ib, '-', &thread, &name, 1, 1, &e) < 0 &&
	    ib->report)
		ib->report(ib->report_arg, e.msg);
	/* An older inbox's link. */
	snprintf(rel, sizeof rel, "outbox/%s", name);
	ib_unlink(ib, rel, 0);
}

/*
 * Take thread/name out of the outbox if its message is still missing
 * under its thread's lock: a delivery enters its message in the outbox
 * before it stores it, under that lock, so an entry for a message
 * missing while the lock is had is one whose delivery died (never sent);
 * and the drop is made under the lock too, lest it land after the entry
 * of a delivery of the same name begun meanwhile.
 */
static void
drop_missing(struct inbox *ib, const char *thread, const char *name)
{
	int lk;

	if ((lk = ib_lock_thread(ib, thread, NULL)) < 0)
		return;
	if (gone(ib, thread, name))
		ib_outbox_drop(ib, thread, name);
	ib_unlock(lk);
}

/*
 * One outbox entry, the message msg/THREAD/NAME: appended to out if it
 * is pending and not there yet (seen), else taken out of the outbox. 0,
 * or -1 on ENOMEM.
 */
static int
outbox_one(struct inbox *ib, const char *thread, const char *name,
    const char *legacy, json_t *out, json_t *seen)
{
	char rel[PATH_MAX];
	json_t *m;

	snprintf(rel, sizeof rel, "%s/%s", thread, name);
	if (json_object_get(seen, rel))
		return 0;
	if (json_object_set_new(seen, rel, json_true()) < 0)
		return errno = ENOMEM, -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	m = ib_get_record(ib, legacy ? legacy : rel, NULL);
	if (m && ib_outbound_pending(m))
		return json_array_append_new(out, m) < 0 ? (errno = ENOMEM,
		    -1) : 0;
	/*
	 * Still scheduled: a claim under way (its entry comes before the
	 * message's change: inbox_schedule_change()), or one cut short by
	 * a crash. Not to settle, and its entry kept for the claim.
	 */
	if (m && inbox_is_scheduled(m)) {
		json_decref(m);
		return 0;
	}
	/*
	 * Settled by a run that died before it could say so, or never
	 * stored: a crash before the message was, so it was never sent.
	 * Either way, done. A message that does not read (quarantined)
	 * keeps its entry.
	 */
	if (m)
		ib_outbox_drop(ib, thread, name);
	else if (errno == ENOENT)
		drop_missing(ib, thread, name);
	json_decref(m);
	return 0;
}

json_t *
inbox_outbox(struct inbox *ib, struct errbuf *e)
{
	char rel[PATH_MAX], to[PATH_MAX], t[32], n[NAME_MAX_LEN], *p = NULL;
	char **names = NULL;
	const char *k, *slash;
	json_t *out = json_array(), *seen = json_object(), *live = NULL, *v;
	size_t len = 0, lines, nn = 0, i;
	int fd;

	if (!out || !seen)
		goto nomem;
	if ((fd = open_ledger(ib, OUTBOX_LOG, 0, NULL)) >= 0) {
		int bad = read_all(fd, &p, &len);

		close(fd);
		if (bad < 0) {
			errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG,
			    strerror(errno));
			goto fail;
		}
	} else if (errno != ENOENT) {
		errf(e, "%s/%s: %s", ib->dir, OUTBOX_LOG, ib_strerror(errno));
		goto fail;
	}
	if (!(live = outbox_live(p ? p : "", len, &lines)))
		goto nomem;
	free(p);
	p = NULL;
	json_object_foreach(live, k, v) {
		slash = strchr(k, '/');
		snprintf(t, sizeof t, "%.*s", (int)(slash - k), k);
		snprintf(n, sizeof n, "%s", slash + 1);
		if (outbox_one(ib, t, n, NULL, out, seen) < 0)
			goto nomem;
	}
	/* An older inbox's links, outbox/ID. */
	if (!(names = ib_list_names(ib, "outbox", &nn, e)))
		goto fail;
	for (i = 0; i < nn; i++) {
		snprintf(rel, sizeof rel, "outbox/%s", names[i]);
		if (ib_link_target(ib, rel, to, sizeof to) < 0 ||
		    ib_msg_path(to, t, n) < 0) {
			/* Reported (not a link to a message), or gone. */
			json_decref(ib_get_record(ib, rel, NULL));
			continue;
		}
		if (outbox_one(ib, t, n, rel, out, seen) < 0)
			goto nomem;
	}
	ib_free_names(names, nn);
	json_decref(live);
	json_decref(seen);
	return out;
nomem:
	errno = ENOMEM;
	errf(e, "%s", strerror(ENOMEM));
fail:
	free(p);
	if (names)
		ib_free_names(names, nn);
	json_decref(live);
	json_decref(seen);
	json_decref(out);
	return NULL;
}
