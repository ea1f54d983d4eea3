/*
 * admin.c: the listener's admin server (--admin-listen), for a load
 * balancer and a monitor, apart from the webhooks' port and off unless
 * asked for.
 *
 *   GET /health   200 "ok" if the inbox takes a file now and the journal
 *                 is being checkpointed (nothing pending, or the last
 *                 checkpoint within CHECKPOINT_STALE seconds, and no sync
 *                 failed); else 503 and the reason in one short line.
 *                 Nothing else is said: no path, no count, no version.
 *   GET /metrics  the counts in Prometheus's text format, version 0.0.4:
 *                 requests by route and answer, messages and statuses
 *                 stored, reloads, the journal's syncs (a histogram of
 *                 their latency) and checkpoints, the queues (outbox,
 *                 scheduled, media to fetch, events for stdout, the
 *                 working set) and the age of the oldest unanswered
 *                 conversation.
 *
 * A request pays for its count only (admin_count(): one relaxed atomic
 * increment); what the queues hold is read from the inbox when /metrics
 * is asked, on the admin server's own thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "diag.h"
#include "httpd.h"
#include "inbox.h"
#include "journal.h"
#include "provider.h"
#include "record.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

#define CHECKPOINT_STALE 10	/* seconds a pending journal may wait */
#define ADMIN_CONNECTIONS 16

static const char *const answer_label[ANSWERS] = {
	"200", "400", "403", "404", "405", "413", "500", "503", "dropped",
	"other",
};

void
admin_count(struct recv *r, size_t route, unsigned code)
{
	size_t a;

	switch (code) {
	case 200: a = ANSWER_200; break;
	case 400: a = ANSWER_400; break;
	case 403: a = ANSWER_403; break;
	case 404: a = ANSWER_404; break;
	case 405: a = ANSWER_405; break;
	case 413: a = ANSWER_413; break;
	case 500: a = ANSWER_500; break;
	case 503: a = ANSWER_503; break;
	case 0: a = ANSWER_DROPPED; break;
	default: a = ANSWER_OTHER; break;
	}
	atomic_fetch_add_explicit(&r->stats.requests[route][a], 1,
	    memory_order_relaxed);
}

static double
mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* NULL if the listener is healthy, else why not (into why). */
static const char *
unhealthy(struct recv *r, char *why, size_t n)
{
	struct journal_stats st;
	struct errbuf e;
	double age;

	if (inbox_probe(&r->ib, &e) < 0) {
		snprintf(why, n, "inbox not writable: %s", strerror(errno));
		return why;
	}
	if (inbox_journal_stats(&r->ib, &st) < 0)
		return NULL;	/* a journal that failed to start: synced */
	if (st.stuck)
		return "journal stuck: a sync failed";
	age = mono_now() - st.checkpoint_at;
	if (st.pending > 0 && age > CHECKPOINT_STALE) {
		snprintf(why, n, "journal not checkpointed for %.0fs", age);
		return why;
	}
	return NULL;
}

/* printf onto b (a line of the metrics: short). */
static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buf_adds(b, line);
}

/* One metric's HELP and TYPE lines. */
static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(struct buf *b, const char *name, const char *type, const char *help,
    double v)
{
	head(b, name, type, help);
	if (v == (double)(long long)v)
		buf_printf(b, "%s %lld\n", name, (long long)v);
	else
		buf_printf(b, "%s %.6f\n", name, v);
}

/* The route's name as a label: a provider's, "media" or "other". */
static const char *
route_name(size_t i)
{
	const struct provider *pv;

	if (i == ROUTE_MEDIA)
		return "media";
	if (i == ROUTE_OTHER || !(pv = provider_at(i)))
		return "other";
	return pv->name;
}

