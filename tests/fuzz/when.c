/*
 * when.c: time parsing: when_parse(), when_duration(), and the parsers of
 * business hours, quiet windows and POSIX TZ rules (hours_parse(),
 * hours_window_parse(), tz_from_posix()), each given the whole input as
 * one string.
 *
 * A time when_parse() reads, written by when_format(), reads back as the
 * same time (within the years it writes); a duration written by
 * when_format_duration() reads back as at most what it was (the rest is
 * dropped, never rounded up); a rule tz_from_posix() reads gives local
 * times with offsets within 25:59:59 (POSIX allows 24:59:59, and an hour
 * of summer time) at the edges of the range when_parse() gives; every
 * refusal says why.
 */
#include <errno.h>

#include "fuzz.h"
#include "hours.h"
#include "tz.h"
#include "when.h"

#define YEAR0 (-62167219200LL)		/* 0000-01-01T00:00:00Z */
#define YEAR9999 (253402300799LL)	/* 9999-12-31T23:59:59Z */

static void
local(const struct tz *z, const struct hours *h, time_t t)
{
	struct tz_local l;

	tz_local(z, t, &l);
	/* POSIX allows 24:59:59 either way, an hour more in summer. */
	FUZZ_CHECK(l.off >= -93599 && l.off <= 93599, "offset %ld", l.off);
	FUZZ_CHECK(l.mon >= 1 && l.mon <= 12 && l.mday >= 1 &&
	    l.mday <= 31 && l.wday >= 0 && l.wday <= 6 && l.hour >= 0 &&
	    l.hour < 24 && l.min >= 0 && l.min < 60 && l.sec >= 0 &&
	    l.sec < 60, "local time %lld-%d-%d %d:%d:%d", l.year, l.mon,
	    l.mday, l.hour, l.min, l.sec);
	if (h)
		(void)hours_open(h, &l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[WHEN_BUFSZ], dur[WHEN_DURSZ];
	struct hours h;
	struct hours_window w;
	struct errbuf e;
	struct tz *z;
	long long secs, back;
	time_t t = 0, u;
	int have_t = 0, have_h;

	if (s == NULL)
		return 0;
	e.msg[0] = '\0';
	if (when_parse(s, &t, &e) == 0) {
		have_t = 1;
		FUZZ_CHECK(when_format(t, buf) == 20 && strlen(buf) == 20,
		    "when_format() length");
		if (t >= YEAR0 && t <= YEAR9999) {
			FUZZ_CHECK(when_parse(buf, &u, &e) == 0 && u == t,
			    "\"%s\" gives %lld, which reads back as %lld",
			    s, (long long)t, (long long)u);
		}
	} else {
		FUZZ_CHECK(e.msg[0] && (errno == EINVAL || errno == ERANGE),
		    "when_parse() failed without a reason");
	}

	e.msg[0] = '\0';
	if (when_duration(s, &secs, &e) == 0) {
		FUZZ_CHECK(secs >= 0, "duration %lld", secs);
		FUZZ_CHECK(when_format_duration(secs, dur, sizeof dur) <
		    sizeof dur, "when_format_duration() too long");
		FUZZ_CHECK(when_duration(dur, &back, &e) == 0 &&
		    back <= secs, "%lld written as \"%s\" reads as %lld",
		    secs, dur, back);
		when_format_duration(-secs, dur, sizeof dur);
	} else {
		FUZZ_CHECK(e.msg[0] && (errno == EINVAL || errno == ERANGE),
		    "when_duration() failed without a reason");
	}

	have_h = hours_parse(&h, s, &e) == 0;
	if (hours_window_parse(&w, s, &e) == 0)
		FUZZ_CHECK(w.from != w.to && w.from >= 0 && w.from <= 1440 &&
		    w.to >= 0 && w.to <= 1440, "window %d-%d", w.from, w.to);

	e.msg[0] = '\0';
	if ((z = tz_from_posix(s, &e)) != NULL) {
		local(z, have_h ? &h : NULL, 0);
		local(z, have_h ? &h : NULL, 1795000000);
		local(z, NULL, YEAR0);
		local(z, NULL, YEAR9999);
		if (have_t && t >= YEAR0 && t <= YEAR9999)
			local(z, NULL, t);
		tz_free(z);
	} else {
		FUZZ_CHECK(e.msg[0], "tz_from_posix() failed without a reason");
	}
	free(s);
	return 0;
}
