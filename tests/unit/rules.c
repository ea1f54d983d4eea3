/*
 * tests/unit/rules.c: the rule table (smsdesk-rules(5)) as compiled, the
 * configuration's rules, where numbers are, which rules bind them, and
 * when their hours open, across the changes of the clocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rules.h"
#include "tap.h"
#include "tz.h"
#include "when.h"

static int warned;
static char last[400];

static void
warn(void *arg, const char *line)
{
	(void)arg;
	warned++;
	snprintf(last, sizeof last, "%s", line);
}

/* The rules of a configuration of one line, or NULL (e.msg says). */
static int
load(struct rules *r, const char *line, struct errbuf *e)
{
	char path[] = "/tmp/smsdesk-rules-XXXXXX";
	struct config *c = config_new();
	int fd = mkstemp(path), rc;

	if (fd < 0 || !c)
		return -1;
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0 ||
	    close(fd) < 0 || config_load(c, path, e) < 0) {
		unlink(path);
		config_free(c);
		return -1;
	}
	unlink(path);
	warned = 0;
	rc = rules_load(r, c, warn, NULL, e);
	config_free(c);
	return rc;
}

static const struct rule *
find(const struct rules *r, const char *jur, const char *purpose)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].jur, jur) == 0 &&
		    strcmp(r->v[i].purpose, purpose) == 0)
			return &r->v[i];
	return NULL;
}

static time_t
at(const char *s)
{
	time_t t = 0;

	when_parse(s, &t, NULL);
	return t;
}

/* When rule r opens in zone, from t: the time, or 0 if it is open. */
static time_t
opens(struct tzdb *db, const struct rule *r, const char *zone, time_t t)
{
	const struct rule *v[1] = { r };
	const char *z;
	struct errbuf e;
	size_t which;
	time_t open;

	if (rules_hours(db, v, 1, zone, t, &which, &z, &open, &e) != 1)
		return 0;
	return open;
}

