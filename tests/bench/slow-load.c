/*
 * slow-load: slow clients against sms-recv --listen, and how long a valid
 * webhook from elsewhere waits meanwhile (issue 11, item 10).
 *
 * slow-load -p PORT [-a one|many] [-i] [-n CONNS] [-r RATE] [-s SECONDS]
 *     [-w WARMUP]
 *
 * CONNS slow connections to 127.0.0.1:PORT, from 127.0.0.2 (-a one, the
 * default) or each from an address of its own, 127.1.X.Y (-a many). A
 * trickling one (the default) sends "POST /twilio HTTP/1.1" at once and
 * then one header line every 3 s, for ever; with -i it is idle, sending
 * nothing. Either reconnects at once (within 0.1 s) whenever the server
 * closes it, cut off or refused. One thread drives them all with epoll.
 *
 * After WARMUP seconds (default 5), for SECONDS (default 30), a valid
 * signed Twilio webhook is sent RATE times a second (default 5) from
 * 127.0.0.1, as a provider's servers would send it: each on a new
 * connection, in a thread of its own, so that one slow answer delays no
 * other; each waits up to 60 s for its answer. X-Twilio-Signature is
 * twilio_signature() over http://127.0.0.1:PORT/twilio keyed by
 * $TWILIO_AUTH_TOKEN.
 *
 * Prints one line of key=value pairs: webhooks (sent), ok (200s), other
 * (another status), failed (refused, reset or no answer in 60 s), p50_ms,
 * p99_ms and max_ms over every webhook (a failed one counts as 60,000 ms),
 * and of the slow connections: opened (connections made, first ones and
 * reconnections), open_end (open at the end). Exit 0 if every webhook got
 * a 200, 1 if not, 2 on bad usage. Raise the limit of open files
 * (ulimit -n) above CONNS plus a few hundred first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "form.h"
#include "provider.h"

#define MAX_CONNS 20000
#define MAX_HOOKS 100000
#define TRICKLE 3.0		/* seconds between header lines */
#define HOOK_WAIT 60		/* seconds a webhook waits for its answer */

struct slow {
	int fd;
	struct in_addr from;
	double next;		/* the next line, or the reconnection */
	unsigned lines;
};

