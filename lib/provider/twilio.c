/*
 * twilio.c: Twilio, both directions: its webhooks (signatures, parsing,
 * TwiML answers) and its REST API (the account, sending, fetching and
 * listing messages), as providers.md section 1 gives them.
 *
 * The webhooks.
 *
 * Twilio signs a request with X-Twilio-Signature: base64 of HMAC-SHA1,
 * keyed by the account's auth token, over the URL it requested followed
 * by the POST parameters, each name then value, sorted in byte order. A
 * GET has its parameters in the URL already and appends nothing. A JSON
 * body is signed through the URL alone, which then carries bodySHA256,
 * the hex SHA-256 of the raw body, checked here too. Twilio's own
 * validator accepts the URL written with or without the scheme's default
 * port, because what Twilio signs depends on how the URL was configured;
 * we do the same and try both. The query is never reordered or re-encoded:
 * it is signed as written. libsodium has no SHA-1, so the HMAC comes from
 * libcrypto; the comparison is libsodium's constant-time one.
 *
 * An inbound message and a status callback arrive as the same kind of
 * form; a status callback is the one with MessageStatus. The answer to
 * either is TwiML: an empty <Response> says "no reply".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "provider.h"
#include "record.h"
#include "utf8.h"
#include "when.h"

#define SIG_LEN 28		/* base64 of a 20-byte SHA-1 MAC */
#define TWIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TWIML_TAIL "</Response>"

/*
 * Append f's pairs to s as Twilio's validator does: sorted by name, a
 * repeated name's values sorted, an exact duplicate pair once.
 */
static int
add_params(struct buf *s, const struct form *f)
{
	const struct form_pair **v, *prev = NULL;

	if (f == NULL || f->n == 0)
		return 0;
	if (!(v = malloc(f->n * sizeof *v)))
		return -1;
	for (size_t i = 0; i < f->n; i++)
		v[i] = &f->pairs[i];
	qsort(v, f->n, sizeof *v, form_pair_cmp);
	for (size_t i = 0; i < f->n; i++) {
		if (prev && form_pair_cmp(&prev, &v[i]) == 0)
			continue;
		buf_add(s, v[i]->name, v[i]->name_len);
		buf_add(s, v[i]->value, v[i]->value_len);
		prev = v[i];
	}
	free(v);
	return s->err ? -1 : 0;
}

int
twilio_signature(const char *token, const char *url, const struct form *f,
    char out[29])
{
	struct buf s = { 0 };
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t toklen = strlen(token);
	int r = -1;

	if (buf_adds(&s, url) < 0 || add_params(&s, f) < 0) {
		errno = ENOMEM;
		goto done;
	}
	if (toklen > 1024 || !HMAC(EVP_sha1(), token, (int)toklen,
	    (const unsigned char *)s.p, s.len, mac, &maclen) || maclen != 20) {
		errno = EINVAL;
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)out, mac, 20);
	r = 0;
done:
	sodium_memzero(mac, sizeof mac);
	buf_free(&s);
	return r;
}

/*
 * The other spelling of url that Twilio's validator also accepts: without
 * its port if that is the scheme's default, or with the default port if
 * it has none. Returns 1 with the spelling in alt, 0 if there is none
 * (another scheme, or another port), -1 on ENOMEM.
 */
static int
other_spelling(const char *url, struct buf *alt)
{
	const char *dport, *auth, *end, *host, *colon = NULL;

	if (strncasecmp(url, "https://", 8) == 0)
		dport = "443", auth = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		dport = "80", auth = url + 7;
	else
		return 0;
	end = auth + strcspn(auth, "/?#");
	host = auth;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (*host == '[')
		host = memchr(host, ']', (size_t)(end - host));
	for (const char *p = host ? host : end; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL) {
		buf_add(alt, url, (size_t)(end - url));
		buf_addc(alt, ':');
		buf_adds(alt, dport);
	} else if ((size_t)(end - colon - 1) == strlen(dport) &&
	    memcmp(colon + 1, dport, strlen(dport)) == 0) {
		buf_add(alt, url, (size_t)(colon - url));
	} else {
		return 0;
	}
	buf_adds(alt, end);
	buf_addc(alt, '\0');
	return alt->err ? -1 : 1;
}

