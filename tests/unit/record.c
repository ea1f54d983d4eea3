/*
 * record.c: the NDJSON reader, the scanner against jansson, unescaping.
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

static void
test_buf(void)
{
	struct buf b = { 0 };

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

int
main(void)
{
	test_reader();
	test_cap();
	test_scan_agrees();
	test_scan_fields();
	test_buf();
	return tap_done();
}
