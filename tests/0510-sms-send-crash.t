#!/bin/sh
# sms-send(1) killed at random moments, for smsdesk(7), GUARANTEES: a send
# is never lost nor blindly repeated (an outbound message is never
# silently lost and never blindly sent twice).
#
# SLOW: about 30 to 90 s on a 2-core machine (it runs in `make check`).
#
# 1,000 logical messages, NDJSON records with unique keys and bodies, to 50
# recipients, are sent to sms-sim (with latency, so that kills land while
# requests are in flight, and a small share of dropped connections, so that
# some answers never come). sms-send runs on the whole input, --jobs 4 or now
# and then --jobs 1, and is SIGKILLed after a random 20 to 400 ms, again and
# again, until a run finishes before its kill (after the time budget, the
# last run is left to finish). Then the user's way to finish the job, as
# sms-send(1) tells it:
#
#   1. sms-send --reconcile (with SMSDESK_RECONCILE_GRACE=0: every
#      sms-send is dead, so what the provider does not know was not sent);
#   2. the messages it failed with not_sent sent again, under new keys;
#   3. sms-send --reconcile again, which must find nothing left.
#
# Then, per logical message (its body is unique), from sms-sim's request
# log and from the provider's own list of messages: created more than once
# is a blind duplicate, never created and not recorded as failed is lost.
# And every logical message must be exactly one live (not failed) message
# in its thread, settled (a provider id; nothing queued without one, nothing
# unknown), with the provider's id for it, and the outbox must be empty.
#
# The seed is printed; SMSDESK_SEED=N replays a run's choices (the kill
# times, -j, the latency, the drops; not the scheduling).
# SMSDESK_CRASH_SECONDS changes the time budget of the kill rounds
# (default 45), SMSDESK_CRASH_ROUNDS a quarter of their most (default 100;
# `make soak` raises both).
. "$(dirname "$0")/lib.sh"

twilio_env 0510
unset SMSDESK_RECONCILE_GRACE

seed=${SMSDESK_SEED:-$$}
budget=$(rounds SMSDESK_CRASH_SECONDS 45)
logical=1000
recipients=50
max_rounds=$(($(rounds SMSDESK_CRASH_ROUNDS 100) * 4))
diag "seed=$seed (SMSDESK_SEED=$seed replays it)"

ib=$tmp/inbox
mkinbox "$ib"
simpid= pid=
trap 'for p in $pid $simpid; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# The choices, from the seed: the latency, the drop share, and per round
# the kill delay and -j.
set -- $(awk -v seed="$seed" 'BEGIN { srand(seed);
	printf "%d %d\n", 5 + int(rand() * 26), int(rand() * 3) }')
latency=$1 drop=$2
awk -v seed="$seed" -v n="$max_rounds" 'BEGIN { srand(seed + 1);
	for (i = 0; i < n; i++)
		printf "%.3f %d\n", (20 + int(rand() * 381)) / 1000,
		    rand() < 0.25 ? 1 : 4 }' >"$tmp/rounds"

# --- The provider -------------------------------------------------------------

sim sim --latency "$latency" --drop "$drop" --seed "$seed" ||
    { fail 'sms-sim starts'; done_testing; }
pass "sms-sim starts (latency ${latency} ms, drop ${drop} %)"

# --- The logical messages -------------------------------------------------------

awk -v n="$logical" -v r="$recipients" -v seed="$seed" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "{\"to\":\"+1555200%04d\",\"body\":\"msg %d of run %s\",\"key\":\"crash-%s-%d\"}\n",
		    (i * 7) % r, i, seed, seed, i }' >"$tmp/in"

# --- Kill rounds ----------------------------------------------------------------

rounds=0 kills=0 finished= last_rc=
t0=$(date +%s)
while read -r d j; do
	rounds=$((rounds + 1))
	elapsed=$(($(date +%s) - t0))
	if [ "$elapsed" -ge "$budget" ] || [ "$rounds" -ge "$max_rounds" ]; then
		# Out of time: this run is left to finish.
		sms-send -d "$ib" --jobs 4 <"$tmp/in" >"$tmp/out.$rounds" \
		    2>"$tmp/err.$rounds"
		last_rc=$?
		finished=last
		break
	fi
	sms-send -d "$ib" --jobs "$j" <"$tmp/in" >"$tmp/out.$rounds" \
	    2>"$tmp/err.$rounds" &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	pid=
	if [ "$rc" -eq 137 ]; then
		kills=$((kills + 1))
	else
		last_rc=$rc
		finished=round
		break
	fi
done <"$tmp/rounds"
kill_s=$(($(date +%s) - t0))

