/*
 * inbox-parts.c: parts/, the parts of long inbound messages that a
 * provider delivers one webhook a part (Vonage), kept until the whole has
 * come (smsdesk-inbox(5), Parts).
 *
 * A part is the record parts/SET.NNN, SET the set's key (the provider's
 * name and the sender's set, escaped as a ledger key: ib_id_key()) and
 * NNN its place from 001, written as every record is (staged in tmp/,
 * synced, renamed, the directory synced) before the webhook is answered.
 * A part that is there already is kept as it was: a retried part is
 * taken once; unless it is older than INBOX_PARTS_MAX_AGE, the part of
 * an older message that never came whole, which is replaced (and swept:
 * inbox_sweep()). When every part of a set is there, the caller stores the
 * whole message through the ordinary delivery (whose provider id makes
 * a second delivery of it a duplicate), and only then drops the parts:
 * a crash anywhere leaves either parts that make the whole again, or a
 * whole already stored. No lock is needed: two parts that complete a
 * set together both see it whole, and the second delivery is a
 * duplicate.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "inbox-impl.h"
#include "record.h"

/* The file name of part of set: "SET.NNN". */
#define PART_NAME_MAX (NAME_MAX_LEN + 8)

static void
part_name(const char *set, int part, char out[PART_NAME_MAX])
{
	snprintf(out, PART_NAME_MAX, "%s.%03d", set, part);
}

int
inbox_part_set(const char *provider, const char *sender, const char *ref,
    char out[NAME_MAX_LEN])
{
	char id[256];

	if (snprintf(id, sizeof id, "%s-%s", sender, ref) >= (int)sizeof id)
		return errno = EINVAL, -1;
	return ib_id_key(provider, id, out);
}

/*
 * The parts of set, all total of them, read in order into a new array;
 * NULL with errno ENOENT if one is missing (or another errno, e filled).
 */
static json_t *
read_set(struct inbox *ib, const char *set, int total, struct errbuf *e)
{
	char name[PART_NAME_MAX], rel[PATH_MAX];
	json_t *v = json_array(), *p;

	if (!v)
		return errno = ENOMEM, NULL;
	for (int i = 1; i <= total; i++) {
		part_name(set, i, name);
		snprintf(rel, sizeof rel, "parts/%s", name);
		if (!(p = ib_get_record(ib, rel, e))) {
			json_decref(v);
			return NULL;
		}
		json_array_append_new(v, p);
	}
	return v;
}

int
inbox_part_put(struct inbox *ib, const char *set, const json_t *rec,
    json_t **whole, struct errbuf *e)
{
	char name[PART_NAME_MAX], rel[PATH_MAX];
	struct stat st;
	int stale;
	json_int_t part = json_integer_value(json_object_get(rec, "part"));
	json_int_t total = json_integer_value(json_object_get(rec, "total"));

	*whole = NULL;
	if (part < 1 || total < 1 || part > total || total > 255)
		return errno = EINVAL, errf(e, "part %lld of %lld: no such "
		    "part", (long long)part, (long long)total);
	part_name(set, (int)part, name);
	snprintf(rel, sizeof rel, "parts/%s", name);
	/*
	 * Not replaced: the first copy of a part is the one kept; but one
	 * older than INBOX_PARTS_MAX_AGE is another message's, whose other
	 * parts never came (its sender uses its references again).
	 */
	stale = ib_stat(ib, rel, &st) == 0 &&
	    time(NULL) - st.st_mtime > INBOX_PARTS_MAX_AGE;
	if (ib_put_record(ib, "parts", name, rec, stale, 0, e) < 0 &&
	    errno != EEXIST)
		return -1;
	if ((*whole = read_set(ib, set, (int)total, e)))
		return 1;
	return errno == ENOENT ? 0 : -1;
}

int
inbox_part_drop(struct inbox *ib, const char *set, int total,
    struct errbuf *e)
{
	char name[PART_NAME_MAX], rel[PATH_MAX];
	int rc = 0;

	for (int i = 1; i <= total; i++) {
		part_name(set, i, name);
		snprintf(rel, sizeof rel, "parts/%s", name);
		if (ib_unlink(ib, rel, 0) < 0 && errno != ENOENT)
			rc = errf(e, "%s/%s: %s", ib->dir, rel,
			    ib_strerror(errno));
	}
	return rc < 0 ? -1 : ib_sync_dir(ib, "parts", e);
}

json_t *
inbox_parts_complete(struct inbox *ib, struct errbuf *e)
{
	json_t *out = json_array(), *set;
	char **names, last[NAME_MAX_LEN] = "";
	size_t n;

	if (!out)
		return errno = ENOMEM, errf(e, "%s", strerror(ENOMEM)), NULL;
	if (!(names = ib_list_names(ib, "parts", &n, e))) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char rel[PATH_MAX], *dot = strrchr(names[i], '.');
		json_t *p;
		struct errbuf pe;
		json_int_t total;

		if (!dot || dot == names[i] || (size_t)(dot - names[i]) >=
		    NAME_MAX_LEN)
			continue;
		*dot = '\0';
		if (strcmp(names[i], last) == 0)
			continue;
		snprintf(last, sizeof last, "%s", names[i]);
		snprintf(rel, sizeof rel, "parts/%s.%s", names[i], dot + 1);
		if (!(p = ib_get_record(ib, rel, &pe)))
			continue;
		total = json_integer_value(json_object_get(p, "total"));
		json_decref(p);
		if (total < 1 || total > 255)
			continue;
		if ((set = read_set(ib, names[i], (int)total, &pe)))
			json_array_append_new(out, set);
	}
	ib_free_names(names, n);
	return out;
}

static int
alias(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, int replace, struct errbuf *e)
{
	char key[NAME_MAX_LEN];
	int lk, rc;

	if (ib_id_key(provider, pid, key) < 0)
		return errno = EINVAL, errf(e, "provider id: empty, or too "
		    "long");
	if ((lk = ib_lock_thread(ib, thread, e)) < 0)
		return -1;
	rc = ib_ledger_add(ib, key, thread, id, replace, 0, e);
	ib_unlock(lk);
	return rc < 0 ? -1 : 0;
}

int
inbox_alias(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, struct errbuf *e)
{
	return alias(ib, thread, id, provider, pid, 0, e);
}

int
inbox_alias_move(struct inbox *ib, const char *thread, const char *id,
    const char *provider, const char *pid, struct errbuf *e)
{
	return alias(ib, thread, id, provider, pid, 1, e);
}
