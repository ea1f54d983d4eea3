#!/bin/sh
# sms-sim --provider (issue 19): the simulator plays Telnyx, Plivo and
# Vonage as it plays Twilio, so that each carrier is tested end to end
# offline. For each PROVIDER (telnyx, plivo and vonage; $PROVIDERS to
# choose): sms-send sends through the sim's API and the message is created
# as sent; sms-recv --listen --provider PROVIDER takes the sim's signed
# status callbacks and a customer's text (`sms-sim text`), each posted
# twice (--duplicate 100) and stored once; a sim that signs with another
# key or token is refused 403 and stores nothing, and so is one whose
# clock is 10 minutes behind (SMSDESK_NOW) where the carrier signs a time
# (Plivo's V3 signs none); and each error class comes out of the sim's
# faults in the carrier's own answers: opted_out (--refuse N:opted-out),
# invalid_recipient (--refuse N), transient (--fail N) and throttled
# (--rate). Vonage's texts are long: sent in parts, each part's id kept
# and each part's receipt folded into the one message; a customer's long
# text comes a part a webhook, last part first (--reorder 100), and is
# stored as one message; the webhooks by GET and signed by an HMAC too;
# the SMS API's signed requests, JSON bodies and refusals (a status in a
# 200), and --errors (a 5xx). Everything binds 127.0.0.1 on free ports.
. "$(dirname "$0")/lib.sh"

twilio_env 0440
unset SMSDESK_SIM_URL TELNYX_API_KEY TELNYX_FROM TELNYX_API_URL \
    TELNYX_PUBLIC_KEY TELNYX_MESSAGING_PROFILE_ID PLIVO_AUTH_ID \
    PLIVO_AUTH_TOKEN PLIVO_FROM PLIVO_API_URL PLIVO_POWERPACK_UUID \
    SMSDESK_SIM_TELNYX_SEED VONAGE_API_KEY VONAGE_API_SECRET VONAGE_FROM \
    VONAGE_API_URL VONAGE_SIGNATURE_SECRET VONAGE_SIGNATURE_METHOD

SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
FORGER=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100
A=+15551230001 B=+15551230002 C=+15551230003 D=+15551230004
E=+15551230005 F=+15551230006 G=+15551230007 H=+15551230008
K=+15551230009
# A text of three parts (GSM-7, 153 characters a part), and Vonage's.
LONG=$(printf 'Part %03d of a long text. ' $(seq 1 16))

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
	vonage)
		VONAGE_API_KEY=vkey0440 VONAGE_API_SECRET=vsec-0440
		VONAGE_SIGNATURE_SECRET=vsig-0440 VONAGE_FROM=$US
		export VONAGE_API_KEY VONAGE_API_SECRET VONAGE_SIGNATURE_SECRET \
		    VONAGE_FROM
		forge="VONAGE_SIGNATURE_SECRET=another-secret"
		;;
	esac
}

# api_url PROVIDER PORT: point sms-send at the sim on PORT.
api_url() {
	case $1 in
	telnyx) TELNYX_API_URL=http://127.0.0.1:$2; export TELNYX_API_URL ;;
	plivo) PLIVO_API_URL=http://127.0.0.1:$2; export PLIVO_API_URL ;;
	vonage) VONAGE_API_URL=http://127.0.0.1:$2; export VONAGE_API_URL ;;
	esac
}

# fetch PROVIDER ID: the sim's message ID by the carrier's API, as
# [to, from, text (null where the carrier shows none), status]; Vonage's
# SMS API has no lookup: the HTTP status of asking, at the path of its
# old search API.
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
	vonage)
		curl -s -o /dev/null -w '%{http_code}' \
		    "$VONAGE_API_URL/search/message?id=$2"
		;;
	esac
}

