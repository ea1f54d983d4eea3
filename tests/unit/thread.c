/*
 * tests/unit/thread.c: thread names (thread.h): a number's, a sender's,
 * the escaping, the bound with its hash, and what is a valid name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "inbox.h"
#include "provider.h"
#include "tap.h"
#include "thread.h"

static void
sender(const char *from, const char *want, int number)
{
	char out[THREAD_MAX];
	struct errbuf e;
	int n = -1;

	if (thread_of_sender(from, out, &n, &e) < 0) {
		ok(0, "'%s': %s", from, e.msg);
		return;
	}
	is_str(out, want, "'%s' is thread %s", from, want);
	is_int(n, number, "'%s' is %sa number", from, number ? "" : "not ");
	ok(thread_valid(out), "and %s is a valid name", out);
}

static void
refused(const char *from, const char *why)
{
	char out[THREAD_MAX];
	struct errbuf e;

	ok(thread_of_sender(from, out, NULL, &e) < 0 &&
	    strstr(e.msg, why), "refused: %s", why);
}

static void
test_senders(void)
{
	char a[61], b[61], ta[THREAD_MAX], tb[THREAD_MAX], big[300];
	struct errbuf e;

	sender("+15551234567", "+15551234567", 1);
	sender("0044 20 7946 0000", "+442079460000", 1);
	sender("12345", "@12345", 0);
	sender("VERIFY", "@VERIFY", 0);
	sender("verify", "@verify", 0);
	sender("ACME-INFO", "@ACME-INFO", 0);
	sender("My Shop", "@My%20Shop", 0);
	sender("a/b", "@a%2Fb", 0);
	sender("..", "@%2E%2E", 0);
	sender("@VERIFY", "@%40VERIFY", 0);
	sender("-rf", "@-rf", 0);
	sender("a%b~c", "@a%25b%7Ec", 0);
	sender("+999123", "@%2B999123", 0);
	sender("\xe2\x9c\x93", "@%E2%9C%93", 0);
	/* 30 bytes written whole fit; 31 do not. */
	sender("abcdefghijabcdefghijabcdefghij",
	    "@abcdefghijabcdefghijabcdefghij", 0);

	memset(a, 'L', 60);
	a[60] = '\0';
	memcpy(b, a, sizeof b);
	b[59] = 'M';
	ok(thread_of_sender(a, ta, NULL, &e) == 0 &&
	    thread_of_sender(b, tb, NULL, &e) == 0, "60-byte senders");
	ok(strlen(ta) == 31 && strncmp(ta, "@LLLLLLLLLLLLL~", 15) == 0,
	    "a long sender: a prefix and a hash (%s)", ta);
	ok(strcmp(ta, tb) != 0, "two long senders, one prefix: two threads");
	ok(thread_valid(ta), "the hashed name is valid");
	memset(a, '/', 60);
	ok(thread_of_sender(a, ta, NULL, &e) == 0 && strlen(ta) <= 31 &&
	    strncmp(ta, "@%2F%2F%2F%2F~", 14) == 0,
	    "escapes are never cut (%s)", ta);

	refused("", "empty");
	refused("   ", "white space");
	refused("a\nb", "control character 0x0A");
	refused("a\x7f", "control character 0x7F");
	refused("\xff", "not UTF-8");
	memset(big, 'x', 257);
	big[257] = '\0';
	refused(big, "longer than 256");
}

static void
test_valid(void)
{
	ok(thread_valid("+15551234567"), "a number");
	ok(thread_is_number("+15551234567"), "is a number");
	ok(!thread_is_number("@VERIFY"), "a sender's is not");
	ok(!thread_valid("@"), "'@' alone");
	ok(!thread_valid("@a/b"), "a slash");
	ok(!thread_valid("@a.b"), "a dot");
	ok(!thread_valid("-rf"), "a leading dash");
	ok(!thread_valid("VERIFY"), "no @");
	ok(!thread_valid("@abcdefghijabcdefghijabcdefghijX"), "32 bytes");
	ok(!thread_valid("+1234567890123456"), "16 digits");
	ok(!thread_valid(NULL), "NULL");
}

static void
test_status(void)
{
	ok(provider_status_order("teleported") >
	    provider_status_order("sent"), "a new word after sent");
	ok(provider_status_order("teleported") <
	    provider_status_order("delivered"), "and before the outcomes");
	ok(provider_status_order("read") > provider_status_order("failed"),
	    "read last");
	ok(provider_status_order("unknown") < provider_status_order("queued"),
	    "our unknown gives way to anything");
	ok(provider_status_valid("partially_delivered"), "a word");
	ok(provider_status_valid("DELIVRD"), "upper case");
	ok(!provider_status_valid(""), "empty");
	ok(!provider_status_valid("a b"), "a space");
	ok(!provider_status_valid("d\xc3\xa9"), "not ASCII");
	ok(!provider_status_valid("abcdefghijabcdefghijabcdefghijabc"),
	    "33 bytes");
}

/* The inbox keeps a sender's thread, and never anything to send in it. */
static void
test_inbox(void)
{
	char dir[] = "/tmp/thread-unit.XXXXXX", cmd[64];
	struct inbox_delivery d;
	struct inbox ib;
	struct errbuf e;
	json_t *m, *t;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0) {
		ok(0, "an inbox: %s", e.msg);
		return;
	}
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "@VERIFY", "direction", "in", "from", "VERIFY",
	    "body", "Your code is 1234", "provider", "twilio",
	    "provider_id", "SMv1");
	ok(inbox_deliver(&ib, m, 0, NULL, &d, &e) == 0,
	    "a text in a sender's thread is stored");
	inbox_delivery_free(&d);
	json_decref(m);
	t = inbox_thread(&ib, "@VERIFY", &e);
	is_int(json_array_size(t), 1, "and read back");
	json_decref(t);
	m = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "message",
	    "thread", "@VERIFY", "direction", "out", "body", "hi",
	    "status", "queued");
	errno = 0;
	ok(inbox_deliver(&ib, m, 0, NULL, &d, &e) < 0 && errno == EINVAL &&
	    strstr(e.msg, "nothing is sent"),
	    "an outbound message in a sender's thread is refused (%s)", e.msg);
	json_decref(m);
	is_int(inbox_status(&ib, "twilio", "SMx", "deliv\nered", NULL, &m,
	    &e), -1, "a status that is no word is refused");
	is_int(inbox_status(&ib, "twilio", "SMx", "teleported", NULL, &m,
	    &e), 2, "a word not known yet is parked");
	inbox_close(&ib);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
}

int
main(void)
{
	test_senders();
	test_valid();
	test_status();
	test_inbox();
	return tap_done();
}
