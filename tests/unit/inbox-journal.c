/*
 * inbox-journal.c: a listener's journal makes its deliveries survive the
 * loss of every unsynced write, which is what a power cut does to the
 * files written after the last checkpoint. The test plays the cut by
 * putting back a copy of the inbox taken before the journaled deliveries
 * (or only parts of it), with the journal as the crash left it; replay
 * must give back the inbox as it was, no more and no less, however much
 * of the deliveries' files survived, and keep changes made since.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "inbox.h"
#include "record.h"
#include "tap.h"

/*
 * Every data sync the library makes, counted: these definitions take the
 * place of libc's in this program (the library is linked in statically),
 * and make the system calls themselves.
 */
static int syncs;
static char synced[4096];	/* " REL REL ... ": what, in the inbox */
static char ibdir[96];

static void
note(int fd)
{
	char link[64], path[PATH_MAX];
	size_t n = strlen(ibdir), have = strlen(synced);
	ssize_t len;

	syncs++;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof path - 1)) < 0)
		return;
	path[len] = '\0';
	if (strncmp(path, ibdir, n) == 0 && path[n] == '/')
		snprintf(synced + have, sizeof synced - have, "%s%s ",
		    have ? "" : " ", path + n + 1);
}

int
fsync(int fd)
{
	note(fd);
	return (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
	note(fd);
	return (int)syscall(SYS_fdatasync, fd);
}

/* syncfs(2) fails with EIO while this is set, as a failing disk's does. */
static int syncfs_fails;

int syncfs(int);

int
syncfs(int fd)
{
	if (syncfs_fails) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_syncfs, fd);
}

static char base[64];

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		printf("Bail out! %s failed\n", cmd);
		exit(1);
	}
}

/* A file's record: its last line (a conversation's earlier ones are
 * its history). */
static json_t *
read_json(const char *path)
{
	char buf[65536], *start;
	json_t *j = NULL;
	size_t n = 0;
	FILE *fp = fopen(path, "r");

	if (fp) {
		n = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	start = strrchr(buf, '\n');
	if (n > 0)
		j = json_loads(start ? start + 1 : buf, 0, NULL);
	return j ? j : json_string("(unreadable)");
}

/* How many lines the file at path has; -1 if it cannot be read. */
static int
lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 0;

	if (!fp)
		return -1;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

/*
 * The entries of an index file of the ledger (smsdesk-inbox(5), Ledgers:
 * ids/XX, lines "KEY THREAD/NAME" or "KEY -", the last line of a key its
 * entry) put in o as links of the index said them, KEY: "../msg/...".
 */
static void
bucket_entries(const char *path, json_t *o)
{
	char line[1024], *sp;
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return;
	while (fgets(line, sizeof line, fp)) {
		if (!(n = strlen(line)) || line[n - 1] != '\n' ||
		    !(sp = strchr(line, ' ')))
			continue;
		line[n - 1] = '\0';
		*sp++ = '\0';
		if (strcmp(sp, "-") == 0)
			json_object_del(o, line);
		else
			json_object_set_new(o, line,
			    json_pack("s++", "../msg/", sp, ""));
	}
	fclose(fp);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The lines of history/, every day's, sorted: a replay must give back
 * each event once, whatever order the writers appended them in.
 */
static json_t *
history_lines(void)
{
	char path[256], file[600], *line = NULL, **v = NULL;
	size_t cap = 0, n = 0, i;
	struct dirent *d;
	json_t *a = json_array();
	ssize_t len;
	FILE *fp;
	DIR *dp;

	snprintf(path, sizeof path, "%s/history", ibdir);
	if (!(dp = opendir(path)))
		return a;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s", path, d->d_name);
		if (!(fp = fopen(file, "r")))
			continue;
		while ((len = getline(&line, &cap, fp)) > 0) {
			v = realloc(v, (n + 1) * sizeof *v);
			v[n++] = strdup(line);
		}
		fclose(fp);
	}
	closedir(dp);
	free(line);
	qsort(v, n, sizeof *v, cmp_line);
	for (i = 0; i < n; i++) {
		json_array_append_new(a, json_string(v[i]));
		free(v[i]);
	}
	free(v);
	return a;
}

/* Everything a reader sees of the inbox, as one JSON value. */
static json_t *
state(void)
{
	static const char *const dirs[] = { "conv", "work", "ids" };
	json_t *s = json_object(), *msgs = json_object();
	char path[256], sub[600], to[512];
	struct dirent *d, *m;
	DIR *dp, *mp;
	ssize_t n;

	for (size_t i = 0; i < 3; i++) {
		json_t *o = json_object();

		snprintf(path, sizeof path, "%s/%s", ibdir, dirs[i]);
		if (!(dp = opendir(path)))
			continue;
		while ((d = readdir(dp))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, d->d_name);
			if (i == 0) {
				json_object_set_new(o, d->d_name,
				    read_json(sub));
			} else if (i == 2 && strlen(d->d_name) == 2 &&
			    !strchr(d->d_name, '-')) {
				bucket_entries(sub, o);
			} else if (i == 2 && (n = readlink(sub, to,
			    sizeof to - 1)) > 0) {
				to[n] = '\0';
				json_object_set_new(o, d->d_name,
				    json_string(to));
			} else {
				json_object_set_new(o, d->d_name, json_true());
			}
		}
		closedir(dp);
		json_object_set_new(s, dirs[i], o);
	}
	snprintf(path, sizeof path, "%s/msg", ibdir);
	if ((dp = opendir(path))) {
		while ((d = readdir(dp))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, d->d_name);
			if (!(mp = opendir(sub)))
				continue;
			while ((m = readdir(mp))) {
				char key[600], file[900];

				if (m->d_name[0] == '.')
					continue;
				snprintf(key, sizeof key, "%s/%s", d->d_name,
				    m->d_name);
				snprintf(file, sizeof file, "%s/%s", sub,
				    m->d_name);
				json_object_set_new(msgs, key,
				    read_json(file));
			}
			closedir(mp);
		}
		closedir(dp);
	}
	json_object_set_new(s, "msg", msgs);
	json_object_set_new(s, "history", history_lines());
	return s;
}

