/*
 * tests/unit/hours.c: business hours, quiet windows, and the zones of
 * phone numbers.
 *
 * The quiet-hours sweep is smsdesk(7), GUARANTEES, quiet hours: for
 * numbers in every US zone (and two that span zones), every 15 minutes of 2026,
 * hours_quiet() must agree with an oracle built on glibc's localtime_r
 * (TZ set in this single-threaded test), and the time it says the
 * window opens must be the first minute at which no zone is quiet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hours.h"
#include "phonezone.h"
#include "tap.h"
#include "tz.h"

#define Y2026 1767225600LL	/* 2026-01-01T00:00:00Z */

static struct tzdb *db;

static void
parses(const char *spec)
{
	struct hours h;
	struct errbuf e = { "" };

	if (!ok(hours_parse(&h, spec, &e) == 0, "'%s' parses", spec))
		printf("#   %s\n", e.msg);
}

static void
refused(const char *spec, const char *gist)
{
	struct hours h;
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = hours_parse(&h, spec, &e);
	if (!ok(r < 0 && errno == EINVAL && strstr(e.msg, gist),
	    "'%s' is refused: %s", spec, gist))
		printf("#   got %d \"%s\"\n", r, e.msg);
}

static int
open_at(const struct hours *h, int wday, int hour, int min)
{
	struct tz_local l = { .wday = wday, .hour = hour, .min = min };

	return hours_open(h, &l);
}

#define MINUTES ((365 + 3) * 1440L)

/*
 * The oracle: for each minute of 2026 (and a few days after), whether it
 * is quiet (in w) in any of zones, by glibc. One zone at a time, so TZ
 * changes once per zone.
 */
static unsigned char *
oracle(const char *zones, const struct hours_window *w)
{
	unsigned char *q = calloc(MINUTES, 1);
	char copy[1024], tzenv[300], *z, *save;
	struct tm tm;
	time_t t;

	if (!q)
		exit(1);
	snprintf(copy, sizeof copy, "%s", zones);
	for (z = strtok_r(copy, " ", &save); z; z = strtok_r(NULL, " ",
	    &save)) {
		snprintf(tzenv, sizeof tzenv, ":%s", z);
		setenv("TZ", tzenv, 1);
		tzset();
		for (long i = 0; i < MINUTES; i++) {
			t = (time_t)(Y2026 + i * 60);
			localtime_r(&t, &tm);
			int m = tm.tm_hour * 60 + tm.tm_min;

			if (w->from < w->to ? m >= w->from && m < w->to :
			    m >= w->from || m < w->to)
				q[i] = 1;
		}
	}
	return q;
}

static int
quiet_at(const unsigned char *q, time_t t)
{
	return q[((long long)t - Y2026) / 60];
}

/* The sweep of number's zones for the window w. */
static void
sweep_window(const char *number, struct hours_window w)
{
	const char *zones = phonezone_lookup(number, NULL), *zone;
	struct errbuf e = { "" };
	long checked = 0, bad = 0, badopen = 0;
	unsigned char *q;
	time_t t, open;
	int r;

	if (!ok(zones != NULL, "%s has zones", number))
		return;
	q = oracle(zones, &w);
	for (t = (time_t)Y2026; t < (time_t)(Y2026 + 365 * 86400LL);
	    t += 900) {
		r = hours_quiet(db, zones, &w, t, &zone, &open, &e);
		checked++;
		if (r < 0 || r != quiet_at(q, t)) {
			if (!bad++)
				printf("#   %s at %lld: %d (%s)\n", number,
				    (long long)t, r, r < 0 ? e.msg : "");
			continue;
		}
		if (r && (open <= t || open % 60 || quiet_at(q, open) ||
		    !quiet_at(q, open - 60))) {
			if (!badopen++)
				printf("#   %s at %lld: opens at %lld?\n",
				    number, (long long)t, (long long)open);
		}
	}
	ok(bad == 0 && badopen == 0, "%s (%s), %02d:%02d-%02d:%02d: %ld "
	    "quarter hours of 2026 as glibc, and when each quiet spell ends",
	    number, zones, w.from / 60, w.from % 60, w.to / 60, w.to % 60,
	    checked);
	free(q);
}

static void
sweep(const char *number)
{
	sweep_window(number, (struct hours_window){ 21 * 60, 8 * 60 });
}

