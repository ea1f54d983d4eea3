/*
 * tz.h: local time in a named time zone, without TZ or localtime(3).
 *
 * localtime_r() knows one zone per process, chosen by the TZ variable,
 * and changing TZ under running threads is a race. A program that needs
 * the time at many places at once (the recipients of a batch, the
 * business's own zone) reads the zones itself: tz.c parses the compiled
 * TZif files of the IANA database (RFC 8536; Debian's tzdata installs
 * them under /usr/share/zoneinfo), using the 64-bit data of version 2 and
 * later, and the POSIX TZ rule of the footer ("EST5EDT,M3.2.0,M11.1.0")
 * for times after the last transition. A loaded zone is immutable, so
 * any number of threads may read it.
 *
 * Ownership: a tzdb owns the zones it hands out; they stay valid until
 * tzdb_free(). tz_from_posix() returns a zone the caller frees.
 */
#ifndef TZ_H
#define TZ_H

#include <time.h>

#include "diag.h"

struct tz;
struct tzdb;

/* The local time of an instant in a zone. */
struct tz_local {
	long long year;
	int mon, mday;		/* 1-12, 1-31 */
	int wday;		/* 0 Sunday to 6 Saturday */
	int hour, min, sec;
	long long days;		/* the local date, in days from 1970-01-01 */
	long off;		/* seconds east of UTC */
	int isdst;
};

/*
 * Zones by IANA name, read from dir on first use (NULL: $TZDIR if it is
 * an absolute path, else /usr/share/zoneinfo). Safe to share between
 * threads. NULL with errno ENOMEM.
 */
struct tzdb *tzdb_new(const char *dir);
void tzdb_free(struct tzdb *db);

/*
 * The zone called name ("America/New_York", "UTC"), loaded once and kept.
 * NULL with e filled if the name is not a zone name, the file is missing
 * ("unknown time zone"), or it is not a TZif file; a failed name is not
 * remembered, so a later call tries again.
 */
const struct tz *tzdb_get(struct tzdb *db, const char *name,
    struct errbuf *e);

/*
 * A zone made of a POSIX TZ rule alone, as a TZif footer holds it
 * ("CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30"). NULL with e filled
 * if the rule does not parse. Free it with tz_free().
 */
struct tz *tz_from_posix(const char *rule, struct errbuf *e);
void tz_free(struct tz *z);

/* The zone's name, as given to tzdb_get() or tz_from_posix(). */
const char *tz_name(const struct tz *z);

/* The offset from UTC in force at t, in seconds east; *isdst if not NULL. */
long tz_offset(const struct tz *z, time_t t, int *isdst);

/* The local time at t in z. */
void tz_local(const struct tz *z, time_t t, struct tz_local *out);

#endif
