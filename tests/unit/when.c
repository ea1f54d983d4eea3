/*
 * tests/unit/when.c: RFC 3339 times and durations.
 *
 * Expected instants were computed independently (Python's calendar.timegm)
 * and are cross-checked against gmtime_r() over a wide sweep, so the
 * days-from-civil arithmetic is tested against the C library's, under a
 * time zone set far from UTC to catch any use of local time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "tap.h"
#include "when.h"

static void
parses(const char *s, long long want)
{
	struct errbuf e = { "" };
	time_t t = 0;
	int r = when_parse(s, &t, &e);

	if (!ok(r == 0 && (long long)t == want, "\"%s\" is %lld", s, want))
		printf("#   got %d, %lld (%s)\n", r, (long long)t, e.msg);
}

static void
refused(const char *s, int err, const char *gist)
{
	struct errbuf e = { "" };
	time_t t = 0;
	int r;

	errno = 0;
	r = when_parse(s, &t, &e);
	if (!ok(r == -1 && errno == err && strstr(e.msg, gist),
	    "\"%s\": %s", s ? s : "(null)", gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
}

static void
formats(long long t, const char *want)
{
	char buf[WHEN_BUFSZ];
	size_t n = when_format((time_t)t, buf);

	if (!ok(n == 20 && strcmp(buf, want) == 0, "%lld is %s", t, want))
		printf("#   got %zu \"%s\"\n", n, buf);
}

static void
lasts(const char *s, long long want)
{
	struct errbuf e = { "" };
	long long v = -1;
	int r = when_duration(s, &v, &e);

	if (!ok(r == 0 && v == want, "duration \"%s\" is %lld", s, want))
		printf("#   got %d, %lld (%s)\n", r, v, e.msg);
}

static void
no_duration(const char *s, int err, const char *gist)
{
	struct errbuf e = { "" };
	long long v = -1;
	int r;

	errno = 0;
	r = when_duration(s, &v, &e);
	if (!ok(r == -1 && errno == err && strstr(e.msg, gist),
	    "duration \"%s\": %s", s ? s : "(null)", gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
}

static void
shows(long long secs, const char *want)
{
	char buf[WHEN_DURSZ];
	size_t n = when_format_duration(secs, buf, sizeof buf);

	if (!ok(n == strlen(want) && strcmp(buf, want) == 0, "%lld s shows %s",
	    secs, want))
		printf("#   got %zu \"%s\"\n", n, buf);
}

static void
test_parse(void)
{
	parses("2026-11-22T10:00:00Z", 1795341600);
	parses("2026-11-22t10:00:00z", 1795341600);
	parses("2026-11-22 10:00:00Z", 1795341600);
	parses("2026-11-22T10:00:00.999Z", 1795341600);
	parses("2026-11-22T10:00:00.1Z", 1795341600);
	parses("2026-11-22T10:00:00.123456789012Z", 1795341600);
	parses("2026-11-22T10:00:00+00:00", 1795341600);
	parses("2026-11-22T10:00:00-00:00", 1795341600);
	parses("2026-11-22T10:00:00+05:30", 1795321800);
	parses("2026-11-22T10:00:00-08:00", 1795370400);
	parses("2026-11-22T10:00:00.5-08:00", 1795370400);
	parses("2026-11-22T10:00:00+23:59", 1795341600 - 86340);
	parses("2026-11-22T10:00:00-23:59", 1795341600 + 86340);
	parses("2026-01-01T00:30:00+01:00", 1767223800);
	parses("2026-11-22", 1795305600);
	parses("1970-01-01T00:00:00Z", 0);
	parses("1970-01-01", 0);
	parses("1969-12-31T23:59:59Z", -1);
	parses("1900-01-01T00:00:00Z", -2208988800LL);
	parses("0000-01-01T00:00:00Z", -62167219200LL);
	parses("9999-12-31T23:59:59Z", 253402300799LL);
	parses("2038-01-19T03:14:07Z", 2147483647LL);
}

static void
test_leap(void)
{
	parses("2024-02-29", 1709164800);
	parses("2000-02-29T12:00:00Z", 951825600);
	parses("2016-12-31T23:59:60Z", 1483228800);
	parses("2017-01-01T00:00:00Z", 1483228800);
	parses("2016-12-31T15:59:60-08:00", 1483228800);
	refused("2023-02-29", EINVAL, "2023-02-29 is not in a leap year");
	refused("1900-02-29", EINVAL, "1900-02-29 is not in a leap year");
	refused("2100-02-29T00:00:00Z", EINVAL, "not in a leap year");
	refused("2024-02-30", EINVAL, "day out of range: 2024-02-30");
}

static void
test_refused(void)
{
	refused("", EINVAL, "empty time");
	refused(NULL, EINVAL, "empty time");
	refused("2026-11-22T10:00:00", EINVAL, "missing time zone");
	refused("2026-11-22T10:00Z", EINVAL, "expected HH:MM:SS");
	refused("2026-11-22T", EINVAL, "expected HH:MM:SS");
	refused("2026-11-22T1:00:00Z", EINVAL, "expected HH:MM:SS");
	refused("2026-13-01", EINVAL, "month out of range: 2026-13");
	refused("2026-00-10", EINVAL, "month out of range");
	refused("2026-04-31", EINVAL, "day out of range: 2026-04-31");
	refused("2026-01-00", EINVAL, "day out of range");
	refused("2026-11-22T24:00:00Z", EINVAL, "hour out of range");
	refused("2026-11-22T10:60:00Z", EINVAL, "minute out of range");
	refused("2026-11-22T10:00:61Z", EINVAL, "second out of range");
	refused("2026-11-22T10:00:00+24:00", EINVAL,
	    "offset out of range: +24:00");
	refused("2026-11-22T10:00:00-05:60", EINVAL,
	    "offset out of range: -05:60");
	refused("2026-11-22T10:00:00+0530", EINVAL, "expected Z or an offset");
	refused("2026-11-22T10:00:00+5:30", EINVAL, "expected Z or an offset");
	refused("2026-11-22T10:00:00UTC", EINVAL, "expected Z or an offset");
	refused("2026-11-22T10:00:00.Z", EINVAL, "expected digits after '.'");
	refused("2026-11-22T10:00:00,5Z", EINVAL, "expected Z or an offset");
	refused("2026-11-22T10:00:00Zjunk", EINVAL,
	    "trailing characters after the time: 'junk'");
	refused("2026-11-22T10:00:00Z ", EINVAL, "trailing characters");
	refused("2026-11-22x", EINVAL, "trailing characters");
	refused("2026-11-22 ", EINVAL, "expected HH:MM:SS");
	refused("26-11-22", EINVAL, "expected YYYY-MM-DD");
	refused("2026/11/22", EINVAL, "expected YYYY-MM-DD");
	refused("20261122", EINVAL, "expected YYYY-MM-DD");
	refused(" 2026-11-22", EINVAL, "expected YYYY-MM-DD");
	refused("+2026-11-22", EINVAL, "expected YYYY-MM-DD");
	refused("2026-1-22", EINVAL, "expected YYYY-MM-DD");
	refused("yesterday", EINVAL, "expected YYYY-MM-DD");
}

/* Past 2038 needs a 64-bit time_t; with 32 bits it must be refused. */
static void
test_2038(void)
{
	if (sizeof(time_t) >= 8) {
		parses("2038-01-19T03:14:08Z", 2147483648LL);
		parses("2106-02-07T06:28:16Z", 4294967296LL);
		formats(2147483648LL, "2038-01-19T03:14:08Z");
	} else {
		refused("2038-01-19T03:14:08Z", ERANGE, "out of range");
		refused("2106-02-07T06:28:16Z", ERANGE, "out of range");
		ok(1, "no 64-bit time_t to format");
	}
}

