/*
 * when.c: RFC 3339 times and compact durations, without the C library's
 * time zone machinery.
 *
 * Civil dates and day numbers convert by Howard Hinnant's days_from_civil
 * and civil_from_days ("chrono-Compatible Low-Level Date Algorithms"): the
 * year is shifted to start in March, so February's leap day falls last,
 * and counted in 400-year eras of 146097 days. They are exact for every
 * year here and need neither timegm(3) nor TZ. The parser reads by hand
 * (no sscanf) so that every malformed field gets its own message and
 * nothing past the end of the string is ever read.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "when.h"

#define DAY 86400LL

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	return m == 2 && leap(y) ? 29 : n[m - 1];
}

static int
bad(struct errbuf *e, int err, const char *msg)
{
	errno = err;
	return errf(e, "%s", msg);
}

/* Read exactly n digits at p into *v; the end of them, or NULL. */
static const char *
num(const char *p, int n, int *v)
{
	int x = 0;

	if (p == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return NULL;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	return p + n;
}

/* p past the character c, or NULL if *p is not c. */
static const char *
sep(const char *p, char c)
{
	return p && *p == c ? p + 1 : NULL;
}

/* The zone at p into *off (seconds east of UTC); the end of it, or NULL. */
static const char *
zone(const char *p, long long *off, struct errbuf *e)
{
	int hh, mm, neg = *p == '-';

	if (*p == 'Z' || *p == 'z') {
		*off = 0;
		return p + 1;
	}
	if (*p == '\0') {
		bad(e, EINVAL, "missing time zone: add Z or an offset like "
		    "+05:30");
		return NULL;
	}
	if ((*p != '+' && !neg) ||
	    !(p = num(sep(num(p + 1, 2, &hh), ':'), 2, &mm))) {
		bad(e, EINVAL, "expected Z or an offset like +05:30 after the "
		    "time");
		return NULL;
	}
	if (hh > 23 || mm > 59) {
		errno = EINVAL;
		errf(e, "time zone offset out of range: %c%02d:%02d",
		    neg ? '-' : '+', hh, mm);
		return NULL;
	}
	*off = (neg ? -1 : 1) * (hh * 3600LL + mm * 60LL);
	return p;
}

int
when_parse(const char *s, time_t *out, struct errbuf *e)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	long long off = 0, v;
	const char *p;

	if (s == NULL || *s == '\0')
		return bad(e, EINVAL, "empty time");
	p = num(sep(num(sep(num(s, 4, &y), '-'), 2, &mo), '-'), 2, &d);
	if (p == NULL)
		return bad(e, EINVAL, "not a time: expected YYYY-MM-DD or "
		    "YYYY-MM-DDTHH:MM:SSZ");
	if (mo < 1 || mo > 12) {
		errno = EINVAL;
		return errf(e, "month out of range: %04d-%02d", y, mo);
	}
	if (d < 1 || d > month_days(y, mo)) {
		errno = EINVAL;
		return errf(e, "day out of range: %04d-%02d-%02d%s", y, mo, d,
		    mo == 2 && d == 29 ? " is not in a leap year" : "");
	}
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p = num(sep(num(sep(num(p + 1, 2, &h), ':'), 2, &mi), ':'),
		    2, &sec);
		if (p == NULL)
			return bad(e, EINVAL, "expected HH:MM:SS after the "
			    "date");
		if (h > 23 || mi > 59 || sec > 60) {
			errno = EINVAL;
			return errf(e, "%s out of range: %02d:%02d:%02d",
			    h > 23 ? "hour" : mi > 59 ? "minute" : "second",
			    h, mi, sec);
		}
		if (*p == '.') {
			if (p[1] < '0' || p[1] > '9')
				return bad(e, EINVAL,
				    "expected digits after '.' in the time");
			while (*++p >= '0' && *p <= '9')
				;
		}
		if ((p = zone(p, &off, e)) == NULL)
			return -1;
	}
	if (*p != '\0') {
		errno = EINVAL;
		return errf(e, "trailing characters after the time: '%.40s'",
		    p);
	}
	v = days_from_civil(y, mo, d) * DAY + h * 3600LL + mi * 60LL + sec -
	    off;
	if ((long long)(time_t)v != v)
		return bad(e, ERANGE, "time out of range for this system");
	*out = (time_t)v;
	return 0;
}

