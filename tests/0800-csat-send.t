#!/bin/sh
# csat-survey(1) send and collect: one survey a resolution, through the
# sending path, never to a customer who opted out, is blocked, was
# surveyed lately, or came back; held by quiet hours and sent by a later
# run; scores already stored taken once; one thank-you an answer.
#
# The provider is sms-sim on 127.0.0.1, which logs every request (creates
# counts them). The clock is pinned with SMSDESK_NOW; the numbers are in
# Chicago (UTC-6), so 16:00Z is 10:00 there and 04:00Z is 22:00.
. "$(dirname "$0")/lib.sh"

twilio_env 0800
ib=$tmp/inbox
mkinbox "$ib"
n=0

# text NUMBER AT BODY: the customer NUMBER texts BODY at AT.
text() {
	n=$((n + 1))
	jq -cn --arg f "$1" --arg b "$3" --arg id "SMin$n" '{from: $f,
	    to: "+15550100000", body: $b, provider: "twilio",
	    provider_id: $id}' |
	    SMSDESK_NOW=$2 sms-recv -d "${dir:-$ib}" >/dev/null 2>&1
}
# mark AT ARG...: inbox-mark at AT.
mark() {
	m_at=$1
	shift
	SMSDESK_NOW=$m_at inbox-mark -d "${dir:-$ib}" "$@" >/dev/null
}
# survey AT ARG...: csat-survey send at AT, its records in $tmp/out.
survey() {
	s_at=$1
	shift
	SMSDESK_NOW=$s_at csat-survey send -d "${dir:-$ib}" "$@" >"$tmp/out"
}
# collect AT ARG...: csat-survey collect at AT, its records in $tmp/out.
collect() {
	c_at=$1
	shift
	SMSDESK_NOW=$c_at csat-survey collect -d "${dir:-$ib}" "$@" \
	    >"$tmp/out"
}
# reason NUMBER: the reason of NUMBER's "skipped" record in $tmp/out.
reason() {
	jq -r --arg t "$1" 'select(.thread == $t and .type == "skipped") |
	    .reason' "$tmp/out"
}
# rec NUMBER FILTER: jq -e FILTER of NUMBER's last record in $tmp/out.
rec() {
	jq -e -r -n --arg t "$1" "[inputs | select(.thread == \$t)] | last |
	    $2" "$tmp/out"
}
# conv NUMBER FILTER: jq FILTER of NUMBER's conversation.
conv() {
	tail -n 1 "${dir:-$ib}/conv/$1" | jq -r "$2"
}

A=+13125550101 B=+13125550102 C=+13125550103 D=+13125550104
E=+13125550105 F=+13125550106 H=+13125550107 I=+13125550109
J=+13125550110 K=+13125550111 L=+13125550112

# --- Usage and configuration ---------------------------------------------

for bad in '--scale 7' '--cooldown soon' '--max-age 0' '--window -1h' \
    '--quiet-hours=later' '--question ""' 'extra' '--bogus'; do
	check_exit "send $bad: usage error" 2 \
	    "csat-survey send -d \"\$ib\" $bad 2>\"\$tmp/err\""
done
check 'said as csat-survey: OPTION: what' \
	'csat-survey send -d "$ib" --scale 7 2>&1 |
	 grep -qx "csat-survey: --scale: '"'"'7'"'"' is not 1-5, 0-10 or 1-3"'
check_exit 'collect --window 0: usage error' 2 \
	'csat-survey collect -d "$ib" --window 0 2>/dev/null'
check_exit 'collect --thank "": usage error' 2 \
	'csat-survey collect -d "$ib" --thank "" 2>/dev/null'
check_exit 'no such subcommand: usage error' 2 'csat-survey ask 2>/dev/null'
mkdir -p "$tmp/config/smsdesk"
printf 'csat_scale = 1-10\n' >"$tmp/config/smsdesk/config"
chmod 600 "$tmp/config/smsdesk/config"
check_exit 'csat_scale that is no scale: 78' 78 \
	'csat-survey send -d "$ib" 2>/dev/null'
printf 'csat_cooldown = a week\n' >"$tmp/config/smsdesk/config"
check_exit 'csat_cooldown that is no duration: 78' 78 \
	'csat-survey send -d "$ib" 2>/dev/null'
