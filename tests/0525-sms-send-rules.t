#!/bin/sh
# smsdesk-rules(5): sms-send holds a message to the rules of the place its
# recipient is in, for its purpose. The places and zones of numbers against
# a table worked by hand (tests/data/rules-fixture.tsv: each US state of the
# rule table, Canada, Australia's states without DST, the Cocos and
# Christmas Islands, a Mexican and a Brazilian number in each of their
# zones), each rule just inside and just outside its window; a message
# without a purpose is marketing; the configuration adds a rule, makes one
# stricter, refuses, or switches one off (said once); a reply is one while
# the customer wrote recently; a cap counts what was sent, across two runs
# at once.
#
# The clock is pinned with SMSDESK_NOW. The provider is sms-sim on
# 127.0.0.1, which logs every request it gets.
. "$(dirname "$0")/lib.sh"

twilio_env 0525
unset SMSDESK_NOW SMSDESK_PURPOSE
cfg=$tmp/config/smsdesk/config
mkdir -p "$tmp/config/smsdesk"

# config LINE...: the configuration file, these lines only.
config() {
	printf '%s\n' "$@" >"$cfg" && chmod 600 "$cfg"
}

# --- The fixture: every place, each window's edges ----------------------------

n=0
grep -v '^#' "$SMSDESK_TESTDATA/rules-fixture.tsv" >"$tmp/fixture"
while IFS='	' read -r num at purpose want by nb; do
	n=$((n + 1))
	got=$(SMSDESK_NOW=$at sms-send -n --purpose "$purpose" --to "$num" \
	    'A test' 2>/dev/null | jq -r '[(if .status == "dry_run" then
	    "go" else .status end), (.held_by // "-"), (.not_before // "-")] |
	    join(" / ")')
	desc="$num at $at, $purpose: $want"
	[ "$by" = - ] || desc="$desc ($by)"
	is "$desc" "$got" "$want / $by / $nb"
done <"$tmp/fixture"
check 'the fixture has its rows' '[ "$n" -ge 60 ]'

# --- A message nobody gave a purpose ---------------------------------------------

check_exit '--to without --purpose at 20:00 in Miami: deferred' 75 \
	'SMSDESK_NOW=2026-11-26T01:00:00Z sms-send -n --to +13055550100 hi \
	    >"$tmp/out" 2>"$tmp/err"'
is 'as marketing, by the Florida rule' \
	"$(jq -c '[.purpose, .status, .held_by, .error.code]' "$tmp/out")" \
	'["marketing","deferred","US-FL marketing hours","held"]'
check 'said on stderr, with the law' \
	'grep -q "US-FL marketing hours (Fla. Stat. 501.616" "$tmp/err"'
check_exit 'a record without a purpose: the same' 75 \
	'echo "{\"to\":\"+13055550100\",\"body\":\"hi\"}" |
	    SMSDESK_NOW=2026-11-26T01:00:00Z sms-send -n >"$tmp/out" 2>/dev/null'
is 'marketing, deferred' "$(jq -c '[.purpose, .status]' "$tmp/out")" \
	'["marketing","deferred"]'
check_exit 'the same as a notification goes' 0 \
	'SMSDESK_NOW=2026-11-26T01:00:00Z sms-send -n --purpose notification \
	    --to +13055550100 hi >/dev/null 2>&1'
check_exit 'purpose = notification in the configuration: goes' 0 \
	'config "purpose = notification" &&
	 SMSDESK_NOW=2026-11-26T01:00:00Z sms-send -n --to +13055550100 hi \
	    >"$tmp/out" 2>/dev/null'
is 'as a notification' "$(jq -r .purpose "$tmp/out")" notification
check_exit 'a purpose that is none: 78' 78 \
	'SMSDESK_PURPOSE=spam sms-send -n --to +13055550100 hi 2>/dev/null'
rm -f "$cfg"

# --- The configuration switches a rule off, once a run, never silently --------

# 08:30 in Dallas on a Wednesday: US allows it, Texas waits for 09:00.
for i in 1 2 3; do
	echo "{\"to\":\"+1214555010$i\",\"body\":\"Sale $i\"}"
done >"$tmp/tx.ndjson"
check_exit 'three for Dallas at 08:30: deferred by Texas' 75 \
	'SMSDESK_NOW=2026-11-25T14:30:00Z sms-send -n <"$tmp/tx.ndjson" \
	    >"$tmp/out" 2>/dev/null'
is 'all three' "$(jq -r .held_by "$tmp/out" | sort | uniq -c | tr -s ' ')" \
	' 3 US-TX marketing hours'
config 'rule.us_tx.marketing = off'
check_exit 'rule.us_tx.marketing = off: they go' 0 \
	'SMSDESK_NOW=2026-11-25T14:30:00Z sms-send -n <"$tmp/tx.ndjson" \
	    >"$tmp/out" 2>"$tmp/err"'
is 'three dry runs' "$(jq -r .status "$tmp/out" | sort | uniq -c |
	tr -s ' ')" ' 3 dry_run'