static int
deliver(struct inbox *ib, const char *from, const char *sid,
    const char *body, const char *at)
{
	json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "direction", "in", "thread", from, "from", from, "to",
	    "+15550001111", "body", body, "provider", "twilio",
	    "provider_id", sid);
	struct inbox_delivery d;
	struct errbuf e;
	int rc;

	json_object_set_new(m, "at", json_string(at));
	rc = inbox_deliver(ib, m, 0, NULL, &d, &e);
	if (rc < 0)
		printf("# deliver %s: %s\n", sid, e.msg);
	else
		inbox_delivery_free(&d);
	json_decref(m);
	return rc;
}

static int
set_status(json_t *conv, void *arg, struct errbuf *e)
{
	(void)e;
	json_object_set_new(conv, "status", json_string(arg));
	return 0;
}

static int
set_assignee(json_t *conv, void *arg, struct errbuf *e)
{
	(void)e;
	json_object_set_new(conv, "assignee", json_string(arg));
	return 0;
}

static size_t
recover(void)
{
	struct inbox ib;
	struct errbuf e;
	size_t n = 0;

	if (inbox_open(&ib, ibdir, 0, &e) < 0 ||
	    inbox_recover(&ib, &n, &e) < 0) {
		printf("# recover: %s\n", e.msg);
		n = (size_t)-1;
	}
	inbox_close(&ib);
	return n;
}

/* Queue an outbound message with client key, as sms-send does; its id. */
static char *
queue(struct inbox *ib, const char *to, const char *key, const char *body)
{
	json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", to, "direction", "out", "from",
	    "+15550001111", "to", to, "body", body, "status", "queued", "key",
	    key);
	struct inbox_delivery d;
	struct errbuf e;
	char *id = NULL;

	if (inbox_deliver(ib, m, 0, NULL, &d, &e) < 0)
		printf("# queue %s: %s\n", key, e.msg);
	else if (!d.duplicate)
		id = strdup(record_str(d.message, "id"));
	if (id)
		inbox_delivery_free(&d);
	json_decref(m);
	return id;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names of the messages in the outbox, sorted, joined by spaces: those
 * whose last line in ibdir/outbox/.log is "+ THREAD/NAME"
 * (smsdesk-inbox(5), Ledgers), and an older inbox's links outbox/NAME.
 */
