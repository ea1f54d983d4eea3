/*
 * sms-recv: receive inbound texts and delivery reports, sms-recv(1).
 *
 * As a webhook listener (--listen) it serves POST /PROVIDER on GNU
 * libmicrohttpd: it reads the whole body (up to MAX_BODY), checks the
 * provider's signature against the configured public URL (never against
 * Host or forwarded headers), turns the request into a message or a status
 * report, stores it with inbox_deliver()/inbox_status(), and only then
 * answers 200. A request it cannot store gets 503, so the provider tries
 * again; the inbox ledger makes the retry harmless. Without --listen it
 * reads the same payloads from files or stdin (one form-encoded body or
 * one NDJSON message record per line) for imports and replays.
 *
 * Each stored item is announced as an NDJSON event on stdout. stdout is a
 * courtesy: the inbox is the record, so a reader that goes away costs the
 * events, never a delivery.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "form.h"
#include "hours.h"
#include "httpd.h"
#include "inbox.h"
#include "keyword.h"
#include "limit.h"
#include "provider.h"
#include "record.h"
#include "thread.h"
#include "tz.h"
#include "when.h"

#define USAGE "usage: sms-recv [-hiV] [-d DIR] [-l [ADDR:]PORT] " \
	"[-p PROVIDER]\n" \
	"                [--per-address N] [--public-url URL] " \
	"[--timeout SECONDS]\n" \
	"                [FILE ...]\n"
#define MAX_BODY (64 * 1024)

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
#define AGENT_QUIET 300		/* no away reply this soon after an agent's */

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

/* The answer to HELP unless help_text says otherwise, after the name. */
#define HELP_TEXT "Text us here and we will answer. Msg frequency varies. " \
	"Msg&data rates may apply. Reply STOP to opt out."

struct recv {
	struct inbox ib;
	const struct provider *pv;
	const char *secret;	/* the provider's signing secret */
	char *public_url;	/* base the provider signs against */
	struct events ev;
	const char *help_text;	/* the answer to HELP and INFO */
	const char *ack_text;	/* the answer to a first message, or NULL */
	const char *away_text;	/* the answer out of business hours, or NULL */
	const char *stop_text;	/* our opt-out confirmation, or NULL */
	const char *start_text;	/* our opt-in confirmation, or NULL */
	struct hours hours;	/* business hours, in zone */
	const struct tz *zone;	/* the business's time zone */
	struct tzdb *tzdb;
	unsigned timeout;	/* idle; a request gets three times this */
	unsigned per_address;	/* connections from one address, 0: any */
	struct httpd_pool *pool;	/* the listener's workers */
	int listening;
	int ret;
};

static void
usage(FILE *fp, int code)
{
	fputs(USAGE, fp);
	if (fp == stdout)
		fputs("\n"
		    "  -d, --dir DIR          the inbox (default "
		    "$SMSDESK_INBOX)\n"
		    "  -h, --help             print this help and exit\n"
		    "  -i, --insecure         listen without a signing "
		    "secret (testing only)\n"
		    "  -l, --listen [ADDR:]PORT  serve webhooks "
		    "(ADDR defaults to 127.0.0.1)\n"
		    "      --per-address N    with --listen, at most N "
		    "connections from one\n"
		    "                         address (default 32; 0: no "
		    "limit)\n"
		    "  -p, --provider NAME    twilio (default)\n"
		    "      --public-url URL   the base URL the provider "
		    "calls, for signatures\n"
		    "      --timeout SECONDS  drop a connection idle this "
		    "long (default 10),\n"
		    "                         cut off headers taking this "
		    "long, a request\n"
		    "                         three times this\n"
		    "  -V, --version          print the version and exit\n"
		    "\nWithout --listen, reads payloads from FILEs or stdin: "
		    "one form-encoded\nwebhook body or one NDJSON message "
		    "record per line.\n", fp);
	exit(code);
}

/*
 * Print one event (sms-record(5)): its name, the thread it concerns at
 * the top, and obj, the affected record, under key. A listener goes on if its reader went away (the inbox
 * is the record); in file mode a failed write is exit 74.
 */
static void
emit(struct recv *r, const char *event, const char *key, json_t *obj)
{
	struct events *q = &r->ev;
	char at[WHEN_BUFSZ], *line;
	json_t *ev;

	when_format(when_now(), at);
	ev = json_pack("{s:s,s:s,s:O?,s:s,s:O}", "type", "event", "event",
	    event, "thread", json_object_get(obj, "thread"), "at", at, key,
	    obj);
	if (!ev)
		return;
	if (!r->listening) {
		if (record_write(stdout, ev) < 0 || fflush(stdout) == EOF)
			r->ret = EXIT_IOERR;
		json_decref(ev);
		return;
	}
	line = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	pthread_mutex_lock(&q->lock);
	if (!line || q->n == EVENT_QUEUE) {
		q->dropped++;
		free(line);
	} else {
		q->line[(q->head + q->n++) % EVENT_QUEUE] = line;
		pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
}

/* The one thread that writes a listener's events to stdout. */
static void *
event_writer(void *arg)
{
	struct events *q = arg;
	char *line;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->n == 0 && !q->done)
			pthread_cond_wait(&q->ready, &q->lock);
		if (q->n == 0) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		line = q->line[q->head];
		q->head = (q->head + 1) % EVENT_QUEUE;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		/* A reader gone or stuck costs events, not deliveries. */
		if (fputs(line, stdout) == EOF || putchar('\n') == EOF ||
		    fflush(stdout) == EOF)
			clearerr(stdout);
		free(line);
	}
}