is 'the warning, once for the run' "$(grep -c 'rule.us_tx.marketing = off' \
	"$tmp/err")" 1
check 'naming the rule and its law' \
	'grep -q "^sms-send: config: rule.us_tx.marketing = off: the US-TX marketing rule (Tex. Bus. & Com. Code 301.051) is not applied" "$tmp/err"'
check_exit 'the federal rule still holds at 07:30 there' 75 \
	'SMSDESK_NOW=2026-11-25T13:30:00Z sms-send -n --to +12145550100 hi \
	    >"$tmp/out" 2>/dev/null'
is 'US marketing hours' "$(jq -r .held_by "$tmp/out")" 'US marketing hours'
config 'rule.us_zz.marketing = off'
check_exit 'switching off a rule not shipped: 78' 78 \
	'sms-send -n --to +12145550100 hi 2>"$tmp/err"'
check 'said so' 'grep -q "rule.us_zz.marketing = off: no US-ZZ marketing rule" "$tmp/err"'

# --- The configuration adds rules --------------------------------------------------

config 'rule.us.marketing = Mon-Sun 10:00-20:00'
check_exit 'stricter: 09:30 in Chicago waits for 10:00' 75 \
	'SMSDESK_NOW=2026-11-25T15:30:00Z sms-send -n --to +13125550100 hi \
	    >"$tmp/out" 2>/dev/null'
is 'not_before 10:00 CST' "$(jq -c '[.held_by, .not_before]' "$tmp/out")" \
	'["US marketing hours","2026-11-25T16:00:00Z"]'
check 'the configuration named' \
	'jq -e ".error.message | test(\"configuration, rule.us.marketing\")" "$tmp/out" >/dev/null'
check_exit 'and the shipped rule still holds: 21:00 there' 75 \
	'SMSDESK_NOW=2026-11-26T03:00:00Z sms-send -n --to +13125550100 hi \
	    >/dev/null 2>&1'
config 'rule.de.marketing = Mon-Fri 09:00-20:00; refuse'
check_exit 'a place the table lacks, refusing: Saturday in Berlin, exit 1' 1 \
	'SMSDESK_NOW=2026-11-28T12:00:00Z sms-send -n --to +4930123456 hi \
	    >"$tmp/out" 2>/dev/null'
is 'failed, held by it' "$(jq -c '[.status, .held_by, .error.code]' \
	"$tmp/out")" '["failed","DE marketing hours","held"]'
check_exit 'on Monday it goes' 0 \
	'SMSDESK_NOW=2026-11-30T12:00:00Z sms-send -n --to +4930123456 hi \
	    >/dev/null 2>&1'
for bad in 'rule.us.marketing = 9-5' 'rule.us.marketing = cap 3' \
    'rule.us.sales = Mon-Sun 09:00-20:00' 'rule.u-s.marketing = cap 3/24h' \
    'reply_window = soon'; do
	config "$bad"
	check_exit "'$bad': 78" 78 \
	    'sms-send -n --to +13125550100 hi >/dev/null 2>&1'
done
rm -f "$cfg"

# --- A reply, recently and long after --------------------------------------------

