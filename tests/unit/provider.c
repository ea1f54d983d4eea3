/*
 * provider.c: the list of providers as programs see it, naming none: a
 * default, every one found by its name, and where each keeps its secret.
 */
#include <stdio.h>
#include <string.h>

#include "provider.h"
#include "tap.h"

int
main(void)
{
	const struct provider *p, *def = provider_default();
	size_t i, n = 0;
	int found = 1, secret = 1, has_default = 0;

	ok(def != NULL, "a default provider");
	for (i = 0; (p = provider_at(i)); i++) {
		n++;
		if (provider_find(p->name) != p)
			found = 0;
		/* A program reads the secret from these, and names them
		   (a provider with webhooks: smstools has a spool). */
		if (p->verify && (!p->secret_key || !*p->secret_key ||
		    (p->secret_env && !*p->secret_env)))
			secret = 0;
		if (p == def)
			has_default = 1;
	}
	ok(n > 0, "a list of providers (%zu)", n);
	ok(found, "each found by its name");
	ok(secret, "each says where its secret is kept");
	ok(has_default, "the default is one of them");
	ok(provider_at(n) == NULL && provider_at((size_t)-1) == NULL,
	    "past the last: NULL");
	/* The one there is: as its documentation says. */
	p = provider_find("twilio");
	ok(p != NULL, "twilio");
	if (p) {
		is_str(p->secret_env, "TWILIO_AUTH_TOKEN", "its environment "
		    "variable");
		is_str(p->secret_key, "twilio_auth_token", "its key");
	}
	return tap_done();
}
