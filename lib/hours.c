/*
 * hours.c: reading business hours and quiet windows, and asking them.
 *
 * The parser is strict, as a configuration read at startup should be:
 * anything it does not understand is an error naming the item, never a
 * guess. Business hours become a bitmap of the minutes of a week, so a
 * question is one bit, whatever the spec's shape (overlapping items,
 * lunch breaks, a range of days that runs over the weekend).
 *
 * hours_quiet() finds when a window ends in several zones at once by
 * jumping: while some zone is quiet, move to the end of that zone's
 * window (assuming its offset holds, and checking again after), so a
 * handful of steps reach the first moment no zone is quiet, across DST
 * changes, without scanning minute by minute.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hours.h"

#define MAX_ZONES 32
#define HORIZON (2 * 86400)

static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

static int
bad(struct errbuf *e, const char *item, const char *what)
{
	errno = EINVAL;
	return errf(e, "'%s': %s", item, what);
}

/* H:MM or HH:MM, 00:00 to 24:00, into minutes; the end, or NULL. */
static const char *
parse_time(const char *p, int *min)
{
	int h = 0, m, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 2) {
		h = h * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || *p++ != ':' || p[0] < '0' || p[0] > '5' ||
	    p[1] < '0' || p[1] > '9')
		return NULL;
	m = (p[0] - '0') * 10 + (p[1] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return NULL;
	*min = h * 60 + m;
	return p + 2;
}

static const char *
parse_range(const char *p, int *from, int *to)
{
	if (!(p = parse_time(p, from)) || *p++ != '-' ||
	    !(p = parse_time(p, to)))
		return NULL;
	return p;
}

/* A three-letter day name, any case, into 0 (Sunday) to 6. */
static const char *
parse_day(const char *p, int *d)
{
	for (int i = 0; i < 7; i++)
		if (strncasecmp(p, days[i], 3) == 0 && !((p[3] >= 'a' &&
		    p[3] <= 'z') || (p[3] >= 'A' && p[3] <= 'Z'))) {
			*d = i;
			return p + 3;
		}
	return NULL;
}

static int
parse_item(struct hours *h, const char *item, struct errbuf *e)
{
	const char *p = item;
	int d1, d2, from, to, n = 0;

	if (!(p = parse_day(p, &d1)))
		return bad(e, item, "days are Mon, Tue, Wed, Thu, Fri, "
		    "Sat, Sun, or a range such as Mon-Fri");
	d2 = d1;
	if (*p == '-' && !(p = parse_day(p + 1, &d2)))
		return bad(e, item, "a range of days is two days, as in "
		    "Mon-Fri");
	if (*p != ' ' && *p != '\t')
		return bad(e, item, "the days need opening times, as in "
		    "Mon-Fri 09:00-17:00");
	while (*p == ' ' || *p == '\t') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (!(p = parse_range(p, &from, &to)))
			return bad(e, item, "opening times are "
			    "HH:MM-HH:MM, 00:00 to 24:00");
		if (to <= from)
			return bad(e, item, "a range ends after it starts "
			    "(past midnight, give the next day its own item)");
		for (int d = d1;; d = (d + 1) % 7) {
			for (int m = from; m < to; m++)
				h->day[d][m / 8] |= (unsigned char)(1 << m % 8);
			if (d == d2)
				break;
		}
		n++;
	}
	if (*p || !n)
		return bad(e, item, "opening times are HH:MM-HH:MM, "
		    "separated by spaces");
	return 0;
}

int
hours_parse(struct hours *h, const char *spec, struct errbuf *e)
{
	char item[128];
	const char *p = spec, *end;
	size_t len;

	memset(h, 0, sizeof *h);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			errno = EINVAL;
			return errf(e, "'%s': an empty item", spec);
		}
		if (len >= sizeof item) {
			errno = EINVAL;
			return errf(e, "'%.*s...': too long", 40, p);
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (parse_item(h, item, e) < 0)
			return -1;
		if (!end)
			return 0;
		p = end + 1;
	}
}

