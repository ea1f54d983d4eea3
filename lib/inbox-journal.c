/*
 * inbox-journal.c: the inbox's side of its write-ahead log (journal.h).
 * A journaled delivery appends one line, {message, conversation after
 * it}, and is durable once that line is: its files are written as ever,
 * their syncs left to the checkpoint that a ticker (every.h) makes every
 * second. A delivery that fails after its line went in voids it with a
 * "cancel" line beside it. inbox_recover() replays the journals of
 * writers that died before their checkpoint, redoing only what is not
 * done.
 *
 * Relies on inbox-file.c for records and locks, and on inbox.c for what
 * a message does to its conversation (ib_apply_message(),
 * ib_write_conversation()), and on inbox-ledger.c for the entries of
 * ids/ and outbox/ (ib_ledger_add(), ib_outbox_add()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "every.h"
#include "inbox-impl.h"
#include "inbox.h"
#include "journal.h"
#include "record.h"

/*
 * Whether this writer's changes go through its journal: not once a sync
 * of it failed, for then it is kept as it is for the next replay, and
 * what follows is synced file by file.
 */
int
ib_journaling(struct inbox *ib)
{
	return ib->journal && !journal_stuck(ib->journal);
}

/*
 * If this writer's journal is stuck, say so to every writer (STUCK_FLAG),
 * durably. Called where a sync of the journal may just have failed; the
 * flag may be made more than once.
 */
static void
flag_stuck(struct inbox *ib)
{
	struct errbuf e;
	int fd;

	if (!ib->journal || !journal_stuck(ib->journal))
		return;
	fd = ib_open(ib, STUCK_FLAG, O_WRONLY | O_CREAT, 0600, NULL);
	if (fd < 0 || close(fd) < 0 || ib_sync_dir(ib, JOURNAL_DIR, &e) < 0) {
		if (ib->report)
			ib->report(ib->report_arg, "a stuck journal could not "
			    "be flagged to other writers");
	}
}

/* rc, a journal call's, once a failure is flagged (flag_stuck()); errno
 * is the call's, not the flag's: the caller reads it. */
static int
flagged(struct inbox *ib, int rc)
{
	if (rc < 0) {
		int saved = errno;

		flag_stuck(ib);
		errno = saved;
	}
	return rc;
}

/*
 * Append {message, conversation after it, history: its events} to the
 * journal, not yet durably (inbox_journal_sync() waits for that): mtext
 * and ctext are the two records written out, htext (hlen bytes) the
 * change's lines for history/, as a string; *end is where the record
 * ends in *slot's file.
 */
