#!/bin/sh
# inbox-ls(1): the views an agent works from (issue 13, point 6): a
# thread's head, the time, agent and failure of each message, tags and
# wake times in the table, --tag, --grep and the consent ledger.
. "$(dirname "$0")/lib.sh"

ls_() { "$bin/inbox-ls" "$@"; }
threads() { jq -r .thread | tr '\n' ' ' | sed 's/ $//'; }
# A thread on a table: its head, up to the empty line, and its lines.
head_t() { ls_ -d "$ib" --no-mark --table "$@" | sed '/^$/q'; }
lines_t() { ls_ -d "$ib" --no-mark --table "$@" | sed '1,/^$/d'; }

# The fixture (inboxes written by hand, lib.sh):
#   1 open, ana's, tagged vip and late; a message from 2025, one two days
#     ago, an answer bo sent, and a promo refused (opted out), last
#   2 snoozed until tomorrow, tagged vip; an auto reply, then a reply
#     that failed later (a delivery report appended to its file)
#   3 snoozed until an hour ago (so open); a text in French, unread
#   4 opted out by STOP, then in again by phone (a record made by hand)
ib=$tmp/ib
mkinbox "$ib"
inbox_check_skip=$ib	# hand-made (mkconv, mkmsg): no ledger entry, no history event
h=3600
wake=$(from_now 86400)
mkconv "$ib" +15550000001 "{\"assignee\":\"ana\",\"tags\":[\"vip\",\"late\"],
    \"waiting_since\":\"$(from_now $((-3*h)))\",\"last_in_at\":\"$(from_now $((-3*h)))\",
    \"unread\":1,\"last_body\":\"Big sale today\"}"
mkconv "$ib" +15550000002 "{\"status\":\"snoozed\",\"snoozed_until\":\"$wake\",
    \"tags\":[\"vip\"],\"last_in_at\":\"$(from_now $((-5*h)))\",
    \"last_out_at\":\"$(from_now $((-4*h)))\",\"last_body\":\"We will call you\"}"
mkconv "$ib" +15550000003 "{\"status\":\"snoozed\",\"snoozed_until\":\"$(from_now -$h)\",
    \"waiting_since\":\"$(from_now $((-2*h)))\",\"last_in_at\":\"$(from_now $((-2*h)))\",
    \"unread\":1,\"last_body\":\"Été Réservé\"}"
mkconv "$ib" +15550000004 "{\"last_in_at\":\"$(from_now $((-6*h)))\",
    \"last_body\":\"STOP\"}"
two_days=$(from_now $((-2*86400)))
mkmsg "$ib" +15550000001 0000000001.x in 2025-03-04T05:06:00Z 'An old REFUND question'
mkmsg "$ib" +15550000001 0000000002.x in "$two_days" 'Where is my order?'
mkmsg "$ib" +15550000001 0000000003.x out "$(from_now $((-4*h)))" 'It ships today.' delivered
mkmsg "$ib" +15550000001 0000000004.x out "$(from_now $((-3*h)))" 'Big sale today' failed
mkmsg "$ib" +15550000002 0000000005.x in "$(from_now $((-5*h)))" 'Call me back'
mkmsg "$ib" +15550000002 0000000006.x out "$(from_now $((-5*h+60)))" 'Thanks, we got it' sent
mkmsg "$ib" +15550000002 0000000007.x out "$(from_now $((-4*h)))" 'We will call you' sent
mkmsg "$ib" +15550000003 0000000008.x in "$(from_now $((-2*h)))" 'Été Réservé'
mkmsg "$ib" +15550000004 0000000009.x in "$(from_now $((-6*h)))" 'STOP'
# Who sent what, and what failed.
edit() {
	jq -c "$3" "$ib/msg/$1/$2" >"$tmp/edit" && cat "$tmp/edit" >"$ib/msg/$1/$2"
}
edit +15550000001 0000000003.x '. + {agent: "bo"}'
edit +15550000001 0000000004.x '. + {agent: "cy", error: {code: "opted_out",
    message: "the customer opted out", provider_code: null}}'
