#!/bin/sh
# Pictures, the whole inbound loop (issue 17): a customer texts a photo and
# a receipt through sms-sim, which posts the signed webhook with NumMedia
# and serves the files as Twilio does (Basic auth, then a redirect to its
# CDN, another host); the listener answers at once, fetches both into the
# inbox with the account's credentials, never sending them to the CDN, and
# a retried webhook fetches nothing twice. Parametrised by provider.
. "$(dirname "$0")/lib.sh"

PROVIDER=${PROVIDER:-twilio}
twilio_env 0295
SMSDESK_INBOX=$tmp/inbox
export SMSDESK_INBOX

printf '\377\330\377\340\000\020JFIF\000photo-of-a-parcel' >"$tmp/parcel.jpg"
{ printf '%%PDF-1.4\n'; head -c 2000 /dev/zero; } >"$tmp/receipt.pdf"

serve "$tmp/recv.out" "$tmp/recv.err" sms-recv ||
	{ fail 'sms-recv starts'; done_testing; }
rport=$port hook=http://127.0.0.1:$port/$PROVIDER server_recv=$server
serve "$tmp/sim.out" "$tmp/sim.err" sms-sim --number "$US" \
	--webhook "$hook" --cdn-host localhost --log "$tmp/sim.log" ||
	{ fail 'sms-sim starts'; done_testing; }
sim=http://127.0.0.1:$port
# The listener again, on its port, knowing the provider's API (the sim):
# the one host its credentials go to when it fetches media (lib/media.h).
kill "$server_recv" 2>/dev/null
TWILIO_API_URL=$sim
export TWILIO_API_URL
serve_port=$rport serve "$tmp/recv.out" "$tmp/recv.err" sms-recv ||
	{ fail 'sms-recv starts again'; done_testing; }
serve_port=

C=+15551239501
check 'a customer texts a photo and a receipt' \
	"sms-sim text --url '$sim' --media '$tmp/parcel.jpg' \
	    --media '$tmp/receipt.pdf' $C 'see photo' >'$tmp/text.out'"
# The message's record is its file's last line (a fetch appends one).
last() { tail -qn 1 "$SMSDESK_INBOX/msg/$C"/* 2>/dev/null; }
is 'stored with both items, in order, as the webhook named them' \
	"$(last | jq -c '[.body, (.media | length), .media[0].content_type, .media[1].content_type]')" \
	'["see photo",2,"image/jpeg","application/pdf"]'
check 'the listener fetches both into the inbox' \
	"poll '[ \"\$(last | jq -r \"[.media[].file // empty] | length\")\" = 2 ]'"
f0=$(last | jq -r '.media[0].file') f1=$(last | jq -r '.media[1].file')
check 'the photo is the customer'"'"'s bytes' \
	"cmp -s '$SMSDESK_INBOX/$f0' '$tmp/parcel.jpg'"
check 'the receipt too' "cmp -s '$SMSDESK_INBOX/$f1' '$tmp/receipt.pdf'"
is 'checksums, sizes and sniffed types right, nothing flagged' \
	"$(last | jq -c '[.media[] | [.sha256, .size, .type, .mismatch]]')" \
	"[[\"$(sha256sum <"$tmp/parcel.jpg" | cut -c1-64)\",$(wc -c <"$tmp/parcel.jpg" | tr -d ' '),\"image/jpeg\",false],[\"$(sha256sum <"$tmp/receipt.pdf" | cut -c1-64)\",$(wc -c <"$tmp/receipt.pdf" | tr -d ' '),\"application/pdf\",false]]"
is 'the files are named by the inbox, private' \
	"$(stat -c %a "$SMSDESK_INBOX/$f0") $(basename "$f0" | sed 's/^[^.]*\.[^.]*\.[^.]*\.[^.]*\.//')" \
	'600 0.jpg'
is 'the CDN (another host) was sent no credentials' \
	"$(jq -s -c 'map(select(.path | startswith("/cdn/"))) | map(.authorization) | unique' "$tmp/sim.log")" \
	'[false]'
n=$(jq -s 'map(select(.path | startswith("/cdn/"))) | length' "$tmp/sim.log")
is 'each fetched once' "$n" 2

# The provider retries the webhook, as the sim sent it (its media the same
# URLs): stored once, nothing fetched again.
mm=$(jq -r .sid "$tmp/text.out")
me=$(jq -r 'select(.path == "/sim/text") | .params.MediaSid[]' "$tmp/sim.log")
set -- $me
u=$sim/2010-04-01/Accounts/$AC/Messages/$mm/Media
body="MessageSid=$mm&SmsSid=$mm&SmsMessageSid=$mm&AccountSid=$AC&From=%2B${C#+}&To=%2B${US#+}&Body=see+photo&NumSegments=1&NumMedia=2&MediaUrl0=$u/$1&MediaContentType0=image%2Fjpeg&MediaUrl1=$u/$2&MediaContentType1=application%2Fpdf&SmsStatus=received&ApiVersion=2010-04-01"
is 'the webhook again: 200' "$(port=$rport webhook "$body")" 200
is 'still one message' "$(ls "$SMSDESK_INBOX/msg/$C" | wc -l | tr -d ' ')" 1
is 'and nothing fetched twice' \
	"$(jq -s 'map(select(.path | startswith("/cdn/"))) | length' "$tmp/sim.log")" 2
is 'inbox-ls --media prints both paths' \
	"$(inbox-ls --media $C | wc -l | tr -d ' ')" 2
done_testing
