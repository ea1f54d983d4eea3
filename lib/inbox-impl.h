/*
 * inbox-impl.h: what the modules of the inbox share. Internal to
 * lib/inbox*.c: programs and tests use inbox.h, never this. Its names
 * carry the prefix ib_, for they are global in the library all the same.
 *
 * Every write is write-to-tmp, fsync, then renameat2(2) with
 * RENAME_NOREPLACE (a new name, which fails rather than clobbers) or
 * renameat(2) (a replacement: status/ files, and log files compacted,
 * under the lock that guards them), then an fsync of the directory that
 * got the name. Readers never look in tmp/, so they see whole files or
 * nothing. The exception: a change to a conversation or a message is one
 * line appended to conv/THREAD or msg/THREAD/ID (under the thread's
 * lock), and readers take the file's last whole line (ib_log_append()).
 *
 * A delivery whose journal record has made it durable leaves these
 * fsyncs to the journal's next checkpoint. It says so where it writes:
 * the functions that sync take defer_sync, as a parameter or in the
 * struct staged or struct logf they are given; ib_sync_dir() always
 * syncs, and such a caller does not call it.
 *
 * The modules:
 *   inbox-file.c     files: directories synced and made, records staged
 *                    in tmp/ and named, records read (or quarantined),
 *                    locks
 *   inbox-log.c      log files: records appended as a file's last line
 *   inbox.c          the inbox opened; deliveries, answers, delivery
 *                    reports, consent, conversation updates
 *   inbox-read.c     listings and reads for programs; the sweep
 *   inbox-ledger.c   the ledgers: the index of provider ids and client
 *                    keys (ids/), and the outbox (outbox/.log)
 *   inbox-journal.c  the journal: records, checkpoints, replay
 *   inbox-check.c    the promises checked at rest, and mended
 *                    (inbox-check.h; inbox-backup.c: a consistent copy)
 */
#ifndef INBOX_IMPL_H
#define INBOX_IMPL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"
#include "limit.h"
#include "thread.h"

#define NAME_MAX_LEN 128

/*
 * Made by a writer whose journal got stuck (a sync failed), and kept
 * until a replay finds no journal left at all: while it is there, every
 * writer takes every name as young (ib_young()), for the stuck journal's
 * names may never have been synced.
 */
#define STUCK_FLAG "journal/stuck"

/*
 * A file written into tmp/, waiting for its name. Writing happens in three
 * steps so that a delivery can write all its files, then fsync them all,
 * then name them all, then fsync the directories. On a journaling file
 * system the first fsync of a batch commits the journal for every file
 * written before it, so the later ones cost little; without a journal
 * each fsync writes its own blocks (tests/bench/inbox.sh shows which).
 */
struct staged {
	char tmp[NAME_MAX_LEN + 8];
	int fd;
	int defer_sync;		/* set by the caller: a file of a delivery
				 * its journal record has made durable, whose
				 * fsync is left to the next checkpoint */
};

/*
 * A buffer that whole files are read into: on the stack for one file, or
 * kept from file to file by a listing and grown to fit the largest.
 */
struct rbuf {
	char *p;
	size_t len, cap;
	char *heap;		/* p once it was malloc'd, to free */
};

/*
 * A log file a writer holds open, under its thread's lock, from reading
 * its record to appending the next: one open for both.
 */
struct logf {
	int fd;			/* open for appending; -1: no file yet */
	off_t size;		/* its size */
	off_t good;		/* where its last whole line ends */
	int lazy;		/* an append may go unsynced (losing it is
				 * harmless); a replacement never does */
	int defer_sync;		/* set by the caller: a file of a delivery
				 * its journal record has made durable, whose
				 * syncs (append or replacement) are left to
				 * the next checkpoint */
};

/*
 * The directories inbox_open() holds open, in ib->sub[], by index; their
 * names are ib_subdirs[]. msg/ comes first: it marks an inbox.
 */
enum {
	IB_MSG, IB_TMP, IB_CONV, IB_WORK, IB_IDS, IB_CONSENT, IB_STATUS,
	IB_LOCK, IB_QUARANTINE, IB_OUTBOX, IB_JOURNAL, IB_RATE, IB_ROSTER,
	IB_QUEUE, IB_HISTORY, IB_MEDIA, IB_SERVE, IB_SCHEDULE, IB_CONTACTS,
	IB_PARTS
};
extern const char *const ib_subdirs[INBOX_NSUB];