check 'a run finished' '[ -n "$finished" ]'
# 0: all sent; 75: some are left unknown or queued, for --reconcile.
check "the finishing run exits 0 or 75 (it did: $last_rc)" \
	'[ "$last_rc" = 0 ] || [ "$last_rc" = 75 ]'
check 'the finishing run reports every logical message' \
	'[ "$(jq -s "map(.key) | unique | length" "$tmp/out.$rounds")" = $logical ]'

# --- Finish the job, as a user would --------------------------------------------

# Every sms-send is dead: what the provider does not know was not sent.
SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib" --reconcile >"$tmp/rec1" 2>"$tmp/rec1.err"
rec1_rc=$?
check "--reconcile exits 0 or 1 (not_sent) (it did: $rec1_rc)" \
	'[ "$rec1_rc" = 0 ] || [ "$rec1_rc" = 1 ]'
[ "$rec1_rc" = 0 ] || [ "$rec1_rc" = 1 ] || sed 's/^/# /' "$tmp/rec1.err" >&2
unknown_reconciled=$(jq -s 'map(select(.provider_id)) | length' "$tmp/rec1")
not_sent=$(jq -s 'map(select(.error.code == "not_sent")) | length' "$tmp/rec1")
check 'every message --reconcile reports is settled: found or not_sent' \
	'jq -s -e "all(.[]; .provider_id or .error.code == \"not_sent\")" "$tmp/rec1"'

# The not_sent ones go again, under a new key, as sms-send(1) says.
jq -c 'select(.error.code == "not_sent") |
	{to: .thread, body, key: ("again-" + .key)}' "$tmp/rec1" >"$tmp/again"
resent=$(wc -l <"$tmp/again" | tr -d ' ')
if [ "$resent" -gt 0 ]; then
	sms-send -d "$ib" --jobs 4 <"$tmp/again" >"$tmp/again.out" 2>"$tmp/again.err"
	again_rc=$?
else
	again_rc=0
fi

SMSDESK_RECONCILE_GRACE=0 sms-send -d "$ib" --reconcile >"$tmp/rec2" 2>"$tmp/rec2.err"
rec2_rc=$?
unknown_reconciled=$((unknown_reconciled + $(jq -s 'map(select(.provider_id)) | length' "$tmp/rec2")))
# A dropped answer to a resend is unknown, and the second --reconcile
# settles it: that is fine; a not_sent now would be a loss.
check 'the second --reconcile finds nothing left to resend' \
	'[ "$rec2_rc" = 0 ] && jq -s -e "all(.[]; .provider_id)" "$tmp/rec2" >/dev/null'
{ [ "$rec2_rc" = 0 ] && jq -s -e "all(.[]; .provider_id)" "$tmp/rec2" >/dev/null; } ||
    { echo "exit $rec2_rc"; cat "$tmp/rec2" "$tmp/rec2.err"; } |
    head -n 10 | sed 's/^/# /' >&2
# What stays in outbox/ is only what the provider took and has not called
# final yet (no status callbacks here): it has its id, and a status past
# queued; nothing unknown, nothing without an id.
check 'the outbox holds only messages the provider took' \
	'for f in $(outbox_files "$ib"); do [ -e "$f" ] || continue
	    jq -e ".provider_id and (.status == \"sent\" or
		.status == \"accepted\" or .status == \"sending\")" "$f" >/dev/null ||
		{ cat "$f"; exit 1; }; done'

# --- What the provider has ----------------------------------------------------------

# From the request log: every create (answered or dropped) names its sid.
jq -r 'select(.method == "POST" and (.path | endswith("/Messages.json")) and
	.sid != null) | [.sid, .params.Body] | @tsv' "$tmp/sim.log" >"$tmp/created"
created=$(wc -l <"$tmp/created" | tr -d ' ')

# From the provider's own list, page after page, as a cross-check.
: >"$tmp/listed"
uri="/2010-04-01/Accounts/$AC/Messages.json?PageSize=1000"
pages=0
while [ -n "$uri" ] && [ "$uri" != null ] && [ "$pages" -lt 50 ]; do
	pages=$((pages + 1))
	curl -s -u "$AC:$TOK" "$TWILIO_API_URL$uri" >"$tmp/page" || break
	jq -r '.messages[] | select(.direction == "outbound-api") |
	    [.sid, .body] | @tsv' "$tmp/page" >>"$tmp/listed"
	uri=$(jq -r .next_page_uri "$tmp/page")
done
is 'the provider lists what its log says it created' \
	"$(sort "$tmp/listed" | md5sum)" "$(sort "$tmp/created" | md5sum)"

# --- Per logical message ---------------------------------------------------------------

