#!/bin/sh
# WhatsApp around the send (issue 22): inbox-ls shows the customer service
# window's end (table, NDJSON, the thread's head) and WhatsApp's read;
# consent by person (an opt-out on one channel holds on every channel,
# the default) or by channel (consent_scope = channel); a dry run's
# WhatsApp message has no segments and its own price.
#
# The listener and sms-sim on 127.0.0.1 (free ports), killed on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0597
ib=$tmp/inbox
A=+15555970001 B=+15555970002 C=+15555970003 D=+15555970004
umask 077
cfg=$tmp/config/smsdesk/config
mkdir -p "$tmp/config/smsdesk"
: >"$cfg"

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
lport=$port
n_in=0
# hook BODY: a webhook to the listener, wherever $port points.
hook() {
	h_port=$port
	port=$lport
	webhook "$1" >/dev/null
	port=$h_port
}
# wa NUMBER BODY, sms NUMBER BODY: the customer writes on WhatsApp, by SMS.
wa() {
	n_in=$((n_in + 1))
	hook "MessageSid=SM5970000000000000000000000000$(printf %04d $n_in)&AccountSid=$AC&From=whatsapp%3A%2B${1#+}&To=whatsapp%3A%2B${US#+}&Body=$2"
}
sms() {
	n_in=$((n_in + 1))
	hook "MessageSid=SM5970000000000000000000000000$(printf %04d $n_in)&AccountSid=$AC&From=%2B${1#+}&To=%2B${US#+}&Body=$2"
}
# last_to: the To of sms-sim's last create, as jq prints it.
last_to() {
	jq -sc '[.[] | select(.method == "POST")] | last | .params.To' \
	    "$tmp/sim.log"
}
wa $A Hola
sms $B 'by text'
later=$(from_now 90000)		# 25 hours on

# --- inbox-ls: the window ---------------------------------------------------

inbox-ls -d "$ib" --json >"$tmp/ls.json"
is 'NDJSON: the window of a WhatsApp conversation, open, 24 hours on' \
	"$(jq -r --arg t $A 'select(.thread == $t) |
	    [.whatsapp_window_open, (.whatsapp_window_until | fromdate) -
	    (.whatsapp_in_at | fromdate)] | @tsv' "$tmp/ls.json")" \
	"$(printf 'true\t86400')"
is 'and none on a conversation of texts' \
	"$(jq -c --arg t $B 'select(.thread == $t) |
	    [.whatsapp_window_until, .whatsapp_window_open]' "$tmp/ls.json")" \
	'[null,null]'
check 'every line is still one JSON object' "jq -se 'length == 2' '$tmp/ls.json'"
SMSDESK_NOW=$later inbox-ls -d "$ib" --json >"$tmp/ls2.json"
is 'NDJSON 25 hours on: closed' \
	"$(jq -r --arg t $A 'select(.thread == $t) | .whatsapp_window_open' \
	    "$tmp/ls2.json")" false

inbox-ls -d "$ib" --table >"$tmp/ls.txt"
check 'the table has a WHATSAPP column' "head -n 1 '$tmp/ls.txt' | grep -q ' WHATSAPP '"
check 'with the window'"'"'s end on the WhatsApp conversation' \
	"grep '^$A ' '$tmp/ls.txt' | grep -Eq ' until [0-9-]* ?[0-9][0-9]:[0-9][0-9] '"
check 'and - on the other' "grep '^$B ' '$tmp/ls.txt' | grep -vq ' until '"
SMSDESK_NOW=$later inbox-ls -d "$ib" --table >"$tmp/ls2.txt"
check '25 hours on: closed' "grep '^$A ' '$tmp/ls2.txt' | grep -q ' closed '"
inbox-ls -d "$ib" --table --grep 'by text' >"$tmp/ls3.txt"
check 'no WhatsApp conversation listed: no WHATSAPP column' \
	"! grep -q WHATSAPP '$tmp/ls3.txt'"
inbox-ls -d "$ib" --table $A >"$tmp/head.txt"
check 'the thread'"'"'s head says the window is open, and until when' \
	"grep -Eq '^whatsapp  window open until ' '$tmp/head.txt'"
SMSDESK_NOW=$later inbox-ls -d "$ib" --table $A >"$tmp/head2.txt"
check 'and closed 25 hours on' \
	"grep -Eq '^whatsapp  window closed at ' '$tmp/head2.txt'"

# Ours on WhatsApp, read: the thread view shows read.
sim || { fail 'sms-sim starts'; done_testing; }
sms-send -d "$ib" -c $A 'Gracias' >"$tmp/s1" 2>/dev/null
sid=$(jq -r .provider_id "$tmp/s1")
for st in sent delivered read; do
	hook "MessageSid=$sid&AccountSid=$AC&From=whatsapp%3A%2B${US#+}&To=whatsapp%3A%2B${A#+}&MessageStatus=$st&ChannelPrefix=whatsapp&ApiVersion=2010-04-01"