static char *
outbox(void)
{
	char path[256], line[1024], *out, *slash;
	const char *k, *names[256];
	json_t *live = json_object(), *v;
	struct dirent *d;
	size_t len = 1, n = 0, i, l;
	FILE *fp;
	DIR *dp;

	snprintf(path, sizeof path, "%s/outbox/.log", ibdir);
	if ((fp = fopen(path, "r"))) {
		while (fgets(line, sizeof line, fp)) {
			if ((l = strlen(line)) < 4 || line[l - 1] != '\n' ||
			    line[1] != ' ' || !(slash = strchr(line, '/')))
				continue;
			line[l - 1] = '\0';
			if (line[0] == '+')
				json_object_set_new(live, slash + 1,
				    json_true());
			else if (line[0] == '-')
				json_object_del(live, slash + 1);
		}
		fclose(fp);
	}
	snprintf(path, sizeof path, "%s/outbox", ibdir);
	if (!(dp = opendir(path)))
		return json_decref(live), strdup("(none)");
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			json_object_set_new(live, d->d_name, json_true());
	closedir(dp);
	json_object_foreach(live, k, v) {
		if (n < 256)
			names[n++] = k;
		len += strlen(k) + 1;
	}
	qsort(names, n, sizeof *names, cmp_str);
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		if (*out)
			strcat(out, " ");
		strcat(out, names[i]);
	}
	json_decref(live);
	return out;
}

/* Files in ibdir/journal/, and how many bytes they hold. */
static int
journal_files(off_t *bytes)
{
	char path[256], f[600];
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int n = 0;

	*bytes = 0;
	snprintf(path, sizeof path, "%s/journal", ibdir);
	if (!(dp = opendir(path)))
		return -1;
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.') {
			snprintf(f, sizeof f, "%s/%s", path, d->d_name);
			if (stat(f, &st) == 0)
				*bytes += st.st_size;
			n++;
		}
	closedir(dp);
	return n;
}

/*
 * The stories below run in the order main() calls them, each from the
 * inbox the one before left or from the snapshot (snap/) taken before the
 * journal; final is the inbox the replays must give back.
 */
static json_t *final;
static char *sent_p, *sent_f;	/* the sender's ids: taken, refused */

/* ok() that the inbox is now want; both shown when it is not. */
static void
is_state(json_t *want, const char *desc)
{
	json_t *now = state();

	if (!ok(json_equal(want, now), "%s", desc)) {
		char *a = json_dumps(want, JSON_SORT_KEYS);
		char *b = json_dumps(now, JSON_SORT_KEYS);

		printf("# want %s\n# got  %s\n", a, b);
		free(a);
		free(b);
	}
	json_decref(now);
}

/* A thread's field of the inbox now, as an integer (0 when absent). */
static long long
conv_int(json_t *now, const char *thread, const char *field)
{
	return json_integer_value(json_object_get(json_object_get(
	    json_object_get(now, "conv"), thread), field));
}

/*
 * Deliveries before the journal and through it; a checkpoint and a close
 * leave the inbox as it is and no journal. Leaves snap/ (the inbox before
 * the journal), jcopy/ (the journal as a cut would leave it) and final.
 */
