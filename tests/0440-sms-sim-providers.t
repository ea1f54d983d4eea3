#!/bin/sh
# sms-sim --provider (issue 19): the simulator plays Telnyx and Plivo as
# it plays Twilio, so that each carrier is tested end to end offline. For
# each PROVIDER (telnyx and plivo; $PROVIDERS to choose): sms-send sends
# through the sim's API and the message is created as sent; sms-recv
# --listen --provider PROVIDER takes the sim's signed status callbacks and
# a customer's text (`sms-sim text`), each posted twice (--duplicate 100)
# and stored once; a sim that signs with another key or token is refused
# 403 and stores nothing; and each error class comes out of the sim's
# faults in the carrier's own answers: opted_out (--refuse N:opted-out),
# invalid_recipient (--refuse N), transient (--fail N) and throttled
# (--rate). Everything binds 127.0.0.1 on free ports.
. "$(dirname "$0")/lib.sh"

twilio_env 0440
unset SMSDESK_SIM_URL TELNYX_API_KEY TELNYX_FROM TELNYX_API_URL \
    TELNYX_PUBLIC_KEY TELNYX_MESSAGING_PROFILE_ID PLIVO_AUTH_ID \
    PLIVO_AUTH_TOKEN PLIVO_FROM PLIVO_API_URL PLIVO_POWERPACK_UUID \
    SMSDESK_SIM_TELNYX_SEED

SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
FORGER=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100
A=+15551230001 B=+15551230002 C=+15551230003 D=+15551230004
E=+15551230005 F=+15551230006 G=+15551230007