int
inbox_journal_record(struct inbox *ib, const char *mtext, const char *ctext,
    const char *htext, size_t hlen, int *slot, off_t *end, struct errbuf *e)
{
	struct buf b = { 0 };
	int rc;

	buf_adds(&b, "{\"type\":\"journal\",\"message\":");
	buf_adds(&b, mtext);
	buf_adds(&b, ",\"conversation\":");
	buf_adds(&b, ctext);
	if (hlen) {
		buf_adds(&b, ",\"history\":");
		buf_add_jstr(&b, htext, hlen);
	}
	buf_addc(&b, '}');
	if (b.err) {
		buf_free(&b);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	rc = journal_write(ib->journal, -1, b.p, b.len, slot, end, e);
	buf_free(&b);
	return flagged(ib, rc);
}

/* Wait until the record inbox_journal_record() wrote is durable. */
int
inbox_journal_sync(struct inbox *ib, int slot, off_t end, struct errbuf *e)
{
	return flagged(ib, journal_sync(ib->journal, slot, end, e));
}

int
inbox_sync_journal(struct inbox *ib, struct errbuf *e)
{
	return ib->journal ? flagged(ib, journal_sync_all(ib->journal, e)) :
	    0;
}

/*
 * Say in the journal that the record of message name, in the file of
 * slot half, is void: beside it, so that a replay of that file sees both.
 */
void
inbox_journal_cancel(struct inbox *ib, const char *name, int half)
{
	json_t *j = json_pack("{s:s,s:s}", "type", "cancel", "id", name);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct errbuf e;
	int slot = -1;

	json_decref(j);
	if ((!s || journal_append_to(ib->journal, half, s, strlen(s), &slot,
	    &e) < 0) && ib->report)
		ib->report(ib->report_arg, s ? e.msg : strerror(ENOMEM));
	if (slot >= 0)
		journal_done(ib->journal, slot);
	free(s);
}

/*
 * Called every second while the journal is open (every.h): besides
 * bounding what a replay redoes, this keeps "made in the last minute"
 * (ib_young()) a safe sign of a name not yet durable, however seldom the
 * writer delivers.
 */
static void
tick(void *arg)
{
	struct inbox *ib = arg;
	struct errbuf e;

	if (inbox_checkpoint(ib, &e) < 0 && ib->report)
		ib->report(ib->report_arg, e.msg);
}

int
inbox_journal_start(struct inbox *ib, struct errbuf *e)
{
	char name[NAME_MAX_LEN];

	if (ib->journal)
		return 0;
	ib_unique_name(ib, name);
	if (!(ib->journal = journal_open(ib->fd, ib->dir, name, e)))
		return -1;
	if (!(ib->ticker = every_start(ib->tick_ms ? ib->tick_ms / 1000.0 :
	    1.0, tick, ib))) {
		int saved = errno;

		journal_close(ib->journal, NULL);
		ib->journal = NULL;
		errno = saved;
		return errf(e, "cannot start the checkpoint thread: %s",
		    strerror(errno));
	}
	return 0;
}

int
inbox_checkpoint(struct inbox *ib, struct errbuf *e)
{
	if (!ib->journal)
		return 0;
	if (journal_checkpoint(ib->journal, e) < 0) {
		flag_stuck(ib);
		return -1;
	}
	return 0;
}

int
inbox_journal_stats(struct inbox *ib, struct journal_stats *st)
{
	if (!ib->journal)
		return -1;
	journal_stats(ib->journal, st);
	return 0;
}

int
inbox_probe(struct inbox *ib, struct errbuf *e)
{
	char name[NAME_MAX_LEN], rel[NAME_MAX_LEN + 16];
	int fd, saved;

	ib_unique_name(ib, name);
	snprintf(rel, sizeof rel, "tmp/probe-%s", name);
	fd = openat(ib->fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(e, "%s/tmp: %s", ib->dir, strerror(errno));
	saved = write(fd, "", 1) == 1 ? 0 : errno ? errno : ENOSPC;
	if (close(fd) < 0 && !saved)
		saved = errno;
	if (unlinkat(ib->fd, rel, 0) < 0 && !saved)
		saved = errno;
	if (saved) {
		errno = saved;
		return errf(e, "%s/tmp: %s", ib->dir, strerror(saved));
	}
	return 0;
}

int
inbox_journal_stop(struct inbox *ib, struct errbuf *e)
{
	int rc;

	every_stop(ib->ticker);
	ib->ticker = NULL;
	rc = journal_close(ib->journal, e);
	ib->journal = NULL;
	return rc;
}

struct replay {
	struct inbox *ib;
	size_t records, skipped;
	json_t *lines;		/* the current journal's records, in order */
	struct ib_history_seen seen;	/* the day file last looked in */
};

static json_int_t
messages_of(const json_t *conv)
{
	return json_integer_value(json_object_get(conv, "messages"));
}

/*
 * Redo one journal record {message, conversation} under the thread's
 * lock, durably, doing only what is not done: the message file if it is
 * missing (or was quarantined); a message to send's client key and, if
 * the message is still pending, its outbox/ entry (while it is
 * scheduled, its schedule/ name); the conversation's
 * part, if its record has fewer messages than the journaled one (a
 * record that is missing altogether is the journaled one), applied to
 * the record as it is, so that changes made since (a status, an
 * assignee) stay; work/ in step; the ledger entry; its lines for
 * history/, if their day file lacks them.
 */
static int
replay_one(struct replay *r, json_t *j, struct errbuf *e)
{
	struct inbox *ib = r->ib;
	json_t *msg = json_object_get(j, "message"), *have = NULL;
	json_t *image = json_object_get(j, "conversation");
	json_t *hist = json_object_get(j, "history");
	const char *thread = record_str(msg, "thread");
	const char *name = record_str(msg, "id");
	const char *provider = record_str(msg, "provider");
	const char *pid = record_str(msg, "provider_id");
	const char *client = record_str(msg, "key");
	char rel[PATH_MAX], key[NAME_MAX_LEN], ckey[NAME_MAX_LEN];
	char was[INBOX_QUEUE_NAME_MAX];
	char say[200];
	int lk, rc = -1, created;

	if (!json_is_object(msg) || !json_is_object(image) ||
	    !thread_valid(thread) || !name || !*name || strchr(name, '/') ||
	    *name == '.' || (provider && pid && ib_id_key(provider, pid, key) <
	    0) || (client && ib_id_key("key", client, ckey) < 0)) {
		r->skipped++;
		snprintf(say, sizeof say, "%s/%s: a record that is not a "
		    "delivery; skipped", ib->dir, JOURNAL_DIR);
		if (ib->report)
			ib->report(ib->report_arg, say);
		return 0;
	}
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_make_dir(ib, rel, "msg", 0, e) < 0)
		goto out;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	if (!(have = ib_get_record(ib, rel, NULL))) {
		snprintf(rel, sizeof rel, "msg/%s", thread);
		if (ib_put_record(ib, rel, name, msg, 1, 0, e) < 0)
			goto out;
	}
	/*
	 * A message to send: its client key, and its outbox/ entry while
	 * it is pending as found (a settled one has lost its entry).
	 */
	if ((client && ib_ledger_add(ib, ckey, thread, name, 0, 0, e) < 0) ||
	    (ib_outbound_pending(have ? have : msg) && ib_outbox_add(ib,
	    thread, name, 0, e) < 0) ||
	    ib_schedule_enter(ib, have ? have : msg, 1, e) < 0)
		goto out;
	json_decref(have);
	have = NULL;
	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!(have = ib_get_record(ib, rel, NULL))) {
		if (ib_write_conversation(ib, thread, image, "", NULL, NULL,
		    e) < 0)
			goto out;
	} else if (messages_of(have) < messages_of(image)) {
		inbox_queue_name_json(thread, have, was);
		ib_apply_message(have, msg);
		if (ib_write_conversation(ib, thread, have, was, NULL, NULL,
		    e) < 0)
			goto out;
	} else {
		/* Written before the crash: its queue/ name may not be. */
		inbox_queue_name_json(thread, have, was);
		if (ib_queue_enter(ib, "", was, 1) < 0) {
			errf(e, "%s/queue/%s: %s", ib->dir, was,
			    strerror(errno));
			goto out;
		}
		if (!ib_is_resolved(have) && (ib_work_join(ib, thread,
		    &created, e) < 0 || (created && ib_sync_dir(ib, "work",
		    e) < 0)))
			goto out;
	}
	if (provider && pid &&
	    ib_ledger_add(ib, key, thread, name, 0, 0, e) < 0)
		goto out;
	/* Its events, unless their day file has them (a checkpoint came). */
	if (json_is_string(hist) && json_string_length(hist) &&
	    !ib_history_has(ib, &r->seen, json_string_value(hist),
	    json_string_length(hist)) && ib_history_write(ib,
	    json_string_value(hist), json_string_length(hist), 0, e) < 0)
		goto out;
	r->records++;
	rc = 0;
out:
	json_decref(have);
	ib_unlock(lk);
	return rc;
}

