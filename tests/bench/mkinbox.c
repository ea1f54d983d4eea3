/*
 * mkinbox: write a large inbox fixture fast, for the inbox-ls benchmark.
 *
 * mkinbox DIR OPEN RESOLVED makes DIR an inbox (smsdesk-inbox(5), the
 * layout in lib/inbox.h) holding conversations 0 .. OPEN-1 open and
 * OPEN .. OPEN+RESOLVED-1 resolved, each with one inbound message:
 * conv/THREAD as lib/inbox.c writes it (new_conversation() then
 * apply_message(), the same jansson encoding), msg/THREAD/NAME, and
 * work/THREAD for the open ones. The id ledger (ids/) stays empty: no
 * listing reads it, and leaving it out saves a quarter of the files (on a
 * slow disk, removing the fixture takes longer than making it).
 * Conversations already there are left alone, so calling it again with a
 * larger RESOLVED grows the history behind the same open ones. Nothing is
 * fsynced: this is a fixture, not a delivery, and inbox_deliver() with its
 * fsyncs would take minutes for 100,000 conversations.
 *
 * mkinbox -b DIR OPEN RESOLVED then plays a backlog: it puts every
 * resolved conversation back in work/ and takes it out again, as if the
 * whole history had once been waiting at the same time. Directories do
 * not shrink on most file systems (ext4 among them), so this shows what a
 * listing of the working set costs after such a peak.
 *
 * Thread i is +447800000000 + i. Open conversations wait from a few
 * minutes to three days, a third have an assignee, half are unread;
 * resolved ones are days to a year old.
 *
 * Prints one line: open=N resolved=N created=N seconds=S (with -b,
 * backlog=N seconds=S). Exit 0, 1 on an I/O error, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "when.h"

static const char *const subdirs[] = {
	"tmp", "msg", "conv", "work", "ids", "consent", "status", "lock",
	"quarantine",
};

static int dirfd_;

static int
put(const char *rel, const char *data, size_t len)
{
	int fd = openat(dirfd_, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	ssize_t n;

	if (fd < 0)
		return perror(rel), -1;
	if ((n = write(fd, data, len)) < 0 || (size_t)n != len) {
		perror(rel);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return perror(rel), -1;
	return 0;
}

static int
put_json(const char *rel, json_t *j)
{
	char *s;
	size_t n;
	int rc;

	if (!j)
		return fputs("mkinbox: json_pack failed\n", stderr), -1;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return fputs("mkinbox: json_dumps failed\n", stderr), -1;
	n = strlen(s);
	s[n] = '\n';	/* over the NUL: the line is not a C string */
	rc = put(rel, s, n + 1);
	free(s);
	return rc;
}

