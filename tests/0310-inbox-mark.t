#!/bin/sh
# inbox-mark(1): changing conversations, alone and many at once.
. "$(dirname "$0")/lib.sh"

mark() { "$bin/inbox-mark" "$@"; }

# Inboxes are written by hand (mkinbox, mkconv in lib.sh), conversations
# with no message (none counted, for inbox-check at the end).

# get THREAD FILTER: a field of THREAD's conversation, as jq prints it.
get() { tail -n 1 "$ib/conv/$1" | jq -c "$2"; }

ib=$tmp/ib
mkinbox "$ib"
a=+15550000001 b=+15550000002 c=+15550000003
w=$(from_now -7200)
mkconv "$ib" $a "{\"messages\":0,\"waiting_since\":\"$w\",
    \"last_in_at\":\"$w\",\"unread\":2}"
mkconv "$ib" $b "{\"messages\":0,\"status\":\"snoozed\",
    \"snoozed_until\":\"$(from_now 3600)\"}"
mkconv "$ib" $c '{"messages":0,"status":"pending","assignee":"bo","tags":["vip"]}'

# Each action, its event and its effect.
mark -d "$ib" --resolve $a >"$tmp/out"; rc=$?
is '--resolve: exit 0' "$rc" 0
is 'one event record, its thread at the top' \
	"$(jq -c '[.type, .event, .thread, .conversation.thread, .conversation.status]' "$tmp/out")" \
	"[\"event\",\"conversation.resolved\",\"$a\",\"$a\",\"resolved\"]"
is 'the event carries the conversation as stored' \
	"$(jq -c .conversation "$tmp/out")" "$(tail -n 1 "$ib/conv/$a")"
check 'and the time of the change' "jq -e '.at | test(\"^[0-9-]{10}T[0-9:]{8}Z\$\")' '$tmp/out'"
check 'resolved leaves the working set' "[ ! -e '$ib/work/$a' ]"
is 'and nobody is waiting any more' "$(get $a .waiting_since)" null
is 'the rest of the record is kept' "$(get $a '[.unread, .last_in_at]')" "[2,\"$w\"]"
is 'a second --resolve changes nothing and says nothing' \
	"$(mark -d "$ib" --resolve $a; echo "rc=$?")" 'rc=0'
mark -d "$ib" --reopen $a >"$tmp/out"
is '--reopen' "$(jq -r .event "$tmp/out") $(get $a .status)" 'conversation.reopened "open"'
check 'back in the working set' "[ -e '$ib/work/$a' ]"
is '--pending' "$(mark -d "$ib" --pending $a | jq -r .event) $(get $a .status)" \
	'conversation.pending "pending"'
mark -d "$ib" --snooze 2h $a >"$tmp/out"
is '--snooze DURATION' "$(jq -r .event "$tmp/out") $(get $a .status)" \
	'conversation.snoozed "snoozed"'
check 'snoozed_until is two hours from now' \
	"tail -n 1 '$ib/conv/$a' | jq -e '(.snoozed_until | fromdate) - now | . > 7100 and . < 7300'"
check 'a snoozed conversation drops out of inbox-ls' \
	"[ -z \"\$(inbox-ls -d '$ib' | jq -r 'select(.thread == \"$a\")')\" ]"
mark -d "$ib" --snooze 2030-01-02T03:04:05Z $a >/dev/null
is '--snooze TIME' "$(get $a .snoozed_until)" '"2030-01-02T03:04:05Z"'
mark -d "$ib" --reopen $a >/dev/null
is 'a status other than snoozed clears snoozed_until' \
	"$(get $a 'has("snoozed_until")')" false
is '--read' "$(mark -d "$ib" --read $a | jq -r .event) $(get $a .unread)" 'conversation.read 0'
is '--unread' "$(mark -d "$ib" --unread $a | jq -r .event) $(get $a .unread)" 'conversation.unread 1'
is '--unread on an unread one changes nothing' "$(mark -d "$ib" -u $a | wc -l | tr -d ' ') $(get $a .unread)" '0 1'
is '--assign' "$(mark -d "$ib" --assign ana $a | jq -r .event) $(get $a .assignee)" \
	'conversation.assigned "ana"'
