/*
 * limit.c: the checks of limit.h, which every writer of the inbox makes
 * before it writes.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "limit.h"
#include "when.h"

static int
invalid(void)
{
	errno = EINVAL;
	return -1;
}

int
limit_text(const char *what, size_t len, size_t max, struct errbuf *e)
{
	if (len <= max)
		return 0;
	errf(e, "%s: %zu bytes, more than the %zu allowed", what, len, max);
	return invalid();
}

/*
 * Field k of rec, if present (null is absence): a string of 1 (0 with
 * empty) to max bytes.
 */
static int
field(const json_t *rec, const char *k, size_t max, int empty,
    struct errbuf *e)
{
	const json_t *v = json_object_get(rec, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		errf(e, "\"%s\" is not a string", k);
		return invalid();
	}
	if (!empty && json_string_length(v) == 0) {
		errf(e, "\"%s\" is empty", k);
		return invalid();
	}
	return limit_text(k, json_string_length(v), max, e);
}

int
limit_message(const json_t *msg, struct errbuf *e)
{
	if (field(msg, "body", LIMIT_BODY, 1, e) < 0 ||
	    field(msg, "provider_id", LIMIT_ID, 0, e) < 0 ||
	    field(msg, "key", LIMIT_KEY, 0, e) < 0)
		return -1;
	return field(msg, "agent", LIMIT_NAME, 0, e);
}

int
limit_conversation(const json_t *conv, struct errbuf *e)
{
	const json_t *tags = json_object_get(conv, "tags");
	const json_t *t;
	size_t i;

	if (field(conv, "assignee", LIMIT_NAME, 0, e) < 0)
		return -1;
	if (!json_is_array(tags))
		return 0;
	if (json_array_size(tags) > LIMIT_TAGS) {
		errf(e, "%zu tags, more than the %d allowed",
		    json_array_size(tags), LIMIT_TAGS);
		return invalid();
	}
	json_array_foreach(tags, i, t)
		if (json_is_string(t) && limit_text("tag",
		    json_string_length(t), LIMIT_TAG, e) < 0)
			return -1;
	return 0;
}

int
limit_time(const char *what, const char *s, time_t now, time_t *out,
    struct errbuf *e)
{
	char lo[WHEN_BUFSZ], hi[WHEN_BUFSZ];
	struct errbuf pe;

	if (when_parse(s, out, &pe) < 0) {
		errf(e, "%s '%.40s': %s", what, s, pe.msg);
		return invalid();
	}
	if (strlen(s) <= 10) {
		errf(e, "%s '%s': a date without a time", what, s);
		return invalid();
	}
	if (*out < LIMIT_TIME_MIN || *out > now + LIMIT_TIME_AHEAD) {
		when_format(LIMIT_TIME_MIN, lo);
		when_format(now + LIMIT_TIME_AHEAD, hi);
		errf(e, "%s '%.40s': not from %s to %s", what, s, lo, hi);
		return invalid();
	}
	return 0;
}
