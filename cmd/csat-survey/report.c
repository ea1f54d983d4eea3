/*
 * report.c: csat-survey report (csat-survey(1)): the figures of a period
 * from the inbox's history (history/YYYY-MM-DD, smsdesk-inbox(5)) and its
 * working set (work/).
 *
 * The period is [since, until], both included (default: the 7 days up to
 * now). The day files read are those from since's UTC day to today's
 * (inbox_history_each()), not from the beginning of the history: what
 * happened to the surveys and episodes of the period after until (an
 * answer, a first reply, a resolution) is in the later files, and the
 * earlier ones are never opened. Each line is read in one pass by
 * record_pick(), no parse tree; only a line that record_pick() says is
 * not written as record_write() writes is parsed by record_parse(). A
 * line that does not parse (torn by a crash mid-append), or whose event
 * lacks a field it needs, is skipped and counted ("skipped" in the
 * total): no error, no warning, as the history's readers are bound to
 * tolerate it. A day file's last line without its newline is not handed
 * over at all (an append may be under way). Lines written twice (a
 * journal replay) count once: an episode by its thread and start, a
 * survey by its thread and id.
 *
 * Which event puts a figure in which group, by its "at":
 *   surveys, answers, rate, CSAT, NPS, mean, distribution
 *       a "surveyed" event with at in the period is a survey sent, in
 *       the group of its at (--by agent: of its "agent"); an "answered"
 *       event for that survey (same thread and "survey"), whenever it
 *       came up to now, is its answer, the last one for a survey
 *       winning. An answer to a survey sent before since counts nowhere.
 *   conversations, messages in and out, segments
 *       a "message" event with at in the period; conversations are the
 *       distinct threads of those. --by agent: outbound ones only, in the
 *       group of their "agent" (inbound ones are in the total only).
 *   episodes, first-response and resolution times, within an hour
 *       an "opened" or "reopened" event with at in the period starts an
 *       episode, in the group of its at; its "first_response" and
 *       "resolved" events (same thread, "opened_at" its start), whenever
 *       they came up to now, give its times (the first first_response;
 *       the last resolved: one reopened by hand, a "reopened" with no
 *       "msg", goes on with its episode). --by agent: the
 *       first-response time in the group of the first_response's
 *       "agent", the resolution time in the resolved's. An episode is
 *       due an answer within the hour unless it was resolved with no
 *       reply, or is unanswered and not an hour old now.
 *   backlog (the total, and each period's group)
 *       at T, the end of the group's part of the period: conversations
 *       of the working set whose episode opened at or before T, and
 *       episodes with a "resolved" event after T whose opened_at <= T
 *       (for one reopened by hand: whose reopening was at or before T).
 *
 * Memory: a table of the threads, surveys and episodes of the period
 * (about 32 bytes an episode, 24 a survey, 40 a thread, and 16 for each
 * distinct thread of each group), and one 4-byte time per episode for
 * the percentiles: nothing for the history outside the period but the
 * read buffer of inbox_history_each() (1 to 2 MiB).
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "inbox.h"
#include "record.h"
#include "tz.h"
#include "when.h"
#include "csat-survey/csat-survey.h"
#include "csat-survey/report.h"

#define USAGE "usage: csat-survey report [-hjt] [-d DIR] [-S TIME] " \
	"[--by GROUP] [--csv]\n" \
	"                          [--timezone ZONE] [--until TIME]\n"

const char *const report_scales[NSCALES] = { "1-5", "0-10", "1-3" };
const int report_scale_lo[NSCALES] = { 1, 0, 1 };
const int report_scale_hi[NSCALES] = { 5, 10, 3 };

/* An episode that began in the period. */
struct episode {
	time_t opened;
	int32_t group;		/* by its start (--by day/week/month) */
	int32_t fr, res;	/* seconds, -1 not yet */
	int32_t fr_agent, res_agent;	/* --by agent: group, -1 none */
	int noreply;		/* resolved with no reply */
};

/* A survey sent in the period. */
struct survey {
	int32_t group;		/* -1: the total only */
	int8_t scale, score;	/* score -1: no answer */
};

/* A field of an event, as the line has it. */
struct field {
	int type;		/* 's' string, 'i' integer, 'n' null or
				 * absent, 'x' anything else */
	int present;		/* the line has the field, null or not */
	const char *s;		/* 's': decoded, not NUL-terminated */
	size_t len;
	long long i;
};

enum {
	F_EVENT, F_AT, F_THREAD, F_DIRECTION, F_SEGMENTS, F_AGENT, F_SECONDS,
	F_OPENED_AT, F_FR_AT, F_SURVEY, F_SCALE, F_SCORE, F_MSG, NF
};
static const char *const field_names[NF] = {
	"event", "at", "thread", "direction", "segments", "agent", "seconds",
	"opened_at", "first_response_at", "survey", "scale", "score", "msg",
};

