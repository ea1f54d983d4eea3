/*
 * mkhistory: write an inbox whose history/ holds months of conversations,
 * fast, for the csat-survey report benchmark (tests/bench/report.sh).
 *
 * mkhistory DIR CONVERSATIONS MESSAGES DAYS END [FIRST] makes DIR an inbox
 * (smsdesk-inbox(5)) whose history/YYYY-MM-DD files hold the events of
 * CONVERSATIONS conversations and about MESSAGES messages over the DAYS
 * days up to END (an RFC 3339 time), written as lib/inbox-history.c
 * writes them (the same fields, in the same order, compact): each
 * conversation has one to three episodes ("opened", then "reopened"),
 * its first one assigned to one of 20 agents; an episode is a customer's
 * message, an automatic acknowledgement one time in ten, a reply from a
 * minute to six hours later ("first_response"), more messages both ways,
 * and a resolution ("resolved"), then a survey six times in ten
 * ("surveyed", its message) that is answered four times in ten
 * ("answered", the score's message). An episode that END cuts short,
 * and one in three of those begun in the last three days (still
 * waiting for a reply), leaves its conversation in the working set: conv/THREAD and
 * work/THREAD, as lib/inbox.c keeps them. Lines of a day are appended in
 * the order of each conversation's events (so within a day file not in
 * the order of their times, as with many writers). Nothing is fsynced.
 * Threads are +1555 and seven digits, numbered from FIRST (default 0):
 * called again with an END before the first day and FIRST past the
 * threads made, it adds older history to the same inbox. The numbers
 * come from a fixed seed: the same arguments, the same files.
 *
 * Prints one line: conversations=N messages=N lines=N bytes=N open=N
 * seconds=S. Exit 0, 1 on an I/O error, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "when.h"

#define AGENTS 20

static const char *const subdirs[] = {
	"tmp", "msg", "conv", "work", "ids", "consent", "status", "lock",
	"quarantine", "history",
};

struct gen {
	const char *dir;
	time_t start, end;	/* the first day's midnight, END */
	long ndays;
	FILE **day;		/* by day, opened when first written */
	uint64_t rng;
	unsigned long long msgs, lines, bytes, seq;
	long open;
};

static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

