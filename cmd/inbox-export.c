/*
 * inbox-export: what the inbox holds about a person, handed over, erased,
 * or, past the retention period, archived: inbox-export(1).
 *
 * One program for the three because they walk the same stores: what an
 * export lists is what an erasure takes, and an archive is an export
 * written to a file before the conversation is taken out. The walk is
 * gather.c's; the taking, crash-safe, the library's (inbox-erase.h); the
 * archive file archive.c's. Each NUMBER, or each conversation that
 * retention selects, gives its records or one event record on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox-erase.h"
#include "inbox.h"
#include "limit.h"
#include "phone.h"
#include "record.h"
#include "thread.h"
#include "when.h"
#include "inbox-export/archive.h"
#include "inbox-export/gather.h"

#define USAGE "usage: inbox-export [-hV] [-d DIR] [--media-dir DIR] " \
	"NUMBER ...\n" \
	"       inbox-export [-hV] [-d DIR] --erase NUMBER ...\n" \
	"       inbox-export [-hV] [-d DIR] --archive " \
	"[--retention DURATION]\n"

enum { OPT_ARCHIVE = 256, OPT_ERASE, OPT_MEDIA_DIR, OPT_RETENTION };

struct ex {
	struct inbox ib;
	struct config *cfg;
	const char *country;
	const char *media_dir;	/* --media-dir */
	int mfd;		/* it, open */
	int ret;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --archive          archive (or delete) the "
		    "resolved conversations\n"
		    "                         older than the retention "
		    "period, for cron\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "      --erase            erase what is held about each "
		    "NUMBER but its\n"
		    "                         consent ledger (an opt-out is "
		    "recorded)\n"
		    "  -h, --help             print this help and exit\n"
		    "      --media-dir DIR    copy the media files into DIR "
		    "(made if missing)\n"
		    "      --retention DURATION\n"
		    "                         the period, instead of the "
		    "config's retention\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWith neither --erase nor --archive, writes everything "
		    "held about each\nNUMBER as NDJSON records.\n", fp);
	exit(code);
}

static void
note(struct ex *x, int code)
{
	if (code > x->ret)
		x->ret = code;
}

static void
report(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	note(arg, EXIT_PARTIAL);
}

static int
out(const json_t *rec)
{
	if (record_write(stdout, rec) < 0 || fflush(stdout) == EOF)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	return 0;
}

/* --- Export ----------------------------------------------------------- */

static int
emit(void *arg, const json_t *rec, struct errbuf *e)
{
	(void)arg;
	(void)e;
	return out(rec);
}

/* A media file copied into --media-dir, under its own name. */
static char *
copy_media(void *arg, const char *name, int fd, off_t size,
    struct errbuf *e)
{
	struct ex *x = arg;
	char buf[65536];
	off_t off = 0;
	ssize_t n;
	int to;

	if ((to = openat(x->mfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW, 0600)) < 0)
		return errf(e, "%s/%s: %s", x->media_dir, name,
		    strerror(errno)), NULL;
	while (off < size && (n = pread(fd, buf, sizeof buf, off)) > 0) {
		if (write(to, buf, (size_t)n) != n) {
			if (errno == 0)
				errno = ENOSPC;
			break;
		}
		off += n;
	}
	if (off != size || close(to) < 0) {
		int err = errno ? errno : EIO;

		if (off != size)
			close(to);
		errno = err;
		return errf(e, "%s/%s: %s", x->media_dir, name,
		    strerror(err)), NULL;
	}
	return strdup(name);
}

static void
export_one(struct ex *x, const char *thread)
{
	struct gather g = { .ib = &x->ib, .thread = thread, .emit = emit,
	    .media = x->media_dir ? copy_media : NULL, .arg = x };
	struct errbuf e;
	int rc;

	if ((rc = gather(&g, &e)) < 0) {
		diag_warn("%s: %s", thread, e.msg);
		note(x, diag_exit_for(errno) == EXIT_DATAERR ? EXIT_PARTIAL :
		    diag_exit_for(errno));
		return;
	}
	if (rc == 1) {
		diag_warn("%s: nothing is held about it", thread);
		note(x, EXIT_PARTIAL);
	}
	if (g.missing) {
		diag_warn("%s: %d media file%s could not be read (said in "
		    "its record)", thread, g.missing, g.missing > 1 ? "s" :
		    "");
		note(x, EXIT_PARTIAL);
	}
}

/* --- Erasure ---------------------------------------------------------- */

