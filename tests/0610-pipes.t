#!/bin/sh
# The pipe matrix (sms-record(5), Threads): every record an smsdesk program
# prints flows into every program that reads records. The producers, and
# each kind of record they print:
#   inbox-ls       conversations, and messages (--messages)
#   inbox-mark     conversation.* events
#   sms-recv       message.received, consent.optout, message.status events
#                  (files), message.sent (the listener's automatic reply)
#   sms-send       message records
# The readers: inbox-mark (it tags the thread of each record), sms-send
# (--template: it texts the thread of each record; without one, only
# requests and outbound messages are sent) and sms-recv (it stores the
# messages that came in, from its own events too). inbox-ls reads no
# records. Each pair is checked in the inbox, through inbox-ls, not by the
# exit status alone. Then bad lines in the middle of a stream: one error
# each, the rest done.
#
# The provider is sms-sim on 127.0.0.1; long options throughout.
. "$(dirname "$0")/lib.sh"

twilio_env 0610
ib=$tmp/inbox
A=+15556100001 B=+15556100002 C=+15556100003 H=+15556100004
O=+15556100009

sim A || { fail 'sms-sim starts'; done_testing; }

# hook NUMBER SID BODY: a Twilio inbound webhook body, form-encoded.
hook() {
	printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B%s&Body=%s\n' \
	    "$2" "$AC" "${1#+}" "${US#+}" "$3"
}

# tags THREAD: the conversation's tags, as stored.
tags() { inbox-ls --dir "$ib" --all --json | jq -c --arg t "$1" \
    'select(.thread == $t) | .tags'; }

# made N: the create requests sms-sim logged, once there are N (it logs a
# request once it has answered it: polled for, not assumed).
made() {
	poll '[ "$(creates A)" -ge '"$1"' ]'
	creates A
}

# threads FILE: the threads of FILE's records, each once, sorted.
threads() { jq -r .thread "$1" | sort -u; }

# --- What each program prints -------------------------------------------------

{
	hook $A SMpipe0000000000000000000000000001 'Where+is+my+order%3F'
	hook $B SMpipe0000000000000000000000000002 'Hello'
	hook $O SMpipe0000000000000000000000000009 'STOP'
} >"$tmp/hooks.txt"
sms-recv --dir "$ib" "$tmp/hooks.txt" >"$tmp/recv.ndjson" 2>"$tmp/err"
is 'sms-recv stores three texts' "$?" 0
is 'and prints message.received and consent.optout events' \
	"$(jq -sc 'group_by(.event) | map([.[0].event, length])' "$tmp/recv.ndjson")" \
	'[["consent.optout",1],["message.received",3]]'

sms-send --dir "$ib" --to $C 'Your order has shipped' >"$tmp/send.ndjson" \
	2>"$tmp/err"
is 'sms-send prints a message record' \
	"$(jq -c '[.type, .direction, .thread, (.provider_id | type)]' "$tmp/send.ndjson")" \
	"[\"message\",\"out\",\"$C\",\"string\"]"
made 1 >/dev/null
sid=$(jq -r .provider_id "$tmp/send.ndjson")
printf 'MessageSid=%s&AccountSid=%s&MessageStatus=delivered&From=%%2B%s&To=%%2B%s\n' \
	"$sid" "$AC" "${US#+}" "${C#+}" >"$tmp/status.txt"
sms-recv --dir "$ib" "$tmp/status.txt" >"$tmp/status.ndjson" 2>"$tmp/err"
is 'a delivery report: a message.status event' \
	"$(jq -c '[.event, .thread, .message.status]' "$tmp/status.ndjson")" \
	"[\"message.status\",\"$C\",\"delivered\"]"

# The listener answers HELP (the default help text) with a message.sent.
serve "$tmp/L.out" "$tmp/L.err" sms-recv --dir "$ib" ||
	{ fail 'sms-recv listens'; done_testing; }
lpid=$server
is 'a HELP webhook is answered' \
	"$(webhook "$(hook $H SMpipe0000000000000000000000000004 HELP)")" 200
sent_event() {
	jq -e 'select(.event == "message.sent")' "$tmp/L.out" >/dev/null
}
check 'the listener prints a message.sent event (after its answer)' \
	'poll sent_event'
