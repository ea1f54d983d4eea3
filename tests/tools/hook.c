/*
 * hook: a provider's webhook, built and signed as that provider sends it,
 * as a curl(1) config to post it with (curl -K). A test tool (not
 * installed):
 *
 *	hook [-b] [-f SIGNED-URL] PROVIDER URL KIND [NAME=VALUE...]
 *	hook -e [-f SIGNED-BASE] BASE < lines
 *
 * PROVIDER is twilio, telnyx, plivo or vonage, or a channel of one of
 * them besides SMS: twilio:whatsapp, Twilio's WhatsApp (the same webhooks
 * and signature, From and To written whatsapp:+E164, an inbound message
 * with WaId and ProfileName, a status with ChannelPrefix). KIND is
 * inbound (a customer's message) or status (a status callback of a
 * message we sent); URL is where it goes (the listener's /PROVIDER, the
 * carrier's path for a channel: /twilio), SIGNED-URL what it is signed
 * for, if another (the listener's public URL: Twilio's and Plivo's
 * signatures cover it). The fields are the same for every provider, each
 * put in the provider's own wire format:
 *
 *	id=ID		the message's id (MessageSid, payload.id, MessageUUID,
 *			messageId): required
 *	from=NUM to=NUM	the numbers, E.164 (inbound: the customer to our
 *			number, +15551230001 to +15550100000 by default;
 *			status: ours to the customer)
 *	body=TEXT	the text
 *	media=URL[|TYPE] an item of a picture message, in order (Twilio's
 *			MediaUrlN and MediaContentTypeN, Telnyx's
 *			payload.media[], Plivo's MediaN from 1 and MediaCount,
 *			which gives no type; Vonage's SMS API has none)
 *	status=WORD	a status in sms-record(5)'s words (sent, delivered,
 *			undelivered, failed), said as the provider says it;
 *			another word as it is (read, WhatsApp's)
 *	profile=NAME	the name the customer's WhatsApp profile shows
 *			(ProfileName): twilio:whatsapp's inbound only
 *	error=CODE	the provider's error code of a status
 *	attempt=N	Telnyx's meta.attempt (a retry is 2: the same event
 *			id, signed anew)
 *	+NAME=VALUE	a form field set as given (replacing one of that
 *			name), -NAME a form field left out: forms only
 *	curl.OPT=VALUE	a line "OPT = VALUE" of the curl config (output,
 *			write-out, ...)
 *
 * Signed with the secret the listener checks: TWILIO_AUTH_TOKEN,
 * PLIVO_AUTH_TOKEN (a nonce of its own each time),
 * VONAGE_SIGNATURE_SECRET by VONAGE_SIGNATURE_METHOD (md5hash unless
 * set; timestamp and a nonce of its own each time), or for Telnyx the
 * key of the seed SMSDESK_SIM_TELNYX_SEED (as sms-sim signs; 64 hex
 * digits). Telnyx's and Vonage's timestamps are SMSDESK_NOW, else now.
 * The signing is the library's (twilio_signature(), plivo_signature(),
 * vonage_signature()) and telnyx-sign.h's.
 *
 * With -b, only the body is printed, on one line: what sms-recv reads
 * from a file (Reading files in sms-recv(1)), signed all the same.
 *
 * With -e, each line of standard input is one webhook, "PROVIDER", "KIND"
 * and its fields separated by tabs, posted to BASE/PROVIDER (signed for
 * SIGNED-BASE/PROVIDER; BASE/twilio for twilio:whatsapp), and the
 * configs are one file, separated by "next" (curl --parallel -K takes
 * them all): a batch of requests, each signed as it is made (a timestamp
 * of now, a nonce of its own). Exit 0, 1 for a webhook that cannot be
 * made (said on stderr; with -e, the line's number), 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "form.h"
#include "provider.h"
#include "telnyx-sign.h"
#include "when.h"

#define FIELDS_MAX 64

enum { TWILIO, TELNYX, PLIVO, VONAGE };

struct pair {
	const char *name, *value;
};

struct hook {
	int kind_status;
	const char *id, *from, *to, *body, *status, *error, *attempt;
	const char *profile;
	const char *media[PROVIDER_MEDIA_MAX];
	int nmedia;
	struct pair raw[FIELDS_MAX];	/* +NAME=VALUE, -NAME (value NULL) */
	int nraw;
	struct pair curl[FIELDS_MAX];	/* curl.OPT=VALUE */
	int ncurl;
};

