/*
 * sms-send: send text messages through the provider, sms-send(1).
 *
 * One message from the command line (--to or --thread, the body as an
 * argument or all of stdin), or one per NDJSON record on stdin. Each goes
 * through the same steps: the number is normalised, the body analysed
 * (refused over Twilio's 1,600 characters), the consent ledger checked
 * (an opted-out number gets no request at all), and then, for P16, the
 * message is stored in its conversation as "queued", and put in outbox/,
 * before the provider hears of it. The answer settles it: the provider's
 * id and status, or an error mapped to the taxonomy of DESIGN section 5.
 * Only answers that prove the request was not processed (429, 503 with
 * Retry-After, a connection that never took the body) are retried, with
 * exponential backoff and full jitter; anything that may have been sent
 * (a timeout or a cut connection after the body left, another 5xx) is
 * "unknown" and left to --reconcile, which asks the provider, and is never
 * sent again by itself.
 *
 * --jobs N runs N workers, each with its own libcurl handle and so its own
 * kept-alive connection; with one, other threads check and store the
 * next messages and settle the last ones while it waits for the provider
 * (see Workers). --rate N/s takes one slot per request from a file in
 * the inbox (rate/SENDER, under flock), so several processes sharing an
 * inbox share the rate too.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "gsm.h"
#include "hours.h"
#include "inbox.h"
#include "phone.h"
#include "phonezone.h"
#include "price.h"
#include "provider.h"
#include "record.h"
#include "tz.h"
#include "when.h"
#include "sms-send/sms-send.h"

#define USAGE "usage: sms-send [-hnV] [-d DIR] [-f FROM] [-j N] [-k KEY] " \
	"[-M SID] [-m N]\n" \
	"                [-Q[MODE]] [-R N] [-r N/s] [-T TEMPLATE] " \
	"[--reconcile]\n" \
	"                [-c NUMBER | -t NUMBER] [BODY]\n"

#define TWILIO_URL "https://api.twilio.com"
#define GRACE 300		/* seconds before a message the provider
				 * does not know is declared not sent */

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -c, --thread NUMBER    reply in the conversation with "
		    "NUMBER\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -f, --from FROM        our number (default: "
		    "$TWILIO_FROM, config from)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --jobs N           send N requests at a time "
		    "(default 1)\n"
		    "  -k, --key KEY          idempotency key: a run with the "
		    "same key sends once\n"
		    "  -M, --messaging-service SID  send from a Messaging "
		    "Service instead\n"
		    "  -m, --max-segments N   warn above N segments "
		    "(default 4)\n"
		    "  -n, --dry-run          print what would be sent; send "
		    "nothing\n"
		    "  -Q, --quiet-hours[=MODE]  nothing in the recipient's "
		    "quiet hours\n"
		    "                         (21:00-08:00): defer (default), "
		    "refuse or off\n"
		    "  -R, --retries N        retry a throttled request N "
		    "times (default 3)\n"
		    "  -r, --rate N/s         at most N requests a second "
		    "from this sender\n"
		    "      --reconcile        settle unknown and queued "
		    "messages with the provider\n"
		    "  -T, --template TEXT    the body, {field} filled from "
		    "each record\n"
		    "  -t, --to NUMBER        send to NUMBER\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWithout --to or --thread, sends one message per NDJSON "
		    "record on stdin\n(\"to\" or \"thread\", \"body\", "
		    "optional \"key\").\n", fp);
	exit(code);
}

static void
report(void *arg, const char *msg)
{
	(void)arg;
	diag_warn("%s", msg);
}

void
send_nomem(void)
{
	diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
}


/* --- Reconciling ------------------------------------------------------- */

/* Twilio's "Thu, 24 Aug 2023 05:01:45 +0000", or -1. */
static time_t
rfc2822(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], iso[32];
	int d, y, h, m, sec;
	const char *at;
	time_t t;

	if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &h, &m,
	    &sec) != 6 || !(at = strstr(months, mon)) || (at - months) % 3)
		return -1;
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
	    (int)(at - months) / 3 + 1, d, h, m, sec);
	return when_parse(iso, &t, NULL) == 0 ? t : -1;
}

