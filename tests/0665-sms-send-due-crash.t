#!/bin/sh
# sms-send(1) --due killed (SIGKILL) in the middle, for smsdesk(7),
# GUARANTEES: a send is never lost nor blindly repeated, a scheduled one
# too.
#
# A --due run claims each message under its thread's lock (scheduled ->
# queued, in outbox/, synced) before its request; a run killed after the
# claim leaves a queued message without a provider id, exactly as a
# crashed ordinary send, and the next --due leaves it alone (it is no
# longer scheduled). `sms-send --reconcile` then settles it: found at the
# provider, it gets its id; not found (the request never left), it is
# scheduled again, for the next --due, until it expires.
#
# First the two cases one at a time, each made certain: the request has
# reached the provider (stopped with SIGSTOP, so that it sits in its
# socket) when the run is killed; and the message is claimed but waits
# for its --rate slot when the run is killed. Then rounds of --due runs
# over 300 reminders, each SIGKILLed after a random 20 to 300 ms until
# one finishes (sms-sim answering after 20 ms), then --reconcile and
# --due until nothing is left: every reminder created at the provider
# exactly once.
#
# The seed is printed; SMSDESK_SEED=N replays a run's kill times.
# SMSDESK_CRASH_SECONDS is the time budget of the kill rounds (default 10).
. "$(dirname "$0")/lib.sh"

twilio_env 0665
unset SMSDESK_NOW SMSDESK_RECONCILE_GRACE SMSDESK_AGENT

