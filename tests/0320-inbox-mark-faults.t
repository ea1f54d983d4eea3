#!/bin/sh
# inbox-mark(1) when the disk fails under it: smsdesk(7), GUARANTEES,
# failures are loud, for the program that changes conversations.
#
# tests/shim/faults.c, preloaded, makes the k-th call that changes a file
# fail with ENOSPC (once), for k = 1, 2, ... until k is past the last call.
# Each run tags and resolves three conversations at once. After
# each run, without the shim:
#   - it exited non-zero and said why;
#   - every conversation it reported changed is changed on disk, and each
#     is either entirely as before or entirely as asked (never half);
#   - listings succeed and nothing is quarantined;
#   - the same command again (the user's retry) leaves all three changed.
# Prints: program, fault_points_tried, violations (must be 0).
. "$(dirname "$0")/lib.sh"

unset SMSDESK_INBOX SMSDESK_COUNTRY SMSDESK_NOW
XDG_CONFIG_HOME=$tmp/config HOME=$tmp/home
export XDG_CONFIG_HOME HOME

if ! faults_env; then
	skip 'fault injection' "no $shim (run make)"
	done_testing
fi

# A template inbox: three customers with an open conversation each.
for n in 1 2 3; do
	printf '{"from":"+1555123000%d","to":"+15550000000","provider_id":"SMm%d","body":"hello %d"}\n' \
	    "$n" "$n" "$n"
done | sms-recv -d "$tmp/template" >/dev/null 2>"$tmp/err" ||
	fail "the template inbox: $(cat "$tmp/err")"
threads='+15551230001 +15551230002 +15551230003'

# state IB: each conversation's [thread, status, assignee, tags], sorted.
state() {
	inbox-ls -d "$1" --all --json 2>"$tmp/ls.err" |
	    jq -sc 'map([.thread, .status, .assignee, (.tags // [])]) | sort'
}
before=$(state "$tmp/template")
want='[["+15551230001","resolved",null,["refund"]],["+15551230002","resolved",null,["refund"]],["+15551230003","resolved",null,["refund"]]]'

k=0 violations=0
while :; do
	k=$((k + 1))
	ib=$tmp/ib-$k
	cp -a "$tmp/template" "$ib"
	rm -f "$tmp/calls"
	SMSDESK_FAULT_AT=$k SMSDESK_FAULT_LOG=$tmp/calls LD_PRELOAD=$shim \
	    inbox-mark -d "$ib" --tag refund --resolve $threads \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ ! -s "$tmp/calls" ] || [ "$rc" -ge 128 ]; then
		violations=$((violations + 1))
		diag "k=$k: inbox-mark died (exit $rc): $(tail -c 300 "$tmp/err")"
		[ "$k" -lt 200 ] && continue
		break
	fi
	[ "$(cat "$tmp/calls")" -lt "$k" ] && break
	bad=$(
		[ "$rc" -ne 0 ] || echo "exit 0 after a fault"
		grep -q 'No space left on device' "$tmp/err" ||
		    echo "the error is not reported: $(head -c 200 "$tmp/err")"
		now=$(state "$ib") || echo "listing failed: $(cat "$tmp/ls.err")"
		[ -z "$(ls "$ib/quarantine")" ] || echo "quarantined files"
		# Each conversation all before or all after; each reported
		# one all after.
		jq -rn --argjson b "$before" --argjson n "${now:-[]}" \
		    --argjson w "$want" '
		    range(0; 3) as $i |
		    select($n[$i] != $b[$i] and $n[$i] != $w[$i]) |
		    "half-changed: \($n[$i])"'
		for t in $(jq -r '.conversation.thread // empty' "$tmp/out" 2>/dev/null); do
			echo "$now" | jq -e --arg t "$t" --argjson w "$want" \
			    '.[] | select(.[0] == $t) | . as $c | $w | index([$c])' \
			    >/dev/null || echo "reported $t changed, it is not"
		done
		inbox-mark -d "$ib" --tag refund --resolve $threads \
		    >/dev/null 2>"$tmp/retry.err" ||
		    echo "retry failed: $(head -c 200 "$tmp/retry.err")"
		[ "$(state "$ib")" = "$want" ] || echo "after retry: $(state "$ib")"
		inbox_damage "$ib"
	)
	if [ -n "$bad" ]; then
		violations=$((violations + 1))
		diag "k=$k: $bad"
	fi
	rm -rf "$ib"
done
tried=$((k - 1))
diag "program=inbox-mark fault_points_tried=$tried violations=$violations"
check "inbox-mark, one failing call: $tried fault points, no half change" \
    "[ $violations -eq 0 ] && [ $tried -gt 5 ]"
is 'with no fault left: exit 0, all three changed' "$rc:$(state "$ib")" "0:$want"
inbox_check "$ib"

done_testing
