/*
 * vonage.c: Vonage's SMS API (the one that was Nexmo's, not the Messages
 * API), both directions: its signed webhooks (inbound messages and
 * delivery receipts), its submit API, as providers.md section 3 and
 * Vonage's documentation give them.
 *
 * The webhooks.
 *
 * Vonage signs a webhook, when signing is on for the account, with the
 * parameter sig: every other parameter received, sorted by name, each as
 * "&" name "=" value where "&" and "=" inside a value are "_", then
 * either MD5 over that string and the signature secret (lowercase hex:
 * "md5hash", the default) or an HMAC keyed by the secret over the string
 * (uppercase hex: "md5", "sha1", "sha256", "sha512"). The method is the
 * one chosen in Vonage's dashboard, which the listener is told
 * (vonage_signature_method); the hex is compared case-insensitively, in
 * constant time. The signed parameters hold timestamp (Unix seconds) and
 * nonce: a request more than WINDOW seconds from rq->now is refused, and
 * so is a nonce seen before within the window. The nonces are remembered
 * in this process (hash sets under a lock, dropped by age: nonce_fresh()),
 * so the memory lasts as long as the listener; a listener restarted within
 * WINDOW seconds has forgotten the nonces of the one before it.
 *
 * An inbound message and a delivery receipt come by GET (query) or POST
 * (form), with hyphenated names; a receipt is the one with status.
 * Vonage writes numbers without "+": parse() gives them in E.164 where
 * they are numbers. Vonage takes no reply in the answer: an empty 200.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "gsm.h"
#include "phone.h"
#include "provider.h"
#include "record.h"

#define WINDOW 300		/* seconds a timestamp may be off */
#define NONCE_MAX 64		/* bytes of a nonce at most */
#define NONCES_MAX (1 << 20)	/* nonces a generation remembers at most */
#define GENERATION (2 * WINDOW)	/* seconds of nonces in a generation */
#define API_URL "https://rest.nexmo.com"
#define WEBHOOK_PATH "/vonage"

static int
namecmp(const void *x, const void *y)
{
	const struct form_pair *a = *(const struct form_pair *const *)x;
	const struct form_pair *b = *(const struct form_pair *const *)y;
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);

	if (c == 0)
		c = (a->name_len > b->name_len) - (a->name_len < b->name_len);
	if (c == 0)
		c = strcmp(a->value, b->value);
	return c;
}

/* Append f's parameters but sig, sorted, as Vonage signs them, to s. */
static int
sign_string(struct buf *s, const struct form *f)
{
	const struct form_pair **v;
	size_t i, k, m = 0;

	if (f->n == 0)
		return 0;
	if (!(v = malloc(f->n * sizeof *v)))
		return -1;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, "sig") != 0)
			v[m++] = &f->pairs[i];
	qsort(v, m, sizeof *v, namecmp);
	for (i = 0; i < m; i++) {
		buf_addc(s, '&');
		buf_add(s, v[i]->name, v[i]->name_len);
		buf_addc(s, '=');
		for (k = 0; k < v[i]->value_len; k++) {
			char c = v[i]->value[k];

			buf_addc(s, c == '&' || c == '=' ? '_' : c);
		}
	}
	free(v);
	return s->err ? -1 : 0;
}

