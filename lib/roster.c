/*
 * roster.c: the agents of an inbox, the round-robin rotation, claims and
 * releases of conversations, and the working set as routing sees it
 * (roster.h, smsdesk-inbox(5) Roster).
 *
 * The roster and the rotation are log files in roster/, written as
 * conv/THREAD is (inbox-log.c): a change appends a line and fdatasyncs
 * it, past a size the file is replaced whole (tmp/, fsync, rename), and
 * a torn tail is cut by the next writer; the files are reached through
 * the inbox's opened directories and checked as every file of it is.
 * Changes are made under lock/roster. A claim or a release is a change of
 * one conversation, through inbox_update(), under the thread's lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "inbox-impl.h"
#include "inbox.h"
#include "limit.h"
#include "record.h"
#include "roster.h"
#include "thread.h"
#include "when.h"

static int
nomem(struct errbuf *e)
{
	errno = ENOMEM;
	return errf(e, "%s", strerror(ENOMEM));
}

static void
now_str(char out[WHEN_BUFSZ])
{
	when_format(when_now(), out);
}

/* Copy s (NULL: "") into out of size bytes, cut short if it must be. */
static void
copy(char *out, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

int
roster_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > LIMIT_NAME || name[0] == '-')
		return 0;
	for (; *name; name++)
		if (!((*name >= 'a' && *name <= 'z') ||
		    (*name >= 'A' && *name <= 'Z') ||
		    (*name >= '0' && *name <= '9') || *name == '.' ||
		    *name == '_' || *name == '-' || *name == '@'))
			return 0;
	return 1;
}

int
roster_lock(struct inbox *ib, struct errbuf *e)
{
	return ib_lock_file(ib, "roster", e);
}

void
roster_unlock(int fd)
{
	ib_unlock(fd);
}

/*
 * The agents of the roster record read from roster/agents into lf (kept
 * open there for a change; lf->fd -1 if there is no file): a new array.
 */
static json_t *
read_agents(struct inbox *ib, struct logf *lf, struct errbuf *e)
{
	json_t *rec, *a;

	if (!(rec = ib_log_read(ib, "roster/agents", lf, e))) {
		if (errno != ENOENT)
			return NULL;
		lf->fd = -1;
		if (!(a = json_array()))
			nomem(e);
		return a;
	}
	a = json_object_get(rec, "agents");
	a = json_is_array(a) ? json_deep_copy(a) : json_array();
	json_decref(rec);
	if (!a) {
		if (lf->fd >= 0)
			close(lf->fd);
		lf->fd = -1;
		nomem(e);
	}
	return a;
}

json_t *
roster_agents(struct inbox *ib, struct errbuf *e)
{
	struct logf lf;
	json_t *a = read_agents(ib, &lf, e);

	if (lf.fd >= 0)
		close(lf.fd);
	return a;
}

json_t *
roster_find(const json_t *agents, const char *name)
{
	size_t i;
	json_t *a;

	json_array_foreach(agents, i, a) {
		const char *n = record_str(a, "name");

		if (n && strcmp(n, name) == 0)
			return a;
	}
	return NULL;
}

static int
by_name(const void *x, const void *y)
{
	const char *a = record_str(*(json_t *const *)x, "name");
	const char *b = record_str(*(json_t *const *)y, "name");

	return strcmp(a ? a : "", b ? b : "");
}

/* agents sorted by name, in place. -1 on ENOMEM. */
static int
sort_agents(json_t *agents)
{
	size_t n = json_array_size(agents), i;
	json_t **v;

	if (n < 2)
		return 0;
	if (!(v = malloc(n * sizeof *v)))
		return -1;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(agents, i));
	qsort(v, n, sizeof *v, by_name);
	json_array_clear(agents);
	for (i = 0; i < n; i++)
		if (json_array_append_new(agents, v[i]) < 0) {
			while (++i < n)
				json_decref(v[i]);
			free(v);
			return -1;
		}
	free(v);
	return 0;
}

