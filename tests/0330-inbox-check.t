#!/bin/sh
# inbox-check(1): each kind of damage smsdesk-inbox(5) rules out, made by
# hand as a crash, a fault or a hand would leave it, is found as one
# NDJSON line; --repair mends what it promises to (a second run then finds
# nothing), moves to quarantine/ what it cannot, deletes nothing but what
# the sweep deletes, and leaves the rest reported. The crash and fault
# tests (0210, 0240, 0292, 0320, 0510, 0540, 0665) run it on the inboxes
# their kills and faults leave.
. "$(dirname "$0")/lib.sh"

twilio_env 0330
umask 077
LC_ALL=C
export LC_ALL

# --- A sound inbox, three threads --------------------------------------------

T1=+15551230001 T2=+15551230002 T3=+15551230003
{
	for i in 1 2; do
		echo "{\"from\":\"$T1\",\"to\":\"$US\",\"provider_id\":\"SMa$i\",\"body\":\"hello $i\"}"
	done
	echo "{\"from\":\"$T2\",\"to\":\"$US\",\"provider_id\":\"SMb1\",\"body\":\"where is it?\"}"
	echo "{\"from\":\"$T3\",\"to\":\"$US\",\"provider_id\":\"SMc1\",\"body\":\"STOP\"}"
} | sms-recv -d "$tmp/base" >/dev/null 2>"$tmp/err" ||
	fail "the inbox is made: $(cat "$tmp/err")"
# queue/ built, as the first assign --next builds it
assign -d "$tmp/base" --add ann >/dev/null &&
    assign -d "$tmp/base" --next --agent ann >/dev/null &&
    assign -d "$tmp/base" -A "$T1" >/dev/null ||
    fail 'assign --next builds queue/'
check 'queue/ is built' '[ -e "$tmp/base/queue/.built" ]'

# fresh NAME: a copy of the sound inbox, as ib.
fresh() { ib=$tmp/$1; cp -a "$tmp/base" "$ib"; }
# run [ARG...]: inbox-check -d $ib ARG..., its findings in $tmp/f, one
# "check path repaired" line each in $tmp/k, its exit status in rc.
run() {
	inbox-check -d "$ib" "$@" >"$tmp/f" 2>"$tmp/e"
	rc=$?
	jq -r '"\(.check) \(.path) \(.repaired)"' "$tmp/f" >"$tmp/k"
}
# first_msg THREAD: the name of THREAD's first message.
first_msg() { ls "$ib/msg/$1" | head -n 1; }

ib=$tmp/base
run
is 'a sound inbox: exit 0, no finding' "$rc:$(cat "$tmp/f")" '0:'
is 'nothing on stderr off a terminal' "$(cat "$tmp/e")" ''

# --- A conversation whose count is behind (a crash before its append) ---------

fresh count
head -n 1 "$ib/conv/$T1" >"$tmp/c" && cat "$tmp/c" >"$ib/conv/$T1"
run
is 'count behind: found, exit 1' "$rc:$(cat "$tmp/k")" "1:count conv/$T1 false"
check 'it says what it counts and what msg/ holds' \
	"jq -e 'select(.problem | test(\"counts 1 messages; msg/\\\\$T1 holds 2\"))' '$tmp/f'"
run --repair
is 'repaired: recounted, exit 0' "$rc:$(cat "$tmp/k")" "0:count conv/$T1 true"
is 'the record counts its two messages' \
	"$(tail -n 1 "$ib/conv/$T1" | jq .messages)" 2
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'

# --- A message without its ledger entry (a crash before step 8) ----------------

fresh ledger
sed -i '/^twilio-SMa2 /d' "$ib"/ids/[0-9a-f][0-9a-f]
run
is 'no entry for a provider id: found' "$rc:$(cut -d' ' -f1,3 "$tmp/k")" \
	'1:ledger false'
check 'it names the key and the message' \
	"jq -e 'select(.problem | test(\"twilio-SMa2\"))' '$tmp/f'"
run --repair
is 'repaired: entered' "$rc:$(cut -d' ' -f1,3 "$tmp/k")" '0:ledger true'
is 'the entry names the message' "$(ledger_target "$ib" twilio-SMa2)" \
	"../msg/$T1/$(ls "$ib/msg/$T1" | tail -n 1)"
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'
# and a retry of the provider is a duplicate again
printf '{"from":"%s","to":"%s","provider_id":"SMa2","body":"hello 2"}\n' \
    "$T1" "$US" | sms-recv -d "$ib" >/dev/null 2>&1
is 'so the provider'"'"'s retry stores nothing' "$(ls "$ib/msg/$T1" | wc -l | tr -d ' ')" 2

