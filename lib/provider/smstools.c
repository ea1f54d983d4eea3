/*
 * smstools.c: a GSM modem through SMS Server Tools 3 (smsd), by its
 * spool directory (smstools.h; smsdesk-smstools(5) has the format and
 * where each rule comes from: smstools3's doc/fileformat.html and its
 * source, version 3.1.21).
 *
 * Sending writes the message as an outgoing file, under a name that
 * begins with a dot (smsd skips those, src/extras.c, since 3.1.17), in
 * outgoing/ itself so that the rename cannot cross a file system: written,
 * fsynced, then renamed (never over another file) to SMSDESK_PREFIX and
 * our message id, and the directory synced. The provider id is that
 * name: smsd keeps it when it moves the file to sent/ or failed/ (its
 * keep_filename, yes by default), where sms-recv --spool finds it.
 * There is no HTTP here: the provider has deliver() instead of
 * send_request(), and no webhooks (no verify(), no parse()).
 *
 * Reading a file is smstools_parse(): headers, then the text decoded by
 * its Alphabet.
 */
#define _GNU_SOURCE		/* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gsm-tables.h"
#include "provider.h"
#include "record.h"
#include "smstools.h"
#include "utf8.h"

#define SPOOL_DEFAULT "/var/spool/sms"
#define REPORT_HEAD "SMS STATUS REPORT"

/* --- Reading --- */

/* s without the spaces and tabs around it (in place). */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

const char *
smstools_header(const struct smstools_file *f, const char *name)
{
	for (int i = 0; i < f->nhdr; i++)
		if (strcmp(f->hdr[i].name, name) == 0)
			return f->hdr[i].value;
	return NULL;
}

void
smstools_file_free(struct smstools_file *f)
{
	for (int i = 0; i < f->nhdr; i++)
		free(f->hdr[i].name);
	free(f->text);
	memset(f, 0, sizeof *f);
}

/* Append code point cp to b as UTF-8. */
static void
put_cp(struct buf *b, uint32_t cp)
{
	char u[4];

	buf_add(b, u, utf8_encode(cp, u));
}

/* UTF-16 big-endian (UCS-2, and its surrogate pairs) into b. */
static int
from_ucs2(const unsigned char *p, size_t n, struct buf *b, struct errbuf *e)
{
	uint32_t cp, lo;

	if (n % 2)
		return errno = EINVAL, errf(e, "UCS2 text of an odd number of "
		    "bytes (%zu)", n);
	for (size_t i = 0; i < n; i += 2) {
		cp = (uint32_t)p[i] << 8 | p[i + 1];
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < n) {
			lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				i += 2;
			}
		}
		if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
			return errno = EINVAL, errf(e, "UCS2 text: U+%04X at "
			    "byte %zu", (unsigned)cp, i + 1);
		put_cp(b, cp);
	}
	return 0;
}

/*
 * smsd's "ISO": ISO 8859-1, but 0xA4 is the euro sign and 0x81-0x8A the
 * Greek capitals of the GSM alphabet (src/charset.c, iso2utf8_file()).
 */
static int
from_iso(const unsigned char *p, size_t n, struct buf *b, struct errbuf *e)
{
	static const uint16_t greek[10] = { 0x394, 0x3A6, 0x393, 0x39B,
		0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E };

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x81 && p[i] <= 0x8A)
			put_cp(b, greek[p[i] - 0x81]);
		else if (p[i] == 0xA4)
			put_cp(b, 0x20AC);
		else if (p[i] == 0)
			return errno = EINVAL, errf(e, "a NUL at byte %zu of "
			    "the text", i + 1);
		else
			put_cp(b, p[i]);
	}
	return 0;
}

/* GSM 03.38 septets, a byte each (smsd with cs_convert = no). */
static int
from_gsm(const unsigned char *p, size_t n, struct buf *b, struct errbuf *e)
{
	const struct gsm_table *t = &gsm_tables[0];
	uint32_t cp;

	for (size_t i = 0; i < n; i++) {
		if (p[i] > 0x7F)
			return errno = EINVAL, errf(e, "GSM text: byte 0x%02X "
			    "at %zu is no septet", p[i], i + 1);
		if (p[i] == 0x1B && i + 1 < n && p[i + 1] < 0x80 &&
		    t->single[p[i + 1]]) {
			cp = t->single[p[++i]];
		} else {
			cp = t->locking[p[i]];
			/* '@' is septet 0: the table's 0 is no "none"
			   there. */
			if (p[i] == 0)
				cp = '@';
		}
		if (!cp)
			return errno = EINVAL, errf(e, "GSM text: septet 0x%02X "
			    "at %zu", p[i], i + 1);
		put_cp(b, cp);
	}
	return 0;
}

