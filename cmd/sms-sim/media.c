/*
 * media.c: pictures, both ways.
 *
 * A create with MediaUrl has each URL fetched, as Twilio fetches them,
 * before the answer: followed through redirects, within --media-timeout,
 * no more than --media-max bytes in all. A fetch that fails fails the
 * message (it is answered 201, queued, then failed with the code, as
 * Twilio fails it): 11200 (HTTP retrieval failure) for a fetch that got
 * no 2xx, 12300 (Invalid Content-Type) for a type Twilio does not take,
 * 30019 (content size exceeds carrier limit) over the size limit: 5 MiB
 * in all (--media-max), and 500 KiB a piece for types other than JPEG,
 * PNG and GIF. What became of each URL goes in the create's --log record.
 *
 * A customer's picture is uploaded first (POST /sim/media, the bytes as
 * the body) and attached to a text by its SID (MediaSid of /sim/text).
 * Each piece is a Media resource under its message,
 * .../Messages/{Sid}/Media/{ME...}.json, and its bare URL answers, to the
 * account's credentials only, with a 302 to /cdn/TOKEN (on --cdn-host if
 * given, another host name for this sim, as Twilio's CDN is another
 * host), which serves the bytes without credentials, as Twilio's CDN does
 * (its log record says whether some were sent all the same); or the
 * piece's fault: 404, a stall after the headers, or a body over 8 MiB.
 *
 * Playing Telnyx or Plivo, a create's media_urls are fetched the same way
 * by that carrier's rules (struct rules: its types, its total, its codes),
 * and a customer's pieces are served at /cdn/ (Telnyx's URLs want no
 * credentials) or at Plivo's media URL behind Basic auth
 * (sim_media_bytes()); telnyx.c and plivo.c write them in their webhooks.
 *
 * The pieces live under s->lock. Their bytes are kept up to MEDIA_KEEP
 * (64 MiB) in all; past that the oldest are dropped, and their /cdn/ URL
 * answers 404 (their metadata stays).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "diag.h"
#include "form.h"

#include "sms-sim/sim.h"

#define LARGE_BYTES (8 * 1024 * 1024)	/* a "large" fault's body */
#define OTHER_MAX (500 * 1024)	/* a piece not JPEG, PNG or GIF */
#define MAX_REDIRS 5

/* The types Twilio fully supports (5 MB) and those it accepts (500 KB),
 * from its "Accepted Content Types for Media". */
static const char *const images[] = { "image/jpeg", "image/jpg",
	"image/gif", "image/png" };
static const char *const accepted[] = {
	"audio/basic", "audio/L24", "audio/mp4", "audio/mpeg", "audio/ogg",
	"audio/vorbis", "audio/vnd.rn-realaudio", "audio/vnd.wave",
	"audio/3gpp", "audio/3gpp2", "audio/ac3", "audio/webm",
	"audio/amr-nb", "audio/amr", "audio/aac", "video/mpeg", "video/mp4",
	"video/quicktime", "video/webm", "video/3gpp", "video/3gpp2",
	"video/3gpp-tt", "video/H261", "video/H263", "video/H263-1998",
	"video/H263-2000", "video/H264", "image/bmp", "image/tiff",
	"text/vcard", "text/x-vcard", "text/csv", "text/rtf",
	"text/richtext", "text/calendar", "text/directory",
	"application/pdf", "application/vcard",
	"application/vnd.apple.pkpass",
};

/*
 * Telnyx's media types, from its "MMS Media & Transcoding" list (images,
 * video, audio, PDF, vCard, iCalendar), all up to its total of less than
 * 1 MB; Plivo's, the common ones of its MMS support page's list, up to
 * its 5 MB in all.
 */
static const char *const telnyx_types[] = {
	"image/jpeg", "image/jpg", "image/png", "image/gif", "image/bmp",
	"image/tiff", "image/webp", "video/mp4", "video/3gpp",
	"video/quicktime", "audio/mpeg", "audio/wav", "audio/amr",
	"audio/ogg", "application/pdf", "text/vcard", "text/x-vcard",
	"text/calendar",
};
static const char *const plivo_types[] = {
	"image/jpeg", "image/jpg", "image/png", "image/gif", "video/mp4",
	"video/3gpp", "audio/amr", "audio/mpeg", "application/pdf",
	"text/vcard", "text/x-vcard", "text/plain",
};

