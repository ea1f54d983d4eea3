/*
 * inbox-read.c: what programs read from the inbox, and the sweep that
 * tidies it: the conversations walked (inbox_each(), inbox_list()), one
 * conversation and its thread of messages (or its last one), the consent
 * ledger (whether a number opted out, and its records),
 * the outbox of messages not yet settled, and old files in tmp/ and
 * status/ removed. Names never change once made, so a listing neither
 * misses nor repeats a conversation while others change state (inbox.h).
 * A reader takes a lock only to remove something: a file that does not
 * parse, a link in outbox/ to nothing, a report parked too long.
 *
 * Relies on inbox-file.c to read records and quarantine bad ones, and on
 * inbox.c for ib_id_key() and ib_outbound_pending(), thread.c for
 * thread_valid().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "inbox-impl.h"
#include "when.h"
#include "serve.h"
#include "inbox.h"
#include "record.h"

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * rel (64 bytes) gets "top/thread", the directory or file of a thread's
 * records under top (msg, conv, consent). 0, or -1 with errno EINVAL and
 * e filled if thread is not an E.164 number.
 */
static int
thread_rel(const char *top, const char *thread, char *rel, struct errbuf *e)
{
	if (!thread_valid(thread)) {
		errno = EINVAL;
		return errf(e, "'%s' is not an E.164 number", thread);
	}
	snprintf(rel, 64, "%s/%s", top, thread);
	return 0;
}