kill "$lpid"
wait "$lpid" 2>/dev/null
jq -c 'select(.event == "message.sent")' "$tmp/L.out" >"$tmp/sent.ndjson"
is 'its thread is the customer who asked' "$(jq -r .thread "$tmp/sent.ndjson")" $H

inbox-ls --dir "$ib" --all --json >"$tmp/conv.ndjson"
is 'inbox-ls prints the conversations' "$(threads "$tmp/conv.ndjson" | wc -l | tr -d ' ')" 5
inbox-ls --dir "$ib" --all --messages --json >"$tmp/msgs.ndjson"
is 'inbox-ls --messages prints the messages, in and out' \
	"$(jq -r .direction "$tmp/msgs.ndjson" | sort -u | tr '\n' ' ')" 'in out '
inbox-mark --dir "$ib" --assign bob $A $B >"$tmp/mark.ndjson"
is 'inbox-mark prints conversation.assigned events' \
	"$(jq -r '[.event, .thread] | join(" ")' "$tmp/mark.ndjson")" \
	"conversation.assigned $A
conversation.assigned $B"

check 'every event has its thread at the top, the one it carries' \
	'cat "$tmp/recv.ndjson" "$tmp/status.ndjson" "$tmp/sent.ndjson" \
	    "$tmp/mark.ndjson" | jq -s -e "length == 8 and
	    all(.[]; .thread != null and
	        .thread == (.message // .conversation).thread)"'

# --- Into inbox-mark ----------------------------------------------------------

# into_mark NAME FILE: inbox-mark --tag NAME with FILE on stdin: exit 0,
# and every thread of FILE's records has the tag in the inbox.
into_mark() {
	inbox-mark --dir "$ib" --tag "$1" <"$2" >"$tmp/$1.out" 2>"$tmp/$1.err"
	is "$1 | inbox-mark: exit 0, nothing said" \
		"$?:$(cat "$tmp/$1.err")" 0:
	im_bad=
	for t in $(threads "$2"); do
		tags $t | jq -e --arg n "$1" 'index($n) != null' >/dev/null ||
			im_bad="$im_bad $t:$(tags $t)"
	done
	is "$1 | inbox-mark: every thread tagged, in the inbox" "$im_bad" ''
}

into_mark recv "$tmp/recv.ndjson"
into_mark status "$tmp/status.ndjson"
into_mark sent "$tmp/sent.ndjson"
into_mark send "$tmp/send.ndjson"
into_mark conv "$tmp/conv.ndjson"
into_mark msgs "$tmp/msgs.ndjson"
into_mark mark "$tmp/mark.ndjson"

# The issue's own pipe: inbox-ls | inbox-mark | inbox-mark.
inbox-ls --dir "$ib" --json | inbox-mark --dir "$ib" --assign ana |
	inbox-mark --dir "$ib" --tag vip >"$tmp/out" 2>"$tmp/err"
is 'inbox-ls | inbox-mark --assign | inbox-mark --tag: exit 0' \
	"$?:$(cat "$tmp/err")" 0:
is 'the open conversations are assigned and tagged' \
	"$(inbox-ls --dir "$ib" --json | jq -c 'select((.tags | index("vip")) and
	    .assignee == "ana") | .thread' | wc -l | tr -d ' ')" \
	"$(inbox-ls --dir "$ib" --json | wc -l | tr -d ' ')"
printf '%s\n' "{\"type\":\"event\",\"event\":\"assigned\",\"at\":\"2026-11-22T10:00:00Z\",\"conversation\":{\"type\":\"conversation\",\"thread\":\"$C\"}}" |
	inbox-mark --dir "$ib" --tag old >/dev/null 2>&1
is 'an event of an earlier release (the thread only inside): taken' \
	"$(tags $C | jq 'index("old") != null')" true

# --- Into sms-send --template -------------------------------------------------

# into_send NAME FILE: sms-send --template 'NAME for {thread}' with FILE on
# stdin. Each record's thread gets one such text, stored in its
# conversation with the provider's id; but $O, who opted out: stored as
# failed, opted_out, and no request made; then the exit status is 1.
into_send() {
	n0=$(creates A)
	sms-send --dir "$ib" --template "$1 for {thread}" <"$2" \
		>"$tmp/$1.sout" 2>"$tmp/$1.serr"
	rc=$?
	want=0 nreq=0 is_bad=
	for t in $(threads "$2"); do
		n=$(jq -r --arg t $t 'select(.thread == $t) | .thread' "$2" |
		    wc -l | tr -d ' ')
		got=$(inbox-ls --dir "$ib" --json --no-mark $t | jq -r \
		    --arg b "$1 for $t" 'select(.direction == "out" and
		    .body == $b) | if .provider_id then "sent" else
		    .error.code end' | sort | uniq -c | tr -s ' ' |
		    tr '\n' ' ')
		if [ $t = $O ]; then
			want=1 exp=" $n opted_out "
		else
			nreq=$((nreq + n)) exp=" $n sent "
		fi
		[ "$got" = "$exp" ] || is_bad="$is_bad $t:[$got]"
	done
	is "$1 | sms-send --template: exit $want" "$rc" "$want"
	is "$1 | sms-send --template: one text per record, in the inbox" \
		"$is_bad" ''
	is "$1 | sms-send --template: one request each, none to $O" \
		"$(made $((n0 + nreq)))" $((n0 + nreq))
}