struct state {
	struct report *r;
	struct smap threads, agents, surveys;
	struct umap episode_of, seen;	/* seen: (group, thread) pairs */
	struct umap resumed_of;	/* thread: its episode reopened by hand */
	time_t *resumed;	/* when, by that map's number; 0: resolved
				 * since */
	size_t nresumed;
	struct episode *ep;
	size_t nep, capep;
	struct survey *sv;
	size_t nsv, capsv;
	time_t *ends;		/* the end of each group's period */
	long *diff;		/* backlog, as differences by group */
	long key0;		/* the period key of since */
	long *agroup;		/* --by agent: each agent's group */
	size_t nagroup;
	long nobody;		/* and nobody's, or -1 */
	struct buf scratch[NF];	/* unescaped strings */
	struct buf key;
	json_t *parsed;		/* a line record_pick() could not vouch for */
};

static void
nomem(void)
{
	diag_die(EXIT_IOERR, "report: %s", strerror(ENOMEM));
}

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout) {
		fputs("\n"
		    "      --by GROUP         a group per agent, or per UTC "
		    "day, week or month:\n"
		    "                         agent, day, week, month\n"
		    "      --csv              comma-separated values, a "
		    "header line first\n"
		    "  -d, --dir DIR          the inbox (default: "
		    "$SMSDESK_INBOX, then\n"
		    "                         "
		    "$XDG_DATA_HOME/smsdesk/inbox)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -j, --json             NDJSON output, even on a "
		    "terminal\n"
		    "  -S, --since TIME       the period's start: a time, or "
		    "a duration back from\n"
		    "                         now (default: 7 days before "
		    "--until)\n"
		    "  -t, --table            a table with charts, even in a "
		    "pipe\n"
		    "      --timezone ZONE    days, weeks and months of this "
		    "IANA zone\n"
		    "                         (default UTC)\n"
		    "      --until TIME       the period's end: a time, or a "
		    "duration back from\n"
		    "                         now (default now)\n", fp);
		code = diag_close_stdout(code);
	}
	exit(code);
}

const char *
report_agent(const struct report *r, long i)
{
	return i < 0 ? NULL : r->agent_names.p + r->agent_at[i];
}

/* --- Periods ---------------------------------------------------------- */

static long long
floordiv(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

long long
report_day(const struct report *r, time_t t)
{
	struct tz_local l;

	if (!r->zone)
		return floordiv(t, 86400);
	tz_local(r->zone, t, &l);
	return l.days;
}

/*
 * Local midnight: the instant of d's 00:00 at the offset in force then
 * (found in two steps, as the offset of the guess may differ); a day
 * whose midnight a clock change skips begins at its first second.
 */
time_t
report_day_start(const struct report *r, long long d)
{
	time_t t = (time_t)d * 86400;

	if (!r->zone)
		return t;
	t = (time_t)d * 86400 - tz_offset(r->zone, t, NULL);
	t = (time_t)d * 86400 - tz_offset(r->zone, t, NULL);
	while (report_day(r, t) < d)
		t += 900;
	while (report_day(r, t - 1) >= d)
		t -= 900;
	return t;
}

/* The key of the period holding t: consecutive periods, consecutive keys. */
static long
period_key(const struct report *r, time_t t)
{
	long long d = report_day(r, t), y;
	int m, dd, by = r->by;

	switch (by) {
	case BY_DAY:
		return (long)d;
	case BY_WEEK:		/* 1970-01-01 was a Thursday */
		return (long)floordiv(d + 3, 7);
	default:
		when_civil(d, &y, &m, &dd);
		return (long)(y * 12 + m - 1);
	}
}

static time_t
period_start(const struct report *r, long k)
{
	switch (r->by) {
	case BY_DAY:
		return report_day_start(r, k);
	case BY_WEEK:
		return report_day_start(r, (long long)k * 7 - 3);
	default:
		return report_day_start(r, when_days(floordiv(k, 12),
		    (int)(k - floordiv(k, 12) * 12) + 1, 1));
	}
}

/* Make the groups of the periods of [since, until]. */
static void
make_periods(struct state *s)
{
	struct report *r = s->r;
	long k0 = period_key(r, r->since), k1 = period_key(r, r->until), k;
	size_t i;

	if (k1 - k0 >= 100000)
		diag_die(EXIT_USAGE, "--by: %ld periods are too many",
		    k1 - k0 + 1);
	s->key0 = k0;
	r->ng = (size_t)(k1 - k0 + 1);
	r->g = calloc(r->ng, sizeof *r->g);
	s->ends = calloc(r->ng, sizeof *s->ends);
	s->diff = calloc(r->ng + 1, sizeof *s->diff);
	if (!r->g || !s->ends || !s->diff)
		nomem();
	for (i = 0, k = k0; k <= k1; i++, k++) {
		r->g[i].since = i ? period_start(r, k) : r->since;
		r->g[i].until = k < k1 ? period_start(r, k + 1) - 1 :
		    r->until;
		r->g[i].agent = -1;
		s->ends[i] = r->g[i].until;
	}
}

static long
period_group(struct state *s, time_t at)
{
	return period_key(s->r, at) - s->key0;
}

/* A new group, the whole period's, of agent a (-1 nobody). */
static long
new_group(struct state *s, long a)
{
	struct report *r = s->r;
	struct report_figures *ng;

	if (!(ng = realloc(r->g, (r->ng + 1) * sizeof *ng)))
		nomem();
	r->g = ng;
	memset(&r->g[r->ng], 0, sizeof *ng);
	r->g[r->ng].agent = a;
	r->g[r->ng].since = r->since;
	r->g[r->ng].until = r->until;
	r->g[r->ng].backlog = -1;
	return (long)r->ng++;
}

/* The group of agent f (a name; else nobody's), made if new. */
static long
agent_group(struct state *s, const struct field *f)
{
	long a, *na;

	if (f->type != 's' || f->len == 0) {
		if (s->nobody < 0)
			s->nobody = new_group(s, -1);
		return s->nobody;
	}
	a = smap_get(&s->agents, f->s, f->len, 1);
	if ((size_t)a == s->nagroup) {
		if (!(na = realloc(s->agroup, (s->nagroup + 1) * sizeof *na)))
			nomem();
		s->agroup = na;
		s->agroup[s->nagroup++] = new_group(s, a);
	}
	return s->agroup[a];
}

/* --- Reading an event ------------------------------------------------- */

/* An RFC 3339 time as records write it, fast; else when_parse(). */
static int
parse_time(const struct field *f, time_t *t)
{
	const char *p = f->s;
	char tmp[64];
	int v[6], i;
	static const int at[6] = { 0, 5, 8, 11, 14, 17 };
	static const int w[6] = { 4, 2, 2, 2, 2, 2 };

	if (f->type != 's')
		return -1;
	if (f->len == 20 && p[4] == '-' && p[7] == '-' && p[10] == 'T' &&
	    p[13] == ':' && p[16] == ':' && p[19] == 'Z') {
		for (i = 0; i < 6; i++) {
			int j, n = 0;

			for (j = 0; j < w[i]; j++) {
				char c = p[at[i] + j];

				if (c < '0' || c > '9')
					goto slow;
				n = n * 10 + c - '0';
			}
			v[i] = n;
		}
		if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
		    v[3] > 23 || v[4] > 59 || v[5] > 59)
			goto slow;
		*t = (time_t)when_days(v[0], v[1], v[2]) * 86400 +
		    v[3] * 3600 + v[4] * 60 + v[5];
		return 0;
	}
slow:
	if (f->len >= sizeof tmp)
		return -1;
	memcpy(tmp, p, f->len);
	tmp[f->len] = '\0';
	return when_parse(tmp, t, NULL);
}

