/*
 * form.h: application/x-www-form-urlencoded bodies and query strings.
 *
 * Providers post their webhooks as forms (Twilio, Vonage, Plivo). A form
 * is kept as the list of its pairs in the order they came, repeated names
 * included, because signatures are computed over all of them and new
 * parameters appear without notice. Decoding follows the WHATWG URL
 * standard's form parser ('&' separates pairs, empty pieces are skipped,
 * the first '=' splits name from value, '+' is a space, %XX is a byte)
 * but is strict where it is lax: a '%' not followed by two hex digits is
 * an error, and every name and value must be valid UTF-8 once decoded.
 * A value may hold NUL bytes (%00), so lengths are kept beside the
 * NUL-terminated strings.
 *
 * Ownership: a form owns its pairs and their strings; form_get() lends a
 * pointer that lives until form_free().
 */
#ifndef FORM_H
#define FORM_H

#include "buf.h"

#include <stddef.h>

#include "diag.h"

struct form_pair {
	char *name, *value;	/* decoded, NUL-terminated */
	size_t name_len, value_len;
};

struct form {
	struct form_pair *pairs;	/* in the order they came */
	size_t n;
	char *mem;		/* every name and value, in one block */
};

/* A body of more pairs than this is refused (Twilio sends about 20). */
#define FORM_PAIRS_MAX 1000

/*
 * Decode body (len bytes) into f, which need not be initialised and is
 * overwritten. An empty body is zero pairs; "a" and "a=" are the name a
 * with an empty value. Returns 0, or -1 with f empty and errno and e set:
 * EINVAL for a bad escape or invalid UTF-8, naming the parameter
 * ("parameter \"Body\": bad percent escape \"%G1\""), or ENOMEM.
 */
int form_parse(struct form *f, const char *body, size_t len,
    struct errbuf *e);

/*
 * The value of the first pair named name as a C string, or NULL if there
 * is none or if it holds a NUL (a C string would cut it short; ask
 * form_find() to tell the two apart).
 */
const char *form_get(const struct form *f, const char *name);

/* The first pair named name, or NULL; for values that may hold NULs. */
const struct form_pair *form_find(const struct form *f, const char *name);

/*
 * The value of the parameter name, for a webhook's parser: *out NULL if
 * it is absent (or empty); -1 with errno EINVAL and e saying so ("missing
 * From", "empty From", "From: holds a NUL byte") if it is required and
 * absent or empty, or if it holds a NUL. 0 otherwise.
 */
int form_field(const struct form *f, const char *name, int required,
    const char **out, struct errbuf *e);

/*
 * qsort(3) order of form_pair pointers: by name, then value, in byte
 * order, a shorter string before any longer one it begins (how providers
 * sort what they sign).
 */
int form_pair_cmp(const void *x, const void *y);

/* Release what f holds and leave it empty; an empty form is allowed. */
void form_free(struct form *f);

/*
 * Append n bytes of s to b form-encoded, as form_parse() reads them back:
 * RFC 3986's unreserved bytes as they are, a space as '+', anything else
 * (NUL included) as %XX.
 */
void form_add(struct buf *b, const char *s, size_t n);

#endif
