/*
 * rules.c: the rule table, read with the configuration, and asked.
 *
 * A rule's hours are the bitmap of business hours (hours.h), so a rule
 * may close on Sundays, or open later on one day. rules_hours() finds
 * when every rule is open in every zone by jumping: while a rule is
 * closed in a zone, move to that rule's next open minute there
 * (counted on the bitmap, assuming the zone's offset holds), and ask
 * everything again from there: clocks put back on the way land it in the
 * closed hour before, and it jumps again; clocks put forward land it an
 * hour late, and it steps back by the change.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "rules.h"
#include "when.h"

#define MAX_ZONES 32
#define WEEK (7 * 1440)
#define HORIZON (8 * 86400LL)

static int
bad(struct errbuf *e, const char *where, const char *what, const char *v)
{
	errno = EINVAL;
	return errf(e, "%s: '%s': %s", where, v, what);
}

/* s without the blanks around it, into buf (n bytes). */
static void
trim(const char *s, size_t len, char *buf, size_t n)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	snprintf(buf, n, "%.*s", (int)len, s);
}

/* "3/24h" or "3/24h/subject" into r. 0, or -1 with e filled. */
static int
parse_cap(struct rule *r, const char *v, const char *where, struct errbuf *e)
{
	char num[16], dur[32];
	const char *slash = strchr(v, '/'), *sub;
	char *end;
	long n;

	if (!slash || (size_t)(slash - v) >= sizeof num)
		return bad(e, where, "a cap is N/PERIOD, as in 3/24h", v);
	snprintf(num, sizeof num, "%.*s", (int)(slash - v), v);
	n = strtol(num, &end, 10);
	if (!*num || *end || n < 1 || n > 100000)
		return bad(e, where, "a cap is a number from 1, then "
		    "/PERIOD", v);
	sub = strchr(slash + 1, '/');
	snprintf(dur, sizeof dur, "%.*s", sub ? (int)(sub - slash - 1) :
	    (int)strlen(slash + 1), slash + 1);
	if (when_duration(dur, &r->period, NULL) < 0 || r->period <= 0)
		return bad(e, where, "the period of a cap is a duration, as "
		    "in 24h or 7d", v);
	if (sub && strcmp(sub + 1, "subject") != 0)
		return bad(e, where, "a cap ends with /subject or nothing", v);
	r->cap = (int)n;
	r->per_subject = sub != NULL;
	return 0;
}

static int
parse_hours(struct rule *r, const char *v, const char *where,
    struct errbuf *e)
{
	struct errbuf he;

	if (hours_parse(&r->hours, v, &he) < 0) {
		errno = EINVAL;
		return errf(e, "%s: %s", where, he.msg);
	}
	r->has_hours = 1;
	return 0;
}

static struct rule *
add(struct rules *r)
{
	struct rule *v = realloc(r->v, (r->n + 1) * sizeof *v);

	if (!v)
		return NULL;
	r->v = v;
	memset(&v[r->n], 0, sizeof v[r->n]);
	return &v[r->n++];
}

/*
 * A configured rule's value: parts separated by ';', each the hours
 * ("Mon-Fri 09:00-20:00, Sat 10:00-14:00"), "cap N/PERIOD[/subject]",
 * "refuse" or "defer".
 */
static int
parse_spec(struct rule *r, const char *v, const char *where,
    struct errbuf *e)
{
	char part[256];
	const char *p = v, *end;
	size_t len;
	int n = 0;

	for (;;) {
		end = strchr(p, ';');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len >= sizeof part)
			return bad(e, where, "a part is too long", v);
		trim(p, len, part, sizeof part);
		if (!*part)
			return bad(e, where, "an empty part (parts are the "
			    "hours, cap N/PERIOD[/subject], refuse or "
			    "defer, separated by ';')", v);
		if (strcmp(part, "refuse") == 0)
			r->refuse = 1;
		else if (strcmp(part, "defer") == 0)
			r->refuse = 0;
		else if (strncmp(part, "cap ", 4) == 0) {
			if (r->cap)
				return bad(e, where, "two caps", v);
			trim(part + 4, strlen(part + 4), part, sizeof part);
			if (parse_cap(r, part, where, e) < 0)
				return -1;
			n++;
		} else {
			if (r->has_hours)
				return bad(e, where, "two sets of hours (give "
				    "the days of one as a list: Mon-Fri "
				    "09:00-20:00, Sat 10:00-14:00)", v);
			if (parse_hours(r, part, where, e) < 0)
				return -1;
			n++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!n)
		return bad(e, where, "neither hours nor a cap", v);
	return 0;
}

