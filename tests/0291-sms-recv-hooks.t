#!/bin/sh
# sms-recv --listen, every carrier's webhooks and each channel besides SMS
# (issue 22: WhatsApp), one case of hook_cases (lib.sh) at a time: twilio,
# twilio:whatsapp (Twilio's WhatsApp, the same webhooks on /twilio with
# whatsapp:+E164 addresses, WaId and ProfileName), telnyx, plivo, vonage.
# The webhooks are made and signed by tests/tools/hook, as each carrier
# makes and signs them; what is checked is the same for every case:
#   - signed: 200, and stored as the user reads it: in the conversation
#     of the customer's E.164 number (whatever the channel), as the
#     carrier's, its channel on the record (whatsapp; none for an SMS);
#     a WhatsApp profile name is the contact's name;
#   - signed with another secret, a byte of the body changed after
#     signing, or (where the signature covers the URL: Twilio's and
#     Plivo's) signed for another URL: 403, nothing stored;
#   - the same message id again (the carrier's retry): 200, stored,
#     counted and announced once, its log line saying "(a duplicate)";
#   - the status callbacks of a message we sent (sms-send through sms-sim
#     playing the carrier, on the conversation's channel): stored on the
#     message, ranked (read above delivered above sent), never moved back,
#     and one that says again what is known adds nothing.
# Listeners and sims on 127.0.0.1, free ports, killed on exit.
. "$(dirname "$0")/lib.sh"

carriers_env 0291
FORGER=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100
A=+15552910001 B=+15552910002

# forge CASE: the setting of someone signing without the case's secret.
forge() {
	case $(hook_carrier "$1") in
	twilio) echo TWILIO_AUTH_TOKEN=another-token ;;
	telnyx) echo SMSDESK_SIM_TELNYX_SEED=$FORGER ;;
	plivo) echo PLIVO_AUTH_TOKEN=another-token ;;
	vonage) echo VONAGE_SIGNATURE_SECRET=another-secret ;;
	esac
}

# id N: message N of the case: a Twilio SID, another carrier's UUID.
id() {
	case $P in
	twilio)	printf 'SM%032d' "$1" ;;
	*)	printf '%08d-0291-4000-8000-%012d' "$1" "$1" ;;
	esac
}

# inbound N FROM BODY [FIELD...]: the case's inbound message N from FROM,
# with the profile name Ana Lima on WhatsApp; prints the HTTP status.
inbound() {
	i_n=$1 i_from=$2 i_body=$3
	shift 3
	[ -n "$ch" ] && set -- "$@" 'profile=Ana Lima'
	hook_post "$C" inbound id="$(id "$i_n")" from="$i_from" to="$US" \
	    body="$i_body" "$@"
}

# tampered N: message N, a byte of its body changed after it was signed.
tampered() {
	t_n=$1
	set --
	[ -n "$ch" ] && set -- 'profile=Ana Lima'
	"$tools/hook" "$C" "http://127.0.0.1:$port/$P" inbound \
	    id="$(id "$t_n")" from="$A" to="$US" body=tampered "$@" \
	    >"$tmp/hook.cfg" || { echo hook-failed; return; }
	sed -i '/^data-raw/s/tampered/tampereD/' "$tmp/hook.cfg"
	curl -s -o "$tmp/resp" -w '%{http_code}' -K "$tmp/hook.cfg"
}

# nevents EVENT ID: the listener's EVENT events about message ID.
nevents() {
	jq -c --arg e "$1" --arg id "$2" 'select(.event == $e and
	    .message.provider_id == $id)' "$tmp/L.out" | wc -l | tr -d ' '
}

# logged ID [SUFFIX]: the listener's log lines of a 200 that end
# "message ID" (and SUFFIX).
logged() { grep -c " 200 .* message $1${2:+ $2}\$" "$tmp/L.err"; }

# files NUM: the message files of NUM's conversation.
files() { ls "$ib/msg/$1" 2>/dev/null | wc -l | tr -d ' '; }

