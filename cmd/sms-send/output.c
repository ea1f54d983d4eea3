/*
 * output.c: how a message ended, and what is written out about it.
 *
 * Each message ends in one record on stdout (NDJSON when stdout is not a
 * terminal, else a short line), and its outcome is counted for the exit
 * code: ok, permanent, temporary (to retry), or rejected credentials,
 * which stop the run, and for the summary a run prints on a terminal. A
 * dry run also counts segments and prices, for the total it prints on
 * stderr.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diag.h"
#include "price.h"
#include "record.h"
#include "send.h"
#include "sms-send/output.h"

/* A short line for a terminal. */
static void
summary(const json_t *msg)
{
	const char *to = record_str(msg, "to");
	const char *st = record_str(msg, "status");
	const char *pid = record_str(msg, "provider_id");
	const json_t *err = json_object_get(msg, "error");
	json_int_t segs = json_integer_value(json_object_get(msg,
	    "segments"));
	const char *enc = record_str(msg, "encoding");

	if (st && strcmp(st, "dry_run") == 0)
		st = "dry run";
	printf("%s: %s", to ? to : "?", st ? st : "?");
	if (pid)
		printf(" %s", pid);
	if (err)
		printf(": %s%s%s", record_str(err, "code") ?
		    record_str(err, "code") : "error",
		    record_str(err, "message") ? ": " : "",
		    record_str(err, "message") ? record_str(err, "message") :
		    "");
	if (segs > 0)
		printf(" (%lld segment%s, %s", (long long)segs,
		    segs == 1 ? "" : "s", enc ? enc : "?");
	if (segs > 0 && record_str(msg, "price"))
		printf(", %s %s", record_str(msg, "price"),
		    record_str(msg, "price_unit"));
	else if (segs > 0 && json_is_null(json_object_get(msg, "price")))
		printf(", no price");
	if (segs > 0)
		putchar(')');
	putchar('\n');
}

/* Count msg, which ended as oc, for the summary; under s->lock. */
static void
tally(struct send *s, const json_t *msg, enum outcome oc)
{
	const char *st = record_str(msg, "status");
	const char *why = record_str(json_object_get(msg, "error"), "code");
	struct tally *t;
	int kind;
	size_t i;

	if (st && strcmp(st, "deferred") == 0)
		kind = T_DEFERRED;
	else if (st && strcmp(st, "scheduled") == 0 && oc == OK)
		kind = T_SCHEDULED;
	else if (st && strcmp(st, "canceled") == 0 && oc == OK)
		kind = T_CANCELED;
	else if (oc == OK)
		kind = T_SENT;
	else if (oc == TEMPORARY)
		kind = T_RETRY;
	else if (!s->reconciling && !record_str(msg, "provider_id"))
		kind = T_REFUSED;
	else
		kind = T_FAILED;
	s->kinds[kind]++;
	if (kind == T_SENT || kind == T_DEFERRED || kind == T_SCHEDULED ||
	    kind == T_CANCELED)
		return;
	if (!why && !(why = st))
		why = "?";
	for (i = 0; i < s->ntally; i++) {
		t = &s->tally[i];
		if (t->kind == kind && strcmp(t->why, why) == 0) {
			t->n++;
			return;
		}
	}
	if (s->ntally == TALLY_MAX)
		return;		/* counted as "other" */
	t = &s->tally[s->ntally++];
	t->kind = kind;
	snprintf(t->why, sizeof t->why, "%s", why);
	t->n = 1;
}

static int
by_reason(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	return strcmp(x->why, y->why);
}

/*
 * The summary of a run, on stderr: "sms-send: 98 sent, 2 refused
 * (opted_out 2)", how many ended each way and why; --reconcile's says so,
 * and what it left for later.
 */