/* Names in dir (relative), sorted, without dot files; NULL on error. */
char **
ib_list_names(struct inbox *ib, const char *dir, size_t *n, struct errbuf *e)
{
	char **v = NULL, **nv;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd = ib_open_dir(ib, dir);

	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		errno = saved;
		errf(e, "%s/%s: %s", ib->dir, dir, ib_strerror(errno));
		return NULL;
	}
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof *v)))
				goto nomem;
			v = nv;
		}
		if (!(v[*n] = strdup(de->d_name)))
			goto nomem;
		(*n)++;
	}
	if (errno) {
		errf(e, "%s/%s: %s", ib->dir, dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (!v && !(v = malloc(sizeof *v)))
		goto nomem_closed;
	qsort(v, *n, sizeof *v, cmp_names);
	return v;
nomem:
	errno = ENOMEM;
	errf(e, "%s", strerror(ENOMEM));
fail:
	closedir(d);
nomem_closed:
	while (*n > 0)
		free(v[--*n]);
	free(v);
	return NULL;
}

void
ib_free_names(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* The records of dir (consent/NUMBER), oldest first, appended to out;
 * newest: only the newest that parses. 0, or -1 with e filled. */
static int
consent_records(struct inbox *ib, const char *rel, int newest, json_t *out,
    struct errbuf *e)
{
	char path[PATH_MAX];
	char **names;
	size_t n, i;
	struct errbuf pe;
	json_t *c;

	if (!(names = ib_list_names(ib, rel, &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", rel,
		    names[newest ? n - 1 - i : i]);
		if (!(c = ib_get_record(ib, path, &pe))) {
			/* Not there: gone. Not one record: quarantined. */
			if (errno != ENOENT && errno != EBADMSG && ib->report)
				ib->report(ib->report_arg, pe.msg);
			continue;
		}
		if (json_array_append_new(out, c) < 0) {
			ib_free_names(names, n);
			errno = ENOMEM;
			return errf(e, "%s", strerror(ENOMEM));
		}
		if (newest)
			break;
	}
	ib_free_names(names, n);
	return 0;
}

json_t *
inbox_consent_state(struct inbox *ib, const char *number, struct errbuf *e)
{
	char rel[64];
	json_t *out, *c;

	if (thread_rel("consent", number, rel, e) < 0)
		return NULL;
	if (!(out = json_array())) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (consent_records(ib, rel, 1, out, e) < 0) {
		json_decref(out);
		return NULL;
	}
	if ((c = json_array_get(out, 0)))
		json_incref(c);
	else
		errno = ENOENT;
	json_decref(out);
	return c;
}

json_t *
inbox_consent_list(struct inbox *ib, const char *number, int newest,
    struct errbuf *e)
{
	char rel[NAME_MAX_LEN + 16];
	char **names = NULL;
	size_t n = 0, i;
	json_t *out;
	int rc = 0;

	if (number && !thread_valid(number)) {
		errno = EINVAL;
		errf(e, "'%s' is not an E.164 number", number);
		return NULL;
	}
	if (!number && !(names = ib_list_names(ib, "consent", &n, e)))
		return NULL;
	if (!(out = json_array())) {
		ib_free_names(names, n);
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	for (i = 0; rc == 0 && i < (number ? 1 : n); i++) {
		if (!number && !thread_valid(names[i]))
			continue;
		snprintf(rel, sizeof rel, "consent/%s",
		    number ? number : names[i]);
		if ((rc = consent_records(ib, rel, newest, out, e)) < 0 &&
		    errno == ENOENT)
			rc = 0;		/* removed meanwhile, or none */
	}
	ib_free_names(names, n);
	if (rc < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int
inbox_consent_now(struct inbox *ib, const char *number, struct errbuf *e)
{
	json_t *c = inbox_consent_state(ib, number, e);
	const char *state;
	int st;

	if (!c)
		return errno == ENOENT ? 0 : -1;
	state = record_str(c, "state");
	st = state && strcmp(state, "out") == 0 ? 'o' : 'i';
	json_decref(c);
	return st;
}

/* Whether consent record c holds on channel ("sms" for a text or a
 * picture): one that names no channel holds on every channel. */
static int
consent_holds_on(const json_t *c, const char *channel)
{
	const char *rc = record_str(c, "channel");

	if (!rc)
		return 1;
	if (strcmp(rc, "mms") == 0)
		rc = "sms";
	if (strcmp(channel, "mms") == 0)
		channel = "sms";
	return strcmp(rc, channel) == 0;
}

int
inbox_consent_on(struct inbox *ib, const char *number, const char *channel,
    struct errbuf *e)
{
	json_t *all, *c;
	const char *state;
	size_t i;
	int st = 0;

	if (!channel)
		return inbox_consent_now(ib, number, e);
	if (!(all = inbox_consent_list(ib, number, 0, e)))
		return -1;
	for (i = json_array_size(all); !st && i > 0; i--) {
		c = json_array_get(all, i - 1);
		if (!consent_holds_on(c, channel))
			continue;
		state = record_str(c, "state");
		st = state && strcmp(state, "out") == 0 ? 'o' : 'i';
	}
	json_decref(all);
	return st;
}

int
inbox_opted_out_on(struct inbox *ib, const char *number, const char *channel,
    struct errbuf *e)
{
	int st = inbox_consent_on(ib, number, channel, e);

	return st < 0 ? -1 : st == 'o';
}

int
inbox_opted_out(struct inbox *ib, const char *number, struct errbuf *e)
{
	int st = inbox_consent_now(ib, number, e);

	return st < 0 ? -1 : st == 'o';
}

json_t *
inbox_last_message(struct inbox *ib, const char *thread, struct errbuf *e)
{
	char rel[64], path[PATH_MAX];
	char **names;
	size_t n, i;
	struct errbuf pe;
	json_t *m = NULL;

	if (thread_rel("msg", thread, rel, e) < 0)
		return NULL;
	if (!(names = ib_list_names(ib, rel, &n, e)))
		return NULL;
	for (i = n; !m && i > 0; i--) {
		snprintf(path, sizeof path, "%s/%s", rel, names[i - 1]);
		if (!(m = ib_get_record(ib, path, &pe)) && errno != ENOENT &&
		    errno != EBADMSG && ib->report)
			ib->report(ib->report_arg, pe.msg);
	}
	ib_free_names(names, n);
	if (!m) {
		errno = ENOENT;
		errf(e, "%s/%s: no message", ib->dir, rel);
	}
	return m;
}

json_t *
inbox_conversation(struct inbox *ib, const char *thread, struct errbuf *e)
{
	char rel[64];

	if (thread_rel("conv", thread, rel, e) < 0)
		return NULL;
	return ib_get_record(ib, rel, e);
}

/* The fields of struct inbox_conv, in the order of conv_str[] below. */
static const char *const conv_fields[] = {
	"thread", "status", "assignee", "waiting_since", "last_in_at",
	"last_out_at", "snoozed_until", "blocked_at", "last_auto_at",
	"whatsapp_in_at", "unread",
};
#define CONV_NSTR 10
#define CONV_NFIELDS (sizeof conv_fields / sizeof *conv_fields)

static const char **
conv_str(struct inbox_conv *c, size_t i)
{
	const char **s[CONV_NSTR] = {
		&c->thread, &c->status, &c->assignee, &c->waiting_since,
		&c->last_in_at, &c->last_out_at, &c->snoozed_until,
		&c->blocked_at, &c->last_auto_at, &c->whatsapp_in_at,
	};

	return s[i];
}

/*
 * Fill c from a plain line (record_pick() said so) without a parse tree:
 * string fields decoded into sb, NUL-terminated (one holding a NUL is
 * left NULL, as record_str() leaves it). -1 on ENOMEM.
 */
static int
conv_from_line(struct inbox_conv *c, const char *line, size_t len,
    const struct record_field *f, struct buf *sb)
{
	size_t off[CONV_NSTR], i;

	sb->len = 0;
	for (i = 0; i < CONV_NSTR; i++) {
		off[i] = SIZE_MAX;
		if (!f[i].val || *f[i].val != '"')
			continue;
		off[i] = sb->len;
		if (record_unescape(f[i].val + 1, f[i].len - 2, sb) < 0)
			return -1;
		/* Holding a NUL, it is no C string: absent, as record_str()
		 * says. */
		if (sb->len > off[i] && memchr(sb->p + off[i], '\0',
		    sb->len - off[i])) {
			sb->len = off[i];
			off[i] = SIZE_MAX;
			continue;
		}
		if (buf_addc(sb, '\0') < 0)
			return -1;
	}
	for (i = 0; i < CONV_NSTR; i++)
		*conv_str(c, i) = off[i] == SIZE_MAX ? NULL : sb->p + off[i];
	f = &f[CONV_NSTR];
	/* A plain integer is in range: strtoll() cannot overflow. */
	c->unread = f->val && (*f->val == '-' || (*f->val >= '0' &&
	    *f->val <= '9')) ? strtoll(f->val, NULL, 10) : 0;
	c->line = line;
	c->len = len;
	return 0;
}

/* Fill c from a record that jansson parsed; *dump gets the line. */
static int
conv_from_json(struct inbox_conv *c, const json_t *j, char **dump)
{
	size_t i;

	if (!(*dump = json_dumps(j, JSON_COMPACT)))
		return errno = ENOMEM, -1;
	for (i = 0; i < CONV_NSTR; i++)
		*conv_str(c, i) = record_str(j, conv_fields[i]);
	c->unread = json_integer_value(json_object_get(j, "unread"));
	c->line = *dump;
	c->len = strlen(*dump);
	return 0;
}

/* What inbox_each() keeps from one conversation to the next. */
struct walk {
	struct inbox *ib;
	int conv;		/* conv/, open */
	struct rbuf b;		/* the file just read */
	struct buf sb;		/* its fields, decoded */
	inbox_each_fn fn;
	void *arg;
};

/*
 * Hand conversation name to the walk's callback, as ib_get_record() would
 * read it: a file that is gone is skipped, one that does not parse (and
 * was not replaced meanwhile) quarantined, one that cannot be read
 * reported; none of those stops the walk. Returns what the callback did,
 * or -1 on ENOMEM.
 */
static int
each_one(struct walk *w, const char *name)
{
	struct record_field f[CONV_NFIELDS];
	struct inbox_conv c;
	struct errbuf pe;
	struct stat st;
	char rel[NAME_MAX_LEN + 8], msg[PATH_MAX + 300], *dump = NULL;
	json_t *j = NULL;
	int tries = 0, fd, rc, plain = -1;
	const char *lp = NULL;
	size_t i, ll = 0;

	for (i = 0; i < CONV_NFIELDS; i++)
		f[i].key = conv_fields[i];
	snprintf(rel, sizeof rel, "conv/%s", name);
	for (;;) {
		if ((fd = ib_openat_file(w->ib, w->conv, name, O_RDONLY,
		    0, NULL)) < 0 ||
		    ib_rbuf_read(&w->b, fd) < 0) {
			rc = errno;
			if (fd >= 0)
				close(fd);
			if (rc == ENOMEM)
				return errno = rc, -1;
			if (rc != ENOENT && w->ib->report) {
				snprintf(msg, sizeof msg, "%s/%s: %s",
				    w->ib->dir, rel, ib_strerror(rc));
				w->ib->report(w->ib->report_arg, msg);
			}
			return 0;
		}
		if (ib_last_line(w->b.p, w->b.len, &lp, &ll, &pe)) {
			plain = record_pick(lp, ll, f, CONV_NFIELDS);
			if (plain != 1)
				j = record_parse(lp, ll, &pe);
			if (plain == 1 || j)
				break;
		}
		/* Bad: unless a writer replaced it while we read. */
		rc = fstat(fd, &st);
		close(fd);
		if (rc < 0)
			return 0;
		if (++tries < 3 && ib_replaced(w->conv, name, &st))
			continue;
		ib_quarantine(w->ib, rel, pe.msg, &st);
		return 0;
	}
	close(fd);
	if (plain == 1)
		rc = conv_from_line(&c, lp, ll, f, &w->sb);
	else
		rc = conv_from_json(&c, j, &dump);
	if (rc == 0)
		rc = w->fn(&c, w->arg);
	else
		errno = ENOMEM;
	json_decref(j);
	free(dump);
	return rc;
}

int
inbox_each(struct inbox *ib, int all, inbox_each_fn fn, void *arg,
    struct errbuf *e)
{
	struct walk w = { .ib = ib, .fn = fn, .arg = arg };
	char **names;
	size_t n, i;
	int rc = 0;

	if (!(names = ib_list_names(ib, all ? "conv" : "work", &n, e)))
		return -1;
	w.conv = ib->sub[IB_CONV];
	if (w.conv < 0) {
		ib_free_names(names, n);
		return errf(e, "%s/conv: %s", ib->dir, ib_strerror(errno));
	}
	for (i = 0; i < n && rc == 0; i++) {
		/* Sorted, so a name readdir(3) gave twice is next to itself. */
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (thread_valid(names[i]))
			rc = each_one(&w, names[i]);
	}
	if (rc < 0)
		errf(e, "%s", strerror(errno));
	free(w.b.heap);
	buf_free(&w.sb);
	ib_free_names(names, n);
	return rc;
}

/* inbox_list(): each conversation parsed into the array. */
static int
list_one(const struct inbox_conv *c, void *arg)
{
	struct errbuf pe;
	json_t *j = record_parse(c->line, c->len, &pe);

	if (!j || json_array_append_new(arg, j) < 0)
		return errno = ENOMEM, -1;
	return 0;
}

json_t *
inbox_list(struct inbox *ib, int all, struct errbuf *e)
{
	json_t *out = json_array();

	if (!out) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (inbox_each(ib, all, list_one, out, e) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *
inbox_thread(struct inbox *ib, const char *thread, struct errbuf *e)
{
	char rel[64], path[PATH_MAX];
	char **names;
	size_t n, i;
	json_t *out, *seen, *m;
	struct errbuf pe;

	if (thread_rel("msg", thread, rel, e) < 0)
		return NULL;
	if (!(names = ib_list_names(ib, rel, &n, e)))
		return NULL;
	out = json_array();
	seen = json_object();
	for (i = 0; out && seen && i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", rel, names[i]);
		if (!(m = ib_get_record(ib, path, &pe))) {
			/* Not there: gone. Not one record: quarantined. */
			if (errno != ENOENT && errno != EBADMSG && ib->report)
				ib->report(ib->report_arg, pe.msg);
			continue;
		}
		const char *pv = record_str(m, "provider");
		const char *pid = record_str(m, "provider_id");

		char key[NAME_MAX_LEN];

		/* A crash before the ledger entry: one copy shown. */
		if (pv && pid && ib_id_key(pv, pid, key) == 0) {
			if (json_object_get(seen, key)) {
				json_decref(m);
				continue;
			}
			json_object_set_new(seen, key, json_true());
		}
		json_array_append_new(out, m);
	}
	json_decref(seen);
	ib_free_names(names, n);
	if (!out) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
	}
	return out;
}

int
inbox_sweep(struct inbox *ib, time_t max_age, size_t *removed,
    struct errbuf *e)
{
	char rel[PATH_MAX];
	char **names;
	size_t n, i;
	struct stat st;
	time_t now = time(NULL);
	int lk;

	*removed = 0;
	if (!(names = ib_list_names(ib, "tmp", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "tmp/%s", names[i]);
		if (ib_stat(ib, rel, &st) < 0 ||
		    now - st.st_mtime <= max_age)
			continue;
		if (ib_unlink(ib, rel, 0) == 0)
			(*removed)++;
	}
	ib_free_names(names, n);

	/*
	 * Reports parked for a message that has not come in PARK_MAX_AGE:
	 * about one the inbox will never hold (sent by something else on
	 * the same account). Under the key's lock, as they are written.
	 */
	if (!(names = ib_list_names(ib, "status", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "status/%s", names[i]);
		if (ib_stat(ib, rel, &st) < 0 ||
		    now - st.st_mtime <= INBOX_PARK_MAX_AGE)
			continue;
		if ((lk = ib_lock_thread(ib, names[i], NULL)) < 0)
			continue;
		if (ib_stat(ib, rel, &st) == 0 &&
		    now - st.st_mtime > INBOX_PARK_MAX_AGE &&
		    ib_unlink(ib, rel, 0) == 0)
			(*removed)++;
		ib_unlock(lk);
	}
	ib_free_names(names, n);

	/*
	 * Parts of long messages whose other parts never came: the
	 * provider has given up on them (Vonage retries for a day).
	 */
	if (!(names = ib_list_names(ib, "parts", &n, e)))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "parts/%s", names[i]);
		if (ib_stat(ib, rel, &st) == 0 &&
		    now - st.st_mtime > INBOX_PARTS_MAX_AGE &&
		    ib_unlink(ib, rel, 0) == 0)
			(*removed)++;
	}
	ib_free_names(names, n);

	/* The links to media we sent, once they have expired (serve.h). */
	if (inbox_serve_sweep(ib, now, &n, e) < 0)
		return -1;
	*removed += n;
	/* The empty buckets of schedule/ of hours gone by. */
	if (ib_schedule_sweep(ib, when_now(), &n, e) < 0)
		return -1;
	*removed += n;
	return 0;
}
