/*
 * inbox-schedule.c: schedule/, the index of the messages to send later
 * (smsdesk-inbox(5), Scheduled messages), and the changes of a
 * scheduled message.
 *
 * A scheduled message is a message file like any other, msg/THREAD/ID,
 * with "status": "scheduled" and "send_at". The index gives each one an
 * empty file schedule/HOUR/SENDAT,THREAD,ID, HOUR the UTC hour of its
 * send_at (YYYYMMDDTHH) and SENDAT its second (YYYYMMDDTHHMMSSZ), so
 * that `sms-send --due` with nothing due reads the names of schedule/
 * (one a bucket, an hour that holds something) and the buckets at or
 * before now only: its cost grows with what is due, not with what is
 * scheduled.
 *
 * As queue/ (inbox-queue.c), the message files are the truth, and the
 * index may say more than they do, never less: a new name is made
 * before the message (or the change) that it indexes, synced with it
 * (a journaled delivery's by the checkpoint, or made again by the
 * journal's replay); an old name is removed after the change; and a
 * reader that finds a name stale (no such message, or one that is no
 * longer scheduled then) removes it, under the thread's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "inbox-impl.h"
#include "record.h"
#include "when.h"

#define SENDAT_LEN 16		/* "YYYYMMDDTHHMMSSZ" */
#define BUCKET_LEN 11		/* "YYYYMMDDTHH" */

int
inbox_is_scheduled(const json_t *msg)
{
	const char *st = record_str(msg, "status");
	const char *dir = record_str(msg, "direction");

	return st && strcmp(st, "scheduled") == 0 && dir &&
	    strcmp(dir, "out") == 0;
}

/* t as SENDAT, "YYYYMMDDTHHMMSSZ". */
static void
sendat_of(time_t t, char out[SENDAT_LEN + 1])
{
	char w[WHEN_BUFSZ];
	size_t i, k = 0;

	when_format(t, w);
	for (i = 0; w[i]; i++)
		if (w[i] != '-' && w[i] != ':')
			out[k++] = w[i];
	out[k] = '\0';
}

/*
 * The index name of message id of thread, to go at send_at: "HOUR" in
 * bucket, "SENDAT,THREAD,ID" in name. 0, or -1 (errno EINVAL) if send_at
 * is no time or the id cannot be part of a name.
 */
static int
name_of(const char *thread, const char *id, const char *send_at,
    char bucket[BUCKET_LEN + 1], char name[NAME_MAX_LEN * 2])
{
	char sa[SENDAT_LEN + 1];
	time_t t;

	if (!send_at || !thread || !thread_valid(thread) || !id || !*id ||
	    *id == '.' || strchr(id, '/') || strlen(id) >= NAME_MAX_LEN ||
	    when_parse(send_at, &t, NULL) < 0)
		return errno = EINVAL, -1;
	sendat_of(t, sa);
	snprintf(bucket, BUCKET_LEN + 1, "%.*s", BUCKET_LEN, sa);
	snprintf(name, NAME_MAX_LEN * 2, "%s,%s,%s", sa, thread, id);
	return 0;
}

/* The index name of scheduled message msg (name_of()). */
int
ib_schedule_name(const json_t *msg, char bucket[BUCKET_LEN + 1],
    char name[NAME_MAX_LEN * 2])
{
	return name_of(record_str(msg, "thread"), record_str(msg, "id"),
	    record_str(msg, "send_at"), bucket, name);
}

int
ib_schedule_enter(struct inbox *ib, const json_t *msg, int sync,
    struct errbuf *e)
{
	char bucket[BUCKET_LEN + 1], name[NAME_MAX_LEN * 2];
	char rel[sizeof "schedule/" + BUCKET_LEN];
	int fd = -1, dfd, tries;

	if (!inbox_is_scheduled(msg))
		return 0;
	if (ib_schedule_name(msg, bucket, name) < 0)
		return errf(e, "\"send_at\": not a time");
	snprintf(rel, sizeof rel, "schedule/%s", bucket);
	/* A sweep may take an empty bucket away meanwhile: once more. */
	for (tries = 0; tries < 3; tries++) {
		if (ib_make_dir(ib, rel, "schedule", !sync, e) < 0)
			return -1;
		if ((dfd = ib_open_dir(ib, rel)) < 0) {
			if (errno == ENOENT)
				continue;
			return errf(e, "%s/%s: %s", ib->dir, rel,
			    ib_strerror(errno));
		}
		fd = ib_openat_file(ib, dfd, name, O_WRONLY | O_CREAT, 0600,
		    NULL);
		if (fd >= 0 && close(fd) == 0 && (!sync || fsync(dfd) == 0)) {
			close(dfd);
			return 0;
		}
		if (fd < 0 && errno == ENOENT) {
			close(dfd);
			continue;
		}
		errf(e, "%s/%s/%s: %s", ib->dir, rel, name,
		    ib_strerror(errno));
		close(dfd);
		return -1;
	}
	return errf(e, "%s/%s: %s", ib->dir, rel, strerror(ENOENT));
}

