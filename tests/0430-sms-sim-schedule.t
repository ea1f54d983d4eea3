#!/bin/sh
# sms-sim(1), Scheduled messages: Twilio's own scheduling, on the sim's
# clock.
#
# A create through a Messaging Service with ScheduleType=fixed and SendAt
# is "scheduled", within Twilio's window of 15 minutes to 35 days, with
# Twilio's error codes outside it; it goes out when the sim's clock
# reaches SendAt, and a cancel (POST Status=canceled) stops it. The clock
# is pinned with SMSDESK_NOW and moved with POST /sim/clock, so nothing
# here waits for a SendAt: the one sim on a running clock is moved to two
# seconds before its message's time, and polled (a deadline, not a wait).
# Callbacks go to a webhook that keeps every post's body, a line each.
. "$(dirname "$0")/lib.sh"

twilio_env 0430
unset SMSDESK_SIM_URL SMSDESK_NOW
MG=MG0430aaaaaaaaaaaaaaaaaaaaaaaaaaaa
T0=2030-01-01T00:00:00Z

# --- Usage ---------------------------------------------------------------

check_exit '--schedule-min over 35 days: usage error' 2 \
	'sms-sim --schedule-min 3024001'
check_exit '--schedule-min below 0: usage error' 2 'sms-sim --schedule-min -1'
check_exit '--schedule-min not a number: usage error' 2 \
	'sms-sim --schedule-min 15m'
# (A sim that took it would serve: timeout(1) is a deadline for that, and
# the port it is given no port at all, so that it takes none.)
check_exit 'an SMSDESK_NOW that is no time: 78, said so' 78 \
	"SMSDESK_NOW=tonight timeout 60 sms-sim --listen 127.0.0.1:70000 2>&1 |
	 grep -q 'SMSDESK_NOW' && exit 78"

# --- The webhook that keeps the callbacks, and the sim -----------------------

# capture FILE: a webhook that appends the body of every post to FILE, a
# line each, and answers empty TwiML, on a port the kernel picks (it says
# which on stderr). exec: $! is the server's own PID, for the exit trap.
capture() {
	exec perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 5) or exit 1;
	    print STDERR "listening on ", $s->sockport, "\n";
	    while (my $c = $s->accept) {
		my ($len, $line) = (0, "");
		while (defined($line = <$c>) && $line ne "\r\n") {
		    $len = $1 if $line =~ /^content-length:\s*(\d+)/i;
		}
		read($c, my $body, $len);
		open(my $f, ">>", $ARGV[0]) or exit 1;
		print $f "$body\n";
		close $f;
		my $x = q{<?xml version="1.0" encoding="UTF-8"?><Response/>};
		print $c "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
		    . "Content-Length: " . length($x)
		    . "\r\nConnection: close\r\n\r\n$x";
		close $c;
	    }' "$1"
}
: >"$tmp/posts"
capture "$tmp/posts" 2>"$tmp/capture.err" &
pids="$pids $!"
poll "grep -qs listening '$tmp/capture.err'" ||
	{ fail 'the capturing webhook starts'; done_testing; }
hook=http://127.0.0.1:$(sed -n 's/^listening on //p' "$tmp/capture.err")/cb

serve "$tmp/S.out" "$tmp/S.err" env SMSDESK_NOW=$T0 sms-sim \
	--log "$tmp/S.log" --number "$US" --webhook "$hook" --seed 430 ||
	{ fail 'sms-sim on a pinned clock starts'; done_testing; }
sim=http://127.0.0.1:$port
pass 'sms-sim on a pinned clock starts'

M=/2010-04-01/Accounts/$AC/Messages

# api METHOD PATH [CURL-ARG...]: a request to the sim at $sim with the
# account's credentials. Prints the HTTP status; the body is in $tmp/resp.
api() {
	a_method=$1 a_path=$2
	shift 2
	curl -s -o "$tmp/resp" -w '%{http_code}' -X "$a_method" \
	    -u "$AC:$TOK" "$@" "$sim$a_path"
}

# schedule TO SENDAT [CURL-ARG...]: create a message to TO through the
# service, scheduled at SENDAT, its callbacks to the webhook.
schedule() {
	s_to=$1 s_at=$2
	shift 2
	api POST "$M.json" --data-urlencode "To=$s_to" \
	    --data-urlencode "Body=Your appointment is at 10" \
	    -d "MessagingServiceSid=$MG" -d ScheduleType=fixed \
	    --data-urlencode "SendAt=$s_at" \
	    --data-urlencode "StatusCallback=$hook" "$@"
}

