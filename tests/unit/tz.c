/*
 * tests/unit/tz.c: zone offsets and local times against the C library.
 *
 * The oracle is glibc's localtime_r() with TZ set in this process (one
 * thread, so setenv is safe here; it is what tz.c exists to avoid in
 * the programs). Every zone of the installed tzdata.zi is swept from
 * 1900 to 2200 in steps of a little over eleven days; wherever glibc's
 * offset changes between two samples the exact second is found by
 * bisection, and both sides of it are compared too, so every DST edge
 * of the sweep (and those the footer rules make after 2037) is checked
 * to the second. POSIX rules are checked the same way on their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "tz.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define FROM (-2208988800LL)	/* 1900-01-01 */
#define TO 7258118400LL		/* 2200-01-01 */
#define STEP (11 * 86400LL + 7 * 3600 + 13)

struct tally {
	long checked, bad;
	char first[160];
};

static long
glibc_off(time_t t, struct tm *tm)
{
	localtime_r(&t, tm);
	return tm->tm_gmtoff;
}

static void
compare(const struct tz *z, time_t t, struct tally *n)
{
	struct tz_local l;
	struct tm tm;
	long want = glibc_off(t, &tm);

	tz_local(z, t, &l);
	n->checked++;
	if (l.off == want && l.isdst == (tm.tm_isdst > 0) &&
	    l.year == tm.tm_year + 1900LL && l.mon == tm.tm_mon + 1 &&
	    l.mday == tm.tm_mday && l.wday == tm.tm_wday &&
	    l.hour == tm.tm_hour && l.min == tm.tm_min && l.sec == tm.tm_sec)
		return;
	if (!n->bad++)
		snprintf(n->first, sizeof n->first, "at %lld: offset %ld dst "
		    "%d %lld-%02d-%02d %02d:%02d, glibc %ld dst %d "
		    "%d-%02d-%02d %02d:%02d", (long long)t, l.off, l.isdst,
		    l.year, l.mon, l.mday, l.hour, l.min, want, tm.tm_isdst,
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min);
}

/* Sweep [from, to) comparing z with glibc under the TZ already set. */
static void
sweep(const struct tz *z, long long from, long long to, long long step,
    struct tally *n)
{
	struct tm tm;
	long long t, prev = from;
	long poff = glibc_off((time_t)from, &tm);

	for (t = from; t < to; t += step) {
		long off = glibc_off((time_t)t, &tm);

		if (off != poff) {
			long long lo = prev, hi = t;

			/* The first second of the new offset. */
			while (hi - lo > 1) {
				long long mid = lo + (hi - lo) / 2;

				if (glibc_off((time_t)mid, &tm) == poff)
					lo = mid;
				else
					hi = mid;
			}
			compare(z, (time_t)(hi - 1), n);
			compare(z, (time_t)hi, n);
			compare(z, (time_t)(hi + 1), n);
		}
		compare(z, (time_t)t, n);
		prev = t;
		poff = off;
	}
}

static void
use_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
posix(const char *rule)
{
	struct errbuf e = { "" };
	struct tally n = { 0 };
	struct tz *z = tz_from_posix(rule, &e);

	if (!ok(z != NULL, "rule %s parses", rule)) {
		printf("#   %s\n", e.msg);
		return;
	}
	use_tz(rule);
	/* 2000 to 2100, and the edges of a few years to the minute. */
	sweep(z, 946684800LL, 4102444800LL, 3 * 86400 + 3599, &n);
	if (!ok(n.bad == 0, "rule %s: %ld instants as glibc", rule,
	    n.checked))
		printf("#   %ld differ; first %s\n", n.bad, n.first);
	tz_free(z);
}

static void
bad_rule(const char *rule)
{
	struct errbuf e = { "" };
	struct tz *z = tz_from_posix(rule, &e);

	ok(z == NULL && errno == EINVAL, "'%s' is refused", rule);
	tz_free(z);
}

