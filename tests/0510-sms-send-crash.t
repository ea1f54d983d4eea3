#!/bin/sh
# sms-send(1) killed at random moments, for smsdesk(7), GUARANTEES: a send
# is never lost nor blindly repeated (an outbound message is never
# silently lost and never blindly sent twice).
#
# SLOW: about 30 to 90 s on a 2-core machine (it runs in `make check`).
#
# For each provider sms-sim plays (lib.sh's sms_sim_providers, those of
# $PROVIDERS): 1,000 logical messages in all, a share each (333 for
# three), NDJSON records with unique keys and bodies, are sent to the
# provider's sms-sim (with latency, so that kills land while requests are
# in flight, and a small share of dropped connections, so that some
# answers never come), each provider into an inbox of its own. Round r
# runs sms-send for provider r mod N (among those not finished) on its
# whole input, --jobs 4 or now and then --jobs 1, and SIGKILLs it after a
# random 20 to 400 ms, again and again, until each provider's run
# finishes before its kill (after the time budget, the last runs are left
# to finish): the rounds are shared, not multiplied. Then the user's way
# to finish the job, as sms-send(1) tells it:
#
#   1. sms-send --reconcile (with SMSDESK_RECONCILE_GRACE=0: every
#      sms-send is dead, so what the provider does not know was not sent);
#   2. the messages it failed with not_sent sent again, under new keys;
#   3. sms-send --reconcile again, which must find nothing left.
#
# Then, per logical message, from sms-sim's request log and the
# provider's own record of each message: created more than once is a
# blind duplicate, never created and not recorded as failed is lost. And
# every logical message must be exactly one live (not failed) message in
# its thread, settled (a provider id; nothing queued without one, nothing
# unknown), with the provider's id for it, and the outbox must be empty.
#
# A logical message is known by its body with Twilio (50 recipients, 20
# messages each: --reconcile tells them apart by their text). Telnyx's and
# Plivo's API show no text the test or --reconcile could match (the sim
# logs no JSON body; Plivo's message records have no text), so each of
# their messages goes to a number of its own, and is known by it. Telnyx
# lists no messages: a message whose answer was lost stays unknown (and
# one killed before its answer, queued), said by --reconcile, never sent
# again; for Telnyx those are counted, not failed, and must still be in
# the outbox.
#
# The seed is printed; SMSDESK_SEED=N replays a run's choices (the kill
# times, -j, the latency, the drops; not the scheduling).
# SMSDESK_CRASH_SECONDS changes the time budget of the kill rounds
# (default 45), SMSDESK_CRASH_ROUNDS a quarter of their most (default 100;
# `make soak` raises both).
. "$(dirname "$0")/lib.sh"

carriers_env 0510
unset SMSDESK_RECONCILE_GRACE

seed=${SMSDESK_SEED:-$$}
budget=$(rounds SMSDESK_CRASH_SECONDS 45)
max_rounds=$(($(rounds SMSDESK_CRASH_ROUNDS 100) * 4))
diag "seed=$seed (SMSDESK_SEED=$seed replays it)"

sims=
for P in $sms_sim_providers; do
	case " $providers " in *" $P "*) sims="$sims $P" ;; esac
done
nsims=$(echo $sims | wc -w)
logical=$((1000 / nsims))
pid=
trap 'for p in $pid $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# The choices, from the seed: the latency, the drop share, and per round
# the kill delay and -j.
set -- $(awk -v seed="$seed" 'BEGIN { srand(seed);
	printf "%d %d\n", 5 + int(rand() * 26), int(rand() * 3) }')
latency=$1 drop=$2
awk -v seed="$seed" -v n="$max_rounds" 'BEGIN { srand(seed + 1);
	for (i = 0; i < n; i++)
		printf "%.3f %d\n", (20 + int(rand() * 381)) / 1000,
		    rand() < 0.25 ? 1 : 4 }' >"$tmp/rounds"

# --- The providers, the logical messages ------------------------------------

for P in $sims; do
	mkinbox "$tmp/inbox-$P"
	serve "$tmp/sim-$P.out" "$tmp/sim-$P.err" sms-sim --provider "$P" \
	    --number "$US" --log "$tmp/sim-$P.log" --latency "$latency" \
	    --drop "$drop" --seed "$seed" ||
	    { fail "$P: sms-sim starts"; done_testing; }
	api_url "$P" "http://127.0.0.1:$port"
	pass "$P: sms-sim starts (latency ${latency} ms, drop ${drop} %)"
	# Twilio's 50 recipients; the others' a number each.
	r=50
	[ "$P" = twilio ] || r=$logical
	awk -v n="$logical" -v r="$r" -v seed="$seed" -v p="$P" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"to\":\"+1555200%04d\",\"body\":\"msg %d of run %s via %s\",\"key\":\"crash-%s-%s-%d\"}\n",
			    (i * 7) % r, i, seed, p, seed, p, i }' >"$tmp/in-$P"
