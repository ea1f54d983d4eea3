/*
 * inbox.h: the flat-file inbox, smsdesk-inbox(5).
 *
 * Layout under the inbox directory (all directories 0700, files 0600; 2770
 * and 0660 for a trusted group, inbox_open_group()):
 *
 *   tmp/                 every file is written here first, fsynced, then
 *                        renamed into place (RENAME_NOREPLACE for a new
 *                        name)
 *   msg/THREAD/NAME      one message (or note: inbox_note()) per file;
 *                        THREAD is the customer's E.164 number (or a
 *                        sender's thread, "@VERIFY": thread.h), NAME
 *                        is unique and sorts by
 *                        delivery time, so a thread reads in O(thread);
 *                        a status change appends a line, as in conv/
 *   conv/THREAD          the conversation: its record is the file's last
 *                        line, the lines before are its history; a change
 *                        appends a line (fdatasync) under the thread's
 *                        lock, and past 4 KiB replaces the file with the
 *                        record alone (tmp, fsync, rename, fsync)
 *   work/THREAD          an empty file per conversation that is not
 *                        resolved and whose sender is not blocked: the
 *                        working set, listed in O(its size)
 *   ids/XX               the ledger of provider ids and client keys, an
 *                        index in 256 append-only files: lines
 *                        "KEY THREAD/NAME" ("KEY -": taken back), the
 *                        last for a KEY its entry; KEY is provider +
 *                        "-" + id, or "key-" + a client key; XX the low
 *                        byte of its FNV-1a hash, as lock/key-XX, which
 *                        guards the file (inbox-ledger.c says why files,
 *                        not a link per entry: inodes)
 *   consent/NUMBER/NAME  opt-out ledger: one record per STOP or START,
 *                        or per opt-out or opt-in taken by hand
 *                        (inbox_consent_by_hand()), newest name wins
 *   status/KEY           delivery reports for messages not yet known
 *   outbox/.log          outbound messages not yet settled (queued, or
 *                        unknown after a timeout or a crash, or taken
 *                        by the provider but not yet at a final status),
 *                        for reconciling: lines "+ THREAD/ID" and
 *                        "- THREAD/ID", appended under lock/outbox and
 *                        compacted; in it while its last line is "+"
 *   ids/KEY, outbox/ID   the same ledgers in an older inbox: symbolic
 *                        links to ../msg/THREAD/NAME, read, never made
 *   lock/THREAD          flock(2) target serialising a thread's writers
 *   lock/key-XX          the same for the delivery reports of ledger keys
 *                        hashing to XX, and for ids/XX (FNV-1a, 256
 *                        files in all)
 *   lock/outbox          the same for outbox/.log
 *   lock/replay          held while journals are replayed, one at a time
 *   journal/NAME.0, .1   a writer's write-ahead log (journal.h): what it
 *                        has made durable but not yet checkpointed
 *   quarantine/          files that did not parse, moved aside
 *   rate/SENDER          sms-send's pace for a sender (sms-send(1))
 *   rate/@PROVIDER       until when a provider of a failover list is
 *                        skipped (lib/send/failover.c)
 *   roster/              the agents, and the round-robin rotation
 *                        (roster.h)
 *   queue/               the index of the working set
 *                        (inbox_queue_read())
 *   history/YYYY-MM-DD   the history: every change of every
 *                        conversation as an event line, appended as part
 *                        of the change, never rewritten
 *                        (inbox_history_each())
 *   schedule/HOUR/NAME   the index of scheduled messages: an empty file
 *                        SENDAT,THREAD,ID a message to send later, in
 *                        the bucket of its send_at's UTC hour
 *                        (inbox_schedule_list())
 *   contacts/NUMBER      a customer's name and fields, one record
 *                        (contact.h), replaced whole under
 *                        lock/contacts
 *
 * Ordering, for an inbound message: under the thread's lock, look up
 * KEY in the ledger (there: a duplicate, stop); record STOP/START in consent/
 * (tmp, fsync, rename, fsync); write the message into tmp/, fsync it, add
 * work/THREAD, rename the message into msg/THREAD/, fsync that directory,
 * append the new conversation record to conv/THREAD and fdatasync it;
 * only then enter KEY in the ledger, unsynced. A crash before that entry
 * is on disk leaves a stored message that a provider retry stores again:
 * readers fold messages with the same provider id, so the worst case is a
 * duplicate that nobody sees, never a loss. With a journal started (see
 * inbox_journal_start()), one synced journal line takes the place of the
 * fsyncs of the files and directories.
 *
 * Conversation state changes go through inbox_update(): lock, read,
 * change, append, unlock, so concurrent writers never lose an
 * update. Listings read work/ (or conv/ with all) and the conversation
 * files; names never change once made, so a listing neither misses nor
 * repeats a conversation while others change state.
 *
 * The library never prints: problems a reader meets along the way (a file
 * quarantined) go to the report callback of struct inbox, if set.
 *
 * Errors: every function that fails sets errno, and callers go by it:
 * EINVAL is bad data (a record that breaks a limit of limit.h, a bad
 * number, id or time), an error of that record alone, which trying again
 * cannot mend; anything else is the inbox's (ENOSPC, EIO, EACCES, ...).
 *
 * Ownership: functions returning json_t * give a new reference.
 */