/* A number in [lo, hi]. */
static long
between(struct gen *g, long lo, long hi)
{
	return lo + (long)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* The file of the day of t, opened for appending when first used. */
static FILE *
day_file(struct gen *g, time_t t)
{
	long d = (long)((t - g->start) / 86400);
	char path[4096], date[WHEN_BUFSZ];
	FILE *fp;

	if (!g->day[d]) {
		when_format(t, date);
		date[10] = '\0';
		snprintf(path, sizeof path, "%s/history/%s", g->dir, date);
		if (!(fp = fopen(path, "a")))
			die(path);
		if (setvbuf(fp, NULL, _IOFBF, 1 << 16) != 0)
			die("setvbuf");
		fchmod(fileno(fp), 0600);
		g->day[d] = fp;
	}
	return g->day[d];
}

/* Append an event line: {"event":E,"at":T,"thread":N then rest}. */
static void
line(struct gen *g, const char *event, time_t t, const char *thread,
    const char *rest)
{
	char at[WHEN_BUFSZ];
	int n;

	when_format(t, at);
	n = fprintf(day_file(g, t), "{\"event\":\"%s\",\"at\":\"%s\","
	    "\"thread\":\"%s\"%s}\n", event, at, thread, rest);
	if (n < 0)
		die("write");
	g->lines++;
	g->bytes += (unsigned long long)n;
}

/* A message event; id gets its id. */
static void
message(struct gen *g, time_t t, const char *thread, int out,
    const char *extra, char id[64])
{
	char rest[512];

	g->seq++;
	snprintf(id, 64, "%lld.%llu.P%luQ%d.bench", (long long)t, g->seq,
	    4000 + (unsigned long)(g->seq % 30000), out);
	if (out)
		snprintf(rest, sizeof rest, ",\"msg\":\"%s\",\"direction\":"
		    "\"out\"%s", id, extra);
	else
		snprintf(rest, sizeof rest, ",\"msg\":\"%s\",\"direction\":"
		    "\"in\",\"status\":\"received\"%s", id, extra);
	line(g, "message", t, thread, rest);
	g->msgs++;
}

/* The working set's files of a conversation still open at END. */
static void
keep_open(struct gen *g, const char *thread, time_t opened,
    const char *agent, long msgs)
{
	char path[4096], at[WHEN_BUFSZ];
	FILE *fp;
	int fd;

	when_format(opened, at);
	snprintf(path, sizeof path, "%s/conv/%s", g->dir, thread);
	if (!(fp = fopen(path, "w")))
		die(path);
	fprintf(fp, "{\"type\":\"conversation\",\"thread\":\"%s\","
	    "\"status\":\"open\",\"assignee\":\"%s\",\"unread\":1,"
	    "\"messages\":%ld,\"opened_at\":\"%s\",\"first_response_at\":"
	    "null,\"last_in_at\":\"%s\",\"last_out_at\":null,"
	    "\"waiting_since\":\"%s\",\"last_body\":\"where is my order?\","
	    "\"tags\":[],\"csat\":null}\n", thread, agent, msgs, at, at, at);
	if (fchmod(fileno(fp), 0600) < 0 || fclose(fp) != 0)
		die(path);
	snprintf(path, sizeof path, "%s/work/%s", g->dir, thread);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		die(path);
	close(fd);
	g->open++;
}

/*
 * One episode of thread from t with about budget messages; the time it
 * ended (resolved, surveyed, answered), or 0 if END cut it short.
 */
static time_t
episode(struct gen *g, const char *thread, time_t t, int first,
    const char *agent, long budget, long *msgs)
{
	char id[64], sid[64], rest[512], at[WHEN_BUFSZ], fr[WHEN_BUFSZ];
	time_t opened = t, reply;
	long k;
	int score;

	message(g, t, thread, 0, "", id);
	snprintf(rest, sizeof rest, ",\"msg\":\"%s\"", id);
	line(g, first ? "opened" : "reopened", t, thread, rest);
	(*msgs)++;
	if (first) {
		snprintf(rest, sizeof rest, ",\"agent\":\"%s\",\"was\":null,"
		    "\"by\":{\"user\":\"bench\"}", agent);
		line(g, "assigned", t + 30, thread, rest);
	}
	if (rnd(g) % 10 == 0) {
		message(g, t + 1, thread, 1, ",\"purpose\":\"notification\","
		    "\"segments\":1,\"auto\":\"ack\",\"status\":\"sent\"", id);
		(*msgs)++, budget--;
	}
	reply = t + between(g, 60, 6 * 3600);
	/* the last three days: one in three still waits for its reply */
	if (reply > g->end || (t > g->end - 3 * 86400 && rnd(g) % 3 == 0))
		return 0;
	snprintf(rest, sizeof rest, ",\"purpose\":\"reply\",\"segments\":%ld,"
	    "\"agent\":\"%s\",\"status\":\"delivered\"", between(g, 1, 2),
	    agent);
	message(g, reply, thread, 1, rest, id);
	(*msgs)++;
	when_format(opened, at);
	snprintf(rest, sizeof rest, ",\"opened_at\":\"%s\",\"seconds\":%lld,"
	    "\"agent\":\"%s\",\"msg\":\"%s\"", at, (long long)(reply - opened),
	    agent, id);
	line(g, "first_response", reply, thread, rest);
	when_format(reply, fr);
	t = reply;
	for (k = 2; k < budget; k++) {
		t += between(g, 60, 1800);
		if (t > g->end)
			return 0;
		snprintf(rest, sizeof rest, ",\"purpose\":\"reply\","
		    "\"segments\":1,\"agent\":\"%s\",\"status\":\"delivered\"",
		    agent);
		message(g, t, thread, k % 2 == 0 ? 0 : 1, k % 2 == 0 ? "" :
		    rest, id);
		(*msgs)++;
	}
	t += between(g, 600, 3600);
	if (t > g->end)
		return 0;
	snprintf(rest, sizeof rest, ",\"opened_at\":\"%s\",\"first_response_at"
	    "\":\"%s\",\"seconds\":%lld,\"agent\":\"%s\",\"by\":{\"user\":"
	    "\"bench\",\"agent\":\"%s\"}", at, fr, (long long)(t - opened),
	    agent, agent);
	line(g, "resolved", t, thread, rest);
	if (rnd(g) % 10 >= 6 || t + 300 > g->end)
		return t;
	when_format(t, fr);
	t += 300;
	message(g, t, thread, 1, ",\"purpose\":\"notification\",\"segments\":1,"
	    "\"status\":\"delivered\"", id);
	(*msgs)++;
	when_format(t + 3 * 86400, at);
	snprintf(rest, sizeof rest, ",\"survey\":\"%s\",\"scale\":\"1-5\","
	    "\"agent\":\"%s\",\"until\":\"%s\",\"resolved_at\":\"%s\"", id, agent,
	    at, fr);
	line(g, "surveyed", t, thread, rest);
	if (rnd(g) % 10 >= 4 || t + 600 > g->end)
		return t;
	memcpy(sid, id, sizeof sid);
	t += 600;
	score = (int)between(g, 1, 5) + (rnd(g) % 2 && 1);
	score = score > 5 ? 5 : score;
	snprintf(rest, sizeof rest, ",\"csat\":%d", score);
	message(g, t, thread, 0, rest, id);
	(*msgs)++;
	snprintf(rest, sizeof rest, ",\"survey\":\"%s\",\"scale\":\"1-5\","
	    "\"score\":%d,\"comment\":null,\"agent\":\"%s\",\"msg\":\"%s\"", sid,
	    score, agent, id);
	line(g, "answered", t, thread, rest);
	return t;
}

static void
conversation(struct gen *g, long i, long budget)
{
	char thread[32], agent[16];
	long eps = between(g, 1, 3), e, msgs = 0;
	time_t t = g->start + (time_t)between(g, 0, g->end - g->start - 1),
	    done;

	snprintf(thread, sizeof thread, "+1555%07ld", i);
	snprintf(agent, sizeof agent, "agent%02ld", between(g, 0,
	    AGENTS - 1));
	for (e = 0; e < eps; e++) {
		done = episode(g, thread, t, e == 0, agent, budget / eps,
		    &msgs);
		if (!done) {
			keep_open(g, thread, t, agent, msgs);
			return;
		}
		t = done + between(g, 3600, 10 * 86400);
		if (t > g->end)
			return;
	}
}

int
main(int argc, char **argv)
{
	struct gen g = { .rng = 0x9e3779b97f4a7c15ULL };
	struct timespec t0, t1;
	char path[4096];
	long nconv, nmsg, i, first;
	double avg;
	size_t k;

	if ((argc != 6 && argc != 7) || (nconv = atol(argv[2])) <= 0 ||
	    (nmsg = atol(argv[3])) <= 0 || (g.ndays = atol(argv[4])) <= 0 ||
	    when_parse(argv[5], &g.end, NULL) < 0) {
		fputs("usage: mkhistory DIR CONVERSATIONS MESSAGES DAYS END "
		    "[FIRST]\n", stderr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	first = argc == 7 ? atol(argv[6]) : 0;
	g.rng ^= (uint64_t)first;
	g.dir = argv[1];
	g.start = (g.end / 86400 - g.ndays + 1) * 86400;
	if (!(g.day = calloc((size_t)g.ndays, sizeof *g.day)))
		die("calloc");
	if (mkdir(g.dir, 0700) < 0 && errno != EEXIST)
		die(g.dir);
	for (k = 0; k < sizeof subdirs / sizeof *subdirs; k++) {
		snprintf(path, sizeof path, "%s/%s", g.dir, subdirs[k]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			die(path);
	}
	/* messages an episode, besides surveys, answers and acks: a
	 * conversation's share less what those add, spread evenly */
	avg = (double)nmsg / (double)nconv - 1.2;
	for (i = 0; i < nconv; i++)
		conversation(&g, first + i, between(&g, 2, avg < 2 ? 2 :
		    (long)(2 * avg - 2 + 0.5)));
	for (i = 0; i < g.ndays; i++)
		if (g.day[i] && fclose(g.day[i]) != 0)
			die("fclose");
	free(g.day);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("conversations=%ld messages=%llu lines=%llu bytes=%llu open=%ld "
	    "seconds=%.1f\n", nconv, g.msgs, g.lines, g.bytes, g.open,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
