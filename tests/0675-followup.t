#!/bin/sh
# Follow-ups (issue 18): `inbox-ls --status pending --idle 48h | sms-send
# --template 'Hi {name}, ...' --key 'followup-{thread}'` against sms-sim,
# on the pinned clock (SMSDESK_NOW). A template's field missing from the
# record comes from the recipient's contact (inbox-contacts(1)); a --key
# with a {field} is filled the same way, per record, so each conversation
# is followed up once; a field that neither the record nor the contact
# has fails that record alone. Long options throughout.
. "$(dirname "$0")/lib.sh"

twilio_env 0675
ib=$tmp/inbox
A=+15556750001 B=+15556750002 C=+15556750003 D=+15556750004
E=+15556750005
T0=2026-11-01T09:00:00Z

sim || { fail 'sms-sim starts'; done_testing; }

# hook NUMBER SID: a Twilio inbound webhook body, form-encoded.
hook() {
	printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B%s&Body=%s\n' \
	    "$2" "$AC" "${1#+}" "${US#+}" 'Where+is+my+order%3F'
}

# bodies FROM: the bodies sms-sim was asked to send after request FROM
# (1-based), as "TO BODY" lines, sorted.
bodies() {
	jq -rs --argjson n "$1" '[.[] | select(.method == "POST" and
	    (.path | endswith("/Messages.json")))] | .[$n - 1:][] |
	    .params.To + " " + .params.Body' "$tmp/sim.log" | sort
}

for n in $A $B $C $D $E; do
	hook $n "SM0675${n#+}"
done >"$tmp/hooks.txt"
check 'five customers write in' \
	'SMSDESK_NOW=$T0 sms-recv --dir "$ib" "$tmp/hooks.txt" >/dev/null'
# Answered at 10:00 (A, B, C), and E two days later; D never.
for n in $A $B $C; do
	SMSDESK_NOW=2026-11-01T10:00:00Z sms-send --dir "$ib" --thread $n \
	    'It left the warehouse today.' >/dev/null ||
	    fail "answered $n"
done
SMSDESK_NOW=2026-11-03T09:00:00Z sms-send --dir "$ib" --thread $E \
	'It left today.' >/dev/null || fail "answered $E"
check 'four set pending' \
	'inbox-mark --dir "$ib" --pending $A $B $C $E >/dev/null'
printf 'number,name,ticket\n%s,Ann,T-1\n%s,"Bob, Jr.",\n' $A $B |
	inbox-contacts --dir "$ib" import || fail 'contacts imported'

NOW=2026-11-03T10:30:00Z	# 48.5 hours after the answers at 10:00
export SMSDESK_NOW=$NOW
is 'pending and idle 48h: the three answered on the first day' \
	"$(inbox-ls --dir "$ib" --status pending --idle 48h | jq -r .thread |
	    sort | tr '\n' ' ')" "$A $B $C "

n0=$(creates)
check_exit 'the follow-up: C has no name anywhere, so 1' 1 \
	'inbox-ls --dir "$ib" --status pending --idle 48h |
	 sms-send --dir "$ib" --template "Hi {name}, did that solve it? Reply here any time." \
	    --key "followup-{thread}" >"$tmp/out" 2>"$tmp/err"'
is 'two sent, with the contact'"'"'s name' "$(bodies $((n0 + 1)))" \
	"$A Hi Ann, did that solve it? Reply here any time.
$B Hi Bob, Jr., did that solve it? Reply here any time."
is 'each record says what became of it' \
	"$(jq -sc 'sort_by(.to) | map([.to, .key, .status != "failed",
	    .error.code])' "$tmp/out")" \
	"[[\"$A\",\"followup-$A\",true,null],[\"$B\",\"followup-$B\",true,null],[\"$C\",null,false,\"template\"]]"
check 'the one that failed is said, with its line and field' \
	"[ \$(wc -l <'$tmp/err') = 1 ] &&
	 grep -q \"^sms-send: stdin:[0-9]*: .*no field 'name'\" '$tmp/err'"
check 'a follow-up is a notice (purpose notification), not a reply' \
	'jq -e "select(.direction == \"out\" and .key == \"followup-$A\") |
	    .purpose == \"notification\"" "$ib"/msg/$A/* >/dev/null'

n1=$(creates)
check 'a second run at once sends nothing (nobody is idle now)' \
	'inbox-ls --dir "$ib" --status pending --idle 48h |
	 sms-send --dir "$ib" --template "Hi {name}, again" \
	    --key "followup-{thread}" >"$tmp/out2" 2>/dev/null; true'
is 'no request' "$(creates)" "$n1"

# Two days on, A and B are idle again: their key holds them back.
export SMSDESK_NOW=2026-11-05T12:00:00Z
is 'two days on, the same three are idle again (and E now too)' \
	"$(inbox-ls --dir "$ib" --status pending --idle 48h | jq -r .thread |
	    sort | tr '\n' ' ')" "$A $B $C $E "
check 'the same line again' \
	'inbox-ls --dir "$ib" --status pending --idle 48h |
	 sms-send --dir "$ib" --template "Hi {name}, did that solve it?" \
	    --key "followup-{thread}" >"$tmp/out3" 2>"$tmp/err3"; true'
is 'no second follow-up to A or B; E has no name either' \
	"$(creates sim $A) $(creates sim $B) $(creates sim $E)" '2 2 1'
is 'A and B: their follow-ups as stored, not sent again' \
	"$(jq -sc 'map(select(.to == "'$A'" or .to == "'$B'")) |
	    sort_by(.to) | map([.key, .body])' "$tmp/out3")" \
	"[[\"followup-$A\",\"Hi Ann, did that solve it? Reply here any time.\"],[\"followup-$B\",\"Hi Bob, Jr., did that solve it? Reply here any time.\"]]"

# A key naming a field only the contact has: A's ticket; B has none.
n2=$(creates)
check_exit 'a --key field from the contact; missing for B: 1' 1 \
	'printf "%s\n" "{\"to\":\"$A\",\"body\":\"Ticket closed\"}" \
	    "{\"to\":\"$B\",\"body\":\"Ticket closed\"}" |
	 sms-send --dir "$ib" --key "close-{ticket}" >"$tmp/out4" 2>"$tmp/err4"'
is 'A sent under close-T-1; B refused, invalid_key' \
	"$(jq -sc 'map([.to, .key, .error.code])' "$tmp/out4")" \
	"[[\"$A\",\"close-T-1\",null],[\"$B\",null,\"invalid_key\"]]"
is 'one request' "$(creates)" $((n2 + 1))
check 'said: --key, no field ticket' \
	"grep -q \"^sms-send: stdin:2: --key: no field 'ticket'\" '$tmp/err4'"
check 'a field null in the record comes from the contact' \
	'echo "{\"to\":\"$A\",\"name\":null}" |
	 sms-send --dir "$ib" --dry-run --template "Hi {name}" |
	 jq -e ".body == \"Hi Ann\""'
check_exit 'a --key template left open is a usage error' 2 \
	'sms-send --dir "$ib" --key "x-{thread" </dev/null 2>/dev/null'
check 'a literal key is as before: KEY-LINE' \
	'echo "{\"to\":\"$D\",\"body\":\"x\"}" |
	 sms-send --dir "$ib" --key batch7 | jq -e ".key == \"batch7-1\""'
check '"{{" in a key is a brace, not a field' \
	'echo "{\"to\":\"$D\",\"body\":\"y\"}" |
	 sms-send --dir "$ib" --key "b{{8}}-{to}" | jq -e ".key == \"b{8}-$D\""'

done_testing
