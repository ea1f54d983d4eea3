/*
 * setup.c: a run of the sending path set up from the configuration, the
 * same for every program that sends (sms-send, csat-survey).
 *
 * The program reads its options, then calls these in order: the
 * configuration (and the country of national numbers), quiet hours,
 * the provider's account, a dry run's prices, the inbox. Each fills its
 * part of struct send and returns 0, or the exit status the failure
 * calls for (smsdesk(7), EXIT STATUS: EXIT_CONFIG for a configuration
 * that is missing or wrong, EXIT_USAGE for an option that does not fit
 * it, what diag_exit_for() says for an inbox that cannot be opened) with
 * e filled: the program says e->msg and exits with it, since the library
 * never exits (STYLE.md). send_teardown() frees what they made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "phone.h"
#include "price.h"
#include "provider.h"
#include "tz.h"
#include "when.h"
#include "send.h"

int
send_quiet_mode(const char *mode)
{
	if (strcmp(mode, "defer") == 0)
		return 'd';
	if (strcmp(mode, "refuse") == 0)
		return 'r';
	if (strcmp(mode, "off") == 0)
		return 0;
	return -1;
}

int
send_setup_config(struct send *s, struct config **cfg, const char *dir,
    struct errbuf *e)
{
	if (!(*cfg = config_new()))
		send_nomem();
	if (config_load_default(*cfg, dir ? dir : getenv("SMSDESK_INBOX"),
	    e) < 0)
		return EXIT_CONFIG;
	s->country = config_pick(*cfg, NULL, "SMSDESK_COUNTRY", "country",
	    NULL);
	if (s->country && *s->country && !phone_region_code(s->country))
		return errf(e, "country: '%s' is not an ISO 3166 region",
		    s->country), EXIT_CONFIG;
	return 0;
}

int
send_setup_quiet(struct send *s, const struct config *cfg, const char *flag,
    struct errbuf *e)
{
	const char *mode = config_pick(cfg, flag, NULL, "quiet_hours_mode",
	    "off");
	struct errbuf te;

	if (when_now_valid(&te) < 0)
		return errf(e, "SMSDESK_NOW: %s", te.msg), EXIT_CONFIG;
	if ((s->quiet = send_quiet_mode(mode)) < 0)
		return errf(e, "config: quiet_hours_mode: '%s' is not defer, "
		    "refuse or off", mode), EXIT_CONFIG;
	s->quiet_spec = config_pick(cfg, NULL, NULL, "quiet_hours",
	    "21:00-08:00");
	if (hours_window_parse(&s->qwin, s->quiet_spec, &te) < 0)
		return errf(e, "config: quiet_hours: %s", te.msg), EXIT_CONFIG;
	if (!s->quiet)
		return 0;
	if (!(s->tzdb = tzdb_new(NULL)))
		send_nomem();
	if (!tzdb_get(s->tzdb, "America/New_York", &te))
		return errf(e, "quiet hours need the time zone database "
		    "(Debian's tzdata): %s", te.msg), EXIT_CONFIG;
	return 0;
}

int
send_setup_consent(struct send *s, const struct config *cfg,
    struct errbuf *e)
{
	const char *scope = config_pick(cfg, NULL, "SMSDESK_CONSENT_SCOPE",
	    "consent_scope", "person");

	if (strcmp(scope, "person") == 0)
		s->consent_by_channel = 0;
	else if (strcmp(scope, "channel") == 0)
		s->consent_by_channel = 1;
	else
		return errf(e, "config: consent_scope: '%s' is not person or "
		    "channel", scope), EXIT_CONFIG;
	return 0;
}

/* How to opt out, as the default disclosure and help text say it. */
#define DISCLOSE "Reply STOP to opt out."

int
send_setup_carriers(struct send *s, const struct config *cfg,
    struct errbuf *e)
{
	const char *mode = config_pick(cfg, NULL, "SMSDESK_DISCLOSURE",
	    "disclosure", "add");
	const char *text = config_pick(cfg, NULL, NULL, "disclosure_text",
	    NULL);
	const char *name = config_pick(cfg, NULL, NULL, "business_name", "");
	const char *reg = config_pick(cfg, NULL, "SMSDESK_REGISTRATION",
	    "registration", NULL);
	const char *from = s->acct.from;
	size_t n;