static const char *const names[] = { "twilio", "telnyx", "plivo",
	"vonage" };
static int provider;
static int whatsapp;		/* twilio:whatsapp */
static const char *url, *signed_for;
static unsigned char telnyx_sk[crypto_sign_SECRETKEYBYTES];
static unsigned long nonces;
static int body_only;		/* -b */

static void
usage(void)
{
	fputs("usage: hook [-b] [-f SIGNED-URL] PROVIDER[:whatsapp] URL "
	    "inbound|status [NAME=VALUE...]\n"
	    "       hook -e [-f SIGNED-BASE] BASE < lines\n", stderr);
	exit(2);
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "hook: %s: %s is not set\n", names[provider],
		    name);
		exit(2);
	}
	return v;
}

/* A nonce no other webhook of any run has. */
static void
nonce(char *out, size_t n)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(out, n, "h%lld%09ld-%ld-%lu", (long long)t.tv_sec,
	    t.tv_nsec, (long)getpid(), ++nonces);
}

/* s as a quoted string of a curl config. */
static void
quoted(struct buf *out, const char *s, size_t n)
{
	buf_addc(out, '"');
	for (size_t i = 0; i < n; i++)
		switch (s[i]) {
		case '"':
		case '\\':
			buf_addc(out, '\\');
			buf_addc(out, s[i]);
			break;
		case '\n':
			buf_adds(out, "\\n");
			break;
		case '\r':
			buf_adds(out, "\\r");
			break;
		case '\t':
			buf_adds(out, "\\t");
			break;
		default:
			buf_addc(out, s[i]);
		}
	buf_adds(out, "\"\n");
}

static void
option(struct buf *out, const char *opt, const char *s, size_t n)
{
	if (body_only) {
		if (strcmp(opt, "data-raw") == 0) {
			buf_add(out, s, n);
			buf_addc(out, '\n');
		}
		return;
	}
	buf_adds(out, opt);
	buf_adds(out, " = ");
	quoted(out, s, n);
}

/* A header line "NAME: VALUE" of the config. */
static void
header(struct buf *out, const char *name, const char *value)
{
	if (body_only)
		return;
	buf_adds(out, "header = \"");
	buf_adds(out, name);
	buf_adds(out, ": ");
	buf_adds(out, value);
	buf_adds(out, "\"\n");
}

/* The number without its "+", as Plivo and Vonage write them. */
static const char *
bare(const char *num)
{
	return num[0] == '+' ? num + 1 : num;
}

/* A status in sms-record(5)'s words as the provider says it. */
static const char *
word(const char *st)
{
	static const char *const map[][4] = {
		/* sms-record  Telnyx             Vonage */
		{ "sent", "sent", "accepted" },
		{ "delivered", "delivered", "delivered" },
		{ "undelivered", "delivery_failed", "failed" },
		{ "failed", "sending_failed", "rejected" },
	};

	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcmp(st, map[i][0]) == 0)
			return provider == TELNYX ? map[i][1] :
			    provider == VONAGE ? map[i][2] : st;
	return st;
}

/* --- Forms (Twilio, Plivo, Vonage) ------------------------------------ */

struct fields {
	struct pair p[FIELDS_MAX + 40];
	int n;
};

static void
set(struct fields *f, const char *name, const char *value)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->p[i].name, name) == 0) {
			f->p[i].value = value;
			return;
		}
	if (value && f->n < (int)(sizeof f->p / sizeof *f->p))
		f->p[f->n++] = (struct pair){ name, value };
}

/*
 * The strings made for a request's fields, freed when it is written
 * (release()), so that a sanitizer's leak check holds for the tool too.
 */
static char **kept;
static size_t nkept, capkept;

static char *
keep(char *p)
{
	if (p && nkept == capkept) {
		size_t cap = capkept ? 2 * capkept : 64;
		char **n = realloc(kept, cap * sizeof *kept);

		if (n) {
			kept = n;
			capkept = cap;
		} else {
			free(p);
			p = NULL;
		}
	}
	if (!p) {
		fprintf(stderr, "hook: out of memory\n");
		exit(1);
	}
	return kept[nkept++] = p;
}

