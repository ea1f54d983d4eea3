/*
 * inbox-note.c: what agents record by hand (smsdesk-inbox(5)): internal
 * notes, kept in a thread among its messages and never sent; opt-outs
 * and opt-ins taken by phone or in person, with their provenance, in
 * the consent ledger sms-recv writes for STOP and START; and blocked
 * senders, whose block is kept in their conversation record.
 *
 * A note is written as a message is when no journal runs: into tmp/,
 * fsynced, renamed into msg/THREAD/ under a name no other can take, and
 * the directory fsynced, under the thread's lock. A consent record goes
 * the way inbox_consent() takes, under the thread's lock too, so two
 * hands (or a hand and a STOP) never both record the same change. A
 * block is a conversation change (inbox_update()): the conversation
 * then leaves the working set (see ib_is_resolved()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "limit.h"
#include "record.h"
#include "thread.h"
#include "when.h"

static int
nomem(struct errbuf *e)
{
	errno = ENOMEM;
	return errf(e, "%s", strerror(ENOMEM));
}

int
inbox_is_blocked(const json_t *conv)
{
	return json_is_string(json_object_get(conv, "blocked_at"));
}

int
inbox_blocked(struct inbox *ib, const char *number, struct errbuf *e)
{
	json_t *conv = inbox_conversation(ib, number, e);
	int blocked;

	if (!conv)
		return errno == ENOENT ? 0 : -1;
	blocked = inbox_is_blocked(conv);
	json_decref(conv);
	return blocked;
}

/* Whether thread has a conversation record (the caller holds its lock):
 * 1, 0, or -1 with e filled. */
static int
has_conversation(struct inbox *ib, const char *thread, struct errbuf *e)
{
	char rel[64];
	struct stat st;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (ib_stat(ib, rel, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
}

int
inbox_note(struct inbox *ib, const char *thread, const char *body,
    json_t **note, struct errbuf *e)
{
	char name[NAME_MAX_LEN], at[WHEN_BUFSZ], rel[64];
	json_t *n;
	int lk, rc;

	*note = NULL;
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "'%s' is not a thread",
		    thread ? thread : "");
	if (!body || !*body)
		return errno = EINVAL, errf(e, "a note needs a body");
	if (limit_text("note", strlen(body), LIMIT_BODY, e) < 0)
		return errno = EINVAL, -1;
	ib_unique_name(ib, name);
	when_format(when_now(), at);
	if (!(n = json_pack("{s:s,s:s,s:s,s:s}", "type", "note", "id", name,
	    "thread", thread, "at", at)) || (ib->agent &&
	    json_object_set_new(n, "agent", json_string(ib->agent)) < 0) ||
	    json_object_set_new(n, "body", json_string(body)) < 0) {
		json_decref(n);
		return nomem(e);
	}
	ib_stamp(ib, n);
	if ((lk = ib_lock_thread(ib, thread, e)) < 0) {
		json_decref(n);
		return -1;
	}
	/* A note belongs to a conversation; it never starts one. */
	if ((rc = has_conversation(ib, thread, e)) == 0) {
		errno = ENOENT;
		rc = errf(e, "%s: no such conversation", thread);
	} else if (rc > 0) {
		snprintf(rel, sizeof rel, "msg/%s", thread);
		rc = ib_make_dir(ib, rel, "msg", 0, e) < 0 ? -1 :
		    ib_put_record(ib, rel, name, n, 0, 0, e);
	}
	ib_unlock(lk);
	if (rc < 0) {
		json_decref(n);
		return -1;
	}
	*note = n;
	return 0;
}

int
inbox_consent_by_hand(struct inbox *ib, const char *number, int state,
    const struct consent_proof *p, json_t **rec, struct errbuf *e)
{
	char at[WHEN_BUFSZ], given[WHEN_BUFSZ];
	time_t now = when_now();
	json_t *c;
	int lk, was, rc = 0;

	*rec = NULL;
	if (!thread_is_number(number) || (state != 'o' && state != 'i'))
		return errno = EINVAL, errf(e, "a consent record needs an "
		    "E.164 number and a state of in or out");
	if ((p->note && limit_text("note", strlen(p->note), LIMIT_REASON,
	    e) < 0) || (p->source && limit_text("source", strlen(p->source),
	    LIMIT_NAME, e) < 0) || (p->reference && limit_text("reference",
	    strlen(p->reference), LIMIT_REASON, e) < 0))
		return errno = EINVAL, -1;
	if (p->given > now)
		return errno = EINVAL, errf(e, "consent given in the future");
	when_format(now, at);
	when_format(p->given, given);
	if (!(c = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "consent",
	    "number", number, "state", state == 'o' ? "out" : "in", "at", at,
	    "source", p->source && *p->source ? p->source : "manual")) ||
	    (p->given && json_object_set_new(c, "given_at",
	    json_string(given)) < 0) ||
	    (p->reference && json_object_set_new(c, "reference",
	    json_string(p->reference)) < 0) ||
	    (p->note && json_object_set_new(c, "note",
	    json_string(p->note)) < 0) ||
	    (ib->agent && json_object_set_new(c, "agent",
	    json_string(ib->agent)) < 0)) {
		json_decref(c);
		return nomem(e);
	}
	ib_stamp(ib, c);
	if ((lk = ib_lock_thread(ib, number, e)) < 0) {
		json_decref(c);
		return -1;
	}
	/* The same again changes nothing: a job run twice does no harm. */
	if ((was = inbox_consent_now(ib, number, e)) < 0)
		rc = -1;
	else if (was != state)
		rc = inbox_consent(ib, c, e);
	ib_unlock(lk);
	if (rc == 0 && was != state)
		*rec = c;
	else
		json_decref(c);
	return rc;
}

