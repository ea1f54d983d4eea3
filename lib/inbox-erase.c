/*
 * inbox-erase.c: a thread's data taken out of the inbox, for an erasure
 * or for retention (inbox-erase.h says the order and why a crash is
 * safe; smsdesk-inbox(5), Erasure, what stays).
 *
 * The intent is a directory of tmp/, "erase,THREAD" (an erasure) or
 * "retain,THREAD" (an archive or a deletion by retention), holding a
 * file "intent" (a record: the name the history lines get, the archive's
 * file), synced before anything is moved. The sweep of tmp/ removes
 * files only, so the directory stays until the erasure is finished.
 * Files are moved into it with rename(2), whole directories at once
 * (msg/THREAD, media/THREAD), and removed from it last.
 *
 * The ledgers (ids/XX, outbox/.log) are append-only logs that other
 * writers append to under their locks: a file that names the thread is
 * written anew without those lines, in tmp/, synced and renamed over
 * it, under the same lock. The history is appended to with no lock
 * (O_APPEND, one write a change), so it is never replaced: each line of
 * the thread is overwritten in place with pwrite(2), the same length,
 * its thread replaced and its free text removed, spaces filling the rest
 * (whitespace between JSON tokens), and the file synced; appends go on
 * meanwhile, past the bytes changed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "contact.h"
#include "inbox-erase.h"
#include "inbox-impl.h"
#include "thread.h"
#include "when.h"

#define INTENT_MAX 4096

/* One erasure under way. */
struct job {
	struct inbox *ib;
	const char *thread;
	int flags;
	char stage[64];		/* "erase,THREAD" or "retain,THREAD" */
	int sfd;		/* tmp/STAGE, open */
	char file[256];		/* the archive, or "" */
	struct inbox_erased *r;
	struct errbuf *e;
	int resume;		/* finishing one found under way: done
				 * already if its directory went meanwhile */
};

static int
fail(struct job *j, const char *what)
{
	int err = errno;

	errf(j->e, "%s/%s: %s", j->ib->dir, what, ib_strerror(err));
	return errno = err, -1;
}

static int
sync_fd(int fd)
{
	return fsync(fd);
}

/* Remove the directory name of dfd and everything in it (two levels). */
static int
remove_tree(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0) {
			if (errno != EISDIR && errno != EPERM)
				goto bad;
			if (remove_tree(fd, de->d_name) < 0)
				goto bad;
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return 0;
bad:
	closedir(d);
	return -1;
}

/* How many entries directory name of dfd has (0 if it is not there). */
static size_t
count_files(int dfd, const char *name)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* --- The intent ------------------------------------------------------- */

/* The name a thread's history lines get: as long as it, saying nothing. */
static void
pseudonym(const char *thread, char out[32])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	size_t n = strlen(thread), i;

	randombytes_buf(rnd, sizeof rnd);
	out[0] = '@';
	out[1] = '~';
	/* "@~" alone for a thread of two bytes, a thread name still. */
	for (i = 2; i < n && i < 31; i++)
		out[i] = hex[(rnd[i % 16] >> (i & 1 ? 4 : 0)) & 15];
	out[i] = '\0';
}

/*
 * Make the intent, tmp/STAGE with its record, durably; or, if there is
 * one already (an erasure a crash cut short), read it back.
 */
