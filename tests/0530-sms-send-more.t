#!/bin/sh
# sms-send(1), more: the price of a dry run, --reconcile by the provider's
# id, permanent refusals such as 21211 never retried, and a refusal to a
# customer who opted out kept in their conversation.
#
# The provider is sms-sim on 127.0.0.1 (a random free port), killed by
# PID on exit; credentials are in the environment only.
. "$(dirname "$0")/lib.sh"

twilio_env 0530
unset SMSDESK_RECONCILE_GRACE SMSDESK_PRICE SMSDESK_PRICE_UNIT
ib=$tmp/inbox
mkinbox "$ib"

# requests NAME KIND: how many requests of KIND (create, fetch, list)
# sms-sim NAME received.
requests() {
	[ -f "$tmp/$1.log" ] || { echo 0; return; }
	jq -s --arg k "$2" '[.[] | select(
	    ($k == "create" and .method == "POST" and
		(.path | endswith("/Messages.json"))) or
	    ($k == "list" and .method == "GET" and
		(.path | endswith("/Messages.json"))) or
	    ($k == "fetch" and .method == "GET" and
		(.path | test("/Messages/[A-Z]{2}[0-9a-f]{32}[.]json$"))))]
	    | length' "$tmp/$1.log"
}

# outbox DIR: the ids in the outbox of inbox DIR, one a line.
outbox() {
	outbox_ids "$1"
}

# --- The price of a dry run ------------------------------------------------------

check '--dry-run with no price configured: price null, said so' \
	'sms-send -n -d "$ib" --to +15551230001 hi 2>"$tmp/err" |
	 jq -e ".price == null and .price_unit == \"USD\"" &&
	 grep -q "no price for 1" "$tmp/err"'

mkdir -p "$tmp/config/smsdesk"
cfg=$tmp/config/smsdesk/config
printf '%s\n' 'price = 0.0079' 'price.gb = 0.04' 'price.1204 = 0.0100' >"$cfg"
chmod 600 "$cfg"
check '--dry-run: the price per message, from the configuration' \
	'sms-send -n -d "$ib" --to +15551230001 hi |
	 jq -e ".price == \"0.0079\" and .price_unit == \"USD\" and
	    .segments == 1"'
check 'a price per segment: two segments cost twice' \
	'sms-send -n -d "$ib" --to +15551230001 "$(printf "%200s" x)" |
	 jq -e ".segments == 2 and .price == \"0.0158\""'
check 'a country'"'"'s price (price.gb)' \
	'sms-send -n -d "$ib" --to "+44 7700 900123" hi |
	 jq -e ".price == \"0.04\""'
check 'the longest prefix wins (price.1204 over price), its decimals kept' \
	'sms-send -n -d "$ib" --to +12045550123 hi |
	 jq -e ".price == \"0.0100\""'
check 'two segments of it: 0.0200, as many places as it was written with' \
	'sms-send -n -d "$ib" --to +12045550123 "$(printf "%200s" x)" |
	 jq -e ".segments == 2 and .price == \"0.0200\""'
check 'a price written with fewer than two places has two' \
	'SMSDESK_PRICE=1 sms-send -n -d "$ib" --to +15551230001 hi |
	 jq -e ".price == \"1.00\""'
printf '%s\n' '{"to":"+15551230001","body":"one"}' \
	'{"to":"+447700900123","body":"two"}' \
	"{\"to\":\"+15551230002\",\"body\":\"$(printf '%200s' x)\"}" \
	>"$tmp/batch"
sms-send -n -d "$ib" <"$tmp/batch" >"$tmp/out" 2>"$tmp/err"
is 'a batch: exit 0' $? 0
is 'the prices add up with jq' \
	"$(jq -s -r 'map(.price | tonumber * 10000) | add | round' "$tmp/out")" \
	'637'
check 'and the total is on stderr' \
	'grep -qx "sms-send: dry run: 3 messages, 4 segments, 0.0637 USD" \
	    "$tmp/err"'
check 'the total has the most places of the prices it adds' \
	'sms-send -n -d "$ib" --to +12045550123 hi 2>&1 >/dev/null |
	 grep -qx "sms-send: dry run: 1 message, 1 segment, 0.0100 USD" &&
	 printf "%s\n" "{\"to\":\"+447700900123\",\"body\":\"a\"}" \
	    "{\"to\":\"+12045550123\",\"body\":\"b\"}" |
	 sms-send -n -d "$ib" 2>&1 >/dev/null |
	 grep -qx "sms-send: dry run: 2 messages, 2 segments, 0.0500 USD"'
