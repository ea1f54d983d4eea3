#!/bin/sh
# The survey's answer, taken when it is delivered (smsdesk-inbox(5),
# Surveys): a "4" to an open survey, texted out of business hours to a
# resolved conversation while assign --auto reads the listener's events,
# is recorded as the score; the conversation stays resolved, no away text
# goes out, nothing is assigned. A "where is my refund?" in the same place
# reopens it, gets the away text and is assigned, as ever. The history
# (history/) says both.
. "$(dirname "$0")/lib.sh"

twilio_env 0810

ib=$tmp/inbox
mkinbox "$ib"
inbox_check_skip=$ib	# hand-made (mkconv): each counts messages it has not
us=%2B15550000000
AWAY='We are closed. We answer Mon-Fri 9-5 Eastern.'
cat >"$ib/config" <<EOF
business_hours = Mon-Fri 09:00-17:00
timezone = America/New_York
away_text = $AWAY
EOF
chmod 600 "$ib/config"
assign --dir "$ib" --add ana >/dev/null

# Saturday 2026-12-05, 15:00 in New York: closed.
SMSDESK_NOW=2026-12-05T20:00:00Z
export SMSDESK_NOW

# surveyed THREAD: a resolved conversation nobody owns, whose survey
# (asked an hour ago by ana's) is open for three days.
surveyed() {
	mkconv "$ib" "$1" '{"status": "resolved", "messages": 3,
	    "opened_at": "2026-12-05T16:00:00Z",
	    "first_response_at": "2026-12-05T16:05:00Z",
	    "last_in_at": "2026-12-05T16:00:00Z",
	    "resolved_at": "2026-12-05T18:00:00Z",
	    "surveyed_at": "2026-12-05T19:00:00Z",
	    "survey": {"id": "1796000000.1.P1Q1.vm",
	        "sent_at": "2026-12-05T19:00:00Z", "scale": "1-5",
	        "until": "2026-12-08T19:00:00Z", "agent": "ana",
	        "resolved_at": "2026-12-05T18:00:00Z"}}'
}
A=+12125550181
B=+12125550182
surveyed $A
surveyed $B

text() {
	t_body=$(printf 'SmsMessageSid=%s&SmsStatus=received&Body=%s&To=%s&NumSegments=1&MessageSid=%s&AccountSid=AC0&From=%%2B%s&ApiVersion=2010-04-01' \
	    "$2" "$3" "$us" "$2" "${1#+}")
	webhook "$t_body"
}
replied() {
	sed -n 's/.*<Message>\(.*\)<\/Message>.*/\1/p' "$tmp/resp" | grep . ||
	    echo none
}
conv() { tail -n 1 "$ib/conv/$1" | jq -r "$2"; }

mkfifo "$tmp/recv.fifo"
serve_before='assign --dir "$ib" --auto <"$tmp/recv.fifo" >"$tmp/auto.out" 2>"$tmp/auto.err" & apid=$!; pids="$pids $apid"'
serve "$tmp/recv.fifo" "$tmp/recv.err" sms-recv --dir "$ib" ||
	{ fail 'sms-recv starts'; done_testing; }
serve_before=

is 'a "4" to the open survey: 200' \
	"$(text $A SMcsat0000000000000000000000000001 4)" 200
is 'no away text for it' "$(replied)" none
is 'recorded as the score, attributed to the survey'"'"'s agent' \
	"$(conv $A '[.csat.score, .csat.agent, .csat.scale] | tostring')" \
	'[4,"ana","1-5"]'
is 'the conversation stays resolved, no clock, nobody owns it' \
	"$(conv $A '[.status, .waiting_since, .assignee, .survey] | tostring')" \
	'["resolved",null,null,null]'
check 'the message says it is the answer' \
	'tail -qn 1 "$ib/msg/$A"/* | jq -se "length == 1 and .[0].csat.score == 4"'
check 'and it is not in the working set' '[ ! -e "$ib/work/$A" ]'
check 'the thread view shows the score' \
	'inbox-ls --dir "$ib" --table --no-mark $A | grep -q " score 4 .* 4\$"'

is 'a "where is my refund?" in the same place: 200' \
	"$(text $B SMcsat0000000000000000000000000002 'where+is+my+refund%3F')" 200
is 'it gets the away text' "$(replied)" "$AWAY"
is 'reopens, its clock runs, the survey stays open' \
	"$(conv $B '[.status, .waiting_since, .survey.id, .csat] | tostring')" \
	'["open","2026-12-05T20:00:00Z","1796000000.1.P1Q1.vm",null]'
if poll '[ "$(conv $B .assignee)" = ana ]'; then
	pass 'and assign --auto, reading the events, assigns it'
else
	fail 'and assign --auto, reading the events, assigns it'
	sed 's/^/# /' "$tmp/auto.err" >&2
fi
# The events came in order: the 4's before the refund's, which is routed.
is 'assign --auto assigned the refund only, never the score' \
	"$(jq -r .thread "$tmp/auto.out" | tr '\n' ' ')" "$B "
is 'and the score'"'"'s conversation is still nobody'"'"'s' "$(conv $A .assignee)" null

# What the history says of both.
hist() { jq -rc --arg t "$1" 'select(.thread == $t) | .event' \
	"$ib/history/2026-12-05" | tr '\n' ' '; }
is 'the history of the score: the message and the answer' "$(hist $A)" \
	'message answered '
# ev EVENT THREAD: that event's lines of the day, as one array.
ev() { jq -sc --arg e "$1" --arg t "$2" \
	'map(select(.event == $e and .thread == $t))' "$ib/history/2026-12-05"; }
is 'the answer event carries score, comment and agent' \
	"$(ev answered $A | jq -c 'map([.score, .agent, .comment, .scale])')" \
	'[[4,"ana",null,"1-5"]]'
is 'the message event says it was an answer' \
	"$(ev message $A | jq -c 'map([.direction, .csat])')" '[["in",4]]'
# (The away text and the claim race each other: in either order.)
is 'the history of the refund: message, reopened, the away text, assigned' \
	"$(hist $B | tr ' ' '\n' | grep . | sort | tr '\n' ' ')" \
	'assigned message message reopened '

# A comment after the score, within minutes: kept, no work.
SMSDESK_NOW=2026-12-05T20:03:00Z
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
serve "$tmp/L.out" "$tmp/L.err" sms-recv --dir "$ib" ||
	{ fail 'sms-recv restarts'; done_testing; }
is 'a comment three minutes later: 200' \
	"$(text $A SMcsat0000000000000000000000000003 'the+driver+was+great')" 200
is 'no away text for it either' "$(replied)" none
is 'kept as the comment; the conversation stays resolved' \
	"$(conv $A '[.csat.score, .csat.comment, .status] | tostring')" \
	'[4,"the driver was great","resolved"]'

done_testing
