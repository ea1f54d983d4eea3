/*
 * record.c: streaming NDJSON, sms-record(5).
 *
 * The reader pulls up to 64 KiB at a time from its FILE, but never past a
 * newline: a line is handed over as soon as it has come, so a program at
 * the end of a pipe that stays open (sms-recv --listen | assign --auto)
 * acts on each record as it arrives, where fread(3) would wait for 64 KiB
 * or the end. It cuts lines with memchr, copying each into a line buffer
 * that never grows past
 * RECORD_LINE_MAX: an overlong line is read through to its newline and
 * reported, so memory stays flat whatever comes in. JSON is parsed only
 * after the line is cut, which is what lets a bad line cost one record.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

/*
 * Refill the read-ahead, up to the first newline (see above); 1 if bytes
 * came, 0 at end, -1 on read error. Through stdio, byte by byte from its
 * buffer, so a read error is the FILE's (ferror()) as callers expect.
 */
static int
fill(struct record_reader *r)
{
	int c = 0;

	if (r->eof)
		return 0;
	if (!r->in && !(r->in = malloc(READ_CHUNK)))
		return -1;
	r->in_pos = r->in_len = 0;
	flockfile(r->fp);
	while (r->in_len < READ_CHUNK && c != '\n' &&
	    (c = getc_unlocked(r->fp)) != EOF) {
		r->in[r->in_len++] = (char)c;
#ifdef __GLIBC__
		/*
		 * What getc() just made stdio read is in the FILE's buffer
		 * (glibc's FILE is public): taken up to the newline with
		 * memchr and memcpy, not a byte at a time.
		 */
		if (c != '\n') {
			char *p = r->fp->_IO_read_ptr, *nl;
			size_t n = (size_t)(r->fp->_IO_read_end - p);
			size_t room = READ_CHUNK - r->in_len;

			if (n > room)
				n = room;
			if ((nl = memchr(p, '\n', n))) {
				n = (size_t)(nl - p) + 1;
				c = '\n';
			}
			memcpy(r->in + r->in_len, p, n);
			r->in_len += n;
			r->fp->_IO_read_ptr += n;
		}
#endif
	}
	funlockfile(r->fp);
	if (r->in_len > 0)
		return 1;
	if (ferror(r->fp))
		return -1;
	r->eof = 1;
	return 0;
}

int
record_ready(struct record_reader *r)
{
	struct pollfd p;
	int fd;

	if (r->eof || r->in_pos < r->in_len)
		return 1;
#ifdef __GLIBC__
	/* What stdio holds already (glibc's FILE is public: getc() reads
	 * it so). Elsewhere only the descriptor is asked. */
	if (r->fp->_IO_read_ptr < r->fp->_IO_read_end)
		return 1;
#endif
	if ((fd = fileno(r->fp)) < 0)
		return 0;
	p.fd = fd;
	p.events = POLLIN;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP));
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

/*
 * A number that is valid JSON but out of jansson's range, ending at byte
 * end of buf: said as what it is, naming the field that holds it when it
 * is an object's (the key found backwards from the number, if it is a
 * plain one).
 */
static void
too_large(const char *buf, size_t end, int column, struct errbuf *e)
{
	size_t i = end, k;

	while (i > 0 && strchr("0123456789+-.eE", buf[i - 1]))
		i--;
	while (i > 0 && strchr(" \t\r\n", buf[i - 1]))
		i--;
	if (i > 0 && buf[i - 1] == ':') {
		i--;
		while (i > 0 && strchr(" \t\r\n", buf[i - 1]))
			i--;
		if (i > 1 && buf[i - 1] == '"') {
			for (k = i - 1; k > 0 && buf[k - 1] != '"' &&
			    buf[k - 1] != '\\' && i - 1 - k < 64; k--)
				;
			if (k > 0 && buf[k - 1] == '"') {
				errf(e, "number too large for this program: "
				    "field \"%.*s\" (column %d; integers "
				    "must fit in 64 bits, other numbers in a "
				    "double)", (int)(i - 1 - k), buf + k,
				    column);
				return;
			}
		}
	}
	errf(e, "number too large for this program at column %d (integers "
	    "must fit in 64 bits, other numbers in a double)", column);
}