#define N(v) (sizeof (v) / sizeof (v)[0])

/*
 * How a carrier fetches a create's media: the types it takes up to the
 * whole (full) and those it takes up to other_max (other), the most in
 * all (0: --media-max alone), whether it wants a Content-Length, the
 * user agent, and the error code of a fetch that failed, of a type not
 * taken, and of too many bytes.
 */
struct rules {
	const char *const *full;
	size_t nfull;
	const char *const *other;
	size_t nother;
	size_t other_max, total;
	int need_length;
	const char *agent;
	int fetch_code, type_code, size_code;
};

static const struct rules twilio_rules = {
	images, N(images), accepted, N(accepted), OTHER_MAX, 0, 0,
	"TwilioProxy/1.1", 11200, 12300, 30019,
};
static const struct rules telnyx_rules = {
	telnyx_types, N(telnyx_types), NULL, 0, 0, TELNYX_MEDIA_TOTAL, 0,
	"telnyx-mms", TELNYX_MEDIA_FAILED, TELNYX_MEDIA_FAILED,
	TELNYX_MEDIA_FAILED,
};
/*
 * WhatsApp as Twilio carries it (its "Guidance on WhatsApp Media
 * Messages"): images (JPEG, PNG, WebP) up to 5 MB, and audio, video, PDF,
 * the Office documents and vCard up to the message's 16 MB; a type not
 * taken is 63021 (Channel invalid content), too many bytes 11751 (Media
 * exceeds messaging provider size limit).
 */
static const char *const wa_images[] = { "image/jpeg", "image/jpg",
	"image/png", "image/webp" };
static const char *const wa_other[] = {
	"audio/ogg", "audio/amr", "audio/3gpp", "audio/aac", "audio/mpeg",
	"video/mp4", "application/pdf", "application/msword",
	"application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument."
	    "presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"text/vcard",
};

static const struct rules plivo_rules = {
	plivo_types, N(plivo_types), NULL, 0, 0, PLIVO_MEDIA_TOTAL, 1,
	"PlivoMMS/1.0", PLIVO_MEDIA_FAILED, PLIVO_MEDIA_TYPE,
	PLIVO_MEDIA_LARGE,
};

/* On WhatsApp the images are the ones capped (other_max), the rest go up
 * to the total, which --media-max does not lower. */
static const struct rules whatsapp_rules = {
	wa_other, N(wa_other), wa_images, N(wa_images), WA_IMAGE_MAX,
	WA_MEDIA_TOTAL, 0, "TwilioProxy/1.1", 11200, WA_MEDIA_TYPE,
	WA_MEDIA_LARGE,
};

static const struct rules *
rules_of(const struct sim *s)
{
	if (s->pv == &sim_telnyx)
		return &telnyx_rules;
	if (s->pv == &sim_plivo)
		return &plivo_rules;
	return &twilio_rules;
}

/* Whether type (parameters after ';' ignored) is one of v[n]. */
static int
type_in(const char *type, const char *const *v, size_t n)
{
	size_t len = strcspn(type, "; \t");

	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == len && strncasecmp(type, v[i], len) == 0)
			return 1;
	return 0;
}

int
sim_media_fault(const char *mode, enum media_fault *out)
{
	if (strcmp(mode, "none") == 0)
		*out = FAULT_NONE;
	else if (strcmp(mode, "404") == 0)
		*out = FAULT_404;
	else if (strcmp(mode, "timeout") == 0)
		*out = FAULT_TIMEOUT;
	else if (strcmp(mode, "large") == 0)
		*out = FAULT_LARGE;
	else
		return -1;
	return 0;
}

void
sim_media_free(struct media *p)
{
	if (!p)
		return;
	free(p->type);
	free(p->src);
	free(p->bytes);
	free(p);
}

/* A new piece of type, taking bytes; its SID and token drawn. NULL on
 * ENOMEM (bytes then freed). */
