/*
 * provider-list.c: a list of providers (failover): provider_list() reads
 * "twilio, telnyx" and refuses what is not a list of known senders, each
 * once; provider_accounts() gives each its own sender, the plain "from"
 * and the command line's to the first alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "provider.h"
#include "tap.h"

/* provider_list() of SMSDESK_PROVIDER=names: its count, errno kept. */
static int
list(const struct config *c, const char *names,
    const struct provider **l)
{
	struct errbuf e;

	setenv("SMSDESK_PROVIDER", names, 1);
	return provider_list(c, l, &e);
}

int
main(void)
{
	const struct provider *l[PROVIDER_LIST_MAX];
	struct provider_account a[PROVIDER_LIST_MAX];
	char path[] = "/tmp/provider-list.XXXXXX";
	struct config *c = config_new();
	struct errbuf e;
	FILE *f;
	int fd, n;

	for (const char *const *v = (const char *const[]){ "TWILIO_FROM",
	    "TELNYX_FROM", "TWILIO_MESSAGING_SERVICE_SID",
	    "TELNYX_MESSAGING_PROFILE_ID", "SMSDESK_PUBLIC_URL", NULL }; *v;
	    v++)
		unsetenv(*v);
	unsetenv("SMSDESK_PROVIDER");
	ok(provider_list(c, l, &e) == 1 && l[0] == provider_default(),
	    "none named: the default alone");
	n = list(c, "twilio, telnyx", l);
	ok(n == 2 && l[0] == provider_find("twilio") &&
	    l[1] == provider_find("telnyx"), "twilio, telnyx: both, in order");
	ok(list(c, "telnyx", l) == 1 && l[0] == provider_find("telnyx"),
	    "one name: a list of one");
	ok(list(c, " plivo ,twilio\t", l) == 2 && l[0] ==
	    provider_find("plivo"), "blanks around the names");
	ok(provider_configured(c, &e) == provider_find("plivo"),
	    "provider_configured(): the first");
	ok(list(c, "twilio, twilio", l) < 0 && errno == EINVAL,
	    "a name twice: EINVAL");
	ok(list(c, "twilio,,telnyx", l) < 0 && errno == EINVAL,
	    "an empty name: EINVAL");
	ok(list(c, "twilio,", l) < 0 && errno == EINVAL,
	    "a trailing comma: EINVAL");
	ok(list(c, "twilio telnyx", l) < 0 && errno == EINVAL,
	    "no comma between: EINVAL");
	ok(list(c, "twilio, carrier-pigeon", l) < 0 && errno == ENOENT,
	    "an unknown one: ENOENT");
	ok(list(c, "twilio, telnyx, plivo, vonage, twilio", l) < 0,
	    "more than PROVIDER_LIST_MAX, or a repeat: refused");

	/* Each its own sender; "from" the first's alone. */
	if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "w")))
		return perror("mkstemp"), 1;
	fputs("from = +15550100000\ntelnyx_from = +15550100002\n", f);
	fclose(f);
	ok(config_load(c, path, &e) == 0, "a config with from and "
	    "telnyx_from");
	unlink(path);
	n = list(c, "twilio, telnyx", l);
	n = provider_accounts(a, c, NULL, NULL, 0, &e);
	ok(n == 2, "two accounts");
	if (n == 2) {
		is_str(a[0].from, "+15550100000", "the first: from");
		is_str(a[1].from, "+15550100002", "the second: its own");
		ok(!a[0].alt && a[1].alt, "the second is alt");
		provider_account_free(&a[0]);
		provider_account_free(&a[1]);
	}
	n = list(c, "telnyx, twilio", l);
	n = provider_accounts(a, c, "+15550100009", NULL, 0, &e);
	ok(n == 2, "two accounts, the other way round");
	if (n == 2) {
		is_str(a[0].from, "+15550100009", "--from: the first's");
		ok(a[1].from == NULL, "twilio second: no plain from for it");
		provider_account_free(&a[0]);
		provider_account_free(&a[1]);
	}
	setenv("TWILIO_FROM", "+15550100001", 1);
	n = provider_accounts(a, c, NULL, NULL, 0, &e);
	if (n == 2) {
		is_str(a[0].from, "+15550100002", "telnyx first: telnyx_from "
		    "beats from");
		is_str(a[1].from, "+15550100001", "twilio second: "
		    "TWILIO_FROM");
		provider_account_free(&a[0]);
		provider_account_free(&a[1]);
	}
	ok(n == 2, "and again");
	setenv("SMSDESK_PROVIDER", "twilio, telnyx", 1);
	unsetenv("TWILIO_ACCOUNT_SID");
	unsetenv("TWILIO_AUTH_TOKEN");
	n = provider_accounts(a, c, NULL, NULL, 1, &e);
	ok(n < 0 && errno == EINVAL && strncmp(e.msg, "twilio: ", 8) == 0,
	    "a provider without credentials: EINVAL, named (%s)", e.msg);
	config_free(c);
	return tap_done();
}
