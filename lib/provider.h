/*
 * provider.h: the one interface behind which SMS providers live.
 *
 * A provider's file (lib/provider/twilio.c, ...) owns everything about its
 * carrier, both directions, and defines its table; provider.c lists the
 * tables. The programs and the sending path (lib/send/) know no carrier
 * by name: they ask the configured one (provider_account()).
 *
 * The webhook side: verify() checks that a request came from the
 * provider, parse() turns a verified request into a webhook_event (an
 * inbound message or a delivery status), and reply() renders the HTTP
 * answer. sms-recv handles every provider the same way: it finds the
 * table by name, listens on its webhook_path, reads its secret from
 * where the table says (secret_env, secret_key), reads the request
 * headers the table names in sig_headers, verifies before it parses or acts on
 * anything, and stores the event.
 *
 * The sending side: account() reads the credentials and the sender,
 * send_request() builds the request that sends a message and
 * send_answer() says what the answer means (taken, to retry, refused in
 * the toolkit's error taxonomy, or unknown); fetch_request(),
 * list_request() and read_messages() look messages up, to reconcile.
 * The provider decides what is sent; lib/send/http.c (libcurl) how.
 *
 * Status words: a provider gives its statuses in sms-record(5)'s words
 * (queued, sent, delivered, undelivered, failed, ...), mapping its own
 * where they differ; a word it has no mapping for is passed as it came,
 * and stored if provider_status_valid() takes it.
 *
 * Requests are described exactly as received: the raw body bytes and the
 * public URL the provider was configured with (from the configuration,
 * never rebuilt from Host or forwarded headers), because signatures cover
 * those bytes.
 *
 * Ownership: everything a webhook_request points to is the caller's. An
 * event borrows its strings from the request's form, or from the parse
 * tree of a JSON body, which the event owns (its json): they live as long
 * as that form and the event do. Whoever calls parse() calls
 * provider_event_free() on the event afterwards, whatever parse()
 * returned.
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "form.h"

#define PROVIDER_SIG_MAX 4	/* signature headers a provider may need */
#define PROVIDER_ID_MAX 256	/* bytes of a provider's message id */
#define PROVIDER_PARTS_MAX 32	/* part ids a send answer keeps */
#define PROVIDER_MEDIA_MAX 10	/* media items an inbound message may
				   carry (Twilio's limit) */

struct webhook_request {
	const char *method;		/* "POST" or "GET"; NULL is POST */
	const char *url;		/* public URL, query exactly as sent */
	const char *content_type;	/* the header's value, or NULL */
	const char *body;		/* raw body, exactly as received */
	size_t body_len;
	const struct form *form;	/* the body's parameters (the query's
					   for a GET); NULL if not a form */
	const char *sig[PROVIDER_SIG_MAX];	/* values of the headers
					   named in sig_headers, in that
					   order; NULL where absent */
	time_t now;			/* for replay windows; 0: time(NULL) */
	const char *sig_method;		/* the signature method configured
					   (sig_method_key), or NULL */
};

/* One media item of an inbound message, as the provider gave it. */
struct webhook_media {
	const char *url;		/* where the provider keeps it */
	const char *content_type;	/* what it said the type is, or
					   NULL */
};

enum webhook_kind {
	WEBHOOK_MESSAGE,		/* an inbound message */
	WEBHOOK_STATUS,			/* a status update for one we sent */
};

struct webhook_event {
	enum webhook_kind kind;
	const char *id;			/* the provider's message id */
	const char *from, *to;		/* as given (E.164 for SMS); NULL
					   if a status update lacks them */
	const char *body;		/* message text; "" for a status */
	size_t body_len;		/* its length; parse() refuses a
					   NUL in it, as in any field */
	int num_segments;		/* 0 if not given */
	const char *status;		/* in sms-record(5)'s words:
					   "received", "delivered", ... */
	const char *error_code;		/* provider's code, or NULL */
	const char *optout_type;	/* keyword class the provider saw
					   ("STOP", "START", "HELP"), or
					   NULL */
	int num_media;			/* items in media, in the
					   provider's order */
	struct webhook_media media[PROVIDER_MEDIA_MAX];
	const struct form *form;	/* every parameter, for extra fields;
					   NULL for a non-form body */
	json_t *json;			/* the parse tree of a JSON body,
					   the event's (strings above may be
					   borrowed from it); NULL for a form */
	const char *channel;		/* the channel it came by when not
					   SMS or MMS ("whatsapp"), else
					   NULL */
	const char *profile_name;	/* the name the channel shows for
					   the sender (WhatsApp's profile
					   name), or NULL */
	const char *concat_ref;		/* a part of a long message that
					   comes in parts (Vonage): the
					   sender's reference of the whole,
					   else NULL */
	int concat_part, concat_total;	/* its place from 1, and how many */
	char num[2][24];		/* room for from and to made E.164
					   by parse() from a provider's own
					   spelling (Plivo's has no "+") */
};

/*
 * The sending side. A provider's account, as its own tools name it in
 * the environment (or the 0600 configuration: smsdesk-config(5)), filled
 * by account(); everything in it is borrowed from the configuration but
 * callback, which is the account's.
 */
struct provider_account {
	const struct provider *pv;
	const char *base;		/* API base URL */
	const char *account;		/* the account's id, in URLs */
	const char *user, *pass;	/* Basic auth, or NULL */
	const char *bearer;		/* a bearer token (Telnyx's API key)
					   instead, or NULL */
	const char *from;		/* the sending number, or NULL */
	const char *service;		/* a sending service's id (Twilio's
					   Messaging Service, Telnyx's
					   messaging profile), or NULL */
	char *callback;			/* status callback URL, or NULL */
	const char *media_url;		/* the base URL of the provider's
					   media host, if not its API's
					   (Plivo's), or NULL: its
					   credentials go there too */
	int alt;			/* a provider of a failover list
					   after the first: the plain "from"
					   is not its (provider_from()) */
};

/*
 * One HTTP request a provider wants made: the interface decides what is
 * sent, lib/send/http.c (libcurl) how. user and pass (Basic auth) or
 * bearer (the header Authorization: Bearer KEY, which is never logged)
 * are borrowed from the account; url and body are the request's
 * (provider_http_free()).
 */
struct provider_http {
	int post;			/* 1: POST body; 0: GET */
	struct buf url;			/* NUL-terminated */
	struct buf body;		/* NUL-terminated; empty for a GET */
	const char *content_type;	/* of the body (static) */
	const char *user, *pass;	/* Basic auth, or NULL */
	const char *bearer;		/* a bearer token, or NULL */
};

/* What the answer to a send says. */
enum provider_outcome {
	PROVIDER_TAKEN,			/* the provider has it: id, status */
	PROVIDER_RETRY,			/* not taken, may be asked again
					   (throttled, or busy with a
					   Retry-After): class, code */
	PROVIDER_FAILED,		/* refused: class, code, message */
	PROVIDER_UNKNOWN,		/* may or may not have taken it (a
					   5xx, an answer without an id):
					   never to be sent again blindly */
};

struct provider_answer {
	enum provider_outcome outcome;
	char id[PROVIDER_ID_MAX + 1];	/* PROVIDER_TAKEN */
	char status[64];		/* in sms-record(5)'s words
					   (checked by the caller) */
	const char *class;		/* the taxonomy's, for the others */
	long long code;			/* the provider's error code, or 0 */
	char message[256];		/* its text, or "" */
	int nids;			/* PROVIDER_TAKEN by a provider that
					   gives each part of a long text its
					   own id (Vonage): every part's id,
					   id first; else 0 */
	char ids[PROVIDER_PARTS_MAX][PROVIDER_ID_MAX + 1];
};

struct provider {
	const char *name;		/* "twilio" */
	const char *sig_headers[PROVIDER_SIG_MAX + 1];	/* NULL-ended */
	const char *webhook_path;	/* where its webhooks and status
					   callbacks go, below the public
					   URL: "/twilio" */
	/*
	 * Where a program finds the secret verify() wants: the environment
	 * variable the provider's own tools use ("TWILIO_AUTH_TOKEN"; NULL
	 * for none), which beats the configuration key ("twilio_auth_token").
	 */
	const char *secret_env;
	const char *secret_key;
	/*
	 * Whether secret has the form verify() needs (Telnyx: the base64 of
	 * a 32-byte key), so that a program can refuse a wrong one at start:
	 * 0, or -1 with errno EINVAL and e saying what is wrong. NULL where
	 * any secret may do.
	 */
	int (*secret_ok)(const char *secret, struct errbuf *e);
	/*
	 * Where a program finds which signature method verify() is to
	 * check (Vonage's md5hash or an HMAC), set as rq->sig_method: as
	 * secret_env and secret_key; NULL where a provider has one method.
	 */
	const char *sig_method_env;
	const char *sig_method_key;
	/* 1 if its webhooks may come by GET, the parameters in the query. */
	int get;

	/*
	 * Check rq against secret (the auth token or signing key). Returns
	 * 0 if it is authentic, or -1 with e filled with the reason and
	 * errno EACCES (signature or hash mismatch, or a timestamp outside
	 * the provider's window from rq->now: Telnyx's 300 s), EINVAL (a
	 * missing or malformed header, URL or key) or ENOMEM.
	 */
	int (*verify)(const char *secret, const struct webhook_request *rq,
	    struct errbuf *e);

	/*
	 * Fill ev from a verified rq. Returns 0, or -1 with errno EINVAL
	 * and e naming the missing or malformed field ("missing From"), or
	 * the kind of event it does not handle; ENOMEM. Either way the
	 * caller then calls provider_event_free(ev).
	 */
	int (*parse)(const struct webhook_request *rq,
	    struct webhook_event *ev, struct errbuf *e);

	/*
	 * Append to out the answer body for a webhook: no reply if text is
	 * NULL or empty, else a reply of text (len bytes of UTF-8); the
	 * same no-reply answer suits a status callback. *content_type
	 * gets its static Content-Type. Returns 0, or -1 with errno and e
	 * set: EINVAL if the text cannot be carried (out is then as it
	 * was), or ENOMEM.
	 */
	int (*reply)(const char *text, size_t len, struct buf *out,
	    const char **content_type, struct errbuf *e);
	/*
	 * 1 if reply() can carry a text in the answer (Twilio's TwiML); 0
	 * if the provider takes no reply there (Telnyx): its answer is
	 * always the no-reply one, and sms-recv makes no automatic replies.
	 */
	int replies;
	/*
	 * 1 if send_request() can carry a message of "channel" "whatsapp"
	 * (Twilio's whatsapp:+E164 addresses, and a template's
	 * "content_sid" and "content_variables"); 0 for texts only.
	 */
	int whatsapp;
	/*
	 * As reply, for a provider whose reply names its numbers (Plivo's
	 * <Message src dst>): the answer to the webhook of ev. NULL where
	 * reply will do; sms-recv uses it when it is there.
	 */
	int (*reply_to)(const struct webhook_event *ev, const char *text,
	    size_t len, struct buf *out, const char **content_type,
	    struct errbuf *e);
	/*
	 * The class of an error, in DESIGN.md's taxonomy: "auth",
	 * "invalid_recipient", "opted_out", "throttled", "transient",
	 * "permanent". http is the HTTP status of an API answer (0 for a
	 * delivery report); code is the provider's error code as text, or
	 * NULL.
	 */
	const char *(*error_class)(long http, const char *code);

	/* --- Sending (NULL where a provider cannot send) --- */

	int max_chars;			/* UTF-16 units a message may have */
	/*
	 * Media (MMS): at most max_media items a message (0: none), our
	 * local files of at most media_total bytes in all, each of a type
	 * in media_types (ended by a NULL type) and at most its max bytes.
	 * A URL of the user's is fetched by the provider, which checks it.
	 */
	int max_media;
	long long media_total;
	const struct provider_media_type {
		const char *type;
		long long max;
	} *media_types;
	/*
	 * The same limits on WhatsApp, for a provider that carries it
	 * (whatsapp): WhatsApp's own, not MMS's (Twilio: one item a
	 * message, images up to 5 MB, the rest up to 16 MB). A message of
	 * "channel" "whatsapp" is held to these, any other to the three
	 * above; wa_max_media 0 takes no media on WhatsApp.
	 */
	int wa_max_media;
	long long wa_media_total;
	const struct provider_media_type *wa_media_types;
	const char *service_prefix;	/* how a sending service's id
					   begins ("MG"; "" for any id), or
					   NULL for none */

	/*
	 * Fill a from the environment and cfg: the provider's own names for
	 * its account and credentials, the sender (from, or service, as
	 * given on the command line, else configured) and the status
	 * callback (public_url + "/" + name, when public_url is set). With
	 * need, a missing account, credential or sender is an error: -1,
	 * errno EINVAL, e saying what to set. Returns 0, or -1.
	 */
	int (*account)(struct provider_account *a, const struct config *cfg,
	    const char *from, const char *service, int need,
	    struct errbuf *e);

	/*
	 * The request that sends msg (its "to", "body" and the "url" of
	 * each item of its "media") from a's sender. Returns 0, or -1 with
	 * errno ENOMEM.
	 */
	int (*send_request)(const struct provider_account *a,
	    const json_t *msg, struct provider_http *rq);

	/*
	 * What the answer to a send request says: http its status,
	 * retry_after the seconds a Retry-After asked for (0 if none), and
	 * len bytes of body.
	 */
	void (*send_answer)(long http, double retry_after, const char *body,
	    size_t len, struct provider_answer *an);

	/*
	 * For a provider that takes a message by file rather than by an HTTP
	 * request (smstools: smsd's spool), in place of send_request() and
	 * send_answer(), which it leaves NULL: hand msg (its "id", "to" and
	 * "body") over, and fill an as send_answer() would (PROVIDER_TAKEN
	 * with the id and status, or PROVIDER_FAILED with class and message:
	 * nothing was handed over). Returns 0, or -1 with errno ENOMEM and e
	 * filled. NULL for a provider with an API.
	 */
	int (*deliver)(const struct provider_account *a, const json_t *msg,
	    struct provider_answer *an, struct errbuf *e);

	/*
	 * Looking a message up, for reconciling: the request that fetches
	 * the message with the provider id id, and the one that lists the
	 * messages sent to the number to on channel (sms-record(5)
	 * "channel", NULL: SMS), newest first (NULL if the provider's API
	 * lists no messages). Return 0, or -1 with errno ENOMEM.
	 */
	int (*fetch_request)(const struct provider_account *a,
	    const char *id, struct provider_http *rq);
	int (*list_request)(const struct provider_account *a, const char *to,
	    const char *channel, struct provider_http *rq);

	/*
	 * Polling (sms-recv --poll), for a provider whose API lists
	 * messages (NULL if it lists none): the request for the first page
	 * of every message of the account, both directions, newest first,
	 * sent on or after the UTC day of since (the provider's filter has
	 * a day's granularity), page_size to a page (0: the provider's
	 * largest). Its pages are read by read_messages(), with next.
	 * Returns 0, or -1 with errno ENOMEM.
	 */
	int (*poll_request)(const struct provider_account *a, time_t since,
	    unsigned page_size, struct provider_http *rq);

	/*
	 * Read the answer to a fetch (one message) or to a list (a page of
	 * them): each message as a JSON object in the toolkit's words,
	 * {"id", "status", "to", "from", "body", "created" (seconds since the
	 * epoch, -1 if not given), "error" ({"code": class,
	 * "provider_code", "message"}, or null)}, appended to out; where the
	 * provider gives them, also "direction" ("in" or "out"), "sent"
	 * (when it was sent or came in, seconds since the epoch, -1 if not
	 * yet), "segments" (for polling) and "channel" (when not SMS or
	 * MMS: "whatsapp"). A list
	 * sets *next (when not NULL) to the request for the next page, or
	 * leaves it empty (next->url.len 0) on the last. Returns 1 if the
	 * answer was read; 0 if the provider has no such message (a fetch's
	 * 404: out gets {"code": "not_found", "provider_code"}); -1 with e
	 * filled if the answer is an error or not what it
	 * should be, errno EACCES when the credentials were refused.
	 */
	int (*read_messages)(const struct provider_account *a, long http,
	    const char *body, size_t len, json_t *out,
	    struct provider_http *next, struct errbuf *e);
};

extern const struct provider provider_twilio;
extern const struct provider provider_telnyx;
extern const struct provider provider_plivo;
extern const struct provider provider_vonage;
extern const struct provider provider_smstools;

/* The provider called name ("twilio"), or NULL if there is none. */
const struct provider *provider_find(const char *name);

/* The provider a program uses when none is named. */
const struct provider *provider_default(void);

/* The i-th provider known, from 0, in a fixed order; NULL past the last. */
const struct provider *provider_at(size_t i);

/*
 * For the providers' files: what every one of them does alike.
 *
 * provider_classify(): error_class() from a table of the provider's own
 * codes (n of them, code as text or NULL), else by the HTTP status: 401
 * and 403 "auth", 429 "throttled", 5xx "transient", else "permanent".
 *
 * provider_sender(): an account's sender once account() has picked from
 * and service: an empty one is none, and of both, the one the command
 * line gave (service_flag: the service given there) wins, else from.
 *
 * provider_xml(): append len bytes of UTF-8 text to out as XML 1.0
 * character data (&, <, > and a CR escaped) or, with attr, an attribute
 * value in double quotes (" too);
 * what XML cannot carry (a control but tab, LF and CR, U+FFFE, U+FFFF,
 * bytes that are no UTF-8) is refused: -1 with errno EINVAL and e naming
 * the dialect ("TwiML"), out then holding part of it. 0 otherwise.
 *
 * provider_callback(): a->callback, the status callback, made of the
 * public URL (SMSDESK_PUBLIC_URL, else public_url in cfg; a trailing "/"
 * dropped) and path ("/twilio"), if there is a public URL. 0, or -1 with
 * errno ENOMEM and e filled.
 */
struct provider_code {
	long code;
	const char *class;
};

const char *provider_classify(const struct provider_code *known, size_t n,
    long http, const char *code);
void provider_sender(struct provider_account *a, const char *from,
    const char *service_flag);
int provider_callback(struct provider_account *a, const struct config *cfg,
    const char *path, struct errbuf *e);
int provider_xml(struct buf *out, const char *s, size_t len, int attr,
    const char *dialect, struct errbuf *e);

/* Free what a request holds, and empty it. */
void provider_http_free(struct provider_http *rq);

/*
 * Free what parse() gave ev (the parse tree of a JSON body); ev's strings
 * are gone with it. Harmless on an event parse() never filled, if it was
 * zeroed.
 */
void provider_event_free(struct webhook_event *ev);

/*
 * The configured provider (SMSDESK_PROVIDER, else provider in cfg, else
 * the default), for sending. Returns it, or NULL with errno and e filled:
 * ENOENT for a provider not known, ENOTSUP for one that cannot send.
 */
const struct provider *provider_configured(const struct config *cfg,
    struct errbuf *e);

/*
 * The account of the configured provider (provider_configured()), for
 * sending: a->pv is it. Returns 0, or -1
 * with errno and e filled: ENOENT for a provider not known, ENOTSUP for
 * one that cannot send, EINVAL (with need) for a missing account,
 * credential or sender, ENOMEM.
 */
int provider_account(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e);

/* Free what provider_account() gave a. */
void provider_account_free(struct provider_account *a);

/*
 * Failover (sms-send(1), Failover): the provider setting may be a list,
 * "twilio, telnyx" (commas, blanks around them), each provider once, at
 * most PROVIDER_LIST_MAX; a message goes through the first that can take
 * it. One name is the list of one.
 *
 * provider_list(): the configured list (SMSDESK_PROVIDER, else provider
 * in cfg, else the default alone) into list. Returns how many (1 or
 * more), or -1 with errno and e filled: ENOENT for a provider not known,
 * ENOTSUP for one that cannot send, EINVAL for an empty name, one named
 * twice, or too many.
 *
 * provider_accounts(): the account of each provider of the list, in its
 * order, into a (room for PROVIDER_LIST_MAX): from and service (the
 * command line's) are the first's alone; each after the first is alt
 * and has its own sender (TELNYX_FROM, telnyx_from, ...). Returns how
 * many, or -1 as provider_account() does (e naming the provider when
 * there are several); what it filled is freed then.
 *
 * provider_from(): for a provider's account(), the sender it falls back
 * to when neither its own variable nor its own key gives one: the plain
 * "from" of cfg for the first of the list, none for the others (a
 * number is carried by one carrier).
 */
#define PROVIDER_LIST_MAX 4
int provider_list(const struct config *cfg, const struct provider **list,
    struct errbuf *e);
int provider_accounts(struct provider_account *a, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e);
const char *provider_from(const struct provider_account *a,
    const struct config *cfg);

/*
 * The taxonomy class of an error from the provider called name (see
 * error_class above): "permanent" for a provider that is not known.
 */
const char *provider_error_class(const char *name, long http,
    const char *code);

/*
 * Where status stands in a message's life, so that a late or repeated
 * callback never moves it back: accepted, scheduled, queued 0; sending,
 * receiving 1; sent 2; delivered, undelivered, failed, partially_delivered,
 * canceled, received 3; read 4. An update whose rank is below the stored
 * one is a regression to ignore. Unknown words (and NULL) are -1.
 */
int provider_status_rank(const char *status);

/*
 * Where status stands for moving forward, status words smsdesk does not
 * know included, so that one is stored as it came and never moves a
 * known status back: twice provider_status_rank() for a known word (0 to
 * 8); PROVIDER_STATUS_NEW for any other word, which ranks after sent and
 * before the outcomes (it replaces queued, sending or sent, and a final
 * outcome replaces it); -1 for NULL and our own "unknown" (a send whose
 * answer never came), which any report replaces. A report moves a message
 * forward when its order is above the stored status's.
 */
#define PROVIDER_STATUS_NEW 5
#define PROVIDER_STATUS_FINAL 6		/* the outcomes, and read */
int provider_status_order(const char *status);

/*
 * Whether status can be stored as a status word: 1 to
 * PROVIDER_STATUS_MAX bytes of ASCII letters, digits, '_' and '-', as
 * every provider writes them ("delivered", "partially_delivered").
 */
#define PROVIDER_STATUS_MAX 32
int provider_status_valid(const char *status);

/*
 * Twilio's X-Twilio-Signature for a request to url with the parameters
 * of f (NULL for none: a GET, or a JSON body), as providers.md 1.8 says:
 * base64 of HMAC-SHA1 keyed by token over url, then each name and value
 * sorted by name and value in byte order, exact duplicates once. Returns
 * 0 with out NUL-terminated, or -1 with errno ENOMEM (or EINVAL if
 * libcrypto refuses the key).
 */
int twilio_signature(const char *token, const char *url, const struct form *f,
    char out[29]);

/*
 * Plivo's X-Plivo-Signature-V3 for a request by method ("GET", else a
 * POST) to url with the body parameters of body (NULL for none) and the
 * nonce, as providers.md 4 says: base64 of HMAC-SHA256 keyed by token
 * over the base string, "." and nonce. Returns 0 with out NUL-terminated,
 * or -1 with errno ENOMEM, or EINVAL (a query that is not a form, or a
 * key libcrypto refuses).
 */
int plivo_signature(const char *token, const char *method, const char *url,
    const char *nonce, const struct form *body, char out[45]);

/*
 * Vonage's sig for the parameters of f (sig itself left out) by method
 * ("md5hash", NULL or "" the same; "md5", "sha1", "sha256", "sha512" the
 * HMACs), as providers.md 3.4 says: the parameters sorted by name, each
 * "&name=value" with "&" and "=" in a value as "_"; md5hash is lowercase
 * hex of MD5 over that and secret, an HMAC uppercase hex keyed by secret.
 * Returns 0 with out NUL-terminated, or -1 with errno EINVAL (a method
 * not known) or ENOMEM.
 */
int vonage_signature(const char *secret, const char *method,
    const struct form *f, char out[129]);

#endif
