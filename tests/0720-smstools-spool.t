#!/bin/sh
# A GSM modem through SMS Server Tools 3 (issue 20; sms-recv(1), Spool;
# smsdesk-smstools(5)). sms-send writes smsd's outgoing file, exactly;
# the test plays smsd (moves it to sent/ or failed/ with the headers smsd
# adds, writes status reports and incoming files as smsd writes them);
# sms-recv --spool settles and stores each once, quarantines what does not
# parse, and loses nothing to a kill -9. Consent holds as for any provider.
. "$(dirname "$0")/lib.sh"

unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_COUNTRY
XDG_CONFIG_HOME=$tmp/config HOME=$tmp/home TZ=UTC
SMSDESK_PROVIDER=smstools SMSTOOLS_SPOOL=$tmp/spool
export XDG_CONFIG_HOME HOME TZ SMSDESK_PROVIDER SMSTOOLS_SPOOL
ib=$tmp/inbox
sp=$tmp/spool
mkinbox "$ib"
mkdir -p "$sp/outgoing" "$sp/sent" "$sp/failed" "$sp/incoming"

# smsd FILE DIR HEADERS: what smsd does with outgoing/FILE once sent (DIR
# sent) or not (failed): HEADERS (printf) added after the file's own, the
# text kept byte for byte (src/smsd.c, change_headers()), moved to DIR.
smsd() {
	{ sed '/^$/q' "$sp/outgoing/$1" | sed '$d'; printf "$3"; echo
	  sed '1,/^$/d' "$sp/outgoing/$1"; } >"$sp/$2/$1" &&
	    rm "$sp/outgoing/$1"
}
# incoming NAME HEADERS TEXT: a file smsd wrote into incoming/ (TEXT as
# printf %b; Length: counted as smsd counts it, bytes of ISO).
incoming() {
	printf '%b' "$3" >"$tmp/text"
	{ printf "$2"; printf 'Length: %s\n\n' "$(wc -c <"$tmp/text" |
	    tr -d ' ')"; cat "$tmp/text"; } >"$sp/incoming/$1"
}
hdr='From: 15551230009\nFrom_TOA: 91 international, ISDN/telephone\n'
hdr="${hdr}From_SMSC: 491722270333\nSent: 26-11-22 09:59:58\n"
hdr="${hdr}Received: 26-11-22 10:00:00\nSubject: GSM1\nModem: GSM1\n"
hdr="${hdr}IMSI: 244123456789012\nReport: no\nAlphabet: ISO\n"
spool() { sms-recv -d "$ib" --spool "$sp" "$@"; }
# The messages as they stand (a file's last line), those that pass jq's $1.
msg() { for f in "$ib"/msg/*/*; do tail -n 1 "$f"; done |
	jq -c "select($1)"; }

# --- Usage --------------------------------------------------------------------

check_exit '--spool with --listen: usage error' 2 \
	'sms-recv -d "$ib" --spool "$sp" --listen 8080'
check_exit '--spool with a FILE: usage error' 2 \
	'sms-recv -d "$ib" --spool "$sp" /dev/null'
check_exit 'a spool that is not there: 66' 66 \
	'sms-recv -d "$ib" --spool "$tmp/nowhere"'
check_exit 'smstools has no webhooks: --listen is 78' 78 \
	'sms-recv -d "$ib" -p smstools --insecure --listen 127.0.0.1:0'
check_exit 'sms-send: a spool without outgoing/ is 78' 78 \
	'SMSTOOLS_SPOOL=$tmp/nowhere sms-send -d "$ib" --to +15551230001 hi'
check 'an empty spool: nothing to do' 'spool >"$tmp/e.out" && [ ! -s "$tmp/e.out" ]'

# --- Sending: the outgoing file, exactly ----------------------------------------

check 'sms-send writes a GSM text' \
	'sms-send -d "$ib" --to +15551230001 "Hello {you} €5" >"$tmp/s1"'
id1=$(jq -r .id "$tmp/s1")
f1=$(jq -r .provider_id "$tmp/s1")
is 'queued, by smstools, named after our id' \
	"$(jq -r '[.status, .provider, .provider_id] | join(" ")' "$tmp/s1")" \
	"queued smstools smsdesk-$id1"
printf 'To: 15551230001\nAlphabet: UTF-8\nReport: yes\n\nHello {you} €5' \
	>"$tmp/want1"
check 'its file: To, Alphabet, Report, an empty line, the text' \
	'cmp "$tmp/want1" "$sp/outgoing/$f1"'

check 'sms-send writes a text beyond GSM' \
	'sms-send -d "$ib" --to +15551230002 "Grüße ☃ 😀" >"$tmp/s2"'
f2=$(jq -r .provider_id "$tmp/s2")
{ printf 'To: 15551230002\nAlphabet: UCS2\nReport: yes\n\n'
  printf 'Grüße ☃ 😀' | iconv -f UTF-8 -t UTF-16BE; } >"$tmp/want2"
check 'its text in UCS-2 big-endian (a surrogate pair for U+1F600)' \
	'cmp "$tmp/want2" "$sp/outgoing/$f2"'
is 'nothing else in outgoing/ (no temporary file left)' \
	"$(ls -A "$sp/outgoing" | sort)" "$(printf '%s\n' "$f1" "$f2" | sort)"
check 'group-readable for smsd' '[ "$(stat -c %a "$sp/outgoing/$f1")" = 660 ]'

# A write that fails (the faults shim fails the Nth call that changes a
# file, each in turn): loud, and nothing half-written for smsd; a file in
# outgoing/ is never a message the inbox calls failed.
if faults_env; then
	k=0 bad= recovered=0
	while [ "$k" -lt 300 ]; do
		k=$((k + 1))
		fib=$tmp/fib fsp=$tmp/fsp
		rm -rf "$fib" "$fsp" "$tmp/calls"
		mkinbox "$fib" && mkdir -p "$fsp/outgoing"
		SMSTOOLS_SPOOL=$fsp SMSDESK_FAULT_AT=$k SMSDESK_FAULT_LOG=$tmp/calls \
		    LD_PRELOAD=$shim sms-send -d "$fib" --to +15551230001 "x$k" \
		    >"$tmp/f.out" 2>"$tmp/f.err"
		rc=$?
		[ -s "$tmp/calls" ] || { bad="$bad $k:died"; continue; }
		[ "$(cat "$tmp/calls")" -lt "$k" ] && break
		files=$(ls -A "$fsp/outgoing")
		st=$(for f in "$fib"/msg/*/*; do tail -n 1 "$f"; done 2>/dev/null |
		    jq -r .status)
		case $files in .*) bad="$bad $k:hidden" ;; esac
		[ -n "$files" ] && [ "$st" = failed ] && bad="$bad $k:failed-with-file"
		[ "$rc" -ne 0 ] && ! grep -q 'No space left on device' "$tmp/f.err" &&
		    bad="$bad $k:silent"
		# The file went to smsd but the inbox could not record it:
		# once smsd has sent it, --spool settles it all the same.
		pid=$(for f in "$fib"/msg/*/*; do tail -n 1 "$f"; done \
		    2>/dev/null | jq -r '.provider_id // ""')
		case $files in smsdesk-*) [ -z "$pid" ] || continue ;; *) continue ;; esac
		mkdir -p "$fsp/sent" "$fsp/incoming"
		mv "$fsp/outgoing/$files" "$fsp/sent/$files"
		sms-recv -d "$fib" --spool "$fsp" >/dev/null 2>&1
		got=$(for f in "$fib"/msg/*/*; do tail -n 1 "$f"; done |
		    jq -r '[.status, .provider_id] | join(" ")')
		if [ "$got" = "sent $files" ]; then
			recovered=$((recovered + 1))
		else
			bad="$bad $k:not-recovered($got)"
		fi
	done
	diag "sms-send made $((k - 1)) calls that change files"
	is 'a write that fails: said, nothing half-written, no file for a failed message' \
	    "$bad" ''
	check 'a file the inbox could not record is settled by --spool' \
	    '[ "$recovered" -gt 0 ]'
