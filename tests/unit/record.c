/*
 * record.c: the NDJSON reader, the scanner against jansson, unescaping,
 * and record_pick()'s plain lines against what jansson writes back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "tap.h"

static FILE *
input(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	fwrite(s, 1, n, fp);
	rewind(fp);
	return fp;
}

static void
test_reader(void)
{
	static const char in[] =
	    "{\"type\":\"message\",\"z\":1,\"a\":2}\n"
	    "\n"
	    "not json\n"
	    "[1,2]\n"
	    "{\"body\":\"\xff\"}\n"
	    "{\"ok\":true}\n"
	    "{\"cut\":1}";
	struct record_reader rr;
	struct errbuf e;
	json_t *rec;
	FILE *fp = input(in, sizeof in - 1);
	char *out = NULL;
	size_t outlen = 0;
	FILE *w = open_memstream(&out, &outlen);

	record_reader_init(&rr, fp, "in");
	is_int(record_read(&rr, &rec, &e), 1, "first record read");
	record_write(w, rec);
	fflush(w);
	is_str(out, "{\"type\":\"message\",\"z\":1,\"a\":2}\n",
	    "written back compact, fields in their order");
	json_decref(rec);
	is_int(record_read(&rr, &rec, &e), -1, "not json is an error");
	ok(strncmp(e.msg, "in:3: invalid JSON", 18) == 0,
	    "blank line skipped; error names line 3: %s", e.msg);
	is_int(record_read(&rr, &rec, &e), -1, "an array is an error");
	is_str(e.msg, "in:4: not a JSON object", "array refused by name");
	is_int(record_read(&rr, &rec, &e), -1, "bad UTF-8 is an error");
	is_str(e.msg, "in:5: invalid UTF-8 at byte 9",
	    "bad UTF-8 named with its byte offset");
	is_int(record_read(&rr, &rec, &e), 1, "reading goes on after errors");
	json_decref(rec);
	is_int(record_read(&rr, &rec, &e), -1, "last line without newline");
	is_str(e.msg, "in:7: last line has no newline (cut off?)",
	    "cut-off line reported");
	is_int(record_read(&rr, &rec, &e), 0, "then end of input");
	record_reader_free(&rr);
	fclose(fp);
	fclose(w);
	free(out);
}

static void
test_cap(void)
{
	size_t big = RECORD_LINE_MAX + 10;
	char *s = malloc(big + 20);
	struct record_reader rr;
	struct errbuf e;
	json_t *rec;
	FILE *fp;

	memset(s, ' ', big);
	s[0] = '{';
	s[big - 1] = '}';
	s[big] = '\n';
	memcpy(s + big + 1, "{\"after\":1}\n", 12);
	fp = input(s, big + 13);
	record_reader_init(&rr, fp, "in");
	is_int(record_read(&rr, &rec, &e), -1, "a line over 1 MiB is refused");
	ok(strstr(e.msg, "in:1: line longer than") != NULL, "%s", e.msg);
	is_int(record_read(&rr, &rec, &e), 1, "the next line still reads");
	ok(json_object_get(rec, "after") != NULL, "and it is the right one");
	ok(rr.cap <= RECORD_LINE_MAX * 2 + 2, "buffer stayed bounded");
	json_decref(rec);
	record_reader_free(&rr);
	fclose(fp);

	/* sms-record(5): at most 1 MiB, the newline not counted. */
	for (size_t n = RECORD_LINE_MAX; n <= RECORD_LINE_MAX + 1; n++) {
		memset(s, ' ', n);
		s[0] = '{';
		s[n - 1] = '}';
		s[n] = '\n';
		fp = input(s, n + 1);
		record_reader_init(&rr, fp, "in");
		is_int(record_read(&rr, &rec, &e), n == RECORD_LINE_MAX ? 1 : -1,
		    "a line of %zu bytes and its newline: %s", n,
		    n == RECORD_LINE_MAX ? "read" : "refused");
		if (n == RECORD_LINE_MAX)
			json_decref(rec);
		record_reader_free(&rr);
		fclose(fp);
	}
	free(s);
}

