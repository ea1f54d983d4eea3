/*
 * gsm-twilio.c: lib/gsm against the 622 vectors of Twilio's calculator.
 *
 * Reads $SMSDESK_TESTDATA/twilio-cases.ndjson (made by mk-twilio-cases.py
 * from Twilio's test suite and live billing reports), runs gsm_analyze() on
 * each body and checks every field of "expect": one TAP line per vector and
 * field, named by the vector's id. Where a vector carries "differs", our
 * rules knowingly answer otherwise, and the fields listed in "ours" are
 * checked against our answer instead, the test name giving the reason.
 * Live billing vectors also check our segments against what Twilio billed.
 *
 * Twilio's "chars" is septets for GSM-7 and grapheme clusters (by its 2017
 * grapheme-splitter) for UCS-2. For GSM-7 it is checked against units; for
 * UCS-2 against our graphemes (current Unicode rules), which coincide with
 * Twilio's splitter on every vector in the file, and the test name says so.
 * "unicode_scalars" is checked against code_points, which counts the text
 * as sent (after Smart Encoding); no vector combines it with Smart Encoding
 * on, so the two readings never part here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gsm.h"
#include "record.h"
#include "utf8.h"
#include "tap.h"

#define NVECTORS 622

struct vec {
	const char *id;
	const char *differs;	/* reason, or NULL */
	int smart;
	json_t *ours;		/* our answer where it differs, or NULL */
	struct gsm_ctx *ctx;
	const struct gsm_result *res;
};

/* A JSON string's bytes, which may hold U+0000. */
static const char *
jstr(const json_t *j, size_t *len)
{
	*len = json_string_length(j);
	return json_string_value(j);
}

/* Text of res->text [start, end) equals want (len bytes)? */
static int
text_is(const struct vec *v, size_t start, size_t end, const json_t *want)
{
	const char *got, *w;
	size_t glen, wlen;

	if (!json_is_string(want))
		return 0;
	w = jstr(want, &wlen);
	got = gsm_text(v->ctx, v->res, start, end, &glen);
	if (!got)
		return 0;
	if (glen == wlen && memcmp(got, w, glen) == 0)
		return 1;
	printf("#   got \"%s\" (%zu bytes), want \"%s\" (%zu bytes)\n",
	    got, glen, w, wlen);
	return 0;
}

/* "[a,b,c]" of a JSON array of integers, into buf. */
static const char *
fmt_json_ints(const json_t *a, char *buf, size_t cap)
{
	size_t i, n = 0;
	json_t *x;

	n += snprintf(buf + n, cap - n, "[");
	json_array_foreach(a, i, x) {
		if (n < cap)
			n += snprintf(buf + n, cap - n, "%s%lld", i ? "," : "",
			    (long long)json_integer_value(x));
	}
	if (n < cap)
		snprintf(buf + n, cap - n, "]");
	return buf;
}

/* "[a,b,c]" of our part sizes, into buf. */
static const char *
fmt_part_units(const struct gsm_result *res, char *buf, size_t cap)
{
	size_t i, n = 0;

	n += snprintf(buf + n, cap - n, "[");
	for (i = 0; i < res->segments && n < cap; i++)
		n += snprintf(buf + n, cap - n, "%s%zu", i ? "," : "",
		    res->parts[i].units);
	if (n < cap)
		snprintf(buf + n, cap - n, "]");
	return buf;
}

