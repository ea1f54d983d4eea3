#!/bin/sh
# What enters the inbox is checked before it is written (limit.h,
# sms-record(5)): what is accepted is stored whole and read back; what
# cannot be stored is refused whole, as bad data, for that record alone.
#   - every writer refuses what a reader would refuse (tags, names,
#     bodies), so no conversation or message is ever quarantined for it;
#   - a provider id or key that is too long is a bad record (exit 1, 400,
#     a permanent failure), never an I/O error that stops an import; one
#     longer than a file name is kept whole (hashed in the ledger);
#   - an import without a provider id is refused, so a replay is harmless;
#   - a time that is not an RFC 3339 date-time in range is refused;
#   - a delivery answered 503 on a full disk leaves nothing to see.
. "$(dirname "$0")/lib.sh"

twilio_env 0260
unset SMSDESK_NOW SMSDESK_AGENT
faults_env	# without the shim, section 8 is skipped

A=+15551230001
# rec IB JSON...: import message records (one per argument) into IB;
# stdout in $tmp/out, stderr in $tmp/err, the exit status in $tmp/rc.
rec() {
	r_ib=$1
	shift
	printf '%s\n' "$@" | sms-recv -d "$r_ib" >"$tmp/out" 2>"$tmp/err"
	echo $? >"$tmp/rc"
}
# msgs IB: every message readers see, as [provider_id, body] lines.
msgs() {
	inbox-ls -d "$1" --all --messages --json 2>>"$tmp/ls.err" |
	    jq -c '[.provider_id, .body]'
}
# quiet IB: quarantine/ is empty and listing says nothing on stderr.
quiet() {
	inbox-ls -d "$1" --all --json >/dev/null 2>"$tmp/q.err" &&
	    [ ! -s "$tmp/q.err" ] && [ -z "$(ls "$1/quarantine")" ]
}
# a string of N bytes of C
bytes() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

# --- 3. Writers refuse what readers refuse -------------------------------

ib=$tmp/tags
rec "$ib" '{"from":"+15551230001","body":"hi","provider_id":"SMt1"}'
big=$(bytes 100000)
args=
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do args="$args --tag $i$big"; done
check_exit 'inbox-mark: twelve 100 kB tags are a usage error' 2 \
	"inbox-mark -d '$ib' $args $A"
check 'the message says which limit' \
	"inbox-mark -d '$ib' --tag '$big' $A 2>&1 | grep -q 'tag: 100000 bytes, more than the 64 allowed'"
check 'and the conversation is still read, untouched' \
	"quiet '$ib' && inbox-ls -d '$ib' --json | jq -e '.tags == [] and .unread == 1'"
check_exit 'an assignee over 64 bytes is a usage error' 2 \
	"inbox-mark -d '$ib' -a '$(bytes 65)' $A"
t40=
for i in $(seq 40); do t40="$t40 --tag a$i"; done
check 'forty tags are taken' "inbox-mark -d '$ib' $t40 $A >/dev/null"
t40=
for i in $(seq 40); do t40="$t40 --tag b$i"; done
check_exit 'forty more would make eighty: that conversation fails (1)' 1 \
	"inbox-mark -d '$ib' $t40 $A"
check 'said, and not written' \
	"inbox-mark -d '$ib' $t40 $A 2>&1 | grep -q '^inbox-mark: $A: 80 tags, more than the 64 allowed: not changed' &&
	    inbox-ls -d '$ib' --json | jq -e '.tags | length == 40'"
check_exit 'more than 64 tags at once is a usage error' 2 \
	"inbox-mark -d '$ib' $(for i in $(seq 65); do printf ' --tag c%s' $i; done) $A"
check_exit 'a snooze more than ten years ahead is a usage error' 2 \
	"inbox-mark -d '$ib' --snooze 3654d $A"
check 'ten years is taken' "inbox-mark -d '$ib' --snooze 3650d $A >/dev/null"
check_exit 'a snooze of a huge number of seconds too (no overflow)' 2 \
	"inbox-mark -d '$ib' --snooze 9223372036854775807s $A"

# A body just under the line limit of 1 MiB: the message stored from it
# (with its id, time and thread) would be over it, and quarantined.
ib=$tmp/body
printf '{"from":"+15551230001","provider_id":"SMb1","body":"%s"}\n{"from":"+15551230001","provider_id":"SMb2","body":"ok"}\n' \
	"$(bytes 1048400)" | sms-recv -d "$ib" >"$tmp/out" 2>"$tmp/err"
is 'sms-recv: a body near 1 MiB is a bad line, the next is stored (exit 1)' \
	"$?:$(msgs "$ib")" '1:["SMb2","ok"]'
check 'it is reported with its line, and the limit' \
	"grep -q '^sms-recv: stdin:1: body: 1048400 bytes, more than the 32768 allowed' '$tmp/err'"
check 'nothing is quarantined' "quiet '$ib'"
rec "$ib" "{\"from\":\"+15551230001\",\"provider_id\":\"SMb3\",\"body\":\"$(bytes 32768)\"}"
is 'a body of 32 KiB is taken' "$(cat "$tmp/rc"):$(msgs "$ib" | grep -c SMb3)" 0:1