static void
release(void)
{
	while (nkept)
		free(kept[--nkept]);
}

/* fmt with v, a string of its own until release(). */
static const char *
made(const char *fmt, int v)
{
	char s[32];

	snprintf(s, sizeof s, fmt, v);
	return keep(strdup(s));
}

static void
encode(struct buf *b, const struct fields *f)
{
	int first = 1;

	for (int i = 0; i < f->n; i++) {
		if (f->p[i].value == NULL)
			continue;
		if (!first)
			buf_addc(b, '&');
		first = 0;
		form_add(b, f->p[i].name, strlen(f->p[i].name));
		buf_addc(b, '=');
		form_add(b, f->p[i].value, strlen(f->p[i].value));
	}
}

/* A number as the channel writes it: whatsapp:+E164 on WhatsApp. */
static const char *
address(const char *num)
{
	char *a;

	if (!whatsapp)
		return num;
	if (!(a = malloc(strlen(num) + sizeof "whatsapp:")))
		return keep(NULL);
	return keep(strcat(strcpy(a, "whatsapp:"), num));
}

static void
twilio_fields(struct fields *f, const struct hook *h)
{
	const char *ac = getenv("TWILIO_ACCOUNT_SID");

	set(f, "MessageSid", h->id);
	set(f, "SmsSid", h->id);
	set(f, "SmsMessageSid", h->id);
	set(f, "AccountSid", ac && *ac ? ac : "AC0");
	set(f, "From", address(h->from));
	set(f, "To", address(h->to));
	set(f, "ApiVersion", "2010-04-01");
	if (h->kind_status) {
		set(f, "MessageStatus", word(h->status));
		set(f, "SmsStatus", word(h->status));
		set(f, "ErrorCode", h->error);
		if (whatsapp) {
			/* As Twilio adds them for a channel's message. */
			set(f, "ChannelPrefix", "whatsapp");
			set(f, "ChannelToAddress", h->to);
		}
		return;
	}
	if (whatsapp) {
		/* WaId: the customer's number without its "+". */
		set(f, "MessageType", "text");
		set(f, "WaId", bare(h->from));
		set(f, "ProfileName", h->profile);
		set(f, "ReferralNumMedia", "0");
	}
	set(f, "Body", h->body);
	set(f, "NumSegments", "1");
	set(f, "SmsStatus", "received");
	set(f, "NumMedia", made("%d", h->nmedia));
	for (int i = 0; i < h->nmedia; i++) {
		const char *bar = strchr(h->media[i], '|');
		char *u, *t;

		u = keep(strndup(h->media[i], bar ? (size_t)(bar -
		    h->media[i]) : strlen(h->media[i])));
		set(f, made("MediaUrl%d", i), u);
		if (bar && bar[1]) {
			t = keep(strdup(bar + 1));
			set(f, made("MediaContentType%d", i), t);
		}
	}
}

static void
plivo_fields(struct fields *f, const struct hook *h)
{
	set(f, "MessageUUID", h->id);
	set(f, "From", bare(h->from));
	set(f, "To", bare(h->to));
	if (h->kind_status) {
		set(f, "Status", word(h->status));
		set(f, "ErrorCode", h->error ? h->error : "000");
		set(f, "Units", "1");
		set(f, "TotalRate", "0.0050");
		set(f, "TotalAmount", "0.0050");
		return;
	}
	/* An SMS has Text, an MMS its text in Body (Plivo's docs). */
	set(f, "Type", h->nmedia ? "mms" : "sms");
	set(f, h->nmedia ? "Body" : "Text", h->body);
	set(f, "Units", "1");
	set(f, "TotalRate", "0");
	set(f, "TotalAmount", "0");
	if (h->nmedia) {
		set(f, "MediaCount", made("%d", h->nmedia));
		for (int i = 0; i < h->nmedia; i++) {
			const char *bar = strchr(h->media[i], '|');

			set(f, made("Media%d", i + 1),
			    keep(strndup(h->media[i], bar ?
			    (size_t)(bar - h->media[i]) :
			    strlen(h->media[i]))));
		}
	}
}

