/*
 * tests/unit/price.c: prices of a segment from the configuration, the
 * longest prefix first, exact sums, and what a table refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "price.h"
#include "tap.h"

static char path[4096];

/* A config of text, through a real file, as smsdesk-config(5) reads it. */
static struct config *
conf(const char *text)
{
	struct config *c = config_new();
	struct errbuf e;
	FILE *fp = fopen(path, "w");

	if (!c || !fp || fputs(text, fp) == EOF || fclose(fp) == EOF ||
	    chmod(path, 0600) < 0 || config_load(c, path, &e) < 0) {
		printf("Bail out! cannot load a config: %s\n", path);
		exit(1);
	}
	return c;
}

/* The price of number under text, formatted, or "none" or "error". */
static const char *
priced(const char *text, const char *def, const char *number)
{
	static char out[PRICE_BUFSZ];
	struct config *c = conf(text);
	struct price_table *t;
	struct errbuf e;
	long long micro;
	int places;

	if (!(t = price_table_new(c, def, "USD", &e)))
		snprintf(out, sizeof out, "error");
	else if (!price_lookup(t, number, &micro, &places))
		snprintf(out, sizeof out, "none");
	else
		price_format(micro, places, out);
	price_table_free(t);
	config_free(c);
	return out;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct config *c;
	struct price_table *t;
	struct errbuf e;
	char buf[PRICE_BUFSZ];
	long long m;
	int p;

	snprintf(path, sizeof path, "%s/price-unit.%ld.conf",
	    tmp && *tmp ? tmp : "/tmp", (long)getpid());

	ok(price_parse("0.0079", &m, NULL) == 0 && m == 7900,
	    "0.0079 is 7900e-6");
	ok(price_parse("1", &m, NULL) == 0 && m == 1000000, "1 is whole");
	ok(price_parse(".5", &m, NULL) == 0 && m == 500000, ".5");
	ok(price_parse("0.0000001", &m, NULL) < 0, "seven places: refused");
	ok(price_parse("-0.01", &m, NULL) < 0, "negative: refused");
	ok(price_parse("1e-3", &m, NULL) < 0, "exponent: refused");
	ok(price_parse("", &m, NULL) < 0 && price_parse(".", &m, NULL) < 0,
	    "empty: refused");
	ok(price_parse("1000.000001", &m, NULL) < 0, "over 1,000: refused");
	ok(price_parse("0.0100", &m, &p) == 0 && m == 10000 && p == 4,
	    "0.0100: four places");
	ok(price_parse("2", &m, &p) == 0 && p == 0, "2: none");
	price_format(15800, 4, buf);
	is_str(buf, "0.0158", "four places");
	price_format(20000, 4, buf);
	is_str(buf, "0.0200", "the places written with are kept");
	price_format(15800, 2, buf);
	is_str(buf, "0.0158", "never fewer than the amount needs");
	price_format(3000000, 0, buf);
	is_str(buf, "3.00", "two places at least");
	price_format(7900LL * 3, 4, buf);
	is_str(buf, "0.0237", "sums are exact");

	is_str(priced("price.gb = 0.04\n", NULL, "+447700900123"), "0.04",
	    "a region key prices its calling code");
	is_str(priced("price.44 = 0.04\n", NULL, "+447700900123"), "0.04",
	    "so does the calling code");
	is_str(priced("price.gb = 0.04\n", NULL, "+15551230001"), "none",
	    "no price elsewhere without a default");
	is_str(priced("price.gb = 0.04\n", "0.0079", "+15551230001"),
	    "0.0079", "the default elsewhere");
	is_str(priced("price.gb = 0.0400\n", NULL, "+447700900123"),
	    "0.0400", "as many places as the price was written with");
	is_str(priced("price.1 = 0.0079\nprice.1204 = 0.01\n", NULL,
	    "+12045550123"), "0.01", "the longest prefix wins");
	is_str(priced("price.1204 = 0.01\nprice.1 = 0.0079\n", NULL,
	    "+15551230001"), "0.0079", "whatever the order");
	is_str(priced("price.us = 0.0079\nprice.ca = 0.0079\n", NULL,
	    "+15551230001"), "0.0079", "two regions of +1 at one price");
	is_str(priced("price.us = 0.0079\nprice.ca = 0.0075\n", NULL,
	    "+15551230001"), "error", "at two prices: refused");
	is_str(priced("price.zz = 0.01\n", NULL, "+1555"), "error",
	    "an unknown region: refused");
	is_str(priced("price.gbr = 0.01\n", NULL, "+1555"), "error",
	    "three letters: refused");
	is_str(priced("price.044 = 0.01\n", NULL, "+1555"), "error",
	    "a prefix starting 0: refused");
	is_str(priced("price.gb = cheap\n", NULL, "+44"), "error",
	    "a value that is no price: refused");
	is_str(priced("pricey = 1\nprice_unit = EUR\n", NULL, "+44"), "none",
	    "other keys are not prices");

	c = conf("price.gb = 0.04\n");
	errno = 0;
	ok(!price_table_new(c, NULL, "usd", &e) && errno == EINVAL &&
	    strstr(e.msg, "price_unit"), "a currency in lowercase: refused");
	ok((t = price_table_new(c, "", "EUR", &e)) != NULL &&
	    strcmp(price_unit(t), "EUR") == 0, "the currency is kept");
	ok(!price_lookup(t, "+15551230001", &m, NULL),
	    "an empty default is none");
	price_table_free(t);
	config_free(c);
	unlink(path);
	return tap_done();
}
