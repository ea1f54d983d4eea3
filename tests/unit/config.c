/*
 * tests/unit/config.c: smsdesk-config(5) files and the lookup order.
 *
 * Files are written into a fresh directory under $TMPDIR (or /tmp) that
 * is removed at the end; the environment variables a test sets are unset
 * again before the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[4096];

/* dir/name, in a static buffer per slot (two slots suffice here). */
static const char *
at(const char *name, int slot)
{
	static char buf[2][4096 + 64];

	snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, name);
	return buf[slot];
}

static void
put(const char *path, mode_t mode, const char *text, size_t len)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    fchmod(fd, mode) != 0 || close(fd) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static void
write_file(const char *name, mode_t mode, const char *text)
{
	put(at(name, 0), mode, text, strlen(text));
}

/* Load text as a file; returns config_load()'s result, errno kept. */
static int
load_text(struct config *c, const char *text, struct errbuf *e)
{
	write_file("t.conf", 0600, text);
	return config_load(c, at("t.conf", 0), e);
}

static void
test_syntax(void)
{
	struct config *c = config_new();
	struct errbuf e = { "" };
	int r;

	r = load_text(c,
	    "# smsdesk config\n"
	    "\n"
	    "   \t\n"
	    "provider = twilio\n"
	    "  twilio.account_sid   =   AC123  \n"
	    "number=+15551230000\n"
	    "sla_first_response\t=\t1h\n"
	    "agent.alice.skills = billing, es\n"
	    "empty =\n"
	    "empty_quoted = \"\"\n"
	    "greeting = \"  Hi, thanks for texting!  \"\n"
	    "escaped = \"say \\\"hi\\\" \\\\ bye\"\n"
	    "path = \"C:\\\\dir\\\\\"\n"
	    "password = abc#123 = x\n"
	    "mixed = a \"b\" c\n"
	    "    # an indented comment\n"
	    "quoted_hash = \"# not a comment\"\n"
	    "crlf = windows\r\n"
	    "utf8 = Grüße ✓\n"
	    "dup = first\n"
	    "dup = second\n"
	    "last = no newline", &e);
	if (!ok(r == 0, "a well-formed file loads"))
		printf("#   %s\n", e.msg);
	is_str(config_get(c, "provider"), "twilio", "plain value");
	is_str(config_get(c, "twilio.account_sid"), "AC123",
	    "key and value trimmed");
	is_str(config_get(c, "number"), "+15551230000", "no spaces around =");
	is_str(config_get(c, "sla_first_response"), "1h", "tabs around =");
	is_str(config_get(c, "agent.alice.skills"), "billing, es",
	    "inner spaces kept");
	is_str(config_get(c, "empty"), "", "empty value");
	is_str(config_get(c, "empty_quoted"), "", "empty quoted value");
	is_str(config_get(c, "greeting"), "  Hi, thanks for texting!  ",
	    "quoted value kept verbatim");
	is_str(config_get(c, "escaped"), "say \"hi\" \\ bye",
	    "\\\" and \\\\ unescaped");
	is_str(config_get(c, "path"), "C:\\dir\\",
	    "a value may end in an escaped backslash");
	is_str(config_get(c, "password"), "abc#123 = x",
	    "'#' and '=' inside a value kept");
	is_str(config_get(c, "mixed"), "a \"b\" c",
	    "quotes inside an unquoted value kept");
	is_str(config_get(c, "quoted_hash"), "# not a comment",
	    "'#' in quotes kept");
	is_str(config_get(c, "crlf"), "windows", "CR before LF dropped");
	is_str(config_get(c, "utf8"), "Grüße ✓", "UTF-8 value");
	is_str(config_get(c, "dup"), "second", "a later duplicate wins");
	is_str(config_get(c, "last"), "no newline",
	    "a last line without newline");
	ok(config_get(c, "missing") == NULL, "an unset key is NULL");
	ok(config_get(c, "an") == NULL, "a comment sets nothing");
	ok(config_get(c, "Provider") == NULL, "keys are case-sensitive");
	ok(config_get(c, NULL) == NULL, "a NULL key is unset");
	ok(config_get(NULL, "provider") == NULL, "a NULL config is empty");
	config_free(c);
	config_free(NULL);
	ok(1, "config_free(NULL) is harmless");
}

static void
malformed(const char *text, int line, const char *gist)
{
	struct config *c = config_new();
	struct errbuf e = { "" };
	char want[4200];
	int r;

	snprintf(want, sizeof want, "%s:%d: %s", at("t.conf", 0), line,
	    gist);
	errno = 0;
	r = load_text(c, text, &e);
	if (!ok(r == -1 && errno == EINVAL && strncmp(e.msg, want,
	    strlen(want)) == 0, "line %d: %s", line, gist))
		printf("#   got %d, errno %d, \"%s\"\n", r, errno, e.msg);
	config_free(c);
}