static void
vonage_fields(struct fields *f, const struct hook *h)
{
	const char *key = getenv("VONAGE_API_KEY");
	char stamp[32];
	time_t now = when_now();
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	set(f, "messageId", h->id);
	if (h->kind_status) {
		/* A receipt: msisdn the recipient, to our sender. */
		set(f, "msisdn", bare(h->to));
		set(f, "to", bare(h->from));
		set(f, "network-code", "12345");
		set(f, "price", "0.00570000");
		set(f, "status", word(h->status));
		set(f, "scts", "2612061200");
		set(f, "err-code", h->error ? h->error : "0");
	} else {
		set(f, "msisdn", bare(h->from));
		set(f, "to", bare(h->to));
		set(f, "text", h->body);
		set(f, "type", "text");
		set(f, "keyword", "X");
	}
	set(f, "api-key", key && *key ? key : "abcd1234");
	set(f, "message-timestamp", keep(strdup(stamp)));
}

/* --- One webhook -------------------------------------------------------- */

static int
form_webhook(const struct hook *h, struct buf *out)
{
	struct fields f = { .n = 0 };
	struct buf body = { 0 };
	struct form parsed;
	struct errbuf e;
	char sig[129], n[64], ts[32];
	const char *method;

	if (provider == TWILIO)
		twilio_fields(&f, h);
	else if (provider == PLIVO)
		plivo_fields(&f, h);
	else
		vonage_fields(&f, h);
	for (int i = 0; i < h->nraw; i++)
		set(&f, h->raw[i].name, h->raw[i].value);
	if (provider == VONAGE) {
		snprintf(ts, sizeof ts, "%lld", (long long)when_now());
		nonce(n, sizeof n);
		set(&f, "timestamp", ts);
		set(&f, "nonce", n);
	}
	encode(&body, &f);
	if (body.err || form_parse(&parsed, body.p ? body.p : "", body.len,
	    &e) < 0) {
		fprintf(stderr, "hook: %s\n", body.err ? "out of memory" :
		    e.msg);
		return -1;
	}
	option(out, "url", url, strlen(url));
	switch (provider) {
	case TWILIO:
		if (twilio_signature(need_env("TWILIO_AUTH_TOKEN"),
		    signed_for, &parsed, sig) < 0)
			goto fail;
		header(out, "X-Twilio-Signature", sig);
		break;
	case PLIVO:
		nonce(n, sizeof n);
		if (plivo_signature(need_env("PLIVO_AUTH_TOKEN"), "POST",
		    signed_for, n, &parsed, sig) < 0)
			goto fail;
		header(out, "X-Plivo-Signature-V3", sig);
		header(out, "X-Plivo-Signature-V3-Nonce", n);
		break;
	case VONAGE:
		method = getenv("VONAGE_SIGNATURE_METHOD");
		if (vonage_signature(need_env("VONAGE_SIGNATURE_SECRET"),
		    method && *method ? method : "md5hash", &parsed, sig) < 0)
			goto fail;
		buf_adds(&body, "&sig=");
		buf_adds(&body, sig);
		break;
	}
	form_free(&parsed);
	option(out, "data-raw", body.p ? body.p : "", body.len);
	buf_free(&body);
	return 0;
fail:
	perror("hook: signing");
	form_free(&parsed);
	buf_free(&body);
	return -1;
}

