#!/bin/sh
# assign(1): the roster in the inbox, claims (one winner, however many
# race), --next (the oldest waiting the agent may take), --auto (policies,
# capacities, skills, stickiness, plans, idempotence, concurrent runs, the
# stream from sms-recv), and inbox-ls --mine. Long options throughout.
#
# Rounds (tests/lib.sh): SMSDESK_CLAIM_ROUNDS trials of 8 processes
# claiming one conversation (200).
. "$(dirname "$0")/lib.sh"

twilio_env 0700
ib=$tmp/inbox
mkinbox "$ib"

# wait DIR THREAD SINCE [BODY [EXTRA-JSON]]: an open conversation, nobody's,
# waiting since SINCE, its last text BODY; written without jq (fast), by
# hand, so the index of queue/ is said to need rebuilding, as for any
# conversation written by hand (smsdesk-inbox(5)). It counts a message it
# has not: DIR is left out of the inbox check at the end (tests/lib.sh).
wait_conv() {
	case " ${inbox_check_skip-} " in *" $1 "*) ;;
	*) inbox_check_skip="${inbox_check_skip-} $1" ;; esac
	rm -f "$1/queue/.built"
	printf '{"type":"conversation","thread":"%s","status":"open","assignee":null,"unread":1,"messages":1,"opened_at":"%s","first_response_at":null,"last_in_at":"%s","last_out_at":null,"waiting_since":"%s","last_body":"%s","tags":[],"csat":null%s}\n' \
	    "$2" "$3" "$3" "$3" "${4:-hello}" "${5:+,$5}" >"$1/conv/$2" &&
	chmod 600 "$1/conv/$2" && : >"$1/work/$2" && chmod 600 "$1/work/$2"
}

# owner DIR THREAD: the conversation's assignee ("null" if none).
owner() { tail -n 1 "$1/conv/$2" | jq -r .assignee; }

# loads DIR: "name load/capacity" per agent, one a line.
loads() {
	assign --dir "$1" --agents --json |
	    jq -r '"\(.name) \(.load)/\(.capacity)"'
}

# --- The roster ---------------------------------------------------------