/*
 * Whether a message that came in now gets the away reply: the business
 * is closed, and no agent has written in the conversation in the last
 * five minutes (they are at work after all). Once a day is the key's
 * job: key gets "away-THREAD-DATE", DATE the business's local date.
 */
static int
away(const struct recv *r, const struct inbox_delivery *d, char *key,
    size_t n)
{
	const char *last = record_str(d->conversation, "last_out_at");
	time_t now = when_now(), t;
	struct tz_local l;

	if (!r->away_text || !*r->away_text)
		return 0;
	tz_local(r->zone, now, &l);
	if (hours_open(&r->hours, &l))
		return 0;
	if (last && when_parse(last, &t, NULL) == 0 && now - t < AGENT_QUIET)
		return 0;
	snprintf(key, n, "away-%s-%04lld-%02d-%02d",
	    record_str(d->message, "thread"), l.year, l.mon, l.mday);
	return 1;
}

/*
 * The automatic answer to a stored message, if any: the help text to
 * HELP and INFO; out of business hours the away text, once a day per
 * conversation (see away()); else the acknowledgement to the first
 * message of a new conversation, neither to a number that opted out.
 * An opt-out or opt-in that changed where the number stands gets our
 * confirmation only if one is configured: by default the
 * provider confirms (Twilio does), and a second would break the rule of
 * exactly one (smsdesk(7), GUARANTEES: one opt-out confirmation). A
 * blocked sender (inbox-mark --block) gets no answer at all. The answer
 * goes back in the webhook's TwiML; it is recorded in the conversation
 * first (purpose notification, no reply of a person; "auto" says which
 * answer it is), under a key made from the
 * provider's message id (the away reply: from the thread and the date),
 * so a webhook delivered twice is answered once. Returns the text
 * (malloc'd) or NULL.
 */
static char *
auto_reply(struct recv *r, enum keyword kw, const struct inbox_delivery *d,
    const struct webhook_event *ev)
{
	const char *text = NULL, *why = NULL;
	struct inbox_delivery out;
	struct errbuf e;
	char key[LIMIT_KEY + 1];
	json_t *msg;

	/* A blocked sender is never answered (its STOP is recorded all
	 * the same, by inbox_deliver()). */
	if (!ev->id || inbox_is_blocked(d->conversation))
		return NULL;
	snprintf(key, sizeof key, "auto-%s", ev->id);
	if (kw == KEYWORD_HELP)
		text = r->help_text, why = "help";
	else if (kw == KEYWORD_OPTOUT && d->consent_changed)
		text = r->stop_text, why = "stop";
	else if (kw == KEYWORD_OPTIN && d->consent_changed)
		text = r->start_text, why = "start";
	else if (kw == KEYWORD_NONE && away(r, d, key, sizeof key))
		text = r->away_text, why = "away";
	else if (kw == KEYWORD_NONE && r->ack_text &&
	    json_integer_value(json_object_get(d->conversation,
	    "messages")) == 1)
		text = r->ack_text, why = "ack";
	if (!text || !*text)
		return NULL;
	/*
	 * Only HELP and the opt-out's own confirmation are answered whoever
	 * asks (smsdesk(7), GUARANTEES: keywords answered, one opt-out
	 * confirmation); the other replies never go to a number that opted
	 * out (no text after STOP), even when the opt-out came some other
	 * way than a keyword here.
	 */
	if (kw != KEYWORD_HELP && kw != KEYWORD_OPTOUT &&
	    inbox_opted_out(&r->ib, record_str(d->message, "thread"), &e) != 0)
		return NULL;
	msg = json_pack("{s:s,s:O,s:s,s:O?,s:O,s:s,s:s,s:s,s:s,s:s}",
	    "type", "message", "thread", json_object_get(d->message,
	    "thread"), "direction", "out", "from", json_object_get(d->message,
	    "to"), "to", json_object_get(d->message, "thread"), "body", text,
	    "status", "accepted", "purpose", INBOX_NOTIFICATION, "auto", why,
	    "key", key);
	if (!msg || inbox_deliver(&r->ib, msg, 0, NULL, &out, &e) < 0) {
		/* The customer's message is stored; only the answer is lost. */
		diag_warn("auto-reply to %s: %s", ev->id, msg ? e.msg :
		    strerror(ENOMEM));
		json_decref(msg);
		return NULL;
	}
	json_decref(msg);
	if (out.duplicate) {
		inbox_delivery_free(&out);
		return NULL;
	}
	emit(r, "message.sent", "message", out.message);
	inbox_delivery_free(&out);
	return strdup(text);
}