static void
requests(struct recv *r, struct buf *b)
{
	head(b, "smsdesk_recv_requests_total", "counter", "Requests to the "
	    "webhook port answered, by route (provider, media, other) and "
	    "status (dropped: cut off unanswered).");
	for (size_t i = 0; i < ROUTES; i++)
		for (size_t a = 0; a < ANSWERS; a++) {
			unsigned long v = atomic_load_explicit(
			    &r->stats.requests[i][a], memory_order_relaxed);

			if (v)
				buf_printf(b, "smsdesk_recv_requests_total"
				    "{route=\"%s\",code=\"%s\"} %lu\n",
				    route_name(i), answer_label[a], v);
		}
	one(b, "smsdesk_recv_messages_stored_total", "counter", "Messages "
	    "stored from webhooks (answered 200; a retry is not counted "
	    "again).",
	    (double)atomic_load(&r->stats.messages));
	one(b, "smsdesk_recv_statuses_stored_total", "counter", "Delivery "
	    "reports stored from webhooks (answered 200; a retry is not "
	    "counted again).",
	    (double)atomic_load(&r->stats.statuses));
	one(b, "smsdesk_recv_reloads_total", "counter", "Configuration "
	    "reloads (SIGHUP) that took.",
	    (double)atomic_load(&r->stats.reloads));
	one(b, "smsdesk_recv_reload_failures_total", "counter", "Reloads "
	    "refused: the configuration did not load, the old one kept.",
	    (double)atomic_load(&r->stats.reload_failures));
	one(b, "smsdesk_recv_config_loaded_timestamp_seconds", "gauge",
	    "When the configuration in use was loaded (Unix time).",
	    (double)atomic_load(&r->stats.reloaded_at));
}

static void
journal(struct recv *r, struct buf *b)
{
	struct journal_stats st;
	unsigned long sum = 0;

	if (inbox_journal_stats(&r->ib, &st) < 0)
		return;
	head(b, "smsdesk_journal_sync_seconds", "histogram", "Data syncs of "
	    "the journal (each shared by the deliveries waiting on it), by "
	    "how long they took.");
	for (size_t i = 0; i <= JOURNAL_BUCKETS; i++) {
		sum += st.sync_bucket[i];
		if (i < JOURNAL_BUCKETS)
			buf_printf(b, "smsdesk_journal_sync_seconds_bucket"
			    "{le=\"%g\"} %lu\n", journal_bucket_le[i], sum);
		else
			buf_printf(b, "smsdesk_journal_sync_seconds_bucket"
			    "{le=\"+Inf\"} %lu\n", sum);
	}
	buf_printf(b, "smsdesk_journal_sync_seconds_sum %.9f\n"
	    "smsdesk_journal_sync_seconds_count %lu\n", st.sync_seconds,
	    st.syncs);
	one(b, "smsdesk_journal_checkpoints_total", "counter", "Checkpoints "
	    "that made the journaled files durable and emptied a half.",
	    (double)st.checkpoints);
	one(b, "smsdesk_journal_checkpoint_age_seconds", "gauge", "Seconds "
	    "since the last checkpoint (or since one found nothing pending).",
	    mono_now() - st.checkpoint_at);
	one(b, "smsdesk_journal_pending_bytes", "gauge", "Bytes journaled "
	    "since the last checkpoint.", (double)st.pending);
	one(b, "smsdesk_journal_stuck", "gauge", "1 if a sync failed and "
	    "the journal is kept for replay.", st.stuck);
}

/*
 * The working set (queue/): conversations waiting for an owner, those
 * held, and the oldest waiting_since among them (a held one's is in its
 * conversation), or -1 if none waits.
 */
static int
working_set(struct recv *r, size_t *waiting, size_t *held, double *oldest)
{
	struct inbox_queue q = { 0 };
	struct errbuf e;
	time_t now = when_now(), first = 0, t;
	char when[32];

	*waiting = *held = 0;
	*oldest = -1;
	if (inbox_queue_read(&r->ib, &q, &e) < 0)
		return -1;
	for (size_t i = 0; i < q.n; i++) {
		const struct inbox_queue_entry *qe = &q.v[i];
		json_t *conv = NULL;
		const char *w = NULL;

		if (qe->kind == 'w') {
			++*waiting;
			snprintf(when, sizeof when, "%.*s", (int)qe->key_len,
			    qe->key);
			w = when;
		} else {
			++*held;
			conv = inbox_conversation(&r->ib, qe->thread, &e);
			w = conv ? record_str(conv, "waiting_since") : NULL;
		}
		if (w && *w && when_parse(w, &t, NULL) == 0 &&
		    (!first || t < first))
			first = t;
		json_decref(conv);
	}
	inbox_queue_release(&q);
	if (first)
		*oldest = now > first ? (double)(now - first) : 0;
	return 0;
}

