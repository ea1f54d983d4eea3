/*
 * sms-sim: a carrier simulator that speaks Twilio's Messages API, sms-sim(1).
 *
 * It serves, on 127.0.0.1, what api.twilio.com serves for SMS: create,
 * fetch, list (newest first, with Twilio's paging), redact and delete of
 * Message resources under /2010-04-01/Accounts/{Sid}/, behind HTTP Basic
 * auth, with Twilio's JSON shapes and error bodies. Messages live in
 * memory only. A created message moves on by itself, queued, sent, then
 * delivered (or failed), each step made by a pool of worker threads that
 * post the step to the message's StatusCallback, form-encoded and signed
 * with X-Twilio-Signature as Twilio signs. A step is scheduled only once
 * the one before it was posted, so one message's callbacks come in order.
 *
 * Customers are simulated too: POST /sim/text (and `sms-sim text`, its
 * client) makes a customer text our number, which the sim posts to the
 * --webhook as Twilio's signed inbound webhook; <Message> elements in the
 * TwiML answer become outbound replies. Faults come on demand: 429 above a
 * rate, a share of 5xx, latency, connections dropped after the message was
 * created, numbers that opted out, are refused or cannot be reached, and
 * reads that fail. Twilio's own scheduling is there too (a Messaging
 * Service's ScheduleType=fixed and SendAt, and cancel), on a clock that
 * SMSDESK_NOW pins and POST /sim/clock moves.
 *
 * It runs a thread per connection (not sms-recv's pool): a slow answer
 * (--latency) or a webhook post for /sim/text then holds only its own
 * connection. Every request is logged on stderr and, with --log, as one
 * NDJSON record; secrets are in neither.
 *
 * With --provider telnyx, plivo or vonage it plays that carrier instead:
 * its API, its error answers and its signed webhooks, over the same store,
 * jobs and faults (cmd/sms-sim/provider.c has the carriers).
 *
 * Its parts are in cmd/sms-sim/, one a file, and sms-sim/sim.h lists them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "config.h"
#include "diag.h"
#include "httpd.h"
#include "phone.h"
#include "provider.h"
#include "when.h"

#include "sms-sim/sim.h"

#define USAGE "usage: sms-sim [-hV] [-l [ADDR:]PORT] [-r RATE] [-w URL] " \
	"[--cdn-host HOST]\n" \
	"               [--drop PERCENT] [--duplicate PERCENT] " \
	"[--errors PERCENT]\n" \
	"               [--fail NUMBER]... " \
	"[--latency MS] [--log FILE] [--media-fail MODE]\n" \
	"               [--media-max BYTES] [--media-timeout MS] " \
	"[--number NUMBER]\n" \
	"               [--optout NUMBER]... [--provider NAME] " \
	"[--read-after MS]\n" \
	"               [--read-errors PERCENT] [--refuse NUMBER]... " \
	"[--reorder PERCENT]\n" \
	"               [--reply TEXT] [--schedule-min SECONDS] " \
	"[--seed SEED]\n" \
	"               [--webhook-method METHOD]\n" \
	"       sms-sim text [--whatsapp [--profile-name NAME]] [--url URL]\n" \
	"               [--media FILE [--media-type TYPE] " \
	"[--media-fail MODE]]... FROM BODY\n"
#define DEFAULT_LISTEN "127.0.0.1:8081"
#define DEFAULT_NUMBER "+15550100000"
#define DEFAULT_ACCOUNT "AC00000000000000000000000000000000"
#define DEFAULT_TOKEN "sms-sim-token"
#define DEFAULT_PLIVO_ID "MA00000000000000SIM0"
#define DEFAULT_VONAGE_KEY "simkey00"
#define MAX_CONNECTIONS 512
#define STOP_SECONDS 10		/* for requests in flight at a stop */
#define LOG_PER_SECOND 10	/* libmicrohttpd's lines a second */
#define WORKERS 4
#define READ_AFTER 40		/* ms, --read-after's default */
#define STR_(x) #x
#define STR(x) STR_(x)

