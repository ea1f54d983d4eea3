/*
 * inbox-history.c: history/, the append-only history of conversation
 * events (smsdesk-inbox(5), History).
 *
 * A conversation file keeps its record and a short tail of what it was;
 * the history keeps every change for good: one NDJSON line per event
 * ("message", "opened", "reopened", "assigned", "first_response",
 * "resolved", "snoozed", "woke", "pending", "status", "blocked",
 * "unblocked", "surveyed", "answered"; and of a scheduled message,
 * "canceled" and "rescheduled"), in
 * history/YYYY-MM-DD by the UTC date of the event's "at". Events are not
 * told by their writers one by one: they are read off the change itself,
 * the conversation before and after it (and the message that made it),
 * in one place, ib_history_note(), so that every writer of a
 * conversation writes them and none can forget one.
 *
 * Lines are appended with O_APPEND, one write(2) per day file and change,
 * which the kernel keeps whole against other appenders; a crash may tear
 * the last line, so a writer that finds the file not ending in a newline
 * starts its line on a new one, and readers skip what does not parse. A
 * change's lines are synced with it (fdatasync, and history/ itself when
 * the file is new), or, for a delivery its journal record made durable,
 * carried in that record: a replay appends them if the day file lacks
 * them (inbox-journal.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "inbox-impl.h"
#include "record.h"
#include "when.h"

/* "{"event":"NAME","at":"" comes first in every line; then the date. */
#define DAY_LEN 10		/* "YYYY-MM-DD" */

static int
same(const json_t *a, const json_t *b, const char *key)
{
	json_t *x = a ? json_object_get(a, key) : NULL;
	json_t *y = b ? json_object_get(b, key) : NULL;

	if (!x || json_is_null(x))
		return !y || json_is_null(y);
	return y && json_equal(x, y);
}

static const char *
str(const json_t *o, const char *key)
{
	return o ? record_str(o, key) : NULL;
}

/* Seconds from a to b (RFC 3339 times), or -1 if either is not one. */
static long long
seconds(const char *a, const char *b)
{
	time_t ta, tb;

	if (!a || !b || when_parse(a, &ta, NULL) < 0 ||
	    when_parse(b, &tb, NULL) < 0 || tb < ta)
		return -1;
	return (long long)(tb - ta);
}

/*
 * One event line into out: "event", "at", "thread" first, then the
 * fields of rest (taken), in order. An event without a time is not
 * written: nothing could place it.
 */
static void
event(struct buf *out, const char *name, const char *at, const char *thread,
    json_t *rest)
{
	json_t *ev = json_pack("{s:s,s:s,s:s}", "event", name, "at",
	    at ? at : "", "thread", thread);
	const char *k;
	json_t *v;
	char *s;

	if (!ev || !rest || !at || strlen(at) < DAY_LEN) {
		out->err |= !ev || !rest;
		json_decref(ev);
		json_decref(rest);
		return;
	}
	json_object_foreach(rest, k, v)
		json_object_set(ev, k, v);
	json_decref(rest);
	if (!(s = json_dumps(ev, JSON_COMPACT))) {
		out->err = 1;
	} else {
		buf_adds(out, s);
		buf_addc(out, '\n');
		free(s);
	}
	json_decref(ev);
}

/* The object {key: the string v, or null}. */
static json_t *
jstr(const char *v)
{
	return v ? json_string(v) : json_null();
}

static void
message_event(struct buf *out, const char *thread, const json_t *msg)
{
	const char *dir = str(msg, "direction");
	json_t *rest = json_pack("{s:s?,s:s?}", "msg", str(msg, "id"),
	    "direction", dir);
	json_t *v;

	if (!rest) {
		out->err = 1;
		return;
	}
	if (dir && strcmp(dir, "out") == 0)
		json_object_set_new(rest, "purpose",
		    json_string(inbox_purpose(msg)));
	v = json_object_get(msg, "segments");
	if (json_is_integer(v))
		json_object_set(rest, "segments", v);
	if ((v = json_object_get(msg, "agent")) && json_is_string(v))
		json_object_set(rest, "agent", v);
	if ((v = json_object_get(msg, "auto")) && json_is_string(v))
		json_object_set(rest, "auto", v);
	if ((v = json_object_get(msg, "keyword")) && json_is_string(v))
		json_object_set(rest, "keyword", v);
	if ((v = json_object_get(msg, "status")) && json_is_string(v))
		json_object_set(rest, "status", v);
	if ((v = json_object_get(msg, "send_at")) && json_is_string(v))
		json_object_set(rest, "send_at", v);
	/* Its pictures, counted: what fetching them looks for. */
	if (json_array_size(v = json_object_get(msg, "media")) > 0)
		json_object_set_new(rest, "media",
		    json_integer((json_int_t)json_array_size(v)));
	if ((v = json_object_get(json_object_get(msg, "csat"), "score")) &&
	    json_is_integer(v))
		json_object_set(rest, "csat", v);
	event(out, "message", str(msg, "at"), thread, rest);
}