static void
queues(struct recv *r, struct buf *b)
{
	struct inbox_due *due = NULL;
	struct errbuf e;
	json_t *out;
	size_t n, w, h;
	unsigned long dropped;
	double oldest;

	if ((out = inbox_outbox(&r->ib, &e))) {
		one(b, "smsdesk_outbox_messages", "gauge", "Outbound messages "
		    "not yet settled (outbox/).", (double)json_array_size(out));
		json_decref(out);
	}
	if (inbox_schedule_list(&r->ib, -1, &due, &n, &e) == 0) {
		one(b, "smsdesk_scheduled_messages", "gauge", "Messages "
		    "scheduled to be sent later (schedule/).", (double)n);
		free(due);
	}
	media_backlog(r, &n, &dropped);
	one(b, "smsdesk_media_fetch_waiting", "gauge", "Messages whose media "
	    "wait for the fetcher.", (double)n);
	one(b, "smsdesk_media_fetch_dropped_total", "counter", "Messages the "
	    "fetcher had no room for (sms-recv --fetch-media fetches them).",
	    (double)dropped);
	pthread_mutex_lock(&r->ev.lock);
	n = r->ev.n;
	dropped = r->ev.dropped;
	pthread_mutex_unlock(&r->ev.lock);
	one(b, "smsdesk_recv_events_waiting", "gauge", "Events waiting for "
	    "the reader of stdout.", (double)n);
	one(b, "smsdesk_recv_events_dropped_total", "counter", "Events lost "
	    "to a reader of stdout that stalled.", (double)dropped);
	if (working_set(r, &w, &h, &oldest) == 0) {
		one(b, "smsdesk_conversations_waiting", "gauge", "Conversations "
		    "waiting for an owner.", (double)w);
		one(b, "smsdesk_conversations_held", "gauge", "Conversations an "
		    "agent holds.", (double)h);
		one(b, "smsdesk_oldest_unanswered_seconds", "gauge", "Age of the "
		    "oldest unanswered conversation's wait (-1: none waits).",
		    oldest);
	}
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *type,
    struct buf *b)
{
	struct MHD_Response *rs;

	rs = MHD_create_response_from_buffer(b->len, b->p ? b->p : "",
	    MHD_RESPMEM_MUST_COPY);
	buf_free(b);
	if (!rs)
		return MHD_NO;
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return httpd_answer(conn, code, rs);
}

static enum MHD_Result
on_admin(void *cls, struct MHD_Connection *conn, const char *path,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct recv *r = cls;
	struct buf b = { 0 };
	const char *why;
	char line[256];
	unsigned code = MHD_HTTP_OK;

	(void)version;
	(void)data;
	if (!*req_cls)
		return MHD_NO;
	if (*size > 0) {	/* a body: not ours to read */
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		buf_adds(&b, "GET only\n");
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", &b);
	}
	if (strcmp(path, "/health") == 0) {
		if ((why = unhealthy(r, line, sizeof line))) {
			code = MHD_HTTP_SERVICE_UNAVAILABLE;
			buf_adds(&b, why);
			buf_addc(&b, '\n');
		} else {
			buf_adds(&b, "ok\n");
		}
		return reply(conn, code, "text/plain", &b);
	}
	if (strcmp(path, "/metrics") == 0) {
		requests(r, &b);
		journal(r, &b);
		queues(r, &b);
		if (b.err) {
			buf_free(&b);
			return MHD_NO;
		}
		return reply(conn, code,
		    "text/plain; version=0.0.4; charset=utf-8", &b);
	}
	buf_adds(&b, "not found\n");
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", &b);
}

struct httpd *
admin_start(struct recv *r, struct errbuf *e)
{
	struct httpd_opts o = { 0 };
	struct httpd *h;

	o.addr = r->admin;
	o.threads = HTTPD_PER_THREAD;
	o.max_connections = ADMIN_CONNECTIONS;
	o.timeout = r->timeout;
	o.handler = on_admin;
	o.handler_cls = r;
	if (!(h = httpd_start(&o, e)))
		return NULL;
	fprintf(stderr, "%s: admin (health, metrics) on %s:%u\n", diag_prog(),
	    r->admin_addr, httpd_bound_port(h));
	return h;
}