json_t *
record_parse(const char *buf, size_t len, struct errbuf *e)
{
	json_error_t je;
	json_t *j;
	size_t bad;
	const char *nul;

	/* A raw NUL is JSON nowhere (JSON_ALLOW_NUL is for \u0000), but
	 * jansson skips one after a number or a literal: {"a":1<NUL>} would
	 * read as {"a":1}. */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		errf(e, "invalid JSON: a NUL byte at byte %zu",
		    (size_t)(nul - buf));
		return NULL;
	}
	j = json_loadb(buf, len, JSON_ALLOW_NUL, &je);
	if (!j) {
		bad = utf8_valid_prefix(buf, len);
		if (bad < len)
			errf(e, "invalid UTF-8 at byte %zu", bad);
		else if (json_error_code(&je) == json_error_numeric_overflow &&
		    je.position > 0 && (size_t)je.position <= len)
			too_large(buf, (size_t)je.position, je.column, e);
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

int
record_write(FILE *fp, const json_t *rec)
{
	char stack[8192], *buf = stack;
	size_t n, ok;

	/* One fwrite per record: jansson's callbacks come a token at a time. */
	n = json_dumpb(rec, stack, sizeof stack - 1, JSON_COMPACT);
	if (n == 0)
		return errno = EINVAL, -1;
	if (n > sizeof stack - 1) {
		if (!(buf = malloc(n + 1)))
			return -1;
		if (json_dumpb(rec, buf, n, JSON_COMPACT) != n) {
			free(buf);
			return errno = EINVAL, -1;
		}
	}
	buf[n] = '\n';
	ok = fwrite(buf, 1, n + 1, fp) == n + 1;
	if (buf != stack)
		free(buf);
	return ok ? 0 : -1;
}

int
record_has_nul(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) != json_string_length(v);
}

const char *
record_str(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return record_has_nul(v) ? NULL : json_string_value(v);
}

