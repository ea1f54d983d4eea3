/*
 * sim.h: what the parts of sms-sim share.
 *
 * One struct sim holds the simulator: its settings, fixed once it serves,
 * and its state under three locks. s->lock guards the messages, the
 * opt-outs, the random generator and the rate's bucket (a function named
 * *_locked wants it held), s->jlock the jobs, and s->log_lock the --log
 * file; the clock's offset is atomic. A message
 * is the store's from the moment it is stored, and main() frees them all
 * at the end; its strings are its own.
 *
 * sms-sim.c has the options, the setup and the serving loop; the parts in
 * cmd/sms-sim/ are:
 *
 *   twilio.c     Twilio's JSON: the Message resource and error bodies
 *   provider.c   the carriers the sim plays (--provider), one table each
 *   telnyx.c     Telnyx's API v2 and its Ed25519-signed JSON webhooks
 *   plivo.c      Plivo's Message API and its V3-signed form webhooks
 *   vonage.c     Vonage's SMS API and its sig-signed webhooks, a part each
 *   store.c      the messages in memory, their SIDs, and the list
 *   whatsapp.c   WhatsApp's customer service windows, and its checks
 *   segments.c   a body's segments, with a gsm context per thread
 *   post.c       posts to the customer's side, form-encoded and signed
 *   customers.c  simulated customers: texts in, keywords, TwiML replies
 *   jobs.c       the steps of a message's life, and the workers
 *   schedule.c   the sim's clock, and Twilio's scheduling: SendAt, cancel
 *   faults.c     the faults on demand: rate, opt-outs, refusals, errors
 *   api.c        the handlers: create, fetch, redact, delete, /sim/text
 *   media.c      media: MediaUrl (media_urls) fetched on create by each
 *                carrier's rules, the Media resource, its bytes behind a
 *                /cdn/ redirect, /sim/media uploads
 *   log.c        the request log: a line on stderr, a record in --log
 *   http.c       a request in, an answer out: auth, routing, latency
 *   text.c       `sms-sim text`, the client of POST /sim/text
 */
#ifndef SMS_SIM_SIM_H
#define SMS_SIM_SIM_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "form.h"
#include "gsm.h"
#include "httpd.h"
#include "phone.h"

#define API "/2010-04-01/Accounts/"
#define API_VERSION "2010-04-01"
#define DEFAULT_SIM_URL "http://127.0.0.1:8081"
#define SENT_MS 20		/* from create to "sent" */
#define POST_TIMEOUT_MS 15000	/* Twilio gives a webhook 15 s */
#define MEDIA_PER_MSG 10	/* Twilio's most MediaUrl of a message */
#define MEDIA_MAX (5 * 1024 * 1024)	/* of a message's media, by default */
#define TELNYX_MEDIA_TOTAL (1024 * 1024 - 1)	/* less than 1 MB in all */
#define TELNYX_MEDIA_FAILED 40008	/* "Undeliverable": a media fetch,
					   type or size the sim fails */
#define PLIVO_MEDIA_TOTAL (5 * 1024 * 1024)	/* under 5 MB in all */
#define PLIVO_MEDIA_LARGE 120	/* MMS message payload too large */
#define PLIVO_MEDIA_TYPE 130	/* unsupported message media */
#define PLIVO_MEDIA_FAILED 140	/* message media processing failed */
#define MEDIA_KEEP (64 * 1024 * 1024)	/* of media bytes kept, by default */
#define SCHEDULE_MIN 900	/* s: SendAt at least 15 minutes ahead */
#define SCHEDULE_MAX 3024000	/* s: and at most 35 days */

/*
 * STEP_RELEASE: a scheduled message's SendAt may have come; STEP_QUEUED:
 * one released, its "queued" posted and its sending begun; STEP_CANCELED:
 * one canceled, its "canceled" posted; STEP_READ: a WhatsApp message
 * delivered is read (--read-after).
 */
enum step { STEP_SENT, STEP_FINAL, STEP_REPLY, STEP_RELEASE, STEP_QUEUED,
	STEP_CANCELED, STEP_READ };

