/*
 * provider.h: the one interface behind which SMS providers live.
 *
 * A provider is a table of three functions for the webhook side: verify()
 * checks that a request came from the provider, parse() turns a verified
 * request into a webhook_event (an inbound message or a delivery status),
 * and reply() renders the HTTP answer. sms-recv handles every provider the
 * same way: it finds the table by name, reads its secret from where the
 * table says (secret_env, secret_key), reads the request headers the
 * table names in sig_headers, verifies before it parses or acts on
 * anything, and stores the event. One file per provider
 * (provider-twilio.c, ...) defines its table; provider.c lists them.
 *
 * Requests are described exactly as received: the raw body bytes and the
 * public URL the provider was configured with (from the configuration,
 * never rebuilt from Host or forwarded headers), because signatures cover
 * those bytes.
 *
 * Ownership: everything a webhook_request points to is the caller's. An
 * event borrows its strings from the request's form (or body): they live
 * as long as that form does, and an event needs no freeing.
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "form.h"

#define PROVIDER_SIG_MAX 4	/* signature headers a provider may need */

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
	const char *status;		/* provider's word: "received",
					   "delivered", "failed", ... */
	const char *error_code;		/* provider's code, or NULL */
	const char *optout_type;	/* keyword class the provider saw
					   ("STOP", "START", "HELP"), or
					   NULL */
	const struct form *form;	/* every parameter, for extra fields;
					   NULL for a non-form body */
};

struct provider {
	const char *name;		/* "twilio" */
	const char *sig_headers[PROVIDER_SIG_MAX + 1];	/* NULL-ended */
	/*
	 * Where a program finds the secret verify() wants: the environment
	 * variable the provider's own tools use ("TWILIO_AUTH_TOKEN"; NULL
	 * for none), which beats the configuration key ("twilio_auth_token").
	 */
	const char *secret_env;
	const char *secret_key;

	/*
	 * Check rq against secret (the auth token or signing key). Returns
	 * 0 if it is authentic, or -1 with e filled with the reason and
	 * errno EACCES (signature or hash mismatch), EINVAL (a missing or
	 * malformed header or URL) or ENOMEM.
	 */
	int (*verify)(const char *secret, const struct webhook_request *rq,
	    struct errbuf *e);

	/*
	 * Fill ev from a verified rq. Returns 0, or -1 with errno EINVAL
	 * and e naming the missing or malformed field ("missing From").
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
	 * The class of an error, in DESIGN.md's taxonomy: "auth",
	 * "invalid_recipient", "opted_out", "throttled", "transient",
	 * "permanent". http is the HTTP status of an API answer (0 for a
	 * delivery report); code is the provider's error code as text, or
	 * NULL.
	 */
	const char *(*error_class)(long http, const char *code);
};

extern const struct provider provider_twilio;

/* The provider called name ("twilio"), or NULL if there is none. */
const struct provider *provider_find(const char *name);

/* The provider a program uses when none is named. */
const struct provider *provider_default(void);

/* The i-th provider known, from 0, in a fixed order; NULL past the last. */
const struct provider *provider_at(size_t i);

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

#endif