for P in ${PROVIDERS:-telnyx plivo vonage}; do
	diag "provider $P"
	unset SMSDESK_PUBLIC_URL	# the listener's, set once it listens
	setup "$P"
	ib=$tmp/inbox-$P
	SMSDESK_PROVIDER=$P
	export SMSDESK_PROVIDER
	# Vonage's parts: the customer's, and the receipts, last first.
	more=
	[ "$P" = vonage ] && more='--reorder 100'

	serve "$tmp/$P-recv.out" "$tmp/$P-recv.err" "$bin/sms-recv" -d "$ib" \
	    --provider "$P" || { fail "$P: sms-recv listens"; continue; }
	lport=$port
	hook=http://127.0.0.1:$lport/$P
	# shellcheck disable=SC2086
	serve "$tmp/$P-sim.out" "$tmp/$P-sim.err" "$bin/sms-sim" \
	    --provider "$P" --number "$US" --webhook "$hook" \
	    --duplicate 100 --refuse "$C:opted-out" --refuse "$D" \
	    --fail "$E" --log "$tmp/$P-sim.log" $more ||
	    { fail "$P: sms-sim --provider $P listens"; continue; }
	sport=$port
	api_url "$P" "$sport"
	check "$P: the sim says which carrier it plays" \
	    "grep -q 'listening on 127.0.0.1:$sport as $P' '$tmp/$P-sim.err'"
	[ "$P" = telnyx ] && check 'telnyx: the sim says its public key' \
	    "grep -qF 'public key $TELNYX_PUBLIC_KEY' '$tmp/$P-sim.err'"

	# A send, and its status callbacks; Vonage's a long text, in parts.
	SMSDESK_PUBLIC_URL=http://127.0.0.1:$lport
	export SMSDESK_PUBLIC_URL
	text='Your order shipped'
	[ "$P" = vonage ] && text=$LONG
	sms-send -d "$ib" --to $A "$text" >"$tmp/$P-send.out" \
	    2>"$tmp/$P-send.err"
	is "$P: sms-send through the sim: exit 0" "$?" 0
	id=$(recs $A | jq -r .provider_id)
	is "$P: stored with the sim's id" "$(recs $A | jq -r .provider)" "$P"
	poll "recs $A | jq -e '.status == \"delivered\"' >/dev/null"
	is "$P: the signed callbacks moved it to delivered" \
	    "$(recs $A | jq -r .status)" delivered
	case $P in
	telnyx)
		is "$P: the sim has it: to, from, text, status" \
		    "$(fetch "$P" "$id")" \
		    "[\"$A\",\"$US\",\"Your order shipped\",\"delivered\"]" ;;
	plivo)
		is "$P: the sim has it: to, from, text, status" \
		    "$(fetch "$P" "$id")" "[\"$A\",\"$US\",null,\"delivered\"]" ;;
	vonage)
		is 'vonage: the SMS API looks no message up: 404' \
		    "$(fetch "$P" "$id")" 404
		is 'vonage: three parts, a message-id each, all kept' \
		    "$(recs $A | jq -c '[.segments, (.provider_ids | length),
		    .provider_ids[0] == .provider_id]')" '[3,3,true]'
		poll "[ \$(grep -c ' delivered part [0-9]/3 ' \
		    '$tmp/$P-sim.err') -ge 3 ]"
		is 'vonage: a receipt each, last part first' \
		    "$(sed -n 's/.* delivered part \([0-9]\)\/3 .*/\1/p' \
		    "$tmp/$P-sim.err" | tr -d '\n')" 321
		is 'vonage: every part delivered, folded into one status' \
		    "$(recs $A | jq -c '[.part_status[]] | unique')" \
		    '["delivered"]'
		is 'vonage: the API secret is not in the --log' \
		    "$(grep -c "$VONAGE_API_SECRET" "$tmp/$P-sim.log")" 0
		is 'vonage: its parameter is, hidden' \
		    "$(jq -r 'select(.path == "/sms/json") | .params.api_secret' \
		    "$tmp/$P-sim.log" | sort -u)" '(hidden)' ;;
	esac
	n=1
	[ "$P" = vonage ] && n=3
	# The second of each comes after the first is answered.
	poll "[ \$(grep -c 'POST /$P 200 .* delivered ' '$tmp/$P-recv.err') \
	    -ge $((2 * n)) ]"
	is "$P: each callback posted twice" \
	    "$(grep -c "POST /$P 200 .* delivered " "$tmp/$P-recv.err")" \
	    $((2 * n))
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

	if [ "$P" = vonage ]; then
		# A long text: three webhooks, last part first, each twice.
		sms-sim text --url "http://127.0.0.1:$sport" $H "$LONG" \
		    >/dev/null 2>"$tmp/$P-long.err"
		is 'vonage: a long text in: exit 0' "$?" 0
		is 'vonage: its parts came last first' \
		    "$(sed -n 's/.* webhook SM[0-9a-f]* part \([0-9]\)\/3 .*/\1/p' \
		    "$tmp/$P-sim.err" | tr -d '\n')" 321
		is 'vonage: stored as one message, whole, every part'\''s id' \
		    "$(recs $H | jq -c '[.body == $t, .segments,
		    (.provider_ids | length)]' --arg t "$LONG")" '[true,3,3]'
		is 'vonage: once' "$(recs $H | wc -l)" 1
		is 'vonage: no part left waiting' \
		    "$(ls "$ib/parts" 2>/dev/null | wc -l)" 0
	fi

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

	# A sim whose clock is 10 minutes behind: its signatures are old.
	serve "$tmp/$P-old.out" "$tmp/$P-old.err" env \
	    SMSDESK_NOW="$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)" \
	    "$bin/sms-sim" --provider "$P" --number "$US" --webhook "$hook" ||
	    fail "$P: the late sim listens"
	sms-sim text --url "http://127.0.0.1:$port" $K 'late' \
	    >/dev/null 2>"$tmp/$P-old-text.err"
	rc=$?
	if [ "$P" = plivo ]; then
		# V3 signs the URL, the parameters and a nonce, no time.
		is 'plivo: V3 signs no time: a late sim is taken' "$rc" 0
		is 'plivo: stored' "$(recs $K | wc -l)" 1
	else
		check "$P: a signature 10 minutes old: sms-sim text fails" \
		    "test $rc -ne 0"
		check "$P: refused 403, outside the window" \
		    "grep -q 'webhook answered 403' '$tmp/$P-old-text.err' &&
		    grep -q 'POST /$P 403 .*\(more than 300 s\|outside\)' \
		    '$tmp/$P-recv.err'"
		is "$P: nothing stored" "$(recs $K | wc -l)" 0
	fi

	# The error classes.
	sms-send -d "$ib" --to $C 'A reminder' >/dev/null 2>&1
	rc=$?
	case $P in
	telnyx)
		check 'telnyx: an opted-out recipient: refused (40300)' \
		    "test $rc -ne 0"
		is 'telnyx: failed, opted_out, code 40300' \
		    "$(recs $C | jq -c '[.status, .error.code, .error.provider_code]')" \
		    '["failed","opted_out",40300]'
		check 'telnyx: the opt-out is in the consent ledger' \
		    "cat '$ib'/consent/$C/* | jq -se 'any(.[]; .state == \"out\")' >/dev/null"
		;;
	plivo)
		# Plivo takes it, then rejects it with code 200.
		poll "recs $C | jq -e '.status == \"failed\"' >/dev/null"
		is 'plivo: an opted-out recipient: rejected, opted_out, code 200' \
		    "$(recs $C | jq -c '[.status, .error.code, .error.provider_code]')" \
		    '["failed","opted_out",200]'
		;;
	vonage)
		# Taken (status 0); the receipts say err-code 9, maybe
		# before sms-send has settled it (then it exits 1).
		check 'vonage: an opted-out recipient: taken, status 0' \
		    "grep -q 'POST /sms/json 200 .* created SM[0-9a-f]* to $C' '$tmp/$P-sim.err'"
		poll "recs $C | jq -e '.status == \"failed\"' >/dev/null"
		is 'vonage: rejected, opted_out, err-code 9' \
		    "$(recs $C | jq -c '[.status, .error.code, .error.provider_code]')" \
		    '["failed","opted_out",9]'
		poll "cat '$ib'/consent/$C/* 2>/dev/null | grep -q provider"
		is 'vonage: the opt-out is in the consent ledger, the provider'\''s' \
		    "$(cat "$ib"/consent/$C/* 2>/dev/null | jq -c 'select(.state == "out" and .source == "provider") | .provider_code')" 9
		;;
	esac
	sms-send -d "$ib" --to $D 'Hello?' >/dev/null 2>&1
	check "$P: an invalid recipient: refused" "test $? -ne 0"
	is "$P: failed, invalid_recipient" \
	    "$(recs $D | jq -c '[.status, .error.code]')" \
	    '["failed","invalid_recipient"]'
	[ "$P" = vonage ] && is 'vonage: status 6, in a 200' \
	    "$(recs $D | jq -c '[.error.provider_code, .error.message]')" \
	    '[6,"Unroutable message - rejected"]'
	# Taken; its failure may come before sms-send has settled it (then
	# it exits 75, a failure that may pass).
	sms-send -d "$ib" --to $E 'Are you there?' >/dev/null 2>&1
	rc=$?
	check "$P: a send that will fail in delivery: taken" \
	    "grep -q 'POST .* 20[0-2] .* created SM[0-9a-f]* to $E' '$tmp/$P-sim.err'"
	check "$P: sms-send exits 0, or 75 if the failure came first" \
	    "test $rc -eq 0 || test $rc -eq 75"
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
	is "$P: the second, throttled without retries: exit 75" "$?" 75
	check "$P: said as throttled" \
	    "grep -q throttled '$tmp/$P-busy-send.out' '$tmp/$P-busy-send.err'"
	if [ "$P" = vonage ]; then
		check 'vonage: in its words: 200, status 1' \
		    "grep -q 'POST /sms/json 200 .* status 1 Throughput' '$tmp/$P-busy.err'"
	else
		check "$P: in the carrier's words" \
		    "grep -q 'POST .* 429' '$tmp/$P-busy.err'"
	fi