static struct media *
piece_new(struct sim *s, const char *type, unsigned char *bytes,
    size_t size)
{
	struct media *p = calloc(1, sizeof *p);
	unsigned char raw[32];

	if (!p || !(p->type = strdup(type))) {
		free(p);
		free(bytes);
		return NULL;
	}
	p->bytes = bytes;
	p->size = size;
	p->created = sim_now(s);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(p->token, sizeof p->token, raw, sizeof raw);
	pthread_mutex_lock(&s->lock);
	sim_new_sid(s, "ME", p->sid);
	pthread_mutex_unlock(&s->lock);
	return p;
}

/* Drop the oldest bytes until what is kept fits s->media_keep. */
static void
evict_locked(struct sim *s)
{
	for (size_t i = 0; i < s->nmedia && s->media_kept > s->media_keep;
	    i++) {
		struct media *p = s->media[i];

		if (!p->bytes)
			continue;
		s->media_kept -= p->size;
		free(p->bytes);
		p->bytes = NULL;
	}
}

/* Store p; s->lock held. Returns 0, or -1 on ENOMEM. */
static int
store_locked(struct sim *s, struct media *p)
{
	if (s->nmedia == s->mediacap) {
		size_t cap = s->mediacap ? s->mediacap * 2 : 64;
		struct media **v = realloc(s->media, cap * sizeof *v);

		if (!v)
			return -1;
		s->media = v;
		s->mediacap = cap;
	}
	s->media[s->nmedia++] = p;
	if (p->bytes)
		s->media_kept += p->size;
	evict_locked(s);
	return 0;
}

struct media *
sim_media_find_locked(const struct sim *s, const char *sid)
{
	for (size_t i = s->nmedia; i-- > 0;)
		if (strcmp(s->media[i]->sid, sid) == 0)
			return s->media[i];
	return NULL;
}

int
sim_media_attach_locked(struct sim *s, const char *sid,
    struct media **pieces, size_t n, int store)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (store && store_locked(s, pieces[i]) < 0)
			break;
		snprintf(pieces[i]->parent, sizeof pieces[i]->parent, "%s",
		    sid);
	}
	if (i == n)
		return 0;
	for (; i < n; i++)
		sim_media_free(pieces[i]);
	return -1;	/* only when storing */
}

/* --- Fetching a create's MediaUrl --------------------------------------- */

struct fetch {
	struct buf b;
	size_t left;		/* bytes still allowed */
	int too_large;
};

static size_t
on_bytes(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;

	if (size * n > f->left) {
		f->too_large = 1;
		return 0;
	}
	if (buf_add(&f->b, p, size * n) < 0)
		return 0;
	f->left -= size * n;
	return size * n;
}

/* Fetch url into a piece (*out), within left bytes, by the rules r; its
 * outcome in rec. Returns 0 or the error code that fails the message. */
static int
fetch_one(struct sim *s, CURL *h, const struct rules *r, const char *url,
    size_t *left, struct media **out, json_t *rec)
{
	struct fetch f = { .left = *left };
	char err[CURL_ERROR_SIZE] = "";
	const char *ctype = NULL;
	curl_off_t length = -1;
	long http = 0;
	CURLcode rc;
	int code = 0, full;

	*out = NULL;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, r->agent);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->media_timeout);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
	curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
	json_object_set_new(rec, "http", http ? json_integer(http) :
	    json_null());
	json_object_set_new(rec, "content_type", ctype ?
	    json_string(ctype) : json_null());
	full = ctype && type_in(ctype, r->full, r->nfull);
	if (f.too_large) {
		code = r->size_code;
		json_object_set_new(rec, "error", json_string("too large"));
	} else if (rc != CURLE_OK) {
		code = r->fetch_code;
		json_object_set_new(rec, "error", json_string(err[0] ? err :
		    curl_easy_strerror(rc)));
	} else if (http < 200 || http > 299) {
		code = r->fetch_code;
		json_object_set_new(rec, "error", json_string("not 2xx"));
	} else if (!ctype || (!full && !type_in(ctype, r->other,
	    r->nother))) {
		code = r->type_code;
		json_object_set_new(rec, "error",
		    json_string("content type not accepted"));
	} else if (r->need_length && length < 0) {
		code = r->type_code;
		json_object_set_new(rec, "error",
		    json_string("no Content-Length"));
	} else if (!full && f.b.len > r->other_max) {
		code = r->size_code;
		json_object_set_new(rec, "error", json_string("too large"));
	}
	json_object_set_new(rec, "size", json_integer((json_int_t)f.b.len));
	if (f.b.err && !code) {
		code = r->fetch_code;
		json_object_set_new(rec, "error",
		    json_string(strerror(ENOMEM)));
	}
	if (!code) {
		*left -= f.b.len;
		*out = piece_new(s, ctype, (unsigned char *)f.b.p, f.b.len);
		if (*out && !((*out)->src = strdup(url))) {
			sim_media_free(*out);
			*out = NULL;
		}
		if (*out)
			json_object_set_new(rec, "sid",
			    json_string((*out)->sid));
		return 0;
	}
	json_object_set_new(rec, "code", json_integer(code));
	buf_free(&f.b);
	return code;
}

