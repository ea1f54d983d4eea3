#!/bin/sh
# What is not a phone number is kept: a text from a short code or a named
# sender gets a thread of its own kind ('@' and the sender, escaped) that
# every program lists and reads and none sends to; a delivery status word
# smsdesk does not know is stored as it came, and never moves a known one
# back (smsdesk-inbox(5), sms-record(5)).
#
# The provider is sms-sim on 127.0.0.1, killed by PID on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0270
ib=$tmp/inbox
mkdir -m 700 "$ib"
printf 'ack_text = Thanks, an agent will answer shortly.\n' >"$ib/config"
chmod 600 "$ib/config"

# text FROM SID [BODY]: the form of an inbound text from FROM (encoded).
text() {
	printf 'From=%s&To=%%2B15550100000&Body=%s&MessageSid=%s\n' \
	    "$1" "${3:-hello}" "$2"
}

# --- Senders that are not numbers get threads of their own -------------------

long60=$(printf 'L%.0s' $(seq 60))
{
	text 12345 SMs01
	text VERIFY SMs02 STOP
	text ACME-INFO SMs03
	text 'My+Shop' SMs04
	text a%2Fb SMs05
	text .. SMs06
	text -rf SMs07
	text whatsapp%3A%2B14155238886 SMs08
	text "${long60}" SMs09
	text "${long60%L}M" SMs10
	text %40VERIFY SMs11
	text %2B15551230001 SMs12
	text VERIFY SMs13 again
} >"$tmp/in"
sms-recv -d "$ib" "$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'sms-recv: every sender kept: exit 0' "$?" 0
# (A WhatsApp sender, whatsapp:+E164, is its number: sms-recv(1), WhatsApp.)
is 'their threads: @ and the sender, escaped; a number stays E.164' \
	"$(jq -r 'select(.event == "message.received") | .message.thread' \
	    "$tmp/out" | sed -n '1,8p;11,13p' | tr '\n' ' ')" \
	'@12345 @VERIFY @ACME-INFO @My%20Shop @a%2Fb @%2E%2E @-rf +14155238886 @%40VERIFY +15551230001 @VERIFY '
is 'the message keeps the sender as it came in "from"' \
	"$(jq -r 'select(.event == "message.received") | .message.from' "$tmp/out" |
	    sed -n '1,8p;11,12p' | tr '\n' ' ')" \
	'12345 VERIFY ACME-INFO My Shop a/b .. -rf +14155238886 @VERIFY +15551230001 '
t9=$(jq -r 'select(.event == "message.received") | .message.thread' "$tmp/out" | sed -n 9p)
t10=$(jq -r 'select(.event == "message.received") | .message.thread' "$tmp/out" | sed -n 10p)
check 'a 60-byte sender: a prefix and a hash, at most 31 bytes' \
	'printf "%s\n" "$t9" | grep -Eq "^@L{13}~[0-9a-f]{16}$"'
check 'and another 60-byte sender with the same prefix: another thread' \
	'[ "$t10" != "$t9" ] && printf "%s\n" "$t10" | grep -Eq "^@L{13}~[0-9a-f]{16}$"'
check 'every thread is a safe file name: no / . or leading -, at most 31 bytes' \
	'ls "$ib/conv" | awk "length > 31 || /[\/.]/ || /^-/ { bad = 1 }
	    END { exit bad }" && [ "$(ls "$ib/conv" | wc -l)" -eq 12 ]'
check 'the two texts from VERIFY are one thread' \
	'[ "$(ls "$ib/msg/@VERIFY" | wc -l)" -eq 2 ]'
check 'STOP from a sender: stored as a text, no consent, no reply' \
	'[ ! -e "$ib/consent/@VERIFY" ] &&
	 ! jq -e "select(.event == \"message.sent\" or .event == \"consent.optout\")" \
	    "$tmp/out" >/dev/null'

{
	text %20 SMs20
	text '' SMs21
	text "$(printf 'x%.0s' $(seq 257))" SMs22
	text 'a%01b' SMs23
	text OK SMs24
} >"$tmp/in2"
sms-recv -d "$ib" "$tmp/in2" >"$tmp/out" 2>"$tmp/err"
is 'a blank, empty, 257-byte or control-character sender: exit 1' "$?" 1
is 'each named' "$(sed 's/^sms-recv: [^:]*:\([0-9]\): .*/\1/' "$tmp/err" | tr '\n' ' ')" \
	'1 2 3 4 '
check 'with why, and without echoing the control character' \
	'! grep -q "$(printf "\001")" "$tmp/err" &&
	grep -q "only white space" "$tmp/err" &&
	grep -q "longer than 256 bytes" "$tmp/err" &&
	grep -q "control character 0x01" "$tmp/err"'
check 'and the rest stored' '[ -e "$ib/conv/@OK" ]'

printf '%s\n' '{"from":"SHOP","body":"imported","provider_id":"SMj1"}' |
	sms-recv -d "$ib" >/dev/null 2>&1
check 'an imported record from a sender: its thread too' \
	'jq -e ".from == \"SHOP\" and .thread == \"@SHOP\"" "$ib"/msg/@SHOP/*'

serve "$tmp/L.out" "$tmp/L.err" sms-recv -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
lport=$port
post() { (port=$lport; webhook "$1"); }	# to the listener, not a sim
is 'listener: a text from a short code: 200' \
	"$(post "$(text 54321 SMs30 'Your+code+is+1234' | tr -d '\n')")" 200
check 'answered with no reply' 'grep -q "<Response></Response>" "$tmp/resp"'
post "$(text %2B15551230009 SMs32 | tr -d '\n')" >/dev/null
check 'where a number gets the acknowledgement' \
	'grep -q "<Message>Thanks" "$tmp/resp"'
