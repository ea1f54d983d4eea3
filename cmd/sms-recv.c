/*
 * sms-recv: receive inbound texts and delivery reports, sms-recv(1).
 *
 * As a webhook listener (--listen) it serves POST /PROVIDER on GNU
 * libmicrohttpd: it reads the whole body (up to MAX_BODY), checks the
 * provider's signature against the configured public URL (never against
 * Host or forwarded headers), turns the request into a message or a status
 * report, stores it with inbox_deliver()/inbox_status(), and only then
 * answers 200. A request it cannot store gets 503, so the provider tries
 * again; the inbox ledger makes the retry harmless. Without --listen it
 * reads the same payloads from files or stdin (one webhook body, a form
 * or JSON, or one NDJSON message record per line) for imports and
 * replays.
 *
 * Each stored item is announced as an NDJSON event on stdout. stdout is a
 * courtesy: the inbox is the record, so a reader that goes away costs the
 * events, never a delivery.
 *
 * This file has the options and the configuration; the parts are in
 * cmd/sms-recv/, one a file, and sms-recv/sms-recv.h lists them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "hours.h"
#include "httpd.h"
#include "inbox.h"
#include "provider.h"
#include "tz.h"
#include "when.h"

#include "sms-recv/sms-recv.h"

#define USAGE "usage: sms-recv [-hiV] [-d DIR] [-l [ADDR:]PORT] " \
	"[-p PROVIDER]\n" \
	"                [--per-address N] [--public-url URL] " \
	"[--timeout SECONDS]\n" \
	"                [FILE ...]\n" \
	"       sms-recv --fetch-media [-d DIR] [-p PROVIDER] " \
	"[--max-age DURATION]\n" \
	"       sms-recv --poll PROVIDER [-d DIR] [--page-size N]\n" \
	"       sms-recv --spool DIR [-d DIR]\n"

/* The answer to HELP unless help_text says otherwise, after the name. */
#define HELP_TEXT "Text us here and we will answer. Msg frequency varies. " \
	"Msg&data rates may apply. Reply STOP to opt out."

static void
usage(FILE *fp, int code)
{
	const struct provider *p;

	fputs(USAGE, fp);
	if (fp != stdout)
		exit(code);
	fputs("\n"
	    "  -d, --dir DIR          the inbox (default $SMSDESK_INBOX)\n"
	    "      --fetch-media      fetch the media of messages that still "
	    "need it\n"
	    "                         (the history's last --max-age), and "
	    "exit\n"
	    "  -h, --help             print this help and exit\n"
	    "  -i, --insecure         listen without a signing secret "
	    "(testing only)\n"
	    "  -l, --listen [ADDR:]PORT  serve webhooks (ADDR defaults to "
	    "127.0.0.1)\n"
	    "      --per-address N    with --listen, at most N connections "
	    "from one\n"
	    "                         address (default 32; 0: no limit)\n"
	    "      --max-age DURATION with --fetch-media, how far back "
	    "(default 7d)\n"
	    "      --page-size N      with --poll, messages a page (default: "
	    "the\n"
	    "                         provider's largest)\n"
	    "      --poll PROVIDER    store what the provider lists since the "
	    "last poll,\n"
	    "                         and exit (for cron, without a public "
	    "URL)\n"
	    "      --spool DIR        read the spool of SMS Server Tools 3 "
	    "(smsd, a GSM\n"
	    "                         modem): settle what it sent, store "
	    "what came in,\n"
	    "                         and exit (for cron)\n"
	    "  -p, --provider NAME    ", fp);
	for (size_t i = 0; (p = provider_at(i)); i++)
		fprintf(fp, "%s%s%s", i ? ", " : "", p->name,
		    p == provider_default() ? " (default)" : "");
	fputs("\n"
	    "                         (with --listen, several: NAME,NAME or "
	    "-p again;\n"
	    "                         each on its own path)\n"
	    "      --public-url URL   the base URL the provider calls, for "
	    "signatures\n"
	    "      --timeout SECONDS  drop a connection idle this long "
	    "(default 10),\n"
	    "                         cut off headers taking this long, a "
	    "request\n"
	    "                         three times this\n"
	    "  -V, --version          print the version and exit\n"
	    "\nWithout --listen, reads payloads from FILEs or stdin: one "
	    "webhook body\n(a form, or JSON) or one NDJSON message record per "
	    "line.\n", fp);
	exit(code);
}

