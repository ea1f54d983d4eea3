/*
 * sms-send: send text messages through the provider, sms-send(1).
 *
 * One message from the command line (--to or --thread, the body as an
 * argument or all of stdin), or one per NDJSON record on stdin. Each goes
 * through the same steps: the number is normalised, the body analysed
 * (refused over what the provider takes), the consent ledger checked
 * (an opted-out number gets no request at all), and then, so that a send
 * is never lost nor blindly repeated (smsdesk(7), GUARANTEES), the
 * message is stored in its conversation as "queued", and put in outbox/,
 * before the provider hears of it. The answer settles it: the provider's
 * id and status, or an error mapped to the taxonomy of DESIGN section 5.
 * Only answers that prove the request was not processed are retried;
 * anything that may have been sent is "unknown" and left to --reconcile,
 * which asks the provider, and is never sent again by itself.
 *
 * --jobs N keeps N requests in flight, from one thread on libcurl's multi
 * interface, each on a kept-alive connection; other threads check and
 * store the next messages and settle the answered ones meanwhile (see
 * lib/send/workers.c and multi.c). --rate N/s takes one slot per request
 * from a file in the inbox (rate/SENDER, under flock), so several
 * processes sharing an inbox share the rate too.
 *
 * A message given a time (--at, --in, a record's "at") is stored as
 * "scheduled" instead, and sent by a later --due run, which claims each
 * one whose time has come under its thread's lock and sends it through
 * the same steps (lib/send/schedule.c); --cancel and --reschedule change
 * them.
 *
 * This file reads the options, sets the run up from the configuration
 * (lib/send/setup.c, shared with csat-survey(1)), and starts the run;
 * output.c writes each message's record and the counts. The steps are the
 * toolkit's one sending path, in lib/send/ (declared in lib/send.h):
 * prepare.c (a record checked and stored as queued), multi.c (the
 * requests, many in flight, their retries), send.c (the checks before
 * each request, the answer settled), http.c (an exchange with the
 * provider), rate.c, result.c (how a message ended), workers.c and
 * queue.c (the threads), reconcile.c.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "gsm.h"
#include "inbox.h"
#include "limit.h"
#include "phone.h"
#include "provider.h"
#include "thread.h"
#include "when.h"
#include "utf8.h"
#include "send.h"
#include "sms-send/output.h"

#define USAGE "usage: sms-send [-hnV] [-a NAME] [-d DIR] [-f FROM] [-k KEY] " \
	"[-M SID] [-Q[MODE]]\n" \
	"                [-R N] " \
	"[-r N/s] [--jobs N] [--max-segments N] [--media FILE | URL]\n" \
	"                [--purpose PURPOSE] [--subject SUBJECT]\n" \
	"                [--channel CHANNEL] [--content-sid SID]" \
	" [--content-variables JSON]\n" \
	"                [--reconcile] [--template TEMPLATE]\n" \
	"                [--timeout SECONDS] [--at TIME | --in DURATION]" \
	" [--expire WHEN]\n" \
	"                [-c NUMBER | --to NUMBER] [BODY]\n" \
	"       sms-send --due [-d DIR] [-Q[MODE]] [-r N/s] [--jobs N]\n" \
	"       sms-send --cancel [-d DIR] [--id MSGID | -c NUMBER | " \
	"-k KEY]\n" \
	"       sms-send --reschedule --at TIME | --in DURATION " \
	"[--expire WHEN] [-d DIR]\n" \
	"                [--id MSGID | -c NUMBER | -k KEY]\n"

#define KEY_MAX (LIMIT_KEY - 21)	/* --key, then "-" and a line number */
#define GRACE 300		/* seconds before a message the provider
				 * does not know is declared not sent */

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --at TIME          send at TIME (RFC 3339), not "
		    "now: store it scheduled\n"
		    "  -a, --agent NAME       the agent who sends: a reply "
		    "claims an unowned\n"
		    "                         conversation for NAME "
		    "(default: $SMSDESK_AGENT)\n"
		    "      --cancel           cancel scheduled messages "
		    "(--id, --thread, --key or\n"
		    "                         records on stdin)\n"
		    "  -c, --thread NUMBER    reply in the conversation with "
		    "NUMBER\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "      --due              send the scheduled messages "
		    "whose time has come\n"
		    "      --expire WHEN      a scheduled message not sent by "
		    "WHEN (a time, or a\n"
		    "                         duration after its time) is "
		    "canceled (default 24h)\n"
		    "  -f, --from FROM        our number (default: the "
		    "provider's, config from)\n"
		    "  -h, --help             print this help and exit\n"
		    "      --id MSGID         --cancel or --reschedule the "
		    "message MSGID\n"
		    "      --in DURATION      send in DURATION (as 1h30m), "
		    "not now\n"
		    "      --jobs N           send N requests at a time "
		    "(default 1)\n"
		    "  -k, --key KEY          idempotency key: a run with the "
		    "same key sends once\n"
		    "  -M, --messaging-service SID  send from a Messaging "
		    "Service instead\n"
		    "      --max-segments N   warn above N segments "
		    "(default 4)\n"
		    "      --media FILE|URL   send a picture (MMS); "
		    "repeatable\n"
		    "  -n, --dry-run          print what would be sent; send "
		    "nothing\n"
		    "      --purpose PURPOSE  reply, notification or "
		    "marketing (default: reply\n"
		    "                         with --thread, else "
		    "marketing)\n"
		    "  -Q, --quiet-hours[=MODE]  nothing in the recipient's "
		    "quiet hours\n"
		    "                         (21:00-08:00): defer (default), "
		    "refuse or off\n"
		    "  -R, --retries N        retry a throttled request N "
		    "times (default 3)\n"
		    "  -r, --rate N/s         at most N requests a second "
		    "from this sender\n"
		    "      --channel CHANNEL  sms or whatsapp (default: the "
		    "conversation's last)\n"
		    "      --content-sid SID  a WhatsApp template, by its "
		    "content SID\n"
		    "      --content-variables JSON  the template's "
		    "variables\n"
		    "      --reconcile        settle unknown and queued "
		    "messages with the provider\n"
		    "      --reschedule       move scheduled messages to --at "
		    "or --in\n"
		    "      --template TEXT    the body, {field} filled from "
		    "each record\n"
		    "      --timeout SECONDS  give up on a request after "
		    "SECONDS (default 60)\n"
		    "      --to NUMBER        send to NUMBER\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWithout --to or --thread, sends one message per NDJSON "
		    "record on stdin\n(\"to\" or \"thread\", \"body\", "
		    "optional \"key\", \"purpose\", \"media\", \"at\", "
		    "\"expire\").\n", fp);
	exit(code);
}

