/*
 * plivo.c: Plivo, both directions: its webhooks (V3 signatures, inbound
 * messages and status callbacks, Plivo XML answers) and its Message API
 * (the account, sending, fetching and listing messages), as providers.md
 * section 4 and Plivo's documentation give them.
 *
 * The webhooks.
 *
 * Plivo signs a request with X-Plivo-Signature-V3: base64 of HMAC-SHA256,
 * keyed by the auth token, over a base string and then "." and the nonce
 * of X-Plivo-Signature-V3-Nonce. The base string is the URL without its
 * query (scheme://host[:port]/path, as configured); for a POST, if the URL
 * has a query or the body has parameters, "?" and the query's parameters
 * sorted as name=value joined by "&", then "." if there are both, then the
 * body's parameters sorted by name and value as name then value with no
 * separator. A GET has only "?" and its query's parameters, if any. The
 * header may hold several signatures separated by commas: any one that
 * matches will do. Every one is compared, in constant time.
 *
 * An inbound message and a status callback are forms; a status callback
 * is the one with Status. Plivo writes numbers without "+": parse() gives
 * them in E.164 where they are numbers (a short code stays as it came).
 * The answer to either is Plivo XML: an empty <Response> says "no reply";
 * a reply is a <Message> from the number the message came to, to the one
 * it came from (reply_to).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "phone.h"
#include "provider.h"
#include "record.h"
#include "utf8.h"
#include "when.h"

#define SIG_LEN 44		/* base64 of a 32-byte SHA-256 MAC */
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define XML_TAIL "</Response>"

/*
 * Append f's pairs to s sorted by name then value: "name=value" joined
 * by "&" if query, else name then value with nothing between.
 */
static int
add_sorted(struct buf *s, const struct form *f, int query)
{
	const struct form_pair **v;

	if (f == NULL || f->n == 0)
		return 0;
	if (!(v = malloc(f->n * sizeof *v)))
		return -1;
	for (size_t i = 0; i < f->n; i++)
		v[i] = &f->pairs[i];
	qsort(v, f->n, sizeof *v, form_pair_cmp);
	for (size_t i = 0; i < f->n; i++) {
		if (query && i > 0)
			buf_addc(s, '&');
		buf_add(s, v[i]->name, v[i]->name_len);
		if (query)
			buf_addc(s, '=');
		buf_add(s, v[i]->value, v[i]->value_len);
	}
	free(v);
	return s->err ? -1 : 0;
}

int
plivo_signature(const char *token, const char *method, const char *url,
    const char *nonce, const struct form *body, char out[45])
{
	struct buf s = { 0 };
	struct form query = { 0 };
	struct errbuf pe;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t toklen = strlen(token), cut = strcspn(url, "?#");
	int get = method && strcmp(method, "GET") == 0, r = -1;

	if (url[cut] == '?') {
		const char *q = url + cut + 1;

		if (form_parse(&query, q, strcspn(q, "#"), &pe) < 0) {
			errno = EINVAL;
			goto done;
		}
	}
	if (get)
		body = NULL;	/* a GET's parameters are its query */
	buf_add(&s, url, cut);
	if (query.n || (body && body->n))
		buf_addc(&s, '?');
	if (add_sorted(&s, &query, 1) < 0)
		goto nomem;
	if (query.n && body && body->n)
		buf_addc(&s, '.');
	if (add_sorted(&s, body, 0) < 0)
		goto nomem;
	buf_addc(&s, '.');
	buf_adds(&s, nonce);
	if (s.err)
		goto nomem;
	if (toklen > 1024 || !HMAC(EVP_sha256(), token, (int)toklen,
	    (const unsigned char *)s.p, s.len, mac, &maclen) ||
	    maclen != 32) {
		errno = EINVAL;
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
	r = 0;
	goto done;
nomem:
	errno = ENOMEM;
done:
	sodium_memzero(mac, sizeof mac);
	form_free(&query);
	buf_free(&s);
	return r;
}

static int
plivo_verify(const char *token, const struct webhook_request *rq,
    struct errbuf *e)
{
	const char *sig = rq->sig[0], *nonce = rq->sig[1], *p;
	char want[SIG_LEN + 1];
	int match = 0;

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return errf(e, "cannot initialise libsodium");
	}
	errno = EINVAL;
	if (token == NULL || *token == '\0')
		return errf(e, "no auth token to check signatures with");
	if (rq->url == NULL || *rq->url == '\0')
		return errf(e, "no public URL to check signatures against");
	if (sig == NULL)
		return errf(e, "missing X-Plivo-Signature-V3 header");
	if (nonce == NULL || *nonce == '\0')
		return errf(e, "missing X-Plivo-Signature-V3-Nonce header");
	if ((!rq->method || strcmp(rq->method, "GET") != 0) &&
	    rq->form == NULL)
		return errf(e, "POST without form parameters");
	if (plivo_signature(token, rq->method, rq->url, nonce, rq->form,
	    want) < 0) {
		if (errno == ENOMEM)
			return errf(e, "%s", strerror(ENOMEM));
		errno = EINVAL;
		return errf(e, "the URL's query is not a form");
	}
	/* Every signature of the list is compared: timing tells nothing. */
	for (p = sig;; p++) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		match |= n == SIG_LEN && sodium_memcmp(want, p, SIG_LEN) == 0;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
	}
	sodium_memzero(want, sizeof want);
	if (!match) {
		errno = EACCES;
		return errf(e, "X-Plivo-Signature-V3 does not match");
	}
	return 0;
}