int
main(void)
{
	struct tzdb *db = tzdb_new(NULL);
	struct rules r;
	struct errbuf e = { "" };
	const struct rule *x;
	char buf[64];

	/* The table, as the build compiled it. */
	ok(rules_load(&r, NULL, NULL, NULL, &e) == 0 && r.n == rules_nrows,
	    "the table loads: %zu rules", r.n);
	ok((x = find(&r, "US-FL", "marketing")) && x->cap == 3 &&
	    x->period == 86400 && x->per_subject && x->has_hours &&
	    !x->refuse, "US-FL: 3 in 24h on one subject, with hours");
	ok((x = find(&r, "*", "marketing")) && x->fallback,
	    "the default is a fallback");
	rules_name(find(&r, "US-TX", "marketing"), "hours", buf, sizeof buf);
	is_str(buf, "US-TX marketing hours", "a rule's name");
	rules_free(&r);

	/* Where numbers are. */
	is_str(rules_places("+13055550100"), "US-FL", "305 is Florida");
	is_str(rules_places("+14165550100"), "CA-ON", "416 is Ontario");
	is_str(rules_places("+15555550100"), "US-* CA-*",
	    "an unknown area code is any state or province");
	is_str(rules_places("+5511912345678"), "BR-SP", "DDD 11 is Sao Paulo");
	is_str(rules_places("+12425550100"), "BS", "242 is the Bahamas");
	ok(rules_places("+4930123456") == NULL, "+49: not in the table");

	/* Which rules bind. */
	{
		struct rule us = { .jur = "US" }, fl = { .jur = "US-FL" };
		struct rule de = { .jur = "DE" }, on = { .jur = "CA-ON" };

		ok(rules_applies(&us, "+13055550100", "US-FL"),
		    "a country binds its states");
		ok(rules_applies(&fl, "+15555550100", "US-* CA-*"),
		    "a state binds a number that may be anywhere");
		ok(!rules_applies(&on, "+13055550100", "US-FL"),
		    "Ontario does not bind Florida");
		ok(!rules_applies(&us, "+12425550100", "BS"),
		    "the US does not bind the Bahamas");
		ok(rules_applies(&de, "+4930123456", NULL),
		    "DE binds +49 by its calling code");
		ok(!rules_applies(&fl, "+4930123456", NULL),
		    "a state never binds a number the table lacks");
	}

	/* The configuration. */
	ok(load(&r, "rule.us_tx.marketing = off", &e) == 0 && warned == 1 &&
	    find(&r, "US-TX", "marketing")->off && strstr(last,
	    "rule.us_tx.marketing = off"), "off: switched off, said once: %s",
	    last);
	rules_free(&r);
	ok(load(&r, "rule.de.marketing = Mon-Fri 09:00-20:00; cap 2/7d/subject;"
	    " refuse", &e) == 0 && (x = find(&r, "DE", "marketing")) &&
	    x->has_hours && x->cap == 2 && x->period == 7 * 86400 &&
	    x->per_subject && x->refuse && strstr(x->source, "rule.de"),
	    "a rule of the configuration: hours, a cap, refuse");
	rules_free(&r);
	ok(load(&r, "rule.any.notification = cap 5/24h", &e) == 0 &&
	    (x = find(&r, "*", "notification")) && !x->fallback,
	    "any: anywhere, and not a fallback");
	rules_free(&r);
	ok(load(&r, "rule.us_zz.marketing = off", &e) < 0 &&
	    strstr(e.msg, "no US-ZZ marketing rule"), "off for no rule: %s",
	    e.msg);
	rules_free(&r);
	ok(load(&r, "rule.us.marketing = cap 0/24h", &e) < 0,
	    "a cap of 0: %s", e.msg);
	rules_free(&r);
	ok(load(&r, "rule.us.marketing = cap 3/24h/topic", &e) < 0,
	    "a cap per something else: %s", e.msg);
	rules_free(&r);
	ok(load(&r, "rule.us.marketing = refuse", &e) < 0,
	    "neither hours nor a cap: %s", e.msg);
	rules_free(&r);
	ok(load(&r, "rule.us.marketing = Mon 09:00-10:00; Tue 09:00-10:00",
	    &e) < 0, "two sets of hours: %s", e.msg);
	rules_free(&r);
	ok(load(&r, "rule.us.sales = cap 3/24h", &e) < 0,
	    "no such purpose: %s", e.msg);
	rules_free(&r);
	ok(load(&r, "rule.marketing = cap 3/24h", &e) < 0,
	    "no place: %s", e.msg);
	rules_free(&r);

	/* Hours across the changes of the clocks (US, 2026). */
	rules_load(&r, NULL, NULL, NULL, &e);
	x = find(&r, "US-FL", "marketing");
	/* Sat 2026-03-07 20:00 EST; Sunday 08:00 is EDT, 12:00Z. */
	is_int((long long)opens(db, x, "America/New_York",
	    at("2026-03-08T01:00:00Z")), (long long)at("2026-03-08T12:00:00Z"),
	    "the night the clocks go forward: 08:00 EDT");
	/* Sat 2026-10-31 20:00 EDT; Sunday 08:00 is EST, 13:00Z. */
	is_int((long long)opens(db, x, "America/New_York",
	    at("2026-11-01T00:00:00Z")), (long long)at("2026-11-01T13:00:00Z"),
	    "the night they go back: 08:00 EST");
	is_int((long long)opens(db, x, "America/New_York",
	    at("2026-11-01T12:59:59Z")), (long long)at("2026-11-01T13:00:00Z"),
	    "a second before");
	ok(opens(db, x, "America/New_York", at("2026-11-01T13:00:00Z")) == 0,
	    "open at 08:00");
	/* Two zones: open when both are. */
	{
		const struct rule *v[1] = { x };
		const char *z;
		size_t which;
		time_t open;

		ok(rules_hours(db, v, 1, "America/New_York America/Chicago",
		    at("2026-11-25T13:30:00Z"), &which, &z, &open, &e) == 1 &&
		    strcmp(z, "America/Chicago") == 0 &&
		    open == at("2026-11-25T14:00:00Z"),
		    "08:30 Eastern, 07:30 Central: 08:00 Central");
		ok(rules_hours(db, v, 1, "Nowhere/Else", 0, &which, &z,
		    &open, &e) < 0, "a zone that does not load: %s", e.msg);
	}
	/* Texas: Sunday from 12:00. */
	x = find(&r, "US-TX", "marketing");
	is_int((long long)opens(db, x, "America/Chicago",
	    at("2026-11-29T03:00:00Z")), (long long)at("2026-11-29T18:00:00Z"),
	    "Saturday 21:00 in Dallas: Sunday 12:00");
	x = find(&r, "AU", "marketing");
	is_int((long long)opens(db, x, "Australia/Brisbane",
	    at("2026-11-28T07:00:00Z")), (long long)at("2026-11-29T23:00:00Z"),
	    "Saturday 17:00 in Brisbane: Monday 09:00");
	rules_free(&r);
	tzdb_free(db);
	return tap_done();
}
