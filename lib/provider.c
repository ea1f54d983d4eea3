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

int
provider_list(const struct config *cfg, const struct provider **list,
    struct errbuf *e)
{
	const char *names = config_pick(cfg, NULL, "SMSDESK_PROVIDER",
	    "provider", NULL), *p = names;
	const struct provider *pv;
	char name[32];
	size_t n, k = 0;

	if (!names) {
		list[0] = provider_default();
		return 1;
	}
	for (;;) {
		p += strspn(p, " \t");
		n = strcspn(p, ", \t");
		if (n == 0 || n >= sizeof name) {
			errno = n ? ENOENT : EINVAL;
			if (n)
				return errf(e, "unknown provider '%.*s'",
				    (int)n, p);
			return errf(e, "provider: '%s': an empty name", names);
		}
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		if (!(pv = provider_find(name))) {
			errno = ENOENT;
			return errf(e, "unknown provider '%s'", name);
		}
		if (!pv->account || (!pv->send_request && !pv->deliver)) {
			errno = ENOTSUP;
			return errf(e, "provider '%s' cannot send", pv->name);
		}
		for (size_t i = 0; i < k; i++)
			if (list[i] == pv) {
				errno = EINVAL;
				return errf(e, "provider: '%s' named twice",
				    name);
			}
		if (k == PROVIDER_LIST_MAX) {
			errno = EINVAL;
			return errf(e, "provider: more than %d providers",
			    PROVIDER_LIST_MAX);
		}
		list[k++] = pv;
		p += n;
		p += strspn(p, " \t");
		if (!*p)
			return (int)k;
		if (*p++ != ',') {
			errno = EINVAL;
			return errf(e, "provider: '%s': names go apart by "
			    "commas", names);
		}
	}
}

const struct provider *
provider_configured(const struct config *cfg, struct errbuf *e)
{
	const struct provider *list[PROVIDER_LIST_MAX];

	return provider_list(cfg, list, e) < 0 ? NULL : list[0];
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

int
provider_accounts(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	const struct provider *list[PROVIDER_LIST_MAX];
	struct errbuf pe;
	int n = provider_list(cfg, list, e), err;

	for (int i = 0; i < n; i++) {
		memset(&a[i], 0, sizeof a[i]);
		a[i].pv = list[i];
		a[i].alt = i > 0;
		if (list[i]->account(&a[i], cfg, i ? NULL : from,
		    i ? NULL : service, need, &pe) == 0)
			continue;
		if (n > 1)
			errf(e, "%s: %s", list[i]->name, pe.msg);
		else
			errf(e, "%s", pe.msg);
		err = errno;
		while (i >= 0)
			provider_account_free(&a[i--]);
		errno = err;
		return -1;
	}
	return n;
}

const char *
provider_from(const struct provider_account *a, const struct config *cfg)
{
	return a->alt ? NULL : config_pick(cfg, NULL, NULL, "from", NULL);
}

void
provider_account_free(struct provider_account *a)
{
	free(a->callback);
	memset(a, 0, sizeof *a);
}