/* Conversation i: its message, record and work/ entry. */
static int
make_one(long i, int open, time_t now)
{
	static const char *const bodies[] = {
		"Hi, my order 4471 has not arrived yet, could you check the "
		"tracking number for me please? Thanks",
		"Can I change my delivery address to 12 Park Lane before it "
		"ships? The old one is no longer right.",
		"Is the store on Main Street open on Sunday? I would like to "
		"pick up my repair in the afternoon.",
		"Thanks, that solved it. One more thing: can I get the invoice "
		"for March sent to my email address?",
	};
	char thread[24], name[96], sid[40], rel[160], at[WHEN_BUFSZ];
	const char *body = bodies[i % 4];
	time_t t;
	json_t *msg, *conv;

	snprintf(thread, sizeof thread, "+%lld", 447800000000LL + i);
	snprintf(sid, sizeof sid, "SM%032lx", (unsigned long)i);
	t = open ? now - 300 - (i * 127) % (3 * 86400) :
	    now - 86400 * (1 + i % 365) - (i * 61) % 86400;
	when_format(t, at);
	snprintf(name, sizeof name, "%010lld.%09ld.P%dQ%ld.bench",
	    (long long)t, (i * 7919) % 1000000000L, 4242, i);

	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (mkdirat(dirfd_, rel, 0700) < 0 && errno != EEXIST)
		return perror(rel), -1;
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}",
	    "type", "message", "thread", thread, "direction", "in",
	    "from", thread, "to", "+14155550100", "body", body,
	    "status", "received", "provider", "twilio", "provider_id", sid,
	    "at", at, "segments", 1, "id", name);
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	if (put_json(rel, msg) < 0)
		return -1;

	if (open) {
		snprintf(rel, sizeof rel, "work/%s", thread);
		if (put(rel, "", 0) < 0)
			return -1;
	}
	/* new_conversation() then apply_message() for one inbound. */
	conv = json_pack("{s:s,s:s,s:s,s:o,s:i,s:i,s:s,s:n,s:s,s:n,s:s,"
	    "s:s,s:[],s:n}", "type", "conversation", "thread", thread,
	    "status", open ? "open" : "resolved",
	    "assignee", open && i % 3 == 0 ? json_sprintf("agent%ld", i % 7) :
	    json_null(), "unread", open ? (int)(i % 2) : 0, "messages", 1,
	    "opened_at", at, "first_response_at", "last_in_at", at,
	    "last_out_at", "waiting_since", at, "last_body", body, "tags",
	    "csat");
	snprintf(rel, sizeof rel, "conv/%s", thread);
	return put_json(rel, conv);
}

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Put resolved conversations in work/ all at once, then take them out. */
static int
backlog(long nopen, long nres, const struct timespec *t0)
{
	char rel[32];
	long i;
	int fd;

	for (i = nopen; i < nopen + nres; i++) {
		snprintf(rel, sizeof rel, "work/+%lld", 447800000000LL + i);
		fd = openat(dirfd_, rel, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0)
			return perror(rel), 1;
	}
	for (i = nopen; i < nopen + nres; i++) {
		snprintf(rel, sizeof rel, "work/+%lld", 447800000000LL + i);
		if (unlinkat(dirfd_, rel, 0) < 0)
			return perror(rel), 1;
	}
	printf("backlog=%ld seconds=%.3f\n", nres, since(t0));
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct timespec t0;
	long nopen, nres, i, created = 0;
	char *end, rel[32];
	struct stat st;
	time_t now = time(NULL);
	size_t k;
	int peak = 0;

	if (argc == 5 && strcmp(argv[1], "-b") == 0) {
		peak = 1;
		argc--;
		argv++;
	}
	if (argc != 4) {
		fputs("usage: mkinbox [-b] DIR OPEN RESOLVED\n", stderr);
		return 2;
	}
	nopen = strtol(argv[2], &end, 10);
	if (*end || nopen < 0)
		return fputs("mkinbox: bad OPEN\n", stderr), 2;
	nres = strtol(argv[3], &end, 10);
	if (*end || nres < 0)
		return fputs("mkinbox: bad RESOLVED\n", stderr), 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mkdir(argv[1], 0700) < 0 && errno != EEXIST)
		return perror(argv[1]), 1;
	if ((dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0)
		return perror(argv[1]), 1;
	if (peak)
		return backlog(nopen, nres, &t0);
	for (k = 0; k < sizeof subdirs / sizeof *subdirs; k++)
		if (mkdirat(dirfd_, subdirs[k], 0700) < 0 && errno != EEXIST)
			return perror(subdirs[k]), 1;
	for (i = 0; i < nopen + nres; i++) {
		snprintf(rel, sizeof rel, "conv/+%lld", 447800000000LL + i);
		if (fstatat(dirfd_, rel, &st, 0) == 0)
			continue;
		if (make_one(i, i < nopen, now) < 0)
			return 1;
		created++;
	}
	close(dirfd_);
	printf("open=%ld resolved=%ld created=%ld seconds=%.3f\n", nopen,
	    nres, created, since(&t0));
	return fflush(stdout) == 0 ? 0 : 1;
}