# --- Torn files in tmp/: swept past 36 hours, left while young ------------------

fresh tmp
printf '{"type":"message","thr' >"$ib/tmp/1700000000.000000001.P1Q1.old"
printf '{"type":"conv' >"$ib/tmp/1700000000.000000002.P1Q1.old"
touch -d '2 days ago' "$ib"/tmp/1700000000.*.old
printf '{"type":"mess' >"$ib/tmp/1800000000.000000001.P1Q1.young"
run
is 'torn files of tmp/ past 36 hours: found; a young one is not' \
	"$rc:$(cat "$tmp/k")" '1:sweep tmp/1700000000.000000001.P1Q1.old false
sweep tmp/1700000000.000000002.P1Q1.old false'
run --repair
is 'repaired: the old ones removed, the young one left' \
	"$rc:$(cut -d' ' -f3 "$tmp/k" | tr '\n' ' '):$(ls "$ib/tmp")" \
	'0:true true :1800000000.000000001.P1Q1.young'
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'

# --- A journal nobody replayed (a writer killed), and one a writer holds ----------

fresh journal
M=1796000000.000000001.P1Q1.test T9=+15551230009 AT=2026-12-01T10:00:00Z
jq -cn --arg m "$M" --arg t "$T9" --arg at "$AT" --arg us "$US" '{type:
    "journal", message: {type: "message", thread: $t, direction: "in",
    from: $t, to: $us, body: "acknowledged, then killed",
    status: "received", provider: "twilio", provider_id: "SMj1", at: $at,
    id: $m}, conversation: {type: "conversation", thread: $t,
    status: "open", assignee: null, unread: 1, messages: 1,
    opened_at: $at, first_response_at: null, last_in_at: $at,
    last_out_at: null, waiting_since: $at, last_body:
    "acknowledged, then killed", tags: [], csat: null}, history:
    ({event: "message", at: $at, thread: $t, msg: $m, direction: "in"} |
    tojson + "\n")}' >"$ib/journal/dead.0"
: >"$ib/journal/dead.1"
# and the head of its event, torn by the kill, closed by the next writer
printf '{"event":"message","at":"%s","thread":"%s","msg":"%s","dir\n' \
    "$AT" "$T9" "$M" >"$ib/history/2026-12-01"
run
is 'a journal no writer holds: found, both files' "$rc:$(cat "$tmp/k")" \
	"1:journal journal/dead.0 false
journal journal/dead.1 false"
run --repair
is 'repaired: replayed' "$rc:$(cut -d' ' -f1,3 "$tmp/k" | sort -u)" \
	'0:journal true'
check 'its event is in the history whole, not taken for the torn head' \
	"grep -q '\"msg\":\"$M\",\"direction\":\"in\"}' '$ib/history/2026-12-01'"
is 'the message is back in its thread, counted, the journal gone' \
	"$(ls "$ib/msg/$T9"):$(tail -n 1 "$ib/conv/$T9" | jq .messages):$(ls "$ib/journal")" \
	"$M:1:"
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'
touch "$ib/journal/stuck"
run --repair
is 'the flag of a stuck journal with no journal left: found and cleared' \
	"$rc:$(cat "$tmp/k"):$(ls "$ib/journal")" '0:journal journal/stuck true:'

serve "$tmp/l.out" "$tmp/l.err" sms-recv -d "$ib" ||
	fail 'the listener starts'
lpid=$server
check 'a running listener holds its journal' "[ -n \"\$(ls '$ib/journal')\" ]"
run
is 'which is no finding' "$rc:$(cat "$tmp/f")" '0:'
kill -TERM "$lpid"
wait "$lpid"

# --- Modes, and what the layout never holds -------------------------------------

fresh modes
m=$(first_msg "$T1")
chmod 644 "$ib/msg/$T1/$m"
chmod 750 "$ib/history"
ln -s /etc/passwd "$ib/msg/$T1/9999999999.000000000.P1Q1.evil"
mkfifo "$ib/status/fifo"
run
is 'modes too wide, a symbolic link and a FIFO: found' \
	"$rc:$(sort "$tmp/k")" "1:mode history false
mode msg/$T1/$m false
record msg/$T1/9999999999.000000000.P1Q1.evil false
record status/fifo false"
run --repair
is 'repaired' "$rc:$(cut -d' ' -f3 "$tmp/k" | sort -u)" '0:true'
is 'modes set' "$(stat -c %a "$ib/msg/$T1/$m" "$ib/history" | tr '\n' ' ')" \
	'600 700 '