int
roster_update(struct inbox *ib, int locked, roster_fn fn, void *arg,
    json_t **after, struct errbuf *e)
{
	char at[WHEN_BUFSZ];
	struct logf lf = { .fd = -1 };
	json_t *agents = NULL, *rec = NULL;
	int lk = -1, rc = -1;

	if (after)
		*after = NULL;
	if (!locked && (lk = roster_lock(ib, e)) < 0)
		return -1;
	if (!(agents = read_agents(ib, &lf, e)))
		goto out;
	if ((rc = fn(agents, arg, e)) != 0) {
		if (lf.fd >= 0)
			close(lf.fd);
		goto done;
	}
	now_str(at);
	if (sort_agents(agents) < 0 || !(rec = json_pack("{s:s,s:s,s:O}",
	    "type", "roster", "at", at, "agents", agents))) {
		if (lf.fd >= 0)
			close(lf.fd);
		rc = nomem(e);
		goto out;
	}
	ib_stamp(ib, rec);
	if (ib_log_append(ib, "roster", "agents", &lf, rec, NULL, e) < 0) {
		rc = -1;
		goto out;
	}
done:
	if (rc >= 0 && after)
		*after = json_incref(agents);
out:
	json_decref(rec);
	json_decref(agents);
	roster_unlock(lk);
	return rc;
}

json_t *
roster_agent_new(const char *name, json_t *skills, long capacity,
    int on_shift)
{
	char at[WHEN_BUFSZ];

	now_str(at);
	if (!skills && !(skills = json_array()))
		return NULL;
	return json_pack("{s:s,s:o,s:I,s:b,s:s}", "name", name, "skills",
	    skills, "capacity", (json_int_t)capacity, "on_shift", on_shift,
	    "changed_at", at);
}

int
roster_on_shift(const json_t *agent)
{
	return json_is_true(json_object_get(agent, "on_shift"));
}

long
roster_capacity(const json_t *agent)
{
	json_t *c = json_object_get(agent, "capacity");

	return json_is_integer(c) && json_integer_value(c) >= 0 ?
	    (long)json_integer_value(c) : ROSTER_CAPACITY;
}

int
roster_has_skill(const json_t *agent, const char *skill)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(agent, "skills"), i, s)
		if (json_is_string(s) && strcmp(json_string_value(s),
		    skill) == 0)
			return 1;
	return 0;
}

int
roster_rotation(struct inbox *ib, char *out, size_t size, struct errbuf *e)
{
	struct logf lf;
	json_t *rec = ib_log_read(ib, "roster/rotation", &lf, e);

	out[0] = '\0';
	if (lf.fd >= 0)
		close(lf.fd);
	if (!rec)
		return errno == ENOENT || errno == EBADMSG ? 0 : -1;
	copy(out, size, record_str(rec, "last"));
	json_decref(rec);
	return 0;
}

int
roster_rotate(struct inbox *ib, const char *name, struct errbuf *e)
{
	char at[WHEN_BUFSZ];
	json_t *rec;
	int rc;

	now_str(at);
	if (!(rec = json_pack("{s:s,s:s,s:s}", "type", "rotation", "last",
	    name, "at", at)))
		return nomem(e);
	rc = ib_log_put(ib, "roster", "rotation", rec, e);
	json_decref(rec);
	return rc;
}

static int
set_new(json_t *o, const char *k, json_t *v, struct errbuf *e)
{
	return !v || json_object_set_new(o, k, v) < 0 ? nomem(e) : 0;
}

/* The inbox_update() callback of roster_claim(). */
static int
claim_fn(json_t *conv, void *arg, struct errbuf *e)
{
	struct roster_claim *c = arg;
	const char *a = record_str(conv, "assignee");
	char at[WHEN_BUFSZ];

	copy(c->previous, sizeof c->previous, record_str(conv,
	    "previous_assignee"));
	if (a && *a) {
		copy(c->owner, sizeof c->owner, a);
		return 1;
	}
	now_str(at);
	if (set_new(conv, "assignee", json_string(c->agent), e) < 0 ||
	    set_new(conv, "assigned_at", json_string(at), e) < 0)
		return -1;
	copy(c->owner, sizeof c->owner, c->agent);
	c->won = 1;
	return 0;
}

