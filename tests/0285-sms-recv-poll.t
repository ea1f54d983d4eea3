#!/bin/sh
# sms-recv(1), Polling: sms-recv --poll twilio reads Twilio's list of
# messages instead of its webhooks, for an inbox with no public URL. Texts
# come in while no listener runs (sms-sim posts to a port nothing listens
# on); a poll stores each once, across pages; polls that overlap double
# nothing; a poll killed between pages loses nothing and doubles nothing
# on the next; the status of a message sms-send sent moves by polling; the
# cursor in the inbox only moves forward.
. "$(dirname "$0")/lib.sh"

twilio_env 0285
ib=$tmp/inbox
mkinbox "$ib"
nobody=http://127.0.0.1:1/twilio	# no listener: the webhook fails

# The inbound messages of the inbox, one provider id a line.
inbound() { cat "$ib"/msg/*/* 2>/dev/null |
	jq -r 'select(.direction == "in") | .provider_id'; }
count() { inbound | wc -l | tr -d ' '; }
uniq_count() { inbound | sort -u | wc -l | tr -d ' '; }
cursor() { jq -r .cursor "$ib/poll-twilio"; }
lists() { grep -c '"GET"' "$tmp/$1.log" 2>/dev/null || echo 0; }
text() { sms-sim text --url "$TWILIO_API_URL" "$@" >/dev/null 2>&1; }
advance() { curl -s -d "Advance=$1" "$TWILIO_API_URL/sim/clock" >/dev/null; }

# --- Usage -----------------------------------------------------------------

check_exit '--poll with --listen: usage error' 2 \
	'sms-recv -d "$ib" --poll twilio --listen 8080'
check_exit '--page-size without --poll: usage error' 2 \
	'sms-recv -d "$ib" --page-size 5 </dev/null'
check_exit '--page-size 0: usage error' 2 \
	'sms-recv -d "$ib" --poll twilio --page-size 0'
check_exit 'a provider that lists no messages: 78' 78 \
	'TELNYX_API_KEY=k sms-recv -d "$ib" --poll telnyx'
check_exit 'no credentials: 78' 78 \
	'env -u TWILIO_AUTH_TOKEN sms-recv -d "$ib" --poll twilio'

# --- Several pages ------------------------------------------------------------

sim A --webhook "$nobody" || { fail 'sms-sim starts'; done_testing; }
apid=$simpid
for i in 1 2 3 4 5; do text "+1555123000$i" "hello $i"; done
check 'the texts came while no listener ran (the webhook failed)' \
	'[ "$(count)" -eq 0 ] && grep -q "webhook SM.*-> $nobody" "$tmp/A.err"'

# A text to another number of the account: another inbox's.
curl -s --data-urlencode From=+15551230008 --data-urlencode \
	To=+15550100099 -d Body=elsewhere "$TWILIO_API_URL/sim/text" >"$tmp/else"
check 'the sim took it, its webhook failed' 'jq -e ".code == 11200" "$tmp/else"'
sms-recv -d "$ib" --poll twilio --page-size 2 >"$tmp/p1" 2>"$tmp/p1.err"
is 'a poll: exit 0' $? 0
is 'five texts stored' "$(count)" 5
is 'each once' "$(uniq_count)" 5
check 'five message.received events, as the listener prints them' \
	'[ "$(jq -r "select(.event == \"message.received\") |
	    .message.direction" "$tmp/p1" | grep -c "^in$")" -eq 5 ]'
check 'the event carries the body, the thread and the provider id' \
	'jq -se "map(select(.message.body == \"hello 3\")) | length == 1
	    and .[0].thread == \"+15551230003\" and .[0].message.provider ==
	    \"twilio\" and (.[0].message.provider_id | test(\"^SM\"))" \
	    "$tmp/p1"'
is 'three pages of two, next_page_uri followed' "$(lists A)" 3
check 'a text to another number of the account is not ours' \
	'! grep -q elsewhere "$tmp/p1" && ! cat "$ib"/msg/*/* |
	    grep -q elsewhere'
check 'the first request filters DateSent>= a day, URL-encoded' \
	'grep "\"GET\"" "$tmp/A.log" | head -n 1 |
	    grep -q "DateSent%3E=[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]"'
check 'the next pages are the sim'"'"'s next_page_uri, verbatim' \
	'grep "\"GET\"" "$tmp/A.log" | sed -n 2p | grep -q "PageToken=PA"'
check 'the cursor is in the inbox, a time' \
	'jq -e ".provider == \"twilio\" and (.cursor | test(\"Z$\"))" \
	    "$ib/poll-twilio"'
c1=$(cursor)

# --- Overlap -----------------------------------------------------------------

sms-recv -d "$ib" --poll twilio --page-size 2 >"$tmp/p2"
is 'the same poll again: exit 0' $? 0
is 'nothing doubled' "$(count)" 5
is 'and no events' "$(wc -l <"$tmp/p2" | tr -d ' ')" 0
is 'the cursor stays' "$(cursor)" "$c1"

advance 2m
text +15551230006 'hello 6'
text +15551230001 'hello 7'
sms-recv -d "$ib" --poll twilio --page-size 2 >"$tmp/p3"
is 'a poll that overlaps the last: exit 0' $? 0
is 'the two new texts only' "$(jq -r .message.body "$tmp/p3" | sort |
	tr '\n' ' ')" 'hello 6 hello 7 '
