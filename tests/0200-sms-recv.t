#!/bin/sh
# sms-recv(1): the webhook listener over loopback, and the file reader.
#
# Requests are signed the way Twilio signs them (tests/tools/twilio-sign)
# with the token in TWILIO_AUTH_TOKEN, never on a command line. Listeners
# bind 127.0.0.1 on a random free port and are killed, by PID, on exit.
# Promises checked (smsdesk(7), GUARANTEES): acknowledged means stored, no
# text after STOP and keywords answered (STOP, START, HELP), only signed
# requests (against the public URL), hostile input is survived, and a
# retry is stored once (one entry per MessageSid however often it comes).
. "$(dirname "$0")/lib.sh"

# Nothing from the caller's environment decides where or how we listen.
twilio_env 0200
umask 022	# sms-recv must not rely on the user's umask for 0700/0600

ib=$tmp/inbox
us=%2B15550000000	# our number, form-encoded

# listen NAME [ARG...]: start `sms-recv -d $ib ARG...` on a port of
# 127.0.0.1 (serve in lib.sh), with stdout in $tmp/NAME.out and stderr in
# $tmp/NAME.err. Sets port and pid.
listen() {
	l_name=$1
	shift
	serve "$tmp/$l_name.out" "$tmp/$l_name.err" "$bin/sms-recv" -d "$ib" \
	    "$@" || return
	pid=$server
}

# post BODY [SIGNED-FOR [CURL-ARG...]]: webhook (lib.sh) BODY, signed
# for the URL SIGNED-FOR (default: the listener's own URL). Prints the
# HTTP status; the response body is in $tmp/resp, its headers in
# $tmp/resp.h.
post() {
	p_body=$1 signed_for=${2-}
	shift
	[ $# -gt 0 ] && shift
	webhook "$p_body" "$@"
	set -- $?
	signed_for=
	return "$1"
}

# trickle PORT START: send START (printf format) to 127.0.0.1:PORT, then a
# byte every 0.5 s, 20 at most; prints how many bytes went before the
# connection was cut (20: never), a colon and the answer's first line.
trickle() {
	bash -c 'trap "" PIPE; exec 3<>/dev/tcp/127.0.0.1/$1 || exit
		printf "$2" >&3
		for i in $(seq 20); do printf a >&3 2>/dev/null || break; sleep 0.5; done
		printf "%s:%s" "$i" "$(head -n 1 <&3 | tr -d "\r")"' trickle "$1" "$2" \
	    2>/dev/null
}

# inbound NUMBER SID BODY: the form of an inbound message (BODY encoded).
inbound() {
	printf 'ToCountry=US&SmsMessageSid=%s&NumMedia=0&SmsSid=%s&SmsStatus=received&Body=%s&To=%s&NumSegments=1&MessageSid=%s&AccountSid=AC0&From=%%2B%s&ApiVersion=2010-04-01' \
	    "$2" "$2" "$3" "$us" "$2" "${1#+}"
}

# nmsg NUMBER: how many message files the thread has.
nmsg() { ls "$ib/msg/$1" 2>/dev/null | wc -l | tr -d ' '; }

# nevents FILE EVENT [SID]: events of that kind (for that MessageSid).
nevents() {
	jq -c --arg e "$2" --arg id "${3-}" 'select(.type == "event" and
	    .event == $e and ($id == "" or .message.provider_id == $id))' \
	    "$1" | wc -l | tr -d ' '
}

# event FILE EVENT [SID]: wait for such an event (the listener's event
# writer prints it after the answer: polled for, not assumed).
event() { poll "[ \"\$(nevents '$1' '$2' '${3-}')\" -ge 1 ]"; }

# --- Signatures: the known answers of providers.md section 7 ---------

is 'twilio-sign: the smsdesk vector (sorting, repeats, empty values)' \
	"$(printf '%s' 'Body=Hello+world+%C3%A9&MediaUrl0=&To=%2B1555&To=%2B1444&a=1&Z=2' |
	    TWILIO_AUTH_TOKEN=tok sign http://127.0.0.1:8080/sms)" \
	'wJYGO4Za8tT6TO6fEpRltuZWm1g='
is "twilio-sign: Twilio's documented example" \
	"$(printf '%s' 'CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212' |
	    TWILIO_AUTH_TOKEN=12345 sign 'https://mycompany.com/myapp.php?foo=1&bar=2')" \
	'0/KCTR6DLpKmkAf8muzZqo1nDgQ='