/* A value as record_pick() found it, into f. */
static int
raw_field(struct state *s, int i, const char *v, size_t n, struct field *f)
{
	char *end;

	f->type = 'x';
	f->present = v != NULL;
	if (!v || (n == 4 && memcmp(v, "null", 4) == 0)) {
		f->type = 'n';
	} else if (*v == '"') {
		f->type = 's';
		f->s = v + 1;
		f->len = n - 2;
		if (memchr(f->s, '\\', f->len)) {
			s->scratch[i].len = 0;
			if (record_unescape(f->s, f->len, &s->scratch[i]) < 0)
				nomem();
			f->s = s->scratch[i].p;
			f->len = s->scratch[i].len;
		}
	} else if ((*v >= '0' && *v <= '9') || *v == '-') {
		errno = 0;
		f->i = strtoll(v, &end, 10);
		if (end == v + n && !errno)
			f->type = 'i';
	}
	return 0;
}

/* A value of a parsed record, into f. */
static void
json_field(const json_t *rec, const char *key, struct field *f)
{
	json_t *v = json_object_get(rec, key);

	f->type = 'x';
	f->present = v != NULL;
	if (!v || json_is_null(v)) {
		f->type = 'n';
	} else if (json_is_string(v)) {
		f->type = 's';
		f->s = json_string_value(v);
		f->len = json_string_length(v);
	} else if (json_is_integer(v)) {
		f->type = 'i';
		f->i = json_integer_value(v);
	}
}

/*
 * The fields of line in mask (bits by F_ index); the others absent. 0, or
 * -1 if it is no JSON object.
 */
static int
fields(struct state *s, const char *line, size_t len, unsigned mask,
    struct field *f)
{
	struct record_field rf[NF];
	int i, n = 0, at[NF], rc;

	json_decref(s->parsed);
	s->parsed = NULL;
	for (i = 0; i < NF; i++) {
		f[i].type = 'n';
		f[i].present = 0;
		if (mask & 1u << i) {
			at[n] = i;
			rf[n++].key = field_names[i];
		}
	}
	if ((rc = record_pick(line, len, rf, (size_t)n)) < 0)
		return -1;
	if (rc == 1) {
		for (i = 0; i < n; i++)
			raw_field(s, at[i], rf[i].val, rf[i].len, &f[at[i]]);
		return 0;
	}
	if (!(s->parsed = record_parse(line, len, NULL)))
		return -1;
	for (i = 0; i < n; i++)
		json_field(s->parsed, field_names[at[i]], &f[at[i]]);
	return 0;
}

