/*
 * hand.c: inbox-mark's records made by hand, inbox-mark(1): an internal
 * note on a conversation (--note), an opt-out or opt-in taken by phone or
 * in person (--optout, --optin, with --source and --note as provenance),
 * and a blocked sender (--block, --unblock, --note the reason). The
 * library keeps each (inbox_note(), inbox_consent_by_hand(),
 * inbox_block()); here they are checked, applied and announced: an event
 * record (note.added, consent.optout, consent.optin, sender.blocked,
 * sender.unblocked) with the thread at its top level, or a short line on
 * a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"
#include "limit.h"
#include "record.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"
#include "inbox-mark/hand.h"

/* Text for a record: UTF-8, not empty, at most max bytes. */
static void
text_ok(const char *opt, const char *s, size_t len, size_t max)
{
	struct errbuf e;

	if (len == 0)
		diag_die(EXIT_USAGE, "%s: empty", opt);
	if (utf8_valid_prefix(s, len) != len || memchr(s, '\0', len))
		diag_die(EXIT_USAGE, "%s: not UTF-8 text", opt);
	if (limit_text(opt, len, max, &e) < 0)
		diag_die(EXIT_USAGE, "%s", e.msg);
}

/* The note from stdin, less one final newline. */
static void
read_note(struct hand *h)
{
	size_t len = 0, cap = 0, n;
	char *p = NULL, *np;

	if (isatty(STDIN_FILENO))
		diag_warn("reading the note from the terminal (end it with "
		    "^D)");
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > 2 * (size_t)LIMIT_BODY + 8192)
				diag_die(EXIT_USAGE, "--note: over %d bytes",
				    LIMIT_BODY);
			if (!(np = realloc(p, cap)))
				diag_die(EXIT_IOERR, "%s", strerror(errno));
			p = np;
		}
		n = fread(p + len, 1, cap - len - 1, stdin);
		len += n;
	} while (n > 0);
	if (ferror(stdin))
		diag_die(EXIT_IOERR, "stdin: %s", strerror(errno));
	if (len > 0 && p[len - 1] == '\n')
		len--;
	p[len] = '\0';
	h->note = h->note_buf = p;
}

void
hand_check(struct hand *h, int numbered)
{
	int reason = h->consent || h->block;

	if (h->source && !h->consent)
		diag_die(EXIT_USAGE, "--source goes with --optout or --optin");
	if (h->reference && !h->consent)
		diag_die(EXIT_USAGE, "--reference goes with --optout or "
		    "--optin");
	if (h->given && !h->consent)
		diag_die(EXIT_USAGE, "--given goes with --optout or --optin");
	if (h->source)
		text_ok("--source", h->source, strlen(h->source), LIMIT_NAME);
	if (h->reference)
		text_ok("--reference", h->reference, strlen(h->reference),
		    LIMIT_REASON);
	if (h->note && strcmp(h->note, "-") == 0) {
		if (!numbered)
			diag_die(EXIT_USAGE, "--note -: the note comes from "
			    "stdin, so the NUMBERs must be arguments");
		read_note(h);
	}
	if (h->note)
		text_ok("--note", h->note, strlen(h->note),
		    reason ? LIMIT_REASON : LIMIT_BODY);
}

int
hand_internal_note(const struct hand *h)
{
	return h->note && !h->consent && !h->block;
}

/* Announce a change: an event record (key: obj), or a line. */
static void
announce(struct hand *h, const char *event, const char *thread,
    const char *key, json_t *obj, const char *line)
{
	char now[WHEN_BUFSZ];
	json_t *rec;

	if (!h->json) {
		printf("%s: %s\n", thread, line);
		return;
	}
	when_format(time(NULL), now);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:O}", "type", "event", "event",
	    event, "thread", thread, "at", now, key, obj);
	if (!rec)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	/* The inbox has changed either way: a failed write is reported at
	 * the end, and the changes go on. */
	if (!ferror(stdout) && record_write(stdout, rec) < 0)
		h->out_errno = errno;
	json_decref(rec);
}

/* A failure of the library: said, and the exit code it calls for. */
static int
failed(const char *thread, const struct errbuf *e)
{
	int err = errno;

	if (err == EINVAL)
		diag_warn("%s: %s: not changed", thread, e->msg);
	else
		diag_warn("%s", e->msg);
	return err == EINVAL ? EXIT_PARTIAL : diag_exit_for(err);
}

static int
consent(struct hand *h, struct inbox *ib, const char *thread)
{
	struct consent_proof p = { h->source, h->note, h->reference,
	    h->given };
	struct errbuf e;
	char line[128];
	json_t *rec;

	if (!thread_is_number(thread)) {
		diag_warn("%s: not a phone number: nothing is sent to it, so "
		    "it has no consent to record", thread);
		return EXIT_PARTIAL;
	}
	if (inbox_consent_by_hand(ib, thread, h->consent, &p, &rec, &e) < 0)
		return failed(thread, &e);
	if (!rec)
		return 0;
	snprintf(line, sizeof line, "opted %s (%s)", h->consent == 'o' ?
	    "out" : "in", record_str(rec, "source"));
	announce(h, h->consent == 'o' ? "consent.optout" : "consent.optin",
	    thread, "consent", rec, line);
	json_decref(rec);
	return 0;
}

static int
block(struct hand *h, struct inbox *ib, const char *thread)
{
	int on = h->block == 'b';
	struct errbuf e;
	json_t *after;
	int rc;

	rc = inbox_block(ib, thread, on, h->note, &after, &e);
	if (rc < 0)
		return failed(thread, &e);
	if (rc == 0)
		announce(h, on ? "sender.blocked" : "sender.unblocked", thread,
		    "conversation", after, on ? "blocked" : "unblocked");
	json_decref(after);
	return 0;
}

int
hand_ledgers(struct hand *h, struct inbox *ib, const char *thread)
{
	int code;

	if (h->consent && (code = consent(h, ib, thread)) != 0)
		return code;
	if (h->block && (code = block(h, ib, thread)) != 0)
		return code;
	return 0;
}

int
hand_note(struct hand *h, struct inbox *ib, const char *thread)
{
	struct errbuf e;
	json_t *note;

	if (inbox_note(ib, thread, h->note, &note, &e) < 0) {
		if (errno == ENOENT) {
			diag_warn("%s", e.msg);
			return EXIT_PARTIAL;
		}
		return failed(thread, &e);
	}
	announce(h, "note.added", thread, "note", note, "note added");
	json_decref(note);
	return 0;
}

void
hand_free(struct hand *h)
{
	free(h->note_buf);
}
