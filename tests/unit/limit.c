/*
 * tests/unit/limit.c: the limits of limit.h, and the ledger names of
 * provider ids (ib_id_key()), hashed where an id does not fit a name.
 *
 * Every refusal must be errno EINVAL: callers read it as bad data, a
 * record's own error, never as the inbox's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "inbox-impl.h"
#include "limit.h"
#include "tap.h"

/* 2026-11-22T10:00:00Z, as now */
#define NOW 1795341600

static void
time_ok(const char *s, long long want)
{
	struct errbuf e = { "" };
	time_t t = 0;
	int r = limit_time("at", s, NOW, &t, &e);

	if (!ok(r == 0 && (long long)t == want, "'%s' is taken", s))
		printf("#   got %d, %lld (%s)\n", r, (long long)t, e.msg);
}

static void
time_bad(const char *s, const char *gist)
{
	struct errbuf e = { "" };
	time_t t = 0;
	int r;

	errno = 0;
	r = limit_time("at", s, NOW, &t, &e);
	if (!ok(r == -1 && errno == EINVAL && strstr(e.msg, gist),
	    "'%s' is refused (%s)", s, gist))
		printf("#   got %d, errno %d (%s)\n", r, errno, e.msg);
}

/* A message or conversation record from JSON text, checked. */
static int
check(int (*fn)(const json_t *, struct errbuf *), const char *text,
    struct errbuf *e)
{
	json_t *j = json_loads(text, 0, NULL);
	int r;

	errno = 0;
	r = fn(j, e);
	json_decref(j);
	return r;
}

static char *
bytes(size_t n, int c)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

int
main(void)
{
	struct errbuf e = { "" };
	char k1[NAME_MAX_LEN], k2[NAME_MAX_LEN], text[2048];
	char *id, *id2;

	/* Times: RFC 3339 date-times from 2000 to a day after now. */
	time_ok("2026-11-22T10:00:00Z", NOW);
	time_ok("2026-11-22T12:00:00.75+02:00", NOW);
	time_ok("2000-01-01T00:00:00Z", LIMIT_TIME_MIN);
	time_ok("2026-11-23T10:00:00Z", NOW + LIMIT_TIME_AHEAD);
	time_bad("1999-12-31T23:59:59Z", "not from 2000-01-01T00:00:00Z");
	time_bad("2026-11-23T10:00:01Z", "to 2026-11-23T10:00:00Z");
	time_bad("1900-01-01T00:00:00Z", "not from");
	time_bad("9999-99-99T99:99:99Z", "at '9999");
	time_bad("garbage", "not a time");
	time_bad("2026-11-22", "a date without a time");
	time_bad("", "at ''");

	/* Messages. */
	is_int(check(limit_message, "{\"body\":\"hi\",\"provider_id\":\"SM1\","
	    "\"key\":\"k\",\"agent\":\"ann\"}", &e), 0, "a message within");
	is_int(check(limit_message, "{\"provider_id\":null,\"agent\":null}",
	    &e), 0, "null is absence");
	id = bytes(LIMIT_BODY + 1, 'a');
	ok(check(limit_message, "{\"provider_id\":\"\"}", &e) == -1 &&
	    errno == EINVAL, "an empty provider id: EINVAL (%s)", e.msg);
	ok(check(limit_message, "{\"key\":\"\"}", &e) == -1 &&
	    errno == EINVAL, "an empty key: EINVAL (%s)", e.msg);
	ok(check(limit_message, "{\"provider_id\":7}", &e) == -1 &&
	    errno == EINVAL && strstr(e.msg, "not a string"),
	    "a number as provider id: EINVAL (%s)", e.msg);
	{
		json_t *m = json_pack("{s:s}", "body", id);

		errno = 0;
		ok(limit_message(m, &e) == -1 && errno == EINVAL &&
		    strstr(e.msg, "body: 32769 bytes, more than the 32768"),
		    "a body of 32 KiB + 1: EINVAL (%s)", e.msg);
		json_object_set_new(m, "body", json_stringn(id, LIMIT_BODY));
		is_int(limit_message(m, NULL), 0, "a body of 32 KiB: taken");
		json_decref(m);
	}
	free(id);

	/* Conversations. */
	is_int(check(limit_conversation, "{\"assignee\":null,\"tags\":[]}",
	    &e), 0, "no assignee, no tags");
	{
		json_t *c = json_pack("{s:[]}", "tags");
		json_t *tags = json_object_get(c, "tags");
		char *tag = bytes(LIMIT_TAG + 1, 't');

		for (int i = 0; i < LIMIT_TAGS; i++) {
			snprintf(text, sizeof text, "t%d", i);
			json_array_append_new(tags, json_string(text));
		}
		is_int(limit_conversation(c, &e), 0, "64 tags: taken");
		json_array_append_new(tags, json_string("one more"));
		errno = 0;
		ok(limit_conversation(c, &e) == -1 && errno == EINVAL,
		    "65 tags: EINVAL (%s)", e.msg);
		json_array_clear(tags);
		json_array_append_new(tags, json_string(tag));
		errno = 0;
		ok(limit_conversation(c, &e) == -1 && errno == EINVAL,
		    "a tag of 65 bytes: EINVAL (%s)", e.msg);
		json_array_clear(tags);
		json_object_set_new(c, "assignee", json_string(tag));
		errno = 0;
		ok(limit_conversation(c, &e) == -1 && errno == EINVAL,
		    "an assignee of 65 bytes: EINVAL (%s)", e.msg);
		free(tag);
		json_decref(c);
	}

	/* Ledger names: plain, hashed, refused. */
	is_int(ib_id_key("twilio", "SM1/..", k1), 0, "a short id");
	is_str(k1, "twilio-SM1%2F%2E%2E", "escaped, as ever");
	id = bytes(LIMIT_ID, 'x');
	id2 = bytes(LIMIT_ID, 'x');
	id2[LIMIT_ID - 1] = 'y';
	is_int(ib_id_key("twilio", id, k1), 0, "an id of 256 bytes");
	ok(strncmp(k1, "twilio-%%", 9) == 0 && strlen(k1) == 9 + 64,
	    "is named by its hash: %s", k1);
	ib_id_key("twilio", id, k2);
	is_str(k2, k1, "the same id, the same name");
	ib_id_key("twilio", id2, k2);
	ok(strcmp(k1, k2) != 0, "another id, another name");
	free(id);
	id = bytes(LIMIT_ID + 1, 'x');
	errno = 0;
	ok(ib_id_key("twilio", id, k1) == -1 && errno == EINVAL,
	    "an id of 257 bytes: EINVAL");
	is_int(ib_id_key("key", id, k1), 0, "a client key of 257 bytes");
	free(id);
	free(id2);
	id = bytes(LIMIT_KEY + 1, 'k');
	errno = 0;
	ok(ib_id_key("key", id, k1) == -1 && errno == EINVAL,
	    "a client key of 321 bytes: EINVAL");
	free(id);
	errno = 0;
	ok(ib_id_key("twilio", "", k1) == -1 && errno == EINVAL,
	    "an empty id: EINVAL");
	return tap_done();
}