# --- A message, stored once -------------------------------------------

listen L || { fail 'the listener starts'; done_testing; }
lpid=$pid lport=$port
A=+15551230001
is 'a signed message: 200' \
	"$(post "$(inbound $A SMa0000000000000000000000000000001 'Hello+%C3%A9t%C3%A9+%26+co')")" 200
check 'answered with TwiML as text/xml' \
	"grep -qi '^content-type: text/xml' '$tmp/resp.h' && grep -q '^<?xml.*<Response>.*</Response>' '$tmp/resp'"
is 'one file in msg/+THREAD' "$(nmsg $A)" 1
is 'the file is the message record' \
	"$(jq -c '[.type,.direction,.thread,.from,.to,.body,.provider,.provider_id]' "$ib"/msg/$A/*)" \
	'["message","in","+15551230001","+15551230001","+15550000000","Hello été & co","twilio","SMa0000000000000000000000000000001"]'
event "$tmp/L.out" message.received
is 'one message.received event' "$(nevents "$tmp/L.out" message.received)" 1
is 'the event names thread, body and provider id' \
	"$(jq -c 'select(.event == "message.received") | .message | [.thread,.body,.provider_id]' "$tmp/L.out")" \
	'["+15551230001","Hello été & co","SMa0000000000000000000000000000001"]'
is 'and its thread at the top level, as every event (sms-record(5))' \
	"$(jq -r 'select(.event == "message.received") | .thread' "$tmp/L.out")" \
	+15551230001
is 'the conversation is open with one unread' \
	"$(tail -n 1 "$ib/conv/$A" | jq -c '[.type,.thread,.status,.unread,.messages,.last_body]')" \
	'["conversation","+15551230001","open",1,1,"Hello été & co"]'
check 'and in the working set' "test -e '$ib/work/$A'"

# The same MessageSid again, 5 times in a row and then 5 at once.
B=+15551230002
dup=$(inbound $B SMdup0000000000000000000000000002 'again')
codes=
for i in 1 2 3 4 5; do
	codes="$codes$(post "$dup") "
done
is 'the same MessageSid 5 times in a row: 200 each' "$codes" '200 200 200 200 200 '
cpids=
for i in 1 2 3 4 5; do
	sig=$(printf '%s' "$dup" | sign "http://127.0.0.1:$port/twilio")
	curl -s -o /dev/null -w '%{http_code}\n' -H "X-Twilio-Signature: $sig" \
	    --data-binary "$dup" "http://127.0.0.1:$port/twilio" >"$tmp/c.$i" &
	cpids="$cpids $!"
done
wait $cpids
is 'and 5 at once: 200 each' "$(cat "$tmp"/c.? | tr '\n' ' ')" '200 200 200 200 200 '
is 'stored once' "$(nmsg $B)" 1
event "$tmp/L.out" message.received SMdup0000000000000000000000000002
is 'announced once' "$(nevents "$tmp/L.out" message.received SMdup0000000000000000000000000002)" 1
is 'counted once in its conversation' "$(tail -n 1 "$ib/conv/$B" | jq -c '[.messages,.unread]')" '[1,1]'

# --- Signatures that do not match: 403 and nothing stored ---------------