/* The scanner must accept exactly what jansson accepts (as objects). */
static void
test_scan_agrees(void)
{
	static const char *const lines[] = {
		"{}", " { } ", "{\"a\":1}", "{\"a\":-0.5e+10}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":[1,2,{}]}",
		"{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":1,}", "{,}", "{\"a\"}",
		"{\"a\":tru}", "{\"a\":true,\"b\":false,\"c\":null}",
		"{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc0\x80\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"unterminated}", "{\"a\":1} x", "{\"a\":1}{}", "[]",
		"\"s\"", "1", "", "{\"a\":[[[[[]]]]]}", "{\"a\":\"\\/\"}",
		"{\"a\" : 1 , \"b\" :\t2}", "{\"a\":1e5,\"b\":-1E-2}",
		"{\"a\":\"\\u0000\"}", "{\"\":1}", "{\"a\":{\"b\":{\"c\":[]}}}",
	};
	struct record_scan sc;
	struct errbuf e;

	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		const char *l = lines[i];
		json_t *j = record_parse(l, strlen(l), &e);
		int got = record_scan(l, strlen(l), NULL, &sc) == 0;

		is_int(got, j != NULL, "scanner agrees with jansson on %s", l);
		json_decref(j);
	}
}

/*
 * A raw NUL byte is JSON nowhere, but jansson skips one that follows a
 * number or a literal ({"a":1<NUL>} read as {"a":1}): found by
 * tests/fuzz/record.c. record_parse() refuses it, naming the byte, as the
 * scanner does.
 */
static void
test_raw_nul(void)
{
	static const struct {
		const char *l;
		size_t n;
		const char *msg;
	} lines[] = {
		{ "{\"a\":1\0}", 8, "invalid JSON: a NUL byte at byte 6" },
		{ "{\"a\":true\0}", 11, "invalid JSON: a NUL byte at byte 9" },
		{ "{\"a\":[1\0]}", 10, "invalid JSON: a NUL byte at byte 7" },
		{ "{\"a\":\"x\0y\"}", 11,
		    "invalid JSON: a NUL byte at byte 7" },
		{ "{\"a\":1}\0", 8, "invalid JSON: a NUL byte at byte 7" },
	};
	struct record_scan sc;
	struct errbuf e;

	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		json_t *j = record_parse(lines[i].l, lines[i].n, &e);

		ok(j == NULL, "a raw NUL refused (line %zu)", i + 1);
		is_str(j ? "" : e.msg, lines[i].msg, "the message names it");
		is_int(record_scan(lines[i].l, lines[i].n, NULL, &sc), -1,
		    "the scanner refuses it too");
		json_decref(j);
	}
}

static void
test_scan_fields(void)
{
	static const char *const watch[] = { "segments", NULL };
	static const char line[] =
	    "{\"type\":\"message\",\"body\":\"a\\\"b\\n\\u00e9\","
	    "\"x\":{\"segments\":1}}";
	struct record_scan sc;
	struct buf b = { 0 };

	is_int(record_scan(line, sizeof line - 1, watch, &sc), 0, "scans");
	is_int(sc.nkeys, 3, "three top-level keys");
	ok(!sc.watched, "a nested key is not a top-level one");
	is_int(sc.body_kind, 's', "string body found");
	ok(sc.body_escaped, "with escapes");
	is_int(sc.close, sizeof line - 2, "closing brace found");
	record_unescape(sc.body, sc.body_len, &b);
	buf_addc(&b, '\0');
	is_str(b.p, "a\"b\n\xc3\xa9", "body unescaped");
	buf_free(&b);

	is_int(record_scan("{\"segments\":2}", 14, watch, &sc), 0, "scans");
	ok(sc.watched, "a top-level watched key is seen");
	is_int(record_scan("{\"body\":null}", 13, watch, &sc), 0, "scans");
	is_int(sc.body_kind, 'n', "null body noted");
	is_int(record_scan("{\"body\":[1]}", 12, watch, &sc), 0, "scans");
	is_int(sc.body_kind, 'o', "non-string body noted");
	is_int(record_scan("{\"bo\\u0064y\":\"x\"}", 17, watch, &sc), 0,
	    "scans");
	ok(sc.watched, "an escaped key is treated as watched (slow path)");
}

