#!/bin/sh
# The whole WhatsApp loop on sms-sim (issue 22): a customer writes on
# WhatsApp with a profile name (the contact gets it), an agent answers
# free-form within the 24-hour customer service window (delivered, then
# read), the window closes, a free-form answer is refused by sms-send
# with no request, a template goes out, and the customer answers by SMS
# later: the same conversation goes on, and the next reply is an SMS.
# And the sim's own rule: a free-form message posted straight to it
# outside the window is taken, then fails with 63016, as Twilio fails it;
# the sim's WhatsApp piece by piece; and an answer lost on the way,
# found again by --reconcile on WhatsApp.
#
# Every clock is pinned (SMSDESK_NOW: sms-recv, sms-send; the sim's moved
# by POST /sim/clock), so the 24 hours pass at once. sms-recv, sms-sim and
# a webhook catcher listen on 127.0.0.1 (free ports), killed on exit;
# waits poll, never a fixed sleep.
. "$(dirname "$0")/lib.sh"

twilio_env 0596
ib=$tmp/inbox
A=+15555960001
HX=HX0596aaaabbbbccccddddeeeeffff0000
T0=2030-03-04T10:00:00Z
SMSDESK_INBOX=$ib SMSDESK_NOW=$T0
export SMSDESK_INBOX SMSDESK_NOW