static json_t *
erased_event(struct ex *x, const char *event, const char *thread,
    const struct inbox_erased *r)
{
	char now[WHEN_BUFSZ];
	json_t *ev;
	json_t *by = x->ib.agent ? json_pack("{s:s,s:s}", "user", x->ib.user,
	    "agent", x->ib.agent) : json_pack("{s:s}", "user", x->ib.user);

	when_format(when_now(), now);
	ev = json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:o?}",
	    "type", "event", "event", event, "thread", thread, "at", now,
	    "found", r->found, "messages", (json_int_t)r->messages, "media",
	    (json_int_t)r->media, "ledger_lines", (json_int_t)r->lines,
	    "history_redacted", (json_int_t)r->history, "other",
	    (json_int_t)r->other, "by", by);
	if (!ev)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	return ev;
}

static void
erase_one(struct ex *x, const char *thread)
{
	struct inbox_erased r;
	struct errbuf e;
	json_t *ev;

	if (inbox_erase(&x->ib, thread, INBOX_ERASE_PERSON, NULL, &r,
	    &e) < 0) {
		diag_warn("%s: %s (run it again to finish)", thread, e.msg);
		note(x, diag_exit_for(errno));
		return;
	}
	ev = erased_event(x, "person.erased", thread, &r);
	json_object_set_new(ev, "optout", json_boolean(r.optout));
	out(ev);
	json_decref(ev);
}

/* --- Retention -------------------------------------------------------- */

struct pick {
	time_t cutoff, now;
	json_t *threads;	/* chosen */
	json_t *busy;		/* threads with messages still to send */
};

/* The newest time of the conversation's activity, or 0. */
static time_t
last_activity(const json_t *conv)
{
	static const char *const keys[] = {
		"resolved_at", "last_in_at", "last_out_at", "last_auto_at",
		"surveyed_at", "opened_at", NULL,
	};
	time_t t, max = 0;
	const char *s;

	for (size_t i = 0; keys[i]; i++)
		if ((s = record_str(conv, keys[i])) && when_parse(s, &t,
		    NULL) == 0 && t > max)
			max = t;
	return max;
}

/*
 * Whether conv may go: resolved, not blocked (the block is kept where it
 * is), no survey waiting for its answer, nothing left to send, and quiet
 * since the cutoff.
 */
static int
expired(const struct pick *p, const char *thread, const json_t *conv)
{
	const json_t *sv = json_object_get(conv, "survey");
	const char *st = record_str(conv, "status"), *until;
	time_t t, last = last_activity(conv);

	if (!st || strcmp(st, INBOX_RESOLVED) != 0 || inbox_is_blocked(conv) ||
	    json_object_get(p->busy, thread))
		return 0;
	if (json_is_object(sv) && (until = record_str(sv, "until")) &&
	    when_parse(until, &t, NULL) == 0 && t > p->now)
		return 0;
	return last > 0 && last < p->cutoff;
}

static int
pick_one(const struct inbox_conv *c, void *arg)
{
	struct pick *p = arg;
	json_t *conv;

	if (!c->thread || !c->status || strcmp(c->status, INBOX_RESOLVED) != 0)
		return 0;
	if (!(conv = json_loadb(c->line, c->len, 0, NULL)))
		return 0;
	if (expired(p, c->thread, conv))
		json_array_append_new(p->threads, json_string(c->thread));
	json_decref(conv);
	return 0;
}