int
main(void)
{
	struct tzdb *db = tzdb_new(ZONEINFO);
	struct errbuf e = { "" };
	const struct tz *z, *z2;
	struct tz_local l;
	long zones = 0, instants = 0, bad = 0;
	char line[512], name[256];
	FILE *fp;

	/* The footers the tzdata of Debian 12 holds, and some odd ones. */
	posix("EST5EDT,M3.2.0,M11.1.0");
	posix("CET-1CEST,M3.5.0,M10.5.0/3");
	posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
	posix("NZST-12NZDT,M9.5.0,M4.1.0/3");
	posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
	posix("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
	posix("IST-2IDT,M3.4.4/26,M10.5.0");
	posix("IST-1GMT0,M10.5.0,M3.5.0/1");
	posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	posix("EET-2EEST,M3.4.4/50,M10.4.4/50");
	posix("EET-2EEST,M4.5.5/0,M10.5.4/24");
	posix("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
	posix("NST3:30NDT,M3.2.0,M11.1.0");
	posix("<+0545>-5:45");
	posix("XXX3YYY,J60/2,300/2");
	posix("XXX-3YYY-5,59/1:30,J59");
	bad_rule("");
	bad_rule("EST");
	bad_rule("E5");
	bad_rule("EST5EDT,M13.1.0,M11.1.0");
	bad_rule("EST5EDT,M3.2.0");
	bad_rule("<+05-5");
	bad_rule("EST5:7");

	/* Names that would leave the zone directory, or are not there. */
	ok(!tzdb_get(db, "../etc/passwd", &e) && errno == EINVAL,
	    "a name with .. is refused");
	ok(!tzdb_get(db, "/etc/localtime", &e) && errno == EINVAL,
	    "an absolute name is refused");
	ok(!tzdb_get(db, "Mars/Olympus_Mons", &e) && errno == ENOENT &&
	    strstr(e.msg, "unknown time zone"), "a missing zone: %s", e.msg);
	ok(!tzdb_get(db, "zone.tab", &e) && errno == EINVAL,
	    "a file that is not TZif is refused: %s", e.msg);
	z = tzdb_get(db, "America/New_York", &e);
	z2 = tzdb_get(db, "America/New_York", &e);
	ok(z && z == z2, "a zone is loaded once");
	if (z) {
		is_str(tz_name(z), "America/New_York", "its name");
		/* 2026-03-08 07:00:00Z is 03:00 EDT: the gap at 02:00. */
		tz_local(z, 1772953199, &l);
		ok(l.hour == 1 && l.min == 59 && l.off == -18000 && !l.isdst,
		    "a second before the change: 01:59:59 EST");
		tz_local(z, 1772953200, &l);
		ok(l.hour == 3 && l.min == 0 && l.off == -14400 && l.isdst,
		    "the change: 03:00 EDT");
		tz_local(z, 4102444800LL, &l);
		ok(l.year == 2099 && l.mon == 12 && l.mday == 31 &&
		    l.hour == 19 && l.wday == 4,
		    "2100-01-01T00:00Z is Thursday 2099-12-31 19:00 there");
	}

	/* Every zone of the database against glibc. */
	if (!(fp = fopen(ZONEINFO "/tzdata.zi", "r"))) {
		ok(0, "%s/tzdata.zi: %s", ZONEINFO, strerror(errno));
		return tap_done();
	}
	while (fgets(line, sizeof line, fp)) {
		struct tally n = { 0 };
		char tzenv[300];

		if (sscanf(line, "Z %255s", name) != 1)
			continue;
		if (!(z = tzdb_get(db, name, &e))) {
			ok(0, "%s loads: %s", name, e.msg);
			continue;
		}
		snprintf(tzenv, sizeof tzenv, ":%s", name);
		use_tz(tzenv);
		sweep(z, FROM, TO, STEP, &n);
		zones++;
		instants += n.checked;
		if (n.bad) {
			bad++;
			ok(0, "%s as glibc", name);
			printf("#   %ld of %ld differ; first %s\n", n.bad,
			    n.checked, n.first);
		}
	}
	fclose(fp);
	ok(zones > 300 && bad == 0, "%ld zones, %ld instants 1900-2200 "
	    "(every DST edge to the second), as glibc", zones, instants);
	tzdb_free(db);
	return tap_done();
}
