#!/bin/sh
# sms-send(1) never sends where the consent ledger cannot be read: it
# makes no inbox (a missing one is 66, nothing sent, nothing made; an
# inbox is made by sms-recv, smsdesk-inbox(5)), and --thread (a record's
# "thread") answers a conversation the inbox holds, never starts one:
# only --to (a record's "to") does (issue 13, point 4).
. "$(dirname "$0")/lib.sh"

twilio_env 0570
unset XDG_DATA_HOME
ib=$tmp/inbox
O=+15551230041	# opted out in $ib
C=+15551230042	# a customer who wrote in
X=+15559998888	# a stranger

sim || { fail 'sms-sim starts'; done_testing; }

# --- An inbox is made by sms-recv, once, on purpose ---------------------------

check 'sms-recv with nothing to read makes an inbox' \
	'sms-recv -d "$ib" </dev/null && [ -d "$ib/msg" ] && [ -d "$ib/consent" ]'
printf 'MessageSid=SM0570stop&From=%s&To=%s&Body=STOP\n' \
	"$(printf %s "$O" | sed 's/+/%2B/')" "$(printf %s "$US" | sed 's/+/%2B/')" \
	>"$tmp/stop"
printf 'MessageSid=SM0570hi&From=%s&To=%s&Body=Where+is+it\n' \
	"$(printf %s "$C" | sed 's/+/%2B/')" "$(printf %s "$US" | sed 's/+/%2B/')" \
	>"$tmp/hi"
sms-recv -d "$ib" "$tmp/stop" "$tmp/hi" >/dev/null ||
	fail 'sms-recv stores a STOP and a question'

# --- A missing inbox: 66, nothing sent, nothing made -------------------------

check_exit 'a mistyped -d, to a number that opted out: 66' 66 \
	'sms-send -d "$tmp/inbx" --to $O promo >"$tmp/out" 2>"$tmp/err"'
check 'said once, naming the inbox, no record' \
	"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
	 grep -q '^sms-send: $tmp/inbx: no inbox$' '$tmp/err'"
check 'no inbox was made' '[ ! -e "$tmp/inbx" ]'
is 'and no request was made' "$(creates)" 0
check_exit 'records on stdin: 66 too' 66 \
	'printf "{\"to\":\"%s\",\"body\":\"x\"}\n" $C $X |
	 sms-send -d "$tmp/inbx" >"$tmp/out" 2>/dev/null'
check 'none sent, no record' '[ ! -s "$tmp/out" ] && [ "$(creates)" = 0 ]'
check_exit '--reconcile: 66' 66 'sms-send -d "$tmp/inbx" --reconcile'
check_exit 'a directory that is not an inbox: 66' 66 \
	'mkdir -m 700 "$tmp/empty" && sms-send -d "$tmp/empty" --to $C hi'
check 'nothing made in it' '[ -z "$(ls -A "$tmp/empty")" ]'
check_exit 'a cron job without SMSDESK_INBOX, no default inbox: 66' 66 \
	'mkdir -p "$tmp/home" && sms-send --to $O promo 2>"$tmp/err"'
check 'said, naming the default inbox; nothing made under HOME' \
	"grep -q '^sms-send: $tmp/home/.local/share/smsdesk/inbox: no inbox$' \
	    '$tmp/err' && [ -z \"\$(ls -A '$tmp/home')\" ]"
check_exit 'nor under XDG_DATA_HOME' 66 \
	'XDG_DATA_HOME=$tmp/data sms-send --to $O promo 2>/dev/null &&
	 [ ! -e "$tmp/data" ]'
is 'still no request' "$(creates)" 0
check 'a dry run goes on without an inbox, and makes none' \
	'sms-send -d "$tmp/inbx" --dry-run --to $C hi 2>/dev/null |
	 jq -e ".dry_run and .to == \"$C\"" && [ ! -e "$tmp/inbx" ]'

# --- The real inbox: the ledger is read ---------------------------------------

check_exit 'the same message into the real inbox: refused, opted_out, 1' 1 \
	'sms-send -d "$ib" --to $O promo >"$tmp/out" 2>/dev/null'
check 'failed, opted_out' 'jq -e ".error.code == \"opted_out\"" "$tmp/out"'
is 'no request' "$(creates)" 0

# --- --thread answers a conversation; it never starts one ----------------------

check_exit '--thread to a number with no conversation: 1' 1 \
	'sms-send -d "$ib" --thread $X "Your code is 1234" \
	    >"$tmp/out" 2>"$tmp/err"'