/* Whether jansson parses l and writes it back byte for byte. */
static int
plain_by_jansson(const char *l, size_t n)
{
	struct errbuf e;
	json_t *j = record_parse(l, n, &e);
	char *s;
	int same;

	if (!j)
		return 0;
	s = json_dumps(j, JSON_COMPACT);
	same = s && strlen(s) == n && memcmp(s, l, n) == 0;
	free(s);
	json_decref(j);
	return same;
}

static unsigned long rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rnd_state >> 33) % n);
}

/* A random value, depth levels deep at most, with what jansson escapes. */
static json_t *
rnd_value(int depth)
{
	static const char *const bits[] = {
		"a", "b", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa9", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", " ", "{", "0",
	};
	static const char *const keys[] = { "a", "b", "c", "type", "" };
	static const json_int_t ints[] = {
		0, 1, -1, 42, 9223372036854775807LL, -9223372036854775807LL - 1,
	};
	char s[64];
	size_t n = 0, k;
	json_t *v;

	switch (rnd(depth > 0 ? 8 : 6)) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rnd(2));
	case 2:
		return json_integer(ints[rnd(6)]);
	case 3:
		return json_real(rnd(2) ? 0.5 : 1e300);
	case 4:
	case 5:
		for (k = rnd(5); k > 0; k--) {
			const char *b = bits[rnd(sizeof bits / sizeof *bits)];

			memcpy(s + n, b, strlen(b));
			n += strlen(b);
		}
		return rnd(8) ? json_stringn(s, n) : json_stringn("x\0y", 3);
	case 6:
		v = json_array();
		for (k = rnd(4); k > 0; k--)
			json_array_append_new(v, rnd_value(depth - 1));
		return v;
	default:
		v = json_object();
		for (k = rnd(5); k > 0; k--)
			json_object_set_new(v, keys[rnd(5)],
			    rnd_value(depth - 1));
		return v;
	}
}