struct msg {
	char sid[35];
	char ms_sid[35];	/* MessagingServiceSid, "" if none */
	char *from, *to;	/* fixed once stored */
	char *body;		/* may hold NULs; redaction empties it */
	size_t body_len;
	char *callback;		/* StatusCallback, or NULL */
	char client_ref[41];	/* Vonage's client-ref, "" if none */
	char *media_base;	/* an inbound MMS's: the sim's URL as the
				   customer's client reached it, or NULL */
	const char *direction;	/* static strings from here on */
	const char *status;
	const char *fail_status;	/* from --fail: "failed" or "undelivered" */
	int fail_code;
	int error_code;		/* 0: none */
	unsigned segments, media;
	time_t created, sent, updated;	/* sent 0: not yet */
	time_t send_at;		/* a scheduled one's SendAt, else 0 */
	int priced, deleted;
	int from_pending;	/* no sender picked yet: "from" is null */
	int whatsapp;		/* on WhatsApp: whatsapp:+E164 addresses */
};

/* WhatsApp's customer service window: free-form messages from business
 * to customer only this long after the customer's last message to it. */
#define WHATSAPP_WINDOW (24 * 3600)
#define WHATSAPP_OUTSIDE 63016	/* Twilio's error outside the window */
#define WHATSAPP "whatsapp:"
#define WA_MEDIA_PER_MSG 1	/* a WhatsApp message carries one medium */
#define WA_IMAGE_MAX (5 * 1024 * 1024)	/* of an image on WhatsApp */
#define WA_MEDIA_TOTAL (16 * 1024 * 1024)	/* of any medium on it */
#define WA_MEDIA_TYPE 63021	/* a type WhatsApp does not take */
#define WA_MEDIA_LARGE 11751	/* over WhatsApp's size */

/* When customer last wrote to business on WhatsApp, by the sim's clock. */
struct wa_window {
	char customer[PHONE_MAX];
	char business[PHONE_MAX];
	time_t last;
};

/* A recipient who opted out of texts from sender, or from every sender
 * if sender is "" (--optout). */
struct optout {
	char number[PHONE_MAX];
	char sender[PHONE_MAX];
};

/* A number of --refuse, and the error a create to it gets. */
struct refusal {
	char number[PHONE_MAX];
	int code;
};

/* A number of --fail, with what happens to messages sent to it. */
struct failing {
	char number[PHONE_MAX];
	const char *status;
	int code;
};

/* What a piece of media's bytes do when fetched (--media-fail). */
enum media_fault { FAULT_NONE, FAULT_404, FAULT_TIMEOUT, FAULT_LARGE };

/*
 * A piece of media: a customer's (POST /sim/media, then attached to an
 * inbound message by /sim/text) or fetched from a create's MediaUrl. Its
 * bytes are served at /cdn/TOKEN, where its API URL redirects; they are
 * freed (NULL) when the sim keeps more than media_keep bytes, oldest
 * first, and its metadata stays.
 */
struct media {
	char sid[35];
	char parent[35];	/* the message's SID, "" until attached */
	char token[65];		/* its /cdn/ path: 32 random bytes, hex */
	char *type;		/* Content-Type, as given */
	char *src;		/* the URL it was fetched from, or NULL */
	unsigned char *bytes;	/* NULL once dropped */
	size_t size;
	enum media_fault fault;
	time_t created;
};

struct sim;
struct answer;

/*
 * A carrier the sim plays (--provider): its API, answered by route(),
 * and what it posts to the customer's side. Twilio's table has NULL
 * handlers: the sim's own code (api.c, post.c, customers.c) is Twilio's.
 * Messages are kept in Twilio's terms either way (SIDs, status words);
 * a table writes them in its carrier's. A new carrier is one more file
 * with its table, listed in provider.c.
 */