/* Whether the inbox knows this provider id already (it is claimed). */
static int
known_sid(struct send *s, const char *sid)
{
	char rel[128];

	snprintf(rel, sizeof rel, "ids/twilio-%s", sid);
	return faccessat(s->ib.fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * Find msg at the provider: list the messages to its number, newest
 * first, page by page until they are older than msg (less a minute for
 * clocks), and take the oldest one with its body and sender, created
 * after msg was queued, that no other message of ours has claimed.
 * Returns 1 with *found (a new reference), 0 if there is none, or an
 * outcome-like -1 (temporary trouble), -2 (credentials rejected).
 */
static int
lookup(struct worker *w, const json_t *msg, json_t **found)
{
	struct send *s = w->s;
	const char *to = record_str(msg, "to");
	const char *body = record_str(msg, "body");
	const char *from = record_str(msg, "from");
	struct buf url = { 0 };
	struct http h = { 0 };
	struct errbuf e;
	json_t *page, *list, *m, *best = NULL;
	time_t at = -1, created, best_at = 0;
	const char *next;
	size_t i;
	int rc = 0, older;
	char *esc;

	*found = NULL;
	if (when_parse(record_str(msg, "at") ? record_str(msg, "at") : "",
	    &at, &e) < 0)
		at = 0;
	esc = curl_easy_escape(w->curl, to ? to : "", 0);
	buf_adds(&url, s->cr.base);
	buf_addlit(&url, "/2010-04-01/Accounts/");
	buf_adds(&url, s->cr.account);
	buf_addlit(&url, "/Messages.json?PageSize=1000&To=");
	buf_adds(&url, esc ? esc : "");
	buf_addc(&url, '\0');
	curl_free(esc);
	if (url.err)
		send_nomem();
	for (;;) {
		http_request(w, url.p, NULL, &h);
		if (h.cc != CURLE_OK || h.status != 200) {
			diag_warn("%s: cannot list messages: %s", to,
			    h.cc != CURLE_OK ? (w->cerr[0] ? w->cerr :
			    curl_easy_strerror(h.cc)) : "HTTP error");
			rc = h.status == 401 ? -2 : -1;
			break;
		}
		if (!(page = json_loadb(h.resp.p ? h.resp.p : "", h.resp.len,
		    0, NULL))) {
			diag_warn("%s: the message list is not JSON", to);
			rc = -1;
			break;
		}
		list = json_object_get(page, "messages");
		older = 0;
		json_array_foreach(list, i, m) {
			const char *sid = record_str(m, "sid");

			created = rfc2822(record_str(m, "date_created"));
			if (created >= 0 && created < at - 60) {
				older = 1;
				continue;
			}
			if (!sid || !record_str(m, "body") ||
			    strcmp(record_str(m, "body"), body ? body : "") ||
			    (from && record_str(m, "from") &&
			    strcmp(record_str(m, "from"), from)) ||
			    known_sid(s, sid))
				continue;
			if (!best || created < best_at) {
				json_decref(best);
				best = json_incref(m);
				best_at = created;
			}
		}
		next = record_str(page, "next_page_uri");
		url.len = 0;
		if (!older && next) {
			buf_adds(&url, s->cr.base);
			buf_adds(&url, next);
			buf_addc(&url, '\0');
		}
		json_decref(page);
		if (!url.len)
			break;
	}
	if (rc == 0 && best) {
		*found = best;
		rc = 1;
	} else {
		json_decref(best);
	}
	buf_free(&url);
	buf_free(&h.resp);
	return rc;
}

/*
 * Fetch the provider's message sid. Returns 1 with *found (a new
 * reference), 0 if the provider has no such message (404, 20404), or -1
 * (temporary trouble, said on stderr), -2 (credentials rejected).
 */
static int
fetch(struct worker *w, const char *thread, const char *sid, json_t **found)
{
	struct send *s = w->s;
	struct buf url = { 0 };
	struct http h = { 0 };
	char *esc = curl_easy_escape(w->curl, sid, 0);
	int rc;

	*found = NULL;
	if (!esc)
		send_nomem();
	buf_adds(&url, s->cr.base);
	buf_addlit(&url, "/2010-04-01/Accounts/");
	buf_adds(&url, s->cr.account);
	buf_addlit(&url, "/Messages/");
	buf_adds(&url, esc);
	buf_addlit(&url, ".json");
	buf_addc(&url, '\0');
	curl_free(esc);
	if (url.err)
		send_nomem();
	http_request(w, url.p, NULL, &h);
	if (h.cc == CURLE_OK && h.status == 200) {
		*found = json_loadb(h.resp.p ? h.resp.p : "", h.resp.len, 0,
		    NULL);
		if (json_is_object(*found) && record_str(*found, "sid")) {
			rc = 1;
		} else {
			diag_warn("%s: %s: the answer is not a message",
			    thread, sid);
			json_decref(*found);
			*found = NULL;
			rc = -1;
		}
	} else if (h.cc == CURLE_OK && h.status == 404) {
		rc = 0;
	} else {
		diag_warn("%s: cannot fetch %s: %s", thread, sid,
		    h.cc != CURLE_OK ? (w->cerr[0] ? w->cerr :
		    curl_easy_strerror(h.cc)) : "HTTP error");
		rc = h.status == 401 ? -2 : -1;
	}
	buf_free(&url);
	buf_free(&h.resp);
	return rc;
}

/* Settle what outbox/ holds: the rule is in sms-send(1), RECONCILING. */
static void
reconcile(struct send *s)
{
	struct worker w;
	struct errbuf e;
	json_t *box, *msg, *found, *out, *err;
	time_t at;
	size_t i;
	int rc, young;

	if (!(box = inbox_outbox(&s->ib, &e))) {
		if (errno == ENOENT)
			return;
		diag_die(EXIT_IOERR, "%s", e.msg);
	}
	worker_init(&w, s, 1, W_CURL);
	json_array_foreach(box, i, msg) {
		const char *thread = record_str(msg, "thread");
		const char *id = record_str(msg, "id");
		const char *pid = record_str(msg, "provider_id");

		if (send_stopped(s) || !thread || !id)
			continue;
		young = when_parse(record_str(msg, "at") ?
		    record_str(msg, "at") : "", &at, NULL) < 0 ||
		    when_now() - at < s->grace;
		/* Taken and young: its delivery report may be on its way. */
		if (pid && young)
			continue;
		rc = pid ? fetch(&w, thread, pid, &found) :
		    lookup(&w, msg, &found);
		out = NULL;
		if (rc == -2) {
			out_emit(s, msg, AUTH);
			continue;
		} else if (rc < 0) {
			out_emit(s, msg, TEMPORARY);
			continue;
		}
		if (rc == 1) {
			json_int_t code = json_integer_value(
			    json_object_get(found, "error_code"));
			const char *st = record_str(found, "status");

			/* null clears the error of the unknown outcome */
			err = code ? out_error(http_taxonomy(0, code), code,
			    record_str(found, "error_message")) : json_null();
			rc = inbox_sent(&s->ib, thread, id, "twilio",
			    record_str(found, "sid"), st ? st : "queued", err,
			    &out, &e);
			json_decref(err);
			json_decref(found);
		} else if (pid) {
			/* It was taken: it is not "not sent", only gone. */
			diag_warn("%s: %s: the provider no longer has it",
			    thread, pid);
			err = out_error("not_found", 20404, "the provider no "
			    "longer has this message");
			rc = inbox_sent(&s->ib, thread, id, NULL, NULL,
			    record_str(msg, "status"), err, &out, &e);
			json_decref(err);
		} else if (!young) {
			err = out_error("not_sent", 0, "the provider has no "
			    "such message");
			rc = inbox_sent(&s->ib, thread, id, NULL, NULL,
			    "failed", err, &out, &e);
			json_decref(err);
		} else {
			/* Too young to tell: it may be on its way. */
			out_emit(s, msg, TEMPORARY);
			continue;
		}
		if (rc < 0) {
			diag_warn("%s: %s", thread, e.msg);
			out_emit(s, msg, TEMPORARY);
			continue;
		}
		json_object_del(out, "status_at");
		out_emit(s, out, out_classify(out));
		json_decref(out);
	}
	worker_free(&w);
	json_decref(box);
}

/* --- Setup ------------------------------------------------------------- */

static long
number(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		diag_die(EXIT_USAGE, "%s: '%s' is not a number from %ld to "
		    "%ld", opt, arg, min, max);
	return v;
}

/* "N/s", "N/m" or a bare N (a second). */
static double
parse_rate(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v > 0) || v > 100000)
		goto bad;
	if (*end == '\0' || strcmp(end, "/s") == 0)
		return v;
	if (strcmp(end, "/m") == 0)
		return v / 60;
	if (strcmp(end, "/h") == 0)
		return v / 3600;
bad:
	diag_die(EXIT_USAGE, "--rate: '%s' is not N/s, N/m or N/h", arg);
}