	if (strcmp(mode, "add") == 0)
		s->disclosure = 'a';
	else if (strcmp(mode, "refuse") == 0)
		s->disclosure = 'r';
	else if (strcmp(mode, "off") == 0)
		s->disclosure = 0;
	else
		return errf(e, "config: disclosure: '%s' is not add, refuse "
		    "or off", mode), EXIT_CONFIG;
	if (text && !*text)
		return errf(e, "config: disclosure_text is empty (disclosure "
		    "= off turns the disclosure off)"), EXIT_CONFIG;
	/* Off in the configuration is said; SMSDESK_DISCLOSURE=off is a
	 * run's own explicit choice (a test harness, a one-off). */
	if (!s->disclosure && !getenv("SMSDESK_DISCLOSURE"))
		send_warn(s, "disclosure = off: a first message to a number "
		    "that never wrote in goes without the business's name "
		    "and how to opt out (smsdesk-config(5))");
	s->disclosure_name = name;
	if (!text) {
		n = strlen(name) + sizeof ": " DISCLOSE;
		if (!(s->disclosure_text = malloc(n)))
			send_nomem();
		snprintf(s->disclosure_text, n, "%s%s" DISCLOSE, name,
		    *name ? ": " : "");
	} else if (!(s->disclosure_text = strdup(text))) {
		send_nomem();
	}
	/* North America: where carriers filter unregistered senders. */
	if ((!reg || !*reg) && from && strncmp(from, "+1", 2) == 0 &&
	    !s->dry_run)
		send_warn(s, "%s: no registration configured (registration "
		    "in smsdesk-config(5)): US carriers filter business "
		    "texts from a number without a 10DLC campaign or "
		    "toll-free verification", from);
	return 0;
}

static int send_setup_failover(struct send *s, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e);

int
send_setup_provider(struct send *s, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	const struct provider *pv = provider_configured(cfg, e);

	if (!pv)
		return EXIT_CONFIG;
	if (service && !pv->service_prefix)
		return errf(e, "--messaging-service: provider '%s' has no "
		    "messaging services", pv->name), EXIT_USAGE;
	if (service && strncmp(service, pv->service_prefix,
	    strlen(pv->service_prefix)) != 0)
		return errf(e, "--messaging-service: '%s' is not an %s SID",
		    service, pv->service_prefix), EXIT_USAGE;
	return send_setup_failover(s, cfg, from, service, need, e);
}

/*
 * The accounts of the provider list: the first into s->acct, the rest
 * into s->alt; and failover_cooldown (a duration up to a day, 60s by
 * default).
 */
static int
send_setup_failover(struct send *s, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	struct provider_account a[PROVIDER_LIST_MAX];
	const char *cd = config_pick(cfg, NULL, "SMSDESK_FAILOVER_COOLDOWN",
	    "failover_cooldown", "60s");
	long long secs;
	struct errbuf te;
	int n;

	if (when_duration(cd, &secs, &te) < 0 || secs < 0 || secs > 86400)
		return errno = EINVAL, errf(e, "failover_cooldown: '%s' is not "
		    "a duration from 0s to 1d", cd), EXIT_CONFIG;
	s->cooldown = (double)secs;
	if ((n = provider_accounts(a, cfg, from, service, need, e)) < 0)
		return errno == ENOMEM ? EXIT_IOERR : EXIT_CONFIG;
	s->acct = a[0];
	for (int i = 1; i < n; i++)
		s->alt[i - 1] = a[i];
	s->nalt = (size_t)n - 1;
	return 0;
}

int
send_setup_prices(struct send *s, const struct config *cfg, struct errbuf *e)
{
	if (!s->dry_run)
		return 0;
	if (!(s->prices = price_table_new(cfg, config_pick(cfg, NULL,
	    "SMSDESK_PRICE", "price", NULL), config_pick(cfg, NULL,
	    "SMSDESK_PRICE_UNIT", "price_unit", "USD"), e)))
		return errno == ENOMEM ? EXIT_IOERR : EXIT_CONFIG;
	return 0;
}