struct sim_provider {
	const char *name;		/* "twilio", as --provider names it */
	/* Serve a request below the API (not /sim/ or /cdn/): raw is the
	 * body as sent, f its form if it was one. Returns the HTTP status,
	 * the answer filled in. */
	int (*route)(struct sim *s, const char *method, const char *path,
	    const char *query, const char *auth, const struct form *f,
	    const struct buf *raw, struct answer *a);
	/* Post m's new status (Twilio's word) with error code to its
	 * callback. */
	void (*post_status)(struct sim *s, CURL *h, const struct msg *m,
	    const char *status, int code);
	/* Post the inbound message m (its text body, len bytes) to the
	 * webhook; optout_type "STOP", "START" or NULL. Returns the HTTP
	 * status, or -1 with err filled. */
	long (*post_inbound)(struct sim *s, CURL *h, const struct msg *m,
	    const char *optout_type, char err[CURL_ERROR_SIZE]);
	/* Codes of the carrier: --refuse's opted-out and invalid (the
	 * default), and --fail's default; the range of its error codes, for
	 * a --refuse CODE. */
	int refuse_optout, refuse_invalid, fail_code;
	int code_min, code_max;
};

/* --refuse NUMBER:opted-out and NUMBER:invalid, before the provider's
 * codes replace them. */
#define REFUSE_OPTOUT (-1)
#define REFUSE_INVALID (-2)

struct job {
	struct timespec due;	/* CLOCK_MONOTONIC */
	uint64_t seq;		/* ties go in the order scheduled */
	struct msg *m;
	enum step step;
};

struct sim {
	/* Settings, fixed once serving. */
	const struct sim_provider *pv;	/* --provider */
	const char *account, *token, *number, *webhook, *reply;
	unsigned char telnyx_sk[64];	/* Ed25519 secret key (Telnyx) */
	char telnyx_pk[45];		/* its public key, base64 */
	const char *vonage_secret;	/* Vonage's signature secret */
	const char *vonage_method;	/* and method: md5hash, sha256, ... */
	int vonage_get;			/* --webhook-method GET */
	double reorder;			/* --reorder: parts last first */
	double duplicate;		/* --duplicate: webhooks posted twice */
	struct failing *fails;
	size_t nfails;
	struct refusal *refusals;
	size_t nrefusals;
	double rate, errors, drop, read_errors;
	unsigned latency;	/* ms */
	FILE *log;
	size_t media_max, media_keep;	/* bytes */
	unsigned media_timeout;		/* ms, of a MediaUrl fetch */
	enum media_fault media_fault;	/* --media-fail: every piece's */
	const char *cdn_host;	/* --cdn-host, or NULL: the same host */
	unsigned short port;	/* listened on */
	unsigned schedule_min;	/* s: --schedule-min */
	int clock_runs;		/* not pinned: it moves by itself */
	long read_after;	/* ms from delivered to read (WhatsApp), or
				   -1: never (--read-after) */

	_Atomic long long clock_offset;	/* s, by POST /sim/clock */

	pthread_mutex_t lock;	/* the messages, the opt-outs, the generator,
				   the bucket */
	struct msg **msgs;	/* in the order created, oldest first */
	size_t n, cap;
	struct optout *optouts;	/* --optout, then STOP and START */
	size_t noptouts, optcap;
	uint64_t rng;
	struct wa_window *windows;	/* WhatsApp's, one per pair */
	size_t nwindows, wincap;
	struct media **media;	/* oldest first */
	size_t nmedia, mediacap, media_kept;
	double tokens;
	struct timespec filled;

	pthread_mutex_t jlock;	/* the jobs */
	pthread_cond_t jcond;	/* idle workers wait here */
	pthread_cond_t tcond;	/* the one watching the clock, here */
	int watching;		/* a worker waits for heap[0] to be due */
	struct job *heap;
	size_t njobs, jcap;
	uint64_t jseq;
	int stopping;
	volatile int draining;	/* stopping: a stalled answer ends */

	pthread_mutex_t log_lock;
	int log_failed;

	pthread_key_t gsm_key;	/* each thread's gsm_ctx */
};