#ifndef INBOX_H
#define INBOX_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "diag.h"

/* The directories of the inbox that inbox_open() holds open. */
#define INBOX_NSUB 20

struct inbox {
	char *dir;
	int fd;			/* O_DIRECTORY descriptor of dir */
	int sub[INBOX_NSUB];	/* of msg/, tmp/, conv/, ... (inbox-impl.h):
				 * every file is reached through these,
				 * never by a path that could cross a
				 * symbolic link */
	int grouped;		/* a trusted group shares the inbox: */
	unsigned group;		/* its gid (see inbox_open_group()) */
	char user[64];		/* the effective user, for "by" */
	const char *agent;	/* the agent name given, or NULL (for "by";
				 * the caller's string, set after opening) */
	long pid;		/* for unique names, */
	char host[64];		/* as maildir makes them */
	struct journal *journal;	/* inbox_journal_start(), or NULL */
	struct every *ticker;		/* its checkpoints, every second */
	unsigned tick_ms;		/* for tests: instead of a second */
	unsigned young_s;		/* for tests: instead of a minute
					 * (see smsdesk-inbox(5), Journal) */
	void (*report)(void *arg, const char *msg);
	void *report_arg;
	/*
	 * For tests: called when a corrupt file has been found still in
	 * place, just before it is moved to quarantine/ (under its lock).
	 */
	void (*quarantining)(void *arg, const char *rel);
};

/* conversation status */
/*
 * WhatsApp's customer service window: a free-form message goes only this
 * long after the customer's last WhatsApp message (the conversation's
 * "whatsapp_in_at"); after it, only an approved template.
 */
#define INBOX_WHATSAPP_WINDOW (24 * 3600)

#define INBOX_OPEN "open"
#define INBOX_PENDING "pending"
#define INBOX_SNOOZED "snoozed"
#define INBOX_RESOLVED "resolved"

/* the purpose of an outbound message (sms-record(5)) */
#define INBOX_REPLY "reply"
#define INBOX_NOTIFICATION "notification"
#define INBOX_MARKETING "marketing"

/*
 * The purpose of outbound message msg: its "purpose"; for a record from
 * before there was one, INBOX_NOTIFICATION if it is an automatic reply
 * of sms-recv (it has "auto"), else INBOX_REPLY. Borrowed from msg.
 */
const char *inbox_purpose(const json_t *msg);

/* Whether p is INBOX_REPLY, INBOX_NOTIFICATION or INBOX_MARKETING. */
int inbox_purpose_valid(const char *p);

/*
 * Whether outbound message msg went out: the provider took it. Not while
 * it is only ours (scheduled; queued with no provider id yet; unknown,
 * the answer never came), nor once it failed, was undelivered or
 * canceled, nor if it carries an error. One with no status (by hand, or
 * older) went out.
 * Only a reply that went out answers its conversation (inbox_deliver()).
 */
int inbox_went_out(const json_t *msg);

/*
 * The inbox directory: dir if given, else $SMSDESK_INBOX, else
 * $XDG_DATA_HOME/smsdesk/inbox (~/.local/share/smsdesk/inbox). malloc'd.
 */
char *inbox_path(const char *dir);

/*
 * Open the inbox at inbox_path(dir). With create, make it (and its
 * parents) if missing; without, a missing inbox is -1 with errno ENOENT.
 * The inbox and each of its directories must be owned by the effective
 * user (or root) and writable by nobody else, else it is refused (errno
 * EACCES, e saying which and what to run); a planted symbolic link among
 * its directories is refused too (ELOOP). Returns 0 or -1 with e filled.
 */
int inbox_open(struct inbox *ib, const char *dir, int create,
    struct errbuf *e);

/*
 * inbox_open(), the inbox shared by the Unix group named group (a name or
 * a number; NULL or "" for none, as inbox_open()): directories of that
 * group may be group-writable and owned by any of its members, and what
 * this makes is made for it: directories setgid, 2770, files 0660
 * (smsdesk-inbox(5), Sharing). A group that does not exist is -1 with
 * errno EINVAL.
 */
int inbox_open_group(struct inbox *ib, const char *dir, int create,
    const char *group, struct errbuf *e);

/*
 * Give the directory leaf of dfd, just made, to the inbox's trusted group
 * (smsdesk-inbox(5), Sharing): its group, setgid and mode 2770 whatever
 * the umask; nothing for an inbox of one user. 0, or -1 with errno.
 */
int inbox_share_dir(struct inbox *ib, int dfd, const char *leaf);

/*
 * Whether group (as inbox_open_group() takes it; NULL or "" for none)
 * names a Unix group: 0, or -1 with errno EINVAL and e filled. A program
 * checks its configured group with it before it opens the inbox, so that
 * a wrong one is said as the configuration's mistake (exit 78).
 */
int inbox_group_check(const char *group, struct errbuf *e);

