#!/bin/sh
# sms-recv --provider vonage: Vonage's SMS API webhooks, signed as Vonage
# signs them (tests/tools/vonage-sign, the secret in
# VONAGE_SIGNATURE_SECRET, never on a command line), to a listener on
# 127.0.0.1: inbound by GET and by POST stored with numbers in E.164, a
# forged, an expired and a replayed request refused, long messages that
# come a part a webhook made whole in any order, across a kill -9 of the
# listener and across a crash between the store and the cleanup, a
# retried part taken once.
. "$(dirname "$0")/lib.sh"

twilio_env 0299
unset VONAGE_API_KEY VONAGE_API_SECRET VONAGE_FROM VONAGE_API_URL
VONAGE_SIGNATURE_SECRET=vsec-0299 VONAGE_SIGNATURE_METHOD=sha256
export VONAGE_SIGNATURE_SECRET VONAGE_SIGNATURE_METHOD

ib=$tmp/inbox

is 'vonage-sign: providers.md'\''s md5hash vector' \
	"$(printf '%s' 'msisdn=447700900001&to=447700900000&messageId=0A0000000123ABCD1&text=Hello%26goodbye%3Dx&type=text&keyword=HELLO&api-key=abcd1234&message-timestamp=2020-01-01_12%3A00%3A00&timestamp=1578787200&nonce=aaaaaaaa-bbbb-cccc-dddd-0123456789ab' |
	    VONAGE_SIGNATURE_SECRET=s3cr3t "$tools/vonage-sign" md5hash | sed 's/.*&sig=//')" \
	'270da357b6bf522483d351176be4230d'

# vsign FORM: FORM with a fresh timestamp and nonce (a subshell's
# counter would repeat: the clock's nanoseconds), signed.
vsign() {
	printf '%s&timestamp=%s&nonce=n%s-%s' "$1" "$(date +%s)" \
	    "$(date +%s%N)" "$$" |
	    "$tools/vonage-sign" "${method:-sha256}"
}

# vpost SIGNED-FORM, vget SIGNED-FORM: the request; prints the status.
vpost() {
	curl -s -o "$tmp/resp" -w '%{http_code}' --data-binary "$1" \
	    "http://127.0.0.1:$port/vonage"
}
vget() {
	curl -s -o "$tmp/resp" -w '%{http_code}' \
	    "http://127.0.0.1:$port/vonage?$1"
}

# inbound FROM ID TEXT [REF PART TOTAL]: an inbound SMS to our number.
inbound() {
	printf 'msisdn=%s&to=447700900000&messageId=%s&text=%s&type=text&keyword=X&message-timestamp=2026-12-06+12%%3A00%%3A00' \
	    "$1" "$2" "$3"
	[ -z "${4-}" ] ||
	    printf '&concat=true&concat-ref=%s&concat-part=%s&concat-total=%s' \
	    "$4" "$5" "$6"
}

nmsg() { ls "$ib/msg/$1" 2>/dev/null | wc -l | tr -d ' '; }
last() { tail -n 1 "$ib/msg/$1/$(ls "$ib/msg/$1" | tail -n 1)"; }
nparts() { ls "$ib/parts" 2>/dev/null | wc -l | tr -d ' '; }

start() {
	serve "$tmp/recv.out" "$tmp/recv.err" "$bin/sms-recv" -d "$ib" \
	    --provider vonage || fail 'sms-recv --provider vonage listens'
	recv=$server
}
start

A=+447700900001
is 'a signed GET inbound: 200' \
	"$(vget "$(vsign "$(inbound 447700900001 in-0001 hello+there)")")" 200
is 'stored in the thread of its sender, in E.164' "$(nmsg $A)" 1
is 'its record' "$(last $A | jq -c '[.from, .to, .body, .provider, .provider_id]')" \
	'["+447700900001","+447700900000","hello there","vonage","in-0001"]'
is 'the answer is empty' "$(wc -c <"$tmp/resp" | tr -d ' ')" 0
check 'its log line has the path, not the number and text of its query' \
	"grep -q 'GET /vonage?\\.\\.\\. 200' '$tmp/recv.err' &&
	 ! grep -q '447700900001\\|hello' '$tmp/recv.err'"
is 'a signed POST inbound: 200' \
	"$(vpost "$(vsign "$(inbound 447700900001 in-0002 by+post)")")" 200
