/*
 * thread.h: the names of threads, smsdesk-inbox(5).
 *
 * A conversation is keyed by whoever is at the other end. That is almost
 * always a phone number, and its thread is the number in E.164 form
 * ("+15551234567"). Texts also come from senders that are not numbers: a
 * short code ("12345"), an alphanumeric sender ("VERIFY"), an address of
 * another channel ("whatsapp:+1..."). Such a sender gets a thread of its
 * own kind, written '@' and the sender's bytes, those outside
 * [A-Za-z0-9_-] as %XX (two capital hex digits): "@VERIFY", "@12345",
 * "@ACME%2EINFO". A name that would pass THREAD_MAX - 1 bytes is cut,
 * at a whole escape, to its first THREAD_KEEP bytes after the '@', and
 * ends with '~' and 16 lowercase hex digits of a BLAKE2b hash of the
 * whole sender. So a thread name is a safe file name (no '/', no '.',
 * never a leading '-', at most THREAD_MAX - 1 bytes), and a sender's
 * thread never equals a number's, which begins with '+'.
 *
 * A sender's thread can be listed and read like any other, but nothing is
 * ever sent to it: it is not a number.
 */
#ifndef THREAD_H
#define THREAD_H

#include "diag.h"

#define THREAD_MAX 32		/* a name and its NUL */
#define THREAD_KEEP 13		/* sender bytes kept in a hashed name */
#define THREAD_SENDER_MAX 256	/* bytes of a sender, at most */

/*
 * The thread of a message from `from`: its E.164 number if it normalises
 * as one (international form, country NULL), else its sender thread.
 * *is_number says which (may be NULL). A sender that is empty, only
 * white space, longer than THREAD_SENDER_MAX bytes, or holds a control
 * character (or is not UTF-8) is refused: -1 with errno EINVAL and e
 * filled. Returns 0.
 */
int thread_of_sender(const char *from, char out[THREAD_MAX], int *is_number,
    struct errbuf *e);

/*
 * Whether s is a thread name: an E.164 number ('+', 1 to 15 digits) or a
 * sender's thread ('@', then 1 to THREAD_MAX - 2 bytes of [A-Za-z0-9_%~-]).
 * Either is safe as a file name.
 */
int thread_valid(const char *s);

/* Whether s is a thread that is a phone number: '+' then digits. */
int thread_is_number(const char *s);

/*
 * A thread as a person or a record names it, into out: a sender's thread
 * as it is written ("@VERIFY"), else a phone number, normalised to E.164
 * in country (see phone_normalize()). Returns 0, or -1 with errno EINVAL
 * and e filled.
 */
int thread_parse(const char *in, const char *country, char out[THREAD_MAX],
    struct errbuf *e);

#endif