int
record_text(const json_t *rec, const char *key, const char **out,
    struct errbuf *e)
{
	const json_t *v = json_object_get(rec, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errf(e, "\"%s\" is not a string", key);
	if (record_has_nul(v))
		return errf(e, "\"%s\" holds a NUL (\\u0000)", key);
	*out = json_string_value(v);
	return 1;
}

int
record_thread(const json_t *rec, const char **out, struct errbuf *e)
{
	static const char *const carried[] = { "conversation", "message" };
	const json_t *in, *v;
	size_t i;
	int rc;

	if ((rc = record_text(rec, "thread", out, e)) != 0)
		return rc;
	for (i = 0; i < sizeof carried / sizeof *carried; i++) {
		in = json_object_get(rec, carried[i]);
		v = json_object_get(in, "thread");
		if (!json_is_object(in) || !v || json_is_null(v))
			continue;
		if (!json_is_string(v))
			return errf(e, "\"%s\": \"thread\" is not a string",
			    carried[i]);
		if (record_has_nul(v))
			return errf(e, "\"%s\": \"thread\" holds a NUL "
			    "(\\u0000)", carried[i]);
		*out = json_string_value(v);
		return 1;
	}
	return 0;
}

/*
 * The scanner: a strict recursive-descent check of RFC 8259 that builds
 * nothing. It is the fast path for filters that add fields to a record:
 * the line passes through as it came and new fields are spliced in before
 * the closing brace, with no parse tree and no re-serialisation.
 */
#define SCAN_DEPTH 256
#define SCAN_KEYS 256

/*
 * On the way the scanner also tells whether the line is "plain": exactly
 * the bytes record_write() would write for the record jansson parses from
 * it. Jansson writes compact JSON, escapes only '"', '\\' and control
 * characters (as \b \f \n \r \t, else \u00XX in capitals), writes an
 * integer in decimal and a real always with a fraction or an exponent, and
 * keeps one value (the last) for a key given twice. So a line is plain if
 * it has no space between tokens, no other escape, no real, no -0, no
 * integer past 64 bits (jansson refuses those) and no key twice in an
 * object; keys are remembered on a stack of SCAN_KEYS for that check, and
 * an object that does not fit makes the line not plain. Whatever is not
 * plain may still be a good record: the caller then asks jansson.
 */
struct scanner {
	const char *p, *end;
	int plain;
	size_t nkeys;
	struct {
		const char *p;
		size_t n;
	} keys[SCAN_KEYS];
};

static inline void
skip_ws(struct scanner *sc)
{
	const char *s = sc->p;

	/* compact JSON, the common case: no white space at all */
	if (sc->p < sc->end && (unsigned char)*sc->p > ' ')
		return;
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
	    *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
	if (sc->p != s)
		sc->plain = 0;
}

/*
 * A key of the object whose keys start at keys[base]: not plain if it was
 * there already, or if it holds a NUL, which jansson refuses in a key.
 * Plain keys are equal exactly when their bytes are.
 */
static void
note_key(struct scanner *sc, size_t base, const char *k, size_t n, int esc)
{
	size_t i;

	if (!sc->plain)
		return;
	if (esc && n >= 6) {
		for (i = 0; i + 6 <= n; i++)
			if (memcmp(k + i, "\\u0000", 6) == 0) {
				sc->plain = 0;
				return;
			}
	}
	for (i = base; i < sc->nkeys; i++)
		if (sc->keys[i].n == n && memcmp(sc->keys[i].p, k, n) == 0) {
			sc->plain = 0;
			return;
		}
	if (sc->nkeys == SCAN_KEYS) {
		sc->plain = 0;
		return;
	}
	sc->keys[sc->nkeys].p = k;
	sc->keys[sc->nkeys++].n = n;
}

static int
hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* The bytes a string's scan stops at: a quote, a backslash, a control
 * character, a byte of a multibyte character. */
static const unsigned char string_stop[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* At an opening quote: skip the string; *esc notes a backslash. */
static int
scan_string(struct scanner *sc, int *esc)
{
	const char *p = sc->p + 1, *end = sc->end;
	uint32_t u, lo;

	*esc = 0;
	while (p < end) {
		unsigned char c;

		while (p < end && !string_stop[(unsigned char)*p])
			p++;
		if (p >= end)
			break;
		c = (unsigned char)*p;

		if (c == '"') {
			sc->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			size_t i = (size_t)(p - sc->p);
			uint32_t cp;

			if (utf8_next(sc->p, (size_t)(end - sc->p), &i,
			    &cp) < 0)
				return -1;
			p = sc->p + i;
			continue;
		}
		if (c != '\\') {
			p++;
			continue;
		}
		*esc = 1;
		if (++p >= end)
			return -1;
		if (strchr("\"\\/bfnrt", *p) && *p) {
			if (*p == '/')
				sc->plain = 0;
			p++;
			continue;
		}
		if (*p != 'u' || end - p < 5 || hex4(p + 1, &u) < 0)
			return -1;
		/* Jansson writes \u only below 0x20, as \u00XX in capitals. */
		if (u >= 0x20 || u == '\b' || u == '\f' || u == '\n' ||
		    u == '\r' || u == '\t' || (p[3] >= 'a' && p[3] <= 'f') ||
		    (p[4] >= 'a' && p[4] <= 'f'))
			sc->plain = 0;
		p += 5;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return -1;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    hex4(p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			p += 6;
		}
	}
	return -1;
}

static int
digits(struct scanner *sc)
{
	const char *s = sc->p;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return sc->p > s ? 0 : -1;
}

static int
scan_number(struct scanner *sc)
{
	/* The magnitudes of INT64_MAX and INT64_MIN, jansson's range. */
	static const char max[] = "9223372036854775807";
	static const char min[] = "9223372036854775808";
	const char *s;
	int neg = 0;

	if (*sc->p == '-')
		sc->p++, neg = 1;
	s = sc->p;
	if (sc->p < sc->end && *sc->p == '0') {
		sc->p++;
		if (neg)
			sc->plain = 0;	/* -0: jansson writes 0 */
	} else if (digits(sc) < 0) {
		return -1;
	}
	if ((size_t)(sc->p - s) > sizeof max - 1 || ((size_t)(sc->p - s) ==
	    sizeof max - 1 && memcmp(s, neg ? min : max, sizeof max - 1) > 0))
		sc->plain = 0;
	if (sc->p < sc->end && *sc->p == '.') {
		sc->plain = 0;
		sc->p++;
		if (digits(sc) < 0)
			return -1;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->plain = 0;
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (digits(sc) < 0)
			return -1;
	}
	return 0;
}

static int
scan_word(struct scanner *sc, const char *w, size_t n)
{
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, w, n) != 0)
		return -1;
	sc->p += n;
	return 0;
}

static int scan_value(struct scanner *sc, int depth);

/* At '{' or '[': skip the container. */
static int
scan_container(struct scanner *sc, int depth)
{
	char close = *sc->p == '{' ? '}' : ']';
	int first = 1, esc;
	size_t base = sc->nkeys;
	const char *key;

	if (depth > SCAN_DEPTH)
		return -1;
	sc->p++;
	for (;;) {
		skip_ws(sc);
		if (sc->p >= sc->end)
			return -1;
		if (*sc->p == close && first) {
			sc->p++;
			sc->nkeys = base;
			return 0;
		}
		if (close == '}') {
			key = sc->p + 1;
			if (*sc->p != '"' || scan_string(sc, &esc) < 0)
				return -1;
			note_key(sc, base, key, (size_t)(sc->p - 1 - key),
			    esc);
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p++ != ':')
				return -1;
		}
		if (scan_value(sc, depth + 1) < 0)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->end)
			return -1;
		if (*sc->p == close) {
			sc->p++;
			sc->nkeys = base;
			return 0;
		}
		if (*sc->p++ != ',')
			return -1;
		first = 0;
	}
}

