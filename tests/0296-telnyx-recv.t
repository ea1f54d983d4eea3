#!/bin/sh
# sms-recv --provider telnyx (issue 19): Telnyx's webhooks, JSON signed
# with Ed25519 over "timestamp|body" (tests/tools/telnyx-sign, a key pair
# from a test seed), posted to the listener's /telnyx. An inbound SMS and
# an MMS are stored, a retried webhook once; a forged signature and a
# timestamp outside the 300 s window are refused with 403 and store
# nothing; message.sent and message.finalized move a message sms-send
# sent through Telnyx (its API played by tests/tools/answer) forward.
. "$(dirname "$0")/lib.sh"

twilio_env 0296
unset TELNYX_API_KEY TELNYX_FROM TELNYX_MESSAGING_PROFILE_ID \
    TELNYX_API_URL TELNYX_PUBLIC_KEY

ib=$tmp/inbox
A=+15551230001
SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
FORGER=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100
TELNYX_PUBLIC_KEY=$("$tools/telnyx-sign" --public "$SEED")
export TELNYX_PUBLIC_KEY

# (A deadline: a listener that started would serve until killed.)
TELNYX_PUBLIC_KEY=A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMQ== timeout 60 \
    "$bin/sms-recv" -d "$ib" --provider telnyx --listen 127.0.0.1:0 \
    2>"$tmp/bad.err"
is 'a public key of 31 bytes: the listener does not start, 78' "$?" 78
check 'and says why' "grep -q 'TELNYX_PUBLIC_KEY or telnyx_public_key: .*32-byte' '$tmp/bad.err'"
check 'nothing made' "! test -e '$ib'"

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider telnyx || { fail 'the listener starts'; done_testing; }
lport=$port lpid=$server

# tpost BODY [TIMESTAMP [SEED]]: POST the JSON BODY to the listener's
# /telnyx, signed with SEED's key (default: ours) at TIMESTAMP (default:
# now). Prints the HTTP status; the answer's body is in $tmp/resp.
tpost() {
	printf '%s\n' "$1" >"$tmp/body"
	"$tools/telnyx-sign" "${3:-$SEED}" ${2:+"$2"} <"$tmp/body" >"$tmp/hdr"
	curl -s -o "$tmp/resp" -w '%{http_code}' -H @"$tmp/hdr" \
	    -H 'Content-Type: application/json' --data-binary @"$tmp/body" \
	    "http://127.0.0.1:$lport/telnyx"
}

# inbound ID TEXT [MEDIA-JSON [ATTEMPT]]: a message.received event from $A.
inbound() {
	jq -cn --arg id "$1" --arg text "$2" --argjson media "${3:-[]}" \
	    --arg from "$A" --argjson attempt "${4:-1}" '{data: {record_type:
	    "event", id: ("ev-" + $id + "-" + ($attempt | tostring)),
	    event_type: "message.received",
	    occurred_at: "2026-11-22T10:00:00.000Z", payload: {record_type:
	    "message", direction: "inbound", id: $id, type: "SMS", from:
	    {phone_number: $from, carrier: "T-MOBILE USA, INC.", line_type:
	    "Wireless"}, to: [{phone_number: "+15550100000", status:
	    "delivered"}], text: $text, media: $media, parts: 1, errors: []}},
	    meta: {attempt: $attempt}}'
}