static int
intent(struct job *j)
{
	struct inbox *ib = j->ib;
	json_t *rec;
	char buf[INTENT_MAX], *s;
	ssize_t n;
	int fd;

	if (mkdirat(ib->sub[IB_TMP], j->stage, ib->grouped ? 02770 : 0700) <
	    0 && errno != EEXIST)
		return fail(j, "tmp");
	if ((j->sfd = openat(ib->sub[IB_TMP], j->stage, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW)) < 0)
		return fail(j, "tmp");
	if ((fd = openat(j->sfd, "intent", O_RDONLY | O_NOFOLLOW)) >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if ((rec = json_loads(buf, 0, NULL))) {
				snprintf(j->r->as, sizeof j->r->as, "%s",
				    json_string_value(json_object_get(rec,
				    "as")) ? json_string_value(
				    json_object_get(rec, "as")) : "");
				if (json_string_value(json_object_get(rec,
				    "file")))
					snprintf(j->file, sizeof j->file, "%s",
					    json_string_value(json_object_get(
					    rec, "file")));
				json_decref(rec);
				if (strlen(j->r->as) == strlen(j->thread) ||
				    !(j->flags & INBOX_ERASE_PERSON))
					return 0;
			}
		}
	}
	/* None, or one a crash cut short before it was synced: anew. */
	pseudonym(j->thread, j->r->as);
	if (!(rec = json_pack("{s:s,s:s,s:s?}", "thread", j->thread, "as",
	    j->r->as, "file", *j->file ? j->file : NULL)))
		return errno = ENOMEM, fail(j, "tmp");
	s = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (!s)
		return errno = ENOMEM, fail(j, "tmp");
	n = snprintf(buf, sizeof buf, "%s\n", s);
	free(s);
	if ((fd = openat(j->sfd, "intent", O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW, 0600)) < 0)
		return fail(j, "tmp");
	if (write(fd, buf, (size_t)n) != n || sync_fd(fd) < 0) {
		if (errno == 0)
			errno = ENOSPC;
		close(fd);
		return fail(j, "tmp");
	}
	if (close(fd) < 0 || sync_fd(j->sfd) < 0 ||
	    sync_fd(ib->sub[IB_TMP]) < 0)
		return fail(j, "tmp");
	return 0;
}

/* --- The thread's own files ------------------------------------------- */

/*
 * Move sub/THREAD (a file or a directory) into the intent as as, and
 * sync sub/. One moved before (a retry) is there already: then sub/THREAD
 * is a new one, made since, and goes the same way, its files added.
 */
static int
move_in(struct job *j, int sub, const char *as)
{
	struct inbox *ib = j->ib;
	char name[80];
	int k;

	if (renameat2(ib->sub[sub], j->thread, j->sfd, as,
	    RENAME_NOREPLACE) == 0)
		return sync_fd(ib->sub[sub]) < 0 ? fail(j, ib_subdirs[sub]) : 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EEXIST)
		return fail(j, ib_subdirs[sub]);
	for (k = 2; k < 1000; k++) {
		snprintf(name, sizeof name, "%s.%d", as, k);
		if (renameat2(ib->sub[sub], j->thread, j->sfd, name,
		    RENAME_NOREPLACE) == 0)
			return sync_fd(ib->sub[sub]) < 0 ?
			    fail(j, ib_subdirs[sub]) : 0;
		if (errno != EEXIST)
			return fail(j, ib_subdirs[sub]);
	}
	return errno = EEXIST, fail(j, ib_subdirs[sub]);
}

/* Whether name (an index name, a ledger line) ends in ",THREAD" or
 * names "THREAD/" after a separator. */
static int
names_thread(const char *s, size_t n, const char *thread, char sep)
{
	size_t t = strlen(thread);
	const char *p;

	for (p = s; p + t <= s + n; p++) {
		p = memchr(p, thread[0], (size_t)(s + n - p));
		if (!p || p + t > s + n)
			return 0;
		if (memcmp(p, thread, t) == 0 && p > s && p[-1] == sep &&
		    (p + t == s + n || p[t] == '/' || p[t] == ',' ||
		    p[t] == '\n'))
			return 1;
	}
	return 0;
}

/* Remove the names of dir (a directory fd) that name the thread. */
static int
unlink_names(struct job *j, int dfd, const char *what, char sep)
{
	struct dirent *de;
	DIR *d;
	int fd, changed = 0;

	if ((fd = dup(dfd)) < 0)
		return fail(j, what);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return fail(j, what);
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && names_thread(de->d_name,
		    strlen(de->d_name), j->thread, sep) &&
		    unlinkat(dfd, de->d_name, 0) == 0) {
			j->r->other++;
			changed = 1;
		}
	closedir(d);
	if (changed && sync_fd(dfd) < 0)
		return fail(j, what);
	return 0;
}