static int
is(const struct field *f, const char *word)
{
	size_t n = strlen(word);

	return f->type == 's' && f->len == n && memcmp(f->s, word, n) == 0;
}

static int
scale_of(const struct field *f)
{
	int i;

	for (i = 0; i < NSCALES; i++)
		if (is(f, report_scales[i]))
			return i;
	return -1;
}

/* --- Events ----------------------------------------------------------- */

static int
in_period(const struct report *r, time_t at)
{
	return at >= r->since && at <= r->until;
}

/* A thread and its group seen with a message: count it once. */
static void
seen(struct state *s, long group, long tid, struct report_figures *g)
{
	uint64_t k = ((uint64_t)(group + 2) << 32) | (uint64_t)(tid + 1);

	if (umap_get(&s->seen, k, 1, 0) < 0)
		g->conversations++;
}

/* The group of an event at `at` (NULL: none), by period or agent. */
static struct report_figures *
group_of(struct state *s, time_t at, const struct field *agent, long *gi)
{
	struct report *r = s->r;

	*gi = -1;
	if (r->by >= BY_DAY)
		*gi = period_group(s, at);
	else if (r->by == BY_AGENT && agent)
		*gi = agent_group(s, agent);
	return *gi >= 0 ? &r->g[*gi] : NULL;
}

static void
on_message(struct state *s, const struct field *f, time_t at)
{
	struct report *r = s->r;
	int out = is(&f[F_DIRECTION], "out");
	long seg = f[F_SEGMENTS].type == 'i' ? (long)f[F_SEGMENTS].i : 0;
	long tid, gi;
	struct report_figures *g;

	if (!in_period(r, at))
		return;
	if (!out && !is(&f[F_DIRECTION], "in")) {
		r->skipped++;
		return;
	}
	tid = smap_get(&s->threads, f[F_THREAD].s, f[F_THREAD].len, 1);
	g = group_of(s, at, out ? &f[F_AGENT] : NULL, &gi);
	*(out ? &r->total.msgs_out : &r->total.msgs_in) += 1;
	r->total.segments += seg;
	seen(s, -1, tid, &r->total);
	if (g) {
		*(out ? &g->msgs_out : &g->msgs_in) += 1;
		g->segments += seg;
		seen(s, gi, tid, g);
	}
}

/* The key of thread tid's episode that began at t (in the period). */
static uint64_t
episode_key(const struct state *s, long tid, time_t t)
{
	return ((uint64_t)(tid + 1) << 34) | (uint64_t)(t - s->r->since);
}

/*
 * A conversation reopened by hand ("reopened" with no "msg") goes on with
 * the episode it had (its opened_at is kept, smsdesk-inbox(5)): no new
 * episode, but it is in the backlog again from then.
 */
static void
on_resumed(struct state *s, const struct field *f, time_t at)
{
	long tid = smap_get(&s->threads, f[F_THREAD].s, f[F_THREAD].len, 1);
	long i = umap_get(&s->resumed_of, (uint64_t)tid + 1, 0, 0);
	time_t *nr;

	if (i < 0) {
		if (!(nr = realloc(s->resumed, (s->nresumed + 1) *
		    sizeof *nr)))
			nomem();
		s->resumed = nr;
		i = (long)s->nresumed++;
		umap_get(&s->resumed_of, (uint64_t)tid + 1, 1, (uint32_t)i);
	}
	s->resumed[i] = at;
}

/* When thread's episode that began at opened went on after a reopening
 * by hand (taken: the next resolution ends it), else opened. */
static time_t
resumed_at(struct state *s, const struct field *thread, time_t opened)
{
	long tid = smap_get(&s->threads, thread->s, thread->len, 0), i;
	time_t t;

	if (tid < 0 || (i = umap_get(&s->resumed_of, (uint64_t)tid + 1, 0,
	    0)) < 0 || (t = s->resumed[i]) <= opened)
		return opened;
	s->resumed[i] = 0;
	return t;
}

static void
on_opened(struct state *s, const struct field *f, time_t at)
{
	struct report *r = s->r;
	struct episode *e;
	long tid, gi;

	if (is(&f[F_EVENT], "reopened") && !f[F_MSG].present) {
		on_resumed(s, f, at);
		return;
	}
	if (!in_period(r, at))
		return;
	tid = smap_get(&s->threads, f[F_THREAD].s, f[F_THREAD].len, 1);
	if (umap_get(&s->episode_of, episode_key(s, tid, at), 1,
	    (uint32_t)s->nep) >= 0)
		return;		/* a line written twice (a replay) */
	if (s->nep == s->capep) {
		s->capep = s->capep ? s->capep * 2 : 1024;
		if (!(e = realloc(s->ep, s->capep * sizeof *e)))
			nomem();
		s->ep = e;
	}
	group_of(s, at, NULL, &gi);
	s->ep[s->nep++] = (struct episode){ .opened = at, .group = (int32_t)gi,
	    .fr = -1, .res = -1, .fr_agent = -1, .res_agent = -1 };
}

