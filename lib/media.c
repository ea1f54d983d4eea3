/*
 * media.c: inbound media, sniffed and fetched into the inbox (media.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "inbox.h"
#include "media.h"
#include "record.h"
#include "utf8.h"
#include "when.h"

/* An ISO base media file (MP4, 3GP, HEIF): its major brand's type. */
static const char *
brand(const unsigned char *p, size_t n)
{
	static const char *const heic[] = { "heic", "heix", "hevc", "hevx",
		"heim", "heis", "mif1", "msf1" };

	if (n < 12 || memcmp(p + 4, "ftyp", 4) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof heic / sizeof heic[0]; i++)
		if (memcmp(p + 8, heic[i], 4) == 0)
			return "image/heic";
	if (memcmp(p + 8, "3gp", 3) == 0 || memcmp(p + 8, "3g2", 3) == 0)
		return "video/3gpp";
	/* Audio-only brands are none of ours. */
	if (memcmp(p + 8, "M4A ", 4) == 0 || memcmp(p + 8, "M4B ", 4) == 0)
		return NULL;
	return "video/mp4";
}

/* Whether p is UTF-8 text: no NUL, no controls but tab, CR, LF, FF. */
static int
is_text(const unsigned char *p, size_t n)
{
	size_t i = 0, at;
	uint32_t cp;

	if (n == 0)
		return 0;
	while (i < n) {
		at = i;
		if (utf8_next((const char *)p, n, &i, &cp) < 0)
			/*
			 * A character cut by the end of what we saw, when
			 * what we saw was cut (the whole sniff's worth).
			 */
			return n == MEDIA_SNIFF_BYTES && n - at < 4 &&
			    p[at] >= 0xC2;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' &&
		    cp != '\f') || cp == 0x7F)
			return 0;
	}
	return 1;
}

const char *
media_sniff(const unsigned char *p, size_t n)
{
	const unsigned char *t = p;
	size_t tn = n;

	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return "image/jpeg";
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0)
		return brand(p, n);
	if (n >= 6 && memcmp(p, "#!AMR\n", 6) == 0)
		return "audio/amr";
	if (n >= 4 && memcmp(p, "OggS", 4) == 0)
		return "audio/ogg";	/* a WhatsApp voice note: Opus */
	/* MP3: its ID3 tag, or the sync word of an MPEG-1 or -2 Layer III
	 * frame (ADTS AAC, whose layer bits are 00, is not one). */
	if ((n >= 3 && memcmp(p, "ID3", 3) == 0) || (n >= 2 && p[0] ==
	    0xFF && (p[1] & 0xF6) == 0xF2))
		return "audio/mpeg";
	if (n >= 5 && memcmp(p, "%PDF-", 5) == 0)
		return "application/pdf";
	if (tn >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		t += 3, tn -= 3;
	while (tn > 0 && (*t == ' ' || *t == '\t' || *t == '\r' ||
	    *t == '\n'))
		t++, tn--;
	if (tn >= 11 && strncasecmp((const char *)t, "BEGIN:VCARD", 11) == 0)
		return "text/vcard";
	return is_text(p, n) ? "text/plain" : NULL;
}

const char *
media_ext(const char *type)
{
	static const struct { const char *type, *ext; } ext[] = {
		{ "image/jpeg", "jpg" }, { "image/png", "png" },
		{ "image/gif", "gif" }, { "image/webp", "webp" },
		{ "image/heic", "heic" }, { "video/mp4", "mp4" },
		{ "video/3gpp", "3gp" }, { "audio/amr", "amr" },
		{ "audio/ogg", "ogg" }, { "audio/mpeg", "mp3" },
		{ "application/pdf", "pdf" }, { "text/vcard", "vcf" },
		{ "text/plain", "txt" },
	};

	for (size_t i = 0; type && i < sizeof ext / sizeof ext[0]; i++)
		if (strcmp(type, ext[i].type) == 0)
			return ext[i].ext;
	return "bin";
}

/* ct without parameters, lowercase, its aliases made ours, into out. */
static void
canonical(const char *ct, char *out, size_t size)
{
	static const struct { const char *alias, *type; } alias[] = {
		{ "image/jpg", "image/jpeg" }, { "image/pjpeg", "image/jpeg" },
		{ "image/heif", "image/heic" }, { "audio/3gpp", "video/3gpp" },
		{ "text/x-vcard", "text/vcard" },
		{ "text/directory", "text/vcard" },
		{ "audio/x-amr", "audio/amr" }, { "audio/mp3", "audio/mpeg" },
		{ "audio/opus", "audio/ogg" },
	};
	size_t n = 0;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (; *ct && *ct != ';' && *ct != ' ' && *ct != '\t' &&
	    n + 1 < size; ct++)
		out[n++] = (*ct >= 'A' && *ct <= 'Z') ? (char)(*ct + 32) :
		    *ct;
	out[n] = '\0';
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strcmp(out, alias[i].alias) == 0)
			snprintf(out, size, "%s", alias[i].type);
}

