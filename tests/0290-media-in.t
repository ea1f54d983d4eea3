#!/bin/sh
# Inbound media (issue 17): every item a webhook names is kept on the
# message record (sms-record(5) "media"), in the provider's order.
#
# PROVIDER names the carrier whose webhooks are posted ("twilio" for now;
# the issue "Any carrier" runs this file for each).
. "$(dirname "$0")/lib.sh"

PROVIDER=${PROVIDER:-twilio}
twilio_env 0290

ib=$tmp/inbox
A=+15551230001

# The provider's media: the files of $tmp/files behind Basic auth with the
# account's credentials (tests/tools/media-files).
mkdir "$tmp/files"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR a picture' >"$tmp/files/a.png"
printf '\377\330\377\340\000\020JFIF\000 a photo' >"$tmp/files/b.jpg"
serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" "$tmp/files" \
    "$AC:$TOK" || { fail 'the media server starts'; done_testing; }
fport=$port fpid=$server
F=http://127.0.0.1:$fport
# The provider's API, where its media are: the one host its credentials go
# to (lib/media.h).
TWILIO_API_URL=$F
export TWILIO_API_URL

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider "$PROVIDER" || { fail 'the listener starts'; done_testing; }
lport=$port lpid=$server

# mms SID NUM [ITEM...]: the form of an MMS from $A with NumMedia=NUM and,
# for each ITEM "URL|TYPE" (TYPE may be empty), MediaUrlI and
# MediaContentTypeI (only when TYPE is given).
mms() {
	m_sid=$1 m_n=$2
	shift 2
	printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B15550100000&Body=look&NumMedia=%s' \
	    "$m_sid" "$AC" "${A#+}" "$m_n"
	m_i=0
	for m_item in "$@"; do
		printf '&MediaUrl%d=%s' "$m_i" "$(printf '%s' "${m_item%%|*}" |
		    jq -sRr @uri)"
		[ -n "${m_item#*|}" ] && printf '&MediaContentType%d=%s' \
		    "$m_i" "$(printf '%s' "${m_item#*|}" | jq -sRr @uri)"
		m_i=$((m_i + 1))
	done
}

M=$F/MM1
is 'an MMS with NumMedia=3: 200' \
	"$(webhook "$(mms MM00000000000000000000000000000001 3 \
	    "$M/ME0|image/jpeg" "$M/ME1|" "$M/ME2|application/pdf")")" 200
is 'all three items are on the record as stored, in order, unfetched' \
	"$(head -n 1 "$ib"/msg/$A/* | jq -c '.media')" \
	"[{\"url\":\"$M/ME0\",\"content_type\":\"image/jpeg\"},{\"url\":\"$M/ME1\",\"content_type\":null},{\"url\":\"$M/ME2\",\"content_type\":\"application/pdf\"}]"
is 'the body is kept with them' "$(head -n 1 "$ib"/msg/$A/* | jq -r '.body')" look

is 'NumMedia=0: 200' \
	"$(webhook "$(mms SM00000000000000000000000000000002 0)")" 200
is 'a message without media has no "media"' \
	"$(jq -c 'select(.provider_id == "SM00000000000000000000000000000002") |
	    has("media")' "$ib"/msg/$A/*)" false

is 'NumMedia=2 with one MediaUrl: refused (400)' \
	"$(webhook "$(mms MM00000000000000000000000000000003 2 "$M/ME0|image/png")")" 400
check 'the listener says which field is missing' \
	"poll 'grep -q \"missing MediaUrl1\" \"$tmp/L.err\"'"
is 'and nothing is stored for it' \
	"$(cat "$ib"/msg/$A/* | jq -c 'select(.provider_id ==
	    "MM00000000000000000000000000000003")' | wc -l | tr -d ' ')" 0

# --- The listener's fetcher, after the answer -------------------------