static char *
put(char *p, long long v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

size_t
when_format(time_t t, char buf[WHEN_BUFSZ])
{
	static const long long lo = -62167219200LL;	/* 0000-01-01 */
	static const long long hi = 253402300799LL;	/* 9999-12-31 end */
	long long v = t, days, rem, y;
	int m, d;
	char *p = buf;

	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	days = v / DAY;
	rem = v % DAY;
	if (rem < 0) {
		rem += DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	p = put(p, y, 4);
	*p++ = '-';
	p = put(p, m, 2);
	*p++ = '-';
	p = put(p, d, 2);
	*p++ = 'T';
	p = put(p, rem / 3600, 2);
	*p++ = ':';
	p = put(p, rem / 60 % 60, 2);
	*p++ = ':';
	p = put(p, rem % 60, 2);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

static const struct {
	char c;
	long long secs;
} units[] = {
	{ 'w', 7 * DAY }, { 'd', DAY }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

#define NUNITS (sizeof units / sizeof units[0])

/* c quoted for a message: "'x'", or "byte 0xNN" if it does not print. */
static const char *
show(unsigned char c, char buf[16])
{
	if (c >= ' ' && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", c);
	return buf;
}

int
when_duration(const char *s, long long *secs, struct errbuf *e)
{
	const char *p = s;
	long long total = 0, n;
	size_t last = 0, u;
	int w;
	char cb[16];

	if (s == NULL || *s == '\0')
		return bad(e, EINVAL, "empty duration");
	if (*s == '-')
		return bad(e, EINVAL, "negative duration");
	while (*p) {
		if (*p < '0' || *p > '9') {
			errno = EINVAL;
			return errf(e, "not a duration: expected a number at "
			    "%s", show((unsigned char)*p, cb));
		}
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			if (n > (LLONG_MAX - (*p - '0')) / 10)
				return bad(e, ERANGE, "duration too large");
			n = n * 10 + (*p - '0');
		}
		if (*p == '\0' && last == 0) {
			*secs = n;	/* a bare number: seconds */
			return 0;
		}
		if (*p == '\0') {
			errno = EINVAL;
			return errf(e, "missing unit after %lld (use s, m, h, "
			    "d or w)", n);
		}
		for (u = 0; u < NUNITS && units[u].c != *p; u++)
			;
		for (w = 0; (p[w] | 0x20) >= 'a' && (p[w] | 0x20) <= 'z'; w++)
			;
		if (u == NUNITS || w > 1) {
			errno = EINVAL;
			if (w == 0)
				return errf(e, "unknown unit %s in duration "
				    "(use s, m, h, d or w)",
				    show((unsigned char)*p, cb));
			return errf(e, "unknown unit '%.*s' in duration (use "
			    "s, m, h, d or w)", w > 20 ? 20 : w, p);
		}
		if (u < last) {
			errno = EINVAL;
			return errf(e, "unit '%c' repeated or out of order "
			    "(largest first, as in 1h30m)", *p);
		}
		if (n > LLONG_MAX / units[u].secs ||
		    total > LLONG_MAX - n * units[u].secs)
			return bad(e, ERANGE, "duration too large");
		total += n * units[u].secs;
		last = u + 1;
		p++;
	}
	*secs = total;
	return 0;
}

size_t
when_format_duration(long long secs, char *buf, size_t n)
{
	const char *sign = secs < 0 ? "-" : "";
	unsigned long long v = secs < 0 ? 0 - (unsigned long long)secs :
	    (unsigned long long)secs;
	int r;

	if (v < 60)
		r = snprintf(buf, n, "%s%llus", sign, v);
	else if (v < 3600)
		r = snprintf(buf, n, "%s%llum", sign, v / 60);
	else if (v < DAY)
		r = snprintf(buf, n, "%s%lluh%02llum", sign, v / 3600,
		    v % 3600 / 60);
	else
		r = snprintf(buf, n, "%s%llud%02lluh", sign, v / DAY,
		    v % DAY / 3600);
	return r < 0 ? 0 : (size_t)r;
}

long long
when_days(long long y, int m, int d)
{
	return days_from_civil(y, m, d);
}

void
when_civil(long long days, long long *y, int *m, int *d)
{
	civil_from_days(days, y, m, d);
}

/* SMSDESK_NOW's time into *t, and whether it runs; -1 if unset or bad. */
static int
now_env(time_t *t, int *running, struct errbuf *e)
{
	const char *env = getenv("SMSDESK_NOW");
	char buf[64];
	size_t len;

	if (!env || !*env)
		return -1;
	len = strlen(env);
	*running = env[len - 1] == '+';
	if (len - (size_t)*running >= sizeof buf)
		return errf(e, "'%s' is not an RFC 3339 time", env);
	memcpy(buf, env, len - (size_t)*running);
	buf[len - (size_t)*running] = '\0';
	return when_parse(buf, t, e);
}

int
when_now_valid(struct errbuf *e)
{
	const char *env = getenv("SMSDESK_NOW");
	time_t t;
	int running;

	return !env || !*env ? 0 : now_env(&t, &running, e);
}

/*
 * SMSDESK_NOW pins the clock (a testing aid); with a '+' after the time it
 * starts the clock there and lets it run, counted from the first call.
 */
time_t
when_now(void)
{
	static _Atomic time_t started;
	time_t t, zero = 0;
	struct timespec ts;
	int running;

	if (now_env(&t, &running, NULL) < 0)
		return time(NULL);
	if (!running)
		return t;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	atomic_compare_exchange_strong(&started, &zero, ts.tv_sec);
	return t + (ts.tv_sec - atomic_load(&started));
}