/* The digest a method names, or NULL; *hash 1 for "md5hash". */
static const EVP_MD *
method_md(const char *method, int *hash)
{
	*hash = 0;
	if (method == NULL || *method == '\0' ||
	    strcasecmp(method, "md5hash") == 0) {
		*hash = 1;
		return EVP_md5();
	}
	if (strcasecmp(method, "md5") == 0)
		return EVP_md5();
	if (strcasecmp(method, "sha1") == 0)
		return EVP_sha1();
	if (strcasecmp(method, "sha256") == 0)
		return EVP_sha256();
	if (strcasecmp(method, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

int
vonage_signature(const char *secret, const char *method,
    const struct form *f, char out[129])
{
	static const char hex[] = "0123456789abcdef", HEX[] =
	    "0123456789ABCDEF";
	struct buf s = { 0 };
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	const EVP_MD *md;
	size_t klen = strlen(secret);
	int hash, r = -1;

	if (!(md = method_md(method, &hash)) || klen > 1024) {
		errno = EINVAL;
		return -1;
	}
	if (sign_string(&s, f) < 0)
		goto nomem;
	if (hash) {
		buf_add(&s, secret, klen);
		if (s.err)
			goto nomem;
		if (!EVP_Digest(s.p, s.len, mac, &len, md, NULL)) {
			errno = EINVAL;
			goto done;
		}
	} else if (!HMAC(md, secret, (int)klen,
	    (const unsigned char *)(s.p ? s.p : ""), s.len, mac, &len)) {
		errno = EINVAL;
		goto done;
	}
	for (unsigned int i = 0; i < len; i++) {
		out[2 * i] = (hash ? hex : HEX)[mac[i] >> 4];
		out[2 * i + 1] = (hash ? hex : HEX)[mac[i] & 15];
	}
	out[2 * len] = '\0';
	r = 0;
	goto done;
nomem:
	errno = ENOMEM;
done:
	sodium_memzero(mac, sizeof mac);
	if (s.p)
		sodium_memzero(s.p, s.len);
	buf_free(&s);
	return r;
}

/*
 * The nonces seen, as a keyed 16-byte hash each (BLAKE2b), in two
 * generations of GENERATION seconds by the listener's clock: the current
 * one, where a nonce is added, and the one before. A nonce must be known
 * for 2 * WINDOW seconds after it came (its timestamp may be WINDOW ahead
 * of the clock then, and a replay is taken up to WINDOW after that), and
 * the two cover at least that. Each is a hash set (open addressing, a
 * power of two of slots, at most half full; an all-zero slot is empty),
 * so that a look-up costs the same however many are remembered, and a
 * generation that has aged out is dropped whole.
 */
struct nonce_set {
	unsigned char (*slot)[16];
	size_t n, cap;
	time_t start;		/* when its first nonce came */
};

static struct {
	pthread_mutex_t lock;
	struct nonce_set gen[2];	/* the current one, the one before */
	unsigned char key[crypto_generichash_KEYBYTES];
	int keyed;
} seen = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The slot of h in set (cap > 0): where it is, or the empty one where it
 * would go. */
static size_t
nonce_slot(const struct nonce_set *set, const unsigned char h[16])
{
	static const unsigned char zero[16];
	size_t i;

	memcpy(&i, h, sizeof i);
	for (i &= set->cap - 1;; i = (i + 1) & (set->cap - 1))
		if (memcmp(set->slot[i], h, 16) == 0 ||
		    memcmp(set->slot[i], zero, 16) == 0)
			return i;
}

static int
nonce_known(const struct nonce_set *set, const unsigned char h[16])
{
	return set->cap && memcmp(set->slot[nonce_slot(set, h)], h, 16) == 0;
}

/* Add h, not in set, to it; 0, or -1 with errno ENOMEM or EAGAIN (full). */
static int
nonce_add(struct nonce_set *set, const unsigned char h[16])
{
	if (set->n >= NONCES_MAX) {
		errno = EAGAIN;
		return -1;
	}
	if (2 * (set->n + 1) > set->cap) {
		struct nonce_set bigger = { .cap = set->cap ? 2 * set->cap :
		    1024, .n = set->n, .start = set->start };
		static const unsigned char zero[16];

		if (!(bigger.slot = calloc(bigger.cap, sizeof *bigger.slot))) {
			errno = ENOMEM;
			return -1;
		}
		for (size_t i = 0; i < set->cap; i++)
			if (memcmp(set->slot[i], zero, 16) != 0)
				memcpy(bigger.slot[nonce_slot(&bigger,
				    set->slot[i])], set->slot[i], 16);
		free(set->slot);
		*set = bigger;
	}
	memcpy(set->slot[nonce_slot(set, h)], h, 16);
	set->n++;
	return 0;
}

static void
nonce_drop(struct nonce_set *set)
{
	free(set->slot);
	memset(set, 0, sizeof *set);
}

/*
 * Remember nonce, come now: 0, or -1 with errno EACCES if it was seen
 * within the last two generations (or ENOMEM, or EAGAIN if too many are
 * remembered). A generation GENERATION seconds old becomes the one before,
 * and the one before it is forgotten.
 */
static int
nonce_fresh(const char *nonce, time_t now)
{
	unsigned char h[16];
	struct nonce_set *cur = &seen.gen[0];
	int r = 0;

	pthread_mutex_lock(&seen.lock);
	if (!seen.keyed) {
		randombytes_buf(seen.key, sizeof seen.key);
		seen.keyed = 1;
	}
	crypto_generichash(h, sizeof h, (const unsigned char *)nonce,
	    strlen(nonce), seen.key, sizeof seen.key);
	h[0] |= !sodium_is_zero(h, sizeof h) ? 0 : 1;	/* never empty */
	if (cur->n && now - cur->start >= 2 * GENERATION) {
		nonce_drop(&seen.gen[1]);
		nonce_drop(cur);
	} else if (cur->n && now - cur->start >= GENERATION) {
		nonce_drop(&seen.gen[1]);
		seen.gen[1] = *cur;
		memset(cur, 0, sizeof *cur);
	}
	if (nonce_known(cur, h) || nonce_known(&seen.gen[1], h)) {
		errno = EACCES;
		r = -1;
	} else if (nonce_add(cur, h) < 0) {
		r = -1;
	} else if (cur->n == 1) {
		cur->start = now;
	}
	pthread_mutex_unlock(&seen.lock);
	sodium_memzero(h, sizeof h);
	return r;
}

static int
vonage_verify(const char *secret, const struct webhook_request *rq,
    struct errbuf *e)
{
	const char *sig, *ts, *nonce;
	char want[129], got[129];
	time_t now = rq->now ? rq->now : time(NULL), at;
	size_t n;
	int hash, match;
	char *end;

	if (sodium_init() < 0) {
		errno = ENOMEM;
		return errf(e, "cannot initialise libsodium");
	}
	errno = EINVAL;
	if (secret == NULL || *secret == '\0')
		return errf(e, "no signature secret to check signatures with");
	if (!method_md(rq->sig_method, &hash))
		return errf(e, "signature method '%.32s': not md5hash, md5, "
		    "sha1, sha256 or sha512", rq->sig_method);
	if (rq->form == NULL)
		return errf(e, "no parameters: Vonage's webhooks are a query "
		    "or a form");
	if (!(sig = form_get(rq->form, "sig")) || !*sig)
		return errf(e, "missing sig");
	if (!(ts = form_get(rq->form, "timestamp")) || !*ts)
		return errf(e, "missing timestamp");
	if (!(nonce = form_get(rq->form, "nonce")) || !*nonce)
		return errf(e, "missing nonce");
	if (strlen(nonce) > NONCE_MAX)
		return errf(e, "nonce: longer than %d bytes", NONCE_MAX);
	errno = 0;
	at = (time_t)strtoll(ts, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*ts))
		return errno = EINVAL, errf(e, "timestamp: '%.32s' is not "
		    "seconds since the epoch", ts);
	if (vonage_signature(secret, rq->sig_method, rq->form, want) < 0) {
		if (errno == ENOMEM)
			return errf(e, "%s", strerror(ENOMEM));
		errno = EINVAL;
		return errf(e, "cannot compute the signature");
	}
	n = strlen(want);
	/* Hex in either case: both lowercased, then compared in full. */
	snprintf(got, sizeof got, "%s", sig);
	for (size_t i = 0; i < n; i++) {
		want[i] = (char)tolower((unsigned char)want[i]);
		got[i] = (char)tolower((unsigned char)got[i]);
	}
	match = strlen(sig) == n && sodium_memcmp(want, got, n) == 0;
	sodium_memzero(want, sizeof want);
	if (!match) {
		errno = EACCES;
		return errf(e, "sig does not match");
	}
	if (at < now - WINDOW || at > now + WINDOW) {
		errno = EACCES;
		return errf(e, "timestamp %lld is more than %d s from now",
		    (long long)at, WINDOW);
	}
	if (nonce_fresh(nonce, now) < 0) {
		if (errno == EACCES)
			return errf(e, "nonce %s seen before: a replay", nonce);
		return errf(e, "cannot remember the nonce: %s",
		    strerror(errno));
	}
	return 0;
}

/*
 * Vonage's spelling of a number, digits without "+", in E.164 in buf when
 * "+" and the digits are one; else s as it came (a short code, a sender's
 * name).
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

/*
 * Vonage's receipt words in sms-record(5)'s: delivered as it is; expired
 * and failed (the carrier could not deliver) undelivered; rejected
 * (refused before it went) failed; accepted and buffered (with the
 * carrier, on the way) sent; its unknown (no final word came) sent too.
 */
static const char *
status_word(const char *s)
{
	static const char *const map[][2] = {
		{ "delivered", "delivered" },
		{ "expired", "undelivered" },
		{ "failed", "undelivered" },
		{ "rejected", "failed" },
		{ "accepted", "sent" },
		{ "buffered", "sent" },
		{ "unknown", "sent" },
	};

	for (size_t i = 0; s && i < sizeof map / sizeof *map; i++)
		if (strcmp(s, map[i][0]) == 0)
			return map[i][1];
	return s;
}

/* 0 if no parameter of f holds a NUL in its name or value, else -1. */
static int
no_nul(const struct form *f, struct errbuf *e)
{
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->pairs[i].value) != f->pairs[i].value_len ||
		    strlen(f->pairs[i].name) != f->pairs[i].name_len) {
			errno = EINVAL;
			return errf(e, "a parameter holds a NUL byte");
		}
	return 0;
}

