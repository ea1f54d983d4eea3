/*
 * record.h: NDJSON records, sms-record(5).
 *
 * One JSON object per line, UTF-8, compact, newline-terminated. A reader
 * streams lines from a FILE with a fixed cap (RECORD_LINE_MAX); every error
 * names the input and the line ("stdin:12: invalid JSON: ..."), and the
 * reader goes on with the next line, so one bad line costs one record.
 * Field order is kept (jansson keeps insertion order), so unknown fields
 * pass through where they were.
 *
 * Ownership: record_read() hands the caller a new reference; the caller
 * json_decref()s it. record_write() borrows.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "diag.h"

#define RECORD_LINE_MAX (1024 * 1024)

struct record_reader {
	FILE *fp;
	const char *name;	/* "stdin" or a path, for messages */
	unsigned long lineno;	/* line just read, 1-based */
	char *buf;		/* the line just read, NUL-terminated */
	size_t len;		/* its length, newline excluded */
	size_t cap;
	char *in;		/* read-ahead from fp */
	size_t in_pos, in_len;
	int eof;
};

/* Start reading fp; name is borrowed and used in error messages. */
void record_reader_init(struct record_reader *r, FILE *fp, const char *name);
void record_reader_free(struct record_reader *r);

/*
 * Read the next line. Returns 1 and sets r->buf/r->len (NUL-terminated,
 * without its newline) on success, 0 at end of input, -1 on error with e
 * filled ("name:line: ..."): a line over the cap (skipped to its end), a
 * final line without a newline, or a read error (errno set, then stop).
 */
int record_getline(struct record_reader *r, struct errbuf *e);

/*
 * Whether more input has come already: bytes are buffered, or the
 * descriptor is readable now (or at its end), so that the next read
 * starts without waiting for a writer. A reader that batches what comes
 * together (assign --auto) asks before each record; a line only partly
 * there still waits for its end.
 */
int record_ready(struct record_reader *r);

/*
 * Read the next record: a line that parses as a JSON object. Returns 1
 * with *out set, 0 at end, -1 on a bad line with e filled (the caller may
 * call again to go on) or on a read error (then ferror(r->fp) is set).
 * Blank lines are skipped.
 */
int record_read(struct record_reader *r, json_t **out, struct errbuf *e);

/* Parse buf (len bytes, one line) as a JSON object. Returns NULL and
 * fills e on failure, naming the byte offset of invalid UTF-8 or of a raw
 * NUL byte (JSON has none; a NUL in a string is written \u0000). */
json_t *record_parse(const char *buf, size_t len, struct errbuf *e);

/* Write rec compactly with a newline. Returns 0, or -1 with errno set. */
int record_write(FILE *fp, const json_t *rec);

/*
 * The record's string field `key` as a C string: NULL if absent, not a
 * string, or holding a NUL (JSON's \u0000), which a C string would cut
 * short. Records are read with NULs allowed (they pass through whole), so
 * this is the one place a string value becomes a C string; where the
 * difference matters, record_text() tells these cases apart.
 */
const char *record_str(const json_t *rec, const char *key);

/*
 * The record's field `key` as a C string in *out. Returns 1 if it is a
 * string without a NUL; 0 if it is absent or null (*out NULL); -1 with e
 * filled ("\"body\" holds a NUL (\\u0000)", "\"body\" is not a string")
 * and *out NULL otherwise.
 */
int record_text(const json_t *rec, const char *key, const char **out,
    struct errbuf *e);

/*
 * The thread a record concerns, wherever an smsdesk record keeps it
 * (sms-record(5)): its own "thread" (a conversation, a message, an event),
 * else the "thread" of the record it carries, "conversation" then
 * "message" (an event of an older release, or of a program that has not
 * put it at the top). Never "from" or "to": which of them is the customer
 * depends on the direction, and a sender's "from" is not its thread.
 * Returns 1 with *out set, 0 if there is none (*out NULL), -1 with e
 * filled if the field found is not a string or holds a NUL.
 */
int record_thread(const json_t *rec, const char **out, struct errbuf *e);

/* Whether v is a string that holds a NUL. */
int record_has_nul(const json_t *v);

/* What record_scan() found in one line. */
struct record_scan {
	size_t close;		/* offset of the object's closing brace */
	size_t nkeys;		/* top-level keys */
	int watched;		/* some top-level key is in the watch list */
	int body_kind;		/* 0 no "body", 's' string, 'n' null, 'o' other */
	const char *body;	/* a string body's raw content, between quotes */
	size_t body_len;
	int body_escaped;	/* it holds backslash escapes */
};

/*
 * Check, without building anything, that buf is one JSON object (RFC 8259,
 * valid UTF-8, no lone surrogates) and note its closing brace, its "body"
 * and whether a top-level key is one of watch (NULL-terminated; a key
 * written with escapes counts as watched). Returns 0, or -1 if the line is
 * not such an object or is nested deeper than the scanner goes; the caller
 * then falls back to record_parse(), which gives the error message.
 */
int record_scan(const char *buf, size_t len, const char *const *watch,
    struct record_scan *s);

/* A top-level field for record_pick() to find. */
struct record_field {
	const char *key;	/* its name, set by the caller */
	const char *val;	/* its value as written in the line, or NULL */
	size_t len;		/* the value's length in bytes */
};

/*
 * Check buf as record_scan() does, and find the top-level fields
 * f[0..n-1] on the way (a key written with escapes matches none). Returns
 * 1 if buf is plain: exactly the bytes record_write() would write for the
 * record jansson parses from it, without the newline (compact, escaped as
 * jansson escapes, no real, no key twice in an object); 0 if it is an
 * object written some other way (ask record_parse(): it may be fine, or
 * jansson may refuse it), -1 as record_scan(). The values point into buf.
 */
int record_pick(const char *buf, size_t len, struct record_field *f,
    size_t n);

struct buf;

/* Append the decoded text of a JSON string's content (as record_scan()
 * vouched for it) to out. Returns 0, or -1 on ENOMEM. */
int record_unescape(const char *raw, size_t n, struct buf *out);

#endif