static void
test_pick(void)
{
	/* 1: plain; 0: not (a real is never plain, though jansson may
	 * write some back as they were: the fast path just misses it). */
	static const struct {
		const char *line;
		int plain;
	} lines[] = {
		{ "{}", 1 }, { "{\"a\":1}", 1 }, { " {\"a\":1}", 0 },
		{ "{\"a\":1} ", 0 }, { "{\"a\": 1}", 0 }, { "{\"a\":-0}", 0 },
		{ "{\"a\":0}", 1 }, { "{\"a\":-1}", 1 }, { "{\"a\":1.0}", 0 },
		{ "{\"a\":1e3}", 0 }, { "{\"a\":9223372036854775807}", 1 },
		{ "{\"a\":9223372036854775808}", 0 },
		{ "{\"a\":-9223372036854775808}", 1 },
		{ "{\"a\":-9223372036854775809}", 0 },
		{ "{\"a\":12345678901234567890}", 0 }, { "{\"a\":\"\\/\"}", 0 },
		{ "{\"a\":\"/\"}", 1 }, { "{\"a\":\"\\u001F\"}", 1 },
		{ "{\"a\":\"\\u001f\"}", 0 }, { "{\"a\":\"\\u000A\"}", 0 },
		{ "{\"a\":\"\\n\"}", 1 }, { "{\"a\":\"\\u0041\"}", 0 },
		{ "{\"a\":\"\\u00e9\"}", 0 }, { "{\"a\":\"\x7f\"}", 1 },
		{ "{\"a\":\"\\ud83d\\ude00\"}", 0 },
		{ "{\"a\":\"\\u0000\"}", 1 },
		{ "{\"\\u0000\":1}", 0 }, { "{\"a\\u0000\":1}", 0 },
		{ "{\"a\":1,\"a\":2}", 0 }, { "{\"a\":{\"b\":1,\"b\":1}}", 0 },
		{ "{\"a\":{\"b\":1},\"b\":{\"b\":1}}", 1 },
		{ "{\"a\":[{\"b\":1},{\"b\":2}]}", 1 },
		{ "{\"a\":\"\\\"\\\\\\b\\f\\r\\t\"}", 1 },
		{ "{\"type\":\"conversation\",\"thread\":\"+15551234567\","
		    "\"assignee\":null,\"unread\":2,\"tags\":[]}", 1 },
		{ "[]", 0 }, { "{\"a\":1,}", 0 }, { "{\"a\":\"\\ud800\"}", 0 },
	};
	static const char *const muts[] = {
		" ", "\\/", "\\u0041", "\\u001f", "\\u001F", "\\u00e9", "-0",
		"0", ".0", "e1", "1", ",\"a\":1", "\"a\":1,", "\\ud83d\\ude00",
		"\\n", "\\u0000", "9", "\n",
	};
	struct record_field f[3] = {
		{ "thread", NULL, 0 }, { "unread", NULL, 0 },
		{ "tags", NULL, 0 },
	};
	static const char conv[] = "{\"type\":\"conversation\",\"thread\":"
	    "\"+15551234567\",\"unread\":2,\"x\":{\"thread\":1},\"tags\":[]}";
	char line[4096];
	size_t i, n, at, bad = 0, plain = 0, tries = 0;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		const char *l = lines[i].line;
		int got = record_pick(l, strlen(l), NULL, 0) == 1;

		is_int(got, lines[i].plain, "plain or not: %s", l);
		ok(!got || plain_by_jansson(l, strlen(l)), "plain means "
		    "jansson writes it back as it was: %s", l);
	}

	is_int(record_pick(conv, sizeof conv - 1, f, 3), 1, "picks");
	ok(f[0].val && f[0].len == 14 && memcmp(f[0].val,
	    "\"+15551234567\"", 14) == 0, "a string field, quotes and all");
	ok(f[1].val && f[1].len == 1 && *f[1].val == '2', "a number field");
	ok(f[2].val && f[2].len == 2, "an array field");
	f[1].key = "messages";
	record_pick(conv, sizeof conv - 1, f, 3);
	ok(!f[1].val && f[0].len == 14, "a missing field: NULL; a nested "
	    "key of the same name is not it");

	/* What jansson writes (reals aside) is plain; a change to it is
	 * plain only if jansson would write that too. */
	for (i = 0; i < 20000; i++) {
		json_t *j = json_object();
		const char *m;
		char *s;

		for (n = rnd(6); n > 0; n--)
			json_object_set_new(j, rnd(3) ? "k" : "type",
			    rnd_value(3));
		json_object_set_new(j, "thread", rnd_value(2));
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		n = strlen(s);
		if (n + 32 > sizeof line) {
			free(s);
			continue;
		}
		tries++;
		if (!strchr(s, '.') && record_pick(s, n, NULL, 0) != 1) {
			if (bad++ < 5)
				printf("# jansson's own not plain: %s\n", s);
		}
		m = muts[rnd(sizeof muts / sizeof *muts)];
		at = rnd((unsigned)n + 1);
		memcpy(line, s, at);
		memcpy(line + at, m, strlen(m));
		memcpy(line + at + strlen(m), s + at, n - at);
		n += strlen(m);
		free(s);
		if (record_pick(line, n, NULL, 0) == 1 &&
		    !plain_by_jansson(line, n)) {
			if (bad++ < 5)
				printf("# disagree: %.*s\n", (int)n, line);
		} else if (record_pick(line, n, NULL, 0) == 1) {
			plain++;
		}
	}
	is_int(bad, 0, "record_pick() and jansson agree on %zu random lines "
	    "and as many changed ones (%zu of those plain)", tries, plain);
}