/* Remove the index name of message id of thread at send_at, if any. */
static void
leave(struct inbox *ib, const char *thread, const char *id,
    const char *send_at)
{
	char bucket[BUCKET_LEN + 1], name[NAME_MAX_LEN * 2];
	char rel[sizeof "schedule/" + BUCKET_LEN + NAME_MAX_LEN * 2];

	if (name_of(thread, id, send_at, bucket, name) < 0)
		return;
	snprintf(rel, sizeof rel, "schedule/%s/%s", bucket, name);
	ib_unlink(ib, rel, 0);
}

/* Entry d from index name s; 0, or -1 if it is none of the index's. */
static int
parse(const char *s, struct inbox_due *d)
{
	const char *c1 = s + SENDAT_LEN, *c2;

	if (strlen(s) <= SENDAT_LEN + 2 || *c1 != ',' || s[8] != 'T' ||
	    s[15] != 'Z' || !(c2 = strchr(c1 + 1, ',')) ||
	    (size_t)(c2 - c1 - 1) >= sizeof d->thread ||
	    strlen(c2 + 1) >= sizeof d->id || !c2[1])
		return -1;
	if (strspn(s, "0123456789") != 8 || strspn(s + 9, "0123456789") != 6)
		return -1;
	snprintf(d->send_at, sizeof d->send_at, "%.4s-%.2s-%.2sT%.2s:%.2s:"
	    "%.2sZ", s, s + 4, s + 6, s + 9, s + 11, s + 13);
	snprintf(d->thread, sizeof d->thread, "%.*s", (int)(c2 - c1 - 1),
	    c1 + 1);
	snprintf(d->id, sizeof d->id, "%s", c2 + 1);
	return thread_valid(d->thread) ? 0 : -1;
}

static int
by_name(const void *a, const void *b)
{
	const struct inbox_due *x = a, *y = b;
	int c = strcmp(x->send_at, y->send_at);

	if (c)
		return c;
	if ((c = strcmp(x->thread, y->thread)))
		return c;
	return strcmp(x->id, y->id);
}

int
inbox_schedule_list(struct inbox *ib, time_t until, struct inbox_due **out,
    size_t *nout, struct errbuf *e)
{
	char last[SENDAT_LEN + 1], rel[sizeof "schedule/" + BUCKET_LEN];
	char **buckets, **names;
	struct inbox_due *v = NULL, *nv;
	size_t nb, nn, i, k, cap = 0, n = 0;

	*out = NULL;
	*nout = 0;
	if (until >= 0)
		sendat_of(until, last);
	if (!(buckets = ib_list_names(ib, "schedule", &nb, e)))
		return -1;
	for (i = 0; i < nb; i++) {
		/* Sorted: the buckets past until's hour hold nothing due. */
		if (strlen(buckets[i]) != BUCKET_LEN)
			continue;
		if (until >= 0 && strncmp(buckets[i], last, BUCKET_LEN) > 0)
			break;
		snprintf(rel, sizeof rel, "schedule/%s", buckets[i]);
		if (!(names = ib_list_names(ib, rel, &nn, e))) {
			if (errno == ENOENT)
				continue;	/* swept meanwhile */
			ib_free_names(buckets, nb);
			free(v);
			return -1;
		}
		for (k = 0; k < nn; k++) {
			if (until >= 0 && strncmp(names[k], last,
			    SENDAT_LEN) > 0)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				if (!(nv = realloc(v, cap * sizeof *v))) {
					ib_free_names(names, nn);
					ib_free_names(buckets, nb);
					free(v);
					return errno = ENOMEM, errf(e, "%s",
					    strerror(ENOMEM));
				}
				v = nv;
			}
			if (parse(names[k], &v[n]) == 0)
				n++;
		}
		ib_free_names(names, nn);
	}
	ib_free_names(buckets, nb);
	if (n > 1)
		qsort(v, n, sizeof *v, by_name);
	*out = v;
	*nout = n;
	return 0;
}

/*
 * Whether msg is a scheduled message claimed to be sent that never
 * reached the provider: queued (or unknown) with no provider id.
 */
static int
unsent_claim(const json_t *msg)
{
	const char *st = record_str(msg, "status");

	return st && (strcmp(st, "queued") == 0 || strcmp(st, "unknown") ==
	    0) && !record_str(msg, "provider_id") &&
	    record_str(msg, "send_at") && record_str(msg, "direction") &&
	    strcmp(record_str(msg, "direction"), "out") == 0;
}

/*
 * inbox_schedule_change(), and with again, inbox_schedule_again(): the
 * message may be an unsent claim (unsent_claim()) instead.
 */