seed=${SMSDESK_SEED:-$$}
budget=$(rounds SMSDESK_CRASH_SECONDS 10)
diag "seed=$seed (SMSDESK_SEED=$seed replays it)"
ib=$tmp/inbox
mkinbox "$ib"
# The clock, pinned an hour back (the provider's stays real, so that
# --reconcile's look for a message created after its claim is sound; the
# sim reads SMSDESK_NOW too, so it is started without it: real_sim):
# messages are scheduled at T0 for T1, and the --due runs are at T2.
T0=$(from_now -3600) T1=$(from_now -3540) T2=$(from_now -3480)
SMSDESK_NOW=$T0
export SMSDESK_NOW
pid=
# real_sim [NAME [ARG...]]: sim, on the real clock.
real_sim() {
	rs_now=$SMSDESK_NOW
	unset SMSDESK_NOW
	sim "$@"
	rs_rc=$?
	SMSDESK_NOW=$rs_now
	export SMSDESK_NOW
	return "$rs_rc"
}
trap 'for p in $pid $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# last THREAD: the record of THREAD's (only) message, its file's last line.
last() { tail -n 1 "$ib/msg/$1"/*; }
# listed BODY: how many messages with BODY the provider lists.
listed() {
	curl -s -u "$AC:$TOK" \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json?PageSize=1000" |
	    jq --arg b "$1" '[.messages[] | select(.body == $b)] | length'
}
# waiting: a connection to the provider's port holds bytes it has not
# read (/proc/net/tcp: established, rx_queue not 0).
waiting() {
	awk -v p=":$(printf '%04X' "$port")" '$2 ~ p "$" && $4 == "01" {
	    split($5, q, ":"); if (q[2] != "00000000") f = 1 }
	    END { exit !f }' /proc/net/tcp
}
# due ARG...: sms-send --due at T2, in the background; pid its pid.
due() {
	SMSDESK_NOW=$T2 sms-send -d "$ib" --due "$@" >"$tmp/due.out" \
	    2>"$tmp/due.err" &
	pid=$!
}
# at2 CMD...: CMD at T2.
at2() { SMSDESK_NOW=$T2 "$@"; }
# killed: SIGKILL the --due run; 0 if it was still running.
killed() {
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	k_rc=$?
	pid=
	[ "$k_rc" -eq 137 ]
}

# --- Killed with its request at the provider --------------------------------

# The provider stopped (SIGSTOP): the kernel takes the connection and the
# request into its buffers, and nobody answers. The run is killed there,
# then the provider goes on and creates the message.
real_sim || { fail 'sms-sim starts'; done_testing; }
sms-send -d "$ib" --at "$T1" --to +13125550100 "Stalled at the provider" >/dev/null
kill -STOP "$simpid"
due
check 'the request waits in the provider'"'"'s socket' 'poll waiting'
check 'claimed meanwhile: queued, no provider id, in the outbox' \
	'last +13125550100 | jq -e ".status == \"queued\" and (.provider_id | not)" &&
	 outbox_ids "$ib" | grep -q .'
killed
is 'killed before the answer came' "$k_rc" 137
kill -CONT "$simpid"
check 'the provider has the message' \
	'poll "[ \"\$(listed \"Stalled at the provider\")\" = 1 ]"'
check 'out of the schedule' \
	'[ "$(inbox-ls -d "$ib" --scheduled | wc -l)" -eq 0 ]'
check_exit 'another --due: nothing to send, exit 0' 0 \
	'at2 sms-send -d "$ib" --due >"$tmp/out"'
is 'nothing printed, nothing sent again' \
	"$(wc -c <"$tmp/out"):$(listed 'Stalled at the provider')" '0:1'
check_exit '--reconcile (every --due is dead: no grace)' 0 \
	'SMSDESK_RECONCILE_GRACE=0 at2 sms-send -d "$ib" --reconcile >"$tmp/out"'
check 'it found the message at the provider: its id' \
	'jq -e ".provider_id | startswith(\"SM\")" "$tmp/out" &&
	 last +13125550100 | jq -e ".provider_id"'
is 'created once' "$(listed 'Stalled at the provider')" 1

# --- Killed with a claim waiting for its --rate slot ---------------------------

sms-send -d "$ib" --at "$T1" --to +13125550200 "First" >/dev/null
sms-send -d "$ib" --at "$T1" --to +13125550201 "Second" >/dev/null
due --rate 1/h
check 'the first goes, the second is claimed and waits for its slot' \
	'poll "[ \"\$(listed First)\" = 1 ] &&
	    last +13125550201 | jq -e \".status == \\\"queued\\\"\" >/dev/null"'
killed
is 'killed while it waits' "$k_rc" 137
is 'the second never reached the provider' "$(listed Second)" 0
check_exit 'another --due: it is claimed, nothing is sent' 0 \
	'at2 sms-send -d "$ib" --due >"$tmp/out"'
is 'nothing sent' "$(listed Second):$(wc -c <"$tmp/out")" '0:0'
check_exit '--reconcile: not at the provider, so scheduled again' 0 \
	'SMSDESK_RECONCILE_GRACE=0 at2 sms-send -d "$ib" --reconcile >"$tmp/out" 2>"$tmp/err"'
check 'printed scheduled, said on stderr' \
	'jq -se "map(select(.to == \"+13125550201\")) | .[0].status == \"scheduled\"" "$tmp/out" &&
	 grep -q "scheduled again" "$tmp/err"'
check 'back in the schedule' \
	'inbox-ls -d "$ib" --scheduled | jq -e ".to == \"+13125550201\""'
check_exit 'the next --due sends it' 0 'at2 sms-send -d "$ib" --due >"$tmp/out"'
is 'once' "$(listed Second):$(listed First)" '1:1'
check 'with its id' 'last +13125550201 | jq -e ".provider_id and .status != \"scheduled\""'

# --- A claim that waits long, given back by --reconcile meanwhile -----------

# A run waits 20 s for the --rate slot of its second claim; --reconcile
# (no grace) finds the provider without it and schedules it again, and
# another --due sends it. When its slot comes, the first run must see
# that the claim is no longer its own, and send nothing.
rm -f "$ib"/rate/*	# the killed run's slots, an hour apart
sms-send -d "$ib" --at "$T1" --to +13125550300 "Third" >/dev/null
sms-send -d "$ib" --at "$T1" --to +13125550301 "Fourth" >/dev/null
due --rate 0.05/s
slow=$pid
check 'the first goes, the second is claimed and waits for its slot' \
	'poll "[ \"\$(listed Third)\" = 1 ] &&
	    last +13125550301 | jq -e \".status == \\\"queued\\\"\" >/dev/null"'
check_exit 'meanwhile --reconcile gives the claim back' 0 \
	'SMSDESK_RECONCILE_GRACE=0 at2 sms-send -d "$ib" --reconcile >/dev/null 2>"$tmp/rec.err"'
check_exit 'and another --due sends it' 0 \
	'at2 sms-send -d "$ib" --due >/dev/null'
wait "$slow"
is 'the waiting run ends without sending it again: once' \
	"$(listed Fourth)" 1
pid=
check 'it said why (unless it sent before --reconcile looked)' \
	'grep -q "no longer this run" "$tmp/due.err" ||
	 ! grep -q "scheduled again" "$tmp/rec.err"'

# --- Kill rounds ----------------------------------------------------------------

# 300 reminders to 60 numbers, all due at T2, unique bodies.
jq -nc --arg s "$seed" --arg at "$T1" 'range(300) as $i | {to: ("+1312556" + ($i % 60 + 1000 | tostring)),
    body: "reminder \($i) of run \($s)", at: $at}' >"$tmp/in"
sms-send -d "$ib" <"$tmp/in" >"$tmp/stored"
is '300 scheduled' "$(jq -s 'map(select(.status == "scheduled")) | length' "$tmp/stored")" 300
kill "$simpid"
SMSDESK_NOW=$T2
real_sim sim2 --latency 20 || { fail 'sms-sim starts'; done_testing; }
awk -v seed="$seed" 'BEGIN { srand(seed); for (i = 0; i < 400; i++)
	printf "%.3f %d\n", (20 + int(rand() * 281)) / 1000, rand() < 0.5 ? 1 : 4 }' \
    >"$tmp/rounds"
rounds=0 kills=0 finished=
t0=$(date +%s)
while read -r d j; do
	rounds=$((rounds + 1))
	if [ $(($(date +%s) - t0)) -ge "$budget" ]; then
		sms-send -d "$ib" --due --jobs 4 >"$tmp/out.$rounds" 2>&1
		finished=last
		break
	fi
	sms-send -d "$ib" --due --jobs "$j" >"$tmp/out.$rounds" 2>&1 &
	pid=$!
	sleep "$d"
	if killed; then
		kills=$((kills + 1))
	else
		finished=round
		break
	fi
done <"$tmp/rounds"
diag "rounds=$rounds kills=$kills finished_by=$finished"
check 'a run finished' '[ -n "$finished" ]'
# Settle what the kills left, until nothing is left to send.
for i in 1 2 3; do
	SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib" --reconcile >/dev/null 2>&1
	sms-send -d "$ib" --due >/dev/null 2>&1
done
jq -r 'select(.method == "POST" and (.path | endswith("/Messages.json"))) |
    .params.Body' "$tmp/sim2.log" | sort >"$tmp/created"
is 'no reminder created twice (blind duplicates)' \
	"$(uniq -d "$tmp/created" | wc -l | tr -d ' ')" 0
is 'every reminder created (none lost)' \
	"$(jq -r .body "$tmp/in" | sort | comm -23 - "$tmp/created" | wc -l | tr -d ' ')" 0
check 'nothing scheduled, queued without an id, or unknown is left' \
	'for f in "$ib"/msg/+1312556*/*; do tail -n 1 "$f"; done |
	 jq -se "all(.provider_id and .status != \"unknown\")"'
is 'and the schedule is empty' "$(inbox-ls -d "$ib" --scheduled | wc -l | tr -d ' ')" 0
inbox_check "$ib"

done_testing
