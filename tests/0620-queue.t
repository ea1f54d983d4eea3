#!/bin/sh
# The queue shows the work that waits on us (smsdesk-inbox(5),
# Conversation records): only a reply that went out is a response; a
# notice, an automatic reply, a failed or refused reply leave the
# customer waiting; a conversation of our messages only, or of keywords
# only, is no work until the customer writes.
#
# The customers write through sms-recv, whose clock is pinned two hours
# back (SMSDESK_NOW), so that they are overdue by the real clock that
# inbox-ls and sms-send go by; the provider is sms-sim. Both on
# 127.0.0.1, random free ports, killed by PID on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0620
ib=$tmp/inbox
SMSDESK_INBOX=$ib
export SMSDESK_INBOX

serve "$tmp/recv.out" "$tmp/recv.err" env SMSDESK_NOW="$(from_now -7200)" \
	sms-recv -d "$ib" || { fail 'sms-recv starts'; done_testing; }
rport=$port
sim sim --refuse +15556200009 || { fail 'sms-sim starts'; done_testing; }

# text NUMBER SID BODY: NUMBER texts BODY in, two hours ago; prints the
# HTTP status.
text() {
	port=$rport webhook "MessageSid=$2&AccountSid=$AC&From=%2B${1#+}&To=%2B${US#+}&Body=$3"
}

# conv NUMBER JQ: JQ of NUMBER's conversation record.
conv() { tail -n 1 "$ib/conv/$1" | jq -c "$2"; }

# queue: the threads of the default listing, sorted, on one line.
queue() { inbox-ls --json | jq -r .thread | sort | tr '\n' ' '; }

# overdue: the threads waiting more than an hour, sorted, on one line.
overdue() {
	inbox-ls --json --overdue 1h | jq -r .thread | sort | tr '\n' ' '
}

A=+15556200001 B=+15556200002 C=+15556200003

# --- The README's recipe is no response -----------------------------------

for n in 1 2 3; do
	is "customer $n texts in" \
	    "$(text +1555620000$n SMq00000000000000000000000000000$n 'Where+is+my+order%3F')" 200
done
is 'three customers wait over an hour' "$(overdue)" "$A $B $C "
check 'inbox-ls --unassigned --overdue 1h | sms-send --template ...' \
	'inbox-ls --unassigned --overdue 1h |
	    sms-send --template "Hi, thanks for waiting - an agent will be with you shortly." \
	    >"$tmp/recipe.out"'
is 'each got it, as a notification' \
	"$(jq -r '[.thread, .purpose, (.provider_id | startswith("SM"))] | @tsv' "$tmp/recipe.out" | sort | tr '\t\n' ', ')" \
	"$A,notification,true $B,notification,true $C,notification,true "
is 'it set no first_response_at, stopped no clock' \
	"$(conv $A '[.first_response_at, .waiting_since != null, .last_auto_at != null]')" \
	'[null,true,true]'
is 'and nobody left --overdue' "$(overdue)" "$A $B $C "
is 'the thread view shows it is a notification' \
	"$(inbox-ls --table --no-mark $A | grep -c '\[notification\] Hi, thanks for waiting')" 1

# --- An agent's --thread reply is one -------------------------------------

check 'an agent answers A with --thread' \
	'sms-send --thread $A "It ships today." >"$tmp/reply.out"'
is 'a reply, taken by the provider' \
	"$(jq -c '[.purpose, (.provider_id | startswith("SM"))]' "$tmp/reply.out")" \
	'["reply",true]'
is 'A has its first response, and the clock stopped' \
	"$(conv $A '[.first_response_at != null, .waiting_since]')" '[true,null]'
is 'A left --overdue, the others wait on' "$(overdue)" "$B $C "
check '--purpose notification on --thread is no response' \
	'sms-send --purpose notification --thread $B "Your parcel left." >/dev/null &&
	    [ "$(conv $B .first_response_at)" = null ]'
check 'a record with "purpose":"reply" is one' \
	'printf "%s\n" "{\"thread\":\"$B\",\"body\":\"On its way.\",\"purpose\":\"reply\"}" |
	    sms-send >/dev/null && [ "$(conv $B .waiting_since)" = null ]'

# --- A reply that failed is none --------------------------------------------

F=+15556200009
is 'F texts in' "$(text $F SMq000000000000000000000000000009 'hello%3F')" 200
check_exit 'a reply the provider refuses (21211): exit 1' 1 \
	'sms-send --thread $F "Hi there" >"$tmp/fail.out" 2>/dev/null'
