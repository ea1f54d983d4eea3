#!/bin/sh
# Inbound media (issue 17): every item a webhook names is kept on the
# message record (sms-record(5) "media"), in the provider's order.
#
# For each provider of $PROVIDERS (lib.sh) that carries pictures on
# inbound: Twilio (MediaUrlN, MediaContentTypeN), Telnyx (payload.media[],
# url and content_type) and Plivo (Media1..MediaN and MediaCount, no
# type), their webhooks made by tests/tools/hook. Vonage's SMS API carries
# none (its inbound webhook has text only; pictures are its Messages API,
# not this one): it is left out. The provider's media server
# (tests/tools/media-files) asks for that provider's credentials where its
# media URLs do, Basic auth with Twilio's account SID and token, with
# Plivo's auth id and token (both on the provider's API host, where the
# credentials go, lib/media.h); Telnyx's media URLs are signed links,
# fetched with no credentials (Telnyx's API key is a bearer token, never
# sent to a media URL), and the server checks that none came.
. "$(dirname "$0")/lib.sh"

carriers_env 0290

# The pictures, the same for each provider.
mkdir "$tmp/files"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR a picture' >"$tmp/files/a.png"
printf '\377\330\377\340\000\020JFIF\000 a photo' >"$tmp/files/b.jpg"

for P in $providers; do
case $P in
vonage)	continue ;;	# no media in Vonage's SMS API
esac
ib=$tmp/inbox-$P
A=+15551230001
# P's ids: Twilio's SIDs (MM for a picture message), the others' UUIDs.
case $P in
twilio)	id() { printf 'MM%032d' "$1"; } ;;
*)	id() { printf '%08d-0290-4000-8000-%012d' "$1" "$1"; } ;;
esac

# The provider's media: the files of $tmp/files behind Basic auth with
# P's credentials, or public links for Telnyx (tests/tools/media-files).
creds=$(api_creds "$P")
[ "$P" = telnyx ] && creds=-
serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" "$tmp/files" \
    "$creds" || { fail "$P: the media server starts"; continue; }
fport=$port fpid=$server
F=http://127.0.0.1:$fport
# The provider's API, where its media are: the one host its credentials
# go to (lib/media.h).
api_url "$P" "$F"

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider "$P" || { fail "$P: the listener starts"; continue; }
lport=$port lpid=$server

# mms ID [ITEM...]: an MMS from $A, each ITEM "URL|TYPE" (TYPE may be
# empty), in P's format; prints the status.
mms() {
	m_id=$1
	shift
	set -- $(for m_item in "$@"; do echo "media=$m_item"; done)
	hook_post "$P" inbound id="$m_id" from="$A" to=+15550100000 \
	    body=look "$@"
}
# type TYPE: the content type P gives (Plivo gives none).
type() { if [ "$P" = plivo ] || [ -z "$1" ]; then echo null; else echo "\"$1\""; fi; }

M=$F/MM1
S1=$(id 1)
is "$P: an MMS with three items: 200" \
	"$(mms "$S1" "$M/ME0|image/jpeg" "$M/ME1|" "$M/ME2|application/pdf")" 200
is "$P: all three items are on the record as stored, in order, unfetched" \
	"$(head -n 1 "$ib"/msg/$A/* | jq -c '.media')" \
	"[{\"url\":\"$M/ME0\",\"content_type\":$(type image/jpeg)},{\"url\":\"$M/ME1\",\"content_type\":null},{\"url\":\"$M/ME2\",\"content_type\":$(type application/pdf)}]"
is "$P: the body is kept with them" "$(head -n 1 "$ib"/msg/$A/* | jq -r '.body')" look

S2=$(id 2)
is "$P: no media: 200" "$(mms "$S2")" 200
is "$P: a message without media has no \"media\"" \
	"$(jq -c --arg s "$S2" 'select(.provider_id == $s) |
	    has("media")' "$ib"/msg/$A/*)" false

# A webhook whose media do not add up: P's own way of it.
S3=$(id 3)
case $P in
twilio)	bad="+NumMedia=2" said='missing MediaUrl1' what='NumMedia=2 with one MediaUrl' ;;
plivo)	bad="+MediaCount=2" said='missing Media2' what='MediaCount=2 with one Media1' ;;
telnyx)	bad= said='payload.media\[1\]' what='an item with no url' ;;
esac
if [ "$P" = telnyx ]; then
	code=$(mms "$S3" "$M/ME0|image/png" "|image/png")
else
	code=$(hook_post "$P" inbound id="$S3" from="$A" body=look \
	    media="$M/ME0|image/png" "$bad")
fi
is "$P: $what: refused (400)" "$code" 400
check "$P: the listener says which field is wrong" \
	"poll 'grep -q \"$said\" \"$tmp/L.err\"'"
is "$P: and nothing is stored for it" \
	"$(cat "$ib"/msg/$A/* | jq -c --arg s "$S3" 'select(.provider_id ==
	    $s)' | wc -l | tr -d ' ')" 0