# The inbox's outbound records, one TSV line each: body, status, provider
# id, error code, file. A message file's record is its last line (the
# lines before are how its status went).
jq -nr 'reduce inputs as $r ({}; .[input_filename] = $r) | to_entries[] |
    select(.value.direction == "out") |
    [.value.body, .value.status, (.value.provider_id // "-"),
     (.value.error.code // "-"), .key] | @tsv' "$ib"/msg/*/* >"$tmp/stored"

jq -r .body "$tmp/in" | awk -F '\t' -v created="$tmp/created" \
    -v stored="$tmp/stored" -v report="$tmp/report" '
	BEGIN {
		while ((getline l < created) > 0) {
			split(l, c, "\t")
			n[c[2]]++
			sid[c[2]] = c[1]
		}
		while ((getline l < stored) > 0) {
			split(l, s, "\t")
			b = s[1]
			if (s[2] == "failed") {
				failed[b]++
				fcode[b] = s[4]
				continue
			}
			live[b]++
			lid[b] = s[3]
			if (s[2] == "unknown" || s[3] == "-") {
				unsettled[b]++
				ufile[b] = s[5]
			}
		}
	}
	{
		logical++
		if (n[$0] == 1)
			once++
		if (n[$0] > 1) {
			dup++
			print "blind duplicate: " $0 " created " n[$0] " times" > report
		}
		if (!n[$0] && !failed[$0]) {
			lost++
			print "lost: " $0 > report
		}
		if (!n[$0] && failed[$0] && !live[$0]) {
			failed_final++
			print "failed for good (" fcode[$0] "): " $0 > report
		}
		if (live[$0] != 1 && n[$0]) {
			notone++
			print "live records: " live[$0] + 0 ": " $0 > report
		}
		if (unsettled[$0]) {
			unsettled_n++
			print "unsettled: " $0 " in " ufile[$0] > report
		}
		if (live[$0] == 1 && n[$0] == 1 && lid[$0] != sid[$0]) {
			wrongid++
			print "wrong id: " $0 " has " lid[$0] ", the provider " sid[$0] > report
		}
	}
	END {
		printf "%d %d %d %d %d %d %d %d\n", logical, once, lost, dup,
		    failed_final, notone, unsettled_n, wrongid
	}' >"$tmp/counts"
: >>"$tmp/report"
read -r nlogical delivered_once lost blind failed_final notone unsettled wrongid <"$tmp/counts"

# What a reader sees: inbox-ls, per thread, every outbound message once.
: >"$tmp/visible"
for t in $(ls "$ib/msg"); do
	inbox-ls -d "$ib" --json --no-mark "$t" 2>>"$tmp/ls.err" |
	    jq -r 'select(.type == "message" and .direction == "out" and
		.status != "failed") | .body' >>"$tmp/visible" ||
	    echo "inbox-ls $t failed" >>"$tmp/ls.err"
done
visible_bad=$(jq -r .body "$tmp/in" | sort | cat - "$tmp/visible" | sort |
    uniq -c | awk '$1 != 2' | wc -l | tr -d ' ')

diag "rounds=$rounds kills=$kills logical=$nlogical created=$created delivered_once=$delivered_once lost=$lost blind_duplicates=$blind reconciled=$unknown_reconciled"
diag "seed=$seed total_s=$(($(date +%s) - t0)) kill_phase_s=$kill_s finished_by=$finished exit=$last_rc latency_ms=$latency drop_pct=$drop dropped=$(jq -s 'map(select(.dropped)) | length' "$tmp/sim.log") unknown_answers=$(cat "$tmp"/err.* | grep -c ': unknown: ') not_sent=$not_sent resent=$resent resend_exit=$again_rc failed_for_good=$failed_final unsettled=$unsettled not_one_live=$notone wrong_id=$wrongid visible_not_once=$visible_bad"

is 'every logical message is in the input' "$nlogical" "$logical"
is 'blind_duplicates=0: no message created twice at the provider' "$blind" 0
is 'lost=0: every message created, or recorded as failed' "$lost" 0
is 'none failed for good (the provider refused nothing)' "$failed_final" 0
is 'every message sent is one live record in its thread' "$notone" 0
is 'every message is settled: none unknown, none queued without an id' \
	"$unsettled" 0
is 'each record has the id the provider gave its message' "$wrongid" 0
is 'inbox-ls shows every message once' "$visible_bad" 0
is 'inbox-ls read every thread cleanly' "$(cat "$tmp/ls.err" 2>/dev/null)" ''
[ -s "$tmp/report" ] && head -n 10 "$tmp/report" | sed 's/^/# /' >&2

done_testing
