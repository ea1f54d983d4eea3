#!/bin/sh
# demo.sh: smsdesk's main job on this machine, run by `make demo`.
#
# The whole contact-center loop on the local carrier simulator: sms-sim
# plays Twilio and the customers, sms-recv takes the webhooks into a
# scratch inbox, customers text in, an agent reads the queue and a thread,
# answers with sms-send, the delivery report comes back, the conversation
# is resolved. Nothing leaves the machine.
set -eu
bin=${SMSDESK_BIN:-build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-demo.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
export SMSDESK_INBOX="$dir/inbox"
export TWILIO_ACCOUNT_SID=AC$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export TWILIO_AUTH_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export TWILIO_FROM=+15550100000

# Two ports from base, another base while either is taken.
up() {
	i=0
	until grep -q listening "$dir/recv.log" 2>/dev/null &&
	    grep -q listening "$dir/sim.log" 2>/dev/null; do
		kill -0 "$rpid" 2>/dev/null && kill -0 "$spid" 2>/dev/null ||
			return 1
		i=$((i + 1))
		[ $i -lt 50 ] || return 1
		sleep 0.1
	done
}
base=$((20000 + $$ % 20000))
try=0
while :; do
	recv=127.0.0.1:$base sim=127.0.0.1:$((base + 1))
	"$bin/sms-recv" --listen "$recv" >"$dir/events" 2>"$dir/recv.log" &
	rpid=$!
	"$bin/sms-sim" --listen "$sim" --webhook "http://$recv/twilio" \
	    --number "$TWILIO_FROM" 2>"$dir/sim.log" &
	spid=$!
	pids="$rpid $spid"
	up && break
	kill $pids 2>/dev/null || :
	wait $pids 2>/dev/null || :
	try=$((try + 1))
	if [ $try -ge 20 ] || ! grep -qs 'cannot listen' "$dir/recv.log" \
	    "$dir/sim.log"; then
		cat "$dir/recv.log" "$dir/sim.log" >&2
		exit 1
	fi
	base=$((20000 + (base - 20000 + 7919) % 40000))
done
export SMSDESK_PUBLIC_URL=http://$recv		# delivery reports come here
export TWILIO_API_URL=http://$sim		# sms-send talks to the sim
export SMSDESK_SIM_URL=http://$sim

echo '== customers text in (sms-sim text)'
text() { "$bin/sms-sim" text "$1" "$2" | jq -c '{from, body, status}'; }
text +15551230001 'Hi, is my order 1042 on its way?'
sleep 1
text +15551230002 'Do you open on Sundays?'
text +15551230001 'Also can I change the address?'
text +15551230003 HELP
text +15551230004 STOP

echo '== the queue, longest waiting first (inbox-ls)'
"$bin/inbox-ls" --table
echo '== one thread (inbox-ls +15551230001)'
"$bin/inbox-ls" --table +15551230001

reply='Hi! Order 1042 ships today - reply with the new address and we will change it.'
echo '== what the answer costs (segment)'
"$bin/segment" --table --price 0.0079 "$reply"
echo '== the agent answers (sms-send --thread)'
"$bin/sms-send" --thread +15551230001 "$reply" | jq -c '{to, status, segments, provider_id}'
echo '== a customer who opted out is never texted (no request is made)'
"$bin/sms-send" --to +15551230004 'Our summer sale starts today!' |
    jq -c '{to, status, error: .error.code}' || true
sleep 1
echo '== the delivery report came back (inbox-ls +15551230001)'
"$bin/inbox-ls" --table --no-mark +15551230001
echo '== resolved (inbox-mark), and the queue after'
"$bin/inbox-mark" --resolve +15551230001 +15551230002 >/dev/null
"$bin/inbox-ls" --table
echo '== what happened, as events (sms-recv stdout)'
jq -c '[.event, .message.from, .message.status, .message.body]' "$dir/events"