ib=$tmp/inbox
mkinbox "$ib"
inbox_check_skip=$ib	# hand-made (mkmsg): no ledger entry, no history
NOW=2026-11-26T03:00:00Z	# 22:00 in Miami
R=+13055550111 L=+13055550112
mkconv "$ib" $R '{"last_in_at":"2026-11-26T02:00:00Z"}'
mkmsg "$ib" $R r1 in 2026-11-26T02:00:00Z 'Is it in stock?'
mkconv "$ib" $L '{"last_in_at":"2026-11-24T02:00:00Z"}'
mkmsg "$ib" $L l1 in 2026-11-24T02:00:00Z 'Is it in stock?'
config 'rule.us_fl.notification = Mon-Sun 08:00-20:00'
check_exit 'a reply an hour after the customer wrote: goes at 22:00' 0 \
	'SMSDESK_NOW=$NOW sms-send -n -d "$ib" --thread $R "Yes" >"$tmp/out" \
	    2>/dev/null'
is 'a reply' "$(jq -c '[.purpose, .status]' "$tmp/out")" \
	'["reply","dry_run"]'
check_exit 'two days after: held as a notification' 75 \
	'SMSDESK_NOW=$NOW sms-send -n -d "$ib" --thread $L "Yes" >"$tmp/out" \
	    2>/dev/null'
is 'by the notification rule' "$(jq -c '[.purpose, .held_by, .not_before]' \
	"$tmp/out")" '["reply","US-FL notification hours","2026-11-26T13:00:00Z"]'
config 'rule.us_fl.notification = Mon-Sun 08:00-20:00' 'reply_window = 72h'
check_exit 'with reply_window = 72h it is still a reply' 0 \
	'SMSDESK_NOW=$NOW sms-send -n -d "$ib" --thread $L "Yes" >/dev/null \
	    2>&1'
rm -f "$cfg"

# --- A cap counts what was sent, across runs at once ----------------------------

sim || { fail 'sms-sim starts'; done_testing; }
DAY=2026-11-25T15:00:00Z	# 10:00 in Miami
F=+13055550177 G=+13055550188
# optin NUMBER: an opt-in in NUMBER's consent ledger, as sms-recv writes
# one for START (smsdesk-inbox(5)): marketing is for those who said yes.
optin() {
	mkdir -p -m 700 "$ib/consent/$1" &&
	jq -cn --arg n "$1" '{type: "consent", number: $n, state: "in",
	    keyword: "START", at: "2026-11-01T00:00:00Z"}' \
	    >"$ib/consent/$1/1761955200.1.test" &&
	chmod 600 "$ib/consent/$1/1761955200.1.test"
}
optin $F
optin $G
# Two on "sale" sent: the cap leaves room for one more.
for i in 1 2; do
	SMSDESK_NOW=$DAY sms-send -d "$ib" --subject sale --to $F "Sale $i" \
	    >/dev/null 2>&1
done
is 'two sent' "$(creates sim "$F")" 2
# run N: the third marketing message on "sale" to F, as a record on
# stdin, in the background ($! its pid).
run() {
	echo "{\"to\":\"$F\",\"body\":\"Sale, run $1\",\"key\":\"$1\"}" |
	    SMSDESK_NOW=$DAY sms-send -d "$ib" --subject sale \
	    >"$tmp/run$1.out" 2>"$tmp/run$1.err" &
}
# F's lock (smsdesk-inbox(5), lock/), the one every writer of its
# conversation takes, and the kernel's list of flock(2) locks on it:
# locked: someone holds it; waiting PID: PID waits for it.
lk=$ib/lock/$F
: >"$lk" && chmod 600 "$lk"
ino=$(stat -c %i "$lk")
locked() { grep -Eq "^[0-9]+: +FLOCK +[A-Z]+ +WRITE +[0-9]+ [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks; }
waiting() { grep -Eq "^[0-9]+: +-> +FLOCK +[A-Z]+ +WRITE +$1 [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks; }
# The test holds the lock while both runs start, so that both are at it
# at once; let go, one takes it, counts two and sends the third; the
# other counts three once it has it, and sends nothing.
flock "$lk" sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done' sh \
	"$tmp/release" &
holder=$!
poll locked
run a
ra=$!
run b
rb=$!
check 'both runs wait for the conversation'"'"'s lock' \
	'poll "waiting $ra && waiting $rb"'
: >"$tmp/release"
wait $holder
wait $ra
echo $? >"$tmp/runa.rc"
wait $rb
echo $? >"$tmp/runb.rc"
is 'two runs at once: one more request, three in all' "$(creates sim "$F")" 3
is 'the other deferred, by the Florida cap' \
	"$(cat "$tmp/runa.out" "$tmp/runb.out" | jq -r 'select(.status ==
	    "deferred") | [.held_by, .not_before, .subject] | join(" / ")')" \
	'US-FL marketing frequency / 2026-11-26T15:00:00Z / sale'
is 'three stored in the conversation' \
	"$(cat "$ib/msg/$F"/* | jq -s '[.[] | select(.direction == "out") |
	    .id] | unique | length')" 3