static unsigned short port;
static const char *token;
static int idle;
static atomic_int stop;
static double hook_ms[MAX_HOOKS];
static int hook_code[MAX_HOOKS];
static atomic_uint hooks_done;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
pause_until(double t)
{
	double d;

	while ((d = t - now()) > 0) {
		struct timespec ts = { (time_t)d,
			(long)((d - (double)(time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

/* --- The slow connections ------------------------------------------- */

static int
slow_open(struct slow *s, int ep)
{
	struct sockaddr_in sin = { .sin_family = AF_INET }, src = {
		.sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	int one = 1;

	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* The port is chosen at connect(2), by the whole 4-tuple. */
	setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof one);
	src.sin_addr = s->from;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *)&src, sizeof src) < 0 ||
	    (connect(s->fd, (struct sockaddr *)&sin, sizeof sin) < 0 &&
	    errno != EINPROGRESS)) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
	s->lines = 0;
	s->next = idle ? 1e300 : now();
	return 0;
}

static void
slow_line(struct slow *s)
{
	char line[64];
	int n;

	if (s->lines == 0)
		n = snprintf(line, sizeof line, "POST /twilio HTTP/1.1\r\n");
	else
		n = snprintf(line, sizeof line, "X-Slow-%u: x\r\n", s->lines);
	s->lines++;
	/* A full socket buffer or an error: the read side will tell. */
	(void)!write(s->fd, line, (size_t)n);
	s->next = now() + TRICKLE;
}

struct slow_set {
	struct slow *c;
	unsigned n;
	unsigned long opened;
	unsigned open_end;
};

static void *
slow_main(void *arg)
{
	struct slow_set *set = arg;
	struct epoll_event evs[256];
	char buf[4096];
	int ep = epoll_create1(EPOLL_CLOEXEC), k, i;
	unsigned j;

	while (!atomic_load(&stop)) {
		double t = now();

		for (j = 0; j < set->n; j++) {
			struct slow *s = &set->c[j];

			if (s->fd < 0) {
				if (t >= s->next) {
					if (slow_open(s, ep) == 0)
						set->opened++;
					else
						s->next = t + 0.1;
				}
			} else if (!idle && t >= s->next) {
				slow_line(s);
			}
		}
		k = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < k; i++) {
			struct slow *s = evs[i].data.ptr;
			ssize_t r = read(s->fd, buf, sizeof buf);

			if (r > 0 || (r < 0 && errno == EAGAIN))
				continue;
			/* Closed by the server: cut or refused. Again. */
			epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
			close(s->fd);
			s->fd = -1;
			s->next = now();
		}
	}
	for (j = 0; j < set->n; j++)
		if (set->c[j].fd >= 0) {
			set->open_end++;
			close(set->c[j].fd);
		}
	close(ep);
	return NULL;
}

/* --- The valid webhooks --------------------------------------------- */

static int
make_request(unsigned i, char *out, size_t n)
{
	char body[1024], sid[40], url[64], sig[29];
	struct form f;
	struct errbuf e;
	int blen, k;

	snprintf(sid, sizeof sid, "SM%08x%08x%016x", (unsigned)getpid(),
	    (unsigned)time(NULL), i);
	blen = snprintf(body, sizeof body, "ToCountry=US&SmsMessageSid=%s"
	    "&NumMedia=0&SmsSid=%s&SmsStatus=received&Body=slow+load+%u"
	    "&To=%%2B14155550100&NumSegments=1&MessageSid=%s"
	    "&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "&From=%%2B4477%08u&ApiVersion=2010-04-01", sid, sid, i, sid,
	    i % 1000);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/twilio", port);
	if (form_parse(&f, body, (size_t)blen, &e) < 0)
		return -1;
	if (twilio_signature(token, url, &f, sig) < 0) {
		form_free(&f);
		return -1;
	}
	form_free(&f);
	k = snprintf(out, n, "POST /twilio HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
	    "User-Agent: TwilioProxy/1.1\r\nAccept: */*\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "X-Twilio-Signature: %s\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n%s", port, sig, blen, body);
	return k > 0 && (size_t)k < n ? k : -1;
}

/* One webhook on a new connection; its status, or -1. */
static int
hook(unsigned i)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = HOOK_WAIT };
	char req[2048], resp[4096];
	size_t got = 0;
	ssize_t r;
	int fd, len, one = 1, code = -1;

	if ((len = make_request(i, req, sizeof req)) < 0)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    write(fd, req, (size_t)len) != len)
		goto done;
	/* The answer, to the end: the server closes (Connection: close). */
	while (got < sizeof resp - 1 &&
	    (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
		got += (size_t)r;
	resp[got] = '\0';
	if (got > 12 && strncmp(resp, "HTTP/1.", 7) == 0 &&
	    strstr(resp, "\r\n\r\n"))
		code = atoi(resp + 9);
done:
	close(fd);
	return code;
}

static void *
hook_main(void *arg)
{
	unsigned i = (unsigned)(size_t)arg;
	double t0 = now();

	hook_code[i] = hook(i);
	hook_ms[i] = hook_code[i] < 0 ? HOOK_WAIT * 1e3 : (now() - t0) * 1e3;
	atomic_fetch_add(&hooks_done, 1);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fputs("usage: slow-load -p PORT [-a one|many] [-i] [-n CONNS] "
	    "[-r RATE] [-s SECONDS]\n                 [-w WARMUP]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct slow_set set = { 0 };
	pthread_t slow_thread;
	pthread_attr_t attr;
	double secs = 30, warm = 5, rate = 5, t0;
	unsigned n = 1000, i, total, ok = 0, other = 0, failed = 0;
	int many = 0, c;
	double *sorted;

	while ((c = getopt(argc, argv, "a:in:p:r:s:w:")) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "many") == 0)
				many = 1;
			else if (strcmp(optarg, "one") != 0)
				usage();
			break;
		case 'i':
			idle = 1;
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'p':
			port = (unsigned short)atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 's':
			secs = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!port || n > MAX_CONNS || rate <= 0 || secs <= 0 ||
	    secs * rate > MAX_HOOKS)
		usage();
	if (!(token = getenv("TWILIO_AUTH_TOKEN"))) {
		fputs("slow-load: no TWILIO_AUTH_TOKEN\n", stderr);
		return 2;
	}
	if (!(set.c = calloc(n ? n : 1, sizeof *set.c)))
		return 2;
	for (i = 0; i < n; i++) {
		set.c[i].fd = -1;
		set.c[i].from.s_addr = many ?
		    htonl(0x7F010000u | ((i / 250) << 8) | (i % 250 + 1)) :
		    htonl(0x7F000002u);
	}
	set.n = n;
	if (pthread_create(&slow_thread, NULL, slow_main, &set) != 0)
		return 2;
	pause_until(now() + warm);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	total = (unsigned)(secs * rate);
	t0 = now();
	for (i = 0; i < total; i++) {
		pthread_t t;

		pause_until(t0 + (double)i / rate);
		if (pthread_create(&t, &attr, hook_main, (void *)(size_t)i)) {
			hook_code[i] = -1;
			hook_ms[i] = HOOK_WAIT * 1e3;
			atomic_fetch_add(&hooks_done, 1);
		}
	}
	while (atomic_load(&hooks_done) < total)
		usleep(10000);
	atomic_store(&stop, 1);
	pthread_join(slow_thread, NULL);

	if (!(sorted = malloc(total * sizeof *sorted)))
		return 2;
	for (i = 0; i < total; i++) {
		sorted[i] = hook_ms[i];
		if (hook_code[i] == 200)
			ok++;
		else if (hook_code[i] < 0)
			failed++;
		else
			other++;
	}
	qsort(sorted, total, sizeof *sorted, cmp);
	printf("webhooks=%u ok=%u other=%u failed=%u p50_ms=%.1f p99_ms=%.1f "
	    "max_ms=%.1f opened=%lu open_end=%u\n", total, ok, other, failed,
	    sorted[total / 2], sorted[(size_t)((double)total * 0.99)],
	    sorted[total - 1], set.opened, set.open_end);
	free(sorted);
	free(set.c);
	return ok == total ? 0 : 1;
}