/* The episode of f's thread that began at f's opened_at, or NULL. */
static struct episode *
episode(struct state *s, const struct field *f, time_t *opened)
{
	long tid, i;

	if (parse_time(&f[F_OPENED_AT], opened) < 0 ||
	    !in_period(s->r, *opened))
		return NULL;
	if ((tid = smap_get(&s->threads, f[F_THREAD].s, f[F_THREAD].len,
	    0)) < 0)
		return NULL;
	i = umap_get(&s->episode_of, episode_key(s, tid, *opened), 0, 0);
	return i < 0 ? NULL : &s->ep[i];
}

/* The duration an event gives: its "seconds", else at - opened. */
static long
seconds(const struct field *f, time_t at, time_t opened)
{
	return f[F_SECONDS].type == 'i' ? (long)f[F_SECONDS].i :
	    (long)(at - opened);
}

static void
on_first_response(struct state *s, const struct field *f, time_t at)
{
	struct episode *e;
	time_t opened;
	long gi = -1;

	if (!(e = episode(s, f, &opened)) || e->fr >= 0)
		return;
	if (s->r->by == BY_AGENT)
		gi = agent_group(s, &f[F_AGENT]);
	e->fr = (int32_t)seconds(f, at, opened);
	if (e->fr < 0)
		e->fr = 0;
	e->fr_agent = (int32_t)gi;
}

/*
 * An episode that began at opened and was resolved at `at` was in the
 * backlog at every T with opened <= T < at: at the end of each period so
 * placed, and at until.
 */
