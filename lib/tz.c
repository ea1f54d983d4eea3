/*
 * tz.c: TZif files and POSIX TZ rules (RFC 8536, POSIX XBD 8.3).
 *
 * A TZif file is a header, a version 1 data block of 32-bit times, and,
 * from version 2 on, a second header and block of 64-bit times followed
 * by a footer line holding a POSIX TZ rule for the times after the last
 * transition. We skip the 32-bit block when there is a second one, keep
 * the transition times, their type indices and each type's offset and
 * DST flag, and parse the footer into a rule. Leap-second records (the
 * "right/" zones) are skipped: smsdesk counts POSIX time.
 *
 * An offset at t: before the first transition, type 0 (RFC 8536 3.2);
 * from the last transition on, the footer's rule if there is one; else
 * the type of the latest transition at or before t, by binary search.
 *
 * A rule's transitions in a year are computed in the local standard
 * year of t, so a rule whose DST runs over New Year (the southern
 * hemisphere, or tzcode's "all year DST" idiom ",0/0,J365/25") is read
 * in the year it began. Rule times may be negative or past 24:00 (TZif
 * version 3), hence the wide range of times below.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tz.h"
#include "when.h"

#define TZ_DIR "/usr/share/zoneinfo"
#define TZIF_MAX (1 << 20)	/* the largest zone file is a few kB */
#define DAY 86400LL

/* When one half of a POSIX rule begins: a day, and a local time then. */
struct edge {
	char kind;		/* 'J' (1-365, no Feb 29), 'N' (0-365), 'M' */
	int a, b, c;		/* n; or month, week, weekday */
	long time;		/* seconds after local midnight */
};

struct rule {
	long std, dst;		/* offsets, seconds east */
	int has_dst;
	struct edge start, end;
};

struct ttype {
	long off;
	int isdst;
};

struct tz {
	char *name;
	size_t n;		/* transitions */
	int64_t *at;
	unsigned char *idx;
	struct ttype *type;
	size_t ntype;
	int has_rule;
	struct rule rule;
	struct tz *next;	/* in its tzdb */
};

struct tzdb {
	pthread_mutex_t lock;
	char *dir;
	struct tz *zones;
};

/* --- POSIX rules ------------------------------------------------------- */