rm "$tmp/config/smsdesk/config"
check_exit 'no inbox: 66' 66 'csat-survey send -d "$tmp/none" 2>/dev/null'
check_exit 'collect, no inbox: 66' 66 \
	'csat-survey collect -d "$tmp/none" 2>/dev/null'

sim || { fail 'sms-sim starts'; done_testing; }

# --- The conversations ---------------------------------------------------

# F was surveyed on 11-28, and is back on 12-01: in its cooldown.
text $F 2026-11-28T15:00:00Z 'my order?'
mark 2026-11-28T15:30:00Z --resolve $F
check_exit 'a survey on 11-28' 0 'survey 2026-11-28T16:00:00Z'
is 'sent: one request' "$(creates)" 1

# A: answered and resolved by alice.
text $A 2026-12-01T15:00:00Z 'where is my parcel?'
mark 2026-12-01T15:05:00Z --assign alice $A
mark 2026-12-01T20:00:00Z --resolve $A
# B resolved, then opted out; C resolved, then blocked.
text $B 2026-12-01T15:00:00Z 'hello'
mark 2026-12-01T16:00:00Z --resolve $B
text $B 2026-12-01T17:00:00Z 'STOP'
text $C 2026-12-01T15:00:00Z 'hello'
mark 2026-12-01T16:00:00Z --resolve $C
mark 2026-12-01T17:00:00Z --block $C
# D resolved, and wrote again.
text $D 2026-12-01T15:00:00Z 'hello'
mark 2026-12-01T16:00:00Z --resolve $D
text $D 2026-12-01T17:00:00Z 'one more thing'
# E resolved 28 hours before the run.
text $E 2026-12-01T07:00:00Z 'hello'
mark 2026-12-01T08:00:00Z --resolve $E
text $F 2026-12-01T15:00:00Z 'and now?'
mark 2026-12-01T16:00:00Z --resolve $F
# H never wrote: a notice made its conversation, resolved.
SMSDESK_NOW=2026-12-01T16:00:00Z sms-send -d "$ib" --to $H 'Shipped' \
    >/dev/null
# I and J: surveyed with A, for collect.
for t in $I $J; do
	text $t 2026-12-01T15:00:00Z 'hello'
	mark 2026-12-01T16:00:00Z --resolve $t
done
# K resolved twice: its last resolution is the one surveyed. L's second
# resolution is missing from the history (a line lost): the one there is
# not its last.
text $K 2026-12-01T10:00:00Z 'hello'
mark 2026-12-01T11:00:00Z --resolve $K
text $K 2026-12-01T12:00:00Z 'one more thing'
mark 2026-12-01T13:00:00Z --resolve $K
mkconv "$ib" $L '{"status": "resolved", "opened_at": "2026-12-01T09:00:00Z",
    "resolved_at": "2026-12-01T15:00:00Z"}'
printf '%s\n' '{"event":"resolved","at":"2026-12-01T14:00:00Z","thread":"'$L'","opened_at":"2026-12-01T09:00:00Z","agent":null}' \
    >>"$ib/history/2026-12-01"
# A sender's thread (a short code) wrote, and was resolved.
jq -cn '{from: "ACME", body: "Your code is 1234", provider: "twilio",
    provider_id: "SMacme"}' |
    SMSDESK_NOW=2026-12-01T15:00:00Z sms-recv -d "$ib" >/dev/null 2>&1
mark 2026-12-01T16:00:00Z --resolve @ACME
# A line torn by a crash (the next writer starts a new line after it).
printf '{"event":"resolved","at":"2026-12-01T1\n' >>"$ib/history/2026-12-01"
NOW=2026-12-02T12:00:00Z
before=$(creates)

# --- Dry run -------------------------------------------------------------

check_exit '--dry-run: exit 0' 0 'survey $NOW --dry-run'
check 'it prints the surveys it would send, priced' \
	'[ "$(jq -r "select(.status == \"dry_run\") | .thread" "$tmp/out" |
	   sort | tr "\n" " ")" = "$A $I $J $K " ] &&
	 rec $A ".dry_run and .price_unit"'
