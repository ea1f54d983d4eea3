#!/bin/sh
# WhatsApp through Twilio, inbound (issue 22): Twilio posts a WhatsApp
# message to the same webhook with From and To written whatsapp:+E164, a
# ProfileName and a WaId. It is stored in the customer's one conversation
# (the thread is their number, whatever the channel), with "channel":
# "whatsapp"; the profile name fills the contact's name where none is
# known; a retry is stored once; WhatsApp's statuses (read) settle our
# messages like any other.
. "$(dirname "$0")/lib.sh"

twilio_env 0294
ib=$tmp/inbox
A=+15552940001

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
lport=$port

# wa SID FROM BODY [PROFILE]: the form of a WhatsApp message from FROM.
wa() {
	printf 'MessageSid=%s&SmsMessageSid=%s&AccountSid=%s&From=whatsapp%%3A%%2B%s&To=whatsapp%%3A%%2B%s&Body=%s&NumMedia=0&NumSegments=1&MessageType=text&WaId=%s&SmsStatus=received&ApiVersion=2010-04-01' \
	    "$1" "$1" "$AC" "${2#+}" "${US#+}" "$3" "${2#+}"
	[ -n "${4-}" ] && printf '&ProfileName=%s' "$4"
}

is 'a WhatsApp message: 200' \
	"$(webhook "$(wa SM29400000000000000000000000000001 $A 'Hola' 'Ana+Lima')")" 200
is 'stored in the conversation of the number, its channel whatsapp' \
	"$(jq -c '[.thread, .from, .to, .body, .channel]' "$ib"/msg/$A/*)" \
	"[\"$A\",\"$A\",\"$US\",\"Hola\",\"whatsapp\"]"
is 'the profile name is the contact'"'"'s name' \
	"$(inbox-contacts show -d "$ib" $A | jq -r .name)" 'Ana Lima'
check 'the event says the channel' \
	"grep -q '\"channel\":\"whatsapp\"' '$tmp/L.out'"
is 'Twilio retries it: 200' \
	"$(webhook "$(wa SM29400000000000000000000000000001 $A 'Hola' 'Ana+Lima')")" 200
is 'stored once' "$(ls "$ib/msg/$A" | wc -l)" 1

# The same customer by SMS: the same conversation.
is 'an SMS from the same number: 200' \
	"$(webhook "MessageSid=SM29400000000000000000000000000002&AccountSid=$AC&From=%2B${A#+}&To=%2B${US#+}&Body=also+by+sms&NumSegments=1")" 200
is 'one conversation, two messages; the SMS has no channel of its own' \
	"$(cat "$ib"/msg/$A/* | jq -sc 'map(.channel)')" '["whatsapp",null]'
is 'the conversation counts both' \
	"$(tail -n 1 "$ib/conv/$A" | jq -r .messages)" 2

# A name someone wrote is never overwritten by a profile name.
inbox-contacts set -d "$ib" $A name='Ana Lima (VIP)' >/dev/null
webhook "$(wa SM29400000000000000000000000000003 $A 'again' 'Ana+L.')" \
    >/dev/null
is 'a later profile name leaves the name that is there' \
	"$(inbox-contacts show -d "$ib" $A | jq -r .name)" 'Ana Lima (VIP)'

# STOP on WhatsApp is an opt-out of the number, on every channel.
webhook "$(wa SM29400000000000000000000000000004 $A 'STOP')" >/dev/null
is 'STOP by WhatsApp: the number is opted out' \
	"$(inbox-ls -d "$ib" --consent --json $A | jq -r .state)" out

# A status of ours by WhatsApp, read: settled as any status.
B=+15552940002
sim || { fail 'sms-sim starts'; done_testing; }
sms-send -d "$ib" --to $B 'Your table is ready' >"$tmp/send.out" 2>/dev/null
sid=$(jq -r .provider_id "$tmp/send.out")
port=$lport	# webhook posts to the listener again
for st in sent delivered read; do
	webhook "MessageSid=$sid&AccountSid=$AC&From=whatsapp%3A%2B${US#+}&To=whatsapp%3A%2B${B#+}&MessageStatus=$st&ChannelPrefix=whatsapp&ApiVersion=2010-04-01" >/dev/null
done
is 'read, WhatsApp'"'"'s last word, is the message'"'"'s status' \
	"$(tail -n 1 "$ib"/msg/$B/* | jq -r .status)" read

# The thread view shows the channel of each message that is not a text,
# and WhatsApp's read.
inbox-ls -d "$ib" --table $A >"$tmp/view" 2>&1
check 'inbox-ls THREAD: [whatsapp] before a WhatsApp message' \
	"grep -q '\\[whatsapp\\] Hola' '$tmp/view'"
check 'and nothing before the SMS' \
	"grep 'also by sms' '$tmp/view' | grep -vq '\\['"
inbox-ls -d "$ib" --table $B >"$tmp/view2" 2>&1
check 'a message read shows read' "grep -q ' read ' '$tmp/view2'"

# The automatic answers go back the way the customer wrote. An opt-out by
# text silences them on WhatsApp too, unless consent is by channel
# (consent_scope): out of hours (a Sunday), "hola" on WhatsApp after a
# STOP by text gets the away answer only then.
D=+15552940003
for scope in person channel; do
	ib=$tmp/inbox-$scope
	mkdir -p "$ib" && chmod 700 "$ib"
	printf '%s\n' 'business_hours = Mon-Fri 09:00-17:00' 'timezone = UTC' \
	    'away_text = Closed.' "consent_scope = $scope" >"$ib/config"
	chmod 600 "$ib/config"
	SMSDESK_NOW=2026-12-06T12:00:00Z serve "$tmp/$scope.out" \
	    "$tmp/$scope.err" "$bin/sms-recv" -d "$ib" ||
		{ fail 'the listener starts'; continue; }
	webhook "$(wa SM2940000000000000000000000000${scope}1 $D 'HELP')" \
	    >/dev/null
	webhook "MessageSid=SM2940000000000000000000000000${scope}2&AccountSid=$AC&From=%2B${D#+}&To=%2B${US#+}&Body=STOP&NumSegments=1" \
	    >/dev/null
	webhook "$(wa SM2940000000000000000000000000${scope}3 $D 'hola')" \
	    >/dev/null
	cat "$ib"/msg/$D/* | jq -sc 'map(select(.auto) | [.auto, .channel])' \
	    >"$tmp/$scope.auto"
	kill "$server"
	wait "$server"
done
is 'HELP on WhatsApp: answered on WhatsApp; by person, no away after STOP' \
	"$(cat "$tmp/person.auto")" '[["help","whatsapp"]]'
is 'consent by channel: the STOP by text leaves WhatsApp its away answer' \
	"$(cat "$tmp/channel.auto")" '[["help","whatsapp"],["away","whatsapp"]]'

done_testing