else
	skip 'no faults shim (make build/tools/faults.so)' 2
fi

# --- smsd sends one, fails the other; sms-recv --spool settles both ------------

smsd "$f1" sent 'Modem: GSM1\nSent: 26-11-22 10:00:03\nSending_time: 3\nMessage_id: 117\nIMSI: 244123456789012\nIMEI: 352099001761481\n'
smsd "$f2" failed 'Modem: GSM1\nIMSI: 244123456789012\nFail_reason: Modem is not registered to the network\nFailed: 26-11-22 10:00:03\n'
check 'a run settles them' 'spool >"$tmp/r1.out"'
is 'one event each: sent, and failed with smsd'\''s reason' \
	"$(jq -r '[.event, .message.id, .message.status,
	    .message.error.message // "-"] | join(" ")' "$tmp/r1.out")" \
	"message.status $id1 sent -
message.status $(jq -r .id "$tmp/s2") failed Modem is not registered to the network"
is 'the inbox says so' "$(msg '.direction == "out"' | jq -r .status | sort)" \
	"failed
sent"
check 'sent/ and failed/ are emptied' \
	'[ -z "$(ls -A "$sp/sent")$(ls -A "$sp/failed")" ]'

# A status report, as smsd writes it (src/pdu.c, split_type_2()).
rep='SMS STATUS REPORT\nMessage_id: 117\nDischarge_timestamp: 26-11-22 10:00:09\nStatus: 0,Ok,short message received by the SME'
incoming GSM1.rep117 'From: 15551230001\nFrom_SMSC: 491722270333\nSent: 26-11-22 10:00:04\nReceived: 26-11-22 10:00:10\nSubject: GSM1\nModem: GSM1\nAlphabet: ISO\nUDH: false\n' "$rep"
check 'the report by Message_id' 'spool >"$tmp/r2.out"'
is 'delivered' "$(jq -r '[.event, .message.id, .message.status] |
	join(" ")' "$tmp/r2.out")" "message.status $id1 delivered"
check 'the report is removed' '[ ! -e "$sp/incoming/GSM1.rep117" ]'
check 'a run with nothing new says nothing' \
	'spool >"$tmp/r3.out" && [ ! -s "$tmp/r3.out" ]'

# A report that says the SMSC gave up (70: validity period expired).
sms-send -d "$ib" --to +15551230003 "late" >"$tmp/s3"
f3=$(jq -r .provider_id "$tmp/s3")
smsd "$f3" sent 'Modem: GSM1\nSent: 26-11-22 10:01:00\nSending_time: 2\nMessage_id: 118\n'
rep='SMS STATUS REPORT\nMessage_id: 118\nDischarge_timestamp: 26-11-22 11:01:00\nStatus: 70,Error,SM validity period expired'
incoming GSM1.rep118 'From: 15551230003\nSubject: GSM1\nModem: GSM1\nAlphabet: ISO\n' "$rep"
check 'sent, then a report of failure, in one run' 'spool >"$tmp/r4.out"'
is 'sent, then undelivered with TP-Status 70' \
	"$(jq -r '[.message.status, .message.error.provider_code // "-"] |
	join(" ")' "$tmp/r4.out")" "sent -
undelivered 70"

# Message_id comes again for a later message (it wraps at 256): the
# report is the later one's.
sms-send -d "$ib" --to +15551230003 "again" >"$tmp/s4"
f4=$(jq -r .provider_id "$tmp/s4")
smsd "$f4" sent 'Modem: GSM1\nSent: 26-11-22 12:00:00\nMessage_id: 118\n'
rep='SMS STATUS REPORT\nMessage_id: 118\nDischarge_timestamp: 26-11-22 12:00:05\nStatus: 0,Ok,short message received by the SME'
incoming GSM1.rep118b 'From: 15551230003\nSubject: GSM1\nModem: GSM1\nAlphabet: ISO\n' "$rep"
spool >"$tmp/r5.out"
is 'a reused Message_id reports on the newest message' \
	"$(jq -r 'select(.message.status == "delivered") | .message.id' \
	"$tmp/r5.out")" "$(jq -r .id "$tmp/s4")"

# --- Incoming messages, as smsd writes them ------------------------------------

# smsd's ISO: 0xA4 is the euro sign, 0x81 the Greek capital delta.
incoming GSM1.in001 "$hdr" 'Price \0244 \0201 caf\0351'
check 'a text comes in' 'spool >"$tmp/i1.out"'
is 'stored, its text in UTF-8, from +E.164, at Received:' \
	"$(jq -r '.message | [.from, .body, .at, .provider] | join("|")' \
	"$tmp/i1.out")" '+15551230009|Price € Δ café|2026-11-22T10:00:00Z|smstools'
check 'and removed from incoming/' '[ ! -e "$sp/incoming/GSM1.in001" ]'

# UCS-2: raw big-endian bytes, Length: in characters.
printf 'Привет ☃' | iconv -f UTF-8 -t UTF-16BE >"$tmp/ucs"
{ printf 'From: 15551230008\nReceived: 26-11-22 10:05:00\nSubject: GSM1\nAlphabet: UCS2\nLength: 8\n\n'
  cat "$tmp/ucs"; } >"$sp/incoming/GSM1.in002"
check 'a UCS-2 text comes in' 'spool >"$tmp/i2.out"'
is 'decoded' "$(jq -r .message.body "$tmp/i2.out")" 'Привет ☃'

# A long text smsd joined itself (internal_combine, its default).
incoming GSM1.in003 "$(printf '%s' "$hdr" | sed 's/9\\n/7\\n/')" \
	'This text came in three parts and smsd joined them before writing this file, as it does unless internal_combine = no says otherwise; one message.'
check 'a joined long text' 'spool >"$tmp/i3.out"'
is 'one message' "$(jq -r .message.body "$tmp/i3.out" | cut -c1-28)" \
	'This text came in three part'

# Parts written one a file (internal_combine = no): UDH-DATA has the
# concatenation element; they come in any order, across runs.
part() {
	incoming "$1" "From: 15551230006\nReceived: 26-11-22 10:06:00\nSubject: GSM1\nModem: GSM1\nAlphabet: ISO\nUDH-DATA: $2\nUDH-Type: Concatenated short message, 8bit reference\nUDH: true\n" "$3"
}
part GSM1.p2 '05 00 03 A7 02 02' 'second half.'
check 'the second part first: kept, no message yet' \
	'spool >"$tmp/p1.out" && [ ! -s "$tmp/p1.out" ] && [ ! -e "$sp/incoming/GSM1.p2" ]'
part GSM1.p1 '05 00 03 A7 02 01' 'First half, '
check 'then the first' 'spool >"$tmp/p2.out"'
is 'one message, its parts in order' \
	"$(jq -r '[.message.body, .message.segments] | join(" ")' \
	"$tmp/p2.out")" 'First half, second half. 2'

# --- Bad files: quarantined, said, the rest read --------------------------------

printf 'no headers at all, and no empty line' >"$sp/incoming/GSM1.bad1"
touch -d '-10 min' "$sp/incoming/GSM1.bad1"
incoming GSM1.bad2 "From: 15551230005\nAlphabet: binary\n" 'PK\001\002'
incoming GSM1.in004 "$hdr" 'still read'
# smsd writes incoming/ in place: a young file shorter than its Length:
# is one it is writing still.
printf 'From: 15551230004\nAlphabet: ISO\nLength: 40\n\nhalf of it' \
	>"$sp/incoming/GSM1.young"
check_exit 'bad files: exit 1' 1 'spool >"$tmp/b.out" 2>"$tmp/b.err"'
check 'each said as sms-recv: DIR/incoming/NAME: what' \
	'grep -q "^sms-recv: $sp/incoming/GSM1.bad1: no empty line after the headers" "$tmp/b.err" &&
	 grep -q "^sms-recv: $sp/incoming/GSM1.bad2: Alphabet: binary" "$tmp/b.err"'
check 'moved to the spool'\''s quarantine/, bytes intact' \
	'[ -f "$sp/quarantine/incoming-GSM1.bad1" ] && [ -f "$sp/quarantine/incoming-GSM1.bad2" ] &&
	 [ "$(cat "$sp/quarantine/incoming-GSM1.bad1")" = "no headers at all, and no empty line" ]'
is 'the good one stored' "$(jq -r .message.body "$tmp/b.out")" 'still read'
check 'the one smsd is writing is left alone, not reported' \
	'[ -e "$sp/incoming/GSM1.young" ] && ! grep -q young "$tmp/b.err"'
touch -d '-10 min' "$sp/incoming/GSM1.young"
check_exit 'once old, it is truncated: quarantined' 1 \
	'spool 2>"$tmp/y.err"'
check 'said so' 'grep -q "GSM1.young: 10 bytes of text where Length: says 40" "$tmp/y.err"'

# Files that are not ours: another program's in sent/, a report on a
# message we never sent: left where they are.
printf 'To: 15551230001\nSent: 26-11-22 10:00:00\n\nnot ours' >"$sp/sent/other.1"
printf 'To: 15551239999\nSent: 26-11-22 10:00:00\n\nnot ours' \
	>"$sp/sent/smsdesk-1.2.nosuch"
rep='SMS STATUS REPORT\nMessage_id: 5\nDischarge_timestamp: 26-11-22 10:00:09\nStatus: 0,Ok,short message received by the SME'
incoming GSM1.rep5 'From: 15551238888\nSubject: GSM1\nAlphabet: ISO\n' "$rep"
check 'a run leaves them' 'spool >"$tmp/n.out" && [ ! -s "$tmp/n.out" ] &&
	[ -e "$sp/sent/other.1" ] && [ -e "$sp/sent/smsdesk-1.2.nosuch" ] &&
	[ -e "$sp/incoming/GSM1.rep5" ]'
rm -f "$sp/incoming/GSM1.rep5"

# --- Once, whatever happens between storing and removing -------------------------

incoming GSM1.in005 "$hdr" 'exactly once'
cp "$sp/incoming/GSM1.in005" "$tmp/in005"
spool >/dev/null
cp "$tmp/in005" "$sp/incoming/GSM1.in005"	# as if the removal never came
check 'the same file again: old news' \
	'spool >"$tmp/o.out" && [ ! -s "$tmp/o.out" ] && [ ! -e "$sp/incoming/GSM1.in005" ]'
is 'stored once' "$(msg '.body == "exactly once"' | wc -l | tr -d ' ')" 1
# smsd's names are random: the same name with other bytes is another text.
incoming GSM1.in005 "$hdr" 'a new text, an old name'
spool >"$tmp/o2.out"
is 'a name that comes again with a new text: stored' \
	"$(jq -r .message.body "$tmp/o2.out")" 'a new text, an old name'

# kill -9 at each sync of a run in turn (the faults shim holds the
# (N+1)th): whatever the point, the next run leaves the text in the inbox
# once and removes its file; and one point is after the text was stored
# (its journal line written) and before the file was removed: the file is
# still there, and the next run finds it old news.
if faults_env; then
	n=0 between=0 bad=
	while [ "$n" -lt 50 ]; do
		incoming "GSM1.k$n" "$hdr" "killed at sync $n"
		: >"$tmp/stall"
		rm -f "$tmp/stall.held"
		LD_PRELOAD=$shim SMSDESK_FAULT_STALL=$tmp/stall \
		    SMSDESK_FAULT_STALL_AFTER=$n \
		    sms-recv -d "$ib" --spool "$sp" >/dev/null 2>&1 &
		k=$!
		pids="$pids $k"
		poll "[ -e '$tmp/stall.held' ] || ! kill -0 $k 2>/dev/null"
		held=0
		if [ -e "$tmp/stall.held" ]; then
			kill -9 "$k"
			held=1
		fi
		wait "$k" 2>/dev/null
		rm -f "$tmp/stall"
		left=0
		[ -e "$sp/incoming/GSM1.k$n" ] && left=1
		spool >"$tmp/k.out" 2>&1
		[ "$left" = 1 ] && ! grep -q message.received "$tmp/k.out" &&
		    between=1
		[ "$(msg ".body == \"killed at sync $n\"" | wc -l)" -eq 1 ] &&
		    [ ! -e "$sp/incoming/GSM1.k$n" ] || bad="$bad $n"
		[ "$held" = 1 ] || break
		n=$((n + 1))
	done
	diag "a run made $n syncs"
	is 'killed at each sync: stored once, and removed, by the next run' \
	    "$bad" ''
	check 'one kill fell between storing and removing' '[ "$between" = 1 ]'
else
	skip 'no faults shim (make build/tools/faults.so)' 2
fi

# --- One run at a time -------------------------------------------------------------

check_exit 'a second run while one holds the spool: 75' 75 \
	'flock "$sp" sms-recv -d "$ib" --spool "$sp"'

# --- Consent: STOP in a file opts out; sms-send refuses after -------------------

incoming GSM1.stop "$(printf '%s' "$hdr" | sed 's/9\\n/1\\n/')" 'STOP'
check 'STOP comes in' 'spool >"$tmp/c.out"'
is 'stored, and an opt-out' "$(jq -r .event "$tmp/c.out")" \
	"message.received
consent.optout"
check_fail 'sms-send refuses the number now' \
	'sms-send -d "$ib" --to +15551230001 "anything" >"$tmp/c2.out"'
is 'opted_out, and nothing written for smsd' \
	"$(jq -r .error.code "$tmp/c2.out") $(ls -A "$sp/outgoing" | wc -l |
	tr -d ' ')" 'opted_out 0'

done_testing