# --- 4. Long ids and keys: bad data or kept whole, never an I/O error ---

ib=$tmp/ids
id200=SM$(bytes 198 x)
id300=SM$(bytes 298 y)
rec "$ib" \
	"{\"from\":\"+15551230001\",\"body\":\"long\",\"provider_id\":\"$id200\"}" \
	"{\"from\":\"+15551230001\",\"body\":\"too long\",\"provider_id\":\"$id300\"}" \
	'{"from":"+15551230001","body":"after","provider_id":"SMi3"}'
is 'sms-recv: a 300-byte id is a bad line: exit 1, not 74' "$(cat "$tmp/rc")" 1
check 'said with the line number' \
	"grep -q '^sms-recv: stdin:2: provider_id: 300 bytes, more than the 256 allowed' '$tmp/err'"
is 'the 200-byte id and the line after it are stored' \
	"$(msgs "$ib" | jq -r '.[1]' | sort | tr '\n' ' ')" 'after long '
rec "$ib" "{\"from\":\"+15551230001\",\"body\":\"long\",\"provider_id\":\"$id200\"}"
is 'a replay of the 200-byte id is a duplicate (hashed in the ledger)' \
	"$(cat "$tmp/rc"):$(msgs "$ib" | wc -l | tr -d ' '):$(ledger_keys "$ib" | grep -c '^twilio-%%[0-9a-f]\{64\}$')" \
	'0:2:1'

# post SID BODY: an inbound message from $A; prints the HTTP status.
post() {
	p_body="MessageSid=$1&AccountSid=AC0&From=%2B15551230001&To=%2B15550000000&Body=$2&ApiVersion=2010-04-01"
	webhook "$p_body" --max-time 30
}

ib=$tmp/listen
if serve "$tmp/l.out" "$tmp/l.err" "$bin/sms-recv" -d "$ib"; then
	is 'the listener: a 300-byte MessageSid gets 400 (a retry cannot help)' \
		"$(post "$id300" hi)" 400
	check 'with no Retry-After' "! grep -qi '^retry-after' '$tmp/resp.h'"
	is 'a 200-byte MessageSid gets 200' "$(post "$id200" hi)" 200
	is 'a Body over 32 KiB gets 400' "$(post SMbig "$(bytes 40000)")" 400
	kill "$server"
	wait "$server"
else
	fail 'the listener starts'
fi

# sms-send: a client key over the limit (320 bytes) is refused for that
# record, as permanent, not transient (a retry cannot help). It is refused
# before any request, so no provider is needed.
ib=$tmp/send
mkinbox "$ib"
export TWILIO_ACCOUNT_SID=AC0260aaaaaaaaaaaaaaaaaaaaaaaaaaaa TWILIO_FROM=+15550100000
TWILIO_API_URL=http://127.0.0.1:9 sms-send -d "$ib" >"$tmp/s.out" 2>"$tmp/s.err" <<EOF
{"to":"+12025550101","body":"x","key":"$id300$(bytes 100)"}
{"to":"+12025550102","body":"y","key":""}
EOF
is 'sms-send: a 400-byte key, an empty key: exit 1, not 75' "$?" 1
is 'each record says invalid_key, failed (not transient)' \
	"$(jq -c '[.status, .error.code, .error.message]' "$tmp/s.out" | sort | tr '\n' ' ')" \
	'["failed","invalid_key","\"key\" is empty"] ["failed","invalid_key","key: 400 bytes, more than the 320 allowed"] '
check_exit 'a --key longer than 299 bytes is a usage error' 2 \
	"sms-send -d '$ib' --key '$(bytes 300)' --to +12025550101 x"
check_exit 'an agent name over 64 bytes is a configuration error' 78 \
	"SMSDESK_AGENT='$(bytes 65)' sms-send -d '$ib' --to +12025550101 x"
unset TWILIO_ACCOUNT_SID TWILIO_FROM

# --- 5. An import without an id would duplicate on every replay ---------

ib=$tmp/noid
for r in 1 2 3; do
	rec "$ib" '{"from":"+15551230001","body":"x","provider_id":7}' \
		'{"from":"+15551230001","body":"x","provider_id":null}' \
		'{"from":"+15551230001","body":"x"}' \
		'{"from":"+15551230001","body":"x","provider_id":""}'
done
is 'ids that are a number, null, absent or empty: refused (exit 1)' \
	"$(cat "$tmp/rc"):$(grep -c 'needs a provider_id, a string that is not empty' "$tmp/err")" \
	1:4
is 'fed three times, nothing is stored' "$(msgs "$ib" | wc -l | tr -d ' ')" 0
check 'and no ledger entry twilio- is made' "! ledger_keys '$ib' | grep -qx 'twilio-'"
check 'no thread directory is left behind' \
	"[ -z \"\$(ls '$ib/msg')\" ]"

# --- 6. Times --------------------------------------------------------------