/*
 * A journal's lines are gathered until its end (line NULL), then redone
 * in order, but for those a later "cancel" line voids (a delivery that
 * failed after its record went in, and was answered 503).
 */
static int
replay_line(const char *line, size_t len, void *arg, struct errbuf *e)
{
	struct replay *r = arg;
	size_t i, k;
	json_t *j, *c;
	int rc = 0;

	if (line) {
		/* jansson skips a NUL after a number: such a line is torn. */
		j = memchr(line, '\0', len) ? NULL :
		    json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
		json_array_append_new(r->lines, j ? j : json_null());
		return 0;
	}
	json_array_foreach(r->lines, i, j) {
		const char *type = record_str(j, "type");
		const char *id = record_str(j, "id"), *cid;

		if (!type || strcmp(type, "cancel") != 0 || !id)
			continue;
		for (k = 0; k < i; k++) {
			c = json_object_get(json_array_get(r->lines, k),
			    "message");
			if ((cid = record_str(c, "id")) && strcmp(cid, id) == 0)
				json_array_set_new(r->lines, k, json_string(
				    "cancelled"));
		}
	}
	json_array_foreach(r->lines, i, j) {
		const char *type = record_str(j, "type");

		if (json_is_string(j) || (type && strcmp(type, "cancel") == 0))
			continue;
		if ((rc = replay_one(r, j, e)) < 0)
			break;
	}
	json_array_clear(r->lines);
	return rc;
}