C=+15551230003
good=$(inbound $C SMbad0000000000000000000000000003 'hello')
sig=$(printf '%s' "$good" | sign "http://127.0.0.1:$port/twilio")
send() {	# send SIG BODY [CURL-ARG...]: POST with that signature
	s_sig=$1 s_body=$2
	shift 2
	curl -s -o "$tmp/resp" -w '%{http_code}' -H "X-Twilio-Signature: $s_sig" \
	    --data-binary "$s_body" "$@" "http://127.0.0.1:$port/twilio"
}
is 'one byte changed in the body: 403' "$(send "$sig" "$(printf '%s' "$good" | sed 's/Body=hello/Body=hellp/')")" 403
case $sig in
A*) badsig=B${sig#?} ;;
*) badsig=A${sig#?} ;;
esac
is 'one byte changed in the signature: 403' "$(send "$badsig" "$good")" 403
is 'the signature with a byte cut off: 403' "$(send "${sig%?}" "$good")" 403
is 'no signature header: 403' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$good" "http://127.0.0.1:$port/twilio")" 403
is 'an empty signature: 403' "$(send '' "$good")" 403
is 'a parameter added after signing: 403' "$(send "$sig" "$good&Extra=1")" 403
is 'signed with another token: 403' \
	"$(send "$(printf '%s' "$good" | TWILIO_AUTH_TOKEN=other sign "http://127.0.0.1:$port/twilio")" "$good")" 403
is 'signed for another path: 403' \
	"$(send "$(printf '%s' "$good" | sign "http://127.0.0.1:$port/twilio2")" "$good")" 403
is 'none of them stored anything' "$(nmsg $C):$(ledger_keys "$ib" | grep -c SMbad)" 0:0
check 'and none of them reached the conversation' "! test -e '$ib/conv/$C'"
is 'the good one still works' "$(send "$sig" "$good")" 200

# The public URL, not Host or forwarded headers, is what is signed.
listen P --public-url https://example.com/ || fail 'a listener with --public-url starts'
D=+15551230004
pub=$(inbound $D SMpub0000000000000000000000000004 'via+proxy')
is 'signed for http://127.0.0.1:PORT when the public URL differs: 403' "$(post "$pub")" 403
is 'forged Host: 403' \
	"$(post "$pub" http://evil.example/twilio -H 'Host: evil.example')" 403
is 'forged X-Forwarded-Host and -Proto: 403' \
	"$(post "$pub" https://evil.example/twilio -H 'X-Forwarded-Host: evil.example' -H 'X-Forwarded-Proto: https')" 403
is 'nothing stored from those' "$(nmsg $D)" 0
is 'signed for the public URL, with the default port: 200' \
	"$(post "$pub" https://example.com:443/twilio)" 200
is 'signed for the public URL, forged X-Forwarded-Host ignored: 200' \
	"$(post "$pub" https://example.com/twilio -H 'X-Forwarded-Host: evil.example')" 200
is 'stored once' "$(nmsg $D)" 1
kill "$pid"
wait "$pid"
is 'that listener stops on SIGTERM with status 0' "$?" 0
pid=$lpid port=$lport

# --- Keywords: STOP and its synonyms, START, HELP -------------------------

# keyword N BODY: an inbound message BODY from +1555300000N
keyword() {
	post "$(inbound +155530000$1 "SMkw000000000000000000000000000$1" "$2")" >"$tmp/kw.code"
}
n=10
for w in STOP stop +Stop+ STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT; do
	keyword $n "$w"
	want=$(printf '%s' "$w" | tr -d + | tr a-z A-Z)
	num=+155530000$n
	is "$w: 200" "$(cat "$tmp/kw.code")" 200
	event "$tmp/L.out" consent.optout SMkw000000000000000000000000000$n
	is "$w: an optout event" "$(nevents "$tmp/L.out" consent.optout SMkw000000000000000000000000000$n)" 1
	is "$w: consent record out, keyword $want" \
		"$(cat "$ib/consent/$num"/* | jq -sc 'map([.type,.number,.state,.keyword,.our_number])')" \
		"[[\"consent\",\"$num\",\"out\",\"$want\",\"+15550000000\"]]"
	is "$w: the message is in its conversation, which is no work (resolved)" \
		"$(nmsg $num):$(jq -r .keyword "$ib/msg/$num"/*):$(tail -n 1 "$ib/conv/$num" | jq -r .status)" "1:$want:resolved"
	n=$((n + 1))
done
is 'the consent record names the message' \
	"$(jq -r .message "$ib/consent/+15553000010"/*)" "$(jq -r .id "$ib/msg/+15553000010"/*)"
for w in STOP+PLEASE STOP. STOPP; do
	keyword $n "$w"
	is "$w: stored, but no optout" \
		"$(cat "$tmp/kw.code"):$(nmsg +155530000$n):$(nevents "$tmp/L.out" consent.optout SMkw000000000000000000000000000$n):$(ls "$ib/consent/+155530000$n" 2>/dev/null | wc -l | tr -d ' ')" \
		'200:1:0:0'
	n=$((n + 1))
done
for w in START unstop +Yes+; do
	want=$(printf '%s' "$w" | tr -d + | tr a-z A-Z)
	keyword $n "$w"
	event "$tmp/L.out" consent.optin SMkw000000000000000000000000000$n
	is "$w: an optin event and a consent record in" \
		"$(cat "$tmp/kw.code"):$(nevents "$tmp/L.out" consent.optin SMkw000000000000000000000000000$n):$(cat "$ib/consent/+155530000$n"/* | jq -sc 'map([.state,.keyword])')" \
		"200:1:[[\"in\",\"$want\"]]"
	n=$((n + 1))
done
for w in HELP info; do
	want=$(printf '%s' "$w" | tr a-z A-Z)
	keyword $n "$w"
	is "$w: stored with keyword $want, no consent change" \
		"$(cat "$tmp/kw.code"):$(jq -r 'select(.direction == "in") | .keyword' "$ib/msg/+155530000$n"/*):$(nevents "$tmp/L.out" consent.optout SMkw000000000000000000000000000$n)$(nevents "$tmp/L.out" consent.optin SMkw000000000000000000000000000$n)" \
		"200:$want:00"
	check "$w: answered with the help text in TwiML" \
		"grep -q '<Message>.*Reply STOP to opt out.</Message>' '$tmp/resp'"
	is "$w: the answer is recorded in the conversation" \
		"$(jq -c 'select(.direction == "out") | [.auto, .status, .to]' "$ib/msg/+155530000$n"/*)" \
		"[\"help\",\"accepted\",\"+155530000$n\"]"
	keyword $n "$w"
	is "$w again (a provider retry): no second answer" \
		"$(cat "$tmp/kw.code"):$(grep -c '<Message>' "$tmp/resp"):$(nmsg +155530000$n)" '200:0:2'
	n=$((n + 1))
done
keyword $n STOP
is 'STOP: no answer of ours (Twilio confirms it)' "$(grep -c '<Message>' "$tmp/resp")" 0
n=$((n + 1))
# STOP then START from one number: both recorded, the newest decides.
E=+15551230005
post "$(inbound $E SMstop00000000000000000000000005 STOP)" >/dev/null
post "$(inbound $E SMstart0000000000000000000000005 START)" >/dev/null
is 'STOP then START: two consent records, START newest' \
	"$(ls "$ib/consent/$E" | wc -l | tr -d ' '):$(cat "$ib/consent/$E/$(ls "$ib/consent/$E" | tail -n 1)" | jq -r .state)" '2:in'
is 'and both messages are in the thread' "$(nmsg $E)" 2

# --- Status callbacks: parked, monotonic --------------------------------

status() {	# status SID STATUS [ERRORCODE]
	post "MessageSid=$1&SmsSid=$1&AccountSid=AC0&From=$us&To=%2B15551230006&MessageStatus=$2&SmsStatus=$2&ApiVersion=2010-04-01${3:+&ErrorCode=$3}"
}
is 'a status for an unknown MessageSid: 200' "$(status SMout000000000000000000000000001 sent)" 200
check 'parked in status/' "jq -e '.status == \"sent\"' '$ib/status/twilio-SMout000000000000000000000000001'"
codes=
for s in delivered sent queued sending; do
	codes="$codes$(status SMout000000000000000000000000001 $s) "
done
is 'delivered, sent, queued, sending after it: 200 each' "$codes" '200 200 200 200 '
is 'the status never goes back' \
	"$(jq -r .status "$ib/status/twilio-SMout000000000000000000000000001")" delivered
status SMout000000000000000000000000002 failed 30008 >/dev/null
status SMout000000000000000000000000002 sent >/dev/null
is 'a failure keeps its error code' \
	"$(jq -c '[.status,.error_code]' "$ib/status/twilio-SMout000000000000000000000000002")" '["failed","30008"]'
is 'a status word not known yet: 200' "$(status SMout000000000000000000000000003 teleported)" 200
check 'parked as it came' "jq -e '.status == \"teleported\"' '$ib/status/twilio-SMout000000000000000000000000003'"
is 'a status that is no word (a newline in it): 400' "$(status SMout000000000000000000000000004 'tele%0Aported')" 400
check 'status callbacks store no message' "! test -e '$ib/msg/+15551230006' && ! test -e '$ib/msg/+15550000000'"

# --- Hostile requests ----------------------------------------------------

F=+15551230007
{
	inbound $F SMbig00000000000000000000000000007 x
	printf '&Pad='
	head -c 100000 /dev/zero | tr '\0' a
} >"$tmp/big"
is 'a 100 KB body: 413' \
	"$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Twilio-Signature: x' --data-binary @"$tmp/big" "http://127.0.0.1:$port/twilio")" 413
is 'a 100 KB chunked body: 413' \
	"$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Twilio-Signature: x' -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "http://127.0.0.1:$port/twilio")" 413
is 'nothing stored from those' "$(nmsg $F)" 0
is 'invalid UTF-8 in Body (%FF): 400' \
	"$(send x "$(inbound $F SMutf00000000000000000000000000007 'caf%FF')")" 400
is 'a bad percent escape: 400' \
	"$(send x "$(inbound $F SMutf00000000000000000000000000007 'caf%G1')")" 400
is 'nothing stored from those' "$(nmsg $F):$(ledger_keys "$ib" | grep -c SMutf)" 0:0
is 'no From: 400' \
	"$(post "MessageSid=SMnofrom0000000000000000000000007&To=$us&Body=hi")" 400
is 'an empty From: 400' \
	"$(post "MessageSid=SMnofrom0000000000000000000000007&From=&To=$us&Body=hi")" 400
is 'a From that is no number: 200, in a thread of its own' \
	"$(post "MessageSid=SMsender000000000000000000000007&From=..%2Fetc&To=$us&Body=hi")" 200
check 'named @ and the sender escaped, inside msg/' \
	"[ -d '$ib/msg/@%2E%2E%2Fetc' ] && [ ! -e '$ib/etc' ]"
is 'no MessageSid: 400' "$(post "From=%2B15551230007&To=$us&Body=hi")" 400
is 'nothing stored from those' "$(nmsg $F):$(ledger_keys "$ib" | grep -c SMnofrom)" 0:0
is 'GET: 405' "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/twilio")" 405
is 'an unknown path: 404' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary x "http://127.0.0.1:$port/telnyx")" 404
is 'a path outside: 404' \
	"$(curl -s -o /dev/null -w '%{http_code}' --path-as-is --data-binary x "http://127.0.0.1:$port/../twilio")" 404

