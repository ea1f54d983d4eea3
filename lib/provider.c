/*
 * provider.c: the list of providers.
 */
#include <stddef.h>
#include <string.h>

#include "provider.h"

static const struct provider *const providers[] = {
	&provider_twilio,
};

const struct provider *
provider_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof providers / sizeof *providers;
	    i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

/* The first of the list. */
const struct provider *
provider_default(void)
{
	return providers[0];
}

const struct provider *
provider_at(size_t i)
{
	return i < sizeof providers / sizeof *providers ? providers[i] : NULL;
}

const char *
provider_error_class(const char *name, long http, const char *code)
{
	const struct provider *p = provider_find(name);

	return p && p->error_class ? p->error_class(http, code) : "permanent";
}