/* The media type of a Content-Type value is application/json. */
static int
is_json(const char *ctype)
{
	size_t n;

	if (ctype == NULL)
		return 0;
	ctype += strspn(ctype, " \t");
	n = strcspn(ctype, "; \t");
	return n == 16 && strncasecmp(ctype, "application/json", n) == 0;
}

/*
 * The value of the first bodySHA256 parameter in url's query, as
 * written; *n gets its length. NULL if there is none.
 */
static const char *
body_hash_param(const char *url, size_t *n)
{
	const char *p = strchr(url, '?'), *end;

	if (p == NULL)
		return NULL;
	end = p + strcspn(p, "#");
	while (p < end) {
		const char *next;

		p++;
		next = p + strcspn(p, "&#");
		if (next - p >= 11 && memcmp(p, "bodySHA256=", 11) == 0) {
			*n = (size_t)(next - p - 11);
			return p + 11;
		}
		p = next;
	}
	return NULL;
}

static int
check_body_hash(const struct webhook_request *rq, struct errbuf *e)
{
	unsigned char want[crypto_hash_sha256_BYTES];
	unsigned char got[crypto_hash_sha256_BYTES];
	const char *hex, *hex_end;
	size_t n, binlen;

	if (!(hex = body_hash_param(rq->url, &n))) {
		errno = EINVAL;
		return errf(e, "JSON body, but no bodySHA256 in the URL");
	}
	if (n != 2 * sizeof want ||
	    sodium_hex2bin(want, sizeof want, hex, n, NULL, &binlen,
	    &hex_end) < 0 || binlen != sizeof want || hex_end != hex + n) {
		errno = EINVAL;
		return errf(e, "bodySHA256 in the URL is not a SHA-256 in hex");
	}
	crypto_hash_sha256(got, (const unsigned char *)rq->body,
	    rq->body_len);
	if (sodium_memcmp(got, want, sizeof want) != 0) {
		errno = EACCES;
		return errf(e, "body does not match bodySHA256");
	}
	return 0;
}

static int
twilio_verify(const char *token, const struct webhook_request *rq,
    struct errbuf *e)
{
	const char *sig = rq->sig[0];
	const struct form *params = NULL;
	struct buf alt = { 0 };
	char want[SIG_LEN + 1];
	int nalt, match = 0;

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return errf(e, "cannot initialise libsodium");
	}
	if (token == NULL || *token == '\0') {
		errno = EINVAL;
		return errf(e, "no auth token to check signatures with");
	}
	if (rq->url == NULL || *rq->url == '\0') {
		errno = EINVAL;
		return errf(e, "no public URL to check signatures against");
	}
	if (sig == NULL) {
		errno = EINVAL;
		return errf(e, "missing X-Twilio-Signature header");
	}
	if (rq->method && strcmp(rq->method, "GET") == 0) {
		params = NULL;	/* they are in the URL, signed with it */
	} else if (is_json(rq->content_type)) {
		if (check_body_hash(rq, e) < 0)
			return -1;
	} else if (rq->form == NULL) {
		errno = EINVAL;
		return errf(e, "POST without form parameters");
	} else {
		params = rq->form;
	}
	if ((nalt = other_spelling(rq->url, &alt)) < 0)
		goto nomem;
	/* Both spellings are always computed, so timing tells nothing. */
	if (twilio_signature(token, rq->url, params, want) < 0)
		goto nomem;
	match |= strlen(sig) == SIG_LEN &&
	    sodium_memcmp(want, sig, SIG_LEN) == 0;
	if (nalt) {
		if (twilio_signature(token, alt.p, params, want) < 0)
			goto nomem;
		match |= strlen(sig) == SIG_LEN &&
		    sodium_memcmp(want, sig, SIG_LEN) == 0;
	}
	buf_free(&alt);
	if (!match) {
		errno = EACCES;
		return errf(e, "X-Twilio-Signature does not match");
	}
	return 0;
