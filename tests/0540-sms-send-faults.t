#!/bin/sh
# sms-send(1) when the disk fails under it: smsdesk(7), GUARANTEES,
# failures are loud and a send is never lost nor blindly repeated, together.
#
# tests/shim/faults.c, preloaded, makes the k-th call that changes a file
# fail with ENOSPC, for k = 1, 2, ... until k is past the last call the
# run makes. Three keyed messages go to sms-sim each time. After each run:
#   - it exited non-zero and said why;
#   - no blind send: every message the provider received was in the
#     inbox (queued) before the request, so it can be found and settled;
#   - after the user's recovery (the same input again, which the keys make
#     safe, then --reconcile), the provider has received each message
#     exactly once and the inbox holds each, settled with its id.
# Prints: program, fault_points_tried, violations (must be 0).
#
# For each provider sms-sim plays (lib.sh's sms_sim_providers, those of
# $PROVIDERS), each with its own sim: fault point k is tried with one
# provider, the providers in turn (k mod N among those whose run still
# makes k calls), so that each meets a share of the points and the run
# takes the time of one provider. Telnyx lists no messages: a message
# the fault left without knowing whether it went stays so (sms-send(1),
# Reconciling), never sent again; for Telnyx such a message may be
# missing at the provider or lack its id in the inbox, but must then be
# in the outbox, and nothing is ever sent twice.
. "$(dirname "$0")/lib.sh"

carriers_env 0540
unset SMSDESK_PRICE SMSDESK_PRICE_UNIT
SMSDESK_RECONCILE_GRACE=0
export SMSDESK_RECONCILE_GRACE
if ! faults_env; then
	skip 'fault injection' "no $shim (run make)"
	done_testing
fi

sims=
for P in $sms_sim_providers; do
	case " $providers " in *" $P "*) sims="$sims $P" ;; esac
done
for P in $sims; do
	serve /dev/null "$tmp/sim-$P.err" sms-sim --provider "$P" \
	    --log "$tmp/sim-$P.log" --number "$US" ||
	    { fail "$P: sms-sim starts"; done_testing; }
	api_url "$P" "http://127.0.0.1:$port"
	check "$P: sms-sim starts" "grep -qs 'listening on' '$tmp/sim-$P.err'"
done

# creates TAG: the messages $P's sim created, as [to, id] pairs, sorted:
# for Twilio those whose body ends in TAG (its log has the body), for the
# others those created since the log's line $mark, each one's recipient
# asked of the sim (their log has no JSON body), the id as sms-send
# stores it (a UUID made of the logged SM id).
creates() {
	case $P in
	twilio)
		jq -sc --arg t "$1" '[.[] | select(.type == "request" and
		    .method == "POST" and .status == 201 and
		    (.params.Body | endswith($t))) | [.params.To, .sid]] |
		    sort' "$tmp/sim-$P.log" ;;
	*)
		tail -n +$((mark + 1)) "$tmp/sim-$P.log" | jq -r 'select(
		    .method == "POST" and (.status == 200 or .status == 202)
		    and .sid) | .sid' |
		    sed 's/^SM\(........\)\(....\)\(....\)\(....\)\(.*\)/\1-\2-\3-\4-\5/' |
		while read -r c_id; do
			if [ "$P" = telnyx ]; then
				curl -s -H "Authorization: Bearer $TELNYX_API_KEY" \
				    "$TELNYX_API_URL/v2/messages/$c_id" |
				    jq -c --arg i "$c_id" '[.data.to[0].phone_number, $i]'
			else
				curl -s -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN" \
				    "$PLIVO_API_URL/v1/Account/$PLIVO_AUTH_ID/Message/$c_id/" |
				    jq -c --arg i "$c_id" '["+" + .to_number, $i]'
			fi
		done | jq -sc 'sort' ;;
	esac
}

# next_provider K: the provider of fault point K, the K-th (mod N) of
# $sims not in $finished; fails if none is left.
next_provider() {
	set -- $(for np_p in $sims; do
		case " $finished " in *" $np_p "*) ;; *) echo "$np_p" ;; esac
	done)
	[ $# -gt 0 ] || return 1
	eval "echo \${$(($1 % $# + 1))}"
}

# stored IB TAG: the outbound messages of IB whose body ends in TAG, as
# [to, provider_id] pairs, sorted; fails if the listing fails.
stored() {
	inbox-ls -d "$1" --all --messages --json >"$tmp/ls" 2>"$tmp/ls.err" &&
	    jq -sc --arg t "$2" '[.[] | select(.direction == "out" and
		(.body | endswith($t))) | [.to, .provider_id]] | sort' "$tmp/ls"
}