static void
test_journaled_deliveries(void)
{
	struct inbox ib;
	struct errbuf e;
	off_t bytes;
	int nfiles;

	if (inbox_open(&ib, ibdir, 1, &e) < 0) {
		printf("Bail out! %s\n", e.msg);
		exit(1);
	}
	/* Before the journal: A with two texts, B resolved. */
	ok(deliver(&ib, "+15550000001", "SMa1", "hello", "2026-03-02T09:00:00Z")
	    == 0 && deliver(&ib, "+15550000001", "SMa2", "anyone?",
	    "2026-03-02T09:01:00Z") == 0 && deliver(&ib, "+15550000002",
	    "SMb1", "thanks", "2026-03-02T09:02:00Z") == 0 &&
	    inbox_update(&ib, "+15550000002", set_status, INBOX_RESOLVED,
	    NULL, &e) == 0, "deliveries without a journal");
	sh("cp -a %s %s/snap", ibdir, base);

	/* Journaled: A twice more, B reopened, C new with two texts. */
	/* Checkpoints when the test says, not every second. */
	ib.tick_ms = 3600 * 1000;
	ok(inbox_journal_start(&ib, &e) == 0, "journal started");
	ok(deliver(&ib, "+15550000001", "SMa3", "hello again",
	    "2026-03-02T09:10:00Z") == 0 && deliver(&ib, "+15550000002",
	    "SMb2", "one more thing", "2026-03-02T09:11:00Z") == 0 &&
	    deliver(&ib, "+15550000003", "SMc1", "hi", "2026-03-02T09:12:00Z")
	    == 0 && deliver(&ib, "+15550000001", "SMa4", "please",
	    "2026-03-02T09:13:00Z") == 0 && deliver(&ib, "+15550000003",
	    "SMc2", "are you there", "2026-03-02T09:14:00Z") == 0,
	    "five journaled deliveries");
	nfiles = journal_files(&bytes);
	ok(nfiles == 2 && bytes > 0, "the journal holds them (%d files, "
	    "%lld bytes)", nfiles, (long long)bytes);
	/* What a cut leaves: the journal, synced on every delivery. */
	sh("mkdir %s/jcopy && cp %s/journal/* %s/jcopy/", base, ibdir, base);
	final = state();
	is_int(conv_int(final, "+15550000001", "messages"), 4,
	    "A's record counts its four texts");
	ok(inbox_checkpoint(&ib, &e) == 0, "checkpoint");
	journal_files(&bytes);
	is_int(bytes, 0, "a checkpoint empties the journal");
	is_state(final, "and changes nothing");
	inbox_close(&ib);
	ok(journal_files(&bytes) == 0, "closing removes the journal");
}

/* Everything after the snapshot lost: the replay gives it all back. */
static void
test_replay_all_lost(void)
{
	off_t bytes;

	sh("rm -rf %s && cp -a %s/snap %s && cp %s/jcopy/* %s/journal/",
	    ibdir, base, ibdir, base, ibdir);
	is_int(recover(), 5, "replay: five records");
	is_state(final, "all files lost: replay gives back the inbox");
	ok(journal_files(&bytes) == 0, "and removes the journal it replayed");
}

/* Replayed again over the result: nothing changes, nothing twice. */
static void
test_replay_twice(void)
{
	sh("cp %s/jcopy/* %s/journal/", base, ibdir);
	is_int(recover(), 5, "replay over a complete inbox");
	is_state(final, "finds the work done: no message twice, no count "
	    "doubled");
}

/* Messages lost, conversations kept: the messages come back. */
static void
test_replay_messages_lost(void)
{
	sh("rm -rf %s/msg/+15550000003 %s/msg/+15550000001/*.P* %s/ids && "
	    "cp -a %s/snap/msg/+15550000001/. %s/msg/+15550000001/ && "
	    "cp -a %s/snap/ids %s/ && cp %s/jcopy/* %s/journal/", ibdir,
	    ibdir, ibdir, base, ibdir, base, ibdir, base, ibdir);
	is_int(recover(), 5, "replay with the messages lost");
	is_state(final, "gives them back");
}

/* Conversations lost, messages kept: the conversations come back. */
static void
test_replay_conversations_lost(void)
{
	sh("rm -rf %s/conv %s/work && cp -a %s/snap/conv %s/snap/work %s/ && "
	    "cp %s/jcopy/* %s/journal/", ibdir, ibdir, base, base, ibdir,
	    base, ibdir);
	is_int(recover(), 5, "replay with the conversations lost");
	is_state(final, "gives them back, B reopened, C made");
}

/*
 * A's record lost, then changed by hand before the replay (an agent took
 * it): the replay adds the texts and keeps the agent.
 */
static void
test_replay_keeps_later_change(void)
{
	struct inbox ib;
	struct errbuf e;
	json_t *want;
	char line[256];

	sh("cp %s/snap/conv/+15550000001 %s/conv/ && cp %s/jcopy/* "
	    "%s/journal/", base, ibdir, base, ibdir);
	inbox_open(&ib, ibdir, 0, &e);
	ok(inbox_update(&ib, "+15550000001", set_assignee, "ann", NULL, &e)
	    == 0, "A assigned before the replay");
	inbox_close(&ib);
	recover();
	want = json_deep_copy(final);
	json_object_set_new(json_object_get(json_object_get(want, "conv"),
	    "+15550000001"), "assignee", json_string("ann"));
	/* Its event, and (sorted first) nothing else more. */
	snprintf(line, sizeof line, "{\"event\":\"assigned\",\"at\":"
	    "\"2026-03-02T10:00:00Z\",\"thread\":\"+15550000001\","
	    "\"agent\":\"ann\",\"was\":null,\"by\":{\"user\":\"%s\"}}\n",
	    ib.user);
	json_array_insert_new(json_object_get(want, "history"), 0,
	    json_string(line));
	is_state(want, "replay keeps the change made since, and its event");
	json_decref(want);
}