/*
 * The out-of-hours reply's settings, checked now so that a mistake stops
 * the listener at startup rather than passing silently at night.
 */
static void
load_hours(struct recv *r, const struct config *cfg)
{
	const char *bh = config_pick(cfg, NULL, NULL, "business_hours", NULL);
	const char *zone = config_pick(cfg, NULL, NULL, "timezone", NULL);
	struct errbuf e;

	r->away_text = config_pick(cfg, NULL, NULL, "away_text", NULL);
	if (r->away_text && !*r->away_text)
		r->away_text = NULL;
	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	if (bh && hours_parse(&r->hours, bh, &e) < 0)
		diag_die(EXIT_CONFIG, "config: business_hours: %s", e.msg);
	if (r->away_text && !bh)
		diag_die(EXIT_CONFIG, "config: away_text needs business_hours, "
		    "as in Mon-Fri 09:00-17:00");
	if (bh && !zone)
		diag_die(EXIT_CONFIG, "config: business_hours needs timezone, "
		    "an IANA name such as America/New_York");
	if (!zone)
		return;
	if (!(r->tzdb = tzdb_new(NULL)))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (!(r->zone = tzdb_get(r->tzdb, zone, &e)))
		diag_die(EXIT_CONFIG, "config: timezone: %s", e.msg);
}

/*
 * How media are fetched: the size cap media_max (bytes), and for each
 * feed its provider's credentials (for its own host only, lib/media.h);
 * the same for every provider known, for a message of a provider that is
 * no feed (--fetch-media goes through every provider's messages).
 */
static void
load_media(struct recv *r, const struct config *cfg)
{
	const char *max = config_pick(cfg, NULL, NULL, "media_max", NULL);
	const struct provider *list[PROVIDER_LIST_MAX];
	struct errbuf e;
	char *end;
	int nlist;

	r->media.max_bytes = MEDIA_MAX_DEFAULT;
	if (max) {
		errno = 0;
		r->media.max_bytes = strtoll(max, &end, 10);
		if (*max < '0' || *max > '9' || *end || errno ||
		    r->media.max_bytes <= 0)
			diag_die(EXIT_CONFIG, "config: media_max: '%s' is not "
			    "a number of bytes", max);
	}
	r->media.timeout = MEDIA_TIMEOUT_DEFAULT;
	for (const struct provider *pv; r->nknown < FEEDS_MAX &&
	    (pv = provider_at(r->nknown)) != NULL; r->nknown++)
		r->known[r->nknown].pv = pv;
	/* A provider after the first of a failover list has its own from. */
	nlist = provider_list(cfg, list, &e);
	for (size_t i = 0; i < r->nfeeds + r->nknown; i++) {
		struct feed *f = i < r->nfeeds ? &r->feed[i] :
		    &r->known[i - r->nfeeds];

		f->media = r->media;
		memset(&f->acct, 0, sizeof f->acct);
		f->acct.alt = nlist > 0 ? list[0] != f->pv : i > 0;
		if (f->pv->account && f->pv->account(&f->acct, cfg, NULL,
		    NULL, 0, &e) == 0) {
			f->media.user = f->acct.user;
			f->media.pass = f->acct.pass;
			f->media.auth_url = f->acct.base;
			f->media.media_url = f->acct.media_url;
		}
	}
	r->media = r->feed[0].media;
}

/*
 * The feeds of --provider (a comma-separated list, or PROVIDER given
 * again: each provider once), and each one's signing secret. With
 * listening, a secret of the wrong form, or none without insecure, ends
 * the run (exit 78).
 */
