/*
 * inbox-check.c: the promises of smsdesk-inbox(5) that can be checked at
 * rest, checked, and mended where no guess is needed (inbox-check.h).
 *
 * The walk, in order:
 *   modes      every directory 0700 and file 0600 (2770 and 0660, and the
 *              group, for a trusted group), ours, no link or FIFO where a
 *              file of the layout should be
 *   journals   none left by a writer that died (replayed), no stuck flag
 *              without a journal
 *   sweeps     tmp/ past 36 hours, status/ past 7 days, parts/ past 2
 *              days, erasures a crash left half done
 *   records    consent/, status/, contacts/, parts/, roster/: one record
 *              each, of its kind and name
 *   history    day files named by day, each event in the file of its day;
 *              which messages have their event
 *   threads    under each thread's lock: the conversation record and the
 *              message files parse and agree with their names; messages
 *              counted; work/ and queue/ say at least what the record
 *              does; each message's ledger entries, outbox/ entry,
 *              schedule/ name and history event are there
 *
 * A repair is the library's own act where it has one: a replay
 * (inbox_recover()), an erasure finished (inbox_erase_resume()), a
 * conversation changed under its lock (inbox_update()), a ledger entry or
 * an index name made as a writer makes it, a file moved to quarantine/
 * (ib_quarantine()). Nothing is deleted but what the sweep deletes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "inbox-check.h"
#include "inbox-erase.h"
#include "inbox-impl.h"
#include "journal.h"
#include "record.h"
#include "thread.h"

struct ck {
	struct inbox *ib;
	int repair;
	inbox_check_fn fn;
	void *arg;
	size_t left;
	time_t now;
	mode_t fmode, dmode;
	int queue_built;	/* queue/.built: the index says it is whole */
	int history;		/* history/ has day files, */
	char first_day[11];	/* the first of them: it began then */
	json_t *outbox;		/* "THREAD/ID" of the entries in outbox/ */
	json_t *events;		/* ids of messages with a "message" event */
	json_t *days;		/* day files read into events */
};

/* A file read whole: its bytes (heap) and its stat. */
struct file {
	struct rbuf b;
	struct stat st;
};

/*
 * One finding, handed over: rc 1 mended, -1 tried and failed (e says
 * why), 0 not tried.
 */
static void
report(struct ck *c, const char *check, const char *path,
    const char *problem, const char *repair, int rc, const struct errbuf *e)
{
	struct inbox_finding f = { check, path, problem, repair,
	    repair ? rc : 0, rc < 0 && e ? e->msg : NULL };

	if (f.repaired != 1)
		c->left++;
	c->fn(&f, c->arg);
}

/* Whether to mend this finding: asked to, and it has a repair. */
static int
mending(const struct ck *c)
{
	return c->repair;
}

static int
read_file(struct ck *c, const char *rel, struct file *f)
{
	int fd;

	memset(f, 0, sizeof *f);
	if ((fd = ib_open(c->ib, rel, O_RDONLY, 0, &f->st)) < 0)
		return -1;
	if (ib_rbuf_read(&f->b, fd) < 0) {
		int err = errno;

		close(fd);
		free(f->b.heap);
		f->b.heap = NULL;
		return errno = err, -1;
	}
	close(fd);
	return 0;
}

/*
 * rel read whole, however long (a day of history, a ledger): not cut at
 * a record's limit as ib_rbuf_read() cuts. 0, or -1 with errno.
 */