check 'SMSDESK_PRICE beats the file, SMSDESK_PRICE_UNIT names the currency' \
	'SMSDESK_PRICE=0.05 SMSDESK_PRICE_UNIT=EUR \
	 sms-send -n -d "$ib" --to +15551230001 hi |
	 jq -e ".price == \"0.05\" and .price_unit == \"EUR\""'
printf '%s\n' 'price.gb = 0.04' >"$cfg"
sms-send -n -d "$ib" <"$tmp/batch" >"$tmp/out" 2>"$tmp/err"
is 'no default: only the GB one is priced, exit 0' \
	"$? $(jq -s -c 'map(.price)' "$tmp/out")" '0 [null,"0.04",null]'
check 'the summary says which are not priced' \
	'grep -qx "sms-send: dry run: 3 messages, 4 segments, 0.04 USD for the 1 priced; no price for 2 (set price or price.COUNTRY in the configuration)" "$tmp/err"'
printf '%s\n' 'price.us = 0.0079' 'price.ca = 0.0075' >"$cfg"
check_exit 'two prices for +1 (price.us, price.ca): 78' 78 \
	'sms-send -n -d "$ib" --to +15551230001 hi 2>"$tmp/err"'
check 'named' 'grep -q "price.us and price.ca: two prices for +1" "$tmp/err"'
printf '%s\n' 'price = cheap' >"$cfg"
check_exit 'a price that is not a number: 78' 78 \
	'sms-send -n -d "$ib" --to +15551230001 hi'
printf '%s\n' 'price.xx = 0.01' >"$cfg"
check_exit 'a region that is not one: 78' 78 \
	'sms-send -n -d "$ib" --to +15551230001 hi'
rm -f "$cfg"

# --- sms-sim: refusals and failing reads ---------------------------------------

check_exit 'sms-sim --refuse with a bad code: usage error' 2 \
	'sms-sim --refuse +15551230001:12'
check_exit 'sms-sim --read-errors over 100: usage error' 2 \
	'sms-sim --read-errors 101'

sim X --refuse +15553000001 --refuse +15553000002:21408 \
	--refuse +15553000003:29999 || { fail 'sms-sim starts'; done_testing; }
