/*
 * phone.c: E.164 normalization by two tables.
 *
 * The first table is the ITU-T list of assigned country calling codes
 * (Operational Bulletin "List of ITU-T Recommendation E.164 assigned country
 * codes"): geographic codes and the global services (800 freephone, 870
 * Inmarsat, 881-883 networks, 888, 979). Country codes form a prefix code,
 * so at most one of the 1-, 2- and 3-digit prefixes of a number is in the
 * list. Spare and withdrawn codes (+259, +388, +671, +684, +999, ...) are
 * not, so a number under them is refused rather than stored.
 *
 * The second maps an ISO 3166 alpha-2 region to its calling code and what
 * is dialled around a national number there: the trunk prefix to drop ("0"
 * in most of the world, "06" in HU, "8" in RU and KZ, none where the
 * leading digit is part of the number, as in IT, ES, PL, DK or NO),
 * and the international prefix where it is not the common "00" (011 in
 * NANP, 0011 in AU, 010 in JP, 810 beside 00 in RU, KZ and BY). Where a
 * plan has one national number length (NANP 10, +7 10, FR 9, ...), the
 * trunk prefix is dropped only from a number one prefix longer than that,
 * so "800 555 3535" in RU keeps its leading 8. NANP's "1" before the area
 * code is such a trunk prefix, and so is a "(0)" after the country code,
 * as in "+44 (0)20 7946 0000". Carrier-selection codes (BR "0 21 ...") and
 * Argentina's mobile "15" are not understood: write those numbers in
 * international form.
 */
#include <errno.h>
#include <string.h>

#include "phone.h"

#define E164_MAX 15		/* digits, country code included */
#define E164_MIN 7		/* shortest real numbers: +690 Tokelau, 4 */
#define SCAN_MAX 40		/* digits kept while prefixes are unknown */

static const char *const calling_codes[] = {
	"1", "7",
	"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
	"43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
	"55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
	"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
	"211", "212", "213", "216", "218",
	"220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
	"230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
	"240", "241", "242", "243", "244", "245", "246", "247", "248", "249",
	"250", "251", "252", "253", "254", "255", "256", "257", "258",
	"260", "261", "262", "263", "264", "265", "266", "267", "268", "269",
	"290", "291", "297", "298", "299",
	"350", "351", "352", "353", "354", "355", "356", "357", "358", "359",
	"370", "371", "372", "373", "374", "375", "376", "377", "378", "379",
	"380", "381", "382", "383", "385", "386", "387", "389",
	"420", "421", "423",
	"500", "501", "502", "503", "504", "505", "506", "507", "508", "509",
	"590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
	"670", "672", "673", "674", "675", "676", "677", "678", "679",
	"680", "681", "682", "683", "685", "686", "687", "688", "689",
	"690", "691", "692",
	"800", "808", "850", "852", "853", "855", "856",
	"870", "878", "880", "881", "882", "883", "886", "888",
	"960", "961", "962", "963", "964", "965", "966", "967", "968",
	"970", "971", "972", "973", "974", "975", "976", "977", "979",
	"992", "993", "994", "995", "996", "998",
};

/*
 * trunk holds the national prefixes, space-separated (LT moved from 8 to 0
 * in 2025 and both are still written; BY dials 8 before area codes written
 * with a 0, "8 017"); idd an international prefix besides "00", which is
 * understood everywhere; nsn the fixed length of the national number, or 0
 * where it varies.
 */
struct region {
	char id[3];
	unsigned char nsn;
	const char *cc;
	const char *trunk;
	const char *idd;
};

#define NANP(id) { id, 10, "1", "1", "011" }