# Slow clients (slowloris): 20 connections trickle a request a byte at a
# time, until told to stop, while signed requests still get through: each
# is answered while every slow client still holds its connection (which
# the listener cuts only at --timeout, 10 s, for headers), however busy the
# machine.
slow=
rel=$tmp/release
if command -v bash >/dev/null 2>&1 &&
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
	how='bash /dev/tcp'
	for i in $(seq 20); do
		if [ $((i % 2)) -eq 0 ]; then
			head='POST /twilio HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n'
		else
			head='POST /twilio HTTP/1.1\r\nHo'
		fi
		bash -c 'trap "" PIPE; exec 3<>/dev/tcp/127.0.0.1/$1 || exit
			printf "$2" >&3 || exit
			: >"$3.$4"
			while [ ! -e "$3" ]; do
				printf a >&3 || exit; sleep 0.5
			done' \
		    slow "$port" "$head" "$rel" "$i" 2>/dev/null &
		slow="$slow $!"
	done
	# Every one connected and its start sent.
	poll '[ "$(ls "$tmp" | grep -c "^release\.")" -ge 20 ]' ||
	    diag 'not every slow client connected'
else
	how='curl --limit-rate'
	head -c 100 /dev/zero | tr '\0' a >"$tmp/small"
	for i in $(seq 20); do
		curl -s -o /dev/null --limit-rate 1 --max-time 9 -H 'X-Twilio-Signature: x' \
		    --data-binary @"$tmp/small" "http://127.0.0.1:$port/twilio" &
		slow="$slow $!"
	done