/* A config key's jurisdiction, "us_fl" or "any", as "US-FL" or "*". */
static int
key_jur(const char *k, size_t len, char jur[RULES_JUR_MAX])
{
	size_t i;

	if (len == 3 && strncmp(k, "any", 3) == 0) {
		strcpy(jur, "*");
		return 0;
	}
	if (len < 2 || len >= RULES_JUR_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (k[i] == '_' && i > 0 && i + 1 < len)
			jur[i] = '-';
		else if (isalnum((unsigned char)k[i]))
			jur[i] = (char)toupper((unsigned char)k[i]);
		else
			return -1;
	}
	jur[len] = '\0';
	return 0;
}

static int
valid_purpose(const char *p)
{
	return strcmp(p, "reply") == 0 || strcmp(p, "notification") == 0 ||
	    strcmp(p, "marketing") == 0;
}

static int
load_shipped(struct rules *r, struct errbuf *e)
{
	struct rule *x;
	char where[64];

	for (size_t i = 0; i < rules_nrows; i++) {
		const struct rules_row *w = &rules_rows[i];

		snprintf(where, sizeof where, "data/rules.tsv: %s %s", w->jur,
		    w->purpose);
		if (!(x = add(r)))
			return errf(e, "%s", strerror(errno));
		snprintf(x->jur, sizeof x->jur, "%s", w->jur);
		snprintf(x->purpose, sizeof x->purpose, "%s", w->purpose);
		snprintf(x->source, sizeof x->source, "%s", w->source);
		x->refuse = strcmp(w->action, "refuse") == 0;
		x->fallback = strcmp(w->jur, "*") == 0;
		if (strcmp(w->hours, "-") != 0 &&
		    parse_hours(x, w->hours, where, e) < 0)
			return -1;
		if (strcmp(w->cap, "-") != 0 &&
		    parse_cap(x, w->cap, where, e) < 0)
			return -1;
	}
	return 0;
}

int
rules_load(struct rules *r, const struct config *cfg,
    void (*warn)(void *arg, const char *line), void *arg, struct errbuf *e)
{
	const char *key, *val, *dot;
	char jur[RULES_JUR_MAX], purpose[16], line[400];
	struct rule *x;
	size_t i, k, found;

	memset(r, 0, sizeof *r);
	if (load_shipped(r, e) < 0)
		return -1;
	for (i = 0; cfg && config_entry(cfg, i, &key, &val); i++) {
		if (strncmp(key, "rule.", 5) != 0)
			continue;
		if (!(dot = strchr(key + 5, '.')) || key_jur(key + 5,
		    (size_t)(dot - key - 5), jur) < 0 ||
		    strlen(dot + 1) >= sizeof purpose) {
			errno = EINVAL;
			return errf(e, "%s: a rule's key is rule.JURISDICTION."
			    "PURPOSE, as rule.us_fl.marketing", key);
		}
		snprintf(purpose, sizeof purpose, "%s", dot + 1);
		if (!valid_purpose(purpose)) {
			errno = EINVAL;
			return errf(e, "%s: '%s' is not reply, notification or "
			    "marketing", key, purpose);
		}
		if (strcmp(val, "off") == 0) {
			for (k = found = 0; k < r->n; k++) {
				x = &r->v[k];
				if (k >= rules_nrows ||
				    strcmp(x->jur, jur) != 0 ||
				    strcmp(x->purpose, purpose) != 0)
					continue;
				x->off = 1;
				found++;
				snprintf(line, sizeof line, "config: %s = off: "
				    "the %s %s rule (%s) is not applied",
				    key, jur, purpose, x->source);
				if (warn)
					warn(arg, line);
			}
			if (!found) {
				errno = EINVAL;
				return errf(e, "%s = off: no %s %s rule is "
				    "shipped to switch off (smsdesk-rules(5))",
				    key, jur, purpose);
			}
			continue;
		}
		if (!(x = add(r)))
			return errf(e, "%s", strerror(errno));
		snprintf(x->jur, sizeof x->jur, "%s", jur);
		snprintf(x->purpose, sizeof x->purpose, "%s", purpose);
		snprintf(x->source, sizeof x->source, "configuration, %s",
		    key);
		if (parse_spec(x, val, key, e) < 0)
			return -1;
	}
	return 0;
}

