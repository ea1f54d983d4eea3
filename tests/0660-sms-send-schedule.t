#!/bin/sh
# sms-send(1) --at, --in and --due: messages stored to go later
# (sms-record(5), "scheduled"), indexed in schedule/ (smsdesk-inbox(5)),
# and sent by `sms-send --due` from cron: exactly those whose time has
# come, each once however many runs there are at once, checked again
# when they go (a STOP in between stops one; quiet hours move one and
# never drop it; one past its expiry is canceled). --cancel and
# --reschedule change them; inbox-ls --scheduled lists them.
#
# The clock is pinned with SMSDESK_NOW; the provider is sms-sim on
# 127.0.0.1, which logs every request it gets.
. "$(dirname "$0")/lib.sh"

twilio_env 0660
unset SMSDESK_NOW SMSDESK_AGENT
ib=$tmp/inbox
mkinbox "$ib"
DAY=2026-12-01

# at TIME CMD...: CMD with the clock at TIME.
at() {
	a_t=$1
	shift
	SMSDESK_NOW=$a_t "$@"
}
# msgs THREAD: the records of THREAD's messages (each file's last line),
# oldest first, as an array.
msgs() {
	for m_f in "$ib/msg/$1"/*; do
		[ -f "$m_f" ] && tail -n 1 "$m_f"
	done | jq -s 'map(.)'
}
# index: the names of schedule/, BUCKET/NAME, sorted.
index() { (cd "$ib/schedule" 2>/dev/null && find . -type f | sed 's:^\./::' | sort); }
# sent: the numbers that the sim was asked to text, sorted, one a line.
sent() {
	[ -f "$tmp/sim.log" ] || return 0
	jq -r 'select(.method == "POST" and (.path | endswith("/Messages.json"))) |
	    .params.To' "$tmp/sim.log" | sort
}

# --- Usage ---------------------------------------------------------------

check_exit '--at that is no time: usage error' 2 \
	'sms-send -d "$ib" --at tomorrow --to +13125550100 hi'
check_exit '--in that is no duration: usage error' 2 \
	'sms-send -d "$ib" --in soon --to +13125550100 hi'
check_exit '--at and --in together: usage error' 2 \
	'sms-send -d "$ib" --at 2030-01-01T00:00:00Z --in 1h --to +13125550100 hi'
check_exit '--due takes no message' 2 \
	'sms-send -d "$ib" --due --to +13125550100 hi'
check_exit '--due takes no --dry-run' 2 'sms-send -d "$ib" --due --dry-run'
check_exit '--reschedule needs --at or --in' 2 \
	'sms-send -d "$ib" --reschedule --id x'
check_exit '--expire without --at or --in, for one message' 2 \
	'sms-send -d "$ib" --expire 1h --to +13125550100 hi'
check_exit '--id without --cancel or --reschedule' 2 \
	'sms-send -d "$ib" --id x --to +13125550100 hi'

sim || { fail 'sms-sim starts'; done_testing; }

# --- Scheduling one ----------------------------------------------------------

check_exit '--at: stored, exit 0' 0 \
	'at ${DAY}T08:00:00Z sms-send -d "$ib" --at ${DAY}T15:30:00Z \
	    --to +13125550100 "Your appointment is at 16:00" >"$tmp/out"'
check 'printed: status scheduled, send_at, the stored id' \
	'jq -e ".status == \"scheduled\" and .send_at == \"${DAY}T15:30:00Z\" and
	    (.id | length > 0) and .at == \"${DAY}T08:00:00Z\" and
	    (has(\"expires_at\") | not)" "$tmp/out"'
is 'no request was made' "$(creates)" 0
is 'the message is in its thread, scheduled' \
	"$(msgs +13125550100 | jq -c 'map([.status, .send_at])')" \
	"[[\"scheduled\",\"${DAY}T15:30:00Z\"]]"
is 'indexed in schedule/ by its hour' "$(index)" \
	"20261201T15/20261201T153000Z,+13125550100,$(jq -r .id "$tmp/out")"
check 'not in the outbox: --reconcile has nothing to do with it' \
	'[ -z "$(outbox_ids "$ib")" ]'
check 'it went nowhere: no last_auto_at or last_body on the conversation' \
	'jq -se ".[-1] | (.last_auto_at == null and .last_body == null and .messages == 1)" "$ib/conv/+13125550100"'
check 'its history event says scheduled, and when it goes' \
	'cat "$ib"/history/* | jq -se "map(select(.event == \"message\")) |
	    .[-1] | .status == \"scheduled\" and .send_at == \"${DAY}T15:30:00Z\""'

# A reply scheduled for later is no answer yet (sms-record(5), purpose).
check_exit 'a customer writes in' 0 \
	'printf "%s\n" "ToCountry=US&Body=Call%20me&To=%2B${US#+}&NumSegments=1&MessageSid=SMin0660&AccountSid=$AC&From=%2B13125556000&ApiVersion=2010-04-01" |
	 at ${DAY}T09:00:00Z sms-recv -d "$ib" >/dev/null'
check_exit 'a reply to it, scheduled for another day' 0 \
	'at ${DAY}T09:05:00Z sms-send -d "$ib" --thread +13125556000 \
	    --at 2026-12-10T20:00:00Z "We will call you tonight" >"$tmp/out"'
check 'a reply, scheduled' \
	'jq -e ".purpose == \"reply\" and .status == \"scheduled\"" "$tmp/out"'
check 'no first response: the customer still waits' \
	'tail -n 1 "$ib/conv/+13125556000" | jq -e ".first_response_at == null and
	    .waiting_since == \"${DAY}T09:00:00Z\" and .last_out_at == null"'

check_exit '--in 2h, with --expire 30m' 0 \
	'at ${DAY}T08:00:00Z sms-send -d "$ib" --in 2h --expire 30m \
	    --to +13125550101 "In two hours" >"$tmp/out"'
check 'send_at now + 2h, expires_at 30 min after' \
	'jq -e ".send_at == \"${DAY}T10:00:00Z\" and
	    .expires_at == \"${DAY}T10:30:00Z\"" "$tmp/out"'
check_exit 'an --at not after now sends now' 0 \
	'at ${DAY}T08:00:00Z sms-send -d "$ib" --at ${DAY}T07:00:00Z \
	    --to +13125550102 "Now" >"$tmp/out"'
check 'queued and sent at once' \
	'jq -e ".status == \"queued\" and (.provider_id | startswith(\"SM\")) and
	    (has(\"send_at\") | not)" "$tmp/out"'
is 'one request' "$(creates)" 1

# Bad times fail their record alone.
printf '%s\n' '{"to":"+13125550110","body":"a","at":"tomorrow"}' \
	'{"to":"+13125550111","body":"b","at":"2026-12-01T12:00:00Z","expire":"2026-12-01T11:00:00Z"}' \
	'{"to":"+13125550112","body":"c","at":"2026-12-01T12:00:00Z","expire":"soon"}' \
	'{"to":"+13125550113","body":"d","at":"2026-12-01T12:00:00Z","expire":"1h"}' \
	>"$tmp/bad"
check_exit 'records with a bad "at" or "expire": exit 1' 1 \
	'at ${DAY}T08:00:00Z sms-send -d "$ib" <"$tmp/bad" >"$tmp/out" 2>"$tmp/err"'
check 'each failed invalid_value, nothing stored; the good one scheduled' \
	'jq -se "map([.to, .status, (.error.code // null)]) == [
	    [\"+13125550110\", \"failed\", \"invalid_value\"],
	    [\"+13125550111\", \"failed\", \"invalid_value\"],
	    [\"+13125550112\", \"failed\", \"invalid_value\"],
	    [\"+13125550113\", \"scheduled\", null]]" "$tmp/out" &&
	 [ ! -e "$ib/msg/+13125550110" ] && [ ! -e "$ib/msg/+13125550112" ]'
check 'said with the line and the field' \
	'grep -q "stdin:1: \"at\": " "$tmp/err" &&
	 grep -q "stdin:2: \"expire\": .* is not after" "$tmp/err" &&
	 grep -q "stdin:3: \"expire\": .soon. is neither" "$tmp/err"'
check 'expires_at a duration after send_at' \
	'jq -se ".[3].expires_at == \"${DAY}T13:00:00Z\"" "$tmp/out"'
check_exit 'canceled again, out of the way' 0 \
	'at ${DAY}T08:00:00Z sms-send -d "$ib" --cancel --thread +13125550113 >/dev/null'
check_exit '--cancel with a record that names no message: exit 1' 1 \
	'echo "{\"thread\":\"+13125550113\"}" | sms-send -d "$ib" --cancel 2>"$tmp/err"'
check 'said' 'grep -q "stdin:1: a record without" "$tmp/err"'

# --- A batch of 100 reminders across a day, from records ----------------------

# Reminder i to +1312555 1000+i, at DAY 00:00 + i * 864 s (14 min 24 s),
# key booking-i.
jq -nc --arg d "$DAY" 'range(100) as $i | {to: ("+1312555" + ($i + 1000 | tostring)),
    body: ("Reminder \($i): your appointment tomorrow"),
    at: (($d + "T00:00:00Z" | fromdate) + $i * 864 | todate),
    key: "booking-\($i)"}' >"$tmp/batch"
check_exit 'scheduled the day before' 0 \
	'at 2026-11-30T20:00:00Z sms-send -d "$ib" <"$tmp/batch" >"$tmp/out"'
is '100 records, each scheduled at its own time' \
	"$(jq -s 'map(select(.status == "scheduled")) | length' "$tmp/out")" 100
is 'no request' "$(creates)" 1
is '100 more names in the index (and the one of 15:30)' \
	"$(index | grep -c ',+13125551')" 100
check 'a typed record'"'"'s "at" is its own time: it never schedules' \
	'jq -c "{type: \"message\", direction: \"out\", thread: \"+13125550199\",
	    to: \"+13125550199\",
	    body: \"typed\", at: \"2030-01-01T00:00:00Z\"}" -n |
	 at ${DAY}T08:00:00Z sms-send -d "$ib" | jq -e ".status == \"queued\""'
is 'it went now' "$(creates)" 2
check_exit 'the same keys again: no new message' 0 \
	'at 2026-11-30T21:00:00Z sms-send -d "$ib" <"$tmp/batch" >"$tmp/out"'
check 'each the scheduled one, a duplicate' \
	'jq -se "length == 100 and all(.duplicate == true and .status == \"scheduled\")" "$tmp/out"'
is 'still 100 names' "$(index | grep -c ',+13125551')" 100

# inbox-ls --scheduled: by send_at.
check 'inbox-ls --scheduled: the scheduled messages, by send_at' \
	'at ${DAY}T00:00:00Z inbox-ls -d "$ib" --scheduled |
	 jq -se "length == 103 and (map(.send_at) == (map(.send_at) | sort)) and
	     all(.status == \"scheduled\")"'
check 'with NUMBER, those of its thread' \
	'inbox-ls -d "$ib" --scheduled +13125551007 |
	 jq -se "length == 1 and .[0].key == \"booking-7\""'
check 'a table on a terminal: SEND AT, TO, KEY, BODY' \
	'inbox-ls -d "$ib" --scheduled --table --limit 2 | head -1 |
	 grep -q "^SEND AT *TO *KEY *BODY"'

# --- --due at chosen times -----------------------------------------------------

check_exit '--due at 06:00: exit 0' 0 \
	'at ${DAY}T06:00:00Z sms-send -d "$ib" --due >"$tmp/due1"'
# 0..25 are due (25 * 864 s is 6 h exactly).
jq -nr 'range(26) | "+1312555" + (. + 1000 | tostring)' | sort >"$tmp/want1"
is 'exactly the 26 due were sent' \
	"$(sent | grep '^+13125551' | sort)" "$(cat "$tmp/want1")"
check 'each printed, queued with its provider id' \
	'jq -se "length == 26 and all(.status == \"queued\" and
	    (.provider_id | startswith(\"SM\")) and .at == \"${DAY}T06:00:00Z\")" "$tmp/due1"'
check 'settled in their threads, out of the index' \
	'[ "$(index | grep -c ",+13125551")" -eq 74 ] &&
	 msgs +13125551000 | jq -e ".[0].status == \"queued\" and .[0].provider_id"'
check 'the claim made their message events, queued, at 06:00' \
	'cat "$ib"/history/* | jq -se "map(select(.event == \"message\" and
	    .thread == \"+13125551003\")) | map(.status) == [\"scheduled\", \"queued\"]"'
check 'and the conversation heard of them when they went' \
	'jq -se ".[-1].last_auto_at == \"${DAY}T06:00:00Z\" and
	    (.[-1].last_body | startswith(\"Reminder 3\"))" "$ib/conv/+13125551003"'
check_exit '--due again at 06:00: nothing more' 0 \
	'at ${DAY}T06:00:00Z sms-send -d "$ib" --due >"$tmp/due2"'
is 'no request, nothing printed' "$(sent | grep -c '^+13125551'):$(wc -c <"$tmp/due2")" '26:0'
check_exit '--due at 06:14:23: still nothing (26 goes at 06:14:24)' 0 \
	'at ${DAY}T06:14:23Z sms-send -d "$ib" --due >"$tmp/due2"'
is 'no request' "$(sent | grep -c '^+13125551')" 26
check_exit '--due at 10:00 sends those up to it, and the 10:00 --in one' 0 \
	'at ${DAY}T10:00:00Z sms-send -d "$ib" --due >"$tmp/due3"'
is '42 in all of the batch (0..41), and +13125550101' \
	"$(sent | grep -c '^+13125551'):$(sent | grep -c '^+13125550101$')" '42:1'

# --- A STOP between scheduling and sending stops it ------------------------

check_exit 'scheduled to a number that then texts STOP' 0 \
	'at ${DAY}T10:00:00Z sms-send -d "$ib" --at ${DAY}T11:00:00Z \
	    --to +13125550300 "Your order ships" >"$tmp/stopmsg"'
check_exit 'STOP comes in' 0 \
	'printf "%s\n" "ToCountry=US&Body=STOP&To=%2B${US#+}&NumSegments=1&MessageSid=SMstop0660&AccountSid=$AC&From=%2B13125550300&ApiVersion=2010-04-01" |
	 at ${DAY}T10:30:00Z sms-recv -d "$ib" >/dev/null'
check_exit '--due at 11:00: it is refused, exit 1' 1 \
	'at ${DAY}T11:00:00Z sms-send -d "$ib" --due >"$tmp/out" 2>"$tmp/err"'
is 'no request to it' "$(creates sim +13125550300)" 0
check 'printed canceled, opted_out, and said on stderr' \
	'jq -se "map(select(.to == \"+13125550300\")) | length == 1 and
	    .[0].status == \"canceled\" and .[0].error.code == \"opted_out\"" "$tmp/out" &&
	 grep -q "opted out" "$tmp/err"'
check 'it stays in the thread as canceled, out of the index' \
	'msgs +13125550300 | jq -e "map(select(.direction == \"out\")) |
	    .[0].status == \"canceled\"" && ! index | grep -q "+13125550300"'
check 'a canceled event in the history' \
	'cat "$ib"/history/* | jq -se "map(select(.event == \"canceled\" and
	    .thread == \"+13125550300\")) | length == 1 and .[0].code == \"opted_out\""'

# --- Two --due runs at once send each once -----------------------------------

n0=$(creates)
# Left: 46..99 of the batch (11:00's run sent up to 45), and 15:30's.
check 'two --due runs at once, at 23:59:59 (55 due)' \
	'at ${DAY}T23:59:59Z sms-send -d "$ib" --due >"$tmp/a" 2>"$tmp/a.err" &
	 p1=$!
	 at ${DAY}T23:59:59Z sms-send -d "$ib" --due --jobs 4 >"$tmp/b" 2>"$tmp/b.err" &
	 p2=$!
	 wait $p1 && wait $p2'
is 'between them, 55 requests' "$(($(creates) - n0))" 55
is 'and every reminder of the batch was sent once, none twice' \
	"$(sent | grep '^+13125551' | uniq -d | wc -l):$(sent | grep -c '^+13125551')" \
	'0:100'
is 'each printed by one run only' \
	"$(cat "$tmp/a" "$tmp/b" | jq -r .id | sort | uniq -d | wc -l):$(cat "$tmp/a" "$tmp/b" | wc -l)" \
	'0:55'
check 'the 15:30 one went too, past its time' \
	'msgs +13125550100 | jq -e ".[0].status == \"queued\" and .[0].provider_id"'
is 'the index holds only the reply for the 10th now' "$(index | cut -d, -f2)" \
	+13125556000


# --- Expiry -------------------------------------------------------------------------

check 'the --in 2h --expire 30m one went at 10:00 already' \
	'msgs +13125550101 | jq -e ".[0].status == \"queued\""'
check_exit 'one to expire in 30 min' 0 \
	'at ${DAY}T12:00:00Z sms-send -d "$ib" --at ${DAY}T13:00:00Z --expire 30m \
	    --to +13125550400 "Your table is ready" >/dev/null'
check_exit 'and one with the default expiry (24 h)' 0 \
	'at ${DAY}T12:00:00Z sms-send -d "$ib" --at ${DAY}T13:00:00Z \
	    --to +13125550401 "Your table is ready" >/dev/null'
n0=$(creates)
check_exit '--due at 13:31 (a cron that was down): the first expired, exit 1' 1 \
	'at ${DAY}T13:31:00Z sms-send -d "$ib" --due >"$tmp/out" 2>"$tmp/err"'
check 'canceled, expired; the other sent 31 min late' \
	'jq -se "map({(.to): [.status, (.error.code // null)]}) | add ==
	    {\"+13125550400\": [\"canceled\", \"expired\"],
	     \"+13125550401\": [\"queued\", null]}" "$tmp/out"'
is 'one request' "$(($(creates) - n0))" 1
check_exit 'one more with the default expiry' 0 \
	'at ${DAY}T12:00:00Z sms-send -d "$ib" --at ${DAY}T13:00:00Z \
	    --to +13125550402 "Late" >/dev/null'
check_exit '--due 24 h and a second after its time: expired' 1 \
	'at 2026-12-02T13:00:01Z sms-send -d "$ib" --due >"$tmp/out" 2>/dev/null'
check 'canceled, expired' \
	'jq -e ".status == \"canceled\" and .error.code == \"expired\"" "$tmp/out"'

# --- Cancel and reschedule --------------------------------------------------------

T=2026-12-05
jq -nc --arg d "$T" 'range(3) as $i | {to: "+1312555200\($i)", body: "Visit \($i)",
    at: ($d + "T12:00:00Z")}' >"$tmp/visits"
at ${T}T00:00:00Z sms-send -d "$ib" --key visit <"$tmp/visits" >"$tmp/v"
at ${T}T00:00:00Z sms-send -d "$ib" --at ${T}T12:00:00Z --to +13125552000 "Second" >>"$tmp/v"
at ${T}T00:00:00Z sms-send -d "$ib" --at ${T}T12:00:00Z --to +13125552005 "Keep" >>"$tmp/v"
is 'five scheduled' "$(jq -s 'map(select(.status == "scheduled")) | length' "$tmp/v")" 5
id1=$(jq -r 'select(.to == "+13125552001") | .id' "$tmp/v")
check_exit '--cancel --id' 0 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --cancel --id "$id1" >"$tmp/out"'
check 'printed canceled, error canceled' \
	'jq -e ".status == \"canceled\" and .error.code == \"canceled\" and
	    .canceled_at == \"${T}T01:00:00Z\" and .id == \"$id1\"" "$tmp/out"'
check_exit '--cancel --id again: not scheduled any more, exit 1' 1 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --cancel --id "$id1" >"$tmp/out" 2>"$tmp/err"'
check 'said so' 'grep -q "no scheduled message" "$tmp/err" && [ ! -s "$tmp/out" ]'
check_exit '--cancel --thread: every scheduled message of it' 0 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --cancel --thread +13125552000 >"$tmp/out"'
is 'both of +13125552000' \
	"$(jq -s 'map(select(.status == "canceled" and .to == "+13125552000")) | length' "$tmp/out")" 2
id2=$(jq -r 'select(.to == "+13125552002") | .id' "$tmp/v")
check_exit '--reschedule --id --at' 0 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --reschedule --id "$id2" --at ${T}T18:00:00Z >"$tmp/out"'
check 'printed scheduled at the new time' \
	'jq -e ".status == \"scheduled\" and .send_at == \"${T}T18:00:00Z\"" "$tmp/out"'
check 'its index name moved' \
	'index | grep -q "^20261205T18/20261205T180000Z,+13125552002,$id2$" &&
	 ! index | grep -q "^20261205T12/.*,+13125552002,"'
check 'a rescheduled event' \
	'cat "$ib"/history/* | jq -se "map(select(.event == \"rescheduled\")) |
	    length == 1 and .[0].send_at == \"${T}T18:00:00Z\" and .[0].was == \"${T}T12:00:00Z\""'
n0=$(creates)
check_exit '--due at 12:00: only the one kept' 0 \
	'at ${T}T12:00:00Z sms-send -d "$ib" --due >"$tmp/out"'
is 'one request, to +13125552005' "$(($(creates) - n0)):$(creates sim +13125552005)" '1:1'
check_exit '--due at 18:00: the rescheduled one' 0 \
	'at ${T}T18:00:00Z sms-send -d "$ib" --due >"$tmp/out"'
is 'to +13125552002' "$(creates sim +13125552002)" 1

# A reschedule past the expiry needs a new one.
at ${T}T00:00:00Z sms-send -d "$ib" --at ${T}T12:00:00Z --expire 1h \
    --to +13125552009 "Soon" >"$tmp/v9"
id9=$(jq -r .id "$tmp/v9")
check_exit '--reschedule past its expires_at: refused, exit 1' 1 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --reschedule --id "$id9" --in 12h \
	    >"$tmp/out" 2>"$tmp/err"'
check 'said, and left as it was' \
	'grep -q "give --expire too" "$tmp/err" && [ ! -s "$tmp/out" ] &&
	 msgs +13125552009 | jq -e ".[0].send_at == \"${T}T12:00:00Z\""'
check_exit 'with --expire 1h too: moved' 0 \
	'at ${T}T01:00:00Z sms-send -d "$ib" --reschedule --id "$id9" --in 12h \
	    --expire 1h >"$tmp/out"'
check 'send_at and expires_at both new' \
	'jq -e ".send_at == \"${T}T13:00:00Z\" and
	    .expires_at == \"${T}T14:00:00Z\"" "$tmp/out"'
check_exit 'and canceled, out of the way' 0 \
	'sms-send -d "$ib" --cancel --id "$id9" >/dev/null'

# By key, and from inbox-ls --scheduled's records.
jq -nc 'range(4) as $i | {to: "+1312555300\($i)", body: "Promo \($i)",
    at: "2026-12-06T12:00:00Z"}' >"$tmp/promo"
at ${T}T20:00:00Z sms-send -d "$ib" --key promo <"$tmp/promo" >/dev/null
at ${T}T20:00:00Z sms-send -d "$ib" --key promotion --at 2026-12-06T12:00:00Z --to +13125553009 "Other" >/dev/null
check_exit '--cancel --key: the messages of a run given --key promo' 0 \
	'at ${T}T21:00:00Z sms-send -d "$ib" --cancel --key promo >"$tmp/out"'
is 'its four, not promotion'"'"'s' \
	"$(jq -r .key "$tmp/out" | sort | tr '\n' ' ')" 'promo-1 promo-2 promo-3 promo-4 '
check_exit 'inbox-ls --scheduled | sms-send --reschedule --in 1h' 0 \
	'inbox-ls -d "$ib" --scheduled +13125553009 |
	 at ${T}T21:00:00Z sms-send -d "$ib" --reschedule --in 1h >"$tmp/out"'
check 'moved to an hour from now' \
	'jq -e ".send_at == \"${T}T22:00:00Z\" and .to == \"+13125553009\"" "$tmp/out"'
check_exit 'and | sms-send --cancel' 0 \
	'inbox-ls -d "$ib" --scheduled | at ${T}T21:00:00Z sms-send -d "$ib" --cancel >"$tmp/out"'
is 'nothing scheduled is left' "$(inbox-ls -d "$ib" --scheduled | wc -l)" 0
is 'nor in the index' "$(index)" ''

# --- Quiet hours move a scheduled message, never drop it ------------------------

# 2026-11-23T03:30Z is 21:30 in Chicago; its quiet hours end at 14:00Z.
check_exit 'scheduled for 21:30 Chicago time' 0 \
	'at 2026-11-22T12:00:00Z sms-send -d "$ib" --at 2026-11-23T03:30:00Z \
	    --to +13125554000 "Good night" >/dev/null'
n0=$(creates)
check_exit '--due -Q at 03:30: exit 0' 0 \
	'at 2026-11-23T03:30:00Z sms-send -d "$ib" --due -Q >"$tmp/out" 2>"$tmp/err"'
check 'printed scheduled, moved to 08:00 in Chicago' \
	'jq -e ".status == \"scheduled\" and .send_at == \"2026-11-23T14:00:00Z\"" "$tmp/out" &&
	 grep -q "quiet hours" "$tmp/err"'
is 'no request' "$(($(creates) - n0))" 0
check 'its index name moved with it' \
	'index | grep -q "^20261123T14/20261123T140000Z,+13125554000,"'
check_exit '--due -Q at 13:59: not yet' 0 \
	'at 2026-11-23T13:59:00Z sms-send -d "$ib" --due -Q >"$tmp/out"'
is 'nothing' "$(($(creates) - n0)):$(wc -c <"$tmp/out")" '0:0'
check_exit '--due -Q at 14:00: sent' 0 \
	'at 2026-11-23T14:00:00Z sms-send -d "$ib" --due -Q >"$tmp/out"'
is 'one request' "$(($(creates) - n0))" 1

# --- Reconcile leaves scheduled messages alone ---------------------------------

check_exit 'one scheduled far ahead' 0 \
	'sms-send -d "$ib" --in 30d --to +13125555000 "Next month" >/dev/null'
check 'sms-send --reconcile: nothing of it' \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib" --reconcile |
	 jq -se "map(select(.to == \"+13125555000\")) | length == 0"'
check 'it is still scheduled' \
	'msgs +13125555000 | jq -e ".[0].status == \"scheduled\""'

done_testing
