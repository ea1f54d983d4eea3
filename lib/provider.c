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