/*
 * Open the file rel of the inbox ("DIR/NAME", DIR a directory of the
 * layout, such as "rate/+15557654321") as the library opens its own:
 * never through a symbolic link, never blocking, refused unless it is a
 * regular file that others may not write. flags as open(2); a file made
 * (O_CREAT) is 0600, or 0660 for a trusted group. The descriptor, or -1
 * with e filled.
 */
int inbox_open_file(struct inbox *ib, const char *rel, int flags,
    struct errbuf *e);
void inbox_close(struct inbox *ib);

/*
 * The journal (journal.h), for a writer that delivers many messages:
 * sms-recv, sms-send. Once started, a message is durable when
 * inbox_deliver() has appended it to
 * the writer's journal and fdatasync'd that, one sync shared by the
 * threads delivering at the time; its files are then written as ever,
 * without their fsyncs, which inbox_checkpoint() makes with one
 * syncfs(2) before it empties the journal (a thread started with the
 * journal calls it every second; a delivery calls it past 4 MiB). A message to
 * send gets its outbox/ entry and client key after its record, unsynced,
 * and inbox_sent() appends an answer that leaves it pending unsynced: a
 * crash loses at worst the answer, and the message stays in outbox/ for
 * reconciling. Stop flushes and removes the journal; inbox_close() stops
 * it too.
 *
 * inbox_recover() replays the journals of writers that died (those not
 * flock(2)ed): each record's message file, its part in the conversation,
 * its ledger entry and client key, and its outbox/ entry while the
 * message is pending, where they are missing, durably. Every program
 * that writes messages calls it after inbox_open(), before it delivers:
 * records survive; what a crash took from the files is made again.
 * *records, if not NULL, counts the records replayed. 0, or -1.
 */
int inbox_journal_start(struct inbox *ib, struct errbuf *e);
int inbox_checkpoint(struct inbox *ib, struct errbuf *e);

/*
 * For a monitor. inbox_journal_stats(): what this writer's journal has
 * done (journal.h), 0, or -1 if it has none. inbox_probe(): whether the
 * inbox takes a file now: one made in tmp/, written and removed (what a
 * delivery's first steps are), 0, or -1 with e filled.
 */
struct journal_stats;
int inbox_journal_stats(struct inbox *ib, struct journal_stats *st);
int inbox_probe(struct inbox *ib, struct errbuf *e);
int inbox_journal_stop(struct inbox *ib, struct errbuf *e);
int inbox_recover(struct inbox *ib, size_t *records, struct errbuf *e);

/* A delivery: what inbox_deliver() stored, or found stored already. */
struct inbox_delivery {
	int duplicate;		/* the provider id was in the ledger */
	json_t *message;	/* the message record as stored */
	json_t *conversation;	/* the conversation after it (NULL if dup) */
	int consent;		/* 'o' opt-out, 'i' opt-in recorded, else 0 */
	int consent_changed;	/* it changed where the number stood (or
				 * that could not be read) */
};

/*
 * How long an outbound message with a provider id stays in outbox/
 * waiting for a final status (a carrier may never report one).
 */
#define INBOX_TRACK_AGE (72 * 3600)

/*
 * Store a message record durably in its thread (msg must have "thread",
 * "direction" and, for dedupe, "provider" and "provider_id", or a client
 * "key"; "id" and "at" are filled in if missing). msg is checked first
 * (limit_message(); an "at" must be a time limit_time() takes, and is
 * rewritten in UTC), and refused with errno EINVAL. An outbound message
 * with status queued or unknown is also put in outbox/ until it is
 * settled: by inbox_sent() or inbox_status(), once it has a provider id
 * and a final status (or an error), or INBOX_TRACK_AGE after it was
 * queued. keyword is 'o' (opt-out), 'i' (opt-in)
 * or 0: the consent ledger is written before the call returns. Updates
 * the conversation: an inbound message reopens it, counts as unread and
 * starts the SLA clock (waiting_since) if it was not running, unless it
 * is a keyword (it has "keyword": STOP, START, HELP...); a reply
 * (inbox_purpose()) stops the clock and sets first_response_at once it
 * went out (inbox_went_out(): here, or when inbox_sent() or
 * inbox_status() says so), and no other outbound message does. A new
 * conversation that its first message does not make work (an outbound
 * message, a keyword) is made resolved, with opened_at null, and stays
 * out of work/ until a customer's message opens it. Returns 0 (see
 * d->duplicate) or -1 with e filled; on -1 nothing was acknowledged and
 * the caller must not answer 2xx, and what the delivery had written is
 * taken back (a consent record excepted), so no reader sees it.
 */
int inbox_deliver(struct inbox *ib, json_t *msg, int keyword,
    const char *keyword_text, struct inbox_delivery *d, struct errbuf *e);

void inbox_delivery_free(struct inbox_delivery *d);