is '--unassign' "$(mark -d "$ib" --unassign $a | jq -r .event) $(get $a .assignee)" \
	'conversation.unassigned null'
is '--tag adds, in order' "$(mark -d "$ib" --tag refund --tag vip $a | jq -r .event) $(get $a .tags)" \
	'conversation.tagged ["refund","vip"]'
is '--tag never duplicates' \
	"$(mark -d "$ib" --tag vip --tag new $a >/dev/null; get $a .tags)" \
	'["refund","vip","new"]'
is '--untag' "$(mark -d "$ib" --untag refund $a | jq -r .event) $(get $a .tags)" \
	'conversation.untagged ["vip","new"]'
mark -d "$ib" --resolve --tag done --untag new $a >"$tmp/out"
is 'a state action with tags: one event, named for the action' \
	"$(jq -r .event "$tmp/out") $(get $a '[.status, .tags]')" \
	'conversation.resolved ["resolved",["vip","done"]]'
is 'tags alone when the state is as asked: named for the tags' \
	"$(mark -d "$ib" --resolve --tag late $a | jq -r .event)" conversation.tagged
if command -v script >/dev/null 2>&1; then
	is 'on a terminal, a short line per conversation' \
		"$(script -qec "'$bin/inbox-mark' -d '$ib' --assign cy --tag x $c" /dev/null 2>/dev/null | tr -d '\r')" \
		"$c: assigned to cy, tagged x"
else
	skip 'on a terminal, a short line per conversation' 'no script(1)'
fi
is 'several NUMBERs, national ones in the default country' \
	"$(SMSDESK_COUNTRY=US mark -d "$ib" --tag nat $a '(555) 000-0003' $c | jq -r .conversation.thread | tr '\n' ' ')" \
	"$a $c "

# Unknown numbers.
mark -d "$ib" --read +15550000009 $a >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'an unknown number: exit 1' "$rc" 1
is 'named' "$(cat "$tmp/err")" 'inbox-mark: +15550000009: no such conversation'
check 'and no conversation is started for it' \
	"[ ! -e '$ib/conv/+15550000009' ] && [ ! -e '$ib/work/+15550000009' ]"
mark -d "$ib" --read 'not a number' >/dev/null 2>"$tmp/err"; rc=$?
is 'a NUMBER that is not a phone number: a usage error, exit 2' "$rc" 2
check 'named' "grep -q '^inbox-mark: not a number: ' '$tmp/err'"

# Records on stdin.
mark -d "$ib" --reopen $a $b $c >/dev/null
inbox-ls -d "$ib" | mark -d "$ib" --resolve >"$tmp/out"; rc=$?
is 'inbox-ls | inbox-mark --resolve: exit 0' "$rc" 0
is 'resolves what was listed' "$(jq -r .conversation.thread "$tmp/out" | sort | tr '\n' ' ')" \
	"$a $b $c "
is 'and the working set is empty' "$(inbox-ls -d "$ib" | wc -l | tr -d ' ')" 0
printf '%s\n' "{\"thread\":\"$a\"}" 'not json' '{"type":"note"}' \
	"{\"type\":\"message\",\"thread\":\"$b\",\"body\":\"hi\"}" |
	mark -d "$ib" --reopen >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'bad lines and records without a thread: exit 1' "$rc" 1
