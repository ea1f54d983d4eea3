#!/bin/sh
# sms-recv(1): the out-of-hours reply. A text that comes in while the
# business is closed (business_hours in its timezone) gets away_text, at
# most once per conversation per local day, not when an agent wrote in
# the last five minutes, and never twice for a webhook delivered twice.
#
# The clock is pinned with SMSDESK_NOW, one listener per instant; the
# business is in New York, open Mon-Fri 09:00-17:00. 2026-11-23 is a
# Monday (EST, UTC-5); 2026-03-09 is the Monday after DST began.
. "$(dirname "$0")/lib.sh"

twilio_env 0230
unset SMSDESK_NOW
pid=

ib=$tmp/inbox
mkdir -p "$ib" && chmod 700 "$ib"
us=%2B15550000000
AWAY='We are closed. We answer Mon-Fri 9-5 Eastern.'
ACK='Thanks, an agent will answer shortly.'
cat >"$ib/config" <<EOF
business_hours = Mon-Fri 09:00-17:00
timezone = America/New_York
away_text = $AWAY
ack_text = $ACK
EOF
chmod 600 "$ib/config"

# at TIME: (re)start the listener with the clock at TIME (serve in
# lib.sh). Sets port and pid.
at() {
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	SMSDESK_NOW=$1
	export SMSDESK_NOW
	serve "$tmp/L.out" "$tmp/L.err" sms-recv -d "$ib" || return
	pid=$server
}

# text NUMBER SID BODY: a signed inbound webhook; prints the HTTP status,
# the answer is in $tmp/resp.
text() {
	t_body=$(printf 'SmsMessageSid=%s&SmsStatus=received&Body=%s&To=%s&NumSegments=1&MessageSid=%s&AccountSid=AC0&From=%%2B%s&ApiVersion=2010-04-01' \
	    "$2" "$3" "$us" "$2" "${1#+}")
	webhook "$t_body"
}

# replied: the TwiML answer's message, or "none".
replied() {
	sed -n 's/.*<Message>\(.*\)<\/Message>.*/\1/p' "$tmp/resp" | grep . ||
	    echo none
}