/*
 * Store an inbound message. Returns 0 (stored or a known duplicate), -1
 * if it could not be stored (e filled; errno EINVAL for bad input).
 */
static int
store_message(struct recv *r, const struct webhook_event *ev,
    const char *provider, const char *at, char **reply, struct errbuf *e)
{
	char thread[THREAD_MAX];
	struct inbox_delivery d;
	struct errbuf pe;
	const char *word = NULL;
	enum keyword kw = KEYWORD_NONE;
	json_t *msg;
	int rc, number;

	/* A sender that is no number (a short code, a name) has a thread of
	 * its own kind, and its own words in "from". */
	if (thread_of_sender(ev->from, thread, &number, &pe) < 0)
		return errno = EINVAL, errf(e, "From: %s", pe.msg);
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s%,s:s,s:s,s:s?,s:s?}",
	    "type", "message", "thread", thread, "direction", "in",
	    "from", number ? thread : ev->from, "to", ev->to, "body",
	    ev->body, ev->body_len, "status", "received", "provider", provider,
	    "provider_id", ev->id, "at", at);
	if (!msg)
		return errno = EINVAL, errf(e, "message is not UTF-8 text");
	if (ev->num_segments > 0)
		json_object_set_new(msg, "segments",
		    json_integer(ev->num_segments));
	/* Nothing is ever sent to a sender: no consent, no answer. */
	if (number)
		kw = keyword_classify(ev->body, ev->body_len, &word);
	if (number && kw == KEYWORD_NONE && ev->optout_type) {
		/* The provider's own keywords (Twilio's Advanced Opt-Out). */
		kw = keyword_classify(ev->optout_type,
		    strlen(ev->optout_type), &word);
	}
	if (kw != KEYWORD_NONE)
		json_object_set_new(msg, "keyword", json_string(word));
	rc = inbox_deliver(&r->ib, msg, kw == KEYWORD_OPTOUT ? 'o' :
	    kw == KEYWORD_OPTIN ? 'i' : 0, word, &d, e);
	json_decref(msg);
	if (rc < 0)
		return -1;
	if (!d.duplicate) {
		emit(r, "message.received", "message", d.message);
		if (d.consent)
			emit(r, d.consent == 'o' ? "consent.optout" :
			    "consent.optin", "message", d.message);
		if (reply && number)
			*reply = auto_reply(r, kw, &d, ev);
	}
	inbox_delivery_free(&d);
	return 0;
}

static int
store_status(struct recv *r, const struct webhook_event *ev,
    const char *provider, struct errbuf *e)
{
	json_t *msg;
	int rc;

	rc = inbox_status(&r->ib, provider, ev->id, ev->status,
	    ev->error_code, &msg, e);
	if (rc == 1) {
		emit(r, "message.status", "message", msg);
		json_decref(msg);
	}
	return rc < 0 ? -1 : 0;
}

static int
store_event(struct recv *r, const struct webhook_event *ev, char **reply,
    struct errbuf *e)
{
	char at[WHEN_BUFSZ];

	when_format(when_now(), at);
	if (ev->kind == WEBHOOK_STATUS)
		return store_status(r, ev, r->pv->name, e);
	return store_message(r, ev, r->pv->name, at, reply, e);
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned code, const char *body,
    size_t len, const char *type)
{
	struct MHD_Response *rs;

	rs = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (!rs)
		return MHD_NO;
	if (type)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, "30");
	return httpd_answer(conn, code, rs);
}

static enum MHD_Result
fail(struct MHD_Connection *conn, unsigned code, const char *msg)
{
	return answer(conn, code, msg, strlen(msg), "text/plain");
}

static void
log_request(struct MHD_Connection *conn, const struct httpd_request *q,
    const char *method, unsigned code, const char *what)
{
	char line[512];

	httpd_log_line(conn, q, method, code, what, line, sizeof line);
	fprintf(stderr, "%s: %s\n", diag_prog(), line);
}

/* Handle a whole request; returns the HTTP status it answered with. */
static unsigned
handle(struct recv *r, struct MHD_Connection *conn, struct httpd_request *q,
    enum MHD_Result *ret)
{
	struct webhook_request rq = { .method = "POST" };
	struct webhook_event ev;
	struct form form = { 0 };
	struct errbuf e;
	struct buf url = { 0 }, out = { 0 };
	const char *ctype;
	char *reply = NULL;
	unsigned code;
	size_t i;

	ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	rq.content_type = ctype;
	rq.body = q->body.p ? q->body.p : "";
	rq.body_len = q->body.len;
	buf_adds(&url, r->public_url);
	buf_adds(&url, q->uri);
	buf_addc(&url, '\0');
	rq.url = url.p;
	for (i = 0; r->pv->sig_headers[i] && i < PROVIDER_SIG_MAX; i++)
		rq.sig[i] = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    r->pv->sig_headers[i]);

	if (ctype && strncasecmp(ctype, "application/json", 16) != 0) {
		if (form_parse(&form, rq.body, rq.body_len, &e) < 0) {
			code = MHD_HTTP_BAD_REQUEST;
			goto done;
		}
		rq.form = &form;
	}
	if (r->secret && r->pv->verify(r->secret, &rq, &e) < 0) {
		code = MHD_HTTP_FORBIDDEN;
		goto done;
	}
	if (r->pv->parse(&rq, &ev, &e) < 0) {
		code = MHD_HTTP_BAD_REQUEST;
		goto done;
	}
	if (store_event(r, &ev, &reply, &e) < 0) {
		code = errno == EINVAL ? MHD_HTTP_BAD_REQUEST :
		    MHD_HTTP_SERVICE_UNAVAILABLE;
		goto done;
	}
	snprintf(e.msg, sizeof e.msg, "%s %s", ev.kind == WEBHOOK_STATUS ?
	    ev.status : "message", ev.id);
	code = MHD_HTTP_OK;
