/*
 * inbox.c: the flat-file inbox (layout and ordering rules in inbox.h,
 * the rules every write follows in inbox-impl.h): opening it, and the
 * changes made to it: a message delivered, with its conversation, its
 * ledger entries and a consent record (inbox_deliver()); a provider's
 * answer to a send (inbox_sent()); a delivery report, parked under its
 * key until its message is known (inbox_status()); a conversation
 * changed (inbox_update()).
 *
 * Relies on inbox-file.c and inbox-log.c to write and read files, and on
 * inbox-journal.c for a journaled delivery's record. What programs list
 * and read is in inbox-read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "inbox-impl.h"
#include "inbox.h"
#include "journal.h"
#include "limit.h"
#include "provider.h"
#include "record.h"
#include "thread.h"
#include "when.h"

static char *
concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 1);

	if (p) {
		memcpy(p, a, la);
		memcpy(p + la, b, lb + 1);
	}
	return p;
}

char *
inbox_path(const char *dir)
{
	const char *env = getenv("SMSDESK_INBOX"), *base;

	if (dir && *dir)
		return strdup(dir);
	if (env && *env)
		return strdup(env);
	if ((base = getenv("XDG_DATA_HOME")) && *base == '/')
		return concat(base, "/smsdesk/inbox");
	if (!(base = getenv("HOME")) || !*base)
		return errno = ENOENT, NULL;
	return concat(base, "/.local/share/smsdesk/inbox");
}

/* mkdir -p for path (absolute), each component 0700: 1 if it made the
 * last, 0 if that was there, -1. */
static int
make_dirs(const char *path)
{
	char buf[PATH_MAX], *p;
	int end, made;

	if (strlen(path) >= sizeof buf)
		return errno = ENAMETOOLONG, -1;
	strcpy(buf, path);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		end = *p == '\0';
		*p = '\0';
		made = 0;
		if (mkdir(buf, 0700) == 0) {
			/* A new name: durable once its parent is synced. */
			made = 1;
			char *slash = strrchr(buf, '/');
			int fd;

			if (slash)
				*slash = '\0';
			fd = open(!slash ? "." : slash == buf ? "/" : buf,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (slash)
				*slash = '/';
			if (fd < 0 || fsync(fd) < 0) {
				int saved = errno;

				if (fd >= 0)
					close(fd);
				/* Made again, and synced, next time. */
				rmdir(buf);
				return errno = saved, -1;
			}
			if (close(fd) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return -1;
		}
		if (end)
			return made;
		*p = '/';
	}
}

/*
 * The trusted group named group (a name or a number) in ib; 0, or -1
 * with errno EINVAL if there is no such group.
 */
static int
trust_group(struct inbox *ib, const char *group)
{
	struct group *gr = getgrnam(group);
	char *end;
	unsigned long n;

	if (gr) {
		ib->group = (unsigned)gr->gr_gid;
	} else {
		errno = 0;
		n = strtoul(group, &end, 10);
		if (errno || end == group || *end || n > (gid_t)-2)
			return errno = EINVAL, -1;
		ib->group = (unsigned)n;
	}
	ib->grouped = 1;
	return 0;
}

int
inbox_group_check(const char *group, struct errbuf *e)
{
	struct inbox ib;

	if (group && *group && trust_group(&ib, group) < 0)
		return errf(e, "group '%s': no such group", group);
	return 0;
}

int
inbox_open(struct inbox *ib, const char *dir, int create, struct errbuf *e)
{
	return inbox_open_group(ib, dir, create, NULL, e);
}

int
inbox_open_group(struct inbox *ib, const char *dir, int create,
    const char *group, struct errbuf *e)
{
	struct passwd *pw;
	struct stat st;
	size_t i;
	int fd, made = 0;

	memset(ib, 0, sizeof *ib);
	ib->fd = -1;
	for (i = 0; i < INBOX_NSUB; i++)
		ib->sub[i] = -1;
	ib->pid = (long)getpid();
	if (gethostname(ib->host, sizeof ib->host - 1) < 0 || !ib->host[0])
		strcpy(ib->host, "localhost");
	for (char *p = ib->host; *p; p++)
		if (*p == '/' || *p == '.' || *p == ':')
			*p = '_';
	/* Who makes the changes, for their records' "by". */
	if ((pw = getpwuid(geteuid())) && pw->pw_name && *pw->pw_name &&
	    strlen(pw->pw_name) < sizeof ib->user)
		snprintf(ib->user, sizeof ib->user, "%s", pw->pw_name);
	else
		snprintf(ib->user, sizeof ib->user, "%lu",
		    (unsigned long)geteuid());
	if (group && *group && trust_group(ib, group) < 0)
		return errf(e, "group '%s': no such group", group);
	if (!(ib->dir = inbox_path(dir)))
		return errf(e, "no inbox: set SMSDESK_INBOX or HOME");
	if (create && (made = make_dirs(ib->dir)) < 0)
		return errf(e, "%s: %s", ib->dir, strerror(errno));
	ib->fd = open(ib->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ib->fd < 0)
		return errf(e, "%s: %s", ib->dir, errno == ENOENT ?
		    "no inbox" : strerror(errno));
	/* An inbox this made is the trusted group's, as its directories. */
	if (made > 0 && ib->grouped && ib_share_dir(ib, ib->fd, ".") < 0)
		return errf(e, "%s: %s", ib->dir, strerror(errno));
	if (fstat(ib->fd, &st) < 0)
		return errf(e, "%s: %s", ib->dir, strerror(errno));
	if (ib_check_dir(ib, &st) < 0)
		return errno = EACCES, errf(e, "%s: %s", ib->dir,
		    ib_strerror(IB_EUNTRUSTED));
	/*
	 * Each directory opened once, never through a symbolic link, and
	 * checked as the inbox is: every file is reached from these.
	 */
	for (i = 0; i < INBOX_NSUB; i++) {
		const char *sub = ib_subdirs[i];

		fd = ib_open_subdir(ib->fd, sub);
		/* msg/ marks an inbox; the rest an older version may lack. */
		if (fd < 0 && errno == ENOENT && (create || i > 0)) {
			if (mkdirat(ib->fd, sub, 0700) == 0 ?
			    ib_share_dir(ib, ib->fd, sub) < 0 :
			    errno != EEXIST)
				return errf(e, "%s/%s: %s", ib->dir, sub,
				    strerror(errno));
			fd = ib_open_subdir(ib->fd, sub);
		}
		if (fd < 0 && errno == ENOENT)
			return errf(e, "%s: not an inbox (no %s/)", ib->dir,
			    sub);
		if (fd < 0)
			return errf(e, "%s/%s: %s", ib->dir, sub,
			    ib_strerror(errno));
		ib->sub[i] = fd;
		if (fstat(fd, &st) < 0)
			return errf(e, "%s/%s: %s", ib->dir, sub,
			    strerror(errno));
		if (ib_check_dir(ib, &st) < 0)
			return errno = EACCES, errf(e, "%s/%s: %s", ib->dir,
			    sub, ib_strerror(IB_EUNTRUSTED));
	}
	return create ? ib_sync_dir(ib, ".", e) : 0;
}

int
inbox_share_dir(struct inbox *ib, int dfd, const char *leaf)
{
	return ib_share_dir(ib, dfd, leaf);
}

void
inbox_close(struct inbox *ib)
{
	if (ib->journal)
		inbox_journal_stop(ib, NULL);
	for (size_t i = 0; i < INBOX_NSUB; i++) {
		if (ib->sub[i] >= 0)
			close(ib->sub[i]);
		ib->sub[i] = -1;
	}
	if (ib->fd >= 0)
		close(ib->fd);
	free(ib->dir);
	ib->fd = -1;
	ib->dir = NULL;
}

/* Append s to out at *n, bytes outside [A-Za-z0-9_] (and '-' where
 * allowed) as %XX; -1 if it does not fit. */
static int
escape_into(char *out, size_t *n, const char *s, int dash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (*n + 4 >= NAME_MAX_LEN)
			return -1;
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || c == '_' || (dash && c == '-')) {
			out[(*n)++] = (char)c;
		} else {
			out[(*n)++] = '%';
			out[(*n)++] = hex[c >> 4];
			out[(*n)++] = hex[c & 15];
		}
	}
	return 0;
}

/*
 * The ledger name for a provider id, "provider-id", every byte outside a
 * safe set escaped so that neither part can make a path or run into the
 * other. An id whose escaped form does not fit a name (NAME_MAX_LEN) is
 * named by its BLAKE2b-256 hash instead, "provider-%%HEX": escaping never
 * writes "%%", so a hashed name meets no plain one, and two ids meet only
 * if their hashes do. Returns 0, or -1 with errno EINVAL for an empty id
 * or one over LIMIT_ID bytes (a client key, provider "key": LIMIT_KEY):
 * bad data, not an I/O error.
 */