/*
 * roster_claim() with its sync deferred: inbox_update()'s steps (the
 * thread's lock, the record read, changed, checked against limit.h,
 * appended), the append left unsynced. An owner changes no status, so
 * work/ needs nothing.
 */
static int
claim_deferred(struct inbox *ib, const char *thread, struct roster_claim *c,
    struct errbuf *e)
{
	char rel[64], was[INBOX_QUEUE_NAME_MAX], now[INBOX_QUEUE_NAME_MAX];
	char at[WHEN_BUFSZ];
	struct buf h = { 0 };
	struct logf lf;
	json_t *conv, *before;
	int lk, rc;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	if (!(conv = ib_log_read(ib, rel, &lf, e))) {
		ib_unlock(lk);
		return -1;
	}
	inbox_queue_name_json(thread, conv, was);
	if (!(before = json_deep_copy(conv))) {
		errno = ENOMEM;
		rc = errf(e, "%s", strerror(ENOMEM));
	} else {
		rc = claim_fn(conv, c, e);
	}
	if (rc == 0 && limit_conversation(conv, e) < 0)
		rc = -1;
	if (rc == 0) {
		ib_wake(before, conv);
		ib_stamp(ib, conv);
		lf.defer_sync = 1;
		inbox_queue_name_json(thread, conv, now);
		now_str(at);
		/* Its event first, synced with it (inbox_update() says why). */
		if (ib_history_note(&h, thread, before, conv, NULL, at) < 0 ||
		    ib_history_write(ib, h.p, h.len, 1, e) < 0) {
			rc = h.err ? errf(e, "%s", strerror(ENOMEM)) : -1;
			if (lf.fd >= 0)
				close(lf.fd);
		} else if (ib_queue_move(ib, was, now) < 0) {
			rc = errf(e, "%s/queue/%s: %s", ib->dir, now,
			    strerror(errno));
			if (lf.fd >= 0)
				close(lf.fd);
		} else if (ib_log_append(ib, "conv", thread, &lf, conv, NULL,
		    e) < 0) {
			rc = -1;
			ib_queue_move(ib, now, was);
		}
	} else if (lf.fd >= 0) {
		close(lf.fd);
	}
	if (rc < 0) {
		c->won = 0;
		json_decref(conv);
	} else {
		c->after = conv;
	}
	buf_free(&h);
	json_decref(before);
	ib_unlock(lk);
	return rc < 0 ? -1 : 0;
}

int
roster_claim(struct inbox *ib, const char *thread, struct roster_claim *c,
    struct errbuf *e)
{
	json_t *conv;

	c->won = 0;
	c->owner[0] = c->previous[0] = '\0';
	c->after = NULL;
	if (!thread_valid(thread))
		return errno = EINVAL, errf(e, "'%s' is not an E.164 number",
		    thread);
	if (c->defer)
		return claim_deferred(ib, thread, c, e);
	/* Claims take conversations; they never start one. */
	if (!(conv = inbox_conversation(ib, thread, e)))
		return -1;
	json_decref(conv);
	return inbox_update(ib, thread, claim_fn, c, &c->after, e) < 0 ?
	    -1 : 0;
}

int
roster_sync(struct inbox *ib, struct errbuf *e)
{
	if (syncfs(ib->fd) < 0)
		return errf(e, "%s: syncfs: %s", ib->dir, strerror(errno));
	return 0;
}

struct release {
	const char *agent;
};

static int
release_fn(json_t *conv, void *arg, struct errbuf *e)
{
	const struct release *r = arg;
	const char *a = record_str(conv, "assignee");
	char at[WHEN_BUFSZ];

	if (!a || !*a || (r->agent && strcmp(a, r->agent) != 0))
		return 1;
	now_str(at);
	if (set_new(conv, "previous_assignee", json_string(a), e) < 0 ||
	    set_new(conv, "assignee", json_null(), e) < 0 ||
	    set_new(conv, "previous_at", json_string(at), e) < 0)
		return -1;
	json_object_del(conv, "assigned_at");
	return 0;
}