is 'listener: a blank sender: 400' \
	"$(post "$(text %20%20 SMs31 | tr -d '\n')")" 400

# --- Every program lists and reads them --------------------------------------

check 'inbox-ls lists them' \
	'inbox-ls -d "$ib" | jq -r .thread | grep -qx "@VERIFY" &&
	 inbox-ls -d "$ib" | jq -r .thread | grep -qx "$t9"'
check 'inbox-ls @VERIFY reads the thread' \
	'inbox-ls -d "$ib" @VERIFY | jq -s -e "length == 2 and
	    (map(.from) | unique) == [\"VERIFY\"] and .[1].body == \"again\""'
check 'inbox-ls reads a hashed thread' \
	'inbox-ls -d "$ib" "$t9" | jq -e ".from == \"$long60\""'
check_exit 'inbox-ls VERIFY (no @): usage error' 2 'inbox-ls -d "$ib" VERIFY'
check 'with a hint' \
	'inbox-ls -d "$ib" VERIFY 2>&1 | grep -q "thread written @NAME"'
check_exit 'inbox-ls @a/b: not a thread name' 2 'inbox-ls -d "$ib" @a/b'
check 'inbox-mark resolves and tags @VERIFY' \
	'inbox-mark -d "$ib" --resolve --tag otp @VERIFY |
	 jq -e ".conversation.status == \"resolved\" and
	     .conversation.tags == [\"otp\"]"'
check 'inbox-ls --all shows it resolved' \
	'inbox-ls -d "$ib" --all | jq -e "select(.thread == \"@VERIFY\") |
	    .status == \"resolved\""'
check 'inbox-ls | inbox-mark --pending takes every kind of thread' \
	'inbox-ls -d "$ib" | inbox-mark -d "$ib" --pending >"$tmp/out" &&
	 jq -r .conversation.thread "$tmp/out" | grep -qx "@12345" &&
	 jq -r .conversation.thread "$tmp/out" | grep -qx "+15551230001"'

# --- Nothing is ever sent to them ----------------------------------------------

sim A || { fail 'sms-sim starts'; done_testing; }
n0=$(creates A)
check_exit 'sms-send --thread @VERIFY: a usage error, exit 2' 2 \
	'sms-send -d "$ib" --thread @VERIFY hi >"$tmp/out" 2>"$tmp/err"'
check 'said once, saying why; no record' \
	'[ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
	 grep -q "^sms-send: --thread: @VERIFY: .*never texted" "$tmp/err"'
inbox-ls -d "$ib" --all | sms-send -d "$ib" --template 'We are on it' \
	>"$tmp/out" 2>"$tmp/err"
is 'inbox-ls | sms-send: exit 1 (the senders refused)' "$?" 1
is 'only the numbers were sent to' \
	"$(jq -r 'select(.provider_id) | .thread' "$tmp/out" | sort |
	    tr '\n' ' '):$(creates A)" \
	"+14155238886 +15551230001 +15551230009 :$((n0 + 3))"
is 'every sender thread refused as invalid_recipient' \
	"$(jq -r 'select(.error.code == "invalid_recipient") | .to' "$tmp/out" |
	    grep -c '^@')" 13
check 'and no outbound message is stored in a sender thread' \
	'! cat "$ib"/msg/@*/* | jq -e "select(.direction == \"out\")" >/dev/null'

# --- Status words smsdesk does not know ----------------------------------------

# status SID WORD: a delivery report, through the listener.
status() {
	post "MessageSid=$1&MessageStatus=$2&From=%2B15550100000&To=%2B15551230002"
}
# sid: the provider id of a new message to +15551230002.
sid() {
	sms-send -d "$ib" --to +15551230002 "$1" | jq -r .provider_id
}
st() { inbox-ls -d "$ib" +15551230002 | jq -r --arg s "$1" \
    'select(.provider_id == $s) | .status'; }

s1=$(sid one)
is 'a new word: 200' "$(status "$s1" teleported)" 200
is 'stored as it came' "$(st "$s1")" teleported
status "$s1" sent >/dev/null
is 'a known word before it (sent) does not move it back' "$(st "$s1")" teleported
status "$s1" delivered >/dev/null
is 'an outcome replaces it' "$(st "$s1")" delivered
status "$s1" teleported >/dev/null
status "$s1" paused >/dev/null
is 'a new word never moves an outcome back' "$(st "$s1")" delivered
status "$s1" read >/dev/null
is 'read after delivered' "$(st "$s1")" read

s2=$(sid two)
status "$s2" canceled >/dev/null
is 'canceled' "$(st "$s2")" canceled
s3=$(sid three)
status "$s3" partially_delivered >/dev/null
is 'partially_delivered' "$(st "$s3")" partially_delivered

is 'a report before its message, with a new word: parked' \
	"$(status SMearly000000000000000000000000001 on_the_way)" 200
check 'and kept as it came' \
	'jq -e ".status == \"on_the_way\"" "$ib/status/twilio-SMearly000000000000000000000000001"'

s4=$(sid four)
was=$(st "$s4")
is 'a word with a newline: 400' "$(status "$s4" 'deliv%0Aered')" 400
is 'a word with a space: 400' "$(status "$s4" 'deli+vered')" 400
is 'a word that is not ASCII: 400' "$(status "$s4" 'd%C3%A9livr%C3%A9')" 400
is 'a word of 33 bytes: 400' "$(status "$s4" "$(printf 'w%.0s' $(seq 33))")" 400
is 'and the message is as it was' "$(st "$s4")" "$was"
check 'the listener log never shows the odd bytes' \
	'! grep -q "deliv$" "$tmp/L.err"'

done_testing