/*
 * The concatenation element of a UDH-DATA ("05 00 03 A7 02 01": a UDH
 * length, then elements; 0x00 an 8-bit reference, 0x08 a 16-bit one,
 * TS 23.040 9.2.3.24.1 and .8) into f. A UDH without one leaves f alone.
 */
static void
udh_concat(const char *hex, struct smstools_file *f)
{
	unsigned char u[160];
	size_t n = 0, i;
	unsigned v;
	int k;

	while (*hex && n < sizeof u) {
		while (*hex == ' ')
			hex++;
		if (sscanf(hex, "%2x%n", &v, &k) != 1 || k != 2)
			break;
		u[n++] = (unsigned char)v;
		hex += 2;
	}
	if (n < 1 || (size_t)u[0] + 1 > n)
		return;
	for (i = 1; i + 1 < (size_t)u[0] + 1; i += 2 + u[i + 1]) {
		if (u[i] == 0x00 && u[i + 1] == 3 && i + 4 < n) {
			f->concat_ref = u[i + 2];
			f->concat_total = u[i + 3];
			f->concat_part = u[i + 4];
		} else if (u[i] == 0x08 && u[i + 1] == 4 && i + 5 < n) {
			f->concat_ref = u[i + 2] << 8 | u[i + 3];
			f->concat_total = u[i + 4];
			f->concat_part = u[i + 5];
		}
	}
	if (f->concat_ref >= 0 && (f->concat_total < 1 ||
	    f->concat_part < 1 || f->concat_part > f->concat_total))
		f->concat_ref = -1;
}

/* A status report's lines, in its text (src/pdu.c, split_type_2()). */
static void
report_lines(struct smstools_file *f)
{
	char *line = f->text, *nl, *v;

	while (line && *line) {
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		if (strncmp(line, "Message_id:", 11) == 0)
			snprintf(f->message_id, sizeof f->message_id, "%s",
			    trim(line + 11));
		else if (strncmp(line, "Status:", 7) == 0) {
			v = trim(line + 7);
			if (*v >= '0' && *v <= '9')
				f->status = atoi(v);
			v = strchr(v, ',');
			snprintf(f->status_text, sizeof f->status_text, "%s",
			    v ? v + 1 : "");
		}
		if (nl)
			*nl = '\n';
		line = nl ? nl + 1 : NULL;
	}
}

/* The headers of p (hlen bytes, the empty line excluded) into f. */
static int
parse_headers(const char *p, size_t hlen, struct smstools_file *f,
    struct errbuf *e)
{
	size_t i = 0, n, ln = 0;
	char *line, *colon;

	while (i < hlen) {
		ln++;
		n = 0;
		while (i + n < hlen && p[i + n] != '\n')
			n++;
		if (memchr(p + i, '\0', n))
			return errno = EINVAL, errf(e, "line %zu: a NUL in a "
			    "header", ln);
		if (f->nhdr == SMSTOOLS_HEADERS_MAX)
			return errno = EINVAL, errf(e, "more than %d headers",
			    SMSTOOLS_HEADERS_MAX);
		if (!(line = strndup(p + i, n)))
			return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
		if (!(colon = strchr(line, ':')) || colon == line) {
			free(line);
			return errno = EINVAL, errf(e, "line %zu: not a header "
			    "(Name: value)", ln);
		}
		*colon = '\0';
		f->hdr[f->nhdr].name = line;
		f->hdr[f->nhdr++].value = trim(colon + 1);
		i += n + 1;
	}
	return 0;
}

/*
 * The text's length as smsd counted it, by its Length: header (UCS2:
 * characters of two bytes; ISO and GSM: bytes), against what is there:
 * a file smsd is still writing (it writes incoming/ in place) is short.
 */