# error: the Twilio error in $tmp/resp as "HTTP CODE".
error() { jq -r '"\(.status) \(.code)"' "$tmp/resp"; }

# status SID: the message's status, as fetched.
status() { api GET "$M/$1.json" >/dev/null && jq -r .status "$tmp/resp"; }

# clock [CURL-ARG...]: GET, or with -d, POST /sim/clock; prints the answer.
clock() { curl -s "$@" "$sim/sim/clock"; }

# posted SID: the MessageStatus of each callback of SID, in order.
posted() {
	grep "MessageSid=$1&" "$tmp/posts" |
	    sed 's/.*MessageStatus=\([a-z_]*\).*/\1/' | tr '\n' ' '
}

held() { api GET "$M.json?PageSize=1000" >/dev/null; jq '.messages | length' "$tmp/resp"; }

# --- Scheduling, and the window -------------------------------------------

is 'the clock is SMSDESK_NOW' "$(clock)" "{\"now\":\"$T0\"}"
is '15 minutes ahead, exactly: 201' \
	"$(schedule +15551230001 2030-01-01T00:15:00Z)" 201
sid=$(jq -r .sid "$tmp/resp")
is 'scheduled; from null until the service picks a sender; not sent' \
	"$(jq -c '[.status, .from, .messaging_service_sid, .date_sent, .price]' "$tmp/resp")" \
	"[\"scheduled\",null,\"$MG\",null,null]"
is 'stamped by the pinned clock' "$(jq -r .date_created "$tmp/resp")" \
	'Tue, 01 Jan 2030 00:00:00 +0000'
is 'the message resource has the keys of the schema' \
	"$(jq -c 'keys' "$tmp/resp")" "$(printf %s "$twilio_oas" | jq -c '.message | keys')"
check 'the create request is valid against the OpenAPI description' \
	"jq -c 'select(.status == 201)' '$tmp/S.log' | tail -n 1 | is_valid_create"
is 'its --log record is stamped by the clock too' \
	"$(jq -r 'select(.status == 201) | .at' "$tmp/S.log" | tail -n 1)" "$T0"

# A customer who opted out before: the create is refused as any is.
api POST /sim/text --data-urlencode From=+15551230009 -d Body=STOP >/dev/null
created=$(held)
is 'a second short of 15 minutes: 400 35114' \
	"$(schedule +15551230001 2030-01-01T00:14:59Z >/dev/null; error)" '400 35114'
is 'Twilio'"'"'s words' "$(jq -r .message "$tmp/resp" | cut -d: -f1)" \
	'Scheduling does not support this timestamp'
is 'in the past: 400 35114' \
	"$(schedule +15551230001 2029-12-31T23:00:00Z >/dev/null; error)" '400 35114'
is '35 days and a second: 400 35114' \
	"$(schedule +15551230001 2030-02-05T00:00:01Z >/dev/null; error)" '400 35114'
is 'a bare date: 400 35114' \
	"$(schedule +15551230001 2030-01-02 >/dev/null; error)" '400 35114'
is 'no time at all: 400 35114' \
	"$(schedule +15551230001 tomorrow >/dev/null; error)" '400 35114'
is 'ScheduleType without SendAt: 400 35111' \
	"$(api POST "$M.json" -d To=%2B15551230001 -d Body=hi -d "MessagingServiceSid=$MG" \
	    -d ScheduleType=fixed >/dev/null; error)" '400 35111'
is 'a ScheduleType other than fixed: 400 35126' \
	"$(api POST "$M.json" -d To=%2B15551230001 -d Body=hi -d "MessagingServiceSid=$MG" \
	    -d ScheduleType=daily -d SendAt=2030-01-01T01:00:00Z >/dev/null; error)" '400 35126'
is 'ScheduleType with a From and no Messaging Service: 400 35118' \
	"$(api POST "$M.json" -d To=%2B15551230001 -d Body=hi --data-urlencode "From=$US" \
	    -d ScheduleType=fixed -d SendAt=2030-01-01T01:00:00Z >/dev/null; error)" '400 35118'
is 'an opted-out recipient is refused when scheduled: 400 21610' \
	"$(schedule +15551230009 2030-01-01T01:00:00Z >/dev/null; error)" '400 21610'
is 'none of them created a message' "$(held)" "$created"

