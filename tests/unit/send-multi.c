/*
 * send-multi.c: lib/send/multi.c, many requests in flight from one
 * thread, against sms-sim (SMSDESK_BIN, default build/bin) on 127.0.0.1
 * answering after --latency 200 ms.
 *
 * The engine is driven as workers.c drives it: jobs handed over while it
 * has room, multi_run() until each has come back through the done hook.
 * No case depends on timing: what is checked is what each message ended
 * as, how many the engine held when the first answer came (all of them:
 * in flight at once, not one after the other), and that a stop (rejected
 * credentials) lets no further request out. The provider is sms-sim's
 * (Twilio's), through its file in lib/provider/.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "provider.h"
#include "record.h"
#include "send.h"
#include "send/multi.h"
#include "tap.h"

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "unit0123456789abcdef0123456789ab"
#define FROM "+15550100000"

static pid_t sim = -1;
static char base[64];

/* sms-sim with args on a free port, its stderr to a scratch file; sets
 * base. 0, or -1. */
static int
start_sim(const char *const *args)
{
	const char *bin = getenv("SMSDESK_BIN");
	char path[512], addr[32], log[] = "/tmp/send-multi.XXXXXX";
	char text[4096];
	int try, fd, k;

	snprintf(path, sizeof path, "%s/sms-sim", bin ? bin : "build/bin");
	for (try = 0; try < 20; try++) {
		const char *argv[24];
		struct timespec ts = { 0, 20 * 1000000L };
		ssize_t len = 0;
		int i = 0, waited;

		snprintf(addr, sizeof addr, "127.0.0.1:%d",
		    20000 + (int)((unsigned)rand() % 40000));
		argv[i++] = path;
		argv[i++] = "--listen";
		argv[i++] = addr;
		argv[i++] = "--number";
		argv[i++] = FROM;
		for (k = 0; args[k] && i < 23; k++)
			argv[i++] = args[k];
		argv[i] = NULL;
		strcpy(log, "/tmp/send-multi.XXXXXX");
		if ((fd = mkstemp(log)) < 0)
			return -1;
		unlink(log);
		if ((sim = fork()) == 0) {
			dup2(fd, 2);
			close(fd);
			if (open("/dev/null", O_RDONLY) < 0)
				_exit(127);
			execv(path, (char *const *)argv);
			_exit(127);
		}
		/* Its "listening on" line, or its end: 60 s at most. */
		for (waited = 0; waited < 3000; waited++) {
			len = pread(fd, text, sizeof text - 1, 0);
			text[len > 0 ? len : 0] = '\0';
			if (strstr(text, "listening on") ||
			    waitpid(sim, NULL, WNOHANG) != 0)
				break;
			nanosleep(&ts, NULL);
		}
		close(fd);
		if (strstr(text, "listening on")) {
			snprintf(base, sizeof base, "http://%s", addr);
			return 0;
		}
		kill(sim, SIGTERM);
		waitpid(sim, NULL, 0);
		sim = -1;
		if (!strstr(text, "cannot listen"))
			break;
	}
	return -1;
}

static void
stop_sim(void)
{
	if (sim > 0) {
		kill(sim, SIGTERM);
		waitpid(sim, NULL, 0);
	}
	sim = -1;
}

static void
fatal(const char *msg)
{
	printf("Bail out! %s\n", msg);
	exit(1);
}

struct run {
	struct multi *m;
	int done;
	long busy_first;	/* held by the engine at the first answer */
	struct job *jobs;
};

static void
on_done(void *arg, struct job *j)
{
	struct run *r = arg;

	if (r->done++ == 0)
		r->busy_first = multi_busy(r->m);
	(void)j;
}

/* n messages through an engine of max at once, as workers.c does. */
static void
run(struct send *s, struct run *r, int n, long max)
{
	struct worker w;
	char to[24], body[32];
	int next = 0, i;

	worker_init(&w, s, 1, 0);
	memset(r, 0, sizeof *r);
	r->m = multi_new(&w, max, on_done, r);
	r->jobs = calloc((size_t)n, sizeof *r->jobs);
	if (!r->jobs)
		fatal("out of memory");
	for (i = 0; i < n; i++) {
		snprintf(to, sizeof to, "+1555123%04d", i);
		snprintf(body, sizeof body, "message %d", i);
		r->jobs[i].msg = json_pack("{s:s,s:s,s:s}", "to", to,
		    "thread", to, "body", body);
		r->jobs[i].state = J_SEND;
		r->jobs[i].seq = (unsigned long)i;
	}
	while (r->done < n) {
		while (next < n && multi_room(r->m))
			multi_add(r->m, &r->jobs[next++]);
		multi_run(r->m, -1);
	}
	ok(multi_busy(r->m) == 0, "the engine holds nothing at the end");
	multi_free(r->m);
	worker_free(&w);
}

