/*
 * vonage.c: sms-sim as Vonage (--provider vonage), its SMS API (the one
 * that was Nexmo's, not the Messages API) and its webhooks, as
 * providers.md section 3 and Vonage's documentation give them.
 *
 * The API is POST /sms/json, a form (or a JSON object) with the
 * credentials in it: api_key and api_secret, or api_key and sig, the
 * parameters signed as Vonage signs (VONAGE_SIGNATURE_SECRET and _METHOD),
 * never both (status 32); HTTP Basic with the key and secret is taken too,
 * as Vonage's newer SDKs send them. It answers 200 whatever happened:
 * {"message-count": "N", "messages": [...]}, one entry a part of the text
 * (the sim's segment count), each with its own message-id, status "0",
 * remaining-balance, message-price and network. A request refused whole
 * has one entry, {"status", "error-text"}: 1 over --rate (throttled: the
 * SMS API has no 429), 2 a parameter missing, 3 one that is wrong (a to
 * that is not digits), 4 the wrong credentials, 6 a recipient that is no
 * number (--refuse NUMBER or NUMBER:invalid, "Unroutable message -
 * rejected"), 12 a text over 1,600 characters, 14 a sig that does not
 * match, 23 a callback that is no URL, or the status of a --refuse
 * NUMBER:CODE. --errors answers 500, or 503 with Retry-After, as for every
 * carrier. The SMS API looks no message up and lists none: any other path
 * is 404.
 *
 * An opted-out recipient (--optout, a STOP, --refuse NUMBER:opted-out) is
 * taken, status 0, and each part's delivery receipt is "rejected" with
 * err-code 9: Vonage says an opt-out only there (providers.md 3.3).
 *
 * The webhooks are signed with sig over every other parameter (timestamp
 * and nonce among them) by the signature secret and method, and come as a
 * form by POST, or as a query by GET (--webhook-method GET, Vonage's
 * dashboard setting). A delivery receipt goes to the message's callback
 * for each part when the message is delivered or has failed (msisdn,
 * to, network-code, messageId, price, status, scts, err-code, api-key,
 * client-ref, message-timestamp): delivered (err-code 0), rejected for
 * --fail NUMBER:failed, failed for NUMBER:undelivered (err-code 2 unless
 * given). A customer's text goes to the --webhook (msisdn, to, messageId,
 * text, type, keyword, message-timestamp, api-key); a long one in parts,
 * a webhook each, with concat, concat-ref, concat-part and concat-total,
 * each part its own messageId. --reorder posts a share of them, and of the
 * receipts, last part first; --duplicate posts a share twice, each with a
 * new timestamp and nonce, as Vonage's retries come.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "gsm.h"
#include "phone.h"
#include "provider.h"

#include "sms-sim/sim.h"

#define SMS_PATH "/sms/json"
#define PRICE 3330000LL		/* a part: 0.03330000 EUR, in 1e-8 */
#define BALANCE 100000000000LL	/* the account's 1,000 EUR at the start */
#define NETWORK "310260"	/* MCC and MNC of every recipient */
#define OPTED_OUT 9		/* err-code: illegal number, an opt-out */
#define ABSENT 2		/* err-code: absent subscriber (temporary) */
#define SIG_WINDOW 300		/* s a signed request may be off */
#define CLIENT_REF_MAX 40

/* Parts taken since the sim started, for remaining-balance. */
static atomic_llong parts_taken;

/* Vonage's words for a submit status. */
static const char *
status_text(int status)
{
	switch (status) {
	case 1: return "Throughput Rate Exceeded - please wait [ 1000 ] and "
	    "retry";
	case 2: return "Missing Parameters";
	case 3: return "Invalid Parameters";
	case 4: return "Bad Credentials";
	case 5: return "Internal Error";
	case 6: return "Unroutable message - rejected";
	case 7: return "Number barred";
	case 8: return "Partner account barred";
	case 9: return "Partner quota exceeded";
	case 10: return "Too many existing binds";
	case 11: return "Account not enabled for HTTP";
	case 12: return "Message too long";
	case 14: return "Invalid Signature";
	case 15: return "Invalid sender address";
	case 22: return "Invalid network code";
	case 23: return "Invalid callback url";
	case 29: return "Non White-listed Destination - rejected";
	case 32: return "Signature and API secret disallowed";
	case 33: return "Number de-activated";
	default: return "Message refused";
	}
}

