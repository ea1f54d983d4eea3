#!/bin/sh
# The carriers' rules (issue 21): the first message to a number that never
# wrote in names the business and says how to opt out (added, or the
# message refused, as configured: disclosure in smsdesk-config(5)), and a
# North American sender without a registration configured is reminded of
# it once a run.
#
# The provider is sms-sim on 127.0.0.1 (a free port), killed on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0647
unset SMSDESK_DISCLOSURE SMSDESK_REGISTRATION
ib=$tmp/inbox
A=+15556470001 B=+15556470002 C=+15556470003 D=+15556470004
mkdir -p "$tmp/config/smsdesk"
umask 077	# the configuration must be 0600
printf 'business_name = Acme Bikes\n' >"$tmp/config/smsdesk/config"

# A wrote in already.
printf '{"from":"%s","to":"%s","provider_id":"SMa1","body":"hello"}\n' \
    $A "$US" | sms-recv -d "$ib" >/dev/null 2>"$tmp/err" ||
    fail "the inbox: $(cat "$tmp/err")"
sim || { fail 'sms-sim starts'; done_testing; }

# body TO: the Body sms-sim was asked to send to TO, the last.
body() {
	jq -rs --arg to "$1" '[.[] | select(.params.To == $to)] | last |
	    .params.Body' "$tmp/sim.log"
}

sms-send -d "$ib" --to $B 'Your order shipped' >"$tmp/out" 2>"$tmp/err"
is 'a first message to B, who never wrote: exit 0' "$?" 0
is 'it went with the business and how to opt out on a line of its own' \
	"$(body $B)" "$(printf 'Your order shipped\nAcme Bikes: Reply STOP to opt out.')"
is 'the record says so, and counts the segments of what went' \
	"$(jq -c '[.disclosure, .body, .segments]' "$tmp/out")" \
	'[true,"Your order shipped\nAcme Bikes: Reply STOP to opt out.",1]'
check 'no registration configured for a +1 sender: said once' \
	"[ \$(grep -c 'no registration configured' '$tmp/err') = 1 ]"
sms-send -d "$ib" --to $B 'Your parcel arrives today' >"$tmp/out" 2>/dev/null
is 'the second message to B goes as written' "$(body $B)" \
	'Your parcel arrives today'
sms-send -d "$ib" -c $A 'Happy to help' >/dev/null 2>&1
is 'a reply to A, who wrote in, goes as written' "$(body $A)" 'Happy to help'
sms-send -d "$ib" --to $C 'Acme Bikes: your bike is ready. Text STOP to end.' \
    >"$tmp/out" 2>/dev/null
is 'a first message that names us and says STOP goes as written' \
	"$(body $C)" 'Acme Bikes: your bike is ready. Text STOP to end.'
is 'and is not marked' "$(jq -c .disclosure "$tmp/out")" null

# Two messages to new numbers in one run: the reminder is said once.
printf '{"to":"+15556470011","body":"a"}\n{"to":"+15556470012","body":"b"}\n' |
    sms-send -d "$ib" >/dev/null 2>"$tmp/err"
is 'two sends in one run: one reminder' \
	"$(grep -c 'no registration configured' "$tmp/err")" 1
SMSDESK_REGISTRATION='10DLC campaign CX7Y2ZQ' sms-send -d "$ib" \
    --to +15556470013 hi >/dev/null 2>"$tmp/err"
is 'with a registration configured: none' \
	"$(grep -c 'no registration' "$tmp/err")" 0

printf 'business_name = Acme Bikes\ndisclosure = refuse\n' \
    >"$tmp/config/smsdesk/config"
before=$(creates)
sms-send -d "$ib" --to $D 'Sale today' >"$tmp/out" 2>"$tmp/err"
is 'disclosure = refuse: a first message without it is refused, exit 1' \
	"$?,$(jq -r .error.code "$tmp/out")" 1,no_disclosure
is 'and nothing was asked of sms-sim' "$(creates)" "$before"
printf 'business_name = Acme Bikes\ndisclosure = off\n' \
    >"$tmp/config/smsdesk/config"
sms-send -d "$ib" --to $D 'Sale today' >"$tmp/out" 2>"$tmp/err"
is 'disclosure = off: it goes as written' "$(body $D)" 'Sale today'
is 'and the switch is said on stderr, once' \
	"$(grep -c 'disclosure = off' "$tmp/err")" 1
printf 'disclosure = maybe\n' >"$tmp/config/smsdesk/config"
check_exit 'disclosure = maybe: a configuration error (78)' 78 \
	'sms-send -d "$ib" --to $D x 2>/dev/null'
printf 'disclosure_text = Text STOP to quit.\n' >"$tmp/config/smsdesk/config"
sms-send -d "$ib" --dry-run --to +15556470021 'Hi' >"$tmp/out" 2>"$tmp/err"
is '--dry-run shows the text with disclosure_text, and no reminder' \
	"$(jq -r .body "$tmp/out"),$(grep -c 'registration' "$tmp/err")" \
	"$(printf 'Hi\nText STOP to quit.'),0"

done_testing