into_send recv "$tmp/recv.ndjson"
into_send status "$tmp/status.ndjson"
into_send sent "$tmp/sent.ndjson"
into_send send "$tmp/send.ndjson"
into_send conv "$tmp/conv.ndjson"
into_send msgs "$tmp/msgs.ndjson"
into_send mark "$tmp/mark.ndjson"

printf '%s\n' "{\"type\":\"event\",\"event\":\"assigned\",\"at\":\"2026-11-22T10:00:00Z\",\"conversation\":{\"type\":\"conversation\",\"thread\":\"$C\"}}" |
	sms-send --dir "$ib" --template 'old event' >"$tmp/out" 2>&1
is 'sms-send: an event of an earlier release: its thread is texted' \
	"$(inbox-ls --dir "$ib" --json --no-mark $C | jq -r \
	    'select(.body == "old event") | .provider_id | type')" string

is 'a template field is found in the record an event carries' \
	"$(sms-send --dir "$ib" --template 'Hi, {assignee} here' \
	    <"$tmp/mark.ndjson" | jq -r .body | sort -u)" 'Hi, bob here'

# A keyed message's key names that message: a template makes another.
n0=$(creates A)
sms-send --dir "$ib" --key promo-1 --to $C 'Sale today' >"$tmp/keyed.ndjson"
n0=$(made $((n0 + 1)))
sms-send --dir "$ib" --template 'Sale ends tonight' <"$tmp/keyed.ndjson" \
	>"$tmp/out" 2>&1
is 'a keyed message piped into a template: a new text, sent' \
	"$(jq -r '[.body, (.duplicate // false), (.provider_id | type)] |
	    @tsv' "$tmp/out") $(made $((n0 + 1)))" "$(printf 'Sale ends tonight\tfalse\tstring') $((n0 + 1))"

# --- Into sms-send without a template -------------------------------------------

n0=$(creates A)
cat "$tmp/recv.ndjson" "$tmp/conv.ndjson" "$tmp/mark.ndjson" |
	jq -c 'select(.thread != "'$O'")' >"$tmp/typed.ndjson"
jq -c 'select(.direction == "in")' "$tmp/msgs.ndjson" >>"$tmp/typed.ndjson"
sms-send --dir "$ib" <"$tmp/typed.ndjson" >"$tmp/out" 2>"$tmp/err"
is 'conversations, events, inbound messages, no template: exit 1' "$?" 1
is 'nothing is sent: the customer'"'"'s own words are not texted back' \
	"$(creates A):$(jq -r 'select(.provider_id)' "$tmp/out")" "$n0:"
is 'each refused as no_body, one line each on stderr' \
	"$(jq -r .error.code "$tmp/out" | sort -u):$(wc -l <"$tmp/typed.ndjson" | tr -d ' '):$(wc -l <"$tmp/err" | tr -d ' ')" \
	"no_body:$(wc -l <"$tmp/typed.ndjson" | tr -d ' '):$(wc -l <"$tmp/typed.ndjson" | tr -d ' ')"
