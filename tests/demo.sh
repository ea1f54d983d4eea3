#!/bin/sh
# demo.sh: smsdesk's main job on this machine, run by `make demo`.
#
# A listener takes Twilio-signed webhooks on 127.0.0.1 into a scratch
# inbox, customers text in (signed like Twilio signs them), an agent reads
# the queue and a thread, replies are priced with segment, and the
# conversation is resolved. Nothing leaves the machine. (Sending goes
# through sms-send and the carrier simulator sms-sim, in a later release.)
set -eu
bin=${SMSDESK_BIN:-build/bin}
tools=${SMSDESK_TOOLS:-build/tools}
dir=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-demo.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
export SMSDESK_INBOX="$dir/inbox"
TWILIO_AUTH_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export TWILIO_AUTH_TOKEN

port=$((20000 + $$ % 20000))
"$bin/sms-recv" --listen "127.0.0.1:$port" >"$dir/events" 2>"$dir/log" &
pid=$!
url=http://127.0.0.1:$port/twilio
i=0
while ! curl -s -o /dev/null "$url" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$dir/log" >&2; exit 1; }
	sleep 0.1
done

# text FROM BODY [SID]: a customer texts our number (a SID seen before is
# the provider retrying a webhook).
text() {
	n=$((${n:-0} + 1))
	body="MessageSid=${3:-SMdemo$n}&From=$(printf %s "$1" | sed 's/+/%2B/')"
	body="$body&To=%2B15550100000&Body=$(printf %s "$2" | sed 's/ /+/g')"
	sig=$(printf %s "$body" | "$tools/twilio-sign" "$url")
	curl -s -o /dev/null -w "  webhook from $1: HTTP %{http_code}\n" \
	    -H "X-Twilio-Signature: $sig" --data "$body" "$url"
}

echo '== customers text in'
text +15551230001 'Hi, is my order 1042 on its way?'
sleep 1
text +15551230002 'Do you open on Sundays?'
text +15551230001 'Also can I change the address?'
text +15551230003 STOP
text +15551230001 'Also can I change the address?' SMdemo3 # a retry

echo '== the queue, longest waiting first (inbox-ls)'
"$bin/inbox-ls" --table
echo '== one thread (inbox-ls +15551230001)'
"$bin/inbox-ls" --table +15551230001
echo '== what the reply will cost (segment)'
"$bin/segment" --table --price 0.0079 \
    'Hi! Order 1042 ships today – we can still change the address, just reply with it.'
echo '== resolved (inbox-mark), and who opted out'
"$bin/inbox-mark" --resolve +15551230002 >/dev/null
"$bin/inbox-ls" --table
grep -h '"optout"' "$dir/events" | jq -c '{event, number: .message.from, keyword: .message.keyword}'