static int
check_length(const struct smstools_file *f, int ucs2, size_t have,
    struct errbuf *e)
{
	const char *l = smstools_header(f, "Length");
	char *end;
	unsigned long want;

	if (!l || !*l)
		return 0;
	want = strtoul(l, &end, 10);
	if (*end)
		return errno = EINVAL, errf(e, "Length: '%s' is no number", l);
	if (ucs2)
		want *= 2;
	if (have < want)
		return errno = EAGAIN, errf(e, "%zu bytes of text where "
		    "Length: says %s%s", have, l, ucs2 ? " characters" : "");
	return 0;
}

/*
 * The headers of p into f, and where its text begins (*body, *blen).
 * Returns as smstools_parse() does.
 */
static int
head(const char *p, size_t len, struct smstools_file *f, const char **body,
    size_t *blen, struct errbuf *e)
{
	const char *sep;
	size_t hlen;

	memset(f, 0, sizeof *f);
	f->status = -1;
	f->concat_ref = -1;
	if (len > SMSTOOLS_FILE_MAX)
		return errno = EINVAL, errf(e, "more than %d bytes",
		    SMSTOOLS_FILE_MAX);
	/* The headers end at the first empty line (\n or \r\n). */
	if (len > 0 && p[0] == '\n') {
		hlen = 0;
		*body = p + 1;
	} else if ((sep = memmem(p, len, "\n\n", 2))) {
		hlen = (size_t)(sep - p);
		*body = sep + 2;
	} else if ((sep = memmem(p, len, "\n\r\n", 3))) {
		hlen = (size_t)(sep - p);
		*body = sep + 3;
	} else {
		return errno = EAGAIN, errf(e, "no empty line after the "
		    "headers");
	}
	*blen = len - (size_t)(*body - p);
	if (parse_headers(p, hlen, f, e) < 0)
		return -1;
	f->alphabet = smstools_header(f, "Alphabet");
	return 0;
}

int
smstools_parse_head(const char *p, size_t len, struct smstools_file *f,
    struct errbuf *e)
{
	const char *body;
	size_t blen;

	return head(p, len, f, &body, &blen, e);
}

int
smstools_parse(const char *p, size_t len, struct smstools_file *f,
    struct errbuf *e)
{
	const char *body, *a, *udh;
	struct buf b = { 0 };
	size_t blen;
	int rc, ucs2 = 0;

	if (head(p, len, f, &body, &blen, e) < 0)
		return -1;
	if (smstools_header(f, "Error"))
		return errno = EINVAL, errf(e, "smsd could not decode it "
		    "(Error: %s)", smstools_header(f, "Error"));
	a = f->alphabet;
	if (!a || !*a || strncasecmp(a, "iso", 3) == 0 ||
	    strncasecmp(a, "lat", 3) == 0 || strncasecmp(a, "ans", 3) == 0) {
		rc = from_iso((const unsigned char *)body, blen, &b, e);
	} else if (strcasecmp(a, "GSM") == 0) {
		rc = from_gsm((const unsigned char *)body, blen, &b, e);
	} else if (strncasecmp(a, "ucs", 3) == 0 ||
	    strncasecmp(a, "uni", 3) == 0 || strncasecmp(a, "chi", 3) == 0) {
		ucs2 = 1;
		rc = check_length(f, 1, blen, e);
		if (rc == 0)
			rc = from_ucs2((const unsigned char *)body, blen, &b,
			    e);
	} else if (strncasecmp(a, "utf", 3) == 0) {
		if (utf8_valid_prefix(body, blen) != blen ||
		    memchr(body, '\0', blen))
			return errno = EINVAL, errf(e, "Alphabet: %s, but the "
			    "text is not UTF-8", a);
		rc = buf_add(&b, body, blen);
	} else {
		return errno = EINVAL, errf(e, "Alphabet: %s: not a text "
		    "message", a);
	}
	if (rc == 0 && !ucs2 && (!a || strcasecmp(a, "GSM") == 0 ||
	    strncasecmp(a, "utf", 3) != 0))
		rc = check_length(f, 0, blen, e);
	if (rc == 0 && buf_addc(&b, '\0') < 0)
		rc = (errno = ENOMEM, errf(e, "%s", strerror(ENOMEM)));
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	f->text = b.p;
	f->text_len = b.len - 1;
	if (strncmp(f->text, REPORT_HEAD "\n", sizeof REPORT_HEAD) == 0 ||
	    strcmp(f->text, REPORT_HEAD) == 0) {
		f->report = 1;
		report_lines(f);
		if (!f->message_id[0] || f->status < 0)
			return errno = EINVAL, errf(e, "a status report without "
			    "Message_id: or Status:");
	}
	if ((udh = smstools_header(f, "UDH-DATA")))
		udh_concat(udh, f);
	return 0;
}