nomem:
	buf_free(&alt);
	errno = ENOMEM;
	return errf(e, "%s", strerror(ENOMEM));
}

/* A decimal count of at most 4 digits, else 0 (unknown). */
static int
count(const char *s)
{
	int v = 0;

	if (s == NULL || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 4)
		return 0;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v;
}

/*
 * 0 if no parameter of f, read or not, holds a NUL in its name or value
 * (sms-recv(1) refuses a request with one); else -1, EINVAL, naming it
 * when its name is plain ASCII.
 */
static int
no_nul(const struct form *f, struct errbuf *e)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct form_pair *fp = &f->pairs[i];
		size_t plain = strspn(fp->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_-");

		if (strlen(fp->value) == fp->value_len &&
		    strlen(fp->name) == fp->name_len)
			continue;
		errno = EINVAL;
		if (plain == fp->name_len && plain > 0 && plain <= 64)
			return errf(e, "%s: holds a NUL byte", fp->name);
		return errf(e, "a parameter holds a NUL byte");
	}
	return 0;
}

/*
 * The media of a message: NumMedia=N (absent: none) gives N items, each a
 * MediaUrl{i} (required, not empty) and a MediaContentType{i} (optional).
 * Returns 0, or -1 with errno EINVAL and e naming the field.
 */
static int
media(const struct form *f, struct webhook_event *ev, struct errbuf *e)
{
	const char *n;
	char name[32];
	size_t len;

	if (form_field(f, "NumMedia", 0, &n, e) < 0)
		return -1;
	if (n == NULL)
		return 0;
	len = strlen(n);
	if (len == 0 || len > 2 || strspn(n, "0123456789") != len ||
	    (ev->num_media = atoi(n)) > PROVIDER_MEDIA_MAX) {
		ev->num_media = 0;
		errno = EINVAL;
		return errf(e, "NumMedia: '%.32s' is no count from 0 to %d", n,
		    PROVIDER_MEDIA_MAX);
	}
	for (int i = 0; i < ev->num_media; i++) {
		snprintf(name, sizeof name, "MediaUrl%d", i);
		if (form_field(f, name, 1, &ev->media[i].url, e) < 0)
			return -1;
		snprintf(name, sizeof name, "MediaContentType%d", i);
		if (form_field(f, name, 0, &ev->media[i].content_type, e) < 0)
			return -1;
	}
	return 0;
}

/*
 * WhatsApp through Twilio: the same webhooks, with From and To written
 * "whatsapp:+E164". The channel is noted and the address kept as its
 * number, so that the customer's one conversation holds both.
 */
#define WHATSAPP "whatsapp:"

static void
channel(struct webhook_event *ev)
{
	size_t n = sizeof WHATSAPP - 1;

	if (ev->from && strncmp(ev->from, WHATSAPP, n) == 0) {
		ev->channel = "whatsapp";
		ev->from += n;
	}
	if (ev->to && strncmp(ev->to, WHATSAPP, n) == 0) {
		ev->channel = "whatsapp";
		ev->to += n;
	}
}

static int
twilio_parse(const struct webhook_request *rq, struct webhook_event *ev,
    struct errbuf *e)
{
	const struct form *f = rq->form;
	const struct form_pair *body;
	const char *segs;