is 'the rest are done' "$(jq -r .conversation.thread "$tmp/out" | tr '\n' ' ')" "$a $b "
check 'a bad line is named by number' "grep -q '^inbox-mark: stdin:2: invalid JSON' '$tmp/err'"
check 'a record without a thread too' "grep -qx 'inbox-mark: stdin:3: no thread in this record: nothing to mark' '$tmp/err'"
# A number jansson cannot hold is valid JSON: said as what it is, for its
# line alone (sms-record(5), CAVEATS).
printf '%s\n' "{\"thread\":\"$a\",\"n\":123456789012345678901234567890}" \
	"{\"thread\":\"$b\",\"x\":{\"big\" : -1e400}}" "{\"thread\":\"$c\"}" |
	mark -d "$ib" --reopen >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'numbers too large: exit 1, the rest done' \
	"$rc $(jq -r .conversation.thread "$tmp/out")" "1 $c"
is 'each named, with its field' "$(sed 's/ (.*//' "$tmp/err")" \
"inbox-mark: stdin:1: number too large for this program: field \"n\"
inbox-mark: stdin:2: number too large for this program: field \"big\""
check 'not called invalid JSON' "! grep -q 'invalid JSON' '$tmp/err'"
printf '{"thread":"%s"}\n{"thread":"%s"' $a $b | mark -d "$ib" --unread >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a last line without a newline: exit 1, the rest done' \
	"$rc $(jq -r .conversation.thread "$tmp/out")" "1 $a"

# Usage and I/O errors, by exit code.
mark -d "$ib" --resolve --reopen $a >/dev/null 2>"$tmp/err"; rc=$?
is 'two state actions: exit 2' "$rc" 2
is 'named' "$(cat "$tmp/err")" 'inbox-mark: --resolve and --reopen exclude each other'
mark -d "$ib" --tag x --untag x $a >/dev/null 2>&1; is '--tag and --untag of one TAG: exit 2' "$?" 2
mark -d "$ib" --tag '' $a >/dev/null 2>&1; is 'an empty TAG: exit 2' "$?" 2
mark -d "$ib" --snooze 2020-01-01 $a >/dev/null 2>&1; is '--snooze into the past: exit 2' "$?" 2
mark -d "$ib" --snooze later $a >/dev/null 2>&1; is 'a bad UNTIL: exit 2' "$?" 2
mark --bogus >/dev/null 2>&1; is 'an unknown option: exit 2' "$?" 2
mark -d "$tmp/nope" --read $a >/dev/null 2>"$tmp/err"; rc=$?
is 'a missing inbox: exit 66' "$rc" 66
is 'named' "$(cat "$tmp/err")" "inbox-mark: $tmp/nope: no inbox"
if [ -w /dev/full ]; then
	mark -d "$ib" --tag full $a >/dev/full 2>/dev/null
	is 'a full disk on stdout: exit 74' "$?" 74
fi
check '--help prints usage on stdout' "mark --help | grep -q '^usage: inbox-mark'"
check '--version' "mark --version | grep -q '^inbox-mark (smsdesk) '"

# A race: four processes each tag the same conversation with a tag of
# their own 50 times (SMSDESK_RACE_ROUNDS), taking it off again in
# between, while listings are taken. No update may be lost, and no listing
# may miss or repeat one.
steps=$(rounds SMSDESK_RACE_ROUNDS 50)
r=$tmp/race
mkinbox "$r"
for n in 1 2 3 4 5 6; do
	mkconv "$r" +1555000010$n '{"messages":0,"unread":1}'
done
racer() {
	i=1
	while [ $i -le "$steps" ]; do
		[ $i -gt 1 ] && { mark -d "$r" --untag "t$1" +15550000101 >/dev/null || echo "untag $i: $?"; }
		mark -d "$r" --tag "t$1" +15550000101 >/dev/null || echo "tag $i: $?"
		i=$((i + 1))
	done >"$tmp/racer.$1" 2>&1
}
for n in 1 2 3 4; do
	racer $n &
	eval "pid$n=\$!"
