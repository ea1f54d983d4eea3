/*
 * spool.c: sms-recv --spool DIR, the spool of SMS Server Tools 3 (smsd)
 * read, for a GSM modem on the premises (sms-recv(1), Spool;
 * smsdesk-smstools(5) has the file format).
 *
 * One run reads, in this order: sent/ and failed/ for the files sms-send
 * wrote (named SMSDESK_PREFIX and our message id: the provider id), each
 * settling its message (sent, or failed with smsd's Fail_reason), and
 * entering smsd's Message_id in the ledger for the status reports to
 * come; then report/ (where smsd is configured to keep status reports
 * apart) and incoming/, each message stored through store.c as a
 * webhook's is, each status report applied to the message it is about.
 * A file is removed only once what it says is durable in the inbox (or
 * was there already): a run killed in between reads it again, and the
 * ledger makes it old news. Its provider id is its name and a hash of its
 * bytes: smsd's names are random, and may come again for another message.
 *
 * A file that does not parse is moved to DIR/quarantine/ and said on
 * stderr, and the rest is read (exit 1); one smsd may still be writing
 * (it writes incoming/ in place: shorter than its Length:, or without the
 * end of its headers) is left for the next run, unless it is older than
 * SPOOL_GRACE. What is not ours (sent/ and failed/ files of another
 * program, status reports of messages the inbox does not know) is left
 * where it is. A flock(2) on DIR keeps two runs from reading it at once.
 */
#define _GNU_SOURCE		/* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "diag.h"
#include "inbox.h"
#include "provider.h"
#include "record.h"
#include "smstools.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

#define SPOOL_GRACE 60		/* seconds a file may take to be written */
#define PROVIDER "smstools"

struct spool {
	struct recv *r;
	const char *dir;
	int fd;				/* DIR */
	time_t now;
};

/* A file of sub/ read: its bytes (malloc'd) and its age. */
static char *
slurp(struct spool *sp, int dfd, const char *sub, const char *name,
    size_t *len, time_t *mtime)
{
	struct stat st;
	char *p;
	ssize_t n;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errno = EINVAL, NULL;
	}
	*mtime = st.st_mtime;
	if (st.st_size > SMSTOOLS_FILE_MAX)
		st.st_size = SMSTOOLS_FILE_MAX + 1;
	if (!(p = malloc((size_t)st.st_size + 1)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	n = read(fd, p, (size_t)st.st_size + 1);
	close(fd);
	if (n < 0) {
		diag_warn("%s/%s/%s: %s", sp->dir, sub, name, strerror(errno));
		free(p);
		sp->r->ret = EXIT_IOERR;
		return errno = EIO, NULL;
	}
	*len = (size_t)n;
	return p;
}

/*
 * Move sub/name to DIR/quarantine/ (made if missing), under a name of its
 * own there, and say why. Left in place, and said, if it cannot be moved.
 */
static void
quarantine(struct spool *sp, int dfd, const char *sub, const char *name,
    const char *why)
{
	char to[NAME_MAX + 32];
	int q;

	sp->r->ret = EXIT_PARTIAL;
	if ((mkdirat(sp->fd, "quarantine", 0700) < 0 && errno != EEXIST) ||
	    (q = openat(sp->fd, "quarantine", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		diag_warn("%s/%s/%s: %s (left in place: %s/quarantine: %s)",
		    sp->dir, sub, name, why, sp->dir, strerror(errno));
		return;
	}
	snprintf(to, sizeof to, "%s-%s", sub, name);
	for (int i = 2; renameat2(dfd, name, q, to, RENAME_NOREPLACE) < 0;
	    i++) {
		if (errno != EEXIST || i > 99) {
			diag_warn("%s/%s/%s: %s (left in place: %s)",
			    sp->dir, sub, name, why, strerror(errno));
			close(q);
			return;
		}
		snprintf(to, sizeof to, "%s-%s.%d", sub, name, i);
	}
	(void)fsync(q);
	close(q);
	diag_warn("%s/%s/%s: %s (moved to %s/quarantine/%s)", sp->dir, sub,
	    name, why, sp->dir, to);
}

/* Done with sub/name: it goes (its news is in the inbox). */
static void
done(struct spool *sp, int dfd, const char *sub, const char *name)
{
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
		diag_warn("%s/%s/%s: cannot remove it: %s", sp->dir, sub, name,
		    strerror(errno));
		sp->r->ret = EXIT_PARTIAL;
	}
}

/* A number of smsd's (international, without "+") as E.164 into out. */
static const char *
e164(const char *digits, char *out, size_t n)
{
	if (!digits || !*digits || strspn(digits, "0123456789") !=
	    strlen(digits) || strlen(digits) > 15)
		return digits;
	snprintf(out, n, "+%s", digits);
	return out;
}

/*
 * The ledger's name for a status report's message: the modem, the
 * recipient and smsd's Message_id (the message reference, 0-255).
 */
static void
report_key(const char *modem, const char *to, const char *mid, char *out,
    size_t n)
{
	size_t i;

	snprintf(out, n, "mr-%s-%s-%s", modem ? modem : "", to ? to : "",
	    mid);
	for (i = 0; out[i]; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' &&
		    out[i] <= 'Z') || (out[i] >= '0' && out[i] <= '9') ||
		    out[i] == '-' || out[i] == '_' || out[i] == '.'))
			out[i] = '_';
}