int
roster_release(struct inbox *ib, const char *thread, const char *agent,
    json_t **after, struct errbuf *e)
{
	struct release r = { agent };
	json_t *conv;

	if (after)
		*after = NULL;
	/* A release takes a conversation back; it never starts one. */
	if (!(conv = inbox_conversation(ib, thread, e)))
		return -1;
	json_decref(conv);
	return inbox_update(ib, thread, release_fn, &r, after, e);
}

int
roster_waiting(const struct roster_conv *v)
{
	return !v->assignee[0] && (strcmp(v->status, INBOX_OPEN) == 0 ||
	    strcmp(v->status, INBOX_PENDING) == 0);
}

struct scan {
	struct roster_conv *v;
	size_t n, cap;
	struct buf sb;		/* strings decoded from a line */
	struct errbuf *e;
};

/* The fields of a conversation line that scan_fn() needs beyond struct
 * inbox_conv's. */
enum { F_PREVIOUS, F_PREVIOUS_AT, F_ASSIGNED_AT, F_BODY, F_N };

/*
 * The string value of field f (raw from the line, as record_pick() found
 * it) decoded into sb: a C string borrowed from sb until its next use, or
 * NULL if f is no string (or holds a NUL, as record_str() says) or on
 * ENOMEM (*nomem set).
 */
static const char *
field_str(const struct record_field *f, struct buf *sb, int *oom)
{
	sb->len = 0;
	if (!f->val || *f->val != '"')
		return NULL;
	if (record_unescape(f->val + 1, f->len - 2, sb) < 0 ||
	    buf_add(sb, "", 1) < 0) {
		*oom = 1;
		return NULL;
	}
	return strlen(sb->p) == sb->len - 1 ? sb->p : NULL;
}

/*
 * The fields of v that are not in c, from the line: picked without a parse
 * tree where the line is plain (as record_write() writes: what the inbox
 * holds), else from jansson's parse. 0, or -1 on ENOMEM.
 */
static int
scan_fields(struct scan *s, const struct inbox_conv *c, struct roster_conv *v)
{
	struct record_field f[F_N] = {
		[F_PREVIOUS] = { "previous_assignee", NULL, 0 },
		[F_PREVIOUS_AT] = { "previous_at", NULL, 0 },
		[F_ASSIGNED_AT] = { "assigned_at", NULL, 0 },
		[F_BODY] = { "last_body", NULL, 0 },
	};
	const char *str;
	json_t *rec;
	int oom = 0;

	if (record_pick(c->line, c->len, f, F_N) == 1) {
		copy(v->previous, sizeof v->previous,
		    field_str(&f[F_PREVIOUS], &s->sb, &oom));
		copy(v->previous_at, sizeof v->previous_at,
		    field_str(&f[F_PREVIOUS_AT], &s->sb, &oom));
		copy(v->assigned_at, sizeof v->assigned_at,
		    field_str(&f[F_ASSIGNED_AT], &s->sb, &oom));
		if (roster_waiting(v) && (str = field_str(&f[F_BODY], &s->sb,
		    &oom)) && !(v->body = strdup(str)))
			oom = 1;
		return oom ? -1 : 0;
	}
	if (!(rec = json_loadb(c->line, c->len, 0, NULL)))
		return -1;
	copy(v->previous, sizeof v->previous, record_str(rec,
	    "previous_assignee"));
	copy(v->previous_at, sizeof v->previous_at, record_str(rec,
	    "previous_at"));
	copy(v->assigned_at, sizeof v->assigned_at, record_str(rec,
	    "assigned_at"));
	if (roster_waiting(v) && (str = record_str(rec, "last_body")) &&
	    !(v->body = strdup(str)))
		oom = 1;
	json_decref(rec);
	return oom ? -1 : 0;
}