/* Credentials and sender; a missing one is EXIT_CONFIG. */
static void
load_provider(struct send *s, const struct config *cfg, const char *from,
    const char *service, int need)
{
	struct cred *cr = &s->cr;
	const char *prov = config_pick(cfg, NULL, "SMSDESK_PROVIDER",
	    "provider", "twilio");
	const char *token, *key, *secret, *pub;

	if (strcmp(prov, "twilio") != 0)
		diag_die(EXIT_CONFIG, "provider '%s': sms-send speaks only "
		    "twilio so far", prov);
	cr->account = config_pick(cfg, NULL, "TWILIO_ACCOUNT_SID",
	    "twilio_account_sid", NULL);
	token = config_pick(cfg, NULL, "TWILIO_AUTH_TOKEN",
	    "twilio_auth_token", NULL);
	key = config_pick(cfg, NULL, "TWILIO_API_KEY", "twilio_api_key",
	    NULL);
	secret = config_pick(cfg, NULL, "TWILIO_API_SECRET",
	    "twilio_api_secret", NULL);
	cr->from = config_pick(cfg, from, "TWILIO_FROM", "from", NULL);
	cr->service = config_pick(cfg, service,
	    "TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid",
	    NULL);
	if (service)
		cr->from = from;	/* the flag says which */
	if (cr->from && !*cr->from)
		cr->from = NULL;
	if (cr->service && !*cr->service)
		cr->service = NULL;
	if (cr->from && cr->service)
		cr->service = NULL;
	cr->base = config_pick(cfg, NULL, "TWILIO_API_URL", "twilio_api_url",
	    TWILIO_URL);
	if (key && *key && secret && *secret) {
		cr->user = key;
		cr->pass = secret;
	} else {
		cr->user = cr->account;
		cr->pass = token;
	}
	pub = config_pick(cfg, NULL, "SMSDESK_PUBLIC_URL", "public_url",
	    NULL);
	if (pub && *pub) {
		size_t n = strlen(pub);

		if (!(cr->callback = malloc(n + 8)))
			send_nomem();
		snprintf(cr->callback, n + 8, "%.*s/twilio",
		    (int)(n && pub[n - 1] == '/' ? n - 1 : n), pub);
	}
	if (!need)
		return;
	if (!cr->account || !*cr->account)
		diag_die(EXIT_CONFIG, "no Twilio account: set "
		    "TWILIO_ACCOUNT_SID, or twilio_account_sid in the config");
	if (!cr->pass || !*cr->pass)
		diag_die(EXIT_CONFIG, "no Twilio credentials: set "
		    "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
		    "TWILIO_API_SECRET), or twilio_auth_token in the config");
	if (!cr->from && !cr->service)
		diag_die(EXIT_CONFIG, "no sender: give --from or "
		    "--messaging-service, or set TWILIO_FROM, or from in the "
		    "config");
}