# at DURATION: T0 and DURATION later, as RFC 3339.
at() {
	jq -nr --arg t "$T0" --argjson s "$1" \
	    '$t | fromdate + $s | todate'
}
# clock TIME: the sim's clock set to TIME.
clock() {
	curl -s -d "Now=$1" "$TWILIO_API_URL/sim/clock" >/dev/null
}
# last KEY: the KEY param of the sim's last create, as jq prints it.
last() {
	jq -sc "[.[] | select(.method == \"POST\" and
	    (.path | endswith(\"/Messages.json\")))] | last | .params.$1" \
	    "$tmp/sim.log"
}
# status FILE: the latest status of the message sms-send wrote to FILE.
status() {
	tail -n 1 "$ib/msg/$A/$(jq -r .id "$1")" | jq -r .status
}
# statuses FILE: every status that message's file logged, in order.
statuses() {
	jq -sc 'map(.status)' "$ib/msg/$A/$(jq -r .id "$1")"
}
# fetch SID: the sim's message resource SID.
fetch() {
	curl -s -u "$AC:$TOK" \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages/$1.json"
}

serve "$tmp/L.out" "$tmp/L.err" sms-recv ||
	{ fail 'sms-recv starts'; done_testing; }
lport=$port lpid=$server
SMSDESK_PUBLIC_URL=http://127.0.0.1:$lport	# sms-send asks for reports
export SMSDESK_PUBLIC_URL
sim sim --webhook "$SMSDESK_PUBLIC_URL/twilio" ||
	{ fail 'sms-sim starts'; done_testing; }
SMSDESK_SIM_URL=$TWILIO_API_URL
export SMSDESK_SIM_URL

# --- The customer writes on WhatsApp -----------------------------------------

check 'a customer writes on WhatsApp (sms-sim text --whatsapp)' \
	"sms-sim text --whatsapp --profile-name 'Ana Lima' $A \
	    'Hola, ¿tienen mesa para dos?' >'$tmp/t1'"
is 'the sim keeps it as Twilio does: whatsapp:+E164 both ways' \
	"$(jq -c '[.from, .to, .status, .num_segments]' "$tmp/t1")" \
	"[\"whatsapp:$A\",\"whatsapp:$US\",\"received\",\"1\"]"
is 'sms-recv took it, signed: stored in the conversation of the number' \
	"$(jq -c '[.thread, .from, .channel, .provider_id]' "$ib"/msg/$A/*)" \
	"[\"$A\",\"$A\",\"whatsapp\",\"$(jq -r .sid "$tmp/t1")\"]"
is 'the profile name is the contact'"'"'s name' \
	"$(inbox-contacts show $A | jq -r .name)" 'Ana Lima'

# --- An agent answers within the window ---------------------------------------

clock "$(at 600)"
SMSDESK_NOW=$(at 600) sms-send -c $A 'Sí, a las nueve' >"$tmp/o1" \
    2>"$tmp/e1"
is 'a free-form answer ten minutes on: exit 0' "$?" 0
is 'it went on WhatsApp' "$(last To),$(last From),$(last Body)" \
	"\"whatsapp:$A\",\"whatsapp:$US\",\"Sí, a las nueve\""
is 'the sim created it, no error' \
	"$(jq -sc '[.[] | select(.method == "POST" and .status == 201)] | length' "$tmp/sim.log")" 1
check 'it is delivered, then read: read is stored' \
	"poll '[ \"\$(status $tmp/o1)\" = read ]'"
is 'delivered came first, read last' \
	"$(statuses "$tmp/o1" | jq -c 'map(select(. == "delivered" or . == "read"))')" \
	'["delivered","read"]'
is 'the sim says read too' \
	"$(fetch "$(jq -r .provider_id "$tmp/o1")" | jq -r .status)" read
# A delivered that comes late (a retry) leaves read where it is.
sid1=$(jq -r .provider_id "$tmp/o1")
is 'a late delivered for it: 200' "$(port=$lport webhook \
    "MessageSid=$sid1&AccountSid=$AC&From=whatsapp%3A%2B${US#+}&To=whatsapp%3A%2B${A#+}&MessageStatus=delivered&ChannelPrefix=whatsapp&ApiVersion=2010-04-01")" 200
is 'read is kept, never downgraded' "$(status "$tmp/o1")" read

# --- The window closes ----------------------------------------------------------

later=$(at 90600)	# 25 hours and 10 minutes on
clock "$later"
n=$(creates)
SMSDESK_NOW=$later sms-send -c $A 'Are you still coming?' >"$tmp/o2" \
    2>"$tmp/e2"
is 'free-form 25 hours on: exit 1' "$?" 1
is 'refused as whatsapp_window' "$(jq -r .error.code "$tmp/o2")" \
	whatsapp_window
check 'saying why, and that a template goes' \
	"grep -q 'more than 24 hours old: only a template goes' '$tmp/e2'"
is 'and no request: the sim'"'"'s log has no create more' "$(creates)" "$n"

# The sim's rule is real: posted straight to it, free-form is taken and
# then fails with 63016, in the resource and the status callback.
serve "$tmp/C.out" "$tmp/C.err" "$tools/catch" "$tmp/callbacks" ||
	{ fail 'the callback catcher starts'; done_testing; }
cport=$port
curl -s -u "$AC:$TOK" -o "$tmp/direct" -w '%{http_code}' \
    --data-urlencode "To=whatsapp:$A" --data-urlencode "From=whatsapp:$US" \
    --data-urlencode 'Body=Are you still coming?' \
    --data-urlencode "StatusCallback=http://127.0.0.1:$cport/cb" \
    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json" >"$tmp/direct.http"
is 'a free-form create outside the window: 201, queued, as Twilio takes it' \
	"$(cat "$tmp/direct.http") $(jq -r .status "$tmp/direct")" '201 queued'
sid=$(jq -r .sid "$tmp/direct")
check 'then it fails: its callback says failed, ErrorCode 63016' \
	"poll \"grep -q 'MessageStatus=failed.*ErrorCode=63016' '$tmp/callbacks'\""
check 'from and to on WhatsApp in the callback' \
	"grep 'MessageStatus=failed' '$tmp/callbacks' | grep -q 'To=whatsapp%3A%2B${A#+}.*ChannelPrefix=whatsapp'"
is 'the resource says failed, 63016, and why' \
	"$(fetch "$sid" | jq -c '[.status, .error_code, (.error_message | test("outside the allowed window"))]')" \
	'["failed",63016,true]'
check 'never sent nor delivered' \
	"! grep -q 'MessageStatus=\\(sent\\|delivered\\|read\\)' '$tmp/callbacks'"

# --- A template goes at any time ------------------------------------------------

SMSDESK_NOW=$later sms-send -c $A --content-sid $HX \
    --content-variables '{"1":"Ana","2":"9 pm"}' >"$tmp/o3" 2>"$tmp/e3"
is 'a template: exit 0' "$?" 0
is 'its content SID and variables, no body' \
	"$(last ContentSid),$(last ContentVariables),$(last Body)" \
	"\"$HX\",\"{\\\"1\\\":\\\"Ana\\\",\\\"2\\\":\\\"9 pm\\\"}\",null"
check 'the sim delivers it, and it is read' \
	"poll '[ \"\$(status $tmp/o3)\" = read ]'"

# --- The customer answers by SMS, later -----------------------------------------

later2=$(at 94200)	# an hour more
clock "$later2"
kill "$lpid" && wait "$lpid" 2>/dev/null
serve_port=$lport	# where the sim posts: the listener again, its
			# clock an hour after the template
serve "$tmp/L2.out" "$tmp/L2.err" env SMSDESK_NOW="$later2" sms-recv ||
	{ fail 'sms-recv starts again'; done_testing; }
unset serve_port
check 'the customer answers by SMS (sms-sim text)' \
	"sms-sim text $A 'Perfecto, ahí estaremos' >'$tmp/t2'"
is 'the sim keeps it as an SMS' "$(jq -r .from "$tmp/t2")" "$A"
is 'one conversation holds both channels' \
	"$(cat "$ib"/msg/$A/* | jq -sc '[.[] | select(.direction == "in") | .channel // "sms"] | unique')" \
	'["sms","whatsapp"]'
SMSDESK_NOW=$(at 94260) sms-send -c $A 'Hasta luego' >"$tmp/o4" 2>"$tmp/e4"
is 'the next answer: exit 0' "$?" 0
is 'it goes by SMS, the channel the customer last wrote on' \
	"$(last To),$(last From),$(jq -r '.channel // "sms"' "$tmp/o4")" \
	"\"$A\",\"$US\",sms"
check 'the SMS is delivered' \
	"poll '[ \"\$(status $tmp/o4)\" = delivered ]'"
# No read ever comes for an SMS: what the sim did with it is in its store.
is 'the sim has it delivered, not read' \
	"$(fetch "$(jq -r .provider_id "$tmp/o4")" | jq -r .status)" delivered
is 'one thread, the whole story' \
	"$(inbox-ls --json --all | jq -sc 'map(.thread)')" "[\"$A\"]"

# --- The sim's WhatsApp, piece by piece -----------------------------------------

# A second sim posts its webhooks to the catcher, to be read as sent, and
# reads nothing (--read-after never).
B=+15555960002
sim sim2 --webhook "http://127.0.0.1:$cport/hook" --read-after never ||
	{ fail 'a second sms-sim starts'; done_testing; }
s2=$TWILIO_API_URL
: >"$tmp/callbacks"
check 'sms-sim text --whatsapp --profile-name' \
	"sms-sim text --url $s2 --whatsapp --profile-name 'Bo Chen' $B 'Hi' \
	    >/dev/null"
check 'the webhook: whatsapp:+E164 both ways, WaId, ProfileName, MessageType' \
	"grep -q '^.*From=whatsapp%3A%2B${B#+}&To=whatsapp%3A%2B${US#+}&.*WaId=${B#+}&ProfileName=Bo+Chen&MessageType=text' '$tmp/callbacks'"
check 'STOP on WhatsApp: no keyword for the sim (Advanced Opt-Out is SMS'"'"'s)' \
	"sms-sim text --url $s2 --whatsapp $B STOP >/dev/null &&
	    ! grep -q OptOutType '$tmp/callbacks'"
is 'and no confirmation sent' "$(curl -s -u "$AC:$TOK" \
    "$s2/2010-04-01/Accounts/$AC/Messages.json" |
    jq '[.messages[] | select(.direction == "outbound-reply")] | length')" 0
check_exit 'sms-sim text --profile-name without --whatsapp: 2' 2 \
	"sms-sim text --url $s2 --profile-name Bo $B Hi 2>/dev/null"
is '/sim/text with a ProfileName, not on WhatsApp: 400' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "From=$B" \
	    -d Body=Hi -d ProfileName=Bo "$s2/sim/text")" 400

# create2 PARAM...: a create at the second sim; prints "HTTP CODE" (the
# code of an error, else the status).
create2() {
	curl -s -u "$AC:$TOK" -o "$tmp/c2" -w '%{http_code} ' "$@" \
	    "$s2/2010-04-01/Accounts/$AC/Messages.json"
	jq -r '.code // .status' "$tmp/c2"
}
is 'To on WhatsApp, From not: 21910' \
	"$(create2 --data-urlencode "To=whatsapp:$B" --data-urlencode "From=$US" -d Body=x)" \
	'400 21910'
is 'a Messaging Service in From picks a sender on WhatsApp: 201' \
	"$(create2 --data-urlencode "To=whatsapp:$B" \
	    -d From=MG0596aaaabbbbccccddddeeeeffff0000 -d Body=x)" '201 accepted'
is 'its sender our number, on WhatsApp' "$(jq -r .from "$tmp/c2")" \
	"whatsapp:$US"
sidmg=$(jq -r .sid "$tmp/c2")
is 'a ContentSid that is no HX SID: 21655' \
	"$(create2 --data-urlencode "To=whatsapp:$B" --data-urlencode "From=whatsapp:$US" -d ContentSid=HX12)" \
	'400 21655'
is 'ContentVariables not a JSON object: 21656' \
	"$(create2 --data-urlencode "To=whatsapp:$B" --data-urlencode "From=whatsapp:$US" -d ContentSid=$HX -d ContentVariables=x)" \
	'400 21656'
is 'free-form within the window: 201' \
	"$(create2 --data-urlencode "To=whatsapp:$B" --data-urlencode "From=whatsapp:$US" \
	    -d Body=Hello --data-urlencode "StatusCallback=http://127.0.0.1:$cport/cb")" \
	'201 queued'
sid2=$(jq -r .sid "$tmp/c2")
is 'its resource: whatsapp:+E164, one segment' \
	"$(jq -c '[.to, .from, .num_segments]' "$tmp/c2")" \
	"[\"whatsapp:$B\",\"whatsapp:$US\",\"1\"]"
check 'delivered, its callback on WhatsApp, with no DLR date' \
	"poll \"grep 'MessageSid=$sid2' '$tmp/callbacks' | grep -q 'MessageStatus=delivered'\" &&
	    grep 'MessageSid=$sid2.*MessageStatus=delivered' '$tmp/callbacks' |
	    grep -v RawDlrDoneDate | grep -q 'ChannelToAddress=%2B${B#+}'"
is 'with --read-after never, it stays delivered' \
	"$(fetch2() { curl -s -u "$AC:$TOK" "$s2/2010-04-01/Accounts/$AC/Messages/$1.json"; }
	    fetch2 "$sid2" | jq -r .status)" delivered
