/*
 * phonezone.h: where on the clock a phone number is, as far as its
 * digits tell: the IANA time zones of its area code (NANP) or region, or
 * else its country.
 */
#ifndef PHONEZONE_H
#define PHONEZONE_H

#include <stddef.h>

#define PHONEZONE_MAX 16	/* the most zones one prefix has */

/*
 * The zones an E.164 number ("+12125550123") may be in, as one static
 * string of IANA names separated by single spaces, or NULL if no prefix
 * of it is known (+800, a country missing from the table). *matched, if
 * not NULL, gets the length of the prefix matched, without the "+": 4
 * for a known NANP area code, 1 for +1 with an unknown one.
 */
const char *phonezone_lookup(const char *number, size_t *matched);

/* Entry i of the table: its zones (NULL past the end) and *prefix. */
const char *phonezone_entry(size_t i, const char **prefix);

#endif