/* A torn last line and a line that is no record are skipped. */
static void
test_replay_skips_bad_lines(void)
{
	json_t *now;

	sh("cp %s/snap/conv/+15550000003 %s/conv/ 2>/dev/null; "
	    "rm -rf %s/conv/+15550000003 %s/msg/+15550000003 && "
	    "for f in %s/jcopy/*; do { echo 'not a record'; cat $f; "
	    "printf '{\"type\":\"jour'; } > %s/journal/${f##*/}; done",
	    base, ibdir, ibdir, ibdir, base, ibdir);
	is_int(recover(), 5, "a torn tail and a bad line are skipped");
	now = state();
	ok(json_equal(json_object_get(json_object_get(final, "conv"),
	    "+15550000003"), json_object_get(json_object_get(now, "conv"),
	    "+15550000003")), "the records around them are replayed");
	json_decref(now);
}

/*
 * A delivery that failed after its record went in (answered 503) is
 * cancelled by a later line: replay skips it, and the next record, which
 * counts the same number of messages, is applied.
 */
static void
test_replay_skips_cancelled(void)
{
	json_t *now;

	sh("rm -rf %s && cp -a %s/snap %s && { grep -h '\"SMa3\"' "
	    "%s/jcopy/*; grep -h '\"SMa3\"' %s/jcopy/* | jq -c "
	    "'{type: \"cancel\", id: .message.id}'; grep -h '\"SMa4\"' "
	    "%s/jcopy/* | jq -c '.conversation.messages = 3'; } "
	    ">%s/journal/dead.0", ibdir, base, ibdir, base, base, base, ibdir);
	is_int(recover(), 1, "a cancelled record is not replayed");
	now = state();
	is_int(json_object_size(json_object_get(now, "msg")), 4, "its "
	    "message is not stored (A's two, B's one, and the next)");
	ok(!json_object_get(json_object_get(now, "ids"), "twilio-SMa3") &&
	    json_object_get(json_object_get(now, "ids"), "twilio-SMa4"),
	    "nor in the ledger; the next one is");
	is_int(conv_int(now, "+15550000001", "messages"), 3,
	    "the conversation counts the next one, once");
	json_decref(now);
}

/*
 * Messages to send, journaled as sms-send does: P queued and taken by the
 * provider (still pending), F refused by it (settled). The sender killed:
 * its files all there, its journal left; the replay changes nothing.
 * Leaves the sender's journal in jcopy/ and its inbox in final.
 */
static void
test_sender_killed(void)
{
	struct inbox ib;
	struct errbuf e;
	json_t *err;
	char *ob, want_ob[256];

	sh("rm -rf %s && cp -a %s/snap %s", ibdir, base, ibdir);
	inbox_open(&ib, ibdir, 0, &e);
	ib.tick_ms = 3600 * 1000;
	ok(inbox_journal_start(&ib, &e) == 0, "a sender's journal");
	sent_p = queue(&ib, "+15550000005", "kP", "your order shipped");
	sent_f = queue(&ib, "+15550000005", "kF", "and another");
	err = json_pack("{s:s,s:i}", "code", "invalid_recipient",
	    "provider_code", 21211);
	ok(sent_p && sent_f && inbox_sent(&ib, "+15550000005", sent_p,
	    "twilio", "SMp1", "queued", NULL, NULL, &e) == 0 &&
	    inbox_sent(&ib, "+15550000005", sent_f, NULL, NULL, "failed",
	    err, NULL, &e) == 0, "two messages queued, one taken, one refused");
	json_decref(err);
	ob = outbox();
	snprintf(want_ob, sizeof want_ob, "%s", sent_p ? sent_p : "?");
	is_str(ob, want_ob, "only the pending one is in outbox/");
	free(ob);
	sh("rm -rf %s/jcopy && mkdir %s/jcopy && cp %s/journal/* %s/jcopy/",
	    base, base, ibdir, base);
	json_decref(final);
	final = state();
	inbox_close(&ib);

	/* The program killed: its files all there, its journal left. */
	sh("cp %s/jcopy/* %s/journal/", base, ibdir);
	is_int(recover(), 2, "replay of a sender's journal: two records");
	is_state(final, "a killed sender: nothing changes, the answers stay");
	ob = outbox();
	is_str(ob, want_ob, "the settled one is not put back in outbox/");
	free(ob);
}