is 'the link and the FIFO moved to quarantine/, nothing followed' \
	"$(ls "$ib/quarantine" | sed 's/^[^_]*_//' | sort | tr '\n' ' '):$(ls "$ib/msg/$T1" | wc -l | tr -d ' ')" \
	'9999999999.000000000.P1Q1.evil fifo :2'
check '/etc/passwd is as it was' '[ -f /etc/passwd ] && ! [ -L /etc/passwd ]'
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'
# A writer moves aside what it meets (here a directory planted as
# journal/dead.0, tests/0250) as it was, mode and all.
q=quarantine/1796000000.000000009.P1Q1.test_dead.0
mkdir -m 755 "$ib/$q" && (umask 022 && echo x >"$ib/$q/f")
run
is 'what quarantine/ holds keeps the mode it came with: no finding' \
	"$rc:$(cat "$tmp/f")" '0:'
chmod 750 "$ib/quarantine"
run
is 'quarantine/ itself is judged' "$rc:$(cat "$tmp/k")" '1:mode quarantine false'
chmod 700 "$ib/quarantine"

# --- Records that do not parse ----------------------------------------------------

fresh records
echo 'not a record' >"$ib/conv/$T1"
printf 'garbage\n' >"$ib/msg/$T2/1796000000.000000002.P1Q1.test"
echo '{"type":"consent","number":"+15559999999","state":"out"}' \
    >"$ib/consent/$T3/1796000000.000000003.P1Q1.test"
run
is 'a conversation, a message and a consent record that are not theirs: found' \
	"$rc:$(sort "$tmp/k")" "1:count conv/$T1 false
record consent/$T3/1796000000.000000003.P1Q1.test false
record conv/$T1 false
record msg/$T2/1796000000.000000002.P1Q1.test false"
run --repair
is 'repaired' "$rc:$(cut -d' ' -f3 "$tmp/k" | sort -u)" '0:true'
is 'three files in quarantine/' "$(ls "$ib/quarantine" | wc -l | tr -d ' ')" 3
is 'the conversation made anew, open, counting its messages' \
	"$(tail -n 1 "$ib/conv/$T1" | jq -c '[.status, .messages]')" '["open",2]'
is 'its messages stay' "$(ls "$ib/msg/$T1" | wc -l | tr -d ' ')" 2
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'

# --- The working set and its index ------------------------------------------------

fresh sets
rm "$ib/work/$T2"
q=$(ls "$ib/queue" | grep ",$T2\$")
rm "$ib/queue/$q"
run
is 'an open conversation out of work/ and queue/: found' \
	"$rc:$(sort "$tmp/k")" "1:queue queue/$q false
work work/$T2 false"
run --repair
is 'repaired: both made' "$rc:$(ls "$ib/work/$T2" "$ib/queue/$q" | wc -l | tr -d ' ')" '0:2'
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'
check 'and inbox-ls lists it' "inbox-ls -d '$ib' --json | jq -se 'map(.thread) | index(\"$T2\")'"

# --- The outbox and the schedule ----------------------------------------------------

fresh out
inbox_check_skip="${inbox_check_skip-} $ib"	# the history, rightly, says less
now=$(from_now 0) later=$(from_now 86400)
jq -cn --arg t "$T2" --arg at "$now" --arg us "$US" '{type: "message",
    id: "1796000000.000000004.P1Q1.test", thread: $t, direction: "out",
    from: $us, to: $t, body: "on its way", status: "queued", at: $at}' \
    >"$ib/msg/$T2/1796000000.000000004.P1Q1.test"
jq -cn --arg t "$T2" --arg at "$now" --arg us "$US" --arg sa "$later" '{type:
    "message", id: "1796000000.000000005.P1Q1.test", thread: $t,
    direction: "out", from: $us, to: $t, body: "tomorrow",
    status: "scheduled", send_at: $sa, at: $at}' \
    >"$ib/msg/$T2/1796000000.000000005.P1Q1.test"
tail -n 1 "$ib/conv/$T2" | jq -c '.messages += 2' >>"$ib/conv/$T2"
run
is 'a queued message out of the outbox, a scheduled one out of schedule/: found' \
	"$rc:$(cut -d' ' -f1,3 "$tmp/k" | sort | tr '\n' ' ')" \
	'1:history false history false outbox false schedule false '
run --repair
is 'the two index entries mended; the history says less and stays so' \
	"$rc:$(cut -d' ' -f1,3 "$tmp/k" | sort | tr '\n' ' ')" \
	'1:history false history false outbox true schedule true '
is 'the queued one is in the outbox' "$(outbox_ids "$ib")" \
	1796000000.000000004.P1Q1.test
