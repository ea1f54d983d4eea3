#!/bin/sh
# inbox-ls(1): what an agent or a script reading the inbox relies on.
. "$(dirname "$0")/lib.sh"

ls_() { "$bin/inbox-ls" "$@"; }

# Inboxes are written by hand (mkinbox, mkconv, mkmsg in lib.sh).

# The fixture: seven conversations, one of each kind that matters.
#   1 open, waiting 3h, 2 unread      5 snoozed until 1h ago (so open),
#   2 open, waiting 1h, ana's           waiting 2h
#   3 pending, answered, bo's         6 resolved, ana's
#   4 snoozed until tomorrow          7 open, answered, wrote 10m ago
ib=$tmp/ib
mkinbox "$ib"
# Hand-made (mkmsg: no ledger entry, no history; counts as the case needs).
inbox_check_skip="$ib $tmp/rd"
h=3600
mkconv "$ib" +15550000001 "{\"waiting_since\":\"$(from_now $((-3*h)))\",
    \"last_in_at\":\"$(from_now $((-h)))\",\"unread\":2,\"last_body\":\"Hello?\"}"
mkconv "$ib" +15550000002 "{\"waiting_since\":\"$(from_now $((-h)))\",
    \"last_in_at\":\"$(from_now $((-h)))\",\"unread\":1,\"assignee\":\"ana\",
    \"last_body\":\"My parcel is late\"}"
mkconv "$ib" +15550000003 "{\"status\":\"pending\",\"assignee\":\"bo\",
    \"last_in_at\":\"$(from_now $((-2*h)))\",\"last_out_at\":\"$(from_now -1800)\"}"
mkconv "$ib" +15550000004 "{\"status\":\"snoozed\",
    \"snoozed_until\":\"$(from_now 86400)\",\"last_in_at\":\"$(from_now $((-5*h)))\"}"
mkconv "$ib" +15550000005 "{\"status\":\"snoozed\",
    \"snoozed_until\":\"$(from_now $((-h)))\",\"waiting_since\":\"$(from_now $((-2*h)))\",
    \"last_in_at\":\"$(from_now $((-2*h)))\",\"unread\":1}"
mkconv "$ib" +15550000006 "{\"status\":\"resolved\",\"assignee\":\"ana\",
    \"last_in_at\":\"$(from_now -86400)\",\"last_out_at\":\"$(from_now -86000)\"}"
mkconv "$ib" +15550000007 "{\"last_in_at\":\"$(from_now -600)\",
    \"last_body\":\"line one\\nline two\\tand a body long enough to be cut at any sensible width of a terminal\"}"
mkmsg "$ib" +15550000001 0000000001.x in "$(from_now $((-2*86400)))" 'Where is my order?'
mkmsg "$ib" +15550000001 0000000002.x out "$(from_now $((-4*h)))" "$(printf 'Checking.\nOne moment')" delivered
mkmsg "$ib" +15550000001 0000000003.x in "$(from_now $((-3*h)))" 'Thanks'
mkmsg "$ib" +15550000001 0000000004.x in "$(from_now $((-h)))" 'Hello?'
mkmsg "$ib" +15550000002 0000000005.x in "$(from_now $((-h+60)))" 'My parcel is late'
mkmsg "$ib" +15550000006 0000000006.x in "$(from_now -86400)" 'Thanks, bye'

threads() { jq -r .thread | tr '\n' ' ' | sed 's/ $//'; }

# The working set, most urgent first.
is 'the working set, longest waiting first, then latest to write in' \
	"$(ls_ -d "$ib" | threads)" \
	'+15550000001 +15550000005 +15550000002 +15550000007 +15550000003'
is 'records go out as stored' "$(ls_ -d "$ib" | sed -n 1p)" \
	"$(tail -n 1 "$ib/conv/+15550000001")"
is 'a snooze that has run out is listed; the record still says snoozed' \
	"$(ls_ -d "$ib" | jq -r 'select(.thread == "+15550000005") | .status')" \
	snoozed
is '--all adds the resolved and the still snoozed, each once' \
	"$(ls_ -d "$ib" --all | jq -r .thread | sort | tr '\n' ' ')" \
	'+15550000001 +15550000002 +15550000003 +15550000004 +15550000005 +15550000006 +15550000007 '

# Filters.
is '--status pending' "$(ls_ -d "$ib" --status pending | threads)" \
	+15550000003
is '--status snoozed: only those still snoozed' \
	"$(ls_ -d "$ib" --status snoozed | threads)" +15550000004
is '--status open counts an expired snooze as open' \
	"$(ls_ -d "$ib" --status open | threads)" \
	'+15550000001 +15550000005 +15550000002 +15550000007'