ib=$tmp/times
soon=$(jq -nr 'now + 2 * 86400 | floor | todate')
rec "$ib" '{"from":"+15551230001","body":"a","provider_id":"SMw1","at":"garbage"}' \
	'{"from":"+15551230001","body":"b","provider_id":"SMw2","at":"9999-99-99T99:99:99Z"}' \
	'{"from":"+15551230001","body":"c","provider_id":"SMw3","at":"1900-01-01T00:00:00Z"}' \
	'{"from":"+15551230001","body":"d","provider_id":"SMw4","at":"2026-11-22"}' \
	"{\"from\":\"+15551230001\",\"body\":\"e\",\"provider_id\":\"SMw5\",\"at\":\"$soon\"}" \
	'{"from":"+15551230001","body":"f","provider_id":"SMw6","at":1700000000}' \
	'{"from":"+15551230001","body":"g","provider_id":"SMw7","at":"2026-11-22T12:00:00.5+02:00"}'
is 'six bad times refused, each on its line (exit 1)' \
	"$(cat "$tmp/rc"):$(grep -c '^sms-recv: stdin:[1-6]: ' "$tmp/err")" 1:6
check 'the range is said' \
	"grep -q '^sms-recv: stdin:3: at .1900-01-01T00:00:00Z.: not from 2000-01-01T00:00:00Z to ' '$tmp/err'"
is 'a time with an offset is stored in UTC, and so is the conversation' \
	"$(msgs "$ib"):$(inbox-ls -d "$ib" --json | jq -c '[.opened_at, .waiting_since]')" \
	'["SMw7","g"]:["2026-11-22T10:00:00Z","2026-11-22T10:00:00Z"]'
is 'the message file says so too' \
	"$(jq -r .at "$ib"/msg/$A/*)" 2026-11-22T10:00:00Z

# --- 8. A delivery answered 503 leaves nothing to see ----------------------

if [ ! -f "$shim" ]; then
	skip 'a 503 on a full disk leaves nothing' "no $shim (run make)"
	done_testing
fi
# With the disk full from call K on, every delivery fails: whatever K is,
# no message, no conversation and no thread directory is left, and with
# the disk healthy again the same input stores one file per message.
in='{"from":"+15551230002","body":"one","provider_id":"SMf1"}'
bad=0 k=0
while [ "$k" -lt 60 ]; do
	k=$((k + 1))
	ib=$tmp/full-$k
	sms-recv -d "$ib" </dev/null >/dev/null 2>&1	# made, healthy
	rm -f "$tmp/calls"
	# stdout through a pipe, which the shim leaves alone: an event
	# printed is a delivery acknowledged.
	{
		printf '%s\n' "$in" | SMSDESK_FAULT_AT=$k \
		    SMSDESK_FAULT_MODE=always SMSDESK_FAULT_LOG=$tmp/calls \
		    LD_PRELOAD=$shim "$bin/sms-recv" -d "$ib" 2>"$tmp/f.err"
		echo $? >"$tmp/f.rc"
	} | cat >"$tmp/f.out"
	rc=$(cat "$tmp/f.rc")
	calls=$(cat "$tmp/calls" 2>/dev/null || echo 0)
	[ "$calls" -lt "$k" ] && break
	if [ "$rc" -eq 74 ] && [ ! -s "$tmp/f.out" ]; then
		# Failed, acknowledged nothing: nothing may show.
		got="$(msgs "$ib")|$(find "$ib/msg" "$ib/conv" "$ib/work" \
		    -mindepth 1)$(ledger_keys "$ib")"
		[ "$got" = "|" ] || { bad=$((bad + 1)); diag "k=$k: left $got"; }
	fi
	printf '%s\n' "$in" | sms-recv -d "$ib" >/dev/null 2>&1
	n=$(find "$ib/msg" -type f | wc -l | tr -d ' ')
	[ "$n" -eq 1 ] || { bad=$((bad + 1)); diag "k=$k: $n message files after the retry"; }
	rm -rf "$ib"
done
check "a full disk at any of $((k - 1)) points: nothing left, one file after the retry" \
	"[ $bad -eq 0 ] && [ $k -gt 5 ]"

# A number jansson cannot hold, in a file sms-recv imports: that line is
# refused as what it is (sms-record(5), CAVEATS), the next one stored.
ib=$tmp/bignum
printf '%s\n' \
	'{"from":"+15551234567","to":"+15550100000","body":"a","provider_id":"SMbig1","n":1e400}' \
	'{"from":"+15551234567","to":"+15550100000","body":"b","provider_id":"SMbig2"}' \
	>"$tmp/big.ndjson"
sms-recv -d "$ib" "$tmp/big.ndjson" >/dev/null 2>"$tmp/err"
is 'sms-recv FILE, a number too large: exit 1, the next line stored' \
	"$? $(inbox-ls -d "$ib" +15551234567 | jq -r .body)" '1 b'
check 'said as what it is' \
	"grep -q 'big.ndjson:1: number too large for this program: field \"n\"' '$tmp/err'"

done_testing
