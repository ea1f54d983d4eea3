/*
 * send.h: the toolkit's one sending path (lib/send/).
 *
 * Every program that sends a text goes through here: a message is
 * checked, stored in its conversation as queued (durably, before any
 * request), sent through the provider with retries, a pace and the
 * consent ledger read again just before the request, and settled in the
 * inbox; an answer that never came leaves it unknown, for
 * reconcile_outbox() to settle, never to be sent again blindly. A
 * message to go later is stored as scheduled instead, and claimed and
 * sent by a --due run (schedule.c). The
 * program sets up one run's state (struct send: the inbox, the
 * provider's credentials, the options) and its hooks, then hands over
 * records (workers_from_records(), send_one()) or asks for a
 * reconciliation; each message ends in one call of on_end.
 *
 * One run's state (struct send, with the provider's account), a
 * message on its way through the steps (struct job), a thread's tools
 * (struct worker), and one HTTP exchange (struct http); then what
 * each module offers, under the name of its file, with its contract
 * above its definition. The run's counts are under send.lock; the rest
 * of struct send is set up by the program before the first message.
 *
 * Ownership: a function that takes a record or a message says so
 * ("Takes rec"); a json_t * it returns is a new reference; const
 * arguments are borrowed.
 */
#ifndef SEND_H
#define SEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "hours.h"
#include "inbox.h"
#include "provider.h"
#include "rules.h"

struct gsm_ctx;
struct price_table;
struct queue;
struct syncer;
struct tzdb;

/* How one message ended, for the exit code. */
enum outcome { OK, PERMANENT, TEMPORARY, AUTH };

/*
 * For the summary of a run: how messages ended (sent, deferred for quiet
 * hours, scheduled to go later, canceled by hand, refused before the
 * provider took them, failed, to retry), and
 * how many of those for each reason (the error's code).
 */
enum { T_SENT, T_DEFERRED, T_SCHEDULED, T_CANCELED, T_REFUSED, T_FAILED,
	T_RETRY, T_KINDS };
struct tally {
	int kind;
	char why[32];
	unsigned long n;
};
#define TALLY_MAX 32		/* reasons past these are "other" */


struct send {
	/*
	 * The program's hooks. on_end: a message ended (its final record
	 * and outcome), called under lock, once per message, the counts
	 * below already updated; on_warn: a diagnostic line, without the
	 * program's name. Either may be NULL.
	 */
	void (*on_end)(struct send *s, const json_t *msg, enum outcome oc);
	void (*on_warn)(struct send *s, const char *line);
	void *arg;			/* the program's own */
	struct inbox ib;
	int have_inbox;
	struct provider_account acct;	/* the provider's, to send with */
	/*
	 * Failover (failover.c): the accounts of the providers of the list
	 * after the first (acct), in its order, nalt of them (0: one
	 * provider, no failover), and how long one that failed is skipped
	 * (failover_cooldown, seconds).
	 */
	struct provider_account alt[PROVIDER_LIST_MAX - 1];
	size_t nalt;
	double cooldown;
	const char *country, *agent, *tmpl, *key;
	const char *purpose;		/* of a message that does not say */
	long max_segments, retries, jobs;
	long timeout;			/* seconds a request may take */
	double rate;			/* requests a second; 0: no limit */
	int dry_run, json, reply;
	int progress;			/* stderr is a terminal */
	long screen;			/* its height */
	long grace;
	int quiet;			/* quiet hours: 0 off, 'd' defer,
					 * 'r' refuse */
	const char *quiet_spec;		/* the window, as configured */
	struct hours_window qwin;
	struct tzdb *tzdb;
	/*
	 * The rules by jurisdiction and purpose (hold.c): the table and the
	 * configuration's; how long a customer's text keeps an answer a
	 * reply (reply_window, seconds); a message's subject when its
	 * record gives none (--subject, or NULL).
	 */
	struct rules rules;
	long long reply_window;
	const char *subject;
	struct price_table *prices;	/* a dry run's */
	/*
	 * Media (MMS): --media, the items of a message whose record gives
	 * none (paths or URLs; NULL if none); the base of our links
	 * (public_url, or NULL: a local file is refused); how long a link
	 * serves, in seconds (media_ttl); a dry run's price of an MMS
	 * (mms_price), if mms_priced.
	 */
	json_t *media;
	const char *public_url;
	/*
	 * Scheduling (schedule.c): when a message given no "at" goes
	 * (--at, --in; 0: now), and when it expires (--expire: a time, or
	 * a duration after its send_at; NULL: none given).
	 */
	time_t send_at;
	const char *expire;
	/*
	 * Channels (prepare.c): --channel, for a message whose record names
	 * none ("sms", "whatsapp"; NULL: the channel the customer last
	 * wrote on, their conversation's "last_in_channel"), and a WhatsApp
	 * template: --content-sid and --content-variables (NULL if not
	 * given).
	 */
	const char *channel;
	const char *content_sid, *content_vars;
	/*
	 * consent_scope (smsdesk-config(5)): 1 if an opt-out holds only on
	 * the channel it came on ("channel"), 0 on every channel ("person",
	 * the default). See send_consent_channel().
	 */
	int consent_by_channel;
	/*
	 * A dry run's price of a WhatsApp message (whatsapp_price), if
	 * wa_priced, and of a template (whatsapp_template_price, else
	 * whatsapp_price), if wa_tmpl_priced.
	 */
	long long wa_micro, wa_tmpl_micro;
	int wa_places, wa_priced, wa_tmpl_places, wa_tmpl_priced;
	/*
	 * The carriers' rules (setup.c, prepare.c): the first message to a
	 * number that never wrote in carries the business and how to opt
	 * out: disclosure 'a' adds disclosure_text when the text lacks it,
	 * 'r' refuses the message, 0 neither (disclosure = off).
	 */
	int disclosure;
	char *disclosure_text;
	const char *disclosure_name;	/* business_name, or "" */
	long media_ttl;
	long long mms_micro;
	int mms_places, mms_priced;