is '35 days ahead, exactly: 201' \
	"$(schedule +15551230002 2030-02-05T00:00:00Z)" 201
far=$(jq -r .sid "$tmp/resp")
is 'the service named as From=MG...: 201, scheduled' \
	"$(api POST "$M.json" -d To=%2B15551230003 -d Body=hi -d "From=$MG" \
	    -d ScheduleType=fixed -d SendAt=2030-01-01T00:20:00Z >/dev/null;
	   jq -c '[.status, .messaging_service_sid, .from]' "$tmp/resp")" \
	"[\"scheduled\",\"$MG\",null]"
mgfrom=$(jq -r .sid "$tmp/resp")
is 'a From with the service: from is that number at once' \
	"$(schedule +15551230004 2030-01-01T00:20:00Z --data-urlencode "From=$US" >/dev/null;
	   jq -c '[.status, .from]' "$tmp/resp")" "[\"scheduled\",\"$US\"]"
withfrom=$(jq -r .sid "$tmp/resp")
is 'SendAt without ScheduleType schedules nothing: accepted, sent now' \
	"$(api POST "$M.json" -d To=%2B15551230005 -d Body=hi -d "MessagingServiceSid=$MG" \
	    -d SendAt=2030-01-01T01:00:00Z >/dev/null; jq -r .status "$tmp/resp")" accepted
now_sid=$(jq -r .sid "$tmp/resp")
check 'and it is delivered without the clock moving' \
	"poll '[ \"\$(status $now_sid)\" = delivered ]'"

# --- The clock moves; what is due goes out ---------------------------------

is 'a second short of SendAt: nothing released' \
	"$(clock -d Advance=14m59s)" '{"now":"2030-01-01T00:14:59Z","released":0}'
is 'the message waits' "$(status "$sid")" scheduled
is 'the second: it is released, before the answer' \
	"$(clock -d Advance=1)" '{"now":"2030-01-01T00:15:00Z","released":1}'
check 'a fetch after it no longer finds it scheduled' \
	"[ \"\$(status $sid)\" != scheduled ]"
check 'it is delivered' "poll '[ \"\$(status $sid)\" = delivered ]'"
is 'sent at SendAt by the clock, from our number, priced' \
	"$(jq -c '[.date_sent, .from, .price]' "$tmp/resp")" \
	"[\"Tue, 01 Jan 2030 00:15:00 +0000\",\"$US\",\"-0.00790\"]"
check 'its callbacks: queued, sent, delivered, in order (the initial scheduled is not posted)' \
	"poll '[ \"\$(posted $sid)\" = \"queued sent delivered \" ]'"
is 'each with the service and the sender picked' \
	"$(grep "MessageSid=$sid&" "$tmp/posts" | grep -c "From=%2B15550100000&.*MessagingServiceSid=$MG")" 3
is 'the one 35 days ahead still waits' "$(status "$far")" scheduled

# --- Cancel ------------------------------------------------------------------

schedule +15551230006 2030-01-01T00:30:00Z >/dev/null
c=$(jq -r .sid "$tmp/resp")
is 'cancel (POST Status=canceled): 200' "$(api POST "$M/$c.json" -d Status=canceled)" 200
is 'canceled, never sent, no sender' \
	"$(jq -c '[.status, .date_sent, .from, .body]' "$tmp/resp")" \
	'["canceled",null,null,"Your appointment is at 10"]'
check 'its callback: canceled, with the service and no From' \
	"poll '[ \"\$(posted $c)\" = \"canceled \" ]' &&
	 grep \"MessageSid=$c&\" '$tmp/posts' | grep -q 'MessagingServiceSid=$MG' &&
	 ! grep \"MessageSid=$c&\" '$tmp/posts' | grep -q '&From='"
is 'fetched: canceled' "$(status "$c")" canceled
is 'cancel again: 400 30409' \
	"$(api POST "$M/$c.json" -d Status=canceled >/dev/null; error)" '400 30409'
is 'cancel of a message sent already: 400 30409' \
	"$(api POST "$M/$sid.json" -d Status=canceled >/dev/null; error)" '400 30409'
is 'cancel of one never scheduled: 400 30409' \
	"$(api POST "$M/$now_sid.json" -d Status=canceled >/dev/null; error)" '400 30409'
is 'a Status other than canceled: 400 20001' \
	"$(api POST "$M/$far.json" -d Status=sent >/dev/null; error)" '400 20001'
is 'cancel of an unknown message: 404 20404' \
	"$(api POST "$M/SM0430ffffffffffffffffffffffffffff.json" -d Status=canceled >/dev/null; error)" '404 20404'
is 'the one refused is still scheduled' "$(status "$far")" scheduled

# A STOP between scheduling and sending: Twilio does not cancel it; it
# fails at its time with 21610, never sent.
schedule +15551230007 2030-01-01T00:40:00Z >/dev/null
stop=$(jq -r .sid "$tmp/resp")
schedule +15551230008 2030-01-01T00:40:00Z >/dev/null
gone=$(jq -r .sid "$tmp/resp")
is 'a scheduled message can be deleted: 204' "$(api DELETE "$M/$gone.json")" 204
is 'its recipient texts STOP' \
	"$(api POST /sim/text --data-urlencode From=+15551230007 -d Body=STOP)" 200
is 'the clock past them all but the far one: the others go out, the canceled and the deleted do not' \
	"$(clock -d Now=2030-01-01T01:00:00Z)" '{"now":"2030-01-01T01:00:00Z","released":3}'
check 'the one to the customer who said STOP ends failed, 21610, never sent' \
	"poll '[ \"\$(status $stop)\" = failed ]' &&
	 jq -e '.error_code == 21610 and .date_sent == null' '$tmp/resp'"
check 'its callbacks: queued, then failed with ErrorCode 21610' \
	"poll '[ \"\$(posted $stop)\" = \"queued failed \" ]' &&
	 grep \"MessageSid=$stop&MessageStatus=failed\" '$tmp/posts' | grep -q 'ErrorCode=21610'"
check 'the ones named by From=MG... and with a From are delivered' \
	"poll '[ \"\$(status $mgfrom)\" = delivered ] && [ \"\$(status $withfrom)\" = delivered ]'"
is 'the canceled one stays canceled, one callback' \
	"$(status "$c") $(posted "$c")" 'canceled canceled '
is 'and the far one waits' "$(status "$far")" scheduled
is 'the clock set to the far SendAt: released' \
	"$(clock -d Now=2030-02-05T00:00:00Z)" '{"now":"2030-02-05T00:00:00Z","released":1}'
check 'delivered too' "poll '[ \"\$(status $far)\" = delivered ]'"
is 'a POST /sim/clock with neither Now nor Advance: 400 20001' \
	"$(curl -s -o "$tmp/resp" -w '%{http_code}' -X POST "$sim/sim/clock"; echo " $(jq .code "$tmp/resp")")" '400 20001'
is 'an Advance that is no duration: 400 20001' \
	"$(curl -s -o "$tmp/resp" -w '%{http_code}' -d Advance=soon "$sim/sim/clock"; echo " $(jq .code "$tmp/resp")")" '400 20001'
kill "$server"

# --- A running clock, and --schedule-min ------------------------------------

serve "$tmp/R.out" "$tmp/R.err" sms-sim --number "$US" --webhook "$hook" \
	--schedule-min 300 ||
	{ fail 'sms-sim on the system clock starts'; done_testing; }
sim=http://127.0.0.1:$port
pass 'sms-sim on the system clock, --schedule-min 300, starts'
now=$(clock | jq -r .now)
at() { jq -nr --arg t "$now" --argjson s "$1" '$t | fromdate + $s | todate'; }
is '--schedule-min 300: 10 minutes ahead is taken' \
	"$(schedule +15551230011 "$(at 600)")" 201
early=$(jq -r .sid "$tmp/resp")
is 'and canceled' "$(api POST "$M/$early.json" -d Status=canceled)" 200
is 'a minute and a half ahead is not: 400 35114' \
	"$(schedule +15551230011 "$(at 90)" >/dev/null; error)" '400 35114'
schedule +15551230012 "$(at 1000)" >/dev/null
run=$(jq -r .sid "$tmp/resp")
# Two seconds before its time (less, by how long that took): the message
# is released by the clock running, not by the move.
clock -d Advance=998 >/dev/null
check 'on a running clock it goes out by itself when its time comes' \
	"poll '[ \"\$(status $run)\" = delivered ]'"
check 'with its callbacks' "poll '[ \"\$(posted $run)\" = \"queued sent delivered \" ]'"
check 'the canceled one, its time past, is not sent: one callback, canceled' \
	"poll '[ \"\$(posted $early)\" = \"canceled \" ]' &&
	 [ \"\$(status $early)\" = canceled ]"
kill "$server"

done_testing