/* 0 if no parameter of f holds a NUL in its name or value, else -1. */
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
 * Plivo's spelling of a number, digits without "+", in E.164 in buf when
 * "+" and the digits are one (a country code, a length E.164 allows);
 * else s as it came (a short code, a sender's name, one with "+").
 */
static const char *
e164(const char *s, char buf[PHONE_MAX])
{
	char plus[PHONE_MAX + 1];
	struct errbuf pe;
	size_t n;

	if (s == NULL || !(n = strlen(s)) || n >= PHONE_MAX - 1 ||
	    strspn(s, "0123456789") != n || n < 8)
		return s;
	plus[0] = '+';
	memcpy(plus + 1, s, n + 1);
	return phone_normalize(plus, NULL, buf, &pe) == 0 ? buf : s;
}

/* A decimal count of at most 4 digits, else 0 (unknown). */
static int
count(const char *s)
{
	if (s == NULL || !*s || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 4)
		return 0;
	return atoi(s);
}

/* Plivo's status words in sms-record(5)'s (sms-record(5) has the table). */
static const char *
status_word(const char *s)
{
	/* A message Plivo refused before sending it has failed. */
	if (s && strcmp(s, "rejected") == 0)
		return "failed";
	return s;
}

/* An error code that says there is none: Plivo's "000" (or empty). */
static const char *
error_code(const char *s)
{
	return s && s[strspn(s, "0")] != '\0' ? s : NULL;
}

/*
 * The media of an MMS: MediaCount=N (absent: none) gives N items,
 * Media1 to MediaN (counted from 1), each a URL. Plivo gives no content
 * type for them.
 */
static int
media(const struct form *f, struct webhook_event *ev, struct errbuf *e)
{
	const char *n;
	char name[32];
	size_t len;

	if (form_field(f, "MediaCount", 0, &n, e) < 0)
		return -1;
	if (n == NULL)
		return 0;
	len = strlen(n);
	if (len > 2 || strspn(n, "0123456789") != len ||
	    (ev->num_media = atoi(n)) > PROVIDER_MEDIA_MAX) {
		ev->num_media = 0;
		errno = EINVAL;
		return errf(e, "MediaCount: '%.32s' is no count from 0 to %d",
		    n, PROVIDER_MEDIA_MAX);
	}
	for (int i = 0; i < ev->num_media; i++) {
		snprintf(name, sizeof name, "Media%d", i + 1);
		if (form_field(f, name, 1, &ev->media[i].url, e) < 0)
			return -1;
	}
	return 0;
}

static int
plivo_parse(const struct webhook_request *rq, struct webhook_event *ev,
    struct errbuf *e)
{
	const struct form *f = rq->form;
	const struct form_pair *text;
	const char *from, *to, *units, *intent, *code;

	memset(ev, 0, sizeof *ev);
	if (f == NULL) {
		errno = EINVAL;
		return errf(e, "not a form: Plivo's message webhooks are "
		    "form-encoded");
	}
	ev->form = f;
	ev->body = "";
	if (form_field(f, "MessageUUID", 1, &ev->id, e) < 0)
		return -1;
	if (form_find(f, "Status")) {
		ev->kind = WEBHOOK_STATUS;
		if (form_field(f, "Status", 1, &ev->status, e) < 0 ||
		    form_field(f, "ErrorCode", 0, &code, e) < 0 ||
		    form_field(f, "From", 0, &from, e) < 0 ||
		    form_field(f, "To", 0, &to, e) < 0 ||
		    form_field(f, "Units", 0, &units, e) < 0)
			return -1;
		ev->status = status_word(ev->status);
		ev->error_code = error_code(code);
		ev->from = e164(from, ev->num[0]);
		ev->to = e164(to, ev->num[1]);
		ev->num_segments = count(units);
		return no_nul(f, e);
	}
	ev->kind = WEBHOOK_MESSAGE;
	ev->status = "received";
	if (form_field(f, "From", 1, &from, e) < 0 ||
	    form_field(f, "To", 1, &to, e) < 0 ||
	    form_field(f, "Units", 0, &units, e) < 0 ||
	    form_field(f, "MessageIntent", 0, &intent, e) < 0 ||
	    media(f, ev, e) < 0 || no_nul(f, e) < 0)
		return -1;
	ev->from = e164(from, ev->num[0]);
	ev->to = e164(to, ev->num[1]);
	ev->num_segments = count(units);
	/* Plivo's own keyword classes (its opt-out handling). */
	if (intent && strcasecmp(intent, "optout") == 0)
		ev->optout_type = "STOP";
	else if (intent && strcasecmp(intent, "optin") == 0)
		ev->optout_type = "START";
	else if (intent && strcasecmp(intent, "help") == 0)
		ev->optout_type = "HELP";
	/* An SMS has Text; an MMS its text in Body. */
	if ((text = form_find(f, "Text")) == NULL)
		text = form_find(f, "Body");
	if (text != NULL) {
		ev->body = text->value;
		ev->body_len = text->value_len;
	}
	return 0;
}

/*
 * The answer to a webhook of ev (NULL: none known): an empty <Response>,
 * or one with a <Message> of text from the number ev came to, to the one
 * it came from, as Plivo wrote them. A reply without ev cannot be
 * addressed: EINVAL.
 */
static int
plivo_reply_to(const struct webhook_event *ev, const char *text,
    size_t len, struct buf *out, const char **content_type,
    struct errbuf *e)
{
	const char *src = NULL, *dst = NULL;
	size_t mark = out->len;

	*content_type = "application/xml";
	if (text && len > 0) {
		if (ev && ev->form) {
			src = form_get(ev->form, "To");
			dst = form_get(ev->form, "From");
		}
		if (!src || !*src || !dst || !*dst) {
			errno = EINVAL;
			return errf(e, "a Plivo reply needs the numbers of the "
			    "message it answers");
		}
	}
	buf_addlit(out, XML_HEAD);
	if (text && len > 0) {
		buf_addlit(out, "<Message src=\"");
		if (provider_xml(out, src, strlen(src), 1, "Plivo XML",
		    e) < 0)
			goto bad;
		buf_addlit(out, "\" dst=\"");
		if (provider_xml(out, dst, strlen(dst), 1, "Plivo XML",
		    e) < 0)
			goto bad;
		buf_addlit(out, "\" type=\"sms\">");
		if (provider_xml(out, text, len, 1, "Plivo XML", e) < 0)
			goto bad;
		buf_addlit(out, "</Message>");
	}
	buf_addlit(out, XML_TAIL);
	if (out->err) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	return 0;
bad:
	out->len = mark;
	return -1;
}

static int
plivo_reply(const char *text, size_t len, struct buf *out,
    const char **content_type, struct errbuf *e)
{
	return plivo_reply_to(NULL, text, len, out, content_type, e);
}

/*
 * Plivo's error codes by class: those of its message records and status
 * callbacks (its "Error Codes" page; 200 from its support article on
 * opted-out recipients). The Message API's own errors have no code: the
 * HTTP status says, 401 auth, 429 throttled, 5xx transient. Whatever is
 * not listed is permanent.
 */
static const char *
plivo_error_class(long http, const char *code)
{
	static const struct provider_code known[] = {
		{ 20, "transient" },		/* network error */
		{ 50, "invalid_recipient" },	/* invalid destination */
		{ 200, "opted_out" },		/* blocked by the
						   recipient's STOP */
	};

	return provider_classify(known, sizeof known / sizeof *known, http,
	    code);
}

/* --- The Message API --------------------------------------------------- */

/*
 * The account: PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, as Plivo's own tools
 * read them; the sender, PLIVO_FROM (or from) or a Powerpack
 * (PLIVO_POWERPACK_UUID) as the sending service; PLIVO_API_URL for a
 * simulator. Each has its name in the configuration too
 * (smsdesk-config(5)).
 */
#define API_URL "https://api.plivo.com"
#define MEDIA_URL "https://media.plivo.com"
#define WEBHOOK_PATH "/plivo"

static int
plivo_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	a->account = config_pick(cfg, NULL, "PLIVO_AUTH_ID", "plivo_auth_id",
	    NULL);
	a->user = a->account;
	a->pass = config_pick(cfg, NULL, "PLIVO_AUTH_TOKEN",
	    "plivo_auth_token", NULL);
	a->from = config_pick(cfg, from, "PLIVO_FROM", "plivo_from",
	    provider_from(a, cfg));
	a->service = config_pick(cfg, service, "PLIVO_POWERPACK_UUID",
	    "plivo_powerpack_uuid", NULL);
	provider_sender(a, from, service);
	a->base = config_pick(cfg, NULL, "PLIVO_API_URL", "plivo_api_url",
	    API_URL);
	/* An inbound MMS's MediaN are on Plivo's media host. */
	a->media_url = config_pick(cfg, NULL, "PLIVO_MEDIA_URL",
	    "plivo_media_url", MEDIA_URL);
	if (provider_callback(a, cfg, WEBHOOK_PATH, e) < 0)
		return -1;
	if (!need)
		return 0;
	errno = EINVAL;
	if (!a->account || !*a->account)
		return errf(e, "no Plivo account: set PLIVO_AUTH_ID, or "
		    "plivo_auth_id in the config");
	if (!a->pass || !*a->pass)
		return errf(e, "no Plivo credentials: set PLIVO_AUTH_TOKEN, "
		    "or plivo_auth_token in the config");
	if (!a->from && !a->service)
		return errf(e, "no sender: give --from or --messaging-service "
		    "(a Powerpack), or set PLIVO_FROM, or from in the config");
	return 0;
}