int
smstools_time(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	char *end;

	if (!s || !(end = strptime(s, "%y-%m-%d %H:%M:%S", &tm)) || *end)
		return -1;
	tm.tm_isdst = -1;
	*t = mktime(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

const char *
smstools_status_word(int status)
{
	if (status >= 0 && status <= 31)
		return "delivered";
	if (status >= 64 && status <= 127)
		return "undelivered";
	return NULL;
}

/* --- Writing --- */

/* Whether cp is in the GSM 03.38 default alphabet or its extension. */
static int
gsm_has(uint32_t cp)
{
	const struct gsm_table *t = &gsm_tables[0];

	if (cp == '@')
		return 1;
	for (int i = 0; i < 128; i++)
		if ((cp && t->locking[i] == cp) || (i != 0x1B &&
		    t->single[i] == cp && cp))
			return 1;
	return 0;
}

int
smstools_write(struct buf *out, const char *to, const char *text,
    size_t len, struct errbuf *e)
{
	size_t i = 0, n;
	uint32_t cp;
	int gsm = 1, plus = 0;

	n = to ? strlen(to) : 0;
	if (n >= 2 && to[0] == '+' && strspn(to + 1, "0123456789") == n - 1)
		to++, plus = 1;
	else if (n == 0 || n > 20 || strspn(to, "0123456789") != n)
		return errno = EINVAL, errf(e, "'%s' is no number smsd can "
		    "send to", to ? to : "");
	while (i < len) {
		if (utf8_next(text, len, &i, &cp) < 0 || cp == 0)
			return errno = EINVAL, errf(e, "text: not UTF-8 at "
			    "byte %zu", i + 1);
		if (gsm && !gsm_has(cp))
			gsm = 0;
	}
	buf_addlit(out, "To: ");
	if (!plus)
		buf_addc(out, 's');	/* smsd's mark of a short number */
	buf_adds(out, to);
	buf_adds(out, gsm ? "\nAlphabet: UTF-8\n" : "\nAlphabet: UCS2\n");
	buf_addlit(out, "Report: yes\n\n");
	if (gsm) {
		buf_add(out, text, len);
	} else {
		for (i = 0; i < len; ) {
			unsigned char u[4];

			utf8_next(text, len, &i, &cp);
			if (cp >= 0x10000) {
				uint32_t v = cp - 0x10000;
				uint32_t hi = 0xD800 + (v >> 10);
				uint32_t lo = 0xDC00 + (v & 0x3FF);

				u[0] = hi >> 8, u[1] = hi & 0xFF;
				u[2] = lo >> 8, u[3] = lo & 0xFF;
				buf_add(out, u, 4);
			} else {
				u[0] = cp >> 8, u[1] = cp & 0xFF;
				buf_add(out, u, 2);
			}
		}
	}
	if (out->err)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	return 0;
}

/* --- The provider --- */

static const char *
smstools_error_class(long http, const char *code)
{
	/* TP-Status of a status report (TS 23.040 9.2.3.15). */
	static const struct provider_code known[] = {
		{ 65, "invalid_recipient" },	/* incompatible destination */
		{ 67, "invalid_recipient" },	/* not obtainable */
		{ 96, "transient" },		/* congestion */
		{ 97, "transient" },		/* SME busy */
		{ 98, "transient" },		/* no response from SME */
	};

	return provider_classify(known, sizeof known / sizeof *known, http,
	    code);
}

static int
smstools_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	char out[4096];
	struct stat st;

	(void)service;
	a->base = config_pick(cfg, NULL, "SMSTOOLS_SPOOL", "smstools_spool",
	    SPOOL_DEFAULT);
	a->from = config_pick(cfg, from, "SMSTOOLS_FROM", "smstools_from",
	    provider_from(a, cfg));
	if (a->from && !*a->from)
		a->from = NULL;
	if (!need)
		return 0;
	snprintf(out, sizeof out, "%s/outgoing", a->base);
	if (stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errf(e, "smstools_spool: %s: %s (set SMSTOOLS_SPOOL, or "
		    "smstools_spool in the config, to smsd's spool)", out,
		    stat(out, &st) < 0 ? strerror(errno) :
		    "not a directory");
		return errno = EINVAL, -1;
	}
	return 0;
}

/* The class of a failed write into the spool. */
static const char *
write_class(int err)
{
	switch (err) {
	case ENOSPC: case EDQUOT: case EIO: case EINTR: case EAGAIN:
	case EMFILE: case ENFILE: case ENOMEM:
		return "transient";
	default:
		return "permanent";
	}
}

/*
 * Write b into dir as name: a hidden name first, fsynced, then renamed
 * without replacing anything, then dir synced. Returns 0, 1 if name was
 * there already (ours: the same message), or -1 with errno set and
 * nothing left behind.
 */
static int
spool_put(int dir, const char *name, const struct buf *b)
{
	char tmp[PROVIDER_ID_MAX + 16];
	int fd, saved;

	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	if ((fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0660)) < 0)
		return -1;
	/* smsd runs as a user of its own: its group reads and moves it. */
	if (fchmod(fd, 0660) < 0 || write(fd, b->p, b->len) !=
	    (ssize_t)b->len || fsync(fd) < 0) {
		saved = errno ? errno : EIO;
		close(fd);
		unlinkat(dir, tmp, 0);
		return errno = saved, -1;
	}
	if (close(fd) < 0)
		goto fail;
	if (renameat2(dir, tmp, dir, name, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST) {
			unlinkat(dir, tmp, 0);
			return 1;
		}
		goto fail;
	}
	/* In outgoing/ now: smsd may send it whatever comes after. */
	(void)fsync(dir);
	return 0;
fail:
	saved = errno;
	unlinkat(dir, tmp, 0);
	return errno = saved, -1;
}

