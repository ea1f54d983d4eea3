/*
 * gsm.c: encoding, segment count and part boundaries of a text.
 *
 * The text is decoded once into code points (text[]), each remembering
 * where it came from in the input (for positions in reports), with Smart
 * Encoding applied on the way in when asked. Every candidate encoding is
 * then a cost per code point (septets or UTF-16 units) plus the places
 * where a part may end, and one greedy cutter serves them all: GSM-7 may
 * end a part before any code point (a code point never straddles, so an
 * escape pair never splits); UCS-2 only at extended grapheme cluster
 * boundaries, except inside a cluster longer than a part, where every code
 * point boundary is allowed (a surrogate pair is one code point, so it
 * never splits either). Greedy filling gives the fewest parts (TS 23.040
 * fixes only the part sizes; see segmentation.md section 7).
 *
 * Lookups are one byte per BMP code point and table (64 KiB each), built
 * from gsm-tables.c when a context first needs that table, once for the
 * process: every context shares them (read only once built), so that the
 * threads of a program with a context each (sms-send's preparers) do not
 * each hold the same 128 KiB.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <strings.h>
#include <unistd.h>

#include <utf8proc.h>

#include "gsm.h"
#include "gsm-tables.h"
#include "utf8.h"

#define PDU_OCTETS 140
#define CONCAT_UDH 6		/* UDHL + IEI 0x00 + length + 3 octets */
#define SHIFT_IE 3		/* IEI 0x24 or 0x25, length, NLI */
#define BMP 0x10000

struct gsm_ctx {
	size_t cap;		/* of the per-code-point arrays */
	uint32_t *text;
	size_t *src_index, *src_byte;
	uint8_t *cost;		/* of the chosen encoding */
	uint8_t *alt;		/* scratch costs for national candidates */
	uint8_t *brk;		/* 1 if a part may end before text[i] */
	size_t *next;		/* words split: greedy end of a part from i */
	size_t *rest;		/* words split: parts needed from i to end */
	struct gsm_part *parts;
	size_t parts_cap;
	struct gsm_nongsm *nongsm;
	size_t nongsm_cap;
	struct gsm_change *changes;
	size_t changes_cap;
	char *out;
	size_t out_cap;
	const uint8_t *locking[GSM_LANG_COUNT];	/* cp -> 1 if in table: */
	const uint8_t *single[GSM_LANG_COUNT];	/* the shared maps */
	size_t n;		/* code points in text */
	int split_ready;	/* next/rest valid for the last result */
};

/* Grow *p to hold at least need elements of size sz. */
static int
grow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (!(np = realloc(*p, ncap * sz)))
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* realloc *pp to n elements of size sz; -1 leaves it as it was. */
static int
resize(void *pp, size_t n, size_t sz)
{
	void **p = pp, *np = realloc(*p, n * sz);

	if (!np)
		return -1;
	*p = np;
	return 0;
}

static int
grow_text(struct gsm_ctx *c, size_t need)
{
	size_t cap;

	if (need <= c->cap)
		return 0;
	cap = c->cap ? c->cap : 256;
	while (cap < need)
		cap *= 2;
	if (resize(&c->text, cap, sizeof *c->text) < 0 ||
	    resize(&c->src_index, cap, sizeof *c->src_index) < 0 ||
	    resize(&c->src_byte, cap, sizeof *c->src_byte) < 0 ||
	    resize(&c->cost, cap, 1) < 0 || resize(&c->alt, cap, 1) < 0 ||
	    resize(&c->brk, cap, 1) < 0 ||
	    resize(&c->next, cap, sizeof *c->next) < 0 ||
	    resize(&c->rest, cap, sizeof *c->rest) < 0)
		return -1;
	c->cap = cap;
	return 0;
}

/* The process's maps, built once each (map()), never freed. */
static _Atomic(const uint8_t *) maps[2][GSM_LANG_COUNT];
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The shared map of table t (which: 0 locking, 1 single shift) of
 * language nli, built on first use; NULL on ENOMEM. Mapped, not
 * calloc'd: only the pages holding the table's code points are written
 * (a few of the 16), the rest read as the kernel's zero page and cost no
 * memory, where calloc() zeroed all 64 KiB of each map in the heap.
 */