# recs NUM: the current record of each message of NUM (a message's file
# holds its history, the last line now); nmsg NUM: how many came in.
recs() {
	for r_f in "$ib"/msg/"$1"/*; do
		[ -f "$r_f" ] && tail -n 1 "$r_f"
	done
}
nmsg() { recs "$1" | grep -c '"direction":"in"'; }

is 'an inbound SMS: 200' "$(tpost "$(inbound tx-1 'Where is my order?')")" 200
is 'with an empty answer (Telnyx takes no reply in it)' \
	"$(wc -c <"$tmp/resp")" 0
is 'stored: from, to, body, provider, its id' \
	"$(recs $A | jq -c 'select(.direction == "in") | [.from, .to, .body, .provider, .provider_id, .segments]')" \
	"[\"$A\",\"+15550100000\",\"Where is my order?\",\"telnyx\",\"tx-1\",1]"

is 'the same webhook again, a retry (attempt 2, signed anew): 200' \
	"$(tpost "$(inbound tx-1 'Where is my order?' '[]' 2)")" 200
is 'stored once' "$(nmsg $A)" 1

M=http://127.0.0.1:9/media
is 'an MMS with two media items: 200' \
	"$(tpost "$(inbound tx-2 'the receipt' "[{\"url\":\"$M/a.jpg\",\"content_type\":\"image/jpeg\",\"size\":10},{\"url\":\"$M/b.pdf\",\"content_type\":\"application/pdf\"}]")")" 200
is 'its media on the record, in order' \
	"$(recs $A | jq -c 'select(.provider_id == "tx-2") | .media | map([.url, .content_type])')" \
	"[[\"$M/a.jpg\",\"image/jpeg\"],[\"$M/b.pdf\",\"application/pdf\"]]"
is 'two messages now' "$(nmsg $A)" 2

now=$(date +%s)
is 'signed by another key: 403' \
	"$(tpost "$(inbound tx-3 forged)" '' "$FORGER")" 403
is 'a timestamp 400 s old: 403' \
	"$(tpost "$(inbound tx-4 replayed)" $((now - 400)))" 403
is 'a timestamp 400 s ahead: 403' \
	"$(tpost "$(inbound tx-5 early)" $((now + 400)))" 403
is 'nothing of them stored' "$(nmsg $A)" 2
check 'the log says why' \
	"grep -q 'does not match' '$tmp/L.err' && grep -q 'outside the 300 s window' '$tmp/L.err'"
printf '%s\n' "$(inbound tx-6 unsigned)" >"$tmp/body"
is 'no signature headers: 403' "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' --data-binary @"$tmp/body" \
	"http://127.0.0.1:$lport/telnyx")" 403
is 'the Twilio path is not served by a Telnyx listener: 404' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'a=b' \
	"http://127.0.0.1:$lport/twilio")" 404
is 'an event it does not handle (message.read): 400' \
	"$(tpost '{"data":{"event_type":"message.read","id":"e","payload":{"id":"tx-7"}}}')" 400
is 'a body that is not JSON, signed: 400' "$(tpost 'MessageSid=SM1')" 400
is 'still two messages' "$(nmsg $A)" 2

# HELP and STOP: recorded. Telnyx takes no reply in the answer, so the
# answer to HELP (help has a text by default) is scheduled for now, for
# sms-send --due to send through Telnyx's API within the hour; STOP has
# no confirmation unless stop_text is set.
B=+15551230002
A=$B
is 'HELP: 200' "$(tpost "$(inbound tx-8 HELP)")" 200
check 'with an empty answer' "[ ! -s '$tmp/resp' ]"
is 'STOP: 200' "$(tpost "$(inbound tx-9 STOP)")" 200
check 'the opt-out is recorded' \
	"recs $B | jq -e 'select(.direction == \"in\" and .provider_id == \"tx-9\") | .keyword == \"STOP\"' >/dev/null"
is 'one automatic reply is stored: HELP'"'"'s, scheduled' \
	"$(recs $B | jq -c 'select(.direction == "out") | [.auto, .status, .purpose]')" \
	'["help","scheduled","notification"]'
is 'due now, within the hour' \
	"$(recs $B | jq 'select(.direction == "out") |
	    (.expires_at | fromdate) - (.send_at | fromdate)')" 3600
HID=5c4e0d9a-0000-4000-8000-000000000296
serve "$tmp/due.out" "$tmp/due.err" "$tools/answer" \
    "{\"data\":{\"record_type\":\"message\",\"id\":\"$HID\",\"to\":[{\"phone_number\":\"$B\",\"status\":\"queued\"}],\"errors\":[]}}" ||
    { fail 'the API starts'; done_testing; }
SMSDESK_PROVIDER=telnyx TELNYX_API_KEY=KEY0296 TELNYX_FROM=+15550100000 \
    TELNYX_API_URL=http://127.0.0.1:$port \
    sms-send -d "$ib" --due --quiet-hours >"$tmp/send.out" 2>"$tmp/send.err"
is 'sms-send --due: exit 0' "$?" 0
is 'it sent HELP'"'"'s answer, though the number opted out since' \
	"$(grep '^{' "$tmp/due.out" | jq -c '[.to, (.text | startswith("Text us here"))]')" \
	"[\"$B\",true]"
is 'stored as Telnyx took it' \
	"$(recs $B | jq -c 'select(.direction == "out") | [.provider_id, .status]')" \
	"[\"$HID\",\"queued\"]"
kill "$server"
A=+15551230001

# A message sent through Telnyx (its API: tests/tools/answer), then its
# status webhooks.
PID=40385f64-5717-4562-b3fc-2c963f66afa6
serve "$tmp/api.out" "$tmp/api.err" "$tools/answer" \
    "{\"data\":{\"record_type\":\"message\",\"id\":\"$PID\",\"to\":[{\"phone_number\":\"$A\",\"status\":\"queued\"}],\"errors\":[]}}" ||
    { fail 'the API starts'; done_testing; }
SMSDESK_PROVIDER=telnyx TELNYX_API_KEY=KEY0296 TELNYX_FROM=+15550100000 \
    TELNYX_API_URL=http://127.0.0.1:$port \
    sms-send -d "$ib" --to $A 'It ships today.' >"$tmp/send.out" 2>"$tmp/send.err"
is 'sms-send --provider telnyx: exit 0' "$?" 0
out() { recs $A | jq -c 'select(.direction == "out") | [.provider, .provider_id, .status]'; }
is 'the message is stored as Telnyx took it' "$(out)" \
	"[\"telnyx\",\"$PID\",\"queued\"]"

# status EVENT STATUS [ERRORS [ID]]: message.sent or .finalized for ID
# (default: $PID).
status() {
	jq -cn --arg ev "$1" --arg st "$2" --arg id "${4:-$PID}" --arg to "$A" \
	    --argjson errors "${3:-[]}" '{data: {record_type: "event", id:
	    ("ev-" + $ev + $st), event_type: $ev, payload: {record_type:
	    "message", direction: "outbound", id: $id, from: {phone_number:
	    "+15550100000"}, to: [{phone_number: $to, status: $st}], errors:
	    $errors}}, meta: {attempt: 1}}'
}
is 'message.sent: 200' "$(tpost "$(status message.sent sent)")" 200
is 'the message is sent' "$(out)" "[\"telnyx\",\"$PID\",\"sent\"]"
is 'message.finalized, delivered: 200' \
	"$(tpost "$(status message.finalized delivered)")" 200
is 'the message is delivered' "$(out)" "[\"telnyx\",\"$PID\",\"delivered\"]"
is 'a late message.sent: 200' "$(tpost "$(status message.sent sent)")" 200
is 'moves nothing back' "$(out)" "[\"telnyx\",\"$PID\",\"delivered\"]"
is 'a finalized for a message we do not know: 200' \
	"$(tpost "$(status message.finalized delivery_failed \
	    '[{"code":"40006","title":"unavailable"}]' unknown-1)")" 200
check 'parked in status/, in our words, with its code' \
	"jq -e '.status == \"undelivered\" and .error_code == \"40006\"' '$ib/status/telnyx-unknown-1' >/dev/null"

# Without the listener: a file of webhook bodies, one a line.
{
	inbound tx-10 'from a file'
	status message.finalized delivered
} >"$tmp/events"
A=+15551230003
inbound tx-11 'from a file too' >>"$tmp/events"
printf 'not json\n' >>"$tmp/events"
sms-recv -d "$ib" --provider telnyx "$tmp/events" >"$tmp/file.out" \
    2>"$tmp/file.err"
is 'sms-recv --provider telnyx FILE: exit 1 (a line was bad)' "$?" 1
is 'its messages stored' "$(nmsg +15551230001):$(nmsg +15551230003)" 3:1
check 'the bad line is said with its place' \
	"grep -q 'events:4:' '$tmp/file.err'"

kill "$lpid"
wait "$lpid"
is 'the listener stops on SIGTERM with status 0' "$?" 0

# The window is the listener's clock: SMSDESK_NOW's when it is set.
serve "$tmp/N.out" "$tmp/N.err" env SMSDESK_NOW=2024-11-22T15:40:00Z \
    "$bin/sms-recv" -d "$ib" --provider telnyx ||
    { fail 'a listener at SMSDESK_NOW starts'; done_testing; }
lport=$port
A=+15551230005
is 'signed 300 s before its now (1732290000): 200' \
	"$(tpost "$(inbound tx-20 then)" 1732289700)" 200
is 'signed at the real now: 403' "$(tpost "$(inbound tx-21 now)")" 403
is 'one stored' "$(nmsg $A)" 1

done_testing
