/*
 * inbox-serve.c: pictures we send, copied into media/ and linked into
 * serve/ for the provider to fetch (serve.h, smsdesk-inbox(5)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "diag.h"
#include "inbox.h"
#include "inbox-impl.h"
#include "media.h"
#include "serve.h"

/* path opened for reading, a regular file (st); or -1 with e. */
static int
open_source(const char *path, struct stat *st, struct errbuf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errf(e, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0) {
		errf(e, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return errf(e, "%s: not a regular file", path);
	}
	return fd;
}

/* Up to n bytes from fd at off into p; how many, or -1. */
static ssize_t
read_at(int fd, unsigned char *p, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = pread(fd, p + got, n - got, off + (off_t)got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
media_out_inspect(const char *path, struct media_out *m, struct errbuf *e)
{
	unsigned char head[MEDIA_SNIFF_BYTES];
	struct stat st;
	ssize_t n;
	int fd;

	memset(m, 0, sizeof *m);
	if ((fd = open_source(path, &st, e)) < 0)
		return -1;
	if ((n = read_at(fd, head, sizeof head, 0)) < 0) {
		errf(e, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	m->size = (long long)st.st_size;
	m->type = media_sniff(head, (size_t)n);
	return 0;
}

void
inbox_new_id(const struct inbox *ib, char out[MEDIA_ID_MAX])
{
	char name[NAME_MAX_LEN];

	ib_unique_name(ib, name);
	snprintf(out, MEDIA_ID_MAX, "%s", name);
}

/* Write all n bytes of p to fd; 0, or -1. */
static int
write_all(int fd, const unsigned char *p, size_t n)
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

/*
 * Copy src into a new file tmp/NAME (name out), fsynced: its size, type
 * and sha256 into m. 0, or -1 with e (the tmp/ file removed).
 */
static int
copy_to_tmp(struct inbox *ib, int src, const char *path, char *name,
    struct media_out *m, struct errbuf *e)
{
	unsigned char buf[65536], hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state h;
	off_t off = 0;
	ssize_t n;
	int fd, saved;

	ib_unique_name(ib, name);
	if ((fd = ib_openat_file(ib, ib->sub[IB_TMP], name, O_WRONLY |
	    O_CREAT | O_EXCL, 0600, NULL)) < 0)
		return errf(e, "%s/tmp/%s: %s", ib->dir, name,
		    ib_strerror(errno));
	crypto_hash_sha256_init(&h);
	m->type = NULL;
	while ((n = read_at(src, buf, sizeof buf, off)) > 0) {
		if (off == 0)
			m->type = media_sniff(buf, (size_t)n <
			    MEDIA_SNIFF_BYTES ? (size_t)n : MEDIA_SNIFF_BYTES);
		crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
		if (write_all(fd, buf, (size_t)n) < 0)
			goto fail;
		off += n;
	}
	if (n < 0) {
		saved = errno;
		close(fd);
		unlinkat(ib->sub[IB_TMP], name, 0);
		errno = saved;
		return errf(e, "%s: %s", path, strerror(errno));
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	crypto_hash_sha256_final(&h, hash);
	sodium_bin2hex(m->sha256, sizeof m->sha256, hash, sizeof hash);
	m->size = (long long)off;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(ib->sub[IB_TMP], name, 0);
	errno = saved;
	return errf(e, "%s/tmp/%s: %s", ib->dir, name, strerror(errno));
}

/*
 * serve/NAME made as a copy of rel (the hard link was refused): through
 * tmp/, synced, renamed without replacing. 0, or -1 with errno.
 */
static int
copy_link(struct inbox *ib, const char *rel, const char *name)
{
	char tmp[NAME_MAX_LEN + 8], to[SERVE_NAME_MAX + 8];
	struct media_out m;
	struct errbuf e;
	struct stat st;
	int src, moved, rc;

	if ((src = ib_open(ib, rel, O_RDONLY, 0, &st)) < 0)
		return -1;
	strcpy(tmp, "tmp/");
	rc = copy_to_tmp(ib, src, rel, tmp + 4, &m, &e);
	close(src);
	if (rc < 0)
		return -1;
	snprintf(to, sizeof to, "serve/%s", name);
	if (ib_rename(ib, tmp, to, 1, &moved) < 0) {
		rc = errno;
		ib_unlink(ib, tmp, 0);
		return errno = rc, -1;
	}
	if (!moved)
		ib_unlink(ib, tmp, 0);
	return 0;
}

int
inbox_media_put(struct inbox *ib, const char *path, const char *thread,
    const char *id, unsigned n, time_t expires, struct media_out *m,
    struct errbuf *e)
{
	unsigned char token[32];
	char tmp[NAME_MAX_LEN + 8], dir[64], hex[65];
	struct ib_at a;
	struct stat st;
	int src, moved, rc;

	memset(m, 0, sizeof *m);
	if (sodium_init() < 0)
		return errno = EIO, errf(e, "cannot initialise libsodium");
	if (strlen(thread) >= 32 || !*thread || strchr(thread, '/'))
		return errno = EINVAL, errf(e, "%s: not a thread", thread);
	if ((src = open_source(path, &st, e)) < 0)
		return -1;
	strcpy(tmp, "tmp/");
	rc = copy_to_tmp(ib, src, path, tmp + 4, m, e);
	close(src);
	if (rc < 0)
		return -1;
	snprintf(dir, sizeof dir, "media/%s", thread);
	if (ib_make_dir(ib, dir, "media", 0, e) < 0)
		goto fail;
	if ((size_t)snprintf(m->file, sizeof m->file, "media/%s/%s.%u.%s",
	    thread, id, n, media_ext(m->type)) >= sizeof m->file) {
		errno = ENAMETOOLONG;
		errf(e, "%s: a message id too long to name its media", id);
		goto fail;
	}
	if (ib_rename(ib, tmp, m->file, 1, &moved) < 0) {
		errf(e, "%s/%s: %s", ib->dir, m->file, ib_strerror(errno));
		goto fail;
	}
	if (!moved)
		ib_unlink(ib, tmp, 0);
	if (ib_sync_dir(ib, dir, e) < 0)
		goto placed;

	randombytes_buf(token, sizeof token);
	sodium_bin2hex(hex, sizeof hex, token, sizeof token);
	snprintf(m->serve, sizeof m->serve, "%lld-%s.%s", (long long)expires,
	    hex, media_ext(m->type));
	if (ib_at(ib, m->file, &a) < 0) {
		errf(e, "%s/%s: %s", ib->dir, m->file, ib_strerror(errno));
		goto placed;
	}
	rc = linkat(a.dfd, a.leaf, ib->sub[IB_SERVE], m->serve, 0);
	ib_at_done(&a);
	/* A file system without hard links (or across them): a copy. */
	if (rc < 0 && (errno == EPERM || errno == EXDEV || errno == EMLINK ||
	    errno == ENOTSUP) && copy_link(ib, m->file, m->serve) == 0)
		rc = 0;
	if (rc < 0) {
		errf(e, "%s/serve/%s: %s", ib->dir, m->serve,
		    ib_strerror(errno));
		goto placed;
	}
	if (ib_sync_dir(ib, "serve", e) < 0) {
		unlinkat(ib->sub[IB_SERVE], m->serve, 0);
		goto placed;
	}
	return 0;
placed:
	rc = errno;
	ib_unlink(ib, m->file, 0);
	m->file[0] = m->serve[0] = '\0';
	return errno = rc, -1;
fail:
	rc = errno;
	ib_unlink(ib, tmp, 0);
	m->file[0] = '\0';
	return errno = rc, -1;
}

void
inbox_media_unsend(struct inbox *ib, const json_t *media)
{
	const json_t *item;
	const char *file, *url, *name;
	size_t i;

	json_array_foreach(media, i, item) {
		file = json_string_value(json_object_get(item, "file"));
		url = json_string_value(json_object_get(item, "url"));
		if (!file || strncmp(file, "media/", 6) != 0)
			continue;
		ib_unlink(ib, file, 0);
		if (url && (name = strrchr(url, '/')) &&
		    inbox_serve_name(name + 1, NULL))
			unlinkat(ib->sub[IB_SERVE], name + 1, 0);
	}
}

int
inbox_serve_name(const char *name, time_t *expires)
{
	const char *p = name;
	long long v = 0;
	size_t i;

	if (*p < '1' || *p > '9')
		return 0;
	for (i = 0; *p >= '0' && *p <= '9'; p++, i++) {
		if (i >= 18)
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (*p++ != '-')
		return 0;
	for (i = 0; i < 64; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	if (*p++ != '.')
		return 0;
	for (i = 0; *p; p++, i++)
		if (i >= 8 || !((*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z')))
			return 0;
	if (i == 0)
		return 0;
	if (expires)
		*expires = (time_t)v;
	return 1;
}

int
inbox_serve_open(struct inbox *ib, const char *name, time_t now,
    struct stat *st)
{
	time_t exp;
	int fd;

	if (!inbox_serve_name(name, &exp))
		return errno = ENOENT, -1;
	if (exp <= now)
		return errno = ETIME, -1;
	if ((fd = ib_openat_file(ib, ib->sub[IB_SERVE], name, O_RDONLY, 0,
	    st)) < 0) {
		if (errno == ELOOP || errno == IB_ENOTREG)
			errno = ENOENT;
		return -1;
	}
	return fd;
}

int
inbox_serve_sweep(struct inbox *ib, time_t now, size_t *removed,
    struct errbuf *e)
{
	char **names;
	size_t n, gone = 0;
	time_t exp;

	if (removed)
		*removed = 0;
	if (!(names = ib_list_names(ib, "serve", &n, e)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (inbox_serve_name(names[i], &exp) && exp > now)
			continue;
		if (unlinkat(ib->sub[IB_SERVE], names[i], 0) == 0)
			gone++;
	}
	ib_free_names(names, n);
	if (removed)
		*removed = gone;
	return 0;
}
