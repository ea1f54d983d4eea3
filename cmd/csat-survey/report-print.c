/*
 * report-print.c: csat-survey report's output, csat-survey(1): NDJSON (a
 * "report" record per group, then the total), CSV (a header line, then a
 * row per group and the total), or a table with bar charts of the score
 * distribution and of the first-response times, drawn with block
 * elements on a UTF-8 terminal and with '#' on any other.
 *
 * The figures of a group (report.h) become: rates and shares in percent
 * with one decimal, NPS from -100 to 100, the mean with two, durations in
 * whole seconds (nearest-rank percentiles), and null where there is
 * nothing to work one out from (no survey, no answer, no episode) or the
 * figure is not kept for such a group (inbound messages and the backlog
 * of an agent).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "when.h"
#include "csat-survey/report.h"

/* A figure worked out, or none (printed null, "-" or empty). */
struct num {
	int set;
	double v;
	int prec;		/* decimals */
};

/* The figures of a group, as printed. */
struct row {
	const char *group;	/* "day" ... "agent", "total" */
	char key[64];		/* its period or agent; "" for none */
	int has_key;
	const struct report_figures *f;
	const char *scale;	/* one scale, "mixed", or NULL */
	int one;		/* the scale, when one, else -1 */
	struct num rate, csat, nps, mean, within;
	struct num frt_med, frt_p90, res_med, res_p90, in, backlog;
};

static const char *const group_names[] = {
	"total", "agent", "day", "week", "month",
};

static struct num
pct(long a, long b)
{
	return (struct num){ b > 0, b > 0 ? 100.0 * (double)a / (double)b :
	    0, 1 };
}

static struct num
whole(long v)
{
	return (struct num){ v >= 0, (double)v, 0 };
}

/* The label of group f's period: 2026-12-06, 2026-W49, 2026-12. */
static void
period_label(const struct report *r, time_t t, char *out, size_t n)
{
	long long d = report_day(r, t), y;
	int m, dd;

	if (r->by == BY_WEEK) {
		/* ISO 8601: the week is its Thursday's year's */
		long long mon = d - (d + 3) % 7, thu = mon + 3;

		when_civil(thu, &y, &m, &dd);
		snprintf(out, n, "%04lld-W%02lld", y,
		    (thu - when_days(y, 1, 1)) / 7 + 1);
		return;
	}
	when_civil(d, &y, &m, &dd);
	if (r->by == BY_MONTH)
		snprintf(out, n, "%04lld-%02d", y, m);
	else
		snprintf(out, n, "%04lld-%02d-%02d", y, m, dd);
}

static void
make_row(const struct report *r, const struct report_figures *f,
    int total, struct row *w)
{
	int i, n = 0;
	long top = 0, topn = 0, promo = 0, detr = 0;

	memset(w, 0, sizeof *w);
	w->f = f;
	w->group = group_names[total ? 0 : r->by];
	w->one = -1;
	if (!total && r->by == BY_AGENT) {
		w->has_key = f->agent >= 0;
		if (w->has_key)
			snprintf(w->key, sizeof w->key, "%s",
			    report_agent(r, f->agent));
	} else if (!total) {
		w->has_key = 1;
		period_label(r, f->since, w->key, sizeof w->key);
	}
	for (i = 0; i < NSCALES; i++)
		if (f->sent[i])
			n++, w->one = i;
	if (n > 1)
		w->one = -1;
	w->scale = n == 0 ? NULL : n > 1 ? "mixed" : report_scales[w->one];
	w->rate = pct(f->answers, f->surveys);
	top = f->dist[SCALE_5][4] + f->dist[SCALE_5][5] + f->dist[SCALE_3][3];
	topn = f->answered[SCALE_5] + f->answered[SCALE_3];
	w->csat = pct(top, topn);
	for (i = 0; i <= 10; i++) {
		promo += i >= 9 ? f->dist[SCALE_10][i] : 0;
		detr += i <= 6 ? f->dist[SCALE_10][i] : 0;
	}
	w->nps = pct(promo - detr, f->answered[SCALE_10]);
	if (w->one >= 0 && f->answered[w->one])
		w->mean = (struct num){ 1, (double)f->score_sum[w->one] /
		    (double)f->answered[w->one], 2 };
	w->within = pct(f->within, f->due);
	w->frt_med = whole(report_percentile(&f->frt, 50));
	w->frt_p90 = whole(report_percentile(&f->frt, 90));
	w->res_med = whole(report_percentile(&f->res, 50));
	w->res_p90 = whole(report_percentile(&f->res, 90));
	w->in = whole(!total && r->by == BY_AGENT ? -1 : f->msgs_in);
	w->backlog = whole(f->backlog);
}

