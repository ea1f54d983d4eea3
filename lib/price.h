/*
 * price.h: what a message would cost, from the configuration.
 *
 * Prices are per segment, in one currency, and kept as whole millionths of
 * it, so that sums are exact, with the number of decimal places they were
 * written with, so that a price is shown as it was configured ("0.0100"
 * stays 0.0100, and two segments of it cost 0.0200). The table is read from
 * the config once: "price" is the price anywhere, "price.PREFIX" the price
 * of numbers whose E.164 digits begin with PREFIX (a country calling code,
 * such as 44, or any longer prefix, such as the NANP area code 1204), and
 * "price.CC", with CC an ISO 3166 alpha-2 region ("price.gb": keys are
 * lowercase), the same as "price." and its calling code. The longest prefix
 * that matches wins. Regions that share a calling code (US and CA: +1)
 * cannot be told apart by it, so two keys for one prefix with different
 * prices are refused.
 *
 * Ownership: a table copies what it keeps; it is freed with
 * price_table_free().
 */
#ifndef PRICE_H
#define PRICE_H

#include "config.h"
#include "diag.h"

#define PRICE_BUFSZ 32		/* "999999999999.000001" and a NUL */
#define PRICE_MAX 1000000000LL	/* 1,000 in millionths, a segment */

struct price_table;

/*
 * The prices of c: def is the price anywhere (the key "price", or what
 * beats it; NULL or "" for none), and every "price.*" key; unit is the
 * currency (three capital letters). NULL with
 * e filled (and errno EINVAL) if a value or key is malformed or two keys
 * disagree, or with errno ENOMEM.
 */
struct price_table *price_table_new(const struct config *c, const char *def,
    const char *unit, struct errbuf *e);

void price_table_free(struct price_table *t);

/*
 * The price of a segment to number (E.164) in *micro, and the decimal
 * places it was written with in *places (if places is not NULL): 1 if one
 * is known, 0 if not.
 */
int price_lookup(const struct price_table *t, const char *number,
    long long *micro, int *places);

/* The currency of t ("USD"). */
const char *price_unit(const struct price_table *t);

/*
 * A decimal ("0.0079", "1", ".5") of at most six places, from 0 to
 * PRICE_MAX millionths, in *micro, and its places in *places (if places
 * is not NULL). Returns 0, or -1.
 */
int price_parse(const char *s, long long *micro, int *places);

/*
 * micro as a decimal of places places, and at least two ("0.0158",
 * "1.00"); never fewer than micro needs.
 */
void price_format(long long micro, int places, char buf[PRICE_BUFSZ]);

#endif