static int
telnyx_webhook(const struct hook *h, struct buf *out)
{
	json_t *ev, *pl, *media, *to;
	char *body, ts[32], sig[TELNYX_SIG_B64], evid[160];
	const char *st = h->kind_status ? word(h->status) : NULL;
	long attempt = h->attempt ? atol(h->attempt) : 1;
	time_t now = when_now();
	char at[32];
	struct tm tm;

	if (h->nraw > 0) {
		fprintf(stderr, "hook: telnyx: +NAME and -NAME are for forms; "
		    "Telnyx's webhooks are JSON\n");
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000+00:00", &tm);
	to = json_pack("{s:s, s:s}", "phone_number", h->to, "status",
	    h->kind_status ? st : "webhook_delivered");
	pl = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:[o], s:i}",
	    "record_type", "message", "direction", h->kind_status ?
	    "outbound" : "inbound", "id", h->id, "type", h->nmedia ? "MMS" :
	    "SMS", "from", "phone_number", h->from, "to", to, "parts", 1);
	if (h->kind_status) {
		json_object_set_new(pl, "text", h->body ? json_string(h->body) :
		    json_null());
		json_object_set_new(pl, "errors", h->error ?
		    json_pack("[{s:s, s:s}]", "code", h->error, "title",
		    "hook's error") : json_array());
	} else {
		json_object_set_new(pl, "text", json_string(h->body ?
		    h->body : ""));
		media = json_array();
		for (int i = 0; i < h->nmedia; i++) {
			const char *bar = strchr(h->media[i], '|');
			char *u = strndup(h->media[i], bar ?
			    (size_t)(bar - h->media[i]) : strlen(h->media[i]));

			json_array_append_new(media, json_pack("{s:s, s:s?}",
			    "url", u, "content_type", bar && bar[1] ?
			    bar + 1 : NULL));
			free(u);
		}
		json_object_set_new(pl, "media", media);
		json_object_set_new(pl, "errors", json_array());
	}
	snprintf(evid, sizeof evid, "ev-%s-%s", h->id, h->kind_status ? st :
	    "received");
	ev = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}, s:{s:i, s:s}}",
	    "data", "record_type", "event", "id", evid, "event_type",
	    !h->kind_status ? "message.received" : strcmp(st, "sent") == 0 ?
	    "message.sent" : "message.finalized", "occurred_at", at,
	    "payload", pl, "meta", "attempt", (int)attempt, "delivered_to",
	    url);
	if (ev == NULL || !(body = json_dumps(ev, JSON_COMPACT))) {
		fprintf(stderr, "hook: telnyx: cannot make the event\n");
		json_decref(ev);
		return -1;
	}
	json_decref(ev);
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	if (telnyx_sign(telnyx_sk, ts, body, strlen(body), sig) < 0) {
		free(body);
		return -1;
	}
	option(out, "url", url, strlen(url));
	header(out, "Content-Type", "application/json");
	header(out, "telnyx-signature-ed25519", sig);
	header(out, "telnyx-timestamp", ts);
	option(out, "data-raw", body, strlen(body));
	free(body);
	return 0;
}

/* Read KIND and the fields into h; -1 if one is wrong (said). */
static int
parse(struct hook *h, const char *kind, char **arg, int n)
{
	memset(h, 0, sizeof *h);
	h->from = "+15551230001";
	h->to = "+15550100000";
	if (strcmp(kind, "status") == 0) {
		h->kind_status = 1;
		h->from = "+15550100000";
		h->to = "+15551230001";
	} else if (strcmp(kind, "inbound") != 0) {
		fprintf(stderr, "hook: '%s': not inbound or status\n", kind);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *a = arg[i], *eq = strchr(a, '=');

		if (a[0] == '-' && a[1] && !eq) {
			if (h->nraw < FIELDS_MAX)
				h->raw[h->nraw++] = (struct pair){ a + 1,
				    NULL };
			continue;
		}
		if (eq == NULL || eq == a) {
			fprintf(stderr, "hook: '%s': not NAME=VALUE\n", a);
			return -1;
		}
		*eq = '\0';
		if (a[0] == '+' && h->nraw < FIELDS_MAX)
			h->raw[h->nraw++] = (struct pair){ a + 1, eq + 1 };
		else if (strncmp(a, "curl.", 5) == 0 && h->ncurl < FIELDS_MAX)
			h->curl[h->ncurl++] = (struct pair){ a + 5, eq + 1 };
		else if (strcmp(a, "id") == 0)
			h->id = eq + 1;
		else if (strcmp(a, "from") == 0)
			h->from = eq + 1;
		else if (strcmp(a, "to") == 0)
			h->to = eq + 1;
		else if (strcmp(a, "body") == 0)
			h->body = eq + 1;
		else if (strcmp(a, "status") == 0)
			h->status = eq + 1;
		else if (strcmp(a, "error") == 0)
			h->error = eq + 1;
		else if (strcmp(a, "attempt") == 0)
			h->attempt = eq + 1;
		else if (strcmp(a, "profile") == 0)
			h->profile = eq + 1;
		else if (strcmp(a, "media") == 0 &&
		    h->nmedia < PROVIDER_MEDIA_MAX)
			h->media[h->nmedia++] = eq + 1;
		else {
			fprintf(stderr, "hook: '%s': no such field\n", a);
			return -1;
		}
	}
	if (h->id == NULL || (h->kind_status && h->status == NULL)) {
		fprintf(stderr, "hook: needs id=%s\n", h->kind_status ?
		    " and status=" : "");
		return -1;
	}
	if (h->profile && (!whatsapp || h->kind_status)) {
		fprintf(stderr, "hook: profile=: a WhatsApp message's only\n");
		return -1;
	}
	if (provider == VONAGE && h->nmedia) {
		fprintf(stderr, "hook: vonage: Vonage's SMS API carries no "
		    "media\n");
		return -1;
	}
	return 0;
}