static void
answer_json(struct answer *a, json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	a->body.len = 0;
	if (t)
		buf_adds(&a->body, t);
	else
		a->body.err = 1;
	free(t);
	json_decref(j);
}

/*
 * Answer a request refused whole, as the SMS API does: 200 with one entry,
 * its status and error-text (the status's words, or fmt's); returns 200.
 */
static int
refuse(struct answer *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct answer *a, int status, const char *fmt, ...)
{
	char text[200], st[16];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
	} else {
		snprintf(text, sizeof text, "%s", status_text(status));
	}
	snprintf(st, sizeof st, "%d", status);
	answer_json(a, json_pack("{s:s, s:[{s:s, s:s}]}", "message-count",
	    "1", "messages", "status", st, "error-text", text));
	a->http = 200;
	a->code = status;
	snprintf(a->what, sizeof a->what, "status %d %.170s", status, text);
	return 200;
}

/* An HTTP error of the sim's own (--errors, a path not served). */
static int
http_error(struct answer *a, unsigned http, const char *text)
{
	answer_json(a, json_pack("{s:s, s:s}", "type", "about:blank",
	    "title", text));
	a->http = http;
	snprintf(a->what, sizeof a->what, "%u %.180s", http, text);
	return (int)http;
}

/* A number as Vonage writes it, without the "+". */
static const char *
plain(const char *n)
{
	return *n == '+' ? n + 1 : n;
}

/* The message-id of part (1-based) of the message sid: 16 hex digits,
 * uppercase, as Vonage's are. */
static void
part_id(const char *sid, unsigned part, char out[17])
{
	for (int i = 0; i < 14; i++)
		out[i] = (char)toupper((unsigned char)sid[2 + i]);
	snprintf(out + 14, 3, "%02X", part & 0xff);
}

/* The request's parameters, a form or a JSON object's strings and numbers,
 * into f. Returns 0, or -1 if it is neither. */
static int
request_form(const struct buf *raw, struct form *f)
{
	const char *p = raw->p ? raw->p : "", *k;
	size_t n = raw->len, i = 0;
	struct buf b = { 0 };
	struct errbuf e;
	json_t *j, *v;
	char num[64];
	int rc;

	while (i < n && isspace((unsigned char)p[i]))
		i++;
	if (i == n || p[i] != '{')
		return form_parse(f, p, n, &e);
	if (!(j = json_loadb(p, n, 0, NULL)) || !json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	json_object_foreach(j, k, v) {
		if (json_is_string(v))
			sim_add_param(&b, k, json_string_value(v),
			    json_string_length(v));
		else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(v));
			sim_add_params(&b, k, num);
		} else if (json_is_boolean(v))
			sim_add_params(&b, k, json_is_true(v) ? "true" :
			    "false");
	}
	json_decref(j);
	rc = b.err ? -1 : form_parse(f, b.p ? b.p : "", b.len, &e);
	buf_free(&b);
	return rc;
}

/* The key and secret of an HTTP Basic header, or 0. */
static int
basic(const char *auth, char *user, size_t usize, char *pass, size_t psize)
{
	char dec[512], *colon;
	size_t n = 0;
	const char *end;

	if (!auth || strncmp(auth, "Basic ", 6) != 0 ||
	    sodium_base642bin((unsigned char *)dec, sizeof dec - 1, auth + 6,
	    strlen(auth + 6), NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) < 0 || *end)
		return 0;
	dec[n] = '\0';
	if (!(colon = strchr(dec, ':')))
		return 0;
	*colon = '\0';
	snprintf(user, usize, "%s", dec);
	snprintf(pass, psize, "%s", colon + 1);
	sodium_memzero(dec, sizeof dec);
	return 1;
}

/* Whether the parameters' sig is the signature secret's, in time. */
static int
sig_ok(const struct sim *s, const struct form *f)
{
	const char *sig = form_get(f, "sig"), *ts = form_get(f, "timestamp");
	char want[129];
	long long at;
	size_t n;
	int ok;

	if (!sig || !ts || vonage_signature(s->vonage_secret,
	    s->vonage_method, f, want) < 0)
		return 0;
	at = strtoll(ts, NULL, 10);
	if (at < (long long)sim_now(s) - SIG_WINDOW ||
	    at > (long long)sim_now(s) + SIG_WINDOW)
		return 0;
	n = strlen(want);
	if (strlen(sig) != n)
		return 0;
	ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= tolower((unsigned char)sig[i]) ==
		    tolower((unsigned char)want[i]);
	sodium_memzero(want, sizeof want);
	return ok;
}

