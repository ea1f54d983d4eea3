/*
 * inbox-erase.h: a person's data taken out of the inbox, for an erasure
 * (a customer's right to be forgotten) or for retention (a resolved
 * conversation archived or deleted): inbox-export(1), smsdesk-inbox(5),
 * Erasure.
 *
 * The files of the thread are first moved, under its lock, into a
 * directory of tmp/, "tmp/erase,THREAD" (the erasure's intent: while it
 * is there, the erasure is under way), conversation first, so that
 * listings lose the thread at once and every state in between is one the
 * inbox knows (a thread whose conversation record is missing is rebuilt
 * at its next message, as after a quarantine); then the ledgers' lines
 * that name it are rewritten without them, and, for an erasure, the
 * history's lines redacted in place; last the directory is removed. A
 * crash anywhere leaves the directory, and inbox_erase_resume() (or the
 * same erasure again) finishes the work: every step is idempotent.
 *
 * Ownership: the caller's strings are borrowed.
 */
#ifndef INBOX_ERASE_H
#define INBOX_ERASE_H

#include <stddef.h>

#include "diag.h"
#include "inbox.h"

/* What inbox_erase() takes away besides the conversation. */
#define INBOX_ERASE_PERSON 1	/* an erasure: the contact, parts and
				 * quarantined files of the number, its
				 * history redacted, an opt-out on record */

/* What an erasure did, for its report. */
struct inbox_erased {
	size_t messages;	/* message and note files removed */
	size_t media;		/* media files removed */
	size_t lines;		/* ledger lines (ids/, outbox/) removed */
	size_t history;		/* history lines redacted */
	size_t other;		/* contact, parts, quarantined, names */
	int optout;		/* the erasure recorded an opt-out */
	int found;		/* it had a conversation or messages */
	char as[32];		/* the name its history lines now carry */
};

/*
 * Take the data of thread out of the inbox (smsdesk-inbox(5), Erasure):
 * its conversation, messages, notes, media and their served links, its
 * names in work/, queue/ and schedule/, and its lines in ids/ and
 * outbox/; with INBOX_ERASE_PERSON, also its contact, its waiting parts
 * and quarantined files, its history lines redacted (its thread replaced
 * by a name of the same length that says nothing, free text removed) and,
 * for a number, an opt-out recorded (source "erasure") unless its newest
 * consent record is one; then an "erased" event (without
 * INBOX_ERASE_PERSON, "archived") is appended to the history with "by".
 * file, if not NULL, is named in that event (an archive's). The caller
 * replays the journals of dead writers first (inbox_recover()), lest a
 * later replay bring a message back, and may hold the thread's lock
 * (inbox_lock()) to look at the conversation before it is taken.
 * Returns 0 (r filled; r->found 0 if there was nothing),
 * or -1 with e filled: the erasure may be half done, and the same call
 * again, or inbox_erase_resume(), finishes it.
 */
int inbox_erase(struct inbox *ib, const char *thread, int flags,
    const char *file, struct inbox_erased *r, struct errbuf *e);

/*
 * Finish the erasures a crash or a failure left under way (their
 * directories in tmp/), each under its thread's lock. *n counts them.
 * Returns 0, or -1 with e filled.
 */
int inbox_erase_resume(struct inbox *ib, size_t *n, struct errbuf *e);

#endif