for C in $hook_cases; do
	P=$(hook_carrier "$C") ch=$(hook_channel "$C")
	tap_prefix="$C: "
	ib=$tmp/inbox-$(echo "$C" | tr : -)
	want_ch=null
	[ -n "$ch" ] && want_ch="\"$ch\""
	serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
	    --provider "$P" || { fail 'the listener starts'; continue; }
	lport=$port lpid=$server

	# --- Signed, stored as the user reads it ------------------------

	is 'a signed message: 200' "$(inbound 1 $A 'Hello there')" 200
	is 'stored in the conversation of the number, the carrier'"'"'s, its channel' \
	    "$(jq -c '[.thread, .from, .to, .body, .provider, .provider_id, .channel]' "$ib"/msg/$A/*)" \
	    "[\"$A\",\"$A\",\"$US\",\"Hello there\",\"$P\",\"$(id 1)\",$want_ch]"
	is 'one conversation, the number'"'"'s, one unread' \
	    "$(inbox-ls -d "$ib" --json | jq -sc 'map([.thread, .unread])')" \
	    "[[\"$A\",1]]"
	if [ -n "$ch" ]; then
		is 'the profile name is the contact'"'"'s name' \
		    "$(inbox-contacts show -d "$ib" $A | jq -r .name)" 'Ana Lima'
	else
		check 'no contact made from an SMS' "! test -e '$ib/contacts/$A'"
	fi
	check 'announced, with its channel' \
	    "poll '[ \$(nevents message.received $(id 1)) -ge 1 ]' &&
	    jq -se 'map(select(.event == \"message.received\")) |
		.[0].message.channel == $want_ch' '$tmp/L.out'"

	# --- The carrier's retry: once ----------------------------------

	is 'the same message id again: 200' "$(inbound 1 $A 'Hello there')" 200
	check 'its log line says it is a duplicate, the first'"'"'s not' \
	    "poll '[ \$(logged $(id 1) \"(a duplicate)\") -ge 1 ]' &&
	    [ \$(logged $(id 1)) -eq 1 ]"
	is 'and again, after another customer'"'"'s: 200 200' \
	    "$(inbound 2 $B 'Other') $(inbound 1 $A 'Hello there')" '200 200'
	is 'stored once' "$(files $A)" 1
	is 'counted once in its conversation' \
	    "$(tail -n 1 "$ib/conv/$A" | jq -c '[.messages, .unread]')" '[1,1]'
	check 'announced once (the next message announced meanwhile)' \
	    "poll '[ \$(nevents message.received $(id 2)) -ge 1 ]' &&
	    [ \$(nevents message.received $(id 1)) -eq 1 ]"

	# --- Refused: 403, nothing stored --------------------------------

	is 'signed with another secret: 403' \
	    "$( (export $(forge "$C"); inbound 3 $A 'forged') )" 403
	is 'a byte of the body changed after signing: 403' "$(tampered 4)" 403
	case $P in
	twilio|plivo)
		is 'signed for another URL: 403' \
		    "$(public_url=https://elsewhere.example inbound 5 $A 'elsewhere')" \
		    403 ;;
	*)	skip 'signed for another URL: 403' \
		    "$P's signature covers no URL" ;;
	esac
	is 'none of them stored, known or counted' \
	    "$(files $A):$(ledger_keys "$ib" | grep -c -e "$(id 3)" -e "$(id 4)" -e "$(id 5)"):$(tail -n 1 "$ib/conv/$A" | jq -r .messages)" \
	    1:0:1
	is 'and the good one still goes: 200' "$(inbound 6 $A 'Still here')" 200

	# --- Statuses of a message we sent -------------------------------

	serve "$tmp/S.out" "$tmp/S.err" "$bin/sms-sim" --provider "$P" \
	    --number "$US" --log "$tmp/sim-$P.log" ||
	    { fail 'sms-sim starts'; kill "$lpid"; continue; }
	spid=$server
	api_url "$P" "http://127.0.0.1:$port"
	port=$lport
	SMSDESK_PROVIDER=$P sms-send -d "$ib" -c $A 'Your table is ready' \
	    >"$tmp/send.out" 2>"$tmp/send.err"
	is 'an answer sent: exit 0, on the conversation'"'"'s channel' \
	    "$?:$(jq -c .channel "$tmp/send.out")" "0:$want_ch"
	sid=$(jq -r .provider_id "$tmp/send.out")
	m=$ib/msg/$A/$(jq -r .id "$tmp/send.out")
	# st STATUS: its status callback; prints the HTTP status.
	st() { hook_post "$C" status id="$sid" from="$US" to="$A" status="$1"; }
	top=delivered
	[ -n "$ch" ] && top=read
	codes=
	for s in sent delivered $( [ -n "$ch" ] && echo read ); do
		codes="$codes$(st $s) "
	done
	is "sent, delivered${ch:+, read}: 200 each" "$codes" \
	    "200 200 ${ch:+200 }"
	is "the message is $top" "$(tail -n 1 "$m" | jq -r .status)" $top
	is 'each step once in its history, in order' \
	    "$(jq -sc '[.[].status | select(. == "sent" or
		. == "delivered" or . == "read")]' "$m")" \
	    "[\"sent\",\"delivered\"${ch:+,\"read\"}]"
	lines=$(wc -l <"$m")
	codes="$(st delivered) $(st sent) $(st $top)"
	is 'late and repeated callbacks: 200 each' "$codes" '200 200 200'
	is "still $top, nothing added" \
	    "$(tail -n 1 "$m" | jq -r .status):$(wc -l <"$m")" "$top:$lines"
	check "one message.status event for $top" \
	    "poll '[ \$(jq -c \"select(.event == \\\"message.status\\\" and .message.status == \\\"$top\\\")\" \"$tmp/L.out\" | wc -l) -ge 1 ]' &&
	    [ \$(jq -c 'select(.event == \"message.status\" and .message.status == \"$top\")' '$tmp/L.out' | wc -l) -eq 1 ]"

	kill "$spid" "$lpid"
	wait "$spid" "$lpid"
	is 'the listener stops on SIGTERM: 0' "$?" 0
	unset SMSDESK_PROVIDER
done
tap_prefix=

done_testing