static int
vonage_parse(const struct webhook_request *rq, struct webhook_event *ev,
    struct errbuf *e)
{
	const struct form *f = rq->form;
	const struct form_pair *text;
	const char *from, *to, *code, *total, *part;

	memset(ev, 0, sizeof *ev);
	if (f == NULL) {
		errno = EINVAL;
		return errf(e, "no parameters: Vonage's webhooks are a query "
		    "or a form");
	}
	ev->form = f;
	ev->body = "";
	if (no_nul(f, e) < 0 || form_field(f, "messageId", 1, &ev->id, e) < 0 ||
	    form_field(f, "msisdn", 1, &from, e) < 0 ||
	    form_field(f, "to", 1, &to, e) < 0)
		return -1;
	if (form_find(f, "status")) {
		/* A receipt: msisdn is the recipient, to our sender. */
		ev->kind = WEBHOOK_STATUS;
		if (form_field(f, "status", 1, &ev->status, e) < 0 ||
		    form_field(f, "err-code", 0, &code, e) < 0)
			return -1;
		ev->status = status_word(ev->status);
		ev->error_code = code && strcmp(code, "0") != 0 ? code : NULL;
		ev->from = e164(to, ev->num[0]);
		ev->to = e164(from, ev->num[1]);
		return 0;
	}
	ev->kind = WEBHOOK_MESSAGE;
	ev->status = "received";
	ev->from = e164(from, ev->num[0]);
	ev->to = e164(to, ev->num[1]);
	if (form_field(f, "concat-total", 0, &total, e) < 0 ||
	    form_field(f, "concat-part", 0, &part, e) < 0 ||
	    form_field(f, "concat-ref", 0, &ev->concat_ref, e) < 0)
		return -1;
	if (total && strspn(total, "0123456789") == strlen(total) &&
	    strlen(total) <= 3)
		ev->num_segments = atoi(total);
	if (ev->concat_ref || part || total) {
		/* A part of a long message: all three, or it is no part. */
		ev->concat_total = ev->num_segments;
		ev->concat_part = part && strspn(part, "0123456789") ==
		    strlen(part) && strlen(part) <= 3 ? atoi(part) : 0;
		errno = EINVAL;
		if (!ev->concat_ref || strlen(ev->concat_ref) > 64)
			return errf(e, "concat-ref: missing, or more than 64 "
			    "bytes");
		if (ev->concat_total < 1 || ev->concat_total > 255)
			return errf(e, "concat-total: not a count of parts "
			    "from 1 to 255");
		if (ev->concat_part < 1 || ev->concat_part > ev->concat_total)
			return errf(e, "concat-part: not from 1 to "
			    "concat-total");
	}
	if ((text = form_find(f, "text")) != NULL) {
		ev->body = text->value;
		ev->body_len = text->value_len;
	}
	return 0;
}