static int
scan_value(struct scanner *sc, int depth)
{
	int esc;

	skip_ws(sc);
	if (sc->p >= sc->end)
		return -1;
	switch (*sc->p) {
	case '{':
	case '[':
		return scan_container(sc, depth);
	case '"':
		return scan_string(sc, &esc);
	case 't':
		return scan_word(sc, "true", 4);
	case 'f':
		return scan_word(sc, "false", 5);
	case 'n':
		return scan_word(sc, "null", 4);
	default:
		return scan_number(sc);
	}
}

static int
watched(const char *k, size_t n, int esc, const char *const *watch)
{
	if (esc)
		return 1;
	for (; watch && *watch; watch++)
		if (**watch == *k && strncmp(*watch, k, n) == 0 &&
		    (*watch)[n] == '\0')
			return 1;
	return 0;
}

/*
 * The top level of a line, for record_scan() and record_pick(): the
 * object's keys, its body, and the fields f[0..nf-1] found on the way.
 */
static int
scan_top(struct scanner *sc, const char *const *watch, struct record_scan *s,
    struct record_field *f, size_t nf)
{
	const char *buf = sc->p, *key, *val;
	size_t klen, i, flen[nf ? nf : 1];
	int esc;

	memset(s, 0, sizeof *s);
	for (i = 0; i < nf; i++)
		f[i].val = NULL, f[i].len = 0, flen[i] = strlen(f[i].key);
	skip_ws(sc);
	if (sc->p >= sc->end || *sc->p != '{')
		return -1;
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == '}')
		goto closed;
	for (;;) {
		skip_ws(sc);
		if (sc->p >= sc->end || *sc->p != '"')
			return -1;
		key = sc->p + 1;
		if (scan_string(sc, &esc) < 0)
			return -1;
		klen = (size_t)(sc->p - 1 - key);
		s->nkeys++;
		s->watched |= watched(key, klen, esc, watch);
		note_key(sc, 0, key, klen, esc);
		skip_ws(sc);
		if (sc->p >= sc->end || *sc->p++ != ':')
			return -1;
		skip_ws(sc);
		val = sc->p;
		if (scan_value(sc, 1) < 0)
			return -1;
		if (!esc && klen == 4 && memcmp(key, "body", 4) == 0) {
			s->body_kind = *val == '"' ? 's' : *val == 'n' ? 'n' :
			    'o';
			if (s->body_kind == 's') {
				s->body = val + 1;
				s->body_len = (size_t)(sc->p - val - 2);
				s->body_escaped = memchr(s->body, '\\',
				    s->body_len) != NULL;
			}
		}
		for (i = 0; !esc && i < nf; i++)
			if (flen[i] == klen && f[i].key[0] == *key &&
			    memcmp(f[i].key, key, klen) == 0) {
				f[i].val = val;
				f[i].len = (size_t)(sc->p - val);
			}
		skip_ws(sc);
		if (sc->p >= sc->end)
			return -1;
		if (*sc->p == '}')
			break;
		if (*sc->p++ != ',')
			return -1;
	}
closed:
	s->close = (size_t)(sc->p - buf);
	sc->p++;
	skip_ws(sc);
	return sc->p == sc->end ? 0 : -1;
}

int
record_scan(const char *buf, size_t len, const char *const *watch,
    struct record_scan *s)
{
	struct scanner sc;

	sc.p = buf;
	sc.end = buf + len;
	sc.plain = 1;
	sc.nkeys = 0;
	return scan_top(&sc, watch, s, NULL, 0);
}

int
record_pick(const char *buf, size_t len, struct record_field *f, size_t n)
{
	struct record_scan s;
	struct scanner sc;

	sc.p = buf;
	sc.end = buf + len;
	sc.plain = 1;
	sc.nkeys = 0;
	if (scan_top(&sc, NULL, &s, f, n) < 0)
		return -1;
	return sc.plain;
}

int
record_unescape(const char *raw, size_t n, struct buf *out)
{
	const char *p = raw, *end = raw + n, *run = raw;
	uint32_t u, lo;
	char enc[4], c;

	while (p < end) {
		if (*p != '\\') {
			p++;
			continue;
		}
		if (buf_add(out, run, (size_t)(p - run)) < 0)
			return -1;
		c = p[1];
		p += 2;
		if (c == 'u') {
			hex4(p, &u);
			p += 4;
			if (u >= 0xD800 && u <= 0xDBFF) {
				hex4(p + 2, &lo);
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			if (buf_add(out, enc, utf8_encode(u, enc)) < 0)
				return -1;
		} else {
			c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' :
			    c == 'r' ? '\r' : c == 't' ? '\t' : c;
			if (buf_addc(out, c) < 0)
				return -1;
		}
		run = p;
	}
	return buf_add(out, run, (size_t)(end - run));
}