/*
 * A power cut under the sender: everything since the snapshot lost. Both
 * messages come back queued, with their client keys, for --reconcile.
 */
static void
test_sender_power_cut(void)
{
	const char *p = sent_p, *f = sent_f;
	char *ob, want_ob[256], path[512];
	json_t *now, *got;

	sh("rm -rf %s && cp -a %s/snap %s && cp %s/jcopy/* %s/journal/",
	    ibdir, base, ibdir, base, ibdir);
	is_int(recover(), 2, "a power cut: two records replayed");
	now = state();
	snprintf(want_ob, sizeof want_ob, "%s %s", p && f && strcmp(p, f) <
	    0 ? p : f, p && f && strcmp(p, f) < 0 ? f : p);
	ob = outbox();
	is_str(ob, want_ob, "both back in outbox/, queued, for --reconcile");
	free(ob);
	ok(json_object_get(json_object_get(now, "ids"), "key-kP") &&
	    json_object_get(json_object_get(now, "ids"), "key-kF"),
	    "their client keys are back: a resumed run sends neither again");
	snprintf(path, sizeof path, "%s/msg/+15550000005/%s", ibdir, p);
	got = read_json(path);
	is_str(record_str(got, "status"), "queued", "a message whose answer "
	    "was lost is queued");
	json_decref(got);
	is_int(conv_int(now, "+15550000005", "messages"), 2,
	    "and its conversation counts both");
	json_decref(now);
}

/*
 * A pending answer goes unsynced, in place (losing it leaves the message
 * queued, for --reconcile); but an answer that would make the message
 * file too long replaces the file by a compacted one, which must be
 * synced: lost, it would take the message with it.
 */
static void
test_long_answer_compacted(void)
{
	struct inbox ib;
	struct errbuf e;
	char body[1501], path[512], *l;
	json_t *got;

	inbox_open(&ib, ibdir, 0, &e);
	ib.tick_ms = 3600 * 1000;
	inbox_journal_start(&ib, &e);
	memset(body, 'x', 1500);
	body[1500] = '\0';
	l = queue(&ib, "+15550000006", "kL", body);
	snprintf(path, sizeof path, "%s/msg/+15550000006/%s", ibdir,
	    l ? l : "?");
	syncs = 0;
	ok(l && inbox_sent(&ib, "+15550000006", l, NULL, NULL, "unknown",
	    NULL, NULL, &e) == 0, "a long message's answer is lost: unknown");
	is_int(syncs, 0, "a pending answer is appended unsynced");
	is_int(lines(path), 2, "the message file has its answer line");
	syncs = 0;
	ok(l && inbox_sent(&ib, "+15550000006", l, "twilio", "SMl1",
	    "queued", NULL, NULL, &e) == 0, "then reconciled: taken, pending");
	ok(syncs > 0, "its file, past 4 KiB, is compacted, and synced");
	is_int(lines(path), 1, "compacted to one line");
	got = read_json(path);
	is_str(record_str(got, "provider_id"), "SMl1", "the compacted file "
	    "holds the message as it is now");
	json_decref(got);
	free(l);
	inbox_close(&ib);
}

/*
 * A checkpoint whose sync fails leaves the journal stuck: kept as it is,
 * for the next writer's replay. It takes no more records (it would grow
 * without end); later deliveries are synced file by file, which a data
 * sync per file and per directory shows. Another writer, with no journal
 * of its own, is told, and syncs the same way; the next writer replays.
 */