/* Vonage takes no reply in the answer: an empty 200 for anything. */
static int
vonage_reply(const char *text, size_t len, struct buf *out,
    const char **content_type, struct errbuf *e)
{
	(void)text;
	(void)len;
	(void)out;
	(void)e;
	*content_type = "text/plain";
	return 0;
}

/* A decimal code, or -1. */
static long
code_num(const char *code)
{
	char *end;
	long n;

	if (!code || !*code)
		return -1;
	errno = 0;
	n = strtol(code, &end, 10);
	return errno || *end ? -1 : n;
}

/*
 * The class of an error: with http (an API answer, always 200 from the
 * submit API) a submit status of section 3.1; without (http 0, a
 * delivery receipt) an err-code of section 3.3, where 9 (illegal number)
 * is how Vonage says the recipient opted out.
 */
static const char *
vonage_error_class(long http, const char *code)
{
	long n = code_num(code);

	if (http == 0) {
		switch (n) {
		case 9:
			return "opted_out";
		case 2: case 7: case 8: case 16:
			return "transient";
		case 3: case 5: case 11: case 12:
			return "invalid_recipient";
		default:
			return "permanent";
		}
	}
	switch (n) {
	case 1:
		return "throttled";
	case 5: case 10:
		return "transient";
	case 4: case 8: case 9: case 11: case 14: case 32:
		return "auth";
	case 6: case 7: case 29: case 33:
		/* 6 is how a number no network has is refused:
		 * "Unroutable message - rejected". */
		return "invalid_recipient";
	case -1:
		if (http == 401 || http == 403)
			return "auth";
		if (http == 429)
			return "throttled";
		if (http >= 500)
			return "transient";
		return "permanent";
	default:
		return "permanent";
	}
}