int
sim_media_fetch(struct sim *s, const char *const *urls, size_t n,
    struct media **out, size_t *nout, int wa, struct answer *a)
{
	const struct rules *r = wa ? &whatsapp_rules : rules_of(s);
	size_t left = wa ? r->total : r->total && r->total < s->media_max ?
	    r->total : s->media_max;
	CURL *h = curl_easy_init();
	int code = 0, c;

	*nout = 0;
	if (!a->media)
		a->media = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_pack("{s:s}", "url", urls[i]);
		struct media *p = NULL;

		if (!h || !rec) {
			json_decref(rec);
			code = code ? code : r->fetch_code;
			continue;
		}
		if ((c = fetch_one(s, h, r, urls[i], &left, &p, rec)) && !code)
			code = c;
		if (p)
			out[(*nout)++] = p;
		json_array_append_new(a->media, rec);
	}
	if (h)
		curl_easy_cleanup(h);
	return code;
}

/* --- POST /sim/media ---------------------------------------------------- */

int
sim_media_upload(struct sim *s, const char *query, const char *type,
    const struct buf *body, struct answer *a)
{
	enum media_fault fault = s->media_fault;
	unsigned char *bytes;
	struct media *p;
	const char *v;
	struct form q;
	struct errbuf e;
	int rc;

	if (form_parse(&q, query, strlen(query), &e) < 0)
		return sim_error(a, 400, 20001, "Invalid query: %s", e.msg);
	if ((v = form_get(&q, "fail")) && sim_media_fault(v, &fault) < 0) {
		sim_error(a, 400, 20001, "Invalid fail: '%s' is not 404, "
		    "timeout, large or none", v);
		form_free(&q);
		return (int)a->http;
	}
	form_free(&q);
	if (!type || !*type || strlen(type) >= 128 ||
	    strpbrk(type, "\r\n\""))
		return sim_error(a, 400, 20001,
		    "A media upload needs its Content-Type");
	if (!(bytes = malloc(body->len ? body->len : 1)))
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	if (body->len)
		memcpy(bytes, body->p, body->len);
	if (!(p = piece_new(s, type, bytes, body->len)))
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	p->fault = fault;
	pthread_mutex_lock(&s->lock);
	rc = store_locked(s, p);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		sim_media_free(p);
		return sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
	}
	buf_addlit(&a->body, "{");
	sim_jkey(&a->body, "content_type");
	buf_add_jstr(&a->body, type, strlen(type));
	sim_jkey(&a->body, "sid");
	buf_add_jstr(&a->body, p->sid, strlen(p->sid));
	sim_jkey(&a->body, "size");
	buf_addu(&a->body, p->size);
	buf_addc(&a->body, '}');
	snprintf(a->sid, sizeof a->sid, "%s", p->sid);
	snprintf(a->what, sizeof a->what, "media %s, %zu bytes of %.60s",
	    p->sid, p->size, type);
	a->http = 201;
	return 201;
}

/* --- The Media resource ------------------------------------------------- */

static void
jstr(struct buf *b, const char *key, const char *value)
{
	sim_jkey(b, key);
	buf_add_jstr(b, value, strlen(value));
}

