/*
 * store.c: the messages, kept in memory, and the list of them.
 *
 * Messages are kept in the order created, oldest first, and stay in the
 * store until the sim ends: a DELETE only marks one deleted, so the
 * pointer a job holds stays good. A SID is looked up newest first. The
 * list (GET .../Messages.json) pages newest first as Twilio does, by
 * PageToken: PA and the SID of a page's last message for the next page,
 * PB and the SID of its first for the page before.
 *
 * The random generator is here too, under the same lock (s->lock): seeded
 * by --seed, it draws the SIDs and the faults, so a seeded run repeats.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "form.h"
#include "when.h"

#include "sms-sim/sim.h"

/* A number from splitmix64; s->lock held. */
static uint64_t
rnd_locked(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int
sim_roll(struct sim *s, double percent)
{
	uint64_t r;

	if (percent <= 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	r = rnd_locked(s);
	pthread_mutex_unlock(&s->lock);
	return (double)(r >> 11) / 9007199254740992.0 * 100 < percent;
}

void
sim_new_sid(struct sim *s, const char *prefix, char out[35])
{
	snprintf(out, 35, "%.2s%016llx%016llx", prefix,
	    (unsigned long long)rnd_locked(s),
	    (unsigned long long)rnd_locked(s));
}

int
sim_sid_ok(const char *sid, const char *prefix)
{
	if (strlen(sid) != 34 || strncmp(sid, prefix, 2) != 0)
		return 0;
	return strspn(sid + 2, "0123456789abcdefABCDEF") == 32;
}

int
sim_store_locked(struct sim *s, struct msg *m)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct msg **v = realloc(s->msgs, cap * sizeof *v);

		if (!v)
			return -1;
		s->msgs = v;
		s->cap = cap;
	}
	s->msgs[s->n++] = m;
	return 0;
}

long
sim_find_locked(const struct sim *s, const char *sid)
{
	for (size_t i = s->n; i-- > 0;)
		if (strcmp(s->msgs[i]->sid, sid) == 0)
			return (long)i;
	return -1;
}

void
sim_msg_free(struct msg *m)
{
	if (!m)
		return;
	free(m->from);
	free(m->to);
	free(m->body);
	free(m->callback);
	free(m->media_base);
	free(m);
}

struct msg *
sim_msg_new(const struct sim *s, const char *from, const char *to,
    const char *body, size_t len)
{
	struct msg *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->from = strdup(from);
	m->to = strdup(to);
	m->body = malloc(len + 1);
	if (!m->from || !m->to || !m->body) {
		sim_msg_free(m);
		return NULL;
	}
	memcpy(m->body, body, len);
	m->body[len] = '\0';
	m->body_len = len;
	m->created = m->updated = sim_now(s);
	return m;
}

/* The filters and the page of a list request. */
struct listing {
	const char *to, *from;
	const char *date[3];	/* DateSent, DateSent<, DateSent> */
	time_t lo[3], hi[3];
	unsigned long size, page;
};

/* Whether number, an address of m, is the filter's address a: on
 * WhatsApp that is whatsapp:+E164, as Twilio's list filters it. */
static int
address_is(const struct msg *m, const char *number, const char *a)
{
	const size_t n = sizeof WHATSAPP - 1;

	if (m->whatsapp != (strncmp(a, WHATSAPP, n) == 0))
		return 0;
	return strcmp(number, a + (m->whatsapp ? n : 0)) == 0;
}

static int
listed(const struct listing *l, const struct msg *m)
{
	time_t t = m->sent ? m->sent : m->created;

	if (m->deleted || (l->to && !address_is(m, m->to, l->to)) ||
	    (l->from && !address_is(m, m->from, l->from)))
		return 0;
	if (l->date[0] && (t < l->lo[0] || t >= l->hi[0]))
		return 0;
	if (l->date[1] && t >= l->hi[1])
		return 0;
	if (l->date[2] && t < l->lo[2])
		return 0;
	return 1;
}

/* Append the URI of a page of l: filters, PageSize, Page, PageToken. */
static void
page_uri(const struct sim *s, const struct listing *l, unsigned long page,
    const char *token, const char *sid, struct buf *b)
{
	static const char *const names[] = { "DateSent", "DateSent%3C",
		"DateSent%3E" };

	buf_addlit(b, "\"" API);
	buf_adds(b, s->account);
	buf_addlit(b, "/Messages.json?");
	if (l->to) {
		buf_addlit(b, "To=");
		form_add(b, l->to, strlen(l->to));
		buf_addc(b, '&');
	}
	if (l->from) {
		buf_addlit(b, "From=");
		form_add(b, l->from, strlen(l->from));
		buf_addc(b, '&');
	}
	for (int i = 0; i < 3; i++)
		if (l->date[i]) {
			buf_adds(b, names[i]);
			buf_addc(b, '=');
			form_add(b, l->date[i], strlen(l->date[i]));
			buf_addc(b, '&');
		}
	buf_addlit(b, "PageSize=");
	buf_addu(b, l->size);
	buf_addlit(b, "&Page=");
	buf_addu(b, page);
	if (token) {
		buf_addlit(b, "&PageToken=");
		buf_adds(b, token);
		buf_adds(b, sid);
	}
	buf_addc(b, '"');
}