/* What to answer, and what to log about it. */
struct answer {
	unsigned http;		/* 0: drop the connection */
	struct buf body;
	int code;		/* Twilio error code, 0 if none */
	int auth;		/* -1 not asked, 0 refused, 1 accepted */
	int api;		/* an API request: --latency applies */
	int retry_after;
	char sid[35];
	char what[200];
	char location[300];	/* a redirect's, "" if none */
	char ctype[128];	/* "" is JSON */
	size_t large;		/* serve body, then zeros up to this */
	int stall;		/* send the headers, then nothing */
	json_t *media;		/* what became of each MediaUrl, for --log */
	int authorization;	/* -1, or whether /cdn/ was sent credentials */
};

/* --- sms-sim.c ---------------------------------------------------- */

/* Print the usage (the options too, to stdout) and exit with code. */
void sim_usage(FILE *fp, int code);

/* --- provider.c --------------------------------------------------- */

/* The carrier called name, or NULL. */
const struct sim_provider *sim_provider_find(const char *name);

/* The carriers' names, as "twilio|telnyx|plivo|vonage", for messages. */
const char *sim_provider_names(void);

/* A SID's 32 hex digits as a UUID, 8-4-4-4-12 (Telnyx's and Plivo's
 * ids); and back: the SID, with prefix, of a UUID, or -1. */
void sim_uuid(const char *sid, char out[37]);
int sim_uuid_sid(const char *uuid, const char *prefix, char out[35]);

/* Store m, just made, as created by the API: a new SID (SM or MM), its
 * first step scheduled, its --fail applied unless it fails already.
 * Returns 0, or -1 on ENOMEM (m freed). */
int sim_enqueue(struct sim *s, struct msg *m, int media);

/*
 * POST body (len bytes, of Content-Type ctype) to url with the extra
 * header lines hdrs (NULL-ended) and user agent ua, as sim_post() does.
 * Returns the HTTP status, or -1 with err filled.
 */
long sim_post_raw(CURL *h, const char *url, const char *ctype,
    const char *body, size_t len, const char *const *hdrs, const char *ua,
    struct buf *resp, char err[CURL_ERROR_SIZE]);

extern const struct sim_provider sim_twilio, sim_telnyx, sim_plivo,
    sim_vonage;

/* --- twilio.c ----------------------------------------------------- */

/* Append "key": with a comma before unless first; the value follows. */
void sim_jkey(struct buf *b, const char *key);

/* Append the message resource as Twilio writes it, keys sorted; s->lock
 * held. */
void sim_msg_json(const struct sim *s, const struct msg *m, struct buf *b);

/* Answer a Twilio error, {"code","message","more_info","status"}; returns
 * the HTTP status, as every handler does. */