static int
scan_fn(const struct inbox_conv *c, void *arg)
{
	struct scan *s = arg;
	struct roster_conv *v;

	if (!c->thread || !c->status || c->blocked_at ||
	    strcmp(c->status, INBOX_RESOLVED) == 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct roster_conv *p = realloc(s->v, cap * sizeof *p);

		if (!p)
			return nomem(s->e);
		s->v = p;
		s->cap = cap;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof *v);
	copy(v->thread, sizeof v->thread, c->thread);
	copy(v->status, sizeof v->status, c->status);
	copy(v->waiting, sizeof v->waiting, c->waiting_since ?
	    c->waiting_since : c->last_in_at);
	copy(v->assignee, sizeof v->assignee, c->assignee);
	if (scan_fields(s, c, v) < 0) {
		free(v->body);
		return nomem(s->e);
	}
	s->n++;
	return 0;
}

int
roster_scan(struct inbox *ib, struct roster_conv **out, size_t *n,
    struct errbuf *e)
{
	struct scan s = { .e = e };
	int rc = inbox_each(ib, 0, scan_fn, &s, e);

	buf_free(&s.sb);
	if (rc != 0) {
		roster_scan_free(s.v, s.n);
		return -1;
	}
	*out = s.v;
	*n = s.n;
	return 0;
}

void
roster_scan_free(struct roster_conv *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].body);
	free(v);
}

/* The names the working set gives itself in queue/ (inbox_each()). */
struct names {
	char **v;
	size_t n, cap;
};

static int
name_fn(const struct inbox_conv *c, void *arg)
{
	struct names *s = arg;
	char name[INBOX_QUEUE_NAME_MAX];

	inbox_queue_name(c, name);
	if (!*name)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **p = realloc(s->v, cap * sizeof *p);

		if (!p)
			return errno = ENOMEM, -1;
		s->v = p;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(name)))
		return errno = ENOMEM, -1;
	s->n++;
	return 0;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name is one of the n sorted names of v. */
static int
among(char *const *v, size_t n, const char *name)
{
	return bsearch(&name, v, n, sizeof *v, by_str) != NULL;
}

int
roster_queue_rebuild(struct inbox *ib, struct errbuf *e)
{
	struct names want = { 0 };
	struct inbox_queue have;
	char **names = NULL;
	size_t i;
	int rc = -1;

	if (inbox_queue_read(ib, &have, e) < 0)
		return -1;
	if (inbox_each(ib, 0, name_fn, &want, e) != 0) {
		if (errno == ENOMEM)
			errf(e, "%s", strerror(ENOMEM));
		goto out;
	}
	qsort(want.v, want.n, sizeof *want.v, by_str);
	if (!(names = malloc((have.n ? have.n : 1) * sizeof *names))) {
		errf(e, "%s", strerror(errno = ENOMEM));
		goto out;
	}
	for (i = 0; i < have.n; i++)
		names[i] = (char *)have.v[i].name;
	qsort(names, have.n, sizeof *names, by_str);
	/* What the conversations say and the index lacks: made. */
	for (i = 0; i < want.n; i++)
		if (!among(names, have.n, want.v[i]) &&
		    ib_queue_enter(ib, "", want.v[i], 0) < 0) {
			errf(e, "%s/queue/%s: %s", ib->dir, want.v[i],
			    strerror(errno));
			goto out;
		}
	/*
	 * What the index says and the conversations did not, as read: made
	 * right under its thread's lock (a writer may have changed it
	 * since).
	 */
	for (i = 0; i < have.n; i++) {
		const char *one[1] = { have.v[i].name };

		if (!among(want.v, want.n, have.v[i].name) &&
		    inbox_queue_fix(ib, have.v[i].thread, one, 1, e) < 0)
			goto out;
	}
	rc = inbox_queue_built(ib, e);
out:
	for (i = 0; i < want.n; i++)
		free(want.v[i]);
	free(want.v);
	free(names);
	inbox_queue_release(&have);
	return rc;
}