/* --- The SMS API ------------------------------------------------------- */

/*
 * The account: VONAGE_API_KEY and VONAGE_API_SECRET, as Vonage's own
 * tools read them; the sender VONAGE_FROM (or from); VONAGE_API_URL for a
 * simulator. Each has its name in the configuration too
 * (smsdesk-config(5)).
 */
static int
vonage_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e)
{
	const char *pub;

	(void)service;
	a->account = config_pick(cfg, NULL, "VONAGE_API_KEY", "vonage_api_key",
	    NULL);
	a->user = a->account;
	a->pass = config_pick(cfg, NULL, "VONAGE_API_SECRET",
	    "vonage_api_secret", NULL);
	a->from = config_pick(cfg, from, "VONAGE_FROM", "vonage_from",
	    provider_from(a, cfg));
	if (a->from && !*a->from)
		a->from = NULL;
	a->base = config_pick(cfg, NULL, "VONAGE_API_URL", "vonage_api_url",
	    API_URL);
	pub = config_pick(cfg, NULL, "SMSDESK_PUBLIC_URL", "public_url",
	    NULL);
	if (pub && *pub) {
		size_t n = strlen(pub), m = n + strlen(WEBHOOK_PATH) + 1;

		if (!(a->callback = malloc(m))) {
			errno = ENOMEM;
			return errf(e, "%s", strerror(ENOMEM));
		}
		snprintf(a->callback, m, "%.*s%s",
		    (int)(n && pub[n - 1] == '/' ? n - 1 : n), pub,
		    WEBHOOK_PATH);
	}
	if (!need)
		return 0;
	errno = EINVAL;
	if (!a->account || !*a->account)
		return errf(e, "no Vonage account: set VONAGE_API_KEY, or "
		    "vonage_api_key in the config");
	if (!a->pass || !*a->pass)
		return errf(e, "no Vonage credentials: set VONAGE_API_SECRET, "
		    "or vonage_api_secret in the config");
	if (!a->from)
		return errf(e, "no sender: give --from, or set VONAGE_FROM, "
		    "or from in the config");
	return 0;
}

/* Append "&name=value" (no "&" first) to b, form-encoded. */
static void
param(struct buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	form_add(b, value, strlen(value));
}

/* 1 if text needs UCS-2 (type=unicode), 0 if GSM-7 carries it. */
static int
needs_unicode(const char *text)
{
	struct gsm_opts opts = { 0 };
	struct gsm_result res;
	struct gsm_ctx *ctx = gsm_ctx_new();
	struct errbuf e;
	int r = 1;

	if (ctx && gsm_analyze(ctx, text, strlen(text), &opts, &res, &e) == 0)
		r = res.encoding == GSM_UCS2;
	gsm_ctx_free(ctx);
	return r;
}

static int
vonage_send_request(const struct provider_account *a, const json_t *msg,
    struct provider_http *rq)
{
	const char *body = record_str(msg, "body"), *to, *id;

