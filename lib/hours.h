/*
 * hours.h: business hours and quiet hours, smsdesk-config(5).
 *
 * Business hours are a week of opening times in the business's zone,
 * written as people write them on a door:
 *
 *	Mon-Fri 09:00-17:00, Sat 10:00-14:00
 *
 * (items separated by commas, each a day or a range of days, Mon to Sun,
 * and one or more HH:MM-HH:MM ranges; 24:00 ends a day). Quiet hours are
 * one daily window when no message may start, "21:00-08:00", in the
 * recipient's zone; it may run over midnight. Both are kept to the
 * minute.
 */
#ifndef HOURS_H
#define HOURS_H

#include <time.h>

#include "diag.h"
#include "tz.h"

/* A week of opening times: bit m of day[d] is minute m of weekday d
 * (0 Sunday). */
struct hours {
	unsigned char day[7][1440 / 8];
};

/* A daily window, in minutes after midnight: [from, to), over midnight
 * if from > to. */
struct hours_window {
	int from, to;
};

/*
 * Parse business hours (see above) into h. Returns 0, or -1 with errno
 * EINVAL and e filled ("'Mon-Fri 9-5': a time is HH:MM").
 */
int hours_parse(struct hours *h, const char *spec, struct errbuf *e);

/* Whether h is open at local time l. */
int hours_open(const struct hours *h, const struct tz_local *l);

/* Parse "HH:MM-HH:MM" into w; the two must differ. 0, or -1 as above. */
int hours_window_parse(struct hours_window *w, const char *s,
    struct errbuf *e);

/* Whether local time l falls in w. */
int hours_in_window(const struct hours_window *w, const struct tz_local *l);

/*
 * Whether t falls in w in any of zones (IANA names separated by spaces,
 * loaded through db): 1 if it does, with *zone the name of the first
 * such zone and *open the first time after t when it falls in none (0
 * if there is none within two days: the zones' windows never leave a
 * gap); 0 if not; -1 with e filled if a zone cannot be loaded or
 * zones names none.
 */
int hours_quiet(struct tzdb *db, const char *zones,
    const struct hours_window *w, time_t t, const char **zone, time_t *open,
    struct errbuf *e);

#endif
