/*
 * post-load: a load generator for sms-recv --listen, as Twilio calls it.
 *
 * post-load -p PORT [-S] [-c CONNS] [-f NUMBERS] [-n REQUESTS]
 *     [-t SECONDS] [-u URL] [-P PROVIDER]
 *
 * CONNS threads each hold one keep-alive HTTP/1.1 connection to
 * 127.0.0.1:PORT and send signed inbound-message webhooks on it one at a
 * time: POST /twilio, the form Twilio posts, a unique MessageSid, a Body
 * of about 100 characters, From drawn at random from NUMBERS customer
 * numbers (with -S, each in turn, so that a run of NUMBERS requests opens
 * every conversation once), X-Twilio-Signature from twilio_signature()
 * over URL (by default http://127.0.0.1:PORT/twilio) keyed by
 * $TWILIO_AUTH_TOKEN. It stops after SECONDS (default 10) or after
 * REQUESTS requests in all, whichever comes first.
 * Responses are read by their Content-Length, so connections stay open;
 * a connection the server closes is opened again and counted.
 *
 * With -P telnyx, the webhook is Telnyx's instead: a message.received
 * event as JSON to /telnyx, signed with Ed25519 over "timestamp|body"
 * by the key of the seed 0x00..0x1f (its public key, for the listener's
 * TELNYX_PUBLIC_KEY, is providers.md's A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f
 * HdyGZBJVMbg=); with -P plivo, Plivo's form to /plivo, signed with V3
 * keyed by $PLIVO_AUTH_TOKEN; with -P vonage, Vonage's inbound form to
 * /vonage with a timestamp (now) and a nonce of its own, signed with sig
 * by $VONAGE_SIGNATURE_SECRET and $VONAGE_SIGNATURE_METHOD (md5hash if
 * unset), as vonage_signature() signs.
 *
 * Prints one line of key=value pairs: requests, ok (200s), other (any
 * other status), errors (transport failures), reconnects, seconds, rate
 * (200s per second) and latency p50_ms, p99_ms, max_ms over all answered
 * requests. The first few non-200 answers are shown on stderr. Exit 0 if
 * every request got a 200, 1 if not, 2 on bad usage.
 */
#define _GNU_SOURCE	/* memmem, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "form.h"
#include "provider.h"

enum { P_TWILIO, P_TELNYX, P_PLIVO, P_VONAGE };

#define MAX_CONNS 1024
#define RESP_MAX (64 * 1024)
#define SHOW_MAX 5		/* non-200 answers shown on stderr */

struct load {
	unsigned short port;
	int provider;			/* P_TWILIO, ... */
	unsigned char sk[crypto_sign_SECRETKEYBYTES];	/* Telnyx's */
	const char *token;
	const char *method;		/* Vonage's signature method */
	char url[256];
	char host[64];		/* Host header value */
	unsigned numbers;	/* size of the From pool */
	double deadline;	/* CLOCK_MONOTONIC seconds */
	unsigned long limit;	/* 0: no request limit */
	atomic_ulong issued;
	atomic_ulong seq;	/* with -S, the next From */
	int in_turn;		/* -S */
	atomic_int shown;
	unsigned run;		/* a per-run nonce for MessageSids */
};