static const uint8_t *
map(int which, int nli, const uint16_t *t)
{
	const uint8_t *m = atomic_load_explicit(&maps[which][nli],
	    memory_order_acquire);
	uint8_t *n;

	if (m)
		return m;
	pthread_mutex_lock(&maps_lock);
	if (!(m = atomic_load_explicit(&maps[which][nli],
	    memory_order_relaxed)) && (n = mmap(NULL, BMP, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED) {
		for (int i = 0; i < 128; i++)
			if (t[i])
				n[t[i]] = 1;
		atomic_store_explicit(&maps[which][nli], n,
		    memory_order_release);
		m = n;
	}
	pthread_mutex_unlock(&maps_lock);
	return m;
}

/* Make sure c has the maps of table nli; -1 on ENOMEM. */
static int
need_table(struct gsm_ctx *c, int nli)
{
	const struct gsm_table *t = &gsm_tables[nli];

	if (t->has_locking && !c->locking[nli] &&
	    !(c->locking[nli] = map(0, nli, t->locking)))
		return -1;
	if (t->has_single && !c->single[nli] &&
	    !(c->single[nli] = map(1, nli, t->single)))
		return -1;
	return 0;
}

struct gsm_ctx *
gsm_ctx_new(void)
{
	struct gsm_ctx *c = calloc(1, sizeof *c);

	if (c && need_table(c, GSM_LANG_DEFAULT) < 0) {
		gsm_ctx_free(c);
		return NULL;
	}
	return c;
}

void
gsm_ctx_free(struct gsm_ctx *c)
{
	if (!c)
		return;
	free(c->text);
	free(c->src_index);
	free(c->src_byte);
	free(c->cost);
	free(c->alt);
	free(c->brk);
	free(c->next);
	free(c->rest);
	free(c->parts);
	free(c->nongsm);
	free(c->changes);
	free(c->out);
	free(c);
}

static int
smart_cmp(const void *key, const void *ent)
{
	uint32_t a = *(const uint32_t *)key;
	uint32_t b = ((const struct gsm_smart *)ent)->cp;

	return a < b ? -1 : a > b;
}

static const struct gsm_smart *
smart_find(uint32_t cp)
{
	/* Everything in the table is a control, U+0060 or above U+007F. */
	if (cp >= 0x20 && cp < 0x80 && cp != 0x60)
		return NULL;
	return bsearch(&cp, gsm_smart_map, gsm_smart_count,
	    sizeof gsm_smart_map[0], smart_cmp);
}

/* Decode s into c->text, substituting when smart. */
static int
decode(struct gsm_ctx *c, const char *s, size_t len, int smart,
    struct gsm_result *res, struct errbuf *e)
{
	size_t i = 0, index = 0, at, k, n = 0;
	const struct gsm_smart *sm;
	uint32_t cp;

	res->n_changes = 0;
	if (grow_text(c, len + 1) < 0)
		return -1;
	while (i < len) {
		at = i;
		if ((unsigned char)s[i] < 0x80)
			cp = (unsigned char)s[i++];
		else if (utf8_next(s, len, &i, &cp) < 0) {
			errno = EILSEQ;
			return errf(e, "invalid UTF-8 at byte %zu", at);
		}
		if (!smart || !(sm = smart_find(cp))) {
			/* Room for len + 1 was made, but a substitution may
			 * have given more code points than it took bytes (a
			 * tab is spaces). */
			if (n == c->cap && grow_text(c, n + 1) < 0)
				return -1;
			c->text[n] = cp;
			c->src_index[n] = index++;
			c->src_byte[n++] = at;
			continue;
		}
		if (grow(&c->changes, &c->changes_cap, res->n_changes + 1,
		    sizeof *c->changes) < 0)
			return -1;
		c->changes[res->n_changes++] = (struct gsm_change){
			.from = cp, .to = sm->to, .index = index, .byte = at };
		for (k = 0; sm->to[k]; k++) {
			if (n == c->cap && grow_text(c, n + 1) < 0)
				return -1;
			c->text[n] = (unsigned char)sm->to[k];
			c->src_index[n] = index;
			c->src_byte[n++] = at;
		}
		index++;
	}
	c->n = n;
	res->changes = c->changes;
	return 0;
}

/*
 * Fill cost[] for the table pair (lock, shift) and return the septets in
 * all, or -1 if some code point is in neither table.
 */
static long
gsm7_costs(const struct gsm_ctx *c, int lock, int shift, uint8_t *cost)
{
	const uint8_t *lk = c->locking[lock], *ss = c->single[shift];
	long total = 0;

	for (size_t i = 0; i < c->n; i++) {
		uint32_t cp = c->text[i];

		if (cp < BMP && lk[cp])
			cost[i] = 1;
		else if (cp < BMP && ss[cp])
			cost[i] = 2;
		else
			return -1;
		total += cost[i];
	}
	return total;
}

/*
 * Cut text into parts of at most `cap` units (after the one-part check),
 * ending parts only where brk allows (brk NULL: anywhere). With store,
 * the parts go to c->parts. Returns the number of parts, 0 on ENOMEM.
 */
static size_t
cut(struct gsm_ctx *c, const uint8_t *cost, const uint8_t *brk,
    size_t cap, int store)
{
	size_t n = 0, start = 0, used = 0, i = 0, j, w;

	while (i < c->n) {
		for (w = cost[i], j = i + 1; j < c->n && brk && !brk[j]; j++)
			w += cost[j];
		if (used + w > cap && used > 0) {
			if (store && (grow(&c->parts, &c->parts_cap, n + 2,
			    sizeof *c->parts) < 0))
				return 0;
			if (store)
				c->parts[n] = (struct gsm_part){ start, i, used };
			n++;
			start = i;
			used = 0;
		}
		used += w;
		i = j;
	}
	if (store && grow(&c->parts, &c->parts_cap, n + 1,
	    sizeof *c->parts) < 0)
		return 0;
	if (store)
		c->parts[n] = (struct gsm_part){ start, c->n, used };
	return n + 1;
}

static size_t
gsm7_capacity(size_t udh)
{
	return (PDU_OCTETS - udh) * 8 / 7;
}

struct candidate {
	enum gsm_encoding enc;
	int lock, shift;
	long units;
	size_t parts;
	int ies;
	size_t cap1, capn;	/* one part; each of several */
	size_t udh1, udhn;
};

/* The capacities and headers of k's parts. */
static void
candidate_caps(struct candidate *k)
{
	if (k->enc == GSM_UCS2) {
		k->udh1 = 0;
		k->udhn = CONCAT_UDH;
		k->cap1 = PDU_OCTETS / 2;
		k->capn = (PDU_OCTETS - CONCAT_UDH) / 2;
	} else {
		k->udh1 = k->ies ? 1 + SHIFT_IE * (size_t)k->ies : 0;
		k->udhn = CONCAT_UDH + SHIFT_IE * (size_t)k->ies;
		k->cap1 = gsm7_capacity(k->udh1);
		k->capn = gsm7_capacity(k->udhn);
	}
}

/* Size k up; with store, leave its parts in c->parts. 0 or -1 (ENOMEM). */
static int
candidate_size(struct gsm_ctx *c, struct candidate *k, const uint8_t *cost,
    const uint8_t *brk, int store)
{
	candidate_caps(k);
	if ((size_t)k->units > k->cap1)
		k->parts = cut(c, cost, brk, k->capn, store);
	else if (store && grow(&c->parts, &c->parts_cap, 1,
	    sizeof *c->parts) == 0)
		k->parts = 1, c->parts[0] = (struct gsm_part){ 0, c->n,
		    (size_t)k->units };
	else
		k->parts = store ? 0 : 1;
	return k->parts ? 0 : -1;
}

/*
 * Fewest parts, then fewest shift IEs, then fewest septets (most room
 * left); the first found wins a tie, so lower NLIs come first.
 */
static int
better(const struct candidate *a, const struct candidate *b)
{
	if (a->parts != b->parts)
		return a->parts < b->parts;
	if (a->ies != b->ies)
		return a->ies < b->ies;
	return a->enc == GSM_GSM7 && b->enc == GSM_GSM7 && a->units < b->units;
}

/*
 * UCS-2 costs and cut points: cost[] UTF-16 units, brk[] at grapheme
 * boundaries, and at every code point inside a cluster longer than a part.
 * Returns the total units; counts clusters into *graphemes.
 */
static long
ucs2_costs(struct gsm_ctx *c, size_t capn, size_t *graphemes)
{
	utf8proc_int32_t state = 0;
	size_t i, j, start = 0, units = 0, g = 0;
	long total = 0;

	for (i = 0; i <= c->n; i++) {
		int b;

		if (i == 0 || i == c->n) {
			b = 1;
		} else if (c->text[i - 1] < 0x300 && c->text[i] < 0x300) {
			/* No extenders, joiners or flags: only CR LF holds. */
			b = c->text[i - 1] != '\r' || c->text[i] != '\n';
			state = 0;
		} else {
			b = utf8proc_grapheme_break_stateful(
			    (utf8proc_int32_t)c->text[i - 1],
			    (utf8proc_int32_t)c->text[i], &state);
		}

		if (b && i > 0) {
			g++;
			if (units > capn)
				for (j = start; j < i; j++)
					c->brk[j] = 1;
			start = i;
			units = 0;
		}
		if (i == c->n)
			break;
		c->brk[i] = (uint8_t)b;
		c->cost[i] = (uint8_t)utf16_units(c->text[i]);
		units += c->cost[i];
		total += c->cost[i];
	}
	*graphemes = g;
	return total;
}

/* Grapheme count of a text whose code points are all below U+0300. */
static size_t
simple_graphemes(const struct gsm_ctx *c)
{
	size_t g = c->n;

	for (size_t i = 1; i < c->n; i++)
		if (c->text[i] == '\n' && c->text[i - 1] == '\r')
			g--;
	return g;
}

static int
collect_nongsm(struct gsm_ctx *c, struct gsm_result *res)
{
	const uint8_t *lk = c->locking[0], *ss = c->single[0];
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		uint32_t cp = c->text[i];

		if (cp < BMP && (lk[cp] || ss[cp]))
			continue;
		if (grow(&c->nongsm, &c->nongsm_cap, n + 1,
		    sizeof *c->nongsm) < 0)
			return -1;
		c->nongsm[n++] = (struct gsm_nongsm){ cp, c->src_index[i],
			c->src_byte[i] };
	}
	res->nongsm = c->nongsm;
	res->n_nongsm = n;
	return 0;
}

int
gsm_analyze(struct gsm_ctx *c, const char *s, size_t len,
    const struct gsm_opts *opts, struct gsm_result *res, struct errbuf *e)
{
	struct candidate best, k;
	int lock, shift, simple = 1;
	size_t i;

	memset(res, 0, sizeof *res);
	c->split_ready = 0;
	if (decode(c, s, len, opts->smart, res, e) < 0)
		return -1;

	res->code_points = c->n;
	for (i = 0; i < c->n; i++)
		if (c->text[i] >= 0x300) {
			simple = 0;
			break;
		}
	res->utf16_units = c->n;
	for (; i < c->n; i++)
		res->utf16_units += c->text[i] > 0xFFFF;

	/* The default alphabet or UCS-2; its parts stay unless beaten. */
	best = (struct candidate){ .enc = GSM_GSM7 };
	best.units = gsm7_costs(c, 0, 0, c->cost);
	if (best.units < 0) {
		best = (struct candidate){ .enc = GSM_UCS2 };
		best.units = ucs2_costs(c, (PDU_OCTETS - CONCAT_UDH) / 2,
		    &res->graphemes);
	}
	if (candidate_size(c, &best, c->cost,
	    best.enc == GSM_UCS2 ? c->brk : NULL, 1) < 0)
		return -1;

	for (lock = 0; opts->languages && lock < GSM_LANG_COUNT; lock++) {
		if (lock && !(opts->languages & 1u << lock))
			continue;
		if (!gsm_tables[lock].has_locking)
			continue;
		for (shift = 0; shift < GSM_LANG_COUNT; shift++) {
			if ((!lock && !shift) ||
			    (shift && !(opts->languages & 1u << shift)) ||
			    !gsm_tables[shift].has_single)
				continue;
			if (need_table(c, lock) < 0 || need_table(c, shift) < 0)
				return -1;
			k = (struct candidate){ .enc = GSM_GSM7, .lock = lock,
				.shift = shift, .ies = !!lock + !!shift };
			if ((k.units = gsm7_costs(c, lock, shift, c->alt)) < 0)
				continue;
			candidate_size(c, &k, c->alt, NULL, 0);
			if (better(&k, &best)) {
				best = k;
				memcpy(c->cost, c->alt, c->n);
				if (candidate_size(c, &best, c->cost, NULL, 1) < 0)
					return -1;
			}
		}
	}

	res->encoding = best.enc;
	res->locking = best.lock;
	res->single = best.shift;
	res->units = (size_t)best.units;
	res->segments = best.parts;
	if (best.enc == GSM_GSM7) {
		res->graphemes = simple ? simple_graphemes(c) : 0;
		memset(c->brk, 1, c->n);
	} else if (collect_nongsm(c, res) < 0) {
		return -1;
	}
	if (!simple && best.enc == GSM_GSM7) {
		/* Indic shift tables hold combining signs: count for real. */
		utf8proc_int32_t state = 0;

		res->graphemes = c->n > 0;
		for (i = 1; i < c->n; i++)
			res->graphemes += utf8proc_grapheme_break_stateful(
			    (utf8proc_int32_t)c->text[i - 1],
			    (utf8proc_int32_t)c->text[i], &state);
	}

	if (best.parts == 1) {
		res->capacity = best.cap1;
		res->udh_octets = best.udh1;
	} else {
		res->capacity = best.capn;
		res->udh_octets = best.udhn;
	}
	res->parts = c->parts;
	res->units_left = res->capacity - c->parts[best.parts - 1].units;
	res->text = c->text;
	if (c->n == 0)
		res->flags |= GSM_EMPTY;
	if (res->segments > GSM_MAX_PARTS)
		res->flags |= GSM_TOO_MANY_PARTS;
	if (res->utf16_units > GSM_MAX_CHARS)
		res->flags |= GSM_TOO_LONG;
	return 0;
}

/*
 * For every allowed cut point i: next[i], where a greedy part starting at
 * i ends, and rest[i], the parts a greedy cut needs from i to the end.
 * Two pointers, so linear in the text.
 */
static void
plan_rest(struct gsm_ctx *c, size_t cap)
{
	size_t i, j = 0, used = 0;

	for (i = 0; i < c->n; i++) {
		if (!c->brk[i])
			continue;
		if (j < i) {
			j = i;
			used = 0;
		}
		for (;;) {
			size_t k = j, w = 0;

			if (j == c->n)
				break;
			do
				w += c->cost[k++];
			while (k < c->n && !c->brk[k]);
			if (used + w > cap && used > 0)
				break;
			used += w;
			j = k;
		}
		c->next[i] = j;
		/* Slide the window: drop the item that starts at i. */
		size_t k = i, w = 0;

		do
			w += c->cost[k++];
		while (k < c->n && !c->brk[k]);
		used = used > w ? used - w : 0;
	}
	for (i = c->n; i-- > 0;)
		if (c->brk[i])
			c->rest[i] = 1 + (c->next[i] >= c->n ? 0 :
			    c->rest[c->next[i]]);
}

void
gsm_split_words(struct gsm_ctx *c, struct gsm_result *res)
{
	size_t p, s, e, k, used;

	if (res->segments < 2)
		return;
	plan_rest(c, res->capacity);
	for (p = 0, s = 0; p < res->segments; p++) {
		e = p + 1 == res->segments ? c->n : c->next[s];
		if (e < c->n && c->text[e - 1] != ' ' && c->text[e] != ' ') {
			for (k = e - 1; k > s; k--)
				if (c->text[k - 1] == ' ' && c->brk[k] &&
				    c->rest[k] <= res->segments - p - 1)
					break;
			if (k > s)
				e = k;
		}
		for (used = 0, k = s; k < e; k++)
			used += c->cost[k];
		c->parts[p] = (struct gsm_part){ s, e, used };
		s = e;
	}
	res->units_left = res->capacity - c->parts[res->segments - 1].units;
}

const char *
gsm_text(struct gsm_ctx *c, const struct gsm_result *res, size_t start,
    size_t end, size_t *len)
{
	size_t n = 0;

	if (grow(&c->out, &c->out_cap, (end - start) * 4 + 1, 1) < 0)
		return NULL;
	for (size_t i = start; i < end; i++)
		n += utf8_encode(res->text[i], c->out + n);
	c->out[n] = '\0';
	if (len)
		*len = n;
	return c->out;
}

const char *
gsm_encoding_name(enum gsm_encoding enc)
{
	return enc == GSM_GSM7 ? "GSM-7" : "UCS-2";
}

static const char *const lang_codes[GSM_LANG_COUNT] = {
	"", "tr", "es", "pt", "bn", "gu", "hi", "kn", "ml", "or", "pa", "ta",
	"te", "ur",
};

int
gsm_lang_parse(const char *name)
{
	for (int i = 1; i < GSM_LANG_COUNT; i++)
		if (strcasecmp(name, lang_codes[i]) == 0 ||
		    strcasecmp(name, gsm_tables[i].name) == 0)
			return i;
	return -1;
}

const char *
gsm_lang_name(int nli)
{
	return nli >= 0 && nli < GSM_LANG_COUNT ? gsm_tables[nli].name : NULL;
}

int
gsm_lang_has(int nli, int kind)
{
	if (nli < 0 || nli >= GSM_LANG_COUNT)
		return 0;
	return kind == 'L' ? gsm_tables[nli].has_locking :
	    gsm_tables[nli].has_single;
}

/*
 * Streaming. The figures need only running sums: every candidate's
 * greedy cut is a count of parts and the units of the part in hand, so
 * all candidates are sized side by side as the code points go by, and the
 * choice is made at the end by the same rules as gsm_analyze(). UCS-2
 * items are grapheme clusters, held until they end or grow past a part
 * (then each code point is an item, as ucs2_costs() decides). The lists
 * come from passes that decode the text again with the winner known.
 * Splitting at words needs, at each cut, whether the rest of the text
 * still fits the parts left from a given point: that holds from b[R] on,
 * where b[R] starts the R-th part of a greedy cut made from the end (both
 * greedy cuts take the fewest parts), so a plan pass notes each code
 * point's cost in a scratch file and reads it backwards to find them.
 */
#define UCS2_CAPN ((PDU_OCTETS - CONCAT_UDH) / 2)
#define CLUSTER_MAX (UCS2_CAPN + 1)
#define IO_CHUNK 65536

struct greedy {
	size_t cap, parts, used;	/* parts before the one in hand */
};

static void
greedy_feed(struct greedy *g, size_t w)
{
	if (g->used + w > g->cap && g->used > 0) {
		g->parts++;
		g->used = 0;
	}
	g->used += w;
}

/* A code point of an item: its cost, 1 if a part may end before it. */
struct sent {
	uint32_t cp;
	uint8_t cost, brk;
};

/* A GSM-7 candidate, sized as the text goes by. */
struct scand {
	struct candidate k;
	const uint8_t *lk, *ss;
	int alive;
	struct greedy g;
};

struct gsm_stream {
	struct gsm_ctx *ctx;	/* the table maps */
	struct gsm_opts opts;
	struct gsm_stream_cb cb;
	enum gsm_pass pass;
	int ended;		/* the figures are known */
	char pend[4];		/* a UTF-8 sequence cut by the chunk's end */
	size_t npend;
	size_t off;		/* input offset of the next byte to decode */
	size_t index;		/* input code points so far */
	size_t n;		/* code points sent so far */
	uint32_t prev;		/* the last one */
	/* sizing */
	struct scand cand[GSM_LANG_COUNT * GSM_LANG_COUNT];
	size_t ncand;
	int gsm_alive;		/* some GSM-7 candidate fits so far */
	int simple;		/* all below U+0300 so far */
	size_t utf16, crlf, n_nongsm, n_changes;
	struct greedy ucs2;
	/* UCS-2 clusters */
	utf8proc_int32_t ucs2_state;
	size_t graphemes;
	struct sent cl[CLUSTER_MAX];
	size_t ncl, cl_units;
	int cl_long;
	/* the winner */
	struct gsm_result res;
	enum gsm_encoding enc;
	const uint8_t *lk;	/* GSM-7: its locking table */
	/* parts and words passes */
	size_t cap, used;	/* of a part; units in the part in hand */
	struct sent *w;		/* the part in hand and what follows it */
	size_t wlen, wcap;
	size_t wq;		/* w[0..wq) fit in the part in hand */
	size_t ws;		/* the text's code point index of w[0] */
	size_t wp;		/* the part in hand, 0-based */
	char *text;
	size_t text_cap;
	/* plan */
	int fd;
	unsigned char *io;
	size_t io_len, io_off;	/* bytes buffered; where they go in fd */
	size_t nbounds;		/* starts of the parts cut from the end */
};

struct gsm_stream *
gsm_stream_new(const struct gsm_opts *opts, const struct gsm_stream_cb *cb)
{
	struct gsm_stream *s = calloc(1, sizeof *s);
	struct scand *k;
	int lock, shift;

	if (!s || !(s->ctx = gsm_ctx_new()))
		goto fail;
	s->opts = *opts;
	if (cb)
		s->cb = *cb;
	s->fd = -1;
	/* In gsm_analyze()'s order: the default first, then each pair. */
	for (lock = 0; lock < GSM_LANG_COUNT; lock++) {
		if (lock && !(opts->languages & 1u << lock))
			continue;
		if (!gsm_tables[lock].has_locking)
			continue;
		for (shift = 0; shift < GSM_LANG_COUNT; shift++) {
			if ((lock || shift) && !opts->languages)
				break;
			if ((shift && !(opts->languages & 1u << shift)) ||
			    !gsm_tables[shift].has_single)
				continue;
			if (need_table(s->ctx, lock) < 0 ||
			    need_table(s->ctx, shift) < 0)
				goto fail;
			k = &s->cand[s->ncand++];
			k->k = (struct candidate){ .enc = GSM_GSM7,
				.lock = lock, .shift = shift,
				.ies = !!lock + !!shift };
			k->lk = s->ctx->locking[lock];
			k->ss = s->ctx->single[shift];
			k->alive = 1;
			k->g.cap = gsm7_capacity(CONCAT_UDH +
			    SHIFT_IE * (size_t)k->k.ies);
		}
	}
	s->gsm_alive = 1;
	s->simple = 1;
	s->ucs2.cap = UCS2_CAPN;
	return s;
fail:
	gsm_stream_free(s);
	return NULL;
}

void
gsm_stream_free(struct gsm_stream *s)
{
	if (!s)
		return;
	gsm_ctx_free(s->ctx);
	free(s->w);
	free(s->text);
	free(s->io);
	free(s);
}

/* Hand one part's text to the caller. */
static int
put_part(struct gsm_stream *s, const struct sent *p, size_t n, size_t units)
{
	size_t len = 0;

	if (grow(&s->text, &s->text_cap, n * 4 + 1, 1) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		len += utf8_encode(p[i].cp, s->text + len);
	if (s->cb.part)
		s->cb.part(s->cb.arg, s->text, len, units);
	return 0;
}

static int
plan_flush(struct gsm_stream *s)
{
	if (s->io_len && pwrite(s->fd, s->io, s->io_len,
	    (off_t)s->io_off) != (ssize_t)s->io_len) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	s->io_off += s->io_len;
	s->io_len = 0;
	return 0;
}

/* Where the R-th part of the cut made from the end starts; 0 past them. */
static int
bound(struct gsm_stream *s, size_t r, size_t *b)
{
	uint64_t v;

	*b = 0;
	if (r == 0 || r > s->nbounds)
		return 0;
	if (pread(s->fd, &v, sizeof v, (off_t)(s->res.code_points +
	    (r - 1) * sizeof v)) != (ssize_t)sizeof v) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	*b = (size_t)v;
	return 0;
}

/* Words: cut the part in hand before w[wq], after a space if that fits. */
static int
words_cut(struct gsm_stream *s)
{
	size_t e = s->wq, k, b, units = 0;

	if (s->w[e - 1].cp != ' ' && s->w[e].cp != ' ') {
		if (bound(s, s->res.segments - s->wp - 1, &b) < 0)
			return -1;
		for (k = e - 1; k > 0; k--)
			if (s->w[k - 1].cp == ' ' && s->w[k].brk &&
			    s->ws + k >= b)
				break;
		if (k > 0)
			e = k;
	}
	for (k = 0; k < e; k++)
		units += s->w[k].cost;
	if (put_part(s, s->w, e, units) < 0)
		return -1;
	memmove(s->w, s->w + e, (s->wlen - e) * sizeof *s->w);
	s->wlen -= e;
	s->ws += e;
	s->wp++;
	s->wq = 0;
	s->used = 0;
	return 0;
}

/* One item, n code points a part may not end inside, in a pass. */
static int
item(struct gsm_stream *s, const struct sent *p, size_t n, size_t w)
{
	size_t i;

	switch (s->pass) {
	case GSM_PASS_FIGURES:
		greedy_feed(&s->ucs2, w);
		return 0;
	case GSM_PASS_PARTS:
		if (s->used + w > s->cap && s->used > 0) {
			if (put_part(s, s->w, s->wlen, s->used) < 0)
				return -1;
			s->wlen = 0;
			s->used = 0;
		}
		s->used += w;
		break;
	case GSM_PASS_PLAN:
		for (i = 0; i < n; i++) {
			if (s->io_len == IO_CHUNK && plan_flush(s) < 0)
				return -1;
			s->io[s->io_len++] = (unsigned char)(p[i].cost |
			    (i == 0 ? 0x80 : 0));
		}
		return 0;
	case GSM_PASS_WORDS:
		break;
	default:
		return 0;
	}
	if (s->wlen + n > s->wcap &&
	    grow(&s->w, &s->wcap, s->wlen + n, sizeof *s->w) < 0)
		return -1;
	for (i = 0; i < n; i++, s->wlen++) {
		/* Field by field: p was just written so, often on the stack,
		 * and a whole-struct copy would stall on it. */
		s->w[s->wlen].cp = p[i].cp;
		s->w[s->wlen].cost = p[i].cost;
		s->w[s->wlen].brk = i == 0;
	}
	if (s->pass != GSM_PASS_WORDS)
		return 0;
	while (s->wq < s->wlen) {
		size_t j = s->wq + 1, iw = s->w[s->wq].cost;

		while (j < s->wlen && !s->w[j].brk)
			iw += s->w[j++].cost;
		if (s->wp + 1 < s->res.segments &&
		    s->used + iw > s->cap && s->used > 0) {
			if (words_cut(s) < 0)
				return -1;
			continue;
		}
		s->used += iw;
		s->wq = j;
	}
	return 0;
}

/* The cluster in hand ends: it is one item, unless it was too long. */
static int
cluster_end(struct gsm_stream *s)
{
	int rc = 0;

	if (!s->cl_long && s->ncl)
		rc = item(s, s->cl, s->ncl, s->cl_units);
	s->ncl = 0;
	s->cl_units = 0;
	s->cl_long = 0;
	return rc;
}

/* UCS-2 items: as ucs2_costs() cuts, with s->n code points before cp. */
static int
ucs2_cp(struct gsm_stream *s, uint32_t cp)
{
	struct sent one = { cp, (uint8_t)utf16_units(cp), 1 };
	int b;

	if (s->n == 0) {
		b = 1;
	} else if (s->prev < 0x300 && cp < 0x300) {
		b = s->prev != '\r' || cp != '\n';
		s->ucs2_state = 0;
	} else {
		b = utf8proc_grapheme_break_stateful(
		    (utf8proc_int32_t)s->prev, (utf8proc_int32_t)cp,
		    &s->ucs2_state);
	}
	if (b && s->n > 0) {
		s->graphemes++;
		if (cluster_end(s) < 0)
			return -1;
	}
	if (s->cl_long)
		return item(s, &one, 1, one.cost);
	s->cl[s->ncl++] = one;
	s->cl_units += one.cost;
	if (s->cl_units <= UCS2_CAPN)
		return 0;
	s->cl_long = 1;
	for (size_t i = 0; i < s->ncl; i++)
		if (item(s, &s->cl[i], 1, s->cl[i].cost) < 0)
			return -1;
	s->ncl = 0;
	return 0;
}

/* Size every candidate with one more code point. */
static void
size_cp(struct gsm_stream *s, uint32_t cp)
{
	const uint8_t *lk = s->ctx->locking[0], *ss = s->ctx->single[0];
	int alive = 0;

	s->utf16 += utf16_units(cp);
	if (cp >= 0x300)
		s->simple = 0;
	if (s->n > 0 && s->prev == '\r' && cp == '\n')
		s->crlf++;
	if (!(cp < BMP && (lk[cp] || ss[cp])))
		s->n_nongsm++;
	if (!s->gsm_alive)
		return;
	for (size_t i = 0; i < s->ncand; i++) {
		struct scand *k = &s->cand[i];
		unsigned cost;

		if (!k->alive)
			continue;
		if (cp < BMP && k->lk[cp])
			cost = 1;
		else if (cp < BMP && k->ss[cp])
			cost = 2;
		else {
			k->alive = 0;
			continue;
		}
		k->k.units += cost;
		greedy_feed(&k->g, cost);
		alive = 1;
	}
	s->gsm_alive = alive;
}

/* A code point of the text as sent, from input code point index at byte. */
static int
sent_cp(struct gsm_stream *s, uint32_t cp, size_t index, size_t byte)
{
	struct gsm_nongsm ng;
	int rc = 0;

	switch (s->pass) {
	case GSM_PASS_FIGURES:
		size_cp(s, cp);
		rc = ucs2_cp(s, cp);
		break;
	case GSM_PASS_NONGSM:
		if (cp < BMP && (s->ctx->locking[0][cp] ||
		    s->ctx->single[0][cp]))
			break;
		ng = (struct gsm_nongsm){ cp, index, byte };
		if (s->cb.nongsm)
			s->cb.nongsm(s->cb.arg, &ng);
		break;
	case GSM_PASS_CHANGES:
		break;
	default:
		if (s->enc == GSM_UCS2) {
			rc = ucs2_cp(s, cp);
		} else {
			struct sent one = { cp, cp < BMP && s->lk[cp] ? 1 : 2,
				1 };

			rc = item(s, &one, 1, one.cost);
		}
	}
	s->prev = cp;
	s->n++;
	return rc;
}

/* An input code point at byte: sent as is, or rewritten when smart. */
static int
input_cp(struct gsm_stream *s, uint32_t cp, size_t byte)
{
	const struct gsm_smart *sm;
	struct gsm_change ch;

	if (!s->opts.smart || !(sm = smart_find(cp))) {
		if (sent_cp(s, cp, s->index, byte) < 0)
			return -1;
		s->index++;
		return 0;
	}
	if (s->pass == GSM_PASS_FIGURES)
		s->n_changes++;
	if (s->pass == GSM_PASS_CHANGES && s->cb.change) {
		ch = (struct gsm_change){ .from = cp, .to = sm->to,
			.index = s->index, .byte = byte };
		s->cb.change(s->cb.arg, &ch);
	}
	for (size_t k = 0; sm->to[k]; k++)
		if (sent_cp(s, (unsigned char)sm->to[k], s->index, byte) < 0)
			return -1;
	s->index++;
	return 0;
}

/* Bytes a sequence starting with c takes; 1 for a byte that starts none. */
static size_t
utf8_need(unsigned char c)
{
	return c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 :
	    c >= 0xC2 && c <= 0xDF ? 2 : 1;
}

int
gsm_stream_feed(struct gsm_stream *s, const char *p, size_t len,
    struct errbuf *e)
{
	size_t i = 0, at, j, hold = 0, k;
	uint32_t cp;
	char t[4];

	if (s->npend) {
		k = s->npend;
		memcpy(t, s->pend, k);
		while (k < utf8_need((unsigned char)t[0]) && i < len)
			t[k++] = p[i++];
		if (k < utf8_need((unsigned char)t[0])) {
			memcpy(s->pend, t, k);
			s->npend = k;
			return 0;
		}
		j = 0;
		if (utf8_next(t, k, &j, &cp) < 0) {
			errno = EILSEQ;
			return errf(e, "invalid UTF-8 at byte %zu", s->off);
		}
		s->npend = 0;
		at = s->off;
		s->off += k;
		if (input_cp(s, cp, at) < 0)
			return -1;
	}
	/* Hold back a sequence the chunk cuts. */
	for (j = len; j > i && len - j < 3; j--) {
		unsigned char c = (unsigned char)p[j - 1];

		if ((c & 0xC0) == 0x80)
			continue;
		if (utf8_need(c) > len - (j - 1))
			hold = len - (j - 1);
		break;
	}
	len -= hold;
	while (i < len) {
		at = i;
		if ((unsigned char)p[i] < 0x80)
			cp = (unsigned char)p[i++];
		else if (utf8_next(p, len, &i, &cp) < 0) {
			errno = EILSEQ;
			return errf(e, "invalid UTF-8 at byte %zu", s->off);
		}
		if (input_cp(s, cp, s->off) < 0)
			return -1;
		s->off += i - at;
	}
	memcpy(s->pend, p + len, hold);
	s->npend = hold;
	return 0;
}

/* Size candidate k as candidate_size() does; *last gets its last part. */
static void
stream_size(struct candidate *k, const struct greedy *g, size_t *last)
{
	candidate_caps(k);
	if ((size_t)k->units > k->cap1) {
		k->parts = g->parts + 1;
		*last = g->used;
	} else {
		k->parts = 1;
		*last = (size_t)k->units;
	}
}

/* The plan is written: find where each part of a cut from the end starts. */
static int
plan_end(struct gsm_stream *s)
{
	size_t pos = s->n, iend = s->n, used = 0, w = 0, i, m;
	size_t cap = s->res.capacity;
	uint64_t *b = (uint64_t *)(void *)s->io;
	unsigned char blk[4096];
	size_t nb = 0;

	if (plan_flush(s) < 0)
		return -1;
	s->io_off = s->n;
	while (pos > 0) {
		m = pos < sizeof blk ? pos : sizeof blk;
		pos -= m;
		if (pread(s->fd, blk, m, (off_t)pos) != (ssize_t)m) {
			if (errno == 0)
				errno = EIO;
			return -1;
		}
		for (i = m; i-- > 0;) {
			w += blk[i] & 0x7F;
			if (!(blk[i] & 0x80))
				continue;
			if (used + w > cap && used > 0) {
				b[nb++] = iend;
				s->nbounds++;
				used = 0;
				if (nb * sizeof *b == IO_CHUNK) {
					s->io_len = IO_CHUNK;
					if (plan_flush(s) < 0)
						return -1;
					nb = 0;
				}
			}
			used += w;
			w = 0;
			iend = pos + i;
		}
	}
	s->io_len = nb * sizeof *b;
	return plan_flush(s);
}

int
gsm_stream_end(struct gsm_stream *s, struct gsm_result *res,
    struct errbuf *e)
{
	struct candidate best;
	size_t last, klast, i;
	int besti = -1;

	if (s->npend) {
		errno = EILSEQ;
		return errf(e, "invalid UTF-8 at byte %zu", s->off);
	}
	/* The last cluster, where clusters are counted or cut. */
	if (s->pass != GSM_PASS_NONGSM && s->pass != GSM_PASS_CHANGES &&
	    (s->pass == GSM_PASS_FIGURES || s->enc == GSM_UCS2)) {
		if (s->n > 0)
			s->graphemes++;
		if (cluster_end(s) < 0)
			return -1;
	}
	switch (s->pass) {
	case GSM_PASS_PARTS:
		return put_part(s, s->w, s->wlen, s->used);
	case GSM_PASS_WORDS:
		for (i = 0, last = 0; i < s->wlen; i++)
			last += s->w[i].cost;
		return put_part(s, s->w, s->wlen, last);
	case GSM_PASS_PLAN:
		return plan_end(s);
	case GSM_PASS_FIGURES:
		break;
	default:
		return 0;
	}

	memset(res, 0, sizeof *res);
	if (s->ncand && s->cand[0].alive) {
		best = s->cand[0].k;
		besti = 0;
		stream_size(&best, &s->cand[0].g, &last);
	} else {
		best = (struct candidate){ .enc = GSM_UCS2,
			.units = (long)s->utf16 };
		stream_size(&best, &s->ucs2, &last);
	}
	for (i = 1; s->opts.languages && i < s->ncand; i++) {
		struct candidate k = s->cand[i].k;

		if (!s->cand[i].alive)
			continue;
		stream_size(&k, &s->cand[i].g, &klast);
		if (better(&k, &best)) {
			best = k;
			besti = (int)i;
			last = klast;
		}
	}
	res->encoding = best.enc;
	res->locking = best.lock;
	res->single = best.shift;
	res->units = (size_t)best.units;
	res->segments = best.parts;
	res->code_points = s->n;
	res->utf16_units = s->utf16;
	res->n_changes = s->n_changes;
	/*
	 * gsm_analyze() asks utf8proc about every pair of a GSM-7 text that
	 * is not all below U+0300; ucs2_cp() asks only where one of the two
	 * is, as ucs2_costs() does. Below U+0300 there is no Extend, ZWJ,
	 * Prepend, SpacingMark or regional indicator, so utf8proc breaks
	 * there but in CR LF and carries no state past the pair: the counts
	 * agree (tests/unit/gsm-stream.c checks it).
	 */
	if (best.enc == GSM_GSM7)
		res->graphemes = s->simple ? s->n - s->crlf : s->graphemes;
	else {
		res->graphemes = s->graphemes;
		res->n_nongsm = s->n_nongsm;
	}
	if (best.parts == 1) {
		res->capacity = best.cap1;
		res->udh_octets = best.udh1;
	} else {
		res->capacity = best.capn;
		res->udh_octets = best.udhn;
	}
	res->units_left = res->capacity - last;
	if (s->n == 0)
		res->flags |= GSM_EMPTY;
	if (res->segments > GSM_MAX_PARTS)
		res->flags |= GSM_TOO_MANY_PARTS;
	if (res->utf16_units > GSM_MAX_CHARS)
		res->flags |= GSM_TOO_LONG;
	s->res = *res;
	s->enc = best.enc;
	s->lk = besti >= 0 ? s->cand[besti].lk : NULL;
	s->ended = 1;
	return 0;
}

int
gsm_stream_pass(struct gsm_stream *s, enum gsm_pass what, int fd)
{
	if (!s->ended || (what == GSM_PASS_WORDS && s->pass != GSM_PASS_PLAN &&
	    s->res.segments > 1)) {
		errno = EINVAL;
		return -1;
	}
	if (what == GSM_PASS_WORDS && s->res.segments < 2)
		what = GSM_PASS_PARTS;
	if (what == GSM_PASS_PLAN && !s->io && !(s->io = malloc(IO_CHUNK)))
		return -1;
	s->pass = what;
	s->fd = fd;
	s->npend = 0;
	s->off = s->index = s->n = 0;
	s->prev = 0;
	s->ucs2_state = 0;
	s->graphemes = 0;
	s->ncl = s->cl_units = 0;
	s->cl_long = 0;
	s->used = s->wlen = s->wq = s->ws = s->wp = 0;
	s->cap = s->res.segments > 1 ? s->res.capacity : SIZE_MAX;
	if (what == GSM_PASS_PLAN) {
		s->io_len = s->io_off = 0;
		s->nbounds = 0;
	}
	return 0;
}