	memset(ev, 0, sizeof *ev);
	if (f == NULL) {
		errno = EINVAL;
		return errf(e, "not a form: Twilio messaging webhooks are "
		    "form-encoded");
	}
	ev->form = f;
	ev->body = "";
	if (form_field(f, "MessageSid", 1, &ev->id, e) < 0)
		return -1;
	if (form_find(f, "MessageStatus")) {
		ev->kind = WEBHOOK_STATUS;
		if (form_field(f, "MessageStatus", 1, &ev->status, e) < 0 ||
		    form_field(f, "ErrorCode", 0, &ev->error_code, e) < 0 ||
		    form_field(f, "From", 0, &ev->from, e) < 0 ||
		    form_field(f, "To", 0, &ev->to, e) < 0)
			return -1;
		channel(ev);
		return no_nul(f, e);
	}
	ev->kind = WEBHOOK_MESSAGE;
	if (form_field(f, "From", 1, &ev->from, e) < 0 ||
	    form_field(f, "To", 1, &ev->to, e) < 0 ||
	    form_field(f, "NumSegments", 0, &segs, e) < 0 ||
	    form_field(f, "OptOutType", 0, &ev->optout_type, e) < 0 ||
	    form_field(f, "SmsStatus", 0, &ev->status, e) < 0 ||
	    form_field(f, "ProfileName", 0, &ev->profile_name, e) < 0 ||
	    media(f, ev, e) < 0)
		return -1;
	channel(ev);
	if (ev->status == NULL)
		ev->status = "received";
	/* Stored whole or not at all: no_nul() refuses a Body with a NUL. */
	if (no_nul(f, e) < 0)
		return -1;
	if ((body = form_find(f, "Body")) != NULL) {
		ev->body = body->value;
		ev->body_len = body->value_len;
	}
	ev->num_segments = count(segs);
	return 0;
}

static int
twilio_reply(const char *text, size_t len, struct buf *out,
    const char **content_type, struct errbuf *e)
{
	size_t mark = out->len;

	*content_type = "text/xml";
	buf_addlit(out, TWIML_HEAD);
	if (text && len > 0) {
		buf_addlit(out, "<Message>");
		if (provider_xml(out, text, len, 0, "TwiML", e) < 0) {
			out->len = mark;
			return -1;
		}
		buf_addlit(out, "</Message>");
	}
	buf_addlit(out, TWIML_TAIL);
	if (out->err) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	return 0;
}

/*
 * Twilio's error codes by class (providers.md section 3): the API's 2xxxx
 * and the delivery reports' 3xxxx. Whatever is not listed is permanent,
 * or transient for a 5xx answer.
 */
static const char *
twilio_error_class(long http, const char *code)
{
	static const struct provider_code known[] = {
		{ 20003, "auth" },		/* authentication failed */
		{ 20429, "throttled" },		/* too many requests */
		{ 21211, "invalid_recipient" },	/* invalid To number */
		{ 21604, "invalid_recipient" },	/* To is required */
		{ 21610, "opted_out" },		/* recipient replied STOP */
		{ 21614, "invalid_recipient" },	/* To is not a mobile number */
		{ 30001, "throttled" },		/* queue overflow */
		{ 30003, "transient" },		/* handset unreachable */
		{ 30005, "invalid_recipient" },	/* unknown handset */
		{ 30006, "invalid_recipient" },	/* landline, or no carrier */
	};

	return provider_classify(known, sizeof known / sizeof *known, http,
	    code);
}

/* --- The REST API ------------------------------------------------------ */

/*
 * The account: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or an API key
 * (TWILIO_API_KEY and TWILIO_API_SECRET) in its stead, as Twilio's own
 * tools read them; the sender, TWILIO_FROM or a Messaging Service
 * (TWILIO_MESSAGING_SERVICE_SID); TWILIO_API_URL for a simulator. Each
 * has its name in the configuration too (smsdesk-config(5)).
 */
#define API_URL "https://api.twilio.com"
#define WEBHOOK_PATH "/twilio"