static void
backlog_span(struct state *s, time_t opened, time_t at)
{
	struct report *r = s->r;
	size_t lo, hi, a, b;

	if (opened <= r->until && at > r->until)
		r->total.backlog++;
	if (r->by < BY_DAY)
		return;
	/* a: the first group ending at or after opened; b: after at - 1 */
	for (lo = 0, hi = r->ng; lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (s->ends[mid] < opened)
			lo = mid + 1;
		else
			hi = mid;
	}
	a = lo;
	for (hi = r->ng; lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (s->ends[mid] < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	b = lo;
	if (a < b) {
		s->diff[a]++;
		s->diff[b]--;
	}
}

static void
on_resolved(struct state *s, const struct field *f, time_t at)
{
	struct episode *e;
	time_t opened;
	long gi = -1;

	if (parse_time(&f[F_OPENED_AT], &opened) == 0)
		backlog_span(s, resumed_at(s, &f[F_THREAD], opened), at);
	if (!(e = episode(s, f, &opened)))
		return;
	/* resolved again after a reopening by hand: the last one counts */
	if (s->r->by == BY_AGENT)
		gi = agent_group(s, &f[F_AGENT]);
	e->res = (int32_t)seconds(f, at, opened);
	if (e->res < 0)
		e->res = 0;
	e->res_agent = (int32_t)gi;
	e->noreply = e->fr < 0 && f[F_FR_AT].type == 'n';
}

/* The key of a survey: its thread and id. */
static void
survey_key(struct state *s, const struct field *f)
{
	s->key.len = 0;
	if (buf_add(&s->key, f[F_THREAD].s, f[F_THREAD].len) < 0 ||
	    buf_addc(&s->key, '\n') < 0 ||
	    buf_add(&s->key, f[F_SURVEY].s, f[F_SURVEY].len) < 0)
		nomem();
}

static void
on_surveyed(struct state *s, const struct field *f, time_t at)
{
	struct survey *v;
	int scale = scale_of(&f[F_SCALE]);
	long gi;

	if (!in_period(s->r, at))
		return;
	if (f[F_SURVEY].type != 's' || scale < 0) {
		s->r->skipped++;
		return;
	}
	survey_key(s, f);
	if ((size_t)smap_get(&s->surveys, s->key.p, s->key.len, 1) != s->nsv)
		return;		/* a line written twice */
	if (s->nsv == s->capsv) {
		s->capsv = s->capsv ? s->capsv * 2 : 1024;
		if (!(v = realloc(s->sv, s->capsv * sizeof *v)))
			nomem();
		s->sv = v;
	}
	group_of(s, at, &f[F_AGENT], &gi);
	s->sv[s->nsv++] = (struct survey){ .group = (int32_t)gi,
	    .scale = (int8_t)scale, .score = -1 };
}

static void
on_answered(struct state *s, const struct field *f)
{
	struct survey *v;
	long i;

	if (f[F_SURVEY].type != 's' || f[F_SCORE].type != 'i') {
		s->r->skipped++;
		return;
	}
	survey_key(s, f);
	if ((i = smap_get(&s->surveys, s->key.p, s->key.len, 0)) < 0)
		return;		/* a survey sent before since */
	v = &s->sv[i];
	if (f[F_SCORE].i < report_scale_lo[v->scale] ||
	    f[F_SCORE].i > report_scale_hi[v->scale]) {
		s->r->skipped++;
		return;
	}
	v->score = (int8_t)f[F_SCORE].i;
}

/* The events a report reads, and the fields each needs besides "event",
 * "at" and "thread". */
enum {
	K_OTHER, K_MESSAGE, K_OPENED, K_REOPENED, K_FIRST_RESPONSE, K_RESOLVED,
	K_SURVEYED, K_ANSWERED, NK
};
static const char *const kind_names[NK] = {
	"", "message", "opened", "reopened", "first_response", "resolved",
	"surveyed", "answered",
};
#define BIT(f) (1u << (f))
static const unsigned kind_fields[NK] = {
	[K_OTHER] = ~0u,
	[K_MESSAGE] = BIT(F_DIRECTION) | BIT(F_SEGMENTS) | BIT(F_AGENT),
	[K_REOPENED] = BIT(F_MSG),
	[K_FIRST_RESPONSE] = BIT(F_OPENED_AT) | BIT(F_SECONDS) | BIT(F_AGENT),
	[K_RESOLVED] = BIT(F_OPENED_AT) | BIT(F_SECONDS) | BIT(F_AGENT) |
	    BIT(F_FR_AT),
	[K_SURVEYED] = BIT(F_SURVEY) | BIT(F_SCALE) | BIT(F_AGENT),
	[K_ANSWERED] = BIT(F_SURVEY) | BIT(F_SCORE),
};

static int
kind_of(const char *name, size_t n)
{
	int k;

	for (k = 1; k < NK; k++)
		if (strlen(kind_names[k]) == n &&
		    memcmp(kind_names[k], name, n) == 0)
			return k;
	return K_OTHER;
}

/*
 * The kind and time of a line that begins as the inbox writes every one,
 * {"event":"NAME","at":"TIME", (lib/inbox-history.c): 0, or -1 if it
 * begins otherwise (then the whole line says).
 */
static int
peek(const char *line, size_t len, int *kind, time_t *at)
{
	static const char head[] = "{\"event\":\"", mid[] = "\",\"at\":\"";
	const char *name = line + sizeof head - 1, *q;
	struct field f = { .type = 's' };

	if (len < 64 || memcmp(line, head, sizeof head - 1) != 0 ||
	    !(q = memchr(name, '"', 20)) || (size_t)(q - line) + 32 > len ||
	    memcmp(q, mid, sizeof mid - 1) != 0 || q[sizeof mid + 19] != '"')
		return -1;
	f.s = q + sizeof mid - 1;
	f.len = 20;
	*kind = kind_of(name, (size_t)(q - name));
	return parse_time(&f, at);
}

/*
 * One line of the history: its event applied, or skipped and counted. A
 * line whose beginning says it is of no use here (an event of another
 * kind; a message, an opening or a survey outside the period) is passed
 * over unread: whether it is whole does not matter.
 */
static int
event(const char *line, size_t len, void *arg)
{
	struct state *s = arg;
	struct field f[NF];
	unsigned mask = ~0u;
	int kind, peeked;
	time_t at;

	if (len == 0)
		return 0;
	if ((peeked = peek(line, len, &kind, &at) == 0)) {
		if (kind == K_OTHER || ((kind == K_MESSAGE ||
		    kind == K_OPENED || kind == K_SURVEYED) &&
		    !in_period(s->r, at)))
			return 0;
		mask = kind_fields[kind] | BIT(F_EVENT) | BIT(F_AT) |
		    BIT(F_THREAD);
	}
	if (fields(s, line, len, mask, f) < 0 || f[F_EVENT].type != 's' ||
	    (!peeked && parse_time(&f[F_AT], &at) < 0) ||
	    f[F_THREAD].type != 's') {
		s->r->skipped++;
		return 0;
	}
	switch (kind_of(f[F_EVENT].s, f[F_EVENT].len)) {
	case K_MESSAGE:
		on_message(s, f, at);
		break;
	case K_OPENED:
	case K_REOPENED:
		on_opened(s, f, at);
		break;
	case K_FIRST_RESPONSE:
		on_first_response(s, f, at);
		break;
	case K_RESOLVED:
		on_resolved(s, f, at);
		break;
	case K_SURVEYED:
		on_surveyed(s, f, at);
		break;
	case K_ANSWERED:
		on_answered(s, f);
		break;
	}
	return 0;
}

/* --- Reading the history ---------------------------------------------- */

/*
 * The day files from since's day to today's, in order, through
 * inbox_history_each(); an inbox with no history/ yet has none.
 */
static int
read_history(struct state *s, struct inbox *ib, struct errbuf *e)
{
	char from[WHEN_BUFSZ], to[WHEN_BUFSZ];

	when_format(s->r->since, from);
	when_format(s->r->now, to);
	from[10] = to[10] = '\0';
	if (inbox_history_each(ib, from, to, event, s, e) < 0)
		return errno == ENOENT ? 0 : -1;
	return 0;
}

/* A conversation of the working set: in the backlog since its opened_at. */
static int
working(const struct inbox_conv *c, void *arg)
{
	struct state *s = arg;
	struct record_field rf = { .key = "opened_at" };
	struct field f;
	json_t *rec = NULL;
	time_t opened = s->r->since;

	if (record_pick(c->line, c->len, &rf, 1) == 1) {
		raw_field(s, 0, rf.val, rf.len, &f);
	} else if ((rec = record_parse(c->line, c->len, NULL))) {
		json_field(rec, "opened_at", &f);
	} else {
		return 0;
	}
	/* one with no opened_at is in every backlog, from the start */
	if (parse_time(&f, &opened) < 0 || opened < s->r->since)
		opened = s->r->since;
	json_decref(rec);
	if (c->thread) {
		struct field t = { .type = 's', .s = c->thread,
		    .len = strlen(c->thread) };

		opened = resumed_at(s, &t, opened);
	}
	backlog_span(s, opened, s->r->now + 1);
	return 0;
}

/* --- Putting it together ---------------------------------------------- */

static void
add_episode(struct report_figures *g, const struct episode *e,
    int count, int due, int res, time_t now)
{
	if (count)
		g->episodes++;
	if (due && e->fr >= 0) {
		vec_push(&g->frt, e->fr);
		g->due++;
		g->within += e->fr <= 3600;
	} else if (due && !e->noreply && now - e->opened >= 3600) {
		g->due++;
	}
	if (res && e->res >= 0)
		vec_push(&g->res, e->res);
}

static void
add_survey(struct report_figures *g, const struct survey *v)
{
	g->surveys++;
	g->sent[v->scale]++;
	if (v->score < 0)
		return;
	g->answers++;
	g->answered[v->scale]++;
	g->dist[v->scale][v->score]++;
	g->score_sum[v->scale] += v->score;
}

/* --by agent: the groups in the order of the agents' names, nobody's
 * last (insertion: agents are a roster's few). */
static void
sort_agents(struct report *r)
{
	struct report_figures t;
	size_t i, j;

	for (i = 1; i < r->ng; i++) {
		t = r->g[i];
		for (j = i; j > 0 && (r->g[j - 1].agent < 0 || (t.agent >= 0 &&
		    strcmp(report_agent(r, r->g[j - 1].agent),
		    report_agent(r, t.agent)) > 0)); j--)
			r->g[j] = r->g[j - 1];
		r->g[j] = t;
	}
}

/* The figures of each group from the episodes and surveys collected. */
static void
finish(struct state *s)
{
	struct report *r = s->r;
	size_t i;
	long run = 0;

	for (i = 0; i < s->nep; i++) {
		struct episode *e = &s->ep[i];

		add_episode(&r->total, e, 1, 1, 1, r->now);
		if (r->by >= BY_DAY)
			add_episode(&r->g[e->group], e, 1, 1, 1, r->now);
		if (r->by == BY_AGENT && e->fr_agent >= 0)
			add_episode(&r->g[e->fr_agent], e, 1, 1, 0, r->now);
		if (r->by == BY_AGENT && e->res_agent >= 0)
			add_episode(&r->g[e->res_agent], e, 0, 0, 1, r->now);
	}
	for (i = 0; i < s->nsv; i++) {
		add_survey(&r->total, &s->sv[i]);
		if (s->sv[i].group >= 0)
			add_survey(&r->g[s->sv[i].group], &s->sv[i]);
	}
	for (i = 0; i < r->ng; i++) {
		if (r->by >= BY_DAY)
			r->g[i].backlog = run += s->diff[i];
		vec_sort(&r->g[i].frt);
		vec_sort(&r->g[i].res);
	}
	vec_sort(&r->total.frt);
	vec_sort(&r->total.res);
	/* the agents' names, and their groups in the order of the names */
	r->agent_names = s->agents.keys;
	memset(&s->agents.keys, 0, sizeof s->agents.keys);
	if (!(r->agent_at = calloc(s->agents.n + 1, sizeof *r->agent_at)))
		nomem();
	for (i = 0; i < s->agents.n; i++)
		r->agent_at[i] = s->agents.ent[i].off;
	r->nagents = s->agents.n;
	if (r->by == BY_AGENT)
		sort_agents(r);
}

static void
state_free(struct state *s)
{
	int i;

	smap_free(&s->threads);
	smap_free(&s->agents);
	smap_free(&s->surveys);
	umap_free(&s->episode_of);
	umap_free(&s->seen);
	umap_free(&s->resumed_of);
	free(s->resumed);
	free(s->ep);
	free(s->sv);
	free(s->ends);
	free(s->diff);
	free(s->agroup);
	for (i = 0; i < NF; i++)
		buf_free(&s->scratch[i]);
	buf_free(&s->key);
	json_decref(s->parsed);
}

static void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->ng; i++) {
		free(r->g[i].frt.v);
		free(r->g[i].res.v);
	}
	free(r->total.frt.v);
	free(r->total.res.v);
	free(r->g);
	free(r->agent_at);
	buf_free(&r->agent_names);
}