/*
 * inbox_deliver() of outbound messages (no keyword) in two halves, for a
 * writer that stores many at once and waits for one journal sync for
 * all of them: inbox_deliver_begin() returns 1 with *p set once the
 * message's journal record is written but not yet durable (the thread
 * stays locked, and nothing may be acknowledged); 0 if it was over at
 * once (a duplicate, d says so), or -1. inbox_deliver_end_all() then
 * finishes n of them as inbox_deliver() would, p[i] with d[i], e[i] and
 * rc[i] (0 or -1) its own, their outbox/ entries made in one write.
 * Between the two this thread may begin others (their threads locked
 * too: see inbox_lock()), but must not wait for anything that another
 * thread could need one of those locks to give.
 */
struct inbox_pending;
int inbox_deliver_begin(struct inbox *ib, json_t *msg,
    struct inbox_delivery *d, struct inbox_pending **p, struct errbuf *e);
void inbox_deliver_end_all(struct inbox *ib, struct inbox_pending **p,
    size_t n, struct inbox_delivery *d, struct errbuf *e, int *rc);
/*
 * Make the journal records written so far durable (none: 0), so that a
 * writer may sync in one thread the records another goes on from: the
 * inbox_deliver_end_all() of those then finds them synced. 0, or -1 with
 * e filled (the deliveries it concerns then fail as well).
 */
int inbox_sync_journal(struct inbox *ib, struct errbuf *e);

/*
 * Lock thread (an E.164 number or a sender's "@NAME") as every writer of
 * its conversation does, for a caller that will deliver to it several
 * times or keep it locked across inbox_deliver_begin() and
 * inbox_deliver_end_all(): a lock this thread holds already is taken again
 * at once (each taking is given back by inbox_unlock()). With nowait, a
 * lock held elsewhere is -1 with errno EWOULDBLOCK at once: a caller that
 * holds one lock must never wait for a second (two such callers would
 * wait for each other), so it gives back what it holds first. Returns
 * what to give inbox_unlock(), or -1 with e filled.
 */
int inbox_lock(struct inbox *ib, const char *thread, int nowait,
    struct errbuf *e);
void inbox_unlock(int lk);

/*
 * Whether the ledger holds this provider id (its KEY named as
 * inbox_deliver() names it, in ids/XX or an older inbox's link ids/KEY):
 * 1, or 0 if not (an id that could not be one, and an entry that does not
 * name a message, are not), or -1 with errno if the ledger cannot be
 * read. Reached through the inbox's directories, never a path from its
 * root.
 */
int inbox_known_id(struct inbox *ib, const char *provider, const char *pid);

/*
 * Record what the provider said of outbound message id in thread: its
 * provider and provider_id (either may be NULL), its status ("sent",
 * "failed", "unknown", ...; a word as provider_status_valid() takes, else
 * -1 with errno EINVAL; never moved back from a delivery report that
 * came first) and error (borrowed; NULL for none, json null to clear
 * one). Adds the provider id to the ledger and takes the message out of
 * outbox/ once settled (see inbox_deliver()). A reply that has now
 * gone out answers its conversation; one that had gone and now failed
 * no longer does (its episode's answer and clock are worked out again
 * from the thread).
 * Returns 0 (*msg gets the message as stored) or -1 with e filled.
 */
int inbox_sent(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *provider_id, const char *status,
    json_t *error, json_t **msg, struct errbuf *e);

/*
 * inbox_sent(), setting the fields of set too (NULL: none; a field null
 * is removed): what a failover changed (sms-send(1), Failover): the
 * "from" it went from, and "failover", the providers that failed.
 */
int inbox_sent_set(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *provider_id, const char *status,
    json_t *error, json_t *set, json_t **msg, struct errbuf *e);

/*
 * After inbox_sent() of a message the provider took in parts, each with
 * an id (ids, an array of them, the provider id first): ids stored as
 * its provider_ids, and each entered in the ledger, so that a delivery
 * report of any part finds it (inbox_status() folds them: sms-record(5)).
 * *out (if not NULL) is replaced by the message as stored. Returns 0, or
 * -1 with e filled.
 */
int inbox_sent_parts(struct inbox *ib, const char *thread, const char *id,
    const char *provider, json_t *ids, json_t **out, struct errbuf *e);

/* The outbound messages not yet settled (outbox/), as a JSON array. */
json_t *inbox_outbox(struct inbox *ib, struct errbuf *e);

/*
 * Apply a delivery report to the outbound message with this provider id:
 * the status only moves forward (provider_status_order), and an error code
 * is kept; a final status takes the message out of outbox/; a reply that
 * has now gone out answers its conversation, and one that now failed
 * no longer does, as for inbox_sent(). Returns 1 if
 * the message changed (*msg gets it), 0 if the report was old news, 2
 * if no such message is known yet (the report is parked in status/ for
 * when it is), or -1 with e filled.
 */
int inbox_status(struct inbox *ib, const char *provider,
    const char *provider_id, const char *status, const char *error_code,
    json_t **msg, struct errbuf *e);

/*
 * Record a consent event durably: c is a "consent" record with "number"
 * (E.164), "state" ("out" or "in"), and what else tells its story (at,
 * keyword, our_number, message, source). The newest one decides
 * inbox_opted_out(). Returns 0, or -1 with e filled.
 */
int inbox_consent(struct inbox *ib, const json_t *c, struct errbuf *e);