int
ib_id_key(const char *provider, const char *pid, char out[NAME_MAX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[crypto_generichash_BYTES];
	size_t n = 0, len = strlen(pid), sep, i;

	if (!len || len > (strcmp(provider, "key") == 0 ? LIMIT_KEY :
	    LIMIT_ID) || escape_into(out, &n, provider, 0) < 0)
		return errno = EINVAL, -1;
	out[n++] = '-';
	sep = n;
	if (escape_into(out, &n, pid, 1) == 0) {
		out[n] = '\0';
		return 0;
	}
	n = sep;
	if (n + 2 + 2 * sizeof h >= NAME_MAX_LEN)
		return errno = EINVAL, -1;
	if (sodium_init() < 0)
		return errno = EIO, -1;
	crypto_generichash(h, sizeof h, (const unsigned char *)pid, len,
	    NULL, 0);
	out[n++] = '%';
	out[n++] = '%';
	for (i = 0; i < sizeof h; i++) {
		out[n++] = hex[h[i] >> 4];
		out[n++] = hex[h[i] & 15];
	}
	out[n] = '\0';
	return 0;
}

static void
now_string(char out[WHEN_BUFSZ])
{
	when_format(when_now(), out);
}

static json_t *
new_conversation(const char *thread, const char *at)
{
	return json_pack("{s:s,s:s,s:s,s:n,s:i,s:i,s:s,s:n,s:n,s:n,s:n,"
	    "s:n,s:[],s:n,s:n,s:n}", "type", "conversation", "thread", thread,
	    "status", INBOX_OPEN, "assignee", "unread", 0, "messages", 0,
	    "opened_at", at, "first_response_at", "last_in_at", "last_out_at",
	    "waiting_since", "last_body", "tags", "csat", "last_in_channel",
	    "whatsapp_in_at");
}

/*
 * work/ follows the status: a conversation joins the working set before
 * its record says it is open and leaves only after its record says it is
 * resolved, so a crash in between can only leave a resolved one listed
 * (and filtered out), never an open one lost. ib_work_join() sets *created if
 * the entry is new: work/ then needs an fsync.
 */
int
ib_work_join(struct inbox *ib, const char *thread, int *created,
    struct errbuf *e)
{
	char rel[64];
	int fd;

	*created = 0;
	snprintf(rel, sizeof rel, "work/%s", thread);
	fd = ib_open(ib, rel, O_WRONLY | O_CREAT | O_EXCL, 0600, NULL);
	if (fd >= 0) {
		close(fd);
		*created = 1;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return errf(e, "%s/%s: %s", ib->dir, rel, ib_strerror(errno));
}

static int
work_leave(struct inbox *ib, const char *thread, int defer_sync,
    struct errbuf *e)
{
	char rel[64];

	snprintf(rel, sizeof rel, "work/%s", thread);
	if (ib_unlink(ib, rel, 0) == 0)
		return defer_sync ? 0 : ib_sync_dir(ib, "work", e);
	if (errno == ENOENT)
		return 0;
	return errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
}

/* Whether conv is out of the working set: resolved, or its sender
 * blocked (inbox_block()). */
int
ib_is_resolved(const json_t *conv)
{
	const char *status = record_str(conv, "status");

	return (status && strcmp(status, INBOX_RESOLVED) == 0) ||
	    inbox_is_blocked(conv);
}

/*
 * A snooze that has run out ends with the next change of its
 * conversation, whoever makes it: if before was snoozed until a time that
 * has come and conv (after the change) still is, until the same time,
 * conv is open again, without snoozed_until. Its history then says
 * "woke" (ib_history_note()), once, and inbox_wake() finds nothing left
 * to wake. 1 if it woke conv, else 0.
 */
int
ib_wake(const json_t *before, json_t *conv)
{
	const char *sb = record_str(before, "status");
	const char *sa = record_str(conv, "status");
	const char *ub = record_str(before, "snoozed_until");
	const char *ua = record_str(conv, "snoozed_until");
	time_t until;

	if (!before || !sb || !sa || !ub || !ua ||
	    strcmp(sb, INBOX_SNOOZED) != 0 || strcmp(sa, INBOX_SNOOZED) != 0 ||
	    strcmp(ub, ua) != 0 || when_parse(ub, &until, NULL) < 0 ||
	    until > when_now())
		return 0;
	json_object_set_new(conv, "status", json_string(INBOX_OPEN));
	json_object_del(conv, "snoozed_until");
	return 1;
}

/* inbox_wake()'s change: a snooze whose time has come ends. */
static int
wake_fn(json_t *conv, void *arg, struct errbuf *e)
{
	const char *st = record_str(conv, "status");
	const char *until = record_str(conv, "snoozed_until");
	time_t t;

	(void)e;
	*(json_t **)arg = NULL;
	if (!st || strcmp(st, INBOX_SNOOZED) != 0 || !until ||
	    when_parse(until, &t, NULL) < 0 || t > when_now())
		return 1;
	if (!(*(json_t **)arg = json_string(until)))
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	json_object_set_new(conv, "status", json_string(INBOX_OPEN));
	json_object_del(conv, "snoozed_until");
	return 0;
}

int
inbox_wake(struct inbox *ib, const char *thread, char *until,
    size_t size, json_t **after, struct errbuf *e)
{
	json_t *u = NULL;
	int rc;

	/* A thread without a conversation gets a fresh one, open: no
	 * snooze, so nothing is written. */
	rc = inbox_update(ib, thread, wake_fn, &u, after, e);
	if (rc == 0 && until)
		snprintf(until, size, "%s", json_string_value(u));
	json_decref(u);
	return rc;
}

/*
 * Write conv for thread durably, keeping work/ in step; lf, if not NULL,
 * is the file as load_conversation() left it open. before is conv as it
 * was (NULL: a change whose events are written elsewhere, a replay's):
 * a change that resolves it stamps "resolved_at", and its events go to
 * history/ first (inbox-history.c), synced as the change is (a lazy
 * append's lazily), so that the history never says less than the
 * conversations do: a change that fails after them leaves events of a
 * change that was tried and said to have failed.
 */
int
ib_write_conversation(struct inbox *ib, const char *thread, json_t *conv,
    const char *was, const json_t *before, struct logf *lf,
    struct errbuf *e)
{
	char now[INBOX_QUEUE_NAME_MAX], at[WHEN_BUFSZ];
	struct buf h = { 0 };
	int created, rc = 0;

	if (before) {
		ib_wake(before, conv);
		now_string(at);
		ib_history_stamp(before, conv, at);
		if (ib_history_note(&h, thread, before, conv, NULL, at) < 0)
			rc = errf(e, "%s", strerror(ENOMEM));
		else if (h.len)
			rc = ib_history_write(ib, h.p, h.len, lf &&
			    (lf->defer_sync || lf->lazy), e);
		buf_free(&h);
	}
	inbox_queue_name_json(thread, conv, now);
	if (rc == 0 && ib_queue_enter(ib, was, now, !lf || !lf->defer_sync) <
	    0)
		rc = errf(e, "%s/queue/%s: %s", ib->dir, now, strerror(errno));
	if (rc == 0 && !ib_is_resolved(conv) && (ib_work_join(ib, thread,
	    &created, e) < 0 || (created && ib_sync_dir(ib, "work", e) < 0)))
		rc = -1;
	if (rc < 0) {
		int saved = errno;

		if (lf && lf->fd >= 0)
			close(lf->fd);
		errno = saved;
		return -1;
	}
	if ((lf ? ib_log_append(ib, "conv", thread, lf, conv, NULL, e) :
	    ib_log_put(ib, "conv", thread, conv, e)) < 0)
		return -1;
	ib_queue_leave(ib, was, now);
	return ib_is_resolved(conv) ? work_leave(ib, thread, 0, e) : 0;
}

/*
 * The conversation of thread, or a new one; NULL only on a real error.
 * Its file stays open in lf (fd -1 if there is none) for the change:
 * the caller appends with ib_log_append() or closes lf->fd.
 */
static json_t *
load_conversation(struct inbox *ib, const char *thread, const char *at,
    struct logf *lf, struct errbuf *e)
{
	char rel[64];
	json_t *c;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if ((c = ib_log_read(ib, rel, lf, e)) || (errno != ENOENT &&
	    errno != EBADMSG))
		return c;
	/* A quarantined record is rebuilt from here on; the thread stays. */
	return new_conversation(thread, at);
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void
count(json_t *o, const char *k, json_int_t by)
{
	json_object_set_new(o, k, json_integer(
	    json_integer_value(json_object_get(o, k)) + by));
}

const char *
inbox_purpose(const json_t *msg)
{
	const char *p = record_str(msg, "purpose");

	if (p)
		return p;
	return json_is_string(json_object_get(msg, "auto")) ?
	    INBOX_NOTIFICATION : INBOX_REPLY;
}

int
inbox_purpose_valid(const char *p)
{
	return p && (strcmp(p, INBOX_REPLY) == 0 ||
	    strcmp(p, INBOX_NOTIFICATION) == 0 ||
	    strcmp(p, INBOX_MARKETING) == 0);
}

int
inbox_went_out(const json_t *msg)
{
	static const char *const not_out[] = {
		"unknown", "failed", "undelivered", "canceled", "deferred",
		"scheduled",
	};
	const char *dir = record_str(msg, "direction");
	const char *st = record_str(msg, "status");

	if (!dir || strcmp(dir, "out") != 0 ||
	    json_is_object(json_object_get(msg, "error")))
		return 0;
	if (!st)
		return 1;
	for (size_t i = 0; i < sizeof not_out / sizeof *not_out; i++)
		if (strcmp(st, not_out[i]) == 0)
			return 0;
	/* Our own word for a message the provider has not taken yet. */
	return strcmp(st, "queued") != 0 || record_str(msg, "provider_id");
}

/*
 * A reply that went out answers whoever waits (smsdesk-inbox(5),
 * Conversation records): the clock stops if it started no later than
 * the reply was written (a customer's message after it still waits),
 * and the episode gets its first response, if it has none, once it has
 * begun (opened_at) and began no later than the reply. 1 if conv
 * changed, else 0.
 */
static int
answer(json_t *conv, const json_t *msg)
{
	const char *at = record_str(msg, "at");
	const char *waiting = record_str(conv, "waiting_since");
	const char *opened = record_str(conv, "opened_at");
	int changed = 0;

	if (!at || strcmp(inbox_purpose(msg), INBOX_REPLY) != 0 ||
	    !inbox_went_out(msg))
		return 0;
	if (waiting && strcmp(waiting, at) <= 0) {
		set_str(conv, "waiting_since", NULL);
		changed = 1;
	}
	if (!json_is_string(json_object_get(conv, "first_response_at")) &&
	    opened && strcmp(opened, at) <= 0) {
		set_str(conv, "first_response_at", at);
		changed = 1;
	}
	return changed;
}

/*
 * Whether an inbound message is work for a person: anything but an
 * opt-out, opt-in or help keyword, which sms-recv answers (or the
 * provider does) and marks with "keyword", and a survey's answer or its
 * comment, which the delivery marks with "csat" (inbox-survey.c).
 */
static int
is_work(const json_t *msg)
{
	return !json_is_string(json_object_get(msg, "keyword")) &&
	    !json_is_object(json_object_get(msg, "csat"));
}

/*
 * What an outbound message msg that is to go (not refused, not
 * scheduled) does to conv: only a person's reply is an answer
 * (answer()); the rest (sms-recv's automatic replies, notices,
 * campaigns) leave the customer waiting for one.
 */
static void
outbound(json_t *conv, const json_t *msg)
{
	const char *at = record_str(msg, "at");

	if (strcmp(inbox_purpose(msg), INBOX_REPLY) == 0) {
		set_str(conv, "last_out_at", at);
	} else {
		set_str(conv, "last_auto_at", at);
		if (record_str(msg, "auto") &&
		    strcmp(record_str(msg, "auto"), "away") == 0)
			set_str(conv, "last_away_at", at);
	}
	answer(conv, msg);
}

/*
 * What an inbound message msg says of the channels its customer writes
 * on: "last_in_channel" (the channel of the latest inbound message, "sms"
 * for a text or a picture) and, for a WhatsApp message, "whatsapp_in_at"
 * (the latest, which opens WhatsApp's 24-hour window): sms-send answers
 * on that channel, within that window, without reading the thread. A
 * message stored late (a poll's) moves neither back in time.
 */
static void
inbound_channel(json_t *conv, const json_t *msg)
{
	const char *c = record_str(msg, "channel");
	const char *at = record_str(msg, "at");
	const char *was = record_str(conv, "last_in_at");
	const char *wa = record_str(conv, "whatsapp_in_at");
	time_t t, tw;

	if (!at || when_parse(at, &t, NULL) < 0)
		return;
	if (!was || when_parse(was, &tw, NULL) < 0 || t >= tw)
		set_str(conv, "last_in_channel", c ? c : "sms");
	if (c && strcmp(c, "whatsapp") == 0 && (!wa ||
	    when_parse(wa, &tw, NULL) < 0 || t > tw))
		set_str(conv, "whatsapp_in_at", at);
}

/*
 * How a message changes its conversation (see inbox_deliver(), and
 * smsdesk-inbox(5), Conversation records). A conversation that a
 * message finds with none yet, and that the message does not make work
 * (an outbound one, a keyword), begins resolved, with no episode
 * (opened_at null): it never enters work/. An outbound message stored as
 * failed (refused before any request) is counted, but is no answer; an
 * inbound one from a blocked sender is counted, but is no work.
 */
void
ib_apply_message(json_t *conv, const json_t *msg)
{
	const char *dir = record_str(msg, "direction");
	const char *at = record_str(msg, "at");
	const char *status = record_str(conv, "status");
	const char *st = record_str(msg, "status");
	json_t *body = json_object_get(msg, "body");
	int fresh = json_integer_value(json_object_get(conv, "messages")) ==
	    0 && status && strcmp(status, INBOX_OPEN) == 0;
	int in = dir && strcmp(dir, "in") == 0;
	int blocked = in && inbox_is_blocked(conv);

	/* A scheduled message (or one canceled before it went) is in the
	 * thread, but said nothing yet: ib_conversation_sending(). */
	int later = !in && st && (strcmp(st, "scheduled") == 0 ||
	    strcmp(st, "canceled") == 0);

	count(conv, "messages", 1);
	if (json_is_string(body) && !later)
		json_object_set(conv, "last_body", body);
	ib_survey_apply(conv, msg);
	if (fresh && !(in && is_work(msg) && !blocked)) {
		set_str(conv, "status", INBOX_RESOLVED);
		set_str(conv, "opened_at", NULL);
	}
	if (in) {
		/* A blocked sender's: stored, but nothing unread. */
		if (!blocked)
			count(conv, "unread", 1);
		inbound_channel(conv, msg);
		set_str(conv, "last_in_at", at);
	}
	if (in && is_work(msg) && !blocked) {
		if (status && strcmp(status, INBOX_RESOLVED) == 0) {
			/* A new episode: its own opening and SLA clock. */
			set_str(conv, "opened_at", at);
			set_str(conv, "first_response_at", NULL);
			set_str(conv, "waiting_since", NULL);
		}
		if (status && (strcmp(status, INBOX_RESOLVED) == 0 ||
		    strcmp(status, INBOX_SNOOZED) == 0)) {
			set_str(conv, "status", INBOX_OPEN);
			json_object_del(conv, "snoozed_until");
		}
		if (json_is_null(json_object_get(conv, "waiting_since")) ||
		    !json_object_get(conv, "waiting_since"))
			set_str(conv, "waiting_since", at);
		return;
	}
	if (!in && !later && (!st || strcmp(st, "failed") != 0))
		outbound(conv, msg);
}

void
ib_conversation_sending(struct inbox *ib, const char *thread,
    const json_t *msg)
{
	char rel[64], was[INBOX_QUEUE_NAME_MAX];
	json_t *body = json_object_get(msg, "body");
	struct logf lf;
	struct errbuf e;
	json_t *conv, *before;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!(conv = ib_log_read(ib, rel, &lf, &e))) {
		if (errno != ENOENT && errno != EBADMSG && ib->report)
			ib->report(ib->report_arg, e.msg);
		return;
	}
	inbox_queue_name_json(thread, conv, was);
	if (!(before = json_deep_copy(conv))) {
		close(lf.fd);
		json_decref(conv);
		return;
	}
	if (json_is_string(body))
		json_object_set(conv, "last_body", body);
	outbound(conv, msg);
	ib_stamp(ib, conv);
	if (ib_write_conversation(ib, thread, conv, was, before, &lf, &e) < 0 &&
	    ib->report)
		ib->report(ib->report_arg, e.msg);
	json_decref(before);
	json_decref(conv);
}

/*
 * After a change to outbound message msg of thread (the caller holds the
 * thread's lock): a reply that has now gone out answers its conversation
 * (answer()), appended unsynced if lazy (as the message's own change may
 * be). The conversation is what the messages make of it, so a failure
 * here is reported (struct inbox's report), not returned: the message's
 * change stands.
 */
static void
answer_conversation(struct inbox *ib, const char *thread,
    const json_t *msg, int lazy)
{
	char rel[64], was[INBOX_QUEUE_NAME_MAX];
	struct logf lf;
	struct errbuf e;
	json_t *conv, *before;

	if (strcmp(inbox_purpose(msg), INBOX_REPLY) != 0 ||
	    !inbox_went_out(msg))
		return;
	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!(conv = ib_log_read(ib, rel, &lf, &e))) {
		if (errno != ENOENT && errno != EBADMSG && ib->report)
			ib->report(ib->report_arg, e.msg);
		return;
	}
	inbox_queue_name_json(thread, conv, was);
	if (!(before = json_deep_copy(conv))) {
		close(lf.fd);
	} else if (answer(conv, msg)) {
		ib_stamp(ib, conv);
		lf.lazy = lazy;
		if (ib_write_conversation(ib, thread, conv, was, before, &lf,
		    &e) < 0 && ib->report)
			ib->report(ib->report_arg, e.msg);
	} else {
		close(lf.fd);
	}
	json_decref(before);
	json_decref(conv);
}

/*
 * A reply that had answered its conversation has not gone after all (a
 * delivery report, or --reconcile, says it failed): the episode's answer
 * is worked out again from the messages of thread (the caller holds its
 * lock), oldest first: its first reply that went out and, while the
 * conversation is open, the clock, from the first message of work after
 * the last such reply. Failures are reported, as answer_conversation()'s.
 */
static void
unanswer_conversation(struct inbox *ib, const char *thread)
{
	const char *opened, *at, *dir, *first = NULL, *waiting = NULL;
	char rel[64], was[INBOX_QUEUE_NAME_MAX];
	struct logf lf;
	struct errbuf e;
	json_t *conv, *t = NULL, *m, *before = NULL;
	size_t i;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!(conv = ib_log_read(ib, rel, &lf, &e))) {
		if (errno != ENOENT && errno != EBADMSG && ib->report)
			ib->report(ib->report_arg, e.msg);
		return;
	}
	inbox_queue_name_json(thread, conv, was);
	if (!(opened = record_str(conv, "opened_at")) ||
	    !(before = json_deep_copy(conv)) ||
	    !(t = inbox_thread(ib, thread, &e))) {
		if (opened && before && ib->report)
			ib->report(ib->report_arg, e.msg);
		close(lf.fd);
		json_decref(before);
		json_decref(conv);
		return;
	}
	json_array_foreach(t, i, m) {
		if (!(at = record_str(m, "at")) || strcmp(at, opened) < 0)
			continue;
		dir = record_str(m, "direction");
		if (dir && strcmp(dir, "in") == 0) {
			if (is_work(m) && !waiting)
				waiting = at;
		} else if (strcmp(inbox_purpose(m), INBOX_REPLY) == 0 &&
		    inbox_went_out(m)) {
			if (waiting && strcmp(waiting, at) <= 0)
				waiting = NULL;
			if (!first)
				first = at;
		}
	}
	set_str(conv, "first_response_at", first);
	if (record_str(conv, "status") &&
	    strcmp(record_str(conv, "status"), INBOX_OPEN) == 0)
		set_str(conv, "waiting_since", waiting);
	ib_stamp(ib, conv);
	if (ib_write_conversation(ib, thread, conv, was, before, &lf, &e) < 0 &&
	    ib->report)
		ib->report(ib->report_arg, e.msg);
	json_decref(before);
	json_decref(t);
	json_decref(conv);
}

