/*
 * conf.c: the settings sms-recv reads from its configuration, and their
 * reload on SIGHUP.
 *
 * Everything the configuration file and the environment give (the feeds
 * and their signing secrets, the public URL, the automatic answers,
 * business hours, how media are fetched) is loaded into one struct
 * recv_conf, checked whole before it is used: a mistake is an error, not
 * a setting quietly ignored. A listener that gets SIGHUP loads a new one
 * the same way; if it loads, it becomes the current one, else the error
 * is said and the old one stays.
 *
 * A request works with one settings from start to end: it takes the one
 * current as its headers come (conf_take()), and a reload before its
 * body is in or while it is stored changes nothing for it; the old
 * settings are freed once the last request holding them lets go
 * (conf_drop()). The thread working on a request says which it uses
 * (conf_use()), so that store.c and media.c read conf_now() without a
 * settings passed down every call: the one their thread uses, else the
 * current one (for files, --poll and --spool, which never reload).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "provider.h"
#include "tz.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

/* The answer to HELP unless help_text says otherwise, after the name. */
#define HELP_TEXT "Text us here and we will answer. Msg frequency varies. " \
	"Msg&data rates may apply. Reply STOP to opt out."

/* The settings this thread holds (conf_hold()), or NULL. */
static _Thread_local const struct recv_conf *held;

/* A failure: e filled, *code the exit code a start would end with. */
#define FAIL(c, ...) (*code = (c), errf(e, __VA_ARGS__))

/*
 * The out-of-hours reply's settings, checked now so that a mistake stops
 * the listener at startup rather than passing silently at night.
 */
static int
load_hours(struct recv_conf *c, int *code, struct errbuf *e)
{
	const char *bh = config_pick(c->cfg, NULL, NULL, "business_hours",
	    NULL);
	const char *zone = config_pick(c->cfg, NULL, NULL, "timezone", NULL);
	struct errbuf why;

	c->away_text = config_pick(c->cfg, NULL, NULL, "away_text", NULL);
	if (c->away_text && !*c->away_text)
		c->away_text = NULL;
	if (when_now_valid(&why) < 0)
		return FAIL(EXIT_CONFIG, "SMSDESK_NOW: %s", why.msg);
	if (bh && hours_parse(&c->hours, bh, &why) < 0)
		return FAIL(EXIT_CONFIG, "config: business_hours: %s",
		    why.msg);
	if (c->away_text && !bh)
		return FAIL(EXIT_CONFIG, "config: away_text needs "
		    "business_hours, as in Mon-Fri 09:00-17:00");
	if (bh && !zone)
		return FAIL(EXIT_CONFIG, "config: business_hours needs "
		    "timezone, an IANA name such as America/New_York");
	if (!zone)
		return 0;
	if (!(c->tzdb = tzdb_new(NULL)))
		return FAIL(EXIT_IOERR, "%s", strerror(errno));
	if (!(c->zone = tzdb_get(c->tzdb, zone, &why)))
		return FAIL(EXIT_CONFIG, "config: timezone: %s", why.msg);
	return 0;
}

/*
 * How media are fetched: the size cap media_max (bytes), and for each
 * feed its provider's credentials (for its own host only, lib/media.h);
 * the same for every provider known, for a message of a provider that is
 * no feed (--fetch-media goes through every provider's messages). A
 * fetch stops at once when *cancel is set.
 */
static int
load_media(struct recv_conf *c, _Atomic int *cancel, int *code,
    struct errbuf *e)
{
	const char *max = config_pick(c->cfg, NULL, NULL, "media_max", NULL);
	const struct provider *list[PROVIDER_LIST_MAX];
	struct errbuf why;
	char *end;
	int nlist;

	c->media.max_bytes = MEDIA_MAX_DEFAULT;
	if (max) {
		errno = 0;
		c->media.max_bytes = strtoll(max, &end, 10);
		if (*max < '0' || *max > '9' || *end || errno ||
		    c->media.max_bytes <= 0)
			return FAIL(EXIT_CONFIG, "config: media_max: "
			    "'%s' is not a number of bytes", max);
	}
	c->media.timeout = MEDIA_TIMEOUT_DEFAULT;
	c->media.cancel = cancel;
	for (const struct provider *pv; c->nknown < FEEDS_MAX &&
	    (pv = provider_at(c->nknown)) != NULL; c->nknown++)
		c->known[c->nknown].pv = pv;
	/* A provider after the first of a failover list has its own from. */
	nlist = provider_list(c->cfg, list, &why);
	for (size_t i = 0; i < c->nfeeds + c->nknown; i++) {
		struct feed *f = i < c->nfeeds ? &c->feed[i] :
		    &c->known[i - c->nfeeds];

		f->media = c->media;
		memset(&f->acct, 0, sizeof f->acct);
		f->acct.alt = nlist > 0 ? list[0] != f->pv : i > 0;
		if (f->pv->account && f->pv->account(&f->acct, c->cfg, NULL,
		    NULL, 0, &why) == 0) {
			f->media.user = f->acct.user;
			f->media.pass = f->acct.pass;
			f->media.auth_url = f->acct.base;
			f->media.media_url = f->acct.media_url;
		}
	}
	c->media = c->feed[0].media;
	return 0;
}