struct conn {
	struct load *l;
	int id;
	int fd;
	uint64_t rng;
	unsigned long sent, ok, other, errors, reconnects;
	double *lat;		/* milliseconds, one per answered request */
	size_t nlat, caplat;
	char resp[RESP_MAX];
	size_t rlen;
	char body[4096], req[8192];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
next_rand(uint64_t *s)
{
	/* xorshift64*: enough to spread numbers and vary bodies. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int
open_conn(struct conn *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 30 };
	int one = 1;

	sin.sin_port = htons(c->l->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->rlen = 0;
	return 0;
}

static void
close_conn(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

/* text with its '+' (a form's spaces) made spaces again, in place. */
static char *
spaced(char *text)
{
	for (char *p = text; *p; p++)
		if (*p == '+')
			*p = ' ';
	return text;
}

/* The body the provider posts for an inbound SMS, into out. */
static int
make_body(struct conn *c, char *out, size_t n)
{
	static const char *const words[] = {
		"hello", "my", "order", "has", "not", "arrived", "yet",
		"could", "you", "please", "check", "the", "tracking",
		"number", "thanks", "again", "for", "your", "help", "today",
	};
	char sid[40], text[160];
	size_t tl = 0;
	unsigned long long from;
	int k;

	snprintf(sid, sizeof sid, "SM%08x%08x%04x%012llx",
	    (unsigned)getpid(), c->l->run, (unsigned)c->id,
	    (unsigned long long)c->sent);
	from = 447700000000ULL + (c->l->in_turn ?
	    atomic_fetch_add(&c->l->seq, 1) : next_rand(&c->rng)) %
	    c->l->numbers;
	while (tl < 96) {
		const char *w = words[next_rand(&c->rng) % 20];

		k = snprintf(text + tl, sizeof text - tl, "%s%s",
		    tl ? "+" : "", w);
		tl += (size_t)k;
	}
	if (c->l->provider == P_TELNYX)
		k = snprintf(out, n, "{\"data\":{\"record_type\":\"event\","
		    "\"id\":\"ev-%s\",\"event_type\":\"message.received\","
		    "\"occurred_at\":\"2026-11-22T10:00:00.000Z\","
		    "\"payload\":{\"record_type\":\"message\","
		    "\"direction\":\"inbound\",\"id\":\"%s\",\"type\":\"SMS\","
		    "\"from\":{\"phone_number\":\"+%llu\"},\"to\":[{"
		    "\"phone_number\":\"+14155550100\",\"status\":"
		    "\"delivered\"}],\"text\":\"%s %lu\",\"media\":[],"
		    "\"parts\":1,\"encoding\":\"GSM-7\"}},\"meta\":{"
		    "\"attempt\":1}}", sid, sid, from, spaced(text), c->sent);
	else if (c->l->provider == P_VONAGE)
		k = snprintf(out, n, "msisdn=%llu&to=14155550100&messageId=%s"
		    "&text=%s+%lu&type=text&keyword=X&message-timestamp="
		    "2026-11-22+10%%3A00%%3A00&api-key=bench&timestamp=%lld"
		    "&nonce=n-%s", from, sid, text, c->sent,
		    (long long)time(NULL), sid);
	else if (c->l->provider == P_PLIVO)
		k = snprintf(out, n, "From=%llu&To=14155550100&Text=%s+%lu"
		    "&Type=sms&MessageUUID=%s&Units=1&TotalRate=0.0050"
		    "&TotalAmount=0.0050", from, text, c->sent, sid);
	else
	k = snprintf(out, n, "ToCountry=US&ToState=CA&SmsMessageSid=%s"
	    "&NumMedia=0&ToCity=SAN+FRANCISCO&FromZip=&SmsSid=%s"
	    "&FromState=&SmsStatus=received&FromCity=&Body=%s+%lu"
	    "&FromCountry=GB&To=%%2B14155550100&MessagingServiceSid="
	    "&ToZip=94105&NumSegments=1&MessageSid=%s"
	    "&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%%2B%llu"
	    "&ApiVersion=2010-04-01", sid, sid, text, c->sent, sid, from);
	return k > 0 && (size_t)k < n ? k : -1;
}

/*
 * Read one response on c; returns its status code, 0 if the server
 * closed the connection after it, or -1 on a transport or framing error.
 * *close_after is set when the connection must not be reused.
 */
static int
read_response(struct conn *c, int *close_after)
{
	char *eoh = NULL, *p, *line, *next;
	size_t hlen, need;
	long clen = -1;
	ssize_t n;
	int code;

	*close_after = 0;
	for (;;) {
		if (c->rlen > 0 && (eoh = memmem(c->resp, c->rlen, "\r\n\r\n",
		    4)))
			break;
		if (c->rlen == sizeof c->resp)
			return -1;
		n = read(c->fd, c->resp + c->rlen, sizeof c->resp - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->rlen += (size_t)n;
	}
	hlen = (size_t)(eoh - c->resp) + 4;
	if (c->rlen < 12 || strncmp(c->resp, "HTTP/1.", 7) != 0)
		return -1;
	code = atoi(c->resp + 9);
	for (line = c->resp; line < eoh; line = next) {
		p = memchr(line, '\r', (size_t)(eoh + 2 - line));
		next = p + 2;
		*p = '\0';
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
		    strcasestr(line + 11, "close"))
			*close_after = 1;
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			return -1;	/* not expected of this server */
	}
	if (clen < 0 || (size_t)clen > sizeof c->resp - hlen)
		return -1;
	need = hlen + (size_t)clen;
	while (c->rlen < need) {
		n = read(c->fd, c->resp + c->rlen, sizeof c->resp - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->rlen += (size_t)n;
	}
	if (code != 200 && atomic_fetch_add(&c->l->shown, 1) < SHOW_MAX)
		fprintf(stderr, "post-load: HTTP %d: %.*s\n", code,
		    (int)(clen > 200 ? 200 : clen), c->resp + hlen);
	memmove(c->resp, c->resp + need, c->rlen - need);
	c->rlen -= need;
	return code;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
add_latency(struct conn *c, double ms)
{
	if (c->nlat == c->caplat) {
		size_t cap = c->caplat ? c->caplat * 2 : 4096;
		double *nl = realloc(c->lat, cap * sizeof *nl);

		if (!nl)
			return -1;
		c->lat = nl;
		c->caplat = cap;
	}
	c->lat[c->nlat++] = ms;
	return 0;
}

/* One request and its answer; -1 stops this connection's loop. */
static int
one_request(struct conn *c, char *body, char *req, size_t reqcap)
{
	struct form f;
	struct errbuf e;
	char sig[29];
	int blen, rlen, code, close_after;
	double t0;

	if ((blen = make_body(c, body, 4096)) < 0)
		return -1;
	if (c->l->provider == P_TELNYX) {
		unsigned char raw[crypto_sign_BYTES];
		char ts[24], b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
		    sodium_base64_VARIANT_ORIGINAL)];
		size_t tl = (size_t)snprintf(ts, sizeof ts, "%lld|",
		    (long long)time(NULL));
		unsigned char *m = malloc(tl + (size_t)blen);

		if (!m)
			return -1;
		memcpy(m, ts, tl);
		memcpy(m + tl, body, (size_t)blen);
		crypto_sign_detached(raw, NULL, m, tl + (size_t)blen,
		    c->l->sk);
		free(m);
		sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
		    sodium_base64_VARIANT_ORIGINAL);
		ts[tl - 1] = '\0';
		rlen = snprintf(req, reqcap, "POST /telnyx HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: telnyx-webhooks\r\n"
		    "Content-Type: application/json\r\n"
		    "telnyx-signature-ed25519: %s\r\ntelnyx-timestamp: %s\r\n"
		    "Content-Length: %d\r\n\r\n%s", c->l->host, b64, ts, blen,
		    body);
		goto send;
	}
	if (form_parse(&f, body, (size_t)blen, &e) < 0) {
		fprintf(stderr, "post-load: %s\n", e.msg);
		return -1;
	}
	if (c->l->provider == P_VONAGE) {
		char vsig[129];

		if (vonage_signature(c->l->token, c->l->method, &f,
		    vsig) < 0) {
			form_free(&f);
			fputs("post-load: cannot sign\n", stderr);
			return -1;
		}
		form_free(&f);
		rlen = snprintf(req, reqcap, "POST /vonage HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: Vonage\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %d\r\n\r\n%s&sig=%s", c->l->host,
		    blen + 5 + (int)strlen(vsig), body, vsig);
		goto send;
	}
	if (c->l->provider == P_PLIVO) {
		char nonce[32], psig[45];

		snprintf(nonce, sizeof nonce, "%08x%08lx", c->l->run,
		    c->sent);
		if (plivo_signature(c->l->token, "POST", c->l->url, nonce, &f,
		    psig) < 0) {
			form_free(&f);
			fputs("post-load: cannot sign\n", stderr);
			return -1;
		}
		form_free(&f);
		rlen = snprintf(req, reqcap, "POST /plivo HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: PlivoHTTP\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "X-Plivo-Signature-V3: %s\r\n"
		    "X-Plivo-Signature-V3-Nonce: %s\r\n"
		    "Content-Length: %d\r\n\r\n%s", c->l->host, psig, nonce,
		    blen, body);
		goto send;
	}
	if (twilio_signature(c->l->token, c->l->url, &f, sig) < 0) {
		form_free(&f);
		fputs("post-load: cannot sign\n", stderr);
		return -1;
	}
	form_free(&f);
	rlen = snprintf(req, reqcap, "POST /twilio HTTP/1.1\r\n"
	    "Host: %s\r\nUser-Agent: TwilioProxy/1.1\r\nAccept: */*\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "X-Twilio-Signature: %s\r\nContent-Length: %d\r\n\r\n%s",
	    c->l->host, sig, blen, body);
send:
	if (rlen < 0 || (size_t)rlen >= reqcap)
		return -1;
	c->sent++;
	if (c->fd < 0) {
		if (open_conn(c) < 0) {
			c->errors++;
			usleep(10000);
			return 0;
		}
		c->reconnects++;
	}
	t0 = now();
	if (write_all(c->fd, req, (size_t)rlen) < 0 ||
	    (code = read_response(c, &close_after)) < 0) {
		c->errors++;
		close_conn(c);
		return 0;
	}
	if (add_latency(c, (now() - t0) * 1e3) < 0)
		return -1;
	if (code == 200)
		c->ok++;
	else
		c->other++;
	if (close_after)
		close_conn(c);
	return 0;
}

static void *
run(void *arg)
{
	struct conn *c = arg;

	while (now() < c->l->deadline) {
		if (c->l->limit && atomic_fetch_add(&c->l->issued, 1) >=
		    c->l->limit)
			break;
		if (one_request(c, c->body, c->req, sizeof c->req) < 0) {
			c->errors++;
			break;
		}
	}
	close_conn(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0 < q <= 1) of sorted v by the nearest-rank rule. */
static double
quantile(const double *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

static void
usage(void)
{
	fputs("usage: post-load -p PORT [-S] [-c CONNS] [-f NUMBERS] "
	    "[-n REQUESTS] [-t SECONDS] [-u URL]\n"
	    "                 [-P twilio|telnyx|plivo|vonage]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct load l;
	struct conn *cs;
	pthread_t *th;
	double secs = 10, t0;
	unsigned long req = 0, ok = 0, other = 0, errs = 0, rec = 0;
	double *all;
	size_t nall = 0, k;
	long nconn = 1, port = 0, v;
	const char *url = NULL;
	char *end;
	int ch, i;

	while ((ch = getopt(argc, argv, "P:Sc:f:n:p:t:u:")) != -1) {
		switch (ch) {
		case 'P':
			if (strcmp(optarg, "telnyx") == 0)
				l.provider = P_TELNYX;
			else if (strcmp(optarg, "plivo") == 0)
				l.provider = P_PLIVO;
			else if (strcmp(optarg, "vonage") == 0)
				l.provider = P_VONAGE;
			else if (strcmp(optarg, "twilio") != 0)
				usage();
			break;
		case 'S':
			l.in_turn = 1;
			break;
		case 'c':
			nconn = strtol(optarg, &end, 10);
			if (*end || nconn < 1 || nconn > MAX_CONNS)
				usage();
			break;
		case 'f':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 100000000)
				usage();
			l.numbers = (unsigned)v;
			break;
		case 'n':
			l.limit = strtoul(optarg, &end, 10);
			if (*end)
				usage();
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535)
				usage();
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || secs <= 0)
				usage();
			break;
		case 'u':
			url = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || port == 0)
		usage();
	if (l.provider == P_TELNYX) {
		unsigned char seed[crypto_sign_SEEDBYTES],
		    pk[crypto_sign_PUBLICKEYBYTES];

		if (sodium_init() < 0)
			return 2;
		for (i = 0; i < (int)sizeof seed; i++)
			seed[i] = (unsigned char)i;
		crypto_sign_seed_keypair(pk, l.sk, seed);
		l.token = "";
	} else if (l.provider == P_VONAGE) {
		if (!(l.token = getenv("VONAGE_SIGNATURE_SECRET")) ||
		    !*l.token) {
			fputs("post-load: set VONAGE_SIGNATURE_SECRET\n",
			    stderr);
			return 2;
		}
		l.method = getenv("VONAGE_SIGNATURE_METHOD");
	} else if (!(l.token = getenv(l.provider == P_PLIVO ?
	    "PLIVO_AUTH_TOKEN" : "TWILIO_AUTH_TOKEN")) || !*l.token) {
		fprintf(stderr, "post-load: set %s\n", l.provider == P_PLIVO ?
		    "PLIVO_AUTH_TOKEN" : "TWILIO_AUTH_TOKEN");
		return 2;
	}
	l.port = (unsigned short)port;
	if (!l.numbers)
		l.numbers = 1000;
	snprintf(l.host, sizeof l.host, "127.0.0.1:%ld", port);
	snprintf(l.url, sizeof l.url, "%s", url ? url : "");
	if (!url)
		snprintf(l.url, sizeof l.url, "http://%s/%s", l.host,
		    l.provider == P_TELNYX ? "telnyx" : l.provider == P_PLIVO ?
		    "plivo" : l.provider == P_VONAGE ? "vonage" : "twilio");
	l.run = (unsigned)time(NULL);

	cs = calloc((size_t)nconn, sizeof *cs);
	th = calloc((size_t)nconn, sizeof *th);
	if (!cs || !th)
		return perror("post-load"), 1;
	for (i = 0; i < nconn; i++) {
		cs[i].l = &l;
		cs[i].id = i;
		cs[i].rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)l.run << 20) ^
		    (uint64_t)(i + 1) * 0xD1B54A32D192ED03ULL;
		if (open_conn(&cs[i]) < 0) {
			fprintf(stderr, "post-load: connect 127.0.0.1:%ld: "
			    "%s\n", port, strerror(errno));
			return 1;
		}
	}
	t0 = now();
	l.deadline = t0 + secs;
	for (i = 0; i < nconn; i++)
		if (pthread_create(&th[i], NULL, run, &cs[i]) != 0) {
			fputs("post-load: cannot start a thread\n", stderr);
			return 1;
		}
	for (i = 0; i < nconn; i++)
		pthread_join(th[i], NULL);
	secs = now() - t0;

	for (i = 0; i < nconn; i++)
		nall += cs[i].nlat;
	if (!(all = malloc((nall + 1) * sizeof *all)))
		return perror("post-load"), 1;
	for (i = 0, k = 0; i < nconn; i++) {
		memcpy(all + k, cs[i].lat, cs[i].nlat * sizeof *all);
		k += cs[i].nlat;
		req += cs[i].sent;
		ok += cs[i].ok;
		other += cs[i].other;
		errs += cs[i].errors;
		rec += cs[i].reconnects;
		free(cs[i].lat);
	}
	qsort(all, nall, sizeof *all, cmp_double);
	printf("requests=%lu ok=%lu other=%lu errors=%lu reconnects=%lu "
	    "seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	    req, ok, other, errs, rec, secs, (double)ok / secs,
	    quantile(all, nall, 0.50), quantile(all, nall, 0.99),
	    nall ? all[nall - 1] : 0.0);
	free(all);
	free(cs);
	free(th);
	if (fflush(stdout) != 0)
		return 1;
	return other || errs ? 1 : 0;
}
