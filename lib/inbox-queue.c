/*
 * inbox-queue.c: queue/, the index of who waits for an owner and who holds
 * what (smsdesk-inbox(5)).
 *
 * For every conversation of the working set that waits for an owner
 * (nobody has it, it is open or pending, its sender is not blocked), an
 * empty file queue/w,WAITING,THREAD, WAITING its waiting_since (else
 * last_in_at, else "~", after every time); for every one an agent holds,
 * queue/a,AGENT,THREAD. One pass over the names tells `assign --next` the
 * oldest waiting and an agent's load without opening each conversation
 * of the working set (15,000 of them took 90-120 ms to read, their names
 * 5).
 *
 * The conversation files stay the truth; the index may say more than they
 * do, never less. A writer that changes a conversation makes its new name
 * before it writes the change (ib_queue_enter()) and removes the old one
 * after (ib_queue_leave()), under the thread's lock: a crash between the
 * two leaves both, and a reader checks what it takes against the
 * conversation (under its lock, when it would act on it) and repairs the
 * name (inbox_queue_fix()). A new name is durable before the change it
 * indexes: synced with queue/ where the change is synced, else by the
 * checkpoint that makes the change durable (or the journal's replay makes
 * the name again). queue/.built says the index is whole: an inbox from
 * before it, or one whose index a full disk kept a name from, has none,
 * and the next reader rebuilds it from the conversations
 * (roster_queue_rebuild()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "inbox-impl.h"
#include "record.h"
#include "thread.h"

/* A name that fits in a file name, else none: an assignee the roster
 * could not hold (roster_name_valid()'s letters). */