fi
pids="$pids $slow"
G=+15551230008
times=
for i in 1 2 3 4 5; do
	body=$(inbound $G SMslow0000000000000000000000000$i ok)
	sig=$(printf '%s' "$body" | sign "http://127.0.0.1:$port/twilio")
	times="$times $(curl -s -o /dev/null -w '%{http_code} %{time_total}' \
	    -H "X-Twilio-Signature: $sig" --data-binary "$body" "http://127.0.0.1:$port/twilio")"
done
held=0
for p in $slow; do kill -0 "$p" 2>/dev/null && held=$((held + 1)); done
: >"$rel"
is "under 20 slow clients ($how): 5 signed requests get 200" \
	"$(printf '%s\n' $times | awk 'NR % 2 == 1' | tr '\n' ' ')" '200 200 200 200 200 '
is 'each answered while all 20 still held on' "$held" 20
diag "latencies under slowloris (s):$(printf '%s\n' $times | awk 'NR % 2 == 0' | tr '\n' ' ')"
is 'and are stored' "$(nmsg $G)" 5
wait $slow

# A body that trickles in within the idle timeout still has a time limit:
# at three times --timeout the connection is cut, nothing answered or kept.
if command -v bash >/dev/null 2>&1; then
	main_port=$port main_pid=$pid
	listen slow --timeout 1
	# The client gives up after 20 bytes, 10 s; cut before that, it
	# says after how many bytes, and what came back (nothing).
	start=$(date +%s)
	got=$(trickle "$port" \
	    'POST /twilio HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n')
	is 'a body trickling past three times --timeout gets no answer' "${got#*:}" ''
	check "and is cut off before the client gives up ($got)" \
		"[ '${got%%:*}' -lt 20 ]"
	diag "cut off after $(( $(date +%s) - start )) s"
	# (the listener logs the cut after closing the connection: waited for)
	check 'the log says so' "poll \"grep -q 'cut off' '$tmp/slow.err'\""
	# Headers that trickle in never reach the handler: a watchdog cuts
	# the connection all the same, so that a few hundred such clients
	# cannot hold every connection the listener allows.
	start=$(date +%s)
	got=$(trickle "$port" 'POST /twilio HTTP/1.1\r\nHo')
	is 'headers trickling past three times --timeout get no answer' "${got#*:}" ''
	check "and are cut off before the client gives up ($got)" \
		"[ '${got%%:*}' -lt 20 ]"
	diag "cut off after $(( $(date +%s) - start )) s"
	check 'the log says so' \
		"poll \"grep -q 'still coming after .*: cut off' '$tmp/slow.err'\""
	is 'the listener still answers' \
	    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/twilio")" 405
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	port=$main_port pid=$main_pid
else
	skip 'a body trickling past three times --timeout is cut off' 'no bash'
	skip 'headers trickling past three times --timeout are cut off' 'no bash'
