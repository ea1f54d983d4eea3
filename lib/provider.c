/*
 * provider.c: the list of providers (lib/provider/), and what every
 * program asks of whichever is configured.
 */
#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "utf8.h"

static const struct provider *const providers[] = {
	&provider_twilio,
	&provider_telnyx,
	&provider_plivo,
	&provider_vonage,
	&provider_smstools,
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

const char *
provider_classify(const struct provider_code *known, size_t n, long http,
    const char *code)
{
	char *end;
	long c = 0;

	if (code && *code) {
		errno = 0;
		c = strtol(code, &end, 10);
		if (errno || *end)
			c = 0;
	}
	for (size_t i = 0; c && i < n; i++)
		if (known[i].code == c)
			return known[i].class;
	if (http == 401 || http == 403)
		return "auth";
	if (http == 429)
		return "throttled";
	if (http >= 500)
		return "transient";
	return "permanent";
}

void
provider_sender(struct provider_account *a, const char *from,
    const char *service_flag)
{
	if (service_flag)
		a->from = from;	/* the flag says which */
	if (a->from && !*a->from)
		a->from = NULL;
	if (a->service && !*a->service)
		a->service = NULL;
	if (a->from && a->service)
		a->service = NULL;
}

int
provider_callback(struct provider_account *a, const struct config *cfg,
    const char *path, struct errbuf *e)
{
	const char *pub = config_pick(cfg, NULL, "SMSDESK_PUBLIC_URL",
	    "public_url", NULL);
	size_t n, m;

	if (!pub || !*pub)
		return 0;
	n = strlen(pub);
	m = n + strlen(path) + 1;
	if (!(a->callback = malloc(m))) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	snprintf(a->callback, m, "%.*s%s",
	    (int)(n && pub[n - 1] == '/' ? n - 1 : n), pub, path);
	return 0;
}

int
provider_xml(struct buf *out, const char *s, size_t len, int attr,
    const char *dialect, struct errbuf *e)
{
	size_t i = 0, start;
	uint32_t cp;

	while (i < len) {
		start = i;
		if (utf8_next(s, len, &i, &cp) < 0) {
			errno = EINVAL;
			return errf(e, "reply text: invalid UTF-8 at byte %zu",
			    i + 1);
		}
		/* XML 1.0 cannot carry other controls, even escaped. */
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			errno = EINVAL;
			return errf(e, "reply text: U+%04X cannot be sent in "
			    "%s", (unsigned)cp, dialect);
		}
		switch (cp) {
		case '&': buf_addlit(out, "&amp;"); break;
		case '<': buf_addlit(out, "&lt;"); break;
		case '>': buf_addlit(out, "&gt;"); break;
		/* A bare CR would be read back as LF. */
		case '\r': buf_addlit(out, "&#13;"); break;
		default:
			if (cp == '"' && attr)
				buf_addlit(out, "&quot;");
			else
				buf_add(out, s + start, i - start);
		}
	}
	return 0;
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
	if (!pv->account || (!pv->send_request && !pv->deliver)) {
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