/* The sending path cannot go on (out of memory): say so, exit 74. */
static void
on_fatal(const char *msg)
{
	diag_die(EXIT_IOERR, "%s", msg);
}

/* The sending path's diagnostics, under this program's name. */
static void
on_warn(struct send *s, const char *line)
{
	(void)s;
	diag_warn("%s", line);
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

/*
 * An argument that goes into a record (jansson takes only UTF-8): one that
 * is not UTF-8 is a usage error, said with its option, not a message sent
 * without it.
 */
static void
check_utf8(const char *opt, const char *arg)
{
	size_t n;

	if (arg && (n = utf8_valid_prefix(arg, strlen(arg))) != strlen(arg))
		diag_die(EXIT_USAGE, "%s: not UTF-8 (at byte %zu)", opt, n);
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
	if ((n = utf8_valid_prefix(b.p, b.len - 1)) != b.len - 1)
		diag_die(EXIT_DATAERR, "stdin: the body is not UTF-8 (at byte "
		    "%zu)", n);
	return b.p;
}

/*
 * The message of the command line, checked before anything is done: its
 * number (a usage error if it is none) and its body, the argument or else
 * stdin (said so on a terminal; an empty one is a usage error). Returns the
 * body, to free.
 */
static char *
one_message(const struct send *s, const char *to, const char *arg,
    int media)
{
	const char *opt = s->reply ? "--thread" : "--to";
	char num[PHONE_MAX], *body;
	struct errbuf e;

	if (*to == '@')
		diag_die(EXIT_USAGE, "%s: %s: a sender's thread (a short "
		    "code or a name) is never texted", opt, to);
	if (phone_normalize(to, s->country, num, &e) < 0)
		diag_die(EXIT_USAGE, "%s: %s: %s", opt, to, e.msg);
	/* A picture may go alone, a template has its own text: then no
	 * text is read. */
	if (!arg && (media || s->content_sid))
		arg = "";
	if (!arg)
		diag_stdin_note("the text");
	if (!(body = arg ? strdup(arg) : read_body()))
		send_nomem();
	if (!*body && !media && !s->content_sid)
		diag_die(EXIT_USAGE, "%s: no text: give it after the number "
		    "or on stdin", opt);
	if (utf8_valid_prefix(body, strlen(body)) != strlen(body))
		diag_die(EXIT_USAGE, "%s: the text is not UTF-8", opt);
	return body;
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
	enum { OPT_JOBS = 256, OPT_MAX_SEGMENTS, OPT_RECONCILE, OPT_TEMPLATE,
		OPT_TIMEOUT, OPT_TO, OPT_PURPOSE, OPT_MEDIA, OPT_AT, OPT_IN,
		OPT_EXPIRE, OPT_DUE, OPT_CANCEL, OPT_RESCHEDULE, OPT_ID,
		OPT_SUBJECT, OPT_CHANNEL, OPT_CONTENT_SID, OPT_CONTENT_VARS };
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "at", required_argument, NULL, OPT_AT },
		{ "cancel", no_argument, NULL, OPT_CANCEL },
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "content-sid", required_argument, NULL, OPT_CONTENT_SID },
		{ "content-variables", required_argument, NULL,
		    OPT_CONTENT_VARS },
		{ "due", no_argument, NULL, OPT_DUE },
		{ "expire", required_argument, NULL, OPT_EXPIRE },
		{ "id", required_argument, NULL, OPT_ID },
		{ "in", required_argument, NULL, OPT_IN },
		{ "reschedule", no_argument, NULL, OPT_RESCHEDULE },
		{ "thread", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "key", required_argument, NULL, 'k' },
		{ "messaging-service", required_argument, NULL, 'M' },
		{ "max-segments", required_argument, NULL, OPT_MAX_SEGMENTS },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "quiet-hours", optional_argument, NULL, 'Q' },
		{ "retries", required_argument, NULL, 'R' },
		{ "subject", required_argument, NULL, OPT_SUBJECT },
		{ "rate", required_argument, NULL, 'r' },
		{ "reconcile", no_argument, NULL, OPT_RECONCILE },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "to", required_argument, NULL, OPT_TO },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct send s = { .max_segments = 4, .retries = 3, .jobs = 1,
		.timeout = 60,
		.json = -1, .grace = GRACE,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.on_end = out_emit, .on_warn = on_warn };
	const char *dir = NULL, *from = NULL, *service = NULL, *to = NULL;
	const char *agent = NULL, *at = NULL, *in = NULL, *id = NULL;
	char *body = NULL, num[THREAD_MAX];
	int due = 0, cancel = 0, resched = 0;
	long long secs;
	const char *g, *quiet = NULL;
	struct config *cfg;
	struct errbuf e;
	struct winsize ws;
	int c, rc, rec = 0;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "a:c:d:f:hk:M:nQ::R:r:V",
	    longopts, NULL)) != -1) {
		switch (c) {
		case OPT_AT:
			at = optarg;
			break;
		case OPT_IN:
			in = optarg;
			break;
		case OPT_EXPIRE:
			check_utf8("--expire", optarg);
			s.expire = optarg;
			break;
		case OPT_DUE:
			due = 1;
			break;
		case OPT_CANCEL:
			cancel = 1;
			break;
		case OPT_RESCHEDULE:
			resched = 1;
			break;
		case OPT_ID:
			if (!*optarg || strchr(optarg, '/') || *optarg == '.')
				diag_die(EXIT_USAGE, "--id: '%s' is no "
				    "message id", optarg);
			check_utf8("--id", optarg);
			id = optarg;
			break;
		case 'a':
			if (!*optarg || limit_text("--agent", strlen(optarg),
			    LIMIT_NAME, &e) < 0)
				diag_die(EXIT_USAGE, "%s", *optarg ? e.msg :
				    "--agent: empty");
			agent = optarg;
			break;
		case 'c':
		case OPT_TO:
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
		case OPT_JOBS:
			s.jobs = number("--jobs", optarg, 1, 256);
			break;
		case 'k':
			if (!*optarg || strchr(optarg, '/'))
				diag_die(EXIT_USAGE, "--key: '%s' cannot be a "
				    "key", optarg);
			/* Room for "-LINE" after it (limit.h). */
			if (limit_text("--key", strlen(optarg), KEY_MAX,
			    &e) < 0)
				diag_die(EXIT_USAGE, "%s", e.msg);
			s.key = optarg;
			break;
		case 'M':
			service = optarg;
			break;
		case OPT_MAX_SEGMENTS:
			s.max_segments = number("--max-segments", optarg, 1,
			    GSM_MAX_PARTS);
			break;
		case OPT_MEDIA:
			check_utf8("--media", optarg);
			if (!*optarg)
				diag_die(EXIT_USAGE, "--media: empty");
			if (!s.media && !(s.media = json_array()))
				send_nomem();
			if (json_array_append_new(s.media,
			    json_string(optarg)) < 0)
				send_nomem();
			break;
		case 'n':
			s.dry_run = 1;
			break;
		case OPT_PURPOSE:
			if (!inbox_purpose_valid(optarg))
				diag_die(EXIT_USAGE, "--purpose: '%s' is not "
				    "reply, notification or marketing",
				    optarg);
			s.purpose = optarg;
			break;
		case OPT_CHANNEL:
			if (strcmp(optarg, "sms") != 0 &&
			    strcmp(optarg, "whatsapp") != 0)
				diag_die(EXIT_USAGE, "--channel: '%s' is not "
				    "sms or whatsapp", optarg);
			s.channel = optarg;
			break;
		case OPT_CONTENT_SID:
			if (strncmp(optarg, "HX", 2) != 0 ||
			    strlen(optarg) != 34 || strspn(optarg + 2,
			    "0123456789abcdef") != 32)
				diag_die(EXIT_USAGE, "--content-sid: '%s' is "
				    "not a content SID (HX and 32 hex "
				    "digits)", optarg);
			s.content_sid = optarg;
			break;
		case OPT_CONTENT_VARS: {
			json_t *v = json_loads(optarg, 0, NULL);

			if (!json_is_object(v))
				diag_die(EXIT_USAGE, "--content-variables: "
				    "not a JSON object");
			json_decref(v);
			s.content_vars = optarg;
			break;
		}
		case OPT_SUBJECT:
			if (!*optarg || strlen(optarg) > 200)
				diag_die(EXIT_USAGE, "--subject: 1 to 200 "
				    "bytes");
			s.subject = optarg;
			break;
		case 'Q':
			quiet = optarg ? optarg : "defer";
			if (send_quiet_mode(quiet) < 0)
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
		case OPT_TEMPLATE:
			s.tmpl = optarg;
			break;
		case OPT_TIMEOUT:
			s.timeout = number("--timeout", optarg, 1, 3600);
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
	if (rec && (to || s.tmpl || s.dry_run || argc || s.media))
		diag_die(EXIT_USAGE, "--reconcile takes no message");
	if (to && s.tmpl)
		diag_die(EXIT_USAGE, "--template fills records: it excludes "
		    "--%s", s.reply ? "thread" : "to");
	if (s.tmpl && template_check(s.tmpl, &e) < 0)
		diag_die(EXIT_USAGE, "--template: %s", e.msg);
	if (s.key && send_key_templated(s.key) && template_check(s.key,
	    &e) < 0)
		diag_die(EXIT_USAGE, "--key: %s", e.msg);
	if (argc > (to ? 1 : 0))
		usage(stderr, EXIT_USAGE);
	if (rec && s.purpose)
		diag_die(EXIT_USAGE, "--reconcile takes no --purpose");
	if (due + cancel + resched + rec > 1)
		diag_die(EXIT_USAGE, "give one of --due, --cancel, "
		    "--reschedule and --reconcile");
	if (at && in)
		diag_die(EXIT_USAGE, "give one of --at and --in");
	if (at && when_parse(at, &s.send_at, &e) < 0)
		diag_die(EXIT_USAGE, "--at: %s", e.msg);
	if (in && when_duration(in, &secs, &e) < 0)
		diag_die(EXIT_USAGE, "--in: %s", e.msg);
	if (in)
		s.send_at = when_now() + (time_t)secs;
	if ((due || rec || cancel) && (at || in))
		diag_die(EXIT_USAGE, "--%s takes no --at or --in", due ? "due" :
		    rec ? "reconcile" : "cancel");
	if ((due || rec || cancel) && s.expire)
		diag_die(EXIT_USAGE, "--%s takes no --expire", due ? "due" :
		    rec ? "reconcile" : "cancel");
	if (s.expire && to && !cancel && !resched && !at && !in)
		diag_die(EXIT_USAGE, "--expire goes with --at or --in");
	if (resched && !at && !in)
		diag_die(EXIT_USAGE, "--reschedule: give the new time with "
		    "--at or --in");
	if (resched && s.send_at <= when_now())
		diag_die(EXIT_USAGE, "--reschedule: %s is not after now",
		    at ? at : in);
	if (id && !cancel && !resched)
		diag_die(EXIT_USAGE, "--id goes with --cancel or --reschedule");
	if (due && (to || s.tmpl || s.dry_run || argc || s.media || s.key))
		diag_die(EXIT_USAGE, "--due sends what is scheduled: it takes "
		    "no message, --key or --dry-run");
	if ((cancel || resched) && ((to && !s.reply) || s.tmpl ||
	    s.dry_run || argc || s.media))
		diag_die(EXIT_USAGE, "--%s changes scheduled messages: it "
		    "takes no message", cancel ? "cancel" : "reschedule");
	if ((cancel || resched) && s.key && strchr(s.key, '{'))
		diag_die(EXIT_USAGE, "--%s: --key chooses by a key, not a "
		    "template", cancel ? "cancel" : "reschedule");
	/*
	 * Only a person answering is a reply (sms-record(5)): --thread is
	 * one; --to, and a run over records (a template filled from a
	 * listing, a script's notices), answer nobody unless told so.
	 */
	if (!s.purpose && to && s.reply)
		s.purpose = INBOX_REPLY;
	if (from && !*from)
		diag_die(EXIT_USAGE, "--from: empty");
	check_utf8("--from", from);
	check_utf8("--key", s.key);
	check_utf8("--messaging-service", service);
	check_utf8("--template", s.tmpl);
	check_utf8("--subject", s.subject);
	/* A template is WhatsApp's, outside its 24 hours. */
	if (s.content_vars && !s.content_sid)
		diag_die(EXIT_USAGE, "--content-variables goes with "
		    "--content-sid");
	if (s.content_sid && s.channel && strcmp(s.channel, "whatsapp") != 0)
		diag_die(EXIT_USAGE, "--content-sid is a WhatsApp template: "
		    "not with --channel %s", s.channel);
	if (s.content_sid)
		s.channel = "whatsapp";
	check_utf8(s.reply ? "--thread" : "--to", to);
	check_utf8("BODY", argc ? argv[0] : NULL);

	send_set_fatal(on_fatal);
	if ((rc = send_setup_config(&s, &cfg, dir, &e)) != 0)
		diag_die(rc, "%s", e.msg);
	/*
	 * A message nobody gave a purpose is marketing, the safe side of
	 * the rules (smsdesk-rules(5)), unless the configuration says what
	 * its unlabelled messages are (purpose, SMSDESK_PURPOSE).
	 */
	if (!s.purpose) {
		s.purpose = config_pick(cfg, NULL, "SMSDESK_PURPOSE", "purpose",
		    INBOX_MARKETING);
		if (!inbox_purpose_valid(s.purpose))
			diag_die(EXIT_CONFIG, "SMSDESK_PURPOSE or purpose: "
			    "'%s' is not reply, notification or marketing",
			    s.purpose);
	}
	if (to && (cancel || resched)) {
		if (thread_parse(to, s.country, num, &e) < 0)
			diag_die(EXIT_USAGE, "--thread: %s: %s", to, e.msg);
	} else if (to) {
		body = one_message(&s, to, argc ? argv[0] : NULL,
		    s.media != NULL);
	}
	s.agent = agent ? agent : config_pick(cfg, NULL, "SMSDESK_AGENT",
	    "agent", NULL);
	if (s.agent && !*s.agent)
		s.agent = NULL;
	if (s.agent && limit_text("agent", strlen(s.agent), LIMIT_NAME,
	    &e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_AGENT or agent: %s", e.msg);
	if ((g = getenv("SMSDESK_RECONCILE_GRACE")) && *g)
		s.grace = number("SMSDESK_RECONCILE_GRACE", g, 0, 86400 * 30);
	if ((rc = send_setup_quiet(&s, cfg, quiet, &e)) != 0 ||
	    (rc = send_setup_rules(&s, cfg, &e)) != 0 ||
	    (rc = send_setup_provider(&s, cfg, from, service, !s.dry_run,
	    &e)) != 0)
		diag_die(rc, "%s", e.msg);
	if ((rc = send_setup_prices(&s, cfg, &e)) != 0 ||
	    (rc = send_setup_media(&s, cfg, &e)) != 0 ||
	    (rc = send_setup_consent(&s, cfg, &e)) != 0)
		diag_die(rc, "%s", e.msg);
	/* The carriers' rules, for a run that sends. */
	if (!rec && !cancel && !resched &&
	    (rc = send_setup_carriers(&s, cfg, &e)) != 0)
		diag_die(rc, "%s", e.msg);

	/*
	 * The inbox: never made here, so that a mistyped -d or a cron job
	 * without SMSDESK_INBOX sends nothing past a consent ledger it
	 * cannot read (sms-recv makes an inbox: smsdesk-inbox(5)). A dry
	 * run goes on without one, checking no ledger.
	 */
	if ((rc = send_setup_inbox(&s, cfg, dir, &e)) != 0)
		diag_die(rc, "%s", e.msg);
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
		reconcile_outbox(&s);
	} else if (due) {
		send_due(&s);
	} else if (cancel || resched) {
		if (!id && !to && !s.key)
			diag_stdin_note("message records (NDJSON)");
		send_change_scheduled(&s, cancel, id, to ? num : NULL, s.key);
	} else if (to) {
		struct worker w;
		json_t *r = json_pack("{s:s,s:s}", s.reply ? "thread" : "to",
		    to, "body", body);

		if (!r)
			send_nomem();
		if (s.key && !send_key_templated(s.key))
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
		diag_stdin_note("records (NDJSON)");
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
	else if ((rec || !to) && !s.dry_run && isatty(STDERR_FILENO))
		out_summary(&s);
	if (s.auth)
		diag_warn("the provider rejected the credentials; stopped");
	curl_global_cleanup();
	rules_free(&s.rules);
	send_teardown(&s, cfg);
	json_decref(s.media);
	if (s.out_errno)
		errno = s.out_errno;
	return diag_close_stdout(exit_code(&s));
}
