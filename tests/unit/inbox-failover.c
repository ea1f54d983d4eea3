/*
 * inbox-failover.c: what a failover leaves in the inbox. inbox_sent_set()
 * records the provider a message went through, its sender and the
 * providers that failed (a null field removed); and a message is known
 * by its provider and that provider's id, so two providers' equal ids
 * never meet: each one's delivery report finds its own message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "inbox.h"
#include "record.h"
#include "tap.h"

#define C "+15551234567"

/* An outbound message to C, queued: its id. */
static char *
queued(struct inbox *ib, const char *body)
{
	struct inbox_delivery d;
	struct errbuf e;
	json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "message", "thread", C, "direction", "out", "from",
	    "+15550100000", "to", C, "body", body, "status", "queued");
	char *id = NULL;

	if (inbox_deliver(ib, m, 0, NULL, &d, &e) == 0)
		id = strdup(record_str(d.message, "id"));
	else
		printf("# %s\n", e.msg);
	inbox_delivery_free(&d);
	json_decref(m);
	return id;
}

int
main(void)
{
	char dir[] = "/tmp/smsdesk-failover-XXXXXX", cmd[64];
	struct inbox ib;
	struct errbuf e;
	json_t *m, *set;
	char *a, *b;

	if (!mkdtemp(dir) || inbox_open(&ib, dir, 1, &e) < 0)
		return ok(0, "an inbox"), tap_done();
	a = queued(&ib, "through the first");
	b = queued(&ib, "through the second");
	ok(a && b, "two messages queued");
	is_int(inbox_sent(&ib, C, a, "twilio", "ID-1", "queued", NULL, &m,
	    &e), 0, "the first taken by twilio as ID-1");
	json_decref(m);
	set = json_pack("{s:s,s:n,s:[{s:s,s:s,s:{s:s}}]}", "from",
	    "+15550100002", "messaging_service_sid", "failover", "provider",
	    "twilio", "from", "+15550100000", "error", "code", "transient");
	is_int(inbox_sent_set(&ib, C, b, "telnyx", "ID-1", "queued", NULL,
	    set, &m, &e), 0, "the second taken by telnyx as ID-1 too");
	is_str(record_str(m, "provider"), "telnyx", "its provider");
	is_str(record_str(m, "from"), "+15550100002", "its number");
	ok(!json_object_get(m, "messaging_service_sid"), "a null field: "
	    "none");
	is_str(record_str(json_array_get(json_object_get(m, "failover"), 0),
	    "provider"), "twilio", "the provider that failed");
	json_decref(m);
	json_decref(set);

	m = NULL;
	is_int(inbox_status(&ib, "telnyx", "ID-1", "delivered", NULL, &m, &e),
	    1, "telnyx's report of ID-1 applies");
	is_str(record_str(m, "id"), b, "... to telnyx's message");
	json_decref(m);
	m = NULL;
	is_int(inbox_status(&ib, "twilio", "ID-1", "sent", NULL, &m, &e), 1,
	    "twilio's report of ID-1 applies");
	is_str(record_str(m, "id"), a, "... to twilio's message");
	is_str(record_str(m, "status"), "sent", "... which is sent, not "
	    "delivered");
	json_decref(m);
	is_int(inbox_known_id(&ib, "telnyx", "ID-1"), 1, "the ledger: "
	    "telnyx's ID-1");
	is_int(inbox_known_id(&ib, "plivo", "ID-1"), 0, "no other's");
	inbox_close(&ib);
	free(a);
	free(b);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