/*
 * Take STUCK_FLAG away if no journal is left at all, not even a live
 * writer's: a stuck one is kept until it is replayed. Under lock/replay.
 */
static void
unflag_stuck(struct inbox *ib)
{
	struct dirent *d;
	DIR *dp;
	int fd, others = 0;

	if (ib_stat(ib, STUCK_FLAG, &(struct stat){ 0 }) < 0 ||
	    (fd = ib_open_dir(ib, JOURNAL_DIR)) < 0)
		return;
	if (!(dp = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((d = readdir(dp)))
		others += d->d_name[0] != '.' && strcmp(d->d_name, "stuck");
	closedir(dp);
	if (!others)
		ib_unlink(ib, STUCK_FLAG, 0);
}

/*
 * A journal that is not a regular file (journal_replay() passes it over):
 * planted, for no writer makes one. Moved to quarantine/ and reported
 * there, once; writers go on.
 */
static void
skip_planted(const char *name, const struct stat *st, void *arg)
{
	struct replay *r = arg;
	char rel[NAME_MAX_LEN + sizeof JOURNAL_DIR + 1];
	const char *what = S_ISLNK(st->st_mode) ?
	    "a symbolic link (not followed)" : "not a regular file";

	snprintf(rel, sizeof rel, "%s/%s", JOURNAL_DIR, name);
	r->skipped++;
	ib_quarantine(r->ib, rel, what, st);
}

int
inbox_recover(struct inbox *ib, size_t *records, struct errbuf *e)
{
	struct replay r = { .ib = ib, .lines = json_array() };
	size_t files;
	int rc, lk;

	if (!r.lines)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	/*
	 * One replay at a time: a journal being replayed is flock(2)ed like
	 * a live writer's, and a program starting meanwhile must not take
	 * it for one and go on before what it holds is back in place.
	 */
	if ((lk = ib_open(ib, "lock/replay", O_RDWR | O_CREAT, 0600,
	    NULL)) < 0 ||
	    flock(lk, LOCK_EX) < 0) {
		rc = errf(e, "%s/lock/replay: %s", ib->dir,
		    ib_strerror(errno));
		if (lk >= 0)
			close(lk);
		json_decref(r.lines);
		return rc;
	}
	rc = journal_replay(ib->fd, ib->dir, replay_line, skip_planted, &r,
	    &files, e);
	if (rc == 0)
		unflag_stuck(ib);
	close(lk);
	json_decref(r.lines);
	ib_history_seen_free(&r.seen);
	if (records)
		*records = r.records;
	return rc;
}