	pthread_mutex_t lock;		/* below: output and the counts */
	unsigned long done, nok, nperm, ntemp;
	unsigned long dry_n, dry_segments, dry_unpriced;
	unsigned long dry_mms, dry_mms_unpriced;	/* of dry_n */
	unsigned long dry_wa, dry_wa_unpriced;		/* of dry_n */
	long long dry_micro;		/* the dry run's total */
	int dry_places;			/* the most its prices were
					 * written with */
	unsigned long kinds[T_KINDS];	/* for out_summary() */
	struct tally tally[TALLY_MAX];
	size_t ntally;
	int reconciling;		/* --reconcile: nothing is refused */
	unsigned long young;		/* --reconcile: taken too recently
					 * to be asked about */
	int auth;			/* credentials rejected: stop */
	atomic_int stop;		/* the same, read without the lock */
	int ret;			/* input errors */
	int out_errno;
};

/*
 * A message on its way: prepared (checked, and stored as queued), sent,
 * then settled in the inbox and written out. A message that ends before
 * the request (refused, a duplicate, a dry run) is done when prepared.
 */
struct job {
	json_t *rec;			/* the input record, until prepared */
	json_t *msg;			/* the message */
	enum { J_DROP, J_DONE, J_SEND, J_SENT } state;
	enum outcome oc;		/* J_DONE: how it ended */
	json_t *pids;			/* J_SENT: every part's id when the
					   provider gave several, or NULL */
	char *pid, *status;		/* J_SENT: the provider's answer, */
	json_t *err;			/* or what went wrong */
	int waited;			/* quiet hours began meanwhile */
	int optout;			/* the provider refused it: the
					   recipient opted out */
	int via;			/* J_SENT: the provider of the list
					   it went to (send_account()) */
	json_t *failover;		/* the providers it failed over from,
					   [{provider, from, error}], or NULL */
	/* In a preparer's batch (workers.c): */
	struct inbox_pending *pending;	/* stored, its journal record
					   not yet synced */
	int lk, locked;			/* its thread's lock, if locked */
	int claim;			/* to claim for s->agent once
					   stored (claim_answered()) */
	int due;			/* rec is an entry of schedule/
					   ({thread, id, send_at}): to
					   claim (send_prepare_due()) */
	unsigned long seq;		/* its place in the input */
	char where[48];
};