int
inbox_consent(struct inbox *ib, const json_t *c, struct errbuf *e)
{
	const char *number = record_str(c, "number");
	const char *state = record_str(c, "state");
	char rel[64], name[NAME_MAX_LEN];

	if (!thread_valid(number) || !state || (strcmp(state, "out") != 0 &&
	    strcmp(state, "in") != 0))
		return errno = EINVAL, errf(e, "a consent record needs an "
		    "E.164 number and a state of in or out");
	snprintf(rel, sizeof rel, "consent/%s", number);
	if (ib_make_dir(ib, rel, "consent", 0, e) < 0)
		return -1;
	ib_unique_name(ib, name);
	return ib_put_record(ib, rel, name, c, 0, 0, e);
}

static int
record_consent(struct inbox *ib, const json_t *msg, int keyword,
    const char *word, struct errbuf *e)
{
	const char *ch = record_str(msg, "channel");
	json_t *c;
	int rc;

	/* The channel it came on: a business whose consent is by channel
	 * (consent_scope) holds it there only. */
	c = json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?,s:O?,s:s}", "type",
	    "consent", "number", record_str(msg, "thread"), "state",
	    keyword == 'o' ? "out" : "in", "keyword", word, "at",
	    json_object_get(msg, "at"), "our_number", json_object_get(msg,
	    "to"), "message", json_object_get(msg, "id"), "channel",
	    ch ? ch : "sms");
	if (!c)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	rc = inbox_consent(ib, c, e);
	json_decref(c);
	return rc;
}