fi

# --- Start-up and shutdown ----------------------------------------------

env -u TWILIO_AUTH_TOKEN "$bin/sms-recv" -d "$ib" --listen 127.0.0.1:0 >/dev/null 2>"$tmp/err"
is 'no token: exit 78' "$?" 78
check 'and says what to do' "grep -q 'TWILIO_AUTH_TOKEN' '$tmp/err'"
TWILIO_AUTH_TOKEN='' "$bin/sms-recv" -d "$ib" --listen 127.0.0.1:0 >/dev/null 2>&1
is 'an empty token: exit 78' "$?" 78
check 'the token is not in the listener'"'"'s argv' \
	"! tr '\\0' ' ' </proc/$lpid/cmdline | grep -q -- '$TWILIO_AUTH_TOKEN'"
unset TWILIO_AUTH_TOKEN
listen I --insecure || fail 'with --insecure it starts'
TWILIO_AUTH_TOKEN=tok-0200
export TWILIO_AUTH_TOKEN
is 'with --insecure: an unsigned request is taken' \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$(inbound +15551230009 SMinsecure000000000000000000000009 hi)" "http://127.0.0.1:$port/twilio")" 200
kill "$pid"
wait "$pid"
is '--insecure listener: SIGTERM, exit 0' "$?" 0
check 'it said it was finishing' "grep -q 'SIGTERM' '$tmp/I.err'"
pid=$lpid port=$lport
"$bin/sms-recv" -d "$ib" --listen "127.0.0.1:$port" >/dev/null 2>"$tmp/err"
is 'a port in use: exit 74' "$?" 74
check 'and says so' "grep -qs 'cannot listen' '$tmp/err'"
"$bin/sms-recv" -d "$ib" --listen 127.0.0.1:99999 >/dev/null 2>&1
is 'a bad port: exit 2' "$?" 2
"$bin/sms-recv" -d "$ib" --listen 127.0.0.1:0 "$tmp/big" >/dev/null 2>&1
is '--listen with FILE: exit 2' "$?" 2

kill "$lpid"
wait "$lpid"
is 'SIGTERM: the listener exits 0' "$?" 0
check 'it logged one line per request' \
	"grep -c ' POST /twilio [0-9][0-9]* ' '$tmp/L.err' | awk '\$1 >= 60 { ok = 1 } END { exit !ok }'"
check 'and never the token' "! grep -q -- '$TWILIO_AUTH_TOKEN' '$tmp/L.err'"

# A reader of stdout that goes away does not stop the listener.
mkfifo "$tmp/H.out"
serve_before='head -n 1 <"$tmp/H.out" >"$tmp/H.first" & hpid=$!'
listen H || fail 'a listener with stdout to head -n 1 starts'
serve_before=
H=+15551230010
is 'the first message: 200' "$(post "$(inbound $H SMhead0000000000000000000000000001 one)")" 200
wait "$hpid"
check 'head read its event and is gone' \
	"jq -e '.message.provider_id == \"SMhead0000000000000000000000000001\"' '$tmp/H.first'"