done
inbox-ls -d "$ib" --table $A >"$tmp/view"
check 'the thread view: our WhatsApp message, read' \
	"grep '\\[whatsapp\\] Gracias' '$tmp/view' | grep -q ' read '"

# --- Consent across channels ------------------------------------------------

# By person, the default: a STOP on WhatsApp holds on texts too.
wa $A STOP
is 'the opt-out says the channel it came on' \
	"$(inbox-ls -d "$ib" --consent --json $A | jq -r '[.state, .channel] | @tsv')" \
	"$(printf 'out\twhatsapp')"
check 'the thread'"'"'s head says it came on WhatsApp' \
	"inbox-ls -d '$ib' --table --no-mark $A | grep -q '^consent   opted out since .*(STOP, on whatsapp, '"
n=$(creates)
sms-send -d "$ib" --channel sms -c $A 'By text then?' >"$tmp/c1" 2>/dev/null
is 'by person: a text after a WhatsApp STOP is refused, no request' \
	"$?,$(jq -r .error.code "$tmp/c1"),$(creates)" "1,opted_out,$n"
sms-send -d "$ib" -c $A 'Hola?' >"$tmp/c2" 2>/dev/null
is 'and on WhatsApp' "$(jq -r .error.code "$tmp/c2")" opted_out

# By channel: the WhatsApp STOP holds on WhatsApp only.
echo 'consent_scope = channel' >"$cfg"
sms-send -d "$ib" --channel sms -c $A 'By text then?' >"$tmp/c3" 2>/dev/null
is 'by channel: the text goes' "$?,$(last_to)" "0,\"$A\""
n=$(creates)
sms-send -d "$ib" -c $A 'Hola?' >"$tmp/c4" 2>/dev/null
is 'and WhatsApp is refused, no request' \
	"$(jq -r .error.code "$tmp/c4"),$(creates)" "opted_out,$n"

# A STOP by text, from one who wrote on WhatsApp too.
wa $C Hi
sms $C STOP
sms-send -d "$ib" --channel whatsapp -c $C 'On WhatsApp, then' \
    >"$tmp/c5" 2>/dev/null
is 'by channel: WhatsApp after a STOP by text goes' "$?,$(last_to)" \
	"0,\"whatsapp:$C\""
sms-send -d "$ib" --channel sms -c $C 'x' >"$tmp/c6" 2>/dev/null
is 'and a text is refused' "$(jq -r .error.code "$tmp/c6")" opted_out
SMSDESK_CONSENT_SCOPE=person sms-send -d "$ib" --channel whatsapp -c $C \
    'x' >"$tmp/c7" 2>/dev/null
is 'SMSDESK_CONSENT_SCOPE=person beats it: WhatsApp refused' \
	"$(jq -r .error.code "$tmp/c7")" opted_out

# An opt-out by hand names no channel: it holds on every one.
wa $D Hi
inbox-mark -d "$ib" --optout --source phone $D >/dev/null 2>&1
sms-send -d "$ib" -c $D 'Hola' >"$tmp/c8" 2>/dev/null
is 'by channel: an opt-out by hand holds on WhatsApp too' \
	"$(jq -r .error.code "$tmp/c8")" opted_out

check_exit 'consent_scope that is neither: exit 78' 78 \
	'SMSDESK_CONSENT_SCOPE=both sms-send -d "$ib" -c $D x 2>/dev/null'
: >"$cfg"

# --- A dry run's WhatsApp message -------------------------------------------

cat >"$cfg" <<EOF
price = 0.0079
whatsapp_price = 0.0050
whatsapp_template_price = 0.0300
EOF
printf '%s\n' "{\"to\":\"$B\",\"body\":\"$(printf 'a%.0s' $(seq 200))\"}" \
    "{\"to\":\"$D\",\"body\":\"$(printf 'a%.0s' $(seq 200))\",\"channel\":\"whatsapp\"}" |
    sms-send --dry-run --purpose notification >"$tmp/d1" 2>"$tmp/d1.err"
is 'dry run: 200 characters, 2 segments by text, one message on WhatsApp' \
	"$(jq -sc 'map([.channel, .price])' "$tmp/d1")" \
	'[[null,"0.0158"],["whatsapp","0.0050"]]'
check 'the total says WhatsApp has no segments, and its limit' \
	"grep -q '2 messages (1 WhatsApp: no segments, up to 4096 characters each), 2 segments, 0.0208 USD' '$tmp/d1.err'"
sms-send --dry-run --purpose notification --to $D \
    --content-sid HXaaaaaaaabbbbbbbbccccccccdddddddd >"$tmp/d2" 2>/dev/null
is 'a template: whatsapp_template_price' "$(jq -r .price "$tmp/d2")" 0.0300
: >"$cfg"
sms-send --dry-run --purpose notification --channel whatsapp --to $D hi \
    >"$tmp/d3" 2>"$tmp/d3.err"
is 'no whatsapp_price: no price, and said' \
	"$(jq -r .price "$tmp/d3"),$(grep -c 'set whatsapp_price' "$tmp/d3.err")" \
	'null,1'

done_testing
