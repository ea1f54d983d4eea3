/*
 * provider.c: the list of providers (lib/provider/), and what every
 * program asks of whichever is configured.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static const struct provider *const providers[] = {
	&provider_twilio,
	&provider_telnyx,
	&provider_plivo,
	&provider_vonage,
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

void
provider_http_free(struct provider_http *rq)
{
	buf_free(&rq->url);
	buf_free(&rq->body);
	memset(rq, 0, sizeof *rq);
}

void
provider_event_free(struct webhook_event *ev)
{
	json_decref(ev->json);
	ev->json = NULL;
}

const struct provider *
provider_configured(const struct config *cfg, struct errbuf *e)
{
	const char *name = config_pick(cfg, NULL, "SMSDESK_PROVIDER",
	    "provider", NULL);
	const struct provider *pv = name ? provider_find(name) :
	    provider_default();

	if (!pv) {
		errno = ENOENT;
		errf(e, "unknown provider '%s'", name);
		return NULL;
	}
	if (!pv->account || !pv->send_request) {
		errno = ENOTSUP;
		errf(e, "provider '%s' cannot send", pv->name);
		return NULL;
	}
	return pv;
}

int
provider_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	memset(a, 0, sizeof *a);
	if (!(a->pv = provider_configured(cfg, e)))
		return -1;
	return a->pv->account(a, cfg, from, service, need, e);
}

void
provider_account_free(struct provider_account *a)
{
	free(a->callback);
	memset(a, 0, sizeof *a);
}
