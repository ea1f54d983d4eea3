#!/bin/sh
# sms-recv --provider plivo: Plivo's webhooks, signed as Plivo signs them
# (V3: tests/tools/plivo-sign, the token in PLIVO_AUTH_TOKEN, never on a
# command line), to a listener on 127.0.0.1: an inbound SMS stored with
# its numbers in E.164, a retry stored once, a forged signature refused,
# HELP answered in Plivo XML, and a status callback moving a message that
# sms-send sent through Plivo's API (played by tests/tools/answer).
. "$(dirname "$0")/lib.sh"

twilio_env 0297
unset PLIVO_AUTH_ID PLIVO_FROM PLIVO_POWERPACK_UUID PLIVO_API_URL
PLIVO_AUTH_TOKEN=ptok-0297
export PLIVO_AUTH_TOKEN

ib=$tmp/inbox
n=0

# psign URL NONCE < BODY: the V3 signature.
psign() { "$tools/plivo-sign" "$@"; }

# pwebhook BODY [SIG [NONCE]]: POST the form BODY to /plivo of the
# listener, with the signature SIG (default: the right one) and nonce
# NONCE (default: a new one; "-" for no nonce header). Prints the status.
pwebhook() {
	n=$((n + 1))
	p_body=$1 p_url=http://127.0.0.1:$port/plivo
	p_nonce=${3:-nonce$n$$}
	p_sig=${2:-$(printf '%s' "$p_body" | psign "$p_url" "$p_nonce")}
	if [ "$p_nonce" = - ]; then
		set -- -H "X-Plivo-Signature-V3: $p_sig"
	else
		set -- -H "X-Plivo-Signature-V3: $p_sig" \
		    -H "X-Plivo-Signature-V3-Nonce: $p_nonce"
	fi
	curl -s -o "$tmp/resp" -w '%{http_code}' "$@" \
	    --data-binary "$p_body" "$p_url"
}

# inbound FROM UUID TEXT: the form of an inbound SMS to our number,
# numbers as Plivo writes them (no "+").
inbound() {
	printf 'From=%s&To=14155550199&Text=%s&Type=sms&MessageUUID=%s&Units=1&TotalRate=0&TotalAmount=0' \
	    "$1" "$3" "$2"
}

nmsg() { ls "$ib/msg/$1" 2>/dev/null | wc -l | tr -d ' '; }

is 'plivo-sign: providers.md'\''s V3 vector' \
	"$(printf '%s' 'From=14155550100&To=14155550199&Text=hi+there&Type=sms&MessageUUID=abc' |
	    PLIVO_AUTH_TOKEN=MYTOKEN psign http://127.0.0.1:8080/plivo/sms 12345678901234567890)" \
	'kBXUEfpnJqNOaVzLpD5XJt1zlajGbIMufbP1BN1bu+s='

serve "$tmp/recv.out" "$tmp/recv.err" "$bin/sms-recv" -d "$ib" \
    --provider plivo || fail 'sms-recv --provider plivo listens'
recv=$server recvport=$port

A=+14155550100
is 'an inbound SMS: 200' "$(pwebhook "$(inbound 14155550100 in-0001 hello+there)")" 200
is 'stored in the thread of its sender, in E.164' "$(nmsg $A)" 1
m=$ib/msg/$A/$(ls "$ib/msg/$A" | head -n 1)
is 'its record: from, to, body, provider, id' \
	"$(tail -n 1 "$m" | jq -c '[.from, .to, .body, .provider, .provider_id, .status]')" \
	'["+14155550100","+14155550199","hello there","plivo","in-0001","received"]'
is 'the answer: an empty Plivo XML Response' "$(cat "$tmp/resp")" \
	'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

is 'the same webhook again (a retry, a new nonce): 200' \
	"$(pwebhook "$(inbound 14155550100 in-0001 hello+there)")" 200
is 'stored once' "$(nmsg $A)" 1

body=$(inbound 14155550100 in-0002 forged)
good=$(printf '%s' "$body" | psign "http://127.0.0.1:$port/plivo" nonce-x)
bad=$(printf '%s' "$body" | PLIVO_AUTH_TOKEN=other psign "http://127.0.0.1:$port/plivo" nonce-x)
is 'a forged signature: 403' "$(pwebhook "$body" "$bad" nonce-x)" 403
is 'a signature for another nonce: 403' "$(pwebhook "$body" "$good" nonce-y)" 403
is 'no nonce header: 403' "$(pwebhook "$body" "$good" -)" 403
is 'nothing stored from those' "$(nmsg $A)" 1
is 'a list of signatures, the good one among bad: 200' \
	"$(pwebhook "$body" "$bad,$good" nonce-x)" 200
