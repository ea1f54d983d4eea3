/*
 * inbox-check.h: the inbox checked at rest against smsdesk-inbox(5), and
 * mended where that needs no guess (inbox-check(1)); and a consistent
 * copy of a live inbox (inbox_backup()).
 *
 * The check walks the inbox once: modes and owners of every file and
 * directory, tmp/ and the other places the sweep keeps, the journals,
 * the history's day files, then each thread under its lock (so that a
 * writer at work is never caught half way): its records, its count, its
 * place in work/ and queue/, and each message's ledger entries, outbox/
 * entry, schedule/ name and history event. What the layout allows a
 * crash to leave (a torn last line, a young file in tmp/, an index that
 * says more than the records, a ledger entry of a message never stored)
 * is no finding.
 *
 * Ownership: the strings of a finding are borrowed for the callback.
 */
#ifndef INBOX_CHECK_H
#define INBOX_CHECK_H

#include "diag.h"
#include "inbox.h"

struct inbox_finding {
	const char *check;	/* which promise: "mode", "tmp", "record", ... */
	const char *path;	/* the file or directory, inside the inbox */
	const char *problem;	/* what is wrong */
	const char *repair;	/* what --repair does for it, or NULL: no
				 * mending without a guess */
	int repaired;		/* 1 mended, 0 not asked (or no repair),
				 * -1 tried and failed (why: error) */
	const char *error;
};

typedef void (*inbox_check_fn)(const struct inbox_finding *f, void *arg);

/*
 * Check the inbox, handing each finding to fn; with repair, mend each
 * as its repair says before handing it over. *left counts the findings
 * not mended. 0, or -1 with e filled if the check itself could not go
 * on (an unreadable directory, no memory).
 */
int inbox_check(struct inbox *ib, int repair, inbox_check_fn fn, void *arg,
    size_t *left, struct errbuf *e);

/*
 * Copy the inbox, live, into the new directory to (made; it must not
 * exist): the journals of dead writers replayed first; each thread's
 * files copied under its lock, so that a conversation and its messages
 * agree; then the ledgers, indexes and history, which may only say more
 * than the copied records; no tmp/, journal/ or lock/, and queue/ left
 * to be rebuilt. The copy is synced (syncfs(2)) before this returns.
 * The caller then checks it with repair (inbox_check()), which mends
 * what the indexes say less of. *files counts the files copied. 0, or
 * -1 with e filled (the copy is then incomplete).
 */
int inbox_backup(struct inbox *ib, const char *to, size_t *files,
    struct errbuf *e);

#endif
