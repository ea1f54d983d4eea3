#!/bin/sh
# inbox-mark(1) by hand: internal notes on a conversation, opt-outs and
# opt-ins taken by phone or in person, blocked senders; and what the other
# programs make of them (inbox-ls shows, sms-send refuses, sms-recv keeps
# quiet).
#
# The provider is sms-sim, the listener sms-recv, both on 127.0.0.1 (random
# free ports), killed by PID on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0640
ib=$tmp/inbox
A=+15556400001 B=+15556400002 C=+15556400003 D=+15556400004
E=+15556400005 F=+15556400006

# An inbox with a conversation from A, C, D and E each (sms-recv, from
# records on stdin).
for n in 1 3 4 5; do
	printf '{"from":"+155564000%02d","to":"%s","provider_id":"SMin%d","body":"hello %d"}\n' \
	    "$n" "$US" "$n" "$n"
done | sms-recv -d "$ib" >/dev/null 2>"$tmp/err" ||
	fail "the inbox: $(cat "$tmp/err")"

# conv THREAD FILTER: a field of THREAD's conversation, as jq prints it.
conv() { tail -n 1 "$ib/conv/$1" | jq -c "$2"; }
# listed THREAD [ARG...]: whether inbox-ls ARG... lists THREAD.
listed() {
	l_t=$1
	shift
	inbox-ls -d "$ib" --json "$@" | jq -r .thread | grep -qx -- "$l_t"
}
# notes THREAD: the note files of THREAD, as one JSON array.
notes() { cat "$ib/msg/$1"/* | jq -sc 'map(select(.type == "note"))'; }

# --- Internal notes -----------------------------------------------------

before=$(conv $A '[.messages, .unread, .waiting_since, .status]')
SMSDESK_AGENT=ana inbox-mark -d "$ib" --note 'called back: refund agreed' $A \
	>"$tmp/out" 2>"$tmp/err"
is '--note: exit 0' "$?" 0
check 'a note.added event, the thread at its top level' \
	"jq -e --arg t $A '.type == \"event\" and .event == \"note.added\" and
	    .thread == \$t and (.at | test(\"^[0-9-]{10}T[0-9:]{8}Z\$\"))' '$tmp/out'"
check 'the event carries the note record: id, thread, at, agent, body, by' \
	"jq -e --arg t $A '.note | .type == \"note\" and .thread == \$t and
	    (.id | type == \"string\") and .agent == \"ana\" and
	    .body == \"called back: refund agreed\" and .by.agent == \"ana\" and
	    (.by.user | type == \"string\") and
	    (.at | fromdate | now - . < 600)' '$tmp/out'"
is 'the note is stored in the thread, as the event says' \
	"$(notes $A)" "[$(jq -c .note "$tmp/out")]"
is 'a file of its own, 0600, named by its id' \
	"$(stat -c %a "$ib/msg/$A/$(jq -r .note.id "$tmp/out")")" 600
is 'the conversation is as it was: a note is no message and no answer' \
	"$(conv $A '[.messages, .unread, .waiting_since, .status]')" "$before"
check_exit 'an agent name over 64 bytes: 78, before anything is written' 78 \
	'SMSDESK_AGENT=$(printf "%65s" | tr " " a) inbox-mark -d "$ib" --note x $A 2>/dev/null'
is 'so the thread holds one note' "$(notes $A | jq length)" 1
check 'no agent: the note has none, and says who ran inbox-mark' \
	"inbox-mark -d '$ib' --note 'no agent' $C |
	 jq -e '.note | has(\"agent\") | not' &&
	 [ \"\$(notes $C | jq -r '.[0].by.user')\" = \"\$(id -un)\" ]"

# A message after the note: the thread shows them in time order.
printf '{"from":"%s","to":"%s","provider_id":"SMin1b","body":"thanks!"}\n' \
	$A "$US" | sms-recv -d "$ib" >/dev/null
is 'inbox-ls NUMBER (JSON): the note between the messages' \
	"$(inbox-ls -d "$ib" --no-mark $A | jq -rc '[.type, .body]')" \
	'["message","hello 1"]
["note","called back: refund agreed"]
["message","thanks!"]'
is 'the table: the note marked, with its agent' \
	"$(inbox-ls -d "$ib" --no-mark --table $A | sed '1,/^$/d' | cut -c8-)" \
	'←  received       hello 1
✎  note      ana  called back: refund agreed
←  received       thanks!'
is 'inbox-ls --messages (JSON) lists the notes too' \
	"$(inbox-ls -d "$ib" --messages | jq -rc 'select(.type == "note") | .thread' | sort | tr '\n' ' ')" \
	"$A $C "
check 'a thread view still marks what it showed read' \
	"inbox-ls -d '$ib' $A >/dev/null && [ \"\$(conv $A .unread)\" = 0 ]"

printf 'first line\nsecond line\n' | inbox-mark -d "$ib" --note - $D >"$tmp/out"
is '--note -: the note from stdin, less its final newline' \
	"$(jq -c .note.body "$tmp/out")" '"first line\nsecond line"'
check_exit '--note - with no NUMBER: usage error, exit 2' 2 \
	'echo x | inbox-mark -d "$ib" --note -'
check_exit 'an empty --note: usage error, exit 2' 2 \
	'inbox-mark -d "$ib" --note "" $D'
check_exit 'a second --note: usage error, exit 2' 2 \
	'inbox-mark -d "$ib" --note a --note b $D'
n0=$(notes $D | jq length)
check_exit 'a note over 32 KiB: usage error, exit 2' 2 \
	'inbox-mark -d "$ib" --note "$(printf "%32769s" x)" $D'
is 'and nothing was written' "$(notes $D | jq length)" "$n0"
check_exit 'a note on a number with no conversation: exit 1' 1 \
	'inbox-mark -d "$ib" --note hi $B >"$tmp/out" 2>"$tmp/err"'
check 'said so; nothing printed, nothing made' \
	"grep -q '^inbox-mark: $B: no such conversation' '$tmp/err' &&
	 [ ! -s '$tmp/out' ] && [ ! -e '$ib/conv/$B' ] && [ ! -e '$ib/msg/$B' ]"
is 'records on stdin: a note on each thread, the rest of the stream goes on' \
	"$( (inbox-ls -d "$ib" --json | jq -c 'select(.thread == "'$A'" or .thread == "'$D'")'
	     echo '{"type":"conversation"}') |
	    inbox-mark -d "$ib" --note 'escalated' 2>"$tmp/err" |
	    jq -r .thread | sort | tr '\n' ' '; echo "rc=$?")" "$A $D rc=0"
check 'the record without a thread was reported' "grep -q 'stdin:3: no thread' '$tmp/err'"

# A note is durable as a message is: a write or sync that fails leaves
# no note at all, or the whole of it, and says so.
if faults_env; then
	k=0 bad=
	while [ "$k" -lt 40 ]; do
		k=$((k + 1))
		rm -rf "$tmp/fib" && cp -a "$ib" "$tmp/fib"
		n0=$(cat "$tmp/fib/msg/$D"/* | jq -s 'map(select(.type == "note")) | length')
		rm -f "$tmp/calls"
		SMSDESK_FAULT_AT=$k SMSDESK_FAULT_LOG=$tmp/calls LD_PRELOAD=$shim \
		    inbox-mark -d "$tmp/fib" --note durable $D >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ "$(cat "$tmp/calls" 2>/dev/null || echo 0)" -lt "$k" ] && break
		n1=$(inbox-ls -d "$tmp/fib" --no-mark $D 2>>"$tmp/err" |
		    jq -s 'map(select(.type == "note")) | length')
		[ "$rc" -ne 0 ] || bad="$bad k=$k:exit-0"
		grep -q 'No space left' "$tmp/err" || bad="$bad k=$k:unreported"
		[ ! -s "$tmp/out" ] || bad="$bad k=$k:announced"
		[ "$n1" = "$n0" ] || [ "$n1" = $((n0 + 1)) ] || bad="$bad k=$k:$n0->$n1"
	done
	is "a fault at each of the $((k - 1)) file calls of a note: failed, said, never half" \
		"${bad:-ok}" ok
else
	skip 'a fault at each file call of a note' "no $shim (run make)"
fi

# --- Opt-out and opt-in taken by hand ------------------------------------

sim || { fail 'sms-sim starts'; done_testing; }
SMSDESK_AGENT=bo inbox-mark -d "$ib" --optout --source phone \
	--note 'called 6 Dec' $B >"$tmp/out" 2>"$tmp/err"
is '--optout of a number with no conversation: exit 0' "$?" 0
check 'a consent.optout event, the thread at its top level' \
	"jq -e --arg t $B '.type == \"event\" and .event == \"consent.optout\" and .thread == \$t' '$tmp/out'"
is 'the ledger entry keeps who, when, the source and the note' \
	"$(cat "$ib/consent/$B"/* | jq -c '[.type, .number, .state, .source, .note, .agent, .by.agent, (.at | fromdate | now - . < 600)]')" \
	"[\"consent\",\"$B\",\"out\",\"phone\",\"called 6 Dec\",\"bo\",\"bo\",true]"
is 'the event carries that entry' \
	"$(jq -c .consent "$tmp/out")" "$(cat "$ib/consent/$B"/*)"
check 'and no conversation was made for it' "[ ! -e '$ib/conv/$B' ]"
is 'the same again: nothing changes, nothing is said' \
	"$(inbox-mark -d "$ib" --optout --source phone $B; echo "rc=$? $(ls "$ib/consent/$B" | wc -l | tr -d ' ')")" \
	'rc=0 1'
n0=$(creates)
check_exit 'sms-send to it: exit 1' 1 \
	'sms-send -d "$ib" --to $B "Your order shipped" >"$tmp/out" 2>"$tmp/err"'
check 'failed, opted_out, as for a STOP' \
	'jq -e ".status == \"failed\" and .error.code == \"opted_out\"" "$tmp/out"'
is 'and no request was made' "$(creates)" "$n0"

inbox-mark -d "$ib" --optin --source in_person $B >"$tmp/out"
check '--optin: a consent.optin event, source in_person' \
	"jq -e '.event == \"consent.optin\" and .consent.state == \"in\" and
	    .consent.source == \"in_person\" and (.consent | has(\"note\") | not)' '$tmp/out'"
check 'sms-send goes through again' \
	'sms-send -d "$ib" --to $B "Your order shipped" | jq -e ".provider_id"'
is 'one request' "$(creates)" $((n0 + 1))
is 'the ledger holds both entries, the newest deciding' \
	"$(cat "$ib/consent/$B"/* | jq -sc 'map(.state)')" '["out","in"]'
check 'no --source: recorded as manual' \
	"inbox-mark -d '$ib' --optout $F | jq -e '.consent.source == \"manual\"'"
check_exit '--source without --optout or --optin: usage error' 2 \
	'inbox-mark -d "$ib" --source phone $A'
check_exit '--optout with --optin: usage error' 2 \
	'inbox-mark -d "$ib" --optout --optin $A'
check_exit 'an opt-out of a sender that is no number: exit 1' 1 \
	'inbox-mark -d "$ib" --optout @ACME 2>"$tmp/err"'
check 'said why' "grep -q 'not a phone number' '$tmp/err'"

# --- Blocked senders -----------------------------------------------------

check 'before: listed, unread and open' \
	"listed $C && listed $C --unread && listed $C --status open"
inbox-mark -d "$ib" --block --note 'abusive' $C >"$tmp/out"
is '--block: exit 0' "$?" 0
check 'a sender.blocked event with the conversation, thread at the top' \
	"jq -e --arg t $C '.event == \"sender.blocked\" and .thread == \$t and
	    .conversation.thread == \$t and .conversation.block_note == \"abusive\"' '$tmp/out'"
check 'who and when, in the conversation record' \
	"tail -n 1 '$ib/conv/$C' | jq -e '(.blocked_at | fromdate | now - . < 600) and
	    (.blocked_by.user | type == \"string\")'"
check 'out of the working set' "[ ! -e '$ib/work/$C' ]"
check 'not in the default listing' "! listed $C"
check 'nor with --unread or --status open' \
	"! listed $C --unread && ! listed $C --status open"
is '--status blocked lists it alone' \
	"$(inbox-ls -d "$ib" --json --status blocked | jq -r .thread)" "$C"
check '--all shows it, with status blocked in the table' \
	"inbox-ls -d '$ib' --all --table | grep -q '^$C  *blocked '"
check 'a second --block changes nothing and says nothing' \
	"[ -z \"\$(inbox-mark -d '$ib' --block $C)\" ]"
check_exit '--block with --unblock: usage error' 2 \
	'inbox-mark -d "$ib" --block --unblock $C'

n0=$(creates)
check_exit 'sms-send to a blocked sender: exit 1' 1 \
	'sms-send -d "$ib" --to $C "hello?" >"$tmp/out" 2>"$tmp/err"'
check 'failed, error code blocked' \
	'jq -e ".status == \"failed\" and .error.code == \"blocked\"" "$tmp/out"'
check 'said on stderr' "grep -q 'blocked' '$tmp/err'"
is 'no request was made' "$(creates)" "$n0"
check 'the refusal is in the thread, failed, blocked' \
	"cat '$ib/msg/$C'/* | jq -se 'map(select(.direction == \"out\")) |
	    length == 1 and .[0].error.code == \"blocked\"'"

# The listener: a blocked sender's texts are stored, never answered, and
# stay out of the queue; its STOP is honoured in the ledger all the same.
mkdir -p "$tmp/config/smsdesk" && chmod 700 "$tmp/config/smsdesk"
printf '%s\n' 'ack_text = Thanks, an agent will answer shortly.' \
	'stop_text = You are unsubscribed.' >"$tmp/config/smsdesk/config"
chmod 600 "$tmp/config/smsdesk/config"
serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" ||
	{ fail 'sms-recv starts'; done_testing; }
# post N SID BODY: an inbound message from +155564000N; prints the
# HTTP status and the <Message> answered, if any.
post() {
	p_code=$(webhook "ToCountry=US&Body=$3&To=%2B${US#+}&NumSegments=1&MessageSid=$2&AccountSid=$AC&From=%2B1555640000$1&ApiVersion=2010-04-01")
	printf '%s %s\n' "$p_code" "$(sed -n 's:.*<Message>\(.*\)</Message>.*:\1:p' "$tmp/resp")"
}
is 'an unblocked new sender is acknowledged (the config answers)' \
	"$(post 7 SMack1 hi)" '200 Thanks, an agent will answer shortly.'
before=$(conv $C '[.unread, .status, .waiting_since]')
is 'a text from the blocked sender: stored (200), not answered' \
	"$(post 3 SMblk1 'hello%3F')" '200 '
check 'it is in the thread' \
	"cat '$ib/msg/$C'/* | jq -se 'map(select(.provider_id == \"SMblk1\")) | length == 1'"
is 'the conversation: nothing unread, reopened or waiting' \
	"$(conv $C '[.unread, .status, .waiting_since]')" "$before"
check 'still out of the working set' "[ ! -e '$ib/work/$C' ]"
is 'HELP from it: not answered' "$(post 3 SMblk2 HELP)" '200 '
is 'STOP from it: not answered' "$(post 3 SMblk3 STOP)" '200 '
is 'but the opt-out is in the ledger' \
	"$(cat "$ib/consent/$C"/* | jq -c '[.state, .keyword]')" '["out","STOP"]'
is 'no automatic reply is in its thread' \
	"$(cat "$ib/msg/$C"/* | jq -sc 'map(select(.auto)) | length')" 0
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

inbox-mark -d "$ib" --unblock --note 'apologised' $C >"$tmp/out"
check '--unblock: a sender.unblocked event' \
	"jq -e --arg t $C '.event == \"sender.unblocked\" and .thread == \$t' '$tmp/out'"
check 'who and when; the block is gone' \
	"tail -n 1 '$ib/conv/$C' | jq -e '(has(\"blocked_at\") or has(\"blocked_by\") or
	    has(\"block_note\") | not) and (.unblocked_at | fromdate | now - . < 600) and
	    (.unblocked_by.user | type == \"string\") and .unblock_note == \"apologised\"'"
check 'back in the working set' "[ -e '$ib/work/$C' ]"
check 'and in the default listing' "listed $C"
check 'sms-send now refuses it for its STOP alone: opted_out' \
	'sms-send -d "$ib" --to $C "hello?" 2>/dev/null |
	 jq -e ".error.code == \"opted_out\""'

inbox-mark -d "$ib" --block $E >/dev/null
check 'a sender blocked in the middle of a batch is skipped; the rest go' \
	"printf '%s\n' '{\"to\":\"$A\",\"body\":\"a\"}' '{\"to\":\"$E\",\"body\":\"e\"}' |
	 sms-send -d '$ib' 2>/dev/null | jq -sc 'map(.error.code)' |
	 grep -qx '\[null,\"blocked\"\]'"
check 'blocking a number with no conversation: one made, resolved, blocked' \
	"inbox-mark -d '$ib' --block +15556400099 >/dev/null &&
	 tail -n 1 '$ib/conv/+15556400099' | jq -e '.status == \"resolved\" and .blocked_at' &&
	 [ ! -e '$ib/work/+15556400099' ]"
check 'unblocking a number never blocked: nothing happens' \
	"[ -z \"\$(inbox-mark -d '$ib' --unblock +15556400098)\" ] &&
	 [ ! -e '$ib/conv/+15556400098' ]"

# Blocked while it waited to be sent: a provider that throttles (429,
# once its one token is spent) makes sms-send wait and try again, with
# backoff, and each try asks the inbox first. Blocked between two tries,
# it is sent no more.
G=+15556400007
sim E429 --rate 0.001 || { fail 'a second sms-sim starts'; done_testing; }
sms-send -d "$ib" --to $A 'the token' >/dev/null 2>&1
sms-send -d "$ib" --retries 30 --to $G 'are you there?' \
	>"$tmp/late.out" 2>"$tmp/late.err" &
late=$!
pids="$pids $late"
poll '[ "$(creates E429 $G)" -ge 1 ]' || fail 'sms-send tried once'
inbox-mark -d "$ib" --block $G >/dev/null
wait "$late"
is 'blocked between two tries: exit 1' "$?" 1
check 'failed, blocked: nothing more was sent' \
	'jq -e ".status == \"failed\" and .error.code == \"blocked\"" "$tmp/late.out"'

# --- On a terminal, a short line each -----------------------------------

if command -v script >/dev/null 2>&1; then
	is 'on a terminal: note, opt-in, block, one line each' \
		"$(script -qec "'$bin/inbox-mark' -d '$ib' --note hi $D; '$bin/inbox-mark' -d '$ib' --optin --source phone $F; '$bin/inbox-mark' -d '$ib' --block $D" /dev/null 2>/dev/null | tr -d '\r')" \
		"$D: note added
$F: opted in (phone)
$D: blocked"
else
	skip 'on a terminal: one line each' 'no script(1)'
fi

done_testing