/* One feed, provider name, and its signing secret (load_feeds()). */
static int
load_feed(struct recv_conf *c, const struct conf_args *a, const char *name,
    int *code, struct errbuf *e)
{
	const struct provider *pv;
	struct errbuf why;
	struct feed *f;

	if (!(pv = provider_find(name)))
		return FAIL(EXIT_CONFIG, "unknown provider '%s'", name);
	for (size_t i = 0; i < c->nfeeds; i++)
		if (c->feed[i].pv == pv)
			return FAIL(EXIT_USAGE, "--provider: '%s' twice",
			    name);
	if (c->nfeeds == FEEDS_MAX)
		return FAIL(EXIT_USAGE, "--provider: more than %d",
		    FEEDS_MAX);
	f = &c->feed[c->nfeeds++];
	f->pv = pv;
	/* Where the provider keeps its signing secret. */
	f->secret = pv->secret_key ? config_pick(c->cfg, NULL,
	    pv->secret_env, pv->secret_key, NULL) : NULL;
	if (f->secret && !*f->secret)
		f->secret = NULL;
	/* Which of its signature methods the provider signs with. */
	if (pv->sig_method_key)
		f->sig_method = config_pick(c->cfg, NULL, pv->sig_method_env,
		    pv->sig_method_key, NULL);
	*code = EXIT_CONFIG;
	if (a->listening && f->secret && pv->secret_ok &&
	    pv->secret_ok(f->secret, &why) < 0)
		return errf(e, "%s%s%s: %s", pv->secret_env ?
		    pv->secret_env : "", pv->secret_env ? " or " : "",
		    pv->secret_key, why.msg);
	if (a->listening && !f->secret && !a->insecure && pv->verify)
		return errf(e, "no signing secret for %s: set %s%s%s in the "
		    "config, or give --insecure to accept unsigned requests",
		    pv->name, pv->secret_env ? pv->secret_env : "",
		    pv->secret_env ? " or " : "", pv->secret_key);
	if (a->insecure)
		f->secret = NULL;
	return 0;
}

/*
 * The feeds of names (a comma-separated list, each provider once), and
 * each one's signing secret. With listening, a secret of the wrong form,
 * or none without insecure, is an error (78).
 */
static int
load_feeds(struct recv_conf *c, const struct conf_args *a,
    const char *names, int *code, struct errbuf *e)
{
	const char *p = names;

	while (*p) {
		size_t n = strcspn(p, ", ");
		char name[32];

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof name)
			return FAIL(EXIT_CONFIG, "unknown provider '%.*s'",
			    (int)n, p);
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (load_feed(c, a, name, code, e) < 0)
			return -1;
	}
	if (c->nfeeds == 0)
		return FAIL(EXIT_CONFIG, "--provider: no provider named");
	c->pv = c->feed[0].pv;
	c->secret = c->feed[0].secret;
	return 0;
}

/* Whether an opt-out holds on every channel (consent_scope, as
 * sms-send reads it: smsdesk-config(5)). */
static int
load_scope(struct recv_conf *c, int *code, struct errbuf *e)
{
	const char *scope = config_pick(c->cfg, NULL, "SMSDESK_CONSENT_SCOPE",
	    "consent_scope", "person");

	if (strcmp(scope, "person") != 0 && strcmp(scope, "channel") != 0)
		return FAIL(EXIT_CONFIG, "config: consent_scope: '%s' is not "
		    "person or channel", scope);
	c->consent_by_channel = strcmp(scope, "channel") == 0;
	return 0;
}

/* The answers: help_text, or one made from business_name; the others. */
static int
load_texts(struct recv_conf *c, int *code, struct errbuf *e)
{
	c->help_text = config_pick(c->cfg, NULL, NULL, "help_text", NULL);
	if (!c->help_text) {
		const char *name = config_pick(c->cfg, NULL, NULL,
		    "business_name", "");
		size_t n = strlen(name) + sizeof HELP_TEXT + 2;

		if (!(c->help = malloc(n)))
			return FAIL(EXIT_IOERR, "%s",
			    strerror(ENOMEM));
		snprintf(c->help, n, "%s%s" HELP_TEXT, name, *name ? ": " : "");
		c->help_text = c->help;
	}
	c->ack_text = config_pick(c->cfg, NULL, NULL, "ack_text", NULL);
	c->stop_text = config_pick(c->cfg, NULL, NULL, "stop_text", NULL);
	c->start_text = config_pick(c->cfg, NULL, NULL, "start_text", NULL);
	return load_scope(c, code, e);
}