/* The UTF-16 units (UCS-2) or septet (GSM-7) of the first character. */
static const char *
fmt_first_units(const struct gsm_result *res, char *buf, size_t cap)
{
	uint32_t cp;

	if (res->code_points == 0)
		return "[]";
	cp = res->text[0];
	if (res->encoding == GSM_GSM7) {
		/* No API gives septets; letters and digits share ASCII's. */
		if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= 'a' && cp <= 'z'))
			snprintf(buf, cap, "[%u]", (unsigned)cp);
		else
			snprintf(buf, cap, "[septet of U+%04X]", (unsigned)cp);
	} else if (cp > 0xFFFF)
		snprintf(buf, cap, "[%u,%u]",
		    (unsigned)(0xD800 + ((cp - 0x10000) >> 10)),
		    (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
	else
		snprintf(buf, cap, "[%u]", (unsigned)cp);
	return buf;
}

/* Our non-GSM characters as a JSON array of one-character strings. */
static json_t *
nongsm_json(const struct gsm_result *res)
{
	json_t *a = json_array();
	char u[4];
	size_t i;

	for (i = 0; i < res->n_nongsm; i++)
		json_array_append_new(a, json_stringn(u,
		    utf8_encode(res->nongsm[i].cp, u)));
	return a;
}

static void
check_field(const struct vec *v, const char *key, const json_t *want)
{
	const struct gsm_result *r = v->res;
	int gsm7 = r->encoding == GSM_GSM7;
	size_t bits = r->units * (gsm7 ? 7 : 16);
	char why[512] = "", b1[4096], b2[4096];
	json_t *ours;

	if (v->ours && (ours = json_object_get(v->ours, key))) {
		want = ours;
		snprintf(why, sizeof why,
		    " (knowingly differs from Twilio: %s)", v->differs);
	}
	if (strcmp(key, "encoding") == 0)
		is_str(gsm_encoding_name(r->encoding), json_string_value(want),
		    "%s encoding%s", v->id, why);
	else if (strcmp(key, "segments") == 0)
		is_int(r->segments, json_integer_value(want),
		    "%s segments%s", v->id, why);
	else if (strcmp(key, "message_bits") == 0)
		is_int(bits, json_integer_value(want),
		    "%s message_bits = %s x units%s", v->id,
		    gsm7 ? "7" : "16", why);
	else if (strcmp(key, "total_bits") == 0)
		is_int(bits + (r->segments > 1 ? 48 * r->segments : 0),
		    json_integer_value(want),
		    "%s total_bits = message_bits + 48 x parts%s", v->id, why);
	else if (strcmp(key, "chars") == 0 && gsm7)
		is_int(r->units, json_integer_value(want),
		    "%s chars = septets%s", v->id, why);
	else if (strcmp(key, "chars") == 0)
		is_int(r->graphemes, json_integer_value(want),
		    "%s chars = graphemes (Twilio's grapheme-splitter and "
		    "current Unicode rules coincide here)%s", v->id, why);
	else if (strcmp(key, "unicode_scalars") == 0)
		is_int(r->code_points, json_integer_value(want),
		    "%s unicode_scalars = code points%s", v->id, why);
	else if (strcmp(key, "units_per_segment") == 0)
		is_str(fmt_part_units(r, b1, sizeof b1),
		    fmt_json_ints(want, b2, sizeof b2),
		    "%s units per part%s", v->id, why);
	else if (strcmp(key, "last_part_text") == 0)
		ok(text_is(v, r->parts[r->segments - 1].start,
		    r->parts[r->segments - 1].end, want),
		    "%s last part text%s", v->id, why);
	else if (strcmp(key, "udh_octets_each_part") == 0)
		is_int(r->udh_octets, json_integer_value(want),
		    "%s UDH octets per part%s", v->id, why);
	else if (strcmp(key, "first_char_code_units") == 0)
		is_str(fmt_first_units(r, b1, sizeof b1),
		    fmt_json_ints(want, b2, sizeof b2),
		    "%s code units of the first character%s", v->id, why);
	else if (strcmp(key, "non_gsm_chars") == 0) {
		json_t *got = nongsm_json(r);

		ok(json_equal(got, want), "%s non-GSM characters%s", v->id,
		    why);
		json_decref(got);
	} else if (strcmp(key, "all_chars_non_gsm") == 0)
		is_int(r->code_points > 0 && r->n_nongsm == r->code_points,
		    json_is_true(want), "%s every character is non-GSM%s",
		    v->id, why);
	else if (strcmp(key, "body_after_smart") == 0)
		ok(text_is(v, 0, r->code_points, want),
		    "%s text with Smart Encoding %s%s", v->id,
		    v->smart ? "on" : "off", why);
	else
		ok(0, "%s: unknown expect field \"%s\"", v->id, key);
}

/* Run one vector; returns 0, or -1 if the record is malformed. */
static int
run(struct gsm_ctx *ctx, const json_t *rec)
{
	struct gsm_opts opts = { 0, 0 };
	struct gsm_result res;
	struct errbuf e;
	struct vec v;
	const json_t *body, *expect, *live, *want;
	const char *s, *key;
	size_t len;

	v.id = record_str(rec, "id");
	body = json_object_get(rec, "body");
	expect = json_object_get(rec, "expect");
	if (!v.id || !json_is_string(body) || !json_is_object(expect))
		return -1;
	v.differs = record_str(rec, "differs");
	v.ours = json_object_get(rec, "ours");
	v.ctx = ctx;
	v.res = &res;
	opts.smart = v.smart = json_is_true(json_object_get(rec, "smart"));
	s = jstr(body, &len);
	if (gsm_analyze(ctx, s, len, &opts, &res, &e) == -1) {
		ok(0, "%s: gsm_analyze: %s (errno %d)", v.id, e.msg, errno);
		return 0;
	}
	json_object_foreach((json_t *)expect, key, want)
		check_field(&v, key, want);
	live = json_object_get(json_object_get(rec, "live"),
	    "twilio_num_segments");
	if (live)
		is_int(res.segments, json_integer_value(live),
		    "%s segments = what Twilio billed live", v.id);
	return 0;
}

int
main(void)
{
	struct record_reader r;
	struct gsm_ctx *ctx;
	struct errbuf e;
	const char *dir = getenv("SMSDESK_TESTDATA");
	char path[4096];
	json_t *rec;
	FILE *fp;
	int n = 0, rc;

	if (!dir) {
		printf("Bail out! SMSDESK_TESTDATA is not set\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/twilio-cases.ndjson", dir);
	if (!(fp = fopen(path, "r"))) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!(ctx = gsm_ctx_new())) {
		printf("Bail out! gsm_ctx_new: %s\n", strerror(errno));
		return 1;
	}
	record_reader_init(&r, fp, path);
	while ((rc = record_read(&r, &rec, &e)) != 0) {
		if (rc == -1) {
			ok(0, "read vector: %s", e.msg);
			if (ferror(fp))
				break;
			continue;
		}
		n++;
		if (run(ctx, rec) == -1)
			ok(0, "%s:%lu: malformed vector", path, r.lineno);
		json_decref(rec);
	}
	is_int(n, NVECTORS, "read all %d vectors", NVECTORS);
	record_reader_free(&r);
	fclose(fp);
	gsm_ctx_free(ctx);
	return tap_done();
}