is 'stored' "$(nmsg $A)" 2
is 'its text' "$(last $A | jq -r .body)" 'by post'

signed=$(vsign "$(inbound 447700900001 in-0003 once)")
is 'a request' "$(vpost "$signed")" 200
is 'the same request again (its nonce seen): 403' "$(vpost "$signed")" 403
forged=$(printf '%s' "$signed" | sed 's/text=once/text=twice/')
is 'a forged one: 403' "$(vpost "$forged")" 403
old=$(printf '%s&timestamp=%s&nonce=old%s' "$(inbound 447700900001 in-0004 old)" \
    $(($(date +%s) - 3600)) $$ | "$tools/vonage-sign" sha256)
is 'one signed an hour ago: 403' "$(vpost "$old")" 403
is 'one signed by md5hash to a sha256 listener: 403' \
	"$(vpost "$(method=md5hash vsign "$(inbound 447700900001 in-0005 md5)")")" 403
is 'unsigned: 403' "$(vpost "$(inbound 447700900001 in-0006 none)")" 403
is 'nothing stored from those' "$(nmsg $A)" 3

# --- A long message in three parts, in the order 3, 1, 2 -------------
B=+447700900002
for p in 3 1; do
	is "part $p of 3: 200" "$(vpost "$(vsign "$(inbound 447700900002 b-$p "part$p+" 17 $p 3)")")" 200
done
is 'two parts kept, no message yet' "$(nparts):$(nmsg $B)" 2:0
is 'part 2 of 3: 200' "$(vpost "$(vsign "$(inbound 447700900002 b-2 part2+ 17 2 3)")")" 200
is 'one message, its text in part order' "$(nmsg $B):$(last $B | jq -r .body)" \
	'1:part1 part2 part3 '
is 'its id the first part'\''s, every part'\''s kept' \
	"$(last $B | jq -c '[.provider_id, .provider_ids, .segments]')" \
	'["b-1",["b-1","b-2","b-3"],3]'
is 'the parts are gone' "$(nparts)" 0
is 'a part retried after the whole: 200' \
	"$(vpost "$(vsign "$(inbound 447700900002 b-2 part2+ 17 2 3)")")" 200
is 'no second message, no part kept' "$(nmsg $B):$(nparts)" 1:0

# --- Across a kill -9 between parts 1 and 2 ---------------------------
C=+447700900003
is 'part 1 of 3: 200' "$(vpost "$(vsign "$(inbound 447700900003 c-1 one+ 9 1 3)")")" 200
is 'a retried part 1: 200' "$(vpost "$(vsign "$(inbound 447700900003 c-1 one+ 9 1 3)")")" 200
is 'kept once' "$(nparts)" 1
kill -9 "$recv"; wait "$recv" 2>/dev/null
serve_port=$port start
is 'part 2 to the restarted listener: 200' \
	"$(vpost "$(vsign "$(inbound 447700900003 c-2 two+ 9 2 3)")")" 200
is 'part 3: 200' "$(vpost "$(vsign "$(inbound 447700900003 c-3 three 9 3 3)")")" 200
is 'one message, whole' "$(nmsg $C):$(last $C | jq -r .body)" '1:one two three'

