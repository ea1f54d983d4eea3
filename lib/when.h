/*
 * when.h: times and durations, as records and command lines write them.
 *
 * A time in a record is an RFC 3339 UTC string ("2026-11-22T10:00:00Z",
 * sms-record(5)); when_parse() also takes what providers and people send
 * (offsets, fractions, a bare date) and when_format() writes the one form.
 * Neither depends on TZ or the C library's time zone code: dates are
 * counted in days from 1970-01-01 on the proleptic Gregorian calendar, and
 * leap seconds are not counted (POSIX time).
 *
 * A duration on a command line ("--overdue 1h30m") is a sum of terms, each
 * a number and a unit: w (7 days), d, h, m, s, largest first, each unit at
 * most once; a bare number is seconds. when_format_duration() writes at
 * most the two largest units, for a table column (see there).
 */
#ifndef WHEN_H
#define WHEN_H

#include <stddef.h>
#include <time.h>

#include "diag.h"

#define WHEN_BUFSZ 21		/* "2026-11-22T10:00:00Z" and NUL */
#define WHEN_DURSZ 24		/* any when_format_duration() and NUL */

/*
 * Parse an RFC 3339 date-time (T, t or a space between date and time;
 * fractional seconds truncated; Z, z or an offset up to +-23:59; second 60
 * read as the first second of the next minute) or a bare date YYYY-MM-DD
 * (midnight UTC) into *out. Returns 0, or -1 with errno EINVAL (ERANGE if
 * time_t cannot hold it) and e filled.
 */
int when_parse(const char *s, time_t *out, struct errbuf *e);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ" in buf; returns the length, 20. Times
 * before year 0 or after 9999 are written as the nearest one within. */
size_t when_format(time_t t, char buf[WHEN_BUFSZ]);

/*
 * Parse a duration ("90s", "15m", "1h30m", "1d12h", "2w", "300") into
 * *secs. Returns 0, or -1 with errno EINVAL (ERANGE on overflow) and e
 * filled.
 */
int when_duration(const char *s, long long *secs, struct errbuf *e);

/*
 * Write secs compactly in buf (n bytes, snprintf rules): under a minute
 * "45s", under an hour "12m", under a day "3h05m", else "2d04h": what is
 * left over is dropped, not rounded, and the second unit is two digits
 * wide; a negative duration is written as its size after a "-".
 * Returns the length of the whole string, as snprintf does.
 */
size_t when_format_duration(long long secs, char *buf, size_t n);

/*
 * Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12,
 * d 1-31), and back: the calendar arithmetic the parser uses, for
 * modules that count local dates (tz.c).
 */
long long when_days(long long y, int m, int d);
void when_civil(long long days, long long *y, int *m, int *d);

/*
 * The time now: $SMSDESK_NOW when it holds a time when_parse() reads (a
 * testing aid, smsdesk(7): tests of business and quiet hours pin the
 * clock with it), else time(NULL). Programs that read it check it at
 * startup with when_parse() and refuse one that does not parse.
 */
time_t when_now(void);

/*
 * Whether SMSDESK_NOW, if set, is a time when_now() can use ("...Z", or
 * "...Z+" for a clock that starts there and runs): 0, or -1 with e filled.
 */
int when_now_valid(struct errbuf *e);

#endif