done
# A fifth process flips the status of another conversation meanwhile.
(
	i=0
	while [ $i -lt $((steps * 4 / 5)) ]; do
		mark -d "$r" --resolve +15550000102 >/dev/null
		mark -d "$r" --reopen +15550000102 >/dev/null
		i=$((i + 1))
	done
) &
flipper=$!
# Listings of everything, and of the working set, where the flipped one
# may be or not be but never twice.
all='+15550000101 +15550000102 +15550000103 +15550000104 +15550000105 +15550000106 '
work='+15550000101 +15550000103 +15550000104 +15550000105 +15550000106 '
listings=0 bad=0
while kill -0 $pid1 $pid2 $pid3 $pid4 2>/dev/null; do
	listings=$((listings + 1))
	if [ $((listings % 2)) -eq 0 ]; then
		got=$(inbox-ls -d "$r" --all | jq -r .thread | sort | tr '\n' ' ')
		want=$all
	else
		got=$(inbox-ls -d "$r" | jq -r .thread | sort | tr '\n' ' ')
		want=$work
		[ "$got" = "$all" ] && got=$work
	fi
	[ "$got" = "$want" ] || { bad=$((bad + 1)); diag "wrong listing: $got"; }
done
wait $pid1 $pid2 $pid3 $pid4 $flipper
is 'every mark succeeded' "$(cat "$tmp"/racer.*)" ''
is 'no update was lost: all four tags are there, once each' \
	"$(tail -n 1 "$r/conv/+15550000101" | jq -c '.tags | sort')" '["t1","t2","t3","t4"]'
is 'the rest of the record survived' "$(tail -n 1 "$r/conv/+15550000101" | jq -c '[.thread, .unread]')" \
	'["+15550000101",1]'
check "listings taken meanwhile ($listings) each held every conversation once" \
	"[ $bad -eq 0 ] && [ $listings -gt 0 ]"
diag "race: listings=$listings listings_wrong=$bad"
is 'the flipper ended open, in the working set' \
	"$(tail -n 1 "$r/conv/+15550000102" | jq -r .status) $(inbox-ls -d "$r" | jq -r .thread | grep -c 102)" 'open 1'

# A conversation file grows by a line at each change (smsdesk-inbox(5)):
# its last line is the record, the lines before it its history, and past
# 4 KiB it starts again from the record alone.
h=$tmp/hist
mkinbox "$h"
mkconv "$h" $a '{"messages":0,"unread":1}'
mark -d "$h" --tag one $a >/dev/null && mark -d "$h" --pending $a >/dev/null
is 'each change adds a line' "$(wc -l <"$h/conv/$a" | tr -d ' ')" 3
is 'the history reads oldest first, the record last' 	"$(jq -c '[.status, .tags]' "$h/conv/$a" | tr '\n' ' ')" \
	'["open",[]] ["open",["one"]] ["pending",["one"]] '
is 'readers take the last line' \
	"$(inbox-ls -d "$h" --all | jq -c '[.status, .tags]')" '["pending",["one"]]'
i=0
while [ $i -lt 40 ]; do
	mark -d "$h" --tag "t$i" $a >/dev/null || break
	i=$((i + 1))
done
size=$(wc -c <"$h/conv/$a")
check "40 more changes: the file stays near 4 KiB ($size bytes)" \
	"[ $size -le $((4096 + $(tail -n 1 "$h/conv/$a" | wc -c))) ]"
is 'and its record holds every change' \
	"$(tail -n 1 "$h/conv/$a" | jq '.tags | length')" 41
# An append a crash cut short: never shown, cut by the next writer.
before=$(tail -n 1 "$h/conv/$a")
printf '{"type":"conversation","thr' >>"$h/conv/$a"
is 'an unfinished last line is not the record' \
	"$(inbox-ls -d "$h" --all)" "$before"
check 'nor a reason to quarantine the file' "[ -z \"\$(ls '$h/quarantine')\" ]"
mark -d "$h" --untag t0 $a >/dev/null
check 'the next change cuts it off: every line a record' \
	"jq -e . '$h/conv/$a' >/dev/null"
is 'and appends the new record' \
	"$(tail -n 1 "$h/conv/$a" | jq '.tags | length')" 40

done_testing