static int
twilio_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	const char *token, *key, *secret;

	a->account = config_pick(cfg, NULL, "TWILIO_ACCOUNT_SID",
	    "twilio_account_sid", NULL);
	token = config_pick(cfg, NULL, "TWILIO_AUTH_TOKEN",
	    "twilio_auth_token", NULL);
	key = config_pick(cfg, NULL, "TWILIO_API_KEY", "twilio_api_key",
	    NULL);
	secret = config_pick(cfg, NULL, "TWILIO_API_SECRET",
	    "twilio_api_secret", NULL);
	a->from = config_pick(cfg, from, "TWILIO_FROM", "twilio_from",
	    provider_from(a, cfg));
	a->service = config_pick(cfg, service,
	    "TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid",
	    NULL);
	provider_sender(a, from, service);
	a->base = config_pick(cfg, NULL, "TWILIO_API_URL", "twilio_api_url",
	    API_URL);
	if (key && *key && secret && *secret) {
		a->user = key;
		a->pass = secret;
	} else {
		a->user = a->account;
		a->pass = token;
	}
	if (provider_callback(a, cfg, WEBHOOK_PATH, e) < 0)
		return -1;
	if (!need)
		return 0;
	errno = EINVAL;
	if (!a->account || !*a->account)
		return errf(e, "no Twilio account: set TWILIO_ACCOUNT_SID, or "
		    "twilio_account_sid in the config");
	if (!a->pass || !*a->pass)
		return errf(e, "no Twilio credentials: set TWILIO_AUTH_TOKEN "
		    "(or TWILIO_API_KEY and TWILIO_API_SECRET), or "
		    "twilio_auth_token in the config");
	if (!a->from && !a->service)
		return errf(e, "no sender: give --from or --messaging-service, "
		    "or set TWILIO_FROM, or from in the config");
	return 0;
}

/* The account's Messages resource, then suffix. */
static void
messages_url(const struct provider_account *a, struct provider_http *rq,
    const char *id, const char *suffix)
{
	buf_adds(&rq->url, a->base);
	buf_addlit(&rq->url, "/2010-04-01/Accounts/");
	form_add(&rq->url, a->account, strlen(a->account));
	buf_addlit(&rq->url, "/Messages");
	if (id) {
		buf_addc(&rq->url, '/');
		form_add(&rq->url, id, strlen(id));
	}
	buf_adds(&rq->url, suffix);
	buf_addc(&rq->url, '\0');
	rq->user = a->user;
	rq->pass = a->pass;
}

static void
param(struct buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	form_add(b, value, strlen(value));
}

static int
twilio_send_request(const struct provider_account *a, const json_t *msg,
    struct provider_http *rq)
{
	const char *to = record_str(msg, "to");
	const char *body = record_str(msg, "body"), *url;
	const json_t *item;
	size_t i;

	const char *ch = record_str(msg, "channel");
	const char *sid = record_str(msg, "content_sid");
	int wa = ch && strcmp(ch, "whatsapp") == 0;
	char addr[sizeof WHATSAPP + PROVIDER_ID_MAX];