/* Apply a delivery report to a message record; 1 if it moved forward. */
static int
advance(json_t *msg, const char *status, const char *error_code,
    const char *at)
{
	const char *old = record_str(msg, "status");
	json_t *pcode;
	char *end;
	long long n;

	if (old && provider_status_order(status) <= provider_status_order(old))
		return 0;
	set_str(msg, "status", status);
	set_str(msg, "status_at", at);
	if (error_code && *error_code) {
		/* The provider's code as a number when it is one. */
		errno = 0;
		n = strtoll(error_code, &end, 10);
		pcode = errno || *end || n <= 0 ? json_string(error_code) :
		    json_integer(n);
		json_object_set_new(msg, "error", json_pack("{s:s,s:o}",
		    "code", provider_error_class(record_str(msg, "provider"),
		    0, error_code), "provider_code", pcode));
	}
	return 1;
}

/* Whether status is an outcome of failure. */
static int
failure(const char *status)
{
	return strcmp(status, "failed") == 0 ||
	    strcmp(status, "undelivered") == 0;
}

/*
 * A report for pid, one of the parts of msg (its provider_ids, sent in
 * parts, a report a part): kept in msg's part_status, and *status made
 * the message's as all its parts say: failed, or undelivered, as soon as
 * one part is; else the least advanced part's, and no further than sent
 * while a part has not reported; an opt-out's code beats another
 * failure's (*code: the error to keep). Returns 1 if part_status changed;
 * 0 if not: if msg is not sent in parts, or pid not one of them, with
 * *status as it came; if the part has said as much before (a retried
 * report), with *status msg's own and *code NULL, so that it moves
 * nothing.
 */
static int
fold_parts(json_t *msg, const char *pid, const char **status,
    const char **code)
{
	json_t *ids = json_object_get(msg, "provider_ids"), *ps, *v, *err;
	const char *old, *w, *least = NULL, *fail = NULL;
	size_t i;
	int found = 0, all = 1;

	if (json_array_size(ids) < 2)
		return 0;
	json_array_foreach(ids, i, v)
		found |= json_is_string(v) &&
		    strcmp(json_string_value(v), pid) == 0;
	if (!found)
		return 0;
	if (!json_is_object(ps = json_object_get(msg, "part_status"))) {
		ps = json_object();
		json_object_set_new(msg, "part_status", ps);
	}
	old = record_str(ps, pid);
	if (old && provider_status_order(*status) <=
	    provider_status_order(old)) {
		if (record_str(msg, "status"))
			*status = record_str(msg, "status");
		*code = NULL;
		return 0;
	}
	json_object_set_new(ps, pid, json_string(*status));
	json_array_foreach(ids, i, v) {
		if (!(w = record_str(ps, json_string_value(v)))) {
			all = 0;
			continue;
		}
		if (failure(w) && (!fail || strcmp(w, "failed") == 0))
			fail = w;
		if (!least || provider_status_order(w) <
		    provider_status_order(least))
			least = w;
	}
	err = json_object_get(msg, "error");
	if (fail) {
		/* Failed already: only an opt-out's code replaces its code. */
		if (*code && failure(record_str(msg, "status") ?
		    record_str(msg, "status") : "") && strcmp(
		    provider_error_class(record_str(msg, "provider"), 0,
		    *code), "opted_out") == 0 && (!err || strcmp(record_str(
		    err, "code") ? record_str(err, "code") : "",
		    "opted_out") != 0))
			json_object_set_new(msg, "error", json_pack(
			    "{s:s,s:I}", "code", "opted_out", "provider_code",
			    (json_int_t)strtoll(*code, NULL, 10)));
		*status = fail;
	} else {
		*status = least;
		*code = NULL;
		if (!all && provider_status_order(least) >=
		    PROVIDER_STATUS_FINAL)
			*status = "sent";
	}
	return 1;
}

int
inbox_known_id(struct inbox *ib, const char *provider, const char *pid)
{
	char key[NAME_MAX_LEN], thread[32], name[NAME_MAX_LEN];

	if (!provider || !pid || ib_id_key(provider, pid, key) < 0)
		return 0;
	if (ib_ledger_find(ib, key, thread, name) == 0)
		return 1;
	return errno == ENOENT || errno == EBADMSG ? 0 : -1;
}

/*
 * An outbound message whose fate is not settled: with no provider id
 * yet, queued (not yet taken by the provider) or unknown (sent, but no
 * answer came); with one, taken but not yet at a final status (accepted
 * to sent), no error, and queued less than INBOX_TRACK_AGE ago, so that
 * a delivery report that never comes can be asked for by id.
 */
int
ib_outbound_pending(const json_t *msg)
{
	const char *dir = record_str(msg, "direction");
	const char *status = record_str(msg, "status");
	int order = provider_status_order(status);
	time_t at;

	if (!dir || strcmp(dir, "out") != 0 || !status)
		return 0;
	if (!record_str(msg, "provider_id"))
		return strcmp(status, "queued") == 0 ||
		    strcmp(status, "unknown") == 0;
	return order >= 0 && order < PROVIDER_STATUS_FINAL &&
	    !json_is_object(json_object_get(msg, "error")) &&
	    when_parse(record_str(msg, "at") ? record_str(msg, "at") : "",
	    &at, NULL) == 0 && when_now() - at < INBOX_TRACK_AGE;
}

/*
 * The delivery report parked under key (status/KEY), if there is one,
 * applied to msg: 1 if it moved msg forward, 0 if not, -1 if there is
 * none (or none that reads).
 */
static int
advance_parked(struct inbox *ib, const char *key, json_t *msg)
{
	char rel[PATH_MAX];
	const char *st, *code;
	json_t *park;
	int moved, part;

	snprintf(rel, sizeof rel, "status/%s", key);
	if (!(park = ib_get_record(ib, rel, NULL)))
		return -1;
	st = record_str(park, "status");
	code = record_str(park, "error_code");
	/* A part's report of a message sent in parts: folded. */
	part = record_str(park, "provider_id") ? fold_parts(msg,
	    record_str(park, "provider_id"), &st, &code) : 0;
	moved = advance(msg, st, code, record_str(park, "at")) || part;
	json_decref(park);
	return moved;
}

/*
 * Apply a delivery report parked under key to msg (stored as
 * msg/THREAD/NAME; the caller holds the thread's lock and has just made
 * the ledger entry), and drop the park, under the key's lock. Most
 * messages have none, and that is known without the lock: a report
 * parked after this looks finds the entry when it looks again (see
 * inbox_status()), so it is never stranded.
 */