int sim_error(struct answer *a, unsigned http, int code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Answer 404, Twilio's 20404, for path. */
int sim_not_found(struct answer *a, const char *path);

/* --- store.c ------------------------------------------------------ */

/* Whether a draw falls within percent (0 to 100). */
int sim_roll(struct sim *s, double percent);

/* prefix and 32 hex digits, as Twilio's SIDs are; s->lock held. */
void sim_new_sid(struct sim *s, const char *prefix, char out[35]);

/* Whether sid is prefix and 32 hex digits. */
int sim_sid_ok(const char *sid, const char *prefix);

/* Store m (taking it); s->lock held. Returns 0, or -1 on ENOMEM. */
int sim_store_locked(struct sim *s, struct msg *m);

/* The index of the message sid, or -1; s->lock held. Newest first, as
 * those are the ones asked for. */
long sim_find_locked(const struct sim *s, const char *sid);

/* Free m and its strings; NULL is allowed. */
void sim_msg_free(struct msg *m);

/* A new message with copies of its strings, made now by the sim's clock,
 * or NULL on ENOMEM. */
struct msg *sim_msg_new(const struct sim *s, const char *from, const char *to,
    const char *body, size_t len);

/* GET .../Messages.json: newest first, paged by PageToken (PA after the
 * message named, PB before it). */
int sim_list(struct sim *s, const char *query, struct answer *a);

/* --- segments.c --------------------------------------------------- */

/* This thread's gsm context, made on first use and freed when the thread
 * ends (s->gsm_key): a context costs two 64 KiB tables to build, too much
 * to make for every request. NULL on ENOMEM. */
struct gsm_ctx *sim_thread_gsm(const struct sim *s);

/* The destructor of s->gsm_key. */
void sim_thread_gsm_free(void *ctx);

/* Segments and the text as sent (Smart Encoding applied if smart) of len
 * bytes of UTF-8 at body, analysed in ctx (NULL: a context of its own).
 * Returns 0, or -1 if it is not UTF-8 or on ENOMEM; *too_long tells
 * whether it is over Twilio's 1,600 characters. */
int sim_analyze(struct gsm_ctx *ctx, const char *body, size_t len, int smart,
    unsigned *segments, int *too_long, struct buf *sent);

/* --- post.c ------------------------------------------------------- */

/* Append "&name=value" (no '&' first), value form-encoded. */
void sim_add_param(struct buf *b, const char *name, const char *value,
    size_t n);

/* sim_add_param() of a NUL-terminated value. */
void sim_add_params(struct buf *b, const char *name, const char *value);

/*
 * POST the form body to url, signed with the token as Twilio signs.
 * Returns the HTTP status, or -1 with err filled if there was none. The
 * answer's body goes to resp, up to MAX_ANSWER bytes.
 */
long sim_post(const struct sim *s, CURL *h, const char *url,
    const struct buf *body, struct buf *resp, char err[CURL_ERROR_SIZE]);

/* Post m's new status to its StatusCallback. */
void sim_post_status(struct sim *s, CURL *h, const struct msg *m,
    const char *status, int code);

/* --- whatsapp.c -------------------------------------------------- */

/* Note that customer wrote to business on WhatsApp at the time t. Returns
 * 0, or -1 on ENOMEM. */
int sim_wa_wrote(struct sim *s, const char *customer, const char *business,
    time_t t);

/* Whether a free-form message from business to customer is within the
 * customer service window now, by the sim's clock. */
int sim_wa_open(struct sim *s, const char *business, const char *customer);

/*
 * The WhatsApp parameters of a create: To and From both whatsapp:+E164
 * or neither (*wa says which, and *to and *from lose the prefix), a
 * ContentSid and its ContentVariables as Twilio checks them. Returns 0,
 * or answers Twilio's error and returns its HTTP status.
 */
int sim_wa_check(const struct form *f, const char **to, const char **from,
    int *wa, struct answer *a);

/* --- customers.c -------------------------------------------------- */

/* Who a customer is and where they write from: on WhatsApp (its
 * webhook then has whatsapp:+E164 addresses, WaId and the ProfileName). */
struct sender {
	int whatsapp;
	const char *profile;	/* ProfileName, or NULL */
};

/*
 * Customer from texts len bytes of body to our number to: the inbound
 * message is stored and posted, signed, to the webhook, an opt-out or
 * opt-in keyword acted on first (by SMS only). Returns the
 * message, with *http the webhook's status (0 if there is no webhook, -1
 * if it could not be reached, err then says why); NULL on ENOMEM. who
 * may be NULL: an SMS.
 */
struct msg *sim_text_in(struct sim *s, CURL *h, const char *from,
    const char *to, const struct sender *who, const char *body, size_t len,
    long *http, char err[CURL_ERROR_SIZE]);

/* sim_text_in() with media: the n pieces are attached to the message
 * (an MM... then), and the webhook has their URLs under base. */
struct msg *sim_text_in_media(struct sim *s, CURL *h, const char *from,
    const char *to, const struct sender *who, const char *body, size_t len,
    struct media **pieces, size_t n, const char *base, long *http,
    char err[CURL_ERROR_SIZE]);

/* --- jobs.c ------------------------------------------------------- */

/*
 * Run step for m in ms milliseconds, rounded up to the next 5 ms tick
 * (TICK_MS in jobs.c: one wakeup for many messages). Returns 0, or
 * -1 on ENOMEM.
 */
int sim_schedule(struct sim *s, struct msg *m, enum step step, unsigned ms);

/* A worker thread, arg the sim: it runs jobs as they fall due, until
 * the sim stops. */
void *sim_worker(void *arg);

/* --- schedule.c -------------------------------------------------- */

/*
 * The sim's clock: $SMSDESK_NOW's time (pinned, or running with a '+'),
 * else the system's, plus what POST /sim/clock moved it by. It stamps the
 * messages and decides when a scheduled one goes out.
 */
time_t sim_now(const struct sim *s);

/*
 * The scheduling parameters of a create (ScheduleType, SendAt), checked
 * as Twilio checks them against the sim's clock; ms is the Messaging
 * Service, NULL or "" if none. Returns 0 with *send_at the time (0: not
 * scheduled), or answers Twilio's error and returns its HTTP status.
 */
int sim_schedule_check(struct sim *s, const struct form *f, const char *ms,
    time_t *send_at, struct answer *a);

/* Start the wait of the scheduled message m, just stored, for its
 * SendAt. */
void sim_schedule_start(struct sim *s, struct msg *m);

/* Cancel the message m, which must be scheduled; s->lock held. Returns
 * 0, or answers 30409 and returns its HTTP status. The caller schedules
 * STEP_CANCELED for its callback once the lock is let go. */
int sim_cancel_locked(struct sim *s, struct msg *m, struct answer *a);

/* A STEP_RELEASE job: m goes out if its SendAt has come and it is still
 * scheduled, else its wait goes on. Returns whether it went out. */
int sim_release(struct sim *s, struct msg *m);

/* GET and POST /sim/clock: the sim's time, and moving it (Now=TIME or
 * Advance=DURATION), which releases whatever fell due. */
int sim_clock(struct sim *s, const char *method, const struct form *f,
    struct answer *a);

/* --- faults.c ----------------------------------------------------- */

/* Whether one more create fits under --rate: a token bucket that holds
 * RATE (at least 1) and refills at RATE a second. */
int sim_rate_ok(struct sim *s);

/* The --fail of the number to, or NULL. */
const struct failing *sim_failing(const struct sim *s, const char *to);

/* The error code of a create to the number to (--refuse), or 0. */
int sim_refused(const struct sim *s, const char *to);

/* Whether the number to opted out of texts from the number from: by
 * --optout, or by texting STOP to it. */
int sim_opted_out(struct sim *s, const char *to, const char *from);

/* Opt number out of texts from sender (out), or back in (!out): an
 * opt-in lifts an --optout of number too, as a START is its answer.
 * sender "" is every sender. Returns 0, or -1 with errno ENOMEM, or
 * EINVAL if either is longer than a phone number. */
int sim_optout_set(struct sim *s, const char *number, const char *sender,
    int out);

/* Answer a create to the number to with Twilio's error code (--refuse),
 * in Twilio's words where the code is one of the usual ones. */
int sim_refuse(struct answer *a, int code, const char *to, const char *from);

/* Whether a fetch or list gets a server error instead (--read-errors):
 * half 500, half 503 with Retry-After, as --errors for creates. */
int sim_read_error(struct sim *s, struct answer *a);

/* --- api.c -------------------------------------------------------- */

/* A StatusCallback Twilio would take: http(s), a host without '_'. */
int sim_url_ok(const char *url);

/* Parse n as a decimal from lo to hi into *out. */
int sim_number(const char *n, unsigned long lo, unsigned long hi,
    unsigned long *out);

/* POST .../Messages.json */
int sim_create(struct sim *s, const struct form *f, struct answer *a);

/* GET, POST (redact) and DELETE of .../Messages/{Sid}.json. */
int sim_instance(struct sim *s, const char *method, const char *sid,
    const char *path, const struct form *f, struct answer *a);

/* POST /sim/text: a customer texts in, with the pieces MediaSid (from
 * /sim/media) if any; base is the sim's URL, for the webhook's MediaUrl. */
int sim_text(struct sim *s, const struct form *f, const char *base,
    struct answer *a);

/* --- media.c ----------------------------------------------------- */

/* Parse a --media-fail MODE (404, timeout, large, none); -1 if none of
 * these. */
int sim_media_fault(const char *mode, enum media_fault *out);

/*
 * Fetch each media URL of a create (n of them, at urls) as the carrier
 * played (s->pv) does, into pieces of media not yet attached, put in
 * out[]; each one's outcome goes into a->media. Returns 0, or the error
 * code that fails the message (Twilio: 11200 a fetch that failed, 12300 a
 * type it does not take, 30019 over the size limit; Telnyx: 40008 for
 * each; Plivo: 140, 130, 120); the pieces fetched are in out[] either way.
 * With wa, by WhatsApp's rules instead (Twilio's WhatsApp): images up to
 * WA_IMAGE_MAX, the rest up to WA_MEDIA_TOTAL, 63021 for a type it does
 * not take, 11751 over its size.
 */
int sim_media_fetch(struct sim *s, const char *const *urls, size_t n,
    struct media **out, size_t *nout, int wa, struct answer *a);

/* Attach the n pieces to the message sid, storing them first if store
 * (fetched ones; uploads are stored already); s->lock held. Returns 0,
 * or -1 on ENOMEM (the pieces not stored then freed). */
int sim_media_attach_locked(struct sim *s, const char *sid,
    struct media **pieces, size_t n, int store);

/* The piece sid, or NULL; s->lock held. */
struct media *sim_media_find_locked(const struct sim *s, const char *sid);

/* Free a piece (NULL allowed). */
void sim_media_free(struct media *p);

/* POST /sim/media: len bytes of type become a piece (fault its
 * --media-fail), answered {"sid", "size", "content_type"}. */
int sim_media_upload(struct sim *s, const char *query, const char *type,
    const struct buf *body, struct answer *a);

/* GET .../Messages/{Sid}/Media.json, .../Media/{ME}.json and the bare
 * .../Media/{ME} (a 302 to /cdn/); rest is after "/Messages/{Sid}". */
int sim_media_api(struct sim *s, const char *msg_sid, const char *rest,
    const char *path, struct answer *a);

/* GET /cdn/TOKEN: the bytes, or the piece's fault. */
int sim_media_cdn(struct sim *s, const char *token, struct answer *a);

/* GET of a piece's own URL at its carrier (Plivo's): the bytes of the
 * piece sid of the message msg_sid (NULL: of any message), or its fault,
 * or 404. */
int sim_media_bytes(struct sim *s, const char *msg_sid, const char *sid,
    struct answer *a);

/* The URL of p's bytes at /cdn/, which wants no credentials: on
 * --cdn-host, or under m's media_base; s->lock held. */
void sim_media_cdn_url(const struct sim *s, const struct msg *m,
    const struct media *p, char *out, size_t size);

/* p's SHA-256 in hex, "" once its bytes are dropped. */
void sim_media_sha256(const struct media *p, char out[65]);

/* Append MediaUrl{i} and MediaContentType{i} of the message sid, as the
 * webhook has them, with base the sim's URL; returns how many. */
unsigned sim_media_params(struct sim *s, const char *sid, const char *base,
    struct buf *form);

/* --- log.c -------------------------------------------------------- */

/* Append the request's record to --log: one line, flushed at once so a
 * test can read it while the sim runs. */
void sim_log_record(struct sim *s, const char *method, const char *path,
    const char *query, const struct form *f, const struct answer *a);

/* The request's line on stderr. */
void sim_log_request(struct MHD_Connection *conn,
    const struct httpd_request *q, const char *method, unsigned code,
    const char *what);

/* --- http.c ------------------------------------------------------- */

/* Sleep for ms milliseconds, signals or not. */
void sim_sleep_ms(unsigned ms);

/* The MHD_AccessHandlerCallback, cls the sim. */
enum MHD_Result sim_on_request(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version, const char *data,
    size_t *size, void **req_cls);

/* --- text.c ------------------------------------------------------- */

/* sms-sim text [-u URL] FROM BODY: a customer texts in. */
int sim_text_main(int argc, char **argv);

/* twilio.c: Twilio's date form, RFC 2822 ("Thu, 24 Aug 2023 05:01:45
 * +0000"), for the messages and the media it serves. */
void sim_rfc2822(time_t t, char out[40]);

#endif