/*
 * Whether number has opted out (its newest consent record says so): 1
 * yes, 0 no, -1 with e filled.
 */
int inbox_opted_out(struct inbox *ib, const char *number, struct errbuf *e);

/*
 * The newest consent record of number (the one that decides), or NULL:
 * errno ENOENT if the ledger has none for it, else e filled.
 */
json_t *inbox_consent_state(struct inbox *ib, const char *number,
    struct errbuf *e);

/*
 * The consent ledger as a JSON array of its records as stored: those of
 * number (NULL: of every number, in the order of their numbers), each
 * number's oldest first; with newest, only each number's newest. Records
 * that do not parse are quarantined and reported, not returned. NULL with
 * e filled on failure.
 */
json_t *inbox_consent_list(struct inbox *ib, const char *number, int newest,
    struct errbuf *e);

/*
 * Where number stands in the consent ledger: its newest record that
 * parses says 'o' (opted out) or 'i' (opted in); 0 if it has none; -1
 * with e filled.
 */
int inbox_consent_now(struct inbox *ib, const char *number,
    struct errbuf *e);

/*
 * Where number stands on one channel ("sms", for a text or a picture, or
 * "whatsapp"), for a business whose consent is by channel (consent_scope
 * in smsdesk-config(5)): as inbox_consent_now(), of the newest record
 * that holds on it: one of that channel, or one that names none (taken
 * by hand, reported by a provider, or of an older inbox), which holds on
 * every channel. channel NULL: every record holds (consent by person),
 * as inbox_consent_now(). inbox_opted_out_on(): 1 if that says 'o'.
 */
int inbox_consent_on(struct inbox *ib, const char *number,
    const char *channel, struct errbuf *e);
int inbox_opted_out_on(struct inbox *ib, const char *number,
    const char *channel, struct errbuf *e);

/*
 * The evidence of a consent taken by hand, kept on its record: where it
 * was taken (source: "phone", "web_form", "paper_form", "import", ...;
 * NULL is "manual"), why or what was said (note), what points at the
 * evidence itself (reference: a form's number, a URL, "FILE:LINE" of an
 * import), and when the person gave it (given, if before it is recorded;
 * 0 if not said). Any may be NULL or 0.
 */
struct consent_proof {
	const char *source;
	const char *note;
	const char *reference;
	time_t given;
};

/*
 * An opt-out (state 'o') or opt-in ('i') taken by hand: a consent record
 * with its evidence (p: source, note, reference, given_at; the agent and
 * "by"), written as inbox_consent() writes, under the number's lock,
 * unless the ledger says so already. *rec gets the record written, or
 * NULL if nothing changed. number must be E.164, and a given time not
 * after now (errno EINVAL otherwise). Returns 0, or -1 with e filled.
 */
int inbox_consent_by_hand(struct inbox *ib, const char *number, int state,
    const struct consent_proof *p, json_t **rec, struct errbuf *e);

/*
 * An internal note on the conversation of thread, never sent: a "note"
 * record (id, thread, at, agent if ib->agent, body, by) stored in
 * msg/THREAD/ among the messages, durably, as a message is (written in
 * tmp/, fsynced, renamed, the directory fsynced). A thread without a
 * conversation is -1 with errno ENOENT; an empty body, or one over
 * LIMIT_BODY, EINVAL. *note gets the record. Returns 0, or -1 with e
 * filled.
 */
int inbox_note(struct inbox *ib, const char *thread, const char *body,
    json_t **note, struct errbuf *e);

/*
 * Block (block non-zero) or unblock the sender of thread: its
 * conversation record gets "blocked_at" and "blocked_by" (and
 * "block_note", note if not NULL), or loses them for "unblocked_at" and
 * "unblocked_by". A blocked conversation is out of the working set;
 * its inbound messages are stored but leave it as it was (no unread, no
 * reopening, no waiting). Blocking a thread without a conversation makes
 * one, resolved. Returns as inbox_update(): 0, 1 (it was so already) or
 * -1 with e filled; *after as there.
 */
int inbox_block(struct inbox *ib, const char *thread, int block,
    const char *note, json_t **after, struct errbuf *e);

/* Whether a conversation record says its sender is blocked. */
int inbox_is_blocked(const json_t *conv);

/*
 * Whether the sender of thread is blocked: 1 yes, 0 no (or no such
 * conversation), -1 with e filled.
 */
int inbox_blocked(struct inbox *ib, const char *number, struct errbuf *e);

/*
 * Change a conversation under its lock. fn gets the current record (a
 * fresh one, status open, if the thread has none) and changes it in place;
 * it returns 0 to write it, 1 to leave it as it was, -1 to fail (after
 * filling e and setting errno). A change that takes the record past a
 * limit of limit.h (limit_conversation()) is not written: -1, errno
 * EINVAL. *after, if not NULL, gets the record as it ends up. Keeps
 * work/ in step with the status. Returns 0, 1 (unchanged) or -1.
 */
typedef int (*inbox_update_fn)(json_t *conv, void *arg, struct errbuf *e);
int inbox_update(struct inbox *ib, const char *thread, inbox_update_fn fn,
    void *arg, json_t **after, struct errbuf *e);