# --- A crash between the store and the cleanup ------------------------
D=+447700900004
vpost "$(vsign "$(inbound 447700900004 d-1 first+ 200 1 2)")" >/dev/null
mkdir "$tmp/keep" && cp -p "$ib"/parts/* "$tmp/keep/"
p1=$(ls "$tmp/keep")
# Part 2's file, as the listener writes it.
jq -c '.part = 2 | .body = "second" | .provider_id = "d-2"' \
    "$tmp/keep/$p1" >"$tmp/keep/${p1%.001}.002"
is 'the last part: 200' "$(vpost "$(vsign "$(inbound 447700900004 d-2 second 200 2 2)")")" 200
is 'stored' "$(nmsg $D):$(nparts)" 1:0
kill -9 "$recv"; wait "$recv" 2>/dev/null
# As if the listener had died before it dropped the parts.
cp -p "$tmp/keep/"* "$ib/parts/"
serve_port=$port start
poll '[ "$(nparts)" = 0 ]'
is 'the restarted listener drops what is stored: not stored twice' \
	"$(nmsg $D):$(last $D | jq -r .body):$(nparts)" '1:first second:0'
# A crash before the store: neither the message nor its conversation.
rm "$ib/msg/$D/"* "$ib/conv/$D" && rm -f "$ib/work/$D"
cp -p "$tmp/keep/"* "$ib/parts/"
kill -9 "$recv"; wait "$recv" 2>/dev/null
serve_port=$port start
poll '[ "$(nparts)" = 0 ]'
is 'parts whole but never stored (a crash before the store): stored at start' \
	"$(nmsg $D):$(last $D | jq -r .body)" '1:first second'
E=+447700900005
vpost "$(vsign "$(inbound 447700900005 e-1 x+ 5 1 2)")" >/dev/null
kill -9 "$recv"; wait "$recv" 2>/dev/null
serve_port=$port start
is 'an incomplete set waits' "$(nmsg $E):$(nparts)" 0:1
# A part that waited two days is stale: its sender uses the reference
# again for another message.
touch -d '3 days ago' "$ib"/parts/*
is 'a new part 1 of the same reference: 200' \
	"$(vpost "$(vsign "$(inbound 447700900005 e2-1 new+ 5 1 2)")")" 200
is 'and part 2: 200' "$(vpost "$(vsign "$(inbound 447700900005 e2-2 text 5 2 2)")")" 200
is 'the new message, not the stale part' "$(nmsg $E):$(last $E | jq -r .body)" \
	'1:new text'
vpost "$(vsign "$(inbound 447700900005 e3-1 lone+ 6 1 2)")" >/dev/null
touch -d '3 days ago' "$ib"/parts/*
kill "$recv"; wait "$recv" 2>/dev/null
serve_port=$port start
is 'a listener that starts sweeps stale parts' "$(nparts)" 0

# --- Sending through Vonage's SMS API (tests/tools/answer), receipts ----
recvport=$port
# api NAME BODY: the SMS API answering BODY (HTTP 200, as Vonage does).
api() {
	ANSWER_STATUS='200 OK' serve "$tmp/$1.out" "$tmp/$1.err" \
	    "$tools/answer" "$2" || return 1
	apipid=$server
	port=$recvport
}
vsend() {
	SMSDESK_PROVIDER=vonage VONAGE_API_KEY=key-0299 \
	    VONAGE_API_SECRET=sec-0299 VONAGE_FROM=447700900000 \
	    VONAGE_API_URL=http://127.0.0.1:$api_port \
	    SMSDESK_PUBLIC_URL=https://pub.example/sms "$bin/sms-send" \
	    -d "$ib" "$@"
}
api three '{"message-count":"3","messages":[{"to":"447700900011","message-id":"V-1","status":"0"},{"to":"447700900011","message-id":"V-2","status":"0"},{"to":"447700900011","message-id":"V-3","status":"0"}]}' ||
    fail 'the API starts'
api_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/three.err")
F=+447700900011
vsend --to $F 'a long text' >"$tmp/send.out" 2>"$tmp/send.err"
is 'sent in three parts: exit 0' "$?" 0
check 'POST /sms/json' "grep -q '^POST /sms/json HTTP' '$tmp/three.out'"
is 'its form: key, secret, numbers without +, callback, report, client-ref' \
	"$(grep '^api_key' "$tmp/three.out" | tr '&' '\n' | grep -E '^(api_key|api_secret|from|to|callback|status-report-req)=' | tr '\n' ' ')" \
	'api_key=key-0299 api_secret=sec-0299 from=447700900000 to=447700900011 callback=https%3A%2F%2Fpub.example%2Fsms%2Fvonage status-report-req=1 '
is 'the message keeps every part'\''s id' \
	"$(last $F | jq -c '[.provider, .provider_id, .provider_ids, .status]')" \
	'["vonage","V-1",["V-1","V-2","V-3"],"queued"]'
kill "$apipid"
# dlr PART-ID STATUS ERR: a signed receipt to the listener.
dlr() {
	vpost "$(vsign "msisdn=447700900011&to=447700900000&network-code=23410&messageId=$1&price=0.03&status=$2&scts=2612061200&err-code=$3&client-ref=x")"
}
is 'a receipt for part 2: delivered' "$(dlr V-2 delivered 0)" 200
is 'part 1: delivered' "$(dlr V-1 delivered 0)" 200
is 'not delivered while a part has not said' "$(last $F | jq -r .status)" sent
is 'part 3 failed, err-code 9: 200' "$(dlr V-3 failed 9)" 200
is 'the message is undelivered, the recipient opted out' \
	"$(last $F | jq -c '[.status, .error.code, .error.provider_code]')" \
	'["undelivered","opted_out",9]'
# (jq -e on no input at all succeeds: the records are counted.)
is 'the opt-out is in the consent ledger, the provider'\''s' \
	"$(cat "$ib"/consent/$F/* 2>/dev/null | jq -c 'select(.state == "out" and .source == "provider") | .provider_code')" 9
is 'a receipt repeated: 200, nothing moves' "$(dlr V-3 failed 9)" 200

api again '{"message-count":"2","messages":[{"message-id":"W-1","status":"0"},{"message-id":"W-2","status":"0"}]}' ||
    fail 'the API starts'
api_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/again.err")
G=+447700900012
vsend --to $G 'two parts' >/dev/null 2>&1
kill "$apipid"
vpost "$(vsign "msisdn=447700900012&to=447700900000&messageId=W-2&status=delivered&err-code=0")" >/dev/null
vpost "$(vsign "msisdn=447700900012&to=447700900000&messageId=W-1&status=delivered&err-code=0")" >/dev/null
is 'every part delivered: delivered' "$(last $G | jq -c '[.status, .error]')" \
	'["delivered",null]'

# Receipts that come before the send is settled wait, and are folded.
J=+447700900014
vpost "$(vsign "msisdn=447700900014&to=447700900000&messageId=X-1&status=delivered&err-code=0")" >/dev/null
vpost "$(vsign "msisdn=447700900014&to=447700900000&messageId=X-2&status=delivered&err-code=0")" >/dev/null
api early '{"message-count":"3","messages":[{"message-id":"X-1","status":"0"},{"message-id":"X-2","status":"0"},{"message-id":"X-3","status":"0"}]}' ||
    fail 'the API starts'
api_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/early.err")
vsend --to $J 'three parts' >/dev/null 2>&1
kill "$apipid"
is 'two parts delivered before the send was settled: sent, not delivered' \
	"$(last $J | jq -c '[.status, .part_status]')" \
	'["sent",{"X-1":"delivered","X-2":"delivered"}]'
is 'a part'\''s receipt again (a retry): 200' \
	"$(vpost "$(vsign "msisdn=447700900014&to=447700900000&messageId=X-2&status=delivered&err-code=0")")" 200
is 'the message stays sent: the third has not said' \
	"$(last $J | jq -c '[.status, .part_status]')" \
	'["sent",{"X-1":"delivered","X-2":"delivered"}]'
vpost "$(vsign "msisdn=447700900014&to=447700900000&messageId=X-3&status=delivered&err-code=0")" >/dev/null
is 'the third: delivered' "$(last $J | jq -r .status)" delivered

# An opt-out's receipt that comes before the send is settled: parked,
# applied by sms-send, and into the consent ledger all the same.
L=+447700900015
vpost "$(vsign "msisdn=447700900015&to=447700900000&messageId=Y-1&status=rejected&err-code=9")" >/dev/null
api optearly '{"message-count":"1","messages":[{"message-id":"Y-1","status":"0"}]}' ||
    fail 'the API starts'
api_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/optearly.err")
vsend --to $L 'too early' >/dev/null 2>&1
kill "$apipid"
is 'an opt-out'\''s receipt before the send was settled: failed, opted_out' \
	"$(last $L | jq -c '[.status, .error.code, .error.provider_code]')" \
	'["failed","opted_out",9]'
is 'and in the consent ledger, the provider'\''s' \
	"$(cat "$ib"/consent/$L/* 2>/dev/null | jq -c 'select(.state == "out" and .source == "provider") | .provider_code')" 9

api slow '{"message-count":"1","messages":[{"status":"1","error-text":"Throughput Rate Exceeded - please wait [ 250 ] and retry"}]}' ||
    fail 'the API starts'
api_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/slow.err")
H=+447700900013
vsend --retries 1 --to $H 'slow down' >/dev/null 2>"$tmp/slow.send"
check 'status 1: not exit 0' "test $? -ne 0"
is 'status 1 is retried' "$(grep -c '^POST ' "$tmp/slow.out")" 2
is 'then ends throttled' "$(last $H | jq -c '[.status, .error.code, .error.provider_code]')" \
	'["failed","throttled",1]'
kill "$apipid"

kill "$recv" 2>/dev/null
done_testing
