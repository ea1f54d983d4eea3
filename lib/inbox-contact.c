/*
 * inbox-contact.c: contacts/, the customers' names and fields
 * (contact.h, smsdesk-inbox(5)).
 *
 * One record a file, contacts/NUMBER, replaced whole: a change reads the
 * record, changes it and puts the new one in its place (ib_put_record():
 * tmp/, fsync, rename over, fsync contacts/), all under lock/contacts, so
 * two changes of one contact never lose one another. A reader takes the
 * file as it is: a rename shows it the old record or the new, never a
 * mix. The number must be an E.164 thread (thread_valid()): it names the
 * file, and a name that is not one cannot reach out of contacts/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "contact.h"
#include "inbox-impl.h"
#include "record.h"
#include "thread.h"
#include "utf8.h"
#include "when.h"

/* The record's own fields, which no import or edit sets. */
static const char *const own[] = { "type", "number", "updated_at", NULL };

int
contact_field_check(const char *name, struct errbuf *e)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > CONTACT_FIELD_MAX) {
		errno = EINVAL;
		return errf(e, "field '%s': a name of 1 to %d bytes", name,
		    CONTACT_FIELD_MAX);
	}
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_')) {
			errno = EINVAL;
			return errf(e, "field '%s': only a-z, 0-9 and _", name);
		}
	for (i = 0; own[i]; i++)
		if (strcmp(name, own[i]) == 0) {
			errno = EINVAL;
			return errf(e, "field '%s' is the contact's own, not "
			    "set by hand", name);
		}
	return 0;
}

/* Whether number may name a contact; errno EINVAL and e if not. */
static int
number_check(const char *number, struct errbuf *e)
{
	if (number[0] == '+' && thread_valid(number))
		return 0;
	errno = EINVAL;
	return errf(e, "'%s' is not an E.164 number", number);
}

json_t *
contact_get(struct inbox *ib, const char *number, struct errbuf *e)
{
	char rel[64];

	if (number_check(number, e) < 0)
		return NULL;
	snprintf(rel, sizeof rel, "contacts/%s", number);
	return ib_get_record(ib, rel, e);
}

/* Whether fields are all fit to be set (a string) or removed (null). */
static int
fields_check(const json_t *fields, struct errbuf *e)
{
	const char *k, *s;
	json_t *v;
	size_t n;

	if (!json_is_object(fields)) {
		errno = EINVAL;
		return errf(e, "no fields");
	}
	json_object_foreach((json_t *)fields, k, v) {
		if (contact_field_check(k, e) < 0)
			return -1;
		if (json_is_null(v))
			continue;
		if (!(s = json_string_value(v))) {
			errno = EINVAL;
			return errf(e, "field '%s': not a string", k);
		}
		n = json_string_length(v);
		if (record_has_nul(v) || utf8_valid_prefix(s, n) != n) {
			errno = EINVAL;
			return errf(e, "field '%s': not UTF-8 text", k);
		}
		if (n > CONTACT_VALUE_MAX) {
			errno = EINVAL;
			return errf(e, "field '%s': %zu bytes (at most %d)", k,
			    n, CONTACT_VALUE_MAX);
		}
	}
	return 0;
}

/*
 * The contact as it is to be written: the record's own fields first
 * (type, number), then its fields in their order, then updated_at.
 * Returns how many fields of its own it has, or -1 (too many; ENOMEM).
 */
static int
apply(const json_t *was, const json_t *fields, int keep, const char *number,
    json_t **out, struct errbuf *e)
{
	json_t *c = json_pack("{s:s,s:s}", "type", "contact", "number",
	    number);
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!c) {
		errno = ENOMEM;
		return errf(e, "%s", strerror(ENOMEM));
	}
	json_object_foreach((json_t *)was, k, v)
		if (json_is_string(v) && contact_field_check(k, NULL) == 0)
			json_object_set(c, k, v);
	json_object_foreach((json_t *)fields, k, v) {
		if (keep && json_object_get(c, k))
			continue;
		if (json_is_null(v))
			json_object_del(c, k);
		else
			json_object_set(c, k, v);
	}
	n = json_object_size(c) - 2;
	if (n + 3 > CONTACT_FIELDS) {
		json_decref(c);
		errno = EINVAL;
		return errf(e, "%zu fields (at most %d)", n,
		    CONTACT_FIELDS - 3);
	}
	*out = c;
	return (int)n;
}

/* Whether a and b hold the same fields (updated_at aside). */
static int
same_fields(const json_t *a, const json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	int same;

	json_object_del(x, "updated_at");
	json_object_del(y, "updated_at");
	same = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

/* contact_set(), or with keep contact_default(). */
static int
change(struct inbox *ib, const char *number, const json_t *fields, int keep,
    json_t **after, struct errbuf *e)
{
	char rel[64], now[WHEN_BUFSZ];
	json_t *was, *c = NULL;
	int lk, n, rc = -1;

	if (after)
		*after = NULL;
	if (number_check(number, e) < 0 || fields_check(fields, e) < 0)
		return -1;
	if ((lk = ib_lock_file(ib, "contacts", e)) < 0)
		return -1;
	snprintf(rel, sizeof rel, "contacts/%s", number);
	if (!(was = ib_get_record(ib, rel, e)) && errno != ENOENT &&
	    errno != EBADMSG)
		goto out;
	if ((n = apply(was, fields, keep, number, &c, e)) < 0)
		goto out;
	if (was ? same_fields(was, c) : n == 0) {
		rc = 1;
		if (after)
			*after = was ? json_incref(was) : json_null();
		goto out;
	}
	if (n == 0) {
		/* Nothing of it left: no file. */
		if (ib_unlink(ib, rel, 0) < 0 && errno != ENOENT) {
			errf(e, "%s/%s: %s", ib->dir, rel, strerror(errno));
			goto out;
		}
		if (ib_sync_dir(ib, "contacts", e) < 0)
			goto out;
		rc = 0;
		if (after)
			*after = json_null();
		goto out;
	}
	when_format(when_now(), now);
	json_object_set_new(c, "updated_at", json_string(now));
	if (ib_put_record(ib, "contacts", number, c, 1, 0, e) < 0)
		goto out;
	rc = 0;
	if (after)
		*after = json_incref(c);
out:
	ib_unlock(lk);
	json_decref(was);
	json_decref(c);
	return rc;
}

int
contact_set(struct inbox *ib, const char *number, const json_t *fields,
    json_t **after, struct errbuf *e)
{
	return change(ib, number, fields, 0, after, e);
}

int
contact_default(struct inbox *ib, const char *number, const json_t *fields,
    json_t **after, struct errbuf *e)
{
	return change(ib, number, fields, 1, after, e);
}

json_t *
contact_list(struct inbox *ib, struct errbuf *e)
{
	json_t *all = json_array(), *c;
	char **names, rel[64];
	size_t n, i;
	struct errbuf ce;

	if (!all) {
		errno = ENOMEM;
		errf(e, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (!(names = ib_list_names(ib, "contacts", &n, e))) {
		json_decref(all);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!thread_valid(names[i]) || names[i][0] != '+')
			continue;
		snprintf(rel, sizeof rel, "contacts/%s", names[i]);
		if ((c = ib_get_record(ib, rel, &ce))) {
			json_array_append_new(all, c);
		} else if (errno != ENOENT && errno != EBADMSG) {
			int saved = errno;

			errf(e, "%s", ce.msg);
			ib_free_names(names, n);
			json_decref(all);
			errno = saved;
			return NULL;
		}
	}
	ib_free_names(names, n);
	return all;
}