/*
 * Wake the conversation of thread if it is snoozed until a time that has
 * come (when_now()): under its lock, status open, snoozed_until removed,
 * the history's "woke" event written (inbox_update()). until (size
 * bytes), if not NULL, gets the time it was snoozed until. Any writer of
 * a conversation whose snooze has run out wakes it as part of its change
 * (smsdesk-inbox(5), History), so a conversation is woken once, by
 * whoever comes first. Returns 0 (woken now; *after as inbox_update()),
 * 1 (nothing to wake: not snoozed, not yet, no such conversation), or -1
 * with e filled.
 */
int inbox_wake(struct inbox *ib, const char *thread, char *until,
    size_t size, json_t **after, struct errbuf *e);

/* The conversation record of thread, or NULL (errno ENOENT if none). */
json_t *inbox_conversation(struct inbox *ib, const char *thread,
    struct errbuf *e);

/*
 * queue/, the index of the working set (smsdesk-inbox(5)): a name for
 * each conversation that waits for an owner, "w,WAITING,THREAD", and for
 * each one an agent holds, "a,AGENT,THREAD", kept by every writer of a
 * conversation. It may say more than the conversations do, never less:
 * check what it names against the conversation before acting on it.
 * inbox_queue_read(): its names, each in its parts (names that are none
 * of the index's left out), in no order; q->whole is 0 if it must be
 * rebuilt first (roster_queue_rebuild()); inbox_queue_release() frees
 * them. 0, or -1 with e filled. inbox_queue_fix(): the names
 * given, all those of thread, made right under its lock (those that do
 * not say what its conversation does removed, the right one made).
 * inbox_queue_built(): the index said whole, durably (queue/ synced,
 * then queue/.built made and synced).
 */
#define INBOX_QUEUE_NAME_MAX (2 + 64 + 1 + 32 + 1 + 32 + 1)
struct inbox_conv;
/* The name a conversation's state gives it in queue/, or "" for none:
 * from its fields (c), or its record (conv, of thread; NULL: none). */
void inbox_queue_name(const struct inbox_conv *c,
    char out[INBOX_QUEUE_NAME_MAX]);
void inbox_queue_name_json(const char *thread, const json_t *conv,
    char out[INBOX_QUEUE_NAME_MAX]);
struct inbox_queue_entry {
	int kind;		/* 'w' waiting for an owner, 'a' held */
	const char *name;	/* the whole name, */
	const char *key;	/* in it: when it began waiting, or the agent, */
	size_t key_len;		/* not NUL-terminated, */
	const char *thread;	/* and the thread, that is */
};
struct inbox_queue {
	struct inbox_queue_entry *v;	/* in no order */
	size_t n;
	char *names;		/* their names, one after another */
	size_t len, cap;
	int whole;		/* queue/.built there: no rebuild needed */
};
int inbox_queue_read(struct inbox *ib, struct inbox_queue *q,
    struct errbuf *e);
void inbox_queue_release(struct inbox_queue *q);
int inbox_queue_fix(struct inbox *ib, const char *thread,
    const char *const *names, size_t n, struct errbuf *e);
int inbox_queue_built(struct inbox *ib, struct errbuf *e);
/*
 * Say the index is not whole (queue/.built removed) while a writer makes
 * changes it will sync together later (roster_claim() with defer), and
 * moves their names rather than copying them: a crash before that sync
 * leaves the index to be rebuilt. 1 if it was whole (give it back with
 * inbox_queue_built() once the changes are synced), 0 if not, -1 with e
 * filled.
 */
int inbox_queue_suspend(struct inbox *ib, struct errbuf *e);

/*
 * Surveys (smsdesk-inbox(5), Surveys). An outbound message with
 * "survey": {"scale" ("1-5", "0-10", "1-3"), "until" (the end of its
 * answer window, a time), "agent" (attributed, or null), "resolved_at"}
 * opens a survey on its conversation as inbox_deliver() stores it (one
 * stored as failed opens none): the conversation gets "survey" (those
 * fields, "id" the message's, "sent_at" its time) and "surveyed_at". A
 * customer's message delivered in the window that score_parse() takes
 * on the survey's scale is its answer: the message gets "csat"
 * ({survey, score, comment}) and is no work (no reopening, no clock),
 * the conversation gets "csat" ({survey, scale, score, comment, at,
 * agent, msg}) and loses "survey". The next message within ten minutes
 * of an answer without a comment, if it asks nothing (no "?"), is its
 * comment ("csat": {survey, comment: true}), and no work either.
 *
 * inbox_survey_answer(): the same for message id of thread, stored
 * already (by a delivery that came before the survey rule, or an import
 * out of order), under the thread's lock: 1 if it was taken as the
 * answer (its record gets "csat" appended, the conversation's survey is
 * closed as above, its status left as it is), 0 if not (no open survey,
 * outside the window, not a score, taken already), -1 with e filled.
 * *after, if not NULL, gets the conversation when it is 1.
 */
int inbox_survey_answer(struct inbox *ib, const char *thread, const char *id,
    json_t **after, struct errbuf *e);