/*
 * The credentials of a request: api_key with api_secret or sig, or HTTP
 * Basic. Returns 0 if they are the account's, else refuses it (2, 4, 14,
 * 32) and returns 200.
 */
static int
credentials(struct sim *s, const struct form *f, const char *auth,
    struct answer *a)
{
	const char *key = form_get(f, "api_key"), *secret = form_get(f,
	    "api_secret"), *sig = form_get(f, "sig");
	char user[512] = "", pass[512] = "";
	size_t n = strlen(s->token);

	if (!key && basic(auth, user, sizeof user, pass, sizeof pass)) {
		key = user;
		secret = pass;
	}
	a->auth = 0;
	if (!key || !*key)
		return refuse(a, 2, "Missing api_key");
	if (secret && sig)
		return refuse(a, 32, NULL);
	if (!secret && !sig)
		return refuse(a, 2, "Missing api_secret or sig");
	if (strcmp(key, s->account) != 0)
		return refuse(a, 4, NULL);
	if (sig && !sig_ok(s, f))
		return refuse(a, 14, NULL);
	if (secret && (strlen(secret) != n || sodium_memcmp(secret, s->token,
	    n) != 0))
		return refuse(a, 4, NULL);
	sodium_memzero(pass, sizeof pass);
	a->auth = 1;
	return 0;
}

/* remaining-balance after the parts taken so far. */
static void
balance(long long taken, char out[32])
{
	long long left = BALANCE - taken * PRICE;

	snprintf(out, 32, "%s%lld.%08lld", left < 0 ? "-" : "",
	    llabs(left) / 100000000, llabs(left) % 100000000);
}

static int
submit(struct sim *s, const struct form *f, struct answer *a)
{
	const char *from = form_get(f, "from"), *to = form_get(f, "to");
	const char *cb = form_get(f, "callback"), *ref = form_get(f,
	    "client-ref");
	const struct form_pair *text = form_find(f, "text");
	char num[PHONE_MAX + 1], rcpt[PHONE_MAX], sender[PHONE_MAX + 1];
	char tmp[PHONE_MAX], id[17], bal[32], price[16];
	unsigned segments = 1;
	struct errbuf e;
	struct msg *m;
	json_t *parts;
	long long taken;
	int code, optout, too_long = 0;

	if (!from || !*from)
		return refuse(a, 2, "Missing from param");
	if (!to || !*to)
		return refuse(a, 2, "Missing to param");
	if (!text)
		return refuse(a, 2, "Missing text param");
	if (strspn(plain(to), "0123456789") != strlen(plain(to)) ||
	    !*plain(to))
		return refuse(a, 3, "to address is not numeric");
	if (strlen(plain(from)) > PHONE_MAX - 2)
		return refuse(a, 15, NULL);
	if (cb && !sim_url_ok(cb))
		return refuse(a, 23, NULL);
	if (ref && strlen(ref) > CLIENT_REF_MAX)
		return refuse(a, 3, "Invalid client-ref: more than %d "
		    "characters", CLIENT_REF_MAX);
	if (sim_analyze(sim_thread_gsm(s), text->value, text->value_len, 0,
	    &segments, &too_long, NULL) < 0)
		return refuse(a, 3, "Invalid text: not UTF-8");
	if (too_long)
		return refuse(a, 12, NULL);
	snprintf(num, sizeof num, "+%s", plain(to));
	if (phone_normalize(num, NULL, rcpt, &e) < 0)
		return refuse(a, 6, NULL);
	code = sim_refused(s, rcpt);
	if (code > 0)
		return refuse(a, code, NULL);
	/* A sender of digits is a number; else a name, as it came. */
	snprintf(sender, sizeof sender, "+%s", plain(from));
	if (strspn(plain(from), "0123456789") == strlen(plain(from)) &&
	    phone_normalize(sender, NULL, tmp, &e) == 0)
		snprintf(sender, sizeof sender, "%s", tmp);
	else
		snprintf(sender, sizeof sender, "%s", from);
	optout = code == REFUSE_OPTOUT || sim_opted_out(s, rcpt, sender);
	if (!(m = sim_msg_new(s, sender, rcpt, text->value,
	    text->value_len)) || (cb && !(m->callback = strdup(cb)))) {
		sim_msg_free(m);
		return http_error(a, 500, strerror(ENOMEM));
	}
	m->segments = segments;
	if (ref)
		snprintf(m->client_ref, sizeof m->client_ref, "%s", ref);
	if (optout) {
		/* Taken; its receipts say err-code 9. */
		m->fail_status = "failed";
		m->fail_code = OPTED_OUT;
	}
	if (sim_enqueue(s, m, 0) < 0)
		return http_error(a, 500, strerror(ENOMEM));
	snprintf(a->sid, sizeof a->sid, "%s", m->sid);
	parts = json_array();
	snprintf(price, sizeof price, "0.%08lld", PRICE);
	taken = atomic_fetch_add(&parts_taken, segments);
	for (unsigned k = 1; k <= segments; k++) {
		json_t *p;

		part_id(m->sid, k, id);
		balance(taken + k, bal);
		p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "to",
		    plain(rcpt), "message-id", id, "status", "0",
		    "remaining-balance", bal, "message-price", price,
		    "network", NETWORK);
		if (p && ref)
			json_object_set_new(p, "client-ref", json_string(ref));
		json_array_append_new(parts, p);
	}
	snprintf(num, sizeof num, "%u", segments);
	answer_json(a, json_pack("{s:s, s:o}", "message-count", num,
	    "messages", parts));
	if (sim_roll(s, s->drop)) {
		a->http = 0;
		snprintf(a->what, sizeof a->what, "created %s, dropped",
		    m->sid);
		return 0;
	}
	a->http = 200;
	snprintf(a->what, sizeof a->what, "created %s to %s, %u part%s",
	    m->sid, rcpt, segments, segments == 1 ? "" : "s");
	return 200;
}

