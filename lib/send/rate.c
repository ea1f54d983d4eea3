/*
 * rate.c: --rate, one request a slot, and the clock the waits are on.
 *
 * The next free slot of a sender is kept in the inbox, in rate/SENDER,
 * so that every process sending from that number through the same inbox
 * shares the rate. The retries' backoff is timed on the same clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "inbox.h"
#include "send.h"
#include "send/multi.h"

/* The time of day, in seconds. */
double
rate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Take the next free slot of this sender: *at gets its time, which may be
 * to come (the caller waits for it). The last slot taken is kept in
 * rate/SENDER as a decimal time, under flock(2), so every process sending
 * from that number through this inbox shares it; each takes its next slot
 * one interval of its own rate after it, so a slow run leaves no long
 * wait behind for a faster one. Without --rate, *at is now. Returns 0, or
 * -1 with e filled.
 */
int
rate_slot(struct send *s, double *at, struct errbuf *e)
{
	char rel[96], text[64];
	const char *sender = s->acct.from ? s->acct.from : s->acct.service;
	double now, last = 0, slot;
	ssize_t n;
	int fd, len;

	*at = rate_now();
	if (s->rate <= 0)
		return 0;
	/* rate/ is made with the inbox; a link there is never followed. */
	snprintf(rel, sizeof rel, "rate/%s", sender);
	if ((fd = inbox_open_file(&s->ib, rel, O_RDWR | O_CREAT, e)) < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0 ||
	    (n = pread(fd, text, sizeof text - 1, 0)) < 0) {
		errf(e, "%s/%s: %s", s->ib.dir, rel, strerror(errno));
		close(fd);
		return -1;
	}
	text[n] = '\0';
	if (n > 0)
		last = strtod(text, NULL);
	now = rate_now();
	slot = last + 1.0 / s->rate;
	if (slot < now)
		slot = now;
	len = snprintf(text, sizeof text, "%.6f\n", slot);
	if (pwrite(fd, text, (size_t)len, 0) != len ||
	    ftruncate(fd, len) < 0) {
		errf(e, "%s/%s: %s", s->ib.dir, rel, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*at = slot;
	return 0;
}
