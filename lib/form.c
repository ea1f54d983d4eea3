/*
 * form.c: urlencoded forms, decoded in one pass into one block.
 *
 * Decoding never lengthens a string, so the block that holds every
 * decoded name and value with its NUL needs at most the body's length
 * plus two bytes a pair, and the pair array at most one slot per '&' plus
 * one: two allocations, sized before the first byte is decoded. Error
 * messages show names and escapes through shown(), which keeps printable
 * ASCII and writes any other byte as \xHH, so a hostile body cannot put
 * control characters on a terminal or in a log.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "form.h"
#include "utf8.h"

#define SHOWN_MAX 40		/* bytes of a name quoted in a message */

/* s (n bytes) for a message: printable ASCII as is, the rest \xHH. */
static const char *
shown(const char *s, size_t n, char out[4 * SHOWN_MAX + 4])
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == SHOWN_MAX) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, 5, "\\x%02x", c);
	}
	out[k] = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode s (n bytes) into out, NUL-terminated; *outlen gets the decoded
 * length. Returns -1 on the first bad escape, with *bad at its '%'.
 */
static int
decode(const char *s, size_t n, char *out, size_t *outlen, size_t *bad)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[k++] = ' ';
			continue;
		}
		if (s[i] != '%') {
			out[k++] = s[i];
			continue;
		}
		if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
		    (lo = hexval(s[i + 2])) < 0) {
			*bad = i;
			return -1;
		}
		out[k++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[k] = '\0';
	*outlen = k;
	return 0;
}

/* The error for a bad escape at s[at] in the parameter called what. */
static int
escape_error(const char *what, const char *s, size_t n, size_t at,
    struct errbuf *e)
{
	char esc[4 * SHOWN_MAX + 4];
	size_t m = n - at < 3 ? n - at : 3;
	int trunc = m < 3;

	for (size_t i = 1; i < m; i++)
		if (hexval(s[at + i]) < 0)
			trunc = 0;
	errno = EINVAL;
	return errf(e, "parameter \"%s\": %s percent escape \"%s\"", what,
	    trunc ? "truncated" : "bad", shown(s + at, m, esc));
}

int
form_parse(struct form *f, const char *body, size_t len, struct errbuf *e)
{
	char nm[4 * SHOWN_MAX + 4];
	size_t npieces = 1, used = 0;
	const char *p = body, *end = body + len;

	memset(f, 0, sizeof *f);
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (body[i] == '&')
			npieces++;
	/* Bodies come before their signature is checked: bound the cost. */
	if (npieces > FORM_PAIRS_MAX) {
		errno = EINVAL;
		return errf(e, "more than %d parameters", FORM_PAIRS_MAX);
	}
	if (len > SIZE_MAX / 4 ||
	    !(f->pairs = calloc(npieces, sizeof *f->pairs)) ||
	    !(f->mem = malloc(len + 2 * npieces))) {
		form_free(f);
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end, *eq, *v;
		struct form_pair *fp = &f->pairs[f->n];
		size_t nlen, vlen, bad, inval;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		eq = memchr(p, '=', (size_t)(stop - p));
		nlen = (size_t)((eq ? eq : stop) - p);
		v = eq ? eq + 1 : stop;
		vlen = (size_t)(stop - v);
		fp->name = f->mem + used;
		if (decode(p, nlen, fp->name, &fp->name_len, &bad) < 0) {
			escape_error(shown(p, nlen, nm), p, nlen, bad, e);
			goto fail;
		}
		used += fp->name_len + 1;
		if (utf8_valid_prefix(fp->name, fp->name_len) != fp->name_len) {
			errno = EINVAL;
			errf(e, "parameter \"%s\": name is not valid UTF-8",
			    shown(p, nlen, nm));
			goto fail;
		}
		shown(fp->name, fp->name_len, nm);
		fp->value = f->mem + used;
		if (decode(v, vlen, fp->value, &fp->value_len, &bad) < 0) {
			escape_error(nm, v, vlen, bad, e);
			goto fail;
		}
		used += fp->value_len + 1;
		inval = utf8_valid_prefix(fp->value, fp->value_len);
		if (inval != fp->value_len) {
			errno = EINVAL;
			errf(e, "parameter \"%s\": value is not valid UTF-8 "
			    "(decoded byte %zu)", nm, inval + 1);
			goto fail;
		}
		f->n++;
		p = stop < end ? stop + 1 : end;
	}
	return 0;
fail:
	form_free(f);
	return -1;
}

const struct form_pair *
form_find(const struct form *f, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < f->n; i++)
		if (f->pairs[i].name_len == n &&
		    memcmp(f->pairs[i].name, name, n) == 0)
			return &f->pairs[i];
	return NULL;
}

const char *
form_get(const struct form *f, const char *name)
{
	const struct form_pair *fp = form_find(f, name);

	return fp && strlen(fp->value) == fp->value_len ? fp->value : NULL;
}

void
form_free(struct form *f)
{
	free(f->pairs);
	free(f->mem);
	memset(f, 0, sizeof *f);
}

void
form_add(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_addc(b, (char)c);
		} else if (c == ' ') {
			buf_addc(b, '+');
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}

int
form_field(const struct form *f, const char *name, int required,
    const char **out, struct errbuf *e)
{
	const struct form_pair *fp = form_find(f, name);

	*out = NULL;
	if (fp == NULL || fp->value_len == 0) {
		if (!required)
			return 0;
		errno = EINVAL;
		return errf(e, fp ? "empty %s" : "missing %s", name);
	}
	if (strlen(fp->value) != fp->value_len) {
		errno = EINVAL;
		return errf(e, "%s: holds a NUL byte", name);
	}
	*out = fp->value;
	return 0;
}

/* Byte order, a shorter string before any longer one it begins. */
static int
bytecmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

int
form_pair_cmp(const void *x, const void *y)
{
	const struct form_pair *a = *(const struct form_pair *const *)x;
	const struct form_pair *b = *(const struct form_pair *const *)y;
	int c = bytecmp(a->name, a->name_len, b->name, b->name_len);

	return c ? c : bytecmp(a->value, a->value_len, b->value, b->value_len);
}