/* The Media resource p, as Twilio writes it, keys sorted. */
static void
media_json(const struct sim *s, const struct media *p, struct buf *b)
{
	char t[40];

	buf_addc(b, '{');
	jstr(b, "account_sid", s->account);
	jstr(b, "content_type", p->type);
	sim_rfc2822(p->created, t);
	jstr(b, "date_created", t);
	jstr(b, "date_updated", t);
	jstr(b, "parent_sid", p->parent);
	jstr(b, "sid", p->sid);
	sim_jkey(b, "uri");
	buf_addlit(b, "\"" API);
	buf_adds(b, s->account);
	buf_addlit(b, "/Messages/");
	buf_adds(b, p->parent);
	buf_addlit(b, "/Media/");
	buf_adds(b, p->sid);
	buf_addlit(b, ".json\"}");
}

/* The list of the message sid's media, one page of all of them. */
static int
media_list_locked(struct sim *s, const char *sid, struct answer *a)
{
	struct buf uri = { 0 };
	size_t n = 0;

	buf_addlit(&uri, "\"" API);
	buf_adds(&uri, s->account);
	buf_addlit(&uri, "/Messages/");
	buf_adds(&uri, sid);
	buf_addlit(&uri, "/Media.json?PageSize=50&Page=0\"");
	if (uri.err) {
		buf_free(&uri);
		return sim_error(a, 503, 20503, "Service unavailable");
	}
	buf_addlit(&a->body, "{\"media_list\":[");
	for (size_t i = 0; i < s->nmedia; i++) {
		if (strcmp(s->media[i]->parent, sid) != 0)
			continue;
		if (n++)
			buf_addc(&a->body, ',');
		media_json(s, s->media[i], &a->body);
	}
	buf_addc(&a->body, ']');
	sim_jkey(&a->body, "end");
	buf_addu(&a->body, n ? n - 1 : 0);
	sim_jkey(&a->body, "first_page_uri");
	buf_add(&a->body, uri.p, uri.len);
	sim_jkey(&a->body, "next_page_uri");
	buf_addlit(&a->body, "null");
	sim_jkey(&a->body, "page");
	buf_addu(&a->body, 0);
	sim_jkey(&a->body, "page_size");
	buf_addu(&a->body, 50);
	sim_jkey(&a->body, "previous_page_uri");
	buf_addlit(&a->body, "null");
	sim_jkey(&a->body, "start");
	buf_addu(&a->body, 0);
	sim_jkey(&a->body, "uri");
	buf_add(&a->body, uri.p, uri.len);
	buf_addc(&a->body, '}');
	buf_free(&uri);
	a->http = 200;
	snprintf(a->what, sizeof a->what, "listed %zu media of %s", n, sid);
	return 200;
}

int
sim_media_api(struct sim *s, const char *msg_sid, const char *rest,
    const char *path, struct answer *a)
{
	struct media *p;
	size_t n;
	long at;
	int json;

	pthread_mutex_lock(&s->lock);
	at = sim_find_locked(s, msg_sid);
	if (at < 0 || s->msgs[at]->deleted) {
		pthread_mutex_unlock(&s->lock);
		return sim_not_found(a, path);
	}
	if (strcmp(rest, "/Media.json") == 0) {
		media_list_locked(s, msg_sid, a);
		pthread_mutex_unlock(&s->lock);
		return (int)a->http;
	}
	rest += strlen("/Media/");
	n = strcspn(rest, ".");
	json = strcmp(rest + n, ".json") == 0;
	if (n != 34 || (rest[n] && !json)) {
		pthread_mutex_unlock(&s->lock);
		return sim_not_found(a, path);
	}
	{
		char sid[35];

		snprintf(sid, sizeof sid, "%.34s", rest);
		p = sim_media_find_locked(s, sid);
	}
	if (!p || strcmp(p->parent, msg_sid) != 0) {
		pthread_mutex_unlock(&s->lock);
		return sim_not_found(a, path);
	}
	snprintf(a->sid, sizeof a->sid, "%s", p->sid);
	if (json) {
		media_json(s, p, &a->body);
		a->http = 200;
		snprintf(a->what, sizeof a->what, "fetched %s", p->sid);
	} else if (s->cdn_host) {
		snprintf(a->location, sizeof a->location,
		    "http://%s:%u/cdn/%s", s->cdn_host, s->port, p->token);
		a->http = 302;
		snprintf(a->what, sizeof a->what, "media %s, to %s",
		    p->sid, s->cdn_host);
	} else {
		snprintf(a->location, sizeof a->location, "/cdn/%s",
		    p->token);
		a->http = 302;
		snprintf(a->what, sizeof a->what, "media %s, to /cdn/",
		    p->sid);
	}
	pthread_mutex_unlock(&s->lock);
	return (int)a->http;
}