static int
apply_parked(struct inbox *ib, const char *key, const char *thread,
    const char *name, json_t *msg, struct errbuf *e)
{
	char rel[PATH_MAX];
	int lk, moved, rc = 0;

	snprintf(rel, sizeof rel, "status/%s", key);
	if (ib_stat(ib, rel, &(struct stat){ 0 }) < 0 && errno == ENOENT)
		return 0;
	if ((lk = ib_lock_thread(ib, key, e)) < 0)
		return -1;
	if ((moved = advance_parked(ib, key, msg)) > 0) {
		ib_stamp(ib, msg);
		snprintf(rel, sizeof rel, "msg/%s", thread);
		rc = ib_log_put(ib, rel, name, msg, e);
	}
	snprintf(rel, sizeof rel, "status/%s", key);
	if (moved >= 0 && rc == 0)
		ib_unlink(ib, rel, 0);
	ib_unlock(lk);
	return rc;
}

/*
 * Enter the message msg/THREAD/NAME (msg; the caller holds the thread's
 * lock) in the ledger under its provider id's key (ib_ledger_add()): not
 * synced, for losing the entry in a crash costs a duplicate that readers
 * fold, never a message. *made is set: the entry may be there now (one
 * there already that says where a message is is kept). Then a delivery report
 * parked under the key is applied (apply_parked()).
 */
static int
key_message(struct inbox *ib, const char *key, const char *thread,
    const char *name, json_t *msg, int *made, struct errbuf *e)
{
	/*
	 * Said made even if it fails: its line may be written all the same
	 * (a close that fails), and taking an entry back takes only one that
	 * names this message (ib_ledger_drop()).
	 */
	*made = 1;
	if (ib_ledger_add(ib, key, thread, name, 0, 1, e) < 0)
		return -1;
	return apply_parked(ib, key, thread, name, msg, e);
}

/*
 * A delivery under way (inbox_deliver()): the message, the names it goes
 * by, what it is written as, and how far it has got, for undo_delivery()
 * to take back if it fails: its caller then answers 503 (or does not
 * send), so nothing of it may stay where a reader sees it.
 */
/*
 * Journal records this thread wrote and has not yet given back: while it
 * holds any, it must not checkpoint, which waits for them
 * (journal_write()).
 */
static _Thread_local int unsynced;

struct delivery {
	json_t *msg;
	const char *thread;
	char key[NAME_MAX_LEN];		/* its provider id's key, or "" */
	char ckey[NAME_MAX_LEN];	/* its client key's, or "" */
	char name[NAME_MAX_LEN];	/* msg/THREAD/NAME, once it has one */
	int lk;			/* the thread's lock */
	int journaled;		/* its journal record makes it durable: the
				 * syncs of its files are left to the next
				 * checkpoint */
	int slot;		/* its journal record's, or -1 */
	off_t jend;		/* where that record ends */
	json_t *conv;		/* the conversation, as the message leaves it */
	char *mtext, *ctext;	/* msg and conv written out */
	struct buf hist;	/* the change's lines for history/ */
	struct staged sm;	/* the message, in tmp/ */
	struct logf clf;	/* conv/THREAD, open (fd -1: none) */

	/* What it has done, in the order it does it: */
	int linked;		/* in the outbox, its client key entered
				 * (those it has) */
	int outboxed;		/* in the outbox already, with others
				 * (inbox_deliver_end_all()) */
	int joined;		/* work/THREAD made */
	int placed;		/* msg/THREAD/NAME named */
	int wrote_conv;		/* conv/THREAD written: taken back as conv_was
				 * says */
	int keyed;		/* its provider id entered */

	/* How conv/THREAD was before it, for taking it back: */
	enum {
		CONV_NEW,	/* not there (a new thread): removed */
		CONV_REPLACED,	/* replaced: put back as before says */
		CONV_APPENDED	/* appended to: cut back to good */
	} conv_was;
	json_t *before;		/* the conversation before, if there was one */
	char qwas[INBOX_QUEUE_NAME_MAX];	/* its name in queue/ before, */
	char qnow[INBOX_QUEUE_NAME_MAX];	/* and after (inbox-queue.c) */
	off_t good;		/* where conv/THREAD ended before the append */
};

/*
 * Take back a delivery that failed, newest step first: the ledger entry
 * (lest a retry take itself for a duplicate of nothing), the
 * conversation (cut back to where it ended, which a full disk allows),
 * the message, its work/ entry (after the record that says it is open),
 * the links of a message to send, and a thread directory left empty.
 * Not synced: after a crash now, what is left is at worst a message
 * whose retry stores it again and that readers fold, or a queued one
 * that --reconcile settles. A consent record stays: an opt-out heard is
 * kept even if its message was not (the retry records it again, which
 * changes nothing). What cannot be taken back is reported.
 */
static void
undo_delivery(struct inbox *ib, const struct delivery *dv)
{
	char rel[PATH_MAX];
	int bad = 0;

	if (dv->keyed)
		ib_ledger_drop(ib, dv->key, dv->thread, dv->name);
	snprintf(rel, sizeof rel, "conv/%s", dv->thread);
	if (dv->wrote_conv)
		bad |= ib_queue_enter(ib, dv->qnow, dv->qwas, 0) < 0;
	if (dv->wrote_conv && dv->conv_was == CONV_APPENDED)
		bad |= ib_log_unappend(ib, rel, dv->good) < 0;
	else if (dv->wrote_conv && dv->conv_was == CONV_REPLACED)
		bad |= ib_log_put(ib, "conv", dv->thread, dv->before, NULL) < 0;
	else if (dv->wrote_conv)
		bad |= ib_unlink(ib, rel, 0) < 0 && errno != ENOENT;
	if (dv->wrote_conv)
		ib_queue_leave(ib, dv->qnow, dv->qwas);
	if (dv->placed) {
		snprintf(rel, sizeof rel, "msg/%s/%s", dv->thread, dv->name);
		bad |= ib_unlink(ib, rel, 0) < 0 && errno != ENOENT;
	}
	if (dv->joined)
		bad |= work_leave(ib, dv->thread, 0, NULL) < 0;
	if (dv->linked)
		ib_outbox_drop(ib, dv->thread, dv->name);
	if (dv->linked && *dv->ckey)
		ib_ledger_drop(ib, dv->ckey, dv->thread, dv->name);
	if (dv->conv_was == CONV_NEW) {
		/* Fails, as it should, if the thread has messages. */
		snprintf(rel, sizeof rel, "msg/%s", dv->thread);
		ib_unlink(ib, rel, AT_REMOVEDIR);
	}
	if (bad && ib->report) {
		snprintf(rel, sizeof rel, "%s: a delivery that failed could "
		    "not be wholly taken back: %s", dv->thread,
		    strerror(errno));
		ib->report(ib->report_arg, rel);
	}
}

/*
 * A message's "at", if it has one (null is none): a time limit_time()
 * takes, written back in the one form of sms-record(5) (UTC, whole
 * seconds), so that every time in the inbox compares as a string.
 */