# recs NUM: the current record of each message of NUM (the last line of
# its file); hist NUM: every line of every one, its history.
recs() {
	for r_f in "$ib"/msg/"$1"/*; do
		[ -f "$r_f" ] && tail -n 1 "$r_f"
	done
}
hist() { cat "$ib"/msg/"$1"/* 2>/dev/null; }

# setup PROVIDER: its credentials, as its own tools name them, for
# sms-sim, sms-send and sms-recv; forge gives the ones a forger has.
setup() {
	case $1 in
	telnyx)
		TELNYX_API_KEY=key-0440-secret TELNYX_FROM=$US
		SMSDESK_SIM_TELNYX_SEED=$SEED
		TELNYX_PUBLIC_KEY=$("$tools/telnyx-sign" --public "$SEED")
		export TELNYX_API_KEY TELNYX_FROM SMSDESK_SIM_TELNYX_SEED \
		    TELNYX_PUBLIC_KEY
		forge="SMSDESK_SIM_TELNYX_SEED=$FORGER"
		;;
	plivo)
		PLIVO_AUTH_ID=MA0440SIM PLIVO_AUTH_TOKEN=ptok-0440 PLIVO_FROM=$US
		export PLIVO_AUTH_ID PLIVO_AUTH_TOKEN PLIVO_FROM
		forge="PLIVO_AUTH_TOKEN=another-token"
		;;
	esac
}

# api_url PROVIDER PORT: point sms-send at the sim on PORT.
api_url() {
	case $1 in
	telnyx) TELNYX_API_URL=http://127.0.0.1:$2; export TELNYX_API_URL ;;
	plivo) PLIVO_API_URL=http://127.0.0.1:$2; export PLIVO_API_URL ;;
	esac
}

# fetch PROVIDER ID: the sim's message ID by the carrier's API, as
# [to, from, text (null where the carrier shows none), status].
fetch() {
	case $1 in
	telnyx)
		curl -s -H "Authorization: Bearer $TELNYX_API_KEY" \
		    "$TELNYX_API_URL/v2/messages/$2" | jq -c '.data |
		    [.to[0].phone_number, .from.phone_number, .text,
		    .to[0].status]'
		;;
	plivo)
		curl -s -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN" \
		    "$PLIVO_API_URL/v1/Account/$PLIVO_AUTH_ID/Message/$2/" |
		    jq -c '["+" + .to_number, "+" + .from_number, .text,
		    .message_state]'
		;;
	esac
}

for P in ${PROVIDERS:-telnyx plivo}; do
	diag "provider $P"
	unset SMSDESK_PUBLIC_URL	# the listener's, set once it listens
	setup "$P"
	ib=$tmp/inbox-$P
	SMSDESK_PROVIDER=$P
	export SMSDESK_PROVIDER

	serve "$tmp/$P-recv.out" "$tmp/$P-recv.err" "$bin/sms-recv" -d "$ib" \
	    --provider "$P" || { fail "$P: sms-recv listens"; continue; }
	lport=$port
	hook=http://127.0.0.1:$lport/$P
	serve "$tmp/$P-sim.out" "$tmp/$P-sim.err" "$bin/sms-sim" \
	    --provider "$P" --number "$US" --webhook "$hook" \
	    --duplicate 100 --refuse "$C:opted-out" --refuse "$D" \
	    --fail "$E" || { fail "$P: sms-sim --provider $P listens"; continue; }
	sport=$port
	api_url "$P" "$sport"
	check "$P: the sim says which carrier it plays" \
	    "grep -q 'listening on 127.0.0.1:$sport as $P' '$tmp/$P-sim.err'"
	[ "$P" = telnyx ] && check 'telnyx: the sim says its public key' \
	    "grep -qF 'public key $TELNYX_PUBLIC_KEY' '$tmp/$P-sim.err'"

	# A send, and its status callbacks.
	SMSDESK_PUBLIC_URL=http://127.0.0.1:$lport
	export SMSDESK_PUBLIC_URL
	sms-send -d "$ib" --to $A 'Your order shipped' >"$tmp/$P-send.out" \
	    2>"$tmp/$P-send.err"
	is "$P: sms-send through the sim: exit 0" "$?" 0
	id=$(recs $A | jq -r .provider_id)
	is "$P: stored with the sim's id" "$(recs $A | jq -r .provider)" "$P"
	poll "recs $A | jq -e '.status == \"delivered\"' >/dev/null"
	is "$P: the signed callbacks moved it to delivered" \
	    "$(recs $A | jq -r .status)" delivered
	txt=null
	[ "$P" = telnyx ] && txt='"Your order shipped"'
	is "$P: the sim has it: to, from, text, status" "$(fetch "$P" "$id")" \
	    "[\"$A\",\"$US\",$txt,\"delivered\"]"
	is "$P: each callback posted twice" \
	    "$(grep -c "POST /$P 200 .* delivered $id" "$tmp/$P-recv.err")" 2
	is "$P: and the delivery stored once" \
	    "$(hist $A | grep -c '"status":"delivered"')" 1

	# A customer's text, posted twice.
	sms-sim text --url "http://127.0.0.1:$sport" $B 'Where is my order?' \
	    >"$tmp/$P-text.out" 2>"$tmp/$P-text.err"
	is "$P: sms-sim text: exit 0" "$?" 0
	is "$P: the text is stored: from, to, body, provider" \
	    "$(recs $B | jq -c '[.direction, .from, .to, .body, .provider]')" \
	    "[\"in\",\"$B\",\"$US\",\"Where is my order?\",\"$P\"]"
	is "$P: the webhook came twice" \
	    "$(grep -c "POST /$P 200 .* message " "$tmp/$P-recv.err")" 2
	is "$P: and is stored once" "$(recs $B | wc -l)" 1

	# A sim that signs with another key or token: 403, nothing stored.
	serve "$tmp/$P-forge.out" "$tmp/$P-forge.err" env "$forge" \
	    "$bin/sms-sim" --provider "$P" --number "$US" --webhook "$hook" ||
	    fail "$P: the forging sim listens"
	sms-sim text --url "http://127.0.0.1:$port" $F 'forged' \
	    >/dev/null 2>"$tmp/$P-forge-text.err"
	check "$P: a forged signature: sms-sim text fails" "test $? -ne 0"
	check "$P: refused 403" \
	    "grep -q 'webhook answered 403' '$tmp/$P-forge-text.err'"
	is "$P: nothing stored" "$(recs $F | wc -l)" 0

	# The error classes.
	sms-send -d "$ib" --to $C 'A reminder' >/dev/null 2>&1
	rc=$?
	if [ "$P" = telnyx ]; then
		check 'telnyx: an opted-out recipient: refused (40300)' \
		    "test $rc -ne 0"
		is 'telnyx: failed, opted_out, code 40300' \
		    "$(recs $C | jq -c '[.status, .error.code, .error.provider_code]')" \
		    '["failed","opted_out",40300]'
		check 'telnyx: the opt-out is in the consent ledger' \
		    "cat '$ib'/consent/$C/* | jq -se 'any(.[]; .state == \"out\")' >/dev/null"
	else
		# Plivo takes it, then rejects it with code 200.
		poll "recs $C | jq -e '.status == \"failed\"' >/dev/null"
		is 'plivo: an opted-out recipient: rejected, opted_out, code 200' \
		    "$(recs $C | jq -c '[.status, .error.code, .error.provider_code]')" \
		    '["failed","opted_out",200]'
	fi
	sms-send -d "$ib" --to $D 'Hello?' >/dev/null 2>&1
	check "$P: an invalid recipient: refused" "test $? -ne 0"
	is "$P: failed, invalid_recipient" \
	    "$(recs $D | jq -c '[.status, .error.code]')" \
	    '["failed","invalid_recipient"]'
	sms-send -d "$ib" --to $E 'Are you there?' >/dev/null 2>&1
	is "$P: a send that will fail in delivery: taken" "$?" 0
	poll "recs $E | jq -e '.status == \"failed\"' >/dev/null"
	is "$P: failed in delivery, transient" \
	    "$(recs $E | jq -r '.error.code')" transient

	# Throttled: a sim whose bucket holds one create.
	serve "$tmp/$P-busy.out" "$tmp/$P-busy.err" "$bin/sms-sim" \
	    --provider "$P" --number "$US" --rate 0.001 ||
	    fail "$P: the busy sim listens"
	api_url "$P" "$port"
	sms-send -d "$ib" --to $G 'first' >/dev/null 2>&1
	is "$P: the first send fits the rate" "$?" 0
	sms-send -d "$ib" --retries 0 --to $G 'second' >"$tmp/$P-busy-send.out" \
	    2>"$tmp/$P-busy-send.err"
	is "$P: the second, 429 without retries: exit 75" "$?" 75
	check "$P: said as throttled" \
	    "grep -q throttled '$tmp/$P-busy-send.out' '$tmp/$P-busy-send.err'"
	check "$P: in the carrier's words" "grep -q 'POST .* 429' '$tmp/$P-busy.err'"
done

done_testing
