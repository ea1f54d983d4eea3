/*
 * record.c: streaming NDJSON, sms-record(5).
 *
 * The reader pulls 64 KiB at a time from its FILE and cuts lines with
 * memchr, copying each into a line buffer that never grows past
 * RECORD_LINE_MAX: an overlong line is read through to its newline and
 * reported, so memory stays flat whatever comes in. JSON is parsed only
 * after the line is cut, which is what lets a bad line cost one record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "utf8.h"

#define READ_CHUNK (64 * 1024)

void
record_reader_init(struct record_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name;
}

void
record_reader_free(struct record_reader *r)
{
	free(r->buf);
	free(r->in);
	r->buf = r->in = NULL;
}

/* Append n bytes to the line unless that passes the cap; -1 if it does. */
static int
line_append(struct record_reader *r, const char *p, size_t n)
{
	size_t need = r->len + n + 1, cap;
	char *nb;

	if (r->len + n > RECORD_LINE_MAX)
		return -1;
	if (need > r->cap) {
		cap = r->cap ? r->cap : 4096;
		while (cap < need)
			cap *= 2;
		if (!(nb = realloc(r->buf, cap)))
			return -2;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

/* Refill the read-ahead; 1 if bytes came, 0 at end, -1 on read error. */
static int
fill(struct record_reader *r)
{
	if (r->eof)
		return 0;
	if (!r->in && !(r->in = malloc(READ_CHUNK)))
		return -1;
	r->in_pos = 0;
	r->in_len = fread(r->in, 1, READ_CHUNK, r->fp);
	if (r->in_len > 0)
		return 1;
	if (ferror(r->fp))
		return -1;
	r->eof = 1;
	return 0;
}

int
record_getline(struct record_reader *r, struct errbuf *e)
{
	int over = 0, got = 0, rc;

	r->len = 0;
	if (r->buf)
		r->buf[0] = '\0';
	for (;;) {
		if (r->in_pos == r->in_len) {
			rc = fill(r);
			if (rc < 0)
				return errf(e, "%s: read error: %s", r->name,
				    strerror(errno ? errno : EIO));
			if (rc == 0)
				break;
		}
		char *start = r->in + r->in_pos;
		size_t avail = r->in_len - r->in_pos;
		char *nl = memchr(start, '\n', avail);
		size_t n = nl ? (size_t)(nl - start) : avail;

		got = 1;
		if (!over && (rc = line_append(r, start, n)) < 0) {
			if (rc == -2)
				return errf(e, "%s: %s", r->name,
				    strerror(ENOMEM));
			over = 1;
		}
		r->in_pos += n + (nl != NULL);
		if (nl) {
			r->lineno++;
			if (over)
				return errf(e, "%s:%lu: line longer than %d "
				    "bytes", r->name, r->lineno,
				    RECORD_LINE_MAX);
			if (!r->buf && line_append(r, "", 0) < 0)
				return errf(e, "%s: %s", r->name,
				    strerror(ENOMEM));
			return 1;
		}
	}
	if (!got)
		return 0;
	r->lineno++;
	if (over)
		return errf(e, "%s:%lu: line longer than %d bytes", r->name,
		    r->lineno, RECORD_LINE_MAX);
	return errf(e, "%s:%lu: last line has no newline (cut off?)",
	    r->name, r->lineno);
}

json_t *
record_parse(const char *buf, size_t len, struct errbuf *e)
{
	json_error_t je;
	json_t *j;
	size_t bad;

	j = json_loadb(buf, len, JSON_ALLOW_NUL, &je);
	if (!j) {
		bad = utf8_valid_prefix(buf, len);
		if (bad < len)
			errf(e, "invalid UTF-8 at byte %zu", bad);
		else
			errf(e, "invalid JSON at column %d: %s", je.column,
			    je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		errf(e, "not a JSON object");
		return NULL;
	}
	return j;
}

int
record_read(struct record_reader *r, json_t **out, struct errbuf *e)
{
	struct errbuf pe;
	int rc;

	for (;;) {
		rc = record_getline(r, e);
		if (rc <= 0)
			return rc;
		if (r->len == 0)
			continue;
		if ((*out = record_parse(r->buf, r->len, &pe)))
			return 1;
		return errf(e, "%s:%lu: %s", r->name, r->lineno, pe.msg);
	}
}

static int
dump_cb(const char *buf, size_t n, void *fp)
{
	return fwrite(buf, 1, n, fp) == n ? 0 : -1;
}

int
record_write(FILE *fp, const json_t *rec)
{
	if (json_dump_callback(rec, dump_cb, fp, JSON_COMPACT) < 0 ||
	    putc('\n', fp) == EOF)
		return -1;
	return 0;
}

const char *
record_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}
