/*
 * media.h: the media of inbound messages (MMS): what the bytes are
 * (sniffing), and the fetch of an item from the provider into the inbox
 * (media/THREAD/NAME, smsdesk-inbox(5)) with its bookkeeping on the
 * message's record (sms-record(5) "media").
 *
 * The fetch is an HTTP GET with libcurl: Basic auth with the provider's
 * credentials for the URL's own host only (redirects are followed, to a
 * CDN say, and the credentials are never sent to another host, scheme or
 * port), http and https only, a size cap and a timeout. The bytes go to a
 * file of tmp/; sniffed from their first bytes, hashed (SHA-256) as they
 * come; the file is named by the inbox only once it is whole and synced
 * (inbox_media_update()).
 *
 * A failure is kept on the item as "error" {"code","message"} with
 * "tries" and "next_try": codes timeout, not_found (404, 410), too_large,
 * http_NNN (another HTTP status) and transient (no answer, a connection
 * cut). A 404, too_large or another 4xx but 401, 403, 408 and 429 is
 * permanent: next_try null, never tried again; else the next try is
 * MEDIA_RETRY_FIRST seconds later, doubled each time up to
 * MEDIA_RETRY_CAP, and after MEDIA_TRIES_MAX tries none.
 *
 * The library never prints; errors are -1 with errno and e filled.
 */
#ifndef MEDIA_H
#define MEDIA_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"

/* The size cap, bytes (sms-recv: config media_max). */
#define MEDIA_MAX_DEFAULT (5LL * 1024 * 1024)
#define MEDIA_TIMEOUT_DEFAULT 30		/* seconds, a whole fetch */
#define MEDIA_RETRY_FIRST 60			/* seconds */
#define MEDIA_RETRY_CAP (6 * 3600)		/* seconds */
#define MEDIA_TRIES_MAX 10
#define MEDIA_SNIFF_BYTES 512			/* looked at to sniff */

/*
 * The type that the bytes p (n of them, the start of a file) are, as
 * sms-record(5) names it ("image/jpeg", ...: a static string), or NULL if
 * none of those. text/plain is UTF-8 without control characters but tab,
 * CR and LF (a character cut at the end of p is taken as whole).
 */
const char *media_sniff(const unsigned char *p, size_t n);

/* The file name extension of a type media_sniff() gives: "jpg", ...;
 * "bin" for NULL or any other. */
const char *media_ext(const char *type);

/*
 * Whether a provider's content type ct (parameters, case and the usual
 * aliases aside: image/jpg, text/x-vcard, audio/3gpp, ...) and a sniffed
 * type disagree: 0 if ct is NULL, else 1 unless both name the same type.
 */
int media_mismatch(const char *ct, const char *type);

struct media_opts {
	const char *user, *pass;	/* Basic auth, or NULL */
	const char *auth_url;		/* the provider's API base URL: the
					   credentials go only to a URL of
					   its host and port, never another
					   (a forged or stored URL), nor to
					   where that redirects */
	const char *media_url;		/* the provider's media host, if
					   not its API's (Plivo's): the
					   credentials go to its host and
					   port too; or NULL */
	long long max_bytes;		/* the size cap; 0: the
					   default */
	long timeout;			/* seconds; 0: the default */
	int insecure;			/* skip TLS peer verification */
	const _Atomic int *cancel;	/* when it points to non-zero, a
					   fetch under way stops: NULL for
					   none */
};

struct media_result {
	long http;			/* the last answer's status, or 0 */
	long long size;			/* bytes received */
	char sha256[65];		/* hex, once whole */
	const char *type;		/* sniffed (media_sniff()), or NULL */
	char code[16];			/* "" if fetched, else the error's
					   code (above) */
	int permanent;			/* the failure is for good */
	char message[256];		/* the failure, in words */
};

/*
 * GET url into fd (a new, empty file), as o says. Returns 0 with r
 * filled if the bytes are all there (a 2xx, no more than the cap), else
 * -1 with r->code, r->permanent and r->message saying why (fd then holds
 * any part of them: the caller drops the file); r->code "cancelled" when
 * o->cancel stopped it.
 */
int media_get(const char *url, const struct media_opts *o, int fd,
    struct media_result *r);

/*
 * Whether item (one of a message's "media") still needs a fetch at now:
 * it has a "url", no "file", and no "next_try" later than now (a
 * permanent failure has "error" with a null "next_try").
 */
int media_due(const json_t *item, time_t now);

/*
 * Fetch item index of msg/THREAD/NAME (its record msg, as read) into the
 * inbox, and record the outcome on the message (inbox_media_update()):
 * fetched, its "file", "size", "sha256", "type", "mismatch" and
 * "fetched_at"; or failed, its "error", "tries" and "next_try". *r, if r
 * is not NULL, gets the fetch's result. Returns 1 (fetched), 0 (failed,
 * recorded), 2 (cancelled by o->cancel: nothing recorded, the item as it
 * was) or -1 with e filled (nothing recorded: the inbox refused).
 */
int media_fetch_item(struct inbox *ib, const char *thread, const char *name,
    const json_t *msg, size_t index, const struct media_opts *o, time_t now,
    struct media_result *r, struct errbuf *e);

/*
 * Every due item (media_due()) of the message msg/THREAD/NAME, fetched
 * with media_fetch_item(), in order, the record read again under no lock
 * first, until one is cancelled. *fetched and *failed (if not NULL) are
 * incremented. Returns 0, or -1 with e filled at the first error of the
 * inbox.
 */
int media_fetch_message(struct inbox *ib, const char *thread,
    const char *name, const struct media_opts *o, time_t now,
    size_t *fetched, size_t *failed, struct errbuf *e);

#endif
