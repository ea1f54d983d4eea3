/*
 * failover.c: a list of providers (provider = A, B), and the
 * cool-down of one that failed.
 *
 * A message goes through the first provider of the list; multi.c sends
 * it through the next when one fails before taking it (sms-send(1),
 * Failover, says which failures). A provider that failed is skipped for
 * s->cooldown seconds by every run through the inbox: until when is kept
 * in rate/@NAME as a decimal time, read and written under flock(2) (the
 * way rate/SENDER keeps a pace). An empty or missing file is a provider
 * in good standing. Once the time has passed, the next message to pick
 * the provider is its probe: the file is moved on by the probe's own
 * time (the request's timeout) so that the others keep skipping it
 * meanwhile, and the probe's outcome clears it (failover_ok()) or cools
 * it again (failover_cool()). So an outage costs about one failed
 * request a cool-down, whatever the number of messages and runs.
 *
 * With one provider there is nothing of this: no file, no cool-down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "inbox.h"
#include "record.h"
#include "send.h"

#define PROBE_SLACK 5.0		/* seconds a probe is given past the
				   request's timeout */

struct provider_account *
send_account(struct send *s, int i)
{
	return i <= 0 || (size_t)i > s->nalt ? &s->acct : &s->alt[i - 1];
}

/*
 * The file of provider i, rate/@NAME, locked exclusively: its descriptor,
 * or -1 (none yet without create: errno ENOENT; else said).
 */
static int
cool_open(struct send *s, int i, int create)
{
	char rel[64];
	struct errbuf e;
	int fd;

	if (!s->have_inbox)
		return errno = ENOENT, -1;
	snprintf(rel, sizeof rel, "rate/@%s", send_account(s, i)->pv->name);
	if ((fd = inbox_open_file(&s->ib, rel, O_RDWR | (create ? O_CREAT :
	    0), &e)) < 0) {
		if (errno != ENOENT || create)
			send_warn(s, "%s", e.msg);
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0) {
		send_warn(s, "%s/%s: %s", s->ib.dir, rel, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Until when the file says its provider is skipped: 0 for no time. */
static double
cool_read(int fd)
{
	char text[64];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtod(text, NULL);
}

/* Write until (0: empty, in good standing) into the file. */
static void
cool_write(struct send *s, int fd, double until)
{
	char text[64];
	int len = until > 0 ? snprintf(text, sizeof text, "%.6f\n", until) :
	    0;

	if ((len && pwrite(fd, text, (size_t)len, 0) != len) ||
	    ftruncate(fd, len) < 0)
		send_warn(s, "%s/rate: the cool-down: %s", s->ib.dir,
		    strerror(errno));
}

int
failover_pick(struct send *s, unsigned tried, const char *from, int *probe)
{
	double now = rate_now(), until, first = 0;
	int n = (int)s->nalt + 1, best = -1, fd, own = -1;

	*probe = 0;
	if (n == 1)
		return tried & 1 ? -1 : 0;
	/* The provider whose number from is, if it is in good standing. */
	for (int i = 0; from && i < n; i++)
		if (send_account(s, i)->from && !(tried & (1u << i)) &&
		    strcmp(send_account(s, i)->from, from) == 0)
			own = i;
	if (own >= 0 && (fd = cool_open(s, own, 0)) < 0)
		return own;
	if (own >= 0) {
		until = cool_read(fd);
		close(fd);
		if (until <= 0)
			return own;
	}
	for (int i = 0; i < n; i++) {
		if (tried & (1u << i))
			continue;
		if ((fd = cool_open(s, i, 0)) < 0)
			return i;	/* never failed, or cannot be told */
		if ((until = cool_read(fd)) <= 0) {
			close(fd);
			return i;
		}
		if (until <= now) {
			/* Its time is over: this message probes it. */
			cool_write(s, fd, now + (double)s->timeout +
			    PROBE_SLACK);
			close(fd);
			*probe = 1;
			return i;
		}
		close(fd);
		if (best < 0 || until < first) {
			best = i;
			first = until;
		}
	}
	/* Every one left is cooling down: the one that ends first. */
	*probe = best >= 0;
	return best;
}

void
failover_cool(struct send *s, int i, double secs, const json_t *err)
{
	double now = rate_now(), until, was;
	int fd;

	/* failover_cooldown 0: never skipped, unless it asked for a wait. */
	if (!s->nalt || (secs <= 0 && s->cooldown <= 0))
		return;
	until = now + (secs > s->cooldown ? secs : s->cooldown);
	if ((fd = cool_open(s, i, 1)) < 0)
		return;
	was = cool_read(fd);
	if (was < until)
		cool_write(s, fd, until);
	close(fd);
	/* Said once a cool-down, not once a message. */
	if (was <= now)
		send_warn(s, "provider %s failed (%s%s%s): skipped for %.0f s",
		    send_account(s, i)->pv->name, record_str(err, "code") ?
		    record_str(err, "code") : "?", record_str(err, "message") ?
		    ": " : "", record_str(err, "message") ?
		    record_str(err, "message") : "", until - now);
}

void
failover_ok(struct send *s, int i)
{
	int fd;

	if (!s->nalt || (fd = cool_open(s, i, 0)) < 0)
		return;
	/* A fresh failure meanwhile (longer than a probe's time) stays. */
	if (cool_read(fd) <= rate_now() + (double)s->timeout + PROBE_SLACK)
		cool_write(s, fd, 0);
	close(fd);
}