is 'stored failed, a reply' "$(jq -c '[.status, .purpose]' "$tmp/fail.out")" \
	'["failed","reply"]'
is 'no first response, the clock runs on' \
	"$(conv $F '[.first_response_at, .waiting_since != null]')" '[null,true]'
is 'F is still overdue' "$(overdue)" "$C $F "

# --- An automatic reply (HELP) is none ---------------------------------------

is 'C texts HELP' "$(text $C SMq000000000000000000000000000013 HELP)" 200
check 'sms-recv answered it' "grep -q '<Message>' '$tmp/resp'"
is 'stored as a notification, auto help' \
	"$(tail -qn 1 "$ib/msg/$C"/* | jq -c 'select(.direction == "out" and .auto) | [.purpose, .auto]')" \
	'["notification","help"]'
is 'C still waits, with no first response' \
	"$(conv $C '[.first_response_at, .waiting_since != null]')" '[null,true]'

# --- A reply whose answer was lost counts once it is known to have gone -----

# In an inbox of its own, for --reconcile settles every message left open.
ib2=$tmp/inbox2
L=+15556200007
printf '%s\n' "MessageSid=SMlost1&From=%2B${L#+}&To=%2B${US#+}&Body=anyone%3F" \
	>"$tmp/lost.txt"
SMSDESK_NOW=$(from_now -7200) sms-recv -d "$ib2" "$tmp/lost.txt" >/dev/null
kill "$simpid"
sim lost --drop 100 || fail 'sms-sim starts'
check_exit 'a reply whose answer is lost: unknown, 75' 75 \
	'sms-send -d "$ib2" --thread $L "Sorry for the wait" >"$tmp/lost.out" 2>/dev/null'
is 'unknown: no response yet, still overdue' \
	"$(jq -r .status "$tmp/lost.out"):$(tail -n 1 "$ib2/conv/$L" | jq -c '[.first_response_at, .waiting_since != null]')" \
	'unknown:[null,true]'
check '--reconcile finds it taken by the provider' \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/rec.out" &&
	    jq -e ".thread == \"$L\" and (.provider_id | startswith(\"SM\"))" \
	    "$tmp/rec.out"'
is 'now it is the response: the clock stopped' \
	"$(tail -n 1 "$ib2/conv/$L" | jq -c '[.first_response_at != null, .waiting_since]')" \
	'[true,null]'
kill "$simpid"
sim || fail 'sms-sim starts'

# --- A notification batch adds nothing to the queue ----------------------

before=$(queue)
i=100
while [ $i -lt 200 ]; do
	printf '{"to":"+15556201%03d","body":"Your appointment is tomorrow at 10."}\n' $i
	i=$((i + 1))
done >"$tmp/batch.ndjson"
check 'a batch of 100 notices, one to each number' \
	'sms-send --jobs 4 <"$tmp/batch.ndjson" >"$tmp/batch.out"'
is 'all taken, all notifications' \
	"$(jq -s -c '[length, (map(.purpose) | unique)]' "$tmp/batch.out")" \
	'[100,["notification"]]'
is 'the default listing is as it was' "$(queue)" "$before"
is 'the working set has no entry for them' \
	"$(ls "$ib/work" | grep -c '^+15556201')" 0
is 'inbox-ls --all lists them, resolved, never opened' \
	"$(inbox-ls --all --json | jq -s -c 'map(select(.thread | startswith("+15556201"))) | [length, (map([.status, .opened_at]) | unique)]')" \
	'[100,[["resolved",null]]]'
check 'one --to notice does not either' \
	'sms-send --to +15556202000 "Your code is 1234" >/dev/null &&
	    [ "$(conv +15556202000 .status)" = "\"resolved\"" ] &&
	    [ "$(queue)" = "$before" ]'

# --- A keyword-only conversation is no work --------------------------------

S=+15556200005
is 'S texts STOP, and nothing else' "$(text $S SMq000000000000000000000000000005 STOP)" 200
is 'stored, resolved, never opened, nobody waits' \
	"$(conv $S '[.messages, .status, .opened_at, .waiting_since]')" \
	'[1,"resolved",null,null]'
is 'not in the default listing' "$(queue)" "$before"
H=+15556200006
is 'H texts HELP, and nothing else' "$(text $H SMq000000000000000000000000000006 HELP)" 200
is 'the question and its automatic answer: resolved, nobody waits' \
	"$(conv $H '[.messages, .status, .waiting_since]')" '[2,"resolved",null]'

# --- A customer's text after a notice makes it work -----------------------