/* A zone abbreviation: 3 or more letters, or <...> quoted. */
static const char *
rule_name(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		while (*++p && *p != '>')
			if (!(*p == '+' || *p == '-' || (*p >= '0' &&
			    *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z')))
				return NULL;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh at most maxh, into *v seconds. */
static const char *
rule_time(const char *p, int maxh, long *v)
{
	int sign = 1, part = 0;
	long f[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (;;) {
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 3) {
			f[part] = f[part] * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits || (part > 0 && (digits != 2 || f[part] > 59)))
			return NULL;
		if (part == 2 || *p != ':')
			break;
		p++;
		part++;
	}
	if (f[0] > maxh)
		return NULL;
	*v = sign * (f[0] * 3600 + f[1] * 60 + f[2]);
	return p;
}

static const char *
rule_int(const char *p, int min, int max, int *v)
{
	long x = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		x = x * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || x < min || x > max)
		return NULL;
	*v = (int)x;
	return p;
}

static const char *
rule_edge(const char *p, struct edge *e)
{
	if (*p == 'J') {
		e->kind = 'J';
		p = rule_int(p + 1, 1, 365, &e->a);
	} else if (*p == 'M') {
		e->kind = 'M';
		if (!(p = rule_int(p + 1, 1, 12, &e->a)) || *p++ != '.' ||
		    !(p = rule_int(p, 1, 5, &e->b)) || *p++ != '.')
			return NULL;
		p = rule_int(p, 0, 6, &e->c);
	} else {
		e->kind = 'N';
		p = rule_int(p, 0, 365, &e->a);
	}
	e->time = 7200;
	if (p && *p == '/')
		p = rule_time(p + 1, 167, &e->time);
	return p;
}

static int
rule_parse(const char *s, struct rule *r)
{
	const char *p = s;
	long west;

	memset(r, 0, sizeof *r);
	if (!(p = rule_name(p)) || !(p = rule_time(p, 24, &west)))
		return -1;
	r->std = -west;
	if (!*p)
		return 0;
	r->has_dst = 1;
	if (!(p = rule_name(p)))
		return -1;
	r->dst = r->std + 3600;
	if (*p && *p != ',') {
		if (!(p = rule_time(p, 24, &west)))
			return -1;
		r->dst = -west;
	}
	if (!*p) {
		/* No dates: POSIX leaves them to us; tzcode uses the US's. */
		r->start = (struct edge){ 'M', 3, 2, 0, 7200 };
		r->end = (struct edge){ 'M', 11, 1, 0, 7200 };
		return 0;
	}
	if (*p++ != ',' || !(p = rule_edge(p, &r->start)) || *p++ != ',' ||
	    !(p = rule_edge(p, &r->end)) || *p)
		return -1;
	return 0;
}

static int
leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day of e in year y, in days from 1970-01-01. */
static long long
edge_day(const struct edge *e, long long y)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	long long first, day;
	int len;

	switch (e->kind) {
	case 'J':
		return when_days(y, 1, 1) + e->a - 1 +
		    (leap(y) && e->a >= 60);
	case 'N':
		return when_days(y, 1, 1) + e->a;
	default:
		first = when_days(y, e->a, 1);
		len = mdays[e->a - 1] + (e->a == 2 && leap(y));
		/* 1970-01-01 was a Thursday (4). */
		day = first + ((e->c - (first % 7 + 11) % 7) + 7) % 7 +
		    (e->b - 1) * 7LL;
		if (day >= first + len)
			day -= 7;
		return day;
	}
}

/* The rule's offset at t. */
static long
rule_offset(const struct rule *r, time_t t, int *isdst)
{
	long long y, start, end;
	int m, d;

	*isdst = 0;
	if (!r->has_dst)
		return r->std;
	when_civil(((long long)t + r->std) / DAY - (((long long)t + r->std) %
	    DAY < 0), &y, &m, &d);
	/* The change to DST happens in standard time, the end in DST. */
	start = edge_day(&r->start, y) * DAY + r->start.time - r->std;
	end = edge_day(&r->end, y) * DAY + r->end.time - r->dst;
	if (start < end)
		*isdst = t >= start && t < end;
	else
		*isdst = !(t >= end && t < start);
	return *isdst ? r->dst : r->std;
}

/* --- TZif ------------------------------------------------------------- */

static int64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

struct hdr {
	int version;
	size_t isut, isstd, leap, time, type, chars;
};

static int
read_hdr(const unsigned char *p, size_t len, struct hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = p[4] ? p[4] - '0' : 1;
	h->isut = (size_t)be(p + 20, 4);
	h->isstd = (size_t)be(p + 24, 4);
	h->leap = (size_t)be(p + 28, 4);
	h->time = (size_t)be(p + 32, 4);
	h->type = (size_t)be(p + 36, 4);
	h->chars = (size_t)be(p + 40, 4);
	/* Counts are checked against the file's length, each in turn. */
	if (h->isut > len || h->isstd > len || h->leap > len ||
	    h->time > len || h->type > len || h->chars > len ||
	    h->type == 0 || h->type > 256)
		return -1;
	return 0;
}

static size_t
block_len(const struct hdr *h, int tsize)
{
	return h->time * (size_t)tsize + h->time + h->type * 6 + h->chars +
	    h->leap * (size_t)(tsize + 4) + h->isstd + h->isut;
}

static int
parse_tzif(struct tz *z, const unsigned char *p, size_t len)
{
	struct hdr h;
	size_t off = 0, i, blen;
	int tsize = 4;
	const unsigned char *q;

	if (read_hdr(p, len, &h) < 0)
		return -1;
	blen = block_len(&h, 4);
	if (h.version >= 2) {
		if (44 + blen > len)
			return -1;
		off = 44 + blen;
		if (read_hdr(p + off, len - off, &h) < 0)
			return -1;
		tsize = 8;
		blen = block_len(&h, 8);
	}
	if (off + 44 + blen > len)
		return -1;
	q = p + off + 44;
	z->n = h.time;
	z->ntype = h.type;
	if (!(z->at = calloc(h.time + 1, sizeof *z->at)) ||
	    !(z->idx = calloc(h.time + 1, 1)) ||
	    !(z->type = calloc(h.type, sizeof *z->type)))
		return -1;
	for (i = 0; i < h.time; i++) {
		z->at[i] = be(q + i * (size_t)tsize, tsize);
		if (i > 0 && z->at[i] <= z->at[i - 1])
			return -1;
	}
	q += h.time * (size_t)tsize;
	for (i = 0; i < h.time; i++)
		if ((z->idx[i] = q[i]) >= h.type)
			return -1;
	q += h.time;
	for (i = 0; i < h.type; i++) {
		z->type[i].off = (long)be(q + i * 6, 4);
		z->type[i].isdst = q[i * 6 + 4] != 0;
		if (z->type[i].off <= -26 * 3600 || z->type[i].off >= 26 * 3600)
			return -1;
	}
	if (h.version >= 2) {
		const char *f = (const char *)p + off + 44 + blen, *nl;
		size_t left = len - (off + 44 + blen);
		char rule[128];

		if (left < 2 || *f != '\n' || !(nl = memchr(f + 1, '\n',
		    left - 1)) || (size_t)(nl - f - 1) >= sizeof rule)
			return -1;
		memcpy(rule, f + 1, (size_t)(nl - f - 1));
		rule[nl - f - 1] = '\0';
		if (*rule) {
			if (rule_parse(rule, &z->rule) < 0)
				return -1;
			z->has_rule = 1;
		}
	}
	return 0;
}

/* --- Zones -------------------------------------------------------------- */

void
tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->name);
	free(z->at);
	free(z->idx);
	free(z->type);
	free(z);
}

