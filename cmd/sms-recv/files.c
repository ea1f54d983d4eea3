/*
 * files.c: payloads from files or stdin, sms-recv without --listen.
 *
 * Each line is one webhook body as the provider posts it (form-encoded,
 * or a JSON object with "data", as some providers post), or one NDJSON
 * message record (or an event that carries a message that came in), for
 * imports and replays. A line that is not one is said on stderr with its
 * file and line number, and the rest is read (exit 1 at the end);
 * a line that cannot be stored for want of the disk stops the run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "diag.h"
#include "form.h"
#include "provider.h"
#include "record.h"
#include "when.h"
#include "sms-recv/sms-recv.h"

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

/*
 * The "media" of a message record (sms-record(5)) into ev: each item's
 * "url" and "content_type", borrowed from msg. Returns 0, or -1 with e
 * filled.
 */
static int
record_media(const json_t *msg, struct webhook_event *ev, struct errbuf *e)
{
	const json_t *media = json_object_get(msg, "media"), *it, *ct, *url;
	size_t i;

	if (!media || json_is_null(media))
		return 0;
	if (!json_is_array(media) || json_array_size(media) >
	    PROVIDER_MEDIA_MAX)
		return errf(e, "\"media\" is not an array of at most %d "
		    "items", PROVIDER_MEDIA_MAX);
	json_array_foreach(media, i, it) {
		url = json_object_get(it, "url");
		ct = json_object_get(it, "content_type");
		if (!json_is_string(url) || json_string_length(url) == 0 ||
		    strlen(json_string_value(url)) != json_string_length(url) ||
		    (ct && !json_is_null(ct) && (!json_is_string(ct) ||
		    strlen(json_string_value(ct)) != json_string_length(ct))))
			return errf(e, "\"media\" item %zu: needs a \"url\" "
			    "and a \"content_type\" (or null), strings "
			    "without NUL", i);
		ev->media[i].url = json_string_value(url);
		ev->media[i].content_type = record_str(it, "content_type");
	}
	ev->num_media = (int)json_array_size(media);
	return 0;
}

/* Whether a JSON record is a webhook's body ({"data": {...}}). */
static int
webhook_json(const json_t *rec)
{
	return !json_object_get(rec, "type") &&
	    json_is_object(json_object_get(rec, "data"));
}

/* One line of a file: a webhook body or a message record. */
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
	const char *provider = conf_now(r)->pv->name, *at = NULL, *pv;
	char now[WHEN_BUFSZ];
	int rc;

	if (len > 0 && line[0] == '{' && (rec = record_parse(line, len, &e)) &&
	    webhook_json(rec)) {
		rq.body = line;
		rq.body_len = len;
		rq.content_type = "application/json";
		if (conf_now(r)->pv->parse(&rq, &ev, &e) < 0)
			goto bad;
	} else if (len > 0 && line[0] == '{') {
		if (!rec || !(msg = inbound(rec, &e)))
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
		if (record_media(msg, &ev, &e) < 0)
			goto bad;
	} else {
		rq.body = line;
		rq.body_len = len;
		if (form_parse(&form, line, len, &e) < 0)
			goto bad;
		rq.form = &form;
		if (conf_now(r)->pv->parse(&rq, &ev, &e) < 0)
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
	provider_event_free(&ev);
	json_decref(rec);
	form_free(&form);
	return;
bad:
	diag_warn("%s: %s", where, e.msg);
	if (!r->ret)
		r->ret = EXIT_PARTIAL;
	provider_event_free(&ev);
	json_decref(rec);
	form_free(&form);
}

/*
 * Read and store every line of fp (name: its name in messages): exits on a
 * line that cannot be stored for want of the disk, else r->ret says what
 * went wrong.
 */
void
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