/* The public URL, from --public-url, the environment or the file. */
static int
load_url(struct recv_conf *c, const struct conf_args *a, int *code,
    struct errbuf *e)
{
	const char *url = config_pick(c->cfg, a->url, "SMSDESK_PUBLIC_URL",
	    "public_url", NULL);
	size_t n;

	if (!url)
		url = a->default_url;
	if (!url)
		return 0;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (!(c->public_url = strndup(url, n)))
		return FAIL(EXIT_IOERR, "%s", strerror(ENOMEM));
	return 0;
}

int
conf_load(const struct conf_args *a, struct recv_conf **out, int *code,
    struct errbuf *e)
{
	struct recv_conf *c = calloc(1, sizeof *c);
	const char *names;
	struct errbuf why;
	char *ipath;
	int rc;

	*out = NULL;
	*code = EXIT_IOERR;
	if (!c || !(c->cfg = config_new())) {
		free(c);
		return errf(e, "%s", strerror(ENOMEM));
	}
	c->refs = 1;
	if (!(ipath = inbox_path(a->dir))) {
		conf_free(c);
		return errf(e, "%s", strerror(errno));
	}
	rc = config_load_default(c->cfg, ipath, e);
	free(ipath);
	*code = EXIT_CONFIG;
	/* The configuration first: it names the group trusted with the
	 * inbox. */
	if (rc == 0 && inbox_group_check(config_pick(c->cfg, NULL, NULL,
	    "group", NULL), &why) < 0)
		rc = errf(e, "config: %s", why.msg);
	if (rc < 0) {
		conf_free(c);
		return -1;
	}
	names = config_pick(c->cfg, a->provider, "SMSDESK_PROVIDER",
	    "provider", provider_default()->name);
	if (load_feeds(c, a, names, code, e) < 0 ||
	    (!a->spool && !c->pv->parse && FAIL(EXIT_CONFIG, "provider "
	    "'%s' has no webhooks: sms-recv --spool DIR reads its spool "
	    "(sms-recv(1))", c->pv->name) < 0) ||
	    (!a->listening && c->nfeeds > 1 && FAIL(EXIT_USAGE, "--provider: "
	    "several providers are for --listen; files and stdin are read "
	    "as one's") < 0) ||
	    load_texts(c, code, e) < 0 || load_hours(c, code, e) < 0 ||
	    load_media(c, a->cancel, code, e) < 0 ||
	    load_url(c, a, code, e) < 0) {
		conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
conf_free(struct recv_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfeeds; i++)
		provider_account_free(&c->feed[i].acct);
	for (size_t i = 0; i < c->nknown; i++)
		provider_account_free(&c->known[i].acct);
	tzdb_free(c->tzdb);
	free(c->public_url);
	free(c->help);
	config_free(c->cfg);
	free(c);
}

const struct recv_conf *
conf_now(struct recv *r)
{
	return held ? held : r->conf;
}

const struct recv_conf *
conf_take(struct recv *r)
{
	struct recv_conf *c;

	pthread_mutex_lock(&r->conf_lock);
	c = r->conf;
	c->refs++;
	pthread_mutex_unlock(&r->conf_lock);
	return c;
}

void
conf_drop(struct recv *r, const struct recv_conf *c)
{
	struct recv_conf *gone = NULL;

	pthread_mutex_lock(&r->conf_lock);
	/* One we took: ours to drop (the cast drops only const). */
	if (--((struct recv_conf *)c)->refs == 0)
		gone = (struct recv_conf *)c;
	pthread_mutex_unlock(&r->conf_lock);
	conf_free(gone);
}

void
conf_use(const struct recv_conf *c)
{
	held = c;
}

const struct recv_conf *
conf_hold(struct recv *r)
{
	return held = conf_take(r);
}

void
conf_release(struct recv *r, const struct recv_conf *c)
{
	held = NULL;
	conf_drop(r, c);
}

int
conf_reload(struct recv *r, struct errbuf *e)
{
	struct recv_conf *c, *old;
	int code;

	if (conf_load(&r->args, &c, &code, e) < 0)
		return -1;
	pthread_mutex_lock(&r->conf_lock);
	old = r->conf;
	r->conf = c;
	/* Still held by a request: the last to let go frees it. */
	if (--old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&r->conf_lock);
	conf_free(old);
	return 0;
}