static void
load_feeds(struct recv *r, const struct config *cfg, const char *names,
    int listening, int insecure)
{
	const char *p = names;
	struct errbuf e;

	while (*p) {
		size_t n = strcspn(p, ", ");
		char name[32];
		const struct provider *pv;
		struct feed *f;

		if (n == 0 || n >= sizeof name) {
			if (n == 0) {
				p++;
				continue;
			}
			diag_die(EXIT_CONFIG, "unknown provider '%.*s'",
			    (int)n, p);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (!(pv = provider_find(name)))
			diag_die(EXIT_CONFIG, "unknown provider '%s'", name);
		for (size_t i = 0; i < r->nfeeds; i++)
			if (r->feed[i].pv == pv)
				diag_die(EXIT_USAGE, "--provider: '%s' twice",
				    name);
		if (r->nfeeds == FEEDS_MAX)
			diag_die(EXIT_USAGE, "--provider: more than %d",
			    FEEDS_MAX);
		f = &r->feed[r->nfeeds++];
		f->pv = pv;
		/* Where the provider keeps its signing secret. */
		f->secret = pv->secret_key ? config_pick(cfg, NULL,
		    pv->secret_env, pv->secret_key, NULL) : NULL;
		if (f->secret && !*f->secret)
			f->secret = NULL;
		/* Which of its signature methods the provider signs with. */
		if (pv->sig_method_key)
			f->sig_method = config_pick(cfg, NULL,
			    pv->sig_method_env, pv->sig_method_key, NULL);
		if (listening && f->secret && pv->secret_ok &&
		    pv->secret_ok(f->secret, &e) < 0)
			diag_die(EXIT_CONFIG, "%s%s%s: %s", pv->secret_env ?
			    pv->secret_env : "", pv->secret_env ? " or " : "",
			    pv->secret_key, e.msg);
		if (listening && !f->secret && !insecure && pv->verify)
			diag_die(EXIT_CONFIG, "no signing secret for %s: set "
			    "%s%s%s in the config, or give --insecure to "
			    "accept unsigned requests", pv->name,
			    pv->secret_env ? pv->secret_env : "",
			    pv->secret_env ? " or " : "", pv->secret_key);
		if (insecure)
			f->secret = NULL;
	}
	if (r->nfeeds == 0)
		diag_die(EXIT_CONFIG, "--provider: no provider named");
	r->pv = r->feed[0].pv;
	r->secret = r->feed[0].secret;
}

/*
 * The inbox could not be written at start (errno says why): 77 if it is
 * read-only or not ours to write, as sms-recv(1) says, else the code
 * diag_exit_for() gives every program.
 */
static void
die_unwritable(const struct errbuf *e)
{
	int code = diag_exit_for(errno);

	if (code == EXIT_NOPERM)
		diag_die(code, "%s (the inbox must be writable)", e->msg);
	diag_die(code, "%s", e->msg);
}

static void
report(void *arg, const char *msg)
{
	struct recv *r = arg;

	diag_warn("%s", msg);
	r->ret = EXIT_PARTIAL;
}

/*
 * The value of option opt, a number from lo to hi, or a usage error that
 * says so (unit after the range). Never wraps: 2^32 is not 0.
 */
static unsigned
opt_number(const char *opt, const char *arg, unsigned lo, unsigned hi,
    const char *unit)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || n < lo || n > hi)
		diag_die(EXIT_USAGE, "%s: '%s' is not %u to %u%s", opt, arg,
		    lo, hi, unit);
	return (unsigned)n;
}

