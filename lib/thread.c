/*
 * thread.c: thread names, for numbers and for senders that are not
 * numbers (the rules are in thread.h and smsdesk-inbox(5)).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "phone.h"
#include "thread.h"
#include "utf8.h"

#define HASH_BYTES 8		/* 16 hex digits */

/* A byte written as it is in a sender's thread. */
static int
plain(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z') || c == '_' || c == '-';
}

/* Refuse what cannot name anyone: empty, blank, control bytes, too long. */
static int
sender_ok(const char *from, struct errbuf *e)
{
	size_t n = strlen(from), i;
	int blank = 1;

	errno = EINVAL;
	if (n == 0)
		return errf(e, "empty sender");
	if (n > THREAD_SENDER_MAX)
		return errf(e, "sender longer than %d bytes",
		    THREAD_SENDER_MAX);
	if (utf8_valid_prefix(from, n) != n)
		return errf(e, "sender is not UTF-8");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)from[i];

		if (c < 0x20 || c == 0x7f)
			return errf(e, "sender holds control character "
			    "0x%02X", c);
		if (c != ' ')
			blank = 0;
	}
	if (blank)
		return errf(e, "sender is only white space");
	return 0;
}

int
thread_of_sender(const char *from, char out[THREAD_MAX], int *is_number,
    struct errbuf *e)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char h[HASH_BYTES];
	char num[PHONE_MAX];
	struct errbuf pe;
	size_t k = 1, cut = 1;
	const char *p;

	if (is_number)
		*is_number = 0;
	if (!from)
		return errno = EINVAL, errf(e, "no sender");
	if (phone_normalize(from, NULL, num, &pe) == 0) {
		memcpy(out, num, strlen(num) + 1);
		if (is_number)
			*is_number = 1;
		return 0;
	}
	if (sender_ok(from, e) < 0)
		return -1;
	out[0] = '@';
	for (p = from; *p; p++) {
		unsigned char c = (unsigned char)*p;
		size_t w = plain(c) ? 1 : 3;

		if (k + w > THREAD_MAX - 1)
			break;
		if (k + w <= 1 + THREAD_KEEP)
			cut = k + w;
		if (w == 1) {
			out[k++] = (char)c;
		} else {
			out[k++] = '%';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		}
	}
	if (!*p) {
		out[k] = '\0';
		return 0;
	}
	/* Too long to be written whole: a prefix, and the whole's hash. */
	if (sodium_init() < 0)
		return errno = ENOMEM, errf(e, "cannot initialise libsodium");
	crypto_generichash(h, sizeof h, (const unsigned char *)from,
	    strlen(from), NULL, 0);
	k = cut;
	out[k++] = '~';
	for (size_t i = 0; i < sizeof h; i++)
		k += (size_t)snprintf(out + k, 3, "%02x", h[i]);
	return 0;
}

int
thread_is_number(const char *s)
{
	size_t n = 0;

	if (!s || *s++ != '+')
		return 0;
	for (; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return 0;
	return n >= 1 && n <= 15;
}

int
thread_valid(const char *s)
{
	size_t n;

	if (thread_is_number(s))
		return 1;
	if (!s || *s != '@')
		return 0;
	n = strlen(++s);
	return n >= 1 && n <= THREAD_MAX - 2 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_%~-") == n;
}

int
thread_parse(const char *in, const char *country, char out[THREAD_MAX],
    struct errbuf *e)
{
	char num[PHONE_MAX];
	struct errbuf pe;

	if (in && *in == '@') {
		if (!thread_valid(in))
			return errno = EINVAL, errf(e, "not a thread name: a "
			    "sender's thread is '@' and at most %d of "
			    "A-Z a-z 0-9 _ - %% ~", THREAD_MAX - 2);
		memcpy(out, in, strlen(in) + 1);
		return 0;
	}
	if (phone_normalize(in ? in : "", country, num, &pe) < 0)
		return errno = EINVAL, errf(e, "%s (a sender that is not a "
		    "number has a thread written @NAME, as inbox-ls lists it)",
		    pe.msg);
	memcpy(out, num, strlen(num) + 1);
	return 0;
}