static int
read_long(struct ck *c, const char *rel, struct file *f)
{
	size_t cap;
	ssize_t n;
	char *p;
	int fd;

	memset(f, 0, sizeof *f);
	if ((fd = ib_open(c->ib, rel, O_RDONLY, 0, &f->st)) < 0)
		return -1;
	cap = (size_t)f->st.st_size + 1;
	for (;;) {
		if (f->b.len == f->b.cap) {
			cap = f->b.cap ? f->b.cap * 2 : cap;
			if (!(p = realloc(f->b.heap, cap))) {
				close(fd);
				free(f->b.heap);
				f->b.heap = NULL;
				return errno = ENOMEM, -1;
			}
			f->b.p = f->b.heap = p;
			f->b.cap = cap;
		}
		n = read(fd, f->b.p + f->b.len, f->b.cap - f->b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		f->b.len += (size_t)n;
	}
	if (n < 0) {
		int saved = errno;

		close(fd);
		free(f->b.heap);
		f->b.heap = NULL;
		return errno = saved, -1;
	}
	close(fd);
	return 0;
}

static void
file_free(struct file *f)
{
	free(f->b.heap);
	f->b.heap = NULL;
}

/*
 * The record of f: its last whole line (log) or its one line; NULL with
 * why filled.
 */
static json_t *
record_of(const struct file *f, int log, struct errbuf *why)
{
	const char *p = f->b.p, *lp;
	size_t len = f->b.len, ll;

	if (log) {
		if (!ib_last_line(p, len, &lp, &ll, why))
			return NULL;
		return record_parse(lp, ll, why);
	}
	if (len == 0 || p[len - 1] != '\n' || memchr(p, '\n', len) !=
	    p + len - 1) {
		snprintf(why->msg, sizeof why->msg, len ? "not one record "
		    "ending in a newline" : "empty file");
		return NULL;
	}
	return record_parse(p, len - 1, why);
}

/* Move rel aside to quarantine/ as a reader does; 0 once it is gone. */
static int
quarantine(struct ck *c, const char *rel, const char *why,
    const struct stat *st, struct errbuf *e)
{
	void (*say)(void *, const char *) = c->ib->report;
	struct stat now;

	c->ib->report = NULL;	/* the finding says it */
	ib_quarantine(c->ib, rel, why, st);
	c->ib->report = say;
	if (ib_stat(c->ib, rel, &now) == 0 && now.st_ino == st->st_ino) {
		errf(e, "could not move it to quarantine/");
		return -1;
	}
	return 0;
}

/* A record file of the layout that does not parse, or is not its kind. */
static void
bad_record(struct ck *c, const char *rel, const char *why,
    const struct stat *st)
{
	struct errbuf e = { "" };
	int rc = 0;

	if (mending(c))
		rc = quarantine(c, rel, why, st, &e) < 0 ? -1 : 1;
	report(c, "record", rel, why, "moved to quarantine/", rc, &e);
}

/*
 * Check the record file rel: its kind type and, if field, that field
 * equal to want. Returns the record (to free) or NULL if there is none or
 * it was bad (reported).
 */
static json_t *
check_record(struct ck *c, const char *rel, int log, const char *type,
    const char *field, const char *want)
{
	struct errbuf why = { "" };
	struct file f;
	const char *s;
	json_t *j;

	if (read_file(c, rel, &f) < 0) {
		if (errno != ENOENT && errno != ELOOP && errno != IB_ENOTREG) {
			snprintf(why.msg, sizeof why.msg, "cannot be read: %s",
			    ib_strerror(errno));
			report(c, "record", rel, why.msg, NULL, 0, NULL);
		}
		return NULL;
	}
	if ((j = record_of(&f, log, &why))) {
		if (!(s = record_str(j, "type")) || strcmp(s, type) != 0)
			snprintf(why.msg, sizeof why.msg, "not a %s record",
			    type);
		else if (field && (!(s = record_str(j, field)) ||
		    strcmp(s, want) != 0))
			snprintf(why.msg, sizeof why.msg, "its %s is not %s",
			    field, want);
		else
			*why.msg = '\0';
		if (*why.msg) {
			json_decref(j);
			j = NULL;
		}
	}
	if (!j)
		bad_record(c, rel, why.msg, &f.st);
	file_free(&f);
	return j;
}

/* --- Modes ------------------------------------------------------------- */

static void
check_mode(struct ck *c, int dfd, const char *name, const char *rel,
    const struct stat *st)
{
	mode_t want = S_ISDIR(st->st_mode) ? c->dmode : c->fmode;
	mode_t have = st->st_mode & 07777;
	struct errbuf e = { "" };
	char say[128];
	int rc = 0;

	if (!c->ib->grouped && st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(say, sizeof say, "owned by uid %u, not by the inbox's "
		    "user", (unsigned)st->st_uid);
		report(c, "mode", rel, say, NULL, 0, NULL);
	}
	if (c->ib->grouped && st->st_gid != c->ib->group) {
		snprintf(say, sizeof say, "group %u, not the inbox's %u",
		    (unsigned)st->st_gid, c->ib->group);
		if (mending(c))
			rc = fchownat(dfd, name, (uid_t)-1, c->ib->group,
			    AT_SYMLINK_NOFOLLOW) < 0 ? errf(&e, "%s",
			    strerror(errno)) : 1;
		report(c, "mode", rel, say, "group set", rc, &e);
		rc = 0;
	}
	/* A directory made setgid by its parent may keep the bit. */
	if (have == want || (S_ISDIR(st->st_mode) && !c->ib->grouped &&
	    (have & ~(mode_t)S_ISGID) == want && !(have & 077)))
		return;
	snprintf(say, sizeof say, "mode %04o, not %04o", (unsigned)have,
	    (unsigned)want);
	/* Not through a link put there since the stat. */
	if (mending(c))
		rc = fchmodat(dfd, name, want, AT_SYMLINK_NOFOLLOW) < 0 ?
		    errf(&e, "%s", strerror(errno)) : 1;
	report(c, "mode", rel, say, "mode set", rc, &e);
}

/*
 * Where the layout has symbolic links: an older inbox's ledgers; and
 * quarantine/, which holds what was moved aside, links and FIFOs too.
 */
static int
link_allowed(const char *rel)
{
	return ((strncmp(rel, "ids/", 4) == 0 || strncmp(rel, "outbox/", 7) ==
	    0) && !strchr(strchr(rel, '/') + 1, '/')) ||
	    strncmp(rel, "quarantine/", 11) == 0;
}

static void
walk_modes(struct ck *c, int dfd, char *rel, size_t len)
{
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int fd;

	if ((fd = dup(dfd)) < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		report(c, "mode", *rel ? rel : ".", strerror(errno), NULL, 0,
		    NULL);
		return;
	}
	while ((d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (len + strlen(d->d_name) + 2 >= PATH_MAX)
			continue;
		snprintf(rel + len, PATH_MAX - len, "%s%s", len ? "/" : "",
		    d->d_name);
		if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (S_ISLNK(st.st_mode)) {
			if (!link_allowed(rel))
				bad_record(c, rel, "a symbolic link (not "
				    "followed)", &st);
		} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			if (!link_allowed(rel))
				bad_record(c, rel, "not a regular file", &st);
		} else if (!(S_ISREG(st.st_mode) && strncmp(rel, "tmp/", 4) ==
		    0 && c->now - st.st_mtime <= INBOX_SWEEP_AGE) &&
		    strncmp(rel, "quarantine/", 11) != 0) {
			/* A file of tmp/ being written is given to the
			 * group after it is made: judged once it is old.
			 * What quarantine/ holds was moved there as it
			 * was found, its mode too (quarantine/ itself is
			 * judged). */
			check_mode(c, dfd, d->d_name, rel, &st);
		}
		if (S_ISDIR(st.st_mode) && (fd = openat(dfd, d->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) >= 0) {
			walk_modes(c, fd, rel, strlen(rel));
			close(fd);
		}
		rel[len] = '\0';
	}
	closedir(dp);
}

static void
check_modes(struct ck *c)
{
	char rel[PATH_MAX] = "";
	struct stat st;

	if (fstat(c->ib->fd, &st) == 0)
		check_mode(c, c->ib->fd, ".", ".", &st);
	walk_modes(c, c->ib->fd, rel, 0);
}

/* --- Journals ---------------------------------------------------------- */

/* Whether the journal file name is held by a live writer (flock(2)). */
static int
journal_live(struct ck *c, const char *name)
{
	int fd = openat(c->ib->sub[IB_JOURNAL], name, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC), live;

	if (fd < 0)
		return 1;	/* gone: its writer stopped */
	live = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd);
	return live;
}

static int
check_journals(struct ck *c, struct errbuf *e)
{
	char rel[PATH_MAX], say[128];
	struct errbuf re = { "" };
	json_t *dead = json_array();
	size_t n, i, any = 0, replayed;
	struct stat st;
	char **names;
	int lk, stuck = 0, rc = 0;
	json_t *v;

	if (!dead)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	if (!(names = ib_list_names(c->ib, JOURNAL_DIR, &n, e))) {
		json_decref(dead);
		return -1;
	}
	/* As a replay does: one that starts meanwhile waits for us. */
	lk = ib_open(c->ib, "lock/replay", O_RDWR | O_CREAT, 0600, NULL);
	if (lk >= 0)
		flock(lk, LOCK_EX);
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "%s/%s", JOURNAL_DIR, names[i]);
		if (strcmp(names[i], "stuck") == 0) {
			stuck = 1;
			continue;
		}
		any++;
		if (fstatat(c->ib->sub[IB_JOURNAL], names[i], &st,
		    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode))
			json_array_append_new(dead, json_pack("[ss]", rel,
			    "not a regular file"));
		else if (!journal_live(c, names[i]))
			json_array_append_new(dead, json_pack("[ss]", rel,
			    "a journal that no running writer holds, not "
			    "replayed"));
	}
	if (stuck && !any)
		json_array_append_new(dead, json_pack("[ss]", STUCK_FLAG,
		    "the flag of a stuck journal, with no journal left"));
	if (lk >= 0)
		close(lk);
	if (json_array_size(dead) && mending(c))
		rc = inbox_recover(c->ib, &replayed, &re) < 0 ? -1 : 1;
	json_array_foreach(dead, i, v) {
		snprintf(say, sizeof say, "%s", json_string_value(
		    json_array_get(v, 1)));
		report(c, "journal", json_string_value(json_array_get(v, 0)),
		    say, "replayed (as the next writer would)", rc, &re);
	}
	ib_free_names(names, n);
	json_decref(dead);
	return 0;
}

