/*
 * provider-status.c: the order of message statuses.
 *
 * Status callbacks arrive late, twice, or out of order (providers.md 1.7),
 * so a stored status only moves forward. The ranks follow Twilio's words,
 * which the other providers' words are mapped to: the initial states
 * (accepted, scheduled, queued) first; then in flight (sending, and
 * receiving for an inbound message being assembled); then sent, handed to
 * the carrier; then the outcomes, which are final (delivered, undelivered,
 * failed; partially_delivered, an MMS that reached only some recipients;
 * canceled, a scheduled message withdrawn; received, an inbound message
 * complete); last read, which only a delivered message can reach.
 *
 * Providers add words over the years: one that is not listed here is
 * kept as it came, ranked after sent and before the outcomes, so that it
 * shows while the message is in flight and never hides an outcome
 * (sms-record(5) says so).
 *
 * A file of its own so that readers of the inbox, which need the order,
 * do not link the providers and their cryptography.
 */
#include <stddef.h>
#include <string.h>

#include "provider.h"

int
provider_status_rank(const char *status)
{
	static const struct {
		const char *word;
		int rank;
	} ranks[] = {
		{ "accepted", 0 }, { "scheduled", 0 }, { "queued", 0 },
		{ "sending", 1 }, { "receiving", 1 },
		{ "sent", 2 },
		{ "delivered", 3 }, { "undelivered", 3 }, { "failed", 3 },
		{ "partially_delivered", 3 }, { "canceled", 3 },
		{ "received", 3 },
		{ "read", 4 },
	};

	if (status == NULL)
		return -1;
	for (size_t i = 0; i < sizeof ranks / sizeof *ranks; i++)
		if (strcmp(ranks[i].word, status) == 0)
			return ranks[i].rank;
	return -1;
}

int
provider_status_order(const char *status)
{
	int rank = provider_status_rank(status);

	if (rank >= 0)
		return 2 * rank;
	if (status == NULL || strcmp(status, "unknown") == 0)
		return -1;
	return PROVIDER_STATUS_NEW;
}

int
provider_status_valid(const char *status)
{
	size_t n;

	if (status == NULL)
		return 0;
	n = strlen(status);
	return n >= 1 && n <= PROVIDER_STATUS_MAX &&
	    strspn(status, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}