int
sim_list(struct sim *s, const char *query, struct answer *a)
{
	static const char *const dnames[] = { "DateSent", "DateSent<",
		"DateSent>" };
	struct listing l = { .size = 50 };
	struct form q;
	struct errbuf e;
	struct msg **page = NULL;
	const char *v, *token;
	size_t n = 0, i;
	long at = -1;
	int back = 0, more = 0;

	if (form_parse(&q, query, strlen(query), &e) < 0)
		return sim_error(a, 400, 20001, "Invalid query: %s", e.msg);
	l.to = form_get(&q, "To");
	l.from = form_get(&q, "From");
	for (i = 0; i < 3; i++) {
		struct errbuf de;

		if (!(l.date[i] = form_get(&q, dnames[i])))
			continue;
		if (when_parse(l.date[i], &l.lo[i], &de) < 0) {
			sim_error(a, 400, 20001, "Invalid %s: %s",
			    dnames[i], de.msg);
			goto out;
		}
		l.hi[i] = l.lo[i] + (strlen(l.date[i]) == 10 ? 86400 : 1);
	}
	if ((v = form_get(&q, "PageSize")) && sim_number(v, 1, 1000, &l.size)) {
		sim_error(a, 400, 20001, "Invalid PageSize: %s is not an "
		    "integer from 1 to 1000", v);
		goto out;
	}
	if ((v = form_get(&q, "Page")) &&
	    sim_number(v, 0, 999999999, &l.page)) {
		sim_error(a, 400, 20001, "Invalid Page: %s", v);
		goto out;
	}
	if (!(page = malloc(l.size * sizeof *page))) {
		sim_error(a, 503, 20503, "Service unavailable: %s",
		    strerror(ENOMEM));
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	token = form_get(&q, "PageToken");
	if (token && *token) {
		back = strncmp(token, "PB", 2) == 0;
		if ((back || strncmp(token, "PA", 2) == 0) &&
		    (sim_sid_ok(token + 2, "SM") ||
		    sim_sid_ok(token + 2, "MM")))
			at = sim_find_locked(s, token + 2);
		if (at < 0) {
			pthread_mutex_unlock(&s->lock);
			sim_error(a, 400, 20001, "Invalid PageToken: %s",
			    token);
			goto out;
		}
	}
	if (back) {
		for (i = (size_t)at + 1; i < s->n && n < l.size; i++)
			if (listed(&l, s->msgs[i]))
				page[n++] = s->msgs[i];
		for (i = 0; i < n / 2; i++) {
			struct msg *t = page[i];

			page[i] = page[n - 1 - i];
			page[n - 1 - i] = t;
		}
		more = 1;
	} else {
		i = at < 0 ? s->n : (size_t)at;
		while (i-- > 0)
			if (listed(&l, s->msgs[i])) {
				if (n == l.size) {
					more = 1;
					break;
				}
				page[n++] = s->msgs[i];
			}
	}
	if (n == 0)
		more = 0;
	buf_addlit(&a->body, "{\"end\":");
	buf_addu(&a->body, l.page * l.size + (n ? n - 1 : 0));
	sim_jkey(&a->body, "first_page_uri");
	page_uri(s, &l, 0, NULL, NULL, &a->body);
	sim_jkey(&a->body, "next_page_uri");
	if (more)
		page_uri(s, &l, l.page + 1, "PA", page[n - 1]->sid, &a->body);
	else
		buf_addlit(&a->body, "null");
	sim_jkey(&a->body, "page");
	buf_addu(&a->body, l.page);
	sim_jkey(&a->body, "page_size");
	buf_addu(&a->body, l.size);
	sim_jkey(&a->body, "previous_page_uri");
	if (l.page > 0 && n > 0)
		page_uri(s, &l, l.page - 1, "PB", page[0]->sid, &a->body);
	else
		buf_addlit(&a->body, "null");
	sim_jkey(&a->body, "messages");
	buf_addc(&a->body, '[');
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(&a->body, ',');
		sim_msg_json(s, page[i], &a->body);
	}
	buf_addc(&a->body, ']');
	pthread_mutex_unlock(&s->lock);
	sim_jkey(&a->body, "start");
	buf_addu(&a->body, l.page * l.size);
	sim_jkey(&a->body, "uri");
	page_uri(s, &l, l.page, token && *token ? (back ? "PB" : "PA") : NULL,
	    token && *token ? token + 2 : NULL, &a->body);
	buf_addc(&a->body, '}');
	a->http = 200;
	snprintf(a->what, sizeof a->what, "listed %zu%s", n,
	    more ? ", more" : "");
out:
	free(page);
	form_free(&q);
	return (int)a->http;
}
