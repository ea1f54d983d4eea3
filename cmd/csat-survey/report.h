/*
 * report.h: what csat-survey report works out (report.c) and prints
 * (report-print.c), shared by the two.
 *
 * A report covers the period [since, until] (both included, seconds).
 * Its figures are kept per group: one per UTC day, ISO week or calendar
 * month of the period (--by day, week, month; every period of the range,
 * empty or not), or one per agent met (--by agent; the index of the agent
 * in the report's agent table, the last one standing for nobody), and
 * always the total. report.c says which event puts a figure in which
 * group.
 */
#ifndef CSAT_REPORT_H
#define CSAT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

enum { BY_NONE, BY_AGENT, BY_DAY, BY_WEEK, BY_MONTH };
enum { FMT_JSON, FMT_TABLE, FMT_CSV };

/* The survey scales, as "scale" names them (spec: "1-5", "0-10", "1-3"). */
enum { SCALE_5, SCALE_10, SCALE_3, NSCALES };
extern const char *const report_scales[NSCALES];
extern const int report_scale_lo[NSCALES], report_scale_hi[NSCALES];

/* Durations in seconds, for percentiles: one per episode of a group. */
struct report_vec {
	int32_t *v;
	size_t n, cap;
};

struct report_figures {
	time_t since, until;	/* the group's part of the period */
	long agent;		/* --by agent: its index in the agent
				 * table, -1 for nobody */
	long surveys, answers;
	long sent[NSCALES], answered[NSCALES];
	long dist[NSCALES][11];	/* answers per score */
	long score_sum[NSCALES];
	long conversations, msgs_in, msgs_out, segments;
	long episodes;
	struct report_vec frt;	/* first-response times */
	long due, within;	/* episodes due an answer in an hour, and
				 * answered within it */
	struct report_vec res;	/* resolution times */
	long backlog;		/* -1: not worked out for the group */
};

struct tz;

struct report {
	int by, fmt;
	time_t since, until, now;
	const struct tz *zone;	/* --timezone: days, weeks and months are
				 * its; NULL: UTC's */
	struct report_figures total;
	struct report_figures *g;	/* the groups, in order */
	size_t ng;
	struct buf agent_names;	/* --by agent: each name and a NUL, */
	size_t *agent_at;	/* where each begins, by agent index */
	size_t nagents;
	long skipped;		/* history lines that did not parse, or
				 * lacked a field their event needs */
	int utf8;		/* the terminal's characters are UTF-8 */
};

/*
 * The date of t in r's zone (UTC without one), in days from 1970-01-01;
 * and the first second of day d there.
 */
long long report_day(const struct report *r, time_t t);
time_t report_day_start(const struct report *r, long long d);

/*
 * The tables (report-map.c). smap: strings (any bytes) to the numbers 0,
 * 1, 2... in the order they came; smap_get() gives the number of k, made
 * if add, else -1 if absent. umap: 64-bit keys, never 0, to numbers;
 * umap_get() gives the value of k, or -1 if absent, when it is absent
 * and add also setting it to v.
 */
struct smap {
	struct { uint32_t off, len, hash; } *ent;	/* by number */
	uint32_t *slot;		/* 0 empty, else number + 1 */
	size_t n, cap;		/* cap: slots, a power of 2 */
	struct buf keys;
};

struct umap {
	uint64_t *key;
	uint32_t *val;
	size_t n, cap;
};

long smap_get(struct smap *m, const char *k, size_t n, int add);
void smap_free(struct smap *m);
long umap_get(struct umap *m, uint64_t k, int add, uint32_t v);
void umap_free(struct umap *m);

/* Add x seconds (within 0 and INT32_MAX) to v; sort v. */
void vec_push(struct report_vec *v, long x);
void vec_sort(struct report_vec *v);

/* The name of agent i of r, or NULL for nobody (i < 0). */
const char *report_agent(const struct report *r, long i);

/* The nearest-rank percentile pct (1 to 100) of v, sorted; -1 if empty. */
long report_percentile(const struct report_vec *v, int pct);

/* Print r as its format says; 0, or -1 with errno (stdout failed). */
int report_print(struct report *r);

#endif
