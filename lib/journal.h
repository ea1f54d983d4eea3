/*
 * journal.h: a write-ahead log with group commit, for the inbox.
 *
 * A writer that must make something durable before it answers (sms-recv's
 * 200 to the provider) appends one line describing it to its journal and
 * waits for fdatasync(2); threads that append while a sync is running
 * share the next one. The writer then writes its files without syncing
 * them. A checkpoint, now and then, makes those files durable with one
 * syncfs(2) and empties the journal; a writer that dies before one
 * leaves its journal behind, and the next writer replays it (see
 * inbox_recover()). One appended record costs one data sync instead of
 * the four a file-by-file delivery takes.
 *
 * Each writer owns two files, JOURNAL_DIR/NAME.0 and NAME.1, flock(2)ed
 * for as long as it lives: appends go to one while the other, switched
 * away from, is checkpointed and truncated. Records are lines (the caller
 * gives them without their newline); a line cut short by a crash is
 * skipped on replay.
 *
 * All functions may be called from several threads at once, except
 * journal_open() and journal_close().
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "diag.h"

#define JOURNAL_DIR "journal"

struct journal;

/*
 * Start a journal under dirfd (the inbox; its JOURNAL_DIR and tmp/ must
 * exist), named name (unique among writers). where names dirfd in errors.
 * Returns the journal, or NULL with e filled.
 */
struct journal *journal_open(int dirfd, const char *where, const char *name,
    struct errbuf *e);

/*
 * Append line (len bytes, no newline) and return once it is durable.
 * *slot gets what to hand journal_done() once the record's effects are
 * written, whether they could be or not; the file it names is not
 * emptied until then. Returns 0, or -1 with e filled: the record must not
 * be acknowledged, and if *slot is not -1 it went in and may be on disk
 * all the same (journal_done() is still owed).
 */
int journal_append(struct journal *j, const char *line, size_t len,
    int *slot, struct errbuf *e);

/*
 * journal_append() into the file of slot half (one that journal_append()
 * gave and journal_done() has not yet been called for), or the current
 * one if half is -1: a line that voids an earlier record goes beside it,
 * in the file replayed with it.
 */
int journal_append_to(struct journal *j, int half, const char *line,
    size_t len, int *slot, struct errbuf *e);

/*
 * journal_append_to() in two steps, for a writer that gathers records
 * and waits once for all of them: journal_write() appends the line and
 * returns at once, *end being where it ends; journal_sync(slot, end)
 * returns once it is durable (the first waiter syncs for everyone
 * written by then). Between the two the record holds its file as
 * journal_done() says, so a checkpoint waits for it: a writer must not
 * checkpoint while it holds records it has not yet synced and done.
 */
int journal_write(struct journal *j, int half, const char *line,
    size_t len, int *slot, off_t *end, struct errbuf *e);
int journal_sync(struct journal *j, int slot, off_t end, struct errbuf *e);
/*
 * Make everything written so far durable, as journal_sync() would each
 * record: for a writer that syncs in one thread while it writes on in
 * another. 0, or -1 with e filled.
 */
int journal_sync_all(struct journal *j, struct errbuf *e);

void journal_done(struct journal *j, int slot);

/*
 * Make every file written since the last checkpoint durable (syncfs(2)
 * of the file system holding dirfd), then empty the journal: appends go
 * on meanwhile, into the other file. Returns 0 (also when there was
 * nothing to do), or -1 with e filled; after a failed sync the journal is
 * never emptied again by this writer, and the next writer's replay redoes
 * what is missing. Not repaired: a page whose writeback failed but that
 * is still in memory (Linux then marks it clean) looks done to the replay;
 * an I/O error on the inbox's disk is reported, not hidden.
 */
int journal_checkpoint(struct journal *j, struct errbuf *e);

/* Bytes appended since the last checkpoint. */
size_t journal_pending(struct journal *j);
/*
 * Whether a sync failed (see journal_checkpoint()): the journal is kept
 * for the next writer's replay, and takes no more records usefully (it
 * would only grow), so the writer should sync file by file instead.
 */
int journal_stuck(struct journal *j);

/*
 * What a journal has done, for a monitor: its data syncs (fdatasync(2) of
 * a half, each shared by every record waiting on it), how long they took
 * in buckets of JOURNAL_BUCKETS upper bounds (journal_bucket_le[], in
 * seconds; the last bucket is everything above), their sum; the
 * checkpoints that emptied a half, and when the last did or found nothing
 * to do (CLOCK_MONOTONIC seconds; the open counts as one); the bytes
 * pending; stuck.
 * Counted under the journal's lock, which the sync takes anyway.
 */
#define JOURNAL_BUCKETS 12
extern const double journal_bucket_le[JOURNAL_BUCKETS];

struct journal_stats {
	unsigned long syncs;
	unsigned long sync_bucket[JOURNAL_BUCKETS + 1];	/* not cumulative */
	double sync_seconds;
	unsigned long checkpoints;
	double checkpoint_at;
	size_t pending;
	int stuck;
};

void journal_stats(struct journal *j, struct journal_stats *st);

/*
 * Checkpoint, then remove the journal's files (kept after a failed sync,
 * for replay), and free j. Returns 0, or -1 with e filled.
 */
int journal_close(struct journal *j, struct errbuf *e);

/*
 * Replay the journals (JOURNAL_DIR/NAME.0 and NAME.1; other files there
 * are left alone) that no live writer holds: each line of each file,
 * in order, goes to fn (empty lines skipped), then fn(NULL, 0) marks the
 * file's end; fn returns 0, or -1 to stop (the file is kept). A file whose
 * lines were all taken is removed, after a syncfs(2) that makes durable
 * whatever fn found already done.
 * A NAME.0 or NAME.1 that is not a regular file (a symbolic link, a
 * FIFO, a directory: planted, for no writer makes one) is never opened
 * nor followed: skip, if not NULL, gets its name in JOURNAL_DIR and its
 * lstat(2), and the replay goes on; it is left where it is unless skip
 * moves it. *files counts the journals replayed. Returns 0, or -1 with e
 * filled.
 */
typedef int (*journal_fn)(const char *line, size_t len, void *arg,
    struct errbuf *e);
struct stat;
typedef void (*journal_skip_fn)(const char *name, const struct stat *st,
    void *arg);
int journal_replay(int dirfd, const char *where, journal_fn fn,
    journal_skip_fn skip, void *arg, size_t *files, struct errbuf *e);

#endif
