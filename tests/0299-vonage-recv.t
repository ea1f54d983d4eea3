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
rm "$ib/msg/$D/"*
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

kill "$recv" 2>/dev/null
done_testing
