/*
 * csat-survey: ask one question by text after a conversation is resolved,
 * record the answer as it arrives, and report satisfaction and the
 * contact center's figures, csat-survey(1).
 *
 * The map of this program:
 *   send      surveys the conversations resolved since the last run (or
 *             the conversation records on stdin), through the one
 *             sending path (lib/send.h); the message carries its survey,
 *             and storing it opens the survey on its conversation
 *             (smsdesk-inbox(5), Surveys)
 *   collect   takes the score replies already in the inbox that the
 *             delivery did not (a backlog, an import)
 *   report    reads the history (history/, smsdesk-inbox(5)) of a
 *             period and the working set, and prints its figures
 * Scores are recognised when a reply is delivered, by the inbox itself
 * (score.h, inbox.c): no program has to run for that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "csat-survey/csat-survey.h"

#define USAGE "usage: csat-survey send [-jnt] [-d DIR] [-Q[MODE]] " \
	"[--cooldown DUR]\n" \
	"                        [--max-age DUR] [--question TEXT] " \
	"[--scale SCALE]\n" \
	"                        [--window DUR] [-]\n" \
	"       csat-survey collect [-jt] [-d DIR] [--thank TEXT] " \
	"[--window DUR]\n" \
	"       csat-survey report [-jt] [-d DIR] [-S TIME] [--by GROUP] " \
	"[--csv]\n" \
	"                          [--timezone ZONE] [--until TIME]\n" \
	"       csat-survey -h | -V\n"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "send", survey_send },
	{ "collect", survey_collect },
	{ "report", survey_report },
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (code == 0)
		fputs("\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON records (default when "
		    "not on a terminal)\n"
		    "  -t, --table            lines to read (default on a "
		    "terminal)\n"
		    "  -V, --version          print the version and exit\n"
		    "send: survey the conversations resolved within "
		    "--max-age, or those on stdin\n"
		    "      --cooldown DUR     no survey to a customer surveyed "
		    "within DUR (7d)\n"
		    "      --max-age DUR      survey resolutions of the last "
		    "DUR (24h)\n"
		    "  -n, --dry-run          print what would be sent; send "
		    "nothing\n"
		    "  -Q, --quiet-hours[=MODE]  none in the customer's quiet "
		    "hours: defer\n"
		    "                         (default), refuse or off\n"
		    "      --question TEXT    the survey's text\n"
		    "      --scale SCALE      1-5 (default), 0-10 or 1-3\n"
		    "      --window DUR       answers count for DUR after the "
		    "survey (72h)\n"
		    "collect: take the score replies stored to surveys of the "
		    "last --window\n"
		    "      --thank TEXT       a thank-you to every answer of "
		    "the window, once\n"
		    "report: satisfaction and the contact center's figures of "
		    "a period\n"
		    "      --by GROUP         agent, day, week or month\n"
		    "      --csv              comma-separated values, a row a "
		    "group\n"
		    "  -S, --since TIME       from TIME (default: 7 days "
		    "ago)\n"
		    "      --timezone ZONE    days, weeks and months of this "
		    "zone (default UTC)\n"
		    "      --until TIME       up to TIME (default: now)\n"
		    "\nEach subcommand takes -h for its own options; see "
		    "csat-survey(1).\n", fp);
	if (code == 0)
		code = diag_close_stdout(0);
	exit(code);
}

int
main(int argc, char **argv)
{
	size_t i;

	diag_init(argv[0]);
	if (argc < 2)
		usage(stderr, EXIT_USAGE);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("csat-survey (smsdesk) %s\n", SMSDESK_VERSION);
		return diag_close_stdout(0);
	}
	for (i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	diag_warn("'%s' is not a subcommand (send, collect, report)",
	    argv[1]);
	usage(stderr, EXIT_USAGE);
	return EXIT_USAGE;
}