static void
test_malformed(void)
{
	malformed("a = 1\nnovalue\n", 2, "expected 'key = value'");
	malformed("just some words\n", 1, "expected 'key = value'");
	malformed("# c\n\n= value\n", 3, "missing key before '='");
	malformed("Provider = twilio\n", 1, "invalid character 'P' in key");
	malformed("my-key = v\n", 1, "invalid character '-' in key");
	malformed("a b = v\n", 1, "expected 'key = value'");
	malformed("k: v\n", 1, "invalid character ':' in key");
	malformed("clé = v\n", 1, "invalid byte 0xc3 in key");
	malformed("k\x01 = v\n", 1, "invalid byte 0x01 in key");
	malformed("k = \"abc\n", 1, "unterminated quoted value");
	malformed("k = \"abc\\\"\n", 1, "unterminated quoted value");
	malformed("k = \"\n", 1, "unterminated quoted value");
	malformed("k = \"abc\" def\n", 1, "text after the closing quote");
	malformed("k = \"a\" \"b\"\n", 1, "text after the closing quote");
	malformed("k = \"a\\nb\"\n", 1, "unknown escape");
	malformed("k = \"a\\\\\" \\\n", 1, "text after the closing quote");
	malformed("k = \"a\\", 1, "unknown escape");
	malformed("a = 1\nb = 2\nc = 3\nd = 4\ne f\n", 5,
	    "expected 'key = value'");
	malformed("k = caf\xe9\n", 1, "invalid UTF-8");
	put(at("t.conf", 0), 0600, "a = 1\nb = x\0y\n", 13);
	{
		struct config *c = config_new();
		struct errbuf e = { "" };
		char want[4200];

		snprintf(want, sizeof want, "%s:2: NUL byte", at("t.conf", 0));
		errno = 0;
		ok(config_load(c, at("t.conf", 0), &e) == -1 &&
		    errno == EINVAL && strncmp(e.msg, want, strlen(want)) == 0,
		    "line 2: NUL byte");
		config_free(c);
	}
}

/* A failed load leaves the config as it was: nothing half-applied. */
static void
test_atomic(void)
{
	struct config *c = config_new();
	struct errbuf e;

	ok(load_text(c, "a = 1\nb = 2\n", &e) == 0, "first file loads");
	ok(load_text(c, "a = changed\nnew = yes\nbroken line\n", &e) == -1,
	    "second file is malformed");
	is_str(config_get(c, "a"), "1", "earlier value survives");
	ok(config_get(c, "new") == NULL, "no key of the bad file is applied");
	ok(load_text(c, "b = 3\nc = 4\n", &e) == 0, "third file loads");
	is_str(config_get(c, "a"), "1", "a key of the first file stays");
	is_str(config_get(c, "b"), "3", "a later file replaces a key");
	is_str(config_get(c, "c"), "4", "a later file adds a key");
	config_free(c);
}

static void
test_files(void)
{
	struct config *c = config_new();
	struct errbuf e = { "" };
	char want[8400];
	mode_t modes[] = { 0644, 0640, 0604, 0660, 0620, 0602, 0601, 0610 };

	errno = 0;
	ok(config_load(c, at("nonexistent", 0), &e) == -1 && errno == ENOENT,
	    "a missing file is ENOENT");
	ok(strstr(e.msg, "nonexistent") != NULL, "the message names it");
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		write_file("open.conf", modes[i], "token = secret\n");
		snprintf(want, sizeof want, "%s: readable by group or others; "
		    "run chmod 600 %s", at("open.conf", 0), at("open.conf", 1));
		errno = 0;
		if (!ok(config_load(c, at("open.conf", 0), &e) == -1 &&
		    errno == EACCES && strcmp(e.msg, want) == 0,
		    "mode %04o is refused", (unsigned)modes[i]))
			printf("#   got errno %d, \"%s\"\n", errno, e.msg);
	}
	ok(config_get(c, "token") == NULL, "nothing of a refused file is read");
	write_file("open.conf", 0400, "token = secret\n");
	ok(config_load(c, at("open.conf", 0), &e) == 0, "mode 0400 is fine");
	is_str(config_get(c, "token"), "secret", "and is read");
	errno = 0;
	ok(config_load(c, dir, &e) == -1 && errno == EINVAL &&
	    strstr(e.msg, "not a regular file"), "a directory is refused");
	unlink(at("open.conf", 0));
	config_free(c);
}

