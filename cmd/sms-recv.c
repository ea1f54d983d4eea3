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
 * This file has the options; the configuration is conf.c's, and the
 * other parts are in cmd/sms-recv/, one a file, and sms-recv/sms-recv.h
 * lists them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
	"                [--admin-listen [ADDR:]PORT] [--per-address N]\n" \
	"                [--public-url URL] [--timeout SECONDS] [FILE ...]\n" \
	"       sms-recv --fetch-media [-d DIR] [-p PROVIDER] " \
	"[--max-age DURATION]\n" \
	"       sms-recv --poll PROVIDER [-d DIR] [--page-size N]\n" \
	"       sms-recv --spool DIR [-d DIR]\n"

static void
usage(FILE *fp, int code)
{
	const struct provider *p;

	fputs(USAGE, fp);
	if (fp != stdout)
		exit(code);
	fputs("\n"
	    "      --admin-listen [ADDR:]PORT  with --listen, serve GET "
	    "/health and\n"
	    "                         GET /metrics there (default: not at "
	    "all)\n"
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
		OPT_SPOOL, OPT_ADMIN_LISTEN };
	static const struct option longopts[] = {
		{ "admin-listen", required_argument, NULL, OPT_ADMIN_LISTEN },
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
		.ready = PTHREAD_COND_INITIALIZER },
		.conf_lock = PTHREAD_MUTEX_INITIALIZER };
	const char *dir = NULL, *listen_arg = NULL, *pname = NULL;
	const char *admin_arg = NULL;
	char plist[256], pbuf[256];
	const char *url = NULL, *poll_arg = NULL, *spool_arg = NULL;
	unsigned page_size = 0;
	struct sockaddr_storage sin, admin;
	sigset_t sigs;
	char admin_addr[INET6_ADDRSTRLEN + 2], base[INET6_ADDRSTRLEN + 16];
	char addr[INET6_ADDRSTRLEN + 2];
	FILE **files = NULL;
	struct errbuf e;
	unsigned timeout = 10, per_address = PER_ADDRESS;
	int c, code, insecure = 0, fetch_media = 0;
	long long max_age = 7 * 86400;
	size_t swept, replayed;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "d:hil:p:V", longopts,
	    NULL)) != -1) {
		switch (c) {
		case OPT_ADMIN_LISTEN:
			admin_arg = optarg;
			break;
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
	if (admin_arg && !listen_arg)
		diag_die(EXIT_USAGE, "--admin-listen goes with --listen");
	if (admin_arg && httpd_parse_listen(admin_arg, &admin, admin_addr,
	    sizeof admin_addr) < 0)
		diag_die(EXIT_USAGE, "--admin-listen: '%s' is not [ADDR:]PORT "
		    "(ADDR an IPv4 address, [an IPv6 one] or a host name)",
		    admin_arg);
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
	/* The configuration, checked whole (conf.c). */
	r.args.dir = dir;
	r.args.provider = spool_arg ? "smstools" : poll_arg ? poll_arg : pname;
	r.args.url = url;
	r.args.listening = listen_arg != NULL;
	r.args.insecure = insecure;
	r.args.spool = spool_arg != NULL;
	r.args.cancel = &r.media_cancel;
	if (listen_arg) {
		snprintf(base, sizeof base, "http://%s:%u", addr,
		    httpd_port(&sin));
		r.args.default_url = base;
	}
	if (conf_load(&r.args, &r.conf, &code, &e) < 0)
		diag_die(code, "%s", e.msg);
	/* Every FILE opens, or nothing is done. */
	if (argc > 0 && !(files = calloc((size_t)argc, sizeof *files)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (int i = 0; i < argc; i++)
		if (!(files[i] = fopen(argv[i], "r")))
			diag_die(EXIT_NOINPUT, "%s: %s (nothing was read)",
			    argv[i], strerror(errno));

	/* A listener's signals are listen_loop's, in every thread to come. */
	if (listen_arg)
		listen_signals(&sigs);
	/* All checked: the inbox, made if missing, and what it holds. */
	if (inbox_open_group(&r.ib, dir, 1, config_pick(r.conf->cfg, NULL,
	    NULL, "group", NULL), &e) < 0)
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
		r.ret = poll_run(&r, &r.conf->feed[0].acct, page_size);
	} else if (fetch_media) {
		r.ret = media_fetch_all(&r, max_age);
	} else if (listen_arg) {
		pthread_t writer;

		r.listening = 1;
		r.timeout = timeout;
		if (admin_arg) {
			r.admin = &admin;
			r.admin_addr = admin_addr;
		}
		atomic_store(&r.stats.reloaded_at, (long long)time(NULL));
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
	conf_free(r.conf);
	inbox_close(&r.ib);
	return diag_close_stdout(r.ret);
}
