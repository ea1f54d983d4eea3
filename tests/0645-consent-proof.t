#!/bin/sh
# Consent with proof (issue 21): an opt-in is kept with its evidence (the
# keyword and its message; a form, a phone call, an import's file and
# line, with who recorded it and when), marketing goes only to a number
# with an opt-in on record, and inbox-ls --consent gives the whole trail.
#
# The provider is sms-sim on 127.0.0.1 (a free port), killed on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0645
ib=$tmp/inbox
A=+15556450001 B=+15556450002 C=+15556450003 D=+15556450004

# A conversation with A, B and C (sms-recv, records on stdin); B says
# START (a keyword opt-in) and C says STOP, at pinned times.
{
	printf '{"from":"%s","to":"%s","provider_id":"SMa1","body":"hello","at":"2026-12-01T10:00:00Z"}\n' $A "$US"
	printf '{"from":"%s","to":"%s","provider_id":"SMb1","body":"START","at":"2026-12-01T10:01:00Z"}\n' $B "$US"
	printf '{"from":"%s","to":"%s","provider_id":"SMc1","body":"STOP","at":"2026-12-01T10:02:00Z"}\n' $C "$US"
} | SMSDESK_NOW=2026-12-01T10:03:00Z sms-recv -d "$ib" >/dev/null \
    2>"$tmp/err" || fail "the inbox: $(cat "$tmp/err")"

sim || { fail 'sms-sim starts'; done_testing; }
# send THREAD PURPOSE: sms-send to THREAD, its output in $tmp/send.out, on
# a Wednesday when the rules of smsdesk-rules(5) allow marketing in every
# zone of NANP (09:30 in Honolulu, 16:00 in St. John's).
send() {
	SMSDESK_NOW=2026-12-09T19:30:00Z \
	sms-send -d "$ib" --purpose "$2" --to "$1" "offer for $1" \
	    >"$tmp/send.out" 2>"$tmp/send.err"
}

# --- Marketing needs an opt-in on record ---------------------------------

send $A marketing
is 'marketing to a number with no consent record: exit 1' "$?" 1
is 'refused as no_optin, and kept in the thread as failed' \
	"$(jq -c '[.status, .error.code]' "$tmp/send.out")" \
	'["failed","no_optin"]'
check 'the reason says what to do' \
	"grep -q 'opt-in on record (inbox-mark --optin)' '$tmp/send.err'"
is 'sms-sim was asked nothing' "$(creates)" 0
send $A notification
is 'a notification to the same number needs none: exit 0' "$?" 0
send $B marketing
is 'marketing to B, who texted START: exit 0' "$?" 0
is 'it went out' "$(jq -r .status "$tmp/send.out")" queued
send $C marketing
is 'marketing to C, who texted STOP: refused as opted_out, exit 1' \
	"$?,$(jq -r .error.code "$tmp/send.out")" 1,opted_out
is 'so two requests in all' "$(creates)" 2

# --- An opt-in by hand, with its evidence --------------------------------

SMSDESK_NOW=2026-12-02T09:00:00Z SMSDESK_AGENT=ana inbox-mark -d "$ib" \
    --optin --source web_form \
    --reference 'https://shop.example/consent/4411' \
    --given 2026-11-30T18:00:00Z --note 'ticked the SMS box' $A \
    >"$tmp/mark.out" 2>"$tmp/err"
is '--optin with --source, --reference and --given: exit 0' "$?" 0
is 'the record keeps the evidence, who recorded it and when it was given' \
	"$(jq -c '.consent | [.state, .source, .reference, .given_at, .note,
	    .agent, .by.agent, .at]' "$tmp/mark.out")" \
	'["in","web_form","https://shop.example/consent/4411","2026-11-30T18:00:00Z","ticked the SMS box","ana","ana","2026-12-02T09:00:00Z"]'
send $A marketing
is 'marketing to A now: exit 0' "$?" 0
check_exit '--given in the future: a usage error (2)' 2 \
	'inbox-mark -d "$ib" --optin --given 2099-01-01 $D 2>/dev/null'
check_exit '--reference without --optin or --optout: 2' 2 \
	'inbox-mark -d "$ib" --reference x $A 2>/dev/null'
check_exit '--given that is no time: 2' 2 \
	'inbox-mark -d "$ib" --optin --given yesterday $D 2>/dev/null'
is 'and none of them recorded anything for D' \
	"$(inbox-ls -d "$ib" --consent $D | wc -l)" 0

# --- An import: each number with its file and line -----------------------

cat >"$tmp/signups.csv" <<CSV
# exported from the shop, 2026-12-01
$D,2026-11-29,jo@example.com

not-a-number,2026-11-29
(415) 555-0105 , 2026-11-29
CSV
SMSDESK_NOW=2026-12-03T09:00:00Z SMSDESK_COUNTRY=US inbox-mark -d "$ib" \
    --optin --import "$tmp/signups.csv" >"$tmp/imp.out" 2>"$tmp/imp.err"
is '--import with one bad line: exit 1, the rest recorded' "$?" 1
check 'the bad line is named by file and line' \
	"grep -q 'signups.csv:4: ' '$tmp/imp.err'"
is 'two opt-ins, source import, each with FILE:LINE' \
	"$(jq -c '.consent | [.number, .source, .reference]' "$tmp/imp.out" |
	    sed "s|$tmp/||g")" \
	"$(printf '%s\n' "[\"$D\",\"import\",\"signups.csv:2\"]" \
	    '["+14155550105","import","signups.csv:5"]')"
SMSDESK_COUNTRY=US inbox-mark -d "$ib" --optin --import "$tmp/signups.csv" \
    >"$tmp/imp2.out" 2>/dev/null
is 'the same import again records nothing new' "$(wc -l <"$tmp/imp2.out")" 0
check_exit '--import without --optin or --optout: 2' 2 \
	'inbox-mark -d "$ib" --import "$tmp/signups.csv" 2>/dev/null'
check_exit '--import with a NUMBER too: 2' 2 \
	'inbox-mark -d "$ib" --optin --import "$tmp/signups.csv" $A 2>/dev/null'
check_exit '--import of a file that is not there: 66' 66 \
	'inbox-mark -d "$ib" --optin --import "$tmp/nothing.csv" 2>/dev/null'

# --- The audit trail --------------------------------------------------------

# C stops, then agrees again on paper.
SMSDESK_NOW=2026-12-04T09:00:00Z inbox-mark -d "$ib" --optin \
    --source paper_form --reference 'box 3, form 17' $C >/dev/null 2>&1
is 'inbox-ls --consent --all: every event, oldest first, with how and on what evidence' \
	"$(inbox-ls -d "$ib" --consent --all --json | jq -c '[.number, .state,
	    .keyword // .source, .reference // .message // null,
	    .given_at // null]' | sed "s|$tmp/||g")" \
	"$(cat <<EXPECT
["$B","in","START","$(jq -r 'select(.body == "START") | .id' "$ib"/msg/$B/*)",null]
["$C","out","STOP","$(jq -r 'select(.body == "STOP") | .id' "$ib"/msg/$C/*)",null]
["$A","in","web_form","https://shop.example/consent/4411","2026-11-30T18:00:00Z"]
["+14155550105","in","import","signups.csv:5",null]
["$D","in","import","signups.csv:2",null]
["$C","in","paper_form","box 3, form 17",null]
EXPECT
)"
is 'a keyword opt-in says when and to which of our numbers' \
	"$(inbox-ls -d "$ib" --consent --json $B | jq -c '[.at, .our_number]')" \
	"[\"2026-12-01T10:01:00Z\",\"$US\"]"

done_testing