/*
 * Scheduled messages (smsdesk-inbox(5), Scheduled messages): an outbound
 * message stored with "status": "scheduled" and "send_at" (a time) waits
 * in its thread, has not gone out (inbox_went_out()), is in no outbox,
 * and is indexed in schedule/. inbox_is_scheduled(): whether msg is one.
 *
 * inbox_schedule_list(): the index's entries whose send_at is no later
 * than until (until < 0: all of them), by send_at (then thread, id), in
 * *v (malloc'd, *n of them; free() it). It reads the names of
 * schedule/ and of the buckets up to until's hour only. An entry may be
 * stale: check it against its message (inbox_schedule_change() does).
 * 0, or -1 with e filled.
 *
 * inbox_schedule_change(): under thread's lock, message id, if it is
 * scheduled, handed to fn, which changes it in place and returns 0 to
 * write it, 1 to leave it, -1 to fail (e filled): to "queued" (claimed
 * to be sent: its "at" should say when; it is put in outbox/, synced,
 * before the message says so, and its conversation gets what a sent
 * message gives it), to "canceled" (with an "error"), or still
 * scheduled at another send_at (its index name moved: the new one made
 * and synced first). Every change is appended synced, its history event
 * first ("message", "canceled", "rescheduled"). listed_at, if not NULL,
 * is the send_at the index listed it at: a name that says other than
 * the message does is removed. Returns 0 (changed), 1 (fn left it), 2
 * (not a scheduled message, or none: *after gets the message as it is,
 * or NULL), or -1 with e filled; *after gets the message as it ends up.
 */
struct inbox_due {
	char send_at[24];	/* RFC 3339, "YYYY-MM-DDTHH:MM:SSZ" */
	char thread[32];
	char id[128];
};
int inbox_is_scheduled(const json_t *msg);
int inbox_schedule_list(struct inbox *ib, time_t until, struct inbox_due **v,
    size_t *n, struct errbuf *e);
typedef int (*inbox_schedule_fn)(json_t *msg, void *arg, struct errbuf *e);
int inbox_schedule_change(struct inbox *ib, const char *thread, const char *id,
    const char *listed_at, inbox_schedule_fn fn, void *arg, json_t **after,
    struct errbuf *e);
/*
 * A scheduled message claimed to be sent (queued, or unknown, with no
 * provider id), which the provider has been found not to have
 * (--reconcile): scheduled again at its send_at, as it was before the
 * claim (its index name made, synced, first; out of outbox/ after), so
 * that the next --due sends it. Returns as inbox_schedule_change(): 2
 * if it is no such message.
 */
int inbox_schedule_again(struct inbox *ib, const char *thread, const char *id,
    json_t **after, struct errbuf *e);

/*
 * The history (smsdesk-inbox(5), History): fn gets each whole line of
 * the day files history/YYYY-MM-DD from day from to day to (inclusive;
 * NULL: no bound), days in order, lines in the order they were appended
 * within a day (so not always in the order of their times). A line may
 * be torn by a crash (it does not parse: skip it) or, after a replay,
 * repeat a message event. fn returns 0 to go on; anything else stops and
 * is returned. Returns 0, or -1 with e filled. Its cost is the days
 * read, not the history kept.
 */
typedef int (*inbox_history_fn)(const char *line, size_t len, void *arg);
int inbox_history_each(struct inbox *ib, const char *from, const char *to,
    inbox_history_fn fn, void *arg, struct errbuf *e);

/*
 * A conversation as inbox_each() hands it over: its record as one line of
 * compact JSON without the newline, exactly as record_write() would write
 * it, and the fields a listing filters and sorts by: NULL where the record
 * has no such string (unread: 0 where it has no integer), as record_str()
 * would say. All of it is borrowed until the callback returns.
 */
struct inbox_conv {
	const char *line;
	size_t len;
	const char *thread, *status, *assignee;
	const char *waiting_since, *last_in_at, *last_out_at, *snoozed_until;
	const char *blocked_at;		/* set while the sender is blocked */
	const char *last_auto_at;	/* the last outbound message that was
					 * no reply (a notice, a follow-up) */
	const char *whatsapp_in_at;	/* the customer's last WhatsApp
					 * message (NULL: none, or a record
					 * of an older inbox) */
	long long unread;
};

/*
 * Call fn for every conversation of the working set (all: every
 * conversation), in no particular order, each once; a record stored as
 * record_write() writes it is handed over without a parse tree. Files
 * that do not parse are quarantined and files that cannot be read
 * reported (struct inbox's report), not handed over. fn returns 0 to go
 * on; anything else stops the walk and is returned. Returns 0, or -1 with
 * e filled on failure.
 */
typedef int (*inbox_each_fn)(const struct inbox_conv *c, void *arg);
int inbox_each(struct inbox *ib, int all, inbox_each_fn fn, void *arg,
    struct errbuf *e);

/*
 * Every conversation of the working set (all: every conversation) as a
 * JSON array, in no particular order, as inbox_each() finds them. NULL
 * with e filled on failure.
 */