	messages_url(a, rq, NULL, ".json");
	rq->post = 1;
	rq->content_type = "application/x-www-form-urlencoded";
	/* WhatsApp: the same API, the addresses written whatsapp:+E164. */
	snprintf(addr, sizeof addr, "%s%s", wa ? WHATSAPP : "", to ? to : "");
	param(&rq->body, "To", addr);
	if (a->from) {
		snprintf(addr, sizeof addr, "%s%s", wa ? WHATSAPP : "",
		    a->from);
		param(&rq->body, "From", addr);
	} else {
		param(&rq->body, "MessagingServiceSid", a->service ?
		    a->service : "");
	}
	/* A template (WhatsApp outside its 24 hours): its SID, not a body. */
	if (wa && sid) {
		param(&rq->body, "ContentSid", sid);
		if (record_str(msg, "content_variables"))
			param(&rq->body, "ContentVariables",
			    record_str(msg, "content_variables"));
	} else {
		param(&rq->body, "Body", body ? body : "");
	}
	/* Repeated keys, as Twilio's own libraries send an array. */
	json_array_foreach(json_object_get(msg, "media"), i, item)
		if ((url = record_str(item, "url")))
			param(&rq->body, "MediaUrl", url);
	if (a->callback)
		param(&rq->body, "StatusCallback", a->callback);
	buf_addc(&rq->body, '\0');
	if (rq->url.err || rq->body.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Copy a JSON string value f, as record_pick() found it, to out if it
 * has no escapes and fits; 0 if not. */
static int
plain_str(const struct record_field *f, char *out, size_t n)
{
	if (!f->val || f->len < 2 || f->val[0] != '"' || f->len - 2 >= n ||
	    memchr(f->val, '\\', f->len))
		return 0;
	memcpy(out, f->val + 1, f->len - 2);
	out[f->len - 2] = '\0';
	return 1;
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/*
 * The answer to a create: 200 or 201 with the message's sid and status
 * (read without a parse tree when jansson would read the same strings:
 * record_pick()); 429, or 503 with a Retry-After, to ask again; another
 * 5xx may have been processed; the rest refused, with Twilio's code and
 * message.
 */
static void
twilio_send_answer(long http, double retry_after, const char *body,
    size_t len, struct provider_answer *an)
{
	struct record_field f[2] = { { .key = "sid" }, { .key = "status" } };
	json_t *resp;
	char code[32];

	memset(an, 0, sizeof *an);
	if ((http == 200 || http == 201) && body &&
	    record_pick(body, len, f, 2) == 1 &&
	    plain_str(&f[0], an->id, sizeof an->id) &&
	    plain_str(&f[1], an->status, sizeof an->status)) {
		an->outcome = PROVIDER_TAKEN;
		return;
	}
	resp = json_loadb(body ? body : "", len, 0, NULL);
	if (http == 200 || http == 201) {
		const char *sid = record_str(resp, "sid");
		const char *st = record_str(resp, "status");

		if (sid && st && strlen(sid) <= PROVIDER_ID_MAX) {
			an->outcome = PROVIDER_TAKEN;
			copy(an->id, sizeof an->id, sid);
			copy(an->status, sizeof an->status, st);
		} else {
			an->outcome = PROVIDER_UNKNOWN;
			an->class = "unknown";
			copy(an->message, sizeof an->message,
			    "the answer has no sid");
		}
		json_decref(resp);
		return;
	}
	an->code = json_integer_value(json_object_get(resp, "code"));
	copy(an->message, sizeof an->message, record_str(resp, "message"));
	snprintf(code, sizeof code, "%lld", an->code);
	an->class = twilio_error_class(http, an->code ? code : NULL);
	if (http == 429 || (http == 503 && retry_after > 0))
		an->outcome = PROVIDER_RETRY;
	else if (http >= 500) {
		/* May have been processed: never sent blindly again. */
		an->outcome = PROVIDER_UNKNOWN;
		an->class = "unknown";
	} else
		an->outcome = PROVIDER_FAILED;
	json_decref(resp);
}

static int
twilio_fetch_request(const struct provider_account *a, const char *id,
    struct provider_http *rq)
{
	messages_url(a, rq, id, ".json");
	if (rq->url.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int
twilio_list_request(const struct provider_account *a, const char *to,
    const char *channel, struct provider_http *rq)
{
	messages_url(a, rq, NULL, ".json?PageSize=1000&To=");
	rq->url.len--;			/* the NUL */
	/* A WhatsApp message is listed by its address, whatsapp:+E164. */
	if (channel && strcmp(channel, "whatsapp") == 0)
		form_add(&rq->url, WHATSAPP, sizeof WHATSAPP - 1);
	form_add(&rq->url, to, strlen(to));
	buf_addc(&rq->url, '\0');
	if (rq->url.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * Every message of the account sent on or after the day of since, both
 * directions (providers.md 1.3): DateSent> is "on or after", in GMT, a
 * date; the '>' URL-encoded.
 */
static int
twilio_poll_request(const struct provider_account *a, time_t since,
    unsigned page_size, struct provider_http *rq)
{
	char day[48];
	struct tm tm;

	if (page_size == 0 || page_size > 1000)
		page_size = 1000;
	gmtime_r(&since, &tm);
	snprintf(day, sizeof day, "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	messages_url(a, rq, NULL, ".json?PageSize=");
	rq->url.len--;			/* the NUL */
	buf_addu(&rq->url, page_size);
	buf_addlit(&rq->url, "&DateSent%3E=");
	buf_adds(&rq->url, day);
	buf_addc(&rq->url, '\0');
	if (rq->url.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Twilio's "Thu, 24 Aug 2023 05:01:45 +0000", or -1. */
static time_t
rfc2822(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], iso[32];
	int d, y, h, m, sec;
	const char *at;
	time_t t;

	if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &h, &m,
	    &sec) != 6 || !(at = strstr(months, mon)) || (at - months) % 3)
		return -1;
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
	    (int)(at - months) / 3 + 1, d, h, m, sec);
	return when_parse(iso, &t, NULL) == 0 ? t : -1;
}

/* The number of an address, which on WhatsApp is whatsapp:+E164; NULL
 * stays NULL. */
static const char *
number(const char *address)
{
	size_t n = sizeof WHATSAPP - 1;

	return address && strncmp(address, WHATSAPP, n) == 0 ? address + n :
	    address;
}

/* A message resource in the toolkit's words (provider.h), or NULL. */
static json_t *
message(const json_t *m)
{
	json_int_t code = json_integer_value(json_object_get(m,
	    "error_code"));
	json_t *out, *err = json_null();
	const char *dir;
	char text[32];

	if (!record_str(m, "sid"))
		return NULL;
	if (code) {
		snprintf(text, sizeof text, "%lld", (long long)code);
		err = json_pack("{s:s, s:I}", "code",
		    twilio_error_class(0, text), "provider_code", code);
		if (err && record_str(m, "error_message"))
			json_object_set_new(err, "message", json_string(
			    record_str(m, "error_message")));
	}
	dir = record_str(m, "direction");
	out = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:o?, s:s?, s:I}",
	    "id", record_str(m, "sid"), "status", record_str(m, "status"),
	    "to", number(record_str(m, "to")), "from",
	    number(record_str(m, "from")),
	    "body", record_str(m, "body"),
	    "created", (json_int_t)rfc2822(record_str(m, "date_created")),
	    "error", err, "direction", !dir ? NULL : strcmp(dir, "inbound")
	    == 0 ? "in" : "out",
	    "sent", (json_int_t)rfc2822(record_str(m, "date_sent")));
	/* The channel, which on WhatsApp the addresses say. */
	if (out && number(record_str(m, "from")) != record_str(m, "from"))
		json_object_set_new(out, "channel", json_string("whatsapp"));
	/* num_segments is a string ("0" while a service picks a sender). */
	if (out && record_str(m, "num_segments"))
		json_object_set_new(out, "segments", json_integer(atoi(
		    record_str(m, "num_segments"))));
	return out;
}

static int
twilio_read_messages(const struct provider_account *a, long http,
    const char *body, size_t len, json_t *out, struct provider_http *next,
    struct errbuf *e)
{
	json_t *resp, *list, *m, *one;
	const char *uri;
	size_t i;

	if (http == 404 && !next) {
		/* Gone: Twilio's code for it (20404) is kept. */
		resp = json_loadb(body ? body : "", len, 0, NULL);
		one = json_pack("{s:s, s:I}", "code", "not_found",
		    "provider_code", json_integer_value(json_object_get(resp,
		    "code")));
		if (one)
			json_array_append_new(out, one);
		json_decref(resp);
		return 0;
	}
	if (http != 200) {
		errno = http == 401 ? EACCES : EIO;
		return errf(e, "HTTP error");
	}
	resp = json_loadb(body ? body : "", len, 0, NULL);
	if (!next) {
		if (!(one = message(resp))) {
			json_decref(resp);
			errno = EIO;
			return errf(e, "the answer is not a message");
		}
		json_array_append_new(out, one);
		json_decref(resp);
		return 1;
	}
	provider_http_free(next);
	if (!json_is_object(resp)) {
		json_decref(resp);
		errno = EIO;
		return errf(e, "the message list is not JSON");
	}
	list = json_object_get(resp, "messages");
	json_array_foreach(list, i, m)
		if ((one = message(m)))
			json_array_append_new(out, one);
	if ((uri = record_str(resp, "next_page_uri"))) {
		buf_adds(&next->url, a->base);
		buf_adds(&next->url, uri);
		buf_addc(&next->url, '\0');
		next->user = a->user;
		next->pass = a->pass;
	}
	json_decref(resp);
	return 1;
}

/*
 * What Twilio takes as MMS media (its "accepted content types"): JPEG,
 * PNG and GIF up to 5 MB, which it resizes for the handset; the other
 * types it passes on up to 500 KB.
 */
static const struct provider_media_type twilio_media[] = {
	{ "image/jpeg", 5 * 1024 * 1024 },
	{ "image/png", 5 * 1024 * 1024 },
	{ "image/gif", 5 * 1024 * 1024 },
	{ "video/mp4", 500 * 1024 },
	{ "video/3gpp", 500 * 1024 },
	{ "audio/amr", 500 * 1024 },
	{ "application/pdf", 500 * 1024 },
	{ "text/vcard", 500 * 1024 },
	{ "text/plain", 500 * 1024 },
	{ NULL, 0 },
};

/*
 * What Twilio takes as WhatsApp media (its "Guidance on WhatsApp Media
 * Messages"): images (JPEG, PNG, WebP) up to 5 MB; audio, video, PDF and
 * the Office documents, and a vCard, up to the message's 16 MB. One item
 * a message: WhatsApp's messages carry one medium each, the Body its
 * caption.
 */
#define MB (1024LL * 1024)
static const struct provider_media_type twilio_wa_media[] = {
	{ "image/jpeg", 5 * MB },
	{ "image/png", 5 * MB },
	{ "image/webp", 5 * MB },
	{ "audio/ogg", 16 * MB },
	{ "audio/amr", 16 * MB },
	{ "audio/3gpp", 16 * MB },
	{ "audio/aac", 16 * MB },
	{ "audio/mpeg", 16 * MB },
	{ "video/mp4", 16 * MB },
	{ "application/pdf", 16 * MB },
	{ "application/msword", 16 * MB },
	{ "application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document", 16 * MB },
	{ "application/vnd.openxmlformats-officedocument."
	    "presentationml.presentation", 16 * MB },
	{ "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet", 16 * MB },
	{ "text/vcard", 16 * MB },
	{ NULL, 0 },
};

const struct provider provider_twilio = {
	.name = "twilio",
	.sig_headers = { "X-Twilio-Signature", NULL },
	.webhook_path = WEBHOOK_PATH,
	.secret_env = "TWILIO_AUTH_TOKEN",
	.secret_key = "twilio_auth_token",
	.verify = twilio_verify,
	.parse = twilio_parse,
	.reply = twilio_reply,
	.replies = 1,
	.whatsapp = 1,
	.error_class = twilio_error_class,
	.max_chars = 1600,
	.max_media = 10,
	.media_total = 5 * 1024 * 1024,
	.media_types = twilio_media,
	.wa_max_media = 1,
	.wa_media_total = 16 * MB,
	.wa_media_types = twilio_wa_media,
	.service_prefix = "MG",
	.account = twilio_account,
	.send_request = twilio_send_request,
	.send_answer = twilio_send_answer,
	.fetch_request = twilio_fetch_request,
	.list_request = twilio_list_request,
	.poll_request = twilio_poll_request,
	.read_messages = twilio_read_messages,
};