check 'add an agent: its record, on shift, capacity 10' \
	'assign --dir "$ib" --add ana --skills billing,sales |
	 jq -e "select(.type == \"agent\" and .name == \"ana\" and
	     .on_shift == true and .capacity == 10 and
	     .skills == [\"billing\",\"sales\"])"'
check 'add another with a capacity' \
	'assign --dir "$ib" --add bo --capacity 3 >/dev/null'
check_exit 'adding one that is there: exit 1' 1 \
	'assign --dir "$ib" --add bo 2>"$tmp/err"'
check 'and says so' 'grep -q "bo: in the roster already" "$tmp/err"'
check 'change: skills replaced, capacity kept' \
	'assign --dir "$ib" --change bo --skills "billing vip" |
	 jq -e ".skills == [\"billing\",\"vip\"] and .capacity == 3"'
check_exit 'change one that is not there: exit 1' 1 \
	'assign --dir "$ib" --change cy --capacity 1 2>/dev/null'
check_exit 'a name that is no name: usage error' 2 \
	'assign --dir "$ib" --add "a b" 2>/dev/null'
check_exit 'a capacity that is no number: usage error' 2 \
	'assign --dir "$ib" --add cy --capacity -1 2>/dev/null'
check_exit '--change without what: usage error' 2 \
	'assign --dir "$ib" --change bo 2>/dev/null'
check_exit 'two actions: usage error' 2 \
	'assign --dir "$ib" --agents --next 2>/dev/null'
check 'the roster is the last line of roster/agents, 0600, by name' \
	'tail -n 1 "$ib/roster/agents" | jq -e "[.agents[].name] ==
	     [\"ana\",\"bo\"]" &&
	 [ "$(stat -c %a "$ib/roster/agents")" = 600 ]'
check 'off shift, then on again; the same twice changes nothing' \
	'assign --dir "$ib" --off bo | jq -e ".on_shift == false" &&
	 assign --dir "$ib" --off bo | wc -l | grep -qx 0 &&
	 assign --dir "$ib" --on bo | jq -e ".on_shift == true"'
check 'remove, and add again' \
	'assign --dir "$ib" --add cy >/dev/null &&
	 assign --dir "$ib" --remove cy | jq -e ".removed == true" &&
	 ! assign --dir "$ib" --agents | grep -q "\"cy\""'
check '--agents in a pipe: a record each, with load and the rest' \
	'assign --dir "$ib" --agents | jq -se "length == 2 and
	     all(.[]; .load == 0 and .oldest_waiting == null and
	         .last_assigned_at == null)"'
check '--agents --table: a header and a line each' \
	'assign --dir "$ib" --agents --table >"$tmp/t" &&
	 head -n 1 "$tmp/t" | grep -q "^AGENT" &&
	 grep -q "^bo  *on  *0/3 " "$tmp/t" && [ "$(wc -l <"$tmp/t")" = 3 ]'

# The roster is a file of the inbox: trusted as the others are.
cp "$ib/roster/agents" "$tmp/agents.bak"
chmod 606 "$ib/roster/agents"
check_fail 'a roster others may write is refused' \
	'assign --dir "$ib" --agents 2>"$tmp/err"'
check 'and says why' 'grep -q "roster/agents" "$tmp/err"'
chmod 600 "$ib/roster/agents"
mv "$ib/roster/agents" "$tmp/agents.real"
ln -s "$tmp/agents.real" "$ib/roster/agents"
check_fail 'a roster planted as a symbolic link is not followed' \
	'assign --dir "$ib" --add dee 2>/dev/null'
check 'and the file it points to is untouched' \
	'cmp -s "$tmp/agents.real" "$tmp/agents.bak"'
rm "$ib/roster/agents"
mv "$tmp/agents.real" "$ib/roster/agents"

# --- Claims -------------------------------------------------------------

A=+15557000001 B=+15557000002 C=+15557000003 D=+15557000004
wait_conv "$ib" $A 2026-12-01T09:00:00Z
wait_conv "$ib" $B 2026-12-01T08:00:00Z
check 'a claim: exit 0, a conversation.assigned event' \
	'assign --dir "$ib" --claim $A bo | jq -e ".event ==
	     \"conversation.assigned\" and .thread == \"$A\" and
	     .agent == \"bo\" and .previous_agent == null and
	     .conversation.assignee == \"bo\""'
check_exit 'someone else claims it: exit 1' 1 \
	'assign --dir "$ib" --claim $A ana >"$tmp/out" 2>"$tmp/err"'
check 'who owns it, on stderr; nothing on stdout' \
	'grep -qx "assign: $A: owned by bo" "$tmp/err" && [ ! -s "$tmp/out" ]'
is 'it is still bo'"'"'s' "$(owner "$ib" $A)" bo
check 'the owner claims it again: exit 0, nothing changed' \
	'assign --dir "$ib" --claim $A bo >"$tmp/out" && [ ! -s "$tmp/out" ]'
check 'SMSDESK_AGENT is the agent when none is given' \
	'SMSDESK_AGENT=ana assign --dir "$ib" --claim $B |
	 jq -e ".agent == \"ana\""'
check_exit 'no such conversation: exit 1' 1 \
	'assign --dir "$ib" --claim $C bo 2>"$tmp/err"'
check 'said' 'grep -q "no such conversation" "$tmp/err"'
check_exit 'an agent not in the roster: usage error, nothing claimed' 2 \
	'wait_conv "$ib" $C 2026-12-01T09:00:00Z &&
	 assign --dir "$ib" --claim $C zed 2>/dev/null'
is 'unclaimed' "$(owner "$ib" $C)" null
check_exit 'no agent at all: usage error' 2 \
	'env -u SMSDESK_AGENT assign --dir "$ib" --claim $C 2>/dev/null'
check_exit '-a and AGENT that differ: usage error' 2 \
	'assign --dir "$ib" --agent ana --claim $C bo 2>/dev/null'

# 8 processes claim one conversation at once, trial after trial: exactly
# one wins each, and the record names the winner.
ri=$tmp/race
mkinbox "$ri"
n=$(rounds SMSDESK_CLAIM_ROUNDS 200)
for k in 1 2 3 4 5 6 7 8; do
	assign --dir "$ri" --add "a$k" >/dev/null || fail "agent a$k added"
done
i=0
while [ "$i" -lt "$n" ]; do
	wait_conv "$ri" "+1555800$(printf %04d "$i")" 2026-12-01T09:00:00Z
	i=$((i + 1))
done
bad=0 i=0
while [ "$i" -lt "$n" ]; do
	t=+1555800$(printf %04d "$i")
	for k in 1 2 3 4 5 6 7 8; do
		{ assign --dir "$ri" --claim "$t" "a$k" >/dev/null 2>&1
		  echo "$? a$k" >"$tmp/rc.$k"; } &
	done
	wait
	wins=$(cat "$tmp"/rc.? | grep -c '^0 ')
	lost=$(cat "$tmp"/rc.? | grep -c '^1 ')
	who=$(cat "$tmp"/rc.? | sed -n 's/^0 //p')
	if [ "$wins" != 1 ] || [ "$lost" != 7 ] ||
	    [ "$(owner "$ri" "$t")" != "$who" ]; then
		bad=$((bad + 1))
		diag "trial $i: $wins won, $lost lost, owner $(owner "$ri" "$t"), winner $who"
	fi
	i=$((i + 1))
done
is "8 racing claims, $n trials: exactly one winner each, the owner" "$bad" 0

# --- --next -------------------------------------------------------------

nx=$tmp/next
mkinbox "$nx"
for k in 1 2 3 4 5 6 7 8; do
	assign --dir "$nx" --add "n$k" --capacity 100 >/dev/null
done
i=0
while [ "$i" -lt 40 ]; do
	wait_conv "$nx" "+1555810$(printf %04d "$i")" \
	    "2026-12-01T09:$(printf %02d "$i"):00Z"
	i=$((i + 1))
done
check '--next: the oldest waiting, claimed for the agent' \
	'assign --dir "$nx" --next n1 | jq -e ".thread == \"+15558100000\"
	     and .agent == \"n1\" and .event == \"conversation.assigned\""'
: >"$tmp/next.all"
r=0
while [ "$r" -lt 4 ]; do
	for k in 1 2 3 4 5 6 7 8; do
		assign --dir "$nx" --next "n$k" >"$tmp/next.$k" 2>&1 &
	done
	wait
	cat "$tmp"/next.? >>"$tmp/next.all"
	r=$((r + 1))
done
is '8 agents calling --next at once, 4 times: 32 different conversations' \
	"$(jq -r .thread "$tmp/next.all" | sort -u | wc -l)" 32
is 'each the oldest left: the 32 after the first' \
	"$(jq -r .thread "$tmp/next.all" | sort | sed -n '1p;$p' | tr '\n' ' ')" \
	'+15558100001 +15558100032 '
check 'each owned by the agent it was given to' \
	'jq -r "[.thread, .agent] | @tsv" "$tmp/next.all" |
	 while read -r t a; do [ "$(owner "$nx" "$t")" = "$a" ] || exit 1
	 done'
assign --dir "$nx" --auto </dev/null >/dev/null
check_exit '--next with nothing left: exit 1' 1 \
	'assign --dir "$nx" --next n1 >"$tmp/out" 2>"$tmp/err"'
check 'said, nothing printed' \
	'grep -q "nothing waiting for n1" "$tmp/err" && [ ! -s "$tmp/out" ]'

# Skills and capacity bind --next.
sk=$tmp/skills
mkinbox "$sk"
mkdir -p "$tmp/config/smsdesk"
printf 'route.billing = refund|invoice\n' >"$sk/config"
chmod 600 "$sk/config"
assign --dir "$sk" --add plain --capacity 1 >/dev/null
assign --dir "$sk" --add money --skills billing --capacity 1 >/dev/null
wait_conv "$sk" $A 2026-12-01T08:00:00Z 'I want a REFUND'
wait_conv "$sk" $B 2026-12-01T09:00:00Z 'hello'
check '--next passes over what the agent lacks the skill for' \
	'assign --dir "$sk" --next plain | jq -e ".thread == \"$B\""'
check_exit 'and an agent at capacity gets nothing: exit 1' 1 \
	'wait_conv "$sk" $C 2026-12-01T10:00:00Z &&
	 assign --dir "$sk" --next plain 2>"$tmp/err"'
check 'said' 'grep -q "plain is at capacity (1/1 open)" "$tmp/err"'
check 'the skilled agent gets the refund' \
	'assign --dir "$sk" --next money | jq -e ".thread == \"$A\""'

# --- --auto: plans on a fixed roster and backlog -------------------------

# fresh NAME: a new inbox $tmp/NAME, in $au.
fresh() { au=$tmp/$1; mkinbox "$au"; }

# plan [ARG...]: the plan of --auto, "thread agent|- reason" a line.
plan() {
	assign --dir "$au" --auto --plan "$@" </dev/null |
	    jq -r '"\(.thread) \(.agent // "-") \(.reason)"'
}

fresh ll
assign --dir "$au" --add ana --capacity 2 >/dev/null
assign --dir "$au" --add bo --capacity 3 >/dev/null
for i in 1 2 3 4 5 6; do
	wait_conv "$au" "+1555820000$i" "2026-12-01T0$i:00:00Z"
done
is 'least-loaded: fewest open, ties to the longest idle, within capacity' \
	"$(plan)" "+15558200001 ana least-loaded: ana 0/2 open
+15558200002 bo least-loaded: bo 0/3 open
+15558200003 ana least-loaded: ana 1/2 open
+15558200004 bo least-loaded: bo 1/3 open
+15558200005 bo least-loaded: bo 2/3 open
+15558200006 - every agent on shift is at capacity"
check '--plan changed nothing' \
	'[ "$(owner "$au" +15558200001)" = null ] &&
	 [ "$(loads "$au" | tr "\n" " ")" = "ana 0/2 bo 0/3 " ]'
assign --dir "$au" --auto </dev/null >"$tmp/auto.out" 2>"$tmp/auto.err"
is 'applied: the same decisions, one event each' \
	"$(jq -r '"\(.thread) \(.agent) \(.reason)"' "$tmp/auto.out")" \
	"+15558200001 ana least-loaded: ana 0/2 open
+15558200002 bo least-loaded: bo 0/3 open
+15558200003 ana least-loaded: ana 1/2 open
+15558200004 bo least-loaded: bo 1/3 open
+15558200005 bo least-loaded: bo 2/3 open"
check 'the one nobody fits stays unassigned, said with the reason' \
	'grep -qx "assign: +15558200006: left unassigned: every agent on shift is at capacity" "$tmp/auto.err" &&
	 [ "$(owner "$au" +15558200006)" = null ]'
is 'the loads: at capacity, not past it' "$(loads "$au" | tr '\n' ' ')" \
	'ana 2/2 bo 3/3 '
check 'run again: nothing assigned the second time' \
	'assign --dir "$au" --auto </dev/null 2>/dev/null | wc -l | grep -qx 0'
check 'capacity 0 takes nothing' \
	'assign --dir "$au" --change ana --capacity 0 >/dev/null &&
	 assign --dir "$au" --change bo --capacity 4 >/dev/null &&
	 [ "$(plan)" = "+15558200006 bo least-loaded: bo 3/4 open" ]'

fresh rr
printf 'assign_policy = round-robin\n' >"$au/config"
chmod 600 "$au/config"
for a in ana bo cy; do assign --dir "$au" --add $a >/dev/null; done
for i in 1 2 3 4; do
	wait_conv "$au" "+1555830000$i" "2026-12-01T0$i:00:00Z"
done
is 'round-robin (from the configuration): in the order of names' \
	"$(plan)" "+15558300001 ana round-robin: ana 0/10 open
+15558300002 bo round-robin: bo 0/10 open
+15558300003 cy round-robin: cy 0/10 open
+15558300004 ana round-robin: ana 1/10 open"
check 'applied to two, one run each: the rotation moves on' \
	'assign --dir "$au" --auto +15558300001 | jq -e ".agent == \"ana\"" &&
	 assign --dir "$au" --auto +15558300002 | jq -e ".agent == \"bo\""'
check 'and is kept in the inbox: the next run goes on from there' \
	'tail -n 1 "$au/roster/rotation" | jq -e ".last == \"bo\"" &&
	 assign --dir "$au" --auto </dev/null | jq -se "map(.agent) ==
	     [\"cy\",\"ana\"]"'
check 'an agent off shift is passed over; --policy beats the config' \
	'wait_conv "$au" +15558300005 2026-12-01T05:00:00Z &&
	 wait_conv "$au" +15558300006 2026-12-01T06:00:00Z &&
	 assign --dir "$au" --off bo >/dev/null &&
	 [ "$(plan)" = "+15558300005 cy round-robin: cy 1/10 open
+15558300006 ana round-robin: ana 2/10 open" ] &&
	 [ "$(plan --policy least-loaded | cut -d" " -f2 | tr "\n" " ")" = "cy ana " ]'
check_exit 'an unknown --policy: usage error' 2 \
	'assign --dir "$au" --auto --policy random </dev/null 2>/dev/null'
check_exit 'an unknown assign_policy: configuration error' 78 \
	'printf "assign_policy = random\n" >"$au/config" &&
	 assign --dir "$au" --auto </dev/null 2>/dev/null'

fresh skill
printf 'route.billing = refund|invoice\nroute.spanish = hola\n' >"$au/config"
chmod 600 "$au/config"
assign --dir "$au" --add ana --skills billing >/dev/null
assign --dir "$au" --add bo --skills spanish >/dev/null
wait_conv "$au" +15558400001 2026-12-01T01:00:00Z 'Refund please'
wait_conv "$au" +15558400002 2026-12-01T02:00:00Z 'hola, refund'
wait_conv "$au" +15558400003 2026-12-01T03:00:00Z 'hola'
wait_conv "$au" +15558400004 2026-12-01T04:00:00Z 'hi'
is 'skills: every skill asked; one nobody has stays, with the reason' \
	"$(plan)" "+15558400001 ana least-loaded: ana 0/10 open
+15558400002 - no agent on shift with skill billing, spanish
+15558400003 bo least-loaded: bo 0/10 open
+15558400004 ana least-loaded: ana 1/10 open"
check 'the skilled agent off shift: no agent on shift with the skill' \
	'assign --dir "$au" --off ana >/dev/null &&
	 plan | grep -qx "+15558400001 - no agent on shift with skill billing"'
check 'nobody on shift at all' \
	'assign --dir "$au" --off bo >/dev/null &&
	 plan | grep -qx "+15558400004 - no agent on shift"'
check_exit 'a rule that does not compile: configuration error' 78 \
	'printf "route.billing = (refund\n" >"$au/config" &&
	 assign --dir "$au" --auto --plan </dev/null 2>"$tmp/err"'
check 'said with its key' 'grep -q "route.billing" "$tmp/err"'

# Stickiness, and the release that makes it.
fresh sticky
for a in ana bo cy; do assign --dir "$au" --add $a >/dev/null; done
wait_conv "$au" +15558500001 2026-12-01T01:00:00Z
wait_conv "$au" +15558500002 2026-12-01T02:00:00Z
assign --dir "$au" --claim +15558500001 cy >/dev/null
assign --dir "$au" --claim +15558500002 cy >/dev/null
check 'off shift with --release: each of its conversations unassigned' \
	'assign --dir "$au" --off cy --release >"$tmp/rel" &&
	 jq -se "map(select(.event)) | length == 2 and
	     all(.[]; .event == \"conversation.unassigned\" and
	         .previous_agent == \"cy\" and .agent == null and
	         .reason == \"released: cy went off shift\" and
	         .conversation.previous_assignee == \"cy\")" "$tmp/rel"'
is 'both back in the queue' \
	"$(owner "$au" +15558500001) $(owner "$au" +15558500002)" 'null null'
check 'the previous agent off shift: the policy decides, and says why' \
	'plan | head -n 1 | grep -qx "+15558500001 ana least-loaded: ana 0/10 open (cy, who had this customer, is off shift)"'
today=$(date -u +%Y-%m-%d)
check 'back on shift: the customer goes back to cy (sticky)' \
	'assign --dir "$au" --on cy >/dev/null &&
	 [ "$(plan)" = "+15558500001 cy sticky: cy had this customer on $today
+15558500002 cy sticky: cy had this customer on $today" ]'
check 'the event names the previous agent' \
	'assign --dir "$au" --auto +15558500001 | jq -e ".agent == \"cy\" and
	     .previous_agent == \"cy\" and (.reason | startswith(\"sticky\"))"'
check 'sticky within capacity only' \
	'assign --dir "$au" --change cy --capacity 1 >/dev/null &&
	 plan | grep -qx "+15558500002 ana least-loaded: ana 0/10 open (cy, who had this customer, is at capacity 1/1)"'

check '--unassign by hand: back to the queue, the owner kept as previous' \
	'assign --dir "$au" --unassign +15558500001 | jq -e ".event ==
	     \"conversation.unassigned\" and .previous_agent == \"cy\" and
	     .agent == null and .reason == \"unassigned by hand\" and
	     .conversation.previous_assignee == \"cy\""'
check 'one nobody owns is left as it is: no event' \
	'assign --dir "$au" --unassign +15558500001 | wc -l | grep -qx 0'
check_exit 'no such conversation: exit 1, the rest done' 1 \
	'wait_conv "$au" +15558500009 2026-12-01T09:00:00Z &&
	 assign --dir "$au" --claim +15558500009 ana >/dev/null &&
	 assign --dir "$au" -A +15558500008 +15558500009 >"$tmp/out" 2>"$tmp/err"'
check 'said, and the other unassigned' \
	'grep -q "+15558500008: no such conversation" "$tmp/err" &&
	 jq -e ".thread == \"+15558500009\"" "$tmp/out"'
check_exit 'a NUMBER that is none: usage error, nothing changed' 2 \
	'assign --dir "$au" --claim +15558500009 ana >/dev/null &&
	 assign --dir "$au" -A +15558500009 nonsense 2>/dev/null'
is 'still ana'"'"'s' "$(owner "$au" +15558500009)" ana

# --- --auto at once, and on a stream ---------------------------------------

# 4 --auto and 4 --next at once over 40 waiting and 3 agents of capacity
# 5, round after round on a fresh inbox: 15 assigned each time, the
# oldest 15, none twice, no agent past its capacity.
bad=0 r=0
while [ "$r" -lt 5 ]; do
	cc=$tmp/concurrent.$r
	mkinbox "$cc"
	for a in ana bo cy; do
		assign --dir "$cc" --add $a --capacity 5 >/dev/null
	done
	i=0
	while [ "$i" -lt 40 ]; do
		wait_conv "$cc" "+1555860$(printf %04d "$i")" \
		    "2026-12-01T09:$(printf %02d "$i"):00Z"
		i=$((i + 1))
	done
	for k in 1 2 3 4; do
		assign --dir "$cc" --auto </dev/null >"$tmp/cc.$k" 2>/dev/null &
		assign --dir "$cc" --next bo >"$tmp/ccn.$k" 2>/dev/null &
	done
	wait
	cat "$tmp"/cc.? "$tmp"/ccn.? >"$tmp/cc.all"
	got="$(jq -r .thread "$tmp/cc.all" | wc -l) $(loads "$cc" | tr '\n' ' ')"
	got="$got$(jq -r .thread "$tmp/cc.all" | sort | uniq -d)"
	got="$got $(jq -r .thread "$tmp/cc.all" | sort | tail -n 1)"
	if [ "$got" != '15 ana 5/5 bo 5/5 cy 5/5  +15558600014' ]; then
		bad=$((bad + 1))
		diag "round $r: $got"
	fi
	r=$((r + 1))
done
is '4 --auto and 4 --next at once, 5 rounds: the oldest 15, once, within capacity' \
	"$bad" 0

st=$tmp/stream
mkinbox "$st"
assign --dir "$st" --add ana >/dev/null
wait_conv "$st" +15558700001 2026-12-01T01:00:00Z
printf '%s\n' '{"thread":"+15558700001"}' 'not json' \
    '{"type":"note"}' '{"thread":"+15558700009"}' >"$tmp/in"
check_exit 'records on stdin: a bad line is said, the rest routed: exit 1' 1 \
	'assign --dir "$st" --auto <"$tmp/in" >"$tmp/out" 2>"$tmp/err"'
check 'the good one assigned, the bad line named' \
	'jq -e ".thread == \"+15558700001\"" "$tmp/out" &&
	 grep -q "stdin:2" "$tmp/err"'

pl=$tmp/pipeline
mkinbox "$pl"
for a in ana bo cy; do assign --dir "$pl" --add $a --capacity 10 >/dev/null; done
i=0
while [ "$i" -lt 31 ]; do
	wait_conv "$pl" "+1555880$(printf %04d "$i")" \
	    "2026-12-01T09:$(printf %02d "$i"):00Z"
	i=$((i + 1))
done
check 'inbox-ls | assign --auto: what came together, routed together' \
	'inbox-ls --dir "$pl" --unassigned | assign --dir "$pl" --auto \
	     >"$tmp/pl.out" 2>"$tmp/pl.err" &&
	 [ "$(jq -r .thread "$tmp/pl.out" | sort -u | wc -l)" = 30 ] &&
	 [ "$(loads "$pl" | tr "\n" " ")" = "ana 10/10 bo 10/10 cy 10/10 " ]'
check 'the youngest left unassigned, said' \
	'grep -qx "assign: +15558800030: left unassigned: every agent on shift is at capacity" "$tmp/pl.err"'

# sms-sim customers text in; sms-recv --listen | assign --auto assigns
# each as its event arrives (the pipe stays open: no end of input).
mkfifo "$tmp/recv.fifo"
serve_before='assign --dir "$st" --auto <"$tmp/recv.fifo" >"$tmp/stream.out" 2>"$tmp/stream.err" & apid=$!; pids="$pids $apid"'
serve "$tmp/recv.fifo" "$tmp/recv.err" sms-recv --dir "$st" ||
	{ fail 'sms-recv starts'; done_testing; }
serve_before=
sim S --webhook "http://127.0.0.1:$port/twilio" ||
	{ fail 'sms-sim starts'; done_testing; }
for k in 1 2 3; do
	t0=$(date +%s%N)
	sms-sim text --url "$TWILIO_API_URL" "+155587100$k$k" "where is my order $k" >/dev/null
	if poll '[ -f "$st/conv/+155587100$k$k" ] &&
	    [ "$(owner "$st" "+155587100$k$k")" = ana ]'; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		diag "customer $k assigned ${ms} ms after texting"
		pass "customer $k texts in: assigned to ana from the stream"
	else
		fail "customer $k texts in: assigned to ana from the stream"
		sed 's/^/# /' "$tmp/stream.err" >&2
	fi
done
check 'one event each, as they came' \
	'[ "$(jq -r .thread "$tmp/stream.out" | tr "\n" " ")" = "+15558710011 +15558710022 +15558710033 " ]'

# --- sms-send: an agent's answer claims what nobody owns ------------------

wait_conv "$st" +15558720001 2026-12-01T01:00:00Z
wait_conv "$st" +15558720002 2026-12-01T01:00:00Z
wait_conv "$st" +15558720003 2026-12-01T01:00:00Z
assign --dir "$st" --add bo >/dev/null
assign --dir "$st" --claim +15558720002 bo >/dev/null
check 'an agent answers a conversation nobody owns: it is the agent'"'"'s' \
	'SMSDESK_AGENT=cy sms-send --dir "$st" --thread +15558720001 "on it" \
	     >/dev/null && [ "$(owner "$st" +15558720001)" = cy ]'
check 'one that someone owns stays theirs' \
	'SMSDESK_AGENT=cy sms-send --dir "$st" --thread +15558720002 "on it" \
	     >/dev/null && [ "$(owner "$st" +15558720002)" = bo ]'
check 'an answer with no agent claims nothing' \
	'env -u SMSDESK_AGENT sms-send --dir "$st" --thread +15558720003 hi \
	     >/dev/null && [ "$(owner "$st" +15558720003)" = null ]'
check 'nor does a notification' \
	'wait_conv "$st" +15558720004 2026-12-01T01:00:00Z &&
	 printf "{\"thread\":\"+15558720004\",\"body\":\"shipped\",\"purpose\":\"notification\"}\n" |
	 SMSDESK_AGENT=cy sms-send --dir "$st" >/dev/null &&
	 [ "$(owner "$st" +15558720004)" = null ]'
check '-a NAME is the agent, before SMSDESK_AGENT' \
	'wait_conv "$st" +15558720005 2026-12-01T01:00:00Z &&
	 SMSDESK_AGENT=cy sms-send --dir "$st" -a dee --thread +15558720005 \
	     "on it" >/dev/null && [ "$(owner "$st" +15558720005)" = dee ]'
check 'records answered with --agent are claimed, each for it' \
	'wait_conv "$st" +15558720006 2026-12-01T01:00:00Z &&
	 wait_conv "$st" +15558720007 2026-12-01T01:00:00Z &&
	 printf "{\"thread\":\"%s\",\"body\":\"on it\"}\n" +15558720006 \
	     +15558720007 | sms-send --dir "$st" --agent dee --purpose reply \
	     >/dev/null &&
	 [ "$(owner "$st" +15558720006) $(owner "$st" +15558720007)" = "dee dee" ]'
check_exit '--agent with no name: usage error' 2 \
	'sms-send --dir "$st" --agent "" --thread +15558720005 hi 2>/dev/null'

# --- queue/: the index --next reads --------------------------------------
# Every writer keeps queue/ as the conversations say (w,WAITING,THREAD for
# one waiting for an owner, a,AGENT,THREAD for one an agent holds); --next
# reads the names, checks what it takes, and rebuilds an index not whole.

qx=$tmp/queue
mkinbox "$qx"
assign --dir "$qx" --add qa >/dev/null
qnames() { (cd "$1/queue" && ls | grep -v '^\.' | tr '\n' ' '); }
printf '%s\n' \
	'{"from":"+15558740001","to":"+15550001111","body":"first","provider":"twilio","provider_id":"SMq1"}' \
	'{"from":"+15558740002","to":"+15550001111","body":"second","provider":"twilio","provider_id":"SMq2"}' |
	SMSDESK_NOW=2026-12-01T10:00:00Z sms-recv --dir "$qx" >/dev/null 2>&1
is 'two customers text in: each waits in queue/' "$(qnames "$qx")" \
	'w,2026-12-01T10:00:00Z,+15558740001 w,2026-12-01T10:00:00Z,+15558740002 '
check 'assign --claim: held, no longer waiting' \
	'assign --dir "$qx" --claim +15558740001 qa >/dev/null &&
	 [ "$(qnames "$qx")" = "a,qa,+15558740001 w,2026-12-01T10:00:00Z,+15558740002 " ]'
check 'inbox-mark --resolve: out of the index' \
	'inbox-mark --dir "$qx" --resolve +15558740001 >/dev/null &&
	 [ "$(qnames "$qx")" = "w,2026-12-01T10:00:00Z,+15558740002 " ]'
echo '{"from":"+15558740001","to":"+15550001111","body":"me again","provider":"twilio","provider_id":"SMq3"}' >"$tmp/again"
check 'a customer whose conversation was resolved texts again: held again' \
	'SMSDESK_NOW=2026-12-01T11:00:00Z sms-recv --dir "$qx" <"$tmp/again" \
	     >/dev/null 2>&1 &&
	 [ -e "$qx/queue/a,qa,+15558740001" ] &&
	 inbox-mark --dir "$qx" --resolve +15558740001 >/dev/null &&
	 [ "$(qnames "$qx")" = "w,2026-12-01T10:00:00Z,+15558740002 " ]'
check 'assign --unassign: back to waiting' \
	'assign --dir "$qx" --claim +15558740002 qa >/dev/null &&
	 assign --dir "$qx" --unassign +15558740002 >/dev/null &&
	 qnames "$qx" | grep -q "^w,[^,]*,+15558740002 $"'
: >"$qx/queue/w,2026-11-01T00:00:00Z,+15558740001"
: >"$qx/queue/.built"
check '--next passes over a name the conversation does not bear out' \
	'assign --dir "$qx" --next qa | jq -e ".thread == \"+15558740002\""'
check 'and removes it' \
	'[ ! -e "$qx/queue/w,2026-11-01T00:00:00Z,+15558740001" ] &&
	 [ "$(qnames "$qx")" = "a,qa,+15558740002 " ]'
rm -rf "$qx/queue"
check 'an inbox from before the index: rebuilt on first use' \
	'assign --dir "$qx" --unassign +15558740002 >/dev/null &&
	 rm -f "$qx/queue/.built" &&
	 assign --dir "$qx" --next qa | jq -e ".thread == \"+15558740002\"" &&
	 [ -e "$qx/queue/.built" ] && [ "$(qnames "$qx")" = "a,qa,+15558740002 " ]'

# --- inbox-ls --mine, exits ----------------------------------------------

check 'inbox-ls --mine: the conversations of SMSDESK_AGENT' \
	'[ "$(SMSDESK_AGENT=cy inbox-ls --dir "$st" --mine |
	     jq -r .thread)" = +15558720001 ]'
check_exit 'inbox-ls --mine with no agent: configuration error' 78 \
	'env -u SMSDESK_AGENT inbox-ls --dir "$ib" --mine 2>/dev/null'
check_exit 'assign on a missing inbox: 66' 66 \
	'assign --dir "$tmp/none" --agents 2>/dev/null'
check_exit 'assign with stdout on a full disk: 74' 74 \
	'assign --dir "$ib" --agents --json >/dev/full 2>/dev/null'
check_exit 'no action: usage error' 2 'assign --dir "$ib" 2>/dev/null'

done_testing