json_t *inbox_list(struct inbox *ib, int all, struct errbuf *e);

/*
 * The messages of thread, oldest first, with duplicates (the same
 * provider id stored twice after a crash) folded. NULL with errno ENOENT
 * if there is no such thread.
 */
json_t *inbox_thread(struct inbox *ib, const char *thread, struct errbuf *e);

/*
 * The last message of thread, as inbox_thread() would end: NULL with
 * errno ENOENT if it has none. Reads one message file, not the thread.
 */
json_t *inbox_last_message(struct inbox *ib, const char *thread,
    struct errbuf *e);

/*
 * Remove files in tmp/ last modified more than max_age seconds ago (crash
 * debris; the maildir rule is 36 hours), and delivery reports parked in
 * status/ more than INBOX_PARK_MAX_AGE ago (for a message that never came:
 * one the inbox does not hold), parts/ older than INBOX_PARTS_MAX_AGE,
 * and the links of serve/ that have expired
 * (inbox_serve_sweep(), serve.h), and the empty buckets of schedule/ of
 * hours gone by. *removed counts them.
 */
int inbox_sweep(struct inbox *ib, time_t max_age, size_t *removed,
    struct errbuf *e);

/*
 * Parts of long inbound messages that come one webhook a part (Vonage:
 * smsdesk-inbox(5), parts/). inbox_part_set() names the set of the
 * parts of provider's message ref from sender: 0, or -1 with errno
 * EINVAL (too long). inbox_part_put() stores a part of it durably (rec:
 * a record with "part" from 1 and "total"; a part there already is kept
 * as it is) and returns 1 with *whole a new array of the set's records
 * in part order if every part is there, 0 if not, -1 with e filled.
 * Once the whole is stored, inbox_part_drop() removes its total parts
 * (0, or -1). inbox_parts_complete(): every set whose parts are all
 * there (left by a crash before it was stored or dropped), an array of
 * such arrays, or NULL with e filled.
 */
int inbox_part_set(const char *provider, const char *sender, const char *ref,
    char out[128]);
int inbox_part_put(struct inbox *ib, const char *set, const json_t *rec,
    json_t **whole, struct errbuf *e);
int inbox_part_drop(struct inbox *ib, const char *set, int total,
    struct errbuf *e);
json_t *inbox_parts_complete(struct inbox *ib, struct errbuf *e);

/*
 * Enter the message id of thread in the ledger under another provider id
 * of its (pid: a part's of a long message), so that inbox_known_id() and
 * a delivery report find it by that too. One there already that names
 * another message is kept. Returns 0, or -1 with e filled.
 */
int inbox_alias(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, struct errbuf *e);

/*
 * As inbox_alias(), but pid names this message from now on even if it
 * named another: for an id the provider gives again to a later message
 * (smsd's message reference, a number that wraps at 256).
 */
int inbox_alias_move(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, struct errbuf *e);

/*
 * Media (smsdesk-inbox(5), media/): the bytes of a message's media item
 * are written into a new file of tmp/ (inbox_media_open(): its descriptor,
 * open for writing, and its name in tmp, "tmp/NAME"); then either
 * inbox_media_drop() gives them up, or inbox_media_update() fsyncs and
 * closes fd and names the file media/THREAD/MSG.INDEX.EXT (EXT: ext, as
 * the sniffed type has it, "bin" if unknown; a file of that name that no
 * record names yet, debris of a fetch cut short after its rename, is
 * replaced), syncs media/THREAD, and then appends msg/THREAD/MSG's next
 * line, under the thread's lock, with item index of its "media" changed:
 * every key of fields set, the keys named in remove (NULL-ended, or NULL)
 * removed, and "file" set to the file's name in the inbox. Without a
 * file (fd < 0, tmp NULL), only the line is appended (a failure's
 * bookkeeping). *msg_out, if not NULL, gets the message as written.
 * Returns 0, or -1 with e filled (errno ENOENT if the message or its item
 * index is not there; the file in tmp/ is then
 * removed).
 */
#define INBOX_MEDIA_TMP_MAX 160
int inbox_media_open(struct inbox *ib, char tmp[INBOX_MEDIA_TMP_MAX],
    struct errbuf *e);
void inbox_media_drop(struct inbox *ib, int fd, const char *tmp);
int inbox_media_update(struct inbox *ib, const char *thread,
    const char *msg, size_t index, int fd, const char *tmp, const char *ext,
    const json_t *fields, const char *const *remove, json_t **msg_out,
    struct errbuf *e);

/*
 * The message msg/THREAD/NAME (its record, the file's last line), or
 * NULL with e filled (errno ENOENT: no such message).
 */
json_t *inbox_message(struct inbox *ib, const char *thread, const char *name,
    struct errbuf *e);

#define INBOX_SWEEP_AGE (36 * 3600)
#define INBOX_PARK_MAX_AGE (7 * 24 * 3600)
/*
 * How long a part of a long inbound message waits for the others: past
 * this a part is stale (its sender may use its reference again), swept
 * and replaced by a new part of the same place.
 */
#define INBOX_PARTS_MAX_AGE (2 * 24 * 3600)

#endif