/* --- Options ---------------------------------------------------------- */

/* A TIME of the command line: a time, or a duration back from now. */
static time_t
option_time(const struct report *r, const char *opt, const char *arg,
    time_t now)
{
	struct errbuf e;
	long long secs;
	int y, m, d, n = 0;
	time_t t;

	if (when_duration(arg, &secs, NULL) == 0)
		return now - (time_t)secs;
	/* A date alone is its first second where the report's days are. */
	if (strlen(arg) == 10 && sscanf(arg, "%4d-%2d-%2d%n", &y, &m, &d,
	    &n) == 3 && n == 10 && when_parse(arg, &t, NULL) == 0)
		return report_day_start(r, when_days(y, m, d));
	if (when_parse(arg, &t, &e) < 0)
		diag_die(EXIT_USAGE, "%s: '%s': %s", opt, arg, e.msg);
	return t;
}

static int
option_by(const char *arg)
{
	static const char *const words[] = { "agent", "day", "week",
	    "month" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(arg, words[i]) == 0)
			return BY_AGENT + i;
	diag_die(EXIT_USAGE, "--by: '%s' is not agent, day, week or month",
	    arg);
}

static void
option_format(struct report *r, int fmt, const char *name)
{
	static const char *const names[] = { "--json", "--table", "--csv" };

	if (r->fmt >= 0 && r->fmt != fmt)
		diag_die(EXIT_USAGE, "%s and %s exclude each other",
		    names[r->fmt], name);
	r->fmt = fmt;
}

