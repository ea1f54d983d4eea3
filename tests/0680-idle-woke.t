#!/bin/sh
# inbox-ls --idle and --woke (issue 18), on the pinned clock
# (SMSDESK_NOW). --idle DURATION: conversations whose last message, in or
# out (a notice too), is that old; with --status pending, those we
# answered whose customer went silent. --woke: every snoozed conversation
# whose time has come is woken, under its lock, with one
# conversation.woke event printed by the run that woke it: two runs at
# once print each wake once. A writer that changes a conversation whose
# snooze ran out (inbox-mark, an inbound message) wakes it too, and the
# history says "woke" once.
. "$(dirname "$0")/lib.sh"

ib=$tmp/inbox
mkinbox "$ib"
inbox_check_skip=$ib	# hand-made (mkconv): counts messages it has not
NOW=2026-11-10T12:00:00Z
export SMSDESK_NOW=$NOW
unset SMSDESK_AGENT

# --- --idle ------------------------------------------------------------------

PA=+15556800001 PB=+15556800002 PC=+15556800003 O1=+15556800004
N1=+15556800005
# PA: answered 3 days ago; PB: answered an hour ago; PC: a notice went
# out an hour ago after an answer 3 days ago; O1: open, the customer
# wrote 3 days ago; N1: no message at all.
mkconv "$ib" $PA '{"status":"pending","last_in_at":"2026-11-07T10:00:00Z",
	"last_out_at":"2026-11-07T11:00:00Z","messages":2}'
mkconv "$ib" $PB '{"status":"pending","last_in_at":"2026-11-07T10:00:00Z",
	"last_out_at":"2026-11-10T11:00:00Z","messages":2}'
mkconv "$ib" $PC '{"status":"pending","last_in_at":"2026-11-07T10:00:00Z",
	"last_out_at":"2026-11-07T11:00:00Z",
	"last_auto_at":"2026-11-10T11:00:00Z","messages":3}'
mkconv "$ib" $O1 '{"status":"open","last_in_at":"2026-11-07T10:00:00Z",
	"waiting_since":"2026-11-07T10:00:00Z"}'
mkconv "$ib" $N1 '{"status":"pending","messages":0}'

# idle ARGS...: the threads inbox-ls lists, sorted, on one line.
idle() { inbox-ls --dir "$ib" --json "$@" | jq -r .thread | sort |
    tr '\n' ' '; }

is '--status pending --idle 48h: the one answered 3 days ago, silent since' \
	"$(idle --status pending --idle 48h)" "$PA "
is '--idle 48h alone: the working set'"'"'s idle ones, open too' \
	"$(idle --idle 48h)" "$PA $O1 "
is '--idle 1h: an hour to the second counts' \
	"$(idle --status pending --idle 1h)" "$PA $PB $PC "
is '--idle 61m: not the last hour'"'"'s' \
	"$(idle --status pending --idle 61m)" "$PA "
check_exit '--idle takes a duration' 2 \
	'inbox-ls --dir "$ib" --idle soon 2>/dev/null'
check_exit '--idle selects conversations: not with a NUMBER' 2 \
	'inbox-ls --dir "$ib" --idle 1h $PA 2>/dev/null'

# --- --woke ------------------------------------------------------------------

S1=+15556800011 S2=+15556800012 S3=+15556800013 S4=+15556800014
mkconv "$ib" $S1 '{"status":"snoozed","snoozed_until":"2026-11-10T09:00:00Z",
	"assignee":"alice"}'
mkconv "$ib" $S2 '{"status":"snoozed","snoozed_until":"2026-11-10T12:00:00Z"}'
mkconv "$ib" $S3 '{"status":"snoozed","snoozed_until":"2026-11-10T12:00:01Z"}'
mkconv "$ib" $S4 '{"status":"snoozed","snoozed_until":"2026-11-11T09:00:00Z"}'

check_exit '--woke: 0' 0 'inbox-ls --dir "$ib" --woke >"$tmp/w1" 2>"$tmp/e1"'
is 'the two whose time has come (to the second), each once' \
	"$(jq -r .thread "$tmp/w1" | sort | tr '\n' ' ')" "$S1 $S2 "
is 'its event: conversation.woke, when, the agent, until when' \
	"$(jq -c "select(.thread == \"$S1\") | [.type, .event, .at, .agent,
	    .snoozed_until, .conversation.status]" "$tmp/w1")" \
	"[\"event\",\"conversation.woke\",\"$NOW\",\"alice\",\"2026-11-10T09:00:00Z\",\"open\"]"
check 'open now, no snoozed_until; the others still snoozed' \
	'[ "$(tail -n 1 "$ib/conv/$S1" | jq -r ".status, .snoozed_until")" = \
	    "open