int
main(int argc, char **argv)
{
	enum { OPT_PER_ADDRESS = 256, OPT_PUBLIC_URL, OPT_TIMEOUT,
		OPT_FETCH_MEDIA, OPT_MAX_AGE, OPT_POLL, OPT_PAGE_SIZE,
		OPT_SPOOL };
	static const struct option longopts[] = {
		{ "fetch-media", no_argument, NULL, OPT_FETCH_MEDIA },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "per-address", required_argument, NULL, OPT_PER_ADDRESS },
		{ "poll", required_argument, NULL, OPT_POLL },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "insecure", no_argument, NULL, 'i' },
		{ "listen", required_argument, NULL, 'l' },
		{ "provider", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "public-url", required_argument, NULL, OPT_PUBLIC_URL },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct recv r = { .ev = { .lock = PTHREAD_MUTEX_INITIALIZER,
		.ready = PTHREAD_COND_INITIALIZER } };
	const char *dir = NULL, *listen_arg = NULL, *pname = NULL;
	char plist[256], pbuf[256];
	const char *url = NULL, *poll_arg = NULL, *spool_arg = NULL;
	unsigned page_size = 0;
	struct config *cfg;
	struct sockaddr_storage sin;
	char addr[INET6_ADDRSTRLEN + 2];
	FILE **files = NULL;
	char *ipath;
	struct errbuf e;
	unsigned timeout = 10, per_address = PER_ADDRESS;
	int c, insecure = 0, fetch_media = 0;
	long long max_age = 7 * 86400;
	size_t swept, replayed;
	char *help = NULL;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "d:hil:p:V", longopts,
	    NULL)) != -1) {
		switch (c) {
		case OPT_PER_ADDRESS:
			per_address = opt_number("--per-address", optarg, 0,
			    MAX_CONNECTIONS, "");
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'i':
			insecure = 1;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'p':
			/* Given again: one more (load_feeds() splits). */
			if (pname && (size_t)snprintf(plist, sizeof plist,
			    "%s,%s", pname, optarg) >= sizeof plist)
				diag_die(EXIT_USAGE, "--provider: too many");
			pname = pname ? strcpy(pbuf, plist) : optarg;
			break;
		case OPT_TIMEOUT:
			timeout = opt_number("--timeout", optarg, 1, 3600,
			    " seconds");
			break;
		case OPT_PUBLIC_URL:
			url = optarg;
			break;
		case OPT_FETCH_MEDIA:
			fetch_media = 1;
			break;
		case OPT_POLL:
			poll_arg = optarg;
			break;
		case OPT_SPOOL:
			spool_arg = optarg;
			break;
		case OPT_PAGE_SIZE:
			page_size = opt_number("--page-size", optarg, 1, 1000,
			    "");
			break;
		case OPT_MAX_AGE:
			if (when_duration(optarg, &max_age, &e) < 0 ||
			    max_age <= 0)
				diag_die(EXIT_USAGE, "--max-age: '%s' is not a "
				    "duration such as 7d or 12h", optarg);
			break;
		case 'V':
			printf("sms-recv (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (listen_arg && argc > 0)
		diag_die(EXIT_USAGE, "--listen takes no FILE arguments");
	if (fetch_media && (listen_arg || argc > 0))
		diag_die(EXIT_USAGE, "--fetch-media takes no --listen and no "
		    "FILE arguments");
	if (poll_arg && (listen_arg || fetch_media || argc > 0))
		diag_die(EXIT_USAGE, "--poll takes no --listen, no "
		    "--fetch-media and no FILE arguments");
	if (page_size && !poll_arg)
		diag_die(EXIT_USAGE, "--page-size goes with --poll");
	if (spool_arg && (listen_arg || fetch_media || poll_arg || argc > 0 ||
	    pname))
		diag_die(EXIT_USAGE, "--spool takes no --listen, no "
		    "--fetch-media, no --poll, no --provider and no FILE "
		    "arguments");
	if (poll_arg)
		pname = poll_arg;
	if (spool_arg)
		pname = "smstools";
	if (listen_arg && httpd_parse_listen(listen_arg, &sin, addr,
	    sizeof addr) < 0)
		diag_die(EXIT_USAGE, "--listen: '%s' is not [ADDR:]PORT (ADDR "
		    "an IPv4 address, [an IPv6 one] or a host name)",
		    listen_arg);

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread: the media fetches use libcurl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		diag_die(EXIT_IOERR, "libcurl: cannot start");
	json_object_seed(0);
	/* The configuration first: it names the group trusted with the inbox. */
	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (config_load_default(cfg, (ipath = inbox_path(dir)), &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(ipath);
	if (inbox_group_check(config_pick(cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	pname = config_pick(cfg, pname, "SMSDESK_PROVIDER", "provider",
	    provider_default()->name);
	load_feeds(&r, cfg, pname, listen_arg != NULL, insecure);
	if (!spool_arg && !r.pv->parse)
		diag_die(EXIT_CONFIG, "provider '%s' has no webhooks: "
		    "sms-recv --spool DIR reads its spool (sms-recv(1))",
		    r.pv->name);
	if (!listen_arg && r.nfeeds > 1)
		diag_die(EXIT_USAGE, "--provider: several providers are for "
		    "--listen; files and stdin are read as one's");
	url = config_pick(cfg, url, "SMSDESK_PUBLIC_URL", "public_url", NULL);
	r.help_text = config_pick(cfg, NULL, NULL, "help_text", NULL);
	if (!r.help_text) {
		const char *name = config_pick(cfg, NULL, NULL,
		    "business_name", "");
		size_t n = strlen(name) + sizeof HELP_TEXT + 2;

		if (!(help = malloc(n)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		snprintf(help, n, "%s%s" HELP_TEXT, name, *name ? ": " : "");
		r.help_text = help;
	}
	r.ack_text = config_pick(cfg, NULL, NULL, "ack_text", NULL);
	r.stop_text = config_pick(cfg, NULL, NULL, "stop_text", NULL);
	r.start_text = config_pick(cfg, NULL, NULL, "start_text", NULL);
	load_hours(&r, cfg);
	load_media(&r, cfg);
	if (url) {
		size_t n = strlen(url);

		while (n > 0 && url[n - 1] == '/')
			n--;
		r.public_url = strndup(url, n);
	}
	/* Every FILE opens, or nothing is done. */
	if (argc > 0 && !(files = calloc((size_t)argc, sizeof *files)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (int i = 0; i < argc; i++)
		if (!(files[i] = fopen(argv[i], "r")))
			diag_die(EXIT_NOINPUT, "%s: %s (nothing was read)",
			    argv[i], strerror(errno));

	/* All checked: the inbox, made if missing, and what it holds. */
	if (inbox_open_group(&r.ib, dir, 1, config_pick(cfg, NULL, NULL,
	    "group", NULL), &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	r.ib.report = report;
	r.ib.report_arg = &r;
	if (inbox_sweep(&r.ib, INBOX_SWEEP_AGE, &swept, &e) < 0)
		diag_warn("%s", e.msg);
	if (inbox_recover(&r.ib, &replayed, &e) < 0)
		die_unwritable(&e);
	if (replayed)
		diag_warn("%s: %zu deliveries replayed from the journal of a "
		    "listener that stopped", r.ib.dir, replayed);
	if (inbox_journal_start(&r.ib, &e) < 0)
		die_unwritable(&e);
	if (spool_arg) {
		r.ret = spool_run(&r, spool_arg);
	} else if (poll_arg) {
		r.ret = poll_run(&r, &r.feed[0].acct, page_size);
	} else if (fetch_media) {
		r.ret = media_fetch_all(&r, max_age);
	} else if (listen_arg) {
		pthread_t writer;

		r.listening = 1;
		r.timeout = timeout;
		r.per_address = per_address;
		events_start(&r, &writer);
		media_start(&r);
		/* Long messages whose parts all came before a stop. */
		store_parts_left(&r);
		listen_loop(&r, &sin, addr, timeout);
		media_stop(&r);
		stop_journal(&r);
		events_stop(&r, writer);
	} else if (argc == 0) {
		diag_stdin_note("payloads (a form body or an NDJSON record "
		    "a line)");
		read_input(&r, stdin, "stdin");
	} else {
		for (int i = 0; i < argc; i++) {
			read_input(&r, files[i], argv[i]);
			fclose(files[i]);
		}
	}
	free(files);
	stop_journal(&r);
	free(r.public_url);
	free(help);
	for (size_t i = 0; i < r.nfeeds; i++)
		provider_account_free(&r.feed[i].acct);
	/* The accounts load_media() took for every provider's media. */
	for (size_t i = 0; i < r.nknown; i++)
		provider_account_free(&r.known[i].acct);
	tzdb_free(r.tzdb);
	config_free(cfg);
	inbox_close(&r.ib);
	return diag_close_stdout(r.ret);
}