static struct inbox *
open_inbox(struct inbox *ib, const char *dir, struct config **cfg)
{
	struct errbuf e;
	char *path;
	int err;

	if (!(*cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (config_load_default(*cfg, (path = inbox_path(dir)), &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(path);
	if (inbox_group_check(config_pick(*cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	if (inbox_open_group(ib, dir, 0, config_pick(*cfg, NULL, NULL,
	    "group", NULL), &e) < 0) {
		err = errno;
		inbox_close(ib);
		diag_die(diag_exit_for(err), "%s", e.msg);
	}
	return ib;
}

/* A file the inbox quarantined on the way: said, and the exit is 1. */
static void
quarantined(void *arg, const char *msg)
{
	diag_warn("%s", msg);
	*(int *)arg = EXIT_PARTIAL;
}

int
survey_report(int argc, char **argv)
{
	enum { OPT_BY = 256, OPT_CSV, OPT_TIMEZONE, OPT_UNTIL };
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, OPT_BY },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 'S' },
		{ "table", no_argument, NULL, 't' },
		{ "timezone", required_argument, NULL, OPT_TIMEZONE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { .fmt = -1, .total.agent = -1 };
	struct state s = { .r = &r, .nobody = -1 };
	const char *dir = NULL, *since = NULL, *until = NULL, *zone = NULL;
	struct tzdb *tzdb = NULL;
	struct config *cfg;
	struct inbox ib;
	struct errbuf e;
	int c, ret = 0;

	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	r.now = when_now();
	while ((c = getopt_long(argc, argv, "d:hjS:t", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case OPT_BY:
			r.by = option_by(optarg);
			break;
		case OPT_CSV:
			option_format(&r, FMT_CSV, "--csv");
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
			option_format(&r, FMT_JSON, "--json");
			break;
		case 'S':
			since = optarg;
			break;
		case 't':
			option_format(&r, FMT_TABLE, "--table");
			break;
		case OPT_TIMEZONE:
			zone = optarg;
			break;
		case OPT_UNTIL:
			until = optarg;
			break;
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	if (optind < argc) {
		diag_warn("report: '%s': no operands", argv[optind]);
		usage(stderr, EXIT_USAGE);
	}
	if (zone) {
		if (!(tzdb = tzdb_new(NULL)))
			diag_die(EXIT_IOERR, "report: %s", strerror(ENOMEM));
		if (!(r.zone = tzdb_get(tzdb, zone, &e)))
			diag_die(EXIT_USAGE, "--timezone: %s", e.msg);
	}
	r.until = until ? option_time(&r, "--until", until, r.now) : r.now;
	r.since = since ? option_time(&r, "--since", since, r.now) :
	    r.until - 7 * 86400;
	if (r.since > r.until)
		diag_die(EXIT_USAGE, "--since is after --until");
	if (r.until > r.now)
		diag_die(EXIT_USAGE, "--until: the period ends after now");
	if ((unsigned long long)(r.until - r.since) >= (1ULL << 34))
		diag_die(EXIT_USAGE, "--since: a period of over 500 years");
	if (r.fmt < 0)
		r.fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_JSON;
	setlocale(LC_CTYPE, "");
	r.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	r.total.since = r.since;
	r.total.until = r.until;
	if (r.by >= BY_DAY)
		make_periods(&s);

	open_inbox(&ib, dir, &cfg);
	ib.report = quarantined;
	ib.report_arg = &ret;
	if (read_history(&s, &ib, &e) < 0 ||
	    inbox_each(&ib, 0, working, &s, &e) < 0) {
		int err = errno;

		diag_die(diag_exit_for(err), "report: %s", e.msg);
	}
	finish(&s);
	if (report_print(&r) < 0)
		diag_die(EXIT_IOERR, "stdout: %s", strerror(errno));
	state_free(&s);
	report_free(&r);
	tzdb_free(tzdb);
	inbox_close(&ib);
	config_free(cfg);
	return diag_close_stdout(ret);
}
