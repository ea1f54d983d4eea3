/*
 * report-map.c: the tables csat-survey report keeps (report.h): strings
 * to small numbers (smap: threads, agents, surveys), 64-bit keys to
 * numbers (umap: episodes, the threads seen in a group), and durations
 * for percentiles (report_vec). Open addressing with linear probing, at
 * most half full, growing by doubling; nothing is ever removed. Running
 * out of memory ends the program (exit 74), as everywhere in report.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "csat-survey/report.h"

static void
nomem(void)
{
	diag_die(EXIT_IOERR, "report: %s", strerror(ENOMEM));
}

static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
smap_grow(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	uint32_t *slot = calloc(cap, sizeof *slot);
	void *ent = realloc(m->ent, cap / 2 * sizeof *m->ent);

	if (!slot || !ent)
		nomem();
	m->ent = ent;
	for (i = 0; i < m->n; i++) {
		for (j = m->ent[i].hash & (cap - 1); slot[j];
		    j = (j + 1) & (cap - 1))
			;
		slot[j] = (uint32_t)i + 1;
	}
	free(m->slot);
	m->slot = slot;
	m->cap = cap;
}

/* The number of k in m, made if add; -1 if absent. */
long
smap_get(struct smap *m, const char *k, size_t n, int add)
{
	uint32_t h = fnv(k, n);
	size_t j = 0;

	if (m->cap) {
		for (j = h & (m->cap - 1); m->slot[j];
		    j = (j + 1) & (m->cap - 1)) {
			size_t i = m->slot[j] - 1;

			if (m->ent[i].hash == h && m->ent[i].len == n &&
			    memcmp(m->keys.p + m->ent[i].off, k, n) == 0)
				return (long)i;
		}
	}
	if (!add)
		return -1;
	if ((m->n + 1) * 2 > m->cap) {
		smap_grow(m);
		for (j = h & (m->cap - 1); m->slot[j];
		    j = (j + 1) & (m->cap - 1))
			;
	}
	m->ent[m->n].off = (uint32_t)m->keys.len;
	m->ent[m->n].len = (uint32_t)n;
	m->ent[m->n].hash = h;
	if (buf_add(&m->keys, k, n) < 0 || buf_addc(&m->keys, '\0') < 0)
		nomem();
	m->slot[j] = (uint32_t)m->n + 1;
	return (long)m->n++;
}

void
smap_free(struct smap *m)
{
	free(m->ent);
	free(m->slot);
	buf_free(&m->keys);
}

static size_t
umix(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static void
umap_grow(struct umap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	uint64_t *key = calloc(cap, sizeof *key);
	uint32_t *val = malloc(cap * sizeof *val);

	if (!key || !val)
		nomem();
	for (i = 0; i < m->cap; i++) {
		if (!m->key[i])
			continue;
		for (j = umix(m->key[i], cap); key[j]; j = (j + 1) & (cap - 1))
			;
		key[j] = m->key[i];
		val[j] = m->val[i];
	}
	free(m->key);
	free(m->val);
	m->key = key;
	m->val = val;
	m->cap = cap;
}

/*
 * The value of k (not 0) in m, or -1; with add, an absent k gets the value
 * v and -1 is returned.
 */
long
umap_get(struct umap *m, uint64_t k, int add, uint32_t v)
{
	size_t j;

	if (m->cap)
		for (j = umix(k, m->cap); m->key[j]; j = (j + 1) & (m->cap - 1))
			if (m->key[j] == k)
				return m->val[j];
	if (!add)
		return -1;
	if ((m->n + 1) * 2 > m->cap)
		umap_grow(m);
	for (j = umix(k, m->cap); m->key[j]; j = (j + 1) & (m->cap - 1))
		;
	m->key[j] = k;
	m->val[j] = v;
	m->n++;
	return -1;
}

void
umap_free(struct umap *m)
{
	free(m->key);
	free(m->val);
}

void
vec_push(struct report_vec *v, long x)
{
	int32_t *nv;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		if (!(nv = realloc(v->v, v->cap * sizeof *nv)))
			nomem();
		v->v = nv;
	}
	v->v[v->n++] = x > INT32_MAX ? INT32_MAX : x < 0 ? 0 : (int32_t)x;
}

static int
cmp32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

long
report_percentile(const struct report_vec *v, int pct)
{
	size_t rank;

	if (!v->n)
		return -1;
	/* the smallest value with pct % of them at or below it */
	rank = ((size_t)pct * v->n + 99) / 100;
	return v->v[rank ? rank - 1 : 0];
}

void
vec_sort(struct report_vec *v)
{
	if (v->n)
		qsort(v->v, v->n, sizeof *v->v, cmp32);
}