null" ] && [ "$(tail -n 1 "$ib/conv/$S3" | jq -r .status)" = snoozed ]'
is 'the history says woke, once each' \
	"$(cat "$ib"/history/* | jq -r 'select(.event == "woke") |
	    .thread + " " + .until' | sort | tr '\n' ' ')" \
	"$S1 2026-11-10T09:00:00Z $S2 2026-11-10T12:00:00Z "
check 'a second run wakes nothing, prints nothing' \
	'inbox-ls --dir "$ib" --woke >"$tmp/w2" && [ ! -s "$tmp/w2" ]'
check 'on a terminal (--table), a line each' \
	'SMSDESK_NOW=2026-11-10T12:00:01Z inbox-ls --dir "$ib" --woke --table |
	 grep -qx "$S3 woke (snoozed until 2026-11-10T12:00:01Z), agent -"'
check_exit '--woke takes no NUMBER' 2 \
	'inbox-ls --dir "$ib" --woke $S4 2>/dev/null'
check_exit '--woke takes no filter' 2 \
	'inbox-ls --dir "$ib" --woke --status snoozed 2>/dev/null'
check_exit '--woke, stdout full: 74' 74 \
	'SMSDESK_NOW=2026-11-11T09:00:00Z inbox-ls --dir "$ib" --woke \
	    >/dev/full 2>/dev/null'

# --- Two at once: each wake printed once ---------------------------------------

ib2=$tmp/inbox2
mkinbox "$ib2"
i=0
while [ $i -lt 60 ]; do
	mkconv "$ib2" "+155568010$(printf %02d $i)" \
	    '{"status":"snoozed","snoozed_until":"2026-11-10T10:00:00Z"}'
	i=$((i + 1))
done
inbox-ls --dir "$ib2" --woke >"$tmp/r1" 2>"$tmp/re1" &
p1=$!
inbox-ls --dir "$ib2" --woke >"$tmp/r2" 2>"$tmp/re2" &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
is 'two runs at once both end well' "$rc1 $rc2" '0 0'
is 'between them, 60 events, one per conversation' \
	"$(cat "$tmp/r1" "$tmp/r2" | jq -r .thread | sort | uniq | wc -l) \
$(cat "$tmp/r1" "$tmp/r2" | wc -l)" '60 60'
is 'and 60 woke events in the history' \
	"$(cat "$ib2"/history/* | jq -r 'select(.event == "woke") | .thread' |
	    sort -u | wc -l) $(cat "$ib2"/history/* |
	    jq -r 'select(.event == "woke") | .thread' | wc -l)" '60 60'
check 'nothing left snoozed' \
	'[ -z "$(for f in "$ib2"/conv/*; do tail -n 1 "$f"; done |
	    jq -r "select(.status != \"open\")")" ]'

# --- Other writers wake it, once --------------------------------------------------

W1=+15556800021 W2=+15556800022
mkconv "$ib" $W1 '{"status":"snoozed","snoozed_until":"2026-11-10T08:00:00Z"}'
mkconv "$ib" $W2 '{"status":"snoozed","snoozed_until":"2026-11-10T08:00:00Z",
	"opened_at":"2026-11-09T08:00:00Z"}'
check 'inbox-mark --tag on a snooze run out' \
	'inbox-mark --dir "$ib" --tag vip $W1 >/dev/null'
is 'wakes it: open, tagged, the history says woke' \
	"$(tail -n 1 "$ib/conv/$W1" | jq -c '[.status, .snoozed_until, .tags]') \
$(cat "$ib"/history/* | jq -r "select(.thread == \"$W1\") | .event" |
	    tr '\n' ' ')" '["open",null,["vip"]] woke '
printf 'MessageSid=SM0680w2&From=%%2B%s&To=%%2B15550100000&Body=Hello%%3F\n' \
	"${W2#+}" >"$tmp/hook"
check 'a text from a customer whose snooze ran out' \
	'TWILIO_AUTH_TOKEN=x sms-recv --dir "$ib" "$tmp/hook" >/dev/null'
is 'wakes it: woke in the history, not a status change' \
	"$(cat "$ib"/history/* | jq -r "select(.thread == \"$W2\") | .event" |
	    tr '\n' ' ')" 'message woke '
check 'and --woke then finds neither' \
	'inbox-ls --dir "$ib" --woke >"$tmp/w3" &&
	 ! grep -q -e "$W1" -e "$W2" "$tmp/w3"'
S5=+15556800015
mkconv "$ib" $S5 '{"status":"snoozed","snoozed_until":"2026-12-01T09:00:00Z"}'
check 'a snooze not yet run out is not woken by a tag' \
	'inbox-mark --dir "$ib" --tag later $S5 >/dev/null &&
	 [ "$(tail -n 1 "$ib/conv/$S5" | jq -r .status)" = snoozed ]'

done_testing