is '--dry-run sends nothing' "$(creates)" "$before"
is 'and stores nothing' "$(conv $A '.surveyed_at // "none"')" none

# --- Sent, and skipped ---------------------------------------------------

check_exit 'send: exit 0' 0 'survey $NOW'
is 'four requests, for A, I, J and K' "$(creates)" $((before + 4))
check 'A gets the question, as a notification, keyed by its resolution' \
	'rec $A ".type == \"message\" and .status == \"queued\" and
	    (.provider_id | startswith(\"SM\")) and
	    .purpose == \"notification\" and
	    .key == \"csat-$A-2026-12-01T20:00:00Z\" and
	    .body == \"How did we do? Reply 1 (poor) to 5 (great).\""'
check 'its survey: the scale, the window, alice (owner at resolution)' \
	'rec $A ".survey == {scale: \"1-5\", until: \"2026-12-05T12:00:00Z\",
	    agent: \"alice\", resolved_at: \"2026-12-01T20:00:00Z\"}"'
check 'the survey is open on the conversation' \
	'[ "$(conv $A "[.survey.scale, .survey.agent, .surveyed_at] | @tsv")" = \
	   "$(printf "1-5\talice\t%s" $NOW)" ]'
is 'opted out: skipped, and nothing stored' \
	"$(reason $B) $(ls "$ib/msg/$B" | wc -l)" 'opted_out 2'
is 'blocked: skipped' "$(reason $C)" blocked
is 'wrote again: skipped as reopened' "$(reason $D)" reopened
is 'resolved before --max-age: too_old' "$(reason $E)" too_old
is 'surveyed on 11-28: in its cooldown' "$(reason $F)" cooldown
is 'never work: no_episode' "$(reason $H)" no_episode
is 'a sender'"'"'s thread: no_number' "$(reason @ACME)" no_number
is 'one record a conversation' "$(wc -l <"$tmp/out")" 12
is 'K: its last resolution' "$(rec $K .survey.resolved_at)" \
	2026-12-01T13:00:00Z
is 'L: resolved again since the event read, reopened' "$(reason $L)" \
	reopened
check 'a skipped record: its resolution and agent' \
	'rec $C ".resolved_at == \"2026-12-01T16:00:00Z\" and
	    .agent == null"'

check_exit 'a rerun: exit 0' 0 'survey $NOW'
is 'sends nothing' "$(creates)" $((before + 4))
is 'A: surveyed' "$(reason $A)" surveyed
check_exit 'a shorter --cooldown lets F through' 0 \
	'survey $NOW --cooldown 1d'
is 'F surveyed' "$(creates)" $((before + 5))
check_exit 'the resolved conversations on stdin' 0 \
	'inbox-ls -d "$ib" --status resolved |
	 SMSDESK_NOW=$NOW csat-survey send -d "$ib" - >"$tmp/out"'
is 'send nothing more' "$(creates)" $((before + 5))
is 'A on stdin: surveyed' "$(reason $A)" surveyed
is 'E on stdin: too_old' "$(reason $E)" too_old
check_exit 'a record with no thread: exit 1, the rest done' 1 \
	'printf "%s\n" "{\"type\":\"x\"}" "{\"thread\":\"$A\"}" |
	 SMSDESK_NOW=$NOW csat-survey send -d "$ib" - \
	     >"$tmp/out" 2>"$tmp/err"'
check 'said with its line; A still considered' \
	'grep -q "^csat-survey: stdin:1: " "$tmp/err" && [ "$(reason $A)" = surveyed ]'
check 'a table on request' \
	'survey $NOW -t && grep -qx "$A: skipped: surveyed" "$tmp/out"'

# --- Collect -------------------------------------------------------------

# A answers: the delivery takes it.
text $A 2026-12-02T17:00:00Z '5 thanks!'
is 'the delivery took A'"'"'s answer' "$(conv $A .csat.score)" 5
# I's answer came in by an import (stored by hand, as smsdesk-inbox(5)
# lays messages out), and J's after its window. No ledger entry, no
# history event, no count: inbox-check would rightly say so.
inbox_check_skip=$ib
mkmsg "$ib" $I 1999999999.000000001.P1Q0.test in 2026-12-02T18:00:00Z \
	'4 - quick and kind'
mkmsg "$ib" $J 1999999999.000000002.P1Q0.test in 2026-12-05T17:00:00Z '5'
check_exit 'collect: exit 0' 0 'collect 2026-12-05T18:00:00Z --window 7d'
check 'I'"'"'s answer is taken, once' \
	'[ "$(jq -c "[.type, .thread, .score, .comment, .scale]" "$tmp/out")" = \
	   "[\"answered\",\"$I\",4,\"quick and kind\",\"1-5\"]" ]'
is 'its conversation has it; the survey closed' \
	"$(conv $I '[.csat.score, .survey] | @tsv')" "$(printf '4\t')"
is 'the message is marked' \
	"$(jq -c .csat "$ib/msg/$I/1999999999.000000001.P1Q0.test" | tail -n 1 |
	    jq -r .score)" 4
is 'J answered after its window: not taken' "$(conv $J '.csat')" null
check_exit 'collect again: exit 0' 0 'collect 2026-12-05T18:05:00Z --window 7d'
is 'records nothing' "$(wc -l <"$tmp/out")" 0
check 'a survey older than --window is not looked at' \
	'collect 2026-12-05T18:05:00Z --window 1h && [ ! -s "$tmp/out" ]'

before=$(creates)
check_exit 'collect --thank: exit 0' 0 \
	'collect 2026-12-05T18:10:00Z --window 7d --thank "Thank you!"'
check 'a thank-you to A (taken at delivery) and I (taken by collect)' \
	'[ "$(jq -r "select(.type == \"message\") | .thread" "$tmp/out" |
	   sort | tr "\n" " ")" = "$A $I " ] &&
	 rec $I ".body == \"Thank you!\" and
	     (.key | startswith(\"csat-thanks-\")) and .survey == null"'
is 'two requests' "$(creates)" $((before + 2))
check_exit 'collect --thank again: exit 0' 0 \
	'collect 2026-12-05T18:15:00Z --window 7d --thank "Thank you!"'
is 'thanks nobody twice' "$(creates)" $((before + 2))

# --- Quiet hours: held, then sent ----------------------------------------

dir=$tmp/quiet
mkinbox "$dir"
G=+13125550108
text $G 2026-12-02T02:00:00Z 'hello'
mark 2026-12-02T03:00:00Z --resolve $G
before=$(creates)
check_exit '22:00 in Chicago, --quiet-hours: deferred, due still: exit 0' 0 \
	'survey 2026-12-02T04:00:00Z --quiet-hours 2>/dev/null'
check 'said deferred, until 08:00 there' \
	'rec $G ".status == \"deferred\" and
	    .not_before == \"2026-12-02T14:00:00Z\""'
is 'no request' "$(creates)" "$before"
is 'nothing stored: no survey, no key' \
	"$(conv $G '.surveyed_at // "none"') $(ls "$dir/msg/$G" | wc -l)" 'none 1'
check_exit 'an hour later: deferred again, not dropped' 0 \
	'survey 2026-12-02T05:00:00Z --quiet-hours 2>/dev/null'
check_exit '08:00 there: sent' 0 'survey 2026-12-02T14:00:00Z --quiet-hours'
check 'the survey of that resolution' \
	'rec $G ".status == \"queued\" and
	    .survey.resolved_at == \"2026-12-02T03:00:00Z\""'
is 'one request' "$(creates)" $((before + 1))
unset dir

# --- The sending path carries "survey" -----------------------------------

check_exit 'sms-send: a "survey" that is not an object: refused, exit 1' 1 \
	'echo "{\"thread\":\"$A\",\"body\":\"hi\",\"survey\":5}" |
	 sms-send -d "$ib" >"$tmp/out" 2>/dev/null'
check 'invalid_value' 'jq -e ".error.code == \"invalid_value\"" "$tmp/out"'
check 'a --template record'"'"'s "survey" is not the message'"'"'s' \
	'tail -n 1 "$ib/conv/$A" |
	 sms-send -n -d "$ib" --template "Hi {thread}" | jq -e ".survey == null"'

done_testing