int
send_setup_media(struct send *s, const struct config *cfg, struct errbuf *e)
{
	const char *ttl = config_pick(cfg, NULL, "SMSDESK_MEDIA_TTL",
	    "media_ttl", "4h");
	const char *mms = config_pick(cfg, NULL, "SMSDESK_MMS_PRICE",
	    "mms_price", NULL);
	const char *wa = config_pick(cfg, NULL, NULL, "whatsapp_price", NULL);
	const char *tmpl = config_pick(cfg, NULL, NULL,
	    "whatsapp_template_price", NULL);
	long long secs;
	struct errbuf te;

	s->public_url = config_pick(cfg, NULL, "SMSDESK_PUBLIC_URL",
	    "public_url", NULL);
	if (s->public_url && !*s->public_url)
		s->public_url = NULL;
	if (when_duration(ttl, &secs, &te) < 0 || secs < 1 ||
	    secs > 30LL * 86400)
		return errno = EINVAL, errf(e, "media_ttl: '%s' is not a "
		    "duration from 1s to 30d", ttl), EXIT_CONFIG;
	s->media_ttl = (long)secs;
	if (mms && *mms) {
		if (price_parse(mms, &s->mms_micro, &s->mms_places) < 0)
			return errno = EINVAL, errf(e, "mms_price: '%s' is not "
			    "a price", mms), EXIT_CONFIG;
		s->mms_priced = 1;
	}
	if (wa && *wa) {
		if (price_parse(wa, &s->wa_micro, &s->wa_places) < 0)
			return errno = EINVAL, errf(e, "whatsapp_price: '%s' "
			    "is not a price", wa), EXIT_CONFIG;
		s->wa_priced = 1;
	}
	if (tmpl && *tmpl) {
		if (price_parse(tmpl, &s->wa_tmpl_micro,
		    &s->wa_tmpl_places) < 0)
			return errno = EINVAL, errf(e,
			    "whatsapp_template_price: '%s' is not a price",
			    tmpl), EXIT_CONFIG;
		s->wa_tmpl_priced = 1;
	} else if (s->wa_priced) {
		s->wa_tmpl_micro = s->wa_micro;
		s->wa_tmpl_places = s->wa_places;
		s->wa_tmpl_priced = 1;
	}
	return 0;
}

/* What the inbox meets along the way (a file quarantined), said. */
static void
inbox_report(void *arg, const char *msg)
{
	send_warn(arg, "%s", msg);
}

int
send_setup_inbox(struct send *s, const struct config *cfg, const char *dir,
    struct errbuf *e)
{
	const char *group = config_pick(cfg, NULL, NULL, "group", NULL);
	struct errbuf te;
	int err;

	if (inbox_group_check(group, &te) < 0)
		return errf(e, "config: %s", te.msg), EXIT_CONFIG;
	if (inbox_open_group(&s->ib, dir, 0, group, e) < 0) {
		err = errno;
		inbox_close(&s->ib);
		if (!s->dry_run || err != ENOENT)
			return diag_exit_for(err);
		return 0;
	}
	s->have_inbox = 1;
	s->ib.report = inbox_report;
	s->ib.report_arg = s;
	s->ib.agent = s->agent;
	/* What a crash left in a journal (a listener's, a sender's) first. */
	if (!s->dry_run && inbox_recover(&s->ib, NULL, e) < 0)
		return diag_exit_for(errno);
	return 0;
}

void
send_teardown(struct send *s, struct config *cfg)
{
	tzdb_free(s->tzdb);
	s->tzdb = NULL;
	provider_account_free(&s->acct);
	for (size_t i = 0; i < s->nalt; i++)
		provider_account_free(&s->alt[i]);
	s->nalt = 0;
	free(s->disclosure_text);
	s->disclosure_text = NULL;
	price_table_free(s->prices);
	s->prices = NULL;
	config_free(cfg);
	if (s->have_inbox)
		inbox_close(&s->ib);
	s->have_inbox = 0;
}
