#!/bin/sh
# Answering on WhatsApp through Twilio (issue 22): a reply goes out on the
# channel the customer last wrote on (the conversation record's
# last_in_channel, or an older inbox's thread); free-form only within 24
# hours of the customer's last WhatsApp message, refused with no request
# after (WhatsApp's customer service window, Twilio's 63016); a template
# (--content-sid) at any time; the same conversation goes on by SMS.
#
# The listener and sms-sim on 127.0.0.1 (free ports), killed on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0595
ib=$tmp/inbox
A=+15555950001 B=+15555950002
HX=HXaaaaaaaabbbbbbbbccccccccdddddddd

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
lport=$port
webhook "MessageSid=SM59500000000000000000000000000001&AccountSid=$AC&From=whatsapp%3A%2B${A#+}&To=whatsapp%3A%2B${US#+}&Body=Hola&ProfileName=Ana&WaId=${A#+}" \
    >/dev/null
sim || { fail 'sms-sim starts'; done_testing; }
later=$(from_now 90000)		# 25 hours on

# last KEY: the KEY param of sms-sim's last create, as jq prints it.
last() {
	jq -sc "[.[] | select(.method == \"POST\")] | last | .params.$1" \
	    "$tmp/sim.log"
}

sms-send -d "$ib" -c $A 'Gracias, Ana' >"$tmp/o1" 2>"$tmp/e1"
is 'a reply to a WhatsApp message: exit 0' "$?" 0
is 'it goes on WhatsApp: whatsapp:+E164 both ways' \
	"$(last To),$(last From),$(last Body)" \
	"\"whatsapp:$A\",\"whatsapp:$US\",\"Gracias, Ana\""
is 'its record says the channel' "$(jq -r .channel "$tmp/o1")" whatsapp
long=$(printf 'Ana, %.0s' $(seq 100))	# 500 characters
sms-send -d "$ib" -c $A "$long" >"$tmp/o1b" 2>/dev/null
is 'WhatsApp has no segments: 500 characters are one message' \
	"$(jq -r '[.channel, .segments] | @tsv' "$tmp/o1b")" "$(printf 'whatsapp\t1')"

is 'the conversation keeps the channel they wrote on and when' \
	"$(tail -n 1 "$ib/conv/$A" | jq -r '[.last_in_channel,
	    (.whatsapp_in_at | type)] | @tsv')" "$(printf 'whatsapp\tstring')"
# Ours by text does not move the default: the customer's channel does.
sms-send -d "$ib" --channel sms -c $A 'By text too' >/dev/null 2>&1
is '--channel sms: a text' "$(last To)" "\"$A\""
sms-send -d "$ib" -c $A 'And here' >/dev/null 2>&1
is 'the next reply: WhatsApp, where the customer last wrote' \
	"$(last To)" "\"whatsapp:$A\""

n=$(creates)
SMSDESK_NOW=$later sms-send -d "$ib" -c $A 'Still there?' >"$tmp/o2" \
    2>"$tmp/e2"
is 'free-form 25 hours after their last WhatsApp message: exit 1' "$?" 1
is 'refused as whatsapp_window' "$(jq -r .error.code "$tmp/o2")" \
	whatsapp_window
check 'saying a template goes' "grep -q 'only a template goes' '$tmp/e2'"
is 'with no request' "$(creates)" "$n"

SMSDESK_NOW=$later sms-send -d "$ib" -c $A --content-sid $HX \
    --content-variables '{"1":"Ana"}' >"$tmp/o3" 2>"$tmp/e3"
is 'a template then: exit 0' "$?" 0
is 'sent by its content SID and variables, no body' \
	"$(last ContentSid),$(last ContentVariables),$(last Body)" \
	"\"$HX\",\"{\\\"1\\\":\\\"Ana\\\"}\",null"

# The customer answers by SMS: the same conversation, and the next reply
# goes by SMS.
port=$lport
webhook "MessageSid=SM59500000000000000000000000000002&AccountSid=$AC&From=%2B${A#+}&To=%2B${US#+}&Body=by+sms+now" \
    >/dev/null
sms-send -d "$ib" -c $A 'Got it' >/dev/null 2>&1
is 'after their SMS, the reply goes by SMS' "$(last To)" "\"$A\""
is 'one conversation holds it all' \
	"$(cat "$ib"/msg/$A/* | jq -sc '[.[] | .channel // "sms"] | unique')" \
	'["sms","whatsapp"]'

is 'the conversation says SMS now, and keeps the WhatsApp time' \
	"$(tail -n 1 "$ib/conv/$A" | jq -r '[.last_in_channel,
	    (.whatsapp_in_at | type)] | @tsv')" "$(printf 'sms\tstring')"

# An older inbox's conversation record, without the two fields: the
# thread says what they would.
C=+15555950003
webhook "MessageSid=SM59500000000000000000000000000003&AccountSid=$AC&From=whatsapp%3A%2B${C#+}&To=whatsapp%3A%2B${US#+}&Body=Hi" \
    >/dev/null
tail -n 1 "$ib/conv/$C" | jq -c 'del(.last_in_channel, .whatsapp_in_at)' \
    >>"$ib/conv/$C"
sms-send -d "$ib" -c $C 'Hello' >"$tmp/o6" 2>"$tmp/e6"
is 'a record without them: WhatsApp, from the thread' \
	"$?,$(last To)" "0,\"whatsapp:$C\""
n=$(creates)
SMSDESK_NOW=$later sms-send -d "$ib" -c $C 'Hello?' >"$tmp/o6" 2>/dev/null
is 'and the window from the thread: closed 25 hours on' \
	"$(jq -r .error.code "$tmp/o6"),$(creates)" "whatsapp_window,$n"
# With them, the record is what is read, not the thread: one that says
# WhatsApp over a thread of texts sends on WhatsApp.
D=+15555950004
webhook "MessageSid=SM59500000000000000000000000000004&AccountSid=$AC&From=%2B${D#+}&To=%2B${US#+}&Body=Hi" \
    >/dev/null
tail -n 1 "$ib/conv/$D" | jq -c --arg at "$(from_now 0)" \
    '.last_in_channel = "whatsapp" | .whatsapp_in_at = $at' >>"$ib/conv/$D"
sms-send -d "$ib" -c $D 'Hello' >/dev/null 2>&1
is 'a record that says WhatsApp: WhatsApp, the thread not read' \
	"$(last To)" "\"whatsapp:$D\""

n=$(creates)
sms-send -d "$ib" --channel whatsapp --to $B 'Hi' >"$tmp/o4" 2>/dev/null
is '--channel whatsapp to one who never wrote on it: whatsapp_window' \
	"$?,$(jq -r .error.code "$tmp/o4"),$(creates)" "1,whatsapp_window,$n"
carrier_creds 0595
SMSDESK_PROVIDER=telnyx sms-send -d "$ib" --channel whatsapp -c $A 'x' \
    >"$tmp/o5" 2>/dev/null
is 'a carrier that carries no WhatsApp here: no_channel' \
	"$(jq -r .error.code "$tmp/o5")" no_channel
check_exit '--content-sid that is no content SID: 2' 2 \
	'sms-send -d "$ib" -c $A --content-sid HX12 x 2>/dev/null'
check_exit '--content-sid with --channel sms: 2' 2 \
	'sms-send -d "$ib" -c $A --channel sms --content-sid $HX x 2>/dev/null'
check_exit '--channel rcs: 2' 2 \
	'sms-send -d "$ib" -c $A --channel rcs x 2>/dev/null'

done_testing
