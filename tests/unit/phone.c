/*
 * tests/unit/phone.c: phone_normalize() and phone_region_code().
 *
 * good() and bad() name the input in each test line; bad() checks errno
 * and the gist of the message, not its whole wording.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "phone.h"
#include "tap.h"

/* s with control and non-ASCII bytes escaped, for a one-line test name. */
static const char *
shown(const char *s)
{
	static char buf[256];
	size_t n = 0;

	if (s == NULL)
		return "(null)";
	for (; *s && n < sizeof buf - 5; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= ' ' && c < 0x7f)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, 5, "\\x%02x", c);
	}
	buf[n] = '\0';
	return buf;
}

static void
good(const char *in, const char *country, const char *want)
{
	char out[PHONE_MAX] = "";
	struct errbuf e = { "" };
	int r = phone_normalize(in, country, out, &e);

	if (!ok(r == 0 && strcmp(out, want) == 0, "\"%s\" in %s is %s",
	    shown(in), country ? country : "no country", want))
		printf("#   got %d \"%s\" (%s)\n", r, out, e.msg);
}

static void
bad(const char *in, const char *country, const char *gist)
{
	char out[PHONE_MAX] = "";
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = phone_normalize(in, country, out, &e);
	if (!ok(r == -1 && errno == EINVAL && strstr(e.msg, gist),
	    "\"%s\" in %s: %s", shown(in),
	    country ? country : "no country", gist))
		printf("#   got %d \"%s\", errno %d, \"%s\"\n", r, out, errno,
		    e.msg);
}

static void
test_brief(void)
{
	good("+1 555 123 4567", NULL, "+15551234567");
	good("(555) 123-4567", "US", "+15551234567");
	good("1 555 123 4567", "US", "+15551234567");
	good("1-555-123-4567", "US", "+15551234567");
	good("0044 20 7946 0000", NULL, "+442079460000");
	good("011 44 20 7946 0000", "US", "+442079460000");
	good("020 7946 0000", "GB", "+442079460000");
}

static void
test_separators(void)
{
	good("+15551234567", NULL, "+15551234567");
	good("  +1 555 123 4567 \n", NULL, "+15551234567");
	good("\t(555) 123-4567\r\n", "US", "+15551234567");
	good("+1/555/123.4567", NULL, "+15551234567");
	good("+1 (555) 123-4567", NULL, "+15551234567");
	good("+ 1 555 123 4567", NULL, "+15551234567");
	good("555.123.4567", "US", "+15551234567");
	good("+44 (0)20 7946 0000", NULL, "+442079460000");
	good("(0)20 7946 0000", "GB", "+442079460000");
	good("+49 (0)30 1234567", "US", "+49301234567");
}

static void
test_nanp(void)
{
	good("(555) 123-4567", "us", "+15551234567");
	good("(555) 123-4567", "Us", "+15551234567");
	good("416 555 0199", "CA", "+14165550199");
	good("787 555 0199", "PR", "+17875550199");
	good("1 876 555 0199", "JM", "+18765550199");
	good("+1 200 000 0000", NULL, "+12000000000");
	good("+1 555 023 4567", NULL, "+15550234567");
	good("011 44 20 7946 0000", "CA", "+442079460000");
	good("011 44 20 7946 0000", "PR", "+442079460000");
	good("011 44 20 7946 0000", "BS", "+442079460000");
	good("0044 20 7946 0000", "US", "+442079460000");
	good("011 1 555 123 4567", "US", "+15551234567");
	bad("+1 555 123 456", NULL, "NANP numbers have 10 digits after +1");
	bad("+1 555 123 45678", NULL, "NANP numbers have 10 digits after +1");
	bad("555 123 456", "US", "NANP numbers have 10 digits after +1");
	bad("1 555 123 45678", "US", "NANP numbers have 10 digits after +1");
	bad("+1 055 123 4567", NULL, "area code cannot start with 0 or 1");
	bad("+1 155 123 4567", NULL, "area code cannot start with 0 or 1");
	bad("1 155 123 4567", "US", "area code cannot start with 0 or 1");
	bad("011 44 20 7946 0000", NULL, "needs a default country");
}

static void
test_trunk(void)
{
	good("020 7946 0000", "gb", "+442079460000");
	good("07700 900123", "GB", "+447700900123");
	good("030 1234567", "DE", "+49301234567");
	good("06 12 34 56 78", "FR", "+33612345678");
	good("6 12 34 56 78", "FR", "+33612345678");
	good("06 1234 5678", "IT", "+390612345678");
	good("347 123 4567", "IT", "+393471234567");
	good("91 123 45 67", "ES", "+34911234567");
	good("8 495 123 45 67", "RU", "+74951234567");
	good("495 123 45 67", "RU", "+74951234567");
	good("800 555 35 35", "RU", "+78005553535");
	good("8 800 555 35 35", "RU", "+78005553535");
	good("810 44 20 7946 0000", "RU", "+442079460000");
	good("00 44 20 7946 0000", "RU", "+442079460000");
	good("8 727 123 4567", "KZ", "+77271234567");
	good("8 017 123 45 67", "BY", "+375171234567");
	good("8 029 123 45 67", "BY", "+375291234567");
	good("029 123 45 67", "BY", "+375291234567");
	good("8 612 34567", "LT", "+37061234567");
	good("0 612 34567", "LT", "+37061234567");
	good("612 34567", "LT", "+37061234567");
	good("06 1 234 5678", "HU", "+3612345678");
	good("02 9876 5432", "AU", "+61298765432");
	good("0011 44 20 7946 0000", "AU", "+442079460000");
	good("03-1234-5678", "JP", "+81312345678");
	good("010 1 555 123 4567", "JP", "+15551234567");
	good("22 123 45 67", "PL", "+48221234567");
	good("55 1234 5678", "MX", "+525512345678");
	good("011 2345 6789", "BR", "+551123456789");
	good("9123 4567", "SG", "+6591234567");
	good("098765 43210", "IN", "+919876543210");
	good("2 123 4567", "CH", "+4121234567");
	good("+7 495 123 45 67", "GB", "+74951234567");
}