check 'each with its subject' \
	'cat "$ib/msg/$F"/* | jq -e -s "all(.subject == \"sale\")" >/dev/null'
is 'one run exits 0, the other 75' "$(cat "$tmp/runa.rc" "$tmp/runb.rc" |
	sort | tr '\n' ' ')" '0 75 '
check_exit 'a fourth on "sale", a run later: deferred' 75 \
	'SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -d "$ib" --subject sale \
	    --to $F "Sale!" >"$tmp/out" 2>/dev/null'
is 'until the first leaves the 24 hours' \
	"$(jq -c '[.held_by, .not_before]' "$tmp/out")" \
	'["US-FL marketing frequency","2026-11-26T15:00:00Z"]'
check_exit 'a dry run says the same' 75 \
	'SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -n -d "$ib" \
	    --subject sale --to $F "Sale!" >/dev/null 2>&1'
check_exit 'a record'"'"'s subject wins over --subject' 75 \
	'echo "{\"to\":\"$F\",\"body\":\"x\",\"subject\":\"sale\"}" |
	    SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -d "$ib" --subject other \
	    >"$tmp/out" 2>/dev/null'
is 'counted on "sale"' "$(jq -c '[.subject, .held_by]' "$tmp/out")" \
	'["sale","US-FL marketing frequency"]'
check_exit 'another subject goes' 0 \
	'SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -d "$ib" --subject news \
	    --to $F "News" >/dev/null 2>&1'
is 'a fourth request' "$(creates sim "$F")" 4
check_exit 'without a subject every marketing message counts: deferred' 75 \
	'SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -d "$ib" --to $F "Hi" \
	    >"$tmp/out" 2>/dev/null'
is 'held by the cap' "$(jq -r .held_by "$tmp/out")" \
	'US-FL marketing frequency'
check_exit 'a notification is no marketing: goes' 0 \
	'SMSDESK_NOW=2026-11-25T16:00:00Z sms-send -d "$ib" \
	    --purpose notification --to $F "Your order shipped" \
	    >/dev/null 2>&1'
check_exit 'the next day, after 15:00Z, "sale" goes again' 0 \
	'SMSDESK_NOW=2026-11-26T15:00:00Z sms-send -d "$ib" --subject sale \
	    --to $F "Sale, again" >/dev/null 2>&1'
is 'six requests' "$(creates sim "$F")" 6
# --- A scheduled message is asked when --due takes it up ------------------------

check_exit 'marketing to Miami scheduled for 21:00 there' 0 \
	'SMSDESK_NOW=2026-11-25T15:00:00Z sms-send -d "$ib" \
	    --at 2026-11-26T02:00:00Z --to $G "Tonight only" >"$tmp/out" \
	    2>/dev/null'
is 'scheduled' "$(jq -r .status "$tmp/out")" scheduled
check_exit '--due at 21:00: not sent, moved' 0 \
	'SMSDESK_NOW=2026-11-26T02:00:00Z sms-send -d "$ib" --due \
	    >"$tmp/out" 2>"$tmp/err"'
is 'to 08:00 there, held by Florida' \
	"$(jq -c '[.status, .send_at, .held_by]' "$tmp/out")" \
	'["scheduled","2026-11-26T13:00:00Z","US-FL marketing hours"]'
is 'no request' "$(creates sim "$G")" 0
check_exit '--due at 08:00: sent' 0 \
	'SMSDESK_NOW=2026-11-26T13:00:00Z sms-send -d "$ib" --due \
	    >"$tmp/out" 2>/dev/null'
is 'one request' "$(creates sim "$G")" 1

check_exit 'a subject that is no string: refused, exit 1' 1 \
	'echo "{\"to\":\"$F\",\"body\":\"x\",\"subject\":7}" |
	    SMSDESK_NOW=2026-11-26T15:00:00Z sms-send -d "$ib" >/dev/null \
	    2>&1'
check_exit '--subject empty: usage error' 2 \
	'sms-send -n --subject "" --to $F hi 2>/dev/null'

done_testing