is '--status resolved reads beyond the working set' \
	"$(ls_ -d "$ib" -s resolved | threads)" +15550000006
is '--status S,S and repeated' \
	"$(ls_ -d "$ib" -s pending,resolved -s snoozed | threads)" \
	'+15550000003 +15550000004 +15550000006'
is '--assignee' "$(ls_ -d "$ib" --assignee ana | threads)" +15550000002
is '--assignee with --all' "$(ls_ -d "$ib" --all --assignee ana | threads)" \
	'+15550000002 +15550000006'
is '--unassigned' "$(ls_ -d "$ib" --unassigned | threads)" \
	'+15550000001 +15550000005 +15550000007'
is '--unread' "$(ls_ -d "$ib" --unread | threads)" \
	'+15550000001 +15550000005 +15550000002'
is '--overdue: waiting at least that long' \
	"$(ls_ -d "$ib" --overdue 90m | threads)" '+15550000001 +15550000005'
is '--overdue 1d: nobody' "$(ls_ -d "$ib" --overdue 1d | wc -l | tr -d ' ')" 0
is '--since a duration: the last message in or out at most 75m ago' \
	"$(ls_ -d "$ib" --since 75m | threads)" \
	'+15550000001 +15550000002 +15550000007 +15550000003'
is '--since an RFC 3339 time' \
	"$(ls_ -d "$ib" --since "$(from_now -2400)" | threads)" \
	'+15550000007 +15550000003'
is 'filters combine' "$(ls_ -d "$ib" --unread --unassigned --overdue 150m | threads)" \
	+15550000001
is '--limit takes the most urgent' "$(ls_ -d "$ib" --limit 2 | threads)" \
	'+15550000001 +15550000005'

# A thread.
ls_ -d "$ib" +15550000001 >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'NUMBER: exit 0' "$rc" 0
is 'NUMBER prints the thread oldest first' "$(jq -r .id "$tmp/out" | tr '\n' ' ')" \
	'0000000001.x 0000000002.x 0000000003.x 0000000004.x '
is 'as stored' "$(sed -n 2p "$tmp/out")" \
	"$(cat "$ib/msg/+15550000001/0000000002.x")"
is 'and marks it read' "$(tail -n 1 "$ib/conv/+15550000001" | jq .unread)" 0
is 'the rest of the record untouched' \
	"$(tail -n 1 "$ib/conv/+15550000001" | jq -c 'del(.unread)')" \
	"$(ls_ -d "$ib" --all | jq -c 'select(.thread == "+15550000001") | del(.unread)')"
ls_ -d "$ib" --no-mark +15550000002 >/dev/null
is '--no-mark leaves it unread' "$(tail -n 1 "$ib/conv/+15550000002" | jq .unread)" 1
is '--limit N with NUMBER: the last N messages' \
	"$(ls_ -d "$ib" --no-mark --limit 2 +15550000001 | jq -r .body | tr '\n' ' ')" \
	'Thanks Hello? '
is '--since with NUMBER: messages since' \
	"$(ls_ -d "$ib" --no-mark --since 150m +15550000001 | jq -r .body)" 'Hello?'

# Only what was shown is read: the last two texts in are unread.
rd=$tmp/rd
mkinbox "$rd"
mkconv "$rd" +15550000009 "{\"unread\":2,\"waiting_since\":\"$(from_now -1200)\",
    \"last_in_at\":\"$(from_now -600)\"}"
mkmsg "$rd" +15550000009 0000000001.x in "$(from_now -7200)" 'First'
mkmsg "$rd" +15550000009 0000000002.x out "$(from_now -3600)" 'Reply'
mkmsg "$rd" +15550000009 0000000003.x in "$(from_now -1200)" 'Second'
mkmsg "$rd" +15550000009 0000000004.x in "$(from_now -600)" 'Third'
is '--limit with NUMBER shows the last' \
	"$(ls_ -d "$rd" --limit 1 +15550000009 | jq -r .body)" Third
is 'an unread text left out keeps the thread unread' \
	"$(tail -n 1 "$rd/conv/+15550000009" | jq .unread)" 2
ls_ -d "$rd" --since 15m +15550000009 >/dev/null
is 'so does one before --since' "$(tail -n 1 "$rd/conv/+15550000009" | jq .unread)" 2
is 'a --limit that shows every unread text marks it read' \
	"$(ls_ -d "$rd" --limit 3 +15550000009 | jq -r .body | tr '\n' ' ')
$(tail -n 1 "$rd/conv/+15550000009" | jq .unread)" 'Reply Second Third 
0'
is 'a national number in the default country' \
	"$(SMSDESK_COUNTRY=US ls_ -d "$ib" --no-mark '(555) 000-0002' | jq -r .body)" \
	'My parcel is late'