edit +15550000002 0000000006.x '. + {auto: "ack"}'
edit +15550000002 0000000007.x '. + {agent: "ana"}'
# A delivery report came later: the file's last line is the message now.
jq -c '. + {status: "undelivered", error: {code: "transient",
    message: "handset unreachable", provider_code: 30003}}' \
    "$ib/msg/+15550000002/0000000007.x" >>"$ib/msg/+15550000002/0000000007.x"
# The consent ledger (smsdesk-inbox(5)): one record a file, newest last.
consent() {
	mkdir -p -m 700 "$ib/consent/$1" &&
	jq -c . >"$ib/consent/$1/$2" <<-EOF && chmod 600 "$ib/consent/$1/$2"
	$3
	EOF
}
consent +15550000001 0001.x '{"type":"consent","number":"+15550000001",
    "state":"out","keyword":"STOP","at":"2026-01-02T03:04:00Z",
    "our_number":"+15550009999","message":"M77"}'
consent +15550000004 0002.x '{"type":"consent","number":"+15550000004",
    "state":"out","keyword":"STOP","at":"2025-05-06T07:08:00Z","message":"M9"}'
consent +15550000004 0003.x '{"type":"consent","number":"+15550000004",
    "state":"in","at":"2025-05-07T08:00:00Z","source":"phone",
    "by":{"user":"root","agent":"dee"},"note":"called to opt back in",
    "extra":[1,2]}'

# The short form of a time in a table, as now reads it (see inbox-ls(1)).
short() {
	case $1 in
	"$(date -u +%Y-%m-%d)"*) printf '%s\n' "$1" | cut -c12-16 ;;
	"$(date -u +%Y)"-*) printf '%s\n' "$1" | sed 's/^.....\(.....\)T\(.....\).*/\1 \2/' ;;
	*) printf '%s\n' "$1" | sed 's/^\(..........\)T\(.....\).*/\1 \2/' ;;
	esac
}

# --- The head of a thread ----------------------------------------------

is 'a thread on a table has a head, then an empty line' "$(head_t +15550000001)" \
"thread    +15550000001
status    open
assignee  ana
tags      vip,late
consent   opted out since $(short 2026-01-02T03:04:00Z) (STOP, message M77, to +15550009999)"
is 'the head ends at an empty line; the messages follow' \
	"$(ls_ -d "$ib" --no-mark --table +15550000001 | sed -n '6p;7p' | cut -c1-16)" '
2025-03-04 05:06'
is 'the head: a snooze says when it ends' \
	"$(head_t +15550000002 | sed -n 2p)" "status    snoozed until $(short "$wake")"
is 'the head: a snooze that ran out is open; nobody, no tags, no ledger' \
	"$(head_t +15550000003 | sed -n '2,5p')" 'status    open
assignee  -
tags      -
consent   -'
is 'the head: an entry made by hand says where from, who and why' \
	"$(head_t +15550000004 | sed -n 5p)" \
	"consent   opted in since $(short 2025-05-07T08:00:00Z) (source phone, by dee (root), note: called to opt back in)"
check 'NDJSON has no head: the messages as stored' \
	"ls_ -d '$ib' --no-mark +15550000001 | jq -e -s 'length == 4 and all(.type == \"message\")'"

# --- Each message: time, agent, why it failed --------------------------

lines_t +15550000001 >"$tmp/t1"
is 'a message of another year: its date and time' \
	"$(sed -n 1p "$tmp/t1" | cut -c1-16)" '2025-03-04 05:06'
check 'an older message of this year: month, day and time; today: the time' \
	"sed -n 2p '$tmp/t1' | grep -q '^$(short "$two_days")  ' &&
	 sed -n 3p '$tmp/t1' | grep -Eq '^([0-9-]{5} )?[0-9][0-9]:[0-9][0-9]  '"
check 'the agent of an outbound message; none on an inbound one' \
	"sed -n 3p '$tmp/t1' | grep -q '→  delivered          bo  It ships today\\.\$' &&
	 sed -n 2p '$tmp/t1' | grep -q '←  received               Where is my order?\$'"
