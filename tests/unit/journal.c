/*
 * journal.c: the journal's files, as a crash leaves them, are what a
 * replay reads; each file is replayed on its own, so a line that voids
 * a record (a "cancel") must be in the record's file. A checkpoint that
 * has switched halves while the record's writer still works sends new
 * appends to the other file: journal_append_to() must not.
 *
 * The writer is a child process that dies (_exit) in the middle, with
 * its checkpoint waiting for the record's journal_done(); the parent
 * replays what it left. Last, what journal_stats() counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "tap.h"

static char dir[64];
static int dirfd_;

/* The lines of each replayed file, "|"-joined, files joined by "/". */
struct seen {
	char text[8192];		/* room for many probes */
	size_t files;
};

static int
collect(const char *line, size_t len, void *arg, struct errbuf *e)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	(void)e;
	if (!line) {
		snprintf(s->text + n, sizeof s->text - n, "/");
		s->files++;
		return 0;
	}
	snprintf(s->text + n, sizeof s->text - n, "%s%.*s",
	    n && s->text[n - 1] != '/' ? "|" : "", (int)len, line);
	return 0;
}

/* Whether file rel (under dir) holds the line text. */
static int
holds(const char *rel, const char *text)
{
	char path[256], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, text) != NULL;
}

static void *
checkpoint(void *arg)
{
	struct errbuf e;

	journal_checkpoint(arg, &e);
	return NULL;
}

/*
 * The writer: record R, a checkpoint that switches halves and waits for
 * R's journal_done(), probes until one lands in the other file, then the
 * cancel C for R, placed with journal_append_to() (or, with wrong set,
 * as a plain append would be), and death before journal_done().
 * Exits 0, or 1 if the setup failed, 2 if the switch never showed.
 */
static void
writer(int wrong)
{
	struct journal *j;
	struct errbuf e;
	pthread_t t;
	char probe[32];
	int r, s, i;

	if (!(j = journal_open(dirfd_, dir, "w", &e)) ||
	    journal_append(j, "R", 1, &r, &e) < 0 ||
	    pthread_create(&t, NULL, checkpoint, j) != 0)
		_exit(1);
	for (i = 0; i < 500; i++) {
		snprintf(probe, sizeof probe, "M%d", i);
		if (journal_append(j, probe, strlen(probe), &s, &e) < 0)
			_exit(1);
		journal_done(j, s);
		if (holds(r ? "journal/w.0" : "journal/w.1", probe))
			break;
		usleep(10 * 1000);
	}
	if (i == 500)
		_exit(2);
	if (journal_append_to(j, wrong ? -1 : r, "C", 1, &s, &e) < 0)
		_exit(1);
	_exit(0);
}

/* Run the writer, then replay what it left into *s; 0, or -1. */
static int
run(int wrong, struct seen *s)
{
	struct errbuf e;
	pid_t pid;
	int status;

	memset(s, 0, sizeof *s);
	if ((pid = fork()) == 0)
		writer(wrong);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("# writer: status %d\n", pid < 0 ? -1 : status);
		return -1;
	}
	if (journal_replay(dirfd_, dir, collect, NULL, s, &s->files,
	    &e) < 0) {
		printf("# replay: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* Whether the replayed file that has R also has C, after it. */
static int
beside(const struct seen *s)
{
	const char *r = strstr(s->text, "R");
	const char *end = r ? strchr(r, '/') : NULL;
	const char *c = r ? strstr(r, "|C") : NULL;

	return r && c && (!end || c < end);
}

/*
 * journal_stats(): each sync counted once, in one bucket of its
 * histogram, the bytes pending until a checkpoint empties them, and the
 * checkpoint counted.
 */
static void
stats(void)
{
	struct journal_stats st;
	struct errbuf e;
	struct journal *j = journal_open(dirfd_, dir, "stats", &e);
	unsigned long in_buckets = 0;
	int slot, appended = 1;

	if (!j) {
		ok(0, "a journal opens: %s", e.msg);
		return;
	}
	journal_stats(j, &st);
	ok(st.syncs == 0 && st.pending == 0 && st.checkpoint_at > 0,
	    "a new journal: no sync, nothing pending, as good as checkpointed");
	for (int i = 0; i < 3 && appended; i++) {
		appended = journal_append(j, "{}", 2, &slot, &e) == 0;
		if (slot >= 0)
			journal_done(j, slot);
	}
	ok(appended, "three records appended");
	journal_stats(j, &st);
	for (size_t i = 0; i <= JOURNAL_BUCKETS; i++)
		in_buckets += st.sync_bucket[i];
	is_int((int)st.syncs, 3, "each append's sync counted (no one shared)");
	is_int((int)in_buckets, 3, "each in one bucket of the histogram");
	ok(st.sync_seconds >= 0, "their time summed");
	is_int((int)st.pending, 9, "three lines pending");
	is_int((int)st.checkpoints, 0, "no checkpoint yet");
	ok(journal_checkpoint(j, &e) == 0, "a checkpoint");
	journal_stats(j, &st);
	is_int((int)st.pending, 0, "empties what was pending");
	is_int((int)st.checkpoints, 1, "and is counted");
	ok(!st.stuck, "nothing stuck");
	ok(journal_close(j, &e) == 0, "the journal closes");
}

int
main(void)
{
	struct seen s;

	snprintf(dir, sizeof dir, "/tmp/smsdesk-journal.%d", (int)getpid());
	if (mkdir(dir, 0700) < 0 || (dirfd_ = open(dir, O_DIRECTORY)) < 0 ||
	    mkdirat(dirfd_, JOURNAL_DIR, 0700) < 0 ||
	    mkdirat(dirfd_, "tmp", 0700) < 0) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return 1;
	}

	ok(run(0, &s) == 0, "a writer dies with its checkpoint waiting on "
	    "a record it cancelled");
	printf("# replayed: %s\n", s.text);
	ok(beside(&s), "the cancel is replayed with its record, in one file");

	/* The check can fail: a plain append puts the cancel elsewhere. */
	ok(run(1, &s) == 0, "the same, the cancel appended as a new record");
	printf("# replayed: %s\n", s.text);
	ok(!beside(&s), "then the record's file has no cancel: it would be "
	    "redone");

	stats();

	close(dirfd_);
	{
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