/* --- Sweeps ------------------------------------------------------------ */

/*
 * Files of dir older than age: the sweep's (inbox_sweep()), which a
 * repair runs once for all of them.
 */
static int
check_aged(struct ck *c, const char *dir, time_t age, const char *problem,
    struct errbuf *e)
{
	char rel[PATH_MAX];
	struct errbuf re = { "" };
	struct stat st;
	size_t n, i, gone;
	char **names;
	int rc = 0, any = 0;

	if (!(names = ib_list_names(c->ib, dir, &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
		if (ib_stat(c->ib, rel, &st) < 0 || !S_ISREG(st.st_mode) ||
		    c->now - st.st_mtime <= age) {
			free(names[i]);
			names[i] = NULL;
		} else {
			any = 1;
		}
	}
	if (any && mending(c))
		rc = inbox_sweep(c->ib, INBOX_SWEEP_AGE, &gone, &re) < 0 ? -1 :
		    1;
	for (i = 0; i < n; i++) {
		if (!names[i])
			continue;
		snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
		report(c, "sweep", rel, problem, "removed (the sweep)",
		    rc == 1 && ib_stat(c->ib, rel, &st) == 0 ? errf(&re,
		    "still there after the sweep") : rc, &re);
	}
	ib_free_names(names, n);
	return 0;
}

/* Erasures left half done: tmp/erase,THREAD/ and tmp/retain,THREAD/. */
static int
check_erasures(struct ck *c, struct errbuf *e)
{
	char rel[PATH_MAX];
	struct errbuf re = { "" };
	struct stat st;
	size_t n, i, done;
	const char *t;
	char **names;
	int rc, lk;

	if (!(names = ib_list_names(c->ib, "tmp", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "tmp/%s", names[i]);
		if (ib_stat(c->ib, rel, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    !(t = strchr(names[i], ',')) || !thread_valid(t + 1))
			continue;
		/* One under way holds its thread's lock; a read-only inbox
		 * (a backup mounted so) has no writer to wait for. */
		if ((lk = ib_lock_thread(c->ib, t + 1, e)) < 0) {
			if (c->repair || (errno != EROFS && errno != EACCES)) {
				ib_free_names(names, n);
				return -1;
			}
		}
		st.st_mode = 0;
		ib_stat(c->ib, rel, &st);
		if (lk >= 0)
			ib_unlock(lk);
		if (!S_ISDIR(st.st_mode))
			continue;
		rc = 0;
		if (mending(c))
			rc = inbox_recover(c->ib, NULL, &re) < 0 ||
			    inbox_erase_resume(c->ib, &done, &re) < 0 ? -1 : 1;
		report(c, "erasure", rel, "an erasure or a retention a crash "
		    "left half done", "finished (as inbox-export would)", rc,
		    &re);
	}
	ib_free_names(names, n);
	return 0;
}

/* --- Records of their own ---------------------------------------------- */

static int
check_dir_records(struct ck *c, const char *dir, const char *type,
    const char *field, int by_name, struct errbuf *e)
{
	char rel[PATH_MAX];
	size_t n, i;
	char **names;

	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;

	if (!(names = ib_list_names(c->ib, dir, &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
		json_decref(check_record(c, rel, 0, type, field, by_name ?
		    names[i] : base));
	}
	ib_free_names(names, n);
	return 0;
}

static int
check_consent(struct ck *c, struct errbuf *e)
{
	char rel[PATH_MAX];
	struct stat st;
	size_t n, i;
	char **names;

	if (!(names = ib_list_names(c->ib, "consent", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "consent/%s", names[i]);
		if (ib_stat(c->ib, rel, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;	/* the walk of modes says so */
		if (check_dir_records(c, rel, "consent", "number", 0, e) < 0)
			break;
	}
	ib_free_names(names, n);
	return i < n ? -1 : 0;
}

static int
check_records(struct ck *c, struct errbuf *e)
{
	if (check_consent(c, e) < 0 ||
	    check_dir_records(c, "status", "status", NULL, 0, e) < 0 ||
	    check_dir_records(c, "contacts", "contact", "number", 1, e) < 0 ||
	    check_dir_records(c, "parts", "part", NULL, 0, e) < 0)
		return -1;
	json_decref(check_record(c, "roster/agents", 1, "roster", NULL, NULL));
	json_decref(check_record(c, "roster/rotation", 1, "rotation", NULL,
	    NULL));
	return 0;
}

/* --- History ----------------------------------------------------------- */

static int
day_name(const char *s)
{
	static const char form[] = "dddd-dd-dd";

	for (size_t i = 0; i < sizeof form - 1; i++)
		if (form[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
			return 0;
	return s[sizeof form - 1] == '\0';
}

/*
 * Read the day file history/day: the ids of its message events into
 * c->events; with check, each event that parses must be of that day.
 */
static void
read_day(struct ck *c, const char *day, int check)
{
	char rel[64], say[160];
	const char *p, *end, *nl, *at, *ev, *id;
	size_t lineno = 0, wrong = 0, first = 0;
	struct errbuf why;
	struct file f;
	json_t *j;

	snprintf(rel, sizeof rel, "history/%s", day);
	if (read_long(c, rel, &f) < 0) {
		file_free(&f);
		return;
	}
	json_object_set_new(c->days, day, json_true());
	for (p = f.b.p, end = p + f.b.len; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;	/* torn by a crash: the next writer's */
		lineno++;
		if (!(j = record_parse(p, (size_t)(nl - p), &why)))
			continue;	/* torn: readers skip it */
		at = record_str(j, "at");
		ev = record_str(j, "event");
		if (check && (!at || strncmp(at, day, 10) != 0) && !wrong++)
			first = lineno;
		if (ev && strcmp(ev, "message") == 0 && (id = record_str(j,
		    "msg")))
			json_object_set_new(c->events, id, json_true());
		json_decref(j);
	}
	file_free(&f);
	if (wrong) {
		snprintf(say, sizeof say, "%zu event%s not of this day (the "
		    "first on line %zu)", wrong, wrong > 1 ? "s" : "", first);
		report(c, "history", rel, say, NULL, 0, NULL);
	}
}

static int
check_history(struct ck *c, struct errbuf *e)
{
	size_t n, i;
	char **names;

	if (!(names = ib_list_names(c->ib, "history", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		if (!day_name(names[i])) {
			char rel[PATH_MAX];

			snprintf(rel, sizeof rel, "history/%s", names[i]);
			report(c, "history", rel, "not a day file "
			    "(YYYY-MM-DD)", NULL, 0, NULL);
			continue;
		}
		if (!c->history++)
			snprintf(c->first_day, sizeof c->first_day, "%s",
			    names[i]);
		read_day(c, names[i], 1);
	}
	ib_free_names(names, n);
	return 0;
}

/* --- The outbox -------------------------------------------------------- */

/* c->outbox: the entries of outbox/.log, and an older inbox's links. */
static void
read_outbox(struct ck *c)
{
	char to[PATH_MAX], thread[32], name[NAME_MAX_LEN], rel[PATH_MAX];
	const char *p, *end, *nl;
	struct file f;
	struct errbuf e;
	size_t n, i;
	char **names;

	json_object_clear(c->outbox);
	if (read_long(c, "outbox/.log", &f) == 0) {
		for (p = f.b.p, end = p + f.b.len; p < end; p = nl + 1) {
			if (!(nl = memchr(p, '\n', (size_t)(end - p))))
				break;
			if (nl - p < 3 || p[1] != ' ' || (*p != '+' &&
			    *p != '-'))
				continue;
			snprintf(to, sizeof to, "%.*s", (int)(nl - p - 2),
			    p + 2);
			if (*p == '+')
				json_object_set_new(c->outbox, to,
				    json_true());
			else
				json_object_del(c->outbox, to);
		}
		file_free(&f);
	}
	if (!(names = ib_list_names(c->ib, "outbox", &n, &e)))
		return;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "outbox/%s", names[i]);
		if (ib_link_target(c->ib, rel, to, sizeof to) == 0 &&
		    ib_msg_path(to, thread, name) == 0) {
			snprintf(to, sizeof to, "%s/%s", thread, name);
			json_object_set_new(c->outbox, to, json_true());
		}
	}
	ib_free_names(names, n);
}

/* --- Threads ----------------------------------------------------------- */

static int
message_exists(struct ck *c, const char *thread, const char *name)
{
	char rel[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	return ib_stat(c->ib, rel, &st) == 0;
}

/* The ledger entry of key, which msg/thread/name has. */
static void
check_key(struct ck *c, const char *thread, const char *name,
    const char *provider, const char *id)
{
	char key[NAME_MAX_LEN], t[32], n[NAME_MAX_LEN], rel[16];
	char say[NAME_MAX_LEN * 2 + 96];
	struct errbuf e = { "" };
	int rc = 0, replace = 1;

	if (ib_id_key(provider, id, key) < 0)
		return;
	if (ib_ledger_find(c->ib, key, t, n) == 0) {
		if ((strcmp(t, thread) == 0 && strcmp(n, name) == 0) ||
		    message_exists(c, t, n))
			return;	/* its own, or a duplicate's first copy */
		snprintf(say, sizeof say, "%s names msg/%s/%s, which is not "
		    "there, and not msg/%s/%s", key, t, n, thread, name);
	} else if (errno == ENOENT || errno == EBADMSG) {
		snprintf(say, sizeof say, "no entry for %s, the id of "
		    "msg/%s/%s", key, thread, name);
		replace = errno == EBADMSG;
	} else {
		return;
	}
	snprintf(rel, sizeof rel, "ids/%02x", ib_key_bucket(key));
	if (mending(c))
		rc = ib_ledger_add(c->ib, key, thread, name, replace, 0, &e) <
		    0 ? -1 : 1;
	report(c, "ledger", rel, say, "entered (as a delivery enters it)",
	    rc, &e);
}

static void
check_event(struct ck *c, const char *thread, const char *name,
    const json_t *msg)
{
	const char *at = record_str(msg, "at");
	char rel[PATH_MAX], day[11];

	/* A message from before the history began (an older inbox). */
	if (!c->history || json_object_get(c->events, name) || !at ||
	    strncmp(at, c->first_day, 10) < 0)
		return;
	/* Stored since the history was read: its day file again. */
	if (at && strlen(at) >= 10) {
		snprintf(day, sizeof day, "%.10s", at);
		read_day(c, day, 0);
		if (json_object_get(c->events, name))
			return;
	}
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	report(c, "history", rel, "no message event in history/ (the "
	    "history says less than the conversation)", NULL, 0, NULL);
}

static void
check_message(struct ck *c, const char *thread, const char *name,
    const json_t *msg)
{
	const char *provider = record_str(msg, "provider");
	const char *pid = record_str(msg, "provider_id");
	const char *key = record_str(msg, "key");
	char rel[PATH_MAX * 2], bucket[IB_SCHEDULE_BUCKET_LEN + 1];
	char sname[NAME_MAX_LEN * 2], tn[PATH_MAX];
	struct errbuf e = { "" };
	struct stat st;
	json_t *v;
	size_t i;
	int rc;

	if (provider && pid)
		check_key(c, thread, name, provider, pid);
	json_array_foreach(json_object_get(msg, "provider_ids"), i, v)
		if (provider && json_is_string(v))
			check_key(c, thread, name, provider,
			    json_string_value(v));
	if (key)
		check_key(c, thread, name, "key", key);
	snprintf(tn, sizeof tn, "%s/%s", thread, name);
	if (ib_outbound_pending(msg) && !json_object_get(c->outbox, tn)) {
		read_outbox(c);	/* entered since it was read? */
		if (!json_object_get(c->outbox, tn)) {
			rc = 0;
			if (mending(c))
				rc = ib_outbox_add(c->ib, thread, name, 0,
				    &e) < 0 ? -1 : 1;
			snprintf(rel, sizeof rel, "msg/%s", tn);
			report(c, "outbox", rel, "waits for its provider's "
			    "answer but is not in outbox/", "entered", rc,
			    &e);
		}
	}
	if (inbox_is_scheduled(msg) && ib_schedule_name(msg, bucket,
	    sname) == 0) {
		snprintf(rel, sizeof rel, "schedule/%s/%s", bucket, sname);
		if (ib_stat(c->ib, rel, &st) < 0 && errno == ENOENT) {
			rc = 0;
			if (mending(c))
				rc = ib_schedule_enter(c->ib, msg, 1, &e) < 0 ?
				    -1 : 1;
			report(c, "schedule", rel, "a scheduled message "
			    "missing from schedule/", "made", rc, &e);
		}
	}
	check_event(c, thread, name, msg);
}

/* The messages of msg/thread (those that parse), for a recount. */
struct count {
	struct ck *c;
	const char *thread;
	long long n;
};

static long long
count_messages(struct ck *c, const char *thread)
{
	char rel[PATH_MAX];
	struct errbuf why;
	struct file f;
	const char *type;
	long long count = 0;
	size_t n, i;
	char **names;
	json_t *j;

	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (!(names = ib_list_names(c->ib, rel, &n, &why)))
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "msg/%s/%s", thread, names[i]);
		if (read_file(c, rel, &f) < 0)
			continue;
		if ((j = record_of(&f, 1, &why)) && (type = record_str(j,
		    "type")) && strcmp(type, "message") == 0)
			count++;
		json_decref(j);
		file_free(&f);
	}
	ib_free_names(names, n);
	return count;
}

static int
recount(json_t *conv, void *arg, struct errbuf *e)
{
	struct count *k = arg;

	(void)e;
	k->n = count_messages(k->c, k->thread);
	if (json_integer_value(json_object_get(conv, "messages")) == k->n &&
	    json_object_get(conv, "messages"))
		return 1;
	json_object_set_new(conv, "messages", json_integer(k->n));
	return 0;
}

/* The conversation record of thread, checked; NULL if none (or bad). */
static json_t *
check_conversation(struct ck *c, const char *thread)
{
	static const char *const statuses[] = { INBOX_OPEN, INBOX_PENDING,
	    INBOX_SNOOZED, INBOX_RESOLVED, NULL };
	char rel[PATH_MAX];
	struct errbuf why = { "" };
	struct file f;
	const char *s;
	json_t *j;
	size_t i;

	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (read_file(c, rel, &f) < 0)
		return NULL;
	if ((j = record_of(&f, 1, &why))) {
		s = record_str(j, "status");
		for (i = 0; statuses[i] && (!s || strcmp(s, statuses[i])); i++)
			;
		if (!(s = record_str(j, "type")) || strcmp(s,
		    "conversation") != 0)
			snprintf(why.msg, sizeof why.msg, "not a conversation "
			    "record");
		else if (!(s = record_str(j, "thread")) || strcmp(s, thread))
			snprintf(why.msg, sizeof why.msg, "its thread is not "
			    "%s", thread);
		else if (!statuses[i])
			snprintf(why.msg, sizeof why.msg, "no status of a "
			    "conversation");
		if (*why.msg) {
			json_decref(j);
			j = NULL;
		}
	}
	if (!j)
		bad_record(c, rel, why.msg, &f.st);
	file_free(&f);
	return j;
}

/* The message files of thread checked; returns how many are messages. */
static long long
check_messages(struct ck *c, const char *thread)
{
	char rel[PATH_MAX];
	struct errbuf why;
	struct file f;
	const char *type, *s;
	long long count = 0;
	size_t n, i;
	char **names;
	json_t *j;

	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (!(names = ib_list_names(c->ib, rel, &n, &why)))
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "msg/%s/%s", thread, names[i]);
		if (read_file(c, rel, &f) < 0)
			continue;	/* not a file: the walk says so */
		*why.msg = '\0';
		if ((j = record_of(&f, 1, &why))) {
			type = record_str(j, "type");
			if (!type || (strcmp(type, "message") &&
			    strcmp(type, "note")))
				snprintf(why.msg, sizeof why.msg, "neither a "
				    "message nor a note");
			else if (!(s = record_str(j, "thread")) ||
			    strcmp(s, thread))
				snprintf(why.msg, sizeof why.msg, "its thread "
				    "is not %s", thread);
			else if (!(s = record_str(j, "id")) ||
			    strcmp(s, names[i]))
				snprintf(why.msg, sizeof why.msg, "its id is "
				    "not its name");
		}
		if (!j || *why.msg) {
			bad_record(c, rel, why.msg, &f.st);
		} else if (strcmp(type, "message") == 0) {
			count++;
			check_message(c, thread, names[i], j);
		}
		json_decref(j);
		file_free(&f);
	}
	ib_free_names(names, n);
	return count;
}

static void
check_sets(struct ck *c, const char *thread, const json_t *conv)
{
	char rel[PATH_MAX], q[INBOX_QUEUE_NAME_MAX];
	struct errbuf e = { "" };
	struct stat st;
	const char *s = record_str(conv, "status");
	int rc = 0, made;

	snprintf(rel, sizeof rel, "work/%s", thread);
	if (s && strcmp(s, INBOX_RESOLVED) != 0 && !inbox_is_blocked(conv) &&
	    ib_stat(c->ib, rel, &st) < 0 && errno == ENOENT) {
		if (mending(c))
			rc = ib_work_join(c->ib, thread, &made, &e) < 0 ||
			    ib_sync_dir(c->ib, "work", &e) < 0 ? -1 : 1;
		report(c, "work", rel, "a conversation not resolved, missing "
		    "from the working set", "made", rc, &e);
	}
	inbox_queue_name_json(thread, conv, q);
	snprintf(rel, sizeof rel, "queue/%s", q);
	if (c->queue_built && *q && ib_stat(c->ib, rel, &st) < 0 &&
	    errno == ENOENT) {
		rc = 0;
		if (mending(c))
			rc = inbox_queue_fix(c->ib, thread, NULL, 0, &e) < 0 ?
			    -1 : 1;
		report(c, "queue", rel, "a conversation missing from the "
		    "index of the working set", "made", rc, &e);
	}
}

static void
check_thread(struct ck *c, const char *thread)
{
	char rel[PATH_MAX], say[128];
	struct count k = { c, thread, 0 };
	struct errbuf e = { "" };
	struct stat st;
	json_t *conv, *after = NULL;
	long long count;
	int rc = 0;

	/* Being taken out: its state is the erasure's (check_erasures()). */
	snprintf(rel, sizeof rel, "tmp/erase,%s", thread);
	if (ib_stat(c->ib, rel, &st) == 0)
		return;
	snprintf(rel, sizeof rel, "tmp/retain,%s", thread);
	if (ib_stat(c->ib, rel, &st) == 0)
		return;
	conv = check_conversation(c, thread);
	count = check_messages(c, thread);
	snprintf(rel, sizeof rel, "conv/%s", thread);
	if (!conv && count > 0) {
		if (mending(c))
			rc = inbox_update(c->ib, thread, recount, &k, &after,
			    &e) < 0 ? -1 : 1;
		report(c, "count", rel, "messages in msg/ but no conversation "
		    "record", "made anew, open, and counted (as the thread's "
		    "next change would)", rc, &e);
	} else if (conv && json_integer_value(json_object_get(conv,
	    "messages")) != count) {
		snprintf(say, sizeof say, "counts %lld messages; msg/%s holds "
		    "%lld", (long long)json_integer_value(json_object_get(conv,
		    "messages")), thread, count);
		if (mending(c))
			rc = inbox_update(c->ib, thread, recount, &k, &after,
			    &e) < 0 ? -1 : 1;
		report(c, "count", rel, say, "recounted", rc, &e);
	}
	if (after) {
		json_decref(conv);
		conv = after;
	}
	if (conv)
		check_sets(c, thread, conv);
	json_decref(conv);
}

/* The names of conv/ and msg/, merged: every thread, once, in order. */
static int
check_threads(struct ck *c, struct errbuf *e)
{
	char **a, **b, rel[PATH_MAX];
	size_t na, nb, i = 0, j = 0;
	const char *t;
	int cmp, lk;

	if (!(a = ib_list_names(c->ib, "conv", &na, e)))
		return -1;
	if (!(b = ib_list_names(c->ib, "msg", &nb, e))) {
		ib_free_names(a, na);
		return -1;
	}
	while (i < na || j < nb) {
		cmp = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
		t = cmp <= 0 ? a[i] : b[j];
		i += cmp <= 0;
		j += cmp >= 0;
		if (!thread_valid(t)) {
			snprintf(rel, sizeof rel, "%s/%s", cmp <= 0 ? "conv" :
			    "msg", t);
			report(c, "record", rel, "not a thread's name", NULL,
			    0, NULL);
			continue;
		}
		/* A read-only inbox (a backup mounted so) has no writer. */
		if ((lk = ib_lock_thread(c->ib, t, e)) < 0 && (c->repair ||
		    (errno != EROFS && errno != EACCES)))
			break;
		check_thread(c, t);
		if (lk >= 0)
			ib_unlock(lk);
	}
	ib_free_names(a, na);
	ib_free_names(b, nb);
	return i < na || j < nb ? -1 : 0;
}

int
inbox_check(struct inbox *ib, int repair, inbox_check_fn fn, void *arg,
    size_t *left, struct errbuf *e)
{
	struct ck c = { .ib = ib, .repair = repair, .fn = fn, .arg = arg,
	    .now = time(NULL), .fmode = ib->grouped ? 0660 : 0600,
	    .dmode = ib->grouped ? 02770 : 0700, .outbox = json_object(),
	    .events = json_object(), .days = json_object() };
	struct stat st;
	int rc = -1;

	if (!c.outbox || !c.events || !c.days) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		goto out;
	}
	c.queue_built = ib_stat(ib, "queue/" IB_QUEUE_BUILT, &st) == 0;
	check_modes(&c);
	if (check_journals(&c, e) < 0 || check_erasures(&c, e) < 0 ||
	    check_aged(&c, "tmp", INBOX_SWEEP_AGE, "a file a write left "
	    "behind, older than 36 hours", e) < 0 ||
	    check_aged(&c, "status", INBOX_PARK_MAX_AGE, "a delivery report "
	    "parked for over 7 days", e) < 0 ||
	    check_aged(&c, "parts", INBOX_PARTS_MAX_AGE, "a part of a long "
	    "message older than 2 days", e) < 0 ||
	    check_records(&c, e) < 0 || check_history(&c, e) < 0)
		goto out;
	read_outbox(&c);
	rc = check_threads(&c, e);
out:
	*left = c.left;
	json_decref(c.outbox);
	json_decref(c.events);
	json_decref(c.days);
	return rc;
}