/* Whether the time until (RFC 3339) has come by now. */
static int
due(const char *until, const char *now)
{
	time_t u, n;

	return until && now && when_parse(until, &u, NULL) == 0 &&
	    when_parse(now, &n, NULL) == 0 && u <= n;
}

int
ib_history_note(struct buf *out, const char *thread, const json_t *b,
    const json_t *a, const json_t *msg, const char *now)
{
	const char *ob = str(b, "opened_at"), *oa = str(a, "opened_at");
	const char *sb = str(b, "status"), *sa = str(a, "status");
	const char *mid = str(msg, "id");
	const json_t *by = json_object_get(a, "by");
	int opened = oa && (!ob || strcmp(ob, oa) != 0), woke;
	json_t *sv, *cs;

	if (msg)
		message_event(out, thread, msg);
	if (opened)
		event(out, ob ? "reopened" : "opened", oa, thread,
		    json_pack("{s:s?}", "msg", mid));
	if (!same(b, a, "assignee"))
		event(out, "assigned", str(a, "assigned_at") &&
		    !same(b, a, "assigned_at") ? str(a, "assigned_at") : now,
		    thread, json_pack("{s:o,s:o,s:O?}", "agent",
		    jstr(str(a, "assignee")), "was", jstr(str(b, "assignee")),
		    "by", by));
	if (str(a, "first_response_at") && !same(b, a, "first_response_at")) {
		const char *fr = str(a, "first_response_at");
		const char *who = msg && str(msg, "agent") ? str(msg, "agent") :
		    str(a, "assignee");
		long long s = seconds(oa, fr);

		event(out, "first_response", fr, thread, json_pack(
		    "{s:o,s:o,s:o,s:s?}", "opened_at", jstr(oa), "seconds",
		    s < 0 ? json_null() : json_integer(s), "agent", jstr(who),
		    "msg", msg && str(msg, "direction") &&
		    strcmp(str(msg, "direction"), "out") == 0 ? mid : NULL));
	}
	/* A snooze that had run out, ended by this change (ib_wake()). */
	woke = sb && strcmp(sb, INBOX_SNOOZED) == 0 && sa &&
	    strcmp(sa, INBOX_SNOOZED) != 0 && due(str(b, "snoozed_until"),
	    now);
	if (woke)
		event(out, "woke", now, thread, json_pack("{s:s,s:O?}",
		    "until", str(b, "snoozed_until"), "by", by));
	if (woke && !opened && strcmp(sa, INBOX_OPEN) == 0) {
		/* "woke" says it all. */
	} else if (sa && (!sb || strcmp(sa, sb) != 0) && !opened) {
		if (strcmp(sa, INBOX_RESOLVED) == 0) {
			const char *at = str(a, "resolved_at") ?
			    str(a, "resolved_at") : now;
			long long s = seconds(oa, at);

			event(out, "resolved", at, thread, json_pack(
			    "{s:o,s:o,s:o,s:o,s:O?}", "opened_at", jstr(oa),
			    "first_response_at", jstr(str(a,
			    "first_response_at")), "seconds", s < 0 ?
			    json_null() : json_integer(s), "agent",
			    jstr(str(a, "assignee") ? str(a, "assignee") :
			    str(b, "assignee")), "by", by));
		} else if (strcmp(sa, INBOX_SNOOZED) == 0) {
			event(out, "snoozed", now, thread, json_pack(
			    "{s:o,s:O?}", "until", jstr(str(a,
			    "snoozed_until")), "by", by));
		} else if (strcmp(sa, INBOX_PENDING) == 0) {
			event(out, "pending", now, thread, json_pack("{s:O?}",
			    "by", by));
		} else if (sb && strcmp(sb, INBOX_RESOLVED) == 0) {
			event(out, "reopened", now, thread, json_pack(
			    "{s:O?}", "by", by));
		} else if (b) {
			event(out, "status", now, thread, json_pack(
			    "{s:s?,s:s,s:O?}", "from", sb, "to", sa, "by", by));
		}
	}
	if (!same(b, a, "blocked_at"))
		event(out, str(a, "blocked_at") ? "blocked" : "unblocked",
		    str(a, "blocked_at") ? str(a, "blocked_at") : now, thread,
		    json_pack("{s:O?}", "by", by));
	sv = json_object_get(a, "survey");
	if (json_is_object(sv) && !same(b ? json_object_get(b, "survey") :
	    NULL, sv, "id"))
		event(out, "surveyed", str(sv, "sent_at"), thread, json_pack(
		    "{s:o,s:o,s:o,s:o,s:o}", "survey", jstr(str(sv, "id")),
		    "scale", jstr(str(sv, "scale")), "agent", jstr(str(sv,
		    "agent")), "until", jstr(str(sv, "until")), "resolved_at",
		    jstr(str(sv, "resolved_at"))));
	cs = json_object_get(a, "csat");
	if (json_is_object(cs) && !same(b, a, "csat"))
		event(out, "answered", str(cs, "at"), thread, json_pack(
		    "{s:o,s:o,s:O?,s:o,s:o,s:o}", "survey", jstr(str(cs,
		    "survey")), "scale", jstr(str(cs, "scale")), "score",
		    json_object_get(cs, "score"), "comment", jstr(str(cs,
		    "comment")), "agent", jstr(str(cs, "agent")), "msg",
		    jstr(str(cs, "msg"))));
	return out->err ? (errno = ENOMEM, -1) : 0;
}

