#!/bin/sh
# The whole loop, as tests/demo.sh runs it: sms-sim plays Twilio and the
# customers, sms-recv takes its webhooks and delivery reports into an
# inbox, an agent reads the thread with inbox-ls, answers with sms-send,
# and resolves it with inbox-mark. And a customer who texts STOP: sms-recv
# records it, sms-send sends nothing more, the sim confirms it once.
#
# Both servers bind 127.0.0.1 on random free ports and are killed, by PID,
# on exit. Waits poll with a timeout, never a fixed sleep.
. "$(dirname "$0")/lib.sh"

twilio_env 0550
SMSDESK_INBOX=$tmp/inbox
export SMSDESK_INBOX

# sent TO: the sim's messages to TO, newest first, [direction, from, body]
# a line.
sent() {
	curl -s -u "$AC:$TOK" -G --data-urlencode "To=$1" \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json" |
	    jq -c '.messages[] | [.direction, .from, .body]'
}

serve "$tmp/recv.out" "$tmp/recv.err" sms-recv ||
	{ fail 'sms-recv starts'; done_testing; }
SMSDESK_PUBLIC_URL=http://127.0.0.1:$port	# sms-send asks for reports
export SMSDESK_PUBLIC_URL
serve "$tmp/sim.out" "$tmp/sim.err" sms-sim --number "$US" \
	--webhook "$SMSDESK_PUBLIC_URL/twilio" --log "$tmp/sim.log" ||
	{ fail 'sms-sim starts'; done_testing; }
TWILIO_API_URL=http://127.0.0.1:$port SMSDESK_SIM_URL=http://127.0.0.1:$port
export TWILIO_API_URL SMSDESK_SIM_URL
pass 'sms-recv and sms-sim start'

# --- A customer writes, an agent answers, the report comes back -------------

C=+15551230001
check 'a customer texts in (sms-sim text)' \
	"sms-sim text $C 'Where is my order 1042?' >'$tmp/text.out'"
is 'the queue shows the conversation, open and unread, waiting' \
	"$(inbox-ls --json | jq -c '[.thread, .status, .unread, .last_body, (.waiting_since != null)]')" \
	"[\"$C\",\"open\",1,\"Where is my order 1042?\",true]"
is 'the thread holds the text, with the sid the sim gave it' \
	"$(inbox-ls --json --no-mark $C | jq -r 'select(.direction == "in") | .provider_id')" \
	"$(jq -r .sid "$tmp/text.out")"
check 'the agent answers (sms-send --thread)' \
	"sms-send --thread $C 'It ships today.' >'$tmp/send.out'"
# Queued, or already further on: the sim's report may reach sms-recv
# before sms-send has stored its answer, and then the answer is stored
# with it (sms-record(5), parked statuses).
is 'accepted by the sim, with its sid' \
	"$(jq -c '[(.status | IN("queued", "sent", "delivered")),
	    (.provider_id | test("^SM[0-9a-f]{32}$"))]' "$tmp/send.out")" \
	'[true,true]'
is 'the create asked for reports at sms-recv' \
	"$(jq -r 'select(.status == 201) | .params.StatusCallback' "$tmp/sim.log")" \
	"$SMSDESK_PUBLIC_URL/twilio"
check 'the delivery report comes back: the answer is delivered' \
	"poll \"inbox-ls --json --no-mark $C | jq -e 'select(.direction == \\\"out\\\") | .status == \\\"delivered\\\"'\""
is 'the report is the answer'"'"'s, by its sid' \
	"$(inbox-ls --json --no-mark $C | jq -r 'select(.direction == "out") | .provider_id')" \
	"$(jq -r .provider_id "$tmp/send.out")"
check 'and the outbox is empty' \
	"poll \"[ -d '$SMSDESK_INBOX/outbox' ] && [ -z \\\"\\\$(outbox_ids '$SMSDESK_INBOX')\\\" ]\""
is 'the conversation has its first response' \
	"$(inbox-ls --json --all | jq -c '[.messages, (.first_response_at != null), .waiting_since]')" \
	'[2,true,null]'
check 'inbox-mark --resolve' "inbox-mark --resolve $C >/dev/null"
is 'the conversation is resolved' \
	"$(inbox-ls --json --all | jq -c '[.thread, .status]')" "[\"$C\",\"resolved\"]"
is 'and out of the queue' "$(inbox-ls --json | wc -l | tr -d ' ')" 0

# --- A customer opts out ------------------------------------------------------

S=+15551230004
UNSUB='You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.'
check 'a customer texts STOP' "sms-sim text $S STOP >/dev/null"
is 'sms-recv records the opt-out in the consent ledger' \
	"$(cat "$SMSDESK_INBOX/consent/$S"/* 2>/dev/null | jq -c '[.state, .keyword]')" \
	'["out","STOP"]'
check_fail 'sms-send --to that customer fails' \
	"sms-send --to $S 'Our summer sale starts today!' >'$tmp/optout.out'"
is 'with error opted_out' "$(jq -r .error.code "$tmp/optout.out")" opted_out
is 'and the sim got no create to that number' "$(creates sim $S)" 0
is 'the customer got one confirmation, the sim'"'"'s (sms-recv sent none)' \
	"$(sent $S | grep -v '"inbound"')" "[\"outbound-reply\",\"$US\",\"$UNSUB\"]"
is 'the sim got one create in all, the agent'"'"'s' \
	"$(jq -s '[.[] | select(.status == 201)] | length' "$tmp/sim.log")" 1

done_testing
