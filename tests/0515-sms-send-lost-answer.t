#!/bin/sh
# sms-send --reconcile after a lost answer, for each provider sms-sim
# plays, for smsdesk(7), GUARANTEES: a send is never lost nor blindly
# repeated. The deterministic case of tests/0510's kill rounds.
. "$(dirname "$0")/lib.sh"

carriers_env 0515
unset SMSDESK_RECONCILE_GRACE

# --- A lost answer, settled by --reconcile, for each provider ---------------

# For each provider sms-sim plays: a message whose answer never comes
# (sms-sim --drop 100: created, the connection closed) is unknown; with
# every sms-send dead, --reconcile must find it at the provider, never
# call it not_sent (which tells the user to send it again: a blind
# repeat). Twilio's and Plivo's lists show it; Plivo's shows no texts, so
# it is told apart only when it is the one message of ours to that
# number without an id (two at once cannot be told apart: both stay, and
# it says so); Telnyx lists no messages: it stays, and it says so.
for P in $sms_sim_providers; do
	case " $providers " in *" $P "*) ;; *) continue ;; esac
	dib=$tmp/drop-$P
	mkinbox "$dib"
	serve "$tmp/drop-$P.out" "$tmp/drop-$P.err" sms-sim --provider "$P" \
	    --number "$US" --drop 100 --log "$tmp/drop-$P.log" ||
	    { fail "$P: the dropping sim starts"; continue; }
	dpid=$server
	(
		api_url "$P" "http://127.0.0.1:$port"
		SMSDESK_PROVIDER=$P SMSDESK_RECONCILE_GRACE=0
		export SMSDESK_PROVIDER SMSDESK_RECONCILE_GRACE
		sms-send -d "$dib" --to +15552990001 'only one' >/dev/null 2>&1
		echo "send:$?"
		sms-send -d "$dib" --reconcile >"$tmp/drop.out" 2>"$tmp/drop.err"
		echo "reconcile:$?:$(jq -r '.provider_id // .error.code' "$tmp/drop.out")"
		sms-send -d "$dib" --to +15552990002 'one of two' >/dev/null 2>&1
		sms-send -d "$dib" --to +15552990002 'two of two' >/dev/null 2>&1
		sms-send -d "$dib" --reconcile >"$tmp/drop.out" 2>"$tmp/drop2.err"
		echo "two:$?:$(jq -sr 'map(select(.to == "+15552990002") |
		    .provider_id // .error.code) | sort | join(",")' "$tmp/drop.out")"
	) >"$tmp/drop-$P.res"
	kill "$dpid"; wait "$dpid" 2>/dev/null
	# The sim's ids, as sms-send stores them (Telnyx's and Plivo's are
	# UUIDs made of the logged SM id).
	ids=$(jq -r 'select(.method == "POST" and .sid) | .sid' "$tmp/drop-$P.log" | if [ "$P" = twilio ]; then cat; else
	    sed 's/^SM\(........\)\(....\)\(....\)\(....\)\(.*\)/\1-\2-\3-\4-\5/'; fi)
	id1=$(echo "$ids" | sed -n 1p)
	is "$P: the answer lost: unknown (75)" "$(sed -n 1p "$tmp/drop-$P.res")" send:75
	case $P in
	telnyx)
		is "$P: --reconcile cannot tell: left as it is (75)" \
		    "$(sed -n 2p "$tmp/drop-$P.res")" reconcile:75:unknown
		check "$P: and says so" "grep -q 'lists no messages' '$tmp/drop.err'"
		is "$P: two to one number: both left (75)" \
		    "$(sed -n 3p "$tmp/drop-$P.res")" two:75:unknown,unknown ;;
	plivo)
		is "$P: --reconcile finds it, with the provider's id (0)" \
		    "$(sed -n 2p "$tmp/drop-$P.res")" "reconcile:0:$id1"
		is "$P: two to one number, a list without texts: neither taken, neither not_sent (75)" \
		    "$(sed -n 3p "$tmp/drop-$P.res")" two:75:unknown,unknown
		check "$P: and it says why" \
		    "grep -q 'without their text' '$tmp/drop2.err'" ;;
	*)
		is "$P: --reconcile finds it, with the provider's id (0)" \
		    "$(sed -n 2p "$tmp/drop-$P.res")" "reconcile:0:$id1"
		is "$P: two to one number: each found by its text (0)" \
		    "$(sed -n 3p "$tmp/drop-$P.res")" \
		    "two:0:$(echo "$ids" | sed -n 2,3p | sort | paste -sd, -)" ;;
	esac
done

done_testing
