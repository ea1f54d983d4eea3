#!/bin/sh
# Failover (sms-send(1), Failover): provider = twilio, telnyx. sms-sim
# plays both carriers, each with its own number; sms-recv listens for
# both. A first provider that refuses the connection or answers 503 ->
# the message goes through the second exactly once, from its number, and
# the record says so; an unknown outcome at the first (a dropped answer)
# -> no failover, unknown; an invalid or opted-out recipient -> no
# failover. An outage of the first costs one request a cool-down, with
# two runs at once; after the cool-down the first is tried again. The
# customer's reply to the second number and the second's delivery
# reports land in the same conversation.
#
# Servers bind 127.0.0.1 on random free ports and are killed, by PID, on
# exit. Waits poll with a deadline, never a fixed sleep.
. "$(dirname "$0")/lib.sh"

twilio_env 0545
unset TELNYX_API_KEY TELNYX_FROM TELNYX_API_URL TELNYX_PUBLIC_KEY \
    TELNYX_MESSAGING_PROFILE_ID SMSDESK_SIM_URL SMSDESK_FAILOVER_COOLDOWN
SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
US2=+15550100002		# our Telnyx number
TELNYX_API_KEY=key-0545-secret TELNYX_FROM=$US2
SMSDESK_SIM_TELNYX_SEED=$SEED
TELNYX_PUBLIC_KEY=$("$tools/telnyx-sign" --public "$SEED")
SMSDESK_PROVIDER='twilio, telnyx'
export TELNYX_API_KEY TELNYX_FROM SMSDESK_SIM_TELNYX_SEED TELNYX_PUBLIC_KEY \
    SMSDESK_PROVIDER
ib=$tmp/inbox
A=+15551230001 B=+15551230002 C=+15551230003 D=+15551230004
E=+15551230005 F=+15551230006 G=+15551230007
DEAD=http://127.0.0.1:1	# nothing listens: the connection is refused