done

# send P ARG...: sms-send for provider P, into its inbox.
send() {
	s_p=$1
	shift
	SMSDESK_PROVIDER=$s_p sms-send -d "$tmp/inbox-$s_p" "$@"
}

# --- Kill rounds ----------------------------------------------------------------

# Round r: the provider r mod N of those not finished.
rounds=0 kills=0 finished=
t0=$(date +%s)
while read -r d j; do
	set -- $(for P in $sims; do
		case " $finished " in *" $P "*) ;; *) echo "$P" ;; esac
	done)
	[ $# -gt 0 ] || break
	eval "P=\${$((rounds % $# + 1))}"
	rounds=$((rounds + 1))
	elapsed=$(($(date +%s) - t0))
	[ "$elapsed" -ge "$budget" ] || [ "$rounds" -ge "$max_rounds" ] && break
	# sms-send itself in the background (not a function's subshell):
	# $! is the process killed.
	SMSDESK_PROVIDER=$P sms-send -d "$tmp/inbox-$P" --jobs "$j" \
	    <"$tmp/in-$P" >"$tmp/out-$P.$rounds" 2>"$tmp/err-$P.$rounds" &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	pid=
	if [ "$rc" -eq 137 ]; then
		kills=$((kills + 1))
	else
		eval "last_rc_$P=\$rc last_out_$P=\$tmp/out-\$P.\$rounds"
		finished="$finished $P"
		eval "finished_$P=round"
	fi
done <"$tmp/rounds"
# Out of time: the runs not finished are left to finish.
for P in $sims; do
	case " $finished " in *" $P "*) continue ;; esac
	send "$P" --jobs 4 <"$tmp/in-$P" >"$tmp/out-$P.last" 2>"$tmp/err-$P.last"
	eval "last_rc_$P=\$? last_out_$P=\$tmp/out-\$P.last finished_$P=last"
done
kill_s=$(($(date +%s) - t0))
diag "rounds=$rounds kills=$kills kill_phase_s=$kill_s providers=$(echo $sims | tr ' ' ,) logical_each=$logical"

for P in $sims; do
ib=$tmp/inbox-$P
eval "last_rc=\$last_rc_$P last_out=\$last_out_$P finished=\$finished_$P"
log=$tmp/sim-$P.log
t1=$(date +%s)

check "$P: its last run exits 0 or 75 (it did: $last_rc, finished by $finished)" \
	'[ "$last_rc" = 0 ] || [ "$last_rc" = 75 ]'
check "$P: its last run reports every logical message" \
	'[ "$(jq -s "map(.key) | unique | length" "$last_out")" = $logical ]'

# --- Finish the job, as a user would --------------------------------------------

# Every sms-send is dead: what the provider does not know was not sent.
SMSDESK_RECONCILE_GRACE=0 send "$P" --reconcile >"$tmp/rec1" 2>"$tmp/rec1.err"
rec1_rc=$?
check "$P: --reconcile exits 0 or 1 (not_sent), or 75 for what it cannot tell (it did: $rec1_rc)" \
	'[ "$rec1_rc" = 0 ] || [ "$rec1_rc" = 1 ] || [ "$rec1_rc" = 75 ]'