/* Answer p's bytes, or its fault; what names where it was asked for.
 * s->lock held, and let go. */
static int
serve_unlock(struct sim *s, struct media *p, const char *what,
    struct answer *a)
{
	if (!p || !p->bytes || p->fault == FAULT_404) {
		pthread_mutex_unlock(&s->lock);
		a->http = 404;
		snprintf(a->ctype, sizeof a->ctype, "text/plain");
		buf_addlit(&a->body, "Not Found\n");
		snprintf(a->what, sizeof a->what, "%s%s",
		    p ? p->sid : what,
		    p && p->bytes ? ", --media-fail 404" : p ? ", dropped" :
		    "");
		return 404;
	}
	snprintf(a->sid, sizeof a->sid, "%s", p->sid);
	snprintf(a->ctype, sizeof a->ctype, "%s", p->type);
	buf_add(&a->body, p->bytes, p->size);
	if (p->fault == FAULT_LARGE)
		a->large = LARGE_BYTES > p->size ? LARGE_BYTES : p->size + 1;
	a->stall = p->fault == FAULT_TIMEOUT;
	pthread_mutex_unlock(&s->lock);
	if (a->body.err)
		return sim_error(a, 503, 20503, "Service unavailable");
	a->http = 200;
	snprintf(a->what, sizeof a->what, "media %s, %zu bytes%s", a->sid,
	    a->large ? a->large : a->body.len, a->stall ? ", stalled" :
	    a->large ? ", --media-fail large" : "");
	return 200;
}

int
sim_media_cdn(struct sim *s, const char *token, struct answer *a)
{
	struct media *p = NULL;

	pthread_mutex_lock(&s->lock);
	if (strlen(token) == 64)
		for (size_t i = s->nmedia; i-- > 0 && !p;)
			if (s->media[i]->parent[0] &&
			    sodium_memcmp(s->media[i]->token, token, 64) == 0)
				p = s->media[i];
	return serve_unlock(s, p, "no such media", a);
}

int
sim_media_bytes(struct sim *s, const char *msg_sid, const char *sid,
    struct answer *a)
{
	struct media *p;

	pthread_mutex_lock(&s->lock);
	p = sim_media_find_locked(s, sid);
	/* A piece of the message, or of any message; never one not yet
	 * attached to one ("", or "-" while a text takes it). */
	if (p && (msg_sid ? strcmp(p->parent, msg_sid) != 0 :
	    !p->parent[0] || strcmp(p->parent, "-") == 0))
		p = NULL;
	return serve_unlock(s, p, "no such media", a);
}

void
sim_media_cdn_url(const struct sim *s, const struct msg *m,
    const struct media *p, char *out, size_t size)
{
	if (s->cdn_host)
		snprintf(out, size, "http://%s:%u/cdn/%s", s->cdn_host,
		    s->port, p->token);
	else
		snprintf(out, size, "%s/cdn/%s", m->media_base ?
		    m->media_base : "", p->token);
}

void
sim_media_sha256(const struct media *p, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	out[0] = '\0';
	if (p->bytes) {
		crypto_hash_sha256(h, p->bytes, p->size);
		sodium_bin2hex(out, 65, h, sizeof h);
	}
}

unsigned
sim_media_params(struct sim *s, const char *sid, const char *base,
    struct buf *form)
{
	char name[32];
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nmedia; i++) {
		struct media *p = s->media[i];
		struct buf url = { 0 };

		if (strcmp(p->parent, sid) != 0)
			continue;
		buf_adds(&url, base);
		buf_addlit(&url, API);
		buf_adds(&url, s->account);
		buf_addlit(&url, "/Messages/");
		buf_adds(&url, sid);
		buf_addlit(&url, "/Media/");
		buf_adds(&url, p->sid);
		snprintf(name, sizeof name, "MediaUrl%u", n);
		sim_add_param(form, name, url.p ? url.p : "", url.len);
		snprintf(name, sizeof name, "MediaContentType%u", n);
		sim_add_params(form, name, p->type);
		if (url.err)
			form->err = 1;
		buf_free(&url);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}