static int
check_at(json_t *msg, struct errbuf *e)
{
	json_t *v = json_object_get(msg, "at");
	char at[WHEN_BUFSZ];
	time_t t;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errno = EINVAL, errf(e, "\"at\" is not a string");
	if (limit_time("at", json_string_value(v), when_now(), &t, e) < 0)
		return -1;
	when_format(t, at);
	if (strcmp(at, json_string_value(v)) != 0 &&
	    json_object_set_new(msg, "at", json_string(at)) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/*
 * Begin the delivery of msg in dv, if msg passes the checks made before
 * anything is locked: a thread that is a number (or a sender's name, for
 * a message that came in), the limits of limit.h, its "at", and the
 * ledger keys of its provider id and its client key.
 */
static int
delivery_check(struct delivery *dv, json_t *msg, struct errbuf *e)
{
	const char *thread = record_str(msg, "thread");
	const char *dir = record_str(msg, "direction");
	const char *provider = record_str(msg, "provider");
	const char *pid = record_str(msg, "provider_id");
	const char *client = record_str(msg, "key");

	memset(dv, 0, sizeof *dv);
	dv->msg = msg;
	dv->thread = thread;
	dv->lk = dv->slot = dv->sm.fd = dv->clf.fd = -1;
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "thread %s%s%s is not an E.164 "
		    "number", thread ? "'" : "", thread ? thread : "(none)",
		    thread ? "'" : "");
	if (!thread_is_number(thread) && dir && strcmp(dir, "in") != 0)
		return errno = EINVAL, errf(e, "thread '%s' is a sender's, "
		    "not a number: nothing is sent to it", thread);
	if (limit_message(msg, e) < 0 || check_at(msg, e) < 0 ||
	    ib_survey_check(msg, e) < 0)
		return -1;
	if ((provider && pid && ib_id_key(provider, pid, dv->key) < 0) ||
	    (client && ib_id_key("key", client, dv->ckey) < 0))
		return errf(e, "provider id or key: empty, or over its "
		    "limit (%d, %d bytes)", LIMIT_ID, LIMIT_KEY);
	return 0;
}

/*
 * Whether the message is in the inbox already, by its client key or its
 * provider id: 1 (d says it is a duplicate, and what is stored), 0 if
 * not, or -1 if that cannot be told.
 */
static int
find_duplicate(struct inbox *ib, const struct delivery *dv,
    struct inbox_delivery *d, struct errbuf *e)
{
	char rel[PATH_MAX], t[32], n[NAME_MAX_LEN];

	if (*dv->ckey && ib_ledger_find(ib, dv->ckey, t, n) == 0) {
		/*
		 * The key is made before its message (link_outbound()): a
		 * key whose message is missing is a crash in between, not a
		 * duplicate.
		 */
		snprintf(rel, sizeof rel, "msg/%s/%s", t, n);
		if ((d->message = ib_get_record(ib, rel, NULL)))
			return d->duplicate = 1;
		ib_ledger_drop(ib, dv->ckey, t, n);
	} else if (*dv->ckey && errno != ENOENT && errno != EBADMSG) {
		return errf(e, "%s/ids/%s: %s", ib->dir, dv->ckey,
		    ib_strerror(errno));
	}
	if (*dv->key && ib_ledger_find(ib, dv->key, t, n) == 0) {
		snprintf(rel, sizeof rel, "msg/%s/%s", t, n);
		if ((d->message = ib_get_record(ib, rel, NULL)))
			return d->duplicate = 1;
		/*
		 * The entry is made after its message, under its thread's
		 * lock, which is this one's: a message missing is one whose
		 * delivery failed and could not take its entry back (a full
		 * disk), so it was never acknowledged; stored now, its entry
		 * replaces that one (ib_ledger_add()). One that does not
		 * read (quarantined) is stored already.
		 */
		if (errno != ENOENT) {
			d->message = json_incref(dv->msg);
			return d->duplicate = 1;
		}
	} else if (*dv->key && errno != ENOENT && errno != EBADMSG) {
		/* Whether it is a duplicate cannot be told. */
		return errf(e, "%s/ids/%s: %s", ib->dir, dv->key,
		    ib_strerror(errno));
	}
	return 0;
}

/*
 * Whether s has a control character (a ledger line names a message by
 * its id: inbox-ledger.c).
 */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * Give the message its id (a unique name, unless it has one) and its
 * "at" (now, unless it has one), and take the id as its file's name;
 * then make its thread's directory. With a journal, a new thread's
 * directory is synced at the checkpoint, as the files are: a replay
 * makes it again, and a writer that syncs something into it while it is
 * young syncs its name (ib_sync_dir()).
 */
static int
name_message(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	char at[WHEN_BUFSZ], rel[64];

	if (!json_object_get(dv->msg, "id")) {
		ib_unique_name(ib, dv->name);
		json_object_set_new(dv->msg, "id", json_string(dv->name));
	}
	if (!json_is_string(json_object_get(dv->msg, "id")))
		return errno = EINVAL, errf(e, "message id is not a string");
	if (!json_is_string(json_object_get(dv->msg, "at"))) {
		now_string(at);
		json_object_set_new(dv->msg, "at", json_string(at));
	}
	snprintf(dv->name, sizeof dv->name, "%s", record_str(dv->msg, "id"));
	if (!*dv->name || strchr(dv->name, '/') || dv->name[0] == '.' ||
	    has_control(dv->name))
		return errno = EINVAL, errf(e, "message id '%s' cannot be a "
		    "file name", dv->name);
	snprintf(rel, sizeof rel, "msg/%s", dv->thread);
	return ib_make_dir(ib, rel, "msg", dv->journaled, e);
}

/*
 * An opt-out or opt-in keyword ('o' or 'i'; word, as it came) recorded
 * as consent, under the thread's lock: two STOPs at once change it once.
 * d says which, and whether it changed anything.
 */
static int
hear_keyword(struct inbox *ib, const struct delivery *dv, int keyword,
    const char *word, struct inbox_delivery *d, struct errbuf *e)
{
	struct errbuf oe;
	int was;

	if (keyword) {
		was = inbox_opted_out(ib, dv->thread, &oe);
		if (record_consent(ib, dv->msg, keyword, word, e) < 0)
			return -1;
		d->consent_changed = was < 0 || was != (keyword == 'o');
	}
	d->consent = keyword;
	return 0;
}

/*
 * The conversation as the message leaves it (its file left open in
 * dv->clf), and what it was, should the change replace the file (a new
 * one is simply removed); then both records written out, once, for the
 * journal and the files.
 */
static int
change_conversation(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	char at[WHEN_BUFSZ];

	if (!(dv->conv = load_conversation(ib, dv->thread,
	    record_str(dv->msg, "at"), &dv->clf, e)))
		return -1;
	if (dv->clf.fd >= 0) {
		dv->conv_was = CONV_REPLACED;
		if (!(dv->before = json_deep_copy(dv->conv)))
			return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
		inbox_queue_name_json(dv->thread, dv->conv, dv->qwas);
	}
	if (ib_survey_mark(dv->conv, dv->msg) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	ib_apply_message(dv->conv, dv->msg);
	ib_wake(dv->before, dv->conv);
	inbox_queue_name_json(dv->thread, dv->conv, dv->qnow);
	ib_stamp(ib, dv->msg);
	ib_stamp(ib, dv->conv);
	now_string(at);
	if (!(dv->mtext = json_dumps(dv->msg, JSON_COMPACT)) ||
	    !(dv->ctext = json_dumps(dv->conv, JSON_COMPACT)) ||
	    ib_history_note(&dv->hist, dv->thread, dv->before, dv->conv,
	    dv->msg, at) < 0)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/*
 * With a journal, the delivery's record, which makes it durable: its
 * files are written as ever, their syncs left to the next checkpoint. A
 * replay makes a message to send's outbox/ entry and client key again,
 * so they need not precede it on disk either. A record that failed may
 * be on disk all the same: if it went in (dv->slot), end_delivery()
 * cancels it.
 */
static int
journal_delivery(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	if (!dv->journaled)
		return 0;
	if (inbox_journal_record(ib, dv->mtext, dv->ctext, dv->hist.p,
	    dv->hist.len, &dv->slot, &dv->jend, e) < 0)
		return -1;
	if (dv->slot >= 0)
		unsynced++;
	dv->sm.defer_sync = dv->clf.defer_sync = 1;
	return 0;
}

/* The journal record, durable: the first to wait syncs for all. */
static int
journal_durable(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	if (dv->slot < 0)
		return 0;
	return inbox_journal_sync(ib, dv->slot, dv->jend, e);
}

/*
 * A message about to be sent: its place in outbox/ and its client key
 * go on disk first (synced, or after the journal line, which a replay
 * makes them again from), pointing at the name it is about to get. A
 * crash before the message is stored leaves links to nothing, which
 * inbox_outbox() and find_duplicate() clear away; a crash after leaves a
 * message that a resumed run finds by its key and --reconcile by
 * outbox/, so it is never lost and never sent again blindly.
 */
static int
link_outbound(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	int pending = ib_outbound_pending(dv->msg);

	/* A scheduled message's index name, before the message too. */
	if (ib_schedule_enter(ib, dv->msg, !dv->journaled, e) < 0)
		return -1;
	if (!pending && !*dv->ckey)
		return 0;
	dv->linked = 1;
	if (pending && !dv->outboxed && ib_outbox_add(ib, dv->thread,
	    dv->name, dv->journaled, e) < 0)
		return -1;
	/* A key whose message was never stored is replaced. */
	if (*dv->ckey && ib_ledger_add(ib, dv->ckey, dv->thread, dv->name, 1,
	    dv->journaled, e) < 0)
		return -1;
	return 0;
}

/*
 * The message, synced and named msg/THREAD/NAME; before the name, the
 * thread joins work/ unless the message leaves it resolved (work/ follows
 * the status: see ib_work_join()).
 */
static int
store_message(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	char rel[64];

	if (ib_stage(ib, dv->msg, dv->mtext, &dv->sm, e) < 0 ||
	    ib_stage_sync(ib, &dv->sm, e) < 0)
		return -1;
	if (!ib_is_resolved(dv->conv) && (ib_work_join(ib, dv->thread,
	    &dv->joined, e) < 0 || (dv->joined && !dv->journaled &&
	    ib_sync_dir(ib, "work", e) < 0)))
		return -1;
	snprintf(rel, sizeof rel, "msg/%s", dv->thread);
	if (ib_place(ib, &dv->sm, rel, dv->name, 0, e) < 0)
		return -1;
	dv->placed = 1;
	return dv->journaled ? 0 : ib_sync_dir(ib, rel, e);
}

/*
 * The conversation, after its message: appended to conv/THREAD (or the
 * file made, or replaced: ib_log_append()); a resolved one then leaves
 * work/.
 */
static int
store_conversation(struct inbox *ib, struct delivery *dv, struct errbuf *e)
{
	if (ib_log_appends(&dv->clf, strlen(dv->ctext) + 1)) {
		dv->conv_was = CONV_APPENDED;
		dv->good = dv->clf.good;
	}
	if (ib_queue_enter(ib, dv->qwas, dv->qnow, !dv->journaled) < 0)
		return errf(e, "%s/queue/%s: %s", ib->dir, dv->qnow,
		    strerror(errno));
	if (ib_log_append(ib, "conv", dv->thread, &dv->clf, dv->conv,
	    dv->ctext, e) < 0)
		return -1;
	dv->wrote_conv = 1;
	ib_queue_leave(ib, dv->qwas, dv->qnow);
	if (ib_is_resolved(dv->conv) && work_leave(ib, dv->thread,
	    dv->journaled, e) < 0)
		return -1;
	return 0;
}

/*
 * Past this many bytes of journal a delivery checkpoints on its own (the
 * listener checkpoints every second anyway): a bound on replay.
 */
#define JOURNAL_MAX (4 << 20)

/*
 * End a delivery that succeeded (rc 0) or failed (rc -1: taken back,
 * undo_delivery()): its journal slot given back (its record cancelled if
 * it failed), what it holds let go, the thread unlocked, and the journal
 * checkpointed if it has grown past JOURNAL_MAX. Returns rc, errno as it
 * was.
 */
static int
end_delivery(struct inbox *ib, struct delivery *dv, int rc)
{
	struct errbuf pe;
	int saved = errno;

	if (dv->slot >= 0) {
		/*
		 * A journaled delivery that failed after its record went in:
		 * the caller answers 503, so the record must not be replayed
		 * (its count of messages would be the next one's too).
		 */
		if (rc < 0)
			inbox_journal_cancel(ib, dv->name, dv->slot);
		journal_done(ib->journal, dv->slot);
		unsynced--;
	}
	if (rc < 0)
		undo_delivery(ib, dv);
	ib_stage_drop(ib, &dv->sm);
	if (dv->clf.fd >= 0)
		close(dv->clf.fd);
	free(dv->mtext);
	free(dv->ctext);
	buf_free(&dv->hist);
	json_decref(dv->before);
	json_decref(dv->conv);
	ib_unlock(dv->lk);
	if (dv->slot >= 0 && unsynced == 0 &&
	    journal_pending(ib->journal) > JOURNAL_MAX &&
	    inbox_checkpoint(ib, &pe) < 0 && ib->report)
		ib->report(ib->report_arg, pe.msg);
	errno = saved;
	return rc;
}

/*
 * A delivery's first half: the thread locked, the message checked
 * against the ledger, named, the conversation changed and the record
 * written to the journal (not yet durable). 1 if the second half is owed
 * (deliver_end()); 0 if the delivery is over (a duplicate: d says so);
 * -1 if it failed (e filled). Its steps, in order, each taken back by
 * undo_delivery() if a later one fails. How a message changes its
 * conversation: ib_apply_message().
 */
static int
deliver_begin(struct inbox *ib, struct delivery *dv, json_t *msg,
    int keyword, const char *keyword_text, struct inbox_delivery *d,
    struct errbuf *e)
{
	int dup;

	memset(d, 0, sizeof *d);
	if (delivery_check(dv, msg, e) < 0 ||
	    (dv->lk = ib_lock_thread(ib, dv->thread, e)) < 0)
		return -1;
	/* Asked once the lock is had: waiting for it may take a while. */
	dv->journaled = ib_journaling(ib);
	if ((dup = find_duplicate(ib, dv, d, e)) != 0)
		return end_delivery(ib, dv, dup > 0 ? 0 : -1);
	if (name_message(ib, dv, e) < 0)
		return end_delivery(ib, dv, -1);
	/* A report that came before the message: applied to it now. */
	if (*dv->key)
		advance_parked(ib, dv->key, msg);
	if (hear_keyword(ib, dv, keyword, keyword_text, d, e) < 0 ||
	    change_conversation(ib, dv, e) < 0 ||
	    journal_delivery(ib, dv, e) < 0)
		return end_delivery(ib, dv, -1);
	return 1;
}

/*
 * The second half: the record durable, then the files, the change's
 * events (history/: after the change, which a failure takes back; before
 * the ledger entry, which a full disk may keep from being taken back),
 * the ledger entry. 0, or -1.
 */
static int
deliver_end(struct inbox *ib, struct delivery *dv, struct inbox_delivery *d,
    struct errbuf *e)
{
	if (journal_durable(ib, dv, e) < 0 ||
	    link_outbound(ib, dv, e) < 0 ||
	    store_message(ib, dv, e) < 0 ||
	    store_conversation(ib, dv, e) < 0 ||
	    ib_history_write(ib, dv->hist.p, dv->hist.len, dv->journaled,
	    e) < 0 ||
	    (*dv->key && key_message(ib, dv->key, dv->thread, dv->name,
	    dv->msg, &dv->keyed, e) < 0))
		return end_delivery(ib, dv, -1);
	d->message = json_incref(dv->msg);
	d->conversation = json_incref(dv->conv);
	return end_delivery(ib, dv, 0);
}

int
inbox_deliver(struct inbox *ib, json_t *msg, int keyword,
    const char *keyword_text, struct inbox_delivery *d, struct errbuf *e)
{
	struct delivery dv;
	int rc = deliver_begin(ib, &dv, msg, keyword, keyword_text, d, e);

	return rc > 0 ? deliver_end(ib, &dv, d, e) : rc;
}

struct inbox_pending {
	struct delivery dv;
};

int
inbox_deliver_begin(struct inbox *ib, json_t *msg, struct inbox_delivery *d,
    struct inbox_pending **pp, struct errbuf *e)
{
	struct inbox_pending *p = malloc(sizeof *p);
	int rc;

	*pp = NULL;
	if (!p) {
		memset(d, 0, sizeof *d);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	if ((rc = deliver_begin(ib, &p->dv, msg, 0, NULL, d, e)) > 0)
		*pp = p;
	else
		free(p);
	return rc;
}

/*
 * The journaled deliveries among p[0..n) with a message to send, their
 * records durable (ok[i]), put in the outbox together. 0, or -1 with e
 * filled: none of them is in it.
 */
static int
outbox_together(struct inbox *ib, struct inbox_pending **p, size_t n,
    const int *ok, struct errbuf *e)
{
	const char **thread = malloc(2 * n * sizeof *thread);
	const char **name = thread + n;
	size_t i, k = 0;
	int rc = 0;

	if (!thread)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	for (i = 0; i < n; i++)
		if (ok[i] && p[i]->dv.journaled &&
		    ib_outbound_pending(p[i]->dv.msg)) {
			thread[k] = p[i]->dv.thread;
			name[k++] = p[i]->dv.name;
		}
	if (k > 1 && (rc = ib_outbox_add_many(ib, thread, name, k, 1, e)) ==
	    0)
		for (i = 0; i < n; i++)
			if (ok[i] && p[i]->dv.journaled &&
			    ib_outbound_pending(p[i]->dv.msg))
				p[i]->dv.outboxed = p[i]->dv.linked = 1;
	free(thread);
	return rc;
}

void
inbox_deliver_end_all(struct inbox *ib, struct inbox_pending **p, size_t n,
    struct inbox_delivery *d, struct errbuf *e, int *rc)
{
	struct errbuf oe;
	size_t i;

	/* rc[i] is 1 while delivery i goes well, then its result. */
	for (i = 0; i < n; i++) {
		memset(&d[i], 0, sizeof d[i]);
		rc[i] = journal_durable(ib, &p[i]->dv, &e[i]) == 0;
	}
	if (outbox_together(ib, p, n, rc, &oe) < 0)
		for (i = 0; i < n; i++)
			if (rc[i] && p[i]->dv.journaled &&
			    ib_outbound_pending(p[i]->dv.msg)) {
				e[i] = oe;
				rc[i] = 0;
			}
	for (i = 0; i < n; i++) {
		if (!rc[i])
			rc[i] = end_delivery(ib, &p[i]->dv, -1);
		else
			rc[i] = deliver_end(ib, &p[i]->dv, &d[i], &e[i]);
		free(p[i]);
	}
}

int
inbox_sent(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, const char *status,
    json_t *error, json_t **out, struct errbuf *e)
{
	return inbox_sent_set(ib, thread, id, provider, pid, status, error,
	    NULL, out, e);
}

int
inbox_sent_set(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, const char *status,
    json_t *error, json_t *set, json_t **out, struct errbuf *e)
{
	const char *k;
	json_t *v;
	char rel[PATH_MAX], key[NAME_MAX_LEN], at[WHEN_BUFSZ];
	struct logf lf;
	json_t *msg = NULL;
	const char *old;
	int lk, lazy, was_out, was_pending, rc = -1;

	if (out)
		*out = NULL;
	if (!thread_valid(thread) || !id || !*id || strchr(id, '/') ||
	    *id == '.')
		return errno = EINVAL, errf(e, "no such message");
	if (provider && pid && ib_id_key(provider, pid, key) < 0)
		return errno = EINVAL, errf(e, "provider id: empty, or more "
		    "than %d bytes", LIMIT_ID);
	/* As a delivery report's (inbox_status()): a word, or nothing. */
	if (!provider_status_valid(status))
		return errno = EINVAL, errf(e, "status is not a word of 1 to "
		    "%d ASCII letters, digits, _ and -", PROVIDER_STATUS_MAX);
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, id);
	if (!(msg = ib_log_read(ib, rel, &lf, e)))
		goto out;
	was_out = strcmp(inbox_purpose(msg), INBOX_REPLY) == 0 &&
	    inbox_went_out(msg);
	was_pending = ib_outbound_pending(msg);
	now_string(at);
	if (provider)
		set_str(msg, "provider", provider);
	if (pid)
		set_str(msg, "provider_id", pid);
	json_object_foreach(set, k, v)
		if (json_is_null(v))
			json_object_del(msg, k);
		else
			json_object_set(msg, k, v);
	/*
	 * A delivery report may have come first: never move back from it.
	 * The provider's word replaces ours of the same rank (our queued,
	 * its accepted); "unknown" (no rank) replaces only a status that is
	 * not past queued.
	 */
	old = record_str(msg, "status");
	if (!old || provider_status_order(old) <=
	    (provider_status_order(status) < 0 ? 0 :
	    provider_status_order(status)))
		set_str(msg, "status", status);
	set_str(msg, "status_at", at);
	if (error)
		json_object_set(msg, "error", error);
	ib_stamp(ib, msg);
	/*
	 * With a journal, a message still pending is appended without a
	 * sync: a crash that loses the line leaves it queued, in outbox/,
	 * for --reconcile to settle. A settled one is synced, for its
	 * outbox/ entry goes (below), and nothing else would find it; so is
	 * a compaction, which replaces the file (lost, it would take the
	 * message with it).
	 */
	lazy = lf.lazy = ib_journaling(ib) && ib_outbound_pending(msg);
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_log_append(ib, rel, id, &lf, msg, NULL, e) < 0)
		goto out;
	if (provider && pid && key_message(ib, key, thread, id, msg,
	    &(int){ 0 }, e) < 0)
		goto out;
	if (was_out && !inbox_went_out(msg))
		unanswer_conversation(ib, thread);
	else
		answer_conversation(ib, thread, msg, lazy);
	/* Settled: a drop lost only makes reconcile look again. */
	if (was_pending && !ib_outbound_pending(msg))
		ib_outbox_drop(ib, thread, id);
	rc = 0;
	if (out)
		*out = json_incref(msg);
out:
	json_decref(msg);
	ib_unlock(lk);
	return rc;
}

int
inbox_sent_parts(struct inbox *ib, const char *thread, const char *id,
    const char *provider, json_t *ids, json_t **out, struct errbuf *e)
{
	char rel[PATH_MAX], key[NAME_MAX_LEN];
	struct logf lf;
	json_t *msg, *v;
	size_t i;
	int lk, rc = -1;

	if (!thread_valid(thread) || !id || !*id || strchr(id, '/') ||
	    *id == '.' || !json_is_array(ids))
		return errno = EINVAL, errf(e, "no such message");
	json_array_foreach(ids, i, v)
		if (!json_is_string(v) || ib_id_key(provider,
		    json_string_value(v), key) < 0)
			return errno = EINVAL, errf(e, "provider id: empty, "
			    "or more than %d bytes", LIMIT_ID);
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, id);
	if (!(msg = ib_log_read(ib, rel, &lf, e)))
		goto out;
	/*
	 * A report of the first part parked before the send was settled
	 * was applied by inbox_sent() to the whole: it is that part's.
	 */
	if (!json_object_get(msg, "part_status") && json_array_size(ids) > 1 &&
	    record_str(msg, "status") && provider_status_order(record_str(msg,
	    "status")) > provider_status_order("sent")) {
		json_object_set_new(msg, "part_status", json_pack("{s:s}",
		    json_string_value(json_array_get(ids, 0)),
		    record_str(msg, "status")));
		if (!failure(record_str(msg, "status")))
			set_str(msg, "status", "sent");
	}
	json_object_set(msg, "provider_ids", ids);
	ib_stamp(ib, msg);
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_log_append(ib, rel, id, &lf, msg, NULL, e) < 0)
		goto out;
	/* Each part's id names it; a report parked under one is applied. */
	json_array_foreach(ids, i, v) {
		ib_id_key(provider, json_string_value(v), key);
		if (key_message(ib, key, thread, id, msg, &(int){ 0 }, e) < 0)
			goto out;
	}
	rc = 0;
	if (out) {
		json_decref(*out);
		*out = json_incref(msg);
	}
out:
	json_decref(msg);
	ib_unlock(lk);
	return rc;
}

