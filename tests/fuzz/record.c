/*
 * record.c: the NDJSON reader, sms-record(5).
 *
 * The input is a stream: record_getline() cuts it into lines (as segment,
 * sms-recv and sms-send read stdin), each line goes to record_parse()
 * (jansson), record_scan() and record_pick() (the fast path that builds
 * nothing), and the readings must agree: a line jansson reads is one the
 * scanner accepts (unless nested past its depth); a line record_pick()
 * calls plain is byte for byte what record_write() writes for it, and the
 * body it found decodes with record_unescape() to jansson's string; what
 * record_write() writes parses back to an equal record. Then
 * record_read() reads the same stream again and must find the same
 * records.
 */
#include <errno.h>

#include <jansson.h>

#include "buf.h"
#include "fuzz.h"
#include "record.h"

static const char *const watch[] = { "body", "segments", NULL };

static size_t
depth(const json_t *j)
{
	size_t d = 0, k;
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v)
			if ((k = depth(v)) > d)
				d = k;
		return d + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if ((k = depth(v)) > d)
				d = k;
		return d + 1;
	}
	return 0;
}

/* Check one line against every reader; 1 if jansson read a record. */
static int
line(const char *buf, size_t len)
{
	struct record_field f[] = {
		{ "body", NULL, 0 }, { "to", NULL, 0 }, { "id", NULL, 0 },
	};
	struct record_scan sc;
	struct errbuf e;
	struct buf out = { 0 };
	json_t *j, *back;
	const json_t *body;
	char *text = NULL;
	size_t n = 0;
	FILE *mf;
	int scan, pick;

	j = record_parse(buf, len, &e);
	scan = record_scan(buf, len, watch, &sc);
	pick = record_pick(buf, len, f, sizeof f / sizeof f[0]);
	FUZZ_CHECK(pick == -1 ? scan == -1 : scan == 0,
	    "record_pick() %d but record_scan() %d", pick, scan);
	if (j == NULL) {
		FUZZ_CHECK(pick != 1, "plain by record_pick(), refused by "
		    "jansson: %s", e.msg);
		FUZZ_CHECK(e.msg[0], "record_parse() failed without a message");
		return 0;
	}
	FUZZ_CHECK(json_is_object(j), "record_parse() gave a non-object");
	FUZZ_CHECK(scan == 0 || depth(j) > 200,
	    "jansson reads a record that record_scan() refuses");
	if (scan == 0) {
		FUZZ_CHECK(sc.close < len && buf[sc.close] == '}',
		    "closing brace not at %zu", sc.close);
		if (json_object_get(j, "body") ||
		    json_object_get(j, "segments"))
			FUZZ_CHECK(sc.watched, "a watched key not noticed");
	}
	if (pick == 1) {
		char *dump = json_dumps(j, JSON_COMPACT);

		FUZZ_CHECK(dump && strlen(dump) == len &&
		    memcmp(dump, buf, len) == 0,
		    "plain line is not what jansson writes: %s", dump);
		free(dump);
		FUZZ_CHECK(sc.nkeys == json_object_size(j),
		    "%zu keys scanned, %zu parsed", sc.nkeys,
		    json_object_size(j));
		body = json_object_get(j, "body");
		FUZZ_CHECK((body != NULL) == (f[0].val != NULL),
		    "record_pick() and jansson disagree on \"body\"");
		if (json_is_string(body)) {
			FUZZ_CHECK(sc.body_kind == 's', "body kind %c",
			    sc.body_kind);
			if (record_unescape(sc.body, sc.body_len, &out) == 0)
				FUZZ_CHECK(out.len == json_string_length(body)
				    && (out.len == 0 || memcmp(out.p,
				    json_string_value(body), out.len) == 0),
				    "record_unescape() differs from jansson");
			buf_free(&out);
		}
	}
	/* What record_write() writes reads back the same. */
	if ((mf = open_memstream(&text, &n)) != NULL) {
		int w = record_write(mf, j);

		if (fclose(mf) == 0 && w == 0) {
			FUZZ_CHECK(n > 0 && text[n - 1] == '\n',
			    "record_write() without a newline");
			back = record_parse(text, n - 1, &e);
			FUZZ_CHECK(back && json_equal(back, j),
			    "record_write() output does not read back: %s",
			    back ? "differs" : e.msg);
			json_decref(back);
		}
		free(text);
	}
	json_decref(j);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_reader r;
	struct errbuf e;
	unsigned long good = 0, again = 0, lines = 0;
	json_t *j;
	FILE *fp;
	int rc;

	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	record_reader_init(&r, fp, "fuzz");
	while ((rc = record_getline(&r, &e)) != 0) {
		FUZZ_CHECK(++lines <= size + 1, "record_getline() loops");
		FUZZ_CHECK(r.lineno == lines, "line %lu counted %lu", lines,
		    r.lineno);
		if (rc < 0) {
			FUZZ_CHECK(strncmp(e.msg, "fuzz:", 5) == 0,
			    "error without the input's name: %s", e.msg);
			if (ferror(fp))
				break;
			continue;
		}
		FUZZ_CHECK(r.buf[r.len] == '\0' &&
		    memchr(r.buf, '\n', r.len) == NULL, "a bad line buffer");
		if (r.len > 0)
			good += line(r.buf, r.len);
	}
	record_reader_free(&r);
	fclose(fp);

	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	record_reader_init(&r, fp, "fuzz");
	while ((rc = record_read(&r, &j, &e)) != 0) {
		if (rc > 0) {
			again++;
			json_decref(j);
		} else if (ferror(fp)) {
			break;
		}
		FUZZ_CHECK(r.lineno <= lines, "record_read() loops");
	}
	record_reader_free(&r);
	fclose(fp);
	FUZZ_CHECK(again == good, "record_read() found %lu records, "
	    "record_getline() and record_parse() %lu", again, good);
	return 0;
}
