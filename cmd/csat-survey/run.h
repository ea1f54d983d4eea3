/*
 * run.h: what csat-survey send and collect share (run.c): one run's
 * state around the sending path's (lib/send.h), its setup from the
 * configuration, the history it reads, and what it writes out.
 *
 * Output: one record a line, NDJSON when stdout is not a terminal (or
 * with -j), else a short line (or with -t): the messages the sending
 * path ends (a survey or a thank-you, sent, deferred, failed, or priced
 * by a dry run), "skipped" records (a conversation not surveyed, and
 * why) and "answered" records (a score collect recorded), as
 * csat-survey(1) says.
 */
#ifndef CSAT_SURVEY_RUN_H
#define CSAT_SURVEY_RUN_H

#include <time.h>

#include <jansson.h>

#include "diag.h"
#include "send.h"

struct config;

struct csat {
	struct send s;			/* the sending path's run; s.arg is
					 * this */
	struct config *cfg;
	const char *dir;		/* -d, or NULL */
	time_t now;
	int json;			/* -j 1, -t 0, -1 by stdout */
	int ret;			/* the worst exit status of inputs */
	unsigned long held;		/* held back by quiet hours: due
					 * still, no failure (csat_end()) */
};

/* A run's defaults, before its options: call first. */
void csat_init(struct csat *c);

/*
 * The configuration (exit 78 if it is wrong), then, with send non-zero,
 * quiet hours (quiet: -Q's mode, or NULL for the configuration's) and
 * the provider's account; then the inbox, which must be there (66 if
 * not), its journals recovered; and stdout. Dies on failure.
 */
void csat_setup(struct csat *c, int send, const char *quiet);

/* Free what csat_setup() made; the exit status, stdout closed. */
int csat_end(struct csat *c);

/*
 * A duration of an option (opt, "--cooldown") or of the configuration
 * (opt NULL, key "csat_cooldown"): its seconds, at least min; dies with
 * exit 2 (an option) or 78 (the configuration) if it is none.
 */
long long csat_duration(const char *opt, const char *key, const char *arg,
    long long min);

/*
 * The events of history/ (smsdesk-inbox(5), History) of the days from the
 * one of from on, oldest first, those of the kinds events names (NULL
 * ended: "resolved", ...) each parsed and lent to fn, which returns 0 to
 * go on; a line that does not parse (torn by a crash) is passed over. 0,
 * or -1 with e filled if the history cannot be read.
 */
int csat_history(struct csat *c, time_t from, const char *const *events,
    int (*fn)(struct csat *c, const json_t *ev, void *arg), void *arg,
    struct errbuf *e);

/*
 * Whether thread may be texted by a survey or a thank-you: NULL if so,
 * else the reason it is not ("opted_out", "blocked"), or "" if the
 * ledger could not be read (said on stderr, c->ret set).
 */
const char *csat_may_text(struct csat *c, const char *thread,
    const json_t *conv);

/* Write out rec (borrowed), as the run writes records. */
void csat_out(struct csat *c, const json_t *rec);

/*
 * A "skipped" record for thread: reason, and the resolution it concerns
 * (ev, a "resolved" event; NULL: none), written out.
 */
void csat_skipped(struct csat *c, const char *thread, const json_t *ev,
    const char *reason);

/* An input's failure, said already: the exit status is at least code. */
void csat_note(struct csat *c, int code);

#endif