done

# Vonage's webhooks by GET, signed by an HMAC: the dashboard's settings,
# told to the sim and the listener alike.
case " ${PROVIDERS:-vonage} " in
*' vonage '*)
	setup vonage
	VONAGE_SIGNATURE_METHOD=sha256
	export VONAGE_SIGNATURE_METHOD
	ib=$tmp/inbox-vonage-get
	serve "$tmp/vget-recv.out" "$tmp/vget-recv.err" "$bin/sms-recv" \
	    -d "$ib" --provider vonage || fail 'vonage: the sha256 listener'
	hook=http://127.0.0.1:$port/vonage
	serve "$tmp/vget-sim.out" "$tmp/vget-sim.err" "$bin/sms-sim" \
	    --provider vonage --number "$US" --webhook "$hook" \
	    --webhook-method GET || fail 'vonage: the GET sim listens'
	check 'vonage: the sim says its signature method' \
	    "grep -q 'signed by sha256' '$tmp/vget-sim.err'"
	sms-sim text --url "http://127.0.0.1:$port" $B 'By GET' >/dev/null \
	    2>"$tmp/vget-text.err"
	is 'vonage: a text by GET, signed by sha256: exit 0' "$?" 0
	check 'vonage: it came by GET' \
	    "grep -q 'GET /vonage?.* 200 .* message ' '$tmp/vget-recv.err'"
	is 'vonage: stored' "$(recs $B | jq -r .body)" 'By GET'

	# The SMS API's other ways in, and its answers, all in a 200.
	vapi=http://127.0.0.1:$port/sms/json
	vst() {
		curl -s "$@" "$vapi" | jq -r '[.messages[] | .status] | join(",")'
	}
	form="api_key=$VONAGE_API_KEY&from=${US#+}&to=${A#+}&text=Signed"
	signed=$(printf '%s&timestamp=%s' "$form" "$(date +%s)" |
	    "$tools/vonage-sign" sha256)
	is 'vonage API: a request signed by sha256: taken' \
	    "$(vst --data-binary "$signed")" 0
	is 'vonage API: a forged one: 14' \
	    "$(vst --data-binary "$(printf '%s' "$signed" |
	    sed 's/text=Signed/text=Forged/')")" 14
	is 'vonage API: one signed 10 minutes ago: 14' \
	    "$(vst --data-binary "$(printf '%s&timestamp=%s' "$form" \
	    $(($(date +%s) - 600)) | "$tools/vonage-sign" sha256)")" 14
	is 'vonage API: a signature and the secret: 32' \
	    "$(vst --data-binary "$signed&api_secret=$VONAGE_API_SECRET")" 32
	is 'vonage API: the wrong secret: 4' \
	    "$(vst --data-binary "$form&api_secret=nope")" 4
	is 'vonage API: JSON, the key and secret by HTTP Basic: taken' \
	    "$(vst -u "$VONAGE_API_KEY:$VONAGE_API_SECRET" \
	    -H 'Content-Type: application/json' \
	    --data-binary "{\"from\":\"${US#+}\",\"to\":\"${A#+}\",\"text\":\"JSON\"}")" 0
	is 'vonage API: no to: 2' \
	    "$(vst --data-binary "api_key=$VONAGE_API_KEY&api_secret=$VONAGE_API_SECRET&from=1&text=x")" 2
	is 'vonage API: a to that is no number: 3' \
	    "$(vst --data-binary "api_key=$VONAGE_API_KEY&api_secret=$VONAGE_API_SECRET&from=1&to=abc&text=x")" 3
	serve "$tmp/verr.out" "$tmp/verr.err" "$bin/sms-sim" \
	    --provider vonage --number "$US" --errors 100 ||
	    fail 'vonage: the failing sim listens'
	VONAGE_API_URL=http://127.0.0.1:$port sms-send -d "$ib" --retries 0 \
	    --to $G 'a server error' >/dev/null 2>&1
	check 'vonage: --errors: sms-send does not say sent' "test $? -ne 0"
	check 'vonage: answered 500 or 503, not a status in a 200' \
	    "grep -q 'POST /sms/json 50[03] ' '$tmp/verr.err'"
	is 'vonage: transient, or unknown (a 500 may have sent it)' \
	    "$(recs $G | jq -r '.error.code')" \
	    "$(grep -q 'POST /sms/json 503 ' "$tmp/verr.err" && echo transient ||
	    echo unknown)"
	check 'sms-sim: --webhook-method GET is for vonage only' \
	    "! sms-sim --provider plivo --webhook-method GET 2>'$tmp/vget-usage.err' &&
	    grep -q 'only for --provider vonage' '$tmp/vget-usage.err'"
	unset VONAGE_SIGNATURE_METHOD
	;;
esac

done_testing