static int
one(const char *kind, char **arg, int n, struct buf *out)
{
	struct hook h;
	int rc;

	if (parse(&h, kind, arg, n) < 0)
		return -1;
	rc = provider == TELNYX ? telnyx_webhook(&h, out) :
	    form_webhook(&h, out);
	for (int i = 0; rc == 0 && i < h.ncurl; i++)
		option(out, h.curl[i].name, h.curl[i].value,
		    strlen(h.curl[i].value));
	release();
	return rc;
}

/* Set provider, url and signed_for for PROVIDER at base (BASE/PROVIDER,
 * signed for sbase/PROVIDER) or at url itself; -1 for an unknown one. */
static int
use(const char *name, const char *base, const char *sbase, const char *u,
    const char *su)
{
	static char ub[1024], sb[1024];
	static int keys;
	size_t n = strcspn(name, ":");

	for (provider = 0; provider < 4; provider++)
		if (strlen(names[provider]) == n &&
		    strncmp(name, names[provider], n) == 0)
			break;
	/* A channel besides SMS: Twilio's WhatsApp. */
	whatsapp = provider == TWILIO && strcmp(name + n, ":whatsapp") == 0;
	if (provider == 4 || (name[n] && !whatsapp)) {
		fprintf(stderr, "hook: '%s': no such provider\n", name);
		return -1;
	}
	if (base) {
		/* The carrier's path: a channel comes where its SMS do. */
		snprintf(ub, sizeof ub, "%s/%s", base, names[provider]);
		snprintf(sb, sizeof sb, "%s/%s", sbase ? sbase : base,
		    names[provider]);
		u = ub;
		su = sb;
	}
	url = u;
	signed_for = su ? su : u;
	if (provider == TELNYX && !keys) {
		unsigned char pk[crypto_sign_PUBLICKEYBYTES];

		if (telnyx_keys(need_env("SMSDESK_SIM_TELNYX_SEED"), pk,
		    telnyx_sk) < 0) {
			fputs("hook: SMSDESK_SIM_TELNYX_SEED: not 64 hex "
			    "digits\n", stderr);
			exit(2);
		}
		keys = 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf out = { 0 };
	const char *sfor = NULL;
	int c, each = 0, rc = 0;

	while ((c = getopt(argc, argv, "bef:")) != -1)
		switch (c) {
		case 'b':
			body_only = 1;
			break;
		case 'e':
			each = 1;
			break;
		case 'f':
			sfor = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (each ? argc != 1 : argc < 3)
		usage();
	if (!each) {
		if (use(argv[0], NULL, NULL, argv[1], sfor) < 0)
			usage();
		if (one(argv[2], argv + 3, argc - 3, &out) < 0)
			return 1;
	} else {
		char *line = NULL, *f[FIELDS_MAX + 2];
		size_t cap = 0;
		ssize_t len;
		long lineno = 0;

		while ((len = getline(&line, &cap, stdin)) > 0) {
			int n = 0;

			lineno++;
			if (line[len - 1] == '\n')
				line[len - 1] = '\0';
			for (char *p = line, *t; n < FIELDS_MAX + 2 &&
			    (t = strsep(&p, "\t")) != NULL;)
				if (*t)
					f[n++] = t;
			if (n == 0)
				continue;
			if (out.len > 0)
				buf_adds(&out, "next\n");
			if (n < 2 || use(f[0], argv[0], sfor, NULL, NULL) < 0 ||
			    one(f[1], f + 2, n - 2, &out) < 0) {
				fprintf(stderr, "hook: stdin:%ld: the webhook "
				    "cannot be made\n", lineno);
				rc = 1;
			}
		}
		free(line);
	}
	if (out.err || fwrite(out.p, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF) {
		perror("hook: stdout");
		return 1;
	}
	buf_free(&out);
	return rc;
}