int
hours_open(const struct hours *h, const struct tz_local *l)
{
	int m = l->hour * 60 + l->min;

	return (h->day[l->wday][m / 8] >> m % 8) & 1;
}

int
hours_window_parse(struct hours_window *w, const char *s,
    struct errbuf *e)
{
	const char *p = parse_range(s, &w->from, &w->to);

	if (!p || *p) {
		errno = EINVAL;
		return errf(e, "'%s' is not HH:MM-HH:MM", s);
	}
	if (w->from == w->to || (w->from % 1440 == w->to % 1440)) {
		errno = EINVAL;
		return errf(e, "'%s': the window is empty", s);
	}
	return 0;
}

int
hours_in_window(const struct hours_window *w, const struct tz_local *l)
{
	int m = l->hour * 60 + l->min;

	if (w->from < w->to)
		return m >= w->from && m < w->to;
	return m >= w->from || m < w->to;
}

/* The first zone of z[0..n) where t falls in w, or -1. */
static int
quiet_in(const struct tz *const *z, int n, const struct hours_window *w,
    time_t t, struct tz_local *l)
{
	for (int i = 0; i < n; i++) {
		tz_local(z[i], t, l);
		if (hours_in_window(w, l))
			return i;
	}
	return -1;
}

int
hours_quiet(struct tzdb *db, const char *zones,
    const struct hours_window *w, time_t t, const char **zone, time_t *open,
    struct errbuf *e)
{
	const struct tz *z[MAX_ZONES];
	struct tz_local l;
	char name[256];
	const char *p = zones;
	long long left, end, diff;
	int n = 0, i;
	time_t u;

	while (*p) {
		size_t len = strcspn(p, " ");

		if (len && n == MAX_ZONES) {
			errno = EINVAL;
			return errf(e, "more than %d time zones", MAX_ZONES);
		}
		snprintf(name, sizeof name, "%.*s", (int)len, p);
		if (len && !(z[n++] = tzdb_get(db, name, e)))
			return -1;
		p += len;
		p += *p == ' ';
	}
	if (n == 0) {
		errno = EINVAL;
		return errf(e, "'%s' names no time zone", zones);
	}
	if ((i = quiet_in(z, n, w, t, &l)) < 0)
		return 0;
	*zone = tz_name(z[i]);
	*open = 0;
	for (u = t; u - t <= HORIZON; ) {
		/* From u, quiet in zone i (l, its local time there). */
		time_t from = u;

		/* To the window's end in zone i, at its present offset. */
		end = (w->to % 1440) * 60LL;
		left = end - (l.hour * 3600LL + l.min * 60 + l.sec);
		if (left <= 0)
			left += 86400;
		u += (time_t)left;
		/*
		 * If the offset changed on the way (a DST change in the
		 * night), the end came earlier or later by as much: move by
		 * the difference. If that lands back in the window, the end
		 * fell in the hour a spring change skips, and the window
		 * ends with the skip: at the first second out of it, between
		 * the two (inside until the change, outside after).
		 */
		tz_local(z[i], u, &l);
		if ((diff = l.hour * 3600LL + l.min * 60 + l.sec - end) >
		    43200)
			diff -= 86400;
		else if (diff <= -43200)
			diff += 86400;
		if (diff != 0) {
			time_t back = u - (time_t)diff, in, mid;

			tz_local(z[i], back, &l);
			if (back > from && !hours_in_window(w, &l)) {
				u = back;
			} else if (diff > 0) {
				/*
				 * Back in the window, or back before this
				 * round (a window shorter than the change):
				 * from is inside, u outside.
				 */
				in = back > from ? back : from;
				while (u - in > 1) {
					mid = in + (u - in) / 2;
					tz_local(z[i], mid, &l);
					if (hours_in_window(w, &l))
						in = mid;
					else
						u = mid;
				}
			}
		}
		if ((i = quiet_in(z, n, w, u, &l)) < 0) {
			*open = u;
			break;
		}
	}
	return 1;
}
