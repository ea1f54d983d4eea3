/*
 * phone.h: E.164 phone numbers (ITU-T E.164, "+" and up to 15 digits).
 *
 * Every number smsdesk stores or compares is in E.164 form ("+15551234567"):
 * a thread is keyed by it, so two spellings of one number must normalize to
 * the same string. phone_normalize() takes what people and providers write:
 * an international number ("+44 20 7946 0000", "0044 ...", "011 44 ..." in
 * NANP regions), or a national one in a default country, whose trunk prefix
 * is dropped ("020 7946 0000" in GB, "8 495 ..." in RU, "1 555 ..." in US,
 * "+44 (0)20 ..."). It checks the country calling code against the ITU-T
 * assigned list and, for +1, the NANP shape; it does not check national
 * numbering plans, so a well-formed but unassigned number passes.
 */
#ifndef PHONE_H
#define PHONE_H

#include "diag.h"

#define PHONE_MAX 17	/* "+", up to 15 digits, NUL: 1 + 15 + 1 */

/*
 * Normalize in to E.164 in out. country is an ISO 3166 alpha-2 region
 * ("US", "gb"), or NULL or "" for none; it is needed only for a national
 * number and is checked whenever given. Returns 0, or -1 with errno EINVAL
 * and e filled ("too long: E.164 allows 15 digits").
 */
int phone_normalize(const char *in, const char *country, char out[PHONE_MAX],
    struct errbuf *e);

/* The country calling code of an alpha-2 region ("1", "44"), or NULL. */
const char *phone_region_code(const char *region);

#endif