/* The account's Message resource, then the message id, then suffix. */
static int
message_url(const struct provider_account *a, struct provider_http *rq,
    const char *id, const char *suffix)
{
	buf_adds(&rq->url, a->base);
	buf_addlit(&rq->url, "/v1/Account/");
	form_add(&rq->url, a->account, strlen(a->account));
	buf_addlit(&rq->url, "/Message/");
	if (id) {
		form_add(&rq->url, id, strlen(id));
		buf_addc(&rq->url, '/');
	}
	buf_adds(&rq->url, suffix);
	buf_addc(&rq->url, '\0');
	rq->user = a->user;
	rq->pass = a->pass;
	if (rq->url.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* A number as Plivo takes it: without the "+" of E.164. */
static const char *
plain_number(const char *s)
{
	return s && *s == '+' ? s + 1 : s ? s : "";
}

static int
plivo_send_request(const struct provider_account *a, const json_t *msg,
    struct provider_http *rq)
{
	const char *body = record_str(msg, "body"), *url;
	const json_t *item;
	json_t *req, *urls = json_array();
	char *s = NULL;
	size_t i;

	json_array_foreach(json_object_get(msg, "media"), i, item)
		if ((url = record_str(item, "url")))
			json_array_append_new(urls, json_string(url));
	req = json_pack("{s:s, s:s, s:s}",
	    "dst", plain_number(record_str(msg, "to")),
	    "text", body ? body : "",
	    "type", json_array_size(urls) ? "mms" : "sms");
	if (req && a->from)
		json_object_set_new(req, "src", json_string(
		    plain_number(a->from)));
	else if (req)
		json_object_set_new(req, "powerpack_uuid", json_string(
		    a->service ? a->service : ""));
	if (req && json_array_size(urls))
		json_object_set(req, "media_urls", urls);
	if (req && a->callback) {
		json_object_set_new(req, "url", json_string(a->callback));
		json_object_set_new(req, "method", json_string("POST"));
	}
	json_decref(urls);
	if (!req || !(s = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(req);
		errno = ENOMEM;
		return -1;
	}
	json_decref(req);
	rq->post = 1;
	rq->content_type = "application/json";
	buf_adds(&rq->body, s);
	buf_addc(&rq->body, '\0');
	free(s);
	if (message_url(a, rq, NULL, "") < 0 || rq->body.err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/*
 * The answer to a send: 202 (or another 2xx) with the first of
 * message_uuid, taken, queued; one without a uuid but with the number in
 * invalid_number, refused as an invalid recipient; 429 to ask again (as
 * 503 with a Retry-After); another 5xx may have been processed; the rest
 * refused, with Plivo's "error" text.
 */
static void
plivo_send_answer(long http, double retry_after, const char *body,
    size_t len, struct provider_answer *an)
{
	json_t *resp = json_loadb(body ? body : "", len, 0, NULL);
	const char *id, *err;

	memset(an, 0, sizeof *an);
	if (http >= 200 && http < 300) {
		id = json_string_value(json_array_get(json_object_get(resp,
		    "message_uuid"), 0));
		if (id && *id && strlen(id) <= PROVIDER_ID_MAX) {
			an->outcome = PROVIDER_TAKEN;
			copy(an->id, sizeof an->id, id);
			copy(an->status, sizeof an->status, "queued");
		} else if (json_array_size(json_object_get(resp,
		    "invalid_number"))) {
			an->outcome = PROVIDER_FAILED;
			an->class = "invalid_recipient";
			copy(an->message, sizeof an->message,
			    "Plivo: invalid number");
		} else {
			an->outcome = PROVIDER_UNKNOWN;
			an->class = "unknown";
			copy(an->message, sizeof an->message,
			    "the answer has no message_uuid");
		}
		json_decref(resp);
		return;
	}
	err = record_str(resp, "error");
	copy(an->message, sizeof an->message, err);
	an->class = plivo_error_class(http, NULL);
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
plivo_fetch_request(const struct provider_account *a, const char *id,
    struct provider_http *rq)
{
	return message_url(a, rq, id, "");
}

/*
 * Plivo's list has no filter by number that its documentation names: the
 * account's outbound messages, newest first, 20 a page (its most), are
 * listed, and the caller matches them.
 */
static int
plivo_list_request(const struct provider_account *a, const char *to,
    const char *channel, struct provider_http *rq)
{
	(void)to;
	(void)channel;
	return message_url(a, rq, NULL,
	    "?message_direction=outbound&limit=20&offset=0");
}

/* Plivo's "2014-12-05 10:57:54+04:00" (fraction, offset optional), or
 * -1. */
static time_t
message_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	char iso[40], sign = 0;
	const char *p;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if (*p == '+' || *p == '-') {
		sign = *p;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
	} else if (*p) {
		return -1;
	}
	if (sign)
		snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d%c"
		    "%02d:%02d", y, mo, d, h, mi, sec, sign, oh, om);
	else
		snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    y, mo, d, h, mi, sec);
	return when_parse(iso, &t, NULL) == 0 ? t : -1;
}

/* A message record in the toolkit's words (provider.h), or NULL. */
static json_t *
message(const json_t *m)
{
	const char *code = error_code(record_str(m, "error_code"));
	char nf[PHONE_MAX], nt[PHONE_MAX];
	json_t *err = json_null();

	if (!record_str(m, "message_uuid"))
		return NULL;
	if (code) {
		err = json_pack("{s:s, s:I}", "code",
		    plivo_error_class(0, code), "provider_code",
		    (json_int_t)strtoll(code, NULL, 10));
	}
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:n, s:I, s:o?}",
	    "id", record_str(m, "message_uuid"),
	    "status", status_word(record_str(m, "message_state")),
	    "to", e164(record_str(m, "to_number"), nt),
	    "from", e164(record_str(m, "from_number"), nf),
	    "body",
	    "created", (json_int_t)message_time(record_str(m,
	    "message_time")),
	    "error", err);
}

static int
plivo_read_messages(const struct provider_account *a, long http,
    const char *body, size_t len, json_t *out, struct provider_http *next,
    struct errbuf *e)
{
	json_t *resp, *m, *one;
	const char *uri;
	size_t i;

	if (http == 404 && !next) {
		one = json_pack("{s:s, s:I}", "code", "not_found",
		    "provider_code", (json_int_t)0);
		if (one)
			json_array_append_new(out, one);
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
	if (!json_is_object(resp) ||
	    !json_is_array(json_object_get(resp, "objects"))) {
		json_decref(resp);
		errno = EIO;
		return errf(e, "the message list is not Plivo's");
	}
	json_array_foreach(json_object_get(resp, "objects"), i, m)
		if ((one = message(m)))
			json_array_append_new(out, one);
	/* meta.next is the next page's path, null on the last. */
	uri = record_str(json_object_get(resp, "meta"), "next");
	if (uri && *uri) {
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
 * What Plivo takes as MMS media: 10 items (as its send API's media_urls),
 * 5 MB in all (its MMS support pages); the types are the common ones of
 * its supported list, each up to the whole.
 */
static const struct provider_media_type plivo_media[] = {
	{ "image/jpeg", 5 * 1024 * 1024 },
	{ "image/png", 5 * 1024 * 1024 },
	{ "image/gif", 5 * 1024 * 1024 },
	{ "video/mp4", 5 * 1024 * 1024 },
	{ "video/3gpp", 5 * 1024 * 1024 },
	{ "audio/amr", 5 * 1024 * 1024 },
	{ "audio/mpeg", 5 * 1024 * 1024 },
	{ "application/pdf", 5 * 1024 * 1024 },
	{ "text/vcard", 5 * 1024 * 1024 },
	{ "text/plain", 5 * 1024 * 1024 },
	{ NULL, 0 },
};

const struct provider provider_plivo = {
	.name = "plivo",
	.sig_headers = { "X-Plivo-Signature-V3", "X-Plivo-Signature-V3-Nonce",
	    NULL },
	.webhook_path = WEBHOOK_PATH,
	.secret_env = "PLIVO_AUTH_TOKEN",
	.secret_key = "plivo_auth_token",
	.verify = plivo_verify,
	.parse = plivo_parse,
	.reply = plivo_reply,
	.reply_to = plivo_reply_to,
	.replies = 1,
	.error_class = plivo_error_class,
	.max_chars = 1600,
	.max_media = 10,
	.media_total = 5 * 1024 * 1024,
	.media_types = plivo_media,
	.service_prefix = "",		/* a Powerpack: a UUID, any id */
	.account = plivo_account,
	.send_request = plivo_send_request,
	.send_answer = plivo_send_answer,
	.fetch_request = plivo_fetch_request,
	.list_request = plivo_list_request,
	.read_messages = plivo_read_messages,
};
