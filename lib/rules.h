/*
 * rules.h: when a message may go out, and how many to one recipient, by
 * the law of the place the recipient is in and the message's purpose
 * (smsdesk-rules(5)).
 *
 * The rules ship as data, data/rules.tsv (a jurisdiction, a purpose, the
 * hours in the recipient's local time, a cap of N messages a period, on
 * one subject or any, and whether a message held back is deferred or
 * refused, with the law it comes from), and where a number is, as far as
 * its digits tell, as data/areas.tsv (NANP area code to US state or
 * Canadian province, Brazilian DDD to state, a country's calling code);
 * the build compiles both into the library (data/gen.awk). The
 * configuration adds rules, which can only hold more back, or switches
 * shipped ones off (rule.JUR.PURPOSE, smsdesk-config(5)).
 */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "hours.h"
#include "tz.h"

/* A row of data/rules.tsv, and one of data/areas.tsv, as compiled. */
struct rules_row {
	const char *jur, *purpose, *hours, *cap, *action, *source;
};
struct rules_area {
	const char *prefix, *places;
};
extern const struct rules_row rules_rows[];
extern const size_t rules_nrows;
extern const struct rules_area rules_areas[];
extern const size_t rules_nareas;

#define RULES_JUR_MAX 16

struct rule {
	char jur[RULES_JUR_MAX];	/* "US-FL", "US", or "*": anywhere */
	char purpose[16];		/* reply, notification, marketing */
	int has_hours;
	struct hours hours;		/* when it may go, recipient-local */
	int cap;			/* at most cap messages (0: no cap) */
	long long period;		/* in period seconds */
	int per_subject;		/* on one subject (else any) */
	int refuse;			/* held back is refused, not deferred */
	int off;			/* switched off by the configuration */
	int fallback;			/* the table's "*": binds only where
					 * no other rule of its purpose does */
	char source[160];		/* the law, or the configuration key */
};

struct rules {
	struct rule *v;
	size_t n;
};

/*
 * The shipped rules and the configuration's (cfg may be NULL) into r.
 * A key rule.JUR.PURPOSE (JUR in lower case, '_' for '-', "any" for
 * "*") either switches off the shipped rules of that jurisdiction and
 * purpose ("off": warn, if not NULL, is called once for each with the
 * line to say) or adds a rule, "HOURS; cap N/PERIOD[/subject];
 * refuse", any of the three parts. Returns 0, or -1 with errno EINVAL
 * and e filled ("rule.us_fl.marketing: ...").
 */
int rules_load(struct rules *r, const struct config *cfg,
    void (*warn)(void *arg, const char *line), void *arg, struct errbuf *e);
void rules_free(struct rules *r);

/*
 * The jurisdictions an E.164 number is in, as far as data/areas.tsv
 * tells (its longest prefix there): a static string of codes separated
 * by spaces, "US-FL", or "US-* CA-*" for a place that may be any state
 * or province; NULL if the table has no prefix of it.
 */
const char *rules_places(const char *number);

/*
 * Whether rule r binds a message to number, whose places are
 * rules_places()'s: "*" binds every number (the table's only where no
 * other rule of its purpose binds: the caller asks r->fallback); a
 * country binds its subdivisions, and, where the table says nothing,
 * the numbers of its calling code (phone_region_code()); a subdivision
 * binds where places names it, or its country with "-*".
 */
int rules_applies(const struct rule *r, const char *number,
    const char *places);

/*
 * The hours of the rules v[0..n) (those without hours are skipped) in
 * every zone of zones (IANA names separated by spaces, loaded through
 * db) at t: 0 if every one is open in every zone; 1 if not, with *which
 * the index of the first rule closed, *zone the zone, and *open the
 * first time after t when all are open everywhere (0 if not within
 * eight days); -1 with e filled if a zone does not load or zones names
 * none.
 */
int rules_hours(struct tzdb *db, const struct rule *const *v, size_t n,
    const char *zones, time_t t, size_t *which, const char **zone,
    time_t *open, struct errbuf *e);

/* "US-FL marketing hours": r's name and what of it (hours, frequency). */
void rules_name(const struct rule *r, const char *what, char *buf,
    size_t n);

#endif