void
sim_usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --cdn-host HOST    redirect media to HOST, this sim "
		    "by another name\n"
		    "      --drop PERCENT     close this share of create "
		    "requests unanswered,\n"
		    "                         after the message is created\n"
		    "      --duplicate PERCENT  post this share of webhooks "
		    "and callbacks twice\n"
		    "      --errors PERCENT   answer this share of create "
		    "requests 500 or 503\n"
		    "      --fail NUMBER[:STATUS[:CODE]]  messages to NUMBER "
		    "end failed\n"
		    "                         (or undelivered), error 30003 "
		    "(or CODE; the\n"
		    "                         provider's own code by "
		    "default)\n"
		    "  -h, --help             print this help and exit\n"
		    "      --latency MS       wait this long before every API "
		    "answer\n"
		    "  -l, --listen [ADDR:]PORT  serve here (default "
		    DEFAULT_LISTEN ")\n"
		    "      --log FILE         append one NDJSON record per "
		    "request received\n"
		    "      --media-fail MODE  the customers' media answer "
		    "404, stall (timeout)\n"
		    "                         or are too large (large)\n"
		    "      --media-max BYTES  the most media of a message "
		    "(default 5 MiB)\n"
		    "      --media-timeout MS  give a MediaUrl fetch this "
		    "long (default 15000)\n"
		    "      --number NUMBER    our Twilio number (default "
		    DEFAULT_NUMBER ")\n"
		    "      --optout NUMBER    create to NUMBER answers 400, "
		    "code 21610\n"
		    "                         (the provider's opt-out "
		    "answer)\n"
		    "      --provider NAME    play twilio (the default), "
		    "telnyx, plivo or vonage\n"
		    "  -r, --rate RATE        create answers 429 above RATE "
		    "requests a second\n"
		    "      --read-after MS    a WhatsApp message delivered is "
		    "read MS later\n"
		    "                         (default " STR(READ_AFTER)
		    "; never: not read)\n"
		    "      --read-errors PERCENT  answer this share of fetch "
		    "and list requests\n"
		    "                         500 or 503\n"
		    "      --refuse NUMBER[:CODE]  create to NUMBER answers "
		    "400, code 21211\n"
		    "                         (or CODE, or opted-out, or "
		    "invalid)\n"
		    "      --reorder PERCENT  post this share of long texts "
		    "and receipts last\n"
		    "                         part first (vonage)\n"
		    "      --reply TEXT       recipients of delivered messages "
		    "text back TEXT\n"
		    "      --schedule-min SECONDS  the least a SendAt may be "
		    "ahead (default 900)\n"
		    "      --seed SEED        seed the faults and the SIDs, "
		    "for repeatable runs\n"
		    "  -V, --version          print the version and exit\n"
		    "  -w, --webhook URL      where inbound texts are posted, "
		    "signed\n"
		    "      --webhook-method METHOD  POST (the default) or GET "
		    "the webhooks\n"
		    "                         (vonage)\n"
		    "\n"
		    "sms-sim text makes customer FROM text BODY to our number "
		    "through a running\n"
		    "sms-sim:\n"
		    "      --media FILE       send FILE with the text, as "
		    "an MMS (repeatable)\n"
		    "      --media-fail MODE  that FILE answers 404, stalls "
		    "or is too large\n"
		    "      --media-type TYPE  that FILE's content type "
		    "(default: by its name)\n"
		    "      --profile-name NAME  the WhatsApp customer's "
		    "profile name\n"
		    "      --url URL          the simulator (default "
		    "$SMSDESK_SIM_URL, else\n"
		    "                         " DEFAULT_SIM_URL ")\n"
		    "      --whatsapp         the customer writes on WhatsApp, "
		    "not by SMS\n"
		    "\nCredentials: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; "
		    "TELNYX_API_KEY and\n"
		    "SMSDESK_SIM_TELNYX_SEED (telnyx); PLIVO_AUTH_ID and "
		    "PLIVO_AUTH_TOKEN (plivo);\n"
		    "VONAGE_API_KEY, VONAGE_API_SECRET, "
		    "VONAGE_SIGNATURE_SECRET and\n"
		    "VONAGE_SIGNATURE_METHOD (vonage).\n",
		    fp);
	exit(code);
}