/* --- NDJSON and CSV --------------------------------------------------- */

static void
add_num(struct buf *b, struct num n, const char *none)
{
	char s[64];

	if (!n.set) {
		buf_adds(b, none);
		return;
	}
	snprintf(s, sizeof s, "%.*f", n.prec, n.v);
	buf_adds(b, s);
}

static void
add_long(struct buf *b, long v)
{
	char s[32];

	snprintf(s, sizeof s, "%ld", v);
	buf_adds(b, s);
}

static void
add_field(struct buf *b, const char *name)
{
	buf_addc(b, ',');
	buf_addc(b, '"');
	buf_adds(b, name);
	buf_addlit(b, "\":");
}

static void
add_distribution(struct buf *b, const struct row *w)
{
	int i;

	if (w->one < 0) {
		buf_addlit(b, "null");
		return;
	}
	buf_addc(b, '{');
	for (i = report_scale_lo[w->one]; i <= report_scale_hi[w->one]; i++) {
		if (i > report_scale_lo[w->one])
			buf_addc(b, ',');
		buf_addc(b, '"');
		add_long(b, i);
		buf_addlit(b, "\":");
		add_long(b, w->f->dist[w->one][i]);
	}
	buf_addc(b, '}');
}

/* The fields after "key", in order, as NDJSON (csv 0) or CSV. */
static void
add_figures(struct buf *b, const struct row *w, int csv)
{
	const struct report_figures *f = w->f;
	const char *none = csv ? "" : "null";
	char t[WHEN_BUFSZ];
	struct {
		const char *name;
		struct num n;
	} v[] = {
		{ "surveys", whole(f->surveys) },
		{ "answers", whole(f->answers) },
		{ "response_rate", w->rate },
		{ "scale", { 0, 0, 0 } },
		{ "csat", w->csat },
		{ "nps", w->nps },
		{ "mean", w->mean },
		{ "distribution", { 0, 0, 0 } },
		{ "conversations", whole(f->conversations) },
		{ "messages_in", w->in },
		{ "messages_out", whole(f->msgs_out) },
		{ "segments", whole(f->segments) },
		{ "episodes", whole(f->episodes) },
		{ "first_responses", whole((long)f->frt.n) },
		{ "first_response_median", w->frt_med },
		{ "first_response_p90", w->frt_p90 },
		{ "within_1h", w->within },
		{ "resolutions", whole((long)f->res.n) },
		{ "resolution_median", w->res_med },
		{ "resolution_p90", w->res_p90 },
		{ "backlog", w->backlog },
	};
	size_t i;

	when_format(f->since, t);
	csv ? buf_addc(b, ',') : add_field(b, "since");
	csv ? buf_add(b, t, 20) : buf_add_jstr(b, t, 20);
	when_format(f->until, t);
	csv ? buf_addc(b, ',') : add_field(b, "until");
	csv ? buf_add(b, t, 20) : buf_add_jstr(b, t, 20);
	for (i = 0; i < sizeof v / sizeof *v; i++) {
		if (csv && strcmp(v[i].name, "distribution") == 0)
			continue;
		csv ? buf_addc(b, ',') : add_field(b, v[i].name);
		if (strcmp(v[i].name, "scale") == 0) {
			if (w->scale && !csv)
				buf_add_jstr(b, w->scale, strlen(w->scale));
			else
				buf_adds(b, w->scale ? w->scale : none);
		} else if (strcmp(v[i].name, "distribution") == 0) {
			add_distribution(b, w);
		} else {
			add_num(b, v[i].n, none);
		}
	}
}