static int
smstools_deliver(const struct provider_account *a, const json_t *msg,
    struct provider_answer *an, struct errbuf *e)
{
	const char *id = record_str(msg, "id"), *body = record_str(msg, "body");
	char path[4096], name[PROVIDER_ID_MAX + 1];
	struct buf b = { 0 };
	struct errbuf we;
	int dir, rc;

	memset(an, 0, sizeof *an);
	an->outcome = PROVIDER_FAILED;
	an->class = "permanent";
	if (!id || !body || strlen(SMSTOOLS_PREFIX) + strlen(id) >=
	    sizeof name || strchr(id, '/') || *id == '.') {
		snprintf(an->message, sizeof an->message, "a message without "
		    "an id or a body that makes a file name");
		return 0;
	}
	snprintf(name, sizeof name, SMSTOOLS_PREFIX "%s", id);
	if (smstools_write(&b, record_str(msg, "to"), body, strlen(body),
	    &we) < 0) {
		buf_free(&b);
		if (errno == ENOMEM)
			return errno = ENOMEM, errf(e, "%s", we.msg);
		an->class = "invalid_recipient";
		snprintf(an->message, sizeof an->message, "%.250s", we.msg);
		if (strncmp(we.msg, "text", 4) == 0)
			an->class = "permanent";
		return 0;
	}
	snprintf(path, sizeof path, "%s/outgoing", a->base);
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (rc = spool_put(dir, name, &b)) < 0) {
		an->class = write_class(errno);
		snprintf(an->message, sizeof an->message, "%.160s: %s; nothing "
		    "was sent", path, strerror(errno));
		if (dir >= 0)
			close(dir);
		buf_free(&b);
		return 0;
	}
	close(dir);
	buf_free(&b);
	an->outcome = PROVIDER_TAKEN;
	an->class = NULL;
	snprintf(an->id, sizeof an->id, "%s", name);
	snprintf(an->status, sizeof an->status, "queued");
	return 0;
}

const struct provider provider_smstools = {
	.name = "smstools",
	.sig_headers = { NULL },
	.error_class = smstools_error_class,
	.max_chars = 1600,
	.account = smstools_account,
	.deliver = smstools_deliver,
};
