#!/bin/sh
# sms-recv(1): the listener's limits against slow and greedy clients, its
# rate-limited log, and an inbox it cannot write (issue 11, items 10, 11).
#
# Nothing here depends on timing: a client holds its connections until the
# test lets them go (an upload that never ends, under a --timeout of an
# hour), every wait polls for a condition with a generous deadline, and
# the rate limit itself is checked by tests/unit/httpd.c on a fake clock.
# Greedy clients come from 127.0.0.2 (curl --interface), the provider
# from 127.0.0.1; the listener is on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

twilio_env 0255

ib=$tmp/inbox
us=%2B15550000000

# post FROM-ADDR SID: a signed inbound message from FROM-ADDR; prints the
# HTTP status (000: no answer).
post() {
	p_body="MessageSid=$2&From=%2B15551230001&To=$us&Body=hi"
	webhook "$p_body" --max-time 60 --interface "$1"
}

# --- A limit per address ------------------------------------------------

serve "$tmp/L.out" "$tmp/L.err" sms-recv -d "$ib" --per-address 2 \
    --timeout 3600 || { fail 'the listener starts'; done_testing; }
lpid=$server
check 'it says its limits' \
	"grep -q '^sms-recv: up to [0-9]* connections, 2 from one address\$' '$tmp/L.err'"

if [ "$(post 127.0.0.2 SMprobe00000000000000000000000001)" != 200 ]; then
	skip 'a limit per address' 'cannot connect from 127.0.0.2'
else
	# Two uploads from 127.0.0.2 that never end: each holds its
	# connection once the listener has read its headers (it asks for
	# the body: 100 Continue).
	mkfifo "$tmp/never"
	exec 9<>"$tmp/never"
	hogs=
	for i in 1 2; do
		curl -sv --interface 127.0.0.2 -X POST -T - \
		    -H 'Expect: 100-continue' \
		    "http://127.0.0.1:$port/twilio" <"$tmp/never" \
		    >/dev/null 2>"$tmp/hog$i" &
		hogs="$hogs $!"
	done
	pids="$pids $hogs"
	check 'two connections from 127.0.0.2 are held' \
		"poll \"grep -q '100 Continue' '$tmp/hog1' && grep -q '100 Continue' '$tmp/hog2'\""
	is 'a third from 127.0.0.2 is refused, without an answer' \
		"$(post 127.0.0.2 SMthird00000000000000000000000001)" 000
	is 'a webhook from 127.0.0.1 is answered meanwhile' \
		"$(post 127.0.0.1 SMother00000000000000000000000001)" 200
	is 'and stored' "$(ls "$ib/msg/+15551230001" | wc -l | tr -d ' ')" 2
	refused=1
	for i in $(seq 30); do
		[ "$(post 127.0.0.2 SMmore$i)" = 000 ] &&
			refused=$((refused + 1))
	done
	is 'thirty more from 127.0.0.2 are refused' "$refused" 31
	for p in $hogs; do kill "$p"; done
	wait $hogs 2>/dev/null
	check 'once they are gone, 127.0.0.2 is served again' \
		"poll '[ \"\$(post 127.0.0.2 SMagain00000000000000000000000001)\" = 200 ]'"
	exec 9>&-
fi
kill "$lpid"
wait "$lpid"
is 'SIGTERM: exit 0' "$?" 0
check 'every line of its log is prefixed' "! grep -v '^sms-recv: ' '$tmp/L.err'"
check "libmicrohttpd's lines are its own" \
	"grep -q '^sms-recv: libmicrohttpd: ' '$tmp/L.err'"
if [ -n "${refused-}" ]; then
	said=$(grep -c '^sms-recv: libmicrohttpd: a connection refused: too many from its address, or in all$' "$tmp/L.err")
	held=$(sed -n 's/^sms-recv: libmicrohttpd: \([0-9]*\) more lines suppressed$/\1/p' "$tmp/L.err" |
	    awk '{ n += $1 } END { print n + 0 }')
	check 'each refusal is said or counted as suppressed' \
		"[ $said -ge 1 ] && [ $said -le $refused ] && [ \$(($said + $held)) -ge $refused ]"
fi
check 'no refusal is logged as a request' \
	"! grep -q 'SMthird\\|SMmore' '$tmp/L.err'"

# --- Headers that trickle in ----------------------------------------