static void
test_stuck_journal(void)
{
	struct inbox ib, other;
	struct errbuf e;
	off_t bytes, stuck_bytes;
	char path[512], *q;
	json_t *now;
	int sent;

	sh("rm -rf %s && cp -a %s/snap %s", ibdir, base, ibdir);
	inbox_open(&ib, ibdir, 0, &e);
	ib.tick_ms = 3600 * 1000;
	ib.young_s = 1;
	inbox_journal_start(&ib, &e);
	ok(deliver(&ib, "+15550000007", "SMs1", "before", "2026-03-02T09:30:00Z")
	    == 0, "a delivery through the journal");
	syncfs_fails = 1;
	ok(inbox_checkpoint(&ib, &e) < 0 && strstr(e.msg, "syncfs"),
	    "a checkpoint whose sync fails says so");
	syncfs_fails = 0;
	journal_files(&stuck_bytes);
	usleep(1100 * 1000);	/* its names no longer young by age */
	syncs = 0;
	synced[0] = '\0';
	ok(deliver(&ib, "+15550000007", "SMs2", "after", "2026-03-02T09:31:00Z")
	    == 0, "then a delivery is still taken");
	journal_files(&bytes);
	ok(stuck_bytes > 0 && bytes == stuck_bytes, "not into the stuck "
	    "journal");
	ok(syncs >= 3, "but synced file by file (%d syncs)", syncs);
	printf("# synced:%s\n", synced);
	ok(strstr(synced, " msg ") && strstr(synced, " conv "), "with the "
	    "directories that hold the names the stuck journal made");
	q = queue(&ib, "+15550000007", "kS", "after, outbound");
	syncs = 0;
	sent = q ? inbox_sent(&ib, "+15550000007", q, "twilio", "SMs3",
	    "queued", NULL, NULL, &e) : -1;
	if (!ok(sent == 0 && syncs > 0, "an answer that leaves a message "
	    "pending is synced too: no checkpoint will"))
		printf("#   queued %s, sent %d (%s), %d syncs\n", q ? q : "none",
		    sent, sent < 0 && q ? e.msg : "", syncs);
	free(q);

	/* Another writer, with no journal of its own, is told. */
	snprintf(path, sizeof path, "%s/journal/stuck", ibdir);
	ok(access(path, F_OK) == 0, "the stuck journal is flagged");
	inbox_open(&other, ibdir, 0, &e);
	other.young_s = 1;
	synced[0] = '\0';
	ok(deliver(&other, "+15550000007", "SMs4", "another writer",
	    "2026-03-02T09:32:00Z") == 0 && strstr(synced, " msg ") &&
	    strstr(synced, " conv "), "so another writer syncs the "
	    "directories of the names too");
	inbox_close(&other);
	is_int(recover(), 0, "a replay leaves a live writer's stuck journal");
	ok(access(path, F_OK) == 0, "and its flag");
	inbox_close(&ib);
	is_int(recover(), 1, "the next writer replays the stuck journal");
	ok(access(path, F_OK) < 0 && errno == ENOENT, "and, no journal left, "
	    "takes the flag away");
	now = state();
	ok(json_object_get(json_object_get(now, "ids"), "twilio-SMs1") &&
	    json_object_get(json_object_get(now, "ids"), "twilio-SMs2") &&
	    conv_int(now, "+15550000007", "messages") == 4,
	    "and all four messages are there, counted once");
	json_decref(now);
}

/* A live writer's journal is not replayed under its feet. */
static void
test_live_journal_left(void)
{
	struct inbox other;
	struct errbuf e;
	off_t bytes;
	int nfiles;

	inbox_open(&other, ibdir, 0, &e);
	other.tick_ms = 3600 * 1000;
	ok(inbox_journal_start(&other, &e) == 0 && deliver(&other,
	    "+15550000004", "SMd1", "live", "2026-03-02T09:20:00Z") == 0,
	    "a live listener delivers");
	is_int(recover(), 0, "its journal is left alone");
	nfiles = journal_files(&bytes);
	ok(nfiles == 2 && bytes > 0, "and stays in place");
	inbox_close(&other);
}

/*
 * Left alone, a journal checkpoints itself (every tick, here 50 ms):
 * looked at every 20 ms for up to 60 s, a deadline, not a wait.
 */
