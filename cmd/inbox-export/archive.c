/*
 * archive.c: a conversation's records and media as a .tar.gz (POSIX
 * ustar members, compressed by zlib in gzip form), so that plain tools
 * read it years later: `tar -xzf`, `tar -xzOf F THREAD/export.ndjson`.
 *
 * The records are gathered in memory first (a tar member's header says
 * its size), media files are copied after them as they are read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "when.h"
#include "inbox-export/archive.h"
#include "inbox-export/gather.h"

struct tarw {
	gzFile gz;
	const char *thread;
	time_t mtime;
	struct buf media;	/* the media members, written after */
	int err;		/* errno of the first failure */
};

/* The 512-byte ustar header of a member name of size bytes. */
static void
header(unsigned char h[512], const char *name, size_t size, time_t mtime)
{
	unsigned sum = 0;
	size_t i;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0600);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static void
put(struct tarw *t, const void *p, size_t n)
{
	if (t->err || n == 0)
		return;
	if (gzwrite(t->gz, p, (unsigned)n) != (int)n)
		t->err = errno ? errno : EIO;
}

/* Pad a member of n bytes to the next 512. */
static void
pad(struct tarw *t, size_t n)
{
	static const unsigned char zero[512];

	if (n % 512)
		put(t, zero, 512 - n % 512);
}

/* One member of its bytes p. */
static void
member(struct tarw *t, const char *name, const void *p, size_t n)
{
	unsigned char h[512];

	header(h, name, n, t->mtime);
	put(t, h, sizeof h);
	put(t, p, n);
	pad(t, n);
}

static int
sink(void *arg, const json_t *rec, struct errbuf *e)
{
	struct buf *b = arg;
	char *s = json_dumps(rec, JSON_COMPACT);

	if (!s)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	buf_add(b, s, strlen(s));
	buf_addc(b, '\n');
	free(s);
	return b->err ? (errno = ENOMEM, errf(e, "%s", strerror(ENOMEM))) : 0;
}

/* A media file: its name and bytes kept for after the records. */
static char *
keep_media(void *arg, const char *name, int fd, off_t size, struct errbuf *e)
{
	struct buf *mb = arg;
	unsigned char chunk[65536];
	unsigned long long len = (unsigned long long)size;
	off_t off = 0;
	ssize_t n;
	char *out;

	/* name NUL, size (8 bytes), bytes */
	buf_add(mb, name, strlen(name) + 1);
	buf_add(mb, &len, sizeof len);
	while (off < size && (n = pread(fd, chunk, sizeof chunk, off)) > 0) {
		buf_add(mb, chunk, (size_t)n);
		off += n;
	}
	if (off != size || mb->err)
		return errno = off != size ? EIO : ENOMEM,
		    errf(e, "%s: %s", name, strerror(errno)), NULL;
	if (asprintf(&out, "media/%s", name) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM)), NULL;
	return out;
}

struct both {
	struct buf *recs, *media;
};

static int
sink_both(void *arg, const json_t *rec, struct errbuf *e)
{
	return sink(((struct both *)arg)->recs, rec, e);
}

static char *
media_both(void *arg, const char *name, int fd, off_t size, struct errbuf *e)
{
	return keep_media(((struct both *)arg)->media, name, fd, size, e);
}

int
archive_write(struct inbox *ib, const char *thread, int dfd,
    const char *dir, const char *name, struct errbuf *e)
{
	struct buf recs = { 0 }, media = { 0 };
	struct both both = { &recs, &media };
	struct gather g = { .ib = ib, .thread = thread, .emit = sink_both,
	    .media = media_both, .arg = &both, .no_history = 1 };
	struct tarw t = { .thread = thread, .mtime = when_now() };
	char tmp[300], mname[400];
	unsigned char zero[1024] = { 0 };
	const char *p, *end;
	unsigned long long len;
	int fd, fd2, rc = -1;

	if (gather(&g, e) < 0)
		goto out;
	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
	    0600)) < 0) {
		errf(e, "%s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	/* The trusted group's, as every file of the inbox (smsdesk-inbox(5),
	 * Sharing), whatever the umask. */
	if (ib->grouped && fchmod(fd, 0660) < 0) {
		errf(e, "%s/%s: %s", dir, tmp, strerror(errno));
		close(fd);
		goto drop;
	}
	if ((fd2 = dup(fd)) < 0 || !(t.gz = gzdopen(fd2, "wb9"))) {
		if (fd2 >= 0)
			close(fd2);
		errf(e, "%s/%s: %s", dir, tmp, strerror(errno ? errno :
		    ENOMEM));
		close(fd);
		goto drop;
	}
	snprintf(mname, sizeof mname, "%s/export.ndjson", thread);
	member(&t, mname, recs.p, recs.len);
	for (p = media.p, end = media.p + media.len; p && p < end;) {
		const char *nm = p;

		p += strlen(nm) + 1;
		memcpy(&len, p, sizeof len);
		p += sizeof len;
		snprintf(mname, sizeof mname, "%s/media/%s", thread, nm);
		member(&t, mname, p, (size_t)len);
		p += len;
	}
	put(&t, zero, sizeof zero);
	if (gzclose(t.gz) != Z_OK && !t.err)
		t.err = errno ? errno : EIO;
	if (t.err || fsync(fd) < 0) {
		errf(e, "%s/%s: %s", dir, tmp, strerror(t.err ? t.err :
		    errno));
		close(fd);
		goto drop;
	}
	if (close(fd) < 0) {
		errf(e, "%s/%s: %s", dir, tmp, strerror(errno));
		goto drop;
	}
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) < 0) {
		errf(e, "%s/%s: %s", dir, name, strerror(errno));
		goto drop;
	}
	if (fsync(dfd) < 0) {
		errf(e, "%s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
drop:
	unlinkat(dfd, tmp, 0);
out:
	free(recs.p);
	free(media.p);
	return rc;
}