int
main(void)
{
	struct hours h;
	struct hours_window w;
	struct errbuf e = { "" };
	const char *zones, *prefix, *zone;
	size_t i, m, nz = 0, nbad = 0;
	time_t open;

	db = tzdb_new("/usr/share/zoneinfo");

	/* Business hours. */
	parses("Mon-Fri 09:00-17:00");
	parses("Mon-Fri 09:00-17:00, Sat 10:00-14:00");
	parses("mon-fri 9:00-12:30 13:30-17:00,sat 10:00-14:00");
	parses("Fri-Mon 00:00-24:00");
	refused("", "empty item");
	refused("Mon-Fri", "need opening times");
	refused("Mon-Fri 9-17", "HH:MM-HH:MM");
	refused("Mon-Fri 09:00-25:00", "HH:MM-HH:MM");
	refused("Mon-Fri 17:00-09:00", "ends after it starts");
	refused("Monday 09:00-17:00", "days are Mon");
	refused("Mon-Fri 09:00-17:00,", "empty item");
	refused("Mon-Xyz 09:00-17:00", "range of days");
	refused("Mon-Fri 09:00-17:00 x", "HH:MM-HH:MM");
	hours_parse(&h, "Mon-Fri 09:00-12:30 13:30-17:00, Sat 10:00-14:00",
	    &e);
	ok(open_at(&h, 1, 9, 0), "open Monday 09:00");
	ok(!open_at(&h, 1, 8, 59), "closed Monday 08:59");
	ok(!open_at(&h, 3, 12, 30) && open_at(&h, 3, 12, 29),
	    "closed for lunch at 12:30, open at 12:29");
	ok(open_at(&h, 5, 16, 59) && !open_at(&h, 5, 17, 0),
	    "Friday: open at 16:59, closed at 17:00");
	ok(open_at(&h, 6, 10, 0) && !open_at(&h, 6, 14, 0),
	    "Saturday 10:00 to 14:00");
	ok(!open_at(&h, 0, 12, 0), "closed on Sunday");
	hours_parse(&h, "Fri-Mon 00:00-24:00", &e);
	ok(open_at(&h, 0, 3, 0) && open_at(&h, 1, 23, 59) &&
	    !open_at(&h, 2, 12, 0), "a range of days over the weekend");

	/* Quiet windows. */
	ok(hours_window_parse(&w, "21:00-08:00", &e) == 0 &&
	    w.from == 1260 && w.to == 480, "21:00-08:00");
	ok(hours_window_parse(&w, "08:00-08:00", &e) < 0 &&
	    strstr(e.msg, "empty"), "an empty window: %s", e.msg);
	ok(hours_window_parse(&w, "00:00-24:00", &e) < 0,
	    "a whole day is refused too");
	ok(hours_window_parse(&w, "9pm-8am", &e) < 0 &&
	    strstr(e.msg, "HH:MM-HH:MM"), "9pm-8am: %s", e.msg);

	/* Every zone of the table exists in the installed database. */
	for (i = 0; (zones = phonezone_entry(i, &prefix)); i++) {
		char copy[1024], *z, *save;

		snprintf(copy, sizeof copy, "%s", zones);
		for (z = strtok_r(copy, " ", &save); z; z = strtok_r(NULL,
		    " ", &save)) {
			nz++;
			if (!tzdb_get(db, z, &e) && !nbad++)
				printf("#   +%s: %s\n", prefix, e.msg);
		}
	}
	ok(i > 400 && nbad == 0, "%zu prefixes, %zu zone names, all load", i,
	    nz);

	/* Lookups. */
	is_str(phonezone_lookup("+12125550123", &m), "America/New_York",
	    "+1 212 is New York");
	is_int(m, 4, "by its area code");
	is_str(phonezone_lookup("+19285550123", NULL),
	    "America/Phoenix America/Denver", "+1 928: Arizona and Navajo");
	ok((zones = phonezone_lookup("+15555550123", &m)) && m == 1 &&
	    strstr(zones, "Pacific/Honolulu") && strstr(zones,
	    "America/St_Johns"), "+1 555 (no such area): all of NANP");
	is_str(phonezone_lookup("+442079460000", NULL), "Europe/London",
	    "+44 is London");
	is_str(phonezone_lookup("+351291000000", NULL), "Atlantic/Madeira",
	    "+351 291 is Madeira");
	ok((zones = phonezone_lookup("+79161234567", NULL)) &&
	    strstr(zones, "Europe/Moscow") && strstr(zones, "Asia/Kamchatka"),
	    "+7 9: all of Russia");
	is_str(phonezone_lookup("+77011234567", NULL),
	    "Asia/Almaty Asia/Aqtau", "+7 7 is Kazakhstan");
	/* Islands and countries mapped finer than their calling code. */
	is_str(phonezone_lookup("+61891621234", NULL), "Indian/Cocos",
	    "+61 8 9162: the Cocos (Keeling) Islands, not Perth");
	is_str(phonezone_lookup("+61891641234", NULL), "Indian/Christmas",
	    "+61 8 9164: Christmas Island");
	is_str(phonezone_lookup("+61892001234", NULL), "Australia/Perth",
	    "+61 8 9 is Western Australia");
	is_str(phonezone_lookup("+61889001234", NULL), "Australia/Darwin",
	    "+61 8 89 is the Northern Territory");
	is_str(phonezone_lookup("+526641234567", NULL), "America/Tijuana",
	    "+52 664 is Tijuana");
	is_str(phonezone_lookup("+5216641234567", NULL), "America/Tijuana",
	    "+52 1 664, a mobile written the old way, too");
	is_str(phonezone_lookup("+529981234567", NULL), "America/Cancun",
	    "+52 998 is Cancun");
	is_str(phonezone_lookup("+525512345678", NULL),
	    "America/Mexico_City", "+52 55 is Mexico City");
	is_str(phonezone_lookup("+5592912345678", NULL), "America/Manaus",
	    "+55 92, a mobile, is Manaus");
	is_str(phonezone_lookup("+5568912345678", NULL),
	    "America/Rio_Branco", "+55 68 is Acre");
	is_str(phonezone_lookup("+5511912345678", NULL),
	    "America/Sao_Paulo", "+55 11 is Sao Paulo");
	ok(phonezone_lookup("+80012345678", &m) == NULL && m == 0,
	    "+800 has no zone");
	ok(phonezone_lookup("+", NULL) == NULL, "a bare + has none");

	/* A quiet spell and its end, worked by hand. */
	hours_window_parse(&w, "21:00-08:00", &e);
	/* 2026-11-23T02:00Z is 21:00 EST on the 22nd; 08:00 is 13:00Z. */
	ok(hours_quiet(db, "America/New_York", &w, 1763863200, &zone, &open,
	    &e) == 1 && strcmp(zone, "America/New_York") == 0 &&
	    open == 1763902800, "21:00 in New York is quiet until 13:00Z");
	ok(hours_quiet(db, "America/New_York", &w, 1763863199, &zone, &open,
	    &e) == 0, "20:59:59 is not");
	/* 2026-07-01T14:30Z: 08:30 MDT in Denver, 07:30 MST in Phoenix. */
	ok(hours_quiet(db, "America/Denver America/Phoenix", &w, 1782916200,
	    &zone, &open, &e) == 1 && strcmp(zone, "America/Phoenix") == 0 &&
	    open == 1782918000, "quiet in Phoenix, not Denver: until 15:00Z");
	hours_window_parse(&w, "18:00-10:00", &e);
	ok(hours_quiet(db, "America/New_York Asia/Tokyo", &w, 1782916200,
	    &zone, &open, &e) == 1 && open == 0,
	    "New York and Tokyo are never both in 10:00-18:00");
	hours_window_parse(&w, "21:00-08:00", &e);
	ok(hours_quiet(db, "America/New_York Mars/Base", &w, 1782916200,
	    &zone, &open, &e) == -1 && strstr(e.msg, "Mars/Base"),
	    "an unknown zone is an error: %s", e.msg);

	ok(hours_quiet(db, " ", &w, 1782916200, &zone, &open, &e) == -1 &&
	    errno == EINVAL, "no zone at all is an error, not daytime");

	/* Quiet hours: the sweep. */
	sweep("+12125550123");		/* Eastern */
	sweep("+13125550123");		/* Central */
	sweep("+13035550123");		/* Mountain */
	sweep("+16025550123");		/* Arizona: no DST */
	sweep("+14155550123");		/* Pacific */
	sweep("+19075550123");		/* Alaska and the Aleutians */
	sweep("+18085550123");		/* Hawaii */
	sweep("+17875550123");		/* Puerto Rico */
	sweep("+16715550123");		/* Guam */
	sweep("+19285550123");		/* Arizona and the Navajo Nation */
	sweep("+15555550123");		/* NANP, area unknown */
	/*
	 * A window that ends in the hour a spring change skips (02:30 on
	 * 8 March in New York) ends when the skip does, at 03:00 EDT; one
	 * that ends in the hour a fall change repeats ends the first time.
	 */
	sweep_window("+12125550123", (struct hours_window){ 21 * 60, 150 });
	sweep_window("+12125550123", (struct hours_window){ 21 * 60, 90 });
	sweep_window("+13035550123", (struct hours_window){ 60, 135 });
	/* Windows shorter than the change, in one zone and in several. */
	sweep_window("+12125550123", (struct hours_window){ 90, 135 });
	sweep_window("+15555550123", (struct hours_window){ 90, 135 });
	sweep_window("+15555550123", (struct hours_window){ 105, 150 });
	tzdb_free(db);
	return tap_done();
}