static void
test_journal_checkpoints_itself(void)
{
	struct inbox other;
	struct errbuf e;
	off_t bytes;

	inbox_open(&other, ibdir, 0, &e);
	other.tick_ms = 50;
	ok(inbox_journal_start(&other, &e) == 0 && deliver(&other,
	    "+15550000004", "SMd2", "quiet", "2026-03-02T09:21:00Z") == 0,
	    "a listener delivers, then nothing more");
	journal_files(&bytes);
	for (int i = 0; i < 3000 && bytes > 0; i++) {
		usleep(20 * 1000);
		journal_files(&bytes);
	}
	is_int(bytes, 0, "its journal is checkpointed without a call");
	inbox_close(&other);
}

/*
 * A scheduled message (sms-send --at) stored under a journal, then a
 * power cut: the replay gives back the message and its schedule/ name,
 * which --due finds it by (smsdesk-inbox(5): the index never says less
 * than the messages).
 */
static void
test_scheduled_power_cut(void)
{
	struct inbox ib;
	struct inbox_delivery d;
	struct inbox_due *v = NULL;
	struct errbuf e;
	json_t *m;
	char *id = NULL;
	size_t n = 0;

	sh("rm -rf %s %s/snap2 && mkdir -p %s && chmod 700 %s", ibdir, base,
	    ibdir, ibdir);
	inbox_open(&ib, ibdir, 1, &e);
	inbox_close(&ib);
	sh("cp -a %s %s/snap2", ibdir, base);
	inbox_open(&ib, ibdir, 0, &e);
	ib.tick_ms = 3600 * 1000;
	ok(inbox_journal_start(&ib, &e) == 0, "a scheduling run's journal");
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", "+15550000007", "direction", "out", "from",
	    "+15550001111", "to", "+15550000007", "body", "see you tomorrow",
	    "status", "scheduled", "send_at", "2026-03-03T09:00:00Z", "key",
	    "kS");
	if (inbox_deliver(&ib, m, 0, NULL, &d, &e) == 0) {
		id = strdup(record_str(d.message, "id"));
		inbox_delivery_free(&d);
	}
	json_decref(m);
	ok(id != NULL, "a scheduled message stored");
	ok(inbox_schedule_list(&ib, -1, &v, &n, &e) == 0 && n == 1 &&
	    id && strcmp(v[0].id, id) == 0 &&
	    strcmp(v[0].send_at, "2026-03-03T09:00:00Z") == 0,
	    "and indexed by its send_at");
	free(v);
	v = NULL;
	sh("rm -rf %s/jcopy2 && mkdir %s/jcopy2 && cp %s/journal/* "
	    "%s/jcopy2/", base, base, ibdir, base);
	inbox_close(&ib);

	/* Every unsynced write lost: the snapshot, and the journal. */
	sh("rm -rf %s && cp -a %s/snap2 %s && cp %s/jcopy2/* %s/journal/",
	    ibdir, base, ibdir, base, ibdir);
	is_int(recover(), 1, "a power cut: the record replayed");
	inbox_open(&ib, ibdir, 0, &e);
	ok(inbox_schedule_list(&ib, -1, &v, &n, &e) == 0 && n == 1 &&
	    id && strcmp(v[0].id, id) == 0,
	    "its schedule/ name is back: --due finds it");
	m = id ? inbox_message(&ib, "+15550000007", id, &e) : NULL;
	ok(m && inbox_is_scheduled(m), "its message is back, scheduled");
	json_decref(m);
	free(v);
	inbox_close(&ib);
	free(id);
}

int
main(void)
{
	setenv("SMSDESK_NOW", "2026-03-02T10:00:00Z", 1);
	snprintf(base, sizeof base, "/tmp/smsdesk-journal.XXXXXX");
	if (!mkdtemp(base)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(ibdir, sizeof ibdir, "%s/ib", base);

	test_journaled_deliveries();
	test_replay_all_lost();
	test_replay_twice();
	test_replay_messages_lost();
	test_replay_conversations_lost();
	test_replay_keeps_later_change();
	test_replay_skips_bad_lines();
	test_replay_skips_cancelled();
	test_sender_killed();
	test_sender_power_cut();
	test_long_answer_compacted();
	test_stuck_journal();
	test_live_journal_left();
	test_journal_checkpoints_itself();
	test_scheduled_power_cut();

	json_decref(final);
	free(sent_p);
	free(sent_f);
	sh("rm -rf %s", base);
	return tap_done();
}