/* What inbox_block() asks of the conversation. */
struct block {
	struct inbox *ib;
	int block;
	const char *note;
};

static int
set_by(struct inbox *ib, json_t *conv, const char *key, struct errbuf *e)
{
	json_t *stamp = json_object();

	if (!stamp)
		return nomem(e);
	ib_stamp(ib, stamp);
	if (json_object_set(conv, key, json_object_get(stamp, "by")) < 0) {
		json_decref(stamp);
		return nomem(e);
	}
	json_decref(stamp);
	return 0;
}

/* The inbox_update() callback of inbox_block(). */
static int
edit_block(json_t *conv, void *arg, struct errbuf *e)
{
	const struct block *b = arg;
	const char *pre = b->block ? "blocked" : "unblocked";
	const char *other = b->block ? "unblocked" : "blocked";
	char at[WHEN_BUFSZ], key[32];

	if (inbox_is_blocked(conv) == b->block)
		return 1;
	when_format(when_now(), at);
	snprintf(key, sizeof key, "%s_at", other);
	json_object_del(conv, key);
	snprintf(key, sizeof key, "%s_by", other);
	json_object_del(conv, key);
	snprintf(key, sizeof key, "%s_note", b->block ? "unblock" : "block");
	json_object_del(conv, key);
	snprintf(key, sizeof key, "%s_at", pre);
	if (json_object_set_new(conv, key, json_string(at)) < 0)
		return nomem(e);
	snprintf(key, sizeof key, "%s_by", pre);
	if (set_by(b->ib, conv, key, e) < 0)
		return -1;
	if (b->note && json_object_set_new(conv, b->block ? "block_note" :
	    "unblock_note", json_string(b->note)) < 0)
		return nomem(e);
	/* A sender blocked before it wrote anything leaves no work behind
	 * once unblocked. */
	if (b->block && json_integer_value(json_object_get(conv,
	    "messages")) == 0 && json_object_set_new(conv, "status",
	    json_string(INBOX_RESOLVED)) < 0)
		return nomem(e);
	return 0;
}

int
inbox_block(struct inbox *ib, const char *thread, int block,
    const char *note, json_t **after, struct errbuf *e)
{
	struct block b = { ib, block != 0, note };

	if (note && limit_text("note", strlen(note), LIMIT_REASON, e) < 0)
		return errno = EINVAL, -1;
	return inbox_update(ib, thread, edit_block, &b, after, e);
}
