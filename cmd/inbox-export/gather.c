/*
 * gather.c: everything the inbox holds about one thread, as records
 * (inbox-export(1), EXPORT RECORDS). Each store of the inbox is read
 * through the library as its readers read it: the contact, the
 * conversation's record, the consent ledger of the number, the thread's
 * messages and notes (duplicates folded), the bytes of their media, and
 * the history's events of the thread, from which the survey answers are
 * taken too (the last "answered" of each survey is its answer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "contact.h"
#include "inbox.h"
#include "record.h"
#include "thread.h"
#include "when.h"
#include "inbox-export/gather.h"

static int
emit(struct gather *g, const json_t *rec, struct errbuf *e)
{
	if (g->emit(g->arg, rec, e) < 0)
		return -1;
	g->records++;
	return 0;
}

/* emit() of rec with "type" set first, then rec dropped. */
static int
emit_typed(struct gather *g, const char *type, json_t *rec, struct errbuf *e)
{
	json_t *out = json_pack("{s:s}", "type", type);
	const char *k;
	json_t *v;
	int rc;

	if (!out || !rec) {
		json_decref(out);
		json_decref(rec);
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	}
	json_object_foreach(rec, k, v)
		if (strcmp(k, "type") != 0)
			json_object_set(out, k, v);
	json_decref(rec);
	rc = emit(g, out, e);
	json_decref(out);
	return rc;
}

/* SHA-256 in hex and size of what fd holds, read from its start. */
static int
digest(int fd, char hex[65], off_t *size)
{
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	ssize_t n;

	*size = 0;
	crypto_hash_sha256_init(&st);
	while ((n = pread(fd, buf, sizeof buf, *size)) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		*size += n;
	}
	if (n < 0)
		return -1;
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, 65, h, sizeof h);
	return 0;
}

/* The "media" record of item i of message msg (which has a file). */
static int
media_one(struct gather *g, const json_t *msg, size_t i, const json_t *it,
    struct errbuf *e)
{
	const char *file = record_str(it, "file"), *base;
	char hex[65];
	char *copy = NULL;
	struct errbuf fe;
	json_t *rec;
	off_t size;
	int fd, rc;

	if (!file)
		return 0;
	base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	rec = json_pack("{s:s,s:s?,s:I,s:O?,s:O?}", "thread", g->thread,
	    "msg", record_str(msg, "id"), "index", (json_int_t)i,
	    "content_type", json_object_get(it, "content_type"), "kind",
	    json_object_get(it, "type"));
	if (!rec)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	if ((fd = inbox_open_file(g->ib, file, O_RDONLY, &fe)) < 0 ||
	    digest(fd, hex, &size) < 0) {
		/* Said in the record and on the way out, not fatal. */
		json_object_set_new(rec, "file", json_string(file));
		json_object_set_new(rec, "error", json_string(fd < 0 ?
		    fe.msg : strerror(errno)));
		g->missing++;
		if (fd >= 0)
			close(fd);
		return emit_typed(g, "media", rec, e);
	}
	if (g->media && !(copy = g->media(g->arg, base, fd, size, e))) {
		close(fd);
		json_decref(rec);
		return -1;
	}
	close(fd);
	json_object_set_new(rec, "file", json_string(copy ? copy : file));
	json_object_set_new(rec, "sha256", json_string(hex));
	json_object_set_new(rec, "size", json_integer((json_int_t)size));
	free(copy);
	rc = emit_typed(g, "media", rec, e);
	return rc;
}

static int
messages(struct gather *g, struct errbuf *e)
{
	json_t *all, *m, *media, *it;
	size_t i, k;
	int rc = 0;

	if (!(all = inbox_thread(g->ib, g->thread, e)))
		return errno == ENOENT ? 1 : -1;
	json_array_foreach(all, i, m) {
		if ((rc = emit(g, m, e)) < 0)
			break;
		if (!json_is_array(media = json_object_get(m, "media")))
			continue;
		json_array_foreach(media, k, it)
			if ((rc = media_one(g, m, k, it, e)) < 0)
				break;
		if (rc < 0)
			break;
	}
	json_decref(all);
	return rc;
}