static void
test_format(void)
{
	formats(0, "1970-01-01T00:00:00Z");
	formats(-1, "1969-12-31T23:59:59Z");
	formats(-86400, "1969-12-31T00:00:00Z");
	formats(-86401, "1969-12-30T23:59:59Z");
	formats(1795341600, "2026-11-22T10:00:00Z");
	formats(1709164800, "2024-02-29T00:00:00Z");
	formats(951868799, "2000-02-29T23:59:59Z");
	formats(-2208988800LL, "1900-01-01T00:00:00Z");
	formats(2147483647, "2038-01-19T03:14:07Z");
	formats(INT_MIN, "1901-12-13T20:45:52Z");
	if (sizeof(time_t) >= 8) {
		formats(-62167219200LL, "0000-01-01T00:00:00Z");
		formats(-62167219201LL, "0000-01-01T00:00:00Z");
		formats(253402300799LL, "9999-12-31T23:59:59Z");
		formats(253402300800LL, "9999-12-31T23:59:59Z");
		formats(LLONG_MAX, "9999-12-31T23:59:59Z");
		formats(LLONG_MIN, "0000-01-01T00:00:00Z");
	}
}

/*
 * Every instant in a sweep over the whole range formats as gmtime_r() says
 * and parses back to itself. The step shares no factor with 60, so the
 * sweep lands on every second of the minute, and most of the day.
 */