is 'stored' "$(nmsg $A)" 2

B=+14155550111
is 'HELP: 200' "$(pwebhook "$(inbound 14155550111 in-0003 HELP)")" 200
check 'answered in Plivo XML, from our number to the sender' \
	'grep -q "<Message src=\"14155550199\" dst=\"14155550111\" type=\"sms\">" "$tmp/resp"'

# A message file is a log of the message's states, the last one current.
# --- A message sent through Plivo's API, then its status callbacks ------

serve "$tmp/api.out" "$tmp/api.err" "$tools/answer" \
    '{"api_id":"x","message":"message(s) queued","message_uuid":["out-0001"]}' ||
    fail 'a Plivo API that takes the message'
apipid=$server api=$port
port=$recvport
C=+14155550122
check_exit 'sms-send through Plivo: sent, 0' 0 \
	'SMSDESK_PROVIDER=plivo PLIVO_AUTH_ID=MA0297 PLIVO_FROM=+14155550199 PLIVO_API_URL=http://127.0.0.1:$api sms-send -d "$ib" --to $C "Your order shipped" >"$tmp/send.out" 2>"$tmp/send.err"'
m=$ib/msg/$C/$(ls "$ib/msg/$C" | head -n 1)
is 'the message has Plivo'\''s id, queued' \
	"$(tail -n 1 "$m" | jq -c '[.provider, .provider_id, .status]')" '["plivo","out-0001","queued"]'
is 'a status callback (sent): 200' \
	"$(pwebhook 'MessageUUID=out-0001&Status=sent&From=14155550199&To=14155550122&Units=1')" 200
is 'delivered, ErrorCode 000: 200' \
	"$(pwebhook 'MessageUUID=out-0001&Status=delivered&ErrorCode=000&From=14155550199&To=14155550122&Units=1')" 200
poll "tail -n 1 '$m' | jq -e '.status == \"delivered\"' >/dev/null"
is 'the message is delivered, with no error' \
	"$(tail -n 1 "$m" | jq -c '[.status, .error_code]')" '["delivered",null]'
body='MessageUUID=out-0001&Status=undelivered&ErrorCode=50'
is 'a forged status callback: 403' \
	"$(pwebhook "$body" "$(printf '%s' "$body" | PLIVO_AUTH_TOKEN=x psign "http://127.0.0.1:$port/plivo" n1)" n1)" 403
is 'the message stays delivered' "$(tail -n 1 "$m" | jq -r .status)" delivered


# A Powerpack (any id) instead of a number; refused for opting out.
serve "$tmp/api2.out" "$tmp/api2.err" "$tools/answer" \
    '{"api_id":"x","message":"message(s) queued","message_uuid":["out-0002"]}' ||
    fail 'a Plivo API that takes the message'
api2pid=$server api=$port
port=$recvport
D=+14155550133
check_exit 'sms-send --messaging-service: a Powerpack, 0' 0 \
	'SMSDESK_PROVIDER=plivo PLIVO_AUTH_ID=MA0297 PLIVO_API_URL=http://127.0.0.1:$api sms-send -d "$ib" --messaging-service 5d2e4c3a-pp --to $D "By Powerpack" >/dev/null 2>"$tmp/send2.err"'
m=$ib/msg/$D/$(ls "$ib/msg/$D" | head -n 1)
is 'a status callback: rejected, ErrorCode 200: 200' \
	"$(pwebhook 'MessageUUID=out-0002&Status=rejected&ErrorCode=200&From=14155550199&To=14155550133')" 200
poll "tail -n 1 '$m' | jq -e '.status == \"failed\"' >/dev/null"
is 'rejected is failed; Plivo'\''s 200 is an opt-out' \
	"$(tail -n 1 "$m" | jq -c '[.provider_id, .status, .error]')" \
	'["out-0002","failed",{"code":"opted_out","provider_code":200}]'

kill "$recv" "$apipid" "$api2pid" 2>/dev/null
done_testing