# --- The listener's fetcher, after the answer -------------------------

# last ID: the record of the message with that provider id (its file's
# last line: a fetch appends one).
last() {
	for f in "$ib"/msg/$A/*; do
		tail -n 1 "$f" | jq -c --arg s "$1" 'select(.provider_id == $s)'
	done
}

S4=$(id 4)
is "$P: an MMS with a picture and a missing file: 200" \
	"$(mms "$S4" "$F/a.png|image/png" "$F/nope.jpg|image/jpeg")" 200
check "$P: the fetcher gets the picture and records both outcomes" \
	"poll '[ \"\$(last $S4 | jq -r \".media[1].error.code\")\" = not_found ] &&
	    [ -n \"\$(last $S4 | jq -r \".media[0].file // empty\")\" ]'"
id4=$(last $S4 | jq -r .id)
is "$P: item 0: fetched, sniffed, named MSG.0.png" \
	"$(last $S4 | jq -c '.media[0] | [.file, .type, .mismatch, .size, .tries]')" \
	"[\"media/$A/$id4.0.png\",\"image/png\",false,$(wc -c <"$tmp/files/a.png" | tr -d ' '),1]"
check "$P: its bytes are the provider's" \
	"cmp -s '$ib/media/$A/$id4.0.png' '$tmp/files/a.png'"
is "$P: its sha256" "$(last $S4 | jq -r '.media[0].sha256')" \
	"$(sha256sum "$tmp/files/a.png" | cut -d ' ' -f 1)"
is "$P: item 1: a 404 is for good (next_try null), no file" \
	"$(last $S4 | jq -c '.media[1] | [.next_try, .tries, has("file")]')" \
	'[null,1,false]'
if [ "$creds" = - ]; then
	check "$P: the provider was asked without credentials (a signed link)" \
	    "grep -q '^GET /a.png 200$' '$tmp/F.out' && ! grep -q ' auth$' '$tmp/F.out'"
else
	check "$P: the provider was asked with its credentials (no 401)" \
	    "grep -q '^GET /a.png 200' '$tmp/F.out' && ! grep -q ' 401' '$tmp/F.out'"
fi
# media_event FILE ID: FILE has a message.media event for that message.
media_event() {
	jq -e --arg s "$2" 'select(.event == "message.media" and
	    .message.provider_id == $s)' "$1" >/dev/null
}
check "$P: a message.media event says so" "poll 'media_event $tmp/L.out $S4'"
is "$P: the file is 0600 in media/THREAD" \
	"$(stat -c %a "$ib/media/$A/$id4.0.png")" 600

# --- sms-recv --fetch-media: what the fetcher could not get -------------

kill "$fpid"; wait "$fpid" 2>/dev/null
S5=$(id 5)
is "$P: an MMS while the provider's media server is down: 200" \
	"$(mms "$S5" "$F/b.jpg|image/jpeg")" 200
check "$P: the fetcher records a transient failure, to be tried again" \
	"poll '[ \"\$(last $S5 | jq -r \".media[0].error.code\")\" = transient ]'"
next=$(last $S5 | jq -r '.media[0].next_try')
check "$P: next_try is a time" "[ \"\$(printf %s '$next' | cut -c 1-2)\" = 20 ]"

serve_port=$fport serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" \
    "$tmp/files" "$creds" || fail "$P: the media server starts again"
serve_port=
fpid=$server

# --fetch-media as cron runs it: no provider named (the one configured,
# or Twilio): each message's media fetched as its own provider's.
check_exit "$P: before next_try: --fetch-media has nothing to do (exit 0)" 0 \
	"'$bin/sms-recv' -d '$ib' --fetch-media >'$tmp/out' 2>'$tmp/err'"
is "$P: and prints nothing" "$(cat "$tmp/out" "$tmp/err")" ''
later=$(jq -nr --arg t "$next" '$t | fromdate + 1 | todate')
days=$(jq -nr --arg t "$next" '$t | fromdate + 3 * 86400 | todate')
SMSDESK_NOW=$days "$bin/sms-recv" -d "$ib" --fetch-media --max-age 1d \
    >"$tmp/out" 2>"$tmp/err"
is "$P: --max-age 1d, three days on: the message is too old to look at" \
	"$? $(last $S5 | jq -r '.media[0].file // "none"')" '0 none'
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" \
    2>"$tmp/err"
is "$P: at next_try: fetched (exit 0)" "$?" 0
[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err" >&2
is "$P: its file, named MSG.0.jpg" \
	"$(last $S5 | jq -r '.media[0] | [.file, .type, .tries] | @tsv')" \
	"$(printf 'media/%s/%s.0.jpg\timage/jpeg\t2' $A "$(last $S5 | jq -r .id)")"
is "$P: the error and next_try are gone" \
	"$(last $S5 | jq -c '.media[0] | [has("error"), has("next_try")]')" \
	'[false,false]'
is "$P: one message.media event on stdout" \
	"$(jq -r 'select(.event == "message.media") | .message.provider_id' "$tmp/out")" \
	$S5
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" \
    2>"$tmp/err"
is "$P: run again: nothing left, nothing printed" "$? $(wc -c <"$tmp/out" | tr -d ' ')" '0 0'
is "$P: --fetch-media asked nothing for the three-item message (404s are for good)" \
	"$(grep -c 'GET /MM1/' "$tmp/F.out")" 0

# --- Records read from a file keep their media ---------------------------

B=+15551230002
S6=$(id 6)
{
	jq -cn --arg t $B --arg s $S6 --arg u "$F/a.png" --arg p "$P" \
	    '{type: "message", thread: $t, direction: "in", from: $t,
	    to: "+15550100000", body: "", provider: $p, provider_id: $s,
	    at: "2026-12-01T10:00:00Z",
	    media: [{url: $u, content_type: "image/png"}]}'
	jq -cn --arg t $B --arg p "$P" '{type: "message", thread: $t,
	    direction: "in", from: $t, to: "+15550100000", body: "x",
	    provider: $p, provider_id: "MMbad", at: "2026-12-01T10:00:00Z",
	    media: [{content_type: "image/png"}]}'
} >"$tmp/records"
"$bin/sms-recv" -d "$ib" "$tmp/records" >"$tmp/out" 2>"$tmp/err"
is "$P: a record with an item without \"url\": exit 1, the rest stored" \
	"$? $(cat "$ib"/msg/$B/* | jq -r .provider_id)" "1 $S6"
check "$P: the bad one is named: program: where: what" \
	"grep -q '^sms-recv: $tmp/records:2: \"media\" item 0: needs a \"url\"' '$tmp/err'"
is "$P: the record read keeps its media item, unfetched (no fetcher reading files)" \
	"$(tail -n 1 "$ib"/msg/$B/* | jq -c '.media')" \
	"[{\"url\":\"$F/a.png\",\"content_type\":\"image/png\"}]"
SMSDESK_NOW=$later "$bin/sms-recv" -d "$ib" --fetch-media --max-age 1000d \
    >"$tmp/out" 2>"$tmp/err"
is "$P: --fetch-media fetches it (its history day is within --max-age)" \
	"$? $(tail -n 1 "$ib"/msg/$B/* | jq -r '.media[0].type')" '0 image/png'

# --- inbox-ls: the pictures of a thread ---------------------------------

id5=$(last $S5 | jq -r .id)
"$bin/inbox-ls" -d "$ib" --table --no-mark $A >"$tmp/ls" 2>"$tmp/ls.err"
check "$P: the thread view shows the picture: type, size, path" \
	"grep -qF 'media: image/png, $(wc -c <"$tmp/files/a.png" | tr -d ' ') bytes, $ib/media/$A/$id4.0.png' '$tmp/ls'"
check "$P: and what could not be fetched, and why" \
	"grep -qF 'media: $(if [ "$P" = plivo ]; then echo 'unknown type'; else echo image/jpeg; fi), not fetched: not_found' '$tmp/ls'"
is "$P: inbox-ls --media: the paths of the files, one a line, oldest first" \
	"$("$bin/inbox-ls" -d "$ib" --media $A)" \
	"$(printf '%s\n%s' "$ib/media/$A/$id4.0.png" "$ib/media/$A/$id5.0.jpg")"

is "$P: tmp/ holds nothing" "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0

# The answer never waits for a fetch: a media server that holds the
# request (it never answers; the fetch times out after 30 s) does not hold
# the webhook's 200, which comes while the item is still unfetched.
S7=$(id 7)
port=$lport	# the listener's, for hook_post
is "$P: an MMS whose media server never answers: 200 all the same" \
	"$(mms "$S7" "$F/hang|image/jpeg")" 200
is "$P: answered before the fetch ended (no file, no error yet)" \
	"$(last $S7 | jq -c '.media[0] | [has("file"), has("error")]')" \
	'[false,false]'
check "$P: the fetch was under way" "poll 'grep -q \"^GET /hang 0\" $tmp/F.out'"

# Stopped (SIGTERM) in the middle of it, the listener cancels the fetch
# rather than wait for its timeout: the item stays as it was, to be
# fetched again, and tmp/ holds nothing.
kill -TERM "$lpid"
wait "$lpid"
is "$P: the listener stops with exit 0" "$?" 0
is "$P: the cancelled item: no file, no error (nothing recorded)" \
	"$(last $S7 | jq -c '.media[0] | [has("file"), has("error")]')" \
	'[false,false]'
is "$P: tmp/ holds nothing after it" "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0
kill "$fpid"; wait "$fpid" 2>/dev/null
api_url "$P" ''
done

check_exit 'inbox-ls --media without a NUMBER: a usage error (2)' 2 \
	"'$bin/inbox-ls' -d '$tmp' --media 2>/dev/null"
check_exit '--fetch-media with --listen: a usage error (2)' 2 \
	"'$bin/sms-recv' -d '$tmp/inbox-x' --fetch-media --listen 127.0.0.1:1 2>/dev/null"

done_testing