static int
route(struct sim *s, const char *method, const char *path, const char *query,
    const char *auth, const struct form *f, const struct buf *raw,
    struct answer *a)
{
	struct form req;
	int rc;

	(void)query;
	(void)f;
	if (strcmp(path, SMS_PATH) != 0)
		return http_error(a, 404, "Not Found: the SMS API looks no "
		    "message up");
	if (strcmp(method, "POST") != 0)
		return http_error(a, 405, "Method Not Allowed");
	if (request_form(raw, &req) < 0)
		return refuse(a, 3, "Invalid Parameters: the body is not a "
		    "form or a JSON object");
	if ((rc = credentials(s, &req, auth, a)) != 0) {
		form_free(&req);
		return rc;
	}
	if (!sim_rate_ok(s))
		rc = refuse(a, 1, NULL);
	else if (sim_roll(s, s->errors)) {
		a->retry_after = sim_roll(s, 50);
		rc = http_error(a, a->retry_after ? 503 : 500,
		    a->retry_after ? "Service Unavailable" :
		    "Internal Server Error");
	} else
		rc = submit(s, &req, a);
	form_free(&req);
	return rc;
}

/* --- The webhooks ------------------------------------------------- */

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* GET url with the query q, as Vonage does with the dashboard's GET. */
static long
get(CURL *h, const char *url, const struct buf *q, char err[CURL_ERROR_SIZE])
{
	struct buf u = { 0 };
	long code = -1;
	CURLcode rc;

	err[0] = '\0';
	buf_adds(&u, url);
	buf_addc(&u, strchr(url, '?') ? '&' : '?');
	buf_add(&u, q->p ? q->p : "", q->len);
	buf_addc(&u, '\0');
	if (u.err) {
		buf_free(&u);
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, u.p);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Vonage");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else if (!err[0])
		snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	buf_free(&u);
	return rc == CURLE_OK ? code : -1;
}

/*
 * Send the parameters params to url, with timestamp (the sim's clock) and
 * a new nonce, signed: a form by POST, or a query by GET. Twice for
 * --duplicate, each time signed anew. Returns the first one's HTTP
 * status, or -1 with err filled.
 */