static int
plain_agent(const char *a)
{
	size_t n = strlen(a);

	return n > 0 && n <= LIMIT_NAME && strspn(a, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n && *a != '.';
}

void
inbox_queue_name(const struct inbox_conv *c, char out[INBOX_QUEUE_NAME_MAX])
{
	const char *w = c->waiting_since;

	out[0] = '\0';
	if (!c->thread || !thread_valid(c->thread) || !c->status ||
	    strcmp(c->status, INBOX_RESOLVED) == 0 || c->blocked_at)
		return;
	if (c->assignee && *c->assignee) {
		if (plain_agent(c->assignee))
			snprintf(out, INBOX_QUEUE_NAME_MAX, "a,%s,%s",
			    c->assignee, c->thread);
		return;
	}
	if (strcmp(c->status, INBOX_OPEN) != 0 &&
	    strcmp(c->status, INBOX_PENDING) != 0)
		return;
	if (!w || !*w)
		w = c->last_in_at;
	if (!w || !*w || strlen(w) >= 32 || strchr(w, '/') || strchr(w, ','))
		w = "~";
	snprintf(out, INBOX_QUEUE_NAME_MAX, "w,%s,%s", w, c->thread);
}

void
inbox_queue_name_json(const char *thread, const json_t *conv,
    char out[INBOX_QUEUE_NAME_MAX])
{
	const json_t *b = json_object_get(conv, "blocked_at");
	struct inbox_conv c = {
		.thread = thread,
		.status = record_str(conv, "status"),
		.assignee = record_str(conv, "assignee"),
		.waiting_since = record_str(conv, "waiting_since"),
		.last_in_at = record_str(conv, "last_in_at"),
		.blocked_at = b && !json_is_null(b) ? "" : NULL,
	};

	if (!conv)
		out[0] = '\0';
	else
		inbox_queue_name(&c, out);
}

int
ib_queue_enter(struct inbox *ib, const char *was, const char *now, int sync)
{
	int fd;

	if (!*now || strcmp(was, now) == 0)
		return 0;
	/* A link keeps the inode the old name had: nothing to allocate. */
	fd = -2;
	if (!*was || linkat(ib->sub[IB_QUEUE], was, ib->sub[IB_QUEUE], now,
	    0) < 0) {
		if (*was && errno == EEXIST)
			return 0;
		if ((fd = ib_openat_file(ib, ib->sub[IB_QUEUE], now,
		    O_WRONLY | O_CREAT, 0600, NULL)) < 0)
			return -1;
	}
	if ((fd >= 0 && close(fd) < 0) || (sync &&
	    fsync(ib->sub[IB_QUEUE]) < 0))
		return -1;
	return 0;
}

int
ib_queue_move(struct inbox *ib, const char *was, const char *now)
{
	if (strcmp(was, now) == 0)
		return 0;
	if (!*now) {
		unlinkat(ib->sub[IB_QUEUE], was, 0);
		return 0;
	}
	if (*was && renameat(ib->sub[IB_QUEUE], was, ib->sub[IB_QUEUE],
	    now) == 0)
		return 0;
	if (*was && errno != ENOENT)
		return -1;
	return ib_queue_enter(ib, "", now, 0);
}

int
inbox_queue_suspend(struct inbox *ib, struct errbuf *e)
{
	if (unlinkat(ib->sub[IB_QUEUE], IB_QUEUE_BUILT, 0) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return errf(e, "%s/queue/%s: %s", ib->dir, IB_QUEUE_BUILT,
	    strerror(errno));
}

void
ib_queue_leave(struct inbox *ib, const char *was, const char *now)
{
	if (*was && strcmp(was, now) != 0)
		unlinkat(ib->sub[IB_QUEUE], was, 0);
}

/* Entry q (kind, key, thread) from name (NUL-terminated); 0, or -1 for a
 * name that is none of the index's. */
static int
parse(const char *name, struct inbox_queue_entry *q)
{
	const char *c2;

	if ((name[0] != 'w' && name[0] != 'a') || name[1] != ',' ||
	    !(c2 = strrchr(name + 2, ',')) || c2 == name + 2 ||
	    !thread_valid(c2 + 1))
		return -1;
	q->kind = name[0];
	q->name = name;
	q->key = name + 2;
	q->key_len = (size_t)(c2 - q->key);
	q->thread = c2 + 1;
	return 0;
}

int
inbox_queue_read(struct inbox *ib, struct inbox_queue *q, struct errbuf *e)
{
	struct inbox_queue_entry *v;
	struct dirent *de;
	size_t *off = NULL, cap = 0, i, len;
	char *p;
	DIR *d;
	int fd;

	memset(q, 0, sizeof *q);
	q->whole = faccessat(ib->sub[IB_QUEUE], IB_QUEUE_BUILT, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0;
	if ((fd = ib_open_dir(ib, "queue")) < 0 || !(d = fdopendir(fd))) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		return errno = saved, errf(e, "%s/queue: %s", ib->dir,
		    ib_strerror(saved));
	}
	/* The names into one buffer, their places kept: it moves. */
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] != 'w' && de->d_name[0] != 'a')
			continue;
		len = strlen(de->d_name) + 1;
		if (q->n == cap) {
			size_t *no = realloc(off, (cap = cap ? 2 * cap : 256) *
			    sizeof *off);

			if (!no)
				goto nomem;
			off = no;
		}
		if (q->len + len > q->cap) {
			size_t nc = q->cap ? 2 * q->cap : 16384;

			while (nc < q->len + len)
				nc *= 2;
			if (!(p = realloc(q->names, nc)))
				goto nomem;
			q->names = p;
			q->cap = nc;
		}
		memcpy(q->names + q->len, de->d_name, len);
		off[q->n++] = q->len;
		q->len += len;
	}
	if (errno) {
		errf(e, "%s/queue: %s", ib->dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (!(v = malloc((q->n ? q->n : 1) * sizeof *v))) {
		free(off);
		inbox_queue_release(q);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	q->v = v;
	for (i = 0, len = q->n, q->n = 0; i < len; i++)
		if (parse(q->names + off[i], &v[q->n]) == 0)
			q->n++;
	free(off);
	return 0;
nomem:
	errno = ENOMEM;
	errf(e, "%s", strerror(ENOMEM));
fail:
	closedir(d);
	free(off);
	inbox_queue_release(q);
	return -1;
}

void
inbox_queue_release(struct inbox_queue *q)
{
	free(q->v);
	free(q->names);
	memset(q, 0, sizeof *q);
}

int
inbox_queue_fix(struct inbox *ib, const char *thread, const char *const *names,
    size_t n, struct errbuf *e)
{
	char rel[64], right[INBOX_QUEUE_NAME_MAX];
	json_t *conv;
	size_t i;
	int lk, have = 0;

	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "conv/%s", thread);
	conv = ib_get_record(ib, rel, NULL);
	inbox_queue_name_json(thread, conv, right);
	json_decref(conv);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], right) == 0)
			have = 1;
		else
			unlinkat(ib->sub[IB_QUEUE], names[i], 0);
	if (!have && ib_queue_enter(ib, "", right, 1) < 0) {
		errf(e, "%s/queue/%s: %s", ib->dir, right, strerror(errno));
		ib_unlock(lk);
		return -1;
	}
	ib_unlock(lk);
	return 0;
}

int
inbox_queue_built(struct inbox *ib, struct errbuf *e)
{
	int fd;

	if (fsync(ib->sub[IB_QUEUE]) < 0)
		return errf(e, "%s/queue: fsync: %s", ib->dir,
		    strerror(errno));
	fd = ib_openat_file(ib, ib->sub[IB_QUEUE], IB_QUEUE_BUILT, O_WRONLY |
	    O_CREAT, 0600, NULL);
	if (fd < 0 || close(fd) < 0 || fsync(ib->sub[IB_QUEUE]) < 0)
		return errf(e, "%s/queue/%s: %s", ib->dir, IB_QUEUE_BUILT,
		    strerror(errno));
	return 0;
}
