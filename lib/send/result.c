/*
 * result.c: how a message ended, as the sending path tells its program.
 *
 * The sending path never prints and never exits (STYLE.md): a message that
 * ended is counted here and handed to the program's on_end hook, which
 * writes it out; a diagnostic goes to the on_warn hook; running out of
 * memory, or of threads, goes to on_fatal, which must not return.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "price.h"
#include "record.h"
#include "send.h"

static void (*fatal_hook)(const char *msg);

/* The outcome of a message, as its record says it ended. */
enum outcome
send_classify(const json_t *msg)
{
	const char *st = record_str(msg, "status");
	const char *code = record_str(json_object_get(msg, "error"), "code");

	if (!st)
		return PERMANENT;
	if (strcmp(st, "unknown") == 0 || strcmp(st, "queued") == 0 ?
	    !record_str(msg, "provider_id") : 0)
		return TEMPORARY;
	if (code && strcmp(code, "not_found") == 0)
		return PERMANENT;
	if (strcmp(st, "failed") != 0 && strcmp(st, "undelivered") != 0)
		return OK;
	if (code && strcmp(code, "auth") == 0)
		return AUTH;
	if (code && (strcmp(code, "throttled") == 0 ||
	    strcmp(code, "transient") == 0))
		return TEMPORARY;
	if (code && strcmp(code, "quiet_hours") == 0 &&
	    strcmp(st, "failed") == 0 && !record_str(msg, "provider_id") &&
	    json_is_true(json_object_get(msg, "waited")))
		return TEMPORARY;
	return PERMANENT;
}

/* An "error" object: code from the taxonomy, the provider's code if
 * pcode is not 0, and message if not NULL. */
json_t *
send_error(const char *code, json_int_t pcode, const char *message)
{
	json_t *e = json_pack("{s:s}", "code", code);

	if (!e)
		send_nomem();
	if (pcode)
		json_object_set_new(e, "provider_code", json_integer(pcode));
	if (message)
		json_object_set_new(e, "message", json_string(message));
	return e;
}

/*
 * What a dry run's message would cost (sms-send(1), Prices): "price" per
 * message and "price_unit", or a null price if the configuration has none
 * for the number; counted for the summary.
 */
void
send_dry_price(struct send *s, json_t *msg, const char *number,
    size_t segments)
{
	char text[PRICE_BUFSZ];
	long long micro;
	int places;
	int known = price_lookup(s->prices, number, &micro, &places);

	if (known) {
		price_format(micro * (long long)segments, places, text);
		json_object_set_new(msg, "price", json_string(text));
	} else {
		json_object_set_new(msg, "price", json_null());
	}
	json_object_set_new(msg, "price_unit",
	    json_string(price_unit(s->prices)));
	pthread_mutex_lock(&s->lock);
	s->dry_n++;
	s->dry_segments += segments;
	if (known && places > s->dry_places)
		s->dry_places = places;
	if (known)
		s->dry_micro += micro * (long long)segments;
	else
		s->dry_unpriced++;
	pthread_mutex_unlock(&s->lock);
}

/*
 * A dry run's price of msg, priced by the message (an MMS, a WhatsApp
 * message) rather than by the segment: its price, or null with priced 0;
 * counted in the run's total and in n and unpriced, its kind's.
 */
static void
dry_price_one(struct send *s, json_t *msg, int priced, long long micro,
    int places, unsigned long *n, unsigned long *unpriced)
{
	char text[PRICE_BUFSZ];

	if (priced) {
		price_format(micro, places, text);
		json_object_set_new(msg, "price", json_string(text));
	} else {
		json_object_set_new(msg, "price", json_null());
	}
	json_object_set_new(msg, "price_unit",
	    json_string(price_unit(s->prices)));
	pthread_mutex_lock(&s->lock);
	s->dry_n++;
	(*n)++;
	if (priced && places > s->dry_places)
		s->dry_places = places;
	if (priced)
		s->dry_micro += micro;
	else
		s->dry_unpriced++, (*unpriced)++;
	pthread_mutex_unlock(&s->lock);
}

void
send_dry_price_mms(struct send *s, json_t *msg)
{
	dry_price_one(s, msg, s->mms_priced, s->mms_micro, s->mms_places,
	    &s->dry_mms, &s->dry_mms_unpriced);
}

void
send_dry_price_whatsapp(struct send *s, json_t *msg)
{
	int tmpl = json_object_get(msg, "content_sid") != NULL;

	dry_price_one(s, msg, tmpl ? s->wa_tmpl_priced : s->wa_priced,
	    tmpl ? s->wa_tmpl_micro : s->wa_micro,
	    tmpl ? s->wa_tmpl_places : s->wa_places, &s->dry_wa,
	    &s->dry_wa_unpriced);
}

/* Count how msg ended, and hand it to the program. */
void
send_emit(struct send *s, const json_t *msg, enum outcome oc)
{
	pthread_mutex_lock(&s->lock);
	s->done++;
	if (oc == OK)
		s->nok++;
	else if (oc == TEMPORARY)
		s->ntemp++;
	else if (oc == AUTH) {
		s->auth = 1;
		atomic_store(&s->stop, 1);
	}
	else
		s->nperm++;
	if (s->on_end)
		s->on_end(s, msg, oc);
	pthread_mutex_unlock(&s->lock);
}

/* A diagnostic, printf-style, to the program's on_warn hook. */
void
send_warn(struct send *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!s->on_warn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->on_warn(s, line);
}

void
send_set_fatal(void (*fn)(const char *msg))
{
	fatal_hook = fn;
}

void
send_fatal(const char *msg)
{
	if (fatal_hook)
		fatal_hook(msg);
	abort();
}

void
send_nomem(void)
{
	send_fatal(strerror(ENOMEM));
}