# last SID: the record of the message with that provider id (its file's
# last line: a fetch appends one).
last() {
	for f in "$ib"/msg/$A/*; do
		tail -n 1 "$f" | jq -c --arg s "$1" 'select(.provider_id == $s)'
	done
}

S4=MM00000000000000000000000000000004
is 'an MMS with a picture and a missing file: 200' \
	"$(webhook "$(mms $S4 2 "$F/a.png|image/png" "$F/nope.jpg|image/jpeg")" \
	    )" 200
check 'the fetcher gets the picture and records both outcomes' \
	"poll '[ \"\$(last $S4 | jq -r \".media[1].error.code\")\" = not_found ] &&
	    [ -n \"\$(last $S4 | jq -r \".media[0].file // empty\")\" ]'"
id4=$(last $S4 | jq -r .id)
is 'item 0: fetched, sniffed, named MSG.0.png' \
	"$(last $S4 | jq -c '.media[0] | [.file, .type, .mismatch, .size, .tries]')" \
	"[\"media/$A/$id4.0.png\",\"image/png\",false,$(wc -c <"$tmp/files/a.png" | tr -d ' '),1]"
check 'its bytes are the provider'"'"'s' \
	"cmp -s '$ib/media/$A/$id4.0.png' '$tmp/files/a.png'"
is 'its sha256' "$(last $S4 | jq -r '.media[0].sha256')" \
	"$(sha256sum "$tmp/files/a.png" | cut -d ' ' -f 1)"
is 'item 1: a 404 is for good (next_try null), no file' \
	"$(last $S4 | jq -c '.media[1] | [.next_try, .tries, has("file")]')" \
	'[null,1,false]'
check 'the provider was asked with its credentials (no 401)' \
	"grep -q '^GET /a.png 200' '$tmp/F.out' && ! grep -q ' 401' '$tmp/F.out'"
# media_event FILE SID: FILE has a message.media event for that message.
media_event() {
	jq -e --arg s "$2" 'select(.event == "message.media" and
	    .message.provider_id == $s)' "$1" >/dev/null
}
check 'a message.media event says so' "poll 'media_event $tmp/L.out $S4'"
is 'the file is 0600 in media/THREAD' \
	"$(stat -c %a "$ib/media/$A/$id4.0.png")" 600

# --- sms-recv --fetch-media: what the fetcher could not get -------------

kill "$fpid"; wait "$fpid" 2>/dev/null
S5=MM00000000000000000000000000000005
is 'an MMS while the provider'"'"'s media server is down: 200' \
	"$(webhook "$(mms $S5 1 "$F/b.jpg|image/jpeg")")" 200
check 'the fetcher records a transient failure, to be tried again' \
	"poll '[ \"\$(last $S5 | jq -r \".media[0].error.code\")\" = transient ]'"
next=$(last $S5 | jq -r '.media[0].next_try')
check 'next_try is a time' "[ \"\$(printf %s '$next' | cut -c 1-2)\" = 20 ]"

serve_port=$fport serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" \
    "$tmp/files" "$AC:$TOK" || fail 'the media server starts again'
serve_port=
fpid=$server

check_exit 'before next_try: --fetch-media has nothing to do (exit 0)' 0 \
	"'$bin/sms-recv' -d '$ib' --fetch-media >'$tmp/out' 2>'$tmp/err'"
is 'and prints nothing' "$(cat "$tmp/out" "$tmp/err")" ''
later=$(jq -nr --arg t "$next" '$t | fromdate + 1 | todate')
days=$(jq -nr --arg t "$next" '$t | fromdate + 3 * 86400 | todate')
SMSDESK_NOW=$days "$bin/sms-recv" -d "$ib" --fetch-media --max-age 1d \
    >"$tmp/out" 2>"$tmp/err"
is '--max-age 1d, three days on: the message is too old to look at' \
	"$? $(last $S5 | jq -r '.media[0].file // "none"')" '0 none'
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" \
    2>"$tmp/err"
is 'at next_try: fetched (exit 0)' "$?" 0
is 'its file, named MSG.0.jpg' \
	"$(last $S5 | jq -r '.media[0] | [.file, .type, .tries] | @tsv')" \
	"$(printf 'media/%s/%s.0.jpg\timage/jpeg\t2' $A "$(last $S5 | jq -r .id)")"
is 'the error and next_try are gone' \
	"$(last $S5 | jq -c '.media[0] | [has("error"), has("next_try")]')" \
	'[false,false]'
is 'one message.media event on stdout' \
	"$(jq -r 'select(.event == "message.media") | .message.provider_id' "$tmp/out")" \
	$S5
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" \
    2>"$tmp/err"
is 'run again: nothing left, nothing printed' "$? $(wc -c <"$tmp/out" | tr -d ' ')" '0 0'
is '--fetch-media asked nothing for the NumMedia=3 message (404s are for good)' \
	"$(grep -c 'GET /MM1/' "$tmp/F.out")" 0

# --- Records read from a file keep their media ---------------------------

B=+15551230002
S6=MM00000000000000000000000000000006
{
	jq -cn --arg t $B --arg s $S6 --arg u "$F/a.png" '{type: "message",
	    thread: $t, direction: "in", from: $t, to: "+15550100000",
	    body: "", provider: "twilio", provider_id: $s,
	    at: "2026-12-01T10:00:00Z",
	    media: [{url: $u, content_type: "image/png"}]}'
	jq -cn --arg t $B '{type: "message", thread: $t, direction: "in",
	    from: $t, to: "+15550100000", body: "x", provider: "twilio",
	    provider_id: "MMbad", at: "2026-12-01T10:00:00Z",
	    media: [{content_type: "image/png"}]}'
} >"$tmp/records"
"$bin/sms-recv" -d "$ib" "$tmp/records" >"$tmp/out" 2>"$tmp/err"
is 'a record with an item without "url": exit 1, the rest stored' \
	"$? $(cat "$ib"/msg/$B/* | jq -r .provider_id)" "1 $S6"
check 'the bad one is named: program: where: what' \
	"grep -q '^sms-recv: $tmp/records:2: \"media\" item 0: needs a \"url\"' '$tmp/err'"
is 'the record read keeps its media item, unfetched (no fetcher reading files)' \
	"$(tail -n 1 "$ib"/msg/$B/* | jq -c '.media')" \
	"[{\"url\":\"$F/a.png\",\"content_type\":\"image/png\"}]"
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media --max-age 1000d \
    >"$tmp/out" 2>"$tmp/err"
is '--fetch-media fetches it (its history day is within --max-age)' \
	"$? $(tail -n 1 "$ib"/msg/$B/* | jq -r '.media[0].type')" '0 image/png'

# --- inbox-ls: the pictures of a thread ---------------------------------

id5=$(last $S5 | jq -r .id)
"$bin/inbox-ls" -d "$ib" --table --no-mark $A >"$tmp/ls" 2>"$tmp/ls.err"
check 'the thread view shows the picture: type, size, path' \
	"grep -qF 'media: image/png, $(wc -c <"$tmp/files/a.png" | tr -d ' ') bytes, $ib/media/$A/$id4.0.png' '$tmp/ls'"
check 'and what could not be fetched, and why' \
	"grep -qF 'media: image/jpeg, not fetched: not_found' '$tmp/ls'"
is 'inbox-ls --media: the paths of the files, one a line, oldest first' \
	"$("$bin/inbox-ls" -d "$ib" --media $A)" \
	"$(printf '%s\n%s' "$ib/media/$A/$id4.0.png" "$ib/media/$A/$id5.0.jpg")"
check_exit 'inbox-ls --media without a NUMBER: a usage error (2)' 2 \
	"'$bin/inbox-ls' -d '$ib' --media 2>/dev/null"

check_exit '--fetch-media with --listen: a usage error (2)' 2 \
	"'$bin/sms-recv' -d '$ib' --fetch-media --listen 127.0.0.1:1 2>/dev/null"
is 'tmp/ holds nothing' "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0

# The answer never waits for a fetch: a media server that holds the
# request (it never answers; the fetch times out after 30 s) does not hold
# the webhook's 200, which comes while the item is still unfetched.
S7=MM00000000000000000000000000000007
port=$lport	# the listener's, for webhook
is 'an MMS whose media server never answers: 200 all the same' \
	"$(webhook "$(mms $S7 1 "$F/hang|image/jpeg")")" 200
is 'answered before the fetch ended (no file, no error yet)' \
	"$(last $S7 | jq -c '.media[0] | [has("file"), has("error")]')" \
	'[false,false]'
check 'the fetch was under way' "poll 'grep -q \"^GET /hang 0\" $tmp/F.out'"

# Stopped (SIGTERM) in the middle of it, the listener cancels the fetch
# rather than wait for its timeout: the item stays as it was, to be
# fetched again, and tmp/ holds nothing.
kill -TERM "$lpid"
wait "$lpid"
is 'the listener stops with exit 0' "$?" 0
is 'the cancelled item: no file, no error (nothing recorded)' \
	"$(last $S7 | jq -c '.media[0] | [has("file"), has("error")]')" \
	'[false,false]'
is 'tmp/ holds nothing after it' "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0

done_testing