/* --- HTTP ---------------------------------------------------------- */

/* A line of libmicrohttpd's, through its rate-limited log (httpd_log). */
static void
log_out(void *arg, const char *line)
{
	(void)arg;
	diag_warn("%s", line);
}

/* Serve until SIGTERM or SIGINT. */
static void
serve(struct sim *s, const char *listen_arg)
{
	struct sockaddr_storage sin;
	pthread_t workers[WORKERS];
	struct httpd_opts o = { 0 };
	struct httpd *h;
	struct httpd_log *mhd_log;
	struct errbuf e;
	char addr[INET6_ADDRSTRLEN + 2];
	unsigned short port;
	sigset_t set;
	int sig, nw = 0;

	if (httpd_parse_listen(listen_arg, &sin, addr, sizeof addr) < 0)
		diag_die(EXIT_USAGE, "--listen: '%s' is not [ADDR:]PORT (ADDR "
		    "an IPv4 address, [an IPv6 one] or a host name)",
		    listen_arg);
	port = httpd_port(&sin);
	s->port = port;
	/* Handle SIGTERM/SIGINT here, in sigwait, not in other threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (; nw < WORKERS; nw++)
		if (pthread_create(&workers[nw], NULL, sim_worker, s) != 0)
			diag_die(EXIT_IOERR, "cannot start a thread");
	if (!(mhd_log = httpd_log_new("libmicrohttpd", LOG_PER_SECOND,
	    log_out, NULL)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	/* A thread per connection: --latency holds only its own. */
	o.addr = &sin;
	o.threads = HTTPD_PER_THREAD;
	o.max_connections = MAX_CONNECTIONS;
	o.timeout = 30;
	o.handler = sim_on_request;
	o.handler_cls = s;
	o.log = mhd_log;
	if (!(h = httpd_start(&o, &e)))
		diag_die(EXIT_IOERR, "--listen %s:%u: %s", addr, port, e.msg);
	if (s->pv != &sim_twilio)
		fprintf(stderr, "%s: listening on %s:%u as %s, number %s, "
		    "webhook %s\n", diag_prog(), addr, port, s->pv->name,
		    s->number, s->webhook ? s->webhook : "none");
	else
		fprintf(stderr, "%s: listening on %s:%u, account %s, number "
		    "%s, webhook %s\n", diag_prog(), addr, port, s->account,
		    s->number, s->webhook ? s->webhook : "none");
	while ((sig = sigwaitinfo(&set, NULL)) < 0 && errno == EINTR)
		;
	fprintf(stderr, "%s: %s: finishing requests in flight\n", diag_prog(),
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	s->draining = 1;
	httpd_stop_gently(h, STOP_SECONDS);
	httpd_log_flush(mhd_log, httpd_now(), 1);
	httpd_log_free(mhd_log);
	pthread_mutex_lock(&s->jlock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->jcond);
	pthread_cond_broadcast(&s->tcond);
	pthread_mutex_unlock(&s->jlock);
	while (nw-- > 0)
		pthread_join(workers[nw], NULL);
}

/* --- main ---------------------------------------------------------- */

static double
percent(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || (*end && strcmp(end, "%") != 0) || !(v >= 0) ||
	    v > 100)
		diag_die(EXIT_USAGE, "%s: '%s' is not a percentage from 0 to "
		    "100", opt, arg);
	return v;
}

static void
phone_arg(const char *opt, const char *arg, char out[PHONE_MAX])
{
	struct errbuf e;

	if (phone_normalize(arg, NULL, out, &e) < 0)
		diag_die(EXIT_USAGE, "%s: '%s': %s", opt, arg, e.msg);
}

