#!/bin/sh
# sms-send(1): messages go out through the provider, recorded in their
# conversation, never to someone who opted out, never blindly twice.
#
# The provider is sms-sim on 127.0.0.1 (a random free port), killed by
# PID on exit; credentials are in the environment only.
. "$(dirname "$0")/lib.sh"

twilio_env 0500
ib=$tmp/inbox
mkinbox "$ib"

# --- Usage and configuration -----------------------------------------------

check_exit 'a bad flag: usage error' 2 'sms-send --bogus'
check_exit '--to and --thread together: usage error' 2 \
	'sms-send --to +15551230001 --thread +15551230002 hi'
check_exit '--template with --to: usage error' 2 \
	'sms-send --to +15551230001 --template "Hi {name}"'
check_exit 'a bad --rate: usage error' 2 'sms-send --rate fast -n </dev/null'
check_exit 'no account: 78, before anything is queued' 78 \
	'env -u TWILIO_ACCOUNT_SID sms-send -d "$tmp/none" --to +15551230001 hi'
check 'and no inbox was made' '[ ! -e "$tmp/none" ]'
check_exit 'no token: 78' 78 \
	'env -u TWILIO_AUTH_TOKEN sms-send -d "$ib" --to +15551230001 hi'
check_exit 'no sender: 78' 78 \
	'env -u TWILIO_FROM sms-send -d "$ib" --to +15551230001 hi'
check_exit 'another provider: 78' 78 \
	'SMSDESK_PROVIDER=telnyx sms-send -d "$ib" --to +15551230001 hi'

# --- Dry run ----------------------------------------------------------------

sim A || { fail 'sms-sim starts'; done_testing; }
apid=$simpid
check '--dry-run prints encoding and segments' \
	'sms-send -n -d "$ib" --to "+1 555 123 0001" "Gruß 😀" |
	 jq -e ".to == \"+15551230001\" and .encoding == \"UCS-2\" and
	     .segments == 1 and .dry_run"'
check '--dry-run: its status says so, dry_run' \
	'sms-send -n -d "$ib" --to +15551230001 hi |
	 jq -e ".status == \"dry_run\""'
check '--dry-run needs no credentials' \
	'env -u TWILIO_AUTH_TOKEN sms-send -n -d "$ib" --to +15551230001 hi'
is '--dry-run sends nothing' "$(creates A)" 0
check '--dry-run queues nothing' '[ -z "$(ls -A "$ib/msg")" ]'

# --- Success -----------------------------------------------------------------