/*
 * Errors of the path layer (below) that errno has no name for; their
 * words come from ib_strerror(). A symbolic link is ELOOP.
 */
#define IB_ENOTREG EMEDIUMTYPE		/* not a regular file */
#define IB_EUNTRUSTED EKEYREJECTED	/* writable by others, or not ours */

/*
 * The path layer (inbox-file.c). Every file of the inbox is reached from
 * ib->sub[] by a path of the layout, "DIR/NAME" or "DIR/THREAD/NAME",
 * one component at a time: the middle one opened with O_DIRECTORY and
 * O_NOFOLLOW, its owner and mode checked; the last never followed if it
 * is a symbolic link (open with O_NOFOLLOW, stat and link without
 * following). A file opened is refused unless it is a regular file (a
 * FIFO never blocks: opens are O_NONBLOCK). The symbolic links of ids/ and
 * outbox/ are read with ib_link_target(), never followed. Each returns as
 * the system call it stands for, with errno set.
 */
struct ib_at {
	int dfd;		/* the directory holding the last component */
	int own;		/* dfd if opened here (ib_at_done() closes) */
	const char *leaf;	/* the last component, in rel */
};
int ib_at(struct inbox *ib, const char *rel, struct ib_at *a);
void ib_at_done(struct ib_at *a);
int ib_open(struct inbox *ib, const char *rel, int flags, mode_t mode,
    struct stat *st);
int ib_openat_file(struct inbox *ib, int dfd, const char *name, int flags,
    mode_t mode, struct stat *st);
int ib_open_dir(struct inbox *ib, const char *rel);
int ib_open_subdir(int dfd, const char *name);
int ib_stat(struct inbox *ib, const char *rel, struct stat *st);
int ib_unlink(struct inbox *ib, const char *rel, int flags);
int ib_rename(struct inbox *ib, const char *from, const char *to,
    int noreplace, int *moved);
int ib_symlink(struct inbox *ib, const char *to, const char *rel);
ssize_t ib_readlink(struct inbox *ib, const char *rel, char *buf,
    size_t size);
int ib_link_target(struct inbox *ib, const char *rel, char *out,
    size_t size);
int ib_check_dir(struct inbox *ib, const struct stat *st);
const char *ib_strerror(int err);
void ib_stamp(struct inbox *ib, json_t *rec);

/*
 * inbox-file.c (each function's contract is above its definition there).
 * Directories synced and made, and unique names:
 */
int ib_young(struct inbox *ib, int fd);
int ib_sync_dir(struct inbox *ib, const char *rel, struct errbuf *e);
int ib_make_dir(struct inbox *ib, const char *rel, const char *parent,
    int defer_sync, struct errbuf *e);
int ib_share_dir(struct inbox *ib, int dfd, const char *leaf);
void ib_unique_name(const struct inbox *ib, char out[NAME_MAX_LEN]);

/* Records staged in tmp/, synced, and placed under their names: */
char *ib_line_of(const json_t *rec, const char *text, size_t *len);
const char *ib_line_error(int err);
int ib_stage(struct inbox *ib, const json_t *rec, const char *text,
    struct staged *st, struct errbuf *e);
int ib_stage_sync(struct inbox *ib, struct staged *st, struct errbuf *e);
void ib_stage_drop(struct inbox *ib, struct staged *st);
int ib_place(struct inbox *ib, struct staged *st, const char *dir,
    const char *name, int replace, struct errbuf *e);
int ib_put_record(struct inbox *ib, const char *dir, const char *name,
    const json_t *rec, int replace, int defer_sync, struct errbuf *e);

/* Records read, and files that do not parse quarantined: */
int ib_rbuf_read(struct rbuf *b, int fd);
int ib_last_line(const char *p, size_t len, const char **lp, size_t *ll,
    struct errbuf *pe);
int ib_replaced(int dir, const char *name, const struct stat *st);
json_t *ib_get_record(struct inbox *ib, const char *rel, struct errbuf *e);
void ib_quarantine(struct inbox *ib, const char *rel, const char *why,
    const struct stat *bad);

/* The locks, a thread's or a ledger key's: */
unsigned ib_key_bucket(const char *key);
int ib_lock_thread(struct inbox *ib, const char *name, struct errbuf *e);
int ib_lock_file(struct inbox *ib, const char *file, struct errbuf *e);
void ib_unlock(int fd);

/* A message's path, "msg/THREAD/NAME", taken apart (EBADMSG if not). */
int ib_msg_path(const char *path, char thread[32], char name[NAME_MAX_LEN]);