/* A --quiet-hours mode: 'd', 'r', or 0 for off; -1 if none of them. */
static int
quiet_mode(const char *mode)
{
	if (strcmp(mode, "defer") == 0)
		return 'd';
	if (strcmp(mode, "refuse") == 0)
		return 'r';
	if (strcmp(mode, "off") == 0)
		return 0;
	return -1;
}

/* Quiet hours: the flag's mode, else the config's; and the window. */
static void
load_quiet(struct send *s, const struct config *cfg, const char *flag)
{
	const char *mode = config_pick(cfg, flag, NULL, "quiet_hours_mode",
	    "off");
	struct errbuf e;

	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	if ((s->quiet = quiet_mode(mode)) < 0)
		diag_die(EXIT_CONFIG, "config: quiet_hours_mode: '%s' is not "
		    "defer, refuse or off", mode);
	s->quiet_spec = config_pick(cfg, NULL, NULL, "quiet_hours",
	    "21:00-08:00");
	if (hours_window_parse(&s->qwin, s->quiet_spec, &e) < 0)
		diag_die(EXIT_CONFIG, "config: quiet_hours: %s", e.msg);
	if (!s->quiet)
		return;
	if (!(s->tzdb = tzdb_new(NULL)))
		send_nomem();
	if (!tzdb_get(s->tzdb, "America/New_York", &e))
		diag_die(EXIT_CONFIG, "quiet hours need the time zone "
		    "database (Debian's tzdata): %s", e.msg);
}