void
out_summary(const struct send *s)
{
	static const char *const kind[T_KINDS] = { "sent", "deferred",
		"scheduled", "canceled", "refused", "failed", "to retry" };
	struct tally t[TALLY_MAX];
	unsigned long listed;
	size_t i, n = s->ntally;
	int k;

	if (s->reconciling && !s->done) {
		fprintf(stderr, "%s: --reconcile: nothing to settle",
		    diag_prog());
		if (s->young)
			fprintf(stderr, " yet: %lu taken less than %ld s ago "
			    "wait for their delivery reports", s->young,
			    s->grace);
		fputc('\n', stderr);
		return;
	}
	memcpy(t, s->tally, n * sizeof *t);
	qsort(t, n, sizeof *t, by_reason);
	fprintf(stderr, "%s: %s", diag_prog(), s->reconciling ?
	    "--reconcile: " : "");
	for (k = 0; k < T_KINDS; k++) {
		if (k != T_SENT && !s->kinds[k])
			continue;
		fprintf(stderr, "%s%lu %s", k == T_SENT ? "" : ", ",
		    s->kinds[k], kind[k]);
		listed = 0;
		for (i = 0; i < n; i++) {
			if (t[i].kind != k)
				continue;
			fprintf(stderr, "%s%s %lu", listed ? ", " : " (",
			    t[i].why, t[i].n);
			listed += t[i].n;
		}
		if (listed && listed < s->kinds[k])
			fprintf(stderr, ", other %lu", s->kinds[k] - listed);
		if (listed)
			fputc(')', stderr);
	}
	if (s->young)
		fprintf(stderr, "; %lu taken less than %ld s ago left for "
		    "later", s->young, s->grace);
	fputc('\n', stderr);
}

/*
 * The sending path's hook for a message that ended (lib/send.h, on_end):
 * write its final record and count it for the summary. Called under
 * s->lock, the counts of struct send already updated.
 */
void
out_emit(struct send *s, const json_t *msg, enum outcome oc)
{
	if (s->progress)
		fputs("\r\033[K", stderr);
	if (!s->json)
		summary(msg);
	else if (!ferror(stdout) && record_write(stdout, msg) < 0)
		s->out_errno = errno;
	tally(s, msg, oc);
	if (s->progress && s->done > (unsigned long)s->screen)
		fprintf(stderr, "%s: %lu done: %lu ok, %lu failed, "
		    "%lu to retry", diag_prog(), s->done, s->nok, s->nperm,
		    s->ntemp);
}

/* The total of a dry run, on stderr. */
void
out_dry_summary(const struct send *s)
{
	unsigned long priced = s->dry_n - s->dry_unpriced;
	char text[PRICE_BUFSZ];

	price_format(s->dry_micro, s->dry_places, text);
	fprintf(stderr, "%s: dry run: %lu message%s", diag_prog(), s->dry_n,
	    s->dry_n == 1 ? "" : "s");
	/* WhatsApp has no segments: one message of up to 4,096
	 * characters. */
	if (s->dry_mms && s->dry_wa)
		fprintf(stderr, " (%lu MMS, %lu WhatsApp: no segments, up to "
		    "4096 characters each)", s->dry_mms, s->dry_wa);
	else if (s->dry_mms)
		fprintf(stderr, " (%lu MMS)", s->dry_mms);
	else if (s->dry_wa)
		fprintf(stderr, " (%lu WhatsApp: no segments, up to 4096 "
		    "characters each)", s->dry_wa);
	fprintf(stderr, ", %lu segment%s", s->dry_segments,
	    s->dry_segments == 1 ? "" : "s");
	if (priced)
		fprintf(stderr, ", %s %s", text, price_unit(s->prices));
	if (priced && s->dry_unpriced)
		fprintf(stderr, " for the %lu priced", priced);
	if (s->dry_unpriced > s->dry_mms_unpriced + s->dry_wa_unpriced)
		fprintf(stderr, "; no price for %lu (set price or "
		    "price.COUNTRY in the configuration)",
		    s->dry_unpriced - s->dry_mms_unpriced -
		    s->dry_wa_unpriced);
	if (s->dry_mms_unpriced)
		fprintf(stderr, "; no price for %lu MMS (set mms_price in the "
		    "configuration)", s->dry_mms_unpriced);
	if (s->dry_wa_unpriced)
		fprintf(stderr, "; no price for %lu WhatsApp (set "
		    "whatsapp_price in the configuration)", s->dry_wa_unpriced);
	fputc('\n', stderr);
}