if command -v bash >/dev/null 2>&1; then
	serve "$tmp/T.out" "$tmp/T.err" sms-recv -d "$ib" --timeout 1 ||
	    fail 'a listener with --timeout 1 starts'
	tpid=$server
	got=$(bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 || exit
		printf "POST /twilio HTTP/1.1\r\nHo" >&3
		for i in $(seq 600); do
			printf a >&3 2>/dev/null || break
			sleep 0.1
		done
		head -n 1 <&3' trickle "$port" 2>/dev/null | tr -d '\r')
	is 'headers trickling in get no answer' "$got" ''
	check 'they are cut off at --timeout, not three times it' \
		"poll \"grep -q '^sms-recv: 127.0.0.1: its headers still coming after 1s: cut off\$' '$tmp/T.err'\""
	kill "$tpid"
	wait "$tpid"
else
	skip 'headers trickling in are cut off at --timeout' 'no bash'
fi

# --- A delivery that waits on the disk holds up no one else ----------
#
# tests/shim/faults.c holds every fsync while $tmp/stall exists. Twenty
# keep-alive connections are opened, and each answered once (a bad
# signature: 403), so that the listener has spread them over its event
# threads, before a signed message goes in and waits on the disk; then
# each of the twenty sends its request again, and gets its 403 while
# that message still waits.

shim=$tools/faults.so
if [ ! -f "$shim" ] || ! command -v bash >/dev/null 2>&1; then
	skip 'a delivery waiting on the disk holds up no one else' \
	    'no shim or no bash'
else
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	LD_PRELOAD=$shim SMSDESK_FAULT_STALL=$tmp/stall \
	    serve "$tmp/S.out" "$tmp/S.err" sms-recv -d "$ib" --timeout 3600 ||
	    fail 'a listener with the shim starts'
	spid=$server
	bash -c 'port=$1 dir=$2 fds=
		req="POST /twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: bad\r\nContent-Length: 3\r\n\r\na=b"
		for i in $(seq 20); do
			exec {fd}<>"/dev/tcp/127.0.0.1/$port" || exit 1
			fds="$fds $fd"
			printf "$req" >&$fd
			while IFS= read -r -t 60 l <&$fd && [ "$l" != $'"'"'\r'"'"' ]; do :; done
			read -r -t 60 -N 10 l <&$fd || exit 1
		done
		: >"$dir/opened"
		while [ ! -e "$dir/go" ]; do sleep 0.1; done
		for fd in $fds; do printf "$req" >&$fd; done
		for fd in $fds; do
			IFS= read -r -t 60 l <&$fd && echo "${l%?}"
		done' many "$port" "$tmp" >"$tmp/many.out" 2>&1 &
	many=$!
	pids="$pids $many"
	check 'twenty connections are taken on' "poll '[ -e \"$tmp/opened\" ]'"
	: >"$tmp/stall"
	body="MessageSid=SMstall0000000000000000000000001&From=%2B15551230003&To=$us&Body=hi"
	sig=$(printf '%s' "$body" | sign "http://127.0.0.1:$port/twilio")
	curl -s -o /dev/null -w '%{http_code}' -H "X-Twilio-Signature: $sig" \
	    --data-binary "$body" "http://127.0.0.1:$port/twilio" \
	    >"$tmp/stalled.code" &
	stalled=$!
	pids="$pids $stalled"
	check 'a message waits on the disk' "poll '[ -e \"$tmp/stall.held\" ]'"
	: >"$tmp/go"
	wait "$many"
	is 'the twenty get their 403 meanwhile' \
	    "$(grep -c '^HTTP/1.1 403 ' "$tmp/many.out")" 20
	check 'while the message still waits' "kill -0 $stalled"
	rm -f "$tmp/stall"
	wait "$stalled"
	is 'and is answered 200 once the disk is back' \
	    "$(cat "$tmp/stalled.code")" 200
	kill "$spid"
	wait "$spid"
fi

# --- Usage ----------------------------------------------------------

"$bin/sms-recv" -d "$ib" --per-address -1 --listen 127.0.0.1:0 \
    >/dev/null 2>"$tmp/err"
is '--per-address -1: exit 2' "$?" 2
check 'and says why' "grep -q 'per-address' '$tmp/err'"
"$bin/sms-recv" -d "$ib" --per-address 4097 --listen 127.0.0.1:0 \
    >/dev/null 2>&1
is '--per-address 4097: exit 2' "$?" 2
# 2^32 and 2^32 + 1 do not wrap to 0 (no limit) and 1: refused with the
# options alone (no --listen: taken, it would read the empty stdin, exit 0).
for n in 4294967296 4294967297; do
	"$bin/sms-recv" -d "$ib" --per-address $n </dev/null >/dev/null 2>&1
	is "--per-address $n: exit 2" "$?" 2
	"$bin/sms-recv" -d "$ib" --timeout $n </dev/null >/dev/null 2>&1
	is "--timeout $n: exit 2" "$?" 2
done

# --- An inbox that cannot be written (readonly_run, tests/lib.sh) -------

rec='{"from":"+15551230002","to":"+15550000000","provider_id":"SMro1","body":"x"}'
if ! can_readonly "$ib"; then
	skip 'a read-only inbox' 'no read-only bind mount here'
else
	readonly_run "$ib" "$bin/sms-recv" -d "$ib" --listen 127.0.0.1:0 \
	    >/dev/null 2>"$tmp/err"
	is 'a listener on a read-only inbox: exit 77' "$?" 77
	check 'and says the inbox cannot be written' \
		"grep -q 'the inbox must be writable' '$tmp/err' && ! grep -q 'cannot listen' '$tmp/err'"
	printf '%s\n' "$rec" >"$tmp/rec"
	readonly_run "$ib" "$bin/sms-recv" -d "$ib" "$tmp/rec" >/dev/null \
	    2>"$tmp/err"
	is 'reading files into a read-only inbox: exit 77' "$?" 77
	check 'and says so' "grep -q 'the inbox must be writable' '$tmp/err'"
	check 'the inbox is writable again, and takes the record' \
		"'$bin/sms-recv' -d '$ib' '$tmp/rec' >/dev/null"
fi

done_testing