int
ib_history_message(struct buf *out, const char *thread, const json_t *b,
    const json_t *a, const char *now)
{
	const char *sb = str(b, "status"), *sa = str(a, "status");
	const json_t *by = json_object_get(a, "by");

	if (!sa || !sb)
		return 0;
	if (strcmp(sa, "queued") == 0 && strcmp(sb, "queued") != 0)
		message_event(out, thread, a);
	else if (strcmp(sa, "canceled") == 0 && strcmp(sb, "canceled") != 0)
		event(out, "canceled", now, thread, json_pack(
		    "{s:s?,s:s?,s:s?,s:O?}", "msg", str(a, "id"), "send_at",
		    str(b, "send_at"), "code", str(json_object_get(a, "error"),
		    "code"), "by", by));
	else if (strcmp(sa, "scheduled") == 0 && (strcmp(sb, "scheduled") !=
	    0 || !same(b, a, "send_at")))
		event(out, "rescheduled", now, thread, json_pack(
		    "{s:s?,s:s?,s:s?,s:O?}", "msg", str(a, "id"), "send_at",
		    str(a, "send_at"), "was", str(b, "send_at"), "by", by));
	return out->err ? (errno = ENOMEM, -1) : 0;
}

void
ib_history_stamp(const json_t *b, json_t *a, const char *now)
{
	const char *sb = str(b, "status"), *sa = str(a, "status");

	if (sa && strcmp(sa, INBOX_RESOLVED) == 0 && sb &&
	    strcmp(sb, INBOX_RESOLVED) != 0)
		json_object_set_new(a, "resolved_at", json_string(now));
}

/*
 * Open history/DAY for appending, made if missing (*made set: history/
 * then needs a sync for its name to last).
 */