codes=
for i in 2 3 4; do
	codes="$codes$(post "$(inbound $H SMhead000000000000000000000000000$i "n$i")") "
done
is 'with nobody reading stdout, more messages: 200 each' "$codes" '200 200 200 '
is 'all are stored' "$(nmsg $H)" 4
check 'the listener is still there' "kill -0 $pid"
kill "$pid"
wait "$pid"
is 'and stops on SIGTERM with status 0' "$?" 0

# --- Files and stdin ------------------------------------------------------

fi=$tmp/files
printf '%s\n' \
	"$(inbound +15551240001 SMfile000000000000000000000000001 'from+a+file')" \
	'{"type":"message","from":"+15551240002","to":"+15550000000","body":"from NDJSON","provider_id":"SMfile000000000000000000000000002"}' \
	'{"type":"message","from":"+15551240002","to":"+15550000000","body":"STOP","provider_id":"SMfile000000000000000000000000003"}' \
	"MessageSid=SMfile000000000000000000000000004&MessageStatus=delivered" \
	>"$tmp/in"
"$bin/sms-recv" -d "$fi" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'stdin: form bodies and NDJSON records: exit 0' "$?" 0
is 'each message stored in its thread' \
	"$(ls "$fi/msg/+15551240001" | wc -l | tr -d ' '):$(ls "$fi/msg/+15551240002" | wc -l | tr -d ' ')" 1:2
is 'one event each: 3 messages, an optout' \
	"$(jq -r .event "$tmp/out" | sort | tr '\n' ' ')" 'consent.optout message.received message.received message.received '
is 'the NDJSON record is stored as given' \
	"$(cat "$fi/msg/+15551240002"/* | jq -sc 'map([.body,.provider,.provider_id,.direction])|sort')" \
	'[["STOP","twilio","SMfile000000000000000000000000003","in"],["from NDJSON","twilio","SMfile000000000000000000000000002","in"]]'
is 'the STOP in a record reaches the consent ledger' \
	"$(jq -r .state "$fi/consent/+15551240002"/*)" out
check 'a status line is parked' "test -e '$fi/status/twilio-SMfile000000000000000000000000004'"
"$bin/sms-recv" -d "$fi" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'the same input again: exit 0' "$?" 0
is 'nothing new stored' \
	"$(ls "$fi/msg/+15551240001" | wc -l | tr -d ' '):$(ls "$fi/msg/+15551240002" | wc -l | tr -d ' ')" 1:2
is 'and no events' "$(wc -l <"$tmp/out" | tr -d ' ')" 0
"$bin/sms-recv" -d "$fi" "$tmp/in" "$tmp/in" >"$tmp/out" 2>&1
is 'as FILE arguments, twice over: exit 0, no events' "$?:$(wc -l <"$tmp/out" | tr -d ' ')" 0:0

printf '%s\n' \
	"$(inbound +15551240003 SMfile000000000000000000000000005 'good+one')" \
	'this is %ZZ not a form' \
	"$(inbound +15551240003 SMfile000000000000000000000000006 'caf%FF')" \
	'{"type":"message","from":"+15551240003","body":"cut' \
	'{"type":"message","to":"+15550000000","body":"no from"}' \
	"MessageSid=SMfile000000000000000000000000007&To=$us&Body=no+from" \
	"$(inbound +15551240003 SMfile000000000000000000000000008 'good+two')" \
	>"$tmp/in"
printf '\377\376\n' >>"$tmp/in"
"$bin/sms-recv" -d "$fi" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'bad lines: exit 1' "$?" 1
is 'the good lines around them are stored' \
	"$(cat "$fi/msg/+15551240003"/* | jq -sc 'map(.body)|sort')" '["good one","good two"]'
is 'each bad line named on stderr as stdin:N' \
	"$(sed -n 's/^sms-recv: stdin:\([0-9]*\): .*/\1/p' "$tmp/err" | tr '\n' ' ')" '2 3 4 5 6 8 '
check 'bad UTF-8 is called that' "grep -q '^sms-recv: stdin:3: .*UTF-8' '$tmp/err'"
check 'a missing From is called that' "grep -q '^sms-recv: stdin:6: .*From' '$tmp/err'"
"$bin/sms-recv" -d "$fi" "$tmp/no-such-file" >/dev/null 2>"$tmp/err"
is 'a missing FILE: exit 66' "$?" 66
check 'named on stderr' "grep -q 'no-such-file' '$tmp/err'"
printf '%s' "$(inbound +15551240004 SMfile000000000000000000000000009 'no+newline')" |
    "$bin/sms-recv" -d "$fi" >/dev/null 2>"$tmp/err"