check 'saying what the record is, and to give --template' \
	'grep -q "^sms-send: stdin:1: a record of type \"event\" is not a message to send; give --template$" "$tmp/err" &&
	 grep -q "^sms-send: stdin:[0-9]*: a message that came in: .*give --template$" "$tmp/err"'
n0=$(creates A)
sms-send --dir "$ib" <"$tmp/keyed.ndjson" >"$tmp/out" 2>&1
is 'an outbound message, no template: its key says it was sent; not again' \
	"$(jq -r '.duplicate' "$tmp/out") $(creates A)" "true $n0"

# --- Into sms-recv (reading records, for imports and replays) -----------------

# Into a second inbox: what came in is stored there; anything else is
# reported, one line each, and stored nowhere.
ib2=$tmp/inbox2
cat "$tmp/recv.ndjson" "$tmp/msgs.ndjson" "$tmp/send.ndjson" \
	"$tmp/sent.ndjson" "$tmp/status.ndjson" "$tmp/conv.ndjson" \
	"$tmp/mark.ndjson" >"$tmp/all.ndjson"
sms-recv --dir "$ib2" "$tmp/all.ndjson" >"$tmp/out" 2>"$tmp/err"
is 'every record into sms-recv: exit 1 (some are not messages that came in)' \
	"$?" 1
is 'the messages that came in are stored in the other inbox, once each' \
	"$(inbox-ls --dir "$ib2" --all --messages --json | jq -r \
	    '[.direction, .thread, .provider_id] | join(" ")' | sort | tr '\n' ' ')" \
	"$(jq -r 'select(.direction == "in") | ["in", .thread, .provider_id] |
	    join(" ")' "$tmp/msgs.ndjson" | sort | tr '\n' ' ')"
is 'one message.received event each' \
	"$(jq -r 'select(.event == "message.received") | .thread' "$tmp/out" | sort | tr '\n' ' ')" \
	"$(jq -r 'select(.direction == "in") | .thread' "$tmp/msgs.ndjson" | sort | tr '\n' ' ')"
is 'each outbound message, other event and other record refused, by line' \
	"$(wc -l <"$tmp/err" | tr -d ' '):$(sed 's/^sms-recv: [^:]*:[0-9]*: //' "$tmp/err" | sort -u)" \
	"$(jq -s '[.[] | select((.direction // .message.direction) != "in")] |
	    length' "$tmp/all.ndjson"):a record of type \"conversation\" is not a message that came in: nothing to store
an event that carries no message that came in: nothing to store
an outbound message: only messages that came in are stored"

# --- Bad lines in the middle ------------------------------------------------------

{
	sed -n 1p "$tmp/mark.ndjson"
	echo 'not json'
	echo '{"type":"event","event":"conversation.read","at":"2026-11-22T10:00:00Z"}'
	sed -n 2p "$tmp/mark.ndjson"
} >"$tmp/bad.ndjson"
inbox-mark --dir "$ib" --tag mid <"$tmp/bad.ndjson" >"$tmp/out" 2>"$tmp/err"
is 'inbox-mark: a bad line and a record without a thread: exit 1' "$?" 1
is 'one error line each, by line number' "$(sed 's/ at .*//' "$tmp/err")" \
	"inbox-mark: stdin:2: invalid JSON
inbox-mark: stdin:3: no thread in this record: nothing to mark"
is 'the records before and after are done' \
	"$(tags $A | jq 'index("mid") != null') $(tags $B | jq 'index("mid") != null')" \
	'true true'

n0=$(creates A)
sms-send --dir "$ib" --template 'after the gap' <"$tmp/bad.ndjson" \
	>"$tmp/out" 2>"$tmp/err"
is 'sms-send: a bad line and a record without a thread: exit 1' "$?" 1
is 'one error line each, by line number' "$(sed 's/ at .*//' "$tmp/err")" \
	"sms-send: stdin:2: invalid JSON
sms-send: stdin:3: no thread in this record"
is 'the records before and after are sent' \
	"$(jq -r 'select(.provider_id) | .thread' "$tmp/out" | sort | tr '\n' ' ')$(made $((n0 + 2)))" \
	"$A $B $((n0 + 2))"

done_testing