	to = record_str(msg, "to");
	id = record_str(msg, "id");
	body = body ? body : "";
	param(&rq->body, "api_key", a->user ? a->user : "");
	param(&rq->body, "api_secret", a->pass ? a->pass : "");
	param(&rq->body, "from", a->from && *a->from == '+' ? a->from + 1 :
	    a->from ? a->from : "");
	param(&rq->body, "to", to && *to == '+' ? to + 1 : to ? to : "");
	param(&rq->body, "text", body);
	if (needs_unicode(body))
		param(&rq->body, "type", "unicode");
	if (a->callback)
		param(&rq->body, "callback", a->callback);
	param(&rq->body, "status-report-req", "1");
	if (id && *id)
		param(&rq->body, "client-ref", id);
	buf_addc(&rq->body, '\0');
	rq->body.len--;
	buf_adds(&rq->url, a->base);
	buf_addlit(&rq->url, "/sms/json");
	buf_addc(&rq->url, '\0');
	rq->post = 1;
	rq->content_type = "application/x-www-form-urlencoded";
	if (rq->url.err || rq->body.err) {
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
 * The answer to a submit: HTTP 200 whatever happened, one entry of
 * messages a part, each with its status. Every part 0: taken, the first
 * part's id the message's and every part's in ids. A part throttled (1)
 * and none taken: ask again. A part with an internal error (5), or parts
 * taken beside parts refused: some parts may be out, so never sent again
 * blindly (unknown). Else refused, with the first failing part's
 * error-text (also when the answer is one such status, not a list). An
 * answer that is not Vonage's: unknown for a 200 or a 5xx, refused else.
 */
static void
vonage_send_answer(long http, double retry_after, const char *body,
    size_t len, struct provider_answer *an)
{
	json_t *resp = json_loadb(body ? body : "", len, 0, NULL), *m;
	const char *st, *bad = NULL, *text = NULL;
	size_t i, n, taken = 0;
	long code;

	memset(an, 0, sizeof *an);
	n = json_array_size(json_object_get(resp, "messages"));
	if (http == 200 && n == 0 && record_str(resp, "status")) {
		/* A request refused whole: {"status", "error-text"}. */
		json_t *one = json_pack("{s:[O]}", "messages", resp);

		json_decref(resp);
		resp = one;
		n = 1;
	}
	if (http != 200 || n == 0) {
		an->class = vonage_error_class(http, NULL);
		if (http == 429 || (http == 503 && retry_after > 0))
			an->outcome = PROVIDER_RETRY;
		else if (http == 200 || http >= 500) {
			an->outcome = PROVIDER_UNKNOWN;
			an->class = "unknown";
		} else
			an->outcome = PROVIDER_FAILED;
		copy(an->message, sizeof an->message, http == 200 ?
		    "the answer has no messages" : record_str(resp,
		    "error-text"));
		json_decref(resp);
		return;
	}
	json_array_foreach(json_object_get(resp, "messages"), i, m) {
		const char *id = record_str(m, "message-id");

		st = record_str(m, "status");
		if (st && strcmp(st, "0") == 0 && id && *id &&
		    strlen(id) <= PROVIDER_ID_MAX) {
			if (taken == 0)
				copy(an->id, sizeof an->id, id);
			if (an->nids < PROVIDER_PARTS_MAX)
				copy(an->ids[an->nids++], sizeof an->ids[0],
				    id);
			taken++;
		} else if (!bad || strcmp(bad, "1") == 0) {
			bad = st ? st : "";
			text = record_str(m, "error-text");
		}
	}
	if (!bad) {
		an->outcome = PROVIDER_TAKEN;
		copy(an->status, sizeof an->status, "queued");
		json_decref(resp);
		return;
	}
	code = code_num(bad);
	an->code = code < 0 ? 0 : code;
	an->class = vonage_error_class(200, bad);
	copy(an->message, sizeof an->message, text);
	if (taken > 0 || code == 5) {
		an->outcome = PROVIDER_UNKNOWN;
		an->class = "unknown";
		if (!an->message[0])
			copy(an->message, sizeof an->message, taken ?
			    "some parts were taken, others not" :
			    "Vonage: internal error");
	} else if (code == 1)
		an->outcome = PROVIDER_RETRY;
	else
		an->outcome = PROVIDER_FAILED;
	an->id[0] = '\0';
	json_decref(resp);
}

const struct provider provider_vonage = {
	.name = "vonage",
	.sig_headers = { NULL },
	.webhook_path = WEBHOOK_PATH,
	.secret_env = "VONAGE_SIGNATURE_SECRET",
	.secret_key = "vonage_signature_secret",
	.sig_method_env = "VONAGE_SIGNATURE_METHOD",
	.sig_method_key = "vonage_signature_method",
	.get = 1,
	.verify = vonage_verify,
	.parse = vonage_parse,
	.reply = vonage_reply,
	.replies = 0,
	.error_class = vonage_error_class,
	.max_chars = 1600,
	.max_media = 0,
	.service_prefix = NULL,
	.account = vonage_account,
	.send_request = vonage_send_request,
	.send_answer = vonage_send_answer,
	/* The SMS API has no message lookup: nothing to fetch or list. */
	.fetch_request = NULL,
	.list_request = NULL,
	.read_messages = NULL,
};
