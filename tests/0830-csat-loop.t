#!/bin/sh
# The survey's whole loop on sms-sim: a customer texts in (and gets the
# automatic acknowledgement), ana answers ten minutes later and resolves
# the conversation, csat-survey send asks the question through the
# simulator, the customer answers "4 great service", which the listener
# takes as the score, and csat-survey report shows it under ana, with a
# first response of ten minutes: the acknowledgement is no response.
#
# The clock is pinned with SMSDESK_NOW for each program; the listener is
# started again, on its port, when the clock moves on for it.
. "$(dirname "$0")/lib.sh"

twilio_env 0830
SMSDESK_INBOX=$tmp/inbox
export SMSDESK_INBOX
mkdir -m 700 "$SMSDESK_INBOX"
ACK='Thanks, an agent will answer shortly.'
printf 'ack_text = %s\n' "$ACK" >"$SMSDESK_INBOX/config"
chmod 600 "$SMSDESK_INBOX/config"
C=+15551238301

# listen TIME: the listener, its clock at TIME, on the port it had.
listen() {
	[ -n "${rpid-}" ] && { kill "$rpid"; wait "$rpid" 2>/dev/null; }
	serve_port=${recv_port-}
	SMSDESK_NOW=$1 serve "$tmp/recv.out" "$tmp/recv.err" sms-recv ||
	    return 1
	rpid=$server recv_port=$port
	unset serve_port
}
listen 2026-12-07T15:00:00Z || { fail 'sms-recv starts'; done_testing; }
SMSDESK_PUBLIC_URL=http://127.0.0.1:$recv_port
export SMSDESK_PUBLIC_URL
serve "$tmp/sim.out" "$tmp/sim.err" sms-sim --number "$US" \
	--webhook "$SMSDESK_PUBLIC_URL/twilio" --log "$tmp/sim.log" ||
	{ fail 'sms-sim starts'; done_testing; }
TWILIO_API_URL=http://127.0.0.1:$port SMSDESK_SIM_URL=http://127.0.0.1:$port
export TWILIO_API_URL SMSDESK_SIM_URL

conv() { tail -n 1 "$SMSDESK_INBOX/conv/$C" | jq -r "$1"; }

check 'a customer texts in at 15:00' \
	"sms-sim text $C 'Where is my order 1042?' >/dev/null"
is 'and gets the acknowledgement, which answers nobody' \
	"$(conv '[.status, .waiting_since, .first_response_at, .last_auto_at] | tostring')" \
	'["open","2026-12-07T15:00:00Z",null,"2026-12-07T15:00:00Z"]'
assign --add ana >/dev/null
check 'ana answers at 15:10' \
	"SMSDESK_NOW=2026-12-07T15:10:00Z sms-send --agent ana --thread $C \
	    'It ships today.' >'$tmp/send.out'"
check 'the answer is the first response' \
	"poll '[ \"\$(conv .first_response_at)\" = 2026-12-07T15:10:00Z ]'"
is 'and ana owns the conversation' "$(conv .assignee)" ana
check 'ana resolves it at 15:20' \
	"SMSDESK_NOW=2026-12-07T15:20:00Z inbox-mark --resolve $C >/dev/null"

check 'csat-survey send at 15:30' \
	"SMSDESK_NOW=2026-12-07T15:30:00Z csat-survey send --json >'$tmp/survey.out'"
is 'one survey, sent through the simulator' \
	"$(jq -sc 'map(select(.type == "message")) | map([.thread, .purpose, .status != "failed"])' "$tmp/survey.out")" \
	"[[\"$C\",\"notification\",true]]"
is 'the customer got the question' \
	"$(curl -s -u "$AC:$TOK" -G --data-urlencode "To=$C" \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json" |
	    jq -r '.messages[0].body')" \
	'How did we do? Reply 1 (poor) to 5 (great).'
is 'the survey is open on the conversation, for ana' \
	"$(conv '[.survey.agent, .survey.scale, .status] | tostring')" \
	'["ana","1-5","resolved"]'
check 'a second run sends nothing' \
	"SMSDESK_NOW=2026-12-07T15:31:00Z csat-survey send --json >'$tmp/again.out' &&
	 ! jq -e 'select(.type == \"message\")' '$tmp/again.out' >/dev/null"

listen 2026-12-07T15:40:00Z || { fail 'sms-recv starts again'; done_testing; }
check 'the customer answers "4 great service" at 15:40' \
	"sms-sim text $C '4 great service' >/dev/null"
is 'the listener takes it as the score; the conversation stays resolved' \
	"$(conv '[.csat.score, .csat.comment, .csat.agent, .status, .assignee] | tostring')" \
	'[4,"great service","ana","resolved","ana"]'

SMSDESK_NOW=2026-12-07T16:00:00Z csat-survey report --by agent \
	--since 2026-12-07T00:00:00Z --json >"$tmp/report" 2>"$tmp/report.err"
is 'the report shows the answer under ana' \
	"$(jq -c 'select(.key == "ana") | [.surveys, .answers, .distribution, .mean]' "$tmp/report")" \
	'[1,1,{"1":0,"2":0,"3":0,"4":1,"5":0},4]'
is 'her first response took ten minutes: the acknowledgement is none' \
	"$(jq -c 'select(.key == "ana") | [.first_responses, .first_response_median]' "$tmp/report")" \
	'[1,600]'
is 'the total: one conversation, in and out messages, nothing left' \
	"$(jq -c 'select(.group == "total") | [.conversations, .messages_in, .messages_out, .backlog]' "$tmp/report")" \
	'[1,2,3,0]'

done_testing