# autos NUMBER KIND: how many automatic replies of KIND the thread holds
# (a message file's record is its last line).
autos() {
	tail -qn 1 "$ib/msg/$1"/* 2>/dev/null | jq -s --arg k "$2" \
	    '[.[] | select(.direction == "out" and .auto == $k)] | length'
}

conv() { tail -n 1 "$ib/conv/$1" | jq -r "$2"; }

# --- The configuration is checked at startup --------------------------------

bad=$tmp/bad
mkdir -p "$bad" && chmod 700 "$bad"
badconf() {
	printf '%s\n' "$@" >"$bad/config"
	chmod 600 "$bad/config"
	sms-recv -d "$bad" </dev/null
}
check_exit 'business_hours that do not parse: 78' 78 \
	'badconf "business_hours = Mon-Fri 9-5" "timezone = UTC"'
check 'and the message says what is wrong' \
	'badconf "business_hours = Mon-Fri 9-5" "timezone = UTC" 2>&1 |
	 grep -q "business_hours: .Mon-Fri 9-5.: opening times are HH:MM-HH:MM"'
check_exit 'a range that ends before it starts: 78' 78 \
	'badconf "business_hours = Sat 22:00-02:00" "timezone = UTC"'
check_exit 'an unknown day: 78' 78 \
	'badconf "business_hours = Monday 09:00-17:00" "timezone = UTC"'
check_exit 'business_hours without timezone: 78' 78 \
	'badconf "business_hours = Mon-Fri 09:00-17:00"'
check_exit 'an unknown timezone: 78' 78 \
	'badconf "business_hours = Mon-Fri 09:00-17:00" "timezone = America/Gotham"'
check 'and it is named' \
	'badconf "business_hours = Mon-Fri 09:00-17:00" "timezone = America/Gotham" 2>&1 |
	 grep -q "timezone: unknown time zone .America/Gotham."'
check_exit 'away_text without business_hours: 78' 78 \
	'badconf "away_text = closed"'
check_exit 'an SMSDESK_NOW that does not parse: 78' 78 \
	'SMSDESK_NOW=yesterday sms-recv -d "$ib" </dev/null'
check 'a good configuration reads' \
	'badconf "business_hours = Mon-Fri 09:00-12:30 13:30-17:00, Sat 10:00-14:00" "timezone = Europe/Paris" "away_text = closed"'

# --- Open: the first-contact acknowledgement, no away reply -----------------

A=+12125550101
at 2026-11-23T15:00:00Z || { fail 'the listener starts'; done_testing; }
is 'Monday 10:00 in New York, a first text: 200' \
	"$(text $A SMhours000000000000000000000000001 hello)" 200
is 'it gets the acknowledgement' "$(replied)" "$ACK"
text $A SMhours000000000000000000000000002 more >/dev/null
is 'a second text in hours: no reply' "$(replied)" none

# --- Closed ------------------------------------------------------------------

at 2026-11-23T23:00:00Z
text $A SMhours000000000000000000000000003 'still+there%3F' >/dev/null
is 'Monday 18:00: the away reply' "$(replied)" "$AWAY"
is 'recorded in the conversation as auto away, accepted' \
	"$(tail -qn 1 "$ib/msg/$A"/* | jq -c 'select(.auto == "away") | [.status, .to, .body]')" \
	"[\"accepted\",\"$A\",\"$AWAY\"]"
is 'the conversation keeps when it was sent' \
	"$(conv $A .last_away_at)" 2026-11-23T23:00:00Z
is 'neither the ack nor the away reply is a response: the clock runs on' \
	"$(conv $A '[.waiting_since, .last_out_at, .first_response_at] | tostring')" \
	'["2026-11-23T15:00:00Z",null,null]'
# (The listener prints its events after the answer: waited for.)
away_event() {
	jq -e 'select(.event == "message.sent" and .message.auto == "away")' \
	    "$tmp/L.out" >/dev/null
}
check 'and a message.sent event says so' 'poll away_event'

text $A SMhours000000000000000000000000003 'still+there%3F' >/dev/null
is 'the same webhook again: no second reply' "$(replied)" none
at 2026-11-24T04:59:00Z
text $A SMhours000000000000000000000000004 hello%3F >/dev/null
is 'another text the same evening (23:59 local): no second reply' \
	"$(replied)" none
is 'one away reply in the thread' "$(autos $A away)" 1

at 2026-11-24T05:00:00Z
text $A SMhours000000000000000000000000005 'up+late' >/dev/null
is 'after local midnight, a new day: the away reply again' \
	"$(replied)" "$AWAY"
is 'two in the thread now' "$(autos $A away)" 2

# --- A new conversation out of hours: away, not the acknowledgement ----------

B=+13125550102
text $B SMhours000000000000000000000000006 hi >/dev/null
is 'a first text at night gets the away reply, not the ack' \
	"$(replied)" "$AWAY"
is 'and no ack is recorded' "$(autos $B ack)" 0

# --- HELP and STOP keep their own rules --------------------------------------

text +14155550103 SMhours000000000000000000000000007 HELP >/dev/null
check 'HELP at night gets the help text' \
	"grep -q 'Reply STOP to opt out.' '$tmp/resp'"
text +14155550104 SMhours000000000000000000000000008 STOP >/dev/null
is 'STOP at night gets nothing of ours' "$(replied)" none
text +14155550104 SMhours000000000000000000000000020 'are+you+open%3F' >/dev/null
is 'and a later text from that number at night: no away reply (no text after STOP)' \
	"$(replied)" none
is 'none recorded' "$(autos +14155550104 away)" 0
text +14155550104 SMhours000000000000000000000000021 HELP >/dev/null
check 'HELP from it still gets the help text (keywords answered)' \
	"grep -q 'Reply STOP to opt out.' '$tmp/resp'"

# --- The weekend, and DST --------------------------------------------------

at 2026-11-28T15:00:00Z
text +12125550105 SMhours000000000000000000000000009 hi >/dev/null
is 'Saturday 10:00: closed all day' "$(replied)" "$AWAY"
at 2026-03-09T13:30:00Z
text +12125550106 SMhours000000000000000000000000010 hi >/dev/null
is '13:30Z on the Monday after DST began is 09:30 EDT: open' \
	"$(replied)" "$ACK"
at 2026-03-09T12:59:00Z
text +12125550107 SMhours000000000000000000000000011 hi >/dev/null
is '12:59Z is 08:59 EDT: closed' "$(replied)" "$AWAY"

# --- An agent who wrote in the last five minutes ----------------------------

# The agent answers with sms-send, through sms-sim on 127.0.0.1.
serve "$tmp/sim.out" "$tmp/sim.err" sms-sim --number +15550000000 ||
    fail 'sms-sim starts'
sport=$port
agent() {
	SMSDESK_NOW=$1 TWILIO_API_URL=http://127.0.0.1:$sport \
	TWILIO_FROM=+15550000000 sms-send -d "$ib" --thread "$2" "$3"
}

D=+12125550108
at 2026-11-26T01:00:00Z
text $D SMhours000000000000000000000000012 hi >/dev/null
is 'Wednesday 20:00: the away reply' "$(replied)" "$AWAY"
check 'Thursday 19:00 local: an agent answers' \
	'agent 2026-11-27T00:00:00Z $D "Still here, what is up?" >/dev/null'
is 'the conversation has the agent'"'"'s time' "$(conv $D .last_out_at)" \
	2026-11-27T00:00:00Z
at 2026-11-27T00:04:59Z
text $D SMhours000000000000000000000000013 ok >/dev/null
is 'the customer answers 4m59s later: no away reply' "$(replied)" none
at 2026-11-27T00:05:00Z
text $D SMhours000000000000000000000000014 'ok+and%3F' >/dev/null
is 'five minutes after the agent: the away reply' "$(replied)" "$AWAY"
is 'two away replies, on two days' "$(autos $D away)" 2

# --- Without away_text nothing changes ---------------------------------------

kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
grep -v '^away_text' "$ib/config" >"$tmp/c" && cp "$tmp/c" "$ib/config"
at 2026-11-23T23:00:00Z
text +12125550110 SMhours000000000000000000000000016 hi >/dev/null
is 'no away_text: a first text at night gets the ack' "$(replied)" "$ACK"

done_testing