void
rules_free(struct rules *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const char *
rules_places(const char *number)
{
	const char *d = number && *number == '+' ? number + 1 : number;
	const char *best = NULL;
	size_t n, blen = 0, len;

	if (!d)
		return NULL;
	n = strlen(d);
	for (size_t i = 0; i < rules_nareas; i++) {
		len = strlen(rules_areas[i].prefix);
		if (len > blen && len <= n &&
		    memcmp(d, rules_areas[i].prefix, len) == 0) {
			best = rules_areas[i].places;
			blen = len;
		}
	}
	return best;
}

/* Whether place (one code of rules_places()) is in jurisdiction jur. */
static int
place_in(const char *place, size_t plen, const char *jur)
{
	size_t jlen = strlen(jur);
	const char *dash = memchr(place, '-', plen);
	size_t clen = dash ? (size_t)(dash - place) : plen;

	if (plen == jlen && memcmp(place, jur, plen) == 0)
		return 1;
	/* A country binds its subdivisions. */
	if (!strchr(jur, '-') && clen == jlen && memcmp(place, jur, jlen) == 0)
		return 1;
	/* "US-*": any state, so each state's rule. */
	if (dash && plen == clen + 2 && place[plen - 1] == '*' &&
	    jlen > clen && memcmp(jur, place, clen + 1) == 0)
		return 1;
	return 0;
}

int
rules_applies(const struct rule *r, const char *number, const char *places)
{
	const char *p = places, *code, *d;
	size_t len;

	if (strcmp(r->jur, "*") == 0)
		return 1;
	if (places) {
		while (*p) {
			len = strcspn(p, " ");
			if (len && place_in(p, len, r->jur))
				return 1;
			p += len;
			p += *p == ' ';
		}
		return 0;
	}
	/* Not in the table: a country, by its calling code. */
	if (strchr(r->jur, '-') || !(code = phone_region_code(r->jur)) ||
	    !number)
		return 0;
	d = *number == '+' ? number + 1 : number;
	return strncmp(d, code, strlen(code)) == 0;
}

void
rules_name(const struct rule *r, const char *what, char *buf, size_t n)
{
	snprintf(buf, n, "%s %s %s", strcmp(r->jur, "*") == 0 ? "anywhere" :
	    r->jur, r->purpose, what);
}

/*
 * Seconds from local time l to the next minute h is open in (1 if it is
 * open now is not asked: l is in a closed minute); -1 if it never opens.
 */
static long long
to_open(const struct hours *h, const struct tz_local *l)
{
	int now = l->wday * 1440 + l->hour * 60 + l->min, m;

	for (int k = 1; k <= WEEK; k++) {
		m = (now + k) % WEEK;
		if ((h->day[m / 1440][(m % 1440) / 8] >> (m % 1440) % 8) & 1)
			return k * 60LL - l->sec;
	}
	return -1;
}

int
rules_hours(struct tzdb *db, const struct rule *const *v, size_t n,
    const char *zones, time_t t, size_t *which, const char **zone,
    time_t *open, struct errbuf *e)
{
	const struct tz *z[MAX_ZONES];
	struct tz_local l, lu;
	char name[256];
	const char *p = zones;
	int nz = 0, held = 0, moved;
	long long step, d;
	time_t u = t;

	while (*p) {
		size_t len = strcspn(p, " ");

		if (len && nz == MAX_ZONES) {
			errno = EINVAL;
			return errf(e, "more than %d time zones", MAX_ZONES);
		}
		snprintf(name, sizeof name, "%.*s", (int)len, p);
		if (len && !(z[nz++] = tzdb_get(db, name, e)))
			return -1;
		p += len;
		p += *p == ' ';
	}
	if (nz == 0) {
		errno = EINVAL;
		return errf(e, "'%s' names no time zone", zones);
	}
	*open = 0;
	do {
		moved = 0;
		for (size_t i = 0; i < n && !moved; i++) {
			if (!v[i]->has_hours)
				continue;
			for (int k = 0; k < nz && !moved; k++) {
				tz_local(z[k], u, &l);
				if (hours_open(&v[i]->hours, &l))
					continue;
				if (!held) {
					held = 1;
					*which = i;
					*zone = tz_name(z[k]);
				}
				if ((step = to_open(&v[i]->hours, &l)) < 0)
					return 1;
				u += (time_t)step;
				moved = 1;
				/*
				 * Clocks put forward on the way: the minute
				 * came as much sooner.
				 */
				tz_local(z[k], u, &lu);
				if ((d = lu.off - l.off) > 0 && u - d > t) {
					tz_local(z[k], u - (time_t)d, &lu);
					if (hours_open(&v[i]->hours, &lu))
						u -= (time_t)d;
				}
			}
		}
	} while (moved && u - t <= HORIZON);
	if (held && !moved)
		*open = u;
	return held;
}