struct tz *
tz_from_posix(const char *rule, struct errbuf *e)
{
	struct tz *z = calloc(1, sizeof *z);

	if (!z || !(z->name = strdup(rule))) {
		free(z);
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (rule_parse(rule, &z->rule) < 0) {
		tz_free(z);
		errno = EINVAL;
		errf(e, "'%s' is not a POSIX TZ rule", rule);
		return NULL;
	}
	z->has_rule = 1;
	return z;
}

const char *
tz_name(const struct tz *z)
{
	return z->name;
}

long
tz_offset(const struct tz *z, time_t t, int *isdst)
{
	size_t lo, hi;
	int dst;

	if (!isdst)
		isdst = &dst;
	if (z->has_rule && (z->n == 0 || (int64_t)t >= z->at[z->n - 1]))
		return rule_offset(&z->rule, t, isdst);
	if (z->n == 0 || (int64_t)t < z->at[0]) {
		*isdst = z->type[0].isdst;
		return z->type[0].off;
	}
	/* The last transition at or before t. */
	lo = 0;
	hi = z->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= (int64_t)t)
			lo = mid;
		else
			hi = mid;
	}
	*isdst = z->type[z->idx[lo]].isdst;
	return z->type[z->idx[lo]].off;
}

void
tz_local(const struct tz *z, time_t t, struct tz_local *out)
{
	long long s, days, rem;

	out->off = tz_offset(z, t, &out->isdst);
	s = (long long)t + out->off;
	days = s / DAY - (s % DAY < 0);
	rem = s - days * DAY;
	when_civil(days, &out->year, &out->mon, &out->mday);
	out->days = days;
	out->wday = (int)((days % 7 + 11) % 7);
	out->hour = (int)(rem / 3600);
	out->min = (int)(rem / 60 % 60);
	out->sec = (int)(rem % 60);
}

/* A name that stays inside the zone directory. */
static int
valid_name(const char *name)
{
	const char *p;

	if (!*name || *name == '/' || strlen(name) > 200)
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-.", *p)))
			return 0;
	for (p = name; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (*p == '.' || *p == '/' || !*p)
			return 0;
	}
	return 1;
}

static struct tz *
load(const char *dir, const char *name, struct errbuf *e)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	struct tz *z = NULL;
	size_t len = 0;
	ssize_t k;
	int fd;

	if (!valid_name(name)) {
		errno = EINVAL;
		errf(e, "'%s' is not a time zone name", name);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errf(e, errno == ENOENT || errno == ENOTDIR ? "unknown time "
		    "zone '%s' (no %s)" : "time zone '%s': %s", name,
		    errno == ENOENT || errno == ENOTDIR ? path :
		    strerror(errno));
		if (errno == ENOTDIR)
			errno = ENOENT;
		return NULL;
	}
	if (!(buf = malloc(TZIF_MAX)))
		goto nomem;
	while ((k = read(fd, buf + len, TZIF_MAX - len)) > 0)
		len += (size_t)k;
	if (k < 0) {
		errf(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!(z = calloc(1, sizeof *z)) || !(z->name = strdup(name)))
		goto nomem;
	errno = 0;
	if (len == TZIF_MAX || parse_tzif(z, buf, len) < 0) {
		if (errno == ENOMEM)
			goto nomem;
		errno = EINVAL;
		errf(e, "%s: not a TZif file", path);
		goto fail;
	}
	free(buf);
	close(fd);
	return z;
nomem:
	errno = ENOMEM;
	errf(e, "%s", strerror(ENOMEM));
fail:
	tz_free(z);
	free(buf);
	close(fd);
	return NULL;
}

struct tzdb *
tzdb_new(const char *dir)
{
	struct tzdb *db = calloc(1, sizeof *db);
	const char *env = getenv("TZDIR");

	if (!dir)
		dir = env && *env == '/' ? env : TZ_DIR;
	if (!db || !(db->dir = strdup(dir))) {
		free(db);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	return db;
}

void
tzdb_free(struct tzdb *db)
{
	struct tz *z, *next;

	if (!db)
		return;
	for (z = db->zones; z; z = next) {
		next = z->next;
		tz_free(z);
	}
	pthread_mutex_destroy(&db->lock);
	free(db->dir);
	free(db);
}

const struct tz *
tzdb_get(struct tzdb *db, const char *name, struct errbuf *e)
{
	struct tz *z;

	pthread_mutex_lock(&db->lock);
	for (z = db->zones; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			break;
	if (!z && (z = load(db->dir, name, e))) {
		z->next = db->zones;
		db->zones = z;
	}
	pthread_mutex_unlock(&db->lock);
	return z;
}
