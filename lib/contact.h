/*
 * contact.h: the customers' names and fields, kept in the inbox
 * (smsdesk-inbox(5), contacts/; inbox-contacts(1)).
 *
 * A contact is one record in contacts/NUMBER, NUMBER the customer's E.164
 * number: {"type": "contact", "number", then its fields (strings: "name",
 * "company", whatever an import brought), "updated_at"}. Names are
 * personal data: the file is written as a message is (tmp/, fsync,
 * rename, directory fsync) and has a message's permissions. Every change
 * is made under lock/contacts: read, change, replace.
 *
 * Ownership: functions returning json_t * give a new reference; the
 * fields given are borrowed.
 */
#ifndef CONTACT_H
#define CONTACT_H

#include <jansson.h>

#include "diag.h"
#include "inbox.h"

#define CONTACT_FIELD_MAX 64	/* bytes of a field's name */
#define CONTACT_VALUE_MAX 1024	/* bytes of a field's value */
#define CONTACT_FIELDS 64	/* fields of one contact, its own included */

/*
 * Whether name may name a contact's field: 1 to 64 bytes of a-z, 0-9 and
 * "_", not one of the record's own ("type", "number", "updated_at"). 0,
 * or -1 with errno EINVAL and e filled.
 */
int contact_field_check(const char *name, struct errbuf *e);

/*
 * The contact of number (E.164), or NULL: errno ENOENT if there is none,
 * else e filled (a file that does not parse is quarantined, EBADMSG).
 */
json_t *contact_get(struct inbox *ib, const char *number, struct errbuf *e);

/*
 * Change the contact of number (E.164; made if it has none): each field
 * of fields that is a string is set, each that is null removed. Fields
 * are checked first (contact_field_check(), values UTF-8 without a NUL,
 * at most CONTACT_VALUE_MAX bytes, at most CONTACT_FIELDS in all): a
 * bad one changes nothing, errno EINVAL. A contact that ends with no
 * field of its own is removed. *after, if not NULL, gets the contact as
 * it ends up (json null once removed). Returns 0 (changed), 1 (it was
 * so already), or -1 with e filled.
 */
int contact_set(struct inbox *ib, const char *number, const json_t *fields,
    json_t **after, struct errbuf *e);

/*
 * As contact_set(), but a field the contact has already is kept: what a
 * channel says of the customer (WhatsApp's profile name) fills in what
 * nobody has written, never over what someone has.
 */
int contact_default(struct inbox *ib, const char *number,
    const json_t *fields, json_t **after, struct errbuf *e);

/*
 * Every contact, in the order of their numbers, as a JSON array. Files
 * that do not parse are quarantined and reported (struct inbox's
 * report), not returned. NULL with e filled on failure.
 */
json_t *contact_list(struct inbox *ib, struct errbuf *e);

#endif