/* The history's lines of the thread, and the surveys they answer. */
struct hist {
	struct gather *g;
	struct errbuf *e;
	size_t tlen;
	json_t *answers;	/* survey id: its last "answered" */
	json_t *order;		/* survey ids, first answered first */
	int failed;
};

static int
hist_line(const char *line, size_t len, void *arg)
{
	struct hist *h = arg;
	const char *t, *ev, *sv;
	json_t *rec;

	if (!memmem(line, len, h->g->thread, h->tlen) ||
	    !(rec = json_loadb(line, len, 0, NULL)))
		return 0;
	if (!(t = record_str(rec, "thread")) || strcmp(t, h->g->thread) != 0 ||
	    !(ev = record_str(rec, "event"))) {
		json_decref(rec);
		return 0;
	}
	if (strcmp(ev, "answered") == 0 && (sv = record_str(rec, "survey"))) {
		if (!json_object_get(h->answers, sv))
			json_array_append_new(h->order, json_string(sv));
		json_object_set(h->answers, sv, rec);
	}
	if (emit_typed(h->g, "history", rec, h->e) < 0)
		return h->failed = 1, 1;
	return 0;
}

static int
history(struct gather *g, struct errbuf *e)
{
	struct hist h = { .g = g, .e = e, .tlen = strlen(g->thread),
	    .answers = json_object(), .order = json_array() };
	json_t *sv, *a;
	size_t i;
	int rc = 0;

	if (!h.answers || !h.order)
		rc = errno = ENOMEM, errf(e, "%s", strerror(ENOMEM));
	else if (inbox_history_each(g->ib, NULL, NULL, hist_line, &h, e) < 0)
		rc = -1;
	else if (h.failed)
		rc = -1;
	json_array_foreach(h.order, i, sv) {
		if (rc < 0)
			break;
		a = json_object_get(h.answers, json_string_value(sv));
		rc = emit_typed(g, "survey_answer", json_pack(
		    "{s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "thread",
		    g->thread, "survey", json_object_get(a, "survey"), "scale",
		    json_object_get(a, "scale"), "score", json_object_get(a,
		    "score"), "comment", json_object_get(a, "comment"), "at",
		    json_object_get(a, "at"), "agent", json_object_get(a,
		    "agent"), "msg", json_object_get(a, "msg")), e);
	}
	json_decref(h.answers);
	json_decref(h.order);
	return rc;
}

int
gather(struct gather *g, struct errbuf *e)
{
	char now[WHEN_BUFSZ];
	json_t *rec, *all, *c;
	size_t i;
	int held = 0, rc;

	when_format(when_now(), now);
	if (emit_typed(g, "export", json_pack("{s:s,s:s}", "thread",
	    g->thread, "at", now), e) < 0)
		return -1;
	if (thread_is_number(g->thread)) {
		if ((rec = contact_get(g->ib, g->thread, e))) {
			held = 1;
			rc = emit(g, rec, e);
			json_decref(rec);
			if (rc < 0)
				return -1;
		} else if (errno != ENOENT) {
			return -1;
		}
	}
	if ((rec = inbox_conversation(g->ib, g->thread, e))) {
		held = 1;
		rc = emit(g, rec, e);
		json_decref(rec);
		if (rc < 0)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	if (thread_is_number(g->thread)) {
		if (!(all = inbox_consent_list(g->ib, g->thread, 0, e)))
			return -1;
		json_array_foreach(all, i, c) {
			held = 1;
			if (emit(g, c, e) < 0) {
				json_decref(all);
				return -1;
			}
		}
		json_decref(all);
	}
	if ((rc = messages(g, e)) < 0)
		return -1;
	if (rc == 0)
		held = 1;
	i = g->records;
	if (!g->no_history && history(g, e) < 0)
		return -1;
	if (g->records > i)
		held = 1;
	return held ? 0 : 1;
}
