/*
 * inbox-media.c: the files of messages' media, media/THREAD/NAME
 * (inbox.h, inbox_media_update(); smsdesk-inbox(5)). The bytes are
 * written in tmp/, fsynced, named with RENAME_NOREPLACE, media/THREAD
 * synced, and only then does the message's record say so: a fetch cut
 * short (a crash, kill -9) leaves nothing but tmp/ debris, which the sweep
 * removes, and the item is fetched again from the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "record.h"
#include "thread.h"

int
inbox_media_open(struct inbox *ib, char tmp[INBOX_MEDIA_TMP_MAX],
    struct errbuf *e)
{
	int fd;

	strcpy(tmp, "tmp/");
	ib_unique_name(ib, tmp + 4);
	fd = ib_openat_file(ib, ib->sub[IB_TMP], tmp + 4, O_WRONLY | O_CREAT |
	    O_EXCL | O_CLOEXEC, 0600, NULL);
	if (fd < 0)
		return errf(e, "%s/%s: %s", ib->dir, tmp, ib_strerror(errno));
	return fd;
}

void
inbox_media_drop(struct inbox *ib, int fd, const char *tmp)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	if (tmp && strncmp(tmp, "tmp/", 4) == 0)
		unlinkat(ib->sub[IB_TMP], tmp + 4, 0);
	errno = saved;
}

/*
 * Name the synced file tmp media/THREAD/NAME and sync media/THREAD. A
 * file there already is debris (no record names it: only items without a
 * "file" are fetched) and is replaced. 0, or -1 with e filled.
 */
static int
place(struct inbox *ib, const char *thread, const char *tmp,
    const char *name, struct errbuf *e)
{
	char dir[THREAD_MAX + 8], rel[PATH_MAX];
	int moved;

	snprintf(dir, sizeof dir, "media/%s", thread);
	if (ib_make_dir(ib, dir, "media", 0, e) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/%s", dir, name);
	if (ib_rename(ib, tmp, rel, 1, &moved) < 0 && (errno != EEXIST ||
	    ib_rename(ib, tmp, rel, 0, &moved) < 0))
		return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
	if (!moved)
		inbox_media_drop(ib, -1, tmp);
	return ib_sync_dir(ib, dir, e);
}

/* Set fields on item, and remove the keys named in remove. */
static void
merge(json_t *item, const json_t *fields, const char *const *remove)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)fields, k, v)
		json_object_set(item, k, v);
	for (; remove && *remove; remove++)
		json_object_del(item, *remove);
}

/* A name of a file in msg/THREAD: no '/', no leading dot. */
static int
name_ok(const char *thread, const char *msg, struct errbuf *e)
{
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "'%s' is not a thread", thread);
	if (!*msg || strchr(msg, '/') || msg[0] == '.' || strlen(msg) >=
	    NAME_MAX_LEN)
		return errno = EINVAL, errf(e, "'%s' is not a message's name",
		    msg);
	return 0;
}

json_t *
inbox_message(struct inbox *ib, const char *thread, const char *name,
    struct errbuf *e)
{
	char rel[PATH_MAX];

	if (name_ok(thread, name, e) < 0)
		return NULL;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	return ib_get_record(ib, rel, e);
}

int
inbox_media_update(struct inbox *ib, const char *thread, const char *msg,
    size_t index, int fd, const char *tmp, const char *ext,
    const json_t *fields, const char *const *remove, json_t **msg_out,
    struct errbuf *e)
{
	char rel[PATH_MAX], name[NAME_MAX_LEN + 32], file[PATH_MAX];
	json_t *rec = NULL, *item;
	int lk, rc = -1;

	if (msg_out)
		*msg_out = NULL;
	if (name_ok(thread, msg, e) < 0) {
		inbox_media_drop(ib, fd, tmp);
		return -1;
	}
	if (fd >= 0) {
		if (fsync(fd) < 0) {
			errf(e, "%s/%s: %s", ib->dir, tmp, strerror(errno));
			inbox_media_drop(ib, fd, tmp);
			return -1;
		}
		if (close(fd) < 0) {
			errf(e, "%s/%s: %s", ib->dir, tmp, strerror(errno));
			inbox_media_drop(ib, -1, tmp);
			return -1;
		}
		fd = -1;
	}
	if ((lk = ib_lock_thread(ib, thread, e)) < 0) {
		inbox_media_drop(ib, -1, tmp);
		return -1;
	}
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, msg);
	if (!(rec = ib_get_record(ib, rel, e)))
		goto out;
	item = json_array_get(json_object_get(rec, "media"), index);
	if (!json_is_object(item)) {
		errno = ENOENT;
		errf(e, "%s/%s: no media item %zu", ib->dir, rel, index);
		goto out;
	}
	if (tmp) {
		snprintf(name, sizeof name, "%s.%zu.%s", msg, index,
		    ext && *ext ? ext : "bin");
		if (place(ib, thread, tmp, name, e) < 0)
			goto out;
		tmp = NULL;
		snprintf(file, sizeof file, "media/%s/%s", thread, name);
		json_object_set_new(item, "file", json_string(file));
	}
	merge(item, fields, remove);
	ib_stamp(ib, rec);
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_log_put(ib, rel, msg, rec, e) < 0)
		goto out;
	rc = 0;
	if (msg_out)
		*msg_out = json_incref(rec);
out:
	if (tmp)
		inbox_media_drop(ib, -1, tmp);
	json_decref(rec);
	ib_unlock(lk);
	return rc;
}