ls_ -d "$ib" +15550000009 >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'an unknown thread: exit 1' "$rc" 1
is 'named' "$(cat "$tmp/err")" 'inbox-ls: +15550000009: no such conversation'
check 'and nothing is created for it' "[ ! -e '$ib/conv/+15550000009' ]"

# --messages.
is '--messages: those of the conversations listed, oldest first' \
	"$(ls_ -d "$ib" --messages | jq -r .id | tr '\n' ' ')" \
	'0000000001.x 0000000002.x 0000000003.x 0000000004.x 0000000005.x '
is '--messages after the filters' \
	"$(ls_ -d "$ib" --messages --assignee ana --all | jq -r .id | tr '\n' ' ')" \
	'0000000006.x 0000000005.x '
is '--messages --since drops older messages' \
	"$(ls_ -d "$ib" -m --since 90m | jq -r .id | tr '\n' ' ')" \
	'0000000004.x 0000000005.x '

# The table.
COLUMNS=72 ls_ -d "$ib" --table >"$tmp/out"
is '--table: a heading' "$(sed -n 1p "$tmp/out")" \
	'THREAD        STATUS   ASSIGNEE  WAITING  UNREAD  LAST'
check '--table: one line per conversation, urgent first' \
	"[ \$(wc -l <'$tmp/out') -eq 6 ] && sed -n 2p '$tmp/out' | grep -q '^+15550000001  open     -         3h0[0-9]m         0  Hello?\$'"
is 'an expired snooze shows as open, not waiting shows -' \
	"$(sed -n '3p;5p' "$tmp/out" | cut -c1-42)" \
	"$(printf '%s\n' '+15550000005  open     -         2h00m    ' \
	    '+15550000007  open     -         -        ')"
line=$(grep '^+15550000007' "$tmp/out")
is 'the last body is cut to $COLUMNS, control characters as spaces' \
	"$line" \
	'+15550000007  open     -         -             0  line one line two and…'
# A thread on a table is under its head, which ends at an empty line
# (0630 checks the head).
thread_t() { ls_ -d "$ib" --no-mark --table "$@" | sed '1,/^$/d'; }
check 'a thread on a table: arrows, whole bodies, lines indented' \
	"thread_t +15550000001 | sed -n '2p;3p' | grep -q '^[-0-9: ]* *→  delivered  Checking\\.\$' &&
	 thread_t +15550000001 | sed -n 3p | grep -q '^  *One moment\$' &&
	 thread_t +15550000001 | sed -n 1p | grep -q '^[-0-9: ]*  ←  received   Where is my order?\$'"
check 'times: HH:MM today, the date and time before' \
	"thread_t +15550000001 | sed -n 1p | grep -Eq '^([0-9]{4}-)?[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]  ' &&
	 thread_t +15550000001 | sed -n 4p | grep -Eq '^(([0-9]{4}-)?[0-9-]{5} )?[0-9][0-9]:[0-9][0-9] '"
check '--messages --table names the thread' \
	"ls_ -d '$ib' -m -t | grep -q '  +15550000002  ←  received   My parcel is late\$'"
check '--json in a pipe is NDJSON too' "ls_ -d '$ib' --json | jq -e -s 'length == 5'"
check 'an empty list prints nothing, even as a table' \
	"[ -z \"\$(ls_ -d '$ib' --table --overdue 1w)\" ]"

# Where the inbox is.
is '$SMSDESK_INBOX names the inbox' \
	"$(SMSDESK_INBOX=$ib ls_ -s pending | threads)" +15550000003
mkdir -p "$tmp/xdg/smsdesk" && ln -s "$ib" "$tmp/xdg/smsdesk/inbox"
is 'else $XDG_DATA_HOME/smsdesk/inbox' \
	"$(SMSDESK_INBOX= XDG_DATA_HOME=$tmp/xdg ls_ -s pending | threads)" \
	+15550000003

# A file that does not parse is moved aside and reported; the rest is listed.
cp -R "$ib" "$tmp/bad"
printf '{"type":"conversation","thr' >"$tmp/bad/conv/+15550000008"
: >"$tmp/bad/work/+15550000008"
ls_ -d "$tmp/bad" >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a corrupt conversation: exit 1' "$rc" 1
is 'the rest is listed' "$(threads <"$tmp/out")" \
	'+15550000001 +15550000005 +15550000002 +15550000007 +15550000003'
