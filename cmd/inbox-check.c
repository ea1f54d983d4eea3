/*
 * inbox-check: the inbox checked against smsdesk-inbox(5), like fsck(8);
 * with --repair, mended where no guess is needed; with --backup, copied
 * while it is in use and the copy checked: inbox-check(1).
 *
 * The walk and the repairs are the library's (inbox-check.h); this turns
 * each finding into one NDJSON line on stdout, a count on stderr when
 * stderr is a terminal, and the exit code: 0 when nothing is left
 * wrong, 1 when something is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "inbox-check.h"
#include "inbox.h"
#include "record.h"

#define USAGE "usage: inbox-check [-hV] [-d DIR] [--repair]\n" \
	"       inbox-check [-hV] [-d DIR] --backup TODIR\n"

enum { OPT_BACKUP = 256, OPT_REPAIR };

struct run {
	size_t found, mended;
	int ret;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "      --backup TODIR     copy the inbox, in use or not, "
		    "into the new\n"
		    "                         directory TODIR, then check "
		    "and repair the copy\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -h, --help             print this help and exit\n"
		    "      --repair           mend what can be mended without "
		    "a guess\n"
		    "  -V, --version          print the version and exit\n"
		    "\nEach finding is an NDJSON line: check, path, problem, "
		    "repair, repaired.\n", fp);
	exit(code);
}

static void
finding(const struct inbox_finding *f, void *arg)
{
	struct run *r = arg;
	json_t *j = json_pack("{s:s,s:s,s:s,s:s?,s:b}", "check", f->check,
	    "path", f->path, "problem", f->problem, "repair", f->repair,
	    "repaired", f->repaired == 1);

	if (!j)
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (f->error)
		json_object_set_new(j, "error", json_string(f->error));
	r->found++;
	r->mended += f->repaired == 1;
	if (record_write(stdout, j) < 0 || fflush(stdout) == EOF)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	json_decref(j);
}

static void
report(void *arg, const char *msg)
{
	(void)arg;
	diag_warn("%s", msg);
}

static void
open_inbox(struct inbox *ib, const char *dir, const char *group)
{
	struct errbuf e;
	int err;

	if (inbox_open_group(ib, dir, 0, group, &e) < 0) {
		err = errno;
		inbox_close(ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	ib->report = report;
}

static void
check(struct inbox *ib, int repair, struct run *r)
{
	struct errbuf e;
	size_t left;

	if (inbox_check(ib, repair, finding, r, &left, &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	if (left)
		r->ret = EXIT_PARTIAL;
}

static void
backup(struct inbox *ib, const char *to, const char *group, struct run *r)
{
	struct inbox copy;
	struct errbuf e;
	size_t files;

	if (inbox_backup(ib, to, &files, &e) < 0)
		diag_die(diag_exit_for(errno), "%s (the copy is incomplete)",
		    e.msg);
	if (isatty(STDERR_FILENO))
		diag_warn("%s: %zu files copied", to, files);
	open_inbox(&copy, to, group);
	check(&copy, 1, r);
	inbox_close(&copy);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backup", required_argument, NULL, OPT_BACKUP },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *to = NULL, *group;
	struct run r = { 0, 0, 0 };
	struct config *cfg;
	struct inbox ib;
	struct errbuf e;
	char *path;
	int ch, repair = 0;

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "d:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_BACKUP:
			to = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case OPT_REPAIR:
			repair = 1;
			break;
		case 'V':
			printf("inbox-check (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage(stderr, EXIT_USAGE);
	if (to && repair)
		diag_die(EXIT_USAGE, "--backup and --repair exclude each other "
		    "(a backup's copy is always repaired, the inbox never)");
	if (to && !*to)
		diag_die(EXIT_USAGE, "--backup: an empty directory name");
	path = inbox_path(dir);
	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(cfg, path, &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	group = config_pick(cfg, NULL, NULL, "group", NULL);
	if (inbox_group_check(group, &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	open_inbox(&ib, dir, group);
	if (to)
		backup(&ib, to, group, &r);
	else
		check(&ib, repair, &r);
	inbox_close(&ib);
	config_free(cfg);
	if (isatty(STDERR_FILENO))
		diag_warn("%zu finding%s, %zu mended, %zu left", r.found,
		    r.found == 1 ? "" : "s", r.mended, r.found - r.mended);
	return diag_close_stdout(r.ret);
}