static const struct region regions[] = {
	{ "AC", 0, "247", "", NULL }, { "AD", 0, "376", "", NULL },
	{ "AE", 0, "971", "0", NULL }, { "AF", 0, "93", "0", NULL },
	NANP("AG"), NANP("AI"),
	{ "AL", 0, "355", "0", NULL }, { "AM", 0, "374", "0", NULL },
	{ "AO", 0, "244", "", NULL }, { "AR", 0, "54", "0", NULL },
	NANP("AS"),
	{ "AT", 0, "43", "0", NULL }, { "AU", 9, "61", "0", "0011" },
	{ "AW", 0, "297", "", NULL }, { "AX", 0, "358", "0", NULL },
	{ "AZ", 0, "994", "0", NULL }, { "BA", 0, "387", "0", NULL },
	NANP("BB"),
	{ "BD", 0, "880", "0", NULL }, { "BE", 0, "32", "0", NULL },
	{ "BF", 0, "226", "", NULL }, { "BG", 0, "359", "0", NULL },
	{ "BH", 0, "973", "", NULL }, { "BI", 0, "257", "", NULL },
	{ "BJ", 0, "229", "", NULL }, { "BL", 9, "590", "0", NULL },
	NANP("BM"),
	{ "BN", 0, "673", "", NULL }, { "BO", 0, "591", "0", NULL },
	{ "BQ", 0, "599", "", NULL }, { "BR", 0, "55", "0", NULL },
	NANP("BS"),
	{ "BT", 0, "975", "", NULL }, { "BW", 0, "267", "", NULL },
	{ "BY", 9, "375", "80 0", "810" }, { "BZ", 0, "501", "", NULL },
	NANP("CA"),
	{ "CC", 9, "61", "0", "0011" }, { "CD", 0, "243", "0", NULL },
	{ "CF", 0, "236", "", NULL }, { "CG", 0, "242", "", NULL },
	{ "CH", 0, "41", "0", NULL }, { "CI", 0, "225", "", NULL },
	{ "CK", 0, "682", "", NULL }, { "CL", 0, "56", "", NULL },
	{ "CM", 0, "237", "", NULL }, { "CN", 0, "86", "0", NULL },
	{ "CO", 0, "57", "", NULL }, { "CR", 0, "506", "", NULL },
	{ "CU", 0, "53", "0", NULL }, { "CV", 0, "238", "", NULL },
	{ "CW", 0, "599", "", NULL }, { "CX", 9, "61", "0", "0011" },
	{ "CY", 0, "357", "", NULL }, { "CZ", 0, "420", "", NULL },
	{ "DE", 0, "49", "0", NULL }, { "DJ", 0, "253", "", NULL },
	{ "DK", 0, "45", "", NULL },
	NANP("DM"), NANP("DO"),
	{ "DZ", 0, "213", "0", NULL }, { "EC", 0, "593", "0", NULL },
	{ "EE", 0, "372", "", NULL }, { "EG", 0, "20", "0", NULL },
	{ "EH", 0, "212", "0", NULL }, { "ER", 0, "291", "0", NULL },
	{ "ES", 0, "34", "", NULL }, { "ET", 0, "251", "0", NULL },
	{ "FI", 0, "358", "0", NULL }, { "FJ", 0, "679", "", NULL },
	{ "FK", 0, "500", "", NULL }, { "FM", 0, "691", "", NULL },
	{ "FO", 0, "298", "", NULL }, { "FR", 9, "33", "0", NULL },
	{ "GA", 0, "241", "", NULL }, { "GB", 0, "44", "0", NULL },
	NANP("GD"),
	{ "GE", 0, "995", "0", NULL }, { "GF", 9, "594", "0", NULL },
	{ "GG", 0, "44", "0", NULL }, { "GH", 0, "233", "0", NULL },
	{ "GI", 0, "350", "", NULL }, { "GL", 0, "299", "", NULL },
	{ "GM", 0, "220", "", NULL }, { "GN", 0, "224", "", NULL },
	{ "GP", 9, "590", "0", NULL }, { "GQ", 0, "240", "", NULL },
	{ "GR", 0, "30", "", NULL }, { "GS", 0, "500", "", NULL },
	{ "GT", 0, "502", "", NULL },
	NANP("GU"),
	{ "GW", 0, "245", "", NULL }, { "GY", 0, "592", "", NULL },
	{ "HK", 0, "852", "", NULL }, { "HN", 0, "504", "", NULL },
	{ "HR", 0, "385", "0", NULL }, { "HT", 0, "509", "", NULL },
	{ "HU", 0, "36", "06", NULL }, { "ID", 0, "62", "0", NULL },
	{ "IE", 0, "353", "0", NULL }, { "IL", 0, "972", "0", NULL },
	{ "IM", 0, "44", "0", NULL }, { "IN", 0, "91", "0", NULL },
	{ "IO", 0, "246", "", NULL }, { "IQ", 0, "964", "0", NULL },
	{ "IR", 0, "98", "0", NULL }, { "IS", 0, "354", "", NULL },
	{ "IT", 0, "39", "", NULL }, { "JE", 0, "44", "0", NULL },
	NANP("JM"),
	{ "JO", 0, "962", "0", NULL }, { "JP", 0, "81", "0", "010" },
	{ "KE", 0, "254", "0", NULL }, { "KG", 0, "996", "0", NULL },
	{ "KH", 0, "855", "0", NULL }, { "KI", 0, "686", "", NULL },
	{ "KM", 0, "269", "", NULL },
	NANP("KN"),
	{ "KP", 0, "850", "0", NULL }, { "KR", 0, "82", "0", NULL },
	{ "KW", 0, "965", "", NULL },
	NANP("KY"),
	{ "KZ", 10, "7", "8", "810" }, { "LA", 0, "856", "0", NULL },
	{ "LB", 0, "961", "0", NULL },
	NANP("LC"),
	{ "LI", 0, "423", "", NULL }, { "LK", 0, "94", "0", NULL },
	{ "LR", 0, "231", "0", NULL }, { "LS", 0, "266", "", NULL },
	{ "LT", 8, "370", "0 8", NULL }, { "LU", 0, "352", "", NULL },
	{ "LV", 0, "371", "", NULL }, { "LY", 0, "218", "0", NULL },
	{ "MA", 0, "212", "0", NULL }, { "MC", 0, "377", "0", NULL },
	{ "MD", 0, "373", "0", NULL }, { "ME", 0, "382", "0", NULL },
	{ "MF", 9, "590", "0", NULL }, { "MG", 0, "261", "0", NULL },
	{ "MH", 0, "692", "", NULL }, { "MK", 0, "389", "0", NULL },
	{ "ML", 0, "223", "", NULL }, { "MM", 0, "95", "0", NULL },
	{ "MN", 0, "976", "0", NULL }, { "MO", 0, "853", "", NULL },
	NANP("MP"),
	{ "MQ", 9, "596", "0", NULL }, { "MR", 0, "222", "", NULL },
	NANP("MS"),
	{ "MT", 0, "356", "", NULL }, { "MU", 0, "230", "", NULL },
	{ "MV", 0, "960", "", NULL }, { "MW", 0, "265", "0", NULL },
	{ "MX", 0, "52", "", NULL }, { "MY", 0, "60", "0", NULL },
	{ "MZ", 0, "258", "", NULL }, { "NA", 0, "264", "0", NULL },
	{ "NC", 0, "687", "", NULL }, { "NE", 0, "227", "", NULL },
	{ "NF", 0, "672", "", NULL }, { "NG", 0, "234", "0", NULL },
	{ "NI", 0, "505", "", NULL }, { "NL", 0, "31", "0", NULL },
	{ "NO", 0, "47", "", NULL }, { "NP", 0, "977", "0", NULL },
	{ "NR", 0, "674", "", NULL }, { "NU", 0, "683", "", NULL },
	{ "NZ", 0, "64", "0", NULL }, { "OM", 0, "968", "", NULL },
	{ "PA", 0, "507", "", NULL }, { "PE", 0, "51", "0", NULL },
	{ "PF", 0, "689", "", NULL }, { "PG", 0, "675", "", NULL },
	{ "PH", 0, "63", "0", NULL }, { "PK", 0, "92", "0", NULL },
	{ "PL", 0, "48", "", NULL }, { "PM", 0, "508", "0", NULL },
	NANP("PR"),
	{ "PS", 0, "970", "0", NULL }, { "PT", 0, "351", "", NULL },
	{ "PW", 0, "680", "", NULL }, { "PY", 0, "595", "0", NULL },
	{ "QA", 0, "974", "", NULL }, { "RE", 9, "262", "0", NULL },
	{ "RO", 0, "40", "0", NULL }, { "RS", 0, "381", "0", NULL },
	{ "RU", 10, "7", "8", "810" }, { "RW", 0, "250", "0", NULL },
	{ "SA", 0, "966", "0", NULL }, { "SB", 0, "677", "", NULL },
	{ "SC", 0, "248", "", NULL }, { "SD", 0, "249", "0", NULL },
	{ "SE", 0, "46", "0", NULL }, { "SG", 0, "65", "", NULL },
	{ "SH", 0, "290", "", NULL }, { "SI", 0, "386", "0", NULL },
	{ "SJ", 0, "47", "", NULL }, { "SK", 0, "421", "0", NULL },
	{ "SL", 0, "232", "0", NULL }, { "SM", 0, "378", "", NULL },
	{ "SN", 0, "221", "", NULL }, { "SO", 0, "252", "0", NULL },
	{ "SR", 0, "597", "", NULL }, { "SS", 0, "211", "0", NULL },
	{ "ST", 0, "239", "", NULL }, { "SV", 0, "503", "", NULL },
	NANP("SX"),
	{ "SY", 0, "963", "0", NULL }, { "SZ", 0, "268", "", NULL },
	{ "TA", 0, "290", "", NULL },
	NANP("TC"),
	{ "TD", 0, "235", "", NULL }, { "TG", 0, "228", "", NULL },
	{ "TH", 0, "66", "0", NULL }, { "TJ", 9, "992", "8", NULL },
	{ "TK", 0, "690", "", NULL }, { "TL", 0, "670", "", NULL },
	{ "TM", 8, "993", "8", NULL }, { "TN", 0, "216", "", NULL },
	{ "TO", 0, "676", "", NULL }, { "TR", 0, "90", "0", NULL },
	NANP("TT"),
	{ "TV", 0, "688", "", NULL }, { "TW", 0, "886", "0", NULL },
	{ "TZ", 0, "255", "0", NULL }, { "UA", 0, "380", "0", NULL },
	{ "UG", 0, "256", "0", NULL },
	NANP("US"),
	{ "UY", 0, "598", "0", NULL }, { "UZ", 9, "998", "8", NULL },
	{ "VA", 0, "39", "", NULL },
	NANP("VC"),
	{ "VE", 0, "58", "0", NULL },
	NANP("VG"), NANP("VI"),
	{ "VN", 0, "84", "0", NULL }, { "VU", 0, "678", "", NULL },
	{ "WF", 0, "681", "", NULL }, { "WS", 0, "685", "", NULL },
	{ "XK", 0, "383", "0", NULL }, { "YE", 0, "967", "0", NULL },
	{ "YT", 9, "262", "0", NULL }, { "ZA", 0, "27", "0", NULL },
	{ "ZM", 0, "260", "0", NULL }, { "ZW", 0, "263", "0", NULL },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
fail(struct errbuf *e, const char *msg)
{
	errno = EINVAL;
	return errf(e, "%s", msg);
}

static const struct region *
region_find(const char *id)
{
	char up[3];

	if (strlen(id) != 2)
		return NULL;
	for (int i = 0; i < 2; i++) {
		char c = id[i];

		up[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	up[2] = '\0';
	for (size_t i = 0; i < NELEM(regions); i++)
		if (memcmp(regions[i].id, up, 2) == 0)
			return &regions[i];
	return NULL;
}

const char *
phone_region_code(const char *region)
{
	const struct region *r = region ? region_find(region) : NULL;

	return r ? r->cc : NULL;
}

/* Length of the assigned calling code that d (digits) starts with, or 0. */
static size_t
code_len(const char *d)
{
	size_t n = strlen(d);

	for (size_t len = 1; len <= 3 && len <= n; len++)
		for (size_t i = 0; i < NELEM(calling_codes); i++)
			if (strlen(calling_codes[i]) == len &&
			    memcmp(calling_codes[i], d, len) == 0)
				return len;
	return 0;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/*
 * Collect the digits of in into d (NUL-terminated), "(0)" after a digit
 * left out, and say whether it began with "+". Refuses anything but digits
 * and separators.
 */
static int
scan(const char *in, char d[SCAN_MAX + 1], int *plus, struct errbuf *e)
{
	const char *p = in ? in : "", *end;
	size_t n = 0;

	while (is_space((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_space((unsigned char)end[-1]))
		end--;
	if (p == end)
		return fail(e, "empty phone number");
	*plus = *p == '+';
	for (const char *s = p + *plus; s < end; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '(' && n > 0 && end - s >= 3 && s[1] == '0' &&
		    s[2] == ')') {
			s += 2;		/* "+44 (0)20": a trunk prefix */
		} else if (c >= '0' && c <= '9') {
			if (n == SCAN_MAX)
				return fail(e,
				    "too long: E.164 allows 15 digits");
			d[n++] = (char)c;
		} else if (c == '+') {
			return fail(e, "not a phone number: '+' is allowed "
			    "only at the start");
		} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
			return fail(e, "not a phone number: letters");
		} else if (c >= 0x80) {
			return fail(e,
			    "not a phone number: non-ASCII character");
		} else if (!strchr(" -.()/", c)) {
			errno = EINVAL;
			return c > ' ' && c < 0x7f ?
			    errf(e, "not a phone number: unexpected '%c'", c) :
			    errf(e, "not a phone number: control character "
			    "0x%02x", c);
		}
	}
	d[n] = '\0';
	if (n == 0)
		return fail(e, "not a phone number: no digits");
	return 0;
}

/*
 * The length of the first of the space-separated prefixes in list that d
 * starts with and that leaves nsn digits (any number if nsn is 0), or 0.
 */
static size_t
prefix_len(const char *d, const char *list, size_t nsn)
{
	size_t n = strlen(d);

	while (list && *list) {
		size_t len = strcspn(list, " ");

		if (len > 0 && strncmp(d, list, len) == 0 &&
		    (nsn == 0 || n - len == nsn))
			return len;
		list += len;
		list += *list == ' ';
	}
	return 0;
}

/* National digits d in region r to international digits (no "+") in out. */
static int
national(const char *d, const struct region *r, char out[SCAN_MAX + 4],
    struct errbuf *e)
{
	if (r == NULL)
		return fail(e, "national number needs a default country");
	d += prefix_len(d, r->trunk, r->nsn);
	if (strlen(r->cc) + strlen(d) > SCAN_MAX)
		return fail(e, "too long: E.164 allows 15 digits");
	strcpy(out, r->cc);
	strcat(out, d);
	return 0;
}

/* Check international digits d (country code first) against E.164. */
static int
check(const char *d, struct errbuf *e)
{
	size_t n = strlen(d), cc;

	if (n > E164_MAX)
		return fail(e, "too long: E.164 allows 15 digits");
	if (n < E164_MIN)
		return fail(e, "too short: a phone number has at least "
		    "7 digits");
	if (d[0] == '0')
		return fail(e, "country calling code cannot start with 0");
	if ((cc = code_len(d)) == 0) {
		errno = EINVAL;
		return errf(e, "unknown country calling code +%.3s", d);
	}
	if (cc == 1 && d[0] == '1') {
		if (n != 11)
			return fail(e, "NANP numbers have 10 digits after +1");
		if (d[1] == '0' || d[1] == '1')
			return fail(e,
			    "NANP area code cannot start with 0 or 1");
	}
	return 0;
}

int
phone_normalize(const char *in, const char *country, char out[PHONE_MAX],
    struct errbuf *e)
{
	const struct region *r = NULL;
	char d[SCAN_MAX + 1], intl[SCAN_MAX + 4];
	const char *p = d;
	size_t t;
	int plus = 0;

	if (country && *country && (r = region_find(country)) == NULL) {
		errno = EINVAL;
		return errf(e, "unknown country '%s'", country);
	}
	if (scan(in, d, &plus, e) < 0)
		return -1;
	if (!plus) {
		if (r && r->idd && (t = prefix_len(d, r->idd, 0)) > 0)
			p = d + t;
		else if (strncmp(d, "00", 2) == 0)
			p = d + 2;
		else if (national(d, r, intl, e) < 0)
			return -1;
		else
			p = intl;
	}
	if (check(p, e) < 0)
		return -1;
	out[0] = '+';
	strcpy(out + 1, p);
	return 0;
}
