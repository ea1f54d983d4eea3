#!/bin/sh
# One listener, several carriers (sms-recv(1), --provider; issue 19):
# sms-recv --listen -p twilio,telnyx,plivo serves each provider on its own
# path (/twilio, /telnyx, /plivo), each checked with its own secret, each
# message stored as that provider's. A request signed for one provider is
# refused on another's path; a path no provider named is 404; a provider
# named twice, one without its secret, or several without --listen are
# refused before anything starts.
. "$(dirname "$0")/lib.sh"

twilio_env 0293
unset TELNYX_API_KEY TELNYX_FROM TELNYX_MESSAGING_PROFILE_ID \
    TELNYX_API_URL PLIVO_AUTH_ID PLIVO_FROM PLIVO_POWERPACK_UUID \
    PLIVO_API_URL
SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
TELNYX_PUBLIC_KEY=$("$tools/telnyx-sign" --public "$SEED")
PLIVO_AUTH_TOKEN=ptok-0293
export TELNYX_PUBLIC_KEY PLIVO_AUTH_TOKEN

ib=$tmp/inbox
A=+15551230001 B=+15551230002 C=+15551230003

# --- Refused before anything starts ---------------------------------------

check_exit 'a provider named twice: usage (2)' 2 \
	"'$bin/sms-recv' -d '$ib' -p twilio,twilio --listen 127.0.0.1:0 2>'$tmp/err'"
check 'said' "grep -q \"twice\" '$tmp/err'"
check_exit 'an unknown one: 78' 78 \
	"'$bin/sms-recv' -d '$ib' -p twilio,nope --listen 127.0.0.1:0 2>'$tmp/err'"
check 'named' "grep -q \"unknown provider 'nope'\" '$tmp/err'"
check_exit 'one without its secret: 78, naming it' 78 \
	"env -u PLIVO_AUTH_TOKEN '$bin/sms-recv' -d '$ib' -p twilio,plivo --listen 127.0.0.1:0 2>'$tmp/err'"
check 'the secret it needs' "grep -q 'no signing secret for plivo: set PLIVO_AUTH_TOKEN' '$tmp/err'"
check_exit 'several without --listen: usage (2)' 2 \
	"'$bin/sms-recv' -d '$ib' -p twilio,telnyx </dev/null 2>'$tmp/err'"
check 'nothing made' "! test -e '$ib'"

# --- Three at once ---------------------------------------------------------

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    -p twilio,telnyx -p plivo || { fail 'the listener starts'; done_testing; }
lport=$port
check 'it says what it serves' \
	"grep -q 'for twilio (/twilio), telnyx (/telnyx), plivo (/plivo)' '$tmp/L.err'"

# Twilio: a signed form to /twilio (lib.sh's webhook).
is 'Twilio on /twilio: 200' "$(webhook "MessageSid=SM0293000000000000000000000000001&AccountSid=$AC&From=%2B${A#+}&To=%2B15550100000&Body=by+twilio")" 200

# Telnyx: JSON signed with Ed25519 to /telnyx.
telnyx_body() {
	jq -cn --arg from "$B" '{data: {record_type: "event", id: "ev-1",
	    event_type: "message.received",
	    occurred_at: "2026-11-22T10:00:00.000Z", payload: {record_type:
	    "message", direction: "inbound", id: "tx-0293-1", type: "SMS",
	    from: {phone_number: $from}, to: [{phone_number: "+15550100000",
	    status: "delivered"}], text: "by telnyx", media: [], parts: 1}}}'
}
# tpost PATH: the Telnyx event, signed, to PATH.
tpost() {
	telnyx_body >"$tmp/body"
	"$tools/telnyx-sign" "$SEED" <"$tmp/body" >"$tmp/hdr"
	curl -s -o "$tmp/resp" -w '%{http_code}' -H @"$tmp/hdr" \
	    -H 'Content-Type: application/json' --data-binary @"$tmp/body" \
	    "http://127.0.0.1:$lport$1"
}
is 'Telnyx on /telnyx: 200' "$(tpost /telnyx)" 200

# Plivo: a form signed with V3 to /plivo.
pbody="From=${C#+}&To=15550100000&Text=by+plivo&Type=sms&MessageUUID=pl-0293-1&Units=1"
# ppost PATH: the Plivo form, signed for PATH, to PATH.
ppost() {
	p_url=http://127.0.0.1:$lport$1
	p_sig=$(printf '%s' "$pbody" | "$tools/plivo-sign" "$p_url" n0293)
	curl -s -o "$tmp/resp" -w '%{http_code}' \
	    -H "X-Plivo-Signature-V3: $p_sig" \
	    -H "X-Plivo-Signature-V3-Nonce: n0293" \
	    --data-binary "$pbody" "$p_url"
}
is 'Plivo on /plivo: 200' "$(ppost /plivo)" 200

# stored NUM: "provider provider_id body" of NUM's message.
stored() { jq -r '"\(.provider) \(.provider_id) \(.body)"' "$ib"/msg/$1/*; }
is 'each stored as its provider'"'"'s' \
	"$(stored $A); $(stored $B); $(stored $C)" \
	"twilio SM0293000000000000000000000000001 by twilio; telnyx tx-0293-1 by telnyx; plivo pl-0293-1 by plivo"

# --- Each path its own secret -----------------------------------------------

is 'the Telnyx event on /plivo: 403' "$(tpost /plivo)" 403
is 'the Plivo form on /twilio: 403' "$(ppost /twilio)" 403
is 'a Twilio-signed form on /telnyx: 403' \
	"$(port=$lport; w_sig=$(printf '%s' 'MessageSid=SMx&From=%2B1555&To=%2B1555&Body=x' | sign "http://127.0.0.1:$lport/telnyx");
	   curl -s -o /dev/null -w '%{http_code}' -H "X-Twilio-Signature: $w_sig" \
	       --data-binary 'MessageSid=SMx&From=%2B1555&To=%2B1555&Body=x' \
	       "http://127.0.0.1:$lport/telnyx")" 403
is 'a path nobody serves (/vonage): 404' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'a=b' \
	    "http://127.0.0.1:$lport/vonage")" 404
is 'nothing more stored' "$(ls "$ib"/msg/*/* | wc -l | tr -d ' ')" 3
is 'a retried Telnyx event: 200, stored once' \
	"$(tpost /telnyx) $(ls "$ib"/msg/$B | wc -l | tr -d ' ')" '200 1'

done_testing