sms-send -d "$ib" --to +15551230001 'Your order has shipped' >"$tmp/out"
is 'one message: exit 0' $? 0
check 'its record: status from the provider, its sid, segments' \
	'jq -e ".type == \"message\" and .thread == \"+15551230001\" and
	    .direction == \"out\" and .from == \"$US\" and
	    (.provider_id | test(\"^SM[0-9a-f]{32}$\")) and
	    .provider == \"twilio\" and .status == \"queued\" and
	    .segments == 1 and .encoding == \"GSM-7\"" "$tmp/out"'
sid=$(jq -r .provider_id "$tmp/out")
check 'the thread shows it, with the same sid' \
	'inbox-ls -d "$ib" +15551230001 | jq -e --arg s "$sid" \
	    "select(.provider_id == \$s) | .direction == \"out\""'
check 'the request was form-encoded Twilio, To/From/Body' \
	'jq -s -e --arg us "$US" "[.[] | select(.method == \"POST\")][-1].params
	    | .To == \"+15551230001\" and .From == \$us and
	      .Body == \"Your order has shipped\"" "$tmp/A.log"'
check 'the outbox keeps it, with its sid, until a final status' \
	'[ "$(outbox_ids "$ib" | wc -l)" = 1 ]'
check 'the body comes from stdin too, less its final newline' \
	'echo "from stdin" | sms-send -d "$ib" --thread +15551230001 |
	 jq -e ".body == \"from stdin\" and .purpose == \"reply\""'
check 'a public URL becomes the StatusCallback' \
	'SMSDESK_PUBLIC_URL=https://support.example.com/sms \
	 sms-send -d "$ib" --to +15551230001 cb >/dev/null &&
	 jq -s -e "[.[] | select(.method == \"POST\")][-1].params.StatusCallback
	    == \"https://support.example.com/sms/twilio\"" "$tmp/A.log"'
check 'no secret on the record or in the inbox' \
	'! grep -r "$TOK" "$ib" "$tmp/out"'

# --- Refusals before any request ------------------------------------------

n0=$(creates A)
check_exit 'an invalid --to: a usage error, exit 2' 2 \
	'sms-send -d "$ib" --to 12345 hi >"$tmp/out" 2>"$tmp/err"'
check 'said once, on stderr; no record' \
	'[ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
	 grep -q "^sms-send: --to: 12345: " "$tmp/err"'
check_exit 'an invalid number in a record: exit 1' 1 \
	'echo "{\"to\":\"12345\",\"body\":\"hi\"}" |
	 sms-send -d "$ib" >"$tmp/out"'
check 'failed, invalid_recipient' \
	'jq -e ".status == \"failed\" and .error.code == \"invalid_recipient\"" \
	    "$tmp/out"'
check_exit 'a body over 1,600 characters: exit 1' 1 \
	'sms-send -d "$ib" --to +15551230001 "$(printf "%1601s" x)" >"$tmp/out"'
check 'failed, too_long' 'jq -e ".error.code == \"too_long\"" "$tmp/out"'
check 'more segments than --max-segments: a warning, and sent' \
	'sms-send -d "$ib" --max-segments 1 --to +15551230001 "$(printf "%200s" x)" \
	    2>"$tmp/err" | jq -e ".segments == 2 and .provider_id" &&
	 grep -q "2 segments" "$tmp/err"'
is 'only that one reached the provider' "$(creates A)" $((n0 + 1))

# An opt-out from the customer, as sms-recv stores it.
printf '%s\n' 'MessageSid=SMstop1&From=%2B15551230009&To=%2B15550100000&Body=STOP' \
	>"$tmp/stop.txt"
sms-recv -d "$ib" "$tmp/stop.txt" >/dev/null
n0=$(creates A)
check_exit 'to an opted-out number: exit 1' 1 \
	'sms-send -d "$ib" --to +15551230009 "Still there?" >"$tmp/out"'
check 'failed, opted_out' 'jq -e ".error.code == \"opted_out\"" "$tmp/out"'
is 'and no request was made' "$(creates A)" "$n0"

# --- Records and templates ---------------------------------------------------

printf '%s\n' \
	'{"to":"+15551230011","name":"Ann","order":1042}' \
	'{"thread":"+15551230012","name":"Bob"}' \
	'{"to":"+15551230013","name":"Cy","order":"A-7"}' >"$tmp/in"
sms-send -d "$ib" --template 'Hi {name}, order {order} shipped' <"$tmp/in" \
	>"$tmp/out" 2>"$tmp/err"
is 'a record with a missing field: exit 1' $? 1
is 'the others are filled and sent' \
	"$(jq -r 'select(.provider_id) | .body' "$tmp/out")" \
	'Hi Ann, order 1042 shipped
Hi Cy, order A-7 shipped'
check 'the missing field fails that record only' \
	'jq -s -e "map(select(.thread == \"+15551230012\"))[0] |
	    .status == \"failed\" and .error.code == \"template\"" "$tmp/out" &&
	 grep -q "stdin:2: template: no field .order." "$tmp/err"'
check 'inbox-ls records answer with --template' \
	'inbox-ls -d "$ib" | jq -c "select(.thread == \"+15551230011\")" |
	 sms-send -d "$ib" --template "We are on it" | jq -e ".provider_id"'
printf '%s\n' 'MessageSid=SMin15&From=%2B15551230015&To=%2B15550100000&Body=Where+is+it' \
	>"$tmp/in15.txt"
sms-recv -d "$ib" "$tmp/in15.txt" >/dev/null
n0=$(creates A)
check 'an inbound message from inbox-ls is answered to its thread, not to us' \
	'inbox-ls -d "$ib" --json --no-mark +15551230015 |
	 sms-send -d "$ib" --template "We are on it" >"$tmp/out" &&
	 jq -e ".to == \"+15551230015\" and .thread == \"+15551230015\" and
	     .provider_id" "$tmp/out"'
is 'one request, to the customer' \
	"$(creates A) $(jq -r 'select(.method == "POST") | .params.To' \
	    "$tmp/A.log" | tail -n 1)" "$((n0 + 1)) +15551230015"
check_exit 'a bad line: exit 1, the rest sent' 1 \
	'printf "%s\n" "{oops" "{\"to\":\"+15551230014\",\"body\":\"x\"}" |
	 sms-send -d "$ib" | jq -e ".provider_id" && exit 1'

# --- Idempotency keys ----------------------------------------------------------

printf '%s\n' '{"to":"+15551230021","body":"one","key":"k-1"}' \
	'{"to":"+15551230022","body":"two","key":"k-2"}' >"$tmp/in"
sms-send -d "$ib" <"$tmp/in" >/dev/null
n0=$(creates A)
check 'a second run with the same keys exits 0' \
	'sms-send -d "$ib" <"$tmp/in" >"$tmp/out"'
is 'and sends nothing twice' "$(creates A)" "$n0"
check 'it reports the messages as stored' \
	'[ "$(jq -s "map(select(.duplicate and .provider_id)) | length" \
	    "$tmp/out")" = 2 ]'
n0=$(creates A)
check 'an integer key is a key: sent once' \
	'echo "{\"to\":\"+15551230023\",\"body\":\"n\",\"key\":1042}" >"$tmp/in" &&
	 sms-send -d "$ib" <"$tmp/in" | jq -e ".key == \"1042\" and .provider_id" &&
	 sms-send -d "$ib" <"$tmp/in" | jq -e ".duplicate and .key == \"1042\""'
is 'one request for the two runs' "$(creates A)" $((n0 + 1))
check_exit 'a key that is neither a string nor an integer: exit 1' 1 \
	'echo "{\"to\":\"+15551230024\",\"body\":\"n\",\"key\":null}" |
	 sms-send -d "$ib" >"$tmp/out"'
check 'failed, invalid_key, and not sent' \
	'jq -e ".error.code == \"invalid_key\"" "$tmp/out" &&
	 [ "$(creates A)" = $((n0 + 1)) ]'
kill "$apid"

# --- The provider's errors -----------------------------------------------------

sim O --optout +15551230031 || fail 'sms-sim starts'
check_exit '21610 from the provider: exit 1' 1 \
	'sms-send -d "$ib" --to +15551230031 hi >"$tmp/out"'
check 'failed opted_out, with the provider code' \
	'jq -e ".error.code == \"opted_out\" and .error.provider_code == 21610" \
	    "$tmp/out"'
n0=$(creates O)
check_exit 'a later send is refused' 1 \
	'sms-send -d "$ib" --to +15551230031 again >"$tmp/out"'
is 'before any request' "$(creates O)" "$n0"
check_exit 'credentials rejected: 77' 77 \
	'TWILIO_AUTH_TOKEN=wrong sms-send -d "$ib" --to +15551230032 hi >"$tmp/out"'
check 'failed, auth' 'jq -e ".error.code == \"auth\"" "$tmp/out"'
check_exit 'and a batch stops at the first' 77 \
	'printf "{\"to\":\"+1555123003%d\",\"body\":\"x\"}\n" 3 4 5 6 |
	 TWILIO_AUTH_TOKEN=wrong sms-send -d "$ib" >"$tmp/out"'
is 'after one request' "$(jq -s 'map(select(.error.code == "auth")) | length' \
	"$tmp/out")" 1
# Messages stored as queued while the first request was out are settled
# as not sent (failed, not_sent), not left queued for --reconcile.
mkinbox "$tmp/ib-auth"
check_exit 'with --jobs 2 too' 77 \
	'printf "{\"to\":\"+1555123004%d\",\"body\":\"x\"}\n" 0 1 2 3 4 5 6 7 |
	 TWILIO_AUTH_TOKEN=wrong sms-send -d "$tmp/ib-auth" --jobs 2 >"$tmp/out"'
check 'nothing is left in the outbox' '[ -z "$(outbox_ids "$tmp/ib-auth")" ]'
check 'each stored message failed: auth, or not_sent' \
	'jq -s -e "length > 0 and all(.status == \"failed\" and .id and
	    (.error.code == \"auth\" or .error.code == \"not_sent\"))" \
	    "$tmp/out"'
kill "$simpid"

# 503 with Retry-After: retried, then given up as temporary.
sim E --errors 100 --seed 5 || fail 'sms-sim starts'
check_exit 'all 5xx: exit 75' 75 \
	'sms-send -d "$ib" -R 2 --to +15551230041 hi >"$tmp/out"'
check 'nothing is sent' '! jq -e "select(.status == \"sent\")" "$tmp/out"'
check 'the 503s were retried, a 500 is not (it may have been processed)' \
	'jq -s -e "map(.status) | . == [503,503,503] or
	    (.[-1] == 500 and (.[:-1] | all(. == 503)))" "$tmp/E.log"'
kill "$simpid"

# Nothing listening: connection refused, retried, temporary.
check_exit 'connection refused: exit 75' 75 \
	'TWILIO_API_URL=http://127.0.0.1:1 sms-send -d "$ib" -R 1 \
	    --to +15551230042 hi >"$tmp/out"'
check 'failed transient, and settled (never sent)' \
	'jq -e ".status == \"failed\" and .error.code == \"transient\"" \
	    "$tmp/out"'

# --- The unknown state ---------------------------------------------------------

ib2=$tmp/inbox2
mkinbox "$ib2"
sim D --drop 100 || fail 'sms-sim starts'
check_exit 'a dropped connection: exit 75' 75 \
	'sms-send -d "$ib2" -k drop-1 --to +15551230051 "Did this go?" >"$tmp/out"'
check 'status unknown' 'jq -e ".status == \"unknown\"" "$tmp/out"'
check 'it waits in the outbox' '[ -n "$(outbox_ids "$ib2")" ]'
n0=$(creates D)
check_exit 'a second run with the same key' 75 \
	'sms-send -d "$ib2" -k drop-1 --to +15551230051 "Did this go?" >"$tmp/out"'
is 'does not send it again' "$(creates D)" "$n0"
check 'it says it is the one stored' 'jq -e ".duplicate and .status == \"unknown\"" "$tmp/out"'
check '--reconcile settles it with the provider' \
	'sms-send -d "$ib2" --reconcile >"$tmp/out" &&
	 jq -e "(.provider_id | startswith(\"SM\")) and .error == null and
	    .thread == \"+15551230051\"" "$tmp/out"'
check 'the outbox is empty' '[ -z "$(outbox_ids "$ib2")" ]'
is 'still one request for it' "$(creates D)" "$n0"
check_exit 'one more, dropped' 75 \
	'sms-send -d "$ib2" --to +15551230052 "Lost?" >/dev/null'
kill "$simpid"

# A provider slower than --timeout: the request was sent, so unknown.
sim S --latency 3000 || fail 'sms-sim starts'
mkinbox "$tmp/ib-slow"
check_exit 'an answer later than --timeout 1: exit 75' 75 \
	'sms-send -d "$tmp/ib-slow" --timeout 1 --to +15551230053 "Slow?" \
	    >"$tmp/out"'
check 'status unknown, in the outbox' \
	'jq -e ".status == \"unknown\" and .error.code == \"unknown\"" \
	    "$tmp/out" && [ -n "$(outbox_ids "$tmp/ib-slow")" ]'
poll '[ "$(creates S)" != 0 ]'	# sms-sim logs a request once answered
is 'and the provider has it' "$(creates S)" 1
check_exit '--timeout 0: usage error' 2 \
	'sms-send -d "$tmp/ib-slow" --timeout 0 --to +15551230053 x'
kill "$simpid"

# A provider that never saw it (a fresh simulator): young, it waits;
# old enough, it is failed not_sent.
sim N || fail 'sms-sim starts'
check_exit '--reconcile: not at the provider, young: left alone, 75' 75 \
	'sms-send -d "$ib2" --reconcile >"$tmp/out"'
check 'still unknown, in the outbox' \
	'jq -e ".status == \"unknown\"" "$tmp/out" && [ -n "$(outbox_ids "$ib2")" ]'
check '--reconcile: not at the provider, old: failed not_sent' \
	'SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib2" --reconcile >"$tmp/out";
	 [ $? = 1 ] && jq -e ".status == \"failed\" and
	    .error.code == \"not_sent\"" "$tmp/out" &&
	 [ -z "$(outbox_ids "$ib2")" ]'
kill "$simpid"

# --- Rate ----------------------------------------------------------------------

sim R || fail 'sms-sim starts'
i=0
: >"$tmp/in"
while [ "$i" -lt 20 ]; do
	printf '{"to":"+155512301%02d","body":"rate %d"}\n' "$i" "$i" >>"$tmp/in"
	i=$((i + 1))
done
# A rate holds a run back at least as long as it says (a busy machine only
# adds to that), and adds no more than its own wait to what the same sends
# take without a rate, measured just before, on the machine as busy as it
# is now.
t0=$(date +%s.%N)
sed s/rate/free/ "$tmp/in" | sms-send -d "$ib" --jobs 4 >/dev/null
t1=$(date +%s.%N)
free=$(awk "BEGIN { print $t1 - $t0 }")
t0=$(date +%s.%N)
sms-send -d "$ib" --jobs 4 --rate 10/s <"$tmp/in" >"$tmp/out"
rc=$?
t1=$(date +%s.%N)
is '--rate 10/s over 20 messages: all sent' \
	"$rc $(jq -s 'map(select(.provider_id)) | length' "$tmp/out")" '0 20'
check "in about 2 seconds (without the rate: $free s)" \
	"awk 'BEGIN { d = $t1 - $t0; exit !(d > 1.8 && d < 2.6 + $free) }'"
check 'two processes share the rate' \
	't0=$(date +%s.%N);
	 head -n 10 "$tmp/in" | sed s/rate/again/ | sms-send -d "$ib" -r 10/s >/dev/null &
	 p=$!; tail -n 10 "$tmp/in" | sed s/rate/again/ | sms-send -d "$ib" -r 10/s >/dev/null;
	 wait $p; t1=$(date +%s.%N);
	 awk "BEGIN { d = $t1 - $t0; exit !(d > 1.8 && d < 2.6 + $free) }"'
# (The slow rate would hold the second for an hour: a minute is proof.)
check 'a slow rate leaves no wait behind for a faster run' \
	'mkinbox "$tmp/ib-rate" &&
	 sms-send -d "$tmp/ib-rate" -r 1/h --to +15551230031 one >/dev/null &&
	 timeout 60 sms-send -d "$tmp/ib-rate" -r 10/s --to +15551230032 two \
	    >/dev/null'

# A STOP stored while a message waits for its slot stops it (smsdesk(7),
# GUARANTEES: no text after STOP): with
# -r 12/m the second message waits 5 s, and the STOP comes in after the
# first request.
ib8=$tmp/ib-p8
mkinbox "$ib8"
printf '%s\n' '{"to":"+15551230041","body":"first"}' \
	'{"to":"+15551230041","body":"second"}' >"$tmp/in8"
n0=$(creates R)
sms-send -d "$ib8" --jobs 1 -r 12/m <"$tmp/in8" >"$tmp/out" 2>"$tmp/err" &
p8=$!
poll '[ "$(creates R)" -gt "$n0" ]'
printf '%s\n' 'MessageSid=SMstop41&From=%2B15551230041&To=%2B15550100000&Body=STOP' |
	sms-recv -d "$ib8" >/dev/null
wait "$p8"
is 'a STOP while the second waited: exit 1' $? 1
is 'only the first reached the provider' "$(creates R)" $((n0 + 1))
check 'the second failed, opted_out, stored so' \
	'jq -s -e ".[1].status == \"failed\" and
	     .[1].error.code == \"opted_out\"" "$tmp/out" &&
	 inbox-ls -d "$ib8" --json --no-mark +15551230041 |
	 jq -s -e "map(select(.body == \"second\"))[0] |
	     .status == \"failed\" and .error.code == \"opted_out\""'
check 'and the ledger has the one opt-out sms-recv stored' \
	'[ "$(ls "$ib8/consent/+15551230041" | wc -l)" = 1 ]'
kill "$simpid"

sim T --rate 5 || fail 'sms-sim starts'
check '--rate above the provider'"'"'s: 429s retried, all sent' \
	'head -n 10 "$tmp/in" | sed s/rate/throttle/ |
	 sms-send -d "$ib" --jobs 4 -R 10 >"$tmp/out" &&
	 [ "$(jq -s "map(select(.provider_id)) | length" "$tmp/out")" = 10 ]'
check 'there were 429s' 'jq -s -e "any(.[]; .status == 429)" "$tmp/T.log"'
kill "$simpid"

# --- Numbers jansson cannot hold ------------------------------------------------

printf '%s\n' '{"to":"+15551230001","body":"a","n":123456789012345678901234567890}' \
	'{"to":"+15551230001","body":"b"}' |
	sms-send -n >"$tmp/out" 2>"$tmp/err"
is 'a number too large: exit 1, the next line sent' \
	"$? $(jq -r .body "$tmp/out")" '1 b'
check 'said as what it is, with its field' \
	"grep -q '^sms-send: stdin:1: number too large for this program: field \"n\"' '$tmp/err'"

# --- Status words from the API -------------------------------------------------

# What the API says of a message is checked as a webhook's status is: a
# word that is not one is stored as unknown (its id kept), and said.
# sms-sim never answers so; answer (tests/tools) answers what it is told.
answer() {
	serve "$tmp/ans.out" "$tmp/ans.err" "$SMSDESK_TOOLS/answer" "$1" ||
	    return 1
	anspid=$server
}
ib9=$tmp/oddstatus
mkinbox "$ib9"
answer '{"sid":"SModd0000000000000000000000000001","status":"sent; rm -rf"}' ||
    fail 'answer starts'
TWILIO_API_URL=http://127.0.0.1:$port sms-send -d "$ib9" --to +15551230090 \
	odd >"$tmp/out" 2>"$tmp/err"
is 'a create answered with an odd status word: exit 0, stored as unknown' \
	"$? $(jq -r '.status + " " + .provider_id' "$tmp/out") \
$(inbox-ls -d "$ib9" +15551230090 | jq -r .status)" \
	'0 unknown SModd0000000000000000000000000001 unknown'
check 'and said' "grep -qF \"+15551230090: the provider's status 'sent; rm -rf' \
is not a status word; stored as unknown\" '$tmp/err'"
kill "$anspid"
answer '{"sid":"SModd0000000000000000000000000002","status":"queued"}' ||
    fail 'answer starts'
TWILIO_API_URL=http://127.0.0.1:$port sms-send -d "$ib9" --to +15551230091 \
	odd2 >/dev/null 2>&1
kill "$anspid"
answer "{\"sid\":\"SModd0000000000000000000000000002\",\"status\":\"$(printf '%040d' 0)\",\"error_code\":null}" ||
    fail 'answer starts'
TWILIO_API_URL=http://127.0.0.1:$port SMSDESK_RECONCILE_GRACE=0 \
	sms-send -d "$ib9" --reconcile >"$tmp/out" 2>"$tmp/err"
is '--reconcile fetches a status word too long: stored as unknown' \
	"$(jq -r .status "$tmp/out") $(inbox-ls -d "$ib9" +15551230091 |
	jq -r .status)" 'unknown unknown'
check 'and said' "grep -q '+15551230091: the provider.s status .0*\\.\\.\\.. is not a status word' '$tmp/err'"
kill "$anspid"

# --- Output ----------------------------------------------------------------------

check 'a full stdout: 74' \
	'[ ! -w /dev/full ] || { sms-send -n --to +15551230001 hi >/dev/full;
	 [ $? = 74 ]; }'

done_testing