/* The Message_id of a sent file entered for msg, each of its numbers. */
static void
enter_reports(struct spool *sp, const struct smstools_file *f,
    const json_t *msg)
{
	const char *mid = smstools_header(f, "Message_id");
	const char *to = smstools_header(f, "To");
	char copy[256], key[160], *tok, *save;
	struct errbuf e;

	if (!mid || !msg)
		return;
	if (to && *to == 's')
		to++;
	snprintf(copy, sizeof copy, "%s", mid);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ",
	    &save)) {
		if (strspn(tok, "0123456789") != strlen(tok))
			continue;	/* messageids = 3 ends with "." */
		report_key(smstools_header(f, "Modem"), to, tok, key,
		    sizeof key);
		if (inbox_alias_move(&sp->r->ib, record_str(msg, "thread"),
		    record_str(msg, "id"), PROVIDER, key, &e) < 0) {
			diag_warn("%s: %s", key, e.msg);
			sp->r->ret = EXIT_PARTIAL;
		}
	}
}

/*
 * A file of ours in sent/ or failed/ (word: "sent" or "failed"): its
 * message settled. Returns 1 if it is done with, 0 if it is not ours
 * (left), -1 if the inbox failed (said; left).
 */
static int
settle(struct spool *sp, const char *name, const struct smstools_file *f,
    const char *word)
{
	struct inbox *ib = &sp->r->ib;
	const char *reason = smstools_header(f, "Fail_reason");
	const char *to = smstools_header(f, "To");
	char thread[32];
	json_t *msg = NULL, *err = NULL, *out = NULL;
	struct errbuf e;
	int known, rc;

	if ((known = inbox_known_id(ib, PROVIDER, name)) < 0) {
		diag_warn("%s: the ledger: %s", name, strerror(errno));
		return -1;
	}
	if (strcmp(word, "failed") == 0 && !(err = json_pack("{s:s,s:s?}",
	    "code", provider_error_class(PROVIDER, 0, NULL), "message",
	    reason && *reason ? reason : NULL)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (known) {
		rc = inbox_status(ib, PROVIDER, name, word, NULL, &msg, &e);
		if (rc == 1 && err && inbox_sent(ib, record_str(msg, "thread"),
		    record_str(msg, "id"), NULL, NULL, word, err, &out,
		    &e) == 0) {
			json_decref(msg);
			msg = out;
		}
	} else {
		/* sms-send stopped before it could settle it (a crash). */
		snprintf(thread, sizeof thread, "+%s", to ? to : "");
		rc = inbox_sent(ib, thread, name + strlen(SMSTOOLS_PREFIX),
		    PROVIDER, name, word, err, &msg, &e) == 0 ? 1 :
		    errno == ENOENT || errno == EINVAL ? 0 : -1;
		if (rc == 0) {
			json_decref(err);
			return 0;
		}
	}
	json_decref(err);
	if (rc < 0) {
		diag_warn("%s: %s", name, e.msg);
		return -1;
	}
	if (rc == 1) {
		emit(sp->r, "message.status", "message", msg);
	}
	if (strcmp(word, "sent") == 0)
		enter_reports(sp, f, msg);
	json_decref(msg);
	return 1;
}

/*
 * A status report: the message it is about moved to delivered or
 * undelivered (store_status(), as a webhook's report). Returns 1 if done
 * with (stored, or no news: the SMSC still trying), 0 if it is about no
 * message of ours (left), -1 if the inbox failed.
 */
static int
report(struct spool *sp, const struct smstools_file *f, struct errbuf *e)
{
	struct webhook_event ev = { .kind = WEBHOOK_STATUS };
	const char *modem = smstools_header(f, "Modem");
	char key[160], code[16];
	int known;

	if (!(ev.status = smstools_status_word(f->status)))
		return 1;
	if (!modem)
		modem = smstools_header(f, "Subject");
	report_key(modem, smstools_header(f, "From"), f->message_id, key,
	    sizeof key);
	if ((known = inbox_known_id(&sp->r->ib, PROVIDER, key)) <= 0) {
		if (known < 0)
			errf(e, "%s: the ledger: %s", key, strerror(errno));
		return known;
	}
	ev.id = key;
	ev.body = "";
	if (strcmp(ev.status, "delivered") != 0) {
		snprintf(code, sizeof code, "%d", f->status);
		ev.error_code = code;
	}
	return store_status(sp->r, &ev, PROVIDER, e) < 0 ? -1 : 1;
}

/*
 * A message that came in, stored as a webhook's is (store_message()),
 * a part of a long one kept until its whole has come. Returns 1 if
 * stored (or stored before), -1 with e filled (errno EINVAL: the file's
 * fault).
 */
static int
message(struct spool *sp, const char *name, const char *p, size_t len,
    const struct smstools_file *f, struct errbuf *e)
{
	struct webhook_event ev = { .kind = WEBHOOK_MESSAGE };
	const char *from = smstools_header(f, "From");
	const char *toa = smstools_header(f, "From_TOA");
	const char *modem = smstools_header(f, "Modem");
	unsigned char h[8];
	char id[NAME_MAX + 24], fnum[24], tnum[24], ref[96], at[WHEN_BUFSZ];
	char *reply = NULL;
	time_t t;
	int rc;

	if (!from || !*from)
		return errno = EINVAL, errf(e, "no From:");
	/* smsd writes an international number without its "+". */
	ev.from = !toa || strncmp(toa, "91", 2) == 0 ? e164(from, fnum,
	    sizeof fnum) : from;
	ev.to = conf_now(sp->r)->feed[0].acct.from;
	if (!ev.to)
		ev.to = e164(smstools_header(f, "Number"), tnum, sizeof tnum);
	crypto_generichash(h, sizeof h, (const unsigned char *)p, len, NULL,
	    0);
	snprintf(id, sizeof id, "%s-", name);
	sodium_bin2hex(id + strlen(id), sizeof id - strlen(id), h, sizeof h);
	ev.id = id;
	ev.body = f->text;
	ev.body_len = f->text_len;
	ev.status = "received";
	if (f->concat_ref >= 0 && f->concat_total > 1) {
		snprintf(ref, sizeof ref, "%s-%d", modem ? modem :
		    smstools_header(f, "Subject") ? smstools_header(f,
		    "Subject") : "", f->concat_ref);
		ev.concat_ref = ref;
		ev.concat_part = f->concat_part;
		ev.concat_total = f->concat_total;
	}
	when_format(smstools_time(smstools_header(f, "Received"), &t) == 0 ?
	    t : when_now(), at);
	rc = store_message(sp->r, &ev, PROVIDER, at, &reply, e);
	free(reply);
	return rc < 0 ? -1 : 1;
}

/*
 * One file of sub/ (dfd): sent/ and failed/ hold our own (word "sent",
 * "failed"), report/ and incoming/ what came in (word NULL).
 */
static void
one(struct spool *sp, int dfd, const char *sub, const char *name,
    const char *word)
{
	struct smstools_file f;
	struct errbuf e;
	time_t mtime;
	size_t len;
	char *p;
	int rc;

	if (!(p = slurp(sp, dfd, sub, name, &len, &mtime)))
		return;		/* gone meanwhile, or said */
	if ((word ? smstools_parse_head(p, len, &f, &e) :
	    smstools_parse(p, len, &f, &e)) < 0) {
		if (errno == ENOMEM)
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		/* smsd may be writing it still. */
		if (errno != EAGAIN || sp->now - mtime > SPOOL_GRACE)
			quarantine(sp, dfd, sub, name, e.msg);
		goto out;
	}
	if (word)
		rc = settle(sp, name, &f, word);
	else if (f.report)
		rc = report(sp, &f, &e);
	else
		rc = message(sp, name, p, len, &f, &e);
	if (rc < 0 && !word && errno == EINVAL) {
		quarantine(sp, dfd, sub, name, e.msg);
	} else if (rc < 0) {
		if (!word)
			diag_warn("%s/%s/%s: %s (left for the next run)",
			    sp->dir, sub, name, e.msg);
		sp->r->ret = diag_exit_for(errno) == EXIT_PARTIAL ?
		    EXIT_IOERR : diag_exit_for(errno);
	} else if (rc > 0) {
		done(sp, dfd, sub, name);
	}
out:
	smstools_file_free(&f);
	free(p);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every file of sub/, in the order of their names: with ours, those
 * sms-send wrote only; else every file smsd would count as one (not
 * hidden, not a lock: *.LOCK, LOCKED*, src/extras.c). A sub/ that is not
 * there is skipped if optional.
 */
static void
each(struct spool *sp, const char *sub, const char *word, int optional)
{
	struct dirent *d;
	char **names = NULL;
	size_t n = 0, cap = 0, l;
	DIR *dp;
	int dfd;

	if ((dfd = openat(sp->fd, sub, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT && optional)
			return;
		diag_warn("%s/%s: %s", sp->dir, sub, strerror(errno));
		sp->r->ret = diag_exit_for(errno);
		return;
	}
	if (!(dp = fdopendir(dup(dfd))))
		diag_die(EXIT_IOERR, "%s/%s: %s", sp->dir, sub,
		    strerror(errno));
	while ((d = readdir(dp))) {
		l = strlen(d->d_name);
		if (d->d_name[0] == '.' || (l >= 5 && strcmp(d->d_name + l - 5,
		    ".LOCK") == 0) || strncmp(d->d_name, "LOCKED", 6) == 0 ||
		    (word && strncmp(d->d_name, SMSTOOLS_PREFIX,
		    strlen(SMSTOOLS_PREFIX)) != 0))
			continue;
		if (n == cap && !(names = realloc(names, (cap = cap ? cap * 2 :
		    64) * sizeof *names)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		if (!(names[n++] = strdup(d->d_name)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		one(sp, dfd, sub, names[i], word);
		free(names[i]);
	}
	free(names);
	close(dfd);
}

int
spool_run(struct recv *r, const char *dir)
{
	struct spool sp = { .r = r, .dir = dir, .now = time(NULL) };

	if (sodium_init() < 0)
		diag_die(EXIT_IOERR, "cannot initialise libsodium");
	if ((sp.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		diag_die(errno == ENOENT || errno == ENOTDIR ? EXIT_NOINPUT :
		    diag_exit_for(errno), "--spool: %s: %s", dir,
		    strerror(errno));
	if (flock(sp.fd, LOCK_EX | LOCK_NB) < 0) {
		diag_warn("--spool: %s: another run is reading it", dir);
		close(sp.fd);
		return EXIT_TEMPFAIL;
	}
	each(&sp, "sent", "sent", 1);
	each(&sp, "failed", "failed", 1);
	each(&sp, "report", NULL, 1);
	each(&sp, "incoming", NULL, 0);
	close(sp.fd);
	return r->ret;
}
