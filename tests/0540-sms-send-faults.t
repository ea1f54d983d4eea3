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
. "$(dirname "$0")/lib.sh"

twilio_env 0540
unset SMSDESK_PRICE SMSDESK_PRICE_UNIT
SMSDESK_RECONCILE_GRACE=0
export SMSDESK_RECONCILE_GRACE
if ! faults_env; then
	skip 'fault injection' "no $shim (run make)"
	done_testing
fi

serve /dev/null "$tmp/sim.err" sms-sim --log "$tmp/sim.log" --number "$US"
TWILIO_API_URL=http://127.0.0.1:$port
export TWILIO_API_URL
check 'sms-sim starts' "grep -qs 'listening on' '$tmp/sim.err'" ||
	{ done_testing; }

# creates TAG: the messages sms-sim created whose body ends in TAG, as
# [to, sid] pairs, sorted.
creates() {
	jq -sc --arg t "$1" '[.[] | select(.type == "request" and
	    .method == "POST" and .status == 201 and
	    (.params.Body | endswith($t))) | [.params.To, .sid]] | sort' \
	    "$tmp/sim.log"
}

# stored IB TAG: the outbound messages of IB whose body ends in TAG, as
# [to, provider_id] pairs, sorted; fails if the listing fails.
stored() {
	inbox-ls -d "$1" --all --messages --json >"$tmp/ls" 2>"$tmp/ls.err" &&
	    jq -sc --arg t "$2" '[.[] | select(.direction == "out" and
		(.body | endswith($t))) | [.to, .provider_id]] | sort' "$tmp/ls"
}

k=0 violations=0
while :; do
	k=$((k + 1))
	tag=" #$k"
	ib=$tmp/ib-$k
	mkinbox "$ib"
	for n in 1 2 3; do
		printf '{"to":"+1555123000%d","body":"Order %d shipped%s","key":"k%d-%d"}\n' \
		    "$n" "$n" "$tag" "$k" "$n"
	done >"$tmp/in"
	rm -f "$tmp/calls"
	SMSDESK_FAULT_AT=$k SMSDESK_FAULT_LOG=$tmp/calls LD_PRELOAD=$shim \
	    sms-send -d "$ib" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ ! -s "$tmp/calls" ] || [ "$rc" -ge 128 ]; then
		violations=$((violations + 1))
		diag "k=$k: sms-send died (exit $rc): $(tail -c 300 "$tmp/err")"
		[ "$k" -lt 400 ] && continue
		break
	fi
	calls=$(cat "$tmp/calls")
	[ "$calls" -lt "$k" ] && break
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
		[ "$(echo "$sent" | jq 'length')" = 3 ] &&
		    [ "$(echo "$sent" | jq '[.[][0]] | unique | length')" = 3 ] ||
		    echo "the provider got $sent"
		[ "$sent" = "$have" ] || echo "provider $sent, inbox $have"
	)
	if [ -n "$bad" ]; then
		violations=$((violations + 1))
		diag "k=$k: $bad"
	fi
	rm -rf "$ib"
done
tried=$((k - 1))
diag "program=sms-send fault_points_tried=$tried violations=$violations"
check "sms-send, one failing call: $tried fault points, none lost, none sent twice" \
    "[ $violations -eq 0 ] && [ $tried -gt 20 ]"
is 'with no fault left: exit 0, three sent and stored' \
    "$rc:$(creates "$tag" | jq 'length'):$(stored "$ib" "$tag" | jq 'map(select(.[1] != null)) | length')" \
    '0:3:3'

done_testing
