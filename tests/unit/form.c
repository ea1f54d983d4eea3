/*
 * tests/unit/form.c: form_parse(), form_get() and form_find().
 *
 * good() parses a body and compares every pair with "name=value" lines
 * written out plainly; bad() checks errno and the gist of the message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "tap.h"

/* s with control and non-ASCII bytes escaped, for a one-line test name. */
static const char *
shown(const char *s)
{
	static char buf[256];
	size_t n = 0;

	for (; *s && n < sizeof buf - 5; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= ' ' && c < 0x7f)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, 5, "\\x%02x", c);
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Parse body and compare with want: each pair as name, then value,
 * NULL-terminated. Values here hold no NUL.
 */
static void
good(const char *body, const char *const *want)
{
	struct form f;
	struct errbuf e = { "" };
	size_t n = 0;
	int same = 1;

	if (!ok(form_parse(&f, body, strlen(body), &e) == 0, "\"%s\" parses",
	    shown(body))) {
		printf("#   %s\n", e.msg);
		return;
	}
	while (want[2 * n])
		n++;
	same = f.n == n;
	for (size_t i = 0; same && i < n; i++) {
		const struct form_pair *p = &f.pairs[i];

		same = strcmp(p->name, want[2 * i]) == 0 &&
		    strcmp(p->value, want[2 * i + 1]) == 0 &&
		    p->name_len == strlen(want[2 * i]) &&
		    p->value_len == strlen(want[2 * i + 1]);
	}
	if (!ok(same, "\"%s\" gives its %zu pair(s)", shown(body), n)) {
		for (size_t i = 0; i < f.n; i++)
			printf("#   [%s]=[%s]\n", f.pairs[i].name,
			    f.pairs[i].value);
	}
	form_free(&f);
}

static void
bad(const char *body, const char *gist)
{
	struct form f;
	struct errbuf e = { "" };
	int r;

	errno = 0;
	r = form_parse(&f, body, strlen(body), &e);
	if (!ok(r == -1 && errno == EINVAL && strstr(e.msg, gist) &&
	    f.n == 0 && f.pairs == NULL, "\"%s\" fails: %s", shown(body),
	    gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
	form_free(&f);
}

#define W(...) ((const char *const []){ __VA_ARGS__, NULL })

static void
test_good(void)
{
	good("", (const char *const []){ NULL });
	good("a=1&b=2", W("a", "1", "b", "2"));
	good("b=2&a=1", W("b", "2", "a", "1"));
	good("a=", W("a", ""));
	good("a", W("a", ""));
	good("=x", W("", "x"));
	good("=", W("", ""));
	good("a=1&&b=2&", W("a", "1", "b", "2"));
	good("&&&", (const char *const []){ NULL });
	good("a=b=c", W("a", "b=c"));
	good("Body=Hello+world+%C3%A9", W("Body", "Hello world \xc3\xa9"));
	good("Body=%c3%a9%2B%2b%26%3D%25", W("Body", "\xc3\xa9++&=%"));
	good("My+Name=a+b", W("My Name", "a b"));
	good("N%61me=1", W("Name", "1"));
	good("To=%2B1555&To=%2B1444", W("To", "+1555", "To", "+1444"));
	good("Body=%F0%9F%91%8D", W("Body", "\xf0\x9f\x91\x8d"));
	good("Body=raw \xc3\xa9 bytes", W("Body", "raw \xc3\xa9 bytes"));
	good("MediaUrl0=&NumMedia=0", W("MediaUrl0", "", "NumMedia", "0"));
}

static void
test_bad(void)
{
	bad("Body=%G1", "parameter \"Body\": bad percent escape \"%G1\"");
	bad("Body=abc%4", "parameter \"Body\": truncated percent escape "
	    "\"%4\"");
	bad("Body=abc%", "truncated percent escape \"%\"");
	bad("Body=%4G", "bad percent escape \"%4G\"");
	bad("Body=%%41", "bad percent escape \"%%4\"");
	bad("a=1&Bo%ZZdy=1", "parameter \"Bo%ZZdy\": bad percent escape "
	    "\"%ZZ\"");
	bad("a%4=1", "parameter \"a%4\": truncated percent escape \"%4\"");
	bad("Body=%C3", "parameter \"Body\": value is not valid UTF-8");
	bad("Body=ok%FF", "value is not valid UTF-8 (decoded byte 3)");
	bad("Body=%C0%AF", "parameter \"Body\": value is not valid UTF-8");
	bad("Body=%ED%A0%80", "parameter \"Body\": value is not valid UTF-8");
	bad("Body=\xff", "parameter \"Body\": value is not valid UTF-8");
	bad("%FF=1", "parameter \"%FF\": name is not valid UTF-8");
	bad("\x1b\xff=1",
	    "parameter \"\\x1b\\xff\": name is not valid UTF-8");
	bad("x=%1b%5b%32%4a%ff", "parameter \"x\": value is not valid UTF-8");
	bad("%1b%ff=1", "parameter \"%1b%ff\"");
}

static void
test_nul(void)
{
	static const char body[] = "Body=a%00b&Z=%00";
	struct form f;
	struct errbuf e = { "" };
	const struct form_pair *p;

	ok(form_parse(&f, body, sizeof body - 1, &e) == 0, "%%00 parses");
	p = form_find(&f, "Body");
	ok(p && p->value_len == 3 && memcmp(p->value, "a\0b", 4) == 0,
	    "%%00 in a value keeps its length");
	p = form_find(&f, "Z");
	ok(p && p->value_len == 1 && p->value[0] == '\0',
	    "a value that is one NUL has length 1");
	form_free(&f);

	/* A raw NUL in the body is a byte like any other. */
	ok(form_parse(&f, "a=x\0y&b=2", 9, &e) == 0 && f.n == 2 &&
	    f.pairs[0].value_len == 3 && strcmp(f.pairs[1].value, "2") == 0,
	    "a raw NUL in the body is kept");
	form_free(&f);

	ok(form_parse(&f, "a%00b=1", 7, &e) == 0 && f.pairs[0].name_len == 3,
	    "a NUL in a name keeps its length");
	ok(form_get(&f, "a") == NULL, "a name with a NUL is not its prefix");
	form_free(&f);
}

static void
test_get(void)
{
	static const char body[] = "To=%2B1555&From=%2B1666&To=%2B1444&e=";
	struct form f;
	struct errbuf e = { "" };

	ok(form_parse(&f, body, sizeof body - 1, &e) == 0, "form parses");
	is_str(form_get(&f, "To"), "+1555", "form_get gives the first value");
	is_str(form_get(&f, "From"), "+1666", "form_get finds a later name");
	is_str(form_get(&f, "e"), "", "form_get gives an empty value");
	ok(form_get(&f, "to") == NULL, "names are case-sensitive");
	ok(form_get(&f, "T") == NULL, "a prefix is not a name");
	ok(form_get(&f, "Body") == NULL, "an absent name is NULL");
	ok(form_find(&f, "To") == &f.pairs[0], "form_find gives the pair");
	form_free(&f);
	ok(f.n == 0 && f.pairs == NULL && f.mem == NULL,
	    "form_free leaves the form empty");
	form_free(&f);
	ok(1, "form_free twice is harmless");

	/* A length shorter than the string: only len bytes count. */
	ok(form_parse(&f, "a=1&b=2", 3, &e) == 0 && f.n == 1 &&
	    strcmp(f.pairs[0].value, "1") == 0, "only len bytes are read");
	form_free(&f);
}

int
main(void)
{
	test_good();
	test_bad();
	test_nul();
	test_get();
	return tap_done();
}