is 'the scheduled one is listed' \
	"$(inbox-ls -d "$ib" --scheduled --json | jq -r .id)" \
	1796000000.000000005.P1Q1.test
run
is 'a second run finds only the history' "$rc:$(cut -d' ' -f1 "$tmp/k" | sort -u)" \
	'1:history'

# --- The history: each event in the file of its day ----------------------------------

fresh longday
day=$(ls "$ib/history" | head -n 1)
awk -v d="$day" 'BEGIN { for (i = 0; i < 16000; i++)
	printf "{\"event\":\"tagged\",\"at\":\"%sT00:00:00Z\",\"thread\":\"+15550000000\",\"tags\":[\"padding padding padding padding padding padding padding\"]}\n", d }' \
    >"$tmp/pad"
cat "$tmp/pad" "$ib/history/$day" >"$ib/history/$day.new" &&
    mv "$ib/history/$day.new" "$ib/history/$day"
run
is 'a day file of over two megabytes is read whole: its events are found' \
	"$rc:$(cat "$tmp/f")" '0:'

fresh history
inbox_check_skip="${inbox_check_skip-} $ib"	# an event of 2020, never rewritten
day=$(ls "$ib/history" | head -n 1)
echo '{"event":"tagged","at":"2020-01-01T00:00:00Z","thread":"+15551230001"}' \
    >>"$ib/history/$day"
run --repair
is 'an event in the file of another day: found, never rewritten' \
	"$rc:$(cat "$tmp/k")" "1:history history/$day false"
check 'no repair is offered' "jq -e '.repair == null' '$tmp/f'"

# --- An erasure a fault cut short -------------------------------------------------

if faults_env; then
	k=0
	while [ "$k" -lt 200 ]; do
		k=$((k + 1))
		fresh "erase-$k"
		LD_PRELOAD=$shim SMSDESK_FAULT_AT=$k SMSDESK_FAULT_MODE=always \
		    SMSDESK_FAULT_LOG=$tmp/calls inbox-export -d "$ib" \
		    --erase "$T2" >/dev/null 2>&1
		[ -d "$ib/tmp/erase,$T2" ] && ! [ -e "$ib/conv/$T2" ] && break
		rm -rf "$ib"
	done
	check "a fault at call $k leaves the erasure of $T2 half done" \
		"[ -d '$ib/tmp/erase,$T2' ]"
	run
	is 'it is found (and its thread is the erasure'"'"'s, no other finding)' \
		"$rc:$(cat "$tmp/k")" "1:erasure tmp/erase,$T2 false"
	run --repair
	is 'repaired: finished' "$rc:$(cat "$tmp/k")" \
		"0:erasure tmp/erase,$T2 true"
	is 'nothing of the thread is left but its consent and lock' \
		"$(ls "$ib/msg" "$ib/conv" | grep -c -- "$T2"):$(ls -A "$ib/tmp")" '0:'
	run
	is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'
fi

# --- Everything at once: one --repair mends it all -------------------------------

fresh all
head -n 1 "$ib/conv/$T1" >"$tmp/c" && cat "$tmp/c" >"$ib/conv/$T1"
sed -i '/^twilio-SMb1 /d' "$ib"/ids/[0-9a-f][0-9a-f]
chmod 640 "$ib/conv/$T3"
rm "$ib/work/$T2"
printf x >"$ib/tmp/old" && touch -d '3 days ago' "$ib/tmp/old"
run
n=$(wc -l <"$tmp/f" | tr -d ' ')
is 'five kinds of damage: five findings, exit 1' "$rc:$n" '1:5'
run --repair
is 'one --repair mends them all: exit 0' "$rc:$(cut -d' ' -f3 "$tmp/k" | sort -u)" '0:true'
run
is 'a second run finds nothing' "$rc:$(cat "$tmp/f")" '0:'

# --- Exit codes -----------------------------------------------------------------

check_exit 'a missing inbox: 66' 66 'inbox-check -d "$tmp/none"'
check_exit 'an unknown option: 2' 2 'inbox-check -d "$tmp/base" --bogus'
check_exit 'an operand: 2' 2 'inbox-check -d "$tmp/base" extra'
check_exit '--backup with --repair: 2' 2 \
	'inbox-check -d "$tmp/base" --repair --backup "$tmp/b"'
fresh full
chmod 644 "$ib/conv/$T1"
inbox_check_skip="${inbox_check_skip-} $ib"	# the mode, left for this finding
check_exit 'findings to a full disk: 74' 74 'inbox-check -d "$ib" >/dev/full'
check_exit 'the version: 0' 0 'inbox-check --version | grep -q "^inbox-check "'

done_testing