k=0 violations=0 finished=
while :; do
	k=$((k + 1))
	P=$(next_provider "$k") || break
	SMSDESK_PROVIDER=$P
	export SMSDESK_PROVIDER
	mark=$(wc -l <"$tmp/sim-$P.log" | tr -d ' ')
	tag=" #$k"
	ib=$tmp/ib-$k
	mkinbox "$ib"
	for n in 1 2 3; do
		printf '{"to":"+1555%04d%03d","body":"Order %d shipped%s","key":"k%d-%d"}\n' \
		    "$k" "$n" "$n" "$tag" "$k" "$n"
	done >"$tmp/in"
	rm -f "$tmp/calls"
	SMSDESK_FAULT_AT=$k SMSDESK_FAULT_LOG=$tmp/calls LD_PRELOAD=$shim \
	    sms-send -d "$ib" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ ! -s "$tmp/calls" ] || [ "$rc" -ge 128 ]; then
		violations=$((violations + 1))
		diag "k=$k ($P): sms-send died (exit $rc): $(tail -c 300 "$tmp/err")"
		[ "$k" -lt 400 ] && continue
		break
	fi
	calls=$(cat "$tmp/calls")
	if [ "$calls" -lt "$k" ]; then
		# No fault met: P's clean run, kept to be checked.
		finished="$finished $P"
		echo "$rc:$(creates "$tag" | jq 'length'):$(stored "$ib" "$tag" | jq 'map(select(.[1] != null)) | length')" \
		    >"$tmp/clean.$P"
		rm -rf "$ib"
		continue
	fi
	bad=$(
		[ "$rc" -ne 0 ] || echo "exit 0 after a fault"
		grep -q 'No space left on device' "$tmp/err" ||
		    echo "the error is not reported: $(head -c 200 "$tmp/err")"
		sent=$(creates "$tag")
		if [ "$sent" != '[]' ]; then
			# Each message the provider has must be in the inbox.
			if ! have=$(stored "$ib" "$tag"); then
				echo "listing failed: $(head -c 200 "$tmp/ls.err")"
			else
				jq -rn --argjson s "$sent" --argjson h "$have" '
				    ($h | map(.[0])) as $to |
				    $s[] | select(.[0] as $x | $to | index($x) | not) |
				    "sent to \(.[0]) with nothing in the inbox"'
			fi
		fi
		# Recovery: the same input (keys), then --reconcile.
		sms-send -d "$ib" <"$tmp/in" >/dev/null 2>"$tmp/again.err"
		sms-send -d "$ib" --reconcile >/dev/null 2>>"$tmp/again.err"
		sent=$(creates "$tag")
		have=$(stored "$ib" "$tag") || echo "listing after recovery failed"
		if [ "$P" = telnyx ]; then
			# Nothing twice; what is not at the provider, or has
			# no id in the inbox, is in the outbox, said.
			[ "$(echo "$sent" | jq '[.[][0]] | unique | length')" = \
			    "$(echo "$sent" | jq 'length')" ] ||
			    echo "the provider got $sent"
			jq -rn --argjson s "$sent" --argjson h "$have" '
			    $h[] | select(.[1] != null) | select(. as $x |
			    $s | index([$x]) | not) |
			    "inbox \(.) not at the provider"'
			out_n=$(outbox_files "$ib" | while read -r f; do
			    tail -n 1 "$f" | jq -r 'select(.provider_id == null) | .to'; done |
			    sort -u | wc -l | tr -d ' ')
			[ "$(echo "$have" | jq 'map(select(.[1] == null)) | length')" = \
			    "$out_n" ] || echo "without an id, not in the outbox: $have"
		else
			[ "$(echo "$sent" | jq 'length')" = 3 ] &&
			    [ "$(echo "$sent" | jq '[.[][0]] | unique | length')" = 3 ] ||
			    echo "the provider got $sent"
			[ "$sent" = "$have" ] || echo "provider $sent, inbox $have"
		fi
		inbox_damage "$ib"
	)
	if [ -n "$bad" ]; then
		violations=$((violations + 1))
		diag "k=$k ($P): $bad"
	fi
	rm -rf "$ib"
done
tried=$((k - 1))
diag "program=sms-send fault_points_tried=$tried violations=$violations"
check "sms-send, one failing call: $tried fault points over $(echo $sims | tr ' ' ,), none lost, none sent twice" \
    "[ $violations -eq 0 ] && [ $tried -gt 20 ]"
for P in $sims; do
	is "$P: with no fault left: exit 0, three sent and stored" \
	    "$(cat "$tmp/clean.$P" 2>/dev/null)" '0:3:3'
done

done_testing