# posts LOG: the create requests a sim logged (either carrier's).
posts() {
	[ -f "$1" ] || { echo 0; return; }
	jq -s '[.[] | select(.method == "POST" and (.path | test(
	    "/Messages.json$|^/v2/messages$")))] | length' "$1"
}
# rec NUM: the record of the newest message of NUM's thread (the last
# line of its file).
rec() { tail -q -n 1 "$ib"/msg/"$1"/* 2>/dev/null | jq -sc 'sort_by(.at,
    .id) | last'; }
# calm: the first provider in good standing again (no cool-down).
calm() { rm -f "$ib/rate/@twilio"; }

serve "$tmp/recv.out" "$tmp/recv.err" sms-recv -d "$ib" \
    --provider twilio,telnyx || { fail 'sms-recv starts'; done_testing; }
SMSDESK_PUBLIC_URL=http://127.0.0.1:$port
export SMSDESK_PUBLIC_URL
serve "$tmp/tx.out" "$tmp/tx.err" sms-sim --provider telnyx --number "$US2" \
    --webhook "$SMSDESK_PUBLIC_URL/telnyx" --log "$tmp/tx.log" ||
    { fail 'sms-sim (Telnyx) starts'; done_testing; }
TELNYX_API_URL=http://127.0.0.1:$port TX=http://127.0.0.1:$port
export TELNYX_API_URL
pass 'sms-recv and the Telnyx sim start'

# --- The first refuses the connection: through the second --------------

TWILIO_API_URL=$DEAD
export TWILIO_API_URL
sms-send -d "$ib" --to $A 'Your order shipped.' >"$tmp/a.out" 2>"$tmp/a.err"
is 'connection refused at Twilio: exit 0' "$?" 0
is 'Telnyx got it, once' "$(posts "$tmp/tx.log")" 1
is 'the record: Telnyx, from its number, and the failure at Twilio' \
    "$(jq -c '[.provider, .from, .status, .failover[0].provider,
    .failover[0].from, .failover[0].error.code]' "$tmp/a.out")" \
    "[\"telnyx\",\"$US2\",\"queued\",\"twilio\",\"$US\",\"transient\"]"
is 'stored as it was written out' "$(rec $A | jq -c '[.provider, .from,
    .provider_id, (.failover | length)]')" "$(jq -c '[.provider, .from,
    .provider_id, (.failover | length)]' "$tmp/a.out")"
check 'said on stderr: which failed, and where it went' \
    "grep -q 'twilio failed before taking it (transient); through telnyx' \
    '$tmp/a.err'"
check 'Twilio cools down: rate/@twilio holds a time to come' \
    "[ \"\$(cut -d. -f1 '$ib/rate/@twilio')\" -gt \"\$(date +%s)\" ]"
sms-send -d "$ib" --to $B 'Second one.' >"$tmp/b.out" 2>"$tmp/b.err"
is 'while it cools, the next goes straight to Telnyx, no failover' \
    "$(jq -c '[.provider, .from, has("failover")]' "$tmp/b.out")" \
    "[\"telnyx\",\"$US2\",false]"
is '... and nothing said about it' "$(cat "$tmp/b.err")" ''

# --- 503 at the first: through the second -------------------------------

calm
# --seed 6: the first create of --errors draws the 503 (Retry-After).
sim tw503 --errors 100 --seed 6 || fail 'sms-sim (Twilio, 503) starts'
n=$(posts "$tmp/tx.log")
sms-send -d "$ib" --to $C 'Busy, then the other.' >"$tmp/c.out" 2>/dev/null
is 'Twilio answered 503' "$(jq -s -c '[.[] | select(.method == "POST") |
    .status]' "$tmp/tw503.log")" '[503]'
is 'Telnyx got it, once' "$(($(posts "$tmp/tx.log") - n))" 1
is 'the record: Telnyx, after Twilio transient 20503' \
    "$(jq -c '[.provider, .from, .failover[0].error.code,
    .failover[0].error.provider_code]' "$tmp/c.out")" \
    "[\"telnyx\",\"$US2\",\"transient\",20503]"
kill "$simpid"

# --- An unknown outcome at the first: no failover -----------------------

calm
sim drop --drop 100 || fail 'sms-sim (Twilio, dropping) starts'
n=$(posts "$tmp/tx.log")
sms-send -d "$ib" --to $D 'Maybe sent.' >"$tmp/d.out" 2>/dev/null
is 'a dropped answer: unknown, at Twilio, exit 75' "$? $(jq -c \
    '[.status, .error.code, .provider, .from, has("failover")]' \
    "$tmp/d.out")" "75 [\"unknown\",\"unknown\",null,\"$US\",false]"
is 'Twilio got it once (it was created there)' "$(creates drop)" 1
is 'Telnyx saw nothing' "$(posts "$tmp/tx.log")" "$n"
check 'it stays for --reconcile, in outbox/' \
    "outbox_ids '$ib' | grep -q ."
# Twilio cools down after it: the next goes to Telnyx, without a report.
SMSDESK_PUBLIC_URL= sms-send -d "$ib" --to $G 'No report.' >"$tmp/d2.out" \
    2>/dev/null
is 'an unknown outcome cools Twilio down: the next through Telnyx' \
    "$(jq -c '[.provider, .status, has("failover")]' "$tmp/d2.out")" \
    '["telnyx","queued",false]'
SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib" --reconcile >"$tmp/rec.out" \
    2>"$tmp/rec.err"
is '--reconcile finds it at Twilio, from its number' "$(jq -c --arg d $D \
    'select(.thread == $d) | [.provider, (.provider_id | test("^SM")),
    .status != "unknown"]' "$tmp/rec.out")" '["twilio",true,true]'
# (sent or delivered: how far the sim has taken it depends on the clock)
is '... and asks Telnyx about the one Telnyx took' "$(jq -sc '[.[] |
    select(.provider == "telnyx") | [.thread, (.status | IN("sent",
    "delivered"))]]' "$tmp/rec.out")" "[[\"$G\",true]]"
check '... which it still has' "! grep -q 'no longer has' '$tmp/rec.err'"
kill "$simpid"

# --- A recipient refused at the first: no failover ----------------------

calm
sim refuse --refuse "$E" --refuse "$F:opted-out" ||
    fail 'sms-sim (Twilio, refusing) starts'
n=$(posts "$tmp/tx.log")
sms-send -d "$ib" --to $E 'Bad number.' >"$tmp/e.out" 2>/dev/null
is 'an invalid recipient: failed there, exit 1' "$? $(jq -c '[.status,
    .error.code, has("failover")]' "$tmp/e.out")" \
    '1 ["failed","invalid_recipient",false]'
sms-send -d "$ib" --to $F 'Opted out.' >"$tmp/f.out" 2>/dev/null
is 'an opted-out recipient: failed there' "$(jq -c '[.status,
    .error.code, has("failover")]' "$tmp/f.out")" \
    '["failed","opted_out",false]'
is 'Telnyx saw neither' "$(posts "$tmp/tx.log")" "$n"
check 'Twilio does not cool down for a recipient' \
    "[ ! -s '$ib/rate/@twilio' ]"
kill "$simpid"

# --- Rejected credentials at the first: through the second --------------

calm
sim auth || fail 'sms-sim (Twilio, another token) starts'
printf '{"to":"%s","body":"One."}\n{"to":"%s","body":"Two."}\n' $A $B |
    TWILIO_AUTH_TOKEN=not-the-token sms-send -d "$ib" >"$tmp/h.out" \
    2>/dev/null
is 'Twilio rejects the credentials: both through Telnyx, exit 0' \
    "$? $(jq -sc '[.[] | [.provider, .failover[0].error.code]]' \
    "$tmp/h.out")" '0 [["telnyx","auth"],["telnyx",null]]'
is 'Twilio was asked once' "$(creates auth)" 1
kill "$simpid"

# --- Every provider down: the message ends, having tried each -----------

calm
TWILIO_API_URL=$DEAD TELNYX_API_URL=$DEAD sms-send -d "$ib" --retries 0 \
    --to $A 'Nowhere to go.' >"$tmp/i.out" 2>/dev/null
is 'both refuse the connection: not sent, exit 75, Twilio tried first' \
    "$? $(jq -c '[.status, .error.code, .provider, [.failover[] |
    .provider]]' "$tmp/i.out")" '75 ["failed","transient","telnyx",["twilio"]]'
check 'both cool down' "[ -s '$ib/rate/@twilio' ] && [ -s '$ib/rate/@telnyx' ]"
TWILIO_API_URL=$DEAD sms-send -d "$ib" --to $B 'To the one that ends first.' \
    >"$tmp/j.out" 2>/dev/null
is 'every one cooling: the one that ends first (Twilio), then Telnyx' \
    "$(jq -c '[.provider, [.failover[] | .provider]]' "$tmp/j.out")" \
    '["telnyx",["twilio"]]'
rm -f "$ib/rate/@telnyx"

# --- failover_cooldown 0s: a failover, and no cool-down ------------------

calm
SMSDESK_FAILOVER_COOLDOWN=0s TWILIO_API_URL=$DEAD sms-send -d "$ib" \
    --to $A 'No cool-down.' >"$tmp/k.out" 2>/dev/null
is 'failover_cooldown 0s: through Telnyx, and Twilio is not skipped' \
    "$(jq -r .provider "$tmp/k.out") $(cat "$ib/rate/@twilio" 2>/dev/null)" \
    'telnyx '

# --- An outage of the first: a handful of requests to it ----------------
# Two runs of N messages each at once (1,000 by default; FAILOVER_N).

calm
N=${FAILOVER_N:-1000}
sim out --errors 100 || fail 'sms-sim (Twilio, down) starts'
n=$(posts "$tmp/tx.log")
for k in 1 2; do
	i=0
	while [ $i -lt "$N" ]; do
		printf '{"to":"+15552%d%05d","body":"Outage %d-%d"}\n' \
		    "$k" "$i" "$k" "$i"
		i=$((i + 1))
	done >"$tmp/in$k"
done
SMSDESK_FAILOVER_COOLDOWN=10m sms-send -d "$ib" <"$tmp/in1" \
    >"$tmp/o1" 2>"$tmp/e1" &
p1=$!
SMSDESK_FAILOVER_COOLDOWN=10m sms-send -d "$ib" --jobs 4 <"$tmp/in2" \
    >"$tmp/o2" 2>"$tmp/e2" &
p2=$!
wait $p1
wait $p2
diag "$((2 * N)) messages in two runs: $(creates out) requests to Twilio"
# At most the requests in flight when the first failure came: 1 + 4.
check "at most a handful of requests to the Twilio in its outage" \
    "[ $(creates out) -ge 1 ] && [ $(creates out) -le 5 ]"
sent=$(cat "$tmp/o1" "$tmp/o2" | jq -s '[.[] | select(.provider ==
    "telnyx" and .provider_id != null)] | length')
unk=$(cat "$tmp/o1" "$tmp/o2" | jq -s '[.[] | select(.status ==
    "unknown")] | length')
is 'every other message went through Telnyx (the rest unknown at Twilio)' \
    "$((sent + unk)) $((sent - ($(posts "$tmp/tx.log") - n)))" "$((2 * N)) 0"
check '... and no message unknown but those Twilio answered 500' \
    "[ $unk -eq \$(jq -s '[.[] | select(.method == \"POST\" and
    .status == 500)] | length' '$tmp/out.log') ]"

# --- After the cool-down, the first again -------------------------------

kill "$simpid"
calm
SMSDESK_FAILOVER_COOLDOWN=1s
export SMSDESK_FAILOVER_COOLDOWN
TWILIO_API_URL=$DEAD
sms-send -d "$ib" --to $A 'Down again.' >"$tmp/g.out" 2>/dev/null
is 'a refused connection: through Telnyx' "$(jq -r .provider \
    "$tmp/g.out")" telnyx
sim back || fail 'sms-sim (Twilio, back) starts'
# Each try sends one message; the condition is the one that went
# through Twilio, once its 1 s are over.
check 'after its cool-down, Twilio takes the next message' \
    "poll \"sms-send -d '$ib' --to $B 'Back?' | jq -e '.provider ==
    \\\"twilio\\\" and .from == \\\"$US\\\"' >/dev/null\""
is '... and is in good standing again' "$(cat "$ib/rate/@twilio")" ''
unset SMSDESK_FAILOVER_COOLDOWN

# --- One conversation: replies and reports from the second --------------

check 'the report of the message sent through Telnyx comes to it' \
    "poll \"[ \\\"\\\$(rec $C | jq -r .status)\\\" = delivered ]\""
sms-sim text --url "$TX" $C 'Thanks!' >/dev/null 2>&1
check 'the reply to the Telnyx number lands in the same conversation' \
    "poll \"inbox-ls -d '$ib' --json --no-mark $C |
    jq -e 'select(.direction == \\\"in\\\" and .body == \\\"Thanks!\\\")
    | .to == \\\"$US2\\\"' >/dev/null\""
is 'one conversation for C: our message from Telnyx and the reply' \
    "$(ls "$ib/conv" | grep -c "^$C")" 1
is '... its messages, in and out' "$(inbox-ls -d "$ib" --json --no-mark $C |
    jq -sc '[.[] | [.direction, .from]]')" \
    "[[\"out\",\"$US2\"],[\"in\",\"$C\"]]"

# An automatic answer goes from the number the customer wrote to.
n=$(posts "$tmp/tx.log") m=$(creates back)
sms-sim text --url "$TX" $C 'HELP' >/dev/null 2>&1
check 'HELP to the Telnyx number: its answer is scheduled (no replies in
    Telnyx'"'"'s answer)' "poll \"ls '$ib'/schedule/*/* >/dev/null 2>&1\""
sms-send -d "$ib" --due >"$tmp/help.out" 2>/dev/null
is '--due sends it through Telnyx, from the number written to' \
    "$(jq -c '[.auto, .provider, .from]' "$tmp/help.out")" \
    "[\"help\",\"telnyx\",\"$US2\"]"
is '... Telnyx once, Twilio not at all' \
    "$(($(posts "$tmp/tx.log") - n)) $(($(creates back) - m))" '1 0'

done_testing