done:
	if (code == MHD_HTTP_OK && r->pv->reply(reply, reply ?
	    strlen(reply) : 0, &out, &ctype, &e) == 0)
		*ret = answer(conn, code, out.p ? out.p : "", out.len, ctype);
	else if (code == MHD_HTTP_OK)
		*ret = fail(conn, code = MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot answer\n");
	else
		*ret = fail(conn, code, code == MHD_HTTP_FORBIDDEN ?
		    "forbidden\n" : code == MHD_HTTP_BAD_REQUEST ?
		    "bad request\n" : "cannot store now, try again\n");
	log_request(conn, q, "POST", code, e.msg);
	free(reply);
	form_free(&form);
	buf_free(&url);
	buf_free(&out);
	return code;
}

/* handle() on one of the listener's workers (httpd_pool_run). */
static void
handle_job(void *cls, struct MHD_Connection *conn, struct httpd_request *q)
{
	enum MHD_Result ret;

	handle(cls, conn, q, &ret);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct recv *r = cls;
	struct httpd_request *q = *req_cls;
	enum MHD_Result ret = MHD_NO;
	char want[64];

	(void)version;
	if (!q || !q->uri)
		return MHD_NO;
	snprintf(want, sizeof want, "/%s", r->pv->name);
	if (strcmp(path, want) != 0) {
		log_request(conn, q, method, MHD_HTTP_NOT_FOUND,
		    "no such path");
		return fail(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	if (strcmp(method, "POST") != 0) {
		log_request(conn, q, method, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "POST only");
		return fail(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "POST only\n");
	}
	if (!q->seen) {
		/* The first call comes with the headers, before any body. */
		q->seen = 1;
		httpd_guard_headers(conn);
		return MHD_YES;
	}
	if (*size > 0) {
		if (httpd_elapsed(q) > r->timeout * 3) {
			/*
			 * Trickling within the idle timeout: a time limit too.
			 * libmicrohttpd 0.9.75 cannot answer in the middle of
			 * a body, so the connection is cut.
			 */
			log_request(conn, q, "POST", 0, "too slow: cut off");
			return MHD_NO;
		}
		if (q->body.len + *size > MAX_BODY)
			q->too_big = 1;
		else if (buf_add(&q->body, data, *size) < 0)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	if (q->too_big || q->body.len > MAX_BODY) {
		log_request(conn, q, "POST", MHD_HTTP_CONTENT_TOO_LARGE,
		    "too large");
		return fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
	}
	if (q->deferred)	/* back from the pool, with its answer */
		return httpd_pool_answered(conn, q);
	httpd_guard_busy(conn);
	if (httpd_pool_run(r->pool, conn, q, handle_job, r) == 0)
		return MHD_YES;
	handle(r, conn, q, &ret);
	return ret;
}

/* Refuse a body whose declared length is over the cap before reading. */
static enum MHD_Result
on_headers(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct httpd_request *q = *req_cls;

	if (q && !q->seen && !q->too_big && cl &&
	    strtoull(cl, NULL, 10) > MAX_BODY) {
		log_request(conn, q, "POST", MHD_HTTP_CONTENT_TOO_LARGE,
		    "too large");
		q->too_big = 2;
		return fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
	}
	if (q && q->too_big == 2)
		return MHD_YES;
	return on_request(cls, conn, path, method, version, data, size,
	    req_cls);
}

/* A line of the listener's rate-limited logs (httpd_log). */
static void
log_out(void *arg, const char *line)
{
	(void)arg;
	diag_warn("%s", line);
}

/* The guard's line for a connection it cut off, through its log. */
static void
guard_report(void *arg, const char *line)
{
	httpd_log_say(arg, httpd_now(), line);
}

/*
 * How many connections the listener can take: it raises its limit of
 * open files to MAX_CONNECTIONS + FD_RESERVE if the hard limit allows,
 * and leaves FD_RESERVE of them to the inbox, the journal and
 * libmicrohttpd's own.
 */
static unsigned
connection_cap(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return MAX_CONNECTIONS;
	want = MAX_CONNECTIONS + FD_RESERVE;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		return rl.rlim_cur > 2 * FD_RESERVE ?
		    (unsigned)(rl.rlim_cur - FD_RESERVE) :
		    (unsigned)(rl.rlim_cur / 2);
	return MAX_CONNECTIONS;
}

/*
 * The last checkpoint. If it fails, what was stored stays durable in the
 * journal, which the next sms-recv replays: said, not an error.
 */
static void
stop_journal(struct recv *r)
{
	struct errbuf e;

	if (r->ib.journal && inbox_journal_stop(&r->ib, &e) < 0)
		diag_warn("%s; the journal is kept for the next run", e.msg);
}

/* Serve webhooks on sin (addr: its address as text, for a URL). */
static int
listen_loop(struct recv *r, struct sockaddr_storage *sin, const char *addr,
    unsigned timeout)
{
	struct MHD_Daemon *d;
	struct httpd_guard *g;
	struct httpd_log *mhd_log, *cut_log;
	unsigned short port;
	unsigned cap;
	sigset_t set;
	int sig;

	port = httpd_port(sin);
	if (!r->public_url) {
		char base[96];

		snprintf(base, sizeof base, "http://%s:%u", addr, port);
		r->public_url = strdup(base);
	}
	cap = connection_cap();
	/* Handle SIGTERM/SIGINT here, in sigwait, not in MHD's threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/*
	 * Headers get the idle timeout, a whole request three times it.
	 * What floods (a refusal for every connection over a limit, a cut
	 * for every slow one) is said at most LOG_PER_SECOND lines a second.
	 */
	if (!(mhd_log = httpd_log_new("libmicrohttpd", LOG_PER_SECOND,
	    log_out, NULL)) || !(cut_log = httpd_log_new("slow connections",
	    LOG_PER_SECOND, log_out, NULL)))
		diag_die(EXIT_TEMPFAIL, "%s", strerror(ENOMEM));
	if (!(g = httpd_guard_start(timeout, timeout * 3.0, guard_report,
	    cut_log)) || !(r->pool = httpd_pool_start(WORKERS)))
		diag_die(EXIT_TEMPFAIL, "cannot start a thread: %s",
		    strerror(errno));
	/*
	 * Connections on a few event threads (epoll), so that an idle or
	 * slow one costs no thread; complete requests on the pool, so that
	 * one waiting on the disk holds up no other. The logger comes
	 * first, to have every message.
	 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	    (sin->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), port, NULL, NULL,
	    on_headers, r,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log_mhd, mhd_log,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sin,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)EVENT_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, cap,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, r->per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_URI_LOG_CALLBACK, httpd_on_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_on_done, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_on_connection, g,
	    MHD_OPTION_END);
	if (!d) {
		int saved = errno;

		/* Its journal goes too: no later start has it to replay. */
		stop_journal(r);
		diag_die(EXIT_IOERR, "--listen %s:%u: cannot listen: %s",
		    addr, port, strerror(saved));
	}
	fprintf(stderr, "%s: listening on %s:%u for %s, public URL %s\n",
	    diag_prog(), addr, port, r->pv->name, r->public_url);
	fprintf(stderr, "%s: up to %u connections, ", diag_prog(), cap);
	if (r->per_address)
		fprintf(stderr, "%u from one address\n", r->per_address);
	else
		fprintf(stderr, "any number from one address\n");
	/*
	 * Wake every second to say what the logs held back, and hourly to
	 * sweep tmp/ of what crashes left behind (the journal checkpoints
	 * every second on its own thread).
	 */
	for (unsigned tick = 1;; tick++) {
		struct timespec second = { 1, 0 };
		struct errbuf e;
		size_t swept;

		if ((sig = sigtimedwait(&set, NULL, &second)) > 0)
			break;
		httpd_log_flush(mhd_log, httpd_now(), 0);
		httpd_log_flush(cut_log, httpd_now(), 0);
		if (errno != EAGAIN)
			continue;
		if (tick % 3600 == 0 &&
		    inbox_sweep(&r->ib, INBOX_SWEEP_AGE, &swept, &e) < 0)
			diag_warn("%s", e.msg);
	}
	fprintf(stderr, "%s: %s: finishing requests in flight\n", diag_prog(),
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_quiesce_daemon(d);
	for (int i = 0; i < 100; i++) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!di || di->num_connections == 0)
			break;
		usleep(100 * 1000);
	}
	/* The pool first: no connection may be left suspended. */
	httpd_pool_stop(r->pool);
	MHD_stop_daemon(d);
	httpd_pool_free(r->pool);
	r->pool = NULL;
	httpd_guard_stop(g);
	httpd_log_flush(mhd_log, httpd_now(), 1);
	httpd_log_flush(cut_log, httpd_now(), 1);
	httpd_log_free(mhd_log);
	httpd_log_free(cut_log);
	return 0;
}

/*
 * The first field of a message record that sms-recv reads and that holds
 * a NUL, or NULL: as a C string it would be cut short (or read as absent).
 */
static const char *
nul_field(const json_t *rec)
{
	static const char *const fields[] = {
		"provider_id", "from", "to", "body", "provider", "at",
	};

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (record_has_nul(json_object_get(rec, fields[i])))
			return fields[i];
	return NULL;
}

/*
 * The inbound message a record of a file is, or carries: the record
 * itself (a message, or a record without a "type", as imports write them),
 * or the "message" of an event that carries one that came in (a listener's
 * message.received, say, replayed). NULL with e filled for anything else:
 * an outbound message would be stored as a text from our own number.
 */
static const json_t *
inbound(const json_t *rec, struct errbuf *e)
{
	const char *type = record_str(rec, "type");
	const json_t *msg = rec;
	const char *dir;

	if (type && strcmp(type, "event") == 0) {
		msg = json_object_get(rec, "message");
		if (!json_is_object(msg) || !(dir = record_str(msg,
		    "direction")) || strcmp(dir, "in") != 0) {
			errf(e, "an event that carries no message that came "
			    "in: nothing to store");
			return NULL;
		}
		return msg;
	}
	if (json_object_get(rec, "type") && (!type ||
	    strcmp(type, "message") != 0)) {
		errf(e, "a record of type \"%.64s\" is not a message that "
		    "came in: nothing to store", type ? type : "?");
		return NULL;
	}
	if ((dir = record_str(rec, "direction")) && strcmp(dir, "in") != 0) {
		errf(e, "an outbound message: only messages that came in "
		    "are stored");
		return NULL;
	}
	return msg;
}

/* One line of a file: a form-encoded webhook body or a message record. */
static void
read_line(struct recv *r, const char *where, const char *line, size_t len)
{
	struct webhook_request rq = { .method = "POST", .url = "",
		.content_type = "application/x-www-form-urlencoded" };
	struct webhook_event ev = { 0 };
	struct form form = { 0 };
	struct errbuf e;
	json_t *rec = NULL;
	const json_t *msg;
	const char *provider = r->pv->name, *at = NULL, *pv;
	char now[WHEN_BUFSZ];
	int rc;

	if (len > 0 && line[0] == '{') {
		if (!(rec = record_parse(line, len, &e)) ||
		    !(msg = inbound(rec, &e)))
			goto bad;
		ev.kind = WEBHOOK_MESSAGE;
		if ((pv = nul_field(msg))) {
			errf(&e, "\"%s\" holds a NUL (\\u0000)", pv);
			goto bad;
		}
		ev.id = record_str(msg, "provider_id");
		ev.from = record_str(msg, "from");
		ev.to = record_str(msg, "to");
		ev.body = record_str(msg, "body");
		ev.body_len = json_string_length(json_object_get(msg, "body"));
		if (record_str(msg, "provider"))
			provider = record_str(msg, "provider");
		if (!provider_find(provider)) {
			errf(&e, "unknown provider '%s'", provider);
			goto bad;
		}
		at = record_str(msg, "at");
		if (!ev.from || !ev.body) {
			errf(&e, "a message record needs from and body");
			goto bad;
		}
		/* The id makes a replay harmless: without one, it is not. */
		if (!ev.id || !*ev.id) {
			errf(&e, "a message record needs a provider_id, a "
			    "string that is not empty");
			goto bad;
		}
		if (!at && json_object_get(msg, "at") &&
		    !json_is_null(json_object_get(msg, "at"))) {
			errf(&e, "\"at\" is not a string");
			goto bad;
		}
	} else {
		rq.body = line;
		rq.body_len = len;
		if (form_parse(&form, line, len, &e) < 0)
			goto bad;
		rq.form = &form;
		if (r->pv->parse(&rq, &ev, &e) < 0)
			goto bad;
	}
	when_format(when_now(), now);
	if (ev.kind == WEBHOOK_STATUS)
		rc = store_status(r, &ev, provider, &e);
	else
		rc = store_message(r, &ev, provider, at ? at : now, NULL, &e);
	if (rc < 0) {
		if (errno != EINVAL)
			diag_die(EXIT_IOERR, "%s: %s", where, e.msg);
		goto bad;
	}
	json_decref(rec);
	form_free(&form);
	return;
bad:
	diag_warn("%s: %s", where, e.msg);
	if (!r->ret)
		r->ret = EXIT_PARTIAL;
	json_decref(rec);
	form_free(&form);
}

static void
read_input(struct recv *r, FILE *fp, const char *name)
{
	struct record_reader rr;
	struct errbuf e;
	char where[512];
	int rc;

	record_reader_init(&rr, fp, name);
	while ((rc = record_getline(&rr, &e)) != 0) {
		if (rc < 0) {
			diag_warn("%s", e.msg);
			if (ferror(fp)) {
				r->ret = EXIT_IOERR;
				break;
			}
			r->ret = EXIT_PARTIAL;
			continue;
		}
		if (rr.len == 0)
			continue;
		snprintf(where, sizeof where, "%s:%lu", name, rr.lineno);
		read_line(r, where, rr.buf, rr.len);
	}
	record_reader_free(&rr);
}

/*
 * The out-of-hours reply's settings, checked now so that a mistake stops
 * the listener at startup rather than passing silently at night.
 */
static void
load_hours(struct recv *r, const struct config *cfg)
{
	const char *bh = config_pick(cfg, NULL, NULL, "business_hours", NULL);
	const char *zone = config_pick(cfg, NULL, NULL, "timezone", NULL);
	struct errbuf e;

	r->away_text = config_pick(cfg, NULL, NULL, "away_text", NULL);
	if (r->away_text && !*r->away_text)
		r->away_text = NULL;
	if (when_now_valid(&e) < 0)
		diag_die(EXIT_CONFIG, "SMSDESK_NOW: %s", e.msg);
	if (bh && hours_parse(&r->hours, bh, &e) < 0)
		diag_die(EXIT_CONFIG, "config: business_hours: %s", e.msg);
	if (r->away_text && !bh)
		diag_die(EXIT_CONFIG, "config: away_text needs business_hours, "
		    "as in Mon-Fri 09:00-17:00");
	if (bh && !zone)
		diag_die(EXIT_CONFIG, "config: business_hours needs timezone, "
		    "an IANA name such as America/New_York");
	if (!zone)
		return;
	if (!(r->tzdb = tzdb_new(NULL)))
		diag_die(EXIT_IOERR, "%s", strerror(errno));
	if (!(r->zone = tzdb_get(r->tzdb, zone, &e)))
		diag_die(EXIT_CONFIG, "config: timezone: %s", e.msg);
}

/*
 * The inbox could not be written at start (errno says why): 77 if it is
 * read-only or not ours to write, as sms-recv(1) says, else the code
 * diag_exit_for() gives every program.
 */
static void
die_unwritable(const struct errbuf *e)
{
	int code = diag_exit_for(errno);

	if (code == EXIT_NOPERM)
		diag_die(code, "%s (the inbox must be writable)", e->msg);
	diag_die(code, "%s", e->msg);
}

static void
report(void *arg, const char *msg)
{
	struct recv *r = arg;

	diag_warn("%s", msg);
	r->ret = EXIT_PARTIAL;
}

/*
 * The value of option opt, a number from lo to hi, or a usage error that
 * says so (unit after the range). Never wraps: 2^32 is not 0.
 */
static unsigned
opt_number(const char *opt, const char *arg, unsigned lo, unsigned hi,
    const char *unit)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || n < lo || n > hi)
		diag_die(EXIT_USAGE, "%s: '%s' is not %u to %u%s", opt, arg,
		    lo, hi, unit);
	return (unsigned)n;
}

