/*
 * sms-recv.h: what the modules of sms-recv(1) share.
 *
 * One run's state (struct recv), set up by main() before the first
 * request or line and read-only after, but for ret (the exit code, set by
 * whoever meets a failure), the events on their way to stdout (struct
 * events, under its lock), the settings a listener reloads (conf, under
 * conf_lock) and its counts (stats, atomic). sms-recv.c has the options;
 * the modules in cmd/sms-recv/ are:
 *
 *   conf.c     the settings of the configuration, and their reload
 *   admin.c    a listener's admin server: health and metrics
 *   events.c   the event records on stdout, and a listener's writer thread
 *   store.c    storing a message or a status, keywords, automatic replies
 *   listen.c   the webhook listener (--listen)
 *   files.c    payloads from files or stdin, for imports and replays
 *   media.c    media fetched into the inbox: the listener's fetcher
 *              thread, and --fetch-media
 *   poll.c     the provider's list of messages read (--poll), from a
 *              cursor kept in the inbox
 *   spool.c    the spool of SMS Server Tools 3 read (--spool), for a
 *              GSM modem
 *
 * What each offers is below, under the name of its file, with its
 * contract above its definition.
 *
 * Ownership: a json_t * passed in is borrowed; a reply returned is
 * malloc'd and the caller's.
 */
#ifndef SMS_RECV_H
#define SMS_RECV_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

#include "diag.h"
#include "hours.h"
#include "httpd.h"
#include "inbox.h"
#include "media.h"
#include "provider.h"
#include "tz.h"

/*
 * The listener's limits. Connections cost a descriptor and a few pages
 * each, no thread: EVENT_THREADS serve them all, and a complete request
 * goes to one of WORKERS (a delivery blocks in fsync(2)). The cap on
 * connections is MAX_CONNECTIONS or what the limit of open files leaves
 * after FD_RESERVE, whichever is less.
 */
#define MAX_CONNECTIONS 4096
#define FD_RESERVE 256
#define PER_ADDRESS 32		/* connections from one address
				 * (--per-address) */
#define EVENT_THREADS 2
#define WORKERS 32
#define LOG_PER_SECOND 10	/* lines a second from a source that floods */

#define EVENT_QUEUE 4096	/* events waiting for a slow reader */
#define FETCH_QUEUE 1024	/* messages waiting for the fetcher */

/*
 * Events on their way to stdout. A listener's request threads only queue
 * them; one writer thread blocks on the pipe, so a reader that stalls can
 * cost events (counted, and said at exit) but never a delivery.
 */
struct events {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	char *line[EVENT_QUEUE];
	size_t head, n;
	unsigned long dropped;
	int done;
};

/*
 * A provider the listener serves: on its own path (webhook_path), with
 * its own signing secret and the credentials its media are fetched with.
 */
#define FEEDS_MAX 8

struct feed {
	const struct provider *pv;
	const char *secret;	/* its signing secret, or NULL (--insecure) */
	const char *sig_method;	/* which of its signature methods it signs
				 * with (for one that has several), or NULL */
	struct media_opts media;	/* how its media are fetched */
	struct provider_account acct;	/* what media borrows */
};

/*
 * What the configuration gives (conf.c): loaded whole at start, and again
 * on SIGHUP by a listener. Read-only once loaded; the strings borrow from
 * cfg. refs counts the holders (the listener's current one, and each
 * request working with it), under struct recv's conf_lock.
 */
struct recv_conf {
	unsigned refs;
	struct config *cfg;
	const struct provider *pv;	/* the first of feeds: files' */
	const char *secret;	/* the provider's signing secret */
	struct feed feed[FEEDS_MAX];	/* --provider's, in its order */
	size_t nfeeds;
	char *public_url;	/* base the provider signs against, or NULL */
	const char *help_text;	/* the answer to HELP and INFO */
	char *help;		/* help_text when made from business_name */
	const char *ack_text;	/* the answer to a first message, or NULL */
	const char *away_text;	/* the answer out of business hours, or NULL */
	const char *stop_text;	/* our opt-out confirmation, or NULL */
	const char *start_text;	/* our opt-in confirmation, or NULL */
	int consent_by_channel;	/* consent_scope = channel: an opt-out
				   holds on its own channel only */
	struct hours hours;	/* business hours, in zone */
	const struct tz *zone;	/* the business's time zone */
	struct tzdb *tzdb;
	struct media_opts media;	/* how media are fetched: the first
					   feed's (feed_media() picks) */
	struct feed known[FEEDS_MAX];	/* every provider known, for the
					   media of a message of a provider
					   not served (--fetch-media) */
	size_t nknown;
};

/* What a load of the configuration goes by: the options, kept. */
struct conf_args {
	const char *dir;	/* -d, or NULL */
	const char *provider;	/* -p (NAME,NAME), or NULL */
	const char *url;	/* --public-url, or NULL */
	const char *default_url;	/* the listener's own, or NULL */
	int listening, insecure, spool;
	_Atomic int *cancel;	/* a media fetch stops once it is set */
};