int
media_mismatch(const char *ct, const char *type)
{
	char c[128];

	if (ct == NULL)
		return 0;
	if (type == NULL)
		return 1;
	canonical(ct, c, sizeof c);
	return strcmp(c, type) != 0;
}

/* A fetch under way. */
struct get {
	int fd;
	long long max, size;
	int too_large, write_failed;
	unsigned char head[MEDIA_SNIFF_BYTES];
	size_t nhead;
	crypto_hash_sha256_state sha;
};

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct get *g = arg;
	size_t len = size * n, off = 0, k;
	ssize_t w;

	if (g->size + (long long)len > g->max) {
		g->too_large = 1;
		return 0;
	}
	if (g->nhead < sizeof g->head) {
		k = sizeof g->head - g->nhead;
		k = k < len ? k : len;
		memcpy(g->head + g->nhead, p, k);
		g->nhead += k;
	}
	crypto_hash_sha256_update(&g->sha, (unsigned char *)p, len);
	while (off < len) {
		if ((w = write(g->fd, p + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			g->write_failed = errno;
			return 0;
		}
		off += (size_t)w;
	}
	g->size += (long long)len;
	return len;
}

/* libcurl's progress callback: non-zero stops the transfer. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const _Atomic int *cancel = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(cancel) != 0;
}

static int
failed(struct media_result *r, const char *code, int permanent,
    const char *fmt, const char *what)
{
	snprintf(r->code, sizeof r->code, "%s", code);
	r->permanent = permanent;
	snprintf(r->message, sizeof r->message, fmt, what);
	return -1;
}

/* The host and port of url, lower case, in hp; 0, or -1 if it has none. */
static int
origin(const char *url, char *hp, size_t size)
{
	char *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	int rc = -1;

	if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK && (size_t)snprintf(hp, size, "%s:%s", host, port) <
	    size) {
		for (char *p = hp; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p += 'a' - 'A';
		rc = 0;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/*
 * Whether url is on the host and port of the provider's API (o->auth_url)
 * or of its media host (o->media_url), where its media are and where its
 * credentials may go.
 */
static int
auth_goes(const char *url, const struct media_opts *o)
{
	char a[512], b[512];

	if (!o->user || !o->pass || origin(url, a, sizeof a) < 0)
		return 0;
	return (origin(o->auth_url, b, sizeof b) == 0 && strcmp(a, b) == 0) ||
	    (o->media_url && origin(o->media_url, b, sizeof b) == 0 &&
	    strcmp(a, b) == 0);
}

int
media_get(const char *url, const struct media_opts *o, int fd,
    struct media_result *r)
{
	struct get g = { .fd = fd };
	char cerr[CURL_ERROR_SIZE] = "", code[16];
	unsigned char md[crypto_hash_sha256_BYTES];
	CURLcode cc;
	CURL *c;

	memset(r, 0, sizeof *r);
	g.max = o->max_bytes > 0 ? o->max_bytes : MEDIA_MAX_DEFAULT;
	if (sodium_init() < 0)
		return failed(r, "transient", 0, "%s", "libsodium: cannot "
		    "start");
	crypto_hash_sha256_init(&g.sha);
	if (!(c = curl_easy_init()))
		return failed(r, "transient", 0, "%s", "libcurl: cannot "
		    "start");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	/*
	 * The provider's credentials go to its own host, never to another
	 * one a URL names or a redirect leads to.
	 */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	if (auth_goes(url, o)) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, o->pass);
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smsdesk/" SMSDESK_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout :
	    (long)MEDIA_TIMEOUT_DEFAULT);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g.max);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
	/* An error's body is no picture: not written. */
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	if (o->cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, o->cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (o->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http);
	curl_easy_cleanup(c);
	r->size = g.size;
	if (cc == CURLE_OK && r->http / 100 == 2) {
		crypto_hash_sha256_final(&g.sha, md);
		sodium_bin2hex(r->sha256, sizeof r->sha256, md, sizeof md);
		r->type = media_sniff(g.head, g.nhead);
		return 0;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return failed(r, "cancelled", 0, "%s", "cancelled");
	if (g.too_large || cc == CURLE_FILESIZE_EXCEEDED)
		return failed(r, "too_large", 1, "larger than the cap of %s "
		    "bytes", (snprintf(code, sizeof code, "%lld", g.max),
		    code));
	if (g.write_failed)
		return failed(r, "transient", 0, "cannot write: %s",
		    strerror(g.write_failed));
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return failed(r, "timeout", 0, "%s", cerr[0] ? cerr :
		    "timed out");
	if (r->http == 404 || r->http == 410)
		return failed(r, "not_found", 1, "%s", r->http == 404 ?
		    "404 Not Found" : "410 Gone");
	if (r->http >= 300) {
		snprintf(code, sizeof code, "http_%03ld", r->http % 1000);
		r->permanent = r->http >= 400 && r->http < 500 &&
		    r->http != 401 && r->http != 403 && r->http != 408 &&
		    r->http != 429;
		snprintf(r->code, sizeof r->code, "%s", code);
		snprintf(r->message, sizeof r->message, "HTTP %ld", r->http);
		return -1;
	}
	return failed(r, "transient", 0, "%s", cerr[0] ? cerr :
	    curl_easy_strerror(cc));
}

int
media_due(const json_t *item, time_t now)
{
	const json_t *next = json_object_get(item, "next_try");
	time_t t;

	if (!json_is_object(item) || !record_str(item, "url") ||
	    json_object_get(item, "file"))
		return 0;
	if (json_object_get(item, "error") && (!next || json_is_null(next)))
		return 0;
	if (json_is_string(next) && when_parse(json_string_value(next), &t,
	    NULL) == 0 && t > now)
		return 0;
	return 1;
}

/* When the try after tries of them comes, or -1 (no more). */
static time_t
next_try(time_t now, long long tries)
{
	time_t wait = MEDIA_RETRY_FIRST;

	if (tries >= MEDIA_TRIES_MAX)
		return -1;
	for (long long i = 1; i < tries && wait < MEDIA_RETRY_CAP; i++)
		wait *= 2;
	return now + (wait < MEDIA_RETRY_CAP ? wait : MEDIA_RETRY_CAP);
}

int
media_fetch_item(struct inbox *ib, const char *thread, const char *name,
    const json_t *msg, size_t index, const struct media_opts *o, time_t now,
    struct media_result *r, struct errbuf *e)
{
	const json_t *item = json_array_get(json_object_get(msg, "media"),
	    index);
	const char *url = record_str(item, "url");
	static const char *const done[] = { "error", "next_try", NULL };
	char tmp[INBOX_MEDIA_TMP_MAX], at[WHEN_BUFSZ], nt[WHEN_BUFSZ];
	struct media_result mine;
	long long tries;
	json_t *f;
	time_t t;
	int fd, rc;

	if (!r)
		r = &mine;
	if (!url)
		return errno = EINVAL, errf(e, "msg/%s/%s: media item %zu "
		    "has no url", thread, name, index);
	tries = json_integer_value(json_object_get(item, "tries")) + 1;
	if ((fd = inbox_media_open(ib, tmp, e)) < 0)
		return -1;
	when_format(now, at);
	if (media_get(url, o, fd, r) == 0) {
		f = json_pack("{s:I,s:s,s:s?,s:b,s:s,s:I}",
		    "size", (json_int_t)r->size, "sha256", r->sha256,
		    "type", r->type, "mismatch", media_mismatch(
		    record_str(item, "content_type"), r->type),
		    "fetched_at", at, "tries", (json_int_t)tries);
		if (!f) {
			inbox_media_drop(ib, fd, tmp);
			return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
		}
		rc = inbox_media_update(ib, thread, name, index, fd, tmp,
		    media_ext(r->type), f, done, NULL, e);
		json_decref(f);
		return rc < 0 ? -1 : 1;
	}
	inbox_media_drop(ib, fd, tmp);
	if (strcmp(r->code, "cancelled") == 0)
		return 2;
	t = r->permanent ? -1 : next_try(now, tries);
	if (t >= 0)
		when_format(t, nt);
	f = json_pack("{s:{s:s,s:s},s:I,s:s?}", "error", "code", r->code,
	    "message", r->message, "tries", (json_int_t)tries, "next_try",
	    t >= 0 ? nt : NULL);
	if (!f)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	rc = inbox_media_update(ib, thread, name, index, -1, NULL, NULL, f,
	    NULL, NULL, e);
	json_decref(f);
	return rc < 0 ? -1 : 0;
}

int
media_fetch_message(struct inbox *ib, const char *thread, const char *name,
    const struct media_opts *o, time_t now, size_t *fetched,
    size_t *failed_n, struct errbuf *e)
{
	json_t *msg = inbox_message(ib, thread, name, e), *media;
	int rc = 0;

	if (!msg)
		return -1;
	media = json_object_get(msg, "media");
	for (size_t i = 0; i < json_array_size(media); i++) {
		if (!media_due(json_array_get(media, i), now))
			continue;
		rc = media_fetch_item(ib, thread, name, msg, i, o, now, NULL,
		    e);
		if (rc < 0)
			break;
		if (rc == 2) {
			rc = 0;
			break;
		}
		if (rc == 1 && fetched)
			(*fetched)++;
		if (rc == 0 && failed_n)
			(*failed_n)++;
		rc = 0;
	}
	json_decref(msg);
	return rc;
}