check 'a refused message: the code of its error, then its message under it' \
	"sed -n 4p '$tmp/t1' | grep -q '→  failed: opted_out  cy  Big sale today\$' &&
	 sed -n 5p '$tmp/t1' | grep -q '^  *error: the customer opted out\$'"
lines_t +15550000002 >"$tmp/t2"
check 'an automatic reply without an agent is auto' \
	"sed -n 2p '$tmp/t2' | grep -q '→  sent  *auto  \\[notification\\] Thanks, we got it\$'"
check 'a failure a delivery report brought later shows as well' \
	"sed -n 3p '$tmp/t2' | grep -q '→  undelivered: transient  ana   We will call you\$' &&
	 sed -n 4p '$tmp/t2' | grep -q '^  *error: handset unreachable\$'"
check 'no agent at all: no column for one' \
	"lines_t +15550000003 | grep -q '←  received  Été Réservé\$'"
check '--messages on a table: the reason too' \
	"ls_ -d '$ib' --all -m -t | grep -q '+15550000001  →  failed: opted_out  *cy  *Big sale today\$'"

# --- The conversations' table -------------------------------------------

COLUMNS=200 ls_ -d "$ib" --all --table >"$tmp/tab"
is 'the table: TAGS when a conversation has one, a snooze says when it wakes' \
	"$(sed -n 1p "$tmp/tab" | tr -s ' ')" \
	'THREAD STATUS ASSIGNEE WAITING UNREAD TAGS LAST'
check 'a conversation whose last message was refused: LAST says why' \
	"grep -q '^+15550000001  open  .*  vip,late  \\[failed: opted_out\\] Big sale today\$' '$tmp/tab'"
check 'a last message that failed later: LAST says why' \
	"grep -q '^+15550000002  snoozed until $(short "$wake")  .*  vip  *\\[undelivered: transient\\] We will call you\$' '$tmp/tab'"
check 'no tags: a dash; a last message that did not fail: the body alone' \
	"grep -q '^+15550000003  open  .*  -  *Été Réservé\$' '$tmp/tab'"
check 'no conversation listed has a tag: no TAGS column' \
	"ls_ -d '$ib' --table --unassigned --unread |
	 sed -n 1p | grep -q 'UNREAD  LAST\$'"
check '--status snoozed: the time each wakes' \
	"ls_ -d '$ib' --status snoozed --table | sed -n 2p |
	 grep -q '^+15550000002  snoozed until $(short "$wake")  '"

# --- --tag ----------------------------------------------------------------

is '--tag' "$(ls_ -d "$ib" --all --tag vip | threads)" '+15550000001 +15550000002'
is '--tag, repeated: every tag' \
	"$(ls_ -d "$ib" --all --tag vip --tag late | threads)" +15550000001
is '--tag: exactly, case and all' "$(ls_ -d "$ib" --all --tag VIP | threads)" ''
is '--tag with other filters' \
	"$(ls_ -d "$ib" --tag vip | threads)" +15550000001
ls_ -d "$ib" --tag vip +15550000001 >/dev/null 2>"$tmp/err"
is '--tag with a NUMBER: exit 2' "$?" 2
ls_ -d "$ib" --tag '' >/dev/null 2>"$tmp/err"
is '--tag with an empty tag: exit 2' "$?:$(cat "$tmp/err")" \
	'2:inbox-ls: --tag: an empty tag'

# --- --grep -------------------------------------------------------------

is '--grep: conversations with a message that matches, in any case' \
	"$(ls_ -d "$ib" --all --grep refund | threads)" +15550000001
is '--grep: an extended regular expression' \
	"$(ls_ -d "$ib" --all --grep '^call me|^stop$' | threads)" \
	'+15550000002 +15550000004'
is '--grep: UTF-8 as characters, any case' \
	"$(ls_ -d "$ib" --all --grep 'ÉTÉ r.serv' | threads)" +15550000003
is '--grep, repeated: one body matches every pattern' \
	"$(ls_ -d "$ib" --all --grep order --grep where | threads) /" \
	'+15550000001 /'
