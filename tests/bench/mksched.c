/*
 * mksched: write an inbox of scheduled messages fast, for the --due
 * benchmark (tests/bench/due.sh).
 *
 * mksched DIR TOTAL DUE NOW makes DIR an inbox (smsdesk-inbox(5), the
 * layout in lib/inbox.h) holding TOTAL outbound messages stored as
 * `sms-send --at` stores them: status "scheduled" with a send_at, each
 * in msg/THREAD/NAME with its name in schedule/HOUR/ (SENDAT,THREAD,NAME)
 * and its conversation in conv/THREAD (resolved: a conversation of our
 * messages only). DUE of them go in the hour before NOW (an RFC 3339
 * time), the rest from an hour after NOW to 30 days after, spread evenly.
 * Message i goes to thread +13125000000 + i % 20000, so a thread holds
 * TOTAL / 20,000 of them. Nothing is fsynced: this is a fixture, and
 * sms-send's stores with their fsyncs would take minutes for 100,000.
 *
 * Prints one line: total=N due=N seconds=S. Exit 0, 1 on an I/O error,
 * 2 on bad usage.
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

#define THREADS 20000

static const char *const subdirs[] = {
	"tmp", "msg", "conv", "work", "ids", "consent", "status", "lock",
	"quarantine", "outbox", "schedule",
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
	if (len && ((n = write(fd, data, len)) < 0 || (size_t)n != len)) {
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
		return fputs("mksched: json_pack failed\n", stderr), -1;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return fputs("mksched: json_dumps failed\n", stderr), -1;
	n = strlen(s);
	s[n] = '\n';	/* over the NUL: the line is not a C string */
	rc = put(rel, s, n + 1);
	free(s);
	return rc;
}

/* t as SENDAT, YYYYMMDDTHHMMSSZ, as lib/inbox-schedule.c names it. */
static void
sendat(time_t t, char out[17])
{
	char w[WHEN_BUFSZ];
	size_t i, k = 0;

	when_format(t, w);
	for (i = 0; w[i]; i++)
		if (w[i] != '-' && w[i] != ':')
			out[k++] = w[i];
	out[k] = '\0';
}

/* Message i, to go at t; its thread's count of messages so far in *n. */
static int
make_one(long i, time_t t, time_t now)
{
	char thread[24], name[96], rel[256], at[WHEN_BUFSZ], sa[WHEN_BUFSZ];
	char s16[17];
	json_t *msg;

	snprintf(thread, sizeof thread, "+%lld", 13125000000LL + i % THREADS);
	when_format(t, sa);
	when_format(now - 86400, at);
	snprintf(name, sizeof name, "%010lld.%09ld.P%dQ%ld.bench",
	    (long long)(now - 86400), (i * 7919) % 1000000000L, 4242, i);
	snprintf(rel, sizeof rel, "msg/%s", thread);
	if (mkdirat(dirfd_, rel, 0700) < 0 && errno != EEXIST)
		return perror(rel), -1;
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:{s:s}}", "type", "message", "thread", thread, "direction",
	    "out", "from", "+15550100000", "to", thread, "body",
	    "Reminder: your appointment is tomorrow. Reply STOP to opt out.",
	    "segments", 1, "encoding", "GSM-7", "purpose", "notification",
	    "send_at", sa, "status", "scheduled", "id", name, "at", at, "by",
	    "user", "bench");
	snprintf(rel, sizeof rel, "msg/%s/%s", thread, name);
	if (put_json(rel, msg) < 0)
		return -1;
	sendat(t, s16);
	snprintf(rel, sizeof rel, "schedule/%.11s", s16);
	if (mkdirat(dirfd_, rel, 0700) < 0 && errno != EEXIST)
		return perror(rel), -1;
	snprintf(rel, sizeof rel, "schedule/%.11s/%s,%s,%s", s16, s16,
	    thread, name);
	return put(rel, "", 0);
}

int
main(int argc, char **argv)
{
	long total, due, i, k, *count;
	struct timespec t0, t1;
	char rel[64], at[WHEN_BUFSZ], thread[24];
	time_t now, t;
	size_t j;

	if (argc != 5 || (total = atol(argv[2])) <= 0 ||
	    (due = atol(argv[3])) < 0 || due > total ||
	    when_parse(argv[4], &now, NULL) < 0) {
		fputs("usage: mksched DIR TOTAL DUE NOW\n", stderr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mkdir(argv[1], 0700) < 0 && errno != EEXIST)
		return perror(argv[1]), 1;
	if ((dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0)
		return perror(argv[1]), 1;
	for (j = 0; j < sizeof subdirs / sizeof *subdirs; j++)
		if (mkdirat(dirfd_, subdirs[j], 0700) < 0 && errno != EEXIST)
			return perror(subdirs[j]), 1;
	if (!(count = calloc(THREADS, sizeof *count)))
		return perror("calloc"), 1;
	for (i = 0; i < total; i++) {
		/* The due ones in the hour before now, the rest spread over
		 * the 30 days from an hour after. */
		if (i < due)
			t = now - 3600 + (time_t)(i * 3600 / (due ? due : 1));
		else
			t = now + 3600 + (time_t)((i - due) * (30LL * 86400) /
			    (total - due));
		if (make_one(i, t, now) < 0)
			return 1;
		count[i % THREADS]++;
	}
	when_format(now - 86400, at);
	for (k = 0; k < THREADS && k < total; k++) {
		snprintf(thread, sizeof thread, "+%lld", 13125000000LL + k);
		snprintf(rel, sizeof rel, "conv/%s", thread);
		if (put_json(rel, json_pack("{s:s,s:s,s:s,s:n,s:i,s:i,s:n,"
		    "s:n,s:n,s:n,s:n,s:n,s:[],s:n,s:s}", "type",
		    "conversation", "thread", thread, "status", "resolved",
		    "assignee", "unread", 0, "messages", (int)count[k],
		    "opened_at", "first_response_at", "last_in_at",
		    "last_out_at", "waiting_since", "last_body", "tags",
		    "csat", "resolved_at", at)) < 0)
			return 1;
		snprintf(rel, sizeof rel, "lock/%s", thread);
		if (put(rel, "", 0) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("total=%ld due=%ld seconds=%.1f\n", total, due,
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(count);
	return 0;
}
