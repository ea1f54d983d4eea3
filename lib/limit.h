/*
 * limit.h: the sizes and ranges smsdesk accepts, in one place.
 *
 * Readers refuse a record line, or an inbox file, past LIMIT_RECORD
 * bytes (record.h's RECORD_LINE_MAX: a longer file is quarantined). So
 * that a writer never writes what a reader would refuse, every part a
 * person or a provider puts into a record has a limit below, checked
 * before anything is written: a message by inbox_deliver(), a
 * conversation by inbox_deliver() and inbox_update(), and, behind them,
 * every line the inbox writes against LIMIT_RECORD itself. Programs check
 * their options against the same limits, to say so at once.
 *
 * The limits leave room: a conversation with LIMIT_TAGS tags of
 * LIMIT_TAG bytes, an assignee of LIMIT_NAME bytes and a last_body of
 * LIMIT_BODY bytes, every byte of them escaped at the worst (six bytes a
 * byte, "\u0001"), is under a quarter of LIMIT_RECORD, and so is an
 * event that carries a message. The man pages sms-record(5) and
 * smsdesk-inbox(5) list them.
 *
 * Each check returns 0, or -1 with errno EINVAL and e filled: bad data,
 * an error of the record, never of the inbox.
 */
#ifndef LIMIT_H
#define LIMIT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "diag.h"
#include "record.h"

#define LIMIT_RECORD RECORD_LINE_MAX	/* bytes of a line, newline too */
#define LIMIT_BODY (32 * 1024)	/* bytes of a message's body */
#define LIMIT_ID 256		/* bytes of a provider id */
#define LIMIT_KEY (LIMIT_ID + 64)	/* of a client key: room for one
					 * made from a provider id, as
					 * "auto-ID" */
#define LIMIT_NAME 64		/* bytes of an agent's (assignee's) name */
#define LIMIT_TAG 64		/* bytes of a tag */
#define LIMIT_TAGS 64		/* tags on one conversation */
#define LIMIT_REASON 1024	/* bytes of the note kept with a block or
				 * a consent record taken by hand */

/*
 * Times a record brings into the inbox ("at"): from LIMIT_TIME_MIN to
 * LIMIT_TIME_AHEAD seconds after now (a provider's clock may run ahead
 * of ours, and a local time labelled as UTC by up to 14 hours).
 */
#define LIMIT_TIME_MIN 946684800	/* 2000-01-01T00:00:00Z */
#define LIMIT_TIME_AHEAD (24 * 3600)

/*
 * How far ahead a conversation may be snoozed: ten years (3,653 days), far
 * more than any plan and far from overflowing a time.
 */
#define LIMIT_SNOOZE_DAYS 3653
#define LIMIT_SNOOZE (LIMIT_SNOOZE_DAYS * 24LL * 3600)

/* A string field s (len bytes) of at most max bytes; what names it. */
int limit_text(const char *what, size_t len, size_t max, struct errbuf *e);

/*
 * A message record: its body, provider id, client key and agent within
 * their limits, each a string where present (provider_id and key not
 * empty).
 */
int limit_message(const json_t *msg, struct errbuf *e);

/* A conversation record: its tags (count, length) and assignee. */
int limit_conversation(const json_t *conv, struct errbuf *e);

/*
 * A time a record brings in: an RFC 3339 date-time (a date alone is not
 * one) from LIMIT_TIME_MIN to LIMIT_TIME_AHEAD after now, in *out.
 * what names it in the message.
 */
int limit_time(const char *what, const char *s, time_t now, time_t *out,
    struct errbuf *e);

#endif
