/*
 * phone.c: phone number parsing, phone_normalize().
 *
 * The input is "REGION\nNUMBER" (REGION an alpha-2 code, possibly empty
 * or bogus) or, without a newline, a number with no region. A number that
 * normalises is '+' and 1 to 15 digits, normalises to itself again, with
 * or without the region, and is a thread of its own
 * (thread_of_sender()); the zone lookup takes it. A refusal is EINVAL
 * with a reason.
 */
#include <errno.h>

#include "fuzz.h"
#include "phone.h"
#include "phonezone.h"
#include "thread.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *num, *region = NULL;
	char out[PHONE_MAX], again[PHONE_MAX], thread[THREAD_MAX];
	struct errbuf e;
	size_t digits, matched;
	int number;

	if (s == NULL)
		return 0;
	if ((num = strchr(s, '\n')) != NULL) {
		*num++ = '\0';
		region = s;
		(void)phone_region_code(region);
	} else {
		num = s;
	}
	e.msg[0] = '\0';
	if (phone_normalize(num, region, out, &e) < 0) {
		FUZZ_CHECK(errno == EINVAL && e.msg[0],
		    "phone_normalize() failed without a reason");
		free(s);
		return 0;
	}
	digits = strspn(out + 1, "0123456789");
	FUZZ_CHECK(out[0] == '+' && digits >= 1 && digits <= 15 &&
	    out[1 + digits] == '\0', "not E.164: \"%s\"", out);
	FUZZ_CHECK(phone_normalize(out, NULL, again, &e) == 0 &&
	    strcmp(out, again) == 0, "\"%s\" normalises to \"%s\", which "
	    "does not normalise to itself: %s", num, out, e.msg);
	if (region)
		FUZZ_CHECK(phone_normalize(out, region, again, &e) == 0 &&
		    strcmp(out, again) == 0, "\"%s\" in %s: %s", out, region,
		    e.msg);
	FUZZ_CHECK(thread_of_sender(out, thread, &number, &e) == 0 &&
	    number && strcmp(thread, out) == 0, "thread of \"%s\"", out);
	(void)phonezone_lookup(out, &matched);
	free(s);
	return 0;
}