/* The threads with messages not yet settled or scheduled: kept. */
static void
busy_threads(struct ex *x, json_t *busy)
{
	struct inbox_due *due;
	struct errbuf e;
	json_t *ob, *m;
	size_t i, n;

	if (!(ob = inbox_outbox(&x->ib, &e)))
		diag_die(diag_exit_for(errno), "%s", e.msg);
	json_array_foreach(ob, i, m)
		if (record_str(m, "thread"))
			json_object_set_new(busy, record_str(m, "thread"),
			    json_true());
	json_decref(ob);
	if (inbox_schedule_list(&x->ib, -1, &due, &n, &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	for (i = 0; i < n; i++)
		json_object_set_new(busy, due[i].thread, json_true());
	free(due);
}

/* The archive directory: the config's archive_dir, else INBOX/archive,
 * made and opened through the inbox's own descriptor: a symbolic link or a
 * renamed directory on the way there is no way out of the inbox
 * (smsdesk-inbox(5)). A configured one is the user's. */
static int
archive_dir(struct ex *x, char **path)
{
	const char *d = config_pick(x->cfg, NULL, NULL, "archive_dir", NULL);
	int own = !(d && *d), at = own ? x->ib.fd : AT_FDCWD, fd;
	const char *name = own ? "archive" : d;

	if (!own && d[0] != '/')
		diag_die(EXIT_CONFIG, "archive_dir: '%s' is not an absolute "
		    "path", d);
	if (own ? asprintf(path, "%s/archive", x->ib.dir) < 0 :
	    !(*path = strdup(d)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (mkdirat(at, name, 0700) == 0 ? own &&
	    inbox_share_dir(&x->ib, at, name) < 0 : errno != EEXIST)
		diag_die(diag_exit_for(errno), "%s: %s", *path,
		    strerror(errno));
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY |
	    (own ? O_NOFOLLOW : 0))) < 0)
		diag_die(diag_exit_for(errno), "%s: %s", *path,
		    strerror(errno));
	return fd;
}

static void
retain_one(struct ex *x, struct pick *p, const char *thread, int delete,
    int dfd, const char *dir)
{
	char stamp[WHEN_BUFSZ], name[128];
	struct inbox_erased r;
	struct errbuf e;
	json_t *conv, *ev;
	int lk;

	/* Under the lock: a text that came since keeps it. */
	if ((lk = inbox_lock(&x->ib, thread, 0, &e)) < 0) {
		diag_warn("%s: %s", thread, e.msg);
		note(x, diag_exit_for(errno));
		return;
	}
	if (!(conv = inbox_conversation(&x->ib, thread, &e)) ||
	    !expired(p, thread, conv)) {
		json_decref(conv);
		inbox_unlock(lk);
		return;
	}
	json_decref(conv);
	*name = '\0';
	if (!delete) {
		when_format(p->now, stamp);
		snprintf(name, sizeof name,
		    "%s.%.4s%.2s%.2sT%.2s%.2s%.2sZ.tar.gz", thread, stamp,
		    stamp + 5, stamp + 8, stamp + 11, stamp + 14, stamp + 17);
		if (archive_write(&x->ib, thread, dfd, dir, name, &e) < 0) {
			diag_warn("%s: %s", thread, e.msg);
			note(x, diag_exit_for(errno));
			inbox_unlock(lk);
			return;
		}
	}
	if (inbox_erase(&x->ib, thread, 0, *name ? name : NULL, &r, &e) < 0) {
		diag_warn("%s: %s (run it again to finish)", thread, e.msg);
		note(x, diag_exit_for(errno));
		inbox_unlock(lk);
		return;
	}
	inbox_unlock(lk);
	ev = erased_event(x, delete ? "conversation.deleted" :
	    "conversation.archived", thread, &r);
	if (*name)
		json_object_set_new(ev, "file", json_pack("s++", dir, "/",
		    name));
	out(ev);
	json_decref(ev);
}

static void
archive(struct ex *x, const char *retention)
{
	struct pick p = { .now = when_now(), .threads = json_array(),
	    .busy = json_object() };
	const char *action;
	char *dir = NULL;
	struct errbuf e;
	long long secs;
	json_t *t;
	size_t i;
	int delete, dfd = -1;

	if (!retention)
		retention = config_pick(x->cfg, NULL, NULL, "retention", NULL);
	if (!retention || !*retention)
		diag_die(EXIT_CONFIG, "retention: not configured (a duration, "
		    "such as 365d, in smsdesk-config(5), or --retention)");
	if (when_duration(retention, &secs, &e) < 0 || secs <= 0)
		diag_die(EXIT_CONFIG, "retention: '%s' is not a duration",
		    retention);
	action = config_pick(x->cfg, NULL, NULL, "retention_action",
	    "archive");
	if (strcmp(action, "archive") != 0 && strcmp(action, "delete") != 0)
		diag_die(EXIT_CONFIG, "retention_action: '%s' is neither "
		    "archive nor delete", action);
	delete = strcmp(action, "delete") == 0;
	if (!p.threads || !p.busy)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	p.cutoff = p.now - (time_t)secs;
	if (!delete)
		dfd = archive_dir(x, &dir);
	busy_threads(x, p.busy);
	if (inbox_each(&x->ib, 1, pick_one, &p, &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	json_array_foreach(p.threads, i, t)
		retain_one(x, &p, json_string_value(t), delete, dfd, dir);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	json_decref(p.threads);
	json_decref(p.busy);
}

/* --- main ------------------------------------------------------------- */

static struct config *
load_config(const char *dir)
{
	struct config *cfg;
	struct errbuf e;
	char *path = inbox_path(dir);

	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(cfg, path, &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	return cfg;
}

/* Every NUMBER as a thread, all checked before anything is done. */
static char **
threads_of(struct ex *x, char **v, int n)
{
	char **t = calloc((size_t)n + 1, sizeof *t);
	char num[THREAD_MAX];
	struct errbuf e;

	x->country = config_pick(x->cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (x->country && *x->country && !phone_region_code(x->country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", x->country);
	if (!t)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (int i = 0; i < n; i++) {
		if (thread_parse(v[i], x->country, num, &e) < 0)
			diag_die(EXIT_USAGE, "%s: %s (nothing was done)", v[i],
			    e.msg);
		if (!(t[i] = strdup(num)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	}
	return t;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "archive", no_argument, NULL, OPT_ARCHIVE },
		{ "dir", required_argument, NULL, 'd' },
		{ "erase", no_argument, NULL, OPT_ERASE },
		{ "help", no_argument, NULL, 'h' },
		{ "media-dir", required_argument, NULL, OPT_MEDIA_DIR },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ex x = { .mfd = -1 };
	const char *dir = NULL, *retention = NULL;
	int ch, mode = 0, err;
	struct errbuf e;
	char **threads = NULL;
	size_t resumed;

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "d:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ARCHIVE:
		case OPT_ERASE:
			if (mode && mode != ch)
				diag_die(EXIT_USAGE, "--archive and --erase "
				    "exclude each other");
			mode = ch;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case OPT_MEDIA_DIR:
			x.media_dir = optarg;
			break;
		case OPT_RETENTION:
			retention = optarg;
			break;
		case 'V':
			printf("inbox-export (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (mode == OPT_ARCHIVE ? argc > 0 : argc == 0)
		usage(stderr, EXIT_USAGE);
	if (x.media_dir && mode)
		diag_die(EXIT_USAGE, "--media-dir goes with an export, not "
		    "with --%s", mode == OPT_ERASE ? "erase" : "archive");
	if (retention && mode != OPT_ARCHIVE)
		diag_die(EXIT_USAGE, "--retention goes with --archive");
	x.cfg = load_config(dir);
	if (argc > 0)
		threads = threads_of(&x, argv, argc);
	if (inbox_group_check(config_pick(x.cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (inbox_open_group(&x.ib, dir, 0, config_pick(x.cfg, NULL, NULL,
	    "group", NULL), &e) < 0) {
		err = errno;
		inbox_close(&x.ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	x.ib.report = report;
	x.ib.report_arg = &x;
	x.ib.agent = config_pick(x.cfg, NULL, "SMSDESK_AGENT", "agent", NULL);
	if (x.ib.agent && !*x.ib.agent)
		x.ib.agent = NULL;
	if (x.ib.agent && limit_text("agent", strlen(x.ib.agent), LIMIT_NAME,
	    &e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_AGENT or agent: %s", e.msg);
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	if (mode) {
		/* Journals of writers that died, lest they bring back what
		 * goes; then erasures a crash left half done. */
		if (inbox_recover(&x.ib, NULL, &e) < 0 ||
		    inbox_erase_resume(&x.ib, &resumed, &e) < 0)
			diag_die(diag_exit_for(errno), "%s", e.msg);
		if (resumed)
			diag_warn("finished %zu erasure%s left half done",
			    resumed, resumed > 1 ? "s" : "");
	}
	if (x.media_dir) {
		if (mkdir(x.media_dir, 0700) < 0 && errno != EEXIST)
			diag_die(diag_exit_for(errno), "%s: %s", x.media_dir,
			    strerror(errno));
		if ((x.mfd = open(x.media_dir, O_RDONLY | O_DIRECTORY)) < 0)
			diag_die(diag_exit_for(errno), "%s: %s", x.media_dir,
			    strerror(errno));
	}
	if (mode == OPT_ARCHIVE)
		archive(&x, retention);
	for (int i = 0; threads && threads[i]; i++) {
		if (mode == OPT_ERASE)
			erase_one(&x, threads[i]);
		else
			export_one(&x, threads[i]);
		free(threads[i]);
	}
	free(threads);
	if (x.mfd >= 0)
		close(x.mfd);
	inbox_close(&x.ib);
	config_free(x.cfg);
	return diag_close_stdout(x.ret);
}