/* --fail NUMBER[:STATUS[:CODE]] */
static void
fail_arg(struct sim *s, const char *arg)
{
	struct failing *v, *fl;
	char num[64], st[32] = "failed";
	const char *colon = strchr(arg, ':');
	unsigned long code = 0;	/* the provider's own, later */
	char *end;

	snprintf(num, sizeof num, "%.*s", colon ? (int)(colon - arg) :
	    (int)strlen(arg), arg);
	if (colon) {
		const char *c2 = strchr(colon + 1, ':');

		snprintf(st, sizeof st, "%.*s", c2 ? (int)(c2 - colon - 1) :
		    (int)strlen(colon + 1), colon + 1);
		if (c2) {
			code = strtoul(c2 + 1, &end, 10);
			if (!c2[1] || *end || code < 1 || code > 99999)
				diag_die(EXIT_USAGE, "--fail: '%s': CODE is not "
				    "an error code", arg);
		}
	}
	if (strcmp(st, "failed") != 0 && strcmp(st, "undelivered") != 0)
		diag_die(EXIT_USAGE, "--fail: '%s': STATUS is failed or "
		    "undelivered", arg);
	if (!(v = realloc(s->fails, (s->nfails + 1) * sizeof *v)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	s->fails = v;
	fl = &v[s->nfails++];
	phone_arg("--fail", num, fl->number);
	fl->status = strcmp(st, "failed") == 0 ? "failed" : "undelivered";
	fl->code = (int)code;
}

/* --refuse NUMBER[:CODE] */
static void
refuse_arg(struct sim *s, const char *arg)
{
	struct refusal *v, *r;
	const char *colon = strchr(arg, ':');
	long code = REFUSE_INVALID;	/* the provider's, later */
	char num[64], *end;

	snprintf(num, sizeof num, "%.*s", colon ? (int)(colon - arg) :
	    (int)strlen(arg), arg);
	if (colon && strcmp(colon + 1, "opted-out") == 0) {
		code = REFUSE_OPTOUT;
	} else if (colon && strcmp(colon + 1, "invalid") != 0) {
		code = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || colon[1] == '-' || code < 1 ||
		    code > 99999)
			diag_die(EXIT_USAGE, "--refuse: '%s': CODE is not an "
			    "error code from 1 to 99999, opted-out or "
			    "invalid", arg);
	}
	if (!(v = realloc(s->refusals, (s->nrefusals + 1) * sizeof *v)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	s->refusals = v;
	r = &v[s->nrefusals++];
	phone_arg("--refuse", num, r->number);
	r->code = (int)code;
}

/*
 * Telnyx's signing key: its 32-byte seed from SMSDESK_SIM_TELNYX_SEED
 * (64 hex digits), else a random one; the public key is said on stderr,
 * for sms-recv's TELNYX_PUBLIC_KEY.
 */
static void
telnyx_key(struct sim *s)
{
	const char *hex = getenv("SMSDESK_SIM_TELNYX_SEED");
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	size_t n = 0;

	if (hex && *hex) {
		if (strlen(hex) != 2 * sizeof seed || sodium_hex2bin(seed,
		    sizeof seed, hex, strlen(hex), NULL, &n, NULL) < 0 ||
		    n != sizeof seed)
			diag_die(EXIT_CONFIG, "SMSDESK_SIM_TELNYX_SEED: not "
			    "64 hex digits (a 32-byte Ed25519 seed)");
	} else {
		randombytes_buf(seed, sizeof seed);
	}
	crypto_sign_seed_keypair(pk, s->telnyx_sk, seed);
	sodium_memzero(seed, sizeof seed);
	sodium_bin2base64(s->telnyx_pk, sizeof s->telnyx_pk, pk, sizeof pk,
	    sodium_base64_VARIANT_ORIGINAL);
	fprintf(stderr, "%s: Telnyx webhooks are signed by the public key "
	    "%s\n", diag_prog(), s->telnyx_pk);
}

/*
 * Vonage's credentials: the API key and secret, and the signature secret
 * and method its webhooks are signed with, as sms-send and sms-recv read
 * them; the simulator's own where they are not set, said on stderr.
 */
static void
vonage_credentials(struct sim *s, struct config *cfg)
{
	struct form none = { 0 };
	char sig[129];

	s->account = config_pick(cfg, NULL, "VONAGE_API_KEY",
	    "vonage_api_key", NULL);
	s->token = config_pick(cfg, NULL, "VONAGE_API_SECRET",
	    "vonage_api_secret", NULL);
	s->vonage_secret = config_pick(cfg, NULL, "VONAGE_SIGNATURE_SECRET",
	    "vonage_signature_secret", NULL);
	s->vonage_method = config_pick(cfg, NULL, "VONAGE_SIGNATURE_METHOD",
	    "vonage_signature_method", "md5hash");
	if (!s->account || !*s->account) {
		s->account = DEFAULT_VONAGE_KEY;
		diag_warn("VONAGE_API_KEY is not set: the API key is %s",
		    s->account);
	}
	if (!s->token || !*s->token) {
		s->token = DEFAULT_TOKEN;
		diag_warn("VONAGE_API_SECRET is not set: the API secret is "
		    "the simulator's fixed one, " DEFAULT_TOKEN);
	}
	if (!s->vonage_secret || !*s->vonage_secret) {
		s->vonage_secret = DEFAULT_TOKEN;
		diag_warn("VONAGE_SIGNATURE_SECRET is not set: webhooks are "
		    "signed with the simulator's fixed one, " DEFAULT_TOKEN);
	}
	if (!*s->vonage_method)
		s->vonage_method = "md5hash";
	if (vonage_signature(s->vonage_secret, s->vonage_method, &none,
	    sig) < 0)
		diag_die(EXIT_CONFIG, "VONAGE_SIGNATURE_METHOD: '%s' is not "
		    "md5hash, md5, sha1, sha256 or sha512", s->vonage_method);
	fprintf(stderr, "%s: Vonage webhooks are signed by %s\n",
	    diag_prog(), s->vonage_method);
}

/* Another carrier's credentials: the environment, then the config file,
 * then the simulator's own, said on stderr. */
static void
other_credentials(struct sim *s, struct config *cfg)
{
	if (s->pv == &sim_vonage) {
		vonage_credentials(s, cfg);
		return;
	}
	if (s->pv == &sim_telnyx) {
		s->account = "";
		s->token = config_pick(cfg, NULL, "TELNYX_API_KEY",
		    "telnyx_api_key", NULL);
		if (!s->token || !*s->token) {
			s->token = DEFAULT_TOKEN;
			diag_warn("TELNYX_API_KEY is not set: the API key is "
			    "the simulator's fixed one, " DEFAULT_TOKEN);
		}
		telnyx_key(s);
		return;
	}
	s->account = config_pick(cfg, NULL, "PLIVO_AUTH_ID", "plivo_auth_id",
	    NULL);
	s->token = config_pick(cfg, NULL, "PLIVO_AUTH_TOKEN",
	    "plivo_auth_token", NULL);
	if (!s->account || !*s->account) {
		s->account = DEFAULT_PLIVO_ID;
		diag_warn("PLIVO_AUTH_ID is not set: the auth id is %s",
		    s->account);
	} else if (strlen(s->account) > 64 || strspn(s->account,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
	    != strlen(s->account)) {
		diag_die(EXIT_CONFIG, "PLIVO_AUTH_ID: '%s' is not letters and "
		    "digits", s->account);
	}
	if (!s->token || !*s->token) {
		s->token = DEFAULT_TOKEN;
		diag_warn("PLIVO_AUTH_TOKEN is not set: the auth token is "
		    "the simulator's fixed one, " DEFAULT_TOKEN);
	}
}

/* The account and token: environment, then the config file, then the
 * simulator's own, said on stderr. */
static void
credentials(struct sim *s, struct config *cfg)
{
	struct errbuf e;

	if (config_load_default(cfg, NULL, &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	if (s->pv != &sim_twilio) {
		other_credentials(s, cfg);
		return;
	}
	s->account = config_pick(cfg, NULL, "TWILIO_ACCOUNT_SID",
	    "twilio_account_sid", NULL);
	s->token = config_pick(cfg, NULL, "TWILIO_AUTH_TOKEN",
	    "twilio_auth_token", NULL);
	if (!s->account || !*s->account) {
		s->account = DEFAULT_ACCOUNT;
		diag_warn("TWILIO_ACCOUNT_SID is not set: the account is %s",
		    s->account);
	} else if (!sim_sid_ok(s->account, "AC")) {
		diag_die(EXIT_CONFIG, "TWILIO_ACCOUNT_SID: '%s' is not AC and "
		    "32 hex digits", s->account);
	}
	if (!s->token || !*s->token) {
		s->token = DEFAULT_TOKEN;
		diag_warn("TWILIO_AUTH_TOKEN is not set: the auth token is "
		    "the simulator's fixed one, " DEFAULT_TOKEN);
	}
}

int
main(int argc, char **argv)
{
	enum { OPT_DROP = 256, OPT_ERRORS, OPT_FAIL, OPT_LATENCY, OPT_LOG,
		OPT_NUMBER, OPT_OPTOUT, OPT_READ_ERRORS, OPT_REFUSE, OPT_REPLY,
		OPT_SEED, OPT_MEDIA_FAIL, OPT_MEDIA_MAX, OPT_MEDIA_TIMEOUT,
		OPT_CDN_HOST, OPT_SCHEDULE_MIN, OPT_PROVIDER, OPT_DUPLICATE,
		OPT_REORDER, OPT_WEBHOOK_METHOD, OPT_READ_AFTER };
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, OPT_LOG },
		{ "cdn-host", required_argument, NULL, OPT_CDN_HOST },
		{ "drop", required_argument, NULL, OPT_DROP },
		{ "duplicate", required_argument, NULL, OPT_DUPLICATE },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "read-after", required_argument, NULL, OPT_READ_AFTER },
		{ "read-errors", required_argument, NULL, OPT_READ_ERRORS },
		{ "errors", required_argument, NULL, OPT_ERRORS },
		{ "fail", required_argument, NULL, OPT_FAIL },
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'l' },
		{ "latency", required_argument, NULL, OPT_LATENCY },
		{ "media-fail", required_argument, NULL, OPT_MEDIA_FAIL },
		{ "media-max", required_argument, NULL, OPT_MEDIA_MAX },
		{ "media-timeout", required_argument, NULL,
		    OPT_MEDIA_TIMEOUT },
		{ "number", required_argument, NULL, OPT_NUMBER },
		{ "optout", required_argument, NULL, OPT_OPTOUT },
		{ "rate", required_argument, NULL, 'r' },
		{ "reply", required_argument, NULL, OPT_REPLY },
		{ "schedule-min", required_argument, NULL, OPT_SCHEDULE_MIN },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "version", no_argument, NULL, 'V' },
		{ "webhook", required_argument, NULL, 'w' },
		{ "refuse", required_argument, NULL, OPT_REFUSE },
		{ "reorder", required_argument, NULL, OPT_REORDER },
		{ "webhook-method", required_argument, NULL,
		    OPT_WEBHOOK_METHOD },
		{ NULL, 0, NULL, 0 },
	};
	static struct sim s = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.jlock = PTHREAD_MUTEX_INITIALIZER,
		.log_lock = PTHREAD_MUTEX_INITIALIZER,
		.media_max = MEDIA_MAX,
		.media_keep = MEDIA_KEEP,
		.media_timeout = POST_TIMEOUT_MS,
		.schedule_min = SCHEDULE_MIN,
		.read_after = READ_AFTER,
		.pv = &sim_twilio,
	};
	const char *listen_arg = DEFAULT_LISTEN, *log_path = NULL, *env;
	char number[PHONE_MAX] = DEFAULT_NUMBER, optout[PHONE_MAX];
	pthread_condattr_t ca;
	struct config *cfg;
	struct errbuf e;
	unsigned long long seed = 0;
	unsigned long ms;
	int c, seeded = 0, vonage_only = 0;
	unsigned segs;
	char *end;

	diag_init(argv[0]);
	if (argc > 1 && strcmp(argv[1], "text") == 0) {
		argv[1] = argv[0];	/* getopt names the program */
		return sim_text_main(argc - 1, argv + 1);
	}
	while ((c = getopt_long(argc, argv, "hl:r:Vw:",
	    longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_CDN_HOST:
			if (!*optarg || strlen(optarg) > 200 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
			    strlen(optarg))
				diag_die(EXIT_USAGE, "--cdn-host: '%s' is not "
				    "a host name", optarg);
			s.cdn_host = optarg;
			break;
		case OPT_DROP:
			s.drop = percent("--drop", optarg);
			break;
		case OPT_DUPLICATE:
			s.duplicate = percent("--duplicate", optarg);
			break;
		case OPT_PROVIDER:
			if (!(s.pv = sim_provider_find(optarg)))
				diag_die(EXIT_USAGE, "--provider: '%s' is not "
				    "one of %s", optarg,
				    sim_provider_names());
			break;
		case OPT_READ_AFTER:
			ms = strtoul(optarg, &end, 10);
			if (strcmp(optarg, "never") == 0)
				s.read_after = -1;
			else if (!*optarg || *end || *optarg == '-' ||
			    ms > 600000)
				diag_die(EXIT_USAGE, "--read-after: '%s' is "
				    "not 0 to 600000 milliseconds, or never",
				    optarg);
			else
				s.read_after = (long)ms;
			break;
		case OPT_READ_ERRORS:
			s.read_errors = percent("--read-errors", optarg);
			break;
		case OPT_ERRORS:
			s.errors = percent("--errors", optarg);
			break;
		case OPT_FAIL:
			fail_arg(&s, optarg);
			break;
		case 'h':
			sim_usage(stdout, 0);
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case OPT_LATENCY:
			ms = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' || ms > 600000)
				diag_die(EXIT_USAGE, "--latency: '%s' is not 0 "
				    "to 600000 milliseconds", optarg);
			s.latency = (unsigned)ms;
			break;
		case OPT_MEDIA_FAIL:
			if (sim_media_fault(optarg, &s.media_fault) < 0)
				diag_die(EXIT_USAGE, "--media-fail: '%s' is "
				    "not 404, timeout, large or none",
				    optarg);
			break;
		case OPT_MEDIA_MAX:
			ms = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' || ms < 1 ||
			    ms > MEDIA_KEEP)
				diag_die(EXIT_USAGE, "--media-max: '%s' is "
				    "not 1 to %d bytes", optarg, MEDIA_KEEP);
			s.media_max = ms;
			break;
		case OPT_MEDIA_TIMEOUT:
			ms = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' || ms < 1 ||
			    ms > 600000)
				diag_die(EXIT_USAGE, "--media-timeout: '%s' is "
				    "not 1 to 600000 milliseconds", optarg);
			s.media_timeout = (unsigned)ms;
			break;
		case OPT_NUMBER:
			phone_arg("--number", optarg, number);
			break;
		case OPT_OPTOUT:
			phone_arg("--optout", optarg, optout);
			if (sim_optout_set(&s, optout, "", 1) < 0)
				diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
			break;
		case 'r':
			s.rate = strtod(optarg, &end);
			if (end == optarg || *end || !(s.rate > 0) ||
			    s.rate > 1e9)
				diag_die(EXIT_USAGE, "--rate: '%s' is not a "
				    "number of requests a second", optarg);
			break;
		case OPT_REPLY:
			s.reply = optarg;
			if (!*optarg || sim_analyze(NULL, optarg,
			    strlen(optarg), 0, &segs, NULL, NULL) < 0)
				diag_die(EXIT_USAGE, "--reply: not UTF-8 "
				    "text");
			break;
		case OPT_SCHEDULE_MIN:
			ms = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-' ||
			    ms > SCHEDULE_MAX)
				diag_die(EXIT_USAGE, "--schedule-min: '%s' is "
				    "not 0 to %d seconds", optarg,
				    SCHEDULE_MAX);
			s.schedule_min = (unsigned)ms;
			break;
		case OPT_SEED:
			seed = strtoull(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-')
				diag_die(EXIT_USAGE, "--seed: '%s' is not a "
				    "number", optarg);
			seeded = 1;
			break;
		case 'V':
			printf("sms-sim (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		case 'w':
			if (!sim_url_ok(optarg))
				diag_die(EXIT_USAGE, "--webhook: '%s' is not an "
				    "http or https URL", optarg);
			s.webhook = optarg;
			break;
		case OPT_REFUSE:
			refuse_arg(&s, optarg);
			break;
		case OPT_REORDER:
			s.reorder = percent("--reorder", optarg);
			vonage_only = 1;
			break;
		case OPT_WEBHOOK_METHOD:
			if (strcasecmp(optarg, "GET") != 0 &&
			    strcasecmp(optarg, "POST") != 0)
				diag_die(EXIT_USAGE, "--webhook-method: '%s' "
				    "is not GET or POST", optarg);
			s.vonage_get = strcasecmp(optarg, "GET") == 0;
			vonage_only |= s.vonage_get;
			break;
		default:
			sim_usage(stderr, EXIT_USAGE);
		}
	}
	if (optind < argc)
		sim_usage(stderr, EXIT_USAGE);
	s.number = number;
	if (vonage_only && s.pv != &sim_vonage)
		diag_die(EXIT_USAGE, "--reorder and --webhook-method GET: "
		    "only for --provider vonage (the others' webhooks are "
		    "posted whole)");
	/* The provider's own codes, now that it is known. */
	for (size_t i = 0; i < s.nrefusals; i++)
		if (s.refusals[i].code >= 0 && (s.refusals[i].code <
		    s.pv->code_min || s.refusals[i].code > s.pv->code_max))
			diag_die(EXIT_USAGE, "--refuse: '%s:%d': CODE is not "
			    "an error code from %d to %d (%s), opted-out or "
			    "invalid", s.refusals[i].number,
			    s.refusals[i].code, s.pv->code_min,
			    s.pv->code_max, s.pv->name);
		else if (s.refusals[i].code < 0)
			s.refusals[i].code = s.refusals[i].code ==
			    REFUSE_OPTOUT ? s.pv->refuse_optout :
			    s.pv->refuse_invalid;
	for (size_t i = 0; i < s.nfails; i++)
		if (s.fails[i].code == 0)
			s.fails[i].code = s.pv->fail_code;
	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	/* Pinned, it moves only by POST /sim/clock. */
	env = getenv("SMSDESK_NOW");
	s.clock_runs = !env || !*env || env[strlen(env) - 1] == '+';

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		diag_die(EXIT_IOERR, "cannot initialise libsodium");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		diag_die(EXIT_IOERR, "cannot initialise libcurl");
	json_object_seed(0);
	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	credentials(&s, cfg);
	if (!seeded)
		randombytes_buf(&seed, sizeof seed);
	s.rng = seed;
	s.tokens = s.rate < 1 ? 1 : s.rate;
	clock_gettime(CLOCK_MONOTONIC, &s.filled);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.jcond, &ca);
	pthread_cond_init(&s.tcond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_key_create(&s.gsm_key, sim_thread_gsm_free)) != 0)
		diag_die(EXIT_IOERR, "cannot make a thread key: %s",
		    strerror(errno));
	if (log_path && !(s.log = fopen(log_path, "a")))
		diag_die(EXIT_IOERR, "--log: %s: %s", log_path,
		    strerror(errno));

	serve(&s, listen_arg);

	if (s.log && fclose(s.log) == EOF)
		diag_warn("--log: %s: %s", log_path, strerror(errno));
	for (size_t i = 0; i < s.n; i++)
		sim_msg_free(s.msgs[i]);
	for (size_t i = 0; i < s.nmedia; i++)
		sim_media_free(s.media[i]);
	free(s.media);
	free(s.msgs);
	free(s.heap);
	free(s.optouts);
	free(s.windows);
	free(s.fails);
	free(s.refusals);
	pthread_cond_destroy(&s.jcond);
	pthread_cond_destroy(&s.tcond);
	pthread_key_delete(s.gsm_key);
	config_free(cfg);
	curl_global_cleanup();
	return diag_close_stdout(0);
}