api=$TWILIO_API_URL/2010-04-01/Accounts/$AC
check 'a refused number gets 400, code 21211, in Twilio'"'"'s words' \
	'curl -s -u "$AC:$TOK" -d To=%2B15553000001 -d From=%2B15550100000 \
	    -d Body=hi "$api/Messages.json" |
	 jq -e ".status == 400 and .code == 21211 and
	    (.message | test(\"not a valid phone number\")) and
	    .more_info == \"https://www.twilio.com/docs/errors/21211\""'
check 'another code, its own words' \
	'curl -s -u "$AC:$TOK" -d To=%2B15553000002 -d From=%2B15550100000 \
	    -d Body=hi "$api/Messages.json" |
	 jq -e ".code == 21408 and (.message | test(\"region\"))"'
check 'any code' \
	'curl -s -u "$AC:$TOK" -d To=%2B15553000003 -d From=%2B15550100000 \
	    -d Body=hi "$api/Messages.json" | jq -e ".code == 29999"'
check 'and nothing was created' \
	'curl -s -u "$AC:$TOK" "$api/Messages.json" |
	 jq -e ".messages == []"'
kill "$simpid"

sim Y --read-errors 100 || fail 'sms-sim starts'
api=$TWILIO_API_URL/2010-04-01/Accounts/$AC
check '--read-errors: a create still works' \
	'curl -s -u "$AC:$TOK" -d To=%2B15553000001 -d From=%2B15550100000 \
	    -d Body=hi "$api/Messages.json" >"$tmp/y.json" &&
	 jq -e ".status == \"queued\"" "$tmp/y.json"'
check '--read-errors: a fetch gets 500 or 503' \
	'sid=$(jq -r .sid "$tmp/y.json");
	 code=$(curl -s -o /dev/null -w "%{http_code}" -u "$AC:$TOK" \
	    "$api/Messages/$sid.json"); [ "$code" = 500 ] || [ "$code" = 503 ]'
check '--read-errors: so does a list' \
	'code=$(curl -s -o /dev/null -w "%{http_code}" -u "$AC:$TOK" \
	    "$api/Messages.json"); [ "$code" = 500 ] || [ "$code" = 503 ]'
badapi=$TWILIO_API_URL
kill "$simpid"

# --- Permanent refusals by the provider: failed, kept, not retried ------------

sim P --refuse +15553000011 --refuse +15553000012:21408 ||
	fail 'sms-sim starts'
check_exit '21211 from the provider: exit 1' 1 \
	'sms-send -d "$ib" -R 5 --to +15553000011 hi >"$tmp/out" 2>"$tmp/err"'
check 'failed, invalid_recipient, with the provider code and message' \
	'jq -e ".status == \"failed\" and .error.code == \"invalid_recipient\"
	    and .error.provider_code == 21211 and
	    (.error.message | test(\"not a valid phone number\")) and
	    (.provider_id | not)" "$tmp/out"'
is 'one request, never retried' "$(requests P create)" 1
check 'kept in the conversation as failed, with its error' \
	'inbox-ls -d "$ib" +15553000011 |
	 jq -e "select(.direction == \"out\") | .status == \"failed\" and
	    .error.provider_code == 21211"'
check 'not in the outbox: there is nothing to reconcile' \
	'[ -z "$(outbox "$ib")" ]'
check 'said on stderr' 'grep -q "invalid_recipient" "$tmp/err"'
check_exit 'a second run asks once more (a refusal is not a send)' 1 \
	'sms-send -d "$ib" -R 5 --to +15553000011 hi >/dev/null 2>&1'
is 'two requests in all' "$(requests P create)" 2
check_exit '21408: exit 1' 1 \
	'sms-send -d "$ib" -R 5 --to +15553000012 hi >"$tmp/out" 2>/dev/null'
check 'failed, permanent, code kept' \
	'jq -e ".status == \"failed\" and .error.code == \"permanent\" and
	    .error.provider_code == 21408" "$tmp/out"'
is 'one request for it' "$(requests P create)" 3
check_exit 'in a batch, the others still go: exit 1' 1 \
	'printf "{\"to\":\"%s\",\"body\":\"b\"}\n" +15553000011 +15553000013 |
	 sms-send -d "$ib" -R 5 >"$tmp/out" 2>/dev/null'
check 'the good one was sent' \
	'jq -s -e "map(select(.provider_id)) | length == 1 and
	    .[0].thread == \"+15553000013\"" "$tmp/out"'
kill "$simpid"

# --- --reconcile: by id when the provider gave one ---------------------------

ib2=$tmp/inbox2
mkinbox "$ib2"
sim A || fail 'sms-sim starts'
sms-send -d "$ib2" --to +15553000021 'By id' >"$tmp/out"
sid=$(jq -r .provider_id "$tmp/out")
check 'a message taken by the provider' \
	'jq -e ".status == \"queued\" and (.provider_id | startswith(\"SM\"))" \
	    "$tmp/out"'
check 'stays in the outbox until its final status (no callback here)' \
	'[ "$(outbox "$ib2" | wc -l)" = 1 ]'
check_exit '--reconcile leaves a young one alone: exit 0' 0 \
	'sms-send -d "$ib2" --reconcile >"$tmp/out"'
check 'printing nothing' '[ ! -s "$tmp/out" ]'
is 'and asking nothing' "$(requests A fetch) $(requests A list)" '0 0'
sleep 0.2
SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out"
is 'old enough: --reconcile exits 0' $? 0
is 'it fetched it by its id, and listed nothing' \
	"$(requests A fetch) $(requests A list)" '1 0'
check 'the fetch named the sid' \
	'jq -s -e --arg s "$sid" "map(select(.method == \"GET\"))[0].path |
	    endswith(\"/Messages/\" + \$s + \".json\")" "$tmp/A.log"'
check 'the record: delivered, same id' \
	'jq -e --arg s "$sid" ".status == \"delivered\" and
	    .provider_id == \$s and .thread == \"+15553000021\"" "$tmp/out"'
check 'the thread says delivered' \
	'inbox-ls -d "$ib2" +15553000021 | jq -e "select(.direction == \"out\")
	    | .status == \"delivered\""'
check 'the outbox is empty' '[ -z "$(outbox "$ib2")" ]'
is 'nothing was sent again' "$(requests A create)" 1

# A delivery report settles it too, with no request.
sms-send -d "$ib2" --to +15553000026 'Reported' >"$tmp/out"
sid=$(jq -r .provider_id "$tmp/out")
check 'sent: in the outbox' '[ "$(outbox "$ib2" | wc -l)" = 1 ]'
printf '%s\n' "MessageSid=$sid&MessageStatus=sent" >"$tmp/dlr"
sms-recv -d "$ib2" <"$tmp/dlr" >/dev/null 2>&1
check 'a report of "sent" is not final: still there' \
	'[ "$(outbox "$ib2" | wc -l)" = 1 ]'
printf '%s\n' "MessageSid=$sid&MessageStatus=delivered" >"$tmp/dlr"
sms-recv -d "$ib2" <"$tmp/dlr" >/dev/null 2>&1
check 'a report of "delivered" takes it out of the outbox' \
	'[ -z "$(outbox "$ib2")" ]'
n0=$(requests A fetch)
check_exit 'and --reconcile has nothing to ask: 0' 0 \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out"'
is 'no request' "$(requests A fetch) $(requests A list)" "$n0 0"
kill "$simpid"

# Undelivered, as the provider says when asked.
sim F --fail +15553000022:undelivered:30006 || fail 'sms-sim starts'
sms-send -d "$ib2" --to +15553000022 'To a landline' >/dev/null
sleep 0.2
check_exit '--reconcile: the provider says undelivered: exit 1' 1 \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out"'
check 'undelivered, with the provider'"'"'s error code' \
	'jq -e ".status == \"undelivered\" and .error.provider_code == 30006 and
	    .error.code == \"invalid_recipient\"" "$tmp/out"'
check 'the outbox is empty' '[ -z "$(outbox "$ib2")" ]'
kill "$simpid"

# A fetch that fails for a while: left as it is, 75; then settled.
sim B || fail 'sms-sim starts'
good=$TWILIO_API_URL
sms-send -d "$ib2" --to +15553000023 'Wait for it' >"$tmp/out"
sleep 0.2
check_exit '--reconcile against a provider whose reads fail: 75' 75 \
	'TWILIO_API_URL=$badapi SMSDESK_RECONCILE_GRACE=0 \
	 sms-send -d "$ib2" --reconcile >"$tmp/out" 2>"$tmp/err"'
check 'not settled: still queued, still in the outbox' \
	'jq -e ".status == \"queued\" and .provider_id" "$tmp/out" &&
	 [ "$(outbox "$ib2" | wc -l)" = 1 ]'
check 'said on stderr' 'grep -q "cannot fetch" "$tmp/err"'
pids="$pids"
sim Y2 --read-errors 100 || fail 'sms-sim starts'
check_exit 'the same against sms-sim --read-errors 100: 75' 75 \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out" 2>/dev/null'
is 'one fetch, answered 5xx, no list, no create' \
	"$(requests Y2 fetch) $(requests Y2 list) $(requests Y2 create) $(jq -s 'map(.status >= 500) | all' "$tmp/Y2.log")" \
	'1 0 0 true'
kill "$simpid"
check_exit 'the provider answers again: settled, 0' 0 \
	'TWILIO_API_URL=$good SMSDESK_RECONCILE_GRACE=0 \
	 sms-send -d "$ib2" --reconcile >"$tmp/out"'
check 'delivered, and out of the outbox' \
	'jq -e ".status == \"delivered\"" "$tmp/out" &&
	 [ -z "$(outbox "$ib2")" ]'

# A provider that does not know the id (404, 20404): it was taken, so it
# is not "not sent"; it is reported and leaves the outbox.
TWILIO_API_URL=$good sms-send -d "$ib2" --to +15553000024 'Gone' >"$tmp/out"
sid=$(jq -r .provider_id "$tmp/out")
sim G || fail 'sms-sim starts'
sleep 0.2
check_exit '--reconcile: the provider has no such message: exit 1' 1 \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out" \
	    2>"$tmp/err"'
check 'the record keeps its status and id, with error not_found, 20404' \
	'jq -e --arg s "$sid" ".status == \"queued\" and .provider_id == \$s and
	    .error.code == \"not_found\" and .error.provider_code == 20404" \
	    "$tmp/out"'
is 'one fetch, no list, nothing sent again' \
	"$(requests G fetch) $(requests G list) $(requests G create)" '1 0 0'
check 'the fetch was answered 404 with code 20404' \
	'jq -s -e "map(select(.method == \"GET\"))[0] |
	    .status == 404 and .code == 20404" "$tmp/G.log"'
check 'out of the outbox' '[ -z "$(outbox "$ib2")" ]'
check 'said on stderr' 'grep -q "no longer has it" "$tmp/err"'
check_exit 'a second --reconcile has nothing to do: 0' 0 \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out"'
kill "$simpid"

# No id known (the answer was lost): listed by recipient and time, never
# fetched.
sim D --drop 100 || fail 'sms-sim starts'
check_exit 'a dropped answer: unknown, 75' 75 \
	'sms-send -d "$ib2" --to +15553000025 "Lost answer" >"$tmp/out" 2>/dev/null'
check 'no provider id' 'jq -e ".status == \"unknown\" and (.provider_id | not)" "$tmp/out"'
check '--reconcile finds it by listing' \
	'sms-send -d "$ib2" --reconcile >"$tmp/out" &&
	 jq -e "(.provider_id | startswith(\"SM\")) and
	    .thread == \"+15553000025\"" "$tmp/out"'
is 'one list, no fetch' "$(requests D list) $(requests D fetch)" '1 0'
kill "$simpid"

# --- A refusal to a customer who opted out, kept in the thread -----------------

ib3=$tmp/inbox3
mkinbox "$ib3"
sim O || fail 'sms-sim starts'
sms-send -d "$ib3" --to +15553000031 'Hello' >/dev/null
printf '%s\n' 'MessageSid=SMstop31&From=%2B15553000031&To=%2B15550100000&Body=STOP' \
	>"$tmp/stop.txt"
sms-recv -d "$ib3" "$tmp/stop.txt" >/dev/null
n0=$(requests O create)
check_exit 'to an opted-out number: exit 1' 1 \
	'SMSDESK_AGENT=ann sms-send -d "$ib3" --thread +15553000031 "Still there?" \
	    >"$tmp/out" 2>"$tmp/err"'
is 'no request was made' "$(requests O create)" "$n0"
check 'the record: failed, opted_out, stored (it has an id)' \
	'jq -e ".status == \"failed\" and .error.code == \"opted_out\" and
	    (.id | length > 0) and .agent == \"ann\"" "$tmp/out"'
check 'the thread shows the attempt and why' \
	'inbox-ls -d "$ib3" +15553000031 | jq -s -e "map(select(.direction ==
	    \"out\"))[-1] | .body == \"Still there?\" and
	    .status == \"failed\" and .error.code == \"opted_out\""'
check 'it is on disk, in the thread'"'"'s directory' \
	'grep -l "Still there?" "$ib3"/msg/+15553000031/* >/dev/null'
check 'not in the outbox' \
	'! outbox "$ib3" | grep -qx "$(jq -r .id "$tmp/out")"'
check 'and it is no answer: no first response' \
	'inbox-ls -d "$ib3" --all --json | jq -s -e "map(select(.thread ==
	    \"+15553000031\")) | length == 1 and
	    .[0].first_response_at == null and .[0].last_out_at == null"'
check_exit 'with a key, a second run' 1 \
	'sms-send -d "$ib3" -k once --to +15553000031 "Keyed" >/dev/null 2>&1 ;
	 sms-send -d "$ib3" -k once --to +15553000031 "Keyed" >"$tmp/out" 2>/dev/null'
check 'finds it stored, once' \
	'jq -e ".duplicate and .status == \"failed\"" "$tmp/out" &&
	 [ "$(grep -l "Keyed" "$ib3"/msg/+15553000031/* | wc -l)" = 1 ]'
n1=$(ls "$ib3/msg/+15553000031" | wc -l)
check_exit 'a dry run to them: refused, exit 1' 1 \
	'sms-send -n -d "$ib3" --to +15553000031 "Dry" >"$tmp/out" 2>/dev/null'
is 'and stores nothing' "$(ls "$ib3/msg/+15553000031" | wc -l)" "$n1"
is 'still no request' "$(requests O create)" "$n0"
kill "$simpid"

done_testing