void
inbox_delivery_free(struct inbox_delivery *d)
{
	json_decref(d->message);
	json_decref(d->conversation);
	memset(d, 0, sizeof *d);
}

/* A delivery report (inbox_status()), as it came, and when. */
struct report {
	const char *provider, *pid, *status, *error_code;
	char at[WHEN_BUFSZ];
};

/*
 * Park a delivery report for a message that the ledger does not know yet
 * (its provider id's key: the caller holds the key's lock), as
 * status/KEY, unless one as advanced is parked there already. 0, or -1.
 */
static int
park_report(struct inbox *ib, const char *key, const struct report *r,
    struct errbuf *e)
{
	char rel[PATH_MAX];
	json_t *park;
	int rc = 0;

	snprintf(rel, sizeof rel, "status/%s", key);
	park = ib_get_record(ib, rel, NULL);
	if (!park || provider_status_order(r->status) >
	    provider_status_order(record_str(park, "status"))) {
		json_decref(park);
		park = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s}", "type",
		    "status", "provider", r->provider, "provider_id", r->pid,
		    "status", r->status, "error_code", r->error_code, "at",
		    r->at);
		rc = ib_put_record(ib, "status", key, park, 1, 0, e);
	}
	json_decref(park);
	return rc;
}

/*
 * Where the message whose provider id has this key is (thread, name),
 * asked of the ledger under the key's lock. Not known yet (the sender
 * has not recorded the id): the report is parked (park_report()), then
 * the ledger asked again. The sender makes the entry, then looks for a
 * park (apply_parked()): either it sees this report, or this sees its
 * entry and applies the report itself (both may; a report applied twice
 * changes nothing the second time). 1 if found (*unpark set if the
 * report was parked meanwhile: the caller drops the park once it has
 * applied the report), 2 if parked, -1 on error.
 */