static void
free_jobs(struct run *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		json_decref(r->jobs[i].msg);
		json_decref(r->jobs[i].err);
		free(r->jobs[i].pid);
		free(r->jobs[i].status);
	}
	free(r->jobs);
}

/* How many of n ended with status st (and an "SM" id if sm). */
static int
count(const struct run *r, int n, const char *st, const char *code)
{
	int i, c = 0;

	for (i = 0; i < n; i++) {
		const struct job *j = &r->jobs[i];

		if (j->state != J_SENT || !j->status ||
		    strcmp(j->status, st) != 0)
			continue;
		if (code ? j->err && strcmp(record_str(j->err, "code"),
		    code) == 0 : !j->err && j->pid &&
		    strncmp(j->pid, "SM", 2) == 0)
			c++;
	}
	return c;
}

static void
setup(struct send *s, const char *pass)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->acct.pv = provider_find("twilio");
	s->acct.account = ACCOUNT;
	s->acct.user = ACCOUNT;
	s->acct.pass = pass;
	s->acct.from = FROM;
	s->acct.base = base;
	s->retries = 8;
	s->timeout = 30;
	s->jobs = 1;
}

int
main(void)
{
	const char *const lat[] = { "--latency", "200", NULL };
	const char *const drop[] = { "--drop", "100", NULL };
	const char *const busy[] = { "--rate", "20", NULL };
	struct send s;
	struct run r;
	int n;

	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	send_set_fatal(fatal);
	setenv("TWILIO_ACCOUNT_SID", ACCOUNT, 1);
	setenv("TWILIO_AUTH_TOKEN", TOKEN, 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* Many in flight: every message created, the first answer came
	 * while the engine held all the others. */
	if (start_sim(lat) < 0)
		fatal("sms-sim did not start");
	setup(&s, TOKEN);
	n = 96;
	run(&s, &r, n, 32);
	is_int(count(&r, n, "queued", NULL), n,
	    "96 messages, 32 at once: each created, queued, with its id");
	is_int(r.busy_first, 31, "at the first answer the engine held 31 more "
	    "(32 in flight at once)");
	free_jobs(&r, n);

	/* One at a time: the same, one by one. */
	n = 3;
	run(&s, &r, n, 1);
	is_int(count(&r, n, "queued", NULL), n, "one at a time: each created");
	is_int(r.busy_first, 0, "nothing else held meanwhile");
	free_jobs(&r, n);

	/* Credentials rejected: the ones in flight end "auth", and no
	 * further request goes out: the rest end not_sent. */
	setup(&s, "wrong-token");
	n = 40;
	run(&s, &r, n, 8);
	is_int(count(&r, n, "failed", "auth"), 8,
	    "wrong credentials: the 8 in flight end auth");
	is_int(count(&r, n, "failed", "not_sent"), n - 8,
	    "the other 32 are not sent");
	ok(send_stopped(&s), "and the run is stopped");
	free_jobs(&r, n);
	stop_sim();

	/* A request whose answer never came may have been processed:
	 * unknown, never sent again. */
	if (start_sim(drop) < 0)
		fatal("sms-sim did not start");
	setup(&s, TOKEN);
	n = 10;
	run(&s, &r, n, 4);
	is_int(count(&r, n, "unknown", "unknown"), n,
	    "connections cut after the request: each unknown");
	free_jobs(&r, n);
	stop_sim();

	/* 429 above 20 a second: retried with backoff on the engine's
	 * timers until each is created. */
	if (start_sim(busy) < 0)
		fatal("sms-sim did not start");
	setup(&s, TOKEN);
	s.retries = 30;
	n = 60;
	run(&s, &r, n, 30);
	is_int(count(&r, n, "queued", NULL), n,
	    "429s retried with backoff: each created in the end");
	free_jobs(&r, n);
	stop_sim();

	curl_global_cleanup();
	return tap_done();
}