static void
test_buf(void)
{
	struct buf b = { 0 };

	/* Nothing onto nothing: no memcpy() to NULL, which UBSan (make
	 * asan) stops at; found by tests/fuzz/gsm.c on an empty text. */
	is_int(buf_add(&b, "", 0), 0, "0 bytes onto an empty buf");
	ok(b.p == NULL && b.len == 0, "leave it empty");
	buf_add_jstr(&b, "q\"\\\n\x01\xc3\xa9", 7);
	buf_addc(&b, ' ');
	buf_addu(&b, 0);
	buf_addc(&b, ' ');
	buf_addu(&b, 18446744073709551615u);
	buf_addc(&b, '\0');
	is_str(b.p, "\"q\\\"\\\\\\n\\u0001\xc3\xa9\" 0 18446744073709551615",
	    "JSON quoting and decimal numbers");
	buf_free(&b);
}

/* Valid JSON with a number out of jansson's range: said so, not "invalid". */
static void
test_too_large(void)
{
	static const char *const lines[] = {
		"{\"thread\":\"+15551234567\","
		    "\"n\":123456789012345678901234567890}",
		"{\"n\":-99999999999999999999}",
		"{\"n\" :\t1e400}",
		"{\"a\":[1e400]}",
	};
	struct errbuf e;
	size_t i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		ok(!record_parse(lines[i], strlen(lines[i]), &e), "refused: %s",
		    lines[i]);
		ok(strncmp(e.msg, "number too large for this program", 33) == 0,
		    "as too large: %s", e.msg);
	}
	ok(strstr(e.msg, "field") == NULL, "in an array, no field is named");
	record_parse(lines[2], strlen(lines[2]), &e);
	ok(strstr(e.msg, "field \"n\"") != NULL, "its field named: %s", e.msg);
}

/* record_thread(): where each record keeps its thread, and what it is not. */
static void
test_thread(void)
{
	static const struct {
		const char *line, *want;
		int rc;
	} c[] = {
		{ "{\"type\":\"conversation\",\"thread\":\"+15551230001\"}",
		    "+15551230001", 1 },
		{ "{\"type\":\"event\",\"event\":\"conversation.assigned\","
		    "\"thread\":\"+15551230002\",\"conversation\":"
		    "{\"thread\":\"+15559999999\"}}", "+15551230002", 1 },
		{ "{\"type\":\"event\",\"event\":\"assigned\","
		    "\"conversation\":{\"thread\":\"+15551230003\"}}",
		    "+15551230003", 1 },
		{ "{\"type\":\"event\",\"event\":\"optout\","
		    "\"message\":{\"thread\":\"@VERIFY\"}}", "@VERIFY", 1 },
		{ "{\"type\":\"message\",\"thread\":null,"
		    "\"message\":{\"thread\":\"+15551230004\"}}",
		    "+15551230004", 1 },
		{ "{\"type\":\"message\",\"from\":\"+15551230005\","
		    "\"to\":\"+15550100000\"}", NULL, 0 },
		{ "{\"type\":\"event\",\"message\":\"+15551230006\"}",
		    NULL, 0 },
		{ "{\"thread\":15551230007}", NULL, -1 },
		{ "{\"thread\":\"+1555\\u0000\"}", NULL, -1 },
		{ "{\"conversation\":{\"thread\":[1]}}", NULL, -1 },
	};
	struct errbuf e;
	const char *t;
	json_t *rec;
	size_t i;
	int rc;

	for (i = 0; i < sizeof c / sizeof *c; i++) {
		rec = record_parse(c[i].line, strlen(c[i].line), &e);
		if (!ok(rec != NULL, "parsed: %s", c[i].line))
			continue;
		e.msg[0] = '\0';
		rc = record_thread(rec, &t, &e);
		is_int(rc, c[i].rc, "record_thread %s", c[i].line);
		if (c[i].want)
			is_str(t, c[i].want, "its thread");
		else
			ok(t == NULL, "no thread");
		if (rc < 0)
			ok(strstr(e.msg, "\"thread\"") != NULL, "said: %s",
			    e.msg);
		json_decref(rec);
	}
}

int
main(void)
{
	test_reader();
	test_cap();
	test_scan_agrees();
	test_raw_nul();
	test_scan_fields();
	test_pick();
	test_buf();
	test_too_large();
	test_thread();
	return tap_done();
}