is 'seven in all, each once' "$(count) $(uniq_count)" '7 7'
c2=$(cursor)
check 'the cursor moved forward' '[ "$c2" \> "$c1" ]'

# A WhatsApp message, listed with whatsapp:+E164 addresses: the
# customer's one conversation, its channel kept.
text --whatsapp +15551230001 'hello on whatsapp'
sms-recv -d "$ib" --poll twilio >"$tmp/pw"
is 'a poll with a WhatsApp message: exit 0' $? 0
check 'stored in the number'"'"'s conversation, channel whatsapp' \
	'cat "$ib"/msg/*/* | jq -se "map(select(.body ==
	    \"hello on whatsapp\")) | length == 1 and .[0].channel ==
	    \"whatsapp\" and .[0].from == \"+15551230001\""'

# --- Status changes of what sms-send sent ----------------------------------

sms-send -d "$ib" --to +15551230009 'Your order has shipped' >"$tmp/sent"
sid=$(jq -r .provider_id "$tmp/sent")
check 'sms-send sent it, with no status callback (no public URL)' \
	'[ -n "$sid" ] && ! grep -q StatusCallback "$tmp/A.log"'
check 'the provider has it delivered' \
	'poll "curl -s -u \"$AC:$TOK\" \
	    \"$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages/$sid.json\" |
	    jq -e \".status == \\\"delivered\\\"\" >/dev/null"'
sms-recv -d "$ib" --poll twilio >"$tmp/p4"
is 'a poll: exit 0' $? 0
check 'a message.status event, delivered' \
	'jq -se --arg s "$sid" "map(select(.event == \"message.status\"))
	    | length == 1 and .[0].message.provider_id == \$s and
	    .[0].message.status == \"delivered\"" "$tmp/p4"'
check 'the inbox has it delivered' \
	'inbox-ls -d "$ib" +15551230009 | jq -e --arg s "$sid" \
	    "select(.provider_id == \$s) | .status == \"delivered\""'
sms-recv -d "$ib" --poll twilio >"$tmp/p5"
is 'polled again: old news, no event' "$(wc -l <"$tmp/p5" | tr -d ' ')" 0
is 'the inbound messages are as they were' "$(count) $(uniq_count)" '8 8'

# --- A keyword -----------------------------------------------------------------

# The provider answers STOP itself (an outbound message the inbox never
# sent): the opt-out is recorded, the provider's answer left alone.
text +15551230004 STOP
sms-recv -d "$ib" --poll twilio >"$tmp/p8"
check 'STOP polled: message.received and consent.optout' \
	'jq -se "map(.event) == [\"message.received\", \"consent.optout\"]" \
	    "$tmp/p8"'
check 'the provider'"'"'s own answer is no report parked for later' \
	'[ -z "$(ls -A "$ib/status")" ]'

# --- A poll killed between pages ---------------------------------------------

# Each list request takes two seconds: the poll is killed once its first
# page is stored, while it waits for the second.
kill "$apid"
sim B --webhook "$nobody" --latency 2000 ||
	{ fail 'sms-sim starts'; done_testing; }
advance 5m	# past the cursor, which sim A's clock moved
for i in 1 2 3 4 5; do text "+1555123010$i" "later $i"; done
c3=$(cursor)
before=$(count)
sms-recv -d "$ib" --poll twilio --page-size 2 >"$tmp/p6" 2>"$tmp/p6.err" &
pp=$!
pids="$pids $pp"
check 'the first page is stored' \
	'poll "[ \$(count) -ge $((before + 2)) ]"'
kill -9 "$pp"
wait "$pp" 2>/dev/null
mid=$(count)
# A machine so loaded that the poll ended first proves nothing: said so.
if [ "$mid" -lt $((before + 5)) ]; then
	pass 'killed before its last page'
	is 'the cursor did not move' "$(cursor)" "$c3"
else
	skip 'killed before its last page' 'the poll ended before the kill'
	skip 'the cursor did not move' 'the poll ended before the kill'
fi
sms-recv -d "$ib" --poll twilio --page-size 2 >"$tmp/p7" 2>"$tmp/p7.err"
is 'the next poll: exit 0' $? 0
is 'nothing lost, nothing doubled' "$(count) $(uniq_count)" \
	"$((before + 5)) $((before + 5))"
is 'an event for each text the killed poll had not stored' \
	"$(grep -c message.received "$tmp/p7")" "$((before + 5 - mid))"
check 'the cursor moved forward' '[ "$(cursor)" \> "$c3" ]'

# --- Errors -------------------------------------------------------------

c4=$(cursor)
check_exit 'credentials refused: 77, the cursor stays' 77 \
	'TWILIO_AUTH_TOKEN=wrong sms-recv -d "$ib" --poll twilio'
is 'the cursor stays' "$(cursor)" "$c4"
check_exit 'another poll of the provider running: 75' 75 \
	'flock "$ib/lock/poll-twilio" sms-recv -d "$ib" --poll twilio'
check_exit 'the provider unreachable: 75' 75 \
	'TWILIO_API_URL=http://127.0.0.1:1 sms-recv -d "$ib" --poll twilio'
is 'the cursor stays' "$(cursor)" "$c4"

done_testing