static void
add_json(struct buf *b, const struct report *r, const struct row *w,
    int total)
{
	buf_addlit(b, "{\"type\":\"report\",\"group\":");
	buf_add_jstr(b, w->group, strlen(w->group));
	buf_addlit(b, ",\"key\":");
	if (w->has_key)
		buf_add_jstr(b, w->key, strlen(w->key));
	else
		buf_addlit(b, "null");
	add_figures(b, w, 0);
	if (total) {
		add_field(b, "skipped");
		add_long(b, r->skipped);
	}
	buf_addlit(b, "}\n");
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void
add_csv_str(struct buf *b, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\r\n")) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (p = s; *p; p++) {
		if (*p == '"')
			buf_addc(b, '"');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static void
add_csv(struct buf *b, const struct row *w)
{
	buf_adds(b, w->group);
	buf_addc(b, ',');
	if (w->has_key)
		add_csv_str(b, w->key);
	add_figures(b, w, 1);
	buf_addc(b, '\n');
}

#define CSV_HEADER "group,key,since,until,surveys,answers,response_rate," \
	"scale,csat,nps,mean,conversations,messages_in,messages_out," \
	"segments,episodes,first_responses,first_response_median," \
	"first_response_p90,within_1h,resolutions,resolution_median," \
	"resolution_p90,backlog\n"

/* --- The table -------------------------------------------------------- */

static void
cell_num(struct buf *b, int width, struct num n, const char *unit)
{
	char s[64];

	if (!n.set)
		snprintf(s, sizeof s, "%*s", width, "-");
	else
		snprintf(s, sizeof s, "%*.*f%s", width - (int)strlen(unit),
		    n.prec, n.v, unit);
	buf_adds(b, s);
}

static void
cell_dur(struct buf *b, int width, struct num n)
{
	char d[WHEN_DURSZ], s[64];

	if (n.set)
		when_format_duration((long long)n.v, d, sizeof d);
	snprintf(s, sizeof s, "%*s", width, n.set ? d : "-");
	buf_adds(b, s);
}

static void
cell_long(struct buf *b, int width, long v)
{
	char s[32];

	snprintf(s, sizeof s, "%*ld", width, v);
	buf_adds(b, s);
}

/* The label of a row, cut or padded to 12 characters (a character is
 * taken for a column; agents' names are ASCII as a rule). */
static void
cell_label(struct buf *b, const struct row *w)
{
	const char *s = w->has_key ? w->key : strcmp(w->group, "total") == 0 ?
	    "total" : "(nobody)";
	size_t i, chars = 0;

	for (i = 0; s[i]; i++) {
		if ((s[i] & 0xC0) != 0x80 && chars++ == 12)
			break;
		buf_addc(b, s[i]);
	}
	for (; chars < 12; chars++)
		buf_addc(b, ' ');
}

static void
table_rows(struct buf *b, const struct row *rows, size_t n)
{
	size_t i;

	buf_addlit(b, "\n            SURVEYS ANSWERS   RATE   CSAT    NPS "
	    " MEAN\n");
	for (i = 0; i < n; i++) {
		const struct row *w = &rows[i];

		cell_label(b, w);
		cell_long(b, 8, w->f->surveys);
		cell_long(b, 8, w->f->answers);
		cell_num(b, 7, w->rate, "%");
		cell_num(b, 7, w->csat, "%");
		cell_num(b, 7, w->nps, "");
		cell_num(b, 6, w->mean, "");
		buf_addc(b, '\n');
	}
	buf_addlit(b, "\n            CONVS    IN   OUT  SEGS EPISODES  FIRST "
	    "REPLY    <1H  RESOLVED IN  BACKLOG\n"
	    "                                          median   p90        "
	    "median   p90\n");
	for (i = 0; i < n; i++) {
		const struct row *w = &rows[i];

		cell_label(b, w);
		cell_long(b, 5, w->f->conversations);
		if (w->in.set)
			cell_long(b, 6, w->f->msgs_in);
		else
			buf_addlit(b, "     -");
		cell_long(b, 6, w->f->msgs_out);
		cell_long(b, 6, w->f->segments);
		cell_long(b, 9, w->f->episodes);
		cell_dur(b, 8, w->frt_med);
		cell_dur(b, 6, w->frt_p90);
		cell_num(b, 7, w->within, "%");
		cell_dur(b, 8, w->res_med);
		cell_dur(b, 6, w->res_p90);
		if (w->backlog.set)
			cell_long(b, 9, w->f->backlog);
		else
			buf_addlit(b, "        -");
		buf_addc(b, '\n');
	}
}

#define BAR_WIDTH 40

/* A bar of v against max, BAR_WIDTH cells at most, then v. */
static void
bar(struct buf *b, const char *label, long v, long max, int utf8)
{
	/* the left eighths of a cell, U+258F to U+2589, and a full one */
	static const char *const eighth[] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589" };
	long units = max > 0 ? (v * BAR_WIDTH * 8 + max / 2) / max : 0, i;
	size_t cols = 0;
	const char *p;

	/* the label padded to 6 columns: a character is a column */
	buf_addlit(b, "  ");
	buf_adds(b, label);
	for (p = label; *p; p++)
		cols += (*p & 0xC0) != 0x80;
	for (; cols < 6; cols++)
		buf_addc(b, ' ');
	if (!utf8)
		units = (units + 4) / 8 * 8;
	for (i = 0; i < units / 8; i++)
		buf_adds(b, utf8 ? "\u2588" : "#");
	if (utf8)
		buf_adds(b, eighth[units % 8]);
	if (v > 0 && units == 0)
		buf_adds(b, utf8 ? "\u258f" : "#");
	buf_addc(b, ' ');
	add_long(b, v);
	buf_addc(b, '\n');
}

static void
chart_scores(struct buf *b, const struct report_figures *f, int utf8)
{
	int sc, i;
	long max;
	char label[16];

	for (sc = 0; sc < NSCALES; sc++) {
		if (!f->sent[sc])
			continue;
		buf_addlit(b, "\nScores on ");
		buf_adds(b, report_scales[sc]);
		buf_addlit(b, ", ");
		add_long(b, f->answered[sc]);
		buf_adds(b, f->answered[sc] == 1 ? " answer\n" :
		    " answers\n");
		for (max = 0, i = report_scale_lo[sc];
		    i <= report_scale_hi[sc]; i++)
			if (f->dist[sc][i] > max)
				max = f->dist[sc][i];
		for (i = report_scale_hi[sc]; i >= report_scale_lo[sc]; i--) {
			snprintf(label, sizeof label, "%d", i);
			bar(b, label, f->dist[sc][i], max, utf8);
		}
	}
}

static void
chart_times(struct buf *b, const struct report_figures *f, int utf8)
{
	static const struct {
		const char *label;	/* at most this long; ASCII, UTF-8 */
		const char *utf8;
		long most;
	} bucket[] = {
		{ "<=5m", "\u22645m", 300 }, { "<=15m", "\u226415m", 900 },
		{ "<=1h", "\u22641h", 3600 }, { "<=4h", "\u22644h", 4 * 3600 },
		{ "<=1d", "\u22641d", 86400 }, { "more", "more", -1 },
	};
	long count[6] = { 0 }, max = 0;
	size_t i, k;

	if (!f->frt.n)
		return;
	for (i = 0; i < f->frt.n; i++) {
		for (k = 0; bucket[k].most >= 0 &&
		    f->frt.v[i] > bucket[k].most; k++)
			;
		count[k]++;
	}
	for (k = 0; k < 6; k++)
		if (count[k] > max)
			max = count[k];
	buf_addlit(b, "\nFirst replies (time to the first, at most), ");
	add_long(b, (long)f->frt.n);
	buf_adds(b, f->frt.n == 1 ? " episode\n" : " episodes\n");
	for (k = 0; k < 6; k++)
		bar(b, utf8 ? bucket[k].utf8 : bucket[k].label, count[k],
		    max, utf8);
}

static void
add_table(struct buf *b, const struct report *r, const struct row *rows,
    size_t n)
{
	char t0[WHEN_BUFSZ], t1[WHEN_BUFSZ];
	static const char *const by[] = { "", " by agent", " by day",
	    " by week", " by month" };

	when_format(r->since, t0);
	when_format(r->until, t1);
	buf_addlit(b, "From ");
	buf_adds(b, t0);
	buf_addlit(b, " to ");
	buf_adds(b, t1);
	buf_adds(b, by[r->by]);
	buf_addc(b, '\n');
	table_rows(b, rows, n);
	chart_scores(b, &r->total, r->utf8);
	chart_times(b, &r->total, r->utf8);
	if (r->skipped) {
		buf_addlit(b, "\n");
		add_long(b, r->skipped);
		buf_adds(b, r->skipped == 1 ? " history line" :
		    " history lines");
		buf_addlit(b, " skipped (torn, or not an event)\n");
	}
}

int
report_print(struct report *r)
{
	struct buf b = { 0 };
	struct row *rows = calloc(r->ng + 1, sizeof *rows);
	size_t i;
	int rc = 0;

	if (!rows)
		return -1;
	for (i = 0; i < r->ng; i++)
		make_row(r, &r->g[i], 0, &rows[i]);
	make_row(r, &r->total, 1, &rows[r->ng]);
	if (r->fmt == FMT_TABLE) {
		add_table(&b, r, rows, r->ng + 1);
	} else {
		if (r->fmt == FMT_CSV)
			buf_addlit(&b, CSV_HEADER);
		for (i = 0; i <= r->ng; i++) {
			if (r->fmt == FMT_CSV)
				add_csv(&b, &rows[i]);
			else
				add_json(&b, r, &rows[i], i == r->ng);
		}
	}
	if (b.err)
		rc = -1;
	else if (b.len && fwrite(b.p, 1, b.len, stdout) != b.len)
		rc = -1;
	buf_free(&b);
	free(rows);
	return rc;
}
