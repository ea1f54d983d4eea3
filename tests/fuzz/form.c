/*
 * form.c: the x-www-form-urlencoded parser, form_parse().
 *
 * Every body either parses into pairs whose lengths and NULs agree with
 * their strings, form_find() and form_get() finding the first of a name,
 * and which, encoded again, parse back to the same pairs; or fails with
 * EINVAL or ENOMEM, a message, and the form left empty.
 */
#include <errno.h>

#include "buf.h"
#include "form.h"
#include "fuzz.h"

static int
same_pair(const struct form_pair *a, const struct form_pair *b)
{
	return a->name_len == b->name_len && a->value_len == b->value_len &&
	    memcmp(a->name, b->name, a->name_len) == 0 &&
	    memcmp(a->value, b->value, a->value_len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f, g;
	struct errbuf e;
	struct buf b = { 0 };
	size_t i, j;

	e.msg[0] = '\0';
	errno = 0;
	if (form_parse(&f, (const char *)data, size, &e) < 0) {
		FUZZ_CHECK(errno == EINVAL || errno == ENOMEM,
		    "form_parse() failed with errno %d", errno);
		FUZZ_CHECK(e.msg[0], "form_parse() failed without a message");
		FUZZ_CHECK(f.n == 0, "a failed form holds %zu pairs", f.n);
		form_free(&f);
		return 0;
	}
	FUZZ_CHECK(f.n <= FORM_PAIRS_MAX, "%zu pairs", f.n);
	for (i = 0; i < f.n; i++) {
		const struct form_pair *p = &f.pairs[i];
		int nul = strlen(p->value) != p->value_len;

		FUZZ_CHECK(p->name[p->name_len] == '\0' &&
		    p->value[p->value_len] == '\0', "pair %zu unterminated", i);
		FUZZ_CHECK(p->name_len + p->value_len <= size,
		    "pair %zu longer than the body", i);
		if (strlen(p->name) != p->name_len)
			continue;
		for (j = 0; j < i; j++)
			if (f.pairs[j].name_len == p->name_len &&
			    memcmp(f.pairs[j].name, p->name, p->name_len) == 0)
				break;
		FUZZ_CHECK(form_find(&f, p->name) == &f.pairs[j],
		    "form_find() missed the first \"%s\"", p->name);
		if (j == i)
			FUZZ_CHECK(nul ? form_get(&f, p->name) == NULL :
			    form_get(&f, p->name) == p->value,
			    "form_get(\"%s\")", p->name);
		if (i > 0)
			buf_addc(&b, '&');
		form_add(&b, p->name, p->name_len);
		buf_addc(&b, '=');
		form_add(&b, p->value, p->value_len);
	}
	if (f.n > 0 && !b.err) {
		/* Pairs with NULs in their names were left out above. */
		FUZZ_CHECK(form_parse(&g, b.p ? b.p : "", b.len, &e) == 0,
		    "re-encoded form refused: %s", e.msg);
		for (i = 0, j = 0; i < f.n; i++) {
			if (strlen(f.pairs[i].name) != f.pairs[i].name_len)
				continue;
			FUZZ_CHECK(j < g.n && same_pair(&f.pairs[i],
			    &g.pairs[j]), "pair %zu differs once re-encoded",
			    i);
			j++;
		}
		FUZZ_CHECK(j == g.n, "re-encoded form has %zu pairs, not %zu",
		    g.n, j);
		form_free(&g);
	}
	buf_free(&b);
	form_free(&f);
	FUZZ_CHECK(f.n == 0, "form_free() left pairs");
	return 0;
}
