#!/bin/sh
# sms-send through Telnyx (issue 19): POST /v2/messages, JSON, the API key
# as a bearer token (and nowhere else); its answers: taken, 40300 (opted
# out, into the consent ledger), 429 (throttled), an answer without an id
# (unknown); --reconcile with a provider that lists no messages. Telnyx's
# API is played by tests/tools/answer, which logs each request.
. "$(dirname "$0")/lib.sh"

twilio_env 0297
unset TELNYX_MESSAGING_PROFILE_ID TELNYX_API_URL TELNYX_PUBLIC_KEY
SMSDESK_PROVIDER=telnyx TELNYX_API_KEY=KEY-0297-secret TELNYX_FROM=$US
SMSDESK_PUBLIC_URL=https://pub.example/sms
export SMSDESK_PROVIDER TELNYX_API_KEY TELNYX_FROM SMSDESK_PUBLIC_URL

ib=$tmp/inbox
mkinbox "$ib"
A=+15551230001 B=+15551230002 C=+15551230003 D=+15551230004
PID=40385f64-5717-4562-b3fc-2c963f66afa6

# api NAME BODY [STATUS]: Telnyx's API answering BODY (with STATUS to a
# POST, default 201), its requests logged in $tmp/NAME.out; sets
# TELNYX_API_URL.
api() {
	ANSWER_STATUS=${3-} serve "$tmp/$1.out" "$tmp/$1.err" \
	    "$tools/answer" "$2" || return 1
	TELNYX_API_URL=http://127.0.0.1:$port
	export TELNYX_API_URL
}
recs() {
	for r_f in "$ib"/msg/"$1"/*; do
		[ -f "$r_f" ] && tail -n 1 "$r_f"
	done
}

api ok "{\"data\":{\"record_type\":\"message\",\"id\":\"$PID\",\"to\":[{\"phone_number\":\"$A\",\"status\":\"queued\"}],\"errors\":[]}}" ||
    { fail 'the API starts'; done_testing; }
sms-send -d "$ib" --to $A 'It ships "today".' >"$tmp/out" 2>"$tmp/err"
is 'a send through Telnyx: exit 0' "$?" 0
check 'POST /v2/messages' "grep -q '^POST /v2/messages HTTP' '$tmp/ok.out'"
check 'with the key as a bearer token' \
	"grep -q '^Authorization: Bearer KEY-0297-secret' '$tmp/ok.out'"
check 'of JSON' "grep -qi '^Content-Type: application/json' '$tmp/ok.out'"
is 'the body: to, from, text and webhook_url' \
	"$(grep '^{' "$tmp/ok.out" | jq -c '[.to, .from, .text, .webhook_url, .messaging_profile_id]')" \
	"[\"$A\",\"$US\",\"It ships \\\"today\\\".\",\"https://pub.example/sms/telnyx\",null]"
is 'stored as Telnyx took it' \
	"$(recs $A | jq -c '[.provider, .provider_id, .status]')" \
	"[\"telnyx\",\"$PID\",\"queued\"]"
check 'the key is not in what sms-send printed' \
	"! grep -q 'KEY-0297' '$tmp/out' '$tmp/err'"

# A messaging profile instead of a number.
TELNYX_FROM= sms-send -d "$ib" --messaging-service prof-0297 --to $B hi \
    >/dev/null 2>"$tmp/err"
is 'from a messaging profile: exit 0' "$?" 0
is 'the body names the profile, no from' \
	"$(grep '^{' "$tmp/ok.out" | tail -n 1 | jq -c '[.from, .messaging_profile_id]')" \
	'[null,"prof-0297"]'
kill "$server"

# 40300: the recipient sent STOP to Telnyx.
api stop '{"errors":[{"code":"40300","title":"Blocked due to STOP message","detail":"Messages cannot be sent due to an existing block rule."}]}' \
    '400 Bad Request' || { fail 'the API starts'; done_testing; }
sms-send -d "$ib" --to $C 'A reminder' >"$tmp/out" 2>"$tmp/err"
check '40300: not exit 0' "test $? -ne 0"
is 'the message failed, opted out, with Telnyx code and detail' \
	"$(recs $C | jq -c '[.status, .error.code, .error.provider_code, .error.message]')" \
	'["failed","opted_out",40300,"Messages cannot be sent due to an existing block rule."]'
check 'the opt-out is in the consent ledger' \
	"cat '$ib'/consent/$C/* | jq -se 'any(.[]; .state == \"out\")' >/dev/null"
n=$(grep -c '^POST ' "$tmp/stop.out")
sms-send -d "$ib" --to $C 'Another' >/dev/null 2>&1
is 'the next send to that number asks nothing of Telnyx' \
	"$(grep -c '^POST ' "$tmp/stop.out")" "$n"
kill "$server"

# 429: throttled, not sent, to try again.
api busy '{"errors":[{"code":"10011","title":"Too many requests"}]}' \
    '429 Too Many Requests' || { fail 'the API starts'; done_testing; }
sms-send -d "$ib" --retries 0 --to $D 'Busy?' >"$tmp/out" 2>"$tmp/err"
is '429 without retries: exit 75' "$?" 75
check 'said as throttled' "grep -q throttled '$tmp/out' '$tmp/err'"
kill "$server"

# An answer without an id: unknown, and no list to look it up in.
api noid '{"data":{}}' || { fail 'the API starts'; done_testing; }
sms-send -d "$ib" --to $D 'Lost answer' >"$tmp/out" 2>"$tmp/err"
is 'a 2xx without an id: stored unknown' \
	"$(recs $D | jq -r 'select(.body == "Lost answer") | .status')" unknown
sms-send -d "$ib" --reconcile >"$tmp/out" 2>"$tmp/err"
rc=$?
check '--reconcile does not crash' "test $rc -lt 128"
check 'it says that Telnyx lists no messages' \
	"grep -q 'lists no messages' '$tmp/err'"
is 'the message stays unknown' \
	"$(recs $D | jq -r 'select(.body == "Lost answer") | .status')" unknown

done_testing
