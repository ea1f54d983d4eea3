/*
 * inbox-log.c: log files, conv/THREAD and msg/THREAD/ID, whose record is
 * the last whole line. A change appends a line under the thread's lock
 * and fdatasyncs it, which frees no inode; a new file, or one grown past
 * LOG_COMPACT, is written whole instead and renamed over the old. Bytes
 * after the last newline are an append a crash cut short, cut off before
 * the next.
 *
 * Relies on inbox-file.c to read files (ib_rbuf_read(), ib_last_line()), to
 * quarantine a bad one and to write one whole (ib_put_record()). A
 * journaled delivery sets lf->defer_sync to leave its syncs to the
 * checkpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "record.h"

/*
 * A conversation or message file grows by a line at every change, which
 * frees no inode (replacing the file would, and on ext4 without a journal
 * every new file then pays for scanning past recently freed inodes); past
 * this size it is replaced by its newest record alone.
 */
#define LOG_COMPACT 4096

/*
 * Where the last whole line of the log file open on fd (size bytes)
 * ends: bytes after it are an append a crash left short.
 */
static int
tail_good(int fd, off_t size, off_t *good)
{
	char buf[4096];
	off_t at = size;
	ssize_t n;

	while (at > 0) {
		size_t want = at < (off_t)sizeof buf ? (size_t)at : sizeof buf;
		char *nl;

		if ((n = pread(fd, buf, want, at - (off_t)want)) <= 0)
			return -1;
		if ((nl = memrchr(buf, '\n', (size_t)n))) {
			*good = at - (off_t)want + (nl - buf) + 1;
			return 0;
		}
		at -= (off_t)want;
	}
	*good = 0;
	return 0;
}

/*
 * Read the record of the log file rel and keep it open in lf. NULL with
 * errno ENOENT if there is none (lf->fd is -1); a file without a good
 * last line is quarantined (errno EBADMSG; lf->fd is -1: it is rebuilt).
 */
json_t *
ib_log_read(struct inbox *ib, const char *rel, struct logf *lf,
    struct errbuf *e)
{
	char stack[8192];
	struct rbuf b = { stack, 0, sizeof stack, NULL };
	struct stat st;
	struct errbuf pe;
	const char *lp;
	size_t ll;
	json_t *j = NULL;
	int saved;

	lf->lazy = lf->defer_sync = 0;
	if ((lf->fd = ib_open(ib, rel, O_RDWR | O_APPEND, 0, &st)) < 0 ||
	    ib_rbuf_read(&b, lf->fd) < 0) {
		saved = errno;
		if (lf->fd >= 0)
			close(lf->fd);
		lf->fd = -1;
		free(b.heap);
		errno = saved;
		errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
		return NULL;
	}
	lf->size = (off_t)b.len;
	if (ib_last_line(b.p, b.len, &lp, &ll, &pe) && (j = record_parse(lp,
	    ll, &pe)))
		lf->good = (off_t)(lp + ll + 1 - b.p);
	free(b.heap);
	if (!j) {
		close(lf->fd);
		lf->fd = -1;
		ib_quarantine(ib, rel, pe.msg, &st);
		errno = EBADMSG;
		errf(e, "%s/%s: %s", ib->dir, rel, pe.msg);
	}
	return j;
}

/*
 * Whether ib_log_append() of a line of len bytes, newline included, to
 * the file lf describes appends it (else it replaces the file).
 */
int
ib_log_appends(const struct logf *lf, size_t len)
{
	return lf->fd >= 0 && lf->good + (off_t)len <= LOG_COMPACT;
}

/*
 * Take back a line that ib_log_append() appended to the log file rel,
 * which ended at good before: the file is cut back there (which needs
 * no space on a full disk). Not synced: the caller acknowledged nothing.
 * 0, or -1 with errno set.
 */
int
ib_log_unappend(struct inbox *ib, const char *rel, off_t good)
{
	int fd = ib_open(ib, rel, O_WRONLY, 0, NULL), saved;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, good) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/*
 * Make rec the record of the log file dir/name, open in lf (or not there:
 * lf->fd -1): appended as the file's last line, after cutting off a torn
 * tail, and fdatasync'd (unless lf->lazy or lf->defer_sync); or, for a
 * new file or past LOG_COMPACT, written whole in tmp/ and renamed over it
 * (synced unless lf->defer_sync). Closes lf->fd.
 */
int
ib_log_append(struct inbox *ib, const char *dir, const char *name,
    struct logf *lf, const json_t *rec, const char *text, struct errbuf *e)
{
	size_t len, off = 0;
	char *s = ib_line_of(rec, text, &len);
	ssize_t n;
	int fd = lf->fd, saved;

	lf->fd = -1;
	if (!s) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		return errf(e, "%s/%s/%s: %s", ib->dir, dir, name,
		    ib_line_error(errno));
	}
	if (!ib_log_appends(&(struct logf){ .fd = fd, .good = lf->good },
	    len)) {
		if (fd >= 0)
			close(fd);
		free(s);
		return ib_put_record(ib, dir, name, rec, 1, lf->defer_sync,
		    e);
	}
	if (lf->good < lf->size && ftruncate(fd, lf->good) < 0)
		goto fail;
	while (off < len) {
		if ((n = write(fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (!lf->defer_sync && !lf->lazy && (fdatasync(fd) < 0 ||
	    (ib_young(ib, fd) && ib_sync_dir(ib, dir, e) < 0)))
		goto fail;
	free(s);
	if (close(fd) < 0) {
		/*
		 * The line is in the file, but its write may not be (a
		 * close that fails says so): taken back as below, lest a
		 * change that failed stay the record.
		 */
		char rel[PATH_MAX];

		saved = errno;
		snprintf(rel, sizeof rel, "%s/%s", dir, name);
		if (ib_log_unappend(ib, rel, lf->good) < 0 && ib->report)
			ib->report(ib->report_arg, "a log line whose write "
			    "failed could not be taken back");
		errno = saved;
		return errf(e, "%s/%s/%s: %s", ib->dir, dir, name,
		    strerror(errno));
	}
	return 0;
fail:
	saved = errno;
	/*
	 * Take the line back, whole or cut short: a change whose sync
	 * failed must not stay the record (readers may have seen it
	 * meanwhile, as they may a change that a lock holder then undoes).
	 */
	if (ftruncate(fd, lf->good) < 0 && ib->report)
		ib->report(ib->report_arg, "a log line whose write failed "
		    "could not be taken back");
	free(s);
	close(fd);
	errno = saved;
	return errf(e, "%s/%s/%s: %s", ib->dir, dir, name, strerror(errno));
}

/* ib_log_append() to dir/name, not read before. */
int
ib_log_put(struct inbox *ib, const char *dir, const char *name,
    const json_t *rec, struct errbuf *e)
{
	char rel[PATH_MAX];
	struct logf lf = { .fd = -1 };
	struct stat st;
	int saved;

	snprintf(rel, sizeof rel, "%s/%s", dir, name);
	lf.fd = ib_open(ib, rel, O_RDWR | O_APPEND, 0, &st);
	if (lf.fd < 0 && errno != ENOENT)
		return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
	if (lf.fd >= 0 && tail_good(lf.fd, st.st_size, &lf.good) < 0) {
		saved = errno;
		close(lf.fd);
		errno = saved;
		return errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
	}
	if (lf.fd >= 0)
		lf.size = st.st_size;
	return ib_log_append(ib, dir, name, &lf, rec, NULL, e);
}