is 'the list by To=whatsapp:+E164 has the WhatsApp messages only' \
	"$(curl -s -u "$AC:$TOK" -G --data-urlencode "To=whatsapp:$B" \
	    "$s2/2010-04-01/Accounts/$AC/Messages.json" | jq -c '[.messages[].sid]')" \
	"[\"$sid2\",\"$sidmg\"]"
is 'by To=+E164, none of them' \
	"$(curl -s -u "$AC:$TOK" -G --data-urlencode "To=$B" \
	    "$s2/2010-04-01/Accounts/$AC/Messages.json" | jq '.messages | length')" 0

# --- An answer lost on the way: --reconcile finds it on WhatsApp -----------------

# A sim that creates every message and closes the connection unanswered
# (--drop 100): sms-send cannot know; --reconcile must find the message
# in the provider's list, by its WhatsApp address (never call it
# not_sent, which would send it twice), a free-form one by its text, a
# template as the one message of ours to that number without an id.
sim sim3 --webhook "http://127.0.0.1:$cport/hook" --drop 100 ||
	{ fail 'a dropping sms-sim starts'; done_testing; }
s3=$TWILIO_API_URL
clock "$(at 650)"	# its clock with sms-send's: created after queued
sms-sim text --url "$s3" --whatsapp $A 'Otra pregunta' >/dev/null
# created: the SID of the last message the third sim created.
created() {
	jq -r 'select(.method == "POST" and .sid and
	    (.path | endswith("/Messages.json"))) | .sid' "$tmp/sim3.log" |
	    tail -n 1
}
# reconcile: sms-send --reconcile; prints its exit and the provider id.
reconcile() {
	SMSDESK_RECONCILE_GRACE=0 SMSDESK_NOW=$(at 800) \
	    sms-send --reconcile >"$tmp/rec" 2>"$tmp/rec.err"
	echo "$?:$(jq -r '.provider_id // .error.code' "$tmp/rec")"
}
SMSDESK_NOW=$(at 700) sms-send -c $A --channel whatsapp 'Claro, dime' \
    >/dev/null 2>&1
is 'free-form, its answer lost: unknown (75)' "$?" 75
is '--reconcile finds it at the provider (0)' "$(reconcile)" \
	"0:$(created)"
SMSDESK_NOW=$(at 700) sms-send -c $A --content-sid $HX >/dev/null 2>&1
is 'a template, its answer lost: unknown (75)' "$?" 75
is '--reconcile finds it too (0)' "$(reconcile)" \
	"0:$(created)"

done_testing