static int
open_day(struct inbox *ib, const char *day, int *made)
{
	char rel[32];
	int fd;

	snprintf(rel, sizeof rel, "history/%.*s", DAY_LEN, day);
	*made = 0;
	for (int tries = 0; tries < 2; tries++) {
		if ((fd = ib_open(ib, rel, O_RDWR | O_APPEND, 0, NULL)) >= 0 ||
		    errno != ENOENT)
			return fd;
		if ((fd = ib_open(ib, rel, O_RDWR | O_APPEND | O_CREAT |
		    O_EXCL, 0600, NULL)) >= 0) {
			*made = 1;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* Whether the file open on fd ends in the middle of a line (a torn one). */
static int
torn(int fd)
{
	struct stat st;
	char c;

	return fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n';
}

/* Append the lines p (len bytes, all of one day) to that day's file. */
static int
append_day(struct inbox *ib, const char *p, size_t len, int defer_sync,
    struct errbuf *e)
{
	char day[DAY_LEN + 1];
	struct buf b = { 0 };
	const char *w = p;
	size_t n = len;
	ssize_t got;
	int fd, made, rc = 0;

	memcpy(day, p + sizeof "{\"event\":\"" - 1 + strcspn(p +
	    sizeof "{\"event\":\"" - 1, "\"") + sizeof "\",\"at\":\"" - 1,
	    DAY_LEN);
	day[DAY_LEN] = '\0';
	if ((fd = open_day(ib, day, &made)) < 0)
		return errf(e, "%s/history/%s: %s", ib->dir, day,
		    ib_strerror(errno));
	if (torn(fd)) {
		buf_addc(&b, '\n');
		buf_add(&b, p, len);
		if (b.err) {
			close(fd);
			return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
		}
		w = b.p, n = b.len;
	}
	if ((got = write(fd, w, n)) != (ssize_t)n) {
		if (got >= 0)
			errno = ENOSPC;
		rc = errf(e, "%s/history/%s: %s", ib->dir, day,
		    strerror(errno));
	} else if (!defer_sync && fdatasync(fd) < 0) {
		rc = errf(e, "%s/history/%s: %s", ib->dir, day,
		    strerror(errno));
	} else if (!defer_sync && (made || ib_young(ib, fd)) &&
	    ib_sync_dir(ib, "history", e) < 0) {
		rc = -1;
	}
	buf_free(&b);
	/* A write's error may show only now (NFS, a quota). */
	if (close(fd) < 0 && rc == 0)
		rc = errf(e, "%s/history/%s: %s", ib->dir, day,
		    strerror(errno));
	return rc;
}

/* The date of line p's "at" (see event()), or NULL if it has none. */
static const char *
day_of(const char *p, size_t len)
{
	static const char head[] = "{\"event\":\"";
	const char *q, *end = p + len;

	if (len < sizeof head || memcmp(p, head, sizeof head - 1) != 0 ||
	    !(q = memchr(p + sizeof head - 1, '"', len - sizeof head + 1)) ||
	    (size_t)(end - q) < sizeof "\",\"at\":\"" + DAY_LEN ||
	    memcmp(q, "\",\"at\":\"", sizeof "\",\"at\":\"" - 1) != 0)
		return NULL;
	return q + sizeof "\",\"at\":\"" - 1;
}

int
ib_history_write(struct inbox *ib, const char *text, size_t len,
    int defer_sync, struct errbuf *e)
{
	const char *p = text, *end = text + len, *q, *d, *d2;

	while (p < end) {
		/* The run of lines of the same day as the first. */
		if (!(q = memchr(p, '\n', (size_t)(end - p))) ||
		    !(d = day_of(p, (size_t)(q - p))))
			return errno = EINVAL, errf(e, "%s/history: not an "
			    "event line", ib->dir);
		while (q + 1 < end) {
			const char *r = memchr(q + 1, '\n',
			    (size_t)(end - q - 1));

			if (!r || !(d2 = day_of(q + 1, (size_t)(r - q - 1))) ||
			    memcmp(d, d2, DAY_LEN) != 0)
				break;
			q = r;
		}
		if (append_day(ib, p, (size_t)(q + 1 - p), defer_sync, e) < 0)
			return -1;
		p = q + 1;
	}
	return 0;
}

/*
 * Whether p (len bytes) has needle (n bytes) in a whole line that parses:
 * not in the head of a line a crash tore, which the next writer closed
 * with a newline, and which readers skip (it would hide an event lost).
 */
static int
whole_line_has(const char *p, size_t len, const char *needle, size_t n)
{
	const char *at = p, *end = p + len, *s, *nl;
	json_t *j;

	while (at < end && (s = memmem(at, (size_t)(end - at), needle, n))) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			return 0;
		at = s;
		while (at > p && at[-1] != '\n')
			at--;
		if ((j = json_loadb(at, (size_t)(nl - at), 0, NULL))) {
			json_decref(j);
			return 1;
		}
		at = nl + 1;
	}
	return 0;
}

/*
 * Whether history/DAY of line p holds it already: for a replay, which
 * appends a journaled delivery's lines only if its checkpoint never came.
 * A message event names its message, which only one delivery stores, so
 * its "thread" and "msg" are looked for; the lines after it in the same
 * write come and go with it.
 */
int
ib_history_has(struct inbox *ib, struct ib_history_seen *seen,
    const char *text, size_t len)
{
	const char *d = day_of(text, len), *m, *q;
	char rel[32];
	struct stat st;
	size_t n, want;
	ssize_t got;
	int fd;

	if (!d || !(m = memmem(text, len, "\"thread\":", 9)) ||
	    !(q = memmem(m, len - (size_t)(m - text), "\"msg\":\"", 7)) ||
	    !(q = memchr(q + 7, '"', len - (size_t)(q + 7 - text))))
		return 0;
	n = (size_t)(q + 1 - m);
	snprintf(rel, sizeof rel, "history/%.*s", DAY_LEN, d);
	if ((fd = ib_open(ib, rel, O_RDONLY, 0, &st)) < 0)
		return 0;
	/* Another day, or a file that shrank (not ours to trust): anew. */
	if (strncmp(seen->day, d, DAY_LEN) != 0 ||
	    (size_t)st.st_size < seen->len) {
		snprintf(seen->day, sizeof seen->day, "%.*s", DAY_LEN, d);
		seen->len = 0;
	}
	want = (size_t)st.st_size;
	if (want > seen->cap) {
		char *p = realloc(seen->p, want);

		if (!p) {
			close(fd);
			seen->day[0] = '\0';
			return 0;
		}
		seen->p = p;
		seen->cap = want;
	}
	while (seen->len < want && ((got = pread(fd, seen->p + seen->len,
	    want - seen->len, (off_t)seen->len)) > 0 ||
	    (got < 0 && errno == EINTR)))
		if (got > 0)
			seen->len += (size_t)got;
	close(fd);
	return whole_line_has(seen->p, seen->len, m, n);
}

void
ib_history_seen_free(struct ib_history_seen *seen)
{
	free(seen->p);
	memset(seen, 0, sizeof *seen);
}

/*
 * Hand fn each whole line of the file open on fd, read in chunks of b
 * (a line longer than RECORD_LINE_MAX is passed over): 0, fn's first
 * non-zero return, or -1 with errno set.
 */
static int
each_line(int fd, struct buf *b, inbox_history_fn fn, void *arg)
{
	size_t keep = 0, skip = 0;
	ssize_t got;
	int rc;

	for (;;) {
		const char *p, *nl, *end;

		b->len = keep;
		if (buf_grow(b, 1 << 20) < 0)
			return -1;
		if ((got = read(fd, b->p + b->len, b->cap - b->len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			return 0;	/* a last line without its newline */
		b->len += (size_t)got;
		for (p = b->p, end = b->p + b->len;
		    (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
			if (skip) {
				skip = 0;
				continue;
			}
			if (nl > p && (rc = fn(p, (size_t)(nl - p), arg)) != 0)
				return rc;
		}
		keep = (size_t)(end - p);
		if (keep > RECORD_LINE_MAX)
			keep = 0, skip = 1;
		memmove(b->p, p, keep);
	}
}

int
inbox_history_each(struct inbox *ib, const char *from, const char *to,
    inbox_history_fn fn, void *arg, struct errbuf *e)
{
	struct buf b = { 0 };
	char **names, rel[32];
	size_t n, i;
	int rc = 0, fd;

	if (!(names = ib_list_names(ib, "history", &n, e)))
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (strlen(names[i]) != DAY_LEN ||
		    (from && strcmp(names[i], from) < 0) ||
		    (to && strcmp(names[i], to) > 0))
			continue;
		snprintf(rel, sizeof rel, "history/%s", names[i]);
		if ((fd = ib_open(ib, rel, O_RDONLY, 0, NULL)) < 0) {
			if (errno == ENOENT)
				continue;
			rc = errf(e, "%s/%s: %s", ib->dir, rel,
			    ib_strerror(errno));
			break;
		}
		if ((rc = each_line(fd, &b, fn, arg)) < 0)
			errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
		close(fd);
	}
	buf_free(&b);
	ib_free_names(names, n);
	return rc;
}