static int
change(struct inbox *ib, const char *thread, const char *id,
    const char *listed_at, int again, inbox_schedule_fn fn, void *arg,
    json_t **after, struct errbuf *e)
{
	char rel[PATH_MAX], at[WHEN_BUFSZ], *was_at = NULL;
	char b1[BUCKET_LEN + 1], n1[NAME_MAX_LEN * 2];
	char b2[BUCKET_LEN + 1], n2[NAME_MAX_LEN * 2];
	struct buf h = { 0 };
	struct logf lf;
	json_t *msg = NULL, *before = NULL;
	const char *st;
	int lk, rc = -1, moved;

	*after = NULL;
	if (!thread_valid(thread) || !id || !*id || strchr(id, '/') ||
	    *id == '.')
		return errno = EINVAL, errf(e, "no such message");
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, id);
	if (!(msg = ib_log_read(ib, rel, &lf, e))) {
		if (errno == ENOENT || errno == EBADMSG) {
			/* Stale: its message was never stored, or is gone. */
			if (listed_at)
				leave(ib, thread, id, listed_at);
			rc = 2;
		}
		goto out;
	}
	if (!(again ? unsent_claim(msg) : inbox_is_scheduled(msg)) ||
	    ib_schedule_name(msg, b1, n1) < 0) {
		close(lf.fd);
		if (listed_at)
			leave(ib, thread, id, listed_at);
		*after = json_incref(msg);
		rc = 2;
		goto out;
	}
	/* Listed under another time than it has now: that name is stale. */
	if (listed_at && strcmp(listed_at, record_str(msg, "send_at")) != 0)
		leave(ib, thread, id, listed_at);
	if (!(before = json_deep_copy(msg)) ||
	    !(was_at = strdup(record_str(msg, "send_at")))) {
		close(lf.fd);
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		goto out;
	}
	if ((rc = fn(msg, arg, e)) != 0) {
		close(lf.fd);
		if (rc > 0)
			*after = json_incref(msg);
		goto out;
	}
	rc = -1;
	st = record_str(msg, "status");
	moved = inbox_is_scheduled(msg);
	if (moved && ib_schedule_name(msg, b2, n2) < 0) {
		close(lf.fd);
		errno = EINVAL;
		errf(e, "\"send_at\": not a time");
		goto out;
	}
	ib_stamp(ib, msg);
	when_format(when_now(), at);
	/* The change's events first: the history never says less. */
	if (ib_history_message(&h, thread, before, msg, at) < 0) {
		close(lf.fd);
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		goto out;
	}
	if (h.len && ib_history_write(ib, h.p, h.len, 0, e) < 0) {
		close(lf.fd);
		goto out;
	}
	if (moved && ib_schedule_enter(ib, msg, 1, e) < 0) {
		close(lf.fd);
		goto out;
	}
	/*
	 * Claimed to be sent: in outbox/ before the message says so, for
	 * --reconcile to find it whatever happens after (an entry whose
	 * message is still scheduled is kept: inbox-ledger.c).
	 */
	if (st && strcmp(st, "queued") == 0 &&
	    ib_outbox_add(ib, thread, id, 0, e) < 0) {
		close(lf.fd);
		goto out;
	}
	lf.lazy = 0;
	lf.defer_sync = 0;
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_log_append(ib, rel, id, &lf, msg, NULL, e) < 0)
		goto out;
	if (!moved || strcmp(n1, n2) != 0)
		leave(ib, thread, id, was_at);
	if (st && strcmp(st, "queued") == 0)
		ib_conversation_sending(ib, thread, msg);
	else if (!moved || again)
		ib_outbox_drop(ib, thread, id);
	*after = json_incref(msg);
	rc = 0;
out:
	buf_free(&h);
	free(was_at);
	json_decref(before);
	json_decref(msg);
	ib_unlock(lk);
	return rc;
}

int
inbox_schedule_change(struct inbox *ib, const char *thread, const char *id,
    const char *listed_at, inbox_schedule_fn fn, void *arg, json_t **after,
    struct errbuf *e)
{
	return change(ib, thread, id, listed_at, 0, fn, arg, after, e);
}

/* inbox_schedule_again()'s change: scheduled again, as it was. */
static int
unclaim(json_t *msg, void *arg, struct errbuf *e)
{
	(void)arg;
	(void)e;
	json_object_set_new(msg, "status", json_string("scheduled"));
	json_object_del(msg, "error");
	return 0;
}

int
inbox_schedule_again(struct inbox *ib, const char *thread, const char *id,
    json_t **after, struct errbuf *e)
{
	return change(ib, thread, id, NULL, 1, unclaim, NULL, after, e);
}

int
ib_schedule_sweep(struct inbox *ib, time_t now, size_t *removed,
    struct errbuf *e)
{
	char last[SENDAT_LEN + 1], **names;
	char rel[sizeof "schedule/" + BUCKET_LEN];
	size_t n, i;

	*removed = 0;
	sendat_of(now, last);
	if (!(names = ib_list_names(ib, "schedule", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		/* Older than now's hour, and empty: rmdir(2) says which. */
		if (strlen(names[i]) != BUCKET_LEN ||
		    strncmp(names[i], last, BUCKET_LEN) >= 0)
			continue;
		snprintf(rel, sizeof rel, "schedule/%s", names[i]);
		if (ib_unlink(ib, rel, AT_REMOVEDIR) == 0)
			(*removed)++;
	}
	ib_free_names(names, n);
	return 0;
}