/* inbox-read.c: a directory's names, sorted, dot files left out. */
char **ib_list_names(struct inbox *ib, const char *dir, size_t *n,
    struct errbuf *e);
void ib_free_names(char **v, size_t n);

/*
 * inbox-ledger.c: the ledgers. ib_ledger_find(): where the entry of key
 * (ib_id_key()) says its message is, 0; or -1 with errno ENOENT (none),
 * EBADMSG (one that says nothing of a message) or another. 
 * ib_ledger_add(): key's entry made, thread/NAME, under the key's lock:
 * 1 if made, 0 if one there is kept (the same, or, unless replace,
 * another message's), -1 with e filled; synced unless defer_sync.
 * ib_ledger_drop(): key's entry taken back if it says thread/name.
 * ib_outbox_add(): thread/name put in the outbox, synced unless
 * defer_sync; ib_outbox_add_many(): n of them, thread[i]/name[i], in one
 * write, all or none; ib_outbox_drop(): taken out (unsynced: a drop lost only
 * makes inbox_outbox() look again).
 */
int ib_ledger_find(struct inbox *ib, const char *key, char thread[32],
    char name[NAME_MAX_LEN]);
int ib_ledger_add(struct inbox *ib, const char *key, const char *thread,
    const char *name, int replace, int defer_sync, struct errbuf *e);
void ib_ledger_drop(struct inbox *ib, const char *key, const char *thread,
    const char *name);
int ib_outbox_add(struct inbox *ib, const char *thread, const char *name,
    int defer_sync, struct errbuf *e);
int ib_outbox_add_many(struct inbox *ib, const char *const *thread,
    const char *const *name, size_t n, int defer_sync, struct errbuf *e);
void ib_outbox_drop(struct inbox *ib, const char *thread, const char *name);

/*
 * inbox-queue.c: queue/, the index of the working set (inbox.h,
 * inbox_queue_read(), inbox_queue_name()). A writer that changes a
 * conversation calls ib_queue_enter(was, now) before it writes the change
 * (now made, synced with queue/ if sync: the change will be synced, not
 * left to a checkpoint) and ib_queue_leave(was, now) once it is written
 * (was removed), both under the thread's lock; ib_queue_move() does both
 * at once by a rename, for a writer whose changes are synced together
 * later under inbox_queue_suspend(). ib_queue_enter() and ib_queue_move()
 * return 0, or -1 with errno: the change must not be made.
 */
#define IB_QUEUE_BUILT ".built"
int ib_queue_enter(struct inbox *ib, const char *was, const char *now,
    int sync);
void ib_queue_leave(struct inbox *ib, const char *was, const char *now);
int ib_queue_move(struct inbox *ib, const char *was, const char *now);

/* inbox-log.c: log files, whose record is their last line. */
json_t *ib_log_read(struct inbox *ib, const char *rel, struct logf *lf,
    struct errbuf *e);
int ib_log_append(struct inbox *ib, const char *dir, const char *name,
    struct logf *lf, const json_t *rec, const char *text, struct errbuf *e);
int ib_log_put(struct inbox *ib, const char *dir, const char *name,
    const json_t *rec, struct errbuf *e);
int ib_log_appends(const struct logf *lf, size_t len);
int ib_log_unappend(struct inbox *ib, const char *rel, off_t good);

/* inbox.c: names checked and made, and outbound messages. */
int ib_id_key(const char *provider, const char *pid, char out[NAME_MAX_LEN]);
int ib_outbound_pending(const json_t *msg);

/*
 * inbox-schedule.c: schedule/, the index of scheduled messages (inbox.h,
 * inbox_schedule_list()). ib_schedule_enter(): the name of msg, if it is
 * scheduled, made (its hour's bucket too), synced if sync (else left to
 * the checkpoint that makes its message durable, or to the journal's
 * replay); 0, or -1 with e filled. ib_schedule_sweep(): the empty
 * buckets of hours before now's removed, counted in *removed.
 */
int ib_schedule_enter(struct inbox *ib, const json_t *msg, int sync,
    struct errbuf *e);
int ib_schedule_sweep(struct inbox *ib, time_t now, size_t *removed,
    struct errbuf *e);
/* The bucket and name of scheduled message msg in schedule/: 0, or -1
 * with errno EINVAL (no send_at, or an id that cannot be in a name). */