static void
test_sweep(void)
{
	long long lo = sizeof(time_t) >= 8 ? -62167219200LL : INT_MIN;
	long long hi = sizeof(time_t) >= 8 ? 253402300799LL : INT_MAX;
	long long step = (hi - lo) / 200000, bad = 0, n = 0;
	char buf[WHEN_BUFSZ], want[64];
	struct errbuf e;
	struct tm tm;
	time_t t, back;

	while (step % 2 == 0 || step % 3 == 0 || step % 5 == 0)
		step++;
	for (long long v = lo; v <= hi; v += step, n++) {
		t = (time_t)v;
		when_format(t, buf);
		if (gmtime_r(&t, &tm) == NULL)
			continue;
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		if ((strcmp(buf, want) != 0 || when_parse(buf, &back, &e) < 0 ||
		    back != t) && bad++ < 5)
			printf("#   %lld: got %s, gmtime %s\n", v, buf, want);
	}
	ok(bad == 0 && n >= 199999, "%lld instants agree with gmtime_r and "
	    "parse back (%lld wrong)", n, bad);
}

/* The parser must not read local time: a far-off TZ changes nothing. */
static void
test_tz(void)
{
	struct errbuf e;
	time_t t = 0;
	char buf[WHEN_BUFSZ];

	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	ok(when_parse("2026-11-22T10:00:00Z", &t, &e) == 0 &&
	    t == 1795341600, "parse ignores TZ");
	when_format(1795341600, buf);
	is_str(buf, "2026-11-22T10:00:00Z", "format ignores TZ");
	unsetenv("TZ");
	tzset();
}