struct worker {
	struct send *s;
	struct queue *from, *to;	/* a stage's work, and the next's */
	/*
	 * A preparer's batches (NULL: none, each message is stored on its
	 * own): the one it is beginning, jobs whose threads are locked and
	 * journal records written, and the one before, whose records a
	 * syncer is making durable meanwhile; flush ends them both.
	 */
	struct job **batch, **prev;
	size_t nbatch, nprev;
	void (*flush)(struct worker *w);
	struct syncer *syncer;
	CURL *curl;
	struct gsm_ctx *gsm;
	unsigned long long rng;
	char cerr[CURL_ERROR_SIZE];
};

/* An HTTP exchange. */
struct http {
	const char *body;		/* the request body, for the reader */
	size_t len, off;
	int rewound;			/* libcurl wanted the body again */
	CURLcode cc;
	long status;
	double retry_after;		/* seconds; 0 if none */
	struct buf resp;
};

/* result.c */

/*
 * What the path does when it cannot go on (out of memory, no thread):
 * fn is called with the reason and must not return. Set once, before
 * the first message; without it the path aborts.
 */
void send_set_fatal(void (*fn)(const char *msg));
void send_fatal(const char *msg);
void send_nomem(void);
enum outcome send_classify(const json_t *msg);
void send_emit(struct send *s, const json_t *msg, enum outcome oc);
void send_warn(struct send *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
json_t *send_error(const char *code, json_int_t pcode, const char *message);
void send_dry_price(struct send *s, json_t *msg, const char *number,
    size_t segments);
/* A dry run's price of an MMS, msg: one message at mms_price. */
void send_dry_price_mms(struct send *s, json_t *msg);
/*
 * A dry run's price of a WhatsApp message, msg: one message (WhatsApp
 * has no segments) at whatsapp_price, or a template (one with a
 * content_sid) at whatsapp_template_price.
 */
void send_dry_price_whatsapp(struct send *s, json_t *msg);

/* rate.c */

double rate_now(void);

/* http.c */

struct curl_slist *http_setup(CURL *c, const struct provider_http *rq,
    struct http *h, long timeout, char *cerr);
void http_request(struct worker *w, const struct provider_http *rq,
    struct http *h);
/*
 * A status word from the provider's API (a create's answer, a fetch),
 * checked as a webhook's is (provider_status_valid()): st if it is one,
 * else "unknown", said on stderr with thread and what came.
 */
const char *http_status_word(struct send *s, const char *thread,
    const char *st);

/* prepare.c */

void send_prepare(struct worker *w, struct job *j);
void send_prepare_end(struct worker *w, struct job **j, size_t n);
void send_prepare_claim(struct worker *w, struct job *j);
/*
 * Check a --template before any record is read: UTF-8, and every "{"
 * (not "{{") closed by a "}" after a field name of at most 127 bytes.
 * Returns 0, or -1 with e filled.
 */
int template_check(const char *tmpl, struct errbuf *e);

/*
 * Whether a --key is a template ('followup-{thread}'): it has a "{" that
 * is not "{{". Such a key is filled for each record as a --template is,
 * from the record and else its recipient's contact (contact.h).
 */
int send_key_templated(const char *key);

/* send.c */

int send_stopped(struct send *s);
void send_job(struct worker *w, struct job *j);
void send_finish(struct send *s, struct job *j);
void send_one(struct worker *w, json_t *rec, const char *where);

/* workers.c */

enum { W_CURL = 1, W_GSM = 2, W_BATCH = 4 };	/* what a worker needs */

void worker_init(struct worker *w, struct send *s, unsigned long long seed,
    int what);
void worker_free(struct worker *w);
void workers_from_records(struct send *s);
/*
 * The stages of workers_from_records() for jobs of the caller's making
 * (--due's): started, each job put (j->seq given here; the job is
 * theirs), then ended, which waits for every job to be finished.
 */
struct workers;
struct workers *workers_start(struct send *s);
void workers_put(struct workers *wk, struct job *j);
void workers_end(struct workers *wk);

/* schedule.c */

#define SEND_EXPIRY (24 * 3600)	/* how late a message without an
				 * expiry may go out */
/*
 * Whether j's message (its thread, body and the rest checked) is to go
 * later: rec's "at" (a request's, one without "type"), else s->send_at;
 * one not after now goes now. A message to go later gets "send_at" and,
 * from rec's "expire" or s->expire, "expires_at". 1 if it is to go
 * later, 0 if now, -1 if j was refused (a bad time).
 */
int send_schedule_of(struct send *s, struct job *j, const json_t *rec);
/*
 * A --due job: its scheduled message claimed to be sent, under its
 * thread's lock, after the checks of a fresh send (expiry, consent, a
 * block, quiet hours: moved to their end, not sent): J_SEND with the
 * message queued, J_DONE (canceled, moved, or the inbox failed), or
 * J_DROP (no longer scheduled: another run's, or canceled). Takes
 * j->rec.
 */
void send_prepare_due(struct worker *w, struct job *j);
/*
 * The last time msg may go out: its expires_at; else, if it is to go
 * later, its send_at and SEND_EXPIRY; else now. (A link to its media
 * must serve until then.)
 */
time_t send_latest(const json_t *msg);

/*
 * Whether msg is an answer to a keyword that goes whoever asked: HELP's
 * ("auto": "help") and the opt-out's own confirmation ("stop"), which a
 * provider without replies in its answer has sms-recv schedule
 * (smsdesk(7), GUARANTEES). An opt-out does not stop these; a block
 * does.
 */
int send_keyword_answer(const json_t *msg);
/*
 * The channel whose consent msg needs (inbox_consent_on()): NULL, every
 * channel's, when consent is by person (the default); else msg's
 * ("whatsapp"; "sms" for a text or a picture).
 */
const char *send_consent_channel(const struct send *s, const json_t *msg);
/*
 * Just before the request of msg, a scheduled message this run claimed
 * (it has a send_at): whether it is still this run's claim, queued at
 * its "at" with no provider id. A claim that waited long (for a --rate
 * slot) may have been given back by --reconcile and claimed by another
 * run since; then it is said, and 0: not to send, nor to settle. 1 for
 * any other message.
 */
int send_still_claimed(struct send *s, const json_t *msg);
/* --due: every scheduled message whose send_at has come. */
void send_due(struct send *s);
/*
 * --cancel (cancel 1) or --reschedule (0, to s->send_at): the scheduled
 * messages of id, thread or key (any that are NULL choose nothing), or
 * with all of them NULL those of the records on stdin, each changed
 * under its thread's lock and written out.
 */
void send_change_scheduled(struct send *s, int cancel, const char *id,
    const char *thread, const char *key);

/* hold.c */

/*
 * What the rules (smsdesk-rules(5)) say of a message: go (held 0), or
 * held back ('d' deferred until until, 'r' refused), by the rule named
 * by (its jurisdiction, purpose, and "hours" or "frequency"), why
 * said in full.
 */
struct hold {
	int held;
	time_t until;
	char by[64];
	char why[400];
};
/*
 * The rules, s->rules: the table's and the configuration's (a rule
 * switched off said through on_warn, once), reply_window (default 24h)
 * and, if missing, the time zone database. 0, or an exit status with e
 * filled.
 */
int send_setup_rules(struct send *s, const struct config *cfg,
    struct errbuf *e);
/*
 * Whether a rule with a cap binds msg (to num): then its count must be
 * taken under num's lock, and the message stored under the same hold.
 */
int send_rules_capped(struct send *s, const json_t *msg, const char *num);
/*
 * The rules for msg (its "purpose", "subject", "timezone") to num at
 * now, into h: a reply is one while the customer's last text is at most
 * reply_window old, else a notification; with caps, a cap counts the
 * messages of the conversation that went or are going (not failed,
 * canceled, scheduled) in its period (without, only the hours are
 * asked: msg may be one of those). 0 (see h->held), or -1 with e filled
 * (the inbox could not be read).
 */
int send_rules_hold(struct send *s, const json_t *msg, const char *num,
    time_t now, int caps, struct hold *h, struct errbuf *e);

/* setup.c */

struct config;
/* A --quiet-hours mode: 'd' defer, 'r' refuse, 0 off; -1 if none. */
int send_quiet_mode(const char *mode);
/*
 * The configuration (*cfg, made here: the user's file, else the inbox
 * dir's, else $SMSDESK_INBOX's) and s->country. 0, or an exit status with
 * e filled, as every call here.
 */
int send_setup_config(struct send *s, struct config **cfg, const char *dir,
    struct errbuf *e);
/*
 * Quiet hours: the mode of flag (--quiet-hours; NULL: the config's
 * quiet_hours_mode, else off), the window (quiet_hours) and, when on,
 * the time zone database; SMSDESK_NOW checked.
 */
int send_setup_quiet(struct send *s, const struct config *cfg,
    const char *flag, struct errbuf *e);
/*
 * The configured provider's account and sender, s->acct: from or service
 * (--from, --messaging-service) over the configuration's; need: the
 * credentials must be there (not for a dry run).
 */
int send_setup_provider(struct send *s, const struct config *cfg,
    const char *from, const char *service, int need, struct errbuf *e);
/* A dry run's prices (sms-send(1), Prices): s->prices; nothing else. */
int send_setup_prices(struct send *s, const struct config *cfg,
    struct errbuf *e);
/*
 * The inbox at dir (inbox_path()), never made: s->ib, its diagnostics to
 * on_warn, its "by" from s->agent, and the journals a crash left
 * replayed. A dry run goes on without one (s->have_inbox 0).
 */
int send_setup_inbox(struct send *s, const struct config *cfg,
    const char *dir, struct errbuf *e);
/*
 * Media (MMS): s->public_url (SMSDESK_PUBLIC_URL, public_url), the life of
 * a link (SMSDESK_MEDIA_TTL, media_ttl, a duration, default 4h) and an
 * MMS's price for a dry run (SMSDESK_MMS_PRICE, mms_price).
 */
int send_setup_media(struct send *s, const struct config *cfg,
    struct errbuf *e);
/*
 * Consent by person or by channel (SMSDESK_CONSENT_SCOPE, consent_scope:
 * person, the default, or channel): s->consent_by_channel.
 */
int send_setup_consent(struct send *s, const struct config *cfg,
    struct errbuf *e);
/*
 * The carriers' rules, once the provider's account is set: the
 * first-message disclosure (SMSDESK_DISCLOSURE, disclosure: add, the
 * default; refuse; off, said once through on_warn) and its text
 * (disclosure_text, else business_name and "Reply STOP to opt out."); a
 * North American sender with no registration configured
 * (SMSDESK_REGISTRATION, registration) is said once through on_warn.
 */
int send_setup_carriers(struct send *s, const struct config *cfg,
    struct errbuf *e);
/* Free what the calls above made, and cfg. */
void send_teardown(struct send *s, struct config *cfg);

/* failover.c */

/* The account of the i-th provider of the list (0: s->acct). */
struct provider_account *send_account(struct send *s, int i);
/*
 * The provider (its place in the list) the next attempt of a message
 * goes to, of those not in tried (a bit each): the one whose number is
 * from (the message's: an automatic answer goes from the number the
 * customer wrote to), if it is not cooling down; else the first in the
 * list's order that is not; if every one left is, the one whose
 * cool-down ends first. *probe is set when the one chosen was cooling
 * down until now: it is tried again (the others skip it meanwhile), and
 * failover_ok() says it is well. -1 if none is left. Always 0 for one
 * provider.
 */
int failover_pick(struct send *s, unsigned tried, const char *from,
    int *probe);
/*
 * Provider i failed (an outage's sign): skipped by every run through
 * this inbox for s->cooldown seconds, or secs if longer. Said on stderr.
 */
void failover_cool(struct send *s, int i, double secs, const json_t *err);
/* A probe of provider i was taken: it is no longer skipped. */
void failover_ok(struct send *s, int i);

/* reconcile.c */

void reconcile_outbox(struct send *s);

#endif
