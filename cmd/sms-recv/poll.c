/*
 * poll.c: sms-recv --poll, the provider's list of messages read instead of
 * its webhooks, for an inbox without a public URL (sms-recv(1), Polling).
 *
 * A poll asks the provider's list API (provider.h, poll_request) for
 * every message sent on or after the UTC day of the cursor less
 * POLL_OVERLAP, both directions, and follows its pages exactly as the
 * provider gives them (read_messages() makes the next request from the
 * answer, as the provider links its pages: never rebuilt). Each message
 * goes the webhooks' way (store.c): one that came in is stored as a
 * message, one of ours as a status report, and the inbox's ledger of
 * provider ids makes whatever was stored already (a poll that overlaps
 * the last, a webhook that came too) old news, not stored twice, not
 * announced twice.
 *
 * The cursor is the newest time a message was sent at that a poll read,
 * kept in the inbox as poll-PROVIDER, one JSON line, replaced whole
 * (written to poll-PROVIDER.tmp, synced, renamed, the directory synced).
 * It is written only when every page was read and stored, after a
 * checkpoint has made what was stored durable; so a poll cut short
 * (killed, the network gone) leaves the cursor where it was, and the next
 * poll reads the same messages again, harmlessly. It only moves forward.
 * lock/poll-PROVIDER keeps two polls of one provider from running at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "inbox.h"
#include "provider.h"
#include "record.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

/*
 * How far before the cursor a poll reaches back: a message sent before
 * the cursor may change status after it (a delivery report hours later),
 * and the list's filter counts in whole days.
 */
#define POLL_OVERLAP 86400
#define POLL_TIMEOUT 60		/* seconds, one page */
#define POLL_PAGES_MAX 100000	/* a provider that pages forever */

struct page_io {
	struct buf resp;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct page_io *io = arg;

	return buf_add(&io->resp, p, size * n) < 0 ? 0 : size * n;
}

/*
 * GET rq into io->resp on c; *http gets the status. Returns 0, or -1
 * with e saying why there was no answer.
 */
static int
get(CURL *c, const struct provider_http *rq, struct page_io *io, long *http,
    struct errbuf *e)
{
	struct curl_slist *hdr = curl_slist_append(NULL,
	    "Accept: application/json");
	char cerr[CURL_ERROR_SIZE] = "";
	CURLcode cc;