unknown_reconciled=$(jq -s 'map(select(.provider_id)) | length' "$tmp/rec1")
not_sent=$(jq -s 'map(select(.error.code == "not_sent")) | length' "$tmp/rec1")
# cannot_tell: what --reconcile left as it was (Telnyx lists nothing;
# Plivo's list shows no texts), said on stderr.
cannot_tell=$(grep -c 'cannot be told' "$tmp/rec1.err")
check "$P: every message --reconcile reports is settled: found, not_sent, or said it cannot be told" \
	'jq -s -e "all(.[]; .provider_id or .error.code == \"not_sent\" or
	    .status == \"unknown\" or .status == \"queued\")" "$tmp/rec1" >/dev/null &&
	[ "$(jq -s "map(select(.provider_id == null and .error.code != \"not_sent\")) | length" "$tmp/rec1")" = "$cannot_tell" ]'

# The not_sent ones go again, under a new key, as sms-send(1) says.
jq -c 'select(.error.code == "not_sent") |
	{to: .thread, body, key: ("again-" + .key)}' "$tmp/rec1" >"$tmp/again"
resent=$(wc -l <"$tmp/again" | tr -d ' ')
if [ "$resent" -gt 0 ]; then
	send "$P" --jobs 4 <"$tmp/again" >"$tmp/again.out" 2>"$tmp/again.err"
	again_rc=$?
else
	again_rc=0
fi

SMSDESK_RECONCILE_GRACE=0 send "$P" --reconcile >"$tmp/rec2" 2>"$tmp/rec2.err"
rec2_rc=$?
unknown_reconciled=$((unknown_reconciled + $(jq -s 'map(select(.provider_id)) | length' "$tmp/rec2")))
left=$(grep -c 'cannot be told' "$tmp/rec2.err")
# A dropped answer to a resend is unknown, and the second --reconcile
# settles it: that is fine; a not_sent now would be a loss. What it
# cannot tell is left (Telnyx), never not_sent.
check "$P: the second --reconcile finds nothing left to resend" \
	'{ [ "$rec2_rc" = 0 ] || { [ "$rec2_rc" = 75 ] && [ "$left" -gt 0 ]; }; } &&
	jq -s -e "all(.[]; .error.code != \"not_sent\")" "$tmp/rec2" >/dev/null'
# What stays in outbox/ is only what the provider took and has not called
# final yet (no status callbacks here): it has its id, and a status past
# queued; nothing unknown, nothing without an id, but what --reconcile
# said it cannot tell.
outbox_files "$ib" | while read -r f; do [ -e "$f" ] && echo "$f"; done |
    xargs -r tail -q -n 1 >"$tmp/outrecs"
check "$P: the outbox holds only messages the provider took, or it cannot tell" \
	'jq -se "all(.[]; .provider_id == null or (.status == \"sent\" or
	    .status == \"accepted\" or .status == \"sending\" or
	    .status == \"queued\"))" "$tmp/outrecs" >/dev/null &&
	[ "$(jq -s "map(select(.provider_id == null)) | length" "$tmp/outrecs")" = "$left" ]'

# --- What the provider has ----------------------------------------------------------

# From the request log: every create (answered or dropped) names its id
# (Telnyx's and Plivo's UUIDs are made of the logged SM id); the key is
# the body (Twilio) or the recipient, which the provider's own record of
# the message gives (fetched, every one in one curl run).
case $P in
twilio) path='/Messages.json' ;; telnyx) path=/v2/messages ;; *) path=/Message/ ;;
esac
jq -r --arg p "$path" 'select(.method == "POST" and (.path | endswith($p))
	and .sid != null) | [.sid, (.params.Body // "")] | @tsv' "$log" |
    if [ "$P" = twilio ]; then cat; else
    sed 's/^SM\(........\)\(....\)\(....\)\(....\)\([^	]*\)/\1-\2-\3-\4-\5/'; fi \
    >"$tmp/created-ids"
mkdir -p "$tmp/got-$P"
first=1
while IFS="$(printf '\t')" read -r sid body; do
	[ -n "$first" ] || echo next
	first=
	case $P in
	twilio) u="$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages/$sid.json"
		printf 'user = "%s:%s"\n' "$AC" "$TOK" ;;
	telnyx)	u="$TELNYX_API_URL/v2/messages/$sid"
		printf 'header = "Authorization: Bearer %s"\n' "$TELNYX_API_KEY" ;;
	plivo)	u="$PLIVO_API_URL/v1/Account/$PLIVO_AUTH_ID/Message/$sid/"
		printf 'user = "%s:%s"\n' "$PLIVO_AUTH_ID" "$PLIVO_AUTH_TOKEN" ;;
	esac
	printf 'url = "%s"\noutput = "%s"\n' "$u" "$tmp/got-$P/$sid"
done <"$tmp/created-ids" >"$tmp/fetch.cfg"
[ -s "$tmp/fetch.cfg" ] && curl -s --no-progress-meter --parallel \
    --parallel-max 8 -K "$tmp/fetch.cfg" 2>/dev/null
# Each id with its key, as the provider's record of it says: Twilio's
# body, Telnyx's and Plivo's recipient ("?" if it has no such message).
cut -f 1 "$tmp/created-ids" | while read -r sid; do
	[ -s "$tmp/got-$P/$sid" ] && echo "$tmp/got-$P/$sid"