static void
test_pick(void)
{
	struct config *c = config_new();
	struct errbuf e;

	load_text(c, "provider = telnyx\nempty =\n", &e);
	unsetenv("SMSDESK_TEST_PROVIDER");
	is_str(config_pick(c, "plivo", "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "plivo", "a flag beats everything");
	setenv("SMSDESK_TEST_PROVIDER", "vonage", 1);
	is_str(config_pick(c, "plivo", "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "plivo", "a flag beats the environment");
	is_str(config_pick(c, "", "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "", "an empty flag is still a flag");
	is_str(config_pick(c, NULL, "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "vonage", "the environment beats the file");
	setenv("SMSDESK_TEST_PROVIDER", "", 1);
	is_str(config_pick(c, NULL, "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "telnyx", "an empty variable does not count");
	unsetenv("SMSDESK_TEST_PROVIDER");
	is_str(config_pick(c, NULL, "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "telnyx", "the file beats the default");
	is_str(config_pick(c, NULL, NULL, "provider", "twilio"), "telnyx",
	    "no variable to look at");
	is_str(config_pick(c, NULL, "SMSDESK_TEST_PROVIDER", "other",
	    "twilio"), "twilio", "the default when nothing is set");
	is_str(config_pick(c, NULL, NULL, "empty", "dflt"), "",
	    "an empty value in the file is set");
	is_str(config_pick(NULL, NULL, "SMSDESK_TEST_PROVIDER", "provider",
	    "twilio"), "twilio", "no config at all");
	is_str(config_pick(c, NULL, NULL, NULL, "twilio"), "twilio",
	    "no key to look up");
	ok(config_pick(c, NULL, NULL, "other", NULL) == NULL,
	    "a NULL default is NULL");
	config_free(c);
}

static void
test_default_path(void)
{
	char *p;

	setenv("XDG_CONFIG_HOME", "/xdg/conf", 1);
	setenv("HOME", "/home/agent", 1);
	p = config_default_path();
	is_str(p, "/xdg/conf/smsdesk/config", "XDG_CONFIG_HOME first");
	free(p);
	setenv("XDG_CONFIG_HOME", "relative/conf", 1);
	p = config_default_path();
	is_str(p, "/home/agent/.config/smsdesk/config",
	    "a relative XDG_CONFIG_HOME is ignored");
	free(p);
	setenv("XDG_CONFIG_HOME", "", 1);
	p = config_default_path();
	is_str(p, "/home/agent/.config/smsdesk/config",
	    "an empty XDG_CONFIG_HOME is ignored");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	p = config_default_path();
	is_str(p, "/home/agent/.config/smsdesk/config", "else HOME");
	free(p);
	unsetenv("HOME");
	errno = 0;
	p = config_default_path();
	ok(p == NULL && errno == ENOENT, "neither: NULL, ENOENT");
	free(p);
}

static void
test_load_default(void)
{
	struct config *c;
	struct errbuf e = { "" };
	char xdg[4200];

	mkdir(at("xdg", 0), 0700);
	mkdir(at("xdg/smsdesk", 0), 0700);
	mkdir(at("inbox", 0), 0700);
	snprintf(xdg, sizeof xdg, "%s", at("xdg", 0));
	setenv("XDG_CONFIG_HOME", xdg, 1);

	c = config_new();
	ok(config_load_default(c, at("inbox", 0), &e) == 0 &&
	    config_get(c, "from") == NULL, "no file anywhere: an empty config");
	ok(config_load_default(c, NULL, &e) == 0, "no file, no inbox");

	write_file("inbox/config", 0600, "from = inbox\n");
	ok(config_load_default(c, at("inbox", 0), &e) == 0, "inbox config");
	is_str(config_get(c, "from"), "inbox", "read from the inbox");
	config_free(c);

	write_file("xdg/smsdesk/config", 0600, "from = xdg\n");
	c = config_new();
	ok(config_load_default(c, at("inbox", 0), &e) == 0, "XDG config");
	is_str(config_get(c, "from"), "xdg", "XDG wins over the inbox");
	config_free(c);

	write_file("xdg/smsdesk/config", 0644, "from = xdg\n");
	c = config_new();
	errno = 0;
	ok(config_load_default(c, at("inbox", 0), &e) == -1 &&
	    errno == EACCES && strstr(e.msg, "chmod 600"),
	    "an open XDG file is refused, not skipped");
	ok(config_get(c, "from") == NULL, "and the inbox is not read");
	config_free(c);

	write_file("xdg/smsdesk/config", 0600, "from xdg\n");
	c = config_new();
	errno = 0;
	ok(config_load_default(c, at("inbox", 0), &e) == -1 &&
	    errno == EINVAL && strstr(e.msg, "config:1: "),
	    "a malformed XDG file is an error");
	config_free(c);

	unlink(at("xdg/smsdesk/config", 0));
	write_file("inbox/config", 0640, "from = inbox\n");
	c = config_new();
	errno = 0;
	ok(config_load_default(c, at("inbox", 0), &e) == -1 &&
	    errno == EACCES, "an open inbox config is refused");
	config_free(c);

	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	write_file("inbox/config", 0600, "from = inbox\n");
	c = config_new();
	ok(config_load_default(c, at("inbox", 0), &e) == 0 &&
	    config_get(c, "from") != NULL, "no HOME: the inbox config");
	config_free(c);

	unlink(at("inbox/config", 0));
	rmdir(at("inbox", 0));
	rmdir(at("xdg/smsdesk", 0));
	rmdir(at("xdg", 0));
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/smsdesk-config.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp %s\n", dir);
		return 1;
	}
	test_syntax();
	test_malformed();
	test_atomic();
	test_files();
	test_pick();
	test_default_path();
	test_load_default();
	unlink(at("t.conf", 0));
	if (rmdir(dir) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