check 'failed, no_conversation, said once on stderr' \
	"jq -e '.status == \"failed\" and .error.code == \"no_conversation\" and
	    .to == \"$X\"' '$tmp/out' && [ \$(wc -l <'$tmp/err') = 1 ] &&
	 grep -q '^sms-send: --thread: $X: no conversation to answer' '$tmp/err'"
check 'nothing was made: no conversation, no message, no outbox entry' \
	'[ ! -e "$ib/conv/$X" ] && [ ! -e "$ib/msg/$X" ] &&
	 [ ! -e "$ib/work/$X" ] && [ -z "$(outbox_ids "$ib")" ]'
is 'no request' "$(creates)" 0
check 'the queue is what it was' \
	'[ "$(inbox-ls -d "$ib" --all | jq -r .thread | sort | tr "\n" " ")" = \
	    "$O $C " ]'
check_exit 'a dry run says the same' 1 \
	'sms-send -d "$ib" --dry-run --thread $X hi >"$tmp/out" 2>/dev/null'
check 'no_conversation' 'jq -e ".error.code == \"no_conversation\"" "$tmp/out"'
check_exit '--thread to the customer who wrote: sent, 0' 0 \
	'sms-send -d "$ib" --thread $C "It ships today." >"$tmp/out"'
check 'with the provider'"'"'s id' \
	'jq -e ".thread == \"$C\" and (.provider_id | startswith(\"SM\"))" \
	    "$tmp/out"'
is 'one request, to the customer' "$(creates) $(creates sim $C)" '1 1'
check_exit '--to starts a conversation' 0 \
	'sms-send -d "$ib" --to $X "Your code is 1234" >/dev/null'
check 'which --thread then answers' \
	'[ -e "$ib/conv/$X" ] &&
	 sms-send -d "$ib" --thread $X "Did it work?" >/dev/null'
is 'two requests to the stranger now' "$(creates sim $X)" 2

# --- Records: a "thread" alone answers, a "to" may start -----------------------

Y=+15559998877
Z=+15559998866
printf '%s\n' "{\"thread\":\"$Y\",\"body\":\"an answer to nobody\"}" \
	"{\"to\":\"$Z\",\"body\":\"a notice\"}" \
	"{\"thread\":\"$C\",\"body\":\"an answer\"}" >"$tmp/in"
n0=$(creates)
check_exit 'a record whose thread has no conversation: 1, the rest sent' 1 \
	'sms-send -d "$ib" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"'
is 'refused, sent, sent' \
	"$(jq -sc 'map([.to, .status, .error.code])' "$tmp/out")" \
	"[[\"$Y\",\"failed\",\"no_conversation\"],[\"$Z\",\"queued\",null],[\"$C\",\"queued\",null]]"
check 'said with its line' "grep -q '^sms-send: stdin:1: $Y: no conversation' \
	'$tmp/err'"
is 'two requests, none to it' "$(creates) $(creates sim $Y)" "$((n0 + 2)) 0"
check 'and no conversation made for it' '[ ! -e "$ib/conv/$Y" ]'
W=+15559998855
check 'a record with a thread and a to (a message record) may start one' \
	'echo "{\"thread\":\"$W\",\"to\":\"$W\",\"body\":\"hi\"}" |
	 sms-send -d "$ib" | jq -e ".provider_id" && [ -e "$ib/conv/$W" ]'
check 'inbox-ls records answer their threads' \
	'inbox-ls -d "$ib" --json | jq -c "select(.thread == \"$C\")" |
	 sms-send -d "$ib" --template "Thanks" | jq -e ".provider_id"'

# --- Messages to one customer, one after another in a stream ----------------
# sms-send stores messages in batches under one journal sync; each must
# see the conversation as the one before it left it (a second in the
# same batch would read it before the first had written it).

V=+15559998844
for i in 1 2 3 4 5; do
	echo "{\"to\":\"$V\",\"body\":\"notice $i\",\"key\":\"v-$i\"}"
	echo "{\"to\":\"+1555999770$i\",\"body\":\"other $i\"}"
done >"$tmp/in"
check 'five to one customer among five others, in one run' \
	'sms-send -d "$ib" --jobs 4 <"$tmp/in" >"$tmp/out"'
is 'the conversation counts all five' \
	"$(tail -n 1 "$ib/conv/$V" | jq -c '[.messages, .last_body]')" \
	'[5,"notice 5"]'
is 'five messages stored, each once' \
	"$(ls "$ib/msg/$V" | wc -l | tr -d ' ')" 5
is 'five requests to it' "$(creates sim $V)" 5

done_testing