static int
find_or_park(struct inbox *ib, const char *key, const struct report *r,
    char thread[32], char name[NAME_MAX_LEN], int *unpark,
    struct errbuf *e)
{
	int lk, rc = 1;

	*unpark = 0;
	if ((lk = ib_lock_thread(ib, key, e)) < 0)
		return -1;
	if (ib_ledger_find(ib, key, thread, name) == 0)
		;
	else if (errno != ENOENT)
		rc = errf(e, "%s/ids/%s: %s", ib->dir, key, strerror(errno));
	else if (park_report(ib, key, r, e) < 0)
		rc = -1;
	else if (ib_ledger_find(ib, key, thread, name) < 0)
		rc = 2;
	else
		*unpark = 1;	/* the entry came meanwhile */
	ib_unlock(lk);
	return rc;
}

int
inbox_status(struct inbox *ib, const char *provider, const char *pid,
    const char *status, const char *error_code, json_t **out,
    struct errbuf *e)
{
	struct report r = { provider, pid, status, error_code, "" };
	char key[NAME_MAX_LEN], rel[PATH_MAX];
	char thread[32], name[NAME_MAX_LEN];
	json_t *msg = NULL;
	int lk, rc, unpark, was_out, was_pending, part, moved;

	if (out)
		*out = NULL;
	/* A word not known yet is stored as it came; odd bytes are not. */
	if (!provider_status_valid(status))
		return errno = EINVAL, errf(e, "status is not a word of 1 to "
		    "%d ASCII letters, digits, _ and -", PROVIDER_STATUS_MAX);
	now_string(r.at);
	if (ib_id_key(provider, pid, key) < 0)
		return errf(e, "provider id: empty, or more than %d bytes",
		    LIMIT_ID);
	if ((rc = find_or_park(ib, key, &r, thread, name, &unpark, e)) != 1)
		return rc;
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	rc = -1;
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	if (!(msg = ib_get_record(ib, rel, e)))
		goto out;
	was_out = strcmp(inbox_purpose(msg), INBOX_REPLY) == 0 &&
	    inbox_went_out(msg);
	was_pending = ib_outbound_pending(msg);
	/* A part's report of a message sent in parts: folded. */
	part = fold_parts(msg, pid, &status, &error_code);
	if (!(moved = advance(msg, status, error_code, r.at)) && !part) {
		rc = 0;
		goto out;
	}
	ib_stamp(ib, msg);
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (ib_log_put(ib, rel, name, msg, e) < 0)
		goto out;
	if (!moved) {
		rc = 0;
		goto out;
	}
	if (was_out && !inbox_went_out(msg))
		unanswer_conversation(ib, thread);
	else
		answer_conversation(ib, thread, msg, 0);
	/* At its final status: nothing left to ask the provider. */
	if (was_pending && !ib_outbound_pending(msg))
		ib_outbox_drop(ib, thread, name);
	rc = 1;
	if (out)
		*out = json_incref(msg);
out:
	json_decref(msg);
	ib_unlock(lk);
	if (rc >= 0 && unpark) {
		snprintf(rel, sizeof rel, "status/%s", key);
		ib_unlink(ib, rel, 0);
	}
	return rc;
}

int
inbox_update(struct inbox *ib, const char *thread, inbox_update_fn fn,
    void *arg, json_t **after, struct errbuf *e)
{
	char at[WHEN_BUFSZ], was[INBOX_QUEUE_NAME_MAX];
	struct logf lf;
	json_t *conv, *before;
	int lk, rc, within;

	if (after)
		*after = NULL;
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "'%s' is not an E.164 number",
		    thread);
	now_string(at);
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	if (!(conv = load_conversation(ib, thread, at, &lf, e))) {
		ib_unlock(lk);
		return -1;
	}
	/*
	 * A record over a limit of limit.h from before it was one stays
	 * writable; a change never takes one over.
	 */
	within = limit_conversation(conv, NULL) == 0;
	inbox_queue_name_json(thread, conv, was);
	if (!(before = json_deep_copy(conv))) {
		if (lf.fd >= 0)
			close(lf.fd);
		json_decref(conv);
		ib_unlock(lk);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	rc = fn(conv, arg, e);
	if (rc == 0 && within && limit_conversation(conv, e) < 0)
		rc = -1;
	if (rc == 0)
		ib_stamp(ib, conv);
	if (rc == 0 && ib_write_conversation(ib, thread, conv, was, before,
	    &lf, e) < 0)
		rc = -1;
	else if (rc != 0 && lf.fd >= 0)
		close(lf.fd);
	if (rc >= 0 && after)
		*after = json_incref(conv);
	json_decref(before);
	json_decref(conv);
	ib_unlock(lk);
	return rc;
}