static long
send_signed(struct sim *s, CURL *h, const char *url, const struct buf *params,
    char err[CURL_ERROR_SIZE])
{
	int times = 1 + (s->duplicate > 0 && sim_roll(s, s->duplicate));
	struct buf b = { 0 }, resp = { 0 };
	unsigned char r[16];
	char nonce[37], hex[35] = "NC", ts[24], sig[129], err2[CURL_ERROR_SIZE];
	struct form f;
	struct errbuf e;
	long http = -1, got;

	for (int i = 0; i < times; i++) {
		char *errp = i == 0 ? err : err2;

		b.len = 0;
		buf_add(&b, params->p ? params->p : "", params->len);
		randombytes_buf(r, sizeof r);
		sodium_bin2hex(hex + 2, 33, r, sizeof r);
		sim_uuid(hex, nonce);
		snprintf(ts, sizeof ts, "%lld", (long long)sim_now(s));
		sim_add_params(&b, "timestamp", ts);
		sim_add_params(&b, "nonce", nonce);
		if (b.err || form_parse(&f, b.p, b.len, &e) < 0) {
			snprintf(errp, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
			got = -1;
		} else if (vonage_signature(s->vonage_secret,
		    s->vonage_method, &f, sig) < 0) {
			snprintf(errp, CURL_ERROR_SIZE, "cannot sign: %s",
			    strerror(errno));
			form_free(&f);
			got = -1;
		} else {
			form_free(&f);
			sim_add_params(&b, "sig", sig);
			resp.len = 0;
			got = b.err ? -1 : s->vonage_get ? get(h, url, &b,
			    errp) : sim_post_raw(h, url,
			    "application/x-www-form-urlencoded", b.p, b.len,
			    (const char *const[]){ NULL }, "Vonage", &resp,
			    errp);
		}
		if (i == 0)
			http = got;
	}
	buf_free(&b);
	buf_free(&resp);
	return http;
}

/* Vonage's message-timestamp, "YYYY-MM-DD HH:MM:SS", and a receipt's
 * scts, "YYMMDDHHMM", of t. */
static void
stamps(time_t t, char ts[24], char scts[64])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, 24, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(scts, 64, "%02d%02d%02d%02d%02d", tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* Each part's delivery receipt, once the message is delivered or has
 * failed (Twilio's words in status). */
static void
post_status(struct sim *s, CURL *h, const struct msg *m, const char *status,
    int code)
{
	struct buf b = { 0 };
	char err[CURL_ERROR_SIZE], id[17], ts[24], scts[64], n[16];
	char price[16];
	const char *word;
	unsigned parts = m->segments ? m->segments : 1;
	int last_first = parts > 1 && sim_roll(s, s->reorder);
	long http;

	if (strcmp(status, "delivered") == 0)
		word = "delivered";
	else if (strcmp(status, "failed") == 0)
		word = "rejected";	/* it never went */
	else if (strcmp(status, "undelivered") == 0)
		word = "failed";	/* the carrier could not */
	else
		return;		/* no receipt for the others */
	stamps(sim_now(s), ts, scts);
	snprintf(n, sizeof n, "%d", strcmp(word, "delivered") == 0 ? 0 :
	    code ? code : ABSENT);
	snprintf(price, sizeof price, "0.%08lld", PRICE);
	for (unsigned i = 0; i < parts; i++) {
		unsigned k = last_first ? parts - i : i + 1;

		part_id(m->sid, k, id);
		b.len = 0;
		b.err = 0;
		sim_add_params(&b, "msisdn", plain(m->to));
		sim_add_params(&b, "to", plain(m->from));
		sim_add_params(&b, "network-code", NETWORK);
		sim_add_params(&b, "messageId", id);
		sim_add_params(&b, "price", price);
		sim_add_params(&b, "status", word);
		sim_add_params(&b, "scts", scts);
		sim_add_params(&b, "err-code", n);
		sim_add_params(&b, "api-key", s->account);
		if (m->client_ref[0])
			sim_add_params(&b, "client-ref", m->client_ref);
		sim_add_params(&b, "message-timestamp", ts);
		http = b.err ? -1 : send_signed(s, h, m->callback, &b, err);
		if (b.err)
			snprintf(err, sizeof err, "%s", strerror(ENOMEM));
		if (http < 0)
			diag_warn("receipt %s %s part %u -> %s: %s", m->sid,
			    word, k, m->callback, err);
		else
			fprintf(stderr, "%s: receipt %s %s %s part %u/%u -> "
			    "%s: %ld\n", diag_prog(), m->sid, id, word, k,
			    parts, m->callback, http);
	}
	buf_free(&b);
}

/* The first word of text (len bytes), uppercased, as keyword. */
static void
first_word(const char *text, size_t len, char out[64])
{
	size_t i = 0, n = 0;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	for (; i < len && n < 63 && !isspace((unsigned char)text[i]); i++)
		out[n++] = (char)toupper((unsigned char)text[i]);
	out[n] = '\0';
}

/*
 * A customer's text m to the --webhook: one webhook, or a webhook a part
 * of a long one, cut where the sim's segments are cut. Returns the first
 * answer that is not 2xx, else the last; -1 with err if one could not be
 * posted.
 */
static long
post_inbound(struct sim *s, CURL *h, const struct msg *m,
    const char *optout_type, char err[CURL_ERROR_SIZE])
{
	struct gsm_opts opts = { 0 };
	struct gsm_result res;
	struct gsm_ctx *ctx = sim_thread_gsm(s);
	struct buf b = { 0 };
	struct errbuf e;
	char id[17], ts[24], scts[64], kw[64], ref[8], n[24], total[24];
	const char *t;
	size_t len, parts;
	long http = 0, got;
	int last_first;

	(void)optout_type;
	if (!ctx || gsm_analyze(ctx, m->body, m->body_len, &opts, &res,
	    &e) < 0) {
		snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
		return -1;
	}
	parts = res.segments ? res.segments : 1;
	last_first = parts > 1 && sim_roll(s, s->reorder);
	stamps(m->created, ts, scts);
	/* Vonage's concat-ref: the sender's 8-bit reference. */
	snprintf(ref, sizeof ref, "%u", (unsigned)strtoul((char[]){ m->sid[32],
	    m->sid[33], '\0' }, NULL, 16) % 255 + 1);
	snprintf(total, sizeof total, "%zu", parts);
	for (size_t i = 0; i < parts; i++) {
		size_t k = last_first ? parts - i : i + 1;

		if (res.segments)
			t = gsm_text(ctx, &res, res.parts[k - 1].start,
			    res.parts[k - 1].end, &len);
		else
			t = "", len = 0;
		b.len = 0;
		b.err = 0;
		part_id(m->sid, (unsigned)k, id);
		sim_add_params(&b, "msisdn", plain(m->from));
		sim_add_params(&b, "to", plain(m->to));
		sim_add_params(&b, "messageId", id);
		if (t)
			sim_add_param(&b, "text", t, len);
		else
			b.err = 1;
		sim_add_params(&b, "type", res.encoding == GSM_UCS2 ?
		    "unicode" : "text");
		first_word(t ? t : "", t ? len : 0, kw);
		sim_add_params(&b, "keyword", kw);
		sim_add_params(&b, "message-timestamp", ts);
		sim_add_params(&b, "api-key", s->account);
		if (parts > 1) {
			snprintf(n, sizeof n, "%zu", k);
			sim_add_params(&b, "concat", "true");
			sim_add_params(&b, "concat-ref", ref);
			sim_add_params(&b, "concat-part", n);
			sim_add_params(&b, "concat-total", total);
		}
		if (b.err) {
			snprintf(err, CURL_ERROR_SIZE, "%s", strerror(ENOMEM));
			got = -1;
		} else {
			got = send_signed(s, h, s->webhook, &b, err);
		}
		if (parts > 1)
			fprintf(stderr, "%s: webhook %s part %zu/%zu %s -> "
			    "%s: %ld\n", diag_prog(), m->sid, k, parts, id,
			    s->webhook, got);
		if (got < 0) {
			http = -1;
			break;
		}
		if (http == 0 || (http >= 200 && http < 300))
			http = got;
	}
	buf_free(&b);
	return http;
}

const struct sim_provider sim_vonage = {
	.name = "vonage",
	.route = route,
	.post_status = post_status,
	.post_inbound = post_inbound,
	.refuse_optout = REFUSE_OPTOUT,	/* taken; its receipts say 9 */
	.refuse_invalid = 6,
	.fail_code = ABSENT,
	.code_min = 1,
	.code_max = 99,
};