static void
test_codes(void)
{
	good("+800 1234 5678", NULL, "+80012345678");
	good("+882 1234 5678", NULL, "+88212345678");
	good("+690 1234", NULL, "+6901234");
	good("+211 912 345 678", NULL, "+211912345678");
	good("+383 44 123 456", NULL, "+38344123456");
	good("+599 9 123 4567", NULL, "+59991234567");
	good("+672 3 12345", NULL, "+672312345");
	bad("+999 1234 5678", NULL, "unknown country calling code +999");
	bad("+259 123 4567", NULL, "unknown country calling code +259");
	bad("+388 123 4567", NULL, "unknown country calling code +388");
	bad("+671 123 4567", NULL, "unknown country calling code +671");
	bad("+684 123 4567", NULL, "unknown country calling code +684");
	bad("+28 123 45678", NULL, "unknown country calling code +281");
	bad("+0 123 456 789", NULL, "cannot start with 0");
	bad("000 44 20 7946", NULL, "cannot start with 0");
}

static void
test_lengths(void)
{
	good("+86 123 4567 8901 23", NULL, "+861234567890123");
	good("+852 1234 5678 9012", NULL, "+852123456789012");
	good("+44 12345", NULL, "+4412345");
	bad("+852 1234 5678 9012 3", NULL,
	    "too long: E.164 allows 15 digits");
	bad("+1 555 123 4567 8901 2345 6789 0123 4567 8901 2345 6789", NULL,
	    "too long: E.164 allows 15 digits");
	bad("0049 123 4567 8901 2345", NULL, "too long");
	bad("0123 4567 8901 2345 67", "DE", "too long");
	bad("+44 1234", NULL, "too short");
	bad("+1 555", NULL, "too short");
	bad("12345", "US", "too short");
	bad("112", "DE", "too short");
}

static void
test_refused(void)
{
	bad("", NULL, "empty");
	bad("   \t\n", "US", "empty");
	bad(NULL, "US", "empty");
	bad("555-CALL-NOW", "US", "not a phone number: letters");
	bad("+1 555 123 4567 x89", NULL, "not a phone number: letters");
	bad("tel:+15551234567", NULL, "not a phone number: letters");
	bad("1+555 123 4567", "US", "'+' is allowed only at the start");
	bad("++1 555 123 4567", NULL, "'+' is allowed only at the start");
	bad("+1 555 123 4567#", NULL, "unexpected '#'");
	bad("+1 555,123,4567", NULL, "unexpected ','");
	bad("+1\t555 123 4567", NULL, "control character 0x09");
	bad("+1 555 123 4567 \xe2\x98\x8e", NULL, "non-ASCII");
	bad("+", NULL, "no digits");
	bad("( ) -", "US", "no digits");
	bad("020 7946 0000", NULL, "national number needs a default country");
	bad("020 7946 0000", "", "national number needs a default country");
	bad("020 7946 0000", "XX", "unknown country 'XX'");
	bad("020 7946 0000", "GBR", "unknown country 'GBR'");
	bad("020 7946 0000", "G", "unknown country 'G'");
	bad("+1 555 123 4567", "ZZ", "unknown country 'ZZ'");
}

/* The longest number fills out to the last byte; a shorter one is left. */
static void
test_buffer(void)
{
	char out[PHONE_MAX + 1];
	struct errbuf e;

	memset(out, '#', sizeof out);
	ok(phone_normalize("+852 1234 5678 9012", NULL, out, &e) == 0 &&
	    strlen(out) == PHONE_MAX - 1 && out[PHONE_MAX] == '#',
	    "15 digits and NUL fit PHONE_MAX exactly");
}

static void
test_region_code(void)
{
	is_str(phone_region_code("US"), "1", "US calls +1");
	is_str(phone_region_code("gb"), "44", "gb calls +44");
	is_str(phone_region_code("JM"), "1", "JM is in NANP");
	is_str(phone_region_code("PR"), "1", "PR is in NANP");
	is_str(phone_region_code("KZ"), "7", "KZ shares +7");
	is_str(phone_region_code("VA"), "39", "VA dials through +39");
	is_str(phone_region_code("IT"), "39", "IT calls +39");
	is_str(phone_region_code("AG"), "1", "AG is in NANP");
	is_str(phone_region_code("XK"), "383", "XK calls +383");
	ok(phone_region_code("XX") == NULL, "XX has no code");
	ok(phone_region_code("USA") == NULL, "USA is not alpha-2");
	ok(phone_region_code("") == NULL, "empty region has no code");
	ok(phone_region_code(NULL) == NULL, "NULL region has no code");
}

int
main(void)
{
	test_brief();
	test_separators();
	test_nanp();
	test_trunk();
	test_codes();
	test_lengths();
	test_refused();
	test_buffer();
	test_region_code();
	return tap_done();
}