	io->resp.len = 0;
	io->resp.err = 0;
	*http = 0;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, rq->url.p);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if (rq->bearer) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, rq->bearer);
	} else if (rq->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, rq->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, rq->pass ? rq->pass : "");
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smsdesk/" SMSDESK_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)POLL_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, io);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = hdr ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
	curl_slist_free_all(hdr);
	if (cc != CURLE_OK || io->resp.err) {
		errno = EAGAIN;
		return errf(e, "%s", io->resp.err ? strerror(ENOMEM) :
		    cerr[0] ? cerr : curl_easy_strerror(cc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
	return 0;
}

/* The cursor of the provider called name: its time, or -1 if none. */
static time_t
cursor_read(struct recv *r, const char *name)
{
	char rel[64], text[512];
	struct errbuf e;
	json_t *rec;
	ssize_t n;
	time_t t;
	int fd;

	snprintf(rel, sizeof rel, "poll-%s", name);
	if ((fd = inbox_open_file(&r->ib, rel, O_RDONLY, &e)) < 0) {
		if (errno != ENOENT)
			diag_die(diag_exit_for(errno), "%s", e.msg);
		return -1;
	}
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0)
		diag_die(EXIT_IOERR, "%s/%s: %s", r->ib.dir, rel,
		    strerror(errno));
	text[n] = '\0';
	if (!(rec = json_loads(text, 0, NULL)) ||
	    when_parse(record_str(rec, "cursor") ? record_str(rec, "cursor") :
	    "", &t, NULL) < 0) {
		/* Written whole by rename: this is no crash's debris. */
		json_decref(rec);
		diag_die(EXIT_DATAERR, "%s/%s: not a cursor (remove it to poll "
		    "the last day again)", r->ib.dir, rel);
	}
	json_decref(rec);
	return t;
}

/* Replace the cursor of name with t, durably. Returns 0, or -1 (e). */
static int
cursor_write(struct recv *r, const char *name, time_t t, struct errbuf *e)
{
	char rel[64], tmp[72], line[256], at[WHEN_BUFSZ], now[WHEN_BUFSZ];
	int fd, len;

	snprintf(rel, sizeof rel, "poll-%s", name);
	snprintf(tmp, sizeof tmp, "%s.tmp", rel);
	when_format(t, at);
	when_format(when_now(), now);
	len = snprintf(line, sizeof line, "{\"provider\":\"%s\",\"cursor\":"
	    "\"%s\",\"polled_at\":\"%s\"}\n", name, at, now);
	if ((fd = inbox_open_file(&r->ib, tmp, O_WRONLY | O_CREAT | O_TRUNC,
	    e)) < 0)
		return -1;
	if (write(fd, line, (size_t)len) != len || fsync(fd) < 0) {
		errf(e, "%s/%s: %s", r->ib.dir, tmp, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0 || renameat(r->ib.fd, tmp, r->ib.fd, rel) < 0 ||
	    fsync(r->ib.fd) < 0)
		return errf(e, "%s/%s: %s", r->ib.dir, rel, strerror(errno));
	return 0;
}

/*
 * Store one message of a page (in provider.h's words) as its webhook
 * would have been: one that came in as a message, if it came to our
 * number (a's sender, when it is a number: the account's other numbers
 * are other inboxes); one of ours as a status report, if it is ours (a
 * message the inbox knows by its provider id: one sent from elsewhere, or
 * an automatic answer, is not ours to track). Returns 0, or -1 with e
 * filled (errno EINVAL: the message is bad, the rest go on).
 */
static int
store_listed(struct recv *r, const struct provider_account *a,
    const json_t *m, struct errbuf *e)
{
	struct webhook_event ev = { 0 };
	const json_t *err = json_object_get(m, "error");
	const char *dir = record_str(m, "direction");
	char at[WHEN_BUFSZ], code[32];
	json_int_t sent = json_integer_value(json_object_get(m, "sent"));
	json_int_t pc = json_integer_value(json_object_get(err,
	    "provider_code"));
	int known;

	ev.id = record_str(m, "id");
	ev.from = record_str(m, "from");
	ev.to = record_str(m, "to");
	ev.status = record_str(m, "status");
	if (!ev.id || !*ev.id || !dir) {
		errno = EINVAL;
		return errf(e, "a listed message without an id or a direction");
	}
	if (strcmp(dir, "in") != 0) {
		if (!ev.status)
			return 0;
		if ((known = inbox_known_id(&r->ib, conf_now(r)->pv->name, ev.id)) < 0)
			return errf(e, "%s: the ledger: %s", ev.id,
			    strerror(errno));
		if (!known)
			return 0;
		ev.kind = WEBHOOK_STATUS;
		if (pc) {
			snprintf(code, sizeof code, "%lld", (long long)pc);
			ev.error_code = code;
		}
		return store_status(r, &ev, conf_now(r)->pv->name, e);
	}
	ev.kind = WEBHOOK_MESSAGE;
	ev.channel = record_str(m, "channel");
	ev.body = record_str(m, "body") ? record_str(m, "body") : "";
	ev.body_len = json_string_length(json_object_get(m, "body"));
	ev.num_segments = (int)json_integer_value(json_object_get(m,
	    "segments"));
	if (!ev.from || !ev.to) {
		errno = EINVAL;
		return errf(e, "%s: an inbound message without from or to",
		    ev.id);
	}
	if (a->from && strcmp(ev.to, a->from) != 0)
		return 0;
	if (sent <= 0)
		sent = json_integer_value(json_object_get(m, "created"));
	when_format(sent > 0 ? (time_t)sent : when_now(), at);
	return store_message(r, &ev, conf_now(r)->pv->name, at, NULL, e);
}

/*
 * Read the pages of the list that rq asks for, storing each message;
 * *newest gets the newest "sent" met. Returns 0, or an exit code (said).
 */
static int
read_pages(struct recv *r, const struct provider_account *a,
    struct provider_http *rq, time_t *newest)
{
	struct page_io io = { { 0 } };
	struct errbuf e;
	json_t *page, *m;
	CURL *c;
	long http;
	size_t i, pages = 0;
	int ret = 0;

	if (!(c = curl_easy_init()) || !(page = json_array()))
		diag_die(EXIT_IOERR, "poll: %s", strerror(ENOMEM));
	while (rq->url.len > 0) {
		if (++pages > POLL_PAGES_MAX) {
			diag_warn("poll: %s: more than %d pages; stopped",
			    conf_now(r)->pv->name, POLL_PAGES_MAX);
			ret = EXIT_TEMPFAIL;
			break;
		}
		if (get(c, rq, &io, &http, &e) < 0) {
			diag_warn("poll: %s: %s", conf_now(r)->pv->name, e.msg);
			ret = EXIT_TEMPFAIL;
			break;
		}
		json_array_clear(page);
		if (conf_now(r)->pv->read_messages(a, http, io.resp.p, io.resp.len, page,
		    rq, &e) < 0) {
			diag_warn("poll: %s: the list: HTTP %ld: %s",
			    conf_now(r)->pv->name, http, e.msg);
			ret = errno == EACCES ? EXIT_NOPERM : EXIT_TEMPFAIL;
			break;
		}
		json_array_foreach(page, i, m) {
			json_int_t sent = json_integer_value(
			    json_object_get(m, "sent"));

			if (store_listed(r, a, m, &e) < 0) {
				if (errno != EINVAL)
					diag_die(diag_exit_for(errno), "poll: "
					    "%s", e.msg);
				diag_warn("poll: %s", e.msg);
				r->ret = EXIT_PARTIAL;
				continue;
			}
			if (sent > 0 && (time_t)sent > *newest)
				*newest = (time_t)sent;
		}
	}
	json_decref(page);
	buf_free(&io.resp);
	curl_easy_cleanup(c);
	return ret;
}

int
poll_run(struct recv *r, const struct provider_account *a,
    unsigned page_size)
{
	struct provider_http rq = { 0 };
	struct errbuf e;
	char lock[64];
	time_t cursor, newest, since;
	int fd, ret;

	if (!conf_now(r)->pv->poll_request)
		diag_die(EXIT_CONFIG, "--poll: provider '%s' lists no "
		    "messages: its webhooks are the only way in (sms-recv(1), "
		    "Polling)", conf_now(r)->pv->name);
	if (!((a->user && a->pass && *a->pass) || a->bearer))
		diag_die(EXIT_CONFIG, "--poll: no %s credentials (sms-send(1), "
		    "ENVIRONMENT)", conf_now(r)->pv->name);
	snprintf(lock, sizeof lock, "lock/poll-%s", conf_now(r)->pv->name);
	if ((fd = inbox_open_file(&r->ib, lock, O_RDWR | O_CREAT, &e)) < 0)
		diag_die(diag_exit_for(errno), "%s", e.msg);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		diag_warn("poll: %s: another poll is running", conf_now(r)->pv->name);
		close(fd);
		return EXIT_TEMPFAIL;
	}
	newest = cursor = cursor_read(r, conf_now(r)->pv->name);
	since = (cursor < 0 ? when_now() : cursor) - POLL_OVERLAP;
	if (conf_now(r)->pv->poll_request(a, since, page_size, &rq) < 0)
		diag_die(EXIT_IOERR, "poll: %s", strerror(ENOMEM));
	ret = read_pages(r, a, &rq, &newest);
	provider_http_free(&rq);
	/* What the cursor covers is durable before it moves. */
	if (ret == 0 && newest > cursor && (inbox_checkpoint(&r->ib, &e) < 0 ||
	    cursor_write(r, conf_now(r)->pv->name, newest, &e) < 0)) {
		diag_warn("poll: %s; the cursor stays", e.msg);
		ret = EXIT_IOERR;
	}
	close(fd);
	return ret ? ret : r->ret;
}
