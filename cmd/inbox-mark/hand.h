/*
 * hand.h: what inbox-mark records by hand besides a conversation's state
 * (hand.c): an internal note, an opt-out or opt-in taken by phone or in
 * person, a sender blocked or unblocked.
 */
#ifndef INBOX_MARK_HAND_H
#define INBOX_MARK_HAND_H

#include "inbox.h"

struct hand {
	const char *note;	/* --note: its text (read from stdin for
				 * "-"), or NULL */
	char *note_buf;		/* that text when read from stdin */
	int consent;		/* 'o' --optout, 'i' --optin, or 0 */
	const char *source;	/* --source: where the consent was taken */
	const char *reference;	/* --reference: its evidence, or the
				 * FILE:LINE of --import */
	time_t given;		/* --given: when it was given, or 0 */
	int block;		/* 'b' --block, 'u' --unblock, or 0 */
	int json;		/* events as NDJSON, else a line each */
	int out_errno;		/* why writing stdout failed, or 0 */
};

/*
 * Check the options of h once they are all parsed, numbered says whether
 * NUMBERs were given (a note read from stdin needs them): a mistake is a
 * usage error, before anything changes. Reads the note from stdin.
 */
void hand_check(struct hand *h, int numbered);

/* Whether h writes an internal note (a --note alone, without --optout,
 * --optin, --block or --unblock, whose reason it is otherwise). */
int hand_internal_note(const struct hand *h);

/*
 * The consent record and the block of h for thread, which need no
 * conversation: each change announced. Returns the exit code its failure
 * calls for (diag.h), or 0.
 */
int hand_ledgers(struct hand *h, struct inbox *ib, const char *thread);

/* The internal note of h on thread's conversation, announced; as above. */
int hand_note(struct hand *h, struct inbox *ib, const char *thread);

void hand_free(struct hand *h);

#endif