static void
test_duration(void)
{
	lasts("90s", 90);
	lasts("15m", 900);
	lasts("1h", 3600);
	lasts("7d", 604800);
	lasts("2w", 1209600);
	lasts("1h30m", 5400);
	lasts("1d12h", 129600);
	lasts("1w2d3h4m5s", 788645);
	lasts("2h5s", 7205);
	lasts("300", 300);
	lasts("0", 0);
	lasts("0s", 0);
	lasts("007m", 420);
	lasts("9223372036854775807", LLONG_MAX);
	lasts("9223372036854775807s", LLONG_MAX);
	lasts("15250284452471w", 15250284452471LL * 604800);
	lasts("15250284452471w1d", 15250284452471LL * 604800 + 86400);
	no_duration("", EINVAL, "empty duration");
	no_duration(NULL, EINVAL, "empty duration");
	no_duration("-5m", EINVAL, "negative duration");
	no_duration("-0", EINVAL, "negative duration");
	no_duration("+5m", EINVAL, "expected a number at '+'");
	no_duration("5x", EINVAL, "unknown unit 'x'");
	no_duration("5H", EINVAL, "unknown unit 'H'");
	no_duration("5min", EINVAL, "unknown unit 'min'");
	no_duration("2 hours", EINVAL, "unknown unit ' '");
	no_duration("2hours", EINVAL, "unknown unit 'hours'");
	no_duration("1h30mins", EINVAL, "unknown unit 'mins'");
	no_duration("1.5h", EINVAL, "unknown unit '.'");
	no_duration("1h30", EINVAL, "missing unit after 30");
	no_duration("30m1h", EINVAL, "unit 'h' repeated or out of order");
	no_duration("1h1h", EINVAL, "unit 'h' repeated or out of order");
	no_duration("h", EINVAL, "expected a number at 'h'");
	no_duration("1h ", EINVAL, "expected a number at ' '");
	no_duration(" 1h", EINVAL, "expected a number at ' '");
	no_duration("1h\t", EINVAL, "expected a number at byte 0x09");
	no_duration("5 m", EINVAL, "unknown unit ' '");
	no_duration("9223372036854775808", ERANGE, "duration too large");
	no_duration("99999999999999999999999s", ERANGE, "duration too large");
	no_duration("15250284452472w", ERANGE, "duration too large");
	no_duration("1m9223372036854775807s", ERANGE, "duration too large");
	no_duration("106751991167301d", ERANGE, "duration too large");
}

static void
test_format_duration(void)
{
	char small[4];
	size_t n;

	shows(0, "0s");
	shows(45, "45s");
	shows(59, "59s");
	shows(60, "1m");
	shows(119, "1m");
	shows(720, "12m");
	shows(3599, "59m");
	shows(3600, "1h00m");
	shows(3 * 3600 + 5 * 60 + 59, "3h05m");
	shows(86399, "23h59m");
	shows(86400, "1d00h");
	shows(2 * 86400 + 4 * 3600 + 3599, "2d04h");
	shows(400 * 86400LL, "400d00h");
	shows(-90, "-1m");
	shows(-45, "-45s");
	shows(LLONG_MAX, "106751991167300d15h");
	shows(LLONG_MIN, "-106751991167300d15h");
	n = when_format_duration(3 * 3600 + 5 * 60, small, sizeof small);
	ok(n == 5 && strcmp(small, "3h0") == 0,
	    "a short buffer is cut and the whole length returned");
	ok(when_format_duration(90, NULL, 0) == 2, "NULL, 0 measures");
}

int
main(void)
{
	test_parse();
	test_leap();
	test_refused();
	test_2038();
	test_format();
	test_sweep();
	test_tz();
	test_duration();
	test_format_duration();
	/* SMSDESK_NOW: pinned, running, bad. */
	{
		struct errbuf e;
		time_t t0, t1;

		setenv("SMSDESK_NOW", "2026-11-24T01:59:57Z", 1);
		is_int(when_now_valid(&e), 0, "SMSDESK_NOW pinned: valid");
		ok(when_now() == 1795485597, "pinned: the time given");
		setenv("SMSDESK_NOW", "2026-11-24T01:59:57Z+", 1);
		is_int(when_now_valid(&e), 0, "SMSDESK_NOW running: valid");
		t0 = when_now();
		ok(t0 >= 1795485597 && t0 <= 1795485598, "running: starts "
		    "at the time given");
		sleep(1);
		t1 = when_now();
		ok(t1 >= t0 + 1 && t1 <= t0 + 2, "and runs");
		setenv("SMSDESK_NOW", "yesterday+", 1);
		is_int(when_now_valid(&e), -1, "'yesterday+' is refused");
		unsetenv("SMSDESK_NOW");
		is_int(when_now_valid(&e), 0, "unset: valid");
	}
	return tap_done();
}