/* All of stdin as a body, less one final newline. */
static char *
read_body(void)
{
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(stdin))
		diag_die(EXIT_IOERR, "stdin: %s", strerror(errno));
	if (b.len && b.p[b.len - 1] == '\n')
		b.len--;
	buf_addc(&b, '\0');
	if (b.err)
		send_nomem();
	if (strlen(b.p) != b.len - 1)
		diag_die(EXIT_DATAERR, "stdin: the body holds a NUL byte");
	return b.p;
}

static int
exit_code(const struct send *s)
{
	if (s->auth)
		return EXIT_NOPERM;
	if (s->nperm || s->ret == EXIT_PARTIAL)
		return s->ret > EXIT_PARTIAL ? s->ret : EXIT_PARTIAL;
	if (s->ret)
		return s->ret;
	if (s->ntemp)
		return EXIT_TEMPFAIL;
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_RECONCILE = 256 };
	static const struct option longopts[] = {
		{ "thread", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ "messaging-service", required_argument, NULL, 'M' },
		{ "max-segments", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet-hours", optional_argument, NULL, 'Q' },
		{ "retries", required_argument, NULL, 'R' },
		{ "rate", required_argument, NULL, 'r' },
		{ "reconcile", no_argument, NULL, OPT_RECONCILE },
		{ "template", required_argument, NULL, 'T' },
		{ "to", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct send s = { .max_segments = 4, .retries = 3, .jobs = 1,
		.json = -1, .grace = GRACE,
		.lock = PTHREAD_MUTEX_INITIALIZER };
	const char *dir = NULL, *from = NULL, *service = NULL, *to = NULL;
	const char *g, *quiet = NULL;
	struct config *cfg;
	struct errbuf e;
	struct winsize ws;
	int c, err, rec = 0;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:d:f:hj:k:M:m:nQ::R:r:T:t:V",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 't':
			if (to)
				diag_die(EXIT_USAGE, "give one of --to and "
				    "--thread");
			to = optarg;
			s.reply = c == 'c';
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
			s.jobs = number("--jobs", optarg, 1, 256);
			break;
		case 'k':
			if (!*optarg || strchr(optarg, '/'))
				diag_die(EXIT_USAGE, "--key: '%s' cannot be a "
				    "key", optarg);
			s.key = optarg;
			break;
		case 'M':
			service = optarg;
			break;
		case 'm':
			s.max_segments = number("--max-segments", optarg, 1,
			    GSM_MAX_PARTS);
			break;
		case 'n':
			s.dry_run = 1;
			break;
		case 'Q':
			quiet = optarg ? optarg : "defer";
			if (quiet_mode(quiet) < 0)
				diag_die(EXIT_USAGE, "--quiet-hours: '%s' is "
				    "not defer, refuse or off", quiet);
			break;
		case 'R':
			s.retries = number("--retries", optarg, 0, 100);
			break;
		case 'r':
			s.rate = parse_rate(optarg);
			break;
		case OPT_RECONCILE:
			rec = 1;
			break;
		case 'T':
			s.tmpl = optarg;
			break;
		case 'V':
			printf("sms-send (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (from && service)
		diag_die(EXIT_USAGE, "--from and --messaging-service exclude "
		    "each other");
	if (rec && (to || s.tmpl || s.dry_run || argc))
		diag_die(EXIT_USAGE, "--reconcile takes no message");
	if (to && s.tmpl)
		diag_die(EXIT_USAGE, "--template fills records: it excludes "
		    "--%s", s.reply ? "thread" : "to");
	if (argc > (to ? 1 : 0))
		usage(stderr, EXIT_USAGE);
	if (from && !*from)
		diag_die(EXIT_USAGE, "--from: empty");
	if (service && strncmp(service, "MG", 2) != 0)
		diag_die(EXIT_USAGE, "--messaging-service: '%s' is not an MG "
		    "SID", service);

	if (!(cfg = config_new()))
		send_nomem();
	if (config_load_default(cfg, dir ? dir : getenv("SMSDESK_INBOX"),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	s.country = config_pick(cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (s.country && *s.country && !phone_region_code(s.country))
		diag_die(EXIT_CONFIG, "country: '%s' is not an ISO 3166 "
		    "region", s.country);
	s.agent = config_pick(cfg, NULL, "SMSDESK_AGENT", "agent", NULL);
	if (s.agent && !*s.agent)
		s.agent = NULL;
	if ((g = getenv("SMSDESK_RECONCILE_GRACE")) && *g)
		s.grace = number("SMSDESK_RECONCILE_GRACE", g, 0, 86400 * 30);
	load_quiet(&s, cfg, quiet);
	load_provider(&s, cfg, from, service, !s.dry_run);
	if (s.dry_run && !(s.prices = price_table_new(cfg,
	    config_pick(cfg, NULL, "SMSDESK_PRICE", "price", NULL),
	    config_pick(cfg, NULL, "SMSDESK_PRICE_UNIT", "price_unit", "USD"),
	    &e)))
		diag_die(errno == ENOMEM ? EXIT_IOERR : EXIT_CONFIG, "%s",
		    e.msg);

	/* The inbox: made if missing, except for a dry run. */
	if (inbox_open(&s.ib, dir, !s.dry_run, &e) < 0) {
		err = errno;
		inbox_close(&s.ib);
		if (!s.dry_run || err != ENOENT)
			diag_die(err == ENOENT ? EXIT_NOINPUT : err == EACCES ?
			    EXIT_NOPERM : EXIT_IOERR, "%s", e.msg);
	} else {
		s.have_inbox = 1;
	}
	s.ib.report = report;
	/* What a crash left in a journal (a listener's, a sender's) first. */
	if (s.have_inbox && !s.dry_run && inbox_recover(&s.ib, NULL, &e) < 0)
		diag_die(EXIT_IOERR, "%s", e.msg);
	if (s.json < 0)
		s.json = !isatty(STDOUT_FILENO);
	if (s.json && setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	s.progress = isatty(STDERR_FILENO);
	s.screen = s.progress && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_row > 0 ? ws.ws_row : 24;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		diag_die(EXIT_IOERR, "cannot start libcurl");

	if (rec) {
		reconcile(&s);
	} else if (to) {
		struct worker w;
		char *body = argc ? strdup(argv[0]) : read_body();
		json_t *r = json_pack("{s:s,s:s}", s.reply ? "thread" : "to",
		    to, "body", body ? body : "");

		if (!body || !r)
			send_nomem();
		if (s.key)
			json_object_set_new(r, "key", json_string(s.key));
		worker_init(&w, &s, 1, W_CURL | W_GSM);
		send_one(&w, r, s.reply ? "--thread" : "--to");
		worker_free(&w);
		free(body);
	} else {
		s.progress = s.progress && !s.dry_run;
		/*
		 * Many messages: each is made durable as queued by one line
		 * in a journal, whose syncs the workers share, and the files
		 * are synced together at checkpoints. One message keeps the
		 * file-by-file order, which costs it less.
		 */
		if (s.have_inbox && !s.dry_run && inbox_journal_start(&s.ib,
		    &e) < 0)
			diag_die(EXIT_IOERR, "%s", e.msg);
		workers_from_records(&s);
		/* Failed, what was queued stays durable in the journal. */
		if (s.ib.journal && inbox_journal_stop(&s.ib, &e) < 0)
			diag_warn("%s; the journal is kept for the next run",
			    e.msg);
	}
	if (s.progress && s.done > (unsigned long)s.screen)
		fputs("\r\033[K", stderr);
	if (s.dry_run && s.dry_n)
		out_dry_summary(&s);
	if (s.auth)
		diag_warn("the provider rejected the credentials; stopped");
	curl_global_cleanup();
	tzdb_free(s.tzdb);
	free(s.cr.callback);
	price_table_free(s.prices);
	config_free(cfg);
	if (s.have_inbox)
		inbox_close(&s.ib);
	if (s.out_errno)
		errno = s.out_errno;
	return diag_close_stdout(exit_code(&s));
}
