/*
 * log.c: the request log.
 *
 * Every request makes a line on stderr and, with --log, an NDJSON record:
 * its method, path, query and parameters, whether it authenticated, and
 * the answer's status, Twilio error code and SID, and for a create with
 * MediaUrl what became of each fetch. The credentials are in neither.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "diag.h"
#include "form.h"
#include "httpd.h"
#include "record.h"
#include "when.h"

#include "sms-sim/sim.h"

/* A JSON string of s, or of a stand-in if s is not UTF-8. */
static json_t *
jtext(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);

	return j ? j : json_string("(not UTF-8)");
}

/* The form as an object: a name given more than once maps to an array.
 * A secret in it (Vonage's api_secret) is "(hidden)". */
static json_t *
params_json(const struct form *f)
{
	json_t *o = json_object(), *old, *v, *arr;

	for (size_t i = 0; o && i < f->n; i++) {
		v = strcmp(f->pairs[i].name, "api_secret") == 0 ?
		    json_string("(hidden)") : jtext(f->pairs[i].value,
		    f->pairs[i].value_len);
		old = json_object_get(o, f->pairs[i].name);
		if (!old) {
			json_object_set_new(o, f->pairs[i].name, v);
		} else if (json_is_array(old)) {
			json_array_append_new(old, v);
		} else if ((arr = json_array())) {
			json_array_append(arr, old);
			json_array_append_new(arr, v);
			json_object_set_new(o, f->pairs[i].name, arr);
		} else {
			json_decref(v);
		}
	}
	return o;
}

void
sim_log_record(struct sim *s, const char *method, const char *path,
    const char *query, const struct form *f, const struct answer *a)
{
	char at[WHEN_BUFSZ];
	json_t *rec;

	if (!s->log)
		return;
	when_format(sim_now(s), at);
	rec = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "type", "request",
	    "at", at, "method", method, "path", jtext(path, strlen(path)),
	    "query", jtext(query, strlen(query)),
	    "params", f ? params_json(f) : json_null(),
	    "auth", a->auth < 0 ? json_null() : json_boolean(a->auth),
	    "status", a->http ? json_integer(a->http) : json_null());
	if (!rec)
		return;
	if (a->code)
		json_object_set_new(rec, "code", json_integer(a->code));
	if (a->sid[0])
		json_object_set_new(rec, "sid", json_string(a->sid));
	if (!a->http)
		json_object_set_new(rec, "dropped", json_true());
	if (a->media)
		json_object_set(rec, "media", a->media);
	if (a->authorization >= 0)
		json_object_set_new(rec, "authorization",
		    json_boolean(a->authorization));
	pthread_mutex_lock(&s->log_lock);
	if (record_write(s->log, rec) < 0 || fflush(s->log) == EOF) {
		if (!s->log_failed)
			diag_warn("--log: %s", strerror(errno));
		s->log_failed = 1;
		clearerr(s->log);
	}
	pthread_mutex_unlock(&s->log_lock);
	json_decref(rec);
}

void
sim_log_request(struct MHD_Connection *conn, const struct httpd_request *q,
    const char *method, unsigned code, const char *what)
{
	char line[512];

	httpd_log_line(conn, q, 1, method, code, what, line, sizeof line);
	fprintf(stderr, "%s: %s\n", diag_prog(), line);
}