#define IB_SCHEDULE_BUCKET_LEN 11
int ib_schedule_name(const json_t *msg, char bucket[IB_SCHEDULE_BUCKET_LEN + 1],
    char name[NAME_MAX_LEN * 2]);

/* inbox.c: what a message does to its conversation, and work/;
 * ib_wake(): a snooze run out ended by a change (its contract is above
 * its definition). */
void ib_apply_message(json_t *conv, const json_t *msg);
int ib_wake(const json_t *before, json_t *conv);
/*
 * A scheduled message of thread, msg, claimed to be sent now (the caller
 * holds the thread's lock): the conversation gets what an outbound
 * message gives it when stored (last_body, last_out_at or last_auto_at),
 * which a scheduled one did not. A failure is reported (struct inbox's
 * report), not returned: the message's change stands.
 */
void ib_conversation_sending(struct inbox *ib, const char *thread,
    const json_t *msg);
int ib_is_resolved(const json_t *conv);
int ib_work_join(struct inbox *ib, const char *thread, int *created,
    struct errbuf *e);
int ib_write_conversation(struct inbox *ib, const char *thread, json_t *conv,
    const char *was, const json_t *before, struct logf *lf,
    struct errbuf *e);

/*
 * inbox-history.c: history/, the append-only events (inbox.h,
 * inbox_history_each()). ib_history_note(): the event lines of one change
 * of thread's conversation, from b (before; NULL: it had none) to a
 * (after), made by msg (the message stored, or NULL), appended to out;
 * times are the records' own, now for a change that has none. 0, or -1
 * with errno ENOMEM. ib_history_stamp(): a (after b) gets "resolved_at"
 * now if the change resolves it. ib_history_write(): the lines text (len
 * bytes, as ib_history_note() made them) appended to their day files,
 * synced unless defer_sync. ib_history_has(): whether the day file of
 * the message event line text already holds it (for a replay); seen
 * keeps the day file last read (what it held, read again only past its
 * end), so a replay of many records reads each day once: zeroed before
 * the first call, ib_history_seen_free() after the last.
 */
struct buf;
struct ib_history_seen {
	char day[11];		/* "YYYY-MM-DD" read, or "" */
	char *p;		/* its bytes, */
	size_t len, cap;	/* as far as they were read */
};
int ib_history_note(struct buf *out, const char *thread, const json_t *b,
    const json_t *a, const json_t *msg, const char *now);
void ib_history_stamp(const json_t *b, json_t *a, const char *now);
/*
 * ib_history_message(): the event of a change of a scheduled message, b
 * (before) to a (after), appended to out: claimed to be sent (now
 * "queued"), its message event, as a delivery's; "canceled"; or
 * "rescheduled" (a new send_at). 0, or -1 with errno ENOMEM.
 */
int ib_history_message(struct buf *out, const char *thread, const json_t *b,
    const json_t *a, const char *now);
int ib_history_write(struct inbox *ib, const char *text, size_t len,
    int defer_sync, struct errbuf *e);
int ib_history_has(struct inbox *ib, struct ib_history_seen *seen,
    const char *text, size_t len);
void ib_history_seen_free(struct ib_history_seen *seen);

/*
 * inbox-survey.c: surveys (inbox.h, inbox_survey_answer()).
 * ib_survey_check(): msg's "survey", if it has one, is one (an outbound
 * message's {scale, until, agent, resolved_at}): 0, or -1 with errno
 * EINVAL and e filled. ib_survey_mark(): whether inbound msg answers
 * conv's open survey or comments its last answer: 1 with msg's "csat"
 * set ({survey, score, comment} or {survey, comment: true}), 0 (any
 * "csat" msg came with removed), -1 with errno ENOMEM. ib_survey_apply():
 * what msg does to conv's survey (ib_apply_message() calls it): an
 * outbound survey opens one, an answer closes it into "csat", a comment
 * completes "csat".
 */
int ib_survey_check(const json_t *msg, struct errbuf *e);
int ib_survey_mark(const json_t *conv, json_t *msg);
void ib_survey_apply(json_t *conv, const json_t *msg);

/* inbox-journal.c: a delivery's journal record, and its undoing. */
int ib_journaling(struct inbox *ib);
int inbox_journal_record(struct inbox *ib, const char *mtext,
    const char *ctext, const char *htext, size_t hlen, int *slot,
    off_t *end, struct errbuf *e);
int inbox_journal_sync(struct inbox *ib, int slot, off_t end,
    struct errbuf *e);
void inbox_journal_cancel(struct inbox *ib, const char *name, int half);

#endif
