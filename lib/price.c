/*
 * price.c: a price table from the configuration (price.h).
 *
 * A handful of prefixes at most, so a lookup tries them all and keeps the
 * longest that matches; no trie is needed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "price.h"

struct entry {
	char prefix[16];	/* digits; "" for the price anywhere */
	char key[64];		/* the key it came from, for messages */
	long long micro;
	int places;		/* as written */
};

struct price_table {
	struct entry *v;
	size_t n;
	char unit[4];
};

int
price_parse(const char *s, long long *micro, int *places_out)
{
	long long v = 0;
	int places = -1;

	if (!s || !*s || (s[0] == '.' && !s[1]))
		return -1;
	for (; *s; s++) {
		if (*s == '.' && places < 0) {
			places = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s) || places == 6)
			return -1;
		v = v * 10 + (*s - '0');
		if (places >= 0)
			places++;
		if (v > PRICE_MAX * 1000000)
			return -1;
	}
	if (places < 0)
		places = 0;
	if (places_out)
		*places_out = places;
	for (; places < 6; places++)
		v *= 10;
	if (v > PRICE_MAX)
		return -1;
	*micro = v;
	return 0;
}

void
price_format(long long micro, int places, char buf[PRICE_BUFSZ])
{
	size_t n, point;

	snprintf(buf, PRICE_BUFSZ, "%lld.%06lld", micro / 1000000,
	    micro % 1000000);
	n = strlen(buf);
	point = n - 7;
	if (places < 2)
		places = 2;
	while (buf[n - 1] == '0' && n - point - 1 > (size_t)places)
		buf[--n] = '\0';
}

/*
 * Add prefix at micro (written with places) from key to t, unless it is
 * there at that price.
 */
static int
add(struct price_table *t, const char *prefix, const char *key,
    long long micro, int places, struct errbuf *e)
{
	struct entry *v;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].prefix, prefix) != 0)
			continue;
		if (t->v[i].micro == micro)
			return 0;
		errno = EINVAL;
		return errf(e, "%s and %s: two prices for +%s", t->v[i].key,
		    key, prefix);
	}
	if (!(v = realloc(t->v, (t->n + 1) * sizeof *v))) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	t->v = v;
	v = &t->v[t->n++];
	snprintf(v->prefix, sizeof v->prefix, "%s", prefix);
	snprintf(v->key, sizeof v->key, "%s", key);
	v->micro = micro;
	v->places = places;
	return 0;
}

struct price_table *
price_table_new(const struct config *c, const char *def, const char *unit,
    struct errbuf *e)
{
	struct price_table *t = calloc(1, sizeof *t);
	const char *key, *val, *what, *cc;
	char region[3];
	long long micro;
	int places;
	size_t i, n;

	if (!t) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (!unit || strlen(unit) != 3 || !isupper((unsigned char)unit[0]) ||
	    !isupper((unsigned char)unit[1]) ||
	    !isupper((unsigned char)unit[2])) {
		errf(e, "price_unit: '%s' is not a currency code such as USD",
		    unit ? unit : "");
		goto bad;
	}
	memcpy(t->unit, unit, 4);
	if (def && *def) {
		if (price_parse(def, &micro, &places) < 0) {
			errf(e, "price: '%s' is not a price of a segment "
			    "(0.0079)", def);
			goto bad;
		}
		if (add(t, "", "price", micro, places, e) < 0)
			goto bad;
	}
	for (i = 0; config_entry(c, i, &key, &val); i++) {
		if (strncmp(key, "price.", 6) != 0)
			continue;
		what = key + 6;
		n = strlen(what);
		if (n >= 1 && n < 16 && strspn(what, "0123456789") == n &&
		    what[0] != '0') {
			cc = what;
		} else if (n == 2 && islower((unsigned char)what[0]) &&
		    islower((unsigned char)what[1])) {
			region[0] = (char)toupper((unsigned char)what[0]);
			region[1] = (char)toupper((unsigned char)what[1]);
			region[2] = '\0';
			if (!(cc = phone_region_code(region))) {
				errf(e, "%s: '%s' is not an ISO 3166 region",
				    key, region);
				goto bad;
			}
		} else {
			errf(e, "%s: not price. and a region (gb) or the "
			    "digits a number begins with (44)", key);
			goto bad;
		}
		if (price_parse(val, &micro, &places) < 0) {
			errf(e, "%s: '%s' is not a price of a segment "
			    "(0.0079)", key, val);
			goto bad;
		}
		if (add(t, cc, key, micro, places, e) < 0)
			goto bad;
	}
	return t;
bad:
	if (errno != ENOMEM)
		errno = EINVAL;
	price_table_free(t);
	return NULL;
}

void
price_table_free(struct price_table *t)
{
	if (t) {
		free(t->v);
		free(t);
	}
}

int
price_lookup(const struct price_table *t, const char *number,
    long long *micro, int *places)
{
	const struct entry *best = NULL;
	const char *d = number && number[0] == '+' ? number + 1 : number;
	size_t n;

	if (!t || !d)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		n = strlen(t->v[i].prefix);
		if (strncmp(d, t->v[i].prefix, n) == 0 &&
		    (!best || n > strlen(best->prefix)))
			best = &t->v[i];
	}
	if (!best)
		return 0;
	*micro = best->micro;
	if (places)
		*places = best->places;
	return 1;
}

const char *
price_unit(const struct price_table *t)
{
	return t->unit;
}