is 'a last line without a newline: exit 1' "$?" 1
check 'nothing stored from it' "! test -e '$fi/msg/+15551240004'"
if [ -w /dev/full ]; then
	printf '%s\n' "$(inbound +15551240005 SMfile000000000000000000000000010 x)" |
	    "$bin/sms-recv" -d "$fi" >/dev/full 2>/dev/null
	is 'events to a full disk: exit 74' "$?" 74
fi

# --- The first-contact acknowledgement (config ack_text) ---------------------

main_ib=$ib main_port=$port main_pid=$pid
ib=$tmp/ack
mkdir -p "$ib" && chmod 700 "$ib"
printf 'ack_text = Thanks, an agent will answer shortly.\n' >"$ib/config"
chmod 600 "$ib/config"
listen ack
post "$(inbound +15553100001 SMack00000000000000000000000000001 hello)" >/dev/null
check 'a first message is acknowledged' "grep -q '<Message>Thanks, an agent will answer shortly.</Message>' '$tmp/resp'"
post "$(inbound +15553100001 SMack00000000000000000000000000002 again)" >/dev/null
is 'the second is not' "$(grep -c '<Message>' "$tmp/resp")" 0
is 'the acknowledgement is in the thread' \
	"$(jq -c 'select(.direction == "out") | .auto' "$ib/msg/+15553100001"/*)" '"ack"'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# --- Our own confirmations (stop_text, start_text) and business_name -------

ib=$tmp/confirm
mkdir -p "$ib" && chmod 700 "$ib"
printf '%s\n' 'business_name = Acme Bikes' \
	'stop_text = You are unsubscribed from Acme Bikes. Reply START to resubscribe.' \
	'start_text = You are subscribed to Acme Bikes again. Reply STOP to opt out.' \
	>"$ib/config"
chmod 600 "$ib/config"
listen confirm
# answer SID BODY: the <Message> sms-recv answered SID (BODY from $C).
C=+15553200001
answer() {
	post "$(inbound $C "$1" "$2")" >/dev/null
	sed -n 's:.*<Message>\(.*\)</Message>.*:\1:p' "$tmp/resp"
}
is 'STOP: our stop_text, once' \
	"$(answer SMcf000000000000000000000000000001 STOP)" \
	'You are unsubscribed from Acme Bikes. Reply START to resubscribe.'
is 'the same webhook again: nothing' \
	"$(answer SMcf000000000000000000000000000001 STOP)" ''
is 'a second STOP while opted out: nothing' \
	"$(answer SMcf000000000000000000000000000002 stop)" ''
check 'the confirmation is in the thread, auto stop, to the customer' \
	'[ "$(jq -c "select(.direction == \"out\") | [.auto, .to]" \
	    "$ib/msg/$C"/*)" = "[\"stop\",\"$C\"]" ]'
is 'START: our start_text' \
	"$(answer SMcf000000000000000000000000000003 START)" \
	'You are subscribed to Acme Bikes again. Reply STOP to opt out.'
is 'a second START while opted in: nothing' \
	"$(answer SMcf000000000000000000000000000004 yes)" ''
is 'STOP again after START: confirmed again' \
	"$(answer SMcf000000000000000000000000000005 QUIT)" \
	'You are unsubscribed from Acme Bikes. Reply START to resubscribe.'
check 'HELP: the default help text names the business' \
	'[ "$(answer SMcf000000000000000000000000000006 HELP)" = "Acme Bikes: Text us here and we will answer. Msg frequency varies. Msg&amp;data rates may apply. Reply STOP to opt out." ]'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
ib=$main_ib port=$main_port pid=$main_pid

# --- Permissions ------------------------------------------------------------

is 'every inbox directory is 0700' \
	"$(find "$ib" "$fi" -type d ! -perm 700 | wc -l | tr -d ' '):$(find "$ib" -type d | wc -l | awk '$1 >= 9 { print "ok" }')" '0:ok'
is 'every file in the inbox is 0600' "$(find "$ib" "$fi" -type f ! -perm 600 | wc -l | tr -d ' ')" 0
is 'all 38 message files the listeners stored are 0600' "$(find "$ib/msg" -type f -perm 600 | wc -l | tr -d ' ')" 38
is 'nothing left in tmp/' "$(find "$ib/tmp" "$fi/tmp" -type f | wc -l | tr -d ' ')" 0

done_testing