done | xargs -r jq -r 'input_filename as $f | ($f | sub(".*/"; "")) as $s |
	if .sid then [$s, (if .sid == $s then .body else "?" end)]
	elif .data then [$s, (.data.to[0].phone_number // "?")]
	elif .message_uuid then [$s, ("+" + .to_number)]
	else [$s, "?"] end | @tsv' >"$tmp/created"
created=$(wc -l <"$tmp/created" | tr -d ' ')
is "$P: the provider has every message its log says it created" \
	"$(grep -vc '	?$' "$tmp/created")" "$(wc -l <"$tmp/created-ids" | tr -d ' ')"

# --- Per logical message ---------------------------------------------------------------

# The inbox's outbound records, one TSV line each: key, status, provider
# id, error code, file, whether in the outbox. A message file's record is
# its last line (the lines before are how its status went).
outbox_files "$ib" >"$tmp/outbox"
if [ "$P" = twilio ]; then kf=body; else kf=to; fi
jq -nr --arg kf "$kf" 'reduce inputs as $r ({}; .[input_filename] = $r) | to_entries[] |
    select(.value.direction == "out") |
    [.value[$kf], .value.status, (.value.provider_id // "-"),
     (.value.error.code // "-"), .key] | @tsv' "$ib"/msg/*/* >"$tmp/stored"

jq -r ".$kf" "$tmp/in-$P" | awk -F '\t' -v created="$tmp/created" \
    -v stored="$tmp/stored" -v outbox="$tmp/outbox" -v report="$tmp/report" \
    -v p="$P" '
	BEGIN {
		while ((getline l < outbox) > 0)
			inbox_out[l] = 1
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
				if (s[5] in inbox_out)
					kept[b]++
			}
		}
	}
	{
		logical++
		if (n[$0] == 1)
			once++
		if (n[$0] > 1) {
			dup++
			print p ": blind duplicate: " $0 " created " n[$0] " times" > report
		}
		if (!n[$0] && !failed[$0] && !kept[$0]) {
			lost++
			print p ": lost: " $0 > report
		}
		if (!n[$0] && failed[$0] && !live[$0]) {
			failed_final++
			print p ": failed for good (" fcode[$0] "): " $0 > report
		}
		if (live[$0] != 1 && n[$0]) {
			notone++
			print p ": live records: " live[$0] + 0 ": " $0 > report
		}
		if (unsettled[$0] && !kept[$0]) {
			unsettled_n++
			print p ": unsettled, not in the outbox: " $0 " in " ufile[$0] > report
		}
		if (kept[$0])
			kept_n++
		if (live[$0] == 1 && n[$0] == 1 && lid[$0] != sid[$0] && lid[$0] != "-") {
			wrongid++
			print p ": wrong id: " $0 " has " lid[$0] ", the provider " sid[$0] > report
		}
	}
	END {
		printf "%d %d %d %d %d %d %d %d %d\n", logical, once, lost, dup,
		    failed_final, notone, unsettled_n, wrongid, kept_n
	}' >"$tmp/counts"
: >>"$tmp/report"
read -r nlogical delivered_once lost blind failed_final notone unsettled wrongid kept <"$tmp/counts"

# What a reader sees: inbox-ls, every outbound message once (one
# listing of them all: Telnyx's and Plivo's are a thread each).
: >"$tmp/ls.err"
inbox-ls -d "$ib" --all --messages --json 2>>"$tmp/ls.err" |
    jq -r --arg kf "$kf" 'select(.direction == "out" and
	.status != "failed") | .[$kf]' >"$tmp/visible" ||
    echo "inbox-ls failed" >>"$tmp/ls.err"
visible_bad=$(jq -r ".$kf" "$tmp/in-$P" | sort | cat - "$tmp/visible" | sort |
    uniq -c | awk '$1 != 2' | wc -l | tr -d ' ')

diag "$P: logical=$nlogical created=$created delivered_once=$delivered_once lost=$lost blind_duplicates=$blind reconciled=$unknown_reconciled cannot_tell=$kept"
diag "$P: seed=$seed analysis_s=$(($(date +%s) - t1)) finished_by=$finished exit=$last_rc latency_ms=$latency drop_pct=$drop dropped=$(jq -s 'map(select(.dropped)) | length' "$log") unknown_answers=$(cat "$tmp"/err-$P.* | grep -c ': unknown: ') not_sent=$not_sent resent=$resent resend_exit=$again_rc failed_for_good=$failed_final unsettled=$unsettled not_one_live=$notone wrong_id=$wrongid visible_not_once=$visible_bad"

is "$P: every logical message is in the input" "$nlogical" "$logical"
is "$P: blind_duplicates=0: no message created twice at the provider" "$blind" 0
is "$P: lost=0: every message created, recorded as failed, or kept as one it cannot tell" "$lost" 0
is "$P: none failed for good (the provider refused nothing)" "$failed_final" 0
is "$P: every message sent is one live record in its thread" "$notone" 0
is "$P: every message is settled: none unknown, none queued without an id, but in the outbox" \
	"$unsettled" 0
[ "$P" = telnyx ] || is "$P: none left that cannot be told" "$kept" 0
is "$P: each record has the id the provider gave its message" "$wrongid" 0
is "$P: inbox-ls shows every message once" "$visible_bad" 0
is "$P: inbox-ls read every thread cleanly" "$(cat "$tmp/ls.err" 2>/dev/null)" ''
[ -s "$tmp/report" ] && head -n 10 "$tmp/report" | sed 's/^/# /' >&2
: >"$tmp/report"
inbox_check "$ib"
done

done_testing