/*
 * The listener's counts, for its metrics (admin.c): atomic, so that a
 * request pays one relaxed increment for each. Requests by route (a
 * provider's index in provider_at(), then ROUTE_MEDIA for /media/ and
 * ROUTE_OTHER for any other path) and answer (ANSWER_* below).
 */
enum { ANSWER_200, ANSWER_400, ANSWER_403, ANSWER_404, ANSWER_405,
	ANSWER_413, ANSWER_500, ANSWER_503, ANSWER_DROPPED, ANSWER_OTHER,
	ANSWERS };
#define ROUTES (FEEDS_MAX + 2)
#define ROUTE_MEDIA FEEDS_MAX
#define ROUTE_OTHER (FEEDS_MAX + 1)

struct recv_stats {
	_Atomic unsigned long requests[ROUTES][ANSWERS];
	_Atomic unsigned long messages, statuses;	/* stored, answered
							   200 */
	_Atomic unsigned long reloads, reload_failures;
	_Atomic long long reloaded_at;	/* when the settings in use loaded */
};

struct recv {
	struct inbox ib;
	struct recv_conf *conf;	/* the current settings (conf_now()) */
	pthread_mutex_t conf_lock;	/* conf and its refs */
	struct conf_args args;	/* what a reload goes by */
	struct events ev;
	unsigned timeout;	/* idle; a request gets three times this */
	unsigned per_address;	/* connections from one address, 0: any */
	struct httpd_pool *pool;	/* the listener's workers */
	struct fetcher *fetcher;	/* the listener's, or NULL */
	_Atomic int media_cancel;	/* set: the fetcher stops */
	struct recv_stats stats;	/* the listener's, for --admin-listen */
	const struct sockaddr_storage *admin;	/* --admin-listen, or NULL */
	const char *admin_addr;	/* its address as text */
	int listening;
	int ret;
};

/* conf.c */

/*
 * Load the settings a (the configuration file, the environment, the
 * options): 0 with *out the new settings (refs 1), or -1 with e saying
 * what is wrong ("PATH:LINE: what" for a bad line of the file) and *code
 * the exit code it is at start.
 */
int conf_load(const struct conf_args *a, struct recv_conf **out, int *code,
    struct errbuf *e);
void conf_free(struct recv_conf *c);
/* The settings this thread holds, else the current ones. */
const struct recv_conf *conf_now(struct recv *r);
/* The current settings, held until conf_drop(). */
const struct recv_conf *conf_take(struct recv *r);
void conf_drop(struct recv *r, const struct recv_conf *c);
/* This thread works with c (one taken) until conf_use(NULL). */
void conf_use(const struct recv_conf *c);
/* conf_take() and conf_use() at once; conf_release() undoes both. */
const struct recv_conf *conf_hold(struct recv *r);
void conf_release(struct recv *r, const struct recv_conf *c);
/* Load anew and make the result current: 0, or -1 (e said, old kept). */
int conf_reload(struct recv *r, struct errbuf *e);

/* admin.c */

/*
 * The admin server on r->admin (--admin-listen): GET /health and GET
 * /metrics. Returns it, or NULL with e filled.
 */
struct httpd *admin_start(struct recv *r, struct errbuf *e);
/* Count a request answered code on route (code 0: dropped). */
void admin_count(struct recv *r, size_t route, unsigned code);

/* events.c */

void emit(struct recv *r, const char *event, const char *key, json_t *obj);
void events_start(struct recv *r, pthread_t *writer);
void events_stop(struct recv *r, pthread_t writer);

/* store.c */

int store_message(struct recv *r, const struct webhook_event *ev,
    const char *provider, const char *at, char **reply, struct errbuf *e);
int store_status(struct recv *r, const struct webhook_event *ev,
    const char *provider, struct errbuf *e);
void store_parts_left(struct recv *r);
int store_event(struct recv *r, const struct provider *pv,
    const struct webhook_event *ev, char **reply, struct errbuf *e);
void stop_journal(struct recv *r);

/* listen.c */

/* SIGTERM, SIGINT and SIGHUP blocked, for listen_loop() to take: called
 * before the first thread starts. */
void listen_signals(sigset_t *set);
int listen_loop(struct recv *r, struct sockaddr_storage *sin,
    const char *addr, unsigned timeout);

/* media.c */

/* The media options of the provider called name: its feed's, else (one
 * not served, such as any provider's message that --fetch-media meets)
 * its own from the configuration, else the first feed's. */
const struct media_opts *feed_media(struct recv *r, const char *name);

void media_start(struct recv *r);
void media_queue(struct recv *r, const json_t *msg);
void media_stop(struct recv *r);
/* Messages waiting for the fetcher, and those it had no room for. */
void media_backlog(struct recv *r, size_t *waiting, unsigned long *dropped);
int media_fetch_all(struct recv *r, long long max_age);

/* poll.c */

int poll_run(struct recv *r, const struct provider_account *a,
    unsigned page_size);

/* spool.c */

/*
 * --spool: the spool of SMS Server Tools 3 at dir read once (sent/,
 * failed/, report/, incoming/). Returns the exit code.
 */
int spool_run(struct recv *r, const char *dir);

/* files.c */

void read_input(struct recv *r, FILE *fp, const char *name);

#endif