/* The names of schedule/HOUR/ of the thread's messages. */
static int
unschedule(struct job *j)
{
	struct inbox *ib = j->ib;
	struct dirent *de;
	DIR *d;
	int fd, bfd;

	if (ib->sub[IB_SCHEDULE] < 0)
		return 0;
	if ((fd = dup(ib->sub[IB_SCHEDULE])) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(j, "schedule");
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (bfd = openat(ib->sub[IB_SCHEDULE],
		    de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
			continue;
		if (unlink_names(j, bfd, "schedule", ',') < 0) {
			close(bfd);
			closedir(d);
			return -1;
		}
		close(bfd);
	}
	closedir(d);
	return 0;
}

/*
 * The links of serve/ to the thread's media (hard links: the same
 * inode as a file of media/THREAD, or, moved already, of the intent).
 */
static int
unserve(struct job *j, int mfd)
{
	struct inbox *ib = j->ib;
	struct dirent *de, *me;
	struct stat st, ms;
	DIR *d, *m;
	int fd, changed = 0;

	if (ib->sub[IB_SERVE] < 0 || mfd < 0)
		return 0;
	if ((fd = dup(ib->sub[IB_SERVE])) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(j, "serve");
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || fstatat(ib->sub[IB_SERVE],
		    de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((fd = dup(mfd)) < 0 || !(m = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		rewinddir(m);
		while ((me = readdir(m)))
			if (fstatat(mfd, me->d_name, &ms,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ms.st_mode) &&
			    ms.st_ino == st.st_ino && ms.st_dev == st.st_dev) {
				if (unlinkat(ib->sub[IB_SERVE], de->d_name,
				    0) == 0)
					changed = 1, j->r->other++;
				break;
			}
		closedir(m);
	}
	closedir(d);
	if (changed && sync_fd(ib->sub[IB_SERVE]) < 0)
		return fail(j, "serve");
	return 0;
}

/* The conversation, its index names, messages and media, into the intent. */
static int
take_files(struct job *j)
{
	struct inbox *ib = j->ib;
	char qname[INBOX_QUEUE_NAME_MAX];
	json_t *conv;
	struct errbuf e;
	int mfd;

	if ((conv = inbox_conversation(ib, j->thread, &e))) {
		inbox_queue_name_json(j->thread, conv, qname);
		json_decref(conv);
		if (*qname && unlinkat(ib->sub[IB_QUEUE], qname, 0) == 0)
			j->r->other++;
	}
	if (unlinkat(ib->sub[IB_WORK], j->thread, 0) == 0) {
		j->r->other++;
		if (sync_fd(ib->sub[IB_WORK]) < 0)
			return fail(j, "work");
	}
	if (unlink_names(j, ib->sub[IB_QUEUE], "queue", ',') < 0 ||
	    move_in(j, IB_CONV, "conv") < 0 || unschedule(j) < 0 ||
	    move_in(j, IB_MSG, "msg") < 0)
		return -1;
	if (ib->sub[IB_MEDIA] >= 0) {
		mfd = openat(ib->sub[IB_MEDIA], j->thread, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW);
		if (unserve(j, mfd) < 0) {
			if (mfd >= 0)
				close(mfd);
			return -1;
		}
		if (mfd >= 0)
			close(mfd);
		if (move_in(j, IB_MEDIA, "media") < 0)
			return -1;
		mfd = openat(j->sfd, "media", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW);
		if (unserve(j, mfd) < 0) {
			if (mfd >= 0)
				close(mfd);
			return -1;
		}
		if (mfd >= 0)
			close(mfd);
	}
	return 0;
}

/* --- The ledgers ------------------------------------------------------ */

/*
 * Write rel (a log of lines, "outbox/.log" or "ids/XX") anew without the
 * lines that name the thread, if it has any: in tmp/, synced, renamed
 * over it, its directory synced. The caller holds its lock.
 */
static int
filter_log(struct job *j, int dfd, const char *dir, const char *name)
{
	struct inbox *ib = j->ib;
	struct buf keep = { 0 };
	struct rbuf b = { 0 };
	char tmp[NAME_MAX_LEN + 8];
	const char *p, *q, *end;
	size_t dropped = 0;
	int fd, rc = -1;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return errno == ENOENT ? 0 : fail(j, dir);
	if (ib_rbuf_read(&b, fd) < 0) {
		close(fd);
		return fail(j, dir);
	}
	close(fd);
	for (p = b.p, end = b.p + b.len; p < end; p = q + 1) {
		if (!(q = memchr(p, '\n', (size_t)(end - p))))
			q = end;
		if (names_thread(p, (size_t)(q - p), j->thread, ' ') ||
		    names_thread(p, (size_t)(q - p), j->thread, '/'))
			dropped++;
		else if (q < end)
			buf_add(&keep, p, (size_t)(q + 1 - p));
	}
	if (!dropped) {
		rc = 0;
		goto out;
	}
	if (keep.err) {
		errno = ENOMEM;
		fail(j, dir);
		goto out;
	}
	snprintf(tmp, sizeof tmp, "erase.%ld.%s", ib->pid, name);
	if ((fd = openat(ib->sub[IB_TMP], tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW, ib->grouped ? 0660 : 0600)) < 0) {
		fail(j, "tmp");
		goto out;
	}
	if ((keep.len && write(fd, keep.p, keep.len) != (ssize_t)keep.len) ||
	    fsync(fd) < 0) {
		if (errno == 0)
			errno = ENOSPC;
		close(fd);
		unlinkat(ib->sub[IB_TMP], tmp, 0);
		fail(j, "tmp");
		goto out;
	}
	if (close(fd) < 0 || renameat(ib->sub[IB_TMP], tmp, dfd, name) < 0) {
		unlinkat(ib->sub[IB_TMP], tmp, 0);
		fail(j, dir);
		goto out;
	}
	if (sync_fd(dfd) < 0) {
		fail(j, dir);
		goto out;
	}
	j->r->lines += dropped;
	rc = 0;
out:
	free(b.heap);
	free(keep.p);
	return rc;
}

/* The symbolic links of an older inbox (ids/KEY, outbox/ID) to the
 * thread's messages. */
static int
unlink_links(struct job *j, int dfd, const char *what)
{
	struct dirent *de;
	struct stat st;
	char to[PATH_MAX];
	ssize_t n;
	DIR *d;
	int fd, changed = 0;

	if ((fd = dup(dfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(j, what);
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode) ||
		    (n = readlinkat(dfd, de->d_name, to, sizeof to - 1)) < 0)
			continue;
		to[n] = '\0';
		if (names_thread(to, (size_t)n, j->thread, '/') &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			changed = 1, j->r->lines++;
	}
	closedir(d);
	if (changed && sync_fd(dfd) < 0)
		return fail(j, what);
	return 0;
}

/* Mark in want[] the bucket of provider's id pid (ib_id_key()). */
static void
want_key(unsigned char want[256], const char *provider, const char *pid)
{
	char key[NAME_MAX_LEN];

	if (provider && pid && ib_id_key(provider, pid, key) == 0)
		want[ib_key_bucket(key)] = 1;
}

/* The buckets of every key a message of the file name of dfd has had. */
static void
want_file(unsigned char want[256], int dfd, const char *name)
{
	struct rbuf b = { 0 };
	const char *p, *q, *end, *pv;
	json_t *rec, *v;
	size_t i;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return;
	if (ib_rbuf_read(&b, fd) == 0)
		for (p = b.p, end = b.p + b.len; p < end; p = q + 1) {
			if (!(q = memchr(p, '\n', (size_t)(end - p))))
				q = end;
			if (!(rec = json_loadb(p, (size_t)(q - p), 0, NULL)))
				continue;
			pv = json_string_value(json_object_get(rec,
			    "provider"));
			want_key(want, pv, json_string_value(json_object_get(
			    rec, "provider_id")));
			json_array_foreach(json_object_get(rec,
			    "provider_ids"), i, v)
				want_key(want, pv, json_string_value(v));
			want_key(want, "key", json_string_value(
			    json_object_get(rec, "key")));
			json_decref(rec);
		}
	close(fd);
	free(b.heap);
}

/*
 * The buckets of ids/ that may name the thread: those of the keys of its
 * messages, now in the intent (msg, msg.2, ...). So retention reads a
 * few ledger files a conversation, not the whole ledger.
 */
static void
want_buckets(struct job *j, unsigned char want[256])
{
	struct dirent *de, *me;
	DIR *d, *m;
	int fd, mfd;

	if ((fd = dup(j->sfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		memset(want, 1, 256);	/* cannot tell: every one */
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "msg", 3) != 0 || (mfd = openat(j->sfd,
		    de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
			continue;
		if (!(m = fdopendir(mfd))) {
			close(mfd);
			memset(want, 1, 256);
			continue;
		}
		while ((me = readdir(m)))
			if (me->d_name[0] != '.')
				want_file(want, mfd, me->d_name);
		closedir(m);
	}
	closedir(d);
}

static int
take_ledgers(struct job *j)
{
	struct inbox *ib = j->ib;
	unsigned char want[256];
	char name[8];
	int lk, rc;

	if ((lk = ib_lock_file(ib, "outbox", j->e)) < 0)
		return -1;
	rc = filter_log(j, ib->sub[IB_OUTBOX], "outbox", ".log");
	if (rc == 0)
		rc = unlink_links(j, ib->sub[IB_OUTBOX], "outbox");
	ib_unlock(lk);
	if (rc < 0)
		return -1;
	/* An erasure reads every file: it is rare, and must miss nothing. */
	memset(want, j->flags & INBOX_ERASE_PERSON, sizeof want);
	if (!(j->flags & INBOX_ERASE_PERSON))
		want_buckets(j, want);
	for (unsigned x = 0; x < 256; x++) {
		snprintf(name, sizeof name, "%02x", x);
		if (!want[x] || faccessat(ib->sub[IB_IDS], name, F_OK,
		    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(name, sizeof name, "key-%02x", x);
		if ((lk = ib_lock_file(ib, name, j->e)) < 0)
			return -1;
		rc = filter_log(j, ib->sub[IB_IDS], "ids", name + 4);
		ib_unlock(lk);
		if (rc < 0)
			return -1;
	}
	return unlink_links(j, ib->sub[IB_IDS], "ids");
}

/* --- What else of the person's there is ------------------------------- */

/* Whether the file name of dfd holds the bytes of s. */
static int
file_mentions(int dfd, const char *name, const char *s)
{
	struct rbuf b = { 0 };
	size_t n = strlen(s);
	int fd, yes = 0;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return 0;
	if (ib_rbuf_read(&b, fd) == 0)
		for (const char *p = b.p; p && p + n <= b.p + b.len; p++) {
			if (!(p = memchr(p, s[0], (size_t)(b.p + b.len - p))))
				break;
			if (p + n <= b.p + b.len && memcmp(p, s, n) == 0) {
				yes = 1;
				break;
			}
		}
	close(fd);
	free(b.heap);
	return yes;
}

/* The files of dir whose name or bytes name the thread: removed. */
static int
unlink_mentions(struct job *j, int dfd, const char *what)
{
	struct dirent *de;
	DIR *d;
	int fd, changed = 0;

	if (dfd < 0)
		return 0;
	if ((fd = dup(dfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(j, what);
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && (strstr(de->d_name, j->thread) ||
		    file_mentions(dfd, de->d_name, j->thread)) &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			changed = 1, j->r->other++;
	closedir(d);
	if (changed && sync_fd(dfd) < 0)
		return fail(j, what);
	return 0;
}

static int
take_contact(struct job *j)
{
	struct inbox *ib = j->ib;
	int lk, rc = 0;

	if (ib->sub[IB_CONTACTS] < 0)
		return 0;
	if ((lk = ib_lock_file(ib, "contacts", j->e)) < 0)
		return -1;
	if (unlinkat(ib->sub[IB_CONTACTS], j->thread, 0) == 0) {
		j->r->other++;
		if (sync_fd(ib->sub[IB_CONTACTS]) < 0)
			rc = fail(j, "contacts");
	} else if (errno != ENOENT) {
		rc = fail(j, "contacts");
	}
	ib_unlock(lk);
	return rc;
}

/* --- The history ------------------------------------------------------ */

/* The fields of an event that may hold what the person wrote or is. */
static const char *const free_text[] = {
	"comment", "note", "block_note", "unblock_note", "body", "last_body",
	"from", "to", "number", "name", NULL,
};

/*
 * Line p (n bytes, no newline) redacted into out, n bytes: the same
 * record with its thread as j->r->as and its free text gone, then spaces
 * up to the closing brace. 1 if it is the thread's, 0 if not, -1 if it
 * does not parse (left alone).
 */
static int
redact_line(struct job *j, const char *p, size_t n, struct buf *out)
{
	const char *t;
	json_t *rec;
	char *s;
	size_t len;

	if (!(rec = json_loadb(p, n, 0, NULL)))
		return -1;
	/* An erasure's own event is its proof: kept as written. */
	if (!(t = json_string_value(json_object_get(rec, "thread"))) ||
	    strcmp(t, j->thread) != 0 || (json_string_value(json_object_get(
	    rec, "event")) && strcmp(json_string_value(json_object_get(rec,
	    "event")), "erased") == 0)) {
		json_decref(rec);
		return 0;
	}
	json_object_set_new(rec, "thread", json_string(j->r->as));
	for (size_t i = 0; free_text[i]; i++)
		if (json_object_get(rec, free_text[i]))
			json_object_set_new(rec, free_text[i], json_null());
	s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s || (len = strlen(s)) > n) {
		/* Never longer than it was: the head alone, then. */
		json_t *head = json_pack("{s:O?,s:O?,s:s}", "event",
		    json_object_get(rec, "event"), "at", json_object_get(rec,
		    "at"), "thread", j->r->as);

		free(s);
		s = head ? json_dumps(head, JSON_COMPACT |
		    JSON_PRESERVE_ORDER) : NULL;
		json_decref(head);
		if (!s || (len = strlen(s)) > n) {
			free(s);
			json_decref(rec);
			return errno = ENOMEM, -2;
		}
	}
	json_decref(rec);
	buf_add(out, s, len - 1);
	for (size_t i = len; i < n; i++)
		buf_addc(out, ' ');
	buf_addc(out, '}');
	free(s);
	return 1;
}

/* history/DAY: each line of the thread overwritten in place, synced. */
static int
redact_day(struct job *j, const char *day)
{
	struct inbox *ib = j->ib;
	struct buf out = { 0 };
	struct rbuf b = { 0 };
	const char *p, *q, *end;
	size_t t = strlen(j->thread);
	int fd, rc = 0, changed = 0, k;

	if ((fd = openat(ib->sub[IB_HISTORY], day, O_RDWR | O_NOFOLLOW |
	    O_NONBLOCK)) < 0)
		return errno == ENOENT ? 0 : fail(j, "history");
	if (ib_rbuf_read(&b, fd) < 0) {
		close(fd);
		return fail(j, "history");
	}
	for (p = b.p, end = b.p + b.len; p < end; p = q + 1) {
		if (!(q = memchr(p, '\n', (size_t)(end - p))))
			break;	/* a torn tail, or an append under way */
		if (!memmem(p, (size_t)(q - p), j->thread, t))
			continue;
		out.len = 0;
		if ((k = redact_line(j, p, (size_t)(q - p), &out)) == -2 ||
		    out.err) {
			errno = ENOMEM;
			rc = fail(j, "history");
			break;
		}
		if (k != 1)
			continue;
		if (pwrite(fd, out.p, out.len, p - b.p) != (ssize_t)out.len) {
			if (errno == 0)
				errno = ENOSPC;
			rc = fail(j, "history");
			break;
		}
		changed = 1;
		j->r->history++;
	}
	if (changed && fsync(fd) < 0 && rc == 0)
		rc = fail(j, "history");
	close(fd);
	free(b.heap);
	free(out.p);
	return rc;
}

static int
redact_history(struct job *j)
{
	char **days;
	size_t n, i;
	int rc = 0;

	if (!(days = ib_list_names(j->ib, "history", &n, j->e)))
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = redact_day(j, days[i]);
	ib_free_names(days, n);
	return rc;
}

/* The history's record of the erasure (or archiving) itself. */
static int
log_event(struct job *j)
{
	char at[WHEN_BUFSZ];
	json_t *ev;
	char *s;
	int rc;

	when_format(when_now(), at);
	if (!(ev = json_pack("{s:s,s:s,s:s}", "event", j->flags &
	    INBOX_ERASE_PERSON ? "erased" : "archived", "at", at, "thread",
	    j->thread)))
		return errno = ENOMEM, fail(j, "history");
	if (*j->file)
		json_object_set_new(ev, "file", json_string(j->file));
	json_object_set_new(ev, "messages", json_integer((json_int_t)
	    j->r->messages));
	json_object_set_new(ev, "media", json_integer((json_int_t)
	    j->r->media));
	ib_stamp(j->ib, ev);
	s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	if (!s)
		return errno = ENOMEM, fail(j, "history");
	{
		struct buf b = { 0 };

		buf_add(&b, s, strlen(s));
		buf_addc(&b, '\n');
		free(s);
		if (b.err)
			return errno = ENOMEM, fail(j, "history");
		rc = ib_history_write(j->ib, b.p, b.len, 0, j->e);
		free(b.p);
	}
	return rc;
}

/* --- The whole -------------------------------------------------------- */

/* Count what the intent holds, for the report and the event. */
static void
tally(struct job *j)
{
	struct dirent *de;
	DIR *d;
	int fd;

	j->r->messages = j->r->media = 0;
	if ((fd = dup(j->sfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "msg", 3) == 0)
			j->r->messages += count_files(j->sfd, de->d_name);
		else if (strncmp(de->d_name, "media", 5) == 0)
			j->r->media += count_files(j->sfd, de->d_name);
		if (strncmp(de->d_name, "conv", 4) == 0 ||
		    strncmp(de->d_name, "msg", 3) == 0)
			j->r->found = 1;
	}
	closedir(d);
}

static int
run(struct job *j)
{
	struct inbox *ib = j->ib;
	int lk, rc = -1;

	if ((lk = ib_lock_thread(ib, j->thread, j->e)) < 0)
		return -1;
	if (j->resume && faccessat(ib->sub[IB_TMP], j->stage, F_OK,
	    AT_SYMLINK_NOFOLLOW) < 0) {
		/* Another program finished it while we waited for the lock. */
		ib_unlock(lk);
		return 1;
	}
	if (intent(j) < 0 || take_files(j) < 0)
		goto out;
	tally(j);
	if (take_ledgers(j) < 0)
		goto out;
	if (j->flags & INBOX_ERASE_PERSON) {
		if (take_contact(j) < 0 ||
		    unlink_mentions(j, ib->sub[IB_PARTS], "parts") < 0 ||
		    unlink_mentions(j, ib->sub[IB_QUARANTINE],
		    "quarantine") < 0 || redact_history(j) < 0)
			goto out;
	}
	if (log_event(j) < 0)
		goto out;
	if (remove_tree(ib->sub[IB_TMP], j->stage) < 0 ||
	    sync_fd(ib->sub[IB_TMP]) < 0) {
		fail(j, "tmp");
		goto out;
	}
	rc = 0;
out:
	if (j->sfd >= 0)
		close(j->sfd);
	j->sfd = -1;
	ib_unlock(lk);
	return rc;
}

int
inbox_erase(struct inbox *ib, const char *thread, int flags,
    const char *file, struct inbox_erased *r, struct errbuf *e)
{
	struct job j = { .ib = ib, .thread = thread, .flags = flags,
	    .sfd = -1, .r = r, .e = e };
	json_t *rec;
	int now;

	memset(r, 0, sizeof *r);
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "'%s' is not a thread", thread);
	snprintf(j.stage, sizeof j.stage, "%s,%s", flags & INBOX_ERASE_PERSON ?
	    "erase" : "retain", thread);
	if (file)
		snprintf(j.file, sizeof j.file, "%s", file);
	if ((flags & INBOX_ERASE_PERSON) && thread_is_number(thread)) {
		if ((now = inbox_consent_now(ib, thread, e)) < 0)
			return -1;
		if (now != 'o') {
			struct consent_proof p = { .source = "erasure" };

			if (inbox_consent_by_hand(ib, thread, 'o', &p, &rec,
			    e) < 0)
				return -1;
			r->optout = rec != NULL;
			json_decref(rec);
		}
	}
	return run(&j);
}

int
inbox_erase_resume(struct inbox *ib, size_t *n, struct errbuf *e)
{
	struct inbox_erased r;
	struct job j;
	char **names, *comma;
	size_t k, count;
	int rc = 0;

	*n = 0;
	if (!(names = ib_list_names(ib, "tmp", &count, e)))
		return -1;
	for (k = 0; k < count && rc == 0; k++) {
		if (!(comma = strchr(names[k], ',')) ||
		    (strncmp(names[k], "erase,", 6) != 0 &&
		    strncmp(names[k], "retain,", 7) != 0) ||
		    !thread_valid(comma + 1))
			continue;
		memset(&j, 0, sizeof j);
		memset(&r, 0, sizeof r);
		j.ib = ib;
		j.thread = comma + 1;
		j.flags = names[k][0] == 'e' ? INBOX_ERASE_PERSON : 0;
		j.sfd = -1;
		j.r = &r;
		j.e = e;
		j.resume = 1;
		snprintf(j.stage, sizeof j.stage, "%s", names[k]);
		if ((rc = run(&j)) == 0)
			(*n)++;
		else if (rc == 1)
			rc = 0;
	}
	ib_free_names(names, count);
	return rc;
}