check 'it is reported' "grep -q '^inbox-ls: .*conv/+15550000008: .*quarantine' '$tmp/err'"
check 'and moved to quarantine/' \
	"[ ! -e '$tmp/bad/conv/+15550000008' ] && ls '$tmp/bad/quarantine' | grep -q '+15550000008'"
ls_ -d "$tmp/bad" >/dev/null 2>&1; rc=$?
is 'once moved aside, it is not reported again' "$rc" 0
mkdir -m 700 "$tmp/bad/conv/+15550000008" && : >"$tmp/bad/work/+15550000008"
ls_ -d "$tmp/bad" >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a conversation that cannot be read: exit 1, the rest listed' \
	"$rc $(threads <"$tmp/out")" \
	'1 +15550000001 +15550000005 +15550000002 +15550000007 +15550000003'
check 'it is reported' "grep -q '^inbox-ls: .*conv/+15550000008: ' '$tmp/err'"
rmdir "$tmp/bad/conv/+15550000008" && rm "$tmp/bad/work/+15550000008"

# What inbox_update() changes, the next listing shows.
"$bin/inbox-mark" -d "$ib" --assign cy +15550000007 >/dev/null
is 'an assignment made meanwhile is listed' \
	"$(ls_ -d "$ib" --assignee cy | threads)" +15550000007
"$bin/inbox-mark" -d "$ib" --resolve +15550000001 >/dev/null
is 'a resolved one leaves the working set' \
	"$(ls_ -d "$ib" | threads)" \
	'+15550000005 +15550000002 +15550000007 +15550000003'
if [ -x "$bin/sms-recv" ]; then
	printf '{"from":"+15550000001","provider_id":"SMnew","body":"Me again"}\n' |
	    "$bin/sms-recv" -d "$ib" >/dev/null 2>&1
	is 'a text delivered meanwhile reopens it; its SLA clock starts afresh' \
		"$(ls_ -d "$ib" | jq -c 'select(.thread == "+15550000001") |
		    [.status, .unread, .last_body, .waiting_since == .last_in_at]')" \
		'["open",1,"Me again",true]'
	is 'so it is the least overdue' "$(ls_ -d "$ib" | threads)" \
		'+15550000005 +15550000002 +15550000001 +15550000007 +15550000003'
else
	skip 'a text delivered meanwhile reopens it' 'no sms-recv'
fi

# Usage and I/O errors, by exit code.
ls_ -d "$tmp/nope" >/dev/null 2>"$tmp/err"; rc=$?
is 'a missing inbox: exit 66' "$rc" 66
is 'named' "$(cat "$tmp/err")" "inbox-ls: $tmp/nope: no inbox"
ls_ --bogus >/dev/null 2>&1; is 'an unknown option: exit 2' "$?" 2
ls_ -d "$ib" --json --table >/dev/null 2>&1; is '--json with --table: exit 2' "$?" 2
ls_ -d "$ib" --status closed >/dev/null 2>&1; is 'an unknown status: exit 2' "$?" 2
ls_ -d "$ib" --limit 0 >/dev/null 2>&1; is 'a bad --limit: exit 2' "$?" 2
ls_ -d "$ib" --overdue soon >/dev/null 2>&1; is 'a bad --overdue: exit 2' "$?" 2
ls_ -d "$ib" --since yesterday >/dev/null 2>&1; is 'a bad --since: exit 2' "$?" 2
ls_ -d "$ib" --assignee a --unassigned >/dev/null 2>&1
is '--assignee with --unassigned: exit 2' "$?" 2
ls_ -d "$ib" --all +15550000001 >/dev/null 2>&1; is '--all with NUMBER: exit 2' "$?" 2
ls_ -d "$ib" +15550000001 +15550000002 >/dev/null 2>&1; is 'two NUMBERs: exit 2' "$?" 2
ls_ -d "$ib" 'not a number' >/dev/null 2>&1; is 'a NUMBER that is not one: exit 2' "$?" 2
SMSDESK_COUNTRY=XX ls_ -d "$ib" +15550000001 >/dev/null 2>&1
is 'a default country that is not one: exit 78' "$?" 78
if [ -w /dev/full ]; then
	ls_ -d "$ib" >/dev/full 2>/dev/null; is 'a full disk on stdout: exit 74' "$?" 74
	ls_ -d "$ib" +15550000002 >/dev/full 2>/dev/null
	is 'a thread that could not be written: exit 74' "$?" 74
	is 'and it stays unread' "$(tail -n 1 "$ib/conv/+15550000002" | jq .unread)" 1
fi
check '--help prints usage on stdout' "ls_ --help | grep -q '^usage: inbox-ls'"
check '--version' "ls_ --version | grep -q '^inbox-ls (smsdesk) '"

done_testing