is '--grep, repeated: not two bodies' \
	"$(ls_ -d "$ib" --all --grep order --grep refund | threads)" ''
is '--grep with --limit: the first that match, in order of urgency' \
	"$(ls_ -d "$ib" --all --grep 'e' --limit 2 | threads)" \
	'+15550000001 +15550000003'
is '--grep with --messages: the messages that match' \
	"$(ls_ -d "$ib" --all --messages --grep 'today' | jq -r .body | tr '\n' /)" \
	'It ships today./Big sale today/'
is '--grep with a NUMBER: its messages that match' \
	"$(ls_ -d "$ib" --no-mark +15550000001 --grep 'order|refund' | jq -r .id | tr '\n' ' ')" \
	'0000000001.x 0000000002.x '
ls_ -d "$ib" --grep '(' >/dev/null 2>"$tmp/err"
is '--grep with a bad pattern: exit 2' "$?" 2
check '--grep with a bad pattern: said so' \
	"grep -q \"^inbox-ls: --grep: '(': \" '$tmp/err'"

# --- --consent ----------------------------------------------------------

is '--consent: each number newest record, oldest first' \
	"$(ls_ -d "$ib" --consent | jq -c '[.number, .state]' | tr '\n' ' ')" \
	'["+15550000004","in"] ["+15550000001","out"] '
is '--consent: records as stored, every field' \
	"$(ls_ -d "$ib" --consent | sed -n 1p)" \
	"$(jq -c . "$ib/consent/+15550000004/0003.x")"
is '--consent --all: every record' \
	"$(ls_ -d "$ib" --consent --all | jq -r .at | tr '\n' ' ')" \
	'2025-05-06T07:08:00Z 2025-05-07T08:00:00Z 2026-01-02T03:04:00Z '
is '--consent NUMBER: its records' \
	"$(ls_ -d "$ib" --consent +15550000004 | jq -r .state | tr '\n' ' ')" \
	'out in '
is '--consent --limit: the newest' \
	"$(ls_ -d "$ib" --consent --all --limit 1 | jq -r .number)" +15550000001
is '--consent --since' \
	"$(ls_ -d "$ib" --consent --all --since 2025-05-07 | jq -r .at | tr '\n' ' ')" \
	'2025-05-07T08:00:00Z 2026-01-02T03:04:00Z '
is '--consent on a table' \
	"$(COLUMNS=120 ls_ -d "$ib" --consent --all --table)" \
"AT                NUMBER        STATE  KEYWORD  DETAILS
2025-05-06 07:08  +15550000004  out    STOP     message M9
2025-05-07 08:00  +15550000004  in     -        source phone, by dee (root), note: called to opt back in
$(short 2026-01-02T03:04:00Z | awk '{ printf "%-16s", $0 }')  +15550000001  out    STOP     message M77, to +15550009999"
is '--consent: a number never in the ledger has nothing' \
	"$(ls_ -d "$ib" --consent +15550000003)" ''
mkdir -m 700 "$ib/consent/+15550000005" &&
printf 'not json\n' >"$ib/consent/+15550000005/0004.x" &&
chmod 600 "$ib/consent/+15550000005/0004.x"
ls_ -d "$ib" --consent >"$tmp/out" 2>"$tmp/err"; rc=$?
is '--consent: a record that does not parse is quarantined; the rest listed, exit 1' \
	"$(jq -r .number <"$tmp/out" | tr '\n' ' ')$rc" '+15550000004 +15550000001 1'
check '--consent: the record quarantined is said' \
	"grep -q '^inbox-ls: .*/consent/+15550000005/0004.x: .*quarantine/' '$tmp/err' &&
	 [ ! -e '$ib/consent/+15550000005/0004.x' ]"
ls_ -d "$ib" --consent --status open >/dev/null 2>"$tmp/err"
is '--consent with an option that selects conversations: exit 2' \
	"$?:$(cat "$tmp/err")" \
	'2:inbox-ls: --status selects conversations or messages: not with --consent'
ls_ -d "$ib" --consent --grep x >/dev/null 2>&1
is '--consent with --grep: exit 2' "$?" 2

done_testing