N=+15556201042
is 'a customer answers the notice' \
	"$(text $N SMq000000000000000000000000000042 'Can+we+make+it+11%3F')" 200
is 'the conversation opens: an episode, a clock' \
	"$(conv $N '[.status, .opened_at != null, .waiting_since != null, .first_response_at]')" \
	'["open",true,true,null]'
is 'and it is in the queue' "$(queue)" "$before$N "

# --- A reply the carrier then fails is taken back ---------------------------

G=+15556200008
kill "$simpid"
sim failing --fail $G --webhook "http://127.0.0.1:$rport/twilio" ||
	fail 'sms-sim starts'
is 'G texts in' "$(text $G SMq000000000000000000000000000008 'is+anyone+there%3F')" 200
waited=$(conv $G .waiting_since)
# sms-send exits 0, or 75 when the carrier's failure report (30003, a
# temporary one) was stored before the request's answer was settled.
check 'an agent answers G, asking for delivery reports' \
	'SMSDESK_PUBLIC_URL=http://127.0.0.1:$rport sms-send --thread $G "Yes, here." \
	    >"$tmp/g.out"; rc=$?; [ $rc = 0 ] || [ $rc = 75 ]'
# The report may come before or after sms-send stored the answer (a
# parked report): the conversation ends the same.
g_failed() {
	tail -qn 1 "$ib/msg/$G"/* | jq -s -e 'map(select(.direction == "out"))
	    | length == 1 and .[0].status == "failed"' >/dev/null
}
g_waits() {
	[ "$(conv $G '[.first_response_at, .waiting_since]')" = "[null,$waited]" ]
}
check 'the report comes: the reply failed' 'poll g_failed'
check 'the conversation no longer counts it: G waits as before' \
	'poll g_waits'
is 'and G is overdue again' "$(overdue | grep -c "$G")" 1
kill "$simpid"
sim || fail 'sms-sim starts'

# --- Records from before purpose -------------------------------------------

old=$tmp/old
mkinbox "$old"
inbox_check_skip=$old	# hand-made (mkconv, mkmsg): no ledger entry, no history event
O=+15556200010
mkconv "$old" $O '{"messages":3}'
mkmsg "$old" $O 1 in 2026-11-22T09:00:00Z 'HELP'
mkmsg "$old" $O 2 out 2026-11-22T09:00:01Z 'Text us here.' accepted
mkmsg "$old" $O 3 out 2026-11-22T09:05:00Z 'An agent here.' delivered
jq -c '. + {auto: "help"}' "$old/msg/$O/2" >"$tmp/m2" && cat "$tmp/m2" >"$old/msg/$O/2"
is 'an old automatic reply (auto, no purpose) shows as a notification, an old answer as a reply' \
	"$(inbox-ls -d "$old" --table --no-mark $O | grep -c '\[notification\] Text us here'):$(inbox-ls -d "$old" --table --no-mark $O | grep -c '\[.*\] An agent here')" \
	'1:0'

# --- --purpose is checked ---------------------------------------------------

check_exit '--purpose other: a usage error' 2 \
	'sms-send --purpose other --thread $N hi 2>"$tmp/err"'
check 'said so' 'grep -q "purpose" "$tmp/err"'
check_exit 'a record with a bad purpose: refused, the rest sent, exit 1' 1 \
	'printf "%s\n" "{\"to\":\"+15556203001\",\"body\":\"x\",\"purpose\":\"spam\"}" \
	    "{\"to\":\"+15556203002\",\"body\":\"y\"}" | sms-send >"$tmp/bad.out" 2>"$tmp/err"'
is 'the first refused, the second sent' \
	"$(jq -c '[.to, .status]' "$tmp/bad.out" | tr '\n' ' ')" \
	'["+15556203001","failed"] ["+15556203002","queued"] '

# --- inbox-mark --reopen: an episode begins, a reply then answers it ------

R=+15556200011
sms-send --to $R 'Your parcel is on its way.' >/dev/null 2>&1
is 'a notification only: resolved, no episode' \
	"$(conv $R '[.status, .opened_at]')" '["resolved",null]'
inbox-mark --reopen $R >/dev/null
check 'inbox-mark --reopen: open, and its episode begins' \
	"[ \"\$(conv $R '[.status, (.opened_at | type)]')\" = '[\"open\",\"string\"]' ]"
sms-send --thread $R 'Anything else we can do?' >/dev/null 2>&1
check 'so the agent'"'"'s reply is its first response' \
	"conv $R .first_response_at | grep -q '^\"20'"

done_testing