int
main(int argc, char **argv)
{
	enum { OPT_PER_ADDRESS = 256, OPT_PUBLIC_URL, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "per-address", required_argument, NULL, OPT_PER_ADDRESS },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "insecure", no_argument, NULL, 'i' },
		{ "listen", required_argument, NULL, 'l' },
		{ "provider", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "public-url", required_argument, NULL, OPT_PUBLIC_URL },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct recv r = { .ev = { .lock = PTHREAD_MUTEX_INITIALIZER,
		.ready = PTHREAD_COND_INITIALIZER } };
	const char *dir = NULL, *listen_arg = NULL, *pname = NULL;
	const char *url = NULL, *key;
	struct config *cfg;
	struct sockaddr_storage sin;
	char addr[INET6_ADDRSTRLEN + 2];
	FILE **files = NULL;
	char *ipath;
	struct errbuf e;
	unsigned timeout = 10, per_address = PER_ADDRESS;
	int c, insecure = 0;
	size_t swept, replayed;
	char *help = NULL;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "d:hil:p:V", longopts,
	    NULL)) != -1) {
		switch (c) {
		case OPT_PER_ADDRESS:
			per_address = opt_number("--per-address", optarg, 0,
			    MAX_CONNECTIONS, "");
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'i':
			insecure = 1;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'p':
			pname = optarg;
			break;
		case OPT_TIMEOUT:
			timeout = opt_number("--timeout", optarg, 1, 3600,
			    " seconds");
			break;
		case OPT_PUBLIC_URL:
			url = optarg;
			break;
		case 'V':
			printf("sms-recv (smsdesk) %s\n", SMSDESK_VERSION);
			return diag_close_stdout(0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (listen_arg && argc > 0)
		diag_die(EXIT_USAGE, "--listen takes no FILE arguments");
	if (listen_arg && httpd_parse_listen(listen_arg, &sin, addr,
	    sizeof addr) < 0)
		diag_die(EXIT_USAGE, "--listen: '%s' is not [ADDR:]PORT (ADDR "
		    "an IPv4 address, [an IPv6 one] or a host name)",
		    listen_arg);

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	json_object_seed(0);
	/* The configuration first: it names the group trusted with the inbox. */
	if (!(cfg = config_new()))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	if (config_load_default(cfg, (ipath = inbox_path(dir)), &e) < 0)
		diag_die(EXIT_CONFIG, "%s", e.msg);
	free(ipath);
	if (inbox_group_check(config_pick(cfg, NULL, NULL, "group", NULL),
	    &e) < 0)
		diag_die(EXIT_CONFIG, "config: %s", e.msg);
	pname = config_pick(cfg, pname, "SMSDESK_PROVIDER", "provider",
	    "twilio");
	if (!(r.pv = provider_find(pname)))
		diag_die(EXIT_CONFIG, "unknown provider '%s'", pname);
	key = strcmp(r.pv->name, "twilio") == 0 ? "twilio_auth_token" :
	    "signing_secret";
	r.secret = config_pick(cfg, NULL, strcmp(r.pv->name, "twilio") == 0 ?
	    "TWILIO_AUTH_TOKEN" : NULL, key, NULL);
	if (r.secret && !*r.secret)
		r.secret = NULL;
	url = config_pick(cfg, url, "SMSDESK_PUBLIC_URL", "public_url", NULL);
	r.help_text = config_pick(cfg, NULL, NULL, "help_text", NULL);
	if (!r.help_text) {
		const char *name = config_pick(cfg, NULL, NULL,
		    "business_name", "");
		size_t n = strlen(name) + sizeof HELP_TEXT + 2;

		if (!(help = malloc(n)))
			diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
		snprintf(help, n, "%s%s" HELP_TEXT, name, *name ? ": " : "");
		r.help_text = help;
	}
	r.ack_text = config_pick(cfg, NULL, NULL, "ack_text", NULL);
	r.stop_text = config_pick(cfg, NULL, NULL, "stop_text", NULL);
	r.start_text = config_pick(cfg, NULL, NULL, "start_text", NULL);
	load_hours(&r, cfg);
	if (url) {
		size_t n = strlen(url);

		while (n > 0 && url[n - 1] == '/')
			n--;
		r.public_url = strndup(url, n);
	}
	if (listen_arg && !r.secret && !insecure)
		diag_die(EXIT_CONFIG, "no signing secret: set "
		    "TWILIO_AUTH_TOKEN or %s in the config, or "
		    "give --insecure to accept unsigned requests", key);
	/* Every FILE opens, or nothing is done. */
	if (argc > 0 && !(files = calloc((size_t)argc, sizeof *files)))
		diag_die(EXIT_IOERR, "%s", strerror(ENOMEM));
	for (int i = 0; i < argc; i++)
		if (!(files[i] = fopen(argv[i], "r")))
			diag_die(EXIT_NOINPUT, "%s: %s (nothing was read)",
			    argv[i], strerror(errno));

	/* All checked: the inbox, made if missing, and what it holds. */
	if (inbox_open_group(&r.ib, dir, 1, config_pick(cfg, NULL, NULL,
	    "group", NULL), &e) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	r.ib.report = report;
	r.ib.report_arg = &r;
	if (inbox_sweep(&r.ib, INBOX_SWEEP_AGE, &swept, &e) < 0)
		diag_warn("%s", e.msg);
	if (inbox_recover(&r.ib, &replayed, &e) < 0)
		die_unwritable(&e);
	if (replayed)
		diag_warn("%s: %zu deliveries replayed from the journal of a "
		    "listener that stopped", r.ib.dir, replayed);
	if (inbox_journal_start(&r.ib, &e) < 0)
		die_unwritable(&e);
	if (listen_arg) {
		if (r.secret && insecure)
			r.secret = NULL;
		pthread_t writer;

		r.listening = 1;
		r.timeout = timeout;
		r.per_address = per_address;
		if ((errno = pthread_create(&writer, NULL, event_writer,
		    &r.ev)) != 0)
			diag_die(EXIT_IOERR, "%s", strerror(errno));
		listen_loop(&r, &sin, addr, timeout);
		stop_journal(&r);
		/*
		 * Flush what is queued, unless the reader is stuck: then the
		 * writer is left behind in write(2) and exit ends it.
		 */
		pthread_mutex_lock(&r.ev.lock);
		r.ev.done = 1;
		pthread_cond_signal(&r.ev.ready);
		pthread_mutex_unlock(&r.ev.lock);
		for (int i = 0; i < 20; i++) {
			pthread_mutex_lock(&r.ev.lock);
			c = r.ev.n;
			pthread_mutex_unlock(&r.ev.lock);
			if (c == 0)
				break;
			usleep(50 * 1000);
		}
		if (r.ev.dropped || c)
			diag_warn("%lu events not written: the reader of "
			    "stdout fell behind", r.ev.dropped +
			    (unsigned long)c);
		if (c)
			_exit(r.ret);	/* stdout is held by the stuck writer */
		pthread_join(writer, NULL);
	} else if (argc == 0) {
		diag_stdin_note("payloads (a form body or an NDJSON record "
		    "a line)");
		read_input(&r, stdin, "stdin");
	} else {
		for (int i = 0; i < argc; i++) {
			read_input(&r, files[i], argv[i]);
			fclose(files[i]);
		}
	}
	free(files);
	stop_journal(&r);
	free(r.public_url);
	free(help);
	tzdb_free(r.tzdb);
	config_free(cfg);
	inbox_close(&r.ib);
	return diag_close_stdout(r.ret);
}
